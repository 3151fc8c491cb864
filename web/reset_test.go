package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custos/custos/internal/testserver"
)

const newPassword = "a brand new passphrase"

// withCaptcha is a form with the page's captcha solved (the test server's
// captchas all answer "test") and the fields kv.
func withCaptcha(p page, kv ...string) url.Values {
	f := url.Values{"captcha_id": {hidden(p, "captcha_id")}, "captcha_answer": {"test"}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

var foundAccount = regexp.MustCompile(`data-account="([^"]+)"`)

// foundAccounts lists the account ids a list of found accounts shows.
func foundAccounts(p page) []string {
	var out []string
	for _, m := range foundAccount.FindAllStringSubmatch(p.Body, -1) {
		out = append(out, m[1])
	}
	return out
}

// resetForm is the hidden state of the first "Reset its password" form on
// p, or of the new-password form.
func resetForm(p page) url.Values {
	f := url.Values{}
	for _, name := range []string{"account_id", "account_email", "needs_mfa", "mfa_methods", "self_serve", "mfa_method"} {
		if v := hidden(p, name); v != "" {
			f.Set(name, v)
		}
	}
	return f
}

func TestPublicRecoveryPagesAlwaysAskForACaptcha(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	v := newVisitor(t, env)
	for _, path := range []string{"/find-accounts", "/forgot-password"} {
		p := v.get(path)
		wantStatus(t, p, http.StatusOK)
		id := hidden(p, "captcha_id")
		if id == "" {
			t.Fatalf("%s: no captcha", path)
		}
		wantContains(t, p, `src="/api/v1/captcha/`+id+`/image"`, `href="/api/v1/captcha/`+id+`/audio"`,
			`href="`+path+`">New picture`, `<label for="captcha_answer">`, `type="tel"`, `autocomplete="tel"`)
		if img := v.get("/api/v1/captcha/" + id + "/image"); img.StatusCode != 200 || img.Header.Get("Content-Type") != "image/png" {
			t.Errorf("%s: captcha image %d %s", path, img.StatusCode, img.Header.Get("Content-Type"))
		}
	}
	wantContains(t, v.get("/login"), `href="/forgot-password"`, `href="/find-accounts"`)
	wantAbsent(t, v.get("/login"), "coming soon. Password reset")
}

func TestFindAccountsRefusals(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	v := newVisitor(t, env)
	tests := []struct {
		name  string
		form  func(p page) url.Values
		field string
		want  string
	}{
		{"no phone", func(p page) url.Values { return withCaptcha(p) }, "phone", "Enter your phone number."},
		{"no captcha answer", func(p page) url.Values {
			return url.Values{"phone": {phoneA}, "captcha_id": {hidden(p, "captcha_id")}}
		}, "captcha_answer", "characters were not right"},
		{"wrong captcha", func(p page) url.Values {
			f := withCaptcha(p, "phone", phoneA)
			f.Set("captcha_answer", "nope")
			return f
		}, "captcha_answer", "characters were not right"},
		{"no captcha at all", func(page) url.Values { return url.Values{"phone": {phoneA}} }, "captcha_answer", "Type the characters in the picture first."},
		{"not a number", func(p page) url.Values { return withCaptcha(p, "phone", "12345") }, "phone", "phone number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := v.get("/find-accounts")
			p := v.post("/find-accounts", tt.form(start))
			wantStatus(t, p, http.StatusBadRequest)
			wantContains(t, p, `role="alert"`, `id="`+tt.field+`-error"`, `href="#`+tt.field+`"`, tt.want)
			// Every answer brings a captcha to solve for the next try.
			if id := hidden(p, "captcha_id"); id == "" || id == hidden(start, "captcha_id") {
				t.Errorf("the form came back with captcha %q (the first was %q)", id, hidden(start, "captcha_id"))
			}
		})
	}
	if msgs := env.Messages(t, phoneA); len(msgs) != 0 {
		t.Errorf("refused requests sent %d messages", len(msgs))
	}
	// A second code to the same number inside the minute is not sent, and
	// the page does not say so: a refusal about the number would tell an
	// outsider which identifiers belong together.
	wantStatus(t, v.post("/find-accounts", withCaptcha(v.get("/find-accounts"), "phone", phoneA)), http.StatusSeeOther)
	wantStatus(t, v.post("/find-accounts", withCaptcha(v.get("/find-accounts"), "phone", phoneA)), http.StatusSeeOther)
	if msgs := env.Messages(t, phoneA); len(msgs) != 1 {
		t.Errorf("two requests inside the minute sent %d texts, want 1", len(msgs))
	}
}

func TestFindAccountsThroughForms(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		for _, email := range []string{"xena@example.com", "xavier@example.com"} {
			env.SignUp(t, email, testPassword)
			env.Clock.Advance(time.Minute)
			bindPhoneByAPI(t, env, email, phoneA)
		}
		env.Clock.Advance(time.Minute)
		v := newVisitor(t, env)

		id := flowID(t, v.post("/find-accounts", withCaptcha(v.get("/find-accounts"), "phone", "+86 138-0013-8000")), "/find-accounts")
		// Another number, bound to nothing, gets the same answer.
		other := newVisitor(t, env)
		emptyID := flowID(t, other.post("/find-accounts", withCaptcha(other.get("/find-accounts"), "phone", phoneB)), "/find-accounts")

		p := unesc(v.get("/find-accounts/" + id))
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, "We texted a 6-digit code to "+phoneAMasked+".", "10 minutes after we sent it",
			`autocomplete="one-time-code"`, `action="/find-accounts/`+id+`"`, "You can ask for a new code in 60 seconds.")
		q := unesc(other.get("/find-accounts/" + emptyID))
		if strings.ReplaceAll(q.Body, emptyID, "ID") != strings.ReplaceAll(strings.ReplaceAll(p.Body, id, "ID"), phoneAMasked, phoneBMasked) {
			t.Errorf("the code pages of a used and an unused number differ:\n%s\n----\n%s", p.Body, q.Body)
		}
		code := env.Code(t, phoneA, "retrieve_code")
		if strings.Contains(v.get("/find-accounts/"+id).Body, code) {
			t.Fatal("the code page shows the code")
		}
		p = v.post("/find-accounts/"+id, url.Values{"code": {notCode(code)}})
		wantStatus(t, p, http.StatusBadRequest)
		wantContains(t, p, `id="code-error"`, "That code is not right.")

		// After the cooldown the page offers a new code: the form again,
		// filled in, with a new captcha.
		env.Clock.Advance(time.Minute)
		p = v.get("/find-accounts/" + id)
		wantContains(t, p, `id="send-again"`, `name="action" value="again"`)
		p = unesc(v.post("/find-accounts", url.Values{"action": {"again"}, "phone": {hidden(p, "phone")}}))
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, `value="+86 138-0013-8000"`, `name="captcha_id"`)
		wantAbsent(t, p, `role="alert"`)

		p = v.post("/find-accounts/"+id, url.Values{"code": {code}})
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, "Accounts using this number", "x***a@ex***le.com", "xa***er@ex***le.com", "Personal", "Reset its password",
			`action="/forgot-password/`+id+`/password"`)
		wantAbsent(t, p, "xena@", "xavier@")
		ids := foundAccounts(p)
		if len(ids) != 2 {
			t.Fatalf("%d accounts listed, want 2", len(ids))
		}
		created := env.Clock.Now().UTC().Format("2 January 2006")
		wantContains(t, p, created)

		q = other.post("/find-accounts/"+emptyID, url.Values{"code": {env.Code(t, phoneB, "retrieve_code")}})
		wantStatus(t, q, http.StatusOK)
		wantContains(t, q, "No account uses this number.")

		// "Reset its password" goes to the reset's last step for that
		// account.
		p = v.post("/forgot-password/"+id+"/password", func() url.Values {
			f := resetForm(p)
			f.Set("action", "choose")
			return f
		}())
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, "Choose a new password", "For the account x***a@ex***le.com.", `autocomplete="new-password"`)
		wantAbsent(t, p, `name="code"`)
		f := resetForm(p)
		f.Set("password", newPassword)
		wantRedirect(t, v.post("/forgot-password/"+id+"/password", f), "/forgot-password/done")
		which := ""
		for _, email := range []string{"xena@example.com", "xavier@example.com"} {
			if r := env.Do(t, "POST", "/api/v1/login", "", map[string]string{"email": email, "password": newPassword}); r.Status == 200 {
				which = email
			}
		}
		if which == "" {
			t.Fatal("neither account takes the new password")
		}
		act := env.Do(t, "GET", "/api/v1/activity", env.Login(t, which, newPassword), nil)
		if !strings.Contains(string(act.Raw), "accounts.retrieved") || !strings.Contains(string(act.Raw), "password.reset") {
			t.Errorf("activity %s", act.Raw)
		}
	})
}

