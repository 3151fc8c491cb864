package lockout_test

import (
	"testing"
	"time"

	"github.com/custos/custos/lockout"
)

var t0 = time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)

// fail applies n allowed failures one second apart starting at `at`.
func fail(t *testing.T, p lockout.Policy, s lockout.State, at time.Time, n int) lockout.State {
	t.Helper()
	for i := 0; i < n; i++ {
		v, next, _ := p.Reserve(s, at.Add(time.Duration(i)*time.Second), true)
		if v != lockout.Allow {
			t.Fatalf("failure %d refused: %v", i+1, v)
		}
		s = next
	}
	return s
}

func TestIdentifierPolicy(t *testing.T) {
	p := lockout.Identifier
	tests := []struct {
		name        string
		failures    int           // allowed failures from t0, one a second
		at          time.Duration // when the next attempt comes, after t0
		captcha     bool
		want        lockout.Verdict
		wantCount   int // failures counted after the attempt
		lockedUntil time.Time
	}{
		{name: "first failure", failures: 0, at: 0, want: lockout.Allow, wantCount: 1},
		{name: "third failure needs nothing", failures: 2, at: time.Minute, want: lockout.Allow, wantCount: 3},
		{name: "fourth needs a captcha", failures: 3, at: time.Minute, want: lockout.NeedCaptcha, wantCount: 3},
		{name: "fourth with captcha", failures: 3, at: time.Minute, captcha: true, want: lockout.Allow, wantCount: 4},
		{name: "tenth with captcha counts", failures: 9, at: time.Minute, captcha: true, want: lockout.Allow, wantCount: 10},
		{name: "eleventh is locked", failures: 10, at: time.Minute, captcha: true, want: lockout.Locked, wantCount: 10, lockedUntil: t0.Add(24 * time.Hour)},
		{name: "locked even without captcha", failures: 10, at: time.Hour, want: lockout.Locked, wantCount: 10, lockedUntil: t0.Add(24 * time.Hour)},
		{name: "locked at 23:59:59", failures: 10, at: 24*time.Hour - time.Second, captcha: true, want: lockout.Locked, wantCount: 10, lockedUntil: t0.Add(24 * time.Hour)},
		{name: "lock over at 24:00:00", failures: 10, at: 24 * time.Hour, want: lockout.Allow, wantCount: 1},
		{name: "captcha still needed at 23:59:59", failures: 3, at: 24*time.Hour - time.Second, want: lockout.NeedCaptcha, wantCount: 3},
		{name: "series over at 24:00:00", failures: 3, at: 24 * time.Hour, want: lockout.Allow, wantCount: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fail(t, p, lockout.State{}, t0, tt.failures)
			v, next, until := p.Reserve(s, t0.Add(tt.at), tt.captcha)
			if v != tt.want {
				t.Fatalf("verdict = %v, want %v", v, tt.want)
			}
			if next.Failures != tt.wantCount {
				t.Fatalf("failures = %d, want %d", next.Failures, tt.wantCount)
			}
			if !until.Equal(tt.lockedUntil) {
				t.Fatalf("locked until %v, want %v", until, tt.lockedUntil)
			}
		})
	}
}

func TestLockStartsFromFirstFailure(t *testing.T) {
	p := lockout.Identifier
	s := fail(t, p, lockout.State{}, t0, 1)
	s = fail(t, p, s, t0.Add(20*time.Hour), 9) // the 10th at 20 h
	if !s.LockedUntil.Equal(t0.Add(24 * time.Hour)) {
		t.Fatalf("locked until %v, want first failure + 24 h", s.LockedUntil)
	}
}

