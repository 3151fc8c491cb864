package binding

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/phone"
	"github.com/custos/custos/sendlimit"
)

// Config is the binding policy.
type Config struct {
	MaxPerNumber  int           // accounts one phone number may be bound to (5)
	CodeTTL       time.Duration // life of a code (10 min)
	CodeAttempts  int           // wrong tries that kill a code (5)
	UndoTTL       time.Duration // life of an "it wasn't me" link (7 days)
	DefaultRegion string        // region for national phone numbers ("" = E.164 only)
	PublicURL     string        // where links point, without a trailing slash
}

func (c Config) withDefaults() Config {
	if c.MaxPerNumber <= 0 {
		c.MaxPerNumber = 5
	}
	if c.CodeTTL <= 0 {
		c.CodeTTL = 10 * time.Minute
	}
	if c.CodeAttempts <= 0 {
		c.CodeAttempts = 5
	}
	if c.UndoTTL <= 0 {
		c.UndoTTL = 7 * 24 * time.Hour
	}
	return c
}

// Deps are the service's collaborators.
type Deps struct {
	Store    custos.Store
	Clock    custos.Clock
	Rand     io.Reader
	Notifier custos.Notifier
	Limiter  *sendlimit.Limiter
	CodeMAC  func([]byte) []byte
	Logger   *slog.Logger
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
	purpose string // challenge purpose
	channel string // where the code goes
	msg     string // the code message
	event   string
}

var (
	phoneKind       = kind{custos.PurposePhoneChange, custos.ChannelSMS, custos.MsgPhoneCode, custos.EventPhoneChanged}
	emailKind       = kind{custos.PurposeEmailChange, custos.ChannelEmail, custos.MsgEmailCode, custos.EventEmailChanged}
	secureEmailKind = kind{custos.PurposeSecureEmail, custos.ChannelEmail, custos.MsgEmailCode, custos.EventSecureEmail}
)

// pending is what a pending change keeps.
type pending struct {
	Value string `json:"value"`
}

// NormalizePhone parses a number as the service will store it.
func (s *Service) NormalizePhone(raw string) (string, error) {
	return phone.Normalize(raw, s.cfg.DefaultRegion)
}

// StartPhoneChange sends a code to a new phone number and keeps the change
// pending until it is proven.
func (s *Service) StartPhoneChange(ctx context.Context, acct custos.Account, raw string, c Client) (string, error) {
	p, err := s.NormalizePhone(raw)
	if err != nil {
		return "", err
	}
	return s.start(ctx, acct, phoneKind, p, c)
}

// StartEmailChange sends a code to a new account email.
func (s *Service) StartEmailChange(ctx context.Context, acct custos.Account, raw string, c Client) (string, error) {
	e, err := validEmail(raw)
	if err != nil {
		return "", err
	}
	if e == acct.Email {
		return "", custos.Errorf(custos.EInvalidRequest, "That is already your account email.").With("field", "email")
	}
	return s.start(ctx, acct, emailKind, e, c)
}

// StartSecureEmail sends a code to a new secure email.
func (s *Service) StartSecureEmail(ctx context.Context, acct custos.Account, raw string, c Client) (string, error) {
	e, err := validEmail(raw)
	if err != nil {
		return "", err
	}
	return s.start(ctx, acct, secureEmailKind, e, c)
}

