package sqlstore_test

import (
	"testing"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/sqlstore"
	"github.com/custos/custos/sqlstore/storetest"
)

// TestTicketRacesAcrossHandles runs the races of tickets on two DB handles
// on one database, so they serialise in the database (advisory locks, row
// locks or the SQLite write lock) and not in one handle's connection pool.
func TestTicketRacesAcrossHandles(t *testing.T) {
	races := []struct {
		name string
		fn   func(t *testing.T, stores ...custos.Store)
	}{
		{"TicketCreateRace", storetest.TicketCreateRace},
		{"TicketMoveRace", storetest.TicketMoveRace},
		{"TicketApproveRace", storetest.TicketApproveRace},
		{"TicketExecuteRace", storetest.TicketExecuteRace},
	}
	for _, dialect := range testdb.Dialects() {
		for _, r := range races {
			t.Run(dialect+"/"+r.name, func(t *testing.T) {
				t.Parallel()
				dbs := openHandles(t, testdb.DSN(t, dialect), 2)
				r.fn(t, dbs[0], dbs[1])
			})
		}
	}
}

// TestTicketSchemaBackstops writes tickets behind the store's back: the
// database itself refuses a second open unlinked ticket of a kind for a
// target, a closed ticket without its end and a waiting one without its
// time, and admits what the store writes around those rules.
func TestTicketSchemaBackstops(t *testing.T) {
	const insert = "INSERT INTO tickets (id, number, kind, state, target_account_id, submitter_account_id, sealed, " +
		"query_code_hash, linked_to, required_approvals, execute_at, submitted_at, updated_at, closed_at) VALUES "
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			blob := "''" // an empty BYTEA
			if dialect == sqlstore.DialectSQLite {
				blob = "X''" // STRICT: a BLOB, not TEXT
			}
			row := func(id, kind, state, target, linkedTo, executeAt, closedAt string) string {
				return insert + "('" + id + "', 'T-" + id + "', '" + kind + "', '" + state + "', '" + target + "', '', " +
					blob + ", " + blob + ", '" + linkedTo + "', 1, " + executeAt + ", 1, 1, " + closedAt + ")"
			}
			ctx := t.Context()
			db := testdb.Open(t, dialect)
			steps := []struct {
				stmt string
				ok   bool
			}{
				{row("t1", "unbind_mfa", "in_review", "acct-1", "", "NULL", "NULL"), true},
				{row("t2", "unbind_mfa", "submitted", "acct-1", "", "NULL", "NULL"), false},         // a second open one
				{row("t3", "unbind_mfa", "waiting", "acct-1", "", "5", "NULL"), false},              // waiting is open
				{row("t4", "unbind_mfa", "submitted", "acct-1", "t1", "NULL", "NULL"), true},        // linked
				{row("t5", "change_phone", "submitted", "acct-1", "", "NULL", "NULL"), true},        // another kind
				{row("t6", "unbind_mfa", "rejected", "acct-1", "", "NULL", "2"), true},              // closed
				{row("t7", "unbind_mfa", "submitted", "", "", "NULL", "NULL"), true},                // no target
				{row("t8", "unbind_mfa", "submitted", "", "", "NULL", "NULL"), true},                // no target either
				{row("t9", "unbind_mfa", "executed", "acct-2", "", "5", "NULL"), false},             // closed without its end
				{row("t10", "unbind_mfa", "submitted", "acct-2", "", "NULL", "3"), false},           // open with an end
				{row("t11", "unbind_mfa", "waiting", "acct-2", "", "NULL", "NULL"), false},          // waiting without its time
				{row("t12", "unbind_mfa", "unknown", "acct-3", "", "NULL", "NULL"), false},          // no such state
				{"UPDATE tickets SET state = 'submitted', closed_at = NULL WHERE id = 't6'", false}, // reopened beside t1
				{"UPDATE tickets SET required_approvals = 0 WHERE id = 't1'", false},
			}
			for _, st := range steps {
				_, err := db.Writer().ExecContext(ctx, st.stmt)
				if st.ok && err != nil {
					t.Errorf("%s: %v", st.stmt, err)
				}
				if !st.ok && err == nil {
					t.Errorf("%s: got no error, want the schema's refusal", st.stmt)
				}
			}
			list, err := db.ListTickets(ctx, custos.TicketFilter{})
			if err != nil {
				t.Fatalf("ListTickets: %v", err)
			}
			var ids []string
			for _, tk := range list {
				ids = append(ids, tk.ID)
			}
			if len(ids) != 6 {
				t.Errorf("tickets after the refused writes: %v, want t1 t4 t5 t6 t7 t8", ids)
			}
			if dialect == sqlstore.DialectPostgres {
				// The store's duplicate check reads the partial index.
				var plan string
				if err := db.Writer().QueryRowContext(ctx, "EXPLAIN SELECT id FROM tickets WHERE target_account_id = 'acct-1' "+
					"AND kind = 'unbind_mfa' AND state IN ('submitted', 'in_review', 'need_more_info', 'approved', 'waiting') "+
					"AND linked_to = '' AND target_account_id <> ''").Scan(&plan); err != nil {
					t.Fatalf("EXPLAIN: %v", err)
				}
				t.Logf("duplicate check plan: %s", plan)
			}
		})
	}
}
