package password

import (
	"crypto/rand"
	"testing"

	"github.com/custos/custos"
)

func TestCheckRules(t *testing.T) {
	r := custos.PasswordRules{MinLength: 12, Classes: 3}
	for _, c := range []struct {
		pw, reason string
	}{
		{"short-Pw1", ReasonTooShort},          // 9 < 12
		{"alllowercaseletters", ReasonClasses}, // one class
		{"lowerUPPERletters", ReasonClasses},   // two
		{"lowerUPPER1234", ""},
		{"password123", ReasonCommon}, // Check's rules first
		{"Containsdev0ps-user", ReasonContainsEmail},
	} {
		err := CheckRules(c.pw, "dev0ps-user", r)
		got := ""
		if e, ok := err.(*custos.Error); ok {
			got, _ = e.Fields["reason"].(string)
		} else if err != nil {
			t.Fatalf("%q: %v is not a *custos.Error", c.pw, err)
		}
		if got != c.reason {
			t.Errorf("CheckRules(%q) reason %q, want %q", c.pw, got, c.reason)
		}
	}
	if err := CheckRules("abcdefgh-ok-9", "x", custos.PasswordRules{}); err != nil {
		t.Errorf("no rules: %v", err)
	}
}

func TestGenerate(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		pw, err := Generate(rand.Reader, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(pw) != 20 || classes(pw) != 4 || seen[pw] {
			t.Fatalf("Generate gave %q", pw)
		}
		if err := CheckRules(pw, "someone", custos.PasswordRules{MinLength: 20, Classes: 4}); err != nil {
			t.Fatalf("a generated password breaks the strictest rules: %v", err)
		}
		seen[pw] = true
	}
}
