/*
 * main.c -- sluice-feed: what continuous-learning model updaters consume
 * (issue #12).  Entitled, resumable, takedown-aware, metered delivery of
 * accepted samples over HTTP (routes: handlers.c).
 *
 * Reads its config (sl/config.h: -c FILE, SLUICE_* environment, -X), opens
 * the signed-URL key (feed.url.key.file: 32 random bytes as 64 hex digits,
 * created 0600 at first start), a pool of database connections (one per
 * worker thread), the content cache and the LISTEN thread, starts the HTTP
 * server (sl/http.h; loopback unless TLS is configured) and runs until
 * SIGTERM / SIGINT.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <sodium.h>

#include "sl/crypto.h"
#include "sl/health.h"
#include "sl/log.h"
#include "feed.h"

#define LOG "feed"

void fd_routes(fd_app *a, sl_http_router *rt, int *rc);

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static const sl_cfg_entry feed_map[] = {
    { SL_CFG_STR,  "feed.listen", "127.0.0.1", "address to listen on (non-loopback needs TLS)" },
    { SL_CFG_INT,  "feed.port", "8480", "TCP port (0: any free port, logged)" },
    { SL_CFG_STR,  "feed.tls.cert", "", "TLS certificate file (PEM)" },
    { SL_CFG_STR,  "feed.tls.key", "", "TLS private key file (PEM)" },
    { SL_CFG_STR,  "feed.base.url", "",
      "absolute base of the content URLs in feed lines (default http(s)://listen:port)" },
    { SL_CFG_STR,  "feed.url.key.file", "feed-url.key",
      "HMAC key of the signed content URLs (32 bytes, hex; created 0600 when missing)" },
    { SL_CFG_INT,  "feed.url.ttl.s", "3600", "lifetime of a signed content URL, seconds" },
    { SL_CFG_INT,  "feed.page.max", "10000", "largest `limit` of a page" },
    { SL_CFG_INT,  "feed.wait.max.s", "60", "longest `wait` of a long poll, seconds" },
    { SL_CFG_SIZE, "feed.cache.bytes", "256m", "content cache size" },
    { SL_CFG_INT,  "feed.threads", "4", "HTTP worker threads (and database connections)" },
    { SL_CFG_INT,  "feed.rate.per.s", "1000", "requests per second per token (0: no limit)" },
    { SL_CFG_INT,  "feed.rate.burst", "2000", "requests a token may burst" },
    { SL_CFG_INT,  "feed.auth.cache.ms", "5000",
      "longest a token's identity is cached (NOTIFY sluice_feed_auth drops it sooner)" },
    { SL_CFG_INT,  "feed.max.conns", "4096", "open connections in all (long polls included)" },
    { SL_CFG_INT,  "feed.max.conns.per.ip", "2048", "open connections per client address" },
    { SL_CFG_INT,  "feed.timeout.s", "90", "idle connection timeout, seconds (> feed.wait.max.s)" },
    { SL_CFG_STR,  "log.level", "info", "error, warn, info or debug" },
    SL_HEALTH_CFG_ENTRY,
    SL_START_CFG_ENTRY("300000"),
    SL_PG_STATEMENT_TIMEOUT_CFG_ENTRY,
    SL_CFG_END
};

typedef struct pool_arg {
    fd_app *a;
    size_t n;
} pool_arg;

static int pool_open(void *u, sl_err *err)
{
    pool_arg *p = u;

    return fd_pool_new(p->a->cfg, p->n, &p->a->pool, err);
}

static const char usage[] =
    "usage: sluice-feed [-c FILE] [-X key=value]... [-v]\n"
    "The delivery feed: HTTP on feed.listen:feed.port, PostgreSQL (pg.dsn /\n"
    "SLUICE_PG_DSN).\n";

/* The signed-URL key: sl_keyfile_hex32_load_or_create (64 hex digits,
 * 0600, no symbolic link, /dev/fd/N when the supervisor hands it over;
 * made with a fresh random key at first start). */
static int url_key(const char *path, uint8_t key[FD_URLKEY_BYTES], sl_err *err)
{
    int created = 0;
    int rc = sl_keyfile_hex32_load_or_create(path, "signed-URL key file", 0, key,
                                             &created, err);

    if (rc == SL_OK && created)
        sl_info(LOG, "created the signed-URL key %s", path);
    return rc;
}

/* Long polls hold a descriptor each: as many as the hard limit allows. */
static void raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            sl_warn(LOG, "cannot raise the descriptor limit: %s", strerror(errno));
    }
}

