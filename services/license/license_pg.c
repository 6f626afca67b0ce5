/*
 * license_pg.c -- the license stage's registry in PostgreSQL.
 *
 * Datasets (policy, open flag, quotas) are cached for
 * license.dataset.cache.ms.  Everything else is asked once per run of
 * messages: which creators opted out, which hashes are taken down, which
 * creators contribute to closed datasets, and how much each creator put in
 * each dataset with a quota today -- four statements, whatever the run's
 * size.  A lost connection is SL_EIO (the runner retries the run) and is
 * reopened on the next call.
 *
 * The file ends with the stage glue: the descriptor handed to the runner,
 * whose init builds these lookups and the processor.  It is compiled into
 * the sluice-license binary next to main.c, never into the processor library
 * (sl_license_stage), which links sl_core alone: a processor cannot call libpq.
 */
#include <stdlib.h>
#include <string.h>

#include "sl/log.h"
#include "sl/pg.h"
#include "sl/quota_pg.h"
#include "license_stage.h"

#define DS_CACHE 256

typedef struct ds_entry {
    char *id;
    int found, open;
    char *policy, *version;
    sl_quota quota;
    int64_t fetched_ms;
} ds_entry;

typedef struct lic_pg {
    char *dsn;
    PGconn *conn;
    int64_t ttl_ms;
    ds_entry ds[DS_CACHE];
    size_t next;
} lic_pg;

static void drop_conn(lic_pg *l)
{
    if (l->conn)
        PQfinish(l->conn);
    l->conn = NULL;
}

static int ensure_conn(lic_pg *l)
{
    sl_err err;

    if (l->conn && PQstatus(l->conn) == CONNECTION_OK)
        return SL_OK;
    drop_conn(l);
    if (!(l->conn = sl_pg_connect(l->dsn, &err))) {
        sl_warn("license", "%s", err.msg);
        return SL_EIO;
    }
    /* Key lookups only (see validate_pg.c). */
    if (sl_pg_exec(l->conn, "SET enable_seqscan = off", &err) != SL_OK) {
        sl_warn("license", "%s", err.msg);
        drop_conn(l);
        return SL_EIO;
    }
    return SL_OK;
}

static PGresult *query(lic_pg *l, const char *what, const char *sql, int n,
                       const char *const *vals)
{
    PGresult *r = PQexecParams(l->conn, sql, n, NULL, vals, NULL, NULL, 0);
    sl_err err;

    if (PQresultStatus(r) == PGRES_TUPLES_OK)
        return r;
    sl_pg_fail(l->conn, r, what, &err);
    sl_warn("license", "%s", err.msg);
    PQclear(r);
    drop_conn(l);
    return NULL;
}

static void ds_clear(ds_entry *e)
{
    free(e->id);
    free(e->policy);
    free(e->version);
    memset(e, 0, sizeof(*e));
}

static int pg_dataset(void *u, const char *id, sl_license_dataset *out)
{
    lic_pg *l = u;
    ds_entry *e = NULL;
    PGresult *r;
    int64_t now = sl_mono_ms();

    for (size_t i = 0; i < DS_CACHE; i++)
        if (l->ds[i].id && strcmp(l->ds[i].id, id) == 0) {
            e = &l->ds[i];
            break;
        }
    if (!e || now - e->fetched_ms >= l->ttl_ms) {
        const char *vals[1] = { id };
        if (ensure_conn(l) != SL_OK)
            return SL_EIO;
        if (!(r = query(l, "dataset lookup",
                "SELECT open, license_policy::text, policy_updated_at::text, "
                SL_QUOTA_PG_LIMIT_COLS " FROM datasets WHERE dataset_id = $1",
                1, vals)))
            return SL_EIO;
        if (!e)
            e = &l->ds[l->next++ % DS_CACHE];
        ds_clear(e);
        if (!(e->id = strdup(id))) {
            PQclear(r);
            return SL_ENOMEM;
        }
        e->fetched_ms = now;
        if (PQntuples(r) == 1) {
            e->found = 1;
            e->open = PQgetvalue(r, 0, 0)[0] == 't';
            e->policy = PQgetisnull(r, 0, 1) ? NULL : strdup(PQgetvalue(r, 0, 1));
            e->version = strdup(PQgetvalue(r, 0, 2));
            e->quota = sl_quota_pg_limits_at(r, 0, 3);
        }
        PQclear(r);
    }
    if (!e->found)
        return SL_ENOTFOUND;
    out->open = e->open;
    out->policy_json = e->policy;
    out->policy_version = e->version;
    out->quota_count = e->quota.count;
    out->quota_bytes = e->quota.bytes;
    return SL_OK;
}

