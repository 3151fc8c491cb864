package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/custos/custos"
)

// The Collaborators pages (rule R9). A root account invites an existing
// account by its login email to work in the root's account, and sets what
// the collaborator's session must have passed to work there; the emailed
// link, opened while signed in to the invited account, accepts; the
// collaborator switches into the root's account and back; either side
// ends it. The root's side is /account/collaborators, the collaborator's
// /account/collaborations. As the service answers, a session that is not
// a root's (a sub-user's, or one working in another account) finds no
// Collaborators page (the site's 404).
//
// Invites and changes need the root's fresh "confirm it's you": a form
// page asks for it before it is filled in, and a change refused for want
// of it sends the browser to confirm, returning to a page that shows the
// same change again (a POST cannot be repeated by a redirect). Switching
// into an account whose root asks for a second step does the same when
// the session has passed none.

const (
	collaboratorsPath  = "/account/collaborators"
	collabInvitePath   = collaboratorsPath + "/invite"
	collaborationsPath = "/account/collaborations"
	collabAcceptPath   = collaborationsPath + "/accept"
	collabSwitchPath   = collaborationsPath + "/switch"
	// collabAddMFAPath is where a person adds the MFA device a root asks
	// for.
	collabAddMFAPath = "/account/security/totp"
	// afterLoginAge is how long the signed-out visit to an invitation
	// link is remembered for the login that follows.
	afterLoginAge = 30 * time.Minute
)

// The cookie that remembers the invitation link a signed-out person
// opened, so that the login brings them back to it.
const (
	secureAfterLoginCookie   = "__Host-custos_after_login"
	insecureAfterLoginCookie = "custos_after_login"
)

// collabPageNames are the Collaborators pages, parsed with the shared
// layout and collab_parts.html.
var collabPageNames = []string{
	"collabs", "collabchange", "collabend", "collabmine", "collabaccept", "collabswitch", "collableave",
}

// registerCollabs adds the Collaborators pages.
func (wb *Web) registerCollabs(mux *http.ServeMux) {
	if wb.collabs == nil {
		return
	}
	wb.addCollabPages()
	mux.Handle("GET "+collaboratorsPath, wb.signedIn(wb.collaborators))
	mux.Handle("POST "+collaboratorsPath, wb.signedIn(wb.collabInvite))
	mux.Handle("GET "+collabInvitePath, wb.signedIn(wb.collabInviteForm))
	mux.Handle("GET "+collaboratorsPath+"/{id}/change", wb.signedIn(wb.collabChangeForm))
	mux.Handle("POST "+collaboratorsPath+"/{id}/change", wb.signedIn(wb.collabChange))
	mux.Handle("GET "+collaboratorsPath+"/{id}/end", wb.signedIn(wb.collabEndForm))
	mux.Handle("POST "+collaboratorsPath+"/{id}/end", wb.signedIn(wb.collabEnd))

	mux.Handle("GET "+collaborationsPath, wb.signedIn(wb.collaborations))
	mux.Handle("GET "+collabAcceptPath, wb.handle(wb.collabAcceptForm))
	mux.Handle("POST "+collabAcceptPath, wb.signedIn(wb.collabAccept))
	mux.Handle("GET "+collabSwitchPath, wb.signedIn(wb.collabSwitchForm))
	mux.Handle("POST "+collabSwitchPath, wb.signedIn(wb.collabSwitch))
	mux.Handle("GET "+collaborationsPath+"/{id}/leave", wb.signedIn(wb.collabLeaveForm))
	mux.Handle("POST "+collaborationsPath+"/{id}/leave", wb.signedIn(wb.collabLeave))
}

// addCollabPages parses the Collaborators pages into wb.pages.
func (wb *Web) addCollabPages() {
	wb.addPageSet([]string{"collab_parts.html"}, collabPageNames, nil)
}

// showsCollaborators reports whether the navigation offers the
// Collaborators pages to the signed-in account: to roots (not sub-users).
func (wb *Web) showsCollaborators(r *http.Request, accountID string) bool {
	return wb.collabs != nil && wb.isRoot(r, accountID)
}

// collabChoices are the choices of what a root requires of a
// collaborator, in the order the forms offer them.
var collabChoices = []string{collabOff, custos.MethodMFA, custos.MethodSMS, custos.MethodEmail}

// collabOff is the choice of no requirement, as the service spells it.
const collabOff = "off"

// collabChoice is a requirement as the forms spell it: "off" or its
// method (an MFA device when on with none chosen).
func collabChoice(on bool, method string) string {
	if !on {
		return collabOff
	}
	if method == "" {
		return custos.MethodMFA
	}
	return method
}

// validCollabChoice reports whether v is one of collabChoices.
func validCollabChoice(v string) bool {
	for _, c := range collabChoices {
		if v == c {
			return true
		}
	}
	return false
}

// collabGroup is the radio group of one requirement (collab-protection in
// collab_parts.html).
type collabGroup struct {
	Name, Legend, Hint string
	Value              string // the choice checked
	Choices            []string
	Error              string
}

