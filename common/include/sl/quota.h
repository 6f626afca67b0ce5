/*
 * quota.h -- daily quotas, the arithmetic: a dataset's limits per creator
 * per UTC day (accepted samples, bytes), the usage counted against them,
 * and whether one more sample fits.  Pure (no libpq): the license stage's
 * early check, the commit stage's exact one, takedown and `sluicectl
 * dataset` all count the same way.  The SQL that reads and moves the
 * counts (datasets.quota_daily_*, quota_usage) is beside it in
 * sl/quota_pg.h.
 *
 * A limit of SL_QUOTA_UNLIMITED (-1, NULL in the database) is no limit.
 * Usage is never negative; sums saturate at INT64_MAX instead of wrapping,
 * so a hostile size or a corrupt count can only make a sample not fit.
 */
#ifndef SL_QUOTA_H
#define SL_QUOTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SL_QUOTA_UNLIMITED INT64_C(-1)
#define SL_QUOTA_DAY_MS    INT64_C(86400000)

/* A dataset's daily limits per creator; SL_QUOTA_UNLIMITED: none. */
typedef struct sl_quota {
    int64_t count;   /* accepted samples */
    int64_t bytes;   /* accepted bytes */
} sl_quota;

/* What a creator has had accepted in a dataset on one UTC day. */
typedef struct sl_quota_usage {
    int64_t count, bytes;
} sl_quota_usage;

/* Which limit a sample would pass. */
typedef enum sl_quota_fit {
    SL_QUOTA_FITS = 0,
    SL_QUOTA_OVER_COUNT,   /* checked first */
    SL_QUOTA_OVER_BYTES,
} sl_quota_fit;

/* true when either limit is set. */
bool sl_quota_limited(const sl_quota *q);

/* What is left of limit after used: limit - used, 0 when used is at or
 * past it, INT64_MAX when unlimited (limit < 0). */
int64_t sl_quota_remaining(int64_t limit, int64_t used);

/* a + b for counts: negative terms count as 0, the sum saturates at
 * INT64_MAX. */
int64_t sl_quota_add(int64_t a, int64_t b);

/* Whether one more sample of `bytes` bytes fits on top of used: the count
 * limit first, then the bytes limit.  Reaching a limit exactly fits; one
 * over does not, nor does anything (even 0 bytes) once usage is past it. */
sl_quota_fit sl_quota_check(const sl_quota *q, const sl_quota_usage *used,
                            int64_t bytes);

/* sl_quota_check, and on SL_QUOTA_FITS adds the sample to *used: what a
 * batch would use, sample by sample. */
sl_quota_fit sl_quota_take(const sl_quota *q, sl_quota_usage *used,
                           int64_t bytes);

/* The UTC day a wall-clock time (ms since the epoch) falls in, as days
 * since 1970-01-01 (floor: times before the epoch fall in negative days):
 * the key usage is counted under.  23:59:59.999 is still the day it ends. */
int64_t sl_quota_day(int64_t unix_ms);

/* Usage as an early check sees it when the registry may lag behind this
 * instance's own count (the license stage): the registry's, or ours where
 * it is larger, but never more than the registry's plus what may still be
 * on its way there (recent). */
int64_t sl_quota_tally(int64_t registry, int64_t ours, int64_t recent);

/* A limit as an operator writes it: "none" (SL_QUOTA_UNLIMITED), or for a
 * count a decimal 0..INT32_MAX (the column is an integer), for bytes a
 * decimal with an optional k, m or g suffix (KiB, MiB, GiB; a trailing b
 * allowed) up to INT64_MAX.  0 with *out, or -1. */
int sl_quota_limit_parse(const char *s, bool bytes, int64_t *out);

/* (creator, dataset) pairs of a batch with the usage counted for each:
 * sl_quota_pair_find is the index of the pair, or n when absent. */
typedef struct sl_quota_pair {
    const char *creator_id, *dataset_id;   /* borrowed */
    sl_quota_usage used;
} sl_quota_pair;

size_t sl_quota_pair_find(const sl_quota_pair *pairs, size_t n,
                          const char *creator_id, const char *dataset_id);

#endif
