package api_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testclock"
	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/internal/testserver"
	"github.com/custos/custos/otp"
	"github.com/custos/custos/tokenimport"
)

// bindTOTP binds an authenticator app for the session and returns its seed.
func bindTOTP(t *testing.T, env *testserver.Env, token string) []byte {
	t.Helper()
	r := env.Do(t, "POST", "/api/v1/mfa/totp", token, map[string]string{"name": "Phone"})
	if r.Status != http.StatusCreated || !strings.HasPrefix(r.String("otpauth_uri"), "otpauth://totp/") || r.String("qr_png") == "" {
		t.Fatalf("begin totp: %d %s", r.Status, r.Raw)
	}
	secret, err := otp.DecodeSecret(r.String("secret"))
	if err != nil || len(secret) != 20 {
		t.Fatalf("secret %q: %v", r.String("secret"), err)
	}
	c := env.Do(t, "POST", "/api/v1/mfa/totp/"+r.String("device_id")+"/confirm", token, map[string]string{"code": totp(env, secret)})
	if c.Status != 200 {
		t.Fatalf("confirm: %d %s", c.Status, c.Raw)
	}
	return secret
}

func totp(env *testserver.Env, secret []byte) string {
	return otp.TOTP(secret, env.Clock.Now(), otp.DefaultParams)
}

// verify passes an identity verification by TOTP (after moving to a fresh
// step, since each step is accepted once).
func verify(t *testing.T, env *testserver.Env, token string, secret []byte) {
	t.Helper()
	env.Clock.Advance(30 * time.Second)
	v := env.Do(t, "POST", "/api/v1/verifications", token, map[string]string{"method": "totp"})
	if v.Status != 201 {
		t.Fatalf("start verification: %d %s", v.Status, v.Raw)
	}
	if r := env.Do(t, "POST", "/api/v1/verifications/"+v.String("id"), token, map[string]string{"code": totp(env, secret)}); r.Status != 200 {
		t.Fatalf("verification: %d %s", r.Status, r.Raw)
	}
}

