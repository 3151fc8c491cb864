package queue_test

import (
	"errors"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/queue"
	"github.com/prometheus/client_golang/prometheus"
)

// value reads one series of reg: name with the labels given as name, value
// pairs; ok is false when it is not there.
func value(t *testing.T, reg *prometheus.Registry, name string, labels ...string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				if label(m, labels[i]) != labels[i+1] {
					continue next
				}
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue(), true
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue(), true
			}
		}
	}
	return 0, false
}

// TestCodesSentAndOldestWaiting: a message with a code counts as a code
// sent on its channel once it is handed over (a notice does not); while
// delivery is down the oldest waiting message's age grows, and it is 0
// once everything is out.
func TestCodesSentAndOldestWaiting(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			s := start(t, d, func(c *queue.Config) {
				c.Backoff = func(int) time.Duration { return 50 * time.Millisecond }
			})
			for _, ch := range []string{custos.ChannelEmail, custos.ChannelSMS} {
				if v, ok := value(t, s.reg, "custos_codes_sent_total", "channel", ch); !ok || v != 0 {
					t.Fatalf("custos_codes_sent_total{channel=%q} at start = %v (present %v), want 0", ch, v, ok)
				}
			}
			if v, ok := value(t, s.reg, "custos_deliveries_oldest_waiting_seconds"); !ok || v != 0 {
				t.Fatalf("oldest waiting with nothing waiting = %v (present %v), want 0", v, ok)
			}
			s.box.setFail(func(custos.Message) error { return errors.New("gateway down") })
			code := custos.Message{Channel: custos.ChannelSMS, To: "+8613800138000", Purpose: custos.MsgPhoneCode, Code: "493817",
				Expires: s.clock.Now().Add(10 * time.Minute)}
			if err := s.q.Send(t.Context(), code); err != nil {
				t.Fatal(err)
			}
			if err := s.store.AppendAudit(t.Context(), event("ev-1", "acct", notice("x@example.com"))); err != nil {
				t.Fatal(err)
			}
			eventually(t, "both failed once", func() bool {
				return counter(t, s.reg, custos.ChannelSMS, "failed") >= 1 && counter(t, s.reg, custos.ChannelEmail, "failed") >= 1
			})
			time.Sleep(1100 * time.Millisecond)
			age, ok := value(t, s.reg, "custos_deliveries_oldest_waiting_seconds")
			if !ok || age < 1 || age > 120 {
				t.Fatalf("oldest waiting while down = %v s (present %v), want between 1 s and 2 min", age, ok)
			}
			if v, _ := value(t, s.reg, "custos_codes_sent_total", "channel", custos.ChannelSMS); v != 0 {
				t.Fatalf("codes sent while the gateway is down = %v, want 0", v)
			}
			s.box.setFail(nil)
			eventually(t, "both delivered", func() bool { return len(s.box.messages()) == 2 })
			drain(t, s.q)
			if v, _ := value(t, s.reg, "custos_codes_sent_total", "channel", custos.ChannelSMS); v != 1 {
				t.Errorf("custos_codes_sent_total{channel=sms} = %v, want 1", v)
			}
			if v, _ := value(t, s.reg, "custos_codes_sent_total", "channel", custos.ChannelEmail); v != 0 {
				t.Errorf("custos_codes_sent_total{channel=email} = %v after a notice, want 0", v)
			}
			eventually(t, "nothing waits: oldest age 0", func() bool {
				v, ok := value(t, s.reg, "custos_deliveries_oldest_waiting_seconds")
				return ok && v == 0
			})
		})
	}
}
