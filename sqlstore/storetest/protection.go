package storetest

import (
	"testing"

	"github.com/custos/custos"
	"github.com/google/go-cmp/cmp"
)

// testProtectionMethods: the methods the holder chose (R8) read back
// through every account lookup — by id, by email, by phone — as created
// and after each SetProtection, on an account beside one that keeps the
// default, so a write reaches only its own row.
func testProtectionMethods(t *testing.T, s custos.Store) {
	ctx := t.Context()
	a := newAccount("acct-methods")
	a.Phone = phoneP
	a.Protection = custos.Protection{Login: true, LoginMethod: custos.MethodEmail}
	if err := s.CreateAccount(ctx, a, newEvent("ev-signup-methods", a.ID, custos.EventSignup, t0)); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	other := newAccount("acct-methods-default")
	other.Phone = phoneP
	other.CreatedAt = t0.Add(1)
	if err := s.CreateAccount(ctx, other, newEvent("ev-signup-methods-default", other.ID, custos.EventSignup, t0)); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	lookups := []struct {
		name string
		get  func(id, email string) (custos.Account, error)
	}{
		{"AccountByID", func(id, _ string) (custos.Account, error) { return s.AccountByID(ctx, id) }},
		{"AccountByEmail", func(_, email string) (custos.Account, error) { return s.AccountByEmail(ctx, email) }},
		{"AccountsByPhone", func(id, _ string) (custos.Account, error) {
			list, err := s.AccountsByPhone(ctx, phoneP)
			for _, x := range list {
				if x.ID == id {
					return x, err
				}
			}
			return custos.Account{}, err
		}},
	}
	check := func(t *testing.T, want ...custos.Account) {
		t.Helper()
		for _, w := range want {
			for _, l := range lookups {
				got, err := l.get(w.ID, w.Email)
				if err != nil {
					t.Fatalf("%s(%s): %v", l.name, w.ID, err)
				}
				if diff := cmp.Diff(w.Protection, got.Protection); diff != "" {
					t.Errorf("%s(%s) protection (-want +got):\n%s", l.name, w.ID, diff)
				}
			}
		}
	}
	check(t, a, other)
	for i, p := range []custos.Protection{
		{Login: true, Operation: true, LoginMethod: custos.MethodSMS, OperationMethod: custos.MethodMFA},
		{Operation: true, LoginMethod: custos.MethodMFA, OperationMethod: custos.MethodEmail},
		{Login: true, Operation: true, OperationMethod: custos.MethodSMS},
		{},
	} {
		ev := newEvent(seq("ev-methods", i), a.ID, custos.EventProtection, t0.Add(1))
		if err := s.SetProtection(ctx, a.ID, p, ev); err != nil {
			t.Fatalf("SetProtection(%+v): %v", p, err)
		}
		a.Protection = p
		check(t, a, other)
	}
}
