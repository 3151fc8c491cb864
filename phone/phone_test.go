package phone_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/custos/custos"
	"github.com/custos/custos/httperr"
	"github.com/custos/custos/message"
	"github.com/custos/custos/phone"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		region  string
		want    string // E.164; empty means an error
		wantMsg string // part of the error message
	}{
		{name: "CN E.164", raw: "+8613800138000", want: "+8613800138000"},
		{name: "CN E.164 with region", raw: "+8613800138000", region: "CN", want: "+8613800138000"},
		{name: "CN E.164 with spaces", raw: "+86 138 0013 8000", want: "+8613800138000"},
		{name: "CN E.164 with dashes and padding", raw: "  +86-138-0013-8000\t", want: "+8613800138000"},
		{name: "CN national", raw: "13800138000", region: "CN", want: "+8613800138000"},
		{name: "CN national lower-case region", raw: "138 0013 8000", region: "cn", want: "+8613800138000"},
		{name: "CN national with dashes", raw: "138-0013-8000", region: "CN", want: "+8613800138000"},
		{name: "CN with 00 prefix", raw: "0086 138 0013 8000", region: "CN", want: "+8613800138000"},
		{name: "CN full-width", raw: "＋８６ １３８００１３８０００", want: "+8613800138000"},
		{name: "US E.164", raw: "+12015550123", want: "+12015550123"},
		{name: "US E.164 formatted", raw: "+1 (201) 555-0123", want: "+12015550123"},
		{name: "US national", raw: "(201) 555-0123", region: "US", want: "+12015550123"},
		{name: "US national with dots", raw: "201.555.0123", region: "US", want: "+12015550123"},
		{name: "US with 011 prefix to CN", raw: "011 86 138 0013 8000", region: "US", want: "+8613800138000"},
		{name: "+1 number with region CN", raw: "+1 201 555 0123", region: "CN", want: "+12015550123"},
		{name: "+86 number with region US", raw: "+86 138 0013 8000", region: "US", want: "+8613800138000"},

		{name: "empty", raw: "", wantMsg: "Enter a phone number"},
		{name: "blank", raw: "   ", region: "CN", wantMsg: "Enter a phone number"},
		{name: "national without region", raw: "13800138000", wantMsg: "international form"},
		{name: "00 prefix without region", raw: "0086 138 0013 8000", wantMsg: "international form"},
		{name: "CN one digit short", raw: "1380013800", region: "CN", wantMsg: "not a valid phone number in CN"},
		{name: "CN one digit long", raw: "+86 138001380001", wantMsg: "not a valid phone number"},
		{name: "US too short", raw: "+1 201 555 012", wantMsg: "not a valid phone number"},
		{name: "far too long", raw: "+86 " + strings.Repeat("1", 40), wantMsg: "too long"},
		{name: "US national with region CN reads as a CN landline", raw: "(201) 555-0123", region: "CN", wantMsg: "cannot receive text messages"},
		{name: "US national without area code", raw: "555-0123", region: "US", wantMsg: "not a valid phone number in US"},
		{name: "unknown country code", raw: "+999 1234 5678", wantMsg: "not a valid phone number"},
		{name: "letters", raw: "+86 138abc00138000", wantMsg: "only digits"},
		{name: "vanity letters", raw: "+1 800 FLOWERS", wantMsg: "only digits"},
		{name: "words", raw: "call me", region: "CN", wantMsg: "only digits"},
		{name: "extension", raw: "+1 201 555 0123 ext 7", wantMsg: "only digits"},
		{name: "extension with hash", raw: "+12015550123#7", wantMsg: "only digits"},
		{name: "plus in the middle", raw: "86+13800138000", region: "CN", wantMsg: "only digits"},
		{name: "two numbers", raw: "+8613800138000,+8613900139000", wantMsg: "only digits"},
		{name: "only separators", raw: "+ - ()", wantMsg: "only digits"},
		{name: "control character", raw: "+86138\x0000138000", wantMsg: "only digits"},
		{name: "invalid UTF-8", raw: "+86138\xff00138000", wantMsg: "only digits"},
		{name: "CN fixed line", raw: "+86 10 6552 9988", wantMsg: "cannot receive text messages"},
		{name: "CN fixed line national", raw: "010 6552 9988", region: "CN", wantMsg: "cannot receive text messages"},
		{name: "CN shared-cost 400 number", raw: "+86 400 810 8888", wantMsg: "cannot receive text messages"},
		{name: "US toll-free", raw: "+1 800 356 9377", wantMsg: "cannot receive text messages"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := phone.Normalize(tt.raw, tt.region)
			if tt.want != "" {
				if err != nil {
					t.Fatalf("Normalize(%q, %q): %v", tt.raw, tt.region, err)
				}
				if got != tt.want {
					t.Errorf("Normalize(%q, %q) = %q, want %q", tt.raw, tt.region, got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Normalize(%q, %q) = %q, want an error", tt.raw, tt.region, got)
			}
			var ce *custos.Error
			if !errors.As(err, &ce) || ce.Code != custos.EInvalidPhone {
				t.Fatalf("error %#v, want a *custos.Error with code %s", err, custos.EInvalidPhone)
			}
			if msg := message.For("en").Error(err); !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("message %q does not mention %q", msg, tt.wantMsg)
			}
			if httperr.Status(err) != 422 {
				t.Errorf("status %d, want 422", httperr.Status(err))
			}
			if got != "" {
				t.Errorf("returned %q with the error", got)
			}
			// People's numbers stay out of error messages, which get logged.
			if d := digitsOf(tt.raw); len(d) >= 4 && strings.Contains(err.Error(), d[len(d)-4:]) {
				t.Errorf("error %q repeats the input", err)
			}
		})
	}
}

