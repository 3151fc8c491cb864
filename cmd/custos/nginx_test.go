package main_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos/custos/internal/testclock"
	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/internal/testserver"
)

// envNginx names the nginx binary the forward-auth test runs; .ci/run sets
// it, and then (as under CI) a missing nginx fails the test instead of
// skipping it.
const envNginx = "CUSTOS_TEST_NGINX"

// nginxBinary returns the nginx to run, or skips the test when there is
// none on a machine that does not require one.
func nginxBinary(t *testing.T) string {
	t.Helper()
	named := os.Getenv(envNginx)
	candidates := []string{named}
	if named == "" {
		candidates = []string{"/usr/sbin/nginx"}
		if p, err := exec.LookPath("nginx"); err == nil {
			candidates = append(candidates, p)
		}
	}
	for _, c := range candidates {
		if fi, err := os.Stat(c); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return c
		}
	}
	if named != "" || os.Getenv("CI") != "" {
		t.Fatalf("nginx is required here (CI or %s is set) but %q is not an executable; install Debian's nginx package", envNginx, candidates)
	}
	t.Skipf("no nginx (set %s, or install Debian's nginx package)", envNginx)
	return ""
}

// freePort returns a loopback port nobody listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// nginxConf is the test's nginx: in the foreground, every path inside
// dir, on a loopback port, serving the locations of docs/forward-auth.md.
const nginxConf = `
daemon off;
master_process off;
worker_processes 1;
pid {{dir}}/nginx.pid;
error_log {{dir}}/error.log info;
events { worker_connections 64; }
http {
    access_log {{dir}}/access.log;
    client_body_temp_path {{dir}}/client_body;
    proxy_temp_path {{dir}}/proxy;
    fastcgi_temp_path {{dir}}/fastcgi;
    uwsgi_temp_path {{dir}}/uwsgi;
    scgi_temp_path {{dir}}/scgi;

    server {
        listen 127.0.0.1:{{port}};

{{locations}}
    }
}
`

// startNginx runs nginx on port in front of upstream, asking custos, and
// returns its base URL; it stops when the test ends.
func startNginx(t *testing.T, bin, port, custos, upstream string) string {
	t.Helper()
	dir := t.TempDir()
	doc := forwardAuthDoc(t)
	locations := docBlock(t, doc, "location = /_custos_auth {") + "\n" + docBlock(t, doc, "location / {")
	locations = strings.NewReplacer("http://custos", custos, "http://app", upstream).Replace(locations)
	conf := strings.NewReplacer("{{dir}}", dir, "{{port}}", port, "{{locations}}", locations).Replace(nginxConf)
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	errorLog := func() string { b, _ := os.ReadFile(filepath.Join(dir, "error.log")); return string(b) }
	cmd := exec.Command(bin, "-p", dir, "-c", confPath, "-e", filepath.Join(dir, "error.log"))
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting nginx: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case err := <-exited:
			t.Fatalf("nginx exited: %v\n%s\n%s", err, out, errorLog())
		default:
		}
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second); err == nil {
			c.Close()
			return "http://localhost:" + port
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx did not listen on %s\n%s\n%s", port, out, errorLog())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// forwardAuthDoc returns the nginx example of docs/forward-auth.md.
func forwardAuthDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "forward-auth.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "```nginx\n")
	block, _, closed := strings.Cut(rest, "```")
	if !ok || !closed {
		t.Fatal("docs/forward-auth.md has no nginx example")
	}
	return block
}

// docBlock returns the block of the example that starts with the line
// head, up to its closing brace.
func docBlock(t *testing.T, doc, head string) string {
	t.Helper()
	var out []string
	depth := 0
	for _, line := range strings.Split(doc, "\n") {
		if len(out) == 0 && strings.TrimSpace(line) != head {
			continue
		}
		out = append(out, line)
		depth += strings.Count(line, "{") - strings.Count(line, "}")
		if depth == 0 {
			return strings.Join(out, "\n")
		}
	}
	t.Fatalf("docs/forward-auth.md: no whole block %q", head)
	return ""
}

