package auth

import (
	"context"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/lockout"
)

// maxPasswordBytes bounds what a login will hash. No valid password is
// longer (128 code points of at most 4 bytes), so a longer one is wrong
// without costing a hash.
const maxPasswordBytes = 4 * 128

// CaptchaAnswer is a captcha id and what the person read from it.
type CaptchaAnswer struct {
	ID     string
	Answer string
}

// LoginRequest is one password login attempt.
type LoginRequest struct {
	ID       custos.LoginID // what was typed, normalised (custos.EmailLogin)
	Password string
	Captcha  *CaptchaAnswer // nil when none was sent
	// DeviceToken is a "trust this device" token (the web cookie); a live
	// one for the account skips the second step of login protection.
	DeviceToken string
	// Browser is the browser's random id (the web's long-lived cookie),
	// "" for a client without one: with the network, it tells a new
	// device from a known one.
	Browser string
	Client  Client
}

// LoginResult is a successful login: the bearer token (shown once) and the
// session it opens — or, under login protection, the login token and the
// methods of the second step (Next is "second_factor").
type LoginResult struct {
	Token   string
	Session custos.Session

	Next       string
	LoginToken string
	Methods    []string
	// DeviceToken is set when the person asked to trust this device.
	DeviceToken string
}

// ExpiresAt is when the session ends if it is not used again.
func (s *Service) ExpiresAt(sess custos.Session) time.Time {
	idle := sess.LastSeenAt.Add(s.cfg.SessionIdle)
	if idle.Before(sess.ExpiresAt) {
		return idle
	}
	return sess.ExpiresAt
}

