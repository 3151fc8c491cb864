// Command custos runs the Custos account center.
//
//	custos [serve] [flags]   run the server (the default)
//	custos migrate [flags]   apply database migrations and exit
//	custos admin …           operator commands
//
// Every flag can also be set as an environment variable CUSTOS_<NAME>.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/app"
	"github.com/custos/custos/mfa"
	"github.com/custos/custos/queue"
	"github.com/custos/custos/sqlstore"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && (args[0] == "serve" || args[0] == "migrate" || args[0] == "admin" || args[0] == "help") {
		cmd, args = args[0], args[1:]
	}
	var o options
	fs := newFlagSet("custos "+cmd, &o)
	fs.SetOutput(stderr)
	if cmd == "help" {
		fmt.Fprintln(stdout, "usage: custos [serve|migrate|admin] [flags]")
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return 0
	}
	if err := parseFlags(fs, args, getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "custos:", err)
		return 2
	}
	cfg, err := buildConfig(o, cmd, custos.SystemRandom)
	if err != nil {
		fmt.Fprintln(stderr, "custos:", err)
		return 2
	}
	level := slog.LevelInfo
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		fmt.Fprintln(stderr, "custos: --log-level: want debug, info, warn or error")
		return 2
	}
	cfg.Logger = slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch cmd {
	case "migrate":
		err = migrate(ctx, cfg)
	case "admin":
		err = admin(ctx, cfg, fs.Args(), stdout)
	default:
		err = serve(ctx, cfg, o.addr)
	}
	if err != nil {
		fmt.Fprintln(stderr, "custos:", err)
		return 1
	}
	return 0
}

func migrate(ctx context.Context, cfg app.Config) error {
	db, err := sqlstore.Open(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	// The delivery queue's tables (River's), under the same lock.
	if err := queue.Migrate(ctx, queue.Config{DB: db.Writer(), Dialect: db.Dialect(), Exclusive: db.Exclusive, Logger: cfg.Logger}); err != nil {
		return err
	}
	cfg.Logger.Info("migrations applied", "dialect", db.Dialect())
	return nil
}

func serve(ctx context.Context, cfg app.Config, addr string) error {
	a, err := app.Build(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--addr: %v", err)
	}
	if cfg.Dev {
		cfg.Logger.Warn("DEVELOPMENT MODE (--dev, or a bare start on this machine): production checks are relaxed; every code is readable at /dev/outbox from this machine only; give --public-url and --deliver for production")
	}
	if cfg.Captcha == "test" {
		cfg.Logger.Warn("TEST CAPTCHA IS ON: every captcha's answer is \"test\"; never use this in production")
	}
	srv := &http.Server{
		Handler:           a.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	go sweepSessions(ctx, a, cfg)
	go executeTickets(ctx, a, cfg)
	// Every replica delivers: the workers take due messages from the
	// database, each message by one of them.
	if err := a.Start(ctx); err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	cfg.Logger.Info("custos listening", "addr", ln.Addr().String(), "public_url", cfg.PublicURL.String(),
		"db", a.Store.Dialect(), "outbox", a.OutboxDir)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	cfg.Logger.Info("shutting down: finishing in-flight requests")
	shutCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	// The deferred Close then stops the delivery workers: deliveries in
	// progress may finish (20 s); what is left waits in the database for
	// another replica or the next start.
	cfg.Logger.Info("shutting down: stopping delivery workers")
	return nil
}

// executeTickets carries out approved support tickets whose waiting period
// has ended, every 30 seconds. Every replica runs it; each ticket is
// carried out once (the store's compare-and-swap), whichever gets there.
func executeTickets(ctx context.Context, a *app.App, cfg app.Config) {
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := a.Tickets.ExecuteDue(ctx); err != nil {
				cfg.Logger.Warn("carrying out due tickets failed", "err", err)
			} else if n > 0 {
				cfg.Logger.Info("support tickets carried out", "count", n)
			}
		}
	}
}

// sweepSessions deletes ended sessions, expired captchas, one-time codes,
// flows and trusted devices, and unconfirmed MFA devices now and then. All are refused on use anyway; this only keeps
// the tables small.
func sweepSessions(ctx context.Context, a *app.App, cfg app.Config) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			now := cfg.Clock.Now()
			n, err := a.Store.DeleteExpiredSessions(ctx, now, now.Add(-cfg.Auth.SessionIdle))
			if err != nil {
				cfg.Logger.Warn("session sweep failed", "err", err)
			} else if n > 0 {
				cfg.Logger.Info("session sweep", "deleted", n)
			}
			if _, err := a.Store.DeleteExpiredCaptchas(ctx, now); err != nil {
				cfg.Logger.Warn("captcha sweep failed", "err", err)
			}
			if _, err := a.Store.DeleteExpiredChallenges(ctx, now); err != nil {
				cfg.Logger.Warn("code sweep failed", "err", err)
			}
			if _, err := a.Store.DeleteExpiredFlows(ctx, now); err != nil {
				cfg.Logger.Warn("flow sweep failed", "err", err)
			}
			if _, err := a.Staff.Sweep(ctx); err != nil {
				cfg.Logger.Warn("staff session sweep failed", "err", err)
			}
			if n, err := a.Tickets.Sweep(ctx); err != nil {
				cfg.Logger.Warn("ticket file sweep failed", "err", err)
			} else if n > 0 {
				cfg.Logger.Info("ticket file sweep: files of closed tickets deleted", "deleted", n)
			}
			if n, err := a.Identity.Sweep(ctx); err != nil {
				cfg.Logger.Warn("document sweep failed", "err", err)
			} else if n > 0 {
				cfg.Logger.Info("document sweep: files of decided real-name submissions deleted", "deleted", n)
			}
			if _, err := a.Store.DeleteExpiredTrustedDevices(ctx, now); err != nil {
				cfg.Logger.Warn("trusted device sweep failed", "err", err)
			}
			// Unconfirmed MFA devices die after the pending window.
			pending := cfg.MFA.PendingTTL
			if pending <= 0 {
				pending = mfa.DefaultConfig.PendingTTL
			}
			if _, err := a.Store.DeletePendingDevices(ctx, now.Add(-pending)); err != nil {
				cfg.Logger.Warn("pending device sweep failed", "err", err)
			}
		}
	}
}
