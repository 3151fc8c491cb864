-- The initial schema. Times are Unix milliseconds (UTC); optional times are
-- NULL when unset. Identifiers use the C collation so ORDER BY id agrees with
-- SQLite's byte order.

CREATE TABLE accounts (
    id            TEXT COLLATE "C" NOT NULL,
    kind          TEXT   NOT NULL,
    email         TEXT   NOT NULL,
    password_hash TEXT   NOT NULL,
    created_at    BIGINT NOT NULL,
    CONSTRAINT accounts_pkey PRIMARY KEY (id),
    CONSTRAINT accounts_email_key UNIQUE (email)
);

CREATE TABLE sessions (
    id               TEXT COLLATE "C" NOT NULL,
    token_hash       BYTEA   NOT NULL,
    account_id       TEXT COLLATE "C" NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at       BIGINT  NOT NULL,
    authenticated_at BIGINT  NOT NULL,
    last_seen_at     BIGINT  NOT NULL,
    expires_at       BIGINT  NOT NULL,
    second_factor    BOOLEAN NOT NULL,
    verified_until   BIGINT,
    remote_addr      TEXT    NOT NULL,
    user_agent       TEXT    NOT NULL,
    CONSTRAINT sessions_pkey PRIMARY KEY (id),
    CONSTRAINT sessions_token_hash_key UNIQUE (token_hash)
);

CREATE INDEX sessions_account_idx ON sessions (account_id, created_at DESC, id DESC);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);
CREATE INDEX sessions_last_seen_idx ON sessions (last_seen_at);

CREATE TABLE challenges (
    id           TEXT COLLATE "C" NOT NULL,
    purpose      TEXT    NOT NULL,
    target       TEXT    NOT NULL,
    account_id   TEXT COLLATE "C" NOT NULL,
    code_hash    BYTEA   NOT NULL,
    data         BYTEA,
    attempts     INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL,
    used_at      BIGINT,
    CONSTRAINT challenges_pkey PRIMARY KEY (id)
);

CREATE INDEX challenges_expires_idx ON challenges (expires_at);

CREATE TABLE audit_events (
    seq         BIGINT  GENERATED ALWAYS AS IDENTITY,
    id          TEXT COLLATE "C" NOT NULL,
    at          BIGINT NOT NULL,
    account_id  TEXT COLLATE "C" NOT NULL,
    type        TEXT   NOT NULL,
    identifier  TEXT   NOT NULL,
    remote_addr TEXT   NOT NULL,
    user_agent  TEXT   NOT NULL,
    detail      TEXT,
    CONSTRAINT audit_events_pkey PRIMARY KEY (id)
);

CREATE INDEX audit_events_account_idx ON audit_events (account_id, at DESC, seq DESC);
