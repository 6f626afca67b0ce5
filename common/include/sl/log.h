/*
 * log.h -- JSON-lines logging to stderr.
 *
 * Each line is one JSON object: {"ts":..., "level":..., "component":...,
 * "msg":...} plus optional key/values.  The level is process-wide and set
 * once at start-up (sl_log_set_level) before any thread starts; the macros
 * check it before formatting anything.
 */
#ifndef SL_LOG_H
#define SL_LOG_H

#include <stdarg.h>

typedef enum sl_log_level {
    SL_LOG_ERROR = 0,
    SL_LOG_WARN  = 1,
    SL_LOG_INFO  = 2,
    SL_LOG_DEBUG = 3
} sl_log_level;

void sl_log_set_level(sl_log_level lvl);
sl_log_level sl_log_get_level(void);
/* Parses "error|warn|info|debug"; returns -1 on anything else. */
int  sl_log_parse_level(const char *s);

void sl_log_write(sl_log_level lvl, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define SL_LOG(lvl, comp, ...)                                     \
    do {                                                           \
        if ((int)(lvl) <= (int)sl_log_get_level())                 \
            sl_log_write((lvl), (comp), __VA_ARGS__);              \
    } while (0)

#define sl_error(comp, ...) SL_LOG(SL_LOG_ERROR, comp, __VA_ARGS__)
#define sl_warn(comp, ...)  SL_LOG(SL_LOG_WARN,  comp, __VA_ARGS__)
#define sl_info(comp, ...)  SL_LOG(SL_LOG_INFO,  comp, __VA_ARGS__)
#define sl_debug(comp, ...) SL_LOG(SL_LOG_DEBUG, comp, __VA_ARGS__)

#endif
