package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/custos/custos"
	"github.com/jackc/pgx/v5/pgconn"
)

const sessionColumns = "id, token_hash, account_id, created_at, authenticated_at, last_seen_at, " +
	"expires_at, second_factor, verified_until, remote_addr, user_agent, password_version, acting_root_account_id"

// CreateSession inserts s and ev in one transaction. EConflict if
// s.PasswordVersion is not the account's password_version, or if the id or
// token hash is taken (or ev's id); ENotFound if the account does not exist.
func (db *DB) CreateSession(ctx context.Context, s custos.Session, ev custos.AuditEvent) error {
	if done, err := db.openSessionAtOnce(ctx, s, ev, "", nil); done || err != nil {
		return err
	}
	return db.inTxWith(ctx, db.readCommitted(), func(tx *sql.Tx) error {
		if db.dialect == DialectPostgres {
			_, err := db.openSessionPostgres(ctx, tx, s, ev, "", nil)
			return err
		}
		if err := db.insertSessionChecked(ctx, tx, s); err != nil {
			return err
		}
		return db.insertAudit(ctx, tx, ev)
	})
}

// CreateSessionWithCounter is UpdateCounter(counterKey, fn) and
// CreateSession(s, ev) in one transaction; fn's error or a refused session
// (a stale password version among them) leaves both as they were. The
// session is inserted first, reading the account's row FOR SHARE, so the
// account's row is locked before the counter's, in the order
// ResetPassword takes them (no deadlock). With expect (the counter as the
// caller last stored it) fn is applied to it and swapped in (one
// statement); only when the counter changed since is it locked, read and
// applied to again. On PostgreSQL the usual case is one statement outside
// a transaction (openSessionAtOnce).
func (db *DB) CreateSessionWithCounter(ctx context.Context, s custos.Session, ev custos.AuditEvent, counterKey string, expect custos.Counter, fn func(custos.Counter) (custos.Counter, error)) error {
	var next custos.Counter
	var swap string // PostgreSQL's swap statement, and its arguments
	var swapArgs []any
	if expect = storedCounter(expect); expect != (custos.Counter{}) {
		var err error
		if next, err = fn(expect); err != nil {
			return err
		}
		if db.dialect == DialectPostgres {
			// The usual sign-in: the counter as counted, swapped for
			// its refund in the session's own statement.
			swap, swapArgs = db.swapFrom(counterKey, expect, storedCounter(next))
			if done, err := db.openSessionAtOnce(ctx, s, ev, swap, swapArgs); done || err != nil {
				return err
			}
		}
	}
	return db.inTxWith(ctx, db.readCommitted(), func(tx *sql.Tx) error {
		swapped := false
		if db.dialect == DialectPostgres {
			var err error
			if swapped, err = db.openSessionPostgres(ctx, tx, s, ev, swap, swapArgs); err != nil {
				return err
			}
		} else {
			if err := db.insertSessionChecked(ctx, tx, s); err != nil {
				return err
			}
			if expect != (custos.Counter{}) {
				var err error
				if _, swapped, err = db.swapCounter(ctx, tx, counterKey, expect, next); err != nil {
					return err
				}
			}
		}
		if !swapped {
			if _, err := db.updateCounterTx(ctx, tx, counterKey, fn); err != nil {
				return err
			}
		}
		if db.dialect == DialectPostgres {
			return nil // the event went with the session
		}
		return db.insertAudit(ctx, tx, ev)
	})
}

