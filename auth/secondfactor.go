package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/lockout"
	"github.com/custos/custos/mfa"
	"github.com/custos/custos/phone"
)

// loginTokenTTL is how long a right password waits for its second factor.
const loginTokenTTL = 5 * time.Minute

// trustedDeviceTTL is how long "trust this device" skips the second step.
const trustedDeviceTTL = 7 * 24 * time.Hour

// secondFactorAttempts is how many wrong codes one login token takes.
const secondFactorAttempts = 5

// reserveAttempt counts one code attempt on a challenge *before* the code is
// checked, so concurrent guesses can never check more codes than the limit.
// Challenges used this way are made with MaxAttempts = limit+1: the last
// slot is for UseChallenge, which needs the challenge still live. It
// returns the guesses left after this one, or EExpired when none was left.
func (s *Service) reserveAttempt(ctx context.Context, id, purpose string, dead *custos.Error) (int, error) {
	left, err := s.d.Store.FailChallenge(ctx, id, purpose, s.d.Clock.Now())
	if custos.IsCode(err, custos.EExpired) || custos.IsCode(err, custos.ENotFound) || (err == nil && left < 1) {
		return 0, dead
	}
	return left - 1, err
}

// loginTokenData is what a login token's challenge keeps.
type loginTokenData struct {
	Identifier string   `json:"identifier"`
	Methods    []string `json:"methods"`
	CodeSent   bool     `json:"code_sent,omitempty"`
}

// secretID is the store id of a bearer secret (login token, trusted-device
// token): its hash, so the store never holds the secret itself.
func secretID(prefix, token string) string {
	h := sha256.Sum256([]byte(token))
	return prefix + "_" + hex.EncodeToString(h[:16])
}

// beginSecondFactor answers a right password on an account with login
// protection: a single-use login token and the methods that can finish.
func (s *Service) beginSecondFactor(ctx context.Context, acct custos.Account, identifier string) (LoginResult, error) {
	methods, err := s.SecondFactorMethods(ctx, acct)
	if err != nil {
		return LoginResult{}, err
	}
	token, err := custos.NewToken(s.d.Rand)
	if err != nil {
		return LoginResult{}, err
	}
	data, _ := json.Marshal(loginTokenData{Identifier: identifier, Methods: methods})
	now := s.d.Clock.Now()
	err = s.d.Store.CreateChallenge(ctx, custos.Challenge{
		ID: secretID("lt", token), Purpose: custos.PurposeLoginToken, Target: identifier, AccountID: acct.ID,
		CodeHash: []byte{0}, Data: data, MaxAttempts: secondFactorAttempts + 1, CreatedAt: now, ExpiresAt: now.Add(loginTokenTTL),
	})
	if err != nil {
		return LoginResult{}, err
	}
	return LoginResult{Next: "second_factor", LoginToken: token, Methods: methods}, nil
}

// SecondFactorMethods lists how the account can pass a second check: its
// MFA device types and recovery codes, and an email code.
func (s *Service) SecondFactorMethods(ctx context.Context, acct custos.Account) ([]string, error) {
	methods, err := s.d.MFA.Methods(ctx, acct.ID)
	if err != nil {
		return nil, err
	}
	if acct.Phone != "" {
		methods = append(methods, "sms")
	}
	return append(methods, "email"), nil
}

// codeTarget is where a code for method ("sms" or "email") goes: the bound
// phone, or the secure email (the account email while there is none).
func codeTarget(acct custos.Account, method string) (channel, to string) {
	if method == "sms" {
		return custos.ChannelSMS, acct.Phone
	}
	if acct.SecureEmail != "" {
		return custos.ChannelEmail, acct.SecureEmail
	}
	return custos.ChannelEmail, acct.Email
}

// SecondFactorRequest finishes a login that needs a second factor.
type SecondFactorRequest struct {
	LoginToken string
	Method     string
	Code       string
	Trust      bool // remember this device for 7 days (the web form's box)
	// AssertionID and Credential answer a WebAuthn second factor (Method
	// "webauthn"), begun with BeginSecondFactorWebAuthn.
	AssertionID string
	Credential  json.RawMessage
	Client      Client
}

// BeginSecondFactorWebAuthn starts a security-key check for a login token.
func (s *Service) BeginSecondFactorWebAuthn(ctx context.Context, loginToken string) (assertionID string, options json.RawMessage, err error) {
	ch, data, err := s.loginToken(ctx, loginToken)
	if err != nil {
		return "", nil, err
	}
	if !contains(data.Methods, "webauthn") {
		return "", nil, custos.Errorf(custos.EInvalidRequest, "This account has no security key.")
	}
	return s.d.MFA.BeginWebAuthnAssertion(ctx, ch.AccountID)
}

