package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/custos/custos"
	"github.com/custos/custos/internal/testserver"
)

// TestBrowserSubUserMustBindMFA: a root creates a sub-user who must bind
// an authenticator app, from Sub-accounts through "confirm it's you"; the
// sub-user binds one at login (through the API, with oathtool's code);
// the root's page of the sub-user then says the MFA is bound.
func TestBrowserSubUserMustBindMFA(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	b := newTab(t, env)
	const email = "lead@example.com"
	rootID := env.SignUp(t, email, testPassword)
	browserLogin(t, b, email)

	b.click(`.sidenav a[href="/account/sub-users"]`)
	if got := b.path(); got != "/account/sub-users" {
		t.Fatalf("Sub-accounts is at %s", got)
	}
	if got := b.text(`.sidenav a[aria-current="page"]`); got != "Sub-accounts" {
		t.Errorf("current navigation item %q", got)
	}
	if got := b.text("#root-account-id"); got != rootID {
		t.Errorf("the root's id shows as %q, want %s", got, rootID)
	}
	if got := b.text("#root-account-hint"); got != "Sub-users log in with this account id and their user name." {
		t.Errorf("hint %q", got)
	}

	// Create sub-user: confirm it's you first, by an emailed code.
	b.click("#create-sub-user")
	if got := b.path(); !strings.HasPrefix(got, "/account/verify?") {
		t.Fatalf("Create sub-user went to %s, not the confirmation", got)
	}
	b.click("#send-code")
	b.do("type the emailed code", chromedp.SendKeys(chromedp.ID("code"), env.Code(t, email, custos.MsgVerificationCode)))
	b.click(`form[action="/account/verify"] button[type=submit]`)
	if got := b.path(); got != "/account/sub-users/new" {
		t.Fatalf("after confirming the browser is at %s", got)
	}
	if got := b.eval(`String(document.getElementById("console_login").checked)`); got != "true" {
		t.Errorf("console login is checked: %s", got)
	}
	if got := b.eval(`String(document.getElementById("login_protection-off").checked)`); got != "true" {
		t.Errorf("login protection off is checked: %s", got)
	}
	b.do("fill in the sub-user",
		chromedp.SendKeys(chromedp.ID("user_name"), "Ann.Dev"),
		chromedp.SendKeys(chromedp.ID("password"), subUserPassword),
		chromedp.Click(chromedp.ID("must_bind_mfa")),
	)
	b.fullScreenshot("subuser-new.png")
	b.click(`form[action="/account/sub-users/new"] button[type=submit]`)
	path, _, _ := strings.Cut(b.path(), "?")
	if !strings.HasPrefix(path, "/account/sub-users/acc_") {
		t.Fatalf("after creating the browser is at %s", b.path())
	}
	if got := b.text(".notice"); got != "The sub-user is created." {
		t.Errorf("notice %q", got)
	}
	if got := b.text("#sub-user-name"); got != "ann.dev" {
		t.Errorf("user name %q", got)
	}
	if got := b.text("#mfa-state"); got != "MFA to be bound" {
		t.Errorf("before binding the MFA state is %q", got)
	}

	// The sub-user logs in: no session until an app is bound.
	l := env.Do(t, "POST", "/api/v1/login", "", map[string]string{"root_account_id": rootID, "user_name": "ann.dev", "password": subUserPassword})
	if l.Status != http.StatusOK || l.String("next") != "bind_mfa" || l.String("session_token") != "" {
		t.Fatalf("sub-user login: %d %s", l.Status, l.Raw)
	}
	lt := l.String("login_token")
	k := env.Do(t, "POST", "/api/v1/login/bind-mfa", "", map[string]string{"login_token": lt})
	if k.Status != http.StatusCreated || k.String("secret") == "" {
		t.Fatalf("bind-mfa: %d %s", k.Status, k.Raw)
	}
	c := env.Do(t, "POST", "/api/v1/login/bind-mfa/confirm", "", map[string]string{"login_token": lt,
		"code": oathtoolCode(t, env, k.String("secret"))})
	if c.Status != http.StatusOK || c.String("session_token") == "" {
		t.Fatalf("bind-mfa confirm: %d %s", c.Status, c.Raw)
	}

	// The root's page of the sub-user: bound, nothing owed.
	b.open(path)
	if got := b.text("#mfa-state"); got != "MFA bound" {
		t.Errorf("after binding the MFA state is %q", got)
	}
	if got := b.eval(`document.getElementById("setting-must-bind").dataset.state`); got != "off" {
		t.Errorf("must bind is %q after binding", got)
	}
	if got := b.eval(`String(document.querySelectorAll("#sub-user-activity tbody tr").length > 0)`); got != "true" {
		t.Errorf("the sub-user's activity is empty after its login")
	}
	b.fullScreenshot("subuser.png")

	// The list says it too, and nothing runs off a phone's width.
	b.click(`.sidenav a[href="/account/sub-users"]`)
	if got := b.text(`#sub-users .must-bind`); got != "No" {
		t.Errorf("the list's MFA to be bound says %q", got)
	}
	b.do("phone width", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	if got := b.eval(`String(document.documentElement.scrollWidth <= window.innerWidth)`); got != "true" {
		t.Errorf("Sub-accounts is wider than a phone: scrollWidth %s", b.eval(`String(document.documentElement.scrollWidth)`))
	}
	b.do("desktop width", chromedp.EmulateReset())
}
