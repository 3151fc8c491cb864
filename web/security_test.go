package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custos/custos/internal/testserver"
	"github.com/custos/custos/otp"
	"github.com/custos/custos/tokenimport"
)

func TestSecurityPagesNeedASession(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	v := newVisitor(t, env)
	for _, path := range []string{
		"/account/security", "/account/verify", "/account/security/totp", "/account/security/hardware",
		"/account/security/recovery", "/account/security/protection?login_protection=true",
		"/account/security/devices/dev_0123/rename", "/account/security/devices/dev_0123/remove",
	} {
		wantRedirect(t, v.get(path), "/login")
	}
	for _, path := range []string{
		"/account/verify", "/account/security/totp", "/account/security/hardware", "/account/security/recovery",
		"/account/security/protection", "/account/security/devices/dev_0123/rename", "/account/security/devices/dev_0123/remove",
	} {
		wantRedirect(t, v.post(path, url.Values{"code": {"123456"}, "login_protection": {"true"}}), "/login")
	}
}

func TestBindAuthenticatorAppThroughForms(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		env.SignUp(t, "ada@example.com", testPassword)
		v := newVisitor(t, env)
		v.login("ada@example.com", testPassword)

		p := v.get("/account/security")
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, "None yet", `href="/account/security/totp"`, `data-state="off"`)

		// The first device needs no confirmation.
		p = v.get("/account/security/totp")
		wantStatus(t, p, http.StatusOK)
		wantSecurityHeaders(t, p)
		wantContains(t, p, `<img class="qr" id="totp-qr" src="data:image/png;base64,`, `id="totp-secret"`,
			`<strong id="totp-label">Custos: ada@example.com</strong>`, `autocomplete="one-time-code"`,
			`inputmode="numeric"`, `<label for="code">`)
		wantAbsent(t, p, "<script", "style=", "otpauth://totp/Custos:ada@example.com?") // the URI is escaped in the field
		grouped := secretText.FindStringSubmatch(p.Body)[1]
		if !regexp.MustCompile(`^([A-Z2-7]{4} )+[A-Z2-7]{1,4}$`).MatchString(grouped) {
			t.Errorf("secret %q is not in groups of four", grouped)
		}
		secret := pageSecret(t, p)
		deviceID, uri := hidden(p, "device_id"), hidden(p, "uri")
		if !strings.HasPrefix(deviceID, "dev_") || !strings.HasPrefix(uri, "otpauth://totp/") {
			t.Fatalf("hidden fields device_id %q uri %q", deviceID, uri)
		}

		tests := []struct {
			name   string
			code   string
			status int
			want   []string
		}{
			{name: "empty", code: " ", status: http.StatusBadRequest, want: []string{"Enter the 6-digit code the app shows."}},
			{name: "wrong", code: wrongCode(env, secret), status: http.StatusBadRequest, want: []string{"That code is not right."}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				p := v.post("/account/security/totp", url.Values{"device_id": {deviceID}, "uri": {uri}, "code": {tt.code}})
				wantStatus(t, p, tt.status)
				wantContains(t, p, tt.want...)
				// The same key again, to scan or type.
				wantContains(t, p, `role="alert"`, `id="code-error"`, `aria-invalid="true"`, `id="totp-qr"`, grouped, deviceID)
			})
		}
		code := totpCode(env, secret)
		p = v.post("/account/security/totp", url.Values{"device_id": {deviceID}, "uri": {uri}, "code": {code[:3] + " " + code[3:]}})
		wantRedirect(t, p, "/account/security?done=totp")
		p = v.get("/account/security?done=totp")
		wantContains(t, p, "Your authenticator app is added.", "Added: 1.", `data-type="totp"`, "<h3>Authenticator app</h3>", "Not used yet")
		if ids := deviceIDs(p); len(ids) != 1 || ids[0] != deviceID {
			t.Errorf("devices listed %v, want [%s]", ids, deviceID)
		}
		// The device is confirmed: its setup cannot be finished twice.
		env.Clock.Advance(30 * time.Second)
		p = v.post("/account/security/totp", url.Values{"device_id": {deviceID}, "uri": {uri}, "code": {totpCode(env, secret)}})
		wantStatus(t, p, http.StatusGone)
		wantContains(t, p, "This setup has run out", `href="/account/security/totp"`)
		wantAbsent(t, p, `name="code"`)

		// A second app needs a confirmation, and its setup runs out.
		wantRedirect(t, v.get("/account/security/totp"), verifyPath("/account/security/totp"))
		v.confirm(secret, "/account/security/totp")
		p = v.get("/account/security/totp")
		wantStatus(t, p, http.StatusOK)
		second := pageSecret(t, p)
		env.Clock.Advance(11 * time.Minute)
		p = v.post("/account/security/totp", url.Values{"device_id": {hidden(p, "device_id")}, "code": {totpCode(env, second)}})
		wantStatus(t, p, http.StatusGone)

		wantContains(t, v.get("/account/activity"), "MFA device added", "Confirmed it&#39;s you before a change")
	})
}

