package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/custos/custos"
	"github.com/custos/custos/auth"
	"github.com/custos/custos/binding"
	"github.com/custos/custos/httperr"
	"github.com/custos/custos/identity"
	"github.com/custos/custos/message"
	"github.com/custos/custos/mfa"
	"github.com/custos/custos/recovery"
	"github.com/custos/custos/requestinfo"
	"github.com/custos/custos/staff"
	"github.com/custos/custos/subaccount"
	"github.com/custos/custos/ticket"
	"github.com/custos/custos/upload"
	"github.com/prometheus/client_golang/prometheus"
)

// maxFormBytes bounds a form body; no page posts more than a few fields.
const maxFormBytes = 64 << 10

// Deps are what the pages need.
type Deps struct {
	Auth *auth.Service
	MFA  *mfa.Service
	// Binding changes the phone, account email and secure email.
	Binding *binding.Service
	// Recovery runs Find my accounts, Forgot password and "it wasn't me".
	Recovery *recovery.Service
	// Identity is real-name verification (the holder's page and the
	// review console), Staff the staff side's sign-in, Uploads the parser
	// of multipart submissions.
	Identity *identity.Service
	Staff    *staff.Service
	Tickets  *ticket.Service
	Uploads  *upload.Parser
	Clock    custos.Clock
	// SubUsers is a root account's management of its sub-users (R9).
	SubUsers *subaccount.Service
	// Collabs is R9's collaborators: invitations, the accounts a person
	// works in, switching in and back.
	Collabs *subaccount.Collabs
	// Outbox reads the messages of the dir: delivery transport, newest
	// first. When it is nil there is no /dev/outbox page.
	Outbox func() ([]OutboxMessage, error)
	// SecureCookies marks the session cookie Secure and gives it the
	// __Host- prefix. Set it whenever people reach the server over HTTPS.
	SecureCookies bool
	// Metrics is where the pages count their logins (custos_logins_total,
	// the API's series); may be nil.
	Metrics prometheus.Registerer
	// ReturnHosts are the hosts (host, or host:port) the login page may
	// send the browser back to after sign-in, as its rd parameter asks:
	// the public URL's and the sites a reverse proxy guards with forward
	// authentication. Local paths are always allowed.
	ReturnHosts []string
}

// Web serves the HTML pages.
type Web struct {
	auth       *auth.Service
	mfa        *mfa.Service
	binding    *binding.Service
	recoveries *recovery.Service
	identity   *identity.Service
	staff      *staff.Service
	tickets    *ticket.Service
	subusers   *subaccount.Service
	collabs    *subaccount.Collabs
	uploads    *upload.Parser
	clock      custos.Clock
	readOutbox func() ([]OutboxMessage, error)
	cookie     cookieConfig
	pages      map[string]map[string]*lazyPage // language → page → template
	logins     *prometheus.CounterVec

	returnHosts []string // Deps.ReturnHosts (returnto.go)
}

// New returns the pages; each page's templates are parsed the first time
// it is shown in a language (addPageSet).
func New(d Deps) *Web {
	if d.Clock == nil {
		d.Clock = custos.SystemClock{}
	}
	wb := &Web{
		auth:       d.Auth,
		mfa:        d.MFA,
		binding:    d.Binding,
		recoveries: d.Recovery,
		identity:   d.Identity,
		staff:      d.Staff,
		tickets:    d.Tickets,
		subusers:   d.SubUsers,
		collabs:    d.Collabs,
		uploads:    d.Uploads,
		clock:      d.Clock,
		readOutbox: d.Outbox,
		cookie:     newCookieConfig(d.SecureCookies),
		pages:      make(map[string]map[string]*lazyPage),
		logins:     newLoginCounter(d.Metrics),

		returnHosts: d.ReturnHosts,
	}
	wb.addPageSet(nil, pageNames, nil)
	return wb
}