func TestTOTPBindVerifyAndLoginProtection(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		env.SignUp(t, "pia@example.com", goodPassword)
		tok := env.Login(t, "pia@example.com", goodPassword)

		if r := env.Do(t, "PUT", "/api/v1/account/protection", tok, map[string]bool{"login_protection": true}); r.Status != 422 || r.ErrorCode() != "no_second_factor" {
			t.Fatalf("protection before any device: %d %s", r.Status, r.Raw)
		}
		secret := bindTOTP(t, env, tok) // the first device needs no verification

		// A code's step is used: the same code cannot verify again.
		v := env.Do(t, "POST", "/api/v1/verifications", tok, map[string]string{"method": "totp"})
		if r := env.Do(t, "POST", "/api/v1/verifications/"+v.String("id"), tok, map[string]string{"code": totp(env, secret)}); r.Status != 422 || r.ErrorCode() != "invalid_code" {
			t.Fatalf("replayed confirm code: %d %s", r.Status, r.Raw)
		}
		// Now sensitive changes need a verification.
		r := env.Do(t, "POST", "/api/v1/mfa/totp", tok, map[string]string{"name": "Tablet"})
		methods, _ := errField(r, "methods").([]any)
		if r.Status != 403 || r.ErrorCode() != "verification_required" || len(methods) != 2 || methods[0] != "totp" || methods[1] != "email" {
			t.Fatalf("second device without verification: %d %s", r.Status, r.Raw)
		}
		verify(t, env, tok, secret)
		if s := env.Do(t, "GET", "/api/v1/session", tok, nil); s.Body["verified_until"] == nil {
			t.Fatalf("session not verified: %s", s.Raw)
		}
		codes := env.Do(t, "POST", "/api/v1/mfa/recovery-codes", tok, nil)
		list, _ := codes.Body["codes"].([]any)
		if codes.Status != 201 || len(list) != 10 {
			t.Fatalf("recovery codes: %d %s", codes.Status, codes.Raw)
		}
		if r := env.Do(t, "PUT", "/api/v1/account/protection", tok, map[string]bool{"login_protection": true}); r.Status != 200 || r.Body["login_protection"] != true {
			t.Fatalf("login protection on: %d %s", r.Status, r.Raw)
		}
		if a := env.Do(t, "GET", "/api/v1/account", tok, nil); a.Body["login_protection"] != true || len(a.Body["mfa_devices"].([]any)) != 1 {
			t.Fatalf("account: %s", a.Raw)
		}

		// mfa, the default once a device is bound: the app and recovery
		// codes, and nothing weaker.
		step := func(want string, captcha ...string) string {
			t.Helper()
			var id, answer string
			if len(captcha) > 0 {
				id, answer = captcha[0], "test"
			}
			r := login(t, env, "pia@example.com", goodPassword, id, answer)
			if r.Status != 200 || r.String("next") != "second_factor" || r.String("session_token") != "" {
				t.Fatalf("login under protection: %d %s", r.Status, r.Raw)
			}
			if got := strings.Join(toStrings(r.Body["methods"]), ","); got != want {
				t.Fatalf("methods = %s, want %s", got, want)
			}
			return r.String("login_token")
		}
		const mfaMethods = "totp,recovery_code"
		env.Clock.Advance(30 * time.Second)
		lt := step(mfaMethods)
		code := totp(env, secret)
		ok := env.Do(t, "POST", "/api/v1/login/second-factor", "", map[string]string{"login_token": lt, "method": "totp", "code": code})
		if ok.Status != 200 || ok.String("session_token") == "" {
			t.Fatalf("second factor: %d %s", ok.Status, ok.Raw)
		}
		// The app's code at login was also a verification (totp is a
		// verification method): the window opens with the session.
		if s := env.Do(t, "GET", "/api/v1/session", ok.String("session_token"), nil); s.Body["second_factor"] != true || s.Body["verified_until"] == nil {
			t.Fatalf("session second_factor and verified_until: %s", s.Raw)
		}
		if r := env.Do(t, "POST", "/api/v1/login/second-factor", "", map[string]string{"login_token": lt, "method": "totp", "code": code}); r.Status != 410 {
			t.Fatalf("login token reused: %d %s", r.Status, r.Raw)
		}
		// The same code on a fresh login token is a replay.
		lt = step(mfaMethods)
		r = env.Do(t, "POST", "/api/v1/login/second-factor", "", map[string]string{"login_token": lt, "method": "totp", "code": code})
		if r.Status != 401 || r.ErrorCode() != "invalid_code" || !strings.Contains(errField(r, "message").(string), "already used") {
			t.Fatalf("replayed code: %d %s", r.Status, r.Raw)
		}
		// A recovery code works once.
		rc := list[0].(string)
		rcLogin := env.Do(t, "POST", "/api/v1/login/second-factor", "", map[string]string{"login_token": lt, "method": "recovery_code", "code": strings.ToUpper(rc)})
		if rcLogin.Status != 200 {
			t.Fatalf("recovery code: %d %s", rcLogin.Status, rcLogin.Raw)
		}
		// A recovery code is not a verification method: that session
		// must still confirm it's the holder before a sensitive change.
		if s := env.Do(t, "GET", "/api/v1/session", rcLogin.String("session_token"), nil); s.Body["second_factor"] != true || s.Body["verified_until"] != nil {
			t.Fatalf("session after a recovery code: %s", s.Raw)
		}
		lt = step(mfaMethods)
		if r := env.Do(t, "POST", "/api/v1/login/second-factor", "", map[string]string{"login_token": lt, "method": "recovery_code", "code": rc}); r.Status != 401 {
			t.Fatalf("recovery code reused: %d %s", r.Status, r.Raw)
		}
		// No email code while mfa is the method: none is sent, none is taken.
		if r := env.Do(t, "POST", "/api/v1/login/second-factor/send", "", map[string]string{"login_token": lt, "method": "email"}); r.Status != 422 || r.ErrorCode() != "method_not_chosen" {
			t.Fatalf("send email under mfa: %d %s", r.Status, r.Raw)
		}
		for _, m := range env.Messages(t, "pia@example.com") {
			if m.Purpose == "login_code" {
				t.Fatalf("a login code was emailed under mfa: %+v", m)
			}
		}
		// An emailed code, once the holder chooses email.
		if r := env.Do(t, "PUT", "/api/v1/account/protection", tok, map[string]string{"login_method": "email"}); r.Status != 200 || r.String("login_method") != "email" || r.Body["login_protection"] != true {
			t.Fatalf("choose email: %d %s", r.Status, r.Raw)
		}
		// The two wrong codes above count with wrong passwords: this
		// login needs a captcha.
		lt = step("email", newCaptcha(t, env))
		if r := env.Do(t, "POST", "/api/v1/login/second-factor/send", "", map[string]string{"login_token": lt, "method": "email"}); r.Status != 202 || r.String("sent_to") != "p***a@ex***le.com" {
			t.Fatalf("send: %d %s", r.Status, r.Raw)
		}
		emailed := env.Code(t, "pia@example.com", "login_code")
		if r := env.Do(t, "POST", "/api/v1/login/second-factor", "", map[string]string{"login_token": lt, "method": "email", "code": emailed}); r.Status != 200 {
			t.Fatalf("email code: %d %s", r.Status, r.Raw)
		}
		// Unbinding needs a verification, then the device is gone. The
		// recovery-code session has none; the app-code session was
		// verified by its login and is still in that window (10 minutes),
		// so it needs no other.
		devID := env.Do(t, "GET", "/api/v1/account", ok.String("session_token"), nil).Body["mfa_devices"].([]any)[0].(map[string]any)["id"].(string)
		if r := env.Do(t, "DELETE", "/api/v1/mfa/"+devID, rcLogin.String("session_token"), nil); r.Status != 403 || r.ErrorCode() != "verification_required" {
			t.Fatalf("unbind without verification: %d %s", r.Status, r.Raw)
		}
		if r := env.Do(t, "PUT", "/api/v1/account/protection", ok.String("session_token"), map[string]bool{"login_protection": false}); r.Status != 200 {
			t.Fatalf("login protection off: %d %s", r.Status, r.Raw)
		}
		if r := env.Do(t, "DELETE", "/api/v1/mfa/"+devID, ok.String("session_token"), nil); r.Status != 204 {
			t.Fatalf("unbind: %d %s", r.Status, r.Raw)
		}
		purposes := map[string]bool{}
		for _, m := range env.Messages(t, "pia@example.com") {
			purposes[m.Purpose] = true
		}
		for _, want := range []string{"mfa_bound", "mfa_unbound", "protection_changed", "code_replayed"} {
			if !purposes[want] {
				t.Errorf("no %s notice sent", want)
			}
		}
	})
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// TestWrongSecondFactorCodesLock: wrong codes count in the same series as
// wrong passwords, and five kill a login token.
func TestWrongSecondFactorCodesLock(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	env.SignUp(t, "quinn@example.com", goodPassword)
	tok := env.Login(t, "quinn@example.com", goodPassword)
	secret := bindTOTP(t, env, tok)
	verify(t, env, tok, secret)
	if r := env.Do(t, "PUT", "/api/v1/account/protection", tok, map[string]bool{"login_protection": true}); r.Status != 200 {
		t.Fatalf("protection: %d %s", r.Status, r.Raw)
	}
	wrong := func(lt string, i int) testserver.Response {
		code := "000000"
		if code == totp(env, secret) {
			code = "111111"
		}
		return env.Do(t, "POST", "/api/v1/login/second-factor", "", map[string]string{"login_token": lt, "method": "totp", "code": code})
	}
	for round := 0; round < 2; round++ {
		lt := login(t, env, "quinn@example.com", goodPassword, newCaptcha(t, env), "test").String("login_token")
		for i := 1; i <= 5; i++ {
			r := wrong(lt, i)
			if round == 1 && i == 5 {
				break
			}
			if r.Status != 401 || r.ErrorCode() != "invalid_code" || errField(r, "attempts_left") != float64(5-i) {
				t.Fatalf("round %d wrong code %d: %d %s", round, i, r.Status, r.Raw)
			}
		}
		if round == 0 {
			if r := wrong(lt, 6); r.Status != 410 {
				t.Fatalf("sixth code on a dead token: %d %s", r.Status, r.Raw)
			}
		}
	}
	// 10 wrong codes: password login is locked too.
	if r := login(t, env, "quinn@example.com", goodPassword, newCaptcha(t, env), "test"); r.Status != 423 {
		t.Fatalf("after ten wrong codes: %d %s", r.Status, r.Raw)
	}
}

