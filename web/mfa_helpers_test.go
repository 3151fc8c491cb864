package web_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/custos/custos/internal/testserver"
	"github.com/custos/custos/otp"
)

// hidden returns the value of the page's hidden field name, or "".
func hidden(p page, name string) string {
	re := regexp.MustCompile(`<input type="hidden" name="` + regexp.QuoteMeta(name) + `" value="([^"]*)">`)
	m := re.FindStringSubmatch(p.Body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

var secretText = regexp.MustCompile(`id="totp-secret">([^<]*)<`)

// pageSecret reads the authenticator-app key shown on the page.
func pageSecret(t *testing.T, p page) []byte {
	t.Helper()
	m := secretText.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("%s: no #totp-secret on the page\n%s", p.Request.URL.Path, p.Body)
	}
	secret, err := otp.DecodeSecret(m[1])
	if err != nil {
		t.Fatalf("secret %q: %v", m[1], err)
	}
	return secret
}

// totpCode is the code an authenticator app shows now.
func totpCode(env *testserver.Env, secret []byte) string {
	return otp.TOTP(secret, env.Clock.Now(), otp.DefaultParams)
}

// wrongCode is a well-formed code that is not right now.
func wrongCode(env *testserver.Env, secret []byte) string {
	if totpCode(env, secret) == "000000" {
		return "111111"
	}
	return "000000"
}

// bindApp adds an authenticator app through the pages (the account's first
// device, so no confirmation) and returns its seed.
func (v *visitor) bindApp() []byte {
	v.t.Helper()
	p := v.get("/account/security/totp")
	wantStatus(v.t, p, http.StatusOK)
	secret := pageSecret(v.t, p)
	p = v.post("/account/security/totp", url.Values{
		"device_id": {hidden(p, "device_id")}, "uri": {hidden(p, "uri")}, "code": {totpCode(v.env, secret)},
	})
	wantRedirect(v.t, p, "/account/security?done=totp")
	v.secret = secret
	return secret
}

// confirm passes "Confirm it's you" with an authenticator-app code, after
// moving to a fresh time step (each step is accepted once).
func (v *visitor) confirm(secret []byte, next string) {
	v.t.Helper()
	v.env.Clock.Advance(30 * time.Second)
	p := v.post("/account/verify", url.Values{"method": {"totp"}, "code": {totpCode(v.env, secret)}, "next": {next}})
	wantRedirect(v.t, p, next)
}

// deviceIDs lists the MFA devices Security Settings shows.
func deviceIDs(p page) []string {
	var ids []string
	for _, m := range regexp.MustCompile(`data-device="([^"]+)"`).FindAllStringSubmatch(p.Body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// cookieNamed returns the cookie the answer set with name, or nil.
func cookieNamed(p page, name string) *http.Cookie {
	for _, c := range p.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// verifyPath is the confirmation page returning to next.
func verifyPath(next string) string {
	return "/account/verify?" + url.Values{"next": {next}}.Encode()
}

// confirmByEmail passes "Confirm it's you" with a code emailed to `to`.
func (v *visitor) confirmByEmail(to, next string) {
	v.t.Helper()
	p := v.post("/account/verify", url.Values{"method": {"email"}, "next": {next}, "action": {"send"}})
	wantStatus(v.t, p, http.StatusOK)
	id := hidden(p, "id")
	p = v.post("/account/verify", url.Values{"method": {"email"}, "next": {next}, "id": {id}, "code": {v.env.Code(v.t, to, "verification_code")}})
	wantRedirect(v.t, p, next)
}
