package api_test

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos/custos/api"
	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/internal/testserver"
)

// forwardAuth sends GET /api/v1/forward-auth with the given headers and
// returns the answer, its body read.
func forwardAuth(t testing.TB, env *testserver.Env, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", env.URL+"/api/v1/forward-auth", nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := env.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// wantPrincipal checks a 200 of forward-auth: no body, and the principal
// headers (user name "" for none).
func wantPrincipal(t *testing.T, what string, resp *http.Response, body []byte, account, kind, root, user string) {
	t.Helper()
	h := resp.Header
	if resp.StatusCode != http.StatusOK || len(body) != 0 {
		t.Fatalf("%s: %d %q, want 200 without a body", what, resp.StatusCode, body)
	}
	got := []string{h.Get(api.HeaderAccountID), h.Get(api.HeaderPrincipal), h.Get(api.HeaderRootAccountID), h.Get(api.HeaderUserName)}
	if want := []string{account, kind, root, user}; !slices.Equal(got, want) {
		t.Fatalf("%s: account, principal, root, user name = %q, want %q", what, got, want)
	}
	if v, ok := h[http.CanonicalHeaderKey(api.HeaderUserName)]; user == "" && ok {
		t.Fatalf("%s: a user name header %q for a principal without one", what, v)
	}
	if _, err := time.Parse(time.RFC3339, h.Get(api.HeaderAuthenticatedAt)); err != nil {
		t.Fatalf("%s: authenticated-at %q: %v", what, h.Get(api.HeaderAuthenticatedAt), err)
	}
	if h.Get("Cache-Control") != "no-store" {
		t.Fatalf("%s: Cache-Control %q", what, h.Get("Cache-Control"))
	}
}

func bearer(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token}
}

func sessionCookie(token string) map[string]string {
	return map[string]string{"Cookie": "custos_session=" + token}
}

func TestForwardAuth(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		u, _ := url.Parse(env.URL)
		loginPage := "http://localhost:" + u.Port() + "/login"

		// Signed out: 401 unauthenticated, naming the login page, which
		// comes back to the original URL when the proxy named one.
		resp, body := forwardAuth(t, env, nil)
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get(api.HeaderLogin) != loginPage || resp.Header.Get(api.HeaderAccountID) != "" {
			t.Fatalf("signed out: %d %s %v", resp.StatusCode, body, resp.Header)
		}
		original := "https://app.example.com/reports?year=2026&q=a b"
		resp, _ = forwardAuth(t, env, map[string]string{api.HeaderOriginalURL: original})
		login, err := url.Parse(resp.Header.Get(api.HeaderLogin))
		if resp.StatusCode != http.StatusUnauthorized || err != nil || login.Scheme+"://"+login.Host+login.Path != loginPage || login.Query().Get("rd") != original {
			t.Fatalf("signed out with X-Original-URL: %d %q", resp.StatusCode, resp.Header.Get(api.HeaderLogin))
		}
		resp, _ = forwardAuth(t, env, map[string]string{api.HeaderOriginalURL: "https://app.example.com/" + strings.Repeat("a", 2048)})
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get(api.HeaderLogin) != loginPage {
			t.Fatalf("signed out with a too long X-Original-URL: %d %q", resp.StatusCode, resp.Header.Get(api.HeaderLogin))
		}
		id := env.SignUp(t, "fay@example.com", goodPassword)
		tok := env.Login(t, "fay@example.com", goodPassword)
		for name, h := range map[string]map[string]string{
			"a dead bearer token": bearer("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
			"a dead cookie":       sessionCookie("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
			"another cookie name": {"Cookie": "session=" + tok},
			"basic credentials":   {"Authorization": "Basic dXNlcjpwYXNz"},
		} {
			if resp, body := forwardAuth(t, env, h); resp.StatusCode != http.StatusUnauthorized || resp.Header.Get(api.HeaderAccountID) != "" {
				t.Fatalf("%s: %d %s", name, resp.StatusCode, body)
			}
		}

		// Signed in, by bearer token or by the pages' cookie.
		resp, body = forwardAuth(t, env, bearer(tok))
		wantPrincipal(t, "bearer", resp, body, id, "root", id, "")
		if resp.Header.Get(api.HeaderSecondFactor) != "false" || resp.Header.Get(api.HeaderVerifiedUntil) != "" {
			t.Fatalf("second factor %q, verified until %q", resp.Header.Get(api.HeaderSecondFactor), resp.Header.Get(api.HeaderVerifiedUntil))
		}
		resp, body = forwardAuth(t, env, sessionCookie(tok))
		wantPrincipal(t, "cookie", resp, body, id, "root", id, "")
		// A bearer token is the request's credential even beside a cookie.
		otherID := env.SignUp(t, "gus@example.com", goodPassword)
		other := env.Login(t, "gus@example.com", goodPassword)
		h := bearer(other)
		h["Cookie"] = "custos_session=" + tok
		resp, body = forwardAuth(t, env, h)
		wantPrincipal(t, "bearer beside a cookie", resp, body, otherID, "root", otherID, "")

		// The operation-verification window shows while it is open.
		env.Verify(t, tok, "fay@example.com")
		resp, _ = forwardAuth(t, env, sessionCookie(tok))
		until, err := time.Parse(time.RFC3339, resp.Header.Get(api.HeaderVerifiedUntil))
		if err != nil || !until.After(env.Clock.Now()) {
			t.Fatalf("verified until %q after a verification", resp.Header.Get(api.HeaderVerifiedUntil))
		}
		env.Clock.Advance(until.Sub(env.Clock.Now()) + time.Second)
		resp, body = forwardAuth(t, env, sessionCookie(tok))
		wantPrincipal(t, "after the window", resp, body, id, "root", id, "")
		if v := resp.Header.Get(api.HeaderVerifiedUntil); v != "" {
			t.Fatalf("verified until %q after the window closed", v)
		}

		// Logged out: refused at once.
		if r := env.Do(t, "DELETE", "/api/v1/session", tok, nil); r.Status != http.StatusNoContent {
			t.Fatalf("logout: %d %s", r.Status, r.Raw)
		}
		if resp, body := forwardAuth(t, env, sessionCookie(tok)); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("after logout: %d %s", resp.StatusCode, body)
		}
	})
}

