/*
 * fpset.c -- capped open-addressing set of 64-bit fingerprints.  The table
 * starts small and doubles whenever it would pass half full, up to twice
 * the cap, so probes stay short and the memory held follows the entries
 * stored, not the cap: a set capped at a million that has seen forty
 * thousand holds 3 MB, not 48, and a new process does not touch pages
 * scattered across the whole cap-sized table as its first entries land.
 *
 * Fingerprints and digests come from one keyed 128-bit hash (libsodium
 * SipHash-2-4-128, BLAKE2b for long inputs) under random keys drawn once
 * per process: an unkeyed 64-bit hash let anyone who can send an upload
 * craft a collision and have a good upload refused as a replay or
 * duplicate.  The fingerprint is the first 64 bits; exact sets keep all
 * 128 per slot beside it, and equal fingerprints with different digests
 * are distinct entries (linear probing simply goes on).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sl/common.h"
#include "sl/fpset.h"

#define DIG_LEN 16

struct sl_fpset {
    uint64_t *slots;
    uint8_t (*dig)[DIG_LEN];   /* exact sets only, parallel to slots */
    size_t mask;     /* slots - 1, a power of two */
    size_t count;
    size_t max;
    size_t max_slots;  /* the table's size at the cap: 2 * max rounded up */
    int exact;
};

#define FIRST_SLOTS 256   /* the table's size at creation, if the cap allows */

/* Written once, under pthread_once, then only read. */
static pthread_once_t keys_once = PTHREAD_ONCE_INIT;
static uint8_t sip_key[crypto_shorthash_siphashx24_KEYBYTES];
static uint8_t long_key[crypto_generichash_KEYBYTES];

static void keys_init(void)
{
    /* sodium_init() is idempotent; should it fail, randombytes_buf() still
     * draws from the system's generator (getrandom). */
    if (sodium_init() < 0)
        memset(sip_key, 0, sizeof(sip_key));
    randombytes_buf(sip_key, sizeof(sip_key));
    randombytes_buf(long_key, sizeof(long_key));
}

#define SHORT_MAX 512   /* inputs up to this go through SipHash on the stack */

/* The keyed 128-bit hash of (a, b): SipHash-2-4 with 128-bit output over
 * le64(alen) || a || b for short inputs (ids, dataset + hash: the common
 * case, ~100 ns), keyed BLAKE2b-128 over the same bytes for longer ones.
 * The fingerprint is its first 8 bytes; an exact set keeps all 16. */
static void hash128(const void *a, size_t alen, const void *b, size_t blen,
                    uint8_t out[DIG_LEN])
{
    uint8_t len[8];
    uint64_t n = alen;

    pthread_once(&keys_once, keys_init);
    for (int i = 0; i < 8; i++)
        len[i] = (uint8_t)(n >> (8 * i));
    if (alen <= SHORT_MAX && blen <= SHORT_MAX - alen) {
        uint8_t buf[8 + SHORT_MAX];
        memcpy(buf, len, 8);
        if (alen)
            memcpy(buf + 8, a, alen);
        if (blen)
            memcpy(buf + 8 + alen, b, blen);
        crypto_shorthash_siphashx24(out, buf, 8 + alen + blen, sip_key);
    } else {
        crypto_generichash_state st;
        crypto_generichash_init(&st, long_key, sizeof(long_key), DIG_LEN);
        crypto_generichash_update(&st, len, sizeof(len));
        crypto_generichash_update(&st, a, alen);
        crypto_generichash_update(&st, b, blen);
        crypto_generichash_final(&st, out, DIG_LEN);
    }
}

static uint64_t fp_of(const uint8_t d[DIG_LEN])
{
    uint64_t h = 0;

    for (int i = 0; i < 8; i++)
        h |= (uint64_t)d[i] << (8 * i);
    return h ? h : 1;
}

/* Allocates zeroed tables of n slots for s (s's own are left alone). */
static int tables(const sl_fpset *s, size_t n, uint64_t **slots,
                  uint8_t (**dig)[DIG_LEN])
{
    *slots = calloc(n, sizeof(uint64_t));
    *dig = s->exact ? calloc(n, DIG_LEN) : NULL;
    if (!*slots || (s->exact && !*dig)) {
        free(*slots);
        free(*dig);
        return SL_ENOMEM;
    }
    return SL_OK;
}

static sl_fpset *make(size_t max_entries, int exact)
{
    sl_fpset *s = calloc(1, sizeof(*s));
    size_t n = 16;

    if (!s)
        return NULL;
    while (n < max_entries * 2)
        n <<= 1;
    s->max_slots = n;
    s->max = max_entries;
    s->exact = exact;
    if (n > FIRST_SLOTS)
        n = FIRST_SLOTS;
    if (tables(s, n, &s->slots, &s->dig) != SL_OK) {
        free(s);
        return NULL;
    }
    s->mask = n - 1;
    return s;
}

sl_fpset *sl_fpset_new(size_t max_entries)
{
    return make(max_entries, 0);
}

sl_fpset *sl_fpset_new_exact(size_t max_entries)
{
    return make(max_entries, 1);
}

void sl_fpset_destroy(sl_fpset *s)
{
    if (!s)
        return;
    free(s->slots);
    free(s->dig);
    free(s);
}

/* Puts fp (and d) into the first free slot of its probe sequence: the
 * caller knows it is not there and that a slot is free. */
