/*
 * commit_pg.c -- the commit sink: one PostgreSQL transaction per batch with
 * the rows and the consumer offsets, so every message lands exactly once.
 *
 * Per batch:
 *   BEGIN; lock this group's offset rows and check the batch starts where
 *   the database says it should (a zombie instance or a stale rewind is
 *   turned away); look up which upload ids, contents and (dataset,
 *   content) pairs exist already, so replays and duplicates that slipped
 *   past validate become rejections instead of errors; COPY the contents
 *   not stored yet; store each
 *   distinct license record once (license_records, one statement);
 *   reserve the samples' feed positions (feed_clock, one statement, waking
 *   the feed at COMMIT); COPY samples (with their license record's key),
 *   rejections and provenance events; upsert offsets; COMMIT.
 * Any connection failure, unique violation or serialisation failure is
 * SL_EIO: the runner re-reads the offsets from the database and rewinds.
 *
 * A batch the database refuses because of a row's data (SQLSTATE class 22,
 * 23 or 54, or unique violations COMMIT_UNIQUE_RETRIES times in a row) is
 * split: probe transactions, always rolled back, find the offending rows
 * (sl_commit_bisect), which are then written as commit_data_error
 * rejections with the server's message, in one transaction with the rest of
 * the batch and its offsets as always.  A poison row never stops commit.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl/audit.h"
#include "sl/crypto.h"
#include "sl/fpset.h"
#include "sl/log.h"
#include "sl/pg.h"
#include "sl/pgerr.h"
#include "sl/prov.h"
#include "sl/prov_pg.h"
#include "sl/quota_pg.h"
#include "sl/timeutil.h"
#include "commit.h"

#define COMMIT_VERSION "commit/1"
#define COMMIT_EDATA (-100)   /* the database refused a row's data */
/* Rounds of splitting a batch before commit gives up: each round turns at
 * least one row into a rejection, a second failure of the same row strips
 * its rejection to the bare minimum. */
#define COMMIT_SPLIT_ROUNDS 6
/* The same batch failing on a unique key this many times in a row is no
 * longer a race with another instance but a row that cannot be stored. */
#define COMMIT_UNIQUE_RETRIES 3

static const sl_cfg_entry commit_config[] = {
    { SL_CFG_STR, "audit.key.file", "commit-audit.key",
      "Ed25519 key signing each chain's head (created 0600 at first start; "
      "put it in the service's state directory, readable by commit only)" },
    SL_CFG_END
};

/* Kafka's limit on a topic name is 249 characters. */
#define COMMIT_TOPIC_MAX 256

typedef struct commit_ctx {
    char rejected_topic[COMMIT_TOPIC_MAX];  /* with topic.prefix */
    char flagged_topic[COMMIT_TOPIC_MAX];
    sl_commit_topics topics;
    sl_audit_signer *signer;                /* signs chain heads */
    sl_pgconn *pg;
    PGconn *conn;      /* pg's live connection, borrowed while a batch runs */
    sl_buf prov;       /* reused chain buffer */
    char sqlstate[6];                /* of the last failed statement */
    char sqlmsg[SL_ERRBUF_SIZE];
    int uv_count;      /* unique violations in a row, no batch written since */
    /* metrics (docs/metrics.md), declared by commit_metrics; NULL: none */
    uint64_t round_trips;            /* statements sent, since the start */
    sl_metric *m_rows, *m_bytes, *m_round_trips;
} commit_ctx;

/* The live connection for one statement, counted as a database round
 * trip: every statement commit sends goes through here (a COPY's end is
 * counted in copy_end). */
static PGconn *rt(commit_ctx *c)
{
    c->round_trips++;
    return c->conn;
}

static void drop_conn(commit_ctx *c)
{
    sl_pgconn_drop(c->pg);
    c->conn = NULL;
}

/* c->conn live, (re)connected by the shared object when needed.  Every
 * lookup here is by key: the session settings (pgconn.c) keep the planner
 * off sequential scans. */
static int ensure_conn(commit_ctx *c, sl_err *err)
{
    return sl_pgconn_get(c->pg, &c->conn, err);
}

/* Run on every new connection: the public half of the head-signing key,
 * for auditors. */
static int register_audit_key(PGconn *conn, void *arg, sl_err *err)
{
    commit_ctx *c = arg;
    const char *p[1] = { sl_audit_signer_key_id(c->signer) };
    PGresult *r = PQexecParams(conn, "INSERT INTO audit_keys (key_id, purpose)"
                               " VALUES ($1, 'commit') ON CONFLICT (key_id) DO NOTHING",
                               1, NULL, p, NULL, NULL, 0);
    int rc = SL_OK;

    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        rc = sl_pg_fail(conn, r, "registering the audit key (sluicectl db migrate?)",
                        err);
    PQclear(r);
    return rc;
}

/* Classifies a failed statement by the shared table (sl/pgerr.h): SL_EIO
 * for what a retry may cure (the connection, serialisation, deadlock,
 * resources), and here also for a unique key another instance took first
 * (see unique_repeated); COMMIT_EDATA for an error about the data itself,
 * which a retry never cures (SL_PGERR_DATA: class 22 data exception, 23
 * integrity, 54 program limit, e.g. an index row too large).  Remembers
 * the SQLSTATE and message. */
static int classify_state(commit_ctx *c, const char *state, int rc,
                          const sl_err *err)
{
    snprintf(c->sqlstate, sizeof(c->sqlstate), "%s", state ? state : "");
    snprintf(c->sqlmsg, sizeof(c->sqlmsg), "%s", err->msg);
    if (!state || rc == SL_EIO)
        return rc;
    if (strcmp(state, "23505") == 0)
        return SL_EIO;
    if (sl_pgerr_classify(state) == SL_PGERR_DATA)
        return COMMIT_EDATA;
    return rc;
}

static int classify(commit_ctx *c, PGresult *r, const char *what, sl_err *err)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    int rc = sl_pg_fail(c->conn, r, what, err);

    return classify_state(c, state, rc, err);
}

static int copy_end(commit_ctx *c, sl_pg_copy *cp, sl_err *err)
{
    int rc = sl_pg_copy_end(cp, err);

    c->round_trips++;
    return rc == SL_OK ? rc : classify_state(c, cp->sqlstate[0] ? cp->sqlstate : NULL,
                                             rc, err);
}

static int load_offsets(void *ctx, const char *group, sl_tp_offset *tps,
                        size_t n, sl_err *err)
{
    commit_ctx *c = ctx;
    const char *params[1] = { group };
    PGresult *r;
    int rc;

    if ((rc = ensure_conn(c, err)) != SL_OK)
        return rc;
    r = PQexecParams(rt(c), "SELECT topic, partition, next_offset FROM "
                     "consumer_offsets WHERE group_id = $1",
                     1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = sl_pg_fail(c->conn, r, "reading consumer_offsets", err);
        PQclear(r);
        drop_conn(c);
        return SL_EIO;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        for (size_t j = 0; j < n; j++) {
            if (strcmp(tps[j].topic, PQgetvalue(r, i, 0)) == 0 &&
                tps[j].partition == atoi(PQgetvalue(r, i, 1)))
                tps[j].offset = strtoll(PQgetvalue(r, i, 2), NULL, 10);
        }
    }
    PQclear(r);
    return SL_OK;
}

