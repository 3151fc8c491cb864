package main

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"
)

func TestConfigRefusals(t *testing.T) {
	dir := t.TempDir()
	const keys = "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantFlag string // the flag the error must name; "" means accepted
	}{
		{name: "defaults", args: nil},
		{name: "public bind without dev", args: []string{"--addr", "0.0.0.0:8080"}, wantFlag: "--public-url"},
		{name: "public bind, https, no delivery", args: []string{"--addr", "0.0.0.0:8080", "--public-url", "https://id.example.com"}, wantFlag: "--deliver"},
		{name: "public bind, dir delivery", args: []string{"--addr", "0.0.0.0:8080", "--public-url", "https://id.example.com", "--deliver", "dir:/tmp/x"}, wantFlag: "--deliver"},
		{name: "public bind, no keys", args: []string{"--addr", "0.0.0.0:8080", "--public-url", "https://id.example.com", "--deliver", "smtps://u:p@mail.example.com"}, wantFlag: "--keys"},
		{name: "public bind, all set", args: []string{"--addr", "0.0.0.0:8080", "--public-url", "https://id.example.com", "--deliver", "smtps://u:p@mail.example.com", "--keys", keys}},
		{name: "public bind with dev", args: []string{"--addr", "0.0.0.0:8080", "--dev"}},
		{name: "test captcha without dev", args: []string{"--captcha", "test"}, wantFlag: "--captcha"},
		{name: "test captcha with dev", args: []string{"--captcha", "test", "--dev"}},
		{name: "bad captcha", args: []string{"--captcha", "audio"}, wantFlag: "--captcha"},
		{name: "bad db", args: []string{"--db", "mysql://x"}, wantFlag: "--db"},
		{name: "bad argon2", args: []string{"--argon2", "1,2"}, wantFlag: "--argon2"},
		{name: "bad keys", args: []string{"--keys", "k1:short"}, wantFlag: "--keys"},
		{name: "bad addr", args: []string{"--addr", "nowhere"}, wantFlag: "--addr"},
		{name: "bad proxies", args: []string{"--trusted-proxies", "10.0.0.0/99"}, wantFlag: "--trusted-proxies"},
		{name: "bad idle", args: []string{"--session-idle", "10s"}, wantFlag: "--session-idle"},
		{name: "env variable", env: map[string]string{"CUSTOS_CAPTCHA": "test"}, wantFlag: "--captcha"},
		{name: "bad env duration", env: map[string]string{"CUSTOS_SESSION_IDLE": "soon"}, wantFlag: "--session-idle"},
		{name: "bad region", args: []string{"--default-region", "XX1"}, wantFlag: "--default-region"},
		{name: "region", args: []string{"--default-region", "CN"}},
		{name: "webhook without secret", args: []string{"--sms", "https://sms.example.com/hook"}, wantFlag: "--sms-secret"},
		{name: "webhook with secret", args: []string{"--sms", "https://sms.example.com/hook", "--sms-secret", "0123456789abcdef"}},
		{name: "bad phone limit", args: []string{"--max-accounts-per-phone", "0"}, wantFlag: "--max-accounts-per-phone"},
		{name: "flag beats env", args: []string{"--captcha", "image"}, env: map[string]string{"CUSTOS_CAPTCHA": "test"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o options
			fs := newFlagSet("custos", &o)
			fs.SetOutput(&bytes.Buffer{})
			args := append([]string{"--data-dir", dir}, tt.args...)
			err := parseFlags(fs, args, func(k string) string { return tt.env[k] })
			if err == nil {
				_, err = buildConfig(o, rand.Reader)
			}
			switch {
			case tt.wantFlag == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.wantFlag != "" && err == nil:
				t.Fatalf("accepted, want an error naming %s", tt.wantFlag)
			case tt.wantFlag != "" && !strings.Contains(err.Error(), tt.wantFlag):
				t.Fatalf("error %q does not name %s", err, tt.wantFlag)
			case err != nil && strings.Contains(err.Error(), "\n"):
				t.Fatalf("error is more than one line: %q", err)
			}
		})
	}
}
