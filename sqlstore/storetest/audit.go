package storetest

import (
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/google/go-cmp/cmp"
)

func testAudit(t *testing.T, s custos.Store) {
	ctx := t.Context()
	const acct = "acct-audit"
	early := newEvent("ev-b", acct, custos.EventLoginFailure, t0)
	tieLow := newEvent("ev-c", acct, custos.EventLoginSuccess, t0.Add(time.Second))
	tieHigh := newEvent("ev-d", acct, custos.EventPasswordRehash, t0.Add(time.Second))
	tieHigh.Detail = nil
	late := newEvent("ev-a", acct, custos.EventLogout, t0.Add(time.Hour+999*time.Millisecond))
	late.Detail = map[string]string{"reason": "user", "note": `quotes " and unicode ✓`}
	anonymous := newEvent("ev-anon", "", custos.EventLoginFailure, t0.Add(time.Minute))
	anonymous.Identifier = "nobody@example.test"
	other := newEvent("ev-other", "acct-other", custos.EventSignup, t0.Add(2*time.Hour))
	for _, ev := range []custos.AuditEvent{tieLow, late, anonymous, early, other, tieHigh} {
		if err := s.AppendAudit(ctx, ev); err != nil {
			t.Fatalf("AppendAudit(%s): %v", ev.ID, err)
		}
	}
	tests := []struct {
		name      string
		accountID string
		limit     int
		want      []custos.AuditEvent
	}{
		{"newest first, ties latest-written first", acct, 10, []custos.AuditEvent{late, tieHigh, tieLow, early}},
		{"limit", acct, 2, []custos.AuditEvent{late, tieHigh}},
		{"limit one", acct, 1, []custos.AuditEvent{late}},
		{"zero limit", acct, 0, []custos.AuditEvent{}},
		{"events without an account", "", 10, []custos.AuditEvent{anonymous}},
		{"another account", "acct-other", 10, []custos.AuditEvent{other}},
		{"no events", "acct-absent", 10, []custos.AuditEvent{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListAudit(ctx, tc.accountID, tc.limit)
			if err != nil {
				t.Fatalf("ListAudit: %v", err)
			}
			if diff := cmp.Diff(tc.want, got, opts); diff != "" {
				t.Errorf("ListAudit mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func testAuditErrors(t *testing.T, s custos.Store) {
	ctx := t.Context()
	first := newEvent("ev-dup", "acct-audit", custos.EventLoginFailure, t0)
	if err := s.AppendAudit(ctx, first); err != nil {
		t.Fatalf("AppendAudit: %v", err)
	}
	t.Run("duplicate id", func(t *testing.T) {
		again := newEvent("ev-dup", "acct-audit", custos.EventLogout, t0.Add(time.Minute))
		wantCode(t, "AppendAudit", s.AppendAudit(ctx, again), custos.EConflict)
	})
	t.Run("no id", func(t *testing.T) {
		if err := s.AppendAudit(ctx, newEvent("", "acct-audit", custos.EventLogout, t0)); err == nil {
			t.Errorf("AppendAudit(no id): got no error, want one")
		}
	})
	wantEvents(t, s, "acct-audit", first)
}
