package web_test

import (
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/custos/custos"
	"github.com/custos/custos/internal/testserver"
	"github.com/custos/custos/otp"
)

// oathtoolCode is the code an authenticator app shows for the base32 key
// at the server's (fake) time, from oathtool as a separate implementation
// of RFC 6238. The browser tests run only where CUSTOS_TEST_BROWSER is set
// (CI installs oathtool beside Chromium): without oathtool this fails.
func oathtoolCode(t *testing.T, env *testserver.Env, key string) string {
	t.Helper()
	secret, err := otp.DecodeSecret(key)
	if err != nil {
		t.Fatalf("the key %q on the page: %v", key, err)
	}
	ours := otp.TOTP(secret, env.Clock.Now(), otp.DefaultParams)
	path, err := exec.LookPath("oathtool")
	if err != nil {
		t.Fatalf("no oathtool (%v): install it (Debian package oathtool) to run the browser tests", err)
	}
	now := env.Clock.Now().UTC().Format("2006-01-02 15:04:05 UTC")
	out, err := exec.Command(path, "--totp", "-b", "--now", now, key).CombinedOutput()
	if err != nil {
		t.Fatalf("oathtool: %v: %s", err, out)
	}
	code := strings.TrimSpace(string(out))
	if code != ours {
		t.Fatalf("oathtool says %s at %s, the otp package %s", code, now, ours)
	}
	return code
}

