package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/custos/custos/internal/testserver"
	"github.com/custos/custos/otp"
	"github.com/custos/custos/web"
)

// protectedAccount signs up email with an authenticator app, recovery
// codes and login protection on (mfa, the default method), through the
// API, and returns the app's seed, the recovery codes and the API session,
// which has just confirmed it's you.
func protectedAccount(t *testing.T, env *testserver.Env, email string) ([]byte, []string, string) {
	t.Helper()
	env.SignUp(t, email, testPassword)
	tok := env.Login(t, email, testPassword)
	r := env.Do(t, "POST", "/api/v1/mfa/totp", tok, nil)
	secret, err := otp.DecodeSecret(r.String("secret"))
	if r.Status != http.StatusCreated || err != nil {
		t.Fatalf("begin totp: %d %s", r.Status, r.Raw)
	}
	if c := env.Do(t, "POST", "/api/v1/mfa/totp/"+r.String("device_id")+"/confirm", tok, map[string]string{"code": totpCode(env, secret)}); c.Status != http.StatusOK {
		t.Fatalf("confirm totp: %d %s", c.Status, c.Raw)
	}
	env.Clock.Advance(30 * time.Second)
	vr := env.Do(t, "POST", "/api/v1/verifications", tok, map[string]string{"method": "totp"})
	if c := env.Do(t, "POST", "/api/v1/verifications/"+vr.String("id"), tok, map[string]string{"code": totpCode(env, secret)}); c.Status != http.StatusOK {
		t.Fatalf("verification: %d %s", c.Status, c.Raw)
	}
	rc := env.Do(t, "POST", "/api/v1/mfa/recovery-codes", tok, nil)
	var codes []string
	for _, c := range rc.Body["codes"].([]any) {
		codes = append(codes, c.(string))
	}
	if p := env.Do(t, "PUT", "/api/v1/account/protection", tok, map[string]bool{"login_protection": true}); p.Status != http.StatusOK {
		t.Fatalf("login protection: %d %s", p.Status, p.Raw)
	}
	env.Clock.Advance(30 * time.Second) // the next code is a fresh step
	return secret, codes, tok
}

// chooseLoginMethod sets the method of the second step of login through
// the API, with a session that has confirmed it's you.
func chooseLoginMethod(t *testing.T, env *testserver.Env, tok, method string) {
	t.Helper()
	if p := env.Do(t, "PUT", "/api/v1/account/protection", tok, map[string]string{"login_method": method}); p.Status != http.StatusOK || p.String("login_method") != method {
		t.Fatalf("choose %s for login: %d %s", method, p.Status, p.Raw)
	}
}

// passwordStep posts the login form and expects the second step. It
// solves a (test) captcha every time: wrong second-factor codes count in the
// same series as wrong passwords, so after three the form needs one.
func (v *visitor) passwordStep(email string) page {
	v.t.Helper()
	p := v.post("/login", v.loginFields(email))
	wantStatus(v.t, p, http.StatusOK)
	wantContains(v.t, p, "One more step to log in")
	// The step posts back here; a security key's, when it is the only
	// method, answers through the script's endpoints instead.
	if hidden(p, "methods") == "webauthn" {
		wantContains(v.t, p, `data-webauthn="login"`, `data-begin="/login/second-factor/webauthn/begin"`)
	} else {
		wantContains(v.t, p, `action="/login/second-factor"`)
	}
	if tok := hidden(p, "login_token"); len(tok) != 43 {
		v.t.Fatalf("login token %q", tok)
	}
	if v.cookie() != "" {
		v.t.Fatal("the password alone set a session cookie")
	}
	return p
}

// loginFields is the login form for email with the right password and a
// solved (test) captcha.
func (v *visitor) loginFields(email string) url.Values {
	v.t.Helper()
	c := v.env.Do(v.t, "POST", "/api/v1/captcha", "", nil)
	if c.Status != http.StatusCreated {
		v.t.Fatalf("captcha: %d %s", c.Status, c.Raw)
	}
	return url.Values{"email": {email}, "password": {testPassword}, "captcha_id": {c.String("id")}, "captcha_answer": {"test"}}
}

// stepForm is the second step's hidden state plus more fields.
func stepForm(p page, more url.Values) url.Values {
	f := url.Values{}
	for _, name := range []string{"login_token", "methods", "email", "sent_to"} {
		if s := hidden(p, name); s != "" {
			f.Set(name, s)
		}
	}
	for k, v := range more {
		f[k] = v
	}
	return f
}

