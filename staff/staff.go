// Package staff is the staff side's own identities: support staff are not
// accounts. An admin (or the operator, from the command line) adds a staff
// member, who receives a one-time enrolment link; enrolment sets a password
// and binds an authenticator app, and no staff session exists without that
// second factor, ever. Staff sessions end after 15 idle minutes.
//
// A staff login counts every password and code attempt before it is
// checked, under a lockout of its own (5 a day, then locked until the day
// of the first ends), and answers an unknown email like a wrong password.
// Every login, logout and staff change is in the staff audit trail.
//
// It imports the root package, lockout, otp, password and keyring, and
// package flow for the enrolment and login steps; the database through its
// Store interface.
package staff

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/flow"
	"github.com/custos/custos/keyring"
	"github.com/custos/custos/lockout"
	"github.com/custos/custos/otp"
	"github.com/custos/custos/password"
)

// Config is the staff policy. Zero fields take DefaultConfig's values.
type Config struct {
	SessionIdle time.Duration // a session ends after this long unused (15 min)
	SessionMax  time.Duration // and this long after login, whatever (10 h)
	EnrolTTL    time.Duration // an enrolment link lives this long (72 h)
	LoginTTL    time.Duration // a password waits this long for its code (5 min)
	Lockout     lockout.Policy
	Issuer      string // the name authenticator apps show ("Custos staff")
}

// DefaultConfig is the policy with its documented defaults.
var DefaultConfig = Config{
	SessionIdle: 15 * time.Minute, SessionMax: 10 * time.Hour, EnrolTTL: 72 * time.Hour, LoginTTL: 5 * time.Minute,
	Lockout: lockout.Policy{LockAfter: 5, Window: 24 * time.Hour}, Issuer: "Custos staff",
}

func (c Config) withDefaults() Config {
	d := DefaultConfig
	if c.SessionIdle > 0 {
		d.SessionIdle = c.SessionIdle
	}
	if c.SessionMax > 0 {
		d.SessionMax = c.SessionMax
	}
	if c.EnrolTTL > 0 {
		d.EnrolTTL = c.EnrolTTL
	}
	if c.LoginTTL > 0 {
		d.LoginTTL = c.LoginTTL
	}
	if c.Lockout.LockAfter > 0 {
		d.Lockout = c.Lockout
	}
	if c.Issuer != "" {
		d.Issuer = c.Issuer
	}
	return d
}

// Store is the slice of the database staff uses.
type Store interface {
	custos.StaffStore
	custos.FlowStore
	custos.CounterStore
}

// Deps are the service's collaborators.
type Deps struct {
	Store     Store
	Clock     custos.Clock
	Rand      io.Reader
	Hasher    *password.Hasher
	Keys      *keyring.Ring
	LoginKeys custos.LoginKeys
	PublicURL string // enrolment links start with it
	Logger    *slog.Logger
}

// Service is staff identity.
type Service struct {
	d   Deps
	cfg Config
}

// New returns the service.
func New(d Deps, cfg Config) *Service {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	d.PublicURL = strings.TrimRight(d.PublicURL, "/")
	return &Service{d: d, cfg: cfg.withDefaults()}
}

// Config returns the policy in force.
func (s *Service) Config() Config { return s.cfg }

// totpParams are the parameters of staff authenticators: what every app
// understands.
var totpParams = otp.DefaultParams

// The enrolment flow: the link is issued (invited), a password is set and
// a secret shown (secret), the first code proves the app (done).
type enrolState string

const (
	enrolInvited enrolState = "invited"
	enrolSecret  enrolState = "secret"
	enrolDone    enrolState = "done"
)

type enrolData struct {
	PasswordHash string `json:"password_hash,omitempty"`
	Secret       []byte `json:"secret,omitempty"` // sealed with the key ring
}

var enrolMachine = flow.Machine[enrolState, enrolData]{
	Kind: custos.FlowStaffEnrol, Initial: enrolInvited,
	Edges: map[enrolState][]enrolState{
		enrolInvited: {enrolSecret},
		enrolSecret:  {enrolSecret, enrolDone}, // a reload sets a new password and secret
	},
}

// enrolAttempts bounds the codes tried against one enrolment link.
const enrolAttempts = 10

// Actor is who does a staff change: a signed-in admin, or the operator at
// the command line (the zero Actor).
type Actor struct {
	Staff  custos.Staff
	Client custos.Client
}

