/*
 * dscache.c -- the dataset registry cache (dscache.h): a fixed table of
 * DSCACHE_SLOTS entries, looked up by id, refreshed after ttl_ms, replaced
 * round-robin.  The rows come from the caller's fetch; nothing here talks
 * to PostgreSQL.
 */
#include <stdlib.h>
#include <string.h>

#include "sl/dscache.h"

#define DSCACHE_SLOTS 256

typedef struct ds_entry {
    char *id;               /* NULL: free slot */
    int found;
    int64_t fetched_ms;
    sl_dataset_row row;
} ds_entry;

struct sl_dscache {
    int64_t ttl_ms;
    sl_dscache_fetch fetch;
    void *arg;
    size_t next;            /* round-robin victim */
    ds_entry ds[DSCACHE_SLOTS];
};

void sl_dataset_row_clear(sl_dataset_row *row)
{
    free(row->policy_json);
    free(row->policy_version);
    free(row->allowed_types);
    free(row->scan_actions);
    free(row->scan_lists);
    memset(row, 0, sizeof(*row));
}

static void entry_clear(ds_entry *e)
{
    free(e->id);
    sl_dataset_row_clear(&e->row);
    memset(e, 0, sizeof(*e));
}

int sl_dscache_new(sl_dscache **out, int64_t ttl_ms, sl_dscache_fetch fetch,
                   void *arg)
{
    sl_dscache *c = calloc(1, sizeof(*c));

    *out = NULL;
    if (!c)
        return SL_ENOMEM;
    c->ttl_ms = ttl_ms;
    c->fetch = fetch;
    c->arg = arg;
    *out = c;
    return SL_OK;
}

void sl_dscache_destroy(sl_dscache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < DSCACHE_SLOTS; i++)
        entry_clear(&c->ds[i]);
    free(c);
}

int sl_dscache_get_at(sl_dscache *c, const char *id, int64_t now_ms,
                      const sl_dataset_row **out)
{
    ds_entry *e = NULL;

    *out = NULL;
    for (size_t i = 0; i < DSCACHE_SLOTS; i++)
        if (c->ds[i].id && strcmp(c->ds[i].id, id) == 0) {
            e = &c->ds[i];
            break;
        }
    if (!e || now_ms - e->fetched_ms >= c->ttl_ms) {
        sl_dataset_row row = { 0 };
        int found = 0, rc = c->fetch(c->arg, id, &row, &found);
        char *copy;

        if (rc != SL_OK) {
            sl_dataset_row_clear(&row);
            return rc;
        }
        if (!(copy = strdup(id))) {
            sl_dataset_row_clear(&row);
            return SL_ENOMEM;
        }
        if (!e)
            e = &c->ds[c->next++ % DSCACHE_SLOTS];
        entry_clear(e);
        e->id = copy;
        e->found = found;
        e->fetched_ms = now_ms;
        e->row = row;
    }
    if (!e->found)
        return SL_ENOTFOUND;
    *out = &e->row;
    return SL_OK;
}

int sl_dscache_get(sl_dscache *c, const char *id, const sl_dataset_row **out)
{
    return sl_dscache_get_at(c, id, sl_mono_ms(), out);
}
