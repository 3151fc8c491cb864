package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos/custos/sqlstore"
	"github.com/jackc/pgx/v5"
)

// EnvPostgres names the environment variable holding the PostgreSQL URL
// tests may use, such as
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable. When it is set
// the server must be reachable: tests fail rather than skip.
const EnvPostgres = "CUSTOS_TEST_POSTGRES"

// setupTimeout bounds creating or dropping a schema.
const setupTimeout = 30 * time.Second

// Dialects returns the dialects to test: sqlstore.DialectSQLite, and
// sqlstore.DialectPostgres when EnvPostgres is set.
func Dialects() []string {
	if os.Getenv(EnvPostgres) != "" {
		return []string{sqlstore.DialectSQLite, sqlstore.DialectPostgres}
	}
	return []string{sqlstore.DialectSQLite}
}

// Open returns a fresh, migrated, empty database of the dialect, closed
// (and, on PostgreSQL, dropped) when t ends.
func Open(t testing.TB, dialect string) *sqlstore.DB {
	t.Helper()
	dsn := DSN(t, dialect)
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("testdb: open %s: %v", dialect, err)
	}
	// Registered after DSN's cleanup, so it runs before the schema is
	// dropped.
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("testdb: close %s: %v", dialect, err)
		}
	})
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("testdb: migrate %s: %v", dialect, err)
	}
	return db
}

// DSN returns the DSN of a fresh, empty and unmigrated database of the
// dialect, for tests that open it themselves or hand it to a server process
// (several processes may share it). On SQLite it is a file in t.TempDir();
// on PostgreSQL a new schema, selected through the URL's search_path, that
// is dropped when t ends: stop whatever uses it before then.
func DSN(t testing.TB, dialect string) string {
	t.Helper()
	switch dialect {
	case sqlstore.DialectSQLite:
		return "sqlite:" + filepath.Join(t.TempDir(), "custos.db")
	case sqlstore.DialectPostgres:
		base := os.Getenv(EnvPostgres)
		if base == "" {
			// On a machine without PostgreSQL the test skips; CI sets
			// the variable (.ci/run), so there nothing skips.
			t.Skipf("testdb: PostgreSQL not configured: set %s to run this test", EnvPostgres)
		}
		return freshSchema(t, base)
	}
	t.Fatalf("testdb: unknown dialect %q", dialect)
	return ""
}

// freshSchema creates a schema with a random name on the server of base and
// returns base pointing at it.
func freshSchema(t testing.TB, base string) string {
	t.Helper()
	if !strings.HasPrefix(base, "postgres://") && !strings.HasPrefix(base, "postgresql://") {
		t.Fatalf("testdb: %s must be a postgres:// URL", EnvPostgres)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("testdb: %s: %v", EnvPostgres, err)
	}
	schema := "custos_t_" + randomHex(8)
	// Quoted although the name is plain, so no name can ever be read as SQL.
	ident := pgx.Identifier{schema}.Sanitize()
	if err := execOnce(base, "CREATE SCHEMA "+ident); err != nil {
		t.Fatalf("testdb: %s is set but PostgreSQL cannot be used: %v", EnvPostgres, err)
	}
	t.Cleanup(func() {
		if err := execOnce(base, "DROP SCHEMA IF EXISTS "+ident+" CASCADE"); err != nil {
			t.Errorf("testdb: drop schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// execOnce runs one statement on a connection of its own.
func execOnce(dsn, stmt string) error {
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, stmt)
	return err
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b)
}
