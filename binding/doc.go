// Package binding owns changes to an account's contact points: the bound
// phone (R2), the account email (R5) and the secure email (R6). A change
// starts only after the custos.Elevator lets the session through (binding
// a first second channel needs no verification); it is a typed flow that
// waits for the new address to prove itself with a code (package codes),
// then applies once. The old channels are told, with an "it wasn't me"
// link — an undo flow — that ends every session, puts back the replaced
// phone or email and requires a password reset.
//
// It imports the root package, the policy package phone and the service
// parts codes and flow; the database through its Store interface.
package binding
