package bench_test

import (
	"syscall"
	"time"
)

// usage returns the CPU time the process has used so far (user and
// system) and the minor page faults it has taken (memory handed over fresh
// by the kernel, or taken back and handed over again); ok is false when
// they are unknown.
func usage() (cpu time.Duration, faults int64, ok bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0, false
	}
	cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return cpu, ru.Minflt, true
}
