-- A password version (issue 9, point 8): ResetPassword (a password change,
-- a reset, an "it wasn't me" freeze) adds one to accounts.password_version;
-- a rehash at login does not. A session records the version its sign-in
-- checked the password against, and CreateSession refuses one that is no
-- longer the account's, so a login that checked the old password cannot
-- open a session after the change. Rows that exist are all at version 0.

ALTER TABLE accounts ADD COLUMN password_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN password_version INTEGER NOT NULL DEFAULT 0;

-- ResetPassword now ends the account's pending login, verification, reset
-- and WebAuthn flows, found by account.
CREATE INDEX flows_account_idx ON flows (account_id, kind);
