package idcheck

import (
	"strings"
	"unicode/utf8"

	"github.com/custos/custos"
)

// usccAlphabet is the GB 32100 character set, in the order of the values
// 0 to 30: the digits and the upper-case letters but I, O, Z, S and V.
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccWeights are the weights of characters 1 to 17: 3^(i-1) mod 31.
var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// usccTypes are the registration authority codes of GB 32100 (character
// 1), each with the organisation type codes it uses (character 2), as the
// standard and its amendments list them: 1 establishment, 2 foreign
// affairs, 3 justice, 4 culture, 5 civil affairs, 6 tourism, 7 religion,
// 8 trade unions, 9 industry and commerce (now market regulation), A the
// Central Military Commission's establishment office, N agriculture, Y
// others. 9 after an authority is its "other" type.
var usccTypes = map[byte]string{
	'1': "1239",
	'2': "19",
	'3': "123459",
	'4': "19",
	'5': "1239",
	'6': "129",
	'7': "129",
	'8': "19",
	'9': "123",
	'A': "19",
	'N': "1239",
	'Y': "1",
}

// CheckUSCC checks a Unified Social Credit Code, and returns nil when it
// is fine. It checks the normalised code (NormalizeUSCC). The code must be
// 18 characters of the GB 32100 alphabet (digits and upper-case letters
// but I, O, Z, S and V), begin with a registration authority and an
// organisation type the standard lists, then the 6 digits of a region
// code, and end with the right MOD 31 check character. A failure is
// custos.EInvalidDocumentNumber with a key that says why; the caller sets
// the Field.
//
// Some codes of early pilots in Fujian were issued with a wrong check
// character. They are refused like any other: the holder, or a reviewer,
// has to deal with them.
func CheckUSCC(code string) *custos.Error {
	n := normalize(code)
	if utf8.RuneCountInString(n) != 18 {
		return custos.Fail(custos.EInvalidDocumentNumber, "idcheck.uscc_length")
	}
	for i := 0; i < len(n); i++ {
		if strings.IndexByte(usccAlphabet, n[i]) < 0 {
			return custos.Fail(custos.EInvalidDocumentNumber, "idcheck.uscc_characters")
		}
	}
	if types, ok := usccTypes[n[0]]; !ok || strings.IndexByte(types, n[1]) < 0 {
		return custos.Fail(custos.EInvalidDocumentNumber, "idcheck.uscc_type")
	}
	for i := 2; i < 8; i++ {
		if !isDigit(n[i]) {
			return custos.Fail(custos.EInvalidDocumentNumber, "idcheck.uscc_region")
		}
	}
	if usccCheckChar(n[:17]) != n[17] {
		return custos.Fail(custos.EInvalidDocumentNumber, "idcheck.uscc_checksum")
	}
	return nil
}

// usccSum is the weighted sum of the 17 characters of body, which must be
// in the alphabet.
func usccSum(body string) int {
	s := 0
	for i := 0; i < 17; i++ {
		s += strings.IndexByte(usccAlphabet, body[i]) * usccWeights[i]
	}
	return s
}

// usccCheckChar is the check character of body: 31 - sum mod 31, with 31
// written 0.
func usccCheckChar(body string) byte {
	return usccAlphabet[(31-usccSum(body)%31)%31]
}