/* The closed literal, or NULL when the buffer could not take it. */
static const char *array_close(sl_buf *b)
{
    return sl_pg_array_close(b) == SL_OK ? (const char *)b->data : NULL;
}

static int pg_ask(void *u, sl_license_ask *asks, size_t n)
{
    lic_pg *l = u;
    sl_buf creators, shas, pc, pd;
    sl_quota_pair *usage = calloc(n ? n : 1, sizeof(*usage));
    size_t *usage_of = calloc(n ? n : 1, sizeof(*usage_of));   /* its ask */
    size_t nusage = 0;
    PGresult *r = NULL;
    int rc = SL_ENOMEM, any_closed = 0;

    sl_buf_init(&creators, 1 << 24);
    sl_buf_init(&shas, 1 << 24);
    sl_buf_init(&pc, 1 << 24);
    sl_buf_init(&pd, 1 << 24);
    if (!usage || !usage_of)
        goto out;
    if (ensure_conn(l) != SL_OK) {
        rc = SL_EIO;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        sl_license_ask *a = &asks[i];
        sl_license_dataset ds;
        a->opted_out = a->taken_down = a->contributor = 0;
        a->used_count = a->used_bytes = 0;
        if (sl_pg_array_add(&creators, a->creator_id) || sl_pg_array_add(&shas, a->sha256) ||
            (strcmp(a->sha256, a->original_sha256) && sl_pg_array_add(&shas, a->original_sha256)))
            goto out;
        if ((rc = pg_dataset(l, a->dataset_id, &ds)) == SL_EIO)
            goto out;
        if (rc == SL_OK && !ds.open) {
            any_closed = 1;
            if (sl_pg_array_add(&pc, a->creator_id) || sl_pg_array_add(&pd, a->dataset_id))
                goto out;
        }
        if (rc == SL_OK &&
            sl_quota_limited(&(sl_quota){ ds.quota_count, ds.quota_bytes })) {
            usage[nusage].creator_id = a->creator_id;
            usage[nusage].dataset_id = a->dataset_id;
            usage_of[nusage++] = i;
        }
        rc = SL_ENOMEM;
    }
    {
        const char *v[1] = { array_close(&creators) };
        if (!v[0])
            goto out;
        if (!(r = query(l, "opt-out lookup", "SELECT creator_id FROM creator_optouts"
                        " WHERE creator_id = ANY($1::text[])", 1, v))) {
            rc = SL_EIO;
            goto out;
        }
        for (int k = 0; k < PQntuples(r); k++)
            for (size_t i = 0; i < n; i++)
                if (strcmp(asks[i].creator_id, PQgetvalue(r, k, 0)) == 0)
                    asks[i].opted_out = 1;
        PQclear(r);
    }
    {
        const char *v[1] = { array_close(&shas) };
        if (!v[0])
            goto out;
        if (!(r = query(l, "takedown lookup", "SELECT sha256 FROM takedowns"
                        " WHERE sha256 = ANY($1::text[])", 1, v))) {
            rc = SL_EIO;
            goto out;
        }
        for (int k = 0; k < PQntuples(r); k++)
            for (size_t i = 0; i < n; i++)
                if (strcmp(asks[i].sha256, PQgetvalue(r, k, 0)) == 0 ||
                    strcmp(asks[i].original_sha256, PQgetvalue(r, k, 0)) == 0)
                    asks[i].taken_down = 1;
        PQclear(r);
    }
    if (any_closed) {
        const char *v[2] = { array_close(&pc), array_close(&pd) };
        if (!v[0] || !v[1])
            goto out;
        if (!(r = query(l, "contributor lookup",
                "SELECT c.creator_id, c.dataset_id FROM dataset_contributors c"
                " JOIN unnest($1::text[], $2::text[]) AS q(cr, ds)"
                " ON c.creator_id = q.cr AND c.dataset_id = q.ds", 2, v))) {
            rc = SL_EIO;
            goto out;
        }
        for (int k = 0; k < PQntuples(r); k++)
            for (size_t i = 0; i < n; i++)
                if (strcmp(asks[i].creator_id, PQgetvalue(r, k, 0)) == 0 &&
                    strcmp(asks[i].dataset_id, PQgetvalue(r, k, 1)) == 0)
                    asks[i].contributor = 1;
        PQclear(r);
    }
    if (nusage) {
        sl_err err;
        if ((rc = sl_quota_pg_usage(l->conn, usage, nusage, false, NULL,
                                    &err)) != SL_OK) {
            if (rc != SL_ENOMEM) {
                sl_warn("license", "usage lookup: %s", err.msg);
                drop_conn(l);
                rc = SL_EIO;
            }
            goto out;
        }
        for (size_t j = 0; j < nusage; j++) {
            asks[usage_of[j]].used_count = usage[j].used.count;
            asks[usage_of[j]].used_bytes = usage[j].used.bytes;
        }
    }
    r = NULL;
    rc = SL_OK;
out:
    sl_buf_free(&creators);
    sl_buf_free(&shas);
    sl_buf_free(&pc);
    sl_buf_free(&pd);
    free(usage);
    free(usage_of);
    return rc;
}

