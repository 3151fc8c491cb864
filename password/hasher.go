package password

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/custos/custos/password/internal/argon2id"
)

// Hasher runs Hash and Verify on at most a fixed number of workers at once.
// Every argon2id computation holds Params.Memory KiB for its duration, so
// bounding concurrency bounds memory: under a flood of logins, callers wait
// in line (or give up when their context ends) instead of the process
// allocating without limit. Each worker owns its argon2id work area for
// the Hasher's lifetime (Params.Memory KiB, taken at its first
// computation), so a computation allocates nothing of that size and the
// heap does not churn by it per login. A Hasher is safe for concurrent use.
type Hasher struct {
	params Params
	rnd    io.Reader
	// workers holds one work area per worker not computing: taking one
	// is taking a worker.
	workers chan *argon2id.Memory
	dummy   decoded // VerifyDummy's target, shaped like a real hash

	waiting  atomic.Int64
	inFlight atomic.Int64
	hashes   atomic.Uint64
	computed atomic.Int64 // nanoseconds spent computing, all workers together
	// typical is a moving average of one computation's duration in
	// nanoseconds, for Pace. It measures the machine, not a rule, so it
	// reads the wall clock rather than an injected Clock.
	typical atomic.Int64
}

// NewHasher returns a Hasher that makes new hashes with p, reads salts from
// rnd, and runs at most workers computations at once (runtime.NumCPU() when
// workers ≤ 0). It panics when p is outside the bounds of ParseParams or rnd
// is nil: both are wiring mistakes to catch at start-up, not per login.
func NewHasher(p Params, workers int, rnd io.Reader) *Hasher {
	if err := p.validate(); err != nil {
		panic(fmt.Sprintf("password.NewHasher: %v", err))
	}
	if rnd == nil {
		panic("password.NewHasher: nil random source")
	}
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	h := &Hasher{
		params:  p,
		rnd:     rnd,
		workers: make(chan *argon2id.Memory, workers),
		// The dummy's salt and key need not be secret or random: its
		// answer is thrown away. Only its cost matters, and that is set by
		// the params and sizes, which are those of a fresh hash.
		dummy: decoded{params: p, salt: make([]byte, saltLen), key: make([]byte, keyLen)},
	}
	// Calibrate Pace once, uncounted, so it is right from the first request.
	start := time.Now()
	for range workers {
		h.workers <- new(argon2id.Memory)
	}
	// The calibration is the first worker's first computation: its work
	// area is made once, here, and kept.
	mem := <-h.workers
	_ = h.dummy.check(mem, "calibration")
	h.workers <- mem
	h.typical.Store(int64(time.Since(start)))
	return h
}

// Pace waits about as long as one computation takes, without computing
// anything or holding a worker: an answer refused before its password is
// checked (a lock, a missing captcha) then takes as long as a wrong
// password, yet a flood of refused attempts costs no CPU or memory. It
// returns early with ctx.Err() when ctx ends.
func (h *Hasher) Pace(ctx context.Context) error {
	t := time.NewTimer(time.Duration(h.typical.Load()))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Params returns the parameters new hashes are made with.
func (h *Hasher) Params() Params { return h.params }

// QueueDepth returns the number of callers waiting for a worker.
func (h *Hasher) QueueDepth() int { return int(h.waiting.Load()) }

// InFlight returns the number of callers holding a worker.
func (h *Hasher) InFlight() int { return int(h.inFlight.Load()) }

// Hashes returns the number of argon2id computations done so far by Hash,
// Verify and VerifyDummy together: one per call that got as far as
// computing. Tests use it to prove that no password was checked.
func (h *Hasher) Hashes() uint64 { return h.hashes.Load() }

// Computing returns the time spent computing argon2id so far, all workers
// together, over the Hashes computations: their ratio is what one costs in
// this process, beside whatever else it does.
func (h *Hasher) Computing() time.Duration { return time.Duration(h.computed.Load()) }

// Hash is the package-level Hash with the Hasher's params and random
// source, run on a worker. The salt is read while holding the worker. It
// returns ctx.Err() when ctx ends before a worker is free.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	mem, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer h.release(mem)
	salt := make([]byte, saltLen)
	if _, err := io.ReadFull(h.rnd, salt); err != nil {
		return "", fmt.Errorf("password: reading salt: %w", err)
	}
	start := time.Now()
	key := derive(mem, pw, h.params, salt, keyLen)
	h.computed.Add(int64(time.Since(start)))
	h.hashes.Add(1)
	return encode(h.params, salt, key), nil
}

// Verify is the package-level Verify run on a worker. needsRehash is true
// when pw matched but encoded was made with other params (or salt or key
// sizes) than the Hasher's, so the caller should store a fresh Hash of pw;
// it is never true when ok is false. A malformed encoded hash is reported
// at once, without waiting for a worker or computing anything. It returns
// ctx.Err() when ctx ends before a worker is free.
func (h *Hasher) Verify(ctx context.Context, pw, encoded string) (ok, needsRehash bool, err error) {
	d, err := decode(encoded)
	if err != nil {
		return false, false, err
	}
	if err := h.run(ctx, func(mem *argon2id.Memory) { ok = d.check(mem, pw) }); err != nil {
		return false, false, err
	}
	return ok, ok && !d.sameShape(h.params), nil
}

// VerifyDummy costs what a Verify of a wrong password against a hash made
// with the Hasher's params costs, and always fails to match. Call it when
// there is no account for a login name, so that the answer takes as long as
// for a wrong password and does not reveal which accounts exist. It returns
// ctx.Err() when ctx ends before a worker is free, and nil otherwise.
func (h *Hasher) VerifyDummy(ctx context.Context, pw string) error {
	return h.run(ctx, func(mem *argon2id.Memory) { _ = h.dummy.check(mem, pw) })
}

// run does one counted computation on a worker.
func (h *Hasher) run(ctx context.Context, f func(*argon2id.Memory)) error {
	mem, err := h.acquire(ctx)
	if err != nil {
		return err
	}
	defer h.release(mem)
	start := time.Now()
	f(mem)
	d := time.Since(start)
	h.observe(d)
	h.computed.Add(int64(d))
	h.hashes.Add(1)
	return nil
}

// Typical returns the moving average of one computation's duration, which
// Pace waits.
func (h *Hasher) Typical() time.Duration { return time.Duration(h.typical.Load()) }

// observe folds one computation's duration into the moving average
// (weight 1/8).
func (h *Hasher) observe(d time.Duration) {
	for {
		old := h.typical.Load()
		next := old + (int64(d)-old)/8
		if h.typical.CompareAndSwap(old, next) {
			return
		}
	}
}

// acquire takes a worker and its work area, waiting in line while all are
// busy.
func (h *Hasher) acquire(ctx context.Context) (*argon2id.Memory, error) {
	// An ended context never gets a worker, even when one is free.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var mem *argon2id.Memory
	select {
	case mem = <-h.workers:
	default:
		h.waiting.Add(1)
		select {
		case mem = <-h.workers:
			h.waiting.Add(-1)
		case <-ctx.Done():
			h.waiting.Add(-1)
			return nil, ctx.Err()
		}
	}
	h.inFlight.Add(1)
	return mem, nil
}

func (h *Hasher) release(mem *argon2id.Memory) {
	h.inFlight.Add(-1)
	h.workers <- mem
}
