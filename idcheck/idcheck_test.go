package idcheck

import (
	"strings"
	"testing"
	"time"

	"github.com/custos/custos"
)

// now is the clock of the tests.
var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// keyOf is the key of a check's result, "" for nil.
func keyOf(e *custos.Error) string {
	if e == nil {
		return ""
	}
	return e.Key
}

// wantKey fails the test unless e is nil (want "") or an
// invalid_document_number error with key want.
func wantKey(t *testing.T, what string, e *custos.Error, want string) {
	t.Helper()
	if e != nil && e.Code != custos.EInvalidDocumentNumber {
		t.Errorf("%s: code %q, want %q", what, e.Code, custos.EInvalidDocumentNumber)
	}
	if e != nil && e.Field != "" {
		t.Errorf("%s: Field %q set; the caller sets it", what, e.Field)
	}
	if got := keyOf(e); got != want {
		t.Errorf("%s: key %q, want %q", what, got, want)
	}
}

// withCheck returns the 17 digits of body and their check character.
func withCheck(body string) string { return body + string(idCheckChar(body)) }

// TestWeights: the weight tables are the ones the standards define.
func TestWeights(t *testing.T) {
	for i := 1; i <= 17; i++ {
		w := 1
		for range 18 - i {
			w = w * 2 % 11
		}
		if idWeights[i-1] != w {
			t.Errorf("MOD 11-2 weight %d = %d, want 2^(18-i) mod 11 = %d", i, idWeights[i-1], w)
		}
		w = 1
		for range i - 1 {
			w = w * 3 % 31
		}
		if usccWeights[i-1] != w {
			t.Errorf("MOD 31 weight %d = %d, want 3^(i-1) mod 31 = %d", i, usccWeights[i-1], w)
		}
	}
	if len(usccAlphabet) != 31 || strings.ContainsAny(usccAlphabet, "IOZSV") {
		t.Errorf("alphabet %q: want 31 characters without I, O, Z, S, V", usccAlphabet)
	}
}

// TestIDVectorsAppendixA: the standard's examples, with their sums.
// 440524188001010014 has the right check character but was born in 1880:
// the policy refuses births before 1900, so it fails on the birth date.
func TestIDVectorsAppendixA(t *testing.T) {
	for _, v := range []struct {
		number string
		sum    int
		mod    int
		check  byte
		key    string
		birth  time.Time
	}{
		{"11010519491231002X", 167, 2, 'X', "", time.Date(1949, 12, 31, 0, 0, 0, 0, time.UTC)},
		{"440524188001010014", 195, 8, '4', "idcheck.birth_date", time.Time{}},
	} {
		if s := idSum(v.number[:17]); s != v.sum || s%11 != v.mod {
			t.Errorf("%s: sum %d mod 11 %d, want %d and %d", v.number, s, s%11, v.sum, v.mod)
		}
		if c := idCheckChar(v.number[:17]); c != v.check || v.number[17] != v.check {
			t.Errorf("%s: check %c, want %c", v.number, c, v.check)
		}
		wantKey(t, v.number, CheckDocument(custos.DocCNIDCard, v.number, now), v.key)
		b, ok := BirthDate(v.number)
		if ok != (v.key == "") || !b.Equal(v.birth) {
			t.Errorf("BirthDate(%s) = %v, %v; want %v", v.number, b, ok, v.birth)
		}
	}
}

