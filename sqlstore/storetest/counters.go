package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/google/go-cmp/cmp"
)

// Racers is how many goroutines CounterRaces sets on one counter at once.
const Racers = 200

// raceCap is where the capped race's fn stops counting.
const raceCap = 10

// mustSetCounter stores c under key, whatever was there.
func mustSetCounter(t *testing.T, s custos.CounterStore, key string, c custos.Counter) {
	t.Helper()
	if _, err := s.UpdateCounter(t.Context(), key, func(custos.Counter) (custos.Counter, error) { return c, nil }); err != nil {
		t.Fatalf("UpdateCounter(%s): %v", key, err)
	}
}

// wantCounter fails t unless the counter under key is want, both as
// GetCounter reads it and as the next UpdateCounter's fn sees it.
func wantCounter(t *testing.T, s custos.CounterStore, key string, want custos.Counter) {
	t.Helper()
	got, err := s.GetCounter(t.Context(), key)
	if err != nil {
		t.Fatalf("GetCounter(%s): %v", key, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GetCounter(%s) mismatch (-want +got):\n%s", key, diff)
	}
	wantUTC(t, "GetCounter("+key+")", got)
	// Look through fn without changing anything: the error rolls back.
	errLook := errors.New("only looking")
	_, err = s.UpdateCounter(t.Context(), key, func(c custos.Counter) (custos.Counter, error) {
		got = c
		return c, errLook
	})
	if err != errLook {
		t.Fatalf("UpdateCounter(%s) returned %v, want fn's error", key, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("UpdateCounter(%s) fn saw (-want +got):\n%s", key, diff)
	}
}

// wantUTC fails t unless c's set times are in UTC (cmp compares instants
// only).
func wantUTC(t *testing.T, what string, c custos.Counter) {
	t.Helper()
	for _, tm := range []time.Time{c.Start, c.LockedUntil} {
		if !tm.IsZero() && tm.Location() != time.UTC {
			t.Errorf("%s: time %v is not in UTC", what, tm)
		}
	}
}

// testCounterRoundTrip stores counters with every mix of set and zero
// times: zero reads back zero, anything else in UTC to the millisecond.
func testCounterRoundTrip(t *testing.T, s custos.Store) {
	east := time.FixedZone("UTC+8", 8*60*60)
	tests := []struct {
		name string
		in   custos.Counter
		want custos.Counter // in, unless set
	}{
		{name: "every field", in: custos.Counter{Start: t0, Failures: 3, LockedUntil: t0.Add(15 * time.Minute)}},
		{name: "not locked", in: custos.Counter{Start: t0, Failures: 1}},
		{name: "locked, no start", in: custos.Counter{Failures: 5, LockedUntil: t0.Add(time.Hour)}},
		{name: "failures only", in: custos.Counter{Failures: 2}},
		{name: "no failures, locked", in: custos.Counter{Start: t0, LockedUntil: t0.Add(time.Minute)}},
		{name: "the epoch is a time, not zero", in: custos.Counter{Start: time.UnixMilli(0).UTC(), Failures: 1, LockedUntil: time.UnixMilli(0).UTC()}},
		{
			name: "other zone, below a millisecond",
			in:   custos.Counter{Start: t0.In(east).Add(1_234_567), Failures: 4, LockedUntil: t0.In(east).Add(time.Hour + 999_999)},
			want: custos.Counter{Start: t0.Add(time.Millisecond), Failures: 4, LockedUntil: t0.Add(time.Hour)},
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := seq("id:round", i) + "@example.test"
			want := tc.want
			if want == (custos.Counter{}) {
				want = tc.in
			}
			got, err := s.UpdateCounter(t.Context(), key, func(c custos.Counter) (custos.Counter, error) {
				if c != (custos.Counter{}) {
					return c, fmt.Errorf("fn got %+v for a new key, want the zero Counter", c)
				}
				return tc.in, nil
			})
			if err != nil {
				t.Fatalf("UpdateCounter: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("UpdateCounter returned (-want +got):\n%s", diff)
			}
			wantUTC(t, "UpdateCounter", got)
			wantCounter(t, s, key, want)
		})
	}
	t.Run("absent", func(t *testing.T) {
		wantCounter(t, s, "src:192.0.2.99", custos.Counter{})
	})
}

// testCounterFnError checks an error from fn comes back as it is and
// changes nothing, whether or not the counter existed.
func testCounterFnError(t *testing.T, s custos.Store) {
	before := custos.Counter{Start: t0, Failures: 7, LockedUntil: t0.Add(5 * time.Minute)}
	tests := []struct {
		name   string
		exists bool
		err    error
	}{
		{"existing counter, custos error", true, custos.Errorf(custos.EAccountLocked, "locked")},
		{"existing counter, plain error", true, errors.New("fn failed")},
		{"new key, custos error", false, custos.Errorf(custos.ETooManyRequests, "slow down")},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := seq("id:fnerr", i)
			want := custos.Counter{}
			if tc.exists {
				mustSetCounter(t, s, key, before)
				want = before
			}
			got, err := s.UpdateCounter(t.Context(), key, func(c custos.Counter) (custos.Counter, error) {
				// A result that would change the row, had fn not failed.
				return custos.Counter{Start: t0.Add(time.Hour), Failures: c.Failures + 1}, tc.err
			})
			if err != tc.err {
				t.Errorf("UpdateCounter error = %#v, want fn's own error %#v", err, tc.err)
			}
			if got != (custos.Counter{}) {
				t.Errorf("UpdateCounter returned %+v with its error, want the zero Counter", got)
			}
			wantCounter(t, s, key, want)
		})
	}
}

