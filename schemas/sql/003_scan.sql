-- 003_scan.sql -- what the scan stage decides and what moderators review.
--
-- datasets.allowed_types: MIME patterns ("text/*", "image/png") a dataset
-- accepts; NULL means the scan stage's default (text, images, audio,
-- video and documents; no executables or archives).
-- datasets.scan_actions: per-rule action overrides, {"rule id": "block" |
-- "flag" | "redact" | "allow"}.
ALTER TABLE datasets
    ADD COLUMN allowed_types text[],
    ADD COLUMN scan_actions jsonb NOT NULL DEFAULT '{}'::jsonb
        CHECK (jsonb_typeof(scan_actions) = 'object');

-- What the scan stage found: the detected MIME type and its findings
-- summary (rule, entity, offset, length; never the matched text).  A
-- redacted sample's content is the redacted bytes; original_sha256 keeps
-- the hash of what the creator signed (the provenance chain starts there).
ALTER TABLE samples
    ADD COLUMN detected_type text,
    ADD COLUMN scan jsonb,
    ADD COLUMN original_sha256 text CHECK (original_sha256 ~ '^[0-9a-f]{64}$');

-- Samples the scan stage flagged for a moderator: stored whole (content in
-- contents), not yet accepted.
CREATE TABLE review_items (
    upload_id         text PRIMARY KEY,
    creator_id        text NOT NULL,
    dataset_id        text NOT NULL,
    content_type      text NOT NULL,
    detected_type     text,
    sha256            text NOT NULL REFERENCES contents (sha256),
    size              bigint NOT NULL,
    license_expression text NOT NULL,
    filename          text,
    meta              text NOT NULL,
    signature         text NOT NULL,
    findings          jsonb NOT NULL,
    state             text NOT NULL DEFAULT 'pending'
                      CHECK (state IN ('pending', 'approved', 'rejected', 'redacted')),
    created_at        timestamptz NOT NULL,
    flagged_at        timestamptz NOT NULL DEFAULT now(),
    decided_at        timestamptz,
    decided_by        text,
    source_topic      text NOT NULL,
    source_partition  integer NOT NULL,
    source_offset     bigint NOT NULL
);
CREATE INDEX review_items_pending_idx ON review_items (flagged_at)
    WHERE state = 'pending';
ALTER TABLE provenance_events DROP CONSTRAINT provenance_events_owner_kind_check;
ALTER TABLE provenance_events ADD CONSTRAINT provenance_events_owner_kind_check
    CHECK (owner_kind IN ('sample', 'rejection', 'review'));
