package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/google/go-cmp/cmp"
)

// PasswordVersionRounds rounds of PasswordVersionRacers sessions race one
// ResetPassword each in PasswordVersionRaces.
const (
	PasswordVersionRounds = 20
	PasswordVersionRacers = 8
)

// wantVersion fails t unless every read of the account gives version.
func wantVersion(t *testing.T, s custos.Store, a custos.Account, version int64) {
	t.Helper()
	ctx := t.Context()
	byID, err := s.AccountByID(ctx, a.ID)
	if err != nil {
		t.Fatalf("AccountByID(%s): %v", a.ID, err)
	}
	byEmail, err := s.AccountByEmail(ctx, a.Email)
	if err != nil {
		t.Fatalf("AccountByEmail(%s): %v", a.Email, err)
	}
	got := []int64{byID.PasswordVersion, byEmail.PasswordVersion}
	if a.Phone != "" {
		byPhone, err := s.AccountsByPhone(ctx, a.Phone)
		if err != nil {
			t.Fatalf("AccountsByPhone(%s): %v", a.Phone, err)
		}
		for _, p := range byPhone {
			if p.ID == a.ID {
				got = append(got, p.PasswordVersion)
			}
		}
	}
	for _, v := range got {
		if v != version {
			t.Errorf("%s: PasswordVersion read as %v, want %d everywhere", a.ID, got, version)
			return
		}
	}
}

// testPasswordVersion: an account starts at the version it was created
// with; each ResetPassword adds one, a refused one and a rehash
// (SetPasswordHash) none, and another account keeps its own.
func testPasswordVersion(t *testing.T, s custos.Store) {
	ctx := t.Context()
	a := mustCreateAccount(t, s, "pv-target")
	other := mustCreateAccount(t, s, "pv-other")
	if err := s.SetPhone(ctx, a.ID, "+15550100", 5, newEvent("ev-pv-phone", a.ID, custos.EventPhoneChanged, t0)); err != nil {
		t.Fatalf("SetPhone: %v", err)
	}
	a.Phone = "+15550100"
	wantVersion(t, s, a, 0)

	imported := newAccount("pv-imported")
	imported.PasswordVersion = 7
	if err := s.CreateAccount(ctx, imported, newEvent("ev-signup-pv-imported", imported.ID, custos.EventSignup, t0)); err != nil {
		t.Fatalf("CreateAccount(version 7): %v", err)
	}
	wantVersion(t, s, imported, 7)

	for i := 1; i <= 2; i++ {
		ev := newEvent(seq("ev-pv-reset", i), a.ID, custos.EventPasswordReset, t0.Add(time.Duration(i)*time.Minute))
		if err := s.ResetPassword(ctx, a.ID, fmt.Sprintf("hash-%d", i), "id:"+a.Email, ev); err != nil {
			t.Fatalf("ResetPassword #%d: %v", i, err)
		}
		wantVersion(t, s, a, int64(i))
	}
	// A refused reset (its event id is taken) changes nothing.
	wantCode(t, "ResetPassword(event id taken)",
		s.ResetPassword(ctx, a.ID, "hash-x", "id:"+a.Email, newEvent("ev-pv-reset-0001", a.ID, custos.EventPasswordReset, t0)),
		custos.EConflict)
	wantVersion(t, s, a, 2)
	// A rehash is the same password.
	if err := s.SetPasswordHash(ctx, a.ID, "hash-2", "hash-2-rehashed"); err != nil {
		t.Fatalf("SetPasswordHash: %v", err)
	}
	wantVersion(t, s, a, 2)
	wantVersion(t, s, other, 0)
}

