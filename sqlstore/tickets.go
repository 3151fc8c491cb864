package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/custos/custos"
)

var _ custos.TicketStore = (*DB)(nil)

// ticketLockSpace is the first key of the transaction-scoped advisory
// locks taken on PostgreSQL on a ticket's kind and target (its hashtext
// the second), "tick" in ASCII, apart from phoneLockSpace and
// identityLockSpace.
const ticketLockSpace int32 = 0x7469636b

// defaultTicketLimit is how many tickets a TicketFilter without a Limit
// lists, maxTicketLimit the most any lists.
const (
	defaultTicketLimit = 100
	maxTicketLimit     = 1000
)

const (
	ticketColumns = "id, number, kind, state, target_account_id, submitter_account_id, sealed, query_code_hash, " +
		"linked_to, required_approvals, question, reason, execute_at, submitted_at, updated_at, closed_at"
	// openTicketStates is the SQL list of TicketState.Open, as the partial
	// unique index tickets_open_key spells it.
	openTicketStates = "('submitted', 'in_review', 'need_more_info', 'approved', 'waiting')"
)

// closedTicket reports whether a ticket in state s has ended (closed_at
// set).
func closedTicket(s custos.TicketState) bool {
	switch s {
	case custos.TicketExecuted, custos.TicketRejected, custos.TicketWithdrawn, custos.TicketCancelled:
		return true
	}
	return false
}

// querier is what a *sql.DB and a *sql.Tx have in common for reads.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// inRead runs fn in a read-only transaction on the read pool, so the
// statements it runs see one snapshot: on SQLite a deferred transaction
// (WAL gives it the database as of its first read), on PostgreSQL
// REPEATABLE READ.
func (db *DB) inRead(ctx context.Context, fn func(tx *sql.Tx) error) error {
	opts := &sql.TxOptions{ReadOnly: true}
	if db.dialect == DialectPostgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := db.r.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("sqlstore: begin read: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: commit read: %w", err)
	}
	return nil
}

