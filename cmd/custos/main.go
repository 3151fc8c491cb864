// Command custos runs the Custos account center.
//
//	custos [serve] [flags]   run the server (the default)
//	custos migrate [flags]   apply database migrations and exit
//	custos admin …           operator commands
//	custos version           the version and the build's VCS revision
//	custos help [COMMAND]    the usage of custos or of one command
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
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/app"
	"github.com/custos/custos/mfa"
	"github.com/custos/custos/password"
	"github.com/custos/custos/queue"
	"github.com/custos/custos/sqlstore"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// usage lists the commands; every one answers --help with its own usage.
const usage = `usage: custos [COMMAND] [flags]
commands:
  serve     run the server (the default when the first argument is a flag or there is none)
  migrate   apply the database migrations and exit
  admin     operator commands (custos admin --help lists them)
  version   print the version and the build's VCS revision
  help      print this and every flag
Run custos COMMAND --help for the usage of one command.`

// commandUsage is each command's own usage, printed by --help.
var commandUsage = map[string]string{
	"serve": `usage: custos [serve] [flags]

Runs the server: migrates the database, serves the pages and the API and
delivers the outgoing messages until SIGINT or SIGTERM.`,
	"migrate": `usage: custos migrate [flags]

Applies the database migrations (Custos's and the delivery queue's) and exits.`,
	"admin": adminUsage,
}

// commandList is the one-line list of the commands in errors.
const commandList = "serve, migrate, admin, version or help"

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve", "migrate", "admin":
	case "version":
		return versionCommand(args, stdout, stderr)
	case "help":
		return helpCommand(args, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "custos: unknown command %q: want %s (custos help)\n", cmd, commandList)
		return 2
	}
	var o options
	fs := newFlagSet("custos "+cmd, &o)
	// Errors are printed here, in one line; --help prints to stdout.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	if err := parseFlags(fs, args, getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stdout, cmd, fs)
			return 0
		}
		fmt.Fprintf(stderr, "custos %s: %v\n", cmd, err)
		return 2
	}
	var job adminJob
	switch {
	case cmd == "admin":
		var err error
		job, err = parseAdmin(fs.Args(), stdout)
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "custos %s: unexpected argument %q: %s takes flags only (custos %s --help)\n", cmd, fs.Arg(0), cmd, cmd)
		return 2
	}
	if _, err := memoryLimit(o.memoryLimit, password.DefaultParams, 1); err != nil {
		fmt.Fprintln(stderr, "custos:", err) // checked before anything is made
		return 2
	}
	if o.maxConnections < 0 {
		fmt.Fprintln(stderr, "custos: --max-connections: must not be negative")
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
		err = job(ctx, cfg, stdout)
	default:
		// Checked above. GOMEMLIMIT, when set, wins over "auto".
		if limit, _ := memoryLimit(o.memoryLimit, cfg.Argon2, cfg.HashWorkers); o.memoryLimit != "auto" || os.Getenv("GOMEMLIMIT") == "" {
			debug.SetMemoryLimit(limit)
		}
		err = serve(ctx, cfg, o.addr, o.metricsAddr, o.maxConnections)
	}
	if err != nil {
		fmt.Fprintln(stderr, "custos:", err)
		return 1
	}
	return 0
}

// printUsage prints the command's usage and its flags.
func printUsage(w io.Writer, cmd string, fs *flag.FlagSet) {
	fmt.Fprintln(w, commandUsage[cmd])
	fmt.Fprintln(w, "\nflags (each also CUSTOS_<NAME>, upper case, dashes as underscores):")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// helpCommand runs `custos help [COMMAND]`.
func helpCommand(args []string, stdout, stderr io.Writer) int {
	var o options
	switch {
	case len(args) == 0:
		fmt.Fprintln(stdout, usage)
		fmt.Fprintln(stdout, "\nflags of serve, migrate and admin (each also CUSTOS_<NAME>, upper case, dashes as underscores):")
		fs := newFlagSet("custos", &o)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return 0
	case len(args) == 1 && commandUsage[args[0]] != "":
		printUsage(stdout, args[0], newFlagSet("custos "+args[0], &o))
		return 0
	case len(args) == 1 && args[0] == "version":
		fmt.Fprintln(stdout, versionUsage)
		return 0
	case len(args) == 1 && (args[0] == "help" || isHelpFlag(args[0])):
		fmt.Fprintln(stdout, usage)
		return 0
	case len(args) == 1:
		fmt.Fprintf(stderr, "custos help: unknown command %q: want %s\n", args[0], commandList)
		return 2
	default:
		fmt.Fprintln(stderr, "custos help: want at most one COMMAND (custos help COMMAND)")
		return 2
	}
}

// isHelpFlag reports whether a is one of the spellings of --help.
func isHelpFlag(a string) bool {
	return a == "-h" || a == "--h" || a == "-help" || a == "--help"
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

func serve(ctx context.Context, cfg app.Config, addr, metricsAddr string, maxConns int) error {
	a, err := app.Build(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	raw, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--addr: %v", err)
	}
	if maxConns <= 0 {
		maxConns = defaultMaxConnections()
	}
	ln := newConnGate(raw, maxConns)
	var metricsLn net.Listener
	if metricsAddr != "" {
		if metricsLn, err = net.Listen("tcp", metricsAddr); err != nil {
			ln.Close()
			return fmt.Errorf("--metrics-addr: %v", err)
		}
	}
	warnDelivery(cfg)
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
		ConnState:         ln.track,
	}
	go sweepSessions(ctx, a, cfg)
	go executeTickets(ctx, a, cfg)
	// Every replica delivers: the workers take due messages from the
	// database, each message by one of them.
	if err := a.Start(ctx); err != nil {
		return err
	}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	var metricsSrv *http.Server
	if metricsLn != nil {
		metricsSrv = &http.Server{Handler: a.Metrics, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second,
			ErrorLog: srv.ErrorLog}
		go func() { errc <- metricsSrv.Serve(metricsLn) }()
	}
	logServing(cfg, a, ln, metricsLn)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	cfg.Logger.Info("shutting down: finishing in-flight requests")
	shutCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if metricsSrv != nil {
		metricsSrv.Shutdown(shutCtx)
	}
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
			if _, err := a.Store.DeleteWebhookDeliveries(ctx, now.Add(-app.WebhookLogKept)); err != nil {
				cfg.Logger.Warn("webhook delivery log sweep failed", "err", err)
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
