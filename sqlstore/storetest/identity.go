package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/google/go-cmp/cmp"
)

// IdentityRacers accounts submit one identity at once in IdentityClaimRace,
// capped at IdentityRaceMax accounts; DecideRacers decisions race on one
// submission in DecideRace.
const (
	IdentityRacers  = 50
	IdentityRaceMax = 3
	DecideRacers    = 20
)

// The suite's identity keys: one identity's keyed hash under the ring's
// primary key and under the key before it, and another identity's.
const (
	keyX    = "ik-x-primary"
	keyXOld = "ik-x-older"
	keyY    = "ik-y-primary"
)

// The audit event types of the suite's identity changes.
const (
	evSubmitted = "identity.submitted"
	evDecided   = "identity.decided"
)

func newSubmission(id, accountID, key string, at time.Time) custos.IdentitySubmission {
	return custos.IdentitySubmission{
		ID:          id,
		AccountID:   accountID,
		Kind:        custos.IdentityIndividual,
		State:       custos.IdentityPending,
		Sealed:      sealed("record-" + id),
		IdentityKey: key,
		Last4:       "123X",
		SubmittedAt: at,
	}
}

func newBlob(id, ownerID, field string) custos.Blob {
	return custos.Blob{
		BlobInfo: custos.BlobInfo{
			ID:          id,
			OwnerID:     ownerID,
			Field:       field,
			ContentType: "image/jpeg",
			Size:        48_213,
			Width:       1600,
			Height:      1000,
			CreatedAt:   t0,
		},
		Sealed: sealed("content-" + id),
	}
}

// infos returns the descriptions of files, as a submission lists them.
func infos(files ...custos.Blob) []custos.BlobInfo {
	out := []custos.BlobInfo{}
	for _, f := range files {
		out = append(out, f.BlobInfo)
	}
	return out
}

// claimOf is the claim on the identity of keys (the primary first).
func claimOf(max int, keys ...string) custos.IdentityClaim {
	return custos.IdentityClaim{Keys: keys, Max: max}
}

// submit creates sub with its files and the event "ev-"+sub.ID.
func submit(ctx context.Context, s custos.Store, sub custos.IdentitySubmission, c custos.IdentityClaim, files ...custos.Blob) error {
	return s.CreateIdentitySubmission(ctx, sub, c, files,
		newEvent("ev-"+sub.ID, sub.AccountID, evSubmitted, sub.SubmittedAt))
}

func mustSubmit(t *testing.T, s custos.Store, sub custos.IdentitySubmission, c custos.IdentityClaim, files ...custos.Blob) {
	t.Helper()
	if err := submit(t.Context(), s, sub, c, files...); err != nil {
		t.Fatalf("CreateIdentitySubmission(%s): %v", sub.ID, err)
	}
}

// decision settles id at t0 plus an hour, by reviewer "staff-rev".
func decision(id string, approve bool) custos.IdentityDecision {
	d := custos.IdentityDecision{SubmissionID: id, Approve: approve, ReviewerID: "staff-rev", At: t0.Add(time.Hour)}
	if !approve {
		d.Reason = "the photo is blurred"
	}
	return d
}

// decide writes d with the audit event "ev-decide-"+id and no staff event.
func decide(ctx context.Context, s custos.Store, accountID string, d custos.IdentityDecision) error {
	return s.DecideIdentitySubmission(ctx, d, newEvent("ev-decide-"+d.SubmissionID, accountID, evDecided, d.At), custos.StaffEvent{})
}

func mustDecide(t *testing.T, s custos.Store, accountID string, d custos.IdentityDecision) {
	t.Helper()
	if err := decide(t.Context(), s, accountID, d); err != nil {
		t.Fatalf("DecideIdentitySubmission(%s): %v", d.SubmissionID, err)
	}
}

// decided is sub as d leaves it.
func decided(sub custos.IdentitySubmission, d custos.IdentityDecision) custos.IdentitySubmission {
	sub.State = custos.IdentityRejected
	if d.Approve {
		sub.State = custos.IdentityVerified
	}
	sub.Reason, sub.ReviewerID, sub.DecidedAt = d.Reason, d.ReviewerID, d.At
	return sub
}

// wantSubmission fails t unless IdentitySubmissionByID reads back want,
// with its times in UTC and its files as a non-nil slice.
func wantSubmission(t *testing.T, s custos.Store, want custos.IdentitySubmission) {
	t.Helper()
	got, err := s.IdentitySubmissionByID(t.Context(), want.ID)
	if err != nil {
		t.Fatalf("IdentitySubmissionByID(%s): %v", want.ID, err)
	}
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("IdentitySubmissionByID(%s) mismatch (-want +got):\n%s", want.ID, diff)
	}
	if got.Files == nil {
		t.Errorf("IdentitySubmissionByID(%s): Files is nil, want an empty slice", want.ID)
	}
	for _, tm := range []time.Time{got.SubmittedAt, got.DecidedAt, got.FilesPurgedAt} {
		if !tm.IsZero() && tm.Location() != time.UTC {
			t.Errorf("IdentitySubmissionByID(%s): time %v is not in UTC", want.ID, tm)
		}
	}
}

