package sqlstore_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/sqlstore"
	"github.com/custos/custos/sqlstore/storetest"
	"github.com/jackc/pgx/v5"
)

// TestStore runs the conformance suite on every dialect the run can reach.
func TestStore(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			storetest.Run(t, func(t *testing.T) custos.Store {
				return recording(t, testdb.Open(t, dialect))
			})
		})
	}
}

// recordingStore is a store whose outbox writes each message into a table
// of the test, test_outbox, in the transaction that carries it: a message
// is there if and only if its change committed.
type recordingStore struct{ *sqlstore.DB }

func recording(t *testing.T, db *sqlstore.DB) recordingStore {
	t.Helper()
	ddl := "CREATE TABLE test_outbox (seq INTEGER PRIMARY KEY, body TEXT NOT NULL)"
	insert := "INSERT INTO test_outbox (body) VALUES (?)"
	if db.Dialect() == sqlstore.DialectPostgres {
		ddl = "CREATE TABLE test_outbox (seq BIGSERIAL PRIMARY KEY, body TEXT NOT NULL)"
		insert = "INSERT INTO test_outbox (body) VALUES ($1)"
	}
	if _, err := db.Writer().ExecContext(t.Context(), ddl); err != nil {
		t.Fatalf("creating test_outbox: %v", err)
	}
	db.SetOutbox(func(ctx context.Context, tx *sql.Tx, msgs []custos.Message) error {
		for _, m := range msgs {
			b, err := json.Marshal(m)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, insert, string(b)); err != nil {
				return err
			}
		}
		return nil
	})
	recordWebhooks(t, db)
	return recordingStore{db}
}

// recordWebhooks makes db's webhook outbox write each job into
// test_webhook_outbox, in the transaction that carries it.
func recordWebhooks(t *testing.T, db *sqlstore.DB) {
	t.Helper()
	ddl := "CREATE TABLE test_webhook_outbox (seq INTEGER PRIMARY KEY, hook_id TEXT NOT NULL, event_id TEXT NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL)"
	insert := "INSERT INTO test_webhook_outbox (hook_id, event_id, kind, body) VALUES (?, ?, ?, ?)"
	if db.Dialect() == sqlstore.DialectPostgres {
		ddl = strings.Replace(ddl, "seq INTEGER", "seq BIGSERIAL", 1)
		insert = "INSERT INTO test_webhook_outbox (hook_id, event_id, kind, body) VALUES ($1, $2, $3, $4)"
	}
	if _, err := db.Writer().ExecContext(t.Context(), ddl); err != nil {
		t.Fatalf("creating test_webhook_outbox: %v", err)
	}
	db.SetWebhookOutbox(func(ctx context.Context, tx *sql.Tx, hookIDs []string, ev custos.WebhookEvent) error {
		body, err := ev.Body()
		if err != nil {
			return err
		}
		for _, id := range hookIDs {
			if _, err := tx.ExecContext(ctx, insert, id, ev.ID, ev.Kind, string(body)); err != nil {
				return err
			}
		}
		return nil
	})
}

