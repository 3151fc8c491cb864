package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/google/go-cmp/cmp"
)

// StaffStepRacers goroutines offer one TOTP step at once in StaffStepRace;
// StaffSessionRacers sessions open while the member is disabled in
// DisableStaffRace.
const (
	StaffStepRacers    = 50
	StaffSessionRacers = 20
)

func newStaff(id string, role custos.StaffRole) custos.Staff {
	return custos.Staff{
		ID:        id,
		Email:     id + "@staff.example.test",
		Role:      role,
		State:     custos.StaffInvited,
		CreatedAt: t0,
	}
}

func newStaffEvent(id, staffID, action, target string, at time.Time) custos.StaffEvent {
	return custos.StaffEvent{
		ID:         id,
		At:         at,
		StaffID:    staffID,
		Action:     action,
		Target:     target,
		RemoteAddr: "203.0.113.9",
		UserAgent:  "storetest-staff/1.0",
		Detail:     map[string]string{"event": id},
	}
}

func newStaffSession(id, staffID string) custos.StaffSession {
	return custos.StaffSession{
		ID:         id,
		StaffID:    staffID,
		TokenHash:  hash("staff-token-" + id),
		CreatedAt:  t0,
		LastSeenAt: t0,
		ExpiresAt:  t0.Add(8 * time.Hour),
		RemoteAddr: "203.0.113.10",
		UserAgent:  "Mozilla/5.0 (staff)",
	}
}

func mustCreateStaff(t *testing.T, s custos.Store, st custos.Staff) {
	t.Helper()
	if err := s.CreateStaff(t.Context(), st, newStaffEvent("se-add-"+st.ID, "", "staff.add", st.ID, st.CreatedAt)); err != nil {
		t.Fatalf("CreateStaff(%s): %v", st.ID, err)
	}
}

// activate enrols st at step 1000 with a sealed seed and returns it as it
// reads back.
func activate(t *testing.T, s custos.Store, st custos.Staff) custos.Staff {
	t.Helper()
	st.PasswordHash, st.TOTPSecret, st.TOTPLastStep = "$argon2id$staff-"+st.ID, sealed("seed-"+st.ID), 1000
	st.State, st.EnrolledAt = custos.StaffActive, t0.Add(time.Minute)
	if err := s.ActivateStaff(t.Context(), st.ID, st.PasswordHash, st.TOTPSecret, st.TOTPLastStep, st.EnrolledAt,
		newStaffEvent("se-enrol-"+st.ID, st.ID, "staff.enrol", st.ID, st.EnrolledAt)); err != nil {
		t.Fatalf("ActivateStaff(%s): %v", st.ID, err)
	}
	return st
}

// mustActiveStaff creates and enrols a member.
func mustActiveStaff(t *testing.T, s custos.Store, id string, role custos.StaffRole) custos.Staff {
	t.Helper()
	st := newStaff(id, role)
	mustCreateStaff(t, s, st)
	return activate(t, s, st)
}

// wantStaff fails t unless StaffByID and StaffByEmail read back want.
func wantStaff(t *testing.T, s custos.Store, want custos.Staff) {
	t.Helper()
	got, err := s.StaffByID(t.Context(), want.ID)
	if err != nil {
		t.Fatalf("StaffByID(%s): %v", want.ID, err)
	}
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("StaffByID(%s) mismatch (-want +got):\n%s", want.ID, diff)
	}
	got, err = s.StaffByEmail(t.Context(), want.Email)
	if err != nil {
		t.Fatalf("StaffByEmail(%s): %v", want.Email, err)
	}
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("StaffByEmail(%s) mismatch (-want +got):\n%s", want.Email, diff)
	}
	for _, tm := range []time.Time{got.CreatedAt, got.EnrolledAt} {
		if !tm.IsZero() && tm.Location() != time.UTC {
			t.Errorf("StaffByID(%s): time %v is not in UTC", want.ID, tm)
		}
	}
}

