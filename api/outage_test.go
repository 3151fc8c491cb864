package api_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos/custos/app"
	"github.com/custos/custos/internal/testclock"
	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/internal/testserver"
	"github.com/custos/custos/keyring"
	"github.com/custos/custos/password"
	"github.com/jackc/pgx/v5"
)

// logLines is a log kept for the test to read: one JSON object a line.
type logLines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// lines returns every line logged so far, decoded.
func (l *logLines) lines(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(l.buf.Bytes()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %v: %s", err, sc.Bytes())
		}
		out = append(out, m)
	}
	return out
}

// about returns the lines of the request with id, and the ones among them
// at warn or error.
func (l *logLines) about(t *testing.T, id string) (all, loud []map[string]any) {
	t.Helper()
	for _, m := range l.lines(t) {
		if m["request_id"] != id {
			continue
		}
		all = append(all, m)
		if m["level"] == "WARN" || m["level"] == "ERROR" {
			loud = append(loud, m)
		}
	}
	return all, loud
}

// startLogged is testserver.Start with the app's log kept and its config
// open to the test: the same app.Build, test captcha, dir: outbox and fake
// clock.
func startLogged(t *testing.T, dsn string, tune func(*app.Config)) (*testserver.Env, *logLines) {
	t.Helper()
	keys, err := keyring.Generate(rand.Reader, "k1")
	if err != nil {
		t.Fatal(err)
	}
	logs := &logLines{}
	clock := testclock.New(time.Time{})
	outbox := filepath.Join(t.TempDir(), "outbox")
	srv := httptest.NewUnstartedServer(nil)
	public, _ := url.Parse("http://localhost:" + strconv.Itoa(srv.Listener.Addr().(*net.TCPAddr).Port))
	cfg := app.Config{
		DB: dsn, PublicURL: public, Dev: true, Deliver: "dir:" + outbox, MailFrom: "custos@localhost",
		Captcha: "test", Keys: keys, Argon2: testserver.FastArgon2, Clock: clock, Rand: rand.Reader,
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if tune != nil {
		tune(&cfg)
	}
	a, err := app.Build(context.Background(), cfg)
	if err != nil {
		t.Fatalf("app.Build: %v", err)
	}
	srv.Config.Handler = a.Handler
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		a.Close()
	})
	return &testserver.Env{URL: srv.URL, Keys: keys, App: a, Clock: clock, Outbox: outbox, Client: testserver.ValidateAgainstOpenAPI(t, srv.Client())}, logs
}

