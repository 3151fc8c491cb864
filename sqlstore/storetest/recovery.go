package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/custos/custos"
)

// codeRacers is how many goroutines race to use one recovery code.
const codeRacers = 50

func recoveryHashes(prefix string, n int) [][]byte {
	hs := make([][]byte, n)
	for i := range hs {
		hs[i] = hash(fmt.Sprintf("%s-%d", prefix, i))
	}
	return hs
}

func mustReplaceRecoveryCodes(t *testing.T, s custos.Store, accountID string, hashes [][]byte, ev custos.AuditEvent) {
	t.Helper()
	if err := s.ReplaceRecoveryCodes(t.Context(), accountID, hashes, ev.At, ev); err != nil {
		t.Fatalf("ReplaceRecoveryCodes(%s): %v", accountID, err)
	}
}

func wantRecoveryCount(t *testing.T, s custos.Store, accountID string, want int) {
	t.Helper()
	n, err := s.CountRecoveryCodes(t.Context(), accountID)
	if err != nil {
		t.Fatalf("CountRecoveryCodes(%s): %v", accountID, err)
	}
	if n != want {
		t.Errorf("CountRecoveryCodes(%s) = %d, want %d", accountID, n, want)
	}
}

// testRecoveryCodes runs its steps in order on two accounts: each code
// serves once, only its own account, until the codes are replaced.
func testRecoveryCodes(t *testing.T, s custos.Store) {
	ctx := t.Context()
	alice := mustCreateAccount(t, s, "acct-rc-alice")
	bob := mustCreateAccount(t, s, "acct-rc-bob")
	wantRecoveryCount(t, s, alice.ID, 0)
	first := recoveryHashes("first", 10)
	second := recoveryHashes("second", 10)
	evFirst := newEvent("ev-rc-1", alice.ID, custos.EventRecoveryCodes, t0)
	evSecond := newEvent("ev-rc-2", alice.ID, custos.EventRecoveryCodes, t0.Add(time.Hour))
	mustReplaceRecoveryCodes(t, s, alice.ID, first, evFirst)
	mustReplaceRecoveryCodes(t, s, bob.ID, recoveryHashes("bob", 3), newEvent("ev-rc-bob", bob.ID, custos.EventRecoveryCodes, t0))
	at := t0.Add(time.Minute)
	steps := []struct {
		name      string
		replace   [][]byte // replace alice's codes with these first, when set
		accountID string
		hash      []byte
		wantCode  string
		wantCount int // alice's unused codes afterwards
	}{
		{name: "unused code", accountID: alice.ID, hash: first[3], wantCount: 9},
		{name: "the same code again", accountID: alice.ID, hash: first[3], wantCode: custos.EInvalidCode, wantCount: 9},
		{name: "another unused code", accountID: alice.ID, hash: first[9], wantCount: 8},
		{name: "unknown code", accountID: alice.ID, hash: hash("never issued"), wantCode: custos.EInvalidCode, wantCount: 8},
		{name: "alice's code, bob's account", accountID: bob.ID, hash: first[0], wantCode: custos.EInvalidCode, wantCount: 8},
		{name: "bob's code, alice's account", accountID: alice.ID, hash: hash("bob-0"), wantCode: custos.EInvalidCode, wantCount: 8},
		{name: "an old code after replacing", replace: second, accountID: alice.ID, hash: first[0], wantCode: custos.EInvalidCode, wantCount: 10},
		{name: "a used code after replacing", accountID: alice.ID, hash: first[3], wantCode: custos.EInvalidCode, wantCount: 10},
		{name: "a new code", accountID: alice.ID, hash: second[0], wantCount: 9},
	}
	var used []custos.AuditEvent // alice's code uses, newest first
	for i, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.replace != nil {
				mustReplaceRecoveryCodes(t, s, alice.ID, st.replace, evSecond)
			}
			ev := newEvent(seq("ev-rc-use", i), st.accountID, custos.EventRecoveryUsed, at.Add(time.Duration(i)*time.Millisecond))
			err := s.UseRecoveryCode(ctx, st.accountID, st.hash, at, ev)
			if st.wantCode != "" {
				wantCode(t, "UseRecoveryCode", err, st.wantCode)
			} else if err != nil {
				t.Fatalf("UseRecoveryCode: %v", err)
			} else {
				used = append([]custos.AuditEvent{ev}, used...)
			}
			wantRecoveryCount(t, s, alice.ID, st.wantCount)
		})
	}
	wantRecoveryCount(t, s, bob.ID, 3)
	wantPlain(t, "UseRecoveryCode(zero time)", s.UseRecoveryCode(ctx, alice.ID, second[1], time.Time{},
		newEvent("ev-rc-zero", alice.ID, custos.EventRecoveryUsed, at)))
	wantRecoveryCount(t, s, alice.ID, 9)
	if len(used) != 3 {
		t.Errorf("%d uses wrote their event, want 3", len(used))
	}
	// Each use wrote its event; no refusal wrote one.
	want := append([]custos.AuditEvent{evSecond}, used...)
	wantEvents(t, s, alice.ID, append(want, evFirst, newEvent("ev-signup-"+alice.ID, alice.ID, custos.EventSignup, t0))...)
	wantEvents(t, s, bob.ID, newEvent("ev-rc-bob", bob.ID, custos.EventRecoveryCodes, t0),
		newEvent("ev-signup-"+bob.ID, bob.ID, custos.EventSignup, t0))
}

