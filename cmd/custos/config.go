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
	"github.com/custos/custos/keyring"
	"github.com/custos/custos/mfa"
	"github.com/custos/custos/password"
	"github.com/custos/custos/phone"
	"github.com/custos/custos/requestinfo"
)

// options are the raw flag values; each flag may also come from the
// environment variable CUSTOS_<NAME> (upper case, dashes as underscores).
type options struct {
	addr, dataDir, db, publicURL, deliver, mailFrom, captcha, keys, argon2 string
	trustedProxies, logLevel, mfaIssuer, sms, smsSecret, defaultRegion     string
	maxPerNumber                                                           int
	dev                                                                    bool
	hashWorkers                                                            int
	sessionIdle, sessionLifetime                                           time.Duration
}

func newFlagSet(name string, o *options) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&o.dataDir, "data-dir", "custos-data", "folder for the SQLite file, generated keys and the outbox")
	fs.StringVar(&o.db, "db", "", "database: sqlite:PATH or postgres://… (default sqlite:DATA-DIR/custos.db)")
	fs.StringVar(&o.publicURL, "public-url", "", "URL people use to reach this server (default http://ADDR)")
	fs.BoolVar(&o.dev, "dev", false, "development mode: relaxes the production checks, enables --captcha test")
	fs.StringVar(&o.deliver, "deliver", "", "message delivery: smtp://user:pass@host:port, smtps://…, dir:PATH or log (default dir:DATA-DIR/outbox on loopback or with --dev)")
	fs.StringVar(&o.mailFrom, "mail-from", "", "From address of outgoing email (default custos@HOST of --public-url)")
	fs.StringVar(&o.captcha, "captcha", "image", "captcha kind: image, or test (only with --dev)")
	fs.StringVar(&o.keys, "keys", "", "encryption key ring id:base64key[,…] or @FILE (generated under DATA-DIR on loopback or with --dev)")
	fs.StringVar(&o.argon2, "argon2", password.DefaultParams.String(), "argon2id memory KiB,time,threads")
	fs.IntVar(&o.hashWorkers, "hash-workers", 0, "password hashes run at once (default one per core)")
	fs.StringVar(&o.trustedProxies, "trusted-proxies", "", "comma-separated proxy addresses/CIDRs whose X-Forwarded-For is believed")
	fs.DurationVar(&o.sessionIdle, "session-idle", auth.DefaultConfig.SessionIdle, "a session unused this long ends")
	fs.DurationVar(&o.sessionLifetime, "session-lifetime", auth.DefaultConfig.SessionLifetime, "a session ends this long after sign-in")
	fs.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&o.mfaIssuer, "mfa-issuer", "Custos", "the issuer name authenticator apps show")
	fs.StringVar(&o.sms, "sms", "", "SMS delivery: https://gateway/webhook (signed JSON POST), dir:PATH or log (default: the dir: outbox of --deliver, if it is one)")
	fs.StringVar(&o.smsSecret, "sms-secret", "", "HMAC key for the SMS webhook's X-Custos-Signature (or @FILE)")
	fs.StringVar(&o.defaultRegion, "default-region", "", "region of national-format phone numbers, e.g. CN or US (default: E.164 only)")
	fs.IntVar(&o.maxPerNumber, "max-accounts-per-phone", 5, "how many accounts one phone number may be bound to")
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
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// buildConfig validates o into an app.Config. Errors name the flag.
func buildConfig(o options, rnd io.Reader) (app.Config, error) {
	var c app.Config
	if _, _, err := net.SplitHostPort(o.addr); err != nil {
		return c, fmt.Errorf("--addr %q: want host:port", o.addr)
	}
	local := loopback(o.addr)
	relaxed := local || o.dev
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
	if !relaxed && u.Scheme != "https" {
		return c, errors.New("--public-url: listening beyond loopback needs an https:// public URL (or --dev)")
	}
	c.PublicURL = u

	if o.deliver == "" {
		if !relaxed {
			return c, errors.New("--deliver: listening beyond loopback needs real delivery (smtp:// or smtps://) (or --dev)")
		}
		o.deliver = "dir:" + filepath.Join(o.dataDir, "outbox")
	}
	if !relaxed && !strings.HasPrefix(o.deliver, "smtp://") && !strings.HasPrefix(o.deliver, "smtps://") {
		return c, errors.New("--deliver: listening beyond loopback needs real delivery (smtp:// or smtps://) (or --dev)")
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
	case relaxed:
		if c.Keys, err = keyring.LoadOrCreate(filepath.Join(o.dataDir, "keys"), rnd); err != nil {
			return c, fmt.Errorf("--keys: generating a local key ring: %v", err)
		}
	default:
		return c, errors.New("--keys: listening beyond loopback needs a key ring (or --dev)")
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
	if o.sessionIdle < time.Minute || o.sessionLifetime < o.sessionIdle {
		return c, errors.New("--session-idle/--session-lifetime: idle must be at least 1m and not longer than the lifetime")
	}
	c.Auth = auth.Config{SessionIdle: o.sessionIdle, SessionLifetime: o.sessionLifetime}
	if strings.TrimSpace(o.mfaIssuer) == "" || strings.ContainsAny(o.mfaIssuer, ":\n") {
		return c, errors.New("--mfa-issuer: a short name without colons")
	}
	c.MFA = mfa.Config{Issuer: o.mfaIssuer}
	c.SMS = o.sms
	if strings.HasPrefix(o.sms, "https://") || strings.HasPrefix(o.sms, "http://") {
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
	c.Clock = custos.SystemClock{}
	c.Rand = rnd
	return c, nil
}
