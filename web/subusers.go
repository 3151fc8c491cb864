package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/subaccount"
)

// The Sub-accounts pages (rule R9): a root account's team members, whose
// security settings the root manages. Every page is the root's; a
// sub-user's session, and another root's sub-user id, find nothing (the
// site's 404), as the service answers. Every change needs the root's
// fresh "confirm it's you": a form page asks for it before it is filled
// in, and a change refused for want of it sends the browser to confirm,
// returning to a page that shows the same change again (a POST cannot be
// repeated by a redirect).

const (
	subUsersPath     = "/account/sub-users"
	subUsersNewPath  = subUsersPath + "/new"
	subUsersRulePath = subUsersPath + "/rules"
	// subUsersPageSize is how many sub-users a page of the list shows.
	subUsersPageSize = 50
	// subUserActivityLimit is how many events a sub-user's page shows.
	subUserActivityLimit = 100
	// maxAgeDaysLimit is the longest password expiry the rules take, as the API.
	maxAgeDaysLimit = 3650
)

// subUserPageNames are the Sub-accounts pages, parsed with the shared
// layout beside the other pages.
var subUserPageNames = []string{
	"subusers", "subusernew", "subuser", "subuserchange", "subuserresetmfa", "subuserpassword", "subuserrules",
}

// registerSubUsers adds the Sub-accounts pages.
func (wb *Web) registerSubUsers(mux *http.ServeMux) {
	if wb.subusers == nil {
		return
	}
	wb.addSubUserPages()
	mux.Handle("GET "+subUsersPath, wb.signedIn(wb.subUsersList))
	mux.Handle("GET "+subUsersNewPath, wb.signedIn(wb.subUserNewForm))
	mux.Handle("POST "+subUsersNewPath, wb.signedIn(wb.subUserNew))
	mux.Handle("GET "+subUsersRulePath, wb.signedIn(wb.subUserRulesForm))
	mux.Handle("POST "+subUsersRulePath, wb.signedIn(wb.subUserRules))
	mux.Handle("GET "+subUsersPath+"/{id}", wb.signedIn(wb.subUserPage))
	mux.Handle("GET "+subUsersPath+"/{id}/settings", wb.signedIn(wb.subUserChangeForm))
	mux.Handle("POST "+subUsersPath+"/{id}/settings", wb.signedIn(wb.subUserChange))
	mux.Handle("GET "+subUsersPath+"/{id}/reset-mfa", wb.signedIn(wb.subUserResetMFAForm))
	mux.Handle("POST "+subUsersPath+"/{id}/reset-mfa", wb.signedIn(wb.subUserResetMFA))
	mux.Handle("GET "+subUsersPath+"/{id}/password", wb.signedIn(wb.subUserPasswordForm))
	mux.Handle("POST "+subUsersPath+"/{id}/password", wb.signedIn(wb.subUserPassword))
}

// addSubUserPages parses the Sub-accounts pages into wb.pages.
func (wb *Web) addSubUserPages() {
	wb.addPageSet([]string{"subuser_parts.html"}, subUserPageNames, nil)
}

// showsSubAccounts reports whether the navigation offers Sub-accounts to
// the signed-in account: to roots only (a sub-user has no team of its
// own).
func (wb *Web) showsSubAccounts(r *http.Request, accountID string) bool {
	return wb.subusers != nil && wb.isRoot(r, accountID)
}

// subUserPath is the page of one sub-user.
func subUserPath(id string) string { return subUsersPath + "/" + url.PathEscape(id) }

// protectionChoices are the choices of a sub-user's login and operation
// protection, in the order the pages offer them.
var protectionChoices = []string{subaccount.Off, custos.MethodMFA, custos.MethodSMS, custos.MethodEmail}

// protectionChoice is a protection as the forms spell it: "off" or its
// method (an MFA device when on with none chosen).
func protectionChoice(on bool, method string) string {
	if !on {
		return subaccount.Off
	}
	if method == "" {
		return custos.MethodMFA
	}
	return method
}