// TestForgotPasswordLooksTheSameForUnknownAccounts: the code page names
// what was typed (masked) and how a code goes from there, and nothing
// else: a known and an unknown email get the same page but for the
// address typed, and a phone no account uses is told it was texted.
func TestForgotPasswordLooksTheSameForUnknownAccounts(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	env.SignUp(t, "yara@example.com", testPassword)
	bindPhoneByAPI(t, env, "yara@example.com", phoneA)
	tests := []struct {
		name   string
		field  string
		value  string
		masked string
		sent   string
	}{
		{"known email", "email", "yara@example.com", "y***a@ex***le.com",
			"If an account uses y***a@ex***le.com, we sent it a code: by text message to its bound phone when it has one, otherwise by email to its secure email or to y***a@ex***le.com."},
		{"unknown email", "email", "nobody@example.com", "no***dy@ex***le.com",
			"If an account uses no***dy@ex***le.com, we sent it a code: by text message to its bound phone when it has one, otherwise by email to its secure email or to no***dy@ex***le.com."},
		{"unused phone", "phone", phoneB, phoneBMasked, "If an account uses " + phoneBMasked + ", we sent a code to it by text message."},
	}
	var pages []string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVisitor(t, env)
			start := v.get("/forgot-password")
			p := v.post("/forgot-password", withCaptcha(start, tt.field, tt.value))
			id := flowID(t, p, "/forgot-password")
			p = unesc(v.get("/forgot-password/" + id))
			wantStatus(t, p, http.StatusOK)
			wantContains(t, p, tt.sent, "10 minutes after we sent it", `autocomplete="one-time-code"`)
			// Never the account's own phone (where the code went), nor
			// the address in full.
			wantAbsent(t, p, phoneAMasked, tt.value)
			pages = append(pages, strings.ReplaceAll(strings.ReplaceAll(p.Body, id, "ID"), tt.masked, "TYPED"))
			q := v.post("/forgot-password/"+id, url.Values{"code": {"123456"}})
			wantStatus(t, q, http.StatusBadRequest)
			wantContains(t, q, "That code is not right.")
		})
	}
	if pages[1] != pages[0] {
		t.Errorf("the code page for an unknown email differs from a known one's:\n%s\n----\n%s", pages[1], pages[0])
	}
}

