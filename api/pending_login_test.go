package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testserver"
)

// protectedHolder is an account under login protection with an
// authenticator app, and its holder signed in.
type protectedHolder struct {
	email     string
	accountID string
	token     string // the holder's session
	secret    []byte // the app's seed
}

// newProtectedHolder signs up email, binds an app and turns login
// protection on.
func newProtectedHolder(t *testing.T, env *testserver.Env, email string) protectedHolder {
	t.Helper()
	h := protectedHolder{email: email, accountID: env.SignUp(t, email, goodPassword)}
	h.token = env.Login(t, email, goodPassword)
	h.secret = bindTOTP(t, env, h.token)
	verify(t, env, h.token, h.secret)
	if r := env.Do(t, "PUT", "/api/v1/account/protection", h.token, map[string]bool{"login_protection": true}); r.Status != http.StatusOK {
		t.Fatalf("login protection on: %d %s", r.Status, r.Raw)
	}
	return h
}

// pendingLogin is what an attacker who knows the password holds: a login
// token waiting for its second factor.
func pendingLogin(t *testing.T, env *testserver.Env, email string) string {
	t.Helper()
	r := login(t, env, email, goodPassword, "", "")
	if r.Status != http.StatusOK || r.String("next") != "second_factor" || r.String("login_token") == "" {
		t.Fatalf("login under protection: %d %s", r.Status, r.Raw)
	}
	return r.String("login_token")
}

// wantNoSessions fails t unless the account has no session at all.
func wantNoSessions(t *testing.T, env *testserver.Env, accountID string) {
	t.Helper()
	sessions, err := env.App.Store.ListSessions(t.Context(), accountID)
	if err != nil {
		t.Fatalf("ListSessions: %v", err)
	}
	if len(sessions) != 0 {
		t.Fatalf("%d sessions exist, want none: %+v", len(sessions), sessions)
	}
}

