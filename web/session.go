package web

import (
	"context"
	"net/http"
	"time"

	"github.com/custos/custos"
)

// The session cookie's names. A __Host- cookie must be Secure, have Path=/
// and no Domain, so a browser refuses one set over plain HTTP; development
// over http://localhost uses the plain name instead.
const (
	// SecureCookieName is the session cookie's name when Deps.SecureCookies is set.
	SecureCookieName = "__Host-custos_session"
	// InsecureCookieName is the session cookie's name over plain HTTP.
	InsecureCookieName = "custos_session"

	// SecureTrustedCookieName is the "trust this device" cookie's name when
	// Deps.SecureCookies is set.
	SecureTrustedCookieName = "__Host-custos_trusted"
	// InsecureTrustedCookieName is the "trust this device" cookie's name
	// over plain HTTP.
	InsecureTrustedCookieName = "custos_trusted"
)

// trustedDeviceAge is how long the browser keeps the "trust this device"
// cookie: the 7 days the auth service honours its token.
const trustedDeviceAge = 7 * 24 * time.Hour

// cookieConfig says how the session and trusted-device cookies are named
// and marked.
type cookieConfig struct {
	name    string
	trusted string
	pending string // remembers a code just sent (pending.go)
	secure  bool
}

func newCookieConfig(secure bool) cookieConfig {
	if secure {
		return cookieConfig{name: SecureCookieName, trusted: SecureTrustedCookieName, pending: securePendingCookieName, secure: true}
	}
	return cookieConfig{name: InsecureCookieName, trusted: InsecureTrustedCookieName, pending: insecurePendingCookieName}
}

// setTrusted stores a trusted-device token. Unlike the session cookie it
// outlives the browser session and a logout: that is its point. It is
// HttpOnly like the session cookie, and SameSite=Lax is enough because it
// only ever skips the second step of a login that already had the password.
func (c cookieConfig) setTrusted(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{
		Name: c.trusted, Value: token, Path: "/", MaxAge: int(trustedDeviceAge / time.Second),
		Secure: c.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// trustedToken returns the request's trusted-device token, or "".
func (c cookieConfig) trustedToken(r *http.Request) string {
	if k, err := r.Cookie(c.trusted); err == nil {
		return k.Value
	}
	return ""
}

// set stores the session token. The cookie has no Expires or Max-Age: it
// lives as long as the browser session, and the server ends the session
// itself after the idle and absolute limits.
func (c cookieConfig) set(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{
		Name: c.name, Value: token, Path: "/",
		Secure: c.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// clear tells the browser to drop the session cookie.
func (c cookieConfig) clear(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: c.name, Value: "", Path: "/", MaxAge: -1,
		Secure: c.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// session returns the live session the request's cookie names. ok is false
// when there is none; a cookie naming a dead session is cleared. err is set
// only when the session could not be checked (the database is down).
func (wb *Web) session(w http.ResponseWriter, r *http.Request) (sess custos.Session, ok bool, err error) {
	c, cerr := r.Cookie(wb.cookie.name)
	if cerr != nil {
		return custos.Session{}, false, nil
	}
	sess, err = wb.auth.Authenticate(r.Context(), c.Value)
	if custos.IsCode(err, custos.EUnauthenticated) {
		wb.cookie.clear(w)
		return custos.Session{}, false, nil
	}
	if err != nil {
		return custos.Session{}, false, err
	}
	return sess, true, nil
}

// signedInFunc is a handler for a page behind the login.
type signedInFunc func(w http.ResponseWriter, r *http.Request, sess custos.Session) error

// signedIn runs h with the request's live session, or sends the browser to
// the login page (303) when there is none.
func (wb *Web) signedIn(h signedInFunc) http.Handler {
	return wb.handle(func(w http.ResponseWriter, r *http.Request) error {
		sess, ok, err := wb.session(w, r)
		if err != nil {
			return err
		}
		if !ok {
			return redirect(w, r, "/login")
		}
		// A login that a signed-out visit to an invitation link led to
		// goes back to the link.
		if next := wb.afterLogin(w, r); next != "" {
			return redirect(w, r, next)
		}
		// And one that forward authentication sent to the login page goes
		// back to where the browser came from (returnto.go).
		if next := wb.returnAfterLogin(w, r); next != "" {
			return redirect(w, r, next)
		}
		return h(w, wb.withAccountLanguage(signedInRequest(r, sess), sess.AccountID), sess)
	})
}

// signedInRequest is r carrying what the layout reads of sess: the
// account (for the waiting-ticket banner) and the root account it works
// in as a collaborator (for the bar that says so).
func signedInRequest(r *http.Request, sess custos.Session) *http.Request {
	ctx := context.WithValue(r.Context(), signedInAccount{}, sess.AccountID)
	ctx = context.WithValue(ctx, signedInActing{}, sess.ActingRootAccountID)
	ctx = context.WithValue(ctx, signedInSession{}, sess)
	return r.WithContext(ctx)
}

// signedInAccount is the context key of the signed-in account's id.
type signedInAccount struct{}

// signedInActing is the context key of the root account the session
// works in as a collaborator ("" in its own).
type signedInActing struct{}
