// Package mfa owns an account's MFA devices — authenticator apps (TOTP),
// hardware OTP tokens imported by the operator, security keys — and its
// recovery codes: binding, confirming, renaming, unbinding, and checking a
// code from any of them exactly once.
//
// A code is accepted at most once: the step (or HOTP counter) it used is
// recorded with a compare-and-set in the store, so a replay is refused on
// every replica. Seeds are sealed with the key ring. Binding a device,
// unbinding one and making recovery codes ask the custos.Elevator first,
// with the caller's session. Security-key ceremonies are flows (package
// flow), so begin and finish may reach different replicas.
//
// It imports the root package, the policy packages otp, tokenimport and
// keyring, and the service part flow; the database through its Store
// interface.
package mfa
