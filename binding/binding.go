package binding

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"net/url"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/codes"
	"github.com/custos/custos/flow"
	"github.com/custos/custos/phone"
)

// Config is the binding policy.
type Config struct {
	MaxPerNumber  int           // accounts one phone number may be bound to (5)
	UndoTTL       time.Duration // life of an "it wasn't me" link (7 days)
	DefaultRegion string        // region for national phone numbers ("" = E.164 only)
	PublicURL     string        // where links point, without a trailing slash
}

func (c Config) withDefaults() Config {
	if c.MaxPerNumber <= 0 {
		c.MaxPerNumber = 5
	}
	if c.UndoTTL <= 0 {
		c.UndoTTL = 7 * 24 * time.Hour
	}
	return c
}

// Store is the slice of the database binding uses.
type Store interface {
	AccountByID(ctx context.Context, id string) (custos.Account, error)
	SetPhone(ctx context.Context, accountID, phone string, maxPerNumber int, ev custos.AuditEvent) error
	SetAccountEmail(ctx context.Context, accountID, email string, ev custos.AuditEvent) error
	SetSecureEmail(ctx context.Context, accountID, email string, ev custos.AuditEvent) error
	ResetPassword(ctx context.Context, accountID, hash, lockKey string, ev custos.AuditEvent) error
	custos.FlowStore
}

// Deps are the service's collaborators.
type Deps struct {
	Store    Store
	Clock    custos.Clock
	Rand     io.Reader
	Codes    *codes.Sender
	Elevator custos.Elevator // checks "confirm it's you" before a change starts
	// LoginKeys derives the counter key of the login identifier, whose
	// lock a freeze ends with the password.
	LoginKeys custos.LoginKeys
	Logger    *slog.Logger
}

// Service runs the contact-point changes.
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

// Client is where a request came from.
type Client = custos.Client

// kind describes one contact point.
type kind struct {
	name    string // in the flow's data
	purpose string // the code's purpose
	channel string // where the code goes
	msg     string // the code message
	event   string
}

var (
	phoneKind       = kind{"phone", custos.PurposePhoneChange, custos.ChannelSMS, custos.MsgPhoneCode, custos.EventPhoneChanged}
	emailKind       = kind{"email", custos.PurposeEmailChange, custos.ChannelEmail, custos.MsgEmailCode, custos.EventEmailChanged}
	secureEmailKind = kind{"secure_email", custos.PurposeSecureEmail, custos.ChannelEmail, custos.MsgEmailCode, custos.EventSecureEmail}
)

// changeState is where a pending contact change stands.
type changeState string

const (
	changeCodeSent changeState = "code_sent" // the new address's code is on its way
	changeDone     changeState = "done"      // proven and applied
)

// change is a pending change's typed state.
type change struct {
	What   string `json:"what"`  // kind.name
	Value  string `json:"value"` // the new phone or address, normalised
	CodeID string `json:"code_id"`
}

// changeFlow is a phone, account email or secure email change: the new
// address proves itself with a code, then the change applies, once.
var changeFlow = flow.Machine[changeState, change]{
	Kind:    custos.FlowContactChange,
	Initial: changeCodeSent,
	Edges:   map[changeState][]changeState{changeCodeSent: {changeDone}},
}

// NormalizePhone parses a number as the service will store it.
func (s *Service) NormalizePhone(raw string) (string, error) {
	return phone.Normalize(raw, s.cfg.DefaultRegion)
}

// MaskPhone is a stored number as a page may show it ("+86 138****8000").
func (s *Service) MaskPhone(e164 string) string { return phone.Mask(e164) }

// CodePolicy is the policy of the codes this service sends, for the pages.
func (s *Service) CodePolicy() custos.CodePolicy { return s.d.Codes.Policy() }

// StartPhoneChange sends a code to a new phone number and keeps the change
// pending until it is proven.
func (s *Service) StartPhoneChange(ctx context.Context, sess custos.Session, raw string, c Client) (string, error) {
	acct, err := s.elevated(ctx, sess, true)
	if err != nil {
		return "", err
	}
	p, err := s.NormalizePhone(raw)
	if err != nil {
		return "", err
	}
	return s.start(ctx, acct, phoneKind, p, c)
}

