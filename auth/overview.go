package auth

import (
	"context"
	"strings"
	"time"
	// The zone names the holder saves must load on every host, with or
	// without the system's zoneinfo: the binary carries its own.
	_ "time/tzdata"

	"github.com/custos/custos"
)

// Zone returns the zone an account's TimeZone names: UTC for "" and for
// a name that no longer loads (saved names are checked, so that is a host
// without the zone).
func (s *Service) Zone(name string) *time.Location {
	if name == "" {
		return time.UTC
	}
	if loc, ok := s.zones.Load(name); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	// Only names CheckTimeZone let through are saved, so the cache holds
	// at most the few hundred zones there are.
	s.zones.Store(name, loc)
	return loc
}

// CheckTimeZone reports whether name is an IANA zone name people may save
// ("Asia/Shanghai", "UTC"): one time.LoadLocation loads, not "Local"
// (the server's own zone) and not a path.
func CheckTimeZone(name string) error {
	bad := custos.Fail(custos.EInvalidTimeZone, "overview.tz_invalid").OnField("time_zone")
	if name == "" || len(name) > 64 || name == "Local" || strings.HasPrefix(name, "/") || strings.Contains(name, "..") {
		return bad
	}
	for _, r := range name {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("/_+-", r)) {
			return bad
		}
	}
	if _, err := time.LoadLocation(name); err != nil {
		return bad
	}
	return nil
}

// SetTimeZone saves the zone the holder reads times in; invalid_time_zone
// (on the field time_zone) for a name CheckTimeZone refuses. It is a
// display preference: no verification, no event.
func (s *Service) SetTimeZone(ctx context.Context, sess custos.Session, name string) error {
	name = strings.TrimSpace(name)
	if err := CheckTimeZone(name); err != nil {
		return err
	}
	if name == "UTC" || name == "Etc/UTC" {
		name = "" // the default, said one way
	}
	return s.d.Store.SetTimeZone(ctx, sess.AccountID, name)
}

// The four protections of the security score, in the order the overview
// lists them.
const (
	ProtectLogin       = "login_protection" // login protection is on
	ProtectMFA         = "mfa_device"       // a confirmed MFA device
	ProtectPhone       = "secure_phone"     // a bound phone
	ProtectSecureEmail = "secure_email"     // a secure email
)

// ScoreItem is one protection of the security score.
type ScoreItem struct {
	Name string // one of the Protect… names
	On   bool
}

// Overview is what the landing page says about an account.
type Overview struct {
	Account custos.Account
	Score   []ScoreItem // the four protections, each on or off
	// LastSignIn is the sign-in before the one of the asking session
	// (nil when there was none).
	LastSignIn *custos.AuditEvent
}

// On counts the protections that are on.
func (o Overview) On() int {
	n := 0
	for _, it := range o.Score {
		if it.On {
			n++
		}
	}
	return n
}

// Overview returns the account's security score and its previous
// sign-in, for the session's own account.
func (s *Service) Overview(ctx context.Context, sess custos.Session) (Overview, error) {
	acct, err := s.d.Store.AccountByID(ctx, sess.AccountID)
	if err != nil {
		return Overview{}, err
	}
	devices, err := s.d.Store.ListDevices(ctx, acct.ID)
	if err != nil {
		return Overview{}, err
	}
	o := Overview{Account: acct, Score: []ScoreItem{
		{ProtectLogin, acct.Protection.Login},
		{ProtectMFA, len(devices) > 0},
		{ProtectPhone, acct.Phone != ""},
		{ProtectSecureEmail, acct.SecureEmail != ""},
	}}
	// The newest sign-in is usually the asking session's own; the one
	// before it is what the holder wants to check.
	logins, err := s.d.Store.ListActivity(ctx, acct.ID, custos.ActivityFilter{Types: []string{custos.EventLoginSuccess}, Limit: 2})
	if err != nil {
		return Overview{}, err
	}
	for _, ev := range logins {
		if ev.Detail["session_id"] != sess.ID {
			o.LastSignIn = &ev
			break
		}
	}
	return o, nil
}

