/*
 * quota_pg.h -- daily quotas in PostgreSQL: the SQL beside the arithmetic
 * of sl/quota.h.  A dataset's limits are datasets.quota_daily_count and
 * quota_daily_bytes (NULL: unlimited, read as SL_QUOTA_UNLIMITED); what a
 * creator has had accepted is quota_usage (009_quota_usage.sql), one row
 * per (dataset, creator, UTC day) -- "today" is the server's clock, so
 * every stage counts under the same day.
 *
 * The functions run one or two statements on the caller's connection, in
 * the caller's transaction if any.  They return SL_OK, SL_ENOMEM, or what
 * sl_pg_fail() makes of a failed statement (SL_EIO: the connection is
 * gone; SL_ERR) with err filled and, when sqlstate is not NULL, the
 * server's SQLSTATE ("" when it gave none) for the caller to classify.
 */
#ifndef SL_QUOTA_PG_H
#define SL_QUOTA_PG_H

#include <libpq-fe.h>

#include "sl/common.h"
#include "sl/quota.h"

/* Select-list columns reading a dataset's limits from datasets, count then
 * bytes, for sl_quota_pg_limits_at(). */
#define SL_QUOTA_PG_LIMIT_COLS \
    "coalesce(quota_daily_count, -1), coalesce(quota_daily_bytes, -1)"

/* The limits in columns col and col + 1 of a result row selected with
 * SL_QUOTA_PG_LIMIT_COLS. */
sl_quota sl_quota_pg_limits_at(const PGresult *r, int row, int col);

/* A limit as a statement parameter for quota_daily_*: NULL (SQL NULL) when
 * unlimited, else the decimal, written into buf. */
const char *sl_quota_pg_param(int64_t limit, char buf[24]);

/* The limits of datasets ids[0..n) (repeats allowed): limits[i] for ids[i],
 * unlimited for an unknown dataset or one without quotas. */
int sl_quota_pg_limits(PGconn *c, const char *const *ids, size_t n,
                       sl_quota *limits, char sqlstate[6], sl_err *err);

/* Today's usage of pairs[0..n) (repeats allowed) into each pair's used, 0
 * where there is none.  lock: first take each distinct pair's transaction
 * advisory lock, in a fixed order, so that two writers in concurrent
 * transactions cannot both take a pair's last slot (nor deadlock). */
int sl_quota_pg_usage(PGconn *c, sl_quota_pair *pairs, size_t n, bool lock,
                      char sqlstate[6], sl_err *err);

/* Adds each pair's used (accepted samples and bytes) to the pair's row of
 * today, creating it; rows are written in key order, so concurrent
 * writers cannot deadlock here. */
int sl_quota_pg_add(PGconn *c, const sl_quota_pair *deltas, size_t n,
                    char sqlstate[6], sl_err *err);

/* Takes one withdrawn sample of `bytes` bytes off the row of the UTC day
 * (date text, "YYYY-MM-DD") it was accepted on, neither count going below
 * zero: a withdrawn sample no longer counts against its day's quota. */
int sl_quota_pg_release(PGconn *c, const char *dataset_id,
                        const char *creator_id, const char *day,
                        int64_t bytes, char sqlstate[6], sl_err *err);

#endif
