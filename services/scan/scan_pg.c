/*
 * scan_pg.c -- the scan stage's dataset policies from PostgreSQL
 * (datasets.allowed_types, datasets.scan_actions), cached for
 * scan.dataset.cache.ms.  A lost connection is SL_EIO (the message is
 * retried) and is reopened on the next call.
 *
 * The file ends with the stage glue: the descriptor handed to the runner,
 * whose init builds these lookups and the processor.  It is compiled into
 * the sluice-scan binary next to main.c, never into the processor library
 * (sl_scan_stage), which links sl_core alone: a processor cannot call libpq.
 */
#include <stdlib.h>
#include <string.h>

#include "scan.h"
#include "sl/log.h"
#include "sl/pg.h"

#define DS_CACHE 256

typedef struct ds_entry {
    char *id, *allowed, *actions;
    int found;
    int64_t fetched_ms;
} ds_entry;

typedef struct scan_pg {
    char *dsn;
    PGconn *conn;
    int64_t ttl_ms;
    ds_entry ds[DS_CACHE];
    size_t next;
} scan_pg;

static void entry_clear(ds_entry *e)
{
    free(e->id);
    free(e->allowed);
    free(e->actions);
    memset(e, 0, sizeof(*e));
}

static int pg_dataset(void *u, const char *id, const char **allowed,
                      const char **actions)
{
    scan_pg *l = u;
    ds_entry *e = NULL;
    int64_t now = sl_mono_ms();
    const char *vals[1] = { id };
    PGresult *r;
    sl_err err;

    for (size_t i = 0; i < DS_CACHE; i++)
        if (l->ds[i].id && strcmp(l->ds[i].id, id) == 0) {
            e = &l->ds[i];
            break;
        }
    if (!e || now - e->fetched_ms >= l->ttl_ms) {
        if (!l->conn || PQstatus(l->conn) != CONNECTION_OK) {
            if (l->conn)
                PQfinish(l->conn);
            if (!(l->conn = sl_pg_connect(l->dsn, &err))) {
                sl_warn("scan", "%s", err.msg);
                return SL_EIO;
            }
        }
        r = PQexecParams(l->conn, "SELECT array_to_string(allowed_types, ','),"
                         " CASE WHEN scan_actions = '{}'::jsonb THEN NULL"
                         " ELSE scan_actions::text END"
                         " FROM datasets WHERE dataset_id = $1",
                         1, NULL, vals, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            sl_pg_fail(l->conn, r, "dataset lookup", &err);
            sl_warn("scan", "%s", err.msg);
            PQclear(r);
            PQfinish(l->conn);
            l->conn = NULL;
            return SL_EIO;
        }
        if (!e)
            e = &l->ds[l->next++ % DS_CACHE];
        entry_clear(e);
        e->id = strdup(id);
        e->fetched_ms = now;
        if (PQntuples(r) == 1) {
            e->found = 1;
            if (!PQgetisnull(r, 0, 0))
                e->allowed = strdup(PQgetvalue(r, 0, 0));
            if (!PQgetisnull(r, 0, 1))
                e->actions = strdup(PQgetvalue(r, 0, 1));
        }
        PQclear(r);
        if (!e->id) {
            entry_clear(e);
            return SL_ENOMEM;
        }
    }
    if (!e->found)
        return SL_ENOTFOUND;
    *allowed = e->allowed;
    *actions = e->actions;
    return SL_OK;
}

static void pg_destroy(void *u)
{
    scan_pg *l = u;

    if (!l)
        return;
    for (size_t i = 0; i < DS_CACHE; i++)
        entry_clear(&l->ds[i]);
    if (l->conn)
        PQfinish(l->conn);
    free(l->dsn);
    free(l);
}

int sl_scan_pg_lookup(sl_scan_lookup *lk, const sl_config *cfg, sl_err *err)
{
    scan_pg *l = calloc(1, sizeof(*l));
    const char *dsn = sl_config_get(cfg, "pg.dsn");

    memset(lk, 0, sizeof(*lk));
    if (!l || !dsn || !(l->dsn = strdup(dsn))) {
        sl_err_set(err, dsn ? "out of memory" :
                   "no PostgreSQL conninfo: set pg.dsn or SLUICE_PG_DSN");
        free(l);
        return SL_ERR;
    }
    l->ttl_ms = sl_config_int(cfg, "scan.dataset.cache.ms");
    if (!(l->conn = sl_pg_connect(l->dsn, err))) {
        pg_destroy(l);
        return SL_ERR;
    }
    lk->u = l;
    lk->dataset = pg_dataset;
    lk->destroy = pg_destroy;
    return SL_OK;
}

/* ---- stage glue: the real lookups wired into the processor ---------------- */

static int stage_init(void **ctx, const sl_config *cfg, sl_err *err)
{
    sl_scan_lookup lk;
    sl_scan *s;

    if (sl_scan_pg_lookup(&lk, cfg, err) != SL_OK)
        return SL_ERR;
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
