package web_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/custos/custos/internal/testserver"
)

// envBrowser names the Chromium binary for browser tests. CI sets it; when
// it is set and the browser does not start, the test fails, never skips.
const envBrowser = "CUSTOS_TEST_BROWSER"

// envScreenshots, when set, names a directory the browser test saves its
// screenshots to, for a person to look at.
const envScreenshots = "CUSTOS_TEST_SCREENSHOTS"

// defaultBrowser is where Debian's chromium package puts the browser.
const defaultBrowser = "/usr/bin/chromium"

// browserPath returns the browser to drive, skipping the test only when none
// was named and the default is not installed.
func browserPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv(envBrowser); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s=%s: %v", envBrowser, p, err)
		}
		return p
	}
	if _, err := os.Stat(defaultBrowser); err == nil {
		return defaultBrowser
	}
	t.Skipf("no browser: set %s or install %s", envBrowser, defaultBrowser)
	return ""
}

// stepTimeout bounds each step; whole runs are bounded by browserTimeout.
const (
	stepTimeout    = 60 * time.Second
	browserTimeout = 3 * time.Minute
)

// tab is one headless Chromium tab on a test server.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string // http://localhost:PORT
}

// newTab starts a fresh browser (its own profile in t.TempDir()) and returns
// its tab; the browser stops when the test ends.
func newTab(t *testing.T, env *testserver.Env) *tab {
	t.Helper()
	exe := browserPath(t)
	u, err := url.Parse(env.URL)
	if err != nil {
		t.Fatal(err)
	}
	// localhost, not the listener's 127.0.0.1: a host name is what a
	// person types, and what WebAuthn will need.
	base := "http://localhost:" + u.Port()

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 860),
	)
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	// Cleanups run last in, first out: the tab, the browser process (the
	// allocator waits for it to exit), and then the profile directory.
	t.Cleanup(cancel)
	t.Cleanup(cancelAlloc)
	t.Cleanup(cancelBrowser)
	// The first run starts the browser; it gets the whole run's context,
	// because the browser lives as long as the context of that call.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}
	return &tab{t: t, ctx: bctx, base: base}
}

// step runs steps within stepTimeout, failing the test on an error.
func (b *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// run runs one action within stepTimeout and returns its value.
func run[T any](b *tab, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// open loads a path and waits for the page.
func (b *tab) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.base+path))
}

// click clicks what sel finds and waits for the page it leads to.
func (b *tab) click(sel string) {
	b.t.Helper()
	run(b, "click "+sel, chromedp.WaitEvent(cdppage.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel))))
}

// path returns the path and query of the current page.
func (b *tab) path() string {
	b.t.Helper()
	u, err := url.Parse(run(b, "location", chromedp.Location()))
	if err != nil {
		b.t.Fatal(err)
	}
	return u.RequestURI()
}

// text returns the visible text of the first element sel finds.
func (b *tab) text(sel string) string {
	b.t.Helper()
	return strings.TrimSpace(run(b, "text of "+sel, chromedp.Text(chromedp.CSS(sel))))
}

// eval evaluates a JavaScript expression through the DevTools protocol (not
// subject to the page's CSP) and returns its string value.
func (b *tab) eval(expr string) string {
	b.t.Helper()
	return run(b, expr, chromedp.Evaluate[string](expr))
}

// waitFor polls a JavaScript expression until it is true, for at most five
// seconds, and reports whether it became true.
func (b *tab) waitFor(expr string) bool {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	ok, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(5*time.Second)))
	return err == nil && ok
}

// screenshot saves the viewport as name when envScreenshots names a
// directory.
func (b *tab) screenshot(name string) {
	b.t.Helper()
	dir := os.Getenv(envScreenshots)
	if dir == "" {
		return
	}
	png := run(b, "screenshot", chromedp.CaptureScreenshot())
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		b.t.Errorf("saving the screenshot: %v", err)
	}
}

