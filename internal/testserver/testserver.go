// Package testserver starts the whole Custos handler (app.Build) on a test
// database behind httptest, with a fake clock and the dir: outbox, and
// offers the small helpers the end-to-end tests share.
package testserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos/custos/app"
	"github.com/custos/custos/auth"
	"github.com/custos/custos/identity"
	"github.com/custos/custos/internal/testclock"
	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/keyring"
	"github.com/custos/custos/notify"
	"github.com/custos/custos/password"
)

// FastArgon2 keeps tests quick; benchmarks and timing tests pass real
// parameters instead.
var FastArgon2 = password.Params{Memory: 64, Time: 1, Threads: 1}

// Options tune Start. Zero values pick test defaults.
type Options struct {
	Dialect string // "sqlite" (default) or "postgres"
	DSN     string // use this database instead of a fresh one
	Argon2  password.Params
	Auth    auth.Config
	Clock   *testclock.Clock
	// Keys is the key ring; replicas of one deployment share it. A fresh
	// one when nil.
	Keys *keyring.Ring
	// Deliver is where email goes (an app.Config.Deliver spec, such as a
	// testsmtp server's URL); "" is the dir: outbox, which then takes SMS
	// too.
	Deliver string
	// Identity is the real-name policy; IdentityVerifier "auto" approves
	// every submission at once ("" is staff review).
	Identity         identity.Config
	IdentityVerifier string
	// Logger receives the server's log (nothing when nil).
	Logger *slog.Logger
	// ReturnHosts are the hosts besides its own that the login page may
	// return to (app.Config.ReturnHosts).
	ReturnHosts []string
}

// Env is a running test server.
type Env struct {
	URL    string
	Keys   *keyring.Ring
	App    *app.App
	Clock  *testclock.Clock
	Outbox string
	Client *http.Client

	mu     sync.Mutex // held while draining; closed once the server stopped
	closed bool
}

// Start builds and serves the app; everything stops when the test ends.
func Start(t testing.TB, o Options) *Env {
	t.Helper()
	if o.Dialect == "" {
		o.Dialect = "sqlite"
	}
	if o.DSN == "" {
		o.DSN = testdb.DSN(t, o.Dialect)
	}
	if o.Argon2 == (password.Params{}) {
		o.Argon2 = FastArgon2
	}
	if o.Clock == nil {
		o.Clock = testclock.New(time.Time{})
	}
	// Replicas of one deployment share what a deployment shares: the
	// database, the key ring (a code made or a message sealed on one is
	// read on another) and where mail goes (here the outbox), since any
	// replica's worker may deliver any message.
	keys, outbox := deployments.join(t, o.DSN, o.Keys)
	deliver := o.Deliver
	if deliver == "" {
		deliver = "dir:" + outbox
	}
	srv := httptest.NewUnstartedServer(nil)
	// A host name, not 127.0.0.1: WebAuthn needs one for its relying party.
	public, _ := url.Parse("http://localhost:" + strconv.Itoa(srv.Listener.Addr().(*net.TCPAddr).Port))
	a, err := app.Build(context.Background(), app.Config{
		DB: o.DSN, PublicURL: public, Dev: true, Deliver: deliver, MailFrom: "custos@localhost",
		Captcha: "test", Keys: keys, Argon2: o.Argon2, Auth: o.Auth, Clock: o.Clock, Rand: rand.Reader,
		DeliveryPoll: 10 * time.Millisecond, Identity: o.Identity, IdentityVerifier: o.IdentityVerifier,
		Logger:      o.Logger,
		ReturnHosts: o.ReturnHosts,
	})
	if err != nil {
		t.Fatalf("app.Build: %v", err)
	}
	if err := a.Start(context.Background()); err != nil {
		a.Close()
		t.Fatalf("starting the delivery workers: %v", err)
	}
	env := &Env{Keys: keys, App: a, Clock: o.Clock, Outbox: outbox}
	// Messages are delivered by workers after the answer; the outbox page
	// (what a person reads) and moving the clock wait for what is due.
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/dev/outbox" {
			env.drain()
		}
		a.Handler.ServeHTTP(w, r)
	})
	o.Clock.BeforeMove(env.drain)
	srv.Start()
	env.URL, env.Client = srv.URL, ValidateAgainstOpenAPI(t, srv.Client())
	t.Cleanup(func() {
		srv.Close()
		env.mu.Lock()
		env.closed = true
		env.mu.Unlock()
		a.Close()
	})
	return env
}

// drain waits until no message is due or being delivered, so that what
// was sent is in the outbox. It does nothing once the server has stopped.
func (e *Env) drain() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Started already by Start; an Env a test put together itself may not
	// have started the workers, and starting twice is nothing.
	if err := e.App.Start(ctx); err != nil {
		panic("testserver: starting the delivery workers: " + err.Error())
	}
	if err := e.App.Queue.Drain(ctx); err != nil {
		panic("testserver: draining the delivery queue: " + err.Error())
	}
}

