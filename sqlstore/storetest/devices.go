package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/google/go-cmp/cmp"
)

// pendingWindow is how long the suite lets a device stay pending: devices
// created before t0 - pendingWindow are too old to confirm.
const pendingWindow = 10 * time.Minute

// sealed stands for a seed sealed with the key ring: arbitrary bytes, NUL
// and 0xff included, which must come back exactly.
func sealed(s string) []byte { return append([]byte{0x00, 0xff, 0x7f, 0x80, 0x00}, s...) }

func newTOTPDevice(id, accountID string) custos.Device {
	return custos.Device{
		ID:        id,
		AccountID: accountID,
		Type:      custos.DeviceTOTP,
		Name:      "Authenticator " + id,
		Secret:    sealed("seed-" + id),
		OTPKind:   "totp",
		Algorithm: "SHA1",
		Digits:    6,
		Period:    30,
		CreatedAt: t0,
	}
}

func newWebAuthnDevice(id, accountID string) custos.Device {
	return custos.Device{
		ID:         id,
		AccountID:  accountID,
		Type:       custos.DeviceWebAuthn,
		Name:       "Security key ✓ " + id,
		Credential: []byte(`{"id":"` + id + `","publicKey":"pQECAyYgASFYIA","signCount":0}`),
		CreatedAt:  t0,
	}
}

// newHardwareDevice is a confirmed device for the token serial, as
// BindToken takes it.
func newHardwareDevice(id, accountID, serial string) custos.Device {
	return custos.Device{
		ID:          id,
		AccountID:   accountID,
		Type:        custos.DeviceHardware,
		Name:        "Token " + serial,
		Secret:      sealed("token-" + serial),
		OTPKind:     "totp",
		Algorithm:   "SHA256",
		Digits:      8,
		Period:      60,
		Serial:      serial,
		LastStep:    29_610_000,
		Drift:       -2,
		CreatedAt:   t0,
		ConfirmedAt: t0.Add(time.Second),
	}
}

func mustCreateDevice(t *testing.T, s custos.Store, d custos.Device) {
	t.Helper()
	if err := s.CreateDevice(t.Context(), d); err != nil {
		t.Fatalf("CreateDevice(%s): %v", d.ID, err)
	}
}

// mustConfirmDevice creates d and confirms it at d.CreatedAt + 1s with
// lastStep, writing an event named after the device; it returns d as
// stored.
func mustConfirmDevice(t *testing.T, s custos.Store, d custos.Device, lastStep int64) custos.Device {
	t.Helper()
	mustCreateDevice(t, s, d)
	d.ConfirmedAt = d.CreatedAt.Add(time.Second)
	d.LastStep = lastStep
	ev := newEvent("ev-bound-"+d.ID, d.AccountID, custos.EventDeviceBound, d.ConfirmedAt)
	if err := s.ConfirmDevice(t.Context(), d.AccountID, d.ID, lastStep, d.ConfirmedAt, d.CreatedAt.Add(-pendingWindow), ev); err != nil {
		t.Fatalf("ConfirmDevice(%s): %v", d.ID, err)
	}
	return d
}

// wantDevice fails t unless the account's device id reads back as want.
func wantDevice(t *testing.T, s custos.Store, want custos.Device) {
	t.Helper()
	got, err := s.DeviceByID(t.Context(), want.AccountID, want.ID)
	if err != nil {
		t.Fatalf("DeviceByID(%s): %v", want.ID, err)
	}
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("DeviceByID(%s) mismatch (-want +got):\n%s", want.ID, diff)
	}
	for _, tm := range []time.Time{got.CreatedAt, got.ConfirmedAt, got.LastUsedAt} {
		if !tm.IsZero() && tm.Location() != time.UTC {
			t.Errorf("DeviceByID(%s): time %v is not in UTC", want.ID, tm)
		}
	}
	if want.ConfirmedAt.IsZero() != got.ConfirmedAt.IsZero() || want.LastUsedAt.IsZero() != got.LastUsedAt.IsZero() {
		t.Errorf("DeviceByID(%s): zero times differ: got confirmed %v, last used %v", want.ID, got.ConfirmedAt, got.LastUsedAt)
	}
}

