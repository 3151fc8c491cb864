package sqlstore_test

import (
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/sqlstore"
	"github.com/custos/custos/sqlstore/storetest"
)

// TestStaffEventsAppendOnly writes to staff_events behind the store's back:
// the database itself refuses to change or delete an entry (and, on
// PostgreSQL, to truncate the table), and the entry stays as it was.
func TestStaffEventsAppendOnly(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			db := testdb.Open(t, dialect)
			ev := custos.StaffEvent{ID: "se-1", At: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), StaffID: "st-1",
				Action: "identity.view_file", Target: "blob-1"}
			if err := db.AppendStaffEvent(ctx, ev); err != nil {
				t.Fatalf("AppendStaffEvent: %v", err)
			}
			stmts := []string{
				"UPDATE staff_events SET action = 'nothing' WHERE id = 'se-1'",
				"UPDATE staff_events SET at = 0",
				"DELETE FROM staff_events WHERE id = 'se-1'",
				"DELETE FROM staff_events",
			}
			if dialect == sqlstore.DialectPostgres {
				stmts = append(stmts, "TRUNCATE staff_events")
			}
			for _, stmt := range stmts {
				if _, err := db.Writer().ExecContext(ctx, stmt); err == nil {
					t.Errorf("%s: got no error, want the trigger's refusal", stmt)
				}
			}
			got, err := db.ListStaffEvents(ctx, custos.StaffEventFilter{})
			if err != nil {
				t.Fatalf("ListStaffEvents: %v", err)
			}
			if len(got) != 1 || got[0].ID != ev.ID || got[0].Action != ev.Action || !got[0].At.Equal(ev.At) {
				t.Errorf("ListStaffEvents after the refused writes = %+v, want %+v as written", got, ev)
			}
		})
	}
}

// TestIdentityAndStaffRacesAcrossHandles runs the races of real-name
// verification and staff on two DB handles on one database, so they
// serialise in the database (advisory locks, row locks or the SQLite
// write lock) and not in one handle's connection pool.
func TestIdentityAndStaffRacesAcrossHandles(t *testing.T) {
	races := []struct {
		name string
		fn   func(t *testing.T, stores ...custos.Store)
	}{
		{"IdentityClaimRace", storetest.IdentityClaimRace},
		{"DecideRace", storetest.DecideRace},
		{"StaffStepRace", storetest.StaffStepRace},
		{"DisableStaffRace", storetest.DisableStaffRace},
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