// TestIDVectorsNegative: the negative and edge vectors. A lower-case x is
// normalised to X and accepted; the 15-digit form of before 1999 is
// refused on its length, and converting it gives the 18-digit vector.
func TestIDVectorsNegative(t *testing.T) {
	for _, v := range []struct{ number, key string }{
		{"110105194912310021", "idcheck.checksum"},
		{"11010519491231002x", ""},
		{"110105194902300020", "idcheck.birth_date"},
		{"110105209912310010", "idcheck.birth_date"},
		{"1101051949123100", "idcheck.length"},
		{"110105491231002", "idcheck.length"},
	} {
		wantKey(t, v.number, CheckDocument(custos.DocCNIDCard, v.number, now), v.key)
	}
	// The check characters of the vectors that fail elsewhere are right.
	for _, n := range []string{"110105194902300020", "110105209912310010"} {
		if idCheckChar(n[:17]) != n[17] {
			t.Errorf("%s: check character should be right", n)
		}
	}
	if got := Normalize(custos.DocCNIDCard, "11010519491231002x"); got != "11010519491231002X" {
		t.Errorf("Normalize = %q", got)
	}
	legacy := "110105491231002"
	if got := withCheck(legacy[:6] + "19" + legacy[6:]); got != "11010519491231002X" {
		t.Errorf("legacy %s converts to %s, want 11010519491231002X", legacy, got)
	}
}

// TestCheckDocumentIDCard is the table of the identity card checks.
func TestCheckDocumentIDCard(t *testing.T) {
	for _, v := range []struct{ number, key string }{
		{"11010519491231002X", ""},
		{" 110105 19491231 002x ", ""},
		{"110105\u300019491231002X", ""}, // ideographic space
		{withCheck("11010520000229001"), ""},
		{withCheck("11010519000101001"), ""},                   // the first day accepted
		{withCheck("11010518991231001"), "idcheck.birth_date"}, // the day before
		{withCheck("11010519000229001"), "idcheck.birth_date"}, // 1900 was not a leap year
		{withCheck("11010519491301001"), "idcheck.birth_date"},
		{withCheck("11010519491200001"), "idcheck.birth_date"},
		{withCheck("11010520260301001"), ""},                   // born today
		{withCheck("11010520260302001"), ""},                   // today already east of UTC
		{withCheck("11010520260303001"), "idcheck.birth_date"}, // tomorrow everywhere
		{withCheck("81000019800101001"), ""},                   // Hong Kong resident's permit
		{withCheck("83000019800101001"), ""},                   // Taiwan resident's permit
		{withCheck("91115619800101001"), ""},                   // foreigner's permanent residence
		{withCheck("65010219800101001"), ""},
		{withCheck("10010219800101001"), "idcheck.region"},
		{withCheck("00010219800101001"), "idcheck.region"},
		{withCheck("16010219800101001"), "idcheck.region"},
		{withCheck("72010219800101001"), "idcheck.region"},
		{withCheck("84010219800101001"), "idcheck.region"},
		{withCheck("90010219800101001"), "idcheck.region"},
		{withCheck("99010219800101001"), "idcheck.region"},
		{"", "idcheck.length"},
		{"11010519491231002XX", "idcheck.length"},
		{"X1010519491231002X", "idcheck.characters"},
		{"1101051949123100X2", "idcheck.characters"},
		{"11010519491231002Y", "idcheck.characters"},
		{"11010519491231002-", "idcheck.characters"},
		{"１10105194912310021", "idcheck.characters"}, // a full-width digit
	} {
		wantKey(t, v.number, CheckDocument(custos.DocCNIDCard, v.number, now), v.key)
	}
}

// TestCheckDocumentPassport is the table of the passport checks.
func TestCheckDocumentPassport(t *testing.T) {
	for _, v := range []struct{ number, key string }{
		{"E12345678", ""},
		{"e 1234 5678", ""},
		{"A1234", ""},
		{"12345678901234567890", ""},
		{"A123", "idcheck.length"},
		{"123456789012345678901", "idcheck.length"},
		{"", "idcheck.length"},
		{"E1234-5678", "idcheck.characters"},
		{"E1234567ſ", "idcheck.characters"},
		{"Ｅ12345678", "idcheck.characters"},
	} {
		wantKey(t, v.number, CheckDocument(custos.DocPassport, v.number, now), v.key)
	}
}

