-- 006_drop_creator_index.sql -- samples_quota_idx (creator_id, dataset_id,
-- accepted_at) answers every lookup by creator that samples_creator_idx
-- did, and each accepted sample paid for both on insert.
DROP INDEX samples_creator_idx;
