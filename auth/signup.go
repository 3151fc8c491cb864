package auth

import (
	"context"

	"github.com/custos/custos"
	"github.com/custos/custos/codes"
	"github.com/custos/custos/flow"
	"github.com/custos/custos/lockout"
	"github.com/custos/custos/password"
)

// signupState is where a sign-up stands.
type signupState string

const (
	signupCodeSent signupState = "code_sent" // the email's code is on its way
	signupDone     signupState = "done"      // proven: the account exists
)

// signupData is what a sign-up keeps until its code is proven. For an
// address that already has an account, PasswordHash is empty and the code
// is a decoy: the flow answers like a real one but can only die.
type signupData struct {
	Email        string             `json:"email"`
	Kind         custos.AccountKind `json:"kind"`
	PasswordHash string             `json:"password_hash,omitempty"`
	CodeID       string             `json:"code_id"`
}

var signupFlow = flow.Machine[signupState, signupData]{
	Kind:    custos.FlowSignup,
	Initial: signupCodeSent,
	// A new code (ResendSignupCode) keeps the sign-up waiting.
	Edges: map[signupState][]signupState{signupCodeSent: {signupCodeSent, signupDone}},
}

// SignupRequest is one sign-up.
type SignupRequest struct {
	Email    string
	Password string
	Kind     custos.AccountKind
	Captcha  *CaptchaAnswer // needed once the client's address has signed up several accounts
	Client   Client
}

// Signup starts an account: it checks the password, hashes it, keeps a
// flow and emails a code. When the address already has an account the
// answer is the same, but that address gets a notice instead of a code and
// the flow can never be proven. Past a few sign-ups an hour from one
// client address, each needs a solved captcha (refused before any work);
// every code counts against the send limits.
func (s *Service) Signup(ctx context.Context, req SignupRequest) (verificationID string, err error) {
	rawEmail, pw, kind, c := req.Email, req.Password, req.Kind, req.Client
	email, err := custos.ValidEmail(rawEmail)
	if err != nil {
		return "", err
	}
	if !kind.Valid() {
		return "", custos.Fail(custos.EInvalidRequest, "signup.kind").OnField("kind")
	}
	if err := password.Check(pw, email); err != nil {
		return "", err
	}
	// Counted once the input is good, before any costly work or message.
	if err := s.signupAllowed(ctx, req); err != nil {
		return "", err
	}
	// Hash before looking the address up, so both answers cost the same.
	hash, err := s.d.Hasher.Hash(ctx, pw)
	if err != nil {
		return "", err
	}
	_, lookupErr := s.d.Store.AccountByEmail(ctx, email)
	exists := lookupErr == nil
	if lookupErr != nil && !custos.IsCode(lookupErr, custos.ENotFound) {
		return "", lookupErr
	}

	id, err := custos.NewID(s.d.Rand, "ver")
	if err != nil {
		return "", err
	}
	data := signupData{Email: email, Kind: kind, PasswordHash: hash}
	if exists {
		// The holder is told, in the decoy's transaction: one write with
		// one message, as for a new address, and no wait for delivery.
		decoy, err := s.d.Codes.Decoy(ctx, codes.Request{
			Purpose: custos.PurposeSignup, Message: custos.MsgSignupCode, Channel: custos.ChannelEmail, To: email, Source: c.Addr,
		}, custos.Message{Channel: custos.ChannelEmail, To: email, Purpose: custos.MsgSignupExists})
		if err != nil {
			return "", err
		}
		data.CodeID = decoy.ID
		data.PasswordHash = ""
	} else {
		sent, err := s.d.Codes.Send(ctx, codes.Request{
			Purpose: custos.PurposeSignup, Message: custos.MsgSignupCode, Channel: custos.ChannelEmail, To: email,
			Source: c.Addr,
		})
		if err != nil {
			return "", err
		}
		data.CodeID = sent.ID
	}
	_, err = signupFlow.Begin(ctx, s.d.Store, s.d.Clock.Now(), flow.Spec[signupData]{ID: id, Data: data, TTL: s.d.Codes.Policy().TTL})
	if err != nil {
		return "", err
	}
	return id, nil
}

