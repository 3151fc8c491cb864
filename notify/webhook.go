package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/custos/custos"
)

// Defaults of the SMS webhook transport.
const (
	// DefaultWebhookTimeout bounds one attempt, connection included.
	DefaultWebhookTimeout = 10 * time.Second
	// DefaultWebhookTries is how many attempts a message gets.
	DefaultWebhookTries = 3
	// DefaultWebhookBackoff is the wait before the second attempt; each
	// later wait doubles (0.5 s, 1 s, …).
	DefaultWebhookBackoff = 500 * time.Millisecond
	// MinWebhookSecret is the shortest signing secret NewWebhook accepts,
	// in bytes.
	MinWebhookSecret = 16
)

// Webhook headers. The signature is "sha256=" and the hex HMAC-SHA256,
// keyed with the shared secret, of the timestamp, a dot and the body.
const (
	HeaderTimestamp = "X-Custos-Timestamp"
	HeaderSignature = "X-Custos-Signature"
)

// WebhookBody is the JSON a Webhook posts. The code is only inside Text,
// as the person will read it; SentAt is RFC 3339 UTC with milliseconds.
// The body is the same on every attempt for one message, so a gateway can
// drop a repeat it has already sent (a retry after a lost answer).
type WebhookBody struct {
	To      string `json:"to"`
	Text    string `json:"text"`
	Purpose string `json:"purpose"`
	SentAt  string `json:"sent_at"`
}

// Webhook delivers text messages by posting them as JSON to an SMS
// gateway's HTTPS endpoint, signed with a shared secret (see Verify). It
// retries network errors, timeouts, 5xx and 429 answers with exponential
// backoff, and gives up at once on any other answer outside 2xx; it does
// not follow redirects. It never logs, and its errors hold neither the
// message nor the URL's path, query or user info, which may carry a
// gateway token. It is safe for concurrent use.
type Webhook struct {
	url     string // never printed
	display string // scheme://host[:port]
	secret  []byte
	client  *http.Client
	clock   custos.Clock
	timeout time.Duration
	tries   int
	backoff time.Duration
}

var _ Transport = (*Webhook)(nil)

// NewWebhook returns a Webhook posting to rawURL, an https:// URL (http://
// only for a loopback host: localhost, 127.0.0.0/8, ::1). secret signs
// every request and must be at least MinWebhookSecret bytes. client, when
// not nil, is copied and used (for example to trust a test CA); nil means
// a client with Go's default transport. Errors never echo the URL beyond
// its scheme and host.
func NewWebhook(rawURL string, secret []byte, client *http.Client) (*Webhook, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("notify: malformed SMS webhook URL")
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, errors.New("notify: SMS webhook URL must start with https://")
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return nil, errors.New("notify: SMS webhook URL has no host (want https://host/path)")
	}
	if u.Fragment != "" || strings.Contains(rawURL, "#") {
		return nil, errors.New("notify: SMS webhook URL has a fragment")
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("notify: SMS webhook over http:// is allowed only for a loopback host (localhost, 127.0.0.0/8, ::1), not %q; use https://", u.Hostname())
	}
	if len(secret) < MinWebhookSecret {
		return nil, fmt.Errorf("notify: SMS webhook needs a signing secret of at least %d bytes", MinWebhookSecret)
	}
	var c http.Client
	if client != nil {
		c = *client
	}
	// A redirect would resend the message, code and all, wherever the
	// answer points; the gateway's URL is configured, not discovered.
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Webhook{
		url:     u.String(),
		display: (&url.URL{Scheme: u.Scheme, Host: u.Host}).String(),
		secret:  bytes.Clone(secret),
		client:  &c,
		clock:   custos.SystemClock{},
		timeout: DefaultWebhookTimeout,
		tries:   DefaultWebhookTries,
		backoff: DefaultWebhookBackoff,
	}, nil
}

// String describes the transport for logs: scheme and host only.
func (w *Webhook) String() string { return w.display }