// testDeviceRoundTrip writes devices of every kind and reads every field
// back, pending and confirmed.
func testDeviceRoundTrip(t *testing.T, s custos.Store) {
	a := mustCreateAccount(t, s, "acct-dev")
	totp := newTOTPDevice("dev-totp", a.ID)
	hotp := newTOTPDevice("dev-hotp", a.ID)
	hotp.OTPKind, hotp.Algorithm, hotp.Digits, hotp.Period = "hotp", "SHA512", 8, 0
	hotp.LastStep, hotp.Drift = 1<<40+7, 3
	hotp.CreatedAt = t0.Add(999 * time.Millisecond)
	hotp.LastUsedAt = t0.Add(-time.Hour) // a carried-over device, used before
	webauthn := newWebAuthnDevice("dev-webauthn", a.ID)
	tests := []struct {
		name string
		d    custos.Device
	}{
		{"totp, zero times", totp},
		{"hotp, every field", hotp},
		{"webauthn, no secret", webauthn},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mustCreateDevice(t, s, tc.d)
			wantDevice(t, s, tc.d)
			confirmed := mustConfirmDevice(t, s, withID(tc.d, tc.d.ID+"-c"), 57_000_001)
			wantDevice(t, s, confirmed)
		})
	}
}

func withID(d custos.Device, id string) custos.Device {
	d.ID = id
	return d
}

// testCreateDeviceErrors checks each refusal leaves no device behind.
func testCreateDeviceErrors(t *testing.T, s custos.Store) {
	ctx := t.Context()
	a := mustCreateAccount(t, s, "acct-deverr")
	existing := newTOTPDevice("dev-existing", a.ID)
	existing.Serial = "SN-TAKEN"
	mustCreateDevice(t, s, existing)
	confirmed := newTOTPDevice("dev-confirmed", a.ID)
	confirmed.ConfirmedAt = t0
	sameSerial := newTOTPDevice("dev-same-serial", a.ID)
	sameSerial.Serial = existing.Serial
	tests := []struct {
		name     string
		d        custos.Device
		wantCode string // "" for a plain failure
	}{
		{"id taken", newWebAuthnDevice(existing.ID, a.ID), custos.EConflict},
		{"serial taken", sameSerial, custos.EConflict},
		{"unknown account", newTOTPDevice("dev-orphan", "acct-absent"), custos.ENotFound},
		{"already confirmed (a plain error)", confirmed, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.CreateDevice(ctx, tc.d)
			if tc.wantCode != "" {
				wantCode(t, "CreateDevice", err, tc.wantCode)
			} else {
				wantPlain(t, "CreateDevice", err)
			}
			if tc.d.ID != existing.ID {
				_, err := s.DeviceByID(ctx, tc.d.AccountID, tc.d.ID)
				wantCode(t, "DeviceByID after refused create", err, custos.ENotFound)
			}
		})
	}
	wantDevice(t, s, existing)
	// Devices that are not hardware tokens all have the empty serial.
	mustCreateDevice(t, s, newTOTPDevice("dev-no-serial-1", a.ID))
	mustCreateDevice(t, s, newWebAuthnDevice("dev-no-serial-2", a.ID))
}

