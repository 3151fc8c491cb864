package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/custos/custos/internal/testserver"
	"github.com/custos/custos/web"
)

const (
	registerBegin  = "/account/security/webauthn/begin"
	registerFinish = "/account/security/webauthn/finish"
	loginBegin     = "/login/second-factor/webauthn/begin"
	loginFinish    = "/login/second-factor/webauthn/finish"
)

// TestSecurityKeyThroughEndpoints adds a security key and logs in with it
// through the endpoints the script uses, with a key in software.
func TestSecurityKeyThroughEndpoints(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		const email = "ada@example.com"
		accountID := env.SignUp(t, email, testPassword)
		v := newVisitor(t, env)
		v.login(email, testPassword)

		// Security Settings offers a key: a form the script runs, its
		// button off until the script turns it on, and a note for when
		// there is no script.
		p := v.get("/account/security")
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, `id="setting-webauthn"`, `data-webauthn="register"`,
			`data-begin="/account/security/webauthn/begin"`, `data-finish="/account/security/webauthn/finish"`,
			`<label for="webauthn-name">`, `id="webauthn-add" disabled`, `<noscript>`,
			"Adding a security key needs JavaScript", `<script src="/static/webauthn.js" defer></script>`,
			`data-msg-cancelled="The security key did not answer`)
		wantOnlyStaticScripts(t, p)

		key := newSoftKey(t, env)
		v.addSoftKey(key, "Soft key")
		p = v.get("/account/security?done=webauthn")
		wantContains(t, p, "Your security key is added.", "<h3>Soft key</h3>", `data-type="webauthn"`, "Security key")
		if ids := deviceIDs(p); len(ids) != 1 {
			t.Fatalf("Security Settings lists %d devices, want 1", len(ids))
		}

		// Another key needs "Confirm it's you", which comes back here with
		// the name typed.
		a := v.postJSON(registerBegin, "application/json", map[string]string{"name": "Spare key"})
		wantJSONError(t, a, http.StatusForbidden, "verification_required")
		next := "/account/security?add=webauthn&name=Spare+key"
		if got := a.errorField("location"); got != verifyPath(next) {
			t.Errorf("location %v, want %s", got, verifyPath(next))
		}
		p = v.get(next)
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, "You confirmed it&#39;s you. Now add your security key.", `value="Spare key"`)

		// With login protection on, the second step offers the key, and
		// only the key: mfa is the default once a device is bound.
		tok := protectLogin(t, env, email)
		w := newVisitor(t, env)
		p = w.passwordStep(email)
		if got := hidden(p, "methods"); got != "webauthn" {
			t.Errorf("methods = %q", got)
		}
		wantContains(t, p, `data-webauthn="login"`, "Use your security key", `id="webauthn-use" disabled`,
			"Using a security key needs JavaScript", `<script src="/static/webauthn.js" defer></script>`)
		wantAbsent(t, p, `name="method" value="email"`, `class="other-ways"`)
		wantOnlyStaticScripts(t, p)
		token := hidden(p, "login_token")

		a = w.postJSON(loginBegin, "application/json", map[string]string{"login_token": token})
		wantStatus(t, a.page, http.StatusOK)
		a = w.postJSON(loginFinish, "application/json", map[string]any{
			"login_token": token, "assertion_id": a.str("assertion_id"), "credential": key.get(a.raw("options")), "trust": true,
		})
		wantStatus(t, a.page, http.StatusOK)
		if got := a.str("location"); got != "/overview" {
			t.Errorf("after the key the script goes to %q", got)
		}
		if w.cookie() == "" {
			t.Fatal("the key's answer set no session cookie")
		}
		if cookieNamed(a.page, web.InsecureTrustedCookieName) == nil {
			t.Error("trust this device set no trusted-device cookie")
		}
		wantStatus(t, w.get("/account"), http.StatusOK)

		// The sign counter was stored: the device was used.
		devices, err := env.App.MFA.Devices(context.Background(), accountID)
		if err != nil || len(devices) != 1 {
			t.Fatalf("devices %v, %v", devices, err)
		}
		if devices[0].LastUsedAt.IsZero() {
			t.Error("the key's LastUsedAt is not set after a login")
		}

		// The same login token cannot be used again.
		a = w.postJSON(loginBegin, "application/json", map[string]string{"login_token": token})
		wantJSONError(t, a, http.StatusGone, "expired")

		// Once the holder chooses email, the step offers email alone, and
		// the key cannot begin.
		chooseLoginMethod(t, env, tok, "email")
		x := newVisitor(t, env)
		p = x.passwordStep(email)
		if got := hidden(p, "methods"); got != "email" {
			t.Errorf("methods once email is chosen = %q", got)
		}
		wantContains(t, p, `id="send-code"`, `name="method" value="email"`)
		wantAbsent(t, p, `data-webauthn="login"`, `value="webauthn"`, `<script src="/static/webauthn.js"`)
		a = x.postJSON(loginBegin, "application/json", map[string]string{"login_token": hidden(p, "login_token")})
		wantJSONError(t, a, http.StatusUnprocessableEntity, "method_not_chosen")
	})
}

