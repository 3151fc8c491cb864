-- Signed security webhooks: the hooks a platform registered and the log of
-- every attempt to post an event to one. Times are Unix milliseconds (UTC).
-- Identifiers use the C collation so ORDER BY id agrees with SQLite's byte
-- order.
--
-- events is the hook's webhook kinds, comma-separated and sorted ("lock,
-- login"); secret is the signing secret sealed under the key ring, never
-- the secret itself. The jobs that carry an event to a hook live in River's
-- own table; a delivery row records one attempt of one, and goes with its
-- hook. A hook's log is read newest first, and swept of old attempts.
CREATE TABLE webhooks (
    id         TEXT COLLATE "C" NOT NULL,
    url        TEXT    NOT NULL,
    events     TEXT    NOT NULL,
    secret     BYTEA   NOT NULL,
    created_at BIGINT  NOT NULL,
    CONSTRAINT webhooks_pkey PRIMARY KEY (id)
);

CREATE TABLE webhook_deliveries (
    seq         BIGINT  GENERATED ALWAYS AS IDENTITY,
    webhook_id  TEXT COLLATE "C" NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id    TEXT COLLATE "C" NOT NULL,
    kind        TEXT    NOT NULL,
    attempt     INTEGER NOT NULL,
    at          BIGINT  NOT NULL,
    status_code INTEGER NOT NULL,
    error       TEXT    NOT NULL,
    duration_ms BIGINT  NOT NULL,
    outcome     TEXT    NOT NULL,
    CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (seq),
    CONSTRAINT webhook_deliveries_outcome_check CHECK (outcome IN ('delivered', 'retrying', 'failed'))
);

CREATE INDEX webhook_deliveries_hook_idx ON webhook_deliveries (webhook_id, seq DESC);
-- The sweep deletes attempts older than the log is kept.
CREATE INDEX webhook_deliveries_at_idx ON webhook_deliveries (at);
