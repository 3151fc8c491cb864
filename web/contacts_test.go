package web_test

import (
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custos/custos/internal/testserver"
	"github.com/custos/custos/web"
)

// Test numbers: valid Chinese mobile numbers, as the API tests use.
const (
	phoneA       = "+8613800138000"
	phoneB       = "+8613900139000"
	phoneAMasked = "+86 138****8000"
	phoneBMasked = "+86 139****9000"
)

// startPath reads the flow id from a redirect to prefix/{id}.
func flowID(t *testing.T, p page, prefix string) string {
	t.Helper()
	if p.StatusCode != http.StatusSeeOther {
		t.Fatalf("%s %s: status %d, want 303 to %s/…\n%s", p.Request.Method, p.Request.URL.Path, p.StatusCode, prefix, p.Body)
	}
	loc := p.Header.Get("Location")
	id, ok := strings.CutPrefix(loc, prefix+"/")
	if !ok || id == "" || strings.ContainsAny(id, "/?") {
		t.Fatalf("%s %s: redirected to %q, want %s/{id}", p.Request.Method, p.Request.URL.Path, loc, prefix)
	}
	return id
}

// bindPhoneByAPI binds a number to the account of email (signed up
// already) through the JSON API, for the tests that need phones bound
// before the pages come in.
func bindPhoneByAPI(t *testing.T, env *testserver.Env, email, number string) {
	t.Helper()
	tok := env.Login(t, email, testPassword)
	r := env.Do(t, "POST", "/api/v1/account/phone", tok, map[string]string{"phone": number})
	if r.Status != http.StatusAccepted {
		t.Fatalf("start phone change: %d %s", r.Status, r.Raw)
	}
	r = env.Do(t, "POST", "/api/v1/account/phone/"+r.String("change_id"), tok, map[string]string{"code": env.Code(t, number, "phone_code")})
	if r.Status != http.StatusOK {
		t.Fatalf("finish phone change: %d %s", r.Status, r.Raw)
	}
}

// unesc is p with its body's character references decoded, for checking
// text that html/template escapes (a "+" becomes "&#43;").
func unesc(p page) page {
	p.Body = html.UnescapeString(p.Body)
	return p
}

// notCode is a well-formed code other than code.
func notCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

func TestContactPagesNeedASession(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	v := newVisitor(t, env)
	for _, base := range []string{"/account/phone", "/account/email", "/account/secure-email"} {
		for _, path := range []string{base, base + "/chg_0123"} {
			wantRedirect(t, v.get(path), "/login")
			wantRedirect(t, v.post(path, url.Values{"phone": {phoneA}, "email": {"a@example.com"}, "code": {"123456"}}), "/login")
		}
	}
}

