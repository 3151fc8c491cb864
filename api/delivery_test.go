package api_test

import (
	"fmt"
	"io"
	"mime/quotedprintable"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testclock"
	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/internal/testserver"
	"github.com/custos/custos/internal/testsmtp"
	dto "github.com/prometheus/client_model/go"
)

// codePattern finds the one-time code in a message's text.
var codePattern = regexp.MustCompile(`\b[0-9]{6}\b`)

// mailText is a message's body, quoted-printable decoded.
func mailText(t testing.TB, m testsmtp.Message) string {
	t.Helper()
	_, body, _ := strings.Cut(strings.ReplaceAll(string(m.Data), "\r\n", "\n"), "\n\n")
	b, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(body)))
	if err != nil {
		return body
	}
	return string(b)
}

// mailCode returns the code of the newest message to `to` whose subject
// contains subject, failing t when there is none.
func mailCode(t testing.TB, srv *testsmtp.Server, to string) string {
	t.Helper()
	msgs := srv.Messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		if len(msgs[i].To) == 1 && msgs[i].To[0] == to {
			if c := codePattern.FindString(mailText(t, msgs[i])); c != "" {
				return c
			}
		}
	}
	t.Fatalf("no message with a code to %s among %d", to, len(msgs))
	return ""
}

// signUpBySMTP signs up email on env, reading the code from srv.
func signUpBySMTP(t testing.TB, env *testserver.Env, srv *testsmtp.Server, email string) {
	t.Helper()
	before := srv.Count()
	r := env.Do(t, "POST", "/api/v1/signup", "", map[string]any{"email": email, "password": goodPassword, "kind": "personal",
		"captcha": map[string]string{"id": captchaID(t, env), "answer": "test"}})
	if r.Status != http.StatusAccepted {
		t.Fatalf("signup: %d %s", r.Status, r.Raw)
	}
	srv.WaitFor(t, before+1, 20*time.Second)
	v := env.Do(t, "POST", "/api/v1/signup/verify", "", map[string]string{"verification_id": r.String("verification_id"), "code": mailCode(t, srv, email)})
	if v.Status != http.StatusCreated {
		t.Fatalf("signup verify: %d %s", v.Status, v.Raw)
	}
}

func captchaID(t testing.TB, env *testserver.Env) string {
	t.Helper()
	r := env.Do(t, "POST", "/api/v1/captcha", "", nil)
	if r.Status != http.StatusCreated {
		t.Fatalf("captcha: %d %s", r.Status, r.Raw)
	}
	return r.String("id")
}

func startReset(t testing.TB, env *testserver.Env, email string) (time.Duration, testserver.Response) {
	t.Helper()
	id := captchaID(t, env)
	start := time.Now()
	r := env.Do(t, "POST", "/api/v1/password-reset", "", map[string]any{"email": email,
		"captcha": map[string]string{"id": id, "answer": "test"}})
	return time.Since(start), r
}

// deliveries reads custos_deliveries_total{channel="email",outcome}.
func deliveries(t testing.TB, env *testserver.Env, outcome string) float64 {
	t.Helper()
	mfs, err := env.App.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "custos_deliveries_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if labelOf(m, "channel") == "email" && labelOf(m, "outcome") == outcome {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no custos_deliveries_total{channel=\"email\",outcome=%q}", outcome)
	return 0
}

func labelOf(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// TestResetAnswersWhileMailIsDown: with the mail server down, a password
// reset for an existing account answers 202 at once (no wait for SMTP, no
// 503); the failed attempts show in the metrics; and the code arrives once
// the mail server is back, and works.
func TestResetAnswersWhileMailIsDown(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			mail := testsmtp.Start(t)
			env := testserver.Start(t, testserver.Options{Dialect: d, Deliver: mail.URL()})
			signUpBySMTP(t, env, mail, "rhea@example.com")
			env.Drain(t)
			if n := deliveries(t, env, "sent"); n != 1 {
				t.Fatalf("sent before the outage = %v, want 1 (the sign-up code)", n)
			}

			mail.Stop()
			took, r := startReset(t, env, "rhea@example.com")
			if r.Status != http.StatusAccepted {
				t.Fatalf("reset while mail is down: %d %s, want 202", r.Status, r.Raw)
			}
			if took > time.Second {
				t.Errorf("reset while mail is down took %s: it waited for delivery", took)
			}
			deadline := time.Now().Add(20 * time.Second)
			for deliveries(t, env, "failed") < 1 {
				if time.Now().After(deadline) {
					t.Fatal("no failed attempt counted while mail is down")
				}
				time.Sleep(20 * time.Millisecond)
			}
			if n := mail.Count(); n != 1 {
				t.Fatalf("%d messages accepted while down, want only the sign-up code", n)
			}

			if err := mail.Start(); err != nil {
				t.Fatal(err)
			}
			mail.WaitFor(t, 2, 30*time.Second) // the first retries come after 2 s, 4 s, 8 s
			code := mailCode(t, mail, "rhea@example.com")
			if p := env.Do(t, "POST", "/api/v1/password-reset/"+r.String("reset_id"), "", map[string]string{"code": code}); p.Status != http.StatusOK {
				t.Fatalf("the code delivered after the outage: %d %s", p.Status, p.Raw)
			}
			env.Drain(t)
			if n := deliveries(t, env, "sent"); n != 2 {
				t.Errorf("sent = %v, want 2", n)
			}
		})
	}
}

// TestTwoReplicasDeliverEachMessageOnce: two servers on one database, each
// running its workers, deliver 100 messages, written through either, to
// the mail server exactly once each.
func TestTwoReplicasDeliverEachMessageOnce(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			mail := testsmtp.Start(t)
			dsn := testdb.DSN(t, d)
			clock := testclock.New(time.Time{})
			one := testserver.Start(t, testserver.Options{DSN: dsn, Clock: clock, Deliver: mail.URL()})
			two := testserver.Start(t, testserver.Options{DSN: dsn, Clock: clock, Deliver: mail.URL(), Keys: one.Keys})
			const n = 100
			var wg sync.WaitGroup
			for i := range n {
				env := one
				if i%2 == 1 {
					env = two
				}
				wg.Go(func() {
					m := custos.Message{Channel: custos.ChannelEmail, To: fmt.Sprintf("r%03d@example.com", i), Purpose: custos.MsgPasswordChanged, Data: map[string]string{}}
					if err := env.App.Queue.Send(t.Context(), m); err != nil {
						t.Errorf("Send %d: %v", i, err)
					}
				})
			}
			wg.Wait()
			mail.WaitFor(t, n, 60*time.Second)
			one.Drain(t)
			time.Sleep(300 * time.Millisecond) // room for a duplicate to show
			got := map[string]int{}
			for _, m := range mail.Messages() {
				got[strings.Join(m.To, ",")]++
			}
			for i := range n {
				if to := fmt.Sprintf("r%03d@example.com", i); got[to] != 1 {
					t.Errorf("%s got %d messages, want 1", to, got[to])
				}
			}
			if c := mail.Count(); c != n {
				t.Errorf("the mail server accepted %d messages, want %d", c, n)
			}
			t.Logf("delivered by replica one: %v, by replica two: %v", deliveries(t, one, "sent"), deliveries(t, two, "sent"))
		})
	}
}