/* Locks the group's offsets and checks that no message of the batch was
 * already written.  SL_EIO on a conflict. */
static int check_offsets(commit_ctx *c, const char *group, const sl_msg *msgs,
                         size_t n, sl_err *err)
{
    const char *params[1] = { group };
    PGresult *r = PQexecParams(rt(c),
        "SELECT topic, partition, next_offset FROM consumer_offsets "
        "WHERE group_id = $1 FOR UPDATE", 1, NULL, params, NULL, NULL, 0);
    int rc = SL_OK;

    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = classify(c, r, "locking consumer_offsets", err);
        PQclear(r);
        return rc;
    }
    for (int i = 0; i < PQntuples(r) && rc == SL_OK; i++) {
        const char *topic = PQgetvalue(r, i, 0);
        int32_t part = atoi(PQgetvalue(r, i, 1));
        int64_t stored = strtoll(PQgetvalue(r, i, 2), NULL, 10);
        for (size_t j = 0; j < n; j++) {
            if (msgs[j].partition == part && strcmp(msgs[j].topic, topic) == 0 &&
                msgs[j].offset < stored) {
                sl_err_set(err, "%s/%d offset %" PRId64 " is below the stored "
                           "position %" PRId64 ": already written",
                           topic, part, msgs[j].offset, stored);
                rc = SL_EIO;
                break;
            }
        }
    }
    PQclear(r);
    return rc;
}

/* The batch's look-ups, prepared on every connection (sl_pgconn): each
 * takes one text[] of keys, which lookup() sends sorted and in binary
 * form.  Prepared, they are planned once, not for every batch's array
 * (the session settings keep their plans on the indexes, pgconn.c). */
static const sl_pg_stmt commit_stmts[] = {
    { "commit_uploads", "SELECT upload_id FROM samples "
                        "WHERE upload_id = ANY($1::text[]) UNION ALL "
                        "SELECT upload_id FROM review_items "
                        "WHERE upload_id = ANY($1::text[])", 1 },
    /* The hashes stored in contents, each with the datasets whose samples
     * hold it (NULL: none).  Every sample's content is in contents (commit
     * writes it first, in the same transaction, and nothing deletes it:
     * 025_hot_path_foreign_keys.sql), so new bytes -- most of a batch --
     * cost one probe of contents' key, not that and one of samples' too.
     * By hash alone (samples_sha256_dataset_key): a join on unnest() pairs
     * let the planner pick a sequential scan of samples per batch.  Pairs
     * from other datasets are harmless: decide() matches on the (dataset,
     * hash) fingerprint. */
    { "commit_hashes", "SELECT c.sha256, s.dataset_id FROM contents c "
                       "LEFT JOIN samples s ON s.sha256 = c.sha256 "
                       "WHERE c.sha256 = ANY($1::text[])", 1 },
};

/* Runs the prepared look-up `name` on the n keys (reordered here: see
 * sl_pg_keys_param).  SL_OK with *out for the caller to PQclear, SL_ENOMEM,
 * or classify()'s code with err naming `what`. */
static int lookup(commit_ctx *c, const char *name, const char *what,
                  const char **keys, size_t n, PGresult **out, sl_err *err)
{
    sl_buf arr;
    const char *p[1];
    int len[1], fmt[1] = { 1 }, rc;
    PGresult *r;

    *out = NULL;
    sl_buf_init(&arr, (size_t)1 << 30);
    if (sl_pg_keys_param(&arr, keys, n) != SL_OK) {
        sl_buf_free(&arr);
        return SL_ENOMEM;
    }
    p[0] = (const char *)arr.data;
    len[0] = (int)arr.len;      /* at most the buffer's 1 GiB */
    r = PQexecPrepared(rt(c), name, 1, p, len, fmt, 0);
    sl_buf_free(&arr);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = classify(c, r, what, err);
        PQclear(r);
        return rc;
    }
    *out = r;
    return SL_OK;
}

/* Fetches which of the batch's upload ids and (dataset, sha256) pairs exist
 * in samples already, and which of its hashes contents holds (by any
 * dataset), as fingerprints. */
static int existing(commit_ctx *c, const sl_commit_row *rows, size_t n,
                    sl_pairset *uploads, sl_pairset *contents,
                    sl_pairset *stored, sl_err *err)
{
    const char **ids = malloc((n ? n : 1) * sizeof(*ids));
    const char **hs = malloc((n ? n : 1) * sizeof(*hs));
    PGresult *r = NULL;
    sl_pairset *pairs = sl_pairset_new();   /* the batch's (dataset, hash) */
    size_t m = 0;
    int rc = SL_ENOMEM;

    if (!pairs || !ids || !hs)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (rows[i].kind == SL_ROW_REJECTION)
            continue;
        ids[m] = rows[i].upload_id;
        hs[m++] = rows[i].sha256;
        if (sl_pairset_add(pairs, sl_fpset_fp(rows[i].dataset_id, strlen(rows[i].dataset_id),
                                              rows[i].sha256, 64),
                           rows[i].dataset_id, rows[i].sha256) != SL_OK)
            goto out;
    }
    if (m == 0) {
        rc = SL_OK;
        goto out;
    }
    if ((rc = lookup(c, "commit_uploads", "looking up upload ids", ids, m, &r,
                     err)) != SL_OK)
        goto out;
    rc = SL_ENOMEM;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *u = PQgetvalue(r, i, 0);
        if (sl_pairset_add(uploads, sl_fpset_fp(u, strlen(u), "", 0), u, "") != SL_OK)
            goto out;
    }
    PQclear(r);
    if ((rc = lookup(c, "commit_hashes", "looking up contents", hs, m, &r,
                     err)) != SL_OK)
        goto out;
    rc = SL_ENOMEM;
    /* The same bytes may sit in many other datasets: keep only the pairs
     * this batch has, so the set stays within its n entries. */
    for (int i = 0; i < PQntuples(r); i++) {
        const char *h = PQgetvalue(r, i, 0), *d = PQgetvalue(r, i, 1);
        size_t hl = strlen(h);
        uint64_t fh = sl_fpset_fp(h, hl, "", 0), fp;

        if (sl_pairset_add(stored, fh, h, "") != SL_OK)   /* once a hash */
            goto out;
        if (PQgetisnull(r, i, 1))
            continue;
        fp = sl_fpset_fp(d, strlen(d), h, hl);
        if (sl_pairset_has(pairs, fp, d, h) &&
            sl_pairset_add(contents, fp, d, h) != SL_OK)
            goto out;
    }
    rc = SL_OK;
out:
    PQclear(r);
    free(ids);
    free(hs);
    sl_pairset_destroy(pairs);
    return rc;
}

