package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/google/go-cmp/cmp"
)

func testCreateAccount(t *testing.T, s custos.Store) {
	ctx := t.Context()
	a := custos.Account{
		ID:           "acct-roundtrip",
		Kind:         custos.KindEnterprise,
		Email:        "ops@example.test",
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$YWJj$ZGVm",
		CreatedAt:    t0,
		Protection: custos.Protection{Login: true, Operation: true,
			LoginMethod: custos.MethodSMS, OperationMethod: custos.MethodEmail},
		Phone:       "+8613800138000",
		SecureEmail: "Safe.Box@example.test",
	}
	ev := newEvent("ev-roundtrip", a.ID, custos.EventSignup, t0)
	if err := s.CreateAccount(ctx, a, ev); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	byID, err := s.AccountByID(ctx, a.ID)
	if err != nil {
		t.Fatalf("AccountByID: %v", err)
	}
	if diff := cmp.Diff(a, byID, opts); diff != "" {
		t.Errorf("AccountByID mismatch (-want +got):\n%s", diff)
	}
	byEmail, err := s.AccountByEmail(ctx, a.Email)
	if err != nil {
		t.Fatalf("AccountByEmail: %v", err)
	}
	if diff := cmp.Diff(a, byEmail, opts); diff != "" {
		t.Errorf("AccountByEmail mismatch (-want +got):\n%s", diff)
	}
	if byID.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt location = %v, want UTC", byID.CreatedAt.Location())
	}
	wantEvents(t, s, a.ID, ev)
}

// testCreateAccountErrors checks each refusal and that a refused create
// writes neither the account nor its event.
func testCreateAccountErrors(t *testing.T, s custos.Store) {
	ctx := t.Context()
	taken := mustCreateAccount(t, s, "acct-taken")
	if err := s.AppendAudit(ctx, newEvent("ev-used", "someone-else", custos.EventLoginFailure, t0)); err != nil {
		t.Fatalf("AppendAudit: %v", err)
	}
	tests := []struct {
		name     string
		account  custos.Account
		event    custos.AuditEvent
		wantCode string // "" for a plain (non-*custos.Error) failure
	}{
		{
			name:     "email taken",
			account:  custos.Account{ID: "acct-2", Kind: custos.KindPersonal, Email: taken.Email, PasswordHash: "h", CreatedAt: t0},
			event:    newEvent("ev-2", "acct-2", custos.EventSignup, t0),
			wantCode: custos.EEmailTaken,
		},
		{
			name:     "id taken",
			account:  custos.Account{ID: taken.ID, Kind: custos.KindPersonal, Email: "other@example.test", PasswordHash: "h", CreatedAt: t0},
			event:    newEvent("ev-3", taken.ID, custos.EventSignup, t0),
			wantCode: custos.EConflict,
		},
		{
			name:     "event id taken",
			account:  newAccount("acct-4"),
			event:    newEvent("ev-used", "acct-4", custos.EventSignup, t0),
			wantCode: custos.EConflict,
		},
		{
			name:    "event without id",
			account: newAccount("acct-5"),
			event:   newEvent("", "acct-5", custos.EventSignup, t0),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.CreateAccount(ctx, tc.account, tc.event)
			if tc.wantCode != "" {
				wantCode(t, "CreateAccount", err, tc.wantCode)
			} else if err == nil {
				t.Errorf("CreateAccount: got no error, want one")
			}
			if tc.account.ID == taken.ID {
				got, err := s.AccountByID(ctx, taken.ID)
				if err != nil {
					t.Fatalf("AccountByID: %v", err)
				}
				if diff := cmp.Diff(taken, got, opts); diff != "" {
					t.Errorf("existing account changed (-want +got):\n%s", diff)
				}
				return
			}
			_, err = s.AccountByID(ctx, tc.account.ID)
			wantCode(t, "AccountByID after refused create", err, custos.ENotFound)
			wantEvents(t, s, tc.account.ID)
		})
	}
}

// testCreateAccountConcurrent races sign-ups for one email: exactly one
// wins, every other gets EEmailTaken.
func testCreateAccountConcurrent(t *testing.T, s custos.Store) {
	ctx := t.Context()
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			a := newAccount(seq("racer", i))
			a.Email = "same@example.test"
			errs[i] = s.CreateAccount(ctx, a, newEvent(seq("ev-racer", i), a.ID, custos.EventSignup, t0))
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		if err == nil {
			if winner >= 0 {
				t.Errorf("racers %d and %d both created the email", winner, i)
			}
			winner = i
			continue
		}
		wantCode(t, seq("racer", i), err, custos.EEmailTaken)
	}
	if winner < 0 {
		t.Fatal("no racer created the account")
	}
	got, err := s.AccountByEmail(ctx, "same@example.test")
	if err != nil {
		t.Fatalf("AccountByEmail: %v", err)
	}
	if got.ID != seq("racer", winner) {
		t.Errorf("AccountByEmail = %s, want the winner %s", got.ID, seq("racer", winner))
	}
}

