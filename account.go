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
}

// NormalizeEmail returns the form of an email address used as a login
// identifier and as the lockout key: trimmed and lower-cased.
func NormalizeEmail(s string) string {
	return strings.ToLower(strings.TrimSpace(s))
}
