/*
 * cmd_dlq.c -- `sluicectl dlq list|replay`: dead letters, and sending them
 * back through the pipeline once their cause is fixed (a creator
 * registered late, a quota raised).
 *
 * `list` reads the rejections table (what commit stored of every dead
 * letter: no bytes).  `replay` sends dead letters again, as they came: the
 * original bytes and signed headers live only in the dead letters of
 * sluice.rejected (for topic.rejected.retention.ms), so it reads them back
 * from there, matched to their rejections by the rejecting stage and the
 * source position (sluice-reject-stage, -source-topic, -partition,
 * -offset), and produces them to sluice.replay, which only the operators'
 * Kafka user may write (deploy/kafka-acls.conf).  Each carries the
 * creator's sluice-meta, sluice-sig and other headers, and sluice-replay:
 * the request id.
 *
 * Exactly once per request: the request and its items (one per upload,
 * each rejection in at most one request ever) are recorded in
 * dlq_replays / dlq_replay_items (023_dlq_replay.sql) before anything is
 * sent; an item is marked sent once the broker acknowledged it, so running
 * the same request again sends only what it has not sent.  validate lets a
 * message of sluice.replay past replay protection only when its request
 * holds that upload with those bytes, once per request (validate.c).  A
 * run that died after the broker acknowledged a copy but before marking
 * its item leaves it pending: the next run of the request first looks for
 * its copies on sluice.replay and marks those it finds instead of sending
 * them again (a second copy would be refused by validate as a replay).
 * One run of a request at a time (an advisory lock).
 *
 * Not every dead letter can be sent back: one whose value was withheld
 * (pii_blocked, secret_blocked: blocked bytes are never kept; or too large
 * for a dead letter), whose headers were dropped, whose bytes scan
 * redacted, or that is past the topic's retention.  Those items are marked
 * unavailable with the reason, reported, and the command exits 1.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <librdkafka/rdkafka.h>

#include "sl/crypto.h"
#include "sl/kafka.h"
#include "sl/kafka_admin.h"
#include "sl/msg.h"
#include "sl/timeutil.h"
#include "sl/topology.h"
#include "ctl.h"

#define DLQ_REQUEST_MAX 64
#define DLQ_READ_TIMEOUT_MS 60000   /* a topic read that long without a message fails */

static const char dlq_usage[] =
    "usage: sluicectl dlq <command>\n"
    "Dead letters (table rejections, topic sluice.rejected): list them, and\n"
    "replay them through the pipeline once their cause is fixed.\n"
    "pg.dsn / SLUICE_PG_DSN; replay also kafka.* / SLUICE_KAFKA_BROKERS.\n";

static const char list_usage[] =
    "usage: sluicectl dlq list [--stage STAGE] [--code CODE] [--since TIME] [--json]\n"
    "List stored rejections, oldest first: id, when, stage, reason code,\n"
    "upload, creator, dataset, size, the replay request that sent it back\n"
    "(if any) and the detail.\n"
    "  --stage STAGE   only those of this stage (validate, scan, ...)\n"
    "  --code CODE     only this reason code\n"
    "  --since TIME    only those rejected at or after TIME (RFC 3339)\n"
    "  --json          one JSON array of objects\n";

static const char replay_usage[] =
    "usage: sluicectl dlq replay --code CODE [--stage STAGE] [--since TIME]\n"
    "       [--request ID] [--by WHO] [--dry-run]\n"
    "Send the dead letters rejected with CODE (at or after TIME) back to the\n"
    "start of the chain, through sluice.replay: their original bytes and\n"
    "signed headers, read back from sluice.rejected.  validate checks them\n"
    "again (signature, creator, duplicates); one refused again is one more\n"
    "rejection, which a later request may replay.  Each dead letter is sent\n"
    "back by one request, once: running the same request (--request ID)\n"
    "again sends only what it has not sent yet, nothing once all is sent.\n"
    "Dead letters without their bytes (withheld: pii_blocked,\n"
    "secret_blocked, too large; headers dropped; redacted by scan; past\n"
    "retention) cannot be replayed: they are reported and the exit code is 1.\n"
    "An upload already stored as a sample or review item is not sent;\n"
    "header_reserved and headers_too_large are never replayed (a replay\n"
    "sends only the creator's sluice-meta, sluice-sig and other headers).\n"
    "  --code CODE     the reason code to replay (required)\n"
    "  --stage STAGE   only those rejected by this stage\n"
    "  --since TIME    only those rejected at or after TIME (RFC 3339)\n"
    "  --request ID    the request's id, [a-z0-9][a-z0-9_-]{0,63} (default:\n"
    "                  dlq-<random>); printed\n"
    "  --by WHO        recorded as who asked (default $SUDO_USER, $USER)\n"
    "  --dry-run       list what would be sent; record and send nothing\n";

/* ---- options shared by list and replay ---------------------------------- */

typedef struct dlq_filter {
    const char *stage, *code, *since;
} dlq_filter;

static int check_code(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 64)
        return SL_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
              s[i] == '_'))
            return SL_EINVAL;
    return SL_OK;
}

