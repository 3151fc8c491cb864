package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/custos/custos/internal/testserver"
)

// The protection methods the holder chose (R8, issue 9 point 7): the
// second step of login and "confirm it's you" offer and accept only the
// chosen method, mfa being the default once a device is bound, so neither
// can be downgraded to a weaker channel by asking for it.

// sent counts the messages for purpose sent to `to` so far.
func sent(t *testing.T, env *testserver.Env, to, purpose string) int {
	t.Helper()
	n := 0
	for _, m := range env.Messages(t, to) {
		if m.Purpose == purpose {
			n++
		}
	}
	return n
}

// methodsOf is the "methods" list of an answer (top level, or beside an
// error's code), joined with commas.
func methodsOf(r testserver.Response) string {
	m, ok := r.Body["methods"]
	if !ok {
		m = errField(r, "methods")
	}
	if m == nil {
		return ""
	}
	return strings.Join(toStrings(m), ",")
}

// wantNotChosen fails t unless r is 422 method_not_chosen naming the
// methods that are (want).
func wantNotChosen(t *testing.T, what string, r testserver.Response, want string) {
	t.Helper()
	if r.Status != http.StatusUnprocessableEntity || r.ErrorCode() != "method_not_chosen" {
		t.Fatalf("%s: %d %s, want 422 method_not_chosen", what, r.Status, r.Raw)
	}
	if got := errField(r, "methods"); got != nil && methodsOf(r) != want {
		t.Errorf("%s: methods %v, want %s", what, got, want)
	}
}

// protect signs up email, binds an authenticator app, confirms it's you
// with it and sends body to PUT /account/protection, returning the
// session token and the app's seed.
func protect(t *testing.T, env *testserver.Env, email string, body map[string]any) (string, []byte) {
	t.Helper()
	env.SignUp(t, email, goodPassword)
	tok := env.Login(t, email, goodPassword)
	secret := bindTOTP(t, env, tok)
	verify(t, env, tok, secret)
	if r := env.Do(t, "PUT", "/api/v1/account/protection", tok, body); r.Status != 200 {
		t.Fatalf("protection %v: %d %s", body, r.Status, r.Raw)
	}
	return tok, secret
}

func TestSecondStepCannotBeDowngradedToEmail(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		const email = "mira@example.com"
		tok, secret := protect(t, env, email, map[string]any{"login_protection": true})
		step := func(want string) string {
			t.Helper()
			r := login(t, env, email, goodPassword, "", "")
			if r.Status != 200 || r.String("next") != "second_factor" {
				t.Fatalf("login: %d %s", r.Status, r.Raw)
			}
			if got := methodsOf(r); got != want {
				t.Fatalf("methods = %s, want %s", got, want)
			}
			return r.String("login_token")
		}

		// mfa is the default once a device is bound: the app alone, then
		// the app and recovery codes once there are some.
		step("totp")
		verify(t, env, tok, secret)
		if r := env.Do(t, "POST", "/api/v1/mfa/recovery-codes", tok, nil); r.Status != 201 {
			t.Fatalf("recovery codes: %d %s", r.Status, r.Raw)
		}
		lt := step("totp,recovery_code")

		// Asking for an email (or a text) anyway sends nothing.
		before := sent(t, env, email, "login_code")
		for _, m := range []string{"email", "sms"} {
			r := env.Do(t, "POST", "/api/v1/login/second-factor/send", "", map[string]string{"login_token": lt, "method": m})
			wantNotChosen(t, "send "+m, r, "totp,recovery_code")
		}
		if n := sent(t, env, email, "login_code") - before; n != 0 {
			t.Fatalf("%d login codes emailed under mfa, want none", n)
		}
		// An email code is not taken, whatever it is.
		for _, m := range []string{"email", "sms"} {
			r := env.Do(t, "POST", "/api/v1/login/second-factor", "", map[string]string{"login_token": lt, "method": m, "code": "123456"})
			wantNotChosen(t, "second factor by "+m, r, "totp,recovery_code")
		}
		// The refusals cost the token nothing: the app still finishes it,
		// and the session has its second factor.
		env.Clock.Advance(30 * time.Second)
		ok := env.Do(t, "POST", "/api/v1/login/second-factor", "", map[string]string{"login_token": lt, "method": "totp", "code": totp(env, secret)})
		if ok.Status != 200 || ok.String("session_token") == "" {
			t.Fatalf("second factor by the app: %d %s", ok.Status, ok.Raw)
		}
		if s := env.Do(t, "GET", "/api/v1/session", ok.String("session_token"), nil); s.Body["second_factor"] != true {
			t.Fatalf("session: %s", s.Raw)
		}
	})
}

