package auth

import (
	"context"
	"strings"

	"github.com/custos/custos"
	"github.com/custos/custos/flow"
	"github.com/custos/custos/password"
)

// The steps a sub-user's login may owe after the password (and the second
// factor, if any) before it gets a session: binding an authenticator app
// the root requires, changing a password the root reset or that expired.
const (
	NextBindMFA        = "bind_mfa"
	NextChangePassword = "change_password"
)

// subUserByLogin returns the sub-user a LoginSubUser identifier names.
func (s *Service) subUserByLogin(ctx context.Context, id custos.LoginID) (custos.Account, custos.SubUser, error) {
	root, name, ok := strings.Cut(id.Value, "/")
	if !ok || root == "" || name == "" {
		return custos.Account{}, custos.SubUser{}, custos.Fail(custos.ENotFound, "")
	}
	return s.d.Store.SubUserByName(ctx, root, name)
}

// consoleRefused answers a right password of a sub-user whose root turned
// its console login off.
func consoleRefused() error { return custos.Fail(custos.EForbidden, "login.console_off") }

// pendingStep is the step a sub-user's login still owes, or "".
func (s *Service) pendingStep(ctx context.Context, acct custos.Account) (string, error) {
	if !acct.IsSubUser() {
		return "", nil
	}
	_, su, err := s.d.Store.SubUserByID(ctx, acct.ID)
	if err != nil {
		return "", err
	}
	if su.MustBindMFA {
		devices, err := s.d.Factors.Methods(ctx, acct.ID)
		if err != nil {
			return "", err
		}
		if !hasCodeDevice(devices) {
			return NextBindMFA, nil
		}
	}
	if su.MustChangePassword {
		return NextChangePassword, nil
	}
	rules, err := s.d.Store.PasswordRules(ctx, su.RootAccountID)
	if err != nil {
		return "", err
	}
	if rules.MaxAge > 0 && !s.d.Clock.Now().Before(su.PasswordChangedAt.Add(rules.MaxAge)) {
		return NextChangePassword, nil
	}
	return "", nil
}

func hasCodeDevice(methods []string) bool {
	for _, m := range methods {
		if m == "totp" || m == "hardware" || m == "webauthn" {
			return true
		}
	}
	return false
}

// beginStep answers a right password (or second factor) whose sub-user
// owes a step: the login token, in the step's state, and no session. f
// is the login flow when one exists (after a second factor), else nil.
func (s *Service) beginStep(ctx context.Context, acct custos.Account, id custos.LoginID, step string, f *flow.Flow[loginState, loginData], token string) (LoginResult, error) {
	now := s.d.Clock.Now()
	to := loginState(step)
	if f == nil {
		var err error
		token, err = custos.NewToken(s.d.Rand)
		if err != nil {
			return LoginResult{}, err
		}
		nf, err := loginFlow.Begin(ctx, s.d.Store, now, flow.Spec[loginData]{
			ID: custos.SecretID(token), AccountID: acct.ID,
			Data:        loginData{Identifier: id, PasswordVersion: acct.PasswordVersion},
			MaxAttempts: secondFactorAttempts, TTL: loginTokenTTL,
		})
		if err != nil {
			return LoginResult{}, err
		}
		f = &nf
	}
	f.Data.SecondFactor = f.Data.SecondFactor || f.State != loginPasswordOK
	if err := loginFlow.Advance(ctx, s.d.Store, f, to, now); err != nil {
		if custos.IsCode(err, custos.EExpired) || custos.IsCode(err, custos.ENotFound) {
			return LoginResult{}, custos.Fail(custos.EExpired, "secondfactor.finished")
		}
		return LoginResult{}, err
	}
	return LoginResult{Next: step, LoginToken: token}, nil
}

// stepToken loads a login token waiting for step.
func (s *Service) stepToken(ctx context.Context, token string, step loginState) (flow.Flow[loginState, loginData], error) {
	expired := custos.Fail(custos.EExpired, "secondfactor.expired")
	if token == "" || len(token) > 128 {
		return flow.Flow[loginState, loginData]{}, expired
	}
	return loginFlow.LoadIn(ctx, s.d.Store, custos.SecretID(token), s.d.Clock.Now(), expired, step)
}

// BeginBindMFA starts the authenticator app a sub-user must bind before
// the login opens a session (the root required it). Calling it again
// starts a new one.
func (s *Service) BeginBindMFA(ctx context.Context, loginToken string) (custos.TOTPKey, error) {
	f, err := s.stepToken(ctx, loginToken, loginBindMFA)
	if err != nil {
		return custos.TOTPKey{}, err
	}
	key, err := s.d.Factors.BeginTOTPFor(ctx, f.AccountID(), strings.ReplaceAll(f.Data.Identifier.Value, "/", " / "))
	if err != nil {
		return custos.TOTPKey{}, err
	}
	f.Data.DeviceID = key.DeviceID
	if err := loginFlow.Advance(ctx, s.d.Store, &f, loginBindMFA, s.d.Clock.Now()); err != nil {
		return custos.TOTPKey{}, custos.Fail(custos.EExpired, "secondfactor.finished")
	}
	return key, nil
}

