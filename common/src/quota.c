/*
 * quota.c -- daily quota arithmetic (see sl/quota.h): limits, what is
 * left, whether a sample fits, the UTC day usage is counted under.  Every
 * comparison is made as "addition <= limit - used" with both terms known
 * to be non-negative, so no sum can wrap.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sl/quota.h"

bool sl_quota_limited(const sl_quota *q)
{
    return q->count >= 0 || q->bytes >= 0;
}

int64_t sl_quota_remaining(int64_t limit, int64_t used)
{
    if (limit < 0)
        return INT64_MAX;
    if (used < 0)
        used = 0;
    return used >= limit ? 0 : limit - used;
}

int64_t sl_quota_add(int64_t a, int64_t b)
{
    if (a < 0)
        a = 0;
    if (b < 0)
        b = 0;
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

/* used + add <= limit, without computing the sum. */
static bool fits(int64_t limit, int64_t used, int64_t add)
{
    if (limit < 0)
        return true;
    if (used < 0)
        used = 0;
    if (add < 0)
        add = 0;
    return used <= limit && add <= limit - used;
}

sl_quota_fit sl_quota_check(const sl_quota *q, const sl_quota_usage *used,
                            int64_t bytes)
{
    if (!fits(q->count, used->count, 1))
        return SL_QUOTA_OVER_COUNT;
    if (!fits(q->bytes, used->bytes, bytes))
        return SL_QUOTA_OVER_BYTES;
    return SL_QUOTA_FITS;
}

sl_quota_fit sl_quota_take(const sl_quota *q, sl_quota_usage *used,
                           int64_t bytes)
{
    sl_quota_fit f = sl_quota_check(q, used, bytes);

    if (f == SL_QUOTA_FITS) {
        used->count = sl_quota_add(used->count, 1);
        used->bytes = sl_quota_add(used->bytes, bytes);
    }
    return f;
}

int64_t sl_quota_day(int64_t unix_ms)
{
    int64_t d = unix_ms / SL_QUOTA_DAY_MS;

    return unix_ms % SL_QUOTA_DAY_MS < 0 ? d - 1 : d;
}

int64_t sl_quota_tally(int64_t registry, int64_t ours, int64_t recent)
{
    int64_t cap = sl_quota_add(registry, recent);

    if (ours > cap)
        ours = cap;
    return ours > registry ? ours : registry;
}

int sl_quota_limit_parse(const char *s, bool bytes, int64_t *out)
{
    char *end;
    long long v;
    int64_t mul = 1;

    if (!s || !*s)
        return -1;
    if (strcmp(s, "none") == 0) {
        *out = SL_QUOTA_UNLIMITED;
        return 0;
    }
    if (bytes && (*s == '-' || *s == '+'))   /* a size has no sign */
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || v < 0)
        return -1;
    if (!bytes) {
        if (*end || v > INT32_MAX)
            return -1;
        *out = v;
        return 0;
    }
    if (*end) {
        switch (*end) {
        case 'k': case 'K': mul = INT64_C(1024); break;
        case 'm': case 'M': mul = INT64_C(1024) * 1024; break;
        case 'g': case 'G': mul = INT64_C(1024) * 1024 * 1024; break;
        default: return -1;
        }
        end++;
        if (*end == 'b' || *end == 'B')
            end++;
        if (*end)
            return -1;
    }
    if (v > INT64_MAX / mul)
        return -1;
    *out = v * mul;
    return 0;
}

size_t sl_quota_pair_find(const sl_quota_pair *pairs, size_t n,
                          const char *creator_id, const char *dataset_id)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(pairs[i].creator_id, creator_id) == 0 &&
            strcmp(pairs[i].dataset_id, dataset_id) == 0)
            break;
    return i;
}
