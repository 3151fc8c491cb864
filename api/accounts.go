package api

import (
	"net/http"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/auth"
)

type signupRequest struct {
	Email    string             `json:"email"`
	Password string             `json:"password"`
	Kind     custos.AccountKind `json:"kind"`
	Captcha  *captchaAnswer     `json:"captcha"`
}

func (a *API) signup(w http.ResponseWriter, r *http.Request) error {
	var req signupRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	sr := auth.SignupRequest{Email: req.Email, Password: req.Password, Kind: req.Kind, Client: client(r)}
	if req.Captcha != nil {
		sr.Captcha = &auth.CaptchaAnswer{ID: req.Captcha.ID, Answer: req.Captcha.Answer}
	}
	id, err := a.auth.Signup(r.Context(), sr)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, map[string]string{"verification_id": id})
}

type verifyRequest struct {
	VerificationID string `json:"verification_id"`
	Code           string `json:"code"`
}

func (a *API) signupVerify(w http.ResponseWriter, r *http.Request) error {
	var req verifyRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	id, err := a.auth.VerifySignup(r.Context(), req.VerificationID, req.Code, client(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]string{"account_id": id})
}

type loginRequest struct {
	Email    string         `json:"email"`
	Password string         `json:"password"`
	Captcha  *captchaAnswer `json:"captcha"`
	// A sub-user logs in with its root's account id and its user name
	// instead of an email (R9).
	RootAccountID string `json:"root_account_id"`
	UserName      string `json:"user_name"`
}

// loginID is the identifier a login names: an email, or a sub-user's root
// and user name — one or the other.
func (req loginRequest) loginID() (custos.LoginID, error) {
	if req.RootAccountID != "" || req.UserName != "" {
		if req.Email != "" {
			return custos.LoginID{}, custos.Fail(custos.EInvalidRequest, "api.login_email_or_sub_user").OnField("email")
		}
		return custos.SubUserLogin(req.RootAccountID, req.UserName), nil
	}
	return custos.EmailLogin(req.Email), nil
}

type captchaAnswer struct {
	ID     string `json:"id"`
	Answer string `json:"answer"`
}

func (a *API) login(w http.ResponseWriter, r *http.Request) error {
	var req loginRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	id, err := req.loginID()
	if err != nil {
		return err
	}
	lr := auth.LoginRequest{ID: id, Password: req.Password, Client: client(r)}
	if req.Captcha != nil {
		lr.Captcha = &auth.CaptchaAnswer{ID: req.Captcha.ID, Answer: req.Captcha.Answer}
	}
	res, err := a.auth.Login(r.Context(), lr)
	if err != nil {
		a.logins.WithLabelValues(custos.ErrorCode(err)).Inc()
		return err
	}
	if res.Next != "" {
		a.logins.WithLabelValues("second_factor").Inc()
	} else {
		a.logins.WithLabelValues("success").Inc()
	}
	return a.writeLogin(w, res)
}

// writeLogin answers a login step: a session, or the next step.
func (a *API) writeLogin(w http.ResponseWriter, res auth.LoginResult) error {
	if res.Next != "" {
		step := map[string]any{"next": res.Next, "login_token": res.LoginToken}
		if res.Methods != nil { // the second factor's; the other steps offer none
			step["methods"] = res.Methods
		}
		return writeJSON(w, http.StatusOK, step)
	}
	return writeJSON(w, http.StatusOK, map[string]any{
		"session_token": res.Token,
		"expires_at":    rfc3339(a.auth.ExpiresAt(res.Session)),
		"account_id":    res.Session.AccountID,
	})
}

// sessionJSON is the answer of GET /api/v1/session. Its members are in
// the order encoding/json writes a map's (by name), as the answer was
// first written; a struct encodes without a map's allocations and sorting.
type sessionJSON struct {
	AccountID       string        `json:"account_id"`
	AuthenticatedAt string        `json:"authenticated_at"`
	ExpiresAt       string        `json:"expires_at"`
	Principal       principalJSON `json:"principal"`
	SecondFactor    bool          `json:"second_factor"`
	VerifiedUntil   *string       `json:"verified_until"` // null when no window is open
}

type principalJSON struct {
	AccountID     string  `json:"account_id"`
	RootAccountID string  `json:"root_account_id"`
	Type          string  `json:"type"`
	UserName      *string `json:"user_name"` // null but for a sub-user
}

