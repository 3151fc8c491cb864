package staff

import (
	"context"
	"errors"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/flow"
	"github.com/custos/custos/lockout"
	"github.com/custos/custos/otp"
)

// maxPasswordBytes bounds what a login will hash (as for accounts).
const maxPasswordBytes = 4 * 128

// The login flow: a right password waits for its code.
type loginState string

const (
	loginPassword loginState = "password"
	loginDone     loginState = "done"
)

type loginData struct {
	StaffID string `json:"staff_id"`
}

var loginMachine = flow.Machine[loginState, loginData]{
	Kind: custos.FlowStaffLogin, Initial: loginPassword,
	Edges: map[loginState][]loginState{loginPassword: {loginDone}},
}

// loginAttempts is how many codes one login token takes.
const loginAttempts = 5

func invalidCredentials() error {
	return custos.Fail(custos.EInvalidCredentials, "staff.invalid_credentials")
}
func deadLogin() error { return custos.Fail(custos.EUnauthenticated, "staff.login_dead") }

func (s *Service) locked(until time.Time) error {
	return custos.Fail(custos.EAccountLocked, "staff.locked", until.UTC().Format("2006-01-02 15:04 UTC")).With("locked_until", until)
}

// Login checks a staff password and returns a login token for the second
// step; there is no staff session without it. The attempt is counted
// before the password is checked; an unknown, invited or disabled email
// answers like a wrong password, after the same work.
func (s *Service) Login(ctx context.Context, email, pw string, c custos.Client) (string, error) {
	email = custos.NormalizeEmail(email)
	if email == "" || len(email) > 254 || len(pw) > maxPasswordBytes {
		s.d.Hasher.Pace(ctx)
		return "", invalidCredentials()
	}
	now := s.d.Clock.Now()
	key := s.counterKey(email)
	until, err := s.reserve(ctx, key, now)
	if err != nil {
		return "", err
	}
	if !until.IsZero() {
		s.d.Hasher.Pace(ctx)
		return "", s.locked(until)
	}
	st, err := s.d.Store.StaffByEmail(ctx, email)
	switch {
	case custos.IsCode(err, custos.ENotFound) || (err == nil && st.State != custos.StaffActive):
		if err := s.d.Hasher.VerifyDummy(ctx, pw); err != nil {
			return "", err
		}
		return "", s.failed(ctx, st, email, "password", c)
	case err != nil:
		s.refund(ctx, key, now)
		return "", err
	}
	ok, _, err := s.d.Hasher.Verify(ctx, pw, st.PasswordHash)
	if err != nil {
		s.refund(ctx, key, now)
		return "", err
	}
	if !ok {
		return "", s.failed(ctx, st, email, "password", c)
	}
	s.refund(ctx, key, now)
	token, err := custos.NewToken(s.d.Rand)
	if err != nil {
		return "", err
	}
	if _, err := loginMachine.Begin(ctx, s.d.Store, now, flow.Spec[loginData]{
		ID: custos.SecretID(token), AccountID: st.ID, Data: loginData{StaffID: st.ID},
		MaxAttempts: loginAttempts, TTL: s.cfg.LoginTTL,
	}); err != nil {
		return "", err
	}
	return token, nil
}

// failed records a wrong password or code in the staff audit trail (for a
// known staff member) and answers it.
func (s *Service) failed(ctx context.Context, st custos.Staff, email, what string, c custos.Client) error {
	if st.ID != "" {
		ev, err := s.event(Actor{Client: c, Staff: custos.Staff{ID: st.ID}}, "staff.login_failed", st.ID, s.d.Clock.Now(), map[string]string{"step": what})
		if err == nil {
			err = s.d.Store.AppendStaffEvent(ctx, ev)
		}
		if err != nil {
			s.d.Logger.WarnContext(ctx, "writing a staff login failure failed", "err", err)
		}
	}
	if what == "code" {
		return custos.Fail(custos.EInvalidCode, "").OnField("code")
	}
	return invalidCredentials()
}

// SecondFactor checks the authenticator code of a login token and opens a
// staff session. Each code is counted before it is checked, against the
// token (5) and against the email's lockout; a code is accepted once.
func (s *Service) SecondFactor(ctx context.Context, loginToken, code string, c custos.Client) (string, custos.StaffSession, error) {
	now := s.d.Clock.Now()
	f, err := loginMachine.LoadIn(ctx, s.d.Store, custos.SecretID(loginToken), now, deadLogin(), loginPassword)
	if err != nil {
		return "", custos.StaffSession{}, err
	}
	st, err := s.d.Store.StaffByID(ctx, f.Data.StaffID)
	if err != nil || st.State != custos.StaffActive {
		return "", custos.StaffSession{}, deadLogin()
	}
	if _, err := loginMachine.Guess(ctx, s.d.Store, f, now, deadLogin()); err != nil {
		return "", custos.StaffSession{}, err
	}
	key := s.counterKey(st.Email)
	until, err := s.reserve(ctx, key, now)
	if err != nil {
		return "", custos.StaffSession{}, err
	}
	if !until.IsZero() {
		return "", custos.StaffSession{}, s.locked(until)
	}
	secret, err := s.d.Keys.Open(st.TOTPSecret, secretAAD(st.ID))
	if err != nil {
		s.refund(ctx, key, now)
		return "", custos.StaffSession{}, err
	}
	step, ok := otp.MatchTOTP(secret, totpParams, code, now, 0, 1, st.TOTPLastStep)
	if !ok {
		return "", custos.StaffSession{}, s.failed(ctx, st, st.Email, "code", c)
	}
	if err := s.d.Store.UseStaffTOTPStep(ctx, st.ID, step); err != nil {
		if custos.IsCode(err, custos.EInvalidCode) {
			return "", custos.StaffSession{}, s.failed(ctx, st, st.Email, "code", c)
		}
		return "", custos.StaffSession{}, err
	}
	if err := loginMachine.Advance(ctx, s.d.Store, &f, loginDone, now); err != nil {
		return "", custos.StaffSession{}, deadLogin()
	}
	s.refund(ctx, key, now)
	token, err := custos.NewToken(s.d.Rand)
	if err != nil {
		return "", custos.StaffSession{}, err
	}
	id, err := custos.NewID(s.d.Rand, "sss")
	if err != nil {
		return "", custos.StaffSession{}, err
	}
	ev, err := s.event(Actor{Staff: st, Client: c}, "staff.login", st.ID, now, map[string]string{"session": id})
	if err != nil {
		return "", custos.StaffSession{}, err
	}
	sess := custos.StaffSession{ID: id, StaffID: st.ID, TokenHash: custos.SecretHash(token), CreatedAt: now,
		LastSeenAt: now, ExpiresAt: now.Add(s.cfg.SessionMax), RemoteAddr: ev.RemoteAddr, UserAgent: ev.UserAgent}
	if err := s.d.Store.CreateStaffSession(ctx, sess, ev); err != nil {
		if custos.IsCode(err, custos.ENotFound) {
			return "", custos.StaffSession{}, deadLogin()
		}
		return "", custos.StaffSession{}, err
	}
	return token, sess, nil
}

