package sendlimit_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testclock"
	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/sendlimit"
)

func TestLimits(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			clock := testclock.New(time.Time{})
			l := sendlimit.New(testdb.Open(t, d), clock, sendlimit.Config{})
			ctx := context.Background()
			allow := func(purpose, target, source string) error {
				return l.Allow(ctx, sendlimit.Send{Purpose: purpose, Target: target, Source: source})
			}
			if err := allow("phone_code", "+8613800138000", "192.0.2.1"); err != nil {
				t.Fatalf("first code: %v", err)
			}
			err := allow("phone_code", "+8613800138000", "192.0.2.1")
			if !custos.IsCode(err, custos.ETooManyRequests) || err.(*custos.Error).Fields["retry_after"] != 60 {
				t.Fatalf("second code inside the minute: %v", err)
			}
			// Another purpose to the same target is not held up.
			if err := allow("retrieve_code", "+8613800138000", "192.0.2.1"); err != nil {
				t.Fatalf("another purpose: %v", err)
			}
			// Ten a day per target, whatever the purpose.
			for i := 3; i <= 10; i++ {
				clock.Advance(time.Minute)
				if err := allow("phone_code", "+8613800138000", "192.0.2."+strconv.Itoa(i)); err != nil {
					t.Fatalf("code %d: %v", i, err)
				}
			}
			clock.Advance(time.Minute)
			if err := allow("phone_code", "+8613800138000", "192.0.2.99"); !custos.IsCode(err, custos.ETooManyRequests) {
				t.Fatalf("eleventh code in a day: %v", err)
			}
			clock.Advance(24 * time.Hour)
			if err := allow("phone_code", "+8613800138000", "192.0.2.99"); err != nil {
				t.Fatalf("next day: %v", err)
			}
			// Thirty an hour per address, across targets; IPv6 by /64.
			for i := 0; i < 30; i++ {
				if err := allow("phone_code", "+1555000"+strconv.Itoa(1000+i), "2001:db8::"+strconv.Itoa(i+1)); err != nil {
					t.Fatalf("source code %d: %v", i+1, err)
				}
			}
			if err := allow("phone_code", "+15550009999", "2001:db8::ffff"); !custos.IsCode(err, custos.ETooManyRequests) {
				t.Fatalf("31st from one /64: %v", err)
			}
		})
	}
}

// TestPerAccountSMS: one account gets at most PerAccountSMS texts a day,
// whichever numbers they go to; a refusal for the target's sake says so.
func TestPerAccountSMS(t *testing.T) {
	clock := testclock.New(time.Time{})
	l := sendlimit.New(testdb.Open(t, "sqlite"), clock, sendlimit.Config{PerAccountSMS: 3})
	ctx := context.Background()
	send := func(n int) error {
		return l.Allow(ctx, sendlimit.Send{Purpose: "login_code", Target: "+155500010" + strconv.Itoa(10+n), Source: "192.0.2." + strconv.Itoa(n),
			AccountID: "acc_1", SMS: true})
	}
	for i := range 3 {
		if err := send(i); err != nil {
			t.Fatalf("text %d: %v", i+1, err)
		}
	}
	err := send(3)
	if !custos.IsCode(err, custos.ETooManyRequests) || !sendlimit.AboutTarget(err) {
		t.Fatalf("fourth text for the account: %v, want a refusal about the target", err)
	}
	// Email to the same account is not held up by its texts.
	if err := l.Allow(ctx, sendlimit.Send{Purpose: "login_code", Target: "a@example.com", Source: "192.0.2.50", AccountID: "acc_1"}); err != nil {
		t.Fatalf("an email: %v", err)
	}
	// The requester's own limit is not about the target.
	tight := sendlimit.New(testdb.Open(t, "sqlite"), clock, sendlimit.Config{PerSource: 1})
	if err := tight.Allow(ctx, sendlimit.Send{Purpose: "p", Target: "x@example.com", Source: "192.0.2.9"}); err != nil {
		t.Fatal(err)
	}
	err = tight.Allow(ctx, sendlimit.Send{Purpose: "p", Target: "y@example.com", Source: "192.0.2.9"})
	if !custos.IsCode(err, custos.ETooManyRequests) || sendlimit.AboutTarget(err) {
		t.Fatalf("second send from one address: %v, want a refusal about the requester", err)
	}
}

// TestCaptchaLimits: captchas per address, and for everyone together, so
// the table of live captchas stays bounded.
func TestCaptchaLimits(t *testing.T) {
	clock := testclock.New(time.Time{})
	l := sendlimit.New(testdb.Open(t, "sqlite"), clock, sendlimit.Config{CaptchasPerSource: 3, CaptchasPerMinute: 5})
	ctx := context.Background()
	for i := range 3 {
		if err := l.AllowCaptcha(ctx, "2001:db8::"+strconv.Itoa(i+1)); err != nil {
			t.Fatalf("captcha %d: %v", i+1, err)
		}
	}
	if err := l.AllowCaptcha(ctx, "2001:db8::99"); !custos.IsCode(err, custos.ETooManyRequests) {
		t.Fatalf("fourth from one /64: %v", err)
	}
	// Other addresses go on until everyone's minute is full (five).
	for _, addr := range []string{"192.0.2.1", "192.0.2.2"} {
		if err := l.AllowCaptcha(ctx, addr); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.AllowCaptcha(ctx, "192.0.2.3"); !custos.IsCode(err, custos.ETooManyRequests) {
		t.Fatalf("past the minute's total: %v", err)
	}
	clock.Advance(time.Minute)
	if err := l.AllowCaptcha(ctx, "192.0.2.3"); err != nil {
		t.Fatalf("the next minute: %v", err)
	}
}
