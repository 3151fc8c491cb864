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

// subPassword is the password the tests give sub-users.
const subPassword = "tidy violet lantern 4217"

// team is a root account with one sub-user, made through the JSON API.
type team struct {
	RootID, RootEmail, RootToken string
	SubID, UserName              string
}

// newTeam signs up rootEmail and creates the sub-user userName with the
// settings in more (must_bind_mfa, login_protection…) and subPassword.
func newTeam(t *testing.T, env *testserver.Env, rootEmail, userName string, more map[string]any) team {
	t.Helper()
	tm := team{RootEmail: rootEmail, UserName: userName}
	tm.RootID = env.SignUp(t, rootEmail, testPassword)
	tm.RootToken = env.Login(t, rootEmail, testPassword)
	env.Verify(t, tm.RootToken, rootEmail)
	body := map[string]any{"user_name": userName, "password": subPassword}
	for k, v := range more {
		body[k] = v
	}
	r := env.Do(t, "POST", "/api/v1/sub-users", tm.RootToken, body)
	if tm.SubID = r.String("sub_user_id"); r.Status != http.StatusCreated || tm.SubID == "" {
		t.Fatalf("create sub-user: %d %s", r.Status, r.Raw)
	}
	return tm
}

// resetPassword has the root reset the sub-user's password to a generated
// one, which the sub-user must change at the next login; it returns it.
func (tm team) resetPassword(t *testing.T, env *testserver.Env) string {
	t.Helper()
	r := env.Do(t, "POST", "/api/v1/sub-users/"+tm.SubID+"/reset-password", tm.RootToken, nil)
	if r.Status == http.StatusForbidden {
		env.Verify(t, tm.RootToken, tm.RootEmail)
		r = env.Do(t, "POST", "/api/v1/sub-users/"+tm.SubID+"/reset-password", tm.RootToken, nil)
	}
	pw := r.String("password")
	if r.Status != http.StatusOK || pw == "" {
		t.Fatalf("reset password: %d %s", r.Status, r.Raw)
	}
	return pw
}

// subLoginFields is the Sub-user tab's form.
func subLoginFields(root, user, pw string) url.Values {
	return url.Values{"as": {"sub_user"}, "root_account_id": {root}, "user_name": {user}, "password": {pw}}
}

// subLogin posts the Sub-user tab's form.
func (v *visitor) subLogin(root, user, pw string) page {
	v.t.Helper()
	return v.post("/login", subLoginFields(root, user, pw))
}

// stepFields are a sub-user login step's hidden fields plus more.
func stepFields(p page, more url.Values) url.Values {
	f := url.Values{}
	for _, name := range []string{"login_token", "root_account_id", "user_name", "device_id", "uri"} {
		if s := hidden(p, name); s != "" {
			f.Set(name, s)
		}
	}
	for k, v := range more {
		f[k] = v
	}
	return f
}

var summaryBox = regexp.MustCompile(`(?s)<div class="error-summary".*?</div>`)

// errorSummary is the page's error summary, or "".
func errorSummary(p page) string { return summaryBox.FindString(p.Body) }

