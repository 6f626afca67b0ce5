/*
 * range.c -- Range, ETag, If-None-Match and If-Range (RFC 9110 sections
 * 13.1.2, 13.1.5, 14.1, 14.2, 8.8.3) for the feed's content route
 * (feed_logic.h).
 *
 * Range: "bytes" (case-insensitive) "=" and a comma list of int-range
 * ("a-" or "a-b") or suffix-range ("-n"), with optional whitespace around
 * the commas and empty list elements tolerated (RFC 9110 5.6.1).  Numbers
 * saturate instead of overflowing: a first position beyond 2^64-1 is
 * simply past the end (416), a last position or a suffix that large
 * covers the rest.  Anything malformed, another unit, or more than one
 * range is ignored (200 with the whole content), which RFC 9110 14.2
 * allows; one range none of whose bytes exist is 416.
 *
 * Entity tags: opaque-tag = DQUOTE *etagc DQUOTE, etagc = %x21 / %x23-7E
 * / obs-text, with an optional case-sensitive "W/".  A malformed
 * If-None-Match matches nothing (the full response is always a correct
 * answer); If-Range uses the strong comparison and never matches a weak
 * tag or a date (the feed sends no Last-Modified).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "feed_logic.h"

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static const char *skip_ows(const char *p)
{
    while (is_ows(*p))
        p++;
    return p;
}

/* 1*DIGIT at *p, saturating at UINT64_MAX; advances *p.  0 if no digit. */
static int parse_num(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;

    if (*s < '0' || *s > '9')
        return 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
    }
    *p = s;
    *out = v;
    return 1;
}

fd_range_kind fd_range_parse(const char *header, uint64_t size, fd_range *r)
{
    const char *p;
    uint64_t a = 0, b = 0;
    int suffix = 0, open = 0, count = 0;

    if (!header)
        return FD_RANGE_NONE;
    p = skip_ows(header);
    if (strncasecmp(p, "bytes", 5) != 0 || p[5] != '=')
        return FD_RANGE_NONE;
    p += 6;
    /* 1#range-spec: elements separated by OWS "," OWS, empty ones allowed */
    for (;;) {
        p = skip_ows(p);
        if (*p == ',') {
            p++;
            continue;
        }
        if (!*p)
            break;
        if (++count > 1)
            return FD_RANGE_NONE;      /* several ranges: not served */
        if (*p == '-') {
            p++;
            if (!parse_num(&p, &b))
                return FD_RANGE_NONE;
            suffix = 1;
        } else {
            if (!parse_num(&p, &a) || *p != '-')
                return FD_RANGE_NONE;
            p++;
            if (*p >= '0' && *p <= '9') {
                (void)parse_num(&p, &b);
                if (b < a)
                    return FD_RANGE_NONE;   /* invalid int-range */
            } else {
                open = 1;
            }
        }
        p = skip_ows(p);
        if (*p && *p != ',')
            return FD_RANGE_NONE;
    }
    if (count == 0)
        return FD_RANGE_NONE;              /* "bytes=" alone is invalid */
    if (suffix) {
        if (b == 0 || size == 0)
            return FD_RANGE_UNSATISFIABLE;
        r->first = b >= size ? 0 : size - b;
        r->last = size - 1;
        return FD_RANGE_ONE;
    }
    if (a >= size)
        return FD_RANGE_UNSATISFIABLE;
    r->first = a;
    r->last = open || b >= size ? size - 1 : b;
    return FD_RANGE_ONE;
}

int fd_etag(const char *sha256_hex, char out[FD_ETAG_MAX])
{
    size_t i;

    if (!sha256_hex)
        return SL_EINVAL;
    for (i = 0; i < 64; i++)
        if (!((sha256_hex[i] >= '0' && sha256_hex[i] <= '9') ||
              (sha256_hex[i] >= 'a' && sha256_hex[i] <= 'f')))
            return SL_EINVAL;
    if (sha256_hex[64])
        return SL_EINVAL;
    snprintf(out, FD_ETAG_MAX, "\"sha256:%s\"", sha256_hex);
    return SL_OK;
}

static int is_etagc(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x7e) || c >= 0x80;
}

/* Reads one entity-tag at *p: sets *weak, *tag (the opaque-tag with its
 * quotes) and *len, advances *p.  0 when there is none. */
static int parse_etag(const char **p, int *weak, const char **tag, size_t *len)
{
    const char *s = *p, *q;

    *weak = 0;
    if (s[0] == 'W' && s[1] == '/') {
        *weak = 1;
        s += 2;
    }
    if (*s != '"')
        return 0;
    for (q = s + 1; is_etagc((unsigned char)*q); q++)
        ;
    if (*q != '"')
        return 0;
    *tag = s;
    *len = (size_t)(q + 1 - s);
    *p = q + 1;
    return 1;
}

/* Our own tag, as fd_etag wrote it (a W/ is allowed and dropped). */
static int own_tag(const char *etag, int *weak, const char **tag, size_t *len)
{
    const char *p = etag;

    if (!etag || !parse_etag(&p, weak, tag, len) || *p)
        return 0;
    return 1;
}

int fd_etag_none_match(const char *if_none_match, const char *etag)
{
    const char *p, *mine, *t;
    size_t mlen, tlen;
    int mweak, weak, match = 0, count = 0;

    if (!if_none_match || !own_tag(etag, &mweak, &mine, &mlen))
        return 0;
    p = skip_ows(if_none_match);
    if (*p == '*')
        return *skip_ows(p + 1) == '\0';   /* "*" alone: any current one */
    for (;;) {
        p = skip_ows(p);
        if (*p == ',') {
            p++;
            continue;
        }
        if (!*p)
            break;
        if (!parse_etag(&p, &weak, &t, &tlen))
            return 0;                       /* malformed: match nothing */
        count++;
        if (tlen == mlen && !memcmp(t, mine, mlen))
            match = 1;                      /* weak comparison */
        p = skip_ows(p);
        if (*p && *p != ',')
            return 0;
    }
    return count > 0 && match;
}

int fd_if_range_ok(const char *if_range, const char *etag)
{
    const char *p, *mine, *t;
    size_t mlen, tlen;
    int mweak, weak;

    if (!if_range)
        return 1;
    p = skip_ows(if_range);
    if (!*p)
        return 1;                           /* an empty field: absent */
    if (!own_tag(etag, &mweak, &mine, &mlen) || mweak)
        return 0;
    if (!parse_etag(&p, &weak, &t, &tlen) || weak)
        return 0;                           /* a date, or a weak tag */
    if (*skip_ows(p))
        return 0;
    return tlen == mlen && !memcmp(t, mine, mlen);
}
