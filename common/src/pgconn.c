/*
 * pgconn.c -- a service's one PostgreSQL connection (sl_pgconn, pg.h):
 * conninfo, the session settings, the caller's prepared statements, lazy
 * reconnect and drop on error, written once for every stage.
 *
 * The session settings are the same for every stage: each one asks the
 * database by key only (a creator, an upload id, a content hash, a
 * dataset, a batch's offsets), so a sequential scan is never the plan
 * wanted.  Without enable_seqscan = off, missing statistics (a samples
 * table growing faster than autovacuum analyses it) or a generic plan made
 * while a table was empty turn point lookups into whole-table scans
 * (measured on commit: batch time growing with the table).  But a plan
 * that must scan a small table sequentially still does, at a cost of 10^10,
 * far above jit_above_cost: with JIT on, PostgreSQL compiled such a
 * statement on every execution (50-100 ms each, measured by the ledger's
 * poster), so JIT is off too -- these are short statements, never analytics.
 */
#include <stdlib.h>
#include <string.h>

#include "sl/log.h"
#include "sl/pg.h"
#include "sl/quota_pg.h"

/* Applied, in order, on every new connection of every stage. */
static const char *const session_settings[] = {
    "SET enable_seqscan = off",
    "SET jit = off",
};

struct sl_pgconn {
    char *dsn;
    char *who;
    int64_t statement_timeout_ms;   /* 0: the server's own */
    sl_pgconn_opts opts;
    PGconn *conn;       /* NULL between a drop and the next get */
};

void sl_pgconn_drop(sl_pgconn *pc)
{
    if (pc && pc->conn) {
        PQfinish(pc->conn);
        pc->conn = NULL;
    }
}

/* Opens a connection and readies it: settings, statements, hook.  SL_OK
 * or SL_EIO (the connection dropped, the reason in err). */
static int connect_fresh(sl_pgconn *pc, sl_err *err)
{
    const size_t n_settings = sizeof(session_settings) / sizeof(session_settings[0]);

    if (!(pc->conn = sl_pg_connect_timed(pc->dsn, pc->statement_timeout_ms, err)))
        return SL_EIO;
    for (size_t i = 0; i < n_settings; i++)
        if (sl_pg_exec(pc->conn, session_settings[i], err) != SL_OK)
            goto fail;
    for (size_t i = 0; i < pc->opts.n_stmts; i++) {
        const sl_pg_stmt *s = &pc->opts.stmts[i];
        PGresult *r = PQprepare(pc->conn, s->name, s->sql, s->nparams, NULL);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        sl_err e2;

        if (!ok) {
            sl_pg_fail(pc->conn, r, s->name, &e2);
            sl_err_set(err, "preparing statements: %s", e2.msg);
        }
        PQclear(r);
        if (!ok)
            goto fail;
    }
    if (pc->opts.on_connect &&
        pc->opts.on_connect(pc->conn, pc->opts.arg, err) != SL_OK)
        goto fail;
    return SL_OK;
fail:
    sl_pgconn_drop(pc);
    return SL_EIO;
}

int sl_pgconn_get(sl_pgconn *pc, PGconn **c, sl_err *err)
{
    *c = NULL;
    if (pc->conn && PQstatus(pc->conn) == CONNECTION_OK) {
        *c = pc->conn;
        return SL_OK;
    }
    sl_pgconn_drop(pc);
    if (connect_fresh(pc, err) != SL_OK)
        return SL_EIO;
    *c = pc->conn;
    return SL_OK;
}

int sl_pgconn_fail(sl_pgconn *pc, PGresult *r, const char *what, sl_err *err)
{
    int rc;

    if (!pc->conn) {
        sl_err_set(err, "%s: not connected to PostgreSQL", what);
        return SL_EIO;
    }
    rc = sl_pg_fail(pc->conn, r, what, err);

    sl_warn(pc->who, "%s", err->msg);
    if (rc == SL_EIO || PQtransactionStatus(pc->conn) == PQTRANS_IDLE)
        sl_pgconn_drop(pc);
    return rc;
}

/* Runs one statement: prepared (sql NULL, name given) or not. */
static int run(sl_pgconn *pc, const char *name, const char *sql, int n,
               const char *const *params, const int *lengths,
               const int *formats, int result_format, PGresult **res,
               sl_err *err)
{
    PGconn *c;
    PGresult *r;
    ExecStatusType st;

    *res = NULL;
    if (sl_pgconn_get(pc, &c, err) != SL_OK) {
        sl_warn(pc->who, "%s", err->msg);
        return SL_EIO;
    }
    r = sql ? PQexecParams(c, sql, n, NULL, params, lengths, formats, result_format)
            : PQexecPrepared(c, name, n, params, lengths, formats, result_format);
    st = PQresultStatus(r);
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
        *res = r;
        return SL_OK;
    }
    {
        int rc = sl_pgconn_fail(pc, r, name, err);
        PQclear(r);
        return rc;
    }
}

int sl_pgconn_exec(sl_pgconn *pc, const char *name, int n,
                   const char *const *params, int result_format,
                   PGresult **res, sl_err *err)
{
    return run(pc, name, NULL, n, params, NULL, NULL, result_format, res, err);
}

int sl_pgconn_execb(sl_pgconn *pc, const char *name, int n,
                    const char *const *params, const int *lengths,
                    const int *formats, int result_format, PGresult **res,
                    sl_err *err)
{
    return run(pc, name, NULL, n, params, lengths, formats, result_format, res, err);
}

