package web

import (
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/custos/custos"
	"github.com/custos/custos/mfa"
)

// staffLoginView is the staff login form: email and password.
type staffLoginView struct {
	staffPage
	Email string // kept on a re-render; the password never is
	Form  formErrors
}

func (wb *Web) staffLoginForm(w http.ResponseWriter, r *http.Request) error {
	if _, _, ok, _, err := wb.staffSession(w, r); err != nil {
		return err
	} else if ok {
		return redirect(w, r, "/staff")
	}
	v := staffLoginView{staffPage: wb.newStaffPage(r, nil, ""), Email: strings.TrimSpace(r.URL.Query().Get("email"))}
	q := r.URL.Query()
	switch {
	case q.Get("ended") == "1":
		v.Notice = "console.login.ended"
	case q.Get("signed_out") == "1":
		v.Notice = "console.login.signed_out"
	case q.Get("enrolled") == "1":
		v.Notice = "console.login.enrolled"
	case q.Get("expired") == "1":
		v.Notice = "console.login.expired"
	}
	return wb.render(w, "staff_login", v)
}

// staffLogin checks the password. A right one leads to the code step; it
// opens no session. The login token travels in a short-lived HttpOnly
// cookie (never in a URL), so the code page survives a reload.
func (wb *Web) staffLogin(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	v := staffLoginView{staffPage: wb.newStaffPage(r, nil, ""), Email: strings.TrimSpace(r.PostForm.Get("email"))}
	token, err := wb.staff.Login(r.Context(), v.Email, r.PostForm.Get("password"), client(r))
	if err != nil {
		if !formProblem(&v.Form, v.Lang, err, "email", "password") {
			return err
		}
		return formAgain("staff_login", v)
	}
	wb.cookie.setStaffLogin(w, token, wb.staff.Config().LoginTTL)
	return redirect(w, r, "/staff/login/code")
}

// staffCodeView asks for the authenticator code.
type staffCodeView struct {
	staffPage
	Form formErrors
}

func (wb *Web) staffCodeForm(w http.ResponseWriter, r *http.Request) error {
	if wb.cookie.staffLoginToken(r) == "" {
		return redirect(w, r, "/staff/login")
	}
	return wb.render(w, "staff_code", staffCodeView{staffPage: wb.newStaffPage(r, nil, "")})
}

func (wb *Web) staffCode(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	loginToken := wb.cookie.staffLoginToken(r)
	if loginToken == "" {
		return redirect(w, r, "/staff/login?expired=1")
	}
	v := staffCodeView{staffPage: wb.newStaffPage(r, nil, "")}
	code := cleanCode(r.PostForm.Get("code"))
	if code == "" {
		v.Form.add("code", v.text("console.code.missing"))
		return formAgain("staff_code", v)
	}
	token, _, err := wb.staff.SecondFactor(r.Context(), loginToken, code, client(r))
	switch {
	case custos.IsCode(err, custos.EUnauthenticated):
		// The login token is over (expired, used, too many codes).
		wb.cookie.clearStaffLogin(w)
		return redirect(w, r, "/staff/login?expired=1")
	case err != nil:
		if !formProblemOr(&v.Form, v.Lang, err, "code", "code") {
			return err
		}
		return formAgain("staff_code", v)
	}
	wb.cookie.clearStaffLogin(w)
	wb.cookie.setStaff(w, token)
	return redirect(w, r, "/staff")
}

// staffLogout ends the staff session (if any is left) and drops the
// cookie.
func (wb *Web) staffLogout(w http.ResponseWriter, r *http.Request) error {
	st, sess, ok, _, err := wb.staffSession(w, r)
	if err != nil {
		return err
	}
	if ok {
		if err := wb.staff.Logout(r.Context(), st, sess, client(r)); err != nil {
			return err
		}
	}
	wb.cookie.clearStaff(w)
	return redirect(w, r, "/staff/login?signed_out=1")
}

// staffEnrolView is the first step of enrolment: set a password.
type staffEnrolView struct {
	staffPage
	Token string
	Email string
	Dead  bool // the link is unknown, expired or used
	Form  formErrors
}

// staffEnrolKeyView is the second step: the authenticator's key as text
// (the otpauth URI and the secret in groups of four), then the first code.
// The key is carried in hidden fields so a wrong code shows it again: the
// service hands it out once per password.
type staffEnrolKeyView struct {
	staffPage
	Token   string
	Email   string
	Secret  string // base32, as the service gave it
	URI     string // otpauth://…
	Issuer  string
	Account string
	QR      template.URL // data:image/png;base64,… of the URI
	Size    int
	Form    formErrors
}

