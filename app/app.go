package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/api"
	"github.com/custos/custos/auth"
	"github.com/custos/custos/binding"
	"github.com/custos/custos/captcha"
	"github.com/custos/custos/codes"
	"github.com/custos/custos/identity"
	"github.com/custos/custos/keyring"
	"github.com/custos/custos/mfa"
	"github.com/custos/custos/notify"
	"github.com/custos/custos/password"
	"github.com/custos/custos/queue"
	"github.com/custos/custos/recovery"
	"github.com/custos/custos/requestinfo"
	"github.com/custos/custos/sendlimit"
	"github.com/custos/custos/server"
	"github.com/custos/custos/sqlstore"
	"github.com/custos/custos/staff"
	"github.com/custos/custos/subaccount"
	"github.com/custos/custos/ticket"
	"github.com/custos/custos/upload"
	"github.com/custos/custos/web"
	"github.com/prometheus/client_golang/prometheus"
)

// Config is the validated configuration of one server process.
type Config struct {
	DB            string   // sqlite:PATH or postgres://…
	PublicURL     *url.URL // where people reach the server
	Dev           bool
	Deliver       string      // notify.ParseDeliver spec
	DeliverTLS    *tls.Config // optional roots for SMTP (tests)
	SMS           string      // notify.ParseSMS spec; "" sends SMS to the dir: outbox when Deliver is one
	SMSSecret     []byte      // HMAC key of the SMS webhook
	SMSClient     *http.Client
	DefaultRegion string // region for national phone numbers ("" = E.164 only)
	MaxPerNumber  int    // accounts one phone number may be bound to
	MailFrom      string
	Captcha       string // "image" or "test"
	Keys          *keyring.Ring
	Argon2        password.Params
	HashWorkers   int // 0: one per core
	Auth          auth.Config
	MFA           mfa.Config
	Identity      identity.Config
	// IdentityVerifier is "staff" (the review console; the default) or
	// "auto" (approves at once; cmd/custos allows it only with --dev).
	IdentityVerifier string
	Uploads          upload.Limits
	Staff            staff.Config
	Tickets          ticket.Config
	TrustedProxies   []netip.Prefix
	Clock            custos.Clock
	Rand             io.Reader
	Logger           *slog.Logger
	// DeliveryPoll is how often the delivery workers look for due
	// messages (queue.DefaultPollInterval when zero); tests shorten it.
	DeliveryPoll time.Duration
	// MetricsTrusted are the client addresses that may read /metrics on
	// the main handler (loopback only when empty); with MetricsElsewhere
	// the main handler has no /metrics and App.Metrics serves it.
	MetricsTrusted   []netip.Prefix
	MetricsElsewhere bool
	// ReturnHosts are the hosts (host or host:port) besides PublicURL's
	// that the login page may return to after sign-in: the sites a
	// reverse proxy guards with forward authentication.
	ReturnHosts []string
	// WebhookClient posts security webhooks (nil: Go's default
	// transport); WebhookAttempts caps the tries per event and hook
	// (queue.DefaultWebhookAttempts when zero).
	WebhookClient   *http.Client
	WebhookAttempts int
}

// App is a built server process.
type App struct {
	Handler   http.Handler
	Store     *sqlstore.DB
	Auth      *auth.Service
	Captcha   *captcha.Service
	MFA       *mfa.Service
	Binding   *binding.Service
	Recovery  *recovery.Service
	Identity  *identity.Service
	Staff     *staff.Service
	Tickets   *ticket.Service
	SubUsers  *subaccount.Service
	Collabs   *subaccount.Collabs
	Hasher    *password.Hasher
	LoginKeys custos.LoginKeys // the counter keys of login identifiers
	Registry  *prometheus.Registry
	OutboxDir string // "" unless delivering to a dir: outbox
	// Queue holds every outgoing message until a worker delivers it;
	// Start starts this process's workers.
	Queue *queue.Queue
	// Metrics serves /metrics on a listener of its own; nil unless
	// Config.MetricsElsewhere.
	Metrics http.Handler
}

