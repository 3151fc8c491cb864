package web_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testserver"
	"github.com/custos/custos/ticket"
	"github.com/custos/custos/web"
)

// hiddenValue returns the value of the page's first hidden input name.
func hiddenValue(t *testing.T, p page, name string) string {
	t.Helper()
	m := regexp.MustCompile(`<input type="hidden" name="` + regexp.QuoteMeta(name) + `" value="([^"]*)"`).FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("%s %s: no hidden %s\n%s", p.Request.Method, p.Request.URL.Path, name, p.Body)
	}
	return html.UnescapeString(m[1])
}

// stepOf is the step the Contact support page shows.
func stepOf(t *testing.T, p page) string {
	t.Helper()
	m := regexp.MustCompile(`id="ticket-step" data-step="([a-z_]+)"`).FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("%s %s: not a Contact support step\n%s", p.Request.Method, p.Request.URL.Path, p.Body)
	}
	return m[1]
}

// codeForm posts the code page's hidden state with code.
func codeForm(t *testing.T, p page, code string) url.Values {
	t.Helper()
	f := url.Values{"step": {stepOf(t, p)}, "code": {code}}
	for _, name := range []string{"flow_id", "sent_to", "sent_at"} {
		f.Set(name, hiddenValue(t, p, name))
	}
	if f.Get("step") == "contact_code" {
		f.Set("email", hiddenValue(t, p, "email"))
	} else {
		f.Set("kind", hiddenValue(t, p, "kind"))
		f.Set("phone", hiddenValue(t, p, "phone"))
	}
	return f
}

// proveContact takes a public visitor through the contact email step.
func proveContact(t *testing.T, env *testserver.Env, v *visitor, email string) {
	t.Helper()
	p := v.get("/tickets/new")
	wantStatus(t, p, http.StatusOK)
	if s := stepOf(t, p); s != "contact" {
		t.Fatalf("Contact support starts at step %s", s)
	}
	wantContains(t, p, "Step 1 of 3", `name="captcha_answer"`, "New picture", "Listen to the characters instead", "<audio controls", `autocomplete="email"`)
	p = v.post("/tickets/new", url.Values{"step": {"contact"}, "email": {email},
		"captcha_id": {hiddenValue(t, p, "captcha_id")}, "captcha_answer": {"test"}})
	wantStatus(t, p, http.StatusOK)
	if s := stepOf(t, p); s != "contact_code" {
		t.Fatalf("after the email the step is %s\n%s", s, p.Body)
	}
	wantContains(t, p, custos.MaskEmail(email), `autocomplete="one-time-code"`)
	p = v.post("/tickets/new", codeForm(t, p, env.Code(t, email, custos.MsgTicketContactCode)))
	wantRedirect(t, p, "/tickets/new")
	if strings.Contains(p.Header.Get("Location"), "token") {
		t.Errorf("a token in the URL: %s", p.Header.Get("Location"))
	}
}

// provePhone takes a visitor through the phone step of kind.
func provePhone(t *testing.T, env *testserver.Env, v *visitor, kind custos.TicketKind, number string) {
	t.Helper()
	p := v.get("/tickets/new")
	if s := stepOf(t, p); s != "kind" {
		t.Fatalf("after the email the page shows step %s", s)
	}
	wantContains(t, p, "I lost my MFA device", "I lost my phone", `href="/tickets/new?kind=unbind_mfa"`)
	p = v.get("/tickets/new?kind=" + string(kind))
	if s := stepOf(t, p); s != "phone" {
		t.Fatalf("with the kind chosen the page shows step %s", s)
	}
	p = v.post("/tickets/new", url.Values{"step": {"phone"}, "kind": {string(kind)}, "phone": {number}})
	wantStatus(t, p, http.StatusOK)
	if s := stepOf(t, p); s != "phone_code" {
		t.Fatalf("after the phone the step is %s\n%s", s, p.Body)
	}
	p = v.post("/tickets/new", codeForm(t, p, env.Code(t, number, custos.MsgTicketPhoneCode)))
	wantRedirect(t, p, "/tickets/new?kind="+string(kind))
}