func TestSensitiveStepsAskToConfirm(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		env.SignUp(t, "ada@example.com", testPassword)
		v := newVisitor(t, env)
		v.login("ada@example.com", testPassword)
		v.bindApp()
		id := deviceIDs(v.get("/account/security"))[0]
		remove := "/account/security/devices/" + id + "/remove"

		tests := []struct {
			name   string
			method string
			path   string
			form   url.Values
			next   string // where the confirmation returns
		}{
			{name: "another app", method: "GET", path: "/account/security/totp", next: "/account/security/totp"},
			{name: "hardware form", method: "GET", path: "/account/security/hardware", next: "/account/security/hardware"},
			{name: "hardware post", method: "POST", path: "/account/security/hardware",
				form: url.Values{"serial": {"T-1"}, "code1": {"123456"}, "code2": {"234567"}}, next: "/account/security/hardware"},
			{name: "recovery form", method: "GET", path: "/account/security/recovery", next: "/account/security/recovery"},
			{name: "recovery post", method: "POST", path: "/account/security/recovery", next: "/account/security/recovery"},
			{name: "remove form", method: "GET", path: remove, next: remove},
			{name: "remove post", method: "POST", path: remove, next: remove},
			{name: "protection form", method: "GET", path: "/account/security/protection?login_protection=true",
				next: "/account/security/protection?login_protection=true"},
			{name: "protection on", method: "POST", path: "/account/security/protection",
				form: url.Values{"login_protection": {"true"}}, next: "/account/security/protection?login_protection=true"},
			{name: "protection off", method: "POST", path: "/account/security/protection",
				form: url.Values{"operation_protection": {"false"}}, next: "/account/security/protection?operation_protection=false"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var p page
				if tt.method == "GET" {
					p = v.get(tt.path)
				} else {
					p = v.post(tt.path, tt.form)
				}
				wantRedirect(t, p, verifyPath(tt.next))
			})
		}
		p := v.get("/account/security")
		if len(deviceIDs(p)) != 1 || !strings.Contains(p.Body, `id="setting-login-protection" data-state="off"`) {
			t.Fatalf("a refused step changed something:\n%s", p.Body)
		}

		// The confirmation page names the method, offers the others, and
		// keeps where to return.
		p = v.get(verifyPath(remove))
		wantStatus(t, p, http.StatusOK)
		wantSecurityHeaders(t, p)
		wantContains(t, p, "Confirm it&#39;s you", "Code from your authenticator app", `autocomplete="one-time-code"`,
			`href="/account/verify?method=email&amp;next=`+url.QueryEscape(remove)+`"`)
		if got := hidden(p, "next"); got != remove {
			t.Errorf("hidden next = %q, want %q", got, remove)
		}
		// A wrong code stays on the page; the right one returns.
		p = v.post("/account/verify", url.Values{"method": {"totp"}, "next": {remove}, "code": {"12345a"}})
		wantStatus(t, p, http.StatusBadRequest)
		wantContains(t, p, `role="alert"`, `id="code-error"`, `aria-invalid="true"`)
		vid := hidden(p, "id")
		if !strings.HasPrefix(vid, "vrf_") {
			t.Fatalf("the re-rendered form carries verification id %q", vid)
		}
		p = v.post("/account/verify", url.Values{"method": {"totp"}, "next": {remove}, "id": {vid}, "code": {""}})
		wantStatus(t, p, http.StatusBadRequest)
		wantContains(t, p, "Enter the code.")
		env.Clock.Advance(30 * time.Second)
		p = v.post("/account/verify", url.Values{"method": {"totp"}, "next": {remove}, "id": {vid}, "code": {v.code()}})
		wantRedirect(t, p, remove)
		// Confirmed: the sensitive pages open, and the page itself steps aside.
		wantRedirect(t, v.get(verifyPath("/account/security/hardware")), "/account/security/hardware")
		for _, path := range []string{remove, "/account/security/hardware", "/account/security/recovery", "/account/security/totp",
			"/account/security/protection?login_protection=true"} {
			wantStatus(t, v.get(path), http.StatusOK)
		}
	})
}

