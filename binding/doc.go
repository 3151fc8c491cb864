// Package binding owns changes to an account's contact points: the bound
// phone (R2), the account email (R5) and the secure email (R6). Each change
// is held as a pending change until the new address proves itself with a
// code; then it applies, and the old channels are told, with an "it wasn't
// me" link that ends every session and requires a password reset.
//
// Identity verification before a change is the caller's (auth's
// RequireVerification); this package does not repeat it.
//
// It imports the root package, phone and sendlimit.
package binding
