/*
 * health.h -- the operator's endpoint of every long-running process
 * (library sl_http): GET /metrics, /health and /ready on a loopback
 * address of its own (config key metrics.listen).
 *
 *   /metrics  the registry's Prometheus text exposition (sl/metrics.h).
 *   /health   liveness: 200 {"status":"ok"} while the process's main loop
 *             beats (sl_health_beat) at least every stall_ms (config key
 *             metrics.stall.ms, 60 s by default); 503 {"status":"stalled"}
 *             when it stopped beating (a loop stuck in a call).  A
 *             supervisor restarts on a failing /health.
 *   /ready    readiness, as the process last reported it
 *             (sl_health_ready): 200 {"ready":true} or 503
 *             {"ready":false,"reason":"<code>"}; false until the first
 *             report, and "stalled" when the loop has not beaten for 15 s
 *             (or stall_ms, if shorter).  The reason is a stable snake_case code
 *             (broker_down, no_partitions, database_unavailable, stalled,
 *             starting, ...).
 *
 * The server also sets the gauge sluice_ready (0/1) and
 * sluice_start_time_seconds in the registry.  All functions are safe from
 * any thread; a NULL handle is a no-op (metrics.listen empty: no
 * endpoint).
 */
#ifndef SL_HEALTH_H
#define SL_HEALTH_H

#include <signal.h>
#include <stdint.h>

#include "sl/common.h"
#include "sl/config.h"
#include "sl/metrics.h"

typedef struct sl_health sl_health;

/* The bounds of metrics.stall.ms: a second to a day. */
#define SL_HEALTH_STALL_MS_MIN INT64_C(1000)
#define SL_HEALTH_STALL_MS_MAX INT64_C(86400000)

/* The config entries every long-running process declares (two, for an
 * initializer list of sl_cfg_entry). */
#define SL_HEALTH_CFG_ENTRY \
    { SL_CFG_STR, "metrics.listen", "", \
      "loopback address:port of GET /metrics, /health, /ready (e.g. 127.0.0.1:9464; empty: none)" }, \
    { SL_CFG_INT, "metrics.stall.ms", "60000", \
      "GET /health answers 503 stalled once the main loop has not come round this long, in ms (1000-86400000)" }

/* cfg's metrics.stall.ms into *ms: SL_OK, or SL_EINVAL (err names the key
 * and its bounds) when it is outside them. */
int sl_health_stall_cfg(const sl_config *cfg, int64_t *ms, sl_err *err);

/* Parses "127.0.0.1:9464" or "[::1]:9464" into addr (at least 64 bytes)
 * and port.  SL_OK, SL_EINVAL. */
int sl_health_parse_listen(const char *s, char *addr, size_t n, uint16_t *port);

/* Starts the endpoint on listen (loopback only; port 0: any free one)
 * serving m, which it borrows.  listen NULL or empty: *out = NULL and
 * SL_OK.  SL_EINVAL (a bad or non-loopback address), SL_EIO (cannot
 * bind), SL_ENOMEM; err says which. */
int  sl_health_start(const char *listen, sl_metrics *m, int64_t stall_ms,
                     sl_health **out, sl_err *err);
uint16_t sl_health_port(const sl_health *h);
/* The main loop is alive. */
void sl_health_beat(sl_health *h);
/* Readiness and, when not ready, its reason code (copied). */
void sl_health_ready(sl_health *h, int ready, const char *reason);
void sl_health_stop(sl_health *h);

/* For a service outside the runner: a new registry in *reg and the
 * endpoint on cfg's metrics.listen (which it must declare with
 * SL_HEALTH_CFG_ENTRY) in *h (NULL when the key is empty), liveness
 * stalling after metrics.stall.ms without a beat.  SL_OK or an error
 * (err says); on error nothing is left to free. */
int  sl_health_open(const sl_config *cfg, sl_metrics **reg, sl_health **h,
                    sl_err *err);
/* Stops the endpoint, then frees the registry.  NULLs are fine. */
void sl_health_close(sl_metrics *reg, sl_health *h);

/* Starting while the environment does not answer yet (a database coming
 * up after its services, a failover).  fn(u, err) opens what the process
 * needs; while it fails with SL_EIO it is called again, 200 ms after the
 * first failure, doubling to 5 s, until budget_ms have passed since the
 * first call.  Meanwhile the process is alive (health beaten every 50 ms)
 * and not ready ("environment_unavailable"), and each failure is logged
 * as a warning under who.  Returns SL_OK once fn succeeds; fn's code at
 * once when it is neither SL_OK nor SL_EIO (a configuration error is not
 * waited out; logged as "<what>: <fn's message>"); SL_EIO when the budget
 * is spent (logged, naming retry.budget.ms); SL_ERR when *stop was set (a
 * signal) while waiting. */
typedef int (*sl_start_fn)(void *u, sl_err *err);

typedef struct sl_start_opts {
    const char *who;                   /* log tag */
    const char *what;                  /* what failed, for a configuration error */
    int64_t budget_ms;                 /* < 0 counts as 0: one try */
    sl_health *health;                 /* NULL: none */
    volatile sig_atomic_t *stop;       /* NULL: wait regardless */
} sl_start_opts;

int sl_start_retry(const sl_start_opts *o, sl_start_fn fn, void *u, sl_err *err);
/* The process's exit status after sl_start_retry returned rc (not SL_OK):
 * 0 stopped by a signal, 1 the environment (the budget was spent), 2 a
 * configuration or other error. */
int sl_start_exit_status(const sl_start_opts *o, int rc);

/* The config entry of a service that waits at start with sl_start_retry. */
#define SL_START_CFG_ENTRY(dflt) \
    { SL_CFG_INT, "retry.budget.ms", dflt, \
      "how long the database may not answer at start before the process exits non-zero" }

/* The config entry of a service whose database sessions get a
 * statement_timeout (sl_pgconn_open reads it; sl_pg_connect_timed). */
#define SL_PG_STATEMENT_TIMEOUT_CFG_ENTRY \
    { SL_CFG_INT, "pg.statement.timeout.ms", "30000", \
      "longest a database statement may run, lock waits included, before it is " \
      "cancelled and retried as an outage (0: no limit)" }

#endif
