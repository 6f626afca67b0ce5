/*
 * log.c -- JSON-lines logging to stderr.  One line per call, written with a
 * single fwrite so lines from several processes sharing a file don't mix.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "sl/common.h"
#include "sl/log.h"
#include "sl/timeutil.h"

/* Set once at start-up, before any thread runs; read-only afterwards. */
static sl_log_level log_level = SL_LOG_INFO;

static const char *level_names[] = { "error", "warn", "info", "debug" };

void sl_log_set_level(sl_log_level lvl)
{
    log_level = lvl;
}

sl_log_level sl_log_get_level(void)
{
    return log_level;
}

int sl_log_parse_level(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (s && strcasecmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

void sl_log_write(sl_log_level lvl, const char *component, const char *fmt, ...)
{
    char msg[2048], ts[SL_TIME_LEN];
    struct timespec now;
    va_list ap;
    json_t *o;
    char *line;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    clock_gettime(CLOCK_REALTIME, &now);
    sl_time_format((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000, ts);

    o = json_pack("{s:s, s:s, s:s, s:s}", "ts", ts,
                  "level", level_names[lvl], "component",
                  component ? component : "sluice", "msg", msg);
    if (!o) /* msg was not valid UTF-8: keep the line, drop the text */
        o = json_pack("{s:s, s:s, s:s, s:s}", "ts", ts, "level",
                      level_names[lvl], "component",
                      component ? component : "sluice",
                      "msg", "(message not valid UTF-8)");
    if (!o)
        return;
    line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(o);
    if (!line)
        return;
    size_t n = strlen(line);
    line[n] = '\n';   /* json_dumps' NUL becomes the newline */
    fwrite(line, 1, n + 1, stderr);
    free(line);
}