func TestBrowserSignupLoginLogout(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	b := newTab(t, env)
	const email = "ada@example.com"

	// Sign up, first with a password that is too short.
	b.open("/signup")
	if got := b.eval(`getComputedStyle(document.body).fontFamily`); !strings.Contains(got, "system-ui") {
		t.Errorf("the stylesheet did not apply under the CSP: body font %q", got)
	}
	b.do("fill in sign-up",
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), "short"),
	)
	b.click(`form[action="/signup"] button[type=submit]`)
	// autofocus applies after the load event, so wait for it briefly.
	if !b.waitFor(`document.activeElement && document.activeElement.getAttribute("role") === "alert"`) {
		t.Errorf("after a failed sign-up the focus is on %q, want the error summary",
			b.eval(`document.activeElement.getAttribute("role") || ""`))
	}
	if got := b.text("#password-error"); !strings.Contains(got, "at least 8 characters") {
		t.Errorf("password error %q", got)
	}
	if got := run(b, "email value", chromedp.Value(chromedp.ID("email"))); got != email {
		t.Errorf("email field kept %q, want %q", got, email)
	}
	b.screenshot("signup-error.png")
	b.do("fix the password", chromedp.SendKeys(chromedp.ID("password"), testPassword))
	b.click(`form[action="/signup"] button[type=submit]`)
	verifyPath := b.path()
	if !strings.HasPrefix(verifyPath, "/signup/verify?id=") {
		t.Fatalf("after sign-up the browser is at %s", verifyPath)
	}
	// The code page names the address, and offers a new code only after
	// the cooldown: the button is off, with the seconds left.
	if got := b.text("#sent-to"); got != "We emailed a 6-digit code to a***a@ex***le.com. It works for 10 minutes." {
		t.Errorf("the code page says %q", got)
	}
	if got := b.eval(`String(document.getElementById("send-again").disabled) + " " + document.getElementById("send-again").textContent`); got != "true Send a new code (in 60 s)" {
		t.Errorf("resend button: %q", got)
	}
	b.screenshot("signup-code.png")

	// Read the code from the development outbox, as a person would.
	b.open("/dev/outbox")
	sel := fmt.Sprintf(`[data-to=%q][data-purpose="signup_code"]`, email)
	code := run(b, "code from the outbox", chromedp.AttributeValue(chromedp.CSS(sel), "data-code"))
	if !code.Exists || len(code.Value) != 6 {
		t.Fatalf("outbox code %+v", code)
	}
	if want := env.Code(t, email, "signup_code"); code.Value != want {
		t.Fatalf("outbox page shows code %s, the outbox holds %s", code.Value, want)
	}

	b.open(verifyPath)
	b.do("enter the code", chromedp.SendKeys(chromedp.ID("code"), code.Value))
	b.click(`form[action="/signup/verify"] button[type=submit]`)
	if got := b.path(); got != "/login?created=1&email=ada%40example.com" {
		t.Fatalf("after the code the browser is at %s", got)
	}
	if got := b.text(".notice"); got != "Your account is ready; log in." {
		t.Errorf("notice %q", got)
	}

	// Log in: the address is filled in already.
	if got := run(b, "email value", chromedp.Value(chromedp.ID("email"))); got != email {
		t.Errorf("after sign-up the login form has email %q, want %q", got, email)
	}
	b.do("fill in login", chromedp.SendKeys(chromedp.ID("password"), testPassword))
	b.click(`form[action="/login"] button[type=submit]`)
	if got := b.path(); got != "/overview" {
		t.Fatalf("after login the browser is at %s", got)
	}
	if got := b.text("#signed-in-as strong"); got != email {
		t.Errorf("the header says %q is signed in, want %q", got, email)
	}
	b.click(`.sidenav a[href="/account"]`)
	accountID := env.Do(t, "GET", "/api/v1/account", env.Login(t, email, testPassword), nil).String("account_id")
	if got := b.text("#account-email"); got != email {
		t.Errorf("Account Information shows email %q, want %q", got, email)
	}
	if got := b.text("#account-id"); got != accountID || accountID == "" {
		t.Errorf("Account Information shows account id %q, want %q", got, accountID)
	}
	if got := b.text(`.sidenav a[aria-current="page"]`); got != "Account Information" {
		t.Errorf("current navigation item %q", got)
	}
	b.screenshot("account.png")

	// Signed-in devices lists this browser as this device (and the API
	// session opened above as another).
	b.click(`.sidenav a[href="/account/devices"]`)
	if got := b.text(".card-current .badge"); got != "This device" {
		t.Errorf("this-device marker %q", got)
	}
	if got := b.text(".card-current h2"); !strings.Contains(got, "Chrome") {
		t.Errorf("this device is named %q, want Chrome…", got)
	}
	if got := b.eval(`String(document.querySelectorAll("#sessions > li").length)`); got != "2" {
		t.Errorf("%s sessions listed, want 2", got)
	}
	b.screenshot("devices.png")

	// At a phone's width nothing runs off the side.
	b.do("phone width", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	if got := b.eval(`String(document.documentElement.scrollWidth <= window.innerWidth)`); got != "true" {
		t.Errorf("the devices page is wider than a phone: scrollWidth %s, width %s",
			b.eval(`String(document.documentElement.scrollWidth)`), b.eval(`String(window.innerWidth)`))
	}
	b.screenshot("devices-phone.png")
	b.do("desktop width", chromedp.EmulateReset())

	// Log out.
	b.click(`form[action="/logout"] button[type=submit]`)
	if got := b.path(); got != "/login?out=1" {
		t.Fatalf("after logout the browser is at %s", got)
	}
	if got := b.text(".notice"); got != "You are logged out." {
		t.Errorf("after logout the notice is %q", got)
	}
	if got := b.eval(`document.querySelector("#password").getAttribute("autocomplete")`); got != "current-password" {
		t.Errorf("login form password autocomplete %q", got)
	}
	b.open("/account")
	if got := b.path(); got != "/login" {
		t.Errorf("after logout /account shows %s, want the login page", got)
	}
}
