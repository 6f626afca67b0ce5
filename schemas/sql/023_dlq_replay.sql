-- 023_dlq_replay.sql -- dead-letter replay requests (sluicectl dlq replay).
--
-- A replay request sends dead letters -- their original bytes and signed
-- headers, read back from sluice.rejected -- to validate again, through
-- sluice.replay, which only the operators' Kafka user may write.  The
-- request and each dead letter it sends are recorded here before anything
-- is sent:
--   dlq_replays       one row per request: its id (the operator's, or
--                     generated), the filters it was made with, who and when;
--   dlq_replay_items  one row per dead letter it sends back: the rejection,
--                     the upload id and the SHA-256 of the bytes sent, and
--                     whether they were sent (or could not be: the value
--                     was withheld, or the dead letter is past retention).
-- A rejection belongs to at most one request (UNIQUE rejection_id): running
-- the same request again sends only what it has not sent yet, and another
-- request never sends that dead letter again.  A replayed upload that is
-- refused again is a new rejection, which a later request may replay.
--
-- validate lets a message of sluice.replay past replay protection only
-- when its sluice-replay header names a request holding an item for that
-- upload id and content hash (grants.sql: validate reads dlq_replay_items).
CREATE TABLE dlq_replays (
    request_id    text PRIMARY KEY
                  CHECK (request_id ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
    code          text NOT NULL,          -- --code
    stage         text,                   -- --stage, NULL: any
    since         timestamptz,            -- --since, NULL: any time
    requested_by  text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE dlq_replay_items (
    request_id    text NOT NULL REFERENCES dlq_replays (request_id),
    rejection_id  bigint NOT NULL UNIQUE REFERENCES rejections (rejection_id),
    upload_id     text NOT NULL,
    sha256        text NOT NULL,          -- of the bytes sent back
    state         text NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'sent', 'unavailable')),
    detail        text,                   -- why unavailable
    sent_at       timestamptz,
    PRIMARY KEY (request_id, upload_id)
);
