package custos

import (
	"io"
	"time"
)

// Audit event types.
const (
	EventSignup         = "signup"
	EventLoginSuccess   = "login.success"
	EventLoginFailure   = "login.failure"
	EventLoginRefused   = "login.refused"  // turned away before the password was checked
	EventLoginLocked    = "login.locked"   // the failure that locked password login
	EventLoginUnlocked  = "login.unlocked" // a staff unlock
	EventLogout         = "logout"
	EventSessionRevoked = "session.revoked"
	EventSessionExpired = "session.expired"
	EventPasswordRehash = "password.rehashed"
	EventDeviceBound    = "mfa.bound"
	EventDeviceUnbound  = "mfa.unbound"
	EventDeviceRenamed  = "mfa.renamed"
	EventCodeReplayed   = "mfa.replay_refused" // a one-time code that was already used
	EventRecoveryCodes  = "mfa.recovery_codes_generated"
	EventRecoveryUsed   = "mfa.recovery_code_used"
	EventProtection     = "protection.changed"
	EventVerified       = "verification.passed"
	EventSecondFactor   = "login.second_factor"
	EventSecondFailure  = "login.second_factor_failure"
	EventPhoneChanged   = "phone.changed"
	EventEmailChanged   = "email.changed"
	EventSecureEmail    = "secure_email.changed"
	EventPasswordReset  = "password.reset"
	EventPasswordChange = "password.changed"
	EventRetrieved      = "accounts.retrieved" // a proven phone listed the account
	EventUndo           = "undo.used"          // an "it wasn't me" link ended every session
	// EventSessionsRevoked is "sign out all other devices".
	EventSessionsRevoked = "sessions.revoked_others"
	// EventTrustForgotten is a trusted device forgotten from the devices page.
	EventTrustForgotten = "trusted_device.forgotten"
)

// AuditEvent is one security event. It is written in the same transaction as
// the change it records.
type AuditEvent struct {
	ID         string
	At         time.Time
	AccountID  string // "" when no account is involved (a login for an unknown email)
	Type       string
	Identifier string // the normalised login identifier involved, if any
	RemoteAddr string
	UserAgent  string
	Detail     map[string]string
	// Notify holds the messages this change sends; written with it, in the
	// same transaction, and delivered later. The store does not read it
	// back.
	Notify []Message
}

// Client is where a request came from: the address (from the socket or a
// trusted proxy) and the user agent, as audit events record them.
type Client struct {
	Addr      string
	UserAgent string
}

// NewEvent makes an audit event at `at` with a fresh id from rnd. The user
// agent is cut to 256 bytes: it is the client's to choose.
func NewEvent(rnd io.Reader, at time.Time, typ, accountID, identifier string, c Client, detail map[string]string) (AuditEvent, error) {
	id, err := NewID(rnd, "evt")
	if err != nil {
		return AuditEvent{}, err
	}
	ua := c.UserAgent
	if len(ua) > 256 {
		ua = ua[:256]
	}
	return AuditEvent{ID: id, At: at, AccountID: accountID, Type: typ, Identifier: identifier,
		RemoteAddr: c.Addr, UserAgent: ua, Detail: detail}, nil
}

// ActivityFilter selects an account's own events for Security activity.
// Empty fields select everything.
type ActivityFilter struct {
	Types []string  // only events of these types
	From  time.Time // only events at or after this time
	To    time.Time // only events before this time
	// Before is the id of the last event of the previous page: only events
	// older than it (keyset paging).
	Before string
	Limit  int // at most this many (the store treats <= 0 as none)
}