func TestNormalizeUnknownRegionIsAConfigurationError(t *testing.T) {
	for _, region := range []string{"XX", "C", "CHN", "001", "ZZ"} {
		_, err := phone.Normalize("+8613800138000", region)
		if !custos.IsCode(err, custos.EInternal) {
			t.Errorf("Normalize with region %q = %v, want an %s error", region, err, custos.EInternal)
		}
	}
}

func TestValidRegion(t *testing.T) {
	tests := []struct {
		name   string
		region string
		want   bool
	}{
		{name: "CN", region: "CN", want: true},
		{name: "US", region: "US", want: true},
		{name: "GB", region: "GB", want: true},
		{name: "lower case", region: "cn", want: true},
		{name: "empty", region: ""},
		{name: "unknown", region: "XX"},
		{name: "unknown region code", region: "ZZ"},
		{name: "non-geographic", region: "001"},
		{name: "alpha-3", region: "CHN"},
		{name: "country code", region: "86"},
		{name: "padded", region: " CN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := phone.ValidRegion(tt.region); got != tt.want {
				t.Errorf("ValidRegion(%q) = %v, want %v", tt.region, got, tt.want)
			}
		})
	}
}

func TestMask(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "CN mobile", in: "+8613800138000", want: "+86 138****8000"},
		{name: "US", in: "+12015550123", want: "+1 201***0123"},
		{name: "GB mobile", in: "+447911123456", want: "+44 791***3456"},
		{name: "HK 8 digits", in: "+85251234567", want: "+852 5***4567"},
		{name: "7 national digits", in: "+3541234567", want: "+354 ***4567"},
		{name: "5 national digits", in: "+29012345", want: "+290 ***45"},
		{name: "not E.164 but digits", in: "138-0013-8000", want: "***8000"},
		{name: "short digits", in: "1234567", want: "***"},
		{name: "empty", in: "", want: "***"},
		{name: "garbage", in: "+abc", want: "***"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := phone.Mask(tt.in); got != tt.want {
				t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func digitsOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
