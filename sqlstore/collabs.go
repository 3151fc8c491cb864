package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/custos/custos"
)

var _ custos.CollaborationStore = (*DB)(nil)

const collabColumns = "id, root_account_id, invite_email, account_id, state, login_protection, operation_protection, " +
	"login_method, operation_method, created_at, accepted_at, ended_at"

// CreateCollaboration inserts c as invited (whatever c.State says, with no
// collaborator yet) and ev, in one transaction. EConflict when the root
// already has an invited or active collaboration with c.InviteEmail (the
// partial unique index collaborations_invite_key) or the id is taken;
// ENotFound if the root account does not exist.
//
// c.AccountID, c.AcceptedAt and c.EndedAt, the fields of later states, are
// ignored.
func (db *DB) CreateCollaboration(ctx context.Context, c custos.Collaboration, ev custos.AuditEvent) error {
	if c.ID == "" || c.RootAccountID == "" || c.InviteEmail == "" {
		return errors.New("sqlstore: create collaboration: a collaboration needs an id, a root account and an email")
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, db.q(
			"INSERT INTO collaborations ("+collabColumns+") VALUES (?, ?, ?, '', ?, ?, ?, ?, ?, ?, NULL, NULL)"),
			c.ID, c.RootAccountID, c.InviteEmail, custos.CollabInvited, c.Protection.Login, c.Protection.Operation,
			c.Protection.LoginMethod, c.Protection.OperationMethod, millis(c.CreatedAt))
		if err != nil {
			switch v, _ := classify(err, "collaborations", "id"); v {
			case uniqueViolation:
				return custos.Errorf(custos.EConflict,
					"the root account already has an invited or active collaboration with that email, or collaboration %q exists", c.ID)
			case foreignKeyViolation:
				return custos.Errorf(custos.ENotFound, "account not found")
			}
			return fmt.Errorf("sqlstore: create collaboration: %w", err)
		}
		return db.insertAudit(ctx, tx, ev)
	})
}

// CollaborationByID returns the collaboration, in any state, or ENotFound.
func (db *DB) CollaborationByID(ctx context.Context, id string) (custos.Collaboration, error) {
	c, err := scanCollaboration(db.r.QueryRowContext(ctx, db.q(
		"SELECT "+collabColumns+" FROM collaborations WHERE id = ?"), id))
	if errors.Is(err, sql.ErrNoRows) {
		return custos.Collaboration{}, custos.Errorf(custos.ENotFound, "collaboration not found")
	}
	if err != nil {
		return custos.Collaboration{}, fmt.Errorf("sqlstore: collaboration: %w", err)
	}
	return c, nil
}

// CollaborationsOfRoot returns the root's invited and active
// collaborations, newest (by CreatedAt, then id) first; an empty slice
// when there are none.
func (db *DB) CollaborationsOfRoot(ctx context.Context, rootAccountID string) ([]custos.Collaboration, error) {
	// The condition repeats collaborations_root_idx's, so both databases
	// read it.
	return db.collaborationsWhere(ctx, "collaborations of root",
		"root_account_id = ? AND state IN ('invited', 'active')", rootAccountID)
}

// CollaborationsOfAccount returns the collaborator's active
// collaborations, newest (by CreatedAt, then id) first; an empty slice
// when there are none.
func (db *DB) CollaborationsOfAccount(ctx context.Context, accountID string) ([]custos.Collaboration, error) {
	// The condition repeats collaborations_account_idx's.
	return db.collaborationsWhere(ctx, "collaborations of account", "account_id = ? AND state = 'active'", accountID)
}

func (db *DB) collaborationsWhere(ctx context.Context, what, where string, args ...any) ([]custos.Collaboration, error) {
	rows, err := db.r.QueryContext(ctx, db.q(
		"SELECT "+collabColumns+" FROM collaborations WHERE "+where+" ORDER BY created_at DESC, id DESC"), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %s: %w", what, err)
	}
	defer rows.Close()
	out := []custos.Collaboration{}
	for rows.Next() {
		c, err := scanCollaboration(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: %s: %w", what, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: %s: %w", what, err)
	}
	return out, nil
}

