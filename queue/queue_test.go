package queue_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testclock"
	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/keyring"
	"github.com/custos/custos/queue"
	"github.com/custos/custos/sqlstore"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// box is the delivery at the edge: it keeps what was delivered and can be
// told to fail.
type box struct {
	mu   sync.Mutex
	sent []custos.Message
	fail func(m custos.Message) error // nil: deliver
}

func (b *box) deliver(_ context.Context, m custos.Message) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail != nil {
		if err := b.fail(m); err != nil {
			return err
		}
	}
	b.sent = append(b.sent, m)
	return nil
}

func (b *box) messages() []custos.Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]custos.Message(nil), b.sent...)
}

func (b *box) setFail(f func(custos.Message) error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fail = f
}

// setup is a store and a started queue on it, stopped before the store
// closes.
type setup struct {
	store *sqlstore.DB
	q     *queue.Queue
	box   *box
	reg   *prometheus.Registry
	log   *syncBuffer
	clock *testclock.Clock
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func sealer(t testing.TB) (func([]byte) ([]byte, error), func([]byte) ([]byte, error)) {
	t.Helper()
	ring, err := keyring.Generate(rand.Reader, "k1")
	if err != nil {
		t.Fatal(err)
	}
	aad := []byte("queue-message")
	return func(p []byte) ([]byte, error) { return ring.Seal(rand.Reader, p, aad) },
		func(s []byte) ([]byte, error) { return ring.Open(s, aad) }
}

func start(t *testing.T, dialect string, tune func(*queue.Config)) *setup {
	t.Helper()
	store := testdb.Open(t, dialect)
	s := &setup{store: store, box: &box{}, reg: prometheus.NewRegistry(), log: &syncBuffer{}, clock: testclock.New(time.Time{})}
	seal, open := sealer(t)
	cfg := queue.Config{
		DB: store.Writer(), Dialect: store.Dialect(), Exclusive: store.Exclusive,
		Deliver: s.box.deliver, Seal: seal, Open: open, Clock: s.clock,
		Logger:  slog.New(slog.NewJSONHandler(s.log, nil)),
		Metrics: s.reg, PollInterval: 20 * time.Millisecond,
		Backoff: func(int) time.Duration { return 10 * time.Millisecond },
	}
	if tune != nil {
		tune(&cfg)
	}
	q, err := queue.New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("queue.New: %v", err)
	}
	store.SetOutbox(q.InsertTx)
	if err := q.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := q.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	s.q = q
	return s
}

func drain(t *testing.T, q *queue.Queue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := q.Drain(ctx); err != nil {
		t.Fatal(err)
	}
}

// eventually polls cond for up to 20 seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 20 s: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func counter(t *testing.T, reg *prometheus.Registry, channel, outcome string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "custos_deliveries_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label(m, "channel") == channel && label(m, "outcome") == outcome {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no custos_deliveries_total{channel=%q,outcome=%q}", channel, outcome)
	return 0
}

func gauge(t *testing.T, reg *prometheus.Registry, state string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "custos_deliveries_waiting" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label(m, "state") == state {
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("no custos_deliveries_waiting{state=%q}", state)
	return 0
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func event(id, accountID string, notify ...custos.Message) custos.AuditEvent {
	return custos.AuditEvent{ID: id, At: testclock.Start, AccountID: accountID, Type: custos.EventLoginFailure, Notify: notify}
}

func notice(to string) custos.Message {
	return custos.Message{Channel: custos.ChannelEmail, To: to, Purpose: custos.MsgPasswordChanged, Data: map[string]string{}}
}

// TestMessagesCommitWithTheirChange: a change's messages are delivered once
// when it commits, never when it fails.
func TestMessagesCommitWithTheirChange(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			s := start(t, d, nil)
			ctx := t.Context()
			if err := s.store.AppendAudit(ctx, event("ev-1", "acct", notice("one@example.com"))); err != nil {
				t.Fatal(err)
			}
			// The same id again: the audit write fails, and so the change
			// and its message are not written.
			err := s.store.AppendAudit(ctx, event("ev-1", "acct", notice("two@example.com")))
			if !custos.IsCode(err, custos.EConflict) {
				t.Fatalf("a taken event id = %v, want conflict", err)
			}
			if err := s.q.Send(ctx, notice("three@example.com")); err != nil {
				t.Fatal(err)
			}
			drain(t, s.q)
			var got []string
			for _, m := range s.box.messages() {
				got = append(got, m.To)
			}
			if strings.Join(got, ",") != "one@example.com,three@example.com" && strings.Join(got, ",") != "three@example.com,one@example.com" {
				t.Errorf("delivered to %v, want one@ and three@ once each", got)
			}
		})
	}
}

