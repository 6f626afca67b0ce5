/*
 * health.c -- /metrics, /health and /ready on a loopback listener of
 * their own (contract in sl/health.h), on the sl_http server: one worker
 * thread, small limits, every route a GET.
 *
 * The process's loop writes its readiness and heartbeat under a mutex;
 * the worker thread reads them.  /metrics renders into a buffer capped at
 * 16 MiB (a registry with bounded label sets stays far below).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl/health.h"
#include "sl/http.h"
#include "sl/log.h"

#define EXPOSE_MAX ((size_t)16 << 20)
#define READY_STALL_MS 15000   /* not ready when the loop stops this long */

struct sl_health {
    sl_metrics *m;
    sl_http_router *rt;
    sl_http_server *srv;
    pthread_mutex_t mu;
    int ready;
    char reason[64];
    int64_t last_beat, stall_ms;
    sl_metric *g_ready;
};

int sl_health_parse_listen(const char *s, char *addr, size_t n, uint16_t *port)
{
    const char *colon, *host = s;
    size_t hl;
    char *end;
    unsigned long p;

    if (!s || !*s)
        return SL_EINVAL;
    if (*s == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || rb[1] != ':')
            return SL_EINVAL;
        host = s + 1;
        hl = (size_t)(rb - host);
        colon = rb + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || strchr(s, ':') != colon)
            return SL_EINVAL;
        hl = (size_t)(colon - s);
    }
    if (!hl || hl >= n || !colon[1])
        return SL_EINVAL;
    p = strtoul(colon + 1, &end, 10);
    if (*end || p > 65535 || colon[1] == '-' || colon[1] == '+')
        return SL_EINVAL;
    memcpy(addr, host, hl);
    addr[hl] = '\0';
    *port = (uint16_t)p;
    return SL_OK;
}

static int h_metrics(void *u, sl_http_req *r, sl_http_resp *p)
{
    sl_health *h = u;
    sl_buf *b = sl_http_resp_body(p);
    int rc;

    (void)r;
    sl_buf_reset(b);
    b->max = EXPOSE_MAX < b->max ? EXPOSE_MAX : b->max;
    if ((rc = sl_metrics_expose(h->m, b)) != SL_OK)
        return rc;
    sl_http_resp_type(p, SL_METRICS_CONTENT_TYPE);
    return SL_OK;
}

static int stalled(sl_health *h, int64_t ms)
{
    return ms > 0 && sl_mono_ms() - h->last_beat > ms;
}

static int h_health(void *u, sl_http_req *r, sl_http_resp *p)
{
    sl_health *h = u;
    int bad;

    (void)r;
    pthread_mutex_lock(&h->mu);
    bad = stalled(h, h->stall_ms);
    pthread_mutex_unlock(&h->mu);
    sl_http_resp_type(p, "application/json");
    sl_http_resp_status(p, bad ? 503 : 200);
    return sl_buf_appendf(sl_http_resp_body(p), "{\"status\":\"%s\"}\n",
                          bad ? "stalled" : "ok");
}

static int h_ready(void *u, sl_http_req *r, sl_http_resp *p)
{
    sl_health *h = u;
    char reason[64];
    int ready;

    (void)r;
    pthread_mutex_lock(&h->mu);
    ready = h->ready;
    snprintf(reason, sizeof reason, "%s", h->reason);
    if (ready && stalled(h, h->stall_ms < READY_STALL_MS ? h->stall_ms : READY_STALL_MS)) {
        ready = 0;
        snprintf(reason, sizeof reason, "stalled");
    }
    pthread_mutex_unlock(&h->mu);
    sl_http_resp_type(p, "application/json");
    sl_http_resp_status(p, ready ? 200 : 503);
    if (ready)
        return sl_buf_appendf(sl_http_resp_body(p), "{\"ready\":true}\n");
    /* reason codes are snake_case constants of the process: no escaping */
    return sl_buf_appendf(sl_http_resp_body(p),
                          "{\"ready\":false,\"reason\":\"%s\"}\n", reason);
}

int sl_health_start(const char *listen, sl_metrics *m, int64_t stall_ms,
                    sl_health **out, sl_err *err)
{
    char addr[64];
    uint16_t port;
    sl_health *h;
    sl_http_limits lim;
    sl_metric *start;
    int rc;

    *out = NULL;
    if (!listen || !*listen)
        return SL_OK;
    if (sl_health_parse_listen(listen, addr, sizeof addr, &port) != SL_OK) {
        sl_err_set(err, "metrics.listen \"%s\" is not ADDRESS:PORT", listen);
        return SL_EINVAL;
    }
    if (sl_http_addr_is_loopback(addr) != 1) {
        sl_err_set(err, "metrics.listen \"%s\": a loopback address is required", listen);
        return SL_EINVAL;
    }
    if (!(h = calloc(1, sizeof *h)))
        return SL_ENOMEM;
    h->m = m;
    h->stall_ms = stall_ms;
    h->last_beat = sl_mono_ms();
    snprintf(h->reason, sizeof h->reason, "starting");
    pthread_mutex_init(&h->mu, NULL);
    if (!(h->g_ready = sl_metrics_gauge(m, "sluice_ready",
              "1 when the process reports itself ready (GET /ready), else 0.",
              NULL, 0, err)) ||
        !(start = sl_metrics_gauge(m, "sluice_start_time_seconds",
              "Start time of the process since the Unix epoch, in seconds.",
              NULL, 0, err))) {
        rc = SL_EINVAL;
        goto fail;
    }
    sl_metric_set(start, NULL, (double)sl_now_ms() / 1000.0);
    rc = SL_ENOMEM;
    if (!(h->rt = sl_http_router_new()))
        goto fail;
    if ((rc = sl_http_route(h->rt, "GET", "/metrics", h_metrics, h)) != SL_OK ||
        (rc = sl_http_route(h->rt, "GET", "/health", h_health, h)) != SL_OK ||
        (rc = sl_http_route(h->rt, "GET", "/ready", h_ready, h)) != SL_OK)
        goto fail;
    sl_http_limits_default(&lim);
    lim.threads = 1;
    lim.max_body = 0;
    lim.max_conns = 16;
    lim.max_conns_per_ip = 16;
    lim.timeout_s = 10;
    {
        sl_http_listen ls = { .addr = addr, .port = port };
        if ((rc = sl_http_server_start(&ls, &lim, h->rt, &h->srv, err)) != SL_OK)
            goto fail;
    }
    *out = h;
    return SL_OK;
fail:
    sl_health_stop(h);
    return rc;
}

