package web_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/custos/custos/internal/testserver"
	"github.com/custos/custos/otp"
)

// browserLogin logs in through the form and expects Account Information.
func browserLogin(t *testing.T, b *tab, email string) {
	t.Helper()
	b.open("/login")
	b.do("fill in login",
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
	)
	b.click(`form[action="/login"] button[type=submit]`)
	if got := b.path(); got != "/overview" {
		t.Fatalf("after login the browser is at %s", got)
	}
}

// browserBindApp adds an authenticator app from Security Settings, as a
// person would: read the key the page shows, type the code the app would
// show (computed here, on the server's fake clock). It returns the seed.
func browserBindApp(t *testing.T, b *tab, env *testserver.Env) []byte {
	t.Helper()
	b.click(`.sidenav a[href="/account/security"]`)
	if got := b.path(); got != "/account/security" {
		t.Fatalf("Security Settings is at %s", got)
	}
	if got := b.text(`.sidenav a[aria-current="page"]`); got != "Security Settings" {
		t.Errorf("current navigation item %q", got)
	}
	b.click(`#setting-totp a[href="/account/security/totp"]`)
	if got := b.path(); got != "/account/security/totp" {
		t.Fatalf("Add an authenticator app is at %s", got)
	}
	// The QR code is a data: image; the CSP must let it load.
	if !b.waitFor(`(() => { const i = document.getElementById("totp-qr"); return i && i.complete && i.naturalWidth > 0 })()`) {
		t.Fatal("the QR code did not load")
	}
	if got := b.text("#totp-label"); got != "Custos: "+browserEmail {
		t.Errorf("app label %q", got)
	}
	b.fullScreenshot("totp-qr.png")
	shown := b.text("#totp-secret")
	secret, err := otp.DecodeSecret(shown)
	if err != nil || len(secret) != otp.SecretSize {
		t.Fatalf("secret %q on the page: %v", shown, err)
	}
	b.do("type the code", chromedp.SendKeys(chromedp.ID("code"), totpCode(env, secret)))
	b.click(`form[action="/account/security/totp"] button[type=submit]`)
	if got := b.path(); got != "/account/security?done=totp" {
		t.Fatalf("after the first code the browser is at %s", got)
	}
	return secret
}

// fullScreenshot saves the whole page, not just the viewport, as name when
// envScreenshots names a directory.
func (b *tab) fullScreenshot(name string) {
	b.t.Helper()
	dir := os.Getenv(envScreenshots)
	if dir == "" {
		return
	}
	png := run(b, "screenshot", chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		b.t.Errorf("saving the screenshot: %v", err)
	}
}

// browserEmail is the account the MFA browser tests use.
const browserEmail = "bea@example.com"

