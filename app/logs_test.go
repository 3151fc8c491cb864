package app_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testserver"
)

// logBuffer is a log destination the server's goroutines share.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// lines decodes the JSON log lines.
func (l *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, s := range strings.Split(strings.TrimSpace(l.String()), "\n") {
		if s == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatalf("log line %q: %v", s, err)
		}
		out = append(out, m)
	}
	return out
}

func startLogged(t *testing.T) (*testserver.Env, *logBuffer) {
	t.Helper()
	buf := &logBuffer{}
	env := testserver.Start(t, testserver.Options{
		Logger: slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	return env, buf
}

func captcha(t *testing.T, env *testserver.Env) map[string]string {
	t.Helper()
	c := env.Do(t, "POST", "/api/v1/captcha", "", nil)
	if c.Status != http.StatusCreated {
		t.Fatalf("captcha: %d %s", c.Status, c.Raw)
	}
	return map[string]string{"id": c.String("id"), "answer": "test"}
}

// TestNoSecretInLogs runs sign-up, logins (API and pages, right and
// wrong), a lock and a password reset with the log at debug, and looks for
// every password, code and token the flows used in it.
func TestNoSecretInLogs(t *testing.T) {
	env, logs := startLogged(t)
	const (
		email    = "quinn@example.com"
		password = "correct horse battery staple"
		wrong    = "Tr0ub4dor&3 wrong guess"
		newPass  = "a brand new passphrase 7"
	)
	secrets := map[string]string{"password": password, "wrong password": wrong, "new password": newPass}
	env.SignUp(t, email, password)
	secrets["signup code"] = env.Code(t, email, "signup_code")
	secrets["session token"] = env.Login(t, email, password)
	// The pages' login, right and wrong.
	form := func(pw string) int {
		resp, err := http.PostForm(env.URL+"/login", url.Values{"email": {email}, "password": {pw}})
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := form(password); s != http.StatusOK && s != http.StatusSeeOther {
		t.Fatalf("page login: %d", s)
	}
	// Ten wrong passwords lock the login.
	for range 10 {
		env.Do(t, "POST", "/api/v1/login", "", map[string]any{"email": email, "password": wrong, "captcha": captcha(t, env)})
	}
	if s := form(wrong); s != http.StatusBadRequest {
		t.Fatalf("wrong page login: %d", s)
	}
	r := env.Do(t, "POST", "/api/v1/password-reset", "", map[string]any{"email": email, "captcha": captcha(t, env)})
	if r.Status != 202 {
		t.Fatalf("start reset: %d %s", r.Status, r.Raw)
	}
	id := r.String("reset_id")
	secrets["reset id"] = id
	code := env.Code(t, email, "reset_code")
	secrets["reset code"] = code
	p := env.Do(t, "POST", "/api/v1/password-reset/"+id, "", map[string]string{"code": code})
	accounts, _ := p.Body["accounts"].([]any)
	if p.Status != 200 || len(accounts) != 1 {
		t.Fatalf("prove reset: %d %s", p.Status, p.Raw)
	}
	acctID := accounts[0].(map[string]any)["account_id"].(string)
	if r := env.Do(t, "POST", "/api/v1/password-reset/"+id+"/complete", "", map[string]string{"account_id": acctID, "password": newPass}); r.Status != 200 {
		t.Fatalf("complete reset: %d %s", r.Status, r.Raw)
	}
	secrets["new session token"] = env.Login(t, email, newPass)
	env.Drain(t)

	log := logs.String()
	if !strings.Contains(log, `"event":"login.locked"`) || !strings.Contains(log, `"event":"password.reset"`) ||
		!strings.Contains(log, `"path":"/api/v1/password-reset/{reset_id}/complete"`) {
		t.Fatalf("the log does not show the flow it should hold:\n%s", log)
	}
	for what, s := range secrets {
		if s == "" || len(s) < 6 {
			t.Fatalf("%s %q is no secret to look for", what, s)
		}
		if strings.Contains(log, s) {
			t.Errorf("the %s is in the log", what)
		}
	}
}

// TestSecurityEventsLogAtInfo: a lock logs one info line with its account
// and when it ends, an unlock (as custos admin unlock does it) one with who
// did it, and both are counted.
func TestSecurityEventsLogAtInfo(t *testing.T) {
	env, logs := startLogged(t)
	acct := env.SignUp(t, "rui@example.com", "correct horse battery staple")
	for range 10 {
		env.Do(t, "POST", "/api/v1/login", "", map[string]any{"email": "rui@example.com", "password": "wrong guess 1234", "captcha": captcha(t, env)})
	}
	if err := env.App.Auth.Unlock(t.Context(), custos.EmailLogin("rui@example.com"), "admin-cli:ops"); err != nil {
		t.Fatal(err)
	}
	var locks, unlocks []map[string]any
	for _, l := range logs.lines(t) {
		if l["msg"] != "security event" {
			continue
		}
		switch l["event"] {
		case custos.EventLoginLocked:
			locks = append(locks, l)
		case custos.EventLoginUnlocked:
			unlocks = append(unlocks, l)
		}
	}
	if len(locks) != 1 || len(unlocks) != 1 {
		t.Fatalf("%d lock and %d unlock lines, want one each:\n%s", len(locks), len(unlocks), logs.String())
	}
	lock, unlock := locks[0], unlocks[0]
	detail, _ := lock["detail"].(map[string]any)
	if lock["level"] != "INFO" || lock["account_id"] != acct || lock["request_id"] == nil || lock["client"] == nil ||
		detail["locked_until"] == nil || lock["event_id"] == nil {
		t.Errorf("lock line = %v, want INFO with account_id %s, request_id, client, event_id and detail.locked_until", lock, acct)
	}
	detail, _ = unlock["detail"].(map[string]any)
	if unlock["level"] != "INFO" || unlock["account_id"] != acct || detail["by"] != "admin-cli:ops" {
		t.Errorf("unlock line = %v, want INFO with account_id %s and detail.by admin-cli:ops", unlock, acct)
	}
	if strings.Contains(logs.String(), "wrong guess 1234") {
		t.Error("a wrong password is in the log")
	}
	resp, err := env.Client.Get(env.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, want := range []string{`custos_security_events_total{type="login.locked"} 1`, `custos_security_events_total{type="login.unlocked"} 1`,
		`custos_security_events_total{type="login.failure"} 10`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
