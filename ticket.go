package custos

import (
	"context"
	"time"
)

// TicketKind is what a support ticket asks for.
type TicketKind string

// The ticket kinds.
const (
	TicketChangePhone TicketKind = "change_phone" // R3: bind a new phone without passing R2's verification
	TicketUnbindMFA   TicketKind = "unbind_mfa"   // R10: remove a lost MFA device
)

// Valid reports whether k is a known kind.
func (k TicketKind) Valid() bool { return k == TicketChangePhone || k == TicketUnbindMFA }

// TicketState is where a ticket stands:
//
//	submitted → in_review ⇄ need_more_info → approved → waiting → executed
//	                                        ↘ rejected   (staff, from any open state)
//	                                          withdrawn  (the applicant)
//	                                          cancelled  (the holder, up to execution)
//
// approved is the state while a ticket has some but not all of the
// approvals it needs; the last approval moves it to waiting, with
// ExecuteAt set.
type TicketState string

// The ticket states.
const (
	TicketSubmitted    TicketState = "submitted"
	TicketInReview     TicketState = "in_review"
	TicketNeedMoreInfo TicketState = "need_more_info"
	TicketApproved     TicketState = "approved"
	TicketWaiting      TicketState = "waiting"
	TicketExecuted     TicketState = "executed"
	TicketRejected     TicketState = "rejected"
	TicketWithdrawn    TicketState = "withdrawn"
	TicketCancelled    TicketState = "cancelled"
)

// Open reports whether a ticket in state s may still change something.
func (s TicketState) Open() bool {
	switch s {
	case TicketSubmitted, TicketInReview, TicketNeedMoreInfo, TicketApproved, TicketWaiting:
		return true
	}
	return false
}

// TicketFields is what the applicant declared, kept only sealed with the
// key ring (Ticket.Sealed). Keys follow the API's data part.
type TicketFields struct {
	AccountEmail            string `json:"account_email"`
	ContactEmail            string `json:"contact_email,omitempty"` // a public applicant's proven email
	Phone                   string `json:"phone,omitempty"`         // the proven phone: in use (unbind_mfa) or new (change_phone), E.164
	Name                    string `json:"name,omitempty"`
	DocumentNumber          string `json:"document_number,omitempty"`
	CompanyName             string `json:"company_name,omitempty"`
	USCC                    string `json:"uscc,omitempty"`
	ApplicantName           string `json:"applicant_name,omitempty"`
	ApplicantDocumentNumber string `json:"applicant_document_number,omitempty"`
	RecoveryPhone           string `json:"recovery_phone,omitempty"`
	RecoveryEmail           string `json:"recovery_email,omitempty"`
	// Answers holds the applicant's answers to need-more-info questions,
	// oldest first.
	Answers []string `json:"answers,omitempty"`
}

// Ticket is one support ticket.
type Ticket struct {
	ID     string // opaque id (staff URLs)
	Number string // the ticket number the applicant is given
	Kind   TicketKind
	State  TicketState
	// TargetAccountID is the account the named login email belongs to,
	// "" when none does (the ticket exists all the same; staff reject it).
	TargetAccountID string
	// SubmitterAccountID is the signed-in applicant's account ("" for the
	// public form, whose applicant is reached at TicketFields.ContactEmail).
	SubmitterAccountID string
	// Sealed is the TicketFields as JSON, sealed (additional data: the id).
	Sealed []byte
	// QueryCodeHash is the keyed hash of the query code that, with the
	// number, shows the ticket's state.
	QueryCodeHash []byte
	// LinkedTo is the open ticket of the same kind and target this one
	// duplicates ("" when none).
	LinkedTo          string
	RequiredApprovals int
	Approvals         []TicketApproval
	Question          string // the last need-more-info question (need_more_info only)
	Reason            string // the reviewer's reason (rejected)
	ExecuteAt         time.Time
	SubmittedAt       time.Time
	UpdatedAt         time.Time
	ClosedAt          time.Time // executed, rejected, withdrawn or cancelled
	Files             []BlobInfo
}

// TicketApproval is one staff approval.
type TicketApproval struct {
	StaffID string
	At      time.Time
}