func TestBrowserBindAuthenticatorApp(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	b := newTab(t, env)
	const email = browserEmail
	env.SignUp(t, email, testPassword)
	browserLogin(t, b, email)

	browserBindApp(t, b, env)
	if got := b.text(".notice"); got != "Your authenticator app is added." {
		t.Errorf("notice %q", got)
	}
	if got := b.eval(`String(document.querySelectorAll("#mfa-devices > li").length)`); got != "1" {
		t.Fatalf("%s devices listed, want 1", got)
	}
	if got := b.text("#mfa-devices h3"); got != "Authenticator app" {
		t.Errorf("device name %q", got)
	}
	// An app keeping its default name is named once in its card, not
	// again as its type.
	if got := b.eval(`String(document.querySelector("#mfa-devices > li dl").innerText.includes("Authenticator app"))`); got != "false" {
		t.Errorf("the card's facts name the type %q again under its name", "Authenticator app")
	}
	b.fullScreenshot("security.png")

	// At a phone's width nothing runs off the side.
	b.do("phone width", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	if got := b.eval(`String(document.documentElement.scrollWidth <= window.innerWidth)`); got != "true" {
		t.Errorf("Security Settings is wider than a phone: scrollWidth %s", b.eval(`String(document.documentElement.scrollWidth)`))
	}
	b.fullScreenshot("security-phone.png")
	b.do("desktop width", chromedp.EmulateReset())
}

func TestBrowserLoginProtection(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	b := newTab(t, env)
	const email = browserEmail
	env.SignUp(t, email, testPassword)
	browserLogin(t, b, email)
	secret := browserBindApp(t, b, env)

	// Turning login protection on asks to confirm it's you first, then
	// comes back to the switch.
	if got := b.eval(`document.getElementById("setting-login-protection").dataset.state`); got != "off" {
		t.Fatalf("login protection starts %q", got)
	}
	b.click(`#setting-login-protection button[type=submit]`)
	if got := b.path(); !strings.HasPrefix(got, "/account/verify?next=") {
		t.Fatalf("turning login protection on went to %s, want the confirmation", got)
	}
	if got := b.text("h1"); got != "Confirm it's you" {
		t.Errorf("confirmation heading %q", got)
	}
	if got := b.text(`label[for="code"]`); got != "Code from your authenticator app" {
		t.Errorf("the confirmation asks for %q", got)
	}
	b.screenshot("confirm.png")
	env.Clock.Advance(30 * time.Second) // each time step is accepted once
	b.do("type the code", chromedp.SendKeys(chromedp.ID("code"), totpCode(env, secret)))
	b.click(`form[action="/account/verify"] button[type=submit]`)
	if got := b.path(); got != "/account/security/protection?login_protection=true" {
		t.Fatalf("after confirming the browser is at %s", got)
	}
	b.click(`form[action="/account/security/protection"] button[type=submit]`)
	if got := b.path(); got != "/account/security?done=login_on" {
		t.Fatalf("after the switch the browser is at %s", got)
	}
	if got := b.eval(`document.getElementById("setting-login-protection").dataset.state`); got != "on" {
		t.Fatalf("login protection is %q after turning it on", got)
	}

	// Log out and in again: the password leads to the second step.
	b.click(`form[action="/logout"] button[type=submit]`)
	if got := b.path(); got != "/login?out=1" {
		t.Fatalf("after logout the browser is at %s", got)
	}
	b.do("fill in login",
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
	)
	b.click(`form[action="/login"] button[type=submit]`)
	if got := b.text("h1"); got != "One more step to log in" {
		t.Fatalf("after the password the page is %q", got)
	}
	if strings.Contains(b.path(), "token") {
		t.Errorf("the login token is in the URL %s", b.path())
	}
	if !b.waitFor(`document.activeElement && document.activeElement.id === "code"`) {
		t.Errorf("the code field does not have the focus")
	}
	b.fullScreenshot("login-second-factor.png")
	env.Clock.Advance(30 * time.Second)
	b.do("type the code", chromedp.SendKeys(chromedp.ID("code"), totpCode(env, secret)))
	b.click(`form.form[action="/login/second-factor"] button[type=submit]`)
	if got := b.path(); got != "/overview" {
		t.Fatalf("after the second step the browser is at %s", got)
	}
	if got := b.text("h1"); got != "Overview" {
		t.Errorf("landed on %q", got)
	}
	b.open("/account")
	if got := b.text("#account-email"); got != email {
		t.Errorf("Account Information shows %q", got)
	}

	// The app's code at login also confirmed it's the holder: the first
	// sensitive change right after asks for no other code (the one just
	// used could not be given again).
	b.open("/account/security")
	b.click(`#setting-login-protection button[type=submit]`)
	if got := b.path(); got != "/account/security?done=login_off" {
		t.Fatalf("turning login protection off right after an app-code login went to %s", got)
	}
	if got := b.eval(`document.getElementById("setting-login-protection").dataset.state`); got != "off" {
		t.Fatalf("login protection is %q after turning it off", got)
	}
}
