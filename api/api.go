package api

import (
	_ "embed"
	"net/http"
	"strings"

	"github.com/custos/custos"
	"github.com/custos/custos/auth"
	"github.com/custos/custos/binding"
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

// OpenAPI is the OpenAPI 3 document describing every route of this package.
//
//go:embed openapi.yaml
var OpenAPI []byte

// Deps are what the API calls.
type Deps struct {
	Auth     *auth.Service
	MFA      *mfa.Service
	Binding  *binding.Service
	Recovery *recovery.Service
	Identity *identity.Service
	Staff    *staff.Service
	Tickets  *ticket.Service
	SubUsers *subaccount.Service
	Collabs  *subaccount.Collabs
	Uploads  *upload.Parser
	Clock    custos.Clock
	Metrics  prometheus.Registerer // may be nil
	// SessionCookie is the name of the pages' session cookie, which the
	// forward-auth endpoint reads when a request has no bearer token.
	SessionCookie string
	// LoginURL is the login page's absolute URL, which a 401 of the
	// forward-auth endpoint names for the proxy to redirect to.
	LoginURL string
}

// API serves /api/v1.
type API struct {
	auth     *auth.Service
	mfa      *mfa.Service
	binding  *binding.Service
	recovery *recovery.Service
	identity *identity.Service
	staff    *staff.Service
	tickets  *ticket.Service
	subusers *subaccount.Service
	collabs  *subaccount.Collabs
	uploads  *upload.Parser
	clock    custos.Clock
	logins   *prometheus.CounterVec

	sessionCookie, loginURL string // forward authentication (forwardauth.go)
}

// New returns the API, registering its metrics with d.Metrics.
func New(d Deps) *API {
	a := &API{
		auth:     d.Auth,
		mfa:      d.MFA,
		binding:  d.Binding,
		recovery: d.Recovery,
		identity: d.Identity,
		staff:    d.Staff,
		tickets:  d.Tickets,
		subusers: d.SubUsers,
		collabs:  d.Collabs,
		uploads:  d.Uploads,
		clock:    d.Clock,

		sessionCookie: d.SessionCookie,
		loginURL:      d.LoginURL,
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "custos_logins_total",
			Help: "Password login attempts by outcome (success, or the error code).",
		}, []string{"outcome"}),
	}
	if d.Metrics != nil {
		d.Metrics.MustRegister(a.logins)
	}
	return a
}

// Route is one method and path the API serves, in http.ServeMux pattern form.
type Route struct {
	Method  string
	Path    string
	handler func(a *API) http.Handler
}

// Pattern is the ServeMux pattern of the route.
func (rt Route) Pattern() string { return rt.Method + " " + rt.Path }

