package phone_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/custos/custos"
	"github.com/custos/custos/phone"
)

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// FuzzNormalize checks that Normalize never panics, fails only with
// invalid_phone, and returns E.164 that normalizes to itself under any
// region and masks without showing the whole number.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"+8613800138000", "13800138000", "138-0013-8000", "0086 138 0013 8000", "+1 (201) 555-0123",
		"(201) 555-0123", "011 86 13800138000", "+86 10 6552 9988", "+1 800 FLOWERS", "",
		"＋８６ １３８００１３８０００", "+", "00", "+0", "+1 201 555 0123 ext 7", "\xff",
	} {
		f.Add(s, "CN")
		f.Add(s, "US")
		f.Add(s, "")
	}
	f.Fuzz(func(t *testing.T, raw, region string) {
		switch region {
		case "", "CN", "US", "GB", "DE":
		default:
			region = ""
		}
		got, err := phone.Normalize(raw, region)
		if err != nil {
			if !custos.IsCode(err, custos.EInvalidPhone) {
				t.Fatalf("Normalize(%q, %q): error %v is not %s", raw, region, err, custos.EInvalidPhone)
			}
			if got != "" {
				t.Fatalf("Normalize(%q, %q) = %q with an error", raw, region, got)
			}
			return
		}
		if !e164.MatchString(got) {
			t.Fatalf("Normalize(%q, %q) = %q, not E.164", raw, region, got)
		}
		for _, r := range []string{"", "CN", "US"} {
			again, err := phone.Normalize(got, r)
			if err != nil || again != got {
				t.Fatalf("Normalize(%q, %q) = %q, %v; want it unchanged", got, r, again, err)
			}
		}
		m := phone.Mask(got)
		if !strings.HasPrefix(m, "+") || strings.Count(m, "*") < 3 || strings.Contains(m, got[1:]) {
			t.Fatalf("Mask(%q) = %q", got, m)
		}
	})
}
