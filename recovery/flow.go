package recovery

import (
	"context"
	"encoding/json"
	"time"

	"github.com/custos/custos"
)

// proofTTL is how long a proven channel may go on to reset a password.
const proofTTL = 15 * time.Minute

// sendFlowCode counts the send against the limits, keeps the flow and sends
// its code to `to`.
func (s *Service) sendFlowCode(ctx context.Context, purpose, channel, to, msg string, accountIDs []string, c Client) (string, error) {
	if err := s.d.Limiter.Allow(ctx, msg, to, c.Addr); err != nil {
		return "", err
	}
	id, err := custos.NewID(s.d.Rand, "rec")
	if err != nil {
		return "", err
	}
	code, err := custos.NewCode(s.d.Rand, 6)
	if err != nil {
		return "", err
	}
	data, _ := json.Marshal(flow{AccountIDs: accountIDs})
	now := s.d.Clock.Now()
	err = s.d.Store.CreateChallenge(ctx, custos.Challenge{
		ID: id, Purpose: purpose, Target: to, CodeHash: s.d.CodeMAC([]byte(id + ":" + code)), Data: data,
		MaxAttempts: s.cfg.CodeAttempts, CreatedAt: now, ExpiresAt: now.Add(s.cfg.CodeTTL),
	})
	if err != nil {
		return "", err
	}
	if err := s.d.Notifier.Send(ctx, custos.Message{Channel: channel, To: to, Purpose: msg, Code: code}); err != nil {
		return "", err
	}
	return id, nil
}

// deadFlow is a flow whose code nobody knows: it answers like a real one
// and can only die.
func (s *Service) deadFlow(ctx context.Context, purpose, to string) (string, error) {
	id, err := custos.NewID(s.d.Rand, "rec")
	if err != nil {
		return "", err
	}
	secret, err := custos.NewToken(s.d.Rand)
	if err != nil {
		return "", err
	}
	now := s.d.Clock.Now()
	return id, s.d.Store.CreateChallenge(ctx, custos.Challenge{
		ID: id, Purpose: purpose, Target: to, CodeHash: s.d.CodeMAC([]byte(id + ":" + secret)), Data: []byte(`{"account_ids":[]}`),
		MaxAttempts: s.cfg.CodeAttempts, CreatedAt: now, ExpiresAt: now.Add(s.cfg.CodeTTL),
	})
}

// proveFlow checks a flow's code.
func (s *Service) proveFlow(ctx context.Context, purpose, id, code string) (flow, error) {
	ch, err := s.d.Store.ConsumeChallenge(ctx, id, purpose, s.d.CodeMAC([]byte(id+":"+code)), s.d.Clock.Now())
	switch {
	case custos.IsCode(err, custos.EInvalidCode):
		return flow{}, custos.Errorf(custos.EInvalidCode, "That code is not right. Check the latest message.")
	case custos.IsCode(err, custos.ENotFound), custos.IsCode(err, custos.EExpired):
		return flow{}, custos.Errorf(custos.EExpired, "This code has expired or was used up. Start again.")
	case err != nil:
		return flow{}, err
	}
	var f flow
	if err := json.Unmarshal(ch.Data, &f); err != nil {
		return flow{}, err
	}
	return f, nil
}

// keepProof remembers, for a while, that the flow's channel was proven, so
// a password reset can follow.
func (s *Service) keepProof(ctx context.Context, id string, f flow) error {
	data, _ := json.Marshal(f)
	now := s.d.Clock.Now()
	return s.d.Store.CreateChallenge(ctx, custos.Challenge{
		ID: proofID(id), Purpose: custos.PurposeReset, CodeHash: []byte{0}, Data: data,
		MaxAttempts: s.cfg.CodeAttempts + 1, CreatedAt: now, ExpiresAt: now.Add(proofTTL),
	})
}

func proofID(flowID string) string { return "proof_" + flowID }

// found describes accounts for whoever proved their channel, and records
// that each was listed.
func (s *Service) found(ctx context.Context, accountIDs []string, c Client) ([]FoundAccount, error) {
	out := []FoundAccount{}
	for _, id := range accountIDs {
		acct, err := s.d.Store.AccountByID(ctx, id)
		if custos.IsCode(err, custos.ENotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		methods, err := s.d.MFA.Methods(ctx, acct.ID)
		if err != nil {
			return nil, err
		}
		codes := codeMethods(methods)
		out = append(out, FoundAccount{
			ID: acct.ID, MaskedEmail: custos.MaskEmail(acct.Email), Kind: acct.Kind, CreatedAt: acct.CreatedAt,
			NeedsMFA: len(methods) > 0, MFAMethods: codes, CanSelfServe: len(methods) == 0 || len(codes) > 0,
		})
		if ev, err := s.event(custos.EventRetrieved, acct.ID, c, nil); err == nil {
			if err := s.d.Store.AppendAudit(ctx, ev); err != nil {
				s.d.Logger.WarnContext(ctx, "auditing a retrieval failed", "err", err)
			}
		}
	}
	return out, nil
}

// tellEverywhere sends a notice to every channel on file.
func (s *Service) tellEverywhere(ctx context.Context, acct custos.Account, purpose string, data map[string]string) {
	if err := custos.SendToAll(ctx, s.d.Notifier, acct, purpose, data); err != nil {
		s.d.Logger.WarnContext(ctx, "sending a notice failed", "purpose", purpose, "err", err)
	}
}

func (s *Service) event(typ, accountID string, c Client, detail map[string]string) (custos.AuditEvent, error) {
	return custos.NewEvent(s.d.Rand, s.d.Clock.Now(), typ, accountID, "", c, detail)
}

// codeMethods keeps the MFA methods a reset form can take as a typed code.
func codeMethods(methods []string) []string {
	var out []string
	for _, m := range methods {
		if m != "webauthn" {
			out = append(out, m)
		}
	}
	return out
}

func ids(accounts []custos.Account) []string {
	out := make([]string, len(accounts))
	for i, a := range accounts {
		out[i] = a.ID
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