func testAccountNotFound(t *testing.T, s custos.Store) {
	ctx := t.Context()
	mustCreateAccount(t, s, "acct-present")
	tests := []struct {
		name   string
		lookup func() error
	}{
		{"by id", func() error { _, err := s.AccountByID(ctx, "acct-absent"); return err }},
		{"by email", func() error { _, err := s.AccountByEmail(ctx, "absent@example.test"); return err }},
		{"by empty id", func() error { _, err := s.AccountByID(ctx, ""); return err }},
		{"by empty email", func() error { _, err := s.AccountByEmail(ctx, ""); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, tc.name, tc.lookup(), custos.ENotFound)
		})
	}
}

// testSetPasswordHash checks the compare-and-set: steps run in order on one
// account.
func testSetPasswordHash(t *testing.T, s custos.Store) {
	ctx := t.Context()
	a := mustCreateAccount(t, s, "acct-pw")
	tests := []struct {
		name      string
		accountID string
		old, hash string
		wantCode  string
		wantHash  string // the stored hash afterwards
	}{
		{"current old hash", a.ID, a.PasswordHash, "hash-2", "", "hash-2"},
		{"stale old hash", a.ID, a.PasswordHash, "hash-3", custos.EConflict, "hash-2"},
		{"same value again", a.ID, "hash-2", "hash-2", "", "hash-2"},
		{"unknown account", "acct-absent", "hash-2", "hash-4", custos.ENotFound, "hash-2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.SetPasswordHash(ctx, tc.accountID, tc.old, tc.hash)
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("SetPasswordHash: %v", err)
				}
			} else {
				wantCode(t, "SetPasswordHash", err, tc.wantCode)
			}
			got, err := s.AccountByID(ctx, a.ID)
			if err != nil {
				t.Fatalf("AccountByID: %v", err)
			}
			if got.PasswordHash != tc.wantHash {
				t.Errorf("stored hash = %q, want %q", got.PasswordHash, tc.wantHash)
			}
		})
	}
}

// testSetProtection steps through the switches and chosen methods on one
// account: each change reads back through both lookups and writes its
// event; an unknown account is ENotFound and writes none.
func testSetProtection(t *testing.T, s custos.Store) {
	ctx := t.Context()
	a := newAccount("acct-prot")
	a.Protection = custos.Protection{Operation: true}
	signup := newEvent("ev-signup-prot", a.ID, custos.EventSignup, t0)
	if err := s.CreateAccount(ctx, a, signup); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	written := []custos.AuditEvent{signup}
	tests := []struct {
		name      string
		accountID string
		p         custos.Protection
		wantCode  string
	}{
		{"as created", a.ID, a.Protection, ""},
		{"both on", a.ID, custos.Protection{Login: true, Operation: true}, ""},
		{"login by email", a.ID, custos.Protection{Login: true, LoginMethod: custos.MethodEmail}, ""},
		{"both chosen", a.ID, custos.Protection{Login: true, Operation: true, LoginMethod: custos.MethodSMS, OperationMethod: custos.MethodMFA}, ""},
		{"chosen while off", a.ID, custos.Protection{LoginMethod: custos.MethodMFA, OperationMethod: custos.MethodSMS}, ""},
		{"login only, back to the default", a.ID, custos.Protection{Login: true}, ""},
		{"unknown account", "acct-absent", custos.Protection{Login: true, Operation: true}, custos.ENotFound},
		{"both off", a.ID, custos.Protection{}, ""},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := newEvent(seq("ev-prot", i), tc.accountID, custos.EventProtection, t0.Add(time.Duration(i+1)*time.Second))
			err := s.SetProtection(ctx, tc.accountID, tc.p, ev)
			if tc.wantCode != "" {
				wantCode(t, "SetProtection", err, tc.wantCode)
				return
			}
			if err != nil {
				t.Fatalf("SetProtection: %v", err)
			}
			written = append([]custos.AuditEvent{ev}, written...)
			a.Protection = tc.p
			// A refused change (its event id is taken) rolls back.
			flipped := custos.Protection{Login: !tc.p.Login, Operation: !tc.p.Operation,
				LoginMethod: otherMethod(tc.p.LoginMethod), OperationMethod: otherMethod(tc.p.OperationMethod)}
			wantCode(t, "SetProtection(event id taken)", s.SetProtection(ctx, tc.accountID, flipped, ev), custos.EConflict)
			byID, err := s.AccountByID(ctx, a.ID)
			if err != nil {
				t.Fatalf("AccountByID: %v", err)
			}
			if diff := cmp.Diff(a, byID, opts); diff != "" {
				t.Errorf("AccountByID mismatch (-want +got):\n%s", diff)
			}
			byEmail, err := s.AccountByEmail(ctx, a.Email)
			if err != nil {
				t.Fatalf("AccountByEmail: %v", err)
			}
			if byEmail.Protection != tc.p {
				t.Errorf("AccountByEmail: Protection %+v, want %+v", byEmail.Protection, tc.p)
			}
		})
	}
	wantEvents(t, s, a.ID, written...)
	wantEvents(t, s, "acct-absent")
}

// otherMethod is a chosen protection method other than m.
func otherMethod(m string) string {
	if m == custos.MethodEmail {
		return custos.MethodSMS
	}
	return custos.MethodEmail
}
