package idcheck

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/custos/custos"
)

// Normalize returns the form of a document number that is checked and
// stored. It drops every space (at the ends and inside) and upper-cases
// ASCII letters, so an identity number's trailing x becomes X. It is the
// same for every document type, and Normalize of its result is the result.
func Normalize(t custos.DocumentType, s string) string {
	return normalize(s)
}

// NormalizeUSCC returns the form of a Unified Social Credit Code that is
// checked and stored, by the rules of Normalize.
func NormalizeUSCC(s string) string {
	return normalize(s)
}

// normalize drops white space and upper-cases ASCII letters. Only ASCII
// is upper-cased: unicode.ToUpper would turn some other letters into
// ASCII ones (ſ into S), and a number must not pass because of that.
func normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			continue
		case 'a' <= r && r <= 'z':
			r -= 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Last4 returns the last 4 characters of the normalised number, for
// display. A shorter number comes back whole.
func Last4(s string) string {
	n := normalize(s)
	if utf8.RuneCountInString(n) <= 4 {
		return n
	}
	i := len(n)
	for range 4 {
		_, size := utf8.DecodeLastRuneInString(n[:i])
		i -= size
	}
	return n[i:]
}

// CheckDocument checks a document number of type t, and returns nil when
// it is fine. It checks the normalised number (Normalize), so a caller may
// pass what was typed. A failure is custos.EInvalidDocumentNumber with a
// key that says why; the caller sets the Field. now is the time the birth
// date of an identity number must not be after.
//
// What each type accepts:
//   - cn_id_card: 18 characters, 17 digits and then a digit or X; the
//     first two digits a province code in use (see regions); the birth
//     date (characters 7 to 14) a real date from 1900-01-01 on and not
//     after today; the MOD 11-2 check character right. The 15-digit
//     numbers of before 1999 are refused: the cards that carry them are
//     no longer valid.
//   - passport: 5 to 20 ASCII letters and digits.
//   - driving_licence: 6 to 20 ASCII letters and digits. A PRC licence
//     number is the holder's identity number, so a number of that form (17
//     digits and then a digit or X) must also pass the cn_id_card checks.
//   - hmt_permit: see checkHMT.
//
// An unknown document type fails too.
func CheckDocument(t custos.DocumentType, number string, now time.Time) *custos.Error {
	n := normalize(number)
	switch t {
	case custos.DocCNIDCard:
		return checkID(n, now)
	case custos.DocPassport:
		return checkAlnum(n, 5, 20)
	case custos.DocDrivingLicence:
		if e := checkAlnum(n, 6, 20); e != nil {
			return e
		}
		if idForm(n) {
			return checkID(n, now)
		}
		return nil
	case custos.DocHMTPermit:
		return checkHMT(n)
	}
	return custos.Fail(custos.EInvalidDocumentNumber, "idcheck.document_type")
}

// BirthDate returns the birth date in a valid identity number, at
// midnight UTC. ok is false when the number fails any check of
// CheckDocument but the one against the clock: the caller compares the
// date with its own today.
func BirthDate(id string) (time.Time, bool) {
	birth, e := checkIDStatic(normalize(id))
	return birth, e == nil
}

// checkAlnum checks that n is min to max ASCII letters and digits.
func checkAlnum(n string, min, max int) *custos.Error {
	if c := utf8.RuneCountInString(n); c < min || c > max {
		return custos.Fail(custos.EInvalidDocumentNumber, "idcheck.length")
	}
	for i := 0; i < len(n); i++ {
		if !isDigit(n[i]) && !isLetter(n[i]) {
			return custos.Fail(custos.EInvalidDocumentNumber, "idcheck.characters")
		}
	}
	return nil
}

// checkHMT checks the number of a Hong Kong / Macau / Taiwan travel
// permit. The permits in use are:
//   - the Mainland Travel Permit for Hong Kong and Macao Residents: H
//     (Hong Kong) or M (Macao) and then 8 digits, or 10 on the older
//     permits (the last two count reissues);
//   - the Mainland Travel Permit for Taiwan Residents: 8 digits, with no
//     letter, and on older permits a reissue count after them;
//   - the Exit-Entry Permit for mainland residents to Hong Kong and
//     Macao: C and then 8 digits, or C, a second letter and 7 digits now
//     that the first series is used up; to Taiwan: L and then 8 digits.
//
// The letters and lengths have changed over the years and may change
// again, so it is lenient: none, one or two ASCII letters, then 7 to 10
// digits. It refuses anything else: other characters, letters after a
// digit, or too few or too many digits.
func checkHMT(n string) *custos.Error {
	if c := utf8.RuneCountInString(n); c < 7 || c > 12 {
		return custos.Fail(custos.EInvalidDocumentNumber, "idcheck.length")
	}
	letters := 0
	for i := 0; i < len(n); i++ {
		switch {
		case isLetter(n[i]):
			if letters != i {
				return custos.Fail(custos.EInvalidDocumentNumber, "idcheck.format")
			}
			letters++
		case !isDigit(n[i]):
			return custos.Fail(custos.EInvalidDocumentNumber, "idcheck.characters")
		}
	}
	if digits := len(n) - letters; letters > 2 || digits < 7 || digits > 10 {
		return custos.Fail(custos.EInvalidDocumentNumber, "idcheck.format")
	}
	return nil
}

