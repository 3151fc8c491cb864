package custos_test

import (
	"testing"

	"github.com/custos/custos"
)

func TestMaskEmail(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"long", "alice@example.com", "al***ce@ex***le.com"},
		{"subdomain", "bob.smith@mail.example.org", "bo***th@ma***le.org"},
		{"four", "abcd@x.io", "a***d@x***.io"},
		{"three", "abc@example.com", "a***c@ex***le.com"},
		{"two", "ab@qq.com", "a***@q***.com"},
		{"one", "a@example.com", "a***@ex***le.com"},
		{"no dot", "root@localhost", "r***t@lo***st"},
		{"unicode", "李小龙先生@例子.中国", "李小***先生@例***.中国"},
		{"no local", "@example.com", "***"},
		{"empty", "", "***"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := custos.MaskEmail(c.in); got != c.want {
				t.Errorf("MaskEmail(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

// TestMaskEmailTellsApart: the addresses of two accounts on one phone (the
// issue's a***@example.com twice) now look different.
func TestMaskEmailTellsApart(t *testing.T) {
	pairs := [][2]string{
		{"alice@example.com", "anna@example.com"},
		{"alice@example.com", "alice@example.org"},
		{"alice@example.com", "alice@exmail.com"},
		{"a.wang@example.com", "a.zhao@example.com"},
	}
	for _, p := range pairs {
		if custos.MaskEmail(p[0]) == custos.MaskEmail(p[1]) {
			t.Errorf("%s and %s both mask to %s", p[0], p[1], custos.MaskEmail(p[0]))
		}
	}
}