// testResetPasswordEndsFlows: ResetPassword deletes the account's login,
// verification, reset and WebAuthn flows, in every state; its flows of
// other kinds, another account's flows and flows with no account stay. A
// refused ResetPassword deletes none.
func testResetPasswordEndsFlows(t *testing.T, s custos.Store) {
	ctx := t.Context()
	a := mustCreateAccount(t, s, "pf-target")
	other := mustCreateAccount(t, s, "pf-other")
	ended := []custos.FlowKind{custos.FlowLogin, custos.FlowVerification, custos.FlowReset, custos.FlowWebAuthn}
	kept := []custos.FlowKind{custos.FlowContactChange, custos.FlowUndo, custos.FlowSignup, custos.FlowRetrieval}
	type flowCase struct {
		flow custos.Flow
		gone bool
	}
	var flows []flowCase
	for _, k := range ended {
		f := newFlow("pf-"+string(k)+"-target", k, a.ID)
		flows = append(flows, flowCase{f, true})
		done := newFlow("pf-"+string(k)+"-target-done", k, a.ID)
		done.State = "done"
		flows = append(flows, flowCase{done, true})
		flows = append(flows, flowCase{newFlow("pf-"+string(k)+"-other", k, other.ID), false})
		flows = append(flows, flowCase{newFlow("pf-"+string(k)+"-none", k, ""), false})
	}
	for _, k := range kept {
		flows = append(flows, flowCase{newFlow("pf-"+string(k)+"-target", k, a.ID), false})
	}
	for _, fc := range flows {
		mustCreateFlow(t, s, fc.flow)
	}
	check := func(what string, afterReset bool) {
		t.Helper()
		for _, fc := range flows {
			_, err := s.FlowByID(ctx, fc.flow.ID, fc.flow.Kind, t0)
			switch {
			case afterReset && fc.gone:
				wantCode(t, what+": FlowByID("+fc.flow.ID+")", err, custos.ENotFound)
			case err != nil:
				t.Errorf("%s: FlowByID(%s): %v, want it kept", what, fc.flow.ID, err)
			}
		}
	}

	wantCode(t, "ResetPassword(event id taken)",
		s.ResetPassword(ctx, a.ID, "new-hash", "id:"+a.Email, newEvent("ev-signup-"+a.ID, a.ID, custos.EventPasswordReset, t0)),
		custos.EConflict)
	check("after a refused ResetPassword", false)
	if err := s.ResetPassword(ctx, a.ID, "new-hash", "id:"+a.Email, newEvent("ev-pf-reset", a.ID, custos.EventPasswordReset, t0)); err != nil {
		t.Fatalf("ResetPassword: %v", err)
	}
	check("after ResetPassword", true)
	// The kept flows still move.
	f := newFlow("pf-"+string(custos.FlowContactChange)+"-target", custos.FlowContactChange, a.ID)
	if err := s.AdvanceFlow(ctx, f.ID, f.Kind, "sent", "proven", f.Data, t0); err != nil {
		t.Errorf("AdvanceFlow(kept flow): %v", err)
	}
}

// testCreateSessionPasswordVersion: a session opens only under the
// account's current password version, which it keeps; a stale (or
// unknown) version is EConflict and writes nothing, on both ways to
// create a session.
func testCreateSessionPasswordVersion(t *testing.T, s custos.Store) {
	ctx := t.Context()
	a := mustCreateAccount(t, s, "spv")
	key := "id:" + a.Email
	opened := newSession("spv-v0", a.ID)
	if err := s.CreateSession(ctx, opened, newEvent("ev-spv-v0", a.ID, custos.EventLoginSuccess, t0)); err != nil {
		t.Fatalf("CreateSession(version 0): %v", err)
	}
	reset := newEvent("ev-spv-reset", a.ID, custos.EventPasswordReset, t0.Add(time.Minute))
	if err := s.ResetPassword(ctx, a.ID, "new-hash", key, reset); err != nil {
		t.Fatalf("ResetPassword: %v", err)
	}
	before, err := s.ListAudit(ctx, a.ID, 100)
	if err != nil {
		t.Fatalf("ListAudit: %v", err)
	}
	counted := custos.Counter{Start: t0, Failures: 2}
	mustSetCounter(t, s, key, counted)
	refund := func(c custos.Counter) (custos.Counter, error) {
		c.Failures--
		return c, nil
	}
	tests := []struct {
		name    string
		version int64
		counter bool // through CreateSessionWithCounter
	}{
		{name: "stale version", version: 0},
		{name: "stale version with counter", version: 0, counter: true},
		{name: "version not yet reached", version: 2},
		{name: "version not yet reached with counter", version: 2, counter: true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sess := newSession(seq("spv-refused", i), a.ID)
			sess.PasswordVersion = tc.version
			ev := newEvent("ev-"+sess.ID, a.ID, custos.EventLoginSuccess, t0.Add(2*time.Minute))
			var created error
			if tc.counter {
				created = s.CreateSessionWithCounter(ctx, sess, ev, key, custos.Counter{}, refund)
			} else {
				created = s.CreateSession(ctx, sess, ev)
			}
			wantCode(t, "create session", created, custos.EConflict)
			_, err := s.SessionByTokenHash(ctx, sess.TokenHash)
			wantCode(t, "SessionByTokenHash(refused session)", err, custos.ENotFound)
			wantCounter(t, s, key, counted)
			wantEvents(t, s, a.ID, before...)
		})
	}
	if n := sessionIDs(t, s, a.ID); len(n) != 0 {
		t.Fatalf("sessions after the reset: %v, want none", n)
	}

	// The current version opens, both ways, and reads back.
	current := newSession("spv-v1", a.ID)
	current.PasswordVersion = 1
	if err := s.CreateSession(ctx, current, newEvent("ev-spv-v1", a.ID, custos.EventLoginSuccess, t0)); err != nil {
		t.Fatalf("CreateSession(version 1): %v", err)
	}
	withCounter := newSession("spv-v1-counter", a.ID)
	withCounter.PasswordVersion = 1
	withCounter.CreatedAt = t0.Add(time.Second)
	if err := s.CreateSessionWithCounter(ctx, withCounter, newEvent("ev-spv-v1-counter", a.ID, custos.EventLoginSuccess, t0), key, custos.Counter{}, refund); err != nil {
		t.Fatalf("CreateSessionWithCounter(version 1): %v", err)
	}
	wantCounter(t, s, key, custos.Counter{Start: t0, Failures: 1})
	got, err := s.SessionByTokenHash(ctx, current.TokenHash)
	if err != nil {
		t.Fatalf("SessionByTokenHash: %v", err)
	}
	if diff := cmp.Diff(current, got, opts); diff != "" {
		t.Errorf("SessionByTokenHash mismatch (-want +got):\n%s", diff)
	}
	list, err := s.ListSessions(ctx, a.ID)
	if err != nil {
		t.Fatalf("ListSessions: %v", err)
	}
	if diff := cmp.Diff([]custos.Session{withCounter, current}, list, opts); diff != "" {
		t.Errorf("ListSessions mismatch (-want +got):\n%s", diff)
	}
}

