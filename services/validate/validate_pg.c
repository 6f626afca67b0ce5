/*
 * validate_pg.c -- the validate stage's lookups against PostgreSQL.
 *
 * Creators are cached (positive and negative answers) for
 * validate.creator.cache.ms so a burst of uploads costs one query per
 * creator, and a disabled creator is noticed within that time.  The replay
 * check asks samples, review_items and rejections (an upload id with any
 * outcome is used up), the duplicate check samples, through prepared
 * statements, prepared on every connect by the shared connection object
 * (sl_pgconn).  A broken connection is reported as SL_EIO (the runner
 * retries the batch) and re-opened on the next call.
 *
 * Claims (upload_claims, migrations 011 and 016) are the one thing validate
 * writes: each run's upload ids with where they were first read, autocommitted before
 * the run's outcomes are produced, so replay protection survives a restart
 * while commit has not stored the first outcome (see validate.c).
 *
 * HMAC secrets are stored sealed (hmac_secret_box, migration 011) under the
 * secrets key file (secrets.key.file), read at start and again when a
 * sealed secret turns up before the file existed.  A creator whose secret
 * is only in plaintext (key_material), or whose box does not open, is
 * logged and treated as unusable (its uploads are refused as disabled).
 *
 * The file ends with the stage glue: the descriptor handed to the runner,
 * whose init builds these lookups and the processor.  It is compiled into
 * the sluice-validate binary next to main.c, never into the processor library
 * (sl_validate), which links sl_core alone: a processor cannot call libpq.
 */
#include <sodium.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl/log.h"
#include "sl/pg.h"
#include "validate.h"

#define CREATOR_SLOTS 1024   /* cache buckets; entries chain */

typedef struct creator_entry {
    char *id;
    sl_key *key;          /* NULL for a cached "not found" */
    int found, active, verified;
    int64_t fetched_ms;
    struct creator_entry *next;
} creator_entry;

typedef struct pg_lookup {
    sl_pgconn *pg;
    int64_t ttl_ms;
    int64_t recheck_ms;
    char *skey_path;
    uint8_t skey[SL_SECRETS_KEY_LEN];
    int have_skey;
    int64_t claim_keep_s;      /* claims older than this are deleted */
    int64_t next_prune_ms;
    int64_t claim_copy_ms;     /* claims by COPY again from then (sl_mono_ms) */
    size_t n_entries;
    creator_entry *slots[CREATOR_SLOTS];
} pg_lookup;

/* Claims one prune deletes at most; more wait for the next batch. */
#define VALIDATE_PRUNE_ROWS 10000
/* Runs of at least this many ids are claimed by COPY first (pg_claim);
 * smaller ones by the statement, one round trip where a COPY takes two. */
#define CLAIM_COPY_MIN 16
/* After a COPY met an id claimed before, the claims go by statement alone
 * for this long: a stream of replays costs one wasted COPY a pause. */
#define CLAIM_COPY_PAUSE_MS 10000
#define VALIDATE_STR_(x) #x
#define VALIDATE_STR(x) VALIDATE_STR_(x)

