// Package ticket is the reviewed path back into an account for people who
// can pass no self-service check (rules R3 and R10): a support ticket asks
// to bind a new phone or to unbind a lost MFA device; staff compare it,
// field by field, with the account's real-name record; approval starts a
// waiting period every channel on file is told about, with a link that
// cancels it; then the change is made exactly once.
//
// Who applies: the holder signed in to the account itself, someone signed
// in to another account naming the target by its login email, or anyone
// through the public form after proving a contact email (and solving a
// captcha). Every applicant proves the phone they name with an SMS code.
// The answer to a submission never says whether the named account exists.
//
// It imports the root package, codes, flow, keyring, lockout, phone and
// password-free policy; the database through its Store interface.
package ticket

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/codes"
	"github.com/custos/custos/flow"
	"github.com/custos/custos/keyring"
	"github.com/custos/custos/lockout"
	"github.com/custos/custos/phone"
)

// Config is the ticket policy. Zero fields take DefaultConfig's values.
type Config struct {
	// Approvals each kind needs from different staff.
	ApprovalsUnbindMFA   int // 2
	ApprovalsChangePhone int // 1
	// Waiting periods between the last approval and the change.
	WaitUnbindMFA   time.Duration // 72 h
	WaitChangePhone time.Duration // 24 h
	// Limits on submissions a day.
	PerContactEmail int // 3
	PerSource       int // 10
	MaxPerNumber    int // accounts one phone number may be bound to (as binding's)
	DefaultRegion   string
	PublicURL       string
}

// DefaultConfig is the policy with its documented defaults.
var DefaultConfig = Config{ApprovalsUnbindMFA: 2, ApprovalsChangePhone: 1, WaitUnbindMFA: 72 * time.Hour,
	WaitChangePhone: 24 * time.Hour, PerContactEmail: 3, PerSource: 10, MaxPerNumber: 5}

func (c Config) withDefaults() Config {
	d := DefaultConfig
	if c.ApprovalsUnbindMFA > 0 {
		d.ApprovalsUnbindMFA = c.ApprovalsUnbindMFA
	}
	if c.ApprovalsChangePhone > 0 {
		d.ApprovalsChangePhone = c.ApprovalsChangePhone
	}
	if c.WaitUnbindMFA > 0 {
		d.WaitUnbindMFA = c.WaitUnbindMFA
	}
	if c.WaitChangePhone > 0 {
		d.WaitChangePhone = c.WaitChangePhone
	}
	if c.PerContactEmail > 0 {
		d.PerContactEmail = c.PerContactEmail
	}
	if c.PerSource > 0 {
		d.PerSource = c.PerSource
	}
	if c.MaxPerNumber > 0 {
		d.MaxPerNumber = c.MaxPerNumber
	}
	d.DefaultRegion = c.DefaultRegion
	d.PublicURL = strings.TrimRight(c.PublicURL, "/")
	return d
}

// Store is the slice of the database tickets use.
type Store interface {
	custos.TicketStore
	custos.BlobStore
	custos.FlowStore
	custos.CounterStore
	AccountByID(ctx context.Context, id string) (custos.Account, error)
	AccountByEmail(ctx context.Context, email string) (custos.Account, error)
	IdentitySubmissions(ctx context.Context, accountID string) ([]custos.IdentitySubmission, error)
	ListDevices(ctx context.Context, accountID string) ([]custos.Device, error)
	AppendStaffEvent(ctx context.Context, ev custos.StaffEvent) error
}

// Deps are the service's collaborators.
type Deps struct {
	Store   Store
	Codes   *codes.Sender
	Captcha custos.Captchas
	Clock   custos.Clock
	Rand    io.Reader
	Keys    *keyring.Ring
	Logger  *slog.Logger
}

// Service is support tickets.
type Service struct {
	d   Deps
	cfg Config
}

// New returns the service.
func New(d Deps, cfg Config) *Service {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{d: d, cfg: cfg.withDefaults()}
}

// Config returns the policy in force.
func (s *Service) Config() Config { return s.cfg }

// Code purposes of the proofs.
const (
	purposeContact = "ticket_contact"
	purposePhone   = "ticket_phone"
)

// A proven contact email or phone is a bearer token naming a flow.
type proofState string

const proofProven proofState = "proven"

type proofData struct {
	Value string `json:"value"` // the normalised email or E.164 number
}

