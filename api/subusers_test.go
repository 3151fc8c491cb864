package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testserver"
	"github.com/custos/custos/otp"
)

// subLogin logs a sub-user in and returns the answer.
func subLogin(t *testing.T, env *testserver.Env, root, user, pw string) testserver.Response {
	t.Helper()
	return env.Do(t, "POST", "/api/v1/login", "", map[string]string{"root_account_id": root, "user_name": user, "password": pw})
}

func TestSubUserCreateLoginPrincipal(t *testing.T) {
	bothStores(t, func(t *testing.T, dialect string) {
		env := testserver.Start(t, testserver.Options{Dialect: dialect})
		rootID := env.SignUp(t, "root@example.com", "correct horse battery staple")
		root := env.Login(t, "root@example.com", "correct horse battery staple")
		body := map[string]any{"user_name": "Dev.Ops", "password": "tidy violet lantern 4217", "must_bind_mfa": false,
			"login_protection": "off", "operation_protection": "off"}
		if r := env.Do(t, "POST", "/api/v1/sub-users", root, body); r.Status != http.StatusForbidden || r.ErrorCode() != custos.EVerificationRequired {
			t.Fatalf("without a fresh verification: %d %s", r.Status, r.Raw)
		}
		env.Verify(t, root, "root@example.com")
		r := env.Do(t, "POST", "/api/v1/sub-users", root, body)
		sub := r.String("sub_user_id")
		if r.Status != http.StatusCreated || sub == "" {
			t.Fatalf("create: %d %s", r.Status, r.Raw)
		}
		if r := env.Do(t, "POST", "/api/v1/sub-users", root, body); r.Status != http.StatusConflict {
			t.Fatalf("the same user name twice: %d %s", r.Status, r.Raw)
		}
		if r := env.Do(t, "POST", "/api/v1/sub-users", root, map[string]any{"user_name": "no/slash", "password": "tidy violet lantern 4217"}); r.Status != http.StatusBadRequest {
			t.Fatalf("a user name with a slash: %d %s", r.Status, r.Raw)
		}

		// The sub-user logs in with the root's id and its name (any case).
		l := subLogin(t, env, rootID, "DEV.OPS", "tidy violet lantern 4217")
		tok := l.String("session_token")
		if l.Status != http.StatusOK || tok == "" || l.String("account_id") != sub {
			t.Fatalf("sub-user login: %d %s", l.Status, l.Raw)
		}
		s := env.Do(t, "GET", "/api/v1/session", tok, nil)
		p, _ := s.Body["principal"].(map[string]any)
		if p["type"] != "sub_user" || p["root_account_id"] != rootID || p["user_name"] != "dev.ops" || p["account_id"] != sub {
			t.Fatalf("principal: %s", s.Raw)
		}
		rs := env.Do(t, "GET", "/api/v1/session", root, nil)
		if rp, _ := rs.Body["principal"].(map[string]any); rp["type"] != "root" || rp["account_id"] != rootID {
			t.Fatalf("root principal: %s", rs.Raw)
		}
		// Unknown names answer like wrong passwords.
		wrong := subLogin(t, env, rootID, "dev.ops", "not the password at all")
		unknown := subLogin(t, env, rootID, "nobody", "not the password at all")
		if wrong.Status != http.StatusUnauthorized || unknown.Status != wrong.Status || unknown.ErrorCode() != wrong.ErrorCode() {
			t.Fatalf("wrong %d %s vs unknown %d %s", wrong.Status, wrong.Raw, unknown.Status, unknown.Raw)
		}
		// Both an email and a sub-user is a mistake.
		if r := env.Do(t, "POST", "/api/v1/login", "", map[string]string{"email": "root@example.com", "root_account_id": rootID,
			"user_name": "dev.ops", "password": "x"}); r.Status != http.StatusBadRequest {
			t.Fatalf("email and sub-user at once: %d %s", r.Status, r.Raw)
		}

		// A sub-user reaches nothing of the root's management, and another
		// root reaches nothing of this root's sub-users.
		if r := env.Do(t, "GET", "/api/v1/sub-users", tok, nil); r.Status != http.StatusNotFound {
			t.Fatalf("a sub-user listing sub-users: %d %s", r.Status, r.Raw)
		}
		env.SignUp(t, "other@example.com", "correct horse battery staple")
		other := env.Login(t, "other@example.com", "correct horse battery staple")
		if r := env.Do(t, "GET", "/api/v1/sub-users/"+sub, other, nil); r.Status != http.StatusNotFound {
			t.Fatalf("another root reading the sub-user: %d %s", r.Status, r.Raw)
		}
		if r := env.Do(t, "GET", "/api/v1/sub-users/"+sub, root, nil); r.Status != http.StatusOK || r.String("user_name") != "dev.ops" {
			t.Fatalf("the root reading its sub-user: %d %s", r.Status, r.Raw)
		}
		// Console login off: the right password gets 403, no session.
		env.Verify(t, root, "root@example.com")
		if r := env.Do(t, "PATCH", "/api/v1/sub-users/"+sub, root, map[string]any{"console_login": false}); r.Status != http.StatusOK {
			t.Fatalf("console off: %d %s", r.Status, r.Raw)
		}
		if l := subLogin(t, env, rootID, "dev.ops", "tidy violet lantern 4217"); l.Status != http.StatusForbidden {
			t.Fatalf("login with the console off: %d %s", l.Status, l.Raw)
		}
	})
}

