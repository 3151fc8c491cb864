package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/custos/custos"
)

var _ custos.CounterStore = (*DB)(nil)

const counterColumns = "start, failures, locked_until"

// lockCounterQuery returns the counter's row, inserting a zero one if
// there is none, and locks it for the rest of the transaction: one upsert
// whose DO UPDATE (a no-op change) takes the row lock. PostgreSQL guarantees
// an upsert one of its two outcomes however many run at once, including
// when the row it found is deleted meanwhile; the obvious INSERT … DO
// NOTHING then SELECT … FOR UPDATE does not, since FOR UPDATE skips a row
// deleted while it waited, and under contention every waiter loses that
// race again and again. On SQLite the IMMEDIATE transaction already holds
// the database's write lock, so the row lock adds nothing there.
const lockCounterQuery = "INSERT INTO counters (key, start, failures, locked_until) VALUES (?, NULL, 0, NULL) " +
	"ON CONFLICT (key) DO UPDATE SET failures = counters.failures " +
	"RETURNING " + counterColumns

// UpdateCounter applies fn to the counter's current value (the zero Counter
// when there is none) and stores what it returns, in one transaction that
// holds the counter's row lock from the read to the write, so concurrent
// updates through any number of DB handles apply one after another.
//
// A missing row cannot be locked, so the transaction starts by inserting a
// zero row if there is none, in the statement that locks the row (see
// lockCounterQuery). A zero result deletes the row. An error from fn
// rolls everything back and is returned as it is. The Counter returned is
// the one stored: times in UTC, truncated to milliseconds.
func (db *DB) UpdateCounter(ctx context.Context, key string, fn func(custos.Counter) (custos.Counter, error)) (custos.Counter, error) {
	var next custos.Counter
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		next, err = db.updateCounterTx(ctx, tx, key, fn)
		return err
	})
	if err != nil {
		return custos.Counter{}, err
	}
	return next, nil
}

// updateCounterTx is UpdateCounter inside a caller's transaction: it locks
// the counter's row (inserting a zero row first when there is none),
// applies fn and stores the result. inTx rolls back on every error, and
// when fn panics, so the row lock (and on SQLite the only write
// connection) is never left held.
func (db *DB) updateCounterTx(ctx context.Context, tx *sql.Tx, key string, fn func(custos.Counter) (custos.Counter, error)) (custos.Counter, error) {
	cur, err := scanCounter(tx.QueryRowContext(ctx, db.q(lockCounterQuery), key))
	if err != nil {
		return custos.Counter{}, fmt.Errorf("sqlstore: update counter: %w", err)
	}
	next, err := fn(cur)
	if err != nil {
		return custos.Counter{}, err
	}
	next = storedCounter(next)
	if next == (custos.Counter{}) {
		_, err = tx.ExecContext(ctx, db.q("DELETE FROM counters WHERE key = ?"), key)
	} else {
		_, err = tx.ExecContext(ctx, db.q(
			"UPDATE counters SET start = ?, failures = ?, locked_until = ? WHERE key = ?"),
			optMillis(next.Start), next.Failures, optMillis(next.LockedUntil), key)
	}
	if err != nil {
		return custos.Counter{}, fmt.Errorf("sqlstore: update counter: %w", err)
	}
	return next, nil
}

// SwapCounter stores next if the counter still is old, in one
// autocommitted statement: an insert that does nothing on a conflict when
// old is zero (no row), else an update or delete whose condition is old's
// every column, null-safe. On PostgreSQL a concurrent update of the row
// makes it wait and then test the row as that update left it (READ
// COMMITTED re-evaluates the condition), so of any number of swaps from
// one value at most one succeeds; on SQLite writes run one at a time.
func (db *DB) SwapCounter(ctx context.Context, key string, old, next custos.Counter) (custos.Counter, bool, error) {
	return db.swapCounter(ctx, db.w, key, old, next)
}

// swapCounter is SwapCounter through ex: the writer pool, or a
// transaction (where the row, once swapped, stays locked to the commit).
func (db *DB) swapCounter(ctx context.Context, ex execer, key string, old, next custos.Counter) (custos.Counter, bool, error) {
	old, next = storedCounter(old), storedCounter(next)
	var (
		res sql.Result
		err error
	)
	switch {
	case old == (custos.Counter{}) && next == (custos.Counter{}):
		var one int
		err := ex.QueryRowContext(ctx, db.q("SELECT 1 FROM counters WHERE key = ?"), key).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return next, true, nil
		}
		if err != nil {
			return custos.Counter{}, false, fmt.Errorf("sqlstore: swap counter: %w", err)
		}
		return custos.Counter{}, false, nil
	case old == (custos.Counter{}):
		res, err = db.execHot(ctx, ex,
			"INSERT INTO counters (key, start, failures, locked_until) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
			key, optMillis(next.Start), next.Failures, optMillis(next.LockedUntil))
	default:
		query, args := db.swapFrom(key, old, next)
		res, err = db.execHot(ctx, ex, query, args...)
	}
	if err != nil {
		return custos.Counter{}, false, fmt.Errorf("sqlstore: swap counter: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return custos.Counter{}, false, fmt.Errorf("sqlstore: swap counter: %w", err)
	}
	return next, n == 1, nil
}

