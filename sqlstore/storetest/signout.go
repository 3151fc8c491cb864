package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/google/go-cmp/cmp"
)

// loginState is what ResetPassword and DeleteAccountSessions may change
// about an account, as the store reads it back.
type loginState struct {
	Hash     string         // "" when the account does not exist
	Sessions []string       // ids, newest first
	Devices  []string       // live trusted devices among those asked about
	Other    []string       // live one-time codes among those asked about
	Counter  custos.Counter // at the lock key
	Events   []string       // event ids, newest first
}

// signoutFixture is an account with sessions, trusted devices, a one-time
// code and a locked counter, as a login-security lock leaves it.
type signoutFixture struct {
	account  string
	lockKey  string
	devices  []string
	other    []string
	sessions int
}

// signoutProbes is how many times a test may read a fixture back: each
// read counts one wrong code on its verification code.
const signoutProbes = 50

// signoutNames names the parts of the account's fixture with n sessions,
// without creating any.
func signoutNames(accountID string, n int) signoutFixture {
	return signoutFixture{
		account:  accountID,
		lockKey:  "id:" + accountID + "@example.test",
		devices:  []string{"tdev-1-" + accountID, "tdev-2-" + accountID},
		other:    []string{"verify-" + accountID},
		sessions: n,
	}
}

// newSignoutFixture creates the account (unless absent) with n sessions,
// two trusted devices, a verification code and a locked counter.
func newSignoutFixture(t *testing.T, s custos.Store, accountID string, n int, absent bool) signoutFixture {
	t.Helper()
	ctx := t.Context()
	f := signoutNames(accountID, n)
	if !absent {
		mustCreateAccount(t, s, accountID)
		for i := range n {
			sess := newSession(seq("sess-"+accountID, i), accountID)
			sess.CreatedAt = t0.Add(time.Duration(i) * time.Second)
			if err := s.CreateSession(ctx, sess, newEvent("ev-"+sess.ID, accountID, custos.EventLoginSuccess, sess.CreatedAt)); err != nil {
				t.Fatalf("CreateSession(%s): %v", sess.ID, err)
			}
		}
	}
	for _, id := range f.devices {
		mustTrustDevice(t, s, custos.TrustedDevice{ID: id, AccountID: accountID, CreatedAt: t0, ExpiresAt: t0.Add(7 * 24 * time.Hour)})
	}
	c := newChallenge(f.other[0], "123456")
	c.Purpose, c.AccountID = custos.PurposeVerification, accountID
	c.MaxAttempts = signoutProbes // state probes it with a wrong code each time
	mustCreateChallenge(t, s, c)
	mustSetCounter(t, s, f.lockKey, custos.Counter{Start: t0, Failures: 5, LockedUntil: t0.Add(time.Hour)})
	return f
}

// state reads the fixture's account back.
func (f signoutFixture) state(t *testing.T, s custos.Store) loginState {
	t.Helper()
	ctx := t.Context()
	var st loginState
	a, err := s.AccountByID(ctx, f.account)
	var e *custos.Error
	switch {
	case err == nil:
		st.Hash = a.PasswordHash
	case !errors.As(err, &e) || e.Code != custos.ENotFound:
		t.Fatalf("AccountByID(%s): %v", f.account, err)
	}
	sessions, err := s.ListSessions(ctx, f.account)
	if err != nil {
		t.Fatalf("ListSessions(%s): %v", f.account, err)
	}
	for _, sess := range sessions {
		st.Sessions = append(st.Sessions, sess.ID)
	}
	for _, id := range f.other {
		// ConsumeChallenge is the store's only read of a code: a wrong one
		// tells a live code (EInvalidCode, counting an attempt the fixture
		// has to spare) from a deleted one (ENotFound).
		_, err := s.ConsumeChallenge(ctx, id, custos.PurposeVerification, hash("probe"), t0)
		switch {
		case custos.IsCode(err, custos.EInvalidCode):
			st.Other = append(st.Other, id)
		case !custos.IsCode(err, custos.ENotFound):
			t.Fatalf("ConsumeChallenge(%s, a wrong code): %v", id, err)
		}
	}
	for _, id := range f.devices {
		ok, err := s.IsTrustedDevice(ctx, id, f.account, t0)
		if err != nil {
			t.Fatalf("IsTrustedDevice(%s): %v", id, err)
		}
		if ok {
			st.Devices = append(st.Devices, id)
		}
	}
	if st.Counter, err = s.GetCounter(ctx, f.lockKey); err != nil {
		t.Fatalf("GetCounter(%s): %v", f.lockKey, err)
	}
	events, err := s.ListAudit(ctx, f.account, 1000)
	if err != nil {
		t.Fatalf("ListAudit(%s): %v", f.account, err)
	}
	for _, ev := range events {
		st.Events = append(st.Events, ev.ID)
	}
	return st
}

// wantState fails t unless the fixture's account reads back as want.
func (f signoutFixture) wantState(t *testing.T, s custos.Store, what string, want loginState) {
	t.Helper()
	if diff := cmp.Diff(want, f.state(t, s), opts); diff != "" {
		t.Errorf("%s: %s mismatch (-want +got):\n%s", what, f.account, diff)
	}
}