// protectionGroup is the radio group of one protection (subuser-protection
// in subuser_parts.html).
type protectionGroup struct {
	Name, Legend, Hint string
	Value              string // the choice checked
	Choices            []string
	Error              string
}

func loginGroup(value string, f formErrors) protectionGroup {
	return protectionGroup{Name: "login_protection", Legend: "subusers.field_login_prot", Hint: "subusers.field_login_hint",
		Value: value, Choices: protectionChoices, Error: f.Field("login_protection")}
}

func operationGroup(value string, f formErrors) protectionGroup {
	return protectionGroup{Name: "operation_protection", Legend: "subusers.field_operation_prot", Hint: "subusers.field_operation_hint",
		Value: value, Choices: protectionChoices, Error: f.Field("operation_protection")}
}

// subUserDone are the notices of the sub-user pages after a change, by
// the done parameter of the redirect that follows it.
var subUserDone = map[string]string{
	"created":              "subusers.done_created",
	"console_login":        "subusers.done_console_login",
	"must_bind_mfa":        "subusers.done_must_bind_mfa",
	"login_protection":     "subusers.done_login_protection",
	"operation_protection": "subusers.done_operation_protection",
	"mfa_reset":            "subusers.done_mfa_reset",
	"password":             "subusers.done_password",
	"rules":                "subusers.done_rules",
}

// ---- The list ----

// subUsersView is the list of the root's sub-users.
type subUsersView struct {
	page
	RootID   string
	Search   string
	SubUsers []custos.SubUser
	// NextURL is the next page of the list, "" on the last.
	NextURL string
	// After is the user name this page lists after ("" on the first).
	After string
}

func (wb *Web) subUsersList(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	q := r.URL.Query()
	v := subUsersView{page: wb.signedInPage(r, "subusers"), RootID: sess.AccountID,
		Search: strings.TrimSpace(q.Get("search")), After: q.Get("after")}
	v.Notice = subUserDone[q.Get("done")]
	list, err := wb.subusers.List(r.Context(), sess, custos.SubUserFilter{Search: v.Search, After: v.After, Limit: subUsersPageSize})
	if err != nil {
		return err
	}
	v.SubUsers = list
	if len(list) == subUsersPageSize {
		next := url.Values{"after": {list[len(list)-1].UserName}}
		if v.Search != "" {
			next.Set("search", v.Search)
		}
		v.NextURL = subUsersPath + "?" + next.Encode()
	}
	return wb.render(w, "subusers", v)
}

// ---- Create ----

// subUserNewView is the form of a new sub-user.
type subUserNewView struct {
	page
	RootID              string
	UserName            string
	Email               string
	ConsoleLogin        bool
	MustBindMFA         bool
	LoginProtection     string
	OperationProtection string
	Form                formErrors
}

// LoginGroup and OperationGroup are the form's protection choices.
func (v subUserNewView) LoginGroup() protectionGroup { return loginGroup(v.LoginProtection, v.Form) }
func (v subUserNewView) OperationGroup() protectionGroup {
	return operationGroup(v.OperationProtection, v.Form)
}

func (wb *Web) newSubUserNewView(r *http.Request, sess custos.Session) subUserNewView {
	return subUserNewView{page: wb.signedInPage(r, "subusers"), RootID: sess.AccountID, ConsoleLogin: true,
		LoginProtection: subaccount.Off, OperationProtection: subaccount.Off}
}

// rootOnly answers the site's 404 for a sub-user's session: nothing on
// these pages is theirs.
func (wb *Web) rootOnly(r *http.Request, sess custos.Session) error {
	acct, err := wb.auth.Account(r.Context(), sess.AccountID)
	if err != nil {
		return err
	}
	if acct.IsSubUser() {
		return custos.Fail(custos.ENotFound, "error.not_found")
	}
	return nil
}

// fresh sends the browser to confirm it's you, returning to next, when
// the session has no fresh confirmation (sent is then true).
func (wb *Web) fresh(w http.ResponseWriter, r *http.Request, sess custos.Session, next string) (bool, error) {
	return wb.requireVerification(w, r, sess, custos.Account{}, false, next)
}

