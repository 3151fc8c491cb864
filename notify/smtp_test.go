package notify_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/notify"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

const (
	smtpUser = "custos"
	smtpPass = "s3cret-pass"
)

// testCert is a self-signed certificate for 127.0.0.1, ::1 and localhost,
// and a pool that trusts it.
type testCert struct {
	server tls.Certificate
	pool   *x509.CertPool
}

func newTestCert(t *testing.T) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "custos test SMTP"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return testCert{
		server: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert},
		pool:   pool,
	}
}

// received is one message the test server accepted.
type received struct {
	from     string
	to       []string
	data     []byte
	tls      bool
	authUser string
}

// serverOpts configures a test SMTP server.
type serverOpts struct {
	cert          *testCert // nil: no TLS at all
	implicitTLS   bool      // TLS from the first byte instead of STARTTLS
	requireAuth   bool      // AUTH PLAIN as smtpUser/smtpPass before MAIL
	insecureAuth  bool      // offer AUTH without TLS (a local relay)
	silentHandler bool      // accept connections and never answer
	listen        string    // listen address; "" means 127.0.0.1:0
}

// testServer is an in-process SMTP server that records what it accepts.
type testServer struct {
	host string
	port int
	opts serverOpts

	mu    sync.Mutex
	msgs  []received
	auths int // AUTH attempts
}

func (s *testServer) authAttempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.auths
}

func (s *testServer) messages() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

func (s *testServer) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &testSession{srv: s, conn: c}, nil
}

type testSession struct {
	srv      *testServer
	conn     *smtp.Conn
	authUser string
	from     string
	to       []string
}

func (s *testSession) AuthMechanisms() []string {
	if !s.srv.opts.requireAuth {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *testSession) Auth(mech string) (sasl.Server, error) {
	s.srv.mu.Lock()
	s.srv.auths++
	s.srv.mu.Unlock()
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != smtpUser || password != smtpPass {
			return smtp.ErrAuthFailed
		}
		s.authUser = username
		return nil
	}), nil
}

func (s *testSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.srv.opts.requireAuth && s.authUser == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *testSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *testSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	s.srv.msgs = append(s.srv.msgs, received{from: s.from, to: s.to, data: b, tls: isTLS, authUser: s.authUser})
	return nil
}

func (s *testSession) Reset()        { s.from, s.to = "", nil }
func (s *testSession) Logout() error { return nil }

// startSMTP starts a test server on 127.0.0.1 and stops it when the test
// ends.
func startSMTP(t *testing.T, opts serverOpts) *testServer {
	t.Helper()
	listen := opts.listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", listen)
	if err != nil {
		// A laptop without IPv6 loopback may skip; CI must not.
		if os.Getenv("CI") != "" {
			t.Fatalf("cannot listen on %s: %v", listen, err)
		}
		t.Skipf("cannot listen on %s: %v", listen, err)
	}
	addr := l.Addr().(*net.TCPAddr)
	ts := &testServer{host: addr.IP.String(), port: addr.Port, opts: opts}
	if opts.silentHandler {
		done := make(chan struct{})
		var conns sync.WaitGroup
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				conns.Go(func() {
					<-done
					c.Close()
				})
			}
		}()
		t.Cleanup(func() { l.Close(); close(done); conns.Wait() })
		return ts
	}
	srv := smtp.NewServer(ts)
	srv.Domain = "localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.AllowInsecureAuth = opts.insecureAuth
	srv.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	if opts.cert != nil {
		cfg := &tls.Config{Certificates: []tls.Certificate{opts.cert.server}, MinVersion: tls.VersionTLS12}
		if opts.implicitTLS {
			l = tls.NewListener(l, cfg)
		} else {
			srv.TLSConfig = cfg
		}
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return ts
}

// parsedMail is the part of a received message the tests check.
type parsedMail struct {
	from, to, subject, body string
	date                    time.Time
}

func parseMail(t *testing.T, data []byte) parsedMail {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("received message does not parse: %v\n%s", err, data)
	}
	var body io.Reader = m.Body
	if strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(m.Body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	from, err := mail.ParseAddress(m.Header.Get("From"))
	if err != nil {
		t.Fatalf("From: %v", err)
	}
	to, err := mail.ParseAddress(m.Header.Get("To"))
	if err != nil {
		t.Fatalf("To: %v", err)
	}
	date, err := m.Header.Date()
	if err != nil {
		t.Fatalf("Date: %v", err)
	}
	if ct := m.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q, want text/plain", ct)
	}
	return parsedMail{from: from.Address, to: to.Address, subject: subject, body: strings.ReplaceAll(string(b), "\r\n", "\n"), date: date}
}

