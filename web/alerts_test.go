package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custos/custos/internal/testserver"
)

// newDeviceNotices returns the new-device notices sent to `to`.
func newDeviceNotices(t *testing.T, env *testserver.Env, to string) []string {
	t.Helper()
	var out []string
	for _, m := range env.Messages(t, to) {
		if m.Purpose == "new_device_login" {
			out = append(out, m.Text)
		}
	}
	return out
}

// tokenLike finds what could be a code or a token in a notice: six or more
// digits in a row, or a long run of base64url characters outside a link's
// path.
var tokenLike = regexp.MustCompile(`\b\d{6,}\b|[A-Za-z0-9_-]{32,}`)

// TestNewDeviceAlert: the holder's own browser signs in without a notice
// (the first sign-in after sign-up, then a thousand more); a thief with
// the password, in another browser, sets off a notice to every channel
// that carries no code or token and links to where the holder secures the
// account; with the holder's switch on, the thief gets the second step.
func TestNewDeviceAlert(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		const email = "nina@example.com"
		env.SignUp(t, email, testPassword)
		holder := newVisitor(t, env)
		holder.login(email, testPassword)
		if n := newDeviceNotices(t, env, email); len(n) != 0 {
			t.Fatalf("the first sign-in after sign-up sent %d new-device notices", len(n))
		}
		// The API client is another device: its sign-in is news.
		bindPhoneByAPI(t, env, email, phoneA)
		if n := newDeviceNotices(t, env, email); len(n) != 1 {
			t.Fatalf("a sign-in from a second device sent %d notices, want 1", len(n))
		}
		for range 20 {
			holder.post("/logout", nil)
			holder.login(email, testPassword)
		}
		// A thousand sign-ins from one known device (the API client, from
		// one network) send none either.
		before := len(newDeviceNotices(t, env, email))
		for range 1000 {
			env.Login(t, email, testPassword)
		}
		if n := len(newDeviceNotices(t, env, email)) - before; n != 0 {
			t.Fatalf("a thousand sign-ins from a known device sent %d notices", n)
		}
		toMail, toPhone := len(newDeviceNotices(t, env, email)), len(newDeviceNotices(t, env, phoneA))

		thief := newVisitor(t, env)
		thief.login(email, testPassword)
		mail, sms := newDeviceNotices(t, env, email), newDeviceNotices(t, env, phoneA)
		if len(mail) != toMail+1 || len(sms) != toPhone+1 {
			t.Fatalf("the thief's sign-in sent %d emails and %d texts, want one of each", len(mail)-toMail, len(sms)-toPhone)
		}
		for _, text := range []string{mail[0], sms[0]} {
			if !strings.Contains(text, "127.0.0.1") || !strings.Contains(text, "/account/security") {
				t.Errorf("the notice lacks the address or the link:\n%s", text)
			}
			if m := tokenLike.FindString(text); m != "" {
				t.Errorf("the notice carries %q, like a code or a token:\n%s", m, text)
			}
		}
		if !strings.Contains(mail[0], "Wasn't you?") || !strings.Contains(mail[0], "UTC") {
			t.Errorf("the email does not say what to do or when:\n%s", mail[0])
		}
		// Once known, the thief's browser is not news again.
		thief.post("/logout", nil)
		thief.login(email, testPassword)
		if n := len(newDeviceNotices(t, env, email)); n != toMail+1 {
			t.Errorf("a second sign-in from the same browser sent another notice (%d)", n-toMail-1)
		}

		// The holder turns the switch on (confirming it's them first).
		p := holder.post("/account/security/protection", url.Values{"new_device_step": {"true"}})
		wantRedirect(t, p, "/account/verify?next="+url.QueryEscape("/account/security/protection?new_device_step=true"))
		holder.confirmByEmail(email, "/account/security/protection?new_device_step=true")
		p = holder.post("/account/security/protection", url.Values{"new_device_step": {"true"}})
		wantRedirect(t, p, "/account/security?done=new_device_on")
		p = holder.get("/account/security?done=new_device_on")
		wantContains(t, p, "A sign-in from a new device now needs the second step of login.", `id="setting-new-device" data-state="on"`)

		// A second thief in a new browser has the password but gets the
		// second step; the holder's known browser does not.
		thief2 := newVisitor(t, env)
		p = thief2.post("/login", url.Values{"email": {email}, "password": {testPassword}})
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, `name="login_token"`)
		if thief2.cookie() != "" {
			t.Fatal("the second thief got a session without the second step")
		}
		if n := len(newDeviceNotices(t, env, email)); n != toMail+2 {
			t.Errorf("the second thief's password sent %d notices, want 1", n-toMail-1)
		}
		if m := newDeviceNotices(t, env, email)[0]; !strings.Contains(m, "second step") {
			t.Errorf("the notice does not say the second step was asked:\n%s", m)
		}
		holder.post("/logout", nil)
		holder.login(email, testPassword)
	})
}

