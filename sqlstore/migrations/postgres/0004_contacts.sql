-- Contact channels: the bound mobile number (E.164) and the secure email.
-- '' means none, so neither column is ever NULL. A number may be bound to a
-- few accounts (the limit is the caller's, checked by SetPhone), so phone is
-- indexed, not unique; the index leaves out the many accounts without one,
-- and its created_at, id serve AccountsByPhone's oldest-first order. Adding
-- a column with a constant default rewrites no rows.

ALTER TABLE accounts ADD COLUMN phone TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN secure_email TEXT NOT NULL DEFAULT '';

CREATE INDEX accounts_phone_idx ON accounts (phone, created_at, id) WHERE phone <> '';

-- ResetPassword and DeleteAccountSessions forget an account's trusted
-- devices (challenges of purpose trusted_device): find them without reading
-- every challenge.
CREATE INDEX challenges_account_idx ON challenges (account_id, purpose);