func TestSMTPDelivers(t *testing.T) {
	cert := newTestCert(t)
	trust := &tls.Config{RootCAs: cert.pool}
	tests := []struct {
		name     string
		server   serverOpts
		url      string // %s is host:port of the test server
		wantTLS  bool
		wantAuth string
	}{
		{
			name:     "STARTTLS with AUTH PLAIN",
			server:   serverOpts{cert: &cert, requireAuth: true},
			url:      "smtp://" + smtpUser + ":" + smtpPass + "@%s",
			wantTLS:  true,
			wantAuth: smtpUser,
		},
		{
			name:    "STARTTLS without AUTH",
			server:  serverOpts{cert: &cert},
			url:     "smtp://%s",
			wantTLS: true,
		},
		{
			name:     "implicit TLS with AUTH PLAIN",
			server:   serverOpts{cert: &cert, implicitTLS: true, requireAuth: true},
			url:      "smtps://" + smtpUser + ":" + smtpPass + "@%s",
			wantTLS:  true,
			wantAuth: smtpUser,
		},
		{
			name:     "STARTTLS over IPv6 loopback",
			server:   serverOpts{cert: &cert, requireAuth: true, listen: "[::1]:0"},
			url:      "smtp://" + smtpUser + ":" + smtpPass + "@%s",
			wantTLS:  true,
			wantAuth: smtpUser,
		},
		{
			name:   "loopback relay without TLS",
			server: serverOpts{},
			url:    "smtp://%s?starttls=off",
		},
		{
			name:     "loopback relay without TLS with AUTH",
			server:   serverOpts{requireAuth: true, insecureAuth: true},
			url:      "smtp://" + smtpUser + ":" + smtpPass + "@%s?starttls=off",
			wantAuth: smtpUser,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSMTP(t, tt.server)
			tr, err := notify.ParseSMTP(fmt.Sprintf(tt.url, net.JoinHostPort(srv.host, fmt.Sprint(srv.port))), trust)
			if err != nil {
				t.Fatalf("ParseSMTP: %v", err)
			}
			clock := newFakeClock()
			n := newNotifier(t, tr, clock)
			err = n.Send(t.Context(), custos.Message{
				Channel: custos.ChannelEmail, To: "alice@example.com", Purpose: custos.MsgSignupCode, Code: "735091",
			})
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			msgs := srv.messages()
			if len(msgs) != 1 {
				t.Fatalf("server received %d messages, want 1", len(msgs))
			}
			got := msgs[0]
			if got.tls != tt.wantTLS {
				t.Errorf("TLS = %v, want %v", got.tls, tt.wantTLS)
			}
			if got.authUser != tt.wantAuth {
				t.Errorf("authenticated as %q, want %q", got.authUser, tt.wantAuth)
			}
			if got.from != "no-reply@id.example.com" || len(got.to) != 1 || got.to[0] != "alice@example.com" {
				t.Errorf("envelope from %q to %q", got.from, got.to)
			}
			pm := parseMail(t, got.data)
			if pm.from != "no-reply@id.example.com" {
				t.Errorf("From = %q", pm.from)
			}
			if pm.to != "alice@example.com" {
				t.Errorf("To = %q", pm.to)
			}
			if pm.subject != "Your Custos verification code" {
				t.Errorf("Subject = %q", pm.subject)
			}
			if !strings.Contains(pm.body, "Your Custos verification code is 735091.") {
				t.Errorf("body lacks the code:\n%s", pm.body)
			}
			if !pm.date.Equal(clock.Now().Truncate(time.Second)) {
				t.Errorf("Date = %v, want the clock's %v", pm.date, clock.Now())
			}
		})
	}
}

