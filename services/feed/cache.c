/*
 * cache.c -- the content cache of sluice-feed: sample bytes by SHA-256,
 * bounded in bytes, least recently used out first.
 *
 * An entry holds the PGresult that read contents.data in binary format and
 * points into it: no copy from the database to the cache, and none from the
 * cache to a response (sl_http_resp_shared hands the entry's bytes to the
 * socket; fd_cache_release drops the response's reference when sent).  An
 * entry is freed when it is out of the table and its last reference goes.
 * Content larger than a quarter of the cache is served the same way but
 * not kept.  Content is immutable under its hash, so an entry is never
 * stale; whether a sample may still be served (withdrawn) is asked of the
 * database by every request, never of this cache.
 *
 * Beside it, which content an upload has (upload id -> sha256): immutable
 * too, direct-mapped, a collision only costs the request a second round
 * trip.  And each dataset's counts for the listing, kept a few seconds.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sl/log.h"
#include "feed.h"

#define LOG "feed"
#define BUCKETS 8192
#define SHA_SLOTS 16384
#define STAT_SLOTS 256

typedef struct stat_slot {
    char dataset[132];
    int64_t at_ms;             /* 0: empty */
    char *json;                /* the counts object, JSON text */
} stat_slot;

typedef struct sha_slot {
    char upload[132];          /* ids are at most 128 bytes */
    char sha[SL_SHA256_HEX];
} sha_slot;

typedef struct entry {
    fd_blob blob;              /* first: fd_blob * <-> entry * */
    struct fd_cache *c;
    PGresult *res;
    char sha[SL_SHA256_HEX];
    unsigned refs;             /* responses + the table's one */
    int in_table;
    struct entry *hnext;       /* bucket chain */
    struct entry *prev, *next; /* LRU: head most recent */
} entry;

struct fd_cache {
    pthread_mutex_t mu;
    entry *b[BUCKETS];
    entry *head, *tail;
    size_t bytes, max;
    sha_slot *shas;
    stat_slot stats[STAT_SLOTS];
};

fd_cache *fd_cache_new(size_t max_bytes)
{
    fd_cache *c = calloc(1, sizeof *c);

    if (!c)
        return NULL;
    if (!(c->shas = calloc(SHA_SLOTS, sizeof *c->shas))) {
        free(c);
        return NULL;
    }
    pthread_mutex_init(&c->mu, NULL);
    c->max = max_bytes;
    return c;
}

static void entry_free(entry *e)
{
    PQclear(e->res);
    free(e);
}

void fd_cache_destroy(fd_cache *c)
{
    entry *e, *n;

    if (!c)
        return;
    for (e = c->head; e; e = n) {
        n = e->next;
        entry_free(e);            /* the server is stopped: no response holds one */
    }
    pthread_mutex_destroy(&c->mu);
    for (size_t i = 0; i < STAT_SLOTS; i++)
        free(c->stats[i].json);
    free(c->shas);
    free(c);
}

/* FNV-1a of an upload id. */
static size_t sha_slot_of(const char *upload)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *upload; upload++)
        h = (h ^ (unsigned char)*upload) * 1099511628211ULL;
    return (size_t)(h % SHA_SLOTS);
}

int fd_cache_sha_of(fd_cache *c, const char *upload_id, char out[SL_SHA256_HEX])
{
    sha_slot *s = &c->shas[sha_slot_of(upload_id)];
    int hit;

    pthread_mutex_lock(&c->mu);
    hit = s->sha[0] && strcmp(s->upload, upload_id) == 0;
    if (hit)
        memcpy(out, s->sha, SL_SHA256_HEX);
    pthread_mutex_unlock(&c->mu);
    return hit;
}

void fd_cache_note_sha(fd_cache *c, const char *upload_id, const char *sha256)
{
    sha_slot *s = &c->shas[sha_slot_of(upload_id)];

    if (strlen(upload_id) >= sizeof s->upload || strlen(sha256) != SL_SHA256_HEX - 1)
        return;
    pthread_mutex_lock(&c->mu);
    snprintf(s->upload, sizeof s->upload, "%s", upload_id);
    memcpy(s->sha, sha256, SL_SHA256_HEX);
    pthread_mutex_unlock(&c->mu);
}

static size_t bucket_of(const char *sha)
{
    return (size_t)strtoul((char[]){ sha[0], sha[1], sha[2], sha[3], '\0' }, NULL, 16) % BUCKETS;
}

