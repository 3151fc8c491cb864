package password_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/argon2"

	"github.com/custos/custos/password"
)

// goroutineCounts are the concurrency levels of the benchmarks. Compare
// hashes/s with the HTTP login benchmark: on a machine with N cores, raw
// argon2id throughput stops growing past N goroutines, and so does logins/s.
var goroutineCounts = []int{1, 2, 8}

// parallel runs op b.N times in total, spread over exactly n goroutines
// (b.RunParallel would use a multiple of GOMAXPROCS), and reports the rate.
func parallel(b *testing.B, n int, op func()) {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range n {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				op()
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hashes/s")
}

// BenchmarkArgon2idRaw measures argon2id at DefaultParams with nothing of
// this package around it: the ceiling for logins per second.
func BenchmarkArgon2idRaw(b *testing.B) {
	p := password.DefaultParams
	salt := make([]byte, 16)
	for _, n := range goroutineCounts {
		b.Run(fmt.Sprintf("goroutines=%d", n), func(b *testing.B) {
			parallel(b, n, func() {
				argon2.IDKey([]byte("correct horse battery staple"), salt, p.Time, p.Memory, p.Threads, 32)
			})
		})
	}
}

// BenchmarkHasherVerify measures Verify through a Hasher with as many
// workers as cores, at DefaultParams, so the pool's overhead (and its
// queueing when callers outnumber workers) shows against the raw numbers.
func BenchmarkHasherVerify(b *testing.B) {
	h := password.NewHasher(password.DefaultParams, 0, byteReader(9))
	enc, err := h.Hash(context.Background(), "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range goroutineCounts {
		b.Run(fmt.Sprintf("goroutines=%d", n), func(b *testing.B) {
			parallel(b, n, func() {
				if ok, _, err := h.Verify(context.Background(), "correct horse battery staple", enc); !ok || err != nil {
					b.Errorf("Verify = %v, %v", ok, err)
				}
			})
		})
	}
}
