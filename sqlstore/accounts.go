package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/custos/custos"
)

const accountColumns = "id, kind, email, password_hash, created_at, login_protection, operation_protection, " +
	"phone, secure_email, password_version, login_method, operation_method, language"

// accountSelectColumns are what scanAccount reads: the inserted columns
// and the ones that start at their default.
const accountSelectColumns = accountColumns + ", time_zone, new_device_step"

// CreateAccount inserts a and ev in one transaction; EEmailTaken if the
// email is used, EConflict if the id (of the account or the event) is.
func (db *DB) CreateAccount(ctx context.Context, a custos.Account, ev custos.AuditEvent) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, db.q(
			"INSERT INTO accounts ("+accountColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
			a.ID, string(a.Kind), a.Email, a.PasswordHash, millis(a.CreatedAt),
			a.Protection.Login, a.Protection.Operation, a.Phone, a.SecureEmail, a.PasswordVersion,
			a.Protection.LoginMethod, a.Protection.OperationMethod, a.Language)
		if err != nil {
			switch v, onEmail := classify(err, "accounts", "email"); {
			case v == uniqueViolation && onEmail:
				return custos.Errorf(custos.EEmailTaken, "the email is already used by an account")
			case v == uniqueViolation:
				return custos.Errorf(custos.EConflict, "account %q already exists", a.ID)
			}
			return fmt.Errorf("sqlstore: create account: %w", err)
		}
		return db.insertAudit(ctx, tx, ev)
	})
}

// AccountByID returns the account or ENotFound.
func (db *DB) AccountByID(ctx context.Context, id string) (custos.Account, error) {
	row := db.hotRow(ctx, "SELECT "+accountSelectColumns+" FROM accounts WHERE id = ?", id)
	a, err := scanAccount(row)
	if errors.Is(err, sql.ErrNoRows) {
		return custos.Account{}, custos.Errorf(custos.ENotFound, "account not found")
	}
	if err != nil {
		return custos.Account{}, fmt.Errorf("sqlstore: account by id: %w", err)
	}
	return a, nil
}

// AccountByEmail returns the account with exactly this (normalised) email,
// or ENotFound.
func (db *DB) AccountByEmail(ctx context.Context, email string) (custos.Account, error) {
	row := db.hotRow(ctx, "SELECT "+accountSelectColumns+" FROM accounts WHERE email = ?", email)
	a, err := scanAccount(row)
	if errors.Is(err, sql.ErrNoRows) {
		return custos.Account{}, custos.Errorf(custos.ENotFound, "account not found")
	}
	if err != nil {
		return custos.Account{}, fmt.Errorf("sqlstore: account by email: %w", err)
	}
	return a, nil
}

// SetPasswordHash replaces the hash only if it still equals old, in one
// compare-and-set UPDATE; password_version stays (a rehash is the same
// password). ENotFound if the account is gone; EConflict if the hash
// changed meanwhile.
func (db *DB) SetPasswordHash(ctx context.Context, accountID, old, hash string) error {
	res, err := db.w.ExecContext(ctx, db.q(
		"UPDATE accounts SET password_hash = ? WHERE id = ? AND password_hash = ?"),
		hash, accountID, old)
	if err != nil {
		return fmt.Errorf("sqlstore: set password hash: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: set password hash: %w", err)
	}
	if n == 1 {
		return nil
	}
	// Nothing matched: tell a missing account from a changed hash. Accounts
	// are never deleted here, so the answer cannot flip in between.
	var one int
	err = db.r.QueryRowContext(ctx, db.q("SELECT 1 FROM accounts WHERE id = ?"), accountID).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return custos.Errorf(custos.ENotFound, "account not found")
	case err != nil:
		return fmt.Errorf("sqlstore: set password hash: %w", err)
	}
	return custos.Errorf(custos.EConflict, "the password hash changed meanwhile")
}

// pendingOnPassword are the flow kinds a password change, reset or freeze
// ends: each was begun on the strength of the old password or of a
// session the change ends.
var pendingOnPassword = []custos.FlowKind{custos.FlowLogin, custos.FlowVerification, custos.FlowReset, custos.FlowWebAuthn}

