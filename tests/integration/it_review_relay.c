/*
 * it_review_relay.c -- the review service's decision and relay, as the
 * reentry integration tests (test_reentry*.sh) need them before the
 * service itself exists: a test tool, not a service.
 *
 *   it-review-relay approve|redact|reject UPLOAD_ID [--reason CODE]
 *       [--note TEXT] [--forge] [--times N] [--pause-ms MS] [--key FILE]
 *       [--scan-header JSON]
 *
 * The decision, in one transaction as the contract describes it
 * (schemas/README.md, "Review"): lock the review item, set its
 * state, append the review event built by sl_review_event_append() to the
 * stored chain (owner review), and seal the chain's new head with an
 * operator key (--key, registered in audit_keys) as takedown does.  Then
 * the relay's message, built from the same rows by
 * sl_review_message_build(): approve / redact to sluice.reviewed (value the
 * stored bytes or sl_redact_stored() of them), reject as a dead letter on
 * sluice.rejected.  --times N sends that same
 * message N times (a relay killed between sending and marking it sent),
 * --pause-ms apart.  --forge sends a message with a review event built on
 * the flagged chain (the events before any decision) and rolls the
 * decision back: a forged approval, of a pending item or over a real one.
 * --scan-header sends that sluice-scan in place of the stored findings.
 *
 * Environment: SLUICE_PG_DSN (the database, as its owner), SLUICE_CONFIG
 * (Kafka credentials, kafka.* keys), SLUICE_KAFKA_BROKERS,
 * SLUICE_TOPIC_PREFIX.  Exit 0 on success, 1 with a message otherwise.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>

#include "sl/audit.h"
#include "sl/config.h"
#include "sl/crypto.h"
#include "sl/kafka.h"
#include "sl/msg.h"
#include "sl/pg.h"
#include "sl/review_event.h"
#include "sl/topology.h"
#include "redact_stored.h"

static const sl_cfg_entry map[] = {
    { SL_CFG_STR, "topic.prefix", "", "topic name prefix" },
    SL_CFG_END
};

#define MAX_HEADERS 16

typedef struct message {
    char topic[300];
    const char *key;
    const void *value;
    size_t len;
    const char *hname[MAX_HEADERS];
    char *hval[MAX_HEADERS];
    size_t nh;
} message;

static int die(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "it-review-relay: ");
    fprintf(stderr, fmt, a ? a : "", b ? b : "");
    fputc('\n', stderr);
    return 1;
}

static void header(message *m, const char *name, const char *val)
{
    m->hname[m->nh] = name;
    m->hval[m->nh] = strdup(val);
    if (!m->hval[m->nh]) {
        fprintf(stderr, "it-review-relay: out of memory\n");
        exit(1);
    }
    m->nh++;
}

static PGresult *query(PGconn *pg, const char *sql, int n, const char *const *p,
                       int binary)
{
    PGresult *r = PQexecParams(pg, sql, n, NULL, p, NULL, NULL, binary);

    if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "it-review-relay: %s: %s", sql, PQerrorMessage(pg));
        PQclear(r);
        return NULL;
    }
    return r;
}

/* Seals the review chain's new head with the operator key at path. */
static int seal(PGconn *pg, const char *path, const char *id, int64_t seq,
                const char *hash)
{
    sl_audit_signer *signer = NULL;
    sl_audit_headref ref = { "review", id, seq, hash };
    char sig[SL_AUDIT_SIG_HEX], seal_id[24], seqtxt[24];
    PGresult *r;
    sl_err err = { "" };
    int rc = 1;

    if (sl_audit_signer_open(path, 1, &signer, &err) != SL_OK)
        return die("audit key: %s%s", err.msg, NULL);
    {
        const char *p[1] = { sl_audit_signer_key_id(signer) };
        if (!(r = query(pg, "INSERT INTO audit_keys (key_id, purpose) VALUES ($1,"
                        " 'operator') ON CONFLICT (key_id) DO NOTHING", 1, p, 0)))
            goto out;
        PQclear(r);
    }
    if (!(r = query(pg, "SELECT nextval(pg_get_serial_sequence('head_seals',"
                    " 'seal_id'))", 0, NULL, 0)))
        goto out;
    snprintf(seal_id, sizeof(seal_id), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    if (sl_audit_seal_sign(signer, strtoll(seal_id, NULL, 10), &ref, 1, sig) != SL_OK)
        goto out;
    snprintf(seqtxt, sizeof(seqtxt), "%" PRId64, seq);
    {
        const char *p[3] = { seal_id, sl_audit_signer_key_id(signer), sig };
        if (!(r = query(pg, "INSERT INTO head_seals (seal_id, key_id, n_heads,"
                        " signature) VALUES ($1, $2, 1, $3)", 3, p, 0)))
            goto out;
        PQclear(r);
    }
    {
        const char *p[4] = { id, seqtxt, hash, seal_id };
        if (!(r = query(pg, "INSERT INTO chain_heads (owner_kind, owner_id, seq,"
                        " head_hash, seal_id) VALUES ('review', $1, $2, $3, $4)",
                        4, p, 0)))
            goto out;
        PQclear(r);
    }
    rc = 0;
out:
    sl_audit_signer_destroy(signer);
    return rc;
}

static int send_times(const sl_config *cfg, const message *m, int times,
                      int pause_ms)
{
    static const char *const defaults[] = { "acks", "all", NULL };
    char errstr[512];
    sl_err err = { "" };
    rd_kafka_conf_t *conf = sl_kafka_conf(cfg, defaults, &err);
    rd_kafka_t *rk;
    int rc = 0;

    if (!conf)
        return die("kafka: %s%s", err.msg, NULL);
    if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)))) {
        rd_kafka_conf_destroy(conf);
        return die("kafka: %s%s", errstr, NULL);
    }
    for (int t = 0; t < times && rc == 0; t++) {
        rd_kafka_headers_t *h = rd_kafka_headers_new(m->nh);
        rd_kafka_resp_err_t e;
        for (size_t i = 0; i < m->nh; i++)
            rd_kafka_header_add(h, m->hname[i], -1, m->hval[i], -1);
        e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(m->topic),
                              RD_KAFKA_V_KEY(m->key, strlen(m->key)),
                              RD_KAFKA_V_VALUE((void *)m->value, m->len),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
        if (e) {
            rd_kafka_headers_destroy(h);
            rc = die("produce: %s%s", rd_kafka_err2str(e), NULL);
        } else if ((e = rd_kafka_flush(rk, 30000))) {
            rc = die("flush: %s%s", rd_kafka_err2str(e), NULL);
        }
        if (rc == 0 && pause_ms > 0 && t + 1 < times) {
            struct timespec ts = { pause_ms / 1000, (long)(pause_ms % 1000) * 1000000L };
            nanosleep(&ts, NULL);
        }
    }
    rd_kafka_destroy(rk);
    return rc;
}

