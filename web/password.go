package web

import (
	"net/http"

	"github.com/custos/custos"
)

// passwordView is the change-password form of Security Settings.
type passwordView struct {
	page
	Form formErrors
}

// passwordForm asks for the new password, after "Confirm it's you".
func (wb *Web) passwordForm(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	acct, err := wb.auth.Account(r.Context(), sess.AccountID)
	if err != nil {
		return err
	}
	if sent, err := wb.requireVerification(w, r, sess, acct, false, securityPath+"/password"); sent || err != nil {
		return err
	}
	return wb.render(w, "password", passwordView{page: wb.signedInPage(r, "security")})
}

// password changes it; every session ends, this one too, so the person
// logs in again with the new password.
func (wb *Web) password(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	acct, err := wb.auth.Account(r.Context(), sess.AccountID)
	if err != nil {
		return err
	}
	if sent, err := wb.requireVerification(w, r, sess, acct, false, securityPath+"/password"); sent || err != nil {
		return err
	}
	v := passwordView{page: wb.signedInPage(r, "security")}
	pw, again := r.PostForm.Get("password"), r.PostForm.Get("password_again")
	if pw != again {
		v.Form.add("password_again", v.text("password.mismatch"))
		return formAgain("password", v)
	}
	if err := wb.auth.ChangePassword(r.Context(), sess, pw, client(r)); err != nil {
		if !formProblem(&v.Form, v.Lang, err, "password") {
			return err
		}
		return formAgain("password", v)
	}
	wb.cookie.clear(w)
	return redirect(w, r, "/login?changed=1")
}
