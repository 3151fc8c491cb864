package notify

import (
	"bytes"
	"context"
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

// Headers of a security-webhook request, besides HeaderTimestamp and
// HeaderSignature, which are signed and checked as for the SMS webhook.
const (
	// HeaderEventID carries the event's id: the same on every attempt.
	HeaderEventID = "X-Custos-Event-Id"
	// HeaderEventKind carries the webhook kind ("lock").
	HeaderEventKind = "X-Custos-Event-Kind"
	// HeaderIdempotencyKey repeats the event's id under the name receivers
	// often dedupe by.
	HeaderIdempotencyKey = "Idempotency-Key"
)

// DefaultEventTimeout bounds one security-webhook attempt.
const DefaultEventTimeout = 10 * time.Second

// CheckEventURL checks a security webhook's URL: https://, or http:// for
// a loopback host (localhost, 127.0.0.0/8, ::1), or any http:// host when
// allowHTTP; no fragment. Its errors show the URL's scheme and host only.
func CheckEventURL(rawURL string, allowHTTP bool) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return errors.New("malformed URL")
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return errors.New("the URL must start with https:// (or http://)")
	case u.Opaque != "" || u.Hostname() == "":
		return errors.New("the URL has no host (want https://host/path)")
	case u.Fragment != "" || strings.Contains(rawURL, "#"):
		return errors.New("the URL has a fragment")
	case u.Scheme == "http" && !allowHTTP && !isLoopback(u.Hostname()):
		return fmt.Errorf("http:// is allowed only for a loopback host (localhost, 127.0.0.0/8, ::1), not %q, unless --allow-http; use https://", u.Hostname())
	}
	return nil
}

// EventPoster posts signed security events to webhooks: one attempt per
// Post, retried by the caller (the delivery queue). It signs as Webhook
// does (Sign: HMAC-SHA256 of the timestamp, a dot and the body), does not
// follow redirects, and its errors hold neither the body nor the URL's
// path, query or user info. It is safe for concurrent use.
type EventPoster struct {
	client  *http.Client
	clock   custos.Clock
	timeout time.Duration
}

// NewEventPoster returns an EventPoster. client, when not nil, is copied
// and used (for example to trust a test CA); nil means Go's default
// transport. clock stamps X-Custos-Timestamp (nil: custos.SystemClock).
func NewEventPoster(client *http.Client, clock custos.Clock) *EventPoster {
	var c http.Client
	if client != nil {
		c = *client
	}
	// The URL is registered, not discovered: a redirect could point the
	// signed event anywhere.
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if clock == nil {
		clock = custos.SystemClock{}
	}
	return &EventPoster{client: &c, clock: clock, timeout: DefaultEventTimeout}
}

// SetTimeout changes the time one attempt may take. Call it before the
// first Post.
func (p *EventPoster) SetTimeout(d time.Duration) {
	if d > 0 {
		p.timeout = d
	}
}

// Post makes one attempt to post body, the event eventID of kind, to
// rawURL, signed with secret. It returns the receiver's status code (0
// when there was no answer) and an error unless the answer was 2xx.
func (p *EventPoster) Post(ctx context.Context, rawURL string, secret []byte, eventID, kind string, body []byte) (int, error) {
	if len(secret) == 0 {
		return 0, errors.New("the webhook has no secret")
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return 0, errors.New("building the request failed")
	}
	ts := strconv.FormatInt(p.clock.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Custos")
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(secret, ts, body))
	req.Header.Set(HeaderEventID, eventID)
	req.Header.Set(HeaderIdempotencyKey, eventID)
	req.Header.Set(HeaderEventKind, kind)
	resp, err := p.client.Do(req)
	if err != nil {
		var ue *url.Error // repeats the URL, which may hold a token
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			return 0, fmt.Errorf("no answer within %s", p.timeout)
		}
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("the receiver answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return resp.StatusCode, nil
}
