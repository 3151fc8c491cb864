// Package keyring holds the server's secret keys: AES-256-GCM keys for data
// encrypted at rest (TOTP seeds, uploads; Seal and Open) and the MAC key for
// one-time-code hashes, from which MAC derives a separate key per purpose.
// The ring has one primary key, used for new data, and older keys kept to
// open what they sealed, so a key can rotate.
//
// A ring is read from its text form (Parse; id:base64key, comma-separated,
// primary first) or made fresh from an injected random source (Generate).
// Its only I/O is LoadOrCreate, which keeps a generated ring in a file for
// local and development mode, where the operator gives no --keys.
//
// It imports only the standard library.
package keyring