func (wb *Web) subUserNewForm(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	if err := wb.rootOnly(r, sess); err != nil {
		return err
	}
	if sent, err := wb.fresh(w, r, sess, subUsersNewPath); sent || err != nil {
		return err
	}
	return wb.render(w, "subusernew", wb.newSubUserNewView(r, sess))
}

// choiceField reads a protection radio group; a word it does not offer is
// left for the service to refuse on its field.
func choiceField(f url.Values, name string) string {
	if v := f.Get(name); v != "" {
		return v
	}
	return subaccount.Off
}

func (wb *Web) subUserNew(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	v := wb.newSubUserNewView(r, sess)
	v.UserName, v.Email = strings.TrimSpace(f.Get("user_name")), strings.TrimSpace(f.Get("email"))
	v.ConsoleLogin, v.MustBindMFA = f.Get("console_login") == "1", f.Get("must_bind_mfa") == "1"
	v.LoginProtection, v.OperationProtection = choiceField(f, "login_protection"), choiceField(f, "operation_protection")
	pw := f.Get("password")
	if v.UserName == "" {
		v.Form.add("user_name", v.text("subusers.user_name_missing"))
	}
	if pw == "" {
		v.Form.add("password", v.text("subusers.password_missing"))
	}
	if v.Form.Any() {
		return formAgain("subusernew", v)
	}
	console := v.ConsoleLogin
	id, err := wb.subusers.Create(r.Context(), sess, subaccount.CreateRequest{UserName: v.UserName, Password: pw, Email: v.Email,
		ConsoleLogin: &console, MustBindMFA: v.MustBindMFA,
		LoginProtection: v.LoginProtection, OperationProtection: v.OperationProtection}, client(r))
	switch {
	case err == nil:
		return redirect(w, r, withQuery(subUserPath(id), "done", "created"))
	case verificationNeeded(err):
		return toVerify(w, r, subUsersNewPath)
	case custos.IsCode(err, custos.ENotFound):
		return err // a sub-user's session: nothing here
	}
	if !formProblem(&v.Form, v.Lang, err, "user_name", "password", "email", "login_protection", "operation_protection") {
		return err
	}
	return formAgain("subusernew", v)
}

// ---- One sub-user ----

// subUserView is one sub-user's page: its settings, each with one action,
// and its security activity.
type subUserView struct {
	page
	Account custos.Account
	SubUser custos.SubUser
	Devices int // confirmed MFA devices
	// LoginProtection and OperationProtection are the choices as they
	// stand ("off", "mfa", "sms", "email").
	LoginProtection, OperationProtection string
	Events                               []custos.AuditEvent // newest first
	Form                                 formErrors
}

// LoginGroup and OperationGroup are the protection forms' choices.
func (v subUserView) LoginGroup() protectionGroup { return loginGroup(v.LoginProtection, v.Form) }
func (v subUserView) OperationGroup() protectionGroup {
	return operationGroup(v.OperationProtection, v.Form)
}

// Path is the sub-user's page.
func (v subUserView) Path() string { return subUserPath(v.SubUser.AccountID) }

// MFABound reports whether the sub-user has an MFA device and owes no
// binding.
func (v subUserView) MFABound() bool { return v.Devices > 0 && !v.SubUser.MustBindMFA }

// SecureEmail is the sub-user's own email, masked.
func (v subUserView) SecureEmail() string { return custos.MaskEmail(v.Account.SecureEmail) }

func (wb *Web) newSubUserView(r *http.Request, sess custos.Session, id string) (subUserView, error) {
	v := subUserView{page: wb.signedInPage(r, "subusers")}
	var err error
	if v.Account, v.SubUser, err = wb.subusers.Get(r.Context(), sess, id); err != nil {
		return v, err
	}
	devices, err := wb.mfa.Devices(r.Context(), v.SubUser.AccountID)
	if err != nil {
		return v, err
	}
	v.Devices = len(devices)
	p := v.Account.Protection
	v.LoginProtection = protectionChoice(p.Login, p.LoginMethod)
	v.OperationProtection = protectionChoice(p.Operation, p.OperationMethod)
	if v.Events, err = wb.subusers.Activity(r.Context(), sess, id, subUserActivityLimit); err != nil {
		return v, err
	}
	return v, nil
}