// TestCheckDocumentDrivingLicence is the table of the licence checks: a
// number of the identity form is checked as one.
func TestCheckDocumentDrivingLicence(t *testing.T) {
	for _, v := range []struct{ number, key string }{
		{"11010519491231002X", ""},
		{"11010519491231002x", ""},
		{"110105194912310021", "idcheck.checksum"},
		{"110105194902300020", "idcheck.birth_date"},
		{"110105209912310010", "idcheck.birth_date"},
		{withCheck("16010219800101001"), "idcheck.region"},
		{"1101051949123100", ""}, // not of the identity form: a foreign licence
		{"D1234567", ""},
		{"A12345", ""},
		{"A1234", "idcheck.length"},
		{"123456789012345678901", "idcheck.length"},
		{"D123/4567", "idcheck.characters"},
	} {
		wantKey(t, v.number, CheckDocument(custos.DocDrivingLicence, v.number, now), v.key)
	}
}

// TestCheckDocumentHMTPermit is the table of the travel permit checks.
func TestCheckDocumentHMTPermit(t *testing.T) {
	for _, v := range []struct{ number, key string }{
		{"H12345678", ""},
		{"M12345678", ""},
		{"H1234567801", ""},
		{"h 1234 5678", ""},
		{"12345678", ""},     // Taiwan residents
		{"1234567801", ""},   // Taiwan residents, with a reissue count
		{"C12345678", ""},    // mainland residents to Hong Kong and Macao
		{"CE1234567", ""},    // the second series
		{"L12345678", ""},    // mainland residents to Taiwan
		{"HM1234567890", ""}, // the longest
		{"123456", "idcheck.length"},
		{"H1234567890X", "idcheck.format"},
		{"H12345", "idcheck.length"},
		{"H123456", "idcheck.format"},
		{"HMT12345678", "idcheck.format"},
		{"H1234A5678", "idcheck.format"},
		{"12345678901", "idcheck.format"},
		{"H1234567890123", "idcheck.length"},
		{"H1234-5678", "idcheck.characters"},
		{"H(12345678)", "idcheck.characters"},
	} {
		wantKey(t, v.number, CheckDocument(custos.DocHMTPermit, v.number, now), v.key)
	}
}

// TestCheckDocumentUnknownType: a type not in the root package fails,
// whatever the number.
func TestCheckDocumentUnknownType(t *testing.T) {
	for _, typ := range []custos.DocumentType{"", "CN_ID_CARD", "id_card", "social_security"} {
		wantKey(t, string(typ), CheckDocument(typ, "11010519491231002X", now), "idcheck.document_type")
	}
}

// TestUSCCVectors: the worked example, its counter-example and the valid
// samples with their sums.
func TestUSCCVectors(t *testing.T) {
	for _, v := range []struct {
		code  string
		sum   int
		mod   int
		check byte
	}{
		{"91350100M000100Y43", 1640, 28, '3'},
		{"91310110666007217T", 966, 5, 'T'},
		{"91310115591693856A", 1199, 21, 'A'},
		{"914403001922038216", 831, 25, '6'},
		{"91440300708461136T", 966, 5, 'T'},
	} {
		if s := usccSum(v.code[:17]); s != v.sum || s%31 != v.mod {
			t.Errorf("%s: sum %d mod 31 %d, want %d and %d", v.code, s, s%31, v.sum, v.mod)
		}
		if c := usccCheckChar(v.code[:17]); c != v.check {
			t.Errorf("%s: check %c, want %c", v.code, c, v.check)
		}
		if !orgCodeRight(v.code[8:17]) {
			t.Errorf("%s: the embedded organisation code's check should be right", v.code)
		}
		wantKey(t, v.code, CheckUSCC(v.code), "")
	}
	// The products of the worked example.
	products := []int{9, 3, 27, 135, 0, 26, 0, 0, 420, 0, 0, 0, 8, 0, 0, 900, 112}
	body := "91350100M000100Y4"
	for i, p := range products {
		if got := strings.IndexByte(usccAlphabet, body[i]) * usccWeights[i]; got != p {
			t.Errorf("worked example: C%d·W%d = %d, want %d", i+1, i+1, got, p)
		}
	}
	if !orgCodeRight("M000100Y4") {
		t.Error("M000100Y4: organisation code check should be right")
	}
	wantKey(t, "counter-example", CheckUSCC("91350100M000100Y4Z"), "idcheck.uscc_characters")
	if usccCheckChar(body) == 'Z' {
		t.Error("counter-example: Z cannot be a check character")
	}
}