// wantStaffEvents fails t unless ListStaffEvents(f) is exactly want, in
// order, as a non-nil slice.
func wantStaffEvents(t *testing.T, s custos.Store, f custos.StaffEventFilter, want ...custos.StaffEvent) {
	t.Helper()
	got, err := s.ListStaffEvents(t.Context(), f)
	if err != nil {
		t.Fatalf("ListStaffEvents(%+v): %v", f, err)
	}
	if got == nil {
		t.Errorf("ListStaffEvents(%+v) = nil, want an empty slice", f)
	}
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("ListStaffEvents(%+v) mismatch (-want +got):\n%s", f, diff)
	}
}

// wantStaffSession fails t unless the session with token hash of want
// reads back want (or, for a nil want, is gone).
func wantStaffSession(t *testing.T, s custos.Store, what string, tokenHash []byte, want *custos.StaffSession) {
	t.Helper()
	got, err := s.StaffSessionByTokenHash(t.Context(), tokenHash)
	if want == nil {
		wantCode(t, what+": StaffSessionByTokenHash", err, custos.ENotFound)
		return
	}
	if err != nil {
		t.Fatalf("%s: StaffSessionByTokenHash: %v", what, err)
	}
	if diff := cmp.Diff(*want, got, opts); diff != "" {
		t.Errorf("%s: StaffSessionByTokenHash mismatch (-want +got):\n%s", what, diff)
	}
}

// testStaffRoundTrip creates staff and reads them back one by one and as
// a list by email; CreateStaff makes every member invited.
func testStaffRoundTrip(t *testing.T, s custos.Store) {
	ctx := t.Context()
	east := time.FixedZone("UTC+8", 8*60*60)
	list, err := s.ListStaff(ctx)
	if err != nil {
		t.Fatalf("ListStaff: %v", err)
	}
	if list == nil || len(list) != 0 {
		t.Errorf("ListStaff of none = %#v, want an empty slice", list)
	}
	carol := newStaff("st-carol", custos.RoleAdmin)
	carol.Email = "carol@staff.example.test"
	alice := newStaff("st-zz-alice", custos.RoleReviewer)
	alice.Email = "alice@staff.example.test"
	alice.CreatedAt = t0.In(east).Add(999_999)
	bob := newStaff("st-bob", custos.RoleReviewer)
	bob.Email = "bob@staff.example.test"
	bob.State = custos.StaffActive // CreateStaff stores invited whatever it says
	for _, st := range []custos.Staff{carol, alice, bob} {
		mustCreateStaff(t, s, st)
	}
	alice.CreatedAt = t0
	bob.State = custos.StaffInvited
	for _, st := range []custos.Staff{carol, alice, bob} {
		wantStaff(t, s, st)
	}
	list, err = s.ListStaff(ctx)
	if err != nil {
		t.Fatalf("ListStaff: %v", err)
	}
	if diff := cmp.Diff([]custos.Staff{alice, bob, carol}, list, opts); diff != "" {
		t.Errorf("ListStaff (by email) mismatch (-want +got):\n%s", diff)
	}
	_, err = s.StaffByID(ctx, "st-absent")
	wantCode(t, "StaffByID(unknown)", err, custos.ENotFound)
	_, err = s.StaffByEmail(ctx, "absent@staff.example.test")
	wantCode(t, "StaffByEmail(unknown)", err, custos.ENotFound)
	wantStaffEvents(t, s, custos.StaffEventFilter{Target: carol.ID},
		newStaffEvent("se-add-"+carol.ID, "", "staff.add", carol.ID, t0))
}

