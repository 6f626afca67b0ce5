-- 012_review.sql -- the moderators' dashboard (issue #11, services/review).
--
-- Accounts, sessions and login attempts of sluice-review; claim leases on
-- review_items; one row per decision; the N-of-M approvals a high-severity
-- rule needs; the log of revealed secrets; and the outbox the decision
-- transaction writes and the relay sends to Kafka (exactly once: the row
-- is written with the decision, sent in a Kafka transaction, then marked
-- sent; downstream is idempotent on the upload id).

-- Moderators: a lead may also reverse decisions.  pw_hash is libsodium's
-- crypto_pwhash_str (Argon2id); a password is never stored.
CREATE TABLE moderators (
    name          text PRIMARY KEY
                  CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    role          text NOT NULL DEFAULT 'moderator'
                  CHECK (role IN ('moderator', 'lead')),
    pw_hash       text NOT NULL CHECK (pw_hash LIKE '$argon2id$%'),
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Sessions by the SHA-256 of their random 256-bit id (the cookie holds the
-- id; a read of this table yields no usable cookie).  csrf: the session's
-- anti-CSRF token.  Logout sets revoked_at; expiry is idle (last_seen_at)
-- and absolute (created_at), checked by the service on every request.
CREATE TABLE review_sessions (
    id_sha256     text PRIMARY KEY
                  CHECK (octet_length(id_sha256) = 64 AND id_sha256 !~ '[^0-9a-f]'),
    moderator     text NOT NULL REFERENCES moderators (name) ON DELETE CASCADE,
    csrf          text NOT NULL
                  CHECK (octet_length(csrf) = 64 AND csrf !~ '[^0-9a-f]'),
    client_addr   text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz
);
CREATE INDEX review_sessions_moderator_idx ON review_sessions (moderator);

-- Login attempts (failures and successes), for the rate limit per account
-- and per client address; pruned by the service after a day.
CREATE TABLE review_login_attempts (
    attempt_id    bigserial PRIMARY KEY,
    username      text NOT NULL,
    client_addr   text NOT NULL,
    ok            boolean NOT NULL,
    at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX review_login_attempts_user_idx ON review_login_attempts (username, at);
CREATE INDEX review_login_attempts_addr_idx ON review_login_attempts (client_addr, at);

-- Claim leases: who holds the item and until when (an expired lease is
-- free; the decision transaction checks it under FOR UPDATE).
ALTER TABLE review_items ADD COLUMN claimed_by text;
ALTER TABLE review_items ADD COLUMN claim_until timestamptz;
-- awaiting_second: approved once, a high-severity rule needs another
-- moderator's agreement (review.second.rules); never an end state.
ALTER TABLE review_items DROP CONSTRAINT IF EXISTS review_items_state_check;
ALTER TABLE review_items ADD CONSTRAINT review_items_state_check
    CHECK (state IN ('pending', 'awaiting_second', 'approved', 'rejected', 'redacted'));
-- The queue: oldest first, paged by (flagged_at, upload_id) keyset.
DROP INDEX IF EXISTS review_items_pending_idx;
CREATE INDEX review_items_queue_idx ON review_items (flagged_at, upload_id)
    WHERE state IN ('pending', 'awaiting_second');
-- The queue's rule filter: the rules an item's findings name, indexed so a
-- rare rule is found without walking the whole queue (measured at 100,000
-- pending: 230 ms p50 without it).  Not a partial index: the planner uses
-- an expression index's statistics (per-rule frequencies, from ANALYZE)
-- only when it has no predicate, and with them a common rule still walks
-- review_items_queue_idx in order (EXPLAIN at 100,000: email 14% 5 ms,
-- ipv4 86% 0.9 ms, an absent rule 0.03 ms).
CREATE FUNCTION review_rules(findings jsonb) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT COALESCE(array_agg(DISTINCT f->>'rule' ORDER BY f->>'rule')
                    FILTER (WHERE f->>'rule' IS NOT NULL), '{}')
    FROM jsonb_array_elements(CASE jsonb_typeof(findings->'findings')
                              WHEN 'array' THEN findings->'findings'
                              ELSE '[]'::jsonb END) f
$$;
-- fastupdate off: with GIN's pending list every search scans the entries
-- not yet merged (8 ms for an absent rule after 100,000 inserts, 0.1 ms
-- merged); review items are inserted rarely enough to merge each at once.
CREATE INDEX review_items_rules_idx ON review_items USING gin (review_rules(findings))
    WITH (fastupdate = off);
-- The overview's charts: flags per day over the last 30 days.
CREATE INDEX review_items_flagged_idx ON review_items USING brin (flagged_at);

-- One row per decision, reversals included (reverses = the decision
-- reversed).  shown_sha256: the bytes the moderator was shown.
CREATE TABLE review_decisions (
    decision_id   bigserial PRIMARY KEY,
    upload_id     text NOT NULL REFERENCES review_items (upload_id),
    moderator     text NOT NULL REFERENCES moderators (name),
    action        text NOT NULL
                  CHECK (action IN ('approve', 'redact', 'reject', 'second', 'reverse')),
    reason        text NOT NULL
                  CHECK (reason IN ('confirmed_pii', 'confirmed_secret', 'false_positive',
                                    'rights_problem', 'harmful_content', 'other')),
    note          text NOT NULL DEFAULT '' CHECK (octet_length(note) <= 2000),
    shown_sha256  text NOT NULL
                  CHECK (octet_length(shown_sha256) = 64 AND shown_sha256 !~ '[^0-9a-f]'),
    output_sha256 text,
    state_after   text NOT NULL,
    reverses      bigint REFERENCES review_decisions (decision_id),
    decided_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX review_decisions_upload_idx ON review_decisions (upload_id);
CREATE INDEX review_decisions_time_idx ON review_decisions USING brin (decided_at);

-- N-of-M: each distinct moderator's approval of an item that needs more
-- than one (a row per moderator: the same one twice does not count).
CREATE TABLE review_approvals (
    upload_id     text NOT NULL REFERENCES review_items (upload_id),
    moderator     text NOT NULL REFERENCES moderators (name),
    action        text NOT NULL CHECK (action IN ('approve', 'redact')),
    approved_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (upload_id, moderator)
);

-- Every reveal of a masked secret finding: who, which item, which finding.
CREATE TABLE review_reveals (
    reveal_id     bigserial PRIMARY KEY,
    upload_id     text NOT NULL REFERENCES review_items (upload_id),
    moderator     text NOT NULL REFERENCES moderators (name),
    finding       integer NOT NULL CHECK (finding >= 0),
    client_addr   text NOT NULL,
    revealed_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX review_reveals_upload_idx ON review_reveals (upload_id);

-- The exact Kafka messages decisions produce, written in the decision's
-- transaction; the relay sends unsent rows in a Kafka transaction, then
-- sets sent_at.  headers: a JSON array of [name, value] pairs.  A row is
-- held back for review.reverse.window.s, during which a lead's reversal
-- sets cancelled_at instead (it is then never sent).
CREATE TABLE review_outbox (
    outbox_id     bigserial PRIMARY KEY,
    decision_id   bigint NOT NULL UNIQUE REFERENCES review_decisions (decision_id),
    topic         text NOT NULL,
    msg_key       text NOT NULL,
    msg_value     bytea NOT NULL,
    headers       jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    sent_at       timestamptz,
    cancelled_at  timestamptz
);
CREATE INDEX review_outbox_unsent_idx ON review_outbox (outbox_id)
    WHERE sent_at IS NULL AND cancelled_at IS NULL;

-- The review service's audit key (it seals the heads of the chains its
-- decisions extend).
ALTER TABLE audit_keys DROP CONSTRAINT IF EXISTS audit_keys_purpose_check;
ALTER TABLE audit_keys ADD CONSTRAINT audit_keys_purpose_check
    CHECK (purpose IN ('commit', 'operator', 'review'));
