-- Rate-limit counters and captchas, kept in the database so every replica
-- sees the same ones. Times are Unix milliseconds (UTC); optional times are
-- NULL when unset.

CREATE TABLE counters (
    key          TEXT COLLATE "C" NOT NULL,
    start        BIGINT,
    failures     INTEGER NOT NULL,
    locked_until BIGINT,
    CONSTRAINT counters_pkey PRIMARY KEY (key)
);

CREATE TABLE captchas (
    id         TEXT COLLATE "C" NOT NULL,
    digits     BYTEA  NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    CONSTRAINT captchas_pkey PRIMARY KEY (id)
);

CREATE INDEX captchas_expires_idx ON captchas (expires_at);
