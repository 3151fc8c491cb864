package api

import (
	"net/http"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/recovery"
)

type phoneRequest struct {
	Phone string `json:"phone"`
}

type emailRequest struct {
	Email string `json:"email"`
}

// startChange is the shared first step of the phone and email changes
// (the service asks for "confirm it's you" first where it is needed).
func (a *API) startChange(w http.ResponseWriter, start func() (string, error)) error {
	id, err := start()
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, map[string]string{"change_id": id})
}

func (a *API) startPhoneChange(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	var req phoneRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	return a.startChange(w, func() (string, error) {
		return a.binding.StartPhoneChange(r.Context(), sess, req.Phone, client(r))
	})
}

func (a *API) startEmailChange(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	var req emailRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	return a.startChange(w, func() (string, error) {
		return a.binding.StartEmailChange(r.Context(), sess, req.Email, client(r))
	})
}

func (a *API) startSecureEmail(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	var req emailRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	return a.startChange(w, func() (string, error) {
		return a.binding.StartSecureEmail(r.Context(), sess, req.Email, client(r))
	})
}

// finishChange proves a change's code.
func (a *API) finishChange(w http.ResponseWriter, r *http.Request, sess custos.Session, finish func(acct custos.Account, id, code string) error) error {
	var req codeRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	acct, err := a.auth.Account(r.Context(), sess.AccountID)
	if err != nil {
		return err
	}
	if err := finish(acct, r.PathValue("change_id"), req.Code); err != nil {
		return err
	}
	return a.getAccount(w, r, sess)
}

func (a *API) finishPhoneChange(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	return a.finishChange(w, r, sess, func(acct custos.Account, id, code string) error {
		return a.binding.FinishPhoneChange(r.Context(), acct, id, code, client(r))
	})
}

func (a *API) finishEmailChange(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	return a.finishChange(w, r, sess, func(acct custos.Account, id, code string) error {
		return a.binding.FinishEmailChange(r.Context(), acct, id, code, client(r))
	})
}

func (a *API) finishSecureEmail(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	return a.finishChange(w, r, sess, func(acct custos.Account, id, code string) error {
		return a.binding.FinishSecureEmail(r.Context(), acct, id, code, client(r))
	})
}

type retrieveRequest struct {
	Phone   string         `json:"phone"`
	Captcha *captchaAnswer `json:"captcha"`
}

func (ca *captchaAnswer) recovery() *recovery.CaptchaAnswer {
	if ca == nil {
		return nil
	}
	return &recovery.CaptchaAnswer{ID: ca.ID, Answer: ca.Answer}
}

func (a *API) startRetrieve(w http.ResponseWriter, r *http.Request) error {
	var req retrieveRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	id, err := a.recovery.StartRetrieve(r.Context(), req.Phone, req.Captcha.recovery(), client(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, map[string]string{"retrieval_id": id})
}

type foundView struct {
	AccountID    string   `json:"account_id"`
	AccountEmail string   `json:"account_email"`
	Kind         string   `json:"kind"`
	CreatedAt    string   `json:"created_at"`
	NeedsMFA     bool     `json:"needs_mfa"`
	MFAMethods   []string `json:"mfa_methods"`
	CanSelfServe bool     `json:"can_self_serve"`
}

func writeFound(w http.ResponseWriter, accounts []recovery.FoundAccount) error {
	out := make([]foundView, 0, len(accounts))
	for _, f := range accounts {
		methods := f.MFAMethods
		if methods == nil {
			methods = []string{}
		}
		out = append(out, foundView{AccountID: f.ID, AccountEmail: f.MaskedEmail, Kind: string(f.Kind),
			CreatedAt: f.CreatedAt.UTC().Format(time.RFC3339), NeedsMFA: f.NeedsMFA, MFAMethods: methods, CanSelfServe: f.CanSelfServe})
	}
	return writeJSON(w, http.StatusOK, map[string]any{"accounts": out})
}

func (a *API) finishRetrieve(w http.ResponseWriter, r *http.Request) error {
	var req codeRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	accounts, err := a.recovery.FinishRetrieve(r.Context(), r.PathValue("retrieval_id"), req.Code, client(r))
	if err != nil {
		return err
	}
	return writeFound(w, accounts)
}

type resetRequest struct {
	Email   string         `json:"email"`
	Phone   string         `json:"phone"`
	Captcha *captchaAnswer `json:"captcha"`
}

func (a *API) startReset(w http.ResponseWriter, r *http.Request) error {
	var req resetRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	id, err := a.recovery.StartReset(r.Context(), req.Email, req.Phone, req.Captcha.recovery(), client(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, map[string]string{"reset_id": id})
}

func (a *API) proveReset(w http.ResponseWriter, r *http.Request) error {
	var req codeRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	accounts, err := a.recovery.FinishResetCode(r.Context(), r.PathValue("reset_id"), req.Code, client(r))
	if err != nil {
		return err
	}
	return writeFound(w, accounts)
}

type completeResetRequest struct {
	AccountID string `json:"account_id"`
	Password  string `json:"password"`
	MFAMethod string `json:"mfa_method"`
	MFACode   string `json:"mfa_code"`
}

func (a *API) completeReset(w http.ResponseWriter, r *http.Request) error {
	var req completeResetRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	err := a.recovery.CompleteReset(r.Context(), r.PathValue("reset_id"), req.AccountID, req.Password, req.MFAMethod, req.MFACode, client(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]bool{"reset": true})
}

type undoRequest struct {
	Token string `json:"token"`
}

func (a *API) undo(w http.ResponseWriter, r *http.Request) error {
	var req undoRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := a.binding.Undo(r.Context(), req.Token, client(r)); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]bool{"sessions_ended": true, "password_reset_required": true})
}
