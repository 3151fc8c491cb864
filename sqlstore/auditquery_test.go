package sqlstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/sqlstore"
)

// TestAuditEvents filters the audit log by account, type and time, newest
// first, with the default and the largest limit, on both stores.
func TestAuditEvents(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			db := testdb.Open(t, dialect)
			ctx := t.Context()
			base := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
			// 120 events: accounts a and b by turns, every third one a
			// lock, a minute apart.
			for i := range 120 {
				typ := custos.EventLoginFailure
				if i%3 == 0 {
					typ = custos.EventLoginLocked
				}
				ev := custos.AuditEvent{ID: fmt.Sprintf("ev-%03d", i), At: base.Add(time.Duration(i) * time.Minute),
					AccountID: []string{"acct-a", "acct-b"}[i%2], Type: typ, Identifier: "kim@example.com",
					RemoteAddr: "192.0.2.1", UserAgent: "test", Detail: map[string]string{"n": fmt.Sprint(i)}}
				if err := db.AppendAudit(ctx, ev); err != nil {
					t.Fatal(err)
				}
			}
			ids := func(evs []custos.AuditEvent) []string {
				var out []string
				for _, ev := range evs {
					out = append(out, ev.ID)
				}
				return out
			}
			all, err := db.AuditEvents(ctx, sqlstore.AuditFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != sqlstore.DefaultAuditLimit || all[0].ID != "ev-119" || all[99].ID != "ev-020" {
				t.Fatalf("no filter: %d events %v…, want the newest 100", len(all), ids(all[:min(3, len(all))]))
			}
			if all[0].Detail["n"] != "119" || all[0].AccountID != "acct-b" || all[0].RemoteAddr != "192.0.2.1" {
				t.Fatalf("event read back as %+v", all[0])
			}
			big, err := db.AuditEvents(ctx, sqlstore.AuditFilter{Limit: 1 << 30})
			if err != nil || len(big) != 120 {
				t.Fatalf("a limit beyond the maximum: %d events, %v", len(big), err)
			}
			got, err := db.AuditEvents(ctx, sqlstore.AuditFilter{AccountID: "acct-a", Type: custos.EventLoginLocked,
				Since: base.Add(100 * time.Minute), Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			// acct-a has the even events, locks are multiples of 3: 114, 108, 102.
			if fmt.Sprint(ids(got)) != "[ev-114 ev-108]" {
				t.Fatalf("account, type, since, limit 2: %v", ids(got))
			}
			// The filter values are parameters: a quote selects nothing.
			none, err := db.AuditEvents(ctx, sqlstore.AuditFilter{AccountID: "x' OR '1'='1"})
			if err != nil || len(none) != 0 {
				t.Fatalf("a quoted account id: %d events, %v", len(none), err)
			}
		})
	}
}
