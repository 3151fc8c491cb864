-- Flows and trusted devices leave the challenges table, which stays the
-- table of one-time codes. Times are Unix milliseconds (UTC).
--
-- A flow is one typed state machine (sign-up, login, verification, contact
-- change, retrieval, reset, undo, WebAuthn ceremony): its row changes only
-- by a compare-and-swap on state (AdvanceFlow) and by counted guesses
-- (CountFlowAttempt). account_id is '' while the flow has no account. No
-- query reads flows by account, so account_id has no index; the sweeper
-- reads them by expires_at.
CREATE TABLE flows (
    id           TEXT COLLATE "C" NOT NULL,
    kind         TEXT    NOT NULL,
    account_id   TEXT COLLATE "C" NOT NULL DEFAULT '',
    state        TEXT    NOT NULL,
    data         BYTEA   NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 0,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL,
    CONSTRAINT flows_pkey PRIMARY KEY (id)
);

CREATE INDEX flows_expires_idx ON flows (expires_at);

-- A browser trusted after a second factor; id is SecretID of its cookie's
-- token. ResetPassword and DeleteAccountSessions forget an account's
-- devices by account_id; the sweeper reads them by expires_at.
CREATE TABLE trusted_devices (
    id         TEXT COLLATE "C" NOT NULL,
    account_id TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    CONSTRAINT trusted_devices_pkey PRIMARY KEY (id)
);

CREATE INDEX trusted_devices_account_idx ON trusted_devices (account_id);
CREATE INDEX trusted_devices_expires_idx ON trusted_devices (expires_at);

-- Move the rows that outlive an upgrade. A trusted-device challenge was
-- 'td_' + SecretID, an undo link 'undo_' + SecretID. Only rows still
-- unused with attempts left move: a used undo link must not serve again.
-- Expired rows move too and are swept like any other.
INSERT INTO trusted_devices (id, account_id, created_at, expires_at)
SELECT substr(id, 4), account_id, created_at, expires_at
FROM challenges
WHERE purpose = 'trusted_device' AND substr(id, 1, 3) = 'td_' AND length(id) > 3
  AND used_at IS NULL AND attempts < max_attempts;

INSERT INTO flows (id, kind, account_id, state, data, attempts, max_attempts, created_at, updated_at, expires_at)
SELECT substr(id, 6), 'undo', account_id, 'sent', COALESCE(data, ''::bytea), 0, 0, created_at, created_at, expires_at
FROM challenges
WHERE purpose = 'undo' AND substr(id, 1, 5) = 'undo_' AND length(id) > 5
  AND used_at IS NULL AND attempts < max_attempts;

-- Every flow now lives in flows. Pending login tokens, verifications and
-- WebAuthn ceremonies last minutes: they are dropped, and their holders
-- start again.
DELETE FROM challenges
WHERE purpose IN ('trusted_device', 'undo', 'login_token', 'verification')
   OR substr(purpose, 1, 8) = 'webauthn';
