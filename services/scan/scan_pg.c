/*
 * scan_pg.c -- the scan stage's dataset policies from PostgreSQL
 * (datasets.allowed_types, datasets.scan_actions, datasets.scan_lists),
 * through the shared
 * dataset registry cache (sl/dscache.h) for scan.dataset.cache.ms, on the
 * shared connection object (sl_pgconn).  A lost connection is SL_EIO (the
 * message is retried) and is reopened on the next call.
 *
 * The file ends with the stage glue: the descriptor handed to the runner,
 * whose init builds these lookups and the processor.  It is compiled into
 * the sluice-scan binary next to main.c, never into the processor library
 * (sl_scan_stage), which links sl_core alone: a processor cannot call libpq.
 */
#include <string.h>

#include "scan.h"
#include "sl/dscache.h"
#include "sl/pg.h"

static int pg_dataset_lists(void *u, const char *id, const char **allowed,
                            const char **actions, const char **lists)
{
    sl_pg_datasets *l = u;
    const sl_dataset_row *row;
    int rc = sl_dscache_get(l->datasets, id, &row);

    if (rc != SL_OK)
        return rc == SL_ENOTFOUND || rc == SL_ENOMEM ? rc : SL_EIO;
    *allowed = row->allowed_types;
    *actions = row->scan_actions;
    *lists = row->scan_lists;
    return SL_OK;
}

static int pg_dataset(void *u, const char *id, const char **allowed,
                      const char **actions)
{
    const char *lists;

    return pg_dataset_lists(u, id, allowed, actions, &lists);
}

static void pg_destroy(void *u)
{
    sl_pg_datasets_destroy(u);
}

int sl_scan_pg_lookup(sl_scan_lookup *lk, const sl_config *cfg, sl_err *err)
{
    const sl_pgconn_opts opts = { .who = "scan" };
    sl_pg_datasets *l;
    int rc;

    memset(lk, 0, sizeof(*lk));
    /* SL_EIO (the database does not answer yet) is the runner's to retry */
    if ((rc = sl_pg_datasets_open(&l, cfg, &opts,
                                  sl_config_int(cfg, "scan.dataset.cache.ms"), err)) != SL_OK)
        return rc;
    lk->u = l;
    lk->dataset = pg_dataset;
    lk->dataset_lists = pg_dataset_lists;
    lk->destroy = pg_destroy;
    return SL_OK;
}

/* ---- stage glue: the real lookups wired into the processor ---------------- */

static int stage_init(void **ctx, const sl_config *cfg, sl_err *err)
{
    sl_scan_lookup lk;
    sl_scan *s;
    int rc;

    if ((rc = sl_scan_pg_lookup(&lk, cfg, err)) != SL_OK)
        return rc;   /* SL_EIO: the runner retries */
    if (sl_scan_new(&s, cfg, &lk, err) != SL_OK) {
        if (lk.destroy)
            lk.destroy(lk.u);
        return SL_ERR;
    }
    *ctx = s;
    return SL_OK;
}

static sl_verdict stage_process(void *ctx, const sl_msg *in, sl_out *out)
{
    return sl_scan_process(ctx, in, out);
}

static void stage_destroy(void *ctx)
{
    sl_scan_destroy(ctx);
}

const sl_processor sl_scan_stage = {
    .stage = &sl_topology_stages[SL_STAGE_SCAN],
    .config_map = sl_scan_config,
    .init = stage_init,
    .process = stage_process,
    .destroy = stage_destroy,
};
