package storetest

import (
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/google/go-cmp/cmp"
)

// testSetTimeZone checks a saved zone reads back on every lookup of the
// account, and a missing account is ENotFound.
func testSetTimeZone(t *testing.T, s custos.Store) {
	ctx := t.Context()
	a := mustCreateAccount(t, s, "acct-tz")
	if got, err := s.AccountByID(ctx, a.ID); err != nil || got.TimeZone != "" {
		t.Fatalf("a new account's zone = %q, %v; want \"\"", got.TimeZone, err)
	}
	for _, zone := range []string{"Asia/Shanghai", "America/Argentina/Buenos_Aires", ""} {
		if err := s.SetTimeZone(ctx, a.ID, zone); err != nil {
			t.Fatalf("SetTimeZone(%q): %v", zone, err)
		}
		byID, err := s.AccountByID(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		byEmail, err := s.AccountByEmail(ctx, a.Email)
		if err != nil {
			t.Fatal(err)
		}
		if byID.TimeZone != zone || byEmail.TimeZone != zone {
			t.Errorf("after SetTimeZone(%q) the account reads %q by id, %q by email", zone, byID.TimeZone, byEmail.TimeZone)
		}
	}
	wantCode(t, "SetTimeZone(absent)", s.SetTimeZone(ctx, "acct-absent", "UTC"), custos.ENotFound)
}

// testDeleteOtherSessions checks only the kept session survives, another
// account's sessions are untouched and the event is written either way.
func testDeleteOtherSessions(t *testing.T, s custos.Store) {
	ctx := t.Context()
	a := mustCreateAccount(t, s, "acct-others")
	b := mustCreateAccount(t, s, "acct-others-b")
	for i, sess := range []custos.Session{newSession("ses-keep", a.ID), newSession("ses-o1", a.ID), newSession("ses-o2", a.ID), newSession("ses-b", b.ID)} {
		if err := s.CreateSession(ctx, sess, newEvent(seq("ev-others-login", i), sess.AccountID, custos.EventLoginSuccess, t0)); err != nil {
			t.Fatal(err)
		}
	}
	ev := newEvent("ev-others", a.ID, custos.EventSessionsRevoked, t0.Add(time.Minute))
	n, err := s.DeleteOtherSessions(ctx, a.ID, "ses-keep", ev)
	if err != nil || n != 2 {
		t.Fatalf("DeleteOtherSessions = %d, %v; want 2, nil", n, err)
	}
	ids := func(accountID string) []string {
		list, err := s.ListSessions(ctx, accountID)
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, x := range list {
			out = append(out, x.ID)
		}
		return out
	}
	if diff := cmp.Diff([]string{"ses-keep"}, ids(a.ID)); diff != "" {
		t.Errorf("the account's sessions (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"ses-b"}, ids(b.ID)); diff != "" {
		t.Errorf("another account's sessions (-want +got):\n%s", diff)
	}
	again := newEvent("ev-others-again", a.ID, custos.EventSessionsRevoked, t0.Add(2*time.Minute))
	if n, err := s.DeleteOtherSessions(ctx, a.ID, "ses-keep", again); err != nil || n != 0 {
		t.Errorf("a second DeleteOtherSessions = %d, %v; want 0, nil", n, err)
	}
	for _, id := range []string{ev.ID, again.ID} {
		if _, err := s.ActivityEvent(ctx, a.ID, id); err != nil {
			t.Errorf("the event %s: %v", id, err)
		}
	}
}

// testTrustedDeviceList checks the list holds the account's live devices
// newest first with where they were trusted, and forgetting one removes
// it for that account only, with its event.
func testTrustedDeviceList(t *testing.T, s custos.Store) {
	ctx := t.Context()
	old := custos.TrustedDevice{ID: "td-old", AccountID: "acct-tdl", CreatedAt: t0, ExpiresAt: t0.Add(trustTTL),
		RemoteAddr: "203.0.113.9", UserAgent: "Mozilla/5.0 (iPhone)"}
	fresh := custos.TrustedDevice{ID: "td-new", AccountID: "acct-tdl", CreatedAt: t0.Add(time.Hour), ExpiresAt: t0.Add(time.Hour + trustTTL)}
	expired := custos.TrustedDevice{ID: "td-gone", AccountID: "acct-tdl", CreatedAt: t0.Add(-trustTTL), ExpiresAt: t0.Add(time.Minute)}
	theirs := custos.TrustedDevice{ID: "td-theirs", AccountID: "acct-tdl-b", CreatedAt: t0, ExpiresAt: t0.Add(trustTTL)}
	for _, d := range []custos.TrustedDevice{old, fresh, expired, theirs} {
		mustTrustDevice(t, s, d)
	}
	now := t0.Add(2 * time.Hour)
	wantList := func(accountID string, want ...custos.TrustedDevice) {
		t.Helper()
		got, err := s.ListTrustedDevices(ctx, accountID, now)
		if err != nil {
			t.Fatalf("ListTrustedDevices(%s): %v", accountID, err)
		}
		if diff := cmp.Diff(want, got, opts); diff != "" {
			t.Errorf("ListTrustedDevices(%s) (-want +got):\n%s", accountID, diff)
		}
	}
	wantList("acct-tdl", fresh, old)
	wantList("acct-tdl-b", theirs)
	wantList("acct-absent")

	wantCode(t, "ForgetTrustedDevice(another account's)",
		s.ForgetTrustedDevice(ctx, "acct-tdl", theirs.ID, newEvent("ev-forget-theirs", "acct-tdl", custos.EventTrustForgotten, now)), custos.ENotFound)
	if err := s.ForgetTrustedDevice(ctx, "acct-tdl", old.ID, newEvent("ev-forget", "acct-tdl", custos.EventTrustForgotten, now)); err != nil {
		t.Fatalf("ForgetTrustedDevice: %v", err)
	}
	wantCode(t, "ForgetTrustedDevice(again)",
		s.ForgetTrustedDevice(ctx, "acct-tdl", old.ID, newEvent("ev-forget-again", "acct-tdl", custos.EventTrustForgotten, now)), custos.ENotFound)
	wantList("acct-tdl", fresh)
	wantList("acct-tdl-b", theirs)
	wantTrusted(t, s, old.ID, "acct-tdl", now, false)
	if _, err := s.ActivityEvent(ctx, "acct-tdl", "ev-forget"); err != nil {
		t.Errorf("the forget event: %v", err)
	}
	for _, id := range []string{"ev-forget-theirs", "ev-forget-again"} {
		_, err := s.ActivityEvent(ctx, "acct-tdl", id)
		wantCode(t, "the event of a refused forget "+id, err, custos.ENotFound)
	}
}

// testListActivity checks the filters, the keyset pages (which neither
// skip nor repeat an event, ties included) and ActivityEvent.
func testListActivity(t *testing.T, s custos.Store) {
	ctx := t.Context()
	const acct = "acct-act"
	var all []custos.AuditEvent // newest first
	// Written oldest first; two pairs share a millisecond.
	at := []time.Duration{0, time.Hour, time.Hour, 2 * time.Hour, 3 * time.Hour, 3 * time.Hour, 4 * time.Hour}
	types := []string{custos.EventLoginSuccess, custos.EventProtection, custos.EventLoginSuccess, custos.EventDeviceBound,
		custos.EventLoginFailure, custos.EventProtection, custos.EventLoginSuccess}
	for i := range at {
		ev := newEvent(seq("ev-act", 10-i), acct, types[i], t0.Add(at[i])) // ids run against the order
		if err := s.AppendAudit(ctx, ev); err != nil {
			t.Fatal(err)
		}
		all = append([]custos.AuditEvent{ev}, all...)
	}
	if err := s.AppendAudit(ctx, newEvent("ev-act-other", "acct-act-b", custos.EventLoginSuccess, t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	pick := func(idx ...int) []custos.AuditEvent {
		out := []custos.AuditEvent{}
		for _, i := range idx {
			out = append(out, all[i])
		}
		return out
	}
	tests := []struct {
		name string
		f    custos.ActivityFilter
		want []custos.AuditEvent
	}{
		{"everything", custos.ActivityFilter{Limit: 50}, all},
		{"zero limit", custos.ActivityFilter{}, nil},
		{"one type", custos.ActivityFilter{Types: []string{custos.EventProtection}, Limit: 50}, pick(1, 5)},
		{"two types", custos.ActivityFilter{Types: []string{custos.EventProtection, custos.EventDeviceBound}, Limit: 50}, pick(1, 3, 5)},
		{"from, inclusive", custos.ActivityFilter{From: t0.Add(3 * time.Hour), Limit: 50}, pick(0, 1, 2)},
		{"to, exclusive", custos.ActivityFilter{To: t0.Add(time.Hour), Limit: 50}, pick(6)},
		{"from and to", custos.ActivityFilter{From: t0.Add(time.Hour), To: t0.Add(3 * time.Hour), Limit: 50}, pick(3, 4, 5)},
		{"before a tie's later half", custos.ActivityFilter{Before: all[1].ID, Limit: 2}, pick(2, 3)},
		{"before, with a type", custos.ActivityFilter{Before: all[0].ID, Types: []string{custos.EventLoginSuccess}, Limit: 50}, pick(4, 6)},
		{"before the oldest", custos.ActivityFilter{Before: all[6].ID, Limit: 50}, nil},
		{"before an unknown event", custos.ActivityFilter{Before: "ev-absent", Limit: 50}, nil},
		{"before another account's event", custos.ActivityFilter{Before: "ev-act-other", Limit: 50}, nil},
		{"a type no event has", custos.ActivityFilter{Types: []string{"no.such"}, Limit: 50}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListActivity(ctx, acct, tc.f)
			if err != nil {
				t.Fatalf("ListActivity: %v", err)
			}
			if diff := cmp.Diff(tc.want, got, opts); diff != "" {
				t.Errorf("ListActivity(%+v) (-want +got):\n%s", tc.f, diff)
			}
		})
	}
	t.Run("pages of two walk every event once", func(t *testing.T) {
		var got []custos.AuditEvent
		f := custos.ActivityFilter{Limit: 2}
		for range len(all) {
			page, err := s.ListActivity(ctx, acct, f)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, page...)
			if len(page) < f.Limit {
				break
			}
			f.Before = page[len(page)-1].ID
		}
		if diff := cmp.Diff(all, got, opts); diff != "" {
			t.Errorf("the pages (-want +got):\n%s", diff)
		}
	})
	t.Run("one event", func(t *testing.T) {
		got, err := s.ActivityEvent(ctx, acct, all[3].ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(all[3], got, opts); diff != "" {
			t.Errorf("ActivityEvent (-want +got):\n%s", diff)
		}
		_, err = s.ActivityEvent(ctx, acct, "ev-act-other")
		wantCode(t, "ActivityEvent(another account's)", err, custos.ENotFound)
		_, err = s.ActivityEvent(ctx, acct, "ev-absent")
		wantCode(t, "ActivityEvent(absent)", err, custos.ENotFound)
	})
}
