package web

import (
	"net/http"
	"time"
)

// The names of the cookie that tells one browser from another for
// new-device alerts.
const (
	secureBrowserCookieName   = "__Host-custos_browser"
	insecureBrowserCookieName = "custos_browser"
)

// browserIDAge is how long the browser keeps its id: longer than a known
// device lasts unused (custos.KnownDeviceTTL), renewed at each login.
const browserIDAge = 400 * 24 * time.Hour

func (c cookieConfig) browserCookie() string {
	if c.secure {
		return secureBrowserCookieName
	}
	return insecureBrowserCookieName
}

// browserID returns the request's browser id, making a new one (and
// setting its cookie) when it has none or a malformed one. The id is a
// random token with no meaning and grants nothing: with the network it
// lets login tell a new device from a known one, and the server keeps
// only a keyed hash of the two. A failure to make one leaves it "", which
// counts as a browser without a cookie.
func (wb *Web) browserID(w http.ResponseWriter, r *http.Request) string {
	id := ""
	if k, err := r.Cookie(wb.cookie.browserCookie()); err == nil && len(k.Value) == 43 && base64URL(k.Value) {
		id = k.Value
	} else if id, err = wb.auth.NewBrowserID(); err != nil {
		return ""
	}
	http.SetCookie(w, &http.Cookie{
		Name: wb.cookie.browserCookie(), Value: id, Path: "/", MaxAge: int(browserIDAge / time.Second),
		Secure: wb.cookie.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	return id
}

// base64URL reports whether s holds only base64url characters.
func base64URL(s string) bool {
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
