package sqlstore_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/sqlstore"
	"github.com/custos/custos/sqlstore/storetest"
	"github.com/google/go-cmp/cmp"
)

// TestFlowRacesAcrossHandles runs the flow races on two DB handles on one
// database, so the compare-and-swap and the counted guesses serialise in
// the database and not in one handle's connection pool.
func TestFlowRacesAcrossHandles(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			dbs := openHandles(t, testdb.DSN(t, dialect), 2)
			storetest.FlowRaces(t, dbs[0], dbs[1])
		})
	}
}

// TestMigrateFlowsOnExistingData applies migration 0005 to a database whose
// challenges table holds every kind of row an older release wrote: a live
// trusted device and a live undo link move to their new tables, used ones
// do not, pending flows are dropped and one-time codes stay.
func TestMigrateFlowsOnExistingData(t *testing.T) {
	const (
		tdHex       = "0123456789abcdef0123456789abcdef"
		usedTDHex   = "fedcba9876543210fedcba9876543210"
		undoHex     = "00112233445566778899aabbccddeeff"
		usedUndoHex = "ffeeddccbbaa99887766554433221100"
		created     = int64(1767225600000) // 2026-01-01, as schemaBefore's account
		undoData    = `{"phone":"+8613800138000","email":"old@example.test"}`
	)
	week := int64(7 * 24 * time.Hour / time.Millisecond)
	type row struct {
		id, purpose string
		data        string // "" for NULL
		used        bool
		kept        bool // stays in challenges
	}
	rows := []row{
		{id: "td_" + tdHex, purpose: "trusted_device"},
		{id: "td_" + usedTDHex, purpose: "trusted_device", used: true},
		{id: "undo_" + undoHex, purpose: "undo", data: undoData},
		{id: "undo_" + usedUndoHex, purpose: "undo", data: undoData, used: true},
		{id: "lt_0001", purpose: "login_token"},
		{id: "vc_0001", purpose: "verification"},
		{id: "wa_0001", purpose: "webauthn_registration", data: `{"challenge":"x"}`},
		{id: "wa_0002", purpose: "webauthn_assertion", data: `{"challenge":"y"}`},
		{id: "su_0001", purpose: "signup", data: `{"kind":"personal"}`, kept: true},
		{id: "lc_0001", purpose: "login_code", kept: true},
		{id: "pr_0001", purpose: "password_reset", kept: true},
	}
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			dsn := testdb.DSN(t, dialect)
			schemaBefore(t, dsn, dialect, 5)
			blob := func(s string) string {
				if dialect == sqlstore.DialectPostgres {
					return fmt.Sprintf("'\\x%x'::bytea", s)
				}
				return fmt.Sprintf("X'%x'", s)
			}
			var stmts, keptIDs []string
			for _, r := range rows {
				data, used := "NULL", "NULL"
				if r.data != "" {
					data = blob(r.data)
				}
				if r.used {
					used = fmt.Sprint(created + 1000)
				}
				stmts = append(stmts, fmt.Sprintf("INSERT INTO challenges "+
					"(id, purpose, target, account_id, code_hash, data, attempts, max_attempts, created_at, expires_at, used_at) "+
					"VALUES ('%s', '%s', 'old@example.test', 'acct-old', %s, %s, 0, 1, %d, %d, %s)",
					r.id, r.purpose, blob("\x00"), data, created, created+week, used))
				if r.kept {
					keptIDs = append(keptIDs, "'"+r.id+"'")
				}
			}
			execRaw(t, dsn, stmts...)

			db := openHandles(t, dsn, 1)[0]
			ctx := t.Context()
			now := time.UnixMilli(created).UTC().Add(time.Hour)
			trusted := func(id string) bool {
				t.Helper()
				ok, err := db.IsTrustedDevice(ctx, id, "acct-old", now)
				if err != nil {
					t.Fatalf("IsTrustedDevice(%s): %v", id, err)
				}
				return ok
			}
			if !trusted(tdHex) {
				t.Errorf("the trusted device did not survive the upgrade")
			}
			if trusted(usedTDHex) {
				t.Errorf("a used trusted-device challenge became a trusted device")
			}
			want := custos.Flow{ID: undoHex, Kind: custos.FlowUndo, AccountID: "acct-old", State: "sent", Data: []byte(undoData),
				CreatedAt: time.UnixMilli(created).UTC(), UpdatedAt: time.UnixMilli(created).UTC(), ExpiresAt: time.UnixMilli(created + week).UTC()}
			got, err := db.FlowByID(ctx, undoHex, custos.FlowUndo, now)
			if err != nil {
				t.Fatalf("FlowByID(the undo link): %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("the undo link after the upgrade (-want +got):\n%s", diff)
			}
			if _, err := db.FlowByID(ctx, usedUndoHex, custos.FlowUndo, now); !custos.IsCode(err, custos.ENotFound) {
				t.Errorf("FlowByID(a used undo link) = %v, want not_found: a used link must not serve again", err)
			}
			checks := []struct {
				name  string
				query string
				want  int
			}{
				{"only one-time codes stay", "SELECT COUNT(*) FROM challenges", len(keptIDs)},
				{"every one-time code stays", "SELECT COUNT(*) FROM challenges WHERE id IN (" + strings.Join(keptIDs, ", ") + ")", len(keptIDs)},
				{"one flow", "SELECT COUNT(*) FROM flows", 1},
				{"one trusted device", "SELECT COUNT(*) FROM trusted_devices", 1},
			}
			for _, c := range checks {
				if n := queryInt(t, dsn, c.query); n != c.want {
					t.Errorf("%s: %s = %d, want %d", c.name, c.query, n, c.want)
				}
			}
			indexes := "SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() " +
				"AND indexname IN ('flows_expires_idx', 'trusted_devices_account_idx', 'trusted_devices_expires_idx')"
			if dialect == sqlstore.DialectSQLite {
				indexes = "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'index' " +
					"AND name IN ('flows_expires_idx', 'trusted_devices_account_idx', 'trusted_devices_expires_idx')"
			}
			if n := queryInt(t, dsn, indexes); n != 3 {
				t.Errorf("%d of the 3 new indexes exist", n)
			}

			// The moved rows work as new ones do.
			must(t, db.AdvanceFlow(ctx, undoHex, custos.FlowUndo, "sent", "used", nil, now))
			err = db.AdvanceFlow(ctx, undoHex, custos.FlowUndo, "sent", "used", nil, now)
			if !custos.IsCode(err, custos.EExpired) {
				t.Errorf("second AdvanceFlow(the undo link) = %v, want expired", err)
			}
			ev := custos.AuditEvent{ID: "ev-reset", At: now, AccountID: "acct-old", Type: custos.EventPasswordReset}
			must(t, db.ResetPassword(ctx, "acct-old", "new-hash", "id:old@example.test", ev))
			if trusted(tdHex) {
				t.Errorf("ResetPassword kept the upgraded trusted device")
			}
		})
	}
}
