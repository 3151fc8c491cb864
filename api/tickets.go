package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/ticket"
)

type contactRequest struct {
	Email   string         `json:"email"`
	Captcha *captchaAnswer `json:"captcha"`
}

func (a *API) ticketContact(w http.ResponseWriter, r *http.Request) error {
	var req contactRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	var c ticket.CaptchaAnswer
	if req.Captcha != nil {
		c = ticket.CaptchaAnswer{ID: req.Captcha.ID, Answer: req.Captcha.Answer}
	}
	sent, err := a.tickets.StartContact(r.Context(), req.Email, c, client(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, map[string]string{"contact_id": sent.ID, "sent_to": sent.SentTo})
}

func (a *API) ticketContactCode(w http.ResponseWriter, r *http.Request) error {
	var req codeRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	tok, err := a.tickets.ProveContact(r.Context(), r.PathValue("contact_id"), req.Code)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, map[string]string{"contact_token": tok})
}

type phoneProofRequest struct {
	Phone string `json:"phone"`
}

func (a *API) ticketPhone(w http.ResponseWriter, r *http.Request) error {
	var req phoneProofRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	sent, err := a.tickets.StartPhone(r.Context(), req.Phone, client(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, map[string]string{"phone_proof_id": sent.ID, "sent_to": sent.SentTo})
}

func (a *API) ticketPhoneCode(w http.ResponseWriter, r *http.Request) error {
	var req codeRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	tok, err := a.tickets.ProvePhone(r.Context(), r.PathValue("phone_proof_id"), req.Code)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, map[string]string{"phone_token": tok})
}

// ticketData is the data part of a ticket: every template's fields; the
// service checks which the kind takes.
type ticketData struct {
	Kind                    custos.TicketKind `json:"kind"`
	ContactToken            string            `json:"contact_token"`
	PhoneToken              string            `json:"phone_token"`
	AccountEmail            string            `json:"account_email"`
	Name                    string            `json:"name"`
	DocumentNumber          string            `json:"document_number"`
	CompanyName             string            `json:"company_name"`
	USCC                    string            `json:"uscc"`
	ApplicantName           string            `json:"applicant_name"`
	ApplicantDocumentNumber string            `json:"applicant_document_number"`
	RecoveryPhone           string            `json:"recovery_phone"`
	RecoveryEmail           string            `json:"recovery_email"`
}

// optionalSession is the session of a bearer token when one is sent: a
// signed-in applicant. A token that is sent but dead is 401, never a
// silent public submission.
func (a *API) optionalSession(r *http.Request) (*custos.Session, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, nil
	}
	scheme, token, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return nil, custos.Fail(custos.EUnauthenticated, "api.bearer")
	}
	sess, err := a.auth.Authenticate(r.Context(), strings.TrimSpace(token))
	if err != nil {
		return nil, err
	}
	return &sess, nil
}

func (a *API) submitTicket(w http.ResponseWriter, r *http.Request) error {
	sess, err := a.optionalSession(r)
	if err != nil {
		return err
	}
	release, err := a.uploads.Admit(r.Context())
	if err != nil {
		return err
	}
	defer release()
	data, files, err := a.uploads.Parse(r, ticket.AllFiles)
	if err != nil {
		return err
	}
	if data == nil {
		return custos.Fail(custos.EInvalidRequest, "identity.data_missing").OnField("data")
	}
	var req ticketData
	if err := decodeBytes(data, &req); err != nil {
		return err
	}
	rc, err := a.tickets.Submit(r.Context(), ticket.Submission{
		Kind: req.Kind, ContactToken: req.ContactToken, PhoneToken: req.PhoneToken, Session: sess, Client: client(r), Files: files,
		Fields: custos.TicketFields{AccountEmail: req.AccountEmail, Name: req.Name, DocumentNumber: req.DocumentNumber,
			CompanyName: req.CompanyName, USCC: req.USCC, ApplicantName: req.ApplicantName,
			ApplicantDocumentNumber: req.ApplicantDocumentNumber, RecoveryPhone: req.RecoveryPhone, RecoveryEmail: req.RecoveryEmail},
	})
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusCreated, map[string]string{"ticket_number": rc.Number, "query_code": rc.QueryCode})
}

