package custos_test

import (
	"strings"
	"testing"

	"github.com/custos/custos"
)

func TestValidEmail(t *testing.T) {
	for _, tt := range []struct {
		name, raw, want string
	}{
		{"plain", "ada@example.com", "ada@example.com"},
		{"normalised", "  Ada@Example.COM ", "ada@example.com"},
		{"subdomain", "a.b+tag@mail.example.co.uk", "a.b+tag@mail.example.co.uk"},
		{"header injection", "x\r\nbcc@example.com", ""},
		{"line feed", "x@example.com\nBcc: y@example.com", ""},
		{"NUL", "ada\x00@example.com", ""},
		{"empty label", "z@.com", ""},
		{"trailing dot", "z@example.com.", ""},
		{"double dot", "z@example..com", ""},
		{"no dot", "z@localhost", ""},
		{"no local part", "@example.com", ""},
		{"display name", "Ada <ada@example.com>", ""},
		{"two ats", "a@b@example.com", ""},
		{"invalid UTF-8", "ad\xffa@example.com", ""},
		{"too long", strings.Repeat("a", 250) + "@example.com", ""},
		{"long local part", strings.Repeat("a", 65) + "@example.com", ""},
		{"hyphen label", "a@-example.com", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := custos.ValidEmail(tt.raw)
			if tt.want == "" {
				if err == nil || !custos.IsCode(err, custos.EInvalidEmail) {
					t.Fatalf("ValidEmail(%q) = %q, %v; want invalid_email", tt.raw, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ValidEmail(%q) = %q, %v; want %q", tt.raw, got, err, tt.want)
			}
		})
	}
}

func FuzzValidEmail(f *testing.F) {
	for _, s := range []string{"ada@example.com", "x\r\nbcc@example.com", "z@.com", "a@b.c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := custos.ValidEmail(raw)
		if err != nil {
			return
		}
		again, err := custos.ValidEmail(got)
		if err != nil || again != got {
			t.Fatalf("a valid address does not stay valid: %q → %q → %q, %v", raw, got, again, err)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("%q passed with a control character", got)
			}
		}
	})
}
