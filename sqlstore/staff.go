package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/custos/custos"
)

var _ custos.StaffStore = (*DB)(nil)

// defaultStaffEventLimit is how many events a StaffEventFilter without a
// Limit lists.
const defaultStaffEventLimit = 100

const (
	staffColumns        = "id, email, role, state, password_hash, totp_secret, totp_last_step, created_at, enrolled_at"
	staffSessionColumns = "id, staff_id, token_hash, created_at, last_seen_at, expires_at, remote_addr, user_agent"
	staffEventColumns   = "id, at, staff_id, action, target, remote_addr, user_agent, detail"
)

// CreateStaff inserts s as invited (whatever s.State says) and ev, in one
// transaction; EEmailTaken if a staff member has the email, EConflict if
// the id (or ev's) is taken.
func (db *DB) CreateStaff(ctx context.Context, s custos.Staff, ev custos.StaffEvent) error {
	if s.ID == "" {
		return errors.New("sqlstore: create staff: a staff member needs an id")
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, db.q(
			"INSERT INTO staff ("+staffColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"),
			s.ID, s.Email, string(s.Role), custos.StaffInvited, s.PasswordHash, optBytes(s.TOTPSecret),
			s.TOTPLastStep, millis(s.CreatedAt), optMillis(s.EnrolledAt))
		if err != nil {
			if v, onEmail := classify(err, "staff", "email"); v == uniqueViolation {
				if onEmail {
					return custos.Errorf(custos.EEmailTaken, "a staff member has that email")
				}
				return custos.Errorf(custos.EConflict, "staff member %q already exists", s.ID)
			}
			return fmt.Errorf("sqlstore: create staff: %w", err)
		}
		return db.insertStaffEvent(ctx, tx, ev)
	})
}

// StaffByID returns a staff member or ENotFound.
func (db *DB) StaffByID(ctx context.Context, id string) (custos.Staff, error) {
	return db.staffWhere(ctx, "id", id)
}

// StaffByEmail returns the staff member with the (normalised) email or
// ENotFound.
func (db *DB) StaffByEmail(ctx context.Context, email string) (custos.Staff, error) {
	return db.staffWhere(ctx, "email", email)
}

func (db *DB) staffWhere(ctx context.Context, column, value string) (custos.Staff, error) {
	s, err := scanStaff(db.r.QueryRowContext(ctx, db.q("SELECT "+staffColumns+" FROM staff WHERE "+column+" = ?"), value))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return custos.Staff{}, custos.Errorf(custos.ENotFound, "staff member not found")
	case err != nil:
		return custos.Staff{}, fmt.Errorf("sqlstore: staff by %s: %w", column, err)
	}
	return s, nil
}

// ListStaff returns every staff member, by email; an empty slice when
// there are none.
func (db *DB) ListStaff(ctx context.Context) ([]custos.Staff, error) {
	rows, err := db.r.QueryContext(ctx, "SELECT "+staffColumns+" FROM staff ORDER BY email, id")
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list staff: %w", err)
	}
	defer rows.Close()
	out := []custos.Staff{}
	for rows.Next() {
		s, err := scanStaff(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: list staff: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list staff: %w", err)
	}
	return out, nil
}

// ActivateStaff ends an invited member's enrolment in one UPDATE whose
// WHERE clause holds state = 'invited' (of racing enrolments one wins),
// and writes ev in the same transaction. EConflict if the member is no
// longer invited; ENotFound if unknown.
func (db *DB) ActivateStaff(ctx context.Context, id, passwordHash string, totpSecret []byte, step int64, at time.Time, ev custos.StaffEvent) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		n, err := affected(tx.ExecContext(ctx, db.q(
			"UPDATE staff SET password_hash = ?, totp_secret = ?, totp_last_step = ?, state = 'active', enrolled_at = ? "+
				"WHERE id = ? AND state = 'invited'"),
			passwordHash, optBytes(totpSecret), step, millis(at), id))
		if err != nil {
			return fmt.Errorf("sqlstore: activate staff: %w", err)
		}
		if n == 0 {
			if err := db.staffExists(ctx, tx, id); err != nil {
				return err
			}
			return custos.Errorf(custos.EConflict, "the staff member is not invited")
		}
		return db.insertStaffEvent(ctx, tx, ev)
	})
}