func (wb *Web) subUserPage(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	v, err := wb.newSubUserView(r, sess, r.PathValue("id"))
	if err != nil {
		return err
	}
	v.Notice = subUserDone[r.URL.Query().Get("done")]
	return wb.render(w, "subuser", v)
}

// subUserChangeSet is a change of one or more of a sub-user's settings,
// read from the fields console_login and must_bind_mfa ("true" or
// "false"), login_protection and operation_protection (protectionChoices).
type subUserChangeSet struct {
	set   subaccount.Settings
	query url.Values // the change as fields, for the confirmation page
	lines []string   // catalogue keys of what will change
	done  string
}

func parseSubUserChange(vals url.Values) (subUserChangeSet, bool) {
	c := subUserChangeSet{query: url.Values{}}
	for _, b := range []struct {
		name string
		to   **bool
	}{{"console_login", &c.set.ConsoleLogin}, {"must_bind_mfa", &c.set.MustBindMFA}} {
		switch vals.Get(b.name) {
		case "":
			continue
		case "true":
			t := true
			*b.to = &t
		case "false":
			f := false
			*b.to = &f
		default:
			return c, false
		}
		c.query.Set(b.name, vals.Get(b.name))
		c.lines = append(c.lines, "subusers.change."+b.name+"_"+vals.Get(b.name))
		c.done = b.name
	}
	for _, p := range []struct {
		name string
		to   **string
	}{{"login_protection", &c.set.LoginProtection}, {"operation_protection", &c.set.OperationProtection}} {
		m := vals.Get(p.name)
		if m == "" {
			continue
		}
		ok := false
		for _, choice := range protectionChoices {
			ok = ok || choice == m
		}
		if !ok {
			return c, false
		}
		*p.to = &m
		c.query.Set(p.name, m)
		c.lines = append(c.lines, "subusers.change."+p.name+"."+m)
		c.done = p.name
	}
	return c, len(c.lines) > 0
}

// subUserChangeView confirms a change of settings: the page a
// confirmation returns to.
type subUserChangeView struct {
	page
	SubUser custos.SubUser
	Changes []string
	Fields  url.Values
}

func (wb *Web) subUserChangeForm(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	id := r.PathValue("id")
	_, su, err := wb.subusers.Get(r.Context(), sess, id)
	if err != nil {
		return err
	}
	c, ok := parseSubUserChange(r.URL.Query())
	if !ok {
		return redirect(w, r, subUserPath(id))
	}
	if sent, err := wb.fresh(w, r, sess, r.URL.RequestURI()); sent || err != nil {
		return err
	}
	return wb.render(w, "subuserchange", subUserChangeView{page: wb.signedInPage(r, "subusers"), SubUser: su,
		Changes: c.lines, Fields: c.query})
}

func (wb *Web) subUserChange(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id := r.PathValue("id")
	c, ok := parseSubUserChange(r.PostForm)
	if !ok {
		if _, _, err := wb.subusers.Get(r.Context(), sess, id); err != nil {
			return err
		}
		return custos.Fail(custos.EInvalidRequest, "subuser.protection")
	}
	err := wb.subusers.Update(r.Context(), sess, id, c.set, client(r))
	switch {
	case err == nil:
		return redirect(w, r, withQuery(subUserPath(id), "done", c.done))
	case verificationNeeded(err):
		return toVerify(w, r, subUserPath(id)+"/settings?"+c.query.Encode())
	case custos.IsCode(err, custos.ENotFound):
		return err
	}
	v, verr := wb.newSubUserView(r, sess, id)
	if verr != nil {
		return verr
	}
	if !formProblem(&v.Form, v.Lang, err, "login_protection", "operation_protection") {
		return err
	}
	return formAgain("subuser", v)
}

