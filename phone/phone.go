package phone

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/custos/custos"
	"github.com/nyaruka/phonenumbers"
)

// MaxInputLength bounds the input Normalize looks at, in characters. The longest
// E.164 number has 15 digits; the rest is room for spaces, dashes and a
// "00" prefix.
const MaxInputLength = 40

// ValidRegion reports whether r is a region libphonenumber knows, as an
// ISO 3166-1 alpha-2 code in either case ("CN", "us"), for the
// --default-region flag. The empty string is not a region: a deployment
// without a default region accepts E.164 numbers only and passes "" to
// Normalize.
func ValidRegion(r string) bool {
	if len(r) != 2 {
		return false
	}
	return phonenumbers.GetSupportedRegions()[strings.ToUpper(r)]
}

// Normalize returns raw as an E.164 number ("+8613800138000"). raw may be
// international ("+86 138 0013 8000", or with the international dialling
// prefix of defaultRegion, such as "0086…" for CN) or, when defaultRegion
// is set, national ("138-0013-8000" for CN, "(201) 555-0123" for US).
// Spaces, dashes, dots, parentheses and their full-width forms are ignored.
//
// The number must be valid by libphonenumber's metadata for its country.
// Any type that can receive a text message is accepted (mobile, fixed line
// or mobile where the plan does not tell them apart, VoIP, personal
// numbers); fixed-line, toll-free, premium-rate, shared-cost and similar
// numbers are not, since every use of a number here sends it a code.
//
// Errors are *custos.Error with code EInvalidPhone and a message for
// people that does not repeat the input. An unknown non-empty
// defaultRegion is a configuration error: EInternal.
func Normalize(raw, defaultRegion string) (string, error) {
	region := ""
	if defaultRegion != "" {
		if !ValidRegion(defaultRegion) {
			return "", custos.Errorf(custos.EInternal, "phone: unknown default region")
		}
		region = strings.ToUpper(defaultRegion)
	}
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", invalid("phone.missing")
	}
	if utf8.RuneCountInString(s) > MaxInputLength {
		return "", invalid("phone.too_long")
	}
	if !plausible(s) {
		return "", invalid("phone.characters")
	}
	international := strings.HasPrefix(s, "+") || strings.HasPrefix(s, "\uFF0B")
	if !international && region == "" {
		return "", invalid("phone.international")
	}
	parseRegion := region
	if parseRegion == "" {
		parseRegion = "ZZ" // unknown region: only "+…" parses
	}
	n, err := phonenumbers.Parse(s, parseRegion)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		if international {
			return "", invalid("phone.not_valid")
		}
		return "", invalid("phone.not_valid_in", region)
	}
	if n.GetExtension() != "" {
		return "", invalid("phone.extension")
	}
	if !textable(phonenumbers.GetNumberType(n)) {
		return "", invalid("phone.not_mobile")
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// invalid is a refusal whose words are the catalogue's key, filled with args.
func invalid(key string, args ...any) *custos.Error {
	return custos.Fail(custos.EInvalidPhone, key, args...).OnField("phone")
}

// plausible reports whether s holds only what people put in a phone number:
// digits, a leading plus and separators. libphonenumber itself is more
// forgiving (it reads letters as keypad digits, "1-800-FLOWERS", and
// finds a number inside other text), which is not what a form field wants.
func plausible(s string) bool {
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9', r >= '\uFF10' && r <= '\uFF19': // ASCII and full-width digits
			digits++
		case r == '+' || r == '\uFF0B':
			if i != 0 {
				return false
			}
		case r == ' ' || r == '\u00A0' || r == '\u3000',
			r == '-' || r == '\u2010' || r == '\u2011' || r == '\u2012' || r == '\u2013' || r == '\u2014' || r == '\uFF0D',
			r == '.' || r == '\uFF0E',
			r == '(' || r == ')' || r == '\uFF08' || r == '\uFF09',
			r == '/':
		default:
			return false
		}
	}
	return digits > 0
}

// textable reports whether a number of type t can receive a text message.
// Where the plan cannot tell fixed lines from mobiles (the whole of North
// America) the number is given the benefit of the doubt.
func textable(t phonenumbers.PhoneNumberType) bool {
	switch t {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE, phonenumbers.VOIP, phonenumbers.PERSONAL_NUMBER:
		return true
	}
	return false
}

// Mask returns an E.164 number with its middle hidden, for pages, audit
// details and logs: the country code, up to 3 leading national digits and
// the last 4 ("+86 138****8000", "+1 201***0123"). At least 3 digits are
// always hidden, so a short national number shows fewer of its own. Input
// that is not E.164 shows at most its last 4 digits ("***8000").
func Mask(e164 string) string {
	n, err := phonenumbers.Parse(e164, "ZZ")
	if !strings.HasPrefix(e164, "+") || err != nil || n.GetCountryCode() == 0 {
		return maskDigits(e164)
	}
	national := phonenumbers.GetNationalSignificantNumber(n)
	if national == "" {
		return maskDigits(e164)
	}
	head, tail := maskSplit(len(national))
	var b strings.Builder
	b.WriteByte('+')
	b.WriteString(strconv.Itoa(int(n.GetCountryCode())))
	b.WriteByte(' ')
	b.WriteString(national[:head])
	b.WriteString(strings.Repeat("*", len(national)-head-tail))
	b.WriteString(national[len(national)-tail:])
	return b.String()
}

// maskSplit returns how many leading and trailing digits of an n-digit
// national number stay visible: 3 and 4 for the usual lengths, fewer for
// short numbers so that 3 stay hidden.
func maskSplit(n int) (head, tail int) {
	const hidden = 3
	tail = min(4, max(0, n-hidden))
	head = min(3, max(0, n-hidden-tail))
	return head, tail
}

// maskDigits is Mask for input that does not parse as E.164.
func maskDigits(s string) string {
	var digits []rune
	for _, r := range s {
		if unicode.IsDigit(r) {
			digits = append(digits, r)
		}
	}
	if len(digits) < 8 {
		return "***"
	}
	return "***" + string(digits[len(digits)-4:])
}
