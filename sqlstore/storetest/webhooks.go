package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/google/go-cmp/cmp"
)

// HookedJob is one webhook job a store's webhook outbox wrote: the event
// for the hook.
type HookedJob struct {
	HookID  string
	EventID string
	Kind    string
	Body    string
}

// WebhookOutboxed is a store whose webhook outbox the suite can read. Run's
// stores must be one: their webhook outbox records each job in the
// transaction that writes it, so Hooked returns, in order, the jobs of the
// transactions that committed (and no others).
type WebhookOutboxed interface {
	custos.Store
	Hooked(t *testing.T) []HookedJob
}

func hookedOf(t *testing.T, s custos.Store) WebhookOutboxed {
	t.Helper()
	o, ok := s.(WebhookOutboxed)
	if !ok {
		t.Fatalf("the store %T is not a storetest.WebhookOutboxed: the suite reads the webhook jobs changes write", s)
	}
	return o
}

// hookedFor returns the jobs written for the event id.
func hookedFor(t *testing.T, o WebhookOutboxed, eventID string) []HookedJob {
	t.Helper()
	var out []HookedJob
	for _, j := range o.Hooked(t) {
		if j.EventID == eventID {
			out = append(out, j)
		}
	}
	return out
}

func newWebhook(id string, at time.Time, events ...string) custos.Webhook {
	return custos.Webhook{ID: id, URL: "https://hooks.example.test/" + id, Events: events,
		Secret: []byte("sealed-" + id), CreatedAt: at}
}

// webhookAdded is the staff audit trail's entry for adding h from the
// command line.
func webhookAdded(h custos.Webhook) custos.StaffEvent {
	return newStaffEvent("se-whk-add-"+h.ID, "", "webhook.add", h.ID, h.CreatedAt)
}

func mustCreateWebhook(t *testing.T, s custos.Store, h custos.Webhook) {
	t.Helper()
	if err := s.CreateWebhook(t.Context(), h, webhookAdded(h)); err != nil {
		t.Fatalf("CreateWebhook(%s): %v", h.ID, err)
	}
}

