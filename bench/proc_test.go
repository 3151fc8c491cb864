package bench_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/auth"
	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/password"
	"github.com/custos/custos/sqlstore"
)

// The custos binary the process benchmarks start, built once per run into
// binDir (removed by TestMain).
var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

func TestMain(m *testing.M) {
	if spec := os.Getenv(rawEnv); spec != "" {
		os.Exit(rawChild(spec))
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// customBinary builds ./cmd/custos once.
func custosBinary(tb testing.TB) string {
	tb.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "custos-bench-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "custos")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/custos/custos/cmd/custos").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build ./cmd/custos: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		tb.Fatal(binErr)
	}
	return binPath
}

// proc is a custos server running as a child process, so that its memory
// (VmHWM, VmRSS) and CPU are its own, not the load generator's.
type proc struct {
	URL  string
	pid  int
	cmd  *exec.Cmd
	logs string // its log file
}

// startProc seeds a fresh database of dialect with one account per email
// (all with benchPassword hashed once at DefaultParams: setting up is not
// measured, and every login still computes its own argon2id), then starts
// `custos --dev` on a free loopback port over it with extra flags, and
// waits until /readyz answers.
func startProc(tb testing.TB, dialect string, emails []string, extra ...string) *proc {
	tb.Helper()
	bin := custosBinary(tb)
	dir := tb.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "data", "custos.db")
	if dialect == "postgres" {
		dsn = testdb.DSN(tb, dialect)
	}
	seed(tb, dsn, emails)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	logs := filepath.Join(dir, "custos.log")
	lf, err := os.Create(logs)
	if err != nil {
		tb.Fatal(err)
	}
	args := append([]string{"--dev", "--addr", addr, "--data-dir", filepath.Join(dir, "data"), "--db", dsn,
		"--argon2", password.DefaultParams.String()}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		lf.Close()
		tb.Fatal(err)
	}
	lf.Close()
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	p := &proc{URL: "http://" + addr, pid: cmd.Process.Pid, cmd: cmd, logs: logs}
	tb.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if tb.Failed() {
			raw, _ := os.ReadFile(logs)
			if len(raw) > 8192 {
				raw = raw[len(raw)-8192:]
			}
			tb.Logf("custos logs (tail):\n%s", raw)
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(p.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-done:
			raw, _ := os.ReadFile(logs)
			tb.Fatalf("custos exited before it was ready:\n%s", raw)
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatal("custos not ready after 60s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// seed migrates the database at dsn and creates a personal account per
// email, straight through the store.
func seed(tb testing.TB, dsn string, emails []string) {
	tb.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	hash, err := password.Hash(benchPassword, password.DefaultParams, rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Now()
	for _, e := range emails {
		id, err := custos.NewID(rand.Reader, "acc")
		if err != nil {
			tb.Fatal(err)
		}
		ev, err := custos.NewEvent(rand.Reader, now, custos.EventSignup, id, e, auth.Client{}, map[string]string{"kind": "personal"})
		if err != nil {
			tb.Fatal(err)
		}
		a := custos.Account{ID: id, Kind: custos.KindPersonal, Email: e, PasswordHash: hash, CreatedAt: now}
		if err := db.CreateAccount(ctx, a, ev); err != nil {
			tb.Fatal(err)
		}
	}
}

// status reads one field of /proc/PID/status, in KiB (0 when unknown).
func (p *proc) status(field string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// rssPeak tracks the server's peak resident memory over a span: the
// kernel's high-water mark (VmHWM, reset at the start through
// /proc/PID/clear_refs) or, should the reset be refused, the highest
// VmRSS sampled every 5 ms. The kernel's mark is exact and costs nothing
// meanwhile; the sampler would cost the load generator CPU on the cores
// the server is measured on, so it runs only when it is needed.
type rssPeak struct {
	p       *proc
	stop    chan struct{}
	done    chan struct{}
	sampled int64
	reset   bool
}

func (p *proc) trackPeak() *rssPeak {
	r := &rssPeak{p: p, stop: make(chan struct{}), done: make(chan struct{})}
	r.reset = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", p.pid), []byte("5"), 0) == nil
	if r.reset {
		close(r.done)
		return r
	}
	go func() {
		defer close(r.done)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			r.sampled = max(r.sampled, p.status("VmRSS"))
			select {
			case <-r.stop:
				return
			case <-t.C:
			}
		}
	}()
	return r
}

// MiB stops the tracking and returns the peak in MiB.
func (r *rssPeak) MiB() float64 {
	if !r.reset {
		close(r.stop)
	}
	<-r.done
	kib := r.sampled
	if r.reset {
		kib = max(kib, r.p.status("VmHWM"))
	}
	return float64(kib) / 1024
}

// hashing reads the server's argon2id counters from /metrics: the
// computations done so far and the time spent in them.
func (p *proc) hashing() (count float64, spent time.Duration, err error) {
	resp, err := http.Get(p.URL + "/metrics")
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	var secs float64
	found := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		switch name {
		case "custos_password_hashes_total":
			count, err = strconv.ParseFloat(v, 64)
			found++
		case "custos_password_hash_seconds_total":
			secs, err = strconv.ParseFloat(v, 64)
			found++
		}
		if err != nil {
			return 0, 0, fmt.Errorf("/metrics: %s: %v", name, err)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, 0, err
	}
	if found != 2 {
		return 0, 0, fmt.Errorf("/metrics: %d of the 2 argon2id counters", found)
	}
	return count, time.Duration(secs * float64(time.Second)), nil
}

// cpu returns the server's CPU time so far (user and system).
func (p *proc) cpu() time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid))
	if err != nil {
		return 0
	}
	return processCPU(raw)
}

// rawEnv, when set to "N DURATION IMPL", makes the test binary a raw
// argon2id process instead (rawChild): the reference BenchmarkLimits
// compares the server with runs, like the server, in a process of its own,
// so the kernel schedules both sides alike.
const rawEnv = "CUSTOS_BENCH_RAW"

// The argon2id implementations the raw reference is measured with; the
// faster of the two is the physical limit.
const (
	implXCrypto = "x-crypto" // golang.org/x/crypto/argon2.IDKey
	implCustos  = "custos"   // package password's, over a worker's reused work area
)

var rawImpls = []string{implXCrypto, implCustos}

// rawChild hashes at DefaultParams on N goroutines for DURATION with IMPL
// and prints "count elapsed-ns cpu-ns machine-busy-ns", the last being
// what all cores spent busy meanwhile (machineBusy), this process or not.
func rawChild(spec string) int {
	var n int
	var period, impl string
	if _, err := fmt.Sscan(spec, &n, &period, &impl); err != nil {
		fmt.Fprintln(os.Stderr, rawEnv, err)
		return 2
	}
	// fmt.Sscan reads a time.Duration as a bare integer of nanoseconds
	// (it would take "3s" for 3ns): parse the text as a duration.
	d, err := time.ParseDuration(period)
	if err != nil || n < 1 || d <= 0 {
		fmt.Fprintln(os.Stderr, rawEnv, "wants \"N DURATION IMPL\", got", spec, err)
		return 2
	}
	var f op
	switch impl {
	case implXCrypto:
		f = rawOp(password.DefaultParams)
	case implCustos:
		// The server's own path without the server: one computation per
		// goroutine at once, each on a worker's kept work area.
		h := password.NewHasher(password.DefaultParams, n, rand.Reader)
		f = func(int) error { return h.VerifyDummy(context.Background(), benchPassword) }
	default:
		fmt.Fprintln(os.Stderr, rawEnv, "unknown implementation", impl)
		return 2
	}
	runEach(n, f) // warm: the heap grows once, as the server's has
	cpu0, _, _ := usage()
	busy0 := machineBusy()
	// Every goroutine hashes at least once, however late a busy machine
	// starts it; the hash under way at the deadline is counted.
	var count atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	start := time.Now()
	timer := time.AfterFunc(d, func() { stop.Store(true) })
	for i := range n {
		wg.Go(func() {
			for {
				f(i)
				count.Add(1)
				if stop.Load() {
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	timer.Stop()
	cpu1, _, _ := usage()
	busy := machineBusy() - busy0
	fmt.Printf("%d %d %d %d\n", count.Load(), int64(elapsed), int64(cpu1-cpu0), int64(busy))
	return 0
}

// measureRaw runs rawChild with n goroutines for d on impl and adds its
// result.
func (s *side) measureRaw(d time.Duration, n int, impl string) error {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	// The Go runtime's defaults (no GOMEMLIMIT): raw argon2id at its
	// fastest is the physical limit. Under a memory limit x/crypto's
	// collects, and faults its fresh 19 MiB back in, far more often, and
	// would flatter the server.
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "GOMEMLIMIT=") || strings.HasPrefix(kv, "GOGC=")
	}), fmt.Sprintf("%s=%d %s %s", rawEnv, n, d, impl))
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("raw argon2id process (%s): %v", impl, err)
	}
	var count, elapsed, cpu, busy int64
	if _, err := fmt.Sscan(string(out), &count, &elapsed, &cpu, &busy); err != nil {
		return fmt.Errorf("raw argon2id process (%s): %q: %v", impl, out, err)
	}
	s.count += count
	s.elapsed += time.Duration(elapsed)
	s.cpu += time.Duration(cpu)
	s.machine += time.Duration(busy)
	return nil
}
