package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/google/go-cmp/cmp"
)

// bindRaces is how many tokens testBindTokenConcurrent races two binds on.
const bindRaces = 20

func newToken(serial string) custos.HardwareToken {
	return custos.HardwareToken{
		Serial:    serial,
		Secret:    sealed("token-" + serial),
		OTPKind:   "totp",
		Algorithm: "SHA256",
		Digits:    8,
		Period:    60,
		Status:    custos.TokenInStock,
		CreatedAt: t0.Add(-24 * time.Hour),
	}
}

func mustImportToken(t *testing.T, s custos.Store, tok custos.HardwareToken) {
	t.Helper()
	if err := s.ImportToken(t.Context(), tok); err != nil {
		t.Fatalf("ImportToken(%s): %v", tok.Serial, err)
	}
}

// wantToken fails t unless the token reads back as want.
func wantToken(t *testing.T, s custos.Store, want custos.HardwareToken) {
	t.Helper()
	got, err := s.TokenBySerial(t.Context(), want.Serial)
	if err != nil {
		t.Fatalf("TokenBySerial(%s): %v", want.Serial, err)
	}
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("TokenBySerial(%s) mismatch (-want +got):\n%s", want.Serial, diff)
	}
	if got.CreatedAt.Location() != time.UTC {
		t.Errorf("TokenBySerial(%s): CreatedAt %v is not in UTC", want.Serial, got.CreatedAt)
	}
}

func testImportToken(t *testing.T, s custos.Store) {
	ctx := t.Context()
	totp := newToken("SN-TOTP-0001")
	hotp := newToken("SN-HOTP-0002")
	hotp.OTPKind, hotp.Algorithm, hotp.Digits, hotp.Period, hotp.Counter = "hotp", "SHA1", 6, 0, 1<<33+5
	claimsBound := newToken("SN-CLAIMS-0003")
	claimsBound.Status, claimsBound.DeviceID = custos.TokenBound, "dev-elsewhere"
	tests := []struct {
		name string
		tok  custos.HardwareToken
	}{
		{"totp", totp},
		{"hotp with a counter", hotp},
		{"status and device are not read: in stock", claimsBound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mustImportToken(t, s, tc.tok)
			want := tc.tok
			want.Status, want.DeviceID = custos.TokenInStock, ""
			wantToken(t, s, want)
		})
	}
	t.Run("duplicate serial", func(t *testing.T) {
		dup := newToken(totp.Serial)
		dup.Secret = sealed("another seed")
		wantCode(t, "ImportToken(duplicate)", s.ImportToken(ctx, dup), custos.EConflict)
		wantToken(t, s, totp)
	})
	t.Run("no secret (a plain error)", func(t *testing.T) {
		bare := newToken("SN-BARE")
		bare.Secret = nil
		wantPlain(t, "ImportToken(no secret)", s.ImportToken(ctx, bare))
		_, err := s.TokenBySerial(ctx, bare.Serial)
		wantCode(t, "TokenBySerial(refused)", err, custos.ENotFound)
	})
	_, err := s.TokenBySerial(ctx, "SN-ABSENT")
	wantCode(t, "TokenBySerial(unknown)", err, custos.ENotFound)
}

