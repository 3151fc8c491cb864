package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/custos/custos/app"
	"github.com/custos/custos/internal/testserver"
	"github.com/custos/custos/web"
)

func TestPagesRender(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		env.SignUp(t, "ada@example.com", testPassword)
		v := newVisitor(t, env)
		tests := []struct {
			name     string
			path     string
			signedIn bool
			// confirm: the page comes after "confirm it's you" (by a code
			// to the account email).
			confirm bool
			want    []string
		}{
			{name: "signup", path: "/signup", want: []string{
				`<label for="email">`, `autocomplete="email"`, `autocomplete="new-password"`,
				`value="personal" checked`, `value="enterprise"`, `href="/login"`,
			}},
			{name: "verify", path: "/signup/verify?id=ver_0123", want: []string{
				`autocomplete="one-time-code"`, `inputmode="numeric"`, `pattern="[0-9]*"`,
				`name="id" value="ver_0123"`, "the 6-digit code we emailed you", "10 minutes",
			}},
			{name: "login", path: "/login", want: []string{
				`autocomplete="username"`, `autocomplete="current-password"`, `href="/signup"`,
				`href="/forgot-password"`, `href="/find-accounts"`,
			}},
			{name: "find my accounts", path: "/find-accounts", want: []string{
				`<label for="phone">`, `type="tel"`, `autocomplete="tel"`, `<label for="captcha_answer">`, `/audio"`,
			}},
			{name: "forgot password", path: "/forgot-password", want: []string{
				`<label for="email">`, `<label for="phone">`, `autocomplete="username"`, `autocomplete="tel"`, `<label for="captcha_answer">`,
			}},
			{name: "find code", path: "/find-accounts/rec_0123", want: []string{
				`autocomplete="one-time-code"`, `action="/find-accounts/rec_0123"`, "10 minutes",
			}},
			{name: "forgot code", path: "/forgot-password/rec_0123", want: []string{
				"If an account matches, we sent a code to its phone or email on file.", `autocomplete="one-time-code"`,
			}},
			{name: "password changed", path: "/forgot-password/done", want: []string{`href="/login"`}},
			{name: "it wasn't me", path: "/undo?token=abc", want: []string{
				"End every session and require a password reset?", `name="token" value="abc"`,
			}},
			{name: "login after sign-up", path: "/login?created=1", want: []string{
				"Your account is ready; log in.",
			}},
			{name: "outbox", path: "/dev/outbox", want: []string{`data-to="ada@example.com"`, `data-code="`}},
			{name: "account", path: "/account", signedIn: true, want: []string{
				"Account Information", "ada@example.com", "Personal", `aria-current="page"`,
				`action="/logout"`,
			}},
			{name: "devices", path: "/account/devices", signedIn: true, want: []string{"This device"}},
			{name: "activity", path: "/account/activity", signedIn: true, want: []string{"Account created", "Logged in"}},
			{name: "security", path: "/account/security", signedIn: true, want: []string{
				"Security Settings", `href="/account/security" aria-current="page"`, `href="/account/security/password"`,
				`href="/account/security/totp"`, `href="/account/security/hardware"`, `href="/account/security/recovery"`,
				`name="login_protection" value="true"`, `name="operation_protection" value="true"`,
			}},
			{name: "confirm it's you", path: "/account/verify?next=/account/security", signedIn: true, want: []string{
				"Confirm it&#39;s you", `name="next" value="/account/security"`, "Send code",
			}},
			{name: "phone", path: "/account/phone", signedIn: true, want: []string{
				`<label for="phone">`, `type="tel"`, `autocomplete="tel"`, `href="/account/security" aria-current="page"`,
			}},
			{name: "phone code", path: "/account/phone/chg_0123", signedIn: true, want: []string{
				`autocomplete="one-time-code"`, "the new number", "10 minutes", `href="/account/phone"`,
			}},
			{name: "account email", path: "/account/email", signedIn: true, confirm: true, want: []string{
				`<label for="email">`, `autocomplete="email"`, `href="/account" aria-current="page"`,
			}},
			{name: "secure email", path: "/account/secure-email", signedIn: true, want: []string{
				`<label for="email">`, "Set a secure email",
			}},
			{name: "hardware token", path: "/account/security/hardware", signedIn: true, want: []string{
				`<label for="serial">`, `autocomplete="one-time-code"`,
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if tt.signedIn && v.cookie() == "" {
					v.login("ada@example.com", testPassword)
				}
				if tt.confirm {
					wantRedirect(t, v.get(tt.path), "/account/verify?next="+url.QueryEscape(tt.path))
					v.confirmByEmail("ada@example.com", tt.path)
				}
				p := v.get(tt.path)
				wantStatus(t, p, http.StatusOK)
				wantSecurityHeaders(t, p)
				if ct := p.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
					t.Errorf("Content-Type %q", ct)
				}
				if cc := p.Header.Get("Cache-Control"); cc != "no-store" {
					t.Errorf("Cache-Control %q", cc)
				}
				wantContains(t, p, tt.want...)
				wantContains(t, p, `<html lang="en">`, `href="/static/style.css"`)
				// The CSP forbids inline styles and scripts.
				wantAbsent(t, p, "style=", "<style", "onclick=")
				wantOnlyStaticScripts(t, p)
				if strings.Contains(p.Body, `role="alert"`) {
					t.Error("a page without a problem shows the error summary")
				}
			})
		}
	})
}