/* Turns samples whose upload id or content exists (in the database or
 * earlier in this batch) into commit rejections. */
static int decide(sl_commit_row *rows, size_t n, sl_pairset *uploads,
                  sl_pairset *contents)
{
    char detail[512];

    for (size_t i = 0; i < n; i++) {
        sl_commit_row *r = &rows[i];
        uint64_t fu, fc;
        if (r->kind == SL_ROW_REJECTION || r->kind == SL_ROW_SKIP)
            continue;
        fu = sl_fpset_fp(r->upload_id, strlen(r->upload_id), "", 0);
        fc = sl_fpset_fp(r->dataset_id, strlen(r->dataset_id), r->sha256, 64);
        /* A reviewed sample's upload is a review item, not a replay: the
         * database confirmed the decision (commit_review_pg.c). */
        if (!sl_commit_row_reviewed(r) && sl_pairset_has(uploads, fu, r->upload_id, "")) {
            snprintf(detail, sizeof(detail), "upload id \"%s\" was already accepted",
                     r->upload_id);
            if (sl_commit_row_reject(r, "replay", detail) != SL_OK)
                return SL_ENOMEM;
        } else if (sl_pairset_has(contents, fc, r->dataset_id, r->sha256)) {
            snprintf(detail, sizeof(detail), "content %s is already in dataset \"%s\"",
                     r->sha256, r->dataset_id);
            if (sl_commit_row_reject(r, "duplicate", detail) != SL_OK)
                return SL_ENOMEM;
        } else if (sl_pairset_add(uploads, fu, r->upload_id, "") != SL_OK ||
                   sl_pairset_add(contents, fc, r->dataset_id, r->sha256) != SL_OK) {
            return SL_ENOMEM;
        }
    }
    return SL_OK;
}

/* What a quota statement's failure means to this stage (classify_state),
 * from the code and SQLSTATE sl/quota_pg.h and sl/prov_pg.h report. */
static int classify_rc(commit_ctx *c, int rc, const char *state, sl_err *err)
{
    if (rc == SL_OK || rc == SL_ENOMEM)
        return rc;
    return classify_state(c, state[0] ? state : NULL, rc, err);
}

/* The batch's samples under a quota: each sample row's limits and its
 * (creator, dataset) pair, whose usage the rows take in turn. */
typedef struct quota_batch {
    sl_quota *limits;      /* per row; unlimited for other rows */
    size_t *pair;          /* per row: its entry in pairs, or SIZE_MAX */
    sl_quota_pair *pairs;
    size_t npairs;
} quota_batch;

static void quota_batch_free(quota_batch *qb)
{
    free(qb->limits);
    free(qb->pair);
    free(qb->pairs);
}

/* Reads the limits of the datasets the batch's samples go to. */
static int quota_limits(commit_ctx *c, const sl_commit_row *rows, size_t n,
                        quota_batch *qb, sl_err *err)
{
    const char **ids = calloc(n ? n : 1, sizeof(*ids));
    size_t *at = calloc(n ? n : 1, sizeof(*at));
    sl_quota *got = calloc(n ? n : 1, sizeof(*got));
    char state[6] = "";
    size_t k = 0;
    int rc = SL_ENOMEM;

    if (!ids || !at || !got)
        goto out;
    for (size_t i = 0; i < n; i++) {
        qb->limits[i].count = qb->limits[i].bytes = SL_QUOTA_UNLIMITED;
        if (rows[i].kind == SL_ROW_SAMPLE) {
            at[k] = i;
            ids[k++] = rows[i].dataset_id;
        }
    }
    rc = classify_rc(c, sl_quota_pg_limits(rt(c), ids, k, got, state, err),
                     state, err);
    for (size_t j = 0; rc == SL_OK && j < k; j++)
        qb->limits[at[j]] = got[j];
out:
    free(ids);
    free(at);
    free(got);
    return rc;
}

/* The distinct pairs of the samples under a quota, locked, with today's
 * usage. */
static int quota_usage(commit_ctx *c, const sl_commit_row *rows, size_t n,
                       quota_batch *qb, sl_err *err)
{
    char state[6] = "";

    for (size_t i = 0; i < n; i++) {
        size_t j;
        qb->pair[i] = SIZE_MAX;
        if (rows[i].kind != SL_ROW_SAMPLE || !sl_quota_limited(&qb->limits[i]))
            continue;
        j = sl_quota_pair_find(qb->pairs, qb->npairs, rows[i].creator_id,
                               rows[i].dataset_id);
        if (j == qb->npairs) {
            qb->pairs[j].creator_id = rows[i].creator_id;
            qb->pairs[j].dataset_id = rows[i].dataset_id;
            qb->npairs++;
        }
        qb->pair[i] = j;
    }
    if (qb->npairs == 0)
        return SL_OK;
    return classify_rc(c, sl_quota_pg_usage(rt(c), qb->pairs, qb->npairs, true,
                                            state, err), state, err);
}

/* Each sample in turn takes its place in its pair's quota, or becomes a
 * quota_exceeded rejection. */
static int quota_apply(sl_commit_row *rows, size_t n, quota_batch *qb)
{
    char detail[512];

    for (size_t i = 0; i < n; i++) {
        sl_quota_pair *p;
        if (qb->pair[i] == SIZE_MAX)
            continue;
        p = &qb->pairs[qb->pair[i]];
        if (sl_quota_take(&qb->limits[i], &p->used,
                          (int64_t)rows[i].content.len) == SL_QUOTA_FITS)
            continue;
        snprintf(detail, sizeof(detail), "creator \"%s\" is at the daily quota "
                 "of dataset \"%s\" (%lld samples, %lld bytes today)",
                 rows[i].creator_id, rows[i].dataset_id,
                 (long long)p->used.count, (long long)p->used.bytes);
        if (sl_commit_row_reject(&rows[i], "quota_exceeded", detail) != SL_OK)
            return SL_ENOMEM;
    }
    return SL_OK;
}

/* The database's word on reviewed samples and resent dead letters
 * (commit_review_pg.c), its failures classified like commit's own. */
static int review_rows(commit_ctx *c, sl_commit_row *rows, size_t n, sl_err *err)
{
    char state[6] = "";

    return classify_rc(c, sl_commit_review_rows(rt(c), rows, n, state, err),
                       state, err);
}

/* Moves the rows there is nothing to write for (SL_ROW_SKIP) behind the
 * others, keeping their order; returns how many are left to write. */
static size_t skip_last(sl_commit_row *rows, size_t n)
{
    size_t w = 0;

    for (size_t i = 0; i < n; i++) {
        if (rows[i].kind == SL_ROW_SKIP)
            continue;
        if (i != w) {
            sl_commit_row t = rows[w];
            rows[w] = rows[i];
            rows[i] = t;
        }
        w++;
    }
    return w;
}

