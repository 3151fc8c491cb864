package web

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/httperr"
	"github.com/custos/custos/requestinfo"
)

// The staff console (/staff) is a separate area: its own login (password,
// then always the authenticator code), its own cookie, its own layout with
// a distinct colour bar. A customer's session cookie never opens a staff
// page, and the staff cookie opens no customer page (those read only the
// customer cookie).
//
// The files: staff_login.go (login, code, logout, enrolment),
// staff_review.go (the review queue, a review, its files, the decision),
// staff_admin.go (members, the staff audit trail), staff_templates.go
// (the staff pages and their layout).

// The staff cookies' names. The session cookie is SameSite=Strict: no
// link from elsewhere ever arrives signed in to the console.
const (
	// SecureStaffCookieName is the staff session cookie's name when
	// Deps.SecureCookies is set.
	SecureStaffCookieName = "__Host-custos_staff"
	// InsecureStaffCookieName is its name over plain HTTP.
	InsecureStaffCookieName = "custos_staff"

	// SecureStaffLoginCookieName carries the login token from the password
	// step to the code step, for the few minutes the token lives.
	SecureStaffLoginCookieName = "__Host-custos_staff_login"
	// InsecureStaffLoginCookieName is its name over plain HTTP.
	InsecureStaffLoginCookieName = "custos_staff_login"
)

// registerStaff adds the staff console under /staff.
func (wb *Web) registerStaff(mux *http.ServeMux) {
	wb.addStaffPages()

	mux.Handle("GET /staff/login", wb.staffPublic(wb.staffLoginForm))
	mux.Handle("POST /staff/login", wb.staffPublic(wb.staffLogin))
	mux.Handle("GET /staff/login/code", wb.staffPublic(wb.staffCodeForm))
	mux.Handle("POST /staff/login/code", wb.staffPublic(wb.staffCode))
	mux.Handle("POST /staff/logout", wb.staffPublic(wb.staffLogout))
	mux.Handle("GET /staff/enrol/{token}", wb.staffPublic(wb.staffEnrolForm))
	mux.Handle("POST /staff/enrol/{token}", wb.staffPublic(wb.staffEnrol))

	mux.Handle("GET /staff", wb.staffOnly(wb.staffQueue))
	mux.Handle("GET /staff/{$}", wb.staffOnly(wb.staffQueue))
	mux.Handle("GET /staff/reviews/{id}", wb.staffOnly(wb.staffReview))
	mux.Handle("POST /staff/reviews/{id}/decision", wb.staffOnly(wb.staffDecision))
	mux.Handle("GET /staff/reviews/{id}/files/{file_id}", wb.staffOnly(wb.staffFile))

	mux.Handle("GET /staff/members", wb.staffOnly(wb.staffMembers))
	mux.Handle("POST /staff/members", wb.staffOnly(wb.staffAddMember))
	mux.Handle("GET /staff/members/{id}/disable", wb.staffOnly(wb.staffDisableForm))
	mux.Handle("POST /staff/members/{id}/disable", wb.staffOnly(wb.staffDisable))
	mux.Handle("POST /staff/members/{id}/reinvite", wb.staffOnly(wb.staffReinvite))
	mux.Handle("POST /staff/members/{id}/role", wb.staffOnly(wb.staffSetRole))
	mux.Handle("GET /staff/audit", wb.staffOnly(wb.staffAudit))
}

// staffCookieName and staffLoginCookieName follow the customer cookie's
// Secure setting.
func (c cookieConfig) staffCookieName() string {
	if c.secure {
		return SecureStaffCookieName
	}
	return InsecureStaffCookieName
}

func (c cookieConfig) staffLoginCookieName() string {
	if c.secure {
		return SecureStaffLoginCookieName
	}
	return InsecureStaffLoginCookieName
}

