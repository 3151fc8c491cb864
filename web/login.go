package web

import (
	"errors"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/auth"
)

// loginView is the login form.
type loginView struct {
	page
	Email string // kept on a re-render; the password never is
	// SubUser is the "Sub-user" tab (R9): a sub-user logs in with its
	// root's account id and its user name instead of an email.
	SubUser       bool
	RootAccountID string
	UserName      string
	Form          formErrors
	// LockedUntil is when password login opens again, for account_locked.
	LockedUntil *time.Time
	LockedFor   int // minutes until then, rounded up; 0 when not locked
	LockedHours int // hours until then, rounded up, when that is more than two
	// Captcha is shown when the next attempt must carry a solved one.
	Captcha *captchaView
}

// captchaView is a captcha to solve on the login form.
type captchaView struct {
	ID, ImageURL, AudioURL string
	NewURL                 string // the form again with a fresh picture
}

// subUserTab is the value of the as parameter (a link's query, the form's
// hidden field) that picks the "Sub-user" tab.
const subUserTab = "sub_user"

// loginID is the identifier the form names: the email, or on the
// "Sub-user" tab the root's account id and the user name.
func (v loginView) loginID() custos.LoginID {
	if v.SubUser {
		return custos.SubUserLogin(v.RootAccountID, v.UserName)
	}
	return custos.EmailLogin(v.Email)
}

// named reports whether the form names someone, so that its next attempt's
// needs can be shown.
func (v loginView) named() bool {
	if v.SubUser {
		return v.RootAccountID != "" && v.UserName != ""
	}
	return v.Email != ""
}

// againURL is the form again, filled in as it is (never the password).
func (v loginView) againURL() string {
	if v.SubUser {
		return "/login?" + url.Values{"as": {subUserTab}, "root_account_id": {v.RootAccountID}, "user_name": {v.UserName}}.Encode()
	}
	return "/login?" + url.Values{"email": {v.Email}}.Encode()
}

// loginFields reads the identifier fields of the login form (or of the
// "new picture" link): the tab and what it asks for.
func loginFields(p page, vals url.Values) loginView {
	v := loginView{page: p, SubUser: vals.Get("as") == subUserTab}
	if v.SubUser {
		v.RootAccountID = strings.TrimSpace(vals.Get("root_account_id"))
		v.UserName = strings.TrimSpace(vals.Get("user_name"))
	} else {
		v.Email = strings.TrimSpace(vals.Get("email"))
	}
	return v
}

// newCaptcha makes a captcha for the form v.
func (wb *Web) newCaptcha(r *http.Request, v *loginView) (*captchaView, error) {
	c, err := wb.auth.NewCaptcha(r.Context(), client(r))
	if err != nil {
		return nil, err
	}
	return wb.loginCaptchaView(c.ID, v), nil
}

func (wb *Web) captchaView(id, email string) *captchaView {
	c := wb.auth.CaptchaFor(id)
	return &captchaView{
		ID: id, ImageURL: c.ImageURL, AudioURL: c.AudioURL,
		NewURL: "/login?" + url.Values{"email": {email}}.Encode(),
	}
}

// loginCaptchaView is the captcha of the form v, whose "new picture" link
// is the same tab filled in the same way.
func (wb *Web) loginCaptchaView(id string, v *loginView) *captchaView {
	c := wb.captchaView(id, v.Email)
	c.NewURL = v.againURL()
	return c
}

func (wb *Web) loginForm(w http.ResponseWriter, r *http.Request) error {
	// Kept first: a browser already signed in goes back there at once.
	wb.rememberReturn(w, r)
	if _, ok, err := wb.session(w, r); err != nil {
		return err
	} else if ok {
		return redirect(w, r, homePath)
	}
	v := loginFields(wb.newPage(r), r.URL.Query())
	if r.URL.Query().Get("changed") == "1" {
		v.Notice = "login.changed"
	}
	if r.URL.Query().Get("created") == "1" {
		v.Notice = "login.created"
	}
	if r.URL.Query().Get("out") == "1" {
		v.Notice = "alerts.logged_out"
	}
	// With an email or a sub-user (the "new picture" link), show what its
	// next attempt needs. The answer is the same for every address or
	// name, account or not.
	if v.named() {
		need, until, err := wb.auth.LoginStatus(r.Context(), v.loginID())
		if err != nil {
			return err
		}
		if !until.IsZero() {
			wb.setLocked(&v, until)
		} else if need {
			if v.Captcha, err = wb.newCaptcha(r, &v); err != nil {
				return err
			}
		}
	}
	return wb.render(w, "login", v)
}

