package web_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/custos/custos/internal/testserver"
)

// TestProtectionMethodForms: Security Settings lets the holder choose the
// method of each protection (R8), offering only what the account can use,
// and the choice goes through "confirm it's you" like the switches.
func TestProtectionMethodForms(t *testing.T) {
	forEachDialect(t, func(t *testing.T, env *testserver.Env) {
		const email = "ada@example.com"
		env.SignUp(t, email, testPassword)
		v := newVisitor(t, env)
		v.login(email, testPassword)

		// No device, no phone: only email can be chosen, and nothing is
		// chosen yet.
		p := v.get("/account/security")
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p,
			`<form method="post" action="/account/security/protection" class="method-form" id="login-method-form" novalidate>`,
			`<input type="hidden" name="method_for" value="login">`,
			`<legend>How the second step of login checks</legend>`,
			`<input id="login-method-mfa" name="login_method" type="radio" value="mfa" disabled>`,
			`<input id="login-method-sms" name="login_method" type="radio" value="sms" disabled>`,
			`<input id="login-method-email" name="login_method" type="radio" value="email">`,
			`<label for="login-method-email">Code by email`,
			`<label for="login-method-sms">Code by text message <span class="hint">Bind a phone first.</span>`,
			`<label for="login-method-mfa">MFA device <span class="hint">Add an MFA device first.</span>`,
			`id="operation-method-form"`, `<legend>How you confirm it&#39;s you while operation protection is on</legend>`,
			`<input id="operation-method-email" name="operation_method" type="radio" value="email">`,
			`<label for="operation-method-mfa">MFA device <span class="hint">Add an authenticator app or a hardware token first.</span>`,
			`Save the choice<span class="visually-hidden"> How the second step of login checks</span>`,
		)
		wantAbsent(t, p, ` checked`)

		refusals := []struct {
			name string
			form url.Values
			want []string
		}{
			{name: "nothing picked", form: url.Values{"method_for": {"login"}},
				want: []string{"Choose one of the ways.", `id="login-method-error"`, `href="#login_method"`}},
			{name: "not a method", form: url.Values{"method_for": {"operation"}, "operation_method": {"password"}},
				want: []string{"Choose one of the ways.", `id="operation-method-error"`}},
			{name: "sms without a phone", form: url.Values{"method_for": {"login"}, "login_method": {"sms"}},
				want: []string{"Bind a phone first: codes by text message need one.", `id="login-method-error"`}},
			{name: "mfa without a device", form: url.Values{"method_for": {"operation"}, "operation_method": {"mfa"}},
				want: []string{"Add an MFA device first", `id="operation-method-error"`}},
		}
		for _, tt := range refusals {
			t.Run(tt.name, func(t *testing.T) {
				p := v.post("/account/security/protection", tt.form)
				wantStatus(t, p, http.StatusBadRequest)
				wantContains(t, p, append(tt.want, `role="alert"`, `aria-current="page">Security Settings`, `class="field has-error"`)...)
			})
		}

		// With an app, mfa is the default of both, and can be chosen.
		v.bindApp()
		p = v.get("/account/security")
		wantContains(t, p,
			`<input id="login-method-mfa" name="login_method" type="radio" value="mfa" checked>`,
			`<input id="operation-method-mfa" name="operation_method" type="radio" value="mfa" checked>`,
			`<input id="login-method-email" name="login_method" type="radio" value="email">`,
			`<input id="login-method-sms" name="login_method" type="radio" value="sms" disabled>`)

		// Choosing email asks to confirm it's you first, then comes back to
		// say what changes.
		next := "/account/security/protection?login_method=email"
		wantRedirect(t, v.post("/account/security/protection", url.Values{"method_for": {"login"}, "login_method": {"email"}}), verifyPath(next))
		v.confirm(v.secret, next)
		p = v.get(next)
		wantStatus(t, p, http.StatusOK)
		wantContains(t, p, "At the second step of login, ask for a code by email, and nothing else.",
			`<input type="hidden" name="login_method" value="email">`)
		wantRedirect(t, v.post("/account/security/protection", url.Values{"login_method": {"email"}}), "/account/security?done=login_method")
		p = v.get("/account/security?done=login_method")
		wantContains(t, p, "Your choice for the second step of login is saved.",
			`<input id="login-method-email" name="login_method" type="radio" value="email" checked>`,
			`<input id="login-method-mfa" name="login_method" type="radio" value="mfa">`,
			`<input id="operation-method-mfa" name="operation_method" type="radio" value="mfa" checked>`)

		// Operation protection by email, switch and method at once.
		wantRedirect(t, v.post("/account/security/protection", url.Values{"operation_protection": {"true"}, "operation_method": {"email"}}),
			"/account/security?done=protection")
		p = v.get("/account/security")
		wantContains(t, p, `id="setting-operation-protection" data-state="on"`,
			`<input id="operation-method-email" name="operation_method" type="radio" value="email" checked>`)
		wantContains(t, v.get("/account/activity"), "Login or operation protection changed")
	})
}
