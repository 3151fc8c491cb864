package main_test

import (
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// freeAddr is a loopback address nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serveLogged starts the binary on addr with its log in a file, waits for
// /readyz and returns a reader of the log so far; it is stopped with
// SIGTERM when the test ends.
func serveLogged(t *testing.T, bin, addr string, args ...string) func() string {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(bin, append([]string{"--addr", addr}, args...)...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	logs := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("custos logs:\n%s", logs())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return logs
			}
		}
		select {
		case <-done:
			t.Fatalf("custos exited before it was ready:\n%s", logs())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("custos not ready after 30s:\n%s", logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func fetch(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestMetricsAddrAndStartLines: with --metrics-addr the metrics are on
// that port only (the main port answers 404, the metrics port serves
// nothing else); the start-up line says where the pages and, in
// development, the codes are; health checks do not reach the log at info.
func TestMetricsAddrAndStartLines(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	addr, metricsAddr := freeAddr(t), freeAddr(t)
	logs := serveLogged(t, bin, addr, "--data-dir", filepath.Join(t.TempDir(), "data"), "--argon2", "64,1,1",
		"--metrics-addr", metricsAddr)
	if status, _ := fetch(t, "http://"+addr+"/metrics"); status != 404 {
		t.Errorf("GET /metrics on --addr with --metrics-addr: %d, want 404", status)
	}
	status, body := fetch(t, "http://"+metricsAddr+"/metrics")
	for _, want := range []string{`custos_http_requests_total{route="GET /readyz",status="200"}`, `go_sql_open_connections{db_name="writer"}`,
		`custos_security_events_total{type="login.locked"} 0`, `custos_deliveries_oldest_waiting_seconds 0`} {
		if status != 200 || !strings.Contains(body, want) {
			t.Errorf("GET /metrics on --metrics-addr: %d, lacks %s", status, want)
		}
	}
	if status, _ := fetch(t, "http://"+metricsAddr+"/healthz"); status != 404 {
		t.Errorf("GET /healthz on --metrics-addr: %d, want 404", status)
	}
	fetch(t, "http://"+addr+"/static/style.css")
	fetch(t, "http://"+addr+"/healthz")
	fetch(t, "http://"+addr+"/login")
	time.Sleep(100 * time.Millisecond)
	log := logs()
	pages := "http://" + addr + "/"
	want := `"msg":"custos is serving: the pages are at ` + pages + `, the codes at ` + pages + `dev/outbox"`
	if !strings.Contains(log, want) {
		t.Errorf("no start-up line %s", want)
	}
	for _, quiet := range []string{`"path":"/readyz"`, `"path":"/healthz"`, `"path":"/static/`} {
		if strings.Contains(log, quiet) {
			t.Errorf("a request line for %s at the default level (info)", quiet)
		}
	}
	if !strings.Contains(log, `"path":"/login"`) {
		t.Errorf("no request line for a page at info")
	}
}

// TestStartWarnsOfDelivery: a production start without --sms warns that
// SMS is off, and one whose SMTP server does not answer warns so soon
// after start, naming host and port but never the URL's password.
func TestStartWarnsOfDelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	addr, closed := freeAddr(t), freeAddr(t)
	logs := serveLogged(t, bin, addr, "--data-dir", filepath.Join(t.TempDir(), "data"), "--argon2", "64,1,1",
		"--deliver", "smtp://mailer:s3cret-pass@"+closed+"?starttls=off")
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(logs(), "SMTP server unreachable") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	log := logs()
	for _, want := range []string{`"level":"WARN","msg":"SMS is off`, `"level":"WARN","msg":"SMTP server unreachable`, `"smtp":"` + closed + `"`} {
		if !strings.Contains(log, want) {
			t.Errorf("start-up log lacks %s", want)
		}
	}
	if strings.Contains(log, "s3cret-pass") {
		t.Errorf("the SMTP password reached the log")
	}
	if strings.Contains(log, "/dev/outbox") {
		t.Errorf("a production start names the outbox")
	}
}

// TestAdminUnlockLogs: custos admin unlock logs the security event it
// wrote and one admin action line, at info, on standard error.
func TestAdminUnlockLogs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	data := filepath.Join(t.TempDir(), "data")
	out, stderr, code := runBinary(t, bin, "admin", "--dev", "--data-dir", data, "unlock", "Ana@example.com")
	if code != 0 || !strings.Contains(out, "unlocked ana@example.com") {
		t.Fatalf("admin unlock: exit %d\n%s%s", code, out, stderr)
	}
	for _, want := range []string{
		`"level":"INFO","msg":"security event","event":"login.unlocked"`, `"detail":{"by":"admin-cli`,
		`"level":"INFO","msg":"admin action","command":"unlock","actor":"admin-cli`, `"target":"Ana@example.com"`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("admin unlock's log lacks %s:\n%s", want, stderr)
		}
	}
}
