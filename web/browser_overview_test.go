package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/custos/custos/internal/testserver"
	"github.com/custos/custos/otp"
)

// shanghai is the zone the browser tests set the browser to.
const shanghai = "Asia/Shanghai"

// call sends one DevTools command to the tab, failing the test on an error.
func call[P, R any](b *tab, what string, cmd cdp.Command[P, R], params P) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, cmd, params); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// inShanghai sets the tab's time zone, as a browser in Shanghai has it.
func inShanghai(b *tab) {
	b.t.Helper()
	call(b, "time zone", emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: shanghai})
	if got := b.eval(`Intl.DateTimeFormat().resolvedOptions().timeZone`); got != shanghai {
		b.t.Fatalf("the browser's zone is %q", got)
	}
}

// fitsPhone checks, at 375 px, that the page is no wider than the phone.
func fitsPhone(t *testing.T, b *tab, what string) {
	t.Helper()
	b.do("phone width", chromedp.EmulateViewport(375, 812, chromedp.EmulateScale(2)))
	if got := b.eval(`String(document.documentElement.scrollWidth <= window.innerWidth)`); got != "true" {
		t.Errorf("%s is wider than a phone: scrollWidth %s, width %s", what,
			b.eval(`String(document.documentElement.scrollWidth)`), b.eval(`String(window.innerWidth)`))
	}
	b.do("desktop width", chromedp.EmulateReset())
}

// shownIn is how the pages show at in zone, with UTC beside it.
func shownIn(t *testing.T, at time.Time, zone string) string {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	local, utc := at.In(loc), at.UTC()
	u := utc.Format("15:04")
	if local.Day() != utc.Day() {
		u = utc.Format("2 Jan 2006, 15:04")
	}
	return fmt.Sprintf("%s (%s UTC)", local.Format("2 Jan 2006, 15:04 MST"), u)
}