static void put(uint64_t *slots, uint8_t (*dig)[DIG_LEN], size_t mask,
                uint64_t fp, const uint8_t *d)
{
    size_t i = (size_t)fp & mask;

    while (slots[i])
        i = (i + 1) & mask;
    slots[i] = fp;
    if (dig) {
        if (d)
            memcpy(dig[i], d, DIG_LEN);
        else
            memset(dig[i], 0, DIG_LEN);
    }
}

/* Doubles s's table, moving every entry.  On failure s is unchanged. */
static int grow(sl_fpset *s)
{
    size_t n = (s->mask + 1) * 2;
    uint64_t *slots;
    uint8_t (*dig)[DIG_LEN];

    if (tables(s, n, &slots, &dig) != SL_OK)
        return SL_ENOMEM;
    for (size_t i = 0; i <= s->mask; i++)
        if (s->slots[i])
            put(slots, dig, n - 1, s->slots[i], s->dig ? s->dig[i] : NULL);
    free(s->slots);
    free(s->dig);
    s->slots = slots;
    s->dig = dig;
    s->mask = n - 1;
    return SL_OK;
}

/* d is NULL for a plain lookup (fingerprint only) or a plain set. */
static int add_raw(sl_fpset *s, uint64_t fp, const uint8_t *d)
{
    size_t i;

    if (fp == 0)
        fp = 1;
    i = (size_t)fp & s->mask;
    while (s->slots[i]) {
        if (s->slots[i] == fp &&
            (!s->dig || !d || memcmp(s->dig[i], d, DIG_LEN) == 0))
            return SL_OK;
        i = (i + 1) & s->mask;
    }
    if (s->count >= s->max)
        return SL_ETOOBIG;
    /* Past half full: double first.  Should that fail, a table with room
     * still takes the entry (probes get longer; never a wrong answer). */
    if ((s->count + 1) * 2 > s->mask + 1 && s->mask + 1 < s->max_slots &&
        grow(s) != SL_OK && s->count + 1 > s->mask)
        return SL_ENOMEM;
    put(s->slots, s->dig, s->mask, fp, d);
    s->count++;
    return SL_OK;
}

static int has_raw(const sl_fpset *s, uint64_t fp, const uint8_t *d)
{
    size_t i;

    if (fp == 0)
        fp = 1;
    i = (size_t)fp & s->mask;
    while (s->slots[i]) {
        if (s->slots[i] == fp &&
            (!s->dig || !d || memcmp(s->dig[i], d, DIG_LEN) == 0))
            return 1;
        i = (i + 1) & s->mask;
    }
    return 0;
}

int sl_fpset_add(sl_fpset *s, uint64_t fp)
{
    return add_raw(s, fp, NULL);
}

int sl_fpset_has(const sl_fpset *s, uint64_t fp)
{
    return has_raw(s, fp, NULL);
}

void sl_fpset_key(sl_fpkey *k, const void *a, size_t alen, const void *b,
                  size_t blen)
{
    hash128(a, alen, b, blen, k->digest);
    k->fp = fp_of(k->digest);
}

int sl_fpset_add_key(sl_fpset *s, const sl_fpkey *k)
{
    return add_raw(s, k->fp, s->dig ? k->digest : NULL);
}

int sl_fpset_has_key(const sl_fpset *s, const sl_fpkey *k)
{
    return has_raw(s, k->fp, s->dig ? k->digest : NULL);
}

int sl_fpset_add_val(sl_fpset *s, uint64_t fp, const void *a, size_t alen,
                     const void *b, size_t blen)
{
    uint8_t d[DIG_LEN];

    if (!s->dig)
        return add_raw(s, fp, NULL);
    hash128(a, alen, b, blen, d);
    return add_raw(s, fp, d);
}

int sl_fpset_has_val(const sl_fpset *s, uint64_t fp, const void *a,
                     size_t alen, const void *b, size_t blen)
{
    uint8_t d[DIG_LEN];

    if (!s->dig)
        return has_raw(s, fp, NULL);
    hash128(a, alen, b, blen, d);
    return has_raw(s, fp, d);
}

size_t sl_fpset_count(const sl_fpset *s)
{
    return s->count;
}

size_t sl_fpset_bytes(const sl_fpset *s)
{
    return (s->mask + 1) * (sizeof(uint64_t) + (s->exact ? DIG_LEN : 0));
}

void sl_fpset_clear(sl_fpset *s)
{
    if (s->count) {
        memset(s->slots, 0, (s->mask + 1) * sizeof(uint64_t));
        if (s->dig)
            memset(s->dig, 0, (s->mask + 1) * DIG_LEN);
    }
    s->count = 0;
}

int sl_fpset_merge(sl_fpset *dst, const sl_fpset *src)
{
    int rc;

    if (!dst->exact != !src->exact)
        return SL_EINVAL;
    for (size_t i = 0; i <= src->mask; i++) {
        if (!src->slots[i])
            continue;
        rc = add_raw(dst, src->slots[i], src->dig ? src->dig[i] : NULL);
        if (rc != SL_OK)
            return rc;
    }
    return SL_OK;
}

uint64_t sl_fpset_fp(const void *a, size_t alen, const void *b, size_t blen)
{
    uint8_t d[DIG_LEN];

    hash128(a, alen, b, blen, d);
    return fp_of(d);
}