// Drain waits until every message sent so far has been delivered (or has
// failed and waits for a retry).
func (e *Env) Drain(t testing.TB) {
	t.Helper()
	e.drain()
}

// deployment is what the replicas on one database share.
type deployment struct {
	keys   *keyring.Ring
	outbox string
}

// deploymentsByDSN finds the deployment of a database among the servers
// this test binary runs.
type deploymentsByDSN struct {
	mu sync.Mutex
	m  map[string]*deployment
}

var deployments = &deploymentsByDSN{m: map[string]*deployment{}}

// join returns the key ring (keys unless nil) and the outbox of a replica
// on dsn: those of the first replica, made when t starts it (and forgotten
// when that test ends).
func (ds *deploymentsByDSN) join(t testing.TB, dsn string, keys *keyring.Ring) (*keyring.Ring, string) {
	t.Helper()
	ds.mu.Lock()
	defer ds.mu.Unlock()
	d, ok := ds.m[dsn]
	if !ok {
		d = &deployment{outbox: filepath.Join(t.TempDir(), "outbox"), keys: keys}
		if d.keys == nil {
			var err error
			if d.keys, err = keyring.Generate(rand.Reader, "k1"); err != nil {
				t.Fatal(err)
			}
		}
		ds.m[dsn] = d
		t.Cleanup(func() {
			ds.mu.Lock()
			defer ds.mu.Unlock()
			delete(ds.m, dsn)
		})
	}
	if keys == nil {
		keys = d.keys
	}
	return keys, d.outbox
}

// Code returns the code of the newest message sent to `to` for purpose,
// once what was sent has been delivered.
func (e *Env) Code(t testing.TB, to, purpose string) string {
	t.Helper()
	e.drain()
	msgs, err := notify.ReadOutbox(e.Outbox)
	if err != nil {
		t.Fatalf("reading the outbox: %v", err)
	}
	for _, m := range msgs {
		if m.To == to && m.Purpose == purpose {
			if m.Code == "" {
				t.Fatalf("newest %s message to %s carries no code", purpose, to)
			}
			return m.Code
		}
	}
	t.Fatalf("no %s message to %s in the outbox", purpose, to)
	return ""
}

// Messages returns every message sent to `to`, newest first, once what
// was sent has been delivered.
func (e *Env) Messages(t testing.TB, to string) []notify.Rendered {
	t.Helper()
	e.drain()
	msgs, err := notify.ReadOutbox(e.Outbox)
	if err != nil {
		t.Fatalf("reading the outbox: %v", err)
	}
	var out []notify.Rendered
	for _, m := range msgs {
		if m.To == to {
			out = append(out, m)
		}
	}
	return out
}

// Response is a decoded JSON answer.
type Response struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

// ErrorCode returns body.error.code, or "".
func (r Response) ErrorCode() string {
	e, _ := r.Body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

// String returns body[key] as a string, or "".
func (r Response) String(key string) string {
	s, _ := r.Body[key].(string)
	return s
}

// Do sends a JSON request (body marshalled unless it is a string or []byte,
// sent as is) with an optional bearer token.
func (e *Env) Do(t testing.TB, method, path, token string, body any) Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := Response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &out.Body); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %v: %s", method, path, err, raw)
		}
	}
	return out
}

// SignUp creates a verified account through the API and returns its id.
func (e *Env) SignUp(t testing.TB, email, pw string) string {
	t.Helper()
	// A solved captcha each time: tests sign up more accounts from one
	// address than a person would without one.
	c := e.Do(t, "POST", "/api/v1/captcha", "", nil)
	if c.Status != http.StatusCreated {
		t.Fatalf("captcha: %d %s", c.Status, c.Raw)
	}
	r := e.Do(t, "POST", "/api/v1/signup", "", map[string]any{"email": email, "password": pw, "kind": "personal",
		"captcha": map[string]string{"id": c.String("id"), "answer": "test"}})
	if r.Status != http.StatusAccepted {
		t.Fatalf("signup: %d %s", r.Status, r.Raw)
	}
	v := e.Do(t, "POST", "/api/v1/signup/verify", "", map[string]string{
		"verification_id": r.String("verification_id"), "code": e.Code(t, strings.ToLower(email), "signup_code"),
	})
	if v.Status != http.StatusCreated {
		t.Fatalf("signup verify: %d %s", v.Status, v.Raw)
	}
	return v.String("account_id")
}

// Login logs in through the API and returns the session token.
func (e *Env) Login(t testing.TB, email, pw string) string {
	t.Helper()
	r := e.Do(t, "POST", "/api/v1/login", "", map[string]string{"email": email, "password": pw})
	if r.Status != http.StatusOK {
		t.Fatalf("login: %d %s", r.Status, r.Raw)
	}
	return r.String("session_token")
}
