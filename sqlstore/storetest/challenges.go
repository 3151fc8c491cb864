package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/google/go-cmp/cmp"
)

func mustCreateChallenge(t *testing.T, s custos.ChallengeStore, c custos.Challenge) {
	t.Helper()
	if err := s.CreateChallenge(t.Context(), c); err != nil {
		t.Fatalf("CreateChallenge(%s): %v", c.ID, err)
	}
}

// testConsumeChallenge checks that the right code returns every field as
// written, marked used, exactly once: after its use, neither the right code
// nor a wrong one is taken.
func testConsumeChallenge(t *testing.T, s custos.Store) {
	ctx := t.Context()
	a := mustCreateAccount(t, s, "acct-chal")
	withAccount := newChallenge("chal-account", "123456")
	withAccount.AccountID = a.ID
	withAccount.Target = "+8613800138000"
	oneTry := newChallenge("chal-onetry", "654321")
	oneTry.MaxAttempts = 1
	counted := newChallenge("chal-counted", "777777")
	counted.Purpose = custos.PurposeVerification
	counted.AccountID = a.ID
	counted.Attempts, counted.MaxAttempts = 2, 3
	tests := []struct {
		name string
		c    custos.Challenge
		code string
	}{
		{"with an account", withAccount, "123456"},
		{"before an account exists, one try", oneTry, "654321"},
		{"with attempts already counted", counted, "777777"},
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
			wantCode(t, "ConsumeChallenge(used, right code)", err, custos.EExpired)
			_, err = s.ConsumeChallenge(ctx, tc.c.ID, tc.c.Purpose, hash("000000"), now.Add(time.Second))
			wantCode(t, "ConsumeChallenge(used, wrong code)", err, custos.EExpired)
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
		plain    bool   // a plain error, not a *custos.Error
	}{
		{name: "unknown id", id: "chal-absent", code: code, now: t0, wantCode: custos.ENotFound},
		{name: "other purpose", purpose: "recovery", code: code, now: t0, wantCode: custos.ENotFound},
		{name: "other purpose, wrong code", purpose: "recovery", code: "000000", now: t0, wantCode: custos.ENotFound},
		{name: "wrong code", code: "000000", now: t0, wantCode: custos.EInvalidCode},
		{name: "expires exactly now", code: code, now: t0.Add(10 * time.Minute), wantCode: custos.EExpired},
		{name: "expired, wrong code", code: "000000", now: t0.Add(10 * time.Minute), wantCode: custos.EExpired},
		{name: "long expired", code: code, now: t0.Add(24 * time.Hour), wantCode: custos.EExpired},
		{name: "last millisecond", code: code, now: t0.Add(10*time.Minute - time.Millisecond)},
		// A zero now would be stored as a non-NULL used_at that reads back
		// as zero: the store refuses it with a plain error.
		{name: "zero time", code: code, plain: true},
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
			switch {
			case tc.plain:
				wantPlain(t, "ConsumeChallenge", err)
			case tc.wantCode == "":
				if err != nil {
					t.Fatalf("ConsumeChallenge: %v", err)
				}
				return
			default:
				wantCode(t, "ConsumeChallenge", err, tc.wantCode)
			}
			if tc.plain || tc.wantCode == custos.ENotFound || tc.wantCode == custos.EExpired {
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

// ChallengeRacers goroutines try codes on one challenge at once in
// ChallengeRaces; the challenge takes ChallengeRaceAttempts wrong codes.
const (
	ChallengeRacers       = 100
	ChallengeRaceAttempts = 5
)

// testConsumeChallengeConcurrent runs ChallengeRaces on the one store.
func testConsumeChallengeConcurrent(t *testing.T, s custos.Store) { ChallengeRaces(t, s) }

// ChallengeRaces fires ChallengeRacers tries at one challenge at once,
// spread over stores (handles on one database, as replicas are): at most
// one try succeeds, exactly one when every try has the right code; at most
// ChallengeRaceAttempts wrong codes count, exactly that many when none
// succeeds; the winner saw exactly the wrong codes answered before it; and
// afterwards the challenge is spent.
func ChallengeRaces(t *testing.T, stores ...custos.ChallengeStore) {
	if len(stores) == 0 {
		t.Fatal("ChallengeRaces needs a store")
	}
	ctx := t.Context()
	const right, wrong, n, maxAttempts = "271828", "314159", ChallengeRacers, ChallengeRaceAttempts
	tests := []struct {
		name       string
		rightEvery int // every rightEvery-th try has the right code; 0 for none
	}{
		{"all wrong", 0},
		{"all right", 1},
		{"half right", 2},
		{"mostly wrong", 10},
		{"one right, last", n},
	}
	for ti, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newChallenge(seq("chal-race", ti), right)
			c.MaxAttempts = maxAttempts
			mustCreateChallenge(t, stores[0], c)
			type result struct {
				c   custos.Challenge
				err error
			}
			results := make([]result, n)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				s := stores[i%len(stores)]
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
			if tc.rightEvery == 1 && ok != 1 {
				t.Errorf("%d of %d tries with the right code succeeded, want exactly 1", ok, n)
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
			_, err := stores[0].ConsumeChallenge(ctx, c.ID, c.Purpose, hash(right), t0)
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
	// A refused challenge's message is not written either; a new one's is,
	// once, with it.
	o := outboxOf(t, s)
	code := func(p, code string) custos.Message {
		return custos.Message{Channel: custos.ChannelEmail, To: p + "@example.test", Purpose: custos.MsgSignupCode, Code: code, Expires: t0.Add(10 * time.Minute)}
	}
	wantCode(t, "CreateChallenge(duplicate id)", s.CreateChallenge(ctx, other, code("chal-dup", "999999")), custos.EConflict)
	if sent := sentTo(t, o, "chal-dup"); len(sent) != 0 {
		t.Errorf("a refused challenge wrote its message: %+v", sent)
	}
	fresh := newChallenge("chal-fresh", "424242")
	if err := s.CreateChallenge(ctx, fresh, code("chal-fresh", "424242")); err != nil {
		t.Fatalf("CreateChallenge(with its message): %v", err)
	}
	if diff := cmp.Diff([]custos.Message{code("chal-fresh", "424242")}, sentTo(t, o, "chal-fresh"), opts); diff != "" {
		t.Errorf("a new challenge's message (-want +got):\n%s", diff)
	}
	// The original is untouched: its own code still works.
	if _, err := s.ConsumeChallenge(ctx, c.ID, c.Purpose, hash("123123"), t0); err != nil {
		t.Errorf("ConsumeChallenge(original): %v", err)
	}
}

// testDeleteExpiredChallenges sweeps at the first expiry: the challenge
// expiring exactly then goes (asked for, it is unknown, not expired) and
// the later one still takes its code.
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
	_, err := s.ConsumeChallenge(ctx, early.ID, early.Purpose, hash("123456"), early.ExpiresAt)
	wantCode(t, "ConsumeChallenge(the swept challenge)", err, custos.ENotFound)
	if _, err := s.ConsumeChallenge(ctx, late.ID, late.Purpose, hash("123456"), early.ExpiresAt); err != nil {
		t.Fatalf("the live challenge went too: %v", err)
	}
	if n, err := s.DeleteExpiredChallenges(ctx, early.ExpiresAt); err != nil || n != 0 {
		t.Errorf("sweeping again: %d, %v; want 0", n, err)
	}
}