/* The lookups, prepared on every new connection (sl_pgconn). */
static const sl_pg_stmt lookups[] = {
    { "creator", "SELECT key_alg, key_material, status = 'active', verified, "
                 "hmac_secret_box FROM creators WHERE creator_id = $1", 1 },
    /* Every consumed upload ends as exactly one row of samples,
     * review_items or rejections: an id in any of them is used up. */
    { "upload_seen", "SELECT 1 FROM samples WHERE upload_id = $1 UNION ALL "
                     "SELECT 1 FROM review_items WHERE upload_id = $1 UNION ALL "
                     "(SELECT 1 FROM rejections WHERE upload_id = $1 LIMIT 1)", 1 },
    { "run_uploads", "SELECT upload_id FROM samples "
                     "WHERE upload_id = ANY ($1::text[]) UNION ALL "
                     "SELECT upload_id FROM review_items "
                     "WHERE upload_id = ANY ($1::text[]) UNION "
                     "SELECT upload_id FROM rejections "
                     "WHERE upload_id = ANY ($1::text[])", 1 },
    { "run_contents", "SELECT dataset_id, sha256 FROM samples "
                      "WHERE sha256 = ANY ($1::text[])", 1 },
    { "content_seen", "SELECT 1 FROM samples "
                      "WHERE dataset_id = $1 AND sha256 = $2", 2 },
    /* Claims a run's (distinct) upload ids, one row per id (016): a new id
     * is inserted, a claim of the same partition at a later offset is
     * taken over (a rewind); the ids it returns are settled.  Only when it
     * returns fewer than it was given does validate ask "claim_check". */
    { "claim", "INSERT INTO upload_claims AS c (upload_id, topic, partition, \"offset\") "
               "SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[]) "
               "ON CONFLICT (upload_id) DO UPDATE SET \"offset\" = EXCLUDED.\"offset\" "
               "WHERE c.topic = EXCLUDED.topic AND c.partition = EXCLUDED.partition "
               "AND EXCLUDED.\"offset\" < c.\"offset\" "
               "RETURNING 1", 4 },
    /* Which of them (1-based) another message holds: another topic or
     * partition, or an earlier offset (its own claim, same offset, does
     * not count). */
    { "claim_check", "SELECT i.n FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[]) "
                     "  WITH ORDINALITY AS i(id, t, p, o, n) "
                     "JOIN upload_claims c ON c.upload_id = i.id "
                     "WHERE NOT (c.topic = i.t AND c.partition = i.p AND c.\"offset\" >= i.o)", 4 },
    /* A message of sluice.replay (023_dlq_replay.sql): does the operators'
     * request send this upload with these bytes, and is the upload stored
     * already (then it is a replay all the same). */
    { "replay_item", "SELECT EXISTS (SELECT 1 FROM dlq_replay_items "
                     "  WHERE request_id = $1 AND upload_id = $2 AND sha256 = $3), "
                     "EXISTS (SELECT 1 FROM samples WHERE upload_id = $2 UNION ALL "
                     "  SELECT 1 FROM review_items WHERE upload_id = $2)", 3 },
    /* At most VALIDATE_PRUNE_ROWS a time (it runs inside a batch). */
    { "claim_prune", "DELETE FROM upload_claims WHERE ctid = ANY (ARRAY("
                     "SELECT ctid FROM upload_claims "
                     "WHERE claimed_at < now() - make_interval(secs => $1::bigint) "
                     "LIMIT " VALIDATE_STR(VALIDATE_PRUNE_ROWS) "))", 1 },
};

