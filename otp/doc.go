// Package otp owns the one-time-password rules of Custos: HOTP (RFC 4226)
// and TOTP (RFC 6238) codes, the acceptance window around the expected time
// step or counter, replay protection through the last accepted step, the
// two-consecutive-codes search used to bind a token or resynchronise its
// drift, and the shared-secret forms a person sees (base32, groups of four,
// the otpauth:// key URI and its QR code).
//
// It is a leaf policy package: no I/O, no clock and no random source of its
// own. Times, the last accepted step or next counter, and the random reader
// are parameters; callers keep the returned step or counter in the database
// (one atomic statement), so a code is accepted at most once on any number
// of replicas.
//
// Codes are generated here rather than by github.com/pquerna/otp, which has
// no replay protection; that module is used only to draw the QR code. The
// package imports the standard library and github.com/pquerna/otp.
package otp
