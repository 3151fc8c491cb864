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

// FlowRacers goroutines race on one flow at once in FlowRaces; the counted
// race's flow takes FlowRaceGuesses guesses.
const (
	FlowRacers      = 100
	FlowRaceGuesses = 6
)

// flowTTL is how long the suite's flows last.
const flowTTL = 10 * time.Minute

func newFlow(id string, kind custos.FlowKind, accountID string) custos.Flow {
	return custos.Flow{
		ID:          id,
		Kind:        kind,
		AccountID:   accountID,
		State:       "sent",
		Data:        []byte(`{"to":"` + id + `@example.test"}`),
		MaxAttempts: 5,
		CreatedAt:   t0,
		UpdatedAt:   t0,
		ExpiresAt:   t0.Add(flowTTL),
	}
}

func mustCreateFlow(t *testing.T, s custos.FlowStore, f custos.Flow) {
	t.Helper()
	if err := s.CreateFlow(t.Context(), f); err != nil {
		t.Fatalf("CreateFlow(%s): %v", f.ID, err)
	}
}

// wantFlow fails t unless FlowByID(want.ID, want.Kind, now) reads back want,
// its times in UTC.
func wantFlow(t *testing.T, s custos.FlowStore, want custos.Flow, now time.Time) {
	t.Helper()
	got, err := s.FlowByID(t.Context(), want.ID, want.Kind, now)
	if err != nil {
		t.Fatalf("FlowByID(%s): %v", want.ID, err)
	}
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("FlowByID(%s) mismatch (-want +got):\n%s", want.ID, diff)
	}
	for _, tm := range []time.Time{got.CreatedAt, got.UpdatedAt, got.ExpiresAt} {
		if tm.Location() != time.UTC {
			t.Errorf("FlowByID(%s): time %v is not in UTC", want.ID, tm)
		}
	}
}

// testCreateFlow writes flows of several shapes and reads every field
// back.
func testCreateFlow(t *testing.T, s custos.Store) {
	east := time.FixedZone("UTC+8", 8*60*60)
	anonymous := newFlow("flow-anon", custos.FlowSignup, "")
	anonymous.Data, anonymous.MaxAttempts = nil, 0
	counted := newFlow("flow-counted", custos.FlowReset, "acct-flow")
	counted.Attempts, counted.State = 2, "code_sent"
	counted.UpdatedAt = t0.Add(time.Minute)
	zoned := newFlow("flow-zoned", custos.FlowWebAuthn, "acct-flow")
	zoned.CreatedAt = t0.In(east).Add(1_234_567)
	zoned.UpdatedAt = t0.In(east).Add(time.Second + 999_999)
	zoned.ExpiresAt = t0.In(east).Add(flowTTL + 1)
	zonedWant := zoned
	zonedWant.CreatedAt, zonedWant.UpdatedAt, zonedWant.ExpiresAt = t0.Add(time.Millisecond), t0.Add(time.Second), t0.Add(flowTTL)
	tests := []struct {
		name string
		f    custos.Flow
		want custos.Flow
	}{
		{"with an account and data", newFlow("flow-full", custos.FlowContactChange, "acct-flow"), newFlow("flow-full", custos.FlowContactChange, "acct-flow")},
		{"no account, no data, no guesses", anonymous, anonymous},
		{"attempts already counted", counted, counted},
		{"other zone, below a millisecond", zoned, zonedWant},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mustCreateFlow(t, s, tc.f)
			wantFlow(t, s, tc.want, t0)
		})
	}
}

// testCreateFlowErrors checks a taken id is refused whatever the kind, and
// the flow keeps what it had.
func testCreateFlowErrors(t *testing.T, s custos.Store) {
	ctx := t.Context()
	f := newFlow("flow-taken", custos.FlowLogin, "acct-flow-err")
	mustCreateFlow(t, s, f)
	other := newFlow(f.ID, custos.FlowUndo, "acct-flow-thief")
	other.State, other.Data = "done", []byte(`{}`)
	noKind := newFlow("flow-nokind", "", "acct-flow-err")
	tests := []struct {
		name     string
		f        custos.Flow
		wantCode string // "" for a plain error
	}{
		{"same id, same kind", newFlow(f.ID, f.Kind, f.AccountID), custos.EConflict},
		{"same id, another kind", other, custos.EConflict},
		{"no id", newFlow("", custos.FlowLogin, "acct-flow-err"), ""},
		{"no kind", noKind, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.CreateFlow(ctx, tc.f)
			if tc.wantCode != "" {
				wantCode(t, "CreateFlow", err, tc.wantCode)
			} else {
				wantPlain(t, "CreateFlow", err)
			}
		})
	}
	wantFlow(t, s, f, t0)
	_, err := s.FlowByID(ctx, f.ID, custos.FlowUndo, t0)
	wantCode(t, "FlowByID(the refused kind)", err, custos.ENotFound)
}