// TestRetriesCountsAndLogs: a failing delivery is retried until it goes
// through; each failed attempt is counted and logged at warn, without the
// code or the full address.
func TestRetriesCountsAndLogs(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			s := start(t, d, nil)
			failures := 0
			s.box.setFail(func(custos.Message) error {
				if failures < 3 {
					failures++
					return custos.Errorf(custos.EUnavailable, "smtp: connection refused")
				}
				return nil
			})
			m := custos.Message{Channel: custos.ChannelSMS, To: "+8613800138000", Purpose: custos.MsgPhoneCode, Code: "493817",
				Expires: s.clock.Now().Add(10 * time.Minute)}
			if err := s.q.Send(t.Context(), m); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the message is delivered", func() bool { return len(s.box.messages()) == 1 })
			if got := counter(t, s.reg, custos.ChannelSMS, "failed"); got != 3 {
				t.Errorf("failed attempts counted = %v, want 3", got)
			}
			if got := counter(t, s.reg, custos.ChannelSMS, "sent"); got != 1 {
				t.Errorf("sent counted = %v, want 1", got)
			}
			drain(t, s.q)
			if got := gauge(t, s.reg, "retryable"); got != 0 {
				t.Errorf("waiting retryable = %v after delivery, want 0", got)
			}
			logs := s.log.String()
			if n := strings.Count(logs, `"msg":"delivery failed"`); n != 3 {
				t.Errorf("%d warn lines for 3 failed attempts:\n%s", n, logs)
			}
			for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
				if !strings.Contains(line, `"msg":"delivery failed"`) {
					continue
				}
				for _, want := range []string{`"level":"WARN"`, `"channel":"sms"`, `"purpose":"phone_code"`, `"attempt":`, `"err":"unavailable: smtp: connection refused"`, `"to":"+86*********00"`} {
					if !strings.Contains(line, want) {
						t.Errorf("log line lacks %s: %s", want, line)
					}
				}
			}
			if strings.Contains(logs, "493817") || strings.Contains(logs, "13800138000") {
				t.Errorf("the log holds the code or the whole number:\n%s", logs)
			}
		})
	}
}

// TestWaitingWhileDown: while delivery fails, the messages wait (and the
// gauge shows them); none is lost, and all go out once it works again.
func TestWaitingWhileDown(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			s := start(t, d, func(c *queue.Config) {
				c.Backoff = func(int) time.Duration { return 50 * time.Millisecond }
			})
			down := errors.New("dial tcp 127.0.0.1:25: connection refused")
			s.box.setFail(func(custos.Message) error { return down })
			for i := range 20 {
				if err := s.store.AppendAudit(t.Context(), event("ev-"+string(rune('a'+i)), "acct", notice("x@example.com"))); err != nil {
					t.Fatal(err)
				}
			}
			eventually(t, "every message failed at least once", func() bool {
				return counter(t, s.reg, custos.ChannelEmail, "failed") >= 20
			})
			// The gauge is read from the database when scraped; under load a
			// scrape may land while a job is between states, so it is read
			// until it settles — it must show all 20 while delivery is down.
			waiting := func() float64 {
				sum := 0.0
				for _, st := range []string{"available", "running", "retryable", "scheduled", "pending"} {
					sum += gauge(t, s.reg, st)
				}
				return sum
			}
			eventually(t, "the gauge shows 20 waiting while down", func() bool { return waiting() == 20 })
			s.box.setFail(nil)
			eventually(t, "all 20 delivered", func() bool { return len(s.box.messages()) == 20 })
			drain(t, s.q)
			time.Sleep(200 * time.Millisecond)
			if n := len(s.box.messages()); n != 20 {
				t.Errorf("%d deliveries, want 20", n)
			}
		})
	}
}

