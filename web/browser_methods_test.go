package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/custos/custos/internal/testserver"
)

// TestBrowserChooseLoginMethod: the holder chooses a code by email for the
// second step of login on Security Settings (R8), through "confirm it's
// you", and the next login offers that method alone.
func TestBrowserChooseLoginMethod(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	b := newTab(t, env)
	const email = browserEmail
	env.SignUp(t, email, testPassword)
	browserLogin(t, b, email)
	secret := browserBindApp(t, b, env)

	// The choice is a group with a legend, one labelled radio button per
	// method: mfa chosen (the default with an app), SMS off until a phone
	// is bound.
	if got := b.text("#login-method-form fieldset > legend"); got != "How the second step of login checks" {
		t.Errorf("legend %q", got)
	}
	if got := b.eval(`Array.from(document.querySelectorAll('#login-method-form input[type=radio]')).map(r =>
		r.value + (r.checked ? "*" : "") + (r.disabled ? "-" : "") + ":" + (r.labels.length === 1 ? r.labels[0].textContent.trim() : "no label")).join("|")`); got !=
		"mfa*:MFA device An authenticator app, hardware token or security key, or a recovery code. Nothing else is offered."+
			"|sms-:Code by text message Bind a phone first."+
			"|email:Code by email A code to your secure email, or to your account email while you have none. Nothing else is offered." {
		t.Errorf("the choices are %q", got)
	}
	b.fullScreenshot("security-methods.png")

	// Choose email, by its label: "confirm it's you" first, by the app.
	b.do("choose email", chromedp.Click(chromedp.CSS(`label[for="login-method-email"]`)))
	if got := b.eval(`document.querySelector('#login-method-form input[name="login_method"]:checked').value`); got != "email" {
		t.Fatalf("clicking the label chose %q", got)
	}
	b.click(`#login-method-form button[type=submit]`)
	if got := b.path(); !strings.HasPrefix(got, "/account/verify?next=") {
		t.Fatalf("choosing a method went to %s, want the confirmation", got)
	}
	env.Clock.Advance(30 * time.Second)
	b.do("type the code", chromedp.SendKeys(chromedp.ID("code"), totpCode(env, secret)))
	b.click(`form[action="/account/verify"] button[type=submit]`)
	if got := b.path(); got != "/account/security/protection?login_method=email" {
		t.Fatalf("after confirming the browser is at %s", got)
	}
	if got := b.text(".changes li"); got != "At the second step of login, ask for a code by email, and nothing else." {
		t.Errorf("the change reads %q", got)
	}
	b.click(`form[action="/account/security/protection"] button[type=submit]`)
	if got := b.path(); got != "/account/security?done=login_method" {
		t.Fatalf("after saving the browser is at %s", got)
	}
	if got := b.text(".notice"); got != "Your choice for the second step of login is saved." {
		t.Errorf("notice %q", got)
	}
	if got := b.eval(`document.querySelector('#login-method-form input[name="login_method"]:checked').value`); got != "email" {
		t.Errorf("the login method shows as %q after saving", got)
	}
	// Login protection on (the confirmation still lasts).
	b.click(`#setting-login-protection form.setting-action button[type=submit]`)
	if got := b.eval(`document.getElementById("setting-login-protection").dataset.state`); got != "on" {
		t.Fatalf("login protection is %q after turning it on", got)
	}

	// Log out and in again: the second step is a code by email, alone.
	b.click(`form[action="/logout"] button[type=submit]`)
	b.do("fill in login",
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
	)
	b.click(`form[action="/login"] button[type=submit]`)
	if got := b.text("h1"); got != "One more step to log in" {
		t.Fatalf("after the password the page is %q", got)
	}
	if got := b.eval(`document.querySelector('input[name="methods"]').value`); got != "email" {
		t.Errorf("the step offers %q, want email alone", got)
	}
	if got := b.eval(`String(document.querySelectorAll('.other-ways, #code, [data-webauthn]').length)`); got != "0" {
		t.Errorf("the step shows %s other ways or code fields before the email, want none", got)
	}
	if got := b.text("main form h2"); got != "Code by email" {
		t.Errorf("the step asks for %q", got)
	}
	b.fullScreenshot("login-email-only.png")
	b.click("#send-code")
	if got := b.text("#sent-to"); !strings.Contains(got, "b***a@ex***le.com") {
		t.Errorf("the step says %q", got)
	}
	b.do("type the emailed code", chromedp.SendKeys(chromedp.ID("code"), env.Code(t, email, "login_code")))
	b.click(`form.form[action="/login/second-factor"] button[type=submit]`)
	if got := b.path(); got != "/overview" {
		t.Fatalf("after the emailed code the browser is at %s", got)
	}
}
