-- Collaborators (R9): an existing account invited to work in a root
-- account, and which root account a session works in. Times are Unix
-- milliseconds (UTC); optional times are NULL when unset.
--
-- A collaboration is invited (account_id '' until accepted), then active,
-- then ended; it moves by compare-and-swap on state (AcceptCollaboration,
-- EndCollaboration). invite_email is the normalised login email invited.
-- A root has at most one invited or active collaboration per email (the
-- partial unique index, which CreateCollaboration reports as a conflict);
-- an ended one does not count, so the email may be invited again. account_id
-- is no foreign key ('' before acceptance); root_account_id cascades, so a
-- root that goes takes its collaborations with it. A root's page lists its
-- collaborations that have not ended, a collaborator's its active ones,
-- both newest first.
CREATE TABLE collaborations (
    id                   TEXT    NOT NULL PRIMARY KEY,
    root_account_id      TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    invite_email         TEXT    NOT NULL,
    account_id           TEXT    NOT NULL,
    state                TEXT    NOT NULL,
    login_protection     INTEGER NOT NULL,
    operation_protection INTEGER NOT NULL,
    login_method         TEXT    NOT NULL,
    operation_method     TEXT    NOT NULL,
    created_at           INTEGER NOT NULL,
    accepted_at          INTEGER,
    ended_at             INTEGER,
    CONSTRAINT collaborations_state_check CHECK (state IN ('invited', 'active', 'ended')),
    CONSTRAINT collaborations_accepted_check CHECK ((account_id <> '') = (accepted_at IS NOT NULL)),
    CONSTRAINT collaborations_active_check CHECK (state <> 'active' OR account_id <> ''),
    CONSTRAINT collaborations_ended_check CHECK ((state = 'ended') = (ended_at IS NOT NULL)),
    CONSTRAINT collaborations_self_check CHECK (account_id <> root_account_id)
) STRICT;

CREATE UNIQUE INDEX collaborations_invite_key ON collaborations (root_account_id, invite_email)
    WHERE state IN ('invited', 'active');
CREATE INDEX collaborations_root_idx ON collaborations (root_account_id, created_at DESC, id DESC)
    WHERE state IN ('invited', 'active');
CREATE INDEX collaborations_account_idx ON collaborations (account_id, created_at DESC, id DESC)
    WHERE state = 'active';

-- The root account a collaborator's session works in, '' for its own.
-- EndCollaboration sets it back to '' on the collaborator's sessions (found
-- by sessions_account_idx) that work in the root's account.
ALTER TABLE sessions ADD COLUMN acting_root_account_id TEXT NOT NULL DEFAULT '';