// testReplaceRecoveryCodesErrors checks a refused replacement changes
// nothing: the old codes still serve and no event is written.
func testReplaceRecoveryCodesErrors(t *testing.T, s custos.Store) {
	ctx := t.Context()
	a := mustCreateAccount(t, s, "acct-rc-err")
	old := recoveryHashes("old", 4)
	mustReplaceRecoveryCodes(t, s, a.ID, old, newEvent("ev-rc-old", a.ID, custos.EventRecoveryCodes, t0))
	dup := recoveryHashes("dup", 3)
	dup = append(dup, dup[1])
	tests := []struct {
		name      string
		accountID string
		hashes    [][]byte
		ev        custos.AuditEvent
		wantCode  string // "" for a plain failure
	}{
		{"a hash given twice", a.ID, dup, newEvent("ev-rc-dup", a.ID, custos.EventRecoveryCodes, t0), custos.EConflict},
		{"event id taken", a.ID, recoveryHashes("new", 4), newEvent("ev-rc-old", a.ID, custos.EventRecoveryCodes, t0), custos.EConflict},
		{"unknown account", "acct-absent", recoveryHashes("orphan", 2), newEvent("ev-rc-orphan", "acct-absent", custos.EventRecoveryCodes, t0), custos.ENotFound},
		{"event without id", a.ID, recoveryHashes("new", 4), newEvent("", a.ID, custos.EventRecoveryCodes, t0), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.ReplaceRecoveryCodes(ctx, tc.accountID, tc.hashes, t0.Add(time.Minute), tc.ev)
			if tc.wantCode != "" {
				wantCode(t, "ReplaceRecoveryCodes", err, tc.wantCode)
			} else {
				wantPlain(t, "ReplaceRecoveryCodes", err)
			}
			wantRecoveryCount(t, s, a.ID, len(old))
		})
	}
	wantEvents(t, s, a.ID, newEvent("ev-rc-old", a.ID, custos.EventRecoveryCodes, t0),
		newEvent("ev-signup-"+a.ID, a.ID, custos.EventSignup, t0))
	if err := s.UseRecoveryCode(ctx, a.ID, old[2], t0.Add(time.Hour),
		newEvent("ev-rc-use-old", a.ID, custos.EventRecoveryUsed, t0.Add(time.Hour))); err != nil {
		t.Errorf("UseRecoveryCode(old code, after the refusals): %v", err)
	}
	t.Run("no codes at all", func(t *testing.T) {
		mustReplaceRecoveryCodes(t, s, a.ID, nil, newEvent("ev-rc-none", a.ID, custos.EventRecoveryCodes, t0))
		wantRecoveryCount(t, s, a.ID, 0)
	})
}

// testUseRecoveryCodeConcurrent races codeRacers uses of one code: exactly
// one succeeds, and only its event is written.
func testUseRecoveryCodeConcurrent(t *testing.T, s custos.Store) {
	ctx := t.Context()
	a := mustCreateAccount(t, s, "acct-rc-race")
	hashes := recoveryHashes("race", 10)
	mustReplaceRecoveryCodes(t, s, a.ID, hashes, newEvent("ev-rc-race", a.ID, custos.EventRecoveryCodes, t0))
	errs := make([]error, codeRacers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range codeRacers {
		wg.Go(func() {
			<-start
			at := t0.Add(time.Duration(i+1) * time.Millisecond)
			errs[i] = s.UseRecoveryCode(ctx, a.ID, hashes[4], at, newEvent(seq("ev-rc-racer", i), a.ID, custos.EventRecoveryUsed, at))
		})
	}
	close(start)
	wg.Wait()
	ok, winner := 0, -1
	for i, err := range errs {
		if err == nil {
			ok, winner = ok+1, i
			continue
		}
		wantCode(t, "UseRecoveryCode(loser)", err, custos.EInvalidCode)
	}
	if ok != 1 {
		t.Errorf("%d uses of one code succeeded, want exactly 1", ok)
	}
	wantRecoveryCount(t, s, a.ID, len(hashes)-1)
	if winner >= 0 {
		at := t0.Add(time.Duration(winner+1) * time.Millisecond)
		wantEvents(t, s, a.ID,
			newEvent(seq("ev-rc-racer", winner), a.ID, custos.EventRecoveryUsed, at),
			newEvent("ev-rc-race", a.ID, custos.EventRecoveryCodes, t0),
			newEvent("ev-signup-"+a.ID, a.ID, custos.EventSignup, t0))
	}
}
