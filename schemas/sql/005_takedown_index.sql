-- 005_takedown_index.sql -- a takedown names the content the creator
-- signed, which for a redacted sample is original_sha256: find those
-- without scanning every sample.
CREATE INDEX samples_original_sha256_idx ON samples (original_sha256)
    WHERE original_sha256 IS NOT NULL;