func TestBindAndChangePhoneThroughForms(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		env.SignUp(t, "ada@example.com", testPassword)
		v := newVisitor(t, env)
		v.login("ada@example.com", testPassword)

		p := v.get("/account/security")
		wantContains(t, p, `id="setting-phone" data-state="none"`, `href="/account/phone">Bind`,
			`id="setting-secure-email" data-state="none"`, `href="/account/secure-email">Set`, "Not set.")

		// The first phone needs no confirmation: nothing could confirm yet.
		p = v.get("/account/phone")
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, "Bind a phone number", `<label for="phone">`, `type="tel"`, `autocomplete="tel"`)
		wantAbsent(t, p, `role="alert"`)

		for _, tt := range []struct {
			name, phone string
			want        []string
		}{
			{"empty", "", []string{"Enter the new phone number."}},
			{"not a number", "12345", []string{}},
			{"letters", "+86 call me", []string{}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				p := v.post("/account/phone", url.Values{"phone": {tt.phone}})
				wantStatus(t, p, http.StatusBadRequest)
				wantContains(t, p, `role="alert"`, `href="#phone"`, `id="phone-error"`, `aria-invalid="true"`)
				wantContains(t, p, tt.want...)
			})
		}
		if msgs := env.Messages(t, phoneA); len(msgs) != 0 {
			t.Fatalf("a refused number was sent %d messages", len(msgs))
		}

		id := flowID(t, v.post("/account/phone", url.Values{"phone": {"+86 138 0013 8000"}}), "/account/phone")
		code := env.Code(t, phoneA, "phone_code")
		p = unesc(v.get("/account/phone/" + id))
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, "We texted a 6-digit code to "+phoneAMasked+".", "10 minutes after we sent it",
			`autocomplete="one-time-code"`, `inputmode="numeric"`, `pattern="[0-9]*"`, `<label for="code">`,
			"You can ask for a new code in 60 seconds.")
		wantAbsent(t, p, phoneA, `id="send-again"`)

		// Wrong and missing codes stay on the page, next to the field.
		p = unesc(v.post("/account/phone/"+id, url.Values{"code": {notCode(code)}}))
		wantStatus(t, p, http.StatusBadRequest)
		wantContains(t, p, `id="code-error"`, `href="#code"`, "That code is not right.", phoneAMasked)
		p = v.post("/account/phone/"+id, url.Values{"code": {""}})
		wantStatus(t, p, http.StatusBadRequest)
		wantContains(t, p, `id="code-error"`, "Enter the 6-digit code.")

		env.Clock.Advance(61 * time.Second)
		p = unesc(v.get("/account/phone/" + id))
		wantContains(t, p, `id="send-again"`, `<input type="hidden" name="phone" value="`+phoneA+`">`)
		wantAbsent(t, p, "You can ask for a new code in")

		wantRedirect(t, v.post("/account/phone/"+id, url.Values{"code": {code[:3] + " " + code[3:]}}), "/account/security?done=phone")
		p = unesc(v.get("/account/security?done=phone"))
		wantContains(t, p, "Your phone number is saved.", `id="setting-phone" data-state="set"`,
			`<strong id="phone-masked">`+phoneAMasked+`</strong>`, `href="/account/phone">Change`)
		wantAbsent(t, p, phoneA)
		// The code is spent.
		p = v.post("/account/phone/"+id, url.Values{"code": {code}})
		wantStatus(t, p, http.StatusGone)
		wantContains(t, p, `href="/account/phone"`, "Start again")

		// A change now needs "Confirm it's you", which offers a text to
		// the bound phone.
		next := "/account/phone"
		wantRedirect(t, v.get(next), verifyPath(next))
		wantRedirect(t, v.post(next, url.Values{"phone": {phoneB}}), verifyPath(next))
		p = unesc(v.get(verifyPath(next)))
		wantContains(t, p, "Code by text message", "We will text a 6-digit code to your phone, "+phoneAMasked,
			`name="method" value="sms"`, `id="send-code"`, "Code by email")
		p = unesc(v.post("/account/verify", url.Values{"method": {"sms"}, "next": {next}, "action": {"send"}}))
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, "We texted a code to "+phoneAMasked+".")
		wantRedirect(t, v.post("/account/verify", url.Values{
			"method": {"sms"}, "next": {next}, "id": {hidden(p, "id")}, "code": {env.Code(t, phoneA, "verification_code")},
		}), next)

		p = unesc(v.get(next))
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, "Change your phone number", "Your phone now: "+phoneAMasked)
		id = flowID(t, v.post(next, url.Values{"phone": {phoneB}}), "/account/phone")
		// Asking again inside the minute is refused with the seconds left,
		// next to the field.
		p = unesc(v.post(next, url.Values{"phone": {phoneB}}))
		wantStatus(t, p, http.StatusBadRequest)
		wantContains(t, p, `id="phone-error"`, "in 60 seconds", `value="`+phoneB+`"`)
		env.Clock.Advance(30 * time.Second)
		wantContains(t, unesc(v.get("/account/phone/"+id)), "You can ask for a new code in 30 seconds.", phoneBMasked)

		wantRedirect(t, v.post("/account/phone/"+id, url.Values{"code": {env.Code(t, phoneB, "phone_code")}}), "/account/security?done=phone")
		wantContains(t, unesc(v.get("/account/security")), phoneBMasked)
		if m := env.Messages(t, phoneA); m[0].Purpose != "phone_changed" {
			t.Errorf("the old number was not told: %+v", m[0])
		}
		wantContains(t, unesc(v.get("/account/activity")), "Phone number changed", "Confirmed it's you before a change")
	})
}

