package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/custos/custos"
)

var _ custos.SubUserStore = (*DB)(nil)

// defaultSubUserLimit is how many sub-users a SubUserFilter without a
// Limit lists, maxSubUserLimit the most any lists.
const (
	defaultSubUserLimit = 50
	maxSubUserLimit     = 500
)

const (
	subUserColumns = "account_id, root_account_id, user_name, console_login, must_bind_mfa, must_change_password, " +
		"password_changed_at, created_at"
	passwordRuleColumns = "min_length, classes, history, retry_limit, max_age_ms"
)

// joinedSubUserColumns reads a sub-user's account (a) and settings (s) in
// one row.
var joinedSubUserColumns = prefixed("a.", accountSelectColumns) + ", " + prefixed("s.", subUserColumns)

// CreateSubUser inserts the sub-user's account a, its settings s and ev in
// one transaction. The root must exist (ENotFound otherwise, and if it
// goes meanwhile) and must not be a sub-user itself (EConflict: sub-users
// have no sub-users); the user name must be free within the root
// (EConflict), as must a's id. a must be of kind custos.KindSubUser with
// Email custos.SubUserEmail(a.ID), s.AccountID a.ID (or "", read as a.ID)
// and s.RootAccountID and s.UserName set: anything else is a caller bug, a
// plain error that writes nothing.
//
// Of concurrent creations of one name under one root (on any replica) the
// unique constraint on (root_account_id, user_name) lets one commit: on
// PostgreSQL the others wait for it at their insert and then fail it, on
// SQLite the IMMEDIATE transactions run one at a time.
func (db *DB) CreateSubUser(ctx context.Context, a custos.Account, s custos.SubUser, ev custos.AuditEvent) error {
	if s.AccountID == "" {
		s.AccountID = a.ID
	}
	switch {
	case a.ID == "" || s.RootAccountID == "" || s.UserName == "":
		return errors.New("sqlstore: create sub-user: a sub-user needs an id, a root and a user name")
	case a.Kind != custos.KindSubUser:
		return fmt.Errorf("sqlstore: create sub-user: account kind %q, want %q", a.Kind, custos.KindSubUser)
	case a.Email != custos.SubUserEmail(a.ID):
		return fmt.Errorf("sqlstore: create sub-user: email %q, want %q", a.Email, custos.SubUserEmail(a.ID))
	case s.AccountID != a.ID:
		return fmt.Errorf("sqlstore: create sub-user: settings of %q for account %q", s.AccountID, a.ID)
	case s.RootAccountID == a.ID:
		return errors.New("sqlstore: create sub-user: an account cannot be its own root")
	}
	return db.inTxWith(ctx, db.readCommitted(), func(tx *sql.Tx) error {
		var kind string
		err := tx.QueryRowContext(ctx, db.q("SELECT kind FROM accounts WHERE id = ?"), s.RootAccountID).Scan(&kind)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return custos.Errorf(custos.ENotFound, "root account not found")
		case err != nil:
			return fmt.Errorf("sqlstore: create sub-user: root: %w", err)
		case custos.AccountKind(kind) == custos.KindSubUser:
			return custos.Errorf(custos.EConflict, "a sub-user has no sub-users")
		}
		_, err = tx.ExecContext(ctx, db.q(
			"INSERT INTO accounts ("+accountColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
			a.ID, string(a.Kind), a.Email, a.PasswordHash, millis(a.CreatedAt),
			a.Protection.Login, a.Protection.Operation, a.Phone, a.SecureEmail, a.PasswordVersion,
			a.Protection.LoginMethod, a.Protection.OperationMethod, a.Language)
		if err != nil {
			if v, _ := classify(err, "accounts", "email"); v == uniqueViolation {
				return custos.Errorf(custos.EConflict, "account %q already exists", a.ID)
			}
			return fmt.Errorf("sqlstore: create sub-user: account: %w", err)
		}
		_, err = tx.ExecContext(ctx, db.q(
			"INSERT INTO sub_users ("+subUserColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
			s.AccountID, s.RootAccountID, s.UserName, s.ConsoleLogin, s.MustBindMFA, s.MustChangePassword,
			optMillis(s.PasswordChangedAt), millis(s.CreatedAt))
		if err != nil {
			switch v, _ := classify(err, "sub_users", "user_name"); v {
			case uniqueViolation:
				return custos.Errorf(custos.EConflict, "the root already has a sub-user named %q", s.UserName)
			case foreignKeyViolation:
				return custos.Errorf(custos.ENotFound, "root account not found")
			}
			return fmt.Errorf("sqlstore: create sub-user: %w", err)
		}
		return db.insertAudit(ctx, tx, ev)
	})
}

// SubUserByName returns the root's sub-user with exactly this (normalised)
// user name, its account and settings read by one statement; ENotFound if
// there is none.
func (db *DB) SubUserByName(ctx context.Context, rootAccountID, userName string) (custos.Account, custos.SubUser, error) {
	return db.subUserWhere(ctx, "sub-user by name", "s.root_account_id = ? AND s.user_name = ?", rootAccountID, userName)
}

// SubUserByID returns the sub-user whose account id this is; ENotFound if
// there is none (an account that is no sub-user among them).
func (db *DB) SubUserByID(ctx context.Context, accountID string) (custos.Account, custos.SubUser, error) {
	return db.subUserWhere(ctx, "sub-user by id", "s.account_id = ?", accountID)
}

func (db *DB) subUserWhere(ctx context.Context, what, where string, args ...any) (custos.Account, custos.SubUser, error) {
	row := db.r.QueryRowContext(ctx, db.q(
		"SELECT "+joinedSubUserColumns+" FROM sub_users s JOIN accounts a ON a.id = s.account_id WHERE "+where),
		args...)
	a, s, err := scanAccountSubUser(row)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return custos.Account{}, custos.SubUser{}, custos.Errorf(custos.ENotFound, "sub-user not found")
	case err != nil:
		return custos.Account{}, custos.SubUser{}, fmt.Errorf("sqlstore: %s: %w", what, err)
	}
	return a, s, nil
}

