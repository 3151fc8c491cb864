package sqlstore_test

import (
	"crypto/sha256"
	"slices"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/sqlstore"
)

// TestOpenSessionAtOnce holds PostgreSQL's one-statement session to
// everything or nothing: it opens the usual sign-in's session, refunds its
// attempt and writes its event in one statement, and whenever the outcome
// is not that one (the counter moved, the password version is stale, a
// webhook may want the event) it writes nothing at all and says so, for
// the caller's transaction to do the change. The store suite holds what
// that transaction then does; this proves the one statement is taken
// (a fast path never taken would pass the suite unnoticed) and leaves no
// half-written sign-in when it is not.
func TestOpenSessionAtOnce(t *testing.T) {
	if !slices.Contains(testdb.Dialects(), sqlstore.DialectPostgres) {
		t.Skip("PostgreSQL only: set " + testdb.EnvPostgres)
	}
	db := openHandles(t, testdb.DSN(t, sqlstore.DialectPostgres), 1)[0]
	ctx := t.Context()
	at := time.UnixMilli(1767225600000).UTC()
	acct := custos.Account{ID: "acct-once", Kind: custos.KindPersonal, Email: "once@example.test",
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo", CreatedAt: at}
	if err := db.CreateAccount(ctx, acct, custos.AuditEvent{ID: "ev-once-signup", At: at, AccountID: acct.ID, Type: custos.EventSignup}); err != nil {
		t.Fatal(err)
	}
	const key = "id:once@example.test"
	counted := custos.Counter{Start: at, Failures: 2}
	if _, err := db.UpdateCounter(ctx, key, func(custos.Counter) (custos.Counter, error) { return counted, nil }); err != nil {
		t.Fatal(err)
	}
	refunded := custos.Counter{Start: at, Failures: 1}
	session := func(id string, version int64) custos.Session {
		h := sha256.Sum256([]byte("token-" + id))
		return custos.Session{ID: id, TokenHash: h[:], AccountID: acct.ID, CreatedAt: at, AuthenticatedAt: at,
			LastSeenAt: at, ExpiresAt: at.Add(time.Hour), PasswordVersion: version}
	}
	event := func(id string) custos.AuditEvent {
		return custos.AuditEvent{ID: id, At: at, AccountID: acct.ID, Type: custos.EventLoginSuccess}
	}
	nothing := func(name string, s custos.Session, evID string) {
		t.Helper()
		if _, err := db.SessionByTokenHash(ctx, s.TokenHash); !custos.IsCode(err, custos.ENotFound) {
			t.Errorf("%s: session written (%v)", name, err)
		}
		evs, err := db.AuditEvents(ctx, sqlstore.AuditFilter{AccountID: acct.ID, Type: custos.EventLoginSuccess})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if ev.ID == evID {
				t.Errorf("%s: event %s written", name, evID)
			}
		}
		if c, err := db.GetCounter(ctx, key); err != nil || c.Failures != counted.Failures {
			t.Errorf("%s: counter %+v, %v; want it as counted", name, c, err)
		}
	}

	// The counter moved since it was read: nothing.
	moved := session("ses-moved", 0)
	done, err := db.OpenSessionAtOnce(ctx, moved, event("ev-moved"), key, custos.Counter{Start: at, Failures: 3}, counted)
	if done || err != nil {
		t.Fatalf("counter moved: done %v, %v; want false, nil", done, err)
	}
	nothing("counter moved", moved, "ev-moved")

	// The password changed since it was checked: nothing.
	stale := session("ses-stale", 1)
	if done, err := db.OpenSessionAtOnce(ctx, stale, event("ev-stale"), key, counted, refunded); done || err != nil {
		t.Fatalf("stale version: done %v, %v; want false, nil", done, err)
	}
	nothing("stale version", stale, "ev-stale")

	// A webhook may want the event: its job goes in a transaction, so nothing.
	hook := custos.Webhook{ID: "hook-once", URL: "https://hooks.example.test/", Events: []string{custos.WebhookLogin},
		Secret: []byte("sealed"), CreatedAt: at}
	if err := db.CreateWebhook(ctx, hook, custos.StaffEvent{ID: "sev-hook-add", At: at, Action: "webhook.add", Target: hook.ID}); err != nil {
		t.Fatal(err)
	}
	hooked := session("ses-hooked", 0)
	if done, err := db.OpenSessionAtOnce(ctx, hooked, event("ev-hooked"), key, counted, refunded); done || err != nil {
		t.Fatalf("webhook: done %v, %v; want false, nil", done, err)
	}
	nothing("webhook", hooked, "ev-hooked")
	if err := db.DeleteWebhook(ctx, hook.ID, custos.StaffEvent{ID: "sev-hook-remove", At: at, Action: "webhook.remove", Target: hook.ID}); err != nil {
		t.Fatal(err)
	}

	// The usual sign-in: all three in the one statement.
	usual := session("ses-usual", 0)
	if done, err := db.OpenSessionAtOnce(ctx, usual, event("ev-usual"), key, counted, refunded); !done || err != nil {
		t.Fatalf("usual sign-in: done %v, %v; want true, nil", done, err)
	}
	if _, err := db.SessionByTokenHash(ctx, usual.TokenHash); err != nil {
		t.Errorf("usual sign-in: no session: %v", err)
	}
	if c, err := db.GetCounter(ctx, key); err != nil || c != refunded {
		t.Errorf("usual sign-in: counter %+v, %v; want %+v", c, err, refunded)
	}
	evs, err := db.AuditEvents(ctx, sqlstore.AuditFilter{AccountID: acct.ID, Type: custos.EventLoginSuccess})
	if err != nil || len(evs) != 1 || evs[0].ID != "ev-usual" {
		t.Errorf("usual sign-in: events %+v, %v; want ev-usual alone", evs, err)
	}
	// Its id again: the session's conflict, named as the transaction names it.
	again := usual
	again.TokenHash = []byte("another")
	_, err = db.OpenSessionAtOnce(ctx, again, event("ev-again"), "", custos.Counter{}, custos.Counter{})
	if !custos.IsCode(err, custos.EConflict) {
		t.Errorf("taken session id: %v; want EConflict", err)
	}
}