func TestBrowserOverviewAndTimeZone(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	const email = "lin@example.com"
	id := env.SignUp(t, email, testPassword)
	firstAt := env.Clock.Now()
	env.Login(t, email, testPassword) // the sign-in the overview names as the last one
	env.Clock.Advance(2 * time.Hour)

	b := newTab(t, env)
	inShanghai(b)
	browserLogin(t, b, email)

	// The Overview: first in the navigation, who is signed in, the id
	// with its copy button (the script shows it), the score with a fix
	// for each missing protection.
	if got := b.text(".sidenav li:first-child a"); got != "Overview" {
		t.Errorf("the first navigation item is %q", got)
	}
	if got := b.text(`.sidenav a[aria-current="page"]`); got != "Overview" {
		t.Errorf("current navigation item %q", got)
	}
	if got := b.text("#signed-in-as strong"); got != email {
		t.Errorf("the header names %q", got)
	}
	if got := b.text("#overview-account-id"); got != id {
		t.Errorf("the overview shows id %q, want %q", got, id)
	}
	if !b.waitFor(`!document.getElementById("copy-account-id").hidden`) {
		t.Error("the copy button stays hidden with the script on")
	}
	if got := b.text("#overview-kind"); got != "Personal" {
		t.Errorf("kind %q", got)
	}
	if got := b.text("#score-text"); got != "0 of 4 protections on" {
		t.Errorf("score %q", got)
	}
	if got := b.eval(`String(document.querySelectorAll(".score-fix").length)`); got != "4" {
		t.Errorf("%s fix links, want 4", got)
	}
	// Before a zone is saved, times are UTC.
	if got, want := b.text("#overview-last-sign-in time"), firstAt.UTC().Format("2 Jan 2006, 15:04 UTC"); got != want {
		t.Errorf("last sign-in (no zone saved) %q, want %q", got, want)
	}
	b.screenshot("overview.png")
	fitsPhone(t, b, "the overview")

	// Account Information offers the browser's zone; one click saves it.
	b.click(`.sidenav a[href="/account"]`)
	if !b.waitFor(`!document.getElementById("tz-offer").hidden`) {
		t.Fatal("no offer of the browser's zone")
	}
	if got := b.text("#tz-use"); got != "Use Asia/Shanghai (this browser's time zone)" {
		t.Errorf("offer %q", got)
	}
	b.click("#tz-use")
	if got := b.path(); got != "/account?done=time_zone" {
		t.Fatalf("after the offer the browser is at %s", got)
	}
	if got := run(b, "zone field", chromedp.Value(chromedp.ID("time_zone"))); got != shanghai {
		t.Errorf("the zone field holds %q", got)
	}
	if !b.waitFor(`document.getElementById("tz-offer").hidden`) {
		t.Error("the offer stays after the zone is saved")
	}

	// Every time is now Shanghai's with UTC beside it.
	b.click(`.sidenav a[href="/overview"]`)
	if got, want := b.text("#overview-last-sign-in time"), shownIn(t, firstAt, shanghai); got != want {
		t.Errorf("last sign-in %q, want %q", got, want)
	}
	b.click(`.sidenav a[href="/account/devices"]`)
	if got := b.text(".card-current time"); !strings.Contains(got, "CST (") || !strings.HasSuffix(got, "UTC)") {
		t.Errorf("the devices page shows %q", got)
	}
	b.click(`.sidenav a[href="/account/activity"]`)
	if got := b.text("#events li:first-child time"); !strings.Contains(got, "CST (") {
		t.Errorf("Security activity shows %q", got)
	}

	// Without the script the zone is a field like any other, and a wrong
	// name is told beside it.
	call(b, "no script", emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
	b.open("/account")
	if got := b.eval(`String(document.getElementById("tz-offer").hidden)`); got != "true" {
		t.Errorf("without the script the offer shows: hidden=%s", got)
	}
	b.do("a wrong zone", chromedp.SetValue(chromedp.ID("time_zone"), "Mars/Olympus"))
	b.click("#time-zone-submit")
	if got := b.text("#time_zone-error"); !strings.Contains(got, "not a time zone name") {
		t.Errorf("the field's error %q", got)
	}
	if got := b.eval(`String(document.querySelector(".error-summary") !== null)`); got != "true" {
		t.Error("no error summary")
	}
	b.do("a zone", chromedp.SetValue(chromedp.ID("time_zone"), "Europe/London"))
	b.click("#time-zone-submit")
	if got := b.path(); got != "/account?done=time_zone" {
		t.Fatalf("after saving without the script the browser is at %s", got)
	}
	b.open("/overview")
	if got := b.eval(`String(document.getElementById("copy-account-id").hidden)`); got != "true" {
		t.Error("without the script the copy button shows")
	}
	if got, want := b.text("#overview-last-sign-in time"), shownIn(t, firstAt, "Europe/London"); got != want {
		t.Errorf("last sign-in in London %q, want %q", got, want)
	}
	fitsPhone(t, b, "the overview without the script")
	call(b, "script again", emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: false})

	// A missing protection's link leads to where it is turned on.
	b.open("/overview")
	b.click("#score-secure_email .score-fix")
	if got := b.path(); got != "/account/secure-email" {
		t.Errorf("the secure email fix leads to %s", got)
	}
}

