/*
 * license_pg.c -- the license stage's registry in PostgreSQL.
 *
 * Datasets (policy, open flag, quotas) come from the shared dataset
 * registry cache (sl/dscache.h), kept for license.dataset.cache.ms; the
 * connection is the shared sl_pgconn.  Everything else is asked once per
 * run of messages: which creators opted out, which hashes are taken down, which
 * creators contribute to closed datasets, and how much each creator put in
 * each dataset with a quota today -- four statements, whatever the run's
 * size (the first two prepared, their keys sent once each in binary form).
 * A lost connection is SL_EIO (the runner retries the run) and is reopened
 * on the next call.
 *
 * The file ends with the stage glue: the descriptor handed to the runner,
 * whose init builds these lookups and the processor.  It is compiled into
 * the sluice-license binary next to main.c, never into the processor library
 * (sl_license_stage), which links sl_core alone: a processor cannot call libpq.
 */
#include <stdlib.h>
#include <string.h>

#include "sl/dscache.h"
#include "sl/log.h"
#include "sl/pg.h"
#include "sl/quota_pg.h"
#include "license_stage.h"

/* A live connection (reopened after a drop): SL_OK or SL_EIO. */
static int ensure_conn(sl_pg_datasets *l)
{
    PGconn *c;
    sl_err err;

    if (sl_pgconn_get(l->pg, &c, &err) == SL_OK)
        return SL_OK;
    sl_warn("license", "%s", err.msg);
    return SL_EIO;
}

/* The rows of sql, or NULL (logged; the connection dropped) on failure. */
static PGresult *query(sl_pg_datasets *l, const char *what, const char *sql, int n,
                       const char *const *vals)
{
    PGresult *r;
    sl_err err;

    return sl_pgconn_query(l->pg, what, sql, n, vals, &r, &err) == SL_OK ? r : NULL;
}

static int pg_dataset(void *u, const char *id, sl_license_dataset *out)
{
    sl_pg_datasets *l = u;
    const sl_dataset_row *row;
    int rc = sl_dscache_get(l->datasets, id, &row);

    if (rc != SL_OK)
        return rc == SL_ENOTFOUND || rc == SL_ENOMEM ? rc : SL_EIO;
    out->open = row->open;
    out->policy_json = row->policy_json;
    out->policy_version = row->policy_version;
    out->quota_count = row->quota_count;
    out->quota_bytes = row->quota_bytes;
    return SL_OK;
}

/* The closed literal, or NULL when the buffer could not take it. */
static const char *array_close(sl_buf *b)
{
    return sl_pg_array_close(b) == SL_OK ? (const char *)b->data : NULL;
}

/* The run's two look-ups by key, prepared on every connection (planned
 * once, not for every run's array). */
static const sl_pg_stmt license_stmts[] = {
    { "license_optouts", "SELECT creator_id FROM creator_optouts"
                         " WHERE creator_id = ANY($1::text[])", 1 },
    { "license_takedowns", "SELECT sha256 FROM takedowns"
                           " WHERE sha256 = ANY($1::text[])", 1 },
};

/* Runs the prepared look-up `name` on the n keys (reordered, and sent
 * once each: sl_pgconn_exec_keys).  SL_OK with *r, SL_ENOMEM, or SL_EIO
 * (logged; the connection dropped). */
static int lookup(sl_pg_datasets *l, const char *name, const char **keys,
                  size_t n, PGresult **r)
{
    sl_err err;
    int rc = sl_pgconn_exec_keys(l->pg, name, keys, n, (size_t)1 << 24, r, &err);

    return rc == SL_OK || rc == SL_ENOMEM ? rc : SL_EIO;
}

static int pg_ask(void *u, sl_license_ask *asks, size_t n)
{
    sl_pg_datasets *l = u;
    sl_buf pc, pd;
    sl_quota_pair *usage = calloc(n ? n : 1, sizeof(*usage));
    size_t *usage_of = calloc(n ? n : 1, sizeof(*usage_of));   /* its ask */
    const char **creators = calloc(n ? n : 1, sizeof(*creators));
    const char **shas = calloc(n ? 2 * n : 1, sizeof(*shas));
    size_t nusage = 0, nshas = 0;
    PGresult *r = NULL;
    int rc = SL_ENOMEM, any_closed = 0;

    sl_buf_init(&pc, 1 << 24);
    sl_buf_init(&pd, 1 << 24);
    if (!usage || !usage_of || !creators || !shas)
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
        creators[i] = a->creator_id;
        shas[nshas++] = a->sha256;
        if (strcmp(a->sha256, a->original_sha256) != 0)
            shas[nshas++] = a->original_sha256;
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
    if ((rc = lookup(l, "license_optouts", creators, n, &r)) != SL_OK)
        goto out;
    for (int k = 0; k < PQntuples(r); k++)
        for (size_t i = 0; i < n; i++)
            if (strcmp(asks[i].creator_id, PQgetvalue(r, k, 0)) == 0)
                asks[i].opted_out = 1;
    PQclear(r);
    if ((rc = lookup(l, "license_takedowns", shas, nshas, &r)) != SL_OK)
        goto out;
    for (int k = 0; k < PQntuples(r); k++)
        for (size_t i = 0; i < n; i++)
            if (strcmp(asks[i].sha256, PQgetvalue(r, k, 0)) == 0 ||
                strcmp(asks[i].original_sha256, PQgetvalue(r, k, 0)) == 0)
                asks[i].taken_down = 1;
    PQclear(r);
    rc = SL_ENOMEM;
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
        PGconn *conn;
        if (sl_pgconn_get(l->pg, &conn, &err) != SL_OK) {
            sl_warn("license", "usage lookup: %s", err.msg);
            rc = SL_EIO;
            goto out;
        }
        if ((rc = sl_quota_pg_usage(conn, usage, nusage, false, NULL,
                                    &err)) != SL_OK) {
            if (rc != SL_ENOMEM) {
                sl_warn("license", "usage lookup: %s", err.msg);
                sl_pgconn_drop(l->pg);
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
    free(creators);
    free(shas);
    sl_buf_free(&pc);
    sl_buf_free(&pd);
    free(usage);
    free(usage_of);
    return rc;
}

static void pg_destroy(void *u)
{
    sl_pg_datasets_destroy(u);
}

int sl_license_pg_lookup(sl_license_lookup *lk, const sl_config *cfg, sl_err *err)
{
    const sl_pgconn_opts opts = {
        .who = "license", .stmts = license_stmts,
        .n_stmts = sizeof(license_stmts) / sizeof(license_stmts[0]),
    };
    sl_pg_datasets *l;
    int rc;

    memset(lk, 0, sizeof(*lk));
    /* SL_EIO (the database does not answer yet) is the runner's to retry */
    if ((rc = sl_pg_datasets_open(&l, cfg, &opts,
                                  sl_config_int(cfg, "license.dataset.cache.ms"), err)) != SL_OK)
        return rc;
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
    int rc;

    if ((rc = sl_license_pg_lookup(&lk, cfg, err)) != SL_OK)
        return rc;   /* SL_EIO: the runner retries */
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