// TestForwardAuthPrincipals: a sub-user and a collaborator working in a
// root's account say who they are and whose account it is.
func TestForwardAuthPrincipals(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		rootID := env.SignUp(t, "owner@example.com", goodPassword)
		root := env.Login(t, "owner@example.com", goodPassword)
		env.Verify(t, root, "owner@example.com")
		r := env.Do(t, "POST", "/api/v1/sub-users", root, map[string]any{"user_name": "ops", "password": "tidy violet lantern 4217",
			"must_bind_mfa": false, "login_protection": "off", "operation_protection": "off"})
		if r.Status != http.StatusCreated {
			t.Fatalf("create sub-user: %d %s", r.Status, r.Raw)
		}
		sub := subLogin(t, env, rootID, "ops", "tidy violet lantern 4217")
		resp, body := forwardAuth(t, env, sessionCookie(sub.String("session_token")))
		wantPrincipal(t, "sub-user", resp, body, r.String("sub_user_id"), "sub_user", rootID, "ops")

		helperID := env.SignUp(t, "helper@example.com", goodPassword)
		helper := env.Login(t, "helper@example.com", goodPassword)
		if r := env.Do(t, "POST", "/api/v1/collaborators", root, map[string]string{"email": "helper@example.com", "login_protection": "off"}); r.Status != http.StatusCreated {
			t.Fatalf("invite: %d %s", r.Status, r.Raw)
		}
		if r := env.Do(t, "POST", "/api/v1/collaborations/accept", helper, map[string]string{"token": inviteLinkToken(t, env, "helper@example.com")}); r.Status != http.StatusOK {
			t.Fatalf("accept: %d %s", r.Status, r.Raw)
		}
		resp, body = forwardAuth(t, env, sessionCookie(helper))
		wantPrincipal(t, "collaborator in their own account", resp, body, helperID, "root", helperID, "")
		if r := env.Do(t, "POST", "/api/v1/collaborations/switch", helper, map[string]string{"root_account_id": rootID}); r.Status != http.StatusOK {
			t.Fatalf("switch: %d %s", r.Status, r.Raw)
		}
		resp, body = forwardAuth(t, env, sessionCookie(helper))
		wantPrincipal(t, "collaborator switched in", resp, body, helperID, "collaborator", rootID, "")
	})
}

// TestForwardAuthLogoutOnEveryReplica: a session logged out on one replica
// is refused by the other's forward-auth at once.
func TestForwardAuthLogoutOnEveryReplica(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			one, two := twoReplicas(t, d)
			id := one.SignUp(t, "hal@example.com", goodPassword)
			tok := one.Login(t, "hal@example.com", goodPassword)
			resp, body := forwardAuth(t, two, sessionCookie(tok))
			wantPrincipal(t, "the other replica", resp, body, id, "root", id, "")
			if r := one.Do(t, "DELETE", "/api/v1/session", tok, nil); r.Status != http.StatusNoContent {
				t.Fatalf("logout: %d %s", r.Status, r.Raw)
			}
			if resp, body := forwardAuth(t, two, sessionCookie(tok)); resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("the other replica after logout: %d %s", resp.StatusCode, body)
			}
		})
	}
}

// BenchmarkForwardAuth measures what forward authentication costs per
// request against the plain session check GET /api/v1/session, each
// iteration sending one of each in turn for one live session; it reports
// the ratio of the medians (fwd/session: below 1 is cheaper) and of the
// means.
func BenchmarkForwardAuth(b *testing.B) {
	for _, d := range testdb.Dialects() {
		b.Run("store="+d, func(b *testing.B) {
			env := testserver.Start(b, testserver.Options{Dialect: d})
			env.SignUp(b, "ivy@example.com", goodPassword)
			tok := env.Login(b, "ivy@example.com", goodPassword)
			var fwd, sess []time.Duration
			for b.Loop() {
				start := time.Now()
				r := env.Do(b, "GET", "/api/v1/session", tok, nil)
				sess = append(sess, time.Since(start))
				if r.Status != http.StatusOK {
					b.Fatalf("session: %d %s", r.Status, r.Raw)
				}
				start = time.Now()
				resp, _ := forwardAuth(b, env, sessionCookie(tok))
				fwd = append(fwd, time.Since(start))
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("forward-auth: %d", resp.StatusCode)
				}
			}
			fm, sm := meanOf(fwd), meanOf(sess)
			f, s := medianOf(fwd), medianOf(sess)
			b.ReportMetric(float64(fm)/float64(sm), "fwd/session-mean")
			b.ReportMetric(float64(f.Nanoseconds()), "fwd-ns/req")
			b.ReportMetric(float64(s.Nanoseconds()), "session-ns/req")
			b.ReportMetric(float64(f)/float64(s), "fwd/session")
		})
	}
}

// medianOf is the median of ds (which it sorts).
func medianOf(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// meanOf is the mean of ds.
func meanOf(ds []time.Duration) time.Duration {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(len(ds))
}