// signupAllowed counts a sign-up against the client address's hourly
// series: past SignupSource.CaptchaAfter it needs a solved captcha, past
// LockAfter it is refused for the rest of the hour.
func (s *Service) signupAllowed(ctx context.Context, req SignupRequest) error {
	solved := false
	if req.Captcha != nil {
		var err error
		if solved, err = s.d.Captcha.Solve(ctx, req.Captcha.ID, req.Captcha.Answer); err != nil {
			return err
		}
	}
	now := s.d.Clock.Now()
	v, _, until, err := s.reserve(ctx, "signup:"+sourceKey(req.Client.Addr), s.cfg.SignupSource, now, solved)
	switch {
	case err != nil:
		return err
	case v == lockout.Locked:
		secs := max(int(until.Sub(now).Seconds()+0.999), 1)
		return custos.Fail(custos.ETooManyRequests, "signup.too_many", (secs+59)/60).With("retry_after", secs)
	case v != lockout.Allow:
		return s.captchaRequired(ctx, req.Client, req.Captcha != nil)
	}
	return nil
}

// VerifySignup proves a signup code and creates the account. A wrong code
// answers EInvalidCode; a used, expired, exhausted or unknown verification
// answers EExpired.
func (s *Service) VerifySignup(ctx context.Context, verificationID, code string, c Client) (accountID string, err error) {
	now := s.d.Clock.Now()
	dead := custos.Fail(custos.EExpired, "signup.code_dead")
	f, err := signupFlow.LoadIn(ctx, s.d.Store, verificationID, now, dead, signupCodeSent)
	if err != nil {
		return "", err
	}
	if _, err := s.d.Codes.Check(ctx, f.Data.CodeID, custos.PurposeSignup, code); err != nil {
		if custos.IsCode(err, custos.EExpired) {
			return "", dead
		}
		if custos.IsCode(err, custos.EInvalidCode) {
			return "", custos.Fail(custos.EInvalidCode, "signup.code_wrong").OnField("code")
		}
		return "", err
	}
	if f.Data.PasswordHash == "" {
		return "", internal("signup %s: a decoy code was proven", f.ID())
	}
	if err := signupFlow.Advance(ctx, s.d.Store, &f, signupDone, now); err != nil {
		if custos.IsCode(err, custos.EExpired) {
			return "", dead
		}
		return "", err
	}
	id, err := custos.NewID(s.d.Rand, "acc")
	if err != nil {
		return "", err
	}
	ev, err := s.event(custos.EventSignup, id, f.Data.Email, c, map[string]string{"kind": string(f.Data.Kind)})
	if err != nil {
		return "", err
	}
	acct := custos.Account{ID: id, Kind: f.Data.Kind, Email: f.Data.Email, PasswordHash: f.Data.PasswordHash, CreatedAt: now}
	if err := s.d.Store.CreateAccount(ctx, acct, ev); err != nil {
		if custos.IsCode(err, custos.EEmailTaken) {
			return "", custos.Fail(custos.EEmailTaken, "signup.email_taken")
		}
		return "", err
	}
	return id, nil
}

// ResendSignupCode sends a new code for a sign-up still waiting for one,
// within the send limits (too_many_requests with retry_after during the
// cooldown); the earlier code no longer proves it. For an address that
// already has an account it writes a decoy again, so both answer alike.
// A used, expired or unknown sign-up answers EExpired.
func (s *Service) ResendSignupCode(ctx context.Context, verificationID string, c Client) error {
	now := s.d.Clock.Now()
	dead := custos.Fail(custos.EExpired, "signup.code_dead")
	f, err := signupFlow.LoadIn(ctx, s.d.Store, verificationID, now, dead, signupCodeSent)
	if err != nil {
		return err
	}
	req := codes.Request{
		Purpose: custos.PurposeSignup, Message: custos.MsgSignupCode, Channel: custos.ChannelEmail, To: f.Data.Email, Source: c.Addr,
	}
	var sent codes.Sent
	if f.Data.PasswordHash == "" {
		sent, err = s.d.Codes.Decoy(ctx, req)
	} else {
		sent, err = s.d.Codes.Send(ctx, req)
	}
	if err != nil {
		return err
	}
	f.Data.CodeID = sent.ID
	if err := signupFlow.Advance(ctx, s.d.Store, &f, signupCodeSent, now); err != nil {
		if custos.IsCode(err, custos.EExpired) || custos.IsCode(err, custos.ENotFound) {
			return dead
		}
		return err
	}
	return nil
}
