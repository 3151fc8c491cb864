package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/google/go-cmp/cmp"
)

// CollabAcceptRacers accounts accept one invitation at once in
// CollabAcceptRace.
const CollabAcceptRacers = 20

// The audit event types of the suite's collaboration changes.
const (
	evCollabInvited  = "collab.invited"
	evCollabAccepted = "collab.accepted"
	evCollabSet      = "collab.protection"
	evCollabEnded    = "collab.ended"
	evCollabActing   = "collab.acting"
)

// collabsOf returns s as the custos.CollaborationStore it must be.
func collabsOf(t *testing.T, s custos.Store) custos.CollaborationStore {
	t.Helper()
	cs, ok := any(s).(custos.CollaborationStore)
	if !ok {
		t.Fatalf("the store %T keeps no collaborations", s)
	}
	return cs
}

// newCollab is an invitation of email into root at `at`, asking for login
// protection.
func newCollab(id, root, email string, at time.Time) custos.Collaboration {
	return custos.Collaboration{
		ID:            id,
		RootAccountID: root,
		InviteEmail:   email,
		State:         custos.CollabInvited,
		Protection:    custos.Protection{Login: true, LoginMethod: custos.MethodMFA},
		CreatedAt:     at,
	}
}

// invited is c as CreateCollaboration stores it.
func invited(c custos.Collaboration) custos.Collaboration {
	c.State, c.AccountID, c.AcceptedAt, c.EndedAt = custos.CollabInvited, "", time.Time{}, time.Time{}
	return c
}

// mustInvite creates c with the event "ev-"+c.ID under its root.
func mustInvite(t *testing.T, s custos.Store, c custos.Collaboration) custos.Collaboration {
	t.Helper()
	if err := collabsOf(t, s).CreateCollaboration(t.Context(), c,
		newEvent("ev-"+c.ID, c.RootAccountID, evCollabInvited, c.CreatedAt)); err != nil {
		t.Fatalf("CreateCollaboration(%s): %v", c.ID, err)
	}
	return invited(c)
}

// mustAccept accepts c for accountID at `at`, with the event
// "ev-accept-"+c.ID under the root, and returns it as it then reads back.
func mustAccept(t *testing.T, s custos.Store, c custos.Collaboration, accountID string, at time.Time) custos.Collaboration {
	t.Helper()
	if err := collabsOf(t, s).AcceptCollaboration(t.Context(), c.ID, accountID, at,
		newEvent("ev-accept-"+c.ID, c.RootAccountID, evCollabAccepted, at)); err != nil {
		t.Fatalf("AcceptCollaboration(%s): %v", c.ID, err)
	}
	c.State, c.AccountID, c.AcceptedAt = custos.CollabActive, accountID, at
	return c
}

// mustEnd ends c at `at`, with the event "ev-end-"+c.ID under the root,
// and returns it as it then reads back.
func mustEnd(t *testing.T, s custos.Store, c custos.Collaboration, at time.Time) custos.Collaboration {
	t.Helper()
	if err := collabsOf(t, s).EndCollaboration(t.Context(), c.ID, at,
		newEvent("ev-end-"+c.ID, c.RootAccountID, evCollabEnded, at)); err != nil {
		t.Fatalf("EndCollaboration(%s): %v", c.ID, err)
	}
	c.State, c.EndedAt = custos.CollabEnded, at
	return c
}

// wantCollab fails t unless the collaboration want.ID reads back as want.
func wantCollab(t *testing.T, s custos.Store, want custos.Collaboration) {
	t.Helper()
	got, err := collabsOf(t, s).CollaborationByID(t.Context(), want.ID)
	if err != nil {
		t.Fatalf("CollaborationByID(%s): %v", want.ID, err)
	}
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("CollaborationByID(%s) mismatch (-want +got):\n%s", want.ID, diff)
	}
}

func collabOrAbsent(t *testing.T, s custos.Store, id string) any {
	t.Helper()
	c, err := collabsOf(t, s).CollaborationByID(t.Context(), id)
	switch {
	case custos.IsCode(err, custos.ENotFound):
		return absent
	case err != nil:
		t.Fatalf("CollaborationByID(%s): %v", id, err)
	}
	return c
}

