package app

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/keyring"
	"github.com/custos/custos/notify"
	"github.com/custos/custos/queue"
	"github.com/custos/custos/sqlstore"
)

// WebhookLogKept is how long a webhook's delivery log keeps an attempt;
// serve sweeps older ones.
const WebhookLogKept = 30 * 24 * time.Hour

// webhookAAD binds a sealed webhook secret to its use.
var webhookAAD = []byte("custos security webhook secret")

// webhookDelivery is how the queue posts security webhooks: the hooks
// from the store, their secrets opened with the key ring, signed and
// posted by notify.
func webhookDelivery(cfg Config, store *sqlstore.DB) *queue.WebhookConfig {
	poster := notify.NewEventPoster(cfg.WebhookClient, cfg.Clock)
	return &queue.WebhookConfig{
		Store:       store,
		OpenSecret:  func(b []byte) ([]byte, error) { return cfg.Keys.Open(b, webhookAAD) },
		Post:        poster.Post,
		MaxAttempts: cfg.WebhookAttempts,
	}
}

// NewWebhook is a security webhook to register with AddWebhook.
type NewWebhook struct {
	URL    string
	Secret []byte   // the signing secret, in the clear; at least notify.MinWebhookSecret bytes
	Events []string // webhook kinds (custos.ParseWebhookKinds)
	// AllowHTTP accepts an http:// URL whose host is not loopback
	// (notify.CheckEventURL).
	AllowHTTP bool
}

// The staff audit trail's actions for a security webhook added or removed.
const (
	ActionWebhookAdd    = "webhook.add"
	ActionWebhookRemove = "webhook.remove"
)

// AddWebhook checks nw and registers it, its secret sealed under keys,
// with its entry in the staff audit trail (ActionWebhookAdd, by: where it
// was done from), and returns the hook (whose Secret is sealed). A hook
// receives every subscribed account's security events, so who added one,
// and when, is kept as a staff action is.
func AddWebhook(ctx context.Context, store custos.WebhookStore, keys *keyring.Ring, rnd io.Reader, clock custos.Clock, by custos.Client, nw NewWebhook) (custos.Webhook, error) {
	if err := notify.CheckEventURL(nw.URL, nw.AllowHTTP); err != nil {
		return custos.Webhook{}, err
	}
	if len(nw.Secret) < notify.MinWebhookSecret {
		return custos.Webhook{}, fmt.Errorf("the secret must be at least %d bytes", notify.MinWebhookSecret)
	}
	events, bad, ok := custos.ParseWebhookKinds(strings.Join(nw.Events, ","))
	if !ok {
		return custos.Webhook{}, fmt.Errorf("unknown event %q: want some of %s, or all", bad, strings.Join(custos.WebhookKinds, ","))
	}
	id, err := custos.NewID(rnd, "whk")
	if err != nil {
		return custos.Webhook{}, err
	}
	sealed, err := keys.Seal(rnd, nw.Secret, webhookAAD)
	if err != nil {
		return custos.Webhook{}, fmt.Errorf("sealing the secret: %w", err)
	}
	h := custos.Webhook{ID: id, URL: nw.URL, Events: events, Secret: sealed, CreatedAt: clock.Now()}
	ev, err := webhookEvent(rnd, h.CreatedAt, by, ActionWebhookAdd, h)
	if err != nil {
		return custos.Webhook{}, err
	}
	if err := store.CreateWebhook(ctx, h, ev); err != nil {
		return custos.Webhook{}, err
	}
	return h, nil
}

// RemoveWebhook removes the hook id and its delivery log, with its entry
// in the staff audit trail (ActionWebhookRemove); ENotFound if there is
// none.
func RemoveWebhook(ctx context.Context, store custos.WebhookStore, rnd io.Reader, clock custos.Clock, by custos.Client, id string) error {
	h, err := store.WebhookByID(ctx, id)
	if err != nil {
		return err
	}
	ev, err := webhookEvent(rnd, clock.Now(), by, ActionWebhookRemove, h)
	if err != nil {
		return err
	}
	return store.DeleteWebhook(ctx, h.ID, ev)
}

// webhookEvent is the staff audit trail's entry for action on the hook h,
// done from by (the command line has no staff member): the hook's id, its
// URL as lists show it and its kinds.
func webhookEvent(rnd io.Reader, at time.Time, by custos.Client, action string, h custos.Webhook) (custos.StaffEvent, error) {
	evID, err := custos.NewID(rnd, "sev")
	if err != nil {
		return custos.StaffEvent{}, err
	}
	return custos.StaffEvent{ID: evID, At: at, Action: action, Target: h.ID,
		RemoteAddr: by.Addr, UserAgent: by.UserAgent,
		Detail: map[string]string{"url": WebhookDisplayURL(h.URL), "events": strings.Join(h.Events, ",")}}, nil
}

// WebhookDisplayURL is a hook's URL without its query or user info, which
// may hold a receiver's token: what lists and the audit trail show.
func WebhookDisplayURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(malformed)"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}