static size_t bucket(const char *id)
{
    uint64_t h = 1469598103934665603ULL;

    for (const char *p = id; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ULL;
    return (size_t)(h % CREATOR_SLOTS);
}

static void free_entry(creator_entry *e)
{
    free(e->id);
    sl_key_destroy(e->key);
    free(e);
}

/* Reads the secrets key file; SL_OK, SL_ENOTFOUND or SL_EINVAL/SL_EIO. */
static int load_skey(pg_lookup *l, sl_err *err)
{
    int rc = sl_secrets_key_load(l->skey_path, l->skey, err);

    l->have_skey = rc == SL_OK;
    return rc;
}

/* The creator's key from its registry row (columns of the "creator"
 * lookup): an Ed25519 public key as stored, an HMAC secret only from its
 * sealed box.  NULL with err set when unusable. */
static sl_key *creator_key(pg_lookup *l, const char *id, sl_sig_alg alg,
                           const PGresult *r, sl_err *err)
{
    uint8_t secret[SL_HMAC_SECRET_MAX];
    size_t len = 0;
    sl_key *k;

    if (alg != SL_SIG_HMAC_SHA256)
        return sl_key_new(alg, (const uint8_t *)PQgetvalue(r, 0, 1),
                          (size_t)PQgetlength(r, 0, 1), err);
    if (PQgetisnull(r, 0, 4)) {
        sl_err_set(err, "its HMAC secret is stored in plaintext, not sealed: "
                   "run `sluicectl creator seal-secrets` (migration 011)");
        return NULL;
    }
    if (!l->have_skey && load_skey(l, err) != SL_OK)
        return NULL;
    if (sl_hmac_box_open(l->skey, id, (const uint8_t *)PQgetvalue(r, 0, 4),
                         (size_t)PQgetlength(r, 0, 4), secret, &len, err) != SL_OK)
        return NULL;
    k = sl_key_new(alg, secret, len, err);
    sodium_memzero(secret, sizeof(secret));
    return k;
}

static int pg_creator(void *u, const char *id, sl_key **key, int *active,
                      int *verified)
{
    pg_lookup *l = u;
    creator_entry *e, **pp = &l->slots[bucket(id)];
    int64_t now = sl_mono_ms();
    const char *params[1] = { id };
    PGresult *r;
    sl_err err;

    for (e = *pp; e; pp = &e->next, e = e->next)
        if (strcmp(e->id, id) == 0)
            break;
    if (e && now - e->fetched_ms < l->ttl_ms)
        goto answer;
    if (e) {          /* expired: unlink and refetch */
        *pp = e->next;
        free_entry(e);
        l->n_entries--;
        e = NULL;
    }
    if (sl_pgconn_exec(l->pg, "creator", 1, params, 1, &r, &err) != SL_OK)
        return SL_EIO;
    if (!(e = calloc(1, sizeof(*e))) || !(e->id = strdup(id))) {
        free(e);
        PQclear(r);
        return SL_ENOMEM;
    }
    e->fetched_ms = now;
    if (PQntuples(r) == 1) {
        e->found = 1;
        sl_sig_alg alg = sl_sig_alg_parse(PQgetvalue(r, 0, 0));
        /* Binary results: a bool is one byte 0/1, bytea its raw bytes. */
        e->active = PQgetvalue(r, 0, 2)[0] == 1;
        e->verified = PQgetvalue(r, 0, 3)[0] == 1;
        e->key = creator_key(l, id, alg, r, &err);
        if (!e->key) {
            /* A registry row we cannot use: treat the creator as disabled. */
            sl_error("validate", "creator %s has an unusable key: %s", id, err.msg);
            e->active = 0;
        }
    }
    PQclear(r);
    if (l->n_entries >= 100000) {   /* cap: drop this bucket's chain */
        while (l->slots[bucket(id)]) {
            creator_entry *x = l->slots[bucket(id)];
            l->slots[bucket(id)] = x->next;
            free_entry(x);
            l->n_entries--;
        }
    }
    e->next = l->slots[bucket(id)];
    l->slots[bucket(id)] = e;
    l->n_entries++;
answer:
    if (!e->found)
        return SL_ENOTFOUND;
    *key = e->key;
    *active = e->active;
    *verified = e->verified;
    return SL_OK;
}

static int exists(pg_lookup *l, const char *stmt, int n, const char *const *params,
                  int *seen)
{
    PGresult *r;
    sl_err err;

    if (sl_pgconn_exec(l->pg, stmt, n, params, 0, &r, &err) != SL_OK)
        return SL_EIO;
    *seen = PQntuples(r) > 0;
    PQclear(r);
    return SL_OK;
}

static int pg_upload_seen(void *u, const char *upload_id, int *seen)
{
    const char *p[1] = { upload_id };
    return exists(u, "upload_seen", 1, p, seen);
}

static int pg_content_seen(void *u, const char *dataset, const char *sha, int *seen)
{
    const char *p[2] = { dataset, sha };
    return exists(u, "content_seen", 2, p, seen);
}

/* Drops creator_id's cached record if it is at least recheck_ms old, so
 * one failing upload per creator per recheck_ms may ask the registry again
 * (bounded: a flood of forged signatures costs at most that). */
static int pg_recheck(void *u, const char *id)
{
    pg_lookup *l = u;
    creator_entry *e, **pp = &l->slots[bucket(id)];

    for (e = *pp; e; pp = &e->next, e = e->next)
        if (strcmp(e->id, id) == 0)
            break;
    if (!e || sl_mono_ms() - e->fetched_ms < l->recheck_ms)
        return 0;
    *pp = e->next;
    free_entry(e);
    l->n_entries--;
    return 1;
}

static int pg_prefetch(void *u, const char *const *ids, size_t n_ids,
                       const char *const *shas, size_t n_shas,
                       void (*seen_upload)(void *, const char *),
                       void (*seen_content)(void *, const char *, const char *),
                       void *arg)
{
    pg_lookup *l = u;
    const char *stmts[2] = { "run_uploads", "run_contents" };
    const char *const *lists[2] = { ids, shas };
    size_t counts[2] = { n_ids, n_shas };
    sl_err err;
    int rc = SL_OK;

    for (int q = 0; q < 2; q++) {
        const char **keys;
        PGresult *r;

        if (!counts[q])
            continue;
        /* a copy: sl_pgconn_exec_keys reorders the keys it sends */
        if (!(keys = malloc(counts[q] * sizeof(*keys))))
            return SL_ENOMEM;
        memcpy(keys, lists[q], counts[q] * sizeof(*keys));
        rc = sl_pgconn_exec_keys(l->pg, stmts[q], keys, counts[q],
                                 (size_t)1 << 26, &r, &err);
        free(keys);
        if (rc != SL_OK)
            return rc == SL_ENOMEM ? SL_ENOMEM : SL_EIO;
        for (int i = 0; i < PQntuples(r); i++) {
            if (q == 0)
                seen_upload(arg, PQgetvalue(r, i, 0));
            else
                seen_content(arg, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
        }
        PQclear(r);
    }
    return SL_OK;
}

/* Claims every id of c[0..n) by one binary COPY: what the "claim"
 * statement does when all of them are new, the run of a drain, at about
 * half the server's work a row (the bench README, "validate's claims by
 * COPY").  The COPY runs outside a transaction block, so it is its own
 * transaction: all rows or none.  SL_OK: all claimed, none earlier.
 * SL_EINVAL: an id was claimed before (SQLSTATE 23505: a replay, a
 * retried run, another instance), nothing was written, the connection
 * stays.  SL_EIO: it failed otherwise (logged, the connection dropped). */
static int claim_copy(pg_lookup *l, const sl_validate_claim *c, size_t n)
{
    PGconn *conn;
    sl_pg_copy cp;
    sl_err err;
    int rc;

    if (sl_pgconn_get(l->pg, &conn, &err) != SL_OK)
        return SL_EIO;
    if (sl_pg_copy_begin_binary(&cp, conn,
            "COPY upload_claims (upload_id, topic, partition, \"offset\") "
            "FROM STDIN WITH (FORMAT binary)", &err) != SL_OK) {
        sl_warn("validate", "claims: %s", err.msg);
        sl_pgconn_drop(l->pg);
        return SL_EIO;
    }
    for (size_t i = 0; i < n; i++) {
        sl_pg_copy_str(&cp, c[i].upload_id);
        sl_pg_copy_str(&cp, c[i].topic);
        sl_pg_copy_int32(&cp, c[i].partition);
        sl_pg_copy_int(&cp, c[i].offset);
        sl_pg_copy_row_end(&cp);
    }
    rc = sl_pg_copy_end(&cp, &err);
    if (rc == SL_OK)
        return SL_OK;
    if (strcmp(cp.sqlstate, "23505") == 0 && PQstatus(conn) == CONNECTION_OK &&
        PQtransactionStatus(conn) == PQTRANS_IDLE)
        return SL_EINVAL;
    sl_warn("validate", "claims: %s", err.msg);
    sl_pgconn_drop(l->pg);
    return SL_EIO;
}

/* Claims (see sl_validate_lookup.claim), and once an hour deletes the
 * claims older than the created_at window plus a day: by then commit has
 * stored every outcome, which the outcome lookups find for good.
 *
 * A run of new ids, the drain's case, goes by COPY (claim_copy).  When
 * the COPY meets an id claimed before, the "claim" statement decides the
 * run as it always did (it takes over a claim of the same partition at a
 * later offset, and "claim_check" names the ids held elsewhere), and the
 * next CLAIM_COPY_PAUSE_MS of claims go by statement alone, so replays
 * cost at most one wasted COPY a pause. */
static int pg_claim(void *u, sl_validate_claim *c, size_t n)
{
    pg_lookup *l = u;
    static const unsigned oids[4] = { SL_PG_TEXT, SL_PG_TEXT, SL_PG_INT4, SL_PG_INT8 };
    static const int fmt[4] = { 1, 1, 1, 1 };
    sl_buf arr[4];
    const char *params[4];
    int len[4];
    char num[32];
    PGresult *r;
    sl_err err;
    int rc = SL_OK;

    for (size_t i = 0; i < n; i++)
        c[i].earlier = 0;
    if (n >= CLAIM_COPY_MIN && sl_mono_ms() >= l->claim_copy_ms) {
        rc = claim_copy(l, c, n);
        if (rc == SL_OK) {
            sl_debug("validate", "claims: %zu ids by COPY", n);
            goto prune;
        }
        if (rc != SL_EINVAL)
            return SL_EIO;   /* logged; the run is retried */
        l->claim_copy_ms = sl_mono_ms() + CLAIM_COPY_PAUSE_MS;
        sl_info("validate", "claims: an id of a run of %zu was claimed before "
                "(a replay or a retried run); claims by statement for %d s",
                n, CLAIM_COPY_PAUSE_MS / 1000);
        rc = SL_OK;
    }
    sl_debug("validate", "claims: %zu ids by statement", n);
    /* Four arrays in the claims' order, sent binary (sl_pg_barray_begin). */
    for (int a = 0; a < 4; a++) {
        sl_buf_init(&arr[a], (size_t)1 << 26);
        if (rc == SL_OK)
            rc = sl_pg_barray_begin(&arr[a], oids[a], n);
    }
    for (size_t i = 0; i < n && rc == SL_OK; i++) {
        rc = sl_pg_barray_text(&arr[0], c[i].upload_id, strlen(c[i].upload_id));
        if (rc == SL_OK)
            rc = sl_pg_barray_text(&arr[1], c[i].topic, strlen(c[i].topic));
        if (rc == SL_OK)
            rc = sl_pg_barray_int4(&arr[2], c[i].partition);
        if (rc == SL_OK)
            rc = sl_pg_barray_int8(&arr[3], c[i].offset);
    }
    if (rc != SL_OK) {
        for (int a = 0; a < 4; a++)
            sl_buf_free(&arr[a]);
        return SL_EIO;   /* the run is retried */
    }
    for (int a = 0; a < 4; a++) {
        params[a] = (const char *)arr[a].data;
        len[a] = (int)arr[a].len;     /* at most the buffer's 64 MiB */
    }
    rc = sl_pgconn_execb(l->pg, "claim", 4, params, len, fmt, 0, &r, &err);
    if (rc == SL_OK && (size_t)PQntuples(r) < n) {
        /* Some ids were claimed before: by this message (a retried run) or
         * by another one. */
        PQclear(r);
        rc = sl_pgconn_execb(l->pg, "claim_check", 4, params, len, fmt, 0, &r, &err);
        for (int i = 0; rc == SL_OK && i < PQntuples(r); i++) {
            long k = strtol(PQgetvalue(r, i, 0), NULL, 10);
            if (k >= 1 && (size_t)k <= n)
                c[k - 1].earlier = 1;
        }
    }
    for (int a = 0; a < 4; a++)
        sl_buf_free(&arr[a]);
    if (rc != SL_OK)
        return SL_EIO;   /* logged; claiming upload ids failed */
    PQclear(r);
prune:
    if (sl_mono_ms() >= l->next_prune_ms) {
        snprintf(num, sizeof(num), "%" PRId64, l->claim_keep_s);
        params[0] = num;
        /* A failure is logged and tried again next time.  A full chunk
         * deleted: the next batch deletes the next one (an hour of claims
         * at a few thousand uploads a second is millions of rows, more
         * than one batch's statement may take). */
        if (sl_pgconn_exec(l->pg, "claim_prune", 1, params, 0, &r, &err) == SL_OK) {
            long gone = strtol(PQcmdTuples(r), NULL, 10);

            l->next_prune_ms = gone >= VALIDATE_PRUNE_ROWS ? 0 : sl_mono_ms() + 3600 * 1000;
            if (gone > 0)
                sl_info("validate", "pruned %ld claims older than %s s", gone, num);
            PQclear(r);
        }
    }
    return SL_OK;
}

static int pg_replay(void *u, const char *request_id, const char *upload_id,
                     const char *sha256, int *requested, int *accepted)
{
    pg_lookup *l = u;
    const char *p[3] = { request_id, upload_id, sha256 };
    PGresult *r;
    sl_err err;

    if (sl_pgconn_exec(l->pg, "replay_item", 3, p, 0, &r, &err) != SL_OK)
        return SL_EIO;
    *requested = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    *accepted = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 1), "t") == 0;
    PQclear(r);
    return SL_OK;
}

