package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custos/custos/internal/testserver"
)

// TestLoginReturnTarget: the login page's rd goes back, after sign-in, to a
// local path or a URL on an allowed host, and nowhere else — the login page
// is no open redirect.
func TestLoginReturnTarget(t *testing.T) {
	env := testserver.Start(t, testserver.Options{ReturnHosts: []string{"app.example.com", "tools.example.com:8443"}})
	env.SignUp(t, "rita@example.com", testPassword)
	u, _ := url.Parse(env.URL)
	self := "http://localhost:" + u.Port()
	tests := []struct {
		name, rd string
		followed bool
	}{
		{name: "a local path", rd: "/account/security", followed: true},
		{name: "a local path with a query", rd: "/reports?year=2026&q=a%20b", followed: true},
		{name: "the public URL's own host", rd: self + "/account/activity", followed: true},
		{name: "an allowed host", rd: "https://app.example.com/reports?x=1", followed: true},
		{name: "an allowed host over http", rd: "http://app.example.com/", followed: true},
		{name: "an allowed host in capitals", rd: "https://APP.Example.com/x", followed: true},
		{name: "an allowed host and port", rd: "https://tools.example.com:8443/x", followed: true},
		{name: "encoded slashes stay a local path", rd: "/%2F%2Fevil.example.net", followed: true},
		{name: "a dot segment", rd: "/.//evil.example.net"},
		{name: "a dot-dot segment", rd: "/a/..//evil.example.net"},
		{name: "too long", rd: "/" + strings.Repeat("a", 2048)},
		{name: "another host", rd: "https://evil.example.net/"},
		{name: "an allowed host on another port", rd: "https://app.example.com:8443/"},
		{name: "an allowed host and port without the port", rd: "https://tools.example.com/x"},
		{name: "the public URL's host on another port", rd: "http://localhost:1/"},
		{name: "a suffix of an allowed host", rd: "https://app.example.com.evil.example.net/"},
		{name: "an allowed host as a subdomain", rd: "https://evil.app.example.com/"},
		{name: "scheme-relative", rd: "//evil.example.net/"},
		{name: "scheme-relative with a backslash", rd: "/\\evil.example.net/"},
		{name: "backslashes", rd: "\\\\evil.example.net"},
		{name: "credentials naming an allowed host", rd: "https://app.example.com@evil.example.net/"},
		{name: "a backslash before an allowed host", rd: "https://evil.example.net\\@app.example.com/"},
		{name: "userinfo on an allowed host", rd: "https://user:pw@app.example.com/"},
		{name: "javascript", rd: "javascript:alert(1)"},
		{name: "another scheme", rd: "ftp://app.example.com/"},
		{name: "opaque", rd: "https:evil.example.net"},
		{name: "no host", rd: "https:///evil.example.net"},
		{name: "a relative path", rd: "reports"},
		{name: "a leading space", rd: " https://evil.example.net/"},
		{name: "a tab inside", rd: "/\t/evil.example.net"},
		{name: "a newline", rd: "/x\nLocation: https://evil.example.net/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVisitor(t, env)
			wantStatus(t, v.get("/login?"+url.Values{"rd": {tt.rd}}.Encode()), http.StatusOK)
			v.login("rita@example.com", testPassword)
			p := v.get("/overview")
			if !tt.followed {
				wantStatus(t, p, http.StatusOK)
				return
			}
			want, err := url.Parse(tt.rd)
			if err != nil {
				t.Fatal(err)
			}
			wantRedirect(t, p, want.String())
			// Followed once: the next visit shows the page.
			wantStatus(t, v.get("/overview"), http.StatusOK)
		})
	}

	t.Run("already signed in", func(t *testing.T) {
		v := newVisitor(t, env)
		v.login("rita@example.com", testPassword)
		wantRedirect(t, v.get("/login?rd="+url.QueryEscape("https://app.example.com/back")), "/overview")
		wantRedirect(t, v.get("/overview"), "https://app.example.com/back")
	})
	t.Run("a planted cookie is checked again", func(t *testing.T) {
		v := newVisitor(t, env)
		v.login("rita@example.com", testPassword)
		v.client.Jar.SetCookies(u, []*http.Cookie{{Name: "custos_return", Value: url.QueryEscape("https://evil.example.net/"), Path: "/"}})
		wantStatus(t, v.get("/overview"), http.StatusOK)
	})
	t.Run("a refused target leaves an earlier one", func(t *testing.T) {
		v := newVisitor(t, env)
		wantStatus(t, v.get("/login?rd="+url.QueryEscape("/account/security")), http.StatusOK)
		wantStatus(t, v.get("/login?rd="+url.QueryEscape("https://evil.example.net/")), http.StatusOK)
		v.login("rita@example.com", testPassword)
		wantRedirect(t, v.get("/overview"), "/account/security")
	})
}