// ListSubUsers returns the root's sub-users by user name (ascending, in
// byte order on both databases), those whose user name holds f.Search
// (any case; % and _ in it are plain characters) and comes after f.After,
// at most f.Limit (defaultSubUserLimit when it is not positive,
// maxSubUserLimit at most); an empty slice when none match.
func (db *DB) ListSubUsers(ctx context.Context, rootAccountID string, f custos.SubUserFilter) ([]custos.SubUser, error) {
	where := []string{"root_account_id = ?"}
	args := []any{rootAccountID}
	if f.After != "" {
		where = append(where, "user_name > ?")
		args = append(args, f.After)
	}
	if f.Search != "" {
		// User names are stored in lower case; LOWER covers any that is
		// not, as far as each database folds (ASCII on both).
		where = append(where, `LOWER(user_name) LIKE ? ESCAPE '\'`)
		args = append(args, "%"+escapeLike(strings.ToLower(f.Search))+"%")
	}
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = defaultSubUserLimit
	case limit > maxSubUserLimit:
		limit = maxSubUserLimit
	}
	args = append(args, limit)
	rows, err := db.r.QueryContext(ctx, db.q(
		"SELECT "+subUserColumns+" FROM sub_users WHERE "+strings.Join(where, " AND ")+" ORDER BY user_name LIMIT ?"),
		args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list sub-users: %w", err)
	}
	defer rows.Close()
	out := []custos.SubUser{}
	for rows.Next() {
		s, err := scanSubUser(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: list sub-users: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list sub-users: %w", err)
	}
	return out, nil
}

// escapeLike makes s match itself literally inside a LIKE pattern whose
// escape character is a backslash.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// UpdateSubUser replaces the user name, the console login, the two
// "must" marks and PasswordChangedAt of the root's sub-user s.AccountID
// (its account id, root and CreatedAt stay) and writes ev, in one
// transaction. ENotFound (and no event) if it is not that root's
// sub-user; EConflict if the root has another sub-user of the new name.
func (db *DB) UpdateSubUser(ctx context.Context, s custos.SubUser, ev custos.AuditEvent) error {
	if s.UserName == "" {
		return errors.New("sqlstore: update sub-user: no user name")
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		n, err := affected(tx.ExecContext(ctx, db.q(
			"UPDATE sub_users SET user_name = ?, console_login = ?, must_bind_mfa = ?, must_change_password = ?, "+
				"password_changed_at = ? WHERE account_id = ? AND root_account_id = ?"),
			s.UserName, s.ConsoleLogin, s.MustBindMFA, s.MustChangePassword, optMillis(s.PasswordChangedAt),
			s.AccountID, s.RootAccountID))
		if err != nil {
			if v, _ := classify(err, "sub_users", "user_name"); v == uniqueViolation {
				return custos.Errorf(custos.EConflict, "the root already has a sub-user named %q", s.UserName)
			}
			return fmt.Errorf("sqlstore: update sub-user: %w", err)
		}
		if n == 0 {
			return custos.Errorf(custos.ENotFound, "sub-user not found")
		}
		return db.insertAudit(ctx, tx, ev)
	})
}

