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
		"INSERT INTO trusted_devices (id, account_id, created_at, expires_at) VALUES (?, ?, ?, ?)"),
		d.ID, d.AccountID, millis(d.CreatedAt), millis(d.ExpiresAt))
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
