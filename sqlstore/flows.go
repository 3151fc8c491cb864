package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/custos/custos"
)

var _ custos.FlowStore = (*DB)(nil)

const flowColumns = "id, kind, account_id, state, data, attempts, max_attempts, created_at, updated_at, expires_at"

// CreateFlow inserts f; EConflict if its id is taken. A flow without an id
// or a kind is a caller bug and fails with a plain error.
func (db *DB) CreateFlow(ctx context.Context, f custos.Flow) error {
	if f.ID == "" || f.Kind == "" {
		return errors.New("sqlstore: create flow: a flow needs an id and a kind")
	}
	_, err := db.w.ExecContext(ctx, db.q(
		"INSERT INTO flows ("+flowColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
		f.ID, string(f.Kind), f.AccountID, f.State, flowData(f.Data), f.Attempts, f.MaxAttempts,
		millis(f.CreatedAt), millis(f.UpdatedAt), millis(f.ExpiresAt))
	if err != nil {
		if v, _ := classify(err, "flows", "id"); v == uniqueViolation {
			return custos.Errorf(custos.EConflict, "flow %q already exists", f.ID)
		}
		return fmt.Errorf("sqlstore: create flow: %w", err)
	}
	return nil
}

// FlowByID returns the flow id of that kind while it is unexpired
// (ExpiresAt > now), in whatever state; ENotFound otherwise, whatever the
// reason.
func (db *DB) FlowByID(ctx context.Context, id string, kind custos.FlowKind, now time.Time) (custos.Flow, error) {
	f, err := scanFlow(db.r.QueryRowContext(ctx, db.q(
		"SELECT "+flowColumns+" FROM flows WHERE id = ? AND kind = ? AND expires_at > ?"),
		id, string(kind), millis(now)))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return custos.Flow{}, custos.Errorf(custos.ENotFound, "flow not found")
	case err != nil:
		return custos.Flow{}, fmt.Errorf("sqlstore: flow by id: %w", err)
	}
	return f, nil
}

// AdvanceFlow moves the unexpired flow from state from to state to,
// replaces its data and sets UpdatedAt to now, in one UPDATE whose WHERE
// clause holds the expected state: of any number of concurrent transitions
// from one state (on any replica), exactly one matches the row. EExpired
// when the flow is not in state from or has expired; ENotFound if there is
// no flow id of that kind.
func (db *DB) AdvanceFlow(ctx context.Context, id string, kind custos.FlowKind, from, to string, data []byte, now time.Time) error {
	at := millis(now)
	n, err := affected(db.w.ExecContext(ctx, db.q(
		"UPDATE flows SET state = ?, data = ?, updated_at = ? "+
			"WHERE id = ? AND kind = ? AND state = ? AND expires_at > ?"),
		to, flowData(data), at, id, string(kind), from, at))
	if err != nil {
		return fmt.Errorf("sqlstore: advance flow: %w", err)
	}
	if n == 1 {
		return nil
	}
	return db.deadFlow(ctx, id, kind)
}

// CountFlowAttempt counts one guess on the unexpired flow in one UPDATE …
// RETURNING whose WHERE clause holds the limit, so concurrent guesses (on
// any replica) each count once and none counts past MaxAttempts, and
// returns the guesses left after it (0 after the last one). EExpired
// without counting when none is left (a flow with MaxAttempts 0 takes
// none) or the flow has expired; ENotFound if there is no flow id of that
// kind. UpdatedAt stays: it is when the flow last changed state.
func (db *DB) CountFlowAttempt(ctx context.Context, id string, kind custos.FlowKind, now time.Time) (int, error) {
	var left int
	err := db.w.QueryRowContext(ctx, db.q(
		"UPDATE flows SET attempts = attempts + 1 "+
			"WHERE id = ? AND kind = ? AND attempts < max_attempts AND expires_at > ? "+
			"RETURNING max_attempts - attempts"),
		id, string(kind), millis(now)).Scan(&left)
	switch {
	case err == nil:
		return left, nil
	case !errors.Is(err, sql.ErrNoRows):
		return 0, fmt.Errorf("sqlstore: count flow attempt: %w", err)
	}
	return 0, db.deadFlow(ctx, id, kind)
}

// deadFlow says why a write matched no flow: ENotFound when there is no
// flow id of the kind, EExpired when there is one that is expired, in
// another state or out of guesses. A flow's kind never changes; the only
// thing that can happen in between is the sweeper deleting an expired flow,
// which turns EExpired into ENotFound for a flow that was dead anyway.
func (db *DB) deadFlow(ctx context.Context, id string, kind custos.FlowKind) error {
	var got string
	err := db.r.QueryRowContext(ctx, db.q("SELECT kind FROM flows WHERE id = ?"), id).Scan(&got)
	switch {
	case errors.Is(err, sql.ErrNoRows), err == nil && got != string(kind):
		return custos.Errorf(custos.ENotFound, "flow not found")
	case err != nil:
		return fmt.Errorf("sqlstore: flow state: %w", err)
	}
	return custos.Errorf(custos.EExpired, "the flow has expired or moved on")
}

// DeleteExpiredFlows removes flows expired by now (ExpiresAt <= now, the
// same rule as FlowByID) and returns how many.
func (db *DB) DeleteExpiredFlows(ctx context.Context, now time.Time) (int, error) {
	n, err := affected(db.w.ExecContext(ctx, db.q("DELETE FROM flows WHERE expires_at <= ?"), millis(now)))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: delete expired flows: %w", err)
	}
	return int(n), nil
}

// flowData stores a flow's data: the column is NOT NULL, so no data is
// stored empty (and reads back as nil).
func flowData(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func scanFlow(row scanner) (custos.Flow, error) {
	var (
		f                         custos.Flow
		kind                      string
		created, updated, expires int64
	)
	if err := row.Scan(&f.ID, &kind, &f.AccountID, &f.State, &f.Data, &f.Attempts, &f.MaxAttempts,
		&created, &updated, &expires); err != nil {
		return custos.Flow{}, err
	}
	f.Kind = custos.FlowKind(kind)
	if len(f.Data) == 0 {
		f.Data = nil
	}
	f.CreatedAt = fromMillis(created)
	f.UpdatedAt = fromMillis(updated)
	f.ExpiresAt = fromMillis(expires)
	return f, nil
}