// ResetSubUserMFA, in one transaction, sets MustBindMFA on the root's
// sub-user, deletes every device (pending or confirmed) and every recovery
// code of its account, retiring the hardware tokens bound as its devices
// (as an unbind_mfa ticket does: a token taken from a sub-user is not put
// back in stock), ends its sessions and forgets its trusted devices, and
// writes ev. ENotFound (and no change, no event) if it is not that root's
// sub-user. The account's protection switches stay: MustBindMFA sends the
// next login into binding a new authenticator.
func (db *DB) ResetSubUserMFA(ctx context.Context, rootAccountID, accountID string, ev custos.AuditEvent) error {
	return db.inTxWith(ctx, db.readCommitted(), func(tx *sql.Tx) error {
		n, err := affected(tx.ExecContext(ctx, db.q(
			"UPDATE sub_users SET must_bind_mfa = ? WHERE account_id = ? AND root_account_id = ?"),
			true, accountID, rootAccountID))
		if err != nil {
			return fmt.Errorf("sqlstore: reset sub-user mfa: %w", err)
		}
		if n == 0 {
			return custos.Errorf(custos.ENotFound, "sub-user not found")
		}
		if err := db.deleteAllMFA(ctx, tx, accountID); err != nil {
			return fmt.Errorf("sqlstore: reset sub-user mfa: %w", err)
		}
		if _, err := db.endLogins(ctx, tx, accountID); err != nil {
			return fmt.Errorf("sqlstore: reset sub-user mfa: %w", err)
		}
		return db.insertAudit(ctx, tx, ev)
	})
}

