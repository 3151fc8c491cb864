package api_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testclock"
	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/internal/testserver"
	"github.com/custos/custos/notify"
)

// TestSecondFactorGuessesStopAtTheLock: an attacker who knows the password
// mints forty login tokens (each right password is given back) and sends
// five wrong codes on each, all at once, across two replicas. Every code
// counts in the identifier's R4 series before it is checked, so exactly
// ten are checked (the series' room) and every other answer is the lock —
// not five per token.
func TestSecondFactorGuessesStopAtTheLock(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			one, two := twoReplicas(t, dialect)
			one.SignUp(t, "hal@example.com", goodPassword)
			tok := one.Login(t, "hal@example.com", goodPassword)
			secret := bindTOTP(t, one, tok)
			verify(t, one, tok, secret)
			if r := one.Do(t, "PUT", "/api/v1/account/protection", tok, map[string]bool{"login_protection": true}); r.Status != 200 {
				t.Fatalf("protection: %d %s", r.Status, r.Raw)
			}
			wrong := "000000"
			if wrong == totp(one, secret) {
				wrong = "111111"
			}
			var tokens []string
			for range 41 {
				r := login(t, one, "hal@example.com", goodPassword, "", "")
				if r.Status != 200 || r.String("login_token") == "" {
					t.Fatalf("login: %d %s", r.Status, r.Raw)
				}
				tokens = append(tokens, r.String("login_token"))
			}
			spare, tokens := tokens[40], tokens[:40]
			answers := statuses(len(tokens)*5, func(i int) int {
				env := one
				if i%2 == 1 {
					env = two
				}
				return env.Do(t, "POST", "/api/v1/login/second-factor", "", map[string]string{"login_token": tokens[i/5], "method": "totp", "code": wrong}).Status
			})
			if answers[401] != 10 || answers[423] != 190 {
				t.Fatalf("answers = %v, want 10 × 401 and 190 × 423", answers)
			}
			c, err := one.App.Store.GetCounter(context.Background(), one.App.LoginKeys.Counter(custos.EmailLogin("hal@example.com")))
			if err != nil || c.Failures != 10 || c.LockedUntil.IsZero() {
				t.Fatalf("identifier counter = %+v, %v; want 10 failures and a lock", c, err)
			}
			// The right code on a token the attack never touched is
			// refused too: the lock holds for codes.
			r := two.Do(t, "POST", "/api/v1/login/second-factor", "", map[string]string{"login_token": spare, "method": "totp", "code": totp(two, secret)})
			if r.Status != 423 {
				t.Fatalf("the right code under the lock: %d %s", r.Status, r.Raw)
			}
		})
	}
}

// TestVerificationGuessesStopAtTheLock: a stolen session starts forty
// "confirm it's you" checks and sends five wrong codes on each, all at
// once, across two replicas: exactly ten are checked.
func TestVerificationGuessesStopAtTheLock(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			one, two := twoReplicas(t, dialect)
			one.SignUp(t, "ivy@example.com", goodPassword)
			tok := one.Login(t, "ivy@example.com", goodPassword)
			secret := bindTOTP(t, one, tok)
			wrong := "000000"
			if wrong == totp(one, secret) {
				wrong = "111111"
			}
			var ids []string
			for range 40 {
				r := one.Do(t, "POST", "/api/v1/verifications", tok, map[string]string{"method": "totp"})
				if r.Status != 201 {
					t.Fatalf("start: %d %s", r.Status, r.Raw)
				}
				ids = append(ids, r.String("id"))
			}
			answers := statuses(len(ids)*5, func(i int) int {
				env := one
				if i%2 == 1 {
					env = two
				}
				return env.Do(t, "POST", "/api/v1/verifications/"+ids[i/5], tok, map[string]string{"code": wrong}).Status
			})
			if answers[422] != 10 || answers[423] != 190 {
				t.Fatalf("answers = %v, want 10 × 422 and 190 × 423", answers)
			}
			c, err := one.App.Store.GetCounter(context.Background(), one.App.LoginKeys.Counter(custos.EmailLogin("ivy@example.com")))
			if err != nil || c.Failures != 10 {
				t.Fatalf("identifier counter = %+v, %v; want 10 failures", c, err)
			}
		})
	}
}

