package storetest

import (
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/google/go-cmp/cmp"
)

func testCreateSession(t *testing.T, s custos.Store) {
	ctx := t.Context()
	a := mustCreateAccount(t, s, "acct-sess")
	plain := newSession("sess-plain", a.ID)
	strong := newSession("sess-strong", a.ID)
	strong.CreatedAt = t0.Add(time.Second)
	strong.AuthenticatedAt = t0.Add(2 * time.Second)
	strong.LastSeenAt = t0.Add(3 * time.Second)
	strong.ExpiresAt = t0.Add(12 * time.Hour)
	strong.SecondFactor = true
	strong.VerifiedUntil = t0.Add(5 * time.Minute)
	strong.RemoteAddr = "2001:db8::1"
	acting := newSession("sess-acting", a.ID)
	acting.ActingRootAccountID = "acct-sess-root"

	evPlain := newEvent("ev-login-1", a.ID, custos.EventLoginSuccess, t0)
	evStrong := newEvent("ev-login-2", a.ID, custos.EventLoginSuccess, t0.Add(time.Second))
	evActing := newEvent("ev-login-3", a.ID, custos.EventLoginSuccess, t0.Add(2*time.Second))
	tests := []struct {
		name    string
		session custos.Session
		event   custos.AuditEvent
	}{
		{"password only, no verification window", plain, evPlain},
		{"second factor and verification window", strong, evStrong},
		{"working in a root account", acting, evActing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.CreateSession(ctx, tc.session, tc.event); err != nil {
				t.Fatalf("CreateSession: %v", err)
			}
			got, err := s.SessionByTokenHash(ctx, tc.session.TokenHash)
			if err != nil {
				t.Fatalf("SessionByTokenHash: %v", err)
			}
			if diff := cmp.Diff(tc.session, got, opts); diff != "" {
				t.Errorf("SessionByTokenHash mismatch (-want +got):\n%s", diff)
			}
			if tc.session.VerifiedUntil.IsZero() && !got.VerifiedUntil.IsZero() {
				t.Errorf("VerifiedUntil = %v, want zero", got.VerifiedUntil)
			}
		})
	}
	// Newest first; of the two events at t0 the later written first.
	wantEvents(t, s, a.ID, evActing, evStrong, evPlain, newEvent("ev-signup-"+a.ID, a.ID, custos.EventSignup, t0))
}

// testCreateSessionErrors checks each refusal and that a refused create
// writes neither the session nor its event.
func testCreateSessionErrors(t *testing.T, s custos.Store) {
	ctx := t.Context()
	a := mustCreateAccount(t, s, "acct-sesserr")
	existing := newSession("sess-existing", a.ID)
	if err := s.CreateSession(ctx, existing, newEvent("ev-existing", a.ID, custos.EventLoginSuccess, t0)); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	sameToken := newSession("sess-same-token", a.ID)
	sameToken.TokenHash = existing.TokenHash
	sameID := newSession(existing.ID, a.ID)
	sameID.TokenHash = hash("another token")
	tests := []struct {
		name     string
		session  custos.Session
		event    custos.AuditEvent
		wantCode string // "" for a plain failure
	}{
		{"id taken", sameID, newEvent("ev-1", a.ID, custos.EventLoginSuccess, t0), custos.EConflict},
		{"token hash taken", sameToken, newEvent("ev-2", a.ID, custos.EventLoginSuccess, t0), custos.EConflict},
		{"event id taken", newSession("sess-3", a.ID), newEvent("ev-existing", a.ID, custos.EventLoginSuccess, t0), custos.EConflict},
		{"unknown account", newSession("sess-4", "acct-absent"), newEvent("ev-4", "acct-absent", custos.EventLoginSuccess, t0), custos.ENotFound},
		{"event without id", newSession("sess-5", a.ID), newEvent("", a.ID, custos.EventLoginSuccess, t0), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.CreateSession(ctx, tc.session, tc.event)
			if tc.wantCode != "" {
				wantCode(t, "CreateSession", err, tc.wantCode)
			} else if err == nil {
				t.Errorf("CreateSession: got no error, want one")
			}
			if tc.session.ID != existing.ID && string(tc.session.TokenHash) != string(existing.TokenHash) {
				_, err := s.SessionByTokenHash(ctx, tc.session.TokenHash)
				wantCode(t, "SessionByTokenHash after refused create", err, custos.ENotFound)
			}
		})
	}
	got, err := s.SessionByTokenHash(ctx, existing.TokenHash)
	if err != nil {
		t.Fatalf("SessionByTokenHash: %v", err)
	}
	if diff := cmp.Diff(existing, got, opts); diff != "" {
		t.Errorf("existing session changed (-want +got):\n%s", diff)
	}
	wantEvents(t, s, a.ID,
		newEvent("ev-existing", a.ID, custos.EventLoginSuccess, t0),
		newEvent("ev-signup-"+a.ID, a.ID, custos.EventSignup, t0))
	_, err = s.SessionByTokenHash(ctx, hash("never issued"))
	wantCode(t, "SessionByTokenHash(unknown)", err, custos.ENotFound)
}

