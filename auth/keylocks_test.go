package auth

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestKeyLocks: one holder per key at a time, other keys free meanwhile, a
// wait that ends with its context, and no entry left once nobody holds or
// waits.
func TestKeyLocks(t *testing.T) {
	var k keyLocks
	ctx := context.Background()
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			unlock, err := k.lock(ctx, "a")
			if err != nil {
				t.Error(err)
				return
			}
			n := inside.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(100 * time.Microsecond)
			inside.Add(-1)
			unlock()
		})
	}
	wg.Wait()
	if most.Load() != 1 {
		t.Errorf("%d held key a at once, want 1", most.Load())
	}

	unlock, err := k.lock(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	other, err := k.lock(ctx, "b") // another key is not held up
	if err != nil {
		t.Fatal(err)
	}
	other()
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := k.lock(short, "a"); err == nil {
		t.Fatal("a second holder got key a")
	}
	unlock()
	if len(k.m) != 0 {
		t.Errorf("%d entries left, want none", len(k.m))
	}
	again, err := k.lock(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	again()
}
