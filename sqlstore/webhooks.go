package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/custos/custos"
)

// WebhookOutbox writes, in the change's transaction tx, one delivery job
// of the event ev for each hook of hookIDs, so that they exist if and only
// if the change commits. It must write through tx alone.
type WebhookOutbox func(ctx context.Context, tx *sql.Tx, hookIDs []string, ev custos.WebhookEvent) error

// SetWebhookOutbox makes out the writer of security-webhook jobs (app
// passes the queue's InsertWebhooksTx). Until it is set, a change whose
// event a hook is subscribed to fails rather than drop the event. Call it
// before the DB is used.
func (db *DB) SetWebhookOutbox(out WebhookOutbox) { db.webhooks = out }

const webhookColumns = "id, url, events, secret, created_at"

// CreateWebhook registers h and writes ev in one transaction; EConflict
// if the hook's id or the event's is taken (nothing is written).
func (db *DB) CreateWebhook(ctx context.Context, h custos.Webhook, ev custos.StaffEvent) error {
	switch {
	case h.ID == "" || h.URL == "" || len(h.Events) == 0:
		return errors.New("sqlstore: a webhook needs an id, a URL and events")
	case len(h.Secret) == 0:
		return errors.New("sqlstore: a webhook needs its sealed secret")
	}
	for _, k := range h.Events {
		if strings.Contains(k, ",") || k == "" {
			return fmt.Errorf("sqlstore: webhook event kind %q", k)
		}
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, db.q("INSERT INTO webhooks ("+webhookColumns+") VALUES (?, ?, ?, ?, ?)"),
			h.ID, h.URL, strings.Join(h.Events, ","), h.Secret, millis(h.CreatedAt))
		if err != nil {
			if v, _ := classify(err, "webhooks", "id"); v == uniqueViolation {
				return custos.Errorf(custos.EConflict, "webhook %q already exists", h.ID)
			}
			return fmt.Errorf("sqlstore: create webhook: %w", err)
		}
		return db.insertStaffEvent(ctx, tx, ev)
	})
}

// WebhookByID returns the hook or ENotFound.
func (db *DB) WebhookByID(ctx context.Context, id string) (custos.Webhook, error) {
	h, err := scanWebhook(db.r.QueryRowContext(ctx, db.q("SELECT "+webhookColumns+" FROM webhooks WHERE id = ?"), id))
	if errors.Is(err, sql.ErrNoRows) {
		return custos.Webhook{}, custos.Errorf(custos.ENotFound, "webhook %q not found", id)
	}
	if err != nil {
		return custos.Webhook{}, fmt.Errorf("sqlstore: webhook: %w", err)
	}
	return h, nil
}

// ListWebhooks returns every hook, oldest first.
func (db *DB) ListWebhooks(ctx context.Context) ([]custos.Webhook, error) {
	return db.listWebhooks(ctx, db.r)
}

func (db *DB) listWebhooks(ctx context.Context, q querier) ([]custos.Webhook, error) {
	return db.queryWebhooks(ctx, q, "")
}

// queryWebhooks reads every hook, oldest first, with prefix (a WITH
// clause, and args for its placeholders) before the SELECT. It never
// returns a nil slice without an error.
func (db *DB) queryWebhooks(ctx context.Context, q querier, prefix string, args ...any) ([]custos.Webhook, error) {
	rows, err := db.queryHot(ctx, q, prefix+"SELECT "+webhookColumns+" FROM webhooks ORDER BY created_at, id", args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list webhooks: %w", err)
	}
	defer rows.Close()
	out := []custos.Webhook{}
	for rows.Next() {
		h, err := scanWebhook(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: list webhooks: %w", err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list webhooks: %w", err)
	}
	return out, nil
}

func scanWebhook(row scanner) (custos.Webhook, error) {
	var (
		id, url, events string
		secret          []byte
		at              int64
	)
	if err := row.Scan(&id, &url, &events, &secret, &at); err != nil {
		return custos.Webhook{}, err
	}
	return webhookOf(id, url, events, secret, at), nil
}

// webhookOf is the hook a row of webhookColumns holds.
func webhookOf(id, url, events string, secret []byte, createdAt int64) custos.Webhook {
	return custos.Webhook{ID: id, URL: url, Events: strings.Split(events, ","), Secret: secret, CreatedAt: fromMillis(createdAt)}
}