int main(int argc, char **argv)
{
    const char *action, *id, *reason = NULL, *note = "", *key = "review-audit.key";
    const char *scan_header = NULL;
    int forge = 0, times = 1, pause_ms = 0, rc = 1;
    sl_config *cfg = sl_config_new();
    PGconn *pg = NULL;
    PGresult *item = NULL, *content = NULL, *evs = NULL, *r;
    sl_review_stored *rows = NULL;
    sl_buf prov, canon, value;
    sl_review_appended app;
    sl_rules *rules = NULL;
    message m = { .nh = 0 };
    sl_review_message rm = { 0 };
    char sent[SL_SHA256_HEX];
    const char *outcome;
    sl_err err = { "" };

    sl_buf_init(&prov, 1 << 24);
    sl_buf_init(&canon, 1 << 20);
    sl_buf_init(&value, 1 << 26);
    if (argc < 3)
        return die("usage: it-review-relay approve|redact|reject UPLOAD_ID "
                   "[--reason CODE] [--note TEXT] [--forge] [--times N] "
                   "[--pause-ms MS] [--key FILE]%s%s", NULL, NULL);
    action = argv[1];
    id = argv[2];
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--forge"))
            forge = 1;
        else if (i + 1 < argc && !strcmp(argv[i], "--reason"))
            reason = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "--note"))
            note = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "--times"))
            times = atoi(argv[++i]);
        else if (i + 1 < argc && !strcmp(argv[i], "--pause-ms"))
            pause_ms = atoi(argv[++i]);
        else if (i + 1 < argc && !strcmp(argv[i], "--key"))
            key = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "--scan-header"))
            scan_header = argv[++i];
        else
            return die("unknown argument %s%s", argv[i], NULL);
    }
    outcome = !strcmp(action, "approve") ? "approved" : !strcmp(action, "redact") ?
              "redacted" : !strcmp(action, "reject") ? "rejected" : NULL;
    if (!outcome)
        return die("action %s is not approve, redact or reject%s", action, NULL);
    if (!reason)
        reason = !strcmp(action, "reject") ? "confirmed_pii" : "false_positive";
    if (!cfg || sl_config_declare(cfg, map) != SL_OK ||
        (getenv("SLUICE_CONFIG") && *getenv("SLUICE_CONFIG") &&
         sl_config_load_file(cfg, getenv("SLUICE_CONFIG"), &err) != SL_OK) ||
        sl_config_load_env(cfg, &err) != SL_OK)
        return die("config: %s%s", err.msg, NULL);
    if (!(pg = sl_pg_connect(sl_config_get(cfg, "pg.dsn"), &err)))
        return die("database: %s%s", err.msg, NULL);

    /* ---- the decision's transaction ---- */
    if (sl_pg_exec(pg, "BEGIN", &err) != SL_OK)
        goto fail;
    {
        const char *p[1] = { id };
        if (!(item = query(pg, "SELECT meta, signature, findings::text, sha256, state,"
                           " source_topic, source_partition, source_offset, size"
                           " FROM review_items WHERE upload_id = $1 FOR UPDATE",
                           1, p, 0)))
            goto out;
        if (PQntuples(item) != 1) {
            rc = die("no review item %s%s", id, NULL);
            goto out;
        }
        if (strcmp(PQgetvalue(item, 0, 4), "pending") != 0 && !forge) {
            rc = die("review item %s is %s, not pending", id, PQgetvalue(item, 0, 4));
            goto out;
        }
        /* A forger starts from the flagged chain, whatever was decided. */
        if (!(evs = query(pg, forge ?
                          "SELECT seq, canonical, hash FROM provenance_events"
                          " WHERE owner_kind = 'review' AND owner_id = $1"
                          " AND stage <> 'review' ORDER BY seq" :
                          "SELECT seq, canonical, hash FROM provenance_events"
                          " WHERE owner_kind = 'review' AND owner_id = $1"
                          " ORDER BY seq", 1, p, 0)))
            goto out;
    }
    {
        const char *p[1] = { PQgetvalue(item, 0, 3) };
        if (!(content = query(pg, "SELECT data FROM contents WHERE sha256 = $1",
                              1, p, 1)) || PQntuples(content) != 1) {
            rc = die("no content %s%s", p[0], NULL);
            goto out;
        }
    }
    if (!strcmp(outcome, "redacted")) {
        if (sl_rules_load_builtin(&rules, &err) != SL_OK ||
            sl_redact_stored((const uint8_t *)PQgetvalue(content, 0, 0),
                             (size_t)PQgetlength(content, 0, 0),
                             PQgetvalue(item, 0, 2), rules, &value, &err) != SL_OK)
            goto fail;
    } else if (!strcmp(outcome, "approved") &&
               sl_buf_append(&value, PQgetvalue(content, 0, 0),
                             (size_t)PQgetlength(content, 0, 0)) != SL_OK) {
        goto fail;
    }
    if (sl_sha256_hex(value.data ? (const void *)value.data : "", value.len, sent) != SL_OK)
        goto fail;
    if (!(rows = calloc((size_t)PQntuples(evs) + 1, sizeof(*rows))))
        goto fail;
    for (int i = 0; i < PQntuples(evs); i++)
        rows[i] = (sl_review_stored){ strtoll(PQgetvalue(evs, i, 0), NULL, 10),
                                      PQgetvalue(evs, i, 1), PQgetvalue(evs, i, 2) };
    {
        sl_prov_event ev = {
            .stage = "review", .version = "review/it", .outcome = outcome,
            .reason = reason, .upload_id = id,
            .input_sha256 = PQgetvalue(item, 0, 3),
            .output_sha256 = strcmp(outcome, "rejected") ? sent : NULL,
            .time_ms = sl_now_ms(),
        };
        if (sl_review_event_append(rows, (size_t)PQntuples(evs), &ev, &prov,
                                   &canon, &app, &err) != SL_OK)
            goto fail;
    }
    if (!forge) {
        char seqtxt[24];
        const char *p1[2] = { id, outcome };
        const char *p2[5] = { id, seqtxt, outcome, (const char *)canon.data,
                              app.hash };
        snprintf(seqtxt, sizeof(seqtxt), "%" PRId64, app.seq);
        if (!(r = query(pg, "UPDATE review_items SET state = $2, decided_at = now(),"
                        " decided_by = 'it-moderator' WHERE upload_id = $1", 2, p1, 0)))
            goto out;
        PQclear(r);
        if (!(r = query(pg, "INSERT INTO provenance_chains (owner_kind, owner_id,"
                        " first_seq, stage, outcome, canonical, hash) VALUES"
                        " ('review', $1, $2, '{review}', ARRAY[$3], ARRAY[$4],"
                        " ARRAY[$5])", 5, p2, 0)))
            goto out;
        PQclear(r);
        if (seal(pg, key, id, app.seq, app.hash) != 0)
            goto out;
    }
    if (sl_pg_exec(pg, forge ? "ROLLBACK" : "COMMIT", &err) != SL_OK)
        goto fail;

    /* ---- the relay's message ---- */
    {
        sl_review_item it = {
            .upload_id = id, .meta = PQgetvalue(item, 0, 0),
            .signature = PQgetvalue(item, 0, 1), .findings = PQgetvalue(item, 0, 2),
            .sha256 = PQgetvalue(item, 0, 3),
            .size = strtoll(PQgetvalue(item, 0, 8), NULL, 10),
            .source_topic = PQgetvalue(item, 0, 5),
            .source_partition = (int32_t)strtol(PQgetvalue(item, 0, 6), NULL, 10),
            .source_offset = strtoll(PQgetvalue(item, 0, 7), NULL, 10),
        };
        sl_review_decision d = { 1, action, reason, note, "it-moderator", sl_now_ms() };
        if (sl_buf_cstr(&prov) != SL_OK ||
            sl_review_message_build(&it, &d, (const char *)prov.data, sent, &rm,
                                    &err) != SL_OK)
            goto fail;
    }
    m.key = id;
    sl_kafka_topic_name(cfg, rm.topic, m.topic, sizeof(m.topic));
    m.value = strcmp(outcome, "rejected") && value.data ? (const void *)value.data : "";
    m.len = strcmp(outcome, "rejected") ? value.len : 0;
    for (size_t i = 0; i < rm.n; i++)
        header(&m, rm.name[i], scan_header && !strcmp(rm.name[i], SL_H_SCAN) ?
                               scan_header : rm.value[i]);
    rc = send_times(cfg, &m, times, pause_ms);
    if (rc == 0)
        printf("%s %s seq %" PRId64 " hash %s sent %s\n", id, outcome, app.seq,
               app.hash, sent);
    goto out;
fail:
    rc = die("%s%s", err.msg[0] ? err.msg : "failed", NULL);
out:
    for (size_t i = 0; i < m.nh; i++)
        free(m.hval[i]);
    sl_review_message_clear(&rm);
    free(rows);
    PQclear(item);
    PQclear(content);
    PQclear(evs);
    if (pg)
        PQfinish(pg);
    sl_rules_destroy(rules);
    sl_config_destroy(cfg);
    sl_buf_free(&prov);
    sl_buf_free(&canon);
    sl_buf_free(&value);
    return rc;
}
