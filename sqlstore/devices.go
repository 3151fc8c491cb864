package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/custos/custos"
)

var _ custos.DeviceStore = (*DB)(nil)

const deviceColumns = "id, account_id, type, name, secret, otp_kind, algorithm, digits, period, serial, " +
	"last_step, drift, credential, created_at, confirmed_at, last_used_at"

// CreateDevice inserts d as a pending device. A d with ConfirmedAt set is a
// caller bug (a device becomes usable only through ConfirmDevice or
// BindToken) and fails with a plain error. EConflict if the id, or a
// hardware device's serial, is taken; ENotFound if the account does not
// exist.
func (db *DB) CreateDevice(ctx context.Context, d custos.Device) error {
	if !d.ConfirmedAt.IsZero() {
		return errors.New("sqlstore: create device: a new device must be pending (ConfirmedAt zero)")
	}
	return db.insertDevice(ctx, db.w, d)
}

// insertDevice writes d through ex, a transaction or the write pool.
func (db *DB) insertDevice(ctx context.Context, ex execer, d custos.Device) error {
	_, err := ex.ExecContext(ctx, db.q(
		"INSERT INTO mfa_devices ("+deviceColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
		d.ID, d.AccountID, string(d.Type), d.Name, optBytes(d.Secret), d.OTPKind, d.Algorithm, d.Digits,
		d.Period, d.Serial, d.LastStep, d.Drift, optBytes(d.Credential), millis(d.CreatedAt),
		optMillis(d.ConfirmedAt), optMillis(d.LastUsedAt))
	if err != nil {
		switch v, onSerial := classify(err, "mfa_devices", "serial"); {
		case v == uniqueViolation && onSerial:
			return custos.Errorf(custos.EConflict, "token %q is already a device", d.Serial)
		case v == uniqueViolation:
			return custos.Errorf(custos.EConflict, "device %q already exists", d.ID)
		case v == foreignKeyViolation:
			return custos.Errorf(custos.ENotFound, "account not found")
		}
		return fmt.Errorf("sqlstore: create device: %w", err)
	}
	return nil
}

// ConfirmDevice makes the account's pending device usable at `at`, with
// LastStep set to lastStep, and writes ev, in one transaction whose one
// UPDATE matches only a pending device created at or after pendingSince.
// ENotFound (and no event) if the device is not the account's, is already
// confirmed or is older than pendingSince. A zero `at` is a caller bug and
// fails with a plain error.
func (db *DB) ConfirmDevice(ctx context.Context, accountID, id string, lastStep int64, at, pendingSince time.Time, ev custos.AuditEvent) error {
	if at.IsZero() {
		// A zero at would read back as a device still pending.
		return errors.New("sqlstore: confirm device: zero time")
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		n, err := affected(tx.ExecContext(ctx, db.q(
			"UPDATE mfa_devices SET confirmed_at = ?, last_step = ? "+
				"WHERE id = ? AND account_id = ? AND confirmed_at IS NULL AND created_at >= ?"),
			millis(at), lastStep, id, accountID, millis(pendingSince)))
		if err != nil {
			return fmt.Errorf("sqlstore: confirm device: %w", err)
		}
		if n == 0 {
			return custos.Errorf(custos.ENotFound, "no pending device to confirm")
		}
		return db.insertAudit(ctx, tx, ev)
	})
}

// DeviceByID returns one of the account's devices, pending or confirmed;
// ENotFound otherwise.
func (db *DB) DeviceByID(ctx context.Context, accountID, id string) (custos.Device, error) {
	d, err := scanDevice(db.r.QueryRowContext(ctx, db.q(
		"SELECT "+deviceColumns+" FROM mfa_devices WHERE id = ? AND account_id = ?"), id, accountID))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return custos.Device{}, custos.Errorf(custos.ENotFound, "device not found")
	case err != nil:
		return custos.Device{}, fmt.Errorf("sqlstore: device by id: %w", err)
	}
	return d, nil
}

// ListDevices returns the account's confirmed devices, oldest (by
// CreatedAt, then id) first; an empty slice when there are none.
func (db *DB) ListDevices(ctx context.Context, accountID string) ([]custos.Device, error) {
	rows, err := db.r.QueryContext(ctx, db.q(
		"SELECT "+deviceColumns+" FROM mfa_devices WHERE account_id = ? AND confirmed_at IS NOT NULL "+
			"ORDER BY created_at, id"), accountID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list devices: %w", err)
	}
	defer rows.Close()
	out := []custos.Device{}
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: list devices: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list devices: %w", err)
	}
	return out, nil
}

