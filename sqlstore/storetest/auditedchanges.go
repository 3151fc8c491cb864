package storetest

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/google/go-cmp/cmp"
)

// auditedChange is one custos.Store method that takes an AuditEvent, as
// testAuditFailureLeavesNoChange drives it. Each works on its own account,
// p, and on ids made from p.
type auditedChange struct {
	name string // the method's name
	// setup makes what the change needs.
	setup func(t *testing.T, s custos.Store, p string)
	// change calls the method once, writing ev.
	change func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error
	// state reads back everything the change would change.
	state func(t *testing.T, s custos.Store, p string) any
}

// notAudited lists the methods that take an AuditEvent without making a
// change of their own to audit.
var notAudited = []string{
	"AppendAudit", // the audit write itself
}

// auditedMethods returns the names of custos.Store's methods that take an
// AuditEvent, sorted.
func auditedMethods() []string {
	evType := reflect.TypeFor[custos.AuditEvent]()
	store := reflect.TypeFor[custos.Store]()
	var names []string
	for i := range store.NumMethod() {
		m := store.Method(i)
		for j := range m.Type.NumIn() {
			if m.Type.In(j) == evType {
				names = append(names, m.Name)
				break
			}
		}
	}
	slices.Sort(names)
	return names
}

// Outboxed is a store whose outbox the suite can read. Run's stores must
// be one: their outbox records each message in the transaction that writes
// it, so Sent returns, in order, the messages of the transactions that
// committed (and no others).
type Outboxed interface {
	custos.Store
	Sent(t *testing.T) []custos.Message
}

// outboxOf returns s's outbox reader, failing t when s has none.
func outboxOf(t *testing.T, s custos.Store) Outboxed {
	t.Helper()
	o, ok := s.(Outboxed)
	if !ok {
		t.Fatalf("the store %T is not a storetest.Outboxed: the suite reads what changes write to the outbox", s)
	}
	return o
}

// notice is the message a change in the suite carries.
func notice(p, what string) custos.Message {
	return custos.Message{Channel: custos.ChannelEmail, To: p + "@example.test", Purpose: custos.MsgPasswordChanged,
		Data: map[string]string{"change": what}}
}

// sentTo returns what the outbox holds for p's address.
func sentTo(t *testing.T, o Outboxed, p string) []custos.Message {
	t.Helper()
	var out []custos.Message
	for _, m := range o.Sent(t) {
		if m.To == p+"@example.test" {
			out = append(out, m)
		}
	}
	return out
}

// withNotice is ev carrying notice(p, what).
func withNotice(ev custos.AuditEvent, p, what string) custos.AuditEvent {
	ev.Notify = []custos.Message{notice(p, what)}
	return ev
}

// testAuditFailureLeavesNoChange checks that a change whose audit write
// fails leaves no change: for every method that takes an AuditEvent, an
// event whose id is taken (so its insert breaks the primary key) fails the
// call with EConflict and leaves the change undone, the log as it was and
// the message the event carries unwritten. The same call with a fresh
// event then changes what state reads, so each row's state does see its
// change, and writes its message exactly once.
func testAuditFailureLeavesNoChange(t *testing.T, s custos.Store) {
	ctx := t.Context()
	o := outboxOf(t, s)
	changes := slices.Concat(auditedChanges(), identityAuditedChanges(), ticketAuditedChanges(), subUserAuditedChanges(),
		collabAuditedChanges(), knownDeviceAuditedChanges())
	t.Run("every audited method has a row", func(t *testing.T) {
		var rows []string
		for _, c := range changes {
			rows = append(rows, c.name)
		}
		rows = append(rows, notAudited...)
		slices.Sort(rows)
		if diff := cmp.Diff(auditedMethods(), rows); diff != "" {
			t.Errorf("custos.Store methods taking an AuditEvent (-) vs rows of auditedChanges and notAudited (+):\n%s", diff)
		}
	})
	for _, c := range changes {
		t.Run(c.name, func(t *testing.T) {
			p := "aw-" + strings.ToLower(c.name)
			c.setup(t, s, p)
			taken := newEvent("ev-taken-"+p, p, custos.EventLoginFailure, t0)
			if err := s.AppendAudit(ctx, taken); err != nil {
				t.Fatalf("AppendAudit: %v", err)
			}
			before := c.state(t, s, p)
			events, err := s.ListAudit(ctx, p, 1000)
			if err != nil {
				t.Fatalf("ListAudit: %v", err)
			}

			sent := sentTo(t, o, p)
			err = c.change(ctx, s, p, withNotice(newEvent(taken.ID, p, custos.EventProtection, t0.Add(time.Hour)), p, "refused"))
			wantCode(t, c.name+"(taken event id)", err, custos.EConflict)
			if diff := cmp.Diff(before, c.state(t, s, p), opts); diff != "" {
				t.Errorf("%s changed things although its event was refused (-before +after):\n%s", c.name, diff)
			}
			wantEvents(t, s, p, events...)
			if diff := cmp.Diff(sent, sentTo(t, o, p), opts); diff != "" {
				t.Errorf("%s wrote its message although its event was refused (-before +after):\n%s", c.name, diff)
			}

			fresh := newEvent("ev-fresh-"+p, p, custos.EventProtection, t0.Add(time.Hour))
			if err := c.change(ctx, s, p, withNotice(fresh, p, "made")); err != nil {
				t.Fatalf("%s(fresh event): %v", c.name, err)
			}
			if cmp.Equal(before, c.state(t, s, p), opts) {
				t.Errorf("%s with a fresh event changed nothing state reads: the row checks nothing", c.name)
			}
			wantEvents(t, s, p, append([]custos.AuditEvent{fresh}, events...)...)
			if diff := cmp.Diff(append(sent, notice(p, "made")), sentTo(t, o, p), opts); diff != "" {
				t.Errorf("%s did not write its message once with the change (-want +got):\n%s", c.name, diff)
			}
		})
	}
}