var (
	receiptNumber = regexp.MustCompile(`id="ticket-number">([0-9-]+)<`)
	receiptQuery  = regexp.MustCompile(`id="ticket-query-code">([A-Z0-9]+)<`)
)

// receiptOf reads the ticket number and query code off the receipt.
func receiptOf(t *testing.T, p page) (string, string) {
	t.Helper()
	wantStatus(t, p, http.StatusOK)
	n, q := receiptNumber.FindStringSubmatch(p.Body), receiptQuery.FindStringSubmatch(p.Body)
	if n == nil || q == nil {
		t.Fatalf("not a receipt:\n%s", p.Body)
	}
	return n[1], q[1]
}

// unbindPersonal is the personal unbind_mfa form for accountEmail.
func unbindPersonal(accountEmail string) []formPart {
	return []formPart{textPart("kind", "unbind_mfa"), textPart("who", "personal"), textPart("account_email", accountEmail),
		textPart("name", "李伟"), textPart("document_number", testserver.ValidID)}
}

// publicTicket submits an unbind_mfa ticket through the public form and
// returns its number and query code.
func publicTicket(t *testing.T, env *testserver.Env, contact, accountEmail, number string) (string, string) {
	t.Helper()
	v := newVisitor(t, env)
	proveContact(t, env, v, contact)
	provePhone(t, env, v, custos.TicketUnbindMFA, number)
	return receiptOf(t, v.postMultipart("/tickets/new?kind=unbind_mfa&who=personal", unbindPersonal(accountEmail)...))
}

func proofCookies(v *visitor) map[string]string {
	u, _ := url.Parse(v.env.URL)
	out := map[string]string{}
	for _, c := range v.client.Jar.Cookies(u) {
		if strings.HasPrefix(c.Name, "custos_ticket_") {
			out[c.Name] = c.Value
		}
	}
	return out
}

