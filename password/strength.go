package password

import (
	"strings"
	"unicode/utf8"

	"github.com/custos/custos"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Length limits of Check, in Unicode code points after NFKC normalisation.
const (
	MinLength = 8
	MaxLength = 128
)

// minLocalPart is the shortest email local part Check looks for inside a
// password; shorter ones ("jo") would reject too many good passwords.
const minLocalPart = 3

// maxInputBytes bounds the work Check does on absurd input. NFKC composes at
// most four code points into one, and 4096 bytes hold at least 1024 code
// points, so anything longer is surely over MaxLength after normalisation.
const maxInputBytes = 4096

// Reasons Check gives in the "reason" field of its error.
const (
	ReasonInvalid       = "invalid"
	ReasonTooShort      = "too_short"
	ReasonTooLong       = "too_long"
	ReasonCommon        = "common"
	ReasonContainsEmail = "contains_email"
)

// Check applies the rules for choosing a password for the account with the
// given email. Any Unicode is allowed and there are no composition rules
// (no "one digit, one symbol"). The password must be valid UTF-8 without
// NUL characters; then, after NFKC normalisation, it must have MinLength to
// MaxLength code points (not grapheme clusters: an emoji sequence joined
// with U+200D counts each of its parts), must not be one of the 10,000 most
// common passwords (ignoring case), and must not contain the local part of
// email (ignoring case) when that is at least 3 characters long.
//
// It returns nil or a *custos.Error with code custos.EWeakPassword, a
// catalogue key for people's words, Field "password", and Fields["reason"] set to one of the Reason
// constants. The rules are checked in that order; the first broken one is
// reported.
func Check(pw, email string) error {
	if !utf8.ValidString(pw) || strings.IndexByte(pw, 0) >= 0 {
		return weak(ReasonInvalid, "password.invalid")
	}
	if len(pw) <= maxInputBytes {
		pw = norm.NFKC.String(pw)
	}
	switch n := utf8.RuneCountInString(pw); {
	case n < MinLength:
		return weak(ReasonTooShort, "password.too_short", MinLength)
	case n > MaxLength || len(pw) > maxInputBytes:
		return weak(ReasonTooLong, "password.too_long", MaxLength)
	}
	f := fold(pw)
	if isCommon(f) {
		return weak(ReasonCommon, "password.common")
	}
	if local := localPart(email); utf8.RuneCountInString(local) >= minLocalPart && strings.Contains(f, local) {
		return weak(ReasonContainsEmail, "password.contains_email")
	}
	return nil
}

// weak is a refusal whose words are the catalogue's key, filled with args.
func weak(reason, key string, args ...any) error {
	return custos.Fail(custos.EWeakPassword, key, args...).OnField("password").With("reason", reason)
}

// fold returns the NFKC, case-folded form of s used for every
// case-insensitive comparison in this package. A Caser keeps state, so
// each call makes its own.
func fold(s string) string {
	return cases.Fold().String(norm.NFKC.String(s))
}

// localPart returns the folded part of email before its last "@" (all of it
// when there is none), trimmed of spaces.
func localPart(email string) string {
	email = fold(email) // first, so a full-width "＠" counts too
	if i := strings.LastIndexByte(email, '@'); i >= 0 {
		email = email[:i]
	}
	return strings.TrimSpace(email)
}
