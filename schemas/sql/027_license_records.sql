-- 027_license_records.sql -- each bound license record stored once.
--
-- The license stage binds every sample to a record of its license: the
-- expression, the branch chosen, the rights, the versions of the policy,
-- rights table and SPDX list it was decided under (services/license/
-- rights.c, sl_license_record).  About 520 bytes of JSON, the same for
-- every sample bound under one policy and license, which samples.license
-- held again as jsonb on every row: 15-17 us of PostgreSQL's CPU a sample
-- to parse and store, measured alone, and the bytes in the heap and the
-- write-ahead log (tests/bench/README.md).  Now license_records holds each
-- distinct record once, keyed by the SHA-256 (lowercase hex) of its text
-- as commit received it, and samples.license_sha256 names it.  Readers
-- look it up by key, (SELECT record FROM license_records WHERE sha256 =
-- s.license_sha256): a scalar sub-select, one index probe a row (a SQL
-- function around it would not be inlined).
--
-- Existing rows move here: each distinct stored record once, keyed by the
-- SHA-256 of its jsonb text (the form stored rows have; a record bound
-- again after this migration may then be held twice, under its received
-- text's key too, which changes nothing a reader sees).  Nothing in the
-- provenance chains covers samples.license, so `audit verify` checks
-- every stored chain exactly as before.  No foreign key, like the other
-- per-sample references (025_hot_path_foreign_keys.sql): commit writes a
-- batch's records before its samples, in the same transaction.
CREATE TABLE license_records (
    sha256      text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    record      jsonb NOT NULL,
    stored_at   timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE samples ADD COLUMN license_sha256 text;

UPDATE samples
   SET license_sha256 = encode(sha256(convert_to(license::text, 'UTF8')), 'hex')
 WHERE license IS NOT NULL;

INSERT INTO license_records (sha256, record)
SELECT DISTINCT ON (license_sha256) license_sha256, license
  FROM samples WHERE license_sha256 IS NOT NULL
 ORDER BY license_sha256;

ALTER TABLE samples DROP COLUMN license;
