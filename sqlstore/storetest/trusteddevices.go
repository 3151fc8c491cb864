package storetest

import (
	"testing"
	"time"

	"github.com/custos/custos"
)

// trustTTL is how long the suite's trusted devices last.
const trustTTL = 7 * 24 * time.Hour

func mustTrustDevice(t *testing.T, s custos.TrustedDeviceStore, d custos.TrustedDevice) {
	t.Helper()
	if err := s.TrustDevice(t.Context(), d); err != nil {
		t.Fatalf("TrustDevice(%s): %v", d.ID, err)
	}
}

// wantTrusted fails t unless IsTrustedDevice(id, accountID, now) is want.
func wantTrusted(t *testing.T, s custos.TrustedDeviceStore, id, accountID string, now time.Time, want bool) {
	t.Helper()
	got, err := s.IsTrustedDevice(t.Context(), id, accountID, now)
	if err != nil {
		t.Fatalf("IsTrustedDevice(%s, %s): %v", id, accountID, err)
	}
	if got != want {
		t.Errorf("IsTrustedDevice(%s, %s, %v) = %v, want %v", id, accountID, now, got, want)
	}
}

// testTrustDevice checks a trusted device answers only for its own account
// and only until it expires.
func testTrustDevice(t *testing.T, s custos.Store) {
	d := custos.TrustedDevice{ID: "0123456789abcdef0123456789abcdef", AccountID: "acct-td", CreatedAt: t0, ExpiresAt: t0.Add(trustTTL)}
	mustTrustDevice(t, s, d)
	mustTrustDevice(t, s, custos.TrustedDevice{ID: "td-other", AccountID: "acct-td-other", CreatedAt: t0, ExpiresAt: t0.Add(trustTTL)})
	tests := []struct {
		name      string
		id        string
		accountID string
		now       time.Time
		want      bool
	}{
		{name: "own account, just made", id: d.ID, accountID: d.AccountID, now: t0, want: true},
		{name: "own account, last millisecond", id: d.ID, accountID: d.AccountID, now: d.ExpiresAt.Add(-time.Millisecond), want: true},
		{name: "expires exactly now", id: d.ID, accountID: d.AccountID, now: d.ExpiresAt},
		{name: "long expired", id: d.ID, accountID: d.AccountID, now: d.ExpiresAt.Add(30 * 24 * time.Hour)},
		{name: "another account's device", id: "td-other", accountID: d.AccountID, now: t0},
		{name: "this device for another account", id: d.ID, accountID: "acct-td-other", now: t0},
		{name: "unknown device", id: "td-absent", accountID: d.AccountID, now: t0},
		{name: "no account", id: d.ID, accountID: "", now: t0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantTrusted(t, s, tc.id, tc.accountID, tc.now, tc.want)
		})
	}
}

// testTrustDeviceErrors checks a taken id is refused whoever asks, and the
// device keeps its account and expiry.
func testTrustDeviceErrors(t *testing.T, s custos.Store) {
	ctx := t.Context()
	d := custos.TrustedDevice{ID: "td-taken", AccountID: "acct-td-err", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	mustTrustDevice(t, s, d)
	tests := []struct {
		name     string
		d        custos.TrustedDevice
		wantCode string // "" for a plain error
	}{
		{"same id, same account", custos.TrustedDevice{ID: d.ID, AccountID: d.AccountID, CreatedAt: t0, ExpiresAt: t0.Add(trustTTL)}, custos.EConflict},
		{"same id, another account", custos.TrustedDevice{ID: d.ID, AccountID: "acct-td-thief", CreatedAt: t0, ExpiresAt: t0.Add(trustTTL)}, custos.EConflict},
		{"no id", custos.TrustedDevice{AccountID: d.AccountID, CreatedAt: t0, ExpiresAt: t0.Add(trustTTL)}, ""},
		{"no account", custos.TrustedDevice{ID: "td-nobody", CreatedAt: t0, ExpiresAt: t0.Add(trustTTL)}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.TrustDevice(ctx, tc.d)
			if tc.wantCode != "" {
				wantCode(t, "TrustDevice", err, tc.wantCode)
			} else {
				wantPlain(t, "TrustDevice", err)
			}
		})
	}
	wantTrusted(t, s, d.ID, d.AccountID, t0.Add(time.Hour-time.Millisecond), true)
	wantTrusted(t, s, d.ID, d.AccountID, t0.Add(time.Hour), false)
	wantTrusted(t, s, d.ID, "acct-td-thief", t0, false)
	wantTrusted(t, s, "td-nobody", "", t0, false)
}

// testDeleteExpiredTrustedDevices sweeps devices expired by now (ExpiresAt
// <= now) and keeps the rest.
func testDeleteExpiredTrustedDevices(t *testing.T, s custos.Store) {
	ctx := t.Context()
	now := t0.Add(time.Hour)
	tests := []struct {
		name    string
		expires time.Time
		deleted bool
	}{
		{"long expired", t0, true},
		{"expires exactly now", now, true},
		{"one millisecond left", now.Add(time.Millisecond), false},
		{"a week left", now.Add(trustTTL), false},
	}
	for i, tc := range tests {
		mustTrustDevice(t, s, custos.TrustedDevice{ID: seq("td-sweep", i), AccountID: "acct-td-sweep", CreatedAt: t0.Add(-time.Hour), ExpiresAt: tc.expires})
	}
	n, err := s.DeleteExpiredTrustedDevices(ctx, now)
	if err != nil {
		t.Fatalf("DeleteExpiredTrustedDevices: %v", err)
	}
	if n != 2 {
		t.Errorf("DeleteExpiredTrustedDevices = %d, want 2", n)
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Asked before any of them expired: only a deleted one is gone.
			wantTrusted(t, s, seq("td-sweep", i), "acct-td-sweep", t0.Add(-time.Minute), !tc.deleted)
		})
	}
	if n, err := s.DeleteExpiredTrustedDevices(ctx, now); err != nil || n != 0 {
		t.Errorf("DeleteExpiredTrustedDevices again = %d, %v; want 0, nil", n, err)
	}
}
