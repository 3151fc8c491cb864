// Package notify renders outgoing messages (codes, notices) from embedded
// text templates and hands them to a Transport per channel: email to SMTP,
// text messages to an SMS gateway's webhook (Webhook, signed with HMAC-SHA256;
// gateways check requests with Verify), and either channel to a directory
// of JSON files (the outbox that --dev and the tests read) or to the log.
// ParseDeliver reads the --deliver flag (email), ParseSMS the --sms flag.
// EventPoster makes one attempt to post a security-webhook event, signed
// the same way (Sign), for the delivery queue; CheckEventURL checks a
// hook's URL.
//
// Notifier implements custos.Notifier. A rendered message carries its
// one-time code, so nothing in this package writes the code or the text
// of a message into an error or a log line.
//
// Templates are templates/<purpose>.<channel>.tmpl; an email template
// starts with a "Subject:" line. Every template may use Product,
// PublicURL, To, Code and ExpiresIn ("10 minutes" unless Message.Data sets
// it); besides those, Message.Data must carry:
//
//	account_locked      Failures, LockedAt, LockedUntil
//	mfa_bound           Name, Kind
//	mfa_unbound         Name
//	protection_changed  Login, Operation
//	phone_changed       UndoURL; NewPhone (masked) for email
//	email_changed       UndoURL, NewEmail (masked)
//
// A missing field is an EInternal error from Send, not a blank in the
// message.
//
// It imports the standard library, the root package and
// github.com/wneessen/go-mail.
package notify
