package auth

import (
	"context"

	"github.com/custos/custos"
)

func unauthenticated() error {
	return custos.Fail(custos.EUnauthenticated, "session.login")
}

// Authenticate returns the live session a bearer token or cookie names, and
// refreshes its last-seen time when it has gone stale. A session past its
// idle or absolute limit is deleted and answers EUnauthenticated.
func (s *Service) Authenticate(ctx context.Context, token string) (custos.Session, error) {
	if len(token) != 43 {
		return custos.Session{}, unauthenticated()
	}
	sess, err := s.d.Store.SessionByTokenHash(ctx, custos.SecretHash(token))
	if custos.IsCode(err, custos.ENotFound) {
		return custos.Session{}, unauthenticated()
	}
	if err != nil {
		return custos.Session{}, err
	}
	return s.live(ctx, sess)
}

// AuthenticatePrincipal is Authenticate and PrincipalOf of its session,
// from one store read: the session and its account's kind (and a
// sub-user's root and name) come in one lookup.
func (s *Service) AuthenticatePrincipal(ctx context.Context, token string) (custos.Session, Principal, error) {
	if len(token) != 43 {
		return custos.Session{}, Principal{}, unauthenticated()
	}
	sess, owner, err := s.d.Store.SessionWithOwnerByTokenHash(ctx, custos.SecretHash(token))
	if custos.IsCode(err, custos.ENotFound) {
		return custos.Session{}, Principal{}, unauthenticated()
	}
	if err != nil {
		return custos.Session{}, Principal{}, err
	}
	if sess, err = s.live(ctx, sess); err != nil {
		return custos.Session{}, Principal{}, err
	}
	p, err := principal(sess, owner)
	if err != nil {
		return custos.Session{}, Principal{}, err
	}
	return sess, p, nil
}

// live is the rest of Authenticate once the session is read: a session
// past its limits is deleted and refused, and a stale last-seen time is
// refreshed.
func (s *Service) live(ctx context.Context, sess custos.Session) (custos.Session, error) {
	now := s.d.Clock.Now()
	if !now.Before(s.ExpiresAt(sess)) {
		ev, err := s.event(custos.EventSessionExpired, sess.AccountID, "", Client{}, map[string]string{"session_id": sess.ID})
		if err == nil {
			err = s.d.Store.DeleteSession(ctx, sess.AccountID, sess.ID, ev)
		}
		if err != nil && !custos.IsCode(err, custos.ENotFound) {
			s.d.Logger.WarnContext(ctx, "deleting an expired session failed", "session_id", sess.ID, "err", err)
		}
		return custos.Session{}, unauthenticated()
	}
	if now.Sub(sess.LastSeenAt) >= s.cfg.TouchEvery {
		if err := s.d.Store.TouchSession(ctx, sess.ID, now); err != nil {
			if custos.IsCode(err, custos.ENotFound) {
				return custos.Session{}, unauthenticated()
			}
			return custos.Session{}, err
		}
		sess.LastSeenAt = now
	}
	return sess, nil
}

// Logout ends the session itself.
func (s *Service) Logout(ctx context.Context, sess custos.Session, c Client) error {
	ev, err := s.event(custos.EventLogout, sess.AccountID, "", c, map[string]string{"session_id": sess.ID})
	if err != nil {
		return err
	}
	err = s.d.Store.DeleteSession(ctx, sess.AccountID, sess.ID, ev)
	if custos.IsCode(err, custos.ENotFound) {
		return nil // already gone: the goal is met
	}
	return err
}

// Sessions lists the account's live sessions, newest first.
func (s *Service) Sessions(ctx context.Context, accountID string) ([]custos.Session, error) {
	all, err := s.d.Store.ListSessions(ctx, accountID)
	if err != nil {
		return nil, err
	}
	now := s.d.Clock.Now()
	live := all[:0]
	for _, sess := range all {
		if now.Before(s.ExpiresAt(sess)) {
			live = append(live, sess)
		}
	}
	return live, nil
}

// RevokeSession ends one of the account's sessions (from the signed-in
// devices page); ENotFound if it is not one of the account's live sessions.
func (s *Service) RevokeSession(ctx context.Context, accountID, sessionID string, c Client) error {
	ev, err := s.event(custos.EventSessionRevoked, accountID, "", c, map[string]string{"session_id": sessionID})
	if err != nil {
		return err
	}
	err = s.d.Store.DeleteSession(ctx, accountID, sessionID, ev)
	if custos.IsCode(err, custos.ENotFound) {
		return custos.Fail(custos.ENotFound, "session.ended")
	}
	return err
}
