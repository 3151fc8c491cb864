package main

import (
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"

	"github.com/custos/custos/password"
)

// memoryBase is what the server holds besides its hash workers' work
// areas: the runtime, the catalogues, the templates of the pages in use,
// the database pools, and the requests of as many connections as
// --max-connections lets in (about 45 KiB each while they wait).
const memoryBase = 26 << 20

// memoryLimit turns --memory-limit into the Go runtime's soft memory limit
// in bytes: "auto" makes room for every hash worker's argon2id work area
// (each worker keeps its own, so they are live heap, not garbage) plus
// memoryBase; "off" sets none (math.MaxInt64);
// otherwise a size: a whole number of bytes, or with a KiB, MiB or GiB
// suffix (K, M, G alike). The collector works harder as the heap nears the
// limit, so a burst of logins queues for the hash workers without the
// process growing past it.
func memoryLimit(spec string, p password.Params, workers int) (int64, error) {
	switch s := strings.TrimSpace(spec); s {
	case "", "auto":
		if workers <= 0 {
			workers = runtime.NumCPU()
		}
		perHash := int64(p.Memory) << 10
		return memoryBase + int64(workers)*perHash, nil
	case "off":
		return math.MaxInt64, nil
	default:
		unit := int64(1)
		num := s
		for _, u := range []struct {
			suffix string
			mult   int64
		}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}} {
			if n, ok := strings.CutSuffix(s, u.suffix); ok {
				num, unit = strings.TrimSpace(n), u.mult
				break
			}
		}
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || n <= 0 || n > math.MaxInt64/unit {
			return 0, fmt.Errorf("--memory-limit %q: want auto, off, or a size such as 256MiB", spec)
		}
		if n*unit < 32<<20 {
			return 0, fmt.Errorf("--memory-limit %q: below 32MiB the server cannot run", spec)
		}
		return n * unit, nil
	}
}
