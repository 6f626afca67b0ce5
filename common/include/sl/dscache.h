/*
 * dscache.h -- the dataset registry cache: what the datasets table says
 * about a dataset, kept for a while so a stage asks PostgreSQL about each
 * dataset once per TTL, not once per message.  One cache serves every
 * stage that reads datasets (scan: allowed types and scan actions;
 * license: open flag, policy and quotas); the row carries all of them.
 *
 * Pure: the rows come from a fetch callback (sl_pg_datasets_open in pg.h
 * wires it to one statement on an sl_pgconn), so the refresh rules are
 * unit-tested without a server (tests/unit/test_dscache.c).
 *
 * Refresh rules (the stricter of the two caches it replaced, scan_pg.c's
 * and license_pg.c's, which agreed on all but the last):
 *   - an entry, found or not (a "not registered" answer is cached too), is
 *     served while now - fetched < ttl_ms; at ttl_ms it is fetched again
 *     (ttl_ms <= 0: every call fetches);
 *   - a failed fetch is returned as is (SL_EIO / SL_ERR: the caller
 *     retries the message) and never answered from the stale entry, which
 *     stays until a fetch succeeds;
 *   - DSCACHE_SLOTS (256) datasets at most, replaced round-robin;
 *   - a row that cannot be copied whole is SL_ENOMEM, never a row with a
 *     missing field (license_pg.c turned a failed copy of the policy into
 *     "no policy"; scan_pg.c refused it: refused here).
 * Strings of a returned row are borrowed until the next call on the cache.
 */
#ifndef SL_DSCACHE_H
#define SL_DSCACHE_H

#include <stdint.h>

#include "sl/common.h"

/* One row of the datasets table, as the stages read it. */
typedef struct sl_dataset_row {
    int open;                    /* datasets.open */
    char *policy_json;           /* license_policy as text, or NULL */
    char *policy_version;        /* policy_updated_at as text ("" if NULL) */
    int64_t quota_count;         /* quota_daily_count, -1 for none */
    int64_t quota_bytes;         /* quota_daily_bytes, -1 for none */
    char *allowed_types;         /* allowed_types joined by ',', or NULL */
    char *scan_actions;          /* scan_actions as JSON text, NULL if {} */
    char *scan_lists;            /* scan_lists as JSON text, NULL if {} */
} sl_dataset_row;

/* Fills *row (strings malloc'd, handed to the cache) and *found for
 * dataset id.  SL_OK, or an error (SL_EIO, SL_ERR, SL_ENOMEM) returned to
 * the caller of sl_dscache_get as is. */
typedef int (*sl_dscache_fetch)(void *arg, const char *id, sl_dataset_row *row,
                                int *found);

typedef struct sl_dscache sl_dscache;

/* fetch and arg are borrowed (arg must outlive the cache). */
int  sl_dscache_new(sl_dscache **out, int64_t ttl_ms, sl_dscache_fetch fetch,
                    void *arg);
void sl_dscache_destroy(sl_dscache *c);            /* NULL allowed */

/* Dataset id's row into *out (borrowed, see above): SL_OK, SL_ENOTFOUND
 * when the dataset is not registered, or the fetch's error / SL_ENOMEM. */
int  sl_dscache_get(sl_dscache *c, const char *id, const sl_dataset_row **out);
/* The same at a given monotonic time in ms (sl_dscache_get passes
 * sl_mono_ms()); for tests. */
int  sl_dscache_get_at(sl_dscache *c, const char *id, int64_t now_ms,
                       const sl_dataset_row **out);

/* Frees a row's strings and zeroes it (for fetch implementations). */
void sl_dataset_row_clear(sl_dataset_row *row);

#endif
