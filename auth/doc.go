// Package auth owns getting into an account: sign-up with an email code,
// password login, and sessions (create, authenticate with idle and absolute
// limits, list, revoke). Each flow writes its audit event in the same store
// transaction as its change.
//
// It imports the root package and the password policy package; it reaches
// the database only through custos.Store and the outside world only through
// custos.Notifier.
package auth
