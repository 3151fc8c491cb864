package api_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/custos/custos/internal/testserver"
)

// TestAccountLanguage: PUT /api/v1/account/language saves the holder's
// language (204), refuses a tag no catalogue has (400 invalid_language)
// and a missing session (401); a notice sent later is written in the
// saved language, while a code follows the language of the request that
// asked for it (Accept-Language). That a notice of an account with no
// saved language follows its request is the queue's TestLanguageTravels.
func TestAccountLanguage(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	env.SignUp(t, "lang@example.com", goodPassword)
	tok := env.Login(t, "lang@example.com", goodPassword)

	if r := env.Do(t, "PUT", "/api/v1/account/language", "", map[string]string{"language": "zh-CN"}); r.Status != 401 {
		t.Fatalf("without a session: %d %s", r.Status, r.Raw)
	}
	for _, bad := range []string{"fr", "", "no such tag!", "x-klingon"} {
		r := env.Do(t, "PUT", "/api/v1/account/language", tok, map[string]string{"language": bad})
		if r.Status != 400 || r.ErrorCode() != "invalid_language" {
			t.Errorf("language %q: %d %s, want 400 invalid_language", bad, r.Status, r.Raw)
		}
	}
	if r := env.Do(t, "PUT", "/api/v1/account/language", tok, map[string]string{"language": "zh-CN", "other": "x"}); r.Status != 400 || r.ErrorCode() != "invalid_request" {
		t.Errorf("an unknown field: %d %s", r.Status, r.Raw)
	}
	if r := env.Do(t, "PUT", "/api/v1/account/language", tok, map[string]string{"language": "zh-Hans"}); r.Status != 204 {
		t.Fatalf("save zh-Hans: %d %s", r.Status, r.Raw)
	}

	// The verification code is for the person at the screen: the request
	// asked in English (no Accept-Language), so it is English.
	verifyBy(t, env, tok, "email", "lang@example.com")
	if m := env.Messages(t, "lang@example.com"); m[0].Purpose != "verification_code" || !strings.Contains(m[0].Text, "expires in") {
		t.Fatalf("the code without Accept-Language: %+v", m[0])
	}
	if r := env.Do(t, "PUT", "/api/v1/account/password", tok, map[string]string{"password": "a fresh new passphrase"}); r.Status != 200 {
		t.Fatalf("change: %d %s", r.Status, r.Raw)
	}
	m := env.Messages(t, "lang@example.com")[0]
	if m.Purpose != "password_changed" || !strings.Contains(m.Subject, "密码已修改") {
		t.Fatalf("the notice after saving zh-Hans is not in Simplified Chinese: %q / %q", m.Subject, m.Text)
	}

	tok = env.Login(t, "lang@example.com", "a fresh new passphrase")
	if r := env.Do(t, "PUT", "/api/v1/account/language", tok, map[string]string{"language": "en-GB"}); r.Status != 204 {
		t.Fatalf("save en-GB: %d %s", r.Status, r.Raw)
	}

	// An account with no saved language: a code asked for with
	// Accept-Language zh-CN is Chinese; a notice follows the language of
	// the request that caused it.
	env.SignUp(t, "other@example.com", goodPassword)
	other := env.Login(t, "other@example.com", goodPassword)
	do := func(method, path, lang, body string) int {
		t.Helper()
		req, err := http.NewRequest(method, env.URL+path, bytes.NewReader([]byte(body)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+other)
		req.Header.Set("Accept-Language", lang)
		resp, err := env.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := do("POST", "/api/v1/verifications", "zh-CN,zh;q=0.9,en;q=0.5", `{"method":"email"}`); s != 201 {
		t.Fatalf("start a verification: %d", s)
	}
	m = env.Messages(t, "other@example.com")[0]
	if m.Purpose != "verification_code" || !strings.Contains(m.Text, "分钟内有效") {
		t.Fatalf("the code asked for in zh-CN is not Chinese: %q", m.Text)
	}
}