// testCounterZeroDeletes checks a zero result leaves no counter behind.
func testCounterZeroDeletes(t *testing.T, s custos.Store) {
	tests := []struct {
		name   string
		result custos.Counter
	}{
		{"zero Counter", custos.Counter{}},
		{"zero times in another zone", custos.Counter{Start: time.Time{}.In(time.FixedZone("X", 3600)), LockedUntil: time.Time{}.In(time.FixedZone("Y", -3600))}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := seq("id:zero", i)
			mustSetCounter(t, s, key, custos.Counter{Start: t0, Failures: 10, LockedUntil: t0.Add(time.Hour)})
			got, err := s.UpdateCounter(t.Context(), key, func(custos.Counter) (custos.Counter, error) { return tc.result, nil })
			if err != nil {
				t.Fatalf("UpdateCounter: %v", err)
			}
			if got != (custos.Counter{}) {
				t.Errorf("UpdateCounter returned %+v, want the zero Counter", got)
			}
			wantCounter(t, s, key, custos.Counter{})
			// Counting starts again from nothing.
			mustSetCounter(t, s, key, custos.Counter{Start: t0.Add(time.Hour), Failures: 1})
			wantCounter(t, s, key, custos.Counter{Start: t0.Add(time.Hour), Failures: 1})
		})
	}
}

// testResetCounter checks a reset deletes the counter and writes its event
// in one transaction, and writes the event when there was no counter.
func testResetCounter(t *testing.T, s custos.Store) {
	ctx := t.Context()
	const acct = "acct-unlock"
	key := "id:" + acct + "@example.test"
	locked := custos.Counter{Start: t0, Failures: 10, LockedUntil: t0.Add(time.Hour)}
	mustSetCounter(t, s, key, locked)

	ev1 := newEvent("ev-unlock-1", acct, custos.EventLoginUnlocked, t0.Add(time.Minute))
	if err := s.ResetCounter(ctx, key, ev1); err != nil {
		t.Fatalf("ResetCounter: %v", err)
	}
	wantCounter(t, s, key, custos.Counter{})

	ev2 := newEvent("ev-unlock-2", acct, custos.EventLoginUnlocked, t0.Add(2*time.Minute))
	if err := s.ResetCounter(ctx, key, ev2); err != nil {
		t.Fatalf("ResetCounter(no counter): %v", err)
	}

	// A taken event id fails the reset as a whole: the counter stays.
	mustSetCounter(t, s, key, locked)
	err := s.ResetCounter(ctx, key, newEvent("ev-unlock-2", acct, custos.EventLoginUnlocked, t0.Add(3*time.Minute)))
	wantCode(t, "ResetCounter(taken event id)", err, custos.EConflict)
	wantCounter(t, s, key, locked)
	wantEvents(t, s, acct, ev2, ev1)
}