// Login checks a password and opens a session, under the login-security
// rule (R4) for the identifier and the throttle for the client's address.
//
// Each attempt is counted before its password is checked and refunded if
// the password is right, so concurrent attempts on any number of replicas
// never check more passwords than the rule allows. An attempt the rule
// refuses (captcha needed, locked, throttled) is not counted, checks no
// password, and is paced to take as long as one that did. A wrong password
// and an unknown email answer alike.
//
// What a login only reads overlaps: the account is looked up while the
// counters are read and the attempt counted (pendingCheck), and its
// devices are read while the password is computed. So a login waits on
// the database for one read (both its counters) and one write before its
// argon2id, and for the session's transaction after it.
func (s *Service) Login(ctx context.Context, req LoginRequest) (LoginResult, error) {
	id := req.ID
	if id.IsZero() || len(id.Value) > 254 || len(req.Password) > maxPasswordBytes {
		s.d.Hasher.Pace(ctx)
		return LoginResult{}, s.invalidCredentials(false)
	}
	solved := false
	if req.Captcha != nil {
		var err error
		if solved, err = s.d.Captcha.Solve(ctx, req.Captcha.ID, req.Captcha.Answer); err != nil {
			return LoginResult{}, err
		}
	}
	now := s.d.Clock.Now()
	srcKey, idKey := sourceKey(req.Client.Addr), s.d.LoginKeys.Counter(id)
	check := s.beginCheck(ctx, id, req.Password)
	defer check.abandon()

	// The per-address throttle counts only wrong passwords (checked before,
	// counted after): people behind one address log in at once all day,
	// and their attempts in flight must not hold each other up.
	src, cur, err := s.d.Store.GetCounters(ctx, srcKey, idKey)
	if err != nil {
		return LoginResult{}, err
	}
	if v, until := s.cfg.Source.Check(src, now, solved); v != lockout.Allow {
		return LoginResult{}, s.refuse(ctx, v, until, id, req, "source", check)
	}
	// The identifier's rule is exact: the attempt is counted before its
	// password is checked, by one conditional write from the counter as
	// just read (a transaction holding its row when another attempt
	// counted in between).
	policy := s.policyFor(ctx, id)
	v, counted, until, err := s.reserveFrom(ctx, idKey, cur, policy, now, solved)
	if err != nil {
		return LoginResult{}, err
	}
	if v != lockout.Allow {
		return LoginResult{}, s.refuse(ctx, v, until, id, req, "identifier", check)
	}
	check.compute()

	// Counted: what the login reads next is read while the password is
	// computed.
	devKey := s.deviceKey(req.Browser, req.Client.Addr)
	var trusted, recent bool
	var recentErr error
	if acct, err := check.account(); err == nil && acct.ID != "" {
		trusted = s.trusted(ctx, acct.ID, req.DeviceToken)
		recent, recentErr = s.seenRecently(ctx, acct.ID, devKey)
	}
	acct, ok, rehash, err := check.result()
	if err != nil {
		// Nothing was learnt about the password: give the attempt back.
		s.refund(ctx, idKey, s.cfg.Lockout, now)
		return LoginResult{}, err
	}
	if !ok {
		if err := s.countSource(ctx, srcKey); err != nil {
			return LoginResult{}, err
		}
		return LoginResult{}, s.loginFailed(ctx, acct, id, counted, req.Client)
	}
	if rehash {
		s.rehash(ctx, acct, req.Password)
	}
	step := ""
	if acct.IsSubUser() {
		// The root's settings: console login, and a step owed first.
		if _, su, err := s.d.Store.SubUserByID(ctx, acct.ID); err != nil {
			s.refund(ctx, idKey, s.cfg.Lockout, now)
			return LoginResult{}, err
		} else if !su.ConsoleLogin {
			s.refund(ctx, idKey, s.cfg.Lockout, now)
			return LoginResult{}, consoleRefused()
		}
		if step, err = s.pendingStep(ctx, acct); err != nil {
			s.refund(ctx, idKey, s.cfg.Lockout, now)
			return LoginResult{}, err
		}
	}
	// A new device is told to every channel; with the holder's switch on,
	// it needs the second step even without login protection.
	stepNew := !acct.Protection.Login && devKey != "" && acct.NewDeviceStep
	isNew := false
	if err = recentErr; err == nil && !recent {
		isNew, err = s.seeDevice(ctx, acct, devKey, req.Client, (acct.Protection.Login || stepNew) && !trusted)
	}
	if err != nil {
		s.refund(ctx, idKey, s.cfg.Lockout, now)
		return LoginResult{}, err
	}
	if (acct.Protection.Login || (stepNew && isNew)) && !trusted {
		// A sub-user whose only second factor is the authenticator the
		// root reset binds it first (it would be the second factor);
		// with an SMS or email method the second step comes first. A step
		// only the new device asks for is skipped when nothing can pass it.
		skip := false
		if step == NextBindMFA || !acct.Protection.Login {
			methods, err := s.SecondFactorMethods(ctx, acct)
			if err != nil {
				s.refund(ctx, idKey, s.cfg.Lockout, now)
				return LoginResult{}, err
			}
			skip = len(methods) == 0
		}
		if !skip {
			s.refund(ctx, idKey, s.cfg.Lockout, now)
			return s.beginSecondFactor(ctx, acct, id, devKey)
		}
	}
	if step != "" {
		s.refund(ctx, idKey, s.cfg.Lockout, now)
		return s.beginStep(ctx, acct, id, step, nil, "")
	}
	// The attempt is given back in the transaction that opens the session.
	res, err := s.openSession(ctx, acct, false, req.Client, &refundOf{key: idKey, reservedAt: now, counted: counted})
	if err == nil && !recent {
		s.rememberDevice(ctx, acct.ID, devKey)
	}
	return res, err
}

// pendingCheck is one login's password check, begun before its attempt is
// counted: it looks the account up at once, and computes argon2id only
// once told to (compute), after the count. abandon, deferred by the
// login, releases it whatever happened: a check never told to compute
// computes nothing, and one still waiting for a worker gives up its place.
type pendingCheck struct {
	decide   chan bool     // one value: compute or not
	lookedUp chan struct{} // closed once acct and lookupErr are set
	done     chan struct{} // closed once ok, rehash and err are set
	cancel   context.CancelFunc
	once     bool

	acct       custos.Account
	lookupErr  error
	ok, rehash bool
	err        error
}

