package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/httperr"
	"github.com/custos/custos/staff"
)

type staffAuthedFunc func(w http.ResponseWriter, r *http.Request, st custos.Staff, sess custos.StaffSession) error

// staffAuthed requires a live staff session named by the Authorization
// bearer token. A customer's token is no staff token: 401 like none.
func (a *API) staffAuthed(h staffAuthedFunc) http.Handler {
	return a.handle(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Cache-Control", "no-store")
		token := bearerToken(r)
		if token == "" {
			return custos.Fail(custos.EUnauthenticated, "api.staff_bearer")
		}
		st, sess, err := a.staff.Authenticate(r.Context(), token)
		if err != nil {
			return err
		}
		return h(w, r, st, sess)
	})
}

func staffActor(r *http.Request, st custos.Staff) staff.Actor {
	return staff.Actor{Staff: st, Client: client(r)}
}

func (a *API) staffEnrol(w http.ResponseWriter, r *http.Request) error {
	var req passwordRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	en, err := a.staff.BeginEnrol(r.Context(), r.PathValue("token"), req.Password)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, map[string]string{"totp_secret": en.Secret, "otpauth_uri": en.OTPAuthURI})
}

func (a *API) staffEnrolConfirm(w http.ResponseWriter, r *http.Request) error {
	var req codeRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := a.staff.ConfirmEnrol(r.Context(), r.PathValue("token"), req.Code, client(r)); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{})
}

type staffLoginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (a *API) staffLogin(w http.ResponseWriter, r *http.Request) error {
	var req staffLoginRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	token, err := a.staff.Login(r.Context(), req.Email, req.Password, client(r))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, map[string]string{"login_token": token})
}

type staffSecondFactorRequest struct {
	LoginToken string `json:"login_token"`
	Code       string `json:"code"`
}

func (a *API) staffSecondFactor(w http.ResponseWriter, r *http.Request) error {
	var req staffSecondFactorRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	token, sess, err := a.staff.SecondFactor(r.Context(), req.LoginToken, req.Code, client(r))
	if custos.IsCode(err, custos.EInvalidCode) {
		return httperr.WithStatus(err, http.StatusUnauthorized)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, map[string]any{"staff_token": token, "expires_at": a.staff.IdleEnd(sess).UTC()})
}

func (a *API) staffSession(w http.ResponseWriter, r *http.Request, st custos.Staff, sess custos.StaffSession) error {
	return writeJSON(w, http.StatusOK, map[string]any{
		"staff_id": st.ID, "email": st.Email, "role": st.Role, "expires_at": a.staff.IdleEnd(sess).UTC(),
	})
}

