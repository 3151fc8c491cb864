package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/auth"
)

// signupView is the sign-up form.
type signupView struct {
	page
	Email     string // kept on a re-render; the password never is
	Kind      string
	MinLength int
	Captcha   *captchaView // shown once the service asks for one
	Form      formErrors
}

func (wb *Web) signupForm(w http.ResponseWriter, r *http.Request) error {
	return wb.render(w, "signup", signupView{
		page: wb.newPage(r), Kind: string(custos.KindPersonal), MinLength: wb.auth.PasswordMinLength(),
	})
}

func (wb *Web) signup(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	v := signupView{
		page:      wb.newPage(r),
		Email:     strings.TrimSpace(r.PostForm.Get("email")),
		Kind:      r.PostForm.Get("kind"),
		MinLength: wb.auth.PasswordMinLength(),
	}
	pw := r.PostForm.Get("password")
	kind := custos.AccountKind(v.Kind)

	// Check every field first so that one answer names every problem; the
	// service checks again and has the last word.
	if _, err := custos.ValidEmail(v.Email); err != nil && !formProblem(&v.Form, v.Lang, err, "email") {
		return err
	}
	if err := wb.auth.CheckPassword(pw, v.Email); err != nil && !formProblem(&v.Form, v.Lang, err, "password") {
		return err
	}
	if !kind.Valid() {
		v.Form.add("kind", v.text("signup.kind_invalid"))
		v.Kind = string(custos.KindPersonal)
	}
	if v.Form.Any() {
		return formAgain("signup", v)
	}

	req := auth.SignupRequest{Email: v.Email, Password: pw, Kind: kind, Client: client(r)}
	if id := r.PostForm.Get("captcha_id"); id != "" {
		req.Captcha = &auth.CaptchaAnswer{ID: id, Answer: strings.TrimSpace(r.PostForm.Get("captcha_answer"))}
	}
	id, err := wb.auth.Signup(r.Context(), req)
	if err != nil {
		if !formProblem(&v.Form, v.Lang, err, "email", "password", "kind", "captcha_answer") {
			return err
		}
		if custos.IsCode(err, custos.ECaptchaRequired) {
			if v.Captcha, err = wb.flowCaptcha(r, err, "/signup"); err != nil {
				return err
			}
		}
		return formAgain("signup", v)
	}
	// The code page names the address and when a new code may be asked
	// for; the address is the one typed, whether or not it has an account.
	wb.cookie.setPending(w, pendingCode{ID: id, To: custos.NormalizeEmail(v.Email), Field: "email", Value: v.Email, Sent: wb.clock.Now()},
		wb.auth.CodePolicy().TTL)
	return redirect(w, r, withQuery("/signup/verify", "id", id))
}

// verifyView is the page that takes the emailed code.
type verifyView struct {
	page
	// codeState names the address (from the sign-up's cookie) and when
	// a new code may be asked for; Minutes is how long a code lives.
	codeState
	ID   string // the verification id from the sign-up answer
	Form formErrors
	// Expired replaces the form: the verification can never succeed now.
	Expired        bool
	ExpiredMessage string
}

func (wb *Web) newVerifyView(r *http.Request, id string) verifyView {
	v := verifyView{page: wb.newPage(r), ID: id, codeState: wb.newCodeState(r, id, custos.MaskEmail)}
	v.Minutes = int(wb.auth.CodePolicy().TTL / time.Minute)
	return v
}

func (wb *Web) verifyForm(w http.ResponseWriter, r *http.Request) error {
	id := r.URL.Query().Get("id")
	if id == "" {
		return custos.Fail(custos.EInvalidRequest, "verify.missing_id")
	}
	v := wb.newVerifyView(r, id)
	if r.URL.Query().Get("resent") == "1" {
		v.Notice = "alerts.resent"
	}
	return wb.render(w, "verify", v)
}

// verifyResend sends a new sign-up code. During the cooldown the page
// says so, with the seconds left (the button is off until then anyway).
func (wb *Web) verifyResend(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id := r.PostForm.Get("id")
	if id == "" {
		return custos.Fail(custos.EInvalidRequest, "verify.missing_id")
	}
	err := wb.auth.ResendSignupCode(r.Context(), id, client(r))
	v := wb.newVerifyView(r, id)
	switch {
	case err == nil:
		p, _ := wb.cookie.pendingFor(r, id)
		p.ID, p.Sent = id, wb.clock.Now()
		wb.cookie.setPending(w, p, wb.auth.CodePolicy().TTL)
		return redirect(w, r, "/signup/verify?"+url.Values{"id": {id}, "resent": {"1"}}.Encode())
	case custos.IsCode(err, custos.EExpired):
		v.Expired, v.ExpiredMessage = true, v.errorText(err)
		return gone("verify", v)
	case formProblem(&v.Form, v.Lang, err):
		if secs, ok := retryAfter(err); ok && secs > v.WaitSeconds {
			v.WaitSeconds = secs
		}
		return formAgain("verify", v)
	}
	return err
}

// retryAfter reads the seconds a too_many_requests answer asks to wait.
func retryAfter(err error) (int, bool) {
	var ce *custos.Error
	if !errors.As(err, &ce) {
		return 0, false
	}
	secs, ok := ce.Fields["retry_after"].(int)
	return secs, ok
}

func (wb *Web) verify(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id := r.PostForm.Get("id")
	if id == "" {
		return custos.Fail(custos.EInvalidRequest, "verify.missing_id")
	}
	v := wb.newVerifyView(r, id)
	code := cleanCode(r.PostForm.Get("code"))
	if code == "" {
		v.Form.add("code", v.text("verify.code_missing"))
		return formAgain("verify", v)
	}
	_, err := wb.auth.VerifySignup(r.Context(), id, code, client(r))
	switch {
	case err == nil:
		// The login page fills in the address signed up with.
		p, _ := wb.cookie.pendingFor(r, id)
		wb.cookie.clearPending(w)
		if p.To != "" {
			return redirect(w, r, "/login?"+url.Values{"created": {"1"}, "email": {p.To}}.Encode())
		}
		return redirect(w, r, "/login?created=1")
	case custos.IsCode(err, custos.EExpired):
		v.Expired, v.ExpiredMessage = true, v.errorText(err)
		return gone("verify", v)
	case formProblem(&v.Form, v.Lang, err, "code"):
		return formAgain("verify", v)
	}
	return err
}