// testWebhookRoundTrip checks hooks read back as written, list oldest
// first, refuse a taken id, and go with their delivery log; each add and
// removal writes its staff event with it, and one refused writes neither.
func testWebhookRoundTrip(t *testing.T, s custos.Store) {
	ctx := t.Context()
	a := newWebhook("whk-a", t0.Add(time.Minute), custos.WebhookLock, custos.WebhookLogin)
	b := newWebhook("whk-b", t0, custos.WebhookMFA)
	mustCreateWebhook(t, s, a)
	mustCreateWebhook(t, s, b)
	wantCode(t, "CreateWebhook(taken id)", s.CreateWebhook(ctx, newWebhook("whk-a", t0, custos.WebhookLock),
		newStaffEvent("se-whk-dup", "", "webhook.add", "whk-a", t0)), custos.EConflict)
	// A taken event id fails the hook too: the hook is never there
	// without its entry.
	c := newWebhook("whk-c", t0, custos.WebhookLock)
	wantCode(t, "CreateWebhook(taken event id)", s.CreateWebhook(ctx, c, webhookAdded(a)), custos.EConflict)
	_, err := s.WebhookByID(ctx, c.ID)
	wantCode(t, "WebhookByID(refused with its event)", err, custos.ENotFound)
	wantStaffEvents(t, s, custos.StaffEventFilter{Target: a.ID}, webhookAdded(a))
	wantStaffEvents(t, s, custos.StaffEventFilter{Target: c.ID})
	got, err := s.WebhookByID(ctx, a.ID)
	if err != nil {
		t.Fatalf("WebhookByID: %v", err)
	}
	if diff := cmp.Diff(a, got, opts); diff != "" {
		t.Errorf("WebhookByID mismatch (-want +got):\n%s", diff)
	}
	_, err = s.WebhookByID(ctx, "whk-none")
	wantCode(t, "WebhookByID(none)", err, custos.ENotFound)
	list, err := s.ListWebhooks(ctx)
	if err != nil {
		t.Fatalf("ListWebhooks: %v", err)
	}
	if diff := cmp.Diff([]custos.Webhook{b, a}, list, opts); diff != "" {
		t.Errorf("ListWebhooks mismatch (-want +got):\n%s", diff)
	}

	var want []custos.WebhookDelivery
	for i, o := range []string{custos.WebhookRetrying, custos.WebhookRetrying, custos.WebhookDelivered} {
		d := custos.WebhookDelivery{WebhookID: a.ID, EventID: "evt-1", Kind: custos.WebhookLock, Attempt: i + 1,
			At: t0.Add(time.Duration(i) * time.Second), StatusCode: 500, Error: "the receiver answered 500",
			Duration: time.Duration(i+3) * time.Millisecond, Outcome: o}
		if o == custos.WebhookDelivered {
			d.StatusCode, d.Error = 204, ""
		}
		if err := s.RecordWebhookDelivery(ctx, d); err != nil {
			t.Fatalf("RecordWebhookDelivery(%d): %v", i+1, err)
		}
		want = append([]custos.WebhookDelivery{d}, want...)
	}
	if err := s.RecordWebhookDelivery(ctx, custos.WebhookDelivery{WebhookID: b.ID, EventID: "evt-2", Kind: custos.WebhookMFA,
		Attempt: 1, At: t0, StatusCode: 200, Outcome: custos.WebhookDelivered}); err != nil {
		t.Fatalf("RecordWebhookDelivery(b): %v", err)
	}
	wantCode(t, "RecordWebhookDelivery(no hook)", s.RecordWebhookDelivery(ctx, custos.WebhookDelivery{WebhookID: "whk-none",
		EventID: "evt-3", Kind: custos.WebhookLock, Attempt: 1, At: t0, Outcome: custos.WebhookFailed}), custos.ENotFound)
	log, err := s.WebhookDeliveries(ctx, a.ID, 10)
	if err != nil {
		t.Fatalf("WebhookDeliveries: %v", err)
	}
	if diff := cmp.Diff(want, log, opts); diff != "" {
		t.Errorf("WebhookDeliveries mismatch (-want +got):\n%s", diff)
	}
	if log, err := s.WebhookDeliveries(ctx, a.ID, 2); err != nil || len(log) != 2 || log[0].Attempt != 3 {
		t.Errorf("WebhookDeliveries(limit 2) = %+v, %v; want attempts 3 and 2", log, err)
	}
	if log, err := s.WebhookDeliveries(ctx, a.ID, 0); err != nil || len(log) != 0 {
		t.Errorf("WebhookDeliveries(limit 0) = %+v, %v; want none", log, err)
	}

	// The sweep takes the attempts before the cut, of every hook.
	if n, err := s.DeleteWebhookDeliveries(ctx, t0.Add(time.Second)); err != nil || n != 2 {
		t.Errorf("DeleteWebhookDeliveries = %d, %v; want the 2 attempts before t0+1s", n, err)
	}
	if log, err := s.WebhookDeliveries(ctx, a.ID, 10); err != nil || len(log) != 2 || log[1].Attempt != 2 {
		t.Errorf("after the sweep: %+v, %v; want attempts 3 and 2", log, err)
	}
	if log, err := s.WebhookDeliveries(ctx, b.ID, 10); err != nil || len(log) != 0 {
		t.Errorf("after the sweep, hook b: %+v, %v; want none", log, err)
	}
	if err := s.RecordWebhookDelivery(ctx, custos.WebhookDelivery{WebhookID: b.ID, EventID: "evt-4", Kind: custos.WebhookMFA,
		Attempt: 1, At: t0.Add(time.Hour), StatusCode: 200, Outcome: custos.WebhookDelivered}); err != nil {
		t.Fatalf("RecordWebhookDelivery(b): %v", err)
	}

	removed := newStaffEvent("se-whk-remove-a", "", "webhook.remove", a.ID, t0.Add(2*time.Hour))
	if err := s.DeleteWebhook(ctx, a.ID, removed); err != nil {
		t.Fatalf("DeleteWebhook: %v", err)
	}
	wantCode(t, "DeleteWebhook(again)", s.DeleteWebhook(ctx, a.ID,
		newStaffEvent("se-whk-remove-again", "", "webhook.remove", a.ID, t0.Add(3*time.Hour))), custos.ENotFound)
	wantStaffEvents(t, s, custos.StaffEventFilter{Target: a.ID}, removed, webhookAdded(a))
	_, err = s.WebhookByID(ctx, a.ID)
	wantCode(t, "WebhookByID(deleted)", err, custos.ENotFound)
	if log, err := s.WebhookDeliveries(ctx, a.ID, 10); err != nil || len(log) != 0 {
		t.Errorf("WebhookDeliveries(deleted hook) = %+v, %v; want none", log, err)
	}
	if log, err := s.WebhookDeliveries(ctx, b.ID, 10); err != nil || len(log) != 1 {
		t.Errorf("WebhookDeliveries(other hook) = %+v, %v; want its one attempt", log, err)
	}
}

