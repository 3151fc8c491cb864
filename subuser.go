package custos

import (
	"context"
	"time"
)

// KindSubUser is the kind of a sub-user's account (R9): a person of a
// root account's team, whose security settings the root manages. A
// sub-user's Account has no login email of its own: its Email is
// SubUserEmail(id), which is no address (nothing is ever sent to it and
// no login email can equal it); its optional own email is its
// SecureEmail, its optional phone its Phone.
const KindSubUser AccountKind = "sub_user"

// SubUserEmail is the stand-in a sub-user's Account.Email holds.
func SubUserEmail(accountID string) string { return "sub-user:" + accountID }

// IsSubUser reports whether the account is a sub-user's.
func (a Account) IsSubUser() bool { return a.Kind == KindSubUser }

// SubUser is what a root account sets for one of its sub-users, beside the
// sub-user's Account (same id).
type SubUser struct {
	AccountID     string
	RootAccountID string
	UserName      string // normalised (lower case), unique within the root
	// ConsoleLogin allows the sub-user to log in to the pages and the
	// API at all.
	ConsoleLogin bool
	// MustBindMFA sends the next login into binding an authenticator app,
	// with no session until it is bound ("to be bound").
	MustBindMFA bool
	// MustChangePassword sends the next login into changing the password
	// (after a reset by the root).
	MustChangePassword bool
	// PasswordChangedAt starts the root's password expiry.
	PasswordChangedAt time.Time
	CreatedAt         time.Time
}

// PasswordRules are a root's rules for its sub-users' passwords. Zero
// fields mean the product's defaults (password.Check, R4's lock after 10).
type PasswordRules struct {
	MinLength int // at least this many characters (8–128)
	// Classes is how many of lower case, upper case, digits and symbols a
	// password must hold (0–4).
	Classes int
	// History is how many past passwords may not be used again (0–24).
	History int
	// RetryLimit locks password login after this many wrong passwords in a
	// day (1–10; 0 for R4's 10).
	RetryLimit int
	// MaxAge makes a password expire: the sub-user must change it at the
	// next login (0: never).
	MaxAge time.Duration
}

// SubUserFilter selects sub-users of a root.
type SubUserFilter struct {
	Search string // a part of the user name ("" for all)
	After  string // the user name to list after (paging)
	Limit  int
}

// SubUserStore keeps sub-users.
type SubUserStore interface {
	// CreateSubUser inserts the sub-user's Account a (Kind KindSubUser,
	// Email SubUserEmail(a.ID)) and s, and ev, in one transaction;
	// EConflict when the root already has that user name; ENotFound if
	// the root is gone.
	CreateSubUser(ctx context.Context, a Account, s SubUser, ev AuditEvent) error
	// SubUserByName returns the sub-user account and its settings, or
	// ENotFound.
	SubUserByName(ctx context.Context, rootAccountID, userName string) (Account, SubUser, error)
	// SubUserByID returns a sub-user by its account id, or ENotFound.
	SubUserByID(ctx context.Context, accountID string) (Account, SubUser, error)
	// ListSubUsers lists a root's sub-users by user name.
	ListSubUsers(ctx context.Context, rootAccountID string, f SubUserFilter) ([]SubUser, error)
	// UpdateSubUser replaces the settings of a sub-user of that root (the
	// account id and root stay) and writes ev; ENotFound if it is not the
	// root's.
	UpdateSubUser(ctx context.Context, s SubUser, ev AuditEvent) error
	// ResetSubUserMFA removes every MFA device and recovery code of the
	// root's sub-user, sets MustBindMFA and ends its sessions, in one
	// transaction with ev; ENotFound if it is not the root's.
	ResetSubUserMFA(ctx context.Context, rootAccountID, accountID string, ev AuditEvent) error
	// SetSubUserPassword stores a new password hash for the root's
	// sub-user (adding one to PasswordVersion, ending its sessions,
	// remembering the old hash in the history, keeping at most keep), sets
	// MustChangePassword and PasswordChangedAt, and writes ev; ENotFound if
	// it is not the root's.
	SetSubUserPassword(ctx context.Context, rootAccountID, accountID, hash string, mustChange bool, at time.Time, keep int, ev AuditEvent) error
	// ChangeOwnSubUserPassword is the sub-user changing their own password
	// (forced at login, or from Security Settings): it stores hash (adding
	// one to PasswordVersion, ending every session, remembering the old
	// hash, keeping at most keep), clears MustChangePassword, sets
	// PasswordChangedAt to at, and writes ev; ENotFound if gone.
	ChangeOwnSubUserPassword(ctx context.Context, accountID, hash string, at time.Time, keep int, ev AuditEvent) error
	// PasswordHistory returns the account's past password hashes, newest
	// first, at most n.
	PasswordHistory(ctx context.Context, accountID string, n int) ([]string, error)
	// PasswordRules returns a root's rules (the zero value when none are
	// set); SetPasswordRules replaces them and writes ev.
	PasswordRules(ctx context.Context, rootAccountID string) (PasswordRules, error)
	SetPasswordRules(ctx context.Context, rootAccountID string, r PasswordRules, ev AuditEvent) error
}
