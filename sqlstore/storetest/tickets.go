package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/google/go-cmp/cmp"
)

// TicketCreateRacers tickets of one kind and target are created at once
// in TicketCreateRace; TicketApproveRacers staff members approve one
// ticket needing TicketRaceApprovals at once in TicketApproveRace;
// TicketExecuteRacers executors run one due ticket at once in
// TicketExecuteRace.
const (
	TicketCreateRacers  = 20
	TicketApproveRacers = 10
	TicketRaceApprovals = 2
	TicketExecuteRacers = 20
)

// The audit event types of the suite's ticket changes.
const (
	evTicketSubmitted = "ticket.submitted"
	evTicketMoved     = "ticket.moved"
	evTicketWaiting   = "ticket.waiting"
	evTicketExecuted  = "ticket.executed"
)

// The suite's phone numbers for tickets.
const (
	ticketPhone     = "+8613900000777"
	ticketPhoneFull = "+8613900000888"
)

// ticketsOf returns s as the custos.TicketStore it must be.
func ticketsOf(t *testing.T, s custos.Store) custos.TicketStore {
	t.Helper()
	ts, ok := any(s).(custos.TicketStore)
	if !ok {
		t.Fatalf("the store %T keeps no tickets", s)
	}
	return ts
}

// newTicket is a ticket of kind on target, submitted by target at `at`,
// needing two approvals.
func newTicket(id, target string, kind custos.TicketKind, at time.Time) custos.Ticket {
	return custos.Ticket{
		ID:                 id,
		Number:             "T-" + id,
		Kind:               kind,
		State:              custos.TicketSubmitted,
		TargetAccountID:    target,
		SubmitterAccountID: target,
		Sealed:             sealed("fields-" + id),
		QueryCodeHash:      hash("query-" + id),
		RequiredApprovals:  2,
		SubmittedAt:        at,
	}
}

// stored is t as CreateTicket stores it, linked to linkedTo, with files.
func stored(t custos.Ticket, linkedTo string, files ...custos.Blob) custos.Ticket {
	t.State, t.LinkedTo, t.UpdatedAt = custos.TicketSubmitted, linkedTo, t.SubmittedAt
	t.Approvals, t.Files = []custos.TicketApproval{}, infos(files...)
	return t
}

// ticketAccount is the account a ticket's events are written under: its
// target, else its submitter.
func ticketAccount(t custos.Ticket) string {
	if t.TargetAccountID != "" {
		return t.TargetAccountID
	}
	return t.SubmitterAccountID
}

// createTicket creates tk with its files and the event "ev-"+tk.ID.
func createTicket(ctx context.Context, s custos.TicketStore, tk custos.Ticket, link bool, files ...custos.Blob) (custos.Ticket, error) {
	return s.CreateTicket(ctx, tk, files, link, newEvent("ev-"+tk.ID, ticketAccount(tk), evTicketSubmitted, tk.SubmittedAt))
}

func mustCreateTicket(t *testing.T, s custos.TicketStore, tk custos.Ticket, link bool, files ...custos.Blob) custos.Ticket {
	t.Helper()
	got, err := createTicket(t.Context(), s, tk, link, files...)
	if err != nil {
		t.Fatalf("CreateTicket(%s): %v", tk.ID, err)
	}
	return got
}

// move builds the move of id from `from` to `to` at `at`.
func move(id string, to custos.TicketState, at time.Time, from ...custos.TicketState) custos.TicketMove {
	return custos.TicketMove{ID: id, From: from, To: to, At: at}
}

// mustMove makes m with no events.
func mustMove(t *testing.T, s custos.TicketStore, m custos.TicketMove) {
	t.Helper()
	if err := s.MoveTicket(t.Context(), m, custos.AuditEvent{}, custos.StaffEvent{}); err != nil {
		t.Fatalf("MoveTicket(%s to %s): %v", m.ID, m.To, err)
	}
}

// approve approves id by staffID at `at`, starting the wait until
// executeAt if it is the last approval, writing the audit event
// "ev-wait-"+id under accountID and the staff event "se-approve-"+id+staffID.
func approve(ctx context.Context, s custos.TicketStore, id, accountID, staffID string, at, executeAt time.Time) (custos.Ticket, error) {
	return s.ApproveTicket(ctx, id, staffID, at, executeAt,
		newEvent("ev-wait-"+id, accountID, evTicketWaiting, at),
		newStaffEvent("se-approve-"+id+"-"+staffID, staffID, "ticket.approve", id, at))
}

// mustWaiting creates tk needing one approval, takes it into review and
// approves it, so it waits until executeAt; it returns it as it reads
// back.
func mustWaiting(t *testing.T, s custos.TicketStore, tk custos.Ticket, executeAt time.Time) custos.Ticket {
	t.Helper()
	tk.RequiredApprovals = 1
	mustCreateTicket(t, s, tk, false)
	mustMove(t, s, move(tk.ID, custos.TicketInReview, tk.SubmittedAt, custos.TicketSubmitted))
	got, err := approve(t.Context(), s, tk.ID, ticketAccount(tk), "st-rev", tk.SubmittedAt, executeAt)
	if err != nil {
		t.Fatalf("ApproveTicket(%s): %v", tk.ID, err)
	}
	if got.State != custos.TicketWaiting {
		t.Fatalf("ApproveTicket(%s): state %s, want waiting", tk.ID, got.State)
	}
	return got
}

// wantTicket fails t unless TicketByID and TicketByNumber read back want,
// with its times in UTC and its approvals and files as non-nil slices.
func wantTicket(t *testing.T, s custos.TicketStore, want custos.Ticket) {
	t.Helper()
	got, err := s.TicketByID(t.Context(), want.ID)
	if err != nil {
		t.Fatalf("TicketByID(%s): %v", want.ID, err)
	}
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("TicketByID(%s) mismatch (-want +got):\n%s", want.ID, diff)
	}
	if got.Files == nil || got.Approvals == nil {
		t.Errorf("TicketByID(%s): Files or Approvals is nil, want an empty slice", want.ID)
	}
	times := []time.Time{got.ExecuteAt, got.SubmittedAt, got.UpdatedAt, got.ClosedAt}
	for _, a := range got.Approvals {
		times = append(times, a.At)
	}
	for _, tm := range times {
		if !tm.IsZero() && tm.Location() != time.UTC {
			t.Errorf("TicketByID(%s): time %v is not in UTC", want.ID, tm)
		}
	}
	byNumber, err := s.TicketByNumber(t.Context(), want.Number)
	if err != nil {
		t.Fatalf("TicketByNumber(%s): %v", want.Number, err)
	}
	if diff := cmp.Diff(got, byNumber, opts); diff != "" {
		t.Errorf("TicketByNumber(%s) is not TicketByID(%s) (-id +number):\n%s", want.Number, want.ID, diff)
	}
}

// wantTicketIDs fails t unless list is exactly the tickets ids, in that
// order, as a non-nil slice.
func wantTicketIDs(t *testing.T, what string, list []custos.Ticket, ids ...string) {
	t.Helper()
	if list == nil {
		t.Errorf("%s = nil, want an empty slice", what)
	}
	got := []string{}
	for _, tk := range list {
		got = append(got, tk.ID)
		if tk.Files == nil || tk.Approvals == nil {
			t.Errorf("%s: %s has nil Files or Approvals, want empty slices", what, tk.ID)
		}
	}
	if ids == nil {
		ids = []string{}
	}
	if diff := cmp.Diff(ids, got); diff != "" {
		t.Errorf("%s ids (-want +got):\n%s", what, diff)
	}
}

func ticketOf(t *testing.T, s custos.TicketStore, id string) custos.Ticket {
	t.Helper()
	tk, err := s.TicketByID(t.Context(), id)
	if err != nil {
		t.Fatalf("TicketByID(%s): %v", id, err)
	}
	return tk
}