static int check_filter(const char *cmd, const dlq_filter *f)
{
    int64_t ms;

    if (f->stage && check_code(f->stage) != SL_OK)
        return ctl_usage_error(cmd, "--stage: \"%s\" is not a stage name", f->stage);
    if (f->code && check_code(f->code) != SL_OK)
        return ctl_usage_error(cmd, "--code: \"%s\" is not a reason code", f->code);
    if (f->since && sl_time_parse(f->since, strlen(f->since), &ms) != SL_OK)
        return ctl_usage_error(cmd, "--since: \"%s\" is not an RFC 3339 time "
                               "(e.g. 2026-12-01T00:00:00Z)", f->since);
    return CTL_OK;
}

/* The WHERE clause both commands select rejections with ($1 stage, $2
 * code, $3 since, each NULL for any). */
#define DLQ_WHERE \
    " ($1::text IS NULL OR r.stage = $1) AND ($2::text IS NULL OR r.code = $2)" \
    " AND ($3::timestamptz IS NULL OR r.rejected_at >= $3)"

/* ---- list --------------------------------------------------------------- */

static int dlq_list(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG,
        { "stage", required_argument, NULL, 's' },
        { "code", required_argument, NULL, 'C' },
        { "since", required_argument, NULL, 'S' },
        { "json", no_argument, NULL, 'j' },
        { 0 }
    };
    static const char *const headers[] = {
        ">ID", "REJECTED", "STAGE", "CODE", "UPLOAD", "CREATOR", "DATASET",
        ">SIZE", "REPLAYED BY", "DETAIL"
    };
    static const int cols[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
    static const ctl_list_field fields[] = {
        { "rejection_id", 0, 1, 0 }, { "rejected_at", 1, 0, 0 },
        { "stage", 2, 0, 0 }, { "code", 3, 0, 0 }, { "upload_id", 4, 0, 1 },
        { "creator_id", 5, 0, 1 }, { "dataset_id", 6, 0, 1 },
        { "size", 7, 1, 0 }, { "replayed_by", 8, 0, 1 }, { "detail", 9, 0, 0 },
    };
    static const ctl_list_spec spec = {
        "dlq list", list_usage, NULL, 10, headers, cols, "no rejections",
        10, fields
    };
    dlq_filter f = { 0 };
    const char *vals[3];
    PGconn *pg;
    PGresult *r;
    int opt, json = 0, rc;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             "dlq list", list_usage)) != -1) {
        switch (opt) {
        case 's': f.stage = optarg; break;
        case 'C': f.code = optarg; break;
        case 'S': f.since = optarg; break;
        case 'j': json = 1; break;
        default: return ctl_getopt_exit(opt);
        }
    }
    if (optind < argc)
        return ctl_usage_error("dlq list", "unexpected argument \"%s\"", argv[optind]);
    if ((rc = check_filter("dlq list", &f)) != CTL_OK)
        return rc;
    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    if (!(pg = ctl_pg_connect(c)))
        return CTL_FAIL;
    vals[0] = f.stage;
    vals[1] = f.code;
    vals[2] = f.since;
    r = ctl_pg_query(pg, "dlq list",
        "SELECT r.rejection_id, to_char(r.rejected_at AT TIME ZONE 'UTC',"
        "  'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), r.stage, r.code, r.upload_id,"
        "  r.creator_id, r.dataset_id, r.size, i.request_id, r.detail"
        " FROM rejections r"
        " LEFT JOIN dlq_replay_items i ON i.rejection_id = r.rejection_id"
        " WHERE" DLQ_WHERE
        " ORDER BY r.rejection_id", 3, vals, NULL, NULL);
    rc = r ? ctl_list_output(&spec, r, json) : CTL_FAIL;
    PQclear(r);
    PQfinish(pg);
    return rc;
}

/* ---- replay: the request in the database --------------------------------- */

/* One dead letter to send back (an item of the request). */
typedef struct dlq_item {
    char *upload_id, *sha256, *stage, *code, *src_topic;
    int64_t rejection_id, src_offset;
    int32_t src_partition;
    /* found in sluice.rejected (and then sent), or why not */
    int found;
    int sent_before;            /* found on sluice.replay, sent by an earlier run */
    const char *unavailable;    /* static reason, or NULL */
    int delivered;              /* the broker acknowledged the copy */
} dlq_item;

typedef struct dlq_run {
    ctl *c;
    PGconn *pg;
    dlq_filter f;
    const char *request, *by;
    int dry_run;
    dlq_item *items;
    size_t n;
    int64_t oldest_ms;          /* the oldest rejection's time */
    int64_t resumed_ms;         /* an existing request: when it was made; else -1 */
} dlq_run;

static void items_free(dlq_run *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->items[i].upload_id);
        free(d->items[i].sha256);
        free(d->items[i].stage);
        free(d->items[i].code);
        free(d->items[i].src_topic);
    }
    free(d->items);
    d->items = NULL;
    d->n = 0;
}

/* Fills d->items from r: upload_id, sha256, stage, code, source topic,
 * partition, offset, rejection_id, rejected_at in ms. */
