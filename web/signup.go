package web

import (
	"net/http"
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
	return redirect(w, r, withQuery("/signup/verify", "id", id))
}

// verifyView is the page that takes the emailed code.
type verifyView struct {
	page
	ID      string // the verification id from the sign-up answer
	Minutes int    // how long a code lives
	Form    formErrors
	// Expired replaces the form: the verification can never succeed now.
	Expired        bool
	ExpiredMessage string
}

func (wb *Web) newVerifyView(r *http.Request, id string) verifyView {
	return verifyView{page: wb.newPage(r), ID: id, Minutes: int(wb.auth.CodePolicy().TTL / time.Minute)}
}

func (wb *Web) verifyForm(w http.ResponseWriter, r *http.Request) error {
	id := r.URL.Query().Get("id")
	if id == "" {
		return custos.Fail(custos.EInvalidRequest, "verify.missing_id")
	}
	return wb.render(w, "verify", wb.newVerifyView(r, id))
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
		return redirect(w, r, "/login?created=1")
	case custos.IsCode(err, custos.EExpired):
		v.Expired, v.ExpiredMessage = true, v.errorText(err)
		return gone("verify", v)
	case formProblem(&v.Form, v.Lang, err, "code"):
		return formAgain("verify", v)
	}
	return err
}