// auditOfType counts the account's audit events of type typ.
func auditOfType(t *testing.T, s custos.Store, accountID, typ string) int {
	t.Helper()
	events, err := s.ListAudit(t.Context(), accountID, 1000)
	if err != nil {
		t.Fatalf("ListAudit(%s): %v", accountID, err)
	}
	n := 0
	for _, ev := range events {
		if ev.Type == typ {
			n++
		}
	}
	return n
}

// testTicketRoundTrip writes tickets with and without files, target and
// submitter, and reads every field back, by id, number and account.
func testTicketRoundTrip(t *testing.T, s custos.Store) {
	ctx := t.Context()
	ts := ticketsOf(t, s)
	east := time.FixedZone("UTC+8", 8*60*60)
	holder := mustCreateAccount(t, s, "tk-holder")
	applicant := mustCreateAccount(t, s, "tk-applicant")

	first := newTicket("tk-rt-1", holder.ID, custos.TicketChangePhone, t0.In(east).Add(999_999))
	first.SubmitterAccountID = applicant.ID
	first.State, first.Question, first.Reason = custos.TicketRejected, "ignored", "ignored" // CreateTicket stores submitted
	first.Approvals = []custos.TicketApproval{{StaffID: "st-x", At: t0}}
	first.Files = infos(newBlob("blob-ignored", first.ID, "x")) // not written: files are
	front, back := newBlob("blob-tk-front", "", "document_front"), newBlob("blob-tk-back", first.ID, "document_back")
	back.ContentType, back.Width, back.Height, back.CreatedAt = "application/pdf", 0, 0, t0.Add(time.Second)
	got, err := createTicket(ctx, ts, first, false, front, back)
	if err != nil {
		t.Fatalf("CreateTicket: %v", err)
	}
	front.OwnerID = first.ID // an empty OwnerID is the ticket's
	first.SubmittedAt, first.Question, first.Reason = t0, "", ""
	want1 := stored(first, "", front, back)
	if diff := cmp.Diff(want1, got, opts); diff != "" {
		t.Errorf("CreateTicket returned (-want +got):\n%s", diff)
	}
	wantTicket(t, ts, want1)

	// The public form: no submitter.
	second := newTicket("tk-rt-2", holder.ID, custos.TicketUnbindMFA, t0.Add(time.Minute))
	second.SubmitterAccountID, second.Sealed, second.QueryCodeHash = "", nil, nil
	want2 := stored(second, "")
	wantTicket(t, ts, mustCreateTicket(t, ts, second, false))
	wantTicket(t, ts, want2)
	// A login email no account has: no target.
	third := newTicket("tk-rt-3", "", custos.TicketChangePhone, t0.Add(2*time.Minute))
	third.SubmitterAccountID, third.RequiredApprovals = applicant.ID, 3
	mustCreateTicket(t, ts, third, false)
	want3 := stored(third, "")
	wantTicket(t, ts, want3)

	for _, tc := range []struct {
		account string
		want    []custos.Ticket
	}{
		{holder.ID, []custos.Ticket{want2, want1}},
		{applicant.ID, []custos.Ticket{want3, want1}},
		{"tk-nobody", nil},
		{"", nil},
	} {
		list, err := ts.TicketsOfAccount(ctx, tc.account)
		if err != nil {
			t.Fatalf("TicketsOfAccount(%q): %v", tc.account, err)
		}
		if diff := cmp.Diff(tc.want, list, opts); diff != "" {
			t.Errorf("TicketsOfAccount(%q) (newest first) mismatch (-want +got):\n%s", tc.account, diff)
		}
		if list == nil {
			t.Errorf("TicketsOfAccount(%q) = nil, want an empty slice", tc.account)
		}
	}
	wantEvents(t, s, holder.ID,
		newEvent("ev-"+second.ID, holder.ID, evTicketSubmitted, second.SubmittedAt),
		newEvent("ev-"+first.ID, holder.ID, evTicketSubmitted, t0),
		newEvent("ev-signup-"+holder.ID, holder.ID, custos.EventSignup, t0))

	_, err = ts.TicketByID(ctx, "tk-absent")
	wantCode(t, "TicketByID(unknown)", err, custos.ENotFound)
	_, err = ts.TicketByNumber(ctx, "T-absent")
	wantCode(t, "TicketByNumber(unknown)", err, custos.ENotFound)
	_, err = ts.TicketByNumber(ctx, first.ID)
	wantCode(t, "TicketByNumber(an id)", err, custos.ENotFound)

	// Files: the ticket's, content and all.
	b, err := s.BlobByID(ctx, first.ID, back.ID)
	if err != nil {
		t.Fatalf("BlobByID: %v", err)
	}
	if diff := cmp.Diff(back, b, opts); diff != "" {
		t.Errorf("BlobByID mismatch (-want +got):\n%s", diff)
	}
	_, err = s.BlobByID(ctx, second.ID, back.ID)
	wantCode(t, "BlobByID(another ticket's file)", err, custos.ENotFound)
}

// testCreateTicketErrors checks what CreateTicket refuses, and that a
// refusal writes nothing: no ticket, file or event.
func testCreateTicketErrors(t *testing.T, s custos.Store) {
	ctx := t.Context()
	ts := ticketsOf(t, s)
	a := mustCreateAccount(t, s, "tk-err")
	b := mustCreateAccount(t, s, "tk-err-b")
	first := newTicket("tk-err-1", a.ID, custos.TicketChangePhone, t0)
	mustCreateTicket(t, ts, first, false, newBlob("blob-tk-err-1", "", "document_front"))
	want := stored(first, "", newBlob("blob-tk-err-1", first.ID, "document_front"))

	takenNumber := newTicket("tk-err-2", b.ID, custos.TicketChangePhone, t0)
	takenNumber.Number = first.Number
	takenNumberNoTarget := newTicket("tk-err-3", "", custos.TicketChangePhone, t0)
	takenNumberNoTarget.Number = first.Number
	noNumber := newTicket("tk-err-4", b.ID, custos.TicketChangePhone, t0)
	noNumber.Number = ""
	badKind := newTicket("tk-err-5", b.ID, "change_email", t0)
	noApprovals := newTicket("tk-err-6", b.ID, custos.TicketChangePhone, t0)
	noApprovals.RequiredApprovals = 0
	tests := []struct {
		name     string
		tk       custos.Ticket
		files    []custos.Blob
		ev       string // the event's id; "" for "ev-"+tk.ID
		wantCode string // "" for a plain error
	}{
		{name: "a taken number", tk: takenNumber, wantCode: custos.EConflict},
		{name: "a taken number, no target", tk: takenNumberNoTarget, wantCode: custos.EConflict},
		{name: "a taken id", tk: newTicket(first.ID, b.ID, custos.TicketUnbindMFA, t0), wantCode: custos.EConflict},
		{name: "a taken file id", tk: newTicket("tk-err-7", b.ID, custos.TicketChangePhone, t0),
			files: []custos.Blob{newBlob("blob-tk-err-new", "", "a"), newBlob("blob-tk-err-1", "", "b")}, wantCode: custos.EConflict},
		{name: "a taken event id", tk: newTicket("tk-err-8", b.ID, custos.TicketChangePhone, t0),
			files: []custos.Blob{newBlob("blob-tk-err-new", "", "a")}, ev: "ev-" + first.ID, wantCode: custos.EConflict},
		{name: "no id", tk: newTicket("", b.ID, custos.TicketChangePhone, t0)},
		{name: "no number", tk: noNumber},
		{name: "an unknown kind", tk: badKind},
		{name: "no approvals needed", tk: noApprovals},
		{name: "a file of another owner", tk: newTicket("tk-err-9", b.ID, custos.TicketChangePhone, t0),
			files: []custos.Blob{newBlob("blob-tk-err-new", "tk-else", "a")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := newEvent("ev-"+tc.tk.ID, b.ID, evTicketSubmitted, t0)
			if tc.ev != "" {
				ev.ID = tc.ev
			}
			_, err := ts.CreateTicket(ctx, tc.tk, tc.files, true, ev)
			if tc.wantCode != "" {
				wantCode(t, "CreateTicket", err, tc.wantCode)
			} else {
				wantPlain(t, "CreateTicket", err)
			}
			if tc.tk.ID != first.ID {
				_, err = ts.TicketByID(ctx, tc.tk.ID)
				wantCode(t, "TicketByID(the refused ticket)", err, custos.ENotFound)
			}
			_, err = s.BlobByID(ctx, tc.tk.ID, "blob-tk-err-new")
			wantCode(t, "BlobByID(a file of the refused ticket)", err, custos.ENotFound)
		})
	}
	wantTicket(t, ts, want)
	list, err := ts.TicketsOfAccount(ctx, b.ID)
	if err != nil {
		t.Fatalf("TicketsOfAccount: %v", err)
	}
	wantTicketIDs(t, "TicketsOfAccount(the refused account)", list)
	wantEvents(t, s, b.ID, newEvent("ev-signup-"+b.ID, b.ID, custos.EventSignup, t0))
}