var (
	contactMachine = flow.Machine[proofState, proofData]{Kind: custos.FlowTicketContact, Initial: proofProven}
	phoneMachine   = flow.Machine[proofState, proofData]{Kind: custos.FlowTicketPhone, Initial: proofProven}
)

// proofTTL is how long a proven contact email or phone may be used to
// submit.
const proofTTL = time.Hour

// StartContact sends a code to a public applicant's contact email, after a
// solved captcha. It returns the code's id.
func (s *Service) StartContact(ctx context.Context, email string, captcha CaptchaAnswer, c custos.Client) (codes.Sent, error) {
	ok, err := s.d.Captcha.Solve(ctx, captcha.ID, captcha.Answer)
	if err != nil {
		return codes.Sent{}, err
	}
	if !ok {
		return codes.Sent{}, custos.Fail(custos.ECaptchaRequired, "ticket.captcha").OnField("captcha")
	}
	addr, err := custos.ValidEmail(email)
	if err != nil {
		return codes.Sent{}, err
	}
	return s.d.Codes.Send(ctx, codes.Request{Purpose: purposeContact, Message: custos.MsgTicketContactCode,
		Channel: custos.ChannelEmail, To: addr, Source: c.Addr})
}

// CaptchaAnswer is a captcha id and what the person read from it.
type CaptchaAnswer struct{ ID, Answer string }

// ProveContact checks the emailed code and returns a contact token.
func (s *Service) ProveContact(ctx context.Context, id, code string) (string, error) {
	ch, err := s.d.Codes.Check(ctx, id, purposeContact, code)
	if err != nil {
		return "", err
	}
	return s.proof(ctx, contactMachine, ch.Target)
}

// StartPhone sends an SMS code to the phone an applicant names.
func (s *Service) StartPhone(ctx context.Context, raw string, c custos.Client) (codes.Sent, error) {
	num, err := phone.Normalize(raw, s.cfg.DefaultRegion)
	if err != nil {
		return codes.Sent{}, err
	}
	return s.d.Codes.Send(ctx, codes.Request{Purpose: purposePhone, Message: custos.MsgTicketPhoneCode,
		Channel: custos.ChannelSMS, To: num, Source: c.Addr})
}

// ProvePhone checks the SMS code and returns a phone token.
func (s *Service) ProvePhone(ctx context.Context, id, code string) (string, error) {
	ch, err := s.d.Codes.Check(ctx, id, purposePhone, code)
	if err != nil {
		return "", err
	}
	return s.proof(ctx, phoneMachine, ch.Target)
}

func (s *Service) proof(ctx context.Context, m flow.Machine[proofState, proofData], value string) (string, error) {
	token, err := custos.NewToken(s.d.Rand)
	if err != nil {
		return "", err
	}
	if _, err := m.Begin(ctx, s.d.Store, s.d.Clock.Now(), flow.Spec[proofData]{
		ID: custos.SecretID(token), Data: proofData{Value: value}, TTL: proofTTL,
	}); err != nil {
		return "", err
	}
	return token, nil
}

// proven returns what a contact or phone token proves.
func (s *Service) proven(ctx context.Context, m flow.Machine[proofState, proofData], token, field string) (string, error) {
	dead := custos.Fail(custos.EInvalidRequest, "ticket.proof_dead").OnField(field)
	if token == "" || len(token) > 128 {
		return "", dead
	}
	f, err := m.LoadIn(ctx, s.d.Store, custos.SecretID(token), s.d.Clock.Now(), dead, proofProven)
	if err != nil {
		return "", err
	}
	return f.Data.Value, nil
}

// limit counts one submission against key, refusing past max a day.
func (s *Service) limit(ctx context.Context, key string, max int) error {
	p := lockout.Policy{LockAfter: max + 1, Window: 24 * time.Hour}
	now := s.d.Clock.Now()
	refused := false
	_, err := s.d.Store.UpdateCounter(ctx, key, func(cur custos.Counter) (custos.Counter, error) {
		cur = p.Current(cur, now)
		if cur.Failures >= max {
			refused = true
			return cur, errRefused
		}
		return p.Count(cur, now), nil
	})
	if refused {
		return custos.Fail(custos.ETooManyRequests, "ticket.too_many").With("retry_after", 24*3600)
	}
	return err
}

var errRefused = custos.Errorf(custos.ETooManyRequests, "refused")

// queryGuesses bounds wrong ticket numbers or query codes from one
// address: 30 an hour.
var queryGuesses = lockout.Policy{LockAfter: 30, Window: time.Hour}
