// Package lockout is the login-security rule R4 as pure functions: a
// counter's state and the time in, a decision out. It has no I/O; the store
// applies Reserve inside a transaction with the counter's row locked, so the
// count is exact on any number of replicas.
//
// Attempts are counted before the password is checked (a reservation) and
// refunded when the password turns out right, so concurrent attempts can
// never check more passwords than the rule allows.
//
// It imports only the standard library and the root package.
package lockout
