package password

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Params is the argon2id cost: how much memory, how many passes and how many
// lanes each hash takes. It is part of every encoded hash, so a change only
// applies to new hashes; Hasher.Verify reports old ones for rehashing.
type Params struct {
	// Memory is the memory cost in KiB.
	Memory uint32
	// Time is the number of passes over the memory.
	Time uint32
	// Threads is the degree of parallelism (argon2 lanes).
	Threads uint8
}

// DefaultParams is the OWASP-recommended minimum for argon2id: 19 MiB, two
// passes, one lane.
var DefaultParams = Params{Memory: 19456, Time: 2, Threads: 1}

// Bounds accepted by ParseParams and Verify. The upper ones are far above any
// cost an online login can afford; they exist so that a typo in the config
// or a corrupt stored hash cannot make one verification allocate gigabytes
// or run for minutes.
const (
	maxMemory  = 1 << 20 // KiB, 1 GiB
	maxTime    = 64
	maxThreads = 64
)

// ErrInvalidParams is wrapped by the errors of ParseParams and of Hash or
// Verify when a cost is out of bounds.
var ErrInvalidParams = errors.New("invalid argon2id parameters")

// ParseParams parses the config form "memory,time,threads", for example
// "19456,2,1" (memory in KiB). It accepts 1 to 64 passes, 1 to 64 threads
// and 8 KiB per thread up to 1 GiB of memory. Spaces around the numbers
// are allowed.
func ParseParams(s string) (Params, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return Params{}, fmt.Errorf("%w: %q: want memory KiB,time,threads, for example %q",
			ErrInvalidParams, s, DefaultParams.String())
	}
	var n [3]uint64
	for i, name := range [3]string{"memory", "time", "threads"} {
		v, err := strconv.ParseUint(strings.TrimSpace(parts[i]), 10, 32)
		if errors.Is(err, strconv.ErrRange) {
			return Params{}, fmt.Errorf("%w: %q: %s is too large",
				ErrInvalidParams, s, name)
		}
		if err != nil {
			return Params{}, fmt.Errorf("%w: %q: %s %q is not a whole number",
				ErrInvalidParams, s, name, strings.TrimSpace(parts[i]))
		}
		n[i] = v
	}
	if n[2] > maxThreads {
		return Params{}, fmt.Errorf("%w: %q: threads must be between 1 and %d",
			ErrInvalidParams, s, maxThreads)
	}
	p := Params{Memory: uint32(n[0]), Time: uint32(n[1]), Threads: uint8(n[2])}
	if err := p.validate(); err != nil {
		return Params{}, fmt.Errorf("%w (in %q)", err, s)
	}
	return p, nil
}

// String returns p in the form ParseParams reads, "memory,time,threads".
func (p Params) String() string {
	return fmt.Sprintf("%d,%d,%d", p.Memory, p.Time, p.Threads)
}

// validate reports whether p is within the bounds documented on ParseParams.
func (p Params) validate() error {
	switch {
	case p.Threads < 1 || p.Threads > maxThreads:
		return fmt.Errorf("%w: threads %d: must be between 1 and %d",
			ErrInvalidParams, p.Threads, maxThreads)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("%w: time %d: must be between 1 and %d",
			ErrInvalidParams, p.Time, maxTime)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		return fmt.Errorf("%w: memory %d KiB: must be between %d (8 per thread) and %d",
			ErrInvalidParams, p.Memory, 8*uint32(p.Threads), maxMemory)
	}
	return nil
}
