package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/custos/custos/internal/testserver"
)

// browserSubLogin fills in the Sub-user tab of Log in, reached by its
// link, and submits it.
func browserSubLogin(t *testing.T, b *tab, root, user, pw string) {
	t.Helper()
	b.open("/login")
	b.click(`#tab-sub-user`)
	if got := b.path(); got != "/login?as=sub_user" {
		t.Fatalf("the Sub-user tab is at %s", got)
	}
	if got := b.eval(`document.querySelector('#tab-sub-user').getAttribute("aria-current") || ""`); got != "page" {
		t.Errorf("the Sub-user tab is not marked current: %q", got)
	}
	b.do("fill in the sub-user's login",
		chromedp.SendKeys(chromedp.ID("root_account_id"), root),
		chromedp.SendKeys(chromedp.ID("user_name"), user),
		chromedp.SendKeys(chromedp.ID("password"), pw),
	)
	b.click(`form[action="/login"] button[type=submit]`)
}

func TestBrowserSubUserLogin(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	tm := newTeam(t, env, "lead@example.com", "ann", map[string]any{"must_bind_mfa": true, "login_protection": "off"})
	b := newTab(t, env)

	// A sub-user who must bind an app: the password leads to the binding.
	browserSubLogin(t, b, tm.RootID, "ann", subPassword)
	if got := b.text("#bind-lead"); got != "Your team's administrator asks you to add an authenticator app before you can sign in." {
		t.Fatalf("after the password the page says %q", got)
	}
	if strings.Contains(b.path(), "token") {
		t.Errorf("the login token is in the URL %s", b.path())
	}
	if !b.waitFor(`(() => { const i = document.getElementById("totp-qr"); return i && i.complete && i.naturalWidth > 0 })()`) {
		t.Fatal("the QR code did not load")
	}
	if got := b.text("#totp-label"); got != "Custos: "+tm.RootID+" / ann" {
		t.Errorf("app label %q", got)
	}
	b.fullScreenshot("sublogin-bind.png")
	// Scan nothing: read the key as a person would type it.
	key := strings.ReplaceAll(b.text("#totp-secret"), " ", "")
	b.do("type the first code", chromedp.SendKeys(chromedp.ID("code"), oathtoolCode(t, env, key)))
	b.click(`form[action="/login/bind-mfa"] button[type=submit]`)
	if got := b.path(); got != "/overview" {
		t.Fatalf("after the first code the browser is at %s", got)
	}
	if got := b.text("h1"); got != "Overview" {
		t.Errorf("landed on %q", got)
	}
	b.click(`form[action="/logout"] button[type=submit]`)

	// The root resets the password; the generated one leads to choosing a
	// new one, and the new one signs in.
	env.Clock.Advance(30 * time.Second)
	generated := tm.resetPassword(t, env)
	browserSubLogin(t, b, tm.RootID, "ann", generated)
	if got := b.text("h1"); got != "Choose a new password" {
		t.Fatalf("after the generated password the page is %q", got)
	}
	if got := b.eval(`document.getElementById("password").getAttribute("autocomplete")`); got != "new-password" {
		t.Errorf("new password autocomplete %q", got)
	}
	// The generated password again is refused next to the field.
	b.do("type the old one", chromedp.SendKeys(chromedp.ID("password"), generated))
	b.click(`form[action="/login/change-password"] button[type=submit]`)
	if got := b.text("#password-error"); !strings.Contains(got, "You used this password before.") {
		t.Errorf("reusing the password: %q", got)
	}
	if !b.waitFor(`document.activeElement && document.activeElement.getAttribute("role") === "alert"`) {
		t.Errorf("the error summary does not have the focus")
	}
	b.fullScreenshot("sublogin-change-password.png")
	b.do("type a new one", chromedp.SendKeys(chromedp.ID("password"), "a brand new lantern 9981"))
	b.click(`form[action="/login/change-password"] button[type=submit]`)
	if got := b.path(); got != "/overview" {
		t.Fatalf("after the new password the browser is at %s", got)
	}
}
