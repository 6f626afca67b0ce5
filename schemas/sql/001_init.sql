-- 001_init.sql -- the system of record for the foundation: registry of
-- creators and datasets, accepted samples with content stored once per
-- SHA-256, rejections, provenance events and the commit stage's offsets.

CREATE TABLE creators (
    creator_id    text PRIMARY KEY,
    display_name  text NOT NULL DEFAULT '',
    key_alg       text NOT NULL CHECK (key_alg IN ('ed25519', 'hmac-sha256')),
    key_material  bytea NOT NULL,           -- Ed25519 public key or HMAC secret
    status        text NOT NULL DEFAULT 'active'
                  CHECK (status IN ('active', 'disabled')),
    verified      boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE datasets (
    dataset_id    text PRIMARY KEY,
    name          text NOT NULL DEFAULT '',
    description   text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE contents (
    sha256        text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size          bigint NOT NULL,
    data          bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE samples (
    upload_id         text PRIMARY KEY,
    creator_id        text NOT NULL,
    dataset_id        text NOT NULL,
    content_type      text NOT NULL,
    sha256            text NOT NULL REFERENCES contents (sha256),
    size              bigint NOT NULL,
    license_expression text NOT NULL,
    filename          text,
    meta              text NOT NULL,        -- the exact sluice-meta bytes
    signature         text NOT NULL,        -- the exact sluice-sig value
    status            text NOT NULL DEFAULT 'accepted',
    created_at        timestamptz NOT NULL, -- creator's created_at
    accepted_at       timestamptz NOT NULL DEFAULT now(),
    source_topic      text NOT NULL,
    source_partition  integer NOT NULL,
    source_offset     bigint NOT NULL,
    UNIQUE (dataset_id, sha256)
);
CREATE INDEX samples_creator_idx ON samples (creator_id);

CREATE TABLE rejections (
    rejection_id      bigserial PRIMARY KEY,
    upload_id         text,                 -- NULL when the metadata had none
    creator_id        text,
    dataset_id        text,
    stage             text NOT NULL,
    code              text NOT NULL,
    detail            text NOT NULL,
    sha256            text,
    size              bigint NOT NULL,
    meta              bytea,                -- the sluice-meta bytes, if any
    source_topic      text NOT NULL,        -- where the rejecting stage read it
    source_partition  integer NOT NULL,
    source_offset     bigint NOT NULL,
    rejected_at       timestamptz NOT NULL,
    committed_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source_topic, source_partition, source_offset)
);
CREATE INDEX rejections_upload_idx ON rejections (upload_id);
CREATE INDEX rejections_code_idx ON rejections (code);

-- One row per provenance event; owner is a sample (owner_id = upload_id)
-- or a rejection (owner_id = rejection_id).  canonical holds the exact bytes
-- that were hashed, so the chain can be re-verified at any time.
CREATE TABLE provenance_events (
    owner_kind    text NOT NULL CHECK (owner_kind IN ('sample', 'rejection')),
    owner_id      text NOT NULL,
    seq           integer NOT NULL,
    stage         text NOT NULL,
    outcome       text NOT NULL,
    canonical     text NOT NULL,
    hash          text NOT NULL,
    prev_hash     text NOT NULL,
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner_kind, owner_id, seq)
);

-- The commit stage's consumer positions, written in the same transaction as
-- the rows: the database, not Kafka, is the source of truth for them.
CREATE TABLE consumer_offsets (
    group_id      text NOT NULL,
    topic         text NOT NULL,
    partition     integer NOT NULL,
    next_offset   bigint NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, topic, partition)
);
