package custos

import "time"

// Session is a signed-in session. The bearer token itself is never stored:
// TokenHash is its SHA-256.
type Session struct {
	ID              string // public handle, used to list and revoke
	TokenHash       []byte
	AccountID       string
	CreatedAt       time.Time
	AuthenticatedAt time.Time
	LastSeenAt      time.Time
	ExpiresAt       time.Time // absolute end, whatever the activity
	SecondFactor    bool      // a second factor was passed at sign-in
	VerifiedUntil   time.Time // operation-protection window; zero when none
	RemoteAddr      string
	UserAgent       string
	// PasswordVersion is the Account.PasswordVersion the sign-in checked
	// the password against; SessionStore refuses to create a session whose
	// version is no longer the account's.
	PasswordVersion int64
	// ActingRootAccountID is the root account a collaborator's session
	// works in ("" for the session's own account); set by
	// CollaborationStore.SetSessionActing.
	ActingRootAccountID string
}

// SessionOwner is what checking a session needs of the account it belongs
// to, read with the session in one lookup (SessionStore.
// SessionWithOwnerByTokenHash): the account's kind and, for a sub-user,
// its root and user name.
type SessionOwner struct {
	Kind          AccountKind
	RootAccountID string // a sub-user's root account; "" for any other kind
	UserName      string // a sub-user's user name; "" for any other kind
}