// wantUnavailable sends the requests a database outage must answer 503
// unavailable with a Retry-After, each logged once at warn or error with
// its request id: JSON reads and writes (plain statements and
// transactions), a bearer-token check, a page, and readiness.
func wantUnavailable(t *testing.T, env *testserver.Env, logs *logLines, token string) {
	t.Helper()
	api := []struct {
		name, method, path, token string
		body                      any
	}{
		{"session (a read, behind the bearer check)", "GET", "/api/v1/session", token, nil},
		{"login (reads, then a transaction)", "POST", "/api/v1/login", "", map[string]string{"email": "down@example.com", "password": goodPassword}},
		{"captcha", "POST", "/api/v1/captcha", "", nil},
		{"sign-up", "POST", "/api/v1/signup", "", map[string]string{"email": "new@example.com", "password": goodPassword, "kind": "personal"}},
	}
	for _, tt := range api {
		r := env.Do(t, tt.method, tt.path, tt.token, tt.body)
		if r.Status != http.StatusServiceUnavailable || r.ErrorCode() != "unavailable" {
			_, loud := logs.about(t, r.Header.Get("X-Request-Id"))
			t.Errorf("%s: %d %s, want 503 unavailable; logged %v", tt.name, r.Status, r.Raw, loud)
			continue
		}
		if got := r.Header.Get("Retry-After"); got != "5" {
			t.Errorf("%s: Retry-After %q, want 5", tt.name, got)
		}
		wantLoggedOnce(t, logs, tt.name, r.Header.Get("X-Request-Id"))
	}

	// A page: the login form posted.
	resp, err := env.Client.PostForm(env.URL+"/login", url.Values{"email": {"down@example.com"}, "password": {goodPassword}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	switch {
	case resp.StatusCode != http.StatusServiceUnavailable:
		t.Errorf("login page: %d, want 503\n%s", resp.StatusCode, body)
	case resp.Header.Get("Retry-After") != "5":
		t.Errorf("login page: Retry-After %q, want 5", resp.Header.Get("Retry-After"))
	case !strings.Contains(string(body), resp.Header.Get("X-Request-Id")):
		t.Errorf("login page does not show the request id:\n%s", body)
	}
	wantLoggedOnce(t, logs, "login page", resp.Header.Get("X-Request-Id"))

	if resp, err := env.Client.Get(env.URL + "/readyz"); err != nil {
		t.Fatal(err)
	} else if resp.Body.Close(); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz: %d, want 503", resp.StatusCode)
	}
}

func wantLoggedOnce(t *testing.T, logs *logLines, what, id string) {
	t.Helper()
	all, loud := logs.about(t, id)
	if len(loud) != 1 {
		t.Errorf("%s: %d lines at warn or error for request %s, want 1: %v", what, len(loud), id, all)
		return
	}
	msg, _ := loud[0]["err"].(string)
	if !strings.Contains(msg, "unavailable") {
		t.Errorf("%s: the log line does not carry the error: %v", what, loud[0])
	}
	t.Logf("%s: logged %q", what, msg)
}

// wantBack waits for the server to answer the session again once the
// database is back: the pool recovers by itself.
func wantBack(t *testing.T, env *testserver.Env, token string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := env.Do(t, "GET", "/api/v1/session", token, nil)
		if r.Status == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the database is back, the session still answers %d %s", r.Status, r.Raw)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// execPostgres runs statements on the server of the test DSN.
func execPostgres(t *testing.T, dsn string, stmts ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// TestDatabaseOutageIsUnavailable: when the database cannot be reached the
// answer is 503 unavailable with a Retry-After, not 500 internal, whatever
// the request was doing with it; and it answers again once the database
// is back.
func TestDatabaseOutageIsUnavailable(t *testing.T) {
	base := os.Getenv(testdb.EnvPostgres)

	// The server ends every session with the database and refuses new
	// ones: connections in the pool die under their next statement
	// (57P01, terminating connection due to administrator command), and
	// every new one is refused (database is not accepting connections).
	t.Run("postgres refuses connections", func(t *testing.T) {
		if base == "" {
			t.Skip(testdb.EnvPostgres + " is not set")
		}
		t.Parallel()
		var b [6]byte
		rand.Read(b[:])
		name := "custos_outage_" + hex.EncodeToString(b[:])
		ident := pgx.Identifier{name}.Sanitize()
		execPostgres(t, base, "CREATE DATABASE "+ident)
		// Registered before the server's cleanup, so it runs after it.
		t.Cleanup(func() { execPostgres(t, base, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)") })
		u, _ := url.Parse(base)
		u.Path = "/" + name
		q := u.Query()
		q.Del("search_path")
		u.RawQuery = q.Encode()

		env, logs := startLogged(t, u.String(), nil)
		env.SignUp(t, "down@example.com", goodPassword)
		token := env.Login(t, "down@example.com", goodPassword)

		lit := "'" + strings.ReplaceAll(name, "'", "''") + "'"
		execPostgres(t, base,
			"ALTER DATABASE "+ident+" ALLOW_CONNECTIONS false",
			"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "+lit+" AND pid <> pg_backend_pid()")
		wantUnavailable(t, env, logs, token)

		execPostgres(t, base, "ALTER DATABASE "+ident+" ALLOW_CONNECTIONS true")
		wantBack(t, env, token)
	})

	// Nothing answers at the database's address any more: its connections
	// are cut and new ones refused (ECONNREFUSED). The app reaches the
	// database through a proxy the test can pull.
	t.Run("postgres unreachable", func(t *testing.T) {
		if base == "" {
			t.Skip(testdb.EnvPostgres + " is not set")
		}
		t.Parallel()
		dsn := testdb.DSN(t, "postgres")
		u, _ := url.Parse(dsn)
		proxy := startProxy(t, u.Host)
		u.Host = proxy.addr
		env, logs := startLogged(t, u.String(), nil)
		env.SignUp(t, "down@example.com", goodPassword)
		token := env.Login(t, "down@example.com", goodPassword)

		proxy.stop(t)
		wantUnavailable(t, env, logs, token)

		proxy.start(t)
		wantBack(t, env, token)
	})

	// SQLite has no server to lose; what keeps a request from the file is
	// another process holding its write lock past the busy timeout (5 s),
	// as a backup or a long migration might: SQLITE_BUSY. Reads go on (WAL).
	t.Run("sqlite locked by another process", func(t *testing.T) {
		t.Parallel()
		dsn := testdb.DSN(t, "sqlite")
		env, logs := startLogged(t, dsn, nil)
		env.SignUp(t, "down@example.com", goodPassword)

		other, err := sql.Open("sqlite", strings.TrimPrefix(dsn, "sqlite:"))
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		ctx := context.Background()
		lock, err := other.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer lock.Close()
		if _, err := lock.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct{ name, path string }{
			{"captcha", "/api/v1/captcha"},
			{"login (reads, then a transaction)", "/api/v1/login"},
		} {
			var body any
			if tt.path == "/api/v1/login" {
				body = map[string]string{"email": "down@example.com", "password": goodPassword}
			}
			r := env.Do(t, "POST", tt.path, "", body)
			if r.Status != http.StatusServiceUnavailable || r.ErrorCode() != "unavailable" || r.Header.Get("Retry-After") != "5" {
				t.Errorf("%s with the file locked: %d %s (Retry-After %q), want 503 unavailable, Retry-After 5",
					tt.name, r.Status, r.Raw, r.Header.Get("Retry-After"))
				continue
			}
			wantLoggedOnce(t, logs, tt.name, r.Header.Get("X-Request-Id"))
		}
		if _, err := lock.ExecContext(ctx, "ROLLBACK"); err != nil {
			t.Fatal(err)
		}
		if r := env.Do(t, "POST", "/api/v1/login", "", map[string]string{"email": "down@example.com", "password": goodPassword}); r.Status != http.StatusOK {
			t.Errorf("login with the lock released: %d %s", r.Status, r.Raw)
		}
	})
}

// proxy forwards TCP connections to a database; stop cuts them all and
// closes the port, start opens it again.
type proxy struct {
	target, addr string
	mu           sync.Mutex
	ln           net.Listener
	conns        []net.Conn
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{target: target, addr: ln.Addr().String()}
	p.serve(ln)
	t.Cleanup(func() { p.stop(t) })
	return p
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			d, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, d)
			p.mu.Unlock()
			go func() { io.Copy(d, c); d.Close() }()
			go func() { io.Copy(c, d); c.Close() }()
		}
	}()
}

func (p *proxy) stop(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *proxy) start(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatalf("reopening the proxy's port: %v", err)
	}
	p.serve(ln)
}

// TestClientGoneIsNotAFailure: a client that hangs up while its request
// waits (here, for the password hasher's only worker) is logged at info,
// not as an error, and counted under status 499, not 500.
func TestClientGoneIsNotAFailure(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			env, logs := startLogged(t, testdb.DSN(t, d), func(c *app.Config) {
				// One worker, slow enough to stay busy while the request
				// queues behind it (about half a second).
				c.HashWorkers = 1
				c.Argon2 = password.Params{Memory: 64 << 10, Time: 8, Threads: 1}
			})
			busy := make(chan struct{})
			go func() {
				defer close(busy)
				env.App.Hasher.Hash(context.Background(), "keeps the only worker busy")
			}()
			waitFor(t, "the worker to be busy", func() bool { return env.App.Hasher.InFlight() == 1 })

			ctx, hangUp := context.WithCancel(context.Background())
			req, _ := http.NewRequestWithContext(ctx, "POST", env.URL+"/api/v1/login",
				strings.NewReader(`{"email":"nobody@example.com","password":"`+goodPassword+`"}`))
			req.Header.Set("Content-Type", "application/json")
			done := make(chan error, 1)
			go func() {
				resp, err := env.Client.Do(req)
				if err == nil {
					resp.Body.Close()
					err = errors.New("answered " + resp.Status)
				}
				done <- err
			}()
			waitFor(t, "the login to queue for the worker", func() bool { return env.App.Hasher.QueueDepth() == 1 })
			hangUp()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Fatalf("the client's request: %v, want it canceled", err)
			}
			<-busy

			// The request line is logged once it is over.
			var line map[string]any
			waitFor(t, "the request's log line", func() bool {
				for _, m := range logs.lines(t) {
					if m["msg"] == "request" && m["path"] == "/api/v1/login" {
						line = m
						return true
					}
				}
				return false
			})
			if line["status"] != float64(499) {
				t.Errorf("request logged with status %v, want 499", line["status"])
			}
			all, loud := logs.about(t, line["request_id"].(string))
			if len(loud) != 0 {
				t.Errorf("a client hanging up was logged at warn or error: %v", loud)
			}
			gone := false
			for _, m := range all {
				gone = gone || (m["msg"] == "client went away" && m["level"] == "INFO")
			}
			if !gone {
				t.Errorf("no info line says the client went away: %v", all)
			}

			metrics := env.Do(t, "GET", "/metrics", "", nil)
			if !strings.Contains(string(metrics.Raw), `custos_http_requests_total{route="POST /api/v1/login",status="499"} 1`) {
				t.Errorf("no 499 counted for the login")
			}
			for _, l := range strings.Split(string(metrics.Raw), "\n") {
				if strings.HasPrefix(l, "custos_http_requests_total{") && strings.Contains(l, `status="5`) {
					t.Errorf("a 5xx counted: %s", l)
				}
			}
		})
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
