package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/custos/custos"
	"github.com/custos/custos/recovery"
)

// The public recovery pages: Find my accounts (R1) and Forgot password.
// Each starts with a form that always carries a captcha (these flows send
// codes to anyone who asks, so the rule is a captcha every time), goes on
// to a code page at /find-accounts/{id} or /forgot-password/{id}, and ends
// at the new-password step, /forgot-password/{id}/password, which both
// share: a proven phone may reset any account it reaches. The flow id
// travels in the path and the step's state in hidden fields; a code never
// appears in a URL. Until a code is proven, every answer is the same
// whether or not an account matches.

const (
	findPath      = "/find-accounts"
	forgotPath    = "/forgot-password"
	resetDonePath = forgotPath + "/done"
)

func recoveryClient(r *http.Request) recovery.Client {
	c := client(r)
	return recovery.Client{Addr: c.Addr, UserAgent: c.UserAgent}
}

// captchaAnswer reads the form's captcha, or nil when it has none.
func captchaAnswer(f url.Values) *recovery.CaptchaAnswer {
	id := f.Get("captcha_id")
	if id == "" {
		return nil
	}
	return &recovery.CaptchaAnswer{ID: id, Answer: strings.TrimSpace(f.Get("captcha_answer"))}
}

// flowCaptcha is the captcha for a re-rendered start form: the one a
// captcha_required answer carries, or a fresh one (a captcha answers once,
// so any answer the service looked at is spent).
func (wb *Web) flowCaptcha(r *http.Request, err error, newURL string) (*captchaView, error) {
	var ce *custos.Error
	if errors.As(err, &ce) && ce.Code == custos.ECaptchaRequired {
		if c, ok := ce.Fields["captcha"].(map[string]string); ok && c["id"] != "" {
			v := wb.captchaView(c["id"], "")
			v.NewURL = newURL
			return v, nil
		}
	}
	c, cerr := wb.auth.NewCaptcha(r.Context(), client(r))
	if cerr != nil {
		return nil, cerr
	}
	v := wb.captchaView(c.ID, "")
	v.NewURL = newURL
	return v, nil
}

// flowCodeView asks for the code of an anonymous flow.
type flowCodeView struct {
	page
	codeState
	Flow   string // "find" or "forgot": the catalogue keys' middle
	Action string // this page
	Start  string // the flow's first page
	Form   formErrors
	// Expired replaces the form: this flow can never succeed now.
	Expired        bool
	ExpiredMessage string
}

// findView is Find my accounts: a phone number and a captcha.
type findView struct {
	page
	Phone   string
	Captcha *captchaView
	Form    formErrors
}

func (wb *Web) findForm(w http.ResponseWriter, r *http.Request) error {
	v := findView{page: wb.newPage(r)}
	var err error
	if v.Captcha, err = wb.flowCaptcha(r, nil, findPath); err != nil {
		return err
	}
	return wb.render(w, "find", v)
}

// find sends a code to the number, or (action "again", from the code
// page) shows the form again with the number filled in and a new captcha.
func (wb *Web) find(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	v := findView{page: wb.newPage(r), Phone: strings.TrimSpace(f.Get("phone"))}
	var err error
	switch {
	case f.Get("action") == "again":
	case v.Phone == "":
		v.Form.add("phone", v.text("find.phone_missing"))
	default:
		var id string
		id, err = wb.recoveries.StartRetrieve(r.Context(), v.Phone, captchaAnswer(f), client(r))
		if err == nil {
			// The number as the service texted it, for the mask; it parsed
			// there, so it parses here.
			to, _ := wb.binding.NormalizePhone(v.Phone)
			wb.cookie.setPending(w, pendingCode{ID: id, To: to, Field: "phone", Value: v.Phone, Sent: wb.clock.Now()}, wb.binding.CodePolicy().TTL)
			return redirect(w, r, findPath+"/"+url.PathEscape(id))
		}
		if !formProblemOr(&v.Form, v.Lang, err, "phone", "phone", "captcha_answer") {
			return err
		}
	}
	if v.Captcha, err = wb.flowCaptcha(r, err, findPath); err != nil {
		return err
	}
	if v.Form.Any() {
		return formAgain("find", v)
	}
	return wb.render(w, "find", v)
}

