package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// migrationFiles holds migrations/<dialect>/NNNN_name.sql. A file, once
// released, is never edited: a change is a new file with the next number.
//
//go:embed migrations
var migrationFiles embed.FS

// migrateLockKey is the pg_advisory_lock key every custos replica takes
// while migrating ("custos" in ASCII).
const migrateLockKey int64 = 0x637573746f73

type migration struct {
	version int64
	name    string
	sql     string
}

// migrations returns the dialect's migrations in version order.
func migrations(dialect string) ([]migration, error) {
	dir := path.Join("migrations", dialect)
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: migrations for %s: %w", dialect, err)
	}
	var ms []migration
	seen := map[int64]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		prefix, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.ParseInt(prefix, 10, 64)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("sqlstore: migration %s/%s: name must start with a positive number", dir, e.Name())
		}
		if other, ok := seen[v]; ok {
			return nil, fmt.Errorf("sqlstore: migrations %s and %s share version %d", other, e.Name(), v)
		}
		seen[v] = e.Name()
		b, err := migrationFiles.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// Migrate brings the schema up to date, applying each embedded migration
// not yet recorded in schema_migrations in its own transaction. It is
// idempotent and safe to run from several processes at once: on PostgreSQL
// it holds an advisory lock for the whole run, and on SQLite each migration
// re-checks its version inside the IMMEDIATE transaction that applies it.
func (db *DB) Migrate(ctx context.Context) (err error) {
	ms, err := migrations(db.dialect)
	if err != nil {
		return err
	}
	// One dedicated connection: a PostgreSQL advisory lock belongs to the
	// session that took it.
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	defer conn.Close()

	if db.dialect == DialectPostgres {
		if err := takeMigrateLock(ctx, conn); err != nil {
			return fmt.Errorf("sqlstore: migrate: %w", err)
		}
		defer func() {
			if uerr := releaseMigrateLock(ctx, conn); uerr != nil {
				err = errors.Join(err, fmt.Errorf("sqlstore: migrate: %w", uerr))
			}
		}()
	}

	if _, err := conn.ExecContext(ctx,
		"CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT NOT NULL PRIMARY KEY)"); err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	for _, m := range ms {
		if err := db.apply(ctx, conn, m); err != nil {
			return err
		}
	}
	return nil
}

// Exclusive runs fn while holding the lock Migrate holds, so that another
// component's migrations (the delivery queue's River tables) take turns
// across replicas starting at once. On PostgreSQL that is the advisory
// lock, held on a connection of its own while fn uses others; on SQLite fn
// runs as it is (each of its write transactions is IMMEDIATE and takes
// the file's write lock, and SQLite has no lock to hold across them
// without its one write connection).
func (db *DB) Exclusive(ctx context.Context, fn func(context.Context) error) (err error) {
	if db.dialect != DialectPostgres {
		return fn(ctx)
	}
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: exclusive: %w", err)
	}
	defer conn.Close()
	if err := takeMigrateLock(ctx, conn); err != nil {
		return fmt.Errorf("sqlstore: exclusive: %w", err)
	}
	defer func() {
		if uerr := releaseMigrateLock(ctx, conn); uerr != nil {
			err = errors.Join(err, fmt.Errorf("sqlstore: exclusive: %w", uerr))
		}
	}()
	return fn(ctx)
}

// takeMigrateLock waits for the PostgreSQL advisory lock on conn.
func takeMigrateLock(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrateLockKey); err != nil {
		return fmt.Errorf("take lock: %w", err)
	}
	return nil
}

// releaseMigrateLock releases the lock takeMigrateLock took, even when ctx
// is done.
func releaseMigrateLock(ctx context.Context, conn *sql.Conn) error {
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := conn.ExecContext(uctx, "SELECT pg_advisory_unlock($1)", migrateLockKey); err != nil {
		// Closing the session is the other way to release the lock: make
		// database/sql discard this connection.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		return fmt.Errorf("release lock: %w", err)
	}
	return nil
}

// apply runs one migration unless it is already recorded.
func (db *DB) apply(ctx context.Context, conn *sql.Conn, m migration) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate %s: %w", m.name, err)
	}
	defer tx.Rollback()
	var n int
	err = tx.QueryRowContext(ctx, db.q("SELECT COUNT(*) FROM schema_migrations WHERE version = ?"), m.version).Scan(&n)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate %s: %w", m.name, err)
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("sqlstore: migrate %s: %w", m.name, err)
	}
	if _, err := tx.ExecContext(ctx, db.q("INSERT INTO schema_migrations (version) VALUES (?)"), m.version); err != nil {
		return fmt.Errorf("sqlstore: migrate %s: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: migrate %s: %w", m.name, err)
	}
	return nil
}
