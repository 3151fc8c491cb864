package custos

import (
	"encoding/hex"
	"strings"
)

// LoginKind says what a login identifier is made of.
type LoginKind string

// Login identifier kinds. A new kind of principal (sub-users, R9) adds a
// kind here; login, the R4 counters, the audit log and password reset work
// on any kind.
const (
	LoginEmail   LoginKind = "email"    // an account email (R5)
	LoginSubUser LoginKind = "sub_user" // a root account id and a user name (R9)
)

// LoginID is a normalised login identifier: what a person types to log in,
// reduced to the one form the rules count by.
type LoginID struct {
	Kind  LoginKind
	Value string // normalised: a lower-cased email; "ROOT_ID/user_name" for a sub-user
}

// EmailLogin is the login identifier of an account email as typed.
func EmailLogin(raw string) LoginID {
	return LoginID{Kind: LoginEmail, Value: NormalizeEmail(raw)}
}

// SubUserLogin is the login identifier of a sub-user of a root account.
func SubUserLogin(rootAccountID, userName string) LoginID {
	return LoginID{Kind: LoginSubUser, Value: strings.TrimSpace(rootAccountID) + "/" + strings.ToLower(strings.TrimSpace(userName))}
}

// IsZero reports whether id names nothing.
func (id LoginID) IsZero() bool { return id.Value == "" }

// String is the identifier as the audit log records it for an account
// that has it.
func (id LoginID) String() string { return id.Value }

// Masked is the identifier as the audit log records it when no account has
// it: whatever was typed (a password in the email field, say) is not kept
// in clear.
func (id LoginID) Masked() string {
	if id.Kind == LoginEmail {
		return MaskEmail(id.Value)
	}
	root, _, _ := strings.Cut(id.Value, "/")
	return root + "/***"
}

// LoginKeys derives the store keys of login identifiers from a server key
// (a keyed hash, keyring.Ring.MAC with a fixed purpose), so the counters
// table shows no identifier — nor a password typed into the email field.
type LoginKeys func(data []byte) []byte

// Counter is the key of the identifier's R4 counter. A key-ring rotation
// starts fresh counters (the old series are left to expire).
func (k LoginKeys) Counter(id LoginID) string {
	h := k([]byte(string(id.Kind) + "\x00" + id.Value))
	return "id:" + hex.EncodeToString(h[:16])
}
