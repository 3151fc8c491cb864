-- Support tickets (R3: bind a new phone, R10: remove a lost MFA device) and
-- their staff approvals. Times are Unix milliseconds (UTC); optional times
-- are NULL when unset.
--
-- A ticket moves by compare-and-swap on state (MoveTicket, ApproveTicket,
-- ExecuteTicket). sealed is the applicant's declared fields sealed with the
-- key ring: the store never sees them in the clear. target_account_id and
-- submitter_account_id are '' when there is none, so neither is a foreign
-- key. A target has at most one open ticket of a kind that is not linked to
-- another (the partial unique index: CreateTicket links or refuses a
-- duplicate before it gets there). closed_at is set exactly in the closed
-- states, execute_at at the latest once the waiting period starts. The
-- staff queue reads tickets oldest first, an account's page newest first by
-- submitter and by target, the executor the due waiting ones. Files are rows
-- of blobs whose owner_id is the ticket's id.
CREATE TABLE tickets (
    id                   TEXT    NOT NULL PRIMARY KEY,
    number               TEXT    NOT NULL,
    kind                 TEXT    NOT NULL,
    state                TEXT    NOT NULL,
    target_account_id    TEXT    NOT NULL,
    submitter_account_id TEXT    NOT NULL,
    sealed               BLOB    NOT NULL,
    query_code_hash      BLOB    NOT NULL,
    linked_to            TEXT    NOT NULL,
    required_approvals   INTEGER NOT NULL,
    question             TEXT    NOT NULL DEFAULT '',
    reason               TEXT    NOT NULL DEFAULT '',
    execute_at           INTEGER,
    submitted_at         INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    closed_at            INTEGER,
    CONSTRAINT tickets_number_key UNIQUE (number),
    CONSTRAINT tickets_state_check CHECK (state IN ('submitted', 'in_review', 'need_more_info', 'approved',
        'waiting', 'executed', 'rejected', 'withdrawn', 'cancelled')),
    CONSTRAINT tickets_closed_check
        CHECK ((state IN ('executed', 'rejected', 'withdrawn', 'cancelled')) = (closed_at IS NOT NULL)),
    CONSTRAINT tickets_waiting_check CHECK (state <> 'waiting' OR execute_at IS NOT NULL),
    CONSTRAINT tickets_approvals_check CHECK (required_approvals >= 1)
) STRICT;

CREATE UNIQUE INDEX tickets_open_key ON tickets (target_account_id, kind)
    WHERE state IN ('submitted', 'in_review', 'need_more_info', 'approved', 'waiting')
        AND linked_to = '' AND target_account_id <> '';
CREATE INDEX tickets_queue_idx ON tickets (submitted_at, id);
CREATE INDEX tickets_target_idx ON tickets (target_account_id, submitted_at DESC, id DESC);
CREATE INDEX tickets_submitter_idx ON tickets (submitter_account_id, submitted_at DESC, id DESC);
CREATE INDEX tickets_due_idx ON tickets (execute_at, id) WHERE state = 'waiting';

-- One staff member's approval of a ticket, at most one each (the primary
-- key). staff_id is no foreign key: the record outlives the staff.
CREATE TABLE ticket_approvals (
    ticket_id TEXT    NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    staff_id  TEXT    NOT NULL,
    at        INTEGER NOT NULL,
    PRIMARY KEY (ticket_id, staff_id)
) STRICT;
