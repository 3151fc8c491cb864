package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/custos/custos"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// The dialects Open understands, as reported by Dialect.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// Pool sizes. SQLite allows one writer at a time, so the write pool has one
// connection and callers queue in Go rather than spinning on SQLITE_BUSY.
const sqliteReaders = 8

// postgresConns is the size of a PostgreSQL pool: four per core, at least
// 8. A query holds its connection only while it runs, so a few per core
// keep the cores busy, and more only add database backends fighting over
// the same cores: on a 2-core machine running its database too, 32
// clients checking sessions got 15,500 answers a second with 8 and
// p99 8 ms, against 14,300 and p99 9–12 ms with 20, and 13,600 and
// 10–18 ms with 40.
var postgresConns = max(8, 4*runtime.NumCPU())

// sqlitePragmas are applied to every SQLite connection; busy_timeout covers
// the moments another process (a second custos, the migrate command) holds
// the write lock.
const sqlitePragmas = "_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)"

// DB is a custos.Store on SQLite or PostgreSQL. It is safe for concurrent
// use.
type DB struct {
	dialect string
	w       *sql.DB    // writes and transactions
	r       *sql.DB    // plain reads; the same pool as w on PostgreSQL
	outbox  Outbox     // nil until SetOutbox
	obs     *observers // nil until Observe
	stmts   sync.Map   // query → *sql.Stmt on r, for readRow (stmtcache.go)
	wstmts  sync.Map   // query → *sql.Stmt on w, for execHot and queryHot (SQLite)
	warming sync.Map   // query → true once its preparing on w has begun
	rebinds sync.Map   // query → db.q(query), for readRow on PostgreSQL
	// webhooks writes security-webhook jobs; nil until SetWebhookOutbox.
	webhooks WebhookOutbox
}

// Outbox writes a change's messages (AuditEvent.Notify, the message of
// CreateChallenge) in the change's transaction tx, so that they exist if
// and only if the change commits. It must write through tx alone.
type Outbox func(ctx context.Context, tx *sql.Tx, msgs []custos.Message) error

// SetOutbox makes out the writer of every change's messages (app passes
// the queue's InsertTx). Until it is set, a change carrying a message
// fails rather than drop it. Call it before the DB is used.
func (db *DB) SetOutbox(out Outbox) { db.outbox = out }

// Writer returns the handle writes and transactions go through (on SQLite
// its one connection), for a component that writes in the store's
// transactions, such as the delivery queue.
func (db *DB) Writer() *sql.DB { return db.w }

var _ custos.Store = (*DB)(nil)

// Open connects to the database named by dsn: "sqlite:PATH" for an SQLite
// file (its directory is created if missing) or a "postgres://" or
// "postgresql://" URL. It checks the database is reachable but does not
// migrate: call Migrate before use.
func Open(ctx context.Context, dsn string) (*DB, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		return openSQLite(ctx, strings.TrimPrefix(dsn, "sqlite:"))
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return openPostgres(ctx, dsn)
	}
	// The DSN may hold a password: never echo it.
	return nil, errors.New("sqlstore: database must be sqlite:PATH or a postgres:// URL")
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	switch {
	case path == "":
		return nil, errors.New("sqlstore: sqlite: empty path")
	case path == ":memory:" || strings.HasPrefix(path, "file:") || strings.ContainsRune(path, '?'):
		// Two pools on one in-memory database would be two databases, and
		// a URI would defeat the pragmas below.
		return nil, fmt.Errorf("sqlstore: sqlite: %q is not a plain file path", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("sqlstore: sqlite: %w", err)
	}
	if err := ownerOnly(path); err != nil {
		return nil, fmt.Errorf("sqlstore: sqlite: %w", err)
	}
	w, err := openSQLiteDB(path + "?_txlock=immediate&" + sqlitePragmas +
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return nil, fmt.Errorf("sqlstore: sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	// The writer connects first so the file is in WAL mode before any
	// reader opens it.
	if err := pingSQLiteWriter(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlstore: sqlite: open %s: %w", path, err)
	}
	r, err := openSQLiteDB(path + "?" + sqlitePragmas + "&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlstore: sqlite: %w", err)
	}
	r.SetMaxOpenConns(sqliteReaders)
	r.SetMaxIdleConns(sqliteReaders)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlstore: sqlite: open %s: %w", path, err)
	}
	return &DB{dialect: DialectSQLite, w: w, r: r}, nil
}

// openSQLiteDB is sql.Open("sqlite", dsn) with every connection an
// outageConn (unavailable.go).
func openSQLiteDB(dsn string) (*sql.DB, error) {
	c, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(outageConnector{c}), nil
}

// ownerOnly makes the database file before SQLite opens it, readable and
// writable by its owner only (it holds password hashes and sealed seeds).
// SQLite gives the -wal and -shm files it creates the mode of the database
// file, so they follow. Files an older version left readable by group or
// others are narrowed, the -wal and -shm beside them too.
func ownerOnly(path string) error {
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			if err := os.Chmod(p, perm&0o700); err != nil {
				return err
			}
		}
	}
	return nil
}

