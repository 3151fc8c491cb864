package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/app"
	"github.com/custos/custos/auth"
	"github.com/custos/custos/identity"
	"github.com/custos/custos/keyring"
	"github.com/custos/custos/mfa"
	"github.com/custos/custos/password"
	"github.com/custos/custos/phone"
	"github.com/custos/custos/requestinfo"
	"github.com/custos/custos/ticket"
	"github.com/custos/custos/upload"
)

// options are the raw flag values; each flag may also come from the
// environment variable CUSTOS_<NAME> (upper case, dashes as underscores).
type options struct {
	addr, dataDir, db, publicURL, deliver, mailFrom, captcha, keys, argon2 string
	trustedProxies, logLevel, mfaIssuer, sms, smsSecret, defaultRegion     string
	maxPerNumber                                                           int
	dev                                                                    bool
	hashWorkers                                                            int
	maxConnections                                                         int
	memoryLimit                                                            string
	sessionIdle, sessionLifetime                                           time.Duration
	identityVerifier                                                       string
	identityMaxPersonal, identityMaxEnterprise                             int
	identityChangeEvery, identityKeepFiles                                 time.Duration
	uploadMaxFileMB, uploadMaxFiles                                        int
	ticketUnbindApprovals, ticketPhoneApprovals                            int
	ticketUnbindWait, ticketPhoneWait                                      time.Duration
	metricsAddr, metricsTrusted                                            string
	returnHosts                                                            string
}

func newFlagSet(name string, o *options) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&o.dataDir, "data-dir", "custos-data", "folder for the SQLite file, generated keys and the outbox")
	fs.StringVar(&o.db, "db", "", "database: sqlite:PATH or postgres://… (default sqlite:DATA-DIR/custos.db)")
	fs.StringVar(&o.publicURL, "public-url", "", "URL people use to reach this server (default http://ADDR)")
	fs.BoolVar(&o.dev, "dev", false, "development mode on this machine only (loopback --addr, http:// --public-url): the dir: outbox at /dev/outbox, --captcha test")
	fs.StringVar(&o.deliver, "deliver", "", "email delivery: smtp://user:pass@host:port or smtps://… (required without --dev); dir:PATH or log only with --dev (default dir:DATA-DIR/outbox with --dev)")
	fs.StringVar(&o.mailFrom, "mail-from", "", "From address of outgoing email (default custos@HOST of --public-url)")
	fs.StringVar(&o.captcha, "captcha", "image", "captcha kind: image, or test (only with --dev)")
	fs.StringVar(&o.keys, "keys", "", "encryption key ring id:base64key[,…] or @FILE (generated under DATA-DIR on a loopback --addr)")
	fs.StringVar(&o.argon2, "argon2", password.DefaultParams.String(), "argon2id memory KiB,time,threads")
	fs.IntVar(&o.hashWorkers, "hash-workers", 0, "password hashes run at once (default one per core)")
	fs.IntVar(&o.maxConnections, "max-connections", 0, "connections served at once; more wait to be accepted, and idle keep-alive ones are closed to make room (default 64 per core, at least 256)")
	fs.StringVar(&o.memoryLimit, "memory-limit", "auto", "Go runtime soft memory limit: auto (the hash workers' argon2id work areas plus 26MiB), off, or a size such as 256MiB")
	fs.StringVar(&o.trustedProxies, "trusted-proxies", "", "comma-separated proxy addresses/CIDRs whose X-Forwarded-For is believed")
	fs.DurationVar(&o.sessionIdle, "session-idle", auth.DefaultConfig.SessionIdle, "a session unused this long ends")
	fs.DurationVar(&o.sessionLifetime, "session-lifetime", auth.DefaultConfig.SessionLifetime, "a session ends this long after sign-in")
	fs.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&o.mfaIssuer, "mfa-issuer", "Custos", "the issuer name authenticator apps show")
	fs.StringVar(&o.sms, "sms", "", "SMS delivery: https://gateway/webhook (signed JSON POST); dir:PATH or log only with --dev (default with --dev: the dir: outbox of --deliver, if it is one)")
	fs.StringVar(&o.smsSecret, "sms-secret", "", "HMAC key for the SMS webhook's X-Custos-Signature (or @FILE)")
	fs.StringVar(&o.defaultRegion, "default-region", "", "region of national-format phone numbers, e.g. CN or US (default: E.164 only)")
	fs.IntVar(&o.maxPerNumber, "max-accounts-per-phone", 5, "how many accounts one phone number may be bound to")
	fs.StringVar(&o.identityVerifier, "identity-verifier", "staff", "who decides real-name submissions: staff (the review console), or auto (approves at once; only with --dev)")
	fs.IntVar(&o.identityMaxPersonal, "identity-max-personal", identity.DefaultConfig.MaxPersonal, "accounts one person's identity document may be verified on")
	fs.IntVar(&o.identityMaxEnterprise, "identity-max-enterprise", identity.DefaultConfig.MaxEnterprise, "accounts one Unified Social Credit Code may be verified on")
	fs.DurationVar(&o.identityChangeEvery, "identity-change-every", identity.DefaultConfig.ChangeEvery, "a verified real-name record may change at most once in this long")
	fs.DurationVar(&o.identityKeepFiles, "identity-keep-files", identity.DefaultConfig.KeepFiles, "uploaded documents are deleted this long after the decision")
	fs.IntVar(&o.uploadMaxFileMB, "upload-max-file-mb", 10, "largest uploaded file, in MiB")
	fs.IntVar(&o.uploadMaxFiles, "upload-max-files", 5, "most files in one submission")
	fs.IntVar(&o.ticketUnbindApprovals, "ticket-unbind-approvals", ticket.DefaultConfig.ApprovalsUnbindMFA, "different staff approvals an unbind_mfa ticket needs")
	fs.IntVar(&o.ticketPhoneApprovals, "ticket-phone-approvals", ticket.DefaultConfig.ApprovalsChangePhone, "different staff approvals a change_phone ticket needs")
	fs.DurationVar(&o.ticketUnbindWait, "ticket-unbind-wait", ticket.DefaultConfig.WaitUnbindMFA, "waiting period between the last approval of an unbind_mfa ticket and the unbinding")
	fs.DurationVar(&o.ticketPhoneWait, "ticket-phone-wait", ticket.DefaultConfig.WaitChangePhone, "waiting period between the approval of a change_phone ticket and the new phone")
	fs.StringVar(&o.metricsAddr, "metrics-addr", "", "serve /metrics on this host:port of its own, and not on --addr")
	fs.StringVar(&o.metricsTrusted, "metrics-trusted", "127.0.0.0/8,::1", "comma-separated client addresses/CIDRs that may read /metrics on --addr (others get 404)")
	fs.StringVar(&o.returnHosts, "return-hosts", "", "comma-separated hosts (host or host:port) besides --public-url's that the login page may return to after sign-in (forward authentication: docs/forward-auth.md)")
	return fs
}