static int items_load(dlq_run *d, PGresult *r)
{
    int n = PQntuples(r);

    d->items = calloc(n ? (size_t)n : 1, sizeof(*d->items));
    if (!d->items)
        return ctl_fail("out of memory");
    d->oldest_ms = INT64_MAX;
    for (int i = 0; i < n; i++) {
        dlq_item *it = &d->items[d->n++];
        int64_t ms = strtoll(PQgetvalue(r, i, 8), NULL, 10);
        if (!(it->upload_id = strdup(PQgetvalue(r, i, 0))) ||
            !(it->sha256 = strdup(PQgetvalue(r, i, 1))) ||
            !(it->stage = strdup(PQgetvalue(r, i, 2))) ||
            !(it->code = strdup(PQgetvalue(r, i, 3))) ||
            !(it->src_topic = strdup(PQgetvalue(r, i, 4))))
            return ctl_fail("out of memory");
        it->src_partition = (int32_t)strtol(PQgetvalue(r, i, 5), NULL, 10);
        it->src_offset = strtoll(PQgetvalue(r, i, 6), NULL, 10);
        it->rejection_id = strtoll(PQgetvalue(r, i, 7), NULL, 10);
        if (ms < d->oldest_ms)
            d->oldest_ms = ms;
    }
    return CTL_OK;
}

/* The rejections a request takes: matching the filter, with an upload id
 * and a hash, not in any request yet, whose upload is not stored (the
 * latest rejection per upload).  $1..$3 the filter. */
#define DLQ_CANDIDATES \
    " SELECT DISTINCT ON (r.upload_id) r.rejection_id, r.upload_id, r.sha256" \
    " FROM rejections r" \
    " WHERE" DLQ_WHERE \
    "  AND r.upload_id IS NOT NULL AND r.sha256 IS NOT NULL" \
    "  AND NOT EXISTS (SELECT 1 FROM dlq_replay_items i" \
    "                  WHERE i.rejection_id = r.rejection_id)" \
    "  AND NOT EXISTS (SELECT 1 FROM samples s WHERE s.upload_id = r.upload_id)" \
    "  AND NOT EXISTS (SELECT 1 FROM review_items v WHERE v.upload_id = r.upload_id)" \
    " ORDER BY r.upload_id, r.rejection_id DESC"

#define DLQ_ITEM_COLS \
    "r.upload_id, r.sha256, r.stage, r.code, r.source_topic," \
    " r.source_partition, r.source_offset, r.rejection_id," \
    " (extract(epoch FROM r.rejected_at) * 1000)::bigint"

/* Records the request and its items (new request), or checks that an
 * existing one was made with the same filter; then loads its items still
 * pending.  CTL_OK or CTL_FAIL after printing why. */
static int request_open(dlq_run *d)
{
    const char *vals[5] = { d->f.stage, d->f.code, d->f.since, d->request, d->by };
    PGresult *r;
    int rc = CTL_FAIL, fresh;

    /* One run of a request at a time: two would both send what is
     * pending.  A session lock, released when this connection ends. */
    if (!(r = ctl_pg_query(d->pg, "dlq replay: locking the request",
            "SELECT pg_try_advisory_lock(hashtext('sluice-dlq'), hashtext($1))",
            1, &d->request, NULL, NULL)))
        return CTL_FAIL;
    fresh = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    if (!fresh)
        return ctl_fail("dlq replay: request \"%s\" is being run by another "
                        "sluicectl", d->request);
    if (ctl_pg_exec(d->pg, "dlq replay", "BEGIN") != CTL_OK)
        return CTL_FAIL;
    if (!(r = ctl_pg_query(d->pg, "dlq replay: recording the request",
            "INSERT INTO dlq_replays (request_id, code, stage, since, requested_by)"
            " VALUES ($4, $2, $1, $3, $5) ON CONFLICT (request_id) DO NOTHING"
            " RETURNING 1", 5, vals, NULL, NULL)))
        goto out;
    fresh = PQntuples(r) == 1;
    PQclear(r);
    if (fresh) {
        r = ctl_pg_query(d->pg, "dlq replay: recording its dead letters",
            "INSERT INTO dlq_replay_items (request_id, rejection_id, upload_id, sha256)"
            " SELECT $4, c.rejection_id, c.upload_id, c.sha256 FROM (" DLQ_CANDIDATES ") c"
            " ON CONFLICT DO NOTHING", 4, vals, NULL, NULL);
        if (!r)
            goto out;
        PQclear(r);
    } else {
        r = ctl_pg_query(d->pg, "dlq replay: reading the request",
            "SELECT (extract(epoch FROM created_at) * 1000)::bigint"
            " FROM dlq_replays WHERE request_id = $4 AND code = $2"
            " AND stage IS NOT DISTINCT FROM $1"
            " AND since IS NOT DISTINCT FROM $3::timestamptz",
            4, vals, NULL, NULL);
        if (!r)
            goto out;
        if (PQntuples(r) != 1) {
            PQclear(r);
            ctl_fail("dlq replay: request \"%s\" exists with another --code, "
                     "--stage or --since (see dlq_replays)", d->request);
            goto out;
        }
        d->resumed_ms = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
    }
    if (ctl_pg_exec(d->pg, "dlq replay", "COMMIT") != CTL_OK)
        return CTL_FAIL;
    vals[0] = d->request;
    if (!(r = ctl_pg_query(d->pg, "dlq replay: reading its dead letters",
            "SELECT " DLQ_ITEM_COLS " FROM dlq_replay_items i"
            " JOIN rejections r ON r.rejection_id = i.rejection_id"
            " WHERE i.request_id = $1 AND i.state = 'pending'"
            " ORDER BY r.rejection_id", 1, vals, NULL, NULL)))
        return CTL_FAIL;
    rc = items_load(d, r);
    PQclear(r);
    return rc;
out:
    (void)ctl_pg_exec(d->pg, "dlq replay", "ROLLBACK");
    return rc;
}

