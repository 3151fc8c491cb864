package api_test

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testserver"
)

// login posts a login; captchaID "" sends none.
func login(t *testing.T, env *testserver.Env, email, pw, captchaID, answer string) testserver.Response {
	t.Helper()
	body := map[string]any{"email": email, "password": pw}
	if captchaID != "" {
		body["captcha"] = map[string]string{"id": captchaID, "answer": answer}
	}
	return env.Do(t, "POST", "/api/v1/login", "", body)
}

func newCaptcha(t *testing.T, env *testserver.Env) string {
	t.Helper()
	r := env.Do(t, "POST", "/api/v1/captcha", "", nil)
	if r.Status != http.StatusCreated || r.String("id") == "" || r.String("image_url") == "" {
		t.Fatalf("captcha: %d %s", r.Status, r.Raw)
	}
	return r.String("id")
}

func errField(r testserver.Response, key string) any {
	e, _ := r.Body["error"].(map[string]any)
	return e[key]
}

// TestLoginSecuritySequence walks rule R4 through the API, for an account
// and for an email no account has, which must answer alike.
func TestLoginSecuritySequence(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		env.SignUp(t, "lena@example.com", goodPassword)
		for _, email := range []string{"lena@example.com", "ghost@example.com"} {
			t.Run(email, func(t *testing.T) {
				start := env.Clock.Now()
				for i := 1; i <= 3; i++ {
					r := login(t, env, email, "wrong password "+strconv.Itoa(i), "", "")
					if r.Status != 401 || r.ErrorCode() != "invalid_credentials" || errField(r, "captcha_required") != (i == 3) {
						t.Fatalf("failure %d: %d %s", i, r.Status, r.Raw)
					}
					env.Clock.Advance(time.Second)
				}
				// Without a captcha: refused before the password is checked, not counted.
				r := login(t, env, email, goodPassword, "", "")
				capt, _ := errField(r, "captcha").(map[string]any)
				if r.Status != 401 || r.ErrorCode() != "captcha_required" || capt["id"] == "" || capt["image_url"] == "" {
					t.Fatalf("no captcha: %d %s", r.Status, r.Raw)
				}
				// A wrong answer, a used captcha, an expired one: refused alike.
				c := newCaptcha(t, env)
				if r := login(t, env, email, goodPassword, c, "nope"); r.ErrorCode() != "captcha_required" {
					t.Fatalf("wrong answer: %d %s", r.Status, r.Raw)
				}
				if r := login(t, env, email, goodPassword, c, "test"); r.ErrorCode() != "captcha_required" {
					t.Fatalf("used captcha: %d %s", r.Status, r.Raw)
				}
				old := newCaptcha(t, env)
				env.Clock.Advance(5 * time.Minute)
				if r := login(t, env, email, goodPassword, old, "test"); r.ErrorCode() != "captcha_required" {
					t.Fatalf("expired captcha: %d %s", r.Status, r.Raw)
				}
				// Failures 4 to 10, each with a fresh captcha; the 10th still
				// answers invalid_credentials.
				for i := 4; i <= 10; i++ {
					r := login(t, env, email, "wrong again", newCaptcha(t, env), "test")
					if r.Status != 401 || r.ErrorCode() != "invalid_credentials" || errField(r, "captcha_required") != true {
						t.Fatalf("failure %d: %d %s", i, r.Status, r.Raw)
					}
				}
				until := start.Add(24 * time.Hour)
				for _, tc := range []struct{ name, captcha string }{{"right password with captcha", newCaptcha(t, env)}, {"right password without captcha", ""}} {
					r := login(t, env, email, goodPassword, tc.captcha, "test")
					if r.Status != 423 || r.ErrorCode() != "account_locked" || errField(r, "locked_until") != until.Format(time.RFC3339) {
						t.Fatalf("%s: %d %s", tc.name, r.Status, r.Raw)
					}
					wantRetry := int(until.Sub(env.Clock.Now()).Seconds())
					if got, _ := strconv.Atoi(r.Header.Get("Retry-After")); got < wantRetry || got > wantRetry+1 {
						t.Fatalf("Retry-After = %q, want %d", r.Header.Get("Retry-After"), wantRetry)
					}
				}
				env.Clock.Set(until.Add(-time.Second))
				if r := login(t, env, email, goodPassword, newCaptcha(t, env), "test"); r.Status != 423 {
					t.Fatalf("at 23:59:59: %d %s", r.Status, r.Raw)
				}
				env.Clock.Set(until)
				r = login(t, env, email, goodPassword, "", "")
				if email == "lena@example.com" && r.Status != 200 {
					t.Fatalf("at 24:00:00: %d %s", r.Status, r.Raw)
				}
				if email == "ghost@example.com" && (r.Status != 401 || errField(r, "captcha_required") != false) {
					t.Fatalf("at 24:00:00, unknown email: %d %s", r.Status, r.Raw)
				}
			})
		}
		msgs := env.Messages(t, "lena@example.com")
		if len(msgs) == 0 || msgs[0].Purpose != "account_locked" {
			t.Fatalf("no lock notice was sent: %+v", msgs)
		}
		tok := env.Login(t, "lena@example.com", goodPassword)
		types := map[string]int{}
		for _, e := range env.Do(t, "GET", "/api/v1/activity", tok, nil).Body["events"].([]any) {
			types[e.(map[string]any)["type"].(string)]++
		}
		if types["login.failure"] != 10 || types["login.locked"] != 1 || types["login.refused"] < 5 {
			t.Fatalf("activity counts = %v", types)
		}
	})
}

