package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/google/go-cmp/cmp"
)

// consumers is how many goroutines race to consume one captcha.
const consumers = 100

func newCaptcha(id string) custos.Captcha {
	return custos.Captcha{
		ID:        id,
		Digits:    []byte{0, 9, 0, 0, 7, 1}, // zero bytes included: the digits are not text
		CreatedAt: t0,
		ExpiresAt: t0.Add(10 * time.Minute),
	}
}

func mustCreateCaptcha(t *testing.T, s custos.CaptchaStore, c custos.Captcha) {
	t.Helper()
	if err := s.CreateCaptcha(t.Context(), c); err != nil {
		t.Fatalf("CreateCaptcha(%s): %v", c.ID, err)
	}
}

// wantCaptcha fails t unless got is want with its times in UTC.
func wantCaptcha(t *testing.T, what string, want, got custos.Captcha) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, diff)
	}
	if got.CreatedAt.Location() != time.UTC || got.ExpiresAt.Location() != time.UTC {
		t.Errorf("%s: times %v, %v are not in UTC", what, got.CreatedAt, got.ExpiresAt)
	}
}

// testCaptchaRoundTrip checks every field reads back as written (in UTC,
// to the millisecond) and that an id is used once.
func testCaptchaRoundTrip(t *testing.T, s custos.Store) {
	ctx := t.Context()
	c := newCaptcha("cap-round")
	in := c
	in.CreatedAt = c.CreatedAt.In(time.FixedZone("UTC-5", -5*60*60)).Add(999_999)
	in.ExpiresAt = c.ExpiresAt.In(time.FixedZone("UTC+9", 9*60*60))
	mustCreateCaptcha(t, s, in)
	got, err := s.CaptchaByID(ctx, c.ID, t0)
	if err != nil {
		t.Fatalf("CaptchaByID: %v", err)
	}
	wantCaptcha(t, "CaptchaByID", c, got)

	other := newCaptcha(c.ID)
	other.Digits = []byte{1, 2, 3, 4, 5, 6}
	wantCode(t, "CreateCaptcha(taken id)", s.CreateCaptcha(ctx, other), custos.EConflict)
	if got, err = s.CaptchaByID(ctx, c.ID, t0); err != nil {
		t.Fatalf("CaptchaByID after the conflict: %v", err)
	}
	wantCaptcha(t, "CaptchaByID after the conflict", c, got)

	_, err = s.CaptchaByID(ctx, "cap-absent", t0)
	wantCode(t, "CaptchaByID(unknown)", err, custos.ENotFound)
	_, err = s.ConsumeCaptcha(ctx, "cap-absent", t0)
	wantCode(t, "ConsumeCaptcha(unknown)", err, custos.ENotFound)
}

// testCaptchaExpiry checks a captcha is live until the millisecond before
// ExpiresAt and dead from ExpiresAt on, for reading and for consuming.
func testCaptchaExpiry(t *testing.T, s custos.Store) {
	ctx := t.Context()
	tests := []struct {
		name string
		now  time.Time
		live bool
	}{
		{"just created", t0, true},
		{"last millisecond", t0.Add(10*time.Minute - time.Millisecond), true},
		{"expires exactly now", t0.Add(10 * time.Minute), false},
		{"long expired", t0.Add(24 * time.Hour), false},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCaptcha(seq("cap-exp", i))
			mustCreateCaptcha(t, s, c)
			got, err := s.CaptchaByID(ctx, c.ID, tc.now)
			if !tc.live {
				wantCode(t, "CaptchaByID", err, custos.ENotFound)
				_, err = s.ConsumeCaptcha(ctx, c.ID, tc.now)
				wantCode(t, "ConsumeCaptcha", err, custos.ENotFound)
				// Refusing an expired captcha leaves it for
				// DeleteExpiredCaptchas, not deleted on the way.
				if _, err := s.CaptchaByID(ctx, c.ID, t0); err != nil {
					t.Errorf("CaptchaByID(while live) after the refused consume: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("CaptchaByID: %v", err)
			}
			wantCaptcha(t, "CaptchaByID", c, got)
			got, err = s.ConsumeCaptcha(ctx, c.ID, tc.now)
			if err != nil {
				t.Fatalf("ConsumeCaptcha: %v", err)
			}
			wantCaptcha(t, "ConsumeCaptcha", c, got)
		})
	}
}