// testBindToken runs its steps in order: a token in stock binds once, and
// a refused bind writes neither the device nor the event.
func testBindToken(t *testing.T, s custos.Store) {
	ctx := t.Context()
	a := mustCreateAccount(t, s, "acct-bind")
	stock := newToken("SN-STOCK")
	retired := newToken("SN-RETIRED")
	for _, tok := range []custos.HardwareToken{stock, retired} {
		mustImportToken(t, s, tok)
	}
	// Retire one the only way there is: bind it, then unbind it retired.
	if err := s.BindToken(ctx, retired.Serial, newHardwareDevice("dev-to-retire", a.ID, retired.Serial),
		newEvent("ev-bind-retire", a.ID, custos.EventDeviceBound, t0)); err != nil {
		t.Fatalf("BindToken(to retire): %v", err)
	}
	if err := s.DeleteDevice(ctx, a.ID, "dev-to-retire", custos.TokenRetired,
		newEvent("ev-unbind-retire", a.ID, custos.EventDeviceUnbound, t0)); err != nil {
		t.Fatalf("DeleteDevice(to retire): %v", err)
	}
	bound := newHardwareDevice("dev-bound", a.ID, stock.Serial)
	pendingDev := newHardwareDevice("dev-bind-pending", a.ID, stock.Serial)
	pendingDev.ConfirmedAt = time.Time{}
	tests := []struct {
		name     string
		serial   string
		d        custos.Device
		wantCode string // "plain" for a plain error
	}{
		{"device not confirmed", stock.Serial, pendingDev, "plain"},
		{"device of another serial", stock.Serial, newHardwareDevice("dev-bind-other", a.ID, "SN-OTHER"), "plain"},
		{"unknown account", stock.Serial, newHardwareDevice("dev-bind-orphan", "acct-absent", stock.Serial), custos.ENotFound},
		{"in stock", stock.Serial, bound, ""},
		{"already bound", stock.Serial, newHardwareDevice("dev-bind-again", a.ID, stock.Serial), custos.ENotFound},
		{"retired", retired.Serial, newHardwareDevice("dev-bind-retired", a.ID, retired.Serial), custos.ENotFound},
		{"unknown serial", "SN-ABSENT", newHardwareDevice("dev-bind-absent", a.ID, "SN-ABSENT"), custos.ENotFound},
	}
	var written []custos.AuditEvent
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := newEvent(seq("ev-bind", i), a.ID, custos.EventDeviceBound, t0.Add(time.Duration(i)*time.Second))
			err := s.BindToken(ctx, tc.serial, tc.d, ev)
			switch tc.wantCode {
			case "":
				if err != nil {
					t.Fatalf("BindToken: %v", err)
				}
				written = append([]custos.AuditEvent{ev}, written...)
				wantDevice(t, s, tc.d)
				return
			case "plain":
				wantPlain(t, "BindToken", err)
			default:
				wantCode(t, "BindToken", err, tc.wantCode)
			}
			_, err = s.DeviceByID(ctx, tc.d.AccountID, tc.d.ID)
			wantCode(t, "DeviceByID after refused bind", err, custos.ENotFound)
		})
	}
	stock.Status, stock.DeviceID = custos.TokenBound, bound.ID
	wantToken(t, s, stock)
	retired.Status = custos.TokenRetired
	wantToken(t, s, retired)
	listed, err := s.ListDevices(ctx, a.ID)
	if err != nil {
		t.Fatalf("ListDevices: %v", err)
	}
	if diff := cmp.Diff([]custos.Device{bound}, listed, opts); diff != "" {
		t.Errorf("ListDevices mismatch (-want +got):\n%s", diff)
	}
	wantEvents(t, s, a.ID, append(written,
		newEvent("ev-unbind-retire", a.ID, custos.EventDeviceUnbound, t0),
		newEvent("ev-bind-retire", a.ID, custos.EventDeviceBound, t0),
		newEvent("ev-signup-"+a.ID, a.ID, custos.EventSignup, t0))...)
}

