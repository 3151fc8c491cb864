package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testserver"
)

// The helpers below run the applicant's side through the JSON API, as
// api/tickets_test.go does.

// submitTicket sends a ticket from the public form (the proofs are run
// here) and returns its number.
func submitTicket(t *testing.T, env *testserver.Env, contact, phone string, data map[string]string, parts ...testserver.Part) string {
	t.Helper()
	data["contact_token"] = env.ProveTicketContact(t, contact)
	data["phone_token"] = env.ProveTicketPhone(t, phone)
	body, ct := testserver.Multipart(t, data, parts...)
	r := env.DoRaw(t, "POST", "/api/v1/tickets", "", ct, body)
	if r.Status != http.StatusCreated || r.String("ticket_number") == "" {
		t.Fatalf("submit: %d %s", r.Status, r.Raw)
	}
	return r.String("ticket_number")
}

// unbindTicket is an unbind_mfa ticket for accountEmail with the name and
// a passport number (which an ID-card record never matches).
func unbindTicket(t *testing.T, env *testserver.Env, contact, phone, accountEmail, name string) string {
	t.Helper()
	return submitTicket(t, env, contact, phone, map[string]string{"kind": "unbind_mfa",
		"account_email": accountEmail, "name": name, "document_number": "E12345678"})
}

// verifiedTicketHolder signs up an account whose real-name record (an ID
// card, validIDNumber) a reviewer approved.
func verifiedTicketHolder(t *testing.T, env *testserver.Env, email, name string) string {
	t.Helper()
	accountID, submission := submitIdentity(t, env, email, name, false)
	setup := custos.Staff{ID: "stf_setup", Email: "setup@custos.test", Role: custos.RoleReviewer, State: custos.StaffActive}
	if err := env.App.Identity.Decide(t.Context(), setup, submission, true, "", custos.Client{}); err != nil {
		t.Fatalf("approving %s's identity: %v", email, err)
	}
	return accountID
}

var ticketRow = regexp.MustCompile(`<tr data-id="([A-Za-z0-9_]+)" data-number="([0-9-]+)"`)

// queueNumbers lists the ticket numbers of a queue page, in its order.
func queueNumbers(p page) []string {
	var out []string
	for _, m := range ticketRow.FindAllStringSubmatch(p.Body, -1) {
		out = append(out, m[2])
	}
	return out
}

// ticketIDOf finds a ticket's id in the queue by its number.
func (v *visitor) ticketIDOf(number string) string {
	v.t.Helper()
	p := v.get("/staff/tickets?show=all&q=" + url.QueryEscape(number))
	wantStatus(v.t, p, http.StatusOK)
	m := ticketRow.FindAllStringSubmatch(p.Body, -1)
	if len(m) != 1 || m[0][2] != number {
		v.t.Fatalf("searching for %s found %v\n%s", number, m, p.Body)
	}
	return m[0][1]
}

func sameList(a, b []string) bool {
	return strings.Join(a, ",") == strings.Join(b, ",")
}

