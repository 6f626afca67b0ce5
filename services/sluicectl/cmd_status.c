/*
 * cmd_status.c -- `sluicectl status`: what the pipeline has done and how far
 * behind each stage is.
 *
 * From PostgreSQL: samples by status, rejections by stage and code, totals.
 * Consumer lag per stage: the transactional stages (validate, scan, license)
 * keep their offsets in Kafka, read with rd_kafka_committed() by a client
 * carrying the stage's group.id that never subscribes; the commit stage keeps
 * them in PostgreSQL (consumer_offsets), the source of truth for a sink.
 * Both are compared with the topics' high watermarks.
 *
 * Everything is gathered into one JSON document first; the text output is
 * rendered from it.  A part that cannot be read (database or broker down) is
 * reported on stderr and the rest is still shown; the exit code is then 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl/kafka.h"
#include "sl/kafka_admin.h"
#include "ctl.h"

static const char status_usage[] =
    "usage: sluicectl status [--json]\n"
    "Show sample counts by status, rejections by stage and code, and each\n"
    "stage's consumer lag (committed offsets vs high watermarks; for the\n"
    "commit stage, the offsets it stored in PostgreSQL).  Topics that do not\n"
    "exist are skipped.  --json: one JSON object.\n";

/* The stages, their groups and the topics they consume: the rows of
 * sl/topology.h (transactional ones keep offsets in Kafka, the sink in
 * PostgreSQL). */

typedef struct status {
    ctl *c;
    int timeout_ms;
    json_t *doc;          /* the output */
    json_t *errors;       /* array of strings */
    json_t *lag;          /* array of stages, added to doc last */
    int kafka_down;       /* metadata failed once: skip the other stages */
    int oom;
} status;

static void note_error(status *s, const char *fmt, const char *detail)
{
    char msg[SL_ERRBUF_SIZE + 128];

    snprintf(msg, sizeof(msg), fmt, detail);
    if (json_array_append_new(s->errors, json_string(msg)) != 0)
        s->oom = 1;
}

static json_int_t as_int(const char *v)
{
    return (json_int_t)strtoll(v, NULL, 10);
}

/* ---- PostgreSQL ----------------------------------------------------------- */

static int pg_counts(status *s, PGconn *pg)
{
    json_t *by_status = json_object(), *by_code = json_array(), *by_state = NULL;
    json_int_t ns = 0, nr = 0, nv = 0;
    PGresult *r = NULL;
    int rc = SL_ERR;

    if (!by_status || !by_code)
        goto out;
    if (!(r = ctl_pg_query(pg, "status: counting samples",
            "SELECT status, count(*) FROM samples GROUP BY status"
            " ORDER BY status", 0, NULL, NULL, NULL)))
        goto out;
    for (int i = 0; i < PQntuples(r); i++) {
        json_int_t n = as_int(PQgetvalue(r, i, 1));
        ns += n;
        if (json_object_set_new(by_status, PQgetvalue(r, i, 0),
                                json_integer(n)))
            goto out;
    }
    PQclear(r);
    if (!(r = ctl_pg_query(pg, "status: counting rejections",
            "SELECT stage, code, count(*) FROM rejections"
            " GROUP BY stage, code ORDER BY stage, code", 0, NULL, NULL, NULL)))
        goto out;
    for (int i = 0; i < PQntuples(r); i++) {
        json_int_t n = as_int(PQgetvalue(r, i, 2));
        nr += n;
        if (json_array_append_new(by_code, json_pack("{s:s, s:s, s:I}",
                "stage", PQgetvalue(r, i, 0), "code", PQgetvalue(r, i, 1),
                "count", n)))
            goto out;
    }
    PQclear(r);
    /* Samples the scan stage flagged, waiting for (or past) a moderator. */
    if (!(by_state = json_object()) ||
        !(r = ctl_pg_query(pg, "status: counting review items",
            "SELECT state, count(*) FROM review_items GROUP BY state"
            " ORDER BY state", 0, NULL, NULL, NULL)))
        goto out;
    for (int i = 0; i < PQntuples(r); i++) {
        json_int_t n = as_int(PQgetvalue(r, i, 1));
        nv += n;
        if (json_object_set_new(by_state, PQgetvalue(r, i, 0), json_integer(n)))
            goto out;
    }
    if (json_object_set_new(s->doc, "samples", json_pack("{s:O, s:I}",
            "by_status", by_status, "total", ns)) ||
        json_object_set_new(s->doc, "rejections", json_pack("{s:O, s:I}",
            "by_stage_code", by_code, "total", nr)) ||
        json_object_set_new(s->doc, "review_items", json_pack("{s:O, s:I}",
            "by_state", by_state, "total", nv)) ||
        json_object_set_new(s->doc, "total", json_integer(ns + nr + nv)))
        goto out;
    rc = SL_OK;
out:
    PQclear(r);
    json_decref(by_status);
    json_decref(by_code);
    json_decref(by_state);
    return rc;
}

