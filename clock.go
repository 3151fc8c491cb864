package custos

import (
	"crypto/rand"
	"io"
	"time"
)

// Clock tells the time. Every rule that depends on time takes one so tests
// can move a fake clock instead of sleeping.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real Clock. Now is UTC and truncated to milliseconds,
// the precision the stores keep, so a value read back equals the value
// written.
type SystemClock struct{}

// Now returns the current UTC time to the millisecond.
func (SystemClock) Now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// SystemRandom is the production random source (crypto/rand). Services take
// an io.Reader so tests can substitute a deterministic one.
var SystemRandom io.Reader = rand.Reader
