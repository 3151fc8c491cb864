package api

import (
	"encoding/base64"
	"net/http"

	"github.com/custos/custos"
	"github.com/custos/custos/auth"
	"github.com/custos/custos/httperr"
)

type nameRequest struct {
	Name string `json:"name"`
}

func (a *API) beginTOTP(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	var req nameRequest
	if err := decodeOptional(w, r, &req); err != nil {
		return err
	}
	p, err := a.mfa.BeginTOTP(r.Context(), sess, req.Name)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]string{
		"device_id": p.DeviceID, "secret": p.Secret, "otpauth_uri": p.URI,
		"qr_png": base64.StdEncoding.EncodeToString(p.QRPNG),
	})
}

type codeRequest struct {
	Code string `json:"code"`
}

func (a *API) confirmTOTP(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	var req codeRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := a.mfa.ConfirmTOTP(r.Context(), sess.AccountID, r.PathValue("device_id"), req.Code, client(r)); err != nil {
		return err
	}
	return a.writeDevice(w, r, sess.AccountID, r.PathValue("device_id"), http.StatusOK)
}

type hardwareRequest struct {
	Serial string `json:"serial"`
	Code1  string `json:"code1"`
	Code2  string `json:"code2"`
	Name   string `json:"name"`
}

func (a *API) bindHardware(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	var req hardwareRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	id, err := a.mfa.BindHardware(r.Context(), sess, req.Serial, req.Code1, req.Code2, req.Name, client(r))
	if err != nil {
		return err
	}
	return a.writeDevice(w, r, sess.AccountID, id, http.StatusCreated)
}

type resyncRequest struct {
	Code1 string `json:"code1"`
	Code2 string `json:"code2"`
}

func (a *API) resyncHardware(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	var req resyncRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := a.mfa.Resync(r.Context(), sess.AccountID, r.PathValue("device_id"), req.Code1, req.Code2); err != nil {
		return err
	}
	return a.writeDevice(w, r, sess.AccountID, r.PathValue("device_id"), http.StatusOK)
}

func (a *API) renameDevice(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	var req nameRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := a.mfa.Rename(r.Context(), sess.AccountID, r.PathValue("device_id"), req.Name); err != nil {
		return err
	}
	return a.writeDevice(w, r, sess.AccountID, r.PathValue("device_id"), http.StatusOK)
}

func (a *API) unbindDevice(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	if err := a.mfa.Unbind(r.Context(), sess, r.PathValue("device_id"), client(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) recoveryCodes(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	if err := decodeOptional(w, r, &struct{}{}); err != nil {
		return err
	}
	codes, err := a.mfa.GenerateRecoveryCodes(r.Context(), sess, client(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"codes": codes})
}

type protectionRequest struct {
	LoginProtection     *bool   `json:"login_protection"`
	OperationProtection *bool   `json:"operation_protection"`
	LoginMethod         *string `json:"login_method"`
	OperationMethod     *string `json:"operation_method"`
}

func (a *API) setProtection(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	var req protectionRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	acct, err := a.auth.Account(r.Context(), sess.AccountID)
	if err != nil {
		return err
	}
	p := acct.Protection
	if req.LoginProtection != nil {
		p.Login = *req.LoginProtection
	}
	if req.OperationProtection != nil {
		p.Operation = *req.OperationProtection
	}
	if req.LoginMethod != nil {
		p.LoginMethod = *req.LoginMethod
	}
	if req.OperationMethod != nil {
		p.OperationMethod = *req.OperationMethod
	}
	if err := a.auth.SetProtection(r.Context(), sess, p, client(r)); err != nil {
		return err
	}
	acct.Protection = p
	login, operation, err := a.auth.ChosenMethods(r.Context(), acct)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{
		"login_protection": p.Login, "operation_protection": p.Operation,
		"login_method": optionalString(login, login != ""), "operation_method": optionalString(operation, operation != ""),
	})
}

type methodRequest struct {
	Method string `json:"method"`
}

func (a *API) startVerification(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	var req methodRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	v, err := a.auth.StartVerification(r.Context(), sess, req.Method, client(r))
	if err != nil {
		return err
	}
	var sentTo any
	if v.SentTo != "" {
		sentTo = v.SentTo
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"id": v.ID, "method": v.Method, "sent_to": sentTo})
}

func (a *API) completeVerification(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	var req codeRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	until, err := a.auth.CompleteVerification(r.Context(), sess, r.PathValue("id"), req.Code, client(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]string{"verified_until": rfc3339(until)})
}

type secondFactorRequest struct {
	LoginToken string `json:"login_token"`
	Method     string `json:"method"`
	Code       string `json:"code"`
}

func (a *API) secondFactor(w http.ResponseWriter, r *http.Request) error {
	var req secondFactorRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	res, err := a.auth.SecondFactor(r.Context(), auth.SecondFactorRequest{
		LoginToken: req.LoginToken, Method: req.Method, Code: req.Code, Client: client(r),
	})
	if err != nil {
		return secondFactorError(err)
	}
	return a.writeLogin(w, res)
}

// secondFactorError is where the second step of login departs from the
// status table: a wrong code (invalid_code) answers 401 there, like a
// wrong password at the first step, where every other endpoint answers it
// 422 (docs/API.md).
func secondFactorError(err error) error {
	if custos.IsCode(err, custos.EInvalidCode) {
		return httperr.WithStatus(err, http.StatusUnauthorized)
	}
	return err
}

type sendRequest struct {
	LoginToken string `json:"login_token"`
	Method     string `json:"method"`
}

func (a *API) sendSecondFactor(w http.ResponseWriter, r *http.Request) error {
	var req sendRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	sentTo, err := a.auth.SendSecondFactorCode(r.Context(), req.LoginToken, req.Method, client(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, map[string]string{"sent_to": sentTo})
}

type deviceView struct {
	ID         string  `json:"id"`
	Type       string  `json:"type"`
	Name       string  `json:"name"`
	Serial     string  `json:"serial,omitempty"`
	CreatedAt  string  `json:"created_at"`
	LastUsedAt *string `json:"last_used_at"`
}

func newDeviceView(d custos.Device) deviceView {
	v := deviceView{ID: d.ID, Type: string(d.Type), Name: d.Name, Serial: d.Serial, CreatedAt: rfc3339(d.CreatedAt)}
	if !d.LastUsedAt.IsZero() {
		s := rfc3339(d.LastUsedAt)
		v.LastUsedAt = &s
	}
	return v
}

func (a *API) writeDevice(w http.ResponseWriter, r *http.Request, accountID, id string, status int) error {
	devices, err := a.mfa.Devices(r.Context(), accountID)
	if err != nil {
		return err
	}
	for _, d := range devices {
		if d.ID == id {
			out := newDeviceView(d)
			return writeJSON(w, status, map[string]any{"device_id": d.ID, "device": out})
		}
	}
	return custos.Fail(custos.ENotFound, "api.no_device")
}

type passwordRequest struct {
	Password string `json:"password"`
}

func (a *API) changePassword(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	var req passwordRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := a.auth.ChangePassword(r.Context(), sess, req.Password, client(r)); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]bool{"changed": true, "sessions_ended": true})
}
