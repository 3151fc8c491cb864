package queue_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testclock"
	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/keyring"
	"github.com/custos/custos/notify"
	"github.com/custos/custos/queue"
	"github.com/custos/custos/sqlstore"
	"github.com/google/go-cmp/cmp"
)

// hookSecret is the receivers' signing secret.
var hookSecret = []byte("a receiver's secret of 32 bytes!")

// receiver is a platform's webhook endpoint: it checks each request's
// signature (refusing, with 401, one that does not verify), answers with
// the status answer gives for the nth request (200 when nil), and keeps
// what it accepted.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	n      int                   // requests seen
	answer func(n int) int       // status for the nth request (1-based)
	got    []custos.WebhookEvent // accepted, in order
	byID   map[string]int        // accepted count per event id
	heads  []http.Header         // headers of every request
}

func newReceiver(t *testing.T, answer func(n int) int) *receiver {
	r := &receiver{t: t, answer: answer, byID: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	ts := req.Header.Get(notify.HeaderTimestamp)
	if !notify.Verify(hookSecret, ts, body, req.Header.Get(notify.HeaderSignature)) {
		r.t.Errorf("a request whose signature does not verify: %s %q", ts, body)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var ev custos.WebhookEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		r.t.Errorf("a body that is not an event: %q", body)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	r.heads = append(r.heads, req.Header.Clone())
	status := http.StatusOK
	if r.answer != nil {
		status = r.answer(r.n)
	}
	if status >= 200 && status < 300 {
		r.byID[ev.ID]++
		r.got = append(r.got, ev)
	}
	w.WriteHeader(status)
}

func (r *receiver) accepted() ([]custos.WebhookEvent, map[string]int, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	by := make(map[string]int, len(r.byID))
	for k, v := range r.byID {
		by[k] = v
	}
	return append([]custos.WebhookEvent(nil), r.got...), by, r.n
}

// hookRing seals the hooks' secrets for every queue of a test.
type hookRing struct{ ring *keyring.Ring }

var hookAAD = []byte("queue-test webhook secret")

func newHookRing(t *testing.T) hookRing {
	t.Helper()
	ring, err := keyring.Generate(rand.Reader, "hk1")
	if err != nil {
		t.Fatal(err)
	}
	return hookRing{ring}
}

func (h hookRing) seal(t *testing.T, secret []byte) []byte {
	t.Helper()
	b, err := h.ring.Seal(rand.Reader, secret, hookAAD)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hookQueue is a queue on store that delivers webhooks (not started).
func hookQueue(t *testing.T, store *sqlstore.DB, ring hookRing, attempts int) *queue.Queue {
	t.Helper()
	seal, open := sealer(t)
	clock := testclock.New(time.Time{})
	poster := notify.NewEventPoster(nil, clock) // signs at the test clock's time
	q, err := queue.New(t.Context(), queue.Config{
		DB: store.Writer(), Dialect: store.Dialect(), Exclusive: store.Exclusive,
		Deliver: (&box{}).deliver, Seal: seal, Open: open, Clock: clock,
		Logger:       slog.New(slog.DiscardHandler),
		PollInterval: 20 * time.Millisecond,
		Backoff:      func(int) time.Duration { return 10 * time.Millisecond },
		Webhooks: &queue.WebhookConfig{Store: store, Post: poster.Post, MaxAttempts: attempts,
			OpenSecret: func(b []byte) ([]byte, error) { return ring.ring.Open(b, hookAAD) }},
	})
	if err != nil {
		t.Fatalf("queue.New: %v", err)
	}
	store.SetOutbox(q.InsertTx)
	store.SetWebhookOutbox(q.InsertWebhooksTx)
	return q
}

func startQueue(t *testing.T, q *queue.Queue) {
	t.Helper()
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
}

func drainHooks(t *testing.T, q *queue.Queue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := q.DrainWebhooks(ctx); err != nil {
		t.Fatal(err)
	}
}

func addHook(t *testing.T, store *sqlstore.DB, ring hookRing, id, url string, kinds ...string) {
	t.Helper()
	if err := store.CreateWebhook(t.Context(), custos.Webhook{ID: id, URL: url, Events: kinds,
		Secret: ring.seal(t, hookSecret), CreatedAt: testclock.Start},
		custos.StaffEvent{ID: "sev-add-" + id, At: testclock.Start, Action: "webhook.add", Target: id}); err != nil {
		t.Fatal(err)
	}
}

func securityEvent(id, typ string) custos.AuditEvent {
	return custos.AuditEvent{ID: id, At: testclock.Start, AccountID: "acct_1", Type: typ, RemoteAddr: "203.0.113.9",
		Detail: map[string]string{"locked_until": "2026-03-14T10:00:00Z", "session_id": "ses_secretish"}}
}

// attempts returns the hook's delivery log, oldest first, as outcome and
// status pairs.
func attempts(t *testing.T, store *sqlstore.DB, hookID string) []string {
	t.Helper()
	log, err := store.WebhookDeliveries(t.Context(), hookID, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(log) - 1; i >= 0; i-- {
		out = append(out, fmt.Sprintf("%d %s %d", log[i].Attempt, log[i].Outcome, log[i].StatusCode))
	}
	return out
}

// TestWebhookSignedEvent: an event is posted once, signed, with its id in
// the headers and only its non-secret fields in the body, and logged.
func TestWebhookSignedEvent(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			store, ring := testdb.Open(t, d), newHookRing(t)
			rcv := newReceiver(t, func(int) int { return http.StatusNoContent })
			addHook(t, store, ring, "whk_1", rcv.srv.URL+"/hooks?token=x", custos.WebhookLock)
			q := hookQueue(t, store, ring, 0)
			startQueue(t, q)
			if err := store.AppendAudit(t.Context(), securityEvent("evt_lock", custos.EventLoginLocked)); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the event is delivered", func() bool { _, _, n := rcv.accepted(); return n == 1 })
			drainHooks(t, q)
			got, _, _ := rcv.accepted()
			want := []custos.WebhookEvent{{ID: "evt_lock", Kind: "lock", Type: "login.locked", AccountID: "acct_1",
				At: "2026-11-27T09:00:00.000Z", RemoteAddr: "203.0.113.9", Detail: map[string]string{"locked_until": "2026-03-14T10:00:00Z"}}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("accepted events (-want +got):\n%s", diff)
			}
			h := rcv.heads[0]
			if h.Get(notify.HeaderEventID) != "evt_lock" || h.Get(notify.HeaderIdempotencyKey) != "evt_lock" || h.Get(notify.HeaderEventKind) != "lock" {
				t.Errorf("headers %v: want the event id and kind", h)
			}
			if ts, err := strconv.ParseInt(h.Get(notify.HeaderTimestamp), 10, 64); err != nil || ts != testclock.Start.Unix() {
				t.Errorf("timestamp %q, want the poster clock's %d", h.Get(notify.HeaderTimestamp), testclock.Start.Unix())
			}
			if diff := cmp.Diff([]string{"1 delivered 204"}, attempts(t, store, "whk_1")); diff != "" {
				t.Errorf("delivery log (-want +got):\n%s", diff)
			}
		})
	}
}

// TestWebhookRetriedUntilAccepted: a receiver that fails twice and then
// answers gets the event accepted exactly once, and the log shows the
// three attempts.
func TestWebhookRetriedUntilAccepted(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			store, ring := testdb.Open(t, d), newHookRing(t)
			rcv := newReceiver(t, func(n int) int {
				if n <= 2 {
					return http.StatusServiceUnavailable
				}
				return http.StatusOK
			})
			addHook(t, store, ring, "whk_1", rcv.srv.URL, custos.WebhookMFA)
			q := hookQueue(t, store, ring, 0)
			startQueue(t, q)
			if err := store.AppendAudit(t.Context(), securityEvent("evt_mfa", custos.EventDeviceBound)); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the event is accepted", func() bool { _, by, _ := rcv.accepted(); return by["evt_mfa"] == 1 })
			drainHooks(t, q)
			_, by, n := rcv.accepted()
			if by["evt_mfa"] != 1 || n != 3 {
				t.Errorf("accepted %d time(s) in %d requests, want once in 3", by["evt_mfa"], n)
			}
			want := []string{"1 retrying 503", "2 retrying 503", "3 delivered 200"}
			if diff := cmp.Diff(want, attempts(t, store, "whk_1")); diff != "" {
				t.Errorf("delivery log (-want +got):\n%s", diff)
			}
			log, _ := store.WebhookDeliveries(t.Context(), "whk_1", 10)
			if log[2].Error != "the receiver answered 503 Service Unavailable" || log[0].Error != "" {
				t.Errorf("logged errors %q, %q", log[2].Error, log[0].Error)
			}
		})
	}
}

