package password_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos/custos/password"
)

func TestHasherRoundTrip(t *testing.T) {
	h := password.NewHasher(tiny, 2, &counterReader{})
	if h.Params() != tiny {
		t.Fatalf("Params() = %+v, want %+v", h.Params(), tiny)
	}
	if got := h.Computing(); got != 0 {
		t.Errorf("Computing() = %v before any computation (the calibration is not counted); want 0", got)
	}
	start := time.Now()
	ctx := context.Background()
	enc, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !phcForm.MatchString(enc) {
		t.Fatalf("Hash = %q, not in PHC form", enc)
	}
	if ok, _, err := password.Verify("correct horse battery staple", enc); !ok || err != nil {
		t.Fatalf("package Verify of Hasher.Hash = %v, %v", ok, err)
	}
	tests := []struct {
		name   string
		pw     string
		wantOK bool
	}{
		{name: "right", pw: "correct horse battery staple", wantOK: true},
		{name: "wrong", pw: "correct horse battery stapler"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(ctx, tt.pw, enc)
			if err != nil || ok != tt.wantOK || rehash {
				t.Fatalf("Verify = %v, %v, %v; want %v, false, nil", ok, rehash, err, tt.wantOK)
			}
		})
	}
	if err := h.VerifyDummy(ctx, "anything"); err != nil {
		t.Fatalf("VerifyDummy: %v", err)
	}
	if got := h.Hashes(); got != 4 {
		t.Errorf("Hashes() = %d after Hash, 2 Verify and VerifyDummy; want 4", got)
	}
	if got := h.Computing(); got <= 0 || got > time.Since(start) {
		t.Errorf("Computing() = %v after 4 computations in %v; want more than 0, at most that", got, time.Since(start))
	}
	if q, f := h.QueueDepth(), h.InFlight(); q != 0 || f != 0 {
		t.Errorf("idle Hasher: QueueDepth %d, InFlight %d; want 0, 0", q, f)
	}
}

func TestHasherNeedsRehash(t *testing.T) {
	const pw = "correct horse"
	h := password.NewHasher(tiny, 1, &counterReader{})
	hashWith := func(p password.Params) string {
		t.Helper()
		enc, err := password.Hash(pw, p, &counterReader{})
		if err != nil {
			t.Fatal(err)
		}
		return enc
	}
	tests := []struct {
		name       string
		pw         string
		encoded    string
		wantOK     bool
		wantRehash bool
	}{
		{name: "same params", pw: pw, encoded: hashWith(tiny), wantOK: true},
		{name: "same params, other tool", pw: pw, encoded: "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$rAjuexKlLdAHLvqk7TeeiWZjW4OPoRGwldJXdHbTuKI", wantOK: true},
		{name: "other memory", pw: pw, encoded: hashWith(password.Params{Memory: 128, Time: 1, Threads: 1}), wantOK: true, wantRehash: true},
		{name: "other time", pw: pw, encoded: hashWith(password.Params{Memory: 64, Time: 2, Threads: 1}), wantOK: true, wantRehash: true},
		{name: "other threads", pw: pw, encoded: hashWith(password.Params{Memory: 64, Time: 1, Threads: 2}), wantOK: true, wantRehash: true},
		{name: "8-byte salt", pw: pw, encoded: "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$lnizTRNgy0D3lJD4Xlm+A2aXibz3GSvOOHAXUwm1P0Y", wantOK: true, wantRehash: true},
		{name: "16-byte key", pw: pw, encoded: "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$26dLPdRDe0KLFCV7qICigg", wantOK: true, wantRehash: true},
		{name: "64-byte key", pw: pw, encoded: "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$dru2T4uyR38QceW0KrOhd2bVIjEXg/vcex/l7j8g5b3hYpORlNGmLEIW+0wsAzKJo0dpsiv9Y4+AdBldr/UNaA", wantOK: true, wantRehash: true},
		// Never ask to rehash a password that did not match.
		{name: "other params, wrong password", pw: "wrong horse", encoded: hashWith(password.Params{Memory: 128, Time: 1, Threads: 1})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(context.Background(), tt.pw, tt.encoded)
			if err != nil || ok != tt.wantOK || rehash != tt.wantRehash {
				t.Fatalf("Verify = %v, %v, %v; want %v, %v, nil", ok, rehash, err, tt.wantOK, tt.wantRehash)
			}
		})
	}
}

