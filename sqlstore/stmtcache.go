package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sync"

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
	return prepareOnce(ctx, db.r, &db.stmts, db.q(query), query)
}

// prepareOnce returns query (text, once rebound) prepared on pool,
// cached in cache.
func prepareOnce(ctx context.Context, pool *sql.DB, cache *sync.Map, text, query string) (*sql.Stmt, error) {
	if st, ok := cache.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := pool.PrepareContext(ctx, text)
	if err != nil {
		return nil, err
	}
	if prev, loaded := cache.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// execHot is ex.ExecContext(ctx, db.q(query), args...) for a write every
// login makes (counting the attempt, opening the session, its event). On
// SQLite it runs a statement prepared once on the write connection: under
// load, with argon2id having swept the caches, parsing these few
// statements cost a login as much CPU as running them. ex is the writer
// pool or one of its transactions; PostgreSQL's driver caches its
// statements itself.
func (db *DB) execHot(ctx context.Context, ex execer, query string, args ...any) (sql.Result, error) {
	if db.dialect == DialectSQLite {
		switch ex := ex.(type) {
		case *sql.Tx:
			if st := db.hotStmt(ctx, query, true); st != nil {
				res, err := ex.StmtContext(ctx, st).ExecContext(ctx, args...)
				return res, preparedErr(ctx, err)
			}
		case *sql.DB:
			if ex == db.w {
				if st := db.hotStmt(ctx, query, false); st != nil {
					res, err := st.ExecContext(ctx, args...)
					return res, preparedErr(ctx, err)
				}
			}
		}
	}
	return ex.ExecContext(ctx, db.q(query), args...)
}

// queryHot is execHot for a query in a transaction of the writer (never
// of the reader pool: a statement of one pool cannot run in another's
// transaction).
func (db *DB) queryHot(ctx context.Context, q querier, query string, args ...any) (*sql.Rows, error) {
	if tx, ok := q.(*sql.Tx); ok && db.dialect == DialectSQLite {
		if st := db.hotStmt(ctx, query, true); st != nil {
			rows, err := tx.StmtContext(ctx, st).QueryContext(ctx, args...)
			return rows, preparedErr(ctx, err)
		}
	}
	return q.QueryContext(ctx, db.q(query), args...)
}

// hotStmt returns query prepared on the SQLite writer, or nil when it is
// not (yet). Inside a transaction (inTx) the writer's one connection is
// the transaction's, and preparing on the pool would wait for it forever:
// the statement is then prepared in the background, once the connection
// is free, and this and any other call in the meantime run it the plain
// way.
func (db *DB) hotStmt(ctx context.Context, query string, inTx bool) *sql.Stmt {
	if st, ok := db.wstmts.Load(query); ok {
		return st.(*sql.Stmt)
	}
	if !inTx {
		st, err := prepareOnce(ctx, db.w, &db.wstmts, query, query)
		if err != nil {
			return nil
		}
		return st
	}
	if _, started := db.warming.LoadOrStore(query, true); !started {
		go func() {
			if _, err := prepareOnce(context.Background(), db.w, &db.wstmts, query, query); err != nil {
				db.warming.Delete(query) // a later transaction tries again
			}
		}()
	}
	return nil
}

// preparedErr names an outage as outageConn does: a prepared statement's
// errors come from the driver's statement, which it does not wrap.
func preparedErr(ctx context.Context, err error) error {
	if err == nil || ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if isOutage(err) {
		return unavailable(err)
	}
	return err
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
