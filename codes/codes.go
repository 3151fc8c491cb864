package codes

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/phone"
	"github.com/custos/custos/sendlimit"
)

// Config is the code policy. Zero fields take DefaultConfig's values.
type Config struct {
	TTL      time.Duration // how long a code works (10 min)
	Attempts int           // wrong tries that kill a code (5)
	Digits   int           // length of a code (6)
}

// DefaultConfig is the documented policy.
var DefaultConfig = Config{TTL: 10 * time.Minute, Attempts: 5, Digits: 6}

func (c Config) withDefaults() Config {
	if c.TTL <= 0 {
		c.TTL = DefaultConfig.TTL
	}
	if c.Attempts <= 0 {
		c.Attempts = DefaultConfig.Attempts
	}
	if c.Digits <= 0 {
		c.Digits = DefaultConfig.Digits
	}
	return c
}

// Deps are the Sender's collaborators.
type Deps struct {
	// Store keeps each code with the message that carries it, in one
	// transaction; workers deliver the message later.
	Store   custos.ChallengeStore
	Limiter *sendlimit.Limiter
	Clock   custos.Clock
	Rand    io.Reader
	// MAC hashes codes with a server key, so a database dump does not
	// reveal live codes.
	MAC func([]byte) []byte
}

// Sender makes, sends and checks one-time codes.
type Sender struct {
	d   Deps
	cfg Config
}

// New returns a Sender.
func New(d Deps, cfg Config) *Sender {
	return &Sender{d: d, cfg: cfg.withDefaults()}
}

// Policy returns the policy in force, for the pages to show.
func (s *Sender) Policy() custos.CodePolicy {
	return custos.CodePolicy{TTL: s.cfg.TTL, Attempts: s.cfg.Attempts, ResendAfter: s.d.Limiter.Cooldown()}
}

// Request is one code to send.
type Request struct {
	Purpose   string // custos.Purpose…: a code proves only its purpose
	Message   string // custos.Msg…: the message that carries it
	Channel   string // custos.ChannelEmail or custos.ChannelSMS
	To        string // normalised email or E.164 number
	AccountID string // the account it is for, "" before one exists
	Source    string // the requesting client's address, for the per-address limit
	// Silent is for anonymous flows (retrieval, reset): when a limit on the
	// target or its account refuses, the send is skipped without a word — a
	// decoy is kept and the answer is the same as for a code sent — so that
	// the limiter's answers never tell which identifiers belong together.
	// Only the requester's own limit is answered with too_many_requests.
	Silent bool
}

// Sent is a code on its way.
type Sent struct {
	ID        string    // the code's id, to check it by
	SentTo    string    // where it went, masked for showing
	ExpiresAt time.Time // when it stops working
}

// Send counts the send against the limits (ETooManyRequests with
// "retry_after" when over, unless r.Silent hides it) and keeps the code's
// hash together with the message that carries it (one transaction). The
// message is delivered later: the answer never waits for, or tells about,
// its delivery.
func (s *Sender) Send(ctx context.Context, r Request) (Sent, error) {
	if err := s.allow(ctx, r); err != nil {
		if r.Silent && sendlimit.AboutTarget(err) {
			return s.decoy(ctx, r, nil)
		}
		return Sent{}, err
	}
	code, err := custos.NewCode(s.d.Rand, s.cfg.Digits)
	if err != nil {
		return Sent{}, err
	}
	now := s.d.Clock.Now()
	// The code is for the person at the screen: in the request's language.
	m := custos.Message{Channel: r.Channel, To: r.To, Purpose: r.Message, Code: code, Expires: now.Add(s.cfg.TTL), Lang: custos.LanguageOf(ctx)}
	ch, err := s.keep(ctx, r.Purpose, r.To, r.AccountID, code, now, []custos.Message{m})
	if err != nil {
		return Sent{}, err
	}
	return Sent{ID: ch.ID, SentTo: Mask(r.Channel, r.To), ExpiresAt: ch.ExpiresAt}, nil
}

