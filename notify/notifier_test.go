package notify_test

import (
	"context"
	"errors"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/custos/custos"
	"github.com/custos/custos/httperr"
	"github.com/custos/custos/notify"
	"github.com/google/go-cmp/cmp"
)

// fakeClock is a Clock the test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 27, 0, 1, 2, 123_000_000, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// recorder is a Transport that keeps what it is given and fails with err.
type recorder struct {
	mu  sync.Mutex
	got []notify.Rendered
	err error
}

func (r *recorder) Deliver(_ context.Context, m notify.Rendered) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.got = append(r.got, m)
	return nil
}

func (r *recorder) messages() []notify.Rendered {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]notify.Rendered(nil), r.got...)
}

const (
	testFrom      = "Custos <no-reply@id.example.com>"
	testPublicURL = "https://id.example.com"
)

func testConfig(clock custos.Clock) notify.Config {
	return notify.Config{From: testFrom, PublicURL: testPublicURL, Clock: clock}
}

// newNotifier returns a Notifier that hands both email and SMS to tr.
func newNotifier(t *testing.T, tr notify.Transport, clock custos.Clock) *notify.Notifier {
	t.Helper()
	cfg := testConfig(clock)
	cfg.SMS = tr
	n, err := notify.New(tr, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return n
}

// samples holds one sample message per purpose. Every template must have
// one, so a new template is rendered by TestEveryTemplateRenders.
var samples = map[string]custos.Message{
	custos.MsgSignupCode:   {To: "alice@example.com", Code: "123456"},
	custos.MsgSignupExists: {To: "alice@example.com"},
	custos.MsgAccountLocked: {To: "alice@example.com", Data: map[string]string{
		"Failures": "10", "LockedAt": "2026-11-27 09:00 UTC", "LockedUntil": "2026-11-28 08:00 UTC"}},
	custos.MsgLoginCode:         {To: "alice@example.com", Code: "123456"},
	custos.MsgVerificationCode:  {To: "alice@example.com", Code: "123456"},
	custos.MsgDeviceBound:       {To: "alice@example.com", Data: map[string]string{"Name": "Phone", "Kind": "authenticator app"}},
	custos.MsgDeviceUnbound:     {To: "alice@example.com", Data: map[string]string{"Name": "Phone"}},
	custos.MsgCodeReplayed:      {To: "alice@example.com", Data: map[string]string{"Kind": "totp"}},
	custos.MsgPasswordChanged:   {To: "alice@example.com"},
	custos.MsgProtectionChanged: {To: "alice@example.com", Data: map[string]string{"Login": "on", "Operation": "off"}},
	custos.MsgPhoneCode:         {To: "+8613800138000", Code: "123456"},
	custos.MsgEmailCode:         {To: "alice@example.com", Code: "123456"},
	custos.MsgPhoneChanged: {To: "alice@example.com", Data: map[string]string{
		"NewPhone": "+86 139****9000", "UndoURL": testUndoURL}},
	custos.MsgEmailChanged: {To: "alice@example.com", Data: map[string]string{
		"NewEmail": "b***@example.org", "UndoURL": testUndoURL}},
	custos.MsgRetrieveCode:      {To: "+8613800138000", Code: "123456"},
	custos.MsgResetCode:         {To: "alice@example.com", Code: "123456"},
	custos.MsgPasswordReset:     {To: "alice@example.com", Data: map[string]string{}},
	custos.MsgAccountFrozen:     {To: "alice@example.com", Data: map[string]string{}},
	custos.MsgIdentityVerified:  {To: "alice@example.com", Data: map[string]string{}},
	custos.MsgTicketContactCode: {To: "alice@example.com", Code: "123456"},
	custos.MsgTicketPhoneCode:   {To: "+8613800138000", Code: "123456"},
	custos.MsgTicketReceived:    {To: "alice@example.com", Data: map[string]string{"Number": "1234-5678-9012", "Kind": "unbind_mfa"}},
	custos.MsgTicketUpdate: {To: "alice@example.com", Data: map[string]string{"Number": "1234-5678-9012", "State": "rejected",
		"Reason": "The name does not match the record."}},
	custos.MsgTicketWaiting: {To: "alice@example.com", Data: map[string]string{"Number": "1234-5678-9012", "Kind": "unbind_mfa",
		"ExecuteAt": "2026-12-04 09:00 UTC", "CancelURL": testPublicURL + "/tickets/cancel/1234-5678-9012.q6Hk2vYt0d9Zr1mXcN4bW7"}},
	custos.MsgTicketExecuted: {To: "alice@example.com", Data: map[string]string{"Number": "1234-5678-9012", "Kind": "change_phone"}},
	custos.MsgCollabInvite: {To: "alice@example.com", Data: map[string]string{"RootAccountID": "acc_0123456789abcdef0123",
		"AcceptURL": testPublicURL + "/account/collaborations/accept?token=q6Hk2vYt0d9Zr1mXcN4bW7sLpE3uA8fJ5gKoRiT-_yV"}},
	custos.MsgTicketCancelled: {To: "alice@example.com", Data: map[string]string{"Number": "1234-5678-9012", "Kind": "unbind_mfa"}},
	custos.MsgNewDeviceLogin: {To: "alice@example.com", Data: map[string]string{"Browser": "Chrome", "System": "Windows",
		"Address": "203.0.113.7", "Time": "2026-12-01 18:00 UTC", "SecondStep": "on"}},
	custos.MsgIdentityRejected: {To: "alice@example.com", Data: map[string]string{
		"Reason": "The photo of the back of the card is blurred."}},
}

// testUndoURL is as long as the links package binding makes (a 43-character
// token), so the SMS length check below is realistic.
const testUndoURL = testPublicURL + "/undo?token=q6Hk2vYt0d9Zr1mXcN4bW7sLpE3uA8fJ5gKoRiT-_yV"

// TestEveryTemplateRenders renders every file in templates/ (the directory
// that is embedded), in English and, from templates/zh-CN/, in Simplified
// Chinese, so a broken or unreachable template fails here. A Chinese
// message must differ from the English one (the language was picked) and
// keep no English sentence.
func TestEveryTemplateRenders(t *testing.T) {
	for _, lang := range []string{"", "zh-CN"} {
		dir := strings.TrimSuffix("templates/"+lang, "/")
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		files := 0
		for _, e := range entries {
			if e.IsDir() {
				continue
			}
			files++
			t.Run(lang+"/"+e.Name(), func(t *testing.T) {
				base, ok := strings.CutSuffix(e.Name(), ".tmpl")
				if !ok {
					t.Fatalf("%s: %s holds only .tmpl files", e.Name(), dir)
				}
				purpose, channel, _ := strings.Cut(base, ".")
				m, ok := samples[purpose]
				if !ok {
					t.Fatalf("no sample message for purpose %q: add one to samples", purpose)
				}
				m.Purpose, m.Channel = purpose, channel
				if channel == custos.ChannelSMS {
					m.To = "+8613800138000"
				}
				render := func(lang string) notify.Rendered {
					t.Helper()
					m := m
					m.Lang = lang
					rec := &recorder{}
					if err := newNotifier(t, rec, newFakeClock()).Send(t.Context(), m); err != nil {
						t.Fatalf("Send: %v", err)
					}
					got := rec.messages()
					if len(got) != 1 {
						t.Fatalf("delivered %d messages, want 1", len(got))
					}
					return got[0]
				}
				r := render(lang)
				if strings.Contains(r.Subject+r.Text, "<no value>") {
					t.Errorf("unfilled field in %q / %q", r.Subject, r.Text)
				}
				if r.Text == "" {
					t.Error("empty text")
				}
				expires := "expires in 10 minutes"
				if lang == "zh-CN" {
					expires = "10 分钟内有效"
					if en := render(""); en.Text == r.Text || en.Subject == r.Subject && channel == custos.ChannelEmail {
						t.Errorf("the zh-CN message is the English one: %q", r.Text)
					}
					if run := englishRun.FindString(stripLinks(r.Subject+" "+r.Text, m)); run != "" {
						t.Errorf("the zh-CN message keeps English %q: %q", run, r.Text)
					}
				}
				if m.Code != "" {
					if !strings.Contains(r.Text, m.Code) {
						t.Errorf("text %q lacks the code", r.Text)
					}
					if !strings.Contains(r.Text, expires) {
						t.Errorf("code message %q does not say when the code expires (%q)", r.Text, expires)
					}
				}
				if url := m.Data["UndoURL"]; url != "" && !strings.Contains(r.Text, url) {
					t.Errorf("text %q lacks the undo link", r.Text)
				}
				switch channel {
				case custos.ChannelEmail:
					if r.Subject == "" {
						t.Error("email without subject")
					}
				case custos.ChannelSMS:
					if r.Subject != "" {
						t.Errorf("SMS with subject %q", r.Subject)
					}
					words := strings.Replace(strings.Replace(r.Text, m.Data["UndoURL"], "", 1), m.Data["CancelURL"], "", 1)
					if strings.Contains(r.Text, "\n") {
						t.Errorf("SMS is not one line: %q", r.Text)
					}
					if lang == "zh-CN" {
						// A Chinese SMS is UCS-2: 70 characters a segment.
						// The words stay within one, the link may add one more.
						if n := utf8.RuneCountInString(stripLinks(words, m)); n > 70 {
							t.Errorf("Chinese SMS words are %d characters, over one UCS-2 segment of 70: %q", n, r.Text)
						}
						break
					}
					// One GSM-7 segment holds 160 characters; a link is as long
					// as the public URL makes it, the words stay under 140.
					if len(r.Text) > 160 || len(words) > 140 {
						t.Errorf("SMS is not one short text (%d characters, %d without the link): %q",
							len(r.Text), len(words), r.Text)
					}
					for _, c := range r.Text {
						if c > 0x7e || c < 0x20 {
							t.Errorf("SMS has %q, which would need a UCS-2 message of 70 characters: %q", c, r.Text)
							break
						}
					}
				default:
					t.Fatalf("unknown channel %q in template name", channel)
				}
			})
		}
		if files == 0 {
			t.Fatalf("no templates in %s", dir)
		}
	}
}

// englishRun is three or more Latin words in a row: an English sentence
// left in a Chinese message (the product name, codes and links aside).
var englishRun = regexp.MustCompile(`[A-Za-z]+(?:[ '’-]+[A-Za-z]+){2,}`)

// stripLinks removes the links, addresses and the sample's free text
// (a reviewer's reason, a device name) from s.
func stripLinks(s string, m custos.Message) string {
	for _, v := range m.Data {
		if len(v) > 3 { // not "on", "off"
			s = strings.ReplaceAll(s, v, " ")
		}
	}
	s = strings.ReplaceAll(s, m.To, " ")
	return regexp.MustCompile(`https?://\S+`).ReplaceAllString(s, " ")
}

func TestSendRendersWording(t *testing.T) {
	tests := []struct {
		name string
		cfg  notify.Config
		msg  custos.Message
		want notify.Rendered
	}{
		{
			name: "signup code email",
			msg:  custos.Message{Channel: custos.ChannelEmail, To: "alice@example.com", Purpose: custos.MsgSignupCode, Code: "123456"},
			want: notify.Rendered{
				Subject: "Your Custos verification code",
				Text: "Your Custos verification code is 123456. It expires in 10 minutes.\n\n" +
					"If you did not sign up, ignore this email.",
			},
		},
		{
			name: "signup code sms with ExpiresIn from data",
			msg: custos.Message{Channel: custos.ChannelSMS, To: "+8613800138000", Purpose: custos.MsgSignupCode, Code: "654321",
				Data: map[string]string{"ExpiresIn": "15 minutes"}},
			want: notify.Rendered{Text: "Your Custos verification code is 654321. It expires in 15 minutes."},
		},
		{
			name: "signup exists with trailing slash in PublicURL and another product",
			cfg:  notify.Config{PublicURL: "https://accounts.example.org/", Product: "Zeta ID"},
			msg:  custos.Message{Channel: custos.ChannelEmail, To: "bob@example.com", Purpose: custos.MsgSignupExists},
			want: notify.Rendered{
				Subject: "Sign-up attempt with your Zeta ID address",
				Text: "Someone tried to create a Zeta ID account with this address, which already has one.\n\n" +
					"If it was you, log in or reset your password at https://accounts.example.org/login.\n\n" +
					"If not, you can ignore this email.",
			},
		},
		{
			name: "an administrator's MFA reset, sms",
			msg: custos.Message{Channel: custos.ChannelSMS, To: "+8613800138000", Purpose: custos.MsgDeviceUnbound,
				Data: map[string]string{"Name": "", "ResetByAdmin": "yes"}},
			want: notify.Rendered{Text: "Custos: your administrator removed every MFA device from your account. Not you? Change your password now."},
		},
		{
			name: "an administrator's MFA reset, sms, zh-CN",
			msg: custos.Message{Channel: custos.ChannelSMS, To: "+8613800138000", Purpose: custos.MsgDeviceUnbound, Lang: "zh-CN",
				Data: map[string]string{"Name": "", "ResetByAdmin": "yes"}},
			want: notify.Rendered{Text: "【Custos】主账号管理员已移除您账号下的所有MFA设备。如非本人操作，请立即修改密码。"},
		},
		{
			name: "phone changed sms",
			msg: custos.Message{Channel: custos.ChannelSMS, To: "+8613800138000", Purpose: custos.MsgPhoneChanged,
				Data: map[string]string{"NewPhone": "+86 139****9000", "UndoURL": "https://id.example.com/undo?token=abc"}},
			want: notify.Rendered{Text: "Your Custos phone number was changed. Not you? Open https://id.example.com/undo?token=abc to secure your account."},
		},
		{
			name: "email changed email",
			msg: custos.Message{Channel: custos.ChannelEmail, To: "alice@example.com", Purpose: custos.MsgEmailChanged,
				Data: map[string]string{"NewEmail": "b***@example.org", "UndoURL": "https://id.example.com/undo?token=abc"}},
			want: notify.Rendered{
				Subject: "An email address on your Custos account was changed",
				Text: "An email address on your Custos account (the login email or the secure email) was changed to b***@example.org.\n\n" +
					"If it was you, there is nothing to do.\n\n" +
					"If this wasn't you, open https://id.example.com/undo?token=abc to end every session and secure your account.",
			},
		},
		{
			name: "reset code sms",
			msg:  custos.Message{Channel: custos.ChannelSMS, To: "+8613800138000", Purpose: custos.MsgResetCode, Code: "246810"},
			want: notify.Rendered{Text: "Your Custos password reset code is 246810. It expires in 10 minutes. Not you? Ignore this message."},
		},
		{
			name: "data cannot replace the code or the link",
			msg: custos.Message{Channel: custos.ChannelEmail, To: "alice@example.com", Purpose: custos.MsgSignupCode, Code: "111111",
				Data: map[string]string{"Code": "999999", "PublicURL": "https://evil.example"}},
			want: notify.Rendered{
				Subject: "Your Custos verification code",
				Text: "Your Custos verification code is 111111. It expires in 10 minutes.\n\n" +
					"If you did not sign up, ignore this email.",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			cfg := testConfig(clock)
			if tt.cfg.PublicURL != "" {
				cfg.PublicURL = tt.cfg.PublicURL
			}
			cfg.Product = tt.cfg.Product
			rec := &recorder{}
			cfg.SMS = rec
			n, err := notify.New(rec, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := n.Send(t.Context(), tt.msg); err != nil {
				t.Fatalf("Send: %v", err)
			}
			want := tt.want
			want.Channel, want.To, want.Purpose, want.Code = tt.msg.Channel, tt.msg.To, tt.msg.Purpose, tt.msg.Code
			want.SentAt = clock.Now()
			want.From = testFrom
			if diff := cmp.Diff([]notify.Rendered{want}, rec.messages()); diff != "" {
				t.Errorf("delivered (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSendRejectsBadMessages(t *testing.T) {
	tests := []struct {
		name string
		msg  custos.Message
	}{
		{name: "unknown purpose", msg: custos.Message{Channel: custos.ChannelEmail, To: "a@example.com", Purpose: "birthday"}},
		{name: "unknown channel", msg: custos.Message{Channel: "pigeon", To: "a@example.com", Purpose: custos.MsgSignupCode, Code: "123456"}},
		{name: "no template for channel", msg: custos.Message{Channel: custos.ChannelSMS, To: "+8613800138000", Purpose: custos.MsgSignupExists}},
		{name: "no recipient", msg: custos.Message{Channel: custos.ChannelEmail, Purpose: custos.MsgSignupCode, Code: "123456"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			err := newNotifier(t, rec, newFakeClock()).Send(t.Context(), tt.msg)
			if !custos.IsCode(err, custos.EInternal) {
				t.Fatalf("Send = %v, want an %s error", err, custos.EInternal)
			}
			if len(rec.messages()) != 0 {
				t.Error("a message was delivered")
			}
		})
	}
}

func TestSendDeliveryFailureIsUnavailableWithoutSecrets(t *testing.T) {
	// A transport whose error echoes the code, as a careless server might.
	rec := &recorder{err: errors.New("550 rejected: Your Custos verification code is 424242")}
	n := newNotifier(t, rec, newFakeClock())
	err := n.Send(t.Context(), custos.Message{
		Channel: custos.ChannelEmail, To: "alice@example.com", Purpose: custos.MsgSignupCode, Code: "424242",
	})
	var ce *custos.Error
	if !errors.As(err, &ce) || ce.Code != custos.EUnavailable {
		t.Fatalf("Send = %v, want a *custos.Error with code %s", err, custos.EUnavailable)
	}
	if strings.Contains(err.Error(), "424242") {
		t.Errorf("error %q contains the code", err)
	}
	if httperr.Status(err) != 503 {
		t.Errorf("status = %d, want 503", httperr.Status(err))
	}
}

func TestSendRoutesByChannel(t *testing.T) {
	email, sms := &recorder{}, &recorder{}
	cfg := testConfig(newFakeClock())
	cfg.SMS = sms
	n, err := notify.New(email, cfg)
	if err != nil {
		t.Fatal(err)
	}
	msgs := []custos.Message{
		{Channel: custos.ChannelEmail, To: "alice@example.com", Purpose: custos.MsgSignupCode, Code: "111111"},
		{Channel: custos.ChannelSMS, To: "+8613800138000", Purpose: custos.MsgPhoneCode, Code: "222222"},
		{Channel: custos.ChannelSMS, To: "+8613800138000", Purpose: custos.MsgPasswordReset},
	}
	for _, m := range msgs {
		if err := n.Send(t.Context(), m); err != nil {
			t.Fatalf("Send %s %s: %v", m.Channel, m.Purpose, err)
		}
	}
	channels := func(rs []notify.Rendered) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Channel+"/"+r.Purpose)
		}
		return out
	}
	if diff := cmp.Diff([]string{"email/signup_code"}, channels(email.messages())); diff != "" {
		t.Errorf("email transport got (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"sms/phone_code", "sms/password_reset"}, channels(sms.messages())); diff != "" {
		t.Errorf("SMS transport got (-want +got):\n%s", diff)
	}
}

func TestSendSMSWithoutTransportIsUnavailable(t *testing.T) {
	email := &recorder{}
	n, err := notify.New(email, testConfig(newFakeClock())) // no Config.SMS
	if err != nil {
		t.Fatal(err)
	}
	err = n.Send(t.Context(), custos.Message{
		Channel: custos.ChannelSMS, To: "+8613800138000", Purpose: custos.MsgPhoneCode, Code: "424242",
	})
	var ce *custos.Error
	if !errors.As(err, &ce) || ce.Code != custos.EUnavailable {
		t.Fatalf("Send = %v, want a *custos.Error with code %s", err, custos.EUnavailable)
	}
	if ce.Message != "SMS delivery is not configured" {
		t.Errorf("message %q", ce.Message)
	}
	if strings.Contains(err.Error(), "424242") {
		t.Errorf("error %q contains the code", err)
	}
	if len(email.messages()) != 0 {
		t.Error("the text message went to the email transport")
	}
	// Email still works.
	if err := n.Send(t.Context(), custos.Message{
		Channel: custos.ChannelEmail, To: "alice@example.com", Purpose: custos.MsgEmailCode, Code: "123456",
	}); err != nil {
		t.Fatalf("Send email: %v", err)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	tests := []struct {
		name    string
		noTr    bool
		cfg     notify.Config
		wantErr string
	}{
		{name: "ok", cfg: notify.Config{From: testFrom, PublicURL: testPublicURL}},
		{name: "ok bare address and http", cfg: notify.Config{From: "noreply@localhost", PublicURL: "http://localhost:8080"}},
		{name: "no transport", noTr: true, cfg: notify.Config{From: testFrom, PublicURL: testPublicURL}, wantErr: "transport"},
		{name: "no from", cfg: notify.Config{PublicURL: testPublicURL}, wantErr: "From"},
		{name: "bad from", cfg: notify.Config{From: "not an address", PublicURL: testPublicURL}, wantErr: "From"},
		{name: "no public url", cfg: notify.Config{From: testFrom}, wantErr: "PublicURL"},
		{name: "relative public url", cfg: notify.Config{From: testFrom, PublicURL: "/login"}, wantErr: "PublicURL"},
		{name: "ftp public url", cfg: notify.Config{From: testFrom, PublicURL: "ftp://id.example.com"}, wantErr: "PublicURL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tr notify.Transport = &recorder{}
			if tt.noTr {
				tr = nil
			}
			_, err := notify.New(tr, tt.cfg)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New = %v, want an error mentioning %q", err, tt.wantErr)
			}
		})
	}
}

func TestNotifierIsSafeForConcurrentUse(t *testing.T) {
	rec := &recorder{}
	n := newNotifier(t, rec, newFakeClock())
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			err := n.Send(t.Context(), custos.Message{
				Channel: custos.ChannelEmail, To: "alice@example.com", Purpose: custos.MsgSignupCode, Code: "123456",
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := len(rec.messages()); got != 20 {
		t.Errorf("delivered %d, want 20", got)
	}
}
