// Package bench holds the end-to-end benchmarks of Custos: the whole
// application (app.Build via internal/testserver) on each store, measured
// from the outside, against the cost floor that no code of ours can beat.
// It has no code of its own; everything is in its _test files, and
// `go test ./bench/` (no -bench) runs only a quick smoke test that every
// request the benchmarks send gets the answer they expect.
//
// What is measured:
//
//   - BenchmarkLimits/store=S: the whole table of issue 15 in one run,
//     against the real custos binary built from ./cmd/custos and started
//     as a child process on a free loopback port (so its VmHWM/VmRSS are
//     its own, not the load generator's): logins ÷ raw argon2id at 2 and 8
//     clients (raw in a process of its own with the runtime's defaults,
//     with x/crypto's argon2id and with package password's, the faster
//     being the reference),
//     the server's peak RSS at 8 clients and during a burst of 1,000
//     simultaneous logins (one per account; all should answer 200), session
//     checks at 32 clients with their p99, the server's CPU per login
//     and per session check, and one argon2id computation's time inside
//     the server beside raw's (hash-slowdown), and where the whole
//     machine's CPU went per login (server, PostgreSQL, this load
//     generator; cpu-ceiling, the best logins ÷ raw that CPU allows, and
//     how busy the cores were on each side). It ends with one "summary"
//     line per store,
//     each figure beside its goal. See its doc comment for the flags.
//   - BenchmarkLogin/store=S/clients=N: full HTTP POST /api/v1/login with
//     the right password over real TCP (the testserver's httptest
//     listener), password.DefaultParams, exactly N client goroutines, one
//     account per client. Metric logins/s.
//   - BenchmarkArgon2idRaw/clients=N: argon2.IDKey at DefaultParams on the
//     same N-goroutine harness, nothing of ours around it: the ceiling for
//     logins/s. Metric hashes/s.
//   - BenchmarkLoginVsRaw/store=S/clients=N: in one run, raw argon2id and
//     logins for -ratio.period each (3s by default), alternating in
//     -ratio.rounds slices (6), raw first. It reports hashes/s, logins/s
//     and ratio = logins/s ÷ hashes/s, the figure the goal is about:
//     ratio ≥ 0.90 at 2 and 8 clients on both stores. With more clients
//     than cores raw argon2id slows down itself (the server's Hasher runs
//     one hash per core and does not), so it also reports peak-hashes/s
//     (raw at GOMAXPROCS goroutines) and ratio-vs-peak, the stricter
//     figure. On Linux, CPU time and minor page faults per hash and per
//     login tell work from waiting. ns/op is suppressed: one op is a
//     whole comparison.
//   - BenchmarkSessionGet/store=S: GET /api/v1/session with a bearer token
//     over real HTTP, b.RunParallel (GOMAXPROCS client goroutines). Metric
//     req/s.
//   - BenchmarkSessionGetHandler/store=S: the same request straight into
//     App.Handler.ServeHTTP with an httptest.ResponseRecorder, so ns/op and
//     allocs/op are the server's own (plus the recorder's few allocations;
//     no TCP, no client).
//
// The fake clock never moves, so GET /api/v1/session never refreshes the
// session's last-seen time: it measures the read path (token hash, one
// indexed SELECT, JSON). Store S is sqlite, and postgres when
// CUSTOS_TEST_POSTGRES names a server (see internal/testdb).
//
// How to run (bench/run.sh does this and keeps the output):
//
//	CUSTOS_TEST_POSTGRES='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' \
//	  go test ./bench/ -run '^$' -bench . -count 6 | tee bench.txt
//	go run golang.org/x/perf/cmd/benchstat@latest bench.txt
//
// Speed goals live here as ratios measured in the same run, never as timed
// assertions in tests: absolute rates depend on the machine and on whatever
// else it is doing. The benchmarks read the wall clock (time.Now, timers),
// which is what they measure; no rule of the application depends on it.
//
// Only its tests import the packages it uses (internal/testserver,
// internal/testdb, password, golang.org/x/crypto/argon2); nothing imports
// it.
package bench