// TestTicketPublicFlowToReceipt: Log in links to Contact support; the
// email, the phone and the personal unbind_mfa template lead to the
// receipt, with the number and query code shown once and the proofs in
// Strict cookies, never in a URL; the status page then finds the ticket.
func TestTicketPublicFlowToReceipt(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		const contact, holder, phone = "someone@example.net", "li.wei@example.com", "+8613800138000"
		env.SignUp(t, holder, testPassword)
		v := newVisitor(t, env)
		login := v.get("/login")
		wantContains(t, login, `href="/tickets/new"`, "Can&#39;t get in either way? Contact support")

		// Nothing later than the first step works without the email.
		wantRedirect(t, v.post("/tickets/new", url.Values{"step": {"phone"}, "kind": {"unbind_mfa"}, "phone": {phone}}), "/tickets/new")

		// A wrong captcha answer: the form again with the problem beside it.
		p := v.get("/tickets/new")
		p = v.post("/tickets/new", url.Values{"step": {"contact"}, "email": {contact},
			"captcha_id": {hiddenValue(t, p, "captcha_id")}, "captcha_answer": {"wrong"}})
		wantStatus(t, p, http.StatusBadRequest)
		wantContains(t, p, `id="captcha_answer-error"`, `value="`+contact+`"`)

		proveContact(t, env, v, contact)
		// The contact cookie is HttpOnly and Strict; the page says what was proven.
		resp := v.get("/tickets/new")
		wantContains(t, resp, "so***ne@ex***le.net", "Step 2 of 3")
		provePhone(t, env, v, custos.TicketUnbindMFA, phone)
		cookies := proofCookies(v)
		if len(cookies) != 2 {
			t.Fatalf("proof cookies %v", cookies)
		}

		form := v.get("/tickets/new?kind=unbind_mfa")
		if s := stepOf(t, form); s != "form" {
			t.Fatalf("with both proofs the page shows %s", s)
		}
		wantContains(t, form, "Step 3 of 3", `enctype="multipart/form-data"`, `id="who-personal"`, `id="who-enterprise"`,
			`name="name"`, `name="document_number"`, `name="account_email"`, "138****8000",
			"We&#39;ll review your request against your account&#39;s real-name record. It takes 1–3 working days.")
		wantAbsent(t, form, `name="business_licence"`)
		ent := v.get("/tickets/new?kind=unbind_mfa&who=enterprise")
		wantContains(t, ent, `name="company_name"`, `name="uscc"`, `name="applicant_name"`, `name="applicant_document_number"`, `name="business_licence"`)
		ch := v.get("/tickets/new?kind=change_phone")
		wantContains(t, ch, `name="holding_document_front"`, `name="holding_document_back"`, `id="who-unverified"`)
		wantContains(t, v.get("/tickets/new?kind=change_phone&who=enterprise"), `name="business_licence"`, `name="legal_rep_document_front"`, `name="legal_rep_document_back"`)
		wantContains(t, v.get("/tickets/new?kind=change_phone&who=unverified"), `name="recovery_phone"`, `name="recovery_email"`)

		// Every missing field at once.
		p = v.postMultipart("/tickets/new?kind=unbind_mfa&who=enterprise", textPart("kind", "unbind_mfa"), textPart("who", "enterprise"),
			textPart("account_email", holder))
		wantStatus(t, p, http.StatusBadRequest)
		wantContains(t, p, `id="company_name-error"`, `id="uscc-error"`, `id="applicant_name-error"`,
			`id="applicant_document_number-error"`, `id="business_licence-error"`, `id="files-again"`)
		// A mistyped number beside its field, what was typed kept.
		parts := unbindPersonal(holder)
		parts[4] = textPart("document_number", "110105194912310021")
		p = v.postMultipart("/tickets/new?kind=unbind_mfa&who=personal", parts...)
		wantStatus(t, p, http.StatusBadRequest)
		wantContains(t, p, `id="document_number-error"`, `value="李伟"`)

		p = v.postMultipart("/tickets/new?kind=unbind_mfa&who=personal", unbindPersonal(holder)...)
		number, query := receiptOf(t, p)
		wantContains(t, p, "Write these down", "We never ask for the query code", "Unbind a lost MFA device")
		if p.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("the receipt's Cache-Control %q", p.Header.Get("Cache-Control"))
		}
		if len(proofCookies(v)) != 0 {
			t.Errorf("the proofs outlive the submission: %v", proofCookies(v))
		}
		// Back to the beginning.
		if s := stepOf(t, v.get("/tickets/new")); s != "contact" {
			t.Errorf("after the receipt Contact support shows %s", s)
		}
		// The applicant is told the number by email.
		if msgs := env.Messages(t, contact); len(msgs) == 0 || msgs[0].Purpose != custos.MsgTicketReceived {
			t.Errorf("the applicant's newest message %+v", msgs)
		}

		// The status page finds it by number and query code, posted.
		s := v.get("/tickets/status")
		wantContains(t, s, `action="/tickets/status"`, `name="number"`, `name="query_code"`)
		s = v.post("/tickets/status", url.Values{"number": {number}, "query_code": {strings.ToLower(query)}})
		wantStatus(t, s, http.StatusOK)
		wantContains(t, s, "Ticket "+number, `data-state="submitted"`, "Submitted", "Withdraw this ticket")
	})
}

