package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/codes"
	"github.com/custos/custos/lockout"
	"github.com/custos/custos/password"
	"github.com/custos/custos/sendlimit"
)

// Config is the auth policy. Zero fields take the defaults of DefaultConfig.
type Config struct {
	SessionIdle     time.Duration // a session unused this long ends (30 min)
	SessionLifetime time.Duration // a session ends this long after sign-in, whatever happens (12 h)
	TouchEvery      time.Duration // how stale LastSeenAt may get before a request refreshes it (1 min)
	VerifiedFor     time.Duration // how long a passed identity verification lasts (10 min)
	// Lockout is the login-security rule per login identifier (R4).
	Lockout lockout.Policy
	// Source is the throttle per client address (IPv4, or IPv6 /64).
	Source lockout.Policy
	// SignupSource counts sign-ups per client address: a captcha past
	// CaptchaAfter in the window, refused past LockAfter.
	SignupSource lockout.Policy
}

// DefaultConfig is the policy with its documented defaults.
var DefaultConfig = Config{
	SessionIdle:     30 * time.Minute,
	SessionLifetime: 12 * time.Hour,
	TouchEvery:      time.Minute,
	VerifiedFor:     10 * time.Minute,
	Lockout:         lockout.Identifier,
	Source:          lockout.Source,
	SignupSource:    lockout.Policy{CaptchaAfter: 5, LockAfter: 50, Window: time.Hour},
}

func (c Config) withDefaults() Config {
	d := DefaultConfig
	if c.SessionIdle > 0 {
		d.SessionIdle = c.SessionIdle
	}
	if c.SessionLifetime > 0 {
		d.SessionLifetime = c.SessionLifetime
	}
	if c.TouchEvery > 0 {
		d.TouchEvery = c.TouchEvery
	}
	if c.VerifiedFor > 0 {
		d.VerifiedFor = c.VerifiedFor
	}
	if c.Lockout.LockAfter > 0 {
		d.Lockout = c.Lockout
	}
	if c.Source.LockAfter > 0 {
		d.Source = c.Source
	}
	if c.SignupSource.LockAfter > 0 {
		d.SignupSource = c.SignupSource
	}
	return d
}

// Store is the slice of the database auth uses.
type Store interface {
	custos.AccountStore
	custos.SessionStore
	custos.CounterStore
	custos.AuditStore
	custos.FlowStore
	custos.TrustedDeviceStore
	custos.KnownDeviceStore
	custos.SubUserStore
	DeviceLister
}

// DeviceLister lists an account's confirmed MFA devices.
type DeviceLister interface {
	ListDevices(ctx context.Context, accountID string) ([]custos.Device, error)
}

// Factors is what login and verification need from the MFA service: the
// methods an account's devices offer, and checking a device's answer.
// Each check returns EInvalidCode (or EExpired) for a wrong answer.
type Factors interface {
	Methods(ctx context.Context, accountID string) ([]string, error)
	VerifyCode(ctx context.Context, accountID string, typ custos.DeviceType, code string, c custos.Client) (custos.Device, error)
	UseRecoveryCode(ctx context.Context, accountID, code string, c custos.Client) error
	BeginWebAuthnAssertion(ctx context.Context, accountID string) (handle string, options json.RawMessage, err error)
	// BeginTOTPFor and ConfirmTOTP bind an authenticator app during a
	// sub-user's login (the root requires one), before any session.
	BeginTOTPFor(ctx context.Context, accountID, label string) (custos.TOTPKey, error)
	ConfirmTOTP(ctx context.Context, accountID, deviceID, code string, c custos.Client) error
	FinishWebAuthnAssertion(ctx context.Context, accountID, handle string, answer json.RawMessage, c custos.Client) (custos.Device, error)
}

// Deps are the service's collaborators.
type Deps struct {
	Store   Store
	Clock   custos.Clock
	Rand    io.Reader
	Hasher  *password.Hasher
	Captcha custos.Captchas
	Factors Factors
	Codes   *codes.Sender
	Limiter *sendlimit.Limiter // counts captchas made, per address and in all
	Guard   *Guard
	// LoginKeys derives the counter keys of login identifiers.
	LoginKeys custos.LoginKeys
	// DeviceMAC keys the known-devices hash (a key-ring MAC); nil turns
	// new-device alerts off.
	DeviceMAC func([]byte) []byte
	Logger    *slog.Logger
}

