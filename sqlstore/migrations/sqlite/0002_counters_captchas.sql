-- Rate-limit counters and captchas, kept in the database so every replica
-- sees the same ones. Times are Unix milliseconds (UTC); optional times are
-- NULL when unset.

CREATE TABLE counters (
    key          TEXT    NOT NULL PRIMARY KEY,
    start        INTEGER,
    failures     INTEGER NOT NULL,
    locked_until INTEGER
) STRICT;

CREATE TABLE captchas (
    id         TEXT    NOT NULL PRIMARY KEY,
    digits     BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX captchas_expires_idx ON captchas (expires_at);
