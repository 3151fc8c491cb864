package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/internal/testserver"
)

const goodPassword = "correct horse battery staple"

func forEachDialect(t *testing.T, f func(t *testing.T, env *testserver.Env)) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			f(t, testserver.Start(t, testserver.Options{Dialect: d}))
		})
	}
}

func TestSignupLoginSessionLogout(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		r := env.Do(t, "POST", "/api/v1/signup", "", map[string]string{"email": " Alice@Example.com ", "password": goodPassword, "kind": "enterprise"})
		if r.Status != http.StatusAccepted || r.String("verification_id") == "" {
			t.Fatalf("signup: %d %s", r.Status, r.Raw)
		}
		vid := r.String("verification_id")
		code := env.Code(t, "alice@example.com", "signup_code")

		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		if r := env.Do(t, "POST", "/api/v1/signup/verify", "", map[string]string{"verification_id": vid, "code": wrong}); r.Status != 422 || r.ErrorCode() != "invalid_code" {
			t.Fatalf("wrong code: %d %s", r.Status, r.Raw)
		}
		v := env.Do(t, "POST", "/api/v1/signup/verify", "", map[string]string{"verification_id": vid, "code": code})
		if v.Status != http.StatusCreated || !strings.HasPrefix(v.String("account_id"), "acc_") {
			t.Fatalf("verify: %d %s", v.Status, v.Raw)
		}
		accountID := v.String("account_id")
		if r := env.Do(t, "POST", "/api/v1/signup/verify", "", map[string]string{"verification_id": vid, "code": code}); r.Status != 410 || r.ErrorCode() != "expired" {
			t.Fatalf("code reused: %d %s", r.Status, r.Raw)
		}

		for _, tc := range []struct{ name, email, pw string }{
			{"wrong password", "alice@example.com", "not the password at all"},
			{"unknown email", "nobody@example.com", goodPassword},
		} {
			r := env.Do(t, "POST", "/api/v1/login", "", map[string]string{"email": tc.email, "password": tc.pw})
			if r.Status != 401 || r.ErrorCode() != "invalid_credentials" {
				t.Fatalf("%s: %d %s", tc.name, r.Status, r.Raw)
			}
			if e := r.Body["error"].(map[string]any); e["captcha_required"] != false {
				t.Fatalf("%s: captcha_required = %v, want false", tc.name, e["captcha_required"])
			}
		}

		login := env.Do(t, "POST", "/api/v1/login", "", map[string]string{"email": "ALICE@example.com", "password": goodPassword})
		if login.Status != 200 || login.String("account_id") != accountID || len(login.String("session_token")) != 43 {
			t.Fatalf("login: %d %s", login.Status, login.Raw)
		}
		exp, err := time.Parse(time.RFC3339, login.String("expires_at"))
		if err != nil || !exp.Equal(env.Clock.Now().Add(30*time.Minute)) {
			t.Fatalf("expires_at = %q, want now+30m", login.String("expires_at"))
		}
		token := login.String("session_token")

		s := env.Do(t, "GET", "/api/v1/session", token, nil)
		if s.Status != 200 || s.String("account_id") != accountID || s.Body["second_factor"] != false || s.Body["verified_until"] != nil {
			t.Fatalf("session: %d %s", s.Status, s.Raw)
		}
		a := env.Do(t, "GET", "/api/v1/account", token, nil)
		if a.Status != 200 || a.String("account_email") != "alice@example.com" || a.String("kind") != "enterprise" || a.Body["phone"] != nil {
			t.Fatalf("account: %d %s", a.Status, a.Raw)
		}
		act := env.Do(t, "GET", "/api/v1/activity", token, nil)
		var types []string
		for _, e := range act.Body["events"].([]any) {
			types = append(types, e.(map[string]any)["type"].(string))
		}
		if got := strings.Join(types, ","); got != "login.success,login.failure,signup" {
			t.Fatalf("activity = %s", got)
		}

		if r := env.Do(t, "DELETE", "/api/v1/session", token, nil); r.Status != 204 {
			t.Fatalf("logout: %d %s", r.Status, r.Raw)
		}
		if r := env.Do(t, "GET", "/api/v1/session", token, nil); r.Status != 401 || r.ErrorCode() != "unauthenticated" {
			t.Fatalf("after logout: %d %s", r.Status, r.Raw)
		}
	})
}

