package recovery

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/codes"
	"github.com/custos/custos/flow"
	"github.com/custos/custos/password"
	"github.com/custos/custos/phone"
	"github.com/custos/custos/sendlimit"
)

// proofTTL is how long a proven channel may go on to reset a password.
const proofTTL = 15 * time.Minute

// Config is the recovery policy.
type Config struct {
	MFAAttempts   int // MFA guesses a proven channel buys (5)
	DefaultRegion string
}

// Store is the slice of the database recovery uses.
type Store interface {
	AccountByID(ctx context.Context, id string) (custos.Account, error)
	AccountByEmail(ctx context.Context, email string) (custos.Account, error)
	AccountsByPhone(ctx context.Context, phone string) ([]custos.Account, error)
	ResetPassword(ctx context.Context, accountID, hash, lockKey string, ev custos.AuditEvent) error
	custos.AuditStore
	custos.FlowStore
}

// Factors is what a reset needs from the MFA service: the methods an
// account's devices offer, and checking a code from one of them.
type Factors interface {
	Methods(ctx context.Context, accountID string) ([]string, error)
	VerifyCode(ctx context.Context, accountID string, typ custos.DeviceType, code string, c custos.Client) (custos.Device, error)
	UseRecoveryCode(ctx context.Context, accountID, code string, c custos.Client) error
}

// Deps are the service's collaborators.
type Deps struct {
	Store   Store
	Clock   custos.Clock
	Rand    io.Reader
	Codes   *codes.Sender
	Captcha custos.Captchas
	Limiter *sendlimit.Limiter // counts captchas made
	Factors Factors
	Hasher  *password.Hasher
	// LoginKeys derives the counter key of the login identifier, whose
	// lock a reset ends.
	LoginKeys custos.LoginKeys
	Logger    *slog.Logger
}

// Service runs the recovery flows.
type Service struct {
	d   Deps
	cfg Config
}

