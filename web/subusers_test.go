package web_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custos/custos/internal/testserver"
	"github.com/custos/custos/otp"
)

const subUserPassword = "tidy violet lantern 4217"

// subUserRoot signs a root up and logs it in through the pages, with a
// fresh "confirm it's you" (by an emailed code) for the changes to come.
func subUserRoot(t *testing.T, env *testserver.Env, email string) (*visitor, string) {
	t.Helper()
	id := env.SignUp(t, email, testPassword)
	v := newVisitor(t, env)
	v.login(email, testPassword)
	v.confirmByEmail(email, "/account/sub-users/new")
	return v, id
}

// createSubUser creates a sub-user through the form and returns its id.
func (v *visitor) createSubUser(name string, more url.Values) string {
	v.t.Helper()
	f := url.Values{"user_name": {name}, "password": {subUserPassword}, "console_login": {"1"},
		"login_protection": {"off"}, "operation_protection": {"off"}}
	for k, vals := range more {
		f[k] = vals
	}
	p := v.post("/account/sub-users/new", f)
	if p.StatusCode != http.StatusSeeOther {
		v.t.Fatalf("create %s: status %d\n%s", name, p.StatusCode, p.Body)
	}
	loc := p.Header.Get("Location")
	m := regexp.MustCompile(`^/account/sub-users/([A-Za-z0-9_]+)\?done=created$`).FindStringSubmatch(loc)
	if m == nil {
		v.t.Fatalf("create %s: redirected to %q", name, loc)
	}
	return m[1]
}

var subUserRow = regexp.MustCompile(`class="sub-user-name">([^<]+)<`)

// listedSubUsers are the user names a list page shows.
func listedSubUsers(p page) []string {
	var out []string
	for _, m := range subUserRow.FindAllStringSubmatch(p.Body, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestSubUserPagesListSearchPaging(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		v, rootID := subUserRoot(t, env, "lead@example.com")

		p := v.get("/account/sub-users")
		wantStatus(t, p, http.StatusOK)
		wantSecurityHeaders(t, p)
		wantOnlyStaticScripts(t, p)
		wantContains(t, p, `href="/account/sub-users" aria-current="page">Sub-accounts</a>`,
			`<code class="account-id" id="root-account-id">`+rootID+`</code>`,
			"Sub-users log in with this account id and their user name", "You have no sub-users yet.",
			`href="/account/sub-users/new"`, "Create sub-user")
		// Every other signed-in page of a root offers the item too.
		wantContains(t, v.get("/account/security"), `<a href="/account/sub-users">Sub-accounts</a>`)

		// 53 sub-users: a page holds 50, by user name.
		for i := range 53 {
			v.createSubUser(fmt.Sprintf("dev%02d", i), nil)
		}
		v.createSubUser("ops.lead", url.Values{"must_bind_mfa": {"1"}})
		p = v.get("/account/sub-users")
		names := listedSubUsers(p)
		if len(names) != 50 || names[0] != "dev00" || names[49] != "dev49" {
			t.Fatalf("first page: %d names %v", len(names), names)
		}
		wantContains(t, p, `<a href="/account/sub-users?after=dev49" id="next-page" rel="next">Next page</a>`,
			"User name", "Console login", "MFA to be bound", "Created")
		p = v.get("/account/sub-users?after=dev49")
		names = listedSubUsers(p)
		if strings.Join(names, ",") != "dev50,dev51,dev52,ops.lead" {
			t.Fatalf("second page: %v", names)
		}
		wantAbsent(t, p, `id="next-page"`)
		// ops.lead must bind: its row says so.
		if !regexp.MustCompile(`ops\.lead</a></td>\s*<td>Allowed</td>\s*<td class="must-bind">Yes</td>`).MatchString(p.Body) {
			t.Errorf("ops.lead's row does not say MFA to be bound\n%s", p.Body)
		}

		// Search by a part of the name, any case; the next link keeps it.
		p = v.get("/account/sub-users?search=OPS")
		if got := listedSubUsers(p); strings.Join(got, ",") != "ops.lead" {
			t.Fatalf("search ops: %v", got)
		}
		wantContains(t, p, `value="OPS"`)
		p = v.get("/account/sub-users?search=nobody")
		wantContains(t, p, "No sub-user&#39;s name holds “nobody”.")
		p = v.get("/account/sub-users?search=dev")
		wantContains(t, p, `href="/account/sub-users?after=dev49&amp;search=dev"`)
	})
}

