package api_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custos/custos/internal/testclock"
	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/internal/testserver"
)

const (
	phoneA = "+8613800138000"
	phoneB = "+8613900139000"
)

// bindPhone binds a number for the session (already verified if needed).
func bindPhone(t *testing.T, env *testserver.Env, token, number string) testserver.Response {
	t.Helper()
	r := env.Do(t, "POST", "/api/v1/account/phone", token, map[string]string{"phone": number})
	if r.Status != http.StatusAccepted || r.String("change_id") == "" {
		t.Fatalf("start phone change: %d %s", r.Status, r.Raw)
	}
	return env.Do(t, "POST", "/api/v1/account/phone/"+r.String("change_id"), token, map[string]string{"code": env.Code(t, number, "phone_code")})
}

// verifyBy passes a verification with a code sent by method.
func verifyBy(t *testing.T, env *testserver.Env, token, method, to string) {
	t.Helper()
	v := env.Do(t, "POST", "/api/v1/verifications", token, map[string]string{"method": method})
	if v.Status != 201 {
		t.Fatalf("start %s verification: %d %s", method, v.Status, v.Raw)
	}
	if r := env.Do(t, "POST", "/api/v1/verifications/"+v.String("id"), token, map[string]string{"code": env.Code(t, to, "verification_code")}); r.Status != 200 {
		t.Fatalf("%s verification: %d %s", method, r.Status, r.Raw)
	}
}

func undoToken(t *testing.T, text string) string {
	t.Helper()
	i := strings.Index(text, "/undo?token=")
	if i < 0 {
		t.Fatalf("no undo link in %q", text)
	}
	raw := strings.Fields(text[i+len("/undo?token="):])[0]
	tok, err := url.QueryUnescape(strings.TrimRight(raw, ".,"))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestPhoneAndEmailChanges(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		env.SignUp(t, "vera@example.com", goodPassword)
		tok := env.Login(t, "vera@example.com", goodPassword)

		if r := env.Do(t, "POST", "/api/v1/account/phone", tok, map[string]string{"phone": "12345"}); r.Status != 422 || r.ErrorCode() != "invalid_phone" {
			t.Fatalf("bad number: %d %s", r.Status, r.Raw)
		}
		// The first phone needs no verification: the account has no second channel.
		if r := bindPhone(t, env, tok, phoneA); r.Status != 200 || !strings.Contains(r.String("phone"), "****") {
			t.Fatalf("bind first phone: %d %s", r.Status, r.Raw)
		}
		// Now a change needs a verification, by SMS or email.
		r := env.Do(t, "POST", "/api/v1/account/phone", tok, map[string]string{"phone": phoneB})
		if r.Status != 403 || strings.Join(toStrings(errField(r, "methods")), ",") != "sms,email" {
			t.Fatalf("change without verification: %d %s", r.Status, r.Raw)
		}
		verifyBy(t, env, tok, "sms", phoneA)
		if r := bindPhone(t, env, tok, phoneB); r.Status != 200 {
			t.Fatalf("change phone: %d %s", r.Status, r.Raw)
		}
		old := env.Messages(t, phoneA)
		if old[0].Purpose != "phone_changed" || old[0].Channel != "sms" {
			t.Fatalf("old phone not told: %+v", old[0])
		}
		if m := env.Messages(t, "vera@example.com"); m[0].Purpose != "phone_changed" {
			t.Fatalf("account email not told of the phone change: %+v", m[0])
		}
		// A second code to the same number for the same purpose waits a minute.
		r = env.Do(t, "POST", "/api/v1/account/phone", tok, map[string]string{"phone": phoneB})
		if r.Status != 429 || r.Header.Get("Retry-After") == "" {
			t.Fatalf("resend inside the cooldown: %d %s", r.Status, r.Raw)
		}

		// Secure email.
		r = env.Do(t, "POST", "/api/v1/account/secure-email", tok, map[string]string{"email": "Vera.Safe@Example.org"})
		if r.Status != 202 {
			t.Fatalf("secure email: %d %s", r.Status, r.Raw)
		}
		if f := env.Do(t, "POST", "/api/v1/account/secure-email/"+r.String("change_id"), tok, map[string]string{"code": env.Code(t, "vera.safe@example.org", "email_code")}); f.Status != 200 || f.String("secure_email") != "ve***fe@ex***le.org" {
			t.Fatalf("prove secure email: %d %s", f.Status, f.Raw)
		}

		// Account email: the new one logs in, the old one no longer does.
		r = env.Do(t, "POST", "/api/v1/account/email", tok, map[string]string{"email": "vera@new.example.com"})
		if r.Status != 202 {
			t.Fatalf("email change: %d %s", r.Status, r.Raw)
		}
		wrong := env.Do(t, "POST", "/api/v1/account/email/"+r.String("change_id"), tok, map[string]string{"code": "000000x"})
		if wrong.Status != 422 {
			t.Fatalf("wrong code: %d %s", wrong.Status, wrong.Raw)
		}
		if f := env.Do(t, "POST", "/api/v1/account/email/"+r.String("change_id"), tok, map[string]string{"code": env.Code(t, "vera@new.example.com", "email_code")}); f.Status != 200 || f.String("account_email") != "vera@new.example.com" {
			t.Fatalf("prove email: %d %s", f.Status, f.Raw)
		}
		if r := login(t, env, "vera@example.com", goodPassword, "", ""); r.Status != 401 {
			t.Fatalf("old email still logs in: %d %s", r.Status, r.Raw)
		}
		newTok := env.Login(t, "vera@new.example.com", goodPassword)

		// "It wasn't me" from the old address ends every session and
		// requires a password reset.
		notice := env.Messages(t, "vera@example.com")[0]
		if notice.Purpose != "email_changed" {
			t.Fatalf("old address not told: %+v", notice)
		}
		if r := env.Do(t, "POST", "/api/v1/undo", "", map[string]string{"token": undoToken(t, notice.Text)}); r.Status != 200 {
			t.Fatalf("undo: %d %s", r.Status, r.Raw)
		}
		for _, s := range []string{tok, newTok} {
			if r := env.Do(t, "GET", "/api/v1/session", s, nil); r.Status != 401 {
				t.Fatalf("a session survived undo: %d", r.Status)
			}
		}
		if r := login(t, env, "vera@new.example.com", goodPassword, "", ""); r.Status != 401 {
			t.Fatalf("password still works after undo: %d %s", r.Status, r.Raw)
		}
		if r := env.Do(t, "POST", "/api/v1/undo", "", map[string]string{"token": undoToken(t, notice.Text)}); r.Status != 410 {
			t.Fatalf("undo twice: %d %s", r.Status, r.Raw)
		}
	})
}