func collabLoginGroup(value string, f formErrors) collabGroup {
	return collabGroup{Name: "login_protection", Legend: "collabs.field_login", Hint: "collabs.field_login_hint",
		Value: value, Choices: collabChoices, Error: f.Field("login_protection")}
}

func collabOperationGroup(value string, f formErrors) collabGroup {
	return collabGroup{Name: "operation_protection", Legend: "collabs.field_operation", Hint: "collabs.field_operation_hint",
		Value: value, Choices: collabChoices, Error: f.Field("operation_protection")}
}

// collabRow is one collaboration as the pages list it.
type collabRow struct {
	ID            string
	RootAccountID string
	Email         string // masked
	State         string
	Login         string // a collabChoices value
	Operation     string
	Since         time.Time // accepted, or invited while not yet accepted
}

func newCollabRow(c custos.Collaboration) collabRow {
	row := collabRow{
		ID: c.ID, RootAccountID: c.RootAccountID, Email: custos.MaskEmail(c.InviteEmail), State: c.State,
		Login:     collabChoice(c.Protection.Login, c.Protection.LoginMethod),
		Operation: collabChoice(c.Protection.Operation, c.Protection.OperationMethod),
		Since:     c.CreatedAt,
	}
	if !c.AcceptedAt.IsZero() {
		row.Since = c.AcceptedAt
	}
	return row
}

// Off reports whether the collaborator needs nothing more.
func (c collabRow) Off() bool { return c.Login == collabOff && c.Operation == collabOff }

// collabPath is the page of one of the root's collaborators, with what
// follows ("change", "end").
func collabPath(id, what string) string {
	return collaboratorsPath + "/" + url.PathEscape(id) + "/" + what
}

// collabDone are the notices after a change, by the done parameter of
// the redirect that follows it.
var collabDone = map[string]string{
	"invited":  "collabs.done_invited",
	"changed":  "collabs.done_changed",
	"ended":    "collabs.done_ended",
	"accepted": "collabs.done_accepted",
	"switched": "collabs.done_switched",
	"back":     "collabs.done_back",
	"left":     "collabs.done_left",
}

// doneNotice is the notice key of the request's done parameter, or "".
func doneNotice(r *http.Request) string { return collabDone[r.URL.Query().Get("done")] }

// inviteFields is the invitation as typed.
type inviteFields struct {
	Email, Login, Operation string
}

// query is the invitation as the invite page's query, to show it again.
func (f inviteFields) query() url.Values {
	return url.Values{"email": {f.Email}, "login_protection": {f.Login}, "operation_protection": {f.Operation}}
}

func readInvite(vals url.Values) inviteFields {
	f := inviteFields{
		Email: strings.TrimSpace(vals.Get("email")),
		Login: vals.Get("login_protection"), Operation: vals.Get("operation_protection"),
	}
	if f.Login == "" {
		f.Login = collabOff
	}
	if f.Operation == "" {
		f.Operation = collabOff
	}
	return f
}

// collabsView is the root's Collaborators page: the list and the
// invitation form.
type collabsView struct {
	page
	Rows   []collabRow
	Invite inviteFields
	// Again is set when the page shows an invitation to send again after
	// "confirm it's you": the form comes first and has the focus.
	Again bool
	Form  formErrors
}

func (v collabsView) LoginGroup() collabGroup { return collabLoginGroup(v.Invite.Login, v.Form) }
func (v collabsView) OperationGroup() collabGroup {
	return collabOperationGroup(v.Invite.Operation, v.Form)
}

func (wb *Web) newCollabsView(r *http.Request, sess custos.Session, f inviteFields) (collabsView, error) {
	v := collabsView{page: wb.signedInPage(r, "collaborators"), Invite: f}
	list, err := wb.collabs.OfRoot(r.Context(), sess)
	if err != nil {
		return v, err
	}
	for _, c := range list {
		v.Rows = append(v.Rows, newCollabRow(c))
	}
	return v, nil
}

func (wb *Web) collaborators(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	v, err := wb.newCollabsView(r, sess, readInvite(url.Values{}))
	if err != nil {
		return err
	}
	v.Notice = doneNotice(r)
	return wb.render(w, "collabs", v)
}

// collabInviteForm is the invitation again, filled in as the query says,
// after "confirm it's you".
func (wb *Web) collabInviteForm(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	v, err := wb.newCollabsView(r, sess, readInvite(r.URL.Query()))
	if err != nil {
		return err
	}
	if sent, err := wb.requireVerification(w, r, sess, custos.Account{}, false, r.URL.RequestURI()); sent || err != nil {
		return err
	}
	v.Again = true
	return wb.render(w, "collabs", v)
}

