/*
 * timeutil.c -- strict RFC 3339 parsing and UTC formatting, without the
 * locale or TZ dependence of strptime/mktime.
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

static int days_in_month(int y, int m)
{
    static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 ? 28 + leap : dm[m - 1];
}

int sl_time_parse(const char *s, size_t len, int64_t *ms)
{
    int y, mo, d, h, mi, sec, frac_ms = 0, off = 0;
    size_t i = 19;

    if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
        s[13] != ':' || s[16] != ':')
        return SL_EINVAL;
    if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
        digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &sec))
        return SL_EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
        mi > 59 || sec > 60)
        return SL_EINVAL;
    if (s[i] == '.') {
        size_t start = ++i;
        int scale = 100;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            frac_ms += (s[i] - '0') * scale;
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
            digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
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
    *ms = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) -
           (int64_t)off * 60) * 1000 + frac_ms;
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
