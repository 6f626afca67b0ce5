-- 020_drop_quota_index.sql -- samples_quota_idx (dataset, creator,
-- accepted_at) served the per-day quota counts until quota_usage (009)
-- replaced them, and then only the per-dataset counts of `sluicectl
-- dataset` and `status`.  samples_feed_idx (dataset, feed_seq; 017) leads
-- with the dataset too and serves those counts, so each accepted sample
-- updates one index fewer: the feed's index costs commit nothing extra.
DROP INDEX IF EXISTS samples_quota_idx;
