package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/sqlstore"
	"github.com/jackc/pgx/v5"
)

// TestMigrateMFAOnExistingData applies migration 0003 to a database that
// already holds an account, as an upgrade does: the account reads back
// with both protection switches off, and the new tables work for it.
func TestMigrateMFAOnExistingData(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			dsn := testdb.DSN(t, dialect)
			schemaBefore(t, dsn, dialect, 3)

			db := openHandles(t, dsn, 1)[0]
			ctx := t.Context()
			a, err := db.AccountByID(ctx, "acct-old")
			if err != nil {
				t.Fatalf("AccountByID: %v", err)
			}
			if a.Protection != (custos.Protection{}) {
				t.Errorf("Protection = %+v after the upgrade, want both off", a.Protection)
			}
			at := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
			ev := custos.AuditEvent{ID: "ev-prot", At: at, AccountID: a.ID, Type: custos.EventProtection}
			if err := db.SetProtection(ctx, a.ID, custos.Protection{Login: true}, ev); err != nil {
				t.Fatalf("SetProtection: %v", err)
			}
			d := custos.Device{ID: "dev-old", AccountID: a.ID, Type: custos.DeviceTOTP, Secret: []byte{1}, CreatedAt: at}
			if err := db.CreateDevice(ctx, d); err != nil {
				t.Fatalf("CreateDevice: %v", err)
			}
		})
	}
}

// TestMFARows looks behind the device, token and recovery-code methods at
// the rows: a zero time, a nil secret and an unbound token's device are
// NULL, and the protection switches are stored as the dialect's booleans.
func TestMFARows(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			dsn := testdb.DSN(t, dialect)
			db := openHandles(t, dsn, 1)[0]
			ctx := t.Context()
			at := time.Date(2026, 6, 1, 2, 3, 4, 5_000_000, time.UTC)
			ev := func(id string) custos.AuditEvent {
				return custos.AuditEvent{ID: id, At: at, AccountID: "acct-rows", Type: custos.EventDeviceBound}
			}
			a := custos.Account{ID: "acct-rows", Kind: custos.KindPersonal, Email: "rows@example.test", PasswordHash: "h",
				CreatedAt: at, Protection: custos.Protection{Operation: true}}
			must(t, db.CreateAccount(ctx, a, ev("ev-signup")))
			must(t, db.CreateDevice(ctx, custos.Device{ID: "dev-key", AccountID: a.ID, Type: custos.DeviceWebAuthn,
				Credential: []byte(`{}`), CreatedAt: at}))
			must(t, db.CreateDevice(ctx, custos.Device{ID: "dev-app", AccountID: a.ID, Type: custos.DeviceTOTP,
				Secret: []byte{0}, CreatedAt: at}))
			must(t, db.ConfirmDevice(ctx, a.ID, "dev-app", 9, at, at, ev("ev-confirm")))
			must(t, db.ImportToken(ctx, custos.HardwareToken{Serial: "SN-1", Secret: []byte{1}, CreatedAt: at}))
			must(t, db.ImportToken(ctx, custos.HardwareToken{Serial: "SN-2", Secret: []byte{2}, CreatedAt: at}))
			must(t, db.BindToken(ctx, "SN-2", custos.Device{ID: "dev-hw", AccountID: a.ID, Type: custos.DeviceHardware,
				Serial: "SN-2", Secret: []byte{2}, CreatedAt: at, ConfirmedAt: at}, ev("ev-bind")))
			must(t, db.ReplaceRecoveryCodes(ctx, a.ID, [][]byte{{1}, {2}}, at, ev("ev-codes")))
			must(t, db.UseRecoveryCode(ctx, a.ID, []byte{2}, at.Add(time.Second), ev("ev-use")))

			ms := at.UnixMilli()
			yes, no := "1", "0"
			if dialect == sqlstore.DialectPostgres {
				yes, no = "true", "false"
			}
			checks := []struct {
				query string
				want  int
			}{
				{"SELECT COUNT(*) FROM accounts WHERE login_protection = " + no + " AND operation_protection = " + yes, 1},
				{"SELECT COUNT(*) FROM mfa_devices WHERE id = 'dev-key' AND secret IS NULL AND confirmed_at IS NULL AND last_used_at IS NULL", 1},
				{"SELECT COUNT(*) FROM mfa_devices WHERE id = 'dev-app' AND credential IS NULL AND serial = '' AND last_used_at IS NULL " +
					fmt.Sprintf("AND created_at = %d AND confirmed_at = %d AND last_step = 9", ms, ms), 1},
				{"SELECT COUNT(*) FROM hardware_tokens WHERE serial = 'SN-1' AND status = 'stock' AND device_id IS NULL", 1},
				{"SELECT COUNT(*) FROM hardware_tokens WHERE serial = 'SN-2' AND status = 'bound' AND device_id = 'dev-hw'", 1},
				{"SELECT COUNT(*) FROM recovery_codes WHERE used_at IS NULL AND created_at = " + fmt.Sprint(ms), 1},
				{"SELECT COUNT(*) FROM recovery_codes WHERE used_at = " + fmt.Sprint(ms+1000), 1},
			}
			for _, c := range checks {
				if got := queryInt(t, dsn, c.query); got != c.want {
					t.Errorf("%s = %d, want %d", c.query, got, c.want)
				}
			}
			// The schema itself refuses a bound token without its device.
			err := execRawErr(t, dsn, "UPDATE hardware_tokens SET status = 'bound' WHERE serial = 'SN-1'")
			if err == nil {
				t.Errorf("a bound token without a device was accepted")
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// execRaw runs statements in order on a connection of its own, behind the
// store's back.
func execRaw(t *testing.T, dsn string, stmts ...string) {
	t.Helper()
	if err := execRawErr(t, dsn, stmts...); err != nil {
		t.Fatal(err)
	}
}

func execRawErr(t *testing.T, dsn string, stmts ...string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		db, err := sql.Open("sqlite", path)
		if err != nil {
			return err
		}
		defer db.Close()
		for _, s := range stmts {
			if _, err := db.ExecContext(ctx, s); err != nil {
				return fmt.Errorf("%.60s…: %w", s, err)
			}
		}
		return nil
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("%.60s…: %w", s, err)
		}
	}
	return nil
}

// schemaBefore writes, behind the store's back, the schema as the release
// before migration `next` left it, with one account ('acct-old') in it, so
// a test can check that the migration upgrades existing data.
func schemaBefore(t *testing.T, dsn, dialect string, next int) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("migrations", dialect, "*.sql"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	stmts := []string{"CREATE TABLE schema_migrations (version BIGINT NOT NULL PRIMARY KEY)"}
	for i, name := range files[:next-1] {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		stmts = append(stmts, string(b), fmt.Sprintf("INSERT INTO schema_migrations (version) VALUES (%d)", i+1))
	}
	stmts = append(stmts, "INSERT INTO accounts (id, kind, email, password_hash, created_at) "+
		"VALUES ('acct-old', 'personal', 'old@example.test', 'h', 1767225600000)")
	execRaw(t, dsn, stmts...)
}
