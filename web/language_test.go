package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custos/custos/internal/testserver"
)

// getIn is GET path with an Accept-Language header.
func (v *visitor) getIn(path, acceptLanguage string) page {
	v.t.Helper()
	req, err := http.NewRequest("GET", v.env.URL+path, nil)
	if err != nil {
		v.t.Fatal(err)
	}
	req.Header.Set("Accept-Language", acceptLanguage)
	return v.do(req)
}

// TestPageLanguage: Accept-Language picks the page language (with
// q-values); the switch's cookie wins over it; a signed-in account's saved
// language wins over the header but not over the cookie; the switch
// returns only to a path on this site and refuses an unknown language.
func TestPageLanguage(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	env.SignUp(t, "pick@example.com", testPassword)
	v := newVisitor(t, env)
	zh, en := `<html lang="zh-CN">`, `<html lang="en">`

	for _, tt := range []struct{ header, want string }{
		{"", en}, {"zh-CN", zh}, {"zh", zh}, {"zh-Hans", zh}, {"en-GB", en},
		{"fr-FR,zh;q=0.8", zh}, {"en;q=0.5,zh-CN;q=0.9", zh}, {"zh;q=0,en", en}, {"de", en},
	} {
		p := v.getIn("/login", tt.header)
		wantStatus(t, p, 200)
		if !strings.Contains(p.Body, tt.want) {
			t.Errorf("Accept-Language %q: the page is not %s", tt.header, tt.want)
		}
	}
	if p := v.getIn("/login", "zh-CN"); !strings.Contains(p.Body, "登录") || strings.Contains(p.Body, ">Log in<") {
		t.Errorf("the Chinese login page does not read in Chinese")
	}

	// The switch, signed out: a cookie, and back to the page.
	p := v.post("/language", url.Values{"lang": {"zh-CN"}, "next": {"/login?created=1"}})
	wantRedirect(t, p, "/login?created=1")
	if c := p.Header.Get("Set-Cookie"); !strings.Contains(c, "custos_lang=zh-CN") || !strings.Contains(c, "HttpOnly") {
		t.Errorf("the switch set %q", c)
	}
	if p := v.getIn("/login", "en"); !strings.Contains(p.Body, zh) {
		t.Error("the cookie does not win over Accept-Language")
	}
	for _, next := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example", "evil", "", "javascript:alert(1)"} {
		p := v.post("/language", url.Values{"lang": {"en"}, "next": {next}})
		wantRedirect(t, p, "/")
	}
	p = v.post("/language", url.Values{"lang": {"fr"}, "next": {"/login"}})
	wantStatus(t, p, 400)

	// Signed in, the switch saves the choice on the account: a browser
	// without the cookie that asks for English gets it in Chinese.
	v.login("pick@example.com", testPassword)
	p = v.post("/language", url.Values{"lang": {"zh-CN"}, "next": {"/account/security"}})
	wantRedirect(t, p, "/account/security")
	other := newVisitor(t, env)
	other.login("pick@example.com", testPassword)
	if p := other.getIn("/account", "en"); !strings.Contains(p.Body, zh) {
		t.Error("the account's saved language does not win over Accept-Language")
	}
	// The cookie wins over the saved language.
	other.post("/language", url.Values{"lang": {"en"}, "next": {"/account"}})
	if p := other.getIn("/account", "zh-CN"); !strings.Contains(p.Body, en) {
		t.Error("the cookie does not win over the account's saved language")
	}
	// and that switch saved English on the account.
	third := newVisitor(t, env)
	third.login("pick@example.com", testPassword)
	if p := third.getIn("/account", "zh-CN"); !strings.Contains(p.Body, en) {
		t.Error("the switch while signed in did not save English on the account")
	}
}