func (s *Service) beginCheck(ctx context.Context, id custos.LoginID, pw string) *pendingCheck {
	ctx, cancel := context.WithCancel(ctx)
	c := &pendingCheck{decide: make(chan bool, 1), lookedUp: make(chan struct{}), done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(c.done)
		acct, err := s.accountByLogin(ctx, id)
		found := err == nil
		if custos.IsCode(err, custos.ENotFound) {
			acct, err = custos.Account{}, nil
		}
		c.acct, c.lookupErr = acct, err
		close(c.lookedUp)
		if !<-c.decide {
			c.err = errors.New("auth: password check abandoned")
			return
		}
		switch {
		case err != nil:
			c.err = err
		case !found || strings.HasPrefix(acct.PasswordHash, "!"):
			// No account, or password login disabled until a reset ("it
			// wasn't me"): a wrong password's answer after a wrong
			// password's work.
			c.err = s.d.Hasher.VerifyDummy(ctx, pw)
		default:
			c.ok, c.rehash, c.err = s.d.Hasher.Verify(ctx, pw, acct.PasswordHash)
		}
	}()
	return c
}

// compute lets the check compute (once the account is looked up).
func (c *pendingCheck) compute() {
	if !c.once {
		c.once = true
		c.decide <- true
	}
}

// abandon stops a check not yet computing, or not yet given a worker.
func (c *pendingCheck) abandon() {
	if !c.once {
		c.once = true
		c.decide <- false
	}
	c.cancel()
}

// account waits for the lookup: the identifier's account, the zero
// Account when there is none.
func (c *pendingCheck) account() (custos.Account, error) {
	<-c.lookedUp
	return c.acct, c.lookupErr
}

// result waits for the verdict. acct is the zero Account when the
// identifier names none.
func (c *pendingCheck) result() (acct custos.Account, ok, rehash bool, err error) {
	<-c.done
	if c.err != nil {
		return custos.Account{}, false, false, c.err
	}
	return c.acct, c.ok, c.rehash, nil
}

// refundOf names an attempt to give back when a session opens.
type refundOf struct {
	key        string
	reservedAt time.Time
	counted    custos.Counter // the counter as the reservation stored it
}

// accountByLogin returns the account a login identifier names, or
// ENotFound.
func (s *Service) accountByLogin(ctx context.Context, id custos.LoginID) (custos.Account, error) {
	switch id.Kind {
	case custos.LoginEmail:
		return s.d.Store.AccountByEmail(ctx, id.Value)
	case custos.LoginSubUser:
		acct, _, err := s.subUserByLogin(ctx, id)
		return acct, err
	default:
		return custos.Account{}, custos.Errorf(custos.ENotFound, "no account for a %s login", id.Kind)
	}
}

// errNotAllowed aborts a counter update whose attempt the rule refused, so
// nothing is written.
var errNotAllowed = errors.New("attempt not allowed")

// reserve counts one attempt on key if the policy allows it.
func (s *Service) reserve(ctx context.Context, key string, p lockout.Policy, now time.Time, solved bool) (lockout.Verdict, custos.Counter, time.Time, error) {
	var verdict lockout.Verdict
	var until time.Time
	c, err := s.d.Store.UpdateCounter(ctx, key, func(cur custos.Counter) (custos.Counter, error) {
		v, next, lockedUntil := p.Reserve(cur, now, solved)
		verdict, until = v, lockedUntil
		if v != lockout.Allow {
			return cur, errNotAllowed
		}
		return next, nil
	})
	if errors.Is(err, errNotAllowed) {
		return verdict, custos.Counter{}, until, nil
	}
	return verdict, c, until, err
}