/* --dry-run: the candidates, recorded nowhere. */
static int candidates_load(dlq_run *d)
{
    const char *vals[3] = { d->f.stage, d->f.code, d->f.since };
    PGresult *r = ctl_pg_query(d->pg, "dlq replay",
        "SELECT " DLQ_ITEM_COLS " FROM (" DLQ_CANDIDATES ") c"
        " JOIN rejections r ON r.rejection_id = c.rejection_id"
        " ORDER BY r.rejection_id", 3, vals, NULL, NULL);
    int rc;

    if (!r)
        return CTL_FAIL;
    rc = items_load(d, r);
    PQclear(r);
    return rc;
}

/* Marks the items delivered as sent and the unavailable ones with their
 * reason.  CTL_OK or CTL_FAIL. */
static int request_mark(dlq_run *d)
{
    for (size_t i = 0; i < d->n; i++) {
        dlq_item *it = &d->items[i];
        const char *vals[3] = { d->request, it->upload_id, it->unavailable };
        PGresult *r;

        if (it->delivered)
            r = ctl_pg_query(d->pg, "dlq replay: marking an item sent",
                "UPDATE dlq_replay_items SET state = 'sent', sent_at = now()"
                " WHERE request_id = $1 AND upload_id = $2 AND state = 'pending'",
                2, vals, NULL, NULL);
        else if (it->unavailable)
            r = ctl_pg_query(d->pg, "dlq replay: marking an item unavailable",
                "UPDATE dlq_replay_items SET state = 'unavailable', detail = $3"
                " WHERE request_id = $1 AND upload_id = $2 AND state = 'pending'",
                3, vals, NULL, NULL);
        else
            continue;   /* not acknowledged: pending, sent by the next run */
        if (!r)
            return CTL_FAIL;
        PQclear(r);
    }
    return CTL_OK;
}

/* ---- replay: the dead letters in Kafka ----------------------------------- */

/* The last header `name` of hs as a string into out (cap bytes with the
 * NUL).  SL_OK, or SL_ENOTFOUND when absent, null or too long. */
static int dl_header(rd_kafka_headers_t *hs, const char *name, char *out,
                     size_t cap)
{
    const void *v;
    size_t n;

    if (!hs || rd_kafka_header_get_last(hs, name, &v, &n) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        !v || n >= cap)
        return SL_ENOTFOUND;
    memcpy(out, v, n);
    out[n] = '\0';
    return SL_OK;
}

/* Whether a sluice-scan header says scan redacted the bytes (or is not a
 * scan result at all: then the bytes are not trusted to be the upload). */
static int scan_redacted(const void *v, size_t n)
{
    json_t *doc = json_loadb(v, n, JSON_REJECT_DUPLICATES, NULL);
    const char *o = json_string_value(json_object_get(doc, "outcome"));
    int redacted = !o || strcmp(o, "redacted") == 0;

    json_decref(doc);
    return redacted;
}