func TestRefund(t *testing.T) {
	p := lockout.Identifier
	t.Run("a success inside the series keeps the others", func(t *testing.T) {
		s := fail(t, p, lockout.State{}, t0, 3)
		_, reserved, _ := p.Reserve(s, t0.Add(time.Minute), true) // the right password, with a captcha
		s = p.Refund(reserved, t0.Add(time.Minute), t0.Add(time.Minute))
		if s.Failures != 3 || !s.Start.Equal(t0) {
			t.Fatalf("after success: %+v", s)
		}
		if !p.NeedsCaptcha(s, t0.Add(2*time.Minute)) {
			t.Fatal("a success erased the captcha requirement")
		}
	})
	t.Run("refunding the only attempt empties the counter", func(t *testing.T) {
		_, reserved, _ := p.Reserve(lockout.State{}, t0, false)
		if s := p.Refund(reserved, t0, t0); s != (lockout.State{}) {
			t.Fatalf("after refund: %+v", s)
		}
	})
	t.Run("refund of the tenth undoes the lock", func(t *testing.T) {
		s := fail(t, p, lockout.State{}, t0, 9)
		_, reserved, _ := p.Reserve(s, t0.Add(time.Minute), true)
		if reserved.LockedUntil.IsZero() {
			t.Fatal("tenth reservation did not lock")
		}
		s = p.Refund(reserved, t0.Add(time.Minute), t0.Add(time.Minute))
		if !s.LockedUntil.IsZero() || s.Failures != 9 {
			t.Fatalf("after refund: %+v", s)
		}
	})
	t.Run("refund into a later series does nothing", func(t *testing.T) {
		s := fail(t, p, lockout.State{}, t0.Add(25*time.Hour), 2)
		if got := p.Refund(s, t0.Add(25*time.Hour), t0); got != s {
			t.Fatalf("refund crossed series: %+v", got)
		}
	})
	t.Run("reset on success policy", func(t *testing.T) {
		q := p
		q.ResetOnSuccess = true
		s := fail(t, q, lockout.State{}, t0, 5)
		if got := q.Refund(s, t0.Add(time.Minute), t0.Add(time.Minute)); got != (lockout.State{}) {
			t.Fatalf("reset on success kept %+v", got)
		}
	})
}

func TestSourcePolicy(t *testing.T) {
	p := lockout.Source
	s := fail(t, p, lockout.State{}, t0, 30)
	if !p.NeedsCaptcha(s, t0.Add(time.Minute)) {
		t.Fatal("31st attempt from a source does not need a captcha")
	}
	s = fail(t, p, s, t0.Add(31*time.Second), 70) // the 100th at t0+100s
	lockedAt := t0.Add(100 * time.Second)
	v, _, until := p.Reserve(s, lockedAt, true)
	if v != lockout.Locked || !until.Equal(lockedAt.Add(15*time.Minute)) {
		t.Fatalf("after 100: %v until %v, want locked until %v", v, until, lockedAt.Add(15*time.Minute))
	}
	// The block outlives the 10-minute window and ends after 15 minutes.
	if v, _, _ := p.Reserve(s, lockedAt.Add(14*time.Minute), true); v != lockout.Locked {
		t.Fatalf("at 14 min: %v", v)
	}
	if v, next, _ := p.Reserve(s, lockedAt.Add(15*time.Minute), false); v != lockout.Allow || next.Failures != 1 {
		t.Fatalf("at 15 min: %v %+v", v, next)
	}
}

func TestCheckAndCount(t *testing.T) {
	p := lockout.Source
	var s lockout.State
	for i := 0; i < 30; i++ {
		if v, _ := p.Check(s, t0, false); v != lockout.Allow {
			t.Fatalf("check before failure %d: %v", i+1, v)
		}
		s = p.Count(s, t0)
	}
	if v, _ := p.Check(s, t0, false); v != lockout.NeedCaptcha {
		t.Fatalf("after 30 failures without captcha: %v", v)
	}
	if v, _ := p.Check(s, t0, true); v != lockout.Allow {
		t.Fatalf("after 30 failures with captcha: %v", v)
	}
	if s.Failures != 30 {
		t.Fatalf("Check counted: %d", s.Failures)
	}
	for i := 30; i < 100; i++ {
		s = p.Count(s, t0)
	}
	if v, until := p.Check(s, t0, true); v != lockout.Locked || !until.Equal(t0.Add(15*time.Minute)) {
		t.Fatalf("after 100: %v until %v", v, until)
	}
	if locked := p.Count(s, t0.Add(time.Minute)); locked != s {
		t.Fatalf("Count changed a locked counter: %+v", locked)
	}
}
