/*
 * runner.c -- the shared consume-transform-produce loop (sl_runner_main)
 * and the sink loop at the end of the chain (sl_sink_main).
 *
 * This is the only file that moves messages through Kafka.  The transform
 * loop follows librdkafka's transactional pattern: a transactional producer
 * beside a read_committed consumer with auto-commit off; every batch of
 * consumed messages, their outputs, their dead letters and their offsets go
 * into one Kafka transaction.  Abortable errors abort the transaction and
 * rewind the consumer to the committed offsets; fatal errors (a fenced
 * producer among them) end the process with a non-zero status so the
 * supervisor restarts it.  SIGTERM / SIGINT finish the batch, commit and
 * exit 0.
 *
 * One bad message never stops the stage (the contract is in processor.h):
 * a message the processor fails on is retried message.max.attempts times
 * across aborts (sl/attempts.h) and then quarantined as a stage_error dead
 * letter; an output too large to produce is quarantined at once; and dead
 * letters always fit (sl/deadletter.h).  Only the environment stops it.
 * On a revocation the transaction carries the positions of processed
 * messages only (commit_positions).
 */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sl/attempts.h"
#include "sl/crypto.h"
#include "sl/deadletter.h"
#include "sl/health.h"
#include "sl/kafka.h"
#include "sl/kafka_admin.h"
#include "sl/log.h"
#include "sl/metrics.h"
#include "sl/runner.h"

#include <jansson.h>

#define SL_MAX_TOPICS      16
#define SL_TOPIC_LEN       256
#define SL_MAX_MSG_HEADERS 64
#define SL_STAGE_ERROR     "stage_error"   /* reason code of a quarantine */
#define SL_ATTEMPTS_CAP    1024            /* failing messages remembered */
#define SL_DL_KEY_MAX      1024            /* key kept in a withheld dead letter */

/* The only process-wide mutable state: set from the signal handler. */
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void install_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static const sl_cfg_entry runner_map[] = {
    { SL_CFG_STR,  "input.topics",   NULL, "topics to consume (comma-separated); default: the stage's" },
    { SL_CFG_STR,  "output.topic",   NULL, "topic for accepted messages; default: the stage's" },
    { SL_CFG_STR,  "rejected.topic", NULL, "dead-letter topic; default: the stage's" },
    { SL_CFG_STR,  "topic.prefix",   "",   "prefix added to every topic and group name" },
    { SL_CFG_STR,  "group.id",       NULL, "consumer group; default " SL_TOPO_GROUP_PREFIX "<stage>" },
    { SL_CFG_STR,  "instance.id",    "0",  "stable id of this instance (transactional.id suffix)" },
    { SL_CFG_INT,  "batch.size",     "5000", "messages per transaction / database batch" },
    { SL_CFG_INT,  "batch.ms",       "250",  "longest time a batch stays open, in ms (shorter: lower latency, more CPU per sample)" },
    { SL_CFG_INT,  "batch.idle.ms",  "20",   "an open batch whose input pauses this long is committed at once, without waiting for batch.ms (0: never)" },
    { SL_CFG_INT,  "batch.backlog.ms", "1000", "longest time a batch stays open while the stage is behind (at batch.ms, the rest of batch.size already waits in its input): fewer, larger transactions when behind, no change when keeping up; below batch.ms: batch.ms" },
    { SL_CFG_SIZE, "message.max.bytes", "16m", "largest message handled" },
    { SL_CFG_INT,  "message.max.attempts", "3", "times a message the processor cannot handle is tried before it is dead-lettered as stage_error" },
    SL_PG_STATEMENT_TIMEOUT_CFG_ENTRY,
    { SL_CFG_INT,  "retry.budget.ms", "300000", "how long the environment (database, registry) may stay unavailable, with nothing committed, before the stage exits non-zero" },
    { SL_CFG_SIZE, "dead_letter.max.bytes", "15m", "largest dead letter; above it the value is withheld (its SHA-256 and size kept in headers); below the producer's message.max.bytes (16 MiB)" },
    { SL_CFG_SIZE, "dead_letter.headers.max.bytes", "256k", "input headers (and, separately, the stage's) larger than this are dropped from a dead letter whose value is withheld" },
    { SL_CFG_BOOL, "dead_letter.keep.blocked", "false", "keep in dead letters the values a stage asks to withhold (content blocked as PII or a secret)" },
    { SL_CFG_STR,  "log.level",      "info", "error, warn, info or debug" },
    SL_HEALTH_CFG_ENTRY,
    SL_CFG_END
};

/* The runner's metrics (docs/metrics.md) and its /health, /ready state. */
#define SL_LAG_MAX 1024          /* partitions whose committed offset is kept */
#define SL_TICK_MS 1000          /* lag, assignment and readiness refresh */
#define SL_DOWN_MS 3000          /* no broker connection up this long: broker_down */
#define SL_PING_MS 5000          /* an idle sink's store check */

typedef struct lag_tp {
    char topic[SL_TOPIC_LEN];
    int32_t partition;
    int64_t offset;              /* the last committed next offset */
} lag_tp;

typedef struct run_metrics {
    sl_metrics *reg;
    sl_health *health;
    sl_metric *in, *out, *verdicts, *quarantined, *batch, *txn_s, *txns,
              *aborts, *retries, *rebalances, *lag, *assigned, *proc_s,
              *brokers;
    lag_tp *committed;           /* SL_LAG_MAX */
    size_t n_committed;
    int brokers_up;              /* UP brokers in the last statistics, -1: none yet */
    int64_t last_up;             /* monotonic ms of the last statistics with one UP */
    int64_t next_tick;
} run_metrics;

/* What both loops share: configuration, names, the consumer. */
typedef struct run_common {
    const char *stage;
    sl_config *cfg;
    char group[SL_TOPIC_LEN];
    char member[SL_TOPIC_LEN + 64];   /* group.instance.id */
    char inputs[SL_MAX_TOPICS][SL_TOPIC_LEN];
    size_t n_inputs;
    rd_kafka_t *consumer;
    int64_t batch_size;
    int64_t batch_ms;
    int64_t batch_idle_ms;    /* 0: a batch ends only by batch.size or batch.ms */
    int64_t batch_backlog_ms; /* >= batch_ms: the limit while behind */
    run_metrics met;
} run_common;

static void kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac,
                         const char *buf)
{
    (void)rk;
    if (level <= 3)
        sl_error("kafka", "%s: %s", fac, buf);
    else if (level <= 4)
        sl_warn("kafka", "%s: %s", fac, buf);
    else
        sl_debug("kafka", "%s: %s", fac, buf);
}

static void kafka_error_cb(rd_kafka_t *rk, int err, const char *reason, void *u)
{
    (void)u;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char buf[512];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, buf, sizeof(buf));
        sl_error("kafka", "fatal error: %s: %s", rd_kafka_err2name(orig), buf);
        stop_requested = 1;
        return;
    }
    sl_warn("kafka", "%s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

/* ------------------------------------------------------------------ */
/* Metrics, /health and /ready (sl/metrics.h, sl/health.h)             */
/* ------------------------------------------------------------------ */

/* Seconds on the monotonic clock, for durations below a millisecond. */
static double met_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Declares the runner's families and starts the endpoint when
 * metrics.listen is set.  0 to go on, else an exit code. */
static int met_init(run_common *rc)
{
    static const char *const st[] = { "stage", NULL };
    static const char *const st_topic[] = { "stage", "topic", NULL };
    static const char *const st_verdict[] = { "stage", "verdict", "reason", NULL };
    static const char *const st_cause[] = { "stage", "cause", NULL };
    static const char *const st_kind[] = { "stage", "kind", NULL };
    static const char *const st_tp[] = { "stage", "topic", "partition", NULL };
    static const double batch_b[] = { 1, 5, 10, 50, 100, 250, 500, 1000, 2500,
                                      5000, 10000, 50000 };
    static const double txn_b[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                    2.5, 5, 10, 30, 60 };
    static const double msg_b[] = { 0.00001, 0.000025, 0.00005, 0.0001, 0.00025,
                                     0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                     0.05, 0.1, 0.25, 0.5, 1, 5 };
    run_metrics *m = &rc->met;
    sl_metrics *g;
    sl_err err = { "" };
    int64_t stall_ms;

    m->brokers_up = -1;
    if (!(m->reg = g = sl_metrics_new()) ||
        !(m->committed = calloc(SL_LAG_MAX, sizeof(*m->committed)))) {
        sl_error("runner", "out of memory");
        return 1;
    }
    if (!(m->in = sl_metrics_counter(g, "sluice_messages_in_total",
              "Messages consumed, by input topic (re-reads after an abort included).",
              st_topic, 64, &err)) ||
        !(m->out = sl_metrics_counter(g, "sluice_messages_out_total",
              "Messages produced, by topic (outputs, routes and dead letters).",
              st_topic, 64, &err)) ||
        !(m->verdicts = sl_metrics_counter(g, "sluice_verdicts_total",
              "Processor verdicts, by verdict and reason code (none unless rejected).",
              st_verdict, 256, &err)) ||
        !(m->quarantined = sl_metrics_counter(g, "sluice_quarantined_total",
              "Messages quarantined as stage_error dead letters.", st, 1, &err)) ||
        !(m->batch = sl_metrics_histogram(g, "sluice_batch_size",
              "Messages per committed transaction (sink: per written batch).",
              st, 1, batch_b, sizeof(batch_b) / sizeof(batch_b[0]), &err)) ||
        !(m->txn_s = sl_metrics_histogram(g, "sluice_transaction_duration_seconds",
              "From a batch's first message to its commit, in seconds.",
              st, 1, txn_b, sizeof(txn_b) / sizeof(txn_b[0]), &err)) ||
        !(m->txns = sl_metrics_counter(g, "sluice_transactions_total",
              "Transactions committed (sink: batches written).", st, 1, &err)) ||
        !(m->aborts = sl_metrics_counter(g, "sluice_transaction_aborts_total",
              "Transactions aborted (sink: batches the store refused).", st, 1, &err)) ||
        !(m->retries = sl_metrics_counter(g, "sluice_retries_total",
              "Retries after an abort, by whom the runner blames: environment or message.",
              st_cause, 4, &err)) ||
        !(m->rebalances = sl_metrics_counter(g, "sluice_rebalances_total",
              "Consumer group rebalances, by kind: assign, revoke, lost.",
              st_kind, 4, &err)) ||
        !(m->lag = sl_metrics_gauge(g, "sluice_consumer_lag",
              "High watermark minus the committed position, per assigned partition.",
              st_tp, 512, &err)) ||
        !(m->assigned = sl_metrics_gauge(g, "sluice_assigned_partitions",
              "Partitions assigned to this instance.", st, 1, &err)) ||
        !(m->proc_s = sl_metrics_histogram(g, "sluice_message_processing_seconds",
              "Time to process one message and produce its outcome, in seconds.",
              st, 1, msg_b, sizeof(msg_b) / sizeof(msg_b[0]), &err)) ||
        !(m->brokers = sl_metrics_gauge(g, "sluice_brokers_up",
              "Brokers the consumer is connected to (librdkafka statistics).",
              st, 1, &err))) {
        sl_error("runner", "metrics: %s", err.msg);
        return 1;
    }
    {
        /* Counters of the stage alone exist from the start, at 0, so a
         * rate over them has a first point. */
        const char *const v[] = { rc->stage };
        sl_metric *zero[] = { m->quarantined, m->txns, m->aborts };
        for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
            sl_metric_add(zero[i], v, 0);
    }
    if (sl_health_stall_cfg(rc->cfg, &stall_ms, &err) != SL_OK ||
        sl_health_start(sl_config_get(rc->cfg, "metrics.listen"), g,
                        stall_ms, &m->health, &err) != SL_OK) {
        sl_error("runner", "%s", err.msg);
        return 2;
    }
    if (m->health)
        sl_info("runner", "metrics.listen %s: GET /metrics, /health, /ready on port %u",
                sl_config_get(rc->cfg, "metrics.listen"),
                (unsigned)sl_health_port(m->health));
    sl_health_ready(m->health, 0, "starting");
    return 0;
}

static void met_destroy(run_common *rc)
{
    sl_health_stop(rc->met.health);
    sl_metrics_destroy(rc->met.reg);
    free(rc->met.committed);
}

static void met_count(const run_common *rc, sl_metric *f, const char *label)
{
    sl_metric_add(f, label ? (const char *const[]){ rc->stage, label }
                           : (const char *const[]){ rc->stage }, 1);
}

/* Remembers the committed next offsets of l (a list of positions). */
static void met_committed(run_common *rc, const char *topic, int32_t partition,
                          int64_t offset)
{
    run_metrics *m = &rc->met;
    size_t i;

    if (offset < 0)
        return;
    for (i = 0; i < m->n_committed; i++)
        if (m->committed[i].partition == partition &&
            strcmp(m->committed[i].topic, topic) == 0)
            break;
    if (i == m->n_committed) {
        if (i == SL_LAG_MAX)
            return;
        snprintf(m->committed[i].topic, SL_TOPIC_LEN, "%s", topic);
        m->committed[i].partition = partition;
        m->n_committed++;
    }
    m->committed[i].offset = offset;
}

static void met_committed_list(run_common *rc,
                               const rd_kafka_topic_partition_list_t *l)
{
    for (int i = 0; l && i < l->cnt; i++)
        met_committed(rc, l->elems[i].topic, l->elems[i].partition,
                      l->elems[i].offset);
}

static int64_t met_committed_get(const run_common *rc, const char *topic,
                                 int32_t partition)
{
    for (size_t i = 0; i < rc->met.n_committed; i++)
        if (rc->met.committed[i].partition == partition &&
            strcmp(rc->met.committed[i].topic, topic) == 0)
            return rc->met.committed[i].offset;
    return -1;
}

/* Where the group stands in a partition: its committed offset, or, never
 * committed, the earliest (lo, the low watermark), where it starts; -1
 * when neither is known. */
static int64_t group_start(const run_common *rc, const char *topic,
                           int32_t partition, int64_t lo)
{
    int64_t c = met_committed_get(rc, topic, partition);

    return c >= 0 ? c : lo;
}

/* librdkafka's statistics (statistics.interval.ms): how many brokers the
 * consumer's connections to are up.  Runs inside the consumer's poll, on
 * the loop's thread. */
static int met_stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    run_common *rc = opaque;   /* txn_run and sink_run begin with it */
    json_t *root = json_loadb(json, len, 0, NULL), *brokers, *b;
    const char *key;
    json_int_t seen[64];
    int up = 0, any_up = 0;

    (void)rk;
    if (!root)
        return 0;
    /* A broker may appear twice (its own connection and the logical
     * coordinator's): count node ids, not entries; the bootstrap entries
     * (nodeid -1) not at all. */
    brokers = json_object_get(root, "brokers");
    json_object_foreach(brokers, key, b) {
        json_int_t id = json_integer_value(json_object_get(b, "nodeid"));
        const char *state = json_string_value(json_object_get(b, "state"));
        int dup = 0;
        if (!state || strcmp(state, "UP") != 0)
            continue;
        any_up = 1;              /* a bootstrap or coordinator connection too */
        if (id < 0)
            continue;
        for (int i = 0; i < up; i++)
            dup |= seen[i] == id;
        if (!dup && up < 64)
            seen[up++] = id;
    }
    json_decref(root);
    rc->met.brokers_up = up;
    if (up || any_up)
        rc->met.last_up = sl_mono_ms();
    sl_metric_set(rc->met.brokers, (const char *const[]){ rc->stage }, up);
    return 0;
}

