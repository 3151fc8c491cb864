package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custos/custos/internal/testserver"
	"github.com/custos/custos/web"
)

func TestSignedInPagesNeedASession(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		paths := []string{"/account", "/account/devices", "/account/activity", "/account/devices/ses_0123/revoke"}
		tests := []struct {
			name   string
			cookie string // "" sends none
		}{
			{name: "no cookie"},
			{name: "unknown token", cookie: strings.Repeat("A", 43)},
			{name: "malformed token", cookie: "nonsense"},
		}
		for _, tt := range tests {
			for _, path := range paths {
				t.Run(tt.name+path, func(t *testing.T) {
					req, err := http.NewRequest("GET", env.URL+path, nil)
					if err != nil {
						t.Fatal(err)
					}
					if tt.cookie != "" {
						req.AddCookie(&http.Cookie{Name: web.InsecureCookieName, Value: tt.cookie})
					}
					p := newVisitor(t, env).do(req)
					wantRedirect(t, p, "/login")
					cleared := false
					for _, c := range p.Cookies() {
						if c.Name == web.InsecureCookieName && c.MaxAge < 0 {
							cleared = true
						}
					}
					if cleared != (tt.cookie != "") {
						t.Errorf("cookie cleared = %v, want %v", cleared, tt.cookie != "")
					}
				})
			}
		}
		// The form's POST is protected too.
		p := newVisitor(t, env).post("/account/devices/ses_0123/revoke", nil)
		wantRedirect(t, p, "/login")
	})
}

func TestRevokeAnotherSession(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		env.SignUp(t, "ada@example.com", testPassword)
		otherToken := env.Login(t, "ada@example.com", testPassword) // a phone, say
		v := newVisitor(t, env)
		v.login("ada@example.com", testPassword)

		p := v.get("/account/devices")
		wantStatus(t, p, http.StatusOK)
		if n := strings.Count(p.Body, `data-session="`); n != 2 {
			t.Fatalf("devices page lists %d sessions, want 2", n)
		}
		ids := revokeIDs(p)
		if len(ids) != 1 {
			t.Fatalf("devices page offers %d revoke links, want 1 (not this device)", len(ids))
		}
		confirm := "/account/devices/" + ids[0] + "/revoke"

		p = v.get(confirm)
		wantStatus(t, p, http.StatusOK)
		wantSecurityHeaders(t, p)
		wantContains(t, p, "Sign out this device?", "logged out at once", `method="post" action="`+confirm+`"`,
			`href="/account/devices"`)
		if r := env.Do(t, "GET", "/api/v1/session", otherToken, nil); r.Status != http.StatusOK {
			t.Fatalf("the confirmation page alone ended the session: %d", r.Status)
		}

		wantRedirect(t, v.post(confirm, nil), "/account/devices?revoked=1")
		if r := env.Do(t, "GET", "/api/v1/session", otherToken, nil); r.Status != http.StatusUnauthorized {
			t.Errorf("revoked session still answers %d", r.Status)
		}
		p = v.get("/account/devices?revoked=1")
		wantContains(t, p, "That device is signed out.")
		if n := strings.Count(p.Body, `data-session="`); n != 1 {
			t.Errorf("after revoking, %d sessions listed, want 1", n)
		}
		wantContains(t, v.get("/account/activity"), "A device was signed out")

		// Again: the session is gone.
		wantStatus(t, v.post(confirm, nil), http.StatusNotFound)
		wantStatus(t, v.get(confirm), http.StatusNotFound)
	})
}

func TestCannotRevokeOwnSessionFromDevices(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	env.SignUp(t, "ada@example.com", testPassword)
	v := newVisitor(t, env)
	v.login("ada@example.com", testPassword)
	own := regexp.MustCompile(`data-session="([^"]+)"`).FindStringSubmatch(v.get("/account/devices").Body)
	if own == nil {
		t.Fatal("no session listed")
	}
	path := "/account/devices/" + own[1] + "/revoke"
	wantStatus(t, v.get(path), http.StatusBadRequest)
	p := v.post(path, nil)
	wantStatus(t, p, http.StatusBadRequest)
	wantContains(t, p, "log out")
	wantStatus(t, v.get("/account"), http.StatusOK)
}

func TestLogout(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		env.SignUp(t, "ada@example.com", testPassword)
		v := newVisitor(t, env)
		v.login("ada@example.com", testPassword)
		old := v.cookie()

		p := v.post("/logout", nil)
		wantRedirect(t, p, "/login?out=1")
		wantContains(t, v.get("/login?out=1"), "You are logged out.")
		if v.cookie() != "" {
			t.Error("logout left the cookie in the browser")
		}

		// The old cookie, replayed, no longer opens anything.
		req, _ := http.NewRequest("GET", env.URL+"/account", nil)
		req.AddCookie(&http.Cookie{Name: web.InsecureCookieName, Value: old})
		wantRedirect(t, newVisitor(t, env).do(req), "/login")
		if r := env.Do(t, "GET", "/api/v1/session", old, nil); r.Status != http.StatusUnauthorized {
			t.Errorf("the logged-out token still answers %d on the API", r.Status)
		}

		// Logging out without a session just goes to the login page.
		wantRedirect(t, newVisitor(t, env).post("/logout", nil), "/login?out=1")
	})
}

func TestIdleSessionEnds(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	env.SignUp(t, "ada@example.com", testPassword)
	v := newVisitor(t, env)
	v.login("ada@example.com", testPassword)
	env.Clock.Advance(31 * time.Minute)
	wantRedirect(t, v.get("/account"), "/login")
	if v.cookie() != "" {
		t.Error("the dead session's cookie was not cleared")
	}
}

func TestSecureCookie(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	env.SignUp(t, "ada@example.com", testPassword)
	h := testWeb(t, env, web.Deps{SecureCookies: true})

	req := httptest.NewRequest("POST", "/login", strings.NewReader(url.Values{
		"email": {"ada@example.com"}, "password": {testPassword},
	}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	// The session cookie, and the browser's id for new-device alerts
	// (long-lived, with the same __Host- rules).
	var c, browser *http.Cookie
	for _, k := range rec.Result().Cookies() {
		switch k.Name {
		case web.SecureCookieName:
			c = k
		case "__Host-custos_browser":
			browser = k
		default:
			t.Errorf("login set the cookie %s", k)
		}
	}
	if c == nil || browser == nil {
		t.Fatalf("login set %v", rec.Result().Cookies())
	}
	if !browser.Secure || !browser.HttpOnly || browser.Path != "/" || browser.Domain != "" || len(browser.Value) != 43 || browser.MaxAge < 180*24*3600 {
		t.Errorf("browser id cookie %s", browser)
	}
	if c.Name != web.SecureCookieName || !c.Secure || !c.HttpOnly || c.Path != "/" ||
		c.SameSite != http.SameSiteLaxMode || c.Domain != "" || c.MaxAge != 0 || !c.Expires.IsZero() {
		t.Errorf("secure session cookie %s", c)
	}

	// The page reads the __Host- cookie, and not the plain one.
	for _, tt := range []struct {
		name, cookie string
		wantStatus   int
	}{
		{name: "secure name", cookie: web.SecureCookieName, wantStatus: http.StatusOK},
		{name: "plain name", cookie: web.InsecureCookieName, wantStatus: http.StatusSeeOther},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/account", nil)
			req.AddCookie(&http.Cookie{Name: tt.cookie, Value: c.Value})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Errorf("GET /account: %d, want %d", rec.Code, tt.wantStatus)
			}
		})
	}
}
