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
	Cooldown      time.Duration // between two codes to one target for one purpose (1 min)
	PerDay        int           // codes to one target in 24 hours (10)
	PerSource     int           // codes requested from one address in an hour (30)
	PerAccountSMS int           // text messages for one account in 24 hours, whatever the number (20)
	// Captchas are limited too: each is a row until it expires.
	CaptchasPerSource int // captchas made for one address in 10 minutes (300: offices share addresses)
	CaptchasPerMinute int // captchas made in a minute for all addresses together (6000): bounds the table
}

// Default is the documented policy.
var Default = Config{Cooldown: time.Minute, PerDay: 10, PerSource: 30, PerAccountSMS: 20, CaptchasPerSource: 300, CaptchasPerMinute: 6000}

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
	if cfg.PerAccountSMS <= 0 {
		cfg.PerAccountSMS = Default.PerAccountSMS
	}
	if cfg.CaptchasPerSource <= 0 {
		cfg.CaptchasPerSource = Default.CaptchasPerSource
	}
	if cfg.CaptchasPerMinute <= 0 {
		cfg.CaptchasPerMinute = Default.CaptchasPerMinute
	}
	return &Limiter{store: store, clock: clock, cfg: cfg}
}

// Cooldown is the wait between two codes to one target for one purpose.
func (l *Limiter) Cooldown() time.Duration { return l.cfg.Cooldown }

var errRefused = errors.New("refused")

// check is one count a send or a captcha takes.
type check struct {
	key    string
	policy lockout.Policy
	msg    string // catalogue key of the refusal
}

// Send is one code about to be sent.
type Send struct {
	Purpose   string // the message purpose: the cooldown is per target and purpose
	Target    string // the normalised address or number
	Source    string // the requesting client's address
	AccountID string // the account it is for, "" when none (yet)
	SMS       bool   // a text message (counted per account per day too)
}

// Catalogue keys of the refusals. Every one but keySource is about the
// target or its account, not about who asks.
const (
	keyCooldown   = "send.cooldown"
	keyPerDay     = "send.per_day"
	keyPerAccount = "send.per_account"
	keySource     = "send.per_source"
	keyCaptchas   = "captcha.too_many"
)

// Allow counts one send, or answers ETooManyRequests with "retry_after"
// seconds. The requester's address is counted first, then the account's
// text messages, then the target's cooldown and day; a refusal by a later
// count gives back nothing already counted (a refused request still cost
// a little of its budget, which errs on the side of fewer messages).
func (l *Limiter) Allow(ctx context.Context, s Send) error {
	now := l.clock.Now()
	checks := []check{{"sendsrc:" + sourceKey(s.Source), lockout.Policy{LockAfter: l.cfg.PerSource, Window: time.Hour}, keySource}}
	if s.SMS && s.AccountID != "" {
		checks = append(checks, check{"smsacct:" + s.AccountID, lockout.Policy{LockAfter: l.cfg.PerAccountSMS, Window: 24 * time.Hour}, keyPerAccount})
	}
	checks = append(checks,
		check{"cool:" + s.Purpose + ":" + s.Target, lockout.Policy{LockAfter: 1, Window: l.cfg.Cooldown, LockFor: l.cfg.Cooldown}, keyCooldown},
		check{"day:" + s.Target, lockout.Policy{LockAfter: l.cfg.PerDay, Window: 24 * time.Hour}, keyPerDay},
	)
	return l.count(ctx, now, checks)
}

// AllowCaptcha counts one captcha made for the client address source, or
// answers ETooManyRequests: at most CaptchasPerSource in 10 minutes for an
// address (IPv6 by /64), and CaptchasPerMinute for everyone together, so
// the table of live captchas stays bounded whatever the number of
// addresses.
func (l *Limiter) AllowCaptcha(ctx context.Context, source string) error {
	return l.count(ctx, l.clock.Now(), []check{
		{"capsrc:" + sourceKey(source), lockout.Policy{LockAfter: l.cfg.CaptchasPerSource, Window: 10 * time.Minute}, keyCaptchas},
		{"capall", lockout.Policy{LockAfter: l.cfg.CaptchasPerMinute, Window: time.Minute}, keyCaptchas},
	})
}

// count takes each check's count in turn; the first that refuses answers.
func (l *Limiter) count(ctx context.Context, now time.Time, checks []check) error {
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

// AboutTarget reports whether err is a refusal for the target's or its
// account's sake (not the requester's): an anonymous flow must not show
// it, or its answer would tell which identifiers belong together.
func AboutTarget(err error) bool {
	var e *custos.Error
	return errors.As(err, &e) && e.Code == custos.ETooManyRequests && (e.Key == keyCooldown || e.Key == keyPerDay || e.Key == keyPerAccount)
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
