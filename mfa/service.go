package mfa

import (
	"context"
	"crypto/sha256"
	"io"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/custos/custos"
	"github.com/custos/custos/keyring"
	"github.com/custos/custos/otp"
	"github.com/go-webauthn/webauthn/webauthn"
)

// Config is the MFA policy. Zero fields take DefaultConfig's values.
type Config struct {
	Issuer         string        // the name authenticator apps show ("Custos")
	PendingTTL     time.Duration // an unconfirmed device dies after this (10 min)
	Window         int           // TOTP steps accepted either side of the expected one (1)
	BindWindow     int           // steps searched either side when binding a token (10)
	HOTPLookAhead  int           // HOTP counters searched ahead when binding (50)
	LoginLookAhead int           // HOTP counters searched ahead at login (5)
	// ReturnToStock puts an unbound hardware token back in stock; by
	// default it is retired, so nobody else can bind it silently.
	ReturnToStock bool
	RecoveryCodes int // how many recovery codes a set has (10)
}

// DefaultConfig is the policy with its documented defaults.
var DefaultConfig = Config{
	Issuer: "Custos", PendingTTL: 10 * time.Minute, Window: 1, BindWindow: 10,
	HOTPLookAhead: 50, LoginLookAhead: 5, RecoveryCodes: 10,
}

func (c Config) withDefaults() Config {
	d := DefaultConfig
	if c.Issuer != "" {
		d.Issuer = c.Issuer
	}
	if c.PendingTTL > 0 {
		d.PendingTTL = c.PendingTTL
	}
	if c.Window > 0 {
		d.Window = c.Window
	}
	if c.BindWindow > 0 {
		d.BindWindow = c.BindWindow
	}
	if c.HOTPLookAhead > 0 {
		d.HOTPLookAhead = c.HOTPLookAhead
	}
	if c.LoginLookAhead > 0 {
		d.LoginLookAhead = c.LoginLookAhead
	}
	if c.RecoveryCodes > 0 {
		d.RecoveryCodes = c.RecoveryCodes
	}
	d.ReturnToStock = c.ReturnToStock
	return d
}

// Store is the slice of the database mfa uses.
type Store interface {
	custos.DeviceStore
	custos.AuditStore
	custos.FlowStore
	AccountByID(ctx context.Context, id string) (custos.Account, error)
}

// Deps are the service's collaborators.
type Deps struct {
	Store    Store
	Elevator custos.Elevator // checks "confirm it's you" before the sensitive changes
	Clock    custos.Clock
	Rand     io.Reader
	Keys     *keyring.Ring
	// WebAuthn is the relying party for security keys; nil when the
	// public URL's host is an IP address (see NewRelyingParty).
	WebAuthn *webauthn.WebAuthn
	Logger   *slog.Logger
}

// Service runs the MFA flows.
type Service struct {
	d   Deps
	cfg Config
}

// New returns a Service.
func New(d Deps, cfg Config) *Service {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{d: d, cfg: cfg.withDefaults()}
}

// Client describes where a request came from, for audit events.
type Client = custos.Client

func (s *Service) event(typ, accountID string, c Client, detail map[string]string) (custos.AuditEvent, error) {
	return custos.NewEvent(s.d.Rand, s.d.Clock.Now(), typ, accountID, "", c, detail)
}

// notices are the notices that tell the holder about a change to their
// devices, on every channel on file, for the change's audit event: they
// are written with the change and delivered later.
func (s *Service) notices(ctx context.Context, accountID, purpose string, data map[string]string) ([]custos.Message, error) {
	acct, err := s.d.Store.AccountByID(ctx, accountID)
	if err != nil {
		return nil, err
	}
	return custos.Notices(acct, purpose, data), nil
}

// Devices returns the account's confirmed devices, oldest first.
func (s *Service) Devices(ctx context.Context, accountID string) ([]custos.Device, error) {
	return s.d.Store.ListDevices(ctx, accountID)
}

// Methods returns the second-factor methods the account's devices and
// recovery codes offer, in a fixed order: totp, hardware, webauthn,
// recovery_code.
func (s *Service) Methods(ctx context.Context, accountID string) ([]string, error) {
	devices, err := s.d.Store.ListDevices(ctx, accountID)
	if err != nil {
		return nil, err
	}
	have := map[custos.DeviceType]bool{}
	for _, d := range devices {
		have[d.Type] = true
	}
	var out []string
	for _, t := range []custos.DeviceType{custos.DeviceTOTP, custos.DeviceHardware, custos.DeviceWebAuthn} {
		if have[t] {
			out = append(out, string(t))
		}
	}
	if len(out) > 0 {
		n, err := s.d.Store.CountRecoveryCodes(ctx, accountID)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			out = append(out, "recovery_code")
		}
	}
	return out, nil
}

// cleanName trims a device name to something printable and short.
func cleanName(name, fallback string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return fallback, nil
	}
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > 64 || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", custos.Fail(custos.EInvalidRequest, "mfa.name_long").OnField("name")
	}
	return name, nil
}

func (s *Service) seal(secret []byte, aad string) ([]byte, error) {
	return s.d.Keys.Seal(s.d.Rand, secret, []byte(aad))
}

func (s *Service) open(d custos.Device) ([]byte, error) {
	return s.d.Keys.Open(d.Secret, []byte(secretAAD(d)))
}

// secretAAD binds a sealed seed to what it belongs to: a hardware token's
// serial (the seed moves with the token) or a device id.
func secretAAD(d custos.Device) string {
	if d.Type == custos.DeviceHardware {
		return "token:" + d.Serial
	}
	return "device:" + d.ID
}

func params(d custos.Device) otp.Params {
	return otp.Params{Algorithm: otp.Algorithm(d.Algorithm), Digits: d.Digits, Period: time.Duration(d.Period) * time.Second}
}

func invalidCode() error {
	return custos.Fail(custos.EInvalidCode, "mfa.code_wrong").OnField("code")
}

// recoveryHash is how a recovery code is stored: its normalised form's
// SHA-256 (the codes carry 80 random bits, so no key is needed).
func recoveryHash(code string) []byte {
	norm := strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(code))
	h := sha256.Sum256([]byte("custos recovery code\x00" + norm))
	return h[:]
}