// wantCollabLists fails t unless the root's and the account's lists are
// exactly the collaborations given, in order.
func wantCollabLists(t *testing.T, s custos.Store, root string, ofRoot []custos.Collaboration, account string, ofAccount []custos.Collaboration) {
	t.Helper()
	got, err := collabsOf(t, s).CollaborationsOfRoot(t.Context(), root)
	if err != nil {
		t.Fatalf("CollaborationsOfRoot(%s): %v", root, err)
	}
	if diff := cmp.Diff(ofRoot, got, opts); diff != "" {
		t.Errorf("CollaborationsOfRoot(%s) mismatch (-want +got):\n%s", root, diff)
	}
	got, err = collabsOf(t, s).CollaborationsOfAccount(t.Context(), account)
	if err != nil {
		t.Fatalf("CollaborationsOfAccount(%s): %v", account, err)
	}
	if diff := cmp.Diff(ofAccount, got, opts); diff != "" {
		t.Errorf("CollaborationsOfAccount(%s) mismatch (-want +got):\n%s", account, diff)
	}
}

// sessionOf reads back the session id of accountID (made by newSession).
func sessionOf(t *testing.T, s custos.Store, id, accountID string) custos.Session {
	t.Helper()
	sess, err := s.SessionByTokenHash(t.Context(), newSession(id, accountID).TokenHash)
	if err != nil {
		t.Fatalf("SessionByTokenHash(%s): %v", id, err)
	}
	return sess
}

// mustActingSession creates the session id of accountID working in root
// ("" for its own account).
func mustActingSession(t *testing.T, s custos.Store, id, accountID, root string) custos.Session {
	t.Helper()
	sess := newSession(id, accountID)
	sess.ActingRootAccountID = root
	if err := s.CreateSession(t.Context(), sess, newEvent("ev-login-"+id, accountID, custos.EventLoginSuccess, t0)); err != nil {
		t.Fatalf("CreateSession(%s): %v", id, err)
	}
	return sess
}

// testCollabRoundTrip follows one collaboration from invitation to end:
// created invited whatever it says, accepted, its protection replaced,
// ended, each step reading back and writing its event.
func testCollabRoundTrip(t *testing.T, s custos.Store) {
	ctx := t.Context()
	cs := collabsOf(t, s)
	root := mustCreateAccount(t, s, "co-rt-root")
	mate := mustCreateAccount(t, s, "co-rt-mate")

	c := newCollab("co-rt", root.ID, mate.Email, t0)
	c.Protection = custos.Protection{Login: true, Operation: true, LoginMethod: custos.MethodSMS, OperationMethod: custos.MethodEmail}
	// What a later state holds is ignored on creation.
	claimed := c
	claimed.State, claimed.AccountID = custos.CollabActive, mate.ID
	claimed.AcceptedAt, claimed.EndedAt = t0.Add(time.Minute), t0.Add(time.Hour)
	evInvite := newEvent("ev-co-rt-invite", root.ID, evCollabInvited, t0)
	if err := cs.CreateCollaboration(ctx, claimed, evInvite); err != nil {
		t.Fatalf("CreateCollaboration: %v", err)
	}
	want := invited(c)
	wantCollab(t, s, want)
	if got := collabOrAbsent(t, s, c.ID).(custos.Collaboration); !got.AcceptedAt.IsZero() || !got.EndedAt.IsZero() {
		t.Errorf("invited collaboration: AcceptedAt %v, EndedAt %v, want both zero", got.AcceptedAt, got.EndedAt)
	}
	wantCollabLists(t, s, root.ID, []custos.Collaboration{want}, mate.ID, nil)

	acceptedAt := t0.Add(2 * time.Minute)
	evAccept := newEvent("ev-co-rt-accept", root.ID, evCollabAccepted, acceptedAt)
	if err := cs.AcceptCollaboration(ctx, c.ID, mate.ID, acceptedAt, evAccept); err != nil {
		t.Fatalf("AcceptCollaboration: %v", err)
	}
	want.State, want.AccountID, want.AcceptedAt = custos.CollabActive, mate.ID, acceptedAt
	wantCollab(t, s, want)
	wantCollabLists(t, s, root.ID, []custos.Collaboration{want}, mate.ID, []custos.Collaboration{want})

	p := custos.Protection{Operation: true, OperationMethod: custos.MethodMFA}
	evSet := newEvent("ev-co-rt-set", root.ID, evCollabSet, t0.Add(3*time.Minute))
	if err := cs.SetCollaborationProtection(ctx, root.ID, c.ID, p, evSet); err != nil {
		t.Fatalf("SetCollaborationProtection: %v", err)
	}
	want.Protection = p
	wantCollab(t, s, want)

	endedAt := t0.Add(4 * time.Minute)
	evEnd := newEvent("ev-co-rt-end", root.ID, evCollabEnded, endedAt)
	if err := cs.EndCollaboration(ctx, c.ID, endedAt, evEnd); err != nil {
		t.Fatalf("EndCollaboration: %v", err)
	}
	want.State, want.EndedAt = custos.CollabEnded, endedAt
	wantCollab(t, s, want)
	wantCollabLists(t, s, root.ID, nil, mate.ID, nil)

	wantEvents(t, s, root.ID, evEnd, evSet, evAccept, evInvite, newEvent("ev-signup-"+root.ID, root.ID, custos.EventSignup, t0))

	_, err := cs.CollaborationByID(ctx, "co-absent")
	wantCode(t, "CollaborationByID(unknown)", err, custos.ENotFound)
}