// testCounterRaces runs CounterRaces on the one store.
func testCounterRaces(t *testing.T, s custos.Store) {
	CounterRaces(t, s)
}

// CounterRaces sets Racers goroutines at once on one counter, spread over
// stores (handles on one database, as replicas would be), and checks every
// update applied one after another: none lost, none seen twice.
func CounterRaces(t *testing.T, stores ...custos.CounterStore) {
	if len(stores) == 0 {
		t.Fatal("CounterRaces needs a store")
	}
	t.Run("Capped", func(t *testing.T) {
		// Count only while under the cap, the shape of a lockout check.
		errFull := custos.Errorf(custos.EAccountLocked, "counted enough")
		results, errs := race(t, stores, "id:capped@example.test", func(c custos.Counter) (custos.Counter, error) {
			if c.Failures >= raceCap {
				return custos.Counter{}, errFull
			}
			if c.Start.IsZero() {
				c.Start = t0
			}
			c.Failures++
			return c, nil
		})
		var seen []int
		full := 0
		for i, err := range errs {
			switch {
			case err == nil:
				seen = append(seen, results[i].Failures)
			case err == errFull:
				full++
			default:
				t.Errorf("racer %d: %v", i, err)
			}
		}
		wantSerial(t, seen, raceCap)
		if full != Racers-raceCap {
			t.Errorf("%d racers got fn's error, want %d", full, Racers-raceCap)
		}
		wantCounter(t, stores[0], "id:capped@example.test", custos.Counter{Start: t0, Failures: raceCap})
	})
	t.Run("Increment", func(t *testing.T) {
		results, errs := race(t, stores, "src:198.51.100.1", func(c custos.Counter) (custos.Counter, error) {
			c.Failures++
			return c, nil
		})
		var seen []int
		for i, err := range errs {
			if err != nil {
				t.Errorf("racer %d: %v", i, err)
				continue
			}
			seen = append(seen, results[i].Failures)
		}
		wantSerial(t, seen, Racers)
		wantCounter(t, stores[0], "src:198.51.100.1", custos.Counter{Failures: Racers})
	})
	t.Run("CreateDelete", func(t *testing.T) {
		// Every other update deletes the row the next one must create, the
		// case a row lock alone cannot cover.
		results, errs := race(t, stores, "id:toggle@example.test", func(c custos.Counter) (custos.Counter, error) {
			if c.Failures == 0 {
				return custos.Counter{Start: t0, Failures: 1}, nil
			}
			return custos.Counter{}, nil
		})
		created := 0
		for i, err := range errs {
			switch {
			case err != nil:
				t.Errorf("racer %d: %v", i, err)
			case results[i].Failures == 1:
				created++
			}
		}
		if created != Racers/2 {
			t.Errorf("%d racers created the counter, want %d (each update must see the one before)", created, Racers/2)
		}
		wantCounter(t, stores[0], "id:toggle@example.test", custos.Counter{})
	})
	t.Run("Swap", func(t *testing.T) { swapRaces(t, stores) })
}

