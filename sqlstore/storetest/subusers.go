package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/google/go-cmp/cmp"
)

// SubUserCreateRacers creations of one user name under one root race in
// SubUserCreateRace; SubUserListSize sub-users of one root are listed in
// testListSubUsers.
const (
	SubUserCreateRacers = 50
	SubUserListSize     = 1000
)

// The audit event types of the suite's sub-user changes.
const (
	evSubUserCreated  = "subuser.created"
	evSubUserUpdated  = "subuser.updated"
	evSubUserMFAReset = "subuser.mfa_reset"
	evSubUserPassword = "subuser.password_reset"
	evPasswordRules   = "subuser.password_rules"
)

// subUsersOf returns s as the custos.SubUserStore it must be.
func subUsersOf(t *testing.T, s custos.Store) custos.SubUserStore {
	t.Helper()
	ss, ok := any(s).(custos.SubUserStore)
	if !ok {
		t.Fatalf("the store %T keeps no sub-users", s)
	}
	return ss
}

// newSubUser is the account and settings of the sub-user id of root,
// named name, created at t0.
func newSubUser(id, root, name string) (custos.Account, custos.SubUser) {
	a := custos.Account{
		ID:           id,
		Kind:         custos.KindSubUser,
		Email:        custos.SubUserEmail(id),
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c3ViLXNhbHQ$" + id,
		CreatedAt:    t0,
	}
	su := custos.SubUser{
		AccountID:          id,
		RootAccountID:      root,
		UserName:           name,
		ConsoleLogin:       true,
		MustChangePassword: true,
		PasswordChangedAt:  t0,
		CreatedAt:          t0,
	}
	return a, su
}

// createSubUser creates the sub-user with the event "ev-create-"+id.
func createSubUser(ctx context.Context, s custos.SubUserStore, a custos.Account, su custos.SubUser) error {
	return s.CreateSubUser(ctx, a, su, newEvent("ev-create-"+a.ID, a.ID, evSubUserCreated, su.CreatedAt))
}

// mustCreateSubUser creates the sub-user id of root named name and returns
// it as written.
func mustCreateSubUser(t *testing.T, s custos.Store, id, root, name string) (custos.Account, custos.SubUser) {
	t.Helper()
	a, su := newSubUser(id, root, name)
	if err := createSubUser(t.Context(), subUsersOf(t, s), a, su); err != nil {
		t.Fatalf("CreateSubUser(%s): %v", id, err)
	}
	return a, su
}

// wantSubUser fails t unless SubUserByID and SubUserByName read back a and
// su, their times in UTC.
func wantSubUser(t *testing.T, s custos.Store, a custos.Account, su custos.SubUser) {
	t.Helper()
	ss := subUsersOf(t, s)
	gotA, gotS, err := ss.SubUserByID(t.Context(), su.AccountID)
	if err != nil {
		t.Fatalf("SubUserByID(%s): %v", su.AccountID, err)
	}
	if diff := cmp.Diff(a, gotA, opts); diff != "" {
		t.Errorf("SubUserByID(%s) account mismatch (-want +got):\n%s", su.AccountID, diff)
	}
	if diff := cmp.Diff(su, gotS, opts); diff != "" {
		t.Errorf("SubUserByID(%s) settings mismatch (-want +got):\n%s", su.AccountID, diff)
	}
	for _, tm := range []time.Time{gotA.CreatedAt, gotS.CreatedAt, gotS.PasswordChangedAt} {
		if !tm.IsZero() && tm.Location() != time.UTC {
			t.Errorf("SubUserByID(%s): time %v is not in UTC", su.AccountID, tm)
		}
	}
	if su.PasswordChangedAt.IsZero() != gotS.PasswordChangedAt.IsZero() {
		t.Errorf("SubUserByID(%s): PasswordChangedAt %v, want %v", su.AccountID, gotS.PasswordChangedAt, su.PasswordChangedAt)
	}
	byNameA, byNameS, err := ss.SubUserByName(t.Context(), su.RootAccountID, su.UserName)
	if err != nil {
		t.Fatalf("SubUserByName(%s, %s): %v", su.RootAccountID, su.UserName, err)
	}
	if diff := cmp.Diff([]any{gotA, gotS}, []any{byNameA, byNameS}, opts); diff != "" {
		t.Errorf("SubUserByName(%s) is not SubUserByID (-id +name):\n%s", su.UserName, diff)
	}
	wantAccount(t, s, a)
}

// subUserOrAbsent reads the sub-user id back, or absent.
func subUserOrAbsent(t *testing.T, s custos.Store, id string) any {
	t.Helper()
	a, su, err := subUsersOf(t, s).SubUserByID(t.Context(), id)
	switch {
	case custos.IsCode(err, custos.ENotFound):
		return absent
	case err != nil:
		t.Fatalf("SubUserByID(%s): %v", id, err)
	}
	return []any{a, su}
}

// subUserNames returns the user names of list, in order, as a non-nil
// slice.
func subUserNames(list []custos.SubUser) []string {
	out := []string{}
	for _, su := range list {
		out = append(out, su.UserName)
	}
	return out
}

