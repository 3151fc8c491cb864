package password

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/custos/custos/password/internal/argon2id"
)

// threadNice reads the calling thread's nice value from /proc.
func threadNice(t *testing.T) int {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/self/task/%d/stat", syscall.Gettid()))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name in parentheses: nice is the 19th
	// field overall.
	f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
	n, err := strconv.Atoi(f[16])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestComputeThreadsRunLowered: a computation runs on a thread at
// computeNice, never on the caller's, and the caller's priority is left
// as it was; concurrent computations each get such a thread.
func TestComputeThreadsRunLowered(t *testing.T) {
	before := threadNice(t)
	ct := computeThreads{idle: make(chan func())}
	var mu sync.Mutex
	seen := map[int]int{} // thread id → nice
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			ct.run(func() {
				mu.Lock()
				seen[syscall.Gettid()] = threadNice(t)
				mu.Unlock()
			})
		})
	}
	wg.Wait()
	if len(seen) == 0 {
		t.Fatal("nothing ran")
	}
	for tid, nice := range seen {
		if nice != computeNice {
			t.Errorf("thread %d ran a computation at nice %d, want %d", tid, nice, computeNice)
		}
	}
	if after := threadNice(t); after != before {
		t.Errorf("the caller's thread went from nice %d to %d", before, after)
	}
	// A Hasher's computations run there too.
	h := NewHasher(Params{Memory: 64, Time: 1, Threads: 1}, 1, rand.Reader)
	var nice int
	if err := h.run(t.Context(), func(*argon2id.Memory) { nice = threadNice(t) }); err != nil {
		t.Fatal(err)
	}
	if nice != computeNice {
		t.Errorf("a Hasher computed at nice %d, want %d", nice, computeNice)
	}
}
