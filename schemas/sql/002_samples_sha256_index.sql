-- 002_samples_sha256_index.sql
-- validate asks, once per run of messages, which of the run's content
-- hashes are already accepted (in any dataset); that lookup is by hash
-- alone, which the (dataset_id, sha256) unique index cannot serve.
CREATE INDEX samples_sha256_idx ON samples (sha256);
