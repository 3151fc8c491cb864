package notify_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"

	"github.com/custos/custos"
)

// renderOne sends m through a notifier and returns what it delivered.
func renderOne(t *testing.T, m custos.Message) (subject, text string) {
	t.Helper()
	rec := &recorder{}
	if err := newNotifier(t, rec, newFakeClock()).Send(t.Context(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := rec.messages()
	if len(got) != 1 {
		t.Fatalf("delivered %d messages, want 1", len(got))
	}
	return got[0].Subject, got[0].Text
}

// TestLockNoticeAdvisesProtectionOnlyWhenOff: the lock email suggests
// turning on login protection only to an account that has it off.
func TestLockNoticeAdvisesProtectionOnlyWhenOff(t *testing.T) {
	const advice = "Consider turning on login protection"
	for _, c := range []struct {
		name, on string
		advise   bool
	}{{"off", "off", true}, {"on", "on", false}, {"queued before the field", "", true}} {
		t.Run(c.name, func(t *testing.T) {
			data := map[string]string{"Failures": "10", "LockedAt": "2026-11-27 09:00 UTC", "LockedUntil": "2026-11-28 08:00 UTC"}
			if c.on != "" {
				data["LoginProtection"] = c.on
			}
			_, text := renderOne(t, custos.Message{Channel: custos.ChannelEmail, To: "alice@example.com", Purpose: custos.MsgAccountLocked, Data: data})
			if got := strings.Contains(text, advice); got != c.advise {
				t.Errorf("advice shown = %v, want %v:\n%s", got, c.advise, text)
			}
		})
	}
}

// TestNewDeviceNotice: the notice names the device, address and time and
// links to where the holder secures the account, on both channels.
func TestNewDeviceNotice(t *testing.T) {
	data := map[string]string{"Browser": "Firefox", "System": "Linux", "Address": "198.51.100.23",
		"Time": "2026-12-01 18:00 UTC", "SecondStep": "off"}
	subject, text := renderOne(t, custos.Message{Channel: custos.ChannelEmail, To: "alice@example.com", Purpose: custos.MsgNewDeviceLogin, Data: data})
	for _, want := range []string{"Firefox on Linux", "198.51.100.23", "2026-12-01 18:00 UTC", "Wasn't you?",
		testPublicURL + "/account/security", testPublicURL + "/forgot-password"} {
		if !strings.Contains(text, want) {
			t.Errorf("email lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(subject, "New sign-in") || strings.Contains(text, "second step") {
		t.Errorf("subject %q / text %q", subject, text)
	}
	data["SecondStep"], data["Browser"] = "on", ""
	_, text = renderOne(t, custos.Message{Channel: custos.ChannelEmail, To: "alice@example.com", Purpose: custos.MsgNewDeviceLogin, Data: data})
	if !strings.Contains(text, "second step") || !strings.Contains(text, "An unknown browser on Linux") {
		t.Errorf("with the step and no browser: %s", text)
	}
	_, sms := renderOne(t, custos.Message{Channel: custos.ChannelSMS, To: "+8613800138000", Purpose: custos.MsgNewDeviceLogin, Data: data})
	if !strings.Contains(sms, "198.51.100.23") || !strings.Contains(sms, testPublicURL+"/account/security") {
		t.Errorf("SMS %q", sms)
	}
}

// TestZhCNNewDeviceTemplates: the Simplified Chinese new-device templates
// (loaded once the zh-CN notices land) parse and fill every field, with
// the same fields as the English ones.
func TestZhCNNewDeviceTemplates(t *testing.T) {
	data := map[string]string{"Product": "Custos", "PublicURL": testPublicURL, "Browser": "Chrome", "System": "Windows",
		"Address": "203.0.113.7", "Time": "2026-12-01 18:00 UTC", "SecondStep": "on", "To": "alice@example.com", "Code": ""}
	for _, name := range []string{"new_device_login.email.tmpl", "new_device_login.sms.tmpl"} {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("templates", "zh-CN", name))
			if err != nil {
				t.Fatal(err)
			}
			tmpl, err := template.New(name).Option("missingkey=error").Parse(string(b))
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := tmpl.Execute(&out, data); err != nil {
				t.Fatal(err)
			}
			text := out.String()
			for _, want := range []string{"203.0.113.7", "2026-12-01 18:00 UTC", testPublicURL + "/account/security"} {
				if !strings.Contains(text, want) {
					t.Errorf("%s lacks %q: %s", name, want, text)
				}
			}
			if strings.HasSuffix(name, ".email.tmpl") && !strings.HasPrefix(text, "Subject: ") {
				t.Errorf("email without a subject line: %s", text)
			}
		})
	}
}
