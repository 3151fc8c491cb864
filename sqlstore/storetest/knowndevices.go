package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/custos/custos"
)

// wantKnown fails t unless KnownDevice(accountID, key, since) answers
// known and any.
func wantKnown(t *testing.T, s custos.Store, accountID, key string, since time.Time, known, any bool) {
	t.Helper()
	k, a, err := s.KnownDevice(t.Context(), accountID, key, since)
	if err != nil {
		t.Fatalf("KnownDevice(%s, %s): %v", accountID, key, err)
	}
	if k != known || a != any {
		t.Errorf("KnownDevice(%s, %s, %v) = known %v, any %v; want %v, %v", accountID, key, since, k, a, known, any)
	}
}

func mustRemember(t *testing.T, s custos.Store, accountID, key string, at, forgetBefore time.Time) {
	t.Helper()
	if err := s.RememberDevice(t.Context(), custos.KnownDevice{AccountID: accountID, Key: key, FirstSeenAt: at, LastSeenAt: at}, forgetBefore); err != nil {
		t.Fatalf("RememberDevice(%s, %s): %v", accountID, key, err)
	}
}

// testKnownDevices: a device is known to its own account only, from its
// sighting until it has gone unused past since; remembering it again moves
// its last sighting on (an older sighting never moves it back); and
// remembering forgets the account's devices unused since forgetBefore,
// not another account's.
func testKnownDevices(t *testing.T, s custos.Store) {
	const a, b = "acct-kd", "acct-kd-other"
	ttl := custos.KnownDeviceTTL
	wantKnown(t, s, a, "k1", t0.Add(-ttl), false, false)

	mustRemember(t, s, a, "k1", t0, t0.Add(-ttl))
	wantKnown(t, s, a, "k1", t0.Add(-ttl), true, true)
	wantKnown(t, s, a, "k2", t0.Add(-ttl), false, true)
	wantKnown(t, s, b, "k1", t0.Add(-ttl), false, false)

	// Unused past the window, it is not known (and the account has none).
	later := t0.Add(ttl + time.Hour)
	wantKnown(t, s, a, "k1", later.Add(-ttl), false, false)

	// Seen again, it is known again from then; a stale sighting (a slow
	// replica) does not move it back.
	mustRemember(t, s, a, "k1", later, later.Add(-ttl))
	mustRemember(t, s, a, "k1", t0, later.Add(-ttl))
	wantKnown(t, s, a, "k1", later.Add(-time.Minute), true, true)

	// Remembering another device forgets those unused since forgetBefore,
	// of this account only.
	mustRemember(t, s, b, "k-b", t0, t0.Add(-ttl))
	mustRemember(t, s, a, "k2", t0.Add(time.Hour), t0.Add(-ttl))
	end := later.Add(ttl - time.Minute)
	mustRemember(t, s, a, "k3", end, t0.Add(2*time.Hour))
	wantKnown(t, s, a, "k2", t0.Add(-ttl), false, true)
	wantKnown(t, s, a, "k1", t0.Add(-ttl), true, true)
	wantKnown(t, s, b, "k-b", t0.Add(-ttl), true, true)

	if err := s.RememberDevice(t.Context(), custos.KnownDevice{AccountID: a}, t0); err == nil {
		t.Error("RememberDevice without a key succeeded")
	}
}

// testKnownDevicesMany: a thousand sign-ins from one device leave one row
// known, concurrently too.
func testKnownDevicesMany(t *testing.T, s custos.Store) {
	const a = "acct-kd-many"
	ttl := custos.KnownDeviceTTL
	errs := raceAll(10, func(i int) error {
		for j := range 100 {
			at := t0.Add(time.Duration(i*100+j) * time.Second)
			if err := s.RememberDevice(t.Context(), custos.KnownDevice{AccountID: a, Key: "same", FirstSeenAt: at, LastSeenAt: at}, at.Add(-ttl)); err != nil {
				return err
			}
		}
		return nil
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("racer %d: %v", i, err)
		}
	}
	wantKnown(t, s, a, "same", t0.Add(999*time.Second-time.Millisecond), true, true)
	wantKnown(t, s, a, "same", t0.Add(999*time.Second), false, false)
}

// testNewDeviceStep: the switch reads back as set, per account, and
// false for an account that never set it or does not exist.
func testNewDeviceStep(t *testing.T, s custos.Store) {
	ctx := t.Context()
	a := mustCreateAccount(t, s, "acct-nds")
	mustCreateAccount(t, s, "acct-nds-other")
	for _, id := range []string{a.ID, "acct-nds-other", "acct-nds-missing"} {
		if on, err := s.NewDeviceStep(ctx, id); err != nil || on {
			t.Fatalf("NewDeviceStep(%s) = %v, %v; want false", id, on, err)
		}
	}
	for i, want := range []bool{true, false, true} {
		if err := s.SetNewDeviceStep(ctx, a.ID, want, newEvent("ev-nds-"+string(rune('a'+i)), a.ID, custos.EventNewDeviceStep, t0)); err != nil {
			t.Fatalf("SetNewDeviceStep(%v): %v", want, err)
		}
		if on, err := s.NewDeviceStep(ctx, a.ID); err != nil || on != want {
			t.Fatalf("NewDeviceStep = %v, %v; want %v", on, err, want)
		}
		// A login reads the switch with the account, by either key.
		byID, err1 := s.AccountByID(ctx, a.ID)
		byEmail, err2 := s.AccountByEmail(ctx, a.Email)
		if err1 != nil || err2 != nil || byID.NewDeviceStep != want || byEmail.NewDeviceStep != want {
			t.Fatalf("the account read with the switch %v: by id %v (%v), by email %v (%v)", want, byID.NewDeviceStep, err1, byEmail.NewDeviceStep, err2)
		}
	}
	if on, _ := s.NewDeviceStep(ctx, "acct-nds-other"); on {
		t.Error("the switch reached another account")
	}
	// The account's other settings are untouched.
	got, err := s.AccountByID(ctx, a.ID)
	if err != nil || got.Protection != (custos.Protection{}) || got.Email != a.Email {
		t.Errorf("AccountByID after the switch = %+v, %v", got, err)
	}
	wantCode(t, "SetNewDeviceStep(missing)", s.SetNewDeviceStep(ctx, "acct-nds-missing", true,
		newEvent("ev-nds-missing", "acct-nds-missing", custos.EventNewDeviceStep, t0)), custos.ENotFound)
}

// knownDeviceAuditedChanges is the audited change of known devices.
func knownDeviceAuditedChanges() []auditedChange {
	return []auditedChange{{
		name:  "SetNewDeviceStep",
		setup: createAccountOnly,
		change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
			return s.SetNewDeviceStep(ctx, p, true, ev)
		},
		state: func(t *testing.T, s custos.Store, p string) any {
			t.Helper()
			on, err := s.NewDeviceStep(t.Context(), p)
			if err != nil {
				t.Fatal(err)
			}
			return on
		},
	}}
}