// testCreateStaffErrors checks a taken email, id or event id is refused
// and writes nothing.
func testCreateStaffErrors(t *testing.T, s custos.Store) {
	ctx := t.Context()
	first := newStaff("st-first", custos.RoleAdmin)
	mustCreateStaff(t, s, first)
	sameEmail := newStaff("st-second", custos.RoleReviewer)
	sameEmail.Email = first.Email
	sameID := newStaff(first.ID, custos.RoleReviewer)
	sameID.Email = "other@staff.example.test"
	tests := []struct {
		name     string
		st       custos.Staff
		ev       custos.StaffEvent
		wantCode string // "" for a plain error
	}{
		{"a taken email", sameEmail, newStaffEvent("se-e1", "", "staff.add", sameEmail.ID, t0), custos.EEmailTaken},
		{"a taken id", sameID, newStaffEvent("se-e2", "", "staff.add", sameID.ID, t0), custos.EConflict},
		{"a taken event id", newStaff("st-third", custos.RoleReviewer), newStaffEvent("se-add-"+first.ID, "", "staff.add", "st-third", t0), custos.EConflict},
		{"an event without an id", newStaff("st-fourth", custos.RoleReviewer), custos.StaffEvent{Action: "staff.add"}, ""},
		{"no id", newStaff("", custos.RoleReviewer), newStaffEvent("se-e5", "", "staff.add", "", t0), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.CreateStaff(ctx, tc.st, tc.ev)
			if tc.wantCode != "" {
				wantCode(t, "CreateStaff", err, tc.wantCode)
			} else {
				wantPlain(t, "CreateStaff", err)
			}
		})
	}
	wantStaff(t, s, first)
	for _, id := range []string{"st-second", "st-third", "st-fourth"} {
		_, err := s.StaffByID(ctx, id)
		wantCode(t, "StaffByID(a refused member)", err, custos.ENotFound)
	}
	wantStaffEvents(t, s, custos.StaffEventFilter{}, newStaffEvent("se-add-"+first.ID, "", "staff.add", first.ID, t0))
}

// testActivateStaff checks enrolment stores its fields once, only for an
// invited member, with its event.
func testActivateStaff(t *testing.T, s custos.Store) {
	ctx := t.Context()
	st := newStaff("st-enrol", custos.RoleReviewer)
	mustCreateStaff(t, s, st)
	// A taken event id undoes the enrolment.
	err := s.ActivateStaff(ctx, st.ID, "hash", sealed("seed"), 5, t0, newStaffEvent("se-add-"+st.ID, st.ID, "staff.enrol", st.ID, t0))
	wantCode(t, "ActivateStaff(taken event id)", err, custos.EConflict)
	wantStaff(t, s, st)

	active := activate(t, s, st)
	wantStaff(t, s, active)
	err = s.ActivateStaff(ctx, st.ID, "other", sealed("other"), 9000, t0.Add(time.Hour), newStaffEvent("se-again", st.ID, "staff.enrol", st.ID, t0))
	wantCode(t, "ActivateStaff(active)", err, custos.EConflict)
	wantStaff(t, s, active)
	err = s.ActivateStaff(ctx, "st-absent", "hash", sealed("seed"), 5, t0, newStaffEvent("se-absent", "st-absent", "staff.enrol", "st-absent", t0))
	wantCode(t, "ActivateStaff(unknown)", err, custos.ENotFound)

	// A disabled member enrols no more.
	gone := newStaff("st-enrol-gone", custos.RoleReviewer)
	mustCreateStaff(t, s, gone)
	if err := s.DisableStaff(ctx, gone.ID, newStaffEvent("se-disable-gone", "", "staff.disable", gone.ID, t0)); err != nil {
		t.Fatalf("DisableStaff: %v", err)
	}
	err = s.ActivateStaff(ctx, gone.ID, "hash", sealed("seed"), 5, t0, newStaffEvent("se-gone", gone.ID, "staff.enrol", gone.ID, t0))
	wantCode(t, "ActivateStaff(disabled)", err, custos.EConflict)
	gone.State = custos.StaffDisabled
	wantStaff(t, s, gone)
	wantStaffEvents(t, s, custos.StaffEventFilter{Target: st.ID},
		newStaffEvent("se-enrol-"+st.ID, st.ID, "staff.enrol", st.ID, t0.Add(time.Minute)),
		newStaffEvent("se-add-"+st.ID, "", "staff.add", st.ID, t0))
}

// testUseStaffTOTPStep steps through accepted and refused time steps.
func testUseStaffTOTPStep(t *testing.T, s custos.Store) {
	ctx := t.Context()
	st := mustActiveStaff(t, s, "st-totp", custos.RoleReviewer) // last step 1000
	steps := []struct {
		step     int64
		wantCode string
		last     int64
	}{
		{step: 1000, wantCode: custos.EInvalidCode, last: 1000},
		{step: 999, wantCode: custos.EInvalidCode, last: 1000},
		{step: 1001, last: 1001},
		{step: 1001, wantCode: custos.EInvalidCode, last: 1001},
		{step: 1005, last: 1005},
		{step: 1003, wantCode: custos.EInvalidCode, last: 1005},
	}
	for _, tc := range steps {
		err := s.UseStaffTOTPStep(ctx, st.ID, tc.step)
		what := fmt.Sprintf("UseStaffTOTPStep(%d)", tc.step)
		if tc.wantCode != "" {
			wantCode(t, what, err, tc.wantCode)
		} else if err != nil {
			t.Errorf("%s: %v", what, err)
		}
		st.TOTPLastStep = tc.last
		wantStaff(t, s, st)
	}
	wantCode(t, "UseStaffTOTPStep(unknown)", s.UseStaffTOTPStep(ctx, "st-absent", 1), custos.ENotFound)
}

