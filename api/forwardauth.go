package api

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/custos/custos"
)

// The headers of a forward-authentication answer. A reverse proxy copies
// them onto the request it passes upstream (and must drop any the client
// sent itself: docs/forward-auth.md).
const (
	// HeaderAccountID is the signed-in account: a root, a sub-user, or a
	// collaborator's own account.
	HeaderAccountID = "X-Custos-Account-Id"
	// HeaderPrincipal is what kind of principal it is: root, sub_user or
	// collaborator.
	HeaderPrincipal = "X-Custos-Principal"
	// HeaderRootAccountID is the root account the principal works in: the
	// account itself for a root, the sub-user's root, or the root a
	// collaborator has switched into.
	HeaderRootAccountID = "X-Custos-Root-Account-Id"
	// HeaderUserName is a sub-user's user name (sent for sub-users only).
	HeaderUserName = "X-Custos-User-Name"
	// HeaderSecondFactor is "true" when a second factor was passed at
	// sign-in, "false" otherwise.
	HeaderSecondFactor = "X-Custos-Second-Factor"
	// HeaderAuthenticatedAt is when the session signed in (RFC 3339).
	HeaderAuthenticatedAt = "X-Custos-Authenticated-At"
	// HeaderVerifiedUntil is the end of the operation-verification window
	// (RFC 3339); sent only while the window is open.
	HeaderVerifiedUntil = "X-Custos-Verified-Until"
	// HeaderLogin is, on a 401, the login page that comes back to the
	// original URL the proxy named in X-Original-URL.
	HeaderLogin = "X-Custos-Login"
	// HeaderOriginalURL is the request header in which the proxy names the
	// URL the client asked for.
	HeaderOriginalURL = "X-Original-URL"
)

// maxOriginalURL is the longest X-Original-URL the login URL carries (the
// login page's own limit on its rd parameter).
const maxOriginalURL = 2048

// forwardAuth answers a reverse proxy's authentication subrequest (nginx
// auth_request, a forward-auth middleware): 200 with the principal in the
// headers and no body, or 401. It reads the bearer token, or else the
// pages' session cookie, so a browser behind the proxy is recognised
// through the cookie the login page set. It does what the session check
// of GET /api/v1/session does and no more: the one session lookup (which
// writes only when the last-seen time has gone stale) and the principal.
func (a *API) forwardAuth(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	sess, p, err := a.auth.AuthenticatePrincipal(r.Context(), a.requestToken(r))
	if err != nil {
		if custos.IsCode(err, custos.EUnauthenticated) && a.loginURL != "" {
			w.Header().Set(HeaderLogin, a.loginFor(r.Header.Get(HeaderOriginalURL)))
		}
		return err
	}
	h := w.Header()
	h.Set(HeaderAccountID, p.AccountID)
	h.Set(HeaderPrincipal, p.Type)
	h.Set(HeaderRootAccountID, p.RootAccountID)
	if p.UserName != "" {
		h.Set(HeaderUserName, p.UserName)
	}
	h.Set(HeaderSecondFactor, strconv.FormatBool(sess.SecondFactor))
	h.Set(HeaderAuthenticatedAt, rfc3339(sess.AuthenticatedAt))
	if until, ok := optionalTime(sess.VerifiedUntil, a.clock.Now()).(string); ok {
		h.Set(HeaderVerifiedUntil, until)
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// requestToken is the session token of r: the bearer token when the
// request carries one, or else the pages' session cookie ("" for none).
func (a *API) requestToken(r *http.Request) string {
	if token := bearerToken(r); token != "" {
		return token
	}
	if a.sessionCookie == "" {
		return ""
	}
	if c, err := r.Cookie(a.sessionCookie); err == nil {
		return c.Value
	}
	return ""
}

// loginFor is the login page that returns to original (as its rd
// parameter; the page itself decides whether it may go there), or the
// plain login page when the proxy named no original URL.
func (a *API) loginFor(original string) string {
	// The login page follows no longer target, and a longer header could
	// overflow the proxy's buffer for the answer's headers.
	if original == "" || len(original) > maxOriginalURL {
		return a.loginURL
	}
	return a.loginURL + "?" + url.Values{"rd": {original}}.Encode()
}
