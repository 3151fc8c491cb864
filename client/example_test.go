package client_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"log"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/custos/custos/app"
	"github.com/custos/custos/client"
	"github.com/custos/custos/internal/testserver"
	"github.com/custos/custos/keyring"
	"github.com/custos/custos/notify"
)

// Sign up, prove the emailed code, log in and read the session. The example
// runs against a real Custos started in the process (startCustos, below:
// a temporary SQLite database, the test captcha, email to a directory).
func Example() {
	ctx := context.Background()
	baseURL, emailedCode, stop := startCustos()
	defer stop()

	c, err := client.NewClientWithResponses(baseURL)
	if err != nil {
		log.Fatal(err)
	}

	// Sign-ups from one address soon need a captcha; this server's
	// captchas all answer "test".
	captcha, err := c.CreateCaptchaWithResponse(ctx)
	if err != nil || captcha.JSON201 == nil {
		log.Fatalf("captcha: %v", err)
	}
	signup, err := c.SignupWithResponse(ctx, client.SignupJSONRequestBody{
		Email: "ada@example.com", Password: "correct horse battery staple", Kind: client.SignupJSONBodyKindPersonal,
		Captcha: &client.CaptchaAnswer{Id: captcha.JSON201.Id, Answer: "test"},
	})
	if err != nil || signup.JSON202 == nil {
		log.Fatalf("signup: %v", err)
	}
	verified, err := c.SignupVerifyWithResponse(ctx, client.SignupVerifyJSONRequestBody{
		VerificationId: signup.JSON202.VerificationId, Code: emailedCode("ada@example.com"),
	})
	if err != nil || verified.JSON201 == nil {
		log.Fatalf("verify: %v", err)
	}

	// Errors are typed: each status has its Error, with a stable code.
	email := "ada@example.com"
	wrong, err := c.LoginWithResponse(ctx, client.LoginJSONRequestBody{Email: &email, Password: "guess"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(wrong.StatusCode(), wrong.JSON401.Error.Code)

	login, err := c.LoginWithResponse(ctx, client.LoginJSONRequestBody{Email: &email, Password: "correct horse battery staple"})
	if err != nil || login.JSON200 == nil {
		log.Fatalf("login: %v", err)
	}
	// A session, or — with login protection on — the next step (AsLoginStep).
	sess, err := login.JSON200.AsSession()
	if err != nil {
		log.Fatal(err)
	}
	me, err := c.GetSessionWithResponse(ctx, client.BearerToken(sess.SessionToken))
	if err != nil || me.JSON200 == nil {
		log.Fatalf("session: %v", err)
	}
	fmt.Println(me.JSON200.AccountId == verified.JSON201.AccountId, me.JSON200.Principal.Type, me.JSON200.SecondFactor)
	// Output:
	// 401 invalid_credentials
	// true root false
}

// startCustos serves Custos, built as in production, on a temporary SQLite
// database, and returns its URL, a reader of the code last emailed to an
// address, and what stops it all.
func startCustos() (string, func(to string) string, func()) {
	dir, err := os.MkdirTemp("", "custos-example")
	if err != nil {
		log.Fatal(err)
	}
	keys, err := keyring.Generate(rand.Reader, "k1")
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	public, _ := url.Parse("http://" + srv.Listener.Addr().String())
	outbox := filepath.Join(dir, "outbox")
	a, err := app.Build(context.Background(), app.Config{
		DB: "sqlite:" + filepath.Join(dir, "custos.db"), PublicURL: public, Dev: true, Deliver: "dir:" + outbox,
		MailFrom: "custos@localhost", Captcha: "test", Keys: keys, Argon2: testserver.FastArgon2, Rand: rand.Reader,
		DeliveryPoll: 10 * time.Millisecond,
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	srv.Config.Handler = a.Handler
	srv.Start()
	code := func(to string) string {
		if err := a.Queue.Drain(context.Background()); err != nil {
			log.Fatal(err)
		}
		msgs, err := notify.ReadOutbox(outbox)
		if err != nil {
			log.Fatal(err)
		}
		for _, m := range msgs {
			if m.To == to && m.Code != "" {
				return m.Code
			}
		}
		log.Fatalf("no code was emailed to %s", to)
		return ""
	}
	return srv.URL, code, func() {
		srv.Close()
		a.Close()
		os.RemoveAll(dir)
	}
}
