/*
 * kafka_admin.c -- Kafka administration for operators' tools (see
 * sl/kafka_admin.h): topic creation through the Admin API with the topic
 * configs the pipeline needs and their description, a producer for
 * uploads, and the metadata,
 * committed-offset and watermark queries behind consumer lag.
 *
 * librdkafka's own log lines are routed into sl_log at a level matching
 * their syslog severity, so a command-line tool stays quiet unless asked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl/kafka.h"
#include "sl/kafka_admin.h"
#include "sl/log.h"

/* librdkafka syslog levels -> ours: 0-2 error, 3-4 warn, 5-6 info, 7 debug.
 * Connection-refused retries are level 3: visible with -v or log.level=warn,
 * while the operation's own failure is reported by the caller. */
static void log_cb(const rd_kafka_t *rk, int level, const char *fac,
                   const char *buf)
{
    sl_log_level l = level <= 2 ? SL_LOG_ERROR :
                     level <= 4 ? SL_LOG_WARN :
                     level <= 6 ? SL_LOG_INFO : SL_LOG_DEBUG;

    SL_LOG(l, "rdkafka", "%s: [%s] %s", rk ? rd_kafka_name(rk) : "-", fac, buf);
}

/* rd_kafka_new() over sl_kafka_conf(); conf ownership passes to librdkafka
 * on success only, so it is destroyed here on failure. */
static rd_kafka_t *new_client(const sl_config *cfg, rd_kafka_type_t type,
                              const char *const *defaults,
                              rd_kafka_conf_t *conf, sl_err *err)
{
    char errstr[512];
    rd_kafka_t *rk;

    if (!conf && !(conf = sl_kafka_conf(cfg, defaults, err)))
        return NULL;
    rd_kafka_conf_set_log_cb(conf, log_cb);
    rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
    if (!rk) {
        sl_err_set(err, "cannot create Kafka client: %s", errstr);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return rk;
}

/* ---- topics ------------------------------------------------------------ */

static void result_set(sl_kafka_topic_result *r, sl_kafka_topic_state st,
                       const char *error)
{
    r->state = st;
    snprintf(r->error, sizeof(r->error), "%s", error ? error : "");
}

static sl_kafka_topic_result *find_result(sl_kafka_topic_result *res, size_t n,
                                          const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(res[i].name, name) == 0)
            return &res[i];
    return NULL;
}

/* Waits for the one result event of an admin request on q.  NULL with err
 * set when it timed out or the whole request failed. */
static rd_kafka_event_t *admin_wait(rd_kafka_queue_t *q, int timeout_ms,
                                    const char *what, sl_err *err)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + 5000);

    if (!ev) {
        sl_err_set(err, "%s: no answer from Kafka within %d ms", what,
                   timeout_ms + 5000);
        return NULL;
    }
    if (rd_kafka_event_error(ev)) {
        sl_err_set(err, "%s: %s", what, rd_kafka_event_error_string(ev));
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    return ev;
}

static rd_kafka_AdminOptions_t *admin_options(rd_kafka_t *rk,
                                              rd_kafka_admin_op_t op,
                                              int timeout_ms, sl_err *err)
{
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, op);
    char errstr[256];

    if (!o) {
        sl_err_set(err, "cannot create admin options");
        return NULL;
    }
    if (rd_kafka_AdminOptions_set_request_timeout(o, timeout_ms, errstr,
                                                  sizeof(errstr)) ||
        (op == RD_KAFKA_ADMIN_OP_CREATETOPICS &&
         rd_kafka_AdminOptions_set_operation_timeout(o, timeout_ms, errstr,
                                                     sizeof(errstr)))) {
        sl_err_set(err, "admin options: %s", errstr);
        rd_kafka_AdminOptions_destroy(o);
        return NULL;
    }
    return o;
}