// TestStolenSessionCannotChangeTheLoginEmail: an account with no phone,
// secure email or MFA device. Whoever holds only its bearer token cannot
// change the login email (and then reset the password through it): the
// change asks to confirm it's the holder, by a code to the current login
// email.
func TestStolenSessionCannotChangeTheLoginEmail(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		env.SignUp(t, "lone@example.com", goodPassword)
		stolen := env.Login(t, "lone@example.com", goodPassword)
		r := env.Do(t, "POST", "/api/v1/account/email", stolen, map[string]string{"email": "thief@example.net"})
		if r.Status != 403 || r.ErrorCode() != "verification_required" {
			t.Fatalf("email change with the bearer token alone: %d %s", r.Status, r.Raw)
		}
		if m, _ := errField(r, "methods").([]any); len(m) != 1 || m[0] != "email" {
			t.Fatalf("methods = %v, want only a code to the login email", errField(r, "methods"))
		}
		if n := len(env.Messages(t, "thief@example.net")); n != 0 {
			t.Fatalf("%d messages went to the thief's address", n)
		}
		// The holder, who reads the login mailbox, can go on.
		verifyBy(t, env, stolen, "email", "lone@example.com")
		if r := env.Do(t, "POST", "/api/v1/account/email", stolen, map[string]string{"email": "new@example.com"}); r.Status != 202 {
			t.Fatalf("email change after confirming: %d %s", r.Status, r.Raw)
		}
	})
}

func solved(t *testing.T, env *testserver.Env) map[string]string {
	return map[string]string{"id": newCaptcha(t, env), "answer": "test"}
}

// TestSignupFloodReachesTheVictimOnce: twenty sign-ups naming one victim's
// address in a few seconds (each with a solved captcha, past the
// per-address threshold) send the victim one email, not twenty.
func TestSignupFloodReachesTheVictimOnce(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		answers := map[int]int{}
		for range 20 {
			r := env.Do(t, "POST", "/api/v1/signup", "", map[string]any{"email": "victim@example.com", "password": goodPassword,
				"kind": "personal", "captcha": solved(t, env)})
			answers[r.Status]++
		}
		if answers[202] != 1 || answers[429] != 19 {
			t.Fatalf("answers = %v, want 1 × 202 and 19 × 429", answers)
		}
		if n := len(env.Messages(t, "victim@example.com")); n != 1 {
			t.Fatalf("the victim got %d emails, want 1", n)
		}
	})
}

// TestSignupsFromOneAddressNeedACaptcha: a few sign-ups an hour from one
// address go through; past them, each needs a solved captcha, checked
// before any work.
func TestSignupsFromOneAddressNeedACaptcha(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		signup := func(email string, captcha any) testserver.Response {
			body := map[string]any{"email": email, "password": goodPassword, "kind": "personal"}
			if captcha != nil {
				body["captcha"] = captcha
			}
			return env.Do(t, "POST", "/api/v1/signup", "", body)
		}
		for i := range 5 {
			if r := signup(fmt.Sprintf("fan%d@example.com", i), nil); r.Status != 202 {
				t.Fatalf("sign-up %d: %d %s", i+1, r.Status, r.Raw)
			}
		}
		r := signup("fan5@example.com", nil)
		if r.Status != 401 || r.ErrorCode() != "captcha_required" || errField(r, "captcha") == nil {
			t.Fatalf("sixth sign-up without a captcha: %d %s", r.Status, r.Raw)
		}
		if n := len(env.Messages(t, "fan5@example.com")); n != 0 {
			t.Fatalf("a refused sign-up sent %d emails", n)
		}
		if r := signup("fan5@example.com", map[string]string{"id": newCaptcha(t, env), "answer": "wrong"}); r.Status != 401 {
			t.Fatalf("a wrong captcha: %d %s", r.Status, r.Raw)
		}
		if r := signup("fan5@example.com", solved(t, env)); r.Status != 202 {
			t.Fatalf("with a solved captcha: %d %s", r.Status, r.Raw)
		}
	})
}