// apiLoginProtection binds an authenticator app and turns login
// protection on through the API, returning the seed.
func apiLoginProtection(t *testing.T, env *testserver.Env, tok string) []byte {
	t.Helper()
	r := env.Do(t, "POST", "/api/v1/mfa/totp", tok, map[string]string{"name": "Phone"})
	secret, err := otp.DecodeSecret(r.String("secret"))
	if r.Status != http.StatusCreated || err != nil {
		t.Fatalf("begin totp: %d %s", r.Status, r.Raw)
	}
	if c := env.Do(t, "POST", "/api/v1/mfa/totp/"+r.String("device_id")+"/confirm", tok, map[string]string{"code": totpCode(env, secret)}); c.Status != http.StatusOK {
		t.Fatalf("confirm totp: %d %s", c.Status, c.Raw)
	}
	env.Clock.Advance(30 * time.Second)
	v := env.Do(t, "POST", "/api/v1/verifications", tok, map[string]string{"method": "totp"})
	if done := env.Do(t, "POST", "/api/v1/verifications/"+v.String("id"), tok, map[string]string{"code": totpCode(env, secret)}); done.Status != http.StatusOK {
		t.Fatalf("verification: %d %s", done.Status, done.Raw)
	}
	if p := env.Do(t, "PUT", "/api/v1/account/protection", tok, map[string]any{"login_protection": true, "operation_protection": false}); p.Status >= 300 {
		t.Fatalf("protection: %d %s", p.Status, p.Raw)
	}
	return secret
}