func TestConfirmItsYouCannotBeDowngradedToEmail(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		const email = "noor@example.com"
		env.SignUp(t, email, goodPassword)
		tok := env.Login(t, email, goodPassword)
		secret := bindTOTP(t, env, tok)
		verify(t, env, tok, secret)
		if r := bindPhone(t, env, tok, phoneA); r.Status != 200 {
			t.Fatalf("phone: %d %s", r.Status, r.Raw)
		}
		if r := env.Do(t, "PUT", "/api/v1/account/protection", tok, map[string]bool{"operation_protection": true}); r.Status != 200 {
			t.Fatalf("operation protection: %d %s", r.Status, r.Raw)
		}
		env.Clock.Advance(11 * time.Minute) // past the verification window

		// A sensitive change asks for the app alone.
		r := env.Do(t, "POST", "/api/v1/mfa/recovery-codes", tok, nil)
		if r.Status != 403 || r.ErrorCode() != "verification_required" || methodsOf(r) != "totp" {
			t.Fatalf("sensitive change: %d %s, want 403 verification_required with methods totp", r.Status, r.Raw)
		}
		// An email or a text is refused before anything is sent.
		before := sent(t, env, email, "verification_code") + sent(t, env, phoneA, "verification_code")
		for _, m := range []string{"email", "sms"} {
			r := env.Do(t, "POST", "/api/v1/verifications", tok, map[string]string{"method": m})
			wantNotChosen(t, "verification by "+m, r, "totp")
		}
		if n := sent(t, env, email, "verification_code") + sent(t, env, phoneA, "verification_code") - before; n != 0 {
			t.Fatalf("%d verification codes sent under mfa, want none", n)
		}

		// The holder chooses email: then email alone confirms.
		verify(t, env, tok, secret)
		if r := env.Do(t, "PUT", "/api/v1/account/protection", tok, map[string]string{"operation_method": "email"}); r.Status != 200 || r.String("operation_method") != "email" || r.Body["operation_protection"] != true {
			t.Fatalf("choose email: %d %s", r.Status, r.Raw)
		}
		env.Clock.Advance(11 * time.Minute)
		r = env.Do(t, "POST", "/api/v1/mfa/recovery-codes", tok, nil)
		if r.Status != 403 || methodsOf(r) != "email" {
			t.Fatalf("sensitive change once email is chosen: %d %s, want methods email", r.Status, r.Raw)
		}
		for _, m := range []string{"totp", "sms"} {
			r := env.Do(t, "POST", "/api/v1/verifications", tok, map[string]string{"method": m})
			wantNotChosen(t, "verification by "+m+" once email is chosen", r, "email")
		}
		verifyBy(t, env, tok, "email", email)
		if r := env.Do(t, "POST", "/api/v1/mfa/recovery-codes", tok, nil); r.Status != 201 {
			t.Fatalf("sensitive change after an email code: %d %s", r.Status, r.Raw)
		}
	})
}