/* Sends CreateTopics for every name and records each topic's outcome. */
static int create_all(rd_kafka_t *rk, rd_kafka_queue_t *q,
                      const char *const *names, size_t n, int partitions,
                      int replication, const char *const *topic_config,
                      int timeout_ms, sl_kafka_topic_result *res, sl_err *err)
{
    rd_kafka_NewTopic_t **nt = calloc(n, sizeof(*nt));
    rd_kafka_AdminOptions_t *opts = NULL;
    rd_kafka_event_t *ev = NULL;
    const rd_kafka_topic_result_t **tr;
    char errstr[512];
    size_t cnt;
    int rc = SL_EIO;

    if (!nt) {
        sl_err_set(err, "out of memory");
        return SL_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        nt[i] = rd_kafka_NewTopic_new(names[i], partitions, replication,
                                      errstr, sizeof(errstr));
        if (!nt[i]) {
            sl_err_set(err, "topic %s: %s", names[i], errstr);
            rc = SL_EINVAL;
            goto out;
        }
        for (size_t k = 0; topic_config && topic_config[k]; k += 2)
            if (rd_kafka_NewTopic_set_config(nt[i], topic_config[k],
                                             topic_config[k + 1])) {
                sl_err_set(err, "topic %s: cannot set %s", names[i],
                           topic_config[k]);
                rc = SL_EINVAL;
                goto out;
            }
    }
    if (!(opts = admin_options(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout_ms,
                               err)))
        goto out;
    rd_kafka_CreateTopics(rk, nt, n, opts, q);
    if (!(ev = admin_wait(q, timeout_ms, "creating topics", err)))
        goto out;
    tr = rd_kafka_CreateTopics_result_topics(
        rd_kafka_event_CreateTopics_result(ev), &cnt);
    for (size_t i = 0; i < cnt; i++) {
        sl_kafka_topic_result *r =
            find_result(res, n, rd_kafka_topic_result_name(tr[i]));
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(tr[i]);
        const char *es = rd_kafka_topic_result_error_string(tr[i]);

        if (!r)
            continue;
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
            result_set(r, SL_KAFKA_TOPIC_CREATED, NULL);
        else if (e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
            result_set(r, SL_KAFKA_TOPIC_EXISTS, NULL);
        else
            result_set(r, SL_KAFKA_TOPIC_FAILED,
                       es && *es ? es : rd_kafka_err2str(e));
    }
    rc = SL_OK;
out:
    if (ev)
        rd_kafka_event_destroy(ev);
    if (opts)
        rd_kafka_AdminOptions_destroy(opts);
    for (size_t i = 0; i < n; i++)
        if (nt[i])
            rd_kafka_NewTopic_destroy(nt[i]);
    free(nt);
    return rc;
}

/* Fills each result's partition count from one all-topics metadata call. */
static int fill_partitions(rd_kafka_t *rk, sl_kafka_topic_result *res,
                           size_t n, int timeout_ms, sl_err *err)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms);

    if (e) {
        sl_err_set(err, "reading topic metadata: %s", rd_kafka_err2str(e));
        return SL_EIO;
    }
    for (int i = 0; i < md->topic_cnt; i++) {
        sl_kafka_topic_result *r = find_result(res, n, md->topics[i].topic);
        if (r && !md->topics[i].err)
            r->partitions = md->topics[i].partition_cnt;
    }
    rd_kafka_metadata_destroy(md);
    return SL_OK;
}

/* The value wanted for key in topic_config, or NULL. */
static const char *wanted(const char *const *topic_config, const char *key)
{
    for (size_t k = 0; topic_config && topic_config[k]; k += 2)
        if (strcmp(topic_config[k], key) == 0)
            return topic_config[k + 1];
    return NULL;
}

/* For an existing topic: when a topic_config value differs, AlterConfigs
 * with the topic's other dynamic configs kept (AlterConfigs replaces the
 * whole set; librdkafka 2.0 has no incremental variant). */