/* Once a second: the loop's heartbeat, the assignment, each partition's
 * lag, and readiness.  env_failing: the environment (database, store)
 * failed and nothing was committed since. */
static void met_tick(run_common *rc, int env_failing)
{
    run_metrics *m = &rc->met;
    rd_kafka_topic_partition_list_t *a = NULL;
    int64_t now = sl_mono_ms();
    const char *why = NULL;
    int n = 0;

    if (now < m->next_tick)
        return;
    m->next_tick = now + SL_TICK_MS;
    sl_health_beat(m->health);
    if (!rd_kafka_assignment(rc->consumer, &a) && a) {
        /* every partition's lag, published at once (sl_metric_set_all) */
        const char **lv = calloc((size_t)a->cnt * 3 + 1, sizeof(*lv));
        char (*parts)[16] = calloc((size_t)a->cnt + 1, sizeof(*parts));
        double *lags = calloc((size_t)a->cnt + 1, sizeof(*lags));
        size_t k = 0;
        n = a->cnt;
        for (int i = 0; lv && parts && lags && i < a->cnt; i++) {
            int64_t lo = -1, hi = -1, c;
            if (rd_kafka_get_watermark_offsets(rc->consumer, a->elems[i].topic,
                                               a->elems[i].partition, &lo, &hi) ||
                hi < 0)
                continue;
            c = group_start(rc, a->elems[i].topic, a->elems[i].partition, lo);
            if (c < 0)
                continue;
            snprintf(parts[k], sizeof(parts[k]), "%" PRId32, a->elems[i].partition);
            lv[k * 3] = rc->stage;
            lv[k * 3 + 1] = a->elems[i].topic;
            lv[k * 3 + 2] = parts[k];
            lags[k++] = (double)(hi > c ? hi - c : 0);
        }
        if (lv && parts && lags)
            sl_metric_set_all(m->lag, k, lv, lags);
        free(lv);
        free(parts);
        free(lags);
    }
    if (a)
        rd_kafka_topic_partition_list_destroy(a);
    sl_metric_set(m->assigned, (const char *const[]){ rc->stage }, n);
    /* The environment first: a stage waiting for its database inside a
     * rebalance (sink_load) polls neither the broker's statistics nor its
     * assignment, so neither is current then.  A broker connection being
     * re-established for a moment is not an outage: down means no
     * connection up in the statistics of SL_DOWN_MS. */
    if (m->brokers_up < 0)
        why = "starting";
    else if (env_failing)
        why = "environment_unavailable";
    else if (now - m->last_up > SL_DOWN_MS)
        why = "broker_down";
    else if (n == 0)
        why = "no_partitions";
    sl_health_ready(m->health, why == NULL, why);
}

/* Where a partition the group never committed in starts: the consumer's
 * auto.offset.reset (the runner's default is earliest) as a logical
 * offset, or RD_KAFKA_OFFSET_INVALID to leave it to librdkafka ("error",
 * or a value this does not know). */
static int64_t reset_offset(rd_kafka_t *rk)
{
    char v[32];
    size_t len = sizeof(v);

    if (rd_kafka_conf_get(rd_kafka_conf(rk), "auto.offset.reset", v, &len) !=
        RD_KAFKA_CONF_OK)
        return RD_KAFKA_OFFSET_INVALID;
    if (strcmp(v, "smallest") == 0)   /* librdkafka's name for earliest */
        return RD_KAFKA_OFFSET_BEGINNING;
    if (strcmp(v, "largest") == 0)    /* latest */
        return RD_KAFKA_OFFSET_END;
    return RD_KAFKA_OFFSET_INVALID;
}

/* Turns the logical offsets BEGINNING and END in parts into the offsets
 * they stand for now, by one ListOffsets request for all of them (a
 * timestamp of -2 reads as the earliest offset, -1 as the latest; for a
 * read_committed consumer the last stable one).  Given a logical offset
 * at assignment librdkafka asks the same itself, but only once it knows
 * the partition's leader, which at that moment it does not yet: it waits
 * 500 ms.  And for a partition the group never committed in, its offset
 * reset takes "no committed offset" for an error and waits 100 ms first.
 * Every stage of a chain started on a backlog with new groups sat idle
 * that long before its first fetch (tests/bench/README.md, "A new
 * group's first fetch").  An offset the request does not give stays as it
 * was, for librdkafka to find. */
static void resolve_logical(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts)
{
    rd_kafka_topic_partition_list_t *q;
    rd_kafka_resp_err_t e;

    if (!(q = rd_kafka_topic_partition_list_new(parts->cnt)))
        return;
    for (int i = 0; i < parts->cnt; i++)
        if (parts->elems[i].offset == RD_KAFKA_OFFSET_BEGINNING ||
            parts->elems[i].offset == RD_KAFKA_OFFSET_END)
            rd_kafka_topic_partition_list_add(q, parts->elems[i].topic,
                                              parts->elems[i].partition)->offset =
                parts->elems[i].offset;
    if (q->cnt && (e = rd_kafka_offsets_for_times(rk, q, 5000)) != RD_KAFKA_RESP_ERR_NO_ERROR)
        sl_debug("runner", "start offsets: %s (librdkafka finds them)", rd_kafka_err2str(e));
    else
        for (int i = 0; i < q->cnt; i++) {
            rd_kafka_topic_partition_t *p = rd_kafka_topic_partition_list_find(
                parts, q->elems[i].topic, q->elems[i].partition);
            if (p && !q->elems[i].err && q->elems[i].offset >= 0) {
                sl_debug("runner", "%s/%" PRId32 ": starting at %" PRId64,
                         p->topic, p->partition, q->elems[i].offset);
                p->offset = q->elems[i].offset;
            }
        }
    rd_kafka_topic_partition_list_destroy(q);
}

/* Sets, in parts, the start of each partition the group has no committed
 * offset in (committed: the group's offsets, as rd_kafka_committed read
 * them) to where auto.offset.reset says, as an offset (resolve_logical).
 * A partition whose committed offset could not be read (an error, or a
 * transaction still pending on it) keeps librdkafka's own path, which
 * waits for it to settle. */
static void start_uncommitted(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts,
                              const rd_kafka_topic_partition_list_t *committed)
{
    int64_t reset = reset_offset(rk);

    if (reset == RD_KAFKA_OFFSET_INVALID)
        return;
    for (int i = 0; i < committed->cnt; i++) {
        const rd_kafka_topic_partition_t *c = &committed->elems[i];
        rd_kafka_topic_partition_t *p =
            rd_kafka_topic_partition_list_find(parts, c->topic, c->partition);
        if (p && !c->err && c->offset == RD_KAFKA_OFFSET_INVALID &&
            p->offset == RD_KAFKA_OFFSET_INVALID)
            p->offset = reset;
    }
    resolve_logical(rk, parts);
}