func (wb *Web) newFlowCodeView(r *http.Request, flow, start, id string, mask func(string) string) flowCodeView {
	return flowCodeView{
		page: wb.newPage(r), codeState: wb.newCodeState(r, id, mask), Flow: flow,
		Action: start + "/" + url.PathEscape(id), Start: start,
	}
}

func (wb *Web) findCodeForm(w http.ResponseWriter, r *http.Request) error {
	return wb.render(w, "flowcode", wb.newFlowCodeView(r, "find", findPath, r.PathValue("id"), wb.binding.MaskPhone))
}

// findCode proves the number and lists its accounts.
func (wb *Web) findCode(w http.ResponseWriter, r *http.Request) error {
	return wb.flowCode(w, r, "find", findPath, wb.binding.MaskPhone, wb.recoveries.FinishRetrieve)
}

// flowCode proves the code of an anonymous flow and shows where it leads:
// the accounts the proven channel reaches, or, for a reset that reaches
// exactly one, straight to its new password.
func (wb *Web) flowCode(w http.ResponseWriter, r *http.Request, flow, start string, mask func(string) string,
	finish func(ctx context.Context, id, code string, c recovery.Client) ([]recovery.FoundAccount, error)) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id := r.PathValue("id")
	v := wb.newFlowCodeView(r, flow, start, id, mask)
	code := cleanCode(r.PostForm.Get("code"))
	if code == "" {
		v.Form.add("code", v.text("code.missing"))
		return formAgain("flowcode", v)
	}
	found, err := finish(r.Context(), id, code, client(r))
	switch {
	case err == nil:
	case custos.IsCode(err, custos.EExpired):
		v.Expired, v.ExpiredMessage = true, v.errorText(err)
		return gone("flowcode", v)
	case formProblem(&v.Form, v.Lang, err, "code"):
		return formAgain("flowcode", v)
	default:
		return err
	}
	wb.cookie.clearPending(w)
	if flow == "forgot" && len(found) == 1 {
		return wb.render(w, "newpassword", wb.newPasswordView(r, id, stateOf(found[0]), ""))
	}
	av := accountsView{page: wb.newPage(r), Flow: flow, ID: id}
	for _, f := range found {
		av.Accounts = append(av.Accounts, foundRow{FoundAccount: f, State: stateOf(f)})
	}
	return wb.render(w, "accounts", av)
}

// accountsView lists the accounts a proven phone reaches (R1), each with
// a way on to reset its password.
type accountsView struct {
	page
	Flow     string // "find" or "forgot"
	ID       string // the proven flow
	Accounts []foundRow
}

type foundRow struct {
	recovery.FoundAccount
	State resetState // for the "Reset its password" form
}

// forgotView is Forgot password: the account email or a phone number, and
// a captcha.
type forgotView struct {
	page
	Email, Phone string
	Captcha      *captchaView
	Form         formErrors
}

func (wb *Web) forgotForm(w http.ResponseWriter, r *http.Request) error {
	v := forgotView{page: wb.newPage(r)}
	var err error
	if v.Captcha, err = wb.flowCaptcha(r, nil, forgotPath); err != nil {
		return err
	}
	return wb.render(w, "forgot", v)
}