// elevated checks "confirm it's you" and returns the session's account.
// With firstChannel, binding a first second channel (phone, secure email)
// is not held up; a login identifier is never changed without a fresh
// verification (with no other channel, a code to the current login email),
// or a stolen session alone could take the account.
func (s *Service) elevated(ctx context.Context, sess custos.Session, firstChannel bool) (custos.Account, error) {
	if err := s.d.Elevator.RequireElevation(ctx, sess, firstChannel); err != nil {
		return custos.Account{}, err
	}
	return s.d.Store.AccountByID(ctx, sess.AccountID)
}

// StartEmailChange sends a code to a new account email.
func (s *Service) StartEmailChange(ctx context.Context, sess custos.Session, raw string, c Client) (string, error) {
	acct, err := s.elevated(ctx, sess, false)
	if err != nil {
		return "", err
	}
	if acct.IsSubUser() {
		// A sub-user logs in with its root and user name: it has no login
		// email to change (its own email is its secure email).
		return "", custos.Fail(custos.EForbidden, "subuser.no_login_email")
	}
	e, err := custos.ValidEmail(raw)
	if err != nil {
		return "", err
	}
	if e == acct.Email {
		return "", custos.Fail(custos.EInvalidRequest, "change.email.same").OnField("email")
	}
	return s.start(ctx, acct, emailKind, e, c)
}

// StartSecureEmail sends a code to a new secure email.
func (s *Service) StartSecureEmail(ctx context.Context, sess custos.Session, raw string, c Client) (string, error) {
	acct, err := s.elevated(ctx, sess, true)
	if err != nil {
		return "", err
	}
	e, err := custos.ValidEmail(raw)
	if err != nil {
		return "", err
	}
	return s.start(ctx, acct, secureEmailKind, e, c)
}

func (s *Service) start(ctx context.Context, acct custos.Account, k kind, value string, c Client) (string, error) {
	id, err := custos.NewID(s.d.Rand, "chg")
	if err != nil {
		return "", err
	}
	sent, err := s.d.Codes.Send(ctx, codes.Request{
		Purpose: k.purpose, Message: k.msg, Channel: k.channel, To: value, AccountID: acct.ID, Source: c.Addr,
	})
	if err != nil {
		return "", err
	}
	_, err = changeFlow.Begin(ctx, s.d.Store, s.d.Clock.Now(), flow.Spec[change]{
		ID: id, AccountID: acct.ID, Data: change{What: k.name, Value: value, CodeID: sent.ID}, TTL: s.d.Codes.Policy().TTL,
	})
	return id, err
}

// FinishPhoneChange proves the new number and binds it; the old phone and
// the secure email are told.
func (s *Service) FinishPhoneChange(ctx context.Context, acct custos.Account, id, code string, c Client) error {
	value, err := s.prove(ctx, acct, phoneKind, id, code)
	if err != nil {
		return err
	}
	ev, err := s.event(phoneKind.event, acct.ID, c, map[string]string{"phone": phone.Mask(value)})
	if err != nil {
		return err
	}
	data := map[string]string{"NewPhone": phone.Mask(value)}
	if acct.Phone != "" {
		if err := s.tell(ctx, &ev, acct, phoneKind, custos.ChannelSMS, acct.Phone, custos.MsgPhoneChanged, data); err != nil {
			return err
		}
	}
	to := acct.Email
	if acct.SecureEmail != "" {
		to = acct.SecureEmail
	}
	if err := s.tell(ctx, &ev, acct, phoneKind, custos.ChannelEmail, to, custos.MsgPhoneChanged, data); err != nil {
		return err
	}
	if err := s.d.Store.SetPhone(ctx, acct.ID, value, s.cfg.MaxPerNumber, ev); err != nil {
		if custos.IsCode(err, custos.EConflict) {
			return custos.Fail(custos.EConflict, "change.phone.full", s.cfg.MaxPerNumber)
		}
		return err
	}
	return nil
}

