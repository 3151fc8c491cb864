package notify_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/custos/custos"
	"github.com/custos/custos/notify"
	"github.com/google/go-cmp/cmp"
)

func TestLogTransport(t *testing.T) {
	tests := []struct {
		name string
		msg  custos.Message
		want map[string]any // the record's attributes besides time, level and msg
	}{
		{
			name: "email code",
			msg:  custos.Message{Channel: custos.ChannelEmail, To: "alice@example.com", Purpose: custos.MsgSignupCode, Code: "918273"},
			want: map[string]any{"channel": "email", "to": "al***ce@ex***le.com", "purpose": "signup_code",
				"subject": "Your Custos verification code"},
		},
		{
			name: "email notice",
			msg:  custos.Message{Channel: custos.ChannelEmail, To: "Bob@mail.example.org", Purpose: custos.MsgSignupExists},
			want: map[string]any{"channel": "email", "to": "B***b@ma***le.org", "purpose": "signup_exists",
				"subject": "Sign-up attempt with your Custos address"},
		},
		{
			name: "sms code",
			msg:  custos.Message{Channel: custos.ChannelSMS, To: "+86 138-0013-8000", Purpose: custos.MsgSignupCode, Code: "918273"},
			want: map[string]any{"channel": "sms", "to": "***8000", "purpose": "signup_code"},
		},
		{
			name: "short phone",
			msg:  custos.Message{Channel: custos.ChannelSMS, To: "1234", Purpose: custos.MsgSignupCode, Code: "918273"},
			want: map[string]any{"channel": "sms", "to": "***", "purpose": "signup_code"},
		},
		{
			name: "email without at sign",
			msg:  custos.Message{Channel: custos.ChannelEmail, To: "alice", Purpose: custos.MsgSignupCode, Code: "918273"},
			want: map[string]any{"channel": "email", "to": "***", "purpose": "signup_code",
				"subject": "Your Custos verification code"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tr := &notify.Log{Logger: slog.New(slog.NewJSONHandler(&buf, nil))}
			if err := newNotifier(t, tr, newFakeClock()).Send(t.Context(), tt.msg); err != nil {
				t.Fatalf("Send: %v", err)
			}
			out := buf.String()
			if tt.msg.Code != "" && strings.Contains(out, tt.msg.Code) {
				t.Errorf("log contains the code: %s", out)
			}
			for _, word := range []string{"expires", "ignore", "/login"} {
				if strings.Contains(out, word) {
					t.Errorf("log contains the text (%q): %s", word, out)
				}
			}
			var rec map[string]any
			if err := json.Unmarshal([]byte(out), &rec); err != nil {
				t.Fatalf("not one JSON record: %v\n%s", err, out)
			}
			if rec["level"] != "INFO" {
				t.Errorf("level = %v, want INFO", rec["level"])
			}
			delete(rec, "time")
			delete(rec, "level")
			delete(rec, "msg")
			if diff := cmp.Diff(tt.want, rec); diff != "" {
				t.Errorf("record (-want +got):\n%s", diff)
			}
		})
	}
}
