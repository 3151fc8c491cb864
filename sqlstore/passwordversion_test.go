package sqlstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/sqlstore"
	"github.com/custos/custos/sqlstore/storetest"
)

// TestPasswordVersionRacesAcrossHandles races sessions under the old
// password version against ResetPassword on two DB handles on one
// database, so the lock that orders them is the database's and not one
// handle's connection pool.
func TestPasswordVersionRacesAcrossHandles(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			dbs := openHandles(t, testdb.DSN(t, dialect), 2)
			storetest.PasswordVersionRaces(t, custos.Store(dbs[0]), custos.Store(dbs[1]))
		})
	}
}

// TestMigratePasswordVersionOnExistingData applies migration 0006 to a
// database with an account, a session and a pending login of the release
// before: all are at password version 0, the session still opens (and
// new ones under version 0 do), and a reset then ends the session and the
// login and refuses version 0.
func TestMigratePasswordVersionOnExistingData(t *testing.T) {
	const created = int64(1767225600000) // 2026-01-01, as schemaBefore's account
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			dsn := testdb.DSN(t, dialect)
			schemaBefore(t, dsn, dialect, 6)
			blob, no := "X'00'", "0"
			if dialect == sqlstore.DialectPostgres {
				blob, no = "'\\x00'::bytea", "FALSE"
			}
			execRaw(t, dsn,
				"INSERT INTO sessions (id, token_hash, account_id, created_at, authenticated_at, last_seen_at, expires_at, "+
					"second_factor, verified_until, remote_addr, user_agent) "+
					fmt.Sprintf("VALUES ('ses-old', %s, 'acct-old', %d, %d, %d, %d, %s, NULL, '192.0.2.1', 'old')",
						blob, created, created, created, created+3600_000, no),
				"INSERT INTO flows (id, kind, account_id, state, data, attempts, max_attempts, created_at, updated_at, expires_at) "+
					fmt.Sprintf("VALUES ('login-old', 'login', 'acct-old', 'password_ok', %s, 0, 5, %d, %d, %d)",
						blob, created, created, created+300_000))

			db := openHandles(t, dsn, 1)[0]
			ctx := t.Context()
			now := time.UnixMilli(created).UTC()
			a, err := db.AccountByID(ctx, "acct-old")
			if err != nil || a.PasswordVersion != 0 {
				t.Fatalf("AccountByID(acct-old) = version %d, %v; want 0", a.PasswordVersion, err)
			}
			old, err := db.SessionByTokenHash(ctx, []byte{0})
			if err != nil || old.ID != "ses-old" || old.PasswordVersion != 0 {
				t.Fatalf("SessionByTokenHash(the old session) = %+v, %v; want it at version 0", old, err)
			}
			sess := custos.Session{ID: "ses-new", TokenHash: []byte("new"), AccountID: a.ID,
				CreatedAt: now, AuthenticatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
			ev := func(id, typ string) custos.AuditEvent {
				return custos.AuditEvent{ID: id, At: now, AccountID: a.ID, Type: typ}
			}
			if err := db.CreateSession(ctx, sess, ev("ev-new", custos.EventLoginSuccess)); err != nil {
				t.Fatalf("CreateSession(version 0): %v", err)
			}
			if err := db.ResetPassword(ctx, a.ID, "new-hash", "id:"+a.Email, ev("ev-reset", custos.EventPasswordReset)); err != nil {
				t.Fatalf("ResetPassword: %v", err)
			}
			if n := queryInt(t, dsn, "SELECT COUNT(*) FROM sessions"); n != 0 {
				t.Errorf("%d sessions after the reset, want none", n)
			}
			if _, err := db.FlowByID(ctx, "login-old", custos.FlowLogin, now); !custos.IsCode(err, custos.ENotFound) {
				t.Errorf("FlowByID(the old login) after the reset = %v, want not_found", err)
			}
			sess.ID, sess.TokenHash = "ses-stale", []byte("stale")
			if err := db.CreateSession(ctx, sess, ev("ev-stale", custos.EventLoginSuccess)); !custos.IsCode(err, custos.EConflict) {
				t.Errorf("CreateSession(version 0 after the reset) = %v, want conflict", err)
			}
		})
	}
}
