package web

import (
	"errors"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/auth"
)

// loginView is the login form.
type loginView struct {
	page
	Email string // kept on a re-render; the password never is
	Form  formErrors
	// LockedUntil is when password login opens again, for account_locked.
	LockedUntil *time.Time
	LockedFor   int // minutes until then, rounded up; 0 when not locked
}

func (wb *Web) loginForm(w http.ResponseWriter, r *http.Request) error {
	if _, ok, err := wb.session(w, r); err != nil {
		return err
	} else if ok {
		return redirect(w, r, "/account")
	}
	v := loginView{page: wb.newPage(r)}
	if r.URL.Query().Get("created") == "1" {
		v.Notice = "login.created"
	}
	return wb.render(w, http.StatusOK, "login", v)
}

// login answers a failure with the form again and status 400, never 401:
// a 401 asks the browser for HTTP authentication, which these pages do not
// use.
func (wb *Web) login(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	v := loginView{page: wb.newPage(r), Email: strings.TrimSpace(r.PostForm.Get("email"))}
	res, err := wb.auth.Login(r.Context(), auth.LoginRequest{
		Email: v.Email, Password: r.PostForm.Get("password"), Client: client(r),
	})
	if err != nil {
		if !wb.loginProblem(&v, err) {
			return err
		}
		return wb.render(w, http.StatusBadRequest, "login", v)
	}
	wb.cookie.set(w, res.Token)
	return redirect(w, r, "/account")
}

// loginProblem puts a failed login on the form (its message, and for a
// lock when it ends) and reports whether it belongs there.
func (wb *Web) loginProblem(v *loginView, err error) bool {
	if !formProblem(&v.Form, err) {
		return false
	}
	if until, ok := lockedUntil(err); ok {
		v.LockedUntil = &until
		if left := until.Sub(wb.clock.Now()); left > 0 {
			v.LockedFor = int(math.Ceil(left.Minutes()))
		}
	}
	return true
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
	return redirect(w, r, "/login")
}