/* Why a dead letter cannot be sent back as the upload it was, or NULL. */
static const char *dl_unusable(const rd_kafka_message_t *m, rd_kafka_headers_t *hs,
                               const dlq_item *it)
{
    char buf[64], sha[SL_SHA256_HEX];
    const void *v;
    size_t n;

    if (dl_header(hs, SL_H_REJ_VALUE, buf, sizeof(buf)) == SL_OK &&
        strcmp(buf, "withheld") == 0)
        return "its bytes were withheld from the dead letter (blocked content "
               "is never kept, nor a value too large for a dead letter)";
    if (dl_header(hs, SL_H_REJ_HEADERS, buf, sizeof(buf)) == SL_OK)
        return "its headers were dropped from the dead letter";
    if (!hs || rd_kafka_header_get_last(hs, SL_H_META, &v, &n) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        rd_kafka_header_get_last(hs, SL_H_SIG, &v, &n) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return "the dead letter has no sluice-meta and sluice-sig to send";
    if (rd_kafka_header_get_last(hs, SL_H_SCAN, &v, &n) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        v && scan_redacted(v, n))
        return "the dead letter holds the bytes scan redacted, not the upload";
    if (sl_sha256_hex(m->payload ? m->payload : "", m->len, sha) != SL_OK ||
        strcmp(sha, it->sha256) != 0)
        return "the dead letter's bytes do not hash to the rejection's sha256";
    return NULL;
}

/* Items in order of their dead letters' identity: source partition,
 * offset, topic, then stage (bsearch in dl_scan). */
static int item_cmp(const void *a, const void *b)
{
    const dlq_item *x = a, *y = b;
    int c;

    if (x->src_partition != y->src_partition)
        return x->src_partition < y->src_partition ? -1 : 1;
    if (x->src_offset != y->src_offset)
        return x->src_offset < y->src_offset ? -1 : 1;
    if ((c = strcmp(x->src_topic, y->src_topic)) != 0)
        return c;
    return strcmp(x->stage, y->stage);
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    dlq_item *it = m->_private;
    ctl_esc e = { 0 };

    (void)rk;
    (void)opaque;
    if (it && !m->err)
        it->delivered = 1;
    else if (it)
        fprintf(stderr, "sluicectl: dlq replay: upload %s not delivered: %s\n",
                ctl_e(&e, it->upload_id), rd_kafka_err2str(m->err));
    ctl_esc_free(&e);
}

/* The headers the copy of a dead letter (headers in) carries: its
 * creator's (sluice-meta, sluice-sig and every header not named sluice-*:
 * none of the stages' or the sluice-reject-* ones) and sluice-replay.
 * NULL when out of memory. */
static rd_kafka_headers_t *replay_headers(const dlq_run *d, rd_kafka_headers_t *in)
{
    rd_kafka_headers_t *out = rd_kafka_headers_new(16);
    const char *name;
    const void *v;
    size_t n;

    if (!out)
        return NULL;
    for (size_t i = 0; rd_kafka_header_get_all(in, i, &name, &v, &n) ==
                       RD_KAFKA_RESP_ERR_NO_ERROR; i++) {
        if (strncasecmp(name, "sluice-", 7) == 0)
            continue;
        (void)rd_kafka_header_add(out, name, -1, v, v ? (ssize_t)n : 0);
    }
    if (rd_kafka_header_get_last(in, SL_H_META, &v, &n) == RD_KAFKA_RESP_ERR_NO_ERROR)
        (void)rd_kafka_header_add(out, SL_H_META, -1, v, (ssize_t)n);
    if (rd_kafka_header_get_last(in, SL_H_SIG, &v, &n) == RD_KAFKA_RESP_ERR_NO_ERROR)
        (void)rd_kafka_header_add(out, SL_H_SIG, -1, v, (ssize_t)n);
    (void)rd_kafka_header_add(out, SL_H_REPLAY, -1, d->request, -1);
    return out;
}

/* Sends a copy of dead letter m (headers hs) for it to sluice.replay. */
static int dl_send(dlq_run *d, rd_kafka_t *prod, const char *topic,
                   const rd_kafka_message_t *m, rd_kafka_headers_t *hs,
                   dlq_item *it)
{
    rd_kafka_headers_t *out = replay_headers(d, hs);
    rd_kafka_resp_err_t e;

    if (!out)
        return ctl_fail("out of memory");
    for (;;) {
        e = rd_kafka_producev(prod, RD_KAFKA_V_TOPIC(topic),
                              RD_KAFKA_V_KEY(m->key, m->key_len),
                              RD_KAFKA_V_VALUE(m->payload, m->len),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_HEADERS(out),
                              RD_KAFKA_V_OPAQUE(it), RD_KAFKA_V_END);
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            break;
        rd_kafka_poll(prod, 100);   /* the queue drains as acks come */
    }
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_headers_destroy(out);
        return ctl_fail("dlq replay: cannot produce to %s: %s", topic,
                        rd_kafka_err2str(e));
    }
    rd_kafka_poll(prod, 0);
    return CTL_OK;
}

/* The pending item dead letter m (headers hs) is for, or NULL. */
static dlq_item *dl_item(const dlq_run *d, rd_kafka_headers_t *hs)
{
    char stage[64], st[SL_KAFKA_NAME_MAX], sp[32], so[32];
    dlq_item key = { 0 }, *it;
    int64_t part;

    if (dl_header(hs, SL_H_REJ_STAGE, stage, sizeof(stage)) != SL_OK ||
        dl_header(hs, SL_H_REJ_TOPIC, st, sizeof(st)) != SL_OK ||
        dl_header(hs, SL_H_REJ_PART, sp, sizeof(sp)) != SL_OK ||
        dl_header(hs, SL_H_REJ_OFFSET, so, sizeof(so)) != SL_OK ||
        ctl_parse_int(sp, 0, INT32_MAX, &part) != SL_OK ||
        ctl_parse_int(so, 0, INT64_MAX, &key.src_offset) != SL_OK)
        return NULL;
    key.src_partition = (int32_t)part;
    key.src_topic = st;
    key.stage = stage;
    it = bsearch(&key, d->items, d->n, sizeof(*d->items), item_cmp);
    return it && !it->found ? it : NULL;
}

/* What topic_read hands each message to: 1 when it was a pending item's
 * (one fewer left), 0 when not, -1 to stop (the error printed). */
typedef int (*dl_visit)(dlq_run *d, const rd_kafka_message_t *m,
                        rd_kafka_headers_t *hs, void *arg);

/* Reads topic (topic.prefix added) with the simple consumer (no group),
 * read_committed, from just before since_ms to its end or until `left`
 * items were found, handing each message to fn.  A partition with nothing
 * that new is not read at all.  prod, when not NULL, is polled for its
 * delivery reports meanwhile.  CTL_OK or CTL_FAIL. */