// openSessionPostgres inserts s (checked as insertSessionChecked does), ev
// and, with swap (a statement of swapFrom, and its arguments), the
// counter's swap inside tx in one statement of data-modifying WITH
// clauses, each conditional on the session's row: one round trip where
// there were three, each costing a busy PostgreSQL server its own CPU.
// The statement also reads the webhooks that may want ev. swapped says
// whether the counter was swapped; the caller locks and updates it when
// not. The account's row is read FOR SHARE before the counter's is
// written, in the order ResetPassword takes them.
func (db *DB) openSessionPostgres(ctx context.Context, tx *sql.Tx, s custos.Session, ev custos.AuditEvent, swap string, swapArgs []any) (swapped bool, err error) {
	q, counted, args, err := db.sessionWrites(s, ev, swap, swapArgs)
	if err != nil {
		return false, err
	}
	wanted := "false"
	if hasWebhookKind(ev) {
		wanted = "EXISTS (SELECT 1 FROM s)"
	}
	// One row at least (the hooks joined to a row of nothing), carrying
	// the counts.
	q += " SELECT (SELECT count(*) FROM s), " + counted + ", w.id, w.url, w.events, w.secret, w.created_at" +
		" FROM (SELECT 1) AS one LEFT JOIN webhooks w ON " + wanted + " ORDER BY w.created_at, w.id"
	rows, err := tx.QueryContext(ctx, db.q(q), args...)
	if err != nil {
		return false, openSessionError(err, s, ev)
	}
	defer rows.Close()
	inserted := false
	hooks := []custos.Webhook{}
	for rows.Next() {
		var (
			ns, nc          int64
			id, url, events sql.NullString
			secret          []byte
			at              sql.NullInt64
		)
		if err := rows.Scan(&ns, &nc, &id, &url, &events, &secret, &at); err != nil {
			return false, fmt.Errorf("sqlstore: create session: %w", err)
		}
		inserted, swapped = ns == 1, nc == 1
		if id.Valid {
			hooks = append(hooks, webhookOf(id.String, url.String, events.String, secret, at.Int64))
		}
	}
	if err := rows.Err(); err != nil {
		return false, openSessionError(err, s, ev)
	}
	rows.Close()
	if !inserted {
		return false, db.refusedSession(ctx, tx, s)
	}
	return swapped, db.audited(ctx, tx, ev, hooks)
}

// sessionWrites is the WITH clauses of openSessionPostgres's and
// openSessionAtOnce's statement, and their arguments: s inserted from its
// account's row (s), then, each only if it was, the counter swapped by swap
// (c) and ev (e). counted counts the swapped rows ("0" without swap).
func (db *DB) sessionWrites(s custos.Session, ev custos.AuditEvent, swap string, swapArgs []any) (q, counted string, args []any, err error) {
	query, args := db.sessionInsert(s)
	_, auditArgs, err := auditInsert(ev)
	if err != nil {
		return "", "", nil, err
	}
	q = "WITH s AS (" + query + " RETURNING 1)"
	counted = "0"
	if swap != "" {
		q += ", c AS (" + swap + " AND EXISTS (SELECT 1 FROM s) RETURNING 1)"
		args = append(args, swapArgs...)
		counted = "(SELECT count(*) FROM c)"
	}
	q += ", e AS (INSERT INTO audit_events (" + auditColumns + ") SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM s))"
	return q, counted, append(args, auditArgs...), nil
}

// abortCode is the SQLSTATE of custos_abort (migration 0016).
const abortCode = "CU001"

// openSessionAtOnce opens a sign-in's session on PostgreSQL in one
// statement outside any transaction, so in one round trip with its
// commit, where a transaction costs three (begin, statement, commit). It
// writes everything or nothing: the statement is its own transaction, and
// custos_abort fails it, undoing what it wrote, unless the session was
// inserted, the counter swapped (with swap) and no webhook may want ev
// (their jobs are written by the transaction). done is false when it
// wrote nothing and the caller is to open the session in a transaction
// (which also tells why a session was refused), and always on SQLite,
// whose transactions cost no round trips, and for an event with messages.
func (db *DB) openSessionAtOnce(ctx context.Context, s custos.Session, ev custos.AuditEvent, swap string, swapArgs []any) (done bool, err error) {
	if db.dialect != DialectPostgres || len(ev.Notify) > 0 {
		return false, nil
	}
	q, counted, args, err := db.sessionWrites(s, ev, swap, swapArgs)
	if err != nil {
		return false, err
	}
	complete := "(SELECT count(*) FROM s) = 1"
	if swap != "" {
		complete += " AND " + counted + " = 1"
	}
	if hasWebhookKind(ev) {
		complete += " AND NOT EXISTS (SELECT 1 FROM webhooks)"
	}
	q += " SELECT CASE WHEN " + complete + " THEN 1 ELSE custos_abort('the session needs a transaction') END"
	var one int64
	if err := db.w.QueryRowContext(ctx, db.q(q), args...).Scan(&one); err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == abortCode {
			return false, nil
		}
		return false, openSessionError(err, s, ev)
	}
	db.heardAudit(ctx, db.w, ev)
	return true, nil
}