func TestStatic(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	v := newVisitor(t, env)
	tests := []struct {
		name       string
		path       string
		wantStatus int
		wantType   string
	}{
		{name: "stylesheet", path: "/static/style.css", wantStatus: 200, wantType: "text/css; charset=utf-8"},
		{name: "icon", path: "/static/icon.svg", wantStatus: 200, wantType: "image/svg+xml"},
		{name: "security-key script", path: "/static/webauthn.js", wantStatus: 200, wantType: "text/javascript; charset=utf-8"},
		{name: "missing", path: "/static/nope.css", wantStatus: 404},
		{name: "directory", path: "/static/", wantStatus: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := v.get(tt.path)
			wantStatus(t, p, tt.wantStatus)
			if tt.wantType != "" {
				if got := p.Header.Get("Content-Type"); got != tt.wantType {
					t.Errorf("Content-Type %q, want %q", got, tt.wantType)
				}
				wantSecurityHeaders(t, p)
			}
		})
	}
}

func TestRoot(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	env.SignUp(t, "ada@example.com", testPassword)
	v := newVisitor(t, env)
	wantRedirect(t, v.get("/"), "/login")
	v.login("ada@example.com", testPassword)
	wantRedirect(t, v.get("/"), "/overview")
	wantRedirect(t, v.get("/login"), "/overview")

	// The pages do not shadow the API's own 404.
	p := v.get("/api/v1/nope")
	wantStatus(t, p, http.StatusNotFound)
	if ct := p.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("/api/v1/nope answered %q, want the API's JSON", ct)
	}
}

func TestSignupThroughForms(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		v := newVisitor(t, env)
		p := v.post("/signup", url.Values{
			"email": {" Grace@Example.com "}, "password": {testPassword}, "kind": {"enterprise"},
		})
		wantStatus(t, p, http.StatusSeeOther)
		loc, err := url.Parse(p.Header.Get("Location"))
		if err != nil || loc.Path != "/signup/verify" || loc.Query().Get("id") == "" {
			t.Fatalf("sign-up redirected to %q, want /signup/verify?id=…", p.Header.Get("Location"))
		}
		id := loc.Query().Get("id")
		wantStatus(t, v.get(loc.String()), http.StatusOK)

		p = v.post("/signup/verify", url.Values{"id": {id}, "code": {""}})
		wantStatus(t, p, http.StatusBadRequest)
		wantContains(t, p, `role="alert"`, `href="#code"`, "Enter the 6-digit code")

		code := env.Code(t, "grace@example.com", "signup_code")
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		p = v.post("/signup/verify", url.Values{"id": {id}, "code": {wrong}})
		wantStatus(t, p, http.StatusBadRequest)
		wantContains(t, p, `role="alert"`, `id="code-error"`, `aria-invalid="true"`, "That code is not right.")

		// A pasted code with a space in the middle is fine.
		p = v.post("/signup/verify", url.Values{"id": {id}, "code": {code[:3] + " " + code[3:]}})
		wantRedirect(t, p, "/login?created=1&email=grace%40example.com")
		wantContains(t, v.get("/login?created=1&email=grace%40example.com"), "Your account is ready; log in.",
			`value="grace@example.com"`)

		p = v.post("/login", url.Values{"email": {"grace@example.com"}, "password": {testPassword}})
		wantRedirect(t, p, "/overview")
		var c *http.Cookie
		for _, k := range p.Cookies() {
			if k.Name == web.InsecureCookieName {
				c = k
			}
		}
		if c == nil {
			t.Fatalf("login set no %s cookie: %v", web.InsecureCookieName, p.Header.Values("Set-Cookie"))
		}
		if !c.HttpOnly || c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" ||
			c.MaxAge != 0 || !c.Expires.IsZero() || c.Domain != "" {
			t.Errorf("session cookie %s", c)
		}
		p = v.get("/account")
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, "grace@example.com", "Enterprise")
	})
}