func testTouchSession(t *testing.T, s custos.Store) {
	ctx := t.Context()
	a := mustCreateAccount(t, s, "acct-touch")
	sess := newSession("sess-touch", a.ID)
	if err := s.CreateSession(ctx, sess, newEvent("ev-touch", a.ID, custos.EventLoginSuccess, t0)); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	tests := []struct {
		name     string
		id       string
		at       time.Time
		wantCode string
		wantSeen time.Time
	}{
		{"later", sess.ID, t0.Add(90 * time.Second), "", t0.Add(90 * time.Second)},
		{"later again", sess.ID, t0.Add(time.Hour + 7*time.Millisecond), "", t0.Add(time.Hour + 7*time.Millisecond)},
		{"unknown session", "sess-absent", t0.Add(2 * time.Hour), custos.ENotFound, t0.Add(time.Hour + 7*time.Millisecond)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.TouchSession(ctx, tc.id, tc.at)
			if tc.wantCode == "" && err != nil {
				t.Fatalf("TouchSession: %v", err)
			} else if tc.wantCode != "" {
				wantCode(t, "TouchSession", err, tc.wantCode)
			}
			got, err := s.SessionByTokenHash(ctx, sess.TokenHash)
			if err != nil {
				t.Fatalf("SessionByTokenHash: %v", err)
			}
			want := sess
			want.LastSeenAt = tc.wantSeen
			if diff := cmp.Diff(want, got, opts); diff != "" {
				t.Errorf("session after touch (-want +got):\n%s", diff)
			}
		})
	}
	if err := s.DeleteSession(ctx, a.ID, sess.ID, newEvent("ev-logout", a.ID, custos.EventLogout, t0)); err != nil {
		t.Fatalf("DeleteSession: %v", err)
	}
	wantCode(t, "TouchSession(deleted)", s.TouchSession(ctx, sess.ID, t0.Add(3*time.Hour)), custos.ENotFound)
}

// testDeleteSession runs its steps in order against two accounts.
func testDeleteSession(t *testing.T, s custos.Store) {
	ctx := t.Context()
	alice := mustCreateAccount(t, s, "acct-alice")
	bob := mustCreateAccount(t, s, "acct-bob")
	as := newSession("sess-alice", alice.ID)
	bs := newSession("sess-bob", bob.ID)
	for _, sess := range []custos.Session{as, bs} {
		if err := s.CreateSession(ctx, sess, newEvent("ev-login-"+sess.ID, sess.AccountID, custos.EventLoginSuccess, t0)); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
	}
	logout := newEvent("ev-logout-alice", alice.ID, custos.EventLogout, t0.Add(time.Minute))
	tests := []struct {
		name       string
		accountID  string
		id         string
		event      custos.AuditEvent
		wantCode   string
		gone, kept []custos.Session
	}{
		{"another account's session", alice.ID, bs.ID, newEvent("ev-x1", alice.ID, custos.EventSessionRevoked, t0), custos.ENotFound, nil, []custos.Session{as, bs}},
		{"unknown session", alice.ID, "sess-absent", newEvent("ev-x2", alice.ID, custos.EventSessionRevoked, t0), custos.ENotFound, nil, []custos.Session{as, bs}},
		{"own session", alice.ID, as.ID, logout, "", []custos.Session{as}, []custos.Session{bs}},
		{"own session again", alice.ID, as.ID, newEvent("ev-x3", alice.ID, custos.EventLogout, t0), custos.ENotFound, []custos.Session{as}, []custos.Session{bs}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.DeleteSession(ctx, tc.accountID, tc.id, tc.event)
			if tc.wantCode == "" && err != nil {
				t.Fatalf("DeleteSession: %v", err)
			} else if tc.wantCode != "" {
				wantCode(t, "DeleteSession", err, tc.wantCode)
			}
			for _, sess := range tc.gone {
				_, err := s.SessionByTokenHash(ctx, sess.TokenHash)
				wantCode(t, "SessionByTokenHash("+sess.ID+")", err, custos.ENotFound)
			}
			for _, sess := range tc.kept {
				if _, err := s.SessionByTokenHash(ctx, sess.TokenHash); err != nil {
					t.Errorf("SessionByTokenHash(%s): %v", sess.ID, err)
				}
			}
		})
	}
	// Only the successful delete wrote its event.
	wantEvents(t, s, alice.ID, logout,
		newEvent("ev-login-"+as.ID, alice.ID, custos.EventLoginSuccess, t0),
		newEvent("ev-signup-"+alice.ID, alice.ID, custos.EventSignup, t0))
}

