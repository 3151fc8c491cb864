package mfa

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/flow"
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// ceremonyTTL is how long a begun WebAuthn ceremony waits for its answer.
const ceremonyTTL = 5 * time.Minute

// ceremonyState is where a WebAuthn ceremony stands (its state lives in
// the flows table, so begin and finish may hit different replicas).
type ceremonyState string

const (
	ceremonyBegun ceremonyState = "begun" // options sent to the browser
	ceremonyUsed  ceremonyState = "used"  // the answer was taken, once
)

// Ceremony kinds: a registration's handle never finishes an assertion.
const (
	purposeRegistration = "registration"
	purposeAssertion    = "assertion"
)

var ceremonyFlow = flow.Machine[ceremonyState, ceremony]{
	Kind:    custos.FlowWebAuthn,
	Initial: ceremonyBegun,
	Edges:   map[ceremonyState][]ceremonyState{ceremonyBegun: {ceremonyUsed}},
}

// NewRelyingParty returns the WebAuthn relying party for a public URL, or
// nil when its host is an IP address (WebAuthn needs a host name; security
// keys are then unavailable and say so).
func NewRelyingParty(public *url.URL, displayName string) (*webauthn.WebAuthn, error) {
	host := public.Hostname()
	if net.ParseIP(host) != nil {
		return nil, nil
	}
	return webauthn.New(&webauthn.Config{
		RPID: host, RPDisplayName: displayName,
		RPOrigins: []string{public.Scheme + "://" + public.Host},
	})
}

// SecureContext reports whether browsers allow security keys at the
// public URL: https, or a localhost name over http.
func SecureContext(public *url.URL) bool {
	h := strings.ToLower(public.Hostname())
	return public.Scheme == "https" || h == "localhost" || strings.HasSuffix(h, ".localhost")
}

// WebAuthnReady reports whether security keys can be added and used here
// (a relying party is configured); pages offer them only then.
func (s *Service) WebAuthnReady() bool { return s.d.WebAuthn != nil }

// waUser is an account as go-webauthn sees it.
type waUser struct {
	acct  custos.Account
	creds []webauthn.Credential
	ids   []string // device ids, parallel to creds
}

func (u *waUser) WebAuthnID() []byte                         { return []byte(u.acct.ID) }
func (u *waUser) WebAuthnName() string                       { return u.acct.Email }
func (u *waUser) WebAuthnDisplayName() string                { return u.acct.Email }
func (u *waUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

func (s *Service) waUser(ctx context.Context, accountID string) (*waUser, error) {
	acct, err := s.d.Store.AccountByID(ctx, accountID)
	if err != nil {
		return nil, err
	}
	devices, err := s.d.Store.ListDevices(ctx, accountID)
	if err != nil {
		return nil, err
	}
	u := &waUser{acct: acct}
	for _, d := range devices {
		if d.Type != custos.DeviceWebAuthn {
			continue
		}
		var c webauthn.Credential
		if err := json.Unmarshal(d.Credential, &c); err != nil {
			return nil, err
		}
		u.creds = append(u.creds, c)
		u.ids = append(u.ids, d.ID)
	}
	return u, nil
}

func (s *Service) relyingParty() (*webauthn.WebAuthn, error) {
	if s.d.WebAuthn == nil {
		return nil, custos.Fail(custos.EForbidden, "webauthn.unavailable")
	}
	return s.d.WebAuthn, nil
}

type ceremony struct {
	Purpose string               `json:"purpose"`
	Session webauthn.SessionData `json:"session"`
	Name    string               `json:"name,omitempty"`
}

// saveCeremony keeps a begun ceremony's state and returns its handle.
func (s *Service) saveCeremony(ctx context.Context, purpose, accountID string, c ceremony) (string, error) {
	id, err := custos.NewID(s.d.Rand, "wa")
	if err != nil {
		return "", err
	}
	c.Purpose = purpose
	_, err = ceremonyFlow.Begin(ctx, s.d.Store, s.d.Clock.Now(), flow.Spec[ceremony]{ID: id, AccountID: accountID, Data: c, TTL: ceremonyTTL})
	return id, err
}

// takeCeremony uses up a ceremony of the account, once.
func (s *Service) takeCeremony(ctx context.Context, purpose, accountID, handle string) (ceremony, error) {
	gone := custos.Fail(custos.EExpired, "webauthn.expired")
	now := s.d.Clock.Now()
	f, err := ceremonyFlow.LoadIn(ctx, s.d.Store, handle, now, gone, ceremonyBegun)
	if err != nil {
		return ceremony{}, err
	}
	if f.AccountID() != accountID || f.Data.Purpose != purpose {
		return ceremony{}, gone
	}
	if err := ceremonyFlow.Advance(ctx, s.d.Store, &f, ceremonyUsed, now); err != nil {
		if custos.IsCode(err, custos.EExpired) || custos.IsCode(err, custos.ENotFound) {
			return ceremony{}, gone
		}
		return ceremony{}, err
	}
	return f.Data, nil
}

// BeginWebAuthnRegistration starts adding a security key or passkey; the
// options go to navigator.credentials.create.
func (s *Service) BeginWebAuthnRegistration(ctx context.Context, sess custos.Session, name string) (handle string, options json.RawMessage, err error) {
	if err := s.d.Elevator.RequireElevation(ctx, sess, true); err != nil {
		return "", nil, err
	}
	accountID := sess.AccountID
	rp, err := s.relyingParty()
	if err != nil {
		return "", nil, err
	}
	if name, err = cleanName(name, "Security key"); err != nil {
		return "", nil, err
	}
	u, err := s.waUser(ctx, accountID)
	if err != nil {
		return "", nil, err
	}
	exclude := make([]protocol.CredentialDescriptor, len(u.creds))
	for i, c := range u.creds {
		exclude[i] = c.Descriptor()
	}
	creation, session, err := rp.BeginRegistration(u, webauthn.WithExclusions(exclude),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementPreferred))
	if err != nil {
		return "", nil, err
	}
	if handle, err = s.saveCeremony(ctx, purposeRegistration, accountID, ceremony{Session: *session, Name: name}); err != nil {
		return "", nil, err
	}
	options, err = json.Marshal(creation)
	return handle, options, err
}

