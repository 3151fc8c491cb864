package web

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/httperr"
	"github.com/custos/custos/message"
	"github.com/custos/custos/ticket"
)

// The support-ticket pages of applicants and holders (rules R3 and R10).
//
// Contact support, /tickets/new, is one address with three steps: a public
// applicant proves a contact email (with a captcha, then the emailed
// code), every applicant proves a phone (the one in use for unbind_mfa,
// the new one for change_phone) by an SMS code, and then fills in the
// template of the ticket's kind. A signed-in applicant skips the email
// step: the session stands in for it. What each proof gives back is a
// bearer token, kept between the steps in a short-lived HttpOnly,
// SameSite=Strict cookie and never in a URL; the code ids of the steps in
// between travel in hidden fields. The answer to a submission is the
// receipt page itself, so that the query code is never in a URL either.
//
// Ticket status, /tickets/status, shows a ticket to whoever holds its
// number and query code, both posted; the answer to a question and the
// withdrawal post them again in hidden fields. A signed-in holder lists
// their tickets at /account/tickets and may cancel one that names their
// account; anyone with the cancel link of a waiting notice may cancel
// the ticket at /tickets/cancel/NUMBER.TOKEN.

const (
	ticketNewPath    = "/tickets/new"
	ticketStatusPath = "/tickets/status"
	ticketCancelPath = "/tickets/cancel/"
	myTicketsPath    = "/account/tickets"
)

// registerTickets adds the support-ticket pages of applicants and holders.
func (wb *Web) registerTickets(mux *http.ServeMux) {
	mux.Handle("GET "+ticketNewPath, wb.handle(wb.ticketNewForm))
	mux.Handle("POST "+ticketNewPath, wb.handle(wb.ticketNew))
	mux.Handle("GET "+ticketStatusPath, wb.handle(wb.ticketStatusForm))
	mux.Handle("POST "+ticketStatusPath, wb.handle(wb.ticketStatus))
	mux.Handle("POST "+ticketStatusPath+"/answer", wb.handle(wb.ticketAnswer))
	mux.Handle("POST "+ticketStatusPath+"/withdraw", wb.handle(wb.ticketWithdraw))
	mux.Handle("GET "+ticketCancelPath+"{link}", wb.handle(wb.ticketLinkForm))
	mux.Handle("POST "+ticketCancelPath+"{link}", wb.handle(wb.ticketLinkCancel))
	mux.Handle("GET "+myTicketsPath, wb.signedIn(wb.myTickets))
	mux.Handle("GET "+myTicketsPath+"/{number}/cancel", wb.signedIn(wb.myTicketCancelForm))
	mux.Handle("POST "+myTicketsPath+"/{number}/cancel", wb.signedIn(wb.myTicketCancel))
}

// ---- The proof cookies ----

// The names of the cookies that carry a proven contact email and a proven
// phone between the steps of Contact support.
const (
	secureTicketContactCookie   = "__Host-custos_ticket_contact"
	insecureTicketContactCookie = "custos_ticket_contact"
	secureTicketPhoneCookie     = "__Host-custos_ticket_phone"
	insecureTicketPhoneCookie   = "custos_ticket_phone"
)

// ticketProofAge is how long the browser keeps a proof: the hour the
// ticket service honours its token.
const ticketProofAge = time.Hour

// ticketProof is what a proof cookie holds: the service's token and the
// proven email or phone, masked, for the page to show. Only the token is
// checked, by the service; an edited Shown misleads only its editor.
type ticketProof struct {
	Token string `json:"t"`
	Shown string `json:"s"`
}

func (c cookieConfig) ticketCookie(phone bool) string {
	switch {
	case phone && c.secure:
		return secureTicketPhoneCookie
	case phone:
		return insecureTicketPhoneCookie
	case c.secure:
		return secureTicketContactCookie
	}
	return insecureTicketContactCookie
}

