package app_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testdb"
	"github.com/custos/custos/internal/testserver"
)

// sensitiveOperations is every service method that makes a sensitive
// change. Each must refuse with verification_required by itself, whatever
// transport calls it: a new sensitive method belongs in this table.
func sensitiveOperations(env *testserver.Env) []struct {
	name string
	call func(ctx context.Context, sess custos.Session) error
} {
	a := env.App
	c := custos.Client{Addr: "192.0.2.1", UserAgent: "test"}
	return []struct {
		name string
		call func(ctx context.Context, sess custos.Session) error
	}{
		{"auth.ChangePassword", func(ctx context.Context, s custos.Session) error {
			return a.Auth.ChangePassword(ctx, s, "a-Much-longer-passphrase-42", c)
		}},
		{"auth.SetProtection", func(ctx context.Context, s custos.Session) error {
			return a.Auth.SetProtection(ctx, s, custos.Protection{}, c)
		}},
		{"mfa.BeginTOTP", func(ctx context.Context, s custos.Session) error {
			_, err := a.MFA.BeginTOTP(ctx, s, "phone app")
			return err
		}},
		{"mfa.BindHardware", func(ctx context.Context, s custos.Session) error {
			_, err := a.MFA.BindHardware(ctx, s, "SN-1", "123456", "654321", "", c)
			return err
		}},
		{"mfa.BeginWebAuthnRegistration", func(ctx context.Context, s custos.Session) error {
			_, _, err := a.MFA.BeginWebAuthnRegistration(ctx, s, "key")
			return err
		}},
		{"mfa.Unbind", func(ctx context.Context, s custos.Session) error {
			return a.MFA.Unbind(ctx, s, "dev_unknown", c)
		}},
		{"mfa.GenerateRecoveryCodes", func(ctx context.Context, s custos.Session) error {
			_, err := a.MFA.GenerateRecoveryCodes(ctx, s, c)
			return err
		}},
		{"binding.StartPhoneChange", func(ctx context.Context, s custos.Session) error {
			_, err := a.Binding.StartPhoneChange(ctx, s, "+8613900139000", c)
			return err
		}},
		{"binding.StartEmailChange", func(ctx context.Context, s custos.Session) error {
			_, err := a.Binding.StartEmailChange(ctx, s, "new-login@example.com", c)
			return err
		}},
		{"binding.StartSecureEmail", func(ctx context.Context, s custos.Session) error {
			_, err := a.Binding.StartSecureEmail(ctx, s, "secure@example.com", c)
			return err
		}},
	}
}

// TestSensitiveOperationsRefuseWithoutVerification calls every sensitive
// service method directly, with a signed-in session that has not confirmed
// it's the holder lately: each refuses on its own. The same calls after a
// verification are let through (whatever else they then answer), so the
// refusal is the verification's and not something else's.
func TestSensitiveOperationsRefuseWithoutVerification(t *testing.T) {
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			env := testserver.Start(t, testserver.Options{Dialect: dialect})
			ctx := context.Background()
			const pw = "Correct-horse-battery-9"
			// holder makes an account with a secure email, a second
			// channel: from then on every sensitive change needs "confirm
			// it's you". It returns the account and a way to sign in.
			holder := func(t *testing.T, n int) (string, func(t *testing.T) custos.Session) {
				t.Helper()
				email := fmt.Sprintf("holder%d@example.com", n)
				accountID := env.SignUp(t, email, pw)
				ev, err := custos.NewEvent(rand.Reader, env.Clock.Now(), custos.EventSecureEmail, accountID, "", custos.Client{}, nil)
				if err != nil {
					t.Fatal(err)
				}
				if err := env.App.Store.SetSecureEmail(ctx, accountID, "safe@example.org", ev); err != nil {
					t.Fatal(err)
				}
				return accountID, func(t *testing.T) custos.Session {
					t.Helper()
					sess, err := env.App.Auth.Authenticate(ctx, env.Login(t, email, pw))
					if err != nil {
						t.Fatal(err)
					}
					return sess
				}
			}
			for i, op := range sensitiveOperations(env) {
				t.Run(op.name, func(t *testing.T) {
					accountID, fresh := holder(t, i)
					sess := fresh(t)
					err := op.call(ctx, sess)
					if !custos.IsCode(err, custos.EVerificationRequired) {
						t.Fatalf("without a verification: %v, want %s", err, custos.EVerificationRequired)
					}
					var ce *custos.Error
					if e, ok := err.(*custos.Error); ok {
						ce = e
					}
					if ce == nil || ce.Fields["methods"] == nil {
						t.Errorf("the refusal carries no methods: %#v", err)
					}

					// A session whose verification window has closed is
					// refused the same way.
					sess.VerifiedUntil = env.Clock.Now().Add(-time.Second)
					if err := op.call(ctx, sess); !custos.IsCode(err, custos.EVerificationRequired) {
						t.Errorf("after the window closed: %v, want %s", err, custos.EVerificationRequired)
					}

					// Verified just now: the guard lets it through.
					sess = fresh(t)
					until := env.Clock.Now().Add(5 * time.Minute)
					ev, err := custos.NewEvent(rand.Reader, env.Clock.Now(), custos.EventVerified, accountID, "", custos.Client{}, nil)
					if err != nil {
						t.Fatal(err)
					}
					if err := env.App.Store.SetSessionVerified(ctx, sess.ID, until, false, ev); err != nil {
						t.Fatal(err)
					}
					sess.VerifiedUntil = until
					if err := op.call(ctx, sess); custos.IsCode(err, custos.EVerificationRequired) {
						t.Errorf("after a verification: still %v", err)
					}
				})
			}
		})
	}
}