// FinishBindMFA proves the new authenticator app with its first code and
// goes on: to a password change the sub-user still owes, or the session.
// The code is counted on the token and in the identifier's R4 series.
func (s *Service) FinishBindMFA(ctx context.Context, loginToken, code string, c Client) (LoginResult, error) {
	f, err := s.stepToken(ctx, loginToken, loginBindMFA)
	if err != nil {
		return LoginResult{}, err
	}
	if f.Data.DeviceID == "" {
		return LoginResult{}, custos.Fail(custos.EConflict, "login.bind_first")
	}
	now := s.d.Clock.Now()
	left, err := loginFlow.Guess(ctx, s.d.Store, f, now, custos.Fail(custos.EExpired, "secondfactor.used_up"))
	if err != nil {
		return LoginResult{}, err
	}
	counted, err := s.reserveCode(ctx, f.Data.Identifier, now)
	if err != nil {
		return LoginResult{}, err
	}
	acct, err := s.d.Store.AccountByID(ctx, f.AccountID())
	if err != nil {
		return LoginResult{}, err
	}
	err = s.d.Factors.ConfirmTOTP(ctx, acct.ID, f.Data.DeviceID, code, c)
	if custos.IsCode(err, custos.EInvalidCode) || custos.IsCode(err, custos.ENotFound) {
		s.codeCounted(ctx, acct, f.Data.Identifier, counted, c)
		e := custos.Fail(custos.EInvalidCode, "code.wrong").OnField("code")
		if left > 0 {
			e = e.With("attempts_left", left-1)
		}
		return LoginResult{}, e
	}
	s.refund(ctx, s.d.LoginKeys.Counter(f.Data.Identifier), s.cfg.Lockout, now)
	if err != nil {
		return LoginResult{}, err
	}
	_, su, err := s.d.Store.SubUserByID(ctx, acct.ID)
	if err != nil {
		return LoginResult{}, err
	}
	su.MustBindMFA = false
	ev, err := s.event("subuser.mfa_bound", acct.ID, f.Data.Identifier.String(), c, nil)
	if err != nil {
		return LoginResult{}, err
	}
	if err := s.d.Store.UpdateSubUser(ctx, su, ev); err != nil {
		return LoginResult{}, err
	}
	return s.afterStep(ctx, acct, f, loginToken, c, true)
}

// afterStep opens the session once nothing more is owed, or moves the
// token on to what is.
func (s *Service) afterStep(ctx context.Context, acct custos.Account, f flow.Flow[loginState, loginData], token string, c Client, secondFactor bool) (LoginResult, error) {
	step, err := s.pendingStep(ctx, acct)
	if err != nil {
		return LoginResult{}, err
	}
	if step != "" && loginState(step) != f.State {
		return s.beginStep(ctx, acct, f.Data.Identifier, step, &f, token)
	}
	if err := loginFlow.Advance(ctx, s.d.Store, &f, loginDone, s.d.Clock.Now()); err != nil {
		return LoginResult{}, custos.Fail(custos.EExpired, "secondfactor.finished")
	}
	acct.PasswordVersion = f.Data.PasswordVersion
	return s.openSession(ctx, acct, secondFactor || f.Data.SecondFactor, c, nil)
}

// loginIDOf is the login identifier of an account: its email, or a
// sub-user's root and user name.
func (s *Service) loginIDOf(ctx context.Context, acct custos.Account) (custos.LoginID, error) {
	if !acct.IsSubUser() {
		return acct.LoginID(), nil
	}
	_, su, err := s.d.Store.SubUserByID(ctx, acct.ID)
	if err != nil {
		return custos.LoginID{}, err
	}
	return custos.SubUserLogin(su.RootAccountID, su.UserName), nil
}

// newSubUserPassword checks a sub-user's new password against its root's
// rules and history and returns its hash and the history to keep.
func (s *Service) newSubUserPassword(ctx context.Context, acct custos.Account, su custos.SubUser, pw string) (string, int, error) {
	rules, err := s.d.Store.PasswordRules(ctx, su.RootAccountID)
	if err != nil {
		return "", 0, err
	}
	if err := password.CheckRules(pw, su.UserName, rules); err != nil {
		return "", 0, err
	}
	// The current password never comes back; with History n, nor does
	// any of the n-1 before it (n passwords in all).
	keep := max(rules.History-1, 0)
	past := []string{acct.PasswordHash}
	if keep > 0 {
		h, err := s.d.Store.PasswordHistory(ctx, acct.ID, keep)
		if err != nil {
			return "", 0, err
		}
		past = append(past, h...)
	}
	for _, old := range past {
		if ok, _, err := s.d.Hasher.Verify(ctx, pw, old); err != nil {
			return "", 0, err
		} else if ok {
			return "", 0, password.Reused(max(rules.History, 1))
		}
	}
	hash, err := s.d.Hasher.Hash(ctx, pw)
	return hash, keep, err
}

