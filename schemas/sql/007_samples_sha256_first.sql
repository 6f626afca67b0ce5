-- 007_samples_sha256_first.sql -- every lookup of samples by content names
-- the hash, alone (duplicate checks in validate and commit, takedowns) or
-- with the dataset; one unique index led by the hash serves both, so the
-- separate samples_sha256_idx goes and each accepted sample updates one
-- index fewer.  The quota index now leads with the dataset: it still
-- serves the (creator, dataset, day) counts, and now also the per-dataset
-- counts the old unique index served.
CREATE UNIQUE INDEX samples_sha256_dataset_key ON samples (sha256, dataset_id);
ALTER TABLE samples DROP CONSTRAINT samples_dataset_id_sha256_key;
ALTER TABLE samples ADD CONSTRAINT samples_sha256_dataset_key
    UNIQUE USING INDEX samples_sha256_dataset_key;
DROP INDEX samples_sha256_idx;
DROP INDEX samples_quota_idx;
CREATE INDEX samples_quota_idx ON samples (dataset_id, creator_id, accepted_at);
