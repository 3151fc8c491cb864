package custos

import (
	"net/mail"
	"strings"
	"unicode/utf8"
)

// ValidEmail returns raw as a normalised email address, or EInvalidEmail
// (on the field "email"). It is the one check every path that takes an
// address uses (sign-up, the account and secure email changes, reset):
// plain addr-spec only (no display name, no comments), at most 254 bytes
// of valid UTF-8 with no control characters (so no header injection such
// as "x\r\nbcc@…" and no NUL), a non-empty local part, and a domain of
// non-empty dot-separated labels with at least one dot.
func ValidEmail(raw string) (string, error) {
	bad := Fail(EInvalidEmail, "email.invalid").OnField("email")
	if !utf8.ValidString(raw) || strings.ContainsFunc(raw, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", bad
	}
	e := NormalizeEmail(raw)
	if len(e) < 3 || len(e) > 254 || strings.ContainsAny(e, " <>\"(),;:\\[]") {
		return "", bad
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || a.Name != "" {
		return "", bad
	}
	local, domain, _ := strings.Cut(e, "@")
	if local == "" || len(local) > 64 || !strings.Contains(domain, ".") {
		return "", bad
	}
	for _, label := range strings.Split(domain, ".") {
		if label == "" || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return "", bad
		}
	}
	return e, nil
}