func testStaffStepRace(t *testing.T, s custos.Store) { StaffStepRace(t, s) }

// StaffStepRace offers one TOTP step StaffStepRacers times at once, spread
// over stores: exactly one is accepted, every other gets EInvalidCode.
func StaffStepRace(t *testing.T, stores ...custos.Store) {
	t.Helper()
	st := mustActiveStaff(t, stores[0], "st-step-race", custos.RoleReviewer)
	errs := raceAll(StaffStepRacers, func(i int) error {
		return stores[i%len(stores)].UseStaffTOTPStep(t.Context(), st.ID, 1001)
	})
	won := 0
	for i, err := range errs {
		if err == nil {
			won++
			continue
		}
		wantCode(t, fmt.Sprintf("UseStaffTOTPStep(racer %d)", i), err, custos.EInvalidCode)
	}
	if won != 1 {
		t.Errorf("%d of %d racers used the step, want exactly 1", won, StaffStepRacers)
	}
	st.TOTPLastStep = 1001
	wantStaff(t, stores[0], st)
}

// testSetStaffRole checks a role change and its event.
func testSetStaffRole(t *testing.T, s custos.Store) {
	ctx := t.Context()
	st := mustActiveStaff(t, s, "st-role", custos.RoleReviewer)
	ev := newStaffEvent("se-role", "st-admin", "staff.role", st.ID, t0.Add(time.Hour))
	if err := s.SetStaffRole(ctx, st.ID, custos.RoleAdmin, ev); err != nil {
		t.Fatalf("SetStaffRole: %v", err)
	}
	st.Role = custos.RoleAdmin
	wantStaff(t, s, st)
	err := s.SetStaffRole(ctx, "st-absent", custos.RoleAdmin, newStaffEvent("se-role-absent", "st-admin", "staff.role", "st-absent", t0))
	wantCode(t, "SetStaffRole(unknown)", err, custos.ENotFound)
	err = s.SetStaffRole(ctx, st.ID, custos.RoleReviewer, newStaffEvent(ev.ID, "st-admin", "staff.role", st.ID, t0))
	wantCode(t, "SetStaffRole(taken event id)", err, custos.EConflict)
	wantStaff(t, s, st)
	wantStaffEvents(t, s, custos.StaffEventFilter{Target: st.ID, Limit: 1}, ev)
}

