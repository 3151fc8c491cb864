// Package subaccount is a root account's team (rule R9): the root creates
// sub-users, sets whether each may log in, their login and operation
// protection, whether they must bind an authenticator app at their next
// login, resets their MFA and their password, and sets the password rules
// they live under. Every change needs the root's fresh identity
// verification (operation protection), is audited on both accounts, and
// is told to the sub-user when they have a channel.
//
// It imports the root package and password; the database through its
// Store interface.
package subaccount

import (
	"context"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/password"
)

// Store is the slice of the database sub-accounts use.
type Store interface {
	custos.SubUserStore
	AccountByID(ctx context.Context, id string) (custos.Account, error)
	SetProtection(ctx context.Context, accountID string, p custos.Protection, ev custos.AuditEvent) error
	ListAudit(ctx context.Context, accountID string, limit int) ([]custos.AuditEvent, error)
}

// Deps are the service's collaborators.
type Deps struct {
	Store    Store
	Elevator custos.Elevator
	Hasher   *password.Hasher
	Clock    custos.Clock
	Rand     io.Reader
	Logger   *slog.Logger
}

// Service is the root's management of its sub-users.
type Service struct{ d Deps }

// New returns the service.
func New(d Deps) *Service {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{d: d}
}

// The bounds of a root's minimum password length (the product's own).
const (
	MinPasswordLength = password.MinLength
	MaxPasswordLength = password.MaxLength
)