func TestForgotPasswordRefusals(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	v := newVisitor(t, env)
	tests := []struct {
		name  string
		form  func(p page) url.Values
		field string
		want  string
	}{
		{"neither", func(p page) url.Values { return withCaptcha(p) }, "email", "Enter your account email or your phone number."},
		{"both", func(p page) url.Values { return withCaptcha(p, "email", "a@example.com", "phone", phoneA) }, "email", "not both"},
		{"not an email", func(p page) url.Values { return withCaptcha(p, "email", "nobody") }, "email", "Enter your account email or your phone number."},
		{"not a phone", func(p page) url.Values { return withCaptcha(p, "phone", "12") }, "phone", "phone number"},
		{"no captcha", func(page) url.Values { return url.Values{"email": {"a@example.com"}} }, "captcha_answer", "Type the characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := v.post("/forgot-password", tt.form(v.get("/forgot-password")))
			wantStatus(t, p, http.StatusBadRequest)
			wantContains(t, p, `role="alert"`, `id="`+tt.field+`-error"`, tt.want)
			if hidden(p, "captcha_id") == "" {
				t.Error("the form came back without a captcha")
			}
		})
	}
}

func TestForgotPasswordThroughForms(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		env.SignUp(t, "yara@example.com", testPassword)
		signedIn := newVisitor(t, env)
		signedIn.login("yara@example.com", testPassword)
		v := newVisitor(t, env)

		id := flowID(t, v.post("/forgot-password", withCaptcha(v.get("/forgot-password"), "email", "YARA@example.com")), "/forgot-password")
		// No phone or secure email: the code goes to the account email.
		code := env.Code(t, "yara@example.com", "reset_code")
		p := v.post("/forgot-password/"+id, url.Values{"code": {code}})
		// One account: straight to its new password.
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, "Choose a new password", "For the account y***a@ex***le.com.", `autocomplete="new-password"`,
			`type="password"`, `action="/forgot-password/`+id+`/password"`)
		wantAbsent(t, p, `name="code"`, code)
		form := resetForm(p)

		for _, tt := range []struct{ name, pw, want string }{
			{"empty", "", "Enter a new password."},
			{"short", "short", "at least 8 characters"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				f := resetForm(p)
				f.Set("password", tt.pw)
				q := v.post("/forgot-password/"+id+"/password", f)
				wantStatus(t, q, http.StatusBadRequest)
				wantContains(t, q, `id="password-error"`, `href="#password"`, tt.want)
			})
		}
		form.Set("password", newPassword)
		wantRedirect(t, v.post("/forgot-password/"+id+"/password", form), "/forgot-password/done")
		p = v.get("/forgot-password/done")
		wantContains(t, p, "Your password is changed", `href="/login"`)
		// The reset ended the old session, and the new password logs in.
		wantRedirect(t, signedIn.get("/account"), "/login")
		newVisitor(t, env).login("yara@example.com", newPassword)
		// A reset works once.
		p = v.post("/forgot-password/"+id+"/password", form)
		wantStatus(t, p, http.StatusGone)
		wantContains(t, p, "This reset can no longer be used", `href="/forgot-password"`)
		// The step's GET has nothing to show without the form.
		wantRedirect(t, v.get("/forgot-password/"+id+"/password"), "/forgot-password")
	})
}