// testSubUserRoundTrip creates sub-users and reads every field back, by id
// and by name; an ordinary account, another root's name and unknown ids
// are not found.
func testSubUserRoundTrip(t *testing.T, s custos.Store) {
	ctx := t.Context()
	ss := subUsersOf(t, s)
	east := time.FixedZone("UTC+8", 8*60*60)
	root := mustCreateAccount(t, s, "su-root")
	other := mustCreateAccount(t, s, "su-root-2")

	a, su := newSubUser("su-rt-1", root.ID, "alice")
	a.CreatedAt = t0.In(east).Add(999_999)
	a.Phone, a.SecureEmail, a.PasswordVersion = "+8613900000555", "alice@example.test", 3
	a.Protection = custos.Protection{Login: true, Operation: true, LoginMethod: custos.MethodMFA, OperationMethod: custos.MethodEmail}
	su.MustBindMFA, su.ConsoleLogin, su.MustChangePassword = true, false, false
	su.PasswordChangedAt, su.CreatedAt = t0.In(east).Add(-time.Hour), t0.In(east).Add(time.Millisecond)
	if err := createSubUser(ctx, ss, a, su); err != nil {
		t.Fatalf("CreateSubUser: %v", err)
	}
	// Stored to the millisecond.
	a.CreatedAt, su.PasswordChangedAt, su.CreatedAt = t0, su.PasswordChangedAt.UTC(), su.CreatedAt.UTC()
	wantSubUser(t, s, a, su)

	// No password yet, no time it changed; an empty AccountID is a's.
	b, bs := newSubUser("su-rt-2", root.ID, "bob")
	b.PasswordHash, bs.PasswordChangedAt, bs.AccountID = "", time.Time{}, ""
	if err := createSubUser(ctx, ss, b, bs); err != nil {
		t.Fatalf("CreateSubUser(no password): %v", err)
	}
	bs.AccountID = b.ID
	wantSubUser(t, s, b, bs)
	// The same name under another root is another sub-user.
	c, cs := mustCreateSubUser(t, s, "su-rt-3", other.ID, "alice")
	wantSubUser(t, s, c, cs)

	wantEvents(t, s, a.ID, newEvent("ev-create-"+a.ID, a.ID, evSubUserCreated, su.CreatedAt))
	for _, tc := range []struct{ what, root, name string }{
		{"another root's name", "su-root-absent", "alice"},
		{"an unknown name", root.ID, "carol"},
		{"a name in another case", root.ID, "Alice"},
		{"the account id as the name", root.ID, a.ID},
	} {
		_, _, err := ss.SubUserByName(ctx, tc.root, tc.name)
		wantCode(t, "SubUserByName("+tc.what+")", err, custos.ENotFound)
	}
	for _, id := range []string{root.ID, "su-absent", ""} {
		_, _, err := ss.SubUserByID(ctx, id)
		wantCode(t, fmt.Sprintf("SubUserByID(%q)", id), err, custos.ENotFound)
	}
	// The stand-in email is the sub-user's, found only as what it is.
	got, err := s.AccountByEmail(ctx, custos.SubUserEmail(a.ID))
	if err != nil || got.ID != a.ID || !got.IsSubUser() {
		t.Errorf("AccountByEmail(the stand-in) = %v, %v; want the sub-user's account", got.ID, err)
	}
}

// testCreateSubUserErrors checks what CreateSubUser refuses, and that a
// refusal writes nothing: no account, settings or event.
func testCreateSubUserErrors(t *testing.T, s custos.Store) {
	ctx := t.Context()
	ss := subUsersOf(t, s)
	root := mustCreateAccount(t, s, "su-err-root")
	taken := mustCreateAccount(t, s, "su-err-taken")
	first, firstS := mustCreateSubUser(t, s, "su-err-first", root.ID, "first")

	fresh := func(mod func(a *custos.Account, su *custos.SubUser)) (custos.Account, custos.SubUser) {
		a, su := newSubUser("su-err-new", root.ID, "new")
		mod(&a, &su)
		return a, su
	}
	tests := []struct {
		name     string
		mod      func(a *custos.Account, su *custos.SubUser)
		ev       string // the event's id; "" for "ev-create-"+a.ID
		wantCode string // "" for a plain error
	}{
		{name: "a root that does not exist", mod: func(_ *custos.Account, su *custos.SubUser) { su.RootAccountID = "su-err-nobody" },
			wantCode: custos.ENotFound},
		{name: "a sub-user as the root", mod: func(_ *custos.Account, su *custos.SubUser) { su.RootAccountID = first.ID },
			wantCode: custos.EConflict},
		{name: "a taken user name", mod: func(_ *custos.Account, su *custos.SubUser) { su.UserName = firstS.UserName },
			wantCode: custos.EConflict},
		{name: "a taken account id", mod: func(a *custos.Account, su *custos.SubUser) {
			a.ID, a.Email, su.AccountID = taken.ID, custos.SubUserEmail(taken.ID), taken.ID
		}, wantCode: custos.EConflict},
		{name: "a taken event id", mod: func(*custos.Account, *custos.SubUser) {}, ev: "ev-create-" + first.ID,
			wantCode: custos.EConflict},
		{name: "a real email", mod: func(a *custos.Account, _ *custos.SubUser) { a.Email = "new@example.test" }},
		{name: "another account's stand-in", mod: func(a *custos.Account, _ *custos.SubUser) { a.Email = custos.SubUserEmail("x") }},
		{name: "an ordinary kind", mod: func(a *custos.Account, _ *custos.SubUser) { a.Kind = custos.KindPersonal }},
		{name: "settings of another account", mod: func(_ *custos.Account, su *custos.SubUser) { su.AccountID = "su-err-else" }},
		{name: "no root", mod: func(_ *custos.Account, su *custos.SubUser) { su.RootAccountID = "" }},
		{name: "its own root", mod: func(_ *custos.Account, su *custos.SubUser) { su.RootAccountID = "su-err-new" }},
		{name: "no user name", mod: func(_ *custos.Account, su *custos.SubUser) { su.UserName = "" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, su := fresh(tc.mod)
			ev := newEvent("ev-create-"+a.ID, a.ID, evSubUserCreated, t0)
			if tc.ev != "" {
				ev.ID = tc.ev
			}
			err := ss.CreateSubUser(ctx, a, su, ev)
			if tc.wantCode != "" {
				wantCode(t, "CreateSubUser", err, tc.wantCode)
			} else {
				wantPlain(t, "CreateSubUser", err)
			}
			if got := accountOrAbsent(t, s, "su-err-new"); got != absent {
				t.Errorf("the refused sub-user's account was written: %v", got)
			}
			if got := subUserOrAbsent(t, s, "su-err-new"); got != absent {
				t.Errorf("the refused sub-user was written: %v", got)
			}
			wantEvents(t, s, "su-err-new")
		})
	}
	wantSubUser(t, s, first, firstS)
	wantAccount(t, s, taken)
	list, err := ss.ListSubUsers(ctx, root.ID, custos.SubUserFilter{})
	if err != nil {
		t.Fatalf("ListSubUsers: %v", err)
	}
	if diff := cmp.Diff([]string{"first"}, subUserNames(list)); diff != "" {
		t.Errorf("ListSubUsers after the refusals (-want +got):\n%s", diff)
	}
}

func testCreateSubUserRace(t *testing.T, s custos.Store) { SubUserCreateRace(t, s) }