// Register adds the pages to mux. It registers only method-qualified
// patterns, GET /{$} for the root and GET /static/, so that it never
// shadows another transport's paths such as /api/.
func (wb *Web) Register(mux *http.ServeMux) {
	mux.Handle("GET /{$}", wb.handle(wb.root))
	mux.Handle("GET /static/", http.HandlerFunc(serveStatic))
	// Every other path is the site's "page not found" (the API's /api/
	// pattern is more specific, and keeps its JSON 404).
	mux.Handle("/", wb.handle(func(http.ResponseWriter, *http.Request) error {
		return custos.Fail(custos.ENotFound, "alerts.not_found")
	}))

	mux.Handle("GET /signup", wb.handle(wb.signupForm))
	mux.Handle("POST /signup", wb.handle(wb.signup))
	mux.Handle("GET /signup/verify", wb.handle(wb.verifyForm))
	mux.Handle("POST /signup/verify", wb.handle(wb.verify))
	mux.Handle("POST /signup/verify/resend", wb.handle(wb.verifyResend))
	mux.Handle("GET /login", wb.handle(wb.loginForm))
	mux.Handle("POST /login", wb.handle(wb.login))
	mux.Handle("GET /login/second-factor", wb.handle(wb.secondFactorForm))
	mux.Handle("POST /login/second-factor", wb.handle(wb.secondFactor))
	mux.Handle("POST "+webauthnLoginBegin, wb.handleJSON(wb.beginAssertion))
	mux.Handle("POST "+webauthnLoginFinish, wb.handleJSON(wb.finishAssertion))
	mux.Handle("POST /logout", wb.handle(wb.logout))
	mux.Handle("POST /language", wb.handle(wb.setLanguage))
	wb.registerSubLogin(mux)

	mux.Handle("GET /find-accounts", wb.handle(wb.findForm))
	mux.Handle("POST /find-accounts", wb.handle(wb.find))
	mux.Handle("GET /find-accounts/{id}", wb.handle(wb.findCodeForm))
	mux.Handle("POST /find-accounts/{id}", wb.handle(wb.findCode))
	mux.Handle("GET /forgot-password", wb.handle(wb.forgotForm))
	mux.Handle("POST /forgot-password", wb.handle(wb.forgot))
	mux.Handle("GET /forgot-password/done", wb.handle(wb.resetDone))
	mux.Handle("GET /forgot-password/{id}", wb.handle(wb.forgotCodeForm))
	mux.Handle("POST /forgot-password/{id}", wb.handle(wb.forgotCode))
	mux.Handle("GET /forgot-password/{id}/password", wb.handle(wb.newPasswordForm))
	mux.Handle("POST /forgot-password/{id}/password", wb.handle(wb.newPassword))
	mux.Handle("GET /undo", wb.handle(wb.undoForm))
	mux.Handle("POST /undo", wb.handle(wb.undo))

	mux.Handle("GET /account", wb.signedIn(wb.account))
	mux.Handle("GET "+homePath, wb.signedIn(wb.overview))
	mux.Handle("POST /account/time-zone", wb.signedIn(wb.setTimeZone))
	mux.Handle("GET /account/devices/revoke-others", wb.signedIn(wb.revokeOthersConfirm))
	mux.Handle("POST /account/devices/revoke-others", wb.signedIn(wb.revokeOthers))
	mux.Handle("GET /account/devices/trusted/{id}/forget", wb.signedIn(wb.forgetConfirm))
	mux.Handle("POST /account/devices/trusted/{id}/forget", wb.signedIn(wb.forget))
	mux.Handle("GET /account/activity/{id}", wb.signedIn(wb.activityEvent))
	mux.Handle("GET /account/devices", wb.signedIn(wb.devices))
	mux.Handle("GET /account/devices/{id}/revoke", wb.signedIn(wb.revokeConfirm))
	mux.Handle("POST /account/devices/{id}/revoke", wb.signedIn(wb.revoke))
	mux.Handle("GET /account/activity", wb.signedIn(wb.activity))
	for _, k := range contactKinds {
		mux.Handle("GET "+k.path, wb.signedIn(wb.changeForm(k)))
		mux.Handle("POST "+k.path, wb.signedIn(wb.change(k)))
		mux.Handle("GET "+k.path+"/{change_id}", wb.signedIn(wb.changeCodeForm(k)))
		mux.Handle("POST "+k.path+"/{change_id}", wb.signedIn(wb.changeCode(k)))
	}

	mux.Handle("GET /account/verify", wb.signedIn(wb.confirmForm))
	mux.Handle("POST /account/verify", wb.signedIn(wb.confirm))
	mux.Handle("GET /account/security", wb.signedIn(wb.security))
	mux.Handle("GET /account/security/protection", wb.signedIn(wb.protectionForm))
	mux.Handle("POST /account/security/protection", wb.signedIn(wb.protection))
	mux.Handle("GET /account/security/totp", wb.signedIn(wb.totpForm))
	mux.Handle("POST /account/security/totp", wb.signedIn(wb.totp))
	mux.Handle("GET /account/security/hardware", wb.signedIn(wb.hardwareForm))
	mux.Handle("POST /account/security/hardware", wb.signedIn(wb.hardware))
	mux.Handle("POST "+webauthnRegisterBegin, wb.signedInJSON(wb.beginRegistration))
	mux.Handle("POST "+webauthnRegisterFinish, wb.signedInJSON(wb.finishRegistration))
	mux.Handle("GET /account/security/devices/{id}/rename", wb.signedIn(wb.renameForm))
	mux.Handle("POST /account/security/devices/{id}/rename", wb.signedIn(wb.rename))
	mux.Handle("GET /account/security/devices/{id}/remove", wb.signedIn(wb.removeForm))
	mux.Handle("POST /account/security/devices/{id}/remove", wb.signedIn(wb.remove))
	mux.Handle("GET /account/security/password", wb.signedIn(wb.passwordForm))
	mux.Handle("POST /account/security/password", wb.signedIn(wb.password))
	mux.Handle("GET /account/security/recovery", wb.signedIn(wb.recoveryForm))
	mux.Handle("POST /account/security/recovery", wb.signedIn(wb.recovery))
	wb.registerIdentity(mux)
	wb.registerStaff(mux)
	wb.registerTickets(mux)
	wb.registerStaffTickets(mux)
	wb.registerCollabs(mux)
	wb.registerSubUsers(mux)

	if wb.readOutbox != nil {
		mux.Handle("GET /dev/outbox", wb.handle(wb.outbox))
	}
}

