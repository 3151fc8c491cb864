package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/custos/custos/internal/testserver"
)

// TestBrowserSecuritySettingsAlerts walks Security Settings as a holder:
// counts in words ("None added yet.", never "Added: 0."), an app listed
// once by its name, the protection methods as they stand with the ones
// the account cannot use turned off and why, the new-device switch turned
// on through "confirm it's you" — after which a thief's browser with the
// password gets the second step, and the holder was told — and a new
// account email's code page that says it is the new address.
func TestBrowserSecuritySettingsAlerts(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	b := newTab(t, env)
	const email = browserEmail
	env.SignUp(t, email, testPassword)
	browserLogin(t, b, email)

	b.open("/account/security")
	if got := b.text("#setting-totp .setting-state"); !strings.HasSuffix(got, "None added yet.") || strings.Contains(got, "Added: 0") {
		t.Errorf("the app row says %q", got)
	}
	if got := b.eval(`String(document.getElementById("login-method-sms").disabled)`); got != "true" {
		t.Errorf("SMS can be chosen without a phone (disabled = %s)", got)
	}
	if got := b.text(`label[for="login-method-sms"] .hint`); got != "Bind a phone first." {
		t.Errorf("SMS's reason reads %q", got)
	}
	if got := b.eval(`String(document.getElementById("setting-webauthn") !== null)`); got != "true" {
		t.Error("security keys are not offered at http://localhost, a secure context")
	}
	if got := b.text("#setting-new-device"); !strings.Contains(got, "New-device sign-in alerts") || !strings.Contains(got, "Off.") {
		t.Errorf("the new-device row reads %q", got)
	}

	secret := browserBindApp(t, b, env)
	if got := b.text("#setting-totp .setting-state"); !strings.HasSuffix(got, "1 added.") {
		t.Errorf("after one app the row says %q", got)
	}
	// Named once: the card's heading, no type line saying it again (the
	// buttons' hidden words for screen readers aside).
	if got := b.eval(`document.querySelector("#mfa-devices h3").textContent + "|" + document.querySelector("#mfa-devices dl").textContent`); strings.Count(got, "Authenticator app") != 1 {
		t.Errorf("the app's card names it %d times: %q", strings.Count(got, "Authenticator app"), got)
	}
	if got := b.text("#login-method-now"); got != "Now: MFA device." {
		t.Errorf("the login method as it stands reads %q", got)
	}

	// The switch: confirm it's you with the app, then save.
	b.click(`#new-device-form button[type=submit]`)
	if got := b.path(); !strings.HasPrefix(got, "/account/verify?next=") {
		t.Fatalf("the switch went to %s, want the confirmation", got)
	}
	env.Clock.Advance(30 * time.Second)
	b.do("type the code", chromedp.SendKeys(chromedp.ID("code"), totpCode(env, secret)))
	b.click(`form[action="/account/verify"] button[type=submit]`)
	if got := b.path(); got != "/account/security/protection?new_device_step=true" {
		t.Fatalf("after confirming the browser is at %s", got)
	}
	if got := b.text(".changes li"); got != "Ask a new device for the second step of login, even with login protection off." {
		t.Errorf("the change reads %q", got)
	}
	b.click(`form[action="/account/security/protection"] button[type=submit]`)
	if got := b.text(".notice"); got != "A sign-in from a new device now needs the second step of login." {
		t.Errorf("notice %q", got)
	}
	if got := b.eval(`document.getElementById("setting-new-device").dataset.state`); got != "on" {
		t.Errorf("the switch is %q after saving", got)
	}
	b.fullScreenshot("security-settings-alerts.png")

	// A new account email's code page says it went to the new address.
	b.open("/account/email")
	b.do("type the new address", chromedp.SendKeys(chromedp.ID("email"), "bea.new@example.org"))
	b.click(`form[action="/account/email"] button[type=submit]`)
	if got := b.text("#sent-to"); got != "New address We emailed a 6-digit code to your new address, be***ew@ex***le.org." {
		t.Errorf("the code page says %q", got)
	}

	// A thief in another browser, with the password.
	thief := newTab(t, env)
	thief.open("/login")
	thief.do("fill in login",
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
	)
	thief.click(`form[action="/login"] button[type=submit]`)
	if got := thief.text("h1"); got != "One more step to log in" {
		t.Fatalf("the thief's password led to %q", got)
	}
	if n := len(newDeviceNotices(t, env, email)); n != 1 {
		t.Errorf("%d new-device notices to the holder, want 1", n)
	}
}

// TestBrowserNotFound: an unknown page is the site's own.
func TestBrowserNotFound(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	b := newTab(t, env)
	b.open("/no-such-page")
	if got := b.text("h1"); got != "Page not found" {
		t.Errorf("heading %q", got)
	}
	if got := b.eval(`getComputedStyle(document.body).fontFamily`); !strings.Contains(got, "system-ui") {
		t.Errorf("the site's stylesheet is not on the page: font %q", got)
	}
	if got := b.text("main"); strings.Contains(got, "404 page not found") {
		t.Errorf("Go's bare answer: %q", got)
	}
}