// Build opens and migrates the database and wires everything.
func Build(ctx context.Context, cfg Config) (*App, error) {
	if cfg.Clock == nil {
		cfg.Clock = custos.SystemClock{}
	}
	if cfg.Rand == nil {
		cfg.Rand = custos.SystemRandom
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	transport, err := notify.ParseDeliver(cfg.Deliver, cfg.DeliverTLS)
	if err != nil {
		return nil, fmt.Errorf("--deliver: %w", err)
	}
	if l, ok := transport.(*notify.Log); ok && l.Logger == nil {
		l.Logger = cfg.Logger
	}
	var sms notify.Transport
	switch {
	case cfg.SMS != "":
		if sms, err = notify.ParseSMS(cfg.SMS, cfg.SMSSecret, cfg.SMSClient); err != nil {
			return nil, fmt.Errorf("--sms: %w", err)
		}
	default:
		if _, ok := transport.(*notify.Dir); ok {
			sms = transport // the dev outbox takes both channels
		}
	}
	// The dir: outbox is shown at /dev/outbox, so it exists only in
	// development on plain http (cmd/custos allows --dev only on this
	// machine); elsewhere it would publish every code.
	_, mailDir := transport.(*notify.Dir)
	_, smsDir := sms.(*notify.Dir)
	if (mailDir || smsDir) && (!cfg.Dev || cfg.PublicURL.Scheme != "http") {
		return nil, fmt.Errorf("--deliver/--sms: the dir: outbox is only for --dev on an http:// public URL")
	}
	if l, ok := sms.(*notify.Log); ok && l.Logger == nil {
		l.Logger = cfg.Logger
	}
	publicURL := strings.TrimRight(cfg.PublicURL.String(), "/")
	notifier, err := notify.New(transport, notify.Config{
		From: cfg.MailFrom, PublicURL: publicURL, Product: "Custos", Clock: cfg.Clock, SMS: sms,
	})
	if err != nil {
		return nil, err
	}
	store, err := sqlstore.Open(ctx, cfg.DB)
	if err != nil {
		return nil, fmt.Errorf("--db: %w", err)
	}
	if err := store.Migrate(ctx); err != nil {
		store.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	reg := server.NewRegistry()
	// Every security event and staff action, once committed: one log line
	// and a count each.
	store.Observe(newSecurityEvents(cfg.Logger, reg).observer())
	registerPools(reg, store)
	// Messages wait in the database, sealed under the key ring, for the
	// workers: a change writes its messages in its own transaction (the
	// store's outbox), and nothing waits for a mail server or a gateway.
	q, err := queue.New(ctx, queue.Config{
		DB: store.Writer(), Dialect: store.Dialect(), Exclusive: store.Exclusive,
		Deliver: notifier.Send,
		Seal:    func(p []byte) ([]byte, error) { return cfg.Keys.Seal(cfg.Rand, p, queueAAD) },
		Open:    func(b []byte) ([]byte, error) { return cfg.Keys.Open(b, queueAAD) },
		Clock:   cfg.Clock, Logger: cfg.Logger, Metrics: reg, PollInterval: cfg.DeliveryPoll,
		Webhooks: webhookDelivery(cfg, store),
	})
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("delivery queue: %w", err)
	}
	store.SetOutbox(q.InsertTx)
	store.SetWebhookOutbox(q.InsertWebhooksTx)
	hasher := password.NewHasher(cfg.Argon2, cfg.HashWorkers, cfg.Rand)
	codeMAC := func(b []byte) []byte { return cfg.Keys.MAC("one-time-code", b) }
	loginKeys := custos.LoginKeys(func(b []byte) []byte { return cfg.Keys.MAC("login-identifier", b) })
	captchas := captcha.New(store, cfg.Clock, cfg.Rand, captcha.Mode(cfg.Captcha), 0)
	rp, err := mfa.NewRelyingParty(cfg.PublicURL, "Custos")
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("--public-url: security keys: %w", err)
	}
	if rp == nil || !mfa.SecureContext(cfg.PublicURL) {
		// Browsers refuse security keys there: the pages do not offer them.
		cfg.Logger.Warn("security keys (WebAuthn) are off: --public-url must be https:// with a host name (or http://localhost)",
			"public_url", cfg.PublicURL.String())
		rp = nil
	}
	limiter := sendlimit.New(store, cfg.Clock, sendlimit.Config{})
	sender := codes.New(codes.Deps{Store: store, Limiter: limiter, Clock: cfg.Clock, Rand: cfg.Rand, MAC: codeMAC},
		codes.Config{})
	guard := auth.NewGuard(store, cfg.Clock)
	mfas := mfa.New(mfa.Deps{Store: store, Elevator: guard, Clock: cfg.Clock, Rand: cfg.Rand, Keys: cfg.Keys,
		WebAuthn: rp, Logger: cfg.Logger}, cfg.MFA)
	svc := auth.New(auth.Deps{
		Store: store, Clock: cfg.Clock, Rand: cfg.Rand, Hasher: hasher, Captcha: captchas,
		Factors: mfas, Codes: sender, Limiter: limiter, Guard: guard, LoginKeys: loginKeys, Logger: cfg.Logger,
		DeviceMAC: func(b []byte) []byte { return cfg.Keys.MAC("known-device", b) },
	}, cfg.Auth)
	bindings := binding.New(binding.Deps{Store: store, Clock: cfg.Clock, Rand: cfg.Rand,
		Codes: sender, Elevator: guard, LoginKeys: loginKeys, Logger: cfg.Logger},
		binding.Config{MaxPerNumber: cfg.MaxPerNumber, DefaultRegion: cfg.DefaultRegion, PublicURL: publicURL})
	recoveries := recovery.New(recovery.Deps{Store: store, Clock: cfg.Clock, Rand: cfg.Rand,
		Codes: sender, Captcha: captchas, Limiter: limiter, Factors: mfas, Hasher: hasher, LoginKeys: loginKeys, Logger: cfg.Logger},
		recovery.Config{DefaultRegion: cfg.DefaultRegion})
	var verifier identity.Verifier = identity.StaffReview{}
	if cfg.IdentityVerifier == "auto" {
		if !cfg.Dev {
			store.Close()
			return nil, errors.New("--identity-verifier auto: only with --dev")
		}
		verifier = identity.Auto{}
	}
	identities := identity.New(identity.Deps{Store: store, Elevator: guard, Verifier: verifier, Clock: cfg.Clock,
		Rand: cfg.Rand, Keys: cfg.Keys, Logger: cfg.Logger}, cfg.Identity)
	staffs := staff.New(staff.Deps{Store: store, Clock: cfg.Clock, Rand: cfg.Rand, Hasher: hasher, Keys: cfg.Keys,
		LoginKeys: loginKeys, PublicURL: publicURL, Logger: cfg.Logger}, cfg.Staff)
	uploads := upload.New(cfg.Uploads, 0)
	subusers := subaccount.New(subaccount.Deps{Store: store, Elevator: guard, Hasher: hasher, Clock: cfg.Clock, Rand: cfg.Rand, Logger: cfg.Logger})
	collabs := subaccount.NewCollabs(subaccount.CollabDeps{Store: store, Elevator: guard, Clock: cfg.Clock, Rand: cfg.Rand,
		PublicURL: publicURL, Logger: cfg.Logger})
	tcfg := cfg.Tickets
	tcfg.PublicURL, tcfg.DefaultRegion = publicURL, cfg.DefaultRegion
	if tcfg.MaxPerNumber == 0 {
		tcfg.MaxPerNumber = cfg.MaxPerNumber
	}
	tickets := ticket.New(ticket.Deps{Store: store, Codes: sender, Captcha: captchas, Clock: cfg.Clock, Rand: cfg.Rand,
		Keys: cfg.Keys, Logger: cfg.Logger}, tcfg)

	a := &App{Queue: q, Store: store, Auth: svc, Captcha: captchas, MFA: mfas, Binding: bindings, Recovery: recoveries,
		Identity: identities, Staff: staffs, Tickets: tickets, SubUsers: subusers, Collabs: collabs, Hasher: hasher, LoginKeys: loginKeys, Registry: reg}
	if d, ok := transport.(*notify.Dir); ok && cfg.Dev {
		a.OutboxDir = d.Path()
	}
	apiT := api.New(api.Deps{Auth: svc, MFA: mfas, Binding: bindings, Recovery: recoveries,
		Identity: identities, Staff: staffs, Tickets: tickets, SubUsers: subusers, Collabs: collabs, Uploads: uploads, Clock: cfg.Clock, Metrics: reg,
		SessionCookie: sessionCookieName(cfg.PublicURL), LoginURL: publicURL + "/login"})
	var outbox func() ([]web.OutboxMessage, error)
	if a.OutboxDir != "" {
		outbox = OutboxReader(a.OutboxDir)
	}
	webT := web.New(web.Deps{
		Auth: svc, MFA: mfas, Binding: bindings, Recovery: recoveries,
		Identity: identities, Staff: staffs, Tickets: tickets, Uploads: uploads,
		SubUsers: subusers,
		Collabs:  collabs,
		Clock:    cfg.Clock, Outbox: outbox,
		SecureCookies: cfg.PublicURL.Scheme == "https",
		// The API registered custos_logins_total first; the pages count
		// in the same series.
		Metrics:     reg,
		ReturnHosts: returnHosts(cfg.PublicURL, cfg.ReturnHosts),
	})
	a.Handler = server.New(server.Config{
		Store: store, Hasher: hasher, Rand: cfg.Rand, Logger: cfg.Logger,
		Resolver: requestinfo.Resolver{TrustedProxies: cfg.TrustedProxies},
		Registry: reg, Transports: []server.Registrar{apiT, webT},
		HSTS:           cfg.PublicURL.Scheme == "https",
		MetricsTrusted: cfg.MetricsTrusted, MetricsElsewhere: cfg.MetricsElsewhere,
	})
	if cfg.MetricsElsewhere {
		a.Metrics = server.MetricsHandler(reg)
	}
	return a, nil
}