// testBindTokenConcurrent races two binds, from two accounts, on each of
// bindRaces tokens: exactly one wins each, the other finds the token gone
// from stock, and only the winner's device and event exist.
func testBindTokenConcurrent(t *testing.T, s custos.Store) {
	ctx := t.Context()
	accounts := []custos.Account{mustCreateAccount(t, s, "acct-race-0"), mustCreateAccount(t, s, "acct-race-1")}
	type bind struct {
		d   custos.Device
		ev  custos.AuditEvent
		err error
	}
	binds := make([][2]bind, bindRaces)
	for i := range binds {
		serial := seq("SN-RACE", i)
		mustImportToken(t, s, newToken(serial))
		for j, a := range accounts {
			id := fmt.Sprintf("dev-race-%02d-%d", i, j)
			binds[i][j] = bind{d: newHardwareDevice(id, a.ID, serial), ev: newEvent("ev-"+id, a.ID, custos.EventDeviceBound, t0)}
		}
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range binds {
		for j := range binds[i] {
			wg.Go(func() {
				b := &binds[i][j]
				<-start
				b.err = s.BindToken(ctx, b.d.Serial, b.d, b.ev)
			})
		}
	}
	close(start)
	wg.Wait()
	wonBy := make([][]custos.AuditEvent, len(accounts))
	for i, pair := range binds {
		winner := -1
		for j, b := range pair {
			switch {
			case b.err == nil && winner >= 0:
				t.Errorf("token %d: both binds won", i)
			case b.err == nil:
				winner = j
			default:
				wantCode(t, "BindToken(loser)", b.err, custos.ENotFound)
				_, err := s.DeviceByID(ctx, b.d.AccountID, b.d.ID)
				wantCode(t, "DeviceByID(loser)", err, custos.ENotFound)
			}
		}
		if winner < 0 {
			t.Errorf("token %d: no bind won", i)
			continue
		}
		won := pair[winner]
		wantDevice(t, s, won.d)
		tok := newToken(won.d.Serial)
		tok.Status, tok.DeviceID = custos.TokenBound, won.d.ID
		wantToken(t, s, tok)
		wonBy[winner] = append(wonBy[winner], won.ev)
	}
	for j, a := range accounts {
		evs, err := s.ListAudit(ctx, a.ID, 1000)
		if err != nil {
			t.Fatalf("ListAudit: %v", err)
		}
		if got, want := len(evs), len(wonBy[j])+1; got != want {
			t.Errorf("account %s has %d events, want %d (its wins and its signup)", a.ID, got, want)
		}
	}
}

// testDeleteHardwareDevice unbinds hardware devices: the token goes back to
// stock (and binds again) or is retired (and binds no more), as asked.
func testDeleteHardwareDevice(t *testing.T, s custos.Store) {
	ctx := t.Context()
	a := mustCreateAccount(t, s, "acct-unbind")
	tok := newToken("SN-UNBIND")
	mustImportToken(t, s, tok)
	bindAs := func(id string) {
		t.Helper()
		if err := s.BindToken(ctx, tok.Serial, newHardwareDevice(id, a.ID, tok.Serial),
			newEvent("ev-bind-"+id, a.ID, custos.EventDeviceBound, t0)); err != nil {
			t.Fatalf("BindToken(%s): %v", id, err)
		}
	}
	bindAs("dev-hw-1")
	t.Run("unknown token status (a plain error) changes nothing", func(t *testing.T) {
		wantPlain(t, "DeleteDevice", s.DeleteDevice(ctx, a.ID, "dev-hw-1", "lost",
			newEvent("ev-unbind-lost", a.ID, custos.EventDeviceUnbound, t0)))
		wantDevice(t, s, newHardwareDevice("dev-hw-1", a.ID, tok.Serial))
		want := tok
		want.Status, want.DeviceID = custos.TokenBound, "dev-hw-1"
		wantToken(t, s, want)
	})
	t.Run("back to stock", func(t *testing.T) {
		if err := s.DeleteDevice(ctx, a.ID, "dev-hw-1", custos.TokenInStock,
			newEvent("ev-unbind-1", a.ID, custos.EventDeviceUnbound, t0.Add(time.Minute))); err != nil {
			t.Fatalf("DeleteDevice: %v", err)
		}
		wantToken(t, s, tok)
		bindAs("dev-hw-2") // the serial is free for a new device
	})
	t.Run("retired", func(t *testing.T) {
		if err := s.DeleteDevice(ctx, a.ID, "dev-hw-2", custos.TokenRetired,
			newEvent("ev-unbind-2", a.ID, custos.EventDeviceUnbound, t0.Add(2*time.Minute))); err != nil {
			t.Fatalf("DeleteDevice: %v", err)
		}
		want := tok
		want.Status = custos.TokenRetired
		wantToken(t, s, want)
		err := s.BindToken(ctx, tok.Serial, newHardwareDevice("dev-hw-3", a.ID, tok.Serial),
			newEvent("ev-bind-dev-hw-3", a.ID, custos.EventDeviceBound, t0))
		wantCode(t, "BindToken(retired)", err, custos.ENotFound)
	})
	wantEvents(t, s, a.ID,
		newEvent("ev-unbind-2", a.ID, custos.EventDeviceUnbound, t0.Add(2*time.Minute)),
		newEvent("ev-unbind-1", a.ID, custos.EventDeviceUnbound, t0.Add(time.Minute)),
		newEvent("ev-bind-dev-hw-2", a.ID, custos.EventDeviceBound, t0),
		newEvent("ev-bind-dev-hw-1", a.ID, custos.EventDeviceBound, t0),
		newEvent("ev-signup-"+a.ID, a.ID, custos.EventSignup, t0))
}
