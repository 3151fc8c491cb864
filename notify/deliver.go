package notify

import (
	"crypto/tls"
	"errors"
	"fmt"
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
