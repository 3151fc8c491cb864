package custos

import "time"

// Challenge purposes: each names the flow step a code proves, and a code
// proves only its own.
const (
	PurposeSignup       = "signup"         // a new account's email waiting for its code
	PurposeLoginCode    = "login_code"     // a code sent by email or SMS as a second factor
	PurposeVerification = "verification"   // identity verification before a sensitive change
	PurposePhoneChange  = "phone_change"   // a new phone number waiting for its code (R2)
	PurposeEmailChange  = "email_change"   // a new account email waiting for its code (R5)
	PurposeSecureEmail  = "secure_email"   // a new secure email waiting for its code (R6)
	PurposeRetrieve     = "retrieve"       // a phone proving itself to list its accounts (R1)
	PurposeReset        = "password_reset" // a password reset waiting for its code(s)
)

// Challenge is a one-time code sent to an address (email or phone) and
// waiting to be proven; the flow that sent it keeps its own state (Flow).
// The code itself is never stored: CodeHash is its keyed hash.
type Challenge struct {
	ID          string
	Purpose     string // the flow step the code proves, one of the Purpose constants
	Target      string // where the code went (normalised email or E.164 phone)
	AccountID   string // the account the code is for, "" before one exists
	CodeHash    []byte
	Attempts    int // wrong codes counted so far
	MaxAttempts int // wrong codes it takes; at MaxAttempts it is dead
	CreatedAt   time.Time
	ExpiresAt   time.Time // dead from this instant on
	UsedAt      time.Time // zero while unused
}

// CodePolicy is what a page tells a person about a one-time code it sent.
type CodePolicy struct {
	TTL         time.Duration // how long the code works
	Attempts    int           // wrong tries it takes
	ResendAfter time.Duration // when another code to the same address may be asked for
}