// SetTimeout changes the time one attempt may take (DefaultWebhookTimeout
// unless set). Call it before the first Deliver.
func (w *Webhook) SetTimeout(d time.Duration) {
	if d > 0 {
		w.timeout = d
	}
}

// SetRetry changes the number of attempts (at least 1) and the wait before
// the second one, which doubles for each later attempt. Call it before the
// first Deliver.
func (w *Webhook) SetRetry(tries int, backoff time.Duration) {
	w.tries = max(1, tries)
	w.backoff = max(0, backoff)
}

// SetClock changes the clock that stamps X-Custos-Timestamp
// (custos.SystemClock unless set). Call it before the first Deliver.
func (w *Webhook) SetClock(c custos.Clock) {
	if c != nil {
		w.clock = c
	}
}

// Deliver posts r to the gateway, retrying as the type describes. It
// refuses email, and stops early when ctx ends.
func (w *Webhook) Deliver(ctx context.Context, r Rendered) error {
	if r.Channel != custos.ChannelSMS {
		return fmt.Errorf("sms webhook cannot deliver %q messages", r.Channel)
	}
	body, err := json.Marshal(WebhookBody{
		To:      r.To,
		Text:    r.Text,
		Purpose: r.Purpose,
		SentAt:  r.SentAt.UTC().Format(outboxTime),
	})
	if err != nil {
		return errors.New("sms webhook: encoding the message failed")
	}
	var last error
	tries := 0
	for tries < w.tries {
		if tries > 0 {
			if err := sleep(ctx, w.backoff<<(tries-1)); err != nil {
				break
			}
		}
		tries++
		var retry bool
		retry, last = w.post(ctx, body)
		if last == nil {
			return nil
		}
		if !retry || ctx.Err() != nil {
			break
		}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("sms webhook %s: %w (stopped after %d of %d tries: %w)", w, last, tries, w.tries, ctx.Err())
	}
	if tries > 1 {
		return fmt.Errorf("sms webhook %s: %w (gave up after %d tries)", w, last, tries)
	}
	return fmt.Errorf("sms webhook %s: %w", w, last)
}

// post makes one attempt. retry says whether another attempt may succeed.
func (w *Webhook) post(ctx context.Context, body []byte) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return false, errors.New("building the request failed")
	}
	ts := strconv.FormatInt(w.clock.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Custos")
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(w.secret, ts, body))
	resp, err := w.client.Do(req)
	if err != nil {
		// *url.Error repeats the URL, which may hold a token: keep only
		// what went wrong.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			return true, fmt.Errorf("no answer within %s", w.timeout)
		}
		return true, err
	}
	defer resp.Body.Close()
	// Read a little of the answer so the connection can be reused; the
	// body itself is never shown, since a gateway may echo the text.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		return false, nil
	case code >= 500, code == http.StatusTooManyRequests:
		return true, fmt.Errorf("gateway answered %d %s", code, http.StatusText(code))
	default:
		return false, fmt.Errorf("gateway answered %d %s", code, http.StatusText(code))
	}
}

// sleep waits d or until ctx ends, whichever is first.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Sign returns the X-Custos-Signature value for a body sent at timestamp
// (Unix seconds, as in X-Custos-Timestamp): "sha256=" and the hex
// HMAC-SHA256 of timestamp + "." + body, keyed with secret.
func Sign(secret []byte, timestamp string, body []byte) string {
	return "sha256=" + hex.EncodeToString(mac(secret, timestamp, body))
}

// Verify reports whether signature is the X-Custos-Signature of body sent
// at timestamp, comparing in constant time. An empty secret verifies
// nothing. A gateway should also refuse timestamps more than a few minutes
// from its own clock, which Verify leaves to it, so that a recorded
// request cannot be replayed later.
func Verify(secret []byte, timestamp string, body []byte, signature string) bool {
	if len(secret) == 0 {
		return false
	}
	h, ok := strings.CutPrefix(signature, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(h)
	if err != nil {
		return false
	}
	return hmac.Equal(got, mac(secret, timestamp, body))
}

// mac is the raw HMAC-SHA256 behind Sign and Verify.
func mac(secret []byte, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}