// setStaff stores the staff token: HttpOnly, SameSite=Strict, Path=/, no
// Expires (the server ends the session after 15 idle minutes).
func (c cookieConfig) setStaff(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{
		Name: c.staffCookieName(), Value: token, Path: "/",
		Secure: c.secure, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

func (c cookieConfig) clearStaff(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: c.staffCookieName(), Value: "", Path: "/", MaxAge: -1,
		Secure: c.secure, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

// setStaffLogin keeps the login token for the code step, as long as the
// token lives.
func (c cookieConfig) setStaffLogin(w http.ResponseWriter, token string, ttl time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: c.staffLoginCookieName(), Value: token, Path: "/", MaxAge: int(ttl / time.Second),
		Secure: c.secure, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

func (c cookieConfig) clearStaffLogin(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: c.staffLoginCookieName(), Value: "", Path: "/", MaxAge: -1,
		Secure: c.secure, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

func (c cookieConfig) staffLoginToken(r *http.Request) string {
	if k, err := r.Cookie(c.staffLoginCookieName()); err == nil {
		return k.Value
	}
	return ""
}

// staffSession returns the live staff session the staff cookie names.
// present says whether there was a staff cookie at all (a dead one is
// cleared): the login page then says the session ended. Only the staff
// cookie is read, never the customer's.
func (wb *Web) staffSession(w http.ResponseWriter, r *http.Request) (st custos.Staff, sess custos.StaffSession, ok, present bool, err error) {
	c, cerr := r.Cookie(wb.cookie.staffCookieName())
	if cerr != nil || c.Value == "" {
		return custos.Staff{}, custos.StaffSession{}, false, false, nil
	}
	st, sess, err = wb.staff.Authenticate(r.Context(), c.Value)
	if custos.IsCode(err, custos.EUnauthenticated) {
		wb.cookie.clearStaff(w)
		return custos.Staff{}, custos.StaffSession{}, false, true, nil
	}
	if err != nil {
		return custos.Staff{}, custos.StaffSession{}, false, true, err
	}
	return st, sess, true, true, nil
}

// staffFunc is a handler for a page behind the staff login.
type staffFunc func(w http.ResponseWriter, r *http.Request, st custos.Staff, sess custos.StaffSession) error

// staffEndedPath is where an ended session (15 idle minutes, logged out
// elsewhere, disabled) leads: the login page, saying so plainly.
const staffEndedPath = "/staff/login?ended=1"

// staffOnly runs h with the request's live staff session, or sends the
// browser to the staff login (303). Its errors show the staff error page.
func (wb *Web) staffOnly(h staffFunc) http.Handler {
	return wb.handle(func(w http.ResponseWriter, r *http.Request) error {
		st, sess, ok, present, err := wb.staffSession(w, r)
		if err != nil {
			return wb.staffError(w, r, nil, err)
		}
		if !ok {
			if present {
				return redirect(w, r, staffEndedPath)
			}
			return redirect(w, r, "/staff/login")
		}
		if err := h(w, r, st, sess); err != nil {
			return wb.staffError(w, r, &st, err)
		}
		return nil
	})
}

// staffPublic is a staff page before the login (login, code, enrolment):
// its errors show the staff error page too.
func (wb *Web) staffPublic(h handlerFunc) http.Handler {
	return wb.handle(func(w http.ResponseWriter, r *http.Request) error {
		if err := h(w, r); err != nil {
			return wb.staffError(w, r, nil, err)
		}
		return nil
	})
}

// staffPage is what the staff layout needs. Every staff view embeds it.
type staffPage struct {
	page
	StaffEmail string // the signed-in staff member; "" before the login
	Admin      bool   // show the admin pages in the bar
}

// newStaffPage starts the layout data of a staff page; st is nil before
// the login.
func (wb *Web) newStaffPage(r *http.Request, st *custos.Staff, nav string) staffPage {
	p := staffPage{page: page{Lang: language(r), Nav: nav}}
	if st != nil && st.ID != "" {
		p.SignedIn = true
		p.StaffEmail = st.Email
		p.Admin = st.Role == custos.RoleAdmin
	}
	return p
}

// staffErrorView is the staff console's error page: the same words as the
// customer's, inside the staff layout.
type staffErrorView struct {
	staffPage
	Status    int
	Message   string
	RequestID string
}

// staffError turns a handler's error into the staff error page, shown by
// serveError like every page with an error status. A page a handler asks
// to show again passes through; a failure after the client left is left
// to serveError, which logs it as such.
func (wb *Web) staffError(w http.ResponseWriter, r *http.Request, st *custos.Staff, err error) error {
	var sp *shownPage
	if errors.As(err, &sp) {
		return err
	}
	status := httperr.Status(err)
	code := custos.ErrorCode(err)
	info := requestinfo.From(r.Context())
	v := staffErrorView{staffPage: wb.newStaffPage(r, st, ""), Status: status, RequestID: info.ID}
	if status >= 500 {
		if httperr.ClientGone(r) {
			return err
		}
		info.Logger.ErrorContext(r.Context(), "staff page failed", "path", requestinfo.LogPath(r), "err", err)
		if code != custos.EUnavailable {
			code = custos.EInternal
		} else {
			w.Header().Set("Retry-After", strconv.Itoa(httperr.UnavailableRetryAfter))
		}
	} else {
		v.Message = v.errorText(err)
	}
	return &shownPage{name: "staff_error", view: v, code: code}
}
