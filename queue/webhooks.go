package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/custos/custos"
	"github.com/riverqueue/river"
)

// DefaultWebhookAttempts is how many times an event is posted to a hook
// before it is given up for that hook: with Backoff, about five hours.
const DefaultWebhookAttempts = 300

// kindWebhook is the job kind of a security-webhook delivery.
const kindWebhook = "webhook"

// channelWebhook labels webhook deliveries in custos_deliveries_total.
const channelWebhook = "webhook"

// WebhookConfig is what the queue needs to deliver security webhooks
// (Config.Webhooks); without it InsertWebhooksTx refuses every job.
type WebhookConfig struct {
	// Store finds a hook (its URL and sealed secret) when its job runs, and
	// keeps the delivery log.
	Store custos.WebhookStore
	// OpenSecret opens a hook's sealed secret (custos.Webhook.Secret).
	OpenSecret func(sealed []byte) ([]byte, error)
	// Post makes one attempt (notify.EventPoster.Post): the receiver's
	// status code (0 without an answer) and an error unless it was 2xx.
	Post func(ctx context.Context, url string, secret []byte, eventID, kind string, body []byte) (int, error)
	// MaxAttempts is how many tries an event gets per hook
	// (DefaultWebhookAttempts).
	MaxAttempts int
}

// webhookArgs are a webhook job's arguments: one event for one hook. The
// job is unique by hook and event, so an event is never queued twice for
// a hook. The body is kept as bytes, so every attempt posts (and signs)
// exactly the same body.
type webhookArgs struct {
	HookID    string `json:"hook_id" river:"unique"`
	EventID   string `json:"event_id" river:"unique"`
	EventKind string `json:"kind"`
	Body      []byte `json:"body"`
}

// Kind is River's name for the job.
func (webhookArgs) Kind() string { return kindWebhook }

// addWebhookWorker registers the webhook worker when the queue delivers
// webhooks, with its series in custos_deliveries_total.
func (q *Queue) addWebhookWorker(workers *river.Workers) error {
	if q.cfg.Webhooks == nil {
		return nil
	}
	wc := *q.cfg.Webhooks
	if wc.Store == nil || wc.OpenSecret == nil || wc.Post == nil {
		return errors.New("Config.Webhooks needs Store, OpenSecret and Post")
	}
	if wc.MaxAttempts <= 0 {
		wc.MaxAttempts = DefaultWebhookAttempts
	}
	q.cfg.Webhooks = &wc
	for _, o := range []string{outcomeSent, outcomeFailed, outcomeDiscarded} {
		q.metrics.deliveries.WithLabelValues(channelWebhook, o)
	}
	return river.AddWorkerSafely(workers, &webhookWorker{q: q})
}

// InsertWebhooksTx writes in tx one job posting ev to each hook of
// hookIDs: they exist if and only if tx commits. It is the webhook outbox
// app hands to sqlstore (DB.SetWebhookOutbox).
func (q *Queue) InsertWebhooksTx(ctx context.Context, tx *sql.Tx, hookIDs []string, ev custos.WebhookEvent) error {
	if len(hookIDs) == 0 {
		return nil
	}
	if q.cfg.Webhooks == nil {
		return fmt.Errorf("queue: a %s event for %d webhook(s) and no Config.Webhooks", ev.Kind, len(hookIDs))
	}
	body, err := ev.Body()
	if err != nil {
		return fmt.Errorf("queue: encoding a %s event: %w", ev.Kind, err)
	}
	opts := &river.InsertOpts{MaxAttempts: q.cfg.Webhooks.MaxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
	params := make([]river.InsertManyParams, len(hookIDs))
	for i, id := range hookIDs {
		params[i] = river.InsertManyParams{
			Args:       webhookArgs{HookID: id, EventID: ev.ID, EventKind: ev.Kind, Body: body},
			InsertOpts: opts,
		}
	}
	if _, err := q.client.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("queue: writing %d webhook job(s): %w", len(hookIDs), err)
	}
	return nil
}

// webhookWorker posts webhook jobs.
type webhookWorker struct {
	river.WorkerDefaults[webhookArgs]
	q *Queue
}