// TestTicketStatusWrongQueryCode: a wrong query code, like an unknown
// number, is "not found", 404, with the form again and nothing of the
// ticket.
func TestTicketStatusWrongQueryCode(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	number, query := publicTicket(t, env, "a@example.net", "nobody@example.com", "+8613800138001")
	v := newVisitor(t, env)
	for _, f := range []url.Values{
		{"number": {number}, "query_code": {"WRONGCODE2"}},
		{"number": {"0000-0000-0000"}, "query_code": {query}},
	} {
		p := v.post("/tickets/status", f)
		wantStatus(t, p, http.StatusNotFound)
		wantContains(t, p, "We found no ticket with this number and query code.", `id="number-error"`)
		wantAbsent(t, p, `id="ticket-status"`, "WRONGCODE2", query)
	}
	p := v.post("/tickets/status", url.Values{"number": {number}})
	wantStatus(t, p, http.StatusBadRequest)
	wantContains(t, p, `id="query_code-error"`)
	// The answer to an unknown account's ticket looks like any other.
	p = v.post("/tickets/status", url.Values{"number": {number}, "query_code": {query}})
	wantStatus(t, p, http.StatusOK)
	wantContains(t, p, "Submitted")
}

// TestTicketWithdraw: withdrawing asks once more, then says it is done.
func TestTicketWithdraw(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	number, query := publicTicket(t, env, "a@example.net", "nobody@example.com", "+8613800138001")
	v := newVisitor(t, env)
	f := url.Values{"number": {number}, "query_code": {query}}
	p := v.post("/tickets/status/withdraw", f)
	wantStatus(t, p, http.StatusOK)
	wantContains(t, p, "Withdraw ticket "+number+"?", `name="confirm" value="yes"`)
	if st := env.Do(t, "GET", "/api/v1/tickets/"+number+"?query_code="+query, "", nil).String("state"); st != "submitted" {
		t.Fatalf("asking once more changed the state to %s", st)
	}
	f.Set("confirm", "yes")
	p = v.post("/tickets/status/withdraw", f)
	wantStatus(t, p, http.StatusOK)
	wantContains(t, p, "The ticket is withdrawn.", `data-state="withdrawn"`)
	wantAbsent(t, p, `id="withdraw"`)
}

// TestTicketHolderListAndCancel: a ticket naming a holder's account is on
// their Support tickets with its state and a cancel button that asks once
// more, naming what would happen; cancelling tells them and the list.
func TestTicketHolderListAndCancel(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		const holder = "li.wei@example.com"
		env.SignUp(t, holder, testPassword)
		number, _ := publicTicket(t, env, "stranger@example.net", holder, "+8613800138002")

		v := newVisitor(t, env)
		wantRedirect(t, v.get("/account/tickets"), "/login")
		v.login(holder, testPassword)
		acct := v.get("/account")
		wantContains(t, acct, `href="/account/tickets"`, "Support tickets")
		p := v.get("/account/tickets")
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, `aria-current="page">Support tickets`, number, "Unbind a lost MFA device", "Submitted", "About this account",
			`href="/account/tickets/`+number+`/cancel"`, "Cancel this ticket", `href="/tickets/new"`)
		wantAbsent(t, p, "Sent by you")

		c := v.get("/account/tickets/" + number + "/cancel")
		wantStatus(t, c, http.StatusOK)
		wantContains(t, c, "Cancel ticket "+number+"?", "your MFA devices and recovery codes stay as they are",
			`action="/account/tickets/`+number+`/cancel"`)
		wantStatus(t, v.get("/account/tickets/0000-0000-0000/cancel"), http.StatusNotFound)

		wantRedirect(t, v.post("/account/tickets/"+number+"/cancel", nil), "/account/tickets?cancelled=1")
		p = v.get("/account/tickets?cancelled=1")
		wantContains(t, p, "The ticket is cancelled.", "Cancelled by the account holder")
		wantAbsent(t, p, "Cancel this ticket")
		// Once cancelled, nothing more to cancel.
		wantStatus(t, v.post("/account/tickets/"+number+"/cancel", nil), http.StatusNotFound)
		if msgs := env.Messages(t, holder); len(msgs) == 0 || msgs[0].Purpose != custos.MsgTicketCancelled {
			t.Errorf("the holder's newest message %+v", msgs)
		}

		// Another account sees nothing of it and may not cancel it.
		env.SignUp(t, "other@example.com", testPassword)
		o := newVisitor(t, env)
		o.login("other@example.com", testPassword)
		wantContains(t, o.get("/account/tickets"), "There are no tickets here.")
		wantStatus(t, o.get("/account/tickets/"+number+"/cancel"), http.StatusNotFound)
	})
}