// swapFrom is the statement (and its arguments) that replaces the stored
// counter under key with next only if it is still old, which is not the
// zero Counter: an UPDATE, or a DELETE when next is the zero Counter (not
// stored). Its WHERE clause comes last, for a caller to add to.
func (db *DB) swapFrom(key string, old, next custos.Counter) (string, []any) {
	is := " IS "
	if db.dialect == DialectPostgres {
		is = " IS NOT DISTINCT FROM "
	}
	match := "key = ? AND start" + is + "? AND failures = ? AND locked_until" + is + "?"
	args := []any{key, optMillis(old.Start), old.Failures, optMillis(old.LockedUntil)}
	if next == (custos.Counter{}) {
		return "DELETE FROM counters WHERE " + match, args
	}
	return "UPDATE counters SET start = ?, failures = ?, locked_until = ? WHERE " + match,
		append([]any{optMillis(next.Start), next.Failures, optMillis(next.LockedUntil)}, args...)
}

// GetCounters returns the counters under a and b (the zero Counter for
// one there is none of), in one hot read: one row from a row of nothing
// joined to each.
func (db *DB) GetCounters(ctx context.Context, a, b string) (custos.Counter, custos.Counter, error) {
	var (
		ca, cb     custos.Counter
		as, al, af sql.NullInt64
		bs, bl, bf sql.NullInt64
	)
	err := db.hotRow(ctx, "SELECT a.start, a.failures, a.locked_until, b.start, b.failures, b.locked_until "+
		"FROM (SELECT 1 AS one) AS x LEFT JOIN counters AS a ON a.key = ? LEFT JOIN counters AS b ON b.key = ?", a, b).
		Scan(&as, &af, &al, &bs, &bf, &bl)
	if err != nil {
		return custos.Counter{}, custos.Counter{}, fmt.Errorf("sqlstore: get counters: %w", err)
	}
	ca = custos.Counter{Start: fromOptMillis(as), Failures: int(af.Int64), LockedUntil: fromOptMillis(al)}
	cb = custos.Counter{Start: fromOptMillis(bs), Failures: int(bf.Int64), LockedUntil: fromOptMillis(bl)}
	return ca, cb, nil
}

// GetCounter returns the counter, or the zero Counter when there is none.
func (db *DB) GetCounter(ctx context.Context, key string) (custos.Counter, error) {
	c, err := scanCounter(db.hotRow(ctx, "SELECT "+counterColumns+" FROM counters WHERE key = ?", key))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return custos.Counter{}, nil
	case err != nil:
		return custos.Counter{}, fmt.Errorf("sqlstore: get counter: %w", err)
	}
	return c, nil
}

// ResetCounter deletes the counter and writes ev in one transaction. The
// event is written even when there was no counter: the staff unlock
// happened either way. EConflict if ev's id is taken (and then the counter
// stays).
func (db *DB) ResetCounter(ctx context.Context, key string, ev custos.AuditEvent) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, db.q("DELETE FROM counters WHERE key = ?"), key); err != nil {
			return fmt.Errorf("sqlstore: reset counter: %w", err)
		}
		return db.insertAudit(ctx, tx, ev)
	})
}

// storedCounter is c as it reads back: times in UTC and whole milliseconds,
// and any zero time the zero time.Time itself, so a zero result compares
// equal to the zero Counter.
func storedCounter(c custos.Counter) custos.Counter {
	c.Start = storedTime(c.Start)
	c.LockedUntil = storedTime(c.LockedUntil)
	return c
}

func storedTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return fromMillis(millis(t))
}

func scanCounter(row scanner) (custos.Counter, error) {
	var (
		c                  custos.Counter
		start, lockedUntil sql.NullInt64
	)
	if err := row.Scan(&start, &c.Failures, &lockedUntil); err != nil {
		return custos.Counter{}, err
	}
	c.Start = fromOptMillis(start)
	c.LockedUntil = fromOptMillis(lockedUntil)
	return c, nil
}
