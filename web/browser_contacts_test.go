package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/custos/custos/internal/testserver"
)

// TestBrowserBindPhone binds a first phone from Security Settings, reading
// the text message's code from the outbox as a phone would show it.
func TestBrowserBindPhone(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	b := newTab(t, env)
	const email = "pia@example.com"
	env.SignUp(t, email, testPassword)
	browserLogin(t, b, email)

	b.click(`.sidenav a[href="/account/security"]`)
	if got := b.text("#setting-phone .setting-state strong"); got != "Not set." {
		t.Errorf("the phone row says %q before binding", got)
	}
	b.click(`#setting-phone a[href="/account/phone"]`)
	if got := b.path(); got != "/account/phone" {
		t.Fatalf("Bind went to %s (the first phone needs no confirmation)", got)
	}
	if got := b.eval(`document.getElementById("phone").type + " " + document.getElementById("phone").autocomplete`); got != "tel tel" {
		t.Errorf("the phone field is %q, want type and autocomplete tel", got)
	}
	b.do("type the number", chromedp.SendKeys(chromedp.ID("phone"), "+86 138 0013 8000"))
	b.click(`form[action="/account/phone"] button[type=submit]`)
	codePath := b.path()
	if !strings.HasPrefix(codePath, "/account/phone/chg_") {
		t.Fatalf("after the number the browser is at %s", codePath)
	}
	if got := b.text("#sent-to"); got != "We texted a 6-digit code to "+phoneAMasked+"." {
		t.Errorf("the code page says %q", got)
	}
	if got := b.text("#resend-wait"); !strings.Contains(got, "You can ask for a new code in 60 seconds.") {
		t.Errorf("the resend line says %q", got)
	}
	if !b.waitFor(`document.activeElement && document.activeElement.id === "code"`) {
		t.Errorf("the code field does not have the focus")
	}
	if got := b.eval(`document.getElementById("code").autocomplete`); got != "one-time-code" {
		t.Errorf("code field autocomplete %q", got)
	}
	b.screenshot("phone-code.png")

	b.do("type the code", chromedp.SendKeys(chromedp.ID("code"), env.Code(t, phoneA, "phone_code")))
	b.click(`form[action="` + codePath + `"] button[type=submit]`)
	if got := b.path(); got != "/account/security?done=phone" {
		t.Fatalf("after the code the browser is at %s", got)
	}
	if got := b.text(".notice"); !strings.HasPrefix(got, "Your phone number is saved.") {
		t.Errorf("notice %q", got)
	}
	if got := b.text("#phone-masked"); got != phoneAMasked {
		t.Errorf("Security Settings shows the phone as %q, want %q", got, phoneAMasked)
	}
	if got := b.eval(`document.body.innerText.includes("13800138000") ? "shown" : "hidden"`); got != "hidden" {
		t.Errorf("the full number is %s on Security Settings", got)
	}
	b.fullScreenshot("security-phone-bound.png")
}

// TestBrowserForgotPassword resets a forgotten password from the login
// page by account email, with the test server's captcha and the emailed
// code, and logs in with the new one.
func TestBrowserForgotPassword(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	b := newTab(t, env)
	const email = "rosa@example.com"
	env.SignUp(t, email, testPassword)

	b.open("/login")
	b.click(`#login-help a[href="/forgot-password"]`)
	if got := b.path(); got != "/forgot-password" {
		t.Fatalf("the link went to %s", got)
	}
	// The captcha picture is there from the start, and loads under the CSP.
	if !b.waitFor(`(() => { const i = document.querySelector(".captcha img"); return i && i.complete && i.naturalWidth > 0 })()`) {
		t.Error("the captcha picture did not load")
	}
	b.do("fill in the form",
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("captcha_answer"), "test"),
	)
	b.screenshot("forgot-password.png")
	b.click(`form[action="/forgot-password"] button[type=submit]`)
	codePath := b.path()
	if !strings.HasPrefix(codePath, "/forgot-password/rec_") {
		t.Fatalf("after the form the browser is at %s", codePath)
	}
	if got := b.text("#sent-to"); got != "If an account uses r***a@ex***le.com, we sent it a code: by text message to its bound phone when it has one, otherwise by email to its secure email or to r***a@ex***le.com." {
		t.Errorf("the code page says %q", got)
	}

	b.do("type the code", chromedp.SendKeys(chromedp.ID("code"), env.Code(t, email, "reset_code")))
	b.click(`form[action="` + codePath + `"] button[type=submit]`)
	if got := b.text("h1"); got != "Choose a new password" {
		t.Fatalf("after the code the page is %q", got)
	}
	if got := b.text("#reset-account"); got != "For the account r***a@ex***le.com." {
		t.Errorf("the step names %q", got)
	}
	if got := b.eval(`document.getElementById("password").autocomplete`); got != "new-password" {
		t.Errorf("new password autocomplete %q", got)
	}
	const fresh = "a brand new passphrase"
	b.do("type the new password", chromedp.SendKeys(chromedp.ID("password"), fresh))
	b.click(`form[action="` + codePath + `/password"] button[type=submit]`)
	if got := b.path(); got != "/forgot-password/done" {
		t.Fatalf("after the new password the browser is at %s", got)
	}

	b.click(`a#go-login`)
	if got := b.path(); got != "/login" {
		t.Fatalf("Log in went to %s", got)
	}
	b.do("log in with the new password",
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), fresh),
	)
	b.click(`form[action="/login"] button[type=submit]`)
	if got := b.path(); got != "/overview" {
		t.Fatalf("after logging in with the new password the browser is at %s", got)
	}
	b.click(`.sidenav a[href="/account/activity"]`)
	if got := b.eval(`document.body.innerText.includes("Password reset with Forgot password") ? "yes" : "no"`); got != "yes" {
		t.Error("Security activity does not list the reset")
	}
}
