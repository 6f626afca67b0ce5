/*
 * timeutil.c -- strict RFC 3339 parsing and UTC formatting, without the
 * locale or TZ dependence of strptime/mktime.
 *
 * What parses is exactly what PostgreSQL's timestamptz stores: offsets up to
 * +-15:59 (RFC 3339 allows +-23:59, PostgreSQL refuses beyond 15:59) and
 * instants from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z in UTC
 * (year 0000 does not exist for PostgreSQL).  A time that parses here can
 * therefore never fail a database write; commit stores the UTC instant it
 * formats itself, not the creator's string.
 */
#include <stdio.h>
#include <time.h>

#include "sl/common.h"
#include "sl/timeutil.h"

static int digits(const char *s, size_t n, int *out)
{
    int v = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return SL_EINVAL;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return SL_OK;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Inverse of days_from_civil. */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int days_in_month(int y, int m)
{
    static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 ? 28 + leap : dm[m - 1];
}

int sl_time_parse_us(const char *s, size_t len, int64_t *us)
{
    int y, mo, d, h, mi, sec, frac_us = 0, off = 0;
    size_t i = 19;
    int64_t v;

    if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
        s[13] != ':' || s[16] != ':')
        return SL_EINVAL;
    if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
        digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &sec))
        return SL_EINVAL;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
        mi > 59 || sec > 60)
        return SL_EINVAL;
    if (s[i] == '.') {
        size_t start = ++i;
        int scale = 100000;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            frac_us += (s[i] - '0') * scale;
            scale /= 10;
            i++;
        }
        if (i == start)
            return SL_EINVAL;
    }
    if (i >= len)
        return SL_EINVAL;
    if (s[i] == 'Z' || s[i] == 'z') {
        i++;
    } else if (s[i] == '+' || s[i] == '-') {
        int oh, om;
        if (len - i != 6 || s[i + 3] != ':' || digits(s + i + 1, 2, &oh) ||
            digits(s + i + 4, 2, &om) || oh > SL_TIME_MAX_OFFSET_H || om > 59)
            return SL_EINVAL;
        off = (oh * 60 + om) * (s[i] == '+' ? 1 : -1);
        i += 6;
    } else {
        return SL_EINVAL;
    }
    if (i != len)
        return SL_EINVAL;
    if (sec == 60)
        sec = 59;   /* leap second: clamp */
    v = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) -
         (int64_t)off * 60) * 1000000 + frac_us;
    if (v < SL_TIME_MIN_US || v > SL_TIME_MAX_US)
        return SL_EINVAL;
    *us = v;
    return SL_OK;
}

int sl_time_parse(const char *s, size_t len, int64_t *ms)
{
    int64_t us;

    if (sl_time_parse_us(s, len, &us) != SL_OK)
        return SL_EINVAL;
    /* floor, so that times before 1970 keep their millisecond */
    *ms = us >= 0 ? us / 1000 : -((-us + 999) / 1000);
    return SL_OK;
}

int sl_time_format_us(int64_t us, char out[SL_TIME_LEN])
{
    int64_t secs, days, rem, frac;
    int y, m, d;

    if (us < SL_TIME_MIN_US || us > SL_TIME_MAX_US) {
        snprintf(out, SL_TIME_LEN, "1970-01-01T00:00:00.000000Z");
        return SL_EINVAL;
    }
    frac = ((us % 1000000) + 1000000) % 1000000;
    secs = (us - frac) / 1000000;
    rem = ((secs % 86400) + 86400) % 86400;
    days = (secs - rem) / 86400;
    civil_from_days(days, &y, &m, &d);
    /* The range check above bounds every field; the modulos tell the
     * compiler (27 characters). */
    snprintf(out, SL_TIME_LEN, "%04u-%02u-%02uT%02u:%02u:%02u.%06uZ",
             (unsigned)y % 10000u, (unsigned)m % 100u, (unsigned)d % 100u,
             (unsigned)(rem / 3600) % 100u, (unsigned)(rem / 60 % 60),
             (unsigned)(rem % 60), (unsigned)frac % 1000000u);
    return SL_OK;
}

void sl_time_format(int64_t ms, char out[SL_TIME_LEN])
{
    int64_t secs_ms = ms - (((ms % 1000) + 1000) % 1000);
    time_t secs = (time_t)(secs_ms / 1000);
    unsigned frac = (unsigned)(ms - secs_ms) % 1000u;
    struct tm tm;
    size_t n;

    if (!gmtime_r(&secs, &tm) ||
        (n = strftime(out, SL_TIME_LEN, "%Y-%m-%dT%H:%M:%S", &tm)) == 0 ||
        n + 6 > SL_TIME_LEN) {
        snprintf(out, SL_TIME_LEN, "1970-01-01T00:00:00.000Z");
        return;
    }
    snprintf(out + n, SL_TIME_LEN - n, ".%03uZ", frac);
}
