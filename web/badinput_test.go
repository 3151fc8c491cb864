package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custos/custos/internal/testserver"
)

// TestFormNULAndInvalidUTF8Refused: a form field holding a NUL or invalid
// UTF-8 is refused with 400 before any service (and so the store) sees it;
// PostgreSQL text can hold neither, and answered them with a 500. A
// query value is refused the same way, before any page.
func TestFormNULAndInvalidUTF8Refused(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		env.SignUp(t, "form@example.com", testPassword)
		signedIn := newVisitor(t, env)
		signedIn.login("form@example.com", testPassword)

		forms := []struct {
			v    *visitor
			path string
			form url.Values
		}{
			{newVisitor(t, env), "/login", url.Values{"email": {"form\x00@example.com"}, "password": {testPassword}}},
			{newVisitor(t, env), "/login", url.Values{"email": {"form@example.com"}, "password": {"a\xffb"}}},
			{newVisitor(t, env), "/login", url.Values{"email": {"form@example.com"}, "password": {"x"}, "captcha_id": {"cap\x00"}}},
			{newVisitor(t, env), "/signup", url.Values{"email": {"new\x00@example.com"}, "password": {testPassword}, "kind": {"personal"}}},
			{newVisitor(t, env), "/signup/verify", url.Values{"id": {"ver_\x00"}, "code": {"123456"}}},
			{newVisitor(t, env), "/find-accounts", url.Values{"phone": {"+86138\x0000138000"}}},
			{newVisitor(t, env), "/forgot-password", url.Values{"email": {"form\xff@example.com"}}},
			{newVisitor(t, env), "/undo", url.Values{"token": {"tok\x00"}}},
			{signedIn, "/account/security/password", url.Values{"password": {"a\x00b"}, "password_again": {"a\x00b"}}},
			{signedIn, "/account/verify", url.Values{"method": {"email\x00"}}},
		}
		for _, f := range forms {
			p := f.v.post(f.path, f.form)
			if p.StatusCode != http.StatusBadRequest {
				t.Errorf("POST %s %q: status %d, want 400\n%s", f.path, f.form.Encode(), p.StatusCode, p.Body)
			}
		}

		v := newVisitor(t, env)
		for _, path := range []string{"/signup/verify?id=ver_%00", "/undo?token=%FF", "/login?email=a%00b", "/find-accounts/%00"} {
			if p := v.get(path); p.StatusCode != http.StatusBadRequest {
				t.Errorf("GET %s: status %d, want 400\n%s", path, p.StatusCode, p.Body)
			}
		}

		// The form still works with clean text, and the session too.
		newVisitor(t, env).login("form@example.com", testPassword)
		if p := signedIn.get("/account"); p.StatusCode != http.StatusOK || !strings.Contains(p.Body, "form@example.com") {
			t.Errorf("GET /account: status %d", p.StatusCode)
		}
	})
}
