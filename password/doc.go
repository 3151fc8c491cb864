// Package password owns the password rules of Custos: argon2id hashing in
// PHC string form (Hash, Verify), the configurable cost (Params), the
// strength rules applied when a password is chosen (Check), and Hasher, the
// bounded worker pool through which servers hash and verify so that a flood
// of logins costs queueing rather than memory. Hasher also makes answers
// that do not check a password take as long as those that do: VerifyDummy
// for a login name with no account, Pace for an attempt refused before its
// password is checked.
//
// Passwords are NFKC-normalised before hashing, verifying and checking, so
// the same password typed on different keyboards or input methods (for
// example full-width Latin letters) gives the same result.
//
// It is a policy package: it does no I/O of its own, reads randomness only
// from an injected io.Reader, and takes no custos.Clock. The one time it
// reads is the wall clock's, to measure how long a computation takes on
// this machine (the duration Pace waits), which is not a rule.
//
// It may import the root custos package (for the Error type), the standard
// library, golang.org/x/crypto/argon2 and golang.org/x/text. The
// common-password list is extracted from github.com/trustelem/zxcvbn (see
// NOTICE.md and internal/gen, a go:generate program outside the build) and
// embedded; zxcvbn is not linked into the binary.
package password