static int align_config(rd_kafka_t *rk, rd_kafka_queue_t *q,
                        sl_kafka_topic_result *r,
                        const char *const *topic_config, int timeout_ms)
{
    rd_kafka_ConfigResource_t *want = NULL, *alter = NULL;
    rd_kafka_AdminOptions_t *opts = NULL;
    rd_kafka_event_t *ev = NULL;
    const rd_kafka_ConfigResource_t **rs;
    const rd_kafka_ConfigEntry_t **ents;
    size_t nrs, nents;
    int differs = 0, rc = SL_ERR;
    sl_err e = { "" };

    if (!topic_config || !topic_config[0])
        return SL_OK;
    want = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, r->name);
    alter = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, r->name);
    if (!want || !alter) {
        sl_err_set(&e, "out of memory");
        goto out;
    }
    if (!(opts = admin_options(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS,
                               timeout_ms, &e)))
        goto out;
    rd_kafka_DescribeConfigs(rk, &want, 1, opts, q);
    if (!(ev = admin_wait(q, timeout_ms, "describing topic config", &e)))
        goto out;
    rs = rd_kafka_DescribeConfigs_result_resources(
        rd_kafka_event_DescribeConfigs_result(ev), &nrs);
    if (nrs != 1 || rd_kafka_ConfigResource_error(rs[0])) {
        sl_err_set(&e, "describing topic config: %s",
                   nrs == 1 ? rd_kafka_ConfigResource_error_string(rs[0])
                            : "no result");
        goto out;
    }
    ents = rd_kafka_ConfigResource_configs(rs[0], &nents);
    for (size_t i = 0; i < nents; i++) {
        const char *name = rd_kafka_ConfigEntry_name(ents[i]);
        const char *val = rd_kafka_ConfigEntry_value(ents[i]);
        const char *w = wanted(topic_config, name);

        if (w) {
            if (!val || strcmp(val, w) != 0)
                differs = 1;
            continue;
        }
        if (rd_kafka_ConfigEntry_source(ents[i]) !=
            RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG)
            continue;
        if (!val) {
            sl_err_set(&e, "cannot keep sensitive config %s while altering",
                       name);
            goto out;
        }
        if (rd_kafka_ConfigResource_set_config(alter, name, val)) {
            sl_err_set(&e, "cannot keep config %s", name);
            goto out;
        }
    }
    if (!differs) {
        rc = SL_OK;
        goto out;
    }
    for (size_t k = 0; topic_config[k]; k += 2)
        if (rd_kafka_ConfigResource_set_config(alter, topic_config[k],
                                               topic_config[k + 1])) {
            sl_err_set(&e, "cannot set config %s", topic_config[k]);
            goto out;
        }
    rd_kafka_event_destroy(ev);
    ev = NULL;
    rd_kafka_AdminOptions_destroy(opts);
    if (!(opts = admin_options(rk, RD_KAFKA_ADMIN_OP_ALTERCONFIGS, timeout_ms,
                               &e)))
        goto out;
    rd_kafka_AlterConfigs(rk, &alter, 1, opts, q);
    if (!(ev = admin_wait(q, timeout_ms, "altering topic config", &e)))
        goto out;
    rs = rd_kafka_AlterConfigs_result_resources(
        rd_kafka_event_AlterConfigs_result(ev), &nrs);
    if (nrs != 1 || rd_kafka_ConfigResource_error(rs[0])) {
        sl_err_set(&e, "altering topic config: %s",
                   nrs == 1 ? rd_kafka_ConfigResource_error_string(rs[0])
                            : "no result");
        goto out;
    }
    r->config_updated = 1;
    rc = SL_OK;
out:
    if (rc != SL_OK)
        result_set(r, SL_KAFKA_TOPIC_FAILED, e.msg);
    if (ev)
        rd_kafka_event_destroy(ev);
    if (opts)
        rd_kafka_AdminOptions_destroy(opts);
    if (want)
        rd_kafka_ConfigResource_destroy(want);
    if (alter)
        rd_kafka_ConfigResource_destroy(alter);
    return rc;
}

int sl_kafka_create_topics(const sl_config *cfg, const char *const *names,
                           size_t n, int partitions, int replication,
                           const char *const *topic_config, int timeout_ms,
                           sl_kafka_topic_result *results, sl_err *err)
{
    static const char *const defaults[] = { "client.id", "sluice-admin", NULL };
    rd_kafka_t *rk = NULL;
    rd_kafka_queue_t *q = NULL;
    int rc = SL_EIO;

    for (size_t i = 0; i < n; i++) {
        memset(&results[i], 0, sizeof(results[i]));
        snprintf(results[i].name, sizeof(results[i].name), "%s", names[i]);
        results[i].partitions = -1;
        result_set(&results[i], SL_KAFKA_TOPIC_FAILED,
                   "no result from the broker");
    }
    if (!(rk = new_client(cfg, RD_KAFKA_PRODUCER, defaults, NULL, err))) {
        rc = SL_EINVAL;
        goto out;
    }
    if (!(q = rd_kafka_queue_new(rk))) {
        sl_err_set(err, "cannot create Kafka queue");
        goto out;
    }
    if ((rc = create_all(rk, q, names, n, partitions, replication,
                         topic_config, timeout_ms, results, err)) != SL_OK)
        goto out;
    /* A failure is recorded in that topic's result and rc set below. */
    for (size_t i = 0; i < n; i++)
        if (results[i].state == SL_KAFKA_TOPIC_EXISTS &&
            align_config(rk, q, &results[i], topic_config, timeout_ms) != SL_OK)
            sl_debug("kafka", "%s: %s", results[i].name, results[i].error);
    if ((rc = fill_partitions(rk, results, n, timeout_ms, err)) != SL_OK)
        goto out;
    for (size_t i = 0; i < n; i++)
        if (results[i].state == SL_KAFKA_TOPIC_FAILED)
            rc = SL_ERR;
out:
    if (q)
        rd_kafka_queue_destroy(q);
    if (rk)
        rd_kafka_destroy(rk);
    return rc;
}