// DeleteWebhook removes the hook and its delivery log and writes ev in one
// transaction; ENotFound if there is none (nothing is written).
func (db *DB) DeleteWebhook(ctx context.Context, id string, ev custos.StaffEvent) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		n, err := affected(tx.ExecContext(ctx, db.q("DELETE FROM webhooks WHERE id = ?"), id))
		if err != nil {
			return fmt.Errorf("sqlstore: delete webhook: %w", err)
		}
		if n == 0 {
			return custos.Errorf(custos.ENotFound, "webhook %q not found", id)
		}
		return db.insertStaffEvent(ctx, tx, ev)
	})
}

// RecordWebhookDelivery appends one attempt to the hook's log; ENotFound
// if the hook is gone.
func (db *DB) RecordWebhookDelivery(ctx context.Context, d custos.WebhookDelivery) error {
	switch d.Outcome {
	case custos.WebhookDelivered, custos.WebhookRetrying, custos.WebhookFailed:
	default:
		return fmt.Errorf("sqlstore: webhook delivery outcome %q", d.Outcome)
	}
	_, err := db.w.ExecContext(ctx, db.q(
		"INSERT INTO webhook_deliveries (webhook_id, event_id, kind, attempt, at, status_code, error, duration_ms, outcome) "+
			"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"),
		d.WebhookID, d.EventID, d.Kind, d.Attempt, millis(d.At), d.StatusCode, d.Error, d.Duration.Milliseconds(), d.Outcome)
	if err != nil {
		if v, _ := classify(err, "", ""); v == foreignKeyViolation {
			return custos.Errorf(custos.ENotFound, "webhook %q not found", d.WebhookID)
		}
		return fmt.Errorf("sqlstore: record webhook delivery: %w", err)
	}
	return nil
}

// WebhookDeliveries returns the hook's attempts, newest first, at most
// limit (none when limit <= 0).
func (db *DB) WebhookDeliveries(ctx context.Context, webhookID string, limit int) ([]custos.WebhookDelivery, error) {
	out := []custos.WebhookDelivery{}
	if limit <= 0 {
		return out, nil
	}
	rows, err := db.r.QueryContext(ctx, db.q(
		"SELECT webhook_id, event_id, kind, attempt, at, status_code, error, duration_ms, outcome "+
			"FROM webhook_deliveries WHERE webhook_id = ? ORDER BY seq DESC LIMIT ?"), webhookID, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: webhook deliveries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			d      custos.WebhookDelivery
			at, ms int64
		)
		if err := rows.Scan(&d.WebhookID, &d.EventID, &d.Kind, &d.Attempt, &at, &d.StatusCode, &d.Error, &ms, &d.Outcome); err != nil {
			return nil, fmt.Errorf("sqlstore: webhook deliveries: %w", err)
		}
		d.At, d.Duration = fromMillis(at), time.Duration(ms)*time.Millisecond
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: webhook deliveries: %w", err)
	}
	return out, nil
}

// DeleteWebhookDeliveries deletes every hook's attempts made before
// before and returns how many went.
func (db *DB) DeleteWebhookDeliveries(ctx context.Context, before time.Time) (int64, error) {
	n, err := affected(db.w.ExecContext(ctx, db.q("DELETE FROM webhook_deliveries WHERE at < ?"), millis(before)))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: sweep webhook deliveries: %w", err)
	}
	return n, nil
}

// writeWebhooks writes, in tx, a delivery job of ev for each of hooks
// subscribed to its kind (none when no hook is told of it). Without a
// webhook outbox it fails when a hook wants the event, so an event is
// never dropped quietly. The hooks were read in tx: a hook added after the
// change committed never hears of it; one added while it is in flight
// may or may not.
func (db *DB) writeWebhooks(ctx context.Context, tx *sql.Tx, ev custos.AuditEvent, hooks []custos.Webhook) error {
	we, ok := custos.NewWebhookEvent(ev)
	if !ok {
		return nil
	}
	var ids []string
	for _, h := range hooks {
		if h.Wants(we.Kind) {
			ids = append(ids, h.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	if db.webhooks == nil {
		return fmt.Errorf("sqlstore: %d webhook(s) want a %s event and no webhook outbox is set (DB.SetWebhookOutbox)", len(ids), we.Kind)
	}
	if err := db.webhooks(ctx, tx, ids, we); err != nil {
		return fmt.Errorf("sqlstore: webhook outbox: %w", err)
	}
	return nil
}

// hasWebhookKind reports whether ev is an event a hook may be told of, so
// that AppendAudit writes it in a transaction.
func hasWebhookKind(ev custos.AuditEvent) bool {
	_, ok := custos.NewWebhookEvent(ev)
	return ok
}