// reserveFrom is reserve for a caller that has just read the counter as
// cur: one swap from cur (a single write, no transaction held), and only
// when another attempt changed the counter since, reserve.
func (s *Service) reserveFrom(ctx context.Context, key string, cur custos.Counter, p lockout.Policy, now time.Time, solved bool) (lockout.Verdict, custos.Counter, time.Time, error) {
	v, next, until := p.Reserve(cur, now, solved)
	if v != lockout.Allow {
		return v, custos.Counter{}, until, nil
	}
	stored, swapped, err := s.d.Store.SwapCounter(ctx, key, cur, next)
	if err != nil {
		return v, custos.Counter{}, until, err
	}
	if swapped {
		return v, stored, until, nil
	}
	return s.reserve(ctx, key, p, now, solved)
}

// countSource counts a wrong password against the client's address.
func (s *Service) countSource(ctx context.Context, key string) error {
	now := s.d.Clock.Now()
	_, err := s.d.Store.UpdateCounter(ctx, key, func(cur custos.Counter) (custos.Counter, error) {
		return s.cfg.Source.Count(cur, now), nil
	})
	return err
}

// refund gives back an attempt reserved at reservedAt whose password was
// right (or never checked). A failed refund leaves the attempt counted,
// which errs on the safe side; it is logged.
func (s *Service) refund(ctx context.Context, key string, p lockout.Policy, reservedAt time.Time) {
	now := s.d.Clock.Now()
	_, err := s.d.Store.UpdateCounter(context.WithoutCancel(ctx), key, func(cur custos.Counter) (custos.Counter, error) {
		return p.Refund(cur, now, reservedAt), nil
	})
	if err != nil {
		s.d.Logger.WarnContext(ctx, "refunding a login attempt failed", "err", err)
	}
}

// refuse answers an attempt the rule turned away before its password was
// checked, after pacing it like a checked one. check is the attempt's
// password check, never told to compute: its lookup names the account.
func (s *Service) refuse(ctx context.Context, v lockout.Verdict, until time.Time, id custos.LoginID, req LoginRequest, by string, check *pendingCheck) error {
	if err := s.d.Hasher.Pace(ctx); err != nil {
		return err
	}
	reason := "captcha_required"
	if v == lockout.Locked {
		reason = "locked"
	}
	// The holder's activity shows refused attempts on their account too.
	acct, err := check.account()
	if err != nil {
		return err
	}
	ev, err := s.event(custos.EventLoginRefused, acct.ID, auditIdentifier(acct, id), req.Client, map[string]string{"reason": reason, "by": by})
	if err != nil {
		return err
	}
	if err := s.d.Store.AppendAudit(ctx, ev); err != nil {
		return err
	}
	now := s.d.Clock.Now()
	switch {
	case v == lockout.Locked && by == "source":
		secs := int(until.Sub(now).Seconds() + 0.999)
		return custos.Fail(custos.ETooManyRequests, "login.throttled", (secs+59)/60).With("retry_after", max(secs, 1))
	case v == lockout.Locked:
		return custos.Fail(custos.EAccountLocked, "login.locked", until.UTC().Format("2006-01-02 15:04 UTC")).With("locked_until", until)
	default:
		return s.captchaRequired(ctx, req.Client, req.Captcha != nil)
	}
}

// captchaRequired answers with a fresh captcha to solve.
func (s *Service) captchaRequired(ctx context.Context, c Client, tried bool) error {
	id, err := s.createCaptcha(ctx, c)
	if err != nil {
		return err
	}
	key := "captcha.solve"
	if tried {
		key = "captcha.wrong"
	}
	return custos.Fail(custos.ECaptchaRequired, key).
		With("captcha", map[string]string{"id": id, "image_url": s.d.Captcha.ImageURL(id)})
}

func (s *Service) invalidCredentials(captchaNext bool) error {
	return custos.Fail(custos.EInvalidCredentials, "login.wrong").With("captcha_required", captchaNext)
}

