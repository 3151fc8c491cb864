package notify

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// ParseDeliver returns the Transport a --deliver flag value names:
//
//	smtp://[user:password@]host[:port][?starttls=off]  SMTP with mandatory STARTTLS (see ParseSMTP)
//	smtps://[user:password@]host[:port]                SMTP over implicit TLS
//	dir:PATH                                           the outbox directory PATH (see Dir)
//	log                                                log only (see Log)
//
// tlsConfig is passed to ParseSMTP and ignored otherwise. An unknown or
// malformed value is an error that says what is wrong without repeating a
// password.
func ParseDeliver(spec string, tlsConfig *tls.Config) (Transport, error) {
	switch {
	case spec == "log":
		return &Log{}, nil
	case strings.HasPrefix(spec, "dir:"):
		path := strings.TrimPrefix(spec, "dir:")
		if path == "" {
			return nil, errors.New("notify: --deliver dir: needs a path (dir:PATH)")
		}
		return NewDir(path, nil)
	case strings.HasPrefix(spec, "smtp://"), strings.HasPrefix(spec, "smtps://"):
		return ParseSMTP(spec, tlsConfig)
	case spec == "":
		return nil, errors.New("notify: --deliver is empty (want smtp://…, smtps://…, dir:PATH or log)")
	default:
		// Only a scheme is echoed: the rest may be a mistyped URL with a
		// password in it.
		if scheme, _, ok := strings.Cut(spec, "://"); ok && isSchemeName(scheme) {
			return nil, fmt.Errorf("notify: unknown --deliver scheme %q (want smtp://…, smtps://…, dir:PATH or log)", scheme)
		}
		return nil, errors.New("notify: unknown --deliver value (want smtp://…, smtps://…, dir:PATH or log)")
	}
}

// ParseSMS returns the Transport an --sms flag value names:
//
//	https://host/path  the SMS gateway's webhook, signed with secret (see NewWebhook)
//	http://host/path   the same, for a loopback host only
//	dir:PATH           the outbox directory PATH, channel "sms" (see Dir)
//	log                log only (see Log)
//
// secret and client are passed to NewWebhook and ignored otherwise. An
// unknown or malformed value is an error that repeats at most a scheme or
// a host, never a path, query or user info (they may hold a gateway
// token).
func ParseSMS(spec string, secret []byte, client *http.Client) (Transport, error) {
	switch {
	case spec == "log":
		return &Log{}, nil
	case strings.HasPrefix(spec, "dir:"):
		path := strings.TrimPrefix(spec, "dir:")
		if path == "" {
			return nil, errors.New("notify: --sms dir: needs a path (dir:PATH)")
		}
		return NewDir(path, nil)
	case hasPrefixFold(spec, "https://"), hasPrefixFold(spec, "http://"):
		return NewWebhook(spec, secret, client)
	case spec == "":
		return nil, errors.New("notify: --sms is empty (want https://…, dir:PATH or log)")
	default:
		if scheme, _, ok := strings.Cut(spec, "://"); ok && isSchemeName(scheme) {
			return nil, fmt.Errorf("notify: unknown --sms scheme %q (want https://…, dir:PATH or log)", scheme)
		}
		return nil, errors.New("notify: unknown --sms value (want https://…, dir:PATH or log)")
	}
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// isSchemeName reports whether s looks like a URL scheme (RFC 3986), which
// cannot hold a password.
func isSchemeName(s string) bool {
	if s == "" || len(s) > 16 {
		return false
	}
	for i, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}