// UseDeviceStep records a code's acceptance in one UPDATE that sets
// LastStep, Drift and LastUsedAt only if the device is confirmed and step
// is greater than its LastStep, so of concurrent uses of one step (on any
// replica) exactly one succeeds, and LastStep never goes back. EInvalidCode
// when step is not greater (a replay); ENotFound if the device is gone or
// still pending.
func (db *DB) UseDeviceStep(ctx context.Context, id string, step int64, drift int, at time.Time) error {
	n, err := affected(db.w.ExecContext(ctx, db.q(
		"UPDATE mfa_devices SET last_step = ?, drift = ?, last_used_at = ? "+
			"WHERE id = ? AND confirmed_at IS NOT NULL AND last_step < ?"),
		step, drift, optMillis(at), id, step))
	if err != nil {
		return fmt.Errorf("sqlstore: use device step: %w", err)
	}
	if n == 1 {
		return nil
	}
	// Nothing matched: tell a missing device from a replay. A confirmed
	// device never goes back to pending, and its LastStep only grows, so
	// a confirmed device seen now was refused for its step.
	var confirmed sql.NullInt64
	err = db.r.QueryRowContext(ctx, db.q("SELECT confirmed_at FROM mfa_devices WHERE id = ?"), id).Scan(&confirmed)
	switch {
	case errors.Is(err, sql.ErrNoRows), err == nil && !confirmed.Valid:
		return custos.Errorf(custos.ENotFound, "device not found")
	case err != nil:
		return fmt.Errorf("sqlstore: use device step: %w", err)
	}
	return custos.Errorf(custos.EInvalidCode, "the code was already used")
}

// UpdateCredential replaces a confirmed device's WebAuthn credential and
// sets its last use; ENotFound if it is gone or pending.
func (db *DB) UpdateCredential(ctx context.Context, id string, credential []byte, at time.Time) error {
	n, err := affected(db.w.ExecContext(ctx, db.q(
		"UPDATE mfa_devices SET credential = ?, last_used_at = ? WHERE id = ? AND confirmed_at IS NOT NULL"),
		credential, at.UnixMilli(), id))
	if err != nil {
		return fmt.Errorf("sqlstore: update credential: %w", err)
	}
	if n == 0 {
		return custos.Errorf(custos.ENotFound, "device not found")
	}
	return nil
}

// RenameDevice sets the name of one of the account's confirmed devices
// and writes ev, in one transaction; ENotFound (and no event) if there is
// no such device or it is still pending.
func (db *DB) RenameDevice(ctx context.Context, accountID, id, name string, ev custos.AuditEvent) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		n, err := affected(tx.ExecContext(ctx, db.q(
			"UPDATE mfa_devices SET name = ? WHERE id = ? AND account_id = ? AND confirmed_at IS NOT NULL"),
			name, id, accountID))
		if err != nil {
			return fmt.Errorf("sqlstore: rename device: %w", err)
		}
		if n == 0 {
			return custos.Errorf(custos.ENotFound, "device not found")
		}
		return db.insertAudit(ctx, tx, ev)
	})
}

// DeleteDevice removes one of the account's devices (pending or
// confirmed) and writes ev in one transaction. When the device is a bound
// hardware token, the token goes to tokenStatus (custos.TokenInStock or
// custos.TokenRetired; anything else is a caller bug, a plain error that
// changes nothing) and is no longer bound to the device. ENotFound (and no
// event) if the account has no such device.
func (db *DB) DeleteDevice(ctx context.Context, accountID, id, tokenStatus string, ev custos.AuditEvent) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		var serial string
		err := tx.QueryRowContext(ctx, db.q(
			"DELETE FROM mfa_devices WHERE id = ? AND account_id = ? RETURNING serial"), id, accountID).Scan(&serial)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return custos.Errorf(custos.ENotFound, "device not found")
		case err != nil:
			return fmt.Errorf("sqlstore: delete device: %w", err)
		}
		if serial != "" {
			if tokenStatus != custos.TokenInStock && tokenStatus != custos.TokenRetired {
				return fmt.Errorf("sqlstore: delete device: token status %q: want %q or %q",
					tokenStatus, custos.TokenInStock, custos.TokenRetired)
			}
			// Only the token bound as this device: a serial given to
			// CreateDevice by hand names no token of ours.
			if _, err := tx.ExecContext(ctx, db.q(
				"UPDATE hardware_tokens SET status = ?, device_id = NULL WHERE serial = ? AND device_id = ?"),
				tokenStatus, serial, id); err != nil {
				return fmt.Errorf("sqlstore: delete device: release token: %w", err)
			}
		}
		return db.insertAudit(ctx, tx, ev)
	})
}

// DeletePendingDevices removes the devices still pending that were created
// before `before`, and returns how many.
func (db *DB) DeletePendingDevices(ctx context.Context, before time.Time) (int, error) {
	n, err := affected(db.w.ExecContext(ctx, db.q(
		"DELETE FROM mfa_devices WHERE confirmed_at IS NULL AND created_at < ?"), millis(before)))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: delete pending devices: %w", err)
	}
	return int(n), nil
}

func scanDevice(row scanner) (custos.Device, error) {
	var (
		d                   custos.Device
		typ                 string
		created             int64
		confirmed, lastUsed sql.NullInt64
	)
	if err := row.Scan(&d.ID, &d.AccountID, &typ, &d.Name, &d.Secret, &d.OTPKind, &d.Algorithm, &d.Digits,
		&d.Period, &d.Serial, &d.LastStep, &d.Drift, &d.Credential, &created, &confirmed, &lastUsed); err != nil {
		return custos.Device{}, err
	}
	d.Type = custos.DeviceType(typ)
	if len(d.Secret) == 0 {
		d.Secret = nil
	}
	if len(d.Credential) == 0 {
		d.Credential = nil
	}
	d.CreatedAt = fromMillis(created)
	d.ConfirmedAt = fromOptMillis(confirmed)
	d.LastUsedAt = fromOptMillis(lastUsed)
	return d, nil
}