func (a *API) getSession(w http.ResponseWriter, r *http.Request, sess custos.Session, p auth.Principal) error {
	out := sessionJSON{
		AccountID:       sess.AccountID,
		AuthenticatedAt: rfc3339(sess.AuthenticatedAt),
		ExpiresAt:       rfc3339(a.auth.ExpiresAt(sess)),
		Principal:       principalJSON{AccountID: p.AccountID, RootAccountID: p.RootAccountID, Type: p.Type},
		SecondFactor:    sess.SecondFactor,
	}
	if p.UserName != "" {
		out.Principal.UserName = &p.UserName
	}
	if until, ok := optionalTime(sess.VerifiedUntil, a.clock.Now()).(string); ok {
		out.VerifiedUntil = &until
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) deleteSession(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	if err := a.auth.Logout(r.Context(), sess, client(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type sessionView struct {
	ID         string `json:"id"`
	CreatedAt  string `json:"created_at"`
	LastSeenAt string `json:"last_seen_at"`
	ExpiresAt  string `json:"expires_at"`
	RemoteAddr string `json:"remote_addr"`
	UserAgent  string `json:"user_agent"`
	Current    bool   `json:"current"`
}

func (a *API) listSessions(w http.ResponseWriter, r *http.Request, cur custos.Session) error {
	all, err := a.auth.Sessions(r.Context(), cur.AccountID)
	if err != nil {
		return err
	}
	out := make([]sessionView, 0, len(all))
	for _, s := range all {
		out = append(out, sessionView{
			ID: s.ID, CreatedAt: rfc3339(s.CreatedAt), LastSeenAt: rfc3339(s.LastSeenAt),
			ExpiresAt: rfc3339(a.auth.ExpiresAt(s)), RemoteAddr: s.RemoteAddr, UserAgent: s.UserAgent,
			Current: s.ID == cur.ID,
		})
	}
	return writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
}

func (a *API) revokeSession(w http.ResponseWriter, r *http.Request, cur custos.Session) error {
	if err := a.auth.RevokeSession(r.Context(), cur.AccountID, r.PathValue("id"), client(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) getAccount(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	acct, err := a.auth.Account(r.Context(), sess.AccountID)
	if err != nil {
		return err
	}
	devices, err := a.mfa.Devices(r.Context(), acct.ID)
	if err != nil {
		return err
	}
	login, operation, err := a.auth.ChosenMethods(r.Context(), acct)
	if err != nil {
		return err
	}
	views := make([]deviceView, 0, len(devices))
	for _, d := range devices {
		views = append(views, newDeviceView(d))
	}
	return writeJSON(w, http.StatusOK, map[string]any{
		"account_id":           acct.ID,
		"kind":                 acct.Kind,
		"account_email":        acct.Email,
		"secure_email":         optionalString(custos.MaskEmail(acct.SecureEmail), acct.SecureEmail != ""),
		"phone":                optionalString(a.binding.MaskPhone(acct.Phone), acct.Phone != ""),
		"created_at":           rfc3339(acct.CreatedAt),
		"login_protection":     acct.Protection.Login,
		"operation_protection": acct.Protection.Operation,
		"login_method":         optionalString(login, login != ""),
		"operation_method":     optionalString(operation, operation != ""),
		"mfa_devices":          views,
	})
}

type eventView struct {
	ID         string            `json:"id"`
	At         string            `json:"at"`
	Type       string            `json:"type"`
	RemoteAddr string            `json:"remote_addr"`
	UserAgent  string            `json:"user_agent"`
	Detail     map[string]string `json:"detail,omitempty"`
}

func (a *API) activity(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	kind, from, to, before, limit, err := activityQuery(r)
	if err != nil {
		return err
	}
	events, err := a.auth.ActivityPage(r.Context(), sess.AccountID, kind, from, to, before, limit)
	if err != nil {
		return err
	}
	out := make([]eventView, 0, len(events))
	for _, e := range events {
		out = append(out, eventView{ID: e.ID, At: rfc3339(e.At), Type: e.Type, RemoteAddr: e.RemoteAddr, UserAgent: e.UserAgent, Detail: e.Detail})
	}
	body := map[string]any{"events": out}
	if len(events) == limit {
		body["next_before"] = events[len(events)-1].ID // keyset: pass it as before
	}
	return writeJSON(w, http.StatusOK, body)
}

func optionalString(s string, ok bool) any {
	if !ok {
		return nil
	}
	return s
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func optionalTime(t, now time.Time) any {
	if t.IsZero() || !t.After(now) {
		return nil
	}
	return rfc3339(t)
}