// testGetCounters: two counters in one read, each as GetCounter reads
// it, the zero Counter for a key with none, and one key twice alike.
func testGetCounters(t *testing.T, s custos.Store) {
	ctx := t.Context()
	const a, b = "src:203.0.113.9", "id:pair@example.test"
	set := custos.Counter{Start: t0, Failures: 4, LockedUntil: t0.Add(time.Hour)}
	check := func(what, ka, kb string, wantA, wantB custos.Counter) {
		t.Helper()
		gotA, gotB, err := s.GetCounters(ctx, ka, kb)
		if err != nil {
			t.Fatalf("GetCounters(%s): %v", what, err)
		}
		if diff := cmp.Diff([]custos.Counter{wantA, wantB}, []custos.Counter{gotA, gotB}); diff != "" {
			t.Errorf("GetCounters(%s) (-want +got):\n%s", what, diff)
		}
		wantUTC(t, "GetCounters("+what+")", gotA)
		wantUTC(t, "GetCounters("+what+")", gotB)
	}
	check("neither", a, b, custos.Counter{}, custos.Counter{})
	mustSetCounter(t, s, b, set)
	check("the second", a, b, custos.Counter{}, set)
	check("the first", b, a, set, custos.Counter{})
	only := custos.Counter{Failures: 1}
	mustSetCounter(t, s, a, only)
	check("both", a, b, only, set)
	check("one twice", b, b, set, set)
}

// testSwapCounter: a swap stores its value only over the one it names
// (none, for the zero Counter), returns it as stored, and leaves the
// counter alone otherwise.
func testSwapCounter(t *testing.T, s custos.Store) {
	ctx := t.Context()
	const key = "id:swap@example.test"
	east := time.FixedZone("UTC+8", 8*3600)
	first := custos.Counter{Start: t0.In(east).Add(1500 * time.Microsecond), Failures: 1}
	stored, ok, err := s.SwapCounter(ctx, key, custos.Counter{}, first)
	if err != nil || !ok {
		t.Fatalf("SwapCounter(none → first) = %v, %v; want swapped", ok, err)
	}
	want := custos.Counter{Start: t0.Add(time.Millisecond), Failures: 1}
	if diff := cmp.Diff(want, stored); diff != "" {
		t.Errorf("SwapCounter returned (-want +got):\n%s", diff)
	}
	wantUTC(t, "SwapCounter", stored)
	wantCounter(t, s, key, want)

	// From none again: there is one now.
	if _, ok, err := s.SwapCounter(ctx, key, custos.Counter{}, custos.Counter{Failures: 7}); err != nil || ok {
		t.Errorf("SwapCounter(none → …) over a counter = %v, %v; want not swapped", ok, err)
	}
	// From a value it no longer has, column by column.
	for _, stale := range []custos.Counter{
		{Start: t0.Add(time.Millisecond), Failures: 2},
		{Start: t0, Failures: 1},
		{Failures: 1},
		{Start: t0.Add(time.Millisecond), Failures: 1, LockedUntil: t0},
	} {
		if _, ok, err := s.SwapCounter(ctx, key, stale, custos.Counter{Failures: 9}); err != nil || ok {
			t.Errorf("SwapCounter(%+v → …) = %v, %v; want not swapped", stale, ok, err)
		}
		if _, ok, err := s.SwapCounter(ctx, key, stale, custos.Counter{}); err != nil || ok {
			t.Errorf("SwapCounter(%+v → none) = %v, %v; want not swapped", stale, ok, err)
		}
	}
	wantCounter(t, s, key, want)

	// From the value as it was given (stored, it is the same): an update.
	locked := custos.Counter{Start: t0.Add(time.Millisecond), Failures: 2, LockedUntil: t0.Add(time.Hour)}
	if _, ok, err := s.SwapCounter(ctx, key, first, locked); err != nil || !ok {
		t.Fatalf("SwapCounter(first → locked) = %v, %v; want swapped", ok, err)
	}
	wantCounter(t, s, key, locked)
	// To none: the row goes.
	if _, ok, err := s.SwapCounter(ctx, key, locked, custos.Counter{}); err != nil || !ok {
		t.Fatalf("SwapCounter(locked → none) = %v, %v; want swapped", ok, err)
	}
	wantCounter(t, s, key, custos.Counter{})
	if _, ok, err := s.SwapCounter(ctx, key, locked, custos.Counter{Failures: 1}); err != nil || ok {
		t.Errorf("SwapCounter(locked → …) with no counter = %v, %v; want not swapped", ok, err)
	}
	// None to none: true while there is none.
	if _, ok, err := s.SwapCounter(ctx, key, custos.Counter{}, custos.Counter{}); err != nil || !ok {
		t.Errorf("SwapCounter(none → none) = %v, %v; want swapped", ok, err)
	}
	wantCounter(t, s, key, custos.Counter{})
}

// swapRaces sets Racers goroutines at once on one counter with
// SwapCounter, spread over stores: from one value read by all, exactly
// one swap wins; incrementing with read-and-swap until it takes, every
// racer's value is one more than another's and none is lost.
func swapRaces(t *testing.T, stores []custos.CounterStore) {
	t.Run("OneWinner", func(t *testing.T) {
		const key = "id:swap-one@example.test"
		mustSetCounter(t, stores[0], key, custos.Counter{Start: t0, Failures: 3})
		old := custos.Counter{Start: t0, Failures: 3}
		var mu sync.Mutex
		won := 0
		racers(stores, func(i int, s custos.CounterStore) {
			_, ok, err := s.SwapCounter(t.Context(), key, old, custos.Counter{Start: t0, Failures: 4 + i})
			if err != nil {
				t.Errorf("racer %d: %v", i, err)
			}
			if ok {
				mu.Lock()
				won++
				mu.Unlock()
			}
		})
		if won != 1 {
			t.Errorf("%d swaps from one value took, want 1", won)
		}
	})
	t.Run("Increment", func(t *testing.T) {
		const key = "src:198.51.100.2"
		seen := make([]int, Racers)
		racers(stores, func(i int, s custos.CounterStore) {
			for {
				cur, err := s.GetCounter(t.Context(), key)
				if err != nil {
					t.Errorf("racer %d: %v", i, err)
					return
				}
				next := cur
				next.Failures++
				stored, ok, err := s.SwapCounter(t.Context(), key, cur, next)
				if err != nil {
					t.Errorf("racer %d: %v", i, err)
					return
				}
				if ok {
					seen[i] = stored.Failures
					return
				}
			}
		})
		wantSerial(t, seen, Racers)
		wantCounter(t, stores[0], key, custos.Counter{Failures: Racers})
	})
}

// racers runs f from Racers goroutines released together, racer i with
// stores[i%len(stores)].
func racers(stores []custos.CounterStore, f func(i int, s custos.CounterStore)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range Racers {
		s := stores[i%len(stores)]
		wg.Go(func() {
			<-start
			f(i, s)
		})
	}
	close(start)
	wg.Wait()
}

// race calls UpdateCounter(key, fn) from Racers goroutines released
// together, racer i through stores[i%len(stores)], and returns what each
// got.
func race(t *testing.T, stores []custos.CounterStore, key string, fn func(custos.Counter) (custos.Counter, error)) ([]custos.Counter, []error) {
	t.Helper()
	results := make([]custos.Counter, Racers)
	errs := make([]error, Racers)
	racers(stores, func(i int, s custos.CounterStore) {
		results[i], errs[i] = s.UpdateCounter(t.Context(), key, fn)
	})
	return results, errs
}

// wantSerial fails t unless the successful updates returned 1, 2, … n, each
// once: every update saw the one before it.
func wantSerial(t *testing.T, seen []int, n int) {
	t.Helper()
	slices.Sort(seen)
	want := make([]int, n)
	for i := range want {
		want[i] = i + 1
	}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("Failures returned by the successful updates (-want +got):\n%s", diff)
	}
}