// orgCodeRight checks the GB 11714 check character of an organisation
// code (the vectors' extra column; CheckUSCC does not make this check).
func orgCodeRight(code string) bool {
	const chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	weights := []int{3, 7, 9, 10, 5, 8, 4, 2}
	s := 0
	for i, w := range weights {
		s += strings.IndexByte(chars, code[i]) * w
	}
	c := 11 - s%11
	want := byte('0' + c)
	switch c {
	case 10:
		want = 'X'
	case 11:
		want = '0'
	}
	return code[8] == want
}

// TestUSCCNonConforming: the codes of the early Fujian pilots fail their
// check character, and are refused.
func TestUSCCNonConforming(t *testing.T) {
	for _, v := range []struct {
		code     string
		computed byte
	}{
		{"91350211M00013FA1N", '3'},
		{"91350100M0001TGQXM", '1'},
		{"91350211M0000XUF46", 'R'},
		{"91350203M0001FUE2P", 'J'},
	} {
		if c := usccCheckChar(v.code[:17]); c != v.computed {
			t.Errorf("%s: computed check %c, want %c", v.code, c, v.computed)
		}
		wantKey(t, v.code, CheckUSCC(v.code), "idcheck.uscc_checksum")
	}
}

// TestCheckUSCC is the table of the code checks.
func TestCheckUSCC(t *testing.T) {
	valid := "91350100M000100Y43"
	with := func(i int, c byte) string {
		b := []byte(valid)
		b[i] = c
		return string(b[:17]) + string(usccCheckChar(string(b[:17])))
	}
	for _, v := range []struct{ code, key string }{
		{valid, ""},
		{"91350100m000100y43", ""},
		{" 9135 0100 M000 100Y 43 ", ""},
		{"12100000400000000" + string(usccCheckChar("12100000400000000")), ""},
		{"N2" + "350100M000100Y4" + string(usccCheckChar("N2350100M000100Y4")), ""},
		{"Y1" + "350100M000100Y4" + string(usccCheckChar("Y1350100M000100Y4")), ""},
		{"", "idcheck.uscc_length"},
		{valid[:17], "idcheck.uscc_length"},
		{valid + "0", "idcheck.uscc_length"},
		{"91350100M000100Y4I", "idcheck.uscc_characters"},
		{"91350100O000100Y43", "idcheck.uscc_characters"},
		{"91350100S000100Y43", "idcheck.uscc_characters"},
		{"91350100V000100Y43", "idcheck.uscc_characters"},
		{"91350100-000100Y43", "idcheck.uscc_characters"},
		{"91350100Ｍ000100Y43", "idcheck.uscc_characters"},
		{with(0, '0'), "idcheck.uscc_type"},
		{with(0, 'B'), "idcheck.uscc_type"},
		{with(1, '4'), "idcheck.uscc_type"}, // industry and commerce has types 1 to 3
		{with(1, '9'), "idcheck.uscc_type"},
		{with(1, 'A'), "idcheck.uscc_type"},
		{"Y2350100M000100Y4" + string(usccCheckChar("Y2350100M000100Y4")), "idcheck.uscc_type"},
		{with(2, 'A'), "idcheck.uscc_region"},
		{with(7, 'Y'), "idcheck.uscc_region"},
		{"91350100M000100Y40", "idcheck.uscc_checksum"},
	} {
		wantKey(t, v.code, CheckUSCC(v.code), v.key)
	}
}

