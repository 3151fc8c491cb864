package custos

import (
	"context"
	"time"
)

// KnownDeviceTTL is how long a known device stays known without a
// sign-in from it: after that, the next sign-in from it is new again.
const KnownDeviceTTL = 180 * 24 * time.Hour

// KnownDevice is a browser and network an account has signed in from,
// kept to recognise the next sign-in from it (a new one sends the
// new-device notice). It holds as little as that takes: Key is a keyed
// hash (a key-ring MAC) of the browser's random cookie id and the
// network's prefix (/24 for IPv4, /48 for IPv6) — never the user agent,
// the full address or the cookie itself, so a row tells nobody which
// browser or address it was.
type KnownDevice struct {
	AccountID   string
	Key         string // hex of the MAC
	FirstSeenAt time.Time
	LastSeenAt  time.Time
}

// KnownDeviceStore keeps the devices accounts have signed in from, and
// the holder's switch that a sign-in from a new one needs the second step
// of login even without login protection.
type KnownDeviceStore interface {
	// KnownDevice reports whether key is a device of the account seen
	// after since (known), and whether the account has any device seen
	// after since (any: false before its first sign-in).
	KnownDevice(ctx context.Context, accountID, key string, since time.Time) (known, any bool, err error)
	// RememberDevice records a sign-in from d: inserts it, or moves its
	// LastSeenAt on (keeping FirstSeenAt). In the same statement's
	// transaction it forgets the account's devices last seen before
	// forgetBefore.
	RememberDevice(ctx context.Context, d KnownDevice, forgetBefore time.Time) error
	// NewDeviceStep reports the account's switch; false for an unknown
	// account.
	NewDeviceStep(ctx context.Context, accountID string) (bool, error)
	// SetNewDeviceStep sets the switch and writes ev in one transaction;
	// ENotFound (and no event) if the account is gone.
	SetNewDeviceStep(ctx context.Context, accountID string, on bool, ev AuditEvent) error
}

// The audit events of known devices.
const (
	// EventNewDevice is a right password from a browser or network the
	// account has not signed in from (it carries the new-device notice).
	EventNewDevice = "login.new_device"
	// EventNewDeviceStep is a change of the switch that a new device
	// needs the second step of login.
	EventNewDeviceStep = "protection.new_device_step"
)