// userNamePattern is what a user name may hold: it is typed at login
// beside the root's account id, so plain ASCII letters, digits and . _ -.
var userNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// NormalizeUserName is the form user names are kept and looked up in.
func NormalizeUserName(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Protection choices for a sub-user: "off", or on with a method.
const (
	Off = "off"
)

// protectionOf reads an "off"|"mfa"|"sms"|"email" choice.
func protectionOf(v, field string) (bool, string, error) {
	switch v {
	case "", Off:
		return false, "", nil
	case custos.MethodMFA, custos.MethodSMS, custos.MethodEmail:
		return true, v, nil
	}
	return false, "", custos.Fail(custos.EInvalidRequest, "subuser.protection").OnField(field)
}

// root returns the caller's account when it is a root (not a sub-user)
// and has passed a fresh verification.
func (s *Service) root(ctx context.Context, sess custos.Session) (custos.Account, error) {
	acct, err := s.d.Store.AccountByID(ctx, sess.AccountID)
	if err != nil {
		return custos.Account{}, err
	}
	if acct.IsSubUser() {
		// Sub-users have no sub-users: nothing here is theirs.
		return custos.Account{}, custos.Fail(custos.ENotFound, "")
	}
	return acct, nil
}

func (s *Service) elevated(ctx context.Context, sess custos.Session) (custos.Account, error) {
	acct, err := s.root(ctx, sess)
	if err != nil {
		return custos.Account{}, err
	}
	if err := s.d.Elevator.RequireElevation(ctx, sess, false); err != nil {
		return custos.Account{}, err
	}
	return acct, nil
}

// CreateRequest is a new sub-user.
type CreateRequest struct {
	UserName            string
	Password            string
	Email               string // optional: the sub-user's own email for codes and notices
	ConsoleLogin        *bool  // nil: allowed
	MustBindMFA         bool
	LoginProtection     string // "off", "mfa", "sms", "email"
	OperationProtection string
}

// Create makes a sub-user of the signed-in root.
func (s *Service) Create(ctx context.Context, sess custos.Session, req CreateRequest, c custos.Client) (string, error) {
	root, err := s.elevated(ctx, sess)
	if err != nil {
		return "", err
	}
	name := NormalizeUserName(req.UserName)
	if !userNamePattern.MatchString(name) {
		return "", custos.Fail(custos.EInvalidRequest, "subuser.user_name").OnField("user_name")
	}
	var p custos.Protection
	if p.Login, p.LoginMethod, err = protectionOf(req.LoginProtection, "login_protection"); err != nil {
		return "", err
	}
	if p.Operation, p.OperationMethod, err = protectionOf(req.OperationProtection, "operation_protection"); err != nil {
		return "", err
	}
	email := ""
	if strings.TrimSpace(req.Email) != "" {
		if email, err = custos.ValidEmail(req.Email); err != nil {
			return "", err
		}
	}
	if (p.LoginMethod == custos.MethodEmail || p.OperationMethod == custos.MethodEmail) && email == "" {
		return "", custos.Fail(custos.EInvalidRequest, "subuser.email_needed").OnField("email")
	}
	rules, err := s.d.Store.PasswordRules(ctx, root.ID)
	if err != nil {
		return "", err
	}
	if err := password.CheckRules(req.Password, name, rules); err != nil {
		return "", err
	}
	hash, err := s.d.Hasher.Hash(ctx, req.Password)
	if err != nil {
		return "", err
	}
	id, err := custos.NewID(s.d.Rand, "acc")
	if err != nil {
		return "", err
	}
	now := s.d.Clock.Now()
	console := req.ConsoleLogin == nil || *req.ConsoleLogin
	acct := custos.Account{ID: id, Kind: custos.KindSubUser, Email: custos.SubUserEmail(id), PasswordHash: hash,
		CreatedAt: now, Protection: p, SecureEmail: email}
	su := custos.SubUser{AccountID: id, RootAccountID: root.ID, UserName: name, ConsoleLogin: console,
		MustBindMFA: req.MustBindMFA, PasswordChangedAt: now, CreatedAt: now}
	ev, err := custos.NewEvent(s.d.Rand, now, "subuser.created", root.ID, "", c, map[string]string{"sub_user": id, "user_name": name})
	if err != nil {
		return "", err
	}
	if err := s.d.Store.CreateSubUser(ctx, acct, su, ev); err != nil {
		if custos.IsCode(err, custos.EConflict) {
			return "", custos.Fail(custos.EConflict, "subuser.name_taken").OnField("user_name")
		}
		return "", err
	}
	return id, nil
}

// View is a sub-user as the root sees it.
type View struct {
	Account custos.Account
	SubUser custos.SubUser
	Devices int
}

// List lists the root's sub-users.
func (s *Service) List(ctx context.Context, sess custos.Session, f custos.SubUserFilter) ([]custos.SubUser, error) {
	root, err := s.root(ctx, sess)
	if err != nil {
		return nil, err
	}
	f.Search = NormalizeUserName(f.Search)
	return s.d.Store.ListSubUsers(ctx, root.ID, f)
}

// Get returns one of the root's sub-users; ENotFound for anyone else's.
func (s *Service) Get(ctx context.Context, sess custos.Session, id string) (custos.Account, custos.SubUser, error) {
	root, err := s.root(ctx, sess)
	if err != nil {
		return custos.Account{}, custos.SubUser{}, err
	}
	return s.mine(ctx, root.ID, id)
}

func (s *Service) mine(ctx context.Context, rootID, id string) (custos.Account, custos.SubUser, error) {
	a, su, err := s.d.Store.SubUserByID(ctx, id)
	if err != nil {
		return custos.Account{}, custos.SubUser{}, err
	}
	if su.RootAccountID != rootID {
		return custos.Account{}, custos.SubUser{}, custos.Fail(custos.ENotFound, "")
	}
	return a, su, nil
}

// Settings is a change of a sub-user's settings; nil fields stay.
type Settings struct {
	ConsoleLogin        *bool
	MustBindMFA         *bool
	LoginProtection     *string
	OperationProtection *string
}

// Update changes a sub-user's settings.
func (s *Service) Update(ctx context.Context, sess custos.Session, id string, set Settings, c custos.Client) error {
	root, err := s.elevated(ctx, sess)
	if err != nil {
		return err
	}
	a, su, err := s.mine(ctx, root.ID, id)
	if err != nil {
		return err
	}
	detail := map[string]string{"sub_user": id, "user_name": su.UserName}
	if set.ConsoleLogin != nil {
		su.ConsoleLogin = *set.ConsoleLogin
	}
	if set.MustBindMFA != nil {
		su.MustBindMFA = *set.MustBindMFA
	}
	p := a.Protection
	if set.LoginProtection != nil {
		if p.Login, p.LoginMethod, err = protectionOf(*set.LoginProtection, "login_protection"); err != nil {
			return err
		}
	}
	if set.OperationProtection != nil {
		if p.Operation, p.OperationMethod, err = protectionOf(*set.OperationProtection, "operation_protection"); err != nil {
			return err
		}
	}
	if (p.LoginMethod == custos.MethodEmail || p.OperationMethod == custos.MethodEmail) && a.SecureEmail == "" {
		return custos.Fail(custos.EInvalidRequest, "subuser.email_needed").OnField("login_protection")
	}
	if (p.LoginMethod == custos.MethodSMS || p.OperationMethod == custos.MethodSMS) && a.Phone == "" {
		return custos.Fail(custos.EInvalidRequest, "subuser.phone_needed").OnField("login_protection")
	}
	now := s.d.Clock.Now()
	ev, err := custos.NewEvent(s.d.Rand, now, "subuser.updated", root.ID, "", c, detail)
	if err != nil {
		return err
	}
	if err := s.d.Store.UpdateSubUser(ctx, su, ev); err != nil {
		return err
	}
	if p != a.Protection {
		a.Protection = p
		return s.d.Store.SetProtection(ctx, a.ID, p, s.told(a, now, "subuser.protection_set_by_root", c, detail))
	}
	return nil
}

// told is the sub-user's own audit event of a root's change, with a
// notice to the sub-user's channels (their own email and phone, if any).
func (s *Service) told(a custos.Account, at time.Time, typ string, c custos.Client, detail map[string]string) custos.AuditEvent {
	ev, err := custos.NewEvent(s.d.Rand, at, typ, a.ID, "", c, detail)
	if err != nil {
		return custos.AuditEvent{}
	}
	ev.Notify = custos.Notices(a, custos.MsgProtectionChanged, map[string]string{
		"Login": onOff(a.Protection.Login), "Operation": onOff(a.Protection.Operation)})
	return ev
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// ResetMFA removes the sub-user's MFA devices at once and makes them bind
// a new authenticator app at their next login.
func (s *Service) ResetMFA(ctx context.Context, sess custos.Session, id string, c custos.Client) error {
	root, err := s.elevated(ctx, sess)
	if err != nil {
		return err
	}
	a, _, err := s.mine(ctx, root.ID, id)
	if err != nil {
		return err
	}
	ev, err := custos.NewEvent(s.d.Rand, s.d.Clock.Now(), "subuser.mfa_reset", root.ID, "", c, map[string]string{"sub_user": id})
	if err != nil {
		return err
	}
	// The sub-user is told on its own channels, if it has any.
	ev.Notify = custos.Notices(a, custos.MsgDeviceUnbound, map[string]string{"Name": "", "ResetByAdmin": "yes"})
	return s.d.Store.ResetSubUserMFA(ctx, root.ID, id, ev)
}

// ResetPassword sets a sub-user's password: chosen (checked against the
// rules), or generated when chosen is "" (20 characters, returned once).
// With mustChange the sub-user must change it at the next login.
func (s *Service) ResetPassword(ctx context.Context, sess custos.Session, id, chosen string, mustChange bool, c custos.Client) (string, error) {
	root, err := s.elevated(ctx, sess)
	if err != nil {
		return "", err
	}
	a, su, err := s.mine(ctx, root.ID, id)
	if err != nil {
		return "", err
	}
	rules, err := s.d.Store.PasswordRules(ctx, root.ID)
	if err != nil {
		return "", err
	}
	pw, generated := chosen, ""
	if pw == "" {
		if pw, err = password.Generate(s.d.Rand, max(20, rules.MinLength)); err != nil {
			return "", err
		}
		generated = pw
	} else if err := password.CheckRules(pw, su.UserName, rules); err != nil {
		return "", err
	}
	hash, err := s.d.Hasher.Hash(ctx, pw)
	if err != nil {
		return "", err
	}
	now := s.d.Clock.Now()
	ev, err := custos.NewEvent(s.d.Rand, now, "subuser.password_reset", root.ID, "", c, map[string]string{"sub_user": id})
	if err != nil {
		return "", err
	}
	ev.Notify = custos.Notices(a, custos.MsgPasswordReset, map[string]string{})
	// The history holds the History-1 passwords before the current one.
	if err := s.d.Store.SetSubUserPassword(ctx, root.ID, id, hash, mustChange, now, max(rules.History-1, 0), ev); err != nil {
		return "", err
	}
	return generated, nil
}

// Rules returns the root's password rules for its sub-users.
func (s *Service) Rules(ctx context.Context, sess custos.Session) (custos.PasswordRules, error) {
	root, err := s.root(ctx, sess)
	if err != nil {
		return custos.PasswordRules{}, err
	}
	return s.d.Store.PasswordRules(ctx, root.ID)
}

// SetRules replaces the root's password rules.
func (s *Service) SetRules(ctx context.Context, sess custos.Session, r custos.PasswordRules, c custos.Client) error {
	root, err := s.elevated(ctx, sess)
	if err != nil {
		return err
	}
	switch {
	case r.MinLength != 0 && (r.MinLength < password.MinLength || r.MinLength > password.MaxLength):
		return custos.Fail(custos.EInvalidRequest, "subuser.rule_min_length", password.MinLength, password.MaxLength).OnField("min_length")
	case r.Classes < 0 || r.Classes > 4:
		return custos.Fail(custos.EInvalidRequest, "subuser.rule_classes").OnField("classes")
	case r.History < 0 || r.History > 24:
		return custos.Fail(custos.EInvalidRequest, "subuser.rule_history").OnField("history")
	case r.RetryLimit < 0 || r.RetryLimit > 10:
		return custos.Fail(custos.EInvalidRequest, "subuser.rule_retry_limit").OnField("retry_limit")
	case r.MaxAge < 0 || (r.MaxAge > 0 && r.MaxAge < 24*time.Hour):
		return custos.Fail(custos.EInvalidRequest, "subuser.rule_max_age").OnField("max_age_days")
	}
	ev, err := custos.NewEvent(s.d.Rand, s.d.Clock.Now(), "subuser.rules_set", root.ID, "", c, nil)
	if err != nil {
		return err
	}
	return s.d.Store.SetPasswordRules(ctx, root.ID, r, ev)
}

// Activity is a sub-user's security activity, for the root.
func (s *Service) Activity(ctx context.Context, sess custos.Session, id string, limit int) ([]custos.AuditEvent, error) {
	root, err := s.root(ctx, sess)
	if err != nil {
		return nil, err
	}
	if _, _, err := s.mine(ctx, root.ID, id); err != nil {
		return nil, err
	}
	return s.d.Store.ListAudit(ctx, id, limit)
}
