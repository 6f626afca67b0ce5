/*
 * fuzz_fpset.c -- the capped fingerprint set (common/src/fpset.c) that
 * validate keeps its "seen before" caches in, run against a model: a
 * bitmap of what each set holds.
 *
 * The input is a program.  Byte 0 picks plain or exact sets, bytes 1-4
 * the caps of sets A and B (1 to 2,048, so a table starts at or below its
 * first size of 256 slots and grows past it); then each operation is one
 * byte (which set, what) and its arguments: add an entry, look one up, add
 * a run of up to 64, clear, merge the other set in.  A plain set's entries
 * are fingerprints 0-65535 (0 and 1 are one entry: fingerprint 0 is
 * reserved), clustered on neighbouring slots; an exact set's are 2-byte
 * values under their own keyed fingerprint or forced onto fingerprints 0-7,
 * so many distinct values share a fingerprint and long probe runs form.
 *
 * Properties: every add returns what the model says (SL_OK when the entry
 * is there or fits, SL_ETOOBIG when the set is full; never SL_ENOMEM,
 * memory being there) through every growth of the table; every look-up
 * answers as the model does; the counts agree; the table is a power of
 * two, at least twice the entries and at most twice the cap rounded up; a
 * merge that fits leaves the union, one that does not returns SL_ETOOBIG
 * and leaves the set full with everything it held before; exact sets
 * never take one value for another that shares its fingerprint.
 */
#include "fuzz.h"
#include "sl/common.h"
#include "sl/fpset.h"

#define ITEMS   (2u * 65536u)   /* exact: forced-fingerprint bit, value */
#define WORDS   (ITEMS / 64u)
#define CAP_MAX 2048u
#define RUN_MAX 64u

typedef struct model {
    sl_fpset *set;
    uint64_t bits[WORDS];
    size_t n, cap;
} model;

static model m[2];
static int exact;

static int m_has(const model *x, uint32_t item)
{
    return (int)((x->bits[item / 64] >> (item % 64)) & 1u);
}

static void m_put(model *x, uint32_t item)
{
    if (!m_has(x, item)) {
        x->bits[item / 64] |= (uint64_t)1 << (item % 64);
        x->n++;
    }
}

/* The model's entry for item: a plain set sees the fingerprint alone (the
 * low 16 bits), and stores fingerprint 0 as 1, one entry. */
static uint32_t canon(uint32_t item)
{
    if (exact)
        return item;
    item &= 0xFFFFu;
    return item ? item : 1;
}

/* The set's own answer for item: add (do_add) or look up. */
static int call(model *x, uint32_t item, int do_add, int by_key)
{
    uint8_t v[2] = { (uint8_t)(item >> 8), (uint8_t)item };
    uint64_t forced = item & 7u;
    sl_fpkey k;

    if (!exact)
        return do_add ? sl_fpset_add(x->set, item & 0xFFFFu)
                      : sl_fpset_has(x->set, item & 0xFFFFu);
    if (by_key) {
        sl_fpset_key(&k, v, 2, NULL, 0);
        if (item >= 65536u)
            k.fp = forced;
        return do_add ? sl_fpset_add_key(x->set, &k) : sl_fpset_has_key(x->set, &k);
    }
    {
        uint64_t fp = item >= 65536u ? forced : sl_fpset_fp(v, 2, NULL, 0);
        return do_add ? sl_fpset_add_val(x->set, fp, v, 2, NULL, 0)
                      : sl_fpset_has_val(x->set, fp, v, 2, NULL, 0);
    }
}

static void add(model *x, uint32_t item, int by_key)
{
    uint32_t c = canon(item);
    int want = m_has(x, c) || x->n < x->cap ? SL_OK : SL_ETOOBIG;
    int rc = call(x, item, 1, by_key);

    FUZZ_CHECK(rc == want, "add %u to a set of %zu (cap %zu): %d, want %d",
               item, x->n, x->cap, rc, want);
    if (rc == SL_OK)
        m_put(x, c);
}

static void has(model *x, uint32_t item, int by_key)
{
    int got = call(x, item, 0, by_key);

    FUZZ_CHECK(got == m_has(x, canon(item)), "has %u: %d, model %d", item, got,
               m_has(x, canon(item)));
}