func TestSubLoginTab(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		tm := newTeam(t, env, "lead@example.com", "dev.ops", map[string]any{"login_protection": "off", "operation_protection": "off"})
		v := newVisitor(t, env)

		// Without script: two links at the top, the email form first.
		p := v.get("/login")
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, `<a href="/login" id="tab-email" aria-current="page">Account email</a>`,
			`<a href="/login?as=sub_user" id="tab-sub-user">Sub-user</a>`, `id="email"`)
		wantAbsent(t, p, `id="user_name"`, `name="as"`)
		p = v.get("/login?as=sub_user")
		wantStatus(t, p, http.StatusOK)
		wantSecurityHeaders(t, p)
		wantOnlyStaticScripts(t, p)
		wantContains(t, p, `<a href="/login?as=sub_user" id="tab-sub-user" aria-current="page">Sub-user</a>`,
			`<input type="hidden" name="as" value="sub_user">`,
			`<label for="root_account_id">Account id of your team</label>`,
			`<label for="user_name">User name</label>`,
			`id="user_name" name="user_name" type="text" autocomplete="username"`,
			`autocomplete="current-password"`, "Ask your team&#39;s administrator to reset it.")
		wantAbsent(t, p, `id="email"`, `aria-current="page">Account email`)

		// A wrong password answers like an unknown user name: the same
		// words, the same status, the tab and the names kept.
		wrong := v.subLogin(tm.RootID, "dev.ops", "not the password at all")
		wantStatus(t, wrong, http.StatusBadRequest)
		unknown := v.subLogin(tm.RootID, "nobody", "not the password at all")
		wantStatus(t, unknown, http.StatusBadRequest)
		if a, b := errorSummary(wrong), errorSummary(unknown); a == "" || a != b {
			t.Errorf("wrong password %q, unknown user name %q", a, b)
		}
		noRoot := v.subLogin("acc_00000000000000000000", "dev.ops", subPassword)
		wantStatus(t, noRoot, http.StatusBadRequest)
		if a, b := errorSummary(wrong), errorSummary(noRoot); a != b {
			t.Errorf("wrong password %q, unknown team %q", a, b)
		}
		wantContains(t, wrong, `<input type="hidden" name="as" value="sub_user">`, `value="`+tm.RootID+`"`, `value="dev.ops"`)
		if v.cookie() != "" {
			t.Fatal("a wrong password set a session cookie")
		}

		// The right one (the user name in any case) opens a session.
		p = v.post("/login", url.Values{"as": {"sub_user"}, "root_account_id": {" " + tm.RootID + " "}, "user_name": {"Dev.Ops"},
			"password": {subPassword}, "captcha_id": {v.env.Do(t, "POST", "/api/v1/captcha", "", nil).String("id")}, "captcha_answer": {"test"}})
		wantRedirect(t, p, "/overview")
		if v.cookie() == "" {
			t.Fatal("the sub-user's login set no session cookie")
		}
		s := env.Do(t, "GET", "/api/v1/session", v.cookie(), nil)
		if pr, _ := s.Body["principal"].(map[string]any); pr["type"] != "sub_user" || pr["account_id"] != tm.SubID {
			t.Fatalf("the session is %s", s.Raw)
		}

		// Console login off: a plain message, no session.
		env.Verify(t, tm.RootToken, tm.RootEmail)
		if r := env.Do(t, "PATCH", "/api/v1/sub-users/"+tm.SubID, tm.RootToken, map[string]any{"console_login": false}); r.Status != http.StatusOK {
			t.Fatalf("console off: %d %s", r.Status, r.Raw)
		}
		other := newVisitor(t, env)
		p = other.post("/login", other.subCaptcha(subLoginFields(tm.RootID, "dev.ops", subPassword)))
		wantStatus(t, p, http.StatusBadRequest)
		wantContains(t, p, "This sub-user may not log in. Ask the administrator of your team&#39;s account.")
		if other.cookie() != "" {
			t.Fatal("a sub-user with the console off got a session cookie")
		}
	})
}

// subCaptcha adds a solved (test) captcha to a login form: wrong
// passwords of earlier steps count in the identifier's series.
func (v *visitor) subCaptcha(f url.Values) url.Values {
	v.t.Helper()
	c := v.env.Do(v.t, "POST", "/api/v1/captcha", "", nil)
	if c.Status != http.StatusCreated {
		v.t.Fatalf("captcha: %d %s", c.Status, c.Raw)
	}
	f.Set("captcha_id", c.String("id"))
	f.Set("captcha_answer", "test")
	return f
}