// TestPendingLoginDiesWithThePassword: an attacker who knows the password
// holds a login token waiting for its second factor; the holder then
// changes the password, resets it, or freezes the account ("it wasn't
// me"). The token is dead: a right code on it opens no session.
func TestPendingLoginDiesWithThePassword(t *testing.T) {
	tests := []struct {
		name string
		// replace ends the old password, as the holder does.
		replace func(t *testing.T, env *testserver.Env, h protectedHolder)
	}{
		{
			name: "password change",
			replace: func(t *testing.T, env *testserver.Env, h protectedHolder) {
				verify(t, env, h.token, h.secret)
				if r := env.Do(t, "PUT", "/api/v1/account/password", h.token, map[string]string{"password": "a fresh new passphrase"}); r.Status != http.StatusOK {
					t.Fatalf("change password: %d %s", r.Status, r.Raw)
				}
			},
		},
		{
			name: "password reset",
			replace: func(t *testing.T, env *testserver.Env, h protectedHolder) {
				r := env.Do(t, "POST", "/api/v1/password-reset", "", map[string]any{"email": h.email, "captcha": map[string]string{"id": newCaptcha(t, env), "answer": "test"}})
				if r.Status != http.StatusAccepted {
					t.Fatalf("start reset: %d %s", r.Status, r.Raw)
				}
				id := r.String("reset_id")
				if p := env.Do(t, "POST", "/api/v1/password-reset/"+id, "", map[string]string{"code": env.Code(t, h.email, "reset_code")}); p.Status != http.StatusOK {
					t.Fatalf("prove reset: %d %s", p.Status, p.Raw)
				}
				env.Clock.Advance(30 * time.Second)
				body := map[string]string{"account_id": h.accountID, "password": "a brand new passphrase", "mfa_method": "totp", "mfa_code": totp(env, h.secret)}
				if c := env.Do(t, "POST", "/api/v1/password-reset/"+id+"/complete", "", body); c.Status != http.StatusOK {
					t.Fatalf("complete reset: %d %s", c.Status, c.Raw)
				}
			},
		},
		{
			name: "it wasn't me",
			replace: func(t *testing.T, env *testserver.Env, h protectedHolder) {
				verify(t, env, h.token, h.secret)
				r := env.Do(t, "POST", "/api/v1/account/email", h.token, map[string]string{"email": "moved-" + h.email})
				if r.Status != http.StatusAccepted {
					t.Fatalf("email change: %d %s", r.Status, r.Raw)
				}
				if f := env.Do(t, "POST", "/api/v1/account/email/"+r.String("change_id"), h.token, map[string]string{"code": env.Code(t, "moved-"+h.email, "email_code")}); f.Status != http.StatusOK {
					t.Fatalf("prove email: %d %s", f.Status, f.Raw)
				}
				notice := env.Messages(t, h.email)[0]
				if notice.Purpose != "email_changed" {
					t.Fatalf("old address not told: %+v", notice)
				}
				if u := env.Do(t, "POST", "/api/v1/undo", "", map[string]string{"token": undoToken(t, notice.Text)}); u.Status != http.StatusOK {
					t.Fatalf("undo: %d %s", u.Status, u.Raw)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			forEachDialect(t, func(t *testing.T, env *testserver.Env) {
				h := newProtectedHolder(t, env, "ines@example.com")
				lt := pendingLogin(t, env, h.email)

				tc.replace(t, env, h)

				// The attacker has a right code, on a fresh time step.
				env.Clock.Advance(30 * time.Second)
				r := env.Do(t, "POST", "/api/v1/login/second-factor", "", map[string]string{"login_token": lt, "method": "totp", "code": totp(env, h.secret)})
				if r.Status != http.StatusGone || r.ErrorCode() != custos.EExpired || r.String("session_token") != "" {
					t.Fatalf("second factor on a login token from before: %d %s, want 410 expired", r.Status, r.Raw)
				}
				wantNoSessions(t, env, h.accountID)
			})
		})
	}
}

// TestLoginTokenStoredJustAfterAReset is the second-factor side of the
// window: the login checked the old password, the reset committed (and
// deleted every login flow of the account there was), and only then was
// the login's flow stored, out of the reset's reach. The flow carries the
// version its password was checked against, so a right code on it still
// opens no session.
func TestLoginTokenStoredJustAfterAReset(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		ctx := t.Context()
		store := env.App.Store
		h := newProtectedHolder(t, env, "wren@example.com")
		lt := pendingLogin(t, env, h.email)
		pending, err := store.FlowByID(ctx, custos.SecretID(lt), custos.FlowLogin, env.Clock.Now())
		if err != nil {
			t.Fatalf("FlowByID(the login token): %v", err)
		}
		reset := custos.AuditEvent{ID: "ev-window-reset", At: env.Clock.Now(), AccountID: h.accountID, Type: custos.EventPasswordReset}
		if err := store.ResetPassword(ctx, h.accountID, "$argon2id$new", "id:"+h.email, reset); err != nil {
			t.Fatalf("ResetPassword: %v", err)
		}
		if _, err := store.FlowByID(ctx, pending.ID, custos.FlowLogin, env.Clock.Now()); !custos.IsCode(err, custos.ENotFound) {
			t.Fatalf("the login flow survived the reset: %v", err)
		}
		if err := store.CreateFlow(ctx, pending); err != nil { // stored just after the reset
			t.Fatalf("CreateFlow: %v", err)
		}
		env.Clock.Advance(30 * time.Second)
		r := env.Do(t, "POST", "/api/v1/login/second-factor", "", map[string]string{"login_token": lt, "method": "totp", "code": totp(env, h.secret)})
		if r.Status != http.StatusGone || r.ErrorCode() != custos.EExpired || r.String("session_token") != "" {
			t.Fatalf("second factor on a login token stored after the reset: %d %s, want 410 expired", r.Status, r.Raw)
		}
		wantNoSessions(t, env, h.accountID)
	})
}

