package main

import (
	"context"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/custos/custos/app"
)

// logServing writes the start-up line: where the pages are and, in
// development, where the codes are; with where the metrics are.
func logServing(cfg app.Config, a *app.App, ln, metricsLn net.Listener) {
	pages := strings.TrimRight(cfg.PublicURL.String(), "/") + "/"
	msg := "custos is serving: the pages are at " + pages
	attrs := []any{"url", pages, "addr", ln.Addr().String(), "db", a.Store.Dialect()}
	if a.OutboxDir != "" {
		outbox := pages + "dev/outbox"
		msg += ", the codes at " + outbox
		attrs = append(attrs, "outbox", outbox)
	}
	if metricsLn != nil {
		attrs = append(attrs, "metrics", "http://"+metricsLn.Addr().String()+"/metrics")
	} else {
		attrs = append(attrs, "metrics", pages+"metrics")
	}
	cfg.Logger.Info(msg, attrs...)
}

// smtpCheckTimeout bounds the start-up check of the SMTP server.
const smtpCheckTimeout = 3 * time.Second

// warnDelivery warns at start when SMS is off, and — without holding the
// start up — when the SMTP server does not take a connection within a few
// seconds. Messages wait in the queue either way.
func warnDelivery(cfg app.Config) {
	if cfg.SMS == "" && !strings.HasPrefix(cfg.Deliver, "dir:") {
		cfg.Logger.Warn("SMS is off (no --sms): codes and notices for phone numbers wait in the delivery queue until an SMS gateway is configured")
	}
	addr := smtpAddr(cfg.Deliver)
	if addr == "" {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), smtpCheckTimeout)
		defer cancel()
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			// The error names the address, never the URL's user or password.
			cfg.Logger.Warn("SMTP server unreachable at start: email waits in the delivery queue until it answers",
				slog.String("smtp", addr), slog.String("err", err.Error()))
			return
		}
		c.Close()
	}()
}

// smtpAddr is the host:port of an smtp:// or smtps:// --deliver, "" for
// any other.
func smtpAddr(spec string) string {
	u, err := url.Parse(spec)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return ""
	}
	port := u.Port()
	switch {
	case port != "":
	case u.Scheme == "smtps":
		port = "465"
	default:
		port = "587"
	}
	return net.JoinHostPort(u.Hostname(), port)
}
