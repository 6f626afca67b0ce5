/*
 * quota_pg.c -- daily quotas in PostgreSQL (see sl/quota_pg.h): reading
 * limits and today's usage, locking the pairs a batch counts against, and
 * moving the counts when samples are accepted or withdrawn.  Batches are
 * passed as array literals (one statement, whatever their size).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl/pg.h"
#include "sl/quota_pg.h"

#define ARRAY_MAX (1 << 24)

/* Today, UTC, by the server's clock: the day usage is counted under. */
#define TODAY "(now() AT TIME ZONE 'UTC')::date"

sl_quota sl_quota_pg_limits_at(const PGresult *r, int row, int col)
{
    sl_quota q;

    q.count = strtoll(PQgetvalue(r, row, col), NULL, 10);
    q.bytes = strtoll(PQgetvalue(r, row, col + 1), NULL, 10);
    return q;
}

const char *sl_quota_pg_param(int64_t limit, char buf[24])
{
    if (limit < 0)
        return NULL;
    snprintf(buf, 24, "%" PRId64, limit);
    return buf;
}

int sl_quota_pg_limits(PGconn *c, const char *const *ids, size_t n,
                       sl_quota *limits, char sqlstate[6], sl_err *err)
{
    sl_buf arr;
    PGresult *r = NULL;
    int rc = SL_ENOMEM;

    sl_buf_init(&arr, ARRAY_MAX);
    for (size_t i = 0; i < n; i++) {
        limits[i].count = limits[i].bytes = SL_QUOTA_UNLIMITED;
        if (sl_pg_array_add(&arr, ids[i]))
            goto out;
    }
    if (n == 0) {
        rc = SL_OK;
        goto out;
    }
    if (sl_pg_array_close(&arr))
        goto out;
    {
        const char *p[1] = { (const char *)arr.data };
        if ((rc = sl_pg_run(c, "reading quotas",
                "SELECT dataset_id, " SL_QUOTA_PG_LIMIT_COLS " FROM datasets"
                " WHERE dataset_id = ANY($1::text[]) AND"
                " (quota_daily_count IS NOT NULL OR quota_daily_bytes IS NOT NULL)",
                1, p, PGRES_TUPLES_OK, &r, sqlstate, err)) != SL_OK)
            goto out;
    }
    for (int k = 0; k < PQntuples(r); k++) {
        sl_quota q = sl_quota_pg_limits_at(r, k, 1);
        for (size_t i = 0; i < n; i++)
            if (strcmp(ids[i], PQgetvalue(r, k, 0)) == 0)
                limits[i] = q;
    }
    rc = SL_OK;
out:
    PQclear(r);
    sl_buf_free(&arr);
    return rc;
}

/* The pairs' creators and datasets as two closed array literals. */
static int pair_arrays(const sl_quota_pair *pairs, size_t n, sl_buf *cr,
                       sl_buf *ds)
{
    for (size_t i = 0; i < n; i++)
        if (sl_pg_array_add(cr, pairs[i].creator_id) ||
            sl_pg_array_add(ds, pairs[i].dataset_id))
            return SL_ENOMEM;
    return sl_pg_array_close(cr) || sl_pg_array_close(ds) ? SL_ENOMEM : SL_OK;
}

