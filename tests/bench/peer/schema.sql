-- schema.sql -- the Python peer's role and tables (tests/bench/peer), run
-- as the superuser on a bench stack's sluice database by versus.sh:
--   psql -v pw=PASSWORD -f schema.sql
-- Role sluice_peer logs in with its own password, reads the creators'
-- keys (only the columns validate reads) and owns schema peer; it writes
-- nothing of sluice's.  Re-runnable.
SELECT format('CREATE ROLE sluice_peer LOGIN PASSWORD %L', :'pw')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sluice_peer') \gexec
ALTER ROLE sluice_peer LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'pw';
SELECT format('GRANT CONNECT ON DATABASE %I TO sluice_peer', current_database()) \gexec
GRANT USAGE ON SCHEMA public TO sluice_peer;
GRANT SELECT (creator_id, key_alg, key_material, status, verified)
   ON public.creators TO sluice_peer;
CREATE SCHEMA IF NOT EXISTS peer AUTHORIZATION sluice_peer;
SET ROLE sluice_peer;
-- What a team would keep of an accepted upload (the columns of sluice's
-- samples, the content inline).  No unique key: at-least-once, and COPY
-- cannot skip a row a redelivered batch already stored.
CREATE TABLE IF NOT EXISTS peer.samples (
    upload_id          text NOT NULL,
    creator_id         text NOT NULL,
    dataset_id         text NOT NULL,
    content_type       text NOT NULL,
    sha256             text NOT NULL,
    size               bigint NOT NULL,
    license_expression text NOT NULL,
    filename           text,
    meta               text NOT NULL,
    signature          text NOT NULL,
    created_at         timestamptz NOT NULL,
    accepted_at        timestamptz NOT NULL DEFAULT now(),
    content            bytea NOT NULL,
    source_topic       text NOT NULL,
    source_partition   integer NOT NULL,
    source_offset      bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS peer.rejections (
    upload_id          text,
    code               text NOT NULL,
    detail             text NOT NULL,
    rejected_at        timestamptz NOT NULL DEFAULT now(),
    source_topic       text NOT NULL,
    source_partition   integer NOT NULL,
    source_offset      bigint NOT NULL
);
RESET ROLE;