// TestWebhookGivenUp: an event a receiver never takes is tried the capped
// number of times, and the last attempt is logged as failed.
func TestWebhookGivenUp(t *testing.T) {
	store, ring := testdb.Open(t, "sqlite"), newHookRing(t)
	rcv := newReceiver(t, func(int) int { return http.StatusInternalServerError })
	addHook(t, store, ring, "whk_1", rcv.srv.URL, custos.WebhookPassword)
	q := hookQueue(t, store, ring, 3)
	startQueue(t, q)
	if err := store.AppendAudit(t.Context(), securityEvent("evt_pw", custos.EventPasswordReset)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the event is given up", func() bool { return len(attempts(t, store, "whk_1")) == 3 })
	drainHooks(t, q)
	if n, err := q.WebhooksWaiting(t.Context()); err != nil || n != 0 {
		t.Errorf("WebhooksWaiting = %d, %v; want 0 once given up", n, err)
	}
	want := []string{"1 retrying 500", "2 retrying 500", "3 failed 500"}
	if diff := cmp.Diff(want, attempts(t, store, "whk_1")); diff != "" {
		t.Errorf("delivery log (-want +got):\n%s", diff)
	}
}

// TestWebhookSurvivesRestart: an event written while no worker runs (the
// process that wrote it stopped before delivering) is delivered by a new
// queue on the same database.
func TestWebhookSurvivesRestart(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			dsn := testdb.DSN(t, d)
			ring := newHookRing(t)
			rcv := newReceiver(t, nil)
			first := openStore(t, dsn)
			addHook(t, first, ring, "whk_1", rcv.srv.URL, custos.WebhookLogin)
			hookQueue(t, first, ring, 0) // never started: the process dies
			if err := first.AppendAudit(t.Context(), securityEvent("evt_login", custos.EventLoginSuccess)); err != nil {
				t.Fatal(err)
			}
			if err := first.Close(); err != nil {
				t.Fatal(err)
			}
			if _, _, n := rcv.accepted(); n != 0 {
				t.Fatalf("%d requests before any worker ran", n)
			}
			second := openStore(t, dsn)
			q := hookQueue(t, second, ring, 0)
			startQueue(t, q)
			eventually(t, "the restarted queue delivers", func() bool { _, by, _ := rcv.accepted(); return by["evt_login"] == 1 })
			drainHooks(t, q)
			if _, by, n := rcv.accepted(); n != 1 || by["evt_login"] != 1 {
				t.Errorf("%d requests, accepted %v; want the one event once", n, by)
			}
		})
	}
}