// staffExists returns nil if the staff member id exists, ENotFound if not.
func (db *DB) staffExists(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}, id string) error {
	var one int
	err := q.QueryRowContext(ctx, db.q("SELECT 1 FROM staff WHERE id = ?"), id).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return custos.Errorf(custos.ENotFound, "staff member not found")
	case err != nil:
		return fmt.Errorf("sqlstore: staff member: %w", err)
	}
	return nil
}

// UseStaffTOTPStep records step as the member's last accepted time step in
// one UPDATE whose WHERE clause holds step > totp_last_step, so of racing
// uses of one code (on any replica) exactly one matches. EInvalidCode when
// the step is not later than the last accepted one; ENotFound if unknown.
func (db *DB) UseStaffTOTPStep(ctx context.Context, id string, step int64) error {
	n, err := affected(db.w.ExecContext(ctx, db.q(
		"UPDATE staff SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?"), step, id, step))
	if err != nil {
		return fmt.Errorf("sqlstore: use staff totp step: %w", err)
	}
	if n == 1 {
		return nil
	}
	// Staff are never deleted by the store, so a member seen now was
	// refused for its step.
	if err := db.staffExists(ctx, db.r, id); err != nil {
		return err
	}
	return custos.Errorf(custos.EInvalidCode, "the code was already used")
}

// SetStaffRole changes a member's role and writes ev, in one transaction;
// ENotFound if unknown.
func (db *DB) SetStaffRole(ctx context.Context, id string, role custos.StaffRole, ev custos.StaffEvent) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		n, err := affected(tx.ExecContext(ctx, db.q("UPDATE staff SET role = ? WHERE id = ?"), string(role), id))
		if err != nil {
			return fmt.Errorf("sqlstore: set staff role: %w", err)
		}
		if n == 0 {
			return custos.Errorf(custos.ENotFound, "staff member not found")
		}
		return db.insertStaffEvent(ctx, tx, ev)
	})
}

// DisableStaff sets the member disabled, deletes its sessions and writes
// ev, in one transaction; ENotFound if unknown. On PostgreSQL the UPDATE
// holds the member's row, which CreateStaffSession reads FOR SHARE: a
// session created before it is seen (and deleted) by the DELETE, one
// created after it finds the member disabled.
func (db *DB) DisableStaff(ctx context.Context, id string, ev custos.StaffEvent) error {
	return db.inTxWith(ctx, db.readCommitted(), func(tx *sql.Tx) error {
		n, err := affected(tx.ExecContext(ctx, db.q("UPDATE staff SET state = 'disabled' WHERE id = ?"), id))
		if err != nil {
			return fmt.Errorf("sqlstore: disable staff: %w", err)
		}
		if n == 0 {
			return custos.Errorf(custos.ENotFound, "staff member not found")
		}
		if _, err := tx.ExecContext(ctx, db.q("DELETE FROM staff_sessions WHERE staff_id = ?"), id); err != nil {
			return fmt.Errorf("sqlstore: disable staff: end sessions: %w", err)
		}
		return db.insertStaffEvent(ctx, tx, ev)
	})
}