func TestStaffTicketQueueOrderFiltersAndSearch(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	verifiedTicketHolder(t, env, "lost@example.com", "Li Lei")
	env.SignUp(t, "moved@example.com", testPassword)

	first := unbindTicket(t, env, "applicant1@example.org", "+8613900000001", "lost@example.com", "Li Lei")
	env.Clock.Advance(3 * time.Hour)
	second := submitTicket(t, env, "applicant2@example.org", "+8613900000002", map[string]string{"kind": "change_phone",
		"account_email": "moved@example.com", "recovery_phone": "+8613900000009", "recovery_email": "me@example.org"})
	env.Clock.Advance(50 * time.Hour)
	third := unbindTicket(t, env, "applicant3@example.org", "+8613900000003", "nobody@example.com", "Han Mei")
	env.Clock.Advance(3 * time.Hour)

	v, m := newStaff(t, env, "rita@staff.example", custos.RoleReviewer)
	p := v.get("/staff/tickets")
	wantStatus(t, p, http.StatusOK)
	wantStaffChrome(t, p, m.email)
	wantContains(t, p, `<a href="/staff/tickets" aria-current="page">Support tickets</a>`)
	if got := queueNumbers(p); !sameList(got, []string{first, second, third}) {
		t.Fatalf("the queue lists %v, want oldest first %v", got, []string{first, second, third})
	}
	wantContains(t, p, `<td class="ticket-age">3 h</td>`, `<td class="ticket-age">2 days</td>`,
		"Unbind a lost MFA device", "Change the bound phone", "Submitted<")
	// The identity queue links to the tickets too.
	wantContains(t, v.get("/staff"), `<a href="/staff/tickets">Support tickets</a>`)

	// By kind.
	if got := queueNumbers(v.get("/staff/tickets?kind=change_phone")); !sameList(got, []string{second}) {
		t.Errorf("kind=change_phone lists %v", got)
	}
	if got := queueNumbers(v.get("/staff/tickets?kind=unbind_mfa")); !sameList(got, []string{first, third}) {
		t.Errorf("kind=unbind_mfa lists %v", got)
	}
	// By login email (any case) and by number, with or without dashes.
	if got := queueNumbers(v.get("/staff/tickets?q=" + url.QueryEscape("Lost@Example.com"))); !sameList(got, []string{first}) {
		t.Errorf("searching by email lists %v", got)
	}
	if got := queueNumbers(v.get("/staff/tickets?q=" + url.QueryEscape(second))); !sameList(got, []string{second}) {
		t.Errorf("searching by number lists %v", got)
	}
	if got := queueNumbers(v.get("/staff/tickets?q=" + strings.ReplaceAll(second, "-", ""))); !sameList(got, []string{second}) {
		t.Errorf("searching by the number without dashes lists %v", got)
	}
	p = v.get("/staff/tickets?q=" + url.QueryEscape("someone@example.com"))
	wantContains(t, p, `id="tickets-empty"`, `value="someone@example.com"`)
	// An email that names no account finds nothing, even when a ticket
	// named it: the search is by the account.
	if got := queueNumbers(v.get("/staff/tickets?q=nobody@example.com")); len(got) != 0 {
		t.Errorf("searching by an email of no account lists %v", got)
	}

	// A ticket for an account with no real-name record gives recovery
	// contacts, which the page shows.
	p = v.get("/staff/tickets/" + v.ticketIDOf(second))
	wantContains(t, p, `data-verified="false">No<`, `id="recovery-phone">&#43;8613900000009<`, `id="recovery-email">me@example.org<`,
		`data-kind="change_phone">Change the bound phone<`, `id="approvals-count">0 of 1<`)

	// The ticket for no account is rejected: it leaves the open queue.
	thirdID := v.ticketIDOf(third)
	wantRedirect(t, v.post("/staff/tickets/"+thirdID+"/decision", url.Values{"decision": {"reject"}, "reason": {"No such account."}}),
		"/staff/tickets/"+thirdID+"?done=rejected")
	if got := queueNumbers(v.get("/staff/tickets")); !sameList(got, []string{first, second}) {
		t.Errorf("open only lists %v", got)
	}
	if got := queueNumbers(v.get("/staff/tickets?show=all")); !sameList(got, []string{first, second, third}) {
		t.Errorf("show=all lists %v", got)
	}
	if got := queueNumbers(v.get("/staff/tickets?state=rejected")); !sameList(got, []string{third}) {
		t.Errorf("state=rejected lists %v", got)
	}
	// Opening a ticket moved it in review.
	if got := queueNumbers(v.get("/staff/tickets?state=in_review")); !sameList(got, []string{second}) {
		t.Errorf("state=in_review lists %v", got)
	}
	v.get("/staff/tickets/" + v.ticketIDOf(first))
	if got := queueNumbers(v.get("/staff/tickets?state=in_review&kind=unbind_mfa")); !sameList(got, []string{first}) {
		t.Errorf("state=in_review&kind=unbind_mfa lists %v", got)
	}
	if got := queueNumbers(v.get("/staff/tickets?state=submitted")); len(got) != 0 {
		t.Errorf("state=submitted lists %v", got)
	}
	for _, q := range []string{"state=lost", "kind=everything", "show=some"} {
		p := v.get("/staff/tickets?" + q)
		wantStatus(t, p, http.StatusBadRequest)
		wantStaffChrome(t, p, m.email)
	}
}