func TestSubUserMustBindMFAAndReset(t *testing.T) {
	bothStores(t, func(t *testing.T, dialect string) {
		env := testserver.Start(t, testserver.Options{Dialect: dialect})
		rootID := env.SignUp(t, "lead@example.com", "correct horse battery staple")
		root := env.Login(t, "lead@example.com", "correct horse battery staple")
		env.Verify(t, root, "lead@example.com")
		r := env.Do(t, "POST", "/api/v1/sub-users", root, map[string]any{"user_name": "ann", "password": "tidy violet lantern 4217",
			"must_bind_mfa": true, "login_protection": "mfa"})
		sub := r.String("sub_user_id")

		bind := func() []byte {
			l := subLogin(t, env, rootID, "ann", "tidy violet lantern 4217")
			if l.Status != http.StatusOK || l.String("next") != "bind_mfa" || l.String("session_token") != "" {
				t.Fatalf("login that must bind: %d %s", l.Status, l.Raw)
			}
			lt := l.String("login_token")
			k := env.Do(t, "POST", "/api/v1/login/bind-mfa", "", map[string]string{"login_token": lt})
			secret, err := otp.DecodeSecret(k.String("secret"))
			if k.Status != http.StatusCreated || err != nil {
				t.Fatalf("bind-mfa: %d %s", k.Status, k.Raw)
			}
			if c := env.Do(t, "POST", "/api/v1/login/bind-mfa/confirm", "", map[string]string{"login_token": lt, "code": "000000"}); c.Status != http.StatusUnprocessableEntity {
				t.Fatalf("a wrong first code: %d %s", c.Status, c.Raw)
			}
			c := env.Do(t, "POST", "/api/v1/login/bind-mfa/confirm", "", map[string]string{"login_token": lt,
				"code": otp.TOTP(secret, env.Clock.Now(), otp.DefaultParams)})
			if c.Status != http.StatusOK || c.String("session_token") == "" {
				t.Fatalf("confirm: %d %s", c.Status, c.Raw)
			}
			return secret
		}
		old := bind()
		// Next login: login protection asks for the app.
		env.Clock.Advance(30 * time.Second)
		l := subLogin(t, env, rootID, "ann", "tidy violet lantern 4217")
		if l.String("next") != "second_factor" {
			t.Fatalf("login after binding: %s", l.Raw)
		}
		// The root resets the MFA: the old app's codes stop at once.
		env.Verify(t, root, "lead@example.com")
		if r := env.Do(t, "POST", "/api/v1/sub-users/"+sub+"/reset-mfa", root, nil); r.Status != http.StatusNoContent {
			t.Fatalf("reset mfa: %d %s", r.Status, r.Raw)
		}
		env.Clock.Advance(30 * time.Second)
		sf := env.Do(t, "POST", "/api/v1/login/second-factor", "", map[string]string{"login_token": l.String("login_token"),
			"method": "totp", "code": otp.TOTP(old, env.Clock.Now(), otp.DefaultParams)})
		if sf.Status == http.StatusOK {
			t.Fatalf("the reset app still logs in: %s", sf.Raw)
		}
		bind()
	})
}