// wantSubmissionIDs fails t unless list is exactly the submissions ids, in
// that order, as a non-nil slice.
func wantSubmissionIDs(t *testing.T, what string, list []custos.IdentitySubmission, ids ...string) {
	t.Helper()
	if list == nil {
		t.Errorf("%s = nil, want an empty slice", what)
	}
	got := []string{}
	for _, sub := range list {
		got = append(got, sub.ID)
	}
	if ids == nil {
		ids = []string{}
	}
	if diff := cmp.Diff(ids, got); diff != "" {
		t.Errorf("%s ids (-want +got):\n%s", what, diff)
	}
}

// admits reports whether a new account would be admitted to the identity
// of keys with Max max. It probes from outside: a fresh account submits,
// and if it is admitted its submission is rejected, which gives its claim
// back.
func admits(t *testing.T, s custos.Store, max int, keys ...string) bool {
	t.Helper()
	ctx := t.Context()
	var p string
	for i := 0; ; i++ { // a fresh account each time
		p = seq("probe-"+keys[0], i)
		if _, err := s.AccountByID(ctx, p); custos.IsCode(err, custos.ENotFound) {
			break
		}
	}
	mustCreateAccount(t, s, p)
	sub := newSubmission("sub-"+p, p, keys[0], t0)
	err := submit(ctx, s, sub, claimOf(max, keys...))
	switch {
	case err == nil:
		mustDecide(t, s, p, decision(sub.ID, false))
		return true
	case !custos.IsCode(err, custos.EIdentityLimit):
		t.Fatalf("CreateIdentitySubmission(probe %s): %v", p, err)
	}
	return false
}

// wantClaimants fails t unless exactly n accounts claim the identity of
// keys: a new account is refused with Max n (for n > 0) and admitted with
// Max n+1.
func wantClaimants(t *testing.T, s custos.Store, what string, n int, keys ...string) {
	t.Helper()
	if n > 0 && admits(t, s, n, keys...) {
		t.Errorf("%s: a new claimant is admitted with Max %d; want refused (%d claim it)", what, n, n)
	}
	if !admits(t, s, n+1, keys...) {
		t.Errorf("%s: a new claimant is refused with Max %d; want admitted (%d claim it)", what, n+1, n)
	}
}

// testIdentityRoundTrip writes submissions with and without files and
// reads every field back, one by one and per account.
func testIdentityRoundTrip(t *testing.T, s custos.Store) {
	ctx := t.Context()
	east := time.FixedZone("UTC+8", 8*60*60)
	a := mustCreateAccount(t, s, "id-rt")
	mustCreateAccount(t, s, "id-rt-other")

	first := newSubmission("sub-rt-1", a.ID, keyX, t0)
	front, back := newBlob("blob-rt-front", "", "document_front"), newBlob("blob-rt-back", first.ID, "document_back")
	back.ContentType, back.Width, back.Height, back.Size = "application/pdf", 0, 0, 1
	back.CreatedAt = t0.Add(time.Second)
	mustSubmit(t, s, first, claimOf(5, keyX), front, back)
	front.OwnerID = first.ID // an empty OwnerID is the submission's
	want1 := first
	want1.Files = infos(front, back)
	wantSubmission(t, s, want1)
	mustDecide(t, s, a.ID, decision(first.ID, false))
	want1 = decided(want1, decision(first.ID, false))
	wantSubmission(t, s, want1)

	second := newSubmission("sub-rt-2", a.ID, keyX, t0.In(east).Add(time.Minute+999_999))
	second.Kind, second.Last4 = custos.IdentityEnterprise, "0001"
	second.Files = infos(newBlob("blob-ignored", "sub-rt-2", "x")) // not written: files are
	mustSubmit(t, s, second, claimOf(5, keyX))
	want2 := second
	want2.SubmittedAt, want2.Files = t0.Add(time.Minute), nil
	wantSubmission(t, s, want2)

	list, err := s.IdentitySubmissions(ctx, a.ID)
	if err != nil {
		t.Fatalf("IdentitySubmissions: %v", err)
	}
	if diff := cmp.Diff([]custos.IdentitySubmission{want2, want1}, list, opts); diff != "" {
		t.Errorf("IdentitySubmissions (newest first) mismatch (-want +got):\n%s", diff)
	}
	list, err = s.IdentitySubmissions(ctx, "id-rt-other")
	if err != nil {
		t.Fatalf("IdentitySubmissions(none): %v", err)
	}
	wantSubmissionIDs(t, "IdentitySubmissions(an account without any)", list)
	wantEvents(t, s, a.ID,
		newEvent("ev-decide-"+first.ID, a.ID, evDecided, t0.Add(time.Hour)),
		newEvent("ev-"+second.ID, a.ID, evSubmitted, want2.SubmittedAt),
		newEvent("ev-"+first.ID, a.ID, evSubmitted, t0),
		newEvent("ev-signup-"+a.ID, a.ID, custos.EventSignup, t0))

	_, err = s.IdentitySubmissionByID(ctx, "sub-absent")
	wantCode(t, "IdentitySubmissionByID(unknown)", err, custos.ENotFound)

	// Files: the owner's, content and all; nobody else's.
	got, err := s.BlobByID(ctx, first.ID, back.ID)
	if err != nil {
		t.Fatalf("BlobByID: %v", err)
	}
	if diff := cmp.Diff(back, got, opts); diff != "" {
		t.Errorf("BlobByID mismatch (-want +got):\n%s", diff)
	}
	tests := []struct{ name, owner, id string }{
		{"another owner", second.ID, back.ID},
		{"no owner", "", back.ID},
		{"unknown id", first.ID, "blob-absent"},
		{"the owner's id as a file", first.ID, first.ID},
	}
	for _, tc := range tests {
		_, err := s.BlobByID(ctx, tc.owner, tc.id)
		wantCode(t, "BlobByID("+tc.name+")", err, custos.ENotFound)
	}
}

