// Package recovery owns getting back into an account without its password:
// finding the accounts bound to a phone (R1), resetting a password with a
// code to a bound channel (and an MFA code when the account has MFA), and
// the "it wasn't me" link that ends every session. Its answers never tell
// an outsider whether an email or a number has an account.
//
// It imports the root package, binding (for what an undo restores), phone,
// sendlimit, captcha, mfa and password.
package recovery