func TestStaffTicketPageComparesFields(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	accountID := verifiedTicketHolder(t, env, "lost@example.com", "Li Lei")
	number := unbindTicket(t, env, "wang.personal@example.org", "+8613912345678", "lost@example.com", "Li Lei")
	env.Clock.Advance(3 * time.Hour)
	v, m := newStaff(t, env, "rita@staff.example", custos.RoleReviewer)
	id := v.ticketIDOf(number)

	p := v.get("/staff/tickets/" + id)
	wantStatus(t, p, http.StatusOK)
	wantStaffChrome(t, p, m.email)
	wantContains(t, p,
		`id="ticket-number">`+number+`<`, `data-kind="unbind_mfa">Unbind a lost MFA device<`,
		`data-state="in_review">In review<`, `id="ticket-age">3 h<`,
		// The comparison, by words and not by colour alone.
		`<tr data-field="account_email" data-verdict="match">`,
		`<tr data-field="name" data-verdict="match">`,
		`<tr data-field="document_number" data-verdict="mismatch">`,
		`<tr data-field="phone" data-verdict="not_on_file">`,
		`<th scope="row">Name</th>`, `<th scope="row">Passport or driving licence number</th>`,
		`<th scope="row">Phone number in use</th>`, `<th scope="row">Login email</th>`,
		"Matches</td>", "Does not match</td>", "Nothing on file</td>",
		"E12345678", "&#43;8613912345678", "1 of 4 fields do not match the record.",
		// The value on file is masked.
		"**************002X", `<td class="on-file">L* ***</td>`,
		`data-found="true">Yes<`, `id="account-id">`+accountID+`<`, `data-verified="true">Yes, as Individual<`,
		`id="contact-email">wang.personal@example.org<`, `id="no-answers"`, `id="no-files"`,
		`id="approvals-count">0 of 2<`, `action="/staff/tickets/`+id+`/decision"`,
		`id="approve-form"`, `id="reject-form"`, `id="ask-form"`)
	wantAbsent(t, p, validIDNumber, `id="execute-at"`)
	wantStatus(t, v.get("/staff/tickets/tkt_nothing"), http.StatusNotFound)

	// A question needs words; then the ticket waits for the answer.
	p = v.post("/staff/tickets/"+id+"/decision", url.Values{"decision": {"need_more_info"}, "question": {"  "}})
	wantStatus(t, p, http.StatusBadRequest)
	wantContains(t, p, `id="question-error"`, `aria-invalid="true"`)
	p = v.post("/staff/tickets/"+id+"/decision", url.Values{"decision": {"need_more_info"}, "question": {"Which passport did you use?"}})
	wantRedirect(t, p, "/staff/tickets/"+id+"?done=need_more_info")
	p = v.get("/staff/tickets/" + id + "?done=need_more_info")
	wantContains(t, p, "Question sent.", `data-state="need_more_info"`, `id="ticket-question">Which passport did you use?`, `id="reject-form"`)
	wantAbsent(t, p, `id="approve-form"`, `id="ask-form"`)
}

func TestStaffTicketTwoApproversThenWaiting(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	verifiedTicketHolder(t, env, "lost@example.com", "Li Lei")
	number := unbindTicket(t, env, "applicant@example.org", "+8613912345678", "lost@example.com", "Li Lei")
	one, _ := newStaff(t, env, "one@staff.example", custos.RoleReviewer)
	two, _ := newStaff(t, env, "two@staff.example", custos.RoleReviewer)
	id := one.ticketIDOf(number)
	approve := url.Values{"decision": {"approve"}}

	wantRedirect(t, one.post("/staff/tickets/"+id+"/decision", approve), "/staff/tickets/"+id+"?done=approved")
	p := one.get("/staff/tickets/" + id + "?done=approved")
	wantContains(t, p, "Your approval is recorded.", `data-state="approved"`, `id="approvals-count">1 of 2<`,
		"(you)", `id="approved-by-you"`, `id="reject-form"`)
	wantAbsent(t, p, `id="approve-form"`)

	// The same reviewer again: the ticket again, with the reason.
	p = one.post("/staff/tickets/"+id+"/decision", approve)
	wantStatus(t, p, http.StatusForbidden)
	wantContains(t, p, `id="refused"`, "You have already approved this ticket. Another reviewer must give the next approval.",
		`id="approvals-count">1 of 2<`)

	// The second reviewer sees one approval, not theirs.
	p = two.get("/staff/tickets/" + id)
	wantContains(t, p, `id="approvals-count">1 of 2<`, `id="approve-form"`)
	wantAbsent(t, p, "(you)")
	executeAt := env.Clock.Now().Add(72 * time.Hour).UTC()
	wantRedirect(t, two.post("/staff/tickets/"+id+"/decision", approve), "/staff/tickets/"+id+"?done=waiting")
	p = two.get("/staff/tickets/" + id + "?done=waiting")
	wantContains(t, p, "Approved. The change is made after the waiting period", `data-state="waiting"`,
		`id="approvals-count">2 of 2<`, `id="execute-at"><time datetime="`+executeAt.Format(time.RFC3339)+`">`+executeAt.Format("2 Jan 2006, 15:04 MST")+`<`)
	wantAbsent(t, p, `id="approve-form"`, `id="reject-form"`)

	// Anything more is already decided.
	p = one.post("/staff/tickets/"+id+"/decision", url.Values{"decision": {"reject"}, "reason": {"Too late."}})
	wantStatus(t, p, http.StatusConflict)
	wantContains(t, p, `id="already-decided"`, "Already decided", `data-state="waiting"`)
}

