package idcheck

import (
	"testing"
	"time"

	"github.com/custos/custos"
)

// documentKeys are the keys CheckDocument may fail with.
var documentKeys = map[string]bool{
	"idcheck.document_type": true, "idcheck.length": true, "idcheck.characters": true,
	"idcheck.format": true, "idcheck.region": true, "idcheck.birth_date": true, "idcheck.checksum": true,
}

// usccKeys are the keys CheckUSCC may fail with.
var usccKeys = map[string]bool{
	"idcheck.uscc_length": true, "idcheck.uscc_characters": true, "idcheck.uscc_type": true,
	"idcheck.uscc_region": true, "idcheck.uscc_checksum": true,
}

// FuzzCheckDocument checks that CheckDocument never panics, fails only
// with invalid_document_number and a known key, gives the same answer
// twice and for the normalised number, and that a valid identity number
// has a birth date.
func FuzzCheckDocument(f *testing.F) {
	types := []custos.DocumentType{custos.DocCNIDCard, custos.DocPassport, custos.DocDrivingLicence, custos.DocHMTPermit, "other"}
	for _, s := range []string{
		"11010519491231002X", "11010519491231002x", "440524188001010014", "110105194912310021",
		"110105194902300020", "110105209912310010", "1101051949123100", "110105491231002",
		"E12345678", "H12345678", "CE1234567", "12345678", " h 1234 5678 ", "", "\xff", "ſ1234567",
		"１10105194912310021", "11010520000229001X",
	} {
		for i := range types {
			f.Add(uint8(i), s, int64(1772366400))
		}
	}
	f.Fuzz(func(t *testing.T, typ uint8, number string, unix int64) {
		dt := types[int(typ)%len(types)]
		// Some time from 1800 to about 2200.
		const span = 400 * 365 * 86400
		u := unix % span
		if u < 0 {
			u += span
		}
		at := time.Unix(-5364662400+u, 0)
		e := CheckDocument(dt, number, at)
		if e != nil && (e.Code != custos.EInvalidDocumentNumber || !documentKeys[e.Key]) {
			t.Fatalf("CheckDocument(%s, %q) = %v", dt, number, e)
		}
		if again := CheckDocument(dt, number, at); keyOf(again) != keyOf(e) {
			t.Fatalf("CheckDocument(%s, %q): %q then %q", dt, number, keyOf(e), keyOf(again))
		}
		n := Normalize(dt, number)
		if Normalize(dt, n) != n {
			t.Fatalf("Normalize(%q) = %q, which normalises to %q", number, n, Normalize(dt, n))
		}
		if keyOf(CheckDocument(dt, n, at)) != keyOf(e) {
			t.Fatalf("CheckDocument(%s, %q) differs from that of its normal form %q", dt, number, n)
		}
		_ = Last4(number)
		if e == nil && dt == custos.DocCNIDCard {
			b, ok := BirthDate(number)
			if !ok || b.After(at.Add(38*time.Hour)) || b.Year() < 1900 {
				t.Fatalf("%q is valid at %v but BirthDate = %v, %v", number, at, b, ok)
			}
		}
	})
}

// FuzzCheckUSCC checks that CheckUSCC never panics, fails only with
// invalid_document_number and a known key, gives the same answer twice,
// and accepts only 18 characters of the alphabet.
func FuzzCheckUSCC(f *testing.F) {
	for _, s := range []string{
		"91350100M000100Y43", "91350100M000100Y4Z", "91310110666007217T", "91310115591693856A",
		"914403001922038216", "91440300708461136T", "91350211M00013FA1N", "91350100M0001TGQXM",
		"91350211M0000XUF46", "91350203M0001FUE2P", "91350100m000100y43", "", "\xff", "Ｍ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code string) {
		e := CheckUSCC(code)
		if e != nil && (e.Code != custos.EInvalidDocumentNumber || !usccKeys[e.Key]) {
			t.Fatalf("CheckUSCC(%q) = %v", code, e)
		}
		if again := CheckUSCC(code); keyOf(again) != keyOf(e) {
			t.Fatalf("CheckUSCC(%q): %q then %q", code, keyOf(e), keyOf(again))
		}
		n := NormalizeUSCC(code)
		if NormalizeUSCC(n) != n || keyOf(CheckUSCC(n)) != keyOf(e) {
			t.Fatalf("CheckUSCC(%q) differs from that of its normal form %q", code, n)
		}
		if e == nil {
			if len(n) != 18 {
				t.Fatalf("%q accepted with normal form %q", code, n)
			}
			for i := range len(n) {
				if !isUSCCChar(n[i]) {
					t.Fatalf("%q accepted with %q in it", code, n[i])
				}
			}
		}
	})
}

func isUSCCChar(c byte) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'Y' && c != 'I' && c != 'O' && c != 'S' && c != 'V'
}