// testCreateIdentityErrors checks what CreateIdentitySubmission refuses,
// and that a refusal writes nothing: no submission, file, claim or event.
func testCreateIdentityErrors(t *testing.T, s custos.Store) {
	ctx := t.Context()
	a := mustCreateAccount(t, s, "id-err")
	b := mustCreateAccount(t, s, "id-err-b")
	pending := newSubmission("sub-err-1", a.ID, keyX, t0)
	mustSubmit(t, s, pending, claimOf(5, keyX), newBlob("blob-err-1", pending.ID, "document_front"))
	wantPending := pending
	wantPending.Files = infos(newBlob("blob-err-1", pending.ID, "document_front"))

	tests := []struct {
		name     string
		sub      custos.IdentitySubmission
		files    []custos.Blob
		wantCode string // "" for a plain error
	}{
		{name: "a second pending submission", sub: newSubmission("sub-err-2", a.ID, keyX, t0.Add(time.Minute)), wantCode: custos.EConflict},
		{name: "a second pending submission, another identity", sub: newSubmission("sub-err-3", a.ID, keyY, t0), wantCode: custos.EConflict},
		{name: "a taken submission id", sub: newSubmission(pending.ID, b.ID, keyY, t0), wantCode: custos.EConflict},
		{name: "a taken file id", sub: newSubmission("sub-err-4", b.ID, keyY, t0),
			files: []custos.Blob{newBlob("blob-err-new", "", "a"), newBlob("blob-err-1", "", "b")}, wantCode: custos.EConflict},
		{name: "an unknown account", sub: newSubmission("sub-err-5", "acct-absent", keyY, t0), wantCode: custos.ENotFound},
		{name: "no id", sub: newSubmission("", b.ID, keyY, t0)},
		{name: "a file of another owner", sub: newSubmission("sub-err-6", b.ID, keyY, t0),
			files: []custos.Blob{newBlob("blob-err-6", "sub-else", "a")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := submit(ctx, s, tc.sub, claimOf(5, tc.sub.IdentityKey), tc.files...)
			if tc.wantCode != "" {
				wantCode(t, "CreateIdentitySubmission", err, tc.wantCode)
			} else {
				wantPlain(t, "CreateIdentitySubmission", err)
			}
			_, err = s.BlobByID(ctx, tc.sub.ID, "blob-err-new")
			wantCode(t, "BlobByID(a file of the refused submission)", err, custos.ENotFound)
		})
	}
	err := s.CreateIdentitySubmission(ctx, newSubmission("sub-err-7", b.ID, keyY, t0), claimOf(5), nil,
		newEvent("ev-sub-err-7", b.ID, evSubmitted, t0))
	wantPlain(t, "CreateIdentitySubmission(no keys)", err)

	wantSubmission(t, s, wantPending)
	list, err := s.IdentitySubmissions(ctx, b.ID)
	if err != nil {
		t.Fatalf("IdentitySubmissions: %v", err)
	}
	wantSubmissionIDs(t, "IdentitySubmissions(the refused account)", list)
	wantEvents(t, s, b.ID, newEvent("ev-signup-"+b.ID, b.ID, custos.EventSignup, t0))
	// The refused b claimed nothing: Y has no claimant, X only a.
	wantClaimants(t, s, "after the refusals", 0, keyY)
	wantClaimants(t, s, "after the refusals", 1, keyX)
}

