/*
 * statement.c -- a creator's statement checked, payout amounts, and the
 * text forms of amounts, months and CSV fields (statement.h).  Pure: no
 * I/O, no floating point; every sum is checked for overflow.
 */
#include <stdio.h>
#include <string.h>

#include "statement.h"

const char *sl_stmt_kind_name(sl_stmt_kind k)
{
    switch (k) {
    case SL_STMT_EARNINGS: return "earnings";
    case SL_STMT_CLAWBACK: return "clawback";
    case SL_STMT_PAYOUT:   return "payout";
    case SL_STMT_OTHER:    return "other";
    }
    return "other";
}

/* *acc += v, SL_ETOOBIG on overflow (acc unchanged). */
static int add64(int64_t *acc, int64_t v)
{
    if ((v > 0 && *acc > INT64_MAX - v) || (v < 0 && *acc < INT64_MIN - v))
        return SL_ETOOBIG;
    *acc += v;
    return SL_OK;
}

/* The per-line rules: signs, and an earnings line's exact split. */
static int check_line(size_t i, const sl_stmt_line *l, sl_err *err)
{
    const char *k = sl_stmt_kind_name(l->kind);
    int64_t parts = 0;

    if (l->samples < 0 || l->consumers < 0 || l->consumers > l->samples) {
        sl_err_set(err, "line %zu (%s): %lld samples from %lld consumers",
                   i + 1, k, (long long)l->samples, (long long)l->consumers);
        return SL_EINVAL;
    }
    switch (l->kind) {
    case SL_STMT_EARNINGS:
        if (l->gross < 0 || l->fee < 0 || l->rounding < 0 || l->net < 0) {
            sl_err_set(err, "line %zu (earnings): a negative part", i + 1);
            return SL_EINVAL;
        }
        if (add64(&parts, l->fee) || add64(&parts, l->rounding) ||
            add64(&parts, l->net) || parts != l->gross) {
            sl_err_set(err, "line %zu (earnings): gross %lld != fee %lld + "
                       "rounding %lld + net %lld", i + 1, (long long)l->gross,
                       (long long)l->fee, (long long)l->rounding,
                       (long long)l->net);
            return SL_EINVAL;
        }
        return SL_OK;
    case SL_STMT_CLAWBACK:
    case SL_STMT_PAYOUT:
        if (l->net > 0 || l->gross || l->fee || l->rounding) {
            sl_err_set(err, "line %zu (%s): net %lld (must be <= 0, with no "
                       "gross, fee or rounding)", i + 1, k, (long long)l->net);
            return SL_EINVAL;
        }
        return SL_OK;
    case SL_STMT_OTHER:
        return SL_OK;
    }
    sl_err_set(err, "line %zu: unknown kind %d", i + 1, (int)l->kind);
    return SL_EINVAL;
}

int sl_stmt_check(int64_t opening, const sl_stmt_line *lines, size_t n,
                  int64_t closing, sl_stmt_totals *tot, sl_err *err)
{
    sl_stmt_totals t;
    int64_t end = opening;
    int rc;

    memset(&t, 0, sizeof(t));
    memset(tot, 0, sizeof(*tot));
    for (size_t i = 0; i < n; i++) {
        const sl_stmt_line *l = &lines[i];
        int64_t *bucket = l->kind == SL_STMT_EARNINGS ? &t.earned
                        : l->kind == SL_STMT_CLAWBACK ? &t.clawed_back
                        : l->kind == SL_STMT_PAYOUT ? &t.paid_out : &t.other;

        if ((rc = check_line(i, l, err)) != SL_OK)
            return rc;
        if (add64(&t.samples, l->kind == SL_STMT_EARNINGS ? l->samples : 0) ||
            add64(&t.gross, l->gross) || add64(&t.fee, l->fee) ||
            add64(&t.rounding, l->rounding) || add64(bucket, l->net) ||
            add64(&t.net, l->net) || add64(&end, l->net)) {
            sl_err_set(err, "line %zu (%s): the sums overflow", i + 1,
                       sl_stmt_kind_name(l->kind));
            return SL_ETOOBIG;
        }
    }
    if (end != closing) {
        sl_err_set(err, "opening %lld + lines %lld = %lld, but the closing "
                   "balance is %lld", (long long)opening, (long long)t.net,
                   (long long)end, (long long)closing);
        return SL_EINVAL;
    }
    *tot = t;
    return SL_OK;
}