// CreateTicket inserts t as submitted (whatever t.State says, UpdatedAt
// its SubmittedAt), its files and ev, in one transaction, and returns the
// ticket as stored. When t has a target and an open ticket of its kind not
// linked to another exists for it, t is inserted linked to that one (the
// oldest, should there be several) with linkDuplicate, and refused with
// EConflict without. EConflict too when the number, the id or a file's id
// is taken.
//
// The check and the insert must not interleave with another creation for
// the same target and kind. SQLite's IMMEDIATE transaction holds the write
// lock from the start; on PostgreSQL a transaction-scoped advisory lock on
// the kind and target serialises them, and READ COMMITTED gives the check,
// run after the lock is granted, every ticket committed before. The
// partial unique index tickets_open_key is the backstop.
//
// t.Approvals, t.Files, t.LinkedTo and the fields of later states are
// ignored: the files are files, each of which belongs to t (an OwnerID
// other than t.ID is a caller bug).
func (db *DB) CreateTicket(ctx context.Context, t custos.Ticket, files []custos.Blob, linkDuplicate bool, ev custos.AuditEvent) (custos.Ticket, error) {
	switch {
	case t.ID == "" || t.Number == "":
		return custos.Ticket{}, errors.New("sqlstore: create ticket: a ticket needs an id and a number")
	case !t.Kind.Valid():
		return custos.Ticket{}, fmt.Errorf("sqlstore: create ticket: unknown kind %q", t.Kind)
	case t.RequiredApprovals < 1:
		return custos.Ticket{}, fmt.Errorf("sqlstore: create ticket: %d required approvals", t.RequiredApprovals)
	}
	for _, f := range files {
		if f.OwnerID != "" && f.OwnerID != t.ID {
			return custos.Ticket{}, fmt.Errorf("sqlstore: create ticket: file %q belongs to %q", f.ID, f.OwnerID)
		}
	}
	var out custos.Ticket
	err := db.inTxWith(ctx, db.readCommitted(), func(tx *sql.Tx) error {
		linkedTo := ""
		if t.TargetAccountID != "" {
			if db.dialect == DialectPostgres {
				if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1, hashtext($2))",
					ticketLockSpace, string(t.Kind)+":"+t.TargetAccountID); err != nil {
					return fmt.Errorf("sqlstore: create ticket: lock target: %w", err)
				}
			}
			// The conditions repeat the partial index's, so both databases
			// read it.
			err := tx.QueryRowContext(ctx, db.q(
				"SELECT id FROM tickets WHERE target_account_id = ? AND kind = ? AND state IN "+openTicketStates+
					" AND linked_to = '' AND target_account_id <> '' ORDER BY submitted_at, id LIMIT 1"),
				t.TargetAccountID, string(t.Kind)).Scan(&linkedTo)
			switch {
			case errors.Is(err, sql.ErrNoRows):
			case err != nil:
				return fmt.Errorf("sqlstore: create ticket: open ticket: %w", err)
			case !linkDuplicate:
				return custos.Errorf(custos.EConflict, "the account has an open %s ticket", t.Kind)
			}
		}
		_, err := tx.ExecContext(ctx, db.q(
			"INSERT INTO tickets ("+ticketColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '', NULL, ?, ?, NULL)"),
			t.ID, t.Number, string(t.Kind), string(custos.TicketSubmitted), t.TargetAccountID, t.SubmitterAccountID,
			notNull(t.Sealed), notNull(t.QueryCodeHash), linkedTo, t.RequiredApprovals,
			millis(t.SubmittedAt), millis(t.SubmittedAt))
		if err != nil {
			if v, onNumber := classify(err, "tickets", "number"); v == uniqueViolation {
				if onNumber {
					return custos.Errorf(custos.EConflict, "ticket number %q is taken", t.Number)
				}
				return custos.Errorf(custos.EConflict, "ticket %q exists, or the account has an open %s ticket", t.ID, t.Kind)
			}
			return fmt.Errorf("sqlstore: create ticket: %w", err)
		}
		for _, f := range files {
			if err := db.insertBlob(ctx, tx, t.ID, f); err != nil {
				return err
			}
		}
		if err := db.insertAudit(ctx, tx, ev); err != nil {
			return err
		}
		out, err = db.ticketWhere(ctx, tx, "id", t.ID)
		return err
	})
	if err != nil {
		return custos.Ticket{}, err
	}
	return out, nil
}

// TicketByID returns a ticket with its approvals and its files'
// descriptions, or ENotFound.
func (db *DB) TicketByID(ctx context.Context, id string) (custos.Ticket, error) {
	return db.readTicket(ctx, "id", id)
}

// TicketByNumber returns the ticket with that number, as TicketByID.
func (db *DB) TicketByNumber(ctx context.Context, number string) (custos.Ticket, error) {
	return db.readTicket(ctx, "number", number)
}

func (db *DB) readTicket(ctx context.Context, column, value string) (custos.Ticket, error) {
	var out custos.Ticket
	err := db.inRead(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = db.ticketWhere(ctx, tx, column, value)
		return err
	})
	if err != nil {
		return custos.Ticket{}, err
	}
	return out, nil
}

// ticketWhere reads the one ticket whose column is value through q;
// ENotFound if there is none.
func (db *DB) ticketWhere(ctx context.Context, q querier, column, value string) (custos.Ticket, error) {
	out, err := db.queryTickets(ctx, q, "SELECT "+ticketColumns+" FROM tickets WHERE "+column+" = ?", value)
	switch {
	case err != nil:
		return custos.Ticket{}, fmt.Errorf("sqlstore: ticket by %s: %w", column, err)
	case len(out) == 0:
		return custos.Ticket{}, custos.Errorf(custos.ENotFound, "ticket not found")
	}
	return out[0], nil
}