func TestLoginSecondFactor(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		const email = "ada@example.com"
		secret, recovery, tok := protectedAccount(t, env, email)
		v := newVisitor(t, env)
		p := v.passwordStep(email)
		wantSecurityHeaders(t, p)
		wantContains(t, p, "Code from your authenticator app", `autocomplete="one-time-code"`, `inputmode="numeric"`,
			`<input id="trust" name="trust" type="checkbox" value="1">`, "Trust this device for 7 days",
			`name="method" value="recovery_code"`)
		// mfa, the default once a device is bound: nothing weaker is offered.
		wantAbsent(t, p, `value="hardware"`, "<script", "style=", `name="method" value="email"`, `name="method" value="sms"`)
		if got := hidden(p, "methods"); got != "totp,recovery_code" {
			t.Errorf("methods = %q", got)
		}
		if p.Header.Get("Location") != "" || strings.Contains(p.Request.URL.String(), hidden(p, "login_token")) {
			t.Error("the login token is in a URL")
		}
		code := totpCode(env, secret)

		refusals := []struct {
			name string
			form url.Values
			want []string
		}{
			{name: "empty code", form: url.Values{"method": {"totp"}, "code": {""}}, want: []string{"Enter the code."}},
			{name: "wrong code", form: url.Values{"method": {"totp"}, "code": {wrongCode(env, secret)}},
				want: []string{"That code is not right.", `id="code-error"`, `aria-invalid="true"`}},
			{name: "wrong recovery code", form: url.Values{"method": {"recovery_code"}, "code": {"aaaa-bbbb-cccc-dddd"}},
				want: []string{"That recovery code is not right", "Recovery code"}},
			// A form that claims email among the methods changes nothing:
			// the server holds them.
			{name: "email code under mfa", form: url.Values{"methods": {"totp,recovery_code,email"}, "method": {"email"}, "code": {"123456"}},
				want: []string{"Use one of: [totp recovery_code]."}},
			{name: "email code sent under mfa", form: url.Values{"methods": {"totp,recovery_code,email"}, "action": {"send"}, "method": {"email"}},
				want: []string{"Use one of: [totp recovery_code]."}},
		}
		for _, tt := range refusals {
			t.Run(tt.name, func(t *testing.T) {
				p := v.post("/login/second-factor", stepForm(p, tt.form))
				wantStatus(t, p, http.StatusBadRequest)
				if p.Header.Get("WWW-Authenticate") != "" {
					t.Error("the form answered with WWW-Authenticate")
				}
				wantContains(t, p, tt.want...)
				wantContains(t, p, `role="alert"`, `action="/login/second-factor"`)
				if v.cookie() != "" {
					t.Error("a failed step set a session cookie")
				}
			})
		}
		for _, m := range env.Messages(t, email) {
			if m.Purpose == "login_code" {
				t.Fatalf("a login code was emailed under mfa: %+v", m)
			}
		}

		// Switching method re-renders the step for it; nothing is checked.
		q := v.post("/login/second-factor", stepForm(p, url.Values{"action": {"choose"}, "method": {"recovery_code"}}))
		wantStatus(t, q, http.StatusOK)
		wantContains(t, q, `<label for="code">Recovery code</label>`, `autocomplete="off"`, `name="method" value="totp"`)
		wantAbsent(t, q, `role="alert"`)

		// The right code, trusting the device.
		q = v.post("/login/second-factor", stepForm(p, url.Values{"method": {"totp"}, "code": {code}, "trust": {"1"}}))
		wantRedirect(t, q, "/overview")
		if v.cookie() == "" {
			t.Fatal("no session cookie after the second step")
		}
		trusted := cookieNamed(q, web.InsecureTrustedCookieName)
		if trusted == nil || len(trusted.Value) != 43 {
			t.Fatalf("no %s cookie: %v", web.InsecureTrustedCookieName, q.Header.Values("Set-Cookie"))
		}
		if !trusted.HttpOnly || trusted.Secure || trusted.SameSite != http.SameSiteLaxMode || trusted.Path != "/" ||
			trusted.MaxAge != 7*24*3600 || trusted.Domain != "" {
			t.Errorf("trusted-device cookie %s", trusted)
		}
		wantStatus(t, v.get("/account"), http.StatusOK)
		// The token is used up.
		env.Clock.Advance(30 * time.Second)
		q = v.post("/login/second-factor", stepForm(p, url.Values{"method": {"totp"}, "code": {totpCode(env, secret)}}))
		wantStatus(t, q, http.StatusGone)

		// The trusted browser skips the step, even after logging out.
		wantRedirect(t, v.post("/logout", nil), "/login?out=1")
		wantRedirect(t, v.post("/login", v.loginFields(email)), "/overview")

		// Another browser is asked; a recovery code works once.
		other := newVisitor(t, env)
		p = other.passwordStep(email)
		q = other.post("/login/second-factor", stepForm(p, url.Values{"method": {"recovery_code"}, "code": {strings.ToUpper(recovery[0])}}))
		wantRedirect(t, q, "/overview")
		if cookieNamed(q, web.InsecureTrustedCookieName) != nil {
			t.Error("a trusted-device cookie without the box ticked")
		}
		third := newVisitor(t, env)
		p = third.passwordStep(email)
		q = third.post("/login/second-factor", stepForm(p, url.Values{"method": {"recovery_code"}, "code": {recovery[0]}}))
		wantStatus(t, q, http.StatusBadRequest)
		wantContains(t, q, "That recovery code is not right or was already used.")

		// A code by email, once the holder chooses it: then it is the only
		// method, first asked to be sent.
		chooseLoginMethod(t, env, tok, "email")
		third = newVisitor(t, env)
		p = third.passwordStep(email)
		if got := hidden(p, "methods"); got != "email" {
			t.Errorf("methods once email is chosen = %q", got)
		}
		wantContains(t, p, `id="send-code"`)
		wantAbsent(t, p, `name="code"`, `name="method" value="totp"`, `name="method" value="recovery_code"`, `class="other-ways"`)
		q = third.post("/login/second-factor", stepForm(p, url.Values{"method": {"email"}, "code": {"123456"}}))
		wantStatus(t, q, http.StatusBadRequest)
		wantContains(t, q, "Ask for a code first.", `role="alert"`)
		// Nor does the app pass it now, even from a form that claims it.
		env.Clock.Advance(30 * time.Second)
		q = third.post("/login/second-factor", stepForm(p, url.Values{"methods": {"email,totp"}, "method": {"totp"}, "code": {totpCode(env, secret)}}))
		wantStatus(t, q, http.StatusBadRequest)
		wantContains(t, q, "Use one of: [email].", `role="alert"`)
		if third.cookie() != "" {
			t.Fatal("the app passed the step once email is chosen")
		}
		q = third.post("/login/second-factor", stepForm(p, url.Values{"action": {"choose"}, "method": {"email"}}))
		wantStatus(t, q, http.StatusOK)
		wantContains(t, q, `id="send-code"`)
		wantAbsent(t, q, `name="code"`)
		q = third.post("/login/second-factor", stepForm(p, url.Values{"action": {"send"}, "method": {"email"}}))
		wantStatus(t, q, http.StatusOK)
		wantContains(t, q, "We sent a code to a***a@ex***le.com. It expires in 10 minutes.", `name="code"`)
		if hidden(q, "sent_to") != "a***a@ex***le.com" {
			t.Errorf("sent_to = %q", hidden(q, "sent_to"))
		}
		// Once per login.
		r := third.post("/login/second-factor", stepForm(q, url.Values{"action": {"send"}, "method": {"email"}}))
		wantStatus(t, r, http.StatusBadRequest)
		wantContains(t, r, "A code was already sent.")
		q = third.post("/login/second-factor", stepForm(q, url.Values{"method": {"email"}, "code": {env.Code(t, email, "login_code")}}))
		wantRedirect(t, q, "/overview")

		act := third.get("/account/activity")
		wantContains(t, act, "Second step of login failed: wrong code", "A recovery code was used")
	})
}