func TestForgotPasswordCodeExpires(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	env.SignUp(t, "yara@example.com", testPassword)
	v := newVisitor(t, env)
	id := flowID(t, v.post("/forgot-password", withCaptcha(v.get("/forgot-password"), "email", "yara@example.com")), "/forgot-password")
	code := env.Code(t, "yara@example.com", "reset_code")
	wantContains(t, v.post("/forgot-password/"+id, url.Values{"code": {""}}), "Enter the 6-digit code.")
	env.Clock.Advance(11 * time.Minute)
	p := v.post("/forgot-password/"+id, url.Values{"code": {code}})
	wantStatus(t, p, http.StatusGone)
	wantContains(t, p, "This code can no longer be used", `href="/forgot-password"`)
}

func TestForgotPasswordByPhoneWithSeveralAccounts(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	for _, email := range []string{"zed@example.com", "zara@example.com"} {
		env.SignUp(t, email, testPassword)
		env.Clock.Advance(time.Minute)
		bindPhoneByAPI(t, env, email, phoneA)
	}
	env.Clock.Advance(time.Minute)
	v := newVisitor(t, env)
	id := flowID(t, v.post("/forgot-password", withCaptcha(v.get("/forgot-password"), "phone", phoneA)), "/forgot-password")
	p := v.post("/forgot-password/"+id, url.Values{"code": {env.Code(t, phoneA, "reset_code")}})
	wantStatus(t, p, http.StatusOK)
	wantContains(t, p, "Choose the account", "z***d@ex***le.com", "z***a@ex***le.com")
	if n := len(foundAccounts(p)); n != 2 {
		t.Fatalf("%d accounts to choose from, want 2", n)
	}
	f := resetForm(p)
	f.Set("action", "choose")
	p = v.post("/forgot-password/"+id+"/password", f)
	wantStatus(t, p, http.StatusOK)
	f = resetForm(p)
	f.Set("password", newPassword)
	wantRedirect(t, v.post("/forgot-password/"+id+"/password", f), "/forgot-password/done")
	// The account id in the form must be one the proven number reaches.
	env.SignUp(t, "stranger@example.com", testPassword)
	env.Clock.Advance(time.Minute)
	id = flowID(t, v.post("/forgot-password", withCaptcha(v.get("/forgot-password"), "phone", phoneA)), "/forgot-password")
	v.post("/forgot-password/"+id, url.Values{"code": {env.Code(t, phoneA, "reset_code")}})
	stranger := env.Do(t, "GET", "/api/v1/account", env.Login(t, "stranger@example.com", testPassword), nil).String("account_id")
	p = v.post("/forgot-password/"+id+"/password", url.Values{"account_id": {stranger}, "password": {newPassword}})
	wantStatus(t, p, http.StatusNotFound)
	if r := env.Do(t, "POST", "/api/v1/login", "", map[string]string{"email": "stranger@example.com", "password": testPassword}); r.Status != 200 {
		t.Fatalf("the stranger's password changed: %d", r.Status)
	}
}