// counterKey is the lockout counter of a staff email: a kind of its own,
// so it never meets an account's.
func (s *Service) counterKey(email string) string {
	return s.d.LoginKeys.Counter(custos.LoginID{Kind: custos.LoginStaff, Value: email})
}

// reserve counts one attempt, or returns when the lock ends.
func (s *Service) reserve(ctx context.Context, key string, now time.Time) (time.Time, error) {
	var until time.Time
	_, err := s.d.Store.UpdateCounter(ctx, key, func(cur custos.Counter) (custos.Counter, error) {
		v, next, lockedUntil := s.cfg.Lockout.Reserve(cur, now, true)
		if v != lockout.Allow {
			until = lockedUntil
			return cur, errNotAllowed
		}
		return next, nil
	})
	if errors.Is(err, errNotAllowed) {
		return until, nil
	}
	return time.Time{}, err
}

// refund gives an attempt back (the password or code was right, or never
// checked).
func (s *Service) refund(ctx context.Context, key string, reservedAt time.Time) {
	now := s.d.Clock.Now()
	_, err := s.d.Store.UpdateCounter(context.WithoutCancel(ctx), key, func(cur custos.Counter) (custos.Counter, error) {
		return s.cfg.Lockout.Refund(cur, now, reservedAt), nil
	})
	if err != nil {
		s.d.Logger.WarnContext(ctx, "refunding a staff login attempt failed", "err", err)
	}
}

// Authenticate returns the staff member and session of a staff token;
// EUnauthenticated for anything else (no token, a customer's token, an
// idle, expired or ended session, a disabled member).
func (s *Service) Authenticate(ctx context.Context, token string) (custos.Staff, custos.StaffSession, error) {
	unauth := custos.Fail(custos.EUnauthenticated, "")
	if token == "" || len(token) > 128 {
		return custos.Staff{}, custos.StaffSession{}, unauth
	}
	sess, err := s.d.Store.StaffSessionByTokenHash(ctx, custos.SecretHash(token))
	if custos.IsCode(err, custos.ENotFound) {
		return custos.Staff{}, custos.StaffSession{}, unauth
	}
	if err != nil {
		return custos.Staff{}, custos.StaffSession{}, err
	}
	now := s.d.Clock.Now()
	if !now.Before(sess.ExpiresAt) || !now.Before(sess.LastSeenAt.Add(s.cfg.SessionIdle)) {
		return custos.Staff{}, custos.StaffSession{}, unauth
	}
	st, err := s.d.Store.StaffByID(ctx, sess.StaffID)
	if custos.IsCode(err, custos.ENotFound) || (err == nil && st.State != custos.StaffActive) {
		return custos.Staff{}, custos.StaffSession{}, unauth
	}
	if err != nil {
		return custos.Staff{}, custos.StaffSession{}, err
	}
	// Touch at most every few seconds: the idle limit is minutes.
	if now.Sub(sess.LastSeenAt) >= 5*time.Second {
		if err := s.d.Store.TouchStaffSession(ctx, sess.ID, now); err != nil {
			if custos.IsCode(err, custos.ENotFound) {
				return custos.Staff{}, custos.StaffSession{}, unauth
			}
			return custos.Staff{}, custos.StaffSession{}, err
		}
		sess.LastSeenAt = now
	}
	return st, sess, nil
}

// IdleEnd is when the session ends if it is not used again.
func (s *Service) IdleEnd(sess custos.StaffSession) time.Time {
	idle := sess.LastSeenAt.Add(s.cfg.SessionIdle)
	if idle.Before(sess.ExpiresAt) {
		return idle
	}
	return sess.ExpiresAt
}

// Logout ends a staff session.
func (s *Service) Logout(ctx context.Context, st custos.Staff, sess custos.StaffSession, c custos.Client) error {
	ev, err := s.event(Actor{Staff: st, Client: c}, "staff.logout", st.ID, s.d.Clock.Now(), map[string]string{"session": sess.ID})
	if err != nil {
		return err
	}
	err = s.d.Store.DeleteStaffSession(ctx, sess.ID, ev)
	if custos.IsCode(err, custos.ENotFound) {
		return nil
	}
	return err
}

// Sweep removes ended staff sessions.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	now := s.d.Clock.Now()
	return s.d.Store.DeleteExpiredStaffSessions(ctx, now, now.Add(-s.cfg.SessionIdle))
}
