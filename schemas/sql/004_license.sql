-- 004_license.sql -- what the license stage decides against: each
-- dataset's license policy, contributors and quotas; creators' opt-outs;
-- content takedowns.  Every registry entry says who, when and why.

-- license_policy: {version?, allowed?, require?, forbid?, note?}
--   (services/license/rights.h), NULL: any known license is accepted.
-- open: any registered creator may contribute; else dataset_contributors.
-- quota_daily_count / quota_daily_bytes: per creator per UTC day, NULL:
--   unlimited.
ALTER TABLE datasets
    ADD COLUMN license_policy jsonb
        CHECK (license_policy IS NULL OR jsonb_typeof(license_policy) = 'object'),
    ADD COLUMN open boolean NOT NULL DEFAULT true,
    ADD COLUMN quota_daily_count integer CHECK (quota_daily_count >= 0),
    ADD COLUMN quota_daily_bytes bigint CHECK (quota_daily_bytes >= 0),
    ADD COLUMN policy_updated_at timestamptz NOT NULL DEFAULT now();

CREATE TABLE dataset_contributors (
    dataset_id    text NOT NULL REFERENCES datasets (dataset_id),
    creator_id    text NOT NULL REFERENCES creators (creator_id),
    added_by      text NOT NULL,
    added_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dataset_id, creator_id)
);

-- A creator who opted out of training: their uploads are refused.
CREATE TABLE creator_optouts (
    creator_id    text PRIMARY KEY REFERENCES creators (creator_id),
    requested_by  text NOT NULL,
    reason        text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Content taken down, by hash: refused on upload; an accepted sample with
-- that content is marked withdrawn (kept, with a provenance event).
CREATE TABLE takedowns (
    sha256        text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    requested_by  text NOT NULL,
    reason        text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE samples DROP CONSTRAINT IF EXISTS samples_status_check;
ALTER TABLE samples ADD CONSTRAINT samples_status_check
    CHECK (status IN ('accepted', 'withdrawn'));
ALTER TABLE samples
    ADD COLUMN license jsonb,          -- the bound license record
    ADD COLUMN withdrawn_at timestamptz;
-- Quota counting: accepted samples per creator, dataset and day.
CREATE INDEX samples_quota_idx ON samples (creator_id, dataset_id, accepted_at);
