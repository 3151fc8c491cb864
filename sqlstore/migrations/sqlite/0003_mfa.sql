-- Second factors: the account's protection switches, MFA devices, the
-- operator's hardware token inventory and recovery codes. Times are Unix
-- milliseconds (UTC); optional times are NULL when unset.

ALTER TABLE accounts ADD COLUMN login_protection INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN operation_protection INTEGER NOT NULL DEFAULT 0;

-- A device is pending while confirmed_at is NULL. serial is '' for devices
-- that are not hardware tokens; a token serves as one device at a time.
CREATE TABLE mfa_devices (
    id           TEXT    NOT NULL PRIMARY KEY,
    account_id   TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    type         TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    secret       BLOB,
    otp_kind     TEXT    NOT NULL,
    algorithm    TEXT    NOT NULL,
    digits       INTEGER NOT NULL,
    period       INTEGER NOT NULL,
    serial       TEXT    NOT NULL,
    last_step    INTEGER NOT NULL,
    drift        INTEGER NOT NULL,
    credential   BLOB,
    created_at   INTEGER NOT NULL,
    confirmed_at INTEGER,
    last_used_at INTEGER
) STRICT;

CREATE INDEX mfa_devices_account_idx ON mfa_devices (account_id, created_at, id);
CREATE INDEX mfa_devices_pending_idx ON mfa_devices (created_at) WHERE confirmed_at IS NULL;
CREATE UNIQUE INDEX mfa_devices_serial_key ON mfa_devices (serial) WHERE serial <> '';

-- device_id is set exactly while the token is bound.
CREATE TABLE hardware_tokens (
    serial     TEXT    NOT NULL PRIMARY KEY,
    secret     BLOB    NOT NULL,
    otp_kind   TEXT    NOT NULL,
    algorithm  TEXT    NOT NULL,
    digits     INTEGER NOT NULL,
    period     INTEGER NOT NULL,
    counter    INTEGER NOT NULL,
    status     TEXT    NOT NULL,
    device_id  TEXT,
    created_at INTEGER NOT NULL,
    CONSTRAINT hardware_tokens_status_check CHECK (status IN ('stock', 'bound', 'retired')),
    CONSTRAINT hardware_tokens_device_check CHECK ((status = 'bound') = (device_id IS NOT NULL))
) STRICT;

CREATE TABLE recovery_codes (
    account_id TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    code_hash  BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    used_at    INTEGER,
    PRIMARY KEY (account_id, code_hash)
) STRICT;