// testIdentityLimit steps through the per-identity cap: a refused account
// writes nothing, an account's own claim never counts twice (a renewal of
// its verified identity, a resubmission after a rejection), a rejection
// gives the claim back, and claims under an older key count.
func testIdentityLimit(t *testing.T, s custos.Store) {
	ctx := t.Context()
	for _, id := range []string{"lim-a", "lim-b", "lim-c", "lim-d", "lim-e"} {
		mustCreateAccount(t, s, id)
	}
	const max = 2
	x := claimOf(max, keyX)

	// a and b claim X; c is refused, and writes nothing.
	mustSubmit(t, s, newSubmission("sub-lim-a1", "lim-a", keyX, t0), x)
	mustSubmit(t, s, newSubmission("sub-lim-b1", "lim-b", keyX, t0), x)
	err := submit(ctx, s, newSubmission("sub-lim-c1", "lim-c", keyX, t0), x, newBlob("blob-lim-c1", "", "f"))
	wantCode(t, "CreateIdentitySubmission(a third account)", err, custos.EIdentityLimit)
	_, err = s.IdentitySubmissionByID(ctx, "sub-lim-c1")
	wantCode(t, "IdentitySubmissionByID(the refused one)", err, custos.ENotFound)
	_, err = s.BlobByID(ctx, "sub-lim-c1", "blob-lim-c1")
	wantCode(t, "BlobByID(the refused one's file)", err, custos.ENotFound)
	wantEvents(t, s, "lim-c", newEvent("ev-signup-lim-c", "lim-c", custos.EventSignup, t0))

	// a's X is verified; a renews it while at the cap: its own claim.
	mustDecide(t, s, "lim-a", decision("sub-lim-a1", true))
	mustSubmit(t, s, newSubmission("sub-lim-a2", "lim-a", keyX, t0.Add(time.Minute)), x)
	wantClaimants(t, s, "a renewing", 2, keyX)
	// The renewal is rejected: a's verified X keeps the claim.
	mustDecide(t, s, "lim-a", decision("sub-lim-a2", false))
	wantClaimants(t, s, "a's renewal rejected", 2, keyX)

	// b's submission is rejected: its claim goes, and c gets in.
	mustDecide(t, s, "lim-b", decision("sub-lim-b1", false))
	wantClaimants(t, s, "b rejected", 1, keyX)
	mustSubmit(t, s, newSubmission(seq("sub-lim-c", 2), "lim-c", keyX, t0), x)

	// c is rejected and resubmits, twice: one account, one claim.
	for i := range 2 {
		mustDecide(t, s, "lim-c", decision(seq("sub-lim-c", 2+i), false))
		mustSubmit(t, s, newSubmission(seq("sub-lim-c", 3+i), "lim-c", keyX, t0.Add(time.Duration(i+1)*time.Minute)), x)
		wantClaimants(t, s, "c resubmitting", 2, keyX)
	}
	err = submit(ctx, s, newSubmission("sub-lim-b2", "lim-b", keyX, t0), x)
	wantCode(t, "CreateIdentitySubmission(b again, at the cap)", err, custos.EIdentityLimit)

	// d claims Y under the older key; after the rotation e is counted
	// against it, and d's own resubmission is its own claim.
	yOld, y := claimOf(1, "ik-y-older"), claimOf(1, keyY, "ik-y-older")
	mustSubmit(t, s, newSubmission("sub-lim-d1", "lim-d", "ik-y-older", t0), yOld)
	mustDecide(t, s, "lim-d", decision("sub-lim-d1", true))
	err = submit(ctx, s, newSubmission("sub-lim-e1", "lim-e", keyY, t0), y)
	wantCode(t, "CreateIdentitySubmission(a claim under the older key)", err, custos.EIdentityLimit)
	mustSubmit(t, s, newSubmission("sub-lim-d2", "lim-d", keyY, t0.Add(time.Minute)), y)
	// Verifying it under the primary key supersedes d's older record and
	// gives back the claim under the older key, but d still claims Y once.
	mustDecide(t, s, "lim-d", decision("sub-lim-d2", true))
	wantClaimants(t, s, "d re-verified under the primary key", 1, keyY, "ik-y-older")
	old, err := s.IdentitySubmissionByID(ctx, "sub-lim-d1")
	if err != nil {
		t.Fatalf("IdentitySubmissionByID: %v", err)
	}
	if old.State != custos.IdentitySuperseded {
		t.Errorf("d's first record is %s, want superseded", old.State)
	}
}

func testIdentityClaimRace(t *testing.T, s custos.Store) { IdentityClaimRace(t, s) }