// New returns a Service.
func New(d Deps, cfg Config) *Service {
	if cfg.MFAAttempts <= 0 {
		cfg.MFAAttempts = 5
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{d: d, cfg: cfg}
}

// Client is where a request came from.
type Client = custos.Client

// CaptchaAnswer is a solved captcha, required before any anonymous code.
type CaptchaAnswer struct{ ID, Answer string }

// FoundAccount is an account shown to whoever proved its phone: the email
// masked, the kind and the creation date.
type FoundAccount struct {
	ID           string
	MaskedEmail  string
	Kind         custos.AccountKind
	CreatedAt    time.Time
	NeedsMFA     bool     // a reset also needs an MFA or recovery code
	MFAMethods   []string // which ones it takes
	CanSelfServe bool     // false: the holder has to go to support
}

// CodePolicy is the policy of the codes this service sends, for the pages.
func (s *Service) CodePolicy() custos.CodePolicy { return s.d.Codes.Policy() }

// proofState is where a retrieval or a reset stands.
type proofState string

const (
	proofCodeSent proofState = "code_sent" // a code is on its way to the channel
	proofProven   proofState = "proven"    // the channel proved itself: its accounts may be reset
	proofDone     proofState = "done"      // a password was reset
)

// proof is a retrieval's or reset's typed state.
type proof struct {
	AccountIDs []string `json:"account_ids"` // the accounts the channel reaches
	// Versions are their password versions when the flow began: a password
	// changed, reset or frozen since ends the flow for that account.
	Versions map[string]int64 `json:"versions,omitempty"`
	Channel  string           `json:"channel"` // what kind of contact point proves it: "phone", "email", "secure_email"
	CodeID   string           `json:"code_id"`
	ProvenAt time.Time        `json:"proven_at,omitzero"`
}

// Contact points, as a freeze names them.
const (
	byPhone       = "phone"
	byEmail       = "email"
	bySecureEmail = "secure_email"
)

// freezeFlow reads an account's freeze (package binding makes it) and
// lifts it after a reset over a trusted path.
var freezeFlow = flow.Machine[string, custos.Freeze]{
	Kind:    custos.FlowFreeze,
	Initial: custos.FreezeFrozen,
	Edges:   map[string][]string{custos.FreezeFrozen: {custos.FreezeFrozen, custos.FreezeLifted}},
}

// untrusted lists the contact points of the account that no recovery may
// rest on: those a change put in place before "it wasn't me" froze it.
func (s *Service) untrusted(ctx context.Context, accountID string) ([]string, error) {
	f, err := freezeFlow.Load(ctx, s.d.Store, custos.FreezeID(accountID), s.d.Clock.Now())
	if custos.IsCode(err, custos.ENotFound) {
		return nil, nil
	}
	if err != nil || f.State != custos.FreezeFrozen {
		return nil, err
	}
	return f.Data.Untrusted, nil
}

// A retrieval (R1) and a reset prove a channel the same way; they are two
// kinds so that one's id never answers for the other's endpoint. MFA
// guesses at the reset are counted on the flow before they are checked.
var (
	retrievalFlow = proofMachine(custos.FlowRetrieval)
	resetFlow     = proofMachine(custos.FlowReset)
)

func proofMachine(kind custos.FlowKind) flow.Machine[proofState, proof] {
	return flow.Machine[proofState, proof]{
		Kind:    kind,
		Initial: proofCodeSent,
		Edges: map[proofState][]proofState{
			proofCodeSent: {proofProven},
			proofProven:   {proofDone},
		},
	}
}

// requireCaptcha solves the captcha of an anonymous flow, or answers
// 401 captcha_required with a fresh one.
func (s *Service) requireCaptcha(ctx context.Context, a *CaptchaAnswer, c Client) error {
	if a != nil {
		ok, err := s.d.Captcha.Solve(ctx, a.ID, a.Answer)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
	}
	if err := s.d.Limiter.AllowCaptcha(ctx, c.Addr); err != nil {
		return err
	}
	id, err := s.d.Captcha.Create(ctx)
	if err != nil {
		return err
	}
	key := "captcha.first"
	if a != nil {
		key = "captcha.wrong"
	}
	return custos.Fail(custos.ECaptchaRequired, key).
		With("captcha", map[string]string{"id": id, "image_url": s.d.Captcha.ImageURL(id)})
}

// StartRetrieve sends a code to a phone number (after a captcha) so its
// holder can see the accounts bound to it. The answer is the same whether
// or not any account uses the number.
func (s *Service) StartRetrieve(ctx context.Context, raw string, ca *CaptchaAnswer, c Client) (string, error) {
	if err := s.requireCaptcha(ctx, ca, c); err != nil {
		return "", err
	}
	p, err := phone.Normalize(raw, s.cfg.DefaultRegion)
	if err != nil {
		return "", err
	}
	accounts, err := s.d.Store.AccountsByPhone(ctx, p)
	if err != nil {
		return "", err
	}
	return s.begin(ctx, retrievalFlow, codes.Request{
		Purpose: custos.PurposeRetrieve, Message: custos.MsgRetrieveCode, Channel: custos.ChannelSMS, To: p, Source: c.Addr, Silent: true,
	}, byPhone, accounts, false)
}

// FinishRetrieve proves the phone's code and lists its accounts.
func (s *Service) FinishRetrieve(ctx context.Context, id, code string, c Client) ([]FoundAccount, error) {
	f, err := s.prove(ctx, retrievalFlow, custos.PurposeRetrieve, id, code)
	if err != nil {
		return nil, err
	}
	return s.found(ctx, f.Data, c)
}

// StartReset begins a password reset by account email or phone (after a
// captcha): a code goes to the account's bound phone (or, by email, to its
// secure email, or account email when it has neither). The answer is the
// same whether or not an account matches.
func (s *Service) StartReset(ctx context.Context, email, rawPhone string, ca *CaptchaAnswer, c Client) (string, error) {
	if err := s.requireCaptcha(ctx, ca, c); err != nil {
		return "", err
	}
	if rawPhone != "" {
		p, err := phone.Normalize(rawPhone, s.cfg.DefaultRegion)
		if err != nil {
			return "", err
		}
		accounts, err := s.d.Store.AccountsByPhone(ctx, p)
		if err != nil {
			return "", err
		}
		return s.begin(ctx, resetFlow, codes.Request{
			Purpose: custos.PurposeReset, Message: custos.MsgResetCode, Channel: custos.ChannelSMS, To: p, Source: c.Addr, Silent: true,
		}, byPhone, accounts, false)
	}
	e, err := custos.ValidEmail(email)
	if err != nil {
		return "", custos.Fail(custos.EInvalidEmail, "reset.which").OnField("email")
	}
	acct, err := s.d.Store.AccountByEmail(ctx, e)
	if custos.IsCode(err, custos.ENotFound) {
		// Nobody gets a code, but the answer looks the same and costs the
		// same: the limits still count, the freeze is read (of nobody) and
		// a decoy is written as a code would be.
		if _, err := s.untrusted(ctx, ""); err != nil {
			return "", err
		}
		return s.begin(ctx, resetFlow, codes.Request{
			Purpose: custos.PurposeReset, Message: custos.MsgResetCode, Channel: custos.ChannelEmail, To: e, Source: c.Addr, Silent: true,
		}, byEmail, nil, true)
	}
	if err != nil {
		return "", err
	}
	untrusted, err := s.untrusted(ctx, acct.ID)
	if err != nil {
		return "", err
	}
	// The code goes to the bound phone, else the secure email, else the
	// account email — skipping a channel a frozen account does not trust.
	// With none left, nobody gets a code, and the answer is the same.
	r := codes.Request{Purpose: custos.PurposeReset, Message: custos.MsgResetCode, AccountID: acct.ID, Source: c.Addr, Silent: true}
	for _, ch := range []struct{ name, channel, to string }{
		{byPhone, custos.ChannelSMS, acct.Phone},
		{bySecureEmail, custos.ChannelEmail, acct.SecureEmail},
		{byEmail, custos.ChannelEmail, acct.Email},
	} {
		if ch.to != "" && !slices.Contains(untrusted, ch.name) {
			r.Channel, r.To = ch.channel, ch.to
			return s.begin(ctx, resetFlow, r, ch.name, []custos.Account{acct}, false)
		}
	}
	r.Channel, r.To = custos.ChannelEmail, e
	return s.begin(ctx, resetFlow, r, byEmail, nil, true)
}

// begin sends the flow's code (a decoy that can only die when decoy) and
// keeps the flow. The flow outlives its code by the proof's life.
func (s *Service) begin(ctx context.Context, m flow.Machine[proofState, proof], r codes.Request, channel string, accounts []custos.Account, decoy bool) (string, error) {
	id, err := custos.NewID(s.d.Rand, "rec")
	if err != nil {
		return "", err
	}
	var sent codes.Sent
	if decoy {
		sent, err = s.d.Codes.Decoy(ctx, r)
	} else {
		sent, err = s.d.Codes.Send(ctx, r)
	}
	if err != nil {
		return "", err
	}
	_, err = m.Begin(ctx, s.d.Store, s.d.Clock.Now(), flow.Spec[proof]{
		ID: id, Data: proof{AccountIDs: ids(accounts), Versions: versions(accounts), Channel: channel, CodeID: sent.ID},
		MaxAttempts: s.cfg.MFAAttempts, TTL: s.d.Codes.Policy().TTL + proofTTL,
	})
	return id, err
}

// prove checks a flow's code and marks its channel proven (once).
func (s *Service) prove(ctx context.Context, m flow.Machine[proofState, proof], purpose, id, code string) (flow.Flow[proofState, proof], error) {
	now := s.d.Clock.Now()
	dead := custos.Fail(custos.EExpired, "code.dead")
	f, err := m.LoadIn(ctx, s.d.Store, id, now, dead, proofCodeSent)
	if err != nil {
		return f, err
	}
	if _, err := s.d.Codes.Check(ctx, f.Data.CodeID, purpose, code); err != nil {
		return f, err
	}
	f.Data.ProvenAt = now
	if err := m.Advance(ctx, s.d.Store, &f, proofProven, now); err != nil {
		if custos.IsCode(err, custos.EExpired) {
			return f, dead
		}
		return f, err
	}
	return f, nil
}

// FinishResetCode proves a reset's code and lists the accounts it may
// reset (one for a reset by email), with what each needs next.
func (s *Service) FinishResetCode(ctx context.Context, id, code string, c Client) ([]FoundAccount, error) {
	f, err := s.prove(ctx, resetFlow, custos.PurposeReset, id, code)
	if err != nil {
		return nil, err
	}
	return s.found(ctx, f.Data, c)
}

// provenFlow loads the proven retrieval or reset with id.
func (s *Service) provenFlow(ctx context.Context, id string, now time.Time, gone error) (flow.Machine[proofState, proof], flow.Flow[proofState, proof], error) {
	for _, m := range []flow.Machine[proofState, proof]{resetFlow, retrievalFlow} {
		f, err := m.LoadIn(ctx, s.d.Store, id, now, gone, proofProven)
		if err == gone {
			continue
		}
		if err == nil && now.Sub(f.Data.ProvenAt) >= proofTTL {
			return m, f, gone
		}
		return m, f, err
	}
	return resetFlow, flow.Flow[proofState, proof]{}, gone
}

// CompleteReset sets a new password on one of the accounts a proven flow
// (a reset or a retrieval) reaches. An account with MFA also needs an MFA
// or recovery code: SMS alone never skips MFA. The reset ends the
// login-security lock and every session, and tells every channel.
func (s *Service) CompleteReset(ctx context.Context, id, accountID, newPassword, mfaMethod, mfaCode string, c Client) error {
	now := s.d.Clock.Now()
	gone := custos.Fail(custos.EExpired, "reset.gone")
	m, f, err := s.provenFlow(ctx, id, now, gone)
	if err != nil {
		return err
	}
	if !slices.Contains(f.Data.AccountIDs, accountID) {
		return custos.Fail(custos.ENotFound, "reset.not_reached")
	}
	acct, err := s.d.Store.AccountByID(ctx, accountID)
	if err != nil {
		return err
	}
	if v, ok := f.Data.Versions[acct.ID]; ok && v != acct.PasswordVersion {
		return gone // the password changed since this reset began
	}
	untrusted, err := s.untrusted(ctx, acct.ID)
	if err != nil {
		return err
	}
	if slices.Contains(untrusted, f.Data.Channel) {
		// The proven channel is one a change put in place before the
		// account was frozen: it may be the hijacker's.
		return custos.Fail(custos.EForbidden, "reset.frozen_channel")
	}
	if err := password.Check(newPassword, acct.Email); err != nil {
		return err
	}
	methods, err := s.d.Factors.Methods(ctx, acct.ID)
	if err != nil {
		return err
	}
	if len(methods) > 0 {
		if !slices.Contains(methods, mfaMethod) || mfaMethod == "webauthn" {
			return custos.Fail(custos.EVerificationRequired, "reset.needs_mfa").With("methods", codeMethods(methods))
		}
		// Count the guess before checking it: a proven channel buys a few
		// MFA guesses, never more, however many arrive at once.
		left, err := m.Guess(ctx, s.d.Store, f, now, gone)
		if err != nil {
			return err
		}
		if mfaMethod == "recovery_code" {
			err = s.d.Factors.UseRecoveryCode(ctx, acct.ID, mfaCode, c)
		} else {
			_, err = s.d.Factors.VerifyCode(ctx, acct.ID, custos.DeviceType(mfaMethod), mfaCode, c)
		}
		if custos.IsCode(err, custos.EInvalidCode) {
			return err.(*custos.Error).With("attempts_left", left)
		}
		if err != nil {
			return err
		}
	}
	hash, err := s.d.Hasher.Hash(ctx, newPassword)
	if err != nil {
		return err
	}
	if err := m.Advance(ctx, s.d.Store, &f, proofDone, now); err != nil {
		if custos.IsCode(err, custos.EExpired) || custos.IsCode(err, custos.ENotFound) {
			return gone
		}
		return err
	}
	ev, err := s.event(custos.EventPasswordReset, acct.ID, c, nil)
	if err != nil {
		return err
	}
	// Every channel is told, with the reset's record.
	ev.Notify = custos.Notices(acct, custos.MsgPasswordReset, map[string]string{})
	if err := s.d.Store.ResetPassword(ctx, acct.ID, hash, s.d.LoginKeys.Counter(acct.LoginID()), ev); err != nil {
		return err
	}
	if len(untrusted) > 0 {
		// Back in by a trusted path: the freeze has done its work.
		if err := s.lift(ctx, acct.ID); err != nil {
			s.d.Logger.WarnContext(ctx, "lifting a freeze failed", "err", err)
		}
	}
	return nil
}

// lift ends the account's freeze.
func (s *Service) lift(ctx context.Context, accountID string) error {
	now := s.d.Clock.Now()
	f, err := freezeFlow.Load(ctx, s.d.Store, custos.FreezeID(accountID), now)
	if err != nil || f.State != custos.FreezeFrozen {
		return err
	}
	return freezeFlow.Advance(ctx, s.d.Store, &f, custos.FreezeLifted, now)
}

// found describes the accounts a proven channel reaches, and records that
// each was listed. A frozen account that does not trust the channel is
// listed as one for support.
func (s *Service) found(ctx context.Context, p proof, c Client) ([]FoundAccount, error) {
	out := []FoundAccount{}
	for _, id := range p.AccountIDs {
		acct, err := s.d.Store.AccountByID(ctx, id)
		if custos.IsCode(err, custos.ENotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		methods, err := s.d.Factors.Methods(ctx, acct.ID)
		if err != nil {
			return nil, err
		}
		untrusted, err := s.untrusted(ctx, acct.ID)
		if err != nil {
			return nil, err
		}
		codes := codeMethods(methods)
		out = append(out, FoundAccount{
			ID: acct.ID, MaskedEmail: custos.MaskEmail(acct.Email), Kind: acct.Kind, CreatedAt: acct.CreatedAt,
			NeedsMFA: len(methods) > 0, MFAMethods: codes,
			CanSelfServe: (len(methods) == 0 || len(codes) > 0) && !slices.Contains(untrusted, p.Channel),
		})
		if ev, err := s.event(custos.EventRetrieved, acct.ID, c, nil); err == nil {
			if err := s.d.Store.AppendAudit(ctx, ev); err != nil {
				s.d.Logger.WarnContext(ctx, "auditing a retrieval failed", "err", err)
			}
		}
	}
	return out, nil
}

func (s *Service) event(typ, accountID string, c Client, detail map[string]string) (custos.AuditEvent, error) {
	return custos.NewEvent(s.d.Rand, s.d.Clock.Now(), typ, accountID, "", c, detail)
}

// codeMethods keeps the MFA methods a reset form can take as a typed code.
func codeMethods(methods []string) []string {
	var out []string
	for _, m := range methods {
		if m != "webauthn" {
			out = append(out, m)
		}
	}
	return out
}

func versions(accounts []custos.Account) map[string]int64 {
	out := make(map[string]int64, len(accounts))
	for _, a := range accounts {
		out[a.ID] = a.PasswordVersion
	}
	return out
}

func ids(accounts []custos.Account) []string {
	out := make([]string, len(accounts))
	for i, a := range accounts {
		out[i] = a.ID
	}
	return out
}