// ListTickets returns tickets oldest first (the same SubmittedAt by id),
// those matching every field of f that is set (Number exactly; OpenOnly
// for the states TicketState.Open), at most f.Limit (defaultTicketLimit
// when it is not positive, maxTicketLimit at most), each with its
// approvals and files' descriptions; an empty slice when none match.
func (db *DB) ListTickets(ctx context.Context, f custos.TicketFilter) ([]custos.Ticket, error) {
	var (
		where []string
		args  []any
	)
	for _, c := range []struct{ column, value string }{
		{"number", f.Number},
		{"target_account_id", f.TargetAccountID},
		{"state", string(f.State)},
		{"kind", string(f.Kind)},
	} {
		if c.value != "" {
			where = append(where, c.column+" = ?")
			args = append(args, c.value)
		}
	}
	if f.OpenOnly {
		where = append(where, "state IN "+openTicketStates)
	}
	query := "SELECT " + ticketColumns + " FROM tickets"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = defaultTicketLimit
	case limit > maxTicketLimit:
		limit = maxTicketLimit
	}
	args = append(args, limit)
	return db.listTickets(ctx, "list tickets", query+" ORDER BY submitted_at, id LIMIT ?", args...)
}

// TicketsOfAccount returns the tickets the account submitted or that
// target it, newest first (the same SubmittedAt by id, descending); an
// empty slice for "" and when there are none.
func (db *DB) TicketsOfAccount(ctx context.Context, accountID string) ([]custos.Ticket, error) {
	if accountID == "" {
		return []custos.Ticket{}, nil
	}
	return db.listTickets(ctx, "tickets of account",
		"SELECT "+ticketColumns+" FROM tickets WHERE submitter_account_id = ? OR target_account_id = ? "+
			"ORDER BY submitted_at DESC, id DESC",
		accountID, accountID)
}

// DueTickets lists the waiting tickets whose ExecuteAt is not after now,
// the longest due first (the same ExecuteAt by id).
func (db *DB) DueTickets(ctx context.Context, now time.Time) ([]custos.Ticket, error) {
	return db.listTickets(ctx, "due tickets",
		"SELECT "+ticketColumns+" FROM tickets WHERE state = 'waiting' AND execute_at <= ? ORDER BY execute_at, id",
		millis(now))
}