func TestSubUserPasswordReset(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	rootID := env.SignUp(t, "boss@example.com", "correct horse battery staple")
	root := env.Login(t, "boss@example.com", "correct horse battery staple")
	env.Verify(t, root, "boss@example.com")
	if r := env.Do(t, "PUT", "/api/v1/password-rules", root, map[string]int{"min_length": 14, "classes": 3, "history": 2}); r.Status != http.StatusOK {
		t.Fatalf("rules: %d %s", r.Status, r.Raw)
	}
	if r := env.Do(t, "POST", "/api/v1/sub-users", root, map[string]any{"user_name": "bob", "password": "short-Pw1"}); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("a password under the root's rules: %d %s", r.Status, r.Raw)
	}
	r := env.Do(t, "POST", "/api/v1/sub-users", root, map[string]any{"user_name": "bob", "password": "Tidy violet lantern 4217"})
	sub := r.String("sub_user_id")
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Raw)
	}
	session := subLogin(t, env, rootID, "bob", "Tidy violet lantern 4217").String("session_token")
	p := env.Do(t, "POST", "/api/v1/sub-users/"+sub+"/reset-password", root, nil)
	generated := p.String("password")
	if p.Status != http.StatusOK || len(generated) < 20 {
		t.Fatalf("reset: %d %s", p.Status, p.Raw)
	}
	if r := env.Do(t, "GET", "/api/v1/session", session, nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("a session outlived the reset: %d", r.Status)
	}
	if l := subLogin(t, env, rootID, "bob", "Tidy violet lantern 4217"); l.Status != http.StatusUnauthorized {
		t.Fatalf("the old password after the reset: %d %s", l.Status, l.Raw)
	}
	l := subLogin(t, env, rootID, "bob", generated)
	if l.String("next") != "change_password" {
		t.Fatalf("the generated password must be changed: %s", l.Raw)
	}
	lt := l.String("login_token")
	for _, reused := range []string{generated, "Tidy violet lantern 4217"} {
		if c := env.Do(t, "POST", "/api/v1/login/change-password", "", map[string]string{"login_token": lt, "password": reused}); c.Status != http.StatusUnprocessableEntity {
			t.Fatalf("reusing a past password: %d %s", c.Status, c.Raw)
		}
	}
	c := env.Do(t, "POST", "/api/v1/login/change-password", "", map[string]string{"login_token": lt, "password": "Brand new lantern 9931"})
	if c.Status != http.StatusOK || c.String("session_token") == "" {
		t.Fatalf("change: %d %s", c.Status, c.Raw)
	}
	if l := subLogin(t, env, rootID, "bob", "Brand new lantern 9931"); l.Status != http.StatusOK || l.String("session_token") == "" {
		t.Fatalf("login with the new password: %d %s", l.Status, l.Raw)
	}
}

