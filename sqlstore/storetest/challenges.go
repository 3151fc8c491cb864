package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/google/go-cmp/cmp"
)

func mustCreateChallenge(t *testing.T, s custos.Store, c custos.Challenge) {
	t.Helper()
	if err := s.CreateChallenge(t.Context(), c); err != nil {
		t.Fatalf("CreateChallenge(%s): %v", c.ID, err)
	}
}

// testConsumeChallenge checks that the right code returns every field as
// written, marked used, exactly once.
func testConsumeChallenge(t *testing.T, s custos.Store) {
	ctx := t.Context()
	a := mustCreateAccount(t, s, "acct-chal")
	withAccount := newChallenge("chal-account", "123456")
	withAccount.AccountID = a.ID
	withAccount.Target = "+8613800138000"
	noData := newChallenge("chal-nodata", "654321")
	noData.Data = nil
	noData.MaxAttempts = 1
	tests := []struct {
		name string
		c    custos.Challenge
		code string
	}{
		{"with account and data", withAccount, "123456"},
		{"before an account exists, no data", noData, "654321"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mustCreateChallenge(t, s, tc.c)
			now := t0.Add(time.Minute + 3*time.Millisecond)
			got, err := s.ConsumeChallenge(ctx, tc.c.ID, tc.c.Purpose, hash(tc.code), now)
			if err != nil {
				t.Fatalf("ConsumeChallenge: %v", err)
			}
			want := tc.c
			want.UsedAt = now
			if diff := cmp.Diff(want, got, opts); diff != "" {
				t.Errorf("ConsumeChallenge mismatch (-want +got):\n%s", diff)
			}
			_, err = s.ConsumeChallenge(ctx, tc.c.ID, tc.c.Purpose, hash(tc.code), now.Add(time.Second))
			wantCode(t, "ConsumeChallenge(used)", err, custos.EExpired)
		})
	}
}

// testConsumeChallengeErrors gives each case its own fresh challenge.
func testConsumeChallengeErrors(t *testing.T, s custos.Store) {
	ctx := t.Context()
	const code = "424242"
	tests := []struct {
		name     string
		id       string // "" to consume the case's own challenge
		purpose  string // "" for the challenge's purpose
		code     string
		now      time.Time
		wantCode string // "" for success
	}{
		{name: "unknown id", id: "chal-absent", code: code, now: t0, wantCode: custos.ENotFound},
		{name: "other purpose", purpose: "recovery", code: code, now: t0, wantCode: custos.ENotFound},
		{name: "other purpose, wrong code", purpose: "recovery", code: "000000", now: t0, wantCode: custos.ENotFound},
		{name: "wrong code", code: "000000", now: t0, wantCode: custos.EInvalidCode},
		{name: "expires exactly now", code: code, now: t0.Add(10 * time.Minute), wantCode: custos.EExpired},
		{name: "expired, wrong code", code: "000000", now: t0.Add(10 * time.Minute), wantCode: custos.EExpired},
		{name: "long expired", code: code, now: t0.Add(24 * time.Hour), wantCode: custos.EExpired},
		{name: "last millisecond", code: code, now: t0.Add(10*time.Minute - time.Millisecond)},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newChallenge(seq("chal-err", i), code)
			mustCreateChallenge(t, s, c)
			id, purpose := c.ID, c.Purpose
			if tc.id != "" {
				id = tc.id
			}
			if tc.purpose != "" {
				purpose = tc.purpose
			}
			_, err := s.ConsumeChallenge(ctx, id, purpose, hash(tc.code), tc.now)
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("ConsumeChallenge: %v", err)
				}
				return
			}
			wantCode(t, "ConsumeChallenge", err, tc.wantCode)
			if tc.wantCode == custos.ENotFound || tc.wantCode == custos.EExpired {
				// A refusal that is not a wrong code counted nothing: the
				// challenge, if live, still takes its code with 0 attempts.
				got, err := s.ConsumeChallenge(ctx, c.ID, c.Purpose, hash(code), t0)
				if err != nil {
					t.Fatalf("ConsumeChallenge(right code, afterwards): %v", err)
				}
				if got.Attempts != 0 {
					t.Errorf("Attempts = %d after a refusal, want 0", got.Attempts)
				}
			}
		})
	}
}

