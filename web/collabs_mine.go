package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/custos/custos"
)

// The collaborator's side of the Collaborators pages: the accounts this
// account works in, the invitation link, switching in and back, leaving.

// collabMineView is "Work in other accounts".
type collabMineView struct {
	page
	Rows []collabRow
	// Acting is the root account this session works in, "" for its own.
	ActingIn string
	// Problem is a refused switch; NeedsMFA adds the way to add the MFA
	// device the root asks for.
	Problem  string
	NeedsMFA bool
}

func (wb *Web) newCollabMineView(r *http.Request, sess custos.Session) (collabMineView, error) {
	v := collabMineView{page: wb.signedInPage(r, "collaborations"), ActingIn: sess.ActingRootAccountID}
	list, err := wb.collabs.Mine(r.Context(), sess)
	if err != nil {
		return v, err
	}
	for _, c := range list {
		v.Rows = append(v.Rows, newCollabRow(c))
	}
	return v, nil
}

func (wb *Web) collaborations(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	v, err := wb.newCollabMineView(r, sess)
	if err != nil {
		return err
	}
	v.Notice = doneNotice(r)
	return wb.render(w, "collabmine", v)
}

// mineCollab finds one of the account's collaborations by id, or the
// site's 404.
func (wb *Web) mineCollab(r *http.Request, sess custos.Session, match func(custos.Collaboration) bool) (custos.Collaboration, error) {
	list, err := wb.collabs.Mine(r.Context(), sess)
	if err != nil {
		return custos.Collaboration{}, err
	}
	for _, c := range list {
		if match(c) {
			return c, nil
		}
	}
	return custos.Collaboration{}, custos.Fail(custos.ENotFound, "")
}

// collabSwitchView asks to work in a root's account, after "confirm it's
// you" sent the person away from the list.
type collabSwitchView struct {
	page
	Row collabRow
}

func (wb *Web) collabSwitchForm(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	root := r.URL.Query().Get("root_account_id")
	if root == "" {
		return redirect(w, r, collaborationsPath)
	}
	c, err := wb.mineCollab(r, sess, func(c custos.Collaboration) bool { return c.RootAccountID == root })
	if err != nil {
		return err
	}
	return wb.render(w, "collabswitch", collabSwitchView{page: wb.signedInPage(r, "collaborations"), Row: newCollabRow(c)})
}

// collabSwitch works in the root account the form names, or with an
// empty one back in the session's own.
func (wb *Web) collabSwitch(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	root := strings.TrimSpace(r.PostForm.Get("root_account_id"))
	err := wb.collabs.SwitchInto(r.Context(), sess, root, client(r))
	switch {
	case err == nil && (root == "" || root == sess.AccountID):
		return redirect(w, r, withQuery(collaborationsPath, "done", "back"))
	case err == nil:
		return redirect(w, r, withQuery(collaborationsPath, "done", "switched"))
	case verificationNeeded(err):
		return toVerify(w, r, withQuery(collabSwitchPath, "root_account_id", root))
	case custos.IsCode(err, custos.ENoSecondFactor):
		v, verr := wb.newCollabMineView(r, sess)
		if verr != nil {
			return verr
		}
		v.Problem, v.NeedsMFA = v.errorText(err), true
		return formAgain("collabmine", v)
	}
	return err
}

// collabLeaveView asks once more before the collaborator leaves.
type collabLeaveView struct {
	page
	Row collabRow
}

// Action is where the form posts.
func (v collabLeaveView) Action() string {
	return collaborationsPath + "/" + url.PathEscape(v.Row.ID) + "/leave"
}

func (wb *Web) collabLeaveForm(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	id := r.PathValue("id")
	c, err := wb.mineCollab(r, sess, func(c custos.Collaboration) bool { return c.ID == id })
	if err != nil {
		return err
	}
	return wb.render(w, "collableave", collabLeaveView{page: wb.signedInPage(r, "collaborations"), Row: newCollabRow(c)})
}

func (wb *Web) collabLeave(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id := r.PathValue("id")
	c, err := wb.mineCollab(r, sess, func(c custos.Collaboration) bool { return c.ID == id })
	if err != nil {
		return err
	}
	if err := wb.collabs.End(r.Context(), sess, c.ID, client(r)); err != nil {
		return err
	}
	return redirect(w, r, withQuery(collaborationsPath, "done", "left"))
}

// ---- The invitation link ----

// collabAcceptView asks whether to accept an invitation.
type collabAcceptView struct {
	page
	Token string
	From  string // the root account the invitation comes from
}

// collabAcceptForm is the emailed link. Signed out, it remembers itself
// for the login that follows; signed in, it names the account the
// invitation comes from (to the invited account only) and asks.
func (wb *Web) collabAcceptForm(w http.ResponseWriter, r *http.Request) error {
	sess, ok, err := wb.session(w, r)
	if err != nil {
		return err
	}
	token := r.URL.Query().Get("token")
	if !ok {
		if token != "" {
			wb.rememberAfterLogin(w, withQuery(collabAcceptPath, "token", token))
		}
		return redirect(w, r, "/login")
	}
	r = signedInRequest(r, sess)
	if token == "" {
		return custos.Fail(custos.EExpired, "collab.invite_dead")
	}
	col, err := wb.collabs.Invitation(r.Context(), sess, token)
	if err != nil {
		return err
	}
	return wb.render(w, "collabaccept", collabAcceptView{page: wb.signedInPage(r, "collaborations"), Token: token, From: col.RootAccountID})
}

func (wb *Web) collabAccept(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	token := r.PostForm.Get("token")
	if token == "" {
		return custos.Fail(custos.EExpired, "collab.invite_dead")
	}
	if _, err := wb.collabs.Accept(r.Context(), sess, token, client(r)); err != nil {
		return err
	}
	return redirect(w, r, withQuery(collaborationsPath, "done", "accepted"))
}

// ---- Back after login ----

func (c cookieConfig) afterLoginName() string {
	if c.secure {
		return secureAfterLoginCookie
	}
	return insecureAfterLoginCookie
}

// rememberAfterLogin keeps next for the login that follows, for a short
// while.
func (wb *Web) rememberAfterLogin(w http.ResponseWriter, next string) {
	http.SetCookie(w, &http.Cookie{
		Name: wb.cookie.afterLoginName(), Value: url.QueryEscape(next), Path: "/", MaxAge: int(afterLoginAge.Seconds()),
		Secure: wb.cookie.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// afterLogin returns the page a signed-out visit asked to come back to,
// when r is the Account Information page every login lands on, and
// forgets it; "" otherwise. Only an invitation link is followed.
func (wb *Web) afterLogin(w http.ResponseWriter, r *http.Request) string {
	if r.Method != http.MethodGet || r.URL.Path != homePath {
		return ""
	}
	k, err := r.Cookie(wb.cookie.afterLoginName())
	if err != nil {
		return ""
	}
	http.SetCookie(w, &http.Cookie{
		Name: wb.cookie.afterLoginName(), Value: "", Path: "/", MaxAge: -1,
		Secure: wb.cookie.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	next, err := url.QueryUnescape(k.Value)
	if err != nil {
		return ""
	}
	if next = safeNext(next); !strings.HasPrefix(next, collabAcceptPath+"?") {
		return ""
	}
	return next
}
