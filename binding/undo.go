package binding

import (
	"context"

	"github.com/custos/custos"
	"github.com/custos/custos/flow"
)

// undoState is where an "it wasn't me" link stands.
type undoState string

const (
	undoSent undoState = "sent" // the link is on its way to an old channel
	undoUsed undoState = "used" // followed, once
)

// Restore is what an "it wasn't me" link puts back besides ending every
// session: the phone or account email the change replaced.
type Restore struct {
	Phone *string `json:"phone,omitempty"` // the old phone ("" = none)
	Email string  `json:"email,omitempty"` // the old account email
}

// undoFlow is an "it wasn't me" link; its id is the token's SecretID.
var undoFlow = flow.Machine[undoState, Restore]{
	Kind:    custos.FlowUndo,
	Initial: undoSent,
	Edges:   map[undoState][]undoState{undoSent: {undoUsed}},
}

// Undo follows an "it wasn't me" link: it ends every session, forgets
// trusted devices and disables password login until a reset, and puts
// back the phone or account email the change replaced.
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
	// Put back what the change replaced, so a hijacker's new number or
	// address cannot receive the reset code.
	restore := f.Data
	detail := map[string]string{}
	if restore.Phone != nil && *restore.Phone != acct.Phone {
		ev, err := s.event(custos.EventPhoneChanged, acct.ID, c, map[string]string{"by": "undo"})
		if err != nil {
			return err
		}
		if err := s.d.Store.SetPhone(ctx, acct.ID, *restore.Phone, 1<<30, ev); err != nil {
			return err
		}
		detail["phone"] = "restored"
		acct.Phone = *restore.Phone
	}
	if restore.Email != "" && restore.Email != acct.Email {
		ev, err := s.event(custos.EventEmailChanged, acct.ID, c, map[string]string{"by": "undo"})
		if err != nil {
			return err
		}
		switch err := s.d.Store.SetAccountEmail(ctx, acct.ID, restore.Email, ev); {
		case err == nil:
			detail["email"] = "restored"
			acct.Email = restore.Email
		case custos.IsCode(err, custos.EEmailTaken):
			detail["email"] = "taken since"
		default:
			return err
		}
	}
	ev, err := s.event(custos.EventUndo, acct.ID, c, detail)
	if err != nil {
		return err
	}
	// "!" can never verify: password login waits for a reset.
	return s.d.Store.ResetPassword(ctx, acct.ID, "!reset-required", acct.LoginID().CounterKey(), ev)
}