func (s *Service) loginToken(ctx context.Context, token string) (custos.Challenge, loginTokenData, error) {
	expired := custos.Errorf(custos.EExpired, "This login has expired. Enter your password again.")
	if len(token) != 43 {
		return custos.Challenge{}, loginTokenData{}, expired
	}
	ch, err := s.d.Store.ChallengeByID(ctx, secretID("lt", token), custos.PurposeLoginToken, s.d.Clock.Now())
	if custos.IsCode(err, custos.ENotFound) {
		return custos.Challenge{}, loginTokenData{}, expired
	}
	if err != nil {
		return custos.Challenge{}, loginTokenData{}, err
	}
	var data loginTokenData
	if err := json.Unmarshal(ch.Data, &data); err != nil {
		return custos.Challenge{}, loginTokenData{}, internal("login token %s: %v", ch.ID, err)
	}
	return ch, data, nil
}

// SecondFactor checks the second factor of a login token and opens the
// session. A wrong code answers 401 invalid_code and counts toward the
// identifier's login-security lock; a locked identifier is refused.
func (s *Service) SecondFactor(ctx context.Context, req SecondFactorRequest) (LoginResult, error) {
	ch, data, err := s.loginToken(ctx, req.LoginToken)
	if err != nil {
		return LoginResult{}, err
	}
	if !contains(data.Methods, req.Method) {
		return LoginResult{}, custos.Errorf(custos.EInvalidRequest, "Use one of: %v.", data.Methods).With("field", "method")
	}
	if err := s.checkNotLocked(ctx, data.Identifier); err != nil {
		return LoginResult{}, err
	}
	acct, err := s.d.Store.AccountByID(ctx, ch.AccountID)
	if err != nil {
		return LoginResult{}, err
	}
	left, err := s.reserveAttempt(ctx, ch.ID, custos.PurposeLoginToken,
		custos.Errorf(custos.EExpired, "Too many codes were tried, or this login has expired. Enter your password again."))
	if err != nil {
		return LoginResult{}, err
	}
	mc := mfa.Client{Addr: req.Client.Addr, UserAgent: req.Client.UserAgent}
	switch req.Method {
	case "totp", "hardware":
		_, err = s.d.MFA.VerifyCode(ctx, acct.ID, custos.DeviceType(req.Method), req.Code, mc)
	case "recovery_code":
		err = s.d.MFA.UseRecoveryCode(ctx, acct.ID, req.Code, mc)
	case "email", "sms":
		err = s.checkSentCode(ctx, "lc", ch.ID, req.Code)
	case "webauthn":
		_, err = s.d.MFA.FinishWebAuthnAssertion(ctx, acct.ID, req.AssertionID, req.Credential, mc)
	}
	if custos.IsCode(err, custos.EInvalidCode) || custos.IsCode(err, custos.EExpired) {
		return LoginResult{}, s.secondFactorFailed(ctx, left, data.Identifier, acct, req, err)
	}
	if err != nil {
		return LoginResult{}, err
	}
	if err := s.d.Store.UseChallenge(ctx, ch.ID, custos.PurposeLoginToken, s.d.Clock.Now()); err != nil {
		if custos.IsCode(err, custos.EExpired) {
			return LoginResult{}, custos.Errorf(custos.EExpired, "This login was already finished or has expired. Enter your password again.")
		}
		return LoginResult{}, err
	}
	res, err := s.openSession(ctx, acct, true, req.Client, nil)
	if err != nil {
		return LoginResult{}, err
	}
	if req.Trust {
		if res.DeviceToken, err = s.trustDevice(ctx, acct.ID); err != nil {
			return LoginResult{}, err
		}
	}
	return res, nil
}

// secondFactorFailed counts a wrong second-factor code (already counted on
// the login token) in the identifier's login-security series.
func (s *Service) secondFactorFailed(ctx context.Context, left int, identifier string, acct custos.Account, req SecondFactorRequest, cause error) error {
	if err := s.countIdentifierFailure(ctx, acct, identifier, req.Client); err != nil {
		return err
	}
	ev, err := s.event(custos.EventSecondFailure, acct.ID, identifier, req.Client, map[string]string{"method": req.Method})
	if err == nil {
		err = s.d.Store.AppendAudit(ctx, ev)
	}
	if err != nil {
		return err
	}
	msg := "That code is not right."
	var ce *custos.Error
	if errors.As(cause, &ce) {
		msg = ce.Message
	}
	return (&custos.Error{Code: custos.EInvalidCode, Message: msg}).With("attempts_left", left)
}

// countIdentifierFailure counts a wrong code like a wrong password, and
// tells the holder when it locked password login.
func (s *Service) countIdentifierFailure(ctx context.Context, acct custos.Account, identifier string, c Client) error {
	now := s.d.Clock.Now()
	counted, err := s.d.Store.UpdateCounter(ctx, "id:"+identifier, func(cur custos.Counter) (custos.Counter, error) {
		return s.cfg.Lockout.Count(cur, now), nil
	})
	if err != nil {
		return err
	}
	if counted.Failures == s.cfg.Lockout.LockAfter && !counted.LockedUntil.IsZero() {
		s.locked(ctx, acct, identifier, counted, c)
	}
	return nil
}

