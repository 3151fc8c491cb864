package api_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/internal/testserver"
	"github.com/custos/custos/internal/testsmtp"
)

// BenchmarkResetTiming measures whether the answer to a password reset
// tells an existing account from an unknown address, with real delivery:
// email goes by SMTP to an in-process server that takes 40 ms per message,
// like a distant one. Each iteration asks a reset for an existing account
// (its code goes out by email) and one for an address with no account (a
// decoy, nothing sent), each first in turn; the report gives both medians and their
// ratio (the goal: within 10%, 0.90–1.10). Between iterations the fake
// clock moves five minutes, under the send limits, and what was sent is
// delivered before it moves. Run it with a few hundred iterations:
// -bench ResetTiming -benchtime 200x.
func BenchmarkResetTiming(b *testing.B) {
	for _, d := range testdb.Dialects() {
		b.Run("store="+d, func(b *testing.B) {
			mail := testsmtp.Start(b)
			env := testserver.Start(b, testserver.Options{Dialect: d, Deliver: mail.URL()})
			// Forty of each, in turn, keeps every address under its
			// daily cap of codes.
			const pool = 40
			known := make([]string, pool)
			for i := range known {
				known[i] = fmt.Sprintf("known%02d@example.com", i)
				signUpBySMTP(b, env, mail, known[i])
				env.Clock.Advance(5 * time.Minute) // the per-address send limit
			}
			mail.SetDelay(40 * time.Millisecond)
			kinds := []struct {
				name  string
				email func(i int) string
			}{
				{"existing", func(i int) string { return known[i%pool] }},
				{"unknown", func(i int) string { return fmt.Sprintf("nobody%02d@example.com", i%pool) }},
			}
			times := make([][]time.Duration, len(kinds))
			sentBefore := mail.Count()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for j := range kinds {
					k := (i + j) % len(kinds) // each goes first in turn
					kind := kinds[k]
					took, r := startReset(b, env, kind.email(i))
					times[k] = append(times[k], took)
					if r.Status != http.StatusAccepted {
						b.Fatalf("%s: %d %s", kind.name, r.Status, r.Raw)
					}
				}
				b.StopTimer()
				env.Clock.Advance(5 * time.Minute)
				b.StartTimer()
			}
			b.StopTimer()
			env.Drain(b)
			if sent := mail.Count() - sentBefore; sent != b.N {
				b.Fatalf("%d codes delivered for %d resets of existing accounts", sent, b.N)
			}
			medians := make([]float64, len(kinds))
			for k, kind := range kinds {
				slices.Sort(times[k])
				medians[k] = float64(times[k][len(times[k])/2].Microseconds()) / 1000
				b.ReportMetric(medians[k], kind.name+"-median-ms")
			}
			b.ReportMetric(medians[0]/medians[1], "existing/unknown")
		})
	}
}
