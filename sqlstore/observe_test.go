package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/sqlstore"
)

// TestObserverHearsCommittedEventsOnly: an event written on its own is
// heard at once, one written in a transaction once it commits, and one
// whose transaction rolls back is never heard.
func TestObserverHearsCommittedEventsOnly(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			db := testdb.Open(t, d)
			var (
				mu    sync.Mutex
				audit []string
				staff []string
			)
			db.Observe(sqlstore.Observer{
				Audit: func(_ context.Context, ev custos.AuditEvent) { mu.Lock(); audit = append(audit, ev.ID); mu.Unlock() },
				Staff: func(_ context.Context, ev custos.StaffEvent) { mu.Lock(); staff = append(staff, ev.ID); mu.Unlock() },
			})
			at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			msg := custos.Message{Channel: custos.ChannelEmail, To: "jo@example.com", Purpose: custos.MsgPasswordChanged}
			ctx := t.Context()
			if err := db.AppendAudit(ctx, custos.AuditEvent{ID: "evt_alone", At: at, Type: custos.EventLoginLocked}); err != nil {
				t.Fatal(err)
			}
			// No outbox yet: the message cannot be written, so the event's
			// transaction rolls back after its row was inserted.
			if err := db.AppendAudit(ctx, custos.AuditEvent{ID: "evt_rolled_back", At: at, Type: custos.EventLoginLocked,
				Notify: []custos.Message{msg}}); err == nil {
				t.Fatal("an event with a message and no outbox was written")
			}
			refuse := errors.New("outbox refuses")
			db.SetOutbox(func(context.Context, *sql.Tx, []custos.Message) error { return refuse })
			if err := db.AppendAudit(ctx, custos.AuditEvent{ID: "evt_refused", At: at, Type: custos.EventLoginLocked,
				Notify: []custos.Message{msg}}); !errors.Is(err, refuse) {
				t.Fatalf("AppendAudit with a refusing outbox: %v", err)
			}
			db.SetOutbox(func(context.Context, *sql.Tx, []custos.Message) error { return nil })
			if err := db.AppendAudit(ctx, custos.AuditEvent{ID: "evt_committed", At: at, Type: custos.EventLoginLocked,
				Notify: []custos.Message{msg}}); err != nil {
				t.Fatal(err)
			}
			if err := db.AppendStaffEvent(ctx, custos.StaffEvent{ID: "sev_alone", At: at, Action: "staff.add"}); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(audit) != 2 || audit[0] != "evt_alone" || audit[1] != "evt_committed" {
				t.Errorf("audit events heard = %v, want [evt_alone evt_committed]", audit)
			}
			if len(staff) != 1 || staff[0] != "sev_alone" {
				t.Errorf("staff events heard = %v, want [sev_alone]", staff)
			}
		})
	}
}
