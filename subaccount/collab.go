package subaccount

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/flow"
)

// CollabStore is the slice of the database collaborations use.
type CollabStore interface {
	custos.CollaborationStore
	custos.FlowStore
	AccountByID(ctx context.Context, id string) (custos.Account, error)
	ListDevices(ctx context.Context, accountID string) ([]custos.Device, error)
}

// CollabDeps are the collaborations' collaborators.
type CollabDeps struct {
	Store     CollabStore
	Elevator  custos.Elevator
	Clock     custos.Clock
	Rand      io.Reader
	PublicURL string
	Logger    *slog.Logger
}

// Collabs is R9's collaborators: a root invites an existing account by
// its login email; the invitation link, opened while signed in to that
// account, makes it a collaborator; the root sets what the collaborator's
// session must have passed to work in the root's account; either side
// ends it.
type Collabs struct{ d CollabDeps }

// NewCollabs returns the collaborations.
func NewCollabs(d CollabDeps) *Collabs {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Collabs{d: d}
}

// inviteTTL is how long an invitation link works.
const inviteTTL = 7 * 24 * time.Hour

type inviteState string

const (
	invitePending inviteState = "pending"
	inviteUsed    inviteState = "used"
)

type inviteData struct {
	CollabID string `json:"collab_id"`
}

var inviteMachine = flow.Machine[inviteState, inviteData]{
	Kind: custos.FlowCollabInvite, Initial: invitePending,
	Edges: map[inviteState][]inviteState{invitePending: {inviteUsed}},
}

// rootOf returns the signed-in root (not a sub-user), and with elevated
// its fresh verification.
func (c *Collabs) rootOf(ctx context.Context, sess custos.Session, elevated bool) (custos.Account, error) {
	acct, err := c.d.Store.AccountByID(ctx, sess.AccountID)
	if err != nil {
		return custos.Account{}, err
	}
	if acct.IsSubUser() || sess.ActingRootAccountID != "" {
		return custos.Account{}, custos.Fail(custos.ENotFound, "")
	}
	if elevated {
		if err := c.d.Elevator.RequireElevation(ctx, sess, false); err != nil {
			return custos.Account{}, err
		}
	}
	return acct, nil
}

// Invite invites the account with login email email; the link goes to
// that address. The answer is the same whether or not an account has it.
func (c *Collabs) Invite(ctx context.Context, sess custos.Session, email, loginProtection, operationProtection string, cl custos.Client) (custos.Collaboration, error) {
	root, err := c.rootOf(ctx, sess, true)
	if err != nil {
		return custos.Collaboration{}, err
	}
	addr, err := custos.ValidEmail(email)
	if err != nil {
		return custos.Collaboration{}, err
	}
	if addr == root.Email {
		return custos.Collaboration{}, custos.Fail(custos.EInvalidRequest, "collab.self").OnField("email")
	}
	var p custos.Protection
	if p.Login, p.LoginMethod, err = protectionOf(loginProtection, "login_protection"); err != nil {
		return custos.Collaboration{}, err
	}
	if p.Operation, p.OperationMethod, err = protectionOf(operationProtection, "operation_protection"); err != nil {
		return custos.Collaboration{}, err
	}
	id, err := custos.NewID(c.d.Rand, "col")
	if err != nil {
		return custos.Collaboration{}, err
	}
	token, err := custos.NewToken(c.d.Rand)
	if err != nil {
		return custos.Collaboration{}, err
	}
	now := c.d.Clock.Now()
	col := custos.Collaboration{ID: id, RootAccountID: root.ID, InviteEmail: addr, State: custos.CollabInvited, Protection: p, CreatedAt: now}
	ev, err := custos.NewEvent(c.d.Rand, now, "collab.invited", root.ID, "", cl, map[string]string{"collaboration": id, "email": custos.MaskEmail(addr)})
	if err != nil {
		return custos.Collaboration{}, err
	}
	ev.Notify = []custos.Message{{Channel: custos.ChannelEmail, To: addr, Purpose: custos.MsgCollabInvite,
		Data:    map[string]string{"RootAccountID": root.ID, "AcceptURL": c.d.PublicURL + "/account/collaborations/accept?token=" + token},
		Expires: now.Add(inviteTTL)}}
	if _, err := inviteMachine.Begin(ctx, c.d.Store, now, flow.Spec[inviteData]{
		ID: custos.SecretID(token), AccountID: root.ID, Data: inviteData{CollabID: id}, TTL: inviteTTL,
	}); err != nil {
		return custos.Collaboration{}, err
	}
	if err := c.d.Store.CreateCollaboration(ctx, col, ev); err != nil {
		if custos.IsCode(err, custos.EConflict) {
			return custos.Collaboration{}, custos.Fail(custos.EConflict, "collab.already").OnField("email")
		}
		return custos.Collaboration{}, err
	}
	return col, nil
}