func testListSessions(t *testing.T, s custos.Store) {
	ctx := t.Context()
	a := mustCreateAccount(t, s, "acct-list")
	b := mustCreateAccount(t, s, "acct-other")
	mk := func(id, accountID string, created time.Time) custos.Session {
		sess := newSession(id, accountID)
		sess.CreatedAt, sess.AuthenticatedAt, sess.LastSeenAt = created, created, created
		return sess
	}
	oldest := mk("sess-1", a.ID, t0)
	tieLow := mk("sess-2", a.ID, t0.Add(time.Minute))
	tieHigh := mk("sess-3", a.ID, t0.Add(time.Minute))
	newest := mk("sess-4", a.ID, t0.Add(time.Hour))
	newest.ActingRootAccountID = b.ID
	others := mk("sess-5", b.ID, t0.Add(2*time.Hour))
	for i, sess := range []custos.Session{tieLow, newest, oldest, others, tieHigh} {
		if err := s.CreateSession(ctx, sess, newEvent(seq("ev-list", i), sess.AccountID, custos.EventLoginSuccess, sess.CreatedAt)); err != nil {
			t.Fatalf("CreateSession(%s): %v", sess.ID, err)
		}
	}
	tests := []struct {
		name      string
		accountID string
		want      []custos.Session
	}{
		{"newest first, ties by id descending", a.ID, []custos.Session{newest, tieHigh, tieLow, oldest}},
		{"only the account's own", b.ID, []custos.Session{others}},
		{"none", "acct-absent", []custos.Session{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListSessions(ctx, tc.accountID)
			if err != nil {
				t.Fatalf("ListSessions: %v", err)
			}
			if diff := cmp.Diff(tc.want, got, opts); diff != "" {
				t.Errorf("ListSessions mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func testDeleteExpiredSessions(t *testing.T, s custos.Store) {
	ctx := t.Context()
	a := mustCreateAccount(t, s, "acct-expiry")
	now := t0.Add(48 * time.Hour)
	idleBefore := now.Add(-30 * time.Minute)
	tests := []struct {
		name     string
		expires  time.Time
		lastSeen time.Time
		deleted  bool
	}{
		{"past its absolute end", now.Add(-time.Millisecond), now, true},
		{"ends exactly now", now, now, false},
		{"ends later", now.Add(time.Hour), now, false},
		{"idle since before the cut-off", now.Add(time.Hour), idleBefore.Add(-time.Millisecond), true},
		{"seen exactly at the cut-off", now.Add(time.Hour), idleBefore, false},
		{"both", now.Add(-time.Hour), idleBefore.Add(-time.Hour), true},
	}
	wantDeleted := 0
	for i, tc := range tests {
		sess := newSession(seq("sess-exp", i), a.ID)
		sess.ExpiresAt, sess.LastSeenAt = tc.expires, tc.lastSeen
		if err := s.CreateSession(ctx, sess, newEvent(seq("ev-exp", i), a.ID, custos.EventLoginSuccess, t0)); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		if tc.deleted {
			wantDeleted++
		}
	}
	n, err := s.DeleteExpiredSessions(ctx, now, idleBefore)
	if err != nil {
		t.Fatalf("DeleteExpiredSessions: %v", err)
	}
	if n != wantDeleted {
		t.Errorf("DeleteExpiredSessions = %d, want %d", n, wantDeleted)
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.SessionByTokenHash(ctx, newSession(seq("sess-exp", i), a.ID).TokenHash)
			if tc.deleted {
				wantCode(t, "SessionByTokenHash", err, custos.ENotFound)
			} else if err != nil {
				t.Errorf("SessionByTokenHash: %v, want it kept", err)
			}
		})
	}
	n, err = s.DeleteExpiredSessions(ctx, now, idleBefore)
	if err != nil || n != 0 {
		t.Errorf("DeleteExpiredSessions again = %d, %v; want 0, nil", n, err)
	}
}

// testSetSessionVerified steps through one session's verification window:
// it is set and cleared as asked, the second-factor mark is only ever
// raised, and each change writes its event while a refusal writes none.
func testSetSessionVerified(t *testing.T, s custos.Store) {
	ctx := t.Context()
	a := mustCreateAccount(t, s, "acct-verify")
	sess := newSession("sess-verify", a.ID)
	if err := s.CreateSession(ctx, sess, newEvent("ev-verify-login", a.ID, custos.EventLoginSuccess, t0)); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	tests := []struct {
		name         string
		id           string
		until        time.Time
		secondFactor bool
		wantCode     string
		wantUntil    time.Time
		wantSecond   bool
	}{
		{"a window, no second factor", sess.ID, t0.Add(5 * time.Minute), false, "", t0.Add(5 * time.Minute), false},
		{"a longer window with a second factor", sess.ID, t0.Add(15*time.Minute + 3*time.Millisecond), true, "", t0.Add(15*time.Minute + 3*time.Millisecond), true},
		{"false keeps the mark", sess.ID, t0.Add(20 * time.Minute), false, "", t0.Add(20 * time.Minute), true},
		{"zero clears the window", sess.ID, time.Time{}, false, "", time.Time{}, true},
		{"unknown session", "sess-absent", t0.Add(time.Hour), true, custos.ENotFound, time.Time{}, true},
	}
	events := []custos.AuditEvent{newEvent("ev-verify-login", a.ID, custos.EventLoginSuccess, t0),
		newEvent("ev-signup-"+a.ID, a.ID, custos.EventSignup, t0)} // newest first
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := newEvent(seq("ev-verified", i), a.ID, custos.EventVerified, t0.Add(time.Duration(i+1)*time.Second))
			err := s.SetSessionVerified(ctx, tc.id, tc.until, tc.secondFactor, ev)
			if tc.wantCode != "" {
				wantCode(t, "SetSessionVerified", err, tc.wantCode)
			} else if err != nil {
				t.Fatalf("SetSessionVerified: %v", err)
			} else {
				events = append([]custos.AuditEvent{ev}, events...)
			}
			got, err := s.SessionByTokenHash(ctx, sess.TokenHash)
			if err != nil {
				t.Fatalf("SessionByTokenHash: %v", err)
			}
			want := sess
			want.VerifiedUntil, want.SecondFactor = tc.wantUntil, tc.wantSecond
			if diff := cmp.Diff(want, got, opts); diff != "" {
				t.Errorf("session mismatch (-want +got):\n%s", diff)
			}
			if tc.wantUntil.IsZero() != got.VerifiedUntil.IsZero() {
				t.Errorf("VerifiedUntil = %v, want %v", got.VerifiedUntil, tc.wantUntil)
			}
		})
	}
	wantEvents(t, s, a.ID, events...)
	if len(events) != 2+4 {
		t.Errorf("%d changes wrote their event, want 4", len(events)-2)
	}
	logout := newEvent("ev-verify-logout", a.ID, custos.EventLogout, t0.Add(time.Hour))
	if err := s.DeleteSession(ctx, a.ID, sess.ID, logout); err != nil {
		t.Fatalf("DeleteSession: %v", err)
	}
	wantCode(t, "SetSessionVerified(deleted)", s.SetSessionVerified(ctx, sess.ID, t0.Add(time.Hour), true,
		newEvent("ev-verified-deleted", a.ID, custos.EventVerified, t0.Add(2*time.Hour))), custos.ENotFound)
	wantEvents(t, s, a.ID, append([]custos.AuditEvent{logout}, events...)...)
}

