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
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custos/custos/app"
	"github.com/custos/custos/auth"
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
}

// Env is a running test server.
type Env struct {
	URL    string
	Keys   *keyring.Ring
	App    *app.App
	Clock  *testclock.Clock
	Outbox string
	Client *http.Client
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
	keys := o.Keys
	if keys == nil {
		var err error
		if keys, err = keyring.Generate(rand.Reader, "k1"); err != nil {
			t.Fatal(err)
		}
	}
	outbox := filepath.Join(t.TempDir(), "outbox")
	srv := httptest.NewUnstartedServer(nil)
	// A host name, not 127.0.0.1: WebAuthn needs one for its relying party.
	public, _ := url.Parse("http://localhost:" + strconv.Itoa(srv.Listener.Addr().(*net.TCPAddr).Port))
	a, err := app.Build(context.Background(), app.Config{
		DB: o.DSN, PublicURL: public, Dev: true, Deliver: "dir:" + outbox, MailFrom: "custos@localhost",
		Captcha: "test", Keys: keys, Argon2: o.Argon2, Auth: o.Auth, Clock: o.Clock, Rand: rand.Reader,
	})
	if err != nil {
		t.Fatalf("app.Build: %v", err)
	}
	srv.Config.Handler = a.Handler
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		a.Close()
	})
	return &Env{URL: srv.URL, Keys: keys, App: a, Clock: o.Clock, Outbox: outbox, Client: srv.Client()}
}

// Code returns the code of the newest message sent to `to` for purpose.
func (e *Env) Code(t testing.TB, to, purpose string) string {
	t.Helper()
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

// Messages returns every message sent to `to`, newest first.
func (e *Env) Messages(t testing.TB, to string) []notify.Rendered {
	t.Helper()
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
