package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// This file adapts single pgx connections to database/sql, so PostgreSQL and
// SQLite share one code path. It does what pgx's own stdlib package does,
// reduced to what this package uses; that package cannot be used here
// because it imports pgxpool, whose dependency (jackc/puddle) is not in
// go.mod. database/sql provides the pooling.

// pgConnector opens pgx connections for sql.OpenDB. It registers no global
// driver name.
type pgConnector struct {
	cfg *pgx.ConnConfig
}

// Connect opens one connection; pgx.ConnectConfig copies cfg first.
func (c *pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, c.cfg)
	if err != nil {
		return nil, err
	}
	return &pgConn{conn: conn}, nil
}

// Driver returns a driver that can only be used through the connector.
func (c *pgConnector) Driver() driver.Driver { return pgDriver{} }

type pgDriver struct{}

func (pgDriver) Open(string) (driver.Conn, error) {
	return nil, errors.New("sqlstore: the postgres driver opens connections only through its connector")
}

// idlePing is how long a connection may sit in the pool before it is pinged
// on reuse, so a connection the server dropped (a restart, a failover) is
// replaced instead of failing a request.
const idlePing = time.Second

// pgConn is one PostgreSQL connection as database/sql sees it.
type pgConn struct {
	conn     *pgx.Conn
	lastUsed time.Time // monotonic; measures idleness only, never a rule
}

var (
	_ driver.Conn               = (*pgConn)(nil)
	_ driver.ConnBeginTx        = (*pgConn)(nil)
	_ driver.ExecerContext      = (*pgConn)(nil)
	_ driver.QueryerContext     = (*pgConn)(nil)
	_ driver.ConnPrepareContext = (*pgConn)(nil)
	_ driver.Pinger             = (*pgConn)(nil)
	_ driver.SessionResetter    = (*pgConn)(nil)
	_ driver.Validator          = (*pgConn)(nil)
)

func (c *pgConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

// PrepareContext returns a statement that runs through ExecContext and
// QueryContext; pgx caches the server-side statement per connection anyway.
func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if c.conn.IsClosed() {
		return nil, driver.ErrBadConn
	}
	return &pgStmt{conn: c, query: query}, nil
}

func (c *pgConn) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.conn.Close(ctx)
}

func (c *pgConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if c.conn.IsClosed() {
		return nil, driver.ErrBadConn
	}
	var o pgx.TxOptions
	switch sql.IsolationLevel(opts.Isolation) {
	case sql.LevelDefault:
	case sql.LevelReadCommitted:
		o.IsoLevel = pgx.ReadCommitted
	case sql.LevelRepeatableRead, sql.LevelSnapshot:
		o.IsoLevel = pgx.RepeatableRead
	case sql.LevelSerializable:
		o.IsoLevel = pgx.Serializable
	default:
		return nil, fmt.Errorf("sqlstore: unsupported isolation level %v", sql.IsolationLevel(opts.Isolation))
	}
	if opts.ReadOnly {
		o.AccessMode = pgx.ReadOnly
	}
	tx, err := c.conn.BeginTx(ctx, o)
	if err != nil {
		if pgconn.SafeToRetry(err) {
			return nil, driver.ErrBadConn
		}
		return nil, err
	}
	return pgTx{ctx: ctx, tx: tx}, nil
}

func (c *pgConn) ExecContext(ctx context.Context, query string, named []driver.NamedValue) (driver.Result, error) {
	if c.conn.IsClosed() {
		return nil, driver.ErrBadConn
	}
	args, err := plainArgs(named)
	if err != nil {
		return nil, err
	}
	tag, err := c.conn.Exec(ctx, query, args...)
	if err != nil {
		if pgconn.SafeToRetry(err) {
			return nil, driver.ErrBadConn
		}
		return nil, err
	}
	return driver.RowsAffected(tag.RowsAffected()), nil
}