// Add creates an invited staff member and returns the enrolment URL
// (PublicURL/staff/enrol/TOKEN). Only admins, or the command line, add
// staff.
func (s *Service) Add(ctx context.Context, by Actor, email string, role custos.StaffRole) (string, error) {
	if err := s.mayManage(by); err != nil {
		return "", err
	}
	email, err := custos.ValidEmail(email)
	if err != nil {
		return "", err
	}
	if !role.Valid() {
		return "", custos.Fail(custos.EInvalidRequest, "staff.role").OnField("role")
	}
	now := s.d.Clock.Now()
	id, err := custos.NewID(s.d.Rand, "stf")
	if err != nil {
		return "", err
	}
	ev, err := s.event(by, "staff.add", id, now, map[string]string{"email": email, "role": string(role)})
	if err != nil {
		return "", err
	}
	if err := s.d.Store.CreateStaff(ctx, custos.Staff{ID: id, Email: email, Role: role, State: custos.StaffInvited, CreatedAt: now}, ev); err != nil {
		return "", err
	}
	return s.invite(ctx, id, now)
}

// Reinvite issues a new enrolment link for a staff member still invited
// (the old link keeps working until it expires).
func (s *Service) Reinvite(ctx context.Context, by Actor, email string) (string, error) {
	if err := s.mayManage(by); err != nil {
		return "", err
	}
	st, err := s.d.Store.StaffByEmail(ctx, custos.NormalizeEmail(email))
	if err != nil {
		return "", err
	}
	if st.State != custos.StaffInvited {
		return "", custos.Fail(custos.EConflict, "staff.already_enrolled")
	}
	now := s.d.Clock.Now()
	ev, err := s.event(by, "staff.reinvite", st.ID, now, nil)
	if err != nil {
		return "", err
	}
	if err := s.d.Store.AppendStaffEvent(ctx, ev); err != nil {
		return "", err
	}
	return s.invite(ctx, st.ID, now)
}

func (s *Service) invite(ctx context.Context, staffID string, now time.Time) (string, error) {
	token, err := custos.NewToken(s.d.Rand)
	if err != nil {
		return "", err
	}
	if _, err := enrolMachine.Begin(ctx, s.d.Store, now, flow.Spec[enrolData]{
		ID: custos.SecretID(token), AccountID: staffID, MaxAttempts: enrolAttempts, TTL: s.cfg.EnrolTTL,
	}); err != nil {
		return "", err
	}
	return s.d.PublicURL + "/staff/enrol/" + token, nil
}

// Enrolment is what the enrolment step shows: the new authenticator's
// secret, its otpauth URI and the email it is for.
type Enrolment struct {
	Email      string
	Secret     string // base32, for manual entry
	OTPAuthURI string
}

// deadLink is the answer for an unknown, expired, used or exhausted link.
func deadLink() error { return custos.Fail(custos.EExpired, "staff.enrol_dead") }

// EnrolEmail returns the email an enrolment link is for, so the page can
// greet the person (and password managers can save it).
func (s *Service) EnrolEmail(ctx context.Context, token string) (string, error) {
	f, err := enrolMachine.LoadIn(ctx, s.d.Store, custos.SecretID(token), s.d.Clock.Now(), deadLink(), enrolInvited, enrolSecret)
	if err != nil {
		return "", err
	}
	st, err := s.d.Store.StaffByID(ctx, f.AccountID())
	if err != nil || st.State != custos.StaffInvited {
		return "", deadLink()
	}
	return st.Email, nil
}

// BeginEnrol sets the password of an enrolment and returns a fresh
// authenticator secret; nothing is active until ConfirmEnrol proves it.
func (s *Service) BeginEnrol(ctx context.Context, token, pw string) (Enrolment, error) {
	now := s.d.Clock.Now()
	f, err := enrolMachine.LoadIn(ctx, s.d.Store, custos.SecretID(token), now, deadLink(), enrolInvited, enrolSecret)
	if err != nil {
		return Enrolment{}, err
	}
	st, err := s.d.Store.StaffByID(ctx, f.AccountID())
	if err != nil || st.State != custos.StaffInvited {
		return Enrolment{}, deadLink()
	}
	if err := password.Check(pw, st.Email); err != nil {
		return Enrolment{}, err
	}
	hash, err := s.d.Hasher.Hash(ctx, pw)
	if err != nil {
		return Enrolment{}, err
	}
	secret, err := otp.NewSecret(s.d.Rand)
	if err != nil {
		return Enrolment{}, err
	}
	sealed, err := s.d.Keys.Seal(s.d.Rand, secret, secretAAD(st.ID))
	if err != nil {
		return Enrolment{}, err
	}
	f.Data = enrolData{PasswordHash: hash, Secret: sealed}
	if err := enrolMachine.Advance(ctx, s.d.Store, &f, enrolSecret, now); err != nil {
		return Enrolment{}, deadLink()
	}
	return Enrolment{Email: st.Email, Secret: otp.EncodeSecret(secret),
		OTPAuthURI: otp.URI(s.cfg.Issuer, st.Email, secret, totpParams)}, nil
}

