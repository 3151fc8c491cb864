-- Real-name verification, uploaded files and support staff. Times are Unix
-- milliseconds (UTC); optional times are NULL when unset.
--
-- A submission is pending until a decision moves it, by a compare-and-swap
-- on state (DecideIdentitySubmission), to verified or rejected; a verified
-- one becomes superseded when a later one of the account is verified.
-- sealed is the declared record sealed with the key ring: the store never
-- sees it in the clear. An account has at most one pending submission (the
-- partial unique index); the review queue reads pending ones oldest first,
-- and the purge of files reads decided ones whose files are still kept.
CREATE TABLE identity_submissions (
    id              TEXT    NOT NULL PRIMARY KEY,
    account_id      TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind            TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    sealed          BLOB    NOT NULL,
    identity_key    TEXT    NOT NULL,
    last4           TEXT    NOT NULL,
    reason          TEXT    NOT NULL DEFAULT '',
    reviewer_id     TEXT    NOT NULL DEFAULT '',
    submitted_at    INTEGER NOT NULL,
    decided_at      INTEGER,
    files_purged_at INTEGER,
    CONSTRAINT identity_submissions_state_check
        CHECK (state IN ('pending', 'verified', 'rejected', 'superseded')),
    CONSTRAINT identity_submissions_decided_check CHECK ((state = 'pending') = (decided_at IS NULL))
) STRICT;

CREATE INDEX identity_submissions_account_idx ON identity_submissions (account_id, submitted_at DESC, id DESC);
CREATE UNIQUE INDEX identity_submissions_pending_key ON identity_submissions (account_id) WHERE state = 'pending';
CREATE INDEX identity_submissions_queue_idx ON identity_submissions (submitted_at, id) WHERE state = 'pending';
CREATE INDEX identity_submissions_purge_idx ON identity_submissions (decided_at)
    WHERE decided_at IS NOT NULL AND files_purged_at IS NULL;

-- An account's claim on an identity while its submission is pending or
-- verified, under the identity's keyed hash. The cap counts the distinct
-- accounts claiming any of an identity's keys (one per key of the ring, so
-- claims made before a rotation still count); the primary key serves both
-- that count and the check for the account's own claim.
CREATE TABLE identity_claims (
    identity_key TEXT NOT NULL,
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (identity_key, account_id)
) STRICT;

CREATE INDEX identity_claims_account_idx ON identity_claims (account_id);

-- An uploaded file, its content sealed with the key ring. owner_id is the
-- submission (or, later, the ticket) it came with, not a foreign key: the
-- owners live in several tables. Files are read by owner.
CREATE TABLE blobs (
    id           TEXT    NOT NULL PRIMARY KEY,
    owner_id     TEXT    NOT NULL,
    field        TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    sealed       BLOB    NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX blobs_owner_idx ON blobs (owner_id, created_at, id);

-- Support staff: not accounts. password_hash is '' and totp_secret NULL
-- while invited; totp_last_step only grows (UseStaffTOTPStep).
CREATE TABLE staff (
    id             TEXT    NOT NULL PRIMARY KEY,
    email          TEXT    NOT NULL,
    role           TEXT    NOT NULL,
    state          TEXT    NOT NULL,
    password_hash  TEXT    NOT NULL,
    totp_secret    BLOB,
    totp_last_step INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    enrolled_at    INTEGER,
    CONSTRAINT staff_email_key UNIQUE (email),
    CONSTRAINT staff_state_check CHECK (state IN ('invited', 'active', 'disabled'))
) STRICT;

-- A signed-in staff member; only the token's hash is kept. Disabling a
-- member deletes its sessions by staff_id; the sweeper reads them by
-- expires_at and last_seen_at.
CREATE TABLE staff_sessions (
    id           TEXT    NOT NULL PRIMARY KEY,
    staff_id     TEXT    NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    token_hash   BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    remote_addr  TEXT    NOT NULL,
    user_agent   TEXT    NOT NULL,
    CONSTRAINT staff_sessions_token_hash_key UNIQUE (token_hash)
) STRICT;

CREATE INDEX staff_sessions_staff_idx ON staff_sessions (staff_id);
CREATE INDEX staff_sessions_expires_idx ON staff_sessions (expires_at);
CREATE INDEX staff_sessions_last_seen_idx ON staff_sessions (last_seen_at);

-- The staff audit trail, read newest first (by at, then rowid: the order
-- of writing), for everyone, one member or one target. staff_id is '' for
-- the command line and is no foreign key: the trail outlives the staff.
-- detail is a JSON object, NULL when empty.
CREATE TABLE staff_events (
    id          TEXT    NOT NULL PRIMARY KEY,
    at          INTEGER NOT NULL,
    staff_id    TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    target      TEXT    NOT NULL,
    remote_addr TEXT    NOT NULL,
    user_agent  TEXT    NOT NULL,
    detail      TEXT
) STRICT;

CREATE INDEX staff_events_at_idx ON staff_events (at DESC);
CREATE INDEX staff_events_staff_idx ON staff_events (staff_id, at DESC);
CREATE INDEX staff_events_target_idx ON staff_events (target, at DESC);

-- The trail is append-only: the database itself refuses to change or
-- delete an entry, whoever asks.
CREATE TRIGGER staff_events_no_update BEFORE UPDATE ON staff_events
BEGIN
    SELECT RAISE(ABORT, 'staff_events is append-only');
END;

CREATE TRIGGER staff_events_no_delete BEFORE DELETE ON staff_events
BEGIN
    SELECT RAISE(ABORT, 'staff_events is append-only');
END;
