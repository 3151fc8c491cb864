package otp

import (
	"encoding/binary"
	"time"
)

// pow10 holds 10^d for the digit counts HOTP accepts.
var pow10 = [...]uint32{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000}

// HOTP returns the RFC 4226 code of secret at counter: HMAC over the 8-byte
// big-endian counter, dynamic truncation, the last digits decimal digits,
// zero-padded. It returns "" when alg is unknown or digits is outside
// MinDigits..MaxDigits, and "" never matches a code.
func HOTP(secret []byte, counter uint64, alg Algorithm, digits int) string {
	if (Params{Algorithm: alg, Digits: digits}).validCode() != nil {
		return ""
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	m := hmacOf(alg, secret)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	v := bin % pow10[digits]
	out := make([]byte, digits)
	for i := digits - 1; i >= 0; i-- {
		out[i] = byte('0' + v%10)
		v /= 10
	}
	return string(out)
}

// Step returns the RFC 6238 time step of t: whole Unix seconds divided by
// period, with T0 = 0, rounded down (also before 1970). The arithmetic is
// 64-bit, so steps after 2038 and far beyond are exact. A period shorter
// than one second is meaningless and gives 0; Params.Validate rejects it.
func Step(t time.Time, period time.Duration) int64 {
	p := int64(period / time.Second)
	if p <= 0 {
		return 0
	}
	s := t.Unix()
	q := s / p
	if s%p != 0 && s < 0 {
		q--
	}
	return q
}

// TOTP returns the RFC 6238 code for time t: HOTP at Step(t, p.Period). It
// returns "" when p is not valid (see Params.Validate).
func TOTP(secret []byte, t time.Time, p Params) string {
	if p.Validate() != nil {
		return ""
	}
	return HOTP(secret, uint64(Step(t, p.Period)), p.Algorithm, p.Digits)
}