// loginFailed records a wrong password already counted in `counted`, and
// tells the holder when this failure locked the account.
func (s *Service) loginFailed(ctx context.Context, acct custos.Account, id custos.LoginID, counted custos.Counter, c Client) error {
	ev, err := s.event(custos.EventLoginFailure, acct.ID, auditIdentifier(acct, id), c, map[string]string{"reason": "password"})
	if err != nil {
		return err
	}
	if err := s.d.Store.AppendAudit(ctx, ev); err != nil {
		return err
	}
	if !counted.LockedUntil.IsZero() {
		s.locked(ctx, acct, id, counted, c)
	}
	return s.invalidCredentials(s.policyFor(ctx, id).NeedsCaptcha(counted, s.d.Clock.Now()))
}

// policyFor is the R4 policy of an identifier: the product's, or for a
// sub-user its root's lower retry limit when the root set one (the lock
// comes at that failure, and the captcha before it). Refunds are the same
// under either: the window is the product's.
func (s *Service) policyFor(ctx context.Context, id custos.LoginID) lockout.Policy {
	p := s.cfg.Lockout
	if id.Kind != custos.LoginSubUser {
		return p
	}
	root, _, _ := strings.Cut(id.Value, "/")
	rules, err := s.d.Store.PasswordRules(ctx, root)
	if err != nil {
		// The product's limit still holds; log and go on.
		s.d.Logger.WarnContext(ctx, "reading a root's password rules failed", "err", err)
		return p
	}
	if rules.RetryLimit <= 0 || rules.RetryLimit >= p.LockAfter {
		return p
	}
	p.LockAfter = rules.RetryLimit
	if p.CaptchaAfter >= p.LockAfter {
		p.CaptchaAfter = p.LockAfter - 1
	}
	return p
}

// locked records a new lock and, with the record, the notice to the
// holder (when the identifier is an account's). A failure here is logged:
// the lock itself already holds.
func (s *Service) locked(ctx context.Context, acct custos.Account, id custos.LoginID, counted custos.Counter, c Client) {
	ev, err := s.event(custos.EventLoginLocked, acct.ID, auditIdentifier(acct, id), c, map[string]string{
		"locked_until": counted.LockedUntil.UTC().Format(time.RFC3339),
	})
	if err == nil {
		if acct.ID != "" {
			ev.Notify = custos.Notices(acct, custos.MsgAccountLocked, map[string]string{
				"LockedAt":    s.d.Clock.Now().UTC().Format("2006-01-02 15:04 UTC"),
				"LockedUntil": counted.LockedUntil.UTC().Format("2006-01-02 15:04 UTC"),
				"Failures":    strconv.Itoa(counted.Failures),
				// The email advises login protection only to who has it off.
				"LoginProtection": boolWord(acct.Protection.Login),
			})
		}
		err = s.d.Store.AppendAudit(ctx, ev)
	}
	if err != nil {
		s.d.Logger.WarnContext(ctx, "recording a lock failed", "err", err)
	}
}

// Unlock ends the lock and the failure series of a login identifier (a
// staff action, audited with who did it).
func (s *Service) Unlock(ctx context.Context, id custos.LoginID, actor string) error {
	acct, err := s.accountByLogin(ctx, id)
	if err != nil && !custos.IsCode(err, custos.ENotFound) {
		return err
	}
	ev, err := s.event(custos.EventLoginUnlocked, acct.ID, auditIdentifier(acct, id), Client{}, map[string]string{"by": actor})
	if err != nil {
		return err
	}
	return s.d.Store.ResetCounter(ctx, s.d.LoginKeys.Counter(id), ev)
}

// LoginStatus reports whether the identifier's next attempt needs a
// captcha, for the login page to show one before the person types.
func (s *Service) LoginStatus(ctx context.Context, id custos.LoginID) (captchaNeeded bool, lockedUntil time.Time, err error) {
	c, err := s.d.Store.GetCounter(ctx, s.d.LoginKeys.Counter(id))
	if err != nil {
		return false, time.Time{}, err
	}
	now := s.d.Clock.Now()
	p := s.policyFor(ctx, id)
	cur := p.Current(c, now)
	return p.NeedsCaptcha(c, now), cur.LockedUntil, nil
}

