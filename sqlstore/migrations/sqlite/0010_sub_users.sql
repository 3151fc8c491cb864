-- Sub-users (R9): a root account's team members. A sub-user is an account
-- of kind 'sub_user' (its email the stand-in 'sub-user:' || id, never an
-- address) and a row of sub_users holding what its root sets. Times are
-- Unix milliseconds (UTC); optional times are NULL when unset.
--
-- A user name is unique within its root (the constraint, which CreateSubUser
-- reports as a conflict), and its index serves ListSubUsers: a root's
-- sub-users by user name, paged by keyset (user_name > the last one seen).
-- Both references cascade: a root that goes takes its sub-users' settings
-- with it, and an account that goes takes its own.
CREATE TABLE sub_users (
    account_id           TEXT    NOT NULL PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    root_account_id      TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_name            TEXT    NOT NULL,
    console_login        INTEGER NOT NULL,
    must_bind_mfa        INTEGER NOT NULL,
    must_change_password INTEGER NOT NULL,
    password_changed_at  INTEGER,
    created_at           INTEGER NOT NULL,
    CONSTRAINT sub_users_user_name_key UNIQUE (root_account_id, user_name)
) STRICT;

-- A root's rules for its sub-users' passwords; no row means the defaults
-- (every rule zero). max_age_ms is the password's lifetime in milliseconds,
-- 0 for none.
CREATE TABLE password_rules (
    root_account_id TEXT    NOT NULL PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    min_length      INTEGER NOT NULL,
    classes         INTEGER NOT NULL,
    history         INTEGER NOT NULL,
    retry_limit     INTEGER NOT NULL,
    max_age_ms      INTEGER NOT NULL
) STRICT;

-- An account's past password hashes, each remembered when a sub-user's
-- password changes (at: when it was replaced). seq orders them (newest
-- last) whatever their times; the change that adds one deletes all but the
-- newest few of the account, in its transaction.
CREATE TABLE password_history (
    seq        INTEGER NOT NULL PRIMARY KEY,
    account_id TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    hash       TEXT    NOT NULL,
    at         INTEGER NOT NULL
) STRICT;

CREATE INDEX password_history_account_idx ON password_history (account_id, seq DESC);
