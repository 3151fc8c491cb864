package lockout

import (
	"time"

	"github.com/custos/custos"
)

// Policy is a counting rule: after CaptchaAfter counted failures in a window
// every attempt needs a solved captcha; the LockAfter-th failure locks until
// the window ends (or, when LockFor is set, for LockFor from that failure).
type Policy struct {
	CaptchaAfter int           // failures allowed without a captcha (0: never needed)
	LockAfter    int           // the failure that locks
	Window       time.Duration // a series lasts this long from its first failure
	// LockFor, when set, makes a lock last this long from the locking failure
	// instead of until the series ends (the per-address throttle).
	LockFor time.Duration
	// ResetOnSuccess ends the series at a successful login. Off by default:
	// the limit is per day.
	ResetOnSuccess bool
}

// Identifier is the default policy per login identifier (R4): captcha after
// 3 wrong passwords a day, a lock after 10 until 24 h after the first.
var Identifier = Policy{CaptchaAfter: 3, LockAfter: 10, Window: 24 * time.Hour}

// Source is the default per-source-address throttle against credential
// stuffing: captcha after 30 failures in 10 minutes, refused for 15 minutes
// after 100.
var Source = Policy{CaptchaAfter: 30, LockAfter: 100, Window: 10 * time.Minute, LockFor: 15 * time.Minute}

// State is one counter as stored. The zero State is an empty counter.
type State = custos.Counter

// Verdict says what to do with an attempt.
type Verdict int

// The verdicts.
const (
	Allow       Verdict = iota // check the password; the attempt is counted
	NeedCaptcha                // refuse without checking; not counted
	Locked                     // refuse without checking; not counted
)

func (v Verdict) String() string {
	return [...]string{"allow", "need_captcha", "locked"}[v]
}

// Current returns s as it stands at now: an ended series or an expired lock
// reads as an empty counter.
func (p Policy) Current(s State, now time.Time) State {
	if !s.LockedUntil.IsZero() && !now.Before(s.LockedUntil) {
		return State{}
	}
	if s.LockedUntil.IsZero() && !s.Start.IsZero() && !now.Before(s.Start.Add(p.Window)) {
		return State{}
	}
	return s
}

// NeedsCaptcha reports whether the next attempt must carry a solved captcha.
func (p Policy) NeedsCaptcha(s State, now time.Time) bool {
	c := p.Current(s, now)
	return p.CaptchaAfter > 0 && c.Failures >= p.CaptchaAfter
}

// Reserve decides an attempt that carries (captchaSolved) or lacks a solved
// captcha. When the verdict is Allow, next is the state with the attempt
// counted; otherwise next is the current state unchanged and lockedUntil
// says when a lock ends.
func (p Policy) Reserve(s State, now time.Time, captchaSolved bool) (v Verdict, next State, lockedUntil time.Time) {
	c := p.Current(s, now)
	if !c.LockedUntil.IsZero() {
		return Locked, c, c.LockedUntil
	}
	if p.CaptchaAfter > 0 && c.Failures >= p.CaptchaAfter && !captchaSolved {
		return NeedCaptcha, c, time.Time{}
	}
	next = c
	if next.Start.IsZero() {
		next.Start = now
	}
	next.Failures++
	if next.Failures >= p.LockAfter {
		next.LockedUntil = next.Start.Add(p.Window)
		if p.LockFor > 0 {
			next.LockedUntil = now.Add(p.LockFor)
		}
	}
	return Allow, next, time.Time{}
}

// Check decides an attempt like Reserve without counting it, for a counter
// that counts only failures once they are known (Count).
func (p Policy) Check(s State, now time.Time, captchaSolved bool) (Verdict, time.Time) {
	v, _, until := p.Reserve(s, now, captchaSolved)
	return v, until
}

// Count returns s with one more failure counted (locking at LockAfter); a
// counter already locked stays as it is.
func (p Policy) Count(s State, now time.Time) State {
	_, next, _ := p.Reserve(s, now, true)
	return next
}

// Refund takes back an attempt counted by Reserve at reservedAt whose
// password was right. The refund applies only to the series it was counted
// in; with ResetOnSuccess the series ends.
func (p Policy) Refund(s State, now, reservedAt time.Time) State {
	c := p.Current(s, now)
	if p.ResetOnSuccess {
		return State{}
	}
	if c.Failures == 0 || c.Start.After(reservedAt) {
		return c // the reservation's series has already ended
	}
	c.Failures--
	c.LockedUntil = time.Time{}
	if c.Failures == 0 {
		return State{}
	}
	return c
}