// TestTOTPReplayAcrossReplicas: a code accepted by one server is refused by
// another sharing the database.
func TestTOTPReplayAcrossReplicas(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			dsn := testdb.DSN(t, d)
			clock := testclock.New(time.Time{})
			one := testserver.Start(t, testserver.Options{DSN: dsn, Clock: clock})
			two := testserver.Start(t, testserver.Options{DSN: dsn, Clock: clock, Keys: one.Keys})
			one.SignUp(t, "rae@example.com", goodPassword)
			tok := one.Login(t, "rae@example.com", goodPassword)
			secret := bindTOTP(t, one, tok)
			clock.Advance(30 * time.Second)
			code := totp(one, secret)
			v1 := one.Do(t, "POST", "/api/v1/verifications", tok, map[string]string{"method": "totp"})
			v2 := two.Do(t, "POST", "/api/v1/verifications", tok, map[string]string{"method": "totp"})
			if r := one.Do(t, "POST", "/api/v1/verifications/"+v1.String("id"), tok, map[string]string{"code": code}); r.Status != 200 {
				t.Fatalf("replica one: %d %s", r.Status, r.Raw)
			}
			if r := two.Do(t, "POST", "/api/v1/verifications/"+v2.String("id"), tok, map[string]string{"code": code}); r.Status != 422 {
				t.Fatalf("replica two accepted a used code: %d %s", r.Status, r.Raw)
			}
		})
	}
}