// CreateStaffSession inserts s, only if its member is active, and ev, in
// one transaction: the INSERT … SELECT reads the member's state in the
// statement that inserts (on PostgreSQL FOR SHARE, so a DisableStaff
// either waits for it or is waited for). ENotFound if the member is not
// active (invited, disabled or unknown); EConflict if the session's id or
// token is taken.
func (db *DB) CreateStaffSession(ctx context.Context, s custos.StaffSession, ev custos.StaffEvent) error {
	lock := ""
	if db.dialect == DialectPostgres {
		lock = " FOR SHARE"
	}
	return db.inTxWith(ctx, db.readCommitted(), func(tx *sql.Tx) error {
		n, err := affected(tx.ExecContext(ctx, db.q(
			"INSERT INTO staff_sessions ("+staffSessionColumns+") "+
				"SELECT ?, id, ?, ?, ?, ?, ?, ? FROM staff WHERE id = ? AND state = 'active'"+lock),
			s.ID, s.TokenHash, millis(s.CreatedAt), millis(s.LastSeenAt), millis(s.ExpiresAt),
			s.RemoteAddr, s.UserAgent, s.StaffID))
		if err != nil {
			if v, _ := classify(err, "staff_sessions", "token_hash"); v == uniqueViolation {
				return custos.Errorf(custos.EConflict, "staff session %q or its token already exists", s.ID)
			}
			return fmt.Errorf("sqlstore: create staff session: %w", err)
		}
		if n == 0 {
			return custos.Errorf(custos.ENotFound, "no active staff member %q", s.StaffID)
		}
		return db.insertStaffEvent(ctx, tx, ev)
	})
}

// StaffSessionByTokenHash returns a session or ENotFound. It does not
// judge expiry: that is the caller's rule.
func (db *DB) StaffSessionByTokenHash(ctx context.Context, tokenHash []byte) (custos.StaffSession, error) {
	var (
		s                        custos.StaffSession
		created, seen, expiresAt int64
	)
	err := db.r.QueryRowContext(ctx, db.q("SELECT "+staffSessionColumns+" FROM staff_sessions WHERE token_hash = ?"), tokenHash).
		Scan(&s.ID, &s.StaffID, &s.TokenHash, &created, &seen, &expiresAt, &s.RemoteAddr, &s.UserAgent)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return custos.StaffSession{}, custos.Errorf(custos.ENotFound, "staff session not found")
	case err != nil:
		return custos.StaffSession{}, fmt.Errorf("sqlstore: staff session by token: %w", err)
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = fromMillis(created), fromMillis(seen), fromMillis(expiresAt)
	return s, nil
}

// TouchStaffSession sets LastSeenAt; ENotFound if the session is gone.
func (db *DB) TouchStaffSession(ctx context.Context, id string, at time.Time) error {
	n, err := affected(db.w.ExecContext(ctx, db.q("UPDATE staff_sessions SET last_seen_at = ? WHERE id = ?"), millis(at), id))
	if err != nil {
		return fmt.Errorf("sqlstore: touch staff session: %w", err)
	}
	if n == 0 {
		return custos.Errorf(custos.ENotFound, "staff session not found")
	}
	return nil
}

// DeleteStaffSession ends one session and writes ev, in one transaction;
// ENotFound (and no event) if it is gone.
func (db *DB) DeleteStaffSession(ctx context.Context, id string, ev custos.StaffEvent) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		n, err := affected(tx.ExecContext(ctx, db.q("DELETE FROM staff_sessions WHERE id = ?"), id))
		if err != nil {
			return fmt.Errorf("sqlstore: delete staff session: %w", err)
		}
		if n == 0 {
			return custos.Errorf(custos.ENotFound, "staff session not found")
		}
		return db.insertStaffEvent(ctx, tx, ev)
	})
}

// DeleteExpiredStaffSessions removes sessions with ExpiresAt before now or
// LastSeenAt before idleBefore (the rule of DeleteExpiredSessions), and
// returns how many.
func (db *DB) DeleteExpiredStaffSessions(ctx context.Context, now, idleBefore time.Time) (int, error) {
	n, err := affected(db.w.ExecContext(ctx, db.q(
		"DELETE FROM staff_sessions WHERE expires_at < ? OR last_seen_at < ?"), millis(now), millis(idleBefore)))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: delete expired staff sessions: %w", err)
	}
	return int(n), nil
}

