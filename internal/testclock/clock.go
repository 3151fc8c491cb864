// Package testclock is the fake custos.Clock tests move instead of sleeping.
package testclock

import (
	"sync"
	"time"
)

// Start is where a new test clock stands unless told otherwise.
var Start = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// Clock is a settable clock, safe for concurrent use.
type Clock struct {
	mu     sync.Mutex
	t      time.Time
	before []func()
}

// BeforeMove has f called each time before the clock moves (Advance,
// Set), outside the clock's lock. The test server drains its delivery
// queue there: what was sent before a test moves time is delivered at the
// time it was sent, as it would be when a person takes minutes and a mail
// server milliseconds.
func (c *Clock) BeforeMove(f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.before = append(c.before, f)
}

func (c *Clock) moving() {
	c.mu.Lock()
	fs := append([]func(){}, c.before...)
	c.mu.Unlock()
	for _, f := range fs {
		f()
	}
}

// New returns a clock standing at t (Start when t is zero).
func New(t time.Time) *Clock {
	if t.IsZero() {
		t = Start
	}
	return &Clock{t: t.UTC().Truncate(time.Millisecond)}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.moving()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d).Truncate(time.Millisecond)
}

// Set puts the clock at t.
func (c *Clock) Set(t time.Time) {
	c.moving()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t.UTC().Truncate(time.Millisecond)
}
