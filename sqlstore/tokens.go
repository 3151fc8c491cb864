package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/custos/custos"
)

const tokenColumns = "serial, secret, otp_kind, algorithm, digits, period, counter, status, device_id, created_at"

// ImportToken adds t to the inventory in stock: its Status and DeviceID are
// not read. EConflict if the serial exists. A token without a secret is a
// caller bug and fails with a plain error.
func (db *DB) ImportToken(ctx context.Context, t custos.HardwareToken) error {
	if len(t.Secret) == 0 {
		return errors.New("sqlstore: import token: no secret")
	}
	_, err := db.w.ExecContext(ctx, db.q(
		"INSERT INTO hardware_tokens ("+tokenColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)"),
		t.Serial, t.Secret, t.OTPKind, t.Algorithm, t.Digits, t.Period, t.Counter, custos.TokenInStock,
		millis(t.CreatedAt))
	if err != nil {
		if v, _ := classify(err, "hardware_tokens", "serial"); v == uniqueViolation {
			return custos.Errorf(custos.EConflict, "token %q already exists", t.Serial)
		}
		return fmt.Errorf("sqlstore: import token: %w", err)
	}
	return nil
}

// TokenBySerial returns the token; ENotFound if there is none.
func (db *DB) TokenBySerial(ctx context.Context, serial string) (custos.HardwareToken, error) {
	t, err := scanToken(db.r.QueryRowContext(ctx, db.q(
		"SELECT "+tokenColumns+" FROM hardware_tokens WHERE serial = ?"), serial))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return custos.HardwareToken{}, custos.Errorf(custos.ENotFound, "token not found")
	case err != nil:
		return custos.HardwareToken{}, fmt.Errorf("sqlstore: token by serial: %w", err)
	}
	return t, nil
}

// BindToken, in one transaction, marks the in-stock token bound to d.ID,
// inserts d and writes ev. The token's UPDATE comes first and matches only
// a token in stock, so of concurrent binds of one serial (on any replica)
// one wins and the others wait for its row lock and then find the token
// bound. ENotFound if the token is not in stock (unknown, bound or
// retired) or d's account does not exist; EConflict if d's id is taken.
// d must be confirmed (a pending device would be swept by
// DeletePendingDevices with its token still bound) and carry the token's
// serial (which DeleteDevice uses to release it): anything else is a
// caller bug, a plain error that changes nothing.
func (db *DB) BindToken(ctx context.Context, serial string, d custos.Device, ev custos.AuditEvent) error {
	switch {
	case d.ConfirmedAt.IsZero():
		return errors.New("sqlstore: bind token: the device must be confirmed")
	case d.Serial != serial:
		return fmt.Errorf("sqlstore: bind token: device serial %q, want the token's %q", d.Serial, serial)
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		n, err := affected(tx.ExecContext(ctx, db.q(
			"UPDATE hardware_tokens SET status = ?, device_id = ? WHERE serial = ? AND status = ?"),
			custos.TokenBound, d.ID, serial, custos.TokenInStock))
		if err != nil {
			return fmt.Errorf("sqlstore: bind token: %w", err)
		}
		if n == 0 {
			return custos.Errorf(custos.ENotFound, "no token %q in stock", serial)
		}
		if err := db.insertDevice(ctx, tx, d); err != nil {
			return err
		}
		return db.insertAudit(ctx, tx, ev)
	})
}

func scanToken(row scanner) (custos.HardwareToken, error) {
	var (
		t        custos.HardwareToken
		deviceID sql.NullString
		created  int64
	)
	if err := row.Scan(&t.Serial, &t.Secret, &t.OTPKind, &t.Algorithm, &t.Digits, &t.Period, &t.Counter,
		&t.Status, &deviceID, &created); err != nil {
		return custos.HardwareToken{}, err
	}
	t.DeviceID = deviceID.String
	t.CreatedAt = fromMillis(created)
	return t, nil
}

// ListHardwareTokens returns the whole inventory, ordered by serial, for
// the operator's `custos admin tokens list`. It is read-only and leaves
// every token's sealed Secret empty: a listing needs no seed.
func (db *DB) ListHardwareTokens(ctx context.Context) ([]custos.HardwareToken, error) {
	rows, err := db.r.QueryContext(ctx,
		"SELECT serial, otp_kind, algorithm, digits, period, counter, status, device_id, created_at FROM hardware_tokens ORDER BY serial")
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list hardware tokens: %w", err)
	}
	defer rows.Close()
	out := []custos.HardwareToken{}
	for rows.Next() {
		var (
			t        custos.HardwareToken
			deviceID sql.NullString
			created  int64
		)
		if err := rows.Scan(&t.Serial, &t.OTPKind, &t.Algorithm, &t.Digits, &t.Period, &t.Counter,
			&t.Status, &deviceID, &created); err != nil {
			return nil, fmt.Errorf("sqlstore: list hardware tokens: %w", err)
		}
		t.DeviceID = deviceID.String
		t.CreatedAt = fromMillis(created)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list hardware tokens: %w", err)
	}
	return out, nil
}