static int topic_read(dlq_run *d, const char *name, int64_t since_ms,
                      size_t left, rd_kafka_t *prod, dl_visit fn, void *arg)
{
    static const char *const defaults[] = {
        "client.id", "sluicectl-dlq",
        "enable.auto.commit", "false",
        "enable.partition.eof", "true",
        "isolation.level", "read_committed",
        NULL
    };
    char topic[SL_KAFKA_NAME_MAX], errstr[256] = "";
    sl_err err = { "" };
    rd_kafka_conf_t *conf = NULL;
    rd_kafka_t *rk = NULL;
    rd_kafka_topic_partition_list_t *parts = NULL;
    rd_kafka_topic_t *rkt = NULL;
    rd_kafka_queue_t *q = NULL;
    int started = 0, nparts = 0, eofs = 0, rc = CTL_FAIL;
    unsigned char *at_end = NULL;   /* per partition: read to its end */
    int64_t idle_since;
    rd_kafka_resp_err_t e;

    sl_kafka_topic_name(d->c->cfg, name, topic, sizeof(topic));
    if (!(conf = sl_kafka_conf(d->c->cfg, defaults, &err)))
        return ctl_fail("dlq replay: %s", err.msg);
    if (!(rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr)))) {
        rd_kafka_conf_destroy(conf);
        return ctl_fail("dlq replay: %s", errstr);
    }
    if (sl_kafka_topic_partitions(rk, topic, 10000, &nparts, &err) != SL_OK) {
        ctl_fail("dlq replay: %s: %s", topic, err.msg);
        goto out;
    }
    if (nparts <= 0) {
        ctl_fail("dlq replay: topic %s does not exist (run `sluicectl topics "
                 "create`, and apply deploy/kafka-acls.conf)", topic);
        goto out;
    }
    if (!(parts = rd_kafka_topic_partition_list_new(nparts)) ||
        !(at_end = calloc((size_t)nparts, 1)))
        goto oom;
    for (int p = 0; p < nparts; p++)
        rd_kafka_topic_partition_list_add(parts, topic, p)->offset =
            since_ms - 60000;   /* a minute of clock skew */
    if ((e = rd_kafka_offsets_for_times(rk, parts, 10000)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        ctl_fail("dlq replay: cannot find where to read %s: %s", topic,
                 rd_kafka_err2str(e));
        goto out;
    }
    if (!(rkt = rd_kafka_topic_new(rk, topic, NULL)) || !(q = rd_kafka_queue_new(rk)))
        goto oom;
    for (; started < nparts; started++) {
        if (parts->elems[started].offset < 0) {
            at_end[started] = 1;
            eofs++;
            continue;
        }
        if (rd_kafka_consume_start_queue(rkt, started, parts->elems[started].offset,
                                         q) != 0) {
            ctl_fail("dlq replay: cannot read %s: %s", topic,
                     rd_kafka_err2str(rd_kafka_last_error()));
            goto out;
        }
    }
    idle_since = sl_mono_ms();
    while (left > 0 && eofs < nparts) {
        rd_kafka_message_t *m;
        rd_kafka_headers_t *hs = NULL;
        int r = 0;

        if (sl_mono_ms() - idle_since > DLQ_READ_TIMEOUT_MS) {
            ctl_fail("dlq replay: nothing read from %s for %d s", topic,
                     DLQ_READ_TIMEOUT_MS / 1000);
            goto out;
        }
        if (prod)
            rd_kafka_poll(prod, 0);
        if (!(m = rd_kafka_consume_queue(q, 500)))
            continue;
        idle_since = sl_mono_ms();
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            /* (again after newer messages: counted once) */
            if (m->partition >= 0 && m->partition < nparts && !at_end[m->partition]) {
                at_end[m->partition] = 1;
                eofs++;
            }
        } else if (m->err) {
            ctl_fail("dlq replay: reading %s: %s", topic, rd_kafka_message_errstr(m));
            r = -1;
        } else if (rd_kafka_message_headers(m, &hs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            r = fn(d, m, hs, arg);
        }
        /* (every message must be gone before rd_kafka_destroy) */
        rd_kafka_message_destroy(m);
        if (r < 0)
            goto out;
        left -= (size_t)r;
    }
    rc = CTL_OK;
    goto out;
oom:
    rc = ctl_fail("out of memory");
out:
    for (int p = 0; p < started; p++)
        if (parts->elems[p].offset >= 0)
            (void)rd_kafka_consume_stop(rkt, p);
    if (q)
        rd_kafka_queue_destroy(q);
    if (rkt)
        rd_kafka_topic_destroy(rkt);
    if (parts)
        rd_kafka_topic_partition_list_destroy(parts);
    free(at_end);
    rd_kafka_destroy(rk);
    return rc;
}

/* Where dl_visit_rejected sends copies (prod NULL: a dry run). */
typedef struct dl_out {
    rd_kafka_t *prod;
    char topic[SL_KAFKA_NAME_MAX];
} dl_out;

/* A message of sluice.rejected: a pending item's dead letter (its reject
 * headers name the item's stage and source position) is checked and,
 * unless a dry run, a copy sent to sluice.replay. */
