// Package testsmtp is an in-process SMTP server for tests (on
// github.com/emersion/go-smtp), listening on loopback without TLS: it
// keeps every message it accepts, can be stopped and started again on the
// same port to stand for a mail server that is down for a while, and can
// be slowed to stand for a distant one.
//
// It is test support: it may import anything; only tests import it.
package testsmtp
