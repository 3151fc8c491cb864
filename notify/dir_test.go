package notify_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/notify"
	"github.com/google/go-cmp/cmp"
)

var outboxName = regexp.MustCompile(`^\d{8}T\d{6}\.\d{3}Z-\d{10}-[0-9a-f]{8}\.json$`)

func newDir(t *testing.T) (*notify.Dir, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "outbox")
	d, err := notify.NewDir(path, nil)
	if err != nil {
		t.Fatalf("NewDir: %v", err)
	}
	return d, path
}

func TestDirRoundTrip(t *testing.T) {
	d, path := newDir(t)
	if d.Path() != path {
		t.Errorf("Path = %q, want %q", d.Path(), path)
	}
	clock := newFakeClock()
	n := newNotifier(t, d, clock)
	msgs := []custos.Message{
		{Channel: custos.ChannelEmail, To: "alice@example.com", Purpose: custos.MsgSignupCode, Code: "111111"},
		{Channel: custos.ChannelEmail, To: "bob@example.com", Purpose: custos.MsgSignupExists},
		{Channel: custos.ChannelSMS, To: "+8613800138000", Purpose: custos.MsgSignupCode, Code: "333333"},
	}
	var want []notify.Rendered
	for _, m := range msgs {
		if err := n.Send(t.Context(), m); err != nil {
			t.Fatalf("Send: %v", err)
		}
		want = append(want, notify.Rendered{
			Channel: m.Channel, To: m.To, Purpose: m.Purpose, Code: m.Code, SentAt: clock.Now(),
		})
		clock.Add(time.Millisecond) // within one second: order must still hold
	}
	slices.Reverse(want) // newest first

	got, err := notify.ReadOutbox(path)
	if err != nil {
		t.Fatalf("ReadOutbox: %v", err)
	}
	// Subject and Text come from the templates, tested elsewhere.
	ignoreWording := cmp.Transformer("noWording", func(r notify.Rendered) notify.Rendered {
		r.Subject, r.Text = "", ""
		return r
	})
	if diff := cmp.Diff(want, got, ignoreWording); diff != "" {
		t.Errorf("ReadOutbox (-want +got):\n%s", diff)
	}
	if !strings.Contains(got[2].Text, "111111") || got[2].Subject != "Your Custos verification code" {
		t.Errorf("email text/subject not kept: %+v", got[2])
	}

	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o700 {
		t.Errorf("directory mode %v, want 0700", perm)
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 {
		t.Fatalf("%d files in the outbox, want 3 (no temporary files left)", len(entries))
	}
	for _, e := range entries {
		if !outboxName.MatchString(e.Name()) {
			t.Errorf("file name %q does not match %v", e.Name(), outboxName)
		}
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s: mode %v, want 0600", e.Name(), perm)
		}
	}
	if first := entries[0].Name(); !strings.HasPrefix(first, "20261127T000102.123Z-") {
		t.Errorf("first file %q is not named for the clock's time", first)
	}
}

