package notify_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos/custos/notify"
)

func TestParseDeliver(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "outbox")
	const secret = "s3cr3t"
	tests := []struct {
		name     string
		spec     string
		wantType string // %T of the transport
		wantStr  string // String() of an SMTP transport
		wantErr  string // part of the error
	}{
		{name: "log", spec: "log", wantType: "*notify.Log"},
		{name: "dir", spec: "dir:" + dir, wantType: "*notify.Dir"},
		{name: "smtp with auth", spec: "smtp://user:" + secret + "@mail.example.com", wantType: "*notify.SMTP",
			wantStr: "smtp://user@mail.example.com:587"},
		{name: "smtp with port", spec: "smtp://mail.example.com:2525", wantType: "*notify.SMTP",
			wantStr: "smtp://mail.example.com:2525"},
		{name: "smtp with trailing slash", spec: "smtp://mail.example.com/", wantType: "*notify.SMTP",
			wantStr: "smtp://mail.example.com:587"},
		{name: "smtps default port", spec: "smtps://user:" + secret + "@mail.example.com", wantType: "*notify.SMTP",
			wantStr: "smtps://user@mail.example.com:465"},
		{name: "percent-encoded password", spec: "smtp://user:p%40ss%2Fw%23rd@mail.example.com", wantType: "*notify.SMTP",
			wantStr: "smtp://user@mail.example.com:587"},
		{name: "starttls off on 127.0.0.1", spec: "smtp://127.0.0.1:25?starttls=off", wantType: "*notify.SMTP",
			wantStr: "smtp://127.0.0.1:25?starttls=off"},
		{name: "starttls off on 127.1.2.3", spec: "smtp://127.1.2.3:25?starttls=off", wantType: "*notify.SMTP",
			wantStr: "smtp://127.1.2.3:25?starttls=off"},
		{name: "starttls off on localhost", spec: "smtp://localhost:25?starttls=off", wantType: "*notify.SMTP",
			wantStr: "smtp://localhost:25?starttls=off"},
		{name: "starttls off on ::1", spec: "smtp://[::1]:25?starttls=off", wantType: "*notify.SMTP",
			wantStr: "smtp://[::1]:25?starttls=off"},

		{name: "empty", spec: "", wantErr: "empty"},
		{name: "unknown word", spec: "LOG", wantErr: "unknown --deliver value"},
		{name: "unknown scheme", spec: "smpt://user:" + secret + "@mail.example.com", wantErr: `scheme "smpt"`},
		{name: "ftp", spec: "ftp://user:" + secret + "@mail.example.com", wantErr: `scheme "ftp"`},
		{name: "no scheme", spec: "user:" + secret + "@mail.example.com", wantErr: "unknown --deliver value"},
		{name: "dir without path", spec: "dir:", wantErr: "needs a path"},
		{name: "starttls off on a remote host", spec: "smtp://user:" + secret + "@mail.example.com?starttls=off", wantErr: "loopback"},
		{name: "starttls off on a private address", spec: "smtp://10.0.0.1:25?starttls=off", wantErr: "loopback"},
		{name: "starttls off on a name that merely starts with localhost", spec: "smtp://localhost.example.com?starttls=off", wantErr: "loopback"},
		{name: "starttls on smtps", spec: "smtps://127.0.0.1?starttls=off", wantErr: "smtps:// is always TLS"},
		{name: "starttls other value", spec: "smtp://mail.example.com?starttls=on", wantErr: "only the value off"},
		{name: "starttls twice", spec: "smtp://127.0.0.1?starttls=off&starttls=off", wantErr: "only the value off"},
		{name: "unknown parameter", spec: "smtp://mail.example.com?from=x", wantErr: `unknown parameter "from"`},
		{name: "bad port", spec: "smtp://user:" + secret + "@mail.example.com:99999", wantErr: "port"},
		{name: "no host", spec: "smtp://", wantErr: "no host"},
		{name: "no host but path", spec: "smtp:///var/spool", wantErr: "no host"},
		{name: "only user info", spec: "smtp://user:" + secret + "@", wantErr: "no host"},
		{name: "user without password", spec: "smtp://user@mail.example.com", wantErr: "both a user name and a password"},
		{name: "password without user", spec: "smtp://:" + secret + "@mail.example.com", wantErr: "both a user name and a password"},
		{name: "unencoded slash in password", spec: "smtp://user:" + secret + "/x@mail.example.com", wantErr: "malformed"},
		{name: "unencoded hash in password", spec: "smtp://user:" + secret + "#x@mail.example.com", wantErr: "malformed"},
		{name: "fragment", spec: "smtp://user:" + secret + "@mail.example.com#x", wantErr: "%23"},
		{name: "unencoded question mark in password", spec: "smtp://user:" + secret + "?x@mail.example.com", wantErr: "malformed"},
		{name: "path", spec: "smtp://mail.example.com/relay", wantErr: "path"},
		{name: "control character", spec: "smtp://user:" + secret + "\n@mail.example.com", wantErr: "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := notify.ParseDeliver(tt.spec, nil)
			if tt.wantType == "" {
				if err == nil {
					t.Fatalf("ParseDeliver(%q) = %T, want an error", tt.spec, tr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q does not mention %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q echoes the password", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseDeliver(%q): %v", tt.spec, err)
			}
			if got := fmt.Sprintf("%T", tr); got != tt.wantType {
				t.Fatalf("type %s, want %s", got, tt.wantType)
			}
			if tt.wantStr != "" {
				if got := fmt.Sprint(tr); got != tt.wantStr {
					t.Errorf("String() = %q, want %q", got, tt.wantStr)
				}
			}
		})
	}
	info, err := os.Stat(dir)
	if err != nil {
		t.Fatalf("dir: did not create the directory: %v", err)
	}
	if perm := info.Mode().Perm(); perm != 0o700 {
		t.Errorf("outbox directory mode %v, want 0700", perm)
	}
}

