package custos

import (
	"context"
	"time"
)

// Stores return *Error values with these codes: ENotFound when a row does not
// exist, EConflict or a more specific code when a uniqueness rule would
// break. Any other failure (the database unreachable, a driver error) is a
// plain error, which the transports answer as a 500 with a request id. Every
// method is atomic; a method that takes an AuditEvent writes it in the same
// transaction as the change.

// AccountStore keeps accounts.
type AccountStore interface {
	// CreateAccount inserts a and the event; EEmailTaken if the email is used.
	CreateAccount(ctx context.Context, a Account, ev AuditEvent) error
	// AccountByID returns the account or ENotFound.
	AccountByID(ctx context.Context, id string) (Account, error)
	// AccountByEmail looks up a normalised account email; ENotFound if none.
	AccountByEmail(ctx context.Context, email string) (Account, error)
	// AccountsByPhone returns the accounts bound to an E.164 number, oldest
	// first (empty when none).
	AccountsByPhone(ctx context.Context, phone string) ([]Account, error)
	// SetPhone binds phone ("" unbinds) and writes ev, in one transaction
	// that refuses with EConflict when the number is already bound to
	// maxPerNumber other accounts. ENotFound if the account is gone.
	SetPhone(ctx context.Context, accountID, phone string, maxPerNumber int, ev AuditEvent) error
	// SetAccountEmail changes the login email and writes ev; EEmailTaken
	// if another account has it, ENotFound if the account is gone.
	SetAccountEmail(ctx context.Context, accountID, email string, ev AuditEvent) error
	// SetSecureEmail sets the secure email ("" clears it) and writes ev;
	// ENotFound if the account is gone.
	SetSecureEmail(ctx context.Context, accountID, email string, ev AuditEvent) error
	// ResetPassword, in one transaction, stores the new hash, adds one to
	// the account's PasswordVersion, ends every session of the account,
	// forgets its trusted devices, deletes its pending flows of the kinds
	// FlowLogin, FlowVerification, FlowReset and FlowWebAuthn (those whose
	// AccountID is the account's), deletes the counter at lockKey (ending
	// a login-security lock) and writes ev. ENotFound if the account is
	// gone.
	//
	// Flows are found by AccountID only. A flow without one stays: today
	// that is every reset and retrieval flow (a proven phone may reach
	// several accounts), bounded by the reset's own compare-and-swap to
	// done before it calls this (one flow resets at most once). A login
	// that checked the old password and opens its session (or stores its
	// login flow, which carries the version) only after this commits is
	// refused by the version check of CreateSession.
	ResetPassword(ctx context.Context, accountID, hash, lockKey string, ev AuditEvent) error
	// DeleteAccountSessions ends every session of the account and forgets
	// its trusted devices, writing ev; it returns how many sessions ended.
	DeleteAccountSessions(ctx context.Context, accountID string, ev AuditEvent) (int, error)
	// SetProtection sets the account's protection switches and writes ev;
	// ENotFound if the account is gone.
	SetProtection(ctx context.Context, accountID string, p Protection, ev AuditEvent) error
	// SetPasswordHash replaces the stored hash only if it still equals old
	// (so a concurrent password change is never overwritten by a rehash).
	// It keeps PasswordVersion: the password is the same one. ENotFound if
	// the account is gone; EConflict if the hash changed.
	SetPasswordHash(ctx context.Context, accountID, old, hash string) error
	// SetLanguage saves the language tag the holder chose ("" forgets
	// it); ENotFound if the account is gone. It is a preference, not a
	// security change: no event.
	SetLanguage(ctx context.Context, accountID, lang string) error
	// SetTimeZone saves the IANA time zone the holder reads times in (""
	// for UTC; the caller checks the name); ENotFound if the account is
	// gone.
	SetTimeZone(ctx context.Context, accountID, zone string) error
}