// testFlowByID checks a flow is found only under its own kind and only
// until it expires.
func testFlowByID(t *testing.T, s custos.Store) {
	f := newFlow("flow-find", custos.FlowVerification, "acct-flow-find")
	mustCreateFlow(t, s, f)
	tests := []struct {
		name     string
		id       string
		kind     custos.FlowKind
		now      time.Time
		wantCode string // "" when found
	}{
		{name: "its kind, just made", id: f.ID, kind: f.Kind, now: t0},
		{name: "last millisecond", id: f.ID, kind: f.Kind, now: f.ExpiresAt.Add(-time.Millisecond)},
		{name: "before it was made", id: f.ID, kind: f.Kind, now: t0.Add(-time.Hour)},
		{name: "expires exactly now", id: f.ID, kind: f.Kind, now: f.ExpiresAt, wantCode: custos.ENotFound},
		{name: "long expired", id: f.ID, kind: f.Kind, now: f.ExpiresAt.Add(24 * time.Hour), wantCode: custos.ENotFound},
		{name: "another kind", id: f.ID, kind: custos.FlowLogin, now: t0, wantCode: custos.ENotFound},
		{name: "no kind", id: f.ID, kind: "", now: t0, wantCode: custos.ENotFound},
		{name: "unknown id", id: "flow-absent", kind: f.Kind, now: t0, wantCode: custos.ENotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.wantCode == "" {
				wantFlow(t, s, f, tc.now)
				return
			}
			_, err := s.FlowByID(t.Context(), tc.id, tc.kind, tc.now)
			wantCode(t, "FlowByID", err, tc.wantCode)
		})
	}
}

// testAdvanceFlow walks one flow through its states in order: each
// transition moves only from the state the flow is in, replaces the data
// and stamps UpdatedAt; a refused one changes nothing.
func testAdvanceFlow(t *testing.T, s custos.Store) {
	ctx := t.Context()
	f := newFlow("flow-walk", custos.FlowReset, "acct-flow-walk")
	f.Attempts = 1
	mustCreateFlow(t, s, f)
	mustCreateFlow(t, s, newFlow("flow-walk-other", custos.FlowReset, "acct-flow-walk"))
	steps := []struct {
		name      string
		id        string
		kind      custos.FlowKind
		from, to  string
		data      []byte
		now       time.Time
		wantCode  string // "" when the flow moves
		wantState string // the flow's state afterwards
		wantData  []byte // the flow's data afterwards
	}{
		{name: "from its state", id: f.ID, kind: f.Kind, from: "sent", to: "proven", data: []byte(`{"step":1}`), now: t0.Add(time.Minute),
			wantState: "proven", wantData: []byte(`{"step":1}`)},
		{name: "from the state it left", id: f.ID, kind: f.Kind, from: "sent", to: "proven", data: []byte(`{"step":"stale"}`), now: t0.Add(2 * time.Minute),
			wantCode: custos.EExpired, wantState: "proven", wantData: []byte(`{"step":1}`)},
		{name: "another kind", id: f.ID, kind: custos.FlowUndo, from: "proven", to: "done", data: []byte(`{}`), now: t0.Add(2 * time.Minute),
			wantCode: custos.ENotFound, wantState: "proven", wantData: []byte(`{"step":1}`)},
		{name: "unknown id", id: "flow-absent", kind: f.Kind, from: "proven", to: "done", data: []byte(`{}`), now: t0.Add(2 * time.Minute),
			wantCode: custos.ENotFound, wantState: "proven", wantData: []byte(`{"step":1}`)},
		{name: "to the same state, no data", id: f.ID, kind: f.Kind, from: "proven", to: "proven", now: t0.Add(3 * time.Minute),
			wantState: "proven"},
		{name: "last millisecond", id: f.ID, kind: f.Kind, from: "proven", to: "done", data: []byte(`{"step":2}`), now: f.ExpiresAt.Add(-time.Millisecond),
			wantState: "done", wantData: []byte(`{"step":2}`)},
		{name: "expires exactly now", id: f.ID, kind: f.Kind, from: "done", to: "again", data: []byte(`{}`), now: f.ExpiresAt,
			wantCode: custos.EExpired, wantState: "done", wantData: []byte(`{"step":2}`)},
	}
	want := f
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			err := s.AdvanceFlow(ctx, st.id, st.kind, st.from, st.to, st.data, st.now)
			if st.wantCode != "" {
				wantCode(t, "AdvanceFlow", err, st.wantCode)
			} else if err != nil {
				t.Fatalf("AdvanceFlow: %v", err)
			} else {
				want.UpdatedAt = st.now
			}
			want.State, want.Data = st.wantState, st.wantData
			wantFlow(t, s, want, t0)
		})
	}
	wantFlow(t, s, newFlow("flow-walk-other", custos.FlowReset, "acct-flow-walk"), t0)
}