// testCreateCollabErrors checks each refusal of CreateCollaboration, that
// a refused create writes neither the row nor its event, and the partial
// unique rule: one invited or active collaboration per root and email, an
// ended one not counting.
func testCreateCollabErrors(t *testing.T, s custos.Store) {
	ctx := t.Context()
	cs := collabsOf(t, s)
	root := mustCreateAccount(t, s, "co-err-root")
	other := mustCreateAccount(t, s, "co-err-other")
	mate := mustCreateAccount(t, s, "co-err-mate")
	const email = "mate@example.test"
	pending := mustInvite(t, s, newCollab("co-err-pending", root.ID, email, t0))
	activeOne := mustAccept(t, s, mustInvite(t, s, newCollab("co-err-active", root.ID, "active@example.test", t0)), mate.ID, t0)

	tests := []struct {
		name     string
		c        custos.Collaboration
		ev       custos.AuditEvent
		wantCode string // "" for a plain failure
	}{
		{"unknown root", newCollab("co-err-1", "co-err-absent", "x@example.test", t0),
			newEvent("ev-co-err-1", "co-err-absent", evCollabInvited, t0), custos.ENotFound},
		{"id taken", newCollab(pending.ID, other.ID, "y@example.test", t0),
			newEvent("ev-co-err-2", root.ID, evCollabInvited, t0), custos.EConflict},
		{"email invited in the root", newCollab("co-err-3", root.ID, email, t0.Add(time.Second)),
			newEvent("ev-co-err-3", root.ID, evCollabInvited, t0), custos.EConflict},
		{"email active in the root", newCollab("co-err-4", root.ID, activeOne.InviteEmail, t0.Add(time.Second)),
			newEvent("ev-co-err-4", root.ID, evCollabInvited, t0), custos.EConflict},
		{"event id taken", newCollab("co-err-5", root.ID, "z@example.test", t0),
			newEvent("ev-"+pending.ID, root.ID, evCollabInvited, t0), custos.EConflict},
		{"event without id", newCollab("co-err-6", root.ID, "w@example.test", t0),
			newEvent("", root.ID, evCollabInvited, t0), ""},
		{"no email", newCollab("co-err-7", root.ID, "", t0),
			newEvent("ev-co-err-7", root.ID, evCollabInvited, t0), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := cs.CreateCollaboration(ctx, tc.c, tc.ev)
			if tc.wantCode != "" {
				wantCode(t, "CreateCollaboration", err, tc.wantCode)
			} else if err == nil {
				t.Errorf("CreateCollaboration: got no error, want one")
			}
			if tc.c.ID != pending.ID {
				_, err := cs.CollaborationByID(ctx, tc.c.ID)
				wantCode(t, "CollaborationByID after refused create", err, custos.ENotFound)
			}
		})
	}
	wantCollab(t, s, pending)
	wantEvents(t, s, root.ID,
		newEvent("ev-accept-"+activeOne.ID, root.ID, evCollabAccepted, t0),
		newEvent("ev-"+activeOne.ID, root.ID, evCollabInvited, t0),
		newEvent("ev-"+pending.ID, root.ID, evCollabInvited, t0),
		newEvent("ev-signup-"+root.ID, root.ID, custos.EventSignup, t0))
	wantEvents(t, s, other.ID, newEvent("ev-signup-"+other.ID, other.ID, custos.EventSignup, t0))

	t.Run("same email in another root", func(t *testing.T) {
		mustInvite(t, s, newCollab("co-err-elsewhere", other.ID, email, t0))
	})
	t.Run("again once ended", func(t *testing.T) {
		mustEnd(t, s, pending, t0.Add(time.Minute))
		again := mustInvite(t, s, newCollab("co-err-again", root.ID, email, t0.Add(2*time.Minute)))
		mustEnd(t, s, activeOne, t0.Add(time.Minute))
		mustInvite(t, s, newCollab("co-err-again-active", root.ID, activeOne.InviteEmail, t0.Add(2*time.Minute)))
		// The new invitation counts again.
		err := cs.CreateCollaboration(ctx, newCollab("co-err-third", root.ID, email, t0.Add(3*time.Minute)),
			newEvent("ev-co-err-third", root.ID, evCollabInvited, t0))
		wantCode(t, "CreateCollaboration(third while the second is invited)", err, custos.EConflict)
		wantCollab(t, s, again)
	})
}

