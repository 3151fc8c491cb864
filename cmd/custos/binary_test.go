package main_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/notify"
	"github.com/custos/custos/otp"
)

// TestBinary builds the real custos binary, starts it as the README says
// (--dev, plus a free port and a temporary data folder), and drives the
// sign-up, login and logout flow over HTTP, then stops it with SIGTERM.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data") // custos makes it
			args := []string{"--dev", "--data-dir", data, "--argon2", "64,1,1"}
			if d == "postgres" {
				args = append(args, "--db", testdb.DSN(t, d))
			}
			base, stop := startBinary(t, bin, args...)
			flow(t, base, filepath.Join(data, "outbox"))
			if code := stop(); code != 0 {
				t.Fatalf("exit code after SIGTERM = %d, want 0", code)
			}
			adminArgs := append([]string{"admin"}, args...)
			out, err := exec.Command(bin, append(adminArgs, "unlock", "KIM@example.com")...).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "unlocked kim@example.com") {
				t.Fatalf("admin unlock: %v\n%s", err, out)
			}
			out, err = exec.Command(bin, append(adminArgs, "account", "kim@example.com")...).CombinedOutput()
			if err != nil || !regexp.MustCompile(`(?m)^email +kim@example\.com$`).Match(out) {
				t.Fatalf("admin account: %v\n%s", err, out)
			}
			csv := filepath.Join(t.TempDir(), "tokens.csv")
			os.WriteFile(csv, []byte("serial,secret_base32,type,digits,period_or_counter,algorithm\n"+
				"T-1,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,totp,6,30,SHA1\n"+
				"H-1,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,hotp,6,0,sha1\n"+
				"BAD-1,not base32!,totp,6,30,SHA1\n"), 0o600)
			for i, want := range []string{"imported 2 tokens, skipped 0 already present, rejected 1 rows", "imported 0 tokens, skipped 2 already present, rejected 1 rows"} {
				// The rejected row makes it exit 1, after importing the others.
				out, err := exec.Command(bin, append(adminArgs, "tokens", "import", csv)...).CombinedOutput()
				if exitCode(err) != 1 || !strings.Contains(string(out), want) || !strings.Contains(string(out), `rejected row 4 (serial "BAD-1")`) {
					t.Fatalf("tokens import %d: %v\n%s", i+1, err, out)
				}
				if strings.Contains(string(out), "GEZDGNBV") {
					t.Fatalf("the import printed a seed:\n%s", out)
				}
			}
			staffEnrolment(t, bin, args)
			if d == "sqlite" {
				// The database holds password hashes and sealed seeds, the
				// key ring opens them: neither is for the group or others.
				for name, want := range map[string]os.FileMode{"custos.db": 0o600, "keys": 0o600, ".": 0o700} {
					fi, err := os.Stat(filepath.Join(data, name))
					if err != nil {
						t.Fatalf("%s missing from the data folder: %v", name, err)
					}
					if fi.Mode().Perm() != want {
						t.Errorf("%s has mode %v, want %v", name, fi.Mode().Perm(), want)
					}
				}
			}
		})
	}
	t.Run("refuses a bad flag with one line", func(t *testing.T) {
		var stderr bytes.Buffer
		cmd := exec.Command(bin, "--data-dir", t.TempDir(), "--addr", "0.0.0.0:0")
		cmd.Stderr = &stderr
		err := cmd.Run()
		if err == nil || !strings.Contains(stderr.String(), "--public-url") || strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 {
			t.Fatalf("err=%v stderr=%q", err, stderr.String())
		}
	})
	t.Run("migrate subcommand", func(t *testing.T) {
		out, err := exec.Command(bin, "migrate", "--data-dir", t.TempDir()).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "migrations applied") {
			t.Fatalf("migrate: %v\n%s", err, out)
		}
	})
}