func TestHolderChoosesSMSForTheSecondStep(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		const email = "omar@example.com"
		tok, secret := protect(t, env, email, map[string]any{"login_protection": true})

		// SMS needs a bound phone.
		r := env.Do(t, "PUT", "/api/v1/account/protection", tok, map[string]string{"login_method": "sms"})
		if r.Status != 422 || r.ErrorCode() != "no_second_factor" {
			t.Fatalf("sms without a phone: %d %s, want 422 no_second_factor", r.Status, r.Raw)
		}
		// A method that is none of the three is refused.
		r = env.Do(t, "PUT", "/api/v1/account/protection", tok, map[string]string{"login_method": "password"})
		if r.Status != 400 || r.ErrorCode() != "invalid_request" || errField(r, "field") != "login_method" {
			t.Fatalf("an unknown method: %d %s, want 400 invalid_request on login_method", r.Status, r.Raw)
		}
		if a := env.Do(t, "GET", "/api/v1/account", tok, nil); a.Body["login_method"] != "mfa" {
			t.Fatalf("refused choices changed the method: %s", a.Raw)
		}

		if r := bindPhone(t, env, tok, phoneA); r.Status != 200 {
			t.Fatalf("phone: %d %s", r.Status, r.Raw)
		}
		r = env.Do(t, "PUT", "/api/v1/account/protection", tok, map[string]string{"login_method": "sms"})
		if r.Status != 200 || r.String("login_method") != "sms" || r.Body["login_protection"] != true {
			t.Fatalf("choose sms: %d %s", r.Status, r.Raw)
		}

		// Only SMS is offered now, and the app is refused.
		l := login(t, env, email, goodPassword, "", "")
		if got := methodsOf(l); l.Status != 200 || got != "sms" {
			t.Fatalf("login: %d methods %s, want sms", l.Status, got)
		}
		lt := l.String("login_token")
		env.Clock.Advance(30 * time.Second)
		wantNotChosen(t, "second factor by the app", env.Do(t, "POST", "/api/v1/login/second-factor", "",
			map[string]string{"login_token": lt, "method": "totp", "code": totp(env, secret)}), "sms")
		wantNotChosen(t, "send email", env.Do(t, "POST", "/api/v1/login/second-factor/send", "",
			map[string]string{"login_token": lt, "method": "email"}), "sms")
		if n := sent(t, env, email, "login_code"); n != 0 {
			t.Fatalf("%d login codes emailed, want none", n)
		}
		if s := env.Do(t, "POST", "/api/v1/login/second-factor/send", "", map[string]string{"login_token": lt, "method": "sms"}); s.Status != 202 {
			t.Fatalf("send sms: %d %s", s.Status, s.Raw)
		}
		ok := env.Do(t, "POST", "/api/v1/login/second-factor", "", map[string]string{"login_token": lt, "method": "sms", "code": env.Code(t, phoneA, "login_code")})
		if ok.Status != 200 || ok.String("session_token") == "" {
			t.Fatalf("second factor by sms: %d %s", ok.Status, ok.Raw)
		}
	})
}

func TestAccountShowsTheChosenMethods(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		const email = "pablo@example.com"
		env.SignUp(t, email, goodPassword)
		tok := env.Login(t, email, goodPassword)
		account := func() testserver.Response {
			t.Helper()
			a := env.Do(t, "GET", "/api/v1/account", tok, nil)
			if a.Status != 200 {
				t.Fatalf("account: %d %s", a.Status, a.Raw)
			}
			for _, k := range []string{"login_method", "operation_method"} {
				if _, ok := a.Body[k]; !ok {
					t.Fatalf("account lacks %s: %s", k, a.Raw)
				}
			}
			return a
		}
		// No device and no choice: no method to show.
		if a := account(); a.Body["login_method"] != nil || a.Body["operation_method"] != nil {
			t.Fatalf("methods before any device: %s, want both null", a.Raw)
		}
		// A device makes mfa the default of both.
		secret := bindTOTP(t, env, tok)
		if a := account(); a.Body["login_method"] != "mfa" || a.Body["operation_method"] != "mfa" {
			t.Fatalf("methods with an app: %s, want mfa and mfa", a.Raw)
		}
		verify(t, env, tok, secret)
		r := env.Do(t, "PUT", "/api/v1/account/protection", tok, map[string]string{"login_method": "email", "operation_method": "mfa"})
		if r.Status != 200 || r.String("login_method") != "email" || r.String("operation_method") != "mfa" ||
			r.Body["login_protection"] != false || r.Body["operation_protection"] != false {
			t.Fatalf("choose: %d %s", r.Status, r.Raw)
		}
		if a := account(); a.Body["login_method"] != "email" || a.Body["operation_method"] != "mfa" ||
			a.Body["login_protection"] != false || a.Body["operation_protection"] != false {
			t.Fatalf("account after choosing: %s", a.Raw)
		}
	})
}
