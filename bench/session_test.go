package bench_test

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/internal/testserver"
)

// sessionEnv starts the app on dialect with one logged-in account and
// returns its bearer token. Hashing cost is irrelevant here, so it keeps
// the testserver's fast parameters.
func sessionEnv(b *testing.B, dialect string) (*testserver.Env, string) {
	b.Helper()
	env := testserver.Start(b, testserver.Options{Dialect: dialect})
	env.SignUp(b, "session@bench.example", benchPassword)
	return env, env.Login(b, "session@bench.example", benchPassword)
}

// BenchmarkSessionGet measures GET /api/v1/session over real HTTP with
// GOMAXPROCS clients (b.RunParallel).
func BenchmarkSessionGet(b *testing.B) {
	for _, dialect := range testdb.Dialects() {
		b.Run("store="+dialect, func(b *testing.B) {
			env, token := sessionEnv(b, dialect)
			c := newClient(b, runtime.GOMAXPROCS(0))
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				req, err := http.NewRequest("GET", env.URL+"/api/v1/session", nil)
				if err != nil {
					b.Error(err)
					return
				}
				req.Header.Set("Authorization", "Bearer "+token)
				for pb.Next() {
					if err := roundTrip(c, req, `"account_id"`); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

// BenchmarkSessionGetHandler sends GET /api/v1/session straight to the
// handler, so ns/op and allocs/op are the server's own per request (and
// the ResponseRecorder's).
func BenchmarkSessionGetHandler(b *testing.B) {
	for _, dialect := range testdb.Dialects() {
		b.Run("store="+dialect, func(b *testing.B) {
			env, token := sessionEnv(b, dialect)
			// One request serves every iteration: the handler works on
			// copies (WithContext), and building it is the client's cost.
			req := httptest.NewRequest("GET", "/api/v1/session", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			b.ReportAllocs()
			// CPU time per request tells the server's cost apart from a
			// busy machine's waiting, which ns/op includes.
			cpu0, _, ok0 := usage()
			for b.Loop() {
				rec := httptest.NewRecorder()
				env.App.Handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("GET /api/v1/session: %d %s", rec.Code, rec.Body)
				}
			}
			if cpu1, _, ok1 := usage(); ok0 && ok1 {
				b.ReportMetric(float64(cpu1-cpu0)/1e3/float64(b.N), "cpu-us/op")
			}
		})
	}
}
