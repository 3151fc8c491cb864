package web

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/auth"
	"github.com/custos/custos/httperr"
	"github.com/custos/custos/message"
	"github.com/custos/custos/requestinfo"
)

// The security-key steps are the pages' only JSON: static/webauthn.js posts
// to these same-origin endpoints, which the session cookie (or, at login,
// the login token from the page's hidden field) authenticates. Each answer
// is JSON; an error is {"error": {"code", "message", …}} as in the API, with
// "location" when the script should go to another page instead of showing
// the message (to confirm it's you, or to log in).
const (
	webauthnRegisterBegin  = securityPath + "/webauthn/begin"
	webauthnRegisterFinish = securityPath + "/webauthn/finish"
	webauthnLoginBegin     = "/login/second-factor/webauthn/begin"
	webauthnLoginFinish    = "/login/second-factor/webauthn/finish"
)

// addKeyPath is Security Settings ready to add a security key named name:
// where a confirmation returns when adding one needed it.
func addKeyPath(name string) string {
	q := url.Values{"add": {"webauthn"}}
	if name != "" {
		q.Set("name", name)
	}
	return securityPath + "?" + q.Encode()
}

// jsonFunc is a JSON endpoint. Like a page handler it returns its error to
// one place (writeJSONError) and never writes an error status itself.
type jsonFunc func(w http.ResponseWriter, r *http.Request) error

func (wb *Web) handleJSON(h jsonFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			writeJSONError(w, r, err)
		}
	})
}

// signedInJSON runs h with the request's live session. Without one it
// answers 401 unauthenticated with the login page as location: a script's
// fetch would follow a 303 silently and get the login page's HTML. There is
// no WWW-Authenticate header, so the browser asks for nothing.
func (wb *Web) signedInJSON(h signedInFunc) http.Handler {
	return wb.handleJSON(func(w http.ResponseWriter, r *http.Request) error {
		sess, ok, err := wb.session(w, r)
		if err != nil {
			return err
		}
		if !ok {
			return custos.Errorf(custos.EUnauthenticated, "%s", message.For(language(r)).Text("webauthn.signed_out")).
				With("location", "/login")
		}
		return h(w, r, sess)
	})
}

// decodeJSON reads one JSON object into v: the application/json content
// type (415 otherwise), at most maxFormBytes (413), no unknown fields and
// nothing after it (400).
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return custos.Errorf(custos.EUnsupportedMediaType, "Send the body as application/json.")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil {
		if err = dec.Decode(&struct{}{}); errors.Is(err, io.EOF) {
			return nil
		} else if err == nil {
			err = errors.New("more than one value")
		}
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return custos.Errorf(custos.ETooLarge, "The request was too large.")
	}
	return custos.Errorf(custos.EInvalidRequest, "The request could not be read.")
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// writeJSONError is serveError for the JSON endpoints: a custos.Error
// answers its status, code, message and fields; a 5xx (anything that is
// not a custos.Error is a 500 internal) logs the detail and shows only the
// request id.
func writeJSONError(w http.ResponseWriter, r *http.Request, err error) {
	info := requestinfo.From(r.Context())
	status := httperr.Status(err)
	var ce *custos.Error
	if !errors.As(err, &ce) || status >= 500 {
		info.Logger.ErrorContext(r.Context(), "request failed", "path", r.URL.Path, "err", err)
		ce = &custos.Error{Code: custos.ErrorCode(err), Message: message.For(language(r)).Text("webauthn.server_error") + " " + info.ID}
	}
	body := make(map[string]any, len(ce.Fields)+2)
	for k, v := range ce.Fields {
		if t, ok := v.(time.Time); ok {
			v = t.UTC().Format(time.RFC3339)
		}
		body[k] = v
	}
	body["code"], body["message"] = ce.Code, ce.Message
	if err := writeJSON(w, status, map[string]any{"error": body}); err != nil {
		info.Logger.DebugContext(r.Context(), "writing an error answer", "err", err)
	}
}

type registrationBegin struct {
	Name string `json:"name"`
}

// beginRegistration starts adding a security key. Like the other devices it
// needs a fresh "Confirm it's you" unless the account has none yet; the
// answer then names the confirmation page, which returns to Security
// Settings with the name filled in.
func (wb *Web) beginRegistration(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	var req registrationBegin
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	acct, err := wb.auth.Account(r.Context(), sess.AccountID)
	if err != nil {
		return err
	}
	if err := wb.auth.RequireVerification(r.Context(), sess, acct, true); err != nil {
		if verificationNeeded(err) {
			return custos.Errorf(custos.EVerificationRequired, "%s", message.For(language(r)).Text("webauthn.confirm_first")).
				With("location", verifyURL(addKeyPath(strings.TrimSpace(req.Name))))
		}
		return err
	}
	id, options, err := wb.mfa.BeginWebAuthnRegistration(r.Context(), sess.AccountID, req.Name)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"registration_id": id, "options": options})
}

type registrationFinish struct {
	RegistrationID string          `json:"registration_id"`
	Credential     json.RawMessage `json:"credential"`
}

// finishRegistration checks the key's answer and adds it; the script then
// goes to Security Settings, which lists it.
func (wb *Web) finishRegistration(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	var req registrationFinish
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if _, err := wb.mfa.FinishWebAuthnRegistration(r.Context(), sess.AccountID, req.RegistrationID, req.Credential, mfaClient(r)); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]string{"location": securityDone("webauthn")})
}

type assertionBegin struct {
	LoginToken string `json:"login_token"`
}

// beginAssertion starts a security-key check for the second step of login.
func (wb *Web) beginAssertion(w http.ResponseWriter, r *http.Request) error {
	var req assertionBegin
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	id, options, err := wb.auth.BeginSecondFactorWebAuthn(r.Context(), req.LoginToken)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"assertion_id": id, "options": options})
}

type assertionFinish struct {
	LoginToken  string          `json:"login_token"`
	AssertionID string          `json:"assertion_id"`
	Credential  json.RawMessage `json:"credential"`
	Trust       bool            `json:"trust"`
}

// finishAssertion finishes the login with the key's answer: it sets the
// session cookie (and the trusted-device one when asked), as the form of
// the second step does, and names Account Information as where to go. A
// wrong answer counts like a wrong code (401 invalid_code with
// attempts_left); a dead login token is 410 expired.
func (wb *Web) finishAssertion(w http.ResponseWriter, r *http.Request) error {
	var req assertionFinish
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	res, err := wb.auth.SecondFactor(r.Context(), auth.SecondFactorRequest{
		LoginToken: req.LoginToken, Method: "webauthn", AssertionID: req.AssertionID, Credential: req.Credential,
		Trust: req.Trust, Client: client(r),
	})
	if custos.IsCode(err, custos.EInvalidCode) {
		// The second step of login answers a wrong answer 401, as the
		// API's does, where invalid_code is 422 everywhere else.
		return httperr.WithStatus(err, http.StatusUnauthorized)
	}
	if err != nil {
		return err
	}
	wb.cookie.set(w, res.Token)
	if res.DeviceToken != "" {
		wb.cookie.setTrusted(w, res.DeviceToken)
	}
	return writeJSON(w, http.StatusOK, map[string]string{"location": "/account"})
}