/* ---- lag ------------------------------------------------------------------ */

/* One topic's lag entry from committed[0..nparts) (-1: none). */
static json_t *topic_lag(status *s, rd_kafka_t *rk, const char *topic,
                         int nparts, const int64_t *committed, json_int_t *sum)
{
    sl_kafka_part_lag *pl = calloc((size_t)nparts, sizeof(*pl));
    json_t *parts = json_array(), *t = NULL;
    json_int_t total = 0;
    sl_err err;

    if (!pl || !parts) {
        s->oom = 1;
        goto out;
    }
    if (sl_kafka_lag(rk, topic, nparts, committed, s->timeout_ms, pl, &err)
        != SL_OK) {
        note_error(s, "status: %s", err.msg);
        goto out;
    }
    for (int p = 0; p < nparts; p++) {
        json_t *o = json_pack("{s:i, s:I, s:I, s:I}",
                              "partition", (int)pl[p].partition,
                              "committed", (json_int_t)pl[p].committed,
                              "high", (json_int_t)pl[p].high,
                              "lag", (json_int_t)pl[p].lag);
        if ((o && pl[p].committed < 0 &&
             json_object_set_new(o, "committed", json_null())) ||
            json_array_append_new(parts, o)) {
            s->oom = 1;
            goto out;
        }
        total += pl[p].lag;
    }
    if (!(t = json_pack("{s:s, s:I, s:O}", "topic", topic, "lag", total,
                        "partitions", parts)))
        s->oom = 1;
    else
        *sum += total;
out:
    json_decref(parts);
    free(pl);
    return t;
}

/* Adds {stage, group, offsets, topics, lag} to the doc's lag array. */
static int add_stage(status *s, const char *stage, const char *group,
                     const char *store, json_t *topics, json_int_t lag)
{
    if (json_array_append_new(s->lag, json_pack("{s:s, s:s, s:s, s:O, s:I}",
            "stage", stage, "group", group, "offsets", store,
            "topics", topics, "lag", lag))) {
        s->oom = 1;
        return SL_ENOMEM;
    }
    return SL_OK;
}

/* One input topic of a transactional stage: its lag appended to topics
 * and added to *sum.  SL_OK; SL_ENOTFOUND when the group never committed
 * on it; SL_ERR after noting why. */
static int kafka_topic_lag(status *s, rd_kafka_t *rk, const char *topic,
                           json_t *topics, json_int_t *sum)
{
    int64_t *committed = NULL;
    json_t *t;
    int nparts = 0, rc = SL_ERR, any = 0;
    sl_err err;

    if (sl_kafka_topic_partitions(rk, topic, s->timeout_ms, &nparts, &err)
        != SL_OK) {
        note_error(s, "status: Kafka: %s", err.msg);
        s->kafka_down = 1;
        return SL_ERR;
    }
    if (nparts <= 0)
        return SL_OK;
    if (!(committed = malloc((size_t)nparts * sizeof(*committed)))) {
        s->oom = 1;
        return SL_ERR;
    }
    for (int p = 0; p < nparts; p++)
        committed[p] = -1;
    if (sl_kafka_committed(rk, topic, nparts, s->timeout_ms, committed,
                           &err) != SL_OK) {
        note_error(s, "status: %s", err.msg);
        goto out;
    }
    for (int p = 0; p < nparts; p++)
        any |= committed[p] >= 0;
    if (!any) {
        rc = SL_ENOTFOUND;
        goto out;
    }
    if (!(t = topic_lag(s, rk, topic, nparts, committed, sum)))
        goto out;
    if (json_array_append_new(topics, t)) {
        s->oom = 1;
        goto out;
    }
    rc = SL_OK;
out:
    free(committed);
    return rc;
}