// Accept takes an invitation for the signed-in account: only the account
// whose login email was invited.
func (c *Collabs) Accept(ctx context.Context, sess custos.Session, token string, cl custos.Client) (custos.Collaboration, error) {
	dead := custos.Fail(custos.EExpired, "collab.invite_dead")
	now := c.d.Clock.Now()
	f, err := inviteMachine.LoadIn(ctx, c.d.Store, custos.SecretID(token), now, dead, invitePending)
	if err != nil {
		return custos.Collaboration{}, err
	}
	col, err := c.d.Store.CollaborationByID(ctx, f.Data.CollabID)
	if err != nil {
		return custos.Collaboration{}, dead
	}
	acct, err := c.d.Store.AccountByID(ctx, sess.AccountID)
	if err != nil {
		return custos.Collaboration{}, err
	}
	if acct.IsSubUser() || acct.Email != col.InviteEmail {
		return custos.Collaboration{}, custos.Fail(custos.EForbidden, "collab.not_for_you")
	}
	// One collaboration per account and root: a second invitation (to
	// another of its emails, before a change) is not taken twice.
	mine, err := c.d.Store.CollaborationsOfAccount(ctx, acct.ID)
	if err != nil {
		return custos.Collaboration{}, err
	}
	for _, m := range mine {
		if m.RootAccountID == col.RootAccountID && m.State == custos.CollabActive {
			return custos.Collaboration{}, custos.Fail(custos.EConflict, "collab.already")
		}
	}
	if err := inviteMachine.Advance(ctx, c.d.Store, &f, inviteUsed, now); err != nil {
		return custos.Collaboration{}, dead
	}
	ev, err := custos.NewEvent(c.d.Rand, now, "collab.accepted", acct.ID, "", cl, map[string]string{"collaboration": col.ID, "root": col.RootAccountID})
	if err != nil {
		return custos.Collaboration{}, err
	}
	if err := c.d.Store.AcceptCollaboration(ctx, col.ID, acct.ID, now, ev); err != nil {
		if custos.IsCode(err, custos.EAlreadyDecided) || custos.IsCode(err, custos.ENotFound) {
			return custos.Collaboration{}, dead
		}
		return custos.Collaboration{}, err
	}
	col.State, col.AccountID, col.AcceptedAt = custos.CollabActive, acct.ID, now
	return col, nil
}

// Invitation reads a pending invitation without taking it, for the page
// that asks whether to accept: the root account it comes from. Only the
// invited account learns it; a dead link is EExpired.
func (c *Collabs) Invitation(ctx context.Context, sess custos.Session, token string) (custos.Collaboration, error) {
	dead := custos.Fail(custos.EExpired, "collab.invite_dead")
	f, err := inviteMachine.LoadIn(ctx, c.d.Store, custos.SecretID(token), c.d.Clock.Now(), dead, invitePending)
	if err != nil {
		return custos.Collaboration{}, err
	}
	col, err := c.d.Store.CollaborationByID(ctx, f.Data.CollabID)
	if err != nil || col.State != custos.CollabInvited {
		return custos.Collaboration{}, dead
	}
	acct, err := c.d.Store.AccountByID(ctx, sess.AccountID)
	if err != nil {
		return custos.Collaboration{}, err
	}
	if acct.IsSubUser() || acct.Email != col.InviteEmail {
		return custos.Collaboration{}, custos.Fail(custos.EForbidden, "collab.not_for_you")
	}
	return col, nil
}

// OfRoot lists the root's collaborators.
func (c *Collabs) OfRoot(ctx context.Context, sess custos.Session) ([]custos.Collaboration, error) {
	root, err := c.rootOf(ctx, sess, false)
	if err != nil {
		return nil, err
	}
	return c.d.Store.CollaborationsOfRoot(ctx, root.ID)
}

// Mine lists the root accounts the signed-in account collaborates in.
func (c *Collabs) Mine(ctx context.Context, sess custos.Session) ([]custos.Collaboration, error) {
	return c.d.Store.CollaborationsOfAccount(ctx, sess.AccountID)
}