// code is the current code of the visitor's authenticator app.
func (v *visitor) code() string {
	v.t.Helper()
	if v.secret == nil {
		v.t.Fatal("the visitor has no authenticator app")
	}
	return totpCode(v.env, v.secret)
}

func TestConfirmNext(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	env.SignUp(t, "ada@example.com", testPassword)
	v := newVisitor(t, env)
	v.login("ada@example.com", testPassword)
	v.bindApp()
	tests := []struct {
		name, next, want string
	}{
		{name: "security page", next: "/account/security", want: "/account/security"},
		{name: "with a query", next: "/account/security/protection?login_protection=true", want: "/account/security/protection?login_protection=true"},
		{name: "account", next: "/account", want: "/account"},
		{name: "empty", next: "", want: "/account/security"},
		{name: "another site", next: "https://evil.example/account", want: "/account/security"},
		{name: "scheme-relative", next: "//evil.example/account", want: "/account/security"},
		{name: "backslash", next: "/\\evil.example/account", want: "/account/security"},
		{name: "backslash inside", next: "/account\\..\\login", want: "/account/security"},
		{name: "outside /account", next: "/login", want: "/account/security"},
		{name: "prefix only", next: "/accountx", want: "/account/security"},
		{name: "dot segments", next: "/account/../login", want: "/account/security"},
		{name: "javascript", next: "javascript:alert(1)", want: "/account/security"},
		{name: "itself", next: "/account/verify?next=https://evil.example", want: "/account/security"},
		{name: "relative", next: "account/security", want: "/account/security"},
		{name: "newline", next: "/account/security\r\nSet-Cookie: x=y", want: "/account/security"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := v.get(verifyPath(tt.next))
			wantStatus(t, p, http.StatusOK)
			if got := hidden(p, "next"); got != tt.want {
				t.Errorf("next %q: the form returns to %q, want %q", tt.next, got, tt.want)
			}
		})
	}
	// After a confirmation, the page sends each one straight on.
	v.confirm(v.secret, "/account/security")
	for _, tt := range tests {
		t.Run("confirmed/"+tt.name, func(t *testing.T) {
			wantRedirect(t, v.get(verifyPath(tt.next)), tt.want)
		})
	}
}

