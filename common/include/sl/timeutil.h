/*
 * timeutil.h -- RFC 3339 timestamps <-> milliseconds since the epoch.
 */
#ifndef SL_TIMEUTIL_H
#define SL_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

#define SL_TIME_LEN 32
/* What PostgreSQL's timestamptz takes: offsets up to +-15:59, UTC instants
 * 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999Z (microseconds). */
#define SL_TIME_MAX_OFFSET_H 15
#define SL_TIME_MIN_US INT64_C(-62135596800000000)
#define SL_TIME_MAX_US INT64_C(253402300799999999)

/* Parses "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)" strictly, within the
 * bounds above.  Returns SL_OK or SL_EINVAL (*ms untouched).  Fraction
 * digits beyond the unit are cut, not rounded. */
int sl_time_parse(const char *s, size_t len, int64_t *ms);
/* The same, in microseconds since the epoch. */
int sl_time_parse_us(const char *s, size_t len, int64_t *us);
/* Formats UTC with microseconds: "2026-11-28T04:37:09.123456Z".  Returns
 * SL_OK, or SL_EINVAL (and the epoch) outside SL_TIME_MIN_US..MAX_US. */
int sl_time_format_us(int64_t us, char out[SL_TIME_LEN]);
/* Formats UTC with milliseconds: "2026-11-28T04:37:09.123Z". */
void sl_time_format(int64_t ms, char out[SL_TIME_LEN]);

#endif
