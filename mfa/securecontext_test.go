package mfa_test

import (
	"net/url"
	"testing"

	"github.com/custos/custos/mfa"
)

func TestSecureContext(t *testing.T) {
	for _, c := range []struct {
		url  string
		want bool
	}{
		{"https://id.example.com", true},
		{"http://localhost:8080", true},
		{"http://id.localhost", true},
		{"http://id.example.com", false},
		{"http://192.0.2.1:8080", false},
	} {
		u, err := url.Parse(c.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := mfa.SecureContext(u); got != c.want {
			t.Errorf("SecureContext(%s) = %v, want %v", c.url, got, c.want)
		}
	}
}
