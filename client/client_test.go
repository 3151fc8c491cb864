package client_test

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/custos/custos/client"
	"github.com/custos/custos/internal/testserver"
)

// TestGeneratedCodeIsFresh regenerates the client from api/openapi.yaml
// with the pinned generator (the tool directive in go.mod) into a temporary
// directory and fails if the committed client.gen.go differs.
func TestGeneratedCodeIsFresh(t *testing.T) {
	// The same configuration, writing into the temporary directory.
	cfg, err := os.ReadFile("cfg.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "client.gen.go")
	outputLine := regexp.MustCompile(`(?m)^output: .*$`)
	if !outputLine.Match(cfg) {
		t.Fatal("cfg.yaml has no output line")
	}
	tmpCfg := filepath.Join(dir, "cfg.yaml")
	if err := os.WriteFile(tmpCfg, outputLine.ReplaceAll(cfg, []byte("output: "+out)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "tool", "oapi-codegen", "-config", tmpCfg, "../api/openapi.yaml")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("oapi-codegen: %v\n%s", err, b)
	}
	fresh, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile("client.gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fresh, committed) {
		t.Fatal("client.gen.go is stale: run `go generate ./client` and commit the result")
	}
}

// TestSignUpLogInSession drives a real test server through the client:
// sign up, prove the emailed code, log in, read the session, log out. The
// test server's HTTP client also checks every answer against the document.
func TestSignUpLogInSession(t *testing.T) {
	env := testserver.Start(t, testserver.Options{})
	c, err := client.NewClientWithResponses(env.URL, client.WithHTTPClient(env.Client))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	const email, pw = "client@example.com", "correct horse battery staple"

	captcha, err := c.CreateCaptchaWithResponse(ctx)
	must(t, err)
	if captcha.JSON201 == nil {
		t.Fatalf("createCaptcha: %d %s", captcha.StatusCode(), captcha.Body)
	}
	su, err := c.SignupWithResponse(ctx, client.SignupJSONRequestBody{
		Email: email, Password: pw, Kind: client.SignupJSONBodyKindPersonal,
		Captcha: &client.CaptchaAnswer{Id: captcha.JSON201.Id, Answer: "test"},
	})
	must(t, err)
	if su.JSON202 == nil {
		t.Fatalf("signup: %d %s", su.StatusCode(), su.Body)
	}
	v, err := c.SignupVerifyWithResponse(ctx, client.SignupVerifyJSONRequestBody{
		VerificationId: su.JSON202.VerificationId, Code: env.Code(t, email, "signup_code"),
	})
	must(t, err)
	if v.JSON201 == nil {
		t.Fatalf("signupVerify: %d %s", v.StatusCode(), v.Body)
	}
	accountID := v.JSON201.AccountId

	// A wrong password is a typed error with its stable code.
	wrong := "not the password"
	bad, err := c.LoginWithResponse(ctx, client.LoginJSONRequestBody{Email: ptr(email), Password: wrong})
	must(t, err)
	if bad.JSON401 == nil || bad.JSON401.Error.Code != client.ErrorDetailCodeInvalidCredentials || bad.JSON401.Error.CaptchaRequired == nil {
		t.Fatalf("wrong password: %d %s, want 401 invalid_credentials with captcha_required", bad.StatusCode(), bad.Body)
	}

	in, err := c.LoginWithResponse(ctx, client.LoginJSONRequestBody{Email: ptr(email), Password: pw})
	must(t, err)
	if in.JSON200 == nil {
		t.Fatalf("login: %d %s", in.StatusCode(), in.Body)
	}
	sess, err := in.JSON200.AsSession()
	if err != nil || sess.SessionToken == "" || sess.AccountId != accountID {
		t.Fatalf("login answered %s (%v), want a session of %s", in.Body, err, accountID)
	}

	got, err := c.GetSessionWithResponse(ctx, client.BearerToken(sess.SessionToken))
	must(t, err)
	if got.JSON200 == nil {
		t.Fatalf("getSession: %d %s", got.StatusCode(), got.Body)
	}
	if got.JSON200.AccountId != accountID || got.JSON200.SecondFactor || got.JSON200.Principal.Type != "root" {
		t.Errorf("session = %s, want the root account %s without a second factor", got.Body, accountID)
	}

	out, err := c.DeleteSessionWithResponse(ctx, client.BearerToken(sess.SessionToken))
	must(t, err)
	if out.StatusCode() != http.StatusNoContent {
		t.Fatalf("deleteSession: %d %s", out.StatusCode(), out.Body)
	}
	after, err := c.GetSessionWithResponse(ctx, client.BearerToken(sess.SessionToken))
	must(t, err)
	if after.JSON401 == nil || after.JSON401.Error.Code != client.ErrorDetailCodeUnauthenticated {
		t.Errorf("session after logout: %d %s, want 401 unauthenticated", after.StatusCode(), after.Body)
	}
}

func ptr[T any](v T) *T { return &v }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