// testStaffSessions steps through a member's sessions: only an active
// member gets one, and it reads back, moves on and ends.
func testStaffSessions(t *testing.T, s custos.Store) {
	ctx := t.Context()
	invited := newStaff("st-sess-invited", custos.RoleReviewer)
	mustCreateStaff(t, s, invited)
	st := mustActiveStaff(t, s, "st-sess", custos.RoleReviewer)

	for _, id := range []string{invited.ID, "st-absent"} {
		sess := newStaffSession("ss-"+id, id)
		err := s.CreateStaffSession(ctx, sess, newStaffEvent("se-login-"+id, id, "staff.login", id, t0))
		wantCode(t, "CreateStaffSession("+id+")", err, custos.ENotFound)
		wantStaffSession(t, s, "a refused session", sess.TokenHash, nil)
	}

	one := newStaffSession("ss-one", st.ID)
	login := newStaffEvent("se-login-one", st.ID, "staff.login", st.ID, t0)
	if err := s.CreateStaffSession(ctx, one, login); err != nil {
		t.Fatalf("CreateStaffSession: %v", err)
	}
	wantStaffSession(t, s, "created", one.TokenHash, &one)

	sameToken := newStaffSession("ss-two", st.ID)
	sameToken.TokenHash = one.TokenHash
	sameID := newStaffSession(one.ID, st.ID)
	sameID.TokenHash = hash("another token")
	for name, sess := range map[string]custos.StaffSession{"a taken token": sameToken, "a taken id": sameID} {
		err := s.CreateStaffSession(ctx, sess, newStaffEvent("se-"+name, st.ID, "staff.login", st.ID, t0))
		wantCode(t, "CreateStaffSession("+name+")", err, custos.EConflict)
	}
	err := s.CreateStaffSession(ctx, newStaffSession("ss-three", st.ID), newStaffEvent(login.ID, st.ID, "staff.login", st.ID, t0))
	wantCode(t, "CreateStaffSession(taken event id)", err, custos.EConflict)
	wantStaffSession(t, s, "refused on its event", newStaffSession("ss-three", st.ID).TokenHash, nil)

	if err := s.TouchStaffSession(ctx, one.ID, t0.Add(time.Hour)); err != nil {
		t.Fatalf("TouchStaffSession: %v", err)
	}
	one.LastSeenAt = t0.Add(time.Hour)
	wantStaffSession(t, s, "touched", one.TokenHash, &one)
	wantCode(t, "TouchStaffSession(unknown)", s.TouchStaffSession(ctx, "ss-absent", t0), custos.ENotFound)

	logout := newStaffEvent("se-logout", st.ID, "staff.logout", st.ID, t0.Add(2*time.Hour))
	err = s.DeleteStaffSession(ctx, one.ID, newStaffEvent(login.ID, st.ID, "staff.logout", st.ID, t0))
	wantCode(t, "DeleteStaffSession(taken event id)", err, custos.EConflict)
	wantStaffSession(t, s, "kept on its refused end", one.TokenHash, &one)
	if err := s.DeleteStaffSession(ctx, one.ID, logout); err != nil {
		t.Fatalf("DeleteStaffSession: %v", err)
	}
	wantStaffSession(t, s, "ended", one.TokenHash, nil)
	err = s.DeleteStaffSession(ctx, one.ID, newStaffEvent("se-logout-again", st.ID, "staff.logout", st.ID, t0))
	wantCode(t, "DeleteStaffSession(ended)", err, custos.ENotFound)
	wantStaffEvents(t, s, custos.StaffEventFilter{StaffID: st.ID},
		logout, newStaffEvent("se-enrol-"+st.ID, st.ID, "staff.enrol", st.ID, t0.Add(time.Minute)), login)
}

// testDisableStaff checks disabling ends every session of the member (and
// no other's), refuses new ones, and writes its event, all or nothing.
func testDisableStaff(t *testing.T, s custos.Store) {
	ctx := t.Context()
	st := mustActiveStaff(t, s, "st-off", custos.RoleReviewer)
	other := mustActiveStaff(t, s, "st-on", custos.RoleReviewer)
	var mine []custos.StaffSession
	for i := range 3 {
		sess := newStaffSession(seq("ss-off", i), st.ID)
		if err := s.CreateStaffSession(ctx, sess, newStaffEvent(seq("se-off-login", i), st.ID, "staff.login", st.ID, t0)); err != nil {
			t.Fatalf("CreateStaffSession: %v", err)
		}
		mine = append(mine, sess)
	}
	theirs := newStaffSession("ss-on", other.ID)
	if err := s.CreateStaffSession(ctx, theirs, newStaffEvent("se-on-login", other.ID, "staff.login", other.ID, t0)); err != nil {
		t.Fatalf("CreateStaffSession: %v", err)
	}

	err := s.DisableStaff(ctx, st.ID, newStaffEvent("se-off-login-0000", "", "staff.disable", st.ID, t0))
	wantCode(t, "DisableStaff(taken event id)", err, custos.EConflict)
	wantStaff(t, s, st)
	wantStaffSession(t, s, "kept on a refused disable", mine[0].TokenHash, &mine[0])

	ev := newStaffEvent("se-off", "st-admin", "staff.disable", st.ID, t0.Add(time.Hour))
	if err := s.DisableStaff(ctx, st.ID, ev); err != nil {
		t.Fatalf("DisableStaff: %v", err)
	}
	st.State = custos.StaffDisabled
	wantStaff(t, s, st)
	for _, sess := range mine {
		wantStaffSession(t, s, "a disabled member's", sess.TokenHash, nil)
	}
	wantStaffSession(t, s, "another member's", theirs.TokenHash, &theirs)
	err = s.CreateStaffSession(ctx, newStaffSession("ss-off-new", st.ID), newStaffEvent("se-off-new", st.ID, "staff.login", st.ID, t0))
	wantCode(t, "CreateStaffSession(disabled)", err, custos.ENotFound)
	err = s.DisableStaff(ctx, "st-absent", newStaffEvent("se-off-absent", "", "staff.disable", "st-absent", t0))
	wantCode(t, "DisableStaff(unknown)", err, custos.ENotFound)
	wantStaffEvents(t, s, custos.StaffEventFilter{StaffID: "st-admin"}, ev)
}