/* Daily quotas, exactly: the license stage refuses early from what the
 * database and its own counts say, but only here, inside the transaction
 * that writes the rows, can the count include every instance's samples.
 * Pairs (creator, dataset) with a quota are locked (advisory, in a fixed
 * order) so two commit instances cannot both take the last slot. */
static int enforce_quotas(commit_ctx *c, sl_commit_row *rows, size_t n,
                          sl_err *err)
{
    quota_batch qb = {
        .limits = calloc(n ? n : 1, sizeof(*qb.limits)),
        .pair = calloc(n ? n : 1, sizeof(*qb.pair)),
        .pairs = calloc(n ? n : 1, sizeof(*qb.pairs)),
    };
    int rc = SL_ENOMEM;

    if (qb.limits && qb.pair && qb.pairs &&
        (rc = quota_limits(c, rows, n, &qb, err)) == SL_OK &&
        (rc = quota_usage(c, rows, n, &qb, err)) == SL_OK)
        rc = quota_apply(rows, n, &qb);
    quota_batch_free(&qb);
    return rc;
}

/* Adds the batch's accepted samples to quota_usage, per (dataset,
 * creator), for today (UTC): the rows quota checks read.  In the batch's
 * transaction, so the counts move exactly with the samples. */
static int add_usage(commit_ctx *c, const sl_commit_row *rows, size_t n,
                     sl_err *err)
{
    sl_quota_pair *deltas = calloc(n ? n : 1, sizeof(*deltas));
    char state[6] = "";
    size_t k = 0;
    int rc;

    if (!deltas)
        return SL_ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (rows[i].kind == SL_ROW_SAMPLE)
            deltas[k++] = (sl_quota_pair){ rows[i].creator_id, rows[i].dataset_id,
                                           { 1, (int64_t)rows[i].content.len } };
    rc = classify_rc(c, sl_quota_pg_add(rt(c), deltas, k, state, err), state, err);
    free(deltas);
    return rc;
}

static const char *owner_kind(const sl_commit_row *r)
{
    return r->kind == SL_ROW_SAMPLE ? "sample" :
           r->kind == SL_ROW_REVIEW ? "review" : "rejection";
}

static void owner_of(const sl_commit_row *r, char *out, size_t outsz)
{
    if (r->kind != SL_ROW_REJECTION)
        snprintf(out, outsz, "%s", r->upload_id);
    else
        snprintf(out, outsz, "%s/%" PRId32 "/%" PRId64, r->source_topic,
                 r->source_partition, r->source_offset);
}

/* Appends the commit event to a row's chain and COPYs every event; head
 * gets the new last event. */
static int copy_provenance(sl_pg_copy *cp, const sl_commit_row *r,
                           sl_prov_head *head, sl_err *err)
{
    sl_prov_event ev = {
        .stage = "commit", .version = COMMIT_VERSION,
        .outcome = r->kind == SL_ROW_SAMPLE ? "committed" :
                   r->kind == SL_ROW_REVIEW ? "queued_for_review" : "rejected",
        .reason = r->kind == SL_ROW_REJECTION ? r->code : NULL,
        .upload_id = r->upload_id, .input_sha256 = r->sha256,
        .output_sha256 = r->sha256, .time_ms = sl_now_ms(),
    };
    sl_prov_chain *pc = r->chain, *fresh = NULL;
    char owner[SL_ID_MAX * 2];
    const char *origin = sl_commit_row_origin(r);

    /* describe() kept the incoming chain if it verified; a missing or
     * broken one is restarted, never continued. */
    if (!pc && !(pc = fresh = sl_prov_chain_new(origin, err)))
        return SL_ERR;
    if (sl_prov_chain_add(pc, &ev, err) != SL_OK) {
        sl_prov_chain_destroy(fresh);
        return SL_ERR;
    }
    owner_of(r, owner, sizeof(owner));
    sl_prov_pg_copy_events(cp, owner_kind(r), owner, pc, 0, head);
    sl_prov_chain_destroy(fresh);
    return SL_OK;
}

/* The batch's bound license records, each distinct one once (usually
 * one or a few a batch: the license stage writes the same record for every
 * sample bound under one policy and license): keys[i] gets the SHA-256 of
 * rows[i]'s record (empty when none), and each record is stored in
 * license_records unless it is there already (027_license_records.sql). */
static int store_licenses(commit_ctx *c, const sl_commit_row *rows, size_t n,
                          char (*keys)[SL_SHA256_HEX], sl_err *err)
{
    sl_buf ks, rs;
    sl_pairset *stored = sl_pairset_new();
    const char *prev = NULL;   /* the last record hashed: rows run alike */
    char prev_key[SL_SHA256_HEX] = "";
    PGresult *r = NULL;
    const char *p[2];
    int rc = SL_ENOMEM, any = 0;

    sl_buf_init(&ks, (size_t)1 << 30);
    sl_buf_init(&rs, (size_t)1 << 30);
    if (!stored)
        goto out;
    for (size_t i = 0; i < n; i++) {
        const char *lic = rows[i].license;
        uint64_t fp;

        keys[i][0] = '\0';
        if (rows[i].kind != SL_ROW_SAMPLE || !lic)
            continue;
        if (prev && strcmp(prev, lic) == 0) {
            memcpy(keys[i], prev_key, SL_SHA256_HEX);
            continue;
        }
        if (sl_sha256_hex(lic, strlen(lic), keys[i]) != SL_OK)
            goto out;
        prev = lic;
        memcpy(prev_key, keys[i], SL_SHA256_HEX);
        fp = sl_fpset_fp(keys[i], 64, "", 0);
        if (sl_pairset_has(stored, fp, keys[i], ""))
            continue;
        if (sl_pairset_add(stored, fp, keys[i], "") != SL_OK ||
            sl_pg_array_add(&ks, keys[i]) || sl_pg_array_add(&rs, lic))
            goto out;
        any = 1;
    }
    if (!any) {
        rc = SL_OK;
        goto out;
    }
    if (sl_pg_array_close(&ks) || sl_pg_array_close(&rs))
        goto out;
    p[0] = (const char *)ks.data;
    p[1] = (const char *)rs.data;
    r = PQexecParams(rt(c), "INSERT INTO license_records (sha256, record)"
                     " SELECT k, v::jsonb FROM unnest($1::text[], $2::text[]) AS u(k, v)"
                     " ON CONFLICT (sha256) DO NOTHING", 2, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        rc = classify(c, r, "storing license records", err);
        goto out;
    }
    rc = SL_OK;
out:
    PQclear(r);
    sl_pairset_destroy(stored);
    sl_buf_free(&ks);
    sl_buf_free(&rs);
    return rc;
}

/* The columns samples and review_items share, in this order:
 * upload_id, creator_id, dataset_id, content_type, detected_type, sha256,
 * size, license_expression, filename, meta, signature, created_at,
 * source_topic, source_partition, source_offset. */
#define UPLOAD_COLUMNS "upload_id, creator_id, dataset_id, content_type, " \
    "detected_type, sha256, size, license_expression, filename, meta, " \
    "signature, created_at, source_topic, source_partition, source_offset"

