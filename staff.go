package custos

import (
	"context"
	"time"
)

// StaffRole is what a staff member may do.
type StaffRole string

// The staff roles: a reviewer reviews submissions (and, later, tickets);
// an admin also manages staff and reads the staff audit trail.
const (
	RoleReviewer StaffRole = "reviewer"
	RoleAdmin    StaffRole = "admin"
)

// Valid reports whether r is a known role.
func (r StaffRole) Valid() bool { return r == RoleReviewer || r == RoleAdmin }

// Staff states: invited until enrolment binds a password and a second
// factor, then active; disabled for good (sessions ended).
const (
	StaffInvited  = "invited"
	StaffActive   = "active"
	StaffDisabled = "disabled"
)

// Staff is a support staff member. Staff are not accounts: their own
// table, login, cookie and sessions. No staff session exists without a
// second factor: an active staff member always has a TOTP secret.
type Staff struct {
	ID           string
	Email        string // normalised
	Role         StaffRole
	State        string
	PasswordHash string // argon2id PHC string; "" while invited
	// TOTPSecret is the authenticator seed sealed with the key ring
	// (additional data: the staff id); nil while invited.
	TOTPSecret []byte
	// TOTPLastStep is the last time step accepted (never accepted twice).
	TOTPLastStep int64
	CreatedAt    time.Time
	// EnrolledAt is when enrolment finished; zero while invited.
	EnrolledAt time.Time
}

// StaffSession is a signed-in staff member. The token is the bearer
// token (or the staff cookie); the store keeps only its hash.
type StaffSession struct {
	ID         string
	StaffID    string
	TokenHash  []byte
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute end
	RemoteAddr string
	UserAgent  string
}

// StaffEvent is one entry of the staff audit trail: who did what to what,
// when, from where. The trail is append-only.
type StaffEvent struct {
	ID         string
	At         time.Time
	StaffID    string // who acted ("" for the command line)
	Action     string // staff.login, identity.view_file, identity.decide, staff.add, …
	Target     string // what it was done to (a submission, file or staff id)
	RemoteAddr string
	UserAgent  string
	Detail     map[string]string
}

// StaffEventFilter selects staff events for the audit trail.
type StaffEventFilter struct {
	StaffID string // "" for everyone
	Target  string // "" for any
	Before  time.Time
	Limit   int
}

// StaffStore keeps staff, their sessions and the staff audit trail.
type StaffStore interface {
	// CreateStaff inserts s (invited) and ev; EEmailTaken if a staff
	// member has that email.
	CreateStaff(ctx context.Context, s Staff, ev StaffEvent) error
	// StaffByID and StaffByEmail return a staff member or ENotFound.
	StaffByID(ctx context.Context, id string) (Staff, error)
	StaffByEmail(ctx context.Context, email string) (Staff, error)
	// ListStaff returns every staff member, by email.
	ListStaff(ctx context.Context) ([]Staff, error)
	// ActivateStaff ends an invited staff member's enrolment: it stores
	// the password hash and sealed TOTP secret, the step just proven,
	// state active and ev, only if the member is still invited (EConflict
	// otherwise); ENotFound if unknown.
	ActivateStaff(ctx context.Context, id, passwordHash string, totpSecret []byte, step int64, at time.Time, ev StaffEvent) error
	// UseStaffTOTPStep records step as accepted if it is later than the
	// last accepted one, in one atomic statement; EInvalidCode otherwise
	// (a replayed or older code). ENotFound if unknown.
	UseStaffTOTPStep(ctx context.Context, id string, step int64) error
	// SetStaffRole changes a role and writes ev; ENotFound if unknown.
	SetStaffRole(ctx context.Context, id string, role StaffRole, ev StaffEvent) error
	// DisableStaff sets state disabled, ends the member's sessions and
	// writes ev, in one transaction; ENotFound if unknown.
	DisableStaff(ctx context.Context, id string, ev StaffEvent) error
	// CreateStaffSession inserts s and ev; ENotFound if the member is not
	// active (invited, disabled or gone).
	CreateStaffSession(ctx context.Context, s StaffSession, ev StaffEvent) error
	// StaffSessionByTokenHash returns a session or ENotFound.
	StaffSessionByTokenHash(ctx context.Context, tokenHash []byte) (StaffSession, error)
	// TouchStaffSession sets LastSeenAt; ENotFound if gone.
	TouchStaffSession(ctx context.Context, id string, at time.Time) error
	// DeleteStaffSession ends one session and writes ev; ENotFound if gone.
	DeleteStaffSession(ctx context.Context, id string, ev StaffEvent) error
	// DeleteExpiredStaffSessions removes sessions past their absolute end
	// or idle since before idleBefore; it returns how many.
	DeleteExpiredStaffSessions(ctx context.Context, now, idleBefore time.Time) (int, error)
	// AppendStaffEvent writes one event on its own.
	AppendStaffEvent(ctx context.Context, ev StaffEvent) error
	// ListStaffEvents returns events newest first.
	ListStaffEvents(ctx context.Context, f StaffEventFilter) ([]StaffEvent, error)
}

// Flow kinds of the staff side.
const (
	FlowStaffEnrol FlowKind = "staff_enrol" // an enrolment link; ID is SecretID(token), AccountID the staff id
	FlowStaffLogin FlowKind = "staff_login" // a right staff password waiting for its code; ID is SecretID(login token)
)

// LoginStaff is the login-identifier kind of a staff email: its lockout
// counter never meets a customer's.
const LoginStaff LoginKind = "staff"