func TestSuccessInsideSeriesKeepsCount(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	env.SignUp(t, "mia@example.com", goodPassword)
	for i := 0; i < 3; i++ {
		login(t, env, "mia@example.com", "wrong password", "", "")
	}
	if r := login(t, env, "mia@example.com", goodPassword, newCaptcha(t, env), "test"); r.Status != 200 {
		t.Fatalf("right password with captcha: %d %s", r.Status, r.Raw)
	}
	if r := login(t, env, "mia@example.com", goodPassword, "", ""); r.ErrorCode() != "captcha_required" {
		t.Fatalf("a success erased the series: %d %s", r.Status, r.Raw)
	}
	if err := env.App.Auth.Unlock(context.Background(), custos.EmailLogin("MIA@example.com"), "test-operator"); err != nil {
		t.Fatal(err)
	}
	if r := login(t, env, "mia@example.com", goodPassword, "", ""); r.Status != 200 {
		t.Fatalf("after unlock: %d %s", r.Status, r.Raw)
	}
}

// TestConcurrentWrongPasswordsSQLite: 200 wrong passwords at once on one
// identifier, each with a solved captcha, in one process on SQLite: exactly
// ten are checked and counted, the rest are refused as locked.
func TestConcurrentWrongPasswordsSQLite(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	env.SignUp(t, "nora@example.com", goodPassword)
	captchas := make([]string, 200)
	for i := range captchas {
		captchas[i] = newCaptcha(t, env)
	}
	hashesBefore := env.App.Hasher.Hashes()
	var mu sync.Mutex
	answers := map[string]int{}
	var wg sync.WaitGroup
	for _, c := range captchas {
		wg.Add(1)
		go func(c string) {
			defer wg.Done()
			r := login(t, env, "nora@example.com", "not her password", c, "test")
			mu.Lock()
			answers[strconv.Itoa(r.Status)+" "+r.ErrorCode()]++
			mu.Unlock()
		}(c)
	}
	wg.Wait()
	if answers["401 invalid_credentials"] != 10 || answers["423 account_locked"] != 190 || len(answers) != 2 {
		t.Fatalf("answers = %v, want 10 invalid_credentials and 190 account_locked", answers)
	}
	if n := env.App.Hasher.Hashes() - hashesBefore; n != 10 {
		t.Fatalf("%d passwords were hashed, want 10", n)
	}
	c, err := env.App.Store.GetCounter(context.Background(), env.App.LoginKeys.Counter(custos.EmailLogin("nora@example.com")))
	if err != nil || c.Failures != 10 || c.LockedUntil.IsZero() {
		t.Fatalf("counter = %+v, %v; want 10 failures, locked", c, err)
	}
	if r := login(t, env, "nora@example.com", goodPassword, newCaptcha(t, env), "test"); r.Status != 423 {
		t.Fatalf("right password after the race: %d %s", r.Status, r.Raw)
	}
}

// TestSourceThrottle: failures from one address across many identifiers
// need a captcha after 30 and are refused with 429 after 100.
func TestSourceThrottle(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	for i := 1; i <= 30; i++ {
		r := login(t, env, "user"+strconv.Itoa(i)+"@example.com", "wrong password", "", "")
		if r.ErrorCode() != "invalid_credentials" {
			t.Fatalf("failure %d: %d %s", i, r.Status, r.Raw)
		}
	}
	if r := login(t, env, "fresh@example.com", "wrong password", "", ""); r.ErrorCode() != "captcha_required" {
		t.Fatalf("31st from one address without captcha: %d %s", r.Status, r.Raw)
	}
	for i := 31; i <= 100; i++ {
		r := login(t, env, "user"+strconv.Itoa(i)+"@example.com", "wrong password", newCaptcha(t, env), "test")
		if r.ErrorCode() != "invalid_credentials" {
			t.Fatalf("failure %d: %d %s", i, r.Status, r.Raw)
		}
	}
	r := login(t, env, "other@example.com", "whatever pass", newCaptcha(t, env), "test")
	if r.Status != 429 || r.ErrorCode() != "too_many_requests" || r.Header.Get("Retry-After") != "900" {
		t.Fatalf("after 100: %d %s Retry-After=%q", r.Status, r.Raw, r.Header.Get("Retry-After"))
	}
	env.Clock.Advance(15 * time.Minute)
	if r := login(t, env, "other@example.com", "whatever pass", "", ""); r.ErrorCode() != "invalid_credentials" {
		t.Fatalf("after the block: %d %s", r.Status, r.Raw)
	}
}

func TestCaptchaEndpoints(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	id := newCaptcha(t, env)
	for _, tc := range []struct{ path, ctype string }{
		{"/api/v1/captcha/" + id + "/image", "image/png"},
		{"/api/v1/captcha/" + id + "/audio", "audio/wav"},
	} {
		resp, err := env.Client.Get(env.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != tc.ctype || resp.ContentLength == 0 {
			t.Fatalf("%s: %d %s", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	if r := env.Do(t, "GET", "/api/v1/captcha/cap_nope/image", "", nil); r.Status != 404 || r.ErrorCode() != "not_found" {
		t.Fatalf("unknown captcha: %d %s", r.Status, r.Raw)
	}
	if r := env.Do(t, "POST", "/api/v1/captcha", "", `{"x":1}`); r.Status != 400 {
		t.Fatalf("captcha with a body: %d %s", r.Status, r.Raw)
	}
}
