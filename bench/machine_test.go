package bench_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Where the machine's CPU goes during a measurement, beside what the
// server alone spends: with the database and the load generator on the
// same cores as the server's argon2id, logins ÷ raw can be no better than
// raw's machine CPU per hash ÷ the machine CPU a login takes (everything
// around its hash included), however well the work is scheduled. The
// rest of the gap is time the cores sat idle.
//
// All of it is read from /proc, and is zero where that is unreadable.

// clockTick is Linux's USER_HZ, the unit of /proc/stat and /proc/PID/stat.
const clockTick = 10 * time.Millisecond

// machineBusy returns the CPU time all cores have spent busy since boot:
// user, nice, system, irq and softirq from /proc/stat's first line (idle,
// iowait and steal are not work done here).
func machineBusy() time.Duration {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	return busyOf(raw)
}

// busyOf reads the busy time from the text of /proc/stat.
func busyOf(raw []byte) time.Duration {
	line, _, _ := bytes.Cut(raw, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 8 || f[0] != "cpu" {
		return 0
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7} { // user nice system irq softirq
		n, _ := strconv.ParseInt(f[i], 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * clockTick
}

// processCPU returns the user and system CPU time of the process whose
// /proc/PID/stat is raw.
func processCPU(raw []byte) time.Duration {
	// Fields after the command name in parentheses; utime and stime are
	// the 14th and 15th fields overall.
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(raw[i+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * clockTick
}

// commandCPU returns the CPU time used so far by every process running
// the command comm (its name in /proc/PID/stat: "postgres" for all of
// PostgreSQL's backends and helpers). A process that exits meanwhile takes
// its time with it; PostgreSQL's pooled backends and helpers live through
// a measurement.
func commandCPU(comm string) time.Duration {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	want := []byte("(" + comm + ")")
	var total time.Duration
	for _, path := range stats {
		raw, err := os.ReadFile(path)
		if err != nil || !bytes.Contains(raw, want) {
			continue
		}
		total += processCPU(raw)
	}
	return total
}
