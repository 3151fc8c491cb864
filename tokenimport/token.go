package tokenimport

import (
	"fmt"
	"time"

	"github.com/custos/custos/otp"
)

// Token kinds, as in Token.Kind.
const (
	KindTOTP = "totp"
	KindHOTP = "hotp"
)

// Bounds on what a token file may contain. Secrets shorter than 80 bits are
// guessable offline from a few codes; longer than 64 bytes is the HMAC-SHA512
// block size, past which HMAC hashes the key first, and no token uses it.
const (
	MaxSerialLen = 64
	MinSecretLen = 10
	MaxSecretLen = 64
)

// Token is one token read from a file, ready to store.
type Token struct {
	// Serial is the number printed on the token, unique within the file.
	Serial string
	// Secret is the raw HMAC key; keep it encrypted at rest.
	Secret []byte
	// Kind is KindTOTP or KindHOTP.
	Kind string
	// Params are the algorithm and digits, and for TOTP the period. For HOTP
	// Period is zero: otp.MatchHOTP ignores it (so Params.Validate, which is
	// about TOTP, fails on an HOTP token's Params).
	Params otp.Params
	// Counter is the next HOTP counter the token will show (0 for TOTP).
	Counter uint64
	// Drift is the token's known clock offset in time steps (PSKC
	// TimeDrift; 0 when the file does not say), the drift argument of
	// otp.MatchTOTP.
	Drift int
}

// Rejected is a token of the file that was not imported, and why.
type Rejected struct {
	// Row is the 1-based line of the row in a CSV file, or the 1-based
	// position of the KeyPackage in a PSKC file.
	Row int
	// Serial is the token's serial when it was readable and valid, else "".
	Serial string
	// Reason says what is wrong, for the administrator. It never contains
	// the secret or any other field's raw value.
	Reason string
}

// entry is one row or KeyPackage in file order, accepted or not.
type entry struct {
	row    int
	serial string // valid serial, or ""
	token  *Token
	reason string
}

// result assembles the tokens and rejections, rejecting every entry whose
// serial appears more than once: which of two conflicting seeds is right
// cannot be known, so neither is imported.
func result(entries []entry) ([]Token, []Rejected) {
	count := map[string]int{}
	for _, e := range entries {
		if e.serial != "" {
			count[e.serial]++
		}
	}
	var tokens []Token
	var rejected []Rejected
	for _, e := range entries {
		if n := count[e.serial]; e.serial != "" && n > 1 && e.token != nil {
			e.token = nil
			e.reason = fmt.Sprintf("serial appears %d times in the file", n)
		}
		if e.token != nil {
			tokens = append(tokens, *e.token)
			continue
		}
		rejected = append(rejected, Rejected{Row: e.row, Serial: e.serial, Reason: e.reason})
	}
	return tokens, rejected
}

// checkSerial returns a reason when s is not a usable serial: empty, longer
// than MaxSerialLen, or with anything but printable ASCII (serials are
// printed on tokens and typed into forms and logs).
func checkSerial(s string) string {
	switch {
	case s == "":
		return "serial is empty"
	case len(s) > MaxSerialLen:
		return fmt.Sprintf("serial is longer than %d characters", MaxSerialLen)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return "serial has characters other than printable ASCII"
		}
	}
	return ""
}

// checkSecretLen returns a reason when a decoded secret has a bad length.
func checkSecretLen(b []byte) string {
	switch {
	case len(b) < MinSecretLen:
		return fmt.Sprintf("secret is shorter than %d bytes", MinSecretLen)
	case len(b) > MaxSecretLen:
		return fmt.Sprintf("secret is longer than %d bytes", MaxSecretLen)
	}
	return ""
}

// checkDigits returns a reason when n is not an accepted number of digits.
func checkDigits(n int) string {
	if n < otp.MinDigits || n > otp.MaxDigits {
		return fmt.Sprintf("digits must be %d to %d", otp.MinDigits, otp.MaxDigits)
	}
	return ""
}

// checkPeriod returns a reason when seconds is not an accepted TOTP period.
func checkPeriod(seconds uint64) string {
	if seconds < uint64(otp.MinPeriod/time.Second) || seconds > uint64(otp.MaxPeriod/time.Second) {
		return fmt.Sprintf("period must be %d to %d seconds",
			otp.MinPeriod/time.Second, otp.MaxPeriod/time.Second)
	}
	return ""
}