// TestSMSOutboxRoundTrip sends email and SMS to one outbox through the two
// transports --deliver dir:PATH and --sms dir:PATH make.
func TestSMSOutboxRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox")
	email, err := notify.ParseDeliver("dir:"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	sms, err := notify.ParseSMS("dir:"+path, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock()
	cfg := testConfig(clock)
	cfg.SMS = sms
	n, err := notify.New(email, cfg)
	if err != nil {
		t.Fatal(err)
	}
	msgs := []custos.Message{
		{Channel: custos.ChannelSMS, To: "+8613800138000", Purpose: custos.MsgPhoneCode, Code: "135790"},
		{Channel: custos.ChannelEmail, To: "alice@example.com", Purpose: custos.MsgEmailCode, Code: "246802"},
		{Channel: custos.ChannelSMS, To: "+12015550123", Purpose: custos.MsgRetrieveCode, Code: "975310"},
	}
	for _, m := range msgs {
		if err := n.Send(t.Context(), m); err != nil {
			t.Fatalf("Send: %v", err)
		}
		clock.Add(time.Millisecond)
	}
	got, err := notify.ReadOutbox(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []notify.Rendered{
		{Channel: "sms", To: "+12015550123", Purpose: "retrieve_code", Code: "975310",
			Text: "Your Custos code to list the accounts that use this number is 975310. It expires in 10 minutes. Do not share it."},
		{Channel: "email", To: "alice@example.com", Purpose: "email_code", Code: "246802",
			Subject: "Confirm your email address for Custos"},
		{Channel: "sms", To: "+8613800138000", Purpose: "phone_code", Code: "135790",
			Text: "Your Custos code to confirm this phone number is 135790. It expires in 10 minutes. Do not share it."},
	}
	ignore := cmp.Transformer("noTimeNoEmailText", func(r notify.Rendered) notify.Rendered {
		r.SentAt = time.Time{}
		if r.Channel == "email" {
			r.Text = ""
		}
		return r
	})
	if diff := cmp.Diff(want, got, ignore); diff != "" {
		t.Errorf("ReadOutbox (-want +got):\n%s", diff)
	}
}

// TestDirFileFormat pins the JSON that API.md promises.
func TestDirFileFormat(t *testing.T) {
	tests := []struct {
		name string
		msg  custos.Message
		want map[string]any
	}{
		{
			name: "with code",
			msg:  custos.Message{Channel: custos.ChannelSMS, To: "+8613800138000", Purpose: custos.MsgSignupCode, Code: "123456"},
			want: map[string]any{
				"channel": "sms", "to": "+8613800138000", "purpose": "signup_code", "code": "123456", "subject": "",
				"text": "Your Custos verification code is 123456. It expires in 10 minutes.", "sent_at": "2026-11-27T00:01:02.123Z",
			},
		},
		{
			name: "without code",
			msg:  custos.Message{Channel: custos.ChannelEmail, To: "bob@example.com", Purpose: custos.MsgSignupExists},
			want: map[string]any{
				"channel": "email", "to": "bob@example.com", "purpose": "signup_exists",
				"subject": "Sign-up attempt with your Custos address",
				"text": "Someone tried to create a Custos account with this address, which already has one.\n\n" +
					"If it was you, log in or reset your password at https://id.example.com/login.\n\n" +
					"If not, you can ignore this email.",
				"sent_at": "2026-11-27T00:01:02.123Z",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, path := newDir(t)
			if err := newNotifier(t, d, newFakeClock()).Send(t.Context(), tt.msg); err != nil {
				t.Fatal(err)
			}
			files, err := filepath.Glob(filepath.Join(path, "*.json"))
			if err != nil || len(files) != 1 {
				t.Fatalf("outbox files %v, %v; want one", files, err)
			}
			b, err := os.ReadFile(files[0])
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("file %s (-want +got):\n%s", b, diff)
			}
		})
	}
}

func TestDirConcurrentWrites(t *testing.T) {
	d, path := newDir(t)
	sentAt := newFakeClock().Now() // one instant for all: names differ by their random part only
	const n = 50
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			err := d.Deliver(t.Context(), notify.Rendered{
				Channel: custos.ChannelEmail, To: fmt.Sprintf("user%d@example.com", i), Purpose: custos.MsgSignupCode,
				Code: fmt.Sprintf("%06d", i), Subject: "s", Text: "t", SentAt: sentAt,
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	entries, err := os.ReadDir(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != n {
		t.Errorf("%d files, want %d", len(entries), n)
	}
	got, err := notify.ReadOutbox(path)
	if err != nil {
		t.Fatalf("ReadOutbox: %v", err)
	}
	codes := map[string]bool{}
	for _, r := range got {
		codes[r.Code] = true
	}
	if len(got) != n || len(codes) != n {
		t.Errorf("read %d messages with %d distinct codes, want %d", len(got), len(codes), n)
	}
}

func TestDirNeverOverwrites(t *testing.T) {
	tests := []struct {
		name    string
		random  []byte
		wantErr bool
	}{
		{
			name:   "a repeated random name is drawn again",
			random: []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
		},
		{
			name:    "a constant random source gives up",
			random:  bytes.Repeat([]byte{7}, 4*9),
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := t.TempDir()
			// Two writers on one folder (two processes) number their
			// messages alike, so only the random part tells them apart.
			rnd := bytes.NewReader(tt.random)
			d, err := notify.NewDir(path, rnd)
			if err != nil {
				t.Fatal(err)
			}
			other, err := notify.NewDir(path, rnd)
			if err != nil {
				t.Fatal(err)
			}
			r := notify.Rendered{Channel: custos.ChannelEmail, To: "a@example.com", Purpose: custos.MsgSignupCode,
				Code: "000001", SentAt: newFakeClock().Now()}
			if err := d.Deliver(t.Context(), r); err != nil {
				t.Fatal(err)
			}
			r.Code = "000002"
			err = other.Deliver(t.Context(), r)
			if tt.wantErr != (err != nil) {
				t.Fatalf("second Deliver = %v, want error %v", err, tt.wantErr)
			}
			got, err := notify.ReadOutbox(path)
			if err != nil {
				t.Fatal(err)
			}
			var codes []string
			for _, m := range got {
				codes = append(codes, m.Code)
			}
			slices.Sort(codes)
			want := []string{"000001", "000002"}
			if tt.wantErr {
				want = want[:1]
			}
			if diff := cmp.Diff(want, codes); diff != "" {
				t.Errorf("codes in outbox (-want +got):\n%s", diff)
			}
			if entries, _ := os.ReadDir(path); len(entries) != len(want) {
				t.Errorf("%d files, want %d (temporary files must go)", len(entries), len(want))
			}
		})
	}
}

func TestReadOutbox(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string // name → content; nil map: directory missing
		want    int
		wantErr string
	}{
		{name: "missing directory is empty", want: 0},
		{
			name: "other files are skipped",
			files: map[string]string{
				"20261127T000102.123Z-00000000.json": `{"channel":"sms","to":"+1","purpose":"p","text":"t","sent_at":"2026-11-27T00:01:02.123Z"}`,
				".outbox-123.tmp":                    `{"half`,
				"README":                             "not a message",
			},
			want: 1,
		},
		{
			name:    "bad JSON",
			files:   map[string]string{"20261127T000102.123Z-00000000.json": `{"half`},
			wantErr: "not an outbox message",
		},
		{
			name:    "bad time",
			files:   map[string]string{"20261127T000102.123Z-00000000.json": `{"sent_at":"yesterday"}`},
			wantErr: "sent_at",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "outbox")
			if tt.files != nil {
				if err := os.Mkdir(path, 0o700); err != nil {
					t.Fatal(err)
				}
				for name, content := range tt.files {
					if err := os.WriteFile(filepath.Join(path, name), []byte(content), 0o600); err != nil {
						t.Fatal(err)
					}
				}
			}
			got, err := notify.ReadOutbox(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ReadOutbox = %v, want an error mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.want {
				t.Errorf("%d messages, want %d", len(got), tt.want)
			}
		})
	}
}