// handlerFunc is a page handler. It writes a page or a redirect, or returns
// an error for serveError to show; it never writes an error status itself.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (wb *Web) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = withLanguage(r)
		if err := h(w, r); err != nil {
			wb.serveError(w, r, err)
		}
	})
}

// root sends people where they belong: their account when signed in, the
// login page otherwise.
func (wb *Web) root(w http.ResponseWriter, r *http.Request) error {
	if _, ok, err := wb.session(w, r); err != nil {
		return err
	} else if ok {
		return redirect(w, r, homePath)
	}
	return redirect(w, r, "/login")
}

// errorView is the error page.
type errorView struct {
	page
	Status    int
	Message   string // the error's own words; empty for a 5xx
	RequestID string // shown on a 5xx so support can find the log line
}

// serveError is the one place that turns an error into a response, and
// the only one that answers a page with an error status. A page a handler
// asks to show again (formAgain, gone) is rendered with its status; any
// other custos.Error shows its words on the error page with the status of
// its code (httperr.Status); anything else is a 500 that shows only the
// request id and logs the detail. An unavailable answer (503) carries a
// Retry-After, as the API's does; a failure after the client hung up is
// logged at info and recorded as httperr.StatusClientClosedRequest, not
// as a failure of ours.
func (wb *Web) serveError(w http.ResponseWriter, r *http.Request, err error) {
	var sp *shownPage
	if errors.As(err, &sp) {
		rerr := wb.write(w, sp.status(), sp.name, sp.view)
		if rerr == nil {
			return
		}
		err = rerr
	}
	info := requestinfo.From(r.Context())
	status := httperr.Status(err)
	if status >= 500 && httperr.ClientGone(r) {
		httperr.LogClientGone(r, err)
		w.WriteHeader(httperr.StatusClientClosedRequest)
		return
	}
	if custos.IsCode(err, custos.EUnavailable) {
		w.Header().Set("Retry-After", strconv.Itoa(httperr.UnavailableRetryAfter))
	}
	v := errorView{page: wb.newPage(r), Status: status, RequestID: info.ID}
	if status >= 500 {
		info.Logger.ErrorContext(r.Context(), "page failed", "path", requestinfo.LogPath(r), "err", err)
	} else {
		v.Message = v.errorText(err)
	}
	var buf bytes.Buffer
	if rerr := wb.template(v.Lang, "error").ExecuteTemplate(&buf, "layout", v); rerr != nil {
		info.Logger.ErrorContext(r.Context(), "error page failed", "err", rerr)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		io.WriteString(w, http.StatusText(status)+", request id "+info.ID+"\n")
		return
	}
	writeHTML(w, status, buf.Bytes())
}