char *sl_amount_format(int64_t micros, char out[SL_AMOUNT_MAX])
{
    /* The magnitude as unsigned: -INT64_MIN does not fit an int64. */
    uint64_t mag = micros < 0 ? (uint64_t)0 - (uint64_t)micros : (uint64_t)micros;

    snprintf(out, SL_AMOUNT_MAX, "%s%llu.%06llu", micros < 0 ? "-" : "",
             (unsigned long long)(mag / 1000000u),
             (unsigned long long)(mag % 1000000u));
    return out;
}

int sl_amount_parse(const char *s, int64_t *micros)
{
    int64_t units = 0, frac = 0;
    int ndig = 0, nfrac = 0;

    if (!s)
        return SL_EINVAL;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (++ndig > 13)
            return SL_EINVAL;
        units = units * 10 + (*s - '0');
    }
    if (!ndig || units > 1000000000000LL)
        return SL_EINVAL;
    if (*s == '.') {
        for (s++; *s >= '0' && *s <= '9'; s++) {
            if (++nfrac > 6)
                return SL_EINVAL;
            frac = frac * 10 + (*s - '0');
        }
        if (!nfrac)
            return SL_EINVAL;
    }
    if (*s)
        return SL_EINVAL;
    for (int i = nfrac; i < 6; i++)
        frac *= 10;
    *micros = units * 1000000 + frac;
    return SL_OK;
}

int sl_month_parse(const char *s, int *year, int *month)
{
    int y = 0, m = 0;

    if (!s || strlen(s) != 7 || s[4] != '-')
        return SL_EINVAL;
    for (int i = 0; i < 7; i++) {
        if (i == 4)
            continue;
        if (s[i] < '0' || s[i] > '9')
            return SL_EINVAL;
        if (i < 4)
            y = y * 10 + (s[i] - '0');
        else
            m = m * 10 + (s[i] - '0');
    }
    if (y < 2000 || m < 1 || m > 12)
        return SL_EINVAL;
    *year = y;
    *month = m;
    return SL_OK;
}

void sl_month_bounds(int year, int month, char start[SL_DATE_MAX],
                     char end[SL_DATE_MAX])
{
    int ny = month == 12 ? year + 1 : year, nm = month == 12 ? 1 : month + 1;

    /* The remainders only tell the compiler the widths (years are
     * 2000..9999 by sl_month_parse; the year after 9999-12 is 10000). */
    snprintf(start, SL_DATE_MAX, "%04u-%02u-01", (unsigned)year % 100000u,
             (unsigned)month % 100u);
    snprintf(end, SL_DATE_MAX, "%04u-%02u-01", (unsigned)ny % 100000u,
             (unsigned)nm % 100u);
}

int64_t sl_payout_amount(int64_t entitled, int64_t paid, int64_t posted,
                         int64_t pending, int64_t min)
{
    int64_t owed, avail;

    /* Inputs are account totals and sums of positive amounts: far from
     * the int64 limits, but a subtraction that would overflow pays 0. */
    if ((paid < 0 && entitled > INT64_MAX + paid) ||
        (paid > 0 && entitled < INT64_MIN + paid) ||
        (pending < 0 && posted > INT64_MAX + pending) ||
        (pending > 0 && posted < INT64_MIN + pending))
        return 0;
    owed = entitled - paid;
    avail = posted - pending;
    if (avail < owed)
        owed = avail;
    if (owed <= 0 || owed < min)
        return 0;
    return owed;
}

int sl_csv_field(sl_buf *out, const char *s)
{
    int quote = strpbrk(s, ",\"\r\n") != NULL;
    int neutral = s[0] && strchr("=+-@\t\r", s[0]) != NULL;
    int rc;

    if (quote && (rc = sl_buf_putc(out, '"')) != SL_OK)
        return rc;
    if (neutral && (rc = sl_buf_putc(out, '\'')) != SL_OK)
        return rc;
    for (; *s; s++) {
        if (*s == '"' && (rc = sl_buf_putc(out, '"')) != SL_OK)
            return rc;
        if ((rc = sl_buf_putc(out, *s)) != SL_OK)
            return rc;
    }
    return quote ? sl_buf_putc(out, '"') : SL_OK;
}