int sl_pgconn_exec_keys(sl_pgconn *pc, const char *name, const char **keys,
                        size_t n, size_t max, PGresult **res, sl_err *err)
{
    static const int fmt[1] = { 1 };
    const char *v[1];
    int len[1], rc;
    sl_buf b;

    *res = NULL;
    sl_buf_init(&b, max < INT32_MAX ? max : INT32_MAX);   /* len[0] is an int */
    if (sl_pg_keys_param(&b, keys, n) != SL_OK) {
        sl_buf_free(&b);
        sl_err_set(err, "%s: no room for its %zu keys", name, n);
        return SL_ENOMEM;
    }
    v[0] = (const char *)b.data;
    len[0] = (int)b.len;
    rc = run(pc, name, NULL, 1, v, len, fmt, 0, res, err);
    sl_buf_free(&b);
    return rc;
}

int sl_pgconn_query(sl_pgconn *pc, const char *what, const char *sql, int n,
                    const char *const *params, PGresult **res, sl_err *err)
{
    return run(pc, what, sql, n, params, NULL, NULL, 0, res, err);
}

void sl_pgconn_destroy(sl_pgconn *pc)
{
    if (!pc)
        return;
    sl_pgconn_drop(pc);
    free(pc->dsn);
    free(pc->who);
    free(pc);
}

int sl_pgconn_open(sl_pgconn **out, const sl_config *cfg,
                   const sl_pgconn_opts *opts, sl_err *err)
{
    const char *dsn = sl_config_get(cfg, "pg.dsn");
    const int64_t timeout_ms = sl_config_int(cfg, "pg.statement.timeout.ms");
    sl_pgconn *pc;

    *out = NULL;
    /* A conninfo libpq cannot parse never connects, a statement timeout
     * PostgreSQL refuses never works: configuration errors, where a server
     * that does not answer (yet) is SL_EIO below. */
    if (sl_pg_dsn_check(dsn, err) != SL_OK ||
        sl_pg_statement_timeout_check(timeout_ms, err) != SL_OK)
        return SL_EINVAL;
    if (!(pc = calloc(1, sizeof(*pc))) || !(pc->dsn = strdup(dsn)) ||
        !(pc->who = strdup(opts && opts->who ? opts->who : "pg"))) {
        sl_pgconn_destroy(pc);
        sl_err_set(err, "out of memory");
        return SL_ENOMEM;
    }
    if (opts)
        pc->opts = *opts;
    pc->statement_timeout_ms = timeout_ms;
    if (connect_fresh(pc, err) != SL_OK) {
        sl_pgconn_destroy(pc);
        return SL_EIO;
    }
    *out = pc;
    return SL_OK;
}

/* ---- the dataset registry cache's rows ------------------------------------ */

/* One statement for every stage: each reads the columns it needs. */
#define DATASET_SQL \
    "SELECT open, license_policy::text, policy_updated_at::text," \
    " " SL_QUOTA_PG_LIMIT_COLS "," \
    " array_to_string(allowed_types, ',')," \
    " CASE WHEN scan_actions = '{}'::jsonb THEN NULL ELSE scan_actions::text END," \
    " CASE WHEN scan_lists = '{}'::jsonb THEN NULL ELSE scan_lists::text END" \
    " FROM datasets WHERE dataset_id = $1"

/* A copy of column col of row 0, NULL for SQL NULL; SL_ENOMEM. */
static int column(const PGresult *r, int col, char **out)
{
    *out = NULL;
    if (PQgetisnull(r, 0, col))
        return SL_OK;
    return (*out = strdup(PQgetvalue(r, 0, col))) ? SL_OK : SL_ENOMEM;
}

static int dataset_fetch(void *arg, const char *id, sl_dataset_row *row, int *found)
{
    sl_pgconn *pc = arg;
    const char *vals[1] = { id };
    PGresult *r;
    sl_err err;
    int rc;

    *found = 0;
    if ((rc = sl_pgconn_query(pc, "dataset lookup", DATASET_SQL, 1, vals, &r,
                              &err)) != SL_OK)
        return rc;
    if (PQntuples(r) == 1) {
        *found = 1;
        row->open = PQgetvalue(r, 0, 0)[0] == 't';
        sl_quota q = sl_quota_pg_limits_at(r, 0, 3);
        row->quota_count = q.count;
        row->quota_bytes = q.bytes;
        /* policy_updated_at NULL reads as "", as the policy's version */
        if ((rc = column(r, 1, &row->policy_json)) != SL_OK ||
            !(row->policy_version = strdup(PQgetvalue(r, 0, 2))) ||
            (rc = column(r, 5, &row->allowed_types)) != SL_OK ||
            (rc = column(r, 6, &row->scan_actions)) != SL_OK ||
            (rc = column(r, 7, &row->scan_lists)) != SL_OK)
            rc = SL_ENOMEM;
    }
    PQclear(r);
    return rc;
}

int sl_pg_datasets_open(sl_pg_datasets **out, const sl_config *cfg,
                        const sl_pgconn_opts *opts, int64_t ttl_ms, sl_err *err)
{
    sl_pg_datasets *d = calloc(1, sizeof(*d));
    int rc;

    *out = NULL;
    if (!d) {
        sl_err_set(err, "out of memory");
        return SL_ENOMEM;
    }
    if ((rc = sl_pgconn_open(&d->pg, cfg, opts, err)) != SL_OK) {
        free(d);
        return rc;
    }
    if (sl_dscache_new(&d->datasets, ttl_ms, dataset_fetch, d->pg) != SL_OK) {
        sl_err_set(err, "out of memory");
        sl_pg_datasets_destroy(d);
        return SL_ENOMEM;
    }
    *out = d;
    return SL_OK;
}

void sl_pg_datasets_destroy(sl_pg_datasets *d)
{
    if (!d)
        return;
    sl_dscache_destroy(d->datasets);   /* it borrows the connection */
    sl_pgconn_destroy(d->pg);
    free(d);
}
