package api

import (
	"net/http"

	"github.com/custos/custos"
)

// newDeviceStepRequest switches whether a sign-in from a new device needs
// the second step of login even without login protection.
type newDeviceStepRequest struct {
	RequireSecondStep *bool `json:"require_second_step"`
}

func (a *API) newDeviceStep(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	acct, err := a.auth.Account(r.Context(), sess.AccountID)
	if err != nil {
		return err
	}
	on, err := a.auth.NewDeviceStep(r.Context(), acct)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"require_second_step": on})
}

func (a *API) setNewDeviceStep(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	var req newDeviceStepRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if req.RequireSecondStep == nil {
		return custos.Fail(custos.EInvalidRequest, "protection.new_device_missing").OnField("require_second_step")
	}
	if err := a.auth.SetNewDeviceStep(r.Context(), sess, *req.RequireSecondStep, client(r)); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"require_second_step": *req.RequireSecondStep})
}
