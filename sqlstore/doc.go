// Package sqlstore is the database adapter: it implements custos.Store on an
// SQLite file (the embedded default, through the pure-Go modernc.org/sqlite
// driver) and on PostgreSQL (through pgx), with one set of queries written
// with ? placeholders and rebound to $n for PostgreSQL.
//
// It owns the schema: per-dialect .sql migrations embedded in the binary and
// applied by (*DB).Migrate, never by Open. On PostgreSQL, Migrate holds an
// advisory lock so many replicas can start at once.
//
// Times are stored as Unix milliseconds (UTC) so both databases agree;
// optional times (Session.VerifiedUntil, Challenge.UsedAt, Counter.Start and
// LockedUntil, Device.ConfirmedAt and LastUsedAt, a recovery code's use) are
// NULL when zero. Counters that must be exact (challenge and flow attempts,
// one-time use of challenges, captchas, recovery codes and TOTP time steps,
// the binding of a hardware token) and flow transitions (a compare-and-swap
// on the flow's state) change in one atomic statement whose WHERE clause
// holds the rule's condition, so concurrent callers on any replica
// serialise on the row; rate-limit counters, whose rule lives in Go, change
// in one transaction holding the counter's row lock (UpdateCounter). The
// limit of accounts per phone number is counted and applied in one
// transaction that, on PostgreSQL, holds an advisory lock on the number
// (SetPhone).
//
// A change's audit event also writes, in its transaction, one job per
// security webhook subscribed to the event's kind, through the webhook
// outbox (DB.SetWebhookOutbox, webhooks.go); the hooks are read in that
// transaction.
//
// On SQLite all writes go through one connection (transactions begin
// IMMEDIATE) and reads through a separate pool, so concurrent writers queue
// instead of failing with "database is locked".
//
// The package holds no business rules: it stores and fetches, and reports
// *custos.Error codes only for the outcomes the custos.Store interfaces
// document (not found, uniqueness, challenge state). Any other failure is a
// plain wrapped error, which the transports answer with a 500.
//
// It imports only the root package custos, the standard library and the two
// database drivers. Its conformance suite lives in sqlstore/storetest.
package sqlstore
