package api_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/custos/custos/internal/testclock"
	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/internal/testserver"
)

// TestSecondFactorGuessesStopAtTheLock: an attacker who knows the password
// mints forty login tokens (each right password is given back) and sends
// five wrong codes on each, all at once, across two replicas. Every code
// counts in the identifier's R4 series before it is checked, so exactly
// ten are checked (the series' room) and every other answer is the lock —
// not five per token.
func TestSecondFactorGuessesStopAtTheLock(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			dsn := testdb.DSN(t, dialect)
			clock := testclock.New(time.Time{})
			one := testserver.Start(t, testserver.Options{DSN: dsn, Clock: clock})
			two := testserver.Start(t, testserver.Options{DSN: dsn, Clock: clock, Keys: one.Keys})
			one.SignUp(t, "hal@example.com", goodPassword)
			tok := one.Login(t, "hal@example.com", goodPassword)
			secret := bindTOTP(t, one, tok)
			verify(t, one, tok, secret)
			if r := one.Do(t, "PUT", "/api/v1/account/protection", tok, map[string]bool{"login_protection": true}); r.Status != 200 {
				t.Fatalf("protection: %d %s", r.Status, r.Raw)
			}
			wrong := "000000"
			if wrong == totp(one, secret) {
				wrong = "111111"
			}
			var tokens []string
			for range 41 {
				r := login(t, one, "hal@example.com", goodPassword, "", "")
				if r.Status != 200 || r.String("login_token") == "" {
					t.Fatalf("login: %d %s", r.Status, r.Raw)
				}
				tokens = append(tokens, r.String("login_token"))
			}
			var mu sync.Mutex
			answers := map[int]int{}
			var wg sync.WaitGroup
			spare, tokens := tokens[40], tokens[:40]
			for i, lt := range tokens {
				env := one
				if i%2 == 1 {
					env = two
				}
				for range 5 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						r := env.Do(t, "POST", "/api/v1/login/second-factor", "", map[string]string{"login_token": lt, "method": "totp", "code": wrong})
						mu.Lock()
						answers[r.Status]++
						mu.Unlock()
					}()
				}
			}
			wg.Wait()
			if answers[401] != 10 || answers[423] != 190 {
				t.Fatalf("answers = %v, want 10 × 401 and 190 × 423", answers)
			}
			c, err := one.App.Store.GetCounter(context.Background(), "id:hal@example.com")
			if err != nil || c.Failures != 10 || c.LockedUntil.IsZero() {
				t.Fatalf("identifier counter = %+v, %v; want 10 failures and a lock", c, err)
			}
			// The right code on a token the attack never touched is
			// refused too: the lock holds for codes.
			r := two.Do(t, "POST", "/api/v1/login/second-factor", "", map[string]string{"login_token": spare, "method": "totp", "code": totp(two, secret)})
			if r.Status != 423 {
				t.Fatalf("the right code under the lock: %d %s", r.Status, r.Raw)
			}
		})
	}
}

// TestVerificationGuessesStopAtTheLock: a stolen session starts forty
// "confirm it's you" checks and sends five wrong codes on each, all at
// once, across two replicas: exactly ten are checked.
func TestVerificationGuessesStopAtTheLock(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			dsn := testdb.DSN(t, dialect)
			clock := testclock.New(time.Time{})
			one := testserver.Start(t, testserver.Options{DSN: dsn, Clock: clock})
			two := testserver.Start(t, testserver.Options{DSN: dsn, Clock: clock, Keys: one.Keys})
			one.SignUp(t, "ivy@example.com", goodPassword)
			tok := one.Login(t, "ivy@example.com", goodPassword)
			secret := bindTOTP(t, one, tok)
			wrong := "000000"
			if wrong == totp(one, secret) {
				wrong = "111111"
			}
			var ids []string
			for range 40 {
				r := one.Do(t, "POST", "/api/v1/verifications", tok, map[string]string{"method": "totp"})
				if r.Status != 201 {
					t.Fatalf("start: %d %s", r.Status, r.Raw)
				}
				ids = append(ids, r.String("id"))
			}
			var mu sync.Mutex
			answers := map[int]int{}
			var wg sync.WaitGroup
			for i, id := range ids {
				env := one
				if i%2 == 1 {
					env = two
				}
				for range 5 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						r := env.Do(t, "POST", "/api/v1/verifications/"+id, tok, map[string]string{"code": wrong})
						mu.Lock()
						answers[r.Status]++
						mu.Unlock()
					}()
				}
			}
			wg.Wait()
			if answers[422] != 10 || answers[423] != 190 {
				t.Fatalf("answers = %v, want 10 × 422 and 190 × 423", answers)
			}
			c, err := one.App.Store.GetCounter(context.Background(), "id:ivy@example.com")
			if err != nil || c.Failures != 10 {
				t.Fatalf("identifier counter = %+v, %v; want 10 failures", c, err)
			}
		})
	}
}

// TestStolenSessionCannotChangeTheLoginEmail: an account with no phone,
// secure email or MFA device. Whoever holds only its bearer token cannot
// change the login email (and then reset the password through it): the
// change asks to confirm it's the holder, by a code to the current login
// email.
func TestStolenSessionCannotChangeTheLoginEmail(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		env.SignUp(t, "lone@example.com", goodPassword)
		stolen := env.Login(t, "lone@example.com", goodPassword)
		r := env.Do(t, "POST", "/api/v1/account/email", stolen, map[string]string{"email": "thief@example.net"})
		if r.Status != 403 || r.ErrorCode() != "verification_required" {
			t.Fatalf("email change with the bearer token alone: %d %s", r.Status, r.Raw)
		}
		if m, _ := errField(r, "methods").([]any); len(m) != 1 || m[0] != "email" {
			t.Fatalf("methods = %v, want only a code to the login email", errField(r, "methods"))
		}
		if n := len(env.Messages(t, "thief@example.net")); n != 0 {
			t.Fatalf("%d messages went to the thief's address", n)
		}
		// The holder, who reads the login mailbox, can go on.
		verifyBy(t, env, stolen, "email", "lone@example.com")
		if r := env.Do(t, "POST", "/api/v1/account/email", stolen, map[string]string{"email": "new@example.com"}); r.Status != 202 {
			t.Fatalf("email change after confirming: %d %s", r.Status, r.Raw)
		}
	})
}