// ConfirmEnrol proves the authenticator with its first code and makes the
// staff member active. Codes are counted against the link.
func (s *Service) ConfirmEnrol(ctx context.Context, token, code string, c custos.Client) error {
	now := s.d.Clock.Now()
	f, err := enrolMachine.LoadIn(ctx, s.d.Store, custos.SecretID(token), now, deadLink(), enrolInvited, enrolSecret)
	if err != nil {
		return err
	}
	if f.State == enrolInvited {
		return custos.Fail(custos.EConflict, "staff.enrol_password_first")
	}
	if _, err := enrolMachine.Guess(ctx, s.d.Store, f, now, deadLink()); err != nil {
		return err
	}
	secret, err := s.d.Keys.Open(f.Data.Secret, secretAAD(f.AccountID()))
	if err != nil {
		return err
	}
	step, ok := otp.MatchTOTP(secret, totpParams, code, now, 0, 1, -1)
	if !ok {
		return custos.Fail(custos.EInvalidCode, "").OnField("code")
	}
	if err := enrolMachine.Advance(ctx, s.d.Store, &f, enrolDone, now); err != nil {
		return deadLink()
	}
	ev, err := s.event(Actor{Staff: custos.Staff{ID: f.AccountID()}, Client: c}, "staff.enrolled", f.AccountID(), now, nil)
	if err != nil {
		return err
	}
	err = s.d.Store.ActivateStaff(ctx, f.AccountID(), f.Data.PasswordHash, f.Data.Secret, step, now, ev)
	if custos.IsCode(err, custos.EConflict) || custos.IsCode(err, custos.ENotFound) {
		return deadLink()
	}
	return err
}

func secretAAD(staffID string) []byte { return []byte("custos staff totp " + staffID) }

// mayManage allows admins and the command line.
func (s *Service) mayManage(by Actor) error {
	if by.Staff.ID == "" {
		return nil // the operator at the command line
	}
	if by.Staff.State != custos.StaffActive || by.Staff.Role != custos.RoleAdmin {
		return custos.Fail(custos.EForbidden, "staff.admin_only")
	}
	return nil
}

// event makes a staff audit event.
func (s *Service) event(by Actor, action, target string, at time.Time, detail map[string]string) (custos.StaffEvent, error) {
	id, err := custos.NewID(s.d.Rand, "sev")
	if err != nil {
		return custos.StaffEvent{}, err
	}
	addr := by.Client.Addr
	if by.Staff.ID == "" && addr == "" {
		addr = "command line"
	}
	ua := by.Client.UserAgent
	if len(ua) > 256 {
		ua = strings.ToValidUTF8(ua[:256], "")
	}
	return custos.StaffEvent{ID: id, At: at, StaffID: by.Staff.ID, Action: action, Target: target,
		RemoteAddr: addr, UserAgent: ua, Detail: detail}, nil
}

// Disable disables a staff member for good and ends their sessions.
func (s *Service) Disable(ctx context.Context, by Actor, email string) error {
	if err := s.mayManage(by); err != nil {
		return err
	}
	st, err := s.d.Store.StaffByEmail(ctx, custos.NormalizeEmail(email))
	if err != nil {
		return err
	}
	ev, err := s.event(by, "staff.disable", st.ID, s.d.Clock.Now(), map[string]string{"email": st.Email})
	if err != nil {
		return err
	}
	return s.d.Store.DisableStaff(ctx, st.ID, ev)
}

// DisableID is Disable by staff id. An admin cannot disable themselves.
func (s *Service) DisableID(ctx context.Context, by Actor, id string) error {
	if err := s.mayManage(by); err != nil {
		return err
	}
	if by.Staff.ID == id {
		return custos.Fail(custos.EForbidden, "staff.own_account")
	}
	st, err := s.d.Store.StaffByID(ctx, id)
	if err != nil {
		return err
	}
	return s.Disable(ctx, by, st.Email)
}

// SetRole changes a staff member's role. An admin cannot change their own
// (so the last admin cannot lock everyone out by mistake).
func (s *Service) SetRole(ctx context.Context, by Actor, id string, role custos.StaffRole) error {
	if err := s.mayManage(by); err != nil {
		return err
	}
	if !role.Valid() {
		return custos.Fail(custos.EInvalidRequest, "staff.role").OnField("role")
	}
	if by.Staff.ID == id {
		return custos.Fail(custos.EForbidden, "staff.own_role")
	}
	ev, err := s.event(by, "staff.role", id, s.d.Clock.Now(), map[string]string{"role": string(role)})
	if err != nil {
		return err
	}
	return s.d.Store.SetStaffRole(ctx, id, role, ev)
}

// List returns every staff member (admins only).
func (s *Service) List(ctx context.Context, by Actor) ([]custos.Staff, error) {
	if err := s.mayManage(by); err != nil {
		return nil, err
	}
	return s.d.Store.ListStaff(ctx)
}

// Events returns the staff audit trail (admins only).
func (s *Service) Events(ctx context.Context, by Actor, f custos.StaffEventFilter) ([]custos.StaffEvent, error) {
	if err := s.mayManage(by); err != nil {
		return nil, err
	}
	return s.d.Store.ListStaffEvents(ctx, f)
}

var errNotAllowed = errors.New("attempt not allowed")