func TestLoginSecondFactorExpired(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	const email = "ada@example.com"
	secret, _, _ := protectedAccount(t, env, email)
	tests := []struct {
		name  string
		spoil func(p page) url.Values // the form to post, after spoiling the step
	}{
		{name: "too late", spoil: func(p page) url.Values {
			env.Clock.Advance(6 * time.Minute)
			return stepForm(p, url.Values{"method": {"totp"}, "code": {totpCode(env, secret)}})
		}},
		{name: "made up token", spoil: func(p page) url.Values {
			f := stepForm(p, url.Values{"method": {"totp"}, "code": {totpCode(env, secret)}})
			f.Set("login_token", strings.Repeat("A", 43))
			return f
		}},
		{name: "no token", spoil: func(p page) url.Values {
			return url.Values{"method": {"totp"}, "code": {"123456"}, "email": {email}}
		}},
		{name: "send too late", spoil: func(p page) url.Values {
			env.Clock.Advance(6 * time.Minute)
			return stepForm(p, url.Values{"action": {"send"}, "method": {"email"}})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env.Clock.Advance(30 * time.Second)
			v := newVisitor(t, env)
			p := v.passwordStep(email)
			p = v.post("/login/second-factor", tt.spoil(p))
			wantStatus(t, p, http.StatusGone)
			wantContains(t, p, "That login took too long, or was already finished. Enter your password again.",
				`action="/login"`, `value="`+email+`"`, `autocomplete="current-password"`)
			wantAbsent(t, p, `name="login_token"`)
			if v.cookie() != "" {
				t.Error("a dead login token set a session cookie")
			}
		})
	}
	// There is no second step to GET: the token never travels in a URL.
	v := newVisitor(t, env)
	wantRedirect(t, v.get("/login/second-factor"), "/login")
	wantRedirect(t, v.get("/login/second-factor?login_token=abc"), "/login")
}

