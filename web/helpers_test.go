package web_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/internal/testserver"
	"github.com/custos/custos/web"
)

const testPassword = "correct horse battery staple"

// forEachDialect runs f against a fresh server on every test database.
func forEachDialect(t *testing.T, f func(t *testing.T, env *testserver.Env)) {
	t.Helper()
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			f(t, testserver.Start(t, testserver.Options{Dialect: d}))
		})
	}
}

// visitor is one browser: a cookie jar, and redirects left for the test to
// check.
type visitor struct {
	t      *testing.T
	env    *testserver.Env
	client *http.Client
	secret []byte // the seed of the authenticator app bindApp added
}

func newVisitor(t *testing.T, env *testserver.Env) *visitor {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &visitor{t: t, env: env, client: &http.Client{
		Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

// page is one answer, its body read.
type page struct {
	*http.Response
	Body string
}

func (v *visitor) do(req *http.Request) page {
	v.t.Helper()
	resp, err := v.client.Do(req)
	if err != nil {
		v.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		v.t.Fatalf("%s %s: reading the body: %v", req.Method, req.URL.Path, err)
	}
	return page{Response: resp, Body: string(b)}
}

func (v *visitor) get(path string) page {
	v.t.Helper()
	req, err := http.NewRequest("GET", v.env.URL+path, nil)
	if err != nil {
		v.t.Fatal(err)
	}
	return v.do(req)
}

func (v *visitor) post(path string, form url.Values) page {
	v.t.Helper()
	req, err := http.NewRequest("POST", v.env.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		v.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return v.do(req)
}

// cookie returns the visitor's session cookie value, or "".
func (v *visitor) cookie() string {
	u, _ := url.Parse(v.env.URL)
	for _, c := range v.client.Jar.Cookies(u) {
		if c.Name == web.InsecureCookieName {
			return c.Value
		}
	}
	return ""
}

// login logs the visitor in through the form.
func (v *visitor) login(email, pw string) {
	v.t.Helper()
	p := v.post("/login", url.Values{"email": {email}, "password": {pw}})
	wantRedirect(v.t, p, "/overview")
	if v.cookie() == "" {
		v.t.Fatal("login set no session cookie")
	}
}

func wantStatus(t *testing.T, p page, want int) {
	t.Helper()
	if p.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d\n%s", p.Request.Method, p.Request.URL.Path, p.StatusCode, want, p.Body)
	}
}

func wantRedirect(t *testing.T, p page, to string) {
	t.Helper()
	if p.StatusCode != http.StatusSeeOther {
		t.Fatalf("%s %s: status %d, want 303 to %s\n%s", p.Request.Method, p.Request.URL.Path, p.StatusCode, to, p.Body)
	}
	if got := p.Header.Get("Location"); got != to {
		t.Fatalf("%s %s: redirected to %q, want %q", p.Request.Method, p.Request.URL.Path, got, to)
	}
}

func wantContains(t *testing.T, p page, parts ...string) {
	t.Helper()
	for _, s := range parts {
		if !strings.Contains(p.Body, s) {
			t.Errorf("%s %s: page lacks %q\n%s", p.Request.Method, p.Request.URL.Path, s, p.Body)
		}
	}
}

func wantAbsent(t *testing.T, p page, parts ...string) {
	t.Helper()
	for _, s := range parts {
		if strings.Contains(p.Body, s) {
			t.Errorf("%s %s: page contains %q", p.Request.Method, p.Request.URL.Path, s)
		}
	}
}

// wantSecurityHeaders checks what every page must carry.
func wantSecurityHeaders(t *testing.T, p page) {
	t.Helper()
	h := p.Header
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") ||
		!strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("%s: Content-Security-Policy %q", p.Request.URL.Path, csp)
	}
	for name, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s: %s = %q, want %q", p.Request.URL.Path, name, got, want)
		}
	}
}

// staticScript is the one way a page may load script: an empty element
// naming a file under /static/.
var staticScript = regexp.MustCompile(`<script src="/static/[a-z]+\.js" defer></script>`)

// wantOnlyStaticScripts checks that the page has no inline script: every
// <script is an empty element loading a file from /static/.
func wantOnlyStaticScripts(t *testing.T, p page) {
	t.Helper()
	if rest := staticScript.ReplaceAllString(p.Body, ""); strings.Contains(rest, "<script") {
		t.Errorf("%s %s: page has a script that is not a /static/ file", p.Request.Method, p.Request.URL.Path)
	}
}

var revokeLink = regexp.MustCompile(`href="/account/devices/([A-Za-z0-9_]+)/revoke"`)

// revokeIDs lists the session ids the devices page offers to sign out.
func revokeIDs(p page) []string {
	var ids []string
	for _, m := range revokeLink.FindAllStringSubmatch(p.Body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}
