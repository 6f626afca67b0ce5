-- 011_validate_hardening.sql -- HMAC secrets encrypted at rest; upload ids claimed by validate.
--
-- An HMAC-SHA256 creator's shared secret is kept in hmac_secret_box,
-- sealed with libsodium crypto_secretbox under the key file only validate
-- and `sluicectl creator add` read (secrets.key.file):
--   0x01 || 24-byte random nonce || secretbox(len(creator_id) || creator_id || secret)
-- (the creator id inside binds a box to its row), and key_material is then
-- empty for that creator.  A migration cannot encrypt: rows written before
-- it keep their plaintext secret in key_material until
-- `sluicectl creator seal-secrets` seals them; validate refuses (logs and
-- treats as unusable) an HMAC creator whose secret is not sealed.
ALTER TABLE creators ADD COLUMN hmac_secret_box bytea;
ALTER TABLE creators ADD CONSTRAINT creators_hmac_box_only_hmac
    CHECK (hmac_secret_box IS NULL OR key_alg = 'hmac-sha256');

-- Upload ids validate has consumed, written by validate (autocommit) for
-- each run of messages before their outcomes are produced in its Kafka
-- transaction.  Keyed by where the message was read, so a run retried
-- after an abort or a crash finds its own claims and is not a replay of
-- itself, while another message with the same id is: replay protection
-- that holds across validate restarts even when commit has not stored the
-- first message's outcome yet.  validate deletes claims older than its
-- created_at window plus a day (samples, review_items and rejections keep
-- every outcome for good).
CREATE TABLE upload_claims (
    upload_id   text NOT NULL,
    topic       text NOT NULL,
    partition   integer NOT NULL,
    "offset"    bigint NOT NULL,
    claimed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (upload_id, topic, partition, "offset")
);
-- Append-only by time: a BRIN index keeps the hourly prune cheap and costs
-- next to nothing per insert.
CREATE INDEX upload_claims_claimed_idx ON upload_claims USING brin (claimed_at);