// TestForwardAuthDocConfig: the whole nginx example of
// docs/forward-auth.md passes nginx -t (on a loopback port, without TLS).
func TestForwardAuthDocConfig(t *testing.T) {
	bin := nginxBinary(t)
	dir := t.TempDir()
	example := forwardAuthDoc(t)
	if !strings.Contains(example, "listen 443 ssl;") {
		t.Fatal("the example no longer listens on 443 ssl; update this test")
	}
	example = strings.Replace(example, "listen 443 ssl;", "listen 127.0.0.1:"+strconv.Itoa(freePort(t))+";", 1)
	conf := strings.NewReplacer("{{dir}}", dir, "{{port}}", "0", "{{locations}}", "").Replace(nginxConf)
	// The example's http-level blocks replace the test's server block.
	conf = conf[:strings.Index(conf, "    server {")] + example + "}\n"
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-t", "-p", dir, "-c", confPath, "-e", filepath.Join(dir, "error.log")).CombinedOutput()
	if err != nil {
		t.Fatalf("nginx -t on the documented example: %v\n%s\n%s", err, out, conf)
	}
}

// echoed is what the upstream saw of a request.
type echoed struct {
	Method string
	URI    string
	Header http.Header
	Body   string
}

// echoUpstream is the application behind nginx: it answers every request
// with what it saw, as JSON, and counts the requests.
func echoUpstream(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(echoed{Method: r.Method, URI: r.RequestURI, Header: r.Header, Body: string(body)})
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// loopbackClient is a browser without redirects followed: a cookie jar
// shared by every port of localhost, as a browser's is, dialling
// 127.0.0.1 where every server here listens.
func loopbackClient(t *testing.T, jar http.CookieJar) *http.Client {
	t.Helper()
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{
		Jar: jar,
		Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			return d.DialContext(ctx, "tcp4", "127.0.0.1:"+port)
		}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}
}

// exchange sends one request and returns the answer with its body.
func exchange(t *testing.T, c *http.Client, method, target string, header map[string]string, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// wantEcho decodes what the upstream saw from a 200 through nginx.
func wantEcho(t *testing.T, what string, resp *http.Response, body string) echoed {
	t.Helper()
	var e echoed
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &e) != nil {
		t.Fatalf("%s: %d %v\n%s", what, resp.StatusCode, resp.Header, body)
	}
	return e
}

