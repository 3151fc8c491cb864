package binding

import (
	"context"
	"slices"
	"strings"

	"github.com/custos/custos"
	"github.com/custos/custos/flow"
)

// undoState is where an "it wasn't me" link stands.
type undoState string

const (
	undoSent undoState = "sent" // the link is on its way to an old channel
	undoUsed undoState = "used" // followed, once
)

// undoData is what an "it wasn't me" link remembers: which contact point
// the change it is about put in place ("phone", "email", "secure_email").
// Links made before this field existed read as "" and freeze every
// channel.
type undoData struct {
	Changed string `json:"changed,omitempty"`
}

// undoFlow is an "it wasn't me" link; its id is the token's SecretID.
var undoFlow = flow.Machine[undoState, undoData]{
	Kind:    custos.FlowUndo,
	Initial: undoSent,
	Edges:   map[undoState][]undoState{undoSent: {undoUsed}},
}

// freezeFlow is an account's freeze (custos.Freeze). It may be frozen
// again (another link followed adds its channel) and is lifted by a
// password reset over a trusted path (package recovery).
var freezeFlow = flow.Machine[string, custos.Freeze]{
	Kind:    custos.FlowFreeze,
	Initial: custos.FreezeFrozen,
	Edges: map[string][]string{
		custos.FreezeFrozen: {custos.FreezeFrozen, custos.FreezeLifted},
		custos.FreezeLifted: {custos.FreezeFrozen},
	},
}

// Undo follows an "it wasn't me" link, which went to the channel a change
// replaced. The link never puts that channel back: whoever holds only the
// old channel (the thief of a lost phone, the next owner of a recycled
// number) must not get in by it. Instead it freezes the account: every
// session and trusted device ends, password login is off until a reset,
// every channel on file is told, and the channel the change put in place
// is marked untrusted, so no reset may rest on it until the holder is
// back in by another way (a channel that was not changed, an MFA device,
// or support).
func (s *Service) Undo(ctx context.Context, token string, c Client) error {
	now := s.d.Clock.Now()
	gone := custos.Fail(custos.EExpired, "undo.gone")
	if len(token) != 43 {
		return gone
	}
	f, err := undoFlow.LoadIn(ctx, s.d.Store, custos.SecretID(token), now, gone, undoSent)
	if err != nil {
		return err
	}
	if err := undoFlow.Advance(ctx, s.d.Store, &f, undoUsed, now); err != nil {
		if custos.IsCode(err, custos.EExpired) {
			return gone
		}
		return err
	}
	acct, err := s.d.Store.AccountByID(ctx, f.AccountID())
	if err != nil {
		return err
	}
	untrusted := []string{f.Data.Changed}
	if f.Data.Changed == "" {
		untrusted = []string{phoneKind.name, emailKind.name, secureEmailKind.name}
	}
	if err := s.freeze(ctx, acct.ID, untrusted); err != nil {
		return err
	}
	ev, err := s.event(custos.EventUndo, acct.ID, c, map[string]string{"frozen": strings.Join(untrusted, ",")})
	if err != nil {
		return err
	}
	ev.Notify = custos.Notices(acct, custos.MsgAccountFrozen, map[string]string{})
	// "!" can never verify: password login waits for a reset.
	return s.d.Store.ResetPassword(ctx, acct.ID, "!reset-required", s.d.LoginKeys.Counter(acct.LoginID()), ev)
}

// freeze marks channels untrusted on the account's freeze, making one or
// adding to a live one. Two links followed at once both land: a lost
// race reloads and adds again.
func (s *Service) freeze(ctx context.Context, accountID string, untrusted []string) error {
	now := s.d.Clock.Now()
	for range 5 {
		f, err := freezeFlow.Load(ctx, s.d.Store, custos.FreezeID(accountID), now)
		if custos.IsCode(err, custos.ENotFound) {
			_, err = freezeFlow.Begin(ctx, s.d.Store, now, flow.Spec[custos.Freeze]{
				ID: custos.FreezeID(accountID), AccountID: accountID, Data: custos.Freeze{Untrusted: untrusted, At: now}, TTL: custos.FreezeTTL,
			})
			if custos.IsCode(err, custos.EConflict) {
				continue // made by another request, or an expired one not yet swept
			}
			return err
		}
		if err != nil {
			return err
		}
		if f.State == custos.FreezeLifted {
			f.Data = custos.Freeze{}
		}
		for _, ch := range untrusted {
			if !slices.Contains(f.Data.Untrusted, ch) {
				f.Data.Untrusted = append(f.Data.Untrusted, ch)
			}
		}
		f.Data.At = now
		err = freezeFlow.Advance(ctx, s.d.Store, &f, custos.FreezeFrozen, now)
		if custos.IsCode(err, custos.EExpired) {
			continue
		}
		return err
	}
	return custos.Errorf(custos.EUnavailable, "freeze of %s: too much contention", accountID)
}
