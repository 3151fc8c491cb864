-- Second factors: the account's protection switches, MFA devices, the
-- operator's hardware token inventory and recovery codes. Times are Unix
-- milliseconds (UTC); optional times are NULL when unset.

ALTER TABLE accounts ADD COLUMN login_protection BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE accounts ADD COLUMN operation_protection BOOLEAN NOT NULL DEFAULT false;

-- A device is pending while confirmed_at is NULL. serial is '' for devices
-- that are not hardware tokens; a token serves as one device at a time.
CREATE TABLE mfa_devices (
    id           TEXT COLLATE "C" NOT NULL,
    account_id   TEXT COLLATE "C" NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    type         TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    secret       BYTEA,
    otp_kind     TEXT    NOT NULL,
    algorithm    TEXT    NOT NULL,
    digits       INTEGER NOT NULL,
    period       INTEGER NOT NULL,
    serial       TEXT COLLATE "C" NOT NULL,
    last_step    BIGINT  NOT NULL,
    drift        INTEGER NOT NULL,
    credential   BYTEA,
    created_at   BIGINT  NOT NULL,
    confirmed_at BIGINT,
    last_used_at BIGINT,
    CONSTRAINT mfa_devices_pkey PRIMARY KEY (id)
);

CREATE INDEX mfa_devices_account_idx ON mfa_devices (account_id, created_at, id);
CREATE INDEX mfa_devices_pending_idx ON mfa_devices (created_at) WHERE confirmed_at IS NULL;
CREATE UNIQUE INDEX mfa_devices_serial_key ON mfa_devices (serial) WHERE serial <> '';

-- device_id is set exactly while the token is bound.
CREATE TABLE hardware_tokens (
    serial     TEXT COLLATE "C" NOT NULL,
    secret     BYTEA   NOT NULL,
    otp_kind   TEXT    NOT NULL,
    algorithm  TEXT    NOT NULL,
    digits     INTEGER NOT NULL,
    period     INTEGER NOT NULL,
    counter    BIGINT  NOT NULL,
    status     TEXT    NOT NULL,
    device_id  TEXT COLLATE "C",
    created_at BIGINT  NOT NULL,
    CONSTRAINT hardware_tokens_pkey PRIMARY KEY (serial),
    CONSTRAINT hardware_tokens_status_check CHECK (status IN ('stock', 'bound', 'retired')),
    CONSTRAINT hardware_tokens_device_check CHECK ((status = 'bound') = (device_id IS NOT NULL))
);

CREATE TABLE recovery_codes (
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    code_hash  BYTEA  NOT NULL,
    created_at BIGINT NOT NULL,
    used_at    BIGINT,
    CONSTRAINT recovery_codes_pkey PRIMARY KEY (account_id, code_hash)
);
