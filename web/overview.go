package web

import (
	"net/http"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/auth"
	"github.com/custos/custos/identity"
	"github.com/custos/custos/message"
)

// homePath is where a signed-in person lands: the Overview.
const homePath = "/overview"

// scoreFix is where each protection of the security score is turned on.
var scoreFix = map[string]string{
	auth.ProtectLogin:       securityPath + "#setting-login-protection",
	auth.ProtectMFA:         "/account/security/totp",
	auth.ProtectPhone:       "/account/phone",
	auth.ProtectSecureEmail: "/account/secure-email",
}

// signedInSession is the context key of the request's live session.
type signedInSession struct{}

// viewer fills what the layout says about the viewer: the zone they read
// times in and who is signed in. A failed read leaves UTC and no name:
// the page itself reads the account again and reports the failure.
func (wb *Web) viewer(r *http.Request, p *page) {
	sess, ok := r.Context().Value(signedInSession{}).(custos.Session)
	if !ok {
		return
	}
	acct, err := wb.auth.Account(r.Context(), sess.AccountID)
	if err != nil {
		return
	}
	p.Zone = wb.auth.Zone(acct.TimeZone)
	if !acct.IsSubUser() {
		p.Who = acct.Email
		return
	}
	if pr, err := wb.auth.PrincipalOf(r.Context(), sess); err == nil && pr.UserName != "" {
		p.Who = p.text("overview.who_sub_user", pr.UserName, pr.RootAccountID)
	}
}

// overviewView is the Overview.
type overviewView struct {
	page
	auth.Overview
	Identity *identity.Status // nil without the identity service, and for a sub-user
}

// Fix is the page that turns the protection name on.
func (v overviewView) Fix(name string) string { return scoreFix[name] }

// ScoreTotal is the "of 4" of "2 of 4 protections on".
func (v overviewView) ScoreTotal() int { return len(v.Score) }

func (wb *Web) overview(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	o, err := wb.auth.Overview(r.Context(), sess)
	if err != nil {
		return err
	}
	v := overviewView{page: wb.signedInPage(r, "overview"), Overview: o}
	if wb.identity != nil && !o.Account.IsSubUser() {
		st, err := wb.identity.Status(r.Context(), sess)
		if err != nil {
			return err
		}
		v.Identity = &st
	}
	return wb.render(w, "overview", v)
}

// setTimeZone saves the zone of Account Information's form; a name that
// is not a zone shows the page again with the problem beside the field.
func (wb *Web) setTimeZone(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	err := wb.auth.SetTimeZone(r.Context(), sess, r.PostFormValue("time_zone"))
	if custos.IsCode(err, custos.EInvalidTimeZone) {
		v, verr := wb.accountPage(r, sess)
		if verr != nil {
			return verr
		}
		v.TimeZone = r.PostFormValue("time_zone")
		v.Form.add("time_zone", v.errorText(err))
		return formAgain("account", v)
	}
	if err != nil {
		return err
	}
	return redirect(w, r, withQuery(accountPath, "done", "time_zone"))
}

// has reports whether the page language's catalogue has key.
func (p page) has(key string) bool { return message.For(p.Lang).Has(key) }

// dayIn parses a date field (YYYY-MM-DD) as the start of that day in loc;
// zero for "". ok is false for anything else.
func dayIn(s string, loc *time.Location) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	t, err := time.ParseInLocation(time.DateOnly, s, loc)
	if err != nil || t.Year() < 2000 || t.Year() > 9999 {
		return time.Time{}, false
	}
	return t, true
}
