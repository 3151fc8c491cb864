package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/google/go-cmp/cmp"
)

// Numbers the phone tests bind.
const (
	phoneP = "+8613800138000"
	phoneQ = "+8613900139000"
)

// PhoneRacers accounts bind one number at once in SetPhoneRace, with a limit
// of PhoneRaceLimit accounts per number.
const (
	PhoneRacers    = 20
	PhoneRaceLimit = 5
)

// wantAccount fails t unless AccountByID reads back want.
func wantAccount(t *testing.T, s custos.Store, want custos.Account) {
	t.Helper()
	got, err := s.AccountByID(t.Context(), want.ID)
	if err != nil {
		t.Fatalf("AccountByID(%s): %v", want.ID, err)
	}
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("AccountByID(%s) mismatch (-want +got):\n%s", want.ID, diff)
	}
}

// wantPhoneIDs fails t unless AccountsByPhone lists exactly the accounts
// ids, in that order, as a non-nil slice.
func wantPhoneIDs(t *testing.T, s custos.Store, phone string, ids ...string) {
	t.Helper()
	got, err := s.AccountsByPhone(t.Context(), phone)
	if err != nil {
		t.Fatalf("AccountsByPhone(%q): %v", phone, err)
	}
	if got == nil {
		t.Errorf("AccountsByPhone(%q) = nil, want an empty slice", phone)
	}
	gotIDs := []string{}
	for _, a := range got {
		gotIDs = append(gotIDs, a.ID)
	}
	if ids == nil {
		ids = []string{}
	}
	if diff := cmp.Diff(ids, gotIDs); diff != "" {
		t.Errorf("AccountsByPhone(%q) ids (-want +got):\n%s", phone, diff)
	}
}

// testAccountsByPhone binds accounts created out of order, some through
// CreateAccount and some through SetPhone, and lists them oldest first
// (the same CreatedAt by id), whole.
func testAccountsByPhone(t *testing.T, s custos.Store) {
	ctx := t.Context()
	created := map[string]time.Duration{"ph-c": 2 * time.Second, "ph-a": 0, "ph-b": time.Second, "ph-d": 0, "ph-other": 0}
	want := map[string]custos.Account{}
	for i, id := range []string{"ph-c", "ph-a", "ph-b", "ph-d", "ph-other"} {
		a := newAccount(id)
		a.CreatedAt = t0.Add(created[id])
		if i%2 == 0 {
			a.Phone = phoneP // stored by CreateAccount
		}
		if id == "ph-other" {
			a.Phone = phoneQ
		}
		if err := s.CreateAccount(ctx, a, newEvent("ev-signup-"+id, id, custos.EventSignup, t0)); err != nil {
			t.Fatalf("CreateAccount(%s): %v", id, err)
		}
		if a.Phone == "" {
			a.Phone = phoneP
			if err := s.SetPhone(ctx, id, phoneP, 10, newEvent("ev-phone-"+id, id, custos.EventPhoneChanged, t0)); err != nil {
				t.Fatalf("SetPhone(%s): %v", id, err)
			}
		}
		want[id] = a
	}
	mustCreateAccount(t, s, "ph-none")

	got, err := s.AccountsByPhone(ctx, phoneP)
	if err != nil {
		t.Fatalf("AccountsByPhone: %v", err)
	}
	wantList := []custos.Account{want["ph-a"], want["ph-d"], want["ph-b"], want["ph-c"]}
	if diff := cmp.Diff(wantList, got, opts); diff != "" {
		t.Errorf("AccountsByPhone(%s) mismatch (-want +got):\n%s", phoneP, diff)
	}
	tests := []struct {
		name  string
		phone string
		ids   []string
	}{
		{"another number", phoneQ, []string{"ph-other"}},
		{"a number nobody holds", "+8613700137000", nil},
		{"no number is not a number", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantPhoneIDs(t, s, tc.phone, tc.ids...)
		})
	}
}