/* A new assignment: seeds the committed offsets of its partitions from
 * the broker (the lag of an idle partition is then known at once), and
 * starts the partitions the group has none in (start_uncommitted). */
static void met_assigned(run_common *rc, rd_kafka_t *rk,
                         rd_kafka_topic_partition_list_t *parts)
{
    rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_copy(parts);

    met_count(rc, rc->met.rebalances, "assign");
    if (!c)
        return;
    if (!rd_kafka_committed(rk, c, 5000)) {
        met_committed_list(rc, c);
        start_uncommitted(rk, parts, c);
    }
    rd_kafka_topic_partition_list_destroy(c);
}

/* A stage allocates and frees tens of MB a batch: librdkafka's buffers
 * for each decompressed fetch, the batch's messages and output, COPY
 * buffers.  glibc gives a large free block back to the kernel (munmap,
 * or trimming a thread's arena) and the next batch faults every page of
 * it in again, zeroed by the kernel: 17% of commit's CPU in the chain's
 * drain (tests/bench/README.md, "Freed memory kept").  So a stage keeps
 * what it freed, for the next batch: blocks below 32 MB (glibc's largest
 * threshold) come from the heap, and up to 256 MB free at its top stays
 * there.  Unless the operator tuned malloc already (GLIBC_TUNABLES with
 * glibc.malloc.*).  Returns 0, or -1 (and why in err) if glibc refused. */
static int keep_freed_memory(sl_err *err)
{
#if defined(__GLIBC__) && defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD) && \
    !defined(__SANITIZE_ADDRESS__)   /* AddressSanitizer has its own allocator */
    const char *t = getenv("GLIBC_TUNABLES");

    if (t && strstr(t, "glibc.malloc."))
        return 0;
    if (mallopt(M_MMAP_THRESHOLD, 32 << 20) != 1 ||
        mallopt(M_TRIM_THRESHOLD, 256 << 20) != 1) {
        sl_err_set(err, "glibc refused the malloc thresholds (mallopt)");
        return -1;
    }
#else
    (void)err;
#endif
    return 0;
}

/* Loads configuration for a stage; returns 0 to go on, else an exit code. */
static int common_config(run_common *rc, const sl_topo_stage *row,
                         const sl_cfg_entry *stage_map, int argc, char **argv)
{
    const char *stage = row->name;
    sl_err err = { "" };
    char usage[256], *list, *tok, *save = NULL;
    const char *v;
    int r;

    rc->stage = stage;
    rc->cfg = sl_config_new();
    if (!rc->cfg)
        return 1;
    if (sl_config_declare(rc->cfg, runner_map) != SL_OK ||
        sl_config_declare(rc->cfg, stage_map) != SL_OK)
        return 1;
    snprintf(usage, sizeof(usage),
             "usage: sluice-%s [-c FILE] [-X key=value]... [-v]", stage);
    r = sl_config_from_args(rc->cfg, argc, argv, usage, &err);
    if (r == 1)
        return 0 + 100;   /* help printed */
    if (r != SL_OK) {
        fprintf(stderr, "sluice-%s: %s\n", stage, err.msg);
        return 2;
    }
    int lvl = sl_log_parse_level(sl_config_get(rc->cfg, "log.level"));
    if (lvl < 0) {
        fprintf(stderr, "sluice-%s: log.level must be error, warn, info or debug\n", stage);
        return 2;
    }
    sl_log_set_level((sl_log_level)lvl);
    if (keep_freed_memory(&err))
        sl_warn("runner", "%s: freed memory goes back to the kernel", err.msg);

    v = sl_config_get(rc->cfg, "group.id");
    if (v && *v)
        sl_kafka_topic_name(rc->cfg, v, rc->group, sizeof(rc->group));
    else
        (void)sl_topology_group(sl_config_get(rc->cfg, "topic.prefix"), row,
                                rc->group, sizeof(rc->group));
    (void)sl_topology_txn_id(rc->group, sl_config_get(rc->cfg, "instance.id"),
                             rc->member, sizeof(rc->member));

    v = sl_config_get(rc->cfg, "input.topics");
    if (v && *v) {
        if (!(list = strdup(v)))
            return 1;
        for (tok = strtok_r(list, ", ", &save); tok;
             tok = strtok_r(NULL, ", ", &save)) {
            if (rc->n_inputs == SL_MAX_TOPICS) {
                fprintf(stderr, "sluice-%s: too many input topics\n", stage);
                free(list);
                return 2;
            }
            sl_kafka_topic_name(rc->cfg, tok, rc->inputs[rc->n_inputs++],
                                SL_TOPIC_LEN);
        }
        free(list);
    } else {
        for (size_t i = 0; row->inputs && row->inputs[i]; i++) {
            if (rc->n_inputs == SL_MAX_TOPICS) {
                fprintf(stderr, "sluice-%s: too many input topics\n", stage);
                return 2;
            }
            sl_kafka_topic_name(rc->cfg, row->inputs[i],
                                rc->inputs[rc->n_inputs++], SL_TOPIC_LEN);
        }
    }
    if (!rc->n_inputs) {
        fprintf(stderr, "sluice-%s: no input topics\n", stage);
        return 2;
    }
    rc->batch_size = sl_config_int(rc->cfg, "batch.size");
    rc->batch_ms = sl_config_int(rc->cfg, "batch.ms");
    rc->batch_idle_ms = sl_config_int(rc->cfg, "batch.idle.ms");
    rc->batch_backlog_ms = sl_config_int(rc->cfg, "batch.backlog.ms");
    if (rc->batch_size < 1 || rc->batch_ms < 1) {
        fprintf(stderr, "sluice-%s: batch.size and batch.ms must be positive\n", stage);
        return 2;
    }
    if (rc->batch_idle_ms < 0 || rc->batch_backlog_ms < 0) {
        fprintf(stderr, "sluice-%s: %s must not be negative\n", stage,
                rc->batch_idle_ms < 0 ? "batch.idle.ms" : "batch.backlog.ms");
        return 2;
    }
    if (rc->batch_backlog_ms < rc->batch_ms)
        rc->batch_backlog_ms = rc->batch_ms;
    return met_init(rc);
}

/* How long the next poll may wait: 50 ms, less while a batch is open and
 * batch.idle.ms is shorter. */
static int poll_wait_ms(const run_common *rc, int64_t in_batch)
{
    if (in_batch > 0 && rc->batch_idle_ms > 0 && rc->batch_idle_ms < 50)
        return (int)rc->batch_idle_ms;
    return 50;
}

/* Messages waiting in the stage's input: over its assigned partitions,
 * the last known high watermark less the position the stage has consumed
 * to, or where it starts (its committed offset, else the earliest) in a
 * partition it has not consumed from yet -- the client's own figures, no
 * request to the broker.  For a read_committed consumer the watermark
 * includes an upstream transaction still open: that much may be counted
 * that cannot be read yet. */
static int64_t input_backlog(const run_common *rc)
{
    rd_kafka_topic_partition_list_t *a = NULL;
    int64_t waiting = 0;

    if (rd_kafka_assignment(rc->consumer, &a) || !a)
        return 0;
    if (a->cnt && !rd_kafka_position(rc->consumer, a)) {
        for (int i = 0; i < a->cnt; i++) {
            const char *topic = a->elems[i].topic;
            int32_t part = a->elems[i].partition;
            int64_t lo = -1, hi = -1, pos = a->elems[i].offset;
            if (rd_kafka_get_watermark_offsets(rc->consumer, topic, part, &lo, &hi))
                continue;
            if (pos < 0)
                pos = group_start(rc, topic, part, lo);
            if (pos >= 0 && hi > pos)
                waiting += hi - pos;
        }
    }
    rd_kafka_topic_partition_list_destroy(a);
    return waiting;
}

/* Whether an open batch of in_batch messages, opened at start and last
 * given input at last_in (monotonic ms), ends now: when full, when
 * batch.ms has passed, or -- group commit -- when polls have found nothing
 * new for batch.idle.ms.  Under full load input never pauses and batches
 * fill as before; below it a message waits for its stage to catch up, not
 * for the rest of batch.ms, at each of the chain's hops.
 *
 * A stage behind -- when batch.ms passes, the rest of the batch is already
 * waiting in its input -- keeps the batch open until it is full or
 * batch.backlog.ms has passed: what the longer batch takes in was there
 * already, so it delays no message more than the backlog does, and the
 * stage (and the broker, which pays for every transaction) does less work
 * a message while it catches up.  *behind: the batch's verdict, -1 until
 * batch.ms passes (the caller sets it when the batch opens). */
static int batch_ends(const run_common *rc, int64_t in_batch, int64_t start,
                      int64_t last_in, int *behind)
{
    int64_t now, open_ms;

    if (in_batch <= 0)
        return 0;
    now = sl_mono_ms();
    open_ms = now - start;
    if (in_batch >= rc->batch_size ||
        (rc->batch_idle_ms > 0 && now - last_in >= rc->batch_idle_ms))
        return 1;
    if (open_ms < rc->batch_ms)
        return 0;
    if (*behind < 0)
        *behind = rc->batch_backlog_ms > rc->batch_ms &&
                  input_backlog(rc) >= rc->batch_size - in_batch;
    return !*behind || open_ms >= rc->batch_backlog_ms;
}

static rd_kafka_t *make_consumer(run_common *rc,
                                 void (*rebalance)(rd_kafka_t *, rd_kafka_resp_err_t,
                                                   rd_kafka_topic_partition_list_t *,
                                                   void *),
                                 void *opaque, sl_err *err)
{
    const char *const defaults[] = {
        "group.id", rc->group,
        /* Static membership: an instance restarted after a crash takes its
         * partitions back at once instead of waiting out the dead
         * member's session. */
        "group.instance.id", rc->member,
        "session.timeout.ms", "10000",
        "enable.auto.commit", "false",
        "enable.auto.offset.store", "false",
        "isolation.level", "read_committed",
        "auto.offset.reset", "earliest",
        "enable.partition.eof", "false",
        /* How long the broker may hold a fetch that finds nothing.  After
         * an assignment librdkafka's first fetch carries the first
         * partition ready and the others wait until it returns: with
         * librdkafka's default of 500 ms each hop of a starting chain
         * waited up to half a second for data already committed
         * upstream.  Under load fetches return data at once whatever
         * this is; idle, a shorter wait costs the broker more polls (four
         * idle stages: about 18 ms of broker CPU a second at 500 ms, 34
         * at 100, 37-52 at 50; tests/bench/README.md, "Fetch waits"). */
        "fetch.wait.max.ms", "100",
        /* What a stage holds fetched ahead of its work: each fetched lz4
         * batch is kept decompressed until its records are done.  With
         * 64 MiB fetches (16 MiB a partition) and librdkafka's 64 MiB
         * queue, validate facing a backlog of 200,000 uploads peaked at
         * 344-362 MB; with these, 148-157 MB, draining as fast
         * (tests/bench/README.md, "What a stage holds fetched ahead").
         * 8 MiB still carries thousands of 1 KiB uploads a fetch.  A
         * record batch larger than these limits is still fetched whole
         * (the broker returns the first batch of a fetch whatever its
         * size), so 16 MiB samples pass. */
        "fetch.max.bytes", "8388608",
        "max.partition.fetch.bytes", "2097152",
        "queued.max.messages.kbytes", "16384",
        "receive.message.max.bytes", "100000000",
        /* broker connection state for /ready (met_stats_cb) */
        "statistics.interval.ms", "1000",
        NULL
    };
    char errstr[512];
    rd_kafka_conf_t *conf;
    rd_kafka_t *rk;

    if (!(conf = sl_kafka_conf(rc->cfg, defaults, err)))
        return NULL;
    rd_kafka_conf_set_log_cb(conf, kafka_log_cb);
    rd_kafka_conf_set_error_cb(conf, kafka_error_cb);
    rd_kafka_conf_set_rebalance_cb(conf, rebalance);
    rd_kafka_conf_set_stats_cb(conf, met_stats_cb);
    rd_kafka_conf_set_opaque(conf, opaque);
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        sl_err_set(err, "creating consumer: %s", errstr);
        return NULL;
    }
    rd_kafka_poll_set_consumer(rk);
    return rk;
}

