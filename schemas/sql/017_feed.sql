-- 017_feed.sql -- the delivery side (issue #12, services/feed): consumers
-- (the buyers' model updaters), their grants on datasets, bearer tokens for
-- consumers and creators, the commit-order position of every sample, the
-- withdrawals an updater must apply (tombstones), and one usage event per
-- consumer and sample delivered (the ledger's input).
--
-- Ordering.  A feed cursor is a position in one global order, feed_seq.
-- A writer takes its positions from feed_clock with
--   UPDATE feed_clock SET next_seq = next_seq + n WHERE stream = '...'
--   RETURNING next_seq - n
-- inside the transaction that writes the rows: the row lock is held until
-- that transaction ends, so positions become visible in order and a reader
-- that has seen position p has seen every position below p that will ever
-- commit.  Gaps (a batch's unused or rolled-back positions) are normal.
-- The writer then sends pg_notify('sluice_feed', '<stream>') in the same
-- transaction: delivered at commit, it wakes long-polling readers.

CREATE TABLE feed_clock (
    stream        text PRIMARY KEY CHECK (stream IN ('samples', 'changes')),
    next_seq      bigint NOT NULL CHECK (next_seq >= 1)
);

-- Accepted samples, in commit order (commit stamps it; NULL only for rows
-- written before this migration, numbered just below).
ALTER TABLE samples ADD COLUMN feed_seq bigint;
UPDATE samples s SET feed_seq = o.n
  FROM (SELECT upload_id, row_number() OVER (ORDER BY accepted_at, upload_id) AS n
          FROM samples) o
 WHERE s.upload_id = o.upload_id;
INSERT INTO feed_clock (stream, next_seq)
    SELECT 'samples', coalesce(max(feed_seq), 0) + 1 FROM samples;
INSERT INTO feed_clock (stream, next_seq) VALUES ('changes', 1);
-- From here on every writer of samples stamps it (commit, in the batch's
-- transaction: services/commit/commit_pg.c reserve_feed_seq).
ALTER TABLE samples ALTER COLUMN feed_seq SET NOT NULL;
CREATE UNIQUE INDEX samples_feed_idx ON samples (dataset_id, feed_seq);

-- Tombstones: a sample withdrawn after it was accepted (a takedown of its
-- content, its creator's opt-out applied to past samples, a reversal).
-- One row per withdrawn sample, positions from feed_clock 'changes'.
CREATE TABLE feed_changes (
    seq           bigint PRIMARY KEY,
    dataset_id    text NOT NULL,
    upload_id     text NOT NULL UNIQUE,
    sha256        text NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('takedown', 'optout', 'reversal')),
    reason        text NOT NULL,
    changed_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX feed_changes_dataset_idx ON feed_changes (dataset_id, seq);

-- The one home of a withdrawal (sluicectl takedown add, optout add; any
-- later path such as a moderator's reversal calls it too): in the caller's
-- transaction, marks the accepted sample withdrawn, appends its tombstone
-- with the next 'changes' position and queues the feed's wake-up.  reason
-- is a stable reason code (taken_down, opted_out), shown to consumers; an
-- operator's free text stays in its registry (takedowns, creator_optouts).
-- Returns one row (what the caller needs to release the sample's quota and
-- report it) when the sample was accepted, none otherwise (not found, or
-- withdrawn already: a repeat is a no-op).  The caller locks the samples
-- it withdraws first (SELECT ... FOR UPDATE, in upload_id order), then
-- calls this per sample: the clock's row is taken last, so concurrent
-- withdrawals neither deadlock nor reorder.  Runs with the caller's
-- privileges (UPDATE samples and feed_clock, INSERT feed_changes).
CREATE FUNCTION feed_withdraw(p_upload_id text, p_kind text, p_reason text)
RETURNS TABLE (dataset_id text, creator_id text, size bigint,
               accepted_day text, change_seq bigint)
LANGUAGE plpgsql AS $$
DECLARE
    s record;
    pos bigint;
BEGIN
    UPDATE samples AS t SET status = 'withdrawn', withdrawn_at = now()
     WHERE t.upload_id = p_upload_id AND t.status = 'accepted'
    RETURNING t.dataset_id, t.creator_id, t.size, t.sha256,
              (t.accepted_at AT TIME ZONE 'UTC')::date::text AS day
      INTO s;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    UPDATE feed_clock SET next_seq = next_seq + 1 WHERE stream = 'changes'
    RETURNING next_seq - 1 INTO pos;
    INSERT INTO feed_changes (seq, dataset_id, upload_id, sha256, kind, reason)
    VALUES (pos, s.dataset_id, p_upload_id, s.sha256, p_kind, p_reason);
    PERFORM pg_notify('sluice_feed', 'changes');
    dataset_id := s.dataset_id;
    creator_id := s.creator_id;
    size := s.size;
    accepted_day := s.day;
    change_seq := pos;
    RETURN NEXT;
END $$;

-- Consumers: who buys.  Disabled consumers' tokens stop working.
CREATE TABLE consumers (
    consumer_id   text PRIMARY KEY
                  CHECK (consumer_id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    display_name  text NOT NULL DEFAULT '',
    status        text NOT NULL DEFAULT 'active'
                  CHECK (status IN ('active', 'disabled')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled_at   timestamptz
);

-- Grants: a consumer may read a dataset, at a price per sample delivered
-- (integer micro-units of currency), from valid_from until valid_until
-- (NULL: open-ended) unless revoked.  require_rights narrows to samples
-- whose bound license's combined rights (samples.license -> 'rights') are
-- true for every name listed: the keys of that object the license stage
-- writes (services/license/rights.c sl_license_record), i.e.
-- 'training_allowed', 'commercial_allowed' (`sluicectl grant add
-- --require-rights training,commercial` stores these); NULL or empty: any
-- license.  feed_license_allows() below is the test.  At most one live
-- grant per consumer and dataset.
CREATE TABLE grants (
    grant_id      bigserial PRIMARY KEY,
    consumer_id   text NOT NULL REFERENCES consumers (consumer_id),
    dataset_id    text NOT NULL REFERENCES datasets (dataset_id),
    price_micros  bigint NOT NULL DEFAULT 0 CHECK (price_micros >= 0),
    currency      text NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    require_rights text[],
    valid_from    timestamptz NOT NULL DEFAULT now(),
    valid_until   timestamptz,
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz
);
CREATE UNIQUE INDEX grants_live_idx ON grants (consumer_id, dataset_id)
    WHERE revoked_at IS NULL;

-- Whether a sample's bound license record satisfies a grant's
-- require_rights: every listed key of license -> 'rights' is JSON true.
CREATE FUNCTION feed_license_allows(license jsonb, require_rights text[])
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT require_rights IS NULL OR NOT EXISTS (
        SELECT 1 FROM unnest(require_rights) AS k
         WHERE (license -> 'rights' -> k) IS DISTINCT FROM 'true'::jsonb)
$$;

-- Bearer tokens, by the SHA-256 of the token (sl_ws_token_hash); the token
-- itself is printed once and never stored.  Exactly one holder: a consumer
-- (reads its granted datasets, narrowed to `datasets` when not NULL) or a
-- creator (reads its own uploads' outcomes).  scope 'metadata': feed lines,
-- changes and manifests but no content.
CREATE TABLE feed_tokens (
    token_id      bigserial PRIMARY KEY,
    token_sha256  text NOT NULL UNIQUE
                  CHECK (octet_length(token_sha256) = 64 AND token_sha256 !~ '[^0-9a-f]'),
    consumer_id   text REFERENCES consumers (consumer_id),
    creator_id    text REFERENCES creators (creator_id),
    datasets      text[],
    scope         text NOT NULL DEFAULT 'read' CHECK (scope IN ('read', 'metadata')),
    label         text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz,
    CHECK ((consumer_id IS NULL) <> (creator_id IS NULL))
);

-- Usage: one row per consumer and sample whose content was delivered, by
-- any route, written before (or atomically with) the response.  A second
-- delivery is not charged again (the unique key).  usage_id orders them.
CREATE TABLE usage_events (
    usage_id      bigserial PRIMARY KEY,
    consumer_id   text NOT NULL REFERENCES consumers (consumer_id),
    upload_id     text NOT NULL,
    creator_id    text NOT NULL,
    dataset_id    text NOT NULL,
    grant_id      bigint NOT NULL REFERENCES grants (grant_id),
    price_micros  bigint NOT NULL CHECK (price_micros >= 0),
    currency      text NOT NULL,
    token_id      bigint REFERENCES feed_tokens (token_id),
    route         text NOT NULL CHECK (route IN ('token', 'signed_url')),
    delivered_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (consumer_id, upload_id)
);
CREATE INDEX usage_events_creator_idx ON usage_events (creator_id, delivered_at);
CREATE INDEX usage_events_dataset_idx ON usage_events (dataset_id, delivered_at);