// TestEverySubstitutionIsCaught: changing any one character of a valid
// identity number or code, to anything that normalises differently, is
// refused. Among the characters the form allows, the check character
// itself is wrong after every such change: MOD 11-2 and MOD 31 catch every
// single substitution.
func TestEverySubstitutionIsCaught(t *testing.T) {
	ids := []string{
		"11010519491231002X", "440524188001010014",
		withCheck("32010219900307123"), withCheck("65010220001231998"),
		withCheck("91115619800101001"),
	}
	for _, id := range ids {
		for i := range len(id) {
			for c := 0; c < 128; c++ {
				b := []byte(id)
				b[i] = byte(c)
				m := string(b)
				if normalize(m) == id {
					continue
				}
				if CheckDocument(custos.DocCNIDCard, m, now) == nil {
					t.Errorf("%s: %q accepted", id, m)
				}
				if !idForm(normalize(m)) {
					continue
				}
				// A licence number of the identity form is checked as one.
				if CheckDocument(custos.DocDrivingLicence, m, now) == nil {
					t.Errorf("%s: licence %q accepted", id, m)
				}
				if idCheckChar(m[:17]) == normalize(m)[17] {
					t.Errorf("%s: MOD 11-2 misses %q", id, m)
				}
			}
		}
	}
	codes := []string{
		"91350100M000100Y43", "91310110666007217T", "91310115591693856A",
		"914403001922038216", "91440300708461136T",
	}
	for _, code := range codes {
		for i := range len(code) {
			for c := 0; c < 128; c++ {
				b := []byte(code)
				b[i] = byte(c)
				m := string(b)
				if normalize(m) == code {
					continue
				}
				if CheckUSCC(m) == nil {
					t.Errorf("%s: %q accepted", code, m)
				}
				if strings.IndexByte(usccAlphabet, byte(c)) >= 0 && usccCheckChar(m[:17]) == m[17] {
					t.Errorf("%s: MOD 31 misses %q", code, m)
				}
			}
		}
	}
}

// TestNormalize: spaces go, ASCII letters are upper-cased, and nothing
// else changes.
func TestNormalize(t *testing.T) {
	for _, v := range []struct{ in, want string }{
		{"", ""},
		{"  e1234\t5678\n", "E12345678"},
		{"11010519491231002x", "11010519491231002X"},
		{"h\u3000123", "H123"},
		{"ſı", "ſı"},
		{"Ｅ１", "Ｅ１"},
	} {
		for _, typ := range []custos.DocumentType{custos.DocCNIDCard, custos.DocPassport, custos.DocHMTPermit, "unknown"} {
			if got := Normalize(typ, v.in); got != v.want {
				t.Errorf("Normalize(%s, %q) = %q, want %q", typ, v.in, got, v.want)
			}
		}
		if got := NormalizeUSCC(v.in); got != v.want {
			t.Errorf("NormalizeUSCC(%q) = %q, want %q", v.in, got, v.want)
		}
	}
}

// TestLast4 shows the last four characters of the normalised number.
func TestLast4(t *testing.T) {
	for _, v := range []struct{ in, want string }{
		{"11010519491231002x", "002X"},
		{"1101 0519 4912 3100 2x ", "002X"},
		{"91350100M000100Y43", "0Y43"},
		{"abc", "ABC"},
		{"", ""},
		{"身份证号码一", "证号码一"},
	} {
		if got := Last4(v.in); got != v.want {
			t.Errorf("Last4(%q) = %q, want %q", v.in, got, v.want)
		}
	}
}

// TestBirthDate reads the date of valid numbers only.
func TestBirthDate(t *testing.T) {
	b, ok := BirthDate(" 11010519491231002x")
	if !ok || !b.Equal(time.Date(1949, 12, 31, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("BirthDate = %v, %v", b, ok)
	}
	// A date in the future is a date: the caller's clock decides.
	if b, ok := BirthDate("110105209912310010"); !ok || b.Year() != 2099 {
		t.Errorf("BirthDate(2099) = %v, %v", b, ok)
	}
	for _, id := range []string{"110105194912310021", "110105194902300020", "1101051949123100", "", "440524188001010014"} {
		if b, ok := BirthDate(id); ok || !b.IsZero() {
			t.Errorf("BirthDate(%q) = %v, %v; want zero, false", id, b, ok)
		}
	}
}