// IdentityClaimRace submits one identity for IdentityRacers accounts at
// once with Max IdentityRaceMax, spreading the calls over stores (handles
// on one database, as replicas are): exactly IdentityRaceMax succeed,
// every other gets EIdentityLimit and writes nothing.
func IdentityClaimRace(t *testing.T, stores ...custos.Store) {
	t.Helper()
	ctx := t.Context()
	for i := range IdentityRacers {
		mustCreateAccount(t, stores[0], seq("id-racer", i))
	}
	errs := raceAll(IdentityRacers, func(i int) error {
		id := seq("id-racer", i)
		return submit(ctx, stores[i%len(stores)], newSubmission("sub-"+id, id, keyX, t0),
			claimOf(IdentityRaceMax, keyX, keyXOld), newBlob("blob-"+id, "", "document_front"))
	})
	won := 0
	for i, err := range errs {
		id := seq("id-racer", i)
		list, lerr := stores[0].IdentitySubmissions(ctx, id)
		if lerr != nil {
			t.Fatalf("IdentitySubmissions(%s): %v", id, lerr)
		}
		signup := newEvent("ev-signup-"+id, id, custos.EventSignup, t0)
		if err == nil {
			won++
			wantSubmissionIDs(t, "IdentitySubmissions("+id+")", list, "sub-"+id)
			wantEvents(t, stores[0], id, newEvent("ev-sub-"+id, id, evSubmitted, t0), signup)
			continue
		}
		wantCode(t, fmt.Sprintf("CreateIdentitySubmission(%s)", id), err, custos.EIdentityLimit)
		wantSubmissionIDs(t, "IdentitySubmissions("+id+")", list)
		wantEvents(t, stores[0], id, signup)
	}
	if won != IdentityRaceMax {
		t.Errorf("%d of %d racers claimed the identity, want exactly %d", won, IdentityRacers, IdentityRaceMax)
	}
	wantClaimants(t, stores[0], "after the race", IdentityRaceMax, keyX, keyXOld)
}

// testDecideIdentity steps through decisions: the stored decision, the
// events, a second decision refused, an approval superseding the earlier
// record and releasing its claim (unless it is the same identity).
func testDecideIdentity(t *testing.T, s custos.Store) {
	ctx := t.Context()
	a := mustCreateAccount(t, s, "dec-a")
	err := decide(ctx, s, a.ID, decision("sub-absent", true))
	wantCode(t, "DecideIdentitySubmission(unknown)", err, custos.ENotFound)

	first := newSubmission("sub-dec-1", a.ID, keyX, t0)
	mustSubmit(t, s, first, claimOf(5, keyX))
	d := decision(first.ID, true)
	se := newStaffEvent("se-dec-1", "staff-rev", "identity.decide", first.ID, d.At)
	if err := s.DecideIdentitySubmission(ctx, d, newEvent("ev-decide-1", a.ID, evDecided, d.At), se); err != nil {
		t.Fatalf("DecideIdentitySubmission: %v", err)
	}
	want1 := decided(first, d)
	wantSubmission(t, s, want1)
	wantStaffEvents(t, s, custos.StaffEventFilter{Target: first.ID}, se)

	for _, approve := range []bool{true, false} {
		again := decision(first.ID, approve)
		again.At, again.ReviewerID = t0.Add(2*time.Hour), "staff-other"
		err := s.DecideIdentitySubmission(ctx, again, newEvent(fmt.Sprintf("ev-again-%t", approve), a.ID, evDecided, again.At),
			newStaffEvent(fmt.Sprintf("se-again-%t", approve), "staff-other", "identity.decide", first.ID, again.At))
		wantCode(t, fmt.Sprintf("DecideIdentitySubmission(decided, approve %t)", approve), err, custos.EAlreadyDecided)
	}
	wantSubmission(t, s, want1)
	wantStaffEvents(t, s, custos.StaffEventFilter{Target: first.ID}, se)

	// A verified Y supersedes X and gives X's claim back; an automatic
	// decision writes no staff event.
	second := newSubmission("sub-dec-2", a.ID, keyY, t0.Add(time.Minute))
	mustSubmit(t, s, second, claimOf(5, keyY))
	auto := decision(second.ID, true)
	auto.ReviewerID = ""
	mustDecide(t, s, a.ID, auto)
	want1.State = custos.IdentitySuperseded
	wantSubmission(t, s, want1)
	wantSubmission(t, s, decided(second, auto))
	wantStaffEvents(t, s, custos.StaffEventFilter{Target: second.ID})
	wantClaimants(t, s, "X superseded by Y", 0, keyX)
	wantClaimants(t, s, "Y verified", 1, keyY)

	// Y verified again supersedes the first Y and keeps the claim.
	third := newSubmission("sub-dec-3", a.ID, keyY, t0.Add(2*time.Minute))
	mustSubmit(t, s, third, claimOf(5, keyY))
	mustDecide(t, s, a.ID, decision(third.ID, true))
	got, err := s.IdentitySubmissions(ctx, a.ID)
	if err != nil {
		t.Fatalf("IdentitySubmissions: %v", err)
	}
	states := []custos.IdentityState{}
	for _, sub := range got {
		states = append(states, sub.State)
	}
	wantStates := []custos.IdentityState{custos.IdentityVerified, custos.IdentitySuperseded, custos.IdentitySuperseded}
	if diff := cmp.Diff(wantStates, states); diff != "" {
		t.Errorf("states, newest first (-want +got):\n%s", diff)
	}
	wantClaimants(t, s, "Y superseded by Y", 1, keyY)
	wantEvents(t, s, a.ID,
		newEvent("ev-decide-"+third.ID, a.ID, evDecided, t0.Add(time.Hour)),
		newEvent("ev-decide-"+second.ID, a.ID, evDecided, t0.Add(time.Hour)),
		newEvent("ev-decide-1", a.ID, evDecided, t0.Add(time.Hour)),
		newEvent("ev-"+third.ID, a.ID, evSubmitted, third.SubmittedAt),
		newEvent("ev-"+second.ID, a.ID, evSubmitted, second.SubmittedAt),
		newEvent("ev-"+first.ID, a.ID, evSubmitted, t0),
		newEvent("ev-signup-"+a.ID, a.ID, custos.EventSignup, t0))

	// A taken staff event id undoes the decision and its audit event.
	fourth := newSubmission("sub-dec-4", a.ID, keyX, t0.Add(3*time.Minute))
	mustSubmit(t, s, fourth, claimOf(5, keyX))
	err = s.DecideIdentitySubmission(ctx, decision(fourth.ID, true), newEvent("ev-decide-4", a.ID, evDecided, t0),
		newStaffEvent(se.ID, "staff-rev", "identity.decide", fourth.ID, t0))
	wantCode(t, "DecideIdentitySubmission(taken staff event id)", err, custos.EConflict)
	wantSubmission(t, s, fourth)
	wantClaimants(t, s, "the refused decision", 1, keyY)
}

