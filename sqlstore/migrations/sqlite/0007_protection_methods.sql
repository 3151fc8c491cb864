-- The protection methods the holder chose (R8): "mfa", "sms", "email", or
-- '' for the default (mfa once a device is bound).
ALTER TABLE accounts ADD COLUMN login_method TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN operation_method TEXT NOT NULL DEFAULT '';