// checkNotLocked refuses when the identifier's password login is locked.
func (s *Service) checkNotLocked(ctx context.Context, identifier string) error {
	c, err := s.d.Store.GetCounter(ctx, "id:"+identifier)
	if err != nil {
		return err
	}
	if v, until := s.cfg.Lockout.Check(c, s.d.Clock.Now(), true); v == lockout.Locked {
		return custos.Errorf(custos.EAccountLocked,
			"Login for this account is paused after too many wrong passwords or codes, until %s.",
			until.UTC().Format("2006-01-02 15:04 UTC")).With("locked_until", until)
	}
	return nil
}

// SendSecondFactorCode emails a code for a login token (once per login).
func (s *Service) SendSecondFactorCode(ctx context.Context, loginToken, method string) (sentTo string, err error) {
	ch, data, err := s.loginToken(ctx, loginToken)
	if err != nil {
		return "", err
	}
	if (method != "email" && method != "sms") || !contains(data.Methods, method) {
		return "", custos.Errorf(custos.EInvalidRequest, "Codes can be sent by email, or by SMS to a bound phone.").With("field", "method")
	}
	acct, err := s.d.Store.AccountByID(ctx, ch.AccountID)
	if err != nil {
		return "", err
	}
	channel, to := codeTarget(acct, method)
	return s.sendCode(ctx, "lc", ch.ID, custos.PurposeLoginCode, acct.ID, channel, to, custos.MsgLoginCode)
}

// sendCode makes a code challenge whose id derives from its owner (a login
// token or a verification) and emails the code. One code per owner: a
// second send answers ETooManyRequests.
func (s *Service) sendCode(ctx context.Context, prefix, owner, purpose, accountID, channel, to, msg string) (string, error) {
	code, err := custos.NewCode(s.d.Rand, 6)
	if err != nil {
		return "", err
	}
	id := prefix + "_" + owner
	now := s.d.Clock.Now()
	err = s.d.Store.CreateChallenge(ctx, custos.Challenge{
		ID: id, Purpose: purpose, Target: to, AccountID: accountID, CodeHash: s.d.CodeMAC([]byte(id + ":" + code)),
		MaxAttempts: s.cfg.CodeAttempts, CreatedAt: now, ExpiresAt: now.Add(s.cfg.CodeTTL),
	})
	if custos.IsCode(err, custos.EConflict) {
		return "", custos.Errorf(custos.ETooManyRequests, "A code was already sent. Check your email, or start again for a new one.")
	}
	if err != nil {
		return "", err
	}
	if err := s.d.Notifier.Send(ctx, custos.Message{Channel: channel, To: to, Purpose: msg, Code: code}); err != nil {
		return "", err
	}
	if channel == custos.ChannelSMS {
		return phone.Mask(to), nil
	}
	return custos.MaskEmail(to), nil
}

// checkSentCode proves the code sent for an owner.
func (s *Service) checkSentCode(ctx context.Context, prefix, owner, code string) error {
	id := prefix + "_" + owner
	purpose := custos.PurposeLoginCode
	if prefix == "vc" {
		purpose = custos.PurposeVerification
	}
	_, err := s.d.Store.ConsumeChallenge(ctx, id, purpose, s.d.CodeMAC([]byte(id+":"+code)), s.d.Clock.Now())
	switch {
	case custos.IsCode(err, custos.ENotFound):
		return custos.Errorf(custos.EInvalidCode, "Ask for a code first.")
	case custos.IsCode(err, custos.EExpired):
		return custos.Errorf(custos.EExpired, "That code has expired or was used up. Start again for a new one.")
	case custos.IsCode(err, custos.EInvalidCode):
		return custos.Errorf(custos.EInvalidCode, "That code is not right. Check the latest email.")
	}
	return err
}

// trustDevice remembers a device for 7 days; the token goes in a cookie.
func (s *Service) trustDevice(ctx context.Context, accountID string) (string, error) {
	token, err := custos.NewToken(s.d.Rand)
	if err != nil {
		return "", err
	}
	now := s.d.Clock.Now()
	err = s.d.Store.CreateChallenge(ctx, custos.Challenge{
		ID: secretID("td", token), Purpose: custos.PurposeTrustedDevice, AccountID: accountID, CodeHash: []byte{0},
		MaxAttempts: 1, CreatedAt: now, ExpiresAt: now.Add(trustedDeviceTTL),
	})
	return token, err
}

// trusted reports whether a trusted-device token is live for the account.
func (s *Service) trusted(ctx context.Context, accountID, token string) bool {
	if len(token) != 43 {
		return false
	}
	ch, err := s.d.Store.ChallengeByID(ctx, secretID("td", token), custos.PurposeTrustedDevice, s.d.Clock.Now())
	return err == nil && ch.AccountID == accountID
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
