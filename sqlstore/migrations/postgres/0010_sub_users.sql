-- Sub-users (R9): a root account's team members. A sub-user is an account
-- of kind 'sub_user' (its email the stand-in 'sub-user:' || id, never an
-- address) and a row of sub_users holding what its root sets. Times are
-- Unix milliseconds (UTC); optional times are NULL when unset. Identifiers
-- and user names use the C collation so ORDER BY, and the keyset paging of
-- ListSubUsers, agree with SQLite's byte order.
--
-- A user name is unique within its root (the constraint, which CreateSubUser
-- reports as a conflict), and its index serves ListSubUsers: a root's
-- sub-users by user name, paged by keyset (user_name > the last one seen).
-- Both references cascade: a root that goes takes its sub-users' settings
-- with it, and an account that goes takes its own.
CREATE TABLE sub_users (
    account_id           TEXT COLLATE "C" NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    root_account_id      TEXT COLLATE "C" NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_name            TEXT COLLATE "C" NOT NULL,
    console_login        BOOLEAN NOT NULL,
    must_bind_mfa        BOOLEAN NOT NULL,
    must_change_password BOOLEAN NOT NULL,
    password_changed_at  BIGINT,
    created_at           BIGINT  NOT NULL,
    CONSTRAINT sub_users_pkey PRIMARY KEY (account_id),
    CONSTRAINT sub_users_user_name_key UNIQUE (root_account_id, user_name)
);

-- A root's rules for its sub-users' passwords; no row means the defaults
-- (every rule zero). max_age_ms is the password's lifetime in milliseconds,
-- 0 for none.
CREATE TABLE password_rules (
    root_account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    min_length      INTEGER NOT NULL,
    classes         INTEGER NOT NULL,
    history         INTEGER NOT NULL,
    retry_limit     INTEGER NOT NULL,
    max_age_ms      BIGINT  NOT NULL,
    CONSTRAINT password_rules_pkey PRIMARY KEY (root_account_id)
);

-- An account's past password hashes, each remembered when a sub-user's
-- password changes (at: when it was replaced). seq orders them (newest
-- last) whatever their times; the change that adds one deletes all but the
-- newest few of the account, in its transaction, which holds the account's
-- row lock.
CREATE TABLE password_history (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    hash       TEXT   NOT NULL,
    at         BIGINT NOT NULL,
    CONSTRAINT password_history_pkey PRIMARY KEY (seq)
);

CREATE INDEX password_history_account_idx ON password_history (account_id, seq DESC);