// testConsumeCaptcha checks a captcha answers once.
func testConsumeCaptcha(t *testing.T, s custos.Store) {
	ctx := t.Context()
	c := newCaptcha("cap-once")
	mustCreateCaptcha(t, s, c)
	now := t0.Add(time.Minute)
	got, err := s.ConsumeCaptcha(ctx, c.ID, now)
	if err != nil {
		t.Fatalf("ConsumeCaptcha: %v", err)
	}
	wantCaptcha(t, "ConsumeCaptcha", c, got)
	_, err = s.ConsumeCaptcha(ctx, c.ID, now)
	wantCode(t, "ConsumeCaptcha(second time)", err, custos.ENotFound)
	_, err = s.CaptchaByID(ctx, c.ID, now)
	wantCode(t, "CaptchaByID(consumed)", err, custos.ENotFound)
	if n, err := s.DeleteExpiredCaptchas(ctx, t0.Add(time.Hour)); err != nil || n != 0 {
		t.Errorf("DeleteExpiredCaptchas after the consume = %d, %v; want 0, nil", n, err)
	}
}

// testConsumeCaptchaConcurrent races consumers goroutines for one captcha:
// exactly one gets it.
func testConsumeCaptchaConcurrent(t *testing.T, s custos.Store) {
	c := newCaptcha("cap-race")
	mustCreateCaptcha(t, s, c)
	results := make([]custos.Captcha, consumers)
	errs := make([]error, consumers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range consumers {
		wg.Go(func() {
			<-start
			results[i], errs[i] = s.ConsumeCaptcha(t.Context(), c.ID, t0.Add(time.Minute))
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
			wantCaptcha(t, "ConsumeCaptcha(winner)", c, results[i])
		case !custos.IsCode(err, custos.ENotFound):
			t.Errorf("consumer %d: %v, want ENotFound", i, err)
		}
	}
	if won != 1 {
		t.Errorf("%d of %d consumers got the captcha, want exactly 1", won, consumers)
	}
}

// testDeleteExpiredCaptchas checks DeleteExpiredCaptchas removes exactly
// the captchas expired at now (ExpiresAt <= now) and counts them.
func testDeleteExpiredCaptchas(t *testing.T, s custos.Store) {
	ctx := t.Context()
	expiries := []time.Duration{time.Minute, 2 * time.Minute, 2 * time.Minute, 3 * time.Minute, 10 * time.Minute}
	for i, d := range expiries {
		c := newCaptcha(seq("cap-gc", i))
		c.ExpiresAt = t0.Add(d)
		mustCreateCaptcha(t, s, c)
	}
	tests := []struct {
		now       time.Time
		want      int
		remaining []string
	}{
		{t0, 0, []string{"cap-gc-0000", "cap-gc-0001", "cap-gc-0002", "cap-gc-0003", "cap-gc-0004"}},
		{t0.Add(2*time.Minute - time.Millisecond), 1, []string{"cap-gc-0001", "cap-gc-0002", "cap-gc-0003", "cap-gc-0004"}},
		{t0.Add(2 * time.Minute), 2, []string{"cap-gc-0003", "cap-gc-0004"}},
		{t0.Add(2 * time.Minute), 0, []string{"cap-gc-0003", "cap-gc-0004"}},
		{t0.Add(time.Hour), 2, nil},
	}
	for _, tc := range tests {
		n, err := s.DeleteExpiredCaptchas(ctx, tc.now)
		if err != nil {
			t.Fatalf("DeleteExpiredCaptchas(%v): %v", tc.now, err)
		}
		if n != tc.want {
			t.Errorf("DeleteExpiredCaptchas(%v) = %d, want %d", tc.now, n, tc.want)
		}
		// Read as of long ago, so only deletion can hide a captcha.
		for _, id := range tc.remaining {
			if _, err := s.CaptchaByID(ctx, id, t0.Add(-time.Hour)); err != nil {
				t.Errorf("after DeleteExpiredCaptchas(%v): CaptchaByID(%s): %v", tc.now, id, err)
			}
		}
	}
	for i := range expiries {
		_, err := s.CaptchaByID(ctx, seq("cap-gc", i), t0.Add(-time.Hour))
		wantCode(t, "CaptchaByID after deleting all", err, custos.ENotFound)
	}
}
