package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/custos/custos/internal/testserver"
)

// wantInvalid fails unless r is 400 invalid_request naming field ("" for
// none).
func wantInvalid(t *testing.T, what string, r testserver.Response, field string) {
	t.Helper()
	e, _ := r.Body["error"].(map[string]any)
	got, _ := e["field"].(string)
	if r.Status != http.StatusBadRequest || r.ErrorCode() != "invalid_request" || got != field {
		t.Errorf("%s: %d %s, want 400 invalid_request with field %q", what, r.Status, r.Raw, field)
	}
}

// TestNULAndInvalidUTF8Refused: a NUL (\u0000 in a JSON string, %00 in a
// path or query value) or invalid UTF-8 is refused with 400 invalid_request
// on every endpoint, before the store sees it; PostgreSQL text can hold
// neither, and answered them with a 500.
func TestNULAndInvalidUTF8Refused(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		env.SignUp(t, "nul@example.com", goodPassword)
		token := env.Login(t, "nul@example.com", goodPassword)

		const nul, bad = `a\u0000b`, "a\xffb"
		bodies := []struct {
			method, path string
			authed       bool
			body         string // holds %s where the bad text goes
			field        string
		}{
			{"POST", "/api/v1/signup", false, `{"email":"%s","password":"x","kind":"personal"}`, "email"},
			{"POST", "/api/v1/signup", false, `{"email":"a@b.co","password":"x","kind":"%s"}`, "kind"},
			{"POST", "/api/v1/signup/verify", false, `{"verification_id":"%s","code":"123456"}`, "verification_id"},
			{"POST", "/api/v1/login", false, `{"email":"%s","password":"x"}`, "email"},
			{"POST", "/api/v1/login", false, `{"email":"nul@example.com","password":"%s"}`, "password"},
			{"POST", "/api/v1/login", false, `{"email":"a@b.co","password":"x","captcha":{"id":"cap_1","answer":"%s"}}`, "captcha.answer"},
			{"POST", "/api/v1/login/second-factor", false, `{"login_token":"%s","method":"totp","code":"123456"}`, "login_token"},
			{"POST", "/api/v1/login/second-factor/send", false, `{"login_token":"%s","method":"sms"}`, "login_token"},
			{"POST", "/api/v1/login/second-factor/webauthn/begin", false, `{"login_token":"%s"}`, "login_token"},
			{"POST", "/api/v1/login/second-factor/webauthn/finish", false, `{"login_token":"x","assertion_id":"wa_1","credential":{"id":"%s"}}`, "credential.id"},
			{"POST", "/api/v1/retrieve", false, `{"phone":"%s"}`, "phone"},
			{"POST", "/api/v1/retrieve/ret_1", false, `{"code":"%s"}`, "code"},
			{"POST", "/api/v1/password-reset", false, `{"email":"%s"}`, "email"},
			{"POST", "/api/v1/password-reset/rec_1", false, `{"code":"%s"}`, "code"},
			{"POST", "/api/v1/password-reset/rec_1/complete", false, `{"account_id":"%s","password":"x"}`, "account_id"},
			{"POST", "/api/v1/undo", false, `{"token":"%s"}`, "token"},
			{"POST", "/api/v1/verifications", true, `{"method":"%s"}`, "method"},
			{"POST", "/api/v1/verifications/ver_1", true, `{"code":"%s"}`, "code"},
			{"PUT", "/api/v1/account/password", true, `{"password":"%s"}`, "password"},
			{"POST", "/api/v1/account/email", true, `{"email":"%s"}`, "email"},
			{"POST", "/api/v1/account/phone", true, `{"phone":"%s"}`, "phone"},
			{"POST", "/api/v1/account/secure-email", true, `{"email":"%s"}`, "email"},
			{"POST", "/api/v1/account/email/chg_1", true, `{"code":"%s"}`, "code"},
			{"POST", "/api/v1/mfa/totp", true, `{"name":"%s"}`, "name"},
			{"PATCH", "/api/v1/mfa/dev_1", true, `{"name":"%s"}`, "name"},
		}
		for _, b := range bodies {
			tok := ""
			if b.authed {
				tok = token
			}
			for _, text := range []string{nul, bad} {
				body := strings.Replace(b.body, "%s", text, 1)
				wantInvalid(t, b.method+" "+b.path+" "+body, env.Do(t, b.method, b.path, tok, body), b.field)
			}
		}

		paths := []struct {
			method, path string
			body         string
		}{
			{"DELETE", "/api/v1/sessions/%s", ""},
			{"POST", "/api/v1/verifications/%s", `{"code":"123456"}`},
			{"POST", "/api/v1/mfa/totp/%s/confirm", `{"code":"123456"}`},
			{"POST", "/api/v1/mfa/hardware/%s/resync", `{"code1":"123456","code2":"654321"}`},
			{"PATCH", "/api/v1/mfa/%s", `{"name":"x"}`},
			{"DELETE", "/api/v1/mfa/%s", ""},
			{"POST", "/api/v1/account/phone/%s", `{"code":"123456"}`},
			{"POST", "/api/v1/account/email/%s", `{"code":"123456"}`},
			{"POST", "/api/v1/account/secure-email/%s", `{"code":"123456"}`},
			{"POST", "/api/v1/retrieve/%s", `{"code":"123456"}`},
			{"POST", "/api/v1/password-reset/%s", `{"code":"123456"}`},
			{"POST", "/api/v1/password-reset/%s/complete", `{"account_id":"acc_1","password":"x"}`},
			{"GET", "/api/v1/captcha/%s/image", ""},
			{"GET", "/api/v1/captcha/%s/audio", ""},
		}
		for _, p := range paths {
			for _, text := range []string{"a%00b", "a%FFb"} {
				path := strings.Replace(p.path, "%s", text, 1)
				var body any
				if p.body != "" {
					body = p.body
				}
				wantInvalid(t, p.method+" "+path, env.Do(t, p.method, path, token, body), "")
			}
		}

		for _, q := range []string{"?x=a%00b", "?x=a%FFb", "?x=1&x=a%00b"} {
			wantInvalid(t, "GET /api/v1/session"+q, env.Do(t, "GET", "/api/v1/session"+q, token, nil), "x")
		}
		wantInvalid(t, "a NUL in the query key", env.Do(t, "GET", "/api/v1/session?a%00b=1", token, nil), "")

		// The pages' query values too, answered as text.
		for _, path := range []string{"/signup/verify?id=a%00b", "/undo?token=a%FFb", "/login?email=a%00b", "/forgot-password/a%00b"} {
			resp, err := env.Client.Get(env.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("GET %s: %d, want 400", path, resp.StatusCode)
			}
		}

		// What is clean still works, the session included.
		if r := env.Do(t, "GET", "/api/v1/session?x=%E4%BD%A0", token, nil); r.Status != http.StatusOK {
			t.Errorf("session with a clean query: %d %s", r.Status, r.Raw)
		}
		if r := env.Do(t, "POST", "/api/v1/login", "", `{"email":"nul@example.com","password":"`+goodPassword+`"}`); r.Status != http.StatusOK {
			t.Errorf("login: %d %s", r.Status, r.Raw)
		}
	})
}

