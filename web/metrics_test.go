package web_test

import (
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/custos/custos/internal/testserver"
)

// scrape reads the server's /metrics (the test client is on loopback).
func scrape(t *testing.T, env *testserver.Env) string {
	t.Helper()
	resp, err := env.Client.Get(env.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d %v", resp.StatusCode, err)
	}
	return string(b)
}

// TestPageLoginsAreCounted: a login on the pages counts in
// custos_logins_total under the same outcome labels as one through the
// API — success, and a wrong password's error code.
func TestPageLoginsAreCounted(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	env.SignUp(t, "pat@example.com", testPassword)
	if m := scrape(t, env); strings.Contains(m, "custos_logins_total{") {
		t.Fatalf("logins counted before any login:\n%s", grepLines(m, "custos_logins_total"))
	}
	v := newVisitor(t, env)
	v.login("pat@example.com", testPassword)
	wantStatus(t, newVisitor(t, env).post("/login", url.Values{"email": {"pat@example.com"}, "password": {"not the password"}}), 400)
	m := scrape(t, env)
	for _, want := range []string{`custos_logins_total{outcome="success"} 1`, `custos_logins_total{outcome="invalid_credentials"} 1`} {
		if !strings.Contains(m, want) {
			t.Errorf("after a page login and a wrong password on the page, /metrics lacks %s:\n%s", want, grepLines(m, "custos_logins_total"))
		}
	}
	// The API's logins land in the very same series.
	env.Login(t, "pat@example.com", testPassword)
	if r := env.Do(t, "POST", "/api/v1/login", "", map[string]string{"email": "pat@example.com", "password": "not the password"}); r.Status != 401 {
		t.Fatalf("API login with a wrong password: %d", r.Status)
	}
	m = scrape(t, env)
	for _, want := range []string{`custos_logins_total{outcome="success"} 2`, `custos_logins_total{outcome="invalid_credentials"} 2`} {
		if !strings.Contains(m, want) {
			t.Errorf("after the same through the API, /metrics lacks %s:\n%s", want, grepLines(m, "custos_logins_total"))
		}
	}
}

func grepLines(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