// testCreateTicketDuplicates checks the one open unlinked ticket per kind
// and target: a duplicate is refused or linked, other kinds and tickets
// without a target are not duplicates, linked tickets block nothing, and
// a closed ticket frees its place.
func testCreateTicketDuplicates(t *testing.T, s custos.Store) {
	ctx := t.Context()
	ts := ticketsOf(t, s)
	a := mustCreateAccount(t, s, "tk-dup")
	first := newTicket("tk-dup-1", a.ID, custos.TicketChangePhone, t0)
	mustCreateTicket(t, ts, first, true)

	dup := newTicket("tk-dup-2", a.ID, custos.TicketChangePhone, t0.Add(time.Minute))
	_, err := createTicket(ctx, ts, dup, false, newBlob("blob-tk-dup-2", "", "f"))
	wantCode(t, "CreateTicket(a duplicate, unlinked)", err, custos.EConflict)
	_, err = ts.TicketByID(ctx, dup.ID)
	wantCode(t, "TicketByID(the refused duplicate)", err, custos.ENotFound)
	_, err = s.BlobByID(ctx, dup.ID, "blob-tk-dup-2")
	wantCode(t, "BlobByID(the refused duplicate's file)", err, custos.ENotFound)
	wantEvents(t, s, a.ID, newEvent("ev-"+first.ID, a.ID, evTicketSubmitted, t0), newEvent("ev-signup-"+a.ID, a.ID, custos.EventSignup, t0))

	got := mustCreateTicket(t, ts, dup, true)
	if got.LinkedTo != first.ID {
		t.Errorf("CreateTicket(a duplicate, linked): LinkedTo %q, want %q", got.LinkedTo, first.ID)
	}
	wantTicket(t, ts, stored(dup, first.ID))
	// Another kind is no duplicate; a second duplicate links to the
	// first, not to the linked one.
	other := newTicket("tk-dup-3", a.ID, custos.TicketUnbindMFA, t0.Add(2*time.Minute))
	wantTicket(t, ts, mustCreateTicket(t, ts, other, false))
	dup2 := newTicket("tk-dup-4", a.ID, custos.TicketChangePhone, t0.Add(3*time.Minute))
	if got := mustCreateTicket(t, ts, dup2, true); got.LinkedTo != first.ID {
		t.Errorf("CreateTicket(a second duplicate): LinkedTo %q, want %q", got.LinkedTo, first.ID)
	}
	// Tickets without a target are never duplicates.
	for i := range 2 {
		tk := newTicket(seq("tk-dup-none", i), "", custos.TicketChangePhone, t0)
		tk.SubmitterAccountID = a.ID
		if got := mustCreateTicket(t, ts, tk, true); got.LinkedTo != "" {
			t.Errorf("CreateTicket(no target): LinkedTo %q, want none", got.LinkedTo)
		}
	}
	// Closing the first frees its place although linked ones stay open.
	mustMove(t, ts, move(first.ID, custos.TicketRejected, t0.Add(time.Hour), custos.TicketSubmitted))
	next := newTicket("tk-dup-5", a.ID, custos.TicketChangePhone, t0.Add(2*time.Hour))
	wantTicket(t, ts, mustCreateTicket(t, ts, next, false))
	_, err = createTicket(ctx, ts, newTicket("tk-dup-6", a.ID, custos.TicketChangePhone, t0.Add(3*time.Hour)), false)
	wantCode(t, "CreateTicket(a duplicate of the new one)", err, custos.EConflict)
	wantTicket(t, ts, stored(dup2, first.ID))
	for _, st := range []custos.TicketState{custos.TicketWithdrawn, custos.TicketCancelled} {
		mustMove(t, ts, move(next.ID, st, t0.Add(4*time.Hour), custos.TicketSubmitted))
		next = newTicket("tk-dup-after-"+string(st), a.ID, custos.TicketChangePhone, t0.Add(5*time.Hour))
		if got := mustCreateTicket(t, ts, next, true); got.LinkedTo != "" {
			t.Errorf("CreateTicket(after %s): LinkedTo %q, want none", st, got.LinkedTo)
		}
	}
}

func testTicketCreateRace(t *testing.T, s custos.Store) { TicketCreateRace(t, s) }

// TicketCreateRace creates TicketCreateRacers tickets of one kind for one
// target at once, half of them linking duplicates, spread over stores:
// exactly one is the open unlinked ticket, every other linking one is
// linked to it and every other one that does not link gets EConflict and
// writes nothing.
func TicketCreateRace(t *testing.T, stores ...custos.Store) {
	t.Helper()
	ctx := t.Context()
	a := mustCreateAccount(t, stores[0], "tk-racer")
	got := make([]custos.Ticket, TicketCreateRacers)
	errs := raceAll(TicketCreateRacers, func(i int) error {
		ts := ticketsOf(t, stores[i%len(stores)])
		tk := newTicket(seq("tk-race", i), a.ID, custos.TicketUnbindMFA, t0)
		var err error
		got[i], err = createTicket(ctx, ts, tk, i%2 == 0)
		return err
	})
	winner := ""
	for i, err := range errs {
		if err == nil && got[i].LinkedTo == "" {
			if winner != "" {
				t.Errorf("%s and %s are both open and unlinked", winner, got[i].ID)
			}
			winner = got[i].ID
		}
	}
	if winner == "" {
		t.Fatalf("no racer created the open ticket: %v", errs)
	}
	ts := ticketsOf(t, stores[0])
	created := 0
	for i, err := range errs {
		id := seq("tk-race", i)
		switch {
		case err == nil:
			created++
			if id != winner && got[i].LinkedTo != winner {
				t.Errorf("racer %d: LinkedTo %q, want %q", i, got[i].LinkedTo, winner)
			}
			wantTicket(t, ts, got[i])
		case i%2 == 0:
			t.Errorf("racer %d (linking): %v", i, err)
		default:
			wantCode(t, fmt.Sprintf("CreateTicket(racer %d)", i), err, custos.EConflict)
			_, err := ts.TicketByID(ctx, id)
			wantCode(t, "TicketByID(a refused racer)", err, custos.ENotFound)
		}
	}
	if n := auditOfType(t, stores[0], a.ID, evTicketSubmitted); n != created {
		t.Errorf("%d submission events for %d tickets", n, created)
	}
}