// TicketFilter selects tickets for the staff queue and search.
type TicketFilter struct {
	Number          string
	TargetAccountID string
	State           TicketState
	Kind            TicketKind
	OpenOnly        bool
	Limit           int
}

// TicketMove is one change of a ticket's state, made only if the ticket
// is still in one of From.
type TicketMove struct {
	ID       string
	From     []TicketState
	To       TicketState
	At       time.Time
	Question string // set when To is need_more_info
	Reason   string // set when To is rejected
	// Sealed, when not nil, replaces the sealed fields (an answer was
	// added); Files are added.
	Sealed []byte
	Files  []Blob
}

// TicketStore keeps tickets.
type TicketStore interface {
	// CreateTicket inserts t with its files and ev. When t has a target
	// and an open ticket of the same kind already exists for it: with
	// linkDuplicate it inserts t linked to that ticket (t.LinkedTo set);
	// without, it refuses with EConflict. The rule holds under races.
	// EConflict too when the number is taken.
	CreateTicket(ctx context.Context, t Ticket, files []Blob, linkDuplicate bool, ev AuditEvent) (Ticket, error)
	// TicketByID and TicketByNumber return a ticket or ENotFound.
	TicketByID(ctx context.Context, id string) (Ticket, error)
	TicketByNumber(ctx context.Context, number string) (Ticket, error)
	// ListTickets returns tickets oldest first.
	ListTickets(ctx context.Context, f TicketFilter) ([]Ticket, error)
	// TicketsOfAccount returns the tickets an account submitted or that
	// target it, newest first.
	TicketsOfAccount(ctx context.Context, accountID string) ([]Ticket, error)
	// MoveTicket changes a ticket's state if it is in one of m.From, in one
	// statement, writing ev (if ev.ID != "") and se (if se.ID != "");
	// EAlreadyDecided when it is not, ENotFound when unknown.
	MoveTicket(ctx context.Context, m TicketMove, ev AuditEvent, se StaffEvent) error
	// ApproveTicket records staffID's approval of a ticket in state
	// in_review or approved, in one transaction that holds the ticket's
	// row: EForbidden if that staff member approved it before,
	// EAlreadyDecided if it is in another state, ENotFound if unknown.
	// When the approvals reach RequiredApprovals the ticket moves to
	// waiting with ExecuteAt = executeAt and waitingEv (the notices of the
	// waiting period) is written; otherwise it moves to (or stays)
	// approved. se is written either way. Of racing approvals by
	// different staff each counts once; the ticket reaches waiting once.
	// It returns the ticket after the change.
	ApproveTicket(ctx context.Context, id, staffID string, at, executeAt time.Time, waitingEv AuditEvent, se StaffEvent) (Ticket, error)
	// DueTickets lists waiting tickets whose ExecuteAt <= now.
	DueTickets(ctx context.Context, now time.Time) ([]Ticket, error)
	// ExecuteTicket moves a waiting, due ticket to executed and makes its
	// change on the target account, in one transaction with ev: exactly
	// once, however many replicas try (EAlreadyDecided for the others).
	ExecuteTicket(ctx context.Context, id string, now time.Time, change TicketChange, ev AuditEvent) error
	// PurgeTicketFiles deletes the files of tickets closed before
	// `before`, keeping the tickets; it returns how many files went.
	PurgeTicketFiles(ctx context.Context, before time.Time) (int, error)
}

// TicketChange is what an executed ticket does to its target account.
type TicketChange struct {
	AccountID string
	// UnbindMFA removes every MFA device and the recovery codes, and sets
	// Protection (login protection moved to a channel that remains, or
	// off).
	UnbindMFA  bool
	Protection Protection
	// NewPhone binds this number (change_phone), refused with EConflict
	// when it is bound to MaxPerNumber other accounts.
	NewPhone     string
	MaxPerNumber int
	// EndSessions ends every session and forgets trusted devices.
	EndSessions bool
}

// Flow kinds of tickets.
const (
	FlowTicketContact FlowKind = "ticket_contact" // a public applicant's proven contact email; ID is SecretID(token)
	FlowTicketPhone   FlowKind = "ticket_phone"   // an applicant's proven phone; ID is SecretID(token)
)