// SetProtection changes what the root requires of a collaborator.
func (c *Collabs) SetProtection(ctx context.Context, sess custos.Session, id, loginProtection, operationProtection string, cl custos.Client) error {
	root, err := c.rootOf(ctx, sess, true)
	if err != nil {
		return err
	}
	var p custos.Protection
	if p.Login, p.LoginMethod, err = protectionOf(loginProtection, "login_protection"); err != nil {
		return err
	}
	if p.Operation, p.OperationMethod, err = protectionOf(operationProtection, "operation_protection"); err != nil {
		return err
	}
	ev, err := custos.NewEvent(c.d.Rand, c.d.Clock.Now(), "collab.protection", root.ID, "", cl, map[string]string{"collaboration": id})
	if err != nil {
		return err
	}
	return c.d.Store.SetCollaborationProtection(ctx, root.ID, id, p, ev)
}

// End ends a collaboration from either side: the root, or the
// collaborator. Sessions working in the root's account stop at once.
func (c *Collabs) End(ctx context.Context, sess custos.Session, id string, cl custos.Client) error {
	col, err := c.d.Store.CollaborationByID(ctx, id)
	if err != nil {
		return err
	}
	if col.RootAccountID != sess.AccountID && (col.AccountID == "" || col.AccountID != sess.AccountID) {
		return custos.Fail(custos.ENotFound, "")
	}
	ev, err := custos.NewEvent(c.d.Rand, c.d.Clock.Now(), "collab.ended", sess.AccountID, "", cl, map[string]string{"collaboration": id})
	if err != nil {
		return err
	}
	return c.d.Store.EndCollaboration(ctx, id, c.d.Clock.Now(), ev)
}

// SwitchInto makes the session work in rootAccountID, if it collaborates
// there and has passed what the root requires: with login protection set,
// a second factor at sign-in or a fresh verification in this session (and
// for the MFA method, an MFA device to have used). Switching to "" (or the
// session's own account) comes back.
func (c *Collabs) SwitchInto(ctx context.Context, sess custos.Session, rootAccountID string, cl custos.Client) error {
	if rootAccountID == "" || rootAccountID == sess.AccountID {
		ev, err := custos.NewEvent(c.d.Rand, c.d.Clock.Now(), "collab.switched_back", sess.AccountID, "", cl, nil)
		if err != nil {
			return err
		}
		return c.d.Store.SetSessionActing(ctx, sess.ID, "", ev)
	}
	var col *custos.Collaboration
	list, err := c.d.Store.CollaborationsOfAccount(ctx, sess.AccountID)
	if err != nil {
		return err
	}
	for i := range list {
		if list[i].RootAccountID == rootAccountID && list[i].State == custos.CollabActive {
			col = &list[i]
		}
	}
	if col == nil {
		return custos.Fail(custos.ENotFound, "")
	}
	if col.Protection.Login {
		if col.Protection.LoginMethod == custos.MethodMFA || col.Protection.LoginMethod == "" {
			devices, err := c.d.Store.ListDevices(ctx, sess.AccountID)
			if err != nil {
				return err
			}
			if len(devices) == 0 {
				return custos.Fail(custos.ENoSecondFactor, "collab.needs_mfa")
			}
		}
		if !sess.SecondFactor {
			if err := c.d.Elevator.RequireElevation(ctx, sess, false); err != nil {
				return err
			}
		}
	}
	ev, err := custos.NewEvent(c.d.Rand, c.d.Clock.Now(), "collab.switched", sess.AccountID, "", cl, map[string]string{"root": rootAccountID})
	if err != nil {
		return err
	}
	if err := c.d.Store.SetSessionActing(ctx, sess.ID, rootAccountID, ev); err != nil {
		return err
	}
	// An end that committed between the check above and the switch found
	// no session to switch back: look again, now that it is switched (an
	// end from here on switches it back itself).
	now, err := c.d.Store.CollaborationByID(ctx, col.ID)
	if err != nil || now.State != custos.CollabActive {
		back, evErr := custos.NewEvent(c.d.Rand, c.d.Clock.Now(), "collab.switched_back", sess.AccountID, "", cl, nil)
		if evErr == nil {
			evErr = c.d.Store.SetSessionActing(ctx, sess.ID, "", back)
		}
		if evErr != nil {
			return evErr
		}
		return custos.Fail(custos.ENotFound, "")
	}
	return nil
}

// Acting returns the collaboration a session works in, or nil.
func (c *Collabs) Acting(ctx context.Context, sess custos.Session) (*custos.Collaboration, error) {
	if sess.ActingRootAccountID == "" {
		return nil, nil
	}
	list, err := c.d.Store.CollaborationsOfAccount(ctx, sess.AccountID)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].RootAccountID == sess.ActingRootAccountID && list[i].State == custos.CollabActive {
			return &list[i], nil
		}
	}
	return nil, nil
}