// testListTickets lists the staff queue oldest first, by each field of
// the filter and by number.
func testListTickets(t *testing.T, s custos.Store) {
	ctx := t.Context()
	ts := ticketsOf(t, s)
	type row struct {
		id     string
		target string
		kind   custos.TicketKind
		after  time.Duration // after t0
		to     custos.TicketState
	}
	rows := []row{
		{"lt-c", "lt-x", custos.TicketChangePhone, 2 * time.Minute, custos.TicketInReview},
		{"lt-a", "lt-y", custos.TicketChangePhone, 0, ""},
		{"lt-e", "lt-x", custos.TicketUnbindMFA, time.Minute, ""},
		{"lt-b", "", custos.TicketUnbindMFA, time.Minute, custos.TicketRejected},
		{"lt-d", "lt-y", custos.TicketUnbindMFA, 3 * time.Minute, custos.TicketWithdrawn},
	}
	for _, id := range []string{"lt-x", "lt-y"} {
		mustCreateAccount(t, s, id)
	}
	for _, r := range rows {
		tk := newTicket(r.id, r.target, r.kind, t0.Add(r.after))
		tk.SubmitterAccountID = "lt-x"
		mustCreateTicket(t, ts, tk, false, newBlob("blob-"+r.id, "", "f"))
		if r.to != "" {
			mustMove(t, ts, move(r.id, r.to, t0.Add(time.Hour), custos.TicketSubmitted))
		}
	}
	tests := []struct {
		name string
		f    custos.TicketFilter
		want []string
	}{
		{name: "every one", want: []string{"lt-a", "lt-b", "lt-e", "lt-c", "lt-d"}},
		{name: "a number", f: custos.TicketFilter{Number: "T-lt-e"}, want: []string{"lt-e"}},
		{name: "a number, not a prefix", f: custos.TicketFilter{Number: "T-lt"}},
		{name: "a target", f: custos.TicketFilter{TargetAccountID: "lt-x"}, want: []string{"lt-e", "lt-c"}},
		{name: "a state", f: custos.TicketFilter{State: custos.TicketSubmitted}, want: []string{"lt-a", "lt-e"}},
		{name: "a kind", f: custos.TicketFilter{Kind: custos.TicketUnbindMFA}, want: []string{"lt-b", "lt-e", "lt-d"}},
		{name: "open only", f: custos.TicketFilter{OpenOnly: true}, want: []string{"lt-a", "lt-e", "lt-c"}},
		{name: "open, a kind", f: custos.TicketFilter{OpenOnly: true, Kind: custos.TicketUnbindMFA}, want: []string{"lt-e"}},
		{name: "a target and a state", f: custos.TicketFilter{TargetAccountID: "lt-y", State: custos.TicketWithdrawn}, want: []string{"lt-d"}},
		{name: "limit", f: custos.TicketFilter{Limit: 2}, want: []string{"lt-a", "lt-b"}},
		{name: "limit, open", f: custos.TicketFilter{OpenOnly: true, Limit: 1}, want: []string{"lt-a"}},
		{name: "open, closed state", f: custos.TicketFilter{OpenOnly: true, State: custos.TicketRejected}},
		{name: "an unknown target", f: custos.TicketFilter{TargetAccountID: "lt-absent"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ts.ListTickets(ctx, tc.f)
			if err != nil {
				t.Fatalf("ListTickets: %v", err)
			}
			wantTicketIDs(t, fmt.Sprintf("ListTickets(%+v)", tc.f), got, tc.want...)
			for _, tk := range got {
				if diff := cmp.Diff(ticketOf(t, ts, tk.ID), tk, opts); diff != "" {
					t.Errorf("ListTickets: %s is not as TicketByID reads it (-byid +list):\n%s", tk.ID, diff)
				}
			}
		})
	}
}

// testListTicketsLimits checks a filter without a limit lists the oldest
// 100 and a limit above 1000 lists up to 1000.
func testListTicketsLimits(t *testing.T, s custos.Store) {
	ctx := t.Context()
	ts := ticketsOf(t, s)
	const n = 105
	for i := range n {
		mustCreateTicket(t, ts, newTicket(seq("ll", i), "", custos.TicketChangePhone, t0.Add(time.Duration(i)*time.Second)), false)
	}
	got, err := ts.ListTickets(ctx, custos.TicketFilter{})
	if err != nil {
		t.Fatalf("ListTickets: %v", err)
	}
	if len(got) != 100 || got[0].ID != "ll-0000" || got[99].ID != "ll-0099" {
		t.Errorf("ListTickets without a limit: %d, want the oldest 100", len(got))
	}
	got, err = ts.ListTickets(ctx, custos.TicketFilter{Limit: 1_000_000})
	if err != nil {
		t.Fatalf("ListTickets: %v", err)
	}
	if len(got) != n {
		t.Errorf("ListTickets(Limit 1000000): %d, want %d", len(got), n)
	}
}

// testMoveTicket steps a ticket through review: each move only from the
// states it names, the question kept only in need_more_info, the answer's
// sealed fields and files added, the reason and the end stored, the events
// written only when given, and a refused event undoing the move.
func testMoveTicket(t *testing.T, s custos.Store) {
	ctx := t.Context()
	ts := ticketsOf(t, s)
	a := mustCreateAccount(t, s, "tk-mv")
	tk := newTicket("tk-mv-1", a.ID, custos.TicketChangePhone, t0)
	mustCreateTicket(t, ts, tk, false)
	want := stored(tk, "")

	t1 := t0.Add(time.Minute)
	review := move(tk.ID, custos.TicketInReview, t1, custos.TicketSubmitted, custos.TicketNeedMoreInfo)
	ev := newEvent("ev-mv-review", a.ID, evTicketMoved, t1)
	se := newStaffEvent("se-mv-review", "st-rev", "ticket.review", tk.ID, t1)
	if err := ts.MoveTicket(ctx, review, ev, se); err != nil {
		t.Fatalf("MoveTicket(to in_review): %v", err)
	}
	want.State, want.UpdatedAt = custos.TicketInReview, t1
	wantTicket(t, ts, want)
	err := ts.MoveTicket(ctx, move(tk.ID, custos.TicketInReview, t1, custos.TicketSubmitted), custos.AuditEvent{}, custos.StaffEvent{})
	wantCode(t, "MoveTicket(from a state it left)", err, custos.EAlreadyDecided)
	err = ts.MoveTicket(ctx, move("tk-absent", custos.TicketInReview, t1, custos.TicketSubmitted), custos.AuditEvent{}, custos.StaffEvent{})
	wantCode(t, "MoveTicket(unknown)", err, custos.ENotFound)

	// A question, with no events.
	t2 := t0.Add(2 * time.Minute)
	ask := move(tk.ID, custos.TicketNeedMoreInfo, t2, custos.TicketInReview)
	ask.Question = "Which phone did you use before?"
	mustMove(t, ts, ask)
	want.State, want.UpdatedAt, want.Question = custos.TicketNeedMoreInfo, t2, ask.Question
	wantTicket(t, ts, want)

	// The answer: new sealed fields and a file; a taken staff event id
	// undoes it all.
	t3 := t0.Add(3 * time.Minute)
	answer := move(tk.ID, custos.TicketInReview, t3, custos.TicketNeedMoreInfo)
	answer.Sealed = sealed("fields-with-answer")
	file := newBlob("blob-tk-mv-answer", "", "answer")
	answer.Files = []custos.Blob{file}
	err = ts.MoveTicket(ctx, answer, newEvent("ev-mv-answer", a.ID, evTicketMoved, t3), newStaffEvent(se.ID, "", "ticket.answer", tk.ID, t3))
	wantCode(t, "MoveTicket(taken staff event id)", err, custos.EConflict)
	wantTicket(t, ts, want)
	_, err = s.BlobByID(ctx, tk.ID, file.ID)
	wantCode(t, "BlobByID(the refused answer's file)", err, custos.ENotFound)
	if err := ts.MoveTicket(ctx, answer, newEvent("ev-mv-answer", a.ID, evTicketMoved, t3), custos.StaffEvent{}); err != nil {
		t.Fatalf("MoveTicket(the answer): %v", err)
	}
	file.OwnerID = tk.ID
	want.State, want.UpdatedAt, want.Question, want.Sealed = custos.TicketInReview, t3, "", answer.Sealed
	want.Files = infos(file)
	wantTicket(t, ts, want)

	// A file of another owner is a caller bug.
	bad := move(tk.ID, custos.TicketInReview, t3, custos.TicketInReview)
	bad.Files = []custos.Blob{newBlob("blob-tk-mv-bad", "tk-else", "answer")}
	wantPlain(t, "MoveTicket(a file of another owner)", ts.MoveTicket(ctx, bad, custos.AuditEvent{}, custos.StaffEvent{}))
	wantPlain(t, "MoveTicket(no from)", ts.MoveTicket(ctx, move(tk.ID, custos.TicketRejected, t3), custos.AuditEvent{}, custos.StaffEvent{}))
	wantPlain(t, "MoveTicket(to waiting)", ts.MoveTicket(ctx, move(tk.ID, custos.TicketWaiting, t3, custos.TicketInReview), custos.AuditEvent{}, custos.StaffEvent{}))
	wantTicket(t, ts, want)

	// Rejected: the reason, and the end.
	t4 := t0.Add(4 * time.Minute)
	reject := move(tk.ID, custos.TicketRejected, t4, custos.TicketSubmitted, custos.TicketInReview, custos.TicketNeedMoreInfo, custos.TicketApproved)
	reject.Reason = "the documents do not match the account"
	se4 := newStaffEvent("se-mv-reject", "st-rev", "ticket.reject", tk.ID, t4)
	if err := ts.MoveTicket(ctx, reject, custos.AuditEvent{}, se4); err != nil {
		t.Fatalf("MoveTicket(to rejected): %v", err)
	}
	want.State, want.UpdatedAt, want.Reason, want.ClosedAt = custos.TicketRejected, t4, reject.Reason, t4
	wantTicket(t, ts, want)
	for _, to := range []custos.TicketState{custos.TicketWithdrawn, custos.TicketInReview} {
		err := ts.MoveTicket(ctx, move(tk.ID, to, t0.Add(time.Hour), custos.TicketSubmitted, custos.TicketInReview, custos.TicketNeedMoreInfo),
			newEvent("ev-mv-late-"+string(to), a.ID, evTicketMoved, t0), custos.StaffEvent{})
		wantCode(t, "MoveTicket(a rejected ticket to "+string(to)+")", err, custos.EAlreadyDecided)
	}
	wantTicket(t, ts, want)
	wantEvents(t, s, a.ID,
		newEvent("ev-mv-answer", a.ID, evTicketMoved, t3),
		ev,
		newEvent("ev-"+tk.ID, a.ID, evTicketSubmitted, t0),
		newEvent("ev-signup-"+a.ID, a.ID, custos.EventSignup, t0))
	wantStaffEvents(t, s, custos.StaffEventFilter{Target: tk.ID}, se4, se)
}

