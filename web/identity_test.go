package web_test

import (
	"bytes"
	"fmt"
	"html"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testserver"
)

// formPart is one part of a posted multipart form: a text field (File
// false), or a file input (a file input left empty has no Filename and
// no Data, as a browser sends it).
type formPart struct {
	Name     string
	Value    string // a text field's value
	File     bool
	Filename string
	Type     string
	Data     []byte
}

func textPart(name, value string) formPart { return formPart{Name: name, Value: value} }

func filePart(name string, data []byte) formPart {
	return formPart{Name: name, File: true, Filename: name + ".png", Type: "image/png", Data: data}
}

// postMultipart posts parts as multipart/form-data, as a browser sends a
// form with enctype="multipart/form-data".
func (v *visitor) postMultipart(path string, parts ...formPart) page {
	v.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		if p.File {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, p.Name, p.Filename))
			typ := p.Type
			if typ == "" {
				typ = "application/octet-stream"
			}
			h.Set("Content-Type", typ)
		} else {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q`, p.Name))
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			v.t.Fatal(err)
		}
		if p.File {
			w.Write(p.Data)
		} else {
			strings.NewReader(p.Value).WriteTo(w)
		}
	}
	if err := mw.Close(); err != nil {
		v.t.Fatal(err)
	}
	req, err := http.NewRequest("POST", v.env.URL+path, &buf)
	if err != nil {
		v.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return v.do(req)
}

// individualForm is the individual form filled in with number and the
// three photos, in the order the page has its inputs.
func individualForm(t *testing.T, name, number string) []formPart {
	return []formPart{
		textPart("kind", "individual"), textPart("name", name),
		textPart("document_type", "cn_id_card"), textPart("document_number", number),
		filePart("document_front", testserver.PNG(t, 64, 40)),
		filePart("document_back", testserver.PNG(t, 64, 41)),
		filePart("holding_document", testserver.PNG(t, 48, 64)),
	}
}

// identityForm is the page with the individual form.
const identityForm = "/account/identity?kind=individual"

// identityHolder signs up email, logs a visitor in and returns it.
func identityHolder(t *testing.T, env *testserver.Env, email string) *visitor {
	t.Helper()
	env.SignUp(t, email, testPassword)
	v := newVisitor(t, env)
	v.login(email, testPassword)
	return v
}

// identityState is the account's state through the API.
func identityState(t *testing.T, env *testserver.Env, email string) string {
	t.Helper()
	return env.Do(t, "GET", "/api/v1/account/identity", env.Login(t, email, testPassword), nil).String("state")
}

// decideFirst decides the oldest pending submission through the staff API.
func decideFirst(t *testing.T, env *testserver.Env, rev testserver.Staff, approve bool, reason string) {
	t.Helper()
	q := env.Do(t, "GET", "/api/v1/staff/identity-reviews", rev.Token, nil)
	items, _ := q.Body["items"].([]any)
	if q.Status != http.StatusOK || len(items) == 0 {
		t.Fatalf("review queue: %d %s", q.Status, q.Raw)
	}
	id := items[0].(map[string]any)["id"].(string)
	body := map[string]string{"decision": "approve"}
	if !approve {
		body = map[string]string{"decision": "reject", "reason": reason}
	}
	if d := env.Do(t, "POST", "/api/v1/staff/identity-reviews/"+id+"/decision", rev.Token, body); d.Status != http.StatusOK {
		t.Fatalf("decision: %d %s", d.Status, d.Raw)
	}
}

func TestIdentityPagesNeedASession(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	v := newVisitor(t, env)
	wantRedirect(t, v.get("/account/identity"), "/login")
	wantRedirect(t, v.postMultipart("/account/identity", individualForm(t, "李伟", testserver.ValidID)...), "/login")
}

// TestIdentityPageStates walks one account through every state: none,
// pending, rejected (with the reason, and the form to submit again),
// verified (masked, the change rule), and a change pending beside it; the
// Account Information row follows.
func TestIdentityPageStates(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		const email = "li.wei@example.com"
		v := identityHolder(t, env, email)

		p := v.get("/account")
		wantContains(t, p, `id="account-identity" data-state="none"`, "Real-name verification", "Not verified",
			`href="/account/identity" id="identity-action">Verify`)

		// None: the form comes after "confirm it's you".
		p = v.get("/account/identity")
		wantStatus(t, p, http.StatusOK)
		wantSecurityHeaders(t, p)
		wantOnlyStaticScripts(t, p)
		wantContains(t, p, `data-state="none"`, "Not verified", "You haven&#39;t verified your real name yet.",
			`id="identity-confirm-link" href="/account/verify?next=%2Faccount%2Fidentity%3Fkind%3Dindividual"`)
		wantAbsent(t, p, `<form method="post" action="/account/identity`, `role="alert"`)
		v.confirmByEmail(email, identityForm)

		p = v.get(identityForm)
		wantContains(t, p, "Verify your real name", `enctype="multipart/form-data"`, `action="/account/identity?kind=individual"`,
			`<input type="hidden" name="kind" value="individual">`,
			`<label for="name">Your real name</label>`, `<label for="document_type">Type of document</label>`,
			`<option value="cn_id_card" selected>Chinese resident identity card</option>`, `<option value="passport">Passport</option>`,
			`<option value="driving_licence">Driving licence</option>`, `<option value="hmt_permit">`,
			`<label for="document_number">Document number</label>`,
			`<label for="document_front">Photo of the front of the card</label>`,
			`<label for="document_back">Photo of the back of the card</label>`,
			`<label for="holding_document">Photo of you holding the card</label>`,
			`name="document_front" type="file" accept="image/jpeg,image/png,application/pdf"`,
			`name="document_back" type="file" accept="image/jpeg,image/png,application/pdf"`,
			`name="holding_document" type="file" accept="image/jpeg,image/png,application/pdf"`,
			"JPEG, PNG or PDF, at most 10 MB each.", "deleted 90 days after the decision", `id="identity-window">Send the form by`,
			`href="/account/identity?kind=enterprise"`, `id="kind-individual" href="/account/identity?kind=individual" aria-current="page"`)
		wantAbsent(t, p, `name="uscc"`, `name="business_licence"`)

		// The enterprise form, without script: a link away.
		p = v.get("/account/identity?kind=enterprise")
		wantContains(t, p, `action="/account/identity?kind=enterprise"`, `<input type="hidden" name="kind" value="enterprise">`,
			`<label for="company_name">Company name</label>`, `<label for="uscc">Unified Social Credit Code</label>`,
			`<label for="legal_rep_name">`, `<select id="legal_rep_document_type" name="legal_rep_document_type"`,
			`<label for="legal_rep_document_number">`,
			`name="business_licence" type="file" accept="image/jpeg,image/png,application/pdf"`,
			`name="legal_rep_document_front" type="file"`, `name="legal_rep_document_back" type="file"`,
			`id="kind-enterprise" href="/account/identity?kind=enterprise" aria-current="page"`)
		wantAbsent(t, p, `name="document_front"`, `name="holding_document"`)

		// Pending.
		tok := env.Login(t, email, testPassword)
		if r := env.SubmitIndividual(t, tok, email, "李伟", testserver.ValidID); r.Status != http.StatusAccepted {
			t.Fatalf("submit: %d %s", r.Status, r.Raw)
		}
		p = v.get("/account/identity")
		wantContains(t, p, `id="identity-record" data-state="pending"`, "Submitted, waiting for review", "李*", "002X", "A person",
			"We&#39;ll send you a message when it is decided.")
		wantAbsent(t, p, testserver.ValidID, "李伟", `enctype="multipart/form-data"`, `id="identity-confirm"`)
		wantContains(t, v.get("/account"), `data-state="pending"`, "Submitted, waiting for review", `id="identity-action">View`)

		// Rejected: the reason, and the form again.
		rev := env.AddStaff(t, "reviewer@custos.test", custos.RoleReviewer)
		decideFirst(t, env, rev, false, "The photo of the back is blurred.")
		p = v.get("/account/identity")
		wantContains(t, p, `data-state="rejected"`, "Not approved", "Why it was not approved", "The photo of the back is blurred.",
			"Fix what the reason says, then submit again below.")
		if !strings.Contains(p.Body, `id="identity-confirm"`) && !strings.Contains(p.Body, "Submit again") {
			t.Errorf("a rejected record offers no way to submit again\n%s", p.Body)
		}
		wantContains(t, v.get("/account"), `data-state="rejected"`, `id="identity-action">Submit again`)

		// Verified: masked, and the details are kept for 30 days.
		if r := env.SubmitIndividual(t, tok, email, "李伟", testserver.ValidID); r.Status != http.StatusAccepted {
			t.Fatalf("submit again: %d %s", r.Status, r.Raw)
		}
		decideFirst(t, env, rev, true, "")
		p = v.get("/account/identity")
		wantContains(t, p, `id="identity-record" data-state="verified"`, "<strong class=\"identity-state\">Verified</strong>", "李*", "002X",
			`id="identity-blocked"`, "Verified details can be changed once in 30 days.")
		wantAbsent(t, p, testserver.ValidID, "李伟", `enctype="multipart/form-data"`, "The photo of the back is blurred.")
		wantContains(t, v.get("/account"), `data-state="verified"`, `id="identity-state">Verified`, `id="identity-action">View`)

		// A change after 30 days waits beside the verified record.
		env.Clock.Advance(31 * 24 * time.Hour)
		v = newVisitor(t, env)
		v.login(email, testPassword)
		v.confirmByEmail(email, identityForm)
		wantContains(t, v.get(identityForm), "Change your verified details", `enctype="multipart/form-data"`)
		tok = env.Login(t, email, testPassword)
		if r := env.SubmitIndividual(t, tok, email, "李 伟", testserver.ValidID); r.Status != http.StatusAccepted {
			t.Fatalf("submit a change: %d %s", r.Status, r.Raw)
		}
		p = v.get("/account/identity")
		wantContains(t, p, `id="identity-record" data-state="verified"`, `id="identity-change" data-state="pending"`,
			"Your change", "Until the change is decided, the details above stay as they are.", "李 伟")
		wantAbsent(t, p, `enctype="multipart/form-data"`)
		wantContains(t, v.get("/account"), `id="identity-change-state">(a change is waiting for review)`)

		// A rejected change leaves the verified record standing.
		rev.Token = env.StaffLogin(t, rev) // the staff session ended in the 31 days
		decideFirst(t, env, rev, false, "Both names must match the card.")
		p = v.get("/account/identity")
		wantContains(t, p, `id="identity-record" data-state="verified"`, `id="identity-change" data-state="rejected"`,
			"Your change was not approved. Your verified details above still stand.", "Both names must match the card.",
			"Change your verified details")
		wantContains(t, v.get("/account"), `id="identity-change-state">(your change was not approved)`)
	})
}