// TestLoginSecondFactorLocked: wrong codes count with wrong passwords, and
// once password login is paused even the right code is refused, on the
// step itself, with the message and 400.
func TestLoginSecondFactorLocked(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	const email = "ada@example.com"
	secret, _, _ := protectedAccount(t, env, email)
	var steps []page
	for range 3 {
		steps = append(steps, newVisitor(t, env).passwordStep(email))
	}
	v := newVisitor(t, env)
	failures := 0
	for i, n := range []int{5, 4, 1} { // ten wrong codes in all
		for range n {
			p := v.post("/login/second-factor", stepForm(steps[i], url.Values{"method": {"totp"}, "code": {wrongCode(env, secret)}}))
			wantStatus(t, p, http.StatusBadRequest)
			failures++
		}
	}
	p := v.post("/login/second-factor", stepForm(steps[2], url.Values{"method": {"totp"}, "code": {totpCode(env, secret)}}))
	wantStatus(t, p, http.StatusBadRequest)
	wantContains(t, p, `role="alert"`, "Login for this account is paused", `action="/login/second-factor"`)
	if v.cookie() != "" {
		t.Errorf("a locked login set a session cookie after %d wrong codes", failures)
	}
}

// TestSecureTrustedCookie: over HTTPS the trusted-device cookie is a
// Secure __Host- cookie, and the password step reads that name only.
func TestSecureTrustedCookie(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	const email = "ada@example.com"
	secret, _, _ := protectedAccount(t, env, email)
	h := testWeb(t, env, web.Deps{SecureCookies: true})
	post := func(path string, form url.Values, cookies ...*http.Cookie) *httptest.ResponseRecorder {
		t.Helper()
		req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	login := url.Values{"email": {email}, "password": {testPassword}}
	rec := post("/login", login)
	if rec.Code != http.StatusOK {
		t.Fatalf("password step: %d", rec.Code)
	}
	step := page{Body: rec.Body.String()}
	rec = post("/login/second-factor", stepForm(step, url.Values{"method": {"totp"}, "code": {totpCode(env, secret)}, "trust": {"1"}}))
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("second step: %d %s", rec.Code, rec.Body)
	}
	var trusted *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == web.SecureTrustedCookieName {
			trusted = c
		}
	}
	if trusted == nil || !trusted.Secure || !trusted.HttpOnly || trusted.Path != "/" || trusted.Domain != "" ||
		trusted.SameSite != http.SameSiteLaxMode || trusted.MaxAge != 7*24*3600 {
		t.Fatalf("trusted-device cookie %v", rec.Result().Cookies())
	}
	for _, tt := range []struct {
		name, cookie string
		wantStatus   int
	}{
		{name: "secure name", cookie: web.SecureTrustedCookieName, wantStatus: http.StatusSeeOther},
		{name: "plain name", cookie: web.InsecureTrustedCookieName, wantStatus: http.StatusOK},
		{name: "made up", cookie: web.SecureTrustedCookieName + "x", wantStatus: http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if rec := post("/login", login, &http.Cookie{Name: tt.cookie, Value: trusted.Value}); rec.Code != tt.wantStatus {
				t.Errorf("login with %s: %d, want %d", tt.cookie, rec.Code, tt.wantStatus)
			}
		})
	}
}
