package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	"github.com/custos/custos"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// An outage is a failure to reach the database at all, as opposed to a
// statement the database refused: the server is down, shutting down or
// refusing connections, the network between is broken, a connection died
// under a statement, or (SQLite) the file cannot be opened or read, or
// another process held its lock past the busy timeout. Every statement of
// this package runs on a connection from outageConnector, which names
// such a failure custos.EUnavailable (503 with a Retry-After at the
// transports) instead of letting it surface as an unknown error (a 500),
// so no query, plain or in a transaction, needs to say so itself.
//
// The error keeps its cause in its chain: database/sql still sees
// driver.ErrBadConn and retries on a fresh connection, and the log shows
// what happened. A failure after the caller's context ended is left as it
// is: that is the request going away, not the database.

// unavailable wraps err, a failure to reach the database, as an
// EUnavailable error that still unwraps to err.
func unavailable(err error) error {
	if custos.IsCode(err, custos.EUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %w", custos.Errorf(custos.EUnavailable, "sqlstore: database unreachable"), err)
}

// isOutage reports whether err, returned by a driver, says the database
// could not be reached (see above).
func isOutage(err error) bool {
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"), // connection_exception
			pe.Code == "57P01", // admin_shutdown (pg_terminate_backend, fast shutdown)
			pe.Code == "57P02", // crash_shutdown
			pe.Code == "57P03", // cannot_connect_now (starting up, shutting down)
			pe.Code == "57P05", // idle_session_timeout
			pe.Code == "53300": // too_many_connections
			return true
		}
		return false
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL:
			return true
		}
		return false
	}
	var ne *net.OpError
	return errors.As(err, &ne)
}

// outageConnector opens connections through the wrapped connector, each
// an outageConn.
type outageConnector struct {
	driver.Connector
}

// Connect names any failure to open a connection an outage, unless ctx
// ended first.
func (c outageConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, unavailable(err)
	}
	return &outageConn{conn: conn}, nil
}

// outageConn is a driver connection whose outages are named (mapErr). It
// forwards every optional interface database/sql looks for, so that the
// wrapped driver behaves as it does unwrapped.
type outageConn struct {
	conn driver.Conn
}

var (
	_ driver.Conn               = (*outageConn)(nil)
	_ driver.ConnBeginTx        = (*outageConn)(nil)
	_ driver.ConnPrepareContext = (*outageConn)(nil)
	_ driver.ExecerContext      = (*outageConn)(nil)
	_ driver.QueryerContext     = (*outageConn)(nil)
	_ driver.Pinger             = (*outageConn)(nil)
	_ driver.SessionResetter    = (*outageConn)(nil)
	_ driver.Validator          = (*outageConn)(nil)
	_ driver.NamedValueChecker  = (*outageConn)(nil)
)

// Unwrap returns the driver's own connection, as modernc.org/sqlite asks
// of a wrapper.
func (c *outageConn) Unwrap() driver.Conn { return c.conn }

// mapErr names err an outage when it is one, or when it left the
// connection unusable (IsValid), unless ctx ended first or err is one of
// the signals database/sql acts on itself.
func (c *outageConn) mapErr(ctx context.Context, err error) error {
	if err == nil || errors.Is(err, driver.ErrSkip) || errors.Is(err, driver.ErrRemoveArgument) ||
		ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if isOutage(err) || !c.IsValid() {
		return unavailable(err)
	}
	return err
}

// IsValid reports whether the connection can still be used: the driver's
// own answer (SQLite), or whether pgx has closed it, which it does when
// its socket fails or its server ends the session. database/sql asks
// before putting a connection back in the pool, so a dead one is dropped
// there rather than on its next use.
func (c *outageConn) IsValid() bool {
	if pc, ok := c.conn.(*stdlib.Conn); ok {
		return !pc.Conn().IsClosed()
	}
	if v, ok := c.conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *outageConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *outageConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	var s driver.Stmt
	var err error
	if p, ok := c.conn.(driver.ConnPrepareContext); ok {
		s, err = p.PrepareContext(ctx, query)
	} else {
		s, err = c.conn.Prepare(query)
	}
	return s, c.mapErr(ctx, err)
}

func (c *outageConn) Close() error { return c.conn.Close() }

func (c *outageConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *outageConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	var tx driver.Tx
	var err error
	if b, ok := c.conn.(driver.ConnBeginTx); ok {
		tx, err = b.BeginTx(ctx, opts)
	} else {
		tx, err = c.conn.Begin() // the fallback database/sql itself would take
	}
	if err != nil {
		return nil, c.mapErr(ctx, err)
	}
	return outageTx{tx: tx, conn: c, ctx: ctx}, nil
}

func (c *outageConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := c.conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	res, err := e.ExecContext(ctx, query, args)
	return res, c.mapErr(ctx, err)
}

func (c *outageConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := c.conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	rows, err := q.QueryContext(ctx, query, args)
	return rows, c.mapErr(ctx, err)
}

func (c *outageConn) Ping(ctx context.Context) error {
	if p, ok := c.conn.(driver.Pinger); ok {
		return c.mapErr(ctx, p.Ping(ctx))
	}
	return nil
}

// ResetSession is not mapped: its driver.ErrBadConn only tells
// database/sql to take another connection.
func (c *outageConn) ResetSession(ctx context.Context) error {
	if r, ok := c.conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *outageConn) CheckNamedValue(nv *driver.NamedValue) error {
	if n, ok := c.conn.(driver.NamedValueChecker); ok {
		return n.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// outageTx names an outage at commit or rollback.
type outageTx struct {
	tx   driver.Tx
	conn *outageConn
	ctx  context.Context
}

func (t outageTx) Commit() error   { return t.conn.mapErr(t.ctx, t.tx.Commit()) }
func (t outageTx) Rollback() error { return t.conn.mapErr(t.ctx, t.tx.Rollback()) }
