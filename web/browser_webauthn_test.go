package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	cdpwebauthn "github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/custos/custos"
	"github.com/custos/custos/internal/testserver"
)

// addVirtualKey gives the tab Chrome's virtual authenticator: a USB
// security key (CTAP2) that holds resident keys, verifies its user and is
// touched at once whenever it is asked.
func addVirtualKey(t *testing.T, b *tab) cdpwebauthn.AuthenticatorID {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, cdpwebauthn.Enable, cdpwebauthn.EnableParams{}); err != nil {
		t.Fatalf("WebAuthn.enable: %v", err)
	}
	res, err := chromedp.Call(ctx, cdpwebauthn.AddVirtualAuthenticator, cdpwebauthn.AddVirtualAuthenticatorParams{
		Options: &cdpwebauthn.VirtualAuthenticatorOptions{
			Protocol:                    cdpwebauthn.AuthenticatorProtocolCtap2,
			Ctap2version:                cdpwebauthn.Ctap2versionCtap21,
			Transport:                   cdpwebauthn.AuthenticatorTransportUsb,
			HasResidentKey:              true,
			HasUserVerification:         true,
			IsUserVerified:              true,
			AutomaticPresenceSimulation: true,
		},
	})
	if err != nil {
		t.Fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
	}
	return res.AuthenticatorID
}

// virtualCredentials lists what the virtual authenticator holds.
func virtualCredentials(t *testing.T, b *tab, id cdpwebauthn.AuthenticatorID) []*cdpwebauthn.Credential {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, cdpwebauthn.GetCredentials, cdpwebauthn.GetCredentialsParams{AuthenticatorID: id})
	if err != nil {
		t.Fatalf("WebAuthn.getCredentials: %v", err)
	}
	return res.Credentials
}

// storedKey is what the server keeps of a security key's credential.
type storedKey struct {
	ID            []byte `json:"id"`
	Authenticator struct {
		SignCount uint32 `json:"signCount"`
	} `json:"authenticator"`
}