// deleteAllMFA deletes, through tx, every device and recovery code of the
// account and retires the hardware tokens bound as its devices (only the
// token bound as the device, as DeleteDevice releases one).
func (db *DB) deleteAllMFA(ctx context.Context, tx *sql.Tx, accountID string) error {
	rows, err := tx.QueryContext(ctx, db.q("DELETE FROM mfa_devices WHERE account_id = ? RETURNING id, serial"), accountID)
	if err != nil {
		return fmt.Errorf("devices: %w", err)
	}
	type bound struct{ id, serial string }
	var tokens []bound
	for rows.Next() {
		var b bound
		if err := rows.Scan(&b.id, &b.serial); err != nil {
			rows.Close()
			return fmt.Errorf("devices: %w", err)
		}
		if b.serial != "" {
			tokens = append(tokens, b)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("devices: %w", err)
	}
	for _, b := range tokens {
		if _, err := tx.ExecContext(ctx, db.q(
			"UPDATE hardware_tokens SET status = ?, device_id = NULL WHERE serial = ? AND device_id = ?"),
			custos.TokenRetired, b.serial, b.id); err != nil {
			return fmt.Errorf("retire token: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, db.q("DELETE FROM recovery_codes WHERE account_id = ?"), accountID); err != nil {
		return fmt.Errorf("recovery codes: %w", err)
	}
	return nil
}

// SetSubUserPassword is the root setting its sub-user's password: see
// setSubUserPassword. ENotFound if accountID is not rootAccountID's
// sub-user.
func (db *DB) SetSubUserPassword(ctx context.Context, rootAccountID, accountID, hash string, mustChange bool, at time.Time, keep int, ev custos.AuditEvent) error {
	if rootAccountID == "" {
		return errors.New("sqlstore: set sub-user password: no root")
	}
	return db.setSubUserPassword(ctx, "set sub-user password", rootAccountID, accountID, hash, mustChange, at, keep, ev)
}

// ChangeOwnSubUserPassword is the sub-user changing their own password,
// which clears MustChangePassword: see setSubUserPassword. ENotFound if
// accountID is no sub-user.
func (db *DB) ChangeOwnSubUserPassword(ctx context.Context, accountID, hash string, at time.Time, keep int, ev custos.AuditEvent) error {
	return db.setSubUserPassword(ctx, "change own sub-user password", "", accountID, hash, false, at, keep, ev)
}

// setSubUserPassword, in one transaction, remembers the sub-user's current
// hash in password_history (unless it is "", no password) and deletes all
// but the newest keep of its history (all of it when keep <= 0), stores
// hash adding one to password_version, sets must_change_password and
// password_changed_at (at), ends the account's sessions, forgets its
// trusted devices and deletes its flows of the kinds in pendingOnPassword
// (as ResetPassword does: each was begun on the old password), and writes
// ev. A rootAccountID other than "" must be the sub-user's root. ENotFound
// (and no change, no event) when there is no such sub-user.
//
// The account's row is read FOR UPDATE on PostgreSQL, so the hash
// remembered is the one this change replaces: of two changes at once the
// second waits and remembers the first's. Holding that row, as
// ResetPassword's UPDATE does, also orders this against CreateSession's
// version check: a session checked against the old version either
// commits first and is deleted here, or reads the new version and is
// refused.
func (db *DB) setSubUserPassword(ctx context.Context, what, rootAccountID, accountID, hash string, mustChange bool, at time.Time, keep int, ev custos.AuditEvent) error {
	if at.IsZero() {
		return fmt.Errorf("sqlstore: %s: zero time", what)
	}
	query := "SELECT password_hash FROM accounts WHERE id = ? AND EXISTS " +
		"(SELECT 1 FROM sub_users WHERE sub_users.account_id = accounts.id"
	args := []any{accountID}
	if rootAccountID != "" {
		query += " AND sub_users.root_account_id = ?"
		args = append(args, rootAccountID)
	}
	query += ")"
	if db.dialect == DialectPostgres {
		query += " FOR UPDATE"
	}
	return db.inTxWith(ctx, db.readCommitted(), func(tx *sql.Tx) error {
		var old string
		err := tx.QueryRowContext(ctx, db.q(query), args...).Scan(&old)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return custos.Errorf(custos.ENotFound, "sub-user not found")
		case err != nil:
			return fmt.Errorf("sqlstore: %s: %w", what, err)
		}
		if _, err := tx.ExecContext(ctx, db.q(
			"UPDATE accounts SET password_hash = ?, password_version = password_version + 1 WHERE id = ?"),
			hash, accountID); err != nil {
			return fmt.Errorf("sqlstore: %s: %w", what, err)
		}
		n, err := affected(tx.ExecContext(ctx, db.q(
			"UPDATE sub_users SET must_change_password = ?, password_changed_at = ? WHERE account_id = ?"),
			mustChange, millis(at), accountID))
		if err != nil {
			return fmt.Errorf("sqlstore: %s: %w", what, err)
		}
		if n == 0 {
			// The root's cascade took the settings after the read.
			return custos.Errorf(custos.ENotFound, "sub-user not found")
		}
		if err := db.rememberPassword(ctx, tx, accountID, old, at, keep); err != nil {
			return fmt.Errorf("sqlstore: %s: %w", what, err)
		}
		if _, err := db.endLogins(ctx, tx, accountID); err != nil {
			return fmt.Errorf("sqlstore: %s: %w", what, err)
		}
		kinds := make([]any, 0, len(pendingOnPassword)+1)
		kinds = append(kinds, accountID)
		for _, k := range pendingOnPassword {
			kinds = append(kinds, string(k))
		}
		if _, err := tx.ExecContext(ctx, db.q(
			"DELETE FROM flows WHERE account_id = ? AND kind IN ("+placeholders(len(pendingOnPassword))+")"),
			kinds...); err != nil {
			return fmt.Errorf("sqlstore: %s: flows: %w", what, err)
		}
		return db.insertAudit(ctx, tx, ev)
	})
}

// rememberPassword adds old (unless "") to the account's password history
// through tx and keeps only its newest keep entries.
func (db *DB) rememberPassword(ctx context.Context, tx *sql.Tx, accountID, old string, at time.Time, keep int) error {
	if keep <= 0 {
		if _, err := tx.ExecContext(ctx, db.q("DELETE FROM password_history WHERE account_id = ?"), accountID); err != nil {
			return fmt.Errorf("password history: %w", err)
		}
		return nil
	}
	if old != "" {
		if _, err := tx.ExecContext(ctx, db.q(
			"INSERT INTO password_history (account_id, hash, at) VALUES (?, ?, ?)"),
			accountID, old, millis(at)); err != nil {
			return fmt.Errorf("password history: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, db.q(
		"DELETE FROM password_history WHERE account_id = ? AND seq NOT IN "+
			"(SELECT seq FROM password_history WHERE account_id = ? ORDER BY seq DESC LIMIT ?)"),
		accountID, accountID, keep); err != nil {
		return fmt.Errorf("password history: %w", err)
	}
	return nil
}

// PasswordHistory returns the account's remembered password hashes,
// newest first, at most n; an empty slice when there are none or n <= 0.
func (db *DB) PasswordHistory(ctx context.Context, accountID string, n int) ([]string, error) {
	out := []string{}
	if n <= 0 {
		return out, nil
	}
	rows, err := db.r.QueryContext(ctx, db.q(
		"SELECT hash FROM password_history WHERE account_id = ? ORDER BY seq DESC LIMIT ?"), accountID, n)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: password history: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, fmt.Errorf("sqlstore: password history: %w", err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: password history: %w", err)
	}
	return out, nil
}

// PasswordRules returns the root's password rules, the zero value when it
// has set none.
func (db *DB) PasswordRules(ctx context.Context, rootAccountID string) (custos.PasswordRules, error) {
	var (
		r      custos.PasswordRules
		maxAge int64
	)
	err := db.r.QueryRowContext(ctx, db.q(
		"SELECT "+passwordRuleColumns+" FROM password_rules WHERE root_account_id = ?"), rootAccountID).
		Scan(&r.MinLength, &r.Classes, &r.History, &r.RetryLimit, &maxAge)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return custos.PasswordRules{}, nil
	case err != nil:
		return custos.PasswordRules{}, fmt.Errorf("sqlstore: password rules: %w", err)
	}
	r.MaxAge = time.Duration(maxAge) * time.Millisecond
	return r, nil
}

// SetPasswordRules stores r as the root's password rules (MaxAge to the
// millisecond), replacing any, and writes ev, in one transaction whose one
// upsert serialises concurrent callers on the row. ENotFound (and no
// event) if the root account does not exist.
func (db *DB) SetPasswordRules(ctx context.Context, rootAccountID string, r custos.PasswordRules, ev custos.AuditEvent) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, db.q(
			"INSERT INTO password_rules (root_account_id, "+passwordRuleColumns+") VALUES (?, ?, ?, ?, ?, ?) "+
				"ON CONFLICT (root_account_id) DO UPDATE SET min_length = excluded.min_length, "+
				"classes = excluded.classes, history = excluded.history, retry_limit = excluded.retry_limit, "+
				"max_age_ms = excluded.max_age_ms"),
			rootAccountID, r.MinLength, r.Classes, r.History, r.RetryLimit, r.MaxAge.Milliseconds())
		if err != nil {
			if v, _ := classify(err, "password_rules", "root_account_id"); v == foreignKeyViolation {
				return custos.Errorf(custos.ENotFound, "root account not found")
			}
			return fmt.Errorf("sqlstore: set password rules: %w", err)
		}
		return db.insertAudit(ctx, tx, ev)
	})
}

