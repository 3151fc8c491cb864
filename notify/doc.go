// Package notify renders outgoing messages (sign-up codes, notices) from
// embedded text templates and hands them to a Transport: SMTP for real
// email, a directory of JSON files (the outbox that --dev and the tests
// read), or the log.
//
// Notifier implements custos.Notifier. A rendered message carries its
// one-time code, so nothing in this package writes the code or the text
// of a message into an error or a log line.
//
// It imports the standard library, the root package and
// github.com/wneessen/go-mail.
package notify
