// Package testclock is the fake custos.Clock that tests move instead of
// sleeping: New stands at a given time (Start when it is zero), Advance and
// Set move it, and it keeps the stores' millisecond precision. It is safe
// for concurrent use.
//
// It imports only the standard library; only tests and the test helper
// internal/testserver import it.
package testclock