// Routes lists everything the API serves.
func Routes() []Route {
	return append([]Route{
		{"POST", "/api/v1/signup", func(a *API) http.Handler { return a.handle(a.signup) }},
		{"POST", "/api/v1/signup/verify", func(a *API) http.Handler { return a.handle(a.signupVerify) }},
		{"POST", "/api/v1/login", func(a *API) http.Handler { return a.handle(a.login) }},
		{"GET", "/api/v1/session", func(a *API) http.Handler { return a.authedPrincipal(a.getSession) }},
		{"DELETE", "/api/v1/session", func(a *API) http.Handler { return a.authed(a.deleteSession) }},
		{"GET", "/api/v1/sessions", func(a *API) http.Handler { return a.authed(a.listSessions) }},
		{"DELETE", "/api/v1/sessions/{id}", func(a *API) http.Handler { return a.authed(a.revokeSession) }},
		{"GET", "/api/v1/account", func(a *API) http.Handler { return a.authed(a.getAccount) }},
		{"GET", "/api/v1/activity", func(a *API) http.Handler { return a.authed(a.activity) }},
		{"POST", "/api/v1/login/second-factor", func(a *API) http.Handler { return a.handle(a.secondFactor) }},
		{"POST", "/api/v1/login/second-factor/send", func(a *API) http.Handler { return a.handle(a.sendSecondFactor) }},
		{"POST", "/api/v1/verifications", func(a *API) http.Handler { return a.authed(a.startVerification) }},
		{"POST", "/api/v1/verifications/{id}", func(a *API) http.Handler { return a.authed(a.completeVerification) }},
		{"PUT", "/api/v1/account/password", func(a *API) http.Handler { return a.authed(a.changePassword) }},
		{"PUT", "/api/v1/account/protection", func(a *API) http.Handler { return a.authed(a.setProtection) }},
		{"PUT", "/api/v1/account/language", func(a *API) http.Handler { return a.authed(a.setLanguage) }},
		{"GET", "/api/v1/account/new-device-protection", func(a *API) http.Handler { return a.authed(a.newDeviceStep) }},
		{"PUT", "/api/v1/account/new-device-protection", func(a *API) http.Handler { return a.authed(a.setNewDeviceStep) }},
		{"POST", "/api/v1/mfa/totp", func(a *API) http.Handler { return a.authed(a.beginTOTP) }},
		{"POST", "/api/v1/mfa/totp/{device_id}/confirm", func(a *API) http.Handler { return a.authed(a.confirmTOTP) }},
		{"POST", "/api/v1/mfa/hardware", func(a *API) http.Handler { return a.authed(a.bindHardware) }},
		{"POST", "/api/v1/mfa/hardware/{device_id}/resync", func(a *API) http.Handler { return a.authed(a.resyncHardware) }},
		{"PATCH", "/api/v1/mfa/{device_id}", func(a *API) http.Handler { return a.authed(a.renameDevice) }},
		{"DELETE", "/api/v1/mfa/{device_id}", func(a *API) http.Handler { return a.authed(a.unbindDevice) }},
		{"POST", "/api/v1/mfa/webauthn/register/begin", func(a *API) http.Handler { return a.authed(a.beginWebAuthnRegistration) }},
		{"POST", "/api/v1/mfa/webauthn/register/finish", func(a *API) http.Handler { return a.authed(a.finishWebAuthnRegistration) }},
		{"POST", "/api/v1/login/second-factor/webauthn/begin", func(a *API) http.Handler { return a.handle(a.beginWebAuthnSecondFactor) }},
		{"POST", "/api/v1/login/second-factor/webauthn/finish", func(a *API) http.Handler { return a.handle(a.finishWebAuthnSecondFactor) }},
		{"POST", "/api/v1/mfa/recovery-codes", func(a *API) http.Handler { return a.authed(a.recoveryCodes) }},
		{"POST", "/api/v1/account/phone", func(a *API) http.Handler { return a.authed(a.startPhoneChange) }},
		{"POST", "/api/v1/account/phone/{change_id}", func(a *API) http.Handler { return a.authed(a.finishPhoneChange) }},
		{"POST", "/api/v1/account/email", func(a *API) http.Handler { return a.authed(a.startEmailChange) }},
		{"POST", "/api/v1/account/email/{change_id}", func(a *API) http.Handler { return a.authed(a.finishEmailChange) }},
		{"POST", "/api/v1/account/secure-email", func(a *API) http.Handler { return a.authed(a.startSecureEmail) }},
		{"POST", "/api/v1/account/secure-email/{change_id}", func(a *API) http.Handler { return a.authed(a.finishSecureEmail) }},
		{"POST", "/api/v1/retrieve", func(a *API) http.Handler { return a.handle(a.startRetrieve) }},
		{"POST", "/api/v1/retrieve/{retrieval_id}", func(a *API) http.Handler { return a.handle(a.finishRetrieve) }},
		{"POST", "/api/v1/password-reset", func(a *API) http.Handler { return a.handle(a.startReset) }},
		{"POST", "/api/v1/password-reset/{reset_id}", func(a *API) http.Handler { return a.handle(a.proveReset) }},
		{"POST", "/api/v1/password-reset/{reset_id}/complete", func(a *API) http.Handler { return a.handle(a.completeReset) }},
		{"POST", "/api/v1/undo", func(a *API) http.Handler { return a.handle(a.undo) }},
		{"POST", "/api/v1/captcha", func(a *API) http.Handler { return a.handle(a.newCaptcha) }},
		{"GET", "/api/v1/captcha/{id}/image", func(a *API) http.Handler { return a.handle(a.captchaImage) }},
		{"GET", "/api/v1/captcha/{id}/audio", func(a *API) http.Handler { return a.handle(a.captchaAudio) }},
		{"GET", "/api/v1/account/identity", func(a *API) http.Handler { return a.authed(a.getIdentity) }},
		{"POST", "/api/v1/account/identity", func(a *API) http.Handler { return a.authed(a.submitIdentity) }},
		{"POST", "/api/v1/staff/enrol/{token}", func(a *API) http.Handler { return a.handle(a.staffEnrol) }},
		{"POST", "/api/v1/staff/enrol/{token}/confirm", func(a *API) http.Handler { return a.handle(a.staffEnrolConfirm) }},
		{"POST", "/api/v1/staff/login", func(a *API) http.Handler { return a.handle(a.staffLogin) }},
		{"POST", "/api/v1/staff/login/second-factor", func(a *API) http.Handler { return a.handle(a.staffSecondFactor) }},
		{"GET", "/api/v1/staff/session", func(a *API) http.Handler { return a.staffAuthed(a.staffSession) }},
		{"DELETE", "/api/v1/staff/session", func(a *API) http.Handler { return a.staffAuthed(a.staffLogout) }},
		{"GET", "/api/v1/staff/identity-reviews", func(a *API) http.Handler { return a.staffAuthed(a.identityReviews) }},
		{"GET", "/api/v1/staff/identity-reviews/{id}", func(a *API) http.Handler { return a.staffAuthed(a.identityReview) }},
		{"GET", "/api/v1/staff/identity-reviews/{id}/files/{file_id}", func(a *API) http.Handler { return a.staffAuthed(a.identityFile) }},
		{"POST", "/api/v1/staff/identity-reviews/{id}/decision", func(a *API) http.Handler { return a.staffAuthed(a.identityDecision) }},
		{"GET", "/api/v1/staff/members", func(a *API) http.Handler { return a.staffAuthed(a.listStaff) }},
		{"POST", "/api/v1/staff/members", func(a *API) http.Handler { return a.staffAuthed(a.addStaff) }},
		{"POST", "/api/v1/staff/members/{id}/disable", func(a *API) http.Handler { return a.staffAuthed(a.disableStaff) }},
		{"GET", "/api/v1/staff/audit", func(a *API) http.Handler { return a.staffAuthed(a.staffAudit) }},
		{"POST", "/api/v1/tickets/contact", func(a *API) http.Handler { return a.handle(a.ticketContact) }},
		{"POST", "/api/v1/tickets/contact/{contact_id}", func(a *API) http.Handler { return a.handle(a.ticketContactCode) }},
		{"POST", "/api/v1/tickets/phone", func(a *API) http.Handler { return a.handle(a.ticketPhone) }},
		{"POST", "/api/v1/tickets/phone/{phone_proof_id}", func(a *API) http.Handler { return a.handle(a.ticketPhoneCode) }},
		{"POST", "/api/v1/tickets", func(a *API) http.Handler { return a.handle(a.submitTicket) }},
		{"POST", "/api/v1/tickets/cancel", func(a *API) http.Handler { return a.handle(a.cancelTicketByLink) }},
		{"GET", "/api/v1/tickets/{ticket_number}", func(a *API) http.Handler { return a.handle(a.ticketStatus) }},
		{"POST", "/api/v1/tickets/answer", func(a *API) http.Handler { return a.handle(a.answerTicket) }},
		{"POST", "/api/v1/tickets/withdraw", func(a *API) http.Handler { return a.handle(a.withdrawTicket) }},
		{"GET", "/api/v1/account/tickets", func(a *API) http.Handler { return a.authed(a.myTickets) }},
		{"POST", "/api/v1/account/tickets/{ticket_number}/cancel", func(a *API) http.Handler { return a.authed(a.cancelMyTicket) }},
		{"GET", "/api/v1/staff/tickets", func(a *API) http.Handler { return a.staffAuthed(a.staffTickets) }},
		{"GET", "/api/v1/staff/tickets/{id}", func(a *API) http.Handler { return a.staffAuthed(a.staffTicket) }},
		{"GET", "/api/v1/staff/tickets/{id}/files/{file_id}", func(a *API) http.Handler { return a.staffAuthed(a.staffTicketFile) }},
		{"POST", "/api/v1/staff/tickets/{id}/decision", func(a *API) http.Handler { return a.staffAuthed(a.staffTicketDecision) }},
		{"POST", "/api/v1/login/bind-mfa", func(a *API) http.Handler { return a.handle(a.loginBindMFA) }},
		{"POST", "/api/v1/login/bind-mfa/confirm", func(a *API) http.Handler { return a.handle(a.loginBindMFAConfirm) }},
		{"POST", "/api/v1/login/change-password", func(a *API) http.Handler { return a.handle(a.loginChangePassword) }},
		{"POST", "/api/v1/sub-users", func(a *API) http.Handler { return a.authed(a.createSubUser) }},
		{"GET", "/api/v1/sub-users", func(a *API) http.Handler { return a.authed(a.listSubUsers) }},
		{"GET", "/api/v1/sub-users/{id}", func(a *API) http.Handler { return a.authed(a.getSubUser) }},
		{"PATCH", "/api/v1/sub-users/{id}", func(a *API) http.Handler { return a.authed(a.updateSubUser) }},
		{"POST", "/api/v1/sub-users/{id}/reset-mfa", func(a *API) http.Handler { return a.authed(a.resetSubUserMFA) }},
		{"POST", "/api/v1/sub-users/{id}/reset-password", func(a *API) http.Handler { return a.authed(a.resetSubUserPassword) }},
		{"GET", "/api/v1/sub-users/{id}/activity", func(a *API) http.Handler { return a.authed(a.subUserActivity) }},
		{"GET", "/api/v1/password-rules", func(a *API) http.Handler { return a.authed(a.getPasswordRules) }},
		{"PUT", "/api/v1/password-rules", func(a *API) http.Handler { return a.authed(a.setPasswordRules) }},
		{"POST", "/api/v1/collaborators", func(a *API) http.Handler { return a.authed(a.inviteCollaborator) }},
		{"GET", "/api/v1/collaborators", func(a *API) http.Handler { return a.authed(a.listCollaborators) }},
		{"PATCH", "/api/v1/collaborators/{id}", func(a *API) http.Handler { return a.authed(a.setCollaboratorProtection) }},
		{"DELETE", "/api/v1/collaborators/{id}", func(a *API) http.Handler { return a.authed(a.endCollaboration) }},
		{"POST", "/api/v1/collaborations/accept", func(a *API) http.Handler { return a.authed(a.acceptCollaboration) }},
		{"GET", "/api/v1/collaborations", func(a *API) http.Handler { return a.authed(a.myCollaborations) }},
		{"DELETE", "/api/v1/collaborations/{id}", func(a *API) http.Handler { return a.authed(a.endCollaboration) }},
		{"POST", "/api/v1/collaborations/switch", func(a *API) http.Handler { return a.authed(a.switchAccount) }},
		{"GET", "/api/v1/openapi.yaml", func(a *API) http.Handler { return a.handle(a.openapi) }},
		{"GET", "/api/v1/forward-auth", func(a *API) http.Handler { return a.handle(a.forwardAuth) }},
	}, overviewRoutes()...)
}

