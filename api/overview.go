package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/auth"
)

// overviewRoutes are the Overview's endpoints, the time zone, "sign out
// all other devices", trusted browsers and an event's detail. Routes
// lists them with the rest.
func overviewRoutes() []Route {
	return []Route{
		{"GET", "/api/v1/account/overview", func(a *API) http.Handler { return a.authed(a.overview) }},
		{"PUT", "/api/v1/account/time-zone", func(a *API) http.Handler { return a.authed(a.setTimeZone) }},
		{"POST", "/api/v1/sessions/revoke-others", func(a *API) http.Handler { return a.authed(a.revokeOthers) }},
		{"GET", "/api/v1/trusted-devices", func(a *API) http.Handler { return a.authed(a.trustedDevices) }},
		{"DELETE", "/api/v1/trusted-devices/{id}", func(a *API) http.Handler { return a.authed(a.forgetTrustedDevice) }},
		{"GET", "/api/v1/activity/{id}", func(a *API) http.Handler { return a.authed(a.activityEvent) }},
	}
}

// scoreFix is the page of the account center that turns each protection
// of the security score on.
var scoreFix = map[string]string{
	auth.ProtectLogin:       "/account/security#setting-login-protection",
	auth.ProtectMFA:         "/account/security/totp",
	auth.ProtectPhone:       "/account/phone",
	auth.ProtectSecureEmail: "/account/secure-email",
}

func (a *API) overview(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	o, err := a.auth.Overview(r.Context(), sess)
	if err != nil {
		return err
	}
	items := make([]map[string]any, 0, len(o.Score))
	for _, it := range o.Score {
		item := map[string]any{"name": it.Name, "on": it.On, "fix": nil}
		if !it.On {
			item["fix"] = scoreFix[it.Name]
		}
		items = append(items, item)
	}
	var last any
	if ev := o.LastSignIn; ev != nil {
		last = map[string]any{"at": rfc3339(ev.At), "remote_addr": ev.RemoteAddr, "user_agent": ev.UserAgent}
	}
	var realName any
	if a.identity != nil && !o.Account.IsSubUser() {
		st, err := a.identity.Status(r.Context(), sess)
		if err != nil {
			return err
		}
		realName = st.State
	}
	zone := o.Account.TimeZone
	if zone == "" {
		zone = "UTC"
	}
	return writeJSON(w, http.StatusOK, map[string]any{
		"account_id":     o.Account.ID,
		"kind":           o.Account.Kind,
		"real_name":      realName,
		"time_zone":      zone,
		"last_sign_in":   last,
		"security_score": map[string]any{"on": o.On(), "total": len(o.Score), "items": items},
	})
}

func (a *API) setTimeZone(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	var req struct {
		TimeZone string `json:"time_zone"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := a.auth.SetTimeZone(r.Context(), sess, req.TimeZone); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) revokeOthers(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	n, err := a.auth.RevokeOtherSessions(r.Context(), sess, client(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"revoked": n})
}

func (a *API) trustedDevices(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	list, err := a.auth.TrustedDevices(r.Context(), sess.AccountID)
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(list))
	for _, d := range list {
		out = append(out, map[string]any{"id": d.ID, "created_at": rfc3339(d.CreatedAt), "expires_at": rfc3339(d.ExpiresAt),
			"remote_addr": d.RemoteAddr, "user_agent": d.UserAgent})
	}
	return writeJSON(w, http.StatusOK, map[string]any{"trusted_devices": out})
}

func (a *API) forgetTrustedDevice(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	if err := a.auth.ForgetTrustedDevice(r.Context(), sess.AccountID, r.PathValue("id"), client(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) activityEvent(w http.ResponseWriter, r *http.Request, sess custos.Session) error {
	e, err := a.auth.ActivityEvent(r.Context(), sess.AccountID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, eventView{ID: e.ID, At: rfc3339(e.At), Type: e.Type, RemoteAddr: e.RemoteAddr, UserAgent: e.UserAgent, Detail: e.Detail})
}

// activityQuery reads the activity endpoint's filter and paging: kind,
// from and to (RFC 3339), before (an event id) and limit; each bad one is
// invalid_request on its name.
func activityQuery(r *http.Request) (kind string, from, to time.Time, before string, limit int, err error) {
	q := r.URL.Query()
	at := func(name string) (time.Time, error) {
		v := q.Get(name)
		if v == "" {
			return time.Time{}, nil
		}
		t, perr := time.Parse(time.RFC3339, v)
		if perr != nil {
			return time.Time{}, custos.Fail(custos.EInvalidRequest, "overview.bad_date").OnField(name)
		}
		return t, nil
	}
	if from, err = at("from"); err != nil {
		return
	}
	if to, err = at("to"); err != nil {
		return
	}
	limit = 100 // the fixed answer's size when no limit is asked
	if v := q.Get("limit"); v != "" {
		n, cerr := strconv.Atoi(v)
		if cerr != nil || n < 1 || n > auth.MaxActivityPage {
			err = custos.Fail(custos.EInvalidRequest, "overview.bad_limit", auth.MaxActivityPage).OnField("limit")
			return
		}
		limit = n
	}
	return q.Get("kind"), from, to, q.Get("before"), limit, nil
}