func TestHardwareTokens(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	seed := []byte("12345678901234567890")
	_, err := env.App.MFA.ImportTokens(context.Background(), []tokenimport.Token{
		{Serial: "TOTP-1", Secret: seed, Kind: "totp", Params: otp.DefaultParams},
		{Serial: "HOTP-1", Secret: seed, Kind: "hotp", Params: otp.Params{Algorithm: otp.SHA1, Digits: 6}, Counter: 0},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	env.SignUp(t, "sam@example.com", goodPassword)
	tok := env.Login(t, "sam@example.com", goodPassword)

	// A TOTP token whose clock runs 4 steps (2 minutes) ahead.
	ahead := env.Clock.Now().Add(4 * 30 * time.Second)
	c1 := otp.TOTP(seed, ahead, otp.DefaultParams)
	c2 := otp.TOTP(seed, ahead.Add(30*time.Second), otp.DefaultParams)
	if r := env.Do(t, "POST", "/api/v1/mfa/hardware", tok, map[string]string{"serial": "TOTP-1", "code1": c2, "code2": c1}); r.Status != 404 {
		t.Fatalf("codes in the wrong order: %d %s", r.Status, r.Raw)
	}
	r := env.Do(t, "POST", "/api/v1/mfa/hardware", tok, map[string]string{"serial": "TOTP-1", "code1": c1, "code2": c2})
	if r.Status != 201 {
		t.Fatalf("bind totp token: %d %s", r.Status, r.Raw)
	}
	// Login-time checks use ±1 step around the learnt drift.
	env.Clock.Advance(2 * 30 * time.Second)
	verifyWith := func(method, code string) testserver.Response {
		v := env.Do(t, "POST", "/api/v1/verifications", tok, map[string]string{"method": method})
		return env.Do(t, "POST", "/api/v1/verifications/"+v.String("id"), tok, map[string]string{"code": code})
	}
	if r := verifyWith("hardware", otp.TOTP(seed, env.Clock.Now().Add(4*30*time.Second), otp.DefaultParams)); r.Status != 200 {
		t.Fatalf("drifted token code: %d %s", r.Status, r.Raw)
	}
	// Another account cannot bind the same token.
	env.SignUp(t, "tia@example.com", goodPassword)
	tok2 := env.Login(t, "tia@example.com", goodPassword)
	if r := env.Do(t, "POST", "/api/v1/mfa/hardware", tok2, map[string]string{"serial": "TOTP-1", "code1": c1, "code2": c2}); r.Status != 404 {
		t.Fatalf("a bound token bound again: %d %s", r.Status, r.Raw)
	}

	// An HOTP token, pressed a few times before binding.
	h := func(n uint64) string { return otp.HOTP(seed, n, otp.SHA1, 6) }
	env.Clock.Advance(30 * time.Second)
	verifyWith("hardware", otp.TOTP(seed, env.Clock.Now().Add(4*30*time.Second), otp.DefaultParams))
	r = env.Do(t, "POST", "/api/v1/mfa/hardware", tok, map[string]string{"serial": "HOTP-1", "code1": h(7), "code2": h(8)})
	if r.Status != 201 {
		t.Fatalf("bind hotp token: %d %s", r.Status, r.Raw)
	}
	if r := verifyWith("hardware", h(8)); r.Status != 422 {
		t.Fatalf("HOTP counter went back: %d %s", r.Status, r.Raw)
	}
	if r := verifyWith("hardware", h(10)); r.Status != 200 {
		t.Fatalf("HOTP next codes: %d %s", r.Status, r.Raw)
	}
	if r := verifyWith("hardware", h(9)); r.Status != 422 {
		t.Fatalf("HOTP rollback accepted: %d %s", r.Status, r.Raw)
	}
}

func TestLastDeviceStaysWhileProtectionIsOn(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	env.SignUp(t, "uma@example.com", goodPassword)
	tok := env.Login(t, "uma@example.com", goodPassword)
	secret := bindTOTP(t, env, tok)
	verify(t, env, tok, secret)
	if r := env.Do(t, "PUT", "/api/v1/account/protection", tok, map[string]bool{"operation_protection": true}); r.Status != 200 {
		t.Fatalf("operation protection: %d %s", r.Status, r.Raw)
	}
	devID := env.Do(t, "GET", "/api/v1/account", tok, nil).Body["mfa_devices"].([]any)[0].(map[string]any)["id"].(string)
	if r := env.Do(t, "DELETE", "/api/v1/mfa/"+devID, tok, nil); r.Status != 422 || r.ErrorCode() != "no_second_factor" {
		t.Fatalf("removing the last device under protection: %d %s", r.Status, r.Raw)
	}
	// Operation protection on, mfa the method (the default): email no
	// longer verifies.
	env.Clock.Advance(11 * time.Minute)
	if r := env.Do(t, "POST", "/api/v1/verifications", tok, map[string]string{"method": "email"}); r.Status != 422 || r.ErrorCode() != "method_not_chosen" {
		t.Fatalf("email verification under operation protection: %d %s", r.Status, r.Raw)
	}
	if r := env.Do(t, "PUT", "/api/v1/account/protection", tok, map[string]bool{"operation_protection": false}); r.Status != 403 || len(errField(r, "methods").([]any)) != 1 {
		t.Fatalf("only the device may verify: %d %s", r.Status, r.Raw)
	}
}

// TestConcurrentSecondFactorGuesses: fifty codes at once on one login token
// check exactly five; the rest find the token spent.
func TestConcurrentSecondFactorGuesses(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		env.SignUp(t, "gus@example.com", goodPassword)
		tok := env.Login(t, "gus@example.com", goodPassword)
		secret := bindTOTP(t, env, tok)
		verify(t, env, tok, secret)
		if r := env.Do(t, "PUT", "/api/v1/account/protection", tok, map[string]bool{"login_protection": true}); r.Status != 200 {
			t.Fatalf("protection: %d %s", r.Status, r.Raw)
		}
		lt := login(t, env, "gus@example.com", goodPassword, "", "").String("login_token")
		wrong := "000000"
		if wrong == totp(env, secret) {
			wrong = "111111"
		}
		var mu sync.Mutex
		answers := map[int]int{}
		var wg sync.WaitGroup
		for i := 0; i < 50; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := env.Do(t, "POST", "/api/v1/login/second-factor", "", map[string]string{"login_token": lt, "method": "totp", "code": wrong})
				mu.Lock()
				answers[r.Status]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if answers[401] != 5 || answers[410] != 45 {
			t.Fatalf("answers = %v, want 5 × 401 and 45 × 410", answers)
		}
		c, err := env.App.Store.GetCounter(context.Background(), env.App.LoginKeys.Counter(custos.EmailLogin("gus@example.com")))
		if err != nil || c.Failures != 5 {
			t.Fatalf("identifier counter = %+v, %v; want 5 failures", c, err)
		}
	})
}
