package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/custos/custos"
	"github.com/wneessen/go-mail"
)

// Default ports and per-message timeout of the SMTP transport.
const (
	DefaultSMTPPort    = 587 // smtp:// (submission with STARTTLS)
	DefaultSMTPSPort   = 465 // smtps:// (implicit TLS)
	DefaultSMTPTimeout = 15 * time.Second
)

// SMTP delivers email through an SMTP server with go-mail. It opens one
// connection per message, so it is safe for concurrent use.
//
// TLS is never optional except on loopback: smtp:// requires STARTTLS and
// refuses to send when the server does not offer it; smtps:// speaks TLS
// from the first byte. The certificate is always verified.
type SMTP struct {
	host        string
	port        int
	user        string
	pass        string
	implicitTLS bool // smtps://
	plaintext   bool // smtp://…?starttls=off, loopback only
	tlsConfig   *tls.Config
	timeout     time.Duration
}

var _ Transport = (*SMTP)(nil)

// ParseSMTP returns an SMTP transport for a URL of the form
//
//	smtp://[user:password@]host[:port][?starttls=off]
//	smtps://[user:password@]host[:port]
//
// The user name and password are percent-encoded; when present the
// transport authenticates with PLAIN or LOGIN, whichever the server offers
// (PLAIN first). starttls=off is accepted only for a loopback host
// (localhost, 127.0.0.0/8, ::1), for a local relay. tlsConfig, when not
// nil, is cloned and used for TLS, for example to trust a test CA through
// RootCAs; its ServerName defaults to the host. Errors never echo the
// password.
func ParseSMTP(rawURL string, tlsConfig *tls.Config) (*SMTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Error repeats the input, password included, and even its
		// inner error can quote a piece of a badly encoded password.
		return nil, errors.New("notify: malformed SMTP URL (percent-encode special characters in the user name and password)")
	}
	s := &SMTP{timeout: DefaultSMTPTimeout}
	switch u.Scheme {
	case "smtp":
		s.port = DefaultSMTPPort
	case "smtps":
		s.port = DefaultSMTPSPort
		s.implicitTLS = true
	default:
		return nil, fmt.Errorf("notify: SMTP URL scheme must be smtp or smtps, not %q", u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" {
		return nil, fmt.Errorf("notify: SMTP URL has no host (want %s://host:port)", u.Scheme)
	}
	if u.Fragment != "" || u.RawFragment != "" || strings.Contains(rawURL, "#") {
		return nil, errors.New("notify: SMTP URL has a fragment (percent-encode '#' in the password as %23)")
	}
	if u.Path != "" && u.Path != "/" {
		return nil, errors.New("notify: SMTP URL has a path (percent-encode '/' in the password as %2F)")
	}
	s.host = u.Hostname()
	if s.host == "" {
		return nil, fmt.Errorf("notify: SMTP URL has no host (want %s://host:port)", u.Scheme)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("notify: SMTP URL port %q is not a number from 1 to 65535", p)
		}
		s.port = n
	}
	if u.User != nil {
		s.user = u.User.Username()
		pass, ok := u.User.Password()
		if s.user == "" || !ok || pass == "" {
			return nil, errors.New("notify: SMTP URL needs both a user name and a password, or neither")
		}
		s.pass = pass
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, errors.New("notify: SMTP URL has a malformed query")
	}
	for key, values := range q {
		if key != "starttls" {
			return nil, fmt.Errorf("notify: SMTP URL has unknown parameter %q (only starttls=off is known)", key)
		}
		if s.implicitTLS {
			return nil, errors.New("notify: starttls applies to smtp:// only; smtps:// is always TLS")
		}
		if len(values) != 1 || values[0] != "off" {
			return nil, errors.New("notify: SMTP URL parameter starttls takes only the value off (STARTTLS is mandatory otherwise)")
		}
		if !isLoopback(s.host) {
			return nil, fmt.Errorf("notify: starttls=off is allowed only for a loopback host (localhost, 127.0.0.0/8, ::1), not %q", s.host)
		}
		s.plaintext = true
	}
	if tlsConfig != nil {
		s.tlsConfig = tlsConfig.Clone()
	} else {
		s.tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if s.tlsConfig.ServerName == "" {
		s.tlsConfig.ServerName = s.host
	}
	return s, nil
}

// isLoopback reports whether host surely names this machine. Besides
// loopback IP literals only "localhost" counts; other names would need a
// lookup whose answer can change.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// String describes the transport for logs, without the password.
func (s *SMTP) String() string {
	scheme := "smtp"
	if s.implicitTLS {
		scheme = "smtps"
	}
	u := url.URL{Scheme: scheme, Host: net.JoinHostPort(s.host, strconv.Itoa(s.port))}
	if s.user != "" {
		u.User = url.User(s.user)
	}
	if s.plaintext {
		u.RawQuery = "starttls=off"
	}
	return u.String()
}

// SetTimeout changes the time one message may take, connection included
// (DefaultSMTPTimeout unless set). Call it before the first Deliver.
func (s *SMTP) SetTimeout(d time.Duration) {
	if d > 0 {
		s.timeout = d
	}
}

// Deliver sends r as a plain-text email. It refuses SMS messages and
// fails when the server lacks STARTTLS (smtp://), its certificate does not
// verify, authentication fails or the message is rejected.
func (s *SMTP) Deliver(ctx context.Context, r Rendered) error {
	if r.Channel != custos.ChannelEmail {
		return fmt.Errorf("smtp transport cannot deliver %q messages", r.Channel)
	}
	if r.From == "" {
		return errors.New("smtp transport: message has no sender")
	}
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := msg.From(r.From); err != nil {
		return fmt.Errorf("smtp transport: sender: %w", err)
	}
	if err := msg.To(r.To); err != nil {
		return fmt.Errorf("smtp transport: recipient: %w", err)
	}
	msg.Subject(r.Subject)
	msg.SetBodyString(mail.TypeTextPlain, r.Text+"\n")
	if !r.SentAt.IsZero() {
		msg.SetDateWithValue(r.SentAt)
	}
	msg.SetMessageID()

	client, err := mail.NewClient(s.clientHost(), s.options()...)
	if err != nil {
		return fmt.Errorf("smtp transport: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("smtp transport %s: %w", s, err)
	}
	return nil
}

// clientHost is the host as go-mail wants it: it joins host and port with
// a plain colon, so an IPv6 literal needs its brackets.
func (s *SMTP) clientHost() string {
	if strings.Contains(s.host, ":") {
		return "[" + s.host + "]"
	}
	return s.host
}

// options translates the transport's settings into go-mail options. A new
// client per message keeps go-mail's per-client state out of concurrent
// sends.
func (s *SMTP) options() []mail.Option {
	opts := []mail.Option{
		mail.WithPort(s.port),
		mail.WithTimeout(s.timeout),
		mail.WithTLSConfig(s.tlsConfig.Clone()),
	}
	switch {
	case s.implicitTLS:
		opts = append(opts, mail.WithSSL())
	case s.plaintext:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if s.user != "" {
		plain, login := mail.SMTPAuthPlain, mail.SMTPAuthLogin
		if s.plaintext {
			// Loopback without TLS: the password never leaves the machine,
			// but go-mail only knows three spellings of loopback.
			plain, login = mail.SMTPAuthPlainNoEnc, mail.SMTPAuthLoginNoEnc
		}
		opts = append(opts,
			mail.WithUsername(s.user),
			mail.WithPassword(s.pass),
			mail.WithOpportunisticSMTPAuth(plain, login),
		)
	}
	return opts
}