func testCreateSessionWithCounter(t *testing.T, s custos.Store) {
	ctx := t.Context()
	a := mustCreateAccount(t, s, "acct-swc")
	const key = "id:acct-swc@example.test"
	mustSetCounter(t, s, key, custos.Counter{Start: t0, Failures: 3})
	refund := func(c custos.Counter) (custos.Counter, error) {
		c.Failures--
		return c, nil
	}
	sess := newSession("sess-swc", a.ID)
	if err := s.CreateSessionWithCounter(ctx, sess, newEvent("ev-swc", a.ID, custos.EventLoginSuccess, t0), key, custos.Counter{}, refund); err != nil {
		t.Fatalf("CreateSessionWithCounter: %v", err)
	}
	if _, err := s.SessionByTokenHash(ctx, sess.TokenHash); err != nil {
		t.Fatalf("session not created: %v", err)
	}
	wantCounter(t, s, key, custos.Counter{Start: t0, Failures: 2})

	// fn's error changes nothing.
	boom := custos.Errorf(custos.EConflict, "boom")
	other := newSession("sess-swc-2", a.ID)
	err := s.CreateSessionWithCounter(ctx, other, newEvent("ev-swc-2", a.ID, custos.EventLoginSuccess, t0), key, custos.Counter{},
		func(custos.Counter) (custos.Counter, error) { return custos.Counter{}, boom })
	if err != boom {
		t.Fatalf("fn's error = %v, want it unchanged", err)
	}
	if _, err := s.SessionByTokenHash(ctx, other.TokenHash); !custos.IsCode(err, custos.ENotFound) {
		t.Fatalf("session written despite fn's error: %v", err)
	}
	// A refused session leaves the counter as it was.
	dup := sess
	dup.ID = "sess-swc-3"
	err = s.CreateSessionWithCounter(ctx, dup, newEvent("ev-swc-3", a.ID, custos.EventLoginSuccess, t0), key, custos.Counter{}, refund)
	wantCode(t, "CreateSessionWithCounter(duplicate token)", err, custos.EConflict)
	wantCounter(t, s, key, custos.Counter{Start: t0, Failures: 2})

	// Expecting the counter as it is: fn applies to it.
	seen := map[int]bool{}
	counting := func(c custos.Counter) (custos.Counter, error) {
		seen[c.Failures] = true
		return refund(c)
	}
	fourth := newSession("sess-swc-4", a.ID)
	if err := s.CreateSessionWithCounter(ctx, fourth, newEvent("ev-swc-4", a.ID, custos.EventLoginSuccess, t0), key,
		custos.Counter{Start: t0, Failures: 2}, counting); err != nil {
		t.Fatalf("CreateSessionWithCounter(expecting the counter): %v", err)
	}
	wantCounter(t, s, key, custos.Counter{Start: t0, Failures: 1})
	// Expecting what it no longer is (another attempt counted since): fn
	// applies to what it is, not to what was expected.
	mustSetCounter(t, s, key, custos.Counter{Start: t0, Failures: 5})
	clear(seen)
	fifth := newSession("sess-swc-5", a.ID)
	if err := s.CreateSessionWithCounter(ctx, fifth, newEvent("ev-swc-5", a.ID, custos.EventLoginSuccess, t0), key,
		custos.Counter{Start: t0, Failures: 1}, counting); err != nil {
		t.Fatalf("CreateSessionWithCounter(expecting a stale counter): %v", err)
	}
	wantCounter(t, s, key, custos.Counter{Start: t0, Failures: 4})
	if !seen[5] {
		t.Errorf("fn saw %v, want the counter as it was (5 failures) among them", seen)
	}
	for _, id := range []*custos.Session{&fourth, &fifth} {
		if _, err := s.SessionByTokenHash(ctx, id.TokenHash); err != nil {
			t.Errorf("session %s not created: %v", id.ID, err)
		}
	}
	// A stale password version still refuses, expecting or not.
	stale := newSession("sess-swc-6", a.ID)
	stale.PasswordVersion++
	err = s.CreateSessionWithCounter(ctx, stale, newEvent("ev-swc-6", a.ID, custos.EventLoginSuccess, t0), key,
		custos.Counter{Start: t0, Failures: 4}, refund)
	wantCode(t, "CreateSessionWithCounter(stale password version)", err, custos.EConflict)
	wantCounter(t, s, key, custos.Counter{Start: t0, Failures: 4})
	gone := newSession("sess-swc-7", "acct-swc-missing")
	err = s.CreateSessionWithCounter(ctx, gone, newEvent("ev-swc-7", "", custos.EventLoginSuccess, t0), key,
		custos.Counter{Start: t0, Failures: 4}, refund)
	wantCode(t, "CreateSessionWithCounter(no account)", err, custos.ENotFound)
	wantCounter(t, s, key, custos.Counter{Start: t0, Failures: 4})
}