// TestTicketSignedInNewSkipsContact: signed in, New ticket starts at the
// phone, under the navigation, and the receipt's ticket is on the list as
// sent by them.
func TestTicketSignedInNewSkipsContact(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	const me, lost, phone = "helper@example.com", "lost@example.com", "+8613800138003"
	env.SignUp(t, me, testPassword)
	env.SignUp(t, lost, testPassword)
	v := newVisitor(t, env)
	v.login(me, testPassword)
	p := v.get("/tickets/new")
	if s := stepOf(t, p); s != "kind" {
		t.Fatalf("signed in, Contact support starts at %s", s)
	}
	wantContains(t, p, "Step 1 of 2", `aria-current="page">Support tickets`)
	wantAbsent(t, p, `name="captcha_answer"`)
	// The email step is not for a session.
	wantRedirect(t, v.post("/tickets/new", url.Values{"step": {"contact"}, "email": {"x@example.com"}}), "/tickets/new")
	provePhone(t, env, v, custos.TicketChangePhone, phone)
	form := v.get("/tickets/new?kind=change_phone&who=unverified")
	wantContains(t, form, "Step 2 of 2", "It can be another account than the one you&#39;re signed in to.", "Your new phone number")
	number, _ := receiptOf(t, v.postMultipart("/tickets/new?kind=change_phone&who=unverified",
		textPart("kind", "change_phone"), textPart("who", "unverified"), textPart("account_email", lost),
		textPart("recovery_phone", "+8613900139000"), textPart("recovery_email", "me@example.org")))
	list := v.get("/account/tickets")
	wantContains(t, list, number, "Change the bound phone", "Sent by you")
	wantAbsent(t, list, "Cancel this ticket")
}

// cancelLink is the path of a ticket's cancel link.
func cancelLink(t *testing.T, env *testserver.Env, number string) string {
	t.Helper()
	u, err := url.Parse(env.App.Tickets.CancelURL(custos.Ticket{Number: number}))
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}

// TestTicketCancelLink: the link of a notice asks, then cancels; a forged
// link and a used one are the error page's 404.
func TestTicketCancelLink(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		const holder = "li.wei@example.com"
		env.SignUp(t, holder, testPassword)
		number, query := publicTicket(t, env, "stranger@example.net", holder, "+8613800138004")
		link := cancelLink(t, env, number)
		if n, _ := ticket.SplitCancelLink(strings.TrimPrefix(link, "/tickets/cancel/")); n != number {
			t.Fatalf("cancel link %s", link)
		}
		v := newVisitor(t, env)
		p := v.get(link)
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, "Cancel ticket "+number+"?", `action="`+link+`"`)
		wantSecurityHeaders(t, p)

		_, token := ticket.SplitCancelLink(strings.TrimPrefix(link, "/tickets/cancel/"))
		forged := "/tickets/cancel/" + number + "." + strings.Repeat("A", len(token))
		for _, bad := range []string{forged, "/tickets/cancel/" + number, "/tickets/cancel/x.y"} {
			wantStatus(t, v.get(bad), http.StatusNotFound)
		}
		wantStatus(t, v.post(forged, nil), http.StatusNotFound)
		if st := env.Do(t, "GET", "/api/v1/tickets/"+number+"?query_code="+query, "", nil).String("state"); st != "submitted" {
			t.Fatalf("a forged link moved the ticket to %s", st)
		}

		p = v.post(link, nil)
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, "Ticket "+number+" is cancelled", "Nothing will change on your account.")
		if st := env.Do(t, "GET", "/api/v1/tickets/"+number+"?query_code="+query, "", nil).String("state"); st != "cancelled" {
			t.Fatalf("after the link the ticket is %s", st)
		}
		p = v.post(link, nil)
		wantStatus(t, p, http.StatusNotFound)
		wantAbsent(t, p, "is cancelled")
	})
}

