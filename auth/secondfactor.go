package auth

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/codes"
	"github.com/custos/custos/flow"
	"github.com/custos/custos/lockout"
)

// loginTokenTTL is how long a right password waits for its second factor.
const loginTokenTTL = 5 * time.Minute

// trustedDeviceTTL is how long "trust this device" skips the second step.
const trustedDeviceTTL = 7 * 24 * time.Hour

// secondFactorAttempts is how many codes one login token takes.
const secondFactorAttempts = 5

// loginState is where a login waiting for its second factor stands.
type loginState string

const (
	loginPasswordOK loginState = "password_ok" // the password was right; no code sent
	loginCodeSent   loginState = "code_sent"   // an email or SMS code is on its way
	loginDone       loginState = "done"        // a session was opened
	// A sub-user's login that owes a step before its session (NextBindMFA,
	// NextChangePassword).
	loginBindMFA        loginState = NextBindMFA
	loginChangePassword loginState = NextChangePassword
)

// loginData is a login flow's typed state.
type loginData struct {
	Identifier custos.LoginID `json:"identifier"`
	Methods    []string       `json:"methods"`
	CodeID     string         `json:"code_id,omitempty"` // the email or SMS code, once sent
	// PasswordVersion is the account's password version the password was
	// checked against: the session opens under it, so a password change
	// or reset committed after the check, even one that came before this
	// flow was stored (and so could not delete it), refuses the session.
	PasswordVersion int64 `json:"password_version,omitempty"`
	// SecondFactor records that the login passed one before a step it
	// owed; DeviceID is the authenticator being bound (NextBindMFA).
	SecondFactor bool   `json:"second_factor,omitempty"`
	DeviceID     string `json:"device_id,omitempty"`
	// DeviceKey is the known-devices key of the browser and network the
	// password came from (a MAC, no secret), remembered once the session
	// opens.
	DeviceKey string `json:"device_key,omitempty"`
}

// loginFlow is the second step of a login under login protection. Its id
// is the login token's SecretID; each code tried is counted on it before
// it is checked.
var loginFlow = flow.Machine[loginState, loginData]{
	Kind:    custos.FlowLogin,
	Initial: loginPasswordOK,
	Edges: map[loginState][]loginState{
		loginPasswordOK:     {loginCodeSent, loginDone, loginBindMFA, loginChangePassword},
		loginCodeSent:       {loginDone, loginBindMFA, loginChangePassword},
		loginBindMFA:        {loginBindMFA, loginChangePassword, loginDone},
		loginChangePassword: {loginDone},
	},
}

// beginSecondFactor answers a right password on an account with login
// protection: a single-use login token and the methods that can finish.
func (s *Service) beginSecondFactor(ctx context.Context, acct custos.Account, id custos.LoginID, devKey string) (LoginResult, error) {
	methods, err := s.SecondFactorMethods(ctx, acct)
	if err != nil {
		return LoginResult{}, err
	}
	token, err := custos.NewToken(s.d.Rand)
	if err != nil {
		return LoginResult{}, err
	}
	_, err = loginFlow.Begin(ctx, s.d.Store, s.d.Clock.Now(), flow.Spec[loginData]{
		ID: custos.SecretID(token), AccountID: acct.ID,
		Data:        loginData{Identifier: id, Methods: methods, PasswordVersion: acct.PasswordVersion, DeviceKey: devKey},
		MaxAttempts: secondFactorAttempts, TTL: loginTokenTTL,
	})
	if err != nil {
		return LoginResult{}, err
	}
	return LoginResult{Next: "second_factor", LoginToken: token, Methods: methods}, nil
}