// absent stands for a row that is not there in a state.
const absent = "absent"

func accountOrAbsent(t *testing.T, s custos.Store, id string) any {
	t.Helper()
	a, err := s.AccountByID(t.Context(), id)
	switch {
	case custos.IsCode(err, custos.ENotFound):
		return absent
	case err != nil:
		t.Fatalf("AccountByID(%s): %v", id, err)
	}
	return a
}

func sessionIDs(t *testing.T, s custos.Store, accountID string) []string {
	t.Helper()
	sessions, err := s.ListSessions(t.Context(), accountID)
	if err != nil {
		t.Fatalf("ListSessions(%s): %v", accountID, err)
	}
	ids := []string{}
	for _, sess := range sessions {
		ids = append(ids, sess.ID)
	}
	return ids
}

func deviceOrAbsent(t *testing.T, s custos.Store, accountID, id string) any {
	t.Helper()
	d, err := s.DeviceByID(t.Context(), accountID, id)
	switch {
	case custos.IsCode(err, custos.ENotFound):
		return absent
	case err != nil:
		t.Fatalf("DeviceByID(%s): %v", id, err)
	}
	return d
}

func tokenOf(t *testing.T, s custos.Store, serial string) custos.HardwareToken {
	t.Helper()
	tok, err := s.TokenBySerial(t.Context(), serial)
	if err != nil {
		t.Fatalf("TokenBySerial(%s): %v", serial, err)
	}
	return tok
}

func counterOf(t *testing.T, s custos.Store, key string) custos.Counter {
	t.Helper()
	c, err := s.GetCounter(t.Context(), key)
	if err != nil {
		t.Fatalf("GetCounter(%s): %v", key, err)
	}
	return c
}

func recoveryCount(t *testing.T, s custos.Store, accountID string) int {
	t.Helper()
	n, err := s.CountRecoveryCodes(t.Context(), accountID)
	if err != nil {
		t.Fatalf("CountRecoveryCodes(%s): %v", accountID, err)
	}
	return n
}

// withSession creates the account p and its session p+"-sess".
func withSession(t *testing.T, s custos.Store, p string) {
	t.Helper()
	mustCreateAccount(t, s, p)
	sess := newSession(p+"-sess", p)
	if err := s.CreateSession(t.Context(), sess, newEvent("ev-login-"+p, p, custos.EventLoginSuccess, t0)); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
}

// withBoundToken creates the account p with the token SN-p bound to it as
// the device p+"-hw".
func withBoundToken(t *testing.T, s custos.Store, p string) {
	t.Helper()
	mustCreateAccount(t, s, p)
	mustImportToken(t, s, newToken("SN-"+p))
	if err := s.BindToken(t.Context(), "SN-"+p, newHardwareDevice(p+"-hw", p, "SN-"+p),
		newEvent("ev-bind-"+p, p, custos.EventDeviceBound, t0)); err != nil {
		t.Fatalf("BindToken: %v", err)
	}
}

