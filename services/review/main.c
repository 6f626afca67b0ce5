/*
 * main.c -- sluice-review: the moderators' dashboard for sluice.flagged.
 *
 * Reads its config (sl/config.h: -c FILE, SLUICE_* environment, -X), loads
 * the scan rules (for redaction), opens the review audit key (the key file
 * only this service is given; its public half registered with purpose
 * 'review'), starts the HTTP server (sl/http.h; loopback unless TLS is
 * configured) and the outbox relay, and runs until SIGTERM / SIGINT.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl/kafka.h"
#include "sl/health.h"
#include "sl/log.h"
#include "sl/pg.h"
#include "sl/topology.h"
#include "review.h"

#define LOG "review"

void rv_routes(rv_app *a, sl_http_router *rt, int *rc);

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static const sl_cfg_entry review_map[] = {
    { SL_CFG_STR,  "review.listen", "127.0.0.1", "address to listen on (non-loopback needs TLS)" },
    { SL_CFG_INT,  "review.port", "8470", "TCP port (0: any free port, logged)" },
    { SL_CFG_STR,  "review.tls.cert", "", "TLS certificate file (PEM)" },
    { SL_CFG_STR,  "review.tls.key", "", "TLS private key file (PEM)" },
    { SL_CFG_INT,  "review.lease.s", "600", "claim lease of an opened item, seconds" },
    { SL_CFG_INT,  "review.session.idle.s", "1800", "session idle expiry, seconds" },
    { SL_CFG_INT,  "review.session.absolute.s", "43200", "session absolute expiry, seconds" },
    { SL_CFG_INT,  "review.reverse.window.s", "30",
      "a lead may reverse a decision this long; its message is held back as long" },
    { SL_CFG_STR,  "review.second.rules", "",
      "comma list of rule ids whose approval needs a second moderator" },
    { SL_CFG_INT,  "review.login.window.s", "900", "login rate-limit window, seconds" },
    { SL_CFG_INT,  "review.login.max.user", "5", "failed logins per account per window" },
    { SL_CFG_INT,  "review.login.max.addr", "20", "failed logins per client address per window" },
    { SL_CFG_BOOL, "review.relay.enabled", "true",
      "relay decisions to Kafka (false: tests only, they queue in the outbox)" },
    { SL_CFG_INT,  "review.threads", "4", "HTTP worker threads (and database connections)" },
    { SL_CFG_SIZE, "review.max.body", "64k", "largest request body" },
    { SL_CFG_SIZE, "review.value.max.bytes", "16m", "largest message the relay sends" },
    { SL_CFG_STR,  "audit.key.file", "review-audit.key",
      "Ed25519 key sealing the review chains' heads (created 0600 when missing)" },
    { SL_CFG_STR,  "topic.prefix", "", "prefix added to every topic name" },
    { SL_CFG_STR,  "instance.id", "0", "stable id of this instance (transactional.id suffix)" },
    { SL_CFG_STR,  "log.level", "info", "error, warn, info or debug" },
    SL_HEALTH_CFG_ENTRY,
    SL_START_CFG_ENTRY("300000"),
    SL_PG_STATEMENT_TIMEOUT_CFG_ENTRY,
    SL_CFG_END
};

typedef struct pool_arg {
    const char *dsn;
    size_t n;
    int64_t stmt_timeout_ms;
    rv_pool **out;
} pool_arg;

static int pool_open(void *u, sl_err *err)
{
    pool_arg *p = u;

    return rv_pool_new(p->dsn, p->n, p->stmt_timeout_ms, p->out, err);
}

static const char usage[] =
    "usage: sluice-review [-c FILE] [-X key=value]... [-v]\n"
    "The moderators' dashboard: HTTP on review.listen:review.port, PostgreSQL\n"
    "(pg.dsn / SLUICE_PG_DSN), decisions relayed to Kafka (kafka.*).\n";

static int register_key(rv_app *a, sl_err *err)
{
    PGconn *c = rv_pool_get(a->pool);
    const char *v[1] = { sl_audit_signer_key_id(a->signer) };
    PGresult *r;
    int ok;

    if (!c) {
        sl_err_set(err, "no database connection");
        return SL_EIO;
    }
    r = PQexecParams(c, "INSERT INTO audit_keys (key_id, purpose) VALUES ($1, 'review')"
                     " ON CONFLICT (key_id) DO NOTHING", 1, NULL, v, NULL, NULL, 0);
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        sl_err_set(err, "registering the audit key (sluicectl db migrate?): %s",
                   PQresultErrorMessage(r));
    PQclear(r);
    rv_pool_put(a->pool, c);
    return ok ? SL_OK : SL_EIO;
}

int main(int argc, char **argv)
{
    sl_metrics *metrics = NULL;
    sl_health *health = NULL;
    rv_app a = { 0 };
    sl_err err = { "" };
    sl_http_router *rt = NULL;
    sl_http_server *srv = NULL;
    rv_relay *relay = NULL;
    sl_http_limits lim;
    struct sigaction sa;
    int rc, lvl, status = 1;
    const char *dsn;

    a.cfg = sl_config_new();
    if (!a.cfg || sl_config_declare(a.cfg, review_map) != SL_OK)
        return 1;
    rc = sl_config_from_args(a.cfg, argc, argv, usage, &err);
    if (rc == 1) {
        sl_config_destroy(a.cfg);
        return 0;
    }
    if (rc != SL_OK) {
        fprintf(stderr, "sluice-review: %s\n", err.msg);
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
    a.stop = &g_stop;
    pthread_mutex_init(&a.ov_mu, NULL);
    a.lease_s = sl_config_int(a.cfg, "review.lease.s");
    a.idle_s = sl_config_int(a.cfg, "review.session.idle.s");
    a.absolute_s = sl_config_int(a.cfg, "review.session.absolute.s");
    a.reverse_window_s = sl_config_int(a.cfg, "review.reverse.window.s");
    a.second_rules = sl_config_get(a.cfg, "review.second.rules");
    a.outbox_value_max = sl_config_int(a.cfg, "review.value.max.bytes");
    a.rate_user = (sl_ws_rate){ sl_config_int(a.cfg, "review.login.window.s") * 1000,
                                (unsigned)sl_config_int(a.cfg, "review.login.max.user") };
    a.rate_addr = (sl_ws_rate){ sl_config_int(a.cfg, "review.login.window.s") * 1000,
                                (unsigned)sl_config_int(a.cfg, "review.login.max.addr") };
    if (a.lease_s < 1 || a.idle_s < 1 || a.absolute_s < 1 || a.reverse_window_s < 0) {
        sl_error(LOG, "review.lease.s and the session limits must be positive");
        goto out;
    }
    sl_kafka_topic_name(a.cfg, SL_TOPIC_REVIEWED, a.topic_reviewed, sizeof a.topic_reviewed);
    sl_kafka_topic_name(a.cfg, SL_TOPIC_REJECTED, a.topic_rejected, sizeof a.topic_rejected);
    if (sl_rules_load_builtin(&a.rules, &err) != SL_OK) {
        sl_error(LOG, "scan rules: %s", err.msg);
        goto out;
    }
    if (sl_audit_signer_open(sl_config_get(a.cfg, "audit.key.file"), 1, &a.signer, &err) != SL_OK) {
        sl_error(LOG, "audit key: %s", err.msg);
        goto out;
    }
    dsn = sl_config_get(a.cfg, "pg.dsn");
    sl_http_limits_default(&lim);
    lim.threads = (unsigned)sl_config_int(a.cfg, "review.threads");
    lim.max_body = (size_t)sl_config_int(a.cfg, "review.max.body");
    if (lim.threads < 1 || lim.threads > 64) {
        sl_error(LOG, "review.threads must be 1 to 64");
        goto out;
    }
    {
        /* A database that does not answer yet is waited for (a stack
         * starting, a failover); a conninfo libpq cannot parse is not. */
        pool_arg pa = { dsn, lim.threads, sl_config_int(a.cfg, "pg.statement.timeout.ms"),
                        &a.pool };
        sl_start_opts so = { LOG, "database", sl_config_int(a.cfg, "retry.budget.ms"),
                             health, &g_stop };

        if ((rc = sl_start_retry(&so, pool_open, &pa, &err)) != SL_OK) {
            status = sl_start_exit_status(&so, rc);
            goto out;
        }
    }
    if (register_key(&a, &err) != SL_OK) {
        sl_error(LOG, "%s", err.msg);
        goto out;
    }
    if (!(rt = sl_http_router_new()))
        goto out;
    rv_routes(&a, rt, &rc);
    if (rc != SL_OK)
        goto out;
    {
        int64_t port = sl_config_int(a.cfg, "review.port");
        sl_http_listen ls = {
            .addr = sl_config_get(a.cfg, "review.listen"),
            .port = (uint16_t)port,
            .tls_cert_file = sl_config_get(a.cfg, "review.tls.cert"),
            .tls_key_file = sl_config_get(a.cfg, "review.tls.key"),
            .metrics = metrics,
        };
        if (port < 0 || port > 65535) {
            sl_error(LOG, "review.port must be 0 to 65535");
            goto out;
        }
        if (sl_http_server_start(&ls, &lim, rt, &srv, &err) != SL_OK) {
            sl_error(LOG, "%s", err.msg);
            goto out;
        }
        sl_info(LOG, "listening on %s://%s:%u/", ls.tls_cert_file && *ls.tls_cert_file ?
                "https" : "http", ls.addr, (unsigned)sl_http_server_port(srv));
    }
    if (rv_relay_start(&a, dsn, &relay, &err) != SL_OK) {
        sl_error(LOG, "relay: %s", err.msg);
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
    sl_http_server_stop(srv);
    rv_relay_stop(relay);
    sl_http_router_destroy(rt);
    rv_pool_destroy(a.pool);
    sl_audit_signer_destroy(a.signer);
    sl_rules_destroy(a.rules);
    sl_config_destroy(a.cfg);
    json_decref(a.ov);
    pthread_mutex_destroy(&a.ov_mu);
    sl_health_close(metrics, health);   /* after the server that counts into it */
    return status;
}
