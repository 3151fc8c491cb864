package auth

import (
	"context"
	"time"

	"github.com/custos/custos"
)

// maxPasswordBytes bounds what a login will hash. No valid password is
// longer (128 code points of at most 4 bytes), so a longer one is wrong
// without costing a hash.
const maxPasswordBytes = 4 * 128

// LoginRequest is one password login attempt.
type LoginRequest struct {
	Email    string
	Password string
	Client   Client
}

// LoginResult is a successful login: the bearer token (shown once) and the
// session it opens.
type LoginResult struct {
	Token   string
	Session custos.Session
}

// ExpiresAt is when the session ends if it is not used again.
func (s *Service) ExpiresAt(sess custos.Session) time.Time {
	idle := sess.LastSeenAt.Add(s.cfg.SessionIdle)
	if idle.Before(sess.ExpiresAt) {
		return idle
	}
	return sess.ExpiresAt
}

// Login checks a password and opens a session. A wrong password and an
// unknown email answer the same EInvalidCredentials after the same work.
func (s *Service) Login(ctx context.Context, req LoginRequest) (LoginResult, error) {
	identifier := custos.NormalizeEmail(req.Email)
	if identifier == "" || len(identifier) > 254 || len(req.Password) > maxPasswordBytes {
		return LoginResult{}, s.invalidCredentials()
	}
	acct, err := s.d.Store.AccountByEmail(ctx, identifier)
	if custos.IsCode(err, custos.ENotFound) {
		if err := s.d.Hasher.VerifyDummy(ctx, req.Password); err != nil {
			return LoginResult{}, err
		}
		return LoginResult{}, s.loginFailed(ctx, "", identifier, req.Client)
	}
	if err != nil {
		return LoginResult{}, err
	}
	ok, rehash, err := s.d.Hasher.Verify(ctx, req.Password, acct.PasswordHash)
	if err != nil {
		return LoginResult{}, err
	}
	if !ok {
		return LoginResult{}, s.loginFailed(ctx, acct.ID, identifier, req.Client)
	}
	if rehash {
		s.rehash(ctx, acct, req.Password)
	}
	return s.openSession(ctx, acct, false, req.Client)
}

func (s *Service) invalidCredentials() error {
	return custos.Errorf(custos.EInvalidCredentials, "The email or password is not right.").
		With("captcha_required", false)
}

func (s *Service) loginFailed(ctx context.Context, accountID, identifier string, c Client) error {
	ev, err := s.event(custos.EventLoginFailure, accountID, identifier, c, map[string]string{"reason": "password"})
	if err != nil {
		return err
	}
	if err := s.d.Store.AppendAudit(ctx, ev); err != nil {
		return err
	}
	return s.invalidCredentials()
}

// rehash moves a password to the current parameters. It is best effort: a
// failure leaves the old, still valid hash in place.
func (s *Service) rehash(ctx context.Context, acct custos.Account, pw string) {
	hash, err := s.d.Hasher.Hash(ctx, pw)
	if err == nil {
		err = s.d.Store.SetPasswordHash(ctx, acct.ID, acct.PasswordHash, hash)
	}
	if err != nil && !custos.IsCode(err, custos.EConflict) {
		s.d.Logger.WarnContext(ctx, "password rehash failed", "account_id", acct.ID, "err", err)
	}
}

func (s *Service) openSession(ctx context.Context, acct custos.Account, secondFactor bool, c Client) (LoginResult, error) {
	token, err := custos.NewToken(s.d.Rand)
	if err != nil {
		return LoginResult{}, err
	}
	id, err := custos.NewID(s.d.Rand, "ses")
	if err != nil {
		return LoginResult{}, err
	}
	now := s.d.Clock.Now()
	sess := custos.Session{
		ID: id, TokenHash: tokenHash(token), AccountID: acct.ID,
		CreatedAt: now, AuthenticatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(s.cfg.SessionLifetime), SecondFactor: secondFactor,
		RemoteAddr: c.Addr, UserAgent: truncate(c.UserAgent, 256),
	}
	ev, err := s.event(custos.EventLoginSuccess, acct.ID, acct.Email, c, map[string]string{"session_id": id})
	if err != nil {
		return LoginResult{}, err
	}
	if err := s.d.Store.CreateSession(ctx, sess, ev); err != nil {
		return LoginResult{}, err
	}
	return LoginResult{Token: token, Session: sess}, nil
}