// OutboxReader reads the dir: outbox in dir for the development outbox
// page.
func OutboxReader(dir string) func() ([]web.OutboxMessage, error) {
	return func() ([]web.OutboxMessage, error) {
		msgs, err := notify.ReadOutbox(dir)
		if err != nil {
			return nil, err
		}
		out := make([]web.OutboxMessage, len(msgs))
		for i, m := range msgs {
			out[i] = web.OutboxMessage{Channel: m.Channel, To: m.To, Purpose: m.Purpose, Code: m.Code, Subject: m.Subject, Text: m.Text, SentAt: m.SentAt}
		}
		return out, nil
	}
}

// queueAAD binds a sealed message to the delivery queue.
var queueAAD = []byte("custos delivery queue message")

// Start starts this process's delivery workers (serve and the tests do;
// the admin commands only write messages, for a server to deliver).
func (a *App) Start(ctx context.Context) error { return a.Queue.Start(ctx) }

// Close stops the delivery workers, letting the deliveries in progress
// finish for up to 20 seconds (what is not done is delivered later, by
// this or another replica), and releases the database.
func (a *App) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := a.Queue.Stop(ctx)
	return errors.Join(err, a.Store.Close())
}

// sessionCookieName is the pages' session cookie's name, which the API's
// forward-auth endpoint reads too.
func sessionCookieName(public *url.URL) string {
	if public.Scheme == "https" {
		return web.SecureCookieName
	}
	return web.InsecureCookieName
}

// returnHosts is the login page's allow-list of return hosts: the public
// URL's own and the configured ones.
func returnHosts(public *url.URL, extra []string) []string {
	return append([]string{public.Host}, extra...)
}
