-- Real-name verification, uploaded files and support staff. Times are Unix
-- milliseconds (UTC); optional times are NULL when unset. Identifiers use
-- the C collation so ORDER BY id agrees with SQLite's byte order.
--
-- A submission is pending until a decision moves it, by a compare-and-swap
-- on state (DecideIdentitySubmission), to verified or rejected; a verified
-- one becomes superseded when a later one of the account is verified.
-- sealed is the declared record sealed with the key ring: the store never
-- sees it in the clear. An account has at most one pending submission (the
-- partial unique index); the review queue reads pending ones oldest first,
-- and the purge of files reads decided ones whose files are still kept.
CREATE TABLE identity_submissions (
    id              TEXT COLLATE "C" NOT NULL,
    account_id      TEXT COLLATE "C" NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind            TEXT   NOT NULL,
    state           TEXT   NOT NULL,
    sealed          BYTEA  NOT NULL,
    identity_key    TEXT COLLATE "C" NOT NULL,
    last4           TEXT   NOT NULL,
    reason          TEXT   NOT NULL DEFAULT '',
    reviewer_id     TEXT COLLATE "C" NOT NULL DEFAULT '',
    submitted_at    BIGINT NOT NULL,
    decided_at      BIGINT,
    files_purged_at BIGINT,
    CONSTRAINT identity_submissions_pkey PRIMARY KEY (id),
    CONSTRAINT identity_submissions_state_check
        CHECK (state IN ('pending', 'verified', 'rejected', 'superseded')),
    CONSTRAINT identity_submissions_decided_check CHECK ((state = 'pending') = (decided_at IS NULL))
);

CREATE INDEX identity_submissions_account_idx ON identity_submissions (account_id, submitted_at DESC, id DESC);
CREATE UNIQUE INDEX identity_submissions_pending_key ON identity_submissions (account_id) WHERE state = 'pending';
CREATE INDEX identity_submissions_queue_idx ON identity_submissions (submitted_at, id) WHERE state = 'pending';
CREATE INDEX identity_submissions_purge_idx ON identity_submissions (decided_at)
    WHERE decided_at IS NOT NULL AND files_purged_at IS NULL;

-- An account's claim on an identity while its submission is pending or
-- verified, under the identity's keyed hash. The cap counts the distinct
-- accounts claiming any of an identity's keys (one per key of the ring, so
-- claims made before a rotation still count); the primary key serves both
-- that count and the check for the account's own claim. The count runs
-- under a transaction-scoped advisory lock on each key
-- (CreateIdentitySubmission), which the release of a claim takes too.
CREATE TABLE identity_claims (
    identity_key TEXT COLLATE "C" NOT NULL,
    account_id   TEXT COLLATE "C" NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    CONSTRAINT identity_claims_pkey PRIMARY KEY (identity_key, account_id)
);

CREATE INDEX identity_claims_account_idx ON identity_claims (account_id);

-- An uploaded file, its content sealed with the key ring. owner_id is the
-- submission (or, later, the ticket) it came with, not a foreign key: the
-- owners live in several tables. Files are read by owner.
CREATE TABLE blobs (
    id           TEXT COLLATE "C" NOT NULL,
    owner_id     TEXT COLLATE "C" NOT NULL,
    field        TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    sealed       BYTEA   NOT NULL,
    created_at   BIGINT  NOT NULL,
    CONSTRAINT blobs_pkey PRIMARY KEY (id)
);

CREATE INDEX blobs_owner_idx ON blobs (owner_id, created_at, id);

-- Support staff: not accounts. password_hash is '' and totp_secret NULL
-- while invited; totp_last_step only grows (UseStaffTOTPStep).
CREATE TABLE staff (
    id             TEXT COLLATE "C" NOT NULL,
    email          TEXT   NOT NULL,
    role           TEXT   NOT NULL,
    state          TEXT   NOT NULL,
    password_hash  TEXT   NOT NULL,
    totp_secret    BYTEA,
    totp_last_step BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    enrolled_at    BIGINT,
    CONSTRAINT staff_pkey PRIMARY KEY (id),
    CONSTRAINT staff_email_key UNIQUE (email),
    CONSTRAINT staff_state_check CHECK (state IN ('invited', 'active', 'disabled'))
);

-- A signed-in staff member; only the token's hash is kept. Disabling a
-- member deletes its sessions by staff_id; the sweeper reads them by
-- expires_at and last_seen_at.
CREATE TABLE staff_sessions (
    id           TEXT COLLATE "C" NOT NULL,
    staff_id     TEXT COLLATE "C" NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    token_hash   BYTEA  NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    remote_addr  TEXT   NOT NULL,
    user_agent   TEXT   NOT NULL,
    CONSTRAINT staff_sessions_pkey PRIMARY KEY (id),
    CONSTRAINT staff_sessions_token_hash_key UNIQUE (token_hash)
);

CREATE INDEX staff_sessions_staff_idx ON staff_sessions (staff_id);
CREATE INDEX staff_sessions_expires_idx ON staff_sessions (expires_at);
CREATE INDEX staff_sessions_last_seen_idx ON staff_sessions (last_seen_at);

-- The staff audit trail, read newest first (by at, then seq: the order of
-- writing), for everyone, one member or one target. staff_id is '' for the
-- command line and is no foreign key: the trail outlives the staff. detail
-- is a JSON object, NULL when empty.
CREATE TABLE staff_events (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY,
    id          TEXT COLLATE "C" NOT NULL,
    at          BIGINT NOT NULL,
    staff_id    TEXT COLLATE "C" NOT NULL,
    action      TEXT   NOT NULL,
    target      TEXT COLLATE "C" NOT NULL,
    remote_addr TEXT   NOT NULL,
    user_agent  TEXT   NOT NULL,
    detail      TEXT,
    CONSTRAINT staff_events_pkey PRIMARY KEY (id)
);

CREATE INDEX staff_events_at_idx ON staff_events (at DESC, seq DESC);
CREATE INDEX staff_events_staff_idx ON staff_events (staff_id, at DESC, seq DESC);
CREATE INDEX staff_events_target_idx ON staff_events (target, at DESC, seq DESC);

-- The trail is append-only: the database itself refuses to change, delete
-- or truncate an entry, whoever asks.
CREATE FUNCTION staff_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'staff_events is append-only (% refused)', TG_OP;
END;
$$;

CREATE TRIGGER staff_events_no_change BEFORE UPDATE OR DELETE ON staff_events
    FOR EACH ROW EXECUTE FUNCTION staff_events_append_only();

CREATE TRIGGER staff_events_no_truncate BEFORE TRUNCATE ON staff_events
    FOR EACH STATEMENT EXECUTE FUNCTION staff_events_append_only();
