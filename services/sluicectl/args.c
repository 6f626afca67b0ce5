/*
 * args.c -- the pure checks of command-line values behind args.h.
 */
#include <stdio.h>
#include <string.h>

#include "args.h"

static int is_alnum(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
           (ch >= '0' && ch <= '9');
}

/* s[0..n): 1..maxlen of alnum or `extra`, alnum first. */
static int check_word(const char *s, size_t n, size_t maxlen,
                      const char *extra)
{
    if (n < 1 || n > maxlen)
        return SL_EINVAL;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!is_alnum(ch) && (i == 0 || ch == '\0' || !strchr(extra, ch)))
            return SL_EINVAL;
    }
    return SL_OK;
}

int ctl_check_id(const char *s)
{
    return s ? check_word(s, strlen(s), 128, "._:-") : SL_EINVAL;
}

int ctl_check_name(const char *s)
{
    return s ? check_word(s, strlen(s), 64, "._-") : SL_EINVAL;
}

int ctl_parse_duration(const char *s, int64_t max_s, int64_t *seconds)
{
    static const struct { char unit; int64_t s; } units[] = {
        { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
        { 'w', 7 * 86400 },
    };
    int64_t n = 0, mult = 0;
    size_t i = 0;

    if (!s)
        return SL_EINVAL;
    for (; s[i] >= '0' && s[i] <= '9'; i++) {
        if (n > (INT64_MAX - 9) / 10)
            return SL_EINVAL;
        n = n * 10 + (s[i] - '0');
    }
    if (i == 0 || !s[i] || s[i + 1])
        return SL_EINVAL;
    for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++)
        if (units[u].unit == s[i])
            mult = units[u].s;
    if (!mult || n < 1 || n > max_s / mult)
        return SL_EINVAL;
    *seconds = n * mult;
    return SL_OK;
}

int ctl_id_list_array(const char *s, size_t max, sl_buf *out, long *bad)
{
    size_t count = 0;
    const char *p = s;
    int rc;

    *bad = -1;
    sl_buf_reset(out);
    if (!s)
        return SL_EINVAL;
    if ((rc = sl_buf_putc(out, '{')) != SL_OK)
        return rc;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        int dup = 0;

        if (check_word(p, n, 128, "._:-") != SL_OK) {
            *bad = (long)(p - s);
            return SL_EINVAL;
        }
        /* Already listed: the element, delimited, in what is written. */
        for (const char *q = (const char *)out->data + 1;
             q < (const char *)out->data + out->len; ) {
            const char *qe = memchr(q, ',', (size_t)((const char *)out->data + out->len - q));
            size_t qn = qe ? (size_t)(qe - q) : (size_t)((const char *)out->data + out->len - q);
            if (qn == n && memcmp(q, p, n) == 0)
                dup = 1;
            q += qn + 1;
        }
        if (!dup) {
            if (++count > max)
                return SL_EINVAL;
            if ((count > 1 && (rc = sl_buf_putc(out, ',')) != SL_OK) ||
                (rc = sl_buf_append(out, p, n)) != SL_OK)
                return rc;
        }
        if (!end)
            break;
        p = end + 1;
    }
    if ((rc = sl_buf_putc(out, '}')) != SL_OK)
        return rc;
    return sl_buf_cstr(out);
}

static const struct {
    const char *word, *key;
    unsigned bit;
} rights[] = {
    { "training", "training_allowed", CTL_RIGHTS_TRAINING },
    { "commercial", "commercial_allowed", CTL_RIGHTS_COMMERCIAL },
};
#define N_RIGHTS (sizeof(rights) / sizeof(rights[0]))

int ctl_rights_parse(const char *s, unsigned *mask, long *bad)
{
    const char *p = s;
    unsigned m = 0;

    *bad = 0;
    if (!s)
        return SL_EINVAL;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        unsigned bit = 0;

        for (size_t r = 0; r < N_RIGHTS; r++)
            if ((strlen(rights[r].word) == n && memcmp(rights[r].word, p, n) == 0) ||
                (strlen(rights[r].key) == n && memcmp(rights[r].key, p, n) == 0))
                bit = rights[r].bit;
        if (!bit) {
            *bad = (long)(p - s);
            return SL_EINVAL;
        }
        m |= bit;
        if (!end)
            break;
        p = end + 1;
    }
    *mask = m;
    return SL_OK;
}

void ctl_rights_array(unsigned mask, char out[CTL_RIGHTS_ARRAY_MAX])
{
    size_t len = 0;

    out[len++] = '{';
    for (size_t r = 0; r < N_RIGHTS; r++) {
        if (!(mask & rights[r].bit))
            continue;
        if (len > 1)
            out[len++] = ',';
        memcpy(out + len, rights[r].key, strlen(rights[r].key));
        len += strlen(rights[r].key);
    }
    out[len++] = '}';
    out[len] = '\0';
}

int ctl_check_currency(const char *s)
{
    if (!s || strlen(s) != 3)
        return SL_EINVAL;
    for (size_t i = 0; i < 3; i++)
        if (s[i] < 'A' || s[i] > 'Z')
            return SL_EINVAL;
    return SL_OK;
}

void ctl_upload_id_make(int64_t ms, const uint8_t rnd[10], char out[CTL_UPLOAD_ID_LEN])
{
    uint8_t b[16];

    for (int i = 0; i < 6; i++)   /* the low 48 bits, big-endian */
        b[i] = (uint8_t)((uint64_t)ms >> (8 * (5 - i)));
    memcpy(b + 6, rnd, 10);
    out[0] = 'u';
    out[1] = '-';
    sl_hex_encode(b, sizeof(b), out + 2);
}
