package web

import (
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// The login page's return target (its rd parameter): where a reverse
// proxy's forward authentication sent the browser from, to go back to
// after sign-in. It is kept in a cookie of its own, because a login can
// take several pages (the second factor, binding an app, a new password)
// and every one of them ends on the Account Information page.
const (
	secureReturnCookie   = "__Host-custos_return"
	insecureReturnCookie = "custos_return"

	// returnParam is the login page's query parameter naming the target.
	returnParam = "rd"
	// maxReturnLen bounds a target; a longer one is not followed.
	maxReturnLen = 2048
)

func (c cookieConfig) returnName() string {
	if c.secure {
		return secureReturnCookie
	}
	return insecureReturnCookie
}

// returnTarget returns rd, re-encoded, when the login may send the browser
// there: a local path ("/…", never "//…" or a backslash a browser reads as
// another host, nor a dot segment), or an http(s) URL whose host is one of
// Deps.ReturnHosts. Anything else — another host, another scheme,
// credentials in the URL, a control character — is refused, so the login
// page is no open redirect.
func (wb *Web) returnTarget(rd string) (string, bool) {
	if rd == "" || len(rd) > maxReturnLen || strings.ContainsRune(rd, '\\') {
		return "", false
	}
	for i := 0; i < len(rd); i++ {
		if rd[i] <= ' ' || rd[i] == 0x7f {
			return "", false
		}
	}
	u, err := url.Parse(rd)
	if err != nil || u.User != nil || u.Opaque != "" {
		return "", false
	}
	if u.Scheme == "" && u.Host == "" {
		if !strings.HasPrefix(rd, "/") || strings.HasPrefix(rd, "//") || hasDotSegment(u.Path) {
			return "", false
		}
		return u.String(), true
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || !wb.returnHostAllowed(u) {
		return "", false
	}
	return u.String(), true
}

// hasDotSegment reports whether p has a "." or ".." segment, which
// http.Redirect would resolve into another path than the one checked.
func hasDotSegment(p string) bool {
	return slices.Contains(strings.Split(p, "/"), ".") || slices.Contains(strings.Split(p, "/"), "..")
}

// returnHostAllowed reports whether u's host is on the allow-list. An
// entry with a port matches that host and port; one without matches the
// host on the scheme's default port.
func (wb *Web) returnHostAllowed(u *url.URL) bool {
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port == "" {
		port = defaultPort(u.Scheme)
	}
	for _, e := range wb.returnHosts {
		e = strings.ToLower(e)
		eh, ep, err := net.SplitHostPort(e)
		if err != nil { // no port
			eh, ep = strings.Trim(e, "[]"), defaultPort(u.Scheme)
		}
		if eh == host && ep == port {
			return true
		}
	}
	return false
}

// defaultPort is the port an http or https URL without one means.
func defaultPort(scheme string) string {
	if scheme == "https" {
		return "443"
	}
	return "80"
}

// rememberReturn keeps the login page's return target, when it names a
// safe one, for the login that follows (for as long as an invitation's).
func (wb *Web) rememberReturn(w http.ResponseWriter, r *http.Request) {
	target, ok := wb.returnTarget(r.URL.Query().Get(returnParam))
	if !ok {
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: wb.cookie.returnName(), Value: url.QueryEscape(target), Path: "/", MaxAge: int(afterLoginAge.Seconds()),
		Secure: wb.cookie.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// returnAfterLogin returns the return target the login page kept, when r
// is the Overview every login lands on (homePath), and forgets it;
// "" otherwise. The target is checked again, so a cookie the browser
// was given by anyone else is followed only to where rd could go.
func (wb *Web) returnAfterLogin(w http.ResponseWriter, r *http.Request) string {
	if r.Method != http.MethodGet || r.URL.Path != homePath {
		return ""
	}
	k, err := r.Cookie(wb.cookie.returnName())
	if err != nil {
		return ""
	}
	http.SetCookie(w, &http.Cookie{
		Name: wb.cookie.returnName(), Value: "", Path: "/", MaxAge: -1,
		Secure: wb.cookie.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	raw, err := url.QueryUnescape(k.Value)
	if err != nil {
		return ""
	}
	target, _ := wb.returnTarget(raw)
	return target
}
