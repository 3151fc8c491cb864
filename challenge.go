package custos

import "time"

// Challenge purposes.
const (
	PurposeSignup        = "signup"
	PurposeLoginToken    = "login_token"    // a right password waiting for its second factor; ID is the token's hash
	PurposeLoginCode     = "login_code"     // a code sent by email or SMS as a second factor
	PurposeVerification  = "verification"   // identity verification before a sensitive change; its code, when one is sent
	PurposeTrustedDevice = "trusted_device" // "trust this device for 7 days"; ID is the token's hash
	PurposePhoneChange   = "phone_change"   // a new phone number waiting for its code (R2)
	PurposeEmailChange   = "email_change"   // a new account email waiting for its code (R5)
	PurposeSecureEmail   = "secure_email"   // a new secure email waiting for its code (R6)
	PurposeRetrieve      = "retrieve"       // a phone proving itself to list its accounts (R1)
	PurposeReset         = "password_reset" // a password reset waiting for its code(s)
	PurposeUndo          = "undo"           // an "it wasn't me" link sent to an old channel; ID is the token's hash
)

// Challenge is a one-time code sent to an address (email or phone) and
// waiting to be proven. The code itself is never stored: CodeHash is its
// keyed hash.
type Challenge struct {
	ID          string
	Purpose     string // one of the Purpose constants; a code never serves another
	Target      string // where the code went (normalised email or E.164 phone)
	AccountID   string // the account the challenge belongs to, "" before one exists
	CodeHash    []byte
	Data        []byte // purpose-specific state (JSON), never a plaintext secret
	Attempts    int
	MaxAttempts int
	CreatedAt   time.Time
	ExpiresAt   time.Time
	UsedAt      time.Time // zero while unused
}

// CodePolicy is what a page tells a person about a one-time code it sent.
type CodePolicy struct {
	TTL         time.Duration // how long the code works
	Attempts    int           // wrong tries it takes
	ResendAfter time.Duration // when another code to the same address may be asked for
}