// FinishEmailChange proves the new account email and makes it the login
// identifier; the old address is told.
func (s *Service) FinishEmailChange(ctx context.Context, acct custos.Account, id, code string, c Client) error {
	value, err := s.prove(ctx, acct, emailKind, id, code)
	if err != nil {
		return err
	}
	ev, err := s.event(emailKind.event, acct.ID, c, map[string]string{"old": custos.MaskEmail(acct.Email), "new": custos.MaskEmail(value)})
	if err != nil {
		return err
	}
	if err := s.tell(ctx, &ev, acct, emailKind, custos.ChannelEmail, acct.Email, custos.MsgEmailChanged, map[string]string{"NewEmail": custos.MaskEmail(value)}); err != nil {
		return err
	}
	if err := s.d.Store.SetAccountEmail(ctx, acct.ID, value, ev); err != nil {
		if custos.IsCode(err, custos.EEmailTaken) {
			return custos.Fail(custos.EEmailTaken, "change.email.taken")
		}
		return err
	}
	return nil
}

// FinishSecureEmail proves and sets the secure email; the old secure email
// (or the account email) is told.
func (s *Service) FinishSecureEmail(ctx context.Context, acct custos.Account, id, code string, c Client) error {
	value, err := s.prove(ctx, acct, secureEmailKind, id, code)
	if err != nil {
		return err
	}
	ev, err := s.event(secureEmailKind.event, acct.ID, c, map[string]string{"new": custos.MaskEmail(value)})
	if err != nil {
		return err
	}
	old := acct.SecureEmail
	if old == "" {
		old = acct.Email
	}
	if err := s.tell(ctx, &ev, acct, secureEmailKind, custos.ChannelEmail, old, custos.MsgEmailChanged, map[string]string{"NewEmail": custos.MaskEmail(value)}); err != nil {
		return err
	}
	return s.d.Store.SetSecureEmail(ctx, acct.ID, value, ev)
}

// prove checks a pending change's code, marks the change applied (once,
// however many requests race) and returns the new value.
func (s *Service) prove(ctx context.Context, acct custos.Account, k kind, id, code string) (string, error) {
	now := s.d.Clock.Now()
	gone := custos.Fail(custos.EExpired, "change.gone")
	f, err := changeFlow.LoadIn(ctx, s.d.Store, id, now, gone, changeCodeSent)
	if err != nil {
		return "", err
	}
	if f.AccountID() != acct.ID || f.Data.What != k.name {
		return "", gone
	}
	if _, err := s.d.Codes.Check(ctx, f.Data.CodeID, k.purpose, code); err != nil {
		if custos.IsCode(err, custos.EExpired) {
			return "", gone
		}
		return "", err
	}
	if err := changeFlow.Advance(ctx, s.d.Store, &f, changeDone, now); err != nil {
		if custos.IsCode(err, custos.EExpired) {
			return "", gone
		}
		return "", err
	}
	return f.Data.Value, nil
}

// tell adds to ev, the change's audit event, a change notice with an "it
// wasn't me" link to an old channel: it is written with the change and
// delivered later. The link's flow is made first; should the change then
// fail, the link was never sent and dies unused.
func (s *Service) tell(ctx context.Context, ev *custos.AuditEvent, acct custos.Account, changed kind, channel, to, purpose string, data map[string]string) error {
	link, err := s.undoLink(ctx, acct.ID, changed)
	if err != nil {
		return err
	}
	d := maps.Clone(data)
	d["UndoURL"] = link
	ev.Notify = append(ev.Notify, custos.Message{Channel: channel, To: to, Purpose: purpose, Data: d})
	return nil
}

func (s *Service) undoLink(ctx context.Context, accountID string, changed kind) (string, error) {
	token, err := custos.NewToken(s.d.Rand)
	if err != nil {
		return "", err
	}
	_, err = undoFlow.Begin(ctx, s.d.Store, s.d.Clock.Now(), flow.Spec[undoData]{
		ID: custos.SecretID(token), AccountID: accountID, Data: undoData{Changed: changed.name}, TTL: s.cfg.UndoTTL,
	})
	return s.cfg.PublicURL + "/undo?" + url.Values{"token": {token}}.Encode(), err
}

func (s *Service) event(typ, accountID string, c Client, detail map[string]string) (custos.AuditEvent, error) {
	return custos.NewEvent(s.d.Rand, s.d.Clock.Now(), typ, accountID, "", c, detail)
}