func testDecideRace(t *testing.T, s custos.Store) { DecideRace(t, s) }

// DecideRace has DecideRacers decisions, approvals and rejections, race on
// one pending submission, spread over stores: exactly one wins, the others
// get EAlreadyDecided and write nothing, and the claim is what the winner's
// decision leaves (kept on approval, given back on rejection).
func DecideRace(t *testing.T, stores ...custos.Store) {
	t.Helper()
	ctx := t.Context()
	s := stores[0]
	a := mustCreateAccount(t, s, "dec-racer")
	sub := newSubmission("sub-dec-race", a.ID, keyX, t0)
	mustSubmit(t, s, sub, claimOf(5, keyX))
	errs := raceAll(DecideRacers, func(i int) error {
		d := decision(sub.ID, i%2 == 0)
		d.ReviewerID = seq("staff", i)
		return stores[i%len(stores)].DecideIdentitySubmission(ctx, d,
			newEvent(seq("ev-dec-race", i), a.ID, evDecided, d.At),
			newStaffEvent(seq("se-dec-race", i), d.ReviewerID, "identity.decide", sub.ID, d.At))
	})
	winner := soleWinner(t, "DecideIdentitySubmission", errs, custos.EAlreadyDecided)
	d := decision(sub.ID, winner%2 == 0)
	d.ReviewerID = seq("staff", winner)
	wantSubmission(t, s, decided(sub, d))
	wantEvents(t, s, a.ID,
		newEvent(seq("ev-dec-race", winner), a.ID, evDecided, d.At),
		newEvent("ev-"+sub.ID, a.ID, evSubmitted, t0),
		newEvent("ev-signup-"+a.ID, a.ID, custos.EventSignup, t0))
	wantStaffEvents(t, s, custos.StaffEventFilter{Target: sub.ID},
		newStaffEvent(seq("se-dec-race", winner), d.ReviewerID, "identity.decide", sub.ID, d.At))
	claimants := 0
	if d.Approve {
		claimants = 1
	}
	wantClaimants(t, s, fmt.Sprintf("after the race (approve %t)", d.Approve), claimants, keyX)
}