func (s *Service) start(ctx context.Context, acct custos.Account, k kind, value string, c Client) (string, error) {
	if err := s.d.Limiter.Allow(ctx, k.msg, value, c.Addr); err != nil {
		return "", err
	}
	id, err := custos.NewID(s.d.Rand, "chg")
	if err != nil {
		return "", err
	}
	code, err := custos.NewCode(s.d.Rand, 6)
	if err != nil {
		return "", err
	}
	data, _ := json.Marshal(pending{Value: value})
	now := s.d.Clock.Now()
	err = s.d.Store.CreateChallenge(ctx, custos.Challenge{
		ID: id, Purpose: k.purpose, Target: value, AccountID: acct.ID, CodeHash: s.d.CodeMAC([]byte(id + ":" + code)),
		Data: data, MaxAttempts: s.cfg.CodeAttempts, CreatedAt: now, ExpiresAt: now.Add(s.cfg.CodeTTL),
	})
	if err != nil {
		return "", err
	}
	if err := s.d.Notifier.Send(ctx, custos.Message{Channel: k.channel, To: value, Purpose: k.msg, Code: code}); err != nil {
		return "", err
	}
	return id, nil
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
	if err := s.d.Store.SetPhone(ctx, acct.ID, value, s.cfg.MaxPerNumber, ev); err != nil {
		if custos.IsCode(err, custos.EConflict) {
			return custos.Errorf(custos.EConflict, "This number is already bound to as many accounts as it may be (%d).", s.cfg.MaxPerNumber)
		}
		return err
	}
	data := map[string]string{"NewPhone": phone.Mask(value)}
	restore := Restore{Phone: &acct.Phone}
	if acct.Phone != "" {
		s.tell(ctx, acct, restore, custos.ChannelSMS, acct.Phone, custos.MsgPhoneChanged, data)
	}
	if acct.SecureEmail != "" {
		s.tell(ctx, acct, restore, custos.ChannelEmail, acct.SecureEmail, custos.MsgPhoneChanged, data)
	} else {
		s.tell(ctx, acct, restore, custos.ChannelEmail, acct.Email, custos.MsgPhoneChanged, data)
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
	if err := s.d.Store.SetAccountEmail(ctx, acct.ID, value, ev); err != nil {
		if custos.IsCode(err, custos.EEmailTaken) {
			return custos.Errorf(custos.EEmailTaken, "Another account uses that email.")
		}
		return err
	}
	s.tell(ctx, acct, Restore{Email: acct.Email}, custos.ChannelEmail, acct.Email, custos.MsgEmailChanged, map[string]string{"NewEmail": custos.MaskEmail(value)})
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
	if err := s.d.Store.SetSecureEmail(ctx, acct.ID, value, ev); err != nil {
		return err
	}
	old := acct.SecureEmail
	if old == "" {
		old = acct.Email
	}
	s.tell(ctx, acct, Restore{}, custos.ChannelEmail, old, custos.MsgEmailChanged, map[string]string{"NewEmail": custos.MaskEmail(value)})
	return nil
}

// prove checks a pending change's code and returns the new value.
func (s *Service) prove(ctx context.Context, acct custos.Account, k kind, id, code string) (string, error) {
	ch, err := s.d.Store.ConsumeChallenge(ctx, id, k.purpose, s.d.CodeMAC([]byte(id+":"+code)), s.d.Clock.Now())
	switch {
	case custos.IsCode(err, custos.EInvalidCode):
		return "", custos.Errorf(custos.EInvalidCode, "That code is not right. Check the latest message.")
	case custos.IsCode(err, custos.ENotFound), custos.IsCode(err, custos.EExpired):
		return "", custos.Errorf(custos.EExpired, "This change has expired or its code was used up. Start again.")
	case err != nil:
		return "", err
	}
	if ch.AccountID != acct.ID {
		return "", custos.Errorf(custos.EExpired, "This change has expired or its code was used up. Start again.")
	}
	var p pending
	if err := json.Unmarshal(ch.Data, &p); err != nil || p.Value == "" {
		return "", err
	}
	return p.Value, nil
}

// tell sends a change notice with an "it wasn't me" link to an old channel.
// A failure is logged: the change already stands.
func (s *Service) tell(ctx context.Context, acct custos.Account, restore Restore, channel, to, purpose string, data map[string]string) {
	link, err := s.undoLink(ctx, acct.ID, restore)
	if err == nil {
		data["UndoURL"] = link
		err = s.d.Notifier.Send(ctx, custos.Message{Channel: channel, To: to, Purpose: purpose, Data: data})
	}
	if err != nil {
		s.d.Logger.WarnContext(ctx, "sending a change notice failed", "purpose", purpose, "err", err)
	}
}

// Restore is what an "it wasn't me" link puts back besides ending every
// session: the phone or account email the change replaced.
type Restore struct {
	Phone *string `json:"phone,omitempty"` // the old phone ("" = none)
	Email string  `json:"email,omitempty"` // the old account email
}

func (s *Service) undoLink(ctx context.Context, accountID string, restore Restore) (string, error) {
	token, err := custos.NewToken(s.d.Rand)
	if err != nil {
		return "", err
	}
	data, _ := json.Marshal(restore)
	now := s.d.Clock.Now()
	err = s.d.Store.CreateChallenge(ctx, custos.Challenge{
		ID: UndoID(token), Purpose: custos.PurposeUndo, AccountID: accountID, CodeHash: []byte{0}, Data: data,
		MaxAttempts: 1, CreatedAt: now, ExpiresAt: now.Add(s.cfg.UndoTTL),
	})
	return s.cfg.PublicURL + "/undo?" + url.Values{"token": {token}}.Encode(), err
}

// UndoID is the store id of an "it wasn't me" token: its hash.
func UndoID(token string) string {
	h := sha256.Sum256([]byte(token))
	return "undo_" + hex.EncodeToString(h[:16])
}

func (s *Service) event(typ, accountID string, c Client, detail map[string]string) (custos.AuditEvent, error) {
	return custos.NewEvent(s.d.Rand, s.d.Clock.Now(), typ, accountID, "", c, detail)
}

func validEmail(raw string) (string, error) {
	e := custos.NormalizeEmail(raw)
	local, domain, ok := strings.Cut(e, "@")
	if !ok || local == "" || len(e) > 254 || !strings.Contains(domain, ".") || strings.ContainsAny(e, " <>\"(),;:\\[]") {
		return "", custos.Errorf(custos.EInvalidEmail, "Enter an email address like name@example.com.").With("field", "email")
	}
	return e, nil
}
