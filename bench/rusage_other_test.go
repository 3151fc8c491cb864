//go:build !linux

package bench_test

import "time"

// usage is unknown outside Linux.
func usage() (cpu time.Duration, faults int64, ok bool) { return 0, 0, false }