// Hooked returns the webhook jobs of committed changes, in order.
func (s recordingStore) Hooked(t *testing.T) []storetest.HookedJob {
	t.Helper()
	rows, err := s.Writer().QueryContext(t.Context(), "SELECT hook_id, event_id, kind, body FROM test_webhook_outbox ORDER BY seq")
	if err != nil {
		t.Fatalf("reading test_webhook_outbox: %v", err)
	}
	defer rows.Close()
	var out []storetest.HookedJob
	for rows.Next() {
		var j storetest.HookedJob
		if err := rows.Scan(&j.HookID, &j.EventID, &j.Kind, &j.Body); err != nil {
			t.Fatal(err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Sent returns the messages of committed changes, in order.
func (s recordingStore) Sent(t *testing.T) []custos.Message {
	t.Helper()
	rows, err := s.Writer().QueryContext(t.Context(), "SELECT body FROM test_outbox ORDER BY seq")
	if err != nil {
		t.Fatalf("reading test_outbox: %v", err)
	}
	defer rows.Close()
	var out []custos.Message
	for rows.Next() {
		var body string
		var m custos.Message
		if err := rows.Scan(&body); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name        string
		dsn         string
		wantErr     bool
		wantDialect string
		mustNotSay  string // a secret the error must not repeat
	}{
		{name: "sqlite creates missing directories", dsn: "sqlite:" + filepath.Join(dir, "a", "b", "custos.db"), wantDialect: sqlstore.DialectSQLite},
		{name: "sqlite empty path", dsn: "sqlite:", wantErr: true},
		{name: "sqlite in memory", dsn: "sqlite::memory:", wantErr: true},
		{name: "sqlite URI", dsn: "sqlite:file:x.db?mode=ro", wantErr: true},
		{name: "unknown scheme", dsn: "mysql://root:hunter2@localhost/custos", wantErr: true, mustNotSay: "hunter2"},
		{name: "postgres unreachable", dsn: "postgres://custos:hunter2@127.0.0.1:1/custos?connect_timeout=5", wantErr: true, mustNotSay: "hunter2"},
		{name: "postgresql scheme unreachable", dsn: "postgresql://127.0.0.1:1/custos?connect_timeout=5", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, err := sqlstore.Open(t.Context(), tc.dsn)
			if tc.wantErr {
				if err == nil {
					db.Close()
					t.Fatalf("Open(%q): got no error, want one", tc.dsn)
				}
				if tc.mustNotSay != "" && strings.Contains(err.Error(), tc.mustNotSay) {
					t.Errorf("Open error repeats the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open(%q): %v", tc.dsn, err)
			}
			defer db.Close()
			if got := db.Dialect(); got != tc.wantDialect {
				t.Errorf("Dialect() = %q, want %q", got, tc.wantDialect)
			}
			if err := db.Ping(t.Context()); err != nil {
				t.Errorf("Ping: %v", err)
			}
		})
	}
}

// TestOpenDoesNotMigrate checks Open leaves the schema to Migrate.
func TestOpenDoesNotMigrate(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			dsn := testdb.DSN(t, dialect)
			db, err := sqlstore.Open(t.Context(), dsn)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer db.Close()
			if got := db.Dialect(); got != dialect {
				t.Errorf("Dialect() = %q, want %q", got, dialect)
			}
			if n := countMigrations(t, dsn); n != -1 {
				t.Errorf("schema_migrations has %d rows before Migrate, want no table", n)
			}
		})
	}
}

// TestMigrateTwice checks a second Migrate changes nothing.
func TestMigrateTwice(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			dsn := testdb.DSN(t, dialect)
			db, err := sqlstore.Open(t.Context(), dsn)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer db.Close()
			if err := db.Migrate(t.Context()); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			want := countMigrations(t, dsn)
			if want < 1 {
				t.Fatalf("schema_migrations has %d rows after Migrate, want at least 1", want)
			}
			a := custos.Account{ID: "acct-1", Kind: custos.KindPersonal, Email: "a@example.test", PasswordHash: "h",
				CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
			ev := custos.AuditEvent{ID: "ev-1", At: a.CreatedAt, AccountID: a.ID, Type: custos.EventSignup}
			if err := db.CreateAccount(t.Context(), a, ev); err != nil {
				t.Fatalf("CreateAccount: %v", err)
			}
			if err := db.Migrate(t.Context()); err != nil {
				t.Fatalf("second Migrate: %v", err)
			}
			if got := countMigrations(t, dsn); got != want {
				t.Errorf("schema_migrations has %d rows after the second Migrate, want %d", got, want)
			}
			if _, err := db.AccountByID(t.Context(), a.ID); err != nil {
				t.Errorf("AccountByID after the second Migrate: %v", err)
			}
		})
	}
}

// TestMigrateConcurrently starts replicas together on one fresh database:
// every Open+Migrate succeeds and the schema is applied once.
func TestMigrateConcurrently(t *testing.T) {
	const replicas = 4
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			dsn := testdb.DSN(t, dialect)
			errs := make([]error, replicas)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range replicas {
				wg.Go(func() {
					<-start
					db, err := sqlstore.Open(t.Context(), dsn)
					if err != nil {
						errs[i] = err
						return
					}
					defer db.Close()
					errs[i] = db.Migrate(t.Context())
				})
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("replica %d: %v", i, err)
				}
			}
			if got, want := countMigrations(t, dsn), migrationFiles(t, dialect); got != want {
				t.Errorf("schema_migrations has %d rows, want one per migration, %d", got, want)
			}
		})
	}
}

// migrationFiles counts the dialect's migrations in the source tree.
func migrationFiles(t *testing.T, dialect string) int {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("migrations", dialect, "*.sql"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no migrations for %s: %v", dialect, err)
	}
	return len(names)
}

// countMigrations reads schema_migrations behind the store's back: the
// number of rows, or -1 when the table does not exist.
func countMigrations(t *testing.T, dsn string) int {
	t.Helper()
	exists := "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_migrations'"
	if strings.HasPrefix(dsn, "sqlite:") {
		exists = "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'schema_migrations'"
	}
	if queryInt(t, dsn, exists) == 0 {
		return -1
	}
	return queryInt(t, dsn, "SELECT COUNT(*) FROM schema_migrations")
}

// queryInt runs a query answering one integer on a connection of its own,
// behind the store's back.
func queryInt(t *testing.T, dsn, query string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var n int
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		// Opening a missing file would create it.
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("sqlite file: %v", err)
		}
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.QueryRowContext(ctx, query).Scan(&n); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return n
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// openHandles opens n migrated DB handles on dsn, as n replicas (or n
// processes on one SQLite file) would, closed when t ends.
func openHandles(t *testing.T, dsn string, n int) []*sqlstore.DB {
	t.Helper()
	dbs := make([]*sqlstore.DB, n)
	for i := range dbs {
		db, err := sqlstore.Open(t.Context(), dsn)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Migrate(t.Context()); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		dbs[i] = db
	}
	return dbs
}