func testMoveTicketRace(t *testing.T, s custos.Store) { TicketMoveRace(t, s) }

// TicketMoveRace has DecideRacers moves out of submitted (rejections and
// withdrawals) race on one ticket, spread over stores: exactly one wins,
// the others get EAlreadyDecided and write nothing.
func TicketMoveRace(t *testing.T, stores ...custos.Store) {
	t.Helper()
	ctx := t.Context()
	a := mustCreateAccount(t, stores[0], "tk-mv-racer")
	tk := newTicket("tk-mv-race", a.ID, custos.TicketUnbindMFA, t0)
	mustCreateTicket(t, ticketsOf(t, stores[0]), tk, false)
	to := func(i int) custos.TicketState {
		if i%2 == 0 {
			return custos.TicketRejected
		}
		return custos.TicketWithdrawn
	}
	errs := raceAll(DecideRacers, func(i int) error {
		ts := ticketsOf(t, stores[i%len(stores)])
		m := move(tk.ID, to(i), t0.Add(time.Duration(i+1)*time.Second), custos.TicketSubmitted, custos.TicketInReview)
		return ts.MoveTicket(ctx, m, newEvent(seq("ev-mv-race", i), a.ID, evTicketMoved, m.At), custos.StaffEvent{})
	})
	winner := soleWinner(t, "MoveTicket", errs, custos.EAlreadyDecided)
	at := t0.Add(time.Duration(winner+1) * time.Second)
	want := stored(tk, "")
	want.State, want.UpdatedAt, want.ClosedAt = to(winner), at, at
	wantTicket(t, ticketsOf(t, stores[0]), want)
	wantEvents(t, stores[0], a.ID,
		newEvent(seq("ev-mv-race", winner), a.ID, evTicketMoved, at),
		newEvent("ev-"+tk.ID, a.ID, evTicketSubmitted, t0),
		newEvent("ev-signup-"+a.ID, a.ID, custos.EventSignup, t0))
}

// testApproveTicket steps through approvals: only in review, once per
// staff member, the last one starting the waiting period with its event,
// none after; a refused event undoes the approval.
func testApproveTicket(t *testing.T, s custos.Store) {
	ctx := t.Context()
	ts := ticketsOf(t, s)
	a := mustCreateAccount(t, s, "tk-ap")
	tk := newTicket("tk-ap-1", a.ID, custos.TicketUnbindMFA, t0)
	mustCreateTicket(t, ts, tk, false)
	want := stored(tk, "")
	t1, t2, executeAt := t0.Add(time.Minute), t0.Add(2*time.Minute), t0.Add(72*time.Hour)

	_, err := approve(ctx, ts, tk.ID, a.ID, "st-a", t1, executeAt)
	wantCode(t, "ApproveTicket(submitted)", err, custos.EAlreadyDecided)
	_, err = approve(ctx, ts, "tk-absent", a.ID, "st-a", t1, executeAt)
	wantCode(t, "ApproveTicket(unknown)", err, custos.ENotFound)
	wantPlain(t, "ApproveTicket(no staff member)", func() error {
		_, err := approve(ctx, ts, tk.ID, a.ID, "", t1, executeAt)
		return err
	}())
	mustMove(t, ts, move(tk.ID, custos.TicketInReview, t0, custos.TicketSubmitted))
	want.State = custos.TicketInReview

	got, err := approve(ctx, ts, tk.ID, a.ID, "st-a", t1, executeAt)
	if err != nil {
		t.Fatalf("ApproveTicket(first): %v", err)
	}
	want.State, want.UpdatedAt = custos.TicketApproved, t1
	want.Approvals = []custos.TicketApproval{{StaffID: "st-a", At: t1}}
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("ApproveTicket(first) returned (-want +got):\n%s", diff)
	}
	wantTicket(t, ts, want)
	_, err = approve(ctx, ts, tk.ID, a.ID, "st-a", t2, executeAt)
	wantCode(t, "ApproveTicket(the same staff member again)", err, custos.EForbidden)
	wantTicket(t, ts, want)

	got, err = approve(ctx, ts, tk.ID, a.ID, "st-b", t2, executeAt)
	if err != nil {
		t.Fatalf("ApproveTicket(second): %v", err)
	}
	want.State, want.UpdatedAt, want.ExecuteAt = custos.TicketWaiting, t2, executeAt
	want.Approvals = append(want.Approvals, custos.TicketApproval{StaffID: "st-b", At: t2})
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("ApproveTicket(second) returned (-want +got):\n%s", diff)
	}
	wantTicket(t, ts, want)
	for _, staff := range []string{"st-c", "st-a"} {
		_, err = approve(ctx, ts, tk.ID, a.ID, staff, t2, executeAt)
		wantCode(t, "ApproveTicket(waiting, "+staff+")", err, custos.EAlreadyDecided)
	}
	wantTicket(t, ts, want)
	wantEvents(t, s, a.ID,
		newEvent("ev-wait-"+tk.ID, a.ID, evTicketWaiting, t2),
		newEvent("ev-"+tk.ID, a.ID, evTicketSubmitted, t0),
		newEvent("ev-signup-"+a.ID, a.ID, custos.EventSignup, t0))
	wantStaffEvents(t, s, custos.StaffEventFilter{Target: tk.ID},
		newStaffEvent("se-approve-"+tk.ID+"-st-b", "st-b", "ticket.approve", tk.ID, t2),
		newStaffEvent("se-approve-"+tk.ID+"-st-a", "st-a", "ticket.approve", tk.ID, t1))
	list, err := ts.ListTickets(ctx, custos.TicketFilter{State: custos.TicketWaiting})
	if err != nil {
		t.Fatalf("ListTickets: %v", err)
	}
	if diff := cmp.Diff([]custos.Ticket{want}, list, opts); diff != "" {
		t.Errorf("ListTickets(waiting) mismatch (-want +got):\n%s", diff)
	}

	// One approval needed, from approved-less review straight to waiting;
	// a taken event id undoes the approval, a taken staff event id too.
	one := newTicket("tk-ap-2", a.ID, custos.TicketChangePhone, t0)
	one.RequiredApprovals = 1
	mustCreateTicket(t, ts, one, false)
	mustMove(t, ts, move(one.ID, custos.TicketInReview, t0, custos.TicketSubmitted))
	wantOne := stored(one, "")
	wantOne.State = custos.TicketInReview
	_, err = ts.ApproveTicket(ctx, one.ID, "st-a", t1, executeAt, newEvent("ev-wait-"+tk.ID, a.ID, evTicketWaiting, t1),
		newStaffEvent("se-ap-2", "st-a", "ticket.approve", one.ID, t1))
	wantCode(t, "ApproveTicket(taken event id)", err, custos.EConflict)
	_, err = ts.ApproveTicket(ctx, one.ID, "st-a", t1, executeAt, newEvent("ev-wait-2", a.ID, evTicketWaiting, t1),
		newStaffEvent("se-approve-"+tk.ID+"-st-a", "st-a", "ticket.approve", one.ID, t1))
	wantCode(t, "ApproveTicket(taken staff event id)", err, custos.EConflict)
	wantTicket(t, ts, wantOne)
	if _, err := approve(ctx, ts, one.ID, a.ID, "st-a", t1, executeAt); err != nil {
		t.Fatalf("ApproveTicket(the only one): %v", err)
	}
	wantOne.State, wantOne.UpdatedAt, wantOne.ExecuteAt = custos.TicketWaiting, t1, executeAt
	wantOne.Approvals = []custos.TicketApproval{{StaffID: "st-a", At: t1}}
	wantTicket(t, ts, wantOne)
}

