package bench_test

import (
	"testing"

	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/internal/testserver"
)

// TestRequests sends each benchmark's request once, at the testserver's
// fast hashing parameters, so `go test ./bench/` catches a benchmark that
// would only measure error answers.
func TestRequests(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			env := testserver.Start(t, testserver.Options{Dialect: dialect})
			emails := []string{"client0@bench.example", "client1@bench.example"}
			for _, e := range emails {
				env.SignUp(t, e, benchPassword)
			}
			login := loginOp(newClient(t, len(emails)), env.URL, emails)
			if err := runEach(len(emails), login); err != nil {
				t.Fatal(err)
			}
			token := env.Login(t, emails[0], benchPassword)
			if r := env.Do(t, "GET", "/api/v1/session", token, nil); r.Status != 200 || r.String("account_id") == "" {
				t.Fatalf("GET /api/v1/session: %d %s", r.Status, r.Raw)
			}
		})
	}
}