func TestIdentitySubmitNeedsConfirmation(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	const email = "ada@example.com"
	v := identityHolder(t, env, email)
	wantRedirect(t, v.postMultipart(identityForm, individualForm(t, "Ada Lovelace", testserver.ValidID)...),
		"/account/verify?next=%2Faccount%2Fidentity%3Fkind%3Dindividual")
	wantRedirect(t, v.postMultipart("/account/identity?kind=enterprise", textPart("kind", "enterprise")),
		"/account/verify?next=%2Faccount%2Fidentity%3Fkind%3Denterprise")
	if got := identityState(t, env, email); got != "none" {
		t.Fatalf("state %q after posting without a confirmation, want none", got)
	}
	// The confirmation comes back to the form.
	v.confirmByEmail(email, identityForm)
	wantContains(t, v.get(identityForm), `enctype="multipart/form-data"`)
}

func TestIdentityBadNumberShowsFieldError(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		const email = "ada@example.com"
		v := identityHolder(t, env, email)
		v.confirmByEmail(email, identityForm)
		p := v.postMultipart(identityForm, individualForm(t, "Ada Lovelace", "110105194912310021")...)
		wantStatus(t, p, http.StatusBadRequest)
		wantContains(t, p, `role="alert"`, `href="#document_number"`, `id="document_number-error"`,
			"its last character doesn&#39;t match", `value="110105194912310021"`, `value="Ada Lovelace"`,
			`aria-invalid="true"`, `id="files-again"`)
		if got := identityState(t, env, email); got != "none" {
			t.Fatalf("state %q after a bad number, want none (nothing stored)", got)
		}
	})
}

