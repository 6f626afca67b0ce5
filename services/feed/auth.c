/*
 * auth.c -- who holds a bearer token, and how fast they may ask.
 *
 * The token cache maps the SHA-256 of a token (the feed_tokens key) to what
 * the token is: id, holder, scope, datasets -- facts that never change for
 * a token.  An entry is dropped when NOTIFY sluice_feed_auth arrives (a
 * token, consumer or grant changed), when the listener reconnects (it may
 * have missed one), and after max_age_ms whatever happens; only tokens live
 * at lookup are cached.  Being cached never makes a token live: every
 * route's statement checks liveness itself (feed.h).  Direct-mapped slots,
 * one mutex: a collision costs a database lookup, never a wrong answer
 * (the full hash is compared, in constant time).
 *
 * The rate limit is a token bucket per feed token (rate_per_s, burst),
 * kept apart from the cache so a flush does not refill it.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sl/crypto.h"
#include "sl/log.h"
#include "feed.h"

#define LOG "feed"
#define SLOTS 4096

typedef struct slot {
    int used;
    char hash[SL_SHA256_HEX];
    fd_principal p;
    int64_t at_ms;
} slot;

typedef struct bucket {
    int64_t token_id;          /* 0: free */
    double tokens;
    int64_t at_ms;
} bucket;

struct fd_auth {
    pthread_mutex_t mu;
    slot *slots;
    bucket *buckets;
    double rate, burst;
    int64_t max_age_ms;
};

fd_auth *fd_auth_new(double rate_per_s, double burst, int64_t max_age_ms)
{
    fd_auth *a = calloc(1, sizeof *a);

    if (!a || !(a->slots = calloc(SLOTS, sizeof *a->slots)) ||
        !(a->buckets = calloc(SLOTS, sizeof *a->buckets))) {
        if (a)
            free(a->slots);
        free(a);
        return NULL;
    }
    pthread_mutex_init(&a->mu, NULL);
    a->rate = rate_per_s;
    a->burst = burst < 1 ? 1 : burst;
    a->max_age_ms = max_age_ms;
    return a;
}

void fd_auth_destroy(fd_auth *a)
{
    if (!a)
        return;
    pthread_mutex_destroy(&a->mu);
    free(a->slots);
    free(a->buckets);
    free(a);
}

void fd_auth_flush(fd_auth *a)
{
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < SLOTS; i++)
        a->slots[i].used = 0;
    pthread_mutex_unlock(&a->mu);
}

static size_t slot_of(const char *hash)
{
    return (size_t)strtoul((char[]){ hash[0], hash[1], hash[2], '\0' }, NULL, 16) % SLOTS;
}

/* The token's dataset list (JSON array text or "") into p. */
static int set_datasets(fd_principal *p, const char *json)
{
    json_t *v, *e;
    size_t i, n = 0;

    p->all_datasets = !*json;
    p->datasets_len = 0;
    if (!*json)
        return SL_OK;
    if (!(v = json_loads(json, 0, NULL)) || !json_is_array(v)) {
        json_decref(v);
        return SL_EINVAL;
    }
    json_array_foreach(v, i, e) {
        const char *s = json_string_value(e);
        size_t l = s ? strlen(s) + 1 : 0;
        if (!s || n + l > sizeof p->datasets) {
            json_decref(v);
            return SL_EINVAL;
        }
        memcpy(p->datasets + n, s, l);
        n += l;
    }
    json_decref(v);
    p->datasets_len = n;
    return SL_OK;
}

int fd_principal_has_dataset(const fd_principal *p, const char *dataset)
{
    size_t i = 0;

    if (p->all_datasets)
        return 1;
    while (i < p->datasets_len) {
        const char *s = p->datasets + i;
        if (strcmp(s, dataset) == 0)
            return 1;
        i += strlen(s) + 1;
    }
    return 0;
}

int fd_auth_lookup(fd_auth *a, sl_pgconn *c, const char *token, fd_principal *out)
{
    char hash[SL_SHA256_HEX];
    const char *v[1] = { hash };
    int64_t now = sl_mono_ms();
    PGresult *r = NULL;
    size_t k;
    int rc, hit = 0;

    /* The stored hash is of the whole token text, prefix included. */
    if (fd_token_hash(token, hash) != SL_OK)
        return SL_ENOTFOUND;
    k = slot_of(hash);
    pthread_mutex_lock(&a->mu);
    if (a->slots[k].used && now - a->slots[k].at_ms < a->max_age_ms &&
        sodium_memcmp(a->slots[k].hash, hash, SL_SHA256_HEX - 1) == 0 &&
        a->slots[k].p.expires_ms > sl_now_ms()) {
        *out = a->slots[k].p;
        hit = 1;
    }
    pthread_mutex_unlock(&a->mu);
    if (hit)
        return SL_OK;
    if ((rc = fd_exec(c, "fd_auth", 1, v, &r)) != SL_OK)
        return SL_EIO;
    if (PQntuples(r) != 1 || strcmp(PQgetvalue(r, 0, 6), "t") != 0) {
        PQclear(r);
        return SL_ENOTFOUND;
    }
    memset(out, 0, sizeof *out);
    out->token_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    out->kind = *PQgetvalue(r, 0, 1) ? FD_HOLDER_CONSUMER : FD_HOLDER_CREATOR;
    snprintf(out->holder, sizeof out->holder, "%s",
             out->kind == FD_HOLDER_CONSUMER ? PQgetvalue(r, 0, 1) : PQgetvalue(r, 0, 2));
    out->metadata_only = strcmp(PQgetvalue(r, 0, 3), "metadata") == 0;
    out->expires_ms = strtoll(PQgetvalue(r, 0, 5), NULL, 10);
    rc = set_datasets(out, PQgetvalue(r, 0, 4));
    PQclear(r);
    if (rc != SL_OK) {
        sl_warn(LOG, "token %lld: its dataset list is too long to serve", (long long)out->token_id);
        return SL_ENOTFOUND;
    }
    pthread_mutex_lock(&a->mu);
    a->slots[k].used = 1;
    memcpy(a->slots[k].hash, hash, sizeof hash);
    a->slots[k].p = *out;
    a->slots[k].at_ms = now;
    pthread_mutex_unlock(&a->mu);
    return SL_OK;
}

int64_t fd_auth_rate(fd_auth *a, int64_t token_id)
{
    size_t k = (size_t)((uint64_t)token_id % SLOTS);
    int64_t now = sl_mono_ms(), wait = 0;
    bucket *b;

    if (a->rate <= 0)
        return 0;                 /* no limit configured */
    pthread_mutex_lock(&a->mu);
    b = &a->buckets[k];
    if (b->token_id != token_id) {
        b->token_id = token_id;
        b->tokens = a->burst;
        b->at_ms = now;
    }
    b->tokens += (double)(now - b->at_ms) * a->rate / 1000.0;
    if (b->tokens > a->burst)
        b->tokens = a->burst;
    b->at_ms = now;
    if (b->tokens >= 1.0)
        b->tokens -= 1.0;
    else
        wait = (int64_t)ceil((1.0 - b->tokens) / a->rate);
    pthread_mutex_unlock(&a->mu);
    return wait;              /* >= 1 when limited */
}