type ticketStatus struct {
	Number    string             `json:"ticket_number"`
	Kind      custos.TicketKind  `json:"kind"`
	State     custos.TicketState `json:"state"`
	ExecuteAt *time.Time         `json:"execute_at,omitempty"`
	Question  string             `json:"question,omitempty"`
	Submitted time.Time          `json:"submitted_at"`
}

func statusOf(t custos.Ticket) ticketStatus {
	st := ticketStatus{Number: t.Number, Kind: t.Kind, State: t.State, Submitted: t.SubmittedAt.UTC()}
	if t.State == custos.TicketWaiting {
		st.ExecuteAt = timeOrNil(t.ExecuteAt)
	}
	if t.State == custos.TicketNeedMoreInfo {
		st.Question = t.Question
	}
	return st
}

func (a *API) ticketStatus(w http.ResponseWriter, r *http.Request) error {
	t, err := a.tickets.Status(r.Context(), r.PathValue("ticket_number"), r.URL.Query().Get("query_code"), client(r))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, statusOf(t))
}

type answerData struct {
	Number    string `json:"ticket_number"`
	QueryCode string `json:"query_code"`
	Answer    string `json:"answer"`
}

func (a *API) answerTicket(w http.ResponseWriter, r *http.Request) error {
	release, err := a.uploads.Admit(r.Context())
	if err != nil {
		return err
	}
	defer release()
	data, files, err := a.uploads.Parse(r, ticket.FilesMore)
	if err != nil {
		return err
	}
	if data == nil {
		return custos.Fail(custos.EInvalidRequest, "identity.data_missing").OnField("data")
	}
	var req answerData
	if err := decodeBytes(data, &req); err != nil {
		return err
	}
	if err := a.tickets.Answer(r.Context(), req.Number, req.QueryCode, req.Answer, files, client(r)); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]string{"state": string(custos.TicketInReview)})
}

type withdrawRequest struct {
	Number    string `json:"ticket_number"`
	QueryCode string `json:"query_code"`
}

func (a *API) withdrawTicket(w http.ResponseWriter, r *http.Request) error {
	var req withdrawRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := a.tickets.Withdraw(r.Context(), req.Number, req.QueryCode, client(r)); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]string{"state": string(custos.TicketWithdrawn)})
}

type cancelLinkRequest struct {
	Ticket string `json:"ticket"`
	Token  string `json:"token"`
}

func (a *API) cancelTicketByLink(w http.ResponseWriter, r *http.Request) error {
	var req cancelLinkRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	t, err := a.tickets.CancelByLink(r.Context(), req.Ticket, req.Token, client(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]string{"ticket_number": t.Number, "state": string(custos.TicketCancelled)})
}

func (a *API) myTickets(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	list, err := a.tickets.Mine(r.Context(), sess)
	if err != nil {
		return err
	}
	items := make([]map[string]any, len(list))
	for i, t := range list {
		st := statusOf(t)
		items[i] = map[string]any{"ticket_number": st.Number, "kind": st.Kind, "state": st.State, "submitted_at": st.Submitted,
			"execute_at": st.ExecuteAt, "about_this_account": t.TargetAccountID == sess.AccountID, "submitted_by_me": t.SubmitterAccountID == sess.AccountID}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func (a *API) cancelMyTicket(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	if err := a.tickets.CancelAsHolder(r.Context(), sess, r.PathValue("ticket_number"), client(r)); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]string{"state": string(custos.TicketCancelled)})
}

type staffTicketItem struct {
	ID          string             `json:"id"`
	Number      string             `json:"ticket_number"`
	Kind        custos.TicketKind  `json:"kind"`
	State       custos.TicketState `json:"state"`
	SubmittedAt time.Time          `json:"submitted_at"`
	AgeHours    int                `json:"age_hours"`
	LinkedTo    string             `json:"linked_to,omitempty"`
}

