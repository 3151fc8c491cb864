package app_test

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/app"
	"github.com/custos/custos/internal/testserver"
	"github.com/custos/custos/notify"
)

// TestWebhookNeverDelaysTheLogin: a receiver that hangs does not hold up
// the login whose event it is sent. The first login answers and its event
// reaches the receiver, which then holds it without answering; a second
// login answers all the same. Once the receiver lets go, both events are
// delivered, signed with the secret given at registration.
func TestWebhookNeverDelaysTheLogin(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	secret := []byte("the platform's webhook secret!!")
	arrived := make(chan custos.WebhookEvent, 8)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !notify.Verify(secret, r.Header.Get(notify.HeaderTimestamp), body, r.Header.Get(notify.HeaderSignature)) {
			t.Errorf("a request that does not verify: %q", body)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var ev custos.WebhookEvent
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Errorf("not an event: %q", body)
		}
		arrived <- ev
		<-release // hangs until the test lets go
	}))
	t.Cleanup(srv.Close)
	var once sync.Once
	letGo := func() { once.Do(func() { close(release) }) }
	t.Cleanup(letGo) // before srv.Close, which waits for the handlers

	const pw = "correct horse battery staple"
	acct := env.SignUp(t, "holder@example.com", pw)
	h, err := app.AddWebhook(t.Context(), env.App.Store, env.Keys, rand.Reader, env.Clock, operator,
		app.NewWebhook{URL: srv.URL + "/custos", Secret: secret, Events: []string{custos.WebhookLogin}})
	if err != nil {
		t.Fatalf("AddWebhook: %v", err)
	}
	if strings.Contains(string(h.Secret), string(secret)) {
		t.Fatal("the stored secret is the secret in the clear")
	}

	env.Login(t, "holder@example.com", pw)
	first := <-arrived // the receiver now holds the first login's event
	if first.Kind != custos.WebhookLogin || first.AccountID != acct {
		t.Errorf("first event %+v, want a login of %s", first, acct)
	}
	env.Login(t, "holder@example.com", pw) // answers while the receiver hangs
	letGo()

	deadline := time.Now().Add(20 * time.Second)
	for {
		log, err := env.App.Store.WebhookDeliveries(t.Context(), h.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		delivered := 0
		for _, d := range log {
			if d.Outcome == custos.WebhookDelivered {
				delivered++
			}
		}
		if delivered == 2 && len(log) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 20 s the log is %+v, want the two logins delivered", log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestAddWebhookRefuses: a bad URL, a short secret or an unknown event
// registers nothing.
func TestAddWebhookRefuses(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	long := []byte("a secret long enough to sign with")
	tests := []struct {
		name string
		nw   app.NewWebhook
		want string
	}{
		{name: "plain http elsewhere", nw: app.NewWebhook{URL: "http://hooks.example.com/x", Secret: long, Events: []string{"lock"}}, want: "--allow-http"},
		{name: "not http", nw: app.NewWebhook{URL: "ftp://hooks.example.com/x", Secret: long, Events: []string{"lock"}}, want: "https://"},
		{name: "no host", nw: app.NewWebhook{URL: "https:///x", Secret: long, Events: []string{"lock"}}, want: "no host"},
		{name: "short secret", nw: app.NewWebhook{URL: "https://hooks.example.com/x", Secret: []byte("short"), Events: []string{"lock"}}, want: "at least 16 bytes"},
		{name: "unknown event", nw: app.NewWebhook{URL: "https://hooks.example.com/x", Secret: long, Events: []string{"lock", "logn"}}, want: `unknown event "logn"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := app.AddWebhook(t.Context(), env.App.Store, env.Keys, rand.Reader, env.Clock, operator, tc.nw)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("AddWebhook = %v, want an error saying %q", err, tc.want)
			}
		})
	}
	if hooks, err := env.App.Store.ListWebhooks(t.Context()); err != nil || len(hooks) != 0 {
		t.Errorf("ListWebhooks = %+v, %v; want none registered", hooks, err)
	}
	if evs, err := env.App.Store.ListStaffEvents(t.Context(), custos.StaffEventFilter{}); err != nil || len(evs) != 0 {
		t.Errorf("staff events %+v, %v; want none for hooks refused", evs, err)
	}
	nw := app.NewWebhook{URL: "http://hooks.example.com/x", Secret: long, Events: []string{"all"}, AllowHTTP: true}
	h, err := app.AddWebhook(t.Context(), env.App.Store, env.Keys, rand.Reader, env.Clock, operator, nw)
	if err != nil {
		t.Fatalf("AddWebhook with AllowHTTP: %v", err)
	}
	if len(h.Events) != len(custos.WebhookKinds) {
		t.Errorf("events %v, want every kind for all", h.Events)
	}
}

// operator is where the tests' admin commands act from.
var operator = custos.Client{Addr: "command line", UserAgent: "ops-test"}

// TestWebhookChangesAudited: adding and removing a hook each leave their
// entry in the staff audit trail (who, from where, which hook, its URL
// without the token its query or user info may hold); removing one that
// is not there leaves none.
func TestWebhookChangesAudited(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	ctx := t.Context()
	start := env.Clock.Now()
	h, err := app.AddWebhook(ctx, env.App.Store, env.Keys, rand.Reader, env.Clock, operator, app.NewWebhook{
		URL: "https://receiver:s3cret@hooks.example.com/custos?token=t0ps3cret", Secret: []byte("a secret long enough to sign with"),
		Events: []string{custos.WebhookLock, custos.WebhookMFA}})
	if err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(time.Minute)
	if err := app.RemoveWebhook(ctx, env.App.Store, rand.Reader, env.Clock, operator, h.ID); err != nil {
		t.Fatalf("RemoveWebhook: %v", err)
	}
	if _, err := env.App.Store.WebhookByID(ctx, h.ID); !custos.IsCode(err, custos.ENotFound) {
		t.Errorf("WebhookByID after RemoveWebhook: %v, want ENotFound", err)
	}
	if err := app.RemoveWebhook(ctx, env.App.Store, rand.Reader, env.Clock, operator, h.ID); !custos.IsCode(err, custos.ENotFound) {
		t.Errorf("RemoveWebhook again: %v, want ENotFound", err)
	}
	evs, err := env.App.Store.ListStaffEvents(ctx, custos.StaffEventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 {
		t.Fatalf("staff events %+v, want the add and the one removal", evs)
	}
	detail := map[string]string{"url": "https://hooks.example.com/custos", "events": "lock,mfa"}
	for i, want := range []struct {
		action string
		at     time.Time
	}{{app.ActionWebhookRemove, start.Add(time.Minute)}, {app.ActionWebhookAdd, start}} {
		ev := evs[i]
		if ev.Action != want.action || ev.Target != h.ID || ev.StaffID != "" || !ev.At.Equal(want.at) ||
			ev.RemoteAddr != operator.Addr || ev.UserAgent != operator.UserAgent || !maps.Equal(ev.Detail, detail) {
			t.Errorf("staff event %d = %+v, want %s of %s at %v by %+v with %v", i, ev, want.action, h.ID, want.at, operator, detail)
		}
		for _, v := range ev.Detail {
			if strings.Contains(v, "s3cret") {
				t.Errorf("staff event %d keeps the URL's secret: %v", i, ev.Detail)
			}
		}
	}
}