static void pg_destroy(void *u)
{
    pg_lookup *l = u;

    if (!l)
        return;
    for (size_t i = 0; i < CREATOR_SLOTS; i++) {
        while (l->slots[i]) {
            creator_entry *e = l->slots[i];
            l->slots[i] = e->next;
            free_entry(e);
        }
    }
    sl_pgconn_destroy(l->pg);
    sodium_memzero(l->skey, sizeof(l->skey));
    free(l->skey_path);
    free(l);
}

int sl_validate_pg_lookup(sl_validate_lookup *lk, const sl_config *cfg, sl_err *err)
{
    pg_lookup *l = calloc(1, sizeof(*l));
    const sl_pgconn_opts opts = {
        .who = "validate", .stmts = lookups,
        .n_stmts = sizeof(lookups) / sizeof(lookups[0]),
    };
    int rc;

    memset(lk, 0, sizeof(*lk));
    if (!l) {
        sl_err_set(err, "out of memory");
        return SL_ERR;
    }
    l->ttl_ms = sl_config_int(cfg, "validate.creator.cache.ms");
    l->recheck_ms = sl_config_int(cfg, "validate.creator.recheck.ms");
    l->claim_keep_s = sl_config_int(cfg, "validate.window.past.s") +
                      sl_config_int(cfg, "validate.window.future.s") + 86400;
    {
        const char *kp = sl_config_get(cfg, "secrets.key.file");

        if (!(l->skey_path = strdup(kp && *kp ? kp : "secrets.key"))) {
            sl_err_set(err, "out of memory");
            pg_destroy(l);
            return SL_ERR;
        }
        /* Missing: no HMAC creator yet (it is read again when one shows
         * up).  Present but unsafe or malformed: refuse to start. */
        rc = load_skey(l, err);
        if (rc == SL_ENOTFOUND) {
            sl_warn("validate", "%s; HMAC creators cannot be checked until "
                    "`sluicectl creator add` creates it", err->msg);
        } else if (rc != SL_OK) {
            pg_destroy(l);
            return SL_ERR;
        }
    }
    /* A bad conninfo fails the start (SL_EINVAL); a database that does not
     * answer yet is SL_EIO, which the runner retries; later drops are
     * retried statement by statement. */
    if ((rc = sl_pgconn_open(&l->pg, cfg, &opts, err)) != SL_OK) {
        pg_destroy(l);
        return rc;
    }
    lk->u = l;
    lk->creator = pg_creator;
    lk->upload_seen = pg_upload_seen;
    lk->content_seen = pg_content_seen;
    lk->prefetch = pg_prefetch;
    lk->recheck = pg_recheck;
    lk->claim = sl_config_bool(cfg, "validate.claims") ? pg_claim : NULL;
    lk->replay = pg_replay;
    lk->destroy = pg_destroy;
    return SL_OK;
}

