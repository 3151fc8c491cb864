package password

import (
	"crypto/rand"
	"io"
	"math/big"
	"unicode"
	"unicode/utf8"

	"github.com/custos/custos"
	"golang.org/x/text/unicode/norm"
)

// Reasons CheckRules adds to Check's.
const (
	ReasonClasses = "classes"
	ReasonReused  = "reused"
)

// CheckRules applies Check (with the user name standing in for the email's
// local part) and then a root's rules for its sub-users: at least
// r.MinLength code points and r.Classes of the four character classes
// (lower case, upper case, digits, everything else). Reuse of past
// passwords is the caller's to check (it needs the hashes): Reused is its
// error.
func CheckRules(pw, userName string, r custos.PasswordRules) error {
	if err := Check(pw, userName+"@"); err != nil {
		return err
	}
	pw = norm.NFKC.String(pw)
	if r.MinLength > MinLength && utf8.RuneCountInString(pw) < r.MinLength {
		return weak(ReasonTooShort, "password.too_short", r.MinLength)
	}
	if r.Classes > 0 && classes(pw) < r.Classes {
		return weak(ReasonClasses, "password.classes", r.Classes)
	}
	return nil
}

// Reused is the refusal of a password used before.
func Reused(history int) error {
	return weak(ReasonReused, "password.reused", history)
}

// classes counts the character classes pw uses.
func classes(pw string) int {
	var lower, upper, digit, other bool
	for _, c := range pw {
		switch {
		case unicode.IsLower(c):
			lower = true
		case unicode.IsUpper(c):
			upper = true
		case unicode.IsDigit(c):
			digit = true
		default:
			other = true
		}
	}
	n := 0
	for _, b := range []bool{lower, upper, digit, other} {
		if b {
			n++
		}
	}
	return n
}

// generatedAlphabet has no characters people confuse (0/O, 1/l/I).
const generatedAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789-_.!"

// Generate makes a random password of n characters (at least 20) from an
// unambiguous alphabet, drawn from rnd, holding all four character
// classes, for a root resetting a sub-user's password (shown once).
func Generate(rnd io.Reader, n int) (string, error) {
	if n < 20 {
		n = 20
	}
	for {
		b := make([]byte, n)
		for i := range b {
			k, err := rand.Int(rnd, big.NewInt(int64(len(generatedAlphabet))))
			if err != nil {
				return "", err
			}
			b[i] = generatedAlphabet[k.Int64()]
		}
		if s := string(b); classes(s) == 4 {
			return s, nil
		}
	}
}
