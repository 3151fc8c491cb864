package bench_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos/custos/internal/testserver"
	"github.com/custos/custos/password"
)

// The flags of BenchmarkLoginVsRaw: how long it measures each side, and
// in how many alternating slices.
var (
	ratioPeriod = flag.Duration("ratio.period", 3*time.Second,
		"how long BenchmarkLoginVsRaw measures each of raw argon2id and logins")
	ratioRounds = flag.Int("ratio.rounds", 6,
		"in how many alternating slices BenchmarkLoginVsRaw splits -ratio.period")
)

// clientCounts are the numbers of concurrent clients of the login
// benchmarks: as many as the CI machine's cores, and a crowd.
var clientCounts = []int{2, 8}

// benchPassword passes password.Check, so sign-up accepts it.
const benchPassword = "quartz-Lantern-41-meadow"

// op is one request of client number i (0 ≤ i < the number of clients).
type op func(i int) error

// runClients runs f b.N times in total, spread over exactly n goroutines
// sharing one counter (b.RunParallel would start a multiple of GOMAXPROCS),
// and reports the rate as unit. The first error stops every goroutine.
func runClients(b *testing.B, n int, unit string, f op) {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	b.ResetTimer()
	for i := range n {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if err := f(i); err != nil {
					once.Do(func() { b.Error(err) })
					next.Store(int64(b.N))
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit)
}

// runFor runs f on exactly n goroutines until d has passed and returns how
// many calls completed and how long it took until the last one returned.
// A call under way at the deadline is finished and counted, on both sides
// of a comparison alike.
func runFor(d time.Duration, n int, f op) (count int64, elapsed time.Duration, err error) {
	var done atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	var once sync.Once
	start := time.Now()
	timer := time.AfterFunc(d, func() { stop.Store(true) })
	defer timer.Stop()
	for i := range n {
		wg.Go(func() {
			for !stop.Load() {
				if e := f(i); e != nil {
					once.Do(func() { err = e })
					stop.Store(true)
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	return done.Load(), time.Since(start), err
}

// runEach calls f once for every client, all at once, and returns their
// errors joined.
func runEach(n int, f op) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = f(i) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// startEnv starts the whole app on a fresh database of dialect, hashing
// passwords with p, and signs up accounts accounts, one per client.
func startEnv(b *testing.B, dialect string, p password.Params, accounts int) (*testserver.Env, []string) {
	b.Helper()
	env := testserver.Start(b, testserver.Options{Dialect: dialect, Argon2: p})
	emails := make([]string, accounts)
	for i := range emails {
		emails[i] = fmt.Sprintf("client%d@bench.example", i)
		env.SignUp(b, emails[i], benchPassword)
	}
	return env, emails
}

// newClient returns an HTTP client keeping up to conns idle connections to
// one host, so that n concurrent clients never redial.
func newClient(tb testing.TB, conns int) *http.Client {
	tr := &http.Transport{
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	tb.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: time.Minute}
}

// loginOp returns an op that logs client i in as emails[i] over HTTP and
// checks that a session token came back.
func loginOp(c *http.Client, url string, emails []string) op {
	bodies := make([][]byte, len(emails))
	for i, e := range emails {
		bodies[i], _ = json.Marshal(map[string]string{"email": e, "password": benchPassword})
	}
	return func(i int) error {
		req, err := http.NewRequest("POST", url+"/api/v1/login", bytes.NewReader(bodies[i]))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		return roundTrip(c, req, `"session_token"`)
	}
}

// roundTrip sends req and wants 200 OK with want in the body. It reads the
// body to the end so the connection goes back to the pool.
func roundTrip(c *http.Client, req *http.Request, want string) error {
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(raw), want) {
		return fmt.Errorf("%s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, raw)
	}
	return nil
}

// loginToken logs email in over HTTP and returns the session token.
func loginToken(c *http.Client, url, email string) (string, error) {
	body, _ := json.Marshal(map[string]string{"email": email, "password": benchPassword})
	resp, err := c.Post(url+"/api/v1/login", "application/json", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		Token string `json:"session_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || out.Token == "" {
		return "", fmt.Errorf("login %s: %d %v", email, resp.StatusCode, err)
	}
	return out.Token, nil
}
