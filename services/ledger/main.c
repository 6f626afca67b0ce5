/*
 * main.c -- sluice-ledger: posts the feed's usage events and withdrawals
 * to the double-entry ledger (issue #13; ledger.h states the contract).
 *
 * Reads its config (sl/config.h: -c FILE, SLUICE_* environment, -X), opens
 * its one PostgreSQL connection (sl_pgconn, as role sluice_ledger: pg.dsn /
 * SLUICE_PG_DSN), LISTENs on sluice_usage and sluice_feed, and loops:
 * a batch of usage events, the withdrawals not yet applied, then, when
 * nothing was left, a wait for a notification or ledger.poll.ms (the
 * fallback when a writer does not notify).  SIGTERM / SIGINT end it between
 * batches; a kill -9 loses at most the open batch's transaction, which the
 * next run posts again.  ledger.once: post what there is, then exit.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sl/health.h"
#include "sl/log.h"
#include "sl/pg.h"
#include "ledger.h"
#include "ledger_logic.h"

#define LOG "ledger"

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static const sl_cfg_entry ledger_map[] = {
    { SL_CFG_INT,  "ledger.fee.bps", "1000",
      "the platform's fee in basis points when the dataset sets none (0..10000)" },
    { SL_CFG_INT,  "ledger.batch", "5000", "usage events posted per transaction (1..50000)" },
    { SL_CFG_INT,  "ledger.changes.batch", "200", "withdrawals applied per transaction" },
    { SL_CFG_INT,  "ledger.poll.ms", "1000",
      "look for new usage this often without a notification" },
    { SL_CFG_INT,  "ledger.gap.wait.ms", "500",
      "skip a gap in usage ids after this long even if older transactions still run" },
    { SL_CFG_INT,  "ledger.gap.keep.s", "600", "rescan skipped usage ids this long" },
    { SL_CFG_INT,  "ledger.rescan.ms", "5000", "rescan skipped usage ids this often" },
    { SL_CFG_BOOL, "ledger.once", "false", "post everything there is, then exit" },
    { SL_CFG_STR,  "log.level", "info", "error, warn, info or debug" },
    SL_HEALTH_CFG_ENTRY,
    SL_START_CFG_ENTRY("300000"),
    SL_PG_STATEMENT_TIMEOUT_CFG_ENTRY,
    SL_CFG_END
};

typedef struct open_arg {
    sl_pgconn **pc;
    const sl_config *cfg;
} open_arg;

static int db_open(void *u, sl_err *err)
{
    open_arg *a = u;
    sl_pgconn_opts po = { .who = LOG, .stmts = lg_stmts, .n_stmts = lg_n_stmts,
                          .on_connect = lg_on_connect };

    return sl_pgconn_open(a->pc, a->cfg, &po, err);
}

static const char usage[] =
    "usage: sluice-ledger [-c FILE] [-X key=value]... [-v]\n"
    "Posts usage events and withdrawals to the ledger (PostgreSQL: pg.dsn /\n"
    "SLUICE_PG_DSN, role sluice_ledger).\n";

/* Waits up to ms for a notification on the connection; returns at once
 * when one is already queued.  A broken connection is left for the next
 * statement to find. */
static void wait_notify(sl_pgconn *pc, int ms)
{
    PGconn *c;
    PGnotify *n;
    struct pollfd pfd;
    sl_err err;
    int got = 0;

    if (sl_pgconn_get(pc, &c, &err) != SL_OK) {
        usleep((useconds_t)ms * 1000);
        return;
    }
    PQconsumeInput(c);
    while ((n = PQnotifies(c))) {
        got = 1;
        PQfreemem(n);
    }
    if (got || g_stop)
        return;
    pfd.fd = PQsocket(c);
    pfd.events = POLLIN;
    if (pfd.fd < 0 || (poll(&pfd, 1, ms) < 0 && errno != EINTR))
        return;
    PQconsumeInput(c);
    while ((n = PQnotifies(c)))
        PQfreemem(n);
}

static int check_range(const sl_config *cfg, const char *key, int64_t lo, int64_t hi,
                       int64_t *out)
{
    *out = sl_config_int(cfg, key);
    if (*out < lo || *out > hi) {
        sl_error(LOG, "%s must be %" PRId64 " to %" PRId64, key, lo, hi);
        return SL_EINVAL;
    }
    return SL_OK;
}