// testConfirmDevice runs its steps in order: only a pending device of the
// account, young enough, is confirmed, once, with its event.
func testConfirmDevice(t *testing.T, s custos.Store) {
	ctx := t.Context()
	alice := mustCreateAccount(t, s, "acct-conf-alice")
	bob := mustCreateAccount(t, s, "acct-conf-bob")
	fresh := newTOTPDevice("dev-fresh", alice.ID)
	edge := newTOTPDevice("dev-edge", alice.ID)
	edge.CreatedAt = t0.Add(-pendingWindow)
	old := newTOTPDevice("dev-old", alice.ID)
	old.CreatedAt = t0.Add(-pendingWindow - time.Millisecond)
	bobs := newTOTPDevice("dev-bobs", bob.ID)
	for _, d := range []custos.Device{fresh, edge, old, bobs} {
		mustCreateDevice(t, s, d)
	}
	at := t0.Add(time.Minute)
	pendingSince := t0.Add(-pendingWindow)
	var written []custos.AuditEvent
	tests := []struct {
		name      string
		accountID string
		id        string
		wantCode  string
	}{
		{"another account's device", alice.ID, bobs.ID, custos.ENotFound},
		{"unknown device", alice.ID, "dev-absent", custos.ENotFound},
		{"created before pendingSince", alice.ID, old.ID, custos.ENotFound},
		{"created exactly at pendingSince", alice.ID, edge.ID, ""},
		{"pending and fresh", alice.ID, fresh.ID, ""},
		{"already confirmed", alice.ID, fresh.ID, custos.ENotFound},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := newEvent(seq("ev-conf", i), tc.accountID, custos.EventDeviceBound, at)
			err := s.ConfirmDevice(ctx, tc.accountID, tc.id, int64(1000+i), at, pendingSince, ev)
			if tc.wantCode != "" {
				wantCode(t, "ConfirmDevice", err, tc.wantCode)
				return
			}
			if err != nil {
				t.Fatalf("ConfirmDevice: %v", err)
			}
			written = append([]custos.AuditEvent{ev}, written...)
			got, err := s.DeviceByID(ctx, tc.accountID, tc.id)
			if err != nil {
				t.Fatalf("DeviceByID: %v", err)
			}
			if !got.ConfirmedAt.Equal(at) || got.LastStep != int64(1000+i) {
				t.Errorf("confirmed device: ConfirmedAt %v, LastStep %d; want %v, %d", got.ConfirmedAt, got.LastStep, at, 1000+i)
			}
		})
	}
	// The refused ones are still pending, and only successes wrote events.
	for _, d := range []custos.Device{old, bobs} {
		wantDevice(t, s, d)
	}
	wantEvents(t, s, alice.ID, append(written, newEvent("ev-signup-"+alice.ID, alice.ID, custos.EventSignup, t0))...)
	wantEvents(t, s, bob.ID, newEvent("ev-signup-"+bob.ID, bob.ID, custos.EventSignup, t0))
	wantPlain(t, "ConfirmDevice(zero time)",
		s.ConfirmDevice(ctx, bob.ID, bobs.ID, 1, time.Time{}, pendingSince, newEvent("ev-zero", bob.ID, custos.EventDeviceBound, t0)))
	wantDevice(t, s, bobs)
}

// wantPlain fails t unless err is a plain error: a caller bug the store
// refuses without a *custos.Error code.
func wantPlain(t *testing.T, what string, err error) {
	t.Helper()
	var e *custos.Error
	switch {
	case err == nil:
		t.Errorf("%s: got no error, want a plain one", what)
	case errors.As(err, &e):
		t.Errorf("%s: got %v, want a plain error", what, err)
	}
}

