package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/custos/custos"
)

// Bounds of AuditFilter.Limit.
const (
	DefaultAuditLimit = 100
	MaxAuditLimit     = 10000
)

// AuditFilter selects audit events for the operator (`custos admin
// audit`). Empty fields select everything.
type AuditFilter struct {
	AccountID string    // only this account's events
	Type      string    // only events of this type, such as login.unlocked
	Since     time.Time // only events at or after this time
	// Limit is the most events returned: DefaultAuditLimit when zero or
	// negative, at most MaxAuditLimit.
	Limit int
}

// AuditEvents returns the events f selects across all accounts, newest
// first (events of the same millisecond latest-written first). It is
// read-only; every value goes to the database as a parameter.
func (db *DB) AuditEvents(ctx context.Context, f AuditFilter) ([]custos.AuditEvent, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultAuditLimit
	}
	limit = min(limit, MaxAuditLimit)
	var (
		where []string
		args  []any
	)
	if f.AccountID != "" {
		where, args = append(where, "account_id = ?"), append(args, f.AccountID)
	}
	if f.Type != "" {
		where, args = append(where, "type = ?"), append(args, f.Type)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "at >= ?"), append(args, millis(f.Since))
	}
	query := "SELECT " + auditColumns + " FROM audit_events"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY at DESC, " + db.insertOrder() + " DESC LIMIT ?"
	args = append(args, limit)
	rows, err := db.r.QueryContext(ctx, db.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: audit events: %w", err)
	}
	defer rows.Close()
	out := []custos.AuditEvent{}
	for rows.Next() {
		ev, err := scanAudit(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: audit events: %w", err)
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: audit events: %w", err)
	}
	return out, nil
}
