package otp

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"time"
)

// Algorithm is the HMAC hash of a token, spelled as in the key URI format.
type Algorithm string

// The hash algorithms of RFC 6238. SHA1 is what nearly every authenticator
// app supports; the others exist for hardware tokens that use them.
const (
	SHA1   Algorithm = "SHA1"
	SHA256 Algorithm = "SHA256"
	SHA512 Algorithm = "SHA512"
)

// Bounds checked by Params.Validate. Fewer than six digits is too easy to
// guess; RFC 4226 truncation gives at most ten, and no authenticator shows
// more than eight. Periods outside 15 s to 120 s are either too short to
// type a code or too long to call it one-time.
const (
	MinDigits = 6
	MaxDigits = 8
	MinPeriod = 15 * time.Second
	MaxPeriod = 120 * time.Second
)

// ErrInvalidParams is wrapped by the errors of Params.Validate.
var ErrInvalidParams = errors.New("invalid one-time-password parameters")

// Params are the generation parameters of one token: the hash, the number
// of digits and, for TOTP, the length of a time step. HOTP ignores Period.
type Params struct {
	// Algorithm is the HMAC hash.
	Algorithm Algorithm
	// Digits is the length of a code.
	Digits int
	// Period is the length of a TOTP time step (whole seconds, T0 = 0).
	Period time.Duration
}

// DefaultParams are the parameters every authenticator app understands:
// HMAC-SHA1, six digits, 30-second steps.
var DefaultParams = Params{Algorithm: SHA1, Digits: 6, Period: 30 * time.Second}

// Validate reports whether p can be used for TOTP: a known Algorithm,
// MinDigits to MaxDigits digits and a whole number of seconds from
// MinPeriod to MaxPeriod. The error wraps ErrInvalidParams. (HOTP needs
// only the first two; MatchHOTP and FindHOTPPair check those alone.)
func (p Params) Validate() error {
	if err := p.validCode(); err != nil {
		return err
	}
	if p.Period < MinPeriod || p.Period > MaxPeriod || p.Period%time.Second != 0 {
		return fmt.Errorf("%w: period %v: want whole seconds from %v to %v",
			ErrInvalidParams, p.Period, MinPeriod, MaxPeriod)
	}
	return nil
}

// validCode checks what HOTP needs: the algorithm and the digits.
func (p Params) validCode() error {
	if p.Algorithm.hash() == nil {
		return fmt.Errorf("%w: algorithm %q: want SHA1, SHA256 or SHA512",
			ErrInvalidParams, string(p.Algorithm))
	}
	if p.Digits < MinDigits || p.Digits > MaxDigits {
		return fmt.Errorf("%w: %d digits: want %d to %d",
			ErrInvalidParams, p.Digits, MinDigits, MaxDigits)
	}
	return nil
}

// hash returns the constructor for a, or nil when a is unknown.
func (a Algorithm) hash() func() hash.Hash {
	switch a {
	case SHA1:
		return sha1.New
	case SHA256:
		return sha256.New
	case SHA512:
		return sha512.New
	}
	return nil
}

// hmacOf returns an HMAC keyed with key over a's hash; a must be known.
func hmacOf(a Algorithm, key []byte) hash.Hash {
	return hmac.New(a.hash(), key)
}
