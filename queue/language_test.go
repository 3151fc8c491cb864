package queue_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testdb"
)

// TestLanguageTravels: a message keeps its own language through the queue;
// one without (an account with no saved language) takes the language of
// the request that caused it, through a change and through Send alike.
func TestLanguageTravels(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			s := start(t, d, nil)
			ctx := custos.WithLanguage(t.Context(), "zh-CN")
			own := notice("own@example.com")
			own.Lang = "en"
			if err := s.store.AppendAudit(ctx, event("ev-lang", "acct", own, notice("request@example.com"))); err != nil {
				t.Fatal(err)
			}
			if err := s.q.Send(ctx, notice("sent@example.com")); err != nil {
				t.Fatal(err)
			}
			if err := s.q.Send(t.Context(), notice("none@example.com")); err != nil {
				t.Fatal(err)
			}
			drain(t, s.q)
			got := map[string]string{}
			for _, m := range s.box.messages() {
				got[m.To] = m.Lang
			}
			want := map[string]string{"own@example.com": "en", "request@example.com": "zh-CN", "sent@example.com": "zh-CN", "none@example.com": ""}
			for to, lang := range want {
				if l, ok := got[to]; !ok || l != lang {
					t.Errorf("message to %s: language %q (delivered %v), want %q", to, l, ok, lang)
				}
			}
			if len(got) != len(want) {
				t.Errorf("delivered to %v, want %v", slices.Sorted(maps.Keys(got)), want)
			}
		})
	}
}