// setQR draws the URI as a QR code for the authenticator app to scan (the
// mfa service's drawing, as the customers' page has it).
func (v *staffEnrolKeyView) setQR(m *mfa.Service) {
	if v.URI == "" || m == nil {
		return
	}
	k, err := m.DescribeKey(v.URI, qrSize)
	if err != nil {
		return
	}
	v.QR, v.Size = template.URL("data:image/png;base64,"+base64.StdEncoding.EncodeToString(k.QRPNG)), qrSize
}

func (wb *Web) staffEnrolForm(w http.ResponseWriter, r *http.Request) error {
	token := r.PathValue("token")
	v := staffEnrolView{staffPage: wb.newStaffPage(r, nil, ""), Token: token}
	email, err := wb.staff.EnrolEmail(r.Context(), token)
	if custos.IsCode(err, custos.EExpired) {
		v.Dead = true
		return gone("staff_enrol", v)
	}
	if err != nil {
		return err
	}
	v.Email = email
	return wb.render(w, "staff_enrol", v)
}

// staffEnrol takes either step: the password (step=password) or the first
// code (step=code).
func (wb *Web) staffEnrol(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	token := r.PathValue("token")
	if r.PostForm.Get("step") == "code" {
		return wb.staffEnrolCode(w, r, token)
	}
	v := staffEnrolView{staffPage: wb.newStaffPage(r, nil, ""), Token: token}
	email, err := wb.staff.EnrolEmail(r.Context(), token)
	if custos.IsCode(err, custos.EExpired) {
		v.Dead = true
		return gone("staff_enrol", v)
	}
	if err != nil {
		return err
	}
	v.Email = email
	pw := r.PostForm.Get("password")
	if pw == "" {
		v.Form.add("password", v.text("console.enrol.password_missing"))
		return formAgain("staff_enrol", v)
	}
	en, err := wb.staff.BeginEnrol(r.Context(), token, pw)
	if custos.IsCode(err, custos.EExpired) {
		v.Dead = true
		return gone("staff_enrol", v)
	}
	if err != nil {
		if !formProblemOr(&v.Form, v.Lang, err, "password", "password") {
			return err
		}
		return formAgain("staff_enrol", v)
	}
	kv := staffEnrolKeyView{staffPage: wb.newStaffPage(r, nil, ""), Token: token, Email: en.Email}
	kv.setKey(en.Secret, en.OTPAuthURI)
	kv.setQR(wb.mfa)
	return wb.render(w, "staff_enrol_key", kv)
}

// setKey fills the key from the secret and URI the service gave; the
// label is what the URI names (issuer and account).
func (v *staffEnrolKeyView) setKey(secret, uri string) {
	v.Secret, v.URI = secret, uri
	if secret == "" || strings.TrimLeft(secret, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567=") != "" {
		v.Secret = ""
	}
	if !strings.HasPrefix(uri, "otpauth://totp/") {
		v.URI = ""
	}
	v.Issuer, v.Account = uriLabel(v.URI)
}

func (wb *Web) staffEnrolCode(w http.ResponseWriter, r *http.Request, token string) error {
	v := staffEnrolKeyView{staffPage: wb.newStaffPage(r, nil, ""), Token: token, Email: r.PostForm.Get("email")}
	v.setKey(r.PostForm.Get("secret"), r.PostForm.Get("uri"))
	v.setQR(wb.mfa)
	code := cleanCode(r.PostForm.Get("code"))
	if code == "" {
		v.Form.add("code", v.text("console.code.missing"))
		return formAgain("staff_enrol_key", v)
	}
	err := wb.staff.ConfirmEnrol(r.Context(), token, code, client(r))
	switch {
	case custos.IsCode(err, custos.EExpired):
		return gone("staff_enrol", staffEnrolView{staffPage: v.staffPage, Token: token, Dead: true})
	case err != nil:
		if !formProblemOr(&v.Form, v.Lang, err, "code", "code") {
			return err
		}
		return formAgain("staff_enrol_key", v)
	}
	to := "/staff/login?enrolled=1"
	if v.Email != "" {
		to += "&email=" + url.QueryEscape(v.Email)
	}
	return redirect(w, r, to)
}

// uriLabel reads the issuer and account an otpauth URI names: what the
// authenticator app will show.
func uriLabel(uri string) (issuer, account string) {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "otpauth" {
		return "", ""
	}
	label := strings.TrimPrefix(u.Path, "/")
	issuer = u.Query().Get("issuer")
	if i, a, ok := strings.Cut(label, ":"); ok {
		if issuer == "" {
			issuer = i
		}
		label = a
	}
	return issuer, strings.TrimSpace(label)
}