// TestPendingLoginSurvivesARehash: a rehash at login (new argon2
// parameters, same password) is no password change, and a login token
// waiting meanwhile still finishes.
func TestPendingLoginSurvivesARehash(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	h := newProtectedHolder(t, env, "otto@example.com")
	before, err := env.App.Store.AccountByID(t.Context(), h.accountID)
	if err != nil {
		t.Fatalf("AccountByID: %v", err)
	}
	lt := pendingLogin(t, env, h.email)
	// The same password, stored again under other parameters, as a
	// rehash at login does.
	if err := env.App.Store.SetPasswordHash(t.Context(), h.accountID, before.PasswordHash, before.PasswordHash+"x"); err != nil {
		t.Fatalf("SetPasswordHash: %v", err)
	}
	env.Clock.Advance(30 * time.Second)
	r := env.Do(t, "POST", "/api/v1/login/second-factor", "", map[string]string{"login_token": lt, "method": "totp", "code": totp(env, h.secret)})
	if r.Status != http.StatusOK || r.String("session_token") == "" {
		t.Fatalf("second factor after a rehash: %d %s", r.Status, r.Raw)
	}
}

// TestSessionUnderTheOldPasswordIsRefused is the window a login leaves
// between checking the password and opening its session: it read the
// account, a reset committed (deleting every session there was), and only
// then does it open its session, under the version it read. The store
// refuses it, by either way a session opens, and nothing is written.
func TestSessionUnderTheOldPasswordIsRefused(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		ctx := t.Context()
		store := env.App.Store
		accountID := env.SignUp(t, "uma@example.com", goodPassword)
		checked, err := store.AccountByID(ctx, accountID) // what the login read
		if err != nil {
			t.Fatalf("AccountByID: %v", err)
		}
		now := env.Clock.Now()
		reset := custos.AuditEvent{ID: "ev-window-reset", At: now, AccountID: accountID, Type: custos.EventPasswordReset}
		// Any key stands for the login's counter: the store knows no other.
		const key = "id:uma-window"
		if err := store.ResetPassword(ctx, accountID, "$argon2id$new", key, reset); err != nil {
			t.Fatalf("ResetPassword: %v", err)
		}
		after, err := store.AccountByID(ctx, accountID)
		if err != nil {
			t.Fatalf("AccountByID: %v", err)
		}
		if after.PasswordVersion != checked.PasswordVersion+1 {
			t.Fatalf("PasswordVersion after a reset = %d, want %d", after.PasswordVersion, checked.PasswordVersion+1)
		}

		counted := custos.Counter{Start: now, Failures: 1}
		if _, err := store.UpdateCounter(ctx, key, func(custos.Counter) (custos.Counter, error) { return counted, nil }); err != nil {
			t.Fatalf("UpdateCounter: %v", err)
		}
		session := func(id string) custos.Session {
			return custos.Session{
				ID: id, TokenHash: custos.SecretHash(id), AccountID: accountID,
				CreatedAt: now, AuthenticatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour),
				PasswordVersion: checked.PasswordVersion,
			}
		}
		login := func(id string) custos.AuditEvent {
			return custos.AuditEvent{ID: "ev-" + id, At: now, AccountID: accountID, Type: custos.EventLoginSuccess}
		}
		err = store.CreateSession(ctx, session("ses-window-1"), login("ses-window-1"))
		if !custos.IsCode(err, custos.EConflict) {
			t.Fatalf("CreateSession under the old version: %v, want %s", err, custos.EConflict)
		}
		err = store.CreateSessionWithCounter(ctx, session("ses-window-2"), login("ses-window-2"), key, custos.Counter{},
			func(custos.Counter) (custos.Counter, error) { return custos.Counter{}, nil })
		if !custos.IsCode(err, custos.EConflict) {
			t.Fatalf("CreateSessionWithCounter under the old version: %v, want %s", err, custos.EConflict)
		}
		wantNoSessions(t, env, accountID)
		if c, err := store.GetCounter(ctx, key); err != nil || c != counted {
			t.Fatalf("counter after a refused session = %+v, %v; want it unchanged, %+v", c, err, counted)
		}
		events, err := store.ListAudit(ctx, accountID, 100)
		if err != nil {
			t.Fatalf("ListAudit: %v", err)
		}
		for _, ev := range events {
			if ev.Type == custos.EventLoginSuccess {
				t.Fatalf("a refused session left its event: %+v", ev)
			}
		}
	})
}
