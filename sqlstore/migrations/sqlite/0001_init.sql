-- The initial schema. Times are Unix milliseconds (UTC); optional times are
-- NULL when unset. Tables are STRICT so a value of the wrong type is an error.

CREATE TABLE accounts (
    id            TEXT    NOT NULL PRIMARY KEY,
    kind          TEXT    NOT NULL,
    email         TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    CONSTRAINT accounts_email_key UNIQUE (email)
) STRICT;

CREATE TABLE sessions (
    id               TEXT    NOT NULL PRIMARY KEY,
    token_hash       BLOB    NOT NULL,
    account_id       TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at       INTEGER NOT NULL,
    authenticated_at INTEGER NOT NULL,
    last_seen_at     INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    second_factor    INTEGER NOT NULL,
    verified_until   INTEGER,
    remote_addr      TEXT    NOT NULL,
    user_agent       TEXT    NOT NULL,
    CONSTRAINT sessions_token_hash_key UNIQUE (token_hash)
) STRICT;

CREATE INDEX sessions_account_idx ON sessions (account_id, created_at DESC, id DESC);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);
CREATE INDEX sessions_last_seen_idx ON sessions (last_seen_at);

CREATE TABLE challenges (
    id           TEXT    NOT NULL PRIMARY KEY,
    purpose      TEXT    NOT NULL,
    target       TEXT    NOT NULL,
    account_id   TEXT    NOT NULL,
    code_hash    BLOB    NOT NULL,
    data         BLOB,
    attempts     INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER
) STRICT;

CREATE INDEX challenges_expires_idx ON challenges (expires_at);

CREATE TABLE audit_events (
    id          TEXT    NOT NULL PRIMARY KEY,
    at          INTEGER NOT NULL,
    account_id  TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    identifier  TEXT    NOT NULL,
    remote_addr TEXT    NOT NULL,
    user_agent  TEXT    NOT NULL,
    detail      TEXT
) STRICT;

CREATE INDEX audit_events_account_idx ON audit_events (account_id, at DESC);