// ResetPassword stores the new hash, adds one to password_version, ends
// every session of the account, forgets its trusted devices, deletes its
// flows of the kinds in pendingOnPassword, deletes the counter at lockKey
// (ending a login-security lock) and writes ev, all in one transaction.
// ENotFound if the account is gone, and then nothing changes and no event
// is written.
//
// The UPDATE comes first and holds the account's row lock to the commit:
// on PostgreSQL it waits for a CreateSession holding the row FOR SHARE,
// and the DELETE of sessions after it (READ COMMITTED: a snapshot of its
// own) sees the session that one committed; a CreateSession that comes
// later waits for this commit and reads the new version. Flows are found
// by account_id only: one begun without it (today every reset and
// retrieval flow) is left to its own compare-and-swap.
func (db *DB) ResetPassword(ctx context.Context, accountID, hash, lockKey string, ev custos.AuditEvent) error {
	return db.inTxWith(ctx, db.readCommitted(), func(tx *sql.Tx) error {
		n, err := affected(tx.ExecContext(ctx, db.q(
			"UPDATE accounts SET password_hash = ?, password_version = password_version + 1 WHERE id = ?"),
			hash, accountID))
		if err != nil {
			return fmt.Errorf("sqlstore: reset password: %w", err)
		}
		if n == 0 {
			return custos.Errorf(custos.ENotFound, "account not found")
		}
		if _, err := db.endLogins(ctx, tx, accountID); err != nil {
			return fmt.Errorf("sqlstore: reset password: %w", err)
		}
		kinds := make([]any, 0, len(pendingOnPassword)+1)
		kinds = append(kinds, accountID)
		for _, k := range pendingOnPassword {
			kinds = append(kinds, string(k))
		}
		if _, err := tx.ExecContext(ctx, db.q(
			"DELETE FROM flows WHERE account_id = ? AND kind IN (?"+strings.Repeat(", ?", len(pendingOnPassword)-1)+")"),
			kinds...); err != nil {
			return fmt.Errorf("sqlstore: reset password: flows: %w", err)
		}
		if _, err := tx.ExecContext(ctx, db.q("DELETE FROM counters WHERE key = ?"), lockKey); err != nil {
			return fmt.Errorf("sqlstore: reset password: counter: %w", err)
		}
		return db.insertAudit(ctx, tx, ev)
	})
}

// SetProtection sets the account's protection switches and chosen methods
// (stored as given; the service checks them) and writes ev in the same
// transaction; ENotFound (and no event) if the account is gone.
func (db *DB) SetProtection(ctx context.Context, accountID string, p custos.Protection, ev custos.AuditEvent) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		n, err := affected(tx.ExecContext(ctx, db.q(
			"UPDATE accounts SET login_protection = ?, operation_protection = ?, login_method = ?, operation_method = ? WHERE id = ?"),
			p.Login, p.Operation, p.LoginMethod, p.OperationMethod, accountID))
		if err != nil {
			return fmt.Errorf("sqlstore: set protection: %w", err)
		}
		if n == 0 {
			return custos.Errorf(custos.ENotFound, "account not found")
		}
		return db.insertAudit(ctx, tx, ev)
	})
}

// SetLanguage saves the language the holder chose ("" forgets it);
// ENotFound if the account is gone.
func (db *DB) SetLanguage(ctx context.Context, accountID, lang string) error {
	n, err := affected(db.w.ExecContext(ctx, db.q("UPDATE accounts SET language = ? WHERE id = ?"), lang, accountID))
	if err != nil {
		return fmt.Errorf("sqlstore: set language: %w", err)
	}
	if n == 0 {
		return custos.Errorf(custos.ENotFound, "account not found")
	}
	return nil
}

func scanAccount(row scanner) (custos.Account, error) {
	var (
		a       custos.Account
		kind    string
		created int64
	)
	if err := row.Scan(&a.ID, &kind, &a.Email, &a.PasswordHash, &created,
		&a.Protection.Login, &a.Protection.Operation, &a.Phone, &a.SecureEmail, &a.PasswordVersion,
		&a.Protection.LoginMethod, &a.Protection.OperationMethod, &a.Language, &a.TimeZone, &a.NewDeviceStep); err != nil {
		return custos.Account{}, err
	}
	a.Kind = custos.AccountKind(kind)
	a.CreatedAt = fromMillis(created)
	return a, nil
}

// SetTimeZone saves the account's time zone; ENotFound if the account is
// gone.
func (db *DB) SetTimeZone(ctx context.Context, accountID, zone string) error {
	n, err := affected(db.w.ExecContext(ctx, db.q("UPDATE accounts SET time_zone = ? WHERE id = ?"), zone, accountID))
	if err != nil {
		return fmt.Errorf("sqlstore: set time zone: %w", err)
	}
	if n == 0 {
		return custos.Errorf(custos.ENotFound, "account not found")
	}
	return nil
}