func TestSecurityKeyEndpointRefusals(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		const email = "ada@example.com"
		env.SignUp(t, email, testPassword)
		v := newVisitor(t, env)
		v.login(email, testPassword)
		key := newSoftKey(t, env)
		anonymous := newVisitor(t, env)

		t.Run("content type", func(t *testing.T) {
			for _, path := range []string{registerBegin, registerFinish, loginBegin, loginFinish} {
				for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded"} {
					a := v.postJSON(path, ct, `{}`)
					wantJSONError(t, a, http.StatusUnsupportedMediaType, "unsupported_media_type")
				}
			}
		})

		t.Run("bodies", func(t *testing.T) {
			for _, body := range []string{``, `{`, `[1]`, `{"nope": 1}`, `{} {}`, `{"name": 5}`,
				// Strict like the API: no name twice, none in another case, UTF-8 only.
				`{"name": "a", "name": "b"}`, `{"Name": "a"}`, "{\"name\": \"\xff\"}"} {
				a := v.postJSON(registerBegin, "application/json; charset=utf-8", body)
				wantJSONError(t, a, http.StatusBadRequest, "invalid_request")
			}
			a := v.postJSON(registerBegin, "application/json", `{"name": "`+strings.Repeat("x", 70<<10)+`"}`)
			wantJSONError(t, a, http.StatusRequestEntityTooLarge, "request_too_large")
			a = v.postJSON(registerBegin, "application/json", map[string]string{"name": strings.Repeat("x", 65)})
			wantJSONError(t, a, http.StatusBadRequest, "invalid_request")
			if got := a.errorField("field"); got != "name" {
				t.Errorf("a long name's error names field %v", got)
			}
		})

		t.Run("no session", func(t *testing.T) {
			for _, path := range []string{registerBegin, registerFinish} {
				a := anonymous.postJSON(path, "application/json", `{}`)
				wantJSONError(t, a, http.StatusUnauthorized, "unauthenticated")
				if got := a.errorField("location"); got != "/login" {
					t.Errorf("%s without a session: location %v, want /login", path, got)
				}
				if h := a.Header.Get("WWW-Authenticate"); h != "" {
					t.Errorf("%s: WWW-Authenticate %q would ask the browser for a password", path, h)
				}
			}
		})

		t.Run("other sites", func(t *testing.T) {
			req, _ := http.NewRequest("POST", env.URL+registerBegin, strings.NewReader(`{}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			p := v.do(req)
			wantStatus(t, p, http.StatusForbidden)
		})

		t.Run("unknown ceremony", func(t *testing.T) {
			a := v.postJSON(registerFinish, "application/json", map[string]any{
				"registration_id": "wa_nope", "credential": map[string]string{"id": "x"},
			})
			wantJSONError(t, a, http.StatusGone, "expired")
		})

		t.Run("expired ceremony", func(t *testing.T) {
			begun := v.postJSON(registerBegin, "application/json", `{}`)
			wantStatus(t, begun.page, http.StatusOK)
			env.Clock.Advance(6 * time.Minute)
			a := v.postJSON(registerFinish, "application/json", map[string]any{
				"registration_id": begun.str("registration_id"), "credential": key.create(begun.raw("options")),
			})
			wantJSONError(t, a, http.StatusGone, "expired")
		})

		t.Run("another account's ceremony", func(t *testing.T) {
			begun := v.postJSON(registerBegin, "application/json", `{}`)
			env.SignUp(t, "bea@example.com", testPassword)
			other := newVisitor(t, env)
			other.login("bea@example.com", testPassword)
			a := other.postJSON(registerFinish, "application/json", map[string]any{
				"registration_id": begun.str("registration_id"), "credential": key.create(begun.raw("options")),
			})
			wantJSONError(t, a, http.StatusGone, "expired")
		})

		t.Run("garbage credential", func(t *testing.T) {
			for _, cred := range []string{`"garbage"`, `null`, `{"id": "x", "type": "public-key"}`, `{"response": {"attestationObject": "!!"}}`} {
				begun := v.postJSON(registerBegin, "application/json", `{}`)
				a := v.postJSON(registerFinish, "application/json",
					`{"registration_id": "`+begun.str("registration_id")+`", "credential": `+cred+`}`)
				wantJSONError(t, a, http.StatusBadRequest, "invalid_request")
			}
		})

		t.Run("answer to another challenge", func(t *testing.T) {
			first := v.postJSON(registerBegin, "application/json", `{}`)
			second := v.postJSON(registerBegin, "application/json", `{}`)
			a := v.postJSON(registerFinish, "application/json", map[string]any{
				"registration_id": second.str("registration_id"), "credential": key.create(first.raw("options")),
			})
			wantJSONError(t, a, http.StatusUnprocessableEntity, "invalid_code")
			// The ceremony is used up either way.
			a = v.postJSON(registerFinish, "application/json", map[string]any{
				"registration_id": second.str("registration_id"), "credential": key.create(second.raw("options")),
			})
			wantJSONError(t, a, http.StatusGone, "expired")
		})

		// The second step of login.
		v.addSoftKey(key, "")
		protectLogin(t, env, email)
		step := func() (*visitor, string) {
			w := newVisitor(t, env)
			return w, hidden(w.passwordStep(email), "login_token")
		}

		t.Run("dead login token", func(t *testing.T) {
			for _, token := range []string{"", "nope", strings.Repeat("a", 43)} {
				a := anonymous.postJSON(loginBegin, "application/json", map[string]string{"login_token": token})
				wantJSONError(t, a, http.StatusGone, "expired")
				a = anonymous.postJSON(loginFinish, "application/json", map[string]any{
					"login_token": token, "assertion_id": "wa_nope", "credential": map[string]string{},
				})
				wantJSONError(t, a, http.StatusGone, "expired")
			}
		})

		t.Run("garbage assertion", func(t *testing.T) {
			w, token := step()
			begun := w.postJSON(loginBegin, "application/json", map[string]string{"login_token": token})
			wantStatus(t, begun.page, http.StatusOK)
			for _, cred := range []string{`"garbage"`, `{"id": "x"}`} {
				a := w.postJSON(loginFinish, "application/json",
					`{"login_token": "`+token+`", "assertion_id": "`+begun.str("assertion_id")+`", "credential": `+cred+`}`)
				wantJSONError(t, a, http.StatusUnauthorized, "invalid_code")
				if _, ok := a.errorField("attempts_left").(float64); !ok {
					t.Errorf("a wrong answer does not say how many tries are left: %s", a.Body)
				}
			}
			if w.cookie() != "" {
				t.Error("a wrong answer set a session cookie")
			}
		})

		t.Run("unknown or expired assertion", func(t *testing.T) {
			// The auth service counts a dead security-key step as a wrong
			// answer on the login token, so it is invalid_code, not expired.
			w, token := step()
			a := w.postJSON(loginFinish, "application/json", map[string]any{
				"login_token": token, "assertion_id": "wa_nope", "credential": key.get(w.postJSON(loginBegin, "application/json",
					map[string]string{"login_token": token}).raw("options")),
			})
			wantJSONError(t, a, http.StatusUnauthorized, "invalid_code")
			begun := w.postJSON(loginBegin, "application/json", map[string]string{"login_token": token})
			env.Clock.Advance(6 * time.Minute) // past the step and the login token
			a = w.postJSON(loginFinish, "application/json", map[string]any{
				"login_token": token, "assertion_id": begun.str("assertion_id"), "credential": key.get(begun.raw("options")),
			})
			wantJSONError(t, a, http.StatusGone, "expired")
		})

		t.Run("form without script", func(t *testing.T) {
			w, token := step()
			p := w.post("/login/second-factor", url.Values{
				"login_token": {token}, "methods": {"webauthn"}, "method": {"webauthn"}, "code": {"123456"},
			})
			wantStatus(t, p, http.StatusBadRequest)
			wantContains(t, p, `role="alert"`, "Using a security key needs JavaScript")
			// It cost no attempt: the key still finishes this login.
			begun := w.postJSON(loginBegin, "application/json", map[string]string{"login_token": token})
			a := w.postJSON(loginFinish, "application/json", map[string]any{
				"login_token": token, "assertion_id": begun.str("assertion_id"), "credential": key.get(begun.raw("options")),
			})
			wantStatus(t, a.page, http.StatusOK)
		})
	})
}
