package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/custos/custos"
)

// securityPath is Security Settings, where a confirmation returns when its
// next parameter is not one it may follow.
const securityPath = "/account/security"

// safeNext returns next when it is a local path under /account that the
// confirmation may send the browser to, and securityPath otherwise. Only a
// path (and query) is kept: no scheme, host or fragment, no "//" or
// backslash that a browser could read as another host, no dot segments,
// and not the confirmation page itself.
func safeNext(next string) string {
	if next == "" || strings.ContainsAny(next, "\\\x00\r\n\t") || strings.HasPrefix(next, "//") {
		return securityPath
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || u.Fragment != "" {
		return securityPath
	}
	p := u.Path
	if p != "/account" && !strings.HasPrefix(p, "/account/") {
		return securityPath
	}
	if slices.Contains(strings.Split(p, "/"), "..") || slices.Contains(strings.Split(p, "/"), ".") ||
		p == "/account/verify" || strings.HasPrefix(p, "/account/verify/") {
		return securityPath
	}
	out := u.EscapedPath()
	if u.RawQuery != "" {
		out += "?" + u.RawQuery
	}
	return out
}

// verifyURL is the confirmation page that returns to next.
func verifyURL(next string) string {
	return withQuery("/account/verify", "next", next)
}

// toVerify sends the browser to confirm it's you, coming back to next.
func toVerify(w http.ResponseWriter, r *http.Request, next string) error {
	return redirect(w, r, verifyURL(next))
}

// verificationNeeded reports whether err asks for a fresh confirmation.
func verificationNeeded(err error) bool {
	return custos.IsCode(err, custos.EVerificationRequired)
}

// requireVerification checks that the session may make a sensitive change
// now. It answers (true, nil) after sending the browser to the
// confirmation page, which returns to next.
func (wb *Web) requireVerification(w http.ResponseWriter, r *http.Request, sess custos.Session, acct custos.Account, firstDevice bool, next string) (bool, error) {
	err := wb.auth.Elevated(r.Context(), sess, firstDevice)
	if verificationNeeded(err) {
		return true, toVerify(w, r, next)
	}
	return false, err
}

// confirmView is "Confirm it's you": one method at a time, the others a
// link away.
type confirmView struct {
	page
	Next    string
	Methods []string
	Method  string
	ID      string // the verification started (after a code was sent or a wrong code)
	SentTo  string // masked address a code went to
	// SendTo is the masked address a code for Method would go to, for the
	// offer to send one.
	SendTo  string
	Minutes int // how long a sent code lives
	// Back is the page the confirmation interrupted, for "Cancel".
	Back   string
	Window int // how long the confirmation lasts, in minutes
	Form   formErrors
	// Expired replaces the form: this verification can never succeed now.
	Expired        bool
	ExpiredMessage string
}

// MethodURL is the page asking for method instead.
func (v confirmView) MethodURL(method string) string {
	return "/account/verify?" + url.Values{"next": {v.Next}, "method": {method}}.Encode()
}

// Sends reports whether the method works with a code sent to the person
// (an email or a text message), which the page offers to send first.
func (v confirmView) Sends() bool { return v.Method == "email" || v.Method == "sms" }

// confirmMethods are the verification methods the page can take, in the
// order offered. Recovery codes stand in for a device at login only, and
// a security key has no verification step in the services: the page
// offers neither, and would not know how to take one.
var confirmMethods = []string{"totp", "hardware", "sms", "email"}

// Others are the methods the person can switch to.
func (v confirmView) Others() []string {
	var out []string
	for _, m := range v.Methods {
		if m != v.Method {
			out = append(out, m)
		}
	}
	return out
}

func (wb *Web) newConfirmView(r *http.Request, sess custos.Session, next, method string) (confirmView, error) {
	cfg := wb.auth.Config()
	nav, back := "security", securityPath
	switch p, _, _ := strings.Cut(next, "?"); {
	case p == accountPath || strings.HasPrefix(p, accountEmailKind.path):
		// The account email is changed under Account Information.
		nav, back = "account", accountPath
	case p == "/account/identity":
		// So is the real-name record; cancelling returns to it.
		nav, back = "account", p
	case p == "/account/sub-users" || strings.HasPrefix(p, "/account/sub-users/"):
		// A root's change to its sub-users: cancelling returns to the list.
		nav, back = "subusers", "/account/sub-users"
	case strings.HasPrefix(p, "/account/collaborators"):
		nav, back = "collaborators", "/account/collaborators"
	case strings.HasPrefix(p, "/account/collaborations"):
		nav, back = "collaborations", "/account/collaborations"
	}
	v := confirmView{
		page: wb.signedInPage(r, nav), Next: next, Back: back,
		Minutes: int(wb.auth.CodePolicy().TTL / time.Minute), Window: int(cfg.VerifiedFor / time.Minute),
	}
	acct, err := wb.auth.Account(r.Context(), sess.AccountID)
	if err != nil {
		return v, err
	}
	methods, err := wb.auth.VerificationMethods(r.Context(), acct)
	if err != nil {
		return v, err
	}
	for _, m := range methods {
		if slices.Contains(confirmMethods, m) && !slices.Contains(v.Methods, m) {
			v.Methods = append(v.Methods, m)
		}
	}
	if slices.Contains(v.Methods, method) {
		v.Method = method
	} else if len(v.Methods) > 0 {
		v.Method = v.Methods[0]
	}
	// Where a code goes, as the auth service sends it: a text to the bound
	// phone, an email to the secure email (the account email while there
	// is none).
	switch {
	case v.Method == "sms":
		v.SendTo = wb.binding.MaskPhone(acct.Phone)
	case v.Method == "email" && acct.SecureEmail != "":
		v.SendTo = custos.MaskEmail(acct.SecureEmail)
	case v.Method == "email":
		v.SendTo = custos.MaskEmail(acct.Email)
	}
	return v, nil
}

func (wb *Web) confirmForm(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	q := r.URL.Query()
	next := safeNext(q.Get("next"))
	if sess.VerifiedUntil.After(wb.clock.Now()) {
		return redirect(w, r, next) // confirmed a moment ago: nothing to ask
	}
	v, err := wb.newConfirmView(r, sess, next, q.Get("method"))
	if err != nil {
		return err
	}
	return wb.render(w, "confirm", v)
}

// confirm sends a code by email or text message ("send") or checks a code. A device method
// starts its verification here, with the code: starting one only records
// which method it is.
func (wb *Web) confirm(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	v, err := wb.newConfirmView(r, sess, safeNext(f.Get("next")), f.Get("method"))
	if err != nil {
		return err
	}
	v.ID, v.SentTo = f.Get("id"), f.Get("sent_to")
	if f.Get("action") == "send" {
		method := v.Method
		if !v.Sends() {
			method = "email"
		}
		started, err := wb.auth.StartVerification(r.Context(), sess, method, client(r))
		if err != nil {
			return wb.confirmProblem(w, v, err)
		}
		v.Method, v.ID, v.SentTo = started.Method, started.ID, started.SentTo
		return wb.render(w, "confirm", v)
	}
	code := cleanCode(f.Get("code"))
	if code == "" {
		v.Form.add("code", v.text("confirm.code_missing"))
		return formAgain("confirm", v)
	}
	if v.ID == "" {
		if v.Sends() {
			// The form for a sent code always carries its id; without one
			// there is no code to check.
			v.Form.add("", v.text("confirm.send_first"))
			return formAgain("confirm", v)
		}
		started, err := wb.auth.StartVerification(r.Context(), sess, v.Method, client(r))
		if err != nil {
			return wb.confirmProblem(w, v, err)
		}
		v.ID = started.ID
	}
	if _, err := wb.auth.CompleteVerification(r.Context(), sess, v.ID, code, client(r)); err != nil {
		return wb.confirmProblem(w, v, err)
	}
	return redirect(w, r, v.Next)
}

// confirmProblem shows a failed confirmation: 410 with a way to start
// again when the verification is gone, 400 with the message otherwise.
func (wb *Web) confirmProblem(w http.ResponseWriter, v confirmView, err error) error {
	if custos.IsCode(err, custos.EExpired) || custos.IsCode(err, custos.ENotFound) {
		v.Expired, v.ExpiredMessage = true, v.errorText(err)
		return gone("confirm", v)
	}
	if !formProblem(&v.Form, v.Lang, err, "code") {
		return err
	}
	return formAgain("confirm", v)
}