func TestIdentityHostileFileShowsItsError(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		const email = "ada@example.com"
		v := identityHolder(t, env, email)
		v.confirmByEmail(email, identityForm)
		parts := individualForm(t, "Ada Lovelace", testserver.ValidID)
		parts[5] = formPart{Name: "document_back", File: true, Filename: "back.jpg", Type: "image/jpeg",
			Data: []byte("<!doctype html><html><body><script>alert(1)</script></body></html>")}
		p := v.postMultipart(identityForm, parts...)
		wantStatus(t, p, http.StatusBadRequest)
		wantContains(t, p, `role="alert"`, `href="#document_back"`, `id="document_back-error"`,
			"This file isn&#39;t a JPEG, PNG or PDF.", `aria-describedby="document_back-hint files-hint document_back-error" aria-invalid="true"`)
		wantAbsent(t, p, `id="document_front-error"`, `id="document_number-error"`, "<script>alert")
		if got := identityState(t, env, email); got != "none" {
			t.Fatalf("state %q after a hostile file, want none", got)
		}
	})
}

func TestIdentityMissingFilesAndBadParts(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	const email = "ada@example.com"
	v := identityHolder(t, env, email)
	v.confirmByEmail(email, identityForm)

	// File inputs left empty arrive as empty parts with no file name: each
	// is named, in page order, and nothing is stored.
	parts := individualForm(t, "Ada Lovelace", testserver.ValidID)
	parts[4] = formPart{Name: "document_front", File: true}
	parts[6] = formPart{Name: "holding_document", File: true}
	p := v.postMultipart(identityForm, parts...)
	wantStatus(t, p, http.StatusBadRequest)
	wantContains(t, p, `id="document_front-error"`, `id="holding_document-error"`, "Add this photo or scan.")
	wantAbsent(t, p, `id="document_back-error"`)
	if i, j := strings.Index(p.Body, `href="#document_front"`), strings.Index(p.Body, `href="#holding_document"`); i < 0 || j < i {
		t.Errorf("the summary does not list the missing files in page order")
	}

	// A chosen file that is empty is said to be empty.
	parts = individualForm(t, "Ada Lovelace", testserver.ValidID)
	parts[5] = formPart{Name: "document_back", File: true, Filename: "back.png", Type: "image/png"}
	p = v.postMultipart(identityForm, parts...)
	wantStatus(t, p, http.StatusBadRequest)
	wantContains(t, p, `id="document_back-error"`, "This file is empty.")

	// The other kind's field is refused next to nothing it could lose.
	parts = append(individualForm(t, "Ada Lovelace", testserver.ValidID)[:4], textPart("uscc", "91350100M000100Y43"))
	p = v.postMultipart(identityForm, parts...)
	wantStatus(t, p, http.StatusBadRequest)
	wantContains(t, p, "This field isn&#39;t part of this kind of verification.")

	// Text with a NUL, a field sent twice, an unknown part, a body that is
	// not multipart: refused, nothing stored.
	for name, parts := range map[string][]formPart{
		"nul":       {textPart("kind", "individual"), textPart("name", "Ada\x00")},
		"invalid":   {textPart("kind", "individual"), textPart("name", "Ada\xff")},
		"twice":     {textPart("kind", "individual"), textPart("kind", "enterprise")},
		"unknown":   {textPart("kind", "individual"), textPart("data", `{"kind":"individual"}`)},
		"long text": {textPart("kind", "individual"), textPart("name", strings.Repeat("a", 70<<10))},
	} {
		t.Run(name, func(t *testing.T) {
			p := v.postMultipart(identityForm, parts...)
			if p.StatusCode != http.StatusBadRequest && p.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d, want 400 or 413\n%s", p.StatusCode, p.Body)
			}
			wantContains(t, p, `role="alert"`)
		})
	}
	p = v.post(identityForm, url.Values{"kind": {"individual"}})
	if p.StatusCode < 400 || p.StatusCode >= 500 {
		t.Errorf("an urlencoded post: status %d, want a 4xx", p.StatusCode)
	}
	if got := identityState(t, env, email); got != "none" {
		t.Fatalf("state %q after refused posts, want none", got)
	}
}