static int dl_visit_rejected(dlq_run *d, const rd_kafka_message_t *m,
                             rd_kafka_headers_t *hs, void *arg)
{
    dl_out *o = arg;
    dlq_item *it = dl_item(d, hs);

    if (!it)
        return 0;
    it->found = 1;
    it->unavailable = dl_unusable(m, hs, it);
    if (!it->unavailable && o->prod &&
        dl_send(d, o->prod, o->topic, m, hs, it) != CTL_OK)
        return -1;
    return 1;
}

static int item_id_cmp(const void *a, const void *b)
{
    return strcmp(((const dlq_item *)a)->upload_id, ((const dlq_item *)b)->upload_id);
}

/* A message of sluice.replay: a copy of a pending item this request sent
 * before (a run that died between the broker's acknowledgement and marking
 * the item sent) -- the item counts as sent, and is not sent again. */
static int dl_visit_replayed(dlq_run *d, const rd_kafka_message_t *m,
                             rd_kafka_headers_t *hs, void *arg)
{
    char req[DLQ_REQUEST_MAX + 1], id[256];
    dlq_item key = { .upload_id = id }, *it;

    (void)arg;
    if (dl_header(hs, SL_H_REPLAY, req, sizeof(req)) != SL_OK ||
        strcmp(req, d->request) != 0 || !m->key || m->key_len >= sizeof(id))
        return 0;
    memcpy(id, m->key, m->key_len);
    id[m->key_len] = '\0';
    it = bsearch(&key, d->items, d->n, sizeof(*d->items), item_id_cmp);
    if (!it || it->found)
        return 0;
    it->found = it->delivered = it->sent_before = 1;
    return 1;
}

/* CTL_OK when the replay topic exists; a deployment from before it would
 * otherwise wait out the producer's message timeout for each dead letter.
 * Asked through the producer that will write to it: librdkafka otherwise
 * learns where a topic lives only when its first record is queued, by a
 * scan that runs once a second (measured: every replay that sent took
 * 1.1-1.2 s, most of it that wait, against 0.2 s now; the stages' runner
 * does the same, warm_topics in common/src/runner.c). */
static int replay_topic_check(rd_kafka_t *prod, const char *topic)
{
    sl_err err = { "" };
    int n = 0;

    if (sl_kafka_topic_lookup(prod, topic, 10000, &n, &err) != SL_OK)
        return ctl_fail("dlq replay: %s: %s", topic, err.msg);
    if (n <= 0)
        return ctl_fail("dlq replay: topic %s does not exist (run `sluicectl "
                        "topics create`, and apply deploy/kafka-acls.conf)", topic);
    return CTL_OK;
}

/* Sends the pending items' dead letters back (reads them, none in a dry
 * run), waiting for every acknowledgement; a resumed request first finds
 * on sluice.replay what an earlier run sent but did not mark.  Items whose
 * dead letter is not found are past retention.  CTL_OK or CTL_FAIL. */
static int dl_replay(dlq_run *d)
{
    static const char *const defaults[] = {
        "client.id", "sluicectl-dlq",
        "enable.idempotence", "true",
        "acks", "all",
        NULL
    };
    sl_err err = { "" };
    dl_out o = { NULL, "" };
    size_t left = d->n;
    int rc = CTL_OK;

    if (!d->dry_run && d->resumed_ms >= 0) {
        qsort(d->items, d->n, sizeof(*d->items), item_id_cmp);
        rc = topic_read(d, SL_TOPIC_REPLAY, d->resumed_ms, left, NULL,
                        dl_visit_replayed, NULL);
        for (size_t i = 0; i < d->n; i++)
            left -= d->items[i].found;
    }
    if (rc != CTL_OK || left == 0)
        return rc;
    sl_kafka_topic_name(d->c->cfg, SL_TOPIC_REPLAY, o.topic, sizeof(o.topic));
    if (!d->dry_run &&
        !(o.prod = sl_kafka_producer_new(d->c->cfg, defaults, dr_cb, NULL, &err)))
        return ctl_fail("dlq replay: %s", err.msg);
    if (o.prod && (rc = replay_topic_check(o.prod, o.topic)) != CTL_OK) {
        rd_kafka_destroy(o.prod);
        return rc;
    }
    qsort(d->items, d->n, sizeof(*d->items), item_cmp);
    rc = topic_read(d, SL_TOPIC_REJECTED, d->oldest_ms, left, o.prod,
                    dl_visit_rejected, &o);
    if (o.prod) {
        while (rd_kafka_outq_len(o.prod) > 0)
            rd_kafka_flush(o.prod, 1000);
        rd_kafka_destroy(o.prod);
    }
    for (size_t i = 0; rc == CTL_OK && i < d->n; i++)
        if (!d->items[i].found)
            d->items[i].unavailable = "its dead letter is no longer in "
                                      "sluice.rejected (past retention?)";
    return rc;
}

/* ---- replay: the command -------------------------------------------------- */

/* "dlq-" + 32 lowercase hex digits from the CSPRNG. */
static int random_request(char out[DLQ_REQUEST_MAX + 1])
{
    char id[CTL_UPLOAD_ID_LEN];

    if (ctl_random_upload_id(id) != SL_OK)
        return SL_EIO;
    snprintf(out, DLQ_REQUEST_MAX + 1, "dlq-%s", id + 2);
    return SL_OK;
}

