/*
 * relay.c -- the outbox relay of sluice-review: unsent review_outbox rows
 * go to Kafka in a Kafka transaction, then are marked sent.
 *
 * One loop on its own thread, with its own PostgreSQL connection and a
 * transactional producer (transactional.id = the review row's group + "-"
 * + instance.id, e.g. "sluice-review-0", so a restarted instance fences
 * its predecessor).  Per round, inside one PostgreSQL transaction: lock a
 * batch of unsent rows older than the reversal window (FOR UPDATE, so a
 * lead's reversal waits for the round), produce them in one Kafka
 * transaction, commit it, then mark them sent and commit.  Killed after
 * the Kafka commit and before the PostgreSQL one, the rows are sent again
 * on restart: downstream is idempotent on the upload id.  Never lost,
 * never applied twice.
 *
 * review.relay.enabled=false stops the relay (decisions still queue up in
 * the outbox): the integration tests use it to kill the service between a
 * decision and its relay.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "sl/kafka.h"
#include "sl/log.h"
#include "sl/pg.h"
#include "sl/topology.h"
#include "review.h"

#define LOG "relay"
#define BATCH "100"

struct rv_relay {
    rv_app *a;
    char *dsn;
    pthread_t th;
    int started;
    _Atomic int stop;
    rd_kafka_t *rk;
    PGconn *pg;
    char txid[RV_TOPIC_LEN * 2];
};

static void kafka_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    if (level <= 4)
        sl_warn(LOG, "librdkafka %s: %s", fac, buf);
}

static rd_kafka_t *make_producer(rv_relay *r, sl_err *err)
{
    const char *defaults[] = {
        "transactional.id", r->txid,
        "enable.idempotence", "true",
        "transaction.timeout.ms", "60000",
        "message.timeout.ms", "50000",
        "message.max.bytes", "16777216",
        NULL
    };
    rd_kafka_conf_t *conf = sl_kafka_conf(r->a->cfg, defaults, err);
    rd_kafka_t *rk;
    rd_kafka_error_t *e;
    char errstr[512];

    if (!conf)
        return NULL;
    rd_kafka_conf_set_log_cb(conf, kafka_log);
    if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr))) {
        rd_kafka_conf_destroy(conf);
        sl_err_set(err, "creating the producer: %s", errstr);
        return NULL;
    }
    if ((e = rd_kafka_init_transactions(rk, 60000))) {
        sl_err_set(err, "init_transactions (%s): %s", r->txid, rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        rd_kafka_destroy(rk);
        return NULL;
    }
    return rk;
}

/* Adds the outbox row's headers (a JSON array of [name, value]). */
static int add_headers(rd_kafka_headers_t *h, const char *json)
{
    json_t *arr = json_loads(json, 0, NULL), *p;
    size_t i;

    if (!json_is_array(arr)) {
        json_decref(arr);
        return SL_EINVAL;
    }
    json_array_foreach(arr, i, p) {
        const char *n = json_string_value(json_array_get(p, 0));
        const char *v = json_string_value(json_array_get(p, 1));
        if (!n || !v) {
            json_decref(arr);
            return SL_EINVAL;
        }
        rd_kafka_header_add(h, n, -1, v, (ssize_t)strlen(v));
    }
    json_decref(arr);
    return SL_OK;
}

static int unhex(const char *s, uint8_t **out, size_t *len)
{
    size_t n;

    if (strncmp(s, "\\x", 2) != 0)
        return SL_EINVAL;
    s += 2;
    n = strlen(s) / 2;
    if (!(*out = malloc(n ? n : 1)))
        return SL_ENOMEM;
    *len = n;
    return sl_hex_decode(s, 2 * n, *out, n);
}

