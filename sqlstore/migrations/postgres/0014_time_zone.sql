-- The IANA time zone the holder reads times in ('' for UTC), and where a
-- trusted browser was trusted from, for the devices page.
ALTER TABLE accounts ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
ALTER TABLE trusted_devices ADD COLUMN remote_addr TEXT NOT NULL DEFAULT '';
ALTER TABLE trusted_devices ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
