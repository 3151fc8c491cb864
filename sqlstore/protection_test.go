package sqlstore_test

import (
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/sqlstore"
)

// TestMigrateProtectionMethodsOnExistingData applies migration 0007 to a
// database whose account has a phone and both protections on, as an
// upgrade does: the account reads back with its switches as they were and
// no chosen method (empty, the default: mfa once a device is bound), and a
// choice then stores and reads back.
func TestMigrateProtectionMethodsOnExistingData(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			dsn := testdb.DSN(t, dialect)
			schemaBefore(t, dsn, dialect, 7)
			yes := "1"
			if dialect == sqlstore.DialectPostgres {
				yes = "TRUE"
			}
			execRaw(t, dsn, "UPDATE accounts SET login_protection = "+yes+", operation_protection = "+yes+
				", phone = '+8613800138000' WHERE id = 'acct-old'")

			db := openHandles(t, dsn, 1)[0]
			ctx := t.Context()
			if n := queryInt(t, dsn, "SELECT COUNT(*) FROM accounts WHERE login_method = '' AND operation_method = ''"); n != 1 {
				t.Errorf("%d accounts with no chosen method after the upgrade, want 1", n)
			}
			want := custos.Protection{Login: true, Operation: true}
			a, err := db.AccountByID(ctx, "acct-old")
			if err != nil || a.Protection != want {
				t.Fatalf("AccountByID(acct-old) = %+v, %v; want %+v", a.Protection, err, want)
			}
			if a, err := db.AccountByEmail(ctx, "old@example.test"); err != nil || a.Protection != want {
				t.Errorf("AccountByEmail(old) = %+v, %v; want %+v", a.Protection, err, want)
			}
			if list, err := db.AccountsByPhone(ctx, "+8613800138000"); err != nil || len(list) != 1 || list[0].Protection != want {
				t.Errorf("AccountsByPhone = %+v, %v; want the old account with %+v", list, err, want)
			}

			want.LoginMethod, want.OperationMethod = custos.MethodSMS, custos.MethodEmail
			ev := custos.AuditEvent{ID: "ev-methods", At: time.UnixMilli(1767225600000).UTC(), AccountID: a.ID, Type: custos.EventProtection}
			if err := db.SetProtection(ctx, a.ID, want, ev); err != nil {
				t.Fatalf("SetProtection: %v", err)
			}
			if a, err := db.AccountByID(ctx, "acct-old"); err != nil || a.Protection != want {
				t.Errorf("AccountByID after SetProtection = %+v, %v; want %+v", a.Protection, err, want)
			}
			if n := queryInt(t, dsn, "SELECT COUNT(*) FROM accounts WHERE login_method = 'sms' AND operation_method = 'email'"); n != 1 {
				t.Errorf("%d accounts store the choice, want 1", n)
			}
		})
	}
}
