-- 028_provenance_chains.sql -- one row per stored run of a chain's events.
--
-- provenance_events held one row per event: four rows a sample of the
-- chain (validate, scan, license, commit), each with its own heap tuple,
-- primary-key entry and copy of the owner's kind and id.  That was the
-- largest of PostgreSQL's costs a sample (tests/bench/README.md: about 76
-- us a sample of COPY statement time in the chain's drain).  Measured
-- alone (40,000 chains of four events of about 390 bytes, psql \copy,
-- five runs): one row an event 41-49 us a sample; one row a chain 20-22
-- us by binary COPY with the row kept whole (toast_tuple_target below),
-- 29-35 when PostgreSQL compresses it, 48-54 by COPY's text form, where
-- every element is parsed out of an array literal.  In the pipeline,
-- commit's backend takes 7-33 us a sample less.
--
-- Now every writer stores the events it appends in one row: commit a
-- sample's or a rejection's whole chain, a takedown or a review decision
-- the events it adds, with first_seq the seq of the row's first event and
-- the arrays in seq order (sl_prov_pg_copy_events, common/src/prov_pg.c,
-- by binary COPY).  Readers go on reading provenance_events, now a view
-- with one row per event as before: seq, stage, outcome, canonical, hash
-- and recorded_at, so `audit verify`, the feed, review and the takedown
-- read every chain as they did, and every check of it stays.
--
-- Existing rows move here one event a row (a run of one), with their
-- recorded_at: every stored chain verifies exactly as before.  Nothing
-- keeps two rows of an owner from holding the same seq (the old primary
-- key did); writers append after the head they read, under the locks they
-- took before, and `audit verify` reports a repeated seq (seq_duplicate).
CREATE TABLE provenance_chains (
    owner_kind    text NOT NULL CHECK (owner_kind IN ('sample', 'rejection', 'review')),
    owner_id      text NOT NULL,
    first_seq     integer NOT NULL CHECK (first_seq >= 1),
    stage         text[] NOT NULL,
    outcome       text[] NOT NULL,
    canonical     text[] NOT NULL,
    hash          text[] NOT NULL,
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner_kind, owner_id, first_seq),
    -- one dimension from 1, the four arrays alike: the view's seq
    -- (first_seq + position - 1) is then each event's
    CHECK (array_ndims(canonical) = 1 AND array_lower(canonical, 1) = 1
           AND array_ndims(stage) = 1 AND array_lower(stage, 1) = 1
           AND array_ndims(outcome) = 1 AND array_lower(outcome, 1) = 1
           AND array_ndims(hash) = 1 AND array_lower(hash, 1) = 1
           AND cardinality(stage) = cardinality(canonical)
           AND cardinality(outcome) = cardinality(canonical)
           AND cardinality(hash) = cardinality(canonical))
)
-- A sample's chain is about 2 KB, just over the size (2,032 bytes) at
-- which PostgreSQL starts compressing a row's values: compressing took
-- 9-13 us a sample for rows read far less often than written.
WITH (toast_tuple_target = 8160);

INSERT INTO provenance_chains
    (owner_kind, owner_id, first_seq, stage, outcome, canonical, hash, recorded_at)
SELECT owner_kind, owner_id, seq, ARRAY[stage], ARRAY[outcome], ARRAY[canonical],
       ARRAY[hash], recorded_at
FROM provenance_events;

DROP TABLE provenance_events;

CREATE VIEW provenance_events AS
SELECT c.owner_kind, c.owner_id, (c.first_seq + e.i - 1)::integer AS seq,
       e.stage, e.outcome, e.canonical, e.hash, c.recorded_at
FROM provenance_chains c,
     LATERAL unnest(c.stage, c.outcome, c.canonical, c.hash)
         WITH ORDINALITY AS e(stage, outcome, canonical, hash, i);
