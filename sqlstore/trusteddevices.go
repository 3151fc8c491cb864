package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/custos/custos"
)

var _ custos.TrustedDeviceStore = (*DB)(nil)

// TrustDevice inserts d; EConflict if its id is taken. A device without an
// id or an account is a caller bug and fails with a plain error.
func (db *DB) TrustDevice(ctx context.Context, d custos.TrustedDevice) error {
	if d.ID == "" || d.AccountID == "" {
		return errors.New("sqlstore: trust device: a trusted device needs an id and an account")
	}
	_, err := db.w.ExecContext(ctx, db.q(
		"INSERT INTO trusted_devices (id, account_id, created_at, expires_at, remote_addr, user_agent) VALUES (?, ?, ?, ?, ?, ?)"),
		d.ID, d.AccountID, millis(d.CreatedAt), millis(d.ExpiresAt), d.RemoteAddr, d.UserAgent)
	if err != nil {
		if v, _ := classify(err, "trusted_devices", "id"); v == uniqueViolation {
			return custos.Errorf(custos.EConflict, "trusted device %q already exists", d.ID)
		}
		return fmt.Errorf("sqlstore: trust device: %w", err)
	}
	return nil
}

// IsTrustedDevice reports whether id is a trusted device of the account
// that is unexpired (ExpiresAt > now). Another account's device is not
// trusted for this one.
func (db *DB) IsTrustedDevice(ctx context.Context, id, accountID string, now time.Time) (bool, error) {
	var one int
	err := db.r.QueryRowContext(ctx, db.q(
		"SELECT 1 FROM trusted_devices WHERE id = ? AND account_id = ? AND expires_at > ?"),
		id, accountID, millis(now)).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("sqlstore: is trusted device: %w", err)
	}
	return true, nil
}

// DeleteExpiredTrustedDevices removes trusted devices expired by now
// (ExpiresAt <= now, the same rule as IsTrustedDevice) and returns how
// many.
func (db *DB) DeleteExpiredTrustedDevices(ctx context.Context, now time.Time) (int, error) {
	n, err := affected(db.w.ExecContext(ctx, db.q("DELETE FROM trusted_devices WHERE expires_at <= ?"), millis(now)))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: delete expired trusted devices: %w", err)
	}
	return int(n), nil
}

// ListTrustedDevices returns the account's live trusted devices
// (ExpiresAt > now), newest first.
func (db *DB) ListTrustedDevices(ctx context.Context, accountID string, now time.Time) ([]custos.TrustedDevice, error) {
	rows, err := db.r.QueryContext(ctx, db.q(
		"SELECT id, account_id, created_at, expires_at, remote_addr, user_agent FROM trusted_devices "+
			"WHERE account_id = ? AND expires_at > ? ORDER BY created_at DESC, id"),
		accountID, millis(now))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list trusted devices: %w", err)
	}
	defer rows.Close()
	out := []custos.TrustedDevice{}
	for rows.Next() {
		var (
			d                custos.TrustedDevice
			created, expires int64
		)
		if err := rows.Scan(&d.ID, &d.AccountID, &created, &expires, &d.RemoteAddr, &d.UserAgent); err != nil {
			return nil, fmt.Errorf("sqlstore: list trusted devices: %w", err)
		}
		d.CreatedAt, d.ExpiresAt = fromMillis(created), fromMillis(expires)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list trusted devices: %w", err)
	}
	return out, nil
}

// ForgetTrustedDevice deletes one of the account's trusted devices and
// writes ev in the same transaction; ENotFound (and no event) if the
// account has no such device.
func (db *DB) ForgetTrustedDevice(ctx context.Context, accountID, id string, ev custos.AuditEvent) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		n, err := affected(tx.ExecContext(ctx, db.q("DELETE FROM trusted_devices WHERE id = ? AND account_id = ?"), id, accountID))
		if err != nil {
			return fmt.Errorf("sqlstore: forget trusted device: %w", err)
		}
		if n == 0 {
			return custos.Errorf(custos.ENotFound, "trusted device not found")
		}
		return db.insertAudit(ctx, tx, ev)
	})
}
