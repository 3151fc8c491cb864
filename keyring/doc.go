// Package keyring holds the server's secret keys: AES-256-GCM keys for data
// encrypted at rest (TOTP seeds, uploads) and the MAC key for one-time-code
// hashes. The ring has one primary key, used for new data, and older keys
// kept to open what they sealed, so a key can rotate.
//
// It imports only the standard library and the root package.
package keyring
