package auth

import (
	"context"
	"slices"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/codes"
	"github.com/custos/custos/flow"
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

// verificationState is where an identity verification stands.
type verificationState string

const (
	verificationWaiting verificationState = "waiting" // started; its code (or the device's) not yet given
	verificationDone    verificationState = "done"    // proven: the session's window is open
)

// verificationData is a verification flow's typed state.
type verificationData struct {
	SessionID string `json:"session_id"`
	Method    string `json:"method"`
	CodeID    string `json:"code_id,omitempty"` // the email or SMS code sent for it
}

// verificationFlow is "confirm it's you": one session, one method, each
// code tried counted before it is checked.
var verificationFlow = flow.Machine[verificationState, verificationData]{
	Kind:    custos.FlowVerification,
	Initial: verificationWaiting,
	Edges:   map[verificationState][]verificationState{verificationWaiting: {verificationDone}},
}

// VerificationMethods lists how the account can verify before a sensitive
// change: its code-giving MFA device types, and — unless operation
// protection is on — an SMS code to a bound phone and an email code.
func (s *Service) VerificationMethods(ctx context.Context, acct custos.Account) ([]string, error) {
	return s.d.Guard.Methods(ctx, acct)
}

// Elevated answers like every sensitive change would: nil when the
// session may make one now, verification_required (with the methods)
// otherwise. Pages use it to show "confirm it's you" first; the services
// check on their own.
func (s *Service) Elevated(ctx context.Context, sess custos.Session, firstChannel bool) error {
	return s.d.Guard.RequireElevation(ctx, sess, firstChannel)
}

// StartVerification begins a verification by method for the session; for
// "email" and "sms" it sends a code.
func (s *Service) StartVerification(ctx context.Context, sess custos.Session, method string, c Client) (Verification, error) {
	acct, err := s.d.Store.AccountByID(ctx, sess.AccountID)
	if err != nil {
		return Verification{}, err
	}
	methods, err := s.VerificationMethods(ctx, acct)
	if err != nil {
		return Verification{}, err
	}
	if !slices.Contains(methods, method) {
		return Verification{}, custos.Fail(custos.EMethodNotChosen, "verify.use_one_of", methods).OnField("method").With("methods", methods)
	}
	id, err := custos.NewID(s.d.Rand, "vrf")
	if err != nil {
		return Verification{}, err
	}
	data := verificationData{SessionID: sess.ID, Method: method}
	v := Verification{ID: id, Method: method}
	if method == "email" || method == "sms" {
		channel, to := codeTarget(acct, method)
		sent, err := s.d.Codes.Send(ctx, codes.Request{
			Purpose: custos.PurposeVerification, Message: custos.MsgVerificationCode, Channel: channel, To: to,
			AccountID: acct.ID, Source: c.Addr,
		})
		if err != nil {
			return Verification{}, err
		}
		data.CodeID, v.SentTo = sent.ID, sent.SentTo
	}
	_, err = verificationFlow.Begin(ctx, s.d.Store, s.d.Clock.Now(), flow.Spec[verificationData]{
		ID: id, AccountID: acct.ID, Data: data, MaxAttempts: s.d.Codes.Policy().Attempts, TTL: verificationTTL,
	})
	if err != nil {
		return Verification{}, err
	}
	return v, nil
}

// CompleteVerification proves a started verification and opens the
// session's verification window. Each code is counted before it is
// checked; wrong codes count toward the login lock.
func (s *Service) CompleteVerification(ctx context.Context, sess custos.Session, id, code string, c Client) (time.Time, error) {
	now := s.d.Clock.Now()
	gone := custos.Fail(custos.ENotFound, "verify.gone")
	f, err := verificationFlow.LoadIn(ctx, s.d.Store, id, now, gone, verificationWaiting)
	if err != nil {
		return time.Time{}, err
	}
	if f.Data.SessionID != sess.ID {
		return time.Time{}, gone
	}
	acct, err := s.d.Store.AccountByID(ctx, sess.AccountID)
	if err != nil {
		return time.Time{}, err
	}
	// Counted in the login identifier's series before it is checked, like
	// a second-factor code.
	left, err := verificationFlow.Guess(ctx, s.d.Store, f, now, custos.Fail(custos.EExpired, "verify.used_up"))
	if err != nil {
		return time.Time{}, err
	}
	loginID, err := s.loginIDOf(ctx, acct)
	if err != nil {
		return time.Time{}, err
	}
	counted, err := s.reserveCode(ctx, loginID, now)
	if err != nil {
		return time.Time{}, err
	}
	switch f.Data.Method {
	case "email", "sms":
		err = s.checkSentCode(ctx, f.Data.CodeID, custos.PurposeVerification, code)
	default:
		_, err = s.d.Factors.VerifyCode(ctx, acct.ID, custos.DeviceType(f.Data.Method), code, c)
	}
	if custos.IsCode(err, custos.EInvalidCode) {
		s.codeCounted(ctx, acct, loginID, counted, c)
		return time.Time{}, err.(*custos.Error).With("attempts_left", left)
	}
	s.refund(ctx, s.d.LoginKeys.Counter(loginID), s.cfg.Lockout, now)
	if err != nil {
		return time.Time{}, err
	}
	if err := verificationFlow.Advance(ctx, s.d.Store, &f, verificationDone, now); err != nil {
		return time.Time{}, err
	}
	until := now.Add(s.cfg.VerifiedFor)
	ev, err := s.event(custos.EventVerified, acct.ID, "", c, map[string]string{"method": f.Data.Method})
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
	if acct.IsSubUser() && lowers(acct.Protection, p) {
		// The root set the sub-user's protection; the sub-user may add
		// to it, never take from it (R9).
		return custos.Fail(custos.EForbidden, "subuser.cannot_lower_protection")
	}
	devices, err := s.d.Store.ListDevices(ctx, acct.ID)
	if err != nil {
		return err
	}
	for _, m := range []struct {
		field, method string
		on, codes     bool
	}{
		{"login_method", p.LoginMethod, p.Login, false},
		{"operation_method", p.OperationMethod, p.Operation, true},
	} {
		if err := methodAvailable(acct, devices, m.field, m.method, m.on, m.codes); err != nil {
			return err
		}
	}
	if err := s.d.Guard.RequireElevation(ctx, sess, false); err != nil {
		return err
	}
	ev, err := s.event(custos.EventProtection, acct.ID, "", c, map[string]string{
		"login": boolWord(p.Login), "operation": boolWord(p.Operation),
		"login_method": p.LoginMethod, "operation_method": p.OperationMethod,
		// What it was, for Security activity's "from what to what".
		"login_before": boolWord(acct.Protection.Login), "operation_before": boolWord(acct.Protection.Operation),
		"login_method_before": acct.Protection.LoginMethod, "operation_method_before": acct.Protection.OperationMethod,
	})
	if err != nil {
		return err
	}
	ev.Notify = custos.Notices(acct, custos.MsgProtectionChanged, map[string]string{
		"Login": boolWord(p.Login), "Operation": boolWord(p.Operation),
	})
	return s.d.Store.SetProtection(ctx, acct.ID, p, ev)
}

// lowers reports whether next turns off a protection that cur has on, or
// changes the method the root chose for it.
func lowers(cur, next custos.Protection) bool {
	return (cur.Login && (!next.Login || (cur.LoginMethod != "" && next.LoginMethod != cur.LoginMethod))) ||
		(cur.Operation && (!next.Operation || (cur.OperationMethod != "" && next.OperationMethod != cur.OperationMethod)))
}

// ChosenMethods are the account's protection methods as they stand (see
// custos.ChosenMethod): "" when the holder chose none and has no device.
func (s *Service) ChosenMethods(ctx context.Context, acct custos.Account) (login, operation string, err error) {
	devices, err := s.d.Store.ListDevices(ctx, acct.ID)
	if err != nil {
		return "", "", err
	}
	has := len(devices) > 0
	return custos.ChosenMethod(acct.Protection.LoginMethod, has), custos.ChosenMethod(acct.Protection.OperationMethod, has), nil
}

// methodAvailable checks a chosen protection method (field names it) and,
// when its protection is on, that the account has what the method needs:
// an MFA device (a code-giving one for operation protection, codes), a
// bound phone for SMS. No choice ("") with protection on needs a device.
func methodAvailable(acct custos.Account, devices []custos.Device, field, chosen string, on, codes bool) error {
	switch chosen {
	case "", custos.MethodMFA, custos.MethodSMS, custos.MethodEmail:
	default:
		return custos.Fail(custos.EInvalidRequest, "protection.method").OnField(field)
	}
	if chosen == custos.MethodMFA && len(devices) == 0 {
		return custos.Fail(custos.ENoSecondFactor, "protection.no_device").OnField(field)
	}
	if chosen == custos.MethodSMS && acct.Phone == "" {
		return custos.Fail(custos.ENoSecondFactor, "protection.no_phone").OnField(field)
	}
	if !on {
		return nil
	}
	switch custos.ChosenMethod(chosen, len(devices) > 0) {
	case "":
		return custos.Fail(custos.ENoSecondFactor, "protection.no_device")
	case custos.MethodMFA:
		if codes && !hasOTPDevice(devices) {
			return custos.Fail(custos.ENoSecondFactor, "protection.no_code_device")
		}
	}
	return nil
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
	if acct.IsSubUser() {
		return s.changeSubUserPassword(ctx, sess, acct, newPassword, c)
	}
	if err := password.Check(newPassword, acct.Email); err != nil {
		return err
	}
	if err := s.d.Guard.RequireElevation(ctx, sess, false); err != nil {
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
	ev.Notify = custos.Notices(acct, custos.MsgPasswordChanged, map[string]string{})
	return s.d.Store.ResetPassword(ctx, acct.ID, hash, s.d.LoginKeys.Counter(acct.LoginID()), ev)
}