static void kafka_stage_lag(status *s, const sl_topo_stage *ks)
{
    char group[SL_KAFKA_NAME_MAX], topic[SL_KAFKA_NAME_MAX];
    rd_kafka_t *rk = NULL;
    json_t *topics = json_array();
    json_int_t sum = 0;
    size_t uncommitted = 0, n = sl_topology_count(ks->inputs);
    sl_err err;

    (void)sl_topology_group(sl_config_get(s->c->cfg, "topic.prefix"), ks,
                            group, sizeof(group));
    if (!topics) {
        s->oom = 1;
        goto out;
    }
    if (!(rk = sl_kafka_offsets_client_new(s->c->cfg, group, &err))) {
        note_error(s, "status: %s", err.msg);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        int r;
        sl_kafka_topic_name(s->c->cfg, ks->inputs[i], topic, sizeof(topic));
        if ((r = kafka_topic_lag(s, rk, topic, topics, &sum)) == SL_ERR)
            goto out;
        uncommitted += r == SL_ENOTFOUND;
    }
    /* A stage that never committed is not deployed (yet): leave it out
     * rather than report the whole topic as its lag. */
    if (uncommitted && json_array_size(topics) == 0)
        goto out;
    add_stage(s, ks->name, group, "kafka", topics, sum);
out:
    json_decref(topics);
    if (rk)
        rd_kafka_destroy(rk);
}

/* Topic names the commit stage reads: the defaults plus any it stored. */
typedef struct name_set {
    char (*v)[SL_KAFKA_NAME_MAX];
    size_t n, cap;
} name_set;

static int name_add(name_set *ns, const char *name)
{
    for (size_t i = 0; i < ns->n; i++)
        if (strcmp(ns->v[i], name) == 0)
            return SL_OK;
    if (ns->n == ns->cap) {
        size_t ncap = ns->cap ? 2 * ns->cap : 8;
        void *p = realloc(ns->v, ncap * sizeof(*ns->v));
        if (!p)
            return SL_ENOMEM;
        ns->v = p;
        ns->cap = ncap;
    }
    snprintf(ns->v[ns->n++], SL_KAFKA_NAME_MAX, "%s", name);
    return SL_OK;
}

static void commit_stage_lag(status *s, PGconn *pg, const sl_topo_stage *cs)
{
    char group[SL_KAFKA_NAME_MAX], name[SL_KAFKA_NAME_MAX];
    name_set topics = { 0 };
    rd_kafka_t *rk = NULL;
    PGresult *r = NULL;
    int64_t *committed = NULL;
    json_t *out_topics = json_array(), *t;
    json_int_t sum = 0;
    sl_err err;

    (void)sl_topology_group(sl_config_get(s->c->cfg, "topic.prefix"), cs,
                            group, sizeof(group));
    if (!out_topics) {
        s->oom = 1;
        goto out;
    }
    for (size_t i = 0; cs->inputs[i]; i++) {
        sl_kafka_topic_name(s->c->cfg, cs->inputs[i], name, sizeof(name));
        if (name_add(&topics, name) != SL_OK) {
            s->oom = 1;
            goto out;
        }
    }
    {
        const char *vals[1] = { group };
        if (!(r = ctl_pg_query(pg, "status: reading consumer_offsets",
                "SELECT topic, partition, next_offset FROM consumer_offsets"
                " WHERE group_id = $1 ORDER BY topic, partition",
                1, vals, NULL, NULL))) {
            note_error(s, "%s", "status: commit stage offsets unavailable "
                       "(see above)");
            goto out;
        }
    }
    for (int i = 0; i < PQntuples(r); i++)
        if (name_add(&topics, PQgetvalue(r, i, 0)) != SL_OK) {
            s->oom = 1;
            goto out;
        }
    if (!(rk = sl_kafka_offsets_client_new(s->c->cfg, NULL, &err))) {
        note_error(s, "status: %s", err.msg);
        goto out;
    }
    for (size_t ti = 0; ti < topics.n; ti++) {
        int nparts = 0;
        if (sl_kafka_topic_partitions(rk, topics.v[ti], s->timeout_ms, &nparts,
                                      &err) != SL_OK) {
            note_error(s, "status: Kafka: %s", err.msg);
            s->kafka_down = 1;
            goto out;
        }
        if (nparts <= 0)
            continue;
        free(committed);
        if (!(committed = malloc((size_t)nparts * sizeof(*committed)))) {
            s->oom = 1;
            goto out;
        }
        for (int p = 0; p < nparts; p++)
            committed[p] = -1;
        for (int i = 0; i < PQntuples(r); i++) {
            long p = strtol(PQgetvalue(r, i, 1), NULL, 10);
            if (strcmp(PQgetvalue(r, i, 0), topics.v[ti]) == 0 && p >= 0 &&
                p < nparts)
                committed[p] = strtoll(PQgetvalue(r, i, 2), NULL, 10);
        }
        if (!(t = topic_lag(s, rk, topics.v[ti], nparts, committed, &sum)))
            goto out;
        if (json_array_append_new(out_topics, t)) {
            s->oom = 1;
            goto out;
        }
    }
    add_stage(s, cs->name, group, "postgresql", out_topics, sum);
out:
    json_decref(out_topics);
    free(committed);
    free(topics.v);
    PQclear(r);
    if (rk)
        rd_kafka_destroy(rk);
}

