package api

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/subaccount"
)

// loginBindMFA starts the authenticator app a sub-user must bind before
// its login opens a session.
func (a *API) loginBindMFA(w http.ResponseWriter, r *http.Request) error {
	var req loginTokenRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	k, err := a.auth.BeginBindMFA(r.Context(), req.LoginToken)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusCreated, map[string]string{"device_id": k.DeviceID, "secret": k.Secret,
		"otpauth_uri": k.URI, "qr_png": base64.StdEncoding.EncodeToString(k.QRPNG)})
}

type loginCodeRequest struct {
	LoginToken string `json:"login_token"`
	Code       string `json:"code"`
}

func (a *API) loginBindMFAConfirm(w http.ResponseWriter, r *http.Request) error {
	var req loginCodeRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	res, err := a.auth.FinishBindMFA(r.Context(), req.LoginToken, req.Code, client(r))
	if err != nil {
		return err
	}
	return a.writeLogin(w, res)
}

type loginPasswordRequest struct {
	LoginToken string `json:"login_token"`
	Password   string `json:"password"`
}

func (a *API) loginChangePassword(w http.ResponseWriter, r *http.Request) error {
	var req loginPasswordRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	res, err := a.auth.ChangePasswordAtLogin(r.Context(), req.LoginToken, req.Password, client(r))
	if err != nil {
		return err
	}
	return a.writeLogin(w, res)
}

type createSubUserRequest struct {
	UserName            string `json:"user_name"`
	Password            string `json:"password"`
	Email               string `json:"email"`
	ConsoleLogin        *bool  `json:"console_login"`
	MustBindMFA         bool   `json:"must_bind_mfa"`
	LoginProtection     string `json:"login_protection"`
	OperationProtection string `json:"operation_protection"`
}

func (a *API) createSubUser(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	var req createSubUserRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	id, err := a.subusers.Create(r.Context(), sess, subaccount.CreateRequest{UserName: req.UserName, Password: req.Password,
		Email: req.Email, ConsoleLogin: req.ConsoleLogin, MustBindMFA: req.MustBindMFA,
		LoginProtection: req.LoginProtection, OperationProtection: req.OperationProtection}, client(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]string{"sub_user_id": id})
}

// protectionChoice is a protection switch as the API spells it.
func protectionChoice(on bool, method string) string {
	if !on {
		return subaccount.Off
	}
	if method == "" {
		return custos.MethodMFA
	}
	return method
}

func subUserJSON(acct custos.Account, su custos.SubUser) map[string]any {
	return map[string]any{
		"sub_user_id": su.AccountID, "user_name": su.UserName, "root_account_id": su.RootAccountID,
		"console_login": su.ConsoleLogin, "must_bind_mfa": su.MustBindMFA, "must_change_password": su.MustChangePassword,
		"login_protection":     protectionChoice(acct.Protection.Login, acct.Protection.LoginMethod),
		"operation_protection": protectionChoice(acct.Protection.Operation, acct.Protection.OperationMethod),
		"created_at":           su.CreatedAt.UTC(), "password_changed_at": su.PasswordChangedAt.UTC(),
	}
}

func (a *API) listSubUsers(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	q := r.URL.Query()
	f := custos.SubUserFilter{Search: q.Get("search"), After: q.Get("after"), Limit: 50}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return custos.Fail(custos.EInvalidRequest, "error.invalid_request").OnField("limit")
		}
		f.Limit = n
	}
	list, err := a.subusers.List(r.Context(), sess, f)
	if err != nil {
		return err
	}
	items := make([]map[string]any, len(list))
	for i, su := range list {
		items[i] = map[string]any{"sub_user_id": su.AccountID, "user_name": su.UserName, "console_login": su.ConsoleLogin,
			"must_bind_mfa": su.MustBindMFA, "created_at": su.CreatedAt.UTC()}
	}
	out := map[string]any{"items": items}
	if len(list) == f.Limit {
		out["next_after"] = list[len(list)-1].UserName
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) getSubUser(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	acct, su, err := a.subusers.Get(r.Context(), sess, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, subUserJSON(acct, su))
}

type updateSubUserRequest struct {
	ConsoleLogin        *bool   `json:"console_login"`
	MustBindMFA         *bool   `json:"must_bind_mfa"`
	LoginProtection     *string `json:"login_protection"`
	OperationProtection *string `json:"operation_protection"`
}

func (a *API) updateSubUser(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	var req updateSubUserRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := a.subusers.Update(r.Context(), sess, id, subaccount.Settings{ConsoleLogin: req.ConsoleLogin, MustBindMFA: req.MustBindMFA,
		LoginProtection: req.LoginProtection, OperationProtection: req.OperationProtection}, client(r)); err != nil {
		return err
	}
	return a.getSubUser(w, r, sess)
}

func (a *API) resetSubUserMFA(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	if err := a.subusers.ResetMFA(r.Context(), sess, r.PathValue("id"), client(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type resetPasswordRequest struct {
	Password   string `json:"password"` // "" to generate one
	MustChange *bool  `json:"must_change"`
}

func (a *API) resetSubUserPassword(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	var req resetPasswordRequest
	if err := decodeOptional(w, r, &req); err != nil {
		return err
	}
	must := req.MustChange == nil || *req.MustChange
	generated, err := a.subusers.ResetPassword(r.Context(), sess, r.PathValue("id"), req.Password, must, client(r))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	out := map[string]any{"must_change": must}
	if generated != "" {
		out["password"] = generated
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) subUserActivity(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	evs, err := a.subusers.Activity(r.Context(), sess, r.PathValue("id"), 100)
	if err != nil {
		return err
	}
	items := make([]map[string]any, len(evs))
	for i, e := range evs {
		items[i] = map[string]any{"id": e.ID, "at": e.At.UTC(), "type": e.Type, "address": e.RemoteAddr}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

type rulesJSON struct {
	MinLength  int `json:"min_length"`
	Classes    int `json:"classes"`
	History    int `json:"history"`
	RetryLimit int `json:"retry_limit"`
	MaxAgeDays int `json:"max_age_days"`
}

func (a *API) getPasswordRules(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	pr, err := a.subusers.Rules(r.Context(), sess)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rulesJSON{MinLength: pr.MinLength, Classes: pr.Classes, History: pr.History,
		RetryLimit: pr.RetryLimit, MaxAgeDays: int(pr.MaxAge / (24 * time.Hour))})
}

func (a *API) setPasswordRules(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	var req rulesJSON
	if err := decode(w, r, &req); err != nil {
		return err
	}
	pr := custos.PasswordRules{MinLength: req.MinLength, Classes: req.Classes, History: req.History, RetryLimit: req.RetryLimit,
		MaxAge: time.Duration(req.MaxAgeDays) * 24 * time.Hour}
	if req.MaxAgeDays < 0 || req.MaxAgeDays > 3650 {
		return custos.Fail(custos.EInvalidRequest, "subuser.rule_max_age").OnField("max_age_days")
	}
	if err := a.subusers.SetRules(r.Context(), sess, pr, client(r)); err != nil {
		return err
	}
	return a.getPasswordRules(w, r, sess)
}