/* Under mu. */
static void lru_unlink(fd_cache *c, entry *e)
{
    if (e->prev) e->prev->next = e->next; else c->head = e->next;
    if (e->next) e->next->prev = e->prev; else c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_front(fd_cache *c, entry *e)
{
    e->prev = NULL;
    e->next = c->head;
    if (c->head)
        c->head->prev = e;
    c->head = e;
    if (!c->tail)
        c->tail = e;
}

/* Under mu: takes e out of the table; freed now if nobody sends it. */
static void evict(fd_cache *c, entry *e)
{
    entry **pp = &c->b[bucket_of(e->sha)];

    while (*pp && *pp != e)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = e->hnext;
    lru_unlink(c, e);
    c->bytes -= e->blob.len;
    e->in_table = 0;
    if (--e->refs == 0)
        entry_free(e);
}

void fd_cache_release(void *blob)
{
    entry *e = blob;
    fd_cache *c = e->c;
    int last;

    pthread_mutex_lock(&c->mu);
    last = --e->refs == 0;
    pthread_mutex_unlock(&c->mu);
    if (last)
        entry_free(e);
}

int fd_cache_get(fd_cache *c, sl_pgconn *pc, const char *sha256, fd_blob **out)
{
    const char *v[1] = { sha256 };
    size_t k = bucket_of(sha256);
    PGresult *r = NULL;
    entry *e;

    *out = NULL;
    pthread_mutex_lock(&c->mu);
    for (e = c->b[k]; e && strcmp(e->sha, sha256) != 0; e = e->hnext)
        ;
    if (e) {
        e->refs++;
        lru_unlink(c, e);
        lru_front(c, e);
        pthread_mutex_unlock(&c->mu);
        *out = &e->blob;
        return SL_OK;
    }
    pthread_mutex_unlock(&c->mu);
    if (fd_exec_bin(pc, "fd_blob", 1, v, &r) != SL_OK)
        return SL_EIO;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return SL_ENOTFOUND;
    }
    if (!(e = calloc(1, sizeof *e))) {
        PQclear(r);
        return SL_ENOMEM;
    }
    e->c = c;
    e->res = r;
    e->blob.data = (const uint8_t *)PQgetvalue(r, 0, 0);
    e->blob.len = (size_t)PQgetlength(r, 0, 0);
    snprintf(e->sha, sizeof e->sha, "%s", sha256);
    e->refs = 1;                  /* the caller's */
    pthread_mutex_lock(&c->mu);
    if (e->blob.len <= c->max / 4) {
        entry *o;
        for (o = c->b[k]; o && strcmp(o->sha, sha256) != 0; o = o->hnext)
            ;
        if (!o) {                 /* nobody filled it meanwhile */
            while (c->tail && c->bytes + e->blob.len > c->max)
                evict(c, c->tail);
            e->refs++;
            e->in_table = 1;
            e->hnext = c->b[k];
            c->b[k] = e;
            lru_front(c, e);
            c->bytes += e->blob.len;
        }
    }
    pthread_mutex_unlock(&c->mu);
    *out = &e->blob;
    return SL_OK;
}

/* The counts object of a dataset from fd_ds_stats's rows. */
static json_t *stats_json(const PGresult *r)
{
    json_t *lic = json_array(), *o;
    long long acc = 0, wd = 0;

    if (!lic)
        return NULL;
    for (int i = 0; i < PQntuples(r); i++) {
        long long n = strtoll(PQgetvalue(r, i, 1), NULL, 10);
        acc += n;
        wd += strtoll(PQgetvalue(r, i, 2), NULL, 10);
        if (n > 0 && json_array_append_new(lic, json_pack("{s:s, s:I}", "expression",
                                           PQgetvalue(r, i, 0), "samples", (json_int_t)n)) != 0) {
            json_decref(lic);
            return NULL;
        }
    }
    o = json_pack("{s:I, s:I, s:o}", "samples", (json_int_t)acc, "withdrawn", (json_int_t)wd,
                  "licenses", lic);
    return o;
}

int fd_cache_stats(fd_cache *c, sl_pgconn *pc, const char *dataset, json_t **out)
{
    stat_slot *s = &c->stats[sha_slot_of(dataset) % STAT_SLOTS];
    int64_t now = sl_mono_ms();
    const char *v[1] = { dataset };
    char *text = NULL;
    PGresult *r = NULL;

    *out = NULL;
    pthread_mutex_lock(&c->mu);
    if (s->at_ms && now - s->at_ms < FD_STATS_MS && strcmp(s->dataset, dataset) == 0 && s->json)
        text = strdup(s->json);
    pthread_mutex_unlock(&c->mu);
    if (text) {
        *out = json_loads(text, 0, NULL);
        free(text);
        return *out ? SL_OK : SL_ENOMEM;
    }
    if (fd_exec(pc, "fd_ds_stats", 1, v, &r) != SL_OK)
        return SL_EIO;
    *out = stats_json(r);
    PQclear(r);
    if (!*out)
        return SL_ENOMEM;
    if (strlen(dataset) < sizeof s->dataset && (text = json_dumps(*out, JSON_COMPACT))) {
        pthread_mutex_lock(&c->mu);
        free(s->json);
        s->json = text;
        snprintf(s->dataset, sizeof s->dataset, "%s", dataset);
        s->at_ms = now;
        pthread_mutex_unlock(&c->mu);
    }
    return SL_OK;
}