// Register adds every route to mux, and a JSON 404 for other /api/ paths.
func (a *API) Register(mux *http.ServeMux) {
	for _, rt := range Routes() {
		mux.Handle(rt.Pattern(), rt.handler(a))
	}
	mux.Handle("/api/", a.handle(func(w http.ResponseWriter, r *http.Request) error {
		return custos.Fail(custos.ENotFound, "api.no_endpoint", r.Method, r.URL.Path)
	}))
}

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (a *API) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The messages a request causes are written in its language.
		r = r.WithContext(custos.WithLanguage(r.Context(), message.For(r.Header.Get("Accept-Language")).Language()))
		if err := h(w, r); err != nil {
			a.writeError(w, r, err)
		}
	})
}

// bearerToken is the token of r's "Authorization: Bearer …" header, ""
// when it has none.
func bearerToken(r *http.Request) string {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

type authedFunc func(w http.ResponseWriter, r *http.Request, sess custos.Session) error

// authed requires a live session named by the Authorization bearer token.
func (a *API) authed(h authedFunc) http.Handler {
	return a.handle(func(w http.ResponseWriter, r *http.Request) error {
		token := bearerToken(r)
		if token == "" {
			return custos.Fail(custos.EUnauthenticated, "api.bearer")
		}
		sess, err := a.auth.Authenticate(r.Context(), token)
		if err != nil {
			return err
		}
		return h(w, r, sess)
	})
}

type principalFunc func(w http.ResponseWriter, r *http.Request, sess custos.Session, p auth.Principal) error

// authedPrincipal is authed for a handler that also needs who the session
// is: the session and its principal come from one store read.
func (a *API) authedPrincipal(h principalFunc) http.Handler {
	return a.handle(func(w http.ResponseWriter, r *http.Request) error {
		token := bearerToken(r)
		if token == "" {
			return custos.Fail(custos.EUnauthenticated, "api.bearer")
		}
		sess, p, err := a.auth.AuthenticatePrincipal(r.Context(), token)
		if err != nil {
			return err
		}
		return h(w, r, sess, p)
	})
}

func client(r *http.Request) auth.Client {
	return auth.Client{Addr: requestinfo.From(r.Context()).ClientAddr, UserAgent: r.UserAgent()}
}

func (a *API) openapi(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/yaml")
	_, err := w.Write(OpenAPI)
	return err
}