// openSessionError names openSessionPostgres's statement's failure: the
// event's insert's, or the session's.
func openSessionError(err error, s custos.Session, ev custos.AuditEvent) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.TableName == "audit_events" {
		return auditInsertError(err, ev)
	}
	return sessionInsertError(err, s)
}

// insertSessionChecked inserts s inside tx only if its password version
// is the account's, in one statement: the row comes from the account's,
// read FOR SHARE on PostgreSQL (see checkPasswordVersion). When nothing
// was inserted, the account is read again to tell a stale version
// (EConflict) from a missing account (ENotFound).
func (db *DB) insertSessionChecked(ctx context.Context, tx *sql.Tx, s custos.Session) error {
	query, args := db.sessionInsert(s)
	res, err := db.execHot(ctx, tx, query, args...)
	if err != nil {
		return sessionInsertError(err, s)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlstore: create session: %w", err)
	} else if n == 1 {
		return nil
	}
	return db.refusedSession(ctx, tx, s)
}

// sessionInsert is insertSessionChecked's statement and its arguments.
func (db *DB) sessionInsert(s custos.Session) (string, []any) {
	query := "INSERT INTO sessions (" + sessionColumns + ") SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? " +
		"FROM accounts WHERE id = ? AND password_version = ?"
	if db.dialect == DialectPostgres {
		query += " FOR SHARE"
	}
	return query, []any{s.ID, s.TokenHash, s.AccountID, millis(s.CreatedAt), millis(s.AuthenticatedAt),
		millis(s.LastSeenAt), millis(s.ExpiresAt), s.SecondFactor, optMillis(s.VerifiedUntil),
		s.RemoteAddr, s.UserAgent, s.PasswordVersion, s.ActingRootAccountID,
		s.AccountID, s.PasswordVersion}
}

// refusedSession says why the insert of s from its account's row inserted
// nothing: a stale version (EConflict) or a missing account (ENotFound).
func (db *DB) refusedSession(ctx context.Context, tx *sql.Tx, s custos.Session) error {
	if err := db.checkPasswordVersion(ctx, tx, s); err != nil {
		return err
	}
	// The version matched when read again: it changed and changed back
	// between the two reads, which a version that only grows cannot.
	return fmt.Errorf("sqlstore: create session: account %q's password version moved under the insert", s.AccountID)
}

// checkPasswordVersion refuses, inside tx, a session whose password version
// is not the account's: EConflict, or ENotFound if the account is gone. On
// PostgreSQL it reads the row FOR SHARE and so holds it to the commit: a
// ResetPassword already holding it makes this wait and then read its new
// version, and one that comes later waits for the session to commit, then
// deletes it. On SQLite the IMMEDIATE transaction already excludes every
// other writer.
func (db *DB) checkPasswordVersion(ctx context.Context, tx *sql.Tx, s custos.Session) error {
	query := "SELECT password_version FROM accounts WHERE id = ?"
	if db.dialect == DialectPostgres {
		query += " FOR SHARE"
	}
	var current int64
	err := tx.QueryRowContext(ctx, db.q(query), s.AccountID).Scan(&current)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return custos.Errorf(custos.ENotFound, "account not found")
	case err != nil:
		return fmt.Errorf("sqlstore: create session: password version: %w", err)
	case current != s.PasswordVersion:
		return custos.Errorf(custos.EConflict, "the password changed after the sign-in checked it (version %d, now %d)",
			s.PasswordVersion, current)
	}
	return nil
}

// sessionInsertError names an insert's failure.
func sessionInsertError(err error, s custos.Session) error {
	switch v, _ := classify(err, "sessions", "token_hash"); v {
	case uniqueViolation:
		return custos.Errorf(custos.EConflict, "session %q or its token already exists", s.ID)
	case foreignKeyViolation:
		return custos.Errorf(custos.ENotFound, "account not found")
	}
	return fmt.Errorf("sqlstore: create session: %w", err)
}