func TestPhoneBoundToAtMostFiveAccounts(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	for i := 1; i <= 6; i++ {
		email := "w" + strconv.Itoa(i) + "@example.com"
		env.SignUp(t, email, goodPassword)
		tok := env.Login(t, email, goodPassword)
		env.Clock.Advance(time.Minute) // one code a minute per number
		r := bindPhone(t, env, tok, phoneA)
		if i <= 5 && r.Status != 200 {
			t.Fatalf("account %d: %d %s", i, r.Status, r.Raw)
		}
		if i == 6 && (r.Status != 409 || r.ErrorCode() != "conflict") {
			t.Fatalf("sixth account: %d %s", r.Status, r.Raw)
		}
	}
}

func TestRetrieveAccountsByPhone(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		for _, email := range []string{"xena@example.com", "xavier@example.com"} {
			env.SignUp(t, email, goodPassword)
			env.Clock.Advance(time.Minute)
			bindPhone(t, env, env.Login(t, email, goodPassword), phoneA)
		}
		if r := env.Do(t, "POST", "/api/v1/retrieve", "", map[string]string{"phone": phoneA}); r.Status != 401 || r.ErrorCode() != "captcha_required" {
			t.Fatalf("no captcha: %d %s", r.Status, r.Raw)
		}
		start := func(number string) string {
			r := env.Do(t, "POST", "/api/v1/retrieve", "", map[string]any{"phone": number, "captcha": map[string]string{"id": newCaptcha(t, env), "answer": "test"}})
			if r.Status != 202 || r.String("retrieval_id") == "" {
				t.Fatalf("retrieve %s: %d %s", number, r.Status, r.Raw)
			}
			return r.String("retrieval_id")
		}
		env.Clock.Advance(time.Minute)
		id := start(phoneA)
		emptyID := start(phoneB) // no account: the same answer
		r := env.Do(t, "POST", "/api/v1/retrieve/"+id, "", map[string]string{"code": env.Code(t, phoneA, "retrieve_code")})
		accounts, _ := r.Body["accounts"].([]any)
		if r.Status != 200 || len(accounts) != 2 {
			t.Fatalf("retrieve: %d %s", r.Status, r.Raw)
		}
		first := accounts[0].(map[string]any)
		if first["account_email"] != "x***a@ex***le.com" || first["kind"] != "personal" || first["created_at"] == "" {
			t.Fatalf("account shown as %v", first)
		}
		r = env.Do(t, "POST", "/api/v1/retrieve/"+emptyID, "", map[string]string{"code": env.Code(t, phoneB, "retrieve_code")})
		if r.Status != 200 || len(r.Body["accounts"].([]any)) != 0 {
			t.Fatalf("retrieve an unused number: %d %s", r.Status, r.Raw)
		}
		// The proven phone can go on to reset one of the accounts.
		if r := env.Do(t, "POST", "/api/v1/password-reset/"+id+"/complete", "", map[string]string{"account_id": first["account_id"].(string), "password": "a brand new passphrase"}); r.Status != 200 {
			t.Fatalf("reset after retrieval: %d %s", r.Status, r.Raw)
		}
		if r := login(t, env, "xena@example.com", "a brand new passphrase", "", ""); r.Status != 200 {
			if r := login(t, env, "xavier@example.com", "a brand new passphrase", "", ""); r.Status != 200 {
				t.Fatalf("neither account takes the new password")
			}
		}
	})
}

