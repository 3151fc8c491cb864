package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/custos/custos"
)

// phoneLockSpace is the first key of the transaction-scoped advisory lock
// SetPhone takes on PostgreSQL, the number's hashtext being the second: the
// two-key space never meets the one-key locks (Migrate's), and "phon" in
// ASCII keeps it apart from any other two-key use.
const phoneLockSpace int32 = 0x70686f6e

// AccountsByPhone returns the accounts bound to phone, oldest (by
// CreatedAt, then id) first; an empty slice when there are none, and for
// "", which is no number. Sub-users are left out: their root resets them,
// not their phone (R9).
func (db *DB) AccountsByPhone(ctx context.Context, phone string) ([]custos.Account, error) {
	out := []custos.Account{}
	if phone == "" {
		return out, nil
	}
	// phone <> '' repeats the partial index's condition: neither SQLite nor
	// a PostgreSQL generic plan infers it from phone = ?, and without it
	// both read the whole table.
	rows, err := db.r.QueryContext(ctx, db.q(
		"SELECT "+accountSelectColumns+" FROM accounts WHERE phone = ? AND phone <> '' AND kind <> 'sub_user' "+
			"ORDER BY created_at, id"), phone)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: accounts by phone: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: accounts by phone: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: accounts by phone: %w", err)
	}
	return out, nil
}

// SetPhone binds phone to the account ("" unbinds) and writes ev, in one
// transaction. Binding is refused with EConflict when maxPerNumber other
// accounts already hold the number (the account's own binding does not
// count, so rebinding its number is allowed up to the limit); unbinding is
// never refused. ENotFound (and no event) if the account is gone.
//
// The count and the change must not interleave with another binding of the
// same number, or two accounts could each see a free slot and both take
// it. SQLite's IMMEDIATE transaction holds the database's write lock from
// the start. On PostgreSQL a transaction-scoped advisory lock on the number
// serialises its bindings, and READ COMMITTED gives the count, a statement
// run after the lock is granted, a snapshot that includes every binding
// committed before. (Locking the matching rows FOR UPDATE would not do: a
// row that starts to match while the count waits is not seen.)
func (db *DB) SetPhone(ctx context.Context, accountID, phone string, maxPerNumber int, ev custos.AuditEvent) error {
	return db.inTxWith(ctx, db.readCommitted(), func(tx *sql.Tx) error {
		if phone != "" && db.dialect == DialectPostgres {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1, hashtext($2))", phoneLockSpace, phone); err != nil {
				return fmt.Errorf("sqlstore: set phone: lock number: %w", err)
			}
		}
		// Updating first makes a missing account ENotFound whatever the
		// count; a refusal below rolls the update back.
		n, err := affected(tx.ExecContext(ctx, db.q("UPDATE accounts SET phone = ? WHERE id = ?"), phone, accountID))
		if err != nil {
			return fmt.Errorf("sqlstore: set phone: %w", err)
		}
		if n == 0 {
			return custos.Errorf(custos.ENotFound, "account not found")
		}
		if phone != "" {
			var others int
			err := tx.QueryRowContext(ctx, db.q(
				"SELECT COUNT(*) FROM accounts WHERE phone = ? AND phone <> '' AND id <> ?"),
				phone, accountID).Scan(&others)
			if err != nil {
				return fmt.Errorf("sqlstore: set phone: count: %w", err)
			}
			if others >= maxPerNumber {
				return custos.Errorf(custos.EConflict, "the number is already bound to %d accounts", others)
			}
		}
		return db.insertAudit(ctx, tx, ev)
	})
}

// SetAccountEmail changes the account's login email and writes ev in the
// same transaction. EEmailTaken if another account has the email (the
// unique constraint decides, so of concurrent changes to one address one
// wins); ENotFound (and no event) if the account is gone.
func (db *DB) SetAccountEmail(ctx context.Context, accountID, email string, ev custos.AuditEvent) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		n, err := affected(tx.ExecContext(ctx, db.q("UPDATE accounts SET email = ? WHERE id = ?"), email, accountID))
		if err != nil {
			if v, onEmail := classify(err, "accounts", "email"); v == uniqueViolation && onEmail {
				return custos.Errorf(custos.EEmailTaken, "the email is already used by an account")
			}
			return fmt.Errorf("sqlstore: set account email: %w", err)
		}
		if n == 0 {
			return custos.Errorf(custos.ENotFound, "account not found")
		}
		return db.insertAudit(ctx, tx, ev)
	})
}

// SetSecureEmail sets the account's secure email ("" clears it) and writes
// ev in the same transaction. Secure emails are not login identifiers and
// need not be unique. ENotFound (and no event) if the account is gone.
func (db *DB) SetSecureEmail(ctx context.Context, accountID, email string, ev custos.AuditEvent) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		n, err := affected(tx.ExecContext(ctx, db.q("UPDATE accounts SET secure_email = ? WHERE id = ?"), email, accountID))
		if err != nil {
			return fmt.Errorf("sqlstore: set secure email: %w", err)
		}
		if n == 0 {
			return custos.Errorf(custos.ENotFound, "account not found")
		}
		return db.insertAudit(ctx, tx, ev)
	})
}