// testCountFlowAttempt counts guesses on one flow until none is left, and
// checks the refusals count nothing.
func testCountFlowAttempt(t *testing.T, s custos.Store) {
	ctx := t.Context()
	f := newFlow("flow-guess", custos.FlowContactChange, "acct-flow-guess")
	f.MaxAttempts = 3
	mustCreateFlow(t, s, f)
	none := newFlow("flow-noguess", custos.FlowUndo, "acct-flow-guess")
	none.MaxAttempts = 0
	mustCreateFlow(t, s, none)
	steps := []struct {
		name         string
		id           string
		kind         custos.FlowKind
		now          time.Time
		wantCode     string // "" when counted
		wantLeft     int
		wantAttempts int // f's attempts afterwards
	}{
		{name: "first guess", id: f.ID, kind: f.Kind, now: t0, wantLeft: 2, wantAttempts: 1},
		{name: "another kind", id: f.ID, kind: custos.FlowLogin, now: t0, wantCode: custos.ENotFound, wantAttempts: 1},
		{name: "unknown id", id: "flow-absent", kind: f.Kind, now: t0, wantCode: custos.ENotFound, wantAttempts: 1},
		{name: "expires exactly now", id: f.ID, kind: f.Kind, now: f.ExpiresAt, wantCode: custos.EExpired, wantAttempts: 1},
		{name: "second guess", id: f.ID, kind: f.Kind, now: t0.Add(time.Minute), wantLeft: 1, wantAttempts: 2},
		{name: "last guess, last millisecond", id: f.ID, kind: f.Kind, now: f.ExpiresAt.Add(-time.Millisecond), wantLeft: 0, wantAttempts: 3},
		{name: "none left", id: f.ID, kind: f.Kind, now: t0.Add(time.Minute), wantCode: custos.EExpired, wantAttempts: 3},
		{name: "a flow that takes none", id: none.ID, kind: none.Kind, now: t0, wantCode: custos.EExpired, wantAttempts: 3},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			left, err := s.CountFlowAttempt(ctx, st.id, st.kind, st.now)
			if st.wantCode != "" {
				wantCode(t, "CountFlowAttempt", err, st.wantCode)
			} else if err != nil {
				t.Fatalf("CountFlowAttempt: %v", err)
			} else if left != st.wantLeft {
				t.Errorf("CountFlowAttempt = %d left, want %d", left, st.wantLeft)
			}
			// Counting touches nothing but the count.
			want := f
			want.Attempts = st.wantAttempts
			wantFlow(t, s, want, t0)
		})
	}
	wantFlow(t, s, none, t0)
}

