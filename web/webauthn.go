package web

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/custos/custos"
	"github.com/custos/custos/auth"
	"github.com/custos/custos/httperr"
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
// one place, the JSON error writer the API uses too (httperr.WriteJSON),
// and never writes an error status itself.
type jsonFunc func(w http.ResponseWriter, r *http.Request) error

func (wb *Web) handleJSON(h jsonFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			httperr.WriteJSON(w, r, err, httperr.Clock(wb.clock), httperr.Language(language(r)))
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
			return custos.Fail(custos.EUnauthenticated, "webauthn.signed_out").
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
		return custos.Fail(custos.EUnsupportedMediaType, "webauthn.json_type")
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return custos.Fail(custos.ETooLarge, "webauthn.too_large")
	}
	// Strict like the API's bodies: exactly one value, valid UTF-8, no
	// member named twice, names matched with their letter case, no unknown
	// members (jsonv2's defaults plus RejectUnknownMembers). Device names
	// are checked for control characters by the service.
	if err != nil || jsonv2.Unmarshal(data, v, jsonv2.RejectUnknownMembers(true)) != nil {
		return custos.Fail(custos.EInvalidRequest, "webauthn.unreadable")
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
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
	id, options, err := wb.mfa.BeginWebAuthnRegistration(r.Context(), sess, req.Name)
	if verificationNeeded(err) {
		return custos.Fail(custos.EVerificationRequired, "webauthn.confirm_first").
			With("location", verifyURL(addKeyPath(strings.TrimSpace(req.Name))))
	}
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
	if _, err := wb.mfa.FinishWebAuthnRegistration(r.Context(), sess.AccountID, req.RegistrationID, req.Credential, client(r)); err != nil {
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
	if res.Next != "" {
		// A sub-user's login still owes a step (a password to change):
		// the page of that step takes the same login token.
		return writeJSON(w, http.StatusOK, map[string]string{"next": res.Next, "login_token": res.LoginToken})
	}
	wb.cookie.set(w, res.Token)
	if res.DeviceToken != "" {
		wb.cookie.setTrusted(w, res.DeviceToken)
	}
	return writeJSON(w, http.StatusOK, map[string]string{"location": homePath})
}
