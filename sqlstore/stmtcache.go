package sqlstore

import (
	"context"
	"database/sql"
	"errors"
)

// readRow runs query (with ? placeholders) on the reader pool and scans
// its one row into dest, like db.r.QueryRowContext(ctx, db.q(query),
// args...).Scan(dest...). On SQLite, the hot reads of every request (the
// session of a bearer token, its account, a login's counters) go through
// a statement prepared once per connection: parsing the SQL costs about
// as much as running it. PostgreSQL's driver caches its statements itself.
//
// A prepared statement's errors do not pass through outageConn, so any
// error but sql.ErrNoRows is answered by running the query again the
// plain way, which names an outage as every other read does.
func (db *DB) readRow(ctx context.Context, query string, args []any, dest ...any) error {
	if db.dialect == DialectSQLite {
		if st, err := db.prepared(ctx, query); err == nil {
			err := st.QueryRowContext(ctx, args...).Scan(dest...)
			if err == nil || errors.Is(err, sql.ErrNoRows) || ctx.Err() != nil {
				return err
			}
		}
	}
	return db.r.QueryRowContext(ctx, db.q(query), args...).Scan(dest...)
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