// testPendingIdentity lists the review queue: pending only, oldest first,
// by kind, by age and by number, with files; and counts it by kind.
func testPendingIdentity(t *testing.T, s custos.Store) {
	ctx := t.Context()
	type row struct {
		id    string
		kind  custos.IdentityKind
		after time.Duration // after t0
		files int
	}
	rows := []row{
		{"q-c", custos.IdentityIndividual, 2 * time.Minute, 0},
		{"q-a", custos.IdentityIndividual, 0, 2},
		{"q-e", custos.IdentityEnterprise, time.Minute, 3},
		{"q-b", custos.IdentityIndividual, time.Minute, 1},
		{"q-d", custos.IdentityEnterprise, 3 * time.Minute, 0},
		{"q-done", custos.IdentityIndividual, 0, 1},
	}
	want := map[string]custos.IdentitySubmission{}
	for i, r := range rows {
		mustCreateAccount(t, s, r.id)
		sub := newSubmission("sub-"+r.id, r.id, fmt.Sprintf("ik-q-%d", i), t0.Add(r.after))
		sub.Kind = r.kind
		var files []custos.Blob
		for j := range r.files {
			files = append(files, newBlob(seq("blob-"+r.id, j), sub.ID, seq("field", j)))
		}
		mustSubmit(t, s, sub, claimOf(1, sub.IdentityKey), files...)
		sub.Files = infos(files...)
		want[r.id] = sub
	}
	mustDecide(t, s, "q-done", decision("sub-q-done", true))

	tests := []struct {
		name string
		f    custos.ReviewFilter
		want []string
	}{
		{name: "every pending one", want: []string{"q-a", "q-b", "q-e", "q-c", "q-d"}},
		{name: "individuals", f: custos.ReviewFilter{Kind: custos.IdentityIndividual}, want: []string{"q-a", "q-b", "q-c"}},
		{name: "enterprises", f: custos.ReviewFilter{Kind: custos.IdentityEnterprise}, want: []string{"q-e", "q-d"}},
		{name: "submitted after", f: custos.ReviewFilter{SubmittedAfter: t0.Add(time.Minute)}, want: []string{"q-c", "q-d"}},
		{name: "submitted after, enterprises", f: custos.ReviewFilter{Kind: custos.IdentityEnterprise, SubmittedAfter: t0}, want: []string{"q-e", "q-d"}},
		{name: "limit", f: custos.ReviewFilter{Limit: 2}, want: []string{"q-a", "q-b"}},
		{name: "limit, individuals", f: custos.ReviewFilter{Kind: custos.IdentityIndividual, Limit: 1}, want: []string{"q-a"}},
		{name: "nothing that young", f: custos.ReviewFilter{SubmittedAfter: t0.Add(time.Hour)}},
		{name: "an unknown kind", f: custos.ReviewFilter{Kind: "robot"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.PendingIdentitySubmissions(ctx, tc.f)
			if err != nil {
				t.Fatalf("PendingIdentitySubmissions: %v", err)
			}
			wantList := []custos.IdentitySubmission{}
			for _, id := range tc.want {
				wantList = append(wantList, want[id])
			}
			if diff := cmp.Diff(wantList, got, opts); diff != "" {
				t.Errorf("PendingIdentitySubmissions(%+v) mismatch (-want +got):\n%s", tc.f, diff)
			}
			if got == nil {
				t.Errorf("PendingIdentitySubmissions(%+v) = nil, want an empty slice", tc.f)
			}
			for _, sub := range got {
				if sub.Files == nil {
					t.Errorf("%s: Files is nil, want an empty slice", sub.ID)
				}
			}
		})
	}
	counts, err := s.CountPendingIdentitySubmissions(ctx)
	if err != nil {
		t.Fatalf("CountPendingIdentitySubmissions: %v", err)
	}
	wantCounts := map[custos.IdentityKind]int{custos.IdentityIndividual: 3, custos.IdentityEnterprise: 2}
	if diff := cmp.Diff(wantCounts, counts); diff != "" {
		t.Errorf("CountPendingIdentitySubmissions (-want +got):\n%s", diff)
	}
}

// testPendingIdentityDefaultLimit checks a filter without a limit lists
// 100 (the oldest) and a larger limit lists more.
func testPendingIdentityDefaultLimit(t *testing.T, s custos.Store) {
	ctx := t.Context()
	const n = 105
	for i := range n {
		id := seq("ql", i)
		mustCreateAccount(t, s, id)
		mustSubmit(t, s, newSubmission("sub-"+id, id, keyX, t0.Add(time.Duration(i)*time.Second)), claimOf(n, keyX))
	}
	got, err := s.PendingIdentitySubmissions(ctx, custos.ReviewFilter{})
	if err != nil {
		t.Fatalf("PendingIdentitySubmissions: %v", err)
	}
	if len(got) != 100 || got[0].ID != "sub-ql-0000" || got[99].ID != "sub-ql-0099" {
		t.Errorf("PendingIdentitySubmissions without a limit: %d, want the oldest 100", len(got))
	}
	got, err = s.PendingIdentitySubmissions(ctx, custos.ReviewFilter{Limit: 1000})
	if err != nil {
		t.Fatalf("PendingIdentitySubmissions: %v", err)
	}
	if len(got) != n {
		t.Errorf("PendingIdentitySubmissions(Limit 1000): %d, want %d", len(got), n)
	}
	counts, err := s.CountPendingIdentitySubmissions(ctx)
	if err != nil {
		t.Fatalf("CountPendingIdentitySubmissions: %v", err)
	}
	if diff := cmp.Diff(map[custos.IdentityKind]int{custos.IdentityIndividual: n}, counts); diff != "" {
		t.Errorf("CountPendingIdentitySubmissions (-want +got):\n%s", diff)
	}
}