func TestBrowserStaffEnrolReviewApprove(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	b := newTab(t, env)
	const admin = "ada@staff.example"
	token := addStaff(t, env, admin, custos.RoleAdmin)
	accountID, submission := submitIdentity(t, env, "holder@example.com", "Li Lei", true)
	holder := env.Login(t, "holder@example.com", testPassword)
	if got := env.Do(t, "GET", "/api/v1/account/identity", holder, nil).String("state"); got != "pending" {
		t.Fatalf("before the review the holder's record is %q", got)
	}

	// Enrol: a password, then the key shown as text, then the first code.
	b.open("/staff/enrol/" + token)
	if got := b.text("#staff-console"); got != "Staff console" {
		t.Errorf("the bar says %q", got)
	}
	bar := b.eval(`getComputedStyle(document.getElementById("staff-bar")).backgroundColor`)
	if bar != "rgb(61, 31, 102)" {
		t.Errorf("the staff bar's colour is %s, want the staff violet", bar)
	}
	if got := b.eval(`document.getElementById("password").getAttribute("autocomplete")`); got != "new-password" {
		t.Errorf("enrolment password autocomplete %q", got)
	}
	b.do("set the password", chromedp.SendKeys(chromedp.ID("password"), staffPassword))
	b.click(`form[action="/staff/enrol/` + token + `"] button[type=submit]`)
	if got := b.text("h1"); got != "Add the staff console to your authenticator app" {
		t.Fatalf("after the password the page is %q", got)
	}
	shown := b.text("#staff-secret")
	groups := strings.Fields(shown)
	for i, g := range groups {
		if len(g) > 4 || (len(g) < 4 && i < len(groups)-1) {
			t.Errorf("the key %q is not in groups of four", shown)
		}
	}
	if got := b.text("#staff-label"); got != "Custos staff: "+admin {
		t.Errorf("app label %q", got)
	}
	if got := b.text("#staff-uri"); !strings.HasPrefix(got, "otpauth://totp/") {
		t.Errorf("key URI %q", got)
	}
	b.fullScreenshot("staff-enrol.png")
	key := strings.ReplaceAll(shown, " ", "")
	b.do("type the first code", chromedp.SendKeys(chromedp.ID("code"), oathtoolCode(t, env, key)))
	b.click(`form[action="/staff/enrol/` + token + `"] button[type=submit]`)
	if got := b.path(); !strings.HasPrefix(got, "/staff/login?enrolled=1") {
		t.Fatalf("after the first code the browser is at %s", got)
	}
	if got := b.text(".notice"); !strings.HasPrefix(got, "You are enrolled.") {
		t.Errorf("notice %q", got)
	}

	// Log in on the next time step: the enrolment's code is never taken
	// twice.
	env.Clock.Advance(30 * time.Second)
	if got := run(b, "email value", chromedp.Value(chromedp.ID("email"))); got != admin {
		t.Errorf("the login form holds %q, want %q", got, admin)
	}
	b.do("fill in the staff login", chromedp.SendKeys(chromedp.ID("password"), staffPassword))
	b.click(`form[action="/staff/login"] button[type=submit]`)
	if got := b.path(); got != "/staff/login/code" {
		t.Fatalf("after the password the browser is at %s", got)
	}
	if !b.waitFor(`document.activeElement && document.activeElement.id === "code"`) {
		t.Errorf("the code field does not have the focus")
	}
	b.do("type the code", chromedp.SendKeys(chromedp.ID("code"), oathtoolCode(t, env, key)))
	b.click(`form[action="/staff/login/code"] button[type=submit]`)
	if got := b.path(); got != "/staff" {
		t.Fatalf("after the code the browser is at %s", got)
	}

	// The queue: the submission, its counts, the staff member's email.
	if got := b.text("#staff-email"); got != admin {
		t.Errorf("the bar names %q", got)
	}
	if got := b.text(`#queue-counts [data-kind="individual"]`); got != "1" {
		t.Errorf("individual count %q", got)
	}
	if got := b.eval(`String(document.querySelectorAll("#queue tbody tr").length)`); got != "1" {
		t.Fatalf("%s submissions in the queue, want 1", got)
	}
	b.fullScreenshot("staff-queue.png")
	b.click(fmt.Sprintf(`#queue tr[data-id=%q] a.review-link`, submission))
	if got := b.path(); got != "/staff/reviews/"+submission {
		t.Fatalf("the review is at %s", got)
	}
	if got := b.text("#field-name"); got != "Li Lei" {
		t.Errorf("name %q", got)
	}
	if got := b.text("#account-id"); got != accountID {
		t.Errorf("account id %q, want %s", got, accountID)
	}
	if got := b.text("#account-email"); got != "holder@example.com" {
		t.Errorf("account email %q", got)
	}
	// The photos load inline despite the files' sandbox CSP; the PDF is
	// a download link.
	if !b.waitFor(`(() => { const imgs = [...document.querySelectorAll("img.document")]; return imgs.length === 2 && imgs.every(i => i.complete && i.naturalWidth > 0) })()`) {
		t.Errorf("the document photos did not load: %s", b.eval(`JSON.stringify([...document.querySelectorAll("img.document")].map(i => [i.src, i.naturalWidth]))`))
	}
	if got := b.eval(`String(document.querySelectorAll("a[download]").length)`); got != "1" {
		t.Errorf("%s download links, want 1 (the PDF)", got)
	}
	b.fullScreenshot("staff-review.png")

	// At a phone's width nothing runs off the side.
	b.do("phone width", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	if got := b.eval(`String(document.documentElement.scrollWidth <= window.innerWidth)`); got != "true" {
		t.Errorf("the review is wider than a phone: scrollWidth %s", b.eval(`String(document.documentElement.scrollWidth)`))
	}
	b.fullScreenshot("staff-review-phone.png")
	b.do("desktop width", chromedp.EmulateReset())

	b.click(`#approve`)
	if got := b.path(); got != "/staff?decided=approved" {
		t.Fatalf("after approving the browser is at %s", got)
	}
	if got := b.text(".notice"); !strings.HasPrefix(got, "Approved.") {
		t.Errorf("notice %q", got)
	}
	if got := b.eval(`String(document.querySelectorAll("#queue tbody tr").length)`); got != "0" {
		t.Errorf("%s submissions still in the queue", got)
	}

	// The holder's view says verified.
	r := env.Do(t, "GET", "/api/v1/account/identity", holder, nil)
	if r.Status != http.StatusOK || r.String("state") != "verified" {
		t.Fatalf("the holder's record after approval: %d %s", r.Status, r.Raw)
	}

	// The admin pages, then logout.
	b.click(`.staff-nav a[href="/staff/audit"]`)
	if got := b.eval(fmt.Sprintf(`String(document.querySelectorAll('#audit tr[data-action="identity.decide"][data-target=%q]').length)`, submission)); got != "1" {
		t.Errorf("%s decisions of %s in the audit trail, want 1", got, submission)
	}
	b.click(`form[action="/staff/logout"] button[type=submit]`)
	if got := b.path(); got != "/staff/login?signed_out=1" {
		t.Fatalf("after logout the browser is at %s", got)
	}
	b.open("/staff")
	if got := b.path(); got != "/staff/login" {
		t.Errorf("after logout /staff shows %s", got)
	}
}