// TestLoginAndVerificationCodesAreLimited: codes by email for the second
// step of login and for "confirm it's you" count against the send limits
// like every other code: a second one to the same address inside the
// minute is refused and not sent.
func TestLoginAndVerificationCodesAreLimited(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		env.SignUp(t, "kim@example.com", goodPassword)
		tok := env.Login(t, "kim@example.com", goodPassword)
		before := len(env.Messages(t, "kim@example.com"))
		if r := env.Do(t, "POST", "/api/v1/verifications", tok, map[string]string{"method": "email"}); r.Status != 201 {
			t.Fatalf("first verification code: %d %s", r.Status, r.Raw)
		}
		if r := env.Do(t, "POST", "/api/v1/verifications", tok, map[string]string{"method": "email"}); r.Status != 429 {
			t.Fatalf("second verification code inside the minute: %d %s", r.Status, r.Raw)
		}
		if n := len(env.Messages(t, "kim@example.com")) - before; n != 1 {
			t.Fatalf("%d verification codes sent, want 1", n)
		}

		secret := bindTOTP(t, env, tok)
		verify(t, env, tok, secret)
		// Login codes by email, as the holder chose (with an app bound, mfa
		// would be the default).
		if r := env.Do(t, "PUT", "/api/v1/account/protection", tok, map[string]any{"login_protection": true, "login_method": "email"}); r.Status != 200 || r.String("login_method") != "email" {
			t.Fatalf("protection: %d %s", r.Status, r.Raw)
		}
		env.Clock.Advance(time.Minute)
		before = len(env.Messages(t, "kim@example.com"))
		for i, want := range []int{202, 429, 429} {
			lt := login(t, env, "kim@example.com", goodPassword, "", "").String("login_token")
			if r := env.Do(t, "POST", "/api/v1/login/second-factor/send", "", map[string]string{"login_token": lt, "method": "email"}); r.Status != want {
				t.Fatalf("login code %d: %d %s, want %d", i+1, r.Status, r.Raw, want)
			}
		}
		if n := len(env.Messages(t, "kim@example.com")) - before; n != 1 {
			t.Fatalf("%d login codes sent, want 1", n)
		}
	})
}

// TestResetLimiterLinksNothing: a reset by phone, then within the minute a
// reset by the email of the account bound to that phone, answer exactly as
// a reset by an email unrelated to it does — the same 202 — and the second
// code is silently not sent. Before, only the related email got a 429,
// which told an outsider that email and phone belong together.
func TestResetLimiterLinksNothing(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		ctx := context.Background()
		id := env.SignUp(t, "pam@example.com", goodPassword)
		env.SignUp(t, "other@example.com", goodPassword)
		ev, err := custos.NewEvent(rand.Reader, env.Clock.Now(), custos.EventPhoneChanged, id, "", custos.Client{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := env.App.Store.SetPhone(ctx, id, phoneA, 5, ev); err != nil {
			t.Fatal(err)
		}
		reset := func(body map[string]any) testserver.Response {
			body["captcha"] = solved(t, env)
			return env.Do(t, "POST", "/api/v1/password-reset", "", body)
		}
		if r := reset(map[string]any{"phone": phoneA}); r.Status != 202 {
			t.Fatalf("reset by phone: %d %s", r.Status, r.Raw)
		}
		related := reset(map[string]any{"email": "pam@example.com"})
		unrelated := reset(map[string]any{"email": "other@example.com"})
		if related.Status != 202 || unrelated.Status != 202 || related.String("reset_id") == "" {
			t.Fatalf("related email: %d %s; unrelated: %d %s; want the same 202", related.Status, related.Raw, unrelated.Status, unrelated.Raw)
		}
		if n := len(env.Messages(t, phoneA)); n != 1 {
			t.Fatalf("the phone got %d codes inside the minute, want 1", n)
		}
		// The silently skipped reset can only die.
		for range 5 {
			if r := env.Do(t, "POST", "/api/v1/password-reset/"+related.String("reset_id"), "", map[string]string{"code": env.Code(t, phoneA, "reset_code")}); r.Status == 200 {
				t.Fatalf("the skipped reset was proven by the first reset's code: %s", r.Raw)
			}
		}
	})
}

// resetBy starts a password reset (by "email" or "phone"), proves it with
// the code sent to codeTo, and returns the reset id and the accounts it
// lists.
func resetBy(t *testing.T, env *testserver.Env, key, value, codeTo string) (string, []map[string]any) {
	t.Helper()
	env.Clock.Advance(time.Minute) // past the cooldown of the last code
	r := env.Do(t, "POST", "/api/v1/password-reset", "", map[string]any{key: value, "captcha": solved(t, env)})
	if r.Status != 202 {
		t.Fatalf("reset by %s: %d %s", key, r.Status, r.Raw)
	}
	id := r.String("reset_id")
	var codes []string
	for _, m := range env.Messages(t, codeTo) {
		if m.Purpose == "reset_code" && m.SentAt.Equal(env.Clock.Now()) {
			codes = append(codes, m.Code)
		}
	}
	if len(codes) != 1 {
		return id, nil // no code reached codeTo
	}
	p := env.Do(t, "POST", "/api/v1/password-reset/"+id, "", map[string]string{"code": codes[0]})
	if p.Status != 200 {
		t.Fatalf("prove reset: %d %s", p.Status, p.Raw)
	}
	var out []map[string]any
	for _, a := range p.Body["accounts"].([]any) {
		out = append(out, a.(map[string]any))
	}
	return id, out
}