func testDisableStaffRace(t *testing.T, s custos.Store) { DisableStaffRace(t, s) }

// DisableStaffRace opens StaffSessionRacers sessions of one member while
// it is disabled, spread over stores: every session is either refused
// with ENotFound or ended by the disable; none outlives it.
func DisableStaffRace(t *testing.T, stores ...custos.Store) {
	t.Helper()
	ctx := t.Context()
	st := mustActiveStaff(t, stores[0], "st-race-off", custos.RoleReviewer)
	errs := make([]error, StaffSessionRacers+1)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range StaffSessionRacers + 1 {
		wg.Go(func() {
			s := stores[i%len(stores)]
			<-start
			if i == StaffSessionRacers/2 {
				errs[i] = s.DisableStaff(ctx, st.ID, newStaffEvent("se-race-off", "", "staff.disable", st.ID, t0))
				return
			}
			errs[i] = s.CreateStaffSession(ctx, newStaffSession(seq("ss-race", i), st.ID),
				newStaffEvent(seq("se-race-login", i), st.ID, "staff.login", st.ID, t0))
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if i == StaffSessionRacers/2 {
			if err != nil {
				t.Fatalf("DisableStaff: %v", err)
			}
			continue
		}
		if err != nil {
			wantCode(t, fmt.Sprintf("CreateStaffSession(racer %d)", i), err, custos.ENotFound)
		}
		wantStaffSession(t, stores[0], fmt.Sprintf("racer %d after the disable", i), newStaffSession(seq("ss-race", i), st.ID).TokenHash, nil)
	}
}

// testDeleteExpiredStaffSessions checks the sweep removes sessions past
// their end or idle too long, and only those.
func testDeleteExpiredStaffSessions(t *testing.T, s custos.Store) {
	ctx := t.Context()
	st := mustActiveStaff(t, s, "st-sweep", custos.RoleReviewer)
	now := t0.Add(10 * time.Hour)
	idleBefore := now.Add(-30 * time.Minute)
	type row struct {
		id            string
		expires, seen time.Time
		gone          bool
	}
	rows := []row{
		{id: "ss-live", expires: now.Add(time.Hour), seen: now},
		{id: "ss-ends-now", expires: now, seen: now},
		{id: "ss-ended", expires: now.Add(-time.Millisecond), seen: now, gone: true},
		{id: "ss-idle-edge", expires: now.Add(time.Hour), seen: idleBefore},
		{id: "ss-idle", expires: now.Add(time.Hour), seen: idleBefore.Add(-time.Millisecond), gone: true},
		{id: "ss-both", expires: t0, seen: t0, gone: true},
	}
	for _, r := range rows {
		sess := newStaffSession(r.id, st.ID)
		sess.ExpiresAt, sess.LastSeenAt = r.expires, r.seen
		if err := s.CreateStaffSession(ctx, sess, newStaffEvent("se-"+r.id, st.ID, "staff.login", st.ID, t0)); err != nil {
			t.Fatalf("CreateStaffSession(%s): %v", r.id, err)
		}
	}
	n, err := s.DeleteExpiredStaffSessions(ctx, now, idleBefore)
	if err != nil {
		t.Fatalf("DeleteExpiredStaffSessions: %v", err)
	}
	if n != 3 {
		t.Errorf("DeleteExpiredStaffSessions = %d, want 3", n)
	}
	for _, r := range rows {
		sess := newStaffSession(r.id, st.ID)
		sess.ExpiresAt, sess.LastSeenAt = r.expires, r.seen
		if r.gone {
			wantStaffSession(t, s, r.id, sess.TokenHash, nil)
		} else {
			wantStaffSession(t, s, r.id, sess.TokenHash, &sess)
		}
	}
	if n, err := s.DeleteExpiredStaffSessions(ctx, now, idleBefore); err != nil || n != 0 {
		t.Errorf("DeleteExpiredStaffSessions again = %d, %v; want 0", n, err)
	}
}

// testStaffEvents appends events and lists them newest first (the same
// millisecond latest-written first), by member, target, time and number.
func testStaffEvents(t *testing.T, s custos.Store) {
	ctx := t.Context()
	east := time.FixedZone("UTC+8", 8*60*60)
	a1 := newStaffEvent("se-a1", "st-a", "identity.view_file", "blob-1", t0)
	a2 := newStaffEvent("se-a2", "st-a", "identity.decide", "sub-1", t0.Add(time.Minute))
	b1 := newStaffEvent("se-b1", "st-b", "identity.view_file", "blob-1", t0.Add(time.Minute)) // written after a2
	cli := newStaffEvent("se-cli", "", "staff.add", "st-b", t0.In(east).Add(2*time.Minute+999_999))
	cli.Detail = nil
	for _, ev := range []custos.StaffEvent{a1, a2, b1, cli} {
		if err := s.AppendStaffEvent(ctx, ev); err != nil {
			t.Fatalf("AppendStaffEvent(%s): %v", ev.ID, err)
		}
	}
	cli.At = t0.Add(2 * time.Minute)
	wantCode(t, "AppendStaffEvent(taken id)", s.AppendStaffEvent(ctx, newStaffEvent(a1.ID, "st-x", "x", "y", t0)), custos.EConflict)
	wantPlain(t, "AppendStaffEvent(no id)", s.AppendStaffEvent(ctx, custos.StaffEvent{Action: "x", At: t0}))

	tests := []struct {
		name string
		f    custos.StaffEventFilter
		want []custos.StaffEvent
	}{
		{name: "everyone", want: []custos.StaffEvent{cli, b1, a2, a1}},
		{name: "one member", f: custos.StaffEventFilter{StaffID: "st-a"}, want: []custos.StaffEvent{a2, a1}},
		{name: "one target", f: custos.StaffEventFilter{Target: "blob-1"}, want: []custos.StaffEvent{b1, a1}},
		{name: "member and target", f: custos.StaffEventFilter{StaffID: "st-a", Target: "blob-1"}, want: []custos.StaffEvent{a1}},
		{name: "before", f: custos.StaffEventFilter{Before: t0.Add(2 * time.Minute)}, want: []custos.StaffEvent{b1, a2, a1}},
		{name: "before, one member", f: custos.StaffEventFilter{StaffID: "st-a", Before: t0.Add(time.Minute)}, want: []custos.StaffEvent{a1}},
		{name: "limit", f: custos.StaffEventFilter{Limit: 2}, want: []custos.StaffEvent{cli, b1}},
		{name: "an unknown member", f: custos.StaffEventFilter{StaffID: "st-absent"}},
		{name: "before any", f: custos.StaffEventFilter{Before: t0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantStaffEvents(t, s, tc.f, tc.want...) })
	}
}

// testStaffEventsDefaultLimit checks a filter without a limit lists the
// newest 100.
func testStaffEventsDefaultLimit(t *testing.T, s custos.Store) {
	ctx := t.Context()
	const n = 105
	for i := range n {
		if err := s.AppendStaffEvent(ctx, newStaffEvent(seq("se-many", i), "st-many", "staff.login", "st-many", t0.Add(time.Duration(i)*time.Second))); err != nil {
			t.Fatalf("AppendStaffEvent: %v", err)
		}
	}
	got, err := s.ListStaffEvents(ctx, custos.StaffEventFilter{})
	if err != nil {
		t.Fatalf("ListStaffEvents: %v", err)
	}
	if len(got) != 100 || got[0].ID != seq("se-many", n-1) || got[99].ID != seq("se-many", n-100) {
		t.Errorf("ListStaffEvents without a limit: %d events, want the newest 100", len(got))
	}
}
