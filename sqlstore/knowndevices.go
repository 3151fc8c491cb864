package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/custos/custos"
)

var _ custos.KnownDeviceStore = (*DB)(nil)

// KnownDevice reports whether key is a device of the account last seen
// after since, and whether the account has any such device.
func (db *DB) KnownDevice(ctx context.Context, accountID, key string, since time.Time) (known, any bool, err error) {
	var hits, all int
	err = db.hotRow(ctx,
		"SELECT COALESCE(SUM(CASE WHEN device_key = ? THEN 1 ELSE 0 END), 0), COUNT(*) "+
			"FROM known_devices WHERE account_id = ? AND last_seen_at > ?",
		key, accountID, millis(since)).Scan(&hits, &all)
	if err != nil {
		return false, false, fmt.Errorf("sqlstore: known device: %w", err)
	}
	return hits > 0, all > 0, nil
}

// RememberDevice inserts d or moves its last sighting on, and forgets the
// account's devices last seen before forgetBefore, in one transaction.
func (db *DB) RememberDevice(ctx context.Context, d custos.KnownDevice, forgetBefore time.Time) error {
	if d.AccountID == "" || d.Key == "" {
		return errors.New("sqlstore: remember device: a known device needs an account and a key")
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, db.q(
			"INSERT INTO known_devices (account_id, device_key, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?) "+
				"ON CONFLICT (account_id, device_key) DO UPDATE SET last_seen_at = excluded.last_seen_at "+
				"WHERE known_devices.last_seen_at < excluded.last_seen_at"),
			d.AccountID, d.Key, millis(d.FirstSeenAt), millis(d.LastSeenAt)); err != nil {
			return fmt.Errorf("sqlstore: remember device: %w", err)
		}
		if _, err := tx.ExecContext(ctx, db.q(
			"DELETE FROM known_devices WHERE account_id = ? AND last_seen_at <= ?"),
			d.AccountID, millis(forgetBefore)); err != nil {
			return fmt.Errorf("sqlstore: remember device: forget old: %w", err)
		}
		return nil
	})
}

// NewDeviceStep reads the account's switch; false for an unknown account.
func (db *DB) NewDeviceStep(ctx context.Context, accountID string) (bool, error) {
	var on bool
	err := db.hotRow(ctx, "SELECT new_device_step FROM accounts WHERE id = ?", accountID).Scan(&on)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("sqlstore: new device step: %w", err)
	}
	return on, nil
}

// SetNewDeviceStep sets the switch and writes ev in one transaction;
// ENotFound (and no event) if the account is gone.
func (db *DB) SetNewDeviceStep(ctx context.Context, accountID string, on bool, ev custos.AuditEvent) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		n, err := affected(tx.ExecContext(ctx, db.q("UPDATE accounts SET new_device_step = ? WHERE id = ?"), on, accountID))
		if err != nil {
			return fmt.Errorf("sqlstore: set new device step: %w", err)
		}
		if n == 0 {
			return custos.Errorf(custos.ENotFound, "account not found")
		}
		return db.insertAudit(ctx, tx, ev)
	})
}