// testPurgeIdentityFiles checks files go only for submissions decided
// before the bound, once, and the submissions stay, marked.
func testPurgeIdentityFiles(t *testing.T, s custos.Store) {
	ctx := t.Context()
	type fixture struct {
		sub   custos.IdentitySubmission
		files []custos.Blob
	}
	make3 := func(id string, decidedAfter time.Duration, n int) *fixture {
		mustCreateAccount(t, s, id)
		f := &fixture{sub: newSubmission("sub-"+id, id, "ik-"+id, t0)}
		for j := range n {
			f.files = append(f.files, newBlob(seq("blob-"+id, j), f.sub.ID, seq("field", j)))
		}
		mustSubmit(t, s, f.sub, claimOf(1, f.sub.IdentityKey), f.files...)
		f.sub.Files = infos(f.files...)
		if decidedAfter > 0 {
			d := decision(f.sub.ID, true)
			d.At = t0.Add(decidedAfter)
			mustDecide(t, s, id, d)
			f.sub = decided(f.sub, d)
		}
		return f
	}
	early := make3("pg-early", time.Hour, 2)
	rejected := make3("pg-rejected", 0, 1)
	d := decision(rejected.sub.ID, false)
	d.At = t0.Add(time.Hour + time.Minute)
	mustDecide(t, s, "pg-rejected", d)
	rejected.sub = decided(rejected.sub, d)
	late := make3("pg-late", 3*time.Hour, 1)
	pending := make3("pg-pending", 0, 2)
	none := make3("pg-none", time.Hour, 0)

	purgeAt := t0.Add(24 * time.Hour)
	steps := []struct {
		name   string
		before time.Time
		want   int
		gone   []*fixture
	}{
		{name: "nothing decided that early", before: t0.Add(time.Hour), want: 0},
		{name: "the early ones", before: t0.Add(2 * time.Hour), want: 3, gone: []*fixture{early, rejected, none}},
		{name: "again", before: t0.Add(2 * time.Hour), want: 0},
		{name: "the late one", before: t0.Add(4 * time.Hour), want: 1, gone: []*fixture{late}},
		{name: "everything decided", before: t0.Add(100 * time.Hour), want: 0},
	}
	for i, st := range steps {
		now := purgeAt.Add(time.Duration(i) * time.Minute)
		n, err := s.PurgeIdentityFiles(ctx, st.before, now)
		if err != nil {
			t.Fatalf("%s: PurgeIdentityFiles: %v", st.name, err)
		}
		if n != st.want {
			t.Errorf("%s: PurgeIdentityFiles = %d, want %d", st.name, n, st.want)
		}
		for _, f := range st.gone {
			f.sub.Files, f.sub.FilesPurgedAt = nil, now
		}
		for _, f := range []*fixture{early, rejected, late, pending, none} {
			wantSubmission(t, s, f.sub)
			for _, b := range f.files {
				_, err := s.BlobByID(ctx, f.sub.ID, b.ID)
				if f.sub.FilesPurgedAt.IsZero() {
					if err != nil {
						t.Errorf("%s: BlobByID(%s) of a kept file: %v", st.name, b.ID, err)
					}
				} else {
					wantCode(t, st.name+": BlobByID(a purged file)", err, custos.ENotFound)
				}
			}
		}
	}
}

// identityAuditedChanges are the rows of testAuditFailureLeavesNoChange for
// the methods of custos.IdentityStore that take an AuditEvent.
func identityAuditedChanges() []auditedChange {
	submissionsOf := func(t *testing.T, s custos.Store, p string) any {
		t.Helper()
		list, err := s.IdentitySubmissions(t.Context(), p)
		if err != nil {
			t.Fatalf("IdentitySubmissions(%s): %v", p, err)
		}
		_, err = s.BlobByID(t.Context(), "sub-"+p, "blob-"+p)
		if err != nil && !custos.IsCode(err, custos.ENotFound) {
			t.Fatalf("BlobByID: %v", err)
		}
		return []any{list, err == nil}
	}
	return []auditedChange{
		{
			name:  "CreateIdentitySubmission",
			setup: createAccountOnly,
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				return s.CreateIdentitySubmission(ctx, newSubmission("sub-"+p, p, "ik-"+p, t0), claimOf(1, "ik-"+p),
					[]custos.Blob{newBlob("blob-"+p, "sub-"+p, "document_front")}, ev)
			},
			state: func(t *testing.T, s custos.Store, p string) any {
				t.Helper()
				// The claim too: a refused submission leaves the
				// identity free for another account.
				return []any{submissionsOf(t, s, p), admits(t, s, 1, "ik-"+p)}
			},
		},
		{
			name: "DecideIdentitySubmission",
			setup: func(t *testing.T, s custos.Store, p string) {
				t.Helper()
				mustCreateAccount(t, s, p)
				mustSubmit(t, s, newSubmission("sub-"+p, p, "ik-"+p, t0), claimOf(1, "ik-"+p),
					newBlob("blob-"+p, "sub-"+p, "document_front"))
			},
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				return s.DecideIdentitySubmission(ctx, decision("sub-"+p, false), ev,
					newStaffEvent("se-"+p, "staff-rev", "identity.decide", "sub-"+p, t0.Add(time.Hour)))
			},
			state: func(t *testing.T, s custos.Store, p string) any {
				t.Helper()
				events, err := s.ListStaffEvents(t.Context(), custos.StaffEventFilter{Target: "sub-" + p})
				if err != nil {
					t.Fatalf("ListStaffEvents: %v", err)
				}
				return []any{submissionsOf(t, s, p), events, admits(t, s, 1, "ik-"+p)}
			},
		},
	}
}