// FinishWebAuthnRegistration checks the authenticator's answer and adds it
// as a device.
func (s *Service) FinishWebAuthnRegistration(ctx context.Context, accountID, handle string, answer json.RawMessage, c Client) (string, error) {
	rp, err := s.relyingParty()
	if err != nil {
		return "", err
	}
	cer, err := s.takeCeremony(ctx, purposeRegistration, accountID, handle)
	if err != nil {
		return "", err
	}
	u, err := s.waUser(ctx, accountID)
	if err != nil {
		return "", err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBody(bytes.NewReader(answer))
	if err != nil {
		return "", custos.Fail(custos.EInvalidRequest, "webauthn.answer_unreadable")
	}
	cred, err := rp.CreateCredential(u, cer.Session, parsed)
	if err != nil {
		return "", custos.Fail(custos.EInvalidCode, "webauthn.rejected_again")
	}
	raw, err := json.Marshal(cred)
	if err != nil {
		return "", err
	}
	id, err := custos.NewID(s.d.Rand, "dev")
	if err != nil {
		return "", err
	}
	now := s.d.Clock.Now()
	d := custos.Device{ID: id, AccountID: accountID, Type: custos.DeviceWebAuthn, Name: cer.Name, Credential: raw, CreatedAt: now}
	if err := s.d.Store.CreateDevice(ctx, d); err != nil {
		return "", err
	}
	ev, err := s.event(custos.EventDeviceBound, accountID, c, map[string]string{"device_id": id, "type": string(d.Type), "name": d.Name})
	if err != nil {
		return "", err
	}
	if ev.Notify, err = s.notices(ctx, accountID, custos.MsgDeviceBound, map[string]string{"Name": d.Name, "Kind": "security key"}); err != nil {
		return "", err
	}
	if err := s.d.Store.ConfirmDevice(ctx, accountID, id, 0, now, now.Add(-s.cfg.PendingTTL), ev); err != nil {
		return "", err
	}
	return id, nil
}

// BeginWebAuthnAssertion starts a second-factor check with one of the
// account's security keys; the options go to navigator.credentials.get.
func (s *Service) BeginWebAuthnAssertion(ctx context.Context, accountID string) (handle string, options json.RawMessage, err error) {
	rp, err := s.relyingParty()
	if err != nil {
		return "", nil, err
	}
	u, err := s.waUser(ctx, accountID)
	if err != nil {
		return "", nil, err
	}
	if len(u.creds) == 0 {
		return "", nil, custos.Fail(custos.EInvalidRequest, "secondfactor.no_key")
	}
	assertion, session, err := rp.BeginLogin(u)
	if err != nil {
		return "", nil, err
	}
	if handle, err = s.saveCeremony(ctx, purposeAssertion, accountID, ceremony{Session: *session}); err != nil {
		return "", nil, err
	}
	options, err = json.Marshal(assertion)
	return handle, options, err
}

// FinishWebAuthnAssertion checks a security key's answer (once: the
// ceremony is used up) and records its new sign counter. A wrong or
// replayed answer is EInvalidCode.
func (s *Service) FinishWebAuthnAssertion(ctx context.Context, accountID, handle string, answer json.RawMessage, c Client) (custos.Device, error) {
	rp, err := s.relyingParty()
	if err != nil {
		return custos.Device{}, err
	}
	cer, err := s.takeCeremony(ctx, purposeAssertion, accountID, handle)
	if err != nil {
		return custos.Device{}, err
	}
	u, err := s.waUser(ctx, accountID)
	if err != nil {
		return custos.Device{}, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBody(bytes.NewReader(answer))
	if err != nil {
		return custos.Device{}, custos.Fail(custos.EInvalidCode, "webauthn.answer_unreadable")
	}
	cred, err := rp.ValidateLogin(u, cer.Session, parsed)
	if err != nil {
		return custos.Device{}, custos.Fail(custos.EInvalidCode, "webauthn.rejected")
	}
	if cred.Authenticator.CloneWarning {
		ev, err := s.event(custos.EventCodeReplayed, accountID, c, map[string]string{"type": "webauthn", "reason": "sign counter went back"})
		if err == nil {
			err = s.d.Store.AppendAudit(ctx, ev)
		}
		if err != nil {
			// The refusal below stands either way; the warning must not vanish.
			return custos.Device{}, err
		}
		return custos.Device{}, custos.Fail(custos.EInvalidCode, "webauthn.cloned")
	}
	for i, known := range u.creds {
		if !bytes.Equal(known.ID, cred.ID) {
			continue
		}
		raw, err := json.Marshal(cred)
		if err != nil {
			return custos.Device{}, err
		}
		if err := s.d.Store.UpdateCredential(ctx, u.ids[i], raw, s.d.Clock.Now()); err != nil {
			return custos.Device{}, err
		}
		return s.d.Store.DeviceByID(ctx, accountID, u.ids[i])
	}
	return custos.Device{}, custos.Fail(custos.EInvalidCode, "webauthn.not_yours")
}
