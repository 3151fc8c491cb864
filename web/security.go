package web

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/custos/custos"
	"github.com/custos/custos/message"
	"github.com/custos/custos/mfa"
)

// securityNotices are the notices Security Settings shows after a change,
// by the done parameter of the redirect that follows it.
var securityNotices = map[string]string{
	"totp":             "security.done_totp",
	"hardware":         "security.done_hardware",
	"webauthn":         "security.done_webauthn",
	"removed":          "security.done_removed",
	"renamed":          "security.done_renamed",
	"recovery":         "security.done_recovery",
	"login_on":         "security.done_login_on",
	"login_off":        "security.done_login_off",
	"operation_on":     "security.done_operation_on",
	"operation_off":    "security.done_operation_off",
	"protection":       "security.done_protection",
	"login_method":     "security.done_login_method",
	"operation_method": "security.done_operation_method",
	"phone":            "security.done_phone",
	"secure_email":     "security.done_secure_email",
	"new_device_on":    "alerts.done_new_device_on",
	"new_device_off":   "alerts.done_new_device_off",
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
	Form    formErrors      // a refused switch (no_second_factor) or method
	// LoginMethod and OperationMethod are the protection methods as they
	// stand (auth.Service.ChosenMethods): "" when there is none to show.
	LoginMethod, OperationMethod string
	// AddKey is set when a confirmation returned here to add a security
	// key (add=webauthn); KeyName is the name typed before it.
	AddKey  bool
	KeyName string
	// SubUser is set for a sub-user (R9): it has no account email (its
	// own email is the secure email), and the protection its root set
	// stays on.
	SubUser bool
	// NewDeviceStep is the holder's switch that a sign-in from a new
	// device needs the second step even without login protection.
	NewDeviceStep bool
	// WebAuthn is set when security keys can work here (configured, and a
	// secure context); otherwise the page does not offer adding one.
	WebAuthn bool
}

// SetByAdmin reports whether a protection ("login" or "operation") is one
// the sub-user's root set: on, and not to be turned off by the sub-user
// (the auth service refuses that with subuser.cannot_lower_protection).
func (v securityView) SetByAdmin(which string) bool {
	if !v.SubUser {
		return false
	}
	if which == "login" {
		return v.Account.Protection.Login
	}
	return v.Account.Protection.Operation
}