// pingSQLiteWriter opens the write connection. Switching a new file to WAL
// takes an exclusive lock, and SQLite answers SQLITE_BUSY at once, without
// the busy timeout, when processes starting together race for it: retry a
// while.
func pingSQLiteWriter(ctx context.Context, w *sql.DB) error {
	const (
		tries = 50
		pause = 100 * time.Millisecond
	)
	for i := 1; ; i++ {
		err := w.PingContext(ctx)
		var se *sqlite.Error
		if err == nil || i == tries || !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(pause):
		}
	}
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn) // its errors redact the password
	if err != nil {
		return nil, fmt.Errorf("sqlstore: postgres: %w", err)
	}
	// Every connection an outageConn (unavailable.go).
	db := sql.OpenDB(outageConnector{stdlib.GetConnector(*cfg)})
	db.SetMaxOpenConns(postgresConns)
	db.SetMaxIdleConns(postgresConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlstore: postgres: connect to %s:%d/%s: %w", cfg.Host, cfg.Port, cfg.Database, err)
	}
	return &DB{dialect: DialectPostgres, w: db, r: db}, nil
}

// Dialect returns DialectSQLite or DialectPostgres.
func (db *DB) Dialect() string { return db.dialect }

// Ping reports whether the database is reachable.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.w.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore: ping: %w", err)
	}
	if db.r != db.w {
		if err := db.r.PingContext(ctx); err != nil {
			return fmt.Errorf("sqlstore: ping: %w", err)
		}
	}
	return nil
}

// Close releases every connection. The DB must not be used afterwards.
func (db *DB) Close() error {
	err := db.w.Close()
	if db.r != db.w {
		err = errors.Join(err, db.r.Close())
	}
	return err
}

// q rewrites a query written with ? placeholders for the dialect.
func (db *DB) q(query string) string {
	if db.dialect != DialectPostgres {
		return query
	}
	return rebind(query)
}

// rebind turns each ? into $1, $2, … The queries in this package hold no ?
// inside string literals, so no quoting rules are needed.
func rebind(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// inTx runs fn in a write transaction, committing when it returns nil.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return db.inTxWith(ctx, nil, fn)
}

// readCommitted returns the options of a transaction that relies on READ
// COMMITTED on PostgreSQL (each statement sees what committed before it
// began), whatever the server's default_transaction_isolation; nil on
// SQLite, whose transactions are serializable anyway.
func (db *DB) readCommitted() *sql.TxOptions {
	if db.dialect != DialectPostgres {
		return nil
	}
	return &sql.TxOptions{Isolation: sql.LevelReadCommitted}
}

// inTxWith is inTx with transaction options.
func (db *DB) inTxWith(ctx context.Context, opts *sql.TxOptions, fn func(tx *sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("sqlstore: begin: %w", err)
	}
	// Rolls back on every early return, and when fn panics, so no lock (on
	// SQLite: the only write connection) is ever left held. A no-op after
	// Commit.
	defer tx.Rollback()
	// The observer hears of the events written in tx only once it has
	// committed; this drops them otherwise (a no-op after a commit).
	defer db.settled(ctx, tx, false)
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: commit: %w", err)
	}
	db.settled(ctx, tx, true)
	return nil
}

// execer is what a *sql.DB and a *sql.Tx have in common for writes.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// affected returns how many rows the write whose results it is given
// changed, so a call reads n, err := affected(ex.ExecContext(…)).
func affected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// millis is how a time is stored.
func millis(t time.Time) int64 { return t.UnixMilli() }

// optMillis stores an optional time: NULL when zero.
func optMillis(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// fromMillis reads a stored time back. The zero time round-trips, since
// time.UnixMilli of its UnixMilli is the zero instant again.
func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// fromOptMillis reads an optional time: zero when NULL.
func fromOptMillis(ms sql.NullInt64) time.Time {
	if !ms.Valid {
		return time.Time{}
	}
	return fromMillis(ms.Int64)
}

// optBytes stores an optional byte slice: NULL when empty, so nil and empty
// both read back as nil.
func optBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// violation classifies an integrity error.
type violation int

const (
	noViolation violation = iota
	uniqueViolation
	foreignKeyViolation
)

// classify says whether err is an integrity violation and, for a unique
// violation, whether it is on table.column (named table_column_key in the
// PostgreSQL schema).
func classify(err error, table, column string) (v violation, onColumn bool) {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return uniqueViolation, strings.Contains(se.Error(), table+"."+column)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return foreignKeyViolation, false
		}
		return noViolation, false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return uniqueViolation, pe.ConstraintName == table+"_"+column+"_key"
		case "23503":
			return foreignKeyViolation, false
		}
	}
	return noViolation, false
}