int sl_kafka_topic_configs(const sl_config *cfg, const char *topic,
                           const char *const *keys, size_t n,
                           char (*vals)[SL_KAFKA_CONFIG_VAL_MAX],
                           int timeout_ms, sl_err *err)
{
    static const char *const defaults[] = { "client.id", "sluice-admin", NULL };
    rd_kafka_t *rk = NULL;
    rd_kafka_queue_t *q = NULL;
    rd_kafka_ConfigResource_t *res = NULL;
    rd_kafka_AdminOptions_t *opts = NULL;
    rd_kafka_event_t *ev = NULL;
    const rd_kafka_ConfigResource_t **rs;
    const rd_kafka_ConfigEntry_t **ents;
    size_t nrs, nents;
    int rc = SL_EIO;

    for (size_t k = 0; k < n; k++)
        vals[k][0] = '\0';
    if (!(rk = new_client(cfg, RD_KAFKA_PRODUCER, defaults, NULL, err)))
        return SL_EINVAL;
    if (!(q = rd_kafka_queue_new(rk)) ||
        !(res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic))) {
        sl_err_set(err, "out of memory");
        goto out;
    }
    if (!(opts = admin_options(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS,
                               timeout_ms, err)))
        goto out;
    rd_kafka_DescribeConfigs(rk, &res, 1, opts, q);
    if (!(ev = admin_wait(q, timeout_ms, "describing topic config", err)))
        goto out;
    rs = rd_kafka_DescribeConfigs_result_resources(
        rd_kafka_event_DescribeConfigs_result(ev), &nrs);
    if (nrs != 1 || rd_kafka_ConfigResource_error(rs[0])) {
        if (nrs == 1 && rd_kafka_ConfigResource_error(rs[0]) ==
            RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
            rc = SL_ENOTFOUND;
        sl_err_set(err, "describing topic %s: %s", topic,
                   nrs == 1 ? rd_kafka_ConfigResource_error_string(rs[0])
                            : "no result");
        goto out;
    }
    ents = rd_kafka_ConfigResource_configs(rs[0], &nents);
    for (size_t i = 0; i < nents; i++)
        for (size_t k = 0; k < n; k++)
            if (strcmp(rd_kafka_ConfigEntry_name(ents[i]), keys[k]) == 0)
                snprintf(vals[k], SL_KAFKA_CONFIG_VAL_MAX, "%s",
                         rd_kafka_ConfigEntry_value(ents[i]) ?
                         rd_kafka_ConfigEntry_value(ents[i]) : "");
    rc = SL_OK;
out:
    if (ev)
        rd_kafka_event_destroy(ev);
    if (opts)
        rd_kafka_AdminOptions_destroy(opts);
    if (res)
        rd_kafka_ConfigResource_destroy(res);
    if (q)
        rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return rc;
}

/* ---- producer ---------------------------------------------------------- */

rd_kafka_t *sl_kafka_producer_new(const sl_config *cfg,
                                  const char *const *defaults,
                                  void (*dr_msg_cb)(rd_kafka_t *,
                                                    const rd_kafka_message_t *,
                                                    void *),
                                  void *opaque, sl_err *err)
{
    rd_kafka_conf_t *conf = sl_kafka_conf(cfg, defaults, err);

    if (!conf)
        return NULL;
    if (dr_msg_cb)
        rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
    rd_kafka_conf_set_opaque(conf, opaque);
    return new_client(cfg, RD_KAFKA_PRODUCER, NULL, conf, err);
}

/* ---- offsets and lag --------------------------------------------------- */