func (wb *Web) collabInvite(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := readInvite(r.PostForm)
	v, err := wb.newCollabsView(r, sess, f)
	if err != nil {
		return err
	}
	if f.Email == "" {
		v.Form.add("email", v.text("collabs.email_missing"))
	}
	if !validCollabChoice(f.Login) {
		v.Form.add("login_protection", v.text("collabs.choice_missing"))
	}
	if !validCollabChoice(f.Operation) {
		v.Form.add("operation_protection", v.text("collabs.choice_missing"))
	}
	if v.Form.Any() {
		return formAgain("collabs", v)
	}
	_, err = wb.collabs.Invite(r.Context(), sess, f.Email, f.Login, f.Operation, client(r))
	switch {
	case err == nil:
		return redirect(w, r, withQuery(collaboratorsPath, "done", "invited"))
	case verificationNeeded(err):
		return toVerify(w, r, collabInvitePath+"?"+f.query().Encode())
	case custos.IsCode(err, custos.ENotFound):
		return err
	}
	if !formProblem(&v.Form, v.Lang, err, "email", "login_protection", "operation_protection") {
		return err
	}
	return formAgain("collabs", v)
}

// rootCollab finds the root's collaboration id, or the site's 404.
func (wb *Web) rootCollab(r *http.Request, sess custos.Session, id string) (custos.Collaboration, error) {
	list, err := wb.collabs.OfRoot(r.Context(), sess)
	if err != nil {
		return custos.Collaboration{}, err
	}
	for _, c := range list {
		if c.ID == id {
			return c, nil
		}
	}
	return custos.Collaboration{}, custos.Fail(custos.ENotFound, "")
}

// collabChangeView changes what the root requires of one collaborator.
type collabChangeView struct {
	page
	Row       collabRow
	Login     string
	Operation string
	Form      formErrors
}

func (v collabChangeView) LoginGroup() collabGroup { return collabLoginGroup(v.Login, v.Form) }
func (v collabChangeView) OperationGroup() collabGroup {
	return collabOperationGroup(v.Operation, v.Form)
}

// Action is where the form posts.
func (v collabChangeView) Action() string { return collabPath(v.Row.ID, "change") }

func (wb *Web) newCollabChangeView(r *http.Request, sess custos.Session, vals url.Values) (collabChangeView, error) {
	c, err := wb.rootCollab(r, sess, r.PathValue("id"))
	if err != nil {
		return collabChangeView{}, err
	}
	row := newCollabRow(c)
	v := collabChangeView{page: wb.signedInPage(r, "collaborators"), Row: row, Login: row.Login, Operation: row.Operation}
	if l := vals.Get("login_protection"); l != "" {
		v.Login = l
	}
	if o := vals.Get("operation_protection"); o != "" {
		v.Operation = o
	}
	return v, nil
}

func (wb *Web) collabChangeForm(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	v, err := wb.newCollabChangeView(r, sess, r.URL.Query())
	if err != nil {
		return err
	}
	if sent, err := wb.requireVerification(w, r, sess, custos.Account{}, false, r.URL.RequestURI()); sent || err != nil {
		return err
	}
	return wb.render(w, "collabchange", v)
}

func (wb *Web) collabChange(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	v, err := wb.newCollabChangeView(r, sess, r.PostForm)
	if err != nil {
		return err
	}
	if !validCollabChoice(v.Login) {
		v.Form.add("login_protection", v.text("collabs.choice_missing"))
	}
	if !validCollabChoice(v.Operation) {
		v.Form.add("operation_protection", v.text("collabs.choice_missing"))
	}
	if v.Form.Any() {
		return formAgain("collabchange", v)
	}
	err = wb.collabs.SetProtection(r.Context(), sess, v.Row.ID, v.Login, v.Operation, client(r))
	switch {
	case err == nil:
		return redirect(w, r, withQuery(collaboratorsPath, "done", "changed"))
	case verificationNeeded(err):
		q := url.Values{"login_protection": {v.Login}, "operation_protection": {v.Operation}}
		return toVerify(w, r, collabPath(v.Row.ID, "change")+"?"+q.Encode())
	case custos.IsCode(err, custos.ENotFound):
		return err
	}
	if !formProblem(&v.Form, v.Lang, err, "login_protection", "operation_protection") {
		return err
	}
	return formAgain("collabchange", v)
}

// collabEndView asks once more before the root ends a collaboration.
type collabEndView struct {
	page
	Row collabRow
}

// Action is where the form posts.
func (v collabEndView) Action() string { return collabPath(v.Row.ID, "end") }

func (wb *Web) collabEndForm(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	c, err := wb.rootCollab(r, sess, r.PathValue("id"))
	if err != nil {
		return err
	}
	return wb.render(w, "collabend", collabEndView{page: wb.signedInPage(r, "collaborators"), Row: newCollabRow(c)})
}

func (wb *Web) collabEnd(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	c, err := wb.rootCollab(r, sess, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := wb.collabs.End(r.Context(), sess, c.ID, client(r)); err != nil {
		return err
	}
	return redirect(w, r, withQuery(collaboratorsPath, "done", "ended"))
}