// TestGivingUp: a message no template can render is given up at once; one
// that fails every attempt is given up after MaxAttempts; a code that has
// stopped working is dropped, not sent.
func TestGivingUp(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			s := start(t, d, func(c *queue.Config) { c.MaxAttempts = 3 })
			s.box.setFail(func(m custos.Message) error {
				if m.To == "bug@example.com" {
					return custos.Errorf(custos.EInternal, "notify: no template")
				}
				return errors.New("refused")
			})
			ctx := t.Context()
			for _, m := range []custos.Message{notice("bug@example.com"), notice("down@example.com")} {
				if err := s.q.Send(ctx, m); err != nil {
					t.Fatal(err)
				}
			}
			eventually(t, "both given up", func() bool { return counter(t, s.reg, custos.ChannelEmail, "discarded") == 2 })
			if got := counter(t, s.reg, custos.ChannelEmail, "failed"); got != 1+3 {
				t.Errorf("failed attempts = %v, want 4 (one for the bug, three for the outage)", got)
			}
			s.box.setFail(nil)
			stale := custos.Message{Channel: custos.ChannelEmail, To: "late@example.com", Purpose: custos.MsgResetCode, Code: "123456",
				Expires: s.clock.Now().Add(-time.Second)}
			if err := s.q.Send(ctx, stale); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the stale code dropped", func() bool { return counter(t, s.reg, custos.ChannelEmail, "expired") == 1 })
			if n := len(s.box.messages()); n != 0 {
				t.Errorf("%d delivered, want none", n)
			}
		})
	}
}

// TestSealedAtRest: the job table holds neither the address nor the code.
func TestSealedAtRest(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			s := start(t, d, nil)
			ctx := t.Context()
			if err := s.q.Stop(ctx); err != nil { // keep the job where it is
				t.Fatal(err)
			}
			m := custos.Message{Channel: custos.ChannelEmail, To: "secret-holder@example.com", Purpose: custos.MsgResetCode, Code: "864209"}
			if err := s.q.Send(ctx, m); err != nil {
				t.Fatal(err)
			}
			var args []byte
			query := "SELECT CAST(args AS TEXT) FROM river_job WHERE kind = 'deliver'"
			if d == sqlstore.DialectSQLite {
				query = "SELECT json(args) FROM river_job WHERE kind = 'deliver'" // stored as JSONB
			}
			err := s.store.Writer().QueryRowContext(ctx, query).Scan(&args)
			if errors.Is(err, sql.ErrNoRows) || err != nil {
				t.Fatalf("reading the job: %v", err)
			}
			if bytes.Contains(args, []byte("secret-holder")) || bytes.Contains(args, []byte("864209")) {
				t.Errorf("the job's args hold the address or the code: %s", args)
			}
			if !bytes.Contains(args, []byte(`"reset_code"`)) {
				t.Errorf("args %s lack the purpose", args)
			}
		})
	}
}

// TestNoOutboxRefuses: a store without an outbox refuses a change that
// carries a message instead of dropping it.
func TestNoOutboxRefuses(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			store := testdb.Open(t, d)
			err := store.AppendAudit(t.Context(), event("ev-x", "acct", notice("x@example.com")))
			if err == nil || !strings.Contains(err.Error(), "no outbox") {
				t.Fatalf("AppendAudit with a message and no outbox = %v, want an error", err)
			}
			if evs, err := store.ListAudit(t.Context(), "acct", 10); err != nil || len(evs) != 0 {
				t.Errorf("events after the refusal: %v, %v; want none", evs, err)
			}
		})
	}
}

// TestReplicasMigrateAtOnce: four processes' worth of stores starting on
// one fresh database at the same moment all migrate River's tables and
// get a working queue.
func TestReplicasMigrateAtOnce(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			dsn := testdb.DSN(t, d)
			seal, open := sealer(t)
			const replicas = 4
			stores := make([]*sqlstore.DB, replicas)
			for i := range stores {
				db, err := sqlstore.Open(t.Context(), dsn)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				stores[i] = db
			}
			var wg sync.WaitGroup
			queues := make([]*queue.Queue, replicas)
			for i, db := range stores {
				wg.Go(func() {
					if err := db.Migrate(t.Context()); err != nil {
						t.Errorf("replica %d: store migrate: %v", i, err)
						return
					}
					q, err := queue.New(t.Context(), queue.Config{DB: db.Writer(), Dialect: db.Dialect(), Exclusive: db.Exclusive,
						Deliver: (&box{}).deliver, Seal: seal, Open: open})
					if err != nil {
						t.Errorf("replica %d: %v", i, err)
						return
					}
					queues[i] = q
				})
			}
			wg.Wait()
			for i, q := range queues {
				if q == nil {
					continue
				}
				if err := q.Send(t.Context(), notice(fmt.Sprintf("m%d@example.com", i))); err != nil {
					t.Errorf("replica %d: Send: %v", i, err)
				}
			}
		})
	}
}
