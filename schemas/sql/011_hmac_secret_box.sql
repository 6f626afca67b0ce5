-- 011_hmac_secret_box.sql -- HMAC secrets encrypted at rest.
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
