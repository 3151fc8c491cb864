#!/bin/sh
# run.sh runs the end-to-end benchmarks of package bench and keeps their
# output for benchstat.
#
#	bench/run.sh [OUTFILE [extra go test flags…]]
#
# OUTFILE defaults to ${TMPDIR:-/tmp}/custos-bench-<UTC time>.txt. The
# environment tunes it:
#
#	CUSTOS_TEST_POSTGRES  PostgreSQL URL; set it to bench that store too,
#	                      e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable
#	BENCH                 -bench pattern (default .)
#	BENCHTIME             -benchtime (default 3s)
#	COUNT                 -count (default 6: benchstat wants 6 for a 95% interval)
#	RATIO_PERIOD          how long BenchmarkLoginVsRaw measures each side (3s)
#	RATIO_ROUNDS          in how many alternating slices (6)
#
# BENCH=Limits COUNT=3 runs only the one-run table of issue 15 (BenchmarkLimits),
# with the custos binary as a child process; see bench/doc.go.
#
# Then summarise, or compare two runs:
#
#	go run golang.org/x/perf/cmd/benchstat@latest OUTFILE
#	go run golang.org/x/perf/cmd/benchstat@latest old.txt new.txt
#
# For a CPU profile add flags, e.g. bench/run.sh out.txt -cpuprofile cpu.out,
# then go tool pprof -top cpu.out.
set -eu
cd "$(dirname "$0")/.."
out=${1:-${TMPDIR:-/tmp}/custos-bench-$(date -u +%Y%m%dT%H%M%SZ).txt}
[ $# -gt 0 ] && shift
if [ -z "${CUSTOS_TEST_POSTGRES:-}" ]; then
	echo "run.sh: CUSTOS_TEST_POSTGRES is not set: SQLite only" >&2
fi
echo "run.sh: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
go test ./bench/ -run '^$' -bench "${BENCH:-.}" -benchtime "${BENCHTIME:-3s}" \
	-count "${COUNT:-6}" -timeout 2h -ratio.period "${RATIO_PERIOD:-3s}" \
	-ratio.rounds "${RATIO_ROUNDS:-6}" "$@" | tee "$out"
echo "run.sh: results in $out; summarise with" >&2
echo "  go run golang.org/x/perf/cmd/benchstat@latest $out" >&2