func TestSMTPRefuses(t *testing.T) {
	cert := newTestCert(t)
	trust := &tls.Config{RootCAs: cert.pool}
	tests := []struct {
		name   string
		server serverOpts
		url    string // %s is host:port of the test server
		tls    *tls.Config
		// wantErr is part of the expected cause.
		wantErr string
		// wantNoAuth: the password must not have been offered.
		wantNoAuth bool
	}{
		{
			name:    "server without STARTTLS",
			server:  serverOpts{},
			url:     "smtp://%s",
			tls:     trust,
			wantErr: "STARTTLS",
		},
		{
			name:    "server without STARTTLS, credentials stay home",
			server:  serverOpts{requireAuth: true, insecureAuth: true},
			url:     "smtp://" + smtpUser + ":" + smtpPass + "@%s",
			tls:     trust,
			wantErr: "STARTTLS", wantNoAuth: true,
		},
		{
			name:    "wrong password",
			server:  serverOpts{cert: &cert, requireAuth: true},
			url:     "smtp://" + smtpUser + ":wrong-pass@%s",
			tls:     trust,
			wantErr: "AUTH failed",
		},
		{
			name:    "wrong password over implicit TLS",
			server:  serverOpts{cert: &cert, implicitTLS: true, requireAuth: true},
			url:     "smtps://" + smtpUser + ":wrong-pass@%s",
			tls:     trust,
			wantErr: "AUTH failed",
		},
		{
			name:    "server requires AUTH, none configured",
			server:  serverOpts{cert: &cert, requireAuth: true},
			url:     "smtp://%s",
			tls:     trust,
			wantErr: "authenticate",
		},
		{
			name:    "untrusted certificate on STARTTLS",
			server:  serverOpts{cert: &cert},
			url:     "smtp://%s",
			wantErr: "certificate", wantNoAuth: true,
		},
		{
			name:    "untrusted certificate on implicit TLS",
			server:  serverOpts{cert: &cert, implicitTLS: true},
			url:     "smtps://%s",
			wantErr: "certificate", wantNoAuth: true,
		},
		{
			name:    "implicit TLS against a plain server",
			server:  serverOpts{},
			url:     "smtps://%s",
			tls:     trust,
			wantErr: "tls",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSMTP(t, tt.server)
			tr, err := notify.ParseSMTP(fmt.Sprintf(tt.url, net.JoinHostPort(srv.host, fmt.Sprint(srv.port))), tt.tls)
			if err != nil {
				t.Fatalf("ParseSMTP: %v", err)
			}
			tr.SetTimeout(5 * time.Second)
			err = newNotifier(t, tr, newFakeClock()).Send(t.Context(), custos.Message{
				Channel: custos.ChannelEmail, To: "alice@example.com", Purpose: custos.MsgSignupCode, Code: "735091",
			})
			var ce *custos.Error
			if !errors.As(err, &ce) || ce.Code != custos.EUnavailable {
				t.Fatalf("Send = %v, want a *custos.Error with code %s", err, custos.EUnavailable)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not mention %q", err, tt.wantErr)
			}
			if tt.wantNoAuth && srv.authAttempts() != 0 {
				t.Errorf("the client tried to authenticate %d times", srv.authAttempts())
			}
			for _, secret := range []string{"735091", smtpPass, "wrong-pass", "verification code is"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q contains %q", err, secret)
				}
			}
			if n := len(srv.messages()); n != 0 {
				t.Errorf("server received %d messages, want 0", n)
			}
		})
	}
}

func TestSMTPTimesOut(t *testing.T) {
	srv := startSMTP(t, serverOpts{silentHandler: true})
	tr, err := notify.ParseSMTP(fmt.Sprintf("smtp://%s:%d", srv.host, srv.port), nil)
	if err != nil {
		t.Fatal(err)
	}
	tr.SetTimeout(300 * time.Millisecond)
	start := time.Now()
	err = newNotifier(t, tr, newFakeClock()).Send(t.Context(), custos.Message{
		Channel: custos.ChannelEmail, To: "alice@example.com", Purpose: custos.MsgSignupExists,
	})
	if !custos.IsCode(err, custos.EUnavailable) {
		t.Fatalf("Send = %v, want %s", err, custos.EUnavailable)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Send took %v despite a 300ms timeout", d)
	}
}

func TestSMTPDeliversEmailOnly(t *testing.T) {
	tr, err := notify.ParseSMTP("smtp://127.0.0.1:1", nil)
	if err != nil {
		t.Fatal(err)
	}
	err = tr.Deliver(t.Context(), notify.Rendered{
		Channel: custos.ChannelSMS, To: "+8613800138000", Purpose: custos.MsgSignupCode, Code: "735091", Text: "x", From: "a@example.com",
	})
	if err == nil || !strings.Contains(err.Error(), "sms") {
		t.Fatalf("Deliver(sms) = %v, want an error about the channel", err)
	}
}