// TestTicketNeedMoreInfoAnswer: a reviewer's question is on the status
// page with an answer form (text and up to three files); the answer puts
// the ticket back in review.
func TestTicketNeedMoreInfoAnswer(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		number, query := publicTicket(t, env, "a@example.net", "nobody@example.com", "+8613800138005")
		rev := env.AddStaff(t, "reviewer@custos.test", custos.RoleReviewer)
		st, _, err := env.App.Staff.Authenticate(t.Context(), rev.Token)
		if err != nil {
			t.Fatal(err)
		}
		list, err := env.App.Tickets.Queue(t.Context(), st, custos.TicketFilter{Number: number}, "")
		if err != nil || len(list) != 1 {
			t.Fatalf("queue: %v %v", list, err)
		}
		if _, err := env.App.Tickets.Decide(t.Context(), st, list[0].ID,
			ticket.Decision{Decision: "need_more_info", Question: "Please send a clearer photo of the ID card."}, custos.Client{}); err != nil {
			t.Fatal(err)
		}

		v := newVisitor(t, env)
		p := v.post("/tickets/status", url.Values{"number": {number}, "query_code": {query}})
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, `data-state="need_more_info"`, "Waiting for your answer", "Please send a clearer photo of the ID card.",
			`action="/tickets/status/answer"`, `enctype="multipart/form-data"`, `name="more_1"`, `name="more_2"`, `name="more_3"`)
		if strings.Contains(p.Request.URL.String(), query) {
			t.Errorf("the query code is in the URL")
		}

		// An empty answer, and a file that is no image.
		p = v.postMultipart("/tickets/status/answer", textPart("number", number), textPart("query_code", query), textPart("answer", " "))
		wantStatus(t, p, http.StatusBadRequest)
		wantContains(t, p, `id="answer-error"`)
		p = v.postMultipart("/tickets/status/answer", textPart("number", number), textPart("query_code", query),
			textPart("answer", "Here it is."), filePart("more_1", []byte("not an image at all")))
		wantStatus(t, p, http.StatusBadRequest)
		wantContains(t, p, `id="more_1-error"`, `value="`+query+`"`)
		// A wrong query code answers nothing.
		p = v.postMultipart("/tickets/status/answer", textPart("number", number), textPart("query_code", "WRONGCODE2"), textPart("answer", "x"))
		wantStatus(t, p, http.StatusNotFound)

		p = v.postMultipart("/tickets/status/answer", textPart("number", number), textPart("query_code", query),
			textPart("answer", "Here is a clearer photo."), filePart("more_1", testserver.PNG(t, 64, 40)), formPart{Name: "more_2", File: true})
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, "Your answer is with the reviewer.", `data-state="in_review"`, "In review")
		wantAbsent(t, p, `id="answer-form"`)
		view, err := env.App.Tickets.Review(t.Context(), st, list[0].ID, custos.Client{})
		if err != nil {
			t.Fatal(err)
		}
		if len(view.Fields.Answers) != 1 || view.Fields.Answers[0] != "Here is a clearer photo." || len(view.Ticket.Files) != 1 {
			t.Errorf("after the answer: answers %q, files %d", view.Fields.Answers, len(view.Ticket.Files))
		}
	})
}