// testListDevices checks only confirmed devices are listed, the account's
// own, oldest first.
func testListDevices(t *testing.T, s custos.Store) {
	ctx := t.Context()
	a := mustCreateAccount(t, s, "acct-listdev")
	b := mustCreateAccount(t, s, "acct-listdev-other")
	mk := func(id, accountID string, created time.Time) custos.Device {
		d := newTOTPDevice(id, accountID)
		d.CreatedAt = created
		return d
	}
	newest := mustConfirmDevice(t, s, mk("dev-4", a.ID, t0.Add(time.Minute)), 4)
	tieHigh := mustConfirmDevice(t, s, mk("dev-3", a.ID, t0), 3)
	oldest := mustConfirmDevice(t, s, mk("dev-1", a.ID, t0.Add(-time.Minute)), 1)
	tieLow := mustConfirmDevice(t, s, mk("dev-2", a.ID, t0), 2)
	mustCreateDevice(t, s, mk("dev-pending", a.ID, t0.Add(-2*time.Minute)))
	others := mustConfirmDevice(t, s, mk("dev-5", b.ID, t0), 5)
	tests := []struct {
		name      string
		accountID string
		want      []custos.Device
	}{
		{"oldest first, ties by id, no pending", a.ID, []custos.Device{oldest, tieLow, tieHigh, newest}},
		{"only the account's own", b.ID, []custos.Device{others}},
		{"none", "acct-absent", []custos.Device{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListDevices(ctx, tc.accountID)
			if err != nil {
				t.Fatalf("ListDevices: %v", err)
			}
			if diff := cmp.Diff(tc.want, got, opts); diff != "" {
				t.Errorf("ListDevices mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// testRenameDevice renames only the account's own confirmed device, each
// rename writing its event and each refusal none.
func testRenameDevice(t *testing.T, s custos.Store) {
	ctx := t.Context()
	alice := mustCreateAccount(t, s, "acct-ren-alice")
	bob := mustCreateAccount(t, s, "acct-ren-bob")
	d := mustConfirmDevice(t, s, newTOTPDevice("dev-ren", alice.ID), 7)
	pending := newTOTPDevice("dev-ren-pending", alice.ID)
	mustCreateDevice(t, s, pending)
	bobs := mustConfirmDevice(t, s, newTOTPDevice("dev-ren-bob", bob.ID), 7)
	tests := []struct {
		name      string
		accountID string
		id        string
		newName   string
		wantCode  string
	}{
		{"own confirmed device", alice.ID, d.ID, "Work phone 📱", ""},
		{"the same name again", alice.ID, d.ID, "Work phone 📱", ""},
		{"pending device", alice.ID, pending.ID, "x", custos.ENotFound},
		{"another account's device", alice.ID, bobs.ID, "x", custos.ENotFound},
		{"unknown device", alice.ID, "dev-absent", "x", custos.ENotFound},
	}
	var written []custos.AuditEvent // newest first
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := newEvent(seq("ev-ren", i), tc.accountID, custos.EventDeviceRenamed, t0.Add(time.Duration(i+1)*time.Minute))
			err := s.RenameDevice(ctx, tc.accountID, tc.id, tc.newName, ev)
			if tc.wantCode != "" {
				wantCode(t, "RenameDevice", err, tc.wantCode)
				return
			}
			if err != nil {
				t.Fatalf("RenameDevice: %v", err)
			}
			written = append([]custos.AuditEvent{ev}, written...)
		})
	}
	d.Name = "Work phone 📱"
	wantDevice(t, s, d)
	wantDevice(t, s, pending)
	wantDevice(t, s, bobs)
	wantEvents(t, s, alice.ID, append(written,
		newEvent("ev-bound-"+d.ID, alice.ID, custos.EventDeviceBound, d.ConfirmedAt),
		newEvent("ev-signup-"+alice.ID, alice.ID, custos.EventSignup, t0))...)
	wantEvents(t, s, bob.ID,
		newEvent("ev-bound-"+bobs.ID, bob.ID, custos.EventDeviceBound, bobs.ConfirmedAt),
		newEvent("ev-signup-"+bob.ID, bob.ID, custos.EventSignup, t0))
	if len(written) != 2 {
		t.Errorf("%d renames wrote their event, want 2", len(written))
	}
}

func testUpdateCredential(t *testing.T, s custos.Store) {
	ctx := t.Context()
	a := mustCreateAccount(t, s, "acct-cred")
	d := newWebAuthnDevice("dev-cred", a.ID)
	d = mustConfirmDevice(t, s, d, 0)
	pending := newWebAuthnDevice("dev-cred-pending", a.ID)
	mustCreateDevice(t, s, pending)
	at := t0.Add(time.Hour)
	if err := s.UpdateCredential(ctx, d.ID, []byte(`{"sign_count":7}`), at); err != nil {
		t.Fatalf("UpdateCredential: %v", err)
	}
	d.Credential, d.LastUsedAt = []byte(`{"sign_count":7}`), at
	wantDevice(t, s, d)
	wantCode(t, "UpdateCredential(pending)", s.UpdateCredential(ctx, pending.ID, []byte(`{}`), at), custos.ENotFound)
	wantCode(t, "UpdateCredential(unknown)", s.UpdateCredential(ctx, "dev-absent", []byte(`{}`), at), custos.ENotFound)
	wantDevice(t, s, pending)
}

// testDeleteDevice runs its steps in order against two accounts; hardware
// devices are covered with the tokens.
func testDeleteDevice(t *testing.T, s custos.Store) {
	ctx := t.Context()
	alice := mustCreateAccount(t, s, "acct-del-alice")
	bob := mustCreateAccount(t, s, "acct-del-bob")
	d := mustConfirmDevice(t, s, newTOTPDevice("dev-del", alice.ID), 7)
	pending := newWebAuthnDevice("dev-del-pending", alice.ID)
	mustCreateDevice(t, s, pending)
	bobs := mustConfirmDevice(t, s, newTOTPDevice("dev-del-bob", bob.ID), 7)
	unbound := newEvent("ev-unbound", alice.ID, custos.EventDeviceUnbound, t0.Add(time.Hour))
	unboundPending := newEvent("ev-unbound-pending", alice.ID, custos.EventDeviceUnbound, t0.Add(2*time.Hour))
	tests := []struct {
		name      string
		accountID string
		id        string
		ev        custos.AuditEvent
		wantCode  string
	}{
		{"another account's device", alice.ID, bobs.ID, newEvent("ev-x1", alice.ID, custos.EventDeviceUnbound, t0), custos.ENotFound},
		{"unknown device", alice.ID, "dev-absent", newEvent("ev-x2", alice.ID, custos.EventDeviceUnbound, t0), custos.ENotFound},
		{"own device", alice.ID, d.ID, unbound, ""},
		{"own device again", alice.ID, d.ID, newEvent("ev-x3", alice.ID, custos.EventDeviceUnbound, t0), custos.ENotFound},
		{"own pending device", alice.ID, pending.ID, unboundPending, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.DeleteDevice(ctx, tc.accountID, tc.id, "", tc.ev)
			if tc.wantCode != "" {
				wantCode(t, "DeleteDevice", err, tc.wantCode)
				return
			}
			if err != nil {
				t.Fatalf("DeleteDevice: %v", err)
			}
			_, err = s.DeviceByID(ctx, tc.accountID, tc.id)
			wantCode(t, "DeviceByID after delete", err, custos.ENotFound)
		})
	}
	wantDevice(t, s, bobs)
	wantEvents(t, s, alice.ID, unboundPending, unbound,
		newEvent("ev-bound-"+d.ID, alice.ID, custos.EventDeviceBound, d.ConfirmedAt),
		newEvent("ev-signup-"+alice.ID, alice.ID, custos.EventSignup, t0))
}

func testDeletePendingDevices(t *testing.T, s custos.Store) {
	ctx := t.Context()
	a := mustCreateAccount(t, s, "acct-sweep")
	before := t0
	tests := []struct {
		name      string
		created   time.Time
		confirmed bool
		deleted   bool
	}{
		{"pending, created before", before.Add(-time.Millisecond), false, true},
		{"pending, long before", before.Add(-24 * time.Hour), false, true},
		{"pending, created exactly at the cut-off", before, false, false},
		{"pending, created after", before.Add(time.Minute), false, false},
		{"confirmed, created before", before.Add(-time.Hour), true, false},
	}
	wantDeleted := 0
	for i, tc := range tests {
		d := newTOTPDevice(seq("dev-sweep", i), a.ID)
		d.CreatedAt = tc.created
		if tc.confirmed {
			mustConfirmDevice(t, s, d, 1)
		} else {
			mustCreateDevice(t, s, d)
		}
		if tc.deleted {
			wantDeleted++
		}
	}
	n, err := s.DeletePendingDevices(ctx, before)
	if err != nil {
		t.Fatalf("DeletePendingDevices: %v", err)
	}
	if n != wantDeleted {
		t.Errorf("DeletePendingDevices = %d, want %d", n, wantDeleted)
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.DeviceByID(ctx, a.ID, seq("dev-sweep", i))
			if tc.deleted {
				wantCode(t, "DeviceByID", err, custos.ENotFound)
			} else if err != nil {
				t.Errorf("DeviceByID: %v, want it kept", err)
			}
		})
	}
	n, err = s.DeletePendingDevices(ctx, before)
	if err != nil || n != 0 {
		t.Errorf("DeletePendingDevices again = %d, %v; want 0, nil", n, err)
	}
}