// ---- Reset MFA ----

// subUserResetMFAView asks once more before a sub-user's MFA is reset,
// naming what is lost.
type subUserResetMFAView struct {
	page
	SubUser custos.SubUser
	Devices int
}

func (wb *Web) subUserResetMFAForm(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	id := r.PathValue("id")
	_, su, err := wb.subusers.Get(r.Context(), sess, id)
	if err != nil {
		return err
	}
	if sent, err := wb.fresh(w, r, sess, subUserPath(id)+"/reset-mfa"); sent || err != nil {
		return err
	}
	devices, err := wb.mfa.Devices(r.Context(), su.AccountID)
	if err != nil {
		return err
	}
	return wb.render(w, "subuserresetmfa", subUserResetMFAView{page: wb.signedInPage(r, "subusers"), SubUser: su, Devices: len(devices)})
}

func (wb *Web) subUserResetMFA(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id := r.PathValue("id")
	err := wb.subusers.ResetMFA(r.Context(), sess, id, client(r))
	switch {
	case err == nil:
		return redirect(w, r, withQuery(subUserPath(id), "done", "mfa_reset"))
	case verificationNeeded(err):
		return toVerify(w, r, subUserPath(id)+"/reset-mfa")
	}
	return err
}

// ---- Reset password ----

// subUserPasswordView is the reset of a sub-user's password: the form
// (choose one, or generate one), or, after a generated one, the password
// shown this once.
type subUserPasswordView struct {
	page
	SubUser    custos.SubUser
	Generate   bool // the choice on the form
	MustChange bool
	// Generated is the new password, shown only on the answer to the
	// reset that made it; never stored, never in a URL.
	Generated string
	Form      formErrors
}

func (wb *Web) newSubUserPasswordView(r *http.Request, su custos.SubUser) subUserPasswordView {
	return subUserPasswordView{page: wb.signedInPage(r, "subusers"), SubUser: su, Generate: true, MustChange: true}
}

func (wb *Web) subUserPasswordForm(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	id := r.PathValue("id")
	_, su, err := wb.subusers.Get(r.Context(), sess, id)
	if err != nil {
		return err
	}
	if sent, err := wb.fresh(w, r, sess, subUserPath(id)+"/password"); sent || err != nil {
		return err
	}
	return wb.render(w, "subuserpassword", wb.newSubUserPasswordView(r, su))
}

func (wb *Web) subUserPassword(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id := r.PathValue("id")
	_, su, err := wb.subusers.Get(r.Context(), sess, id)
	if err != nil {
		return err
	}
	f := r.PostForm
	v := wb.newSubUserPasswordView(r, su)
	v.Generate, v.MustChange = f.Get("mode") != "choose", f.Get("must_change") == "1"
	chosen := ""
	if !v.Generate {
		if chosen = f.Get("password"); chosen == "" {
			v.Form.add("password", v.text("subusers.password_missing"))
			return formAgain("subuserpassword", v)
		}
	}
	generated, err := wb.subusers.ResetPassword(r.Context(), sess, id, chosen, v.MustChange, client(r))
	switch {
	case err == nil && generated != "":
		v.Generated = generated
		return wb.render(w, "subuserpassword", v)
	case err == nil:
		return redirect(w, r, withQuery(subUserPath(id), "done", "password"))
	case verificationNeeded(err):
		return toVerify(w, r, subUserPath(id)+"/password")
	}
	if !formProblem(&v.Form, v.Lang, err, "password") {
		return err
	}
	return formAgain("subuserpassword", v)
}

// ---- Password rules ----

// subUserRulesView is the form of the root's password rules for its
// sub-users: each number as typed, blank for the product's default.
type subUserRulesView struct {
	page
	MinLength, Classes, History, RetryLimit, MaxAgeDays string
	// Shortest and Longest bound the minimum length.
	Shortest, Longest int
	Form              formErrors
}

// numberInput is one box of the rules form (subuser-number).
type numberInput struct {
	Name, Label, Hint, Value, Error string
}