func TestSubLoginCaptchaAndLock(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	tm := newTeam(t, env, "lead@example.com", "ann", nil)
	v := newVisitor(t, env)
	var p page
	for i := 0; i < 3; i++ {
		p = v.subLogin(tm.RootID, "ann", "not the password at all")
		wantStatus(t, p, http.StatusBadRequest)
	}
	// The picture comes when the rule asks for it, with the same tab.
	wantContains(t, p, `name="captcha_id"`, "Listen to the characters instead", "<audio controls", `<input type="hidden" name="as" value="sub_user">`)
	newPic := "/login?as=sub_user&amp;root_account_id=" + tm.RootID + "&amp;user_name=ann"
	wantContains(t, p, `href="`+newPic+`"`)
	again := v.get(strings.ReplaceAll(newPic, "&amp;", "&"))
	wantStatus(t, again, http.StatusOK)
	wantContains(t, again, `name="captcha_id"`, `aria-current="page">Sub-user`, `value="ann"`)

	// Ten wrong passwords pause password login, said with the time.
	for i := 0; i < 7; i++ {
		p = v.post("/login", v.subCaptcha(subLoginFields(tm.RootID, "ann", "not the password at all")))
	}
	wantStatus(t, p, http.StatusBadRequest)
	wantContains(t, p, "Password login is paused until", "<time datetime=", "To get in sooner, ask your team&#39;s administrator.")
	wantAbsent(t, p, `id="locked-reset"`)
}

func TestSubLoginMustBindMFA(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		tm := newTeam(t, env, "lead@example.com", "ann", map[string]any{"must_bind_mfa": true, "login_protection": "mfa"})
		v := newVisitor(t, env)
		p := v.subLogin(tm.RootID, "ann", subPassword)
		wantStatus(t, p, http.StatusOK)
		wantSecurityHeaders(t, p)
		wantOnlyStaticScripts(t, p)
		wantContains(t, p, "Your team&#39;s administrator asks you to add an authenticator app before you can sign in.",
			`action="/login/bind-mfa"`, `src="data:image/png;base64,`, `id="totp-label">Custos: `+tm.RootID+` / ann<`,
			`autocomplete="one-time-code"`, `inputmode="numeric"`, `pattern="[0-9]*"`)
		if tok := hidden(p, "login_token"); len(tok) != 43 {
			t.Fatalf("login token %q", tok)
		}
		if v.cookie() != "" {
			t.Fatal("the password alone set a session cookie")
		}
		if m := regexp.MustCompile(`id="totp-secret">([A-Z2-7 ]+)<`).FindStringSubmatch(p.Body); m == nil ||
			!regexp.MustCompile(`^([A-Z2-7]{4} )+[A-Z2-7]{1,4}$`).MatchString(m[1]) {
			t.Fatalf("the secret is not in groups of four: %v", m)
		}
		secret := pageSecret(t, p)
		// The token is never in a URL: a GET goes back to the form.
		wantRedirect(t, v.get("/login/bind-mfa"), "/login")

		// A missing or wrong code shows the same key again.
		again := v.post("/login/bind-mfa", stepFields(p, url.Values{"code": {""}}))
		wantStatus(t, again, http.StatusBadRequest)
		wantContains(t, again, "Enter the 6-digit code the app shows.")
		again = v.post("/login/bind-mfa", stepFields(p, url.Values{"code": {wrongCode(env, secret)}}))
		wantStatus(t, again, http.StatusBadRequest)
		wantContains(t, again, `id="code-error"`, `aria-invalid="true"`)
		if got := pageSecret(t, again); string(got) != string(secret) {
			t.Fatal("a wrong code changed the key")
		}
		done := v.post("/login/bind-mfa", stepFields(again, url.Values{"code": {totpCode(env, secret)}}))
		wantRedirect(t, done, "/overview")
		if v.cookie() == "" {
			t.Fatal("binding the app set no session cookie")
		}
		// The token is spent.
		dead := v.post("/login/bind-mfa", stepFields(again, url.Values{"code": {totpCode(env, secret)}}))
		wantStatus(t, dead, http.StatusGone)
		wantContains(t, dead, "That login took too long", `aria-current="page">Sub-user`, `value="ann"`)

		// Security Settings: the administrator's protection stays on.
		sec := v.get("/account/security")
		wantStatus(t, sec, http.StatusOK)
		wantContains(t, sec, `id="login-protection-admin"`, "Set by your account&#39;s administrator",
			`id="login-method-admin">How the second step of login checks: <strong>MFA device</strong>`,
			"You log in with it, your team&#39;s account id and your user name.",
			"Set your own email to get codes by email.")
		wantAbsent(t, sec, `name="login_protection" value="false"`, `id="login-method-form"`, "your account email")
		// Operation protection is off: the sub-user may add it.
		wantContains(t, sec, `name="operation_protection" value="true"`)
		// Email codes need the sub-user's own email.
		wantContains(t, sec, `id="operation-method-email" name="operation_method" type="radio" value="email" disabled`,
			"Set your secure email first.")
		// Turning it off anyway is refused, said nicely.
		off := v.post("/account/security/protection", url.Values{"login_protection": {"false"}})
		wantStatus(t, off, http.StatusBadRequest)
		wantContains(t, off, `role="alert"`, "Your account&#39;s administrator set this protection.")

		// The next login asks for the app at the second step; after a
		// reset by the root, the new password comes after it.
		generated := tm.resetPassword(t, env)
		w := newVisitor(t, env)
		sf := w.post("/login", w.subCaptcha(subLoginFields(tm.RootID, "ann", generated)))
		wantStatus(t, sf, http.StatusOK)
		wantContains(t, sf, "One more step to log in", `<input type="hidden" name="user_name" value="ann">`)
		env.Clock.Advance(30 * time.Second)
		ch := w.post("/login/second-factor", stepForm(sf, url.Values{"method": {"totp"}, "code": {totpCode(env, secret)},
			"root_account_id": {hidden(sf, "root_account_id")}, "user_name": {hidden(sf, "user_name")}}))
		wantStatus(t, ch, http.StatusOK)
		wantContains(t, ch, `action="/login/change-password"`, `autocomplete="new-password"`)
		if w.cookie() != "" {
			t.Fatal("the second step set a session cookie before the new password")
		}
		wantRedirect(t, w.post("/login/change-password", stepFields(ch, url.Values{"password": {"a brand new lantern 9981"}})), "/overview")
		if w.cookie() == "" {
			t.Fatal("the new password set no session cookie")
		}
	})
}