// subUserDest returns the destinations of subUserColumns for s, the
// optional and stored times read into changed and created.
func subUserDest(s *custos.SubUser, changed *sql.NullInt64, created *int64) []any {
	return []any{&s.AccountID, &s.RootAccountID, &s.UserName, &s.ConsoleLogin, &s.MustBindMFA,
		&s.MustChangePassword, changed, created}
}

func scanSubUser(row scanner) (custos.SubUser, error) {
	var (
		s       custos.SubUser
		changed sql.NullInt64
		created int64
	)
	if err := row.Scan(subUserDest(&s, &changed, &created)...); err != nil {
		return custos.SubUser{}, err
	}
	s.PasswordChangedAt = fromOptMillis(changed)
	s.CreatedAt = fromMillis(created)
	return s, nil
}

// scanThen is a scanner whose row holds more columns after those Scan is
// given, read into more.
type scanThen struct {
	row  scanner
	more []any
}

func (r scanThen) Scan(dest ...any) error { return r.row.Scan(append(dest, r.more...)...) }

// scanAccountSubUser reads a row of joinedSubUserColumns.
func scanAccountSubUser(row scanner) (custos.Account, custos.SubUser, error) {
	var (
		s       custos.SubUser
		changed sql.NullInt64
		created int64
	)
	a, err := scanAccount(scanThen{row, subUserDest(&s, &changed, &created)})
	if err != nil {
		return custos.Account{}, custos.SubUser{}, err
	}
	s.PasswordChangedAt = fromOptMillis(changed)
	s.CreatedAt = fromMillis(created)
	return a, s, nil
}