// SessionByTokenHash returns the session or ENotFound. It does not judge
// expiry: that is the caller's rule.
func (db *DB) SessionByTokenHash(ctx context.Context, tokenHash []byte) (custos.Session, error) {
	row := db.hotRow(ctx, "SELECT "+sessionColumns+" FROM sessions WHERE token_hash = ?", tokenHash)
	s, err := scanSession(row)
	if errors.Is(err, sql.ErrNoRows) {
		return custos.Session{}, custos.Errorf(custos.ENotFound, "session not found")
	}
	if err != nil {
		return custos.Session{}, fmt.Errorf("sqlstore: session by token: %w", err)
	}
	return s, nil
}

// sessionWithOwnerQuery reads a session by its token hash with its
// account's kind and, through the sub-user settings when it has them, a
// sub-user's root and user name: one lookup on the unique token_hash index
// and two on primary keys, so a session check costs one statement (one
// round trip on PostgreSQL, one read transaction on SQLite).
var sessionWithOwnerQuery = "SELECT " + prefixColumns("s.", sessionColumns) +
	", a.kind, u.root_account_id, u.user_name" +
	" FROM sessions s JOIN accounts a ON a.id = s.account_id" +
	" LEFT JOIN sub_users u ON u.account_id = s.account_id" +
	" WHERE s.token_hash = ?"

// SessionWithOwnerByTokenHash returns the session and what its account
// is, or ENotFound. Like SessionByTokenHash it does not judge expiry.
func (db *DB) SessionWithOwnerByTokenHash(ctx context.Context, tokenHash []byte) (custos.Session, custos.SessionOwner, error) {
	var (
		kind           string
		root, userName sql.NullString
	)
	s, err := scanSession(db.hotRow(ctx, sessionWithOwnerQuery, tokenHash), &kind, &root, &userName)
	if errors.Is(err, sql.ErrNoRows) {
		return custos.Session{}, custos.SessionOwner{}, custos.Errorf(custos.ENotFound, "session not found")
	}
	if err != nil {
		return custos.Session{}, custos.SessionOwner{}, fmt.Errorf("sqlstore: session with owner by token: %w", err)
	}
	return s, custos.SessionOwner{Kind: custos.AccountKind(kind), RootAccountID: root.String, UserName: userName.String}, nil
}

// prefixColumns qualifies each of a comma-separated list of columns with
// prefix ("s." for "id, token_hash" gives "s.id, s.token_hash").
func prefixColumns(prefix, columns string) string {
	cols := strings.Split(columns, ", ")
	for i, c := range cols {
		cols[i] = prefix + c
	}
	return strings.Join(cols, ", ")
}

// TouchSession sets LastSeenAt; ENotFound if the session is gone.
func (db *DB) TouchSession(ctx context.Context, id string, at time.Time) error {
	res, err := db.w.ExecContext(ctx, db.q("UPDATE sessions SET last_seen_at = ? WHERE id = ?"), millis(at), id)
	if err != nil {
		return fmt.Errorf("sqlstore: touch session: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: touch session: %w", err)
	}
	if n == 0 {
		return custos.Errorf(custos.ENotFound, "session not found")
	}
	return nil
}

// SetSessionVerified sets the end of the session's operation-protection
// window (NULL, no window, when until is zero) and, when secondFactor is
// true, marks a second factor passed (a false secondFactor leaves the mark
// as it was), and writes ev, in one transaction. ENotFound (and no event)
// if the session is gone.
func (db *DB) SetSessionVerified(ctx context.Context, id string, until time.Time, secondFactor bool, ev custos.AuditEvent) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		n, err := affected(tx.ExecContext(ctx, db.q(
			"UPDATE sessions SET verified_until = ?, second_factor = (second_factor OR ?) WHERE id = ?"),
			optMillis(until), secondFactor, id))
		if err != nil {
			return fmt.Errorf("sqlstore: set session verified: %w", err)
		}
		if n == 0 {
			return custos.Errorf(custos.ENotFound, "session not found")
		}
		return db.insertAudit(ctx, tx, ev)
	})
}

// DeleteSession removes one of the account's sessions and writes ev in the
// same transaction; ENotFound (and no event) if the account has no such
// session.
func (db *DB) DeleteSession(ctx context.Context, accountID, id string, ev custos.AuditEvent) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.q("DELETE FROM sessions WHERE id = ? AND account_id = ?"), id, accountID)
		if err != nil {
			return fmt.Errorf("sqlstore: delete session: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("sqlstore: delete session: %w", err)
		}
		if n == 0 {
			return custos.Errorf(custos.ENotFound, "session not found")
		}
		return db.insertAudit(ctx, tx, ev)
	})
}