// AcceptCollaboration moves an invited collaboration to active for
// accountID at `at` and writes ev, in one transaction. The move is one
// UPDATE whose WHERE clause holds the state, so of racing acceptances (on
// any replica) one matches the row; the others, and an acceptance of a
// collaboration no longer invited, get EAlreadyDecided. EConflict when
// accountID is the root's own (an account does not collaborate in itself);
// ENotFound if there is no such collaboration. Whether accountID may accept
// (its login email is the one invited) is the caller's rule.
func (db *DB) AcceptCollaboration(ctx context.Context, id, accountID string, at time.Time, ev custos.AuditEvent) error {
	if accountID == "" {
		return errors.New("sqlstore: accept collaboration: no account")
	}
	return db.inTxWith(ctx, db.readCommitted(), func(tx *sql.Tx) error {
		n, err := affected(tx.ExecContext(ctx, db.q(
			"UPDATE collaborations SET state = 'active', account_id = ?, accepted_at = ? "+
				"WHERE id = ? AND state = 'invited' AND root_account_id <> ?"),
			accountID, millis(at), id, accountID))
		if err != nil {
			return fmt.Errorf("sqlstore: accept collaboration: %w", err)
		}
		if n == 0 {
			// READ COMMITTED: this statement sees the winner of a race.
			var state, root string
			err := tx.QueryRowContext(ctx, db.q("SELECT state, root_account_id FROM collaborations WHERE id = ?"), id).
				Scan(&state, &root)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				return custos.Errorf(custos.ENotFound, "collaboration not found")
			case err != nil:
				return fmt.Errorf("sqlstore: accept collaboration: %w", err)
			case state != custos.CollabInvited:
				return custos.Errorf(custos.EAlreadyDecided, "the collaboration is %s", state)
			case root == accountID:
				return custos.Errorf(custos.EConflict, "an account cannot collaborate in itself")
			}
			return fmt.Errorf("sqlstore: accept collaboration: %q matched no row although invited", id)
		}
		return db.insertAudit(ctx, tx, ev)
	})
}

// SetCollaborationProtection replaces what the root requires of the
// collaborator's session and writes ev, in one transaction; ENotFound (and
// no event) if the collaboration is not the root's, is unknown or has
// ended.
func (db *DB) SetCollaborationProtection(ctx context.Context, rootAccountID, id string, p custos.Protection, ev custos.AuditEvent) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		n, err := affected(tx.ExecContext(ctx, db.q(
			"UPDATE collaborations SET login_protection = ?, operation_protection = ?, login_method = ?, operation_method = ? "+
				"WHERE id = ? AND root_account_id = ? AND state <> 'ended'"),
			p.Login, p.Operation, p.LoginMethod, p.OperationMethod, id, rootAccountID))
		if err != nil {
			return fmt.Errorf("sqlstore: set collaboration protection: %w", err)
		}
		if n == 0 {
			return custos.Errorf(custos.ENotFound, "collaboration not found")
		}
		return db.insertAudit(ctx, tx, ev)
	})
}

// EndCollaboration ends an invited or active collaboration at `at` and, in
// the same transaction, sets every session of its collaborator that works
// in the root's account back to the collaborator's own, and writes ev. The
// end is one UPDATE whose WHERE clause holds the state, so it happens once;
// ENotFound (and no event) if the collaboration is unknown or already
// ended. Sessions working in other roots are left as they are.
func (db *DB) EndCollaboration(ctx context.Context, id string, at time.Time, ev custos.AuditEvent) error {
	return db.inTxWith(ctx, db.readCommitted(), func(tx *sql.Tx) error {
		var root, collaborator string
		err := tx.QueryRowContext(ctx, db.q(
			"UPDATE collaborations SET state = 'ended', ended_at = ? WHERE id = ? AND state <> 'ended' "+
				"RETURNING root_account_id, account_id"),
			millis(at), id).Scan(&root, &collaborator)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return custos.Errorf(custos.ENotFound, "collaboration not found")
		case err != nil:
			return fmt.Errorf("sqlstore: end collaboration: %w", err)
		}
		if collaborator != "" {
			if _, err := tx.ExecContext(ctx, db.q(
				"UPDATE sessions SET acting_root_account_id = '' WHERE account_id = ? AND acting_root_account_id = ?"),
				collaborator, root); err != nil {
				return fmt.Errorf("sqlstore: end collaboration: sessions: %w", err)
			}
		}
		return db.insertAudit(ctx, tx, ev)
	})
}

// SetSessionActing makes the session work in rootAccountID ("" for its
// own account) and writes ev, in one transaction; ENotFound (and no event)
// if the session is gone. It does not check that the session's account
// collaborates in the root: that is the caller's rule.
func (db *DB) SetSessionActing(ctx context.Context, sessionID, rootAccountID string, ev custos.AuditEvent) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		n, err := affected(tx.ExecContext(ctx, db.q(
			"UPDATE sessions SET acting_root_account_id = ? WHERE id = ?"), rootAccountID, sessionID))
		if err != nil {
			return fmt.Errorf("sqlstore: set session acting: %w", err)
		}
		if n == 0 {
			return custos.Errorf(custos.ENotFound, "session not found")
		}
		return db.insertAudit(ctx, tx, ev)
	})
}

func scanCollaboration(row scanner) (custos.Collaboration, error) {
	var (
		c               custos.Collaboration
		created         int64
		accepted, ended sql.NullInt64
	)
	if err := row.Scan(&c.ID, &c.RootAccountID, &c.InviteEmail, &c.AccountID, &c.State, &c.Protection.Login,
		&c.Protection.Operation, &c.Protection.LoginMethod, &c.Protection.OperationMethod, &created, &accepted,
		&ended); err != nil {
		return custos.Collaboration{}, err
	}
	c.CreatedAt = fromMillis(created)
	c.AcceptedAt = fromOptMillis(accepted)
	c.EndedAt = fromOptMillis(ended)
	return c, nil
}