func TestSubUserRetryLimitAndOwnSettings(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	rootID := env.SignUp(t, "ops@example.com", "correct horse battery staple")
	root := env.Login(t, "ops@example.com", "correct horse battery staple")
	env.Verify(t, root, "ops@example.com")
	if r := env.Do(t, "PUT", "/api/v1/password-rules", root, map[string]int{"retry_limit": 5}); r.Status != http.StatusOK {
		t.Fatalf("rules: %d %s", r.Status, r.Raw)
	}
	env.Do(t, "POST", "/api/v1/sub-users", root, map[string]any{"user_name": "carol", "password": "tidy violet lantern 4217",
		"login_protection": "off", "operation_protection": "email", "email": "carol@example.org"})
	// The root's limit of 5: a captcha from the 4th on (R4's 3 stay), the
	// 5th locks.
	var answers []string
	for i := 0; i < 6; i++ {
		body := map[string]any{"root_account_id": rootID, "user_name": "carol", "password": "wrong password here"}
		if i >= 3 {
			c := env.Do(t, "POST", "/api/v1/captcha", "", nil)
			body["captcha"] = map[string]string{"id": c.String("id"), "answer": "test"}
		}
		r := env.Do(t, "POST", "/api/v1/login", "", body)
		answers = append(answers, r.ErrorCode())
	}
	want := []string{"invalid_credentials", "invalid_credentials", "invalid_credentials", "invalid_credentials", "invalid_credentials", "account_locked"}
	for i := range want {
		if answers[i] != want[i] {
			t.Fatalf("answers %v, want %v", answers, want)
		}
	}
	if l := subLogin(t, env, rootID, "carol", "tidy violet lantern 4217"); l.Status != http.StatusLocked {
		t.Fatalf("the right password after the 5th: %d %s", l.Status, l.Raw)
	}
	// Unlocked by the next day; the sub-user cannot lower what the root set.
	env.Clock.Advance(25 * time.Hour)
	tok := subLogin(t, env, rootID, "carol", "tidy violet lantern 4217").String("session_token")
	if tok == "" {
		t.Fatal("no session after the lock ended")
	}
	v := env.Do(t, "POST", "/api/v1/verifications", tok, map[string]string{"method": "email"})
	if v.Status != http.StatusCreated {
		t.Fatalf("verification: %d %s", v.Status, v.Raw)
	}
	env.Do(t, "POST", "/api/v1/verifications/"+v.String("id"), tok, map[string]string{"code": env.Code(t, "carol@example.org", custos.MsgVerificationCode)})
	if r := env.Do(t, "PUT", "/api/v1/account/protection", tok, map[string]any{"login_protection": false, "operation_protection": false}); r.Status != http.StatusForbidden {
		t.Fatalf("a sub-user turning off the root's operation protection: %d %s", r.Status, r.Raw)
	}
	if r := env.Do(t, "POST", "/api/v1/account/email", tok, map[string]string{"email": "carol@example.net"}); r.Status != http.StatusForbidden {
		t.Fatalf("a sub-user changing a login email it has not: %d %s", r.Status, r.Raw)
	}
	// No message ever goes to the stand-in address.
	for _, m := range env.Messages(t, "sub-user:"+tokenAccountOf(t, env, tok)) {
		t.Fatalf("a message went to a sub-user's stand-in email: %+v", m)
	}
}

func tokenAccountOf(t *testing.T, env *testserver.Env, tok string) string {
	t.Helper()
	return env.Do(t, "GET", "/api/v1/session", tok, nil).String("account_id")
}

// TestSubUserToldOfRootActions: a sub-user with its own email is told when
// the root resets its MFA or its password.
func TestSubUserToldOfRootActions(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	env.SignUp(t, "chief@example.com", "correct horse battery staple")
	root := env.Login(t, "chief@example.com", "correct horse battery staple")
	env.Verify(t, root, "chief@example.com")
	sub := env.Do(t, "POST", "/api/v1/sub-users", root, map[string]any{"user_name": "dana", "password": "tidy violet lantern 4217",
		"email": "dana@example.org"}).String("sub_user_id")
	env.Do(t, "POST", "/api/v1/sub-users/"+sub+"/reset-mfa", root, nil)
	env.Do(t, "POST", "/api/v1/sub-users/"+sub+"/reset-password", root, nil)
	got := map[string]bool{}
	for _, m := range env.Messages(t, "dana@example.org") {
		got[m.Purpose] = true
	}
	if !got[custos.MsgDeviceUnbound] || !got[custos.MsgPasswordReset] {
		t.Fatalf("the sub-user was told %v, want the MFA and the password reset", got)
	}
}

// TestSubUserHasNoRealNameRecord: real-name verification is the root
// account's; a sub-user is refused before anything is read.
func TestSubUserHasNoRealNameRecord(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	rootID := env.SignUp(t, "firm@example.com", "correct horse battery staple")
	root := env.Login(t, "firm@example.com", "correct horse battery staple")
	env.Verify(t, root, "firm@example.com")
	env.Do(t, "POST", "/api/v1/sub-users", root, map[string]any{"user_name": "erin", "password": "tidy violet lantern 4217"})
	tok := subLogin(t, env, rootID, "erin", "tidy violet lantern 4217").String("session_token")
	body, ct := testserver.Multipart(t, map[string]string{"kind": "individual", "name": "Erin", "document_type": "cn_id_card",
		"document_number": testserver.ValidID}, testserver.IndividualFiles(t)...)
	if r := env.DoRaw(t, "POST", "/api/v1/account/identity", tok, ct, body); r.Status != http.StatusForbidden {
		t.Fatalf("a sub-user submitting a real-name record: %d %s", r.Status, r.Raw)
	}
}
