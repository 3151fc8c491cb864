package sqlstore_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/sqlstore"
	"github.com/custos/custos/sqlstore/storetest"
)

// TestSetPhoneRaceAcrossHandles runs the phone-limit race on two DB handles
// on one database, so the bindings serialise in the database (advisory lock
// or SQLite write lock) and not in one handle's connection pool. On
// PostgreSQL it runs again with the server's default isolation raised to
// REPEATABLE READ, under which a count taken after the lock would still see
// the snapshot from before it, had SetPhone not asked for READ COMMITTED.
func TestSetPhoneRaceAcrossHandles(t *testing.T) {
	type variant struct{ name, dialect, param string }
	var variants []variant
	for _, d := range testdb.Dialects() {
		variants = append(variants, variant{d, d, ""})
		if d == sqlstore.DialectPostgres {
			variants = append(variants, variant{d + "/repeatable-read-default", d, "repeatable read"})
		}
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			dsn := testdb.DSN(t, v.dialect)
			if v.param != "" {
				// url.Values would write the space as "+", which pgx
				// passes on as it is.
				dsn += "&default_transaction_isolation=" + url.PathEscape(v.param)
			}
			dbs := openHandles(t, dsn, 2)
			storetest.SetPhoneRace(t, dbs[0], dbs[1])
		})
	}
}

// TestMigrateContactsOnExistingData applies migration 0004 to a database
// that already holds an account, as an upgrade does: the account reads back
// with no phone and no secure email, and both can be set.
func TestMigrateContactsOnExistingData(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			dsn := testdb.DSN(t, dialect)
			schemaBefore(t, dsn, dialect, 4)

			db := openHandles(t, dsn, 1)[0]
			ctx := t.Context()
			a, err := db.AccountByID(ctx, "acct-old")
			if err != nil {
				t.Fatalf("AccountByID: %v", err)
			}
			if a.Phone != "" || a.SecureEmail != "" {
				t.Errorf("after the upgrade Phone = %q, SecureEmail = %q; want both empty", a.Phone, a.SecureEmail)
			}
			at := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
			ev := func(id, typ string) custos.AuditEvent {
				return custos.AuditEvent{ID: id, At: at, AccountID: a.ID, Type: typ}
			}
			must(t, db.SetPhone(ctx, a.ID, "+8613800138000", 5, ev("ev-phone", custos.EventPhoneChanged)))
			must(t, db.SetSecureEmail(ctx, a.ID, "safe@example.test", ev("ev-secure", custos.EventSecureEmail)))
			got, err := db.AccountsByPhone(ctx, "+8613800138000")
			if err != nil {
				t.Fatalf("AccountsByPhone: %v", err)
			}
			if len(got) != 1 || got[0].ID != a.ID || got[0].SecureEmail != "safe@example.test" {
				t.Errorf("AccountsByPhone = %+v, want acct-old with its secure email", got)
			}
			indexes := "SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() " +
				"AND indexname IN ('accounts_phone_idx', 'challenges_account_idx')"
			if dialect == sqlstore.DialectSQLite {
				indexes = "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'index' " +
					"AND name IN ('accounts_phone_idx', 'challenges_account_idx')"
			}
			if n := queryInt(t, dsn, indexes); n != 2 {
				t.Errorf("%d of the 2 new indexes exist", n)
			}
		})
	}
}