int sl_quota_pg_usage(PGconn *c, sl_quota_pair *pairs, size_t n, bool lock,
                      char sqlstate[6], sl_err *err)
{
    sl_buf cr, ds;
    PGresult *r = NULL;
    const char *p[2];
    int rc;

    for (size_t i = 0; i < n; i++)
        pairs[i].used.count = pairs[i].used.bytes = 0;
    if (n == 0)
        return SL_OK;
    sl_buf_init(&cr, ARRAY_MAX);
    sl_buf_init(&ds, ARRAY_MAX);
    if ((rc = pair_arrays(pairs, n, &cr, &ds)) != SL_OK)
        goto out;
    p[0] = (const char *)cr.data;
    p[1] = (const char *)ds.data;
    if (lock && (rc = sl_pg_run(c, "locking quotas",
            "SELECT pg_advisory_xact_lock(hashtext(cr || '/' || ds))"
            " FROM (SELECT DISTINCT * FROM unnest($1::text[], $2::text[]) AS q(cr, ds)"
            " ORDER BY 1, 2) AS o", 2, p, PGRES_TUPLES_OK, NULL, sqlstate,
            err)) != SL_OK)
        goto out;
    if ((rc = sl_pg_run(c, "counting usage",
            "SELECT u.creator_id, u.dataset_id, u.samples, u.bytes"
            " FROM quota_usage u JOIN (SELECT DISTINCT * FROM unnest($1::text[], $2::text[]))"
            " AS q(cr, ds) ON u.creator_id = q.cr AND u.dataset_id = q.ds"
            " WHERE u.day = " TODAY, 2, p, PGRES_TUPLES_OK, &r, sqlstate,
            err)) != SL_OK)
        goto out;
    for (int k = 0; k < PQntuples(r); k++)
        for (size_t i = 0; i < n; i++)
            if (strcmp(pairs[i].creator_id, PQgetvalue(r, k, 0)) == 0 &&
                strcmp(pairs[i].dataset_id, PQgetvalue(r, k, 1)) == 0) {
                pairs[i].used.count = strtoll(PQgetvalue(r, k, 2), NULL, 10);
                pairs[i].used.bytes = strtoll(PQgetvalue(r, k, 3), NULL, 10);
            }
out:
    PQclear(r);
    sl_buf_free(&cr);
    sl_buf_free(&ds);
    return rc;
}

int sl_quota_pg_add(PGconn *c, const sl_quota_pair *deltas, size_t n,
                    char sqlstate[6], sl_err *err)
{
    sl_buf cr, ds, cnt, sz;
    char num[24];
    int rc = SL_ENOMEM;

    if (n == 0)
        return SL_OK;
    sl_buf_init(&cr, ARRAY_MAX);
    sl_buf_init(&ds, ARRAY_MAX);
    sl_buf_init(&cnt, ARRAY_MAX);
    sl_buf_init(&sz, ARRAY_MAX);
    for (size_t i = 0; i < n; i++) {
        snprintf(num, sizeof(num), "%" PRId64, deltas[i].used.count);
        if (sl_pg_array_add(&cnt, num))
            goto out;
        snprintf(num, sizeof(num), "%" PRId64, deltas[i].used.bytes);
        if (sl_pg_array_add(&sz, num))
            goto out;
    }
    if (pair_arrays(deltas, n, &cr, &ds) != SL_OK ||
        sl_pg_array_close(&cnt) || sl_pg_array_close(&sz))
        goto out;
    {
        const char *p[4] = { (const char *)ds.data, (const char *)cr.data,
                             (const char *)cnt.data, (const char *)sz.data };
        rc = sl_pg_run(c, "counting quota usage",
            "INSERT INTO quota_usage AS u (dataset_id, creator_id, day, samples, bytes)"
            " SELECT ds, cr, " TODAY ", sum(n), sum(sz)"
            " FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[])"
            " AS t(ds, cr, n, sz)"
            " GROUP BY ds, cr ORDER BY ds, cr"
            " ON CONFLICT (dataset_id, creator_id, day) DO UPDATE"
            " SET samples = u.samples + EXCLUDED.samples,"
            "     bytes = u.bytes + EXCLUDED.bytes", 4, p, PGRES_COMMAND_OK,
            NULL, sqlstate, err);
    }
out:
    sl_buf_free(&cr);
    sl_buf_free(&ds);
    sl_buf_free(&cnt);
    sl_buf_free(&sz);
    return rc;
}

int sl_quota_pg_release(PGconn *c, const char *dataset_id,
                        const char *creator_id, const char *day,
                        int64_t bytes, char sqlstate[6], sl_err *err)
{
    char num[24];
    const char *p[4] = { dataset_id, creator_id, day, num };

    snprintf(num, sizeof(num), "%" PRId64, bytes);
    return sl_pg_run(c, "withdrawing quota usage",
        "UPDATE quota_usage SET samples = greatest(samples - 1, 0),"
        " bytes = greatest(bytes - $4::bigint, 0)"
        " WHERE dataset_id = $1 AND creator_id = $2 AND day = $3::date",
        4, p, PGRES_COMMAND_OK, NULL, sqlstate, err);
}