// testWebhookJobs checks an event is written for exactly the hooks
// subscribed to its kind, with a body of the event's non-secret fields,
// and for none when it has no account or no webhook kind, or when its
// change fails.
func testWebhookJobs(t *testing.T, s custos.Store) {
	ctx := t.Context()
	o := hookedOf(t, s)
	mustCreateAccount(t, s, "wh-acct")
	mustCreateWebhook(t, s, newWebhook("whk-lock", t0, custos.WebhookLock))
	mustCreateWebhook(t, s, newWebhook("whk-both", t0.Add(time.Second), custos.WebhookLock, custos.WebhookLogin))
	mustCreateWebhook(t, s, newWebhook("whk-mfa", t0.Add(2*time.Second), custos.WebhookMFA))

	hooksOf := func(eventID string) []string {
		var ids []string
		for _, j := range hookedFor(t, o, eventID) {
			ids = append(ids, j.HookID)
		}
		slices.Sort(ids)
		return ids
	}
	lock := newEvent("ev-wh-lock", "wh-acct", custos.EventLoginLocked, t0)
	lock.Detail = map[string]string{"locked_until": "2026-03-14T09:41:53Z", "secret": "must-not-travel"}
	if err := s.AppendAudit(ctx, lock); err != nil {
		t.Fatalf("AppendAudit(lock): %v", err)
	}
	if diff := cmp.Diff([]string{"whk-both", "whk-lock"}, hooksOf(lock.ID)); diff != "" {
		t.Errorf("hooks of a lock (-want +got):\n%s", diff)
	}
	for _, j := range hookedFor(t, o, lock.ID) {
		if j.Kind != custos.WebhookLock {
			t.Errorf("job kind %q, want lock", j.Kind)
		}
		want := `{"id":"ev-wh-lock","kind":"lock","type":"login.locked","account_id":"wh-acct","at":"2026-03-14T09:26:53.589Z",` +
			`"remote_addr":"192.0.2.7","detail":{"locked_until":"2026-03-14T09:41:53Z"}}`
		if j.Body != want {
			t.Errorf("body\n got %s\nwant %s", j.Body, want)
		}
	}
	login := newEvent("ev-wh-login", "wh-acct", custos.EventLoginSuccess, t0)
	if err := s.AppendAudit(ctx, login); err != nil {
		t.Fatalf("AppendAudit(login): %v", err)
	}
	if diff := cmp.Diff([]string{"whk-both"}, hooksOf(login.ID)); diff != "" {
		t.Errorf("hooks of a login (-want +got):\n%s", diff)
	}
	for _, ev := range []custos.AuditEvent{
		newEvent("ev-wh-nobody", "", custos.EventLoginLocked, t0),          // an address with no account
		newEvent("ev-wh-failure", "wh-acct", custos.EventLoginFailure, t0), // no webhook kind
		newEvent("ev-wh-phone", "wh-acct", custos.EventPhoneChanged, t0),   // nobody subscribed
	} {
		if err := s.AppendAudit(ctx, ev); err != nil {
			t.Fatalf("AppendAudit(%s): %v", ev.ID, err)
		}
		if got := hooksOf(ev.ID); len(got) != 0 {
			t.Errorf("%s: jobs for %v, want none", ev.ID, got)
		}
	}
	// A change that fails writes no job.
	err := s.AppendAudit(ctx, newEvent(lock.ID, "wh-acct", custos.EventDeviceBound, t0))
	wantCode(t, "AppendAudit(taken id)", err, custos.EConflict)
	if got := hookedFor(t, o, lock.ID); len(got) != 2 {
		t.Errorf("after a refused event with a taken id: %d jobs of %s, want the 2 of the lock", len(got), lock.ID)
	}
	// A hook removed hears nothing more.
	if err := s.DeleteWebhook(ctx, "whk-both", newStaffEvent("se-whk-remove-both", "", "webhook.remove", "whk-both", t0)); err != nil {
		t.Fatal(err)
	}
	again := newEvent("ev-wh-lock-2", "wh-acct", custos.EventLoginLocked, t0)
	if err := s.AppendAudit(ctx, again); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"whk-lock"}, hooksOf(again.ID)); diff != "" {
		t.Errorf("hooks of a lock after whk-both went (-want +got):\n%s", diff)
	}
}

// testWebhookJobsWithEveryChange checks every audited store method writes
// the webhook jobs of its event in its transaction: one job for a hook
// subscribed to every kind when the change commits, none when its event
// is refused (a taken id) and the change with it.
func testWebhookJobsWithEveryChange(t *testing.T, s custos.Store) {
	ctx := t.Context()
	o := hookedOf(t, s)
	mustCreateWebhook(t, s, newWebhook("whk-all", t0, custos.WebhookKinds...))
	changes := slices.Concat(auditedChanges(), identityAuditedChanges(), ticketAuditedChanges(), subUserAuditedChanges(),
		collabAuditedChanges())
	for _, c := range changes {
		t.Run(c.name, func(t *testing.T) {
			p := "wj-" + strings.ToLower(c.name)
			c.setup(t, s, p)
			taken := newEvent("ev-wj-taken-"+p, p, custos.EventLoginFailure, t0)
			if err := s.AppendAudit(ctx, taken); err != nil {
				t.Fatalf("AppendAudit: %v", err)
			}
			err := c.change(ctx, s, p, newEvent(taken.ID, p, custos.EventProtection, t0.Add(time.Hour)))
			wantCode(t, c.name+"(taken event id)", err, custos.EConflict)
			if got := hookedFor(t, o, taken.ID); len(got) != 0 {
				t.Errorf("%s refused wrote %d webhook job(s), want none", c.name, len(got))
			}
			ev := newEvent("ev-wj-"+p, p, custos.EventProtection, t0.Add(time.Hour))
			if err := c.change(ctx, s, p, ev); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			got := hookedFor(t, o, ev.ID)
			if len(got) != 1 || got[0].HookID != "whk-all" || got[0].Kind != custos.WebhookProtection {
				t.Errorf("%s wrote webhook jobs %+v, want one protection job for whk-all", c.name, got)
			}
		})
	}
}