// TestForwardAuthBehindNginx runs Debian's nginx in front of a small
// upstream, with auth_request asking Custos: a signed-out browser is sent
// to the login page with its URL and comes back to it after login; the
// upstream sees the account, never a header the client forged; and a
// logged-out session is refused at once. With PostgreSQL there are two
// replicas: nginx asks the second while the logout happens on the first.
func TestForwardAuthBehindNginx(t *testing.T) {
	bin := nginxBinary(t)
	dialect := "sqlite"
	if contains(testdb.Dialects(), "postgres") {
		dialect = "postgres"
	}
	upstream, hits := echoUpstream(t)
	// The front's port is known before Custos starts, to allow it as a
	// return host; nginx takes it from the config.
	dsn := testdb.DSN(t, dialect)
	clock := testclock.New(time.Time{})
	frontPort := strconv.Itoa(freePort(t))
	front := "localhost:" + frontPort
	opts := testserver.Options{DSN: dsn, Clock: clock, ReturnHosts: []string{front}}
	one := testserver.Start(t, opts)
	two := one
	if dialect == "postgres" {
		opts.Keys = one.Keys
		two = testserver.Start(t, opts)
	}
	base := startNginx(t, bin, frontPort, two.URL, upstream.URL)

	const email, pw = "nora@example.com", "correct horse battery staple"
	accountID := one.SignUp(t, email, pw)

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := loopbackClient(t, jar)
	forged := map[string]string{
		"X-Custos-Account-Id": "forged-account", "X-Custos-User-Name": "forged-user",
		"X-Custos-Principal": "sub_user", "X-Custos-Root-Account-Id": "forged-root",
	}

	// Signed out: nginx answers 302 to the login page, carrying the URL.
	original := base + "/app/reports?year=2026&q=a%20b"
	resp, body := exchange(t, browser, "GET", original, forged, "")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("signed out: %d, want 302\n%s", resp.StatusCode, body)
	}
	login, err := url.Parse(resp.Header.Get("Location"))
	twoURL, _ := url.Parse(two.URL)
	if err != nil || login.Host != "localhost:"+twoURL.Port() || login.Path != "/login" || login.Query().Get("rd") != original {
		t.Fatalf("signed out: Location %q, want the login page of %s with rd=%s", resp.Header.Get("Location"), two.URL, original)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the upstream saw %d requests from a signed-out browser", n)
	}

	// The login page, then the form; the login lands on the account page,
	// which sends the browser back to the original URL.
	if resp, body := exchange(t, browser, "GET", login.String(), nil, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("login page: %d\n%s", resp.StatusCode, body)
	}
	loginPost := login.Scheme + "://" + login.Host + "/login"
	form := url.Values{"email": {email}, "password": {pw}}.Encode()
	resp, body = exchange(t, browser, "POST", loginPost, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, form)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/overview" {
		t.Fatalf("login: %d %q\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	resp, body = exchange(t, browser, "GET", login.Scheme+"://"+login.Host+"/overview", nil, "")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != original {
		t.Fatalf("after login: %d %q, want 303 back to %s\n%s", resp.StatusCode, resp.Header.Get("Location"), original, body)
	}

	// Signed in: the upstream sees the account, and none of the headers
	// the client forged.
	resp, body = exchange(t, browser, "GET", original, forged, "")
	e := wantEcho(t, "back at the original URL", resp, body)
	if e.URI != "/app/reports?year=2026&q=a%20b" {
		t.Fatalf("the upstream was asked for %q", e.URI)
	}
	wantHeaders := map[string]string{
		"X-Custos-Account-Id": accountID, "X-Custos-Principal": "root", "X-Custos-Root-Account-Id": accountID,
		"X-Custos-Second-Factor": "false",
	}
	for k, want := range wantHeaders {
		if got := e.Header.Values(k); len(got) != 1 || got[0] != want {
			t.Fatalf("the upstream saw %s = %q, want just %q", k, got, want)
		}
	}
	for _, k := range []string{"X-Custos-User-Name", "X-Custos-Verified-Until"} {
		if got := e.Header.Values(k); len(got) != 0 {
			t.Fatalf("the upstream saw %s = %q for a root without a verification", k, got)
		}
	}
	// A request with a body goes through too, the subrequest without it.
	resp, body = exchange(t, browser, "POST", base+"/app/notes", map[string]string{"Content-Type": "text/plain"}, "a note")
	if e := wantEcho(t, "a POST", resp, body); e.Method != "POST" || e.Body != "a note" || e.Header.Get("X-Custos-Account-Id") != accountID {
		t.Fatalf("a POST reached the upstream as %+v", e)
	}

	// Logout on the first replica; a copy of the cookie kept from before
	// (the browser itself drops it) is refused through nginx at once,
	// which asks the second.
	var token string
	for _, c := range jar.Cookies(login) {
		if c.Name == "custos_session" {
			token = c.Value
		}
	}
	if token == "" {
		t.Fatal("the login set no custos_session cookie")
	}
	bare := loopbackClient(t, nil)
	kept := map[string]string{"Cookie": "custos_session=" + token}
	resp, body = exchange(t, bare, "GET", base+"/app/after", kept, "")
	wantEcho(t, "the kept cookie before logout", resp, body)
	oneURL, _ := url.Parse(one.URL)
	resp, body = exchange(t, browser, "POST", "http://localhost:"+oneURL.Port()+"/logout", nil, "")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout on the first replica: %d\n%s", resp.StatusCode, body)
	}
	before := hits.Load()
	resp, body = exchange(t, bare, "GET", base+"/app/after", kept, "")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), "http://localhost:"+twoURL.Port()+"/login?") {
		t.Fatalf("the kept cookie after logout: %d %q, want 302 to the login page\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if hits.Load() != before {
		t.Fatal("the upstream saw a request of a logged-out session")
	}
	t.Logf("nginx in front of %s replica(s) on %s", map[bool]string{true: "two", false: "one"}[one != two], dialect)
}
