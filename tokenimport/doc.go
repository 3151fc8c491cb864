// Package tokenimport reads the seed files that hardware-token vendors ship
// with their OTP tokens, so an administrator can load many tokens at once:
// a simple CSV layout (ParseCSV) and RFC 6030 PSKC key containers
// (ParsePSKC), with PlainValue secrets or secrets encrypted under a
// pre-shared AES key and protected by a ValueMAC.
//
// It is pure parsing: no database, no clock, no randomness. Every token is
// checked on its own; a bad one becomes a Rejected entry with its row and a
// reason (which never contains the secret), and only a file that cannot be
// read as its format at all is an error. Storing the tokens (encrypted) and
// refusing serials already in the database belong to the caller.
//
// It imports the standard library and the otp package (for otp.Params and
// base32 secrets).
package tokenimport
