package api_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/auth"
	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/internal/testserver"
	"github.com/custos/custos/lockout"
	"github.com/custos/custos/password"
)

// BenchmarkLoginTiming measures whether an answer's timing tells an unknown
// email, a known email with a wrong password and a locked identifier apart.
// Each iteration sends one of each, in turn, at the real argon2id
// parameters; the report gives each kind's median and the ratios of the
// medians to the unknown email's (the goal is within 10%: 0.90–1.10).
// Run it with a few hundred iterations: -bench LoginTiming -benchtime 300x.
func BenchmarkLoginTiming(b *testing.B) {
	for _, d := range testdb.Dialects() {
		b.Run("store="+d, func(b *testing.B) {
			// Limits far away, so that neither a captcha nor the
			// per-address throttle changes the answers being timed.
			far := lockout.Policy{LockAfter: 1 << 30, Window: 24 * time.Hour}
			env := testserver.Start(b, testserver.Options{Dialect: d, Argon2: password.DefaultParams,
				Auth: auth.Config{Lockout: far, Source: far}})
			env.SignUp(b, "known@example.com", goodPassword)
			now := env.Clock.Now()
			_, err := env.App.Store.UpdateCounter(context.Background(), env.App.LoginKeys.Counter(custos.EmailLogin("locked@example.com")), func(custos.Counter) (custos.Counter, error) {
				return custos.Counter{Start: now, Failures: 1 << 30, LockedUntil: now.Add(24 * time.Hour)}, nil
			})
			if err != nil {
				b.Fatal(err)
			}
			kinds := []struct {
				name, email string
				status      int
			}{
				{"unknown", "nobody@example.com", 401},
				{"wrong", "known@example.com", 401},
				{"locked", "locked@example.com", 423},
			}
			times := make([][]time.Duration, len(kinds))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for k, kind := range kinds {
					start := time.Now()
					r := env.Do(b, "POST", "/api/v1/login", "", map[string]string{"email": kind.email, "password": "wrong password"})
					times[k] = append(times[k], time.Since(start))
					if r.Status != kind.status {
						b.Fatalf("%s: %d %s", kind.name, r.Status, r.Raw)
					}
				}
			}
			b.StopTimer()
			medians := make([]float64, len(kinds))
			for k, kind := range kinds {
				slices.Sort(times[k])
				medians[k] = float64(times[k][len(times[k])/2].Microseconds()) / 1000
				b.ReportMetric(medians[k], kind.name+"-median-ms")
			}
			b.ReportMetric(medians[1]/medians[0], "wrong/unknown")
			b.ReportMetric(medians[2]/medians[0], "locked/unknown")
		})
	}
}

// BenchmarkLockCheckOverhead measures what the login-security rule adds to
// a successful login: reading the address's counter, reserving the attempt
// on the identifier's counter and refunding it (three store operations),
// against a whole successful HTTP login at the real argon2id parameters,
// measured in the same run. It reports both and their ratio.
func BenchmarkLockCheckOverhead(b *testing.B) {
	for _, d := range testdb.Dialects() {
		b.Run("store="+d, func(b *testing.B) {
			env := testserver.Start(b, testserver.Options{Dialect: d, Argon2: password.DefaultParams})
			env.SignUp(b, "quick@example.com", goodPassword)
			store, p := env.App.Store, lockout.Identifier
			ctx := context.Background()
			const rounds = 50
			lockStart := time.Now()
			for i := 0; i < rounds; i++ {
				now := env.Clock.Now()
				if _, err := store.GetCounter(ctx, "src:127.0.0.1"); err != nil {
					b.Fatal(err)
				}
				if _, err := store.UpdateCounter(ctx, "id:bench@example.com", func(c custos.Counter) (custos.Counter, error) {
					_, next, _ := p.Reserve(c, now, false)
					return next, nil
				}); err != nil {
					b.Fatal(err)
				}
				if _, err := store.UpdateCounter(ctx, "id:bench@example.com", func(c custos.Counter) (custos.Counter, error) {
					return p.Refund(c, now, now), nil
				}); err != nil {
					b.Fatal(err)
				}
			}
			lockCost := time.Since(lockStart) / rounds
			b.ResetTimer()
			loginStart := time.Now()
			for i := 0; i < b.N; i++ {
				if r := env.Do(b, "POST", "/api/v1/login", "", map[string]string{"email": "quick@example.com", "password": goodPassword}); r.Status != http.StatusOK {
					b.Fatalf("login: %d %s", r.Status, r.Raw)
				}
			}
			loginCost := time.Since(loginStart) / time.Duration(b.N)
			b.ReportMetric(float64(lockCost.Microseconds()), "lockcheck-us")
			b.ReportMetric(float64(loginCost.Microseconds()), "login-us")
			b.ReportMetric(float64(lockCost)/float64(loginCost), "lockcheck/login")
		})
	}
}