func TestForgotPasswordNeedsMFA(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	env.SignUp(t, "zoe@example.com", testPassword)
	owner := newVisitor(t, env)
	owner.login("zoe@example.com", testPassword)
	secret := owner.bindApp()

	v := newVisitor(t, env)
	id := flowID(t, v.post("/forgot-password", withCaptcha(v.get("/forgot-password"), "email", "zoe@example.com")), "/forgot-password")
	p := v.post("/forgot-password/"+id, url.Values{"code": {env.Code(t, "zoe@example.com", "reset_code")}})
	wantStatus(t, p, http.StatusOK)
	wantContains(t, p, "This account has MFA", "Code from your authenticator app", `name="mfa_method" value="totp"`,
		`autocomplete="one-time-code"`, `<label for="code">`)
	form := resetForm(p)
	form.Set("password", newPassword)
	p = v.post("/forgot-password/"+id+"/password", form)
	wantStatus(t, p, http.StatusBadRequest)
	wantContains(t, p, `id="code-error"`, "Enter the code.")
	env.Clock.Advance(30 * time.Second)
	form.Set("code", wrongCode(env, secret))
	p = v.post("/forgot-password/"+id+"/password", form)
	wantStatus(t, p, http.StatusBadRequest)
	wantContains(t, p, `id="code-error"`, "That code is not right.")
	// Leaving MFA out of the form does not skip it.
	noMFA := url.Values{"account_id": {form.Get("account_id")}, "password": {newPassword}}
	p = v.post("/forgot-password/"+id+"/password", noMFA)
	wantStatus(t, p, http.StatusBadRequest)
	wantContains(t, p, `id="code-error"`, "This account has MFA", `name="mfa_method" value="totp"`)
	form.Set("code", totpCode(env, secret))
	wantRedirect(t, v.post("/forgot-password/"+id+"/password", form), "/forgot-password/done")
	newVisitor(t, env).login("zoe@example.com", newPassword)
}

func TestNewPasswordStepForAnAccountOnlySupportCanReset(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	v := newVisitor(t, env)
	p := v.post("/forgot-password/rec_0123/password", url.Values{
		"account_id": {"acct_0123"}, "account_email": {"k***@example.com"}, "needs_mfa": {"true"},
		"mfa_methods": {""}, "self_serve": {"false"}, "action": {"choose"},
	})
	wantStatus(t, p, http.StatusOK)
	wantContains(t, p, `id="needs-support"`, "Contact support", "k***@example.com")
	wantAbsent(t, p, `name="password"`)
}

func TestUndoThroughForms(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		env.SignUp(t, "vera@example.com", testPassword)
		v := newVisitor(t, env)
		v.login("vera@example.com", testPassword)
		v.confirmByEmail("vera@example.com", "/account/email")
		id := flowID(t, v.post("/account/email", url.Values{"email": {"vera@new.example.com"}}), "/account/email")
		wantRedirect(t, v.post("/account/email/"+id, url.Values{"code": {env.Code(t, "vera@new.example.com", "email_code")}}), "/account?done=email")
		notice := env.Messages(t, "vera@example.com")[0]
		i := strings.Index(notice.Text, "/undo?token=")
		if i < 0 {
			t.Fatalf("no undo link in %q", notice.Text)
		}
		link := strings.TrimRight(strings.Fields(notice.Text[i:])[0], ".,")
		u, _ := url.Parse(link)
		token := u.Query().Get("token")

		// Opening the link only asks.
		anyone := newVisitor(t, env)
		p := anyone.get(link)
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, "End every session and require a password reset?", `action="/undo"`, `method="post"`)
		if hidden(p, "token") != token {
			t.Errorf("the form carries token %q, want the link's", hidden(p, "token"))
		}
		wantStatus(t, v.get("/account"), http.StatusOK)

		p = anyone.post("/undo", url.Values{"token": {token}})
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, "The account is frozen", "every channel on file was told", `href="/forgot-password"`)
		wantRedirect(t, v.get("/account"), "/login")
		if r := env.Do(t, "POST", "/api/v1/login", "", map[string]string{"email": "vera@new.example.com", "password": testPassword}); r.Status != 401 {
			t.Errorf("the password still logs in after undo: %d", r.Status)
		}
		p = anyone.post("/undo", url.Values{"token": {token}})
		wantStatus(t, p, http.StatusGone)
		wantContains(t, p, "This link can no longer be used", `href="/forgot-password"`)

		for _, tt := range []struct {
			name   string
			p      page
			status int
		}{
			{"link without a token", anyone.get("/undo"), http.StatusBadRequest},
			{"form without a token", anyone.post("/undo", url.Values{}), http.StatusBadRequest},
			{"made-up token", anyone.post("/undo", url.Values{"token": {"x"}}), http.StatusGone},
		} {
			t.Run(tt.name, func(t *testing.T) {
				wantStatus(t, tt.p, tt.status)
				wantContains(t, tt.p, `role="alert"`, `href="/forgot-password"`)
			})
		}
	})
}
