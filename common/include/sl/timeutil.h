/*
 * timeutil.h -- RFC 3339 timestamps <-> milliseconds since the epoch.
 */
#ifndef SL_TIMEUTIL_H
#define SL_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

#define SL_TIME_LEN 32

/* Parses "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)" strictly.
 * Returns SL_OK or SL_EINVAL. */
int sl_time_parse(const char *s, size_t len, int64_t *ms);
/* Formats UTC with milliseconds: "2026-11-28T04:37:09.123Z". */
void sl_time_format(int64_t ms, char out[SL_TIME_LEN]);

#endif
