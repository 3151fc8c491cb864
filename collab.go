package custos

import (
	"context"
	"time"
)

// Collaboration states.
const (
	CollabInvited = "invited"
	CollabActive  = "active"
	CollabEnded   = "ended"
)

// Collaboration is an existing account invited to work in a root account
// (R9's collaborators). The root sets what the collaborator's session must
// have passed to work in the root's account: with Protection.Login a
// second factor (or a fresh verification) in that session before it
// switches in; with Protection.Operation a fresh verification before each
// sensitive operation there (the platform reads it from the principal).
type Collaboration struct {
	ID            string
	RootAccountID string
	// InviteEmail is the login email invited (normalised); AccountID is
	// the collaborator's own account once they accepted ("" before).
	InviteEmail string
	AccountID   string
	State       string
	Protection  Protection
	CreatedAt   time.Time
	AcceptedAt  time.Time // zero until accepted
	EndedAt     time.Time // zero until ended
}

// CollaborationStore keeps collaborations and which root account a
// session works in.
type CollaborationStore interface {
	// CreateCollaboration inserts c (invited) and ev; EConflict when the
	// root already has an invited or active collaboration with that email.
	CreateCollaboration(ctx context.Context, c Collaboration, ev AuditEvent) error
	// CollaborationByID returns one or ENotFound.
	CollaborationByID(ctx context.Context, id string) (Collaboration, error)
	// CollaborationsOfRoot lists a root's collaborations (not ended),
	// newest first; CollaborationsOfAccount the active ones of a
	// collaborator.
	CollaborationsOfRoot(ctx context.Context, rootAccountID string) ([]Collaboration, error)
	CollaborationsOfAccount(ctx context.Context, accountID string) ([]Collaboration, error)
	// AcceptCollaboration moves an invited collaboration to active for
	// accountID, in one statement, writing ev; EAlreadyDecided when it is
	// no longer invited, ENotFound if unknown.
	AcceptCollaboration(ctx context.Context, id, accountID string, at time.Time, ev AuditEvent) error
	// SetCollaborationProtection replaces what the root requires and
	// writes ev; ENotFound if not the root's or ended.
	SetCollaborationProtection(ctx context.Context, rootAccountID, id string, p Protection, ev AuditEvent) error
	// EndCollaboration ends an invited or active collaboration and, in the
	// same transaction, stops every session of the collaborator working in
	// the root's account; ENotFound if unknown or already ended.
	EndCollaboration(ctx context.Context, id string, at time.Time, ev AuditEvent) error
	// SetSessionActing makes a session work in rootAccountID ("" for its
	// own account), writing ev; ENotFound if the session is gone.
	SetSessionActing(ctx context.Context, sessionID, rootAccountID string, ev AuditEvent) error
}

// FlowCollabInvite is an invitation link; ID is SecretID(token).
const FlowCollabInvite FlowKind = "collab_invite"