func (a *API) staffLogout(w http.ResponseWriter, r *http.Request, st custos.Staff, sess custos.StaffSession) error {
	if err := a.staff.Logout(r.Context(), st, sess, client(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type reviewItem struct {
	ID          string              `json:"id"`
	AccountID   string              `json:"account_id"`
	Kind        custos.IdentityKind `json:"kind"`
	SubmittedAt time.Time           `json:"submitted_at"`
}

// reviewFilter reads the queue's filters: kind, and max_age (only
// submissions at most this old, as a Go duration such as 72h).
func reviewFilter(r *http.Request, now time.Time) (custos.ReviewFilter, error) {
	q := r.URL.Query()
	f := custos.ReviewFilter{Kind: custos.IdentityKind(q.Get("kind")), Limit: 200}
	if f.Kind != "" && f.Kind != custos.IdentityIndividual && f.Kind != custos.IdentityEnterprise {
		return f, custos.Fail(custos.EInvalidRequest, "identity.kind").OnField("kind")
	}
	if v := q.Get("max_age"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return f, custos.Fail(custos.EInvalidRequest, "error.invalid_request").OnField("max_age")
		}
		f.SubmittedAfter = now.Add(-d)
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return f, custos.Fail(custos.EInvalidRequest, "error.invalid_request").OnField("limit")
		}
		f.Limit = n
	}
	return f, nil
}

func (a *API) identityReviews(w http.ResponseWriter, r *http.Request, st custos.Staff, _ custos.StaffSession) error {
	f, err := reviewFilter(r, a.clock.Now())
	if err != nil {
		return err
	}
	q, err := a.identity.Pending(r.Context(), st, f)
	if err != nil {
		return err
	}
	items := make([]reviewItem, len(q.Items))
	for i, s := range q.Items {
		items[i] = reviewItem{ID: s.ID, AccountID: s.AccountID, Kind: s.Kind, SubmittedAt: s.SubmittedAt.UTC()}
	}
	counts := map[string]int{"individual": q.Counts[custos.IdentityIndividual], "enterprise": q.Counts[custos.IdentityEnterprise]}
	return writeJSON(w, http.StatusOK, map[string]any{"items": items, "counts": counts})
}

type reviewFile struct {
	ID          string `json:"id"`
	Field       string `json:"field"`
	ContentType string `json:"content_type"`
	Size        int    `json:"size"`
	Width       int    `json:"width,omitempty"`
	Height      int    `json:"height,omitempty"`
	URL         string `json:"url"`
}

type reviewCheck struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Reason string `json:"reason,omitempty"`
	Detail string `json:"detail,omitempty"`
}

func (a *API) identityReview(w http.ResponseWriter, r *http.Request, st custos.Staff, _ custos.StaffSession) error {
	rv, err := a.identity.Review(r.Context(), st, r.PathValue("id"), client(r))
	if err != nil {
		return err
	}
	sub := rv.Submission
	files := make([]reviewFile, len(sub.Files))
	for i, f := range sub.Files {
		files[i] = reviewFile{ID: f.ID, Field: f.Field, ContentType: f.ContentType, Size: f.Size, Width: f.Width, Height: f.Height,
			URL: "/api/v1/staff/identity-reviews/" + sub.ID + "/files/" + f.ID}
	}
	checks := make([]reviewCheck, len(rv.Checks))
	for i, c := range rv.Checks {
		checks[i] = reviewCheck{Name: c.Name, OK: c.OK, Reason: c.Key, Detail: c.Detail}
	}
	out := map[string]any{
		"id": sub.ID, "account_id": sub.AccountID, "account_kind": rv.Account.Kind, "kind": sub.Kind, "state": sub.State,
		"fields": recordFields(rv.Record), "checks": checks, "files": files,
		"submitted_at": sub.SubmittedAt.UTC(), "decided_at": timeOrNil(sub.DecidedAt), "reason": sub.Reason,
	}
	if rv.Previous != nil {
		out["previous"] = recordFields(*rv.Previous)
	}
	return writeJSON(w, http.StatusOK, out)
}

// recordFields are a record's fields under the names of the submission's
// data part.
func recordFields(rec custos.IdentityRecord) map[string]string {
	if rec.Kind == custos.IdentityEnterprise {
		return map[string]string{"company_name": rec.CompanyName, "uscc": rec.USCC, "legal_rep_name": rec.LegalRepName,
			"legal_rep_document_type": string(rec.DocumentType), "legal_rep_document_number": rec.DocumentNumber}
	}
	return map[string]string{"name": rec.Name, "document_type": string(rec.DocumentType), "document_number": rec.DocumentNumber}
}

func (a *API) identityFile(w http.ResponseWriter, r *http.Request, st custos.Staff, _ custos.StaffSession) error {
	info, data, err := a.identity.File(r.Context(), st, r.PathValue("id"), r.PathValue("file_id"), client(r))
	if err != nil {
		return err
	}
	WriteFile(w, info, data)
	return nil
}