// testAcceptCollab checks AcceptCollaboration's outcomes: unknown, the
// root accepting its own invitation, accepted once, and no acceptance of
// an accepted or ended one; each refusal writes nothing.
func testAcceptCollab(t *testing.T, s custos.Store) {
	ctx := t.Context()
	cs := collabsOf(t, s)
	root := mustCreateAccount(t, s, "co-acc-root")
	mate := mustCreateAccount(t, s, "co-acc-mate")
	late := mustCreateAccount(t, s, "co-acc-late")
	c := mustInvite(t, s, newCollab("co-acc", root.ID, mate.Email, t0))
	gone := mustEnd(t, s, mustInvite(t, s, newCollab("co-acc-gone", root.ID, late.Email, t0)), t0.Add(time.Minute))

	accept := func(id, accountID, evID string) error {
		return cs.AcceptCollaboration(ctx, id, accountID, t0.Add(time.Hour), newEvent(evID, root.ID, evCollabAccepted, t0.Add(time.Hour)))
	}
	wantCode(t, "AcceptCollaboration(unknown)", accept("co-acc-absent", mate.ID, "ev-co-acc-1"), custos.ENotFound)
	wantCode(t, "AcceptCollaboration(by the root)", accept(c.ID, root.ID, "ev-co-acc-2"), custos.EConflict)
	wantCode(t, "AcceptCollaboration(taken event id)", accept(c.ID, mate.ID, "ev-"+c.ID), custos.EConflict)
	wantCollab(t, s, c)
	wantCode(t, "AcceptCollaboration(ended)", accept(gone.ID, late.ID, "ev-co-acc-3"), custos.EAlreadyDecided)
	wantCollab(t, s, gone)

	if err := accept(c.ID, mate.ID, "ev-co-acc-ok"); err != nil {
		t.Fatalf("AcceptCollaboration: %v", err)
	}
	c.State, c.AccountID, c.AcceptedAt = custos.CollabActive, mate.ID, t0.Add(time.Hour)
	wantCollab(t, s, c)
	wantCode(t, "AcceptCollaboration(again, another account)", accept(c.ID, late.ID, "ev-co-acc-4"), custos.EAlreadyDecided)
	wantCode(t, "AcceptCollaboration(again, same account)", accept(c.ID, mate.ID, "ev-co-acc-5"), custos.EAlreadyDecided)
	wantCollab(t, s, c)
	wantCollabLists(t, s, root.ID, []custos.Collaboration{c}, mate.ID, []custos.Collaboration{c})
	wantCollabLists(t, s, root.ID, []custos.Collaboration{c}, late.ID, nil)
	wantEvents(t, s, root.ID,
		newEvent("ev-co-acc-ok", root.ID, evCollabAccepted, t0.Add(time.Hour)),
		newEvent("ev-end-"+gone.ID, root.ID, evCollabEnded, t0.Add(time.Minute)),
		newEvent("ev-"+gone.ID, root.ID, evCollabInvited, t0),
		newEvent("ev-"+c.ID, root.ID, evCollabInvited, t0),
		newEvent("ev-signup-"+root.ID, root.ID, custos.EventSignup, t0))
}