func completeReset(t *testing.T, env *testserver.Env, id, accountID, pw string) testserver.Response {
	t.Helper()
	return env.Do(t, "POST", "/api/v1/password-reset/"+id+"/complete", "", map[string]string{"account_id": accountID, "password": pw})
}

// TestReplacedPhoneNeverGetsIn, the first story: the holder replaces the
// phone (lost, or the number given up). Whoever now holds the old number
// gets the "it wasn't me" text and follows it. That freezes the account —
// it does not put the old number back — so the old number reaches nothing:
// no reset code, no account. The holder gets back in through the account
// email, a channel the change did not touch.
func TestReplacedPhoneNeverGetsIn(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		id := env.SignUp(t, "nia@example.com", goodPassword)
		tok := env.Login(t, "nia@example.com", goodPassword)
		bindPhone(t, env, tok, phoneA)
		verifyBy(t, env, tok, "sms", phoneA)
		env.Clock.Advance(time.Minute)
		if r := bindPhone(t, env, tok, phoneB); r.Status != 200 {
			t.Fatalf("new phone: %d %s", r.Status, r.Raw)
		}
		// The old number's holder follows the link.
		followUndo(t, env, phoneA)
		if r := env.Do(t, "GET", "/api/v1/session", tok, nil); r.Status != 401 {
			t.Fatalf("a session survived the freeze: %d", r.Status)
		}
		for _, to := range []string{"nia@example.com", phoneB} {
			if !hasPurpose(env.Messages(t, to), "account_frozen") {
				t.Errorf("%s was not told of the freeze", to)
			}
		}
		// The old number is not put back, and reaches no account.
		if _, accounts := resetBy(t, env, "phone", phoneA, phoneA); len(accounts) != 0 {
			t.Fatalf("a reset by the replaced number lists %v", accounts)
		}
		env.Clock.Advance(time.Minute)
		if r := env.Do(t, "POST", "/api/v1/retrieve", "", map[string]any{"phone": phoneA, "captcha": solved(t, env)}); r.Status != 202 {
			t.Fatalf("retrieve: %d %s", r.Status, r.Raw)
		}
		// A reset by the account email sends its code to the account
		// email: the new phone came with the change and is not trusted.
		rid, accounts := resetBy(t, env, "email", "nia@example.com", "nia@example.com")
		if len(accounts) != 1 || accounts[0]["account_id"] != id || accounts[0]["can_self_serve"] != true {
			t.Fatalf("the holder's reset by email lists %v", accounts)
		}
		if r := completeReset(t, env, rid, id, "a brand new passphrase"); r.Status != 200 {
			t.Fatalf("the holder's reset: %d %s", r.Status, r.Raw)
		}
		if r := login(t, env, "nia@example.com", "a brand new passphrase", "", ""); r.Status != 200 {
			t.Fatalf("the holder logs in again: %d %s", r.Status, r.Raw)
		}
	})
}