func TestParseSMS(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sms-outbox")
	secret := []byte("webhook-secret-0123456789")
	const token = "gw-token-5f3a9c"
	tests := []struct {
		name     string
		spec     string
		secret   []byte // nil: the good secret
		wantType string // %T of the transport
		wantStr  string // String() of a webhook
		wantErr  string // part of the error
	}{
		{name: "log", spec: "log", wantType: "*notify.Log"},
		{name: "dir", spec: "dir:" + dir, wantType: "*notify.Dir"},
		{name: "https", spec: "https://sms.example.com/v1/send?token=" + token, wantType: "*notify.Webhook",
			wantStr: "https://sms.example.com"},
		{name: "https with user info", spec: "https://custos:" + token + "@sms.example.com:8443/send", wantType: "*notify.Webhook",
			wantStr: "https://sms.example.com:8443"},
		{name: "http on loopback", spec: "http://127.0.0.1:9000/sms", wantType: "*notify.Webhook",
			wantStr: "http://127.0.0.1:9000"},
		{name: "http on localhost", spec: "http://localhost/sms", wantType: "*notify.Webhook",
			wantStr: "http://localhost"},
		{name: "log needs no secret", spec: "log", secret: []byte{}, wantType: "*notify.Log"},

		{name: "empty", spec: "", wantErr: "empty"},
		{name: "http on a remote host", spec: "http://sms.example.com/send?token=" + token, wantErr: "loopback"},
		{name: "https without secret", spec: "https://sms.example.com/send?token=" + token, secret: []byte{},
			wantErr: "signing secret"},
		{name: "https with a short secret", spec: "https://sms.example.com/send", secret: []byte("0123456789abcde"),
			wantErr: "at least 16 bytes"},
		{name: "https without host", spec: "https://?token=" + token, wantErr: "no host"},
		{name: "smtp is for email", spec: "smtp://mail.example.com", wantErr: `scheme "smtp"`},
		{name: "unknown scheme", spec: "sms://" + token + "@gateway", wantErr: `scheme "sms"`},
		{name: "unknown word", spec: "webhook", wantErr: "unknown --sms value"},
		{name: "no scheme", spec: "sms.example.com/send?token=" + token, wantErr: "unknown --sms value"},
		{name: "dir without path", spec: "dir:", wantErr: "needs a path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.secret
			if s == nil {
				s = secret
			}
			tr, err := notify.ParseSMS(tt.spec, s, nil)
			if tt.wantType == "" {
				if err == nil {
					t.Fatalf("ParseSMS(%q) = %T, want an error", tt.spec, tr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q does not mention %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), token) {
					t.Errorf("error %q echoes the token", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSMS(%q): %v", tt.spec, err)
			}
			if got := fmt.Sprintf("%T", tr); got != tt.wantType {
				t.Fatalf("type %s, want %s", got, tt.wantType)
			}
			if tt.wantStr != "" {
				if got := fmt.Sprint(tr); got != tt.wantStr {
					t.Errorf("String() = %q, want %q", got, tt.wantStr)
				}
			}
		})
	}
	if _, err := os.Stat(dir); err != nil {
		t.Errorf("dir: did not create the directory: %v", err)
	}
}