// SessionStore keeps sessions. Sessions are deleted, not flagged, when they
// end, so a revoked token is dead for every replica at once.
type SessionStore interface {
	// CreateSession inserts s and the event, in one transaction that
	// refuses with EConflict when s.PasswordVersion is not the account's
	// PasswordVersion (the password changed after the sign-in checked it)
	// or when the session's id or token is taken; ENotFound if the account
	// is gone. The version is read under a lock that ResetPassword waits
	// for (and that waits for it), so a session is either refused or
	// created before ResetPassword ends it: none made under an old version
	// outlives the change.
	CreateSession(ctx context.Context, s Session, ev AuditEvent) error
	// CreateSessionWithCounter does UpdateCounter(counterKey, fn) and
	// CreateSession(s, ev) in one transaction (a successful login gives its
	// counted attempt back and opens its session with one commit). An
	// error from fn, or a refused session (EConflict for a stale
	// PasswordVersion, as CreateSession), changes neither. expect is the
	// counter as the caller last stored it (the zero Counter: unknown):
	// while the counter still is that, fn is applied to it without
	// locking and reading it first, so fn must be pure.
	CreateSessionWithCounter(ctx context.Context, s Session, ev AuditEvent, counterKey string, expect Counter, fn func(Counter) (Counter, error)) error
	// SessionByTokenHash returns the session or ENotFound.
	SessionByTokenHash(ctx context.Context, tokenHash []byte) (Session, error)
	// SessionWithOwnerByTokenHash is SessionByTokenHash and what the
	// session's account is (SessionOwner) in one read: ENotFound when there
	// is no such session. A sub-user's owner whose settings are missing has
	// an empty RootAccountID.
	SessionWithOwnerByTokenHash(ctx context.Context, tokenHash []byte) (Session, SessionOwner, error)
	// TouchSession sets LastSeenAt; ENotFound if the session is gone.
	TouchSession(ctx context.Context, id string, at time.Time) error
	// SetSessionVerified sets the end of the session's operation-protection
	// window (and marks a second factor passed when secondFactor is true)
	// and writes ev, in one transaction; ENotFound if the session is gone.
	SetSessionVerified(ctx context.Context, id string, until time.Time, secondFactor bool, ev AuditEvent) error
	// DeleteSession removes one of the account's sessions and writes ev;
	// ENotFound if it is not there (already ended, or another account's).
	DeleteSession(ctx context.Context, accountID, id string, ev AuditEvent) error
	// ListSessions returns the account's sessions, newest first.
	ListSessions(ctx context.Context, accountID string) ([]Session, error)
	// DeleteOtherSessions ends every session of the account but keepID
	// and writes ev in the same transaction; it returns how many ended
	// (0, with the event, when there were none).
	DeleteOtherSessions(ctx context.Context, accountID, keepID string, ev AuditEvent) (int, error)
	// DeleteExpiredSessions removes sessions whose absolute end is before
	// now or that have been idle since before idleBefore; it returns how many.
	DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int, error)
}

// ChallengeStore keeps the one-time codes package codes sends and checks.
type ChallengeStore interface {
	// CreateChallenge inserts c and, in the same transaction, the messages
	// in notify (the one carrying the code, or a notice standing in for
	// it), so a code exists if and only if its message will be delivered;
	// EConflict if its id is taken.
	CreateChallenge(ctx context.Context, c Challenge, notify ...Message) error
	// ConsumeChallenge checks codeHash against the live challenge id of the
	// given purpose in one atomic statement. A match marks it used and
	// returns it. A mismatch counts one attempt and returns EInvalidCode.
	// A used, expired (ExpiresAt <= now) or exhausted (Attempts >=
	// MaxAttempts) challenge returns EExpired without counting; an unknown id
	// or one of another purpose returns ENotFound.
	ConsumeChallenge(ctx context.Context, id, purpose string, codeHash []byte, now time.Time) (Challenge, error)
	// DeleteExpiredChallenges removes challenges expired by now
	// (ExpiresAt <= now); it returns how many.
	DeleteExpiredChallenges(ctx context.Context, now time.Time) (int, error)
}

// AuditStore keeps the security-event log.
type AuditStore interface {
	// AppendAudit writes one event on its own.
	AppendAudit(ctx context.Context, ev AuditEvent) error
	// ListAudit returns the account's events, newest first, at most limit.
	ListAudit(ctx context.Context, accountID string, limit int) ([]AuditEvent, error)
	// ListActivity returns the account's events that f selects, newest
	// first (events of the same millisecond latest-written first), at
	// most f.Limit; an f.Before that names no event of the account
	// selects none.
	ListActivity(ctx context.Context, accountID string, f ActivityFilter) ([]AuditEvent, error)
	// ActivityEvent returns one of the account's events; ENotFound if the
	// account has no event with id.
	ActivityEvent(ctx context.Context, accountID, id string) (AuditEvent, error)
}

// Store is everything the services need from the database.
type Store interface {
	AccountStore
	SessionStore
	ChallengeStore
	AuditStore
	CounterStore
	CaptchaStore
	DeviceStore
	FlowStore
	TrustedDeviceStore
	KnownDeviceStore
	IdentityStore
	BlobStore
	StaffStore
	TicketStore
	SubUserStore
	CollaborationStore
	WebhookStore
	// Ping reports whether the database is reachable (for /readyz).
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}