func openStore(t *testing.T, dsn string) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestWebhookReplicasDeliverOnce: two replicas on one PostgreSQL, both
// writing events and both running workers, deliver every event to every
// hook exactly once.
func TestWebhookReplicasDeliverOnce(t *testing.T) {
	if !contains(testdb.Dialects(), "postgres") {
		t.Skip("needs " + testdb.EnvPostgres)
	}
	dsn := testdb.DSN(t, "postgres")
	ring := newHookRing(t)
	rcvA, rcvB := newReceiver(t, nil), newReceiver(t, nil)
	stores := []*sqlstore.DB{openStore(t, dsn), openStore(t, dsn)}
	addHook(t, stores[0], ring, "whk_a", rcvA.srv.URL, custos.WebhookLogin, custos.WebhookLock)
	addHook(t, stores[0], ring, "whk_b", rcvB.srv.URL, custos.WebhookLogin)
	queues := make([]*queue.Queue, len(stores))
	for i, s := range stores {
		queues[i] = hookQueue(t, s, ring, 0)
		startQueue(t, queues[i])
	}
	const events = 40
	var wg sync.WaitGroup
	for i := range events {
		wg.Go(func() {
			typ := custos.EventLoginSuccess
			if i%4 == 0 {
				typ = custos.EventLoginLocked
			}
			if err := stores[i%2].AppendAudit(t.Context(), securityEvent(fmt.Sprintf("evt_%02d", i), typ)); err != nil {
				t.Errorf("AppendAudit %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	wantA, wantB := events, events-events/4
	eventually(t, "every event is delivered", func() bool {
		_, a, _ := rcvA.accepted()
		_, b, _ := rcvB.accepted()
		return len(a) == wantA && len(b) == wantB
	})
	for _, q := range queues {
		drainHooks(t, q)
	}
	for name, r := range map[string]*receiver{"whk_a": rcvA, "whk_b": rcvB} {
		got, by, n := r.accepted()
		if n != len(got) {
			t.Errorf("%s: %d requests for %d events", name, n, len(got))
		}
		for id, c := range by {
			if c != 1 {
				t.Errorf("%s: event %s accepted %d times", name, id, c)
			}
		}
	}
	if _, by, _ := rcvB.accepted(); by["evt_00"] != 0 {
		t.Errorf("whk_b, subscribed to login only, got the lock evt_00")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestWebhookOnlySubscribedKinds: a hook subscribed to lock only gets no
// login event, while a hook subscribed to login does.
func TestWebhookOnlySubscribedKinds(t *testing.T) {
	store, ring := testdb.Open(t, "sqlite"), newHookRing(t)
	locks, logins := newReceiver(t, nil), newReceiver(t, nil)
	addHook(t, store, ring, "whk_lock", locks.srv.URL, custos.WebhookLock)
	addHook(t, store, ring, "whk_login", logins.srv.URL, custos.WebhookLogin)
	q := hookQueue(t, store, ring, 0)
	startQueue(t, q)
	for _, ev := range []custos.AuditEvent{securityEvent("evt_in", custos.EventLoginSuccess), securityEvent("evt_lock", custos.EventLoginLocked)} {
		if err := store.AppendAudit(t.Context(), ev); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "both are delivered", func() bool {
		_, _, a := locks.accepted()
		_, _, b := logins.accepted()
		return a == 1 && b == 1
	})
	drainHooks(t, q)
	if got, _, n := locks.accepted(); n != 1 || got[0].ID != "evt_lock" {
		t.Errorf("the lock hook got %d request(s), %+v; want only evt_lock", n, got)
	}
	if got, _, n := logins.accepted(); n != 1 || got[0].ID != "evt_in" {
		t.Errorf("the login hook got %d request(s), %+v; want only evt_in", n, got)
	}
}

// TestWebhookRemovedHookDropped: a hook removed while its event waits is
// not posted to.
func TestWebhookRemovedHookDropped(t *testing.T) {
	store, ring := testdb.Open(t, "sqlite"), newHookRing(t)
	rcv := newReceiver(t, nil)
	addHook(t, store, ring, "whk_1", rcv.srv.URL, custos.WebhookFreeze)
	q := hookQueue(t, store, ring, 0)
	if err := store.AppendAudit(t.Context(), securityEvent("evt_undo", custos.EventUndo)); err != nil {
		t.Fatal(err)
	}
	if err := store.DeleteWebhook(t.Context(), "whk_1",
		custos.StaffEvent{ID: "sev-remove-whk_1", At: testclock.Start, Action: "webhook.remove", Target: "whk_1"}); err != nil {
		t.Fatal(err)
	}
	startQueue(t, q)
	eventually(t, "the job ends", func() bool {
		n, err := q.WebhooksWaiting(t.Context())
		return err == nil && n == 0
	})
	if _, _, n := rcv.accepted(); n != 0 {
		t.Errorf("%d request(s) to a removed hook", n)
	}
}

// TestWebhookJobUniquePerHookAndEvent: writing an event for a hook a second
// time adds no second job, while another hook gets its own.
func TestWebhookJobUniquePerHookAndEvent(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			store, ring := testdb.Open(t, d), newHookRing(t)
			q := hookQueue(t, store, ring, 0) // not started: the jobs stay
			ev, _ := custos.NewWebhookEvent(securityEvent("evt_1", custos.EventLoginLocked))
			for _, hooks := range [][]string{{"whk_1"}, {"whk_1"}, {"whk_1", "whk_2"}} {
				tx, err := store.Writer().BeginTx(t.Context(), nil)
				if err != nil {
					t.Fatal(err)
				}
				if err := q.InsertWebhooksTx(t.Context(), tx, hooks, ev); err != nil {
					tx.Rollback()
					t.Fatal(err)
				}
				if err := tx.Commit(); err != nil {
					t.Fatal(err)
				}
			}
			if n, err := q.WebhooksWaiting(t.Context()); err != nil || n != 2 {
				t.Errorf("WebhooksWaiting = %d, %v; want 2 (one per hook)", n, err)
			}
		})
	}
}