/* ---- text output ---------------------------------------------------------- */

static int print_text(const json_t *doc)
{
    const json_t *samples = json_object_get(doc, "samples");
    const json_t *rej = json_object_get(doc, "rejections");
    const json_t *lag = json_object_get(doc, "lag");
    static const char *const h_s[] = { "STATUS", ">COUNT" };
    static const char *const h_r[] = { "STAGE", "CODE", ">COUNT" };
    static const char *const h_l[] = { "STAGE", "GROUP", "OFFSETS IN", ">LAG" };
    static const char *const h_p[] = { "STAGE", "TOPIC", ">PARTITION",
                                       ">COMMITTED", ">HIGH", ">LAG" };
    ctl_table *ts = ctl_table_new(2, h_s), *tr = ctl_table_new(3, h_r);
    ctl_table *tl = ctl_table_new(4, h_l), *tp = ctl_table_new(6, h_p);
    const char *key;
    const json_t *v;
    size_t i, j, k;
    char n1[32], n2[32], n3[32], n4[32];
    int rc = CTL_FAIL;

    if (!ts || !tr || !tl || !tp)
        goto out;
    if (samples) {
        json_object_foreach((json_t *)json_object_get(samples, "by_status"),
                            key, v) {
            snprintf(n1, sizeof(n1), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            if (ctl_table_add(ts, (const char *[]){ key, n1 }) != SL_OK)
                goto out;
        }
        snprintf(n1, sizeof(n1), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(samples, "total")));
        if (ctl_table_add(ts, (const char *[]){ "total", n1 }) != SL_OK)
            goto out;
        printf("samples\n");
        ctl_table_print(ts, stdout, "  ");
    }
    if (rej) {
        json_array_foreach(json_object_get(rej, "by_stage_code"), i, v) {
            snprintf(n1, sizeof(n1), "%" JSON_INTEGER_FORMAT,
                     json_integer_value(json_object_get(v, "count")));
            if (ctl_table_add(tr, (const char *[]){
                    json_string_value(json_object_get(v, "stage")),
                    json_string_value(json_object_get(v, "code")), n1 })
                != SL_OK)
                goto out;
        }
        snprintf(n1, sizeof(n1), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(rej, "total")));
        if (ctl_table_add(tr, (const char *[]){ "total", "", n1 }) != SL_OK)
            goto out;
        printf("\nrejections\n");
        ctl_table_print(tr, stdout, "  ");
        {
            const json_t *rv = json_object_get(doc, "review_items");
            const char *state;
            json_t *n;
            printf("\nreview items (flagged by scan): %" JSON_INTEGER_FORMAT,
                   json_integer_value(json_object_get(rv, "total")));
            ctl_esc e = { 0 };
            json_object_foreach((json_t *)json_object_get(rv, "by_state"), state, n)
                printf(", %s %" JSON_INTEGER_FORMAT, ctl_e(&e, state),
                       json_integer_value(n));
            ctl_esc_free(&e);
            printf("\n");
        }
        printf("\ntotal (samples + rejections + review items): %" JSON_INTEGER_FORMAT "\n",
               json_integer_value(json_object_get(doc, "total")));
    }
    json_array_foreach(lag, i, v) {
        const char *stage = json_string_value(json_object_get(v, "stage"));
        const json_t *t;
        snprintf(n1, sizeof(n1), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(v, "lag")));
        if (ctl_table_add(tl, (const char *[]){ stage,
                json_string_value(json_object_get(v, "group")),
                json_string_value(json_object_get(v, "offsets")), n1 })
            != SL_OK)
            goto out;
        json_array_foreach(json_object_get(v, "topics"), j, t) {
            const json_t *p;
            json_array_foreach(json_object_get(t, "partitions"), k, p) {
                const json_t *cm = json_object_get(p, "committed");
                snprintf(n1, sizeof(n1), "%" JSON_INTEGER_FORMAT,
                         json_integer_value(json_object_get(p, "partition")));
                if (json_is_integer(cm))
                    snprintf(n2, sizeof(n2), "%" JSON_INTEGER_FORMAT,
                             json_integer_value(cm));
                else
                    snprintf(n2, sizeof(n2), "-");
                snprintf(n3, sizeof(n3), "%" JSON_INTEGER_FORMAT,
                         json_integer_value(json_object_get(p, "high")));
                snprintf(n4, sizeof(n4), "%" JSON_INTEGER_FORMAT,
                         json_integer_value(json_object_get(p, "lag")));
                if (ctl_table_add(tp, (const char *[]){ stage,
                        json_string_value(json_object_get(t, "topic")),
                        n1, n2, n3, n4 }) != SL_OK)
                    goto out;
            }
        }
    }
    if (ctl_table_rows(tl)) {
        printf("\nconsumer lag\n");
        ctl_table_print(tl, stdout, "  ");
    }
    if (ctl_table_rows(tp)) {
        printf("\nper partition\n");
        ctl_table_print(tp, stdout, "  ");
    }
    rc = CTL_OK;