// viewer is a page's typed view: every one embeds page.
type viewer interface{ language() string }

// render answers 200 with the page name. Every other status goes through
// serveError.
func (wb *Web) render(w http.ResponseWriter, name string, view viewer) error {
	return wb.write(w, http.StatusOK, name, view)
}

// write executes a page into a buffer first, so that a template failure
// becomes a clean error page instead of half a page.
func (wb *Web) write(w http.ResponseWriter, status int, name string, view viewer) error {
	var buf bytes.Buffer
	if err := wb.template(view.language(), name).ExecuteTemplate(&buf, "layout", view); err != nil {
		return fmt.Errorf("rendering %s: %w", name, err)
	}
	writeHTML(w, status, buf.Bytes())
	return nil
}

func (wb *Web) template(lang, name string) *template.Template {
	set, ok := wb.pages[lang]
	if !ok {
		set = wb.pages[message.DefaultLanguage]
	}
	p := set[name]
	if p == nil {
		return nil
	}
	return p.get()
}

func writeHTML(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Pages show personal data and answers to forms: keep them out of
	// shared and back-button caches.
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(body)
}

// redirect answers 303 See Other, so that a POST is followed by a GET.
func redirect(w http.ResponseWriter, r *http.Request, to string) error {
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// parseForm reads a posted form, bounded in size, and refuses (400
// invalid_request, on the field) a name or value that holds a NUL or
// invalid UTF-8: form values reach the store, and PostgreSQL text can
// hold neither. The server refuses such a path or query before any page
// sees it.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return custos.Fail(custos.ETooLarge, "form.too_large")
		}
		return custos.Fail(custos.EInvalidRequest, "form.unreadable")
	}
	cleanText := func(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }
	for name, values := range r.Form {
		bad := !cleanText(name)
		for _, v := range values {
			bad = bad || !cleanText(v)
		}
		if bad {
			e := custos.Fail(custos.EInvalidRequest, "form.unreadable")
			if cleanText(name) && !strings.ContainsFunc(name, unicode.IsControl) {
				e = e.OnField(name)
			}
			return e
		}
	}
	return nil
}

func client(r *http.Request) auth.Client {
	return auth.Client{Addr: requestinfo.From(r.Context()).ClientAddr, UserAgent: r.UserAgent()}
}

// withQuery returns path?key=value.
func withQuery(path, key, value string) string {
	return path + "?" + url.Values{key: {value}}.Encode()
}

// cleanCode drops what people paste around a code: spaces, dashes.
func cleanCode(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' || r == '\u00a0' {
			return -1
		}
		return r
	}, s)
}