func (db *DB) listTickets(ctx context.Context, what, query string, args ...any) ([]custos.Ticket, error) {
	var out []custos.Ticket
	err := db.inRead(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = db.queryTickets(ctx, tx, query, args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %s: %w", what, err)
	}
	return out, nil
}

// queryTickets runs a query of ticketColumns through q and reads each
// ticket's approvals (oldest first) and files' descriptions (as
// identity submissions list theirs) through q too, so in one transaction
// they agree with the tickets.
func (db *DB) queryTickets(ctx context.Context, q querier, query string, args ...any) ([]custos.Ticket, error) {
	rows, err := q.QueryContext(ctx, db.q(query), args...)
	if err != nil {
		return nil, err
	}
	out := []custos.Ticket{}
	for rows.Next() {
		t, err := scanTicket(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	byID := make(map[string]*custos.Ticket, len(out))
	ids := make([]any, len(out))
	for i := range out {
		byID[out[i].ID] = &out[i]
		ids[i] = out[i].ID
	}
	for chunk := range slices.Chunk(ids, inChunk) {
		in := "(" + placeholders(len(chunk)) + ")"
		if err := db.readApprovals(ctx, q, in, chunk, byID); err != nil {
			return nil, err
		}
		if err := db.readTicketFiles(ctx, q, in, chunk, byID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (db *DB) readApprovals(ctx context.Context, q querier, in string, ids []any, byID map[string]*custos.Ticket) error {
	rows, err := q.QueryContext(ctx, db.q(
		"SELECT ticket_id, staff_id, at FROM ticket_approvals WHERE ticket_id IN "+in+" ORDER BY ticket_id, at, staff_id"),
		ids...)
	if err != nil {
		return fmt.Errorf("approvals: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			ticketID string
			a        custos.TicketApproval
			at       int64
		)
		if err := rows.Scan(&ticketID, &a.StaffID, &at); err != nil {
			return fmt.Errorf("approvals: %w", err)
		}
		a.At = fromMillis(at)
		if t := byID[ticketID]; t != nil {
			t.Approvals = append(t.Approvals, a)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("approvals: %w", err)
	}
	return nil
}

func (db *DB) readTicketFiles(ctx context.Context, q querier, in string, ids []any, byID map[string]*custos.Ticket) error {
	rows, err := q.QueryContext(ctx, db.q(
		"SELECT "+blobInfoColumns+" FROM blobs WHERE owner_id IN "+in+" ORDER BY owner_id, created_at, id"),
		ids...)
	if err != nil {
		return fmt.Errorf("files: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			b       custos.BlobInfo
			created int64
		)
		if err := rows.Scan(&b.ID, &b.OwnerID, &b.Field, &b.ContentType, &b.Size, &b.Width, &b.Height, &created); err != nil {
			return fmt.Errorf("files: %w", err)
		}
		b.CreatedAt = fromMillis(created)
		if t := byID[b.OwnerID]; t != nil {
			t.Files = append(t.Files, b)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("files: %w", err)
	}
	return nil
}

func scanTicket(row scanner) (custos.Ticket, error) {
	var (
		t                  custos.Ticket
		kind, state        string
		submitted, updated int64
		executeAt, closed  sql.NullInt64
	)
	if err := row.Scan(&t.ID, &t.Number, &kind, &state, &t.TargetAccountID, &t.SubmitterAccountID, &t.Sealed,
		&t.QueryCodeHash, &t.LinkedTo, &t.RequiredApprovals, &t.Question, &t.Reason, &executeAt, &submitted,
		&updated, &closed); err != nil {
		return custos.Ticket{}, err
	}
	t.Kind = custos.TicketKind(kind)
	t.State = custos.TicketState(state)
	t.ExecuteAt = fromOptMillis(executeAt)
	t.SubmittedAt = fromMillis(submitted)
	t.UpdatedAt = fromMillis(updated)
	t.ClosedAt = fromOptMillis(closed)
	t.Approvals = []custos.TicketApproval{}
	t.Files = []custos.BlobInfo{}
	return t, nil
}

// ticketExists returns nil if the ticket id exists, ENotFound if not.
func (db *DB) ticketExists(ctx context.Context, q querier, id string) error {
	var one int
	err := q.QueryRowContext(ctx, db.q("SELECT 1 FROM tickets WHERE id = ?"), id).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return custos.Errorf(custos.ENotFound, "ticket not found")
	case err != nil:
		return fmt.Errorf("sqlstore: ticket: %w", err)
	}
	return nil
}

// MoveTicket moves the ticket to m.To at m.At if it is in one of m.From,
// adds m.Files and writes ev (unless ev.ID is "") and se (unless se.ID is
// ""), in one transaction. The move is one UPDATE whose WHERE clause holds
// the state, so of racing moves (on any replica) one matches the row; the
// others get EAlreadyDecided, as does a move of a ticket in another state.
// ENotFound if there is no such ticket.
//
// Moving to need_more_info stores m.Question (when given); moving to any
// other state clears the question. m.Reason is stored when given, m.Sealed
// replaces the sealed fields when not nil. ClosedAt is m.At in the closed
// states (executed, rejected, withdrawn, cancelled). An empty m.From, and
// a move to waiting (ApproveTicket's, which sets ExecuteAt), are caller
// bugs.
func (db *DB) MoveTicket(ctx context.Context, m custos.TicketMove, ev custos.AuditEvent, se custos.StaffEvent) error {
	switch {
	case len(m.From) == 0:
		return errors.New("sqlstore: move ticket: no state to move from")
	case m.To == custos.TicketWaiting:
		return errors.New("sqlstore: move ticket: a ticket reaches waiting by ApproveTicket")
	}
	for _, f := range m.Files {
		if f.OwnerID != "" && f.OwnerID != m.ID {
			return fmt.Errorf("sqlstore: move ticket: file %q belongs to %q", f.ID, f.OwnerID)
		}
	}
	set := []string{"state = ?", "updated_at = ?", "closed_at = ?"}
	var closedAt any
	if closedTicket(m.To) {
		closedAt = millis(m.At)
	}
	args := []any{string(m.To), millis(m.At), closedAt}
	switch {
	case m.To != custos.TicketNeedMoreInfo:
		set = append(set, "question = ''")
	case m.Question != "":
		set = append(set, "question = ?")
		args = append(args, m.Question)
	}
	if m.Reason != "" {
		set = append(set, "reason = ?")
		args = append(args, m.Reason)
	}
	if m.Sealed != nil {
		set = append(set, "sealed = ?")
		args = append(args, notNull(m.Sealed))
	}
	args = append(args, m.ID)
	for _, s := range m.From {
		args = append(args, string(s))
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		n, err := affected(tx.ExecContext(ctx, db.q(
			"UPDATE tickets SET "+strings.Join(set, ", ")+" WHERE id = ? AND state IN ("+placeholders(len(m.From))+")"),
			args...))
		if err != nil {
			return fmt.Errorf("sqlstore: move ticket: %w", err)
		}
		if n == 0 {
			if err := db.ticketExists(ctx, tx, m.ID); err != nil {
				return err
			}
			return custos.Errorf(custos.EAlreadyDecided, "the ticket is no longer in %v", m.From)
		}
		for _, f := range m.Files {
			if err := db.insertBlob(ctx, tx, m.ID, f); err != nil {
				return err
			}
		}
		if ev.ID != "" {
			if err := db.insertAudit(ctx, tx, ev); err != nil {
				return err
			}
		}
		if se.ID != "" {
			return db.insertStaffEvent(ctx, tx, se)
		}
		return nil
	})
}

// ApproveTicket records staffID's approval at `at` of a ticket in state
// in_review or approved, in one transaction holding the ticket's row (FOR
// UPDATE on PostgreSQL, under READ COMMITTED so the count that follows
// sees every approval committed before; SQLite's IMMEDIATE transaction
// holds the write lock from the start). The approval that brings the count
// to RequiredApprovals moves the ticket to waiting with ExecuteAt =
// executeAt and writes waitingEv; an earlier one moves it to (or keeps it)
// approved. se is written either way, unless se.ID is "". So of racing
// approvals each counts once until the ticket is waiting, and those that
// come after get EAlreadyDecided: the ticket reaches waiting, and
// waitingEv is written, once. EForbidden if staffID approved the ticket
// before, EAlreadyDecided if it is in another state, ENotFound if unknown.
// It returns the ticket after the change.
func (db *DB) ApproveTicket(ctx context.Context, id, staffID string, at, executeAt time.Time, waitingEv custos.AuditEvent, se custos.StaffEvent) (custos.Ticket, error) {
	if staffID == "" {
		return custos.Ticket{}, errors.New("sqlstore: approve ticket: no staff member")
	}
	lock := ""
	if db.dialect == DialectPostgres {
		lock = " FOR UPDATE"
	}
	var out custos.Ticket
	err := db.inTxWith(ctx, db.readCommitted(), func(tx *sql.Tx) error {
		var (
			state    string
			required int
		)
		err := tx.QueryRowContext(ctx, db.q("SELECT state, required_approvals FROM tickets WHERE id = ?"+lock), id).
			Scan(&state, &required)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return custos.Errorf(custos.ENotFound, "ticket not found")
		case err != nil:
			return fmt.Errorf("sqlstore: approve ticket: %w", err)
		case state != string(custos.TicketInReview) && state != string(custos.TicketApproved):
			return custos.Errorf(custos.EAlreadyDecided, "the ticket is %s", state)
		}
		if _, err := tx.ExecContext(ctx, db.q("INSERT INTO ticket_approvals (ticket_id, staff_id, at) VALUES (?, ?, ?)"),
			id, staffID, millis(at)); err != nil {
			if v, _ := classify(err, "ticket_approvals", "staff_id"); v == uniqueViolation {
				return custos.Errorf(custos.EForbidden, "the staff member approved the ticket before")
			}
			return fmt.Errorf("sqlstore: approve ticket: %w", err)
		}
		var count int
		if err := tx.QueryRowContext(ctx, db.q("SELECT COUNT(*) FROM ticket_approvals WHERE ticket_id = ?"), id).
			Scan(&count); err != nil {
			return fmt.Errorf("sqlstore: approve ticket: count: %w", err)
		}
		waiting := count >= required
		if waiting {
			_, err = tx.ExecContext(ctx, db.q(
				"UPDATE tickets SET state = 'waiting', execute_at = ?, updated_at = ? WHERE id = ?"),
				millis(executeAt), millis(at), id)
		} else {
			_, err = tx.ExecContext(ctx, db.q("UPDATE tickets SET state = 'approved', updated_at = ? WHERE id = ?"),
				millis(at), id)
		}
		if err != nil {
			return fmt.Errorf("sqlstore: approve ticket: %w", err)
		}
		if waiting {
			if err := db.insertAudit(ctx, tx, waitingEv); err != nil {
				return err
			}
		}
		if se.ID != "" {
			if err := db.insertStaffEvent(ctx, tx, se); err != nil {
				return err
			}
		}
		out, err = db.ticketWhere(ctx, tx, "id", id)
		return err
	})
	if err != nil {
		return custos.Ticket{}, err
	}
	return out, nil
}

// ExecuteTicket moves the ticket from waiting to executed, if its
// ExecuteAt is not after now, makes change on its target account and
// writes ev, in one transaction. The move is one UPDATE whose WHERE clause
// holds the state and the time, so of racing executions (on any replica)
// one matches the row and makes the change; the others, and an execution
// of a ticket in another state or not yet due, get EAlreadyDecided.
// ENotFound if there is no such ticket, or if the account is gone. A
// change.AccountID other than the ticket's target is a caller bug.
//
// The change is the one the account's own methods make: UnbindMFA deletes
// every device (pending or confirmed) and every recovery code of the
// account, retiring the hardware tokens bound as its devices (a lost
// device's token is not put back in stock), and stores change.Protection
// as SetProtection does; NewPhone binds the number as SetPhone does,
// refused with EConflict when change.MaxPerNumber other accounts hold it
// (on PostgreSQL under SetPhone's advisory lock on the number, taken
// first); EndSessions ends the account's sessions and forgets its trusted
// devices as DeleteAccountSessions does. A refusal rolls everything back:
// the ticket stays waiting.
func (db *DB) ExecuteTicket(ctx context.Context, id string, now time.Time, change custos.TicketChange, ev custos.AuditEvent) error {
	return db.inTxWith(ctx, db.readCommitted(), func(tx *sql.Tx) error {
		if change.NewPhone != "" && db.dialect == DialectPostgres {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1, hashtext($2))", phoneLockSpace, change.NewPhone); err != nil {
				return fmt.Errorf("sqlstore: execute ticket: lock number: %w", err)
			}
		}
		var target string
		err := tx.QueryRowContext(ctx, db.q(
			"UPDATE tickets SET state = 'executed', closed_at = ?, updated_at = ? "+
				"WHERE id = ? AND state = 'waiting' AND execute_at <= ? RETURNING target_account_id"),
			millis(now), millis(now), id, millis(now)).Scan(&target)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if err := db.ticketExists(ctx, tx, id); err != nil {
				return err
			}
			return custos.Errorf(custos.EAlreadyDecided, "the ticket is not waiting, or not yet due")
		case err != nil:
			return fmt.Errorf("sqlstore: execute ticket: %w", err)
		case target == "" || target != change.AccountID:
			return fmt.Errorf("sqlstore: execute ticket: the change is for account %q, the ticket's target is %q",
				change.AccountID, target)
		}
		if change.UnbindMFA {
			if err := db.unbindAllMFA(ctx, tx, target, change.Protection); err != nil {
				return err
			}
		}
		if change.NewPhone != "" {
			if err := db.bindTicketPhone(ctx, tx, target, change.NewPhone, change.MaxPerNumber); err != nil {
				return err
			}
		}
		if change.EndSessions {
			if _, err := db.endLogins(ctx, tx, target); err != nil {
				return fmt.Errorf("sqlstore: execute ticket: %w", err)
			}
		}
		return db.insertAudit(ctx, tx, ev)
	})
}

// unbindAllMFA deletes the account's devices and recovery codes through
// tx, retires the tokens bound as its devices (as DeleteDevice releases
// one) and sets its protection; ENotFound if the account is gone.
func (db *DB) unbindAllMFA(ctx context.Context, tx *sql.Tx, accountID string, p custos.Protection) error {
	n, err := affected(tx.ExecContext(ctx, db.q(
		"UPDATE accounts SET login_protection = ?, operation_protection = ?, login_method = ?, operation_method = ? WHERE id = ?"),
		p.Login, p.Operation, p.LoginMethod, p.OperationMethod, accountID))
	if err != nil {
		return fmt.Errorf("sqlstore: execute ticket: protection: %w", err)
	}
	if n == 0 {
		return custos.Errorf(custos.ENotFound, "account not found")
	}
	if err := db.deleteAllMFA(ctx, tx, accountID); err != nil {
		return fmt.Errorf("sqlstore: execute ticket: %w", err)
	}
	return nil
}

// bindTicketPhone binds phone to the account through tx with SetPhone's
// rule (the number's lock, on PostgreSQL, already held); ENotFound if the
// account is gone, EConflict if maxPerNumber other accounts hold it.
func (db *DB) bindTicketPhone(ctx context.Context, tx *sql.Tx, accountID, phone string, maxPerNumber int) error {
	n, err := affected(tx.ExecContext(ctx, db.q("UPDATE accounts SET phone = ? WHERE id = ?"), phone, accountID))
	if err != nil {
		return fmt.Errorf("sqlstore: execute ticket: phone: %w", err)
	}
	if n == 0 {
		return custos.Errorf(custos.ENotFound, "account not found")
	}
	var others int
	if err := tx.QueryRowContext(ctx, db.q(
		"SELECT COUNT(*) FROM accounts WHERE phone = ? AND phone <> '' AND id <> ?"),
		phone, accountID).Scan(&others); err != nil {
		return fmt.Errorf("sqlstore: execute ticket: count: %w", err)
	}
	if others >= maxPerNumber {
		return custos.Errorf(custos.EConflict, "the number is already bound to %d accounts", others)
	}
	return nil
}

// PurgeTicketFiles deletes, in one statement, the files of tickets closed
// before `before`; the tickets stay.
func (db *DB) PurgeTicketFiles(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = affected(tx.ExecContext(ctx, db.q(
			"DELETE FROM blobs WHERE owner_id IN (SELECT id FROM tickets WHERE closed_at IS NOT NULL AND closed_at < ?)"),
			millis(before)))
		if err != nil {
			return fmt.Errorf("sqlstore: purge ticket files: %w", err)
		}
		return nil
	})
	return int(n), err
}
