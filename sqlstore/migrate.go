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
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrateLockKey); err != nil {
			return fmt.Errorf("sqlstore: migrate: take lock: %w", err)
		}
		defer func() {
			uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if _, uerr := conn.ExecContext(uctx, "SELECT pg_advisory_unlock($1)", migrateLockKey); uerr != nil {
				// Closing the session is the other way to release the
				// lock: make database/sql discard this connection.
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
				err = errors.Join(err, fmt.Errorf("sqlstore: migrate: release lock: %w", uerr))
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