// forgot sends a code to the phone or email on file of the account the
// email or number names. The answer is the same when none matches: the
// code page that follows says only "if an account matches".
func (wb *Web) forgot(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	v := forgotView{page: wb.newPage(r), Email: strings.TrimSpace(f.Get("email")), Phone: strings.TrimSpace(f.Get("phone"))}
	var err error
	switch {
	case f.Get("action") == "again":
	case v.Email == "" && v.Phone == "":
		v.Form.add("email", v.text("forgot.missing"))
	case v.Email != "" && v.Phone != "":
		v.Form.add("email", v.text("forgot.both"))
	default:
		field, value := "email", v.Email
		if v.Phone != "" {
			field, value = "phone", v.Phone
		}
		var id string
		id, err = wb.recoveries.StartReset(r.Context(), v.Email, v.Phone, captchaAnswer(f), client(r))
		if err == nil {
			// Where the code went is the account's business: the page names
			// what was typed (masked) and how a code goes from there, the
			// same whether or not an account matches; the cookie keeps what
			// was typed for that and for "send a new code".
			to := custos.NormalizeEmail(value)
			if field == "phone" {
				to, _ = wb.binding.NormalizePhone(value) // it parsed in the service
			}
			wb.cookie.setPending(w, pendingCode{ID: id, To: to, Field: field, Value: value, Sent: wb.clock.Now()}, wb.binding.CodePolicy().TTL)
			return redirect(w, r, forgotPath+"/"+url.PathEscape(id))
		}
		if !formProblemOr(&v.Form, v.Lang, err, field, "email", "phone", "captcha_answer") {
			return err
		}
	}
	if v.Captcha, err = wb.flowCaptcha(r, err, forgotPath); err != nil {
		return err
	}
	if v.Form.Any() {
		return formAgain("forgot", v)
	}
	return wb.render(w, "forgot", v)
}

func (wb *Web) forgotCodeForm(w http.ResponseWriter, r *http.Request) error {
	return wb.render(w, "flowcode", wb.newFlowCodeView(r, "forgot", forgotPath, r.PathValue("id"), wb.maskTyped(r, r.PathValue("id"))))
}

// maskTyped masks what was typed on Forgot password for flow id: a phone
// number as one, an email as one.
func (wb *Web) maskTyped(r *http.Request, id string) func(string) string {
	if p, ok := wb.cookie.pendingFor(r, id); ok && p.Field == "phone" {
		return wb.binding.MaskPhone
	}
	return custos.MaskEmail
}

func (wb *Web) forgotCode(w http.ResponseWriter, r *http.Request) error {
	return wb.flowCode(w, r, "forgot", forgotPath, wb.maskTyped(r, r.PathValue("id")), wb.recoveries.FinishResetCode)
}

// resetMethods are the codes the new-password step can take besides the
// password, in the order offered.
var resetMethods = []string{"totp", "hardware", "recovery_code"}

// resetState is what the new-password step carries in hidden fields: the
// account chosen and what it needs, as the proven flow described it. Only
// the account id matters to the server, which checks it against the flow
// and asks for MFA itself; the rest shapes the page.
type resetState struct {
	AccountID string
	Email     string // masked
	NeedsMFA  bool
	Methods   []string // MFA codes the reset can take
	SelfServe bool     // false: only support can help
}

func stateOf(f recovery.FoundAccount) resetState {
	return resetState{
		AccountID: f.ID, Email: f.MaskedEmail, NeedsMFA: f.NeedsMFA,
		Methods: keepMethods(f.MFAMethods), SelfServe: f.CanSelfServe,
	}
}

func keepMethods(list []string) []string {
	var out []string
	for _, m := range resetMethods {
		if slices.Contains(list, m) {
			out = append(out, m)
		}
	}
	return out
}

func readResetState(f url.Values) resetState {
	return resetState{
		AccountID: f.Get("account_id"), Email: f.Get("account_email"),
		NeedsMFA: f.Get("needs_mfa") == "true", Methods: keepMethods(strings.Split(f.Get("mfa_methods"), ",")),
		SelfServe: f.Get("self_serve") != "false",
	}
}

// MethodList is the methods for the hidden field.
func (s resetState) MethodList() string { return strings.Join(s.Methods, ",") }