func TestSignupFormErrors(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		tests := []struct {
			name     string
			form     url.Values
			want     []string
			wantKeep string // the email value kept in the form
		}{
			{
				name:     "short password",
				form:     url.Values{"email": {"ada@example.com"}, "password": {"abc"}, "kind": {"personal"}},
				want:     []string{`id="password-error"`, "at least 8 characters", `href="#password"`},
				wantKeep: `value="ada@example.com"`,
			},
			{
				name:     "common password",
				form:     url.Values{"email": {"ada@example.com"}, "password": {"password123"}, "kind": {"personal"}},
				want:     []string{`id="password-error"`, "commonly used"},
				wantKeep: `value="ada@example.com"`,
			},
			{
				name:     "invalid email",
				form:     url.Values{"email": {"not an email"}, "password": {testPassword}, "kind": {"personal"}},
				want:     []string{`id="email-error"`, "Enter an email address like name@example.com.", `href="#email"`},
				wantKeep: `value="not an email"`,
			},
			{
				name:     "every problem at once",
				form:     url.Values{"email": {"ada@"}, "password": {"abc"}, "kind": {"family"}},
				want:     []string{`id="email-error"`, `id="password-error"`, `id="kind-error"`, "Choose Personal or Enterprise."},
				wantKeep: `value="ada@"`,
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				p := newVisitor(t, env).post("/signup", tt.form)
				wantStatus(t, p, http.StatusBadRequest)
				wantSecurityHeaders(t, p)
				wantContains(t, p, tt.want...)
				wantContains(t, p, `role="alert"`, `tabindex="-1" autofocus`, "There is a problem", tt.wantKeep)
				wantAbsent(t, p, `value="`+tt.form.Get("password")+`"`)
				if n := strings.Count(p.Body, "autofocus"); n != 1 {
					t.Errorf("%d autofocus attributes, want only the summary's", n)
				}
			})
		}
		if msgs := env.Messages(t, "ada@example.com"); len(msgs) != 0 {
			t.Errorf("a rejected sign-up sent %d messages", len(msgs))
		}
	})
}

func TestVerifyExpired(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	v := newVisitor(t, env)
	p := v.post("/signup", url.Values{"email": {"ada@example.com"}, "password": {testPassword}, "kind": {"personal"}})
	wantStatus(t, p, http.StatusSeeOther)
	loc, _ := url.Parse(p.Header.Get("Location"))
	env.Clock.Advance(11 * time.Minute)
	p = v.post("/signup/verify", url.Values{"id": {loc.Query().Get("id")}, "code": {env.Code(t, "ada@example.com", "signup_code")}})
	wantStatus(t, p, http.StatusGone)
	wantContains(t, p, `role="alert"`, "expired", `href="/signup"`)
	wantAbsent(t, p, `name="code"`)

	wantStatus(t, v.get("/signup/verify"), http.StatusBadRequest)
}

