-- grants.sql -- who may do what in the sluice database, applied at the end
-- of every `sluicectl db migrate` (not a numbered migration: it runs each
-- time, so a table a later migration adds gets its grants here, in one
-- place).  Re-runnable and idempotent: every privilege is first revoked,
-- then granted again.
--
-- Roles (cluster-wide; deploy/stack.sh creates them with LOGIN and a
-- generated password; created here NOLOGIN if absent and allowed):
--   sluice_owner     runs `sluicectl db migrate`, owns every table; not a
--                    superuser.  The database is owned by it too.
--   sluice_validate  reads creators and every outcome so far (replay,
--                    duplicate content); writes only its upload claims.
--   sluice_scan      reads the datasets' allowed types; writes nothing.
--   sluice_license   reads the registry and quotas; writes nothing.
--   sluice_commit    the only writer of samples, contents, rejections,
--                    review items, provenance events, quota usage and its
--                    own consumer offsets; reads what it deduplicates on.
--   sluice_review    the moderators' dashboard (services/review): reads
--                    moderators, review items and their content and
--                    chains; writes its sessions, login attempts, claims
--                    and decisions on review items, review chain events
--                    and heads, reveals and its outbox.
--   sluice_feed      the delivery service (services/feed): reads accepted
--                    samples, their content, chains and the registry of
--                    consumers, grants and tokens, creators' outcomes;
--                    writes only usage events.
--   sluice_ledger    the ledger's poster (services/ledger): reads usage
--                    events, datasets and withdrawals; writes accounts and
--                    their totals, transfers, postings, applied
--                    withdrawals and the ledger clock.
--   sluice_ctl       operator commands (sluicectl creator, dataset, optout,
--                    takedown, consumer, grant, token, usage, scan review,
--                    audit, status): rows in every table, no DDL.
-- A new table: sluice_ctl gets it by itself; grant it below to each stage
-- that reads or writes it (services/*/*_pg.c), nothing more.

DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['sluice_owner', 'sluice_validate', 'sluice_scan',
                             'sluice_license', 'sluice_commit', 'sluice_review',
                             'sluice_feed', 'sluice_ctl', 'sluice_ledger'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = current_user
                           AND (rolsuper OR rolcreaterole)) THEN
                RAISE EXCEPTION 'role % does not exist', r
                    USING HINT = 'create the sluice roles first (deploy/stack.sh start does)';
            END IF;
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
END $$;

-- The database: only the sluice roles connect, nobody makes temp tables, and
-- only the owner creates objects in the public schema.
DO $$
BEGIN
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO sluice_validate, sluice_scan,'
                   ' sluice_license, sluice_commit, sluice_review, sluice_feed, sluice_ctl, sluice_ledger',
                   current_database());
END $$;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO sluice_validate, sluice_scan, sluice_license,
    sluice_commit, sluice_review, sluice_feed, sluice_ctl, sluice_ledger;

-- Start from nothing on every table and sequence, then grant.
REVOKE ALL ON ALL TABLES IN SCHEMA public
    FROM PUBLIC, sluice_validate, sluice_scan, sluice_license, sluice_commit,
         sluice_review, sluice_feed, sluice_ctl, sluice_ledger;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public
    FROM PUBLIC, sluice_validate, sluice_scan, sluice_license, sluice_commit,
         sluice_review, sluice_feed, sluice_ctl, sluice_ledger;

-- validate (services/validate/validate_pg.c)
GRANT SELECT ON creators, samples, review_items, rejections TO sluice_validate;
GRANT SELECT, INSERT, UPDATE, DELETE ON upload_claims TO sluice_validate;
-- an operator's replay request (023_dlq_replay.sql), checked for each
-- message of sluice.replay
GRANT SELECT ON dlq_replay_items TO sluice_validate;

-- scan (services/scan/scan_pg.c)
GRANT SELECT ON datasets TO sluice_scan;

-- license (services/license/license_pg.c)
GRANT SELECT ON datasets, dataset_contributors, creator_optouts, takedowns,
    quota_usage TO sluice_license;

-- commit (services/commit/commit_pg.c): COPY needs INSERT; the upserts of
-- quota_usage and consumer_offsets and SELECT ... FOR UPDATE need UPDATE.
GRANT SELECT ON datasets, samples, review_items, contents TO sluice_commit;
GRANT INSERT ON contents, samples, rejections, review_items, provenance_chains
    TO sluice_commit;
-- each bound license record once (027_license_records.sql: INSERT ... ON
-- CONFLICT DO NOTHING reads the key it finds)
GRANT SELECT, INSERT ON license_records TO sluice_commit;
GRANT SELECT, INSERT, UPDATE ON quota_usage, consumer_offsets TO sluice_commit;
GRANT USAGE ON SEQUENCE rejections_rejection_id_seq TO sluice_commit;
-- a moderator's decision checked against the stored review event, and a
-- dead letter sent twice recognised (commit_review_pg.c)
GRANT SELECT ON provenance_events, rejections TO sluice_commit;
-- its chain heads and their seals (010_chain_heads.sql); its key registered
-- once (INSERT ... ON CONFLICT DO NOTHING reads the row it finds)
GRANT SELECT, INSERT ON audit_keys TO sluice_commit;
GRANT INSERT ON head_seals, chain_heads TO sluice_commit;
GRANT USAGE ON SEQUENCE head_seals_seal_id_seq TO sluice_commit;
-- each batch's feed positions (017_feed.sql: UPDATE ... RETURNING reads
-- the row it updates)
GRANT SELECT, UPDATE ON feed_clock TO sluice_commit;

-- review (services/review/review_pg.c): accounts are sluicectl's; the
-- service only reads them.  On review items it changes the claim and the
-- decision columns, nothing the scan stage recorded.
GRANT SELECT ON moderators, contents TO sluice_review;
GRANT SELECT (upload_id, creator_id, dataset_id, content_type, detected_type,
              sha256, size, license_expression, filename, meta, signature,
              findings, state, created_at, flagged_at, decided_at, decided_by,
              source_topic, source_partition, source_offset, claimed_by,
              claim_until) ON review_items TO sluice_review;
GRANT UPDATE (state, decided_at, decided_by, claimed_by, claim_until)
    ON review_items TO sluice_review;
GRANT SELECT, INSERT, UPDATE, DELETE ON review_sessions TO sluice_review;
GRANT SELECT, INSERT, DELETE ON review_login_attempts, review_approvals
    TO sluice_review;
GRANT SELECT, INSERT ON review_decisions, review_reveals TO sluice_review;
-- review events appended as rows of provenance_chains, read back through
-- the provenance_events view (028_provenance_chains.sql; a view reads its
-- table with its owner's rights)
GRANT INSERT ON provenance_chains TO sluice_review;
GRANT SELECT ON provenance_events TO sluice_review;
GRANT SELECT, INSERT, UPDATE (sent_at, cancelled_at) ON review_outbox TO sluice_review;
GRANT SELECT, INSERT ON audit_keys TO sluice_review;
GRANT SELECT, INSERT ON head_seals, chain_heads TO sluice_review;
GRANT USAGE ON SEQUENCE review_login_attempts_attempt_id_seq,
    review_decisions_decision_id_seq, review_reveals_reveal_id_seq,
    review_outbox_outbox_id_seq, head_seals_seal_id_seq TO sluice_review;

-- feed (services/feed/feed_pg.c): what it serves -- accepted samples and
-- their content, datasets, creators, tombstones, the chains' heads (for
-- prov_head) -- who may read it (consumers, grants, tokens), and each
-- creator's outcomes (rejections, review items, upload claims); it writes
-- one usage event per consumer and sample delivered, nothing else.
GRANT SELECT ON samples, license_records, contents, datasets, creators, feed_changes,
    feed_clock, consumers, grants, feed_tokens, chain_heads,
    provenance_events, rejections, review_items, upload_claims, usage_events
    TO sluice_feed;
-- each line's provenance head from the stored row itself (SL_PROV_PG_LAST_HASH
-- in sl/prov_pg.h: one index probe instead of the view's unnest and sort)
GRANT SELECT ON provenance_chains TO sluice_feed;
GRANT INSERT ON usage_events TO sluice_feed;
GRANT USAGE ON SEQUENCE usage_events_usage_id_seq TO sluice_feed;
-- ... and a creator's ledger statement (GET /v1/creators/me/statement,
-- services/ledger/statement_pg.c): the ledger, read only.
GRANT SELECT ON ledger_accounts, ledger_transfers, ledger_postings, payouts
    TO sluice_feed;

-- withdrawals (017_feed.sql feed_withdraw): the operators' alone; it runs
-- with its caller's privileges anyway.
REVOKE ALL ON FUNCTION feed_withdraw(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION feed_withdraw(text, text, text) TO sluice_ctl;

-- operators (services/sluicectl): rows of every table, a new one included,
-- never the schema; the record of migrations is read-only.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO sluice_ctl;
REVOKE INSERT, UPDATE, DELETE ON schema_migrations FROM sluice_ctl;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO sluice_ctl;

-- ledger (services/ledger/ledger_pg.c): posts usage events and applies
-- withdrawals; the clock row is locked (SELECT ... FOR UPDATE) and
-- advanced, account totals updated, nothing deleted.
GRANT SELECT ON usage_events, datasets, feed_changes TO sluice_ledger;
GRANT SELECT, UPDATE ON ledger_clock TO sluice_ledger;
GRANT SELECT, INSERT, UPDATE (debits_posted, credits_posted) ON ledger_accounts TO sluice_ledger;
GRANT SELECT, INSERT ON ledger_transfers, ledger_postings, ledger_withdrawals TO sluice_ledger;
GRANT USAGE ON SEQUENCE ledger_accounts_account_id_seq TO sluice_ledger;
-- The ledger is append-only for every role (018_ledger.sql): the operators
-- post and settle through sluicectl's INSERTs and account totals, they
-- never rewrite or remove a transfer, a posting or an account.
REVOKE UPDATE, DELETE, TRUNCATE ON ledger_transfers, ledger_postings, ledger_withdrawals
    FROM sluice_ctl;
REVOKE DELETE, TRUNCATE ON ledger_accounts FROM sluice_ctl;
