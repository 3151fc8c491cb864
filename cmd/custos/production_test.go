package main_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBinaryProduction starts the real binary the ways an operator might
// and checks codes never reach the dir: outbox or /dev/outbox outside a
// --dev run on this machine, and that an https public URL brings HSTS
// although TLS ends at the proxy in front.
func TestBinaryProduction(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	const (
		keys    = "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
		proxied = "https://account.example.com" // loopback behind a TLS proxy, as OPERATING.md shows
		hsts    = "max-age=31536000; includeSubDomains"
	)

	refusals := []struct {
		name     string
		args     []string
		wantFlag string
		wantAlso string // more the one line must say
	}{
		{name: "behind a TLS proxy without --deliver", args: []string{"--public-url", proxied}, wantFlag: "--deliver"},
		{name: "behind a TLS proxy with a dir: outbox", args: []string{"--public-url", proxied, "--deliver", "dir:" + t.TempDir()}, wantFlag: "--deliver"},
		{name: "behind a TLS proxy with log delivery", args: []string{"--public-url", proxied, "--deliver", "log"}, wantFlag: "--deliver"},
		{name: "behind a TLS proxy with SMS to the outbox", args: []string{"--public-url", proxied, "--deliver", "smtps://u:p@mail.example.com", "--sms", "dir:" + t.TempDir()}, wantFlag: "--sms"},
		{name: "behind a TLS proxy with SMS to the log", args: []string{"--public-url", proxied, "--deliver", "smtps://u:p@mail.example.com", "--sms", "log"}, wantFlag: "--sms"},
		{name: "dev behind a TLS proxy", args: []string{"--dev", "--public-url", proxied}, wantFlag: "--dev"},
		{name: "dev beyond loopback", args: []string{"--dev", "--addr", "0.0.0.0:0"}, wantFlag: "--dev"},
		{name: "explicit dir: outbox without dev", args: []string{"--deliver", "dir:" + t.TempDir()}, wantFlag: "--deliver"},
	}
	for _, tt := range refusals {
		t.Run("refuses: "+tt.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			// Port 0: a server that wrongly starts binds nothing in use.
			args := append([]string{"--addr", "127.0.0.1:0", "--data-dir", data}, tt.args...)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var stderr bytes.Buffer
			cmd := exec.CommandContext(ctx, bin, args...)
			cmd.Stderr = &stderr
			err := cmd.Run()
			if ctx.Err() != nil {
				t.Fatalf("custos started and ran; want a refusal naming %s:\n%s", tt.wantFlag, stderr.String())
			}
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 2 {
				t.Fatalf("err = %v, want exit status 2:\n%s", err, stderr.String())
			}
			line := strings.TrimSpace(stderr.String())
			if !strings.Contains(line, tt.wantFlag) || !strings.Contains(line, tt.wantAlso) || strings.Contains(line, "\n") {
				t.Fatalf("stderr = %q, want one line naming %s %s", line, tt.wantFlag, tt.wantAlso)
			}
			if _, err := os.Stat(filepath.Join(data, "outbox")); err == nil {
				t.Fatalf("a refused start made an outbox")
			}
		})
	}

	t.Run("behind a TLS proxy: no outbox, HSTS", func(t *testing.T) {
		data := filepath.Join(t.TempDir(), "data")
		// Nothing listens on port 1: mail fails, which is all this needs.
		base, stop := startBinary(t, bin, "--data-dir", data, "--argon2", "64,1,1", "--public-url", proxied,
			"--deliver", "smtp://127.0.0.1:1?starttls=off", "--keys", keys)
		defer stop()
		req, _ := http.NewRequest("POST", base+"/api/v1/signup", strings.NewReader(
			`{"email":"kim@example.com","password":"correct horse battery staple","kind":"personal"}`))
		req.Header.Set("Content-Type", "application/json")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
		for _, path := range []string{"/healthz", "/login", "/dev/outbox", "/no-such-page"} {
			resp, err := http.Get(base + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.Header.Get("Strict-Transport-Security"); got != hsts {
				t.Errorf("GET %s: Strict-Transport-Security = %q, want %q", path, got, hsts)
			}
			if path == "/dev/outbox" && resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET /dev/outbox = %d, want 404", resp.StatusCode)
			}
		}
		if _, err := os.Stat(filepath.Join(data, "outbox")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("an outbox folder exists (%v): codes are on disk", err)
		}
	})

	t.Run("dev on this machine: outbox, no HSTS", func(t *testing.T) {
		base, stop := startBinary(t, bin, "--dev", "--data-dir", filepath.Join(t.TempDir(), "data"), "--argon2", "64,1,1")
		defer stop()
		resp, err := http.Get(base + "/dev/outbox")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET /dev/outbox = %d, want 200", resp.StatusCode)
		}
		if got := resp.Header.Get("Strict-Transport-Security"); got != "" {
			t.Errorf("plain http public URL sent Strict-Transport-Security %q", got)
		}
	})

	// The README's bare `go run ./cmd/custos`: a try-out on this machine,
	// as with --dev — and its outbox shows nothing to a request a proxy
	// forwarded.
	t.Run("a bare start: a try-out on this machine", func(t *testing.T) {
		base, stop := startBinary(t, bin, "--data-dir", filepath.Join(t.TempDir(), "data"), "--argon2", "64,1,1")
		defer stop()
		get := func(forwarded bool) int {
			req, err := http.NewRequest("GET", base+"/dev/outbox", nil)
			if err != nil {
				t.Fatal(err)
			}
			if forwarded {
				req.Header.Set("X-Forwarded-For", "203.0.113.9")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if s := get(false); s != http.StatusOK {
			t.Errorf("GET /dev/outbox on a bare start = %d, want 200", s)
		}
		if s := get(true); s != http.StatusNotFound {
			t.Errorf("GET /dev/outbox forwarded by a proxy = %d, want 404", s)
		}
	})
}