// NeedsMFAField and SelfServeField are the hidden fields' values.
func (s resetState) NeedsMFAField() string  { return strconv.FormatBool(s.NeedsMFA) }
func (s resetState) SelfServeField() string { return strconv.FormatBool(s.SelfServe) }

// newPasswordView is the last step of a reset: a new password, and a code
// from an MFA device or a recovery code when the account has MFA.
type newPasswordView struct {
	page
	resetState
	ID        string // the proven flow
	Action    string
	Method    string // the MFA code asked for; "" when none is
	MinLength int
	Form      formErrors
	// Expired replaces the form: the proven flow is gone.
	Expired        bool
	ExpiredMessage string
}

func (wb *Web) newPasswordView(r *http.Request, id string, st resetState, method string) newPasswordView {
	v := newPasswordView{
		page: wb.newPage(r), resetState: st, ID: id, Action: forgotPath + "/" + url.PathEscape(id) + "/password",
		MinLength: wb.auth.PasswordMinLength(),
	}
	if st.NeedsMFA && len(st.Methods) > 0 {
		v.Method = st.Methods[0]
		if slices.Contains(st.Methods, method) {
			v.Method = method
		}
	}
	return v
}

// Others are the MFA methods the person can switch to.
func (v newPasswordView) Others() []string {
	var out []string
	for _, m := range v.Methods {
		if m != v.Method {
			out = append(out, m)
		}
	}
	return out
}

// newPasswordForm sends a GET to the start: the step needs the state a
// proven code leads to, which only ever arrives in a form.
func (wb *Web) newPasswordForm(w http.ResponseWriter, r *http.Request) error {
	return redirect(w, r, forgotPath)
}

// newPassword shows the step for the account chosen (action "choose", also
// to switch the MFA method) or sets the new password.
func (wb *Web) newPassword(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	st := readResetState(f)
	if st.AccountID == "" {
		return redirect(w, r, forgotPath)
	}
	id := r.PathValue("id")
	v := wb.newPasswordView(r, id, st, f.Get("mfa_method"))
	if f.Get("action") == "choose" || !st.SelfServe {
		return wb.render(w, "newpassword", v)
	}
	pw := f.Get("password")
	code := strings.TrimSpace(f.Get("code"))
	if v.Method != "recovery_code" {
		code = cleanCode(code)
	}
	if pw == "" {
		v.Form.add("password", v.text("newpassword.password_missing"))
	}
	if v.Method != "" && code == "" {
		v.Form.add("code", v.text("newpassword.code_missing"))
	}
	if v.Form.Any() {
		return formAgain("newpassword", v)
	}
	err := wb.recoveries.CompleteReset(r.Context(), id, st.AccountID, pw, v.Method, code, client(r))
	switch {
	case err == nil:
		return redirect(w, r, resetDonePath)
	case custos.IsCode(err, custos.EExpired):
		v.Expired, v.ExpiredMessage = true, v.errorText(err)
		return gone("newpassword", v)
	case custos.IsCode(err, custos.EVerificationRequired):
		// The account has MFA the form did not ask for (it was added since,
		// or the hidden fields were changed): ask for it now.
		var methods []string
		var ce *custos.Error
		if errors.As(err, &ce) {
			methods, _ = ce.Fields["methods"].([]string)
		}
		st.NeedsMFA, st.Methods = true, keepMethods(methods)
		st.SelfServe = len(st.Methods) > 0
		v = wb.newPasswordView(r, id, st, v.Method)
		v.Form.add("code", v.errorText(err))
		return formAgain("newpassword", v)
	case custos.IsCode(err, custos.ENotFound):
		return err // an account the flow does not reach: a changed form
	case formProblemOr(&v.Form, v.Lang, err, "", "password", "code"):
		return formAgain("newpassword", v)
	}
	return err
}

// resetDone says the password is changed and where to log in.
func (wb *Web) resetDone(w http.ResponseWriter, r *http.Request) error {
	return wb.render(w, "resetdone", wb.newPage(r))
}
