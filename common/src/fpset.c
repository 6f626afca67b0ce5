/*
 * fpset.c -- capped open-addressing set of 64-bit fingerprints, sized at
 * creation to twice its cap so probes stay short and nothing reallocates.
 */
#include <stdlib.h>
#include <string.h>

#include "sl/common.h"
#include "sl/fpset.h"

struct sl_fpset {
    uint64_t *slots;
    size_t mask;     /* slots - 1, a power of two */
    size_t count;
    size_t max;
};

sl_fpset *sl_fpset_new(size_t max_entries)
{
    sl_fpset *s = calloc(1, sizeof(*s));
    size_t n = 16;

    if (!s)
        return NULL;
    while (n < max_entries * 2)
        n <<= 1;
    s->slots = calloc(n, sizeof(uint64_t));
    if (!s->slots) {
        free(s);
        return NULL;
    }
    s->mask = n - 1;
    s->max = max_entries;
    return s;
}

void sl_fpset_destroy(sl_fpset *s)
{
    if (!s)
        return;
    free(s->slots);
    free(s);
}

int sl_fpset_add(sl_fpset *s, uint64_t fp)
{
    size_t i = (size_t)fp & s->mask;

    while (s->slots[i]) {
        if (s->slots[i] == fp)
            return SL_OK;
        i = (i + 1) & s->mask;
    }
    if (s->count >= s->max)
        return SL_ETOOBIG;
    s->slots[i] = fp;
    s->count++;
    return SL_OK;
}

int sl_fpset_has(const sl_fpset *s, uint64_t fp)
{
    size_t i = (size_t)fp & s->mask;

    while (s->slots[i]) {
        if (s->slots[i] == fp)
            return 1;
        i = (i + 1) & s->mask;
    }
    return 0;
}

size_t sl_fpset_count(const sl_fpset *s)
{
    return s->count;
}

void sl_fpset_clear(sl_fpset *s)
{
    if (s->count)
        memset(s->slots, 0, (s->mask + 1) * sizeof(uint64_t));
    s->count = 0;
}

int sl_fpset_merge(sl_fpset *dst, const sl_fpset *src)
{
    for (size_t i = 0; i <= src->mask; i++)
        if (src->slots[i] && sl_fpset_add(dst, src->slots[i]) != SL_OK)
            return SL_ETOOBIG;
    return SL_OK;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;

    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ULL;
    }
    return h;
}

uint64_t sl_fpset_fp(const void *a, size_t alen, const void *b, size_t blen)
{
    uint64_t h = fnv(14695981039346656037ULL, a, alen);

    h = fnv(h, "\x1f", 1);
    h = fnv(h, b, blen);
    /* avalanche (splitmix64 finaliser) so the low bits index well */
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h ? h : 1;
}