// Client describes where a request came from, for audit events and the
// signed-in devices list.
type Client = custos.Client

// Service runs the sign-up, login and session flows.
type Service struct {
	d   Deps
	cfg Config
	// zones caches the loaded time zones by name (Zone): every signed-in
	// page needs one, and loading parses the zone's data each time.
	zones sync.Map
}

// New returns a Service. Every field of d is required.
func New(d Deps, cfg Config) *Service {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{d: d, cfg: cfg.withDefaults()}
}

// Config returns the policy in force.
func (s *Service) Config() Config { return s.cfg }

func (s *Service) event(typ, accountID, identifier string, c Client, detail map[string]string) (custos.AuditEvent, error) {
	return custos.NewEvent(s.d.Rand, s.d.Clock.Now(), typ, accountID, identifier, c, detail)
}

// CodePolicy is the policy of the codes this service sends, for the pages.
func (s *Service) CodePolicy() custos.CodePolicy { return s.d.Codes.Policy() }

// Account returns the account with id.
func (s *Service) Account(ctx context.Context, id string) (custos.Account, error) {
	return s.d.Store.AccountByID(ctx, id)
}

// Activity returns the account's security events, newest first.
func (s *Service) Activity(ctx context.Context, accountID string, limit int) ([]custos.AuditEvent, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	return s.d.Store.ListAudit(ctx, accountID, limit)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func internal(format string, args ...any) error { return fmt.Errorf(format, args...) }

// Captcha is a captcha to solve, with where its picture and sound are.
type Captcha struct {
	ID       string
	ImageURL string
	AudioURL string
}

// NewCaptcha makes a captcha for a page or a client to show before it
// needs one; too_many_requests past the captcha limits of c's address.
func (s *Service) NewCaptcha(ctx context.Context, c Client) (Captcha, error) {
	id, err := s.createCaptcha(ctx, c)
	if err != nil {
		return Captcha{}, err
	}
	return Captcha{ID: id, ImageURL: s.d.Captcha.ImageURL(id), AudioURL: s.d.Captcha.AudioURL(id)}, nil
}

// createCaptcha makes a captcha within the limits (every captcha is a row
// until it expires, so each one counts).
func (s *Service) createCaptcha(ctx context.Context, c Client) (string, error) {
	if err := s.d.Limiter.AllowCaptcha(ctx, c.Addr); err != nil {
		return "", err
	}
	return s.d.Captcha.Create(ctx)
}

// CaptchaImage draws a live captcha as PNG; ENotFound otherwise.
func (s *Service) CaptchaImage(ctx context.Context, id string, w io.Writer) error {
	return s.d.Captcha.WriteImage(ctx, id, w)
}

// CaptchaAudio speaks a live captcha as WAV in the first language of an
// Accept-Language header that it speaks; ENotFound otherwise.
func (s *Service) CaptchaAudio(ctx context.Context, id, acceptLanguage string, w io.Writer) error {
	return s.d.Captcha.WriteAudio(ctx, id, acceptLanguage, w)
}

// PasswordMinLength is the shortest password sign-up and changes take.
func (s *Service) PasswordMinLength() int { return password.MinLength }

// CheckPassword answers weak_password (with a reason) for a password the
// policy refuses for the account email, before a form goes further.
func (s *Service) CheckPassword(pw, email string) error { return password.Check(pw, email) }

// CaptchaFor is where the picture and sound of captcha id are (for a page
// showing the captcha a refusal carried).
func (s *Service) CaptchaFor(id string) Captcha {
	return Captcha{ID: id, ImageURL: s.d.Captcha.ImageURL(id), AudioURL: s.d.Captcha.AudioURL(id)}
}

// auditIdentifier is how an event records the login identifier: in full
// when it is the account's, masked when no account has it (what was typed
// may be anything, a password in the email field too).
func auditIdentifier(acct custos.Account, id custos.LoginID) string {
	if acct.ID == "" {
		return id.Masked()
	}
	return id.String()
}