static int subscribe(run_common *rc, sl_err *err)
{
    rd_kafka_topic_partition_list_t *l =
        rd_kafka_topic_partition_list_new((int)rc->n_inputs);
    rd_kafka_resp_err_t e;

    for (size_t i = 0; i < rc->n_inputs; i++)
        rd_kafka_topic_partition_list_add(l, rc->inputs[i], RD_KAFKA_PARTITION_UA);
    e = rd_kafka_subscribe(rc->consumer, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) {
        sl_err_set(err, "subscribe: %s", rd_kafka_err2str(e));
        return SL_ERR;
    }
    return SL_OK;
}

/* Builds the processor's view of a Kafka message.  hdrs must hold
 * SL_MAX_MSG_HEADERS entries; extra headers are ignored with a warning. */
static void msg_view(const rd_kafka_message_t *m, sl_msg *v, sl_header *hdrs)
{
    rd_kafka_headers_t *h = NULL;
    size_t n = 0;

    memset(v, 0, sizeof(*v));
    v->key.ptr = m->key;
    v->key.len = m->key_len;
    v->value.ptr = m->payload;
    v->value.len = m->len;
    v->topic = rd_kafka_topic_name(m->rkt);
    v->partition = m->partition;
    v->offset = m->offset;
    v->timestamp_ms = rd_kafka_message_timestamp(m, NULL);
    v->run_index = SL_RUN_NONE;
    if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char *name;
        const void *val;
        size_t len;
        for (size_t i = 0; n < SL_MAX_MSG_HEADERS &&
             rd_kafka_header_get_all(h, i, &name, &val, &len) ==
             RD_KAFKA_RESP_ERR_NO_ERROR; i++) {
            hdrs[n].name = name;
            hdrs[n].value.ptr = val;
            hdrs[n].value.len = len;
            n++;
        }
    }
    v->headers = hdrs;
    v->n_headers = n;
}

/* ------------------------------------------------------------------ */
/* The transactional consume-transform-produce loop                    */
/* ------------------------------------------------------------------ */

#define SL_RUN_MAX 500   /* messages consumed, prepared and processed together */

typedef struct txn_run {
    run_common c;
    const sl_processor *p;
    void *pctx;
    rd_kafka_t *producer;
    char output[SL_TOPIC_LEN];
    char rejected[SL_TOPIC_LEN];
    sl_out *out;
    int64_t in_batch;        /* messages consumed in the open transaction */
    int64_t batch_start;     /* monotonic ms of the batch's first message */
    int64_t last_in;         /* monotonic ms at the end of the last non-empty run */
    int behind;              /* batch_ends' verdict for the open batch */
    int txn_open;
    int fatal;
    uint64_t n_emit, n_reject, n_route, n_aborts, n_quarantined;
    /* The run of messages consumed together (see sl_processor.prepare):
     * run[0..run_n) polled, run[0..run_done) processed. */
    rd_kafka_message_t *run[SL_RUN_MAX];
    sl_msg views[SL_RUN_MAX];
    sl_header *run_hdrs;     /* SL_RUN_MAX * SL_MAX_MSG_HEADERS */
    size_t run_n, run_done;
    /* One bad message never stops the stage (processor.h). */
    sl_attempts *attempts;   /* SL_FATAL per topic/partition/offset */
    int64_t max_attempts;
    int abort_env;           /* the last abort blamed the environment */
    int64_t env_fail_since;  /* monotonic ms of the first such abort, or 0 */
    int64_t backoff_ms;
    int64_t retry_budget_ms;
    sl_dl_limits dl;
    int keep_blocked;
    size_t produce_max;      /* producer's message.max.bytes less a record's overhead */
} txn_run;

/* Classifies a transactional API error: 1 retry, 2 abort, 3 fatal. */
enum { TXN_OK = 0, TXN_RETRY, TXN_ABORT, TXN_FATAL };

static int txn_classify(rd_kafka_error_t *e, const char *what)
{
    int r;

    if (!e)
        return TXN_OK;
    if (rd_kafka_error_is_retriable(e))
        r = TXN_RETRY;
    else if (rd_kafka_error_txn_requires_abort(e))
        r = TXN_ABORT;
    else
        r = TXN_FATAL;
    (r == TXN_FATAL ? sl_log_write : sl_log_write)(
        r == TXN_FATAL ? SL_LOG_ERROR : SL_LOG_WARN, "runner", "%s: %s (%s)",
        what, rd_kafka_error_string(e),
        r == TXN_RETRY ? "retrying" : r == TXN_ABORT ? "aborting" : "fatal");
    rd_kafka_error_destroy(e);
    return r;
}

static int txn_begin(txn_run *t)
{
    if (txn_classify(rd_kafka_begin_transaction(t->producer),
                     "begin_transaction") != TXN_OK) {
        t->fatal = 1;
        return SL_ERR;
    }
    t->txn_open = 1;
    t->in_batch = 0;
    return SL_OK;
}

/* Seeks the assigned partitions back to their committed offsets. */
static void rewind_consumer(txn_run *t)
{
    rd_kafka_topic_partition_list_t *a = NULL;
    rd_kafka_resp_err_t e;
    rd_kafka_error_t *err;

    if ((e = rd_kafka_assignment(t->c.consumer, &a)) || !a || !a->cnt) {
        if (a)
            rd_kafka_topic_partition_list_destroy(a);
        return;
    }
    if ((e = rd_kafka_committed(t->c.consumer, a, 30000))) {
        sl_error("runner", "reading committed offsets: %s", rd_kafka_err2str(e));
        t->fatal = 1;
        rd_kafka_topic_partition_list_destroy(a);
        return;
    }
    for (int i = 0; i < a->cnt; i++)
        if (a->elems[i].offset < 0)
            a->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
    if ((err = rd_kafka_seek_partitions(t->c.consumer, a, -1))) {
        sl_error("runner", "rewind: %s", rd_kafka_error_string(err));
        rd_kafka_error_destroy(err);
        t->fatal = 1;
    }
    rd_kafka_topic_partition_list_destroy(a);
}

static void txn_abort(txn_run *t)
{
    int r;

    t->n_aborts++;
    met_count(&t->c, t->c.met.aborts, NULL);
    sl_warn("runner", "aborting transaction of %" PRId64 " messages", t->in_batch);
    while ((r = txn_classify(rd_kafka_abort_transaction(t->producer, -1),
                             "abort_transaction")) == TXN_RETRY)
        ;
    if (r != TXN_OK) {
        t->fatal = 1;
        return;
    }
    t->txn_open = 0;
    if (t->p->txn_end)
        t->p->txn_end(t->pctx, 0);
    rewind_consumer(t);
    if (!t->fatal)
        txn_begin(t);
}

/* Where each assigned partition resumes, for the transaction's offsets:
 * the consumer's position (past the last message returned, and past the
 * transaction markers after it), except on a partition with messages
 * polled into the current run but not yet processed: there, the first of
 * them.  A revocation is served inside rd_kafka_consumer_poll, while a run
 * is being gathered; committing the bare position then would skip those
 * messages for the partition's next owner.  NULL on failure. */
static rd_kafka_topic_partition_list_t *commit_positions(txn_run *t)
{
    rd_kafka_topic_partition_list_t *pos = NULL;

    if (rd_kafka_assignment(t->c.consumer, &pos) || !pos)
        return NULL;
    if (rd_kafka_position(t->c.consumer, pos)) {
        rd_kafka_topic_partition_list_destroy(pos);
        return NULL;
    }
    if (t->run_n > t->run_done)
        sl_kafka_resume_before(pos, t->views + t->run_done,
                               t->run_n - t->run_done);
    return pos;
}

/* Forgets the polled, unprocessed rest of the run: after a revocation its
 * partitions resume elsewhere at those messages (commit_positions). */
static void drop_unprocessed(txn_run *t)
{
    if (t->run_n > t->run_done)
        sl_info("runner", "revoked: leaving %zu polled messages to the next owner",
                t->run_n - t->run_done);
    for (size_t i = t->run_done; i < t->run_n; i++)
        rd_kafka_message_destroy(t->run[i]);
    t->run_n = t->run_done;
}

static void abort_pause(txn_run *t);

/* Sends the consumed positions into the transaction and commits it. */
static int txn_commit(txn_run *t)
{
    rd_kafka_topic_partition_list_t *pos = NULL, *committing;
    rd_kafka_consumer_group_metadata_t *cgmd;
    int64_t t0;
    int r;

    if (!t->txn_open || t->fatal)
        return SL_ERR;
    if (t->in_batch == 0)
        return SL_OK;
    if (!(pos = commit_positions(t))) {
        txn_abort(t);
        return SL_ERR;
    }
    t0 = sl_mono_ms();
    committing = rd_kafka_topic_partition_list_copy(pos);
    cgmd = rd_kafka_consumer_group_metadata(t->c.consumer);
    do {
        r = txn_classify(rd_kafka_send_offsets_to_transaction(t->producer, pos,
                                                              cgmd, -1),
                         "send_offsets_to_transaction");
    } while (r == TXN_RETRY);
    rd_kafka_consumer_group_metadata_destroy(cgmd);
    rd_kafka_topic_partition_list_destroy(pos);
    if (r == TXN_OK) {
        do {
            r = txn_classify(rd_kafka_commit_transaction(t->producer, -1),
                             "commit_transaction");
        } while (r == TXN_RETRY);
    }
    if (r == TXN_OK) {
        const char *const st[] = { t->c.stage };
        met_committed_list(&t->c, committing);
        sl_metric_add(t->c.met.txns, st, 1);
        sl_metric_observe(t->c.met.batch, st, (double)t->in_batch);
        sl_metric_observe(t->c.met.txn_s, st,
                          (double)(sl_mono_ms() - t->batch_start) / 1000.0);
    }
    if (committing)
        rd_kafka_topic_partition_list_destroy(committing);
    if (r == TXN_ABORT) {
        /* Not one message's fault that we can name (the broker refused the
         * batch): the environment's, within retry.budget.ms. */
        txn_abort(t);
        t->abort_env = 1;
        if (!t->fatal)
            abort_pause(t);
        return SL_ERR;
    }
    if (r == TXN_FATAL) {
        t->fatal = 1;
        return SL_ERR;
    }
    sl_debug("runner", "committed batch of %" PRId64 " messages (first one %"
             PRId64 " ms before the commit began, which took %" PRId64 " ms)",
             t->in_batch, t0 - t->batch_start, sl_mono_ms() - t0);
    t->txn_open = 0;
    t->env_fail_since = 0;   /* progress: the environment works */
    t->backoff_ms = 0;
    if (t->p->txn_end)
        t->p->txn_end(t->pctx, 1);
    return txn_begin(t);
}