/* Counts, and the table's size against the entries and the cap. */
static void check(const model *x)
{
    size_t slots = sl_fpset_bytes(x->set) / (exact ? 24u : 8u), top = 16;

    while (top < x->cap * 2)
        top <<= 1;
    FUZZ_CHECK(sl_fpset_count(x->set) == x->n, "count %zu, model %zu",
               sl_fpset_count(x->set), x->n);
    FUZZ_CHECK(slots >= 16 && (slots & (slots - 1)) == 0 && slots <= top &&
               slots >= 2 * x->n, "%zu slots for %zu entries, cap %zu", slots,
               x->n, x->cap);
}

/* dst gets src's entries: all of them when they fit, else until full. */
static void merge(model *dst, const model *src)
{
    size_t fresh = 0, i;
    int rc;

    for (i = 0; i < WORDS; i++)
        fresh += (size_t)__builtin_popcountll(src->bits[i] & ~dst->bits[i]);
    rc = sl_fpset_merge(dst->set, src->set);
    if (dst->n + fresh <= dst->cap) {
        FUZZ_CHECK(rc == SL_OK, "merge of %zu new into %zu (cap %zu): %d",
                   fresh, dst->n, dst->cap, rc);
        for (i = 0; i < WORDS; i++)
            dst->bits[i] |= src->bits[i];
        dst->n += fresh;
        return;
    }
    FUZZ_CHECK(rc == SL_ETOOBIG, "merge of %zu new into %zu (cap %zu): %d, want full",
               fresh, dst->n, dst->cap, rc);
    FUZZ_CHECK(sl_fpset_count(dst->set) == dst->cap, "full after merge: %zu of %zu",
               sl_fpset_count(dst->set), dst->cap);
    /* What it held is still there (has() below); which of src's got in
     * depends on the table's order: ask, and each must be one of src's. */
    for (i = 0; i < ITEMS; i++) {
        if (m_has(dst, (uint32_t)i))
            has(dst, (uint32_t)i, (int)(i & 1));
        else if (m_has(src, (uint32_t)i) && call(dst, (uint32_t)i, 0, 0))
            m_put(dst, (uint32_t)i);
    }
    FUZZ_CHECK(dst->n == dst->cap, "merge took %zu entries, cap %zu", dst->n, dst->cap);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t p = 5;

    if (size < 5)
        return 0;
    exact = data[0] & 1;
    for (int s = 0; s < 2; s++) {
        memset(m[s].bits, 0, sizeof(m[s].bits));
        m[s].n = 0;
        m[s].cap = 1 + (((size_t)data[1 + 2 * s] << 8 | data[2 + 2 * s]) % CAP_MAX);
        m[s].set = exact ? sl_fpset_new_exact(m[s].cap) : sl_fpset_new(m[s].cap);
        FUZZ_SETUP(m[s].set != NULL, "sl_fpset_new");
    }
    while (p < size) {
        uint8_t op = data[p++];
        model *x = &m[op & 1], *other = &m[!(op & 1)];
        uint32_t hi = (op & 0x10) ? 65536u : 0;   /* exact: forced fingerprint */
        int by_key = (op >> 5) & 1;

        switch ((op >> 1) % 5) {
        case 0:   /* add an entry */
        case 1:   /* look one up */
            if (size - p < 2)
                goto out;
            if ((op >> 1) % 5 == 0)
                add(x, hi | (uint32_t)data[p] << 8 | data[p + 1], by_key);
            else
                has(x, hi | (uint32_t)data[p] << 8 | data[p + 1], by_key);
            p += 2;
            break;
        case 2:   /* a run: values base, base + 1, ... */
            if (size - p < 3)
                goto out;
            for (uint32_t i = 0, n = 1 + data[p + 2] % RUN_MAX; i < n; i++)
                add(x, hi | (((uint32_t)data[p] << 8 | data[p + 1]) + i) % 65536u,
                    by_key);
            p += 3;
            break;
        case 3:
            sl_fpset_clear(x->set);
            memset(x->bits, 0, sizeof(x->bits));
            x->n = 0;
            break;
        default:
            merge(x, other);
            break;
        }
        check(x);
    }
out:
    check(&m[0]);
    check(&m[1]);
    for (uint32_t i = 0; i < ITEMS; i += 97)   /* a spread of look-ups */
        has(&m[i & 1], i, (int)(i >> 1) & 1);
    for (int s = 0; s < 2; s++)
        sl_fpset_destroy(m[s].set);
    return 0;
}
