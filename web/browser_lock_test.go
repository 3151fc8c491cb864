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
	// The sound plays in the page.
	if got := b.eval(`(() => { const a = document.querySelector(".captcha audio[controls]"); return a && a.getAttribute("src").endsWith("/audio") ? "yes" : "no" })()`); got != "yes" {
		t.Fatal("no audio player next to the captcha")
	}
	if got := b.eval(`String(document.querySelector(".captcha img").naturalHeight)`); got != "120" {
		t.Errorf("the captcha picture is %s pixels high, want 120", got)
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
	// Said once, and so on the next attempt: no summary repeating it in
	// another date format.
	for i := 10; i <= 11; i++ {
		if i == 11 {
			attempt(i, false)
			if got := b.eval(`String(document.querySelectorAll("[role=alert]").length)`); got != "1" {
				t.Errorf("%s alerts on the locked page, want the one panel", got)
			}
		}
		if got := b.eval(`String(document.querySelector("main").textContent.split("paused").length - 1)`); got != "1" {
			t.Errorf("attempt %d: the page says the lock %s times, want once", i, got)
		}
	}
	b.screenshot("login-locked.png")
}