// testSetPhone steps through bindings of one number with a limit of 3, on
// accounts whose state carries from step to step.
func testSetPhone(t *testing.T, s custos.Store) {
	ctx := t.Context()
	accounts := map[string]custos.Account{}
	events := map[string][]custos.AuditEvent{}
	for _, id := range []string{"sp-1", "sp-2", "sp-3", "sp-4"} {
		accounts[id] = mustCreateAccount(t, s, id)
		events[id] = []custos.AuditEvent{newEvent("ev-signup-"+id, id, custos.EventSignup, t0)}
	}
	tests := []struct {
		name      string
		accountID string
		phone     string
		max       int
		eventID   string // "" for a fresh one
		wantCode  string
		holders   []string // AccountsByPhone(phoneP) afterwards
	}{
		{name: "first", accountID: "sp-1", phone: phoneP, max: 3, holders: []string{"sp-1"}},
		{name: "second", accountID: "sp-2", phone: phoneP, max: 3, holders: []string{"sp-1", "sp-2"}},
		{name: "third reaches the limit", accountID: "sp-3", phone: phoneP, max: 3, holders: []string{"sp-1", "sp-2", "sp-3"}},
		{name: "fourth is refused", accountID: "sp-4", phone: phoneP, max: 3, wantCode: custos.EConflict, holders: []string{"sp-1", "sp-2", "sp-3"}},
		{name: "rebinding its own number does not count itself", accountID: "sp-3", phone: phoneP, max: 3, holders: []string{"sp-1", "sp-2", "sp-3"}},
		{name: "another number is free", accountID: "sp-4", phone: phoneQ, max: 3, holders: []string{"sp-1", "sp-2", "sp-3"}},
		{name: "unbinding never conflicts", accountID: "sp-2", phone: "", max: 0, holders: []string{"sp-1", "sp-3"}},
		{name: "unbinding releases a slot", accountID: "sp-4", phone: phoneP, max: 3, holders: []string{"sp-1", "sp-3", "sp-4"}},
		{name: "full again", accountID: "sp-2", phone: phoneP, max: 3, wantCode: custos.EConflict, holders: []string{"sp-1", "sp-3", "sp-4"}},
		{name: "a lowered limit counts the other holders", accountID: "sp-1", phone: phoneP, max: 2, wantCode: custos.EConflict, holders: []string{"sp-1", "sp-3", "sp-4"}},
		{name: "unknown account", accountID: "acct-absent", phone: phoneQ, max: 3, wantCode: custos.ENotFound, holders: []string{"sp-1", "sp-3", "sp-4"}},
		{name: "unknown account unbinding", accountID: "acct-absent", phone: "", max: 3, wantCode: custos.ENotFound, holders: []string{"sp-1", "sp-3", "sp-4"}},
		{name: "event id taken rolls back", accountID: "sp-2", phone: phoneQ, max: 3, eventID: "ev-signup-sp-1", wantCode: custos.EConflict, holders: []string{"sp-1", "sp-3", "sp-4"}},
		{name: "moving to another number", accountID: "sp-1", phone: phoneQ, max: 3, holders: []string{"sp-3", "sp-4"}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := tc.eventID
			if id == "" {
				id = seq("ev-phone", i)
			}
			ev := newEvent(id, tc.accountID, custos.EventPhoneChanged, t0.Add(time.Duration(i+1)*time.Second))
			err := s.SetPhone(ctx, tc.accountID, tc.phone, tc.max, ev)
			if tc.wantCode != "" {
				wantCode(t, "SetPhone", err, tc.wantCode)
			} else if err != nil {
				t.Fatalf("SetPhone: %v", err)
			} else {
				a := accounts[tc.accountID]
				a.Phone = tc.phone
				accounts[tc.accountID] = a
				events[tc.accountID] = append([]custos.AuditEvent{ev}, events[tc.accountID]...)
			}
			for _, a := range accounts {
				wantAccount(t, s, a)
			}
			wantPhoneIDs(t, s, phoneP, tc.holders...)
		})
	}
	for id, evs := range events {
		wantEvents(t, s, id, evs...)
	}
	wantEvents(t, s, "acct-absent")
	wantPhoneIDs(t, s, phoneQ, "sp-1")
}

func testSetPhoneRace(t *testing.T, s custos.Store) { SetPhoneRace(t, s) }

