package web

import (
	"net/http"
	"strings"

	"github.com/custos/custos"
	"github.com/custos/custos/auth"
)

// The steps a sub-user's login may owe before its session (R9): binding
// the authenticator app its root requires, and choosing a new password
// after a reset by the root (or when it expired). Like the second step of
// login, each page answers the POST that leads to it, and the login token
// travels only in a hidden field: never in a URL, a log line or the
// browser history. A GET of either sends the browser to the login form.
const (
	bindMFAPath        = "/login/bind-mfa"
	changePasswordPath = "/login/change-password"
)

func init() {
	pageNames = append(pageNames, "sublogin_bind", "sublogin_password")
}

// registerSubLogin adds the sub-user's login steps to mux.
func (wb *Web) registerSubLogin(mux *http.ServeMux) {
	mux.Handle("GET "+bindMFAPath, wb.handle(wb.secondFactorForm))
	mux.Handle("POST "+bindMFAPath, wb.handle(wb.bindMFA))
	mux.Handle("GET "+changePasswordPath, wb.handle(wb.secondFactorForm))
	mux.Handle("POST "+changePasswordPath, wb.handle(wb.changePasswordAtLogin))
}

// stepState is what a sub-user's login step carries in hidden fields:
// the login token, and the root's account id and user name to refill the
// login form when the step has died.
type stepState struct {
	LoginToken    string
	RootAccountID string
	UserName      string
}

func readStepState(r *http.Request) stepState {
	f := r.PostForm
	return stepState{
		LoginToken:    f.Get("login_token"),
		RootAccountID: strings.TrimSpace(f.Get("root_account_id")),
		UserName:      strings.TrimSpace(f.Get("user_name")),
	}
}

// loginStep answers a login (password, second factor or a step) that
// went through: the session cookie and Account Information, or the page
// of the step the sub-user still owes.
func (wb *Web) loginStep(w http.ResponseWriter, r *http.Request, res auth.LoginResult, st stepState) error {
	st.LoginToken = res.LoginToken
	switch res.Next {
	case "":
	case auth.NextBindMFA:
		return wb.beginBindMFA(w, r, st)
	case auth.NextChangePassword:
		return wb.render(w, "sublogin_password", passwordStepView{page: wb.newPage(r), stepState: st})
	default:
		// No step these pages know: start again rather than open nothing.
		return wb.stepExpired(r, "", st.RootAccountID, st.UserName)
	}
	wb.cookie.set(w, res.Token)
	return redirect(w, r, homePath)
}

// stepExpired is the login form again after a step's login token died
// (expired, used, or out of tries), refilled with who was logging in.
func (wb *Web) stepExpired(r *http.Request, email, rootAccountID, userName string) error {
	lv := loginView{page: wb.newPage(r), Email: email, RootAccountID: rootAccountID, UserName: userName}
	lv.SubUser = rootAccountID != "" || userName != ""
	if lv.SubUser {
		lv.Email = ""
	}
	lv.Notice = "login.step_expired"
	return gone("login", lv)
}

// bindStepView binds the authenticator app the root requires: the QR
// code, the secret in groups of four, the label the app will show, then
// one field for the first code. It embeds the page of Security Settings'
// app (totpView) for the key.
type bindStepView struct {
	totpView
	stepState
}

// beginBindMFA starts the app and shows its key.
func (wb *Web) beginBindMFA(w http.ResponseWriter, r *http.Request, st stepState) error {
	k, err := wb.auth.BeginBindMFA(r.Context(), st.LoginToken)
	if custos.IsCode(err, custos.EExpired) {
		return wb.stepExpired(r, "", st.RootAccountID, st.UserName)
	}
	if err != nil {
		return err
	}
	v := bindStepView{totpView: totpView{page: wb.newPage(r), DeviceID: k.DeviceID}, stepState: st}
	v.setKey(wb.mfa, k.URI)
	return wb.render(w, "sublogin_bind", v)
}

// bindMFA checks the first code of the app: a session, or the next step
// (a new password). A wrong code shows the same key again, from the URI
// the form carries (as Security Settings' app page does): the service
// keeps the seed sealed and never hands it out twice.
func (wb *Web) bindMFA(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	st := readStepState(r)
	v := bindStepView{totpView: totpView{page: wb.newPage(r), DeviceID: r.PostForm.Get("device_id")}, stepState: st}
	v.setKey(wb.mfa, r.PostForm.Get("uri"))
	if v.URI == "" {
		// The form lost its key: start a new one.
		return wb.beginBindMFA(w, r, st)
	}
	code := cleanCode(r.PostForm.Get("code"))
	if code == "" {
		v.Form.add("code", v.text("totp.code_missing"))
		return formAgain("sublogin_bind", v)
	}
	res, err := wb.auth.FinishBindMFA(r.Context(), st.LoginToken, code, client(r))
	switch {
	case err == nil:
		return wb.loginStep(w, r, res, st)
	case custos.IsCode(err, custos.EExpired):
		return wb.stepExpired(r, "", st.RootAccountID, st.UserName)
	case formProblem(&v.Form, v.Lang, err, "code"):
		return formAgain("sublogin_bind", v)
	}
	return err
}

// passwordStepView asks for the new password a sub-user owes, under the
// root's rules.
type passwordStepView struct {
	page
	stepState
	Form formErrors
}

// changePasswordAtLogin sets the new password and opens the session. The
// rules' refusals (weak_password: too short, too few kinds of characters,
// used before…) show next to the field.
func (wb *Web) changePasswordAtLogin(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	st := readStepState(r)
	v := passwordStepView{page: wb.newPage(r), stepState: st}
	pw := r.PostForm.Get("password")
	if pw == "" && r.PostForm.Get("show") == "1" {
		// Sent on from a security key's second step: the page, no error yet.
		return wb.render(w, "sublogin_password", v)
	}
	if pw == "" {
		v.Form.add("password", v.text("sublogin.password.missing"))
		return formAgain("sublogin_password", v)
	}
	res, err := wb.auth.ChangePasswordAtLogin(r.Context(), st.LoginToken, pw, client(r))
	switch {
	case err == nil:
		return wb.loginStep(w, r, res, st)
	case custos.IsCode(err, custos.EExpired):
		return wb.stepExpired(r, "", st.RootAccountID, st.UserName)
	case formProblemOr(&v.Form, v.Lang, err, "password", "password"):
		return formAgain("sublogin_password", v)
	}
	return err
}