func testCollabAcceptRace(t *testing.T, s custos.Store) { CollabAcceptRace(t, s) }

// CollabAcceptRace has CollabAcceptRacers accounts accept one invitation
// at once, spread over stores: exactly one wins and its account becomes
// the collaborator, the others get EAlreadyDecided and write nothing.
func CollabAcceptRace(t *testing.T, stores ...custos.Store) {
	t.Helper()
	ctx := t.Context()
	root := mustCreateAccount(t, stores[0], "co-race-root")
	c := mustInvite(t, stores[0], newCollab("co-race", root.ID, "racer@example.test", t0))
	for i := range CollabAcceptRacers {
		mustCreateAccount(t, stores[0], seq("co-racer", i))
	}
	at := func(i int) time.Time { return t0.Add(time.Duration(i+1) * time.Second) }
	errs := raceAll(CollabAcceptRacers, func(i int) error {
		cs := collabsOf(t, stores[i%len(stores)])
		return cs.AcceptCollaboration(ctx, c.ID, seq("co-racer", i), at(i),
			newEvent(seq("ev-co-race", i), root.ID, evCollabAccepted, at(i)))
	})
	winner := soleWinner(t, "AcceptCollaboration", errs, custos.EAlreadyDecided)
	c.State, c.AccountID, c.AcceptedAt = custos.CollabActive, seq("co-racer", winner), at(winner)
	wantCollab(t, stores[0], c)
	for i := range CollabAcceptRacers {
		var want []custos.Collaboration
		if i == winner {
			want = []custos.Collaboration{c}
		}
		wantCollabLists(t, stores[0], root.ID, []custos.Collaboration{c}, seq("co-racer", i), want)
	}
	wantEvents(t, stores[0], root.ID,
		newEvent(seq("ev-co-race", winner), root.ID, evCollabAccepted, at(winner)),
		newEvent("ev-"+c.ID, root.ID, evCollabInvited, t0),
		newEvent("ev-signup-"+root.ID, root.ID, custos.EventSignup, t0))
}

// testCollabLists checks CollaborationsOfRoot (invited and active, not
// ended, newest first, ties by id descending, the root's only) and
// CollaborationsOfAccount (active only, the account's only).
func testCollabLists(t *testing.T, s custos.Store) {
	root := mustCreateAccount(t, s, "co-ls-root")
	other := mustCreateAccount(t, s, "co-ls-other")
	mate := mustCreateAccount(t, s, "co-ls-mate")
	bystander := mustCreateAccount(t, s, "co-ls-bystander")
	left := mustCreateAccount(t, s, "co-ls-left")

	oldest := mustAccept(t, s, mustInvite(t, s, newCollab("co-ls-1", root.ID, "a@example.test", t0)), mate.ID, t0.Add(time.Hour))
	tieLow := mustInvite(t, s, newCollab("co-ls-2", root.ID, "b@example.test", t0.Add(time.Minute)))
	tieHigh := mustAccept(t, s, mustInvite(t, s, newCollab("co-ls-3", root.ID, "c@example.test", t0.Add(time.Minute))),
		bystander.ID, t0.Add(time.Hour))
	mustEnd(t, s, mustAccept(t, s, mustInvite(t, s, newCollab("co-ls-4", root.ID, "d@example.test", t0.Add(2*time.Minute))),
		left.ID, t0.Add(time.Hour)), t0.Add(2*time.Hour))
	mustEnd(t, s, mustInvite(t, s, newCollab("co-ls-5", root.ID, "e@example.test", t0.Add(3*time.Minute))), t0.Add(2*time.Hour))
	elsewhere := mustAccept(t, s, mustInvite(t, s, newCollab("co-ls-6", other.ID, "a@example.test", t0.Add(4*time.Minute))),
		mate.ID, t0.Add(time.Hour))
	newest := mustInvite(t, s, newCollab("co-ls-7", root.ID, "f@example.test", t0.Add(5*time.Minute)))

	tests := []struct {
		name      string
		root      string
		ofRoot    []custos.Collaboration
		account   string
		ofAccount []custos.Collaboration
	}{
		{"newest first, ties by id descending, none ended", root.ID,
			[]custos.Collaboration{newest, tieHigh, tieLow, oldest},
			mate.ID, []custos.Collaboration{elsewhere, oldest}},
		{"another root's own", other.ID, []custos.Collaboration{elsewhere},
			bystander.ID, []custos.Collaboration{tieHigh}},
		{"none", "co-ls-absent", nil, "co-ls-absent", nil},
		{"an ended one is no collaboration", "co-ls-absent", nil, left.ID, nil},
		{"an invitation has no collaborator yet", "co-ls-absent", nil, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantCollabLists(t, s, tc.root, tc.ofRoot, tc.account, tc.ofAccount)
		})
	}
}