int main(int argc, char **argv)
{
    sl_metrics *metrics = NULL;
    sl_health *health = NULL;
    fd_app a = { 0 };
    sl_err err = { "" };
    sl_http_router *rt = NULL;
    sl_http_server *srv = NULL;
    fd_listener *lis = NULL;
    sl_http_limits lim;
    struct sigaction sa;
    int rc, lvl, status = 1;
    int64_t port, threads, cache;

    a.cfg = sl_config_new();
    if (!a.cfg || sl_config_declare(a.cfg, feed_map) != SL_OK)
        return 1;
    rc = sl_config_from_args(a.cfg, argc, argv, usage, &err);
    if (rc == 1) {
        sl_config_destroy(a.cfg);
        return 0;
    }
    if (rc != SL_OK) {
        fprintf(stderr, "sluice-feed: %s\n", err.msg);
        sl_config_destroy(a.cfg);
        return 2;
    }
    if ((lvl = sl_log_parse_level(sl_config_get(a.cfg, "log.level"))) >= 0)
        sl_log_set_level((sl_log_level)lvl);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (sl_health_open(a.cfg, &metrics, &health, &err) != SL_OK) {
        sl_error(LOG, "%s", err.msg);
        goto out;
    }
    raise_nofile();
    a.url_ttl_s = sl_config_int(a.cfg, "feed.url.ttl.s");
    a.page_max = sl_config_int(a.cfg, "feed.page.max");
    a.wait_max_s = sl_config_int(a.cfg, "feed.wait.max.s");
    threads = sl_config_int(a.cfg, "feed.threads");
    cache = sl_config_int(a.cfg, "feed.cache.bytes");
    port = sl_config_int(a.cfg, "feed.port");
    if (a.url_ttl_s < 1 || a.page_max < 1 || a.wait_max_s < 0 || cache < 0 ||
        threads < 1 || threads > 64 || port < 0 || port > 65535 ||
        sl_config_int(a.cfg, "feed.rate.per.s") < 0 || sl_config_int(a.cfg, "feed.rate.burst") < 1) {
        sl_error(LOG, "feed.url.ttl.s, feed.page.max, feed.rate.burst must be positive, "
                 "feed.threads 1 to 64, feed.port 0 to 65535");
        goto out;
    }
    if (url_key(sl_config_get(a.cfg, "feed.url.key.file"), a.url_key, &err) != SL_OK) {
        sl_error(LOG, "signed-URL key: %s", err.msg);
        goto out;
    }
    if (!(a.auth = fd_auth_new((double)sl_config_int(a.cfg, "feed.rate.per.s"),
                               (double)sl_config_int(a.cfg, "feed.rate.burst"),
                               sl_config_int(a.cfg, "feed.auth.cache.ms"))) ||
        !(a.cache = fd_cache_new((size_t)cache)))
        goto out;
    {
        /* A database that does not answer yet is waited for (a stack
         * starting, a failover); a conninfo libpq cannot parse is not. */
        pool_arg pa = { &a, (size_t)threads };
        sl_start_opts so = { LOG, "database", sl_config_int(a.cfg, "retry.budget.ms"),
                             health, &g_stop };

        if ((rc = sl_start_retry(&so, pool_open, &pa, &err)) != SL_OK) {
            status = sl_start_exit_status(&so, rc);
            goto out;
        }
    }
    if (!(rt = sl_http_router_new()))
        goto out;
    fd_routes(&a, rt, &rc);
    if (rc != SL_OK)
        goto out;
    sl_http_limits_default(&lim);
    lim.threads = (unsigned)threads;
    lim.max_body = 0;             /* every route is a GET */
    lim.max_conns = (unsigned)sl_config_int(a.cfg, "feed.max.conns");
    lim.max_conns_per_ip = (unsigned)sl_config_int(a.cfg, "feed.max.conns.per.ip");
    lim.timeout_s = (unsigned)sl_config_int(a.cfg, "feed.timeout.s");
    lim.listen_backlog = 1024;
    {
        sl_http_listen ls = {
            .addr = sl_config_get(a.cfg, "feed.listen"),
            .port = (uint16_t)port,
            .tls_cert_file = sl_config_get(a.cfg, "feed.tls.cert"),
            .tls_key_file = sl_config_get(a.cfg, "feed.tls.key"),
            .metrics = metrics,
        };
        const char *scheme = ls.tls_cert_file && *ls.tls_cert_file ? "https" : "http";
        const char *base = sl_config_get(a.cfg, "feed.base.url");

        if (sl_http_server_start(&ls, &lim, rt, &srv, &err) != SL_OK) {
            sl_error(LOG, "%s", err.msg);
            goto out;
        }
        a.srv = srv;
        if (base && *base)
            snprintf(a.base_url, sizeof a.base_url, "%s", base);
        else
            snprintf(a.base_url, sizeof a.base_url, "%s://%s%s%s:%u", scheme,
                     strchr(ls.addr, ':') ? "[" : "", ls.addr, strchr(ls.addr, ':') ? "]" : "",
                     (unsigned)sl_http_server_port(srv));
        while (strlen(a.base_url) && a.base_url[strlen(a.base_url) - 1] == '/')
            a.base_url[strlen(a.base_url) - 1] = '\0';
        sl_info(LOG, "listening on %s://%s:%u/ (content URLs under %s)", scheme, ls.addr,
                (unsigned)sl_http_server_port(srv), a.base_url);
    }
    if (fd_listener_start(&a, &lis, &err) != SL_OK) {
        sl_error(LOG, "listener: %s", err.msg);
        goto out;
    }
    sl_health_ready(health, 1, NULL);
    while (!g_stop) {
        sl_health_beat(health);
        usleep(100000);
    }
    sl_health_ready(health, 0, "stopping");
    sl_info(LOG, "stopping");
    status = 0;
out:
    fd_listener_stop(lis);
    sl_http_server_stop(srv);
    sl_http_router_destroy(rt);
    fd_pool_destroy(a.pool);
    fd_cache_destroy(a.cache);
    fd_auth_destroy(a.auth);
    sodium_memzero(a.url_key, sizeof a.url_key);
    sl_config_destroy(a.cfg);
    sl_health_close(metrics, health);   /* after the server that counts into it */
    return status;
}