// ActivityKinds are the groups of events Security activity filters by.
var ActivityKinds = map[string][]string{
	"sign_in": {custos.EventLoginSuccess, custos.EventLoginFailure, custos.EventLoginRefused, custos.EventLoginLocked,
		custos.EventLoginUnlocked, custos.EventSecondFactor, custos.EventSecondFailure, custos.EventCodeReplayed},
	"devices": {custos.EventLogout, custos.EventSessionRevoked, custos.EventSessionExpired, custos.EventSessionsRevoked,
		custos.EventTrustForgotten, custos.EventUndo},
	"protection": {custos.EventProtection, custos.EventDeviceBound, custos.EventDeviceUnbound, custos.EventDeviceRenamed,
		custos.EventRecoveryCodes, custos.EventRecoveryUsed, custos.EventVerified},
	"contact":  {custos.EventPhoneChanged, custos.EventEmailChanged, custos.EventSecureEmail, custos.EventRetrieved},
	"password": {custos.EventPasswordChange, custos.EventPasswordReset, custos.EventPasswordRehash},
}

// ActivityKindNames are the ActivityKinds in the order the pages offer them.
var ActivityKindNames = []string{"sign_in", "protection", "devices", "contact", "password"}

// Activity paging bounds.
const (
	DefaultActivityPage = 20
	MaxActivityPage     = 100
)

// ActivityPage returns one page of the account's events newest first:
// the events of the kind ("" for all), in [from, to) (zero for open),
// older than the event before ("" for the first page), at most limit
// (DefaultActivityPage when 0; invalid_request on the field limit
// outside 1..MaxActivityPage, on kind for an unknown kind).
func (s *Service) ActivityPage(ctx context.Context, accountID, kind string, from, to time.Time, before string, limit int) ([]custos.AuditEvent, error) {
	if limit == 0 {
		limit = DefaultActivityPage
	}
	if limit < 1 || limit > MaxActivityPage {
		return nil, custos.Fail(custos.EInvalidRequest, "overview.bad_limit", MaxActivityPage).OnField("limit")
	}
	f := custos.ActivityFilter{From: from, To: to, Before: before, Limit: limit}
	if kind != "" {
		types, ok := ActivityKinds[kind]
		if !ok {
			return nil, custos.Fail(custos.EInvalidRequest, "overview.bad_kind").OnField("kind")
		}
		f.Types = types
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return nil, custos.Fail(custos.EInvalidRequest, "overview.bad_range").OnField("to")
	}
	return s.d.Store.ListActivity(ctx, accountID, f)
}

// ActivityEvent returns one of the account's events; not_found if the
// account has none with id.
func (s *Service) ActivityEvent(ctx context.Context, accountID, id string) (custos.AuditEvent, error) {
	ev, err := s.d.Store.ActivityEvent(ctx, accountID, id)
	if custos.IsCode(err, custos.ENotFound) {
		return custos.AuditEvent{}, custos.Fail(custos.ENotFound, "overview.event_gone")
	}
	return ev, err
}

// RevokeOtherSessions ends every session of the account but sess itself
// ("sign out all other devices") and returns how many ended. Like
// RevokeSession it asks for no verification: it only takes access away.
func (s *Service) RevokeOtherSessions(ctx context.Context, sess custos.Session, c Client) (int, error) {
	ev, err := s.event(custos.EventSessionsRevoked, sess.AccountID, "", c, map[string]string{"kept_session_id": sess.ID})
	if err != nil {
		return 0, err
	}
	return s.d.Store.DeleteOtherSessions(ctx, sess.AccountID, sess.ID, ev)
}

// TrustedDevices lists the account's live trusted browsers, newest first.
func (s *Service) TrustedDevices(ctx context.Context, accountID string) ([]custos.TrustedDevice, error) {
	return s.d.Store.ListTrustedDevices(ctx, accountID, s.d.Clock.Now())
}

// ForgetTrustedDevice forgets one of the account's trusted browsers, so
// its next login asks for the second step again; not_found if the
// account has no such device.
func (s *Service) ForgetTrustedDevice(ctx context.Context, accountID, id string, c Client) error {
	ev, err := s.event(custos.EventTrustForgotten, accountID, "", c, map[string]string{"trusted_device_id": id})
	if err != nil {
		return err
	}
	err = s.d.Store.ForgetTrustedDevice(ctx, accountID, id, ev)
	if custos.IsCode(err, custos.ENotFound) {
		return custos.Fail(custos.ENotFound, "overview.trust_gone")
	}
	return err
}