// sourceKey is the throttle key of a client address: the address for IPv4,
// its /64 for IPv6 (one subscriber's usual allocation).
func sourceKey(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return "src:" + addr
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return "src:" + p.String()
	}
	return "src:" + a.String()
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

// openSession makes a session under the password version acct was read
// with when its password was checked; with refund, the counted attempt is
// given back in the same transaction (one commit for a successful login).
//
// When the password changed since (a change, reset or freeze committed
// between the check and now), the store refuses the session and nothing is
// written: no session, and no refund. The attempt was counted in a series
// the change already ended (it deletes the lock counter), so it weighs on
// nothing; refunding it into the series begun since could only take a
// count off guesses at the new password. A password login answers as a
// wrong password does (invalid_credentials: the password is no longer
// right); a second factor answers that the login has expired and the
// password is needed again (expired), as for a login token the change
// deleted. The holder's activity records the refusal.
func (s *Service) openSession(ctx context.Context, acct custos.Account, secondFactor bool, c Client, refund *refundOf) (LoginResult, error) {
	return s.openVerifiedSession(ctx, acct, secondFactor, time.Time{}, c, refund)
}

// openVerifiedSession is openSession for a login whose second step was
// also a verification method (verifiedUntil is when that verification's
// window ends; zero: none).
func (s *Service) openVerifiedSession(ctx context.Context, acct custos.Account, secondFactor bool, verifiedUntil time.Time, c Client, refund *refundOf) (LoginResult, error) {
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
		ID: id, TokenHash: custos.SecretHash(token), AccountID: acct.ID,
		CreatedAt: now, AuthenticatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(s.cfg.SessionLifetime), SecondFactor: secondFactor, VerifiedUntil: verifiedUntil,
		RemoteAddr: c.Addr, UserAgent: truncate(c.UserAgent, 256),
		PasswordVersion: acct.PasswordVersion,
	}
	ev, err := s.event(custos.EventLoginSuccess, acct.ID, acct.LoginID().String(), c, map[string]string{"session_id": id})
	if err != nil {
		return LoginResult{}, err
	}
	if refund != nil {
		err = s.d.Store.CreateSessionWithCounter(ctx, sess, ev, refund.key, refund.counted, func(cur custos.Counter) (custos.Counter, error) {
			return s.cfg.Lockout.Refund(cur, now, refund.reservedAt), nil
		})
	} else {
		err = s.d.Store.CreateSession(ctx, sess, ev)
	}
	if custos.IsCode(err, custos.EConflict) {
		// A stale password version (a taken session id or token, the
		// store's other EConflict, cannot happen with random ones).
		s.passwordChanged(ctx, acct, c)
		if secondFactor {
			// The login token was the password's: like any login past its
			// time, it asks for the password again.
			return LoginResult{}, custos.Fail(custos.EExpired, "secondfactor.expired")
		}
		return LoginResult{}, s.invalidCredentials(false)
	}
	if err != nil {
		return LoginResult{}, err
	}
	return LoginResult{Token: token, Session: sess}, nil
}

// passwordChanged records a login refused because the password it checked
// was replaced before its session opened. Best effort: the refusal holds
// whatever happens here.
func (s *Service) passwordChanged(ctx context.Context, acct custos.Account, c Client) {
	ev, err := s.event(custos.EventLoginFailure, acct.ID, acct.LoginID().String(), c, map[string]string{"reason": "password_changed"})
	if err == nil {
		err = s.d.Store.AppendAudit(ctx, ev)
	}
	if err != nil {
		s.d.Logger.WarnContext(ctx, "recording a login the password change ended failed", "err", err)
	}
}
