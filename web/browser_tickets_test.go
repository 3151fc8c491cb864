package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/custos/custos"
	"github.com/custos/custos/internal/testserver"
)

// TestBrowserTicketContactSupport files a ticket as a person who lost
// their MFA device would: Log in → Contact support, the contact email
// with the captcha and the emailed code, "I lost my MFA device", the
// phone in use and its texted code, the personal template; the receipt
// shows the number and query code, which then find the ticket on Ticket
// status.
func TestBrowserTicketContactSupport(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	b := newTab(t, env)
	const contact, holder, phone = "someone@example.net", "li.wei@example.com", "+8613800138000"
	env.SignUp(t, holder, testPassword)

	b.open("/login")
	if got := b.text("#contact-support"); got != "Can't get in either way? Contact support" {
		t.Errorf("the login page's support link %q", got)
	}
	b.click("#contact-support")
	if got := b.path(); got != "/tickets/new" {
		t.Fatalf("Contact support went to %s", got)
	}
	if got := b.text("#ticket-step"); got != "Step 1 of 3" {
		t.Errorf("the first step says %q", got)
	}
	if got := b.eval(`document.querySelector(".captcha img").naturalWidth > 0 ? "loaded" : "missing"`); got != "loaded" {
		t.Errorf("the captcha picture is %s", got)
	}
	b.do("fill in the email", chromedp.SendKeys(chromedp.ID("email"), contact), chromedp.SendKeys(chromedp.ID("captcha_answer"), "test"))
	b.click("#contact-submit")
	if got := b.text("#sent-to"); !strings.Contains(got, "so***ne@ex***le.net") {
		t.Errorf("the code page says %q", got)
	}
	b.do("type the emailed code", chromedp.SendKeys(chromedp.ID("code"), env.Code(t, contact, custos.MsgTicketContactCode)))
	b.click("#code-submit")
	if got := b.path(); got != "/tickets/new" {
		t.Fatalf("after the emailed code the browser is at %s", got)
	}
	if got := b.eval(`document.cookie`); strings.Contains(got, "ticket") {
		t.Errorf("the proof cookie is readable by script: %q", got)
	}

	b.click("#kind-unbind_mfa")
	if got := b.text(`label[for="phone"]`); got != "The phone number bound to the account" {
		t.Errorf("the phone's label %q", got)
	}
	b.do("type the phone", chromedp.SendKeys(chromedp.ID("phone"), phone))
	b.click("#phone-submit")
	b.do("type the texted code", chromedp.SendKeys(chromedp.ID("code"), env.Code(t, phone, custos.MsgTicketPhoneCode)))
	b.click("#code-submit")
	if got := b.path(); got != "/tickets/new?kind=unbind_mfa" {
		t.Fatalf("after the texted code the browser is at %s", got)
	}
	if got := b.text("#ticket-step"); got != "Step 3 of 3" {
		t.Errorf("the template step says %q", got)
	}
	if got := b.text("#proven-phone"); got != "+86 138****8000" {
		t.Errorf("the proven phone shows as %q", got)
	}
	b.do("phone width", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	if got := b.eval(`String(document.documentElement.scrollWidth <= window.innerWidth)`); got != "true" {
		t.Errorf("the ticket form is wider than a phone: scrollWidth %s", b.eval(`String(document.documentElement.scrollWidth)`))
	}
	b.fullScreenshot("ticket-form-phone.png")
	b.do("desktop width", chromedp.EmulateReset())

	// A missing name: the problem beside it, the summary focused.
	b.do("fill in all but the name",
		chromedp.SendKeys(chromedp.ID("account_email"), holder),
		chromedp.SendKeys(chromedp.ID("document_number"), testserver.ValidID),
	)
	b.click("#ticket-submit")
	if !b.waitFor(`document.activeElement && document.activeElement.getAttribute("role") === "alert"`) {
		t.Errorf("after a refused form the focus is on %q", b.eval(`document.activeElement.id || document.activeElement.tagName`))
	}
	if got := b.text("#name-error"); !strings.Contains(got, "Fill this in") {
		t.Errorf("the name's error %q", got)
	}
	b.do("add the name", chromedp.SendKeys(chromedp.ID("name"), "李伟"))
	b.fullScreenshot("ticket-form.png")
	b.click("#ticket-submit")

	number, query := b.text("#ticket-number"), b.text("#ticket-query-code")
	if len(number) != 14 || len(query) != 10 {
		t.Fatalf("the receipt shows number %q and query code %q\n%s", number, query, b.text("main"))
	}
	if got := b.text("#receipt-keep"); !strings.Contains(got, "We never ask for the query code") {
		t.Errorf("the receipt says %q", got)
	}
	if strings.Contains(b.path(), query) {
		t.Errorf("the query code is in the address %s", b.path())
	}
	b.fullScreenshot("ticket-receipt.png")

	b.click("#receipt-status")
	if got := b.path(); got != "/tickets/status" {
		t.Fatalf("the status link went to %s", got)
	}
	b.do("look the ticket up", chromedp.SendKeys(chromedp.ID("number"), number), chromedp.SendKeys(chromedp.ID("query_code"), query))
	b.click("#status-submit")
	if got := b.text("#status-title"); got != "Ticket "+number {
		t.Errorf("the status page's title %q", got)
	}
	if got := b.text("#ticket-state"); got != "Submitted" {
		t.Errorf("the ticket's state %q", got)
	}
	if strings.Contains(b.path(), query) {
		t.Errorf("the query code is in the address %s", b.path())
	}
	b.fullScreenshot("ticket-status.png")
}
