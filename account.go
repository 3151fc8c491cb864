package custos

import (
	"strings"
	"time"
)

// AccountKind says whether an account belongs to a person or an enterprise.
type AccountKind string

// The account kinds.
const (
	KindPersonal   AccountKind = "personal"
	KindEnterprise AccountKind = "enterprise"
)

// Valid reports whether k is a known kind.
func (k AccountKind) Valid() bool { return k == KindPersonal || k == KindEnterprise }

// Account is one account holder's account.
type Account struct {
	ID           string
	Kind         AccountKind
	Email        string // the account email, normalised; a login identifier (R5)
	PasswordHash string // argon2id in PHC string form
	CreatedAt    time.Time
	Protection   Protection
	Phone        string // bound mobile number in E.164, "" when none (R1, R2)
	SecureEmail  string // verification channel, not a login identifier (R6), "" when none
	// PasswordVersion counts the password's replacements: each change,
	// reset and "it wasn't me" freeze (AccountStore.ResetPassword) adds
	// one, a rehash at login (SetPasswordHash) none. A session opens only
	// under the version its password was checked against
	// (Session.PasswordVersion), so a login that checked the old password
	// cannot open one after the password changed.
	PasswordVersion int64
	// Language is the language tag the holder chose ("zh-CN"), "" for
	// none: the pages follow it when the browser names no choice of its
	// own, and the messages sent later (emails, SMS) are written in it.
	Language string
	// TimeZone is the IANA name of the zone the holder reads times in
	// ("Asia/Shanghai"), "" for UTC (AccountStore.SetTimeZone).
	TimeZone string
	// NewDeviceStep is the holder's switch that a sign-in from a new
	// device needs the second step of login even without login protection
	// (KnownDeviceStore.SetNewDeviceStep), read with the account so that a
	// login costs no separate read for it.
	NewDeviceStep bool
}

// EInvalidTimeZone is the error code of a time zone that is not an IANA
// zone name (AccountStore.SetTimeZone's callers check it).
const EInvalidTimeZone = "invalid_time_zone"

// LoginID is the login identifier of the account's own email. A
// sub-user's is its root and user name, which the Account does not hold:
// the auth service makes it from the sub-user's settings.
func (a Account) LoginID() LoginID { return LoginID{Kind: LoginEmail, Value: a.Email} }

// NormalizeEmail returns the form of an email address used as a login
// identifier and as the lockout key: trimmed and lower-cased.
func NormalizeEmail(s string) string {
	return strings.ToLower(strings.TrimSpace(s))
}

// MaskEmail shows enough of an address for its owner to recognise it, and
// enough that two addresses rarely look alike: the local part and the
// domain's name (all but its last label) each keep their first two and last
// two characters, and the last label stays — alice@example.com is
// al***ce@ex***le.com. A short part keeps less: up to four characters, the
// first and the last (abcd@x.io is a***d@x***.io); one or two, the first
// (ab@qq.com is a***@q***.com). Characters, not bytes, are counted.
func MaskEmail(e string) string {
	at := strings.LastIndexByte(e, '@')
	if at <= 0 {
		return "***"
	}
	domain := e[at+1:]
	name, tld := domain, ""
	if dot := strings.LastIndexByte(domain, '.'); dot > 0 {
		name, tld = domain[:dot], domain[dot:]
	}
	return maskPart(e[:at]) + "@" + maskPart(name) + tld
}

// maskPart hides the middle of one part of an address (see MaskEmail).
func maskPart(s string) string {
	r := []rune(s)
	switch n := len(r); {
	case n == 0:
		return "***"
	case n <= 2:
		return string(r[:1]) + "***"
	case n <= 4:
		return string(r[:1]) + "***" + string(r[n-1:])
	default:
		return string(r[:2]) + "***" + string(r[n-2:])
	}
}

// Contact is one place a notice can go.
type Contact struct {
	Channel string // ChannelEmail or ChannelSMS
	To      string
}

// NoticeContacts lists every channel on file for security notices: the
// account email, the secure email when it differs, and the bound phone.
func (a Account) NoticeContacts() []Contact {
	var out []Contact
	if !a.IsSubUser() {
		// A sub-user's Email is a stand-in, never an address.
		out = append(out, Contact{ChannelEmail, a.Email})
	}
	if a.SecureEmail != "" && a.SecureEmail != a.Email {
		out = append(out, Contact{ChannelEmail, a.SecureEmail})
	}
	if a.Phone != "" {
		out = append(out, Contact{ChannelSMS, a.Phone})
	}
	return out
}