/* ---- stage glue: the real lookups wired into the processor ---------------- */

static int stage_init(void **ctx, const sl_config *cfg, sl_err *err)
{
    sl_validate_lookup lk;
    sl_validate *v;
    int rc;

    if ((rc = sl_validate_pg_lookup(&lk, cfg, err)) != SL_OK)
        return rc;   /* SL_EIO: the runner retries */
    if (sl_validate_new(&v, cfg, &lk, err) != SL_OK) {
        lk.destroy(lk.u);
        return SL_ERR;
    }
    *ctx = v;
    return SL_OK;
}

static int stage_prepare(void *ctx, const sl_msg *msgs, size_t n)
{
    return sl_validate_prepare(ctx, msgs, n);
}

static sl_verdict stage_process(void *ctx, const sl_msg *in, sl_out *out)
{
    return sl_validate_process(ctx, in, out);
}

static void stage_txn_end(void *ctx, int committed)
{
    sl_validate_txn_end(ctx, committed);
}

static void stage_destroy(void *ctx)
{
    sl_validate_destroy(ctx);
}

const sl_processor sl_validate_stage = {
    .stage = &sl_topology_stages[SL_STAGE_VALIDATE],
    .config_map = sl_validate_config,
    .init = stage_init,
    .prepare = stage_prepare,
    .process = stage_process,
    .txn_end = stage_txn_end,
    .destroy = stage_destroy,
};
