-- Signed security webhooks: the hooks a platform registered and the log of
-- every attempt to post an event to one. Times are Unix milliseconds (UTC).
--
-- events is the hook's webhook kinds, comma-separated and sorted ("lock,
-- login"); secret is the signing secret sealed under the key ring, never
-- the secret itself. The jobs that carry an event to a hook live in River's
-- own table; a delivery row records one attempt of one, and goes with its
-- hook. A hook's log is read newest first, and swept of old attempts.
CREATE TABLE webhooks (
    id         TEXT    NOT NULL PRIMARY KEY,
    url        TEXT    NOT NULL,
    events     TEXT    NOT NULL,
    secret     BLOB    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE webhook_deliveries (
    seq         INTEGER NOT NULL PRIMARY KEY,
    webhook_id  TEXT    NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id    TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    attempt     INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    status_code INTEGER NOT NULL,
    error       TEXT    NOT NULL,
    duration_ms INTEGER NOT NULL,
    outcome     TEXT    NOT NULL,
    CONSTRAINT webhook_deliveries_outcome_check CHECK (outcome IN ('delivered', 'retrying', 'failed'))
) STRICT;

CREATE INDEX webhook_deliveries_hook_idx ON webhook_deliveries (webhook_id, seq DESC);
-- The sweep deletes attempts older than the log is kept.
CREATE INDEX webhook_deliveries_at_idx ON webhook_deliveries (at);