// TestHijackedPhoneIsFrozenOut, the second story: someone with a stolen,
// verified session binds their own number. The real holder gets the
// "it wasn't me" text on the old phone and follows it: the hijacker's
// session ends, password login is off, and the hijacker's number cannot
// reset the password. The holder gets back in by the account email.
func TestHijackedPhoneIsFrozenOut(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		id := env.SignUp(t, "oda@example.com", goodPassword)
		holder := env.Login(t, "oda@example.com", goodPassword)
		bindPhone(t, env, holder, phoneA)
		stolen := env.Login(t, "oda@example.com", goodPassword)
		verifyBy(t, env, stolen, "sms", phoneA) // say the hijacker saw one code
		env.Clock.Advance(time.Minute)
		if r := bindPhone(t, env, stolen, phoneB); r.Status != 200 {
			t.Fatalf("hijacker binds a number: %d %s", r.Status, r.Raw)
		}
		followUndo(t, env, phoneA)
		for _, tok := range []string{holder, stolen} {
			if r := env.Do(t, "GET", "/api/v1/session", tok, nil); r.Status != 401 {
				t.Fatalf("a session survived the freeze: %d", r.Status)
			}
		}
		if r := login(t, env, "oda@example.com", goodPassword, "", ""); r.Status != 401 {
			t.Fatalf("password login after the freeze: %d %s", r.Status, r.Raw)
		}
		// The hijacker's number proves itself, but may not reset.
		rid, accounts := resetBy(t, env, "phone", phoneB, phoneB)
		if len(accounts) != 1 || accounts[0]["can_self_serve"] != false {
			t.Fatalf("the hijacker's number lists %v, want the account for support only", accounts)
		}
		if r := completeReset(t, env, rid, id, "the hijackers passphrase"); r.Status != 403 {
			t.Fatalf("a reset by the hijacker's number: %d %s", r.Status, r.Raw)
		}
		if r := login(t, env, "oda@example.com", "the hijackers passphrase", "", ""); r.Status == 200 {
			t.Fatal("the hijacker got in")
		}
		// A reset by email does not send its code to the hijacker's number.
		rid, accounts = resetBy(t, env, "email", "oda@example.com", "oda@example.com")
		if len(accounts) != 1 {
			t.Fatalf("the holder's reset by email lists %v", accounts)
		}
		for _, m := range env.Messages(t, phoneB) {
			if m.Purpose == "reset_code" && m.SentAt.Equal(env.Clock.Now()) {
				t.Fatal("the reset code went to the hijacker's number")
			}
		}
		if r := completeReset(t, env, rid, id, "the holders new passphrase"); r.Status != 200 {
			t.Fatalf("the holder's reset: %d %s", r.Status, r.Raw)
		}
	})
}

// followUndo follows the "it wasn't me" link of the phone change told to
// the number `to`.
func followUndo(t *testing.T, env *testserver.Env, to string) {
	t.Helper()
	var link string
	for _, m := range env.Messages(t, to) {
		if m.Purpose == "phone_changed" {
			link = undoToken(t, m.Text)
		}
	}
	if r := env.Do(t, "POST", "/api/v1/undo", "", map[string]string{"token": link}); r.Status != 200 {
		t.Fatalf("undo: %d %s", r.Status, r.Raw)
	}
}

func hasPurpose(msgs []notify.Rendered, purpose string) bool {
	for _, m := range msgs {
		if m.Purpose == purpose {
			return true
		}
	}
	return false
}

// TestOneEmailValidatorOnEveryPath: addresses that smuggle a header, have
// an empty domain label or a NUL are refused with invalid_email by sign-up,
// the secure email change and reset alike.
func TestOneEmailValidatorOnEveryPath(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		env.SignUp(t, "val@example.com", goodPassword)
		tok := env.Login(t, "val@example.com", goodPassword)
		for _, bad := range []string{"x\r\nbcc@example.com", "z@.com", "nul\x00@example.com", "a@b..com", "Eve <eve@example.com>"} {
			paths := []struct {
				name string
				do   func() testserver.Response
			}{
				{"signup", func() testserver.Response {
					return env.Do(t, "POST", "/api/v1/signup", "", map[string]any{"email": bad, "password": goodPassword, "kind": "personal", "captcha": solved(t, env)})
				}},
				{"secure email", func() testserver.Response {
					return env.Do(t, "POST", "/api/v1/account/secure-email", tok, map[string]string{"email": bad})
				}},
				{"reset", func() testserver.Response {
					return env.Do(t, "POST", "/api/v1/password-reset", "", map[string]any{"email": bad, "captcha": solved(t, env)})
				}},
			}
			for _, p := range paths {
				r := p.do()
				if r.Status != 422 && r.Status != 400 {
					t.Errorf("%s with %q: %d %s, want a 4xx refusal", p.name, bad, r.Status, r.Raw)
				}
				if r.Status == 422 && r.ErrorCode() != "invalid_email" {
					t.Errorf("%s with %q: %s", p.name, bad, r.Raw)
				}
			}
		}
		env.Drain(t)
		if msgs, _ := notify.ReadOutbox(env.Outbox); len(msgs) != 1 { // the sign-up code of val@
			t.Errorf("refused addresses were sent %d messages", len(msgs)-1)
		}
	})
}