// SecondFactorMethods lists how the account passes the second step of
// login, as the holder chose (R8): its MFA device types and recovery codes
// for MethodMFA (the default once a device is bound), a code by SMS to the
// bound phone for MethodSMS, an email code for MethodEmail. Nothing else is
// offered or accepted, so the step cannot be downgraded to a weaker
// channel.
func (s *Service) SecondFactorMethods(ctx context.Context, acct custos.Account) ([]string, error) {
	devices, err := s.d.Factors.Methods(ctx, acct.ID)
	if err != nil {
		return nil, err
	}
	switch custos.ChosenMethod(acct.Protection.LoginMethod, len(devices) > 0) {
	case custos.MethodMFA:
		return devices, nil
	case custos.MethodSMS:
		if acct.Phone != "" {
			return []string{"sms"}, nil
		}
		return []string{"email"}, nil // the phone was unbound since: the account email still reaches the holder
	case custos.MethodEmail:
		return []string{"email"}, nil
	}
	methods := devices
	if acct.Phone != "" {
		methods = append(methods, "sms")
	}
	if !emailReaches(acct) {
		return methods, nil
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
	f, err := s.loginToken(ctx, loginToken)
	if err != nil {
		return "", nil, err
	}
	if !slices.Contains(f.Data.Methods, "webauthn") {
		return "", nil, custos.Fail(custos.EMethodNotChosen, "secondfactor.use_one_of", f.Data.Methods).OnField("method").With("methods", f.Data.Methods)
	}
	return s.d.Factors.BeginWebAuthnAssertion(ctx, f.AccountID())
}

// loginToken loads the live login flow a token names.
func (s *Service) loginToken(ctx context.Context, token string) (flow.Flow[loginState, loginData], error) {
	expired := custos.Fail(custos.EExpired, "secondfactor.expired")
	if len(token) != 43 {
		return flow.Flow[loginState, loginData]{}, expired
	}
	return loginFlow.LoadIn(ctx, s.d.Store, custos.SecretID(token), s.d.Clock.Now(), expired, loginPasswordOK, loginCodeSent)
}

// SecondFactor checks the second factor of a login token and opens the
// session. The code is counted on the token before it is checked; a
// wrong one answers invalid_code and counts toward the identifier's
// login-security lock; a locked identifier is refused.
func (s *Service) SecondFactor(ctx context.Context, req SecondFactorRequest) (LoginResult, error) {
	f, err := s.loginToken(ctx, req.LoginToken)
	if err != nil {
		return LoginResult{}, err
	}
	if !slices.Contains(f.Data.Methods, req.Method) {
		return LoginResult{}, custos.Fail(custos.EMethodNotChosen, "secondfactor.use_one_of", f.Data.Methods).OnField("method").With("methods", f.Data.Methods)
	}
	acct, err := s.d.Store.AccountByID(ctx, f.AccountID())
	if err != nil {
		return LoginResult{}, err
	}
	now := s.d.Clock.Now()
	// The code is counted on the token, then in the identifier's R4
	// series, both before it is checked: however many login tokens race,
	// no more codes are checked than the series has room for.
	left, err := loginFlow.Guess(ctx, s.d.Store, f, now, custos.Fail(custos.EExpired, "secondfactor.used_up"))
	if err != nil {
		return LoginResult{}, err
	}
	counted, err := s.reserveCode(ctx, f.Data.Identifier, now)
	if err != nil {
		return LoginResult{}, err
	}
	switch req.Method {
	case "totp", "hardware":
		_, err = s.d.Factors.VerifyCode(ctx, acct.ID, custos.DeviceType(req.Method), req.Code, req.Client)
	case "recovery_code":
		err = s.d.Factors.UseRecoveryCode(ctx, acct.ID, req.Code, req.Client)
	case "email", "sms":
		err = s.checkSentCode(ctx, f.Data.CodeID, custos.PurposeLoginCode, req.Code)
	case "webauthn":
		_, err = s.d.Factors.FinishWebAuthnAssertion(ctx, acct.ID, req.AssertionID, req.Credential, req.Client)
	}
	if custos.IsCode(err, custos.EInvalidCode) || custos.IsCode(err, custos.EExpired) {
		return LoginResult{}, s.secondFactorFailed(ctx, left, f.Data.Identifier, acct, counted, req, err)
	}
	// Right, or not checked for another reason: the attempt goes back.
	s.refund(ctx, s.d.LoginKeys.Counter(f.Data.Identifier), s.cfg.Lockout, now)
	if err != nil {
		return LoginResult{}, err
	}
	if step, err := s.pendingStep(ctx, acct); err != nil {
		return LoginResult{}, err
	} else if step != "" {
		return s.beginStep(ctx, acct, f.Data.Identifier, step, &f, req.LoginToken)
	}
	if err := loginFlow.Advance(ctx, s.d.Store, &f, loginDone, now); err != nil {
		// ENotFound: a password change or reset deleted the flow meanwhile.
		if custos.IsCode(err, custos.EExpired) || custos.IsCode(err, custos.ENotFound) {
			return LoginResult{}, custos.Fail(custos.EExpired, "secondfactor.finished")
		}
		return LoginResult{}, err
	}
	// Under the version the password was checked against, not the one read
	// now: a change since then refuses the session (expired, "enter your
	// password again"; see openSession).
	acct.PasswordVersion = f.Data.PasswordVersion
	// A second step by a method that would also verify the holder for a
	// sensitive change (R8's operation method when operation protection
	// is on) counts as that verification: its window opens with the
	// session. A recovery code never does.
	var verifiedUntil time.Time
	if methods, err := s.VerificationMethods(ctx, acct); err != nil {
		return LoginResult{}, err
	} else if slices.Contains(methods, req.Method) {
		verifiedUntil = now.Add(s.cfg.VerifiedFor)
	}
	res, err := s.openVerifiedSession(ctx, acct, true, verifiedUntil, req.Client, nil)
	if err != nil {
		return LoginResult{}, err
	}
	s.rememberDevice(ctx, acct.ID, f.Data.DeviceKey)
	if req.Trust {
		if res.DeviceToken, err = s.trustDevice(ctx, acct.ID, req.Client); err != nil {
			return LoginResult{}, err
		}
	}
	return res, nil
}

// secondFactorFailed records a wrong second-factor code, already counted
// on the login token and in the identifier's login-security series.
func (s *Service) secondFactorFailed(ctx context.Context, left int, id custos.LoginID, acct custos.Account, counted custos.Counter, req SecondFactorRequest, cause error) error {
	s.codeCounted(ctx, acct, id, counted, req.Client)
	ev, err := s.event(custos.EventSecondFailure, acct.ID, id.String(), req.Client, map[string]string{"method": req.Method})
	if err == nil {
		err = s.d.Store.AppendAudit(ctx, ev)
	}
	if err != nil {
		return err
	}
	// A dead code is a wrong answer here too, with its own words.
	out := custos.Fail(custos.EInvalidCode, "code.wrong").OnField("code")
	if ce, ok := cause.(*custos.Error); ok && (ce.Key != "" || ce.Message != "") {
		out = &custos.Error{Code: custos.EInvalidCode, Key: ce.Key, Args: ce.Args, Message: ce.Message, Field: "code"}
	}
	return out.With("attempts_left", left)
}

// reserveCode counts one code attempt in the identifier's R4 series before
// the code is checked, or refuses with account_locked when the series has
// no room left. Codes need no captcha (the password was right, or the
// holder is signed in): only the lock applies.
func (s *Service) reserveCode(ctx context.Context, id custos.LoginID, now time.Time) (custos.Counter, error) {
	v, counted, until, err := s.reserve(ctx, s.d.LoginKeys.Counter(id), s.policyFor(ctx, id), now, true)
	if err != nil {
		return custos.Counter{}, err
	}
	if v == lockout.Locked {
		return custos.Counter{}, custos.Fail(custos.EAccountLocked, "login.locked_codes", until.UTC().Format("2006-01-02 15:04 UTC")).With("locked_until", until)
	}
	return counted, nil
}

// codeCounted tells the holder when a wrong code, counted by reserveCode,
// was the one that locked password login.
func (s *Service) codeCounted(ctx context.Context, acct custos.Account, id custos.LoginID, counted custos.Counter, c Client) {
	if counted.Failures == s.policyFor(ctx, id).LockAfter && !counted.LockedUntil.IsZero() {
		s.locked(ctx, acct, id, counted, c)
	}
}

// SendSecondFactorCode sends a code for a login token (once per login),
// by email or by SMS to the bound phone; it returns where it went, masked.
func (s *Service) SendSecondFactorCode(ctx context.Context, loginToken, method string, c Client) (sentTo string, err error) {
	f, err := s.loginToken(ctx, loginToken)
	if err != nil {
		return "", err
	}
	if method != "email" && method != "sms" {
		return "", custos.Fail(custos.EInvalidRequest, "secondfactor.send_how").OnField("method")
	}
	if !slices.Contains(f.Data.Methods, method) {
		return "", custos.Fail(custos.EMethodNotChosen, "secondfactor.use_one_of", f.Data.Methods).OnField("method").With("methods", f.Data.Methods)
	}
	if f.State != loginPasswordOK {
		return "", custos.Fail(custos.ETooManyRequests, "secondfactor.already_sent")
	}
	acct, err := s.d.Store.AccountByID(ctx, f.AccountID())
	if err != nil {
		return "", err
	}
	channel, to := codeTarget(acct, method)
	sent, err := s.d.Codes.Send(ctx, codes.Request{
		Purpose: custos.PurposeLoginCode, Message: custos.MsgLoginCode, Channel: channel, To: to,
		AccountID: acct.ID, Source: c.Addr,
	})
	if err != nil {
		return "", err
	}
	f.Data.CodeID = sent.ID
	if err := loginFlow.Advance(ctx, s.d.Store, &f, loginCodeSent, s.d.Clock.Now()); err != nil {
		if custos.IsCode(err, custos.EExpired) {
			// Another request sent one first; this code is never accepted.
			return "", custos.Fail(custos.ETooManyRequests, "secondfactor.already_sent")
		}
		return "", err
	}
	return sent.SentTo, nil
}

// checkSentCode proves a code this service sent (codeID "" when none was).
func (s *Service) checkSentCode(ctx context.Context, codeID, purpose, code string) error {
	if codeID == "" {
		return custos.Fail(custos.EInvalidCode, "secondfactor.no_code").OnField("code")
	}
	_, err := s.d.Codes.Check(ctx, codeID, purpose, code)
	return err
}

// trustDevice remembers a device for 7 days; the token goes in a cookie.
func (s *Service) trustDevice(ctx context.Context, accountID string, c Client) (string, error) {
	token, err := custos.NewToken(s.d.Rand)
	if err != nil {
		return "", err
	}
	now := s.d.Clock.Now()
	err = s.d.Store.TrustDevice(ctx, custos.TrustedDevice{
		ID: custos.SecretID(token), AccountID: accountID, CreatedAt: now, ExpiresAt: now.Add(trustedDeviceTTL),
		RemoteAddr: c.Addr, UserAgent: truncate(c.UserAgent, 256),
	})
	return token, err
}

// trusted reports whether a trusted-device token is live for the account.
func (s *Service) trusted(ctx context.Context, accountID, token string) bool {
	if len(token) != 43 {
		return false
	}
	ok, err := s.d.Store.IsTrustedDevice(ctx, custos.SecretID(token), accountID, s.d.Clock.Now())
	if err != nil {
		s.d.Logger.WarnContext(ctx, "reading a trusted device failed", "err", err)
	}
	return ok && err == nil
}