static void copy_upload_columns(sl_pg_copy *cp, const sl_commit_row *r)
{
    sl_pg_copy_str(cp, r->upload_id);
    sl_pg_copy_str(cp, r->creator_id);
    sl_pg_copy_str(cp, r->dataset_id);
    sl_pg_copy_str(cp, r->content_type);
    sl_pg_copy_str(cp, r->detected_type);
    sl_pg_copy_str(cp, r->sha256);
    sl_pg_copy_int(cp, (int64_t)r->content.len);
    sl_pg_copy_str(cp, r->license_expression);
    sl_pg_copy_str(cp, r->filename);
    sl_pg_copy_text(cp, (const char *)r->meta.ptr, r->meta.len);
    sl_pg_copy_str(cp, r->signature);
    sl_pg_copy_str(cp, r->created_at);
    sl_pg_copy_str(cp, r->source_topic);
    sl_pg_copy_int(cp, r->source_partition);
    sl_pg_copy_int(cp, r->source_offset);
}

/* Flagged samples, for the moderators: review_items rows. */
static int copy_reviews(commit_ctx *c, const sl_commit_row *rows, size_t n,
                        sl_err *err)
{
    sl_pg_copy cp;
    int rc, any = 0;

    for (size_t i = 0; i < n; i++)
        any |= rows[i].kind == SL_ROW_REVIEW;
    if (!any)
        return SL_OK;
    if ((rc = sl_pg_copy_begin(&cp, rt(c),
             "COPY review_items (" UPLOAD_COLUMNS ", findings) FROM STDIN", err)))
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (rows[i].kind != SL_ROW_REVIEW)
            continue;
        copy_upload_columns(&cp, &rows[i]);
        sl_pg_copy_str(&cp, rows[i].scan);
        sl_pg_copy_row_end(&cp);
    }
    return copy_end(c, &cp, err);
}

/* Stores the head of each row's chain and seals them all with one
 * signature (010_chain_heads.sql, sl/audit.h). */
static int copy_heads(commit_ctx *c, const sl_commit_row *rows,
                      const sl_prov_head *heads, size_t n, sl_err *err)
{
    typedef char owner_buf[SL_ID_MAX * 2];
    owner_buf *owners = malloc((n ? n : 1) * sizeof(*owners));
    sl_audit_headref *refs = malloc((n ? n : 1) * sizeof(*refs));
    char state[6] = "";
    int rc = SL_ENOMEM;

    if (owners && refs) {
        for (size_t i = 0; i < n; i++) {
            owner_of(&rows[i], owners[i], sizeof(owners[i]));
            refs[i] = (sl_audit_headref){ owner_kind(&rows[i]), owners[i],
                                          heads[i].seq, heads[i].hash };
        }
        rc = classify_rc(c, sl_prov_pg_seal(rt(c), c->signer, refs, n, NULL,
                                            state, err), state, err);
    }
    free(owners);
    free(refs);
    return rc;
}

/* Reserves n_samples positions of the feed's commit order (017_feed.sql,
 * feed_clock 'samples') in one statement, which also queues the feed's
 * wake-up (delivered at COMMIT).  The clock's row stays locked until the
 * batch's transaction ends, so positions become visible in order; a
 * rolled-back batch (or a bisection probe) leaves a gap, which readers
 * expect.  *base: the first position; row i of the batch's samples gets
 * base + i. */