func TestStaffTicketRefusals(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	verifiedTicketHolder(t, env, "lost@example.com", "Li Lei")
	v, _ := newStaff(t, env, "rita@staff.example", custos.RoleReviewer)

	// A ticket whose applicant is the reviewer.
	own := v.ticketIDOf(unbindTicket(t, env, "rita@staff.example", "+8613900000001", "lost@example.com", "Li Lei"))
	p := v.post("/staff/tickets/"+own+"/decision", url.Values{"decision": {"approve"}})
	wantStatus(t, p, http.StatusForbidden)
	wantContains(t, p, `id="refused-reason">You can&#39;t approve a ticket you submitted or one about your own account.`)

	// A ticket for no account.
	none := v.ticketIDOf(unbindTicket(t, env, "applicant2@example.org", "+8613900000002", "nobody@example.com", "Li Lei"))
	p = v.get("/staff/tickets/" + none)
	wantContains(t, p, `data-found="false">No<`, `id="no-account"`,
		`<tr data-field="account_email" data-verdict="not_on_file">`, `<tr data-field="name" data-verdict="not_on_file">`)
	p = v.post("/staff/tickets/"+none+"/decision", url.Values{"decision": {"approve"}})
	wantStatus(t, p, http.StatusConflict)
	wantContains(t, p, `id="refused-reason">No account has this login email`)

	// A duplicate while its original is open.
	dup := v.ticketIDOf(unbindTicket(t, env, "applicant3@example.org", "+8613900000003", "lost@example.com", "Li Lei"))
	p = v.get("/staff/tickets/" + dup)
	wantContains(t, p, `id="original-link"`, `href="/staff/tickets/`+own+`"`)
	p = v.post("/staff/tickets/"+dup+"/decision", url.Values{"decision": {"approve"}})
	wantStatus(t, p, http.StatusConflict)
	wantContains(t, p, `id="refused-reason">This ticket repeats open ticket`)
	wantContains(t, v.get("/staff/tickets/"+own), `class="duplicate-link"`, `href="/staff/tickets/`+dup+`"`)

	// A rejection needs a reason; a decision must be one of three.
	p = v.post("/staff/tickets/"+none+"/decision", url.Values{"decision": {"reject"}, "reason": {""}})
	wantStatus(t, p, http.StatusBadRequest)
	wantContains(t, p, `id="reason-error"`)
	wantStatus(t, v.post("/staff/tickets/"+none+"/decision", url.Values{"decision": {"maybe"}}), http.StatusBadRequest)
	wantRedirect(t, v.post("/staff/tickets/"+none+"/decision", url.Values{"decision": {"reject"}, "reason": {"No such account."}}),
		"/staff/tickets/"+none+"?done=rejected")
	p = v.get("/staff/tickets/" + none + "?done=rejected")
	wantContains(t, p, "Rejected. The applicant is told", `data-state="rejected"`, `id="ticket-reason">No such account.<`, `id="closed"`)
	wantAbsent(t, p, `id="approve-form"`, `id="reject-form"`)
	p = v.post("/staff/tickets/"+none+"/decision", url.Values{"decision": {"reject"}, "reason": {"Again."}})
	wantStatus(t, p, http.StatusConflict)
	wantContains(t, p, `id="already-decided"`)
}

var ticketFileLink = regexp.MustCompile(`/staff/tickets/([A-Za-z0-9_]+)/files/([A-Za-z0-9_]+)`)

// ticketFiles returns the file ids a ticket page links to.
func ticketFiles(t *testing.T, p page, ticketID string) []string {
	t.Helper()
	var ids []string
	seen := map[string]bool{}
	for _, m := range ticketFileLink.FindAllStringSubmatch(p.Body, -1) {
		if m[1] != ticketID {
			t.Errorf("ticket %s links to a file of %s", ticketID, m[1])
		}
		if !seen[m[2]] {
			seen[m[2]] = true
			ids = append(ids, m[2])
		}
	}
	return ids
}

