package main_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/notify"
	"github.com/custos/custos/sqlstore"
)

// TestCLIWebhooks registers a security webhook with the binary, lets a
// running server post a login to a real receiver, and reads the delivery
// log, the list and the removal back through the admin commands. The
// secret is never printed and never rests in the clear in the database.
func TestCLIWebhooks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	const secret = "the receiver's signing secret, 40 bytes!"
	var (
		mu  sync.Mutex
		got []custos.WebhookEvent
	)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !notify.Verify([]byte(secret), r.Header.Get(notify.HeaderTimestamp), body, r.Header.Get(notify.HeaderSignature)) {
			t.Errorf("a request that does not verify: %q", body)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var ev custos.WebhookEvent
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Errorf("not an event: %q", body)
		}
		mu.Lock()
		got = append(got, ev)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer rcv.Close()

	data := filepath.Join(t.TempDir(), "data")
	args := []string{"--dev", "--data-dir", data, "--argon2", "64,1,1", "--captcha", "test"}
	admin := func(cmd ...string) (string, string, int) {
		t.Helper()
		return runBinary(t, bin, append(append([]string{"admin"}, args...), cmd...)...)
	}
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := admin("webhooks", "add", rcv.URL+"/in?token=tk-in-query", "--secret", secret, "--events", "login"); code != 2 ||
		!strings.Contains(stderr, "--secret: want @FILE") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("add with the secret on the command line: exit %d, %q; want 2 and one line", code, stderr)
	}
	out, stderr, code := admin("webhooks", "add", rcv.URL+"/in?token=tk-in-query", "--secret", "@"+secretFile, "--events", "login,lock")
	if code != 0 || !strings.HasPrefix(out, "added whk_") {
		t.Fatalf("webhooks add: exit %d\n%s%s", code, out, stderr)
	}
	id := strings.Fields(out)[1]
	if out, _, code := admin("webhooks", "add", rcv.URL, "--secret", "@"+secretFile, "--events", "all", "--help"); code != 0 ||
		!strings.Contains(out, "usage: custos admin [flags] webhooks add URL") || !strings.Contains(out, "-events") {
		t.Errorf("webhooks add --help: exit %d\n%s", code, out)
	}
	if strings.Contains(out+stderr, secret) || strings.Contains(out, "tk-in-query") {
		t.Errorf("webhooks add printed the secret or the URL's query: %q", out)
	}

	base, stop := startBinary(t, bin, args...)
	flow(t, base, filepath.Join(data, "outbox")) // signs up and logs in kim
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no login event after 20 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	mu.Lock()
	if len(got) != 1 || got[0].Kind != custos.WebhookLogin || got[0].Type != custos.EventLoginSuccess || got[0].AccountID == "" {
		t.Errorf("received %+v, want the one login", got)
	}
	mu.Unlock()

	out, stderr, code = admin("webhooks", "deliveries", id)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 || !strings.Contains(lines[1], " login ") || !strings.Contains(lines[1], " 202 ") ||
		!strings.Contains(lines[1], " delivered ") {
		t.Errorf("webhooks deliveries: exit %d\n%s%s", code, out, stderr)
	}
	out, _, code = admin("webhooks", "list")
	if code != 0 || strings.Count(out, "whk_") != 1 || !strings.Contains(out, id) || !strings.Contains(out, "lock,login") ||
		strings.Contains(out, "tk-in-query") {
		t.Errorf("webhooks list: exit %d\n%s", code, out)
	}
	db, err := os.ReadFile(filepath.Join(data, "custos.db"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(db), secret) {
		t.Error("the database holds the webhook secret in the clear")
	}
	if out, stderr, code := admin("webhooks", "remove", id); code != 0 || out != "removed "+id+"\n" {
		t.Errorf("webhooks remove: exit %d\n%s%s", code, out, stderr)
	}
	if _, stderr, code := admin("webhooks", "remove", id); code != 1 || !strings.Contains(stderr, "no webhook has the id") {
		t.Errorf("webhooks remove again: exit %d, %q; want 1", code, stderr)
	}
	if out, _, _ := admin("webhooks", "list"); strings.Contains(out, id) {
		t.Errorf("the removed hook is still listed:\n%s", out)
	}
	if _, stderr, code := admin("webhooks", "deliveries", id); code != 1 || !strings.Contains(stderr, "no webhook has the id") {
		t.Errorf("deliveries of a removed hook: exit %d, %q; want 1", code, stderr)
	}
	// Both changes are in the staff audit trail, as from the command line;
	// the refused second removal is not.
	st, err := sqlstore.Open(t.Context(), "sqlite:"+filepath.Join(data, "custos.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs, err := st.ListStaffEvents(t.Context(), custos.StaffEventFilter{Target: id})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, ev := range evs {
		actions = append(actions, ev.Action)
		if ev.StaffID != "" || ev.RemoteAddr != "command line" || ev.UserAgent == "" {
			t.Errorf("staff event %+v, want one from the command line naming its operator", ev)
		}
	}
	if !slices.Equal(actions, []string{"webhook.remove", "webhook.add"}) {
		t.Errorf("staff events of %s: %v, want webhook.remove then webhook.add", id, actions)
	}
}