// TestTicketProofCookies: the proofs are HttpOnly, SameSite=Strict,
// short-lived cookies.
func TestTicketProofCookies(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	const email = "a@example.net"
	v := newVisitor(t, env)
	p := v.get("/tickets/new")
	p = v.post("/tickets/new", url.Values{"step": {"contact"}, "email": {email},
		"captcha_id": {hiddenValue(t, p, "captcha_id")}, "captcha_answer": {"test"}})
	p = v.post("/tickets/new", codeForm(t, p, env.Code(t, email, custos.MsgTicketContactCode)))
	var set *http.Cookie
	for _, c := range p.Cookies() {
		if c.Name == "custos_ticket_contact" {
			set = c
		}
	}
	if set == nil {
		t.Fatalf("no contact cookie: %v", p.Header.Values("Set-Cookie"))
	}
	if !set.HttpOnly || set.SameSite != http.SameSiteStrictMode || set.MaxAge <= 0 || set.MaxAge > 3600 || set.Path != "/" {
		t.Errorf("contact cookie %+v", set)
	}
	if web.InsecureCookieName != "custos_session" {
		t.Errorf("the site's cookies are named %s", web.InsecureCookieName)
	}
	// Start again drops the proof.
	wantRedirect(t, v.get("/tickets/new?start=over"), "/tickets/new")
	if s := stepOf(t, v.get("/tickets/new")); s != "contact" {
		t.Errorf("after Start again the step is %s", s)
	}
}

// TestTicketWaitingCancelledFromTheNotice: two reviewers approve a
// verified holder's unbind_mfa ticket; the status page and the holder's
// list say when it takes effect; the link in the waiting notice cancels
// it, and the status page then says so.
func TestTicketWaitingCancelledFromTheNotice(t *testing.T) {
	env := testserver.Start(t, testserver.Options{IdentityVerifier: "auto"})
	const holder = "li.wei@example.com"
	env.SignUp(t, holder, testPassword)
	token := env.Login(t, holder, testPassword)
	if r := env.SubmitIndividual(t, token, holder, "李伟", testserver.ValidID); r.Status >= 300 {
		t.Fatalf("real-name verification: %d %s", r.Status, r.Raw)
	}
	number, query := publicTicket(t, env, "stranger@example.net", holder, "+8613800138006")
	for _, email := range []string{"first@custos.test", "second@custos.test"} {
		rev := env.AddStaff(t, email, custos.RoleReviewer)
		st, _, err := env.App.Staff.Authenticate(t.Context(), rev.Token)
		if err != nil {
			t.Fatal(err)
		}
		list, err := env.App.Tickets.Queue(t.Context(), st, custos.TicketFilter{Number: number}, "")
		if err != nil || len(list) != 1 {
			t.Fatalf("queue: %v %v", list, err)
		}
		if _, err := env.App.Tickets.Decide(t.Context(), st, list[0].ID, ticket.Decision{Decision: "approve"}, custos.Client{}); err != nil {
			t.Fatalf("approve: %v", err)
		}
	}
	v := newVisitor(t, env)
	p := v.post("/tickets/status", url.Values{"number": {number}, "query_code": {query}})
	wantContains(t, p, `data-state="waiting"`, "Approved, takes effect after the waiting period", `id="ticket-execute-at"`)

	h := newVisitor(t, env)
	h.login(holder, testPassword)
	wantContains(t, h.get("/account/tickets"), "Takes effect", "Cancel this ticket")

	var link string
	for _, m := range env.Messages(t, holder) {
		if m.Purpose == custos.MsgTicketWaiting && m.Channel == custos.ChannelEmail {
			link = regexp.MustCompile(`/tickets/cancel/[0-9-]+\.[A-Za-z0-9_-]+`).FindString(m.Text)
			break
		}
	}
	if link == "" {
		t.Fatal("no cancel link in the waiting notice")
	}
	wantContains(t, v.get(link), "Cancel ticket "+number+"?")
	wantContains(t, v.post(link, nil), "Nothing will change on your account.")
	p = v.post("/tickets/status", url.Values{"number": {number}, "query_code": {query}})
	wantContains(t, p, `data-state="cancelled"`, "Cancelled by the account holder")
	wantAbsent(t, p, "Withdraw this ticket")
	wantStatus(t, v.post(link, nil), http.StatusNotFound)
}