uint16_t sl_health_port(const sl_health *h)
{
    return h && h->srv ? sl_http_server_port(h->srv) : 0;
}

void sl_health_beat(sl_health *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    h->last_beat = sl_mono_ms();
    pthread_mutex_unlock(&h->mu);
}

void sl_health_ready(sl_health *h, int ready, const char *reason)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    h->ready = ready;
    snprintf(h->reason, sizeof h->reason, "%s", ready ? "" : reason ? reason : "not_ready");
    pthread_mutex_unlock(&h->mu);
    sl_metric_set(h->g_ready, NULL, ready ? 1 : 0);
}

void sl_health_stop(sl_health *h)
{
    if (!h)
        return;
    sl_http_server_stop(h->srv);
    sl_http_router_destroy(h->rt);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

int sl_health_stall_cfg(const sl_config *cfg, int64_t *ms, sl_err *err)
{
    *ms = sl_config_int(cfg, "metrics.stall.ms");
    if (*ms < SL_HEALTH_STALL_MS_MIN || *ms > SL_HEALTH_STALL_MS_MAX) {
        sl_err_set(err, "metrics.stall.ms %" PRId64 " is outside %" PRId64
                   "-%" PRId64, *ms, SL_HEALTH_STALL_MS_MIN, SL_HEALTH_STALL_MS_MAX);
        return SL_EINVAL;
    }
    return SL_OK;
}

int sl_health_open(const sl_config *cfg, sl_metrics **reg, sl_health **h,
                   sl_err *err)
{
    const char *listen = sl_config_get(cfg, "metrics.listen");
    int64_t stall_ms;
    int rc;

    *h = NULL;
    *reg = NULL;
    if ((rc = sl_health_stall_cfg(cfg, &stall_ms, err)) != SL_OK)
        return rc;
    if (!(*reg = sl_metrics_new())) {
        sl_err_set(err, "out of memory");
        return SL_ENOMEM;
    }
    if ((rc = sl_health_start(listen, *reg, stall_ms, h, err)) != SL_OK) {
        sl_metrics_destroy(*reg);
        *reg = NULL;
        return rc;
    }
    if (*h)
        sl_info("health", "metrics.listen %s: GET /metrics, /health, /ready on port %u",
                listen, (unsigned)sl_health_port(*h));
    return SL_OK;
}

void sl_health_close(sl_metrics *reg, sl_health *h)
{
    sl_health_stop(h);
    sl_metrics_destroy(reg);
}

int sl_start_retry(const sl_start_opts *o, sl_start_fn fn, void *u, sl_err *err)
{
    int64_t budget = o->budget_ms > 0 ? o->budget_ms : 0;
    int64_t since = sl_mono_ms(), backoff = 0;
    unsigned tries = 0;

    for (;;) {
        int r = fn(u, err);
        int64_t spent = sl_mono_ms() - since, wait;

        tries++;
        if (r == SL_OK) {
            if (tries > 1)
                sl_info(o->who, "started after %" PRId64 " ms (%u attempts)", spent, tries);
            return SL_OK;
        }
        if (r != SL_EIO) {
            sl_error(o->who, "%s: %s", o->what ? o->what : "cannot start", err->msg);
            return r;
        }
        if (spent >= budget) {
            sl_error(o->who, "cannot start: %s; environment unavailable for %" PRId64
                     " ms (retry.budget.ms): exiting", err->msg, spent);
            return SL_EIO;
        }
        backoff = sl_backoff_next(backoff);
        wait = backoff < budget - spent ? backoff : budget - spent;
        sl_warn(o->who, "cannot start yet: %s; retrying in %" PRId64 " ms", err->msg, wait);
        sl_health_ready(o->health, 0, "environment_unavailable");
        for (int64_t end = sl_mono_ms() + wait; !(o->stop && *o->stop) && sl_mono_ms() < end; ) {
            sl_health_beat(o->health);
            usleep(50 * 1000);
        }
        if (o->stop && *o->stop)
            return SL_ERR;
        sl_health_ready(o->health, 0, "starting");
    }
}

int sl_start_exit_status(const sl_start_opts *o, int rc)
{
    if (o->stop && *o->stop)
        return 0;
    return rc == SL_EIO ? 1 : 2;
}
