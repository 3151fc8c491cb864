package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/custos/custos"
)

// ReplaceRecoveryCodes deletes every recovery code of the account, used or
// not, stores hashes as new unused codes created at `at`, and writes ev, in
// one transaction. ENotFound if hashes are given for an account that does
// not exist; EConflict if a hash is given twice. Either way nothing
// changes.
func (db *DB) ReplaceRecoveryCodes(ctx context.Context, accountID string, hashes [][]byte, at time.Time, ev custos.AuditEvent) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, db.q("DELETE FROM recovery_codes WHERE account_id = ?"), accountID); err != nil {
			return fmt.Errorf("sqlstore: replace recovery codes: %w", err)
		}
		if len(hashes) > 0 {
			stmt, err := tx.PrepareContext(ctx, db.q(
				"INSERT INTO recovery_codes (account_id, code_hash, created_at, used_at) VALUES (?, ?, ?, NULL)"))
			if err != nil {
				return fmt.Errorf("sqlstore: replace recovery codes: %w", err)
			}
			defer stmt.Close()
			for _, h := range hashes {
				if len(h) == 0 {
					return errors.New("sqlstore: replace recovery codes: empty hash")
				}
				if _, err := stmt.ExecContext(ctx, accountID, h, millis(at)); err != nil {
					switch v, _ := classify(err, "recovery_codes", "code_hash"); v {
					case uniqueViolation:
						return custos.Errorf(custos.EConflict, "a recovery code hash is given twice")
					case foreignKeyViolation:
						return custos.Errorf(custos.ENotFound, "account not found")
					}
					return fmt.Errorf("sqlstore: replace recovery codes: %w", err)
				}
			}
		}
		return db.insertAudit(ctx, tx, ev)
	})
}

// UseRecoveryCode marks the account's unused code with this hash used at
// `at` and writes ev, in one transaction whose UPDATE matches only an
// unused code, so of concurrent uses of one code (on any replica) exactly
// one succeeds. EInvalidCode (and no event) if the account has no unused
// code with that hash. A zero `at` is a caller bug and fails with a plain
// error.
func (db *DB) UseRecoveryCode(ctx context.Context, accountID string, hash []byte, at time.Time, ev custos.AuditEvent) error {
	if at.IsZero() {
		// A zero at would be stored as a non-NULL used_at that reads back
		// as zero: refuse it rather than confuse used with unused.
		return errors.New("sqlstore: use recovery code: zero time")
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		n, err := affected(tx.ExecContext(ctx, db.q(
			"UPDATE recovery_codes SET used_at = ? WHERE account_id = ? AND code_hash = ? AND used_at IS NULL"),
			millis(at), accountID, hash))
		if err != nil {
			return fmt.Errorf("sqlstore: use recovery code: %w", err)
		}
		if n == 0 {
			return custos.Errorf(custos.EInvalidCode, "no such unused recovery code")
		}
		return db.insertAudit(ctx, tx, ev)
	})
}

// CountRecoveryCodes returns how many unused recovery codes the account
// has.
func (db *DB) CountRecoveryCodes(ctx context.Context, accountID string) (int, error) {
	var n int
	err := db.r.QueryRowContext(ctx, db.q(
		"SELECT COUNT(*) FROM recovery_codes WHERE account_id = ? AND used_at IS NULL"), accountID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: count recovery codes: %w", err)
	}
	return n, nil
}