// Decoy keeps a code that nobody knows, for a flow that must answer like
// a real one (an address with no account) but can only die. No code is
// sent; the send limits count as for a real code, so the limiter's answers
// do not tell the two apart. notify, when given, is written with the decoy
// in one transaction, as a real code's message is (sign-up for an address
// that has an account tells its holder so) — unless a limit on the target
// silenced the send.
func (s *Sender) Decoy(ctx context.Context, r Request, notify ...custos.Message) (Sent, error) {
	if err := s.allow(ctx, r); err != nil {
		if !(r.Silent && sendlimit.AboutTarget(err)) {
			return Sent{}, err
		}
		notify = nil
	}
	return s.decoy(ctx, r, notify)
}

func (s *Sender) allow(ctx context.Context, r Request) error {
	return s.d.Limiter.Allow(ctx, sendlimit.Send{
		Purpose: r.Message, Target: r.To, Source: r.Source, AccountID: r.AccountID, SMS: r.Channel == custos.ChannelSMS,
	})
}

// decoy keeps a code nobody knows, with notify, counting nothing. With no
// notify it writes a decoy message (custos.Message.Decoy) where the code's
// message would be: the same transaction and the same writes as a real
// code, which the workers never deliver, so the answer takes as long.
func (s *Sender) decoy(ctx context.Context, r Request, notify []custos.Message) (Sent, error) {
	unknowable, err := custos.NewToken(s.d.Rand)
	if err != nil {
		return Sent{}, err
	}
	now := s.d.Clock.Now()
	if len(notify) == 0 {
		notify = []custos.Message{{Channel: r.Channel, To: r.To, Purpose: r.Message, Code: strings.Repeat("0", s.cfg.Digits),
			Expires: now.Add(s.cfg.TTL), Decoy: true, Lang: custos.LanguageOf(ctx)}}
	}
	ch, err := s.keep(ctx, r.Purpose, r.To, "", unknowable, now, notify)
	if err != nil {
		return Sent{}, err
	}
	return Sent{ID: ch.ID, SentTo: Mask(r.Channel, r.To), ExpiresAt: ch.ExpiresAt}, nil
}

func (s *Sender) keep(ctx context.Context, purpose, to, accountID, code string, now time.Time, notify []custos.Message) (custos.Challenge, error) {
	id, err := custos.NewID(s.d.Rand, "code")
	if err != nil {
		return custos.Challenge{}, err
	}
	ch := custos.Challenge{
		ID: id, Purpose: purpose, Target: to, AccountID: accountID, CodeHash: s.hash(id, code),
		MaxAttempts: s.cfg.Attempts, CreatedAt: now, ExpiresAt: now.Add(s.cfg.TTL),
	}
	return ch, s.d.Store.CreateChallenge(ctx, ch, notify...)
}

func (s *Sender) hash(id, code string) []byte { return s.d.MAC([]byte(id + ":" + code)) }

// Check proves a code. A match uses it up and returns it; a wrong code is
// counted in the same atomic statement and answers EInvalidCode; a code
// that is unknown, of another purpose, used, expired or out of tries
// answers EExpired.
func (s *Sender) Check(ctx context.Context, id, purpose, code string) (custos.Challenge, error) {
	ch, err := s.d.Store.ConsumeChallenge(ctx, id, purpose, s.hash(id, code), s.d.Clock.Now())
	switch {
	case custos.IsCode(err, custos.EInvalidCode):
		return custos.Challenge{}, custos.Fail(custos.EInvalidCode, "code.wrong").OnField("code")
	case custos.IsCode(err, custos.ENotFound), custos.IsCode(err, custos.EExpired):
		return custos.Challenge{}, custos.Fail(custos.EExpired, "code.dead")
	}
	return ch, err
}

// Mask is an address as a page may show it: a phone number or an email
// with most of it hidden.
func Mask(channel, to string) string {
	if channel == custos.ChannelSMS {
		return phone.Mask(to)
	}
	return custos.MaskEmail(to)
}