func TestPasswordReset(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		env.SignUp(t, "yara@example.com", goodPassword)
		tok := env.Login(t, "yara@example.com", goodPassword)
		bindPhone(t, env, tok, phoneA)
		// Lock the account: ten wrong passwords.
		for i := 0; i < 10; i++ {
			login(t, env, "yara@example.com", "wrong password", newCaptcha(t, env), "test")
		}
		captcha := func() map[string]string { return map[string]string{"id": newCaptcha(t, env), "answer": "test"} }
		r := env.Do(t, "POST", "/api/v1/password-reset", "", map[string]any{"email": "YARA@example.com", "captcha": captcha()})
		if r.Status != 202 {
			t.Fatalf("start reset: %d %s", r.Status, r.Raw)
		}
		id := r.String("reset_id")
		// The code went to the bound phone.
		p := env.Do(t, "POST", "/api/v1/password-reset/"+id, "", map[string]string{"code": env.Code(t, phoneA, "reset_code")})
		accounts, _ := p.Body["accounts"].([]any)
		if p.Status != 200 || len(accounts) != 1 {
			t.Fatalf("prove reset: %d %s", p.Status, p.Raw)
		}
		acctID := accounts[0].(map[string]any)["account_id"].(string)
		if r := env.Do(t, "POST", "/api/v1/password-reset/"+id+"/complete", "", map[string]string{"account_id": acctID, "password": "short"}); r.Status != 422 || r.ErrorCode() != "weak_password" {
			t.Fatalf("weak new password: %d %s", r.Status, r.Raw)
		}
		if r := env.Do(t, "POST", "/api/v1/password-reset/"+id+"/complete", "", map[string]string{"account_id": acctID, "password": "a brand new passphrase"}); r.Status != 200 {
			t.Fatalf("complete reset: %d %s", r.Status, r.Raw)
		}
		if r := env.Do(t, "GET", "/api/v1/session", tok, nil); r.Status != 401 {
			t.Fatalf("a session survived the reset: %d", r.Status)
		}
		if r := login(t, env, "yara@example.com", "a brand new passphrase", "", ""); r.Status != 200 {
			t.Fatalf("the lock survived the reset: %d %s", r.Status, r.Raw)
		}
		told := map[string]bool{}
		for _, to := range []string{"yara@example.com", phoneA} {
			for _, m := range env.Messages(t, to) {
				if m.Purpose == "password_reset" {
					told[m.Channel] = true
				}
			}
		}
		if !told["email"] || !told["sms"] {
			t.Fatalf("reset notices went to %v, want email and sms", told)
		}
		if r := env.Do(t, "POST", "/api/v1/password-reset/"+id+"/complete", "", map[string]string{"account_id": acctID, "password": "yet another passphrase"}); r.Status != 410 {
			t.Fatalf("reset used twice: %d %s", r.Status, r.Raw)
		}

		// An unknown email answers the same, and its code never proves.
		env.Clock.Advance(time.Minute)
		r = env.Do(t, "POST", "/api/v1/password-reset", "", map[string]any{"email": "nobody@example.com", "captcha": captcha()})
		if r.Status != 202 || r.String("reset_id") == "" {
			t.Fatalf("unknown email: %d %s", r.Status, r.Raw)
		}
		if p := env.Do(t, "POST", "/api/v1/password-reset/"+r.String("reset_id"), "", map[string]string{"code": "123456"}); p.Status != 422 {
			t.Fatalf("unknown email's code: %d %s", p.Status, p.Raw)
		}
	})
}