// buildBinary builds cmd/custos into a temporary folder once per test.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "custos")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func startBinary(t *testing.T, bin string, args ...string) (string, func() int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var logs bytes.Buffer
	cmd := exec.Command(bin, append([]string{"--addr", addr}, args...)...)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan int, 1)
	go func() {
		cmd.Wait()
		done <- cmd.ProcessState.ExitCode()
	}()
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		select {
		case code := <-done:
			t.Fatalf("custos exited with %d before it was ready:\n%s", code, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("custos not ready after 30s:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	stopped := false
	stop := func() int {
		stopped = true
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case code := <-done:
			return code
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("custos did not stop after SIGTERM:\n%s", logs.String())
			return -1
		}
	}
	t.Cleanup(func() {
		if !stopped {
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("custos logs:\n%s", logs.String())
		}
		if strings.Contains(logs.String(), "correct horse") {
			t.Errorf("a password reached the logs")
		}
	})
	return base, stop
}

func flow(t *testing.T, base, outbox string) {
	t.Helper()
	post := func(path, token string, body any) (int, map[string]any) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return send(t, req)
	}
	status, body := post("/api/v1/signup", "", map[string]string{"email": "kim@example.com", "password": "correct horse battery staple", "kind": "personal"})
	if status != 202 {
		t.Fatalf("signup: %d %v", status, body)
	}
	msgs, err := waitOutbox(t, outbox, 1)
	if err != nil || len(msgs) != 1 || msgs[0].Code == "" {
		t.Fatalf("outbox: %v %+v", err, msgs)
	}
	status, body = post("/api/v1/signup/verify", "", map[string]string{"verification_id": body["verification_id"].(string), "code": msgs[0].Code})
	if status != 201 {
		t.Fatalf("verify: %d %v", status, body)
	}
	status, body = post("/api/v1/login", "", map[string]string{"email": "kim@example.com", "password": "correct horse battery staple"})
	if status != 200 {
		t.Fatalf("login: %d %v", status, body)
	}
	token := body["session_token"].(string)
	req, _ := http.NewRequest("DELETE", base+"/api/v1/session", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if status, _ := send(t, req); status != 204 {
		t.Fatalf("logout: %d", status)
	}
	for _, page := range []string{"/login", "/signup"} {
		resp, err := http.Get(base + page)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %v %v", page, err, resp)
		}
		resp.Body.Close()
	}
}

func send(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s: %v: %s", req.URL.Path, err, raw)
		}
	}
	return resp.StatusCode, m
}

// waitOutbox reads the outbox once it holds at least n messages (the
// server's workers deliver after the answer), waiting up to 15 seconds.
func waitOutbox(t *testing.T, outbox string, n int) ([]notify.Rendered, error) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		msgs, err := notify.ReadOutbox(outbox)
		if (err == nil && len(msgs) >= n) || time.Now().After(deadline) {
			return msgs, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// staffEnrolment runs `custos admin staff add` against a running server's
// database: it prints exactly one line, the enrolment URL, which works on
// the server; the enrolled member then needs the authenticator's code to
// get a staff token; `staff disable` ends that.
func staffEnrolment(t *testing.T, bin string, args []string) {
	t.Helper()
	base, stop := startBinary(t, bin, args...)
	defer stop()
	adminArgs := append(append([]string{"admin"}, args...), "--public-url", base)
	out, err := exec.Command(bin, append(adminArgs, "staff", "add", "Lee@custos.test", "--role", "admin")...).Output()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err != nil || len(lines) != 1 || !strings.HasPrefix(lines[0], base+"/staff/enrol/") {
		t.Fatalf("staff add printed %q (%v), want one line %s/staff/enrol/TOKEN", out, err, base)
	}
	token := strings.TrimPrefix(lines[0], base+"/staff/enrol/")
	if out, err := exec.Command(bin, append(adminArgs, "staff", "add", "lee@custos.test", "--role", "admin")...).CombinedOutput(); err == nil {
		t.Fatalf("adding the same staff email twice succeeded:\n%s", out)
	}
	if out, err := exec.Command(bin, append(adminArgs, "staff", "add", "x@custos.test", "--role", "owner")...).CombinedOutput(); err == nil {
		t.Fatalf("an unknown role was accepted:\n%s", out)
	}
	post := func(path, tok string, body any) (int, map[string]any) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		return send(t, req)
	}
	status, body := post("/api/v1/staff/enrol/"+token, "", map[string]string{"password": "tidy violet lantern 4217"})
	if status != 200 {
		t.Fatalf("enrol: %d %v", status, body)
	}
	secret, err := otp.DecodeSecret(body["totp_secret"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if status, body := post("/api/v1/staff/enrol/"+token+"/confirm", "", map[string]string{"code": otp.TOTP(secret, time.Now(), otp.DefaultParams)}); status != 200 {
		t.Fatalf("confirm: %d %v", status, body)
	}
	status, body = post("/api/v1/staff/login", "", map[string]string{"email": "lee@custos.test", "password": "tidy violet lantern 4217"})
	if status != 200 || body["login_token"] == nil || body["staff_token"] != nil {
		t.Fatalf("staff login: %d %v", status, body)
	}
	out, err = exec.Command(bin, append(adminArgs, "staff", "list")...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "lee@custos.test\tadmin\tactive") {
		t.Fatalf("staff list: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, append(adminArgs, "staff", "disable", "lee@custos.test")...).CombinedOutput(); err != nil || !strings.Contains(string(out), "disabled lee@custos.test") {
		t.Fatalf("staff disable: %v\n%s", err, out)
	}
	if status, body := post("/api/v1/staff/login", "", map[string]string{"email": "lee@custos.test", "password": "tidy violet lantern 4217"}); status != 401 {
		t.Fatalf("a disabled staff member logging in: %d %v", status, body)
	}
}