func testTicketApproveRace(t *testing.T, s custos.Store) { TicketApproveRace(t, s) }

// TicketApproveRace has TicketApproveRacers staff members approve one
// ticket needing TicketRaceApprovals at once, spread over stores: exactly
// TicketRaceApprovals approvals count, the ticket waits, its waiting event
// is written once, and every later approval gets EAlreadyDecided and
// writes nothing.
func TicketApproveRace(t *testing.T, stores ...custos.Store) {
	t.Helper()
	ctx := t.Context()
	a := mustCreateAccount(t, stores[0], "tk-ap-racer")
	tk := newTicket("tk-ap-race", a.ID, custos.TicketUnbindMFA, t0)
	tk.RequiredApprovals = TicketRaceApprovals
	mustCreateTicket(t, ticketsOf(t, stores[0]), tk, false)
	mustMove(t, ticketsOf(t, stores[0]), move(tk.ID, custos.TicketInReview, t0, custos.TicketSubmitted))
	executeAt := t0.Add(72 * time.Hour)
	errs := raceAll(TicketApproveRacers, func(i int) error {
		ts := ticketsOf(t, stores[i%len(stores)])
		_, err := ts.ApproveTicket(ctx, tk.ID, seq("st-racer", i), t0.Add(time.Minute), executeAt,
			newEvent(seq("ev-ap-race", i), a.ID, evTicketWaiting, t0.Add(time.Minute)),
			newStaffEvent(seq("se-ap-race", i), seq("st-racer", i), "ticket.approve", tk.ID, t0.Add(time.Minute)))
		return err
	})
	var approvers []string
	for i, err := range errs {
		if err == nil {
			approvers = append(approvers, seq("st-racer", i))
			continue
		}
		wantCode(t, fmt.Sprintf("ApproveTicket(racer %d)", i), err, custos.EAlreadyDecided)
	}
	if len(approvers) != TicketRaceApprovals {
		t.Errorf("%d of %d racers approved, want exactly %d", len(approvers), TicketApproveRacers, TicketRaceApprovals)
	}
	got := ticketOf(t, ticketsOf(t, stores[0]), tk.ID)
	if got.State != custos.TicketWaiting || !got.ExecuteAt.Equal(executeAt) {
		t.Errorf("after the race the ticket is %s until %v, want waiting until %v", got.State, got.ExecuteAt, executeAt)
	}
	var recorded []string
	for _, ap := range got.Approvals {
		recorded = append(recorded, ap.StaffID)
	}
	if diff := cmp.Diff(approvers, recorded); diff != "" {
		t.Errorf("recorded approvals are not the successful racers (-racers +recorded):\n%s", diff)
	}
	if n := auditOfType(t, stores[0], a.ID, evTicketWaiting); n != 1 {
		t.Errorf("%d waiting events, want exactly 1", n)
	}
	events, err := stores[0].ListStaffEvents(ctx, custos.StaffEventFilter{Target: tk.ID})
	if err != nil {
		t.Fatalf("ListStaffEvents: %v", err)
	}
	if len(events) != len(approvers) {
		t.Errorf("%d staff events for %d approvals", len(events), len(approvers))
	}
}

// testDueTickets lists the waiting tickets due by a time, the longest due
// first, and nothing else.
func testDueTickets(t *testing.T, s custos.Store) {
	ctx := t.Context()
	ts := ticketsOf(t, s)
	a := mustCreateAccount(t, s, "tk-due")
	now := t0.Add(72 * time.Hour)
	rows := []struct {
		id    string
		kind  custos.TicketKind
		until time.Time
	}{
		{"due-b", custos.TicketChangePhone, now},
		{"due-a", custos.TicketUnbindMFA, now.Add(-time.Hour)},
		{"due-later", "", now.Add(time.Millisecond)},
	}
	for i, r := range rows {
		target, kind := a.ID, r.kind
		if kind == "" {
			target, kind = "", custos.TicketUnbindMFA
		}
		tk := newTicket(r.id, target, kind, t0.Add(time.Duration(i)*time.Minute))
		tk.SubmitterAccountID = a.ID
		mustWaiting(t, ts, tk, r.until)
	}
	// Not waiting: in review, and executed.
	mustMove(t, ts, move(mustCreateTicket(t, ts, newTicket("due-review", "", custos.TicketChangePhone, t0), false).ID,
		custos.TicketInReview, t0, custos.TicketSubmitted))
	done := newTicket("due-done", "tk-due-done", custos.TicketUnbindMFA, t0)
	mustCreateAccount(t, s, done.TargetAccountID)
	mustWaiting(t, ts, done, t0)
	if err := ts.ExecuteTicket(ctx, done.ID, t0, custos.TicketChange{AccountID: done.TargetAccountID},
		newEvent("ev-exec-"+done.ID, done.TargetAccountID, evTicketExecuted, t0)); err != nil {
		t.Fatalf("ExecuteTicket: %v", err)
	}
	for _, tc := range []struct {
		at   time.Time
		want []string
	}{
		{now, []string{"due-a", "due-b"}},
		{now.Add(time.Millisecond), []string{"due-a", "due-b", "due-later"}},
		{now.Add(-time.Millisecond), []string{"due-a"}},
		{t0, nil},
	} {
		got, err := ts.DueTickets(ctx, tc.at)
		if err != nil {
			t.Fatalf("DueTickets: %v", err)
		}
		wantTicketIDs(t, fmt.Sprintf("DueTickets(%v)", tc.at), got, tc.want...)
	}
}

// mfaFixture is an account with every kind of second factor, protection
// on, sessions and trusted devices, as an unbind_mfa ticket finds it.
type mfaFixture struct {
	account string
	devices []string // pending and confirmed
	serial  string   // the token bound as one of them
}

