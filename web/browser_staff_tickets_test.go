package web_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/custos/custos"
	"github.com/custos/custos/internal/testserver"
	"github.com/custos/custos/otp"
)

// staffBrowserLogin logs a staff member in through the console's two
// steps in b, the code from oathtool, on a fresh time step.
func staffBrowserLogin(t *testing.T, env *testserver.Env, b *tab, m staffMember) {
	t.Helper()
	env.Clock.Advance(30 * time.Second)
	b.open("/staff/login")
	b.do("fill in the staff login", chromedp.SendKeys(chromedp.ID("email"), m.email), chromedp.SendKeys(chromedp.ID("password"), m.password))
	b.click(`form[action="/staff/login"] button[type=submit]`)
	if got := b.path(); got != "/staff/login/code" {
		t.Fatalf("after the password the browser is at %s", got)
	}
	b.do("type the code", chromedp.SendKeys(chromedp.ID("code"), oathtoolCode(t, env, otp.EncodeSecret(m.secret))))
	b.click(`form[action="/staff/login/code"] button[type=submit]`)
	if got := b.path(); got != "/staff" {
		t.Fatalf("after the code the browser is at %s", got)
	}
}

// enrolStaff adds a reviewer and enrols them through the pages (outside
// the browser); the browser then logs in as a person would.
func enrolStaff(t *testing.T, env *testserver.Env, email string) staffMember {
	t.Helper()
	v := newVisitor(t, env)
	return v.enrol(addStaff(t, env, email, custos.RoleReviewer), email)
}

func TestBrowserStaffTicketTwoApprovers(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	verifiedTicketHolder(t, env, "lost@example.com", "Li Lei")
	number := unbindTicket(t, env, "applicant@example.org", "+8613912345678", "lost@example.com", "Li Lei")
	one := enrolStaff(t, env, "one@staff.example")
	two := enrolStaff(t, env, "two@staff.example")

	// The first reviewer opens the tickets from the staff navigation.
	b := newTab(t, env)
	staffBrowserLogin(t, env, b, one)
	b.click(`.staff-nav a[href="/staff/tickets"]`)
	if got := b.path(); got != "/staff/tickets" {
		t.Fatalf("the navigation leads to %s", got)
	}
	if got := b.eval(`document.querySelector('.staff-nav a[href="/staff/tickets"]').getAttribute("aria-current")`); got != "page" {
		t.Errorf("the tickets item is not the current page: %q", got)
	}
	if got := b.eval(`String(document.querySelectorAll("#tickets tbody tr").length)`); got != "1" {
		t.Fatalf("%s tickets in the queue, want 1", got)
	}
	b.screenshot("staff-tickets.png")
	b.click(fmt.Sprintf(`#tickets tr[data-number=%q] a.ticket-link`, number))
	if got := b.path(); !strings.HasPrefix(got, "/staff/tickets/tkt_") {
		t.Fatalf("the ticket is at %s", got)
	}
	ticketPath := b.path()
	if got := b.text("#ticket-number"); got != number {
		t.Errorf("the page shows ticket %q, want %s", got, number)
	}
	// The comparison table: every verdict in words, the mismatch too.
	verdicts := b.eval(`JSON.stringify([...document.querySelectorAll("#comparison tbody tr")].map(r => r.dataset.field + "=" + r.querySelector(".verdict").textContent.trim()))`)
	for _, want := range []string{`name=✓ Matches`, `document_number=✗ Does not match`, `phone=– Nothing on file`, `account_email=✓ Matches`} {
		if !strings.Contains(verdicts, want) {
			t.Errorf("the comparison lacks %q: %s", want, verdicts)
		}
	}
	if got := b.text(`#comparison tr[data-field="document_number"] th`); got != "Passport or driving licence number" {
		t.Errorf("the document number's row is headed %q", got)
	}
	if got := b.text("#approvals-count"); got != "0 of 2" {
		t.Errorf("approvals %q", got)
	}
	b.screenshot("staff-ticket.png")
	// At a phone's width nothing runs off the side (the table scrolls in
	// its own box).
	b.do("phone width", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	if got := b.eval(`String(document.documentElement.scrollWidth <= window.innerWidth)`); got != "true" {
		t.Errorf("the ticket is wider than a phone: scrollWidth %s", b.eval(`String(document.documentElement.scrollWidth)`))
	}
	b.do("desktop width", chromedp.EmulateReset())

	b.click(`#approve`)
	if got := b.path(); got != ticketPath+"?done=approved" {
		t.Fatalf("after approving the browser is at %s", got)
	}
	if got := b.text(".notice"); !strings.HasPrefix(got, "Your approval is recorded.") {
		t.Errorf("notice %q", got)
	}
	if got := b.text("#approvals-count"); got != "1 of 2" {
		t.Errorf("after one approval: %q", got)
	}
	if got := b.eval(`String(document.getElementById("approve") === null)`); got != "true" {
		t.Errorf("the first reviewer is offered to approve again")
	}

	// A second reviewer, in another browser, approves too.
	b2 := newTab(t, env)
	staffBrowserLogin(t, env, b2, two)
	b2.open(ticketPath)
	if got := b2.text("#approvals-count"); got != "1 of 2" {
		t.Errorf("the second reviewer sees %q", got)
	}
	executeAt := env.Clock.Now().Add(72 * time.Hour).UTC()
	b2.click(`#approve`)
	if got := b2.path(); got != ticketPath+"?done=waiting" {
		t.Fatalf("after the second approval the browser is at %s", got)
	}
	if got := b2.text("#ticket-state"); got != "Approved, takes effect after the waiting period" {
		t.Errorf("state %q", got)
	}
	if got := b2.text("#approvals-count"); got != "2 of 2" {
		t.Errorf("after two approvals: %q", got)
	}
	if got := b2.text("#execute-at time"); got != executeAt.Format("2 Jan 2006, 15:04 MST") {
		t.Errorf("the waiting deadline reads %q, want %s", got, executeAt.Format("2 Jan 2006, 15:04 MST"))
	}
	if got := b2.eval(`document.querySelector("#execute-at time").getAttribute("datetime")`); got != executeAt.Format(time.RFC3339) {
		t.Errorf("the deadline's datetime %q", got)
	}
	b2.screenshot("staff-ticket-waiting.png")
}
