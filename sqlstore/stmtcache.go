package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jackc/pgx/v5/stdlib"
)

// readRow runs query (with ? placeholders) on the reader pool and scans
// its one row into dest, like db.r.QueryRowContext(ctx, db.q(query),
// args...).Scan(dest...). On SQLite, the hot reads of every request (the
// session of a bearer token, its account, a login's counters) go through
// a statement prepared once per connection: parsing the SQL costs about
// as much as running it. On PostgreSQL, whose driver caches its
// statements itself, they go to pgx straight (pgxRow).
//
// Neither a prepared statement's errors nor pgx's own pass through
// outageConn, so any error but sql.ErrNoRows is answered by running the
// query again the plain way, which names an outage as every other read
// does (and, on a connection found dead, retries on another).
func (db *DB) readRow(ctx context.Context, query string, args []any, dest ...any) error {
	switch db.dialect {
	case DialectSQLite:
		if st, err := db.prepared(ctx, query); err == nil {
			err := st.QueryRowContext(ctx, args...).Scan(dest...)
			if err == nil || errors.Is(err, sql.ErrNoRows) || ctx.Err() != nil {
				return err
			}
		}
	case DialectPostgres:
		err := db.pgxRow(ctx, query, args, dest...)
		if err == nil || errors.Is(err, sql.ErrNoRows) || ctx.Err() != nil {
			return err
		}
	}
	return db.r.QueryRowContext(ctx, db.q(query), args...).Scan(dest...)
}

// errNotPgx is pgxRow's answer on a connection that is not pgx's (none
// in this package: every PostgreSQL connection is an outageConn on a
// stdlib.Conn).
var errNotPgx = errors.New("sqlstore: not a pgx connection")

// pgxRow runs query through pgx's own QueryRow on a connection of the
// pool, skipping database/sql's rows: no driver.Value conversions, and no
// goroutine per query waiting on ctx (pgx watches ctx with
// context.AfterFunc), while ctx still cancels the query. pgx.ErrNoRows is
// sql.ErrNoRows to errors.Is.
func (db *DB) pgxRow(ctx context.Context, query string, args []any, dest ...any) error {
	conn, err := db.r.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		oc, ok := dc.(*outageConn)
		if !ok {
			return errNotPgx
		}
		pc, ok := oc.conn.(*stdlib.Conn)
		if !ok {
			return errNotPgx
		}
		return pc.Conn().QueryRow(ctx, db.rebound(query), args...).Scan(dest...)
	})
}

// rebound is db.q(query) for a hot read, rewritten once: the set of
// queries is fixed in the code, so the cache is bounded by it.
func (db *DB) rebound(query string) string {
	if q, ok := db.rebinds.Load(query); ok {
		return q.(string)
	}
	q := db.q(query)
	db.rebinds.Store(query, q)
	return q
}

// prepared returns query prepared on the reader pool, preparing it the
// first time. The set of queries is fixed in the code, so the cache is
// bounded by it.
func (db *DB) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := db.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := db.r.PrepareContext(ctx, db.q(query))
	if err != nil {
		return nil, err
	}
	if prev, loaded := db.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// hotRow is a row to scan once through readRow, for the scan helpers
// (scanSession, scanAccount) that take a row.
type hotRow struct {
	db    *DB
	ctx   context.Context
	query string
	args  []any
}

func (db *DB) hotRow(ctx context.Context, query string, args ...any) hotRow {
	return hotRow{db: db, ctx: ctx, query: query, args: args}
}

func (r hotRow) Scan(dest ...any) error { return r.db.readRow(r.ctx, r.query, r.args, dest...) }