out:
    ctl_table_destroy(ts);
    ctl_table_destroy(tr);
    ctl_table_destroy(tl);
    ctl_table_destroy(tp);
    return rc == CTL_OK ? CTL_OK : ctl_fail("out of memory");
}

int ctl_cmd_status(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG, { "json", no_argument, NULL, 'j' }, { 0 }
    };
    status s = { c, 0, NULL, NULL, NULL, 0, 0 };
    PGconn *pg = NULL;
    int json = 0, opt, rc;
    size_t i;
    json_t *e;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             "status", status_usage)) != -1) {
        if (opt == 'j')
            json = 1;
        else
            return ctl_getopt_exit(opt);
    }
    if (optind < argc)
        return ctl_usage_error("status", "unexpected argument \"%s\"",
                               argv[optind]);
    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    s.timeout_ms = (int)sl_config_int(c->cfg, "timeout.ms");
    if (!(s.doc = json_object()) || !(s.errors = json_array()) ||
        !(s.lag = json_array())) {
        rc = ctl_fail("out of memory");
        goto out;
    }
    /* errors from ctl_pg_connect / ctl_pg_query are printed as they happen */
    if (!(pg = ctl_pg_connect(c)))
        note_error(&s, "%s", "status: PostgreSQL unavailable");
    else if (pg_counts(&s, pg) != SL_OK)
        note_error(&s, "%s", "status: counts unavailable");
    for (i = 0; i < SL_STAGE_COUNT && !s.kafka_down; i++) {
        const sl_topo_stage *st = &sl_topology_stages[i];
        if (sl_topology_count(st->inputs) == 0)
            continue;           /* a producer only (review): no lag */
        if (st->transactional)
            kafka_stage_lag(&s, st);
        else if (pg)
            commit_stage_lag(&s, pg, st);
    }
    if (s.oom || json_object_set(s.doc, "lag", s.lag)) {
        rc = ctl_fail("out of memory");
        goto out;
    }
    if (json) {
        if (json_array_size(s.errors) &&
            json_object_set(s.doc, "errors", s.errors)) {
            rc = ctl_fail("out of memory");
            goto out;
        }
        rc = ctl_print_json(s.doc);
        s.doc = NULL;
    } else {
        rc = print_text(s.doc);
    }
    json_array_foreach(s.errors, i, e)
        fprintf(stderr, "sluicectl: %s\n", json_string_value(e));
    if (rc == CTL_OK && json_array_size(s.errors))
        rc = CTL_FAIL;
out:
    json_decref(s.doc);
    json_decref(s.errors);
    json_decref(s.lag);
    PQfinish(pg);
    return rc;
}