func TestHasherErrorsCostNothing(t *testing.T) {
	tests := []struct {
		name string
		rnd  interface{ Read([]byte) (int, error) }
		run  func(*password.Hasher) error
		want error
	}{
		{
			name: "malformed hash",
			rnd:  &counterReader{},
			run: func(h *password.Hasher) error {
				_, _, err := h.Verify(context.Background(), "pw", "$argon2id$v=19$m=64,t=1,p=1$$")
				return err
			},
			want: password.ErrMalformedHash,
		},
		{
			name: "random source fails",
			rnd:  failingReader{},
			run: func(h *password.Hasher) error {
				_, err := h.Hash(context.Background(), "pw")
				return err
			},
			want: errNoRandom,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := password.NewHasher(tiny, 1, tt.rnd)
			if err := tt.run(h); !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if h.Hashes() != 0 || h.InFlight() != 0 || h.QueueDepth() != 0 {
				t.Errorf("Hashes %d, InFlight %d, QueueDepth %d; want 0, 0, 0", h.Hashes(), h.InFlight(), h.QueueDepth())
			}
		})
	}
}

func TestNewHasherPanics(t *testing.T) {
	tests := []struct {
		name string
		p    password.Params
		rnd  *counterReader
	}{
		{name: "zero params", p: password.Params{}, rnd: &counterReader{}},
		{name: "memory too small", p: password.Params{Memory: 8, Time: 1, Threads: 2}, rnd: &counterReader{}},
		{name: "nil reader", p: tiny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("NewHasher did not panic")
				}
			}()
			if tt.rnd == nil {
				password.NewHasher(tt.p, 1, nil)
			} else {
				password.NewHasher(tt.p, 1, tt.rnd)
			}
		})
	}
}

// concurrencyReader is a random source that measures how many Hash calls
// read their salt at once. The salt is read while holding a worker, so this
// is the number of computations running. The first readers wait (up to a
// second) until `full` of them are in, so the test also proves the pool
// does run that many at once; after that each read lingers a little so any
// excess would overlap.
type concurrencyReader struct {
	full int
	h    func() *password.Hasher

	mu         sync.Mutex
	cur, max   int
	maxFlight  int
	fullSignal chan struct{}
}

func (r *concurrencyReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	r.cur++
	r.max = max(r.max, r.cur)
	r.maxFlight = max(r.maxFlight, r.h().InFlight())
	if r.cur == r.full {
		select {
		case <-r.fullSignal:
		default:
			close(r.fullSignal)
		}
	}
	r.mu.Unlock()

	select {
	case <-r.fullSignal:
	case <-time.After(time.Second):
	}
	time.Sleep(time.Millisecond)

	r.mu.Lock()
	r.cur--
	r.mu.Unlock()
	return byteReader(1).Read(p)
}

func TestHasherBoundsConcurrency(t *testing.T) {
	tests := []struct {
		name        string
		workers     int
		wantWorkers int
	}{
		{name: "one", workers: 1, wantWorkers: 1},
		{name: "two", workers: 2, wantWorkers: 2},
		{name: "three", workers: 3, wantWorkers: 3},
		{name: "zero means NumCPU", workers: 0, wantWorkers: runtime.NumCPU()},
		{name: "negative means NumCPU", workers: -1, wantWorkers: runtime.NumCPU()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h *password.Hasher
			r := &concurrencyReader{full: tt.wantWorkers, h: func() *password.Hasher { return h }, fullSignal: make(chan struct{})}
			h = password.NewHasher(tiny, tt.workers, r)

			const calls = 24
			var wg sync.WaitGroup
			for range calls {
				wg.Go(func() {
					if _, err := h.Hash(context.Background(), "pw"); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()

			if r.max != tt.wantWorkers {
				t.Errorf("at most %d hashes ran at once, want exactly %d", r.max, tt.wantWorkers)
			}
			if r.maxFlight > tt.wantWorkers {
				t.Errorf("InFlight() reached %d, want at most %d", r.maxFlight, tt.wantWorkers)
			}
			if got := h.Hashes(); got != calls {
				t.Errorf("Hashes() = %d, want %d", got, calls)
			}
			if h.QueueDepth() != 0 || h.InFlight() != 0 {
				t.Errorf("after the flood: QueueDepth %d, InFlight %d; want 0, 0", h.QueueDepth(), h.InFlight())
			}
		})
	}
}

// gateReader is a random source that holds the caller (and so its worker)
// until released.
type gateReader struct {
	entered chan struct{}
	release chan struct{}
}

func (r *gateReader) Read(p []byte) (int, error) {
	r.entered <- struct{}{}
	<-r.release
	return byteReader(2).Read(p)
}

func TestHasherCancelWhileQueued(t *testing.T) {
	enc, err := password.Hash("pw", tiny, byteReader(3))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		run  func(context.Context, *password.Hasher) error
	}{
		{name: "Hash", run: func(ctx context.Context, h *password.Hasher) error {
			_, err := h.Hash(ctx, "pw")
			return err
		}},
		{name: "Verify", run: func(ctx context.Context, h *password.Hasher) error {
			_, _, err := h.Verify(ctx, "pw", enc)
			return err
		}},
		{name: "VerifyDummy", run: func(ctx context.Context, h *password.Hasher) error {
			return h.VerifyDummy(ctx, "pw")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gate := &gateReader{entered: make(chan struct{}), release: make(chan struct{})}
			h := password.NewHasher(tiny, 1, gate)

			// Occupy the only worker.
			holder := make(chan error)
			go func() {
				_, err := h.Hash(context.Background(), "holder")
				holder <- err
			}()
			<-gate.entered

			ctx, cancel := context.WithCancel(context.Background())
			queued := make(chan error)
			go func() { queued <- tt.run(ctx, h) }()
			waitFor(t, "one caller queued", func() bool { return h.QueueDepth() == 1 })
			if h.InFlight() != 1 {
				t.Errorf("InFlight() = %d while the worker is held, want 1", h.InFlight())
			}
			cancel()
			if err := <-queued; !errors.Is(err, context.Canceled) {
				t.Errorf("queued call returned %v, want context.Canceled", err)
			}
			if h.QueueDepth() != 0 {
				t.Errorf("QueueDepth() = %d after cancel, want 0", h.QueueDepth())
			}

			// A deadline while queued behaves the same.
			dctx, dcancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer dcancel()
			if err := tt.run(dctx, h); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("queued call returned %v, want context.DeadlineExceeded", err)
			}

			close(gate.release)
			if err := <-holder; err != nil {
				t.Fatalf("holder: %v", err)
			}
			if got := h.Hashes(); got != 1 {
				t.Errorf("Hashes() = %d, want 1: the cancelled calls must not compute", got)
			}
			if h.InFlight() != 0 || h.QueueDepth() != 0 {
				t.Errorf("InFlight %d, QueueDepth %d; want 0, 0", h.InFlight(), h.QueueDepth())
			}
		})
	}
}

