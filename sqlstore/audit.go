package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/custos/custos"
)

const auditColumns = "id, at, account_id, type, identifier, remote_addr, user_agent, detail"

// AppendAudit writes one event on its own (with its messages, in one
// transaction); EConflict if its id is taken. An event without an id is a
// caller bug and fails with a plain error.
func (db *DB) AppendAudit(ctx context.Context, ev custos.AuditEvent) error {
	if len(ev.Notify) > 0 || hasWebhookKind(ev) {
		return db.inTx(ctx, func(tx *sql.Tx) error { return db.insertAudit(ctx, tx, ev) })
	}
	return db.insertAudit(ctx, db.w, ev)
}

// insertAudit writes ev through ex, a transaction or the write pool, and
// then the messages ev.Notify through the outbox and a job per security
// webhook that wants it through the webhook outbox (writeWebhooks), which
// need ex to be a transaction. Every audited change calls it inside its
// transaction, so the change, its record, its messages and its webhook
// deliveries commit together or not at all.
func (db *DB) insertAudit(ctx context.Context, ex execer, ev custos.AuditEvent) error {
	insert, args, err := auditInsert(ev)
	if err != nil {
		return err
	}
	tx, inTx := ex.(*sql.Tx)
	var hooks []custos.Webhook
	if inTx && hasWebhookKind(ev) && db.dialect == DialectPostgres {
		// The event and the hooks that may want it in one round trip: a
		// data-modifying WITH runs whether or not the query reads it. Each
		// round trip costs a busy PostgreSQL server its own CPU, and every
		// login writes an event of a kind hooks may take.
		hooks, err = db.queryWebhooks(ctx, tx, "WITH ev AS ("+insert+") ", args...)
	} else {
		_, err = db.execHot(ctx, ex, insert, args...)
	}
	if err != nil {
		return auditInsertError(err, ev)
	}
	return db.audited(ctx, ex, ev, hooks)
}

// auditInsert is the statement inserting ev, and its arguments.
func auditInsert(ev custos.AuditEvent) (string, []any, error) {
	if ev.ID == "" {
		return "", nil, errors.New("sqlstore: audit event has no ID")
	}
	var detail any // NULL when there is none, so nil and empty read back as nil
	if len(ev.Detail) > 0 {
		b, err := json.Marshal(ev.Detail)
		if err != nil {
			return "", nil, fmt.Errorf("sqlstore: audit detail: %w", err)
		}
		detail = string(b)
	}
	return "INSERT INTO audit_events (" + auditColumns + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		[]any{ev.ID, millis(ev.At), ev.AccountID, ev.Type, ev.Identifier, ev.RemoteAddr, ev.UserAgent, detail}, nil
}

// auditInsertError names an event's insert's failure.
func auditInsertError(err error, ev custos.AuditEvent) error {
	if v, _ := classify(err, "audit_events", "id"); v == uniqueViolation {
		return custos.Errorf(custos.EConflict, "audit event %q already exists", ev.ID)
	}
	return fmt.Errorf("sqlstore: append audit: %w", err)
}

// audited finishes ev once it is inserted through ex: the observer is to
// hear of it, and its messages and the jobs of the webhooks that want it
// are written in the same transaction. hooks are the webhooks when read
// with the insert; nil: they are read here, if needed.
func (db *DB) audited(ctx context.Context, ex execer, ev custos.AuditEvent, hooks []custos.Webhook) error {
	db.heardAudit(ctx, ex, ev)
	if len(ev.Notify) == 0 && !hasWebhookKind(ev) {
		return nil
	}
	tx, inTx := ex.(*sql.Tx)
	if !inTx {
		return errors.New("sqlstore: an audit event's messages and webhooks need a transaction")
	}
	if hooks == nil {
		var err error
		if hooks, err = db.listWebhooks(ctx, tx); err != nil {
			return err
		}
	}
	if err := db.writeWebhooks(ctx, tx, ev, hooks); err != nil {
		return err
	}
	return db.writeOutbox(ctx, tx, ev.Notify)
}

// writeOutbox writes msgs in tx through the outbox; without one it fails,
// so a message is never dropped quietly.
func (db *DB) writeOutbox(ctx context.Context, tx *sql.Tx, msgs []custos.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	if db.outbox == nil {
		return fmt.Errorf("sqlstore: %d message(s) to send and no outbox set (DB.SetOutbox)", len(msgs))
	}
	if err := db.outbox(ctx, tx, msgs); err != nil {
		return fmt.Errorf("sqlstore: outbox: %w", err)
	}
	return nil
}

