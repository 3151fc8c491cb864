package custos

import (
	"context"
	"time"
)

// FlowKind names a kind of flow. Each kind belongs to one service, which
// owns its states and the transitions between them.
type FlowKind string

// Flow kinds.
const (
	FlowSignup        FlowKind = "signup"         // an email proving itself before its account exists
	FlowLogin         FlowKind = "login"          // a right password waiting for its second factor; ID is SecretID(login token)
	FlowVerification  FlowKind = "verification"   // identity verification before a sensitive change
	FlowContactChange FlowKind = "contact_change" // a new phone, account email or secure email waiting for its code
	FlowRetrieval     FlowKind = "retrieval"      // a phone proving itself to list its accounts (R1)
	FlowReset         FlowKind = "reset"          // a password reset: code, then proven channel, then done
	FlowUndo          FlowKind = "undo"           // an "it wasn't me" link sent to an old channel; ID is SecretID(token)
	FlowWebAuthn      FlowKind = "webauthn"       // a security-key ceremony (registration or assertion)
	FlowFreeze        FlowKind = "freeze"         // an account frozen by "it wasn't me"; ID is FreezeID(account)
)

// Freeze states: frozen until the holder gets back in by a path that does
// not rest on an untrusted channel.
const (
	FreezeFrozen = "frozen"
	FreezeLifted = "lifted"
)

// FreezeTTL is how long a freeze holds if nobody lifts it: long enough for
// support to settle a ticket.
const FreezeTTL = 90 * 24 * time.Hour

// Freeze is the state of a frozen account (package binding freezes it when
// "it wasn't me" is followed; package recovery reads it). Untrusted names
// the channels a change put in place — "phone", "email" (the login email),
// "secure_email" — which no recovery may rest on until the freeze is
// lifted: whoever made the change may hold them.
type Freeze struct {
	Untrusted []string  `json:"untrusted"`
	At        time.Time `json:"at"`
}

// FreezeID is the flow id of an account's freeze: one per account.
func FreezeID(accountID string) string { return "frz_" + accountID }

// Flow is the stored state of one flow. State is one of its kind's states;
// Data is the kind's typed state as JSON, never a plaintext secret. A
// flow's row changes only through FlowStore.AdvanceFlow, which moves it
// from the state it is known to be in.
type Flow struct {
	ID          string
	Kind        FlowKind
	AccountID   string // "" while the flow has no account (sign-up, retrieval)
	State       string
	Data        []byte
	Attempts    int // guesses counted so far (codes tried against the flow)
	MaxAttempts int // guesses the flow takes in all; 0 when it takes none
	CreatedAt   time.Time
	UpdatedAt   time.Time
	ExpiresAt   time.Time
}

// FlowStore keeps flows.
type FlowStore interface {
	// CreateFlow inserts f; EConflict if its id is taken.
	CreateFlow(ctx context.Context, f Flow) error
	// FlowByID returns the flow of that kind if it has not expired
	// (ExpiresAt > now), in whatever state; ENotFound otherwise.
	FlowByID(ctx context.Context, id string, kind FlowKind, now time.Time) (Flow, error)
	// AdvanceFlow moves an unexpired flow from state from to state to and
	// replaces its data, in one atomic statement: of two racing
	// transitions from the same state, one wins. EExpired when the flow is
	// not in state from or has expired; ENotFound if unknown.
	AdvanceFlow(ctx context.Context, id string, kind FlowKind, from, to string, data []byte, now time.Time) error
	// CountFlowAttempt counts one guess on an unexpired flow in one atomic
	// statement, before the guess is checked, and returns the guesses left
	// after it. EExpired when none was left or the flow expired; ENotFound
	// if unknown.
	CountFlowAttempt(ctx context.Context, id string, kind FlowKind, now time.Time) (int, error)
	// DeleteExpiredFlows removes flows expired by now (ExpiresAt <= now);
	// it returns how many.
	DeleteExpiredFlows(ctx context.Context, now time.Time) (int, error)
}

// TrustedDevice is a browser the holder chose to trust after a second
// factor ("trust this device for 7 days"). The token lives in a cookie;
// the store keeps only SecretID(token).
type TrustedDevice struct {
	ID        string // SecretID of the cookie's token
	AccountID string
	CreatedAt time.Time
	ExpiresAt time.Time
	// RemoteAddr and UserAgent are where the browser was trusted from,
	// for the devices page ("" for devices trusted before they were kept).
	RemoteAddr string
	UserAgent  string
}

// TrustedDeviceStore keeps trusted devices. A password change or reset
// and "sign out everywhere" forget them (AccountStore.ResetPassword,
// DeleteAccountSessions).
type TrustedDeviceStore interface {
	// TrustDevice inserts d; EConflict if its id is taken.
	TrustDevice(ctx context.Context, d TrustedDevice) error
	// IsTrustedDevice reports whether id is a live trusted device of the
	// account (ExpiresAt > now).
	IsTrustedDevice(ctx context.Context, id, accountID string, now time.Time) (bool, error)
	// DeleteExpiredTrustedDevices removes devices expired by now; it
	// returns how many.
	DeleteExpiredTrustedDevices(ctx context.Context, now time.Time) (int, error)
	// ListTrustedDevices returns the account's live trusted devices
	// (ExpiresAt > now), newest first.
	ListTrustedDevices(ctx context.Context, accountID string, now time.Time) ([]TrustedDevice, error)
	// ForgetTrustedDevice deletes one of the account's trusted devices and
	// writes ev in the same transaction; ENotFound (and no event) if the
	// account has no such device.
	ForgetTrustedDevice(ctx context.Context, accountID, id string, ev AuditEvent) error
}