// DeleteAccountSessions ends every session of the account and forgets its
// trusted devices, writing ev in the same transaction, and returns how many
// sessions ended. An account that is gone, or has no sessions, ends none:
// 0, and the event is still written, since the caller's request happened.
func (db *DB) DeleteAccountSessions(ctx context.Context, accountID string, ev custos.AuditEvent) (int, error) {
	var ended int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if ended, err = db.endLogins(ctx, tx, accountID); err != nil {
			return fmt.Errorf("sqlstore: delete account sessions: %w", err)
		}
		return db.insertAudit(ctx, tx, ev)
	})
	if err != nil {
		return 0, err
	}
	return int(ended), nil
}

// DeleteOtherSessions ends every session of the account but keepID and
// writes ev in the same transaction; it returns how many ended. Trusted
// devices stay: the devices page forgets them one by one.
func (db *DB) DeleteOtherSessions(ctx context.Context, accountID, keepID string, ev custos.AuditEvent) (int, error) {
	var ended int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		ended, err = affected(tx.ExecContext(ctx, db.q("DELETE FROM sessions WHERE account_id = ? AND id <> ?"), accountID, keepID))
		if err != nil {
			return fmt.Errorf("sqlstore: delete other sessions: %w", err)
		}
		return db.insertAudit(ctx, tx, ev)
	})
	if err != nil {
		return 0, err
	}
	return int(ended), nil
}

// endLogins deletes, through tx, the account's sessions and its trusted
// devices (so the next login asks for the second factor again), and
// returns how many sessions it deleted.
func (db *DB) endLogins(ctx context.Context, tx *sql.Tx, accountID string) (int64, error) {
	n, err := affected(tx.ExecContext(ctx, db.q("DELETE FROM sessions WHERE account_id = ?"), accountID))
	if err != nil {
		return 0, fmt.Errorf("sessions: %w", err)
	}
	if _, err := tx.ExecContext(ctx, db.q("DELETE FROM trusted_devices WHERE account_id = ?"), accountID); err != nil {
		return 0, fmt.Errorf("trusted devices: %w", err)
	}
	return n, nil
}

// ListSessions returns the account's sessions, newest (by CreatedAt) first;
// an empty slice when there are none.
func (db *DB) ListSessions(ctx context.Context, accountID string) ([]custos.Session, error) {
	rows, err := db.r.QueryContext(ctx, db.q(
		"SELECT "+sessionColumns+" FROM sessions WHERE account_id = ? ORDER BY created_at DESC, id DESC"),
		accountID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list sessions: %w", err)
	}
	defer rows.Close()
	out := []custos.Session{}
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: list sessions: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list sessions: %w", err)
	}
	return out, nil
}

// DeleteExpiredSessions removes sessions with ExpiresAt before now or
// LastSeenAt before idleBefore, and returns how many.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int, error) {
	res, err := db.w.ExecContext(ctx, db.q(
		"DELETE FROM sessions WHERE expires_at < ? OR last_seen_at < ?"),
		millis(now), millis(idleBefore))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: delete expired sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlstore: delete expired sessions: %w", err)
	}
	return int(n), nil
}

// scanSession reads the session columns (sessionColumns, in order), and
// into more the columns a query selects after them.
func scanSession(row scanner, more ...any) (custos.Session, error) {
	var (
		s                                  custos.Session
		created, authed, lastSeen, expires int64
		verifiedUntil                      sql.NullInt64
	)
	dest := append([]any{&s.ID, &s.TokenHash, &s.AccountID, &created, &authed, &lastSeen,
		&expires, &s.SecondFactor, &verifiedUntil, &s.RemoteAddr, &s.UserAgent, &s.PasswordVersion,
		&s.ActingRootAccountID}, more...)
	if err := row.Scan(dest...); err != nil {
		return custos.Session{}, err
	}
	s.CreatedAt = fromMillis(created)
	s.AuthenticatedAt = fromMillis(authed)
	s.LastSeenAt = fromMillis(lastSeen)
	s.ExpiresAt = fromMillis(expires)
	s.VerifiedUntil = fromOptMillis(verifiedUntil)
	return s, nil
}