// testSetCollabProtection checks that only the root's own collaborations
// that have not ended take new protection, each refusal writing nothing.
func testSetCollabProtection(t *testing.T, s custos.Store) {
	ctx := t.Context()
	cs := collabsOf(t, s)
	root := mustCreateAccount(t, s, "co-set-root")
	other := mustCreateAccount(t, s, "co-set-other")
	mate := mustCreateAccount(t, s, "co-set-mate")
	pending := mustInvite(t, s, newCollab("co-set-pending", root.ID, "p@example.test", t0))
	activeOne := mustAccept(t, s, mustInvite(t, s, newCollab("co-set-active", root.ID, mate.Email, t0)), mate.ID, t0)
	gone := mustEnd(t, s, mustInvite(t, s, newCollab("co-set-gone", root.ID, "g@example.test", t0)), t0)

	p := custos.Protection{Operation: true, OperationMethod: custos.MethodSMS}
	set := func(rootID, id, evID string) error {
		return cs.SetCollaborationProtection(ctx, rootID, id, p, newEvent(evID, rootID, evCollabSet, t0.Add(time.Hour)))
	}
	tests := []struct {
		name, root, id string
	}{
		{"another root's", other.ID, activeOne.ID},
		{"unknown", root.ID, "co-set-absent"},
		{"ended", root.ID, gone.ID},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, "SetCollaborationProtection", set(tc.root, tc.id, seq("ev-co-set", i)), custos.ENotFound)
		})
	}
	wantCollab(t, s, activeOne)
	wantCollab(t, s, gone)
	wantEvents(t, s, other.ID, newEvent("ev-signup-"+other.ID, other.ID, custos.EventSignup, t0))

	for _, c := range []custos.Collaboration{pending, activeOne} {
		if err := set(root.ID, c.ID, "ev-co-set-"+c.ID); err != nil {
			t.Fatalf("SetCollaborationProtection(%s): %v", c.ID, err)
		}
		c.Protection = p
		wantCollab(t, s, c)
	}
	wantEvents(t, s, root.ID,
		newEvent("ev-co-set-"+activeOne.ID, root.ID, evCollabSet, t0.Add(time.Hour)),
		newEvent("ev-co-set-"+pending.ID, root.ID, evCollabSet, t0.Add(time.Hour)),
		newEvent("ev-end-"+gone.ID, root.ID, evCollabEnded, t0),
		newEvent("ev-"+gone.ID, root.ID, evCollabInvited, t0),
		newEvent("ev-accept-"+activeOne.ID, root.ID, evCollabAccepted, t0),
		newEvent("ev-"+activeOne.ID, root.ID, evCollabInvited, t0),
		newEvent("ev-"+pending.ID, root.ID, evCollabInvited, t0),
		newEvent("ev-signup-"+root.ID, root.ID, custos.EventSignup, t0))
}