func TestBrowserSecurityKey(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	b := newTab(t, env)
	const email = browserEmail
	accountID := env.SignUp(t, email, testPassword)
	authenticator := addVirtualKey(t, b)
	browserLogin(t, b, email)

	// Add a security key from Security Settings. The script turns the
	// button on once it has loaded (the CSP lets /static/ scripts run).
	b.click(`.sidenav a[href="/account/security"]`)
	if !b.waitFor(`!document.getElementById("webauthn-add").disabled`) {
		t.Fatal("the script did not turn on the Add a security key button")
	}
	if got := b.eval(`getComputedStyle(document.querySelector("[data-webauthn-problem]")).display`); got != "none" {
		t.Errorf("the problem box shows before any problem: display %q", got)
	}
	b.do("name the key", chromedp.SendKeys(chromedp.ID("webauthn-name"), "YubiKey"))
	b.click("#webauthn-add")
	if got := b.path(); got != "/account/security?done=webauthn" {
		t.Fatalf("after adding the key the browser is at %s (problem: %q)", got,
			b.eval(`(document.querySelector("[data-webauthn-message]") || {}).textContent || ""`))
	}
	if got := b.text(".notice"); got != "Your security key is added." {
		t.Errorf("notice %q", got)
	}
	if got := b.text(`#mfa-devices li[data-type="webauthn"] h3`); got != "YubiKey" {
		t.Errorf("the key is listed as %q", got)
	}
	if got := b.text(`#mfa-devices li[data-type="webauthn"] dd`); got != "Security key" {
		t.Errorf("the key's type is shown as %q", got)
	}
	creds := virtualCredentials(t, b, authenticator)
	if len(creds) != 1 || creds[0].RpID != "localhost" {
		t.Fatalf("the virtual authenticator holds %+v, want one credential for localhost", creds)
	}
	b.fullScreenshot("security-key-added.png")

	// Turn on login protection. A security key is not a way to confirm
	// it's you, so the confirmation asks for a code by email.
	b.click(`#setting-login-protection button[type=submit]`)
	if got := b.path(); !strings.HasPrefix(got, "/account/verify?next=") {
		t.Fatalf("turning login protection on went to %s, want the confirmation", got)
	}
	if got := b.eval(`String(document.querySelectorAll('.other-ways button, .other-ways a').length)`); got != "0" {
		t.Errorf("the confirmation offers %s other ways, want only the email code", got)
	}
	b.click("#send-code")
	b.do("type the emailed code", chromedp.SendKeys(chromedp.ID("code"), env.Code(t, email, "verification_code")))
	b.click(`form[action="/account/verify"] button[type=submit]`)
	if got := b.path(); got != "/account/security/protection?login_protection=true" {
		t.Fatalf("after confirming the browser is at %s", got)
	}
	b.click(`form[action="/account/security/protection"] button[type=submit]`)
	if got := b.eval(`document.getElementById("setting-login-protection").dataset.state`); got != "on" {
		t.Fatalf("login protection is %q after turning it on", got)
	}
	// mfa is the method, the default once a device is bound.
	if got := b.eval(`document.querySelector('#login-method-form input[name="login_method"]:checked').value`); got != "mfa" {
		t.Errorf("the login method shows as %q, want mfa", got)
	}

	// Recovery codes, while the confirmation lasts: at the second step
	// they are the other MFA way.
	b.open("/account/security/recovery")
	b.click(`form[action="/account/security/recovery"] button[type=submit]`)
	if got := b.eval(`String(document.querySelectorAll("#recovery-codes li").length)`); got != "10" {
		t.Fatalf("%s recovery codes shown, want 10", got)
	}
	b.click("#saved")

	// The same key again, while the confirmation lasts: the key refuses (it
	// is among the excluded credentials) and the page says so, in the
	// problem box, which gets the focus.
	if !b.waitFor(`!document.getElementById("webauthn-add").disabled`) {
		t.Fatal("the Add a security key button is off")
	}
	b.do("add the same key", chromedp.SendKeys(chromedp.ID("webauthn-name"), "Same key"), chromedp.Click(chromedp.ID("webauthn-add")))
	if !b.waitFor(`(() => { const p = document.querySelector("[data-webauthn-problem]");
		return !p.hidden && p.getAttribute("role") === "alert" && document.activeElement === p })()`) {
		t.Fatal("adding the same key again shows no problem with the focus")
	}
	if got := b.text("[data-webauthn-message]"); got != "That security key is already on your account." {
		t.Errorf("problem %q", got)
	}
	if got := b.eval(`String(document.getElementById("webauthn-add").disabled)`); got != "false" {
		t.Error("after a problem the button stays off")
	}
	b.fullScreenshot("security-key-problem.png")

	// Once the confirmation has run out, the script goes to confirm it's
	// you first, which will come back here with the name typed.
	env.Clock.Advance(env.App.Auth.Config().VerifiedFor + time.Minute)
	b.click("#webauthn-add")
	if got, want := b.path(), "/account/verify?next=%2Faccount%2Fsecurity%3Fadd%3Dwebauthn%26name%3DSame%2Bkey"; got != want {
		t.Fatalf("adding a key without a fresh confirmation went to %s, want %s", got, want)
	}
	if n := len(virtualCredentials(t, b, authenticator)); n != 1 {
		t.Errorf("the virtual authenticator holds %d credentials, want 1", n)
	}

	// Log out, and in again with the password: the second step offers the
	// key first.
	b.click(`form[action="/logout"] button[type=submit]`)
	b.do("fill in login",
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
	)
	b.click(`form[action="/login"] button[type=submit]`)
	if got := b.text("h1"); got != "One more step to log in" {
		t.Fatalf("after the password the page is %q", got)
	}
	if got := b.text("#webauthn-login > h2"); got != "Your security key" {
		t.Errorf("the second step asks for %q first", got)
	}
	// The other ways are MFA ones only (mfa is the method): a recovery
	// code, and no email or text.
	if got := b.eval(`Array.from(document.querySelectorAll(".other-ways button")).map(b => b.value).join(",")`); got != "recovery_code" {
		t.Errorf("other ways offer %q, want recovery_code alone", got)
	}
	// Going to another way and back keeps the key on offer.
	b.click(`.other-ways button[value="recovery_code"]`)
	if got := b.text(`label[for="code"]`); got != "Recovery code" {
		t.Errorf("the other way asks for %q", got)
	}
	if got := b.text(`.other-ways button[value="webauthn"]`); got != "Security key" {
		t.Fatalf("other ways offer %q", got)
	}
	b.click(`.other-ways button[value="webauthn"]`)
	if !b.waitFor(`!document.getElementById("webauthn-use").disabled && document.activeElement.id === "webauthn-use"`) {
		t.Fatal("the Use your security key button is not on, with the focus")
	}
	b.fullScreenshot("login-security-key.png")
	b.click("#webauthn-use")
	if got := b.path(); got != "/overview" {
		t.Fatalf("after the key the browser is at %s (problem: %q)", got,
			b.eval(`(document.querySelector("[data-webauthn-message]") || {}).textContent || ""`))
	}
	if got := b.text("h1"); got != "Overview" {
		t.Errorf("landed on %q", got)
	}

	// The server stored the key's new sign counter, and when it was used.
	devices, err := env.App.MFA.Devices(context.Background(), accountID)
	if err != nil || len(devices) != 1 || devices[0].Type != custos.DeviceWebAuthn {
		t.Fatalf("devices %+v, %v", devices, err)
	}
	if devices[0].LastUsedAt.IsZero() {
		t.Error("the key's LastUsedAt is not set after the login")
	}
	var stored storedKey
	if err := json.Unmarshal(devices[0].Credential, &stored); err != nil {
		t.Fatal(err)
	}
	creds = virtualCredentials(t, b, authenticator)
	if len(creds) != 1 || !bytes.Equal(creds[0].CredentialID, stored.ID) {
		t.Fatalf("the stored credential is not the virtual key's")
	}
	if got, want := stored.Authenticator.SignCount, uint32(creds[0].SignCount); got == 0 || got != want {
		t.Errorf("stored sign counter %d, the key's is %d", got, want)
	}
}
