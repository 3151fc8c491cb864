package auth

import (
	"context"
	"slices"
	"time"

	"github.com/custos/custos"
)

// GuardStore is what the Guard reads.
type GuardStore interface {
	AccountByID(ctx context.Context, id string) (custos.Account, error)
	DeviceLister
}

// Guard is the elevation check every sensitive change goes through
// (operation protection, "confirm it's you"). It implements
// custos.Elevator; the services that make sensitive changes (auth itself,
// mfa, binding) are given it and ask it themselves, so no transport can
// forget it. Verifications that open the window are run by Service.
type Guard struct {
	store GuardStore
	clock custos.Clock
}

// NewGuard returns a Guard.
func NewGuard(store GuardStore, clock custos.Clock) *Guard {
	return &Guard{store: store, clock: clock}
}

var _ custos.Elevator = (*Guard)(nil)

// RequireElevation implements custos.Elevator.
func (g *Guard) RequireElevation(ctx context.Context, sess custos.Session, firstChannel bool) error {
	if sess.AccountID == "" {
		return unauthenticated()
	}
	if sess.VerifiedUntil.After(g.clock.Now()) {
		return nil
	}
	acct, err := g.store.AccountByID(ctx, sess.AccountID)
	if err != nil {
		return err
	}
	devices, err := g.store.ListDevices(ctx, acct.ID)
	if err != nil {
		return err
	}
	if firstChannel && acct.Phone == "" && acct.SecureEmail == "" && len(devices) == 0 {
		return nil
	}
	return custos.Fail(custos.EVerificationRequired, "verify.required").With("methods", verificationMethods(acct, devices))
}

// Methods lists how the account can verify before a sensitive change.
func (g *Guard) Methods(ctx context.Context, acct custos.Account) ([]string, error) {
	devices, err := g.store.ListDevices(ctx, acct.ID)
	if err != nil {
		return nil, err
	}
	return verificationMethods(acct, devices), nil
}

// verificationMethods is the rule. With operation protection on, only the
// method the holder chose (R8): the code-giving MFA device types (an app,
// a token) for MethodMFA — the default once a device is bound —, a code by
// SMS to the bound phone, or a code by email. With it off, any of them the
// account has.
func verificationMethods(acct custos.Account, devices []custos.Device) []string {
	var codeDevices []string
	for _, t := range []custos.DeviceType{custos.DeviceTOTP, custos.DeviceHardware} {
		if slices.ContainsFunc(devices, func(d custos.Device) bool { return d.Type == t }) {
			codeDevices = append(codeDevices, string(t))
		}
	}
	if acct.Protection.Operation {
		switch custos.ChosenMethod(acct.Protection.OperationMethod, len(devices) > 0) {
		case custos.MethodMFA:
			return codeDevices
		case custos.MethodSMS:
			if acct.Phone != "" {
				return []string{"sms"}
			}
			// The phone was unbound since: the login email still reaches
			// the holder, and nothing weaker is offered.
			return []string{"email"}
		case custos.MethodEmail:
			return []string{"email"}
		}
	}
	out := codeDevices
	if acct.Phone != "" {
		out = append(out, "sms")
	}
	if !emailReaches(acct) {
		return out
	}
	return append(out, "email")
}

// emailReaches reports whether an email code reaches the holder: always
// for an account (its login email), for a sub-user only with an email of
// its own (its Email is a stand-in).
func emailReaches(acct custos.Account) bool { return !acct.IsSubUser() || acct.SecureEmail != "" }

// VerifiedUntil is the end of the session's verification window, or the
// zero time when it is closed.
func (g *Guard) VerifiedUntil(sess custos.Session) time.Time {
	if sess.VerifiedUntil.After(g.clock.Now()) {
		return sess.VerifiedUntil
	}
	return time.Time{}
}
