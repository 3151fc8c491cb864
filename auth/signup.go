package auth

import (
	"context"
	"encoding/json"
	"net/mail"
	"strings"

	"github.com/custos/custos"
	"github.com/custos/custos/password"
)

// signupData is what a signup challenge keeps until its code is proven.
type signupData struct {
	Kind         custos.AccountKind `json:"kind"`
	PasswordHash string             `json:"password_hash"`
}

// ValidateEmail returns the normalised address or EInvalidEmail.
func ValidateEmail(raw string) (string, error) {
	e := custos.NormalizeEmail(raw)
	bad := custos.Errorf(custos.EInvalidEmail, "Enter an email address like name@example.com.")
	if len(e) < 3 || len(e) > 254 || strings.ContainsAny(e, " <>\"(),;:\\[]") {
		return "", bad
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || a.Name != "" {
		return "", bad
	}
	local, domain, _ := strings.Cut(e, "@")
	if local == "" || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", bad
	}
	return e, nil
}

// Signup starts an account: it checks the password, hashes it, keeps a
// challenge and emails a code. When the address already has an account the
// answer is the same, but that address gets a notice instead of a code and
// the challenge can never be proven.
func (s *Service) Signup(ctx context.Context, rawEmail, pw string, kind custos.AccountKind, c Client) (verificationID string, err error) {
	email, err := ValidateEmail(rawEmail)
	if err != nil {
		return "", err
	}
	if !kind.Valid() {
		return "", custos.Errorf(custos.EInvalidRequest, "kind must be personal or enterprise.").With("field", "kind")
	}
	if err := password.Check(pw, email); err != nil {
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
	code, err := custos.NewCode(s.d.Rand, 6)
	if err != nil {
		return "", err
	}
	codeHash := s.d.CodeMAC([]byte(id + ":" + code))
	data, _ := json.Marshal(signupData{Kind: kind, PasswordHash: hash})
	msg := custos.Message{Channel: custos.ChannelEmail, To: email, Purpose: custos.MsgSignupCode, Code: code}
	if exists {
		// A code nobody knows: this challenge can only die.
		unknown, err := custos.NewToken(s.d.Rand)
		if err != nil {
			return "", err
		}
		codeHash = s.d.CodeMAC([]byte(id + ":" + unknown))
		data = nil
		msg = custos.Message{Channel: custos.ChannelEmail, To: email, Purpose: custos.MsgSignupExists}
	}
	now := s.d.Clock.Now()
	err = s.d.Store.CreateChallenge(ctx, custos.Challenge{
		ID: id, Purpose: custos.PurposeSignup, Target: email, CodeHash: codeHash, Data: data,
		MaxAttempts: s.cfg.CodeAttempts, CreatedAt: now, ExpiresAt: now.Add(s.cfg.CodeTTL),
	})
	if err != nil {
		return "", err
	}
	if err := s.d.Notifier.Send(ctx, msg); err != nil {
		return "", err
	}
	return id, nil
}

// VerifySignup proves a signup code and creates the account. A wrong code
// answers EInvalidCode; a used, expired, exhausted or unknown verification
// answers EExpired.
func (s *Service) VerifySignup(ctx context.Context, verificationID, code string, c Client) (accountID string, err error) {
	now := s.d.Clock.Now()
	ch, err := s.d.Store.ConsumeChallenge(ctx, verificationID, custos.PurposeSignup,
		s.d.CodeMAC([]byte(verificationID+":"+code)), now)
	switch {
	case custos.IsCode(err, custos.ENotFound), custos.IsCode(err, custos.EExpired):
		return "", custos.Errorf(custos.EExpired, "This code has expired or was used up. Sign up again to get a new one.")
	case custos.IsCode(err, custos.EInvalidCode):
		return "", custos.Errorf(custos.EInvalidCode, "That code is not right. Check the latest email and try again.")
	case err != nil:
		return "", err
	}
	var data signupData
	if err := json.Unmarshal(ch.Data, &data); err != nil || data.PasswordHash == "" {
		return "", internal("signup challenge %s has no account data", ch.ID)
	}
	id, err := custos.NewID(s.d.Rand, "acc")
	if err != nil {
		return "", err
	}
	ev, err := s.event(custos.EventSignup, id, ch.Target, c, map[string]string{"kind": string(data.Kind)})
	if err != nil {
		return "", err
	}
	acct := custos.Account{ID: id, Kind: data.Kind, Email: ch.Target, PasswordHash: data.PasswordHash, CreatedAt: now}
	if err := s.d.Store.CreateAccount(ctx, acct, ev); err != nil {
		if custos.IsCode(err, custos.EEmailTaken) {
			return "", custos.Errorf(custos.EEmailTaken, "This email already has an account. Log in instead.")
		}
		return "", err
	}
	return id, nil
}