static void txn_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    txn_run *t = opaque;

    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        sl_info("runner", "assigned %d partitions", parts->cnt);
        met_assigned(&t->c, rk, parts);
        rd_kafka_assign(rk, parts);
        return;
    }
    met_count(&t->c, t->c.met.rebalances, rd_kafka_assignment_lost(rk) ? "lost" : "revoke");
    if (rd_kafka_assignment_lost(rk)) {
        sl_warn("runner", "assignment lost: aborting the open transaction");
        if (t->txn_open && !t->fatal)
            txn_abort(t);
    } else {
        sl_info("runner", "partitions revoked: committing the open transaction "
                "(%" PRId64 " messages)", t->in_batch);
        if (t->txn_open && !t->fatal)
            txn_commit(t);
    }
    drop_unprocessed(t);
    rd_kafka_assign(rk, NULL);
}

/* Inbound copies of these are never passed on: a dead letter's are the
 * runner's own. */
static const char *const reject_headers[] = {
    SL_H_REJ_STAGE, SL_H_REJ_CODE, SL_H_REJ_DETAIL, SL_H_REJ_TOPIC,
    SL_H_REJ_PART, SL_H_REJ_OFFSET, SL_H_REJ_TIME, SL_H_REJ_VALUE,
    SL_H_REJ_VALUE_SHA256, SL_H_REJ_VALUE_SIZE, SL_H_REJ_HEADERS, NULL
};

/* Whether input header i is copied: not replaced by one of the processor's
 * (when those are copied too) and not named in drop (NULL-ended). */
static int copies_input_header(const sl_msg *in, size_t i, const sl_out *out,
                               int with_out, const char *const *drop)
{
    size_t n_out = sl_out_n_headers(out);
    const sl_header *oh = sl_out_headers(out);

    for (size_t j = 0; with_out && j < n_out; j++)
        if (strcmp(in->headers[i].name, oh[j].name) == 0)
            return 0;
    for (size_t j = 0; drop && drop[j]; j++)
        if (strcmp(in->headers[i].name, drop[j]) == 0)
            return 0;
    return 1;
}

/* Copies the input headers (if with_in), minus those named in `drop`
 * (NULL-ended), plus the processor's headers (if with_out), into a new
 * librdkafka header list. */
static rd_kafka_headers_t *out_headers(const sl_msg *in, const sl_out *out,
                                       const char *const *drop, int with_in,
                                       int with_out)
{
    size_t n_out = sl_out_n_headers(out);
    const sl_header *oh = sl_out_headers(out);
    rd_kafka_headers_t *h = rd_kafka_headers_new(in->n_headers + n_out + 12);

    for (size_t i = 0; with_in && i < in->n_headers; i++)
        if (copies_input_header(in, i, out, with_out, drop))
            rd_kafka_header_add(h, in->headers[i].name, -1,
                                in->headers[i].value.ptr,
                                (ssize_t)in->headers[i].value.len);
    for (size_t j = 0; with_out && j < n_out; j++)
        rd_kafka_header_add(h, oh[j].name, -1, oh[j].value.ptr,
                            (ssize_t)oh[j].value.len);
    return h;
}

/* Produces one record inside the open transaction, waiting out a full
 * queue.  Takes ownership of hdrs.  SL_ETOOBIG when the producer refuses
 * the record's size (its message.max.bytes), SL_ERR on any other local
 * failure. */
static int produce(txn_run *t, const char *topic, sl_slice key, sl_slice value,
                   rd_kafka_headers_t *hdrs)
{
    rd_kafka_resp_err_t e;

    for (;;) {
        e = rd_kafka_producev(t->producer,
                              RD_KAFKA_V_TOPIC(topic),
                              RD_KAFKA_V_KEY(key.ptr, key.len),
                              RD_KAFKA_V_VALUE((void *)value.ptr, value.len),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_HEADERS(hdrs),
                              RD_KAFKA_V_END);
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            break;
        rd_kafka_poll(t->producer, 50);
    }
    if (e) {
        rd_kafka_headers_destroy(hdrs);
        if (e == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
            sl_warn("runner", "produce to %s: %s (%zu bytes of value)", topic,
                    rd_kafka_err2str(e), value.len);
            return SL_ETOOBIG;
        }
        sl_error("runner", "produce to %s: %s", topic, rd_kafka_err2str(e));
        return SL_ERR;
    }
    met_count(&t->c, t->c.met.out, topic);
    return SL_OK;
}

/* Bytes of headers as sl/deadletter.h counts them. */
static size_t header_bytes(const char *name, size_t value_len)
{
    return strlen(name) + value_len + SL_DL_HEADER_OVERHEAD;
}

/* Produces the dead letter of `in` in the form `p` says. */
static int dead_letter_send(txn_run *t, const sl_msg *in, const char *code,
                            const char *detail, const sl_dl_plan *p,
                            const char *sha, int headers_dropped)
{
    static const sl_slice none = { (const uint8_t *)"", 0 };
    rd_kafka_headers_t *h = out_headers(in, t->out, reject_headers,
                                        p->in_headers, p->out_headers);
    char num[32];

    rd_kafka_header_add(h, SL_H_REJ_STAGE, -1, t->c.stage, -1);
    rd_kafka_header_add(h, SL_H_REJ_CODE, -1, code, -1);
    rd_kafka_header_add(h, SL_H_REJ_DETAIL, -1, detail, -1);
    rd_kafka_header_add(h, SL_H_REJ_TOPIC, -1, in->topic, -1);
    snprintf(num, sizeof(num), "%" PRId32, in->partition);
    rd_kafka_header_add(h, SL_H_REJ_PART, -1, num, -1);
    snprintf(num, sizeof(num), "%" PRId64, in->offset);
    rd_kafka_header_add(h, SL_H_REJ_OFFSET, -1, num, -1);
    snprintf(num, sizeof(num), "%" PRId64, sl_now_ms());
    rd_kafka_header_add(h, SL_H_REJ_TIME, -1, num, -1);
    rd_kafka_header_add(h, SL_H_REJ_VALUE, -1, p->value ? "whole" : "withheld", -1);
    rd_kafka_header_add(h, SL_H_REJ_VALUE_SHA256, -1, sha, -1);
    snprintf(num, sizeof(num), "%zu", in->value.len);
    rd_kafka_header_add(h, SL_H_REJ_VALUE_SIZE, -1, num, -1);
    if (headers_dropped)
        rd_kafka_header_add(h, SL_H_REJ_HEADERS, -1, "dropped", -1);
    return produce(t, t->rejected, p->key ? in->key : none,
                   p->value ? in->value : none, h);
}

/* Dead-letters `in`, with the processor's headers, in a form that fits
 * (sl/deadletter.h): the value withheld when it would not fit or the
 * processor asked so, and the minimal form if the producer still refuses. */
static int dead_letter(txn_run *t, const sl_msg *in, const char *code,
                       const char *detail)
{
    size_t n_out = sl_out_n_headers(t->out);
    const sl_header *oh = sl_out_headers(t->out);
    sl_dl_sizes sz = { in->key.len, in->value.len, 0, 0, 0 };
    sl_dl_plan p;
    char sha[SL_SHA256_HEX];
    int withhold, r;

    for (size_t i = 0; i < in->n_headers; i++)
        if (copies_input_header(in, i, t->out, 1, reject_headers))
            sz.in_headers += header_bytes(in->headers[i].name,
                                          in->headers[i].value.len);
    for (size_t j = 0; j < n_out; j++)
        sz.out_headers += header_bytes(oh[j].name, oh[j].value.len);
    /* 11 names (at most 30 bytes), the hash, 4 numbers (at most 20
     * digits), 2 words (at most 8 letters) and the texts */
    sz.reject_headers = 11 * (32 + SL_DL_HEADER_OVERHEAD) + 64 + 4 * 20 +
                        2 * 8 + strlen(t->c.stage) + strlen(code) +
                        strlen(detail) + strlen(in->topic);
    if (sl_sha256_hex(in->value.ptr, in->value.len, sha) != SL_OK)
        return SL_ERR;
    withhold = sl_out_withholds_value(t->out) && !t->keep_blocked;
    p = sl_deadletter_plan(&sz, &t->dl, withhold);
    if (!p.value)
        sl_info("runner", "dead letter of %s/%" PRId32 "/%" PRId64 " (%s): value "
                "of %zu bytes withheld%s%s", in->topic, in->partition, in->offset,
                code, in->value.len, withhold ? " on the stage's request" : "",
                (!p.in_headers && sz.in_headers) || (!p.out_headers && sz.out_headers)
                    ? ", headers dropped" : "");
    r = dead_letter_send(t, in, code, detail, &p, sha,
                         (!p.in_headers && sz.in_headers) ||
                         (!p.out_headers && sz.out_headers));
    if (r != SL_OK && (p.value || p.in_headers || p.out_headers)) {
        sl_warn("runner", "dead letter of %s/%" PRId32 "/%" PRId64 " refused by "
                "the producer: sending its minimal form", in->topic,
                in->partition, in->offset);
        p = sl_deadletter_minimal(&sz, &t->dl);
        r = dead_letter_send(t, in, code, detail, &p, sha,
                             sz.in_headers || sz.out_headers);
    }
    return r;
}

/* Quarantines a message no verdict could place: a stage_error dead letter
 * of the input alone (whatever the processor had put in its output goes).
 * The detail is copied first: resetting the output clears it. */
