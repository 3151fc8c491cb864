package custos

import (
	"context"
	"time"
)

// Message channels.
const (
	ChannelEmail = "email"
	ChannelSMS   = "sms"
)

// Message purposes, each with its own template in package notify.
const (
	MsgSignupCode        = "signup_code"         // the code that proves a new account's email
	MsgSignupExists      = "signup_exists"       // someone tried to sign up with an address that has an account
	MsgAccountLocked     = "account_locked"      // password login was locked after too many wrong passwords
	MsgLoginCode         = "login_code"          // a code for the second step of login
	MsgVerificationCode  = "verification_code"   // a code to confirm it's you before a sensitive change
	MsgDeviceBound       = "mfa_bound"           // an MFA device was added
	MsgDeviceUnbound     = "mfa_unbound"         // an MFA device was removed
	MsgProtectionChanged = "protection_changed"  // login or operation protection was switched
	MsgNewDeviceLogin    = "new_device_login"    // a right password from a browser or network not seen before
	MsgPhoneCode         = "phone_code"          // SMS: the code that proves a new phone number
	MsgEmailCode         = "email_code"          // email: the code that proves a new account or secure email
	MsgPhoneChanged      = "phone_changed"       // to the old phone and the secure email, with an "it wasn't me" link
	MsgEmailChanged      = "email_changed"       // to the old address, with an "it wasn't me" link
	MsgRetrieveCode      = "retrieve_code"       // SMS: the code to list the accounts bound to a number
	MsgResetCode         = "reset_code"          // SMS or email: the code to reset a password
	MsgPasswordReset     = "password_reset"      // every channel: the password was reset
	MsgPasswordChanged   = "password_changed"    // every channel: the holder changed the password
	MsgCodeReplayed      = "code_replayed"       // every channel: a one-time code was used a second time
	MsgAccountFrozen     = "account_frozen"      // every channel: "it wasn't me" froze the account
	MsgIdentityVerified  = "identity_verified"   // every channel: the real-name record was verified
	MsgIdentityRejected  = "identity_rejected"   // every channel: a real-name submission was rejected, with the reason
	MsgTicketContactCode = "ticket_contact_code" // email: the code that proves a ticket applicant's contact email
	MsgTicketPhoneCode   = "ticket_phone_code"   // SMS: the code that proves the phone a ticket names
	MsgTicketReceived    = "ticket_received"     // email to the applicant: the ticket number and what happens next
	MsgTicketUpdate      = "ticket_update"       // email to the applicant: the ticket's state changed (a question, a decision)
	MsgTicketWaiting     = "ticket_waiting"      // every channel of the target: an approved ticket will act at a time, with a cancel link
	MsgTicketExecuted    = "ticket_executed"     // every channel of the target, the old phone included: the ticket's change was made
	MsgTicketCancelled   = "ticket_cancelled"    // every channel of the target: the holder cancelled a ticket
	MsgCollabInvite      = "collab_invite"       // email: a root account invites this address to collaborate, with the link
)

// Message is one outgoing email or SMS before it is rendered. Data fills the
// purpose's template; Code, when set, is the one-time code it carries.
//
// Messages are not sent while a request waits: a change's messages ride on
// it (AuditEvent.Notify, ChallengeStore.CreateChallenge) and are written
// in its transaction, and workers deliver them later, with retries.
type Message struct {
	Channel string
	To      string
	Purpose string
	Code    string
	Data    map[string]string
	// Expires is when Code stops working (zero: the message carries no
	// code, or one without an end). A message still undelivered then is
	// dropped, not sent.
	Expires time.Time
	// Decoy marks a stand-in written where a code's message would be (for
	// an address with no account), so that both answers do the same work
	// and take the same time. It is never delivered.
	Decoy bool
	// Lang is the language tag the message is written in ("zh-CN"): the
	// account's saved language, else that of the request that caused it
	// (LanguageOf); "" is the default language.
	Lang string
}

type languageKey struct{}

// WithLanguage returns ctx carrying the language tag of the request it
// serves, for the messages the request causes.
func WithLanguage(ctx context.Context, lang string) context.Context {
	return context.WithValue(ctx, languageKey{}, lang)
}

// LanguageOf is the language tag WithLanguage put in ctx, or "".
func LanguageOf(ctx context.Context) string {
	lang, _ := ctx.Value(languageKey{}).(string)
	return lang
}

// Notifier takes a message for delivery. Send returns once the message is
// kept durably for delivery, never waiting for the delivery itself, and
// EUnavailable when it could not be kept. It is for messages that ride on
// no store change; a change's messages travel with it.
type Notifier interface {
	Send(ctx context.Context, m Message) error
}

// Notices returns one notice of purpose to every channel on file for the
// account (Account.NoticeContacts), for the AuditEvent of the change the
// notice tells about, in the account's saved language (when it has none,
// the store's queue writes it in the request's, LanguageOf).
func Notices(acct Account, purpose string, data map[string]string) []Message {
	var out []Message
	for _, c := range acct.NoticeContacts() {
		out = append(out, Message{Channel: c.Channel, To: c.To, Purpose: purpose, Data: data, Lang: acct.Language})
	}
	return out
}