func TestSubUserPagesCreateFieldErrors(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	id := env.SignUp(t, "root@example.com", testPassword)
	v := newVisitor(t, env)
	v.login("root@example.com", testPassword)

	// Without a fresh confirmation the form sends the browser to confirm
	// first, and back.
	wantRedirect(t, v.get("/account/sub-users/new"), verifyPath("/account/sub-users/new"))
	v.confirmByEmail("root@example.com", "/account/sub-users/new")
	p := v.get("/account/sub-users/new")
	wantStatus(t, p, http.StatusOK)
	wantContains(t, p, `autocomplete="new-password"`, `name="console_login" type="checkbox" value="1" checked`,
		`<label for="must_bind_mfa">Must bind an authenticator app at next login`,
		`<legend>Login protection</legend>`, `<legend>Operation protection</legend>`,
		`<label for="login_protection-mfa">MFA device</label>`, `<label for="operation_protection-sms">Text message</label>`,
		`<label for="login_protection-email">Email</label>`, `<label for="login_protection-off">Off</label>`, id)

	// Missing fields: each next to its field and in the summary.
	p = v.post("/account/sub-users/new", url.Values{"user_name": {""}, "password": {""}})
	wantStatus(t, p, http.StatusBadRequest)
	wantContains(t, p, `class="error-summary" role="alert" tabindex="-1" autofocus`,
		`<a href="#user_name">Enter a user name.</a>`, `<a href="#password">Enter a password.</a>`,
		`id="user_name-error"`, `id="password-error"`)
	// A bad user name, a weak password, codes by email with no email.
	p = v.post("/account/sub-users/new", url.Values{"user_name": {"no/slash"}, "password": {subUserPassword}})
	wantStatus(t, p, http.StatusBadRequest)
	wantContains(t, p, `id="user_name-error"`, "lower-case letters", `value="no/slash"`)
	p = v.post("/account/sub-users/new", url.Values{"user_name": {"ann"}, "password": {"short"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantContains(t, p, `id="password-error"`)
	p = v.post("/account/sub-users/new", url.Values{"user_name": {"ann"}, "password": {subUserPassword},
		"login_protection": {"email"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantContains(t, p, `id="email-error"`, "need the sub-user", `id="login_protection-email" name="login_protection" type="radio" value="email" checked`)
	wantAbsent(t, p, subUserPassword)
	p = v.post("/account/sub-users/new", url.Values{"user_name": {"ann"}, "password": {subUserPassword}, "email": {"not an email"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantContains(t, p, `id="email-error"`)
	// Created once; the same name again is taken.
	sub := v.createSubUser("ann", url.Values{"email": {"ann@example.com"}, "operation_protection": {"email"}})
	p = v.get("/account/sub-users/" + sub + "?done=created")
	wantContains(t, p, "The sub-user is created.", `id="sub-user-name">ann</h1>`, "a***n@ex***le.com")
	p = v.post("/account/sub-users/new", url.Values{"user_name": {"ANN"}, "password": {subUserPassword}})
	wantStatus(t, p, http.StatusBadRequest)
	wantContains(t, p, `id="user_name-error"`, "Another sub-user of this account has this user name.")
	// Console login unchecked: the sub-user may not log in.
	v.createSubUser("bob", url.Values{"console_login": nil})
	l := env.Do(t, "POST", "/api/v1/login", "", map[string]string{"root_account_id": id, "user_name": "bob", "password": subUserPassword})
	if l.Status != http.StatusForbidden {
		t.Fatalf("bob logs in with the console off: %d %s", l.Status, l.Raw)
	}
}

func TestSubUserPagesActions(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		v, rootID := subUserRoot(t, env, "lead@example.com")
		sub := v.createSubUser("ann", nil)
		path := "/account/sub-users/" + sub

		p := v.get(path)
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, `id="setting-console" data-state="on"`, `id="setting-must-bind" data-state="off"`,
			`id="mfa-state">No MFA device<`, `id="setting-login-protection" data-state="off"`,
			"Nothing has happened on this sub-user")
		// The sub-user's own activity: its login.
		l := env.Do(t, "POST", "/api/v1/login", "", map[string]string{"root_account_id": rootID, "user_name": "ann", "password": subUserPassword})
		if l.Status != http.StatusOK || l.String("session_token") == "" {
			t.Fatalf("ann's login: %d %s", l.Status, l.Raw)
		}
		wantContains(t, v.get(path), `<td>Logged in</td>`)

		// One action each.
		wantRedirect(t, v.post(path+"/settings", url.Values{"console_login": {"false"}}), path+"?done=console_login")
		wantRedirect(t, v.post(path+"/settings", url.Values{"must_bind_mfa": {"true"}}), path+"?done=must_bind_mfa")
		wantRedirect(t, v.post(path+"/settings", url.Values{"login_protection": {"mfa"}}), path+"?done=login_protection")
		p = v.get(path + "?done=login_protection")
		wantContains(t, p, "Login protection is changed.", `id="setting-console" data-state="off"`,
			`id="setting-must-bind" data-state="on"`, `id="mfa-state">MFA to be bound<`,
			`id="setting-login-protection" data-state="mfa"`, `id="login_protection-mfa" name="login_protection" type="radio" value="mfa" checked`)
		// Newest first: the protection change the sub-user was told of
		// above its login.
		if i, j := strings.Index(p.Body, `data-event="subuser.protection_set_by_root"`), strings.Index(p.Body, `data-event="login.success"`); i < 0 || j < 0 || i > j {
			t.Errorf("activity order: protection at %d, login at %d\n%s", i, j, p.Body)
		}
		// Codes by text message need a phone the sub-user lacks: said next
		// to the field.
		p = v.post(path+"/settings", url.Values{"operation_protection": {"sms"}})
		wantStatus(t, p, http.StatusBadRequest)
		wantContains(t, p, `class="error-summary"`, "need a phone the sub-user has bound")
		// A word the form does not offer.
		wantStatus(t, v.post(path+"/settings", url.Values{"login_protection": {"carrier-pigeon"}}), http.StatusBadRequest)

		// After the confirmation runs out, a change goes through "confirm
		// it's you" and back to a page showing the same change.
		env.Clock.Advance(11 * time.Minute)
		next := path + "/settings?console_login=true"
		wantRedirect(t, v.post(path+"/settings", url.Values{"console_login": {"true"}}), verifyPath(next))
		v.confirmByEmail("lead@example.com", next)
		p = v.get(next)
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, "Console login: allowed", `<input type="hidden" name="console_login" value="true">`)
		wantRedirect(t, v.post(path+"/settings", url.Values{"console_login": {"true"}}), path+"?done=console_login")
	})
}

func TestSubUserPagesResetMFA(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	v, rootID := subUserRoot(t, env, "lead@example.com")
	sub := v.createSubUser("ann", url.Values{"must_bind_mfa": {"1"}})
	path := "/account/sub-users/" + sub
	secret := bindSubUserApp(t, env, rootID, "ann", subUserPassword)
	p := v.get(path)
	wantContains(t, p, `id="mfa-state">MFA bound<`, `id="setting-must-bind" data-state="off"`, `href="`+path+`/reset-mfa"`)

	// The confirmation step names what is lost.
	p = v.get(path + "/reset-mfa")
	wantStatus(t, p, http.StatusOK)
	wantContains(t, p, "Their authenticator apps stop working at once; they bind a new one at their next login.",
		"Devices removed: 1.", `action="`+path+`/reset-mfa"`)
	wantRedirect(t, v.post(path+"/reset-mfa", url.Values{}), path+"?done=mfa_reset")
	p = v.get(path + "?done=mfa_reset")
	wantContains(t, p, "Their MFA is reset.", `id="mfa-state">MFA to be bound<`, `id="setting-must-bind" data-state="on"`)
	// The old app opens nothing: the next login must bind again.
	env.Clock.Advance(30 * time.Second)
	l := env.Do(t, "POST", "/api/v1/login", "", map[string]string{"root_account_id": rootID, "user_name": "ann", "password": subUserPassword})
	if l.String("next") != "bind_mfa" {
		t.Fatalf("login after the reset: %s", l.Raw)
	}
	_ = secret

	// Without a fresh confirmation, confirm it's you returns to the step.
	env.Clock.Advance(11 * time.Minute)
	wantRedirect(t, v.get(path+"/reset-mfa"), verifyPath(path+"/reset-mfa"))
	wantRedirect(t, v.post(path+"/reset-mfa", url.Values{}), verifyPath(path+"/reset-mfa"))
}

// bindSubUserApp logs a sub-user that must bind an authenticator app in
// through the API, binds one and returns its seed.
func bindSubUserApp(t *testing.T, env *testserver.Env, rootID, user, pw string) []byte {
	t.Helper()
	l := env.Do(t, "POST", "/api/v1/login", "", map[string]string{"root_account_id": rootID, "user_name": user, "password": pw})
	if l.Status != http.StatusOK || l.String("next") != "bind_mfa" {
		t.Fatalf("login that must bind: %d %s", l.Status, l.Raw)
	}
	lt := l.String("login_token")
	k := env.Do(t, "POST", "/api/v1/login/bind-mfa", "", map[string]string{"login_token": lt})
	secret, err := otp.DecodeSecret(k.String("secret"))
	if k.Status != http.StatusCreated || err != nil {
		t.Fatalf("bind-mfa: %d %s", k.Status, k.Raw)
	}
	c := env.Do(t, "POST", "/api/v1/login/bind-mfa/confirm", "", map[string]string{"login_token": lt,
		"code": otp.TOTP(secret, env.Clock.Now(), otp.DefaultParams)})
	if c.Status != http.StatusOK || c.String("session_token") == "" {
		t.Fatalf("bind-mfa confirm: %d %s", c.Status, c.Raw)
	}
	return secret
}

var generatedPassword = regexp.MustCompile(`id="generated-password">([^<]+)<`)

func TestSubUserPagesResetPasswordGeneratedOnce(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	v, rootID := subUserRoot(t, env, "lead@example.com")
	sub := v.createSubUser("ann", nil)
	path := "/account/sub-users/" + sub

	p := v.get(path + "/password")
	wantStatus(t, p, http.StatusOK)
	wantContains(t, p, `id="mode-generate" name="mode" type="radio" value="generate" checked`,
		`id="must_change" name="must_change" type="checkbox" value="1" checked`, `autocomplete="new-password"`)

	// Generated: shown on the answer, once, with "copy it now".
	p = v.post(path+"/password", url.Values{"mode": {"generate"}, "must_change": {"1"}})
	wantStatus(t, p, http.StatusOK)
	if cc := p.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	m := generatedPassword.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no generated password\n%s", p.Body)
	}
	pw := html.UnescapeString(m[1])
	if len(pw) < 20 {
		t.Errorf("generated password %q", pw)
	}
	wantContains(t, p, "Copy it now", "They must change it at their next login.")
	// Nowhere again: not on the sub-user's page, not on the form.
	wantAbsent(t, v.get(path+"?done=password"), m[1])
	wantAbsent(t, v.get(path+"/password"), m[1])
	wantContains(t, v.get(path), `id="must-change"`)
	// The old password is over; the new one logs in to change it.
	if l := env.Do(t, "POST", "/api/v1/login", "", map[string]string{"root_account_id": rootID, "user_name": "ann", "password": subUserPassword}); l.Status != http.StatusUnauthorized {
		t.Fatalf("old password: %d %s", l.Status, l.Raw)
	}
	if l := env.Do(t, "POST", "/api/v1/login", "", map[string]string{"root_account_id": rootID, "user_name": "ann", "password": pw}); l.Status != http.StatusOK || l.String("next") != "change_password" {
		t.Fatalf("generated password: %d %s", l.Status, l.Raw)
	}

	// Chosen: checked against the rules, next to the field.
	p = v.post(path+"/password", url.Values{"mode": {"choose"}, "password": {""}})
	wantStatus(t, p, http.StatusBadRequest)
	wantContains(t, p, `id="password-error"`, `<a href="#password">Enter a password.</a>`, `id="mode-choose" name="mode" type="radio" value="choose" checked`)
	p = v.post(path+"/password", url.Values{"mode": {"choose"}, "password": {"short"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantContains(t, p, `id="password-error"`)
	wantRedirect(t, v.post(path+"/password", url.Values{"mode": {"choose"}, "password": {"quiet amber harbour 5521"}}), path+"?done=password")
	wantAbsent(t, v.get(path), `id="must-change"`)
	if l := env.Do(t, "POST", "/api/v1/login", "", map[string]string{"root_account_id": rootID, "user_name": "ann", "password": "quiet amber harbour 5521"}); l.Status != http.StatusOK || l.String("session_token") == "" {
		t.Fatalf("chosen password without must-change: %d %s", l.Status, l.Raw)
	}
}

func TestSubUserPagesRules(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	v, _ := subUserRoot(t, env, "lead@example.com")
	p := v.get("/account/sub-users/rules")
	wantStatus(t, p, http.StatusOK)
	wantContains(t, p, `<label for="min_length">Minimum length</label>`, `<label for="classes">Kinds of characters</label>`,
		`<label for="history">Past passwords remembered</label>`, `<label for="retry_limit">Wrong passwords before a lock</label>`,
		`<label for="max_age_days">Password expiry, in days</label>`)

	for _, c := range []struct {
		field, value, says string
	}{
		{"min_length", "7", "between 8 and 128"},
		{"min_length", "abc", "between 8 and 128"},
		{"classes", "5", "between 0 and 4"},
		{"history", "25", "between 0 and 24"},
		{"retry_limit", "0", "between 1 and 10, or blank"},
		{"retry_limit", "11", "between 1 and 10, or blank"},
		{"max_age_days", "0", "blank for never"},
		{"max_age_days", "-3", "blank for never"},
	} {
		p = v.post("/account/sub-users/rules", url.Values{c.field: {c.value}})
		wantStatus(t, p, http.StatusBadRequest)
		wantContains(t, p, `id="`+c.field+`-error"`, c.says, `<a href="#`+c.field+`">`, `value="`+c.value+`"`)
	}
	// Saved: the form shows them again; blanks stay blank.
	wantRedirect(t, v.post("/account/sub-users/rules", url.Values{"min_length": {"12"}, "classes": {"3"}, "history": {"5"},
		"retry_limit": {"5"}, "max_age_days": {""}}), "/account/sub-users?done=rules")
	wantContains(t, v.get("/account/sub-users?done=rules"), "The password rules are saved.")
	p = v.get("/account/sub-users/rules")
	wantContains(t, p, `id="min_length" name="min_length" type="text" inputmode="numeric" pattern="[0-9]*" value="12"`,
		`name="classes" type="text" inputmode="numeric" pattern="[0-9]*" value="3"`,
		`name="retry_limit" type="text" inputmode="numeric" pattern="[0-9]*" value="5"`,
		`name="max_age_days" type="text" inputmode="numeric" pattern="[0-9]*" value=""`)
	// The rules hold for a new sub-user's password.
	p = v.post("/account/sub-users/new", url.Values{"user_name": {"ann"}, "password": {"all lower case words"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantContains(t, p, `id="password-error"`, "at least 3 kinds of characters")
}

func TestSubUserPagesIDOR(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	v, rootID := subUserRoot(t, env, "lead@example.com")
	sub := v.createSubUser("ann", nil)
	path := "/account/sub-users/" + sub

	// Another root finds nothing of this root's sub-user, before or after
	// confirming it's you.
	other, _ := subUserRoot(t, env, "other@example.com")
	for _, p := range []page{
		other.get(path), other.get(path + "/reset-mfa"), other.get(path + "/password"),
		other.get(path + "/settings?console_login=false"),
		other.post(path+"/settings", url.Values{"console_login": {"false"}}),
		other.post(path+"/reset-mfa", url.Values{}),
		other.post(path+"/password", url.Values{"mode": {"generate"}}),
	} {
		wantStatus(t, p, http.StatusNotFound)
		wantContains(t, p, "We could not find that.")
	}
	if got := listedSubUsers(other.get("/account/sub-users")); len(got) != 0 {
		t.Errorf("another root lists %v", got)
	}
	wantContains(t, v.get(path), `id="setting-console" data-state="on"`)

	// A sub-user's session: no navigation item, and the pages are not
	// there.
	l := env.Do(t, "POST", "/api/v1/login", "", map[string]string{"root_account_id": rootID, "user_name": "ann", "password": subUserPassword})
	tok := l.String("session_token")
	if tok == "" {
		t.Fatalf("ann's login: %d %s", l.Status, l.Raw)
	}
	s := newVisitor(t, env)
	u, _ := url.Parse(env.URL)
	s.client.Jar.SetCookies(u, []*http.Cookie{{Name: "custos_session", Value: tok, Path: "/"}})
	p := s.get("/account/security")
	wantStatus(t, p, http.StatusOK)
	wantAbsent(t, p, "Sub-accounts", `href="/account/sub-users"`)
	for _, path := range []string{"/account/sub-users", "/account/sub-users/new", "/account/sub-users/rules", path} {
		p := s.get(path)
		wantStatus(t, p, http.StatusNotFound)
		wantAbsent(t, p, "Sub-accounts")
	}
	wantStatus(t, s.post("/account/sub-users/rules", url.Values{"classes": {"2"}}), http.StatusNotFound)
	wantStatus(t, s.post("/account/sub-users/new", url.Values{"user_name": {"x"}, "password": {subUserPassword}}), http.StatusNotFound)
}