// Work makes one attempt to post the event to its hook and logs it in the
// hook's delivery log. A hook removed since is dropped; any failure is
// retried on the queue's schedule until the attempts run out, and the
// last one is logged as failed.
func (w *webhookWorker) Work(ctx context.Context, job *river.Job[webhookArgs]) error {
	q, wc, a := w.q, w.q.cfg.Webhooks, job.Args
	log := q.cfg.Logger.With("job_id", job.ID, "webhook_id", a.HookID, "event_id", a.EventID, "kind", a.EventKind,
		"attempt", job.Attempt, "max_attempts", job.MaxAttempts)
	last := job.Attempt >= job.MaxAttempts
	hook, err := wc.Store.WebhookByID(ctx, a.HookID)
	if custos.IsCode(err, custos.ENotFound) {
		log.InfoContext(ctx, "webhook delivery dropped: the webhook was removed")
		return river.JobCancel(errors.New("the webhook was removed"))
	}
	if err != nil {
		// The database is away: nothing to log the attempt in either.
		q.metrics.count(channelWebhook, outcomeFailed)
		log.WarnContext(ctx, "webhook delivery failed: reading the webhook", "err", err)
		return err
	}
	secret, err := wc.OpenSecret(hook.Secret)
	var status int
	start := custos.SystemClock{}.Now()
	if err != nil {
		// Another replica may hold the key (a key ring being rolled out).
		err = fmt.Errorf("the webhook's secret cannot be opened here: %w", err)
	} else {
		status, err = wc.Post(ctx, hook.URL, secret, a.EventID, a.EventKind, a.Body)
	}
	took := custos.SystemClock{}.Now().Sub(start)
	d := custos.WebhookDelivery{WebhookID: a.HookID, EventID: a.EventID, Kind: a.EventKind, Attempt: job.Attempt,
		At: q.cfg.Clock.Now(), StatusCode: status, Duration: took, Outcome: custos.WebhookDelivered}
	if err != nil {
		text := err.Error()
		if len(text) > maxErrorText {
			text = text[:maxErrorText] + "…"
		}
		d.Error, d.Outcome, err = text, custos.WebhookRetrying, errors.New(text)
		if last {
			d.Outcome = custos.WebhookFailed
		}
	}
	// The log is written with a context of its own: a delivery cut off by
	// a stop is still an attempt.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if rerr := wc.Store.RecordWebhookDelivery(rctx, d); rerr != nil && !custos.IsCode(rerr, custos.ENotFound) {
		log.WarnContext(ctx, "recording a webhook delivery failed", "err", rerr)
	}
	switch {
	case err == nil:
		q.metrics.count(channelWebhook, outcomeSent)
		return nil
	case last:
		q.metrics.count(channelWebhook, outcomeFailed)
		q.metrics.count(channelWebhook, outcomeDiscarded)
		log.ErrorContext(ctx, "webhook delivery given up: out of attempts", "status", status, "err", d.Error)
		return err
	}
	q.metrics.count(channelWebhook, outcomeFailed)
	log.WarnContext(ctx, "webhook delivery failed", "status", status, "err", d.Error,
		"retry_in", q.cfg.Backoff(job.Attempt).String())
	return err
}

// WebhooksWaiting counts the webhook jobs not yet delivered nor given up,
// in every process.
func (q *Queue) WebhooksWaiting(ctx context.Context) (int, error) {
	var n int
	err := q.cfg.DB.QueryRowContext(ctx,
		"SELECT COUNT(*) FROM river_job WHERE kind = '"+kindWebhook+"' AND state IN "+
			"('available', 'pending', 'retryable', 'running', 'scheduled')").Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("queue: counting webhook jobs: %w", err)
	}
	return n, nil
}

// DrainWebhooks waits until no webhook job is due or being delivered (by
// any process): each has been delivered, waits for its retry, or was
// given up. Tests call it before they read what receivers got.
func (q *Queue) DrainWebhooks(ctx context.Context) error {
	for {
		var n int
		err := q.cfg.DB.QueryRowContext(ctx,
			"SELECT COUNT(*) FROM river_job WHERE kind = '"+kindWebhook+"' AND state IN ('available', 'pending', 'running')").Scan(&n)
		if err != nil {
			return fmt.Errorf("queue: drain webhooks: %w", err)
		}
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("queue: drain webhooks: %w", ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}