// testEndCollab checks that ending a collaboration sets the collaborator's
// sessions working in that root back to their own account, and no other
// session (the collaborator's in another root, another collaborator's in
// the same root); that it ends once; and that an invitation ends too.
func testEndCollab(t *testing.T, s custos.Store) {
	ctx := t.Context()
	cs := collabsOf(t, s)
	root := mustCreateAccount(t, s, "co-end-root")
	other := mustCreateAccount(t, s, "co-end-other")
	mate := mustCreateAccount(t, s, "co-end-mate")
	peer := mustCreateAccount(t, s, "co-end-peer")
	c := mustAccept(t, s, mustInvite(t, s, newCollab("co-end", root.ID, mate.Email, t0)), mate.ID, t0)
	mustAccept(t, s, mustInvite(t, s, newCollab("co-end-there", other.ID, mate.Email, t0)), mate.ID, t0)
	mustAccept(t, s, mustInvite(t, s, newCollab("co-end-peer", root.ID, peer.Email, t0)), peer.ID, t0)
	pending := mustInvite(t, s, newCollab("co-end-pending", root.ID, "nobody@example.test", t0))

	in1 := mustActingSession(t, s, "sess-co-end-in1", mate.ID, root.ID)
	in2 := mustActingSession(t, s, "sess-co-end-in2", mate.ID, root.ID)
	there := mustActingSession(t, s, "sess-co-end-there", mate.ID, other.ID)
	own := mustActingSession(t, s, "sess-co-end-own", mate.ID, "")
	peers := mustActingSession(t, s, "sess-co-end-peer", peer.ID, root.ID)

	c = mustEnd(t, s, c, t0.Add(time.Hour))
	wantCollab(t, s, c)
	in1.ActingRootAccountID, in2.ActingRootAccountID = "", ""
	for _, want := range []custos.Session{in1, in2, there, own, peers} {
		if diff := cmp.Diff(want, sessionOf(t, s, want.ID, want.AccountID), opts); diff != "" {
			t.Errorf("session %s after EndCollaboration (-want +got):\n%s", want.ID, diff)
		}
	}

	err := cs.EndCollaboration(ctx, c.ID, t0.Add(2*time.Hour), newEvent("ev-co-end-again", root.ID, evCollabEnded, t0))
	wantCode(t, "EndCollaboration(ended)", err, custos.ENotFound)
	wantCollab(t, s, c)
	err = cs.EndCollaboration(ctx, "co-end-absent", t0.Add(2*time.Hour), newEvent("ev-co-end-absent", root.ID, evCollabEnded, t0))
	wantCode(t, "EndCollaboration(unknown)", err, custos.ENotFound)

	pending = mustEnd(t, s, pending, t0.Add(3*time.Hour))
	wantCollab(t, s, pending)
	wantEvents(t, s, root.ID,
		newEvent("ev-end-"+pending.ID, root.ID, evCollabEnded, t0.Add(3*time.Hour)),
		newEvent("ev-end-"+c.ID, root.ID, evCollabEnded, t0.Add(time.Hour)),
		newEvent("ev-"+pending.ID, root.ID, evCollabInvited, t0),
		newEvent("ev-accept-co-end-peer", root.ID, evCollabAccepted, t0),
		newEvent("ev-co-end-peer", root.ID, evCollabInvited, t0),
		newEvent("ev-accept-"+c.ID, root.ID, evCollabAccepted, t0),
		newEvent("ev-"+c.ID, root.ID, evCollabInvited, t0),
		newEvent("ev-signup-"+root.ID, root.ID, custos.EventSignup, t0))
}

// testSetSessionActing checks that a session switches into a root account
// and back, reading back everywhere sessions are read, and that a gone
// session is ENotFound with no event.
func testSetSessionActing(t *testing.T, s custos.Store) {
	ctx := t.Context()
	cs := collabsOf(t, s)
	root := mustCreateAccount(t, s, "co-act-root")
	mate := mustCreateAccount(t, s, "co-act-mate")
	sess := mustActingSession(t, s, "sess-co-act", mate.ID, "")
	bystander := mustActingSession(t, s, "sess-co-act-2", mate.ID, "")

	evIn := newEvent("ev-co-act-in", mate.ID, evCollabActing, t0.Add(time.Minute))
	if err := cs.SetSessionActing(ctx, sess.ID, root.ID, evIn); err != nil {
		t.Fatalf("SetSessionActing(in): %v", err)
	}
	sess.ActingRootAccountID = root.ID
	if diff := cmp.Diff(sess, sessionOf(t, s, sess.ID, mate.ID), opts); diff != "" {
		t.Errorf("SessionByTokenHash after SetSessionActing (-want +got):\n%s", diff)
	}
	list, err := s.ListSessions(ctx, mate.ID)
	if err != nil {
		t.Fatalf("ListSessions: %v", err)
	}
	if diff := cmp.Diff([]custos.Session{bystander, sess}, list, opts); diff != "" {
		t.Errorf("ListSessions after SetSessionActing (-want +got):\n%s", diff)
	}

	evOut := newEvent("ev-co-act-out", mate.ID, evCollabActing, t0.Add(2*time.Minute))
	if err := cs.SetSessionActing(ctx, sess.ID, "", evOut); err != nil {
		t.Fatalf("SetSessionActing(out): %v", err)
	}
	sess.ActingRootAccountID = ""
	if diff := cmp.Diff(sess, sessionOf(t, s, sess.ID, mate.ID), opts); diff != "" {
		t.Errorf("SessionByTokenHash after SetSessionActing back (-want +got):\n%s", diff)
	}

	err = cs.SetSessionActing(ctx, "sess-co-act-absent", root.ID, newEvent("ev-co-act-absent", mate.ID, evCollabActing, t0))
	wantCode(t, "SetSessionActing(unknown)", err, custos.ENotFound)
	wantEvents(t, s, mate.ID, evOut, evIn,
		newEvent("ev-login-"+bystander.ID, mate.ID, custos.EventLoginSuccess, t0),
		newEvent("ev-login-"+sess.ID, mate.ID, custos.EventLoginSuccess, t0),
		newEvent("ev-signup-"+mate.ID, mate.ID, custos.EventSignup, t0))
}