// setTicketProof keeps a proof for the next steps. SameSite=Strict: the
// steps are all on this site, and a token that lets tickets be submitted
// has no business going along with a request another site starts.
func (c cookieConfig) setTicketProof(w http.ResponseWriter, phone bool, p ticketProof) {
	b, err := json.Marshal(p)
	if err != nil {
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: c.ticketCookie(phone), Value: base64.RawURLEncoding.EncodeToString(b), Path: "/",
		MaxAge: int(ticketProofAge / time.Second), Secure: c.secure, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

// ticketProofOf returns the request's proof, if it has one.
func (c cookieConfig) ticketProofOf(r *http.Request, phone bool) (ticketProof, bool) {
	k, err := r.Cookie(c.ticketCookie(phone))
	if err != nil {
		return ticketProof{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(k.Value)
	if err != nil {
		return ticketProof{}, false
	}
	var p ticketProof
	if json.Unmarshal(b, &p) != nil || p.Token == "" || len(p.Token) > 128 {
		return ticketProof{}, false
	}
	return p, true
}

// clearTicketProof forgets a proof: once used, or when the service says
// it is dead.
func (c cookieConfig) clearTicketProof(w http.ResponseWriter, phone bool) {
	http.SetCookie(w, &http.Cookie{
		Name: c.ticketCookie(phone), Value: "", Path: "/", MaxAge: -1,
		Secure: c.secure, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

// ---- Contact support: the steps ----

// The steps of Contact support.
const (
	stepContact     = "contact"      // the contact email and the captcha
	stepContactCode = "contact_code" // the emailed code
	stepKind        = "kind"         // what happened (before the phone)
	stepPhone       = "phone"        // the phone
	stepPhoneCode   = "phone_code"   // the SMS code
	stepForm        = "form"         // the template
)

// The templates within a kind: who applies, and for change_phone whether
// the account has a real-name record.
const (
	whoPersonal   = "personal"
	whoEnterprise = "enterprise"
	whoUnverified = "unverified" // change_phone for an account without real-name verification
)

// ticketTemplate is one form of Contact support: its text fields (the
// API's data keys, so a service error's field is the form field) and its
// file parts, in page order, and which of the texts must be filled in.
type ticketTemplate struct {
	Texts    []string
	Required []string
	Files    []string
}

func templateOf(kind custos.TicketKind, who string) ticketTemplate {
	switch {
	case kind == custos.TicketUnbindMFA && who == whoEnterprise:
		t := []string{"account_email", "company_name", "uscc", "applicant_name", "applicant_document_number"}
		return ticketTemplate{Texts: t, Required: t, Files: ticket.FilesUnbindEnterprise}
	case kind == custos.TicketUnbindMFA:
		t := []string{"account_email", "name", "document_number"}
		return ticketTemplate{Texts: t, Required: t}
	case who == whoEnterprise:
		return ticketTemplate{Texts: []string{"account_email"}, Required: []string{"account_email"}, Files: ticket.FilesChangePhoneEnterprise}
	case who == whoUnverified:
		t := []string{"account_email", "recovery_phone", "recovery_email"}
		return ticketTemplate{Texts: t, Required: t}
	}
	return ticketTemplate{Texts: []string{"account_email"}, Required: []string{"account_email"}, Files: ticket.FilesChangePhoneIndividual}
}

// ticketTextFields is every text field the template form may post.
var ticketTextFields = []string{"step", "kind", "who", "account_email", "name", "document_number", "company_name", "uscc",
	"applicant_name", "applicant_document_number", "recovery_phone", "recovery_email"}

var ticketMultipart = multipartForm{Text: ticketTextFields, Files: ticket.AllFiles}

// ticketKindOf reads a kind, "" when it is none.
func ticketKindOf(s string) custos.TicketKind {
	if k := custos.TicketKind(s); k.Valid() {
		return k
	}
	return ""
}

// whoOf reads a template choice, the personal one by default.
func whoOf(kind custos.TicketKind, s string) string {
	switch {
	case s == whoEnterprise:
		return s
	case s == whoUnverified && kind == custos.TicketChangePhone:
		return s
	}
	return whoPersonal
}

// choice is one link of a switch (the kind, the template).
type choice struct {
	ID      string
	URL     string
	Label   string // catalogue key
	Hint    string // catalogue key, or ""
	Current bool
}

// ticketField is one input of the template form, for the templates
// ticket-text and ticket-file.
type ticketField struct {
	Name         string
	Label        string // catalogue key
	Hint         string // catalogue key
	Type         string // the input type: text, email, tel
	Value        string
	Error        string
	Autocomplete string
	MaxLength    int
}

// ticketNewView is every step of Contact support.
type ticketNewView struct {
	page
	codeState
	Step     string
	Steps    int // how many steps this applicant has: 3, or 2 signed in
	StepNo   int
	Form     formErrors
	Email    string // the contact email typed
	Captcha  *captchaView
	FlowID   string // the code being proven (contact_id or phone_proof_id)
	SentAt   int64  // when it was sent, Unix seconds (0: unknown)
	Expired  bool   // the code can never succeed now
	Kind     custos.TicketKind
	Who      string
	Phone    string // the phone typed
	Contact  string // the proven contact email, masked ("" signed in)
	Proven   string // the proven phone, masked
	Action   string // where the template form posts
	Values   map[string]string
	MaxMB    int
	Problem  string // a problem with an earlier step, shown on this one
	Template ticketTemplate
}

// Kinds is the choice of what happened.
func (v ticketNewView) Kinds() []choice {
	step := "phone"
	if v.Step == stepForm {
		step = "form"
	}
	var out []choice
	for _, k := range []custos.TicketKind{custos.TicketUnbindMFA, custos.TicketChangePhone} {
		q := url.Values{"kind": {string(k)}}
		if v.Step == stepForm && v.Who != whoPersonal && (v.Who != whoUnverified || k == custos.TicketChangePhone) {
			q.Set("who", v.Who)
		}
		out = append(out, choice{ID: "kind-" + string(k), URL: ticketNewPath + "?" + q.Encode(),
			Label: "tickets_page.what." + string(k), Hint: "tickets_page.what." + string(k) + ".hint." + step, Current: v.Kind == k})
	}
	return out
}

// Whos is the choice of template within the kind.
func (v ticketNewView) Whos() []choice {
	whos := []string{whoPersonal, whoEnterprise}
	if v.Kind == custos.TicketChangePhone {
		whos = append(whos, whoUnverified)
	}
	var out []choice
	for _, w := range whos {
		out = append(out, choice{ID: "who-" + w, URL: ticketNewPath + "?" + url.Values{"kind": {string(v.Kind)}, "who": {w}}.Encode(),
			Label: "tickets_page.who." + string(v.Kind) + "." + w, Current: v.Who == w})
	}
	return out
}

// fieldSpecs are the labels and input kinds of the template's texts.
var fieldSpecs = map[string]ticketField{
	"account_email":             {Type: "email", Autocomplete: "off", MaxLength: 254},
	"name":                      {Type: "text", Autocomplete: "name", MaxLength: 100},
	"document_number":           {Type: "text", Autocomplete: "off", MaxLength: 40},
	"company_name":              {Type: "text", Autocomplete: "organization", MaxLength: 200},
	"uscc":                      {Type: "text", Autocomplete: "off", MaxLength: 40},
	"applicant_name":            {Type: "text", Autocomplete: "name", MaxLength: 100},
	"applicant_document_number": {Type: "text", Autocomplete: "off", MaxLength: 40},
	"recovery_phone":            {Type: "tel", Autocomplete: "tel", MaxLength: 40},
	"recovery_email":            {Type: "email", Autocomplete: "email", MaxLength: 254},
}

// Texts are the template's text inputs.
func (v ticketNewView) Texts() []ticketField {
	var out []ticketField
	for _, name := range v.Template.Texts {
		f := fieldSpecs[name]
		f.Name, f.Value, f.Error = name, v.Values[name], v.Form.Field(name)
		f.Label, f.Hint = "tickets_page.field."+name, "tickets_page.hint."+name
		if name == "account_email" && v.SignedIn {
			f.Hint = "tickets_page.hint.account_email_signed_in"
		}
		out = append(out, f)
	}
	return out
}

// Files are the template's file inputs, named as the API's parts.
func (v ticketNewView) Files() []ticketField {
	var out []ticketField
	for _, name := range v.Template.Files {
		out = append(out, ticketField{Name: name, Label: "tickets_page.field." + name, Hint: "tickets_page.hint." + name,
			Error: v.Form.Field(name)})
	}
	return out
}

// PhoneLabel and PhoneHint say which phone the kind needs.
func (v ticketNewView) PhoneLabel() string { return "tickets_page.phone." + string(v.Kind) }

// PhoneHint is the hint of the phone field.
func (v ticketNewView) PhoneHint() string { return "tickets_page.phone_hint." + string(v.Kind) }

// StartOver is the address that drops the proofs and begins again.
func (v ticketNewView) StartOver() string { return ticketNewPath + "?start=over" }

// newTicketView starts a step's view: signed in (with the navigation) or
// public.
func (wb *Web) newTicketView(r *http.Request, signedIn bool, step string) ticketNewView {
	v := ticketNewView{page: wb.newPage(r), Step: step, Steps: 3, Values: map[string]string{}}
	if signedIn {
		v.page = wb.signedInPage(r, "tickets")
		v.Steps = 2
	}
	switch step {
	case stepContact, stepContactCode:
		v.StepNo = 1
	case stepKind, stepPhone, stepPhoneCode:
		v.StepNo = v.Steps - 1
	default:
		v.StepNo = v.Steps
	}
	if wb.uploads != nil {
		v.MaxMB = int(wb.uploads.Limits().MaxFileBytes >> 20)
	}
	return v
}

// ticketApplicant is who is applying: a session, or the public.
func (wb *Web) ticketApplicant(w http.ResponseWriter, r *http.Request) (*custos.Session, error) {
	sess, ok, err := wb.session(w, r)
	if err != nil || !ok {
		return nil, err
	}
	return &sess, nil
}

// ticketNewForm shows the step the proofs in hand lead to.
func (wb *Web) ticketNewForm(w http.ResponseWriter, r *http.Request) error {
	sess, err := wb.ticketApplicant(w, r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if q.Get("start") == "over" {
		wb.cookie.clearTicketProof(w, false)
		wb.cookie.clearTicketProof(w, true)
		return redirect(w, r, ticketNewPath)
	}
	kind := ticketKindOf(q.Get("kind"))
	contact, haveContact := wb.cookie.ticketProofOf(r, false)
	phone, havePhone := wb.cookie.ticketProofOf(r, true)
	switch {
	case sess == nil && !haveContact:
		v := wb.newTicketView(r, false, stepContact)
		if v.Captcha, err = wb.flowCaptcha(r, nil, ticketNewPath); err != nil {
			return err
		}
		return wb.render(w, "ticketnew", v)
	case !havePhone:
		v := wb.newTicketView(r, sess != nil, stepPhone)
		v.Kind = kind
		if kind == "" {
			v.Step = stepKind
		}
		if sess == nil {
			v.Contact = contact.Shown
		}
		return wb.render(w, "ticketnew", v)
	}
	if kind == "" {
		kind = custos.TicketUnbindMFA
	}
	v := wb.newTicketView(r, sess != nil, stepForm)
	wb.fillTicketForm(&v, kind, q.Get("who"), phone, contact, sess)
	return wb.render(w, "ticketnew", v)
}

func (wb *Web) fillTicketForm(v *ticketNewView, kind custos.TicketKind, who string, phone, contact ticketProof, sess *custos.Session) {
	v.Kind, v.Who = kind, whoOf(kind, who)
	v.Template = templateOf(v.Kind, v.Who)
	v.Proven = phone.Shown
	if sess == nil {
		v.Contact = contact.Shown
	}
	v.Action = ticketNewPath + "?" + url.Values{"kind": {string(v.Kind)}, "who": {v.Who}}.Encode()
}

// ticketNew takes every step's form: the template's (multipart), or one
// of the proofs' (the step field says which).
func (wb *Web) ticketNew(w http.ResponseWriter, r *http.Request) error {
	sess, err := wb.ticketApplicant(w, r)
	if err != nil {
		return err
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		return wb.ticketSubmit(w, r, sess)
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	_, haveContact := wb.cookie.ticketProofOf(r, false)
	if sess == nil && !haveContact {
		switch f.Get("step") {
		case stepContact, stepContactCode:
		default:
			// A later step without the email proven (it ran out): begin.
			return redirect(w, r, ticketNewPath)
		}
	}
	switch f.Get("step") {
	case stepContact:
		return wb.ticketContact(w, r, sess)
	case stepContactCode:
		return wb.ticketContactCode(w, r, sess)
	case stepPhone:
		return wb.ticketPhone(w, r, sess)
	case stepPhoneCode:
		return wb.ticketPhoneCode(w, r, sess)
	}
	return custos.Fail(custos.EInvalidRequest, "form.unreadable")
}

// ticketContact sends the code to the contact email, or (action "again",
// from the code page) shows the form again with the email filled in and
// a new captcha.
func (wb *Web) ticketContact(w http.ResponseWriter, r *http.Request, sess *custos.Session) error {
	if sess != nil {
		return redirect(w, r, ticketNewPath)
	}
	f := r.PostForm
	v := wb.newTicketView(r, false, stepContact)
	v.Email = strings.TrimSpace(f.Get("email"))
	var err error
	switch {
	case f.Get("action") == "again":
	case v.Email == "":
		v.Form.add("email", v.text("tickets_page.email_missing"))
	default:
		var sent ticketSent
		sent, err = wb.startContact(r, v.Email)
		if err == nil {
			cv := wb.newTicketView(r, false, stepContactCode)
			cv.Email, cv.FlowID = v.Email, sent.ID
			wb.setCodeState(&cv, sent.SentTo, wb.clock.Now().Unix())
			return wb.render(w, "ticketnew", cv)
		}
		if !captchaProblem(&v.Form, v.Lang, err, "email") {
			return err
		}
	}
	if v.Captcha, err = wb.flowCaptcha(r, err, ticketNewPath); err != nil {
		return err
	}
	if v.Form.Any() {
		return formAgain("ticketnew", v)
	}
	return wb.render(w, "ticketnew", v)
}

// ticketSent is a code sent by a proof step.
type ticketSent struct{ ID, SentTo string }

func (wb *Web) startContact(r *http.Request, email string) (ticketSent, error) {
	f := r.PostForm
	s, err := wb.tickets.StartContact(r.Context(), email,
		ticket.CaptchaAnswer{ID: f.Get("captcha_id"), Answer: strings.TrimSpace(f.Get("captcha_answer"))}, client(r))
	return ticketSent{ID: s.ID, SentTo: s.SentTo}, err
}

// captchaProblem is formProblemOr for a form with a captcha: the service
// names the captcha "captcha", the form's input is captcha_answer.
func captchaProblem(f *formErrors, lang string, err error, main string) bool {
	if httperr.Field(err) == "captcha" && isProblem(err) {
		f.add("captcha_answer", message.For(lang).Error(err))
		return true
	}
	return formProblemOr(f, lang, err, main, main, "captcha_answer")
}

// setCodeState says where the code went, until when it works and when
// another may be asked for, from when it was sent.
func (wb *Web) setCodeState(v *ticketNewView, sentTo string, sentAt int64) {
	policy := wb.binding.CodePolicy()
	v.SentTo, v.SentAt = sentTo, sentAt
	v.Minutes = int(policy.TTL / time.Minute)
	if sentAt <= 0 {
		return
	}
	sent := time.Unix(sentAt, 0)
	now := wb.clock.Now()
	if sent.After(now) {
		sent = now
	}
	v.ExpiresAt = sent.Add(policy.TTL)
	if left := sent.Add(policy.ResendAfter).Sub(now); left > 0 {
		v.WaitSeconds = int((left + time.Second - 1) / time.Second)
	}
}

// codeStep is the code page of a proof step again, from its hidden
// fields.
func (wb *Web) codeStep(r *http.Request, sess *custos.Session, step string) ticketNewView {
	f := r.PostForm
	v := wb.newTicketView(r, sess != nil, step)
	v.FlowID, v.Email, v.Phone = f.Get("flow_id"), strings.TrimSpace(f.Get("email")), strings.TrimSpace(f.Get("phone"))
	v.Kind = ticketKindOf(f.Get("kind"))
	sentAt, _ := strconv.ParseInt(f.Get("sent_at"), 10, 64)
	wb.setCodeState(&v, f.Get("sent_to"), sentAt)
	return v
}

// proveCode checks a step's code with prove and keeps the proof; it
// answers the code page again when the code is wrong or dead.
func (wb *Web) proveCode(w http.ResponseWriter, r *http.Request, v ticketNewView, phone bool,
	prove func(r *http.Request, id, code string) (string, error)) (bool, error) {
	code := cleanCode(r.PostForm.Get("code"))
	if code == "" {
		v.Form.add("code", v.text("code.missing"))
		return false, formAgain("ticketnew", v)
	}
	token, err := prove(r, v.FlowID, code)
	switch {
	case err == nil:
	case custos.IsCode(err, custos.EExpired):
		v.Expired = true
		v.Problem = v.errorText(err)
		return false, gone("ticketnew", v)
	case formProblem(&v.Form, v.Lang, err, "code"):
		return false, formAgain("ticketnew", v)
	default:
		return false, err
	}
	wb.cookie.setTicketProof(w, phone, ticketProof{Token: token, Shown: v.SentTo})
	return true, nil
}

func (wb *Web) ticketContactCode(w http.ResponseWriter, r *http.Request, sess *custos.Session) error {
	if sess != nil {
		return redirect(w, r, ticketNewPath)
	}
	v := wb.codeStep(r, nil, stepContactCode)
	if v.SentTo == "" && v.Email != "" {
		v.SentTo = custos.MaskEmail(v.Email)
	}
	_, err := wb.proveCode(w, r, v, false, func(r *http.Request, id, code string) (string, error) {
		return wb.tickets.ProveContact(r.Context(), id, code)
	})
	if err != nil {
		return err
	}
	return redirect(w, r, ticketNewPath)
}

// ticketPhone sends the SMS code to the phone named (again, from the code
// page's "send a new code").
func (wb *Web) ticketPhone(w http.ResponseWriter, r *http.Request, sess *custos.Session) error {
	f := r.PostForm
	v := wb.newTicketView(r, sess != nil, stepPhone)
	v.Kind = ticketKindOf(f.Get("kind"))
	v.Phone = strings.TrimSpace(f.Get("phone"))
	if c, ok := wb.cookie.ticketProofOf(r, false); ok && sess == nil {
		v.Contact = c.Shown
	}
	if v.Kind == "" {
		v.Step = stepKind
		return wb.render(w, "ticketnew", v)
	}
	if v.Phone == "" {
		v.Form.add("phone", v.text("tickets_page.phone_missing"))
		return formAgain("ticketnew", v)
	}
	sent, err := wb.tickets.StartPhone(r.Context(), v.Phone, client(r))
	if err != nil {
		if !formProblemOr(&v.Form, v.Lang, err, "phone", "phone") {
			return err
		}
		return formAgain("ticketnew", v)
	}
	cv := wb.newTicketView(r, sess != nil, stepPhoneCode)
	cv.Kind, cv.Phone, cv.FlowID, cv.Contact = v.Kind, v.Phone, sent.ID, v.Contact
	wb.setCodeState(&cv, sent.SentTo, wb.clock.Now().Unix())
	return wb.render(w, "ticketnew", cv)
}

func (wb *Web) ticketPhoneCode(w http.ResponseWriter, r *http.Request, sess *custos.Session) error {
	v := wb.codeStep(r, sess, stepPhoneCode)
	_, err := wb.proveCode(w, r, v, true, func(r *http.Request, id, code string) (string, error) {
		return wb.tickets.ProvePhone(r.Context(), id, code)
	})
	if err != nil {
		return err
	}
	kind := v.Kind
	if kind == "" {
		kind = custos.TicketUnbindMFA
	}
	return redirect(w, r, withQuery(ticketNewPath, "kind", string(kind)))
}

// ticketReceiptView is the answer to a submission: the number and the
// query code, shown once.
type ticketReceiptView struct {
	page
	Number    string
	QueryCode string
	Kind      custos.TicketKind
}

// ticketSubmit takes the template form. The proofs are asked for before
// the body is read, so that the files are not taken for nothing.
func (wb *Web) ticketSubmit(w http.ResponseWriter, r *http.Request, sess *custos.Session) error {
	ctx := r.Context()
	contact, haveContact := wb.cookie.ticketProofOf(r, false)
	phone, havePhone := wb.cookie.ticketProofOf(r, true)
	if (sess == nil && !haveContact) || !havePhone {
		return redirect(w, r, ticketNewPath)
	}
	release, err := wb.uploads.Admit(ctx)
	if err != nil {
		return err
	}
	defer release()
	values, files, readErr := wb.readMultipart(w, r, ticketMultipart)
	q := r.URL.Query()
	kind, who := ticketKindOf(q.Get("kind")), q.Get("who")
	if k := ticketKindOf(values["kind"]); k != "" {
		kind = k
	}
	if values["who"] != "" {
		who = values["who"]
	}
	if kind == "" {
		kind = custos.TicketUnbindMFA
	}
	v := wb.newTicketView(r, sess != nil, stepForm)
	wb.fillTicketForm(&v, kind, who, phone, contact, sess)
	for _, name := range v.Template.Texts {
		v.Values[name] = values[name]
	}
	fields := append(slices.Clone(v.Template.Texts), v.Template.Files...)
	if readErr != nil {
		if !formProblem(&v.Form, v.Lang, readErr, fields...) {
			return readErr
		}
		return formAgain("ticketnew", v)
	}
	// Every field left empty at once, before the service names the first.
	for _, name := range v.Template.Required {
		if strings.TrimSpace(values[name]) == "" {
			v.Form.add(name, message.For(v.Lang).Error(custos.Fail(custos.EInvalidRequest, "ticket.field_missing")))
		}
	}
	for _, name := range v.Template.Files {
		if !slices.ContainsFunc(files, func(f custos.UploadedFile) bool { return f.Field == name }) {
			v.Form.add(name, message.For(v.Lang).Error(custos.Fail(custos.EInvalidUpload, "ticket.file_missing")))
		}
	}
	if v.Form.Any() {
		return formAgain("ticketnew", v)
	}
	sub := ticket.Submission{Kind: kind, PhoneToken: phone.Token, Session: sess, Files: files, Client: client(r),
		Fields: custos.TicketFields{AccountEmail: values["account_email"], Name: values["name"], DocumentNumber: values["document_number"],
			CompanyName: values["company_name"], USCC: values["uscc"], ApplicantName: values["applicant_name"],
			ApplicantDocumentNumber: values["applicant_document_number"], RecoveryPhone: values["recovery_phone"],
			RecoveryEmail: values["recovery_email"]}}
	if sess == nil {
		sub.ContactToken = contact.Token
	}
	rc, err := wb.tickets.Submit(ctx, sub)
	if err != nil {
		switch field := httperr.Field(err); {
		case !isProblem(err):
			return err
		case field == "contact_token" || field == "phone_token":
			// A proof ran out while the form was filled in: that step again.
			isPhone := field == "phone_token"
			wb.cookie.clearTicketProof(w, isPhone)
			step := stepContact
			if isPhone {
				step = stepPhone
			}
			pv := wb.newTicketView(r, sess != nil, step)
			pv.Kind = kind
			if !isPhone {
				if pv.Captcha, err = wb.flowCaptcha(r, nil, ticketNewPath); err != nil {
					return err
				}
			} else if sess == nil {
				pv.Contact = contact.Shown
			}
			pv.Form.add("", pv.errorText(custos.Fail(custos.EInvalidRequest, "ticket.proof_dead")))
			return formAgain("ticketnew", pv)
		}
		formProblem(&v.Form, v.Lang, err, fields...)
		return formAgain("ticketnew", v)
	}
	wb.cookie.clearTicketProof(w, false)
	wb.cookie.clearTicketProof(w, true)
	rv := ticketReceiptView{page: wb.newPage(r), Number: rc.Number, QueryCode: rc.QueryCode, Kind: kind}
	if sess != nil {
		rv.page = wb.signedInPage(r, "tickets")
	}
	return wb.render(w, "ticketreceipt", rv)
}

// ---- Ticket status ----

// ticketStatusView is Ticket status: the form, or a ticket found by its
// number and query code.
type ticketStatusView struct {
	page
	Number    string
	QueryCode string // posted again by the answer and withdraw forms
	Form      formErrors
	Ticket    *custos.Ticket
	// Confirm asks once more before the withdrawal.
	Confirm bool
	Answer  string
	MaxMB   int
}

// Open reports whether the ticket may still be withdrawn.
func (v ticketStatusView) Open() bool { return v.Ticket != nil && v.Ticket.State.Open() }

// MoreFiles are the answer's file inputs.
func (v ticketStatusView) MoreFiles() []ticketField {
	var out []ticketField
	for _, name := range ticket.FilesMore {
		out = append(out, ticketField{Name: name, Label: "tickets_page.field." + name, Error: v.Form.Field(name)})
	}
	return out
}

func (wb *Web) newStatusView(r *http.Request) ticketStatusView {
	v := ticketStatusView{page: wb.newPage(r)}
	if wb.uploads != nil {
		v.MaxMB = int(wb.uploads.Limits().MaxFileBytes >> 20)
	}
	return v
}

func (wb *Web) ticketStatusForm(w http.ResponseWriter, r *http.Request) error {
	return wb.render(w, "ticketstatus", wb.newStatusView(r))
}

// notFound shows page name with view and the status 404: what was asked
// for is not there (or is not the asker's to see).
func notFound(name string, view viewer) error {
	return &shownPage{name: name, view: view, code: custos.ENotFound}
}

// lookUp finds the ticket of the posted number and query code, or shows
// the form again with the problem.
func (wb *Web) lookUp(r *http.Request, v *ticketStatusView, number, query string) error {
	v.Number, v.QueryCode = strings.TrimSpace(number), strings.TrimSpace(query)
	if v.Number == "" {
		v.Form.add("number", v.text("tickets_page.number_missing"))
	}
	if v.QueryCode == "" {
		v.Form.add("query_code", v.text("tickets_page.query_missing"))
	}
	if v.Form.Any() {
		v.QueryCode = ""
		return formAgain("ticketstatus", v)
	}
	t, err := wb.tickets.Status(r.Context(), v.Number, v.QueryCode, client(r))
	if err != nil {
		v.QueryCode = ""
		if custos.IsCode(err, custos.ENotFound) {
			v.Form.add("number", v.errorText(err))
			return notFound("ticketstatus", v)
		}
		if !formProblemOr(&v.Form, v.Lang, err, "number") {
			return err
		}
		return formAgain("ticketstatus", v)
	}
	v.Ticket = &t
	return nil
}

func (wb *Web) ticketStatus(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	v := wb.newStatusView(r)
	if err := wb.lookUp(r, &v, r.PostForm.Get("number"), r.PostForm.Get("query_code")); err != nil {
		return err
	}
	return wb.render(w, "ticketstatus", v)
}

// ticketWithdraw asks once more, then withdraws the ticket.
func (wb *Web) ticketWithdraw(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	v := wb.newStatusView(r)
	if err := wb.lookUp(r, &v, f.Get("number"), f.Get("query_code")); err != nil {
		return err
	}
	if f.Get("confirm") != "yes" {
		v.Confirm = true
		return wb.render(w, "ticketstatus", v)
	}
	err := wb.tickets.Withdraw(r.Context(), v.Number, v.QueryCode, client(r))
	if err != nil && !formProblem(&v.Form, v.Lang, err) {
		return err
	}
	if t, serr := wb.tickets.Status(r.Context(), v.Number, v.QueryCode, client(r)); serr == nil {
		v.Ticket = &t
	}
	if err != nil {
		return formAgain("ticketstatus", v)
	}
	v.Notice = "tickets_page.withdrawn"
	return wb.render(w, "ticketstatus", v)
}

// ticketAnswer takes the answer to a question, with up to three files.
func (wb *Web) ticketAnswer(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	release, err := wb.uploads.Admit(ctx)
	if err != nil {
		return err
	}
	defer release()
	values, files, readErr := wb.readMultipart(w, r, multipartForm{Text: []string{"number", "query_code", "answer"}, Files: ticket.FilesMore})
	v := wb.newStatusView(r)
	if err := wb.lookUp(r, &v, values["number"], values["query_code"]); err != nil {
		return err
	}
	v.Answer = values["answer"]
	fields := append([]string{"answer"}, ticket.FilesMore...)
	if readErr != nil {
		if !formProblem(&v.Form, v.Lang, readErr, fields...) {
			return readErr
		}
		return formAgain("ticketstatus", v)
	}
	if strings.TrimSpace(v.Answer) == "" {
		v.Form.add("answer", v.text("tickets_page.answer_missing"))
		return formAgain("ticketstatus", v)
	}
	if err := wb.tickets.Answer(ctx, v.Number, v.QueryCode, v.Answer, files, client(r)); err != nil {
		if !formProblemOr(&v.Form, v.Lang, err, "answer", fields...) {
			return err
		}
		return formAgain("ticketstatus", v)
	}
	t, err := wb.tickets.Status(ctx, v.Number, v.QueryCode, client(r))
	if err != nil {
		return err
	}
	v.Ticket, v.Answer, v.Notice = &t, "", "tickets_page.answered"
	return wb.render(w, "ticketstatus", v)
}

// ---- The cancel link ----

// ticketLinkView is the page of a cancel link: the question, or that it
// is done.
type ticketLinkView struct {
	page
	Number string
	Action string
	Done   bool
	Holder bool // the signed-in holder's own confirmation (ticketcancel)
	Kind   custos.TicketKind
}

// linkNumber reads a cancel link, refusing (404) one the service did not
// make. The service makes a link with its current key; a link made
// before the key ring rotated is refused here and still cancels by POST.
func (wb *Web) linkNumber(r *http.Request) (string, error) {
	link := r.PathValue("link")
	number, token := ticket.SplitCancelLink(link)
	if number == "" || token == "" || len(link) > 128 {
		return "", custos.Fail(custos.ENotFound, "")
	}
	want := wb.tickets.CancelURL(custos.Ticket{Number: number})
	want = want[strings.LastIndex(want, ticketCancelPath)+len(ticketCancelPath):]
	if subtle.ConstantTimeCompare([]byte(want), []byte(link)) != 1 {
		return "", custos.Fail(custos.ENotFound, "")
	}
	return number, nil
}

func (wb *Web) ticketLinkForm(w http.ResponseWriter, r *http.Request) error {
	number, err := wb.linkNumber(r)
	if err != nil {
		return err
	}
	return wb.render(w, "ticketcancel", ticketLinkView{page: wb.newPage(r), Number: number,
		Action: ticketCancelPath + url.PathEscape(r.PathValue("link"))})
}

// ticketLinkCancel cancels by the link. A forged link, or one whose
// ticket is closed already (the link used), is the error page's 404.
func (wb *Web) ticketLinkCancel(w http.ResponseWriter, r *http.Request) error {
	number, token := ticket.SplitCancelLink(r.PathValue("link"))
	t, err := wb.tickets.CancelByLink(r.Context(), number, token, client(r))
	switch {
	case custos.IsCode(err, custos.EAlreadyDecided) || custos.IsCode(err, custos.ENotFound):
		return custos.Fail(custos.ENotFound, "")
	case err != nil:
		return err
	}
	return wb.render(w, "ticketcancel", ticketLinkView{page: wb.newPage(r), Number: t.Number, Kind: t.Kind, Done: true})
}

// ---- A signed-in holder's tickets ----

// myTicketRow is one ticket of the holder's list.
type myTicketRow struct {
	custos.Ticket
	AboutMe     bool // it names this account
	SubmittedMe bool // this account sent it
}

// CanCancel reports whether the holder may cancel it.
func (t myTicketRow) CanCancel() bool { return t.AboutMe && t.State.Open() }

// CancelURL is its confirmation page.
func (t myTicketRow) CancelURL() string {
	return myTicketsPath + "/" + url.PathEscape(t.Number) + "/cancel"
}

// myTicketsView is Support tickets.
type myTicketsView struct {
	page
	Tickets []myTicketRow
	NewURL  string
}

func (wb *Web) myTicketRows(r *http.Request, sess custos.Session) ([]myTicketRow, error) {
	list, err := wb.tickets.Mine(r.Context(), sess)
	if err != nil {
		return nil, err
	}
	rows := make([]myTicketRow, len(list))
	for i, t := range list {
		rows[i] = myTicketRow{Ticket: t, AboutMe: t.TargetAccountID == sess.AccountID, SubmittedMe: t.SubmitterAccountID == sess.AccountID}
	}
	return rows, nil
}

func (wb *Web) myTickets(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	rows, err := wb.myTicketRows(r, sess)
	if err != nil {
		return err
	}
	v := myTicketsView{page: wb.signedInPage(r, "tickets"), Tickets: rows, NewURL: ticketNewPath}
	if r.URL.Query().Get("cancelled") == "1" {
		v.Notice = "tickets_page.cancelled_notice"
	}
	return wb.render(w, "tickets", v)
}

// myTicket is the holder's open ticket naming their account, or 404.
func (wb *Web) myTicket(r *http.Request, sess custos.Session) (myTicketRow, error) {
	rows, err := wb.myTicketRows(r, sess)
	if err != nil {
		return myTicketRow{}, err
	}
	number := r.PathValue("number")
	for _, t := range rows {
		if t.Number == number && t.CanCancel() {
			return t, nil
		}
	}
	return myTicketRow{}, custos.Fail(custos.ENotFound, "")
}

func (wb *Web) myTicketCancelForm(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	t, err := wb.myTicket(r, sess)
	if err != nil {
		return err
	}
	return wb.render(w, "ticketcancel", ticketLinkView{page: wb.signedInPage(r, "tickets"), Number: t.Number, Kind: t.Kind,
		Action: t.CancelURL(), Holder: true})
}

func (wb *Web) myTicketCancel(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	t, err := wb.myTicket(r, sess)
	if err != nil {
		return err
	}
	if err := wb.tickets.CancelAsHolder(r.Context(), sess, t.Number, client(r)); err != nil {
		return err
	}
	return redirect(w, r, withQuery(myTicketsPath, "cancelled", "1"))
}

// PhoneStepURL is the phone step of the kind chosen.
func (v ticketNewView) PhoneStepURL() string {
	if v.Kind == "" {
		return ticketNewPath
	}
	return withQuery(ticketNewPath, "kind", string(v.Kind))
}