func TestConfirmByEmail(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	env.SignUp(t, "ada@example.com", testPassword)
	v := newVisitor(t, env)
	v.login("ada@example.com", testPassword)
	v.bindApp()
	next := "/account/security/recovery"

	p := v.get("/account/verify?" + url.Values{"next": {next}, "method": {"email"}}.Encode())
	wantStatus(t, p, http.StatusOK)
	wantContains(t, p, `id="send-code"`, "Send code")
	wantAbsent(t, p, `name="code"`)
	if msgs := env.Messages(t, "ada@example.com"); len(msgs) != 2 { // the code at sign-up, the device notice
		t.Errorf("showing the email method sent something: %d messages", len(msgs))
	}
	p = v.post("/account/verify", url.Values{"method": {"email"}, "next": {next}, "action": {"send"}})
	wantStatus(t, p, http.StatusOK)
	wantContains(t, p, "We emailed a code to a***a@ex***le.com. It expires in 10 minutes.", `name="code"`)
	id := hidden(p, "id")
	code := env.Code(t, "ada@example.com", "verification_code")

	// A wrong code first, then the emailed one.
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	p = v.post("/account/verify", url.Values{"method": {"email"}, "next": {next}, "id": {id}, "sent_to": {hidden(p, "sent_to")}, "code": {wrong}})
	wantStatus(t, p, http.StatusBadRequest)
	wantContains(t, p, "That code is not right", "a***a@ex***le.com")
	wantRedirect(t, v.post("/account/verify", url.Values{"method": {"email"}, "next": {next}, "id": {id}, "code": {code}}), next)

	// An emailed code runs out (asked for after the minute in which a
	// second code to one address waits).
	env.Clock.Advance(time.Minute)
	v2 := newVisitor(t, env)
	v2.login("ada@example.com", testPassword)
	p = v2.post("/account/verify", url.Values{"method": {"email"}, "next": {next}, "action": {"send"}})
	wantStatus(t, p, http.StatusOK)
	id = hidden(p, "id")
	env.Clock.Advance(11 * time.Minute)
	p = v2.post("/account/verify", url.Values{"method": {"email"}, "next": {next}, "id": {id}, "code": {env.Code(t, "ada@example.com", "verification_code")}})
	wantStatus(t, p, http.StatusGone)
	wantContains(t, p, "This check can no longer be used", "Start again")
	// Without an id there is no emailed code to check.
	p = v2.post("/account/verify", url.Values{"method": {"email"}, "next": {next}, "code": {"123456"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantContains(t, p, "Send yourself a code first.")
}

func TestProtectionSwitches(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		env.SignUp(t, "ada@example.com", testPassword)
		v := newVisitor(t, env)
		v.login("ada@example.com", testPassword)

		refusals := []struct {
			name   string
			form   url.Values
			status int
			want   string
		}{
			{name: "no device", form: url.Values{"login_protection": {"true"}}, status: http.StatusBadRequest,
				want: "Add an MFA device first"},
			{name: "operation, no device", form: url.Values{"operation_protection": {"true"}}, status: http.StatusBadRequest,
				want: "Add an MFA device first"},
			{name: "not a switch", form: url.Values{"login_protection": {"maybe"}}, status: http.StatusBadRequest,
				want: "Choose to turn protection on or off."},
			{name: "nothing", form: url.Values{}, status: http.StatusBadRequest, want: "Choose to turn protection on or off."},
		}
		for _, tt := range refusals {
			t.Run(tt.name, func(t *testing.T) {
				p := v.post("/account/security/protection", tt.form)
				wantStatus(t, p, tt.status)
				wantContains(t, p, tt.want)
			})
		}
		// no_second_factor shows on Security Settings itself.
		p := v.post("/account/security/protection", url.Values{"login_protection": {"true"}})
		wantContains(t, p, `role="alert"`, `id="setting-login-protection" data-state="off"`, `aria-current="page">Security Settings`)

		v.bindApp()
		v.confirm(v.secret, "/account/security")
		steps := []struct {
			field, value, done, state string
		}{
			{"login_protection", "true", "login_on", `id="setting-login-protection" data-state="on"`},
			{"operation_protection", "true", "operation_on", `id="setting-operation-protection" data-state="on"`},
			{"operation_protection", "false", "operation_off", `id="setting-operation-protection" data-state="off"`},
		}
		for _, s := range steps {
			p := v.post("/account/security/protection", url.Values{s.field: {s.value}})
			wantRedirect(t, p, "/account/security?done="+s.done)
			wantContains(t, v.get("/account/security?done="+s.done), s.state)
		}
		wantContains(t, v.get("/account/security"), `id="setting-login-protection" data-state="on"`)
		// The page a confirmation returns to holds the same switch.
		p = v.get("/account/security/protection?login_protection=false")
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, "Turn off login protection", `name="login_protection" value="false"`)
		wantRedirect(t, v.get("/account/security/protection?login_protection=nope"), "/account/security")
		wantContains(t, v.get("/account/activity"), "Login or operation protection changed")
	})
}