func TestSignupExistingEmailLooksTheSame(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		env.SignUp(t, "bob@example.com", goodPassword)
		// Past the minute in which a second code to one address waits (for
		// an address with an account as for one without).
		env.Clock.Advance(time.Minute)
		r := env.Do(t, "POST", "/api/v1/signup", "", map[string]string{"email": "bob@example.com", "password": "another fine passphrase", "kind": "personal"})
		if r.Status != http.StatusAccepted || r.String("verification_id") == "" {
			t.Fatalf("signup of a taken email: %d %s", r.Status, r.Raw)
		}
		msgs := env.Messages(t, "bob@example.com")
		if len(msgs) != 2 || msgs[0].Purpose != "signup_exists" || msgs[0].Code != "" {
			t.Fatalf("newest message = %+v, want a signup_exists notice without a code", msgs[0])
		}
		// No code can prove it: five wrong tries, then it is dead.
		for i := 0; i < 5; i++ {
			if v := env.Do(t, "POST", "/api/v1/signup/verify", "", map[string]string{"verification_id": r.String("verification_id"), "code": "123456"}); v.Status != 422 {
				t.Fatalf("try %d: %d %s", i+1, v.Status, v.Raw)
			}
		}
		if v := env.Do(t, "POST", "/api/v1/signup/verify", "", map[string]string{"verification_id": r.String("verification_id"), "code": "123456"}); v.Status != 410 {
			t.Fatalf("sixth try: %d %s", v.Status, v.Raw)
		}
	})
}

func TestSignupCodeLimits(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	start := func(email string) (string, string) {
		r := env.Do(t, "POST", "/api/v1/signup", "", map[string]string{"email": email, "password": goodPassword, "kind": "personal"})
		if r.Status != 202 {
			t.Fatalf("signup: %d %s", r.Status, r.Raw)
		}
		return r.String("verification_id"), env.Code(t, email, "signup_code")
	}
	t.Run("five wrong codes kill it", func(t *testing.T) {
		vid, code := start("carol@example.com")
		wrong := "999999"
		if code == wrong {
			wrong = "999998"
		}
		for i := 1; i <= 5; i++ {
			if r := env.Do(t, "POST", "/api/v1/signup/verify", "", map[string]string{"verification_id": vid, "code": wrong}); r.Status != 422 || r.ErrorCode() != "invalid_code" {
				t.Fatalf("wrong code %d: %d %s", i, r.Status, r.Raw)
			}
		}
		if r := env.Do(t, "POST", "/api/v1/signup/verify", "", map[string]string{"verification_id": vid, "code": code}); r.Status != 410 || r.ErrorCode() != "expired" {
			t.Fatalf("right code after five wrong: %d %s", r.Status, r.Raw)
		}
	})
	t.Run("ten minutes kill it", func(t *testing.T) {
		vid, code := start("dave@example.com")
		env.Clock.Advance(10 * time.Minute)
		if r := env.Do(t, "POST", "/api/v1/signup/verify", "", map[string]string{"verification_id": vid, "code": code}); r.Status != 410 {
			t.Fatalf("after 10 minutes: %d %s", r.Status, r.Raw)
		}
	})
	t.Run("unknown id", func(t *testing.T) {
		if r := env.Do(t, "POST", "/api/v1/signup/verify", "", map[string]string{"verification_id": "ver_nope", "code": "123456"}); r.Status != 410 {
			t.Fatalf("unknown id: %d %s", r.Status, r.Raw)
		}
	})
}