// AdminMethod is the method the root fixed for a protection it set, or
// "" when the sub-user may choose it.
func (v securityView) AdminMethod(which string) string {
	if !v.SetByAdmin(which) {
		return ""
	}
	if which == "login" {
		return v.Account.Protection.LoginMethod
	}
	return v.Account.Protection.OperationMethod
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
	v.SubUser = v.Account.IsSubUser()
	v.Phone = wb.binding.MaskPhone(v.Account.Phone)
	if v.Devices, err = wb.mfa.Devices(r.Context(), sess.AccountID); err != nil {
		return v, err
	}
	if v.LoginMethod, v.OperationMethod, err = wb.auth.ChosenMethods(r.Context(), v.Account); err != nil {
		return v, err
	}
	if v.NewDeviceStep, err = wb.auth.NewDeviceStep(r.Context(), v.Account); err != nil {
		return v, err
	}
	v.WebAuthn = wb.mfa.WebAuthnReady()
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
// protection, or to choose the method of either (R8, "as the holder
// chose"); a nil field leaves that setting as it is.
type protectionChange struct {
	Login, Operation             *bool
	LoginMethod, OperationMethod *string
	// NewDevice is the switch that a new device needs the second step
	// (the new_device_step field); a form sends it alone.
	NewDevice *bool
}

// protectionMethods are the methods a holder may choose, in the order the
// page offers them.
var protectionMethods = []string{custos.MethodMFA, custos.MethodSMS, custos.MethodEmail}

// parseProtection reads the login_protection and operation_protection
// fields ("true" or "false") and the login_method and operation_method
// fields (one of protectionMethods). ok is false when none is there or one
// holds another word.
func parseProtection(vals url.Values) (protectionChange, bool) {
	var c protectionChange
	for _, f := range []struct {
		name string
		to   **bool
	}{{"login_protection", &c.Login}, {"operation_protection", &c.Operation}, {"new_device_step", &c.NewDevice}} {
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
	for _, f := range []struct {
		name string
		to   **string
	}{{"login_method", &c.LoginMethod}, {"operation_method", &c.OperationMethod}} {
		switch m := vals.Get(f.name); {
		case m == "":
		case slices.Contains(protectionMethods, m):
			*f.to = &m
		default:
			return c, false
		}
	}
	return c, c.Login != nil || c.Operation != nil || c.LoginMethod != nil || c.OperationMethod != nil || c.NewDevice != nil
}

func (c protectionChange) apply(p custos.Protection) custos.Protection {
	if c.Login != nil {
		p.Login = *c.Login
	}
	if c.Operation != nil {
		p.Operation = *c.Operation
	}
	if c.LoginMethod != nil {
		p.LoginMethod = *c.LoginMethod
	}
	if c.OperationMethod != nil {
		p.OperationMethod = *c.OperationMethod
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
	if c.LoginMethod != nil {
		q.Set("login_method", *c.LoginMethod)
	}
	if c.OperationMethod != nil {
		q.Set("operation_method", *c.OperationMethod)
	}
	if c.NewDevice != nil {
		q.Set("new_device_step", boolField(*c.NewDevice))
	}
	return q
}

// lines are the catalogue keys that say what the change does.
func (c protectionChange) lines() []string {
	var out []string
	if c.Login != nil {
		out = append(out, "protection.login_"+onOff(*c.Login))
	}
	if c.LoginMethod != nil {
		out = append(out, "protection.login_method."+*c.LoginMethod)
	}
	if c.Operation != nil {
		out = append(out, "protection.operation_"+onOff(*c.Operation))
	}
	if c.OperationMethod != nil {
		out = append(out, "protection.operation_method."+*c.OperationMethod)
	}
	if c.NewDevice != nil {
		out = append(out, "alerts.change_new_device_"+onOff(*c.NewDevice))
	}
	return out
}

// done names the notice for the change.
func (c protectionChange) done() string {
	var one []string
	if c.Login != nil {
		one = append(one, "login_"+onOff(*c.Login))
	}
	if c.Operation != nil {
		one = append(one, "operation_"+onOff(*c.Operation))
	}
	if c.LoginMethod != nil {
		one = append(one, "login_method")
	}
	if c.OperationMethod != nil {
		one = append(one, "operation_method")
	}
	if c.NewDevice != nil {
		one = append(one, "new_device_"+onOff(*c.NewDevice))
	}
	if len(one) == 1 {
		return one[0]
	}
	return "protection"
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
		// A method form sent with no method picked (or one it does not
		// offer): say so next to it.
		if f := r.PostForm.Get("method_for"); f == "login" || f == "operation" {
			err := custos.Fail(custos.EInvalidRequest, "security.method_missing").OnField(f + "_method")
			return wb.securityAgain(r, sess, err)
		}
		return custos.Fail(custos.EInvalidRequest, "security.protection_invalid")
	}
	acct, err := wb.auth.Account(r.Context(), sess.AccountID)
	if err != nil {
		return err
	}
	if c.NewDevice != nil && c.Login == nil && c.Operation == nil && c.LoginMethod == nil && c.OperationMethod == nil {
		err = wb.auth.SetNewDeviceStep(r.Context(), sess, *c.NewDevice, client(r))
	} else {
		err = wb.auth.SetProtection(r.Context(), sess, c.apply(acct.Protection), client(r))
	}
	switch {
	case err == nil:
		return redirect(w, r, securityDone(c.done()))
	case verificationNeeded(err):
		return toVerify(w, r, securityPath+"/protection?"+c.query().Encode())
	}
	return wb.securityAgain(r, sess, err)
}

// securityAgain shows Security Settings with a refused change: next to
// the method it is about (login_method, operation_method), or at the top.
func (wb *Web) securityAgain(r *http.Request, sess custos.Session, err error) error {
	v, verr := wb.newSecurityView(r, sess)
	if verr != nil {
		return verr
	}
	if !formProblem(&v.Form, v.Lang, err, "login_method", "operation_method") {
		return err
	}
	return formAgain("security", v)
}

// methodChoice is one method a protection's form offers.
type methodChoice struct {
	Value     string // custos.MethodMFA, MethodSMS or MethodEmail
	Chosen    bool   // the method as it stands
	Available bool   // the account has what the method needs
	// Hint says what the method asks for; Needs, shown when it is not
	// available, what to add first (catalogue keys).
	Hint, Needs string
}

// methodForm is the form that chooses one protection's method.
type methodForm struct {
	For     string // "login" or "operation": its field is For+"_method"
	Choices []methodChoice
	Form    formErrors
}

// LoginMethodForm chooses the method of the second step of login.
func (v securityView) LoginMethodForm() methodForm {
	return methodForm{For: "login", Choices: v.loginMethods(), Form: v.Form}
}

// OperationMethodForm chooses the method of "confirm it's you" under
// operation protection.
func (v securityView) OperationMethodForm() methodForm {
	return methodForm{For: "operation", Choices: v.operationMethods(), Form: v.Form}
}

// loginMethods are the choices for the second step of login: an MFA device
// (any, or a recovery code) once one is bound, SMS once a phone is, email
// always.
func (v securityView) loginMethods() []methodChoice {
	return v.methodChoices(v.LoginMethod, len(v.Devices) > 0, "login_mfa", "mfa")
}

// operationMethods are the choices for "confirm it's you" under operation
// protection: an MFA device only when one gives codes (an app or a token;
// a security key confirms nothing), SMS once a phone is bound, email
// always.
func (v securityView) operationMethods() []methodChoice {
	return v.methodChoices(v.OperationMethod, v.Count(string(custos.DeviceTOTP))+v.Count(string(custos.DeviceHardware)) > 0,
		"operation_mfa", "operation_mfa")
}

func (v securityView) methodChoices(chosen string, mfaOK bool, mfaHint, mfaNeeds string) []methodChoice {
	out := make([]methodChoice, 0, len(protectionMethods))
	for _, m := range protectionMethods {
		c := methodChoice{Value: m, Chosen: m == chosen, Hint: "security.method_hint." + m}
		switch m {
		case custos.MethodMFA:
			c.Available = mfaOK
			c.Hint, c.Needs = "security.method_hint."+mfaHint, "security.method_needs."+mfaNeeds
		case custos.MethodSMS:
			c.Available, c.Needs = v.Account.Phone != "", "security.method_needs.sms"
		default:
			// Every account has an email; a sub-user only its own, the
			// secure email.
			c.Available, c.Needs = !v.SubUser || v.Account.SecureEmail != "", "security.method_needs.email"
		}
		out = append(out, c)
	}
	return out
}

// SecureEmail is the secure email, masked.
func (v securityView) SecureEmail() string { return custos.MaskEmail(v.Account.SecureEmail) }

// SameAsType reports whether a device's name is just its type's words
// (the default name), so its card need not say the type twice.
func (v securityView) SameAsType(d custos.Device) bool {
	return d.Name == message.For(v.Lang).Text("mfa.type."+string(d.Type))
}

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
