package otp

import (
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"strings"
)

// SecretSize is the length of a new secret in bytes: 160 bits, the length
// RFC 4226 recommends (it requires at least 128).
const SecretSize = 20

// ErrInvalidSecret is wrapped by the errors of DecodeSecret.
var ErrInvalidSecret = errors.New("invalid base32 secret")

// b32 is the key-URI spelling: RFC 4648 base32 without padding.
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewSecret draws a new SecretSize-byte secret from rnd (crypto/rand in
// production).
func NewSecret(rnd io.Reader) ([]byte, error) {
	b := make([]byte, SecretSize)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return nil, fmt.Errorf("otp secret: %w", err)
	}
	return b, nil
}

// EncodeSecret returns secret in base32 without padding, upper case, as the
// key URI and authenticator apps expect.
func EncodeSecret(secret []byte) string {
	return b32.EncodeToString(secret)
}

// DecodeSecret parses a base32 secret as people and files write it: upper
// or lower case, with or without "=" padding, and with spaces, tabs,
// newlines or hyphens between groups. An empty secret, a character outside
// the base32 alphabet or an impossible length is an error wrapping
// ErrInvalidSecret; the error never repeats the input.
func DecodeSecret(s string) ([]byte, error) {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '-':
			continue
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		}
		b.WriteByte(c)
	}
	t := strings.TrimRight(b.String(), "=")
	if t == "" {
		return nil, fmt.Errorf("%w: empty", ErrInvalidSecret)
	}
	// A last group of 1, 3 or 6 characters cannot come from whole bytes; the
	// decoder would quietly drop it.
	switch len(t) % 8 {
	case 1, 3, 6:
		return nil, fmt.Errorf("%w: not base32 or wrong length", ErrInvalidSecret)
	}
	out, err := b32.DecodeString(t)
	if err != nil {
		return nil, fmt.Errorf("%w: not base32 or wrong length", ErrInvalidSecret)
	}
	return out, nil
}

// GroupSecret formats an encoded secret for typing by hand: upper case, in
// groups of four separated by single spaces ("ABCD EFGH IJKL …"). Spaces
// already in s are dropped first, so grouping twice changes nothing.
func GroupSecret(s string) string {
	s = strings.ToUpper(strings.Join(strings.Fields(s), ""))
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}