func newMFAFixture(t *testing.T, s custos.Store, p string) mfaFixture {
	t.Helper()
	ctx := t.Context()
	newSignoutFixture(t, s, p, 2, false)
	f := mfaFixture{account: p, devices: []string{p + "-totp", p + "-key", p + "-pending", p + "-hw"}, serial: "SN-" + p}
	mustConfirmDevice(t, s, newTOTPDevice(f.devices[0], p), 5)
	mustConfirmDevice(t, s, newWebAuthnDevice(f.devices[1], p), 0)
	mustCreateDevice(t, s, newTOTPDevice(f.devices[2], p))
	mustImportToken(t, s, newToken(f.serial))
	if err := s.BindToken(ctx, f.serial, newHardwareDevice(f.devices[3], p, f.serial),
		newEvent("ev-bind-"+p, p, custos.EventDeviceBound, t0)); err != nil {
		t.Fatalf("BindToken: %v", err)
	}
	mustReplaceRecoveryCodes(t, s, p, recoveryHashes(p, 3), newEvent("ev-codes-"+p, p, custos.EventRecoveryCodes, t0))
	if err := s.SetProtection(ctx, p, custos.Protection{Login: true, Operation: true,
		LoginMethod: custos.MethodMFA, OperationMethod: custos.MethodMFA}, newEvent("ev-prot-"+p, p, custos.EventProtection, t0)); err != nil {
		t.Fatalf("SetProtection: %v", err)
	}
	return f
}

// mfaState is what a ticket's change may change about an account.
type mfaState struct {
	Account  any
	Devices  []any
	Token    custos.HardwareToken
	Recovery int
	Sessions []string
	Trusted  []string
}

func (f mfaFixture) state(t *testing.T, s custos.Store) mfaState {
	t.Helper()
	st := mfaState{Account: accountOrAbsent(t, s, f.account), Token: tokenOf(t, s, f.serial),
		Recovery: recoveryCount(t, s, f.account), Sessions: sessionIDs(t, s, f.account)}
	for _, id := range f.devices {
		st.Devices = append(st.Devices, deviceOrAbsent(t, s, f.account, id))
	}
	for _, id := range signoutNames(f.account, 2).devices {
		ok, err := s.IsTrustedDevice(t.Context(), id, f.account, t0)
		if err != nil {
			t.Fatalf("IsTrustedDevice: %v", err)
		}
		if ok {
			st.Trusted = append(st.Trusted, id)
		}
	}
	return st
}