// ruleHints are the hints of the rules form's boxes.
var ruleHints = map[string]string{
	"min_length": "subusers.rules_min_hint", "classes": "subusers.rules_classes_hint", "history": "subusers.rules_history_hint",
	"retry_limit": "subusers.rules_retry_hint", "max_age_days": "subusers.rules_max_hint",
}

// Number is the box of the field name, labelled by the key label.
func (v subUserRulesView) Number(name, label, value string) numberInput {
	in := numberInput{Name: name, Label: label, Value: value, Error: v.Form.Field(name)}
	if name == "min_length" {
		in.Hint = v.text(ruleHints[name], v.Shortest, v.Longest, v.Shortest)
	} else {
		in.Hint = v.text(ruleHints[name])
	}
	return in
}

func numberField(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

func (wb *Web) subUserRulesForm(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	rules, err := wb.subusers.Rules(r.Context(), sess)
	if err != nil {
		return err
	}
	if sent, err := wb.fresh(w, r, sess, subUsersRulePath); sent || err != nil {
		return err
	}
	v := wb.newSubUserRulesView(r)
	v.MinLength, v.Classes, v.History = numberField(rules.MinLength), strconv.Itoa(rules.Classes), strconv.Itoa(rules.History)
	v.RetryLimit, v.MaxAgeDays = numberField(rules.RetryLimit), numberField(int(rules.MaxAge/(24*time.Hour)))
	v.Notice = subUserDone[r.URL.Query().Get("done")]
	return wb.render(w, "subuserrules", v)
}

func (wb *Web) newSubUserRulesView(r *http.Request) subUserRulesView {
	return subUserRulesView{page: wb.signedInPage(r, "subusers"), Shortest: subaccount.MinPasswordLength, Longest: subaccount.MaxPasswordLength}
}

func (wb *Web) subUserRules(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	if _, err := wb.subusers.Rules(r.Context(), sess); err != nil {
		return err // a sub-user's session: nothing here
	}
	f := r.PostForm
	v := wb.newSubUserRulesView(r)
	v.MinLength, v.Classes, v.History = strings.TrimSpace(f.Get("min_length")), strings.TrimSpace(f.Get("classes")), strings.TrimSpace(f.Get("history"))
	v.RetryLimit, v.MaxAgeDays = strings.TrimSpace(f.Get("retry_limit")), strings.TrimSpace(f.Get("max_age_days"))
	// number reads a whole number, blank as 0; a field that holds
	// anything else, or a number beyond hi, gets the key's text.
	number := func(field, value string, lo, hi int, key string, args ...any) int {
		if value == "" {
			return 0
		}
		n, err := strconv.Atoi(value)
		if err != nil || n < lo || n > hi {
			v.Form.add(field, v.text(key, args...))
			return 0
		}
		return n
	}
	rules := custos.PasswordRules{
		MinLength:  number("min_length", v.MinLength, v.Shortest, v.Longest, "subuser.rule_min_length", v.Shortest, v.Longest),
		Classes:    number("classes", v.Classes, 0, 4, "subuser.rule_classes"),
		History:    number("history", v.History, 0, 24, "subuser.rule_history"),
		RetryLimit: number("retry_limit", v.RetryLimit, 1, 10, "subusers.rules_retry_limit"),
		MaxAge:     time.Duration(number("max_age_days", v.MaxAgeDays, 1, maxAgeDaysLimit, "subusers.rules_max_age", maxAgeDaysLimit)) * 24 * time.Hour,
	}
	if v.Form.Any() {
		return formAgain("subuserrules", v)
	}
	err := wb.subusers.SetRules(r.Context(), sess, rules, client(r))
	switch {
	case err == nil:
		return redirect(w, r, withQuery(subUsersPath, "done", "rules"))
	case verificationNeeded(err):
		return toVerify(w, r, subUsersRulePath)
	}
	if !formProblem(&v.Form, v.Lang, err, "min_length", "classes", "history", "retry_limit", "max_age_days") {
		return err
	}
	return formAgain("subuserrules", v)
}
