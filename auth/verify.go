package auth

import (
	"context"
	"encoding/json"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/mfa"
	"github.com/custos/custos/password"
)

// verificationTTL is how long a started verification waits for its code.
const verificationTTL = 10 * time.Minute

// Verification is a started identity verification (operation protection).
type Verification struct {
	ID     string
	Method string
	SentTo string // masked address a code went to; "" for device methods
}

type verificationData struct {
	SessionID string `json:"session_id"`
	Method    string `json:"method"`
}

// VerificationMethods lists how the account can verify before a sensitive
// change: its MFA device types, and — unless operation protection is on —
// an email code.
func (s *Service) VerificationMethods(ctx context.Context, acct custos.Account) ([]string, error) {
	methods, err := s.d.MFA.Methods(ctx, acct.ID)
	if err != nil {
		return nil, err
	}
	out := methods[:0:0]
	for _, m := range methods {
		if m != "recovery_code" && m != "webauthn" {
			out = append(out, m)
		}
	}
	if !acct.Protection.Operation {
		if acct.Phone != "" {
			out = append(out, "sms")
		}
		out = append(out, "email")
	}
	return out, nil
}

// RequireVerification answers 403 verification_required unless the session
// passed a verification recently. With firstChannel, an account that has no
// second channel yet (no MFA device, phone or secure email) may go ahead:
// binding its first one is not held up.
func (s *Service) RequireVerification(ctx context.Context, sess custos.Session, acct custos.Account, firstChannel bool) error {
	if sess.VerifiedUntil.After(s.d.Clock.Now()) {
		return nil
	}
	if firstChannel && acct.Phone == "" && acct.SecureEmail == "" {
		devices, err := s.d.MFA.Devices(ctx, acct.ID)
		if err != nil {
			return err
		}
		if len(devices) == 0 {
			return nil
		}
	}
	methods, err := s.VerificationMethods(ctx, acct)
	if err != nil {
		return err
	}
	return custos.Errorf(custos.EVerificationRequired, "Confirm it's you first.").With("methods", methods)
}

// StartVerification begins a verification by method for the session; for
// "email" it sends a code.
func (s *Service) StartVerification(ctx context.Context, sess custos.Session, method string) (Verification, error) {
	acct, err := s.d.Store.AccountByID(ctx, sess.AccountID)
	if err != nil {
		return Verification{}, err
	}
	methods, err := s.VerificationMethods(ctx, acct)
	if err != nil {
		return Verification{}, err
	}
	if !contains(methods, method) {
		return Verification{}, custos.Errorf(custos.EInvalidRequest, "Verify with one of: %v.", methods).With("field", "method").With("methods", methods)
	}
	id, err := custos.NewID(s.d.Rand, "vrf")
	if err != nil {
		return Verification{}, err
	}
	data, _ := json.Marshal(verificationData{SessionID: sess.ID, Method: method})
	now := s.d.Clock.Now()
	err = s.d.Store.CreateChallenge(ctx, custos.Challenge{
		ID: id, Purpose: custos.PurposeVerification, Target: acct.Email, AccountID: acct.ID, CodeHash: []byte{0},
		Data: data, MaxAttempts: s.cfg.CodeAttempts + 1, CreatedAt: now, ExpiresAt: now.Add(verificationTTL),
	})
	if err != nil {
		return Verification{}, err
	}
	v := Verification{ID: id, Method: method}
	if method == "email" || method == "sms" {
		channel, to := codeTarget(acct, method)
		if v.SentTo, err = s.sendCode(ctx, "vc", id, custos.PurposeVerification, acct.ID, channel, to, custos.MsgVerificationCode); err != nil {
			return Verification{}, err
		}
	}
	return v, nil
}

