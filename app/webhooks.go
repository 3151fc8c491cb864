package app

import (
	"context"
	"fmt"
	"io"
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

// AddWebhook checks nw and registers it, its secret sealed under keys,
// and returns the hook (whose Secret is sealed).
func AddWebhook(ctx context.Context, store custos.WebhookStore, keys *keyring.Ring, rnd io.Reader, clock custos.Clock, nw NewWebhook) (custos.Webhook, error) {
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
	if err := store.CreateWebhook(ctx, h); err != nil {
		return custos.Webhook{}, err
	}
	return h, nil
}
