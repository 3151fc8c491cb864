package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/sqlstore"
)

// exitCode is the exit status of a finished command: 0 without an error,
// -1 when it did not run or exit.
func exitCode(err error) int {
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.ExitCode()
	default:
		return -1
	}
}

// runBinary runs the binary to its end (at most 20 seconds: a command that
// wrongly starts a server is killed and reported) and returns its output.
func runBinary(t *testing.T, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var o, e bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("custos %s was still running after 20s (a server start?):\n%s%s", strings.Join(args, " "), o.String(), e.String())
	}
	return o.String(), e.String(), exitCode(err)
}

// TestCLIStrict checks the command line refuses what it does not know and
// answers --help on every command without doing anything.
func TestCLIStrict(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	t.Run("unknown command", func(t *testing.T) {
		for _, word := range []string{"migrat", "version2", "server", "unlock"} {
			data := filepath.Join(t.TempDir(), "data")
			stdout, stderr, code := runBinary(t, bin, word, "--data-dir", data, "--addr", "127.0.0.1:0")
			if code != 2 || !strings.Contains(stderr, "serve, migrate, admin, version or help") || !strings.Contains(stderr, word) ||
				strings.Count(strings.TrimSpace(stderr), "\n") != 0 || stdout != "" {
				t.Errorf("custos %s: exit %d, stdout %q, stderr %q; want exit 2 and one line listing the commands", word, code, stdout, stderr)
			}
			if _, err := os.Stat(data); err == nil {
				t.Errorf("custos %s made the data folder: it did something", word)
			}
		}
	})
	t.Run("a serve or migrate argument is refused", func(t *testing.T) {
		data := filepath.Join(t.TempDir(), "data")
		_, stderr, code := runBinary(t, bin, "--data-dir", data, "migrat")
		if code != 2 || !strings.Contains(stderr, `"migrat"`) {
			t.Errorf("custos --data-dir D migrat: exit %d, %q", code, stderr)
		}
	})
	t.Run("--help", func(t *testing.T) {
		for _, tt := range []struct {
			args []string
			want string
		}{
			{[]string{"serve", "--help"}, "usage: custos [serve] [flags]"},
			{[]string{"--help"}, "usage: custos [serve] [flags]"},
			{[]string{"migrate", "-h"}, "usage: custos migrate [flags]"},
			{[]string{"admin", "--help"}, "usage: custos admin [flags] COMMAND"},
			{[]string{"admin", "unlock", "--help"}, "usage: custos admin [flags] unlock EMAIL"},
			{[]string{"admin", "unlock", "kim@example.com", "--help"}, "usage: custos admin [flags] unlock EMAIL"},
			{[]string{"admin", "staff", "add", "--help"}, "-role"},
			{[]string{"admin", "staff", "--help"}, "staff disable EMAIL"},
			{[]string{"admin", "tokens", "import", "--help"}, "-psk"},
			{[]string{"admin", "audit", "--help"}, "-since"},
			{[]string{"admin", "backup", "-h"}, "usage: custos admin [flags] backup PATH"},
			{[]string{"version", "--help"}, "usage: custos version"},
			{[]string{"help"}, "version   print the version"},
			{[]string{"help", "admin"}, "usage: custos admin [flags] COMMAND"},
		} {
			data := filepath.Join(t.TempDir(), "data")
			args := tt.args
			if args[0] == "admin" {
				args = append([]string{"admin", "--data-dir", data}, args[1:]...)
			}
			stdout, stderr, code := runBinary(t, bin, args...)
			if code != 0 || !strings.Contains(stdout, tt.want) {
				t.Errorf("custos %s: exit %d, stdout %q, stderr %q; want exit 0 and %q", strings.Join(tt.args, " "), code, stdout, stderr, tt.want)
			}
			if _, err := os.Stat(data); err == nil {
				t.Errorf("custos %s made the data folder: it did something", strings.Join(tt.args, " "))
			}
		}
	})
	t.Run("bad flags and arguments: one line naming them", func(t *testing.T) {
		for _, tt := range []struct {
			args []string
			want string
		}{
			{[]string{"--hash-workers", "many"}, "-hash-workers"},
			{[]string{"--memory-limit", "lots"}, "--memory-limit"},
			{[]string{"--max-connections", "-1"}, "--max-connections"},
			{[]string{"serve", "--no-such-flag"}, "-no-such-flag"},
			{[]string{"migrate", "--no-such-flag"}, "-no-such-flag"},
			{[]string{"admin", "--no-such-flag", "account", "kim@example.com"}, "-no-such-flag"},
			{[]string{"admin", "unlock", "--role", "admin", "kim@example.com"}, "-role"},
			{[]string{"admin", "unlock", "--", "--help"}, `"--help"`},
			{[]string{"admin", "unlock", "-"}, `"-"`},
			{[]string{"admin", "unlock"}, "EMAIL"},
			{[]string{"admin", "staff", "add", "lee@example.com", "--role", "owner"}, "--role"},
			{[]string{"admin", "audit", "--since", "yesterday"}, "--since"},
			{[]string{"admin", "audit", "--limit", "0"}, "--limit"},
			{[]string{"admin", "frobnicate"}, `"frobnicate"`},
			{[]string{"admin"}, "want a command"},
			{[]string{"version", "extra"}, `"extra"`},
		} {
			data := filepath.Join(t.TempDir(), "data")
			args := tt.args
			if args[0] == "admin" {
				args = append([]string{"admin", "--data-dir", data}, args[1:]...)
			} else {
				args = append(args, "--data-dir", data)
				if args[0] == "version" {
					args = tt.args
				}
			}
			stdout, stderr, code := runBinary(t, bin, args...)
			if code != 2 || !strings.Contains(stderr, tt.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Errorf("custos %s: exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", strings.Join(tt.args, " "), code, stdout, stderr, tt.want)
			}
			if _, err := os.Stat(data); err == nil {
				t.Errorf("custos %s made the data folder: it did something", strings.Join(tt.args, " "))
			}
		}
	})
	t.Run("version", func(t *testing.T) {
		stdout, stderr, code := runBinary(t, bin, "version")
		if code != 0 || !strings.HasPrefix(stdout, "custos ") || !strings.Contains(stdout, "\nrevision ") {
			t.Fatalf("custos version: exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
	})
}

// TestCLIAdmin runs the admin commands against a running server on each
// store: the lock state after wrong passwords, --help that unlocks
// nothing, the audit log as JSON lines, the token inventory and a backup.
func TestCLIAdmin(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			args := []string{"--dev", "--data-dir", data, "--argon2", "64,1,1", "--captcha", "test"}
			if d == "postgres" {
				args = append(args, "--db", testdb.DSN(t, d))
			}
			base, stop := startBinary(t, bin, args...)
			defer stop()
			flow(t, base, filepath.Join(data, "outbox"))
			admin := func(cmd ...string) (string, string, int) {
				t.Helper()
				return runBinary(t, bin, append(append([]string{"admin"}, args...), cmd...)...)
			}

			// Three wrong passwords: a captcha is needed, no lock yet.
			login := func(captcha bool) int {
				body := map[string]any{"email": "kim@example.com", "password": "wrong horse battery staple"}
				if captcha {
					status, c := post(t, base, "/api/v1/captcha", nil)
					if status != 201 {
						t.Fatalf("captcha: %d %v", status, c)
					}
					body["captcha"] = map[string]string{"id": c["id"].(string), "answer": "test"}
				}
				status, _ := post(t, base, "/api/v1/login", body)
				return status
			}
			for range 3 {
				if status := login(false); status != 401 {
					t.Fatalf("wrong password: %d, want 401", status)
				}
			}
			out, stderr, code := admin("account", "kim@example.com")
			if code != 0 || !regexp.MustCompile(`(?m)^lock +not locked$`).MatchString(out) ||
				!regexp.MustCompile(`(?m)^failures +3 in the series since .*captcha`).MatchString(out) ||
				!regexp.MustCompile(`(?m)^login protection +off$`).MatchString(out) ||
				!regexp.MustCompile(`(?m)^mfa devices +0$`).MatchString(out) ||
				!regexp.MustCompile(`(?m)^phone +none$`).MatchString(out) {
				t.Fatalf("admin account after 3 wrong passwords: exit %d\n%s%s", code, out, stderr)
			}
			accountID := regexp.MustCompile(`(?m)^account +(\S+)$`).FindStringSubmatch(out)[1]
			for range 7 {
				login(true)
			}
			out, stderr, code = admin("account", "kim@example.com")
			if code != 0 || !regexp.MustCompile(`(?m)^lock +locked until \d{4}-`).MatchString(out) ||
				!regexp.MustCompile(`(?m)^failures +10 in the series`).MatchString(out) {
				t.Fatalf("admin account after 10 wrong passwords: exit %d\n%s%s", code, out, stderr)
			}

			// --help unlocks nothing and audits nothing.
			for _, help := range [][]string{{"unlock", "--help"}, {"unlock", "kim@example.com", "--help"}, {"unlock", "-h"},
				{"staff", "add", "--help"}, {"staff", "add", "lee@example.com", "--role", "admin", "--help"}} {
				if out, stderr, code := admin(help...); code != 0 || !strings.Contains(out, "usage: custos admin") {
					t.Fatalf("admin %v: exit %d\n%s%s", help, code, out, stderr)
				}
			}
			if out, stderr, code := admin("unlock", "--", "--help"); code != 2 {
				t.Fatalf("admin unlock -- --help: exit %d, want 2\n%s%s", code, out, stderr)
			}
			if out, _, _ := admin("account", "kim@example.com"); !strings.Contains(out, "locked until") {
				t.Fatalf("a --help unlocked the account:\n%s", out)
			}
			out, stderr, code = admin("audit", "--type", custos.EventLoginUnlocked)
			if code != 0 || out != "" {
				t.Fatalf("audit of unlocks after --help: exit %d, want none:\n%s%s", code, out, stderr)
			}
			if out, _, _ := admin("staff", "list"); out != "" {
				t.Fatalf("a --help added a staff member:\n%s", out)
			}

			// The audit log as JSON lines, newest first, filtered.
			out, stderr, code = admin("audit", "--account", accountID, "--since", time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if code != 0 || len(lines) < 11 {
				t.Fatalf("audit --account: exit %d, %d lines\n%s%s", code, len(lines), out, stderr)
			}
			types := map[string]int{}
			for _, line := range lines {
				var ev map[string]any
				if err := json.Unmarshal([]byte(line), &ev); err != nil {
					t.Fatalf("audit line %q: %v", line, err)
				}
				for _, k := range []string{"id", "at", "account_id", "type", "identifier", "remote_addr", "user_agent", "detail"} {
					if _, ok := ev[k]; !ok {
						t.Fatalf("audit line %q has no %s", line, k)
					}
				}
				if ev["account_id"] != accountID {
					t.Fatalf("audit --account %s printed %q", accountID, line)
				}
				types[ev["type"].(string)]++
			}
			if types[custos.EventLoginLocked] != 1 || types[custos.EventLoginFailure] < 9 {
				t.Fatalf("audit types %v, want a lock and its failures", types)
			}
			if out, _, code := admin("audit", "--account", accountID, "--limit", "2"); code != 0 || strings.Count(out, "\n") != 2 ||
				!strings.Contains(strings.SplitN(out, "\n", 2)[0], custos.EventLoginLocked) {
				t.Fatalf("audit --limit 2: want the lock first, then one line:\n%s", out)
			}
			if out, stderr, code := admin("unlock", "kim@example.com"); code != 0 || !strings.Contains(out, "unlocked kim@example.com") {
				t.Fatalf("admin unlock: exit %d\n%s%s", code, out, stderr)
			}
			if out, _, _ := admin("audit", "--type", custos.EventLoginUnlocked); strings.Count(out, "\n") != 1 || !strings.Contains(out, `"identifier":"kim@example.com"`) {
				t.Fatalf("audit of unlocks after an unlock:\n%s", out)
			}

			// Tokens: a bad row fails the import after the good ones.
			csv := filepath.Join(t.TempDir(), "tokens.csv")
			os.WriteFile(csv, []byte("T-1,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,totp,6,30,SHA1\n"+
				"BAD-1,not base32!,totp,6,30,SHA1\n"+"H-1,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,hotp,8,0,SHA256\n"), 0o600)
			out, stderr, code = admin("tokens", "import", csv)
			if code != 1 || !strings.Contains(out, "imported 2 tokens") || !strings.Contains(stderr, "1 rows rejected") {
				t.Fatalf("tokens import with a bad row: exit %d, want 1\n%s%s", code, out, stderr)
			}
			if strings.Contains(out, "importing") || strings.Contains(out, "\r") {
				t.Fatalf("a progress bar was drawn into a pipe:\n%q", out)
			}
			good := filepath.Join(t.TempDir(), "good.csv")
			os.WriteFile(good, []byte("G-1,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,totp,6,30,SHA1\n"), 0o600)
			if out, stderr, code := admin("tokens", "import", good); code != 0 {
				t.Fatalf("tokens import of good rows: exit %d\n%s%s", code, out, stderr)
			}
			out, stderr, code = admin("tokens", "list")
			if code != 0 || !regexp.MustCompile(`(?m)^G-1 +totp SHA1 6 digits 30s +stock +none `).MatchString(out) ||
				!regexp.MustCompile(`(?m)^H-1 +hotp SHA256 8 digits +stock +none `).MatchString(out) ||
				!strings.Contains(out, "T-1") || strings.Contains(out, "BAD-1") || !strings.Contains(out, "3 tokens") {
				t.Fatalf("tokens list: exit %d\n%s%s", code, out, stderr)
			}
			if strings.Contains(out, "GEZDGNBV") {
				t.Fatalf("tokens list printed a seed:\n%s", out)
			}

			// A backup while the server runs.
			dest := filepath.Join(t.TempDir(), "custos-backup.db")
			out, stderr, code = admin("backup", dest)
			if d == "postgres" {
				if code != 1 || !strings.Contains(stderr, "pg_dump") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
					t.Fatalf("backup on PostgreSQL: exit %d, want 1 and a pg_dump hint\n%s%s", code, out, stderr)
				}
				if _, err := os.Stat(dest); err == nil {
					t.Fatal("backup on PostgreSQL wrote a file")
				}
				return
			}
			if code != 0 {
				t.Fatalf("backup: exit %d\n%s%s", code, out, stderr)
			}
			fi, err := os.Stat(dest)
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("backup file: %v %v, want mode 0600", fi, err)
			}
			size := fi.Size()
			if out, stderr, code := admin("backup", dest); code != 1 || !strings.Contains(stderr, "exists") {
				t.Fatalf("backup onto an existing file: exit %d, want 1\n%s%s", code, out, stderr)
			}
			if fi, _ := os.Stat(dest); fi.Size() != size {
				t.Fatal("a refused backup changed the existing file")
			}
			copyDB, err := sqlstore.Open(t.Context(), "sqlite:"+dest)
			if err != nil {
				t.Fatal(err)
			}
			defer copyDB.Close()
			acct, err := copyDB.AccountByEmail(t.Context(), "kim@example.com")
			if err != nil || acct.ID != accountID {
				t.Fatalf("the backup's accounts table: %+v %v", acct, err)
			}
			toks, err := copyDB.ListHardwareTokens(t.Context())
			if err != nil || len(toks) != 3 {
				t.Fatalf("the backup's tokens: %d %v", len(toks), err)
			}
		})
	}
}

// post sends a JSON body to the server and decodes the answer.
func post(t *testing.T, base, path string, body any) (int, map[string]any) {
	t.Helper()
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest("POST", base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	return send(t, req)
}