/* 1: the transaction must be aborted, 2: the producer is unusable. */
static int txn_error(rv_relay *r, rd_kafka_error_t *e, const char *what)
{
    int fatal = rd_kafka_error_is_fatal(e);

    sl_warn(LOG, "%s: %s", what, rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    if (!fatal) {
        rd_kafka_error_t *ae = rd_kafka_abort_transaction(r->rk, 30000);
        if (!ae)
            return 1;
        rd_kafka_error_destroy(ae);
    }
    rd_kafka_destroy(r->rk);
    r->rk = NULL;
    return 2;
}

static int pg_ok(PGresult *res)
{
    ExecStatusType st = PQresultStatus(res);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

/* One round: SL_OK with *sent rows relayed, or an error (retry later). */
static int round_once(rv_relay *r, int *sent)
{
    char win[24];
    const char *v[1] = { win };
    PGresult *res = NULL, *upd;
    rd_kafka_error_t *e;
    sl_buf ids;
    int n, rc = SL_EIO;

    *sent = 0;
    sl_buf_init(&ids, 1 << 20);
    snprintf(win, sizeof win, "%lld", (long long)r->a->reverse_window_s);
    res = PQexec(r->pg, "BEGIN");
    if (!pg_ok(res))
        goto out;
    PQclear(res);
    res = PQexecParams(r->pg,
        "SELECT outbox_id, topic, msg_key, msg_value, headers::text FROM review_outbox"
        " WHERE sent_at IS NULL AND cancelled_at IS NULL"
        " AND created_at <= now() - make_interval(secs => $1::int)"
        " ORDER BY outbox_id LIMIT " BATCH " FOR UPDATE SKIP LOCKED", 1, NULL, v, NULL, NULL, 0);
    if (!pg_ok(res)) {
        sl_error(LOG, "reading the outbox: %s", PQresultErrorMessage(res));
        goto rollback;
    }
    n = PQntuples(res);
    if (n == 0) {
        rc = SL_OK;
        goto rollback;
    }
    if ((e = rd_kafka_begin_transaction(r->rk))) {
        txn_error(r, e, "begin_transaction");
        goto rollback;
    }
    for (int i = 0; i < n; i++) {
        uint8_t *val = NULL;
        size_t vlen = 0;
        rd_kafka_headers_t *h = rd_kafka_headers_new(16);
        const char *key = PQgetvalue(res, i, 2);
        rd_kafka_resp_err_t err;

        if (unhex(PQgetvalue(res, i, 3), &val, &vlen) != SL_OK ||
            add_headers(h, PQgetvalue(res, i, 4)) != SL_OK) {
            sl_error(LOG, "outbox row %s is malformed", PQgetvalue(res, i, 0));
            free(val);
            rd_kafka_headers_destroy(h);
            txn_error(r, rd_kafka_error_new(RD_KAFKA_RESP_ERR__BAD_MSG, "bad row"),
                      "producing");
            goto rollback;
        }
        err = rd_kafka_producev(r->rk,
            RD_KAFKA_V_TOPIC(PQgetvalue(res, i, 1)),
            RD_KAFKA_V_KEY(key, strlen(key)),
            RD_KAFKA_V_VALUE(vlen ? val : NULL, vlen),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_HEADERS(h),
            RD_KAFKA_V_END);
        free(val);
        if (err) {
            rd_kafka_headers_destroy(h);
            txn_error(r, rd_kafka_error_new(err, "%s", rd_kafka_err2str(err)), "producing");
            goto rollback;
        }
        if (sl_buf_appendf(&ids, "%s%s", i ? "," : "{", PQgetvalue(res, i, 0)) != SL_OK)
            goto rollback;
    }
    if (sl_buf_appendf(&ids, "}") != SL_OK || sl_buf_cstr(&ids) != SL_OK)
        goto rollback;
    if ((e = rd_kafka_commit_transaction(r->rk, 60000))) {
        txn_error(r, e, "commit_transaction");
        goto rollback;
    }
    /* Sent.  From here to the COMMIT below a kill means a second send on
     * restart, which downstream ignores (idempotent on the upload id). */
    {
        const char *uv[1] = { (const char *)ids.data };
        upd = PQexecParams(r->pg, "UPDATE review_outbox SET sent_at = now()"
                           " WHERE outbox_id = ANY($1::bigint[])", 1, NULL, uv, NULL, NULL, 0);
        if (!pg_ok(upd)) {
            sl_error(LOG, "marking rows sent: %s", PQresultErrorMessage(upd));
            PQclear(upd);
            goto rollback;
        }
        PQclear(upd);
    }
    PQclear(res);
    res = PQexec(r->pg, "COMMIT");
    if (!pg_ok(res))
        goto out;
    *sent = n;
    rc = SL_OK;
    goto out;
rollback:
    PQclear(res);
    res = PQexec(r->pg, "ROLLBACK");
out:
    PQclear(res);
    sl_buf_free(&ids);
    return rc;
}

static void *relay_main(void *arg)
{
    rv_relay *r = arg;
    sl_err err = { "" };
    int64_t backoff = 0;

    while (!r->stop && !*r->a->stop) {
        int sent = 0;

        if (!sl_config_bool(r->a->cfg, "review.relay.enabled")) {
            usleep(200000);
            continue;
        }
        if (!r->pg || PQstatus(r->pg) != CONNECTION_OK) {
            if (r->pg)
                PQfinish(r->pg);
            /* Its rounds run inside Kafka transactions: never without
             * the statement timeout. */
            if (!(r->pg = sl_pg_connect_timed(r->dsn, sl_config_int(r->a->cfg,
                              "pg.statement.timeout.ms"), &err)))
                sl_warn(LOG, "database: %s", err.msg);
        }
        if (r->pg && !r->rk && !(r->rk = make_producer(r, &err)))
            sl_warn(LOG, "kafka: %s", err.msg);
        if (r->pg && r->rk && round_once(r, &sent) == SL_OK) {
            backoff = 0;
            if (sent) {
                sl_info(LOG, "relayed %d decision(s)", sent);
                continue;
            }
            usleep(200000);
            continue;
        }
        backoff = sl_backoff_next(backoff);
        usleep((useconds_t)backoff * 1000);
    }
    if (r->rk) {
        rd_kafka_flush(r->rk, 5000);
        rd_kafka_destroy(r->rk);
        r->rk = NULL;
    }
    if (r->pg)
        PQfinish(r->pg);
    r->pg = NULL;
    return NULL;
}

int rv_relay_start(rv_app *a, const char *dsn, rv_relay **out, sl_err *err)
{
    rv_relay *r = calloc(1, sizeof *r);
    char group[RV_TOPIC_LEN * 2];

    *out = NULL;
    if (!r || !(r->dsn = strdup(dsn ? dsn : ""))) {
        free(r);
        sl_err_set(err, "out of memory");
        return SL_ENOMEM;
    }
    r->a = a;
    if (sl_topology_group(sl_config_get(a->cfg, "topic.prefix"),
                          &sl_topology_stages[SL_STAGE_REVIEW], group, sizeof group) != SL_OK ||
        sl_topology_txn_id(group, sl_config_get(a->cfg, "instance.id"), r->txid,
                           sizeof r->txid) != SL_OK) {
        sl_err_set(err, "topic.prefix or instance.id too long");
        free(r->dsn);
        free(r);
        return SL_EINVAL;
    }
    if (pthread_create(&r->th, NULL, relay_main, r) != 0) {
        sl_err_set(err, "cannot start the relay thread");
        free(r->dsn);
        free(r);
        return SL_ERR;
    }
    r->started = 1;
    sl_info(LOG, "relay started (transactional.id %s)", r->txid);
    *out = r;
    return SL_OK;
}

void rv_relay_stop(rv_relay *r)
{
    if (!r)
        return;
    r->stop = 1;
    if (r->started)
        pthread_join(r->th, NULL);
    free(r->dsn);
    free(r);
}
