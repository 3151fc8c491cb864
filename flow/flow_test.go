package flow_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/flow"
	"github.com/custos/custos/internal/testclock"
	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/sqlstore"
)

type state string

const (
	waiting state = "waiting"
	proven  state = "proven"
	done    state = "done"
)

type data struct {
	Note string `json:"note"`
}

var machine = flow.Machine[state, data]{
	Kind:    custos.FlowReset,
	Initial: waiting,
	Edges:   map[state][]state{waiting: {proven}, proven: {done}},
}

// other is a machine of another kind over the same states.
var other = flow.Machine[state, data]{Kind: custos.FlowRetrieval, Initial: waiting, Edges: machine.Edges}

var errGone = custos.Fail(custos.EExpired, "test.gone")

func TestMachine(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			store := testdb.Open(t, dialect)
			clock := testclock.New(time.Time{})
			f, err := machine.Begin(ctx, store, clock.Now(), flow.Spec[data]{ID: "f1", AccountID: "acc_1", Data: data{"hi"}, MaxAttempts: 2, TTL: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			got, err := machine.Load(ctx, store, "f1", clock.Now())
			if err != nil || got.State != waiting || got.Data.Note != "hi" || got.AccountID() != "acc_1" {
				t.Fatalf("Load = %+v, %v", got, err)
			}
			if _, err := other.Load(ctx, store, "f1", clock.Now()); !custos.IsCode(err, custos.ENotFound) {
				t.Errorf("another kind loads it: %v", err)
			}
			if _, err := machine.LoadIn(ctx, store, "f1", clock.Now(), errGone, proven); err != errGone {
				t.Errorf("LoadIn in the wrong state = %v, want the not-live error", err)
			}

			// A move the machine does not allow is refused before the
			// store is asked, and changes nothing.
			if err := machine.Advance(ctx, store, &f, done, clock.Now()); err == nil {
				t.Fatal("waiting → done was allowed")
			}
			if got, _ := machine.Load(ctx, store, "f1", clock.Now()); got.State != waiting {
				t.Errorf("a refused move changed the state to %s", got.State)
			}

			f.Data.Note = "proven now"
			if err := machine.Advance(ctx, store, &f, proven, clock.Now()); err != nil {
				t.Fatal(err)
			}
			// A stale copy (still "waiting") cannot move it again.
			stale, _ := machine.Load(ctx, store, "f1", clock.Now())
			stale.State = waiting
			if err := machine.Advance(ctx, store, &stale, proven, clock.Now()); !custos.IsCode(err, custos.EExpired) {
				t.Errorf("a stale transition = %v, want expired", err)
			}
			if got, _ := machine.Load(ctx, store, "f1", clock.Now()); got.State != proven || got.Data.Note != "proven now" {
				t.Errorf("after the move: %+v", got)
			}

			// Guesses are counted before they are checked, down to none.
			for want := 1; want >= 0; want-- {
				left, err := machine.Guess(ctx, store, f, clock.Now(), errGone)
				if err != nil || left != want {
					t.Fatalf("Guess = %d, %v, want %d", left, err, want)
				}
			}
			if _, err := machine.Guess(ctx, store, f, clock.Now(), errGone); err != errGone {
				t.Errorf("a guess past the limit = %v, want the dead error", err)
			}

			if !machine.Final(done) || machine.Final(proven) {
				t.Error("Final is wrong")
			}
			clock.Advance(time.Minute)
			if _, err := machine.LoadIn(ctx, store, "f1", clock.Now(), errGone, proven); err != errGone {
				t.Errorf("an expired flow loads: %v", err)
			}
			if err := machine.Advance(ctx, store, &f, done, clock.Now()); !custos.IsCode(err, custos.EExpired) {
				t.Errorf("an expired flow moves: %v", err)
			}
		})
	}
}

// TestRacingTransitions moves one flow from one state with many requests at
// once, through two store handles (two replicas): exactly one wins.
func TestRacingTransitions(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			dsn := testdb.DSN(t, dialect)
			a, b := open(t, dsn), open(t, dsn)
			now := time.Unix(1_800_000_000, 0)
			if _, err := machine.Begin(ctx, a, now, flow.Spec[data]{ID: "race", TTL: time.Hour}); err != nil {
				t.Fatal(err)
			}
			var won, lost atomic.Int32
			var wg sync.WaitGroup
			for i := range 100 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					store := a
					if i%2 == 1 {
						store = b
					}
					f, err := machine.Load(ctx, store, "race", now)
					if err != nil {
						t.Error(err)
						return
					}
					if f.State != waiting {
						lost.Add(1)
						return
					}
					switch err := machine.Advance(ctx, store, &f, proven, now); {
					case err == nil:
						won.Add(1)
					case custos.IsCode(err, custos.EExpired):
						lost.Add(1)
					default:
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			if won.Load() != 1 || lost.Load() != 99 {
				t.Errorf("won %d, lost %d; want 1 and 99", won.Load(), lost.Load())
			}
		})
	}
}

// open opens (and migrates) the database at dsn, a handle of its own.
func open(t *testing.T, dsn string) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}