// testDeleteExpiredFlows sweeps flows expired by now (ExpiresAt <= now),
// whatever their kind or state, and keeps the rest.
func testDeleteExpiredFlows(t *testing.T, s custos.Store) {
	ctx := t.Context()
	now := t0.Add(time.Hour)
	tests := []struct {
		name    string
		kind    custos.FlowKind
		expires time.Time
		deleted bool
	}{
		{"long expired", custos.FlowSignup, t0, true},
		{"expires exactly now", custos.FlowUndo, now, true},
		{"one millisecond left", custos.FlowLogin, now.Add(time.Millisecond), false},
		{"a day left", custos.FlowReset, now.Add(24 * time.Hour), false},
	}
	flows := make([]custos.Flow, len(tests))
	for i, tc := range tests {
		flows[i] = newFlow(seq("flow-sweep", i), tc.kind, "acct-flow-sweep")
		flows[i].CreatedAt, flows[i].UpdatedAt, flows[i].ExpiresAt = t0.Add(-time.Hour), t0.Add(-time.Hour), tc.expires
		mustCreateFlow(t, s, flows[i])
	}
	n, err := s.DeleteExpiredFlows(ctx, now)
	if err != nil {
		t.Fatalf("DeleteExpiredFlows: %v", err)
	}
	if n != 2 {
		t.Errorf("DeleteExpiredFlows = %d, want 2", n)
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Asked before any of them expired: only a deleted one is gone.
			before := t0.Add(-time.Minute)
			if !tc.deleted {
				wantFlow(t, s, flows[i], before)
				return
			}
			_, err := s.FlowByID(ctx, flows[i].ID, flows[i].Kind, before)
			wantCode(t, "FlowByID(swept)", err, custos.ENotFound)
		})
	}
	if n, err := s.DeleteExpiredFlows(ctx, now); err != nil || n != 0 {
		t.Errorf("DeleteExpiredFlows again = %d, %v; want 0, nil", n, err)
	}
}

// testFlowRaces runs FlowRaces on the one store.
func testFlowRaces(t *testing.T, s custos.Store) { FlowRaces(t, s) }

// FlowRaces sets FlowRacers goroutines at once on one flow, spread over
// stores (handles on one database, as replicas are): of racing transitions
// from one state exactly one wins, and of racing guesses on a flow that
// takes FlowRaceGuesses exactly that many count, each seeing a different
// number left.
func FlowRaces(t *testing.T, stores ...custos.FlowStore) {
	if len(stores) == 0 {
		t.Fatal("FlowRaces needs a store")
	}
	ctx := t.Context()
	t.Run("Advance", func(t *testing.T) {
		f := newFlow("flow-race-advance", custos.FlowLogin, "acct-flow-race")
		mustCreateFlow(t, stores[0], f)
		errs := raceFlow(stores, func(s custos.FlowStore, i int) error {
			return s.AdvanceFlow(ctx, f.ID, f.Kind, "sent", fmt.Sprintf("won-%03d", i), fmt.Appendf(nil, `{"racer":%d}`, i), t0.Add(time.Second))
		})
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Errorf("racers %d and %d both moved the flow from sent", winner, i)
			case err == nil:
				winner = i
			default:
				wantCode(t, fmt.Sprintf("AdvanceFlow(racer %d)", i), err, custos.EExpired)
			}
		}
		if winner < 0 {
			t.Fatal("no racer moved the flow")
		}
		want := f
		want.State, want.Data, want.UpdatedAt = fmt.Sprintf("won-%03d", winner), fmt.Appendf(nil, `{"racer":%d}`, winner), t0.Add(time.Second)
		wantFlow(t, stores[0], want, t0)
	})
	t.Run("CountAttempt", func(t *testing.T) {
		f := newFlow("flow-race-guess", custos.FlowReset, "acct-flow-race")
		f.MaxAttempts = FlowRaceGuesses
		mustCreateFlow(t, stores[0], f)
		lefts := make([]int, FlowRacers)
		errs := raceFlow(stores, func(s custos.FlowStore, i int) error {
			var err error
			lefts[i], err = s.CountFlowAttempt(ctx, f.ID, f.Kind, t0.Add(time.Second))
			return err
		})
		var seen []int
		for i, err := range errs {
			if err == nil {
				seen = append(seen, lefts[i])
				continue
			}
			wantCode(t, fmt.Sprintf("CountFlowAttempt(racer %d)", i), err, custos.EExpired)
		}
		slices.Sort(seen)
		want := make([]int, FlowRaceGuesses)
		for i := range want {
			want[i] = i
		}
		if diff := cmp.Diff(want, seen); diff != "" {
			t.Errorf("guesses left as the counted racers saw them (-want +got):\n%s", diff)
		}
		f.Attempts = FlowRaceGuesses
		wantFlow(t, stores[0], f, t0)
	})
}

// raceFlow calls fn from FlowRacers goroutines released together, racer i
// through stores[i%len(stores)], and returns what each got.
func raceFlow(stores []custos.FlowStore, fn func(s custos.FlowStore, i int) error) []error {
	errs := make([]error, FlowRacers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range FlowRacers {
		s := stores[i%len(stores)]
		wg.Go(func() {
			<-start
			errs[i] = fn(s, i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}
