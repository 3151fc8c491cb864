package web

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/custos/custos"
	"github.com/custos/custos/auth"
	"github.com/custos/custos/identity"
)

// accountView is Account Information.
type accountView struct {
	page
	Account custos.Account
	// Identity is the real-name record, for its row (nil when the pages
	// run without the identity service).
	Identity *identity.Status
	// TimeZone is the time zone field's value: the saved zone, or what
	// was typed when it is shown again with its problem.
	TimeZone string
	Form     formErrors
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

// accountPage is Account Information as it stands.
func (wb *Web) accountPage(r *http.Request, sess custos.Session) (accountView, error) {
	acct, err := wb.auth.Account(r.Context(), sess.AccountID)
	if err != nil {
		return accountView{}, err
	}
	v := accountView{page: wb.signedInPage(r, "account"), Account: acct, TimeZone: acct.TimeZone}
	if v.TimeZone == "" {
		v.TimeZone = "UTC"
	}
	if wb.identity != nil && !acct.IsSubUser() {
		// A sub-user has no real-name record of its own: no row.
		st, err := wb.identity.Status(r.Context(), sess)
		if err != nil {
			return accountView{}, err
		}
		v.Identity = &st
	}
	return v, nil
}

func (wb *Web) account(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	v, err := wb.accountPage(r, sess)
	if err != nil {
		return err
	}
	switch r.URL.Query().Get("done") {
	case "email":
		v.Notice = "account.done_email"
	case "time_zone":
		v.Notice = "overview.tz_saved"
	}
	return wb.render(w, "account", v)
}

// deviceRow is one signed-in session on the devices page.
type deviceRow struct {
	custos.Session
	Current bool // the session of the browser looking at the page
}

// trustedRow is one trusted browser on the devices page.
type trustedRow struct {
	custos.TrustedDevice
	Current bool // the browser looking at the page
}

// devicesView is Signed-in devices.
type devicesView struct {
	page
	Sessions []deviceRow  // this device first, then newest first
	Trusted  []trustedRow // newest first
}

// Others reports whether any session but this one is signed in.
func (v devicesView) Others() bool { return len(v.Sessions) > 1 }

// devicesNotices are the notices of the devices page, by its done parameter.
var devicesNotices = map[string]string{
	"revoked": "devices.revoked", "others": "overview.others_revoked", "forgot": "overview.trust_forgotten",
}

func (wb *Web) devices(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	all, err := wb.auth.Sessions(r.Context(), sess.AccountID)
	if err != nil {
		return err
	}
	trusted, err := wb.auth.TrustedDevices(r.Context(), sess.AccountID)
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
	mine := ""
	if tok := wb.cookie.trustedToken(r); tok != "" {
		mine = custos.SecretID(tok)
	}
	for _, d := range trusted {
		v.Trusted = append(v.Trusted, trustedRow{TrustedDevice: d, Current: d.ID == mine})
	}
	if r.URL.Query().Get("revoked") == "1" {
		v.Notice = "devices.revoked"
	}
	if k, ok := devicesNotices[r.URL.Query().Get("done")]; ok {
		v.Notice = k
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

// revokeOthersView asks once more before signing every other device out,
// naming them.
type revokeOthersView struct {
	page
	Sessions []custos.Session // the others, newest first
}

func (wb *Web) revokeOthersConfirm(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	all, err := wb.auth.Sessions(r.Context(), sess.AccountID)
	if err != nil {
		return err
	}
	v := revokeOthersView{page: wb.signedInPage(r, "devices")}
	for _, s := range all {
		if s.ID != sess.ID {
			v.Sessions = append(v.Sessions, s)
		}
	}
	return wb.render(w, "revokeothers", v)
}

func (wb *Web) revokeOthers(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	if _, err := wb.auth.RevokeOtherSessions(r.Context(), sess, client(r)); err != nil {
		return err
	}
	return redirect(w, r, withQuery(devicesPath, "done", "others"))
}

// devicesPath is Signed-in devices.
const devicesPath = "/account/devices"

// forgetView asks once more before forgetting a trusted browser.
type forgetView struct {
	page
	Device trustedRow
}

// trustedDevice returns one of the account's trusted browsers.
func (wb *Web) trustedDevice(r *http.Request, sess custos.Session, id string) (trustedRow, error) {
	list, err := wb.auth.TrustedDevices(r.Context(), sess.AccountID)
	if err != nil {
		return trustedRow{}, err
	}
	for _, d := range list {
		if d.ID == id {
			tok := wb.cookie.trustedToken(r)
			return trustedRow{TrustedDevice: d, Current: tok != "" && custos.SecretID(tok) == d.ID}, nil
		}
	}
	return trustedRow{}, custos.Fail(custos.ENotFound, "overview.trust_gone")
}

func (wb *Web) forgetConfirm(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	d, err := wb.trustedDevice(r, sess, r.PathValue("id"))
	if err != nil {
		return err
	}
	return wb.render(w, "forget", forgetView{page: wb.signedInPage(r, "devices"), Device: d})
}

func (wb *Web) forget(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	if err := wb.auth.ForgetTrustedDevice(r.Context(), sess.AccountID, r.PathValue("id"), client(r)); err != nil {
		return err
	}
	return redirect(w, r, withQuery(devicesPath, "done", "forgot"))
}

// activityView is Security activity: one page of events, newest first,
// with the filter that chose them.
type activityView struct {
	page
	Events []custos.AuditEvent
	Kinds  []string // the kinds the filter offers
	Kind   string   // the chosen kind, "" for all
	From   string   // the first day, YYYY-MM-DD in the viewer's zone, or ""
	To     string   // the last day (inclusive), or ""
	Before string   // this page's cursor, "" on the first page
	Older  string   // the next page's address, "" on the last page
	Newest string   // the first page's address, with the same filter
	Form   formErrors
}

// Filtered reports whether the filter narrows the list.
func (v activityView) Filtered() bool { return v.Kind != "" || v.From != "" || v.To != "" }

// activityPage is how many events one page shows.
const activityPage = auth.DefaultActivityPage

func (wb *Web) activity(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	q := r.URL.Query()
	v := activityView{page: wb.signedInPage(r, "activity"), Kinds: auth.ActivityKindNames,
		Kind: q.Get("kind"), From: q.Get("from"), To: q.Get("to"), Before: q.Get("before")}
	if _, ok := auth.ActivityKinds[v.Kind]; !ok && v.Kind != "" {
		v.Form.add("kind", v.text("overview.bad_kind"))
	}
	from, okFrom := dayIn(v.From, v.Zone)
	if !okFrom {
		v.Form.add("from", v.text("overview.bad_date"))
	}
	to, okTo := dayIn(v.To, v.Zone)
	if !okTo {
		v.Form.add("to", v.text("overview.bad_date"))
	}
	if !to.IsZero() {
		to = to.AddDate(0, 0, 1) // the last day is the whole day
	}
	if okFrom && okTo && !from.IsZero() && !to.IsZero() && !from.Before(to) {
		v.Form.add("to", v.text("overview.bad_range"))
	}
	if v.Form.Any() {
		return formAgain("activity", v)
	}
	// One more than a page tells whether an older page has any event.
	events, err := wb.auth.ActivityPage(r.Context(), sess.AccountID, v.Kind, from, to, v.Before, activityPage+1)
	if err != nil {
		return err
	}
	more := len(events) > activityPage
	events = events[:min(len(events), activityPage)]
	v.Events = events
	filter := url.Values{}
	for k, val := range map[string]string{"kind": v.Kind, "from": v.From, "to": v.To} {
		if val != "" {
			filter.Set(k, val)
		}
	}
	v.Newest = activityPath
	if len(filter) > 0 {
		v.Newest += "?" + filter.Encode()
	}
	if more {
		filter.Set("before", events[len(events)-1].ID)
		v.Older = activityPath + "?" + filter.Encode()
	}
	return wb.render(w, "activity", v)
}

// activityPath is Security activity.
const activityPath = "/account/activity"

// eventView is one event's detail.
type eventView struct {
	page
	Event custos.AuditEvent
}

// change is one line of "from what to what": a catalogue key naming what
// changed, and the words of its old ("" when not recorded) and new value.
type change struct {
	What, From, To string
}

// Changes are the event's protection changes, from what to what.
func (v eventView) Changes() []change {
	d := v.Event.Detail
	if v.Event.Type != custos.EventProtection {
		return nil
	}
	var out []change
	state := func(s string) string {
		if s == "" {
			return ""
		}
		return v.text("overview.state." + s)
	}
	method := func(s string) string {
		if s == "" {
			return v.text("overview.method_default")
		}
		return v.text("security.method." + s)
	}
	for _, p := range []struct{ what, key string }{{"overview.change.login", "login"}, {"overview.change.operation", "operation"}} {
		if to, ok := d[p.key]; ok {
			out = append(out, change{What: p.what, From: state(d[p.key+"_before"]), To: state(to)})
		}
		if to, ok := d[p.key+"_method"]; ok {
			from := ""
			if before, ok := d[p.key+"_method_before"]; ok {
				from = method(before)
			}
			out = append(out, change{What: p.what + "_method", From: from, To: method(to)})
		}
	}
	return out
}

// facts are the event's other details people read, as catalogue label
// keys and values, in a fixed order.
func (v eventView) Facts() []change {
	var out []change
	for _, k := range []string{"name", "type", "serial", "count", "method", "email", "kind", "ticket", "user_name", "reason"} {
		if val, ok := v.Event.Detail[k]; ok && val != "" {
			if k == "type" {
				if key := "mfa.type." + val; v.has(key) {
					val = v.text(key)
				}
			}
			out = append(out, change{What: "overview.detail." + k, To: val})
		}
	}
	return out
}

func (wb *Web) activityEvent(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	ev, err := wb.auth.ActivityEvent(r.Context(), sess.AccountID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return wb.render(w, "event", eventView{page: wb.signedInPage(r, "activity"), Event: ev})
}