func TestBrowserDevicesAndActivity(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	const email = "wei@example.com"
	env.SignUp(t, email, testPassword)
	setup := env.Login(t, email, testPassword)
	secret := apiLoginProtection(t, env, setup)
	if r := env.Do(t, "PUT", "/api/v1/account/time-zone", setup, map[string]string{"time_zone": shanghai}); r.Status != http.StatusNoContent {
		t.Fatalf("time zone: %d %s", r.Status, r.Raw)
	}
	// Other devices, and enough events for a second page of activity.
	var others []string
	for range 16 {
		env.Clock.Advance(time.Minute)
		r := env.Do(t, "POST", "/api/v1/login", "", map[string]string{"email": email, "password": testPassword})
		env.Clock.Advance(30 * time.Second)
		s := env.Do(t, "POST", "/api/v1/login/second-factor", "", map[string]string{"login_token": r.String("login_token"), "method": "totp", "code": totpCode(env, secret)})
		if s.Status != http.StatusOK {
			t.Fatalf("second factor: %d %s", s.Status, s.Raw)
		}
		others = append(others, s.String("session_token"))
	}

	b := newTab(t, env)
	inShanghai(b)
	b.open("/login")
	b.do("fill in login", chromedp.SendKeys(chromedp.ID("email"), email), chromedp.SendKeys(chromedp.ID("password"), testPassword))
	b.click(`form[action="/login"] button[type=submit]`)
	env.Clock.Advance(30 * time.Second)
	b.do("code, and trust this browser", chromedp.SendKeys(chromedp.ID("code"), totpCode(env, secret)), chromedp.Click(chromedp.ID("trust")))
	b.click(`form.form[action="/login/second-factor"] button[type=submit]`)
	if got := b.path(); got != "/overview" {
		t.Fatalf("after the second step the browser is at %s", got)
	}
	if got := b.text("#score-text"); got != "2 of 4 protections on" {
		t.Errorf("score %q", got)
	}

	// Devices: this browser is trusted, with a readable name; the others
	// are signed out with one confirmed POST.
	b.click(`.sidenav a[href="/account/devices"]`)
	if got := b.text("#trusted .card-current h3"); got != "Chrome on Linux" {
		t.Errorf("the trusted browser is named %q", got)
	}
	if got := b.text("#trusted .card-current .badge"); got != "This browser" {
		t.Errorf("the trusted browser's badge %q", got)
	}
	if got := b.eval(`String(document.querySelectorAll("#sessions > li").length)`); got != "18" {
		t.Errorf("%s sessions listed, want 18", got)
	}
	fitsPhone(t, b, "the devices page")
	b.click("#revoke-others")
	if got := b.eval(`String(document.querySelectorAll("#others-list li").length)`); got != "17" {
		t.Errorf("the confirmation names %s devices, want 17", got)
	}
	b.click("#revoke-others-submit")
	if got := b.path(); got != "/account/devices?done=others" {
		t.Fatalf("after signing out the others the browser is at %s", got)
	}
	if got := b.eval(`String(document.querySelectorAll("#sessions > li").length)`); got != "1" {
		t.Errorf("%s sessions left, want 1", got)
	}
	for i, tok := range append(others, setup) {
		if r := env.Do(t, "GET", "/api/v1/session", tok, nil); r.Status != http.StatusUnauthorized {
			t.Errorf("session %d still answers %d", i, r.Status)
		}
	}
	if b.eval(`String(document.getElementById("revoke-others") === null)`) != "true" {
		t.Error("sign out all other devices is offered with no other device")
	}

	// Forget the trusted browser: asked once more, then gone.
	b.click(`#trusted .card-actions a`)
	if got := b.text("h1"); got != "Forget this browser?" {
		t.Errorf("the confirmation is %q", got)
	}
	b.click("#forget-submit")
	if got := b.path(); got != "/account/devices?done=forgot" {
		t.Fatalf("after forgetting the browser is at %s", got)
	}
	if b.eval(`String(document.getElementById("trusted-none") !== null)`) != "true" {
		t.Error("the trusted browser is still listed")
	}

	// Security activity: cards, newest first, 20 a page, then older.
	b.click(`.sidenav a[href="/account/activity"]`)
	if got := b.eval(`String(document.querySelectorAll("#events > li").length)`); got != "20" {
		t.Errorf("%s events on the first page, want 20", got)
	}
	if got := b.eval(`document.querySelector("#events > li").dataset.event`); got != "trusted_device.forgotten" {
		t.Errorf("the newest event is %q", got)
	}
	firstPage := b.eval(`Array.from(document.querySelectorAll("#events > li")).map(e => e.dataset.id).join(",")`)
	fitsPhone(t, b, "Security activity")
	b.screenshot("activity.png")
	b.click("#page-older")
	secondPage := b.eval(`Array.from(document.querySelectorAll("#events > li")).map(e => e.dataset.id).join(",")`)
	if secondPage == "" {
		t.Fatalf("the second page (%s) is empty: %s", b.path(), b.text("main"))
	}
	for _, id := range strings.Split(secondPage, ",") {
		if strings.Contains(firstPage, id) {
			t.Errorf("event %s is on both pages", id)
		}
	}
	b.click("#page-newest")
	if got := b.path(); got != "/account/activity" {
		t.Errorf("newest leads to %s", got)
	}

	// Filter by kind through the form; the detail says from what to what.
	b.do("choose protection", chromedp.SetValue(chromedp.ID("kind"), "protection"))
	b.click("#filter-submit")
	if got := b.path(); !strings.Contains(got, "kind=protection") {
		t.Fatalf("the filter went to %s", got)
	}
	kinds := b.eval(`Array.from(new Set(Array.from(document.querySelectorAll("#events > li")).map(e => e.dataset.event))).sort().join(",")`)
	if kinds != "mfa.bound,protection.changed,verification.passed" {
		t.Errorf("protection events %q", kinds)
	}
	b.click(`#events li[data-event="protection.changed"] h2 a`)
	if got := b.text("#event-title"); got != "Login or operation protection changed" {
		t.Errorf("detail title %q", got)
	}
	facts := b.text("#event-facts")
	for _, want := range []string{"Login protection\nOff → On", "Operation protection\nOff → Off", "Go HTTP client"} {
		if !strings.Contains(facts, want) {
			t.Errorf("the detail lacks %q:\n%s", want, facts)
		}
	}
	if got := b.text("#event-time"); !strings.Contains(got, "CST (") {
		t.Errorf("the detail's time %q", got)
	}
	fitsPhone(t, b, "an event's detail")

	// Dates: a range with nothing in it, and a date that is none.
	b.open("/account/activity?from=2099-01-01")
	if b.eval(`String(document.getElementById("events-none") !== null)`) != "true" {
		t.Error("a future range lists events")
	}
	b.open("/account/activity?from=2026-02-31")
	if got := b.text("#from-error"); !strings.Contains(got, "Enter a date") {
		t.Errorf("a bad date says %q", got)
	}
	fitsPhone(t, b, "the activity filter with an error")
}