static int check_request(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > DLQ_REQUEST_MAX)
        return SL_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
              (i > 0 && (s[i] == '_' || s[i] == '-'))))
            return SL_EINVAL;
    return SL_OK;
}

/* What happened to each item, and the exit code. */
static int report(const dlq_run *d)
{
    size_t sent = 0, bad = 0;

    for (size_t i = 0; i < d->n; i++) {
        const dlq_item *it = &d->items[i];
        ctl_esc e = { 0 };
        if (it->unavailable) {
            fprintf(stderr, "sluicectl: dlq replay: upload %s (rejection %"
                    PRId64 ", %s at %s) cannot be replayed: %s\n",
                    ctl_e(&e, it->upload_id), it->rejection_id,
                    ctl_e(&e, it->code), ctl_e(&e, it->stage), it->unavailable);
            bad++;
        } else if (d->dry_run) {
            printf("would replay: upload %s (rejection %" PRId64 ", %s at %s)\n",
                   ctl_e(&e, it->upload_id), it->rejection_id,
                   ctl_e(&e, it->code), ctl_e(&e, it->stage));
        } else if (it->delivered) {
            printf("replayed%s: upload %s (rejection %" PRId64 ", %s at %s)\n",
                   it->sent_before ? " (by an earlier run, not marked)" : "",
                   ctl_e(&e, it->upload_id), it->rejection_id,
                   ctl_e(&e, it->code), ctl_e(&e, it->stage));
            sent++;
        } else {
            bad++;   /* reported by the delivery callback */
        }
        ctl_esc_free(&e);
    }
    if (d->dry_run)
        printf("dry run: %zu to replay, %zu cannot be; nothing sent or recorded\n",
               d->n - bad, bad);
    else
        printf("request %s: %zu replayed, %zu not\n", d->request, sent, bad);
    return bad ? CTL_FAIL : CTL_OK;
}

static int dlq_replay(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG,
        { "stage", required_argument, NULL, 's' },
        { "code", required_argument, NULL, 'C' },
        { "since", required_argument, NULL, 'S' },
        { "request", required_argument, NULL, 'r' },
        { "by", required_argument, NULL, 'b' },
        { "dry-run", no_argument, NULL, 'n' },
        { 0 }
    };
    char gen[DLQ_REQUEST_MAX + 1];
    dlq_run d = { .c = c, .resumed_ms = -1 };
    int opt, rc;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             "dlq replay", replay_usage)) != -1) {
        switch (opt) {
        case 's': d.f.stage = optarg; break;
        case 'C': d.f.code = optarg; break;
        case 'S': d.f.since = optarg; break;
        case 'r': d.request = optarg; break;
        case 'b': d.by = optarg; break;
        case 'n': d.dry_run = 1; break;
        default: return ctl_getopt_exit(opt);
        }
    }
    if (optind < argc)
        return ctl_usage_error("dlq replay", "unexpected argument \"%s\"", argv[optind]);
    if (!d.f.code)
        return ctl_usage_error("dlq replay", "--code is required");
    /* refused for headers the replay would strip: it would send another
     * message than the one refused, so these never come back this way */
    if (strcmp(d.f.code, "header_reserved") == 0 ||
        strcmp(d.f.code, "headers_too_large") == 0)
        return ctl_usage_error("dlq replay", "--code %s: such an upload is "
                               "refused for headers a replay would not send; "
                               "the creator must send it again (with a new "
                               "upload id)", d.f.code);
    if ((rc = check_filter("dlq replay", &d.f)) != CTL_OK)
        return rc;
    if (d.request && check_request(d.request) != SL_OK)
        return ctl_usage_error("dlq replay", "--request: \"%s\" is not "
                               "[a-z0-9][a-z0-9_-]{0,63}", d.request);
    d.by = ctl_operator(d.by);
    if (ctl_check_note(d.by, 128) != SL_OK)
        return ctl_usage_error("dlq replay", "--by must be 1 to 128 bytes "
                               "without control characters");
    if (!d.request && !d.dry_run) {
        if (random_request(gen) != SL_OK)
            return ctl_fail("dlq replay: no random bytes");
        d.request = gen;
    }
    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    if (!(d.pg = ctl_pg_connect(c)))
        return CTL_FAIL;
    rc = d.dry_run ? candidates_load(&d) : request_open(&d);
    if (rc == CTL_OK && !d.dry_run)
        printf("request %s\n", d.request);
    if (rc == CTL_OK && d.n == 0) {
        printf("nothing to replay\n");
        goto out;
    }
    if (rc == CTL_OK) {
        rc = dl_replay(&d);
        /* what was sent is recorded, even when a later step failed */
        if (!d.dry_run && request_mark(&d) != CTL_OK)
            rc = CTL_FAIL;
    }
    if (rc == CTL_OK)
        rc = report(&d);
out:
    items_free(&d);
    PQfinish(d.pg);
    return rc;
}

int ctl_cmd_dlq(ctl *c, int argc, char **argv)
{
    static const ctl_cmd subs[] = {
        { "list", dlq_list, "stored rejections, by stage, code and time" },
        { "replay", dlq_replay, "send dead letters of a code back through the pipeline" },
        { NULL, NULL, NULL }
    };

    return ctl_dispatch(c, "dlq", subs, argc, argv, dlq_usage);
}
