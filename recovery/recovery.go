package recovery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/binding"
	"github.com/custos/custos/captcha"
	"github.com/custos/custos/mfa"
	"github.com/custos/custos/password"
	"github.com/custos/custos/phone"
	"github.com/custos/custos/sendlimit"
)

// Config is the recovery policy.
type Config struct {
	CodeTTL       time.Duration // life of a code (10 min)
	CodeAttempts  int           // wrong tries that kill a code (5)
	DefaultRegion string
}

// Deps are the service's collaborators.
type Deps struct {
	Store    custos.Store
	Clock    custos.Clock
	Rand     io.Reader
	Notifier custos.Notifier
	Limiter  *sendlimit.Limiter
	Captcha  *captcha.Service
	MFA      *mfa.Service
	Hasher   *password.Hasher
	CodeMAC  func([]byte) []byte
	Logger   *slog.Logger
}

// Service runs the recovery flows.
type Service struct {
	d   Deps
	cfg Config
}

// New returns a Service.
func New(d Deps, cfg Config) *Service {
	if cfg.CodeTTL <= 0 {
		cfg.CodeTTL = 10 * time.Minute
	}
	if cfg.CodeAttempts <= 0 {
		cfg.CodeAttempts = 5
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

// flow is what a retrieval or reset keeps between its steps.
type flow struct {
	AccountIDs []string `json:"account_ids"` // the accounts the proven channel reaches
}

// requireCaptcha solves the captcha of an anonymous flow, or answers
// 401 captcha_required with a fresh one.
func (s *Service) requireCaptcha(ctx context.Context, a *CaptchaAnswer) error {
	if a != nil {
		ok, err := s.d.Captcha.Solve(ctx, a.ID, a.Answer)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
	}
	id, err := s.d.Captcha.Create(ctx)
	if err != nil {
		return err
	}
	msg := "Type the characters in the picture first."
	if a != nil {
		msg = "The picture's characters were not right, or the picture expired. Try this one."
	}
	return custos.Errorf(custos.ECaptchaRequired, "%s", msg).
		With("captcha", map[string]string{"id": id, "image_url": captcha.ImageURL(id)})
}

// StartRetrieve sends a code to a phone number (after a captcha) so its
// holder can see the accounts bound to it. The answer is the same whether
// or not any account uses the number.
func (s *Service) StartRetrieve(ctx context.Context, raw string, ca *CaptchaAnswer, c Client) (string, error) {
	if err := s.requireCaptcha(ctx, ca); err != nil {
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
	return s.sendFlowCode(ctx, custos.PurposeRetrieve, custos.ChannelSMS, p, custos.MsgRetrieveCode, ids(accounts), c)
}

// FinishRetrieve proves the phone's code and lists its accounts.
func (s *Service) FinishRetrieve(ctx context.Context, id, code string, c Client) ([]FoundAccount, error) {
	f, err := s.proveFlow(ctx, custos.PurposeRetrieve, id, code)
	if err != nil {
		return nil, err
	}
	// The proven phone may go on to reset one of these accounts' password.
	if err := s.keepProof(ctx, id, f); err != nil {
		return nil, err
	}
	return s.found(ctx, f.AccountIDs, c)
}

// StartReset begins a password reset by account email or phone (after a
// captcha): a code goes to the account's bound phone (or, by email, to its
// secure email, or account email when it has neither). The answer is the
// same whether or not an account matches.
func (s *Service) StartReset(ctx context.Context, email, rawPhone string, ca *CaptchaAnswer, c Client) (string, error) {
	if err := s.requireCaptcha(ctx, ca); err != nil {
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
		return s.sendFlowCode(ctx, custos.PurposeReset, custos.ChannelSMS, p, custos.MsgResetCode, ids(accounts), c)
	}
	e := custos.NormalizeEmail(email)
	if e == "" || !strings.Contains(e, "@") || len(e) > 254 {
		return "", custos.Errorf(custos.EInvalidEmail, "Enter your account email or your phone number.").With("field", "email")
	}
	acct, err := s.d.Store.AccountByEmail(ctx, e)
	if custos.IsCode(err, custos.ENotFound) {
		// Nobody gets a code, but the answer looks the same; the limits
		// still count, as they would for an account.
		if err := s.d.Limiter.Allow(ctx, custos.MsgResetCode, e, c.Addr); err != nil {
			return "", err
		}
		return s.deadFlow(ctx, custos.PurposeReset, e)
	}
	if err != nil {
		return "", err
	}
	channel, to := custos.ChannelEmail, acct.Email
	switch {
	case acct.Phone != "":
		channel, to = custos.ChannelSMS, acct.Phone
	case acct.SecureEmail != "":
		to = acct.SecureEmail
	}
	return s.sendFlowCode(ctx, custos.PurposeReset, channel, to, custos.MsgResetCode, []string{acct.ID}, c)
}

// FinishResetCode proves a reset's code and lists the accounts it may
// reset (one for a reset by email), with what each needs next.
func (s *Service) FinishResetCode(ctx context.Context, id, code string, c Client) ([]FoundAccount, error) {
	f, err := s.proveFlow(ctx, custos.PurposeReset, id, code)
	if err != nil {
		return nil, err
	}
	if err := s.keepProof(ctx, id, f); err != nil {
		return nil, err
	}
	return s.found(ctx, f.AccountIDs, c)
}

// CompleteReset sets a new password on one of the accounts a proven flow
// (a reset or a retrieval) reaches. An account with MFA also needs an MFA
// or recovery code: SMS alone never skips MFA. The reset ends the
// login-security lock and every session, and tells every channel.
func (s *Service) CompleteReset(ctx context.Context, id, accountID, newPassword, mfaMethod, mfaCode string, c Client) error {
	now := s.d.Clock.Now()
	gone := custos.Errorf(custos.EExpired, "This reset has expired. Start again.")
	proof, err := s.d.Store.ChallengeByID(ctx, proofID(id), custos.PurposeReset, now)
	if custos.IsCode(err, custos.ENotFound) {
		return gone
	}
	if err != nil {
		return err
	}
	var f flow
	if err := json.Unmarshal(proof.Data, &f); err != nil {
		return err
	}
	if !contains(f.AccountIDs, accountID) {
		return custos.Errorf(custos.ENotFound, "That account is not one this reset reaches.")
	}
	acct, err := s.d.Store.AccountByID(ctx, accountID)
	if err != nil {
		return err
	}
	if err := password.Check(newPassword, acct.Email); err != nil {
		return err
	}
	methods, err := s.d.MFA.Methods(ctx, acct.ID)
	if err != nil {
		return err
	}
	if len(methods) > 0 {
		mc := mfa.Client{Addr: c.Addr, UserAgent: c.UserAgent}
		if !contains(methods, mfaMethod) || mfaMethod == "webauthn" {
			return custos.Errorf(custos.EVerificationRequired, "This account has MFA: enter a code from its MFA device or a recovery code too.").
				With("methods", codeMethods(methods))
		}
		// Count the guess before checking it: a proven channel buys a few
		// MFA guesses, never more, however many arrive at once. The proof
		// is made with one more slot than guesses, for the final use.
		left, ferr := s.d.Store.FailChallenge(ctx, proof.ID, custos.PurposeReset, now)
		if custos.IsCode(ferr, custos.EExpired) || custos.IsCode(ferr, custos.ENotFound) || (ferr == nil && left < 1) {
			return gone
		}
		if ferr != nil {
			return ferr
		}
		switch {
		case mfaMethod == "recovery_code":
			err = s.d.MFA.UseRecoveryCode(ctx, acct.ID, mfaCode, mc)
		default:
			_, err = s.d.MFA.VerifyCode(ctx, acct.ID, custos.DeviceType(mfaMethod), mfaCode, mc)
		}
		if custos.IsCode(err, custos.EInvalidCode) {
			return err.(*custos.Error).With("attempts_left", left-1)
		}
		if err != nil {
			return err
		}
	}
	hash, err := s.d.Hasher.Hash(ctx, newPassword)
	if err != nil {
		return err
	}
	if err := s.d.Store.UseChallenge(ctx, proof.ID, custos.PurposeReset, now); err != nil {
		if custos.IsCode(err, custos.EExpired) || custos.IsCode(err, custos.ENotFound) {
			return gone
		}
		return err
	}
	ev, err := s.event(custos.EventPasswordReset, acct.ID, c, nil)
	if err != nil {
		return err
	}
	if err := s.d.Store.ResetPassword(ctx, acct.ID, hash, "id:"+acct.Email, ev); err != nil {
		return err
	}
	s.tellEverywhere(ctx, acct, custos.MsgPasswordReset, map[string]string{})
	return nil
}

// Undo follows an "it wasn't me" link: it ends every session, forgets
// trusted devices and disables password login until a reset.
func (s *Service) Undo(ctx context.Context, token string, c Client) error {
	now := s.d.Clock.Now()
	gone := custos.Errorf(custos.EExpired, "This link has expired or was already used.")
	if len(token) != 43 {
		return gone
	}
	h := sha256.Sum256([]byte(token))
	id := "undo_" + hex.EncodeToString(h[:16])
	ch, err := s.d.Store.ChallengeByID(ctx, id, custos.PurposeUndo, now)
	if custos.IsCode(err, custos.ENotFound) {
		return gone
	}
	if err != nil {
		return err
	}
	if err := s.d.Store.UseChallenge(ctx, id, custos.PurposeUndo, now); err != nil {
		return gone
	}
	acct, err := s.d.Store.AccountByID(ctx, ch.AccountID)
	if err != nil {
		return err
	}
	// Put back what the change replaced, so a hijacker's new number or
	// address cannot receive the reset code.
	var restore binding.Restore
	if len(ch.Data) > 0 {
		if err := json.Unmarshal(ch.Data, &restore); err != nil {
			return err
		}
	}
	detail := map[string]string{}
	if restore.Phone != nil && *restore.Phone != acct.Phone {
		ev, err := s.event(custos.EventPhoneChanged, acct.ID, c, map[string]string{"by": "undo"})
		if err != nil {
			return err
		}
		if err := s.d.Store.SetPhone(ctx, acct.ID, *restore.Phone, 1<<30, ev); err != nil {
			return err
		}
		detail["phone"] = "restored"
		acct.Phone = *restore.Phone
	}
	if restore.Email != "" && restore.Email != acct.Email {
		ev, err := s.event(custos.EventEmailChanged, acct.ID, c, map[string]string{"by": "undo"})
		if err != nil {
			return err
		}
		switch err := s.d.Store.SetAccountEmail(ctx, acct.ID, restore.Email, ev); {
		case err == nil:
			detail["email"] = "restored"
			acct.Email = restore.Email
		case custos.IsCode(err, custos.EEmailTaken):
			detail["email"] = "taken since"
		default:
			return err
		}
	}
	ev, err := s.event(custos.EventUndo, acct.ID, c, detail)
	if err != nil {
		return err
	}
	// "!" can never verify: password login waits for a reset.
	return s.d.Store.ResetPassword(ctx, acct.ID, "!reset-required", "id:"+acct.Email, ev)
}
