package sendlimit

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/lockout"
)

// Config holds the limits. Zero fields take Default's values.
type Config struct {
	Cooldown  time.Duration // between two codes to one target for one purpose (1 min)
	PerDay    int           // codes to one target in 24 hours (10)
	PerSource int           // codes requested from one address in an hour (30)
}

// Default is the documented policy.
var Default = Config{Cooldown: time.Minute, PerDay: 10, PerSource: 30}

// Limiter checks and counts code sends.
type Limiter struct {
	store custos.CounterStore
	clock custos.Clock
	cfg   Config
}

// New returns a Limiter.
func New(store custos.CounterStore, clock custos.Clock, cfg Config) *Limiter {
	if cfg.Cooldown <= 0 {
		cfg.Cooldown = Default.Cooldown
	}
	if cfg.PerDay <= 0 {
		cfg.PerDay = Default.PerDay
	}
	if cfg.PerSource <= 0 {
		cfg.PerSource = Default.PerSource
	}
	return &Limiter{store: store, clock: clock, cfg: cfg}
}

// Cooldown is the wait between two codes to one target for one purpose.
func (l *Limiter) Cooldown() time.Duration { return l.cfg.Cooldown }

var errRefused = errors.New("refused")

// Allow counts one code to target for purpose requested from source, or
// answers ETooManyRequests with "retry_after" seconds. The three counts are
// taken one after another; a refusal by a later one gives back nothing
// already counted (a refused request still cost a little of its budget,
// which errs on the side of fewer messages).
func (l *Limiter) Allow(ctx context.Context, purpose, target, source string) error {
	now := l.clock.Now()
	checks := []struct {
		key    string
		policy lockout.Policy
		msg    string // catalogue key
	}{
		{"cool:" + purpose + ":" + target, lockout.Policy{LockAfter: 1, Window: l.cfg.Cooldown, LockFor: l.cfg.Cooldown}, "send.cooldown"},
		{"day:" + target, lockout.Policy{LockAfter: l.cfg.PerDay, Window: 24 * time.Hour}, "send.per_day"},
		{"sendsrc:" + sourceKey(source), lockout.Policy{LockAfter: l.cfg.PerSource, Window: time.Hour}, "send.per_source"},
	}
	for _, c := range checks {
		var until time.Time
		_, err := l.store.UpdateCounter(ctx, c.key, func(cur custos.Counter) (custos.Counter, error) {
			v, next, lockedUntil := c.policy.Reserve(cur, now, true)
			if v != lockout.Allow {
				until = lockedUntil
				return cur, errRefused
			}
			return next, nil
		})
		if errors.Is(err, errRefused) {
			secs := max(int(until.Sub(now).Seconds()+0.999), 1)
			return custos.Fail(custos.ETooManyRequests, c.msg, secs).With("retry_after", secs)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// sourceKey groups IPv6 clients by /64, like the login throttle.
func sourceKey(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
