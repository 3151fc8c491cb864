package bench_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/password"
)

// rawOp returns an op that computes one argon2id key with p, as a login's
// verification does, with nothing around it.
func rawOp(p password.Params) op {
	pw, salt := []byte(benchPassword), make([]byte, 16)
	return func(int) error {
		argon2.IDKey(pw, salt, p.Time, p.Memory, p.Threads, 32)
		return nil
	}
}

// BenchmarkLogin measures full HTTP logins at DefaultParams, exactly N
// clients at once, each with an account of its own.
func BenchmarkLogin(b *testing.B) {
	for _, dialect := range testdb.Dialects() {
		b.Run("store="+dialect, func(b *testing.B) {
			env, emails := startEnv(b, dialect, password.DefaultParams, clientCounts[len(clientCounts)-1])
			for _, n := range clientCounts {
				b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
					runClients(b, n, "logins/s", loginOp(newClient(b, n), env.URL, emails))
				})
			}
		})
	}
}

// BenchmarkArgon2idRaw is the reference for BenchmarkLogin: argon2id at
// DefaultParams on the same harness.
func BenchmarkArgon2idRaw(b *testing.B) {
	for _, n := range clientCounts {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			runClients(b, n, "hashes/s", rawOp(password.DefaultParams))
		})
	}
}

// BenchmarkLoginVsRaw measures raw argon2id and then logins with N
// clients, -ratio.period each, in -ratio.rounds alternating slices (raw
// first in each, every slice after one unmeasured op per client), and
// reports the login rate as a fraction of the raw one at the same N
// (ratio). Alternating in short slices in one process makes whatever else
// loads the machine weigh on both sides about alike.
//
// With more clients than cores, raw argon2id itself slows down: N
// computations of 19 MiB each share the cores, and the heap they churn
// through keeps being returned to the kernel and faulted back in, while
// the server's Hasher runs only one computation per core. So it also
// measures raw with GOMAXPROCS goroutines, the fastest the machine hashes
// (peak-hashes/s), and reports logins/s as a fraction of that
// (ratio-vs-peak): the stricter figure.
//
// On Linux it also reports, per hash and per login, the CPU time the
// process used (raw-cpu-ms/op, login-cpu-ms/op; the login side includes
// the benchmark's own HTTP client, not PostgreSQL's server processes),
// cpu-ratio (CPU per hash at peak ÷ CPU per login) and the minor page
// faults (raw-faults/op, login-faults/op). CPU per op depends far less on
// other load on the machine than rates do, so it tells work from waiting:
// a ratio below cpu-ratio is time spent waiting (for the database, or for
// a core taken by something else). A hash whose 19 MiB are all fresh
// memory takes about 4,900 faults, which on a virtual machine can cost as
// much as the hash.
func BenchmarkLoginVsRaw(b *testing.B) {
	cores := runtime.GOMAXPROCS(0)
	for _, dialect := range testdb.Dialects() {
		b.Run("store="+dialect, func(b *testing.B) {
			env, emails := startEnv(b, dialect, password.DefaultParams, clientCounts[len(clientCounts)-1])
			for _, n := range clientCounts {
				b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
					login := loginOp(newClient(b, n), env.URL, emails)
					raw := rawOp(password.DefaultParams)
					rounds := max(*ratioRounds, 1)
					slice := *ratioPeriod / time.Duration(rounds)
					var rawR, peakR, loginR side
					for b.Loop() {
						for range rounds {
							if err := rawR.measure(slice, n, raw); err != nil {
								b.Fatal(err)
							}
							if n != cores {
								if err := peakR.measure(slice, cores, raw); err != nil {
									b.Fatal(err)
								}
							}
							if err := loginR.measure(slice, n, login); err != nil {
								b.Fatal(err)
							}
						}
					}
					if n == cores {
						peakR = rawR
					}
					b.ReportMetric(0, "ns/op") // one op is a whole comparison
					b.ReportMetric(rawR.perSecond(), "hashes/s")
					b.ReportMetric(peakR.perSecond(), "peak-hashes/s")
					b.ReportMetric(loginR.perSecond(), "logins/s")
					b.ReportMetric(loginR.perSecond()/rawR.perSecond(), "ratio")
					b.ReportMetric(loginR.perSecond()/peakR.perSecond(), "ratio-vs-peak")
					if !rawR.noUsage && !loginR.noUsage {
						b.ReportMetric(rawR.cpuPerOp(), "raw-cpu-ms/op")
						b.ReportMetric(loginR.cpuPerOp(), "login-cpu-ms/op")
						b.ReportMetric(peakR.cpuPerOp()/loginR.cpuPerOp(), "cpu-ratio")
						b.ReportMetric(rawR.faultsPerOp(), "raw-faults/op")
						b.ReportMetric(loginR.faultsPerOp(), "login-faults/op")
					}
				})
			}
		})
	}
}

// side adds up the slices of one side of BenchmarkLoginVsRaw.
type side struct {
	count   int64
	elapsed time.Duration
	cpu     time.Duration
	faults  int64
	noUsage bool // usage was unknown at least once
	// machine is what all cores spent busy during the slices
	// (machineBusy), whoever spent it; BenchmarkLimits fills it in.
	machine time.Duration
}

// measure runs f on n goroutines for d, after one unmeasured call per
// goroutine, and adds the result.
func (s *side) measure(d time.Duration, n int, f op) error {
	if err := runEach(n, f); err != nil {
		return err
	}
	cpu0, faults0, ok0 := usage()
	count, elapsed, err := runFor(d, n, f)
	cpu1, faults1, ok1 := usage()
	s.count += count
	s.elapsed += elapsed
	s.cpu += cpu1 - cpu0
	s.faults += faults1 - faults0
	s.noUsage = s.noUsage || !ok0 || !ok1
	return err
}

func (s side) perSecond() float64 { return float64(s.count) / s.elapsed.Seconds() }

func (s side) cpuPerOp() float64 {
	return float64(s.cpu) / float64(time.Millisecond) / float64(s.count)
}

func (s side) faultsPerOp() float64 { return float64(s.faults) / float64(s.count) }

// machinePerOp is the machine's busy CPU per operation, in milliseconds.
func (s side) machinePerOp() float64 {
	return float64(s.machine) / float64(time.Millisecond) / float64(s.count)
}

// busy is the share of the cores' time they spent busy during the slices.
func (s side) busy(cores int) float64 {
	return float64(s.machine) / float64(s.elapsed) / float64(cores)
}
