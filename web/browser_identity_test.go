package web_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/custos/custos"
	"github.com/custos/custos/internal/testserver"
)

// TestBrowserIdentityVerification verifies a real name as a holder would:
// from Account Information to the page, through "confirm it's you" by an
// emailed code, the individual form with three photos chosen from disk,
// then "waiting for review"; a reviewer approves it (through the staff
// API) and the page says verified, with the name masked.
func TestBrowserIdentityVerification(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	b := newTab(t, env)
	const email = "li.wei@example.com"
	env.SignUp(t, email, testPassword)
	browserLogin(t, b, email)

	// Three small photos on disk, as a person would pick them.
	dir := t.TempDir()
	photos := map[string]string{}
	for i, name := range []string{"document_front", "document_back", "holding_document"} {
		p := filepath.Join(dir, name+".png")
		if err := os.WriteFile(p, testserver.PNG(t, 64, 40+i), 0o600); err != nil {
			t.Fatal(err)
		}
		photos[name] = p
	}

	b.open("/account")
	if got := b.text("#account-identity #identity-state"); got != "Not verified" {
		t.Errorf("the real-name row says %q", got)
	}
	b.click("#identity-action")
	if got := b.path(); got != "/account/identity" {
		t.Fatalf("the row's action went to %s", got)
	}
	if got := b.text(`.sidenav a[aria-current="page"]`); got != "Account Information" {
		t.Errorf("current navigation item %q", got)
	}
	if got := b.text("#identity-record .identity-state"); got != "Not verified" {
		t.Errorf("the record says %q", got)
	}

	// Confirm it's you first, by a code to the account email.
	b.click("#identity-confirm-link")
	if got := b.path(); !strings.HasPrefix(got, "/account/verify?next=") {
		t.Fatalf("Confirm it's you went to %s", got)
	}
	b.click("#send-code")
	b.do("type the code", chromedp.SendKeys(chromedp.ID("code"), env.Code(t, email, custos.MsgVerificationCode)))
	b.click(`form[action="/account/verify"] button[type=submit]`)
	if got := b.path(); got != "/account/identity?kind=individual" {
		t.Fatalf("after confirming the browser is at %s", got)
	}

	// The form: labels, the limits in words, the inputs the API names.
	if got := b.text(`label[for="holding_document"]`); got != "Photo of you holding the card" {
		t.Errorf("the holding photo's label %q", got)
	}
	if got := b.text("#files-hint"); !strings.Contains(got, "JPEG, PNG or PDF, at most 10 MB each.") {
		t.Errorf("the files hint %q", got)
	}
	if got := b.eval(`document.getElementById("identity-form").enctype`); got != "multipart/form-data" {
		t.Errorf("the form's enctype %q", got)
	}
	// At a phone's width nothing of the form runs off the side.
	b.do("phone width", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	if got := b.eval(`String(document.documentElement.scrollWidth <= window.innerWidth)`); got != "true" {
		t.Errorf("the form is wider than a phone: scrollWidth %s", b.eval(`String(document.documentElement.scrollWidth)`))
	}
	b.fullScreenshot("identity-form-phone.png")
	b.do("desktop width", chromedp.EmulateReset())

	attach := func() {
		t.Helper()
		b.do("choose the photos",
			chromedp.SetUploadFiles(chromedp.ID("document_front"), []string{photos["document_front"]}),
			chromedp.SetUploadFiles(chromedp.ID("document_back"), []string{photos["document_back"]}),
			chromedp.SetUploadFiles(chromedp.ID("holding_document"), []string{photos["holding_document"]}),
		)
		if got := b.eval(`["document_front","document_back","holding_document"].map(id => document.getElementById(id).files.length).join(",")`); got != "1,1,1" {
			t.Fatalf("files chosen: %s", got)
		}
	}

	// A mistyped number: the problem next to the field and in the summary,
	// which has the focus; what was typed stays, the photos are chosen again.
	b.do("fill in the form with a wrong last character",
		chromedp.SendKeys(chromedp.ID("name"), "李伟"),
		chromedp.SetValue(chromedp.ID("document_type"), "cn_id_card"),
		chromedp.SendKeys(chromedp.ID("document_number"), "110105194912310021"),
	)
	attach()
	b.click("#identity-submit")
	if !b.waitFor(`document.activeElement && document.activeElement.getAttribute("role") === "alert"`) {
		t.Errorf("after a refused form the focus is on %q, want the error summary", b.eval(`document.activeElement.id || document.activeElement.tagName`))
	}
	if got := b.text("#document_number-error"); !strings.Contains(got, "its last character doesn't match") {
		t.Errorf("the number's error %q", got)
	}
	if got := b.text(`.error-summary a[href="#document_number"]`); !strings.Contains(got, "its last character doesn't match") {
		t.Errorf("the summary's entry %q", got)
	}
	if got := run(b, "name value", chromedp.Value(chromedp.ID("name"))); got != "李伟" {
		t.Errorf("the name field kept %q", got)
	}
	if got := b.text("#files-again"); !strings.Contains(got, "Choose your files again") {
		t.Errorf("the files note %q", got)
	}
	b.fullScreenshot("identity-error.png")

	b.eval(`document.getElementById("document_number").value = ""`)
	b.do("fix the number", chromedp.SendKeys(chromedp.ID("document_number"), testserver.ValidID))
	attach()
	b.fullScreenshot("identity-form.png")
	b.click("#identity-submit")
	if got := b.path(); got != "/account/identity?done=1" {
		t.Fatalf("after sending the browser is at %s\n%s", got, b.text("main"))
	}
	if got := b.text(".notice"); !strings.Contains(got, "waiting for review") {
		t.Errorf("notice %q", got)
	}
	if got := b.text("#identity-record .identity-state"); got != "Submitted, waiting for review" {
		t.Errorf("the record says %q", got)
	}
	if got := b.text("#identity-record .identity-name"); got != "李*" {
		t.Errorf("the record shows the name as %q", got)
	}
	if got := b.eval(`document.body.innerText.includes("` + testserver.ValidID + `") ? "shown" : "hidden"`); got != "hidden" {
		t.Errorf("the full number is %s on the page", got)
	}
	b.fullScreenshot("identity-pending.png")

	// A reviewer approves it.
	decideFirst(t, env, env.AddStaff(t, "reviewer@custos.test", custos.RoleReviewer), true, "")
	b.open("/account/identity")
	if got := b.text("#identity-record .identity-state"); got != "Verified" {
		t.Errorf("after the approval the record says %q", got)
	}
	if got := b.text("#identity-record .identity-name"); got != "李*" {
		t.Errorf("the verified record shows the name as %q", got)
	}
	if got := b.text("#identity-record .identity-last4"); got != "002X" {
		t.Errorf("the verified record shows the number's end as %q", got)
	}
	b.click(`.sidenav a[href="/account"]`)
	if got := b.text("#account-identity #identity-state"); got != "Verified" {
		t.Errorf("Account Information says %q after the approval", got)
	}

	b.fullScreenshot("identity-verified.png")
}
