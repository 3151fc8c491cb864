package custos

import (
	"context"
	"time"
)

// DeviceType is the kind of an MFA device.
type DeviceType string

// The MFA device types.
const (
	DeviceTOTP     DeviceType = "totp"     // an authenticator app (virtual MFA)
	DeviceHardware DeviceType = "hardware" // an OTP token the operator imported
	DeviceWebAuthn DeviceType = "webauthn" // a security key or passkey
)

// Device is one MFA device of an account. A device is pending until its
// first code (or registration) is proven; pending devices are not usable
// and die after a few minutes.
type Device struct {
	ID        string
	AccountID string
	Type      DeviceType
	Name      string
	// Secret is the OTP seed sealed with the key ring (never stored in the
	// clear); nil for WebAuthn.
	Secret    []byte
	OTPKind   string // "totp" or "hotp" for OTP devices
	Algorithm string // "SHA1", "SHA256" or "SHA512"
	Digits    int
	Period    int    // TOTP step in seconds
	Serial    string // hardware token serial
	// LastStep is, for TOTP, the last time step accepted (a step is never
	// accepted twice); for HOTP, the next counter expected (it only grows).
	LastStep int64
	// Drift is how many steps a hardware TOTP token's clock runs ahead (+)
	// or behind (−), learnt at binding and resync.
	Drift       int
	Credential  []byte // WebAuthn credential (JSON), nil otherwise
	CreatedAt   time.Time
	ConfirmedAt time.Time // zero while pending
	LastUsedAt  time.Time // zero when never used
}

// HardwareToken is an OTP token in the operator's inventory.
type HardwareToken struct {
	Serial    string
	Secret    []byte // sealed with the key ring
	OTPKind   string // "totp" or "hotp"
	Algorithm string
	Digits    int
	Period    int   // TOTP step in seconds
	Counter   int64 // HOTP: next counter
	Status    string
	DeviceID  string // the device it is bound as, while bound
	CreatedAt time.Time
}

// Hardware token statuses.
const (
	TokenInStock = "stock"   // imported, not bound
	TokenBound   = "bound"   // bound to an account as a device
	TokenRetired = "retired" // unbound and taken out of use
)

// DeviceStore keeps MFA devices, hardware tokens and recovery codes.
type DeviceStore interface {
	// CreateDevice inserts a pending device (ConfirmedAt zero).
	CreateDevice(ctx context.Context, d Device) error
	// ConfirmDevice makes a pending device usable, recording the step (or
	// next counter) its confirming code used, and writes ev. ENotFound if
	// the device is not the account's, already confirmed, or created
	// before pendingSince (too old).
	ConfirmDevice(ctx context.Context, accountID, id string, lastStep int64, at, pendingSince time.Time, ev AuditEvent) error
	// DeviceByID returns one of the account's devices; ENotFound otherwise.
	DeviceByID(ctx context.Context, accountID, id string) (Device, error)
	// ListDevices returns the account's confirmed devices, oldest first.
	ListDevices(ctx context.Context, accountID string) ([]Device, error)
	// UseDeviceStep records a code's acceptance in one atomic statement:
	// it sets LastStep to step (and Drift, LastUsedAt) only if step is
	// greater than the stored LastStep. EInvalidCode when it is not (the
	// step was used already: a replay); ENotFound if the device is gone.
	UseDeviceStep(ctx context.Context, id string, step int64, drift int, at time.Time) error
	// UpdateCredential replaces a confirmed WebAuthn device's credential
	// (its sign counter moves with each use) and sets LastUsedAt;
	// ENotFound if the device is gone or pending.
	UpdateCredential(ctx context.Context, id string, credential []byte, at time.Time) error
	// RenameDevice sets a confirmed device's name and writes ev in one
	// transaction; ENotFound otherwise.
	RenameDevice(ctx context.Context, accountID, id, name string, ev AuditEvent) error
	// DeleteDevice removes one of the account's devices and writes ev; a
	// hardware device's token goes to tokenStatus (TokenInStock or
	// TokenRetired) in the same transaction. ENotFound if it is not there.
	DeleteDevice(ctx context.Context, accountID, id, tokenStatus string, ev AuditEvent) error
	// DeletePendingDevices removes devices still pending that were created
	// before `before`; it returns how many.
	DeletePendingDevices(ctx context.Context, before time.Time) (int, error)

	// ImportToken adds a token in stock; EConflict if the serial exists.
	ImportToken(ctx context.Context, t HardwareToken) error
	// TokenBySerial returns a token; ENotFound if there is none.
	TokenBySerial(ctx context.Context, serial string) (HardwareToken, error)
	// BindToken, in one transaction, marks an in-stock token bound to d.ID
	// and inserts d (already confirmed) and ev. ENotFound if the token is
	// not in stock (unknown, bound or retired).
	BindToken(ctx context.Context, serial string, d Device, ev AuditEvent) error

	// ReplaceRecoveryCodes deletes the account's recovery codes, stores
	// the new hashes and writes ev, in one transaction.
	ReplaceRecoveryCodes(ctx context.Context, accountID string, hashes [][]byte, at time.Time, ev AuditEvent) error
	// UseRecoveryCode marks one unused code of the account used and writes
	// ev, in one transaction; EInvalidCode if no unused code has that hash
	// (and then nothing is written).
	UseRecoveryCode(ctx context.Context, accountID string, hash []byte, at time.Time, ev AuditEvent) error
	// CountRecoveryCodes returns how many unused codes the account has.
	CountRecoveryCodes(ctx context.Context, accountID string) (int, error)
}

// Protection is an account's choice of second checks.
type Protection struct {
	Login     bool // login protection (R8): a second factor after the password
	Operation bool // operation protection: only the chosen method verifies sensitive changes
	// LoginMethod and OperationMethod are the methods the holder chose
	// (R8, "as the holder chose"): MethodMFA, MethodSMS or MethodEmail; ""
	// means the default, MethodMFA once the account has a confirmed MFA
	// device.
	LoginMethod     string
	OperationMethod string
}

// Protection methods the holder may choose.
const (
	MethodMFA   = "mfa"   // any confirmed MFA device, plus recovery codes at login
	MethodSMS   = "sms"   // a code by text message to the bound phone
	MethodEmail = "email" // a code to the secure email (the account email while there is none)
)

// ChosenMethod is a chosen protection method as it stands: the holder's
// choice, or MethodMFA when they chose none and have an MFA device, or ""
// (no choice: any channel the account has) when they have none.
func ChosenMethod(chosen string, hasDevice bool) string {
	if chosen == "" && hasDevice {
		return MethodMFA
	}
	return chosen
}

// TOTPKey is a new authenticator app's key, shown once: the pending
// device, the seed in base32 for manual entry, the otpauth URI and its QR
// code.
type TOTPKey struct {
	DeviceID string
	Secret   string
	URI      string
	QRPNG    []byte
}