// testConsumeChallengeAttempts steps through wrong codes: each counts, the
// MaxAttempts-th is still EInvalidCode, and after it even the right code is
// EExpired.
func testConsumeChallengeAttempts(t *testing.T, s custos.Store) {
	ctx := t.Context()
	const right, wrong = "111111", "999999"
	t.Run("right code after some wrong ones", func(t *testing.T) {
		c := newChallenge("chal-some", right)
		c.MaxAttempts = 3
		mustCreateChallenge(t, s, c)
		for i := range 2 {
			_, err := s.ConsumeChallenge(ctx, c.ID, c.Purpose, hash(wrong), t0.Add(time.Duration(i)*time.Second))
			wantCode(t, "wrong code", err, custos.EInvalidCode)
		}
		got, err := s.ConsumeChallenge(ctx, c.ID, c.Purpose, hash(right), t0.Add(time.Minute))
		if err != nil {
			t.Fatalf("right code: %v", err)
		}
		if got.Attempts != 2 {
			t.Errorf("Attempts = %d, want 2", got.Attempts)
		}
	})
	t.Run("exhausted", func(t *testing.T) {
		c := newChallenge("chal-exhaust", right)
		c.MaxAttempts = 3
		mustCreateChallenge(t, s, c)
		steps := []struct {
			name     string
			code     string
			wantCode string
		}{
			{"wrong 1", wrong, custos.EInvalidCode},
			{"wrong 2", wrong, custos.EInvalidCode},
			{"wrong 3 (the last allowed)", wrong, custos.EInvalidCode},
			{"right code after exhaustion", right, custos.EExpired},
			{"wrong code after exhaustion", wrong, custos.EExpired},
		}
		for _, step := range steps {
			_, err := s.ConsumeChallenge(ctx, c.ID, c.Purpose, hash(step.code), t0)
			wantCode(t, step.name, err, step.wantCode)
		}
	})
}

// testConsumeChallengeConcurrent fires 100 tries at one challenge at once:
// at most MaxAttempts wrong codes count and at most one try succeeds, and
// the winner saw exactly the wrong codes answered before it.
func testConsumeChallengeConcurrent(t *testing.T, s custos.Store) {
	ctx := t.Context()
	const right, wrong, n, maxAttempts = "271828", "314159", 100, 5
	tests := []struct {
		name       string
		rightEvery int // every rightEvery-th try has the right code; 0 for none
	}{
		{"all wrong", 0},
		{"half right", 2},
		{"mostly wrong", 10},
		{"one right, last", n},
	}
	for ti, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newChallenge(seq("chal-race", ti), right)
			c.MaxAttempts = maxAttempts
			mustCreateChallenge(t, s, c)
			type result struct {
				c   custos.Challenge
				err error
			}
			results := make([]result, n)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					code := wrong
					if tc.rightEvery > 0 && (i+1)%tc.rightEvery == 0 {
						code = right
					}
					<-start
					got, err := s.ConsumeChallenge(ctx, c.ID, c.Purpose, hash(code), t0)
					results[i] = result{got, err}
				})
			}
			close(start)
			wg.Wait()
			var ok, invalid, expired int
			var won custos.Challenge
			for i, r := range results {
				switch {
				case r.err == nil:
					ok++
					won = r.c
				case custos.IsCode(r.err, custos.EInvalidCode):
					invalid++
				case custos.IsCode(r.err, custos.EExpired):
					expired++
				default:
					t.Errorf("try %d: unexpected error %v", i, r.err)
				}
			}
			t.Logf("%d succeeded, %d invalid, %d expired", ok, invalid, expired)
			if ok > 1 {
				t.Errorf("%d tries succeeded, want at most 1", ok)
			}
			if invalid > maxAttempts {
				t.Errorf("%d wrong codes counted, want at most %d", invalid, maxAttempts)
			}
			if ok == 0 && invalid != maxAttempts {
				t.Errorf("no success, but %d wrong codes counted: want exactly %d", invalid, maxAttempts)
			}
			if ok == 1 && won.Attempts != invalid {
				t.Errorf("winner saw Attempts = %d, but %d wrong codes were answered EInvalidCode", won.Attempts, invalid)
			}
			// Spent either way: used, or out of attempts.
			_, err := s.ConsumeChallenge(ctx, c.ID, c.Purpose, hash(right), t0)
			wantCode(t, "ConsumeChallenge(right code, after the race)", err, custos.EExpired)
		})
	}
}

