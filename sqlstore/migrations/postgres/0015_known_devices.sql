-- The browsers and networks each account has signed in from (issue 13,
-- new-device alerts). device_key is a key-ring MAC of the browser's random
-- cookie id and the network prefix (/24 IPv4, /48 IPv6): no user agent, no
-- address, no cookie. A row last seen more than 180 days ago is forgotten.
CREATE TABLE known_devices (
    account_id    TEXT COLLATE "C" NOT NULL,
    device_key    TEXT COLLATE "C" NOT NULL,
    first_seen_at BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    PRIMARY KEY (account_id, device_key)
);

-- The holder's switch: a sign-in from a new device needs the second step
-- of login even without login protection.
ALTER TABLE accounts ADD COLUMN new_device_step BOOLEAN NOT NULL DEFAULT false;
