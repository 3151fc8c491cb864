package testdb_test

import (
	"context"
	"net/url"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/sqlstore"
	"github.com/jackc/pgx/v5"
)

func TestDialects(t *testing.T) {
	got := testdb.Dialects()
	if !slices.Contains(got, sqlstore.DialectSQLite) {
		t.Errorf("Dialects() = %v, want sqlite always", got)
	}
	if want := os.Getenv(testdb.EnvPostgres) != ""; slices.Contains(got, sqlstore.DialectPostgres) != want {
		t.Errorf("Dialects() = %v, postgres wanted: %v", got, want)
	}
}

// TestOpenIsolates checks each Open is a database of its own.
func TestOpenIsolates(t *testing.T) {
	at := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			first, second := testdb.Open(t, dialect), testdb.Open(t, dialect)
			if got := first.Dialect(); got != dialect {
				t.Errorf("Dialect() = %q, want %q", got, dialect)
			}
			a := custos.Account{ID: "acct-1", Kind: custos.KindPersonal, Email: "a@example.test", PasswordHash: "h", CreatedAt: at}
			ev := custos.AuditEvent{ID: "ev-1", At: at, AccountID: a.ID, Type: custos.EventSignup}
			if err := first.CreateAccount(t.Context(), a, ev); err != nil {
				t.Fatalf("CreateAccount: %v", err)
			}
			_, err := second.AccountByID(t.Context(), a.ID)
			if !custos.IsCode(err, custos.ENotFound) {
				t.Errorf("second database sees the first's account: err = %v", err)
			}
		})
	}
}

// TestDSNDropsSchema checks a PostgreSQL schema is gone once its test ends.
func TestDSNDropsSchema(t *testing.T) {
	base := os.Getenv(testdb.EnvPostgres)
	if base == "" {
		t.Skipf("%s not set", testdb.EnvPostgres)
	}
	var schema string
	t.Run("use", func(t *testing.T) {
		u, err := url.Parse(testdb.DSN(t, sqlstore.DialectPostgres))
		if err != nil {
			t.Fatal(err)
		}
		schema = u.Query().Get("search_path")
		if n := countSchemas(t, base, schema); n != 1 {
			t.Errorf("schema %q exists %d times during the test, want 1", schema, n)
		}
	})
	if schema == "" {
		t.Fatal("DSN has no search_path")
	}
	if n := countSchemas(t, base, schema); n != 0 {
		t.Errorf("schema %q still exists after the test", schema)
	}
}

func countSchemas(t *testing.T, dsn, name string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT COUNT(*) FROM pg_namespace WHERE nspname = $1", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
