package web

import (
	"net/http"
	"slices"

	"github.com/custos/custos"
	"github.com/custos/custos/identity"
)

// accountView is Account Information.
type accountView struct {
	page
	Account custos.Account
	// Identity is the real-name record, for its row (nil when the pages
	// run without the identity service).
	Identity *identity.Status
}

// IdentityAction is the catalogue key of the real-name row's one action.
func (v accountView) IdentityAction() string {
	switch v.Identity.State {
	case custos.IdentityNone:
		return "account.identity_action.none"
	case custos.IdentityRejected:
		return "account.identity_action.rejected"
	}
	return "account.identity_action.view"
}

func (wb *Web) account(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	acct, err := wb.auth.Account(r.Context(), sess.AccountID)
	if err != nil {
		return err
	}
	v := accountView{page: wb.signedInPage(r, "account"), Account: acct}
	if wb.identity != nil && !acct.IsSubUser() {
		// A sub-user has no real-name record of its own: no row.
		st, err := wb.identity.Status(r.Context(), sess)
		if err != nil {
			return err
		}
		v.Identity = &st
	}
	if r.URL.Query().Get("done") == "email" {
		v.Notice = "account.done_email"
	}
	return wb.render(w, "account", v)
}

// deviceRow is one signed-in session on the devices page.
type deviceRow struct {
	custos.Session
	Current bool // the session of the browser looking at the page
}

// devicesView is Signed-in devices.
type devicesView struct {
	page
	Sessions []deviceRow // this device first, then newest first
}

func (wb *Web) devices(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	all, err := wb.auth.Sessions(r.Context(), sess.AccountID)
	if err != nil {
		return err
	}
	v := devicesView{page: wb.signedInPage(r, "devices")}
	for _, s := range all {
		v.Sessions = append(v.Sessions, deviceRow{Session: s, Current: s.ID == sess.ID})
	}
	slices.SortStableFunc(v.Sessions, func(a, b deviceRow) int {
		switch {
		case a.Current == b.Current:
			return 0
		case a.Current:
			return -1
		}
		return 1
	})
	if r.URL.Query().Get("revoked") == "1" {
		v.Notice = "devices.revoked"
	}
	return wb.render(w, "devices", v)
}

// revokeView asks once more before signing a device out.
type revokeView struct {
	page
	Session custos.Session
}

// otherSession returns the account's live session id, refusing the
// request's own: that one ends with Log out.
func (wb *Web) otherSession(r *http.Request, sess custos.Session, id string) (custos.Session, error) {
	if id == sess.ID {
		return custos.Session{}, custos.Fail(custos.EInvalidRequest, "devices.is_current")
	}
	all, err := wb.auth.Sessions(r.Context(), sess.AccountID)
	if err != nil {
		return custos.Session{}, err
	}
	for _, s := range all {
		if s.ID == id {
			return s, nil
		}
	}
	return custos.Session{}, custos.Fail(custos.ENotFound, "devices.gone")
}

func (wb *Web) revokeConfirm(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	other, err := wb.otherSession(r, sess, r.PathValue("id"))
	if err != nil {
		return err
	}
	return wb.render(w, "revoke", revokeView{page: wb.signedInPage(r, "devices"), Session: other})
}

func (wb *Web) revoke(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	id := r.PathValue("id")
	if id == sess.ID {
		return custos.Fail(custos.EInvalidRequest, "devices.is_current")
	}
	if err := wb.auth.RevokeSession(r.Context(), sess.AccountID, id, client(r)); err != nil {
		return err
	}
	return redirect(w, r, "/account/devices?revoked=1")
}

// activityView is Security activity.
type activityView struct {
	page
	Events []custos.AuditEvent // newest first
}

// activityLimit is how many events the page shows.
const activityLimit = 100

func (wb *Web) activity(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	events, err := wb.auth.Activity(r.Context(), sess.AccountID, activityLimit)
	if err != nil {
		return err
	}
	return wb.render(w, "activity", activityView{page: wb.signedInPage(r, "activity"), Events: events})
}