// TestUserAgentInvalidUTF8: a User-Agent is not ours to refuse; invalid
// UTF-8 in it is replaced, so the session it is stored with is created
// (PostgreSQL refused it, and login answered 500).
func TestUserAgentInvalidUTF8(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		env.SignUp(t, "agent@example.com", goodPassword)
		req, _ := http.NewRequest("POST", env.URL+"/api/v1/login", strings.NewReader(`{"email":"agent@example.com","password":"`+goodPassword+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "Agent\xff/1.0")
		resp, err := env.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("login with invalid UTF-8 in the User-Agent: %d", resp.StatusCode)
		}
		token := env.Login(t, "agent@example.com", goodPassword)
		r := env.Do(t, "GET", "/api/v1/sessions", token, nil)
		if !strings.Contains(string(r.Raw), "Agent\ufffd/1.0") && !strings.Contains(string(r.Raw), `Agent\ufffd/1.0`) {
			t.Errorf("sessions do not show the agent with U+FFFD: %s", r.Raw)
		}
	})
}

// TestDuplicateAndCaseFoldedKeys: a member named twice, or in another
// letter case, is refused instead of the last one winning; the other
// errors keep their shape.
func TestDuplicateAndCaseFoldedKeys(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	env.SignUp(t, "dup@example.com", goodPassword)
	tests := []struct {
		name, path, body string
		status           int
		field            string
	}{
		{"same key twice", "/api/v1/login", `{"email":"a@b.co","email":"dup@example.com","password":"` + goodPassword + `"}`, 400, "email"},
		{"same key twice, same value", "/api/v1/login", `{"email":"dup@example.com","email":"dup@example.com","password":"` + goodPassword + `"}`, 400, "email"},
		{"key in another case", "/api/v1/login", `{"email":"a@b.co","Email":"dup@example.com","password":"` + goodPassword + `"}`, 400, "Email"},
		{"only in another case", "/api/v1/login", `{"EMAIL":"dup@example.com","password":"` + goodPassword + `"}`, 400, "EMAIL"},
		{"escaped spelling of the same key", "/api/v1/login", `{"email":"a@b.co","\u0065mail":"dup@example.com","password":"` + goodPassword + `"}`, 400, "email"},
		{"nested key twice", "/api/v1/login", `{"email":"dup@example.com","password":"x","captcha":{"id":"a","id":"b","answer":"c"}}`, 400, "captcha.id"},
		{"nested key in another case", "/api/v1/login", `{"email":"dup@example.com","password":"x","captcha":{"Id":"a","answer":"c"}}`, 400, "Id"},
		{"signup key twice", "/api/v1/signup", `{"email":"x@example.com","password":"` + goodPassword + `","kind":"personal","kind":"enterprise"}`, 400, "kind"},
		// Unchanged: unknown fields, wrong types, malformed bodies, size.
		{"unknown field", "/api/v1/login", `{"email":"a@b.co","extra":true}`, 400, "extra"},
		{"wrong type", "/api/v1/login", `{"email":5}`, 400, "email"},
		{"wrong type, nested", "/api/v1/login", `{"email":"a@b.co","captcha":{"id":5}}`, 400, "captcha.id"},
		{"not an object", "/api/v1/login", `["email"]`, 400, ""},
		{"malformed", "/api/v1/login", `{"email":`, 400, ""},
		{"trailing data", "/api/v1/login", `{} {}`, 400, ""},
		{"empty", "/api/v1/login", ``, 400, ""},
		{"too large", "/api/v1/login", `{"email":"` + strings.Repeat("a", 70<<10) + `"}`, 413, ""},
		{"the right body", "/api/v1/login", `{"email":"dup@example.com","password":"` + goodPassword + `"}`, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := env.Do(t, "POST", tt.path, "", tt.body)
			switch tt.status {
			case 400:
				wantInvalid(t, tt.body, r, tt.field)
			case 413:
				if r.Status != 413 || r.ErrorCode() != "request_too_large" {
					t.Errorf("%d %s, want 413 request_too_large", r.Status, r.Raw)
				}
			default:
				if r.Status != tt.status {
					t.Errorf("%d %s, want %d", r.Status, r.Raw, tt.status)
				}
			}
		})
	}
}