// withRecoveryCodes creates the account p with three recovery codes.
func withRecoveryCodes(t *testing.T, s custos.Store, p string) {
	t.Helper()
	mustCreateAccount(t, s, p)
	mustReplaceRecoveryCodes(t, s, p, recoveryHashes(p, 3), newEvent("ev-codes-"+p, p, custos.EventRecoveryCodes, t0))
}

func createAccountOnly(t *testing.T, s custos.Store, p string) {
	t.Helper()
	mustCreateAccount(t, s, p)
}

func accountState(t *testing.T, s custos.Store, p string) any {
	t.Helper()
	return accountOrAbsent(t, s, p)
}

// signoutState is the signout fixture of account p as it reads back.
func signoutState(t *testing.T, s custos.Store, p string) any {
	t.Helper()
	return signoutNames(p, 2).state(t, s)
}

// auditedChanges is one row per custos.Store method that takes an
// AuditEvent (but those in notAudited).
func auditedChanges() []auditedChange {
	return []auditedChange{
		{
			name:  "CreateAccount",
			setup: func(*testing.T, custos.Store, string) {},
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				return s.CreateAccount(ctx, newAccount(p), ev)
			},
			state: accountState,
		},
		{
			name:  "SetPhone",
			setup: createAccountOnly,
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				return s.SetPhone(ctx, p, "+8613900000001", 5, ev)
			},
			state: func(t *testing.T, s custos.Store, p string) any {
				t.Helper()
				bound, err := s.AccountsByPhone(t.Context(), "+8613900000001")
				if err != nil {
					t.Fatalf("AccountsByPhone: %v", err)
				}
				return []any{accountOrAbsent(t, s, p), bound}
			},
		},
		{
			name:  "SetAccountEmail",
			setup: createAccountOnly,
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				return s.SetAccountEmail(ctx, p, p+"-new@example.test", ev)
			},
			state: func(t *testing.T, s custos.Store, p string) any {
				t.Helper()
				_, err := s.AccountByEmail(t.Context(), p+"-new@example.test")
				if err != nil && !custos.IsCode(err, custos.ENotFound) {
					t.Fatalf("AccountByEmail: %v", err)
				}
				return []any{accountOrAbsent(t, s, p), err == nil}
			},
		},
		{
			name:  "SetSecureEmail",
			setup: createAccountOnly,
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				return s.SetSecureEmail(ctx, p, p+"-safe@example.test", ev)
			},
			state: accountState,
		},
		{
			name:  "SetProtection",
			setup: createAccountOnly,
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				return s.SetProtection(ctx, p, custos.Protection{Login: true, Operation: true,
					LoginMethod: custos.MethodEmail, OperationMethod: custos.MethodSMS}, ev)
			},
			state: accountState,
		},
		{
			name:  "ResetPassword",
			setup: func(t *testing.T, s custos.Store, p string) { t.Helper(); newSignoutFixture(t, s, p, 2, false) },
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				return s.ResetPassword(ctx, p, "new-hash", signoutNames(p, 2).lockKey, ev)
			},
			state: signoutState,
		},
		{
			name:  "DeleteAccountSessions",
			setup: func(t *testing.T, s custos.Store, p string) { t.Helper(); newSignoutFixture(t, s, p, 2, false) },
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				_, err := s.DeleteAccountSessions(ctx, p, ev)
				return err
			},
			state: signoutState,
		},
		{
			name:  "DeleteOtherSessions",
			setup: func(t *testing.T, s custos.Store, p string) { t.Helper(); newSignoutFixture(t, s, p, 2, false) },
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				_, err := s.DeleteOtherSessions(ctx, p, seq("sess-"+p, 0), ev)
				return err
			},
			state: signoutState,
		},
		{
			name:  "ForgetTrustedDevice",
			setup: func(t *testing.T, s custos.Store, p string) { t.Helper(); newSignoutFixture(t, s, p, 2, false) },
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				return s.ForgetTrustedDevice(ctx, p, "tdev-1-"+p, ev)
			},
			state: signoutState,
		},
		{
			name:  "CreateSession",
			setup: createAccountOnly,
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				return s.CreateSession(ctx, newSession(p+"-sess", p), ev)
			},
			state: func(t *testing.T, s custos.Store, p string) any { t.Helper(); return sessionIDs(t, s, p) },
		},
		{
			name: "CreateSessionWithCounter",
			setup: func(t *testing.T, s custos.Store, p string) {
				t.Helper()
				mustCreateAccount(t, s, p)
				mustSetCounter(t, s, "id:"+p, custos.Counter{Start: t0, Failures: 3})
			},
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				return s.CreateSessionWithCounter(ctx, newSession(p+"-sess", p), ev, "id:"+p, custos.Counter{},
					func(c custos.Counter) (custos.Counter, error) {
						c.Failures--
						return c, nil
					})
			},
			state: func(t *testing.T, s custos.Store, p string) any {
				t.Helper()
				return []any{sessionIDs(t, s, p), counterOf(t, s, "id:"+p)}
			},
		},
		{
			name:  "SetSessionVerified",
			setup: withSession,
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				return s.SetSessionVerified(ctx, p+"-sess", t0.Add(15*time.Minute), true, ev)
			},
			state: func(t *testing.T, s custos.Store, p string) any {
				t.Helper()
				sess, err := s.SessionByTokenHash(t.Context(), newSession(p+"-sess", p).TokenHash)
				if err != nil {
					t.Fatalf("SessionByTokenHash: %v", err)
				}
				return sess
			},
		},
		{
			name:  "DeleteSession",
			setup: withSession,
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				return s.DeleteSession(ctx, p, p+"-sess", ev)
			},
			state: func(t *testing.T, s custos.Store, p string) any { t.Helper(); return sessionIDs(t, s, p) },
		},
		{
			name: "ConfirmDevice",
			setup: func(t *testing.T, s custos.Store, p string) {
				t.Helper()
				mustCreateAccount(t, s, p)
				mustCreateDevice(t, s, newTOTPDevice(p+"-dev", p))
			},
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				return s.ConfirmDevice(ctx, p, p+"-dev", 9, t0.Add(time.Second), t0.Add(-pendingWindow), ev)
			},
			state: func(t *testing.T, s custos.Store, p string) any { t.Helper(); return deviceOrAbsent(t, s, p, p+"-dev") },
		},
		{
			name: "RenameDevice",
			setup: func(t *testing.T, s custos.Store, p string) {
				t.Helper()
				mustCreateAccount(t, s, p)
				mustConfirmDevice(t, s, newTOTPDevice(p+"-dev", p), 7)
			},
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				return s.RenameDevice(ctx, p, p+"-dev", "Renamed", ev)
			},
			state: func(t *testing.T, s custos.Store, p string) any { t.Helper(); return deviceOrAbsent(t, s, p, p+"-dev") },
		},
		{
			name:  "DeleteDevice",
			setup: withBoundToken,
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				return s.DeleteDevice(ctx, p, p+"-hw", custos.TokenInStock, ev)
			},
			state: func(t *testing.T, s custos.Store, p string) any {
				t.Helper()
				return []any{deviceOrAbsent(t, s, p, p+"-hw"), tokenOf(t, s, "SN-"+p)}
			},
		},
		{
			name: "BindToken",
			setup: func(t *testing.T, s custos.Store, p string) {
				t.Helper()
				mustCreateAccount(t, s, p)
				mustImportToken(t, s, newToken("SN-"+p))
			},
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				return s.BindToken(ctx, "SN-"+p, newHardwareDevice(p+"-hw", p, "SN-"+p), ev)
			},
			state: func(t *testing.T, s custos.Store, p string) any {
				t.Helper()
				return []any{deviceOrAbsent(t, s, p, p+"-hw"), tokenOf(t, s, "SN-"+p)}
			},
		},
		{
			name:  "ReplaceRecoveryCodes",
			setup: withRecoveryCodes,
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				return s.ReplaceRecoveryCodes(ctx, p, recoveryHashes(p+"-new", 5), t0.Add(time.Hour), ev)
			},
			state: func(t *testing.T, s custos.Store, p string) any { t.Helper(); return recoveryCount(t, s, p) },
		},
		{
			name:  "UseRecoveryCode",
			setup: withRecoveryCodes,
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				return s.UseRecoveryCode(ctx, p, recoveryHashes(p, 3)[1], t0.Add(time.Hour), ev)
			},
			state: func(t *testing.T, s custos.Store, p string) any { t.Helper(); return recoveryCount(t, s, p) },
		},
		{
			name: "ResetCounter",
			setup: func(t *testing.T, s custos.Store, p string) {
				t.Helper()
				mustSetCounter(t, s, "id:"+p, custos.Counter{Start: t0, Failures: 10, LockedUntil: t0.Add(time.Hour)})
			},
			change: func(ctx context.Context, s custos.Store, p string, ev custos.AuditEvent) error {
				return s.ResetCounter(ctx, "id:"+p, ev)
			},
			state: func(t *testing.T, s custos.Store, p string) any { t.Helper(); return counterOf(t, s, "id:"+p) },
		},
	}
}