// TestSignupCodePage: the sign-up code page names the address, offers a
// new code only after the cooldown (the button is off until then, with
// the seconds), and a new code replaces the old one; once created, the
// login page has the address filled in.
func TestSignupCodePage(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	v := newVisitor(t, env)
	p := v.post("/signup", url.Values{"email": {"Olga@Example.com"}, "password": {testPassword}, "kind": {"personal"}})
	loc := p.Header.Get("Location")
	id := strings.TrimPrefix(loc, "/signup/verify?id=")
	p = v.get(loc)
	wantStatus(t, p, http.StatusOK)
	wantContains(t, p, "We emailed a 6-digit code to o***a@ex***le.com. It works for 10 minutes.",
		`id="send-again" disabled data-wait="60"`, "Send a new code (in 60 s)", "You can ask for a new code in 60 seconds.")
	first := env.Code(t, "olga@example.com", "signup_code")

	// Asking anyway (a stale page) is refused, and says how long to wait.
	env.Clock.Advance(20 * time.Second)
	p = v.post("/signup/verify/resend", url.Values{"id": {id}})
	wantStatus(t, p, http.StatusBadRequest)
	wantContains(t, p, `role="alert"`, "Send a new code (in 40 s)")

	env.Clock.Advance(41 * time.Second)
	p = v.get(loc)
	wantContains(t, p, `<button type="submit" class="button-secondary" id="send-again">Send a new code</button>`)
	wantRedirect(t, v.post("/signup/verify/resend", url.Values{"id": {id}}), "/signup/verify?id="+id+"&resent=1")
	p = v.get("/signup/verify?id=" + id + "&resent=1")
	wantContains(t, p, "We sent a new code. The earlier one no longer works.", "Send a new code (in 60 s)")
	second := env.Code(t, "olga@example.com", "signup_code")
	if second == first {
		t.Skip("the two random codes happen to be the same")
	}
	p = v.post("/signup/verify", url.Values{"id": {id}, "code": {first}})
	wantStatus(t, p, http.StatusBadRequest)
	p = v.post("/signup/verify", url.Values{"id": {id}, "code": {second}})
	wantRedirect(t, p, "/login?created=1&email=olga%40example.com")
	wantContains(t, v.get("/login?created=1&email=olga%40example.com"), `value="olga@example.com"`)
}

// TestUnknownPages: an unknown page is the site's page not found; the API
// keeps its JSON.
func TestUnknownPages(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	v := newVisitor(t, env)
	for _, path := range []string{"/nope", "/account/nope", "/signup/verify/nope"} {
		p := v.get(path)
		wantStatus(t, p, http.StatusNotFound)
		wantContains(t, p, "<h1>Page not found</h1>", "There is no page at this address.", `href="/"`)
		wantAbsent(t, p, "404 page not found")
	}
	p := v.get("/api/v1/nope")
	wantStatus(t, p, http.StatusNotFound)
	if ct := p.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("/api/v1/nope answered %q", ct)
	}
}