// collabAuditedChanges are the rows of testAuditFailureLeavesNoChange for
// the CollaborationStore methods. Each works in the root account p, with
// the collaborator p+"-mate" and its session p+"-mate-sess".
func collabAuditedChanges() []auditedChange {
	mateOf := func(p string) string { return p + "-mate" }
	state := func(t *testing.T, s custos.Store, p string) any {
		t.Helper()
		return []any{collabOrAbsent(t, s, "co-"+p), sessionOf(t, s, mateOf(p)+"-sess", mateOf(p))}
	}
	// withMate makes the root p and its collaborator, with a session of
	// its own.
	withMate := func(t *testing.T, s custos.Store, p string) {
		t.Helper()
		mustCreateAccount(t, s, p)
		mustCreateAccount(t, s, mateOf(p))
		mustActingSession(t, s, mateOf(p)+"-sess", mateOf(p), "")
	}
	withInvite := func(t *testing.T, s custos.Store, p string) {
		t.Helper()
		withMate(t, s, p)
		mustInvite(t, s, newCollab("co-"+p, p, mateOf(p)+"@example.test", t0))
	}
	// withActing has the collaborator's session work in p.
	withActing := func(t *testing.T, s custos.Store, p string) {
		t.Helper()
		withInvite(t, s, p)
		c := mustAccept(t, s, newCollab("co-"+p, p, mateOf(p)+"@example.test", t0), mateOf(p), t0)
		if err := collabsOf(t, s).SetSessionActing(t.Context(), mateOf(p)+"-sess", c.RootAccountID,
			newEvent("ev-acting-"+p, mateOf(p), evCollabActing, t0)); err != nil {
			t.Fatalf("SetSessionActing: %v", err)
		}
	}
	return []auditedChange{
		{
			name:  "CreateCollaboration",
			setup: withMate,
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				return s.(custos.CollaborationStore).CreateCollaboration(ctx, newCollab("co-"+p, p, mateOf(p)+"@example.test", t0), ev)
			},
			state: state,
		},
		{
			name:  "AcceptCollaboration",
			setup: withInvite,
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				return s.(custos.CollaborationStore).AcceptCollaboration(ctx, "co-"+p, mateOf(p), t0.Add(time.Hour), ev)
			},
			state: state,
		},
		{
			name:  "SetCollaborationProtection",
			setup: withInvite,
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				return s.(custos.CollaborationStore).SetCollaborationProtection(ctx, p, "co-"+p,
					custos.Protection{Operation: true, OperationMethod: custos.MethodEmail}, ev)
			},
			state: state,
		},
		{
			name:  "EndCollaboration",
			setup: withActing,
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				return s.(custos.CollaborationStore).EndCollaboration(ctx, "co-"+p, t0.Add(time.Hour), ev)
			},
			state: state,
		},
		{
			name: "SetSessionActing",
			setup: func(t *testing.T, s custos.Store, p string) {
				t.Helper()
				withInvite(t, s, p)
				mustAccept(t, s, newCollab("co-"+p, p, mateOf(p)+"@example.test", t0), mateOf(p), t0)
			},
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				return s.(custos.CollaborationStore).SetSessionActing(ctx, mateOf(p)+"-sess", p, ev)
			},
			state: state,
		},
	}
}