static void pg_destroy(void *u)
{
    lic_pg *l = u;

    if (!l)
        return;
    for (size_t i = 0; i < DS_CACHE; i++)
        ds_clear(&l->ds[i]);
    drop_conn(l);
    free(l->dsn);
    free(l);
}

int sl_license_pg_lookup(sl_license_lookup *lk, const sl_config *cfg, sl_err *err)
{
    lic_pg *l = calloc(1, sizeof(*l));
    const char *dsn = sl_config_get(cfg, "pg.dsn");

    memset(lk, 0, sizeof(*lk));
    if (!l || !dsn || !(l->dsn = strdup(dsn))) {
        sl_err_set(err, dsn ? "out of memory" :
                   "no PostgreSQL conninfo: set pg.dsn or SLUICE_PG_DSN");
        free(l);
        return SL_ERR;
    }
    l->ttl_ms = sl_config_int(cfg, "license.dataset.cache.ms");
    if (ensure_conn(l) != SL_OK) {
        sl_err_set(err, "cannot reach PostgreSQL with pg.dsn");
        pg_destroy(l);
        return SL_ERR;
    }
    lk->u = l;
    lk->dataset = pg_dataset;
    lk->ask = pg_ask;
    lk->destroy = pg_destroy;
    return SL_OK;
}

/* ---- stage glue: the real lookups wired into the processor ---------------- */

static int stage_init(void **ctx, const sl_config *cfg, sl_err *err)
{
    sl_license_lookup lk;
    sl_license_stage *s;

    if (sl_license_pg_lookup(&lk, cfg, err) != SL_OK)
        return SL_ERR;
    if (sl_license_new(&s, cfg, &lk, err) != SL_OK) {
        if (lk.destroy)
            lk.destroy(lk.u);
        return SL_ERR;
    }
    *ctx = s;
    return SL_OK;
}

static int stage_prepare(void *ctx, const sl_msg *msgs, size_t n)
{
    return sl_license_prepare(ctx, msgs, n);
}

static sl_verdict stage_process(void *ctx, const sl_msg *in, sl_out *out)
{
    return sl_license_process(ctx, in, out);
}

static void stage_txn_end(void *ctx, int committed)
{
    sl_license_txn_end(ctx, committed);
}

static void stage_destroy(void *ctx)
{
    sl_license_destroy(ctx);
}

const sl_processor sl_license_processor = {
    .stage = &sl_topology_stages[SL_STAGE_LICENSE],
    .config_map = sl_license_config,
    .init = stage_init,
    .prepare = stage_prepare,
    .process = stage_process,
    .txn_end = stage_txn_end,
    .destroy = stage_destroy,
};