func TestPhoneChangeCodeExpires(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	env.SignUp(t, "ada@example.com", testPassword)
	v := newVisitor(t, env)
	v.login("ada@example.com", testPassword)
	id := flowID(t, v.post("/account/phone", url.Values{"phone": {phoneA}}), "/account/phone")
	code := env.Code(t, phoneA, "phone_code")
	env.Clock.Advance(10*time.Minute + time.Second)
	p := v.post("/account/phone/"+id, url.Values{"code": {code}})
	wantStatus(t, p, http.StatusGone)
	wantContains(t, p, `role="alert"`, "Start again", `href="/account/phone"`)
	// Five wrong codes kill a change too.
	env.Clock.Advance(time.Minute)
	id = flowID(t, v.post("/account/phone", url.Values{"phone": {phoneA}}), "/account/phone")
	code = env.Code(t, phoneA, "phone_code")
	for range 5 {
		wantStatus(t, v.post("/account/phone/"+id, url.Values{"code": {notCode(code)}}), http.StatusBadRequest)
	}
	wantStatus(t, v.post("/account/phone/"+id, url.Values{"code": {code}}), http.StatusGone)
	// Someone else's change id is not this account's.
	env.SignUp(t, "bo@example.com", testPassword)
	other := newVisitor(t, env)
	other.login("bo@example.com", testPassword)
	env.Clock.Advance(time.Minute)
	id = flowID(t, v.post("/account/phone", url.Values{"phone": {phoneA}}), "/account/phone")
	wantStatus(t, other.post("/account/phone/"+id, url.Values{"code": {env.Code(t, phoneA, "phone_code")}}), http.StatusGone)
}

func TestPhoneAtItsLimit(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	for i := 1; i <= 5; i++ {
		email := "w" + strconv.Itoa(i) + "@example.com"
		env.SignUp(t, email, testPassword)
		env.Clock.Advance(time.Minute) // one code a minute per number
		bindPhoneByAPI(t, env, email, phoneA)
	}
	env.SignUp(t, "w6@example.com", testPassword)
	env.Clock.Advance(time.Minute)
	v := newVisitor(t, env)
	v.login("w6@example.com", testPassword)
	id := flowID(t, v.post("/account/phone", url.Values{"phone": {phoneA}}), "/account/phone")
	p := unesc(v.post("/account/phone/"+id, url.Values{"code": {env.Code(t, phoneA, "phone_code")}}))
	wantStatus(t, p, http.StatusBadRequest)
	// The form for a number again, the reason next to its field.
	wantContains(t, p, `id="phone-error"`, "already bound to as many accounts as it may be (5)", `action="/account/phone"`, `type="tel"`)
	wantContains(t, v.get("/account/security"), `id="setting-phone" data-state="none"`)
}

func TestChangeEmailsThroughForms(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		env.SignUp(t, "ada@example.com", testPassword)
		env.SignUp(t, "taken@example.com", testPassword)
		v := newVisitor(t, env)
		v.login("ada@example.com", testPassword)

		p := v.get("/account")
		wantContains(t, p, `href="/account/email"`, "Change")

		// The account email is a login identifier: even with no second
		// channel, changing it needs a code to the current address first.
		wantRedirect(t, v.get("/account/email"), "/account/verify?next=%2Faccount%2Femail")
		v.confirmByEmail("ada@example.com", "/account/email")
		p = v.get("/account/email")
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, "Change your account email", "Your account email now: a***a@ex***le.com",
			`type="email"`, `autocomplete="email"`, `href="/account" aria-current="page"`)

		for _, tt := range []struct{ name, email, want string }{
			{"empty", "", "Enter the new email address."},
			{"not an email", "ada at example", "Enter an email address like name@example.com."},
			{"the same", "ADA@example.com", "That is already your account email."},
		} {
			t.Run(tt.name, func(t *testing.T) {
				p := v.post("/account/email", url.Values{"email": {tt.email}})
				wantStatus(t, p, http.StatusBadRequest)
				wantContains(t, p, `id="email-error"`, `href="#email"`, tt.want)
			})
		}

		// An address another account uses fails when the code is proven:
		// the form comes back with the reason.
		id := flowID(t, v.post("/account/email", url.Values{"email": {"taken@example.com"}}), "/account/email")
		p = v.post("/account/email/"+id, url.Values{"code": {env.Code(t, "taken@example.com", "email_code")}})
		wantStatus(t, p, http.StatusBadRequest)
		wantContains(t, p, `id="email-error"`, "Another account uses that email.")

		id = flowID(t, v.post("/account/email", url.Values{"email": {" Ada@New.example.com "}}), "/account/email")
		p = v.get("/account/email/" + id)
		wantContains(t, p, "New address", "We emailed a 6-digit code to your new address, a***a@ne***le.com.", "Check your new email")
		wantRedirect(t, v.post("/account/email/"+id, url.Values{"code": {env.Code(t, "ada@new.example.com", "email_code")}}), "/account?done=email")
		p = v.get("/account?done=email")
		wantContains(t, p, "Your account email is changed.", `<span id="account-email">ada@new.example.com</span>`)
		if m := env.Messages(t, "ada@example.com"); m[0].Purpose != "email_changed" || !strings.Contains(m[0].Text, "/undo?token=") {
			t.Errorf("the old address was not told, with an undo link: %+v", m[0])
		}

		// The secure email, under Security Settings.
		p = v.get("/account/secure-email")
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, "Set a secure email", `href="/account/security" aria-current="page"`)
		id = flowID(t, v.post("/account/secure-email", url.Values{"email": {"ada.safe@example.org"}}), "/account/secure-email")
		wantContains(t, v.get("/account/secure-email/"+id), "ad***fe@ex***le.org")
		wantRedirect(t, v.post("/account/secure-email/"+id, url.Values{"code": {env.Code(t, "ada.safe@example.org", "email_code")}}),
			"/account/security?done=secure_email")
		p = v.get("/account/security?done=secure_email")
		wantContains(t, p, "Your secure email is saved.", `<strong id="secure-email-masked">ad***fe@ex***le.org</strong>`)
		wantAbsent(t, p, "ada.safe@example.org")

		// With a secure email, changing the account email confirms first,
		// from Account Information, and the code goes to the secure email
		// (once the confirmation made above has run out).
		env.Clock.Advance(11 * time.Minute)
		wantRedirect(t, v.get("/account/email"), verifyPath("/account/email"))
		p = v.get(verifyPath("/account/email"))
		wantContains(t, p, `href="/account" aria-current="page"`, "Cancel and go back to Account Information",
			"We will email a 6-digit code to ad***fe@ex***le.org.")

		act := v.get("/account/activity")
		wantContains(t, act, "Account email changed", "Secure email changed")
	})
}