// TestCaptchasAreLimitedPerAddress: one client asking for captchas as fast
// as it can gets its share, then 429, and no more rows are made.
func TestCaptchasAreLimitedPerAddress(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		answers := map[int]int{}
		for range 320 {
			answers[env.Do(t, "POST", "/api/v1/captcha", "", nil).Status]++
		}
		if answers[201] != 300 || answers[429] != 20 {
			t.Fatalf("answers = %v, want 300 × 201 and 20 × 429", answers)
		}
		// The refusals to log in without one make no captcha either.
		r := login(t, env, "cap@example.com", "wrong password", "", "")
		for range 3 {
			r = login(t, env, "cap@example.com", "wrong password", "", "")
		}
		if r.Status != 429 {
			t.Fatalf("a login that would hand out a captcha: %d %s", r.Status, r.Raw)
		}
	})
}

// TestTypedPasswordIsNotStoredInClear: a password typed into the email
// field is neither a counter key nor an audit identifier in clear.
func TestTypedPasswordIsNotStoredInClear(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		ctx := context.Background()
		const typed = "Hunter2-my-real-password"
		if r := login(t, env, typed, "whatever", "", ""); r.Status != 401 {
			t.Fatalf("login: %d %s", r.Status, r.Raw)
		}
		if c, err := env.App.Store.GetCounter(ctx, "id:"+strings.ToLower(typed)); err != nil || c.Failures != 0 {
			t.Fatalf("a counter is kept under the typed text: %+v, %v", c, err)
		}
		if c, err := env.App.Store.GetCounter(ctx, env.App.LoginKeys.Counter(custos.EmailLogin(typed))); err != nil || c.Failures != 1 {
			t.Fatalf("the keyed counter: %+v, %v; want one failure", c, err)
		}
		events, err := env.App.Store.ListAudit(ctx, "", 50)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) == 0 {
			t.Fatal("the failure was not audited")
		}
		for _, e := range events {
			if strings.Contains(strings.ToLower(e.Identifier), strings.ToLower(typed)) {
				t.Fatalf("the audit log keeps %q", e.Identifier)
			}
		}
	})
}

// twoReplicas starts two servers on one database, sharing a clock and a
// key ring, as two replicas of one deployment.
func twoReplicas(t *testing.T, dialect string) (*testserver.Env, *testserver.Env) {
	t.Helper()
	dsn := testdb.DSN(t, dialect)
	clock := testclock.New(time.Time{})
	one := testserver.Start(t, testserver.Options{DSN: dsn, Clock: clock})
	return one, testserver.Start(t, testserver.Options{DSN: dsn, Clock: clock, Keys: one.Keys})
}

// TestPendingResetDiesWithAPasswordChange: a reset proven before the holder
// changes the password can no longer set one afterwards.
func TestPendingResetDiesWithAPasswordChange(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		id := env.SignUp(t, "uli@example.com", goodPassword)
		rid, accounts := resetBy(t, env, "email", "uli@example.com", "uli@example.com")
		if len(accounts) != 1 {
			t.Fatalf("reset lists %v", accounts)
		}
		tok := env.Login(t, "uli@example.com", goodPassword)
		env.Clock.Advance(time.Minute)
		verifyBy(t, env, tok, "email", "uli@example.com")
		if r := env.Do(t, "PUT", "/api/v1/account/password", tok, map[string]string{"password": "the holders own new one"}); r.Status != 200 && r.Status != 204 {
			t.Fatalf("password change: %d %s", r.Status, r.Raw)
		}
		if r := completeReset(t, env, rid, id, "an older reset's password"); r.Status != 410 {
			t.Fatalf("the older reset after the change: %d %s", r.Status, r.Raw)
		}
		if r := login(t, env, "uli@example.com", "the holders own new one", "", ""); r.Status != 200 {
			t.Fatalf("the holder's password: %d %s", r.Status, r.Raw)
		}
	})
}

// answersOf runs n requests at once (do(i) sends the i-th) and counts the
// answers by status and error code: "202", "409 identity_limit".
func answersOf(n int, do func(i int) testserver.Response) map[string]int {
	var mu sync.Mutex
	answers := map[string]int{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := do(i)
			key := strconv.Itoa(r.Status)
			if c := r.ErrorCode(); c != "" {
				key += " " + c
			}
			mu.Lock()
			answers[key]++
			mu.Unlock()
		})
	}
	wg.Wait()
	return answers
}

// statuses runs n requests at once (do(i) answers the i-th's status) and
// counts the answers by status.
func statuses(n int, do func(i int) int) map[int]int {
	var mu sync.Mutex
	answers := map[int]int{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status := do(i)
			mu.Lock()
			answers[status]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	return answers
}
