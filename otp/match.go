package otp

import (
	"crypto/subtle"
	"math"
	"time"
)

// wellFormed reports whether code is exactly digits ASCII digits. Anything
// else never matches, so a malformed code costs no HMAC.
func wellFormed(code string, digits int) bool {
	if len(code) != digits {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// equal compares a generated code with a submitted one in constant time.
func equal(generated, code string) bool {
	return generated != "" && subtle.ConstantTimeCompare([]byte(generated), []byte(code)) == 1
}

// addStep returns s+d and false when that would leave the int64 range.
func addStep(s int64, d int64) (int64, bool) {
	if (d > 0 && s > math.MaxInt64-d) || (d < 0 && s < math.MinInt64-d) {
		return 0, false
	}
	return s + d, true
}

// offsets calls try with 0, -1, +1, -2, +2, … up to ±window and stops at
// the first true. The earlier of two equally distant steps goes first, so a
// code that happens to repeat consumes as little of the future as possible.
func offsets(window int, try func(d int64) bool) bool {
	if try(0) {
		return true
	}
	for d := int64(1); d <= int64(window); d++ {
		if try(-d) || try(d) {
			return true
		}
	}
	return false
}

// MatchTOTP checks a submitted TOTP code. It accepts the code when it
// equals TOTP at some step s with |s − (Step(now)+drift)| ≤ window and
// s > lastStep, and returns that s. The caller stores s as the new lastStep
// for this credential (in the same atomic statement that checks it), so a
// step is never accepted twice; pass 0 when no code has been accepted yet
// (every step after 1970 is larger). drift is the token's known offset in steps (from
// FindTOTPPair); window is usually 1.
//
// Steps are tried from the centre outwards (0, −1, +1, −2, …) and each
// candidate is compared in constant time. A code of the wrong length or
// with a non-digit never matches, nor does anything when p is invalid or
// window is negative. The cost is at most 2·window+1 HMACs.
func MatchTOTP(secret []byte, p Params, code string, now time.Time, drift int, window int, lastStep int64) (step int64, ok bool) {
	if p.Validate() != nil || window < 0 || !wellFormed(code, p.Digits) {
		return 0, false
	}
	centre, ok := addStep(Step(now, p.Period), int64(drift))
	if !ok {
		return 0, false
	}
	found := offsets(window, func(d int64) bool {
		s, ok := addStep(centre, d)
		if !ok || s <= lastStep {
			return false
		}
		if equal(HOTP(secret, uint64(s), p.Algorithm, p.Digits), code) {
			step = s
			return true
		}
		return false
	})
	if !found {
		return 0, false
	}
	return step, true
}

// MatchHOTP checks a submitted HOTP code against the counters next,
// next+1, …, next+lookAhead (fewer if that would pass the largest
// counter). It returns the matching counter; the caller then stores
// counter+1 as next, so counters never go back and no code is accepted
// twice. Counters are tried in increasing order, each compared in constant
// time. A malformed code never matches, nor does anything when p.Algorithm
// or p.Digits is invalid or lookAhead is negative; p.Period is ignored.
func MatchHOTP(secret []byte, p Params, code string, next uint64, lookAhead int) (counter uint64, ok bool) {
	if p.validCode() != nil || lookAhead < 0 || !wellFormed(code, p.Digits) {
		return 0, false
	}
	for i := uint64(0); i <= uint64(lookAhead); i++ {
		c := next + i
		if c < next { // wrapped past the largest counter
			break
		}
		if equal(HOTP(secret, c, p.Algorithm, p.Digits), code) {
			return c, true
		}
	}
	return 0, false
}

// FindTOTPPair looks for two consecutive codes, as asked when a token is
// bound or resynchronised: some step s with |s − Step(now)| ≤ window where
// code1 is TOTP at s and code2 at s+1. It returns step2 = s+1, which the
// caller stores as the last accepted step, and drift = s+1 − Step(now), the
// token's clock offset in steps to pass to MatchTOTP from then on. Steps
// are tried from the centre outwards; codes in the wrong order do not
// match. It fails when p is invalid, window is negative or a code is
// malformed. The cost is at most 2·window+2 HMACs.
func FindTOTPPair(secret []byte, p Params, code1, code2 string, now time.Time, window int) (step2 int64, drift int, ok bool) {
	if p.Validate() != nil || window < 0 || !wellFormed(code1, p.Digits) || !wellFormed(code2, p.Digits) {
		return 0, 0, false
	}
	centre := Step(now, p.Period)
	codes := map[int64]string{} // each step's code, computed once
	at := func(s int64) string {
		c, seen := codes[s]
		if !seen {
			c = HOTP(secret, uint64(s), p.Algorithm, p.Digits)
			codes[s] = c
		}
		return c
	}
	found := offsets(window, func(d int64) bool {
		s, ok := addStep(centre, d)
		if !ok {
			return false
		}
		s2, ok := addStep(s, 1)
		if !ok {
			return false
		}
		// Both comparisons run whatever the first says, so timing does not
		// tell which half of the pair was right.
		first := equal(at(s), code1)
		second := equal(at(s2), code2)
		if first && second {
			step2 = s2
			return true
		}
		return false
	})
	if !found {
		return 0, 0, false
	}
	return step2, int(step2 - centre), true
}

// FindHOTPPair looks for two consecutive HOTP codes: some counter c from
// from to from+lookAhead where code1 is HOTP at c and code2 at c+1. It
// returns counter2 = c+1; the caller stores counter2+1 as the next
// counter. Codes in the wrong order do not match. It fails when
// p.Algorithm or p.Digits is invalid, lookAhead is negative or a code is
// malformed; p.Period is ignored.
func FindHOTPPair(secret []byte, p Params, code1, code2 string, from uint64, lookAhead int) (counter2 uint64, ok bool) {
	if p.validCode() != nil || lookAhead < 0 || !wellFormed(code1, p.Digits) || !wellFormed(code2, p.Digits) {
		return 0, false
	}
	prev := HOTP(secret, from, p.Algorithm, p.Digits)
	for i := uint64(0); i <= uint64(lookAhead); i++ {
		c := from + i
		if c+1 < c || c < from { // no counter after the largest
			break
		}
		cur := HOTP(secret, c+1, p.Algorithm, p.Digits)
		first := equal(prev, code1)
		second := equal(cur, code2)
		if first && second {
			return c + 1, true
		}
		prev = cur
	}
	return 0, false
}