// SetPhoneRace binds one number to PhoneRacers accounts at once with a
// limit of PhoneRaceLimit, spreading the calls over stores (handles on one
// database, as replicas are): exactly PhoneRaceLimit succeed, every other
// gets EConflict and changes nothing, and the number lists the winners.
func SetPhoneRace(t *testing.T, stores ...custos.Store) {
	t.Helper()
	ctx := t.Context()
	for i := range PhoneRacers {
		mustCreateAccount(t, stores[0], seq("phone-racer", i))
	}
	errs := make([]error, PhoneRacers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range PhoneRacers {
		wg.Go(func() {
			id := seq("phone-racer", i)
			<-start
			errs[i] = stores[i%len(stores)].SetPhone(ctx, id, phoneP, PhoneRaceLimit,
				newEvent(seq("ev-phone-racer", i), id, custos.EventPhoneChanged, t0.Add(time.Second)))
		})
	}
	close(start)
	wg.Wait()

	var winners []string
	for i, err := range errs {
		id := seq("phone-racer", i)
		signup := newEvent("ev-signup-"+id, id, custos.EventSignup, t0)
		if err == nil {
			winners = append(winners, id)
			wantEvents(t, stores[0], id,
				newEvent(seq("ev-phone-racer", i), id, custos.EventPhoneChanged, t0.Add(time.Second)), signup)
			continue
		}
		wantCode(t, fmt.Sprintf("SetPhone(%s)", id), err, custos.EConflict)
		wantEvents(t, stores[0], id, signup)
	}
	if len(winners) != PhoneRaceLimit {
		t.Errorf("%d of %d racers bound the number, want exactly %d", len(winners), PhoneRacers, PhoneRaceLimit)
	}
	// Same CreatedAt for all: listed by id, the order winners is in.
	wantPhoneIDs(t, stores[0], phoneP, winners...)
}

// testSetAccountEmail steps through email changes on two accounts whose
// state carries from step to step.
func testSetAccountEmail(t *testing.T, s custos.Store) {
	ctx := t.Context()
	one := mustCreateAccount(t, s, "em-1")
	two := mustCreateAccount(t, s, "em-2")
	oldOne := one.Email
	accounts := map[string]*custos.Account{one.ID: &one, two.ID: &two}
	events := map[string][]custos.AuditEvent{
		one.ID: {newEvent("ev-signup-em-1", one.ID, custos.EventSignup, t0)},
		two.ID: {newEvent("ev-signup-em-2", two.ID, custos.EventSignup, t0)},
	}
	tests := []struct {
		name      string
		accountID string
		email     string
		eventID   string // "" for a fresh one
		wantCode  string
	}{
		{name: "a new address", accountID: one.ID, email: "new@example.test"},
		{name: "its own address again", accountID: one.ID, email: "new@example.test"},
		{name: "another account's address", accountID: one.ID, email: two.Email, wantCode: custos.EEmailTaken},
		{name: "unknown account", accountID: "acct-absent", email: "absent@example.test", wantCode: custos.ENotFound},
		{name: "event id taken rolls back", accountID: two.ID, email: "other@example.test", eventID: "ev-signup-em-1", wantCode: custos.EConflict},
		{name: "the freed address", accountID: two.ID, email: oldOne},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := tc.eventID
			if id == "" {
				id = seq("ev-email", i)
			}
			ev := newEvent(id, tc.accountID, custos.EventEmailChanged, t0.Add(time.Duration(i+1)*time.Second))
			err := s.SetAccountEmail(ctx, tc.accountID, tc.email, ev)
			if tc.wantCode != "" {
				wantCode(t, "SetAccountEmail", err, tc.wantCode)
			} else if err != nil {
				t.Fatalf("SetAccountEmail: %v", err)
			} else {
				accounts[tc.accountID].Email = tc.email
				events[tc.accountID] = append([]custos.AuditEvent{ev}, events[tc.accountID]...)
			}
			for _, a := range accounts {
				wantAccount(t, s, *a)
				got, err := s.AccountByEmail(ctx, a.Email)
				if err != nil || got.ID != a.ID {
					t.Errorf("AccountByEmail(%s) = %s, %v; want %s", a.Email, got.ID, err, a.ID)
				}
			}
		})
	}
	_, err := s.AccountByEmail(ctx, "other@example.test")
	wantCode(t, "AccountByEmail(refused address)", err, custos.ENotFound)
	for id, evs := range events {
		wantEvents(t, s, id, evs...)
	}
	wantEvents(t, s, "acct-absent")
}

