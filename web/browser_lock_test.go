package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/custos/custos/internal/testserver"
)

// TestBrowserLoginLock drives rule R4 through the login page: three wrong
// passwords, then the captcha appears; seven more with the (test) captcha,
// then the page says password login is paused and until when.
func TestBrowserLoginLock(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	const email = "lock@example.com"
	env.SignUp(t, email, testPassword)
	firstFailure := env.Clock.Now() // the test does not move the clock
	b := newTab(t, env)
	b.open("/login")

	attempt := func(i int, withCaptcha bool) {
		t.Helper()
		b.do("fill in the login form",
			chromedp.SetValue(chromedp.ID("email"), email),
			chromedp.SendKeys(chromedp.ID("password"), "wrong password "+strings.Repeat("x", i)),
		)
		if withCaptcha {
			b.do("answer the captcha", chromedp.SendKeys(chromedp.ID("captcha_answer"), "test"))
		}
		b.click(`form[action="/login"] button[type=submit]`)
	}
	hasCaptcha := func() bool {
		return b.eval(`String(document.getElementById("captcha_answer") !== null)`) == "true"
	}

	for i := 1; i <= 3; i++ {
		if hasCaptcha() {
			t.Fatalf("a captcha was asked for before failure %d", i)
		}
		attempt(i, false)
		if got := b.text(`[role=alert]`); !strings.Contains(got, "not right") {
			t.Fatalf("failure %d: summary %q", i, got)
		}
	}
	if !hasCaptcha() {
		t.Fatal("no captcha after three wrong passwords")
	}
	if !b.waitFor(`(() => { const i = document.querySelector(".captcha img"); return i && i.complete && i.naturalWidth > 0 })()`) {
		t.Fatal("the captcha picture did not load")
	}
	if got := b.eval(`document.querySelector(".captcha a[href*='/audio']") ? "yes" : "no"`); got != "yes" {
		t.Fatal("no audio alternative next to the captcha")
	}
	b.screenshot("login-captcha.png")

	for i := 4; i <= 10; i++ {
		attempt(i, true)
		if i < 10 && !hasCaptcha() {
			t.Fatalf("no captcha after failure %d", i)
		}
	}
	until := firstFailure.Add(24 * time.Hour).UTC()
	panel := b.text(".panel-warning")
	if !strings.Contains(panel, "paused until") || !strings.Contains(panel, until.Format("15:04")) {
		t.Fatalf("lock message %q does not give the end time %s", panel, until.Format(time.RFC3339))
	}
	if got := b.eval(`document.querySelector(".panel-warning time").getAttribute("datetime")`); got != until.Format(time.RFC3339) {
		t.Fatalf("lock end datetime = %q, want %s", got, until.Format(time.RFC3339))
	}
	b.screenshot("login-locked.png")
}