// parseFlags fills o from the environment, then from args (flags win).
func parseFlags(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := "CUSTOS_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(name); v != "" && envErr == nil {
			if err := f.Value.Set(v); err != nil {
				envErr = fmt.Errorf("%s (--%s): %v", name, f.Name, err)
			}
		}
	})
	if envErr != nil {
		return envErr
	}
	return fs.Parse(args)
}

// loopback reports whether addr listens only on this machine.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	return loopbackHost(host)
}

// loopbackHost reports whether host names this machine: localhost, a name
// under .localhost (RFC 6761) or a loopback address.
func loopbackHost(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// realMail reports whether spec delivers email to its recipients.
func realMail(spec string) bool {
	return strings.HasPrefix(spec, "smtp://") || strings.HasPrefix(spec, "smtps://")
}

// buildConfig validates o into an app.Config for the command cmd (serve,
// migrate or admin). Errors name the flag.
//
// --dev is for one person on this machine: it needs a loopback --addr and
// an http:// --public-url on this machine, because it keeps every message
// in the dir: outbox and shows it at /dev/outbox. Without --dev the server
// is in production wherever it listens (a loopback --addr may well sit
// behind a TLS proxy) and needs real delivery; an https:// --public-url is
// always production.
func buildConfig(o options, cmd string, rnd io.Reader) (app.Config, error) {
	var c app.Config
	if _, _, err := net.SplitHostPort(o.addr); err != nil {
		return c, fmt.Errorf("--addr %q: want host:port", o.addr)
	}
	local := loopback(o.addr)
	// A bare start on this machine — serve on a loopback address with no
	// delivery and no public URL, the README's `go run ./cmd/custos` — is a
	// try-out: it runs as with --dev. Anything that says production (a
	// public URL, which the documented proxy layout always sets, a
	// delivery, an SMS gateway, an address beyond loopback) turns it off,
	// and then the checks below apply in full.
	if cmd == "serve" && !o.dev && local && o.publicURL == "" && o.deliver == "" && o.sms == "" {
		o.dev = true
	}
	if o.dev && !local {
		return c, errors.New("--dev: only on a loopback --addr (127.0.0.1, ::1 or localhost): it shows every code at /dev/outbox")
	}
	c.Dev = o.dev

	if o.db == "" {
		o.db = "sqlite:" + filepath.Join(o.dataDir, "custos.db")
	}
	if !strings.HasPrefix(o.db, "sqlite:") && !strings.HasPrefix(o.db, "postgres://") && !strings.HasPrefix(o.db, "postgresql://") {
		return c, errors.New("--db: want sqlite:PATH or postgres://…")
	}
	c.DB = o.db

	if o.publicURL == "" {
		o.publicURL = "http://" + o.addr
	}
	u, err := url.Parse(o.publicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("--public-url %q: want http(s)://host[:port]", o.publicURL)
	}
	if o.dev && (u.Scheme != "http" || !loopbackHost(u.Hostname())) {
		return c, errors.New("--dev: the --public-url must be http://localhost or http:// on a loopback address: --dev shows every code at /dev/outbox, so it must not be reachable through a proxy")
	}
	if !local && u.Scheme != "https" {
		return c, errors.New("--public-url: listening beyond loopback needs an https:// public URL")
	}
	c.PublicURL = u

	switch {
	case o.deliver == "" && o.dev:
		o.deliver = "dir:" + filepath.Join(o.dataDir, "outbox")
	case o.deliver == "" && cmd != "serve":
		// migrate and the admin commands send no message.
		o.deliver = "log"
	case o.deliver == "":
		return c, errors.New("--deliver: needs smtp:// or smtps:// delivery (for a try-out on this machine, run with --dev)")
	case !o.dev && !realMail(o.deliver):
		// The value is not echoed: it may be a mistyped SMTP URL with a
		// password.
		return c, errors.New("--deliver: without --dev only smtp:// or smtps:// is allowed (dir: and log deliver to no one)")
	}
	c.Deliver = o.deliver

	c.MailFrom = o.mailFrom
	if c.MailFrom == "" {
		c.MailFrom = "custos@" + u.Hostname()
		if strings.Contains(u.Hostname(), ":") {
			c.MailFrom = "custos@localhost" // an IPv6 literal is no mail domain
		}
	}
	switch o.captcha {
	case "image":
	case "test":
		if !o.dev {
			return c, errors.New("--captcha test: only allowed together with --dev")
		}
	default:
		return c, fmt.Errorf("--captcha %q: want image or test", o.captcha)
	}
	c.Captcha = o.captcha

	switch {
	case strings.HasPrefix(o.keys, "@"):
		b, err := os.ReadFile(strings.TrimPrefix(o.keys, "@"))
		if err != nil {
			return c, fmt.Errorf("--keys: %v", err)
		}
		if c.Keys, err = keyring.Parse(string(b)); err != nil {
			return c, fmt.Errorf("--keys: %v", err)
		}
	case o.keys != "":
		if c.Keys, err = keyring.Parse(o.keys); err != nil {
			return c, fmt.Errorf("--keys: %v", err)
		}
	case local:
		if c.Keys, err = keyring.LoadOrCreate(filepath.Join(o.dataDir, "keys"), rnd); err != nil {
			return c, fmt.Errorf("--keys: generating a local key ring: %v", err)
		}
	default:
		return c, errors.New("--keys: listening beyond loopback needs a key ring")
	}

	if c.Argon2, err = password.ParseParams(o.argon2); err != nil {
		return c, fmt.Errorf("--argon2: %v", err)
	}
	if o.hashWorkers < 0 {
		return c, errors.New("--hash-workers: must not be negative")
	}
	c.HashWorkers = o.hashWorkers
	if c.TrustedProxies, err = requestinfo.ParsePrefixes(o.trustedProxies); err != nil {
		return c, fmt.Errorf("--trusted-proxies: %v", err)
	}
	if c.ReturnHosts, err = parseReturnHosts(o.returnHosts); err != nil {
		return c, fmt.Errorf("--return-hosts: %v", err)
	}
	if o.sessionIdle < time.Minute || o.sessionLifetime < o.sessionIdle {
		return c, errors.New("--session-idle/--session-lifetime: idle must be at least 1m and not longer than the lifetime")
	}
	c.Auth = auth.Config{SessionIdle: o.sessionIdle, SessionLifetime: o.sessionLifetime}
	if strings.TrimSpace(o.mfaIssuer) == "" || strings.ContainsAny(o.mfaIssuer, ":\n") {
		return c, errors.New("--mfa-issuer: a short name without colons")
	}
	c.MFA = mfa.Config{Issuer: o.mfaIssuer}
	webhook := strings.HasPrefix(o.sms, "https://") || strings.HasPrefix(o.sms, "http://")
	switch {
	case o.sms == "":
	case !o.dev && !webhook:
		return c, errors.New("--sms: without --dev only a webhook (https://…) is allowed (dir: and log deliver to no one)")
	case u.Scheme == "https" && !strings.HasPrefix(o.sms, "https://"):
		return c, errors.New("--sms: an https:// --public-url needs an https:// webhook")
	}
	c.SMS = o.sms
	if webhook {
		secret := o.smsSecret
		if strings.HasPrefix(secret, "@") {
			b, err := os.ReadFile(strings.TrimPrefix(secret, "@"))
			if err != nil {
				return c, fmt.Errorf("--sms-secret: %v", err)
			}
			secret = strings.TrimSpace(string(b))
		}
		if len(secret) < 16 {
			return c, errors.New("--sms-secret: the webhook needs a shared secret of at least 16 characters")
		}
		c.SMSSecret = []byte(secret)
	}
	if o.defaultRegion != "" && !phone.ValidRegion(o.defaultRegion) {
		return c, fmt.Errorf("--default-region %q: want a region code like CN or US", o.defaultRegion)
	}
	c.DefaultRegion = strings.ToUpper(o.defaultRegion)
	if o.maxPerNumber < 1 {
		return c, errors.New("--max-accounts-per-phone: must be at least 1")
	}
	c.MaxPerNumber = o.maxPerNumber
	switch o.identityVerifier {
	case "staff":
	case "auto":
		if !o.dev {
			return c, errors.New("--identity-verifier auto: only allowed together with --dev (it approves every real-name submission unseen)")
		}
	default:
		return c, fmt.Errorf("--identity-verifier %q: want staff or auto", o.identityVerifier)
	}
	c.IdentityVerifier = o.identityVerifier
	if o.identityMaxPersonal < 1 || o.identityMaxEnterprise < 1 {
		return c, errors.New("--identity-max-personal/--identity-max-enterprise: must be at least 1")
	}
	if o.identityChangeEvery < 0 || o.identityKeepFiles < 24*time.Hour {
		return c, errors.New("--identity-change-every/--identity-keep-files: must not be negative; files are kept at least 24h")
	}
	c.Identity = identity.Config{MaxPersonal: o.identityMaxPersonal, MaxEnterprise: o.identityMaxEnterprise,
		ChangeEvery: o.identityChangeEvery, KeepFiles: o.identityKeepFiles}
	if o.uploadMaxFileMB < 1 || o.uploadMaxFileMB > 100 || o.uploadMaxFiles < 3 || o.uploadMaxFiles > 20 {
		return c, errors.New("--upload-max-file-mb/--upload-max-files: 1–100 MiB, 3–20 files")
	}
	c.Uploads = upload.Limits{MaxFileBytes: int64(o.uploadMaxFileMB) << 20, MaxFiles: o.uploadMaxFiles}
	if o.ticketUnbindApprovals < 1 || o.ticketUnbindApprovals > 5 || o.ticketPhoneApprovals < 1 || o.ticketPhoneApprovals > 5 {
		return c, errors.New("--ticket-unbind-approvals/--ticket-phone-approvals: 1–5")
	}
	if o.ticketUnbindWait < time.Hour || o.ticketPhoneWait < time.Hour {
		return c, errors.New("--ticket-unbind-wait/--ticket-phone-wait: at least 1h, so the holder can be told and cancel")
	}
	c.Tickets = ticket.Config{ApprovalsUnbindMFA: o.ticketUnbindApprovals, ApprovalsChangePhone: o.ticketPhoneApprovals,
		WaitUnbindMFA: o.ticketUnbindWait, WaitChangePhone: o.ticketPhoneWait}
	if o.metricsAddr != "" {
		if _, _, err := net.SplitHostPort(o.metricsAddr); err != nil || o.metricsAddr == o.addr {
			return c, fmt.Errorf("--metrics-addr %q: want host:port, not --addr's", o.metricsAddr)
		}
		c.MetricsElsewhere = true
	}
	if c.MetricsTrusted, err = requestinfo.ParsePrefixes(o.metricsTrusted); err != nil {
		return c, fmt.Errorf("--metrics-trusted: %v", err)
	}
	c.Clock = custos.SystemClock{}
	c.Rand = rnd
	return c, nil
}

// parseReturnHosts reads --return-hosts: host or host:port entries, no
// scheme, path or credentials.
func parseReturnHosts(s string) ([]string, error) {
	var hosts []string
	for _, h := range strings.Split(s, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		u, err := url.Parse("http://" + h)
		if err != nil || u.Host != h || u.Hostname() == "" || u.User != nil {
			return nil, fmt.Errorf("%q is not a host or host:port", h)
		}
		hosts = append(hosts, h)
	}
	return hosts, nil
}