// testSetAccountEmailConcurrent races accounts to one new address: exactly
// one gets it, every other gets EEmailTaken and keeps its own.
func testSetAccountEmailConcurrent(t *testing.T, s custos.Store) {
	ctx := t.Context()
	const n = 8
	const wanted = "wanted@example.test"
	for i := range n {
		mustCreateAccount(t, s, seq("em-racer", i))
	}
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id := seq("em-racer", i)
			<-start
			errs[i] = s.SetAccountEmail(ctx, id, wanted, newEvent(seq("ev-em-racer", i), id, custos.EventEmailChanged, t0))
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		a := newAccount(seq("em-racer", i))
		if err == nil {
			if winner >= 0 {
				t.Errorf("racers %d and %d both took the address", winner, i)
			}
			winner = i
			a.Email = wanted
		} else {
			wantCode(t, seq("em-racer", i), err, custos.EEmailTaken)
		}
		wantAccount(t, s, a)
	}
	if winner < 0 {
		t.Fatal("no racer took the address")
	}
	got, err := s.AccountByEmail(ctx, wanted)
	if err != nil {
		t.Fatalf("AccountByEmail: %v", err)
	}
	if got.ID != seq("em-racer", winner) {
		t.Errorf("AccountByEmail = %s, want the winner %s", got.ID, seq("em-racer", winner))
	}
}

// testSetSecureEmail steps through secure emails: they need not be unique,
// may be another account's login email, and are not login identifiers.
func testSetSecureEmail(t *testing.T, s custos.Store) {
	ctx := t.Context()
	one := mustCreateAccount(t, s, "se-1")
	two := mustCreateAccount(t, s, "se-2")
	accounts := map[string]*custos.Account{one.ID: &one, two.ID: &two}
	events := map[string][]custos.AuditEvent{
		one.ID: {newEvent("ev-signup-se-1", one.ID, custos.EventSignup, t0)},
		two.ID: {newEvent("ev-signup-se-2", two.ID, custos.EventSignup, t0)},
	}
	tests := []struct {
		name      string
		accountID string
		email     string
		eventID   string // "" for a fresh one
		wantCode  string
	}{
		{name: "set", accountID: one.ID, email: "safe@example.test"},
		{name: "the same on another account", accountID: two.ID, email: "safe@example.test"},
		{name: "another account's login email", accountID: one.ID, email: two.Email},
		{name: "its own login email", accountID: two.ID, email: two.Email},
		{name: "unknown account", accountID: "acct-absent", email: "safe@example.test", wantCode: custos.ENotFound},
		{name: "event id taken rolls back", accountID: one.ID, email: "lost@example.test", eventID: "ev-signup-se-2", wantCode: custos.EConflict},
		{name: "cleared", accountID: one.ID, email: ""},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := tc.eventID
			if id == "" {
				id = seq("ev-secure", i)
			}
			ev := newEvent(id, tc.accountID, custos.EventSecureEmail, t0.Add(time.Duration(i+1)*time.Second))
			err := s.SetSecureEmail(ctx, tc.accountID, tc.email, ev)
			if tc.wantCode != "" {
				wantCode(t, "SetSecureEmail", err, tc.wantCode)
			} else if err != nil {
				t.Fatalf("SetSecureEmail: %v", err)
			} else {
				accounts[tc.accountID].SecureEmail = tc.email
				events[tc.accountID] = append([]custos.AuditEvent{ev}, events[tc.accountID]...)
			}
			for _, a := range accounts {
				wantAccount(t, s, *a)
			}
		})
	}
	_, err := s.AccountByEmail(ctx, "safe@example.test")
	wantCode(t, "AccountByEmail(a secure email)", err, custos.ENotFound)
	for id, evs := range events {
		wantEvents(t, s, id, evs...)
	}
	wantEvents(t, s, "acct-absent")
}