// testSessionWithOwner checks SessionWithOwnerByTokenHash reads the
// session as SessionByTokenHash does, with what its account is, and
// refuses a token once its session has ended.
func testSessionWithOwner(t *testing.T, s custos.Store) {
	ctx := t.Context()
	root := mustCreateAccount(t, s, "acct-owner-root")
	sub, _ := mustCreateSubUser(t, s, "su-owner", root.ID, "alice")
	other := mustCreateAccount(t, s, "acct-owner-other")
	rootSess := newSession("sess-owner-root", root.ID)
	rootSess.SecondFactor = true
	rootSess.VerifiedUntil = t0.Add(5 * time.Minute)
	subSess := newSession("sess-owner-sub", sub.ID)
	acting := newSession("sess-owner-acting", other.ID)
	acting.ActingRootAccountID = root.ID
	tests := []struct {
		name    string
		session custos.Session
		want    custos.SessionOwner
	}{
		{"a root account's", rootSess, custos.SessionOwner{Kind: custos.KindPersonal}},
		{"a sub-user's", subSess, custos.SessionOwner{Kind: custos.KindSubUser, RootAccountID: root.ID, UserName: "alice"}},
		{"working in another root's account", acting, custos.SessionOwner{Kind: custos.KindPersonal}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.CreateSession(ctx, tc.session, newEvent("ev-login-"+tc.session.ID, tc.session.AccountID, custos.EventLoginSuccess, t0)); err != nil {
				t.Fatalf("CreateSession: %v", err)
			}
			got, owner, err := s.SessionWithOwnerByTokenHash(ctx, tc.session.TokenHash)
			if err != nil {
				t.Fatalf("SessionWithOwnerByTokenHash: %v", err)
			}
			if diff := cmp.Diff(tc.session, got, opts); diff != "" {
				t.Errorf("SessionWithOwnerByTokenHash session (-want +got):\n%s", diff)
			}
			if owner != tc.want {
				t.Errorf("SessionWithOwnerByTokenHash owner = %+v, want %+v", owner, tc.want)
			}
			plain, err := s.SessionByTokenHash(ctx, tc.session.TokenHash)
			if err != nil {
				t.Fatalf("SessionByTokenHash: %v", err)
			}
			if diff := cmp.Diff(plain, got, opts); diff != "" {
				t.Errorf("SessionWithOwnerByTokenHash and SessionByTokenHash differ (-plain +with owner):\n%s", diff)
			}
		})
	}
	_, _, err := s.SessionWithOwnerByTokenHash(ctx, hash("never issued"))
	wantCode(t, "SessionWithOwnerByTokenHash(unknown)", err, custos.ENotFound)
	if err := s.DeleteSession(ctx, sub.ID, subSess.ID, newEvent("ev-logout-owner", sub.ID, custos.EventLogout, t0.Add(time.Minute))); err != nil {
		t.Fatalf("DeleteSession: %v", err)
	}
	_, _, err = s.SessionWithOwnerByTokenHash(ctx, subSess.TokenHash)
	wantCode(t, "SessionWithOwnerByTokenHash(ended session)", err, custos.ENotFound)
	if _, _, err := s.SessionWithOwnerByTokenHash(ctx, rootSess.TokenHash); err != nil {
		t.Errorf("SessionWithOwnerByTokenHash(the root's session, still live): %v", err)
	}
}