static int quarantine(txn_run *t, const sl_msg *in, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int quarantine(txn_run *t, const sl_msg *in, const char *fmt, ...)
{
    char detail[1536];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    sl_out_reset(t->out);
    sl_attempts_forget(t->attempts, in->topic, in->partition, in->offset);
    sl_warn("runner", "quarantined %s/%" PRId32 "/%" PRId64 ": %s", in->topic,
            in->partition, in->offset, detail);
    t->n_quarantined++;
    met_count(&t->c, t->c.met.quarantined, NULL);
    return dead_letter(t, in, SL_STAGE_ERROR, detail);
}

/* Produces an accepted or routed message.  One whose output the producer
 * would refuse for its size, or the broker after it (within a record's
 * overhead of the limit, where only the broker's count of the batch
 * says no, and the transaction would abort for ever), is quarantined:
 * retrying cannot make it fit. */
static int pass_on(txn_run *t, const sl_msg *in, const char *topic,
                   sl_slice value)
{
    size_t n_out = sl_out_n_headers(t->out), size = in->key.len + value.len;
    const sl_header *oh = sl_out_headers(t->out);
    int r = SL_ETOOBIG;

    for (size_t i = 0; i < in->n_headers; i++)
        if (copies_input_header(in, i, t->out, 1, NULL))
            size += header_bytes(in->headers[i].name, in->headers[i].value.len);
    for (size_t j = 0; j < n_out; j++)
        size += header_bytes(oh[j].name, oh[j].value.len);
    if (size <= t->produce_max)
        r = produce(t, topic, in->key, value, out_headers(in, t->out, NULL, 1, 1));
    if (r == SL_ETOOBIG)
        return quarantine(t, in, "%s: its output (%zu bytes of value, and "
                          "headers) is larger than the producer's "
                          "message.max.bytes", t->c.stage, value.len);
    return r;
}

/* SL_FATAL: retried (abort and rewind) until message.max.attempts, then
 * quarantined. */
static int message_failed(txn_run *t, const sl_msg *in)
{
    char why[1024];
    int n = sl_attempts_fail(t->attempts, in->topic, in->partition, in->offset);

    snprintf(why, sizeof(why), "%s", *sl_out_reject_detail(t->out) ?
             sl_out_reject_detail(t->out) : "no detail given");
    if (!sl_attempts_exhausted(n, t->max_attempts)) {
        sl_warn("runner", "%s failed on %s/%" PRId32 "/%" PRId64 " (attempt %d of "
                "%" PRId64 "): %s; retrying", t->c.stage, in->topic,
                in->partition, in->offset, n, t->max_attempts, why);
        t->abort_env = 0;
        return SL_EIO;
    }
    return quarantine(t, in, "%s failed on this message %d times: %s",
                      t->c.stage, n, why);
}

/* Counts a verdict; a rejection by its reason code (a stable snake_case
 * constant of the processor: a bounded set). */
static void met_verdict(txn_run *t, sl_verdict v)
{
    const char *name;

    switch (v) {
    case SL_EMIT:      name = "emit"; break;
    case SL_ROUTE:     name = "route"; break;
    case SL_REJECT:    name = "reject"; break;
    case SL_RETRY:     name = "retry"; break;
    case SL_ENV_FATAL: name = "env_fatal"; break;
    default:           name = "fatal"; break;
    }
    sl_metric_add(t->c.met.verdicts, (const char *const[]){
                      t->c.stage, name,
                      v == SL_REJECT ? sl_out_reject_code(t->out) : "none" }, 1);
}

/* Runs one message through the processor and produces its outcome.
 * SL_EIO asks for an abort and retry (abort_env says whom to blame). */
static int handle_message(txn_run *t, const sl_msg *msg)
{
    const sl_msg in = *msg;
    const uint64_t quarantined = t->n_quarantined;
    sl_verdict v;
    sl_slice value;
    int r = SL_OK;

    sl_out_reset(t->out);
    /* The element of the run handed to prepare(): processors find what
     * they prepared for it at its run_index. */
    v = t->p->process(t->pctx, msg, t->out);
    value = sl_out_has_value(t->out) ? sl_out_value(t->out) : in.value;
    met_verdict(t, v);

    switch (v) {
    case SL_EMIT:
        r = pass_on(t, &in, t->output, value);
        t->n_emit += t->n_quarantined == quarantined;
        break;
    case SL_ROUTE: {
        char topic[SL_TOPIC_LEN];
        sl_kafka_topic_name(t->c.cfg, sl_out_route_topic(t->out), topic,
                            sizeof(topic));
        r = pass_on(t, &in, topic, value);
        t->n_route += t->n_quarantined == quarantined;
        break;
    }
    case SL_REJECT:
        sl_debug("runner", "rejected %s/%" PRId32 "/%" PRId64 ": %s: %s",
                 in.topic, in.partition, in.offset,
                 sl_out_reject_code(t->out), sl_out_reject_detail(t->out));
        r = dead_letter(t, &in, sl_out_reject_code(t->out),
                        sl_out_reject_detail(t->out));
        t->n_reject++;
        break;
    case SL_RETRY:
        sl_warn("runner", "processor asked to retry %s/%" PRId32 "/%" PRId64
                " (its environment is unavailable)", in.topic, in.partition,
                in.offset);
        t->abort_env = 1;
        return SL_EIO;
    case SL_ENV_FATAL:
        sl_error("runner", "processor reports its environment gone, at %s/%"
                 PRId32 "/%" PRId64 ": %s", in.topic, in.partition, in.offset,
                 sl_out_reject_detail(t->out));
        t->fatal = 1;
        return SL_ERR;
    case SL_FATAL:
    default:
        if ((r = message_failed(t, &in)) == SL_EIO)
            return SL_EIO;
        break;
    }
    if (r != SL_OK) {
        t->abort_env = 1;   /* the producer refused even a minimal record */
        return SL_EIO;
    }
    sl_attempts_forget(t->attempts, in.topic, in.partition, in.offset);
    rd_kafka_poll(t->producer, 0);
    return SL_OK;
}

/* After an abort: the environment's failures back off (200 ms doubling to
 * 5 s) within retry.budget.ms of no progress, then the stage gives up; a
 * message's own failure retries after 200 ms. */
static void abort_pause(txn_run *t)
{
    int64_t now = sl_mono_ms();

    met_count(&t->c, t->c.met.retries, t->abort_env ? "environment" : "message");
    if (!t->abort_env) {
        usleep(200 * 1000);
        return;
    }
    if (!t->env_fail_since)
        t->env_fail_since = now;
    if (now - t->env_fail_since >= t->retry_budget_ms) {
        sl_error("runner", "%s: environment unavailable for %" PRId64 " ms "
                 "(retry.budget.ms): exiting", t->c.stage, now - t->env_fail_since);
        t->fatal = 1;
        return;
    }
    t->backoff_ms = sl_backoff_next(t->backoff_ms);
    usleep((useconds_t)t->backoff_ms * 1000);
}

/* A property of conf as an integer (-1 when unset or not a number). */
static long long conf_ll(rd_kafka_conf_t *conf, const char *name)
{
    char v[32];
    size_t len = sizeof(v);
    char *end;
    long long n;

    if (rd_kafka_conf_get(conf, name, v, &len) != RD_KAFKA_CONF_OK)
        return -1;
    n = strtoll(v, &end, 10);
    return end != v && *end == '\0' ? n : -1;
}

/* NULL with *config_error set when the configuration cannot work: a batch
 * that outlives its transaction would be aborted by the broker every time. */
static rd_kafka_t *make_producer(txn_run *t, int *config_error, sl_err *err)
{
    char txid[SL_TOPIC_LEN * 2], errstr[512], linger[24];
    long long txn_ms, msg_ms, stmt_ms, lg;
    const char *defaults[] = {
        "transactional.id", txid,
        "enable.idempotence", "true",
        "transaction.timeout.ms", "60000",
        "message.timeout.ms", "50000",
        "message.max.bytes", "16777216",
        /* Output is only visible at the transaction's commit (every
         * batch.ms, or batch.backlog.ms while behind, at most), which
         * sends whatever is still lingering:
         * lingering for as long as a batch lasts costs no latency and
         * saves the broker many small requests (measured: linger.ms 20
         * to 250 took the whole chain's broker CPU per sample from 84 to
         * 75 us).  Set below, after kafka.* (kafka.linger.ms overrides it). */
        /* Cheap to (de)compress, and the broker then handles a third of
         * the bytes of text samples (measured: -12% broker CPU). */
        "compression.type", "lz4",
        "queue.buffering.max.kbytes", "1048576",
        NULL
    };
    rd_kafka_conf_t *conf;
    rd_kafka_t *rk;
    rd_kafka_error_t *e;

    (void)sl_topology_txn_id(t->c.group, sl_config_get(t->c.cfg, "instance.id"),
                             txid, sizeof(txid));
    *config_error = 0;
    if (!(conf = sl_kafka_conf(t->c.cfg, defaults, err)))
        return NULL;
    txn_ms = conf_ll(conf, "transaction.timeout.ms");
    msg_ms = conf_ll(conf, "message.timeout.ms");
    if (txn_ms > 0 && t->c.batch_backlog_ms >= txn_ms) {
        /* batch_backlog_ms: the longer of batch.ms and batch.backlog.ms */
        int by_ms = t->c.batch_ms >= txn_ms;
        sl_err_set(err, "%s (%lld) must be shorter than the transaction "
                   "timeout (kafka.transaction.timeout.ms, %lld)",
                   by_ms ? "batch.ms" : "batch.backlog.ms",
                   (long long)(by_ms ? t->c.batch_ms : t->c.batch_backlog_ms), txn_ms);
        *config_error = 1;
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    /* A statement allowed to outlive the transaction it runs in would see
     * the broker abort that transaction first. */
    stmt_ms = sl_config_int(t->c.cfg, "pg.statement.timeout.ms");
    if (txn_ms > 0 && stmt_ms >= txn_ms) {
        sl_err_set(err, "pg.statement.timeout.ms (%lld) must be shorter than the "
                   "transaction timeout (kafka.transaction.timeout.ms, %lld)",
                   (long long)stmt_ms, txn_ms);
        *config_error = 1;
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    /* librdkafka wants linger.ms below message.timeout.ms (0: infinite) and
     * at most 900000. */
    lg = t->c.batch_backlog_ms < 900000 ? t->c.batch_backlog_ms : 900000;
    if (msg_ms > 0 && lg >= msg_ms)
        lg = msg_ms - 1;
    snprintf(linger, sizeof(linger), "%lld", lg);
    if (!sl_config_get(t->c.cfg, "kafka.linger.ms") &&
        rd_kafka_conf_set(conf, "linger.ms", linger, errstr,
                          sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        sl_err_set(err, "linger.ms: %s", errstr);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_log_cb(conf, kafka_log_cb);
    rd_kafka_conf_set_error_cb(conf, kafka_error_cb);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        sl_err_set(err, "creating producer: %s", errstr);
        return NULL;
    }
    /* Fences any older instance with the same transactional.id. */
    if ((e = rd_kafka_init_transactions(rk, 60000))) {
        sl_err_set(err, "init_transactions (%s): %s", txid,
                   rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        rd_kafka_destroy(rk);
        return NULL;
    }
    sl_info("runner", "transactional producer ready, transactional.id=%s", txid);
    return rk;
}

/* Asks the broker, before the first transaction, where the topics this
 * stage writes to live.  librdkafka otherwise learns a topic's leader only
 * when its first record is queued, by a scan that runs once a second: the
 * first commit of every stage waited up to a second for it (measured: 0.4
 * to 1.0 s at each hop of a freshly started chain), and a stage's first
 * dead letter or route later in its life waited the same.  A topic that
 * cannot be looked up now is only logged: producing to it looks it up
 * again, and reports what is wrong then. */
static void warm_topic(txn_run *t, const char *name)
{
    sl_err err = { "" };
    int n = 0;

    if (sl_kafka_topic_lookup(t->producer, name, 10000, &n, &err) == SL_OK && n <= 0)
        snprintf(err.msg, sizeof(err.msg), "%s",
                 rd_kafka_err2str(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART));
    if (err.msg[0])
        sl_warn("runner", "looking up output topic %s: %s (its first "
                "record will look it up again)", name, err.msg);
}

static void warm_topics(txn_run *t)
{
    const char *const *routes = t->p->stage->routes;
    char route[SL_TOPIC_LEN];

    warm_topic(t, t->output);
    if (strcmp(t->rejected, t->output) != 0)
        warm_topic(t, t->rejected);
    for (size_t i = 0; routes && routes[i]; i++) {
        sl_kafka_topic_name(t->c.cfg, routes[i], route, sizeof(route));
        warm_topic(t, route);
    }
}

typedef struct start_arg {
    int (*init)(void **, const sl_config *, sl_err *);
    void **ctx;
    const sl_config *cfg;
} start_arg;

static int start_try(void *u, sl_err *err)
{
    start_arg *a = u;

    return a->init(a->ctx, a->cfg, err);
}

/* Starts the stage's processor or sink (init).  A database that does not
 * answer yet (init's SL_EIO: a stack starting, a failover) is waited for
 * (sl_start_retry) as a running stage waits for one: 200 ms doubling to
 * 5 s, within retry.budget.ms, alive but not ready meanwhile.  0: started; 1: the
 * budget ran out; 2: a configuration error (any other failure of init);
 * 3: stopped by a signal while waiting. */
static int start_stage(run_common *rc, const char *name,
                       int (*init)(void **, const sl_config *, sl_err *),
                       void **ctx)
{
    start_arg a = { init, ctx, rc->cfg };
    sl_start_opts o = { name, "init failed", sl_config_int(rc->cfg, "retry.budget.ms"),
                        rc->met.health, &stop_requested };
    sl_err err = { "" };
    int r = sl_start_retry(&o, start_try, &a, &err);

    if (r == SL_OK)
        return 0;
    return stop_requested ? 3 : sl_start_exit_status(&o, r);
}

int sl_runner_main(const sl_processor *p, int argc, char **argv)
{
    txn_run t;
    sl_err err = { "" };
    int code = 1, bad_config = 0;
    const char *v;

    memset(&t, 0, sizeof(t));
    t.p = p;
    code = common_config(&t.c, p->stage, p->config_map, argc, argv);
    if (code == 100) {
        code = 0;
        goto out;
    }
    if (code)
        goto out;
    code = 1;
    install_signals();

    v = sl_config_get(t.c.cfg, "output.topic");
    sl_kafka_topic_name(t.c.cfg, v && *v ? v : p->stage->output, t.output,
                        sizeof(t.output));
    v = sl_config_get(t.c.cfg, "rejected.topic");
    sl_kafka_topic_name(t.c.cfg, v && *v ? v : p->stage->dead_letter,
                        t.rejected, sizeof(t.rejected));
    if (!(t.out = sl_out_new((size_t)sl_config_int(t.c.cfg, "message.max.bytes") + 65536)) ||
        !(t.run_hdrs = calloc((size_t)SL_RUN_MAX * SL_MAX_MSG_HEADERS,
                              sizeof(*t.run_hdrs)))) {
        sl_error("runner", "out of memory");
        goto out;
    }

    t.max_attempts = sl_config_int(t.c.cfg, "message.max.attempts");
    t.retry_budget_ms = sl_config_int(t.c.cfg, "retry.budget.ms");
    t.dl.max_bytes = (size_t)sl_config_int(t.c.cfg, "dead_letter.max.bytes");
    t.dl.headers_max_bytes =
        (size_t)sl_config_int(t.c.cfg, "dead_letter.headers.max.bytes");
    t.dl.key_max_bytes = SL_DL_KEY_MAX;
    t.keep_blocked = sl_config_bool(t.c.cfg, "dead_letter.keep.blocked");
    if (t.max_attempts < 1 || t.retry_budget_ms < 0) {
        sl_error("runner", "message.max.attempts must be at least 1 and "
                 "retry.budget.ms not negative");
        code = 2;
        goto out;
    }
    if (!(t.attempts = sl_attempts_new(SL_ATTEMPTS_CAP))) {
        sl_error("runner", "out of memory");
        goto out;
    }

    if ((code = start_stage(&t.c, p->stage->name, p->init, &t.pctx)) != 0) {
        if (code == 3)
            code = 0;   /* stopped as asked before it started */
        goto out;
    }
    code = 1;
    if (!(t.producer = make_producer(&t, &bad_config, &err))) {
        sl_error("runner", "%s", err.msg);
        if (bad_config)
            code = 2;
        goto out;
    }
    {
        char mmb[32];
        size_t len = sizeof(mmb);
        long long max = 16777216;
        if (rd_kafka_conf_get(rd_kafka_conf(t.producer), "message.max.bytes",
                              mmb, &len) == RD_KAFKA_CONF_OK)
            max = atoll(mmb);
        t.produce_max = max > SL_DL_RECORD_OVERHEAD ?
                        (size_t)max - SL_DL_RECORD_OVERHEAD : 0;
        if (t.dl.max_bytes > t.produce_max)
            t.dl.max_bytes = t.produce_max;
    }
    warm_topics(&t);
    if (!(t.c.consumer = make_consumer(&t.c, txn_rebalance, &t, &err))) {
        sl_error("runner", "%s", err.msg);
        goto out;
    }
    if (subscribe(&t.c, &err) != SL_OK) {
        sl_error("runner", "%s", err.msg);
        goto out;
    }
    if (txn_begin(&t) != SL_OK)
        goto out;
    sl_info("runner", "%s: consuming %s (group %s) -> %s, rejects -> %s",
            p->stage->name, t.c.inputs[0], t.c.group, t.output, t.rejected);

    while (!stop_requested && !t.fatal) {
        size_t want, i;
        int r = SL_OK;
        rd_kafka_message_t *m;

        met_tick(&t.c, t.env_fail_since != 0);
        /* A run: what is already fetched, up to the batch's remainder.  A
         * revocation inside the poll drops what was gathered so far
         * (txn_rebalance), so t.run_n may go back to 0. */
        want = (size_t)(t.c.batch_size - t.in_batch);
        if (want > SL_RUN_MAX)
            want = SL_RUN_MAX;
        t.run_n = t.run_done = 0;
        for (int timeout = poll_wait_ms(&t.c, t.in_batch); t.run_n < want &&
             (m = rd_kafka_consumer_poll(t.c.consumer, timeout)); timeout = 0) {
            if (m->err) {
                if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                    sl_warn("runner", "consumer: %s", rd_kafka_message_errstr(m));
                if (m->err == RD_KAFKA_RESP_ERR__FATAL)
                    t.fatal = 1;
                rd_kafka_message_destroy(m);
                continue;
            }
            if (!t.txn_open) {   /* nothing may be processed outside one */
                rd_kafka_message_destroy(m);
                continue;
            }
            msg_view(m, &t.views[t.run_n], t.run_hdrs + t.run_n * SL_MAX_MSG_HEADERS);
            met_count(&t.c, t.c.met.in, t.views[t.run_n].topic);
            t.views[t.run_n].run_index = t.run_n;
            t.run[t.run_n++] = m;
        }
        if (t.run_n && !t.fatal) {
            if (t.in_batch == 0) {
                t.batch_start = sl_mono_ms();
                t.behind = -1;
            }
            t.in_batch += (int64_t)t.run_n;
            if (t.p->prepare && t.p->prepare(t.pctx, t.views, t.run_n) != SL_OK) {
                r = SL_EIO;   /* abort and retry the run */
                t.abort_env = 1;
            }
            for (i = 0; r == SL_OK && i < t.run_n && !t.fatal; i++) {
                double t0 = met_now();
                r = handle_message(&t, &t.views[i]);
                sl_metric_observe(t.c.met.proc_s, (const char *const[]){ t.c.stage },
                                  met_now() - t0);
                t.run_done = i + 1;
            }
            t.last_in = sl_mono_ms();   /* after the run: a pause starts now */
        }
        for (i = 0; i < t.run_n; i++)
            rd_kafka_message_destroy(t.run[i]);
        t.run_n = t.run_done = 0;
        if (t.fatal)
            break;
        if (r == SL_EIO) {
            txn_abort(&t);
            if (!t.fatal)
                abort_pause(&t);
            continue;
        }
        if (batch_ends(&t.c, t.in_batch, t.batch_start, t.last_in, &t.behind))
            txn_commit(&t);
    }
    sl_health_ready(t.c.met.health, 0, "stopping");

    if (!t.fatal) {
        txn_commit(&t);
        rd_kafka_consumer_close(t.c.consumer);   /* revokes: commits again if needed */
    }
    sl_info("runner", "%s: stopping: emitted %" PRIu64 ", rejected %" PRIu64
            ", routed %" PRIu64 ", quarantined %" PRIu64 ", aborted transactions %"
            PRIu64, p->stage->name, t.n_emit, t.n_reject, t.n_route, t.n_quarantined,
            t.n_aborts);
    code = t.fatal ? 1 : 0;
out:
    if (t.c.consumer)
        rd_kafka_destroy(t.c.consumer);
    if (t.producer)
        rd_kafka_destroy(t.producer);
    if (t.pctx)
        p->destroy(t.pctx);
    sl_out_destroy(t.out);
    sl_attempts_destroy(t.attempts);
    free(t.run_hdrs);
    met_destroy(&t.c);
    sl_config_destroy(t.c.cfg);
    return code;
}

/* ------------------------------------------------------------------ */
/* The sink loop: batches into a store that keeps its own offsets      */
/* ------------------------------------------------------------------ */

typedef struct sink_run {
    run_common c;
    const sl_sink *s;
    void *sctx;
    rd_kafka_message_t **batch;
    size_t n_batch;
    int64_t batch_start;
    int64_t last_in;         /* monotonic ms of the last message added */
    int behind;              /* batch_ends' verdict for the open batch */
    int fatal;
    int store_failing;       /* the last write or ping failed */
    int64_t next_ping;       /* monotonic ms of the next idle ping */
    uint64_t n_written, n_batches;
} sink_run;

static void sink_drop_batch(sink_run *r)
{
    for (size_t i = 0; i < r->n_batch; i++)
        rd_kafka_message_destroy(r->batch[i]);
    r->n_batch = 0;
}

/* Fills parts' offsets from the sink's store (-1 -> beginning), and logs
 * each partition's start as `what` (assigned, rewound): the stored offset,
 * or where a partition with nothing stored begins. */
static int sink_load(sink_run *r, rd_kafka_topic_partition_list_t *parts,
                     const char *what)
{
    sl_tp_offset *tps = calloc((size_t)parts->cnt + 1, sizeof(*tps));
    sl_err err = { "" };
    int rc;

    if (!tps)
        return SL_ENOMEM;
    for (int i = 0; i < parts->cnt; i++) {
        tps[i].topic = parts->elems[i].topic;
        tps[i].partition = parts->elems[i].partition;
        tps[i].offset = -1;
    }
    /* The store unavailable (commit's database): retried every second for
     * as long as it takes, as a failed write is.  This runs inside the
     * rebalance callback or the rewind, outside the main loop, so the loop's
     * duties are done here: the heartbeat (/health stays alive) and
     * readiness (/ready: environment_unavailable, not the empty assignment
     * a rebalance leaves until its offsets are known). */
    while ((rc = r->s->load_offsets(r->sctx, r->c.group, tps, (size_t)parts->cnt,
                                    &err)) == SL_EIO && !stop_requested) {
        sl_warn("runner", "loading stored offsets: %s; retrying", err.msg);
        r->store_failing = 1;
        for (int64_t end = sl_mono_ms() + 1000; !stop_requested && sl_mono_ms() < end; ) {
            met_tick(&r->c, 1);
            usleep(50 * 1000);
        }
    }
    if (rc == SL_OK) {
        for (int i = 0; i < parts->cnt; i++)
            parts->elems[i].offset = tps[i].offset >= 0 ? tps[i].offset
                                                        : RD_KAFKA_OFFSET_BEGINNING;
        resolve_logical(r->c.consumer, parts);
        for (int i = 0; i < parts->cnt; i++) {
            if (tps[i].offset >= 0)
                sl_info("runner", "%s %s/%d from stored offset %" PRId64, what,
                        parts->elems[i].topic, parts->elems[i].partition,
                        parts->elems[i].offset);
            else if (parts->elems[i].offset >= 0)
                sl_info("runner", "%s %s/%d: nothing stored, from its beginning "
                        "(offset %" PRId64 ")", what, parts->elems[i].topic,
                        parts->elems[i].partition, parts->elems[i].offset);
            else   /* not resolved: librdkafka asks the broker itself */
                sl_info("runner", "%s %s/%d: nothing stored, from its beginning",
                        what, parts->elems[i].topic, parts->elems[i].partition);
        }
    } else {
        sl_error("runner", "loading stored offsets: %s", err.msg);
    }
    free(tps);
    return rc;
}

/* Writes the batch; on a store failure rewinds to the stored offsets. */
static int sink_flush(sink_run *r)
{
    sl_msg *msgs = NULL;
    sl_header *hdrs = NULL;
    sl_tp_offset next[SL_MAX_TOPICS * 64];
    size_t n_next = 0;
    sl_err err = { "" };
    int64_t t0;
    int rc = SL_OK;

    if (!r->n_batch)
        return SL_OK;
    msgs = calloc(r->n_batch, sizeof(*msgs));
    hdrs = calloc(r->n_batch * SL_MAX_MSG_HEADERS, sizeof(*hdrs));
    if (!msgs || !hdrs) {
        rc = SL_ENOMEM;
        r->fatal = 1;
        goto out;
    }
    for (size_t i = 0; i < r->n_batch; i++) {
        const rd_kafka_message_t *m = r->batch[i];
        size_t j;
        msg_view(m, &msgs[i], hdrs + i * SL_MAX_MSG_HEADERS);
        for (j = 0; j < n_next; j++)
            if (next[j].partition == m->partition &&
                strcmp(next[j].topic, msgs[i].topic) == 0)
                break;
        if (j == n_next) {
            if (n_next == sizeof(next) / sizeof(next[0])) {
                sl_error("runner", "too many partitions in one batch");
                rc = SL_ERR;
                r->fatal = 1;
                goto out;
            }
            next[n_next].topic = msgs[i].topic;
            next[n_next].partition = m->partition;
            next[n_next].offset = m->offset + 1;
            n_next++;
        } else if (m->offset + 1 > next[j].offset) {
            next[j].offset = m->offset + 1;
        }
    }
    {
        /* Everything consumed is in this batch, so the consumer's position
         * is where the next batch starts; it can be past the last message
         * when transaction markers or aborted records followed it.  Storing
         * it keeps the reported lag at 0 once the stage has caught up. */
        rd_kafka_topic_partition_list_t *pl =
            rd_kafka_topic_partition_list_new((int)n_next);
        for (size_t j = 0; j < n_next; j++)
            rd_kafka_topic_partition_list_add(pl, next[j].topic, next[j].partition);
        if (!rd_kafka_position(r->c.consumer, pl))
            for (size_t j = 0; j < n_next && j < (size_t)pl->cnt; j++)
                if (pl->elems[j].offset > next[j].offset)
                    next[j].offset = pl->elems[j].offset;
        rd_kafka_topic_partition_list_destroy(pl);
    }
    t0 = sl_mono_ms();
    rc = r->s->write_batch(r->sctx, r->c.group, msgs, r->n_batch, next, n_next, &err);
    if (rc == SL_OK) {
        /* Informational only (lag tools): the store holds the truth. */
        rd_kafka_topic_partition_list_t *l =
            rd_kafka_topic_partition_list_new((int)n_next);
        for (size_t j = 0; j < n_next; j++)
            rd_kafka_topic_partition_list_add(l, next[j].topic,
                                              next[j].partition)->offset = next[j].offset;
        rd_kafka_commit(r->c.consumer, l, 1);
        met_committed_list(&r->c, l);
        rd_kafka_topic_partition_list_destroy(l);
        {
            const char *const st[] = { r->c.stage };
            sl_metric_add(r->c.met.txns, st, 1);
            sl_metric_observe(r->c.met.batch, st, (double)r->n_batch);
            sl_metric_observe(r->c.met.txn_s, st,
                              (double)(sl_mono_ms() - r->batch_start) / 1000.0);
        }
        r->store_failing = 0;
        r->n_written += r->n_batch;
        r->n_batches++;
        sl_debug("runner", "wrote batch of %zu messages (first one %" PRId64
                 " ms before the write began, which took %" PRId64 " ms)",
                 r->n_batch, t0 - r->batch_start, sl_mono_ms() - t0);
    } else if (rc == SL_EIO) {
        rd_kafka_topic_partition_list_t *a = NULL;
        sl_warn("runner", "store write failed, rewinding: %s", err.msg);
        met_count(&r->c, r->c.met.aborts, NULL);
        met_count(&r->c, r->c.met.retries, "environment");
        r->store_failing = 1;
        if (!rd_kafka_assignment(r->c.consumer, &a) && a && a->cnt &&
            sink_load(r, a, "rewound") == SL_OK) {
            rd_kafka_error_t *e = rd_kafka_seek_partitions(r->c.consumer, a, -1);
            if (e) {
                sl_error("runner", "rewind: %s", rd_kafka_error_string(e));
                rd_kafka_error_destroy(e);
                r->fatal = 1;
            }
        }
        if (a)
            rd_kafka_topic_partition_list_destroy(a);
        sleep(1);
    } else {
        sl_error("runner", "store write failed: %s", err.msg);
        r->fatal = 1;
    }
out:
    sink_drop_batch(r);
    free(msgs);
    free(hdrs);
    return rc;
}

static void sink_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    sink_run *r = opaque;

    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (sink_load(r, parts, "assigned") != SL_OK) {
            r->fatal = 1;
            rd_kafka_assign(rk, NULL);
            return;
        }
        met_count(&r->c, r->c.met.rebalances, "assign");
        met_committed_list(&r->c, parts);
        rd_kafka_assign(rk, parts);
        return;
    }
    met_count(&r->c, r->c.met.rebalances, rd_kafka_assignment_lost(rk) ? "lost" : "revoke");
    if (rd_kafka_assignment_lost(rk)) {
        sl_warn("runner", "assignment lost: dropping %zu unwritten messages",
                r->n_batch);
        sink_drop_batch(r);
    } else if (!r->fatal) {
        sink_flush(r);
    }
    rd_kafka_assign(rk, NULL);
}

/* While no batch is open, asks the store every SL_PING_MS whether it
 * answers, so /ready sees a database gone while the stage is idle. */
static void sink_ping(sink_run *r)
{
    int64_t now = sl_mono_ms();
    sl_err err = { "" };

    if (!r->s->ping || r->n_batch || now < r->next_ping)
        return;
    r->next_ping = now + SL_PING_MS;
    if (r->s->ping(r->sctx, &err) == SL_OK) {
        r->store_failing = 0;
    } else {
        if (!r->store_failing)
            sl_warn("runner", "%s: store check failed: %s", r->c.stage, err.msg);
        r->store_failing = 1;
    }
}

int sl_sink_main(const sl_sink *s, int argc, char **argv)
{
    sink_run r;
    sl_err err = { "" };
    int code;

    memset(&r, 0, sizeof(r));
    r.s = s;
    code = common_config(&r.c, s->stage, s->config_map, argc, argv);
    if (code == 100) {
        code = 0;
        goto out;
    }
    if (code)
        goto out;
    code = 1;
    install_signals();
    if (!(r.batch = calloc((size_t)r.c.batch_size, sizeof(*r.batch))))
        goto out;
    if ((code = start_stage(&r.c, s->stage->name, s->init, &r.sctx)) != 0) {
        if (code == 3)
            code = 0;   /* stopped as asked before it started */
        goto out;
    }
    code = 1;
    if (s->metrics && s->metrics(r.sctx, r.c.met.reg, &err) != SL_OK) {
        sl_error("runner", "%s: metrics: %s", s->stage->name, err.msg);
        goto out;
    }
    if (!(r.c.consumer = make_consumer(&r.c, sink_rebalance, &r, &err)) ||
        subscribe(&r.c, &err) != SL_OK) {
        sl_error("runner", "%s", err.msg);
        goto out;
    }
    sl_info("runner", "%s: consuming %zu topics (group %s)", s->stage->name,
            r.c.n_inputs, r.c.group);

    while (!stop_requested && !r.fatal) {
        rd_kafka_message_t *m =
            rd_kafka_consumer_poll(r.c.consumer,
                                   poll_wait_ms(&r.c, (int64_t)r.n_batch));

        if (m) {
            if (m->err) {
                if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                    sl_warn("runner", "consumer: %s", rd_kafka_message_errstr(m));
                if (m->err == RD_KAFKA_RESP_ERR__FATAL)
                    r.fatal = 1;
                rd_kafka_message_destroy(m);
            } else {
                if (r.n_batch == 0) {
                    r.batch_start = sl_mono_ms();
                    r.behind = -1;
                }
                met_count(&r.c, r.c.met.in, rd_kafka_topic_name(m->rkt));
                r.batch[r.n_batch++] = m;
                r.last_in = sl_mono_ms();
            }
        }
        if (batch_ends(&r.c, (int64_t)r.n_batch, r.batch_start, r.last_in, &r.behind))
            sink_flush(&r);
        sink_ping(&r);
        met_tick(&r.c, r.store_failing);
    }
    sl_health_ready(r.c.met.health, 0, "stopping");
    if (!r.fatal) {
        sink_flush(&r);
        rd_kafka_consumer_close(r.c.consumer);
    }
    sink_drop_batch(&r);
    sl_info("runner", "%s: stopping: wrote %" PRIu64 " messages in %" PRIu64
            " batches", s->stage->name, r.n_written, r.n_batches);
    code = r.fatal ? 1 : 0;
out:
    if (r.c.consumer)
        rd_kafka_destroy(r.c.consumer);
    if (r.sctx)
        s->destroy(r.sctx);
    free(r.batch);
    met_destroy(&r.c);
    sl_config_destroy(r.c.cfg);
    return code;
}
