// Package queue delivers outgoing messages (custos.Message) through durable
// jobs on the database the store uses, so that no request waits for email
// or SMS delivery and a message is never lost while a mail server or an SMS
// gateway is down.
//
// A message is written as a River job of kind "deliver" in the transaction
// of the change that causes it (InsertTx, which app hands to sqlstore as
// its outbox), or on its own (Send, the custos.Notifier for messages that
// ride on no change). Workers in every replica take due jobs, each job by
// one worker at a time, and call Config.Deliver; a failed attempt is
// retried with a short capped backoff (Backoff) for about a day. A code
// that is still undelivered when it stops working is dropped, not sent.
// River's own tables are migrated at start (Migrate), under the caller's
// lock so that replicas starting together take turns.
//
// The job keeps the message sealed (Config.Seal): its address and its code
// never rest in the clear in the job table, and nothing here writes a code
// into a log line, an error or a metric. Failed attempts are counted in
// custos_deliveries_total and logged at warn with the channel, the
// purpose, the attempt and a masked address.
//
// Security webhooks ride the same way (webhooks.go): a change whose audit
// event has a webhook kind writes, in its transaction (InsertWebhooksTx,
// the store's webhook outbox), one job of kind "webhook" per subscribed
// hook, unique by hook and event. The worker reads the hook, opens its
// secret (Config.Webhooks.OpenSecret), makes one signed attempt
// (Config.Webhooks.Post, notify.EventPoster) and appends it to the hook's
// delivery log; failures are retried on Backoff up to
// Config.Webhooks.MaxAttempts, the last one logged as failed.
//
// It is an adapter: it imports the standard library, the root package,
// River (github.com/riverqueue/river, its database/sql and SQLite drivers)
// and the Prometheus client, and is imported only by app (and tests).
package queue
