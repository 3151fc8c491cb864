package storetest

import (
	"testing"

	"github.com/custos/custos"
)

// testLanguage: the language the holder chose reads back through every
// account lookup — by id, by email, by phone — as created and after each
// SetLanguage, on an account beside one without a choice, so a write
// reaches only its own row; "" forgets the choice; a missing account is
// ENotFound.
func testLanguage(t *testing.T, s custos.Store) {
	ctx := t.Context()
	a := newAccount("acct-lang")
	a.Phone = phoneP
	a.Language = "zh-CN"
	if err := s.CreateAccount(ctx, a, newEvent("ev-signup-lang", a.ID, custos.EventSignup, t0)); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	other := newAccount("acct-lang-none")
	other.Phone = phoneP
	other.CreatedAt = t0.Add(1)
	if err := s.CreateAccount(ctx, other, newEvent("ev-signup-lang-none", other.ID, custos.EventSignup, t0)); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	check := func(t *testing.T, id, email, want string) {
		t.Helper()
		got, err := s.AccountByID(ctx, id)
		if err != nil || got.Language != want {
			t.Errorf("AccountByID(%s) language = %q, %v; want %q", id, got.Language, err, want)
		}
		got, err = s.AccountByEmail(ctx, email)
		if err != nil || got.Language != want {
			t.Errorf("AccountByEmail(%s) language = %q, %v; want %q", email, got.Language, err, want)
		}
		list, err := s.AccountsByPhone(ctx, phoneP)
		found := false
		for _, x := range list {
			if x.ID == id {
				found = true
				if x.Language != want {
					t.Errorf("AccountsByPhone: %s language = %q, want %q", id, x.Language, want)
				}
			}
		}
		if err != nil || !found {
			t.Errorf("AccountsByPhone: %v, %s found %v", err, id, found)
		}
	}
	check(t, a.ID, a.Email, "zh-CN")
	check(t, other.ID, other.Email, "")
	for _, lang := range []string{"en", "", "zh-CN"} {
		if err := s.SetLanguage(ctx, a.ID, lang); err != nil {
			t.Fatalf("SetLanguage(%q): %v", lang, err)
		}
		check(t, a.ID, a.Email, lang)
		check(t, other.ID, other.Email, "")
	}
	if err := s.SetLanguage(ctx, "acct-lang-missing", "en"); !custos.IsCode(err, custos.ENotFound) {
		t.Errorf("SetLanguage of a missing account = %v, want %s", err, custos.ENotFound)
	}
}