// idForm reports whether n has the form of an identity number: 17 digits
// and then a digit or X.
func idForm(n string) bool {
	if len(n) != 18 {
		return false
	}
	for i := 0; i < 17; i++ {
		if !isDigit(n[i]) {
			return false
		}
	}
	return isDigit(n[17]) || n[17] == 'X'
}

// checkID checks a normalised identity number.
func checkID(n string, now time.Time) *custos.Error {
	birth, e := checkIDStatic(n)
	if e != nil {
		return e
	}
	// Today somewhere: the date is refused only when it is after today in
	// the easternmost time zone (UTC+14), so a birth today counts wherever
	// the person was born.
	y, m, d := now.UTC().Add(14 * time.Hour).Date()
	if birth.After(time.Date(y, m, d, 0, 0, 0, 0, time.UTC)) {
		return custos.Fail(custos.EInvalidDocumentNumber, "idcheck.birth_date")
	}
	return nil
}

// earliestBirth is the first birth date an identity number may carry.
var earliestBirth = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

// checkIDStatic makes every check of an identity number but the one
// against the clock, and returns the birth date.
func checkIDStatic(n string) (time.Time, *custos.Error) {
	if utf8.RuneCountInString(n) != 18 {
		return time.Time{}, custos.Fail(custos.EInvalidDocumentNumber, "idcheck.length")
	}
	if !idForm(n) {
		return time.Time{}, custos.Fail(custos.EInvalidDocumentNumber, "idcheck.characters")
	}
	if !regions[n[:2]] {
		return time.Time{}, custos.Fail(custos.EInvalidDocumentNumber, "idcheck.region")
	}
	birth, ok := date(n[6:14])
	if !ok || birth.Before(earliestBirth) {
		return time.Time{}, custos.Fail(custos.EInvalidDocumentNumber, "idcheck.birth_date")
	}
	if idCheckChar(n[:17]) != n[17] {
		return time.Time{}, custos.Fail(custos.EInvalidDocumentNumber, "idcheck.checksum")
	}
	return birth, nil
}

// regions are the first two digits an identity number may begin with: the
// province-level codes of GB/T 2260 (11 Beijing … 65 Xinjiang, 71 Taiwan,
// 81 Hong Kong, 82 Macao), 83 of the residence permits of Taiwan residents
// (81 and 82 serve those of Hong Kong and Macao residents), and 91 to 96
// of the foreigners' permanent residence identity card of 2023, whose
// number begins with 9 and then the province code of the office that took
// the application. Codes that merely look unused are kept: only codes no
// number can carry are refused.
var regions = func() map[string]bool {
	m := make(map[string]bool)
	for _, r := range [][2]int{
		{11, 15}, {21, 23}, {31, 37}, {41, 46}, {50, 54}, {61, 65},
		{71, 71}, {81, 83}, {91, 96},
	} {
		for c := r[0]; c <= r[1]; c++ {
			m[string([]byte{byte('0' + c/10), byte('0' + c%10)})] = true
		}
	}
	return m
}()

// date reads 8 digits as YYYYMMDD, and reports whether it is a real date.
func date(s string) (time.Time, bool) {
	v := func(s string) int {
		n := 0
		for i := 0; i < len(s); i++ {
			n = n*10 + int(s[i]-'0')
		}
		return n
	}
	y, m, d := v(s[:4]), v(s[4:6]), v(s[6:8])
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != m || t.Day() != d {
		return time.Time{}, false
	}
	return t, true
}

// idWeights are the ISO 7064 MOD 11-2 weights of characters 1 to 17:
// 2^(18-i) mod 11.
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// idSum is the weighted sum of the 17 digits of body.
func idSum(body string) int {
	s := 0
	for i := 0; i < 17; i++ {
		s += int(body[i]-'0') * idWeights[i]
	}
	return s
}

// idCheckChar is the check character of the 17 digits of body:
// (12 - sum mod 11) mod 11, with 10 written X.
func idCheckChar(body string) byte {
	c := (12 - idSum(body)%11) % 11
	if c == 10 {
		return 'X'
	}
	return byte('0' + c)
}

func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isLetter(c byte) bool { return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' }
