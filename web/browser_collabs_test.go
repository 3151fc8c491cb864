package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/custos/custos"
	"github.com/custos/custos/internal/testserver"
)

// bindAppByAPI binds an authenticator app to the account through the JSON
// API, confirming it with oathtool's code, and returns its base32 key.
func bindAppByAPI(t *testing.T, env *testserver.Env, email string) string {
	t.Helper()
	tok := env.Login(t, email, testPassword)
	r := env.Do(t, "POST", "/api/v1/mfa/totp", tok, map[string]string{"name": "Phone"})
	if r.Status != http.StatusCreated || r.String("secret") == "" {
		t.Fatalf("begin totp: %d %s", r.Status, r.Raw)
	}
	key := r.String("secret")
	c := env.Do(t, "POST", "/api/v1/mfa/totp/"+r.String("device_id")+"/confirm", tok, map[string]string{"code": oathtoolCode(t, env, key)})
	if c.Status != http.StatusOK {
		t.Fatalf("confirm totp: %d %s", c.Status, c.Raw)
	}
	return key
}

func TestBrowserCollabsInviteAcceptSwitch(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	const owner, helper = "owner@example.com", "helper@example.com"
	rootID := env.SignUp(t, owner, testPassword)
	env.SignUp(t, helper, testPassword)
	key := bindAppByAPI(t, env, helper)

	// The root invites the helper, asking for an MFA device to work in
	// the account, and confirms it's them by an emailed code on the way.
	b := newTab(t, env)
	browserLogin(t, b, owner)
	b.click(`.sidenav a[href="/account/collaborators"]`)
	if got := b.text(`.sidenav a[aria-current="page"]`); got != "Collaborators" {
		t.Errorf("current navigation item %q", got)
	}
	b.do("fill in the invitation",
		chromedp.SendKeys(chromedp.ID("email"), helper),
		chromedp.Click(chromedp.ID("login_protection-mfa")),
	)
	b.screenshot("collabs-invite.png")
	b.click("#invite-submit")
	if got := b.path(); !strings.HasPrefix(got, "/account/verify?") {
		t.Fatalf("after the invitation the browser is at %s, want confirm it's you", got)
	}
	b.click("#send-code")
	b.do("type the emailed code", chromedp.SendKeys(chromedp.ID("code"), env.Code(t, owner, custos.MsgVerificationCode)))
	b.click(`form[action="/account/verify"] button[type=submit]`)
	if got := b.path(); !strings.HasPrefix(got, "/account/collaborators/invite?") {
		t.Fatalf("after confirming the browser is at %s", got)
	}
	if got := run(b, "email value", chromedp.Value(chromedp.ID("email"))); got != helper {
		t.Errorf("the invitation shown again holds %q", got)
	}
	if got := b.eval(`String(document.getElementById("login_protection-mfa").checked)`); got != "true" {
		t.Errorf("MFA device is not chosen on the invitation shown again")
	}
	b.click("#invite-submit")
	if got := b.path(); got != "/account/collaborators?done=invited" {
		t.Fatalf("after sending the browser is at %s", got)
	}
	if got := b.text("#collaborators .collab-state"); got != "Invited" {
		t.Errorf("state %q", got)
	}
	if got := b.text("#collaborators .collab-required"); !strings.Contains(got, "To work here: MFA device") {
		t.Errorf("what is required %q", got)
	}
	b.fullScreenshot("collabs-list.png")

	// The helper opens the link signed out, logs in, and is back at it.
	link := inviteLink(t, env, helper)
	h := newTab(t, env)
	h.open(link)
	if got := h.path(); got != "/login" {
		t.Fatalf("the link signed out shows %s", got)
	}
	h.do("fill in login",
		chromedp.SendKeys(chromedp.ID("email"), helper),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
	)
	h.click(`form[action="/login"] button[type=submit]`)
	if got := h.path(); got != link {
		t.Fatalf("after login the browser is at %s, want the link %s", got, link)
	}
	if got := h.text("h1"); got != "Accept the invitation?" {
		t.Errorf("the link's page is %q", got)
	}
	h.click("#accept-submit")
	if got := h.path(); got != "/account/collaborations?done=accepted" {
		t.Fatalf("after accepting the browser is at %s", got)
	}
	if got := h.text(`#collaborations [data-root="` + rootID + `"] code`); got != rootID {
		t.Errorf("the account listed is %q, want %s", got, rootID)
	}

	// Work in the root's account: the root asks for an MFA device, so the
	// helper confirms it's them with the authenticator app's code.
	h.click(`#collaborations [data-root="` + rootID + `"] .collab-switch`)
	if got := h.path(); !strings.HasPrefix(got, "/account/verify?") {
		t.Fatalf("after Work in this account the browser is at %s, want confirm it's you", got)
	}
	env.Clock.Advance(30 * time.Second) // the binding's code is taken once
	h.do("type the app's code", chromedp.SendKeys(chromedp.ID("code"), oathtoolCode(t, env, key)))
	h.screenshot("collabs-confirm.png")
	h.click(`form[action="/account/verify"] button[type=submit]`)
	if got := h.path(); !strings.HasPrefix(got, "/account/collaborations/switch?") {
		t.Fatalf("after confirming the browser is at %s", got)
	}
	h.click("#switch-submit")
	if got := h.path(); got != "/account/collaborations?done=switched" {
		t.Fatalf("after switching the browser is at %s", got)
	}
	want := "You are working in account " + rootID + " as a collaborator"
	if got := h.text("#acting-text"); got != want {
		t.Errorf("the bar says %q, want %q", got, want)
	}
	h.fullScreenshot("collabs-acting.png")
	// On every signed-in page.
	h.click(`.sidenav a[href="/account/security"]`)
	if got := h.text("#acting-text"); got != want {
		t.Errorf("on Security Settings the bar says %q", got)
	}
	// At a phone's width nothing runs off the side.
	h.do("phone width", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	if got := h.eval(`String(document.documentElement.scrollWidth <= window.innerWidth)`); got != "true" {
		t.Errorf("the page with the bar is wider than a phone")
	}
	h.do("desktop width", chromedp.EmulateReset())

	// Back to my account: the bar is gone.
	h.click("#acting-back")
	if got := h.path(); got != "/account/collaborations?done=back" {
		t.Fatalf("after Back to my account the browser is at %s", got)
	}
	if got := h.eval(`String(document.getElementById("acting-bar") === null)`); got != "true" {
		t.Errorf("the bar is still shown after going back")
	}
}