// CompleteVerification proves a started verification and opens the
// session's verification window. Wrong codes count toward the login lock.
func (s *Service) CompleteVerification(ctx context.Context, sess custos.Session, id, code string, c Client) (time.Time, error) {
	now := s.d.Clock.Now()
	gone := custos.Errorf(custos.ENotFound, "No verification with that id is waiting. Start again.")
	ch, err := s.d.Store.ChallengeByID(ctx, id, custos.PurposeVerification, now)
	if custos.IsCode(err, custos.ENotFound) {
		return time.Time{}, gone
	}
	if err != nil {
		return time.Time{}, err
	}
	var data verificationData
	if json.Unmarshal(ch.Data, &data) != nil || data.SessionID != sess.ID {
		return time.Time{}, gone
	}
	acct, err := s.d.Store.AccountByID(ctx, sess.AccountID)
	if err != nil {
		return time.Time{}, err
	}
	if err := s.checkNotLocked(ctx, acct.Email); err != nil {
		return time.Time{}, err
	}
	left, err := s.reserveAttempt(ctx, ch.ID, custos.PurposeVerification,
		custos.Errorf(custos.EExpired, "Too many codes were tried for this check. Start again."))
	if err != nil {
		return time.Time{}, err
	}
	mc := mfa.Client{Addr: c.Addr, UserAgent: c.UserAgent}
	switch data.Method {
	case "email", "sms":
		err = s.checkSentCode(ctx, "vc", id, code)
	default:
		_, err = s.d.MFA.VerifyCode(ctx, acct.ID, custos.DeviceType(data.Method), code, mc)
	}
	if custos.IsCode(err, custos.EInvalidCode) {
		if cerr := s.countIdentifierFailure(ctx, acct, acct.Email, c); cerr != nil {
			return time.Time{}, cerr
		}
		return time.Time{}, err.(*custos.Error).With("attempts_left", left)
	}
	if err != nil {
		return time.Time{}, err
	}
	if err := s.d.Store.UseChallenge(ctx, ch.ID, custos.PurposeVerification, now); err != nil {
		return time.Time{}, err
	}
	until := now.Add(s.cfg.VerifiedFor)
	ev, err := s.event(custos.EventVerified, acct.ID, "", c, map[string]string{"method": data.Method})
	if err != nil {
		return time.Time{}, err
	}
	if err := s.d.Store.SetSessionVerified(ctx, sess.ID, until, false, ev); err != nil {
		return time.Time{}, err
	}
	return until, nil
}

// SetProtection switches login and operation protection, after a fresh
// verification. Either needs a confirmed MFA device to turn on.
func (s *Service) SetProtection(ctx context.Context, sess custos.Session, p custos.Protection, c Client) error {
	acct, err := s.d.Store.AccountByID(ctx, sess.AccountID)
	if err != nil {
		return err
	}
	if p.Login || p.Operation {
		devices, err := s.d.MFA.Devices(ctx, acct.ID)
		if err != nil {
			return err
		}
		if len(devices) == 0 {
			return custos.Errorf(custos.ENoSecondFactor, "Add an MFA device first: protection needs one to ask for.")
		}
		if p.Operation && !hasOTPDevice(devices) {
			return custos.Errorf(custos.ENoSecondFactor, "Operation protection confirms changes with a code: add an authenticator app or a hardware token first.")
		}
	}
	if err := s.RequireVerification(ctx, sess, acct, false); err != nil {
		return err
	}
	ev, err := s.event(custos.EventProtection, acct.ID, "", c, map[string]string{
		"login": boolWord(p.Login), "operation": boolWord(p.Operation),
	})
	if err != nil {
		return err
	}
	if err := s.d.Store.SetProtection(ctx, acct.ID, p, ev); err != nil {
		return err
	}
	s.notify(ctx, acct, custos.MsgProtectionChanged, map[string]string{
		"Login": boolWord(p.Login), "Operation": boolWord(p.Operation),
	})
	return nil
}

// notify sends a notice to every channel on file; a failure is logged,
// the change already stands.
func (s *Service) notify(ctx context.Context, acct custos.Account, purpose string, data map[string]string) {
	if err := custos.SendToAll(ctx, s.d.Notifier, acct, purpose, data); err != nil {
		s.d.Logger.WarnContext(ctx, "sending a notice failed", "purpose", purpose, "err", err)
	}
}

func boolWord(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// hasOTPDevice reports whether one of devices gives codes (an app or a
// token), which is what confirming a change under operation protection
// takes.
func hasOTPDevice(devices []custos.Device) bool {
	for _, d := range devices {
		if d.Type == custos.DeviceTOTP || d.Type == custos.DeviceHardware {
			return true
		}
	}
	return false
}

// ChangePassword sets a new password after a fresh verification. Like a
// reset, it signs out every device (this one too), forgets trusted devices
// and ends a login-security lock; every channel is told.
func (s *Service) ChangePassword(ctx context.Context, sess custos.Session, newPassword string, c Client) error {
	acct, err := s.d.Store.AccountByID(ctx, sess.AccountID)
	if err != nil {
		return err
	}
	if err := password.Check(newPassword, acct.Email); err != nil {
		return err
	}
	if err := s.RequireVerification(ctx, sess, acct, false); err != nil {
		return err
	}
	hash, err := s.d.Hasher.Hash(ctx, newPassword)
	if err != nil {
		return err
	}
	ev, err := s.event(custos.EventPasswordChange, acct.ID, "", c, nil)
	if err != nil {
		return err
	}
	if err := s.d.Store.ResetPassword(ctx, acct.ID, hash, "id:"+acct.Email, ev); err != nil {
		return err
	}
	s.notify(ctx, acct, custos.MsgPasswordChanged, map[string]string{})
	return nil
}