func TestHardwareTokenThroughForms(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	seed := []byte("12345678901234567890")
	if _, err := env.App.MFA.ImportTokens(context.Background(), []tokenimport.Token{
		{Serial: "TOTP-1", Secret: seed, Kind: "totp", Params: otp.DefaultParams},
	}, nil); err != nil {
		t.Fatal(err)
	}
	env.SignUp(t, "ada@example.com", testPassword)
	v := newVisitor(t, env)
	v.login("ada@example.com", testPassword)

	p := v.get("/account/security/hardware")
	wantStatus(t, p, http.StatusOK)
	wantContains(t, p, `<label for="serial">`, `<label for="code1">`, `<label for="code2">`, `autocomplete="one-time-code"`)

	now := env.Clock.Now()
	c1 := otp.TOTP(seed, now, otp.DefaultParams)
	c2 := otp.TOTP(seed, now.Add(30*time.Second), otp.DefaultParams)
	tests := []struct {
		name string
		form url.Values
		want []string
	}{
		{name: "empty", form: url.Values{}, want: []string{`id="serial-error"`, `id="code1-error"`, `id="code2-error"`}},
		{name: "codes swapped", form: url.Values{"serial": {"TOTP-1"}, "code1": {c2}, "code2": {c1}},
			want: []string{"No token with that serial number is available", `value="TOTP-1"`}},
		{name: "unknown serial", form: url.Values{"serial": {"NOPE-9"}, "code1": {c1}, "code2": {c2}},
			want: []string{"No token with that serial number is available", `value="NOPE-9"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := v.post("/account/security/hardware", tt.form)
			wantStatus(t, p, http.StatusBadRequest)
			wantContains(t, p, tt.want...)
			wantContains(t, p, `role="alert"`)
		})
	}
	p = v.post("/account/security/hardware", url.Values{"serial": {" TOTP-1 "}, "code1": {c1}, "code2": {c2}})
	wantRedirect(t, p, "/account/security?done=hardware")
	wantContains(t, v.get("/account/security?done=hardware"), "Your hardware token is added.", `data-type="hardware"`,
		"Hardware token · serial <code>TOTP-1</code>")
}

func TestRenameRemoveAndRecoveryCodes(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		env.SignUp(t, "ada@example.com", testPassword)
		v := newVisitor(t, env)
		v.login("ada@example.com", testPassword)

		// With no device there is nothing for recovery codes to stand in for.
		p := v.get("/account/security/recovery")
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, "Add an MFA device first")
		wantAbsent(t, p, `action="/account/security/recovery"`)
		p = v.post("/account/security/recovery", nil)
		wantStatus(t, p, http.StatusBadRequest)
		wantContains(t, p, `role="alert"`, "Add an MFA device first")

		v.bindApp()
		id := deviceIDs(v.get("/account/security"))[0]
		base := "/account/security/devices/" + id

		// Renaming needs no confirmation.
		p = v.get(base + "/rename")
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, `<label for="name">`, `value="Authenticator app"`)
		renames := []struct {
			name, value string
			status      int
			want        string
		}{
			{name: "empty", value: "  ", status: http.StatusBadRequest, want: "Give the device a name."},
			{name: "too long", value: strings.Repeat("x", 65), status: http.StatusBadRequest, want: "at most 64 characters"},
		}
		for _, tt := range renames {
			t.Run("rename "+tt.name, func(t *testing.T) {
				p := v.post(base+"/rename", url.Values{"name": {tt.value}})
				wantStatus(t, p, tt.status)
				wantContains(t, p, tt.want, `id="name-error"`)
			})
		}
		wantRedirect(t, v.post(base+"/rename", url.Values{"name": {"Work phone"}}), "/account/security?done=renamed")
		wantContains(t, v.get("/account/security"), "<h3>Work phone</h3>")
		wantStatus(t, v.get("/account/security/devices/dev_nope/rename"), http.StatusNotFound)

		// Recovery codes, after confirming.
		v.confirm(v.secret, "/account/security/recovery")
		p = v.get("/account/security/recovery")
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, "replace any you made before", `action="/account/security/recovery"`)
		p = v.post("/account/security/recovery", nil)
		wantStatus(t, p, http.StatusOK)
		codes := regexp.MustCompile(`<li><code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code></li>`).FindAllStringSubmatch(p.Body, -1)
		if len(codes) != 10 {
			t.Fatalf("%d recovery codes shown, want 10\n%s", len(codes), p.Body)
		}
		wantContains(t, p, "Save these codes now.", `href="/account/security?done=recovery"`, "I have saved them")

		// Removing asks once more, naming the device and what goes.
		p = v.get(base + "/remove")
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, "Remove this MFA device?", `<dd id="device-name">Work phone</dd>`, "Its codes stop working",
			`id="last-device"`, `method="post" action="`+base+`/remove"`, `href="/account/security"`)
		wantStatus(t, v.get("/account/security/devices/dev_nope/remove"), http.StatusNotFound)
		wantRedirect(t, v.post(base+"/remove", nil), "/account/security?done=removed")
		p = v.get("/account/security?done=removed")
		wantContains(t, p, "The device is removed.", "None yet")
		if ids := deviceIDs(p); len(ids) != 0 {
			t.Errorf("devices after removing: %v", ids)
		}
		wantStatus(t, v.post(base+"/remove", nil), http.StatusNotFound)
		wantContains(t, v.get("/account/activity"), "MFA device removed", "New recovery codes made")
	})
}

func TestChangePasswordPage(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	env.SignUp(t, "pat@example.com", testPassword)
	v := newVisitor(t, env)
	v.login("pat@example.com", testPassword)
	secret := v.bindApp()
	const path = "/account/security/password"
	// Sensitive: the form first asks to confirm it's you.
	wantRedirect(t, v.get(path), verifyPath(path))
	v.confirm(secret, path)
	p := v.get(path)
	wantStatus(t, p, http.StatusOK)
	wantContains(t, p, `autocomplete="new-password"`, `name="password_again"`)
	p = v.post(path, url.Values{"password": {"a new passphrase here"}, "password_again": {"another one"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantContains(t, p, "The two passwords are not the same.")
	p = v.post(path, url.Values{"password": {"short"}, "password_again": {"short"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantRedirect(t, v.post(path, url.Values{"password": {"a new passphrase here"}, "password_again": {"a new passphrase here"}}), "/login?changed=1")
	wantRedirect(t, v.get("/account"), "/login")
	env.Login(t, "pat@example.com", "a new passphrase here")
}