func TestSignupRejects(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	tests := []struct {
		name, email, pw, kind string
		status                int
		code, reason          string
	}{
		{"short password", "e@example.com", "short", "personal", 422, "weak_password", "too_short"},
		{"common password", "e@example.com", "password123", "personal", 422, "weak_password", "common"},
		{"contains local part", "everett@example.com", "everett-rules-ok", "personal", 422, "weak_password", "contains_email"},
		{"too long", "e@example.com", strings.Repeat("x", 129), "personal", 422, "weak_password", "too_long"},
		{"bad email", "not-an-email", goodPassword, "personal", 422, "invalid_email", ""},
		{"bad kind", "e@example.com", goodPassword, "robot", 400, "invalid_request", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := env.Do(t, "POST", "/api/v1/signup", "", map[string]string{"email": tt.email, "password": tt.pw, "kind": tt.kind})
			if r.Status != tt.status || r.ErrorCode() != tt.code {
				t.Fatalf("got %d %s, want %d %s", r.Status, r.Raw, tt.status, tt.code)
			}
			if tt.reason != "" {
				if got := r.Body["error"].(map[string]any)["reason"]; got != tt.reason {
					t.Fatalf("reason = %v, want %s", got, tt.reason)
				}
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	huge := `{"email":"` + strings.Repeat("a", 70<<10) + `"}`
	bodies := []struct {
		name, contentType, body string
		status                  int
		code                    string
	}{
		{"wrong content type", "text/plain", `{}`, 415, "unsupported_media_type"},
		{"no content type", "", `{}`, 415, "unsupported_media_type"},
		{"form content type", "application/x-www-form-urlencoded", `a=b`, 415, "unsupported_media_type"},
		{"unknown field", "application/json", `{"nope": 1}`, 400, "invalid_request"},
		{"malformed", "application/json", `{"email": `, 400, "invalid_request"},
		{"not json", "application/json", `hello`, 400, "invalid_request"},
		{"empty", "application/json", ``, 400, "invalid_request"},
		{"array", "application/json", `[1,2]`, 400, "invalid_request"},
		{"wrong type", "application/json", `{"email": 5}`, 400, "invalid_request"},
		{"two objects", "application/json", `{} {}`, 400, "invalid_request"},
		{"too large", "application/json", huge, 413, "request_too_large"},
		{"too large after a small object", "application/json", `{}` + strings.Repeat(" ", 70<<10), 413, "request_too_large"},
		{"charset is fine but body is not", "application/json; charset=utf-8", `{"email": 5}`, 400, "invalid_request"},
	}
	for _, path := range []string{"/api/v1/signup", "/api/v1/signup/verify", "/api/v1/login"} {
		for _, b := range bodies {
			t.Run(path+"/"+b.name, func(t *testing.T) {
				req, _ := http.NewRequest("POST", env.URL+path, strings.NewReader(b.body))
				if b.contentType != "" {
					req.Header.Set("Content-Type", b.contentType)
				}
				resp, err := env.Client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != b.status {
					t.Fatalf("status = %d, want %d", resp.StatusCode, b.status)
				}
			})
		}
	}
	t.Run("error body shape", func(t *testing.T) {
		r := env.Do(t, "POST", "/api/v1/login", "", `{"email":"a@b.c","extra":true}`)
		e, _ := r.Body["error"].(map[string]any)
		if r.Status != 400 || e["code"] != "invalid_request" || e["message"] == "" || e["field"] != "extra" {
			t.Fatalf("got %d %s", r.Status, r.Raw)
		}
	})
	t.Run("unknown endpoint is JSON 404", func(t *testing.T) {
		if r := env.Do(t, "GET", "/api/v1/nope", "", nil); r.Status != 404 || r.ErrorCode() != "not_found" {
			t.Fatalf("got %d %s", r.Status, r.Raw)
		}
	})
	t.Run("bearer garbage", func(t *testing.T) {
		for _, tok := range []string{"x", strings.Repeat("A", 43), strings.Repeat("é", 100)} {
			if r := env.Do(t, "GET", "/api/v1/session", tok, nil); r.Status != 401 || r.ErrorCode() != "unauthenticated" {
				t.Fatalf("token %q: %d %s", tok, r.Status, r.Raw)
			}
		}
		req, _ := http.NewRequest("GET", env.URL+"/api/v1/session", nil)
		req.Header.Set("Authorization", "Basic Zm9vOmJhcg==")
		resp, _ := env.Client.Do(req)
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Fatalf("basic auth: %d", resp.StatusCode)
		}
	})
}