// SubUserCreateRace has SubUserCreateRacers creations of one user name
// under one root run at once, spread over stores: exactly one succeeds,
// the others get EConflict and leave no account behind. The same name
// under another root is then created.
func SubUserCreateRace(t *testing.T, stores ...custos.Store) {
	t.Helper()
	ctx := t.Context()
	s := stores[0]
	root := mustCreateAccount(t, s, "su-race-root")
	other := mustCreateAccount(t, s, "su-race-root-2")
	racers := make([]custos.SubUserStore, len(stores))
	for i, st := range stores {
		racers[i] = subUsersOf(t, st)
	}
	errs := make([]error, SubUserCreateRacers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range SubUserCreateRacers {
		wg.Go(func() {
			a, su := newSubUser(seq("su-race", i), root.ID, "same")
			<-start
			errs[i] = createSubUser(ctx, racers[i%len(racers)], a, su)
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("racers %d and %d both created the name", winner, i)
		case err == nil:
			winner = i
		default:
			wantCode(t, fmt.Sprintf("CreateSubUser(racer %d)", i), err, custos.EConflict)
			if got := accountOrAbsent(t, s, seq("su-race", i)); got != absent {
				t.Errorf("racer %d was refused but its account exists", i)
			}
		}
	}
	if winner < 0 {
		t.Fatal("no racer created the name")
	}
	_, su, err := subUsersOf(t, s).SubUserByName(ctx, root.ID, "same")
	if err != nil || su.AccountID != seq("su-race", winner) {
		t.Errorf("SubUserByName(same) = %s, %v; want the winner %s", su.AccountID, err, seq("su-race", winner))
	}
	a, su2 := newSubUser("su-race-other", other.ID, "same")
	if err := createSubUser(ctx, subUsersOf(t, s), a, su2); err != nil {
		t.Errorf("CreateSubUser(the same name under another root): %v", err)
	}
}

// testListSubUsers lists SubUserListSize sub-users of one root by pages,
// with and without a search, and checks the limits; another root's
// sub-users never show.
func testListSubUsers(t *testing.T, s custos.Store) {
	ctx := t.Context()
	ss := subUsersOf(t, s)
	root := mustCreateAccount(t, s, "su-list-root")
	other := mustCreateAccount(t, s, "su-list-other")
	empty := mustCreateAccount(t, s, "su-list-empty")

	// Names the search must treat literally (% and _ are LIKE's
	// wildcards, \ its escape), then many ordinary ones.
	special := []string{"a%b", "a_b", "axb", `a\b`, "a\\%"}
	var names []string
	names = append(names, special...)
	for i := range SubUserListSize - len(special) {
		names = append(names, fmt.Sprintf("user-%04d", (i*7919)%(SubUserListSize-len(special)))) // out of order
	}
	// Created by a few workers: one transaction each, as the interface
	// offers.
	work := make(chan int)
	errs := make(chan error, len(names))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range work {
				a, su := newSubUser(seq("su-list", i), root.ID, names[i])
				if err := createSubUser(ctx, ss, a, su); err != nil {
					errs <- fmt.Errorf("CreateSubUser(%s): %w", names[i], err)
				}
			}
		})
	}
	for i := range names {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	mustCreateSubUser(t, s, "su-list-x1", other.ID, "user-0001x")
	mustCreateSubUser(t, s, "su-list-x2", other.ID, "a_b")

	sorted := slices.Clone(names)
	slices.Sort(sorted) // byte order, the order both databases list in
	list := func(root string, f custos.SubUserFilter) []string {
		t.Helper()
		got, err := ss.ListSubUsers(ctx, root, f)
		if err != nil {
			t.Fatalf("ListSubUsers(%s, %+v): %v", root, f, err)
		}
		if got == nil {
			t.Errorf("ListSubUsers(%s, %+v) = nil, want an empty slice", root, f)
		}
		for _, su := range got {
			if su.RootAccountID != root {
				t.Errorf("ListSubUsers(%s) listed %s of root %s", root, su.AccountID, su.RootAccountID)
			}
		}
		return subUserNames(got)
	}

	// Every page of 100 in turn, by keyset.
	var paged []string
	after := ""
	for range SubUserListSize/100 + 2 {
		page := list(root.ID, custos.SubUserFilter{After: after, Limit: 100})
		if len(page) == 0 {
			break
		}
		if len(page) > 100 {
			t.Fatalf("a page of %d, want at most 100", len(page))
		}
		paged = append(paged, page...)
		after = page[len(page)-1]
	}
	if diff := cmp.Diff(sorted, paged); diff != "" {
		t.Errorf("the pages together (-want +got):\n%s", diff)
	}
	// One full read back: every field.
	got, err := ss.ListSubUsers(ctx, root.ID, custos.SubUserFilter{Search: "user-0042"})
	if err != nil {
		t.Fatalf("ListSubUsers: %v", err)
	}
	if len(got) != 1 {
		t.Fatalf("ListSubUsers(user-0042) = %d sub-users, want 1", len(got))
	}
	_, want, err := ss.SubUserByName(ctx, root.ID, "user-0042")
	if err != nil {
		t.Fatalf("SubUserByName: %v", err)
	}
	if diff := cmp.Diff(want, got[0], opts); diff != "" {
		t.Errorf("ListSubUsers item mismatch (-want +got):\n%s", diff)
	}

	matching := func(part string) []string {
		out := []string{}
		for _, n := range sorted {
			if strings.Contains(n, part) {
				out = append(out, n)
			}
		}
		return out
	}
	tests := []struct {
		name string
		f    custos.SubUserFilter
		want []string
	}{
		{"no limit: the default 50", custos.SubUserFilter{}, sorted[:50]},
		{"a limit above the most: 500", custos.SubUserFilter{Limit: 10_000}, sorted[:500]},
		{"a negative limit: the default", custos.SubUserFilter{Limit: -1}, sorted[:50]},
		{"after the last", custos.SubUserFilter{After: sorted[len(sorted)-1]}, nil},
		{"after a name that is none", custos.SubUserFilter{After: "user-0099z", Limit: 3}, []string{"user-0100", "user-0101", "user-0102"}},
		{"a search", custos.SubUserFilter{Search: "user-09", Limit: 500}, matching("user-09")},
		{"a search in upper case", custos.SubUserFilter{Search: "USER-099", Limit: 500}, matching("user-099")},
		{"a search with a page", custos.SubUserFilter{Search: "-09", After: "user-0950", Limit: 5},
			[]string{"user-0951", "user-0952", "user-0953", "user-0954", "user-0955"}},
		{"a search matching none", custos.SubUserFilter{Search: "nobody"}, nil},
		{"% is no wildcard", custos.SubUserFilter{Search: "%"}, []string{"a%b", "a\\%"}},
		{"_ is no wildcard", custos.SubUserFilter{Search: "a_"}, []string{"a_b"}},
		{"\\ is no escape", custos.SubUserFilter{Search: `\`}, []string{"a\\%", `a\b`}},
		{"\\% is two characters", custos.SubUserFilter{Search: `\%`}, []string{"a\\%"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.want
			if want == nil {
				want = []string{}
			}
			if diff := cmp.Diff(want, list(root.ID, tc.f)); diff != "" {
				t.Errorf("ListSubUsers(%+v) (-want +got):\n%s", tc.f, diff)
			}
		})
	}
	if diff := cmp.Diff([]string{"a_b", "user-0001x"}, list(other.ID, custos.SubUserFilter{})); diff != "" {
		t.Errorf("ListSubUsers(another root) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{}, list(empty.ID, custos.SubUserFilter{})); diff != "" {
		t.Errorf("ListSubUsers(a root without sub-users) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{}, list(seq("su-list", 0), custos.SubUserFilter{})); diff != "" {
		t.Errorf("ListSubUsers(a sub-user as the root) (-want +got):\n%s", diff)
	}
}

// testUpdateSubUser replaces a sub-user's settings: only its root may,
// the account id, root and creation time stay, and a taken name is
// refused.
func testUpdateSubUser(t *testing.T, s custos.Store) {
	ctx := t.Context()
	ss := subUsersOf(t, s)
	root := mustCreateAccount(t, s, "su-up-root")
	other := mustCreateAccount(t, s, "su-up-other")
	a, su := mustCreateSubUser(t, s, "su-up-1", root.ID, "one")
	b, bs := mustCreateSubUser(t, s, "su-up-2", root.ID, "two")
	update := func(u custos.SubUser, evID string) error {
		return ss.UpdateSubUser(ctx, u, newEvent(evID, u.AccountID, evSubUserUpdated, t0.Add(time.Hour)))
	}

	changed := su
	changed.UserName, changed.ConsoleLogin, changed.MustBindMFA, changed.MustChangePassword = "uno", false, true, false
	changed.PasswordChangedAt = time.Time{}
	changed.CreatedAt = t0.Add(time.Hour) // stays as it was
	notMine := changed
	notMine.RootAccountID = other.ID
	wantCode(t, "UpdateSubUser(another root)", update(notMine, "ev-up-other"), custos.ENotFound)
	unknown := changed
	unknown.AccountID = "su-up-absent"
	wantCode(t, "UpdateSubUser(unknown)", update(unknown, "ev-up-unknown"), custos.ENotFound)
	ordinary := changed
	ordinary.AccountID, ordinary.RootAccountID = root.ID, root.ID
	wantCode(t, "UpdateSubUser(an ordinary account)", update(ordinary, "ev-up-ordinary"), custos.ENotFound)
	dup := changed
	dup.UserName = bs.UserName
	wantCode(t, "UpdateSubUser(a taken name)", update(dup, "ev-up-dup"), custos.EConflict)
	wantCode(t, "UpdateSubUser(taken event id)", update(changed, "ev-create-"+a.ID), custos.EConflict)
	wantSubUser(t, s, a, su)
	wantSubUser(t, s, b, bs)
	wantEvents(t, s, a.ID, newEvent("ev-create-"+a.ID, a.ID, evSubUserCreated, t0))

	if err := update(changed, "ev-up-1"); err != nil {
		t.Fatalf("UpdateSubUser: %v", err)
	}
	want := changed
	want.CreatedAt = su.CreatedAt
	wantSubUser(t, s, a, want)
	_, _, err := ss.SubUserByName(ctx, root.ID, "one")
	wantCode(t, "SubUserByName(the old name)", err, custos.ENotFound)
	wantSubUser(t, s, b, bs)
	wantEvents(t, s, a.ID, newEvent("ev-up-1", a.ID, evSubUserUpdated, t0.Add(time.Hour)),
		newEvent("ev-create-"+a.ID, a.ID, evSubUserCreated, t0))
	// The old name is free again.
	mustCreateSubUser(t, s, "su-up-3", root.ID, "one")
}

// newSubUserMFAFixture is the sub-user p of root with every kind of second
// factor, recovery codes, two sessions and two trusted devices (those
// signoutNames(p, 2) names), as the root finds it when it resets the
// sub-user's MFA.
func newSubUserMFAFixture(t *testing.T, s custos.Store, p, root, name string) mfaFixture {
	t.Helper()
	ctx := t.Context()
	mustCreateSubUser(t, s, p, root, name)
	for i := range 2 {
		sess := newSession(seq("sess-"+p, i), p)
		sess.CreatedAt = t0.Add(time.Duration(i) * time.Second)
		if err := s.CreateSession(ctx, sess, newEvent("ev-"+sess.ID, p, custos.EventLoginSuccess, sess.CreatedAt)); err != nil {
			t.Fatalf("CreateSession(%s): %v", sess.ID, err)
		}
	}
	for _, id := range signoutNames(p, 2).devices {
		mustTrustDevice(t, s, custos.TrustedDevice{ID: id, AccountID: p, CreatedAt: t0, ExpiresAt: t0.Add(7 * 24 * time.Hour)})
	}
	f := mfaFixture{account: p, devices: []string{p + "-totp", p + "-key", p + "-pending", p + "-hw"}, serial: "SN-" + p}
	mustConfirmDevice(t, s, newTOTPDevice(f.devices[0], p), 5)
	mustConfirmDevice(t, s, newWebAuthnDevice(f.devices[1], p), 0)
	mustCreateDevice(t, s, newTOTPDevice(f.devices[2], p))
	mustImportToken(t, s, newToken(f.serial))
	if err := s.BindToken(ctx, f.serial, newHardwareDevice(f.devices[3], p, f.serial),
		newEvent("ev-bind-"+p, p, custos.EventDeviceBound, t0)); err != nil {
		t.Fatalf("BindToken: %v", err)
	}
	mustReplaceRecoveryCodes(t, s, p, recoveryHashes(p, 3), newEvent("ev-codes-"+p, p, custos.EventRecoveryCodes, t0))
	if err := s.SetProtection(ctx, p, custos.Protection{Login: true, Operation: true,
		LoginMethod: custos.MethodMFA, OperationMethod: custos.MethodMFA}, newEvent("ev-prot-"+p, p, custos.EventProtection, t0)); err != nil {
		t.Fatalf("SetProtection: %v", err)
	}
	return f
}

// testResetSubUserMFA resets a sub-user's MFA: its devices and recovery
// codes go (the bound token retired), its sessions end, its trusted
// devices are forgotten and it must bind again; only its root may, and
// another sub-user keeps everything.
func testResetSubUserMFA(t *testing.T, s custos.Store) {
	ctx := t.Context()
	ss := subUsersOf(t, s)
	root := mustCreateAccount(t, s, "su-mfa-root")
	other := mustCreateAccount(t, s, "su-mfa-other")
	f := newSubUserMFAFixture(t, s, "su-mfa-1", root.ID, "one")
	g := newSubUserMFAFixture(t, s, "su-mfa-2", root.ID, "two")
	before, gBefore := f.state(t, s), g.state(t, s)
	sub := subUserOrAbsent(t, s, f.account)
	events, err := s.ListAudit(ctx, f.account, 1000)
	if err != nil {
		t.Fatalf("ListAudit: %v", err)
	}
	reset := func(root, id, evID string) error {
		return ss.ResetSubUserMFA(ctx, root, id, newEvent(evID, id, evSubUserMFAReset, t0.Add(time.Hour)))
	}

	wantCode(t, "ResetSubUserMFA(another root)", reset(other.ID, f.account, "ev-mfa-other"), custos.ENotFound)
	wantCode(t, "ResetSubUserMFA(unknown)", reset(root.ID, "su-mfa-absent", "ev-mfa-absent"), custos.ENotFound)
	wantCode(t, "ResetSubUserMFA(the root itself)", reset(root.ID, root.ID, "ev-mfa-root"), custos.ENotFound)
	wantCode(t, "ResetSubUserMFA(taken event id)", reset(root.ID, f.account, events[0].ID), custos.EConflict)
	if diff := cmp.Diff(before, f.state(t, s), opts); diff != "" {
		t.Errorf("refused resets changed the sub-user (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(sub, subUserOrAbsent(t, s, f.account), opts); diff != "" {
		t.Errorf("refused resets changed the settings (-before +after):\n%s", diff)
	}
	wantEvents(t, s, f.account, events...)

	if err := reset(root.ID, f.account, "ev-mfa-1"); err != nil {
		t.Fatalf("ResetSubUserMFA: %v", err)
	}
	tok := before.Token
	tok.Status, tok.DeviceID = custos.TokenRetired, ""
	// The account stays as it was, protection and all.
	want := mfaState{Account: before.Account, Devices: []any{absent, absent, absent, absent}, Token: tok}
	if diff := cmp.Diff(want, f.state(t, s), opts); diff != "" {
		t.Errorf("after the reset (-want +got):\n%s", diff)
	}
	list, err := s.ListDevices(ctx, f.account)
	if err != nil || len(list) != 0 {
		t.Errorf("ListDevices after the reset = %d devices, %v; want none", len(list), err)
	}
	a, su, err := ss.SubUserByID(ctx, f.account)
	if err != nil {
		t.Fatalf("SubUserByID: %v", err)
	}
	wantSub := sub.([]any)[1].(custos.SubUser)
	wantSub.MustBindMFA = true
	if diff := cmp.Diff(wantSub, su, opts); diff != "" {
		t.Errorf("settings after the reset (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before.Account, any(a), opts); diff != "" {
		t.Errorf("account after the reset (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(gBefore, g.state(t, s), opts); diff != "" {
		t.Errorf("the reset changed another sub-user (-before +after):\n%s", diff)
	}
	wantEvents(t, s, f.account, append([]custos.AuditEvent{
		newEvent("ev-mfa-1", f.account, evSubUserMFAReset, t0.Add(time.Hour))}, events...)...)
	// Again: nothing left to delete, and it still succeeds.
	if err := reset(root.ID, f.account, "ev-mfa-2"); err != nil {
		t.Errorf("ResetSubUserMFA(again): %v", err)
	}
}

// wantPasswordHistory fails t unless PasswordHistory(id, n) is want.
func wantPasswordHistory(t *testing.T, s custos.Store, id string, n int, want ...string) {
	t.Helper()
	got, err := subUsersOf(t, s).PasswordHistory(t.Context(), id, n)
	if err != nil {
		t.Fatalf("PasswordHistory(%s, %d): %v", id, n, err)
	}
	if got == nil {
		t.Errorf("PasswordHistory(%s, %d) = nil, want an empty slice", id, n)
	}
	if want == nil {
		want = []string{}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PasswordHistory(%s, %d) (-want +got):\n%s", id, n, diff)
	}
}

// testSetSubUserPassword has the root set its sub-user's password: the
// version goes up, so a session checked against the old one is refused;
// sessions, trusted devices and pending logins end; the old hash is
// remembered; only the root may.
func testSetSubUserPassword(t *testing.T, s custos.Store) {
	ctx := t.Context()
	ss := subUsersOf(t, s)
	root := mustCreateAccount(t, s, "su-pw-root")
	other := mustCreateAccount(t, s, "su-pw-other")
	a, su := mustCreateSubUser(t, s, "su-pw-1", root.ID, "one")
	b, bs := mustCreateSubUser(t, s, "su-pw-2", root.ID, "two")
	for _, id := range []string{a.ID, b.ID} {
		if err := s.CreateSession(ctx, newSession(id+"-sess", id), newEvent("ev-login-"+id, id, custos.EventLoginSuccess, t0)); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		mustTrustDevice(t, s, custos.TrustedDevice{ID: "tdev-" + id, AccountID: id, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)})
	}
	login := newFlow("su-pw-login", custos.FlowLogin, a.ID)
	signup := newFlow("su-pw-signup", custos.FlowSignup, a.ID)
	otherLogin := newFlow("su-pw-login-2", custos.FlowLogin, b.ID)
	for _, fl := range []custos.Flow{login, signup, otherLogin} {
		mustCreateFlow(t, s, fl)
	}
	at := t0.Add(2 * time.Hour)
	set := func(root, id, hash string, mustChange bool, keep int, evID string) error {
		return ss.SetSubUserPassword(ctx, root, id, hash, mustChange, at, keep, newEvent(evID, id, evSubUserPassword, at))
	}

	wantCode(t, "SetSubUserPassword(another root)", set(other.ID, a.ID, "h1", true, 3, "ev-pw-other"), custos.ENotFound)
	wantCode(t, "SetSubUserPassword(unknown)", set(root.ID, "su-pw-absent", "h1", true, 3, "ev-pw-absent"), custos.ENotFound)
	wantCode(t, "SetSubUserPassword(an ordinary account)", set(root.ID, root.ID, "h1", true, 3, "ev-pw-root"), custos.ENotFound)
	wantCode(t, "SetSubUserPassword(its own root: no root)", set(a.ID, a.ID, "h1", true, 3, "ev-pw-self"), custos.ENotFound)
	wantCode(t, "SetSubUserPassword(taken event id)", set(root.ID, a.ID, "h1", true, 3, "ev-create-"+a.ID), custos.EConflict)
	wantPlain(t, "SetSubUserPassword(no root)", set("", a.ID, "h1", true, 3, "ev-pw-noroot"))
	wantPlain(t, "SetSubUserPassword(zero time)",
		ss.SetSubUserPassword(ctx, root.ID, a.ID, "h1", true, time.Time{}, 3, newEvent("ev-pw-zero", a.ID, evSubUserPassword, at)))
	wantSubUser(t, s, a, su)
	wantAccount(t, s, root)
	if ids := sessionIDs(t, s, a.ID); len(ids) != 1 {
		t.Errorf("refused changes ended sessions: %v", ids)
	}
	wantTrusted(t, s, "tdev-"+a.ID, a.ID, t0, true)
	wantFlow(t, s, login, t0)
	wantPasswordHistory(t, s, a.ID, 10)

	if err := set(root.ID, a.ID, "h1", false, 3, "ev-pw-1"); err != nil {
		t.Fatalf("SetSubUserPassword: %v", err)
	}
	wantA := a
	wantA.PasswordHash, wantA.PasswordVersion = "h1", 1
	wantSu := su
	wantSu.MustChangePassword, wantSu.PasswordChangedAt = false, at
	wantSubUser(t, s, wantA, wantSu)
	wantPasswordHistory(t, s, a.ID, 10, a.PasswordHash)
	if ids := sessionIDs(t, s, a.ID); len(ids) != 0 {
		t.Errorf("sessions after the change: %v, want none", ids)
	}
	wantTrusted(t, s, "tdev-"+a.ID, a.ID, t0, false)
	_, err := s.FlowByID(ctx, login.ID, login.Kind, t0)
	wantCode(t, "FlowByID(the pending login)", err, custos.ENotFound)
	wantFlow(t, s, signup, t0)
	wantEvents(t, s, a.ID, newEvent("ev-pw-1", a.ID, evSubUserPassword, at),
		newEvent("ev-login-"+a.ID, a.ID, custos.EventLoginSuccess, t0),
		newEvent("ev-create-"+a.ID, a.ID, evSubUserCreated, t0))

	// A login that checked the old password opens no session (CreateSession's
	// rule); one under the new version does.
	stale := newSession(a.ID+"-stale", a.ID)
	wantCode(t, "CreateSession(the old password version)",
		s.CreateSession(ctx, stale, newEvent("ev-stale", a.ID, custos.EventLoginSuccess, at)), custos.EConflict)
	fresh := newSession(a.ID+"-fresh", a.ID)
	fresh.PasswordVersion = 1
	if err := s.CreateSession(ctx, fresh, newEvent("ev-fresh", a.ID, custos.EventLoginSuccess, at)); err != nil {
		t.Errorf("CreateSession(the new password version): %v", err)
	}

	// Must change: the mark is set.
	if err := set(root.ID, a.ID, "h2", true, 3, "ev-pw-2"); err != nil {
		t.Fatalf("SetSubUserPassword(must change): %v", err)
	}
	wantA.PasswordHash, wantA.PasswordVersion = "h2", 2
	wantSu.MustChangePassword = true
	wantSubUser(t, s, wantA, wantSu)
	wantPasswordHistory(t, s, a.ID, 10, "h1", a.PasswordHash)

	// The other sub-user kept everything.
	wantSubUser(t, s, b, bs)
	if ids := sessionIDs(t, s, b.ID); len(ids) != 1 {
		t.Errorf("the other sub-user's sessions: %v, want its one", ids)
	}
	wantTrusted(t, s, "tdev-"+b.ID, b.ID, t0, true)
	wantFlow(t, s, otherLogin, t0)
	wantPasswordHistory(t, s, b.ID, 10)
}

// SubUserPasswordRacers password changes of one sub-user race in
// testSetSubUserPasswordRace.
const SubUserPasswordRacers = 10

// testSetSubUserPasswordRace changes one sub-user's password
// SubUserPasswordRacers times at once: each change adds one to the
// version and remembers the hash it replaced, so the history holds the
// first hash and all but one of the new ones (the current), each once.
func testSetSubUserPasswordRace(t *testing.T, s custos.Store) {
	ctx := t.Context()
	ss := subUsersOf(t, s)
	root := mustCreateAccount(t, s, "su-pwr-root")
	a, _ := mustCreateSubUser(t, s, "su-pwr-1", root.ID, "one")
	errs := make([]error, SubUserPasswordRacers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range SubUserPasswordRacers {
		wg.Go(func() {
			<-start
			h := seq("hash", i)
			errs[i] = ss.SetSubUserPassword(ctx, root.ID, a.ID, h, false, t0.Add(time.Hour), 24,
				newEvent("ev-pwr-"+h, a.ID, evSubUserPassword, t0.Add(time.Hour)))
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("SetSubUserPassword(racer %d): %v", i, err)
		}
	}
	acct, err := s.AccountByID(ctx, a.ID)
	if err != nil {
		t.Fatalf("AccountByID: %v", err)
	}
	if acct.PasswordVersion != SubUserPasswordRacers {
		t.Errorf("PasswordVersion %d after %d changes", acct.PasswordVersion, SubUserPasswordRacers)
	}
	history, err := ss.PasswordHistory(ctx, a.ID, 100)
	if err != nil {
		t.Fatalf("PasswordHistory: %v", err)
	}
	want := []string{a.PasswordHash}
	for i := range SubUserPasswordRacers {
		if h := seq("hash", i); h != acct.PasswordHash {
			want = append(want, h)
		}
	}
	got := slices.Clone(history)
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the history after racing changes, sorted (-want +got):\n%s", diff)
	}
	if len(history) > 0 && history[len(history)-1] != a.PasswordHash {
		t.Errorf("the oldest remembered hash is %q, want the first one", history[len(history)-1])
	}
}

// testChangeOwnSubUserPassword has a sub-user change their own password:
// MustChangePassword clears, the version goes up, sessions end; an
// ordinary account is not found and keeps its password.
func testChangeOwnSubUserPassword(t *testing.T, s custos.Store) {
	ctx := t.Context()
	ss := subUsersOf(t, s)
	root := mustCreateAccount(t, s, "su-own-root")
	a, su := mustCreateSubUser(t, s, "su-own-1", root.ID, "one")
	if !su.MustChangePassword {
		t.Fatal("the fixture must owe a change")
	}
	if err := s.CreateSession(ctx, newSession(a.ID+"-sess", a.ID), newEvent("ev-login-"+a.ID, a.ID, custos.EventLoginSuccess, t0)); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	at := t0.Add(3 * time.Hour)
	change := func(id, hash string, keep int, evID string) error {
		return ss.ChangeOwnSubUserPassword(ctx, id, hash, at, keep, newEvent(evID, id, custos.EventPasswordChange, at))
	}

	wantCode(t, "ChangeOwnSubUserPassword(an ordinary account)", change(root.ID, "h1", 3, "ev-own-root"), custos.ENotFound)
	wantAccount(t, s, root)
	wantEvents(t, s, root.ID, newEvent("ev-signup-"+root.ID, root.ID, custos.EventSignup, t0))
	wantPasswordHistory(t, s, root.ID, 10)
	wantCode(t, "ChangeOwnSubUserPassword(unknown)", change("su-own-absent", "h1", 3, "ev-own-absent"), custos.ENotFound)
	wantCode(t, "ChangeOwnSubUserPassword(taken event id)", change(a.ID, "h1", 3, "ev-create-"+a.ID), custos.EConflict)
	wantSubUser(t, s, a, su)

	if err := change(a.ID, "h1", 3, "ev-own-1"); err != nil {
		t.Fatalf("ChangeOwnSubUserPassword: %v", err)
	}
	wantA := a
	wantA.PasswordHash, wantA.PasswordVersion = "h1", 1
	wantSu := su
	wantSu.MustChangePassword, wantSu.PasswordChangedAt = false, at
	wantSubUser(t, s, wantA, wantSu)
	wantPasswordHistory(t, s, a.ID, 10, a.PasswordHash)
	if ids := sessionIDs(t, s, a.ID); len(ids) != 0 {
		t.Errorf("sessions after the change: %v, want none", ids)
	}
	wantCode(t, "CreateSession(the old password version)",
		s.CreateSession(ctx, newSession(a.ID+"-stale", a.ID), newEvent("ev-stale", a.ID, custos.EventLoginSuccess, at)), custos.EConflict)
}

// testPasswordHistoryKeep changes a sub-user's password many times: the
// history keeps the newest keep hashes, newest first, and PasswordHistory
// returns at most n; no password ("") is not remembered.
func testPasswordHistoryKeep(t *testing.T, s custos.Store) {
	ctx := t.Context()
	ss := subUsersOf(t, s)
	root := mustCreateAccount(t, s, "su-hist-root")
	a, _ := newSubUser("su-hist-1", root.ID, "one")
	a.PasswordHash = "" // created without a password
	_, su := newSubUser(a.ID, root.ID, "one")
	if err := createSubUser(ctx, ss, a, su); err != nil {
		t.Fatalf("CreateSubUser: %v", err)
	}
	b, _ := mustCreateSubUser(t, s, "su-hist-2", root.ID, "two")
	at := t0
	set := func(id, hash string, keep int) {
		t.Helper()
		at = at.Add(time.Minute)
		// Every change in the same millisecond: seq orders them, not at.
		if err := ss.SetSubUserPassword(ctx, root.ID, id, hash, false, t0, keep,
			newEvent("ev-"+id+"-"+hash, id, evSubUserPassword, at)); err != nil {
			t.Fatalf("SetSubUserPassword(%s, %s): %v", id, hash, err)
		}
	}

	set(a.ID, "h1", 3)
	wantPasswordHistory(t, s, a.ID, 10) // "" was no password
	for _, h := range []string{"h2", "h3", "h4", "h5", "h6"} {
		set(a.ID, h, 3)
	}
	wantPasswordHistory(t, s, a.ID, 10, "h5", "h4", "h3")
	wantPasswordHistory(t, s, a.ID, 2, "h5", "h4")
	wantPasswordHistory(t, s, a.ID, 0)
	wantPasswordHistory(t, s, a.ID, -1)
	if err := ss.ChangeOwnSubUserPassword(ctx, a.ID, "h7", t0, 5, newEvent("ev-own-h7", a.ID, custos.EventPasswordChange, at)); err != nil {
		t.Fatalf("ChangeOwnSubUserPassword: %v", err)
	}
	wantPasswordHistory(t, s, a.ID, 10, "h6", "h5", "h4", "h3")
	set(a.ID, "h8", 1) // a smaller keep trims at once
	wantPasswordHistory(t, s, a.ID, 10, "h7")
	set(b.ID, "b1", 24)
	set(a.ID, "h9", 0) // none kept
	wantPasswordHistory(t, s, a.ID, 10)
	wantPasswordHistory(t, s, b.ID, 10, b.PasswordHash)
	wantPasswordHistory(t, s, "su-hist-absent", 10)
	_, got, err := ss.SubUserByID(ctx, a.ID)
	if err != nil {
		t.Fatalf("SubUserByID: %v", err)
	}
	acct, err := s.AccountByID(ctx, a.ID)
	if err != nil {
		t.Fatalf("AccountByID: %v", err)
	}
	if acct.PasswordHash != "h9" || acct.PasswordVersion != 9 || !got.PasswordChangedAt.Equal(t0) {
		t.Errorf("after nine changes: hash %q, version %d, changed %v; want h9, 9, %v",
			acct.PasswordHash, acct.PasswordVersion, got.PasswordChangedAt, t0)
	}
}

// testPasswordRules reads a root's rules (zero when none), sets and
// replaces them; an unknown root is not found.
func testPasswordRules(t *testing.T, s custos.Store) {
	ctx := t.Context()
	ss := subUsersOf(t, s)
	root := mustCreateAccount(t, s, "su-rules-root")
	other := mustCreateAccount(t, s, "su-rules-other")
	rulesOf := func(id string) custos.PasswordRules {
		t.Helper()
		r, err := ss.PasswordRules(ctx, id)
		if err != nil {
			t.Fatalf("PasswordRules(%s): %v", id, err)
		}
		return r
	}
	setRules := func(id string, r custos.PasswordRules, evID string) error {
		return ss.SetPasswordRules(ctx, id, r, newEvent(evID, id, evPasswordRules, t0.Add(time.Hour)))
	}
	for _, id := range []string{root.ID, "su-rules-absent"} {
		if r := rulesOf(id); r != (custos.PasswordRules{}) {
			t.Errorf("PasswordRules(%s) = %+v, want the zero value", id, r)
		}
	}
	wantCode(t, "SetPasswordRules(unknown root)",
		setRules("su-rules-absent", custos.PasswordRules{MinLength: 9}, "ev-rules-absent"), custos.ENotFound)
	wantCode(t, "SetPasswordRules(taken event id)",
		setRules(root.ID, custos.PasswordRules{MinLength: 9}, "ev-signup-"+root.ID), custos.EConflict)
	if r := rulesOf(root.ID); r != (custos.PasswordRules{}) {
		t.Errorf("a refused SetPasswordRules stored %+v", r)
	}

	r1 := custos.PasswordRules{MinLength: 12, Classes: 3, History: 5, RetryLimit: 4, MaxAge: 90 * 24 * time.Hour}
	if err := setRules(root.ID, r1, "ev-rules-1"); err != nil {
		t.Fatalf("SetPasswordRules: %v", err)
	}
	if diff := cmp.Diff(r1, rulesOf(root.ID)); diff != "" {
		t.Errorf("PasswordRules after setting (-want +got):\n%s", diff)
	}
	r2 := custos.PasswordRules{MinLength: 128, Classes: 4, History: 24, RetryLimit: 10, MaxAge: 1500 * time.Millisecond}
	if err := setRules(root.ID, r2, "ev-rules-2"); err != nil {
		t.Fatalf("SetPasswordRules(replace): %v", err)
	}
	if diff := cmp.Diff(r2, rulesOf(root.ID)); diff != "" {
		t.Errorf("PasswordRules after replacing (-want +got):\n%s", diff)
	}
	if err := setRules(root.ID, custos.PasswordRules{}, "ev-rules-3"); err != nil {
		t.Fatalf("SetPasswordRules(the defaults): %v", err)
	}
	if r := rulesOf(root.ID); r != (custos.PasswordRules{}) {
		t.Errorf("PasswordRules after setting the defaults = %+v, want the zero value", r)
	}
	if r := rulesOf(other.ID); r != (custos.PasswordRules{}) {
		t.Errorf("PasswordRules(another root) = %+v, want the zero value", r)
	}
	wantEvents(t, s, root.ID,
		newEvent("ev-rules-3", root.ID, evPasswordRules, t0.Add(time.Hour)),
		newEvent("ev-rules-2", root.ID, evPasswordRules, t0.Add(time.Hour)),
		newEvent("ev-rules-1", root.ID, evPasswordRules, t0.Add(time.Hour)),
		newEvent("ev-signup-"+root.ID, root.ID, custos.EventSignup, t0))
}

// testAccountsByPhoneSubUsers checks that find-my-accounts by phone (R1)
// never lists a sub-user bound to the number: its root resets it.
func testAccountsByPhoneSubUsers(t *testing.T, s custos.Store) {
	ctx := t.Context()
	const phone = "+8613900000666"
	root := newAccount("su-ph-root")
	root.Phone = phone
	if err := s.CreateAccount(ctx, root, newEvent("ev-signup-"+root.ID, root.ID, custos.EventSignup, t0)); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	a, su := newSubUser("su-ph-1", root.ID, "one")
	a.Phone = phone
	if err := createSubUser(ctx, subUsersOf(t, s), a, su); err != nil {
		t.Fatalf("CreateSubUser: %v", err)
	}
	mustCreateSubUser(t, s, "su-ph-2", root.ID, "two")
	if err := s.SetPhone(ctx, "su-ph-2", phone, 10, newEvent("ev-phone-su-ph-2", "su-ph-2", custos.EventPhoneChanged, t0)); err != nil {
		t.Fatalf("SetPhone: %v", err)
	}
	wantPhoneIDs(t, s, phone, root.ID)
	if acct, err := s.AccountByID(ctx, "su-ph-2"); err != nil || acct.Phone != phone {
		t.Errorf("the sub-user's phone = %q, %v; want %s", acct.Phone, err, phone)
	}
}

// subUserAuditedChanges are the rows of testAuditFailureLeavesNoChange for
// the custos.SubUserStore methods. The sub-user is p, its root p+"-root";
// the password rules are p's own.
func subUserAuditedChanges() []auditedChange {
	withSubUser := func(t *testing.T, s custos.Store, p string) {
		t.Helper()
		mustCreateAccount(t, s, p+"-root")
		mustCreateSubUser(t, s, p, p+"-root", "member")
	}
	subUserState := func(t *testing.T, s custos.Store, p string) any {
		t.Helper()
		history, err := subUsersOf(t, s).PasswordHistory(t.Context(), p, 100)
		if err != nil {
			t.Fatalf("PasswordHistory: %v", err)
		}
		return []any{accountOrAbsent(t, s, p), subUserOrAbsent(t, s, p), sessionIDs(t, s, p), history}
	}
	withSubUserSession := func(t *testing.T, s custos.Store, p string) {
		t.Helper()
		withSubUser(t, s, p)
		if err := s.CreateSession(t.Context(), newSession(p+"-sess", p), newEvent("ev-login-"+p, p, custos.EventLoginSuccess, t0)); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
	}
	return []auditedChange{
		{
			name: "CreateSubUser",
			setup: func(t *testing.T, s custos.Store, p string) {
				t.Helper()
				mustCreateAccount(t, s, p+"-root")
			},
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				a, su := newSubUser(p, p+"-root", "member")
				return s.(custos.SubUserStore).CreateSubUser(ctx, a, su, ev)
			},
			state: subUserState,
		},
		{
			name:  "UpdateSubUser",
			setup: withSubUser,
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				_, su := newSubUser(p, p+"-root", "renamed")
				su.ConsoleLogin, su.MustBindMFA = false, true
				return s.(custos.SubUserStore).UpdateSubUser(ctx, su, ev)
			},
			state: subUserState,
		},
		{
			name: "ResetSubUserMFA",
			setup: func(t *testing.T, s custos.Store, p string) {
				t.Helper()
				mustCreateAccount(t, s, p+"-root")
				newSubUserMFAFixture(t, s, p, p+"-root", "member")
			},
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				return s.(custos.SubUserStore).ResetSubUserMFA(ctx, p+"-root", p, ev)
			},
			state: func(t *testing.T, s custos.Store, p string) any {
				t.Helper()
				f := mfaFixture{account: p, devices: []string{p + "-totp", p + "-key", p + "-pending", p + "-hw"}, serial: "SN-" + p}
				return []any{f.state(t, s), subUserOrAbsent(t, s, p), recoveryCount(t, s, p)}
			},
		},
		{
			name:  "SetSubUserPassword",
			setup: withSubUserSession,
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				return s.(custos.SubUserStore).SetSubUserPassword(ctx, p+"-root", p, "new-hash", false, t0.Add(time.Hour), 5, ev)
			},
			state: subUserState,
		},
		{
			name:  "ChangeOwnSubUserPassword",
			setup: withSubUserSession,
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				return s.(custos.SubUserStore).ChangeOwnSubUserPassword(ctx, p, "new-hash", t0.Add(time.Hour), 5, ev)
			},
			state: subUserState,
		},
		{
			name:  "SetPasswordRules",
			setup: createAccountOnly,
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				return s.(custos.SubUserStore).SetPasswordRules(ctx, p, custos.PasswordRules{MinLength: 10, Classes: 3,
					History: 4, RetryLimit: 5, MaxAge: time.Hour}, ev)
			},
			state: func(t *testing.T, s custos.Store, p string) any {
				t.Helper()
				r, err := subUsersOf(t, s).PasswordRules(t.Context(), p)
				if err != nil {
					t.Fatalf("PasswordRules: %v", err)
				}
				return r
			},
		},
	}
}
