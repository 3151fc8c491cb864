package api_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/internal/testserver"
)

// FuzzJSONBodies throws arbitrary bodies at every JSON endpoint, on every
// test database (PostgreSQL too when CUSTOS_TEST_POSTGRES is set, as in
// CI): the answer is always a 4xx (or a success), never a 5xx or a panic.
// PostgreSQL is the stricter store (no NUL, no invalid UTF-8 in text), so
// what it would refuse must be refused before it.
func FuzzJSONBodies(f *testing.F) {
	for _, seed := range []string{
		`{"email":"a@b.co","password":"x","kind":"personal"}`,
		`{"verification_id":"ver_1","code":"123456"}`,
		`{"email":"a@b.co","password":"x","captcha":{"id":"c","answer":"a"}}`,
		`{"email":null}`, `[]`, `""`, `{"a":`, "\x00", `{"email":"\ud800"}`,
		`{"phone":"+8613800138000","captcha":{"id":"cap_1","answer":"test"}}`,
		`{"login_token":"` + strings.Repeat("A", 43) + `","method":"totp","code":"123456"}`,
		`{"login_token":"x","assertion_id":"wa_1","credential":{"id":"AA","response":{}}}`,
		`{"email":"a\u0000@b.co","password":"x"}`, `{"verification_id":"ver_\u0000","code":"1"}`,
		"{\"email\":\"a\xff@b.co\",\"password\":\"x\"}", `{"token":"\\u0000"}`,
		`{"email":"a@b.co","email":"b@b.co"}`, `{"email":"a@b.co","Email":"b@b.co"}`,
		`{"account_id":"acc_\u0000","password":"x"}`, `{"login_token":"x","method":"sms\u0000"}`,
	} {
		f.Add([]byte(seed))
	}
	var handlers []http.Handler
	for _, d := range testdb.Dialects() {
		handlers = append(handlers, testserver.Start(f, testserver.Options{Dialect: d}).App.Handler)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, h := range handlers {
			for _, path := range []string{"/api/v1/signup", "/api/v1/signup/verify", "/api/v1/login",
				"/api/v1/login/second-factor", "/api/v1/login/second-factor/send", "/api/v1/login/second-factor/webauthn/begin",
				"/api/v1/login/second-factor/webauthn/finish", "/api/v1/retrieve", "/api/v1/retrieve/ret_x",
				"/api/v1/password-reset", "/api/v1/password-reset/rec_x", "/api/v1/password-reset/rec_x/complete",
				"/api/v1/undo", "/api/v1/captcha"} {
				req := httptest.NewRequest("POST", path, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code >= 500 {
					t.Fatalf("%s answered %d to %q: %s", path, rec.Code, body, rec.Body.String())
				}
			}
		}
	})
}
