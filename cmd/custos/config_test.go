package main

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/custos/custos/app"
)

func TestConfigRefusals(t *testing.T) {
	dir := t.TempDir()
	const (
		keys    = "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
		smtps   = "smtps://u:p@mail.example.com"
		secret  = "0123456789abcdef"
		proxied = "https://account.example.com" // the documented layout: loopback behind a TLS proxy
	)
	tests := []struct {
		name     string
		cmd      string // serve unless set
		args     []string
		env      map[string]string
		wantFlag string // the flag the error must name; "" means accepted
	}{
		{name: "no flags: a try-out on this machine, as with --dev", args: nil},
		{name: "no flags but a public URL: production", args: []string{"--public-url", "http://127.0.0.1:8080"}, wantFlag: "--deliver"},
		{name: "dev defaults", args: []string{"--dev"}},
		{name: "dev on localhost", args: []string{"--dev", "--addr", "localhost:8080", "--public-url", "http://localhost:8080"}},
		{name: "dev on ::1", args: []string{"--dev", "--addr", "[::1]:8080"}},
		{name: "dev with an explicit outbox", args: []string{"--dev", "--deliver", "dir:" + dir + "/o", "--sms", "log"}},
		{name: "dev with smtp", args: []string{"--dev", "--deliver", "smtp://127.0.0.1:2525?starttls=off"}},
		{name: "public bind with dev", args: []string{"--addr", "0.0.0.0:8080", "--dev"}, wantFlag: "--dev"},
		{name: "public bind with dev and https", args: []string{"--addr", ":8080", "--dev", "--public-url", "https://id.example.com", "--deliver", smtps, "--keys", keys}, wantFlag: "--dev"},
		{name: "dev behind a TLS proxy", args: []string{"--dev", "--public-url", proxied}, wantFlag: "--dev"},
		{name: "dev behind a TLS proxy with smtp", args: []string{"--dev", "--public-url", proxied, "--deliver", smtps}, wantFlag: "--dev"},
		{name: "dev behind a plain proxy", args: []string{"--dev", "--public-url", "http://account.example.com"}, wantFlag: "--dev"},
		{name: "dev on https localhost", args: []string{"--dev", "--public-url", "https://localhost:8443"}, wantFlag: "--dev"},
		{name: "proxy layout, no delivery", args: []string{"--public-url", proxied}, wantFlag: "--deliver"},
		{name: "proxy layout, dir delivery", args: []string{"--public-url", proxied, "--deliver", "dir:" + dir + "/o"}, wantFlag: "--deliver"},
		{name: "proxy layout, log delivery", args: []string{"--public-url", proxied, "--deliver", "log"}, wantFlag: "--deliver"},
		{name: "proxy layout, smtps", args: []string{"--public-url", proxied, "--deliver", smtps}},
		{name: "proxy layout, smtp to a local relay", args: []string{"--public-url", proxied, "--deliver", "smtp://127.0.0.1:25?starttls=off"}},
		{name: "proxy layout, sms dir", args: []string{"--public-url", proxied, "--deliver", smtps, "--sms", "dir:" + dir + "/o"}, wantFlag: "--sms"},
		{name: "proxy layout, sms log", args: []string{"--public-url", proxied, "--deliver", smtps, "--sms", "log"}, wantFlag: "--sms"},
		{name: "proxy layout, http sms webhook", args: []string{"--public-url", proxied, "--deliver", smtps, "--sms", "http://127.0.0.1:9000/hook", "--sms-secret", secret}, wantFlag: "--sms"},
		{name: "proxy layout, https sms webhook", args: []string{"--public-url", proxied, "--deliver", smtps, "--sms", "https://sms.example.com/hook", "--sms-secret", secret}},
		{name: "proxy layout from the environment", env: map[string]string{"CUSTOS_PUBLIC_URL": proxied, "CUSTOS_DELIVER": "dir:" + dir + "/o"}, wantFlag: "--deliver"},
		{name: "loopback http, dir without dev", args: []string{"--deliver", "dir:" + dir + "/o"}, wantFlag: "--deliver"},
		{name: "loopback http, log without dev", args: []string{"--deliver", "log"}, wantFlag: "--deliver"},
		{name: "loopback http, smtp", args: []string{"--deliver", smtps}},
		{name: "loopback http, sms dir without dev", args: []string{"--deliver", smtps, "--sms", "dir:" + dir + "/o"}, wantFlag: "--sms"},
		{name: "loopback http, sms log without dev", args: []string{"--deliver", smtps, "--sms", "log"}, wantFlag: "--sms"},
		{name: "metrics on a port of their own", args: []string{"--dev", "--metrics-addr", "127.0.0.1:9090"}},
		{name: "metrics on --addr's own address", args: []string{"--dev", "--metrics-addr", "127.0.0.1:8080"}, wantFlag: "--metrics-addr"},
		{name: "metrics address without a port", args: []string{"--dev", "--metrics-addr", "127.0.0.1"}, wantFlag: "--metrics-addr"},
		{name: "metrics trusted from a network", args: []string{"--dev", "--metrics-trusted", "10.0.0.0/8, 192.0.2.7"}},
		{name: "metrics trusted, not a prefix", args: []string{"--dev", "--metrics-trusted", "10.0.0.0/33"}, wantFlag: "--metrics-trusted"},
		{name: "migrate needs no delivery", cmd: "migrate"},
		{name: "admin needs no delivery", cmd: "admin"},
		{name: "admin refuses an outbox without dev", cmd: "admin", args: []string{"--deliver", "dir:" + dir + "/o"}, wantFlag: "--deliver"},
		{name: "admin with dev", cmd: "admin", args: []string{"--dev"}},
		{name: "public bind without dev", args: []string{"--addr", "0.0.0.0:8080"}, wantFlag: "--public-url"},
		{name: "public bind, https, no delivery", args: []string{"--addr", "0.0.0.0:8080", "--public-url", "https://id.example.com"}, wantFlag: "--deliver"},
		{name: "public bind, dir delivery", args: []string{"--addr", "0.0.0.0:8080", "--public-url", "https://id.example.com", "--deliver", "dir:/tmp/x"}, wantFlag: "--deliver"},
		{name: "public bind, no keys", args: []string{"--addr", "0.0.0.0:8080", "--public-url", "https://id.example.com", "--deliver", smtps}, wantFlag: "--keys"},
		{name: "public bind, all set", args: []string{"--addr", "0.0.0.0:8080", "--public-url", "https://id.example.com", "--deliver", smtps, "--keys", keys}},
		{name: "test captcha without dev", args: []string{"--captcha", "test", "--deliver", smtps}, wantFlag: "--captcha"},
		{name: "test captcha with dev", args: []string{"--captcha", "test", "--dev"}},
		{name: "bad captcha", args: []string{"--captcha", "audio", "--dev"}, wantFlag: "--captcha"},
		{name: "bad db", args: []string{"--db", "mysql://x"}, wantFlag: "--db"},
		{name: "bad argon2", args: []string{"--argon2", "1,2", "--dev"}, wantFlag: "--argon2"},
		{name: "bad keys", args: []string{"--keys", "k1:short", "--dev"}, wantFlag: "--keys"},
		{name: "bad addr", args: []string{"--addr", "nowhere"}, wantFlag: "--addr"},
		{name: "auto identity verifier without dev", args: []string{"--identity-verifier", "auto", "--deliver", smtps}, wantFlag: "--identity-verifier"},
		{name: "auto identity verifier, proxy layout", args: []string{"--identity-verifier", "auto", "--public-url", proxied, "--deliver", smtps}, wantFlag: "--identity-verifier"},
		{name: "auto identity verifier with dev", args: []string{"--identity-verifier", "auto", "--dev"}},
		{name: "unknown identity verifier", args: []string{"--identity-verifier", "ocr", "--dev"}, wantFlag: "--identity-verifier"},
		{name: "zero identity cap", args: []string{"--identity-max-personal", "0", "--dev"}, wantFlag: "--identity-max-personal"},
		{name: "files kept under a day", args: []string{"--identity-keep-files", "1h", "--dev"}, wantFlag: "--identity-keep-files"},
		{name: "no ticket waiting period", args: []string{"--ticket-unbind-wait", "0s", "--dev"}, wantFlag: "--ticket-unbind-wait"},
		{name: "no ticket approvals", args: []string{"--ticket-unbind-approvals", "0", "--dev"}, wantFlag: "--ticket-unbind-approvals"},
		{name: "huge uploads", args: []string{"--upload-max-file-mb", "500", "--dev"}, wantFlag: "--upload-max-file-mb"},
		{name: "bad proxies", args: []string{"--trusted-proxies", "10.0.0.0/99", "--dev"}, wantFlag: "--trusted-proxies"},
		{name: "bad return hosts", args: []string{"--return-hosts", "https://app.example.com/", "--dev"}, wantFlag: "--return-hosts"},
		{name: "return hosts", args: []string{"--return-hosts", "app.example.com, app.example.com:8443", "--dev"}},
		{name: "bad idle", args: []string{"--session-idle", "10s", "--dev"}, wantFlag: "--session-idle"},
		{name: "env variable", args: []string{"--deliver", smtps}, env: map[string]string{"CUSTOS_CAPTCHA": "test"}, wantFlag: "--captcha"},
		{name: "bad env duration", env: map[string]string{"CUSTOS_SESSION_IDLE": "soon"}, wantFlag: "--session-idle"},
		{name: "bad region", args: []string{"--default-region", "XX1", "--dev"}, wantFlag: "--default-region"},
		{name: "region", args: []string{"--default-region", "CN", "--dev"}},
		{name: "webhook without secret", args: []string{"--dev", "--sms", "https://sms.example.com/hook"}, wantFlag: "--sms-secret"},
		{name: "webhook with secret", args: []string{"--deliver", smtps, "--sms", "https://sms.example.com/hook", "--sms-secret", secret}},
		{name: "bad phone limit", args: []string{"--max-accounts-per-phone", "0", "--dev"}, wantFlag: "--max-accounts-per-phone"},
		{name: "flag beats env", args: []string{"--captcha", "image", "--deliver", smtps}, env: map[string]string{"CUSTOS_CAPTCHA": "test"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o options
			fs := newFlagSet("custos", &o)
			fs.SetOutput(&bytes.Buffer{})
			args := append([]string{"--data-dir", dir}, tt.args...)
			err := parseFlags(fs, args, func(k string) string { return tt.env[k] })
			cmd := tt.cmd
			if cmd == "" {
				cmd = "serve"
			}
			var c app.Config
			if err == nil {
				c, err = buildConfig(o, cmd, rand.Reader)
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
			case err != nil:
				return
			}
			// Whatever was accepted: codes reach no outbox without --dev,
			// --dev stays on this machine, a server delivers for real.
			outbox := strings.HasPrefix(c.Deliver, "dir:") || strings.HasPrefix(c.SMS, "dir:")
			if outbox && !c.Dev {
				t.Errorf("dir: outbox without --dev: deliver %q, sms %q", c.Deliver, c.SMS)
			}
			if c.Dev && (c.PublicURL.Scheme != "http" || !loopback(o.addr)) {
				t.Errorf("--dev accepted with --addr %s and public URL %s", o.addr, c.PublicURL)
			}
			if cmd == "serve" && !c.Dev && !realMail(c.Deliver) {
				t.Errorf("server accepted without --dev and with --deliver %q", c.Deliver)
			}
			if c.PublicURL.Scheme == "https" && c.SMS != "" && !strings.HasPrefix(c.SMS, "https://") {
				t.Errorf("https public URL accepted with --sms %q", c.SMS)
			}
		})
	}
}
