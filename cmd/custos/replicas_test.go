package main_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/custos/custos/internal/testdb"
)

// TestTwoReplicasExactLockout starts two custos processes on one PostgreSQL
// database and sends 200 wrong passwords for one account at once, split
// between them, each with a solved captcha: exactly ten are checked and
// counted, the rest answer account_locked, and the two processes together
// hash exactly ten passwords (plus the one of sign-up).
func TestTwoReplicasExactLockout(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if !contains(testdb.Dialects(), "postgres") {
		t.Skip("needs CUSTOS_TEST_POSTGRES (CI sets it)")
	}
	bin := buildBinary(t)
	dsn := testdb.DSN(t, "postgres")
	outbox := filepath.Join(t.TempDir(), "outbox")
	// Replicas share the key ring (a code made on one is checked on the
	// other) and nothing else but the database.
	keys := "k1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	var bases []string
	for i := 0; i < 2; i++ {
		base, _ := startBinary(t, bin, "--db", dsn, "--dev", "--captcha", "test", "--argon2", "64,1,1",
			"--data-dir", t.TempDir(), "--deliver", "dir:"+outbox, "--keys", keys)
		bases = append(bases, base)
	}
	post := func(base, path string, body any) (int, map[string]any) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		return send(t, req)
	}
	status, body := post(bases[0], "/api/v1/signup", map[string]string{"email": "olga@example.com", "password": "correct horse battery staple", "kind": "personal"})
	if status != 202 {
		t.Fatalf("signup: %d %v", status, body)
	}
	msgs, err := waitOutbox(t, outbox, 1)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("outbox after sign-up: %v %+v", err, msgs)
	}
	if status, body := post(bases[1], "/api/v1/signup/verify", map[string]string{"verification_id": body["verification_id"].(string), "code": msgs[0].Code}); status != 201 {
		t.Fatalf("verify on the other replica: %d %v", status, body)
	}
	captchas := make([]string, 200)
	for i := range captchas {
		_, c := post(bases[i%2], "/api/v1/captcha", map[string]string{})
		captchas[i] = c["id"].(string)
	}
	before := hashes(t, bases)
	var mu sync.Mutex
	answers := map[string]int{}
	var wg sync.WaitGroup
	for i, c := range captchas {
		wg.Add(1)
		go func(i int, c string) {
			defer wg.Done()
			// Solve each captcha on the replica that did not make it.
			status, body := post(bases[(i+1)%2], "/api/v1/login", map[string]any{
				"email": "olga@example.com", "password": "wrong password", "captcha": map[string]string{"id": c, "answer": "test"}})
			e, _ := body["error"].(map[string]any)
			mu.Lock()
			answers[strconv.Itoa(status)+" "+e["code"].(string)]++
			mu.Unlock()
		}(i, c)
	}
	wg.Wait()
	if answers["401 invalid_credentials"] != 10 || answers["423 account_locked"] != 190 || len(answers) != 2 {
		t.Fatalf("answers = %v, want 10 invalid_credentials and 190 account_locked", answers)
	}
	if n := hashes(t, bases) - before; n != 10 {
		t.Fatalf("the replicas hashed %d passwords, want 10", n)
	}
	for _, base := range bases {
		if status, _ := post(base, "/api/v1/login", map[string]string{"email": "olga@example.com", "password": "correct horse battery staple"}); status != 423 {
			t.Fatalf("right password on %s after the race: %d, want 423", base, status)
		}
	}
}

// hashes sums custos_password_hashes_total over the replicas.
func hashes(t *testing.T, bases []string) int {
	t.Helper()
	total := 0
	for _, base := range bases {
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(resp.Body)
		found := false
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "custos_password_hashes_total "); ok {
				n, err := strconv.ParseFloat(v, 64)
				if err != nil {
					t.Fatalf("metric value %q", v)
				}
				total += int(n)
				found = true
			}
		}
		resp.Body.Close()
		if !found {
			t.Fatalf("%s/metrics has no custos_password_hashes_total", base)
		}
	}
	return total
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