// changeSubUserPassword is a sub-user changing their own password from
// Security Settings, after a fresh verification, under the root's rules.
func (s *Service) changeSubUserPassword(ctx context.Context, sess custos.Session, acct custos.Account, pw string, c Client) error {
	_, su, err := s.d.Store.SubUserByID(ctx, acct.ID)
	if err != nil {
		return err
	}
	if err := s.d.Guard.RequireElevation(ctx, sess, false); err != nil {
		return err
	}
	hash, keep, err := s.newSubUserPassword(ctx, acct, su, pw)
	if err != nil {
		return err
	}
	ev, err := s.event(custos.EventPasswordChange, acct.ID, "", c, nil)
	if err != nil {
		return err
	}
	ev.Notify = custos.Notices(acct, custos.MsgPasswordChanged, map[string]string{})
	return s.d.Store.ChangeOwnSubUserPassword(ctx, acct.ID, hash, s.d.Clock.Now(), keep, ev)
}

// ChangePasswordAtLogin sets the new password a sub-user owes (after a
// reset by the root, or when it expired) and opens the session. The root's
// rules apply, and no password of the history may come back.
func (s *Service) ChangePasswordAtLogin(ctx context.Context, loginToken, pw string, c Client) (LoginResult, error) {
	f, err := s.stepToken(ctx, loginToken, loginChangePassword)
	if err != nil {
		return LoginResult{}, err
	}
	acct, su, err := s.d.Store.SubUserByID(ctx, f.AccountID())
	if err != nil {
		return LoginResult{}, err
	}
	hash, keep, err := s.newSubUserPassword(ctx, acct, su, pw)
	if err != nil {
		return LoginResult{}, err
	}
	ev, err := s.event(custos.EventPasswordChange, acct.ID, f.Data.Identifier.String(), c, map[string]string{"at_login": "true"})
	if err != nil {
		return LoginResult{}, err
	}
	ev.Notify = custos.Notices(acct, custos.MsgPasswordChanged, nil)
	if err := s.d.Store.ChangeOwnSubUserPassword(ctx, acct.ID, hash, s.d.Clock.Now(), keep, ev); err != nil {
		return LoginResult{}, err
	}
	if acct, err = s.d.Store.AccountByID(ctx, acct.ID); err != nil {
		return LoginResult{}, err
	}
	// The change ended the account's flows; the session opens under the
	// new password's version.
	f.Data.PasswordVersion = acct.PasswordVersion
	if err := loginFlow.Advance(ctx, s.d.Store, &f, loginDone, s.d.Clock.Now()); err != nil && !custos.IsCode(err, custos.ENotFound) {
		return LoginResult{}, custos.Fail(custos.EExpired, "secondfactor.finished")
	}
	return s.openSession(ctx, acct, f.Data.SecondFactor, c, nil)
}

// Principal says who a session is: a root account, a sub-user (with its
// root and user name), or a collaborator working in a root's account.
type Principal struct {
	Type          string // "root", "sub_user" or "collaborator"
	AccountID     string
	RootAccountID string
	UserName      string
}

// PrincipalOf returns who the session is.
func (s *Service) PrincipalOf(ctx context.Context, sess custos.Session) (Principal, error) {
	acct, err := s.d.Store.AccountByID(ctx, sess.AccountID)
	if err != nil {
		return Principal{}, err
	}
	if sess.ActingRootAccountID != "" {
		return Principal{Type: "collaborator", AccountID: acct.ID, RootAccountID: sess.ActingRootAccountID}, nil
	}
	if !acct.IsSubUser() {
		return Principal{Type: "root", AccountID: acct.ID, RootAccountID: acct.ID}, nil
	}
	_, su, err := s.d.Store.SubUserByID(ctx, acct.ID)
	if err != nil {
		return Principal{}, err
	}
	return Principal{Type: "sub_user", AccountID: acct.ID, RootAccountID: su.RootAccountID, UserName: su.UserName}, nil
}

// principal is PrincipalOf from what SessionWithOwnerByTokenHash read
// with the session; a sub-user without its settings is ENotFound, as
// SubUserByID answers PrincipalOf.
func principal(sess custos.Session, owner custos.SessionOwner) (Principal, error) {
	if sess.ActingRootAccountID != "" {
		return Principal{Type: "collaborator", AccountID: sess.AccountID, RootAccountID: sess.ActingRootAccountID}, nil
	}
	if owner.Kind != custos.KindSubUser {
		return Principal{Type: "root", AccountID: sess.AccountID, RootAccountID: sess.AccountID}, nil
	}
	if owner.RootAccountID == "" {
		return Principal{}, custos.Errorf(custos.ENotFound, "sub-user not found")
	}
	return Principal{Type: "sub_user", AccountID: sess.AccountID, RootAccountID: owner.RootAccountID, UserName: owner.UserName}, nil
}