func TestStaffTicketFiles(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	verifiedTicketHolder(t, env, "keep@example.com", "Han Mei")
	verifiedTicketHolder(t, env, "other@example.com", "Li Lei")
	// change_phone for a verified individual: the holding photos, the
	// back as a PDF.
	a := submitTicket(t, env, "applicant1@example.org", "+8613700000001", map[string]string{"kind": "change_phone", "account_email": "keep@example.com"},
		testserver.Part{Name: "holding_document_front", Data: testserver.PNG(t, 40, 30)},
		testserver.Part{Name: "holding_document_back", Filename: "back.pdf", Type: "application/pdf", Data: []byte(testPDF)})
	b := submitTicket(t, env, "applicant2@example.org", "+8613700000002", map[string]string{"kind": "change_phone", "account_email": "other@example.com"},
		testserver.Part{Name: "holding_document_front", Data: testserver.PNG(t, 40, 30)},
		testserver.Part{Name: "holding_document_back", Data: testserver.PNG(t, 40, 31)})
	v, _ := newStaff(t, env, "rita@staff.example", custos.RoleReviewer)
	idA, idB := v.ticketIDOf(a), v.ticketIDOf(b)
	pageA := v.get("/staff/tickets/" + idA)
	wantContains(t, pageA, "Applicant holding the document, front", `<img class="document" src="/staff/tickets/`+idA+`/files/`,
		"Download the PDF", `id="new-phone">&#43;8613700000001<`)
	filesA, filesB := ticketFiles(t, pageA, idA), ticketFiles(t, v.get("/staff/tickets/"+idB), idB)
	if len(filesA) != 2 || len(filesB) != 2 {
		t.Fatalf("files: %v and %v, want two each", filesA, filesB)
	}
	var sawImage, sawPDF bool
	for _, f := range filesA {
		p := v.get("/staff/tickets/" + idA + "/files/" + f)
		wantStatus(t, p, http.StatusOK)
		h := p.Header
		switch ct := h.Get("Content-Type"); ct {
		case "image/png":
			sawImage = true
			if d := h.Get("Content-Disposition"); d != `inline; filename="holding_document_front.png"` {
				t.Errorf("image: Content-Disposition %q", d)
			}
			if !strings.HasPrefix(p.Body, "\x89PNG") {
				t.Errorf("%s: not the PNG", f)
			}
		case "application/pdf":
			sawPDF = true
			if d := h.Get("Content-Disposition"); d != `attachment; filename="holding_document_back.pdf"` {
				t.Errorf("PDF: Content-Disposition %q", d)
			}
			if p.Body != testPDF {
				t.Errorf("%s: not the PDF", f)
			}
		default:
			t.Errorf("%s: Content-Type %q", f, ct)
		}
		for name, want := range map[string]string{
			"X-Content-Type-Options":       "nosniff",
			"Content-Security-Policy":      "default-src 'none'; sandbox",
			"Cache-Control":                "no-store, private",
			"Cross-Origin-Resource-Policy": "same-origin",
		} {
			if got := h.Get(name); got != want {
				t.Errorf("%s: %s = %q, want %q", f, name, got, want)
			}
		}
		if n := len(h.Values("Content-Security-Policy")); n != 1 {
			t.Errorf("%s: %d Content-Security-Policy headers", f, n)
		}
		if h.Get("Content-Length") != strconv.Itoa(len(p.Body)) {
			t.Errorf("%s: Content-Length %q for %d bytes", f, h.Get("Content-Length"), len(p.Body))
		}
	}
	if !sawImage || !sawPDF {
		t.Errorf("saw an image %v, a PDF %v", sawImage, sawPDF)
	}
	for _, path := range []string{
		"/staff/tickets/" + idA + "/files/" + filesB[0], // another ticket's file
		"/staff/tickets/" + idA + "/files/blob_unknown",
		"/staff/tickets/tkt_unknown/files/" + filesA[0],
	} {
		p := v.get(path)
		wantStatus(t, p, http.StatusNotFound)
		if got := p.Header.Get("Content-Type"); got != "text/html; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", path, got)
		}
	}
	anon := newVisitor(t, env)
	wantRedirect(t, anon.get("/staff/tickets/"+idA+"/files/"+filesA[0]), "/staff/login")
}

func TestStaffTicketCustomerCookieOpensNothing(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	const email = "cora@example.com"
	env.SignUp(t, email, testPassword)
	v := newVisitor(t, env)
	v.login(email, testPassword)
	for _, path := range []string{"/staff/tickets", "/staff/tickets/tkt_x", "/staff/tickets/tkt_x/files/blob_x"} {
		wantRedirect(t, v.get(path), "/staff/login")
	}
	wantRedirect(t, v.post("/staff/tickets/tkt_x/decision", url.Values{"decision": {"approve"}}), "/staff/login")
	// The customer's token in the staff cookie is no staff session.
	v.setCookie("custos_staff", v.cookie())
	wantRedirect(t, v.get("/staff/tickets"), "/staff/login?ended=1")
}