// The code page learns where the code went from a short-lived cookie set
// by the start, so the address never travels in a URL.
func TestPendingCodeCookie(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	env.SignUp(t, "ada@example.com", testPassword)
	v := newVisitor(t, env)
	v.login("ada@example.com", testPassword)
	p := v.post("/account/phone", url.Values{"phone": {phoneA}})
	id := flowID(t, p, "/account/phone")
	if strings.Contains(p.Header.Get("Location"), "8000") {
		t.Errorf("the number is in the redirect %q", p.Header.Get("Location"))
	}
	c := cookieNamed(p, "custos_pending")
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge != 600 {
		t.Fatalf("pending cookie %v", c)
	}
	// A cookie for another change, or none, leaves the page saying less.
	other := newVisitor(t, env)
	other.login("ada@example.com", testPassword)
	q := unesc(other.get("/account/phone/" + id))
	wantContains(t, q, "We texted a 6-digit code to the new number.", "It works for 10 minutes after we sent it")
	wantAbsent(t, q, phoneAMasked, "You can ask for a new code")
	p = v.post("/account/phone/"+id, url.Values{"code": {env.Code(t, phoneA, "phone_code")}})
	wantRedirect(t, p, "/account/security?done=phone")
	if c := cookieNamed(p, "custos_pending"); c == nil || c.MaxAge >= 0 {
		t.Errorf("the pending cookie was not cleared: %v", c)
	}

	// Over HTTPS it is a __Host- cookie like the session's.
	h := testWeb(t, env, web.Deps{SecureCookies: true})
	env.Clock.Advance(time.Minute)
	req := httptest.NewRequest("POST", "/find-accounts", strings.NewReader(url.Values{
		"phone": {phoneB}, "captcha_id": {newCaptchaID(t, env)}, "captcha_answer": {"test"},
	}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("find accounts: %d %s", rec.Code, rec.Body)
	}
	var found bool
	for _, c := range rec.Result().Cookies() {
		if c.Name == "__Host-custos_pending" && c.Secure && c.HttpOnly && c.Path == "/" {
			found = true
		}
	}
	if !found {
		t.Errorf("no secure pending cookie: %v", rec.Result().Cookies())
	}
}

// newCaptchaID makes a captcha through the API.
func newCaptchaID(t *testing.T, env *testserver.Env) string {
	t.Helper()
	r := env.Do(t, "POST", "/api/v1/captcha", "", nil)
	if r.Status != http.StatusCreated {
		t.Fatalf("captcha: %d %s", r.Status, r.Raw)
	}
	return r.String("id")
}