func TestPasswordResetNeedsMFA(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		env.SignUp(t, "zoe@example.com", goodPassword)
		tok := env.Login(t, "zoe@example.com", goodPassword)
		secret := bindTOTP(t, env, tok)
		r := env.Do(t, "POST", "/api/v1/password-reset", "", map[string]any{"email": "zoe@example.com", "captcha": map[string]string{"id": newCaptcha(t, env), "answer": "test"}})
		id := r.String("reset_id")
		p := env.Do(t, "POST", "/api/v1/password-reset/"+id, "", map[string]string{"code": env.Code(t, "zoe@example.com", "reset_code")})
		acct := p.Body["accounts"].([]any)[0].(map[string]any)
		if acct["needs_mfa"] != true {
			t.Fatalf("account shown as %v", acct)
		}
		body := map[string]string{"account_id": acct["account_id"].(string), "password": "a brand new passphrase"}
		if r := env.Do(t, "POST", "/api/v1/password-reset/"+id+"/complete", "", body); r.Status != 403 || r.ErrorCode() != "verification_required" {
			t.Fatalf("reset without MFA: %d %s", r.Status, r.Raw)
		}
		env.Clock.Advance(30 * time.Second)
		body["mfa_method"], body["mfa_code"] = "totp", totp(env, secret)
		if r := env.Do(t, "POST", "/api/v1/password-reset/"+id+"/complete", "", body); r.Status != 200 {
			t.Fatalf("reset with MFA: %d %s", r.Status, r.Raw)
		}

		// A proven channel buys five MFA guesses, then the reset is dead.
		env.Clock.Advance(time.Minute)
		r = env.Do(t, "POST", "/api/v1/password-reset", "", map[string]any{"email": "zoe@example.com", "captcha": map[string]string{"id": newCaptcha(t, env), "answer": "test"}})
		id = r.String("reset_id")
		env.Do(t, "POST", "/api/v1/password-reset/"+id, "", map[string]string{"code": env.Code(t, "zoe@example.com", "reset_code")})
		body = map[string]string{"account_id": acct["account_id"].(string), "password": "another new passphrase", "mfa_method": "totp", "mfa_code": "000000"}
		if body["mfa_code"] == totp(env, secret) {
			body["mfa_code"] = "111111"
		}
		for i := 1; i <= 5; i++ {
			if r := env.Do(t, "POST", "/api/v1/password-reset/"+id+"/complete", "", body); r.Status != 422 || errField(r, "attempts_left") != float64(5-i) {
				t.Fatalf("wrong MFA code %d: %d %s", i, r.Status, r.Raw)
			}
		}
		body["mfa_code"] = totp(env, secret)
		if r := env.Do(t, "POST", "/api/v1/password-reset/"+id+"/complete", "", body); r.Status != 410 {
			t.Fatalf("after five wrong MFA codes: %d %s", r.Status, r.Raw)
		}
	})
}

// TestSendLimitsAcrossReplicas: the one-a-minute cooldown holds when the
// second request goes to another server sharing the database. Retrieval is
// anonymous, so the refusal is silent: the same 202, and no second text.
func TestSendLimitsAcrossReplicas(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			dsn := testdb.DSN(t, d)
			clock := testclock.New(time.Time{})
			one := testserver.Start(t, testserver.Options{DSN: dsn, Clock: clock})
			two := testserver.Start(t, testserver.Options{DSN: dsn, Clock: clock, Keys: one.Keys})
			send := func(env *testserver.Env) int {
				return env.Do(t, "POST", "/api/v1/retrieve", "", map[string]any{"phone": phoneA, "captcha": map[string]string{"id": newCaptcha(t, env), "answer": "test"}}).Status
			}
			if s := send(one); s != 202 {
				t.Fatalf("first: %d", s)
			}
			// Replicas share where messages go (either's worker may deliver
			// either's message): one outbox, read once.
			texts := func() int { return len(one.Messages(t, phoneA)) }
			if n := texts(); n != 1 {
				t.Fatalf("first: %d texts", n)
			}
			if s := send(two); s != 202 || texts() != 1 {
				t.Fatalf("second on the other replica inside a minute: %d, %d texts; want 202 and no new text", s, texts())
			}
			clock.Advance(time.Minute)
			if s := send(two); s != 202 || texts() != 2 {
				t.Fatalf("after a minute: %d, %d texts", s, texts())
			}
		})
	}
}