// testExecuteTicket executes an unbind_mfa and a change_phone ticket:
// only once due and waiting, the change made on the target alone, and a
// refused phone leaving the ticket waiting and the account as it was.
func testExecuteTicket(t *testing.T, s custos.Store) {
	ctx := t.Context()
	ts := ticketsOf(t, s)
	f := newMFAFixture(t, s, "tk-ex-mfa")
	other := newMFAFixture(t, s, "tk-ex-other")
	executeAt := t0.Add(72 * time.Hour)
	tk := mustWaiting(t, ts, newTicket("tk-ex-1", f.account, custos.TicketUnbindMFA, t0), executeAt)
	before, otherBefore := f.state(t, s), other.state(t, s)
	change := custos.TicketChange{AccountID: f.account, UnbindMFA: true, EndSessions: true,
		Protection: custos.Protection{Login: true, LoginMethod: custos.MethodEmail}}
	exec := func(id string, at time.Time, c custos.TicketChange, evID string) error {
		return ts.ExecuteTicket(ctx, id, at, c, newEvent(evID, c.AccountID, evTicketExecuted, at))
	}

	wantCode(t, "ExecuteTicket(not yet due)", exec(tk.ID, executeAt.Add(-time.Millisecond), change, "ev-ex-early"), custos.EAlreadyDecided)
	wantCode(t, "ExecuteTicket(unknown)", exec("tk-absent", executeAt, change, "ev-ex-absent"), custos.ENotFound)
	wrong := change
	wrong.AccountID = other.account
	wantPlain(t, "ExecuteTicket(another account's change)", exec(tk.ID, executeAt, wrong, "ev-ex-wrong"))
	wantCode(t, "ExecuteTicket(taken event id)", exec(tk.ID, executeAt, change, "ev-"+tk.ID), custos.EConflict)
	wantTicket(t, ts, tk)
	if diff := cmp.Diff(before, f.state(t, s), opts); diff != "" {
		t.Errorf("refused executions changed the account (-before +after):\n%s", diff)
	}

	now := executeAt.Add(time.Minute)
	if err := exec(tk.ID, now, change, "ev-ex-1"); err != nil {
		t.Fatalf("ExecuteTicket: %v", err)
	}
	tk.State, tk.UpdatedAt, tk.ClosedAt = custos.TicketExecuted, now, now
	wantTicket(t, ts, tk)
	after := f.state(t, s)
	acct := before.Account.(custos.Account)
	acct.Protection = change.Protection
	tok := before.Token
	tok.Status, tok.DeviceID = custos.TokenRetired, ""
	want := mfaState{Account: acct, Devices: []any{absent, absent, absent, absent}, Token: tok}
	if diff := cmp.Diff(want, after, opts); diff != "" {
		t.Errorf("after the unbinding (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(otherBefore, other.state(t, s), opts); diff != "" {
		t.Errorf("the unbinding changed another account (-before +after):\n%s", diff)
	}
	wantCode(t, "ExecuteTicket(executed)", exec(tk.ID, now, change, "ev-ex-again"), custos.EAlreadyDecided)
	if n := auditOfType(t, s, f.account, evTicketExecuted); n != 1 {
		t.Errorf("%d execution events, want 1", n)
	}

	// change_phone, against the per-number cap; sessions stay.
	p := newMFAFixture(t, s, "tk-ex-phone")
	for _, id := range []string{"tk-ex-p1", "tk-ex-p2"} {
		mustCreateAccount(t, s, id)
		if err := s.SetPhone(ctx, id, ticketPhoneFull, 5, newEvent("ev-phone-"+id, id, custos.EventProtection, t0)); err != nil {
			t.Fatalf("SetPhone: %v", err)
		}
	}
	ptk := mustWaiting(t, ts, newTicket("tk-ex-2", p.account, custos.TicketChangePhone, t0), executeAt)
	pBefore := p.state(t, s)
	full := custos.TicketChange{AccountID: p.account, NewPhone: ticketPhoneFull, MaxPerNumber: 2, UnbindMFA: true, EndSessions: true}
	wantCode(t, "ExecuteTicket(a full number)", exec(ptk.ID, now, full, "ev-ex-full"), custos.EConflict)
	wantTicket(t, ts, ptk)
	if diff := cmp.Diff(pBefore, p.state(t, s), opts); diff != "" {
		t.Errorf("a refused number changed the account (-before +after):\n%s", diff)
	}
	if n := auditOfType(t, s, p.account, evTicketExecuted); n != 0 {
		t.Errorf("%d execution events of a refused execution, want 0", n)
	}
	full.MaxPerNumber, full.UnbindMFA, full.EndSessions = 3, false, false
	if err := exec(ptk.ID, now, full, "ev-ex-2"); err != nil {
		t.Fatalf("ExecuteTicket(change_phone): %v", err)
	}
	pAfter := p.state(t, s)
	pAcct := pBefore.Account.(custos.Account)
	pAcct.Phone = ticketPhoneFull
	pBefore.Account = pAcct
	if diff := cmp.Diff(pBefore, pAfter, opts); diff != "" {
		t.Errorf("after the phone change (-want +got):\n%s", diff)
	}
	bound, err := s.AccountsByPhone(ctx, ticketPhoneFull)
	if err != nil {
		t.Fatalf("AccountsByPhone: %v", err)
	}
	if len(bound) != 3 {
		t.Errorf("%d accounts on the number, want 3", len(bound))
	}
}

func testTicketExecuteRace(t *testing.T, s custos.Store) { TicketExecuteRace(t, s) }

// TicketExecuteRace has TicketExecuteRacers executors run one due ticket
// at once, spread over stores: exactly one executes it and makes its
// change (the devices gone, the phone bound, the sessions ended), with one
// event; the others get EAlreadyDecided.
func TicketExecuteRace(t *testing.T, stores ...custos.Store) {
	t.Helper()
	ctx := t.Context()
	s := stores[0]
	f := newMFAFixture(t, s, "tk-ex-racer")
	executeAt := t0.Add(72 * time.Hour)
	tk := mustWaiting(t, ticketsOf(t, s), newTicket("tk-ex-race", f.account, custos.TicketUnbindMFA, t0), executeAt)
	change := custos.TicketChange{AccountID: f.account, UnbindMFA: true, EndSessions: true,
		NewPhone: ticketPhone, MaxPerNumber: 1}
	errs := raceAll(TicketExecuteRacers, func(i int) error {
		ts := ticketsOf(t, stores[i%len(stores)])
		return ts.ExecuteTicket(ctx, tk.ID, executeAt, change,
			newEvent(seq("ev-ex-race", i), f.account, evTicketExecuted, executeAt))
	})
	won := 0
	for i, err := range errs {
		if err == nil {
			won++
			continue
		}
		wantCode(t, fmt.Sprintf("ExecuteTicket(racer %d)", i), err, custos.EAlreadyDecided)
	}
	if won != 1 {
		t.Errorf("%d of %d racers executed the ticket, want exactly 1", won, TicketExecuteRacers)
	}
	if got := ticketOf(t, ticketsOf(t, s), tk.ID); got.State != custos.TicketExecuted {
		t.Errorf("after the race the ticket is %s, want executed", got.State)
	}
	st := f.state(t, s)
	if acct, ok := st.Account.(custos.Account); !ok || acct.Phone != ticketPhone {
		t.Errorf("after the race the account is %+v, want its phone %s", st.Account, ticketPhone)
	}
	if diff := cmp.Diff([]any{absent, absent, absent, absent}, st.Devices); diff != "" {
		t.Errorf("devices after the race (-want +got):\n%s", diff)
	}
	if st.Recovery != 0 || len(st.Sessions) != 0 || len(st.Trusted) != 0 || st.Token.Status != custos.TokenRetired {
		t.Errorf("after the race: %+v, want no codes, sessions or trusted devices, the token retired", st)
	}
	if n := auditOfType(t, s, f.account, evTicketExecuted); n != 1 {
		t.Errorf("%d execution events, want exactly 1", n)
	}
}

// ticketAuditedChanges are the rows of testAuditFailureLeavesNoChange for
// the methods of custos.TicketStore that take an AuditEvent.
func ticketAuditedChanges() []auditedChange {
	ticketState := func(t *testing.T, s custos.Store, p string) any {
		t.Helper()
		list, err := ticketsOf(t, s).TicketsOfAccount(t.Context(), p)
		if err != nil {
			t.Fatalf("TicketsOfAccount(%s): %v", p, err)
		}
		_, err = s.BlobByID(t.Context(), "tk-"+p, "blob-"+p)
		if err != nil && !custos.IsCode(err, custos.ENotFound) {
			t.Fatalf("BlobByID: %v", err)
		}
		file := err == nil
		events, err := s.ListStaffEvents(t.Context(), custos.StaffEventFilter{Target: "tk-" + p})
		if err != nil {
			t.Fatalf("ListStaffEvents: %v", err)
		}
		return []any{list, file, events}
	}
	inReview := func(t *testing.T, s custos.Store, p string) {
		t.Helper()
		mustCreateAccount(t, s, p)
		tk := newTicket("tk-"+p, p, custos.TicketUnbindMFA, t0)
		tk.RequiredApprovals = 1
		mustCreateTicket(t, ticketsOf(t, s), tk, false)
		mustMove(t, ticketsOf(t, s), move(tk.ID, custos.TicketInReview, t0, custos.TicketSubmitted))
	}
	return []auditedChange{
		{
			name:  "CreateTicket",
			setup: createAccountOnly,
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				_, err := s.(custos.TicketStore).CreateTicket(ctx, newTicket("tk-"+p, p, custos.TicketUnbindMFA, t0),
					[]custos.Blob{newBlob("blob-"+p, "", "document_front")}, false, ev)
				return err
			},
			state: ticketState,
		},
		{
			name:  "MoveTicket",
			setup: inReview,
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				m := move("tk-"+p, custos.TicketNeedMoreInfo, t0.Add(time.Hour), custos.TicketInReview)
				m.Question, m.Files = "Which device did you lose?", []custos.Blob{newBlob("blob-"+p, "", "document_front")}
				return s.(custos.TicketStore).MoveTicket(ctx, m, ev,
					newStaffEvent("se-"+p, "st-rev", "ticket.ask", "tk-"+p, t0.Add(time.Hour)))
			},
			state: ticketState,
		},
		{
			name:  "ApproveTicket",
			setup: inReview,
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				_, err := s.(custos.TicketStore).ApproveTicket(ctx, "tk-"+p, "st-rev", t0.Add(time.Hour), t0.Add(72*time.Hour), ev,
					newStaffEvent("se-"+p, "st-rev", "ticket.approve", "tk-"+p, t0.Add(time.Hour)))
				return err
			},
			state: ticketState,
		},
		{
			name: "ExecuteTicket",
			setup: func(t *testing.T, s custos.Store, p string) {
				t.Helper()
				newMFAFixture(t, s, p)
				mustWaiting(t, ticketsOf(t, s), newTicket("tk-"+p, p, custos.TicketUnbindMFA, t0), t0.Add(time.Hour))
			},
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				return s.(custos.TicketStore).ExecuteTicket(ctx, "tk-"+p, t0.Add(time.Hour), custos.TicketChange{
					AccountID: p, UnbindMFA: true, EndSessions: true, NewPhone: ticketPhone, MaxPerNumber: 5,
				}, ev)
			},
			state: func(t *testing.T, s custos.Store, p string) any {
				t.Helper()
				f := mfaFixture{account: p, devices: []string{p + "-totp", p + "-key", p + "-pending", p + "-hw"}, serial: "SN-" + p}
				return []any{ticketState(t, s, p), f.state(t, s)}
			},
		},
	}
}

// testPurgeTicketFiles: files of tickets closed before the bound go, the
// tickets stay; open tickets and later-closed ones keep theirs.
func testPurgeTicketFiles(t *testing.T, s custos.Store) {
	ctx := t.Context()
	ts := ticketsOf(t, s)
	holder := mustCreateAccount(t, s, "tk-purge")
	old := newTicket("tk-purge-old", holder.ID, custos.TicketChangePhone, t0)
	mustCreateTicket(t, ts, old, false, newBlob("blob-purge-old", old.ID, "holding_document_front"))
	mustMove(t, ts, move(old.ID, custos.TicketRejected, t0.Add(time.Hour), custos.TicketSubmitted))
	open := newTicket("tk-purge-open", holder.ID, custos.TicketUnbindMFA, t0)
	mustCreateTicket(t, ts, open, false, newBlob("blob-purge-open", open.ID, "business_licence"))
	n, err := ts.PurgeTicketFiles(ctx, t0.Add(30*time.Minute))
	if err != nil || n != 0 {
		t.Fatalf("PurgeTicketFiles before the close = %d, %v; want 0", n, err)
	}
	n, err = ts.PurgeTicketFiles(ctx, t0.Add(2*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("PurgeTicketFiles = %d, %v; want 1", n, err)
	}
	if _, err := s.BlobByID(ctx, old.ID, "blob-purge-old"); !custos.IsCode(err, custos.ENotFound) {
		t.Errorf("a purged file: %v, want not_found", err)
	}
	if _, err := s.BlobByID(ctx, open.ID, "blob-purge-open"); err != nil {
		t.Errorf("an open ticket's file: %v", err)
	}
	if got := ticketOf(t, ts, old.ID); got.State != custos.TicketRejected || len(got.Files) != 0 {
		t.Errorf("the purged ticket: state %s, %d files", got.State, len(got.Files))
	}
	if n, _ := ts.PurgeTicketFiles(ctx, t0.Add(2*time.Hour)); n != 0 {
		t.Errorf("a second purge deleted %d files", n)
	}
}