func (a *API) staffTickets(w http.ResponseWriter, r *http.Request, st custos.Staff, _ custos.StaffSession) error {
	q := r.URL.Query()
	f := custos.TicketFilter{Number: q.Get("number"), State: custos.TicketState(q.Get("state")), Kind: custos.TicketKind(q.Get("kind")),
		OpenOnly: q.Get("open") == "true", Limit: 200}
	if f.Kind != "" && !f.Kind.Valid() {
		return custos.Fail(custos.EInvalidRequest, "ticket.kind").OnField("kind")
	}
	list, err := a.tickets.Queue(r.Context(), st, f, q.Get("account_email"))
	if err != nil {
		return err
	}
	now := a.clock.Now()
	items := make([]staffTicketItem, len(list))
	for i, t := range list {
		items[i] = staffTicketItem{ID: t.ID, Number: t.Number, Kind: t.Kind, State: t.State, SubmittedAt: t.SubmittedAt.UTC(),
			AgeHours: int(now.Sub(t.SubmittedAt) / time.Hour), LinkedTo: t.LinkedTo}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func (a *API) staffTicket(w http.ResponseWriter, r *http.Request, st custos.Staff, _ custos.StaffSession) error {
	v, err := a.tickets.Review(r.Context(), st, r.PathValue("id"), client(r))
	if err != nil {
		return err
	}
	t := v.Ticket
	matches := map[string]string{}
	compared := make([]map[string]string, len(v.Matches))
	for i, m := range v.Matches {
		matches[m.Field] = m.Verdict
		compared[i] = map[string]string{"field": m.Field, "submitted": m.Submitted, "on_file": m.OnFile, "verdict": m.Verdict}
	}
	files := make([]reviewFile, len(t.Files))
	for i, f := range t.Files {
		files[i] = reviewFile{ID: f.ID, Field: f.Field, ContentType: f.ContentType, Size: f.Size, Width: f.Width, Height: f.Height,
			URL: "/api/v1/staff/tickets/" + t.ID + "/files/" + f.ID}
	}
	approvals := make([]map[string]any, len(t.Approvals))
	for i, ap := range t.Approvals {
		approvals[i] = map[string]any{"staff_id": ap.StaffID, "at": ap.At.UTC()}
	}
	out := map[string]any{
		"id": t.ID, "ticket_number": t.Number, "kind": t.Kind, "state": t.State, "submitted_at": t.SubmittedAt.UTC(),
		"account_found": v.Target.ID != "", "account_id": t.TargetAccountID, "real_name_verified": v.Verified,
		"matches": matches, "compared": compared, "files": files, "approvals": approvals,
		"required_approvals": t.RequiredApprovals, "execute_at": timeOrNil(t.ExecuteAt), "question": t.Question,
		"answers": v.Fields.Answers, "reason": t.Reason, "linked_to": t.LinkedTo,
		"recovery_phone": v.Fields.RecoveryPhone, "recovery_email": v.Fields.RecoveryEmail, "contact_email": v.Fields.ContactEmail,
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) staffTicketFile(w http.ResponseWriter, r *http.Request, st custos.Staff, _ custos.StaffSession) error {
	info, data, err := a.tickets.File(r.Context(), st, r.PathValue("id"), r.PathValue("file_id"), client(r))
	if err != nil {
		return err
	}
	WriteFile(w, info, data)
	return nil
}

type ticketDecisionRequest struct {
	Decision string `json:"decision"`
	Reason   string `json:"reason"`
	Question string `json:"question"`
}

func (a *API) staffTicketDecision(w http.ResponseWriter, r *http.Request, st custos.Staff, _ custos.StaffSession) error {
	var req ticketDecisionRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	t, err := a.tickets.Decide(r.Context(), st, r.PathValue("id"), ticket.Decision{Decision: req.Decision, Reason: req.Reason, Question: req.Question}, client(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"state": t.State, "approvals": len(t.Approvals), "execute_at": timeOrNil(t.ExecuteAt)})
}