// login answers a failure with the form again and status 400, never 401:
// a 401 asks the browser for HTTP authentication, which these pages do not
// use.
func (wb *Web) login(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	v := loginFields(wb.newPage(r), r.PostForm)
	req := auth.LoginRequest{
		ID: v.loginID(), Password: r.PostForm.Get("password"), Client: client(r),
		DeviceToken: wb.cookie.trustedToken(r), Browser: wb.browserID(w, r),
	}
	if id := r.PostForm.Get("captcha_id"); id != "" {
		req.Captcha = &auth.CaptchaAnswer{ID: id, Answer: r.PostForm.Get("captcha_answer")}
	}
	res, err := wb.auth.Login(r.Context(), req)
	wb.countLogin(res.Next, err)
	if err != nil {
		if !wb.loginProblem(&v, err) {
			return err
		}
		if err := wb.loginCaptcha(r, &v, err); err != nil {
			return err
		}
		return formAgain("login", v)
	}
	if res.Next == "second_factor" {
		// The page answers the POST itself, so the login token travels
		// only in the form's hidden field: never in a URL, a log line or
		// the browser history.
		sf := wb.newSecondFactorView(r, secondFactorState{
			LoginToken: res.LoginToken, Methods: webMethods(res.Methods), Email: v.Email,
			RootAccountID: v.RootAccountID, UserName: v.UserName,
		})
		return wb.render(w, "secondfactor", sf)
	}
	return wb.loginStep(w, r, res, stepState{LoginToken: res.LoginToken, RootAccountID: v.RootAccountID, UserName: v.UserName})
}

// loginProblem puts a failed login on the form (its message, and for a
// lock when it ends) and reports whether it belongs there.
func (wb *Web) loginProblem(v *loginView, err error) bool {
	if !formProblem(&v.Form, v.Lang, err) {
		return false
	}
	if until, ok := lockedUntil(err); ok {
		// The lock's panel says it once, with its time; the summary would
		// say it again in another format.
		v.Form = formErrors{}
		wb.setLocked(v, until)
	}
	return true
}

func (wb *Web) setLocked(v *loginView, until time.Time) {
	v.LockedUntil = &until
	if left := until.Sub(wb.clock.Now()); left > 0 {
		v.LockedFor = int(math.Ceil(left.Minutes()))
		if left > 2*time.Hour {
			v.LockedHours, v.LockedFor = int(math.Ceil(left.Hours())), 0
		}
	}
}

// loginCaptcha puts a captcha on the form when the next attempt needs one:
// the one a captcha_required answer carries, or a fresh one after a wrong
// password that reached the captcha threshold.
func (wb *Web) loginCaptcha(r *http.Request, v *loginView, err error) error {
	var ce *custos.Error
	if !errors.As(err, &ce) {
		return nil
	}
	switch {
	case ce.Code == custos.ECaptchaRequired:
		if c, ok := ce.Fields["captcha"].(map[string]string); ok {
			v.Captcha = wb.loginCaptchaView(c["id"], v)
		}
	case ce.Code == custos.EInvalidCredentials && ce.Fields["captcha_required"] == true:
		// The failure that locks still answers invalid_credentials; say so
		// now rather than on the next try.
		_, until, err := wb.auth.LoginStatus(r.Context(), v.loginID())
		if err != nil {
			return err
		}
		if !until.IsZero() {
			wb.setLocked(v, until)
			return nil
		}
		c, err := wb.newCaptcha(r, v)
		if err != nil {
			return err
		}
		v.Captcha = c
	}
	return nil
}

// lockedUntil reads the end of a lock from an account_locked error, which
// carries it as a time.Time (or, from a transport, an RFC 3339 string).
func lockedUntil(err error) (time.Time, bool) {
	var ce *custos.Error
	if !errors.As(err, &ce) || ce.Code != custos.EAccountLocked {
		return time.Time{}, false
	}
	switch v := ce.Fields["locked_until"].(type) {
	case time.Time:
		return v.UTC(), !v.IsZero()
	case string:
		t, perr := time.Parse(time.RFC3339, v)
		return t.UTC(), perr == nil
	}
	return time.Time{}, false
}

// logout ends the cookie's session, if it is still live, and clears the
// cookie either way.
func (wb *Web) logout(w http.ResponseWriter, r *http.Request) error {
	sess, ok, err := wb.session(w, r)
	if err != nil {
		return err
	}
	if ok {
		if err := wb.auth.Logout(r.Context(), sess, client(r)); err != nil {
			return err
		}
	}
	wb.cookie.clear(w)
	return redirect(w, r, "/login?out=1")
}
