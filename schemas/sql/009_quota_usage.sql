-- 009_quota_usage.sql -- what each creator has had accepted into each
-- dataset per UTC day, kept by the commit stage in the transaction that
-- accepts the samples (and by a takedown that withdraws one).  Quota
-- checks in license and commit read one row here instead of counting the
-- day's samples, which grew with every sample of a busy creator.
CREATE TABLE quota_usage (
    dataset_id    text NOT NULL,
    creator_id    text NOT NULL,
    day           date NOT NULL,            -- UTC
    samples       bigint NOT NULL CHECK (samples >= 0),
    bytes         bigint NOT NULL CHECK (bytes >= 0),
    PRIMARY KEY (dataset_id, creator_id, day)
);

INSERT INTO quota_usage (dataset_id, creator_id, day, samples, bytes)
SELECT dataset_id, creator_id, (accepted_at AT TIME ZONE 'UTC')::date,
       count(*), sum(size)
  FROM samples WHERE status = 'accepted'
 GROUP BY 1, 2, 3;