// TestSQLiteSharedFile is two custos processes on one SQLite file: each has
// its own write connection, and busy_timeout makes them take turns instead
// of failing with "database is locked".
func TestSQLiteSharedFile(t *testing.T) {
	const (
		workers = 16
		writes  = 10
	)
	dbs := openHandles(t, testdb.DSN(t, sqlstore.DialectSQLite), 2)
	at := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	a := custos.Account{ID: "acct-shared", Kind: custos.KindPersonal, Email: "s@example.test", PasswordHash: "h", CreatedAt: at}
	if err := dbs[0].CreateAccount(t.Context(), a, custos.AuditEvent{ID: "ev-signup", At: at, AccountID: a.ID, Type: custos.EventSignup}); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	errs := make(chan error, 2*workers*writes)
	var wg sync.WaitGroup
	for w := range 2 * workers {
		db := dbs[w%2]
		wg.Go(func() {
			for i := range writes {
				id := fmt.Sprintf("s-%02d-%02d", w, i)
				s := custos.Session{ID: id, TokenHash: []byte(id), AccountID: a.ID, CreatedAt: at,
					AuthenticatedAt: at, LastSeenAt: at, ExpiresAt: at.Add(time.Hour)}
				ev := custos.AuditEvent{ID: "ev-" + id, At: at, AccountID: a.ID, Type: custos.EventLoginSuccess}
				if err := db.CreateSession(t.Context(), s, ev); err != nil {
					errs <- err
					continue
				}
				if err := db.TouchSession(t.Context(), id, at.Add(time.Minute)); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := dbs[1].ListSessions(t.Context(), a.ID)
	if err != nil {
		t.Fatalf("ListSessions: %v", err)
	}
	if len(got) != 2*workers*writes {
		t.Errorf("ListSessions: %d sessions, want %d", len(got), 2*workers*writes)
	}
}

// TestCounterRacesAcrossHandles runs the counter races on two DB handles
// on one database, so the updates serialise in the database (row lock or
// SQLite write lock) and not in one handle's connection pool.
func TestCounterRacesAcrossHandles(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			dbs := openHandles(t, testdb.DSN(t, dialect), 2)
			storetest.CounterRaces(t, dbs[0], dbs[1])
		})
	}
}

// TestCounterRows looks behind UpdateCounter and ResetCounter at the
// counters table: no row for a zero counter, and NULL for a zero time.
func TestCounterRows(t *testing.T) {
	const key = "id:rows@example.test"
	at := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	errFn := custos.Errorf(custos.EAccountLocked, "locked")
	set := func(c custos.Counter) func(custos.Counter) (custos.Counter, error) {
		return func(custos.Counter) (custos.Counter, error) { return c, nil }
	}
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			dsn := testdb.DSN(t, dialect)
			db := openHandles(t, dsn, 1)[0]
			steps := []struct {
				name    string
				fn      func(custos.Counter) (custos.Counter, error) // nil to reset
				wantErr error
				query   string
				want    int
			}{
				{name: "fn error on a new key", fn: func(custos.Counter) (custos.Counter, error) { return custos.Counter{Failures: 1}, errFn },
					wantErr: errFn, query: "SELECT COUNT(*) FROM counters", want: 0},
				{name: "zero result on a new key", fn: set(custos.Counter{}), query: "SELECT COUNT(*) FROM counters", want: 0},
				{name: "zero times are NULL", fn: set(custos.Counter{Failures: 2}),
					query: "SELECT COUNT(*) FROM counters WHERE start IS NULL AND failures = 2 AND locked_until IS NULL", want: 1},
				{name: "times are milliseconds", fn: set(custos.Counter{Start: at, Failures: 3, LockedUntil: at.Add(time.Second)}),
					query: fmt.Sprintf("SELECT COUNT(*) FROM counters WHERE start = %d AND locked_until = %d", at.UnixMilli(), at.UnixMilli()+1000), want: 1},
				{name: "zero result deletes the row", fn: set(custos.Counter{}), query: "SELECT COUNT(*) FROM counters", want: 0},
				{name: "counting again", fn: set(custos.Counter{Start: at, Failures: 1}), query: "SELECT COUNT(*) FROM counters", want: 1},
				{name: "reset deletes the row", query: "SELECT COUNT(*) FROM counters", want: 0},
			}
			for i, st := range steps {
				var err error
				if st.fn != nil {
					_, err = db.UpdateCounter(t.Context(), key, st.fn)
				} else {
					err = db.ResetCounter(t.Context(), key, custos.AuditEvent{ID: fmt.Sprintf("ev-reset-%d", i), At: at, Type: "login.unlocked"})
				}
				if err != st.wantErr {
					t.Fatalf("%s: error %v, want %v", st.name, err, st.wantErr)
				}
				if got := queryInt(t, dsn, st.query); got != st.want {
					t.Errorf("%s: %s = %d, want %d", st.name, st.query, got, st.want)
				}
			}
		})
	}
}