func TestLoginFailure(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		env.SignUp(t, "ada@example.com", testPassword)
		tests := []struct {
			name  string
			email string
			pw    string
		}{
			{name: "wrong password", email: "ada@example.com", pw: "not the password"},
			{name: "unknown email", email: "nobody@example.com", pw: testPassword},
			{name: "empty form", email: "", pw: ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				v := newVisitor(t, env)
				p := v.post("/login", url.Values{"email": {tt.email}, "password": {tt.pw}})
				if p.StatusCode != http.StatusOK && p.StatusCode != http.StatusBadRequest {
					t.Fatalf("status %d, want 200 or 400 (never 401)", p.StatusCode)
				}
				if p.Header.Get("WWW-Authenticate") != "" {
					t.Error("the form answered with WWW-Authenticate")
				}
				wantSecurityHeaders(t, p)
				wantContains(t, p, `role="alert"`, "The email or password is not right.", `value="`+tt.email+`"`,
					`autocomplete="current-password"`)
				if tt.pw != "" {
					wantAbsent(t, p, tt.pw)
				}
				if v.cookie() != "" {
					t.Error("a failed login set a session cookie")
				}
			})
		}
		// The failures are on the account's record.
		v := newVisitor(t, env)
		v.login("ada@example.com", testPassword)
		wantContains(t, v.get("/account/activity"), "Login failed: wrong password")
	})
}

// testWeb builds the pages on their own, around the test server's service,
// to try the settings the test server does not use.
func testWeb(t *testing.T, env *testserver.Env, d web.Deps) http.Handler {
	t.Helper()
	d.Auth, d.MFA, d.Clock = env.App.Auth, env.App.MFA, env.Clock
	d.Binding, d.Recovery = env.App.Binding, env.App.Recovery
	mux := http.NewServeMux()
	web.New(d).Register(mux)
	return mux
}

func TestOutboxAbsentWithoutDir(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	h := testWeb(t, env, web.Deps{Outbox: nil})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/dev/outbox", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("GET /dev/outbox without an outbox: %d, want 404", rec.Code)
	}
	// And with one, it lists the messages newest first.
	env.SignUp(t, "first@example.com", testPassword)
	env.Clock.Advance(time.Second) // the fake clock stands still; order needs time
	env.SignUp(t, "second@example.com", testPassword)
	h = testWeb(t, env, web.Deps{Outbox: app.OutboxReader(env.Outbox)})
	local := func(set func(r *http.Request)) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/dev/outbox", nil)
		req.RemoteAddr, req.Host = "127.0.0.1:50000", "127.0.0.1:8080"
		if set != nil {
			set(req)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	// Only for the person at this machine: a request a proxy forwarded, or
	// one from elsewhere, gets nothing.
	for name, set := range map[string]func(r *http.Request){
		"forwarded":      func(r *http.Request) { r.Header.Set("X-Forwarded-For", "203.0.113.9") },
		"Forwarded":      func(r *http.Request) { r.Header.Set("Forwarded", "for=203.0.113.9") },
		"another peer":   func(r *http.Request) { r.RemoteAddr = "192.0.2.1:1234" },
		"a public Host":  func(r *http.Request) { r.Host = "account.example.com" },
		"via a proxy":    func(r *http.Request) { r.Header.Set("Via", "1.1 proxy") },
		"a real-ip hint": func(r *http.Request) { r.Header.Set("X-Real-IP", "203.0.113.9") },
	} {
		if rec := local(set); rec.Code != http.StatusNotFound || strings.Contains(rec.Body.String(), "data-code") {
			t.Errorf("GET /dev/outbox %s: %d, want 404 and no code", name, rec.Code)
		}
	}
	rec = local(nil)
	body := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /dev/outbox: %d", rec.Code)
	}
	code := env.Code(t, "first@example.com", "signup_code")
	if !strings.Contains(body, `data-to="first@example.com" data-purpose="signup_code" data-code="`+code+`"`) {
		t.Errorf("outbox page lacks the first message's code %s:\n%s", code, body)
	}
	if strings.Index(body, "second@example.com") > strings.Index(body, "first@example.com") {
		t.Error("outbox page is not newest first")
	}
}

func TestServerErrorShowsOnlyRequestID(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	env.SignUp(t, "ada@example.com", testPassword)
	v := newVisitor(t, env)
	v.login("ada@example.com", testPassword)
	env.App.Store.Close() // the database goes away
	p := v.get("/account")
	if p.StatusCode < 500 {
		t.Fatalf("status %d with the database closed, want 5xx", p.StatusCode)
	}
	wantSecurityHeaders(t, p)
	id := p.Header.Get("X-Request-Id")
	if id == "" {
		t.Fatal("no X-Request-Id")
	}
	wantContains(t, p, id, "Something went wrong on our side")
	wantAbsent(t, p, "sql", "database")
}