// testResetPassword resets one account's password: its hash, sessions,
// trusted devices and lock go and its event is written, in one go, while a
// second account keeps everything and the account's other challenges stay.
func testResetPassword(t *testing.T, s custos.Store) {
	ctx := t.Context()
	target := newSignoutFixture(t, s, "rp-target", 3, false)
	bystander := newSignoutFixture(t, s, "rp-bystander", 1, false)
	targetBefore, bystanderBefore := target.state(t, s), bystander.state(t, s)
	if len(targetBefore.Devices) != 2 || len(targetBefore.Other) != 1 {
		t.Fatalf("fixture: %d trusted devices and %d live codes, want 2 and 1", len(targetBefore.Devices), len(targetBefore.Other))
	}

	ev := newEvent("ev-reset", target.account, custos.EventPasswordReset, t0.Add(time.Minute))
	if err := s.ResetPassword(ctx, target.account, "new-hash", target.lockKey, ev); err != nil {
		t.Fatalf("ResetPassword: %v", err)
	}
	target.wantState(t, s, "after ResetPassword", loginState{
		Hash:   "new-hash",
		Other:  targetBefore.Other,
		Events: append([]string{ev.ID}, targetBefore.Events...),
	})
	bystander.wantState(t, s, "bystander after ResetPassword", bystanderBefore)
	for i := range target.sessions {
		_, err := s.SessionByTokenHash(ctx, hash("token-"+seq("sess-"+target.account, i)))
		wantCode(t, "SessionByTokenHash(ended session)", err, custos.ENotFound)
	}
	got, err := s.ListAudit(ctx, target.account, 1)
	if err != nil {
		t.Fatalf("ListAudit: %v", err)
	}
	if diff := cmp.Diff([]custos.AuditEvent{ev}, got, opts); diff != "" {
		t.Errorf("ListAudit mismatch (-want +got):\n%s", diff)
	}
}

// testResetPasswordRefused checks each refusal leaves everything as it
// was, the lock and the trusted devices of a missing account included.
func testResetPasswordRefused(t *testing.T, s custos.Store) {
	ctx := t.Context()
	present := newSignoutFixture(t, s, "rr-present", 2, false)
	absent := newSignoutFixture(t, s, "rr-absent", 0, true)
	tests := []struct {
		name     string
		f        signoutFixture
		event    custos.AuditEvent
		wantCode string
	}{
		{"unknown account", absent, newEvent("ev-rr-1", absent.account, custos.EventPasswordReset, t0), custos.ENotFound},
		{"event id taken", present, newEvent("ev-signup-"+present.account, present.account, custos.EventPasswordReset, t0), custos.EConflict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.f.state(t, s)
			err := s.ResetPassword(ctx, tc.f.account, "new-hash", tc.f.lockKey, tc.event)
			wantCode(t, "ResetPassword", err, tc.wantCode)
			tc.f.wantState(t, s, "after a refused ResetPassword", before)
		})
	}
}

// testDeleteAccountSessions ends one account's sessions twice: the first
// call counts them, the second none, and each writes its event; the
// account's hash, lock and other challenges, and a second account, stay.
func testDeleteAccountSessions(t *testing.T, s custos.Store) {
	ctx := t.Context()
	target := newSignoutFixture(t, s, "das-target", 3, false)
	bystander := newSignoutFixture(t, s, "das-bystander", 2, false)
	targetBefore, bystanderBefore := target.state(t, s), bystander.state(t, s)
	if len(targetBefore.Devices) != 2 || len(targetBefore.Other) != 1 {
		t.Fatalf("fixture: %d trusted devices and %d live codes, want 2 and 1", len(targetBefore.Devices), len(targetBefore.Other))
	}
	events := targetBefore.Events
	for i, want := range []int{3, 0} {
		ev := newEvent(seq("ev-undo", i), target.account, custos.EventUndo, t0.Add(time.Duration(i+1)*time.Minute))
		n, err := s.DeleteAccountSessions(ctx, target.account, ev)
		if err != nil {
			t.Fatalf("DeleteAccountSessions #%d: %v", i, err)
		}
		if n != want {
			t.Errorf("DeleteAccountSessions #%d = %d, want %d", i, n, want)
		}
		events = append([]string{ev.ID}, events...)
		target.wantState(t, s, "after DeleteAccountSessions", loginState{
			Hash:    targetBefore.Hash,
			Other:   targetBefore.Other,
			Counter: targetBefore.Counter,
			Events:  events,
		})
	}
	bystander.wantState(t, s, "bystander after DeleteAccountSessions", bystanderBefore)

	// A refused call (its event id is taken) ends nothing.
	n, err := s.DeleteAccountSessions(ctx, bystander.account, newEvent("ev-undo-0000", bystander.account, custos.EventUndo, t0))
	wantCode(t, "DeleteAccountSessions(event id taken)", err, custos.EConflict)
	if n != 0 {
		t.Errorf("refused DeleteAccountSessions = %d, want 0", n)
	}
	bystander.wantState(t, s, "after a refused DeleteAccountSessions", bystanderBefore)
}