func testCreateChallengeConflict(t *testing.T, s custos.Store) {
	ctx := t.Context()
	c := newChallenge("chal-dup", "123123")
	mustCreateChallenge(t, s, c)
	other := newChallenge("chal-dup", "999999")
	other.Target = "someone@example.test"
	wantCode(t, "CreateChallenge(duplicate id)", s.CreateChallenge(ctx, other), custos.EConflict)
	// The original is untouched: its own code still works.
	if _, err := s.ConsumeChallenge(ctx, c.ID, c.Purpose, hash("123123"), t0); err != nil {
		t.Errorf("ConsumeChallenge(original): %v", err)
	}
}

// challengeRacers is how many goroutines race on one challenge in the
// FailChallenge and UseChallenge races.
const challengeRacers = 100

// deadChallenges creates, with ids prefixed by prefix, one challenge in each
// way a challenge stops being live at t0, and returns them by name.
func deadChallenges(t *testing.T, s custos.Store, prefix string) map[string]custos.Challenge {
	t.Helper()
	ctx := t.Context()
	expired := newChallenge(prefix+"-expired", "111111")
	expired.ExpiresAt = t0 // expiry is exclusive: dead at exactly ExpiresAt
	used := newChallenge(prefix+"-used", "222222")
	exhausted := newChallenge(prefix+"-exhausted", "333333")
	exhausted.MaxAttempts = 1
	for _, c := range []custos.Challenge{expired, used, exhausted} {
		mustCreateChallenge(t, s, c)
	}
	if _, err := s.ConsumeChallenge(ctx, used.ID, used.Purpose, hash("222222"), t0.Add(-time.Second)); err != nil {
		t.Fatalf("ConsumeChallenge(%s): %v", used.ID, err)
	}
	_, err := s.ConsumeChallenge(ctx, exhausted.ID, exhausted.Purpose, hash("000000"), t0.Add(-time.Second))
	wantCode(t, "ConsumeChallenge(exhausting)", err, custos.EInvalidCode)
	return map[string]custos.Challenge{"expired": expired, "used": used, "exhausted": exhausted}
}