rd_kafka_t *sl_kafka_offsets_client_new(const sl_config *cfg, const char *group,
                                        sl_err *err)
{
    static const char *const defaults[] = {
        "client.id", "sluice-admin",
        "enable.auto.commit", "false",
        "enable.auto.offset.store", "false",
        NULL
    };
    rd_kafka_conf_t *conf = sl_kafka_conf(cfg, defaults, err);
    char errstr[256];

    if (!conf)
        return NULL;
    /* Set after the config's kafka.* keys: the group asked for wins over a
     * kafka.group.id in the config. */
    if (group && rd_kafka_conf_set(conf, "group.id", group, errstr,
                                   sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        sl_err_set(err, "group.id %s: %s", group, errstr);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return new_client(cfg, RD_KAFKA_CONSUMER, NULL, conf, err);
}

int sl_kafka_topic_partitions(rd_kafka_t *rk, const char *topic,
                              int timeout_ms, int *count, sl_err *err)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms);

    *count = 0;
    if (e) {
        sl_err_set(err, "reading topic metadata: %s", rd_kafka_err2str(e));
        return SL_EIO;
    }
    for (int i = 0; i < md->topic_cnt; i++)
        if (strcmp(md->topics[i].topic, topic) == 0 && !md->topics[i].err)
            *count = md->topics[i].partition_cnt;
    rd_kafka_metadata_destroy(md);
    return SL_OK;
}

int sl_kafka_topic_lookup(rd_kafka_t *rk, const char *topic, int timeout_ms,
                          int *count, sl_err *err)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t e;

    *count = 0;
    if (!rkt) {
        sl_err_set(err, "%s", rd_kafka_err2str(rd_kafka_last_error()));
        return SL_EIO;
    }
    e = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
    if (!e && md && md->topic_cnt == 1) {
        e = md->topics[0].err;
        *count = e ? 0 : md->topics[0].partition_cnt;
    }
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    if (e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
        return SL_OK;
    if (e) {
        sl_err_set(err, "reading topic metadata: %s", rd_kafka_err2str(e));
        return SL_EIO;
    }
    return SL_OK;
}

int sl_kafka_committed(rd_kafka_t *rk, const char *topic, int nparts,
                       int timeout_ms, int64_t *out, sl_err *err)
{
    rd_kafka_topic_partition_list_t *l;
    rd_kafka_resp_err_t e;
    int rc = SL_OK;

    if (nparts <= 0)
        return SL_OK;
    if (!(l = rd_kafka_topic_partition_list_new(nparts))) {
        sl_err_set(err, "out of memory");
        return SL_ENOMEM;
    }
    for (int p = 0; p < nparts; p++)
        rd_kafka_topic_partition_list_add(l, topic, p);
    e = rd_kafka_committed(rk, l, timeout_ms);
    if (e) {
        sl_err_set(err, "reading committed offsets of %s: %s", topic,
                   rd_kafka_err2str(e));
        rc = SL_EIO;
        goto out;
    }
    for (int i = 0; i < l->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &l->elems[i];
        if (tp->err) {
            sl_err_set(err, "committed offset of %s [%d]: %s", topic,
                       (int)tp->partition, rd_kafka_err2str(tp->err));
            rc = SL_EIO;
            goto out;
        }
        if (tp->partition >= 0 && tp->partition < nparts)
            out[tp->partition] = tp->offset >= 0 ? tp->offset : -1;
    }
out:
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

int sl_kafka_lag(rd_kafka_t *rk, const char *topic, int nparts,
                 const int64_t *committed, int timeout_ms,
                 sl_kafka_part_lag *out, sl_err *err)
{
    for (int p = 0; p < nparts; p++) {
        sl_kafka_part_lag *o = &out[p];
        rd_kafka_resp_err_t e;

        o->partition = p;
        o->committed = committed ? committed[p] : -1;
        e = rd_kafka_query_watermark_offsets(rk, topic, p, &o->low, &o->high,
                                             timeout_ms);
        if (e) {
            sl_err_set(err, "watermarks of %s [%d]: %s", topic, p,
                       rd_kafka_err2str(e));
            return SL_EIO;
        }
        if (o->committed >= 0)
            o->lag = o->high > o->committed ? o->high - o->committed : 0;
        else
            o->lag = o->high - o->low;
    }
    return SL_OK;
}