func TestIdentityGoodSubmissionShowsPending(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		const email = "ada@example.com"
		v := identityHolder(t, env, email)
		v.confirmByEmail(email, identityForm)
		// A lower-case x is the same number.
		wantRedirect(t, v.postMultipart(identityForm, individualForm(t, "Ada  Lovelace", strings.ToLower(testserver.ValidID))...),
			"/account/identity?done=1")
		p := v.get("/account/identity?done=1")
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, `class="notice" role="status">Submitted, waiting for review.`, `data-state="pending"`,
			"A** L*******", "002X")
		wantAbsent(t, p, `enctype="multipart/form-data"`, "Lovelace")
		if got := identityState(t, env, email); got != "pending" {
			t.Fatalf("state %q after submitting, want pending", got)
		}
		// A second one waits for the first.
		p = v.postMultipart(identityForm, individualForm(t, "Ada Lovelace", testserver.ValidID)...)
		wantStatus(t, p, http.StatusBadRequest)
		wantContains(t, p, "You already have a submission waiting for review.")
	})
}

func TestIdentityEnterpriseSubmission(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	const email = "acme@example.com"
	v := identityHolder(t, env, email)
	const form = "/account/identity?kind=enterprise"
	v.confirmByEmail(email, form)
	parts := []formPart{
		textPart("kind", "enterprise"), textPart("company_name", "Acme Trading"), textPart("uscc", "91350100M000100Y44"),
		textPart("legal_rep_name", "Li Wei"), textPart("legal_rep_document_type", "cn_id_card"),
		textPart("legal_rep_document_number", testserver.ValidID),
		filePart("business_licence", testserver.PNG(t, 60, 40)),
		filePart("legal_rep_document_front", testserver.PNG(t, 64, 40)),
		filePart("legal_rep_document_back", testserver.PNG(t, 64, 41)),
	}
	p := v.postMultipart(form, parts...)
	wantStatus(t, p, http.StatusBadRequest)
	wantContains(t, p, `id="uscc-error"`, `href="#uscc"`, `value="Acme Trading"`, `<option value="cn_id_card" selected>`)
	parts[2] = textPart("uscc", "91350100M000100Y43")
	wantRedirect(t, v.postMultipart(form, parts...), "/account/identity?done=1")
	p = v.get("/account/identity")
	wantContains(t, p, `data-state="pending"`, "A company", "A*** T******", "0Y43")
	if !strings.Contains(html.UnescapeString(p.Body), "Credit code ends in") {
		t.Error("the enterprise record does not say what its last four are of")
	}
}