func TestChangePasswordAndCodePurposes(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	env.SignUp(t, "abe@example.com", goodPassword)
	tok := env.Login(t, "abe@example.com", goodPassword)
	other := env.Login(t, "abe@example.com", goodPassword)
	if r := env.Do(t, "PUT", "/api/v1/account/password", tok, map[string]string{"password": "a fresh new passphrase"}); r.Status != 403 || r.ErrorCode() != "verification_required" {
		t.Fatalf("change without verification: %d %s", r.Status, r.Raw)
	}
	verifyBy(t, env, tok, "email", "abe@example.com")
	if r := env.Do(t, "PUT", "/api/v1/account/password", tok, map[string]string{"password": "abe"}); r.Status != 422 {
		t.Fatalf("weak password: %d %s", r.Status, r.Raw)
	}
	if r := env.Do(t, "PUT", "/api/v1/account/password", tok, map[string]string{"password": "a fresh new passphrase"}); r.Status != 200 {
		t.Fatalf("change: %d %s", r.Status, r.Raw)
	}
	for _, s := range []string{tok, other} {
		if r := env.Do(t, "GET", "/api/v1/session", s, nil); r.Status != 401 {
			t.Fatalf("a session survived the change: %d", r.Status)
		}
	}
	if m := env.Messages(t, "abe@example.com"); m[0].Purpose != "password_changed" {
		t.Fatalf("no notice: %+v", m[0])
	}
	tok = env.Login(t, "abe@example.com", "a fresh new passphrase")

	// A code serves only its own purpose: a phone change's id and code do
	// not prove a retrieval, and a used code does not prove twice.
	r := env.Do(t, "POST", "/api/v1/account/phone", tok, map[string]string{"phone": phoneA})
	code := env.Code(t, phoneA, "phone_code")
	if p := env.Do(t, "POST", "/api/v1/retrieve/"+r.String("change_id"), "", map[string]string{"code": code}); p.Status != 410 {
		t.Fatalf("phone code used as a retrieval: %d %s", p.Status, p.Raw)
	}
	if p := env.Do(t, "POST", "/api/v1/account/phone/"+r.String("change_id"), tok, map[string]string{"code": code}); p.Status != 200 {
		t.Fatalf("phone code: %d %s", p.Status, p.Raw)
	}
	if p := env.Do(t, "POST", "/api/v1/account/phone/"+r.String("change_id"), tok, map[string]string{"code": code}); p.Status != 410 {
		t.Fatalf("phone code replayed: %d %s", p.Status, p.Raw)
	}
}

func TestSMSSecondFactor(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	env.SignUp(t, "cleo@example.com", goodPassword)
	tok := env.Login(t, "cleo@example.com", goodPassword)
	secret := bindTOTP(t, env, tok)
	verify(t, env, tok, secret)
	bindPhone(t, env, tok, phoneA)
	if r := env.Do(t, "PUT", "/api/v1/account/protection", tok, map[string]bool{"login_protection": true}); r.Status != 200 {
		t.Fatalf("protection: %d %s", r.Status, r.Raw)
	}
	// mfa, the default once a device is bound: the phone is not offered.
	r := login(t, env, "cleo@example.com", goodPassword, "", "")
	if got := strings.Join(toStrings(r.Body["methods"]), ","); got != "totp" {
		t.Fatalf("methods under mfa = %s, want totp", got)
	}
	if s := env.Do(t, "POST", "/api/v1/login/second-factor/send", "", map[string]string{"login_token": r.String("login_token"), "method": "sms"}); s.Status != 422 || s.ErrorCode() != "method_not_chosen" {
		t.Fatalf("send sms under mfa: %d %s", s.Status, s.Raw)
	}
	for _, m := range env.Messages(t, phoneA) {
		if m.Purpose == "login_code" {
			t.Fatalf("a login code was texted under mfa: %+v", m)
		}
	}
	// The holder chooses SMS: then only SMS is offered, and it works.
	if r := env.Do(t, "PUT", "/api/v1/account/protection", tok, map[string]string{"login_method": "sms"}); r.Status != 200 || r.String("login_method") != "sms" {
		t.Fatalf("choose sms: %d %s", r.Status, r.Raw)
	}
	r = login(t, env, "cleo@example.com", goodPassword, "", "")
	if got := strings.Join(toStrings(r.Body["methods"]), ","); got != "sms" {
		t.Fatalf("methods once sms is chosen = %s, want sms", got)
	}
	lt := r.String("login_token")
	s := env.Do(t, "POST", "/api/v1/login/second-factor/send", "", map[string]string{"login_token": lt, "method": "sms"})
	if s.Status != 202 || !strings.Contains(s.String("sent_to"), "****") {
		t.Fatalf("send sms: %d %s", s.Status, s.Raw)
	}
	if r := env.Do(t, "POST", "/api/v1/login/second-factor", "", map[string]string{"login_token": lt, "method": "sms", "code": env.Code(t, phoneA, "login_code")}); r.Status != 200 {
		t.Fatalf("sms code: %d %s", r.Status, r.Raw)
	}
}