// WriteFile serves an uploaded file to staff: its judged type, never
// sniffed, never cached, sandboxed, and a PDF only as a download.
func WriteFile(w http.ResponseWriter, info custos.BlobInfo, data []byte) {
	h := w.Header()
	h.Set("Content-Type", info.ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "no-store, private")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	ext := map[string]string{"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}[info.ContentType]
	disposition := "inline"
	if info.ContentType != "image/jpeg" && info.ContentType != "image/png" {
		disposition = "attachment"
	}
	h.Set("Content-Disposition", disposition+`; filename="`+info.Field+ext+`"`)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	w.Write(data)
}

type decisionRequest struct {
	Decision string `json:"decision"`
	Reason   string `json:"reason"`
}

func (a *API) identityDecision(w http.ResponseWriter, r *http.Request, st custos.Staff, _ custos.StaffSession) error {
	var req decisionRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	var approve bool
	switch req.Decision {
	case "approve":
		approve = true
	case "reject":
	default:
		return custos.Fail(custos.EInvalidRequest, "identity.decision").OnField("decision")
	}
	if err := a.identity.Decide(r.Context(), st, r.PathValue("id"), approve, req.Reason, client(r)); err != nil {
		return err
	}
	state := custos.IdentityVerified
	if !approve {
		state = custos.IdentityRejected
	}
	return writeJSON(w, http.StatusOK, map[string]any{"state": state})
}

type staffMember struct {
	ID        string           `json:"id"`
	Email     string           `json:"email"`
	Role      custos.StaffRole `json:"role"`
	State     string           `json:"state"`
	CreatedAt time.Time        `json:"created_at"`
}

func (a *API) listStaff(w http.ResponseWriter, r *http.Request, st custos.Staff, _ custos.StaffSession) error {
	list, err := a.staff.List(r.Context(), staffActor(r, st))
	if err != nil {
		return err
	}
	items := make([]staffMember, len(list))
	for i, m := range list {
		items[i] = staffMember{ID: m.ID, Email: m.Email, Role: m.Role, State: m.State, CreatedAt: m.CreatedAt.UTC()}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

type addStaffRequest struct {
	Email string           `json:"email"`
	Role  custos.StaffRole `json:"role"`
}

func (a *API) addStaff(w http.ResponseWriter, r *http.Request, st custos.Staff, _ custos.StaffSession) error {
	var req addStaffRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	url, err := a.staff.Add(r.Context(), staffActor(r, st), req.Email, req.Role)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]string{"enrol_url": url})
}

func (a *API) disableStaff(w http.ResponseWriter, r *http.Request, st custos.Staff, _ custos.StaffSession) error {
	if err := a.staff.DisableID(r.Context(), staffActor(r, st), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type staffEventJSON struct {
	ID         string            `json:"id"`
	At         time.Time         `json:"at"`
	StaffID    string            `json:"staff_id"`
	Action     string            `json:"action"`
	Target     string            `json:"target"`
	RemoteAddr string            `json:"remote_addr"`
	UserAgent  string            `json:"user_agent"`
	Detail     map[string]string `json:"detail"`
}

func (a *API) staffAudit(w http.ResponseWriter, r *http.Request, st custos.Staff, _ custos.StaffSession) error {
	q := r.URL.Query()
	f := custos.StaffEventFilter{StaffID: q.Get("staff_id"), Target: q.Get("target"), Limit: 200}
	if v := q.Get("before"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return custos.Fail(custos.EInvalidRequest, "error.invalid_request").OnField("before")
		}
		f.Before = t
	}
	evs, err := a.staff.Events(r.Context(), staffActor(r, st), f)
	if err != nil {
		return err
	}
	items := make([]staffEventJSON, len(evs))
	for i, e := range evs {
		d := e.Detail
		if d == nil {
			d = map[string]string{}
		}
		items[i] = staffEventJSON{ID: e.ID, At: e.At.UTC(), StaffID: e.StaffID, Action: e.Action, Target: e.Target,
			RemoteAddr: e.RemoteAddr, UserAgent: e.UserAgent, Detail: d}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": items})
}