int main(int argc, char **argv)
{
    sl_config *cfg = sl_config_new();
    sl_err err = { "" };
    sl_pgconn *pc = NULL;
    lg_poster *p = NULL;
    lg_opts o = { 0 };
    struct sigaction sa;
    int64_t v, poll_ms = 1000, total = 0, last_total = 0, last_log;
    int rc, lvl, once, idle = 0, status = 1, batches = 0;
    sl_metrics *metrics = NULL;
    sl_health *health = NULL;
    sl_metric *m_posted = NULL, *m_applied = NULL, *m_errors = NULL;

    if (!cfg || sl_config_declare(cfg, ledger_map) != SL_OK)
        return 1;
    rc = sl_config_from_args(cfg, argc, argv, usage, &err);
    if (rc == 1) {
        sl_config_destroy(cfg);
        return 0;
    }
    if (rc != SL_OK) {
        fprintf(stderr, "sluice-ledger: %s\n", err.msg);
        sl_config_destroy(cfg);
        return 2;
    }
    if ((lvl = sl_log_parse_level(sl_config_get(cfg, "log.level"))) >= 0)
        sl_log_set_level((sl_log_level)lvl);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (sl_health_open(cfg, &metrics, &health, &err) != SL_OK ||
        !(m_posted = sl_metrics_counter(metrics, "sluice_ledger_usage_posted_total",
              "Usage events posted to the ledger.", NULL, 0, &err)) ||
        !(m_applied = sl_metrics_counter(metrics, "sluice_ledger_withdrawals_applied_total",
              "Withdrawals applied to the ledger.", NULL, 0, &err)) ||
        !(m_errors = sl_metrics_counter(metrics, "sluice_ledger_errors_total",
              "Rounds that failed (database errors); retried.", NULL, 0, &err))) {
        sl_error(LOG, "metrics: %s", err.msg);
        goto out;
    }

    if (check_range(cfg, "ledger.fee.bps", 0, SL_LEDGER_BPS_MAX, &v) != SL_OK)
        goto out;
    o.fee_bps = (int)v;
    if (check_range(cfg, "ledger.batch", 1, 50000, &v) != SL_OK)
        goto out;
    o.batch = (int)v;
    if (check_range(cfg, "ledger.changes.batch", 1, 10000, &v) != SL_OK)
        goto out;
    o.changes_batch = (int)v;
    if (check_range(cfg, "ledger.poll.ms", 10, 3600000, &poll_ms) != SL_OK ||
        check_range(cfg, "ledger.gap.wait.ms", 0, 3600000, &o.gap_wait_ms) != SL_OK ||
        check_range(cfg, "ledger.gap.keep.s", 1, 86400, &o.gap_keep_ms) != SL_OK ||
        check_range(cfg, "ledger.rescan.ms", 10, 3600000, &o.rescan_ms) != SL_OK)
        goto out;
    o.gap_keep_ms *= 1000;
    once = sl_config_bool(cfg, "ledger.once");
    {
        /* A database that does not answer yet is waited for (a stack
         * starting, a failover); a conninfo libpq cannot parse is not. */
        open_arg oa = { &pc, cfg };
        sl_start_opts so = { LOG, "database", sl_config_int(cfg, "retry.budget.ms"),
                             health, &g_stop };

        if ((rc = sl_start_retry(&so, db_open, &oa, &err)) != SL_OK) {
            status = sl_start_exit_status(&so, rc);
            goto out;
        }
    }
    if (lg_poster_new(pc, &o, &p, &err) != SL_OK) {
        sl_error(LOG, "%s", err.msg);
        goto out;
    }
    sl_info(LOG, "posting: fee %d bps unless the dataset sets one, batches of %d",
            o.fee_bps, o.batch);
    last_log = sl_mono_ms();
    while (!g_stop) {
        int posted = 0, waiting = 0, applied = 0;

        sl_health_beat(health);
        rc = lg_post_usage(p, &posted, &waiting, &err);
        if (rc == SL_OK && (posted < o.batch || ++batches % 10 == 0))
            rc = lg_apply_withdrawals(p, &applied, &err);
        sl_metric_add(m_posted, NULL, posted);
        sl_metric_add(m_applied, NULL, applied);
        sl_health_ready(health, rc == SL_OK, "database_unavailable");
        if (rc != SL_OK) {
            sl_metric_add(m_errors, NULL, 1);
            sl_error(LOG, "%s", err.msg);
            if (once)
                goto out;
            wait_notify(pc, 1000);
            continue;
        }
        total += posted;
        if (sl_mono_ms() - last_log >= 10000 && total != last_total) {
            sl_info(LOG, "posted %" PRId64 " usage events so far", total);
            last_total = total;
            last_log = sl_mono_ms();
        }
        if (posted == o.batch || applied == o.changes_batch)
            continue;
        if (posted || applied) {
            idle = 0;
            continue;
        }
        if (once && !waiting && ++idle >= 2)
            break;
        wait_notify(pc, waiting ? 20 : once ? 10 : (int)poll_ms);
    }
    sl_health_ready(health, 0, "stopping");
    sl_info(LOG, "stopping: posted %" PRId64 " usage events", total);
    status = 0;
out:
    lg_poster_destroy(p);
    sl_pgconn_destroy(pc);
    sl_health_close(metrics, health);
    sl_config_destroy(cfg);
    return status;
}