func TestSubLoginChangePassword(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		tm := newTeam(t, env, "lead@example.com", "bo", nil)
		generated := tm.resetPassword(t, env)
		v := newVisitor(t, env)
		// The old password no longer works.
		wantStatus(t, v.subLogin(tm.RootID, "bo", subPassword), http.StatusBadRequest)
		p := v.post("/login", v.subCaptcha(subLoginFields(tm.RootID, "bo", generated)))
		wantStatus(t, p, http.StatusOK)
		wantSecurityHeaders(t, p)
		wantContains(t, p, "Choose a new password", `action="/login/change-password"`,
			`<input id="password" name="password" type="password" autocomplete="new-password"`)
		if v.cookie() != "" {
			t.Fatal("the generated password alone set a session cookie")
		}
		wantRedirect(t, v.get("/login/change-password"), "/login")

		for _, c := range []struct{ pw, want string }{
			{"", "Enter a new password."},
			{"short", "at least 8 characters"},
			{generated, "You used this password before."},
		} {
			again := v.post("/login/change-password", stepFields(p, url.Values{"password": {c.pw}}))
			wantStatus(t, again, http.StatusBadRequest)
			wantContains(t, again, `id="password-error"`, c.want, `aria-invalid="true"`)
			if hidden(again, "login_token") != hidden(p, "login_token") {
				t.Fatal("the form lost its login token")
			}
			p = again
		}
		const fresh = "a brand new lantern 9981"
		wantRedirect(t, v.post("/login/change-password", stepFields(p, url.Values{"password": {fresh}})), "/overview")
		if v.cookie() == "" {
			t.Fatal("the new password set no session cookie")
		}
		// The new password logs in at once, with nothing owed.
		w := newVisitor(t, env)
		wantRedirect(t, w.post("/login", w.subCaptcha(subLoginFields(tm.RootID, "bo", fresh))), "/overview")
	})
}