// ListAudit returns the account's events, newest first (events of the same
// millisecond latest-written first), at most limit; none when limit <= 0.
func (db *DB) ListAudit(ctx context.Context, accountID string, limit int) ([]custos.AuditEvent, error) {
	out := []custos.AuditEvent{}
	if limit <= 0 {
		return out, nil
	}
	rows, err := db.r.QueryContext(ctx, db.q(
		"SELECT "+auditColumns+" FROM audit_events WHERE account_id = ? ORDER BY at DESC, "+db.insertOrder()+" DESC LIMIT ?"),
		accountID, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list audit: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		ev, err := scanAudit(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: list audit: %w", err)
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list audit: %w", err)
	}
	return out, nil
}

// ListActivity returns the account's events f selects, newest first
// (events of the same millisecond latest-written first). f.Before is an
// event id: the page holds only events older than it (by time, then by
// write order), and none when the account has no such event. Every value
// goes to the database as a parameter.
func (db *DB) ListActivity(ctx context.Context, accountID string, f custos.ActivityFilter) ([]custos.AuditEvent, error) {
	out := []custos.AuditEvent{}
	if f.Limit <= 0 {
		return out, nil
	}
	order := db.insertOrder()
	where, args := []string{"account_id = ?"}, []any{accountID}
	if len(f.Types) > 0 {
		where = append(where, "type IN (?"+strings.Repeat(", ?", len(f.Types)-1)+")")
		for _, t := range f.Types {
			args = append(args, t)
		}
	}
	if !f.From.IsZero() {
		where, args = append(where, "at >= ?"), append(args, millis(f.From))
	}
	if !f.To.IsZero() {
		where, args = append(where, "at < ?"), append(args, millis(f.To))
	}
	if f.Before != "" {
		where = append(where, "(at, "+order+") < (SELECT at, "+order+" FROM audit_events WHERE id = ? AND account_id = ?)")
		args = append(args, f.Before, accountID)
	}
	args = append(args, f.Limit)
	rows, err := db.r.QueryContext(ctx, db.q("SELECT "+auditColumns+" FROM audit_events WHERE "+
		strings.Join(where, " AND ")+" ORDER BY at DESC, "+order+" DESC LIMIT ?"), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list activity: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		ev, err := scanAudit(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: list activity: %w", err)
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list activity: %w", err)
	}
	return out, nil
}

// ActivityEvent returns one of the account's events; ENotFound if the
// account has no event with id.
func (db *DB) ActivityEvent(ctx context.Context, accountID, id string) (custos.AuditEvent, error) {
	ev, err := scanAudit(db.r.QueryRowContext(ctx, db.q(
		"SELECT "+auditColumns+" FROM audit_events WHERE id = ? AND account_id = ?"), id, accountID))
	if errors.Is(err, sql.ErrNoRows) {
		return custos.AuditEvent{}, custos.Errorf(custos.ENotFound, "event not found")
	}
	if err != nil {
		return custos.AuditEvent{}, fmt.Errorf("sqlstore: activity event: %w", err)
	}
	return ev, nil
}

func scanAudit(row scanner) (custos.AuditEvent, error) {
	var (
		ev     custos.AuditEvent
		at     int64
		detail sql.NullString
	)
	if err := row.Scan(&ev.ID, &at, &ev.AccountID, &ev.Type, &ev.Identifier,
		&ev.RemoteAddr, &ev.UserAgent, &detail); err != nil {
		return custos.AuditEvent{}, err
	}
	ev.At = fromMillis(at)
	if detail.Valid && detail.String != "" {
		if err := json.Unmarshal([]byte(detail.String), &ev.Detail); err != nil {
			return custos.AuditEvent{}, fmt.Errorf("audit event %q detail: %w", ev.ID, err)
		}
	}
	return ev, nil
}

// insertOrder names the column that grows with every insert: SQLite's rowid,
// PostgreSQL's identity column seq.
func (db *DB) insertOrder() string {
	if db.dialect == DialectPostgres {
		return "seq"
	}
	return "rowid"
}