// AppendStaffEvent writes one event on its own; EConflict if its id is
// taken. An event without an id is a caller bug and fails with a plain
// error.
func (db *DB) AppendStaffEvent(ctx context.Context, ev custos.StaffEvent) error {
	return db.insertStaffEvent(ctx, db.w, ev)
}

// insertStaffEvent writes ev through ex, a transaction or the write pool.
func (db *DB) insertStaffEvent(ctx context.Context, ex execer, ev custos.StaffEvent) error {
	if ev.ID == "" {
		return errors.New("sqlstore: staff event has no ID")
	}
	var detail any // NULL when there is none, so nil and empty read back as nil
	if len(ev.Detail) > 0 {
		b, err := json.Marshal(ev.Detail)
		if err != nil {
			return fmt.Errorf("sqlstore: staff event detail: %w", err)
		}
		detail = string(b)
	}
	_, err := ex.ExecContext(ctx, db.q(
		"INSERT INTO staff_events ("+staffEventColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
		ev.ID, millis(ev.At), ev.StaffID, ev.Action, ev.Target, ev.RemoteAddr, ev.UserAgent, detail)
	if err != nil {
		if v, _ := classify(err, "staff_events", "id"); v == uniqueViolation {
			return custos.Errorf(custos.EConflict, "staff event %q already exists", ev.ID)
		}
		return fmt.Errorf("sqlstore: append staff event: %w", err)
	}
	db.heardStaff(ctx, ex, ev)
	return nil
}

// ListStaffEvents returns events newest first (events of the same
// millisecond latest-written first), of f.StaffID and f.Target when set,
// before f.Before when it is not zero, at most f.Limit
// (defaultStaffEventLimit when it is not positive).
func (db *DB) ListStaffEvents(ctx context.Context, f custos.StaffEventFilter) ([]custos.StaffEvent, error) {
	var (
		where []string
		args  []any
	)
	if f.StaffID != "" {
		where = append(where, "staff_id = ?")
		args = append(args, f.StaffID)
	}
	if f.Target != "" {
		where = append(where, "target = ?")
		args = append(args, f.Target)
	}
	if !f.Before.IsZero() {
		where = append(where, "at < ?")
		args = append(args, millis(f.Before))
	}
	query := "SELECT " + staffEventColumns + " FROM staff_events"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultStaffEventLimit
	}
	args = append(args, limit)
	rows, err := db.r.QueryContext(ctx, db.q(query+" ORDER BY at DESC, "+db.insertOrder()+" DESC LIMIT ?"), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list staff events: %w", err)
	}
	defer rows.Close()
	out := []custos.StaffEvent{}
	for rows.Next() {
		var (
			ev     custos.StaffEvent
			at     int64
			detail sql.NullString
		)
		if err := rows.Scan(&ev.ID, &at, &ev.StaffID, &ev.Action, &ev.Target, &ev.RemoteAddr, &ev.UserAgent, &detail); err != nil {
			return nil, fmt.Errorf("sqlstore: list staff events: %w", err)
		}
		ev.At = fromMillis(at)
		if detail.Valid && detail.String != "" {
			if err := json.Unmarshal([]byte(detail.String), &ev.Detail); err != nil {
				return nil, fmt.Errorf("sqlstore: staff event %q detail: %w", ev.ID, err)
			}
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list staff events: %w", err)
	}
	return out, nil
}

func scanStaff(row scanner) (custos.Staff, error) {
	var (
		s        custos.Staff
		role     string
		created  int64
		enrolled sql.NullInt64
	)
	if err := row.Scan(&s.ID, &s.Email, &role, &s.State, &s.PasswordHash, &s.TOTPSecret, &s.TOTPLastStep,
		&created, &enrolled); err != nil {
		return custos.Staff{}, err
	}
	s.Role = custos.StaffRole(role)
	if len(s.TOTPSecret) == 0 {
		s.TOTPSecret = nil
	}
	s.CreatedAt = fromMillis(created)
	s.EnrolledAt = fromOptMillis(enrolled)
	return s, nil
}
