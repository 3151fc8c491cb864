package api

import (
	"encoding/json"
	"net/http"

	"github.com/custos/custos"
	"github.com/custos/custos/auth"
)

func (a *API) beginWebAuthnRegistration(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	var req nameRequest
	if err := decodeOptional(w, r, &req); err != nil {
		return err
	}
	id, options, err := a.mfa.BeginWebAuthnRegistration(r.Context(), sess, req.Name)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"registration_id": id, "options": options})
}

type webauthnRegistrationRequest struct {
	RegistrationID string          `json:"registration_id"`
	Credential     json.RawMessage `json:"credential"`
}

func (a *API) finishWebAuthnRegistration(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	var req webauthnRegistrationRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	id, err := a.mfa.FinishWebAuthnRegistration(r.Context(), sess.AccountID, req.RegistrationID, req.Credential, client(r))
	if err != nil {
		return err
	}
	return a.writeDevice(w, r, sess.AccountID, id, http.StatusCreated)
}

type loginTokenRequest struct {
	LoginToken string `json:"login_token"`
}

func (a *API) beginWebAuthnSecondFactor(w http.ResponseWriter, r *http.Request) error {
	var req loginTokenRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	id, options, err := a.auth.BeginSecondFactorWebAuthn(r.Context(), req.LoginToken)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"assertion_id": id, "options": options})
}

type webauthnAssertionRequest struct {
	LoginToken  string          `json:"login_token"`
	AssertionID string          `json:"assertion_id"`
	Credential  json.RawMessage `json:"credential"`
}

func (a *API) finishWebAuthnSecondFactor(w http.ResponseWriter, r *http.Request) error {
	var req webauthnAssertionRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	res, err := a.auth.SecondFactor(r.Context(), auth.SecondFactorRequest{
		LoginToken: req.LoginToken, Method: "webauthn", AssertionID: req.AssertionID, Credential: req.Credential, Client: client(r),
	})
	if err != nil {
		return secondFactorError(err)
	}
	return a.writeLogin(w, res)
}
