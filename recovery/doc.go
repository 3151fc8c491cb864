// Package recovery owns getting back into an account without its password:
// finding the accounts bound to a phone (R1) and resetting a password with
// a code to a bound channel (and an MFA code when the account has MFA).
// Both are typed flows (package flow): code sent → channel proven → done,
// with each MFA guess counted on the flow before it is checked. Its answers
// never tell an outsider whether an email or a number has an account: an
// unknown one gets a decoy code that can only die, counted against the
// same send limits.
//
// It imports the root package, the policy packages password and phone, and
// the service parts codes and flow; the database through its Store
// interface, MFA devices through Factors and captchas through
// custos.Captchas.
package recovery
