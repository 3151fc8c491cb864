package testsmtp

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one message the server accepted.
type Message struct {
	From string
	To   []string
	Data []byte
}

// Header returns the value of a header of the message, or "".
func (m Message) Header(name string) string {
	msg, err := mail.ReadMessage(strings.NewReader(string(m.Data)))
	if err != nil {
		return ""
	}
	return msg.Header.Get(name)
}

// Server is a running (or stopped) test SMTP server.
type Server struct {
	addr string // 127.0.0.1:port, kept across Stop and Start

	mu       sync.Mutex
	srv      *smtp.Server
	msgs     []Message
	delay    time.Duration
	accepted chan struct{} // gets a value per accepted message
}

// Start starts a server on 127.0.0.1 and stops it when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{addr: "127.0.0.1:0", accepted: make(chan struct{}, 1<<16)}
	if err := s.Start(); err != nil {
		t.Fatalf("testsmtp: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// URL is the --deliver value that reaches the server (plain SMTP on
// loopback).
func (s *Server) URL() string { return "smtp://" + s.addr + "?starttls=off" }

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.addr }

// Start (again) listens on the server's address; a stopped server comes
// back on the same port.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return errors.New("already running")
	}
	var (
		l   net.Listener
		err error
	)
	// The port a stopped server left may take a moment to be free again.
	for range 50 {
		if l, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.addr, err)
	}
	s.addr = l.Addr().String()
	srv := smtp.NewServer(backend{s})
	srv.Domain = "localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.AllowInsecureAuth = true
	s.srv = srv
	go srv.Serve(l)
	return nil
}

// Stop closes the listener and every connection: the mail server is down
// until Start.
func (s *Server) Stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// SetDelay makes the server wait d before it accepts each message, like a
// distant mail server.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// Messages returns what the server has accepted, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Count is how many messages the server has accepted.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.msgs)
}

// WaitFor waits until the server has accepted at least n messages, or
// fails t after timeout.
func (s *Server) WaitFor(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.After(timeout)
	for s.Count() < n {
		select {
		case <-s.accepted:
		case <-deadline:
			t.Fatalf("testsmtp: %d message(s) after %s, want %d", s.Count(), timeout, n)
		}
	}
	return s.Messages()
}

type backend struct{ s *Server }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: b.s}, nil }

type session struct {
	s    *Server
	from string
	to   []string
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error { ss.from = from; return nil }

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.mu.Lock()
	delay := ss.s.delay
	ss.s.mu.Unlock()
	time.Sleep(delay)
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, Message{From: ss.from, To: ss.to, Data: b})
	ss.s.mu.Unlock()
	select {
	case ss.s.accepted <- struct{}{}:
	default:
	}
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }
