package web

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/auth"
)

// pageMethods are the second-factor methods the pages can take, in the
// order they are offered. A security key (webauthn) is the one step that
// needs script: static/webauthn.js runs it through the JSON endpoints in
// webauthn.go.
var pageMethods = []string{"totp", "hardware", "webauthn", "recovery_code", "sms", "email"}

// webMethods keeps the methods of list the pages can take, in list's order,
// without repeats.
func webMethods(list []string) []string {
	var out []string
	for _, m := range list {
		if slices.Contains(pageMethods, m) && !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

// secondFactorState is what the second step of login carries from one
// answer to the next, in hidden fields. Only the login token matters to
// the server; the rest shapes the page, so a changed value can only
// mislead the person who changed it.
type secondFactorState struct {
	LoginToken string
	Methods    []string
	Email      string // refills the login form when the step has died
	// RootAccountID and UserName refill a sub-user's login form instead.
	RootAccountID, UserName string
	SentTo                  string // the masked address an email code went to, once sent
	Trust                   bool   // "Trust this device for 7 days" is ticked
}

// secondFactorView is the second step of login under login protection.
type secondFactorView struct {
	page
	secondFactorState
	Method  string // the method the form asks for
	Minutes int    // how long an emailed code lives
	Form    formErrors
}

func (wb *Web) newSecondFactorView(r *http.Request, st secondFactorState) secondFactorView {
	v := secondFactorView{
		page: wb.newPage(r), secondFactorState: st,
		Minutes: int(wb.auth.CodePolicy().TTL / time.Minute),
	}
	if len(st.Methods) > 0 {
		v.Method = st.Methods[0]
	}
	return v
}

// HasKey reports whether a security key is among the methods, so the page
// loads the script that runs it.
func (v secondFactorView) HasKey() bool { return slices.Contains(v.Methods, "webauthn") }

// MethodList is the methods for the hidden field.
func (v secondFactorView) MethodList() string { return strings.Join(v.Methods, ",") }

// Others are the methods the person can switch to.
func (v secondFactorView) Others() []string {
	var out []string
	for _, m := range v.Methods {
		if m != v.Method {
			out = append(out, m)
		}
	}
	return out
}

// secondFactorForm sends a GET away: the step needs the login token, which
// only ever arrives in a form.
func (wb *Web) secondFactorForm(w http.ResponseWriter, r *http.Request) error {
	if _, ok, err := wb.session(w, r); err != nil {
		return err
	} else if ok {
		return redirect(w, r, homePath)
	}
	return redirect(w, r, "/login")
}

// secondFactor handles the step's three buttons: switch method ("choose"),
// email a code ("send"), and finish with a code (the default). Problems
// answer 400, never 401; a dead login token goes back to the login form
// with 410.
func (wb *Web) secondFactor(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	st := secondFactorState{
		LoginToken: f.Get("login_token"),
		Methods:    webMethods(strings.Split(f.Get("methods"), ",")),
		Email:      strings.TrimSpace(f.Get("email")),
		SentTo:     f.Get("sent_to"),
		// A sub-user's login refills its own form.
		RootAccountID: strings.TrimSpace(f.Get("root_account_id")),
		UserName:      strings.TrimSpace(f.Get("user_name")),
		Trust:         f.Get("trust") != "",
	}
	if len(st.Methods) == 0 {
		st.Methods = []string{"email"} // every account can take an email code
	}
	v := wb.newSecondFactorView(r, st)
	if m := f.Get("method"); slices.Contains(st.Methods, m) {
		v.Method = m
	}
	switch f.Get("action") {
	case "choose":
		return wb.render(w, "secondfactor", v)
	case "send":
		if v.Method != "sms" {
			v.Method = "email"
		}
		sentTo, err := wb.auth.SendSecondFactorCode(r.Context(), st.LoginToken, v.Method, client(r))
		if err != nil {
			return wb.secondFactorProblem(w, r, v, err)
		}
		v.SentTo = sentTo
		return wb.render(w, "secondfactor", v)
	}
	if v.Method == "webauthn" {
		// A security key answers through the script's JSON endpoints; a
		// form posting here has no answer to check (and costs no attempt).
		v.Form.add("", v.text("secondfactor.webauthn_script"))
		return formAgain("secondfactor", v)
	}
	code := cleanCode(f.Get("code"))
	if code == "" {
		v.Form.add("code", v.text("secondfactor.code_missing"))
		return formAgain("secondfactor", v)
	}
	res, err := wb.auth.SecondFactor(r.Context(), auth.SecondFactorRequest{
		LoginToken: st.LoginToken, Method: v.Method, Code: code, Trust: st.Trust, Client: client(r),
	})
	if err != nil {
		return wb.secondFactorProblem(w, r, v, err)
	}
	if res.DeviceToken != "" {
		wb.cookie.setTrusted(w, res.DeviceToken)
	}
	// A sub-user may still owe a step (binding an app, a new password).
	return wb.loginStep(w, r, res, stepState{LoginToken: res.LoginToken, RootAccountID: st.RootAccountID, UserName: st.UserName})
}

// secondFactorProblem shows a failed step: the login form again when the
// login token is dead (expired, used, or out of tries), the step with the
// message otherwise.
func (wb *Web) secondFactorProblem(w http.ResponseWriter, r *http.Request, v secondFactorView, err error) error {
	if custos.IsCode(err, custos.EExpired) {
		return wb.stepExpired(r, v.Email, v.RootAccountID, v.UserName)
	}
	if !formProblem(&v.Form, v.Lang, err, "code") {
		return err
	}
	return formAgain("secondfactor", v)
}
