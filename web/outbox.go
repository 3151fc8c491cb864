package web

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/custos/custos"
)

// OutboxMessage is one message of the development outbox.
type OutboxMessage struct {
	Channel string // "email" or "sms"
	To      string
	Purpose string
	Code    string // the one-time code it carries, or ""
	Subject string // email only
	Text    string
	SentAt  time.Time
}

// outboxView is the development outbox: every message the dir: transport
// wrote, newest first. Each message's element carries data-to and
// data-code so a test can read codes from the page.
type outboxView struct {
	page
	Messages []OutboxMessage
}

func (wb *Web) outbox(w http.ResponseWriter, r *http.Request) error {
	if !direct(r) {
		// Every code is on this page: it is for the person at this
		// machine only, never for a request a proxy forwarded.
		return custos.Fail(custos.ENotFound, "")
	}
	msgs, err := wb.readOutbox()
	if err != nil {
		return err
	}
	return wb.render(w, "outbox", outboxView{page: wb.newPage(r), Messages: msgs})
}

// direct reports whether r came straight from this machine: a loopback
// peer, a loopback Host, and no header a proxy adds.
func direct(r *http.Request) bool {
	for _, h := range []string{"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip", "Forwarded", "Via"} {
		if r.Header.Get(h) != "" {
			return false
		}
	}
	return loopbackHostPort(r.RemoteAddr) && loopbackHostPort(r.Host)
}

// loopbackHostPort reports whether host[:port] names this machine.
func loopbackHostPort(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