func TestHasherEndedContextNeverRuns(t *testing.T) {
	h := password.NewHasher(tiny, 4, &counterReader{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "pw"); !errors.Is(err, context.Canceled) {
		t.Errorf("Hash: %v, want context.Canceled", err)
	}
	if _, _, err := h.Verify(ctx, "pw", "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$rAjuexKlLdAHLvqk7TeeiWZjW4OPoRGwldJXdHbTuKI"); !errors.Is(err, context.Canceled) {
		t.Errorf("Verify: %v, want context.Canceled", err)
	}
	if err := h.VerifyDummy(ctx, "pw"); !errors.Is(err, context.Canceled) {
		t.Errorf("VerifyDummy: %v, want context.Canceled", err)
	}
	if h.Hashes() != 0 {
		t.Errorf("Hashes() = %d, want 0", h.Hashes())
	}
}

// waitFor polls cond until it holds or five seconds pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 5000 {
		if cond() {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestPaceWaitsWithoutHashing(t *testing.T) {
	h := password.NewHasher(password.Params{Memory: 1024, Time: 1, Threads: 1}, 1, strings.NewReader(strings.Repeat("s", 1<<10)))
	if h.Typical() <= 0 {
		t.Fatalf("Typical() = %v after calibration, want > 0", h.Typical())
	}
	if err := h.VerifyDummy(t.Context(), "x"); err != nil {
		t.Fatal(err)
	}
	before := h.Hashes()
	want := h.Typical()
	start := time.Now()
	if err := h.Pace(t.Context()); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < want {
		t.Fatalf("Pace waited %v, less than one typical hash (%v)", waited, want)
	}
	if h.Hashes() != before {
		t.Fatalf("Pace computed a hash")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := h.Pace(ctx); err == nil {
		t.Fatal("Pace ignored a cancelled context")
	}
}

// TestHasherReusesWorkAreas: after each worker's first computation, a
// Verify or VerifyDummy at a 4 MiB cost allocates a few kilobytes, not
// the 4 MiB of its blocks (x/crypto's argon2 allocated them every time).
func TestHasherReusesWorkAreas(t *testing.T) {
	p := password.Params{Memory: 4096, Time: 1, Threads: 1}
	h := password.NewHasher(p, 2, &counterReader{})
	ctx := context.Background()
	enc, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	// Warm both workers: two computations at once take both areas.
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { h.VerifyDummy(ctx, "x") })
	}
	wg.Wait()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const n = 10
	for range n {
		if ok, _, err := h.Verify(ctx, "correct horse battery staple", enc); !ok || err != nil {
			t.Fatalf("Verify = %v, %v", ok, err)
		}
		if err := h.VerifyDummy(ctx, "wrong"); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / (2 * n); per > 64<<10 {
		t.Errorf("a computation allocated %d bytes; want under 64 KiB (its 4 MiB of blocks are the worker's)", per)
	}
}
