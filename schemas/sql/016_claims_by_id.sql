-- 016_claims_by_id.sql -- one claim per upload id: the message that read it
-- first.
--
-- 011 kept a row per (upload id, topic, partition, offset) and asked, for
-- every message of every run, whether another row existed: an insert into
-- a four-column text index and a probe per consumed upload.  The rule only
-- needs the first claimant: a message whose id is claimed by another topic
-- or partition, or by an earlier offset of its own, is a replay; a run
-- retried after an abort finds its own claim; a message at an earlier
-- offset of the same partition (a rewind past the claimant) takes the
-- claim over.  validate inserts with ON CONFLICT (upload_id) and asks about
-- the rows it did not insert only.
--
-- Existing duplicates keep the claim made first (earliest claimed_at, then
-- offset), the one every later message was measured against.
DELETE FROM upload_claims c
 USING upload_claims d
 WHERE d.upload_id = c.upload_id
   AND (d.claimed_at, d.topic, d.partition, d."offset")
     < (c.claimed_at, c.topic, c.partition, c."offset");
ALTER TABLE upload_claims DROP CONSTRAINT upload_claims_pkey;
ALTER TABLE upload_claims ADD PRIMARY KEY (upload_id);