func testChallengeByID(t *testing.T, s custos.Store) {
	ctx := t.Context()
	live := newChallenge("chal-byid", "123456")
	live.Purpose = custos.PurposeLoginToken
	live.AccountID = "acct-byid"
	live.Attempts = 2
	mustCreateChallenge(t, s, live)
	dead := deadChallenges(t, s, "chal-byid")
	tests := []struct {
		name     string
		id       string
		purpose  string
		now      time.Time
		wantCode string
	}{
		{"live", live.ID, live.Purpose, t0, ""},
		{"last millisecond", live.ID, live.Purpose, live.ExpiresAt.Add(-time.Millisecond), ""},
		{"expires exactly now", live.ID, live.Purpose, live.ExpiresAt, custos.ENotFound},
		{"other purpose", live.ID, custos.PurposeLoginCode, t0, custos.ENotFound},
		{"unknown id", "chal-absent", live.Purpose, t0, custos.ENotFound},
		{"expired", dead["expired"].ID, custos.PurposeSignup, t0, custos.ENotFound},
		{"used", dead["used"].ID, custos.PurposeSignup, t0, custos.ENotFound},
		{"exhausted", dead["exhausted"].ID, custos.PurposeSignup, t0, custos.ENotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ChallengeByID(ctx, tc.id, tc.purpose, tc.now)
			if tc.wantCode != "" {
				wantCode(t, "ChallengeByID", err, tc.wantCode)
				return
			}
			if err != nil {
				t.Fatalf("ChallengeByID: %v", err)
			}
			if diff := cmp.Diff(live, got, opts); diff != "" {
				t.Errorf("ChallengeByID mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// testFailChallenge counts wrong attempts down to none, then EExpired; a
// refusal counts nothing.
func testFailChallenge(t *testing.T, s custos.Store) {
	ctx := t.Context()
	c := newChallenge("chal-fail", "123456")
	c.Purpose = custos.PurposeVerification
	c.MaxAttempts = 3
	mustCreateChallenge(t, s, c)
	dead := deadChallenges(t, s, "chal-fail")
	steps := []struct {
		name     string
		id       string
		purpose  string
		wantLeft int
		wantCode string
	}{
		{"other purpose", c.ID, custos.PurposeSignup, 0, custos.ENotFound},
		{"unknown id", "chal-absent", c.Purpose, 0, custos.ENotFound},
		{"first", c.ID, c.Purpose, 2, ""},
		{"second", c.ID, c.Purpose, 1, ""},
		{"the last allowed", c.ID, c.Purpose, 0, ""},
		{"exhausted", c.ID, c.Purpose, 0, custos.EExpired},
		{"expired", dead["expired"].ID, custos.PurposeSignup, 0, custos.EExpired},
		{"used", dead["used"].ID, custos.PurposeSignup, 0, custos.EExpired},
		{"exhausted by ConsumeChallenge", dead["exhausted"].ID, custos.PurposeSignup, 0, custos.EExpired},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			left, err := s.FailChallenge(ctx, st.id, st.purpose, t0)
			if st.wantCode != "" {
				wantCode(t, "FailChallenge", err, st.wantCode)
			} else if err != nil {
				t.Fatalf("FailChallenge: %v", err)
			}
			if left != st.wantLeft {
				t.Errorf("FailChallenge = %d attempts left, want %d", left, st.wantLeft)
			}
			if st.id == c.ID && st.wantLeft > 0 {
				got, err := s.ChallengeByID(ctx, c.ID, c.Purpose, t0)
				if err != nil {
					t.Fatalf("ChallengeByID: %v", err)
				}
				if got.Attempts != c.MaxAttempts-st.wantLeft {
					t.Errorf("Attempts = %d, want %d", got.Attempts, c.MaxAttempts-st.wantLeft)
				}
			}
		})
	}
	_, err := s.ChallengeByID(ctx, c.ID, c.Purpose, t0)
	wantCode(t, "ChallengeByID(exhausted)", err, custos.ENotFound)
	wantCode(t, "UseChallenge(exhausted)", s.UseChallenge(ctx, c.ID, c.Purpose, t0), custos.EExpired)
}

// testFailChallengeConcurrent races challengeRacers failures on one
// challenge: exactly MaxAttempts count, each answer of attempts left given
// once, and every other failure is EExpired.
func testFailChallengeConcurrent(t *testing.T, s custos.Store) {
	ctx := t.Context()
	c := newChallenge("chal-fail-race", "123456")
	mustCreateChallenge(t, s, c)
	lefts := make([]int, challengeRacers)
	errs := make([]error, challengeRacers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range challengeRacers {
		wg.Go(func() {
			<-start
			lefts[i], errs[i] = s.FailChallenge(ctx, c.ID, c.Purpose, t0)
		})
	}
	close(start)
	wg.Wait()
	seen := map[int]int{}
	for i, err := range errs {
		if err != nil {
			wantCode(t, "FailChallenge(after the last)", err, custos.EExpired)
			continue
		}
		seen[lefts[i]]++
	}
	want := map[int]int{}
	for left := range c.MaxAttempts {
		want[left] = 1
	}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("attempts left answered (-want +got):\n%s", diff)
	}
}

// testUseChallenge checks a live challenge is used once; a refusal changes
// nothing.
func testUseChallenge(t *testing.T, s custos.Store) {
	ctx := t.Context()
	c := newChallenge("chal-use", "123456")
	c.Purpose = custos.PurposeLoginToken
	c.Attempts = 1
	mustCreateChallenge(t, s, c)
	dead := deadChallenges(t, s, "chal-use")
	now := t0.Add(time.Minute)
	steps := []struct {
		name     string
		id       string
		purpose  string
		wantCode string
	}{
		{"other purpose", c.ID, custos.PurposeSignup, custos.ENotFound},
		{"unknown id", "chal-absent", c.Purpose, custos.ENotFound},
		{"live", c.ID, c.Purpose, ""},
		{"used already", c.ID, c.Purpose, custos.EExpired},
		{"expired", dead["expired"].ID, custos.PurposeSignup, custos.EExpired},
		{"used by ConsumeChallenge", dead["used"].ID, custos.PurposeSignup, custos.EExpired},
		{"exhausted", dead["exhausted"].ID, custos.PurposeSignup, custos.EExpired},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			err := s.UseChallenge(ctx, st.id, st.purpose, now)
			if st.wantCode != "" {
				wantCode(t, "UseChallenge", err, st.wantCode)
			} else if err != nil {
				t.Fatalf("UseChallenge: %v", err)
			}
		})
	}
	_, err := s.ChallengeByID(ctx, c.ID, c.Purpose, now)
	wantCode(t, "ChallengeByID(used)", err, custos.ENotFound)
	_, err = s.ConsumeChallenge(ctx, c.ID, c.Purpose, hash("123456"), now)
	wantCode(t, "ConsumeChallenge(used)", err, custos.EExpired)
	_, err = s.FailChallenge(ctx, c.ID, c.Purpose, now)
	wantCode(t, "FailChallenge(used)", err, custos.EExpired)
	other := newChallenge("chal-use-zero", "123456")
	mustCreateChallenge(t, s, other)
	wantPlain(t, "UseChallenge(zero time)", s.UseChallenge(ctx, other.ID, other.Purpose, time.Time{}))
	if _, err := s.ChallengeByID(ctx, other.ID, other.Purpose, t0); err != nil {
		t.Errorf("ChallengeByID after a refused use: %v", err)
	}
}

// testUseChallengeConcurrent races challengeRacers uses of one challenge:
// exactly one succeeds, every other is EExpired.
func testUseChallengeConcurrent(t *testing.T, s custos.Store) {
	ctx := t.Context()
	c := newChallenge("chal-use-race", "123456")
	c.Purpose = custos.PurposeLoginToken
	mustCreateChallenge(t, s, c)
	errs := make([]error, challengeRacers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range challengeRacers {
		wg.Go(func() {
			<-start
			errs[i] = s.UseChallenge(ctx, c.ID, c.Purpose, t0.Add(time.Duration(i+1)*time.Millisecond))
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		wantCode(t, "UseChallenge(loser)", err, custos.EExpired)
	}
	if ok != 1 {
		t.Errorf("%d uses of one challenge succeeded, want exactly 1", ok)
	}
}

func testDeleteExpiredChallenges(t *testing.T, s custos.Store) {
	ctx := t.Context()
	early := newChallenge("chal-sweep-early", "123456")
	late := newChallenge("chal-sweep-late", "123456")
	late.ExpiresAt = early.ExpiresAt.Add(time.Hour)
	mustCreateChallenge(t, s, early)
	mustCreateChallenge(t, s, late)
	if n, err := s.DeleteExpiredChallenges(ctx, early.ExpiresAt.Add(-time.Millisecond)); err != nil || n != 0 {
		t.Fatalf("before any expiry: %d, %v", n, err)
	}
	if n, err := s.DeleteExpiredChallenges(ctx, early.ExpiresAt); err != nil || n != 1 {
		t.Fatalf("at the first expiry: %d, %v; want 1", n, err)
	}
	if _, err := s.ChallengeByID(ctx, late.ID, late.Purpose, early.ExpiresAt); err != nil {
		t.Fatalf("the live challenge went too: %v", err)
	}
	if _, err := s.FailChallenge(ctx, early.ID, early.Purpose, t0); !custos.IsCode(err, custos.ENotFound) {
		t.Fatalf("the expired challenge is still there: %v", err)
	}
}