// testPasswordVersionRaces runs PasswordVersionRaces on the one store.
func testPasswordVersionRaces(t *testing.T, s custos.Store) { PasswordVersionRaces(t, s) }

// PasswordVersionRaces races, round after round, sessions opened under an
// account's password version (half with a counter, as a login's refund)
// against one ResetPassword, spread over the stores (several handles on
// one database, as replicas). Each session is created or refused
// (EConflict); none opened under the old version is alive once
// ResetPassword has returned; the counter at the lock key, which both
// touch, never deadlocks them.
func PasswordVersionRaces(t *testing.T, stores ...custos.Store) {
	if len(stores) == 0 {
		t.Fatal("PasswordVersionRaces needs a store")
	}
	ctx := t.Context()
	a := mustCreateAccount(t, stores[0], "pvr")
	key := "id:" + a.Email
	refund := func(c custos.Counter) (custos.Counter, error) {
		if c.Failures > 0 {
			c.Failures--
		}
		return c, nil
	}
	var created, refused int
	for round := range PasswordVersionRounds {
		version := int64(round)
		mustSetCounter(t, stores[0], key, custos.Counter{Start: t0, Failures: PasswordVersionRacers})
		start := make(chan struct{})
		errs := make([]error, PasswordVersionRacers)
		var wg sync.WaitGroup
		for i := range PasswordVersionRacers {
			s := stores[i%len(stores)]
			wg.Go(func() {
				<-start
				sess := newSession(fmt.Sprintf("pvr-%02d-%02d", round, i), a.ID)
				sess.PasswordVersion = version
				ev := newEvent("ev-"+sess.ID, a.ID, custos.EventLoginSuccess, t0)
				if i%2 == 0 {
					errs[i] = s.CreateSession(ctx, sess, ev)
				} else {
					errs[i] = s.CreateSessionWithCounter(ctx, sess, ev, key, custos.Counter{}, refund)
				}
			})
		}
		var resetErr error
		var alive []custos.Session
		reset := stores[(round+1)%len(stores)]
		wg.Go(func() {
			<-start
			ev := newEvent(seq("ev-pvr-reset", round), a.ID, custos.EventPasswordReset, t0)
			if resetErr = reset.ResetPassword(ctx, a.ID, fmt.Sprintf("hash-%d", round), key, ev); resetErr != nil {
				return
			}
			// Read at once, while sessions may still be in flight.
			alive, resetErr = reset.ListSessions(ctx, a.ID)
		})
		close(start)
		wg.Wait()
		if resetErr != nil {
			t.Fatalf("round %d: ResetPassword: %v", round, resetErr)
		}
		for i, err := range errs {
			switch {
			case err == nil:
				created++
			case custos.IsCode(err, custos.EConflict):
				refused++
			default:
				t.Fatalf("round %d: session %d: %v, want created or EConflict", round, i, err)
			}
		}
		if stale := slices.IndexFunc(alive, func(s custos.Session) bool { return s.PasswordVersion <= version }); stale >= 0 {
			t.Fatalf("round %d: session %s of version %d alive right after ResetPassword returned",
				round, alive[stale].ID, alive[stale].PasswordVersion)
		}
		if ids := sessionIDs(t, stores[0], a.ID); len(ids) != 0 {
			t.Fatalf("round %d: sessions %v alive after the race, want none", round, ids)
		}
		wantVersion(t, stores[0], a, version+1)
	}
	t.Logf("%d sessions created (then ended by the reset), %d refused", created, refused)
}
