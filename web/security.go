package web

import (
	"net/http"
	"net/url"

	"github.com/custos/custos"
	"github.com/custos/custos/mfa"
)

// securityNotices are the notices Security Settings shows after a change,
// by the done parameter of the redirect that follows it.
var securityNotices = map[string]string{
	"totp":          "security.done_totp",
	"hardware":      "security.done_hardware",
	"webauthn":      "security.done_webauthn",
	"removed":       "security.done_removed",
	"renamed":       "security.done_renamed",
	"recovery":      "security.done_recovery",
	"login_on":      "security.done_login_on",
	"login_off":     "security.done_login_off",
	"operation_on":  "security.done_operation_on",
	"operation_off": "security.done_operation_off",
	"protection":    "security.done_protection",
	"phone":         "security.done_phone",
	"secure_email":  "security.done_secure_email",
}

// securityDone is Security Settings with the notice for done.
func securityDone(done string) string { return withQuery(securityPath, "done", done) }

// securityView is Security Settings: one row per setting, each with its
// state and one action.
type securityView struct {
	page
	Account custos.Account
	Phone   string          // the bound phone, masked
	Devices []custos.Device // confirmed MFA devices, oldest first
	Form    formErrors      // a refused switch (no_second_factor)
	// AddKey is set when a confirmation returned here to add a security
	// key (add=webauthn); KeyName is the name typed before it.
	AddKey  bool
	KeyName string
}

func mfaClient(r *http.Request) mfa.Client {
	c := client(r)
	return mfa.Client{Addr: c.Addr, UserAgent: c.UserAgent}
}

func (wb *Web) newSecurityView(r *http.Request, sess custos.Session) (securityView, error) {
	v := securityView{page: wb.signedInPage(r, "security")}
	var err error
	if v.Account, err = wb.auth.Account(r.Context(), sess.AccountID); err != nil {
		return v, err
	}
	v.Phone = wb.binding.MaskPhone(v.Account.Phone)
	if v.Devices, err = wb.mfa.Devices(r.Context(), sess.AccountID); err != nil {
		return v, err
	}
	return v, nil
}

func (wb *Web) security(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	v, err := wb.newSecurityView(r, sess)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	v.Notice = securityNotices[q.Get("done")]
	if q.Get("add") == "webauthn" {
		v.AddKey, v.KeyName = true, q.Get("name")
		if v.Notice == "" {
			v.Notice = "security.webauthn_again"
		}
	}
	return wb.render(w, "security", v)
}

// protectionChange is a request to switch login and/or operation
// protection; a nil field leaves that switch as it is.
type protectionChange struct {
	Login, Operation *bool
}

// parseProtection reads the login_protection and operation_protection
// fields ("true" or "false"). ok is false when neither is there or one is
// neither word.
func parseProtection(vals url.Values) (protectionChange, bool) {
	var c protectionChange
	for _, f := range []struct {
		name string
		to   **bool
	}{{"login_protection", &c.Login}, {"operation_protection", &c.Operation}} {
		switch vals.Get(f.name) {
		case "":
		case "true":
			b := true
			*f.to = &b
		case "false":
			b := false
			*f.to = &b
		default:
			return c, false
		}
	}
	return c, c.Login != nil || c.Operation != nil
}

func (c protectionChange) apply(p custos.Protection) custos.Protection {
	if c.Login != nil {
		p.Login = *c.Login
	}
	if c.Operation != nil {
		p.Operation = *c.Operation
	}
	return p
}

// query is the change as the fields of a form or URL.
func (c protectionChange) query() url.Values {
	q := url.Values{}
	if c.Login != nil {
		q.Set("login_protection", boolField(*c.Login))
	}
	if c.Operation != nil {
		q.Set("operation_protection", boolField(*c.Operation))
	}
	return q
}

// lines are the catalogue keys that say what the change does.
func (c protectionChange) lines() []string {
	var out []string
	if c.Login != nil {
		out = append(out, "protection.login_"+onOff(*c.Login))
	}
	if c.Operation != nil {
		out = append(out, "protection.operation_"+onOff(*c.Operation))
	}
	return out
}

// done names the notice for the change.
func (c protectionChange) done() string {
	switch {
	case c.Login != nil && c.Operation != nil:
		return "protection"
	case c.Login != nil:
		return "login_" + onOff(*c.Login)
	default:
		return "operation_" + onOff(*c.Operation)
	}
}

func boolField(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// protectionView asks to make a protection change: the page a
// confirmation returns to, since it cannot repeat the button's POST.
type protectionView struct {
	page
	Changes []string // catalogue keys of what will change
	Fields  url.Values
}

// protectionForm confirms a switch after "Confirm it's you". It checks the
// confirmation first, like every sensitive page.
func (wb *Web) protectionForm(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	c, ok := parseProtection(r.URL.Query())
	if !ok {
		return redirect(w, r, securityPath)
	}
	acct, err := wb.auth.Account(r.Context(), sess.AccountID)
	if err != nil {
		return err
	}
	if sent, err := wb.requireVerification(w, r, sess, acct, false, r.URL.RequestURI()); sent || err != nil {
		return err
	}
	return wb.render(w, "protection", protectionView{
		page: wb.signedInPage(r, "security"), Changes: c.lines(), Fields: c.query(),
	})
}

// protection switches login or operation protection. Without a fresh
// confirmation it sends the browser to confirm, returning to the GET page
// of the same switch; a refusal (no MFA device to ask for) shows on
// Security Settings.
func (wb *Web) protection(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	c, ok := parseProtection(r.PostForm)
	if !ok {
		return custos.Fail(custos.EInvalidRequest, "security.protection_invalid")
	}
	acct, err := wb.auth.Account(r.Context(), sess.AccountID)
	if err != nil {
		return err
	}
	err = wb.auth.SetProtection(r.Context(), sess, c.apply(acct.Protection), client(r))
	switch {
	case err == nil:
		return redirect(w, r, securityDone(c.done()))
	case verificationNeeded(err):
		return toVerify(w, r, securityPath+"/protection?"+c.query().Encode())
	}
	v, verr := wb.newSecurityView(r, sess)
	if verr != nil {
		return verr
	}
	if !formProblem(&v.Form, v.Lang, err) {
		return err
	}
	return formAgain("security", v)
}

// SecureEmail is the secure email, masked.
func (v securityView) SecureEmail() string { return custos.MaskEmail(v.Account.SecureEmail) }

// Count is how many of the devices are of type t.
func (v securityView) Count(t string) int {
	n := 0
	for _, d := range v.Devices {
		if string(d.Type) == t {
			n++
		}
	}
	return n
}