static int reserve_feed_seq(commit_ctx *c, size_t n_samples, int64_t *base,
                            sl_err *err)
{
    char num[32];
    const char *p[1] = { num };
    PGresult *r;
    int rc = SL_OK;

    snprintf(num, sizeof(num), "%zu", n_samples);
    r = PQexecParams(rt(c),
        "WITH c AS (UPDATE feed_clock SET next_seq = next_seq + $1::bigint"
        " WHERE stream = 'samples' RETURNING next_seq - $1::bigint AS base)"
        " SELECT base, pg_notify('sluice_feed', 'samples') FROM c",
        1, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        rc = classify(c, r, "reserving feed positions", err);
    else if (PQntuples(r) != 1) {
        sl_err_set(err, "reserving feed positions: feed_clock has no "
                   "'samples' row (sluicectl db migrate?)");
        rc = SL_ERR;
    } else
        *base = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return rc;
}

/* Writes the batch's rows; seen holds the hashes contents has already
 * (existing()), and gets the batch's new ones. */
static int write_rows(commit_ctx *c, const sl_commit_row *rows, size_t n,
                      sl_pairset *seen, sl_err *err)
{
    sl_pg_copy cp;
    sl_prov_head *heads = NULL;
    char ts[SL_TIME_LEN], (*keys)[SL_SHA256_HEX] = NULL;
    size_t n_samples = 0;
    int rc;

    /* contents, once per SHA-256: straight into the table, skipping what
     * it already holds.  Another instance storing the same bytes since
     * existing() looked makes this COPY fail on the key; the batch is
     * retried.
     * Binary COPY: the bytes go as they are, not as hex PostgreSQL must
     * decode (measured alone: 9.5 against 19 us a 1 KiB row). */
    if ((rc = sl_pg_copy_begin_binary(&cp, rt(c),
             "COPY contents (sha256, size, data) FROM STDIN WITH (FORMAT binary)",
             err)))
        goto out;
    for (size_t i = 0; i < n; i++) {
        const sl_commit_row *r = &rows[i];
        uint64_t fp = sl_fpset_fp(r->sha256, 64, "", 0);
        if (r->kind == SL_ROW_REJECTION || sl_pairset_has(seen, fp, r->sha256, ""))
            continue;
        if (sl_pairset_add(seen, fp, r->sha256, "") != SL_OK) {
            sl_err ignore;
            cp.failed = 1;
            sl_pg_copy_end(&cp, &ignore);
            rc = SL_ENOMEM;
            goto out;
        }
        sl_pg_copy_str(&cp, r->sha256);
        sl_pg_copy_int(&cp, (int64_t)r->content.len);
        sl_pg_copy_bytea(&cp, r->content.ptr, r->content.len);
        sl_pg_copy_row_end(&cp);
    }
    if ((rc = copy_end(c, &cp, err)))
        goto out;

    for (size_t i = 0; i < n; i++)
        n_samples += rows[i].kind == SL_ROW_SAMPLE;
    if (n_samples > 0) {
        int64_t seq = 0;   /* set by reserve_feed_seq (gcc -O2 cannot tell) */
        if (!(keys = malloc(n * sizeof(*keys)))) {
            rc = SL_ENOMEM;
            goto out;
        }
        if ((rc = store_licenses(c, rows, n, keys, err)) != SL_OK)
            goto out;
        if ((rc = reserve_feed_seq(c, n_samples, &seq, err)) != SL_OK)
            goto out;
        if ((rc = sl_pg_copy_begin(&cp, rt(c),
                 "COPY samples (" UPLOAD_COLUMNS ", scan, original_sha256,"
                 " license_sha256, feed_seq) FROM STDIN", err)))
            goto out;
        for (size_t i = 0; i < n; i++) {
            const sl_commit_row *r = &rows[i];
            if (r->kind != SL_ROW_SAMPLE)
                continue;
            copy_upload_columns(&cp, r);
            sl_pg_copy_str(&cp, r->scan);
            sl_pg_copy_str(&cp, r->original_sha256[0] ? r->original_sha256 : NULL);
            sl_pg_copy_str(&cp, keys[i][0] ? keys[i] : NULL);
            sl_pg_copy_int(&cp, seq++);
            sl_pg_copy_row_end(&cp);
        }
        if ((rc = copy_end(c, &cp, err)))
            goto out;
    }

    if ((rc = copy_reviews(c, rows, n, err)) != SL_OK)
        goto out;

    if ((rc = sl_pg_copy_begin(&cp, rt(c),
             "COPY rejections (upload_id, creator_id, dataset_id, stage, code, "
             "detail, sha256, size, meta, source_topic, source_partition, "
             "source_offset, rejected_at) FROM STDIN", err)))
        goto out;
    for (size_t i = 0; i < n; i++) {
        const sl_commit_row *r = &rows[i];
        if (r->kind != SL_ROW_REJECTION)
            continue;
        sl_pg_copy_str(&cp, r->upload_id);
        sl_pg_copy_str(&cp, r->creator_id);
        sl_pg_copy_str(&cp, r->dataset_id);
        sl_pg_copy_str(&cp, r->stage);
        sl_pg_copy_str(&cp, r->code);
        sl_pg_copy_str(&cp, r->detail);
        sl_pg_copy_str(&cp, r->sha256);
        sl_pg_copy_int(&cp, r->size);
        if (r->meta.ptr)
            sl_pg_copy_bytea(&cp, r->meta.ptr, r->meta.len);
        else
            sl_pg_copy_text(&cp, NULL, 0);
        sl_pg_copy_str(&cp, r->source_topic);
        sl_pg_copy_int(&cp, r->source_partition);
        sl_pg_copy_int(&cp, r->source_offset);
        if (r->rejected_ms < SL_TIME_MIN_US / 1000 ||
            r->rejected_ms > SL_TIME_MAX_US / 1000 ||
            sl_time_format_us(r->rejected_ms * 1000, ts) != SL_OK)
            sl_time_format_us(sl_now_ms() * 1000, ts);
        sl_pg_copy_str(&cp, ts);
        sl_pg_copy_row_end(&cp);
    }
    if ((rc = copy_end(c, &cp, err)))
        goto out;

    if ((rc = sl_prov_pg_copy_begin(&cp, rt(c), err)))
        goto out;
    if (!(heads = calloc(n ? n : 1, sizeof(*heads)))) {
        sl_err ignore;
        cp.failed = 1;
        sl_pg_copy_end(&cp, &ignore);
        rc = SL_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n && rc == SL_OK; i++)
        rc = copy_provenance(&cp, &rows[i], &heads[i], err);
    if (rc != SL_OK) {
        sl_err ignore;
        cp.failed = 1;
        sl_pg_copy_end(&cp, &ignore);
        if (rc != SL_ENOMEM) {
            /* A row whose chain cannot be built (a field the event format
             * refuses) is as much a data error as one the database refuses. */
            c->sqlstate[0] = '\0';
            snprintf(c->sqlmsg, sizeof(c->sqlmsg), "%s", err->msg);
            rc = COMMIT_EDATA;
        }
        goto out;
    }
    if ((rc = copy_end(c, &cp, err)))
        goto out;
    rc = copy_heads(c, rows, heads, n, err);
out:
    free(keys);
    free(heads);
    return rc;
}

static int save_offsets(commit_ctx *c, const char *group,
                        const sl_tp_offset *next, size_t n_next, sl_err *err)
{
    sl_buf topics, parts, offs;
    char num[32];
    PGresult *r;
    int rc = SL_ENOMEM;

    sl_buf_init(&topics, 1 << 20);
    sl_buf_init(&parts, 1 << 20);
    sl_buf_init(&offs, 1 << 20);
    for (size_t i = 0; i < n_next; i++) {
        if (sl_pg_array_add(&topics, next[i].topic))
            goto out;
        snprintf(num, sizeof(num), "%" PRId32, next[i].partition);
        if (sl_pg_array_add(&parts, num))
            goto out;
        snprintf(num, sizeof(num), "%" PRId64, next[i].offset);
        if (sl_pg_array_add(&offs, num))
            goto out;
    }
    if (sl_pg_array_close(&topics) || sl_pg_array_close(&parts) || sl_pg_array_close(&offs))
        goto out;
    {
        const char *p[4] = { group, (const char *)topics.data,
                             (const char *)parts.data, (const char *)offs.data };
        r = PQexecParams(rt(c),
            "INSERT INTO consumer_offsets (group_id, topic, partition, next_offset) "
            "SELECT $1, t, p, o FROM unnest($2::text[], $3::int[], $4::bigint[]) "
            "AS q(t, p, o) ON CONFLICT (group_id, topic, partition) DO UPDATE "
            "SET next_offset = EXCLUDED.next_offset, updated_at = now()",
            4, NULL, p, NULL, NULL, 0);
        rc = PQresultStatus(r) == PGRES_COMMAND_OK ? SL_OK
                                                   : classify(c, r, "saving offsets", err);
        PQclear(r);
    }
out:
    sl_buf_free(&topics);
    sl_buf_free(&parts);
    sl_buf_free(&offs);
    return rc;
}

/* One batch being written: the messages and, per message, whether and how
 * it is to be stored as a commit_data_error rejection. */
typedef struct batch {
    commit_ctx *c;
    const char *group;
    const sl_msg *msgs;
    size_t n;
    unsigned char *level;   /* 0: as described; 1: data-error rejection; 2: bare */
    char **why;             /* per message: the refusal's detail */
    int unique_is_data;     /* count 23505 as a data error (repeated) */
    const sl_tp_offset *next;
    size_t n_next;
    sl_err *err;
} batch;

/* A row the database refused, as a rejection with the server's word for
 * it, identified by the message's own position.  Bare (a second refusal, of the rejection itself): without the
 * metadata, identities from it, or the incoming chain. */
static int mark_data_error(sl_commit_row *r, const sl_msg *m, const char *why,
                           int bare)
{
    /* Identified by where commit read it, which no other row can share
     * (a dead letter's own headers may name a position already stored). */
    char *topic = strdup(m->topic);

    if (!topic)
        return SL_ENOMEM;
    free(r->source_topic);
    r->source_topic = topic;
    r->source_partition = m->partition;
    r->source_offset = m->offset;
    if (bare) {
        r->meta.ptr = NULL;
        r->meta.len = 0;
        free(r->upload_id);
        free(r->creator_id);
        free(r->dataset_id);
        r->upload_id = r->creator_id = r->dataset_id = NULL;
        sl_prov_chain_destroy(r->chain);
        r->chain = NULL;
    }
    return sl_commit_row_reject(r, "commit_data_error", why ? why : "");
}

/* Writes msgs[idx[0..k)] (all of them when idx is NULL) in one
 * transaction.  final: with the offset check and the offsets, committed;
 * otherwise a probe for sl_commit_bisect, rolled back whatever happens.
 * SL_OK, COMMIT_EDATA, SL_EIO, SL_ENOMEM or SL_ERR. */
static int run_batch(batch *b, const size_t *idx, size_t k, int final)
{
    commit_ctx *c = b->c;
    sl_err *err = b->err;
    sl_commit_row *rows = calloc(k ? k : 1, sizeof(*rows));
    sl_pairset *uploads = sl_pairset_new(), *contents = sl_pairset_new();
    sl_pairset *stored = sl_pairset_new();   /* hashes in contents */
    size_t described = 0, n_samples = 0, w;
    int rc = SL_ENOMEM, in_txn = 0;

    c->sqlstate[0] = '\0';
    if (!rows || !uploads || !contents || !stored)
        goto out;
    for (; described < k; described++) {
        size_t i = idx ? idx[described] : described;
        if ((rc = sl_commit_describe(&b->msgs[i], &c->topics,
                                     &rows[described])) != SL_OK)
            goto out;
        if (b->level[i] &&
            (rc = mark_data_error(&rows[described], &b->msgs[i], b->why[i],
                                  b->level[i] > 1)) != SL_OK)
            goto out;
    }
    if ((rc = ensure_conn(c, err)) != SL_OK)
        goto out;
    if ((rc = sl_pg_exec(rt(c), "BEGIN", err)) != SL_OK)
        goto out;
    in_txn = 1;
    if ((final && (rc = check_offsets(c, b->group, b->msgs, b->n, err)) != SL_OK) ||
        (rc = review_rows(c, rows, k, err)) != SL_OK ||
        (rc = existing(c, rows, k, uploads, contents, stored, err)) != SL_OK ||
        (rc = decide(rows, k, uploads, contents)) != SL_OK)
        goto out;
    w = skip_last(rows, k);   /* sent twice: only the offsets move on */
    if ((rc = enforce_quotas(c, rows, w, err)) != SL_OK ||
        (rc = write_rows(c, rows, w, stored, err)) != SL_OK ||
        (rc = add_usage(c, rows, w, err)) != SL_OK)
        goto out;
    if (!final)
        goto out;   /* a probe: rolled back below */
    if ((rc = save_offsets(c, b->group, b->next, b->n_next, err)) != SL_OK)
        goto out;
    in_txn = 0;
    if ((rc = sl_pg_exec(rt(c), "COMMIT", err)) != SL_OK) {
        /* Unknown outcome: the offsets in the database will tell. */
        drop_conn(c);
        rc = SL_EIO;
        goto out;
    }
    for (size_t i = 0; i < k; i++)
        n_samples += rows[i].kind == SL_ROW_SAMPLE;
    sl_debug("commit", "committed %zu samples and %zu rejections", n_samples,
             w - n_samples);
out:
    if (in_txn) {
        sl_err ignore;
        if (c->conn && sl_pg_exec(rt(c), "ROLLBACK", &ignore) != SL_OK)
            drop_conn(c);
        if (rc == SL_ENOMEM)
            sl_err_set(err, "out of memory");
    }
    if (rc != SL_OK && (!c->conn || PQstatus(c->conn) != CONNECTION_OK)) {
        drop_conn(c);
        rc = SL_EIO;
    }
    if (rc == SL_EIO && b->unique_is_data && strcmp(c->sqlstate, "23505") == 0)
        rc = COMMIT_EDATA;
    for (size_t i = 0; i < described; i++)
        sl_commit_row_clear(&rows[i]);
    free(rows);
    sl_pairset_destroy(uploads);
    sl_pairset_destroy(contents);
    sl_pairset_destroy(stored);
    return rc;
}

static int probe(void *ctx, const size_t *idx, size_t k)
{
    int rc = run_batch(ctx, idx, k, 0);

    return rc == SL_OK ? 0 : rc == COMMIT_EDATA ? 1 : rc;
}

/* The batch failed on a data error: finds the offending rows, and gives
 * each the detail of its own refusal (probed alone; a row that only fails
 * together with others gets the batch's).  Raises their level. */
static int split(batch *b, sl_err *err)
{
    commit_ctx *c = b->c;
    size_t *idx = malloc(b->n * sizeof(*idx));
    unsigned char *found = calloc(b->n, 1);
    char whole[SL_ERRBUF_SIZE + 16], detail[2 * SL_ERRBUF_SIZE + 128];
    size_t nfound = 0;
    int rc = SL_ENOMEM;

    snprintf(whole, sizeof(whole), "%s: %s", c->sqlstate, c->sqlmsg);
    if (!idx || !found)
        goto out;
    for (size_t i = 0; i < b->n; i++)
        idx[i] = i;
    /* The rows alone, without the offset check and save: if they write, the
     * data error was not a row's (the offsets, the group): not ours to
     * split, and no row may pay for it. */
    if ((rc = probe(b, idx, b->n)) == 0) {
        sl_err_set(err, "the batch's rows write without its offsets; the data "
                   "error (%s) is not a row's", whole);
        rc = SL_ERR;
        goto out;
    }
    if (rc < 0 || (rc = sl_commit_bisect(idx, b->n, probe, b, found)) != SL_OK)
        goto out;
    for (size_t i = 0; i < b->n; i++) {
        int t;
        char *w;
        if (!found[i])
            continue;
        nfound++;
        if ((t = probe(b, &i, 1)) < 0) {
            rc = t;
            goto out;
        }
        if (t == 1 && !c->sqlstate[0])
            snprintf(detail, sizeof(detail), "the row cannot be written: %s",
                     c->sqlmsg);
        else if (t == 1)
            snprintf(detail, sizeof(detail), "the database refused the row: "
                     "SQLSTATE %s: %s", c->sqlstate, c->sqlmsg);
        else
            snprintf(detail, sizeof(detail), "the database refused the row "
                     "together with others of its batch: SQLSTATE %s", whole);
        if (!(w = strdup(detail))) {
            rc = SL_ENOMEM;
            goto out;
        }
        free(b->why[i]);
        b->why[i] = w;
        b->level[i]++;
        sl_warn("commit", "%s/%" PRId32 " offset %" PRId64 ": %s",
                b->msgs[i].topic, b->msgs[i].partition, b->msgs[i].offset, detail);
        if (b->level[i] > 2) {
            sl_err_set(err, "%s/%" PRId32 " offset %" PRId64 " cannot be stored "
                       "even as a bare rejection: %s", b->msgs[i].topic,
                       b->msgs[i].partition, b->msgs[i].offset, detail);
            rc = SL_ERR;
            goto out;
        }
    }
    sl_info("commit", "batch of %zu split: %zu row(s) refused by the database "
            "become commit_data_error rejections", b->n, nfound);
    rc = SL_OK;
out:
    free(idx);
    free(found);
    return rc;
}

/* A unique violation is retried (another instance may have stored the same
 * content a moment earlier: the next attempt sees it), but
 * COMMIT_UNIQUE_RETRIES of them in a row, without a batch written in
 * between, is a row that can never be stored. */
static int unique_repeated(commit_ctx *c)
{
    return ++c->uv_count >= COMMIT_UNIQUE_RETRIES;
}

static int write_batch(void *ctx, const char *group, const sl_msg *msgs, size_t n,
                       const sl_tp_offset *next, size_t n_next, sl_err *err)
{
    commit_ctx *c = ctx;
    batch b = {
        .c = c, .group = group, .msgs = msgs, .n = n, .next = next,
        .n_next = n_next, .err = err,
        .level = calloc(n ? n : 1, 1), .why = calloc(n ? n : 1, sizeof(char *)),
    };
    int rc = SL_ENOMEM;
    const uint64_t trips = c->round_trips;

    if (!b.level || !b.why)
        goto out;
    for (int round = 0;; round++) {
        rc = run_batch(&b, NULL, n, 1);
        if (rc == SL_EIO && strcmp(c->sqlstate, "23505") == 0 &&
            unique_repeated(c)) {
            b.unique_is_data = 1;
            rc = COMMIT_EDATA;
        }
        if (rc != COMMIT_EDATA)
            break;
        if (round == COMMIT_SPLIT_ROUNDS) {
            sl_err_set(err, "batch still refused after %d splits (SQLSTATE %s)",
                       round, c->sqlstate);
            rc = SL_ERR;
            break;
        }
        sl_warn("commit", "batch of %zu refused on its data (SQLSTATE %s): "
                "splitting it: %s", n, c->sqlstate, err->msg);
        rc = split(&b, err);
        /* A probe can meet the unique violation the whole batch has not
         * reached yet (rows behind the one split out): it counts as one
         * in a row too, and once repeated the probes take it as data. */
        if (rc == SL_EIO && !b.unique_is_data &&
            strcmp(c->sqlstate, "23505") == 0 && unique_repeated(c)) {
            b.unique_is_data = 1;
            rc = split(&b, err);
        }
        if (rc != SL_OK)
            break;
    }
    if (rc == SL_OK) {
        size_t bytes = 0;
        c->uv_count = 0;
        for (size_t i = 0; i < n; i++)
            bytes += msgs[i].key.len + msgs[i].value.len;
        sl_metric_add(c->m_rows, NULL, (double)n);
        sl_metric_add(c->m_bytes, NULL, (double)bytes);
    }
    sl_metric_add(c->m_round_trips, NULL, (double)(c->round_trips - trips));
out:
    for (size_t i = 0; b.why && i < n; i++)
        free(b.why[i]);
    free(b.why);
    free(b.level);
    return rc;
}

static void commit_destroy(void *ctx)
{
    commit_ctx *c = ctx;

    if (!c)
        return;
    c->conn = NULL;
    sl_pgconn_destroy(c->pg);
    sl_buf_free(&c->prov);
    sl_audit_signer_destroy(c->signer);
    free(c);
}

static int commit_init(void **ctx, const sl_config *cfg, sl_err *err)
{
    commit_ctx *c = calloc(1, sizeof(*c));
    const char *prefix = sl_config_get(cfg, "topic.prefix");
    const char *rejected = sl_config_get(cfg, "rejected.topic");
    const sl_pgconn_opts opts = {
        .who = "commit", .stmts = commit_stmts,
        .n_stmts = sizeof(commit_stmts) / sizeof(commit_stmts[0]),
        .on_connect = register_audit_key, .arg = c,
    };
    int rc;

    if (!c)
        return SL_ENOMEM;
    /* topic.prefix + name, as the runner names the topics it consumes. */
    if (sl_topology_prefixed(prefix, rejected && *rejected ? rejected :
                             SL_TOPIC_REJECTED, c->rejected_topic,
                             sizeof(c->rejected_topic)) != SL_OK ||
        sl_topology_prefixed(prefix, SL_TOPIC_FLAGGED, c->flagged_topic,
                             sizeof(c->flagged_topic)) != SL_OK) {
        sl_err_set(err, "topic.prefix with the rejected or flagged topic is "
                   "longer than %d characters", COMMIT_TOPIC_MAX - 1);
        commit_destroy(c);
        return SL_EINVAL;
    }
    c->topics.rejected = c->rejected_topic;
    c->topics.flagged = c->flagged_topic;
    if (sl_audit_signer_open(sl_config_get(cfg, "audit.key.file"), 1, &c->signer,
                             err) != SL_OK) {
        commit_destroy(c);
        return SL_EINVAL;
    }
    sl_info("commit", "signing chain heads with key %s",
            sl_audit_signer_key_id(c->signer));
    sl_buf_init(&c->prov, 65536);
    if ((rc = sl_pgconn_open(&c->pg, cfg, &opts, err)) != SL_OK) {
        commit_destroy(c);
        return rc;
    }
    *ctx = c;
    return SL_OK;
}

/* /ready's check of the database while idle: SELECT 1 on the connection
 * (reconnecting first when it was dropped). */
static int commit_ping(void *ctx, sl_err *err)
{
    commit_ctx *c = ctx;
    PGresult *r;
    int rc;

    if ((rc = ensure_conn(c, err)) != SL_OK)
        return rc;
    r = PQexec(c->conn, "SELECT 1");
    if (PQresultStatus(r) == PGRES_TUPLES_OK) {
        PQclear(r);
        return SL_OK;
    }
    rc = sl_pg_fail(c->conn, r, "store check", err);
    PQclear(r);
    if (PQstatus(c->conn) != CONNECTION_OK)
        drop_conn(c);
    return rc;
}

/* Declares commit's own metrics; write_batch updates them. */
static int commit_metrics(void *ctx, sl_metrics *reg, sl_err *err)
{
    commit_ctx *c = ctx;

    if (!(c->m_rows = sl_metrics_counter(reg, "sluice_commit_rows_total",
              "Messages stored as rows (samples, rejections, review items) in "
              "committed batches.", NULL, 0, err)) ||
        !(c->m_bytes = sl_metrics_counter(reg, "sluice_commit_bytes_total",
              "Bytes (key and value) of the messages stored in committed batches.",
              NULL, 0, err)) ||
        !(c->m_round_trips = sl_metrics_counter(reg, "sluice_commit_db_round_trips_total",
              "Statements sent to PostgreSQL by write_batch (a COPY counts its "
              "start and its end), committed or not.", NULL, 0, err)))
        return SL_ERR;
    return SL_OK;
}

const sl_sink sl_commit_stage = {
    .stage = &sl_topology_stages[SL_STAGE_COMMIT],
    .config_map = commit_config,
    .init = commit_init,
    .load_offsets = load_offsets,
    .write_batch = write_batch,
    .destroy = commit_destroy,
    .metrics = commit_metrics,
    .ping = commit_ping,
};