func (c *pgConn) QueryContext(ctx context.Context, query string, named []driver.NamedValue) (driver.Rows, error) {
	if c.conn.IsClosed() {
		return nil, driver.ErrBadConn
	}
	args, err := plainArgs(named)
	if err != nil {
		return nil, err
	}
	rows, err := c.conn.Query(ctx, query, args...)
	if err != nil {
		if pgconn.SafeToRetry(err) {
			return nil, driver.ErrBadConn
		}
		return nil, err
	}
	// Read the first row now: an error (a unique violation in an INSERT …
	// RETURNING, say) then surfaces from the query itself.
	more := rows.Next()
	if err := rows.Err(); err != nil {
		rows.Close()
		return nil, err
	}
	return &pgRows{rows: rows, first: true, more: more}, nil
}

func (c *pgConn) Ping(ctx context.Context) error {
	if c.conn.IsClosed() {
		return driver.ErrBadConn
	}
	if err := c.conn.Ping(ctx); err != nil {
		_ = c.Close()
		return driver.ErrBadConn
	}
	return nil
}

// ResetSession runs before a pooled connection is reused.
func (c *pgConn) ResetSession(ctx context.Context) error {
	if c.conn.IsClosed() || c.conn.PgConn().TxStatus() != 'I' {
		return driver.ErrBadConn
	}
	if !c.lastUsed.IsZero() && time.Since(c.lastUsed) > idlePing {
		if err := c.conn.PgConn().Ping(ctx); err != nil {
			return driver.ErrBadConn
		}
	}
	c.lastUsed = time.Now()
	return nil
}

func (c *pgConn) IsValid() bool { return !c.conn.IsClosed() }

// plainArgs passes database/sql's converted values to pgx, which infers
// each parameter's type from the prepared statement.
func plainArgs(named []driver.NamedValue) ([]any, error) {
	args := make([]any, len(named))
	for i, nv := range named {
		if nv.Name != "" {
			return nil, fmt.Errorf("sqlstore: named parameter %q not supported", nv.Name)
		}
		args[i] = nv.Value
	}
	return args, nil
}

type pgTx struct {
	ctx context.Context
	tx  pgx.Tx
}

func (t pgTx) Commit() error   { return t.tx.Commit(t.ctx) }
func (t pgTx) Rollback() error { return t.tx.Rollback(context.WithoutCancel(t.ctx)) }

type pgStmt struct {
	conn  *pgConn
	query string
}

var (
	_ driver.StmtExecContext  = (*pgStmt)(nil)
	_ driver.StmtQueryContext = (*pgStmt)(nil)
)

func (s *pgStmt) Close() error  { return nil }
func (s *pgStmt) NumInput() int { return -1 }

func (s *pgStmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.ExecContext(context.Background(), namedValues(args))
}

func (s *pgStmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.QueryContext(context.Background(), namedValues(args))
}

func (s *pgStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.conn.ExecContext(ctx, s.query, args)
}

func (s *pgStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.conn.QueryContext(ctx, s.query, args)
}

func namedValues(args []driver.Value) []driver.NamedValue {
	nv := make([]driver.NamedValue, len(args))
	for i, v := range args {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return nv
}

// pgRows hands pgx rows to database/sql as driver values.
type pgRows struct {
	rows  pgx.Rows
	first bool // the first row was read ahead by QueryContext
	more  bool // …and whether there was one
}

func (r *pgRows) Columns() []string {
	fds := r.rows.FieldDescriptions()
	names := make([]string, len(fds))
	for i, fd := range fds {
		names[i] = fd.Name
	}
	return names
}

func (r *pgRows) Close() error {
	r.rows.Close()
	return r.rows.Err()
}

func (r *pgRows) Next(dest []driver.Value) error {
	if r.first {
		r.first = false
		if !r.more {
			return io.EOF
		}
	} else if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return io.EOF
	}
	vals, err := r.rows.Values()
	if err != nil {
		return err
	}
	for i, v := range vals {
		// database/sql accepts only the driver.Value kinds; widen the
		// narrower numbers pgx decodes (int4 columns, for one).
		switch v := v.(type) {
		case int16:
			dest[i] = int64(v)
		case int32:
			dest[i] = int64(v)
		case uint32:
			dest[i] = int64(v)
		case float32:
			dest[i] = float64(v)
		default:
			dest[i] = v
		}
	}
	return nil
}
