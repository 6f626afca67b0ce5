/*
 * commit_review_pg.c -- commit's word with the database on what a
 * moderator decided (schemas/README.md, "Review"), and on messages a
 * relay sent twice.
 *
 * The review service decides in one PostgreSQL transaction (review_items
 * state, the review provenance event) and relays the result to Kafka in
 * another, so its messages can arrive twice, and anything able to write
 * the topics could forge one.  commit therefore trusts the database, never
 * the headers: a sample whose chain holds a review event is stored only
 * when review_items has its upload with state = the event's outcome and
 * the event is, hash for hash, the one the decision stored for owner
 * (review, upload id) at that seq -- the same hash at the same seq also
 * pins every event before it -- and its sluice-scan header is the stored
 * findings (the sample's scan column).  Otherwise it is a review_unverified
 * rejection, never a sample.  A confirmed one whose upload is stored as a
 * sample already (or earlier in the batch) was sent twice: SL_ROW_SKIP.
 * So is any row carrying a review event whose decision already ended as a
 * rejection (license refused the first copy, say): each decision has one
 * outcome however often it is relayed.
 * A dead letter stored already -- same source position, upload id,
 * stage, code and refused value's hash, as the relay's resend of a
 * moderator rejection is -- is skipped too; one that only shares the
 * position stays what it was (the unique key makes it commit_data_error).
 *
 * Runs inside the batch's transaction, after describe, before the replay
 * and duplicate decisions (commit_pg.c run_batch).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "sl/fpset.h"
#include "sl/pg.h"
#include "commit.h"

static int failed(PGconn *conn, PGresult *r, const char *what, char sqlstate[6],
                  sl_err *err)
{
    const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

    snprintf(sqlstate, 6, "%s", st ? st : "");
    (void)sl_pg_fail(conn, r, what, err);
    PQclear(r);
    return SL_EIO;
}

static uint64_t fp_of(const char *a, const char *b)
{
    return sl_fpset_fp(a, strlen(a), b, strlen(b));
}

/* Whether the sample's sluice-scan header is, as JSON, the findings the
 * review item stored (what the moderator decided on). */
static int same_findings(const char *header, const char *stored)
{
    json_t *a = header ? json_loads(header, 0, NULL) : NULL;
    json_t *b = stored ? json_loads(stored, 0, NULL) : NULL;
    int same = a && b && json_equal(a, b);

    json_decref(a);
    json_decref(b);
    return same;
}

/* Why a row's review event is not the one stored, or NULL when it is. */
static const char *unverified(const sl_commit_row *row, PGresult *r, int i,
                              char *buf, size_t size)
{
    const char *state = PQgetvalue(r, i, 1), *hash = PQgetvalue(r, i, 2);

    if (PQgetisnull(r, i, 1))
        snprintf(buf, size, "upload \"%s\" carries a review event but has no "
                 "review item", row->upload_id);
    else if (strcmp(state, row->review_outcome) != 0)
        snprintf(buf, size, "the review event says %s, review item \"%s\" is "
                 "%s", row->review_outcome, row->upload_id, state);
    else if (PQgetisnull(r, i, 2))
        snprintf(buf, size, "no review event is stored at seq %" PRId64
                 " for upload \"%s\"", row->review_seq, row->upload_id);
    else if (strcmp(hash, row->review_hash) != 0)
        snprintf(buf, size, "the review event at seq %" PRId64 " is not the "
                 "one stored for upload \"%s\"", row->review_seq, row->upload_id);
    else if (!same_findings(row->scan, PQgetvalue(r, i, 4)))
        snprintf(buf, size, "the sluice-scan header is not the findings stored "
                 "for review item \"%s\"", row->upload_id);
    else
        return NULL;
    return buf;
}

static int reviewed_samples(PGconn *conn, sl_commit_row *rows, size_t n,
                            char sqlstate[6], sl_err *err)
{
    sl_buf ids, seqs;
    sl_pairset *seen = sl_pairset_new();
    size_t *which = malloc((n ? n : 1) * sizeof(*which)), m = 0;
    PGresult *r = NULL;
    char num[24], why[512];
    int rc = SL_ENOMEM;

    sl_buf_init(&ids, (size_t)1 << 30);
    sl_buf_init(&seqs, (size_t)1 << 24);
    if (!seen || !which)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (rows[i].kind != SL_ROW_SAMPLE || rows[i].review_seq <= 0)
            continue;
        snprintf(num, sizeof(num), "%" PRId64, rows[i].review_seq);
        if (sl_pg_array_add(&ids, rows[i].upload_id) || sl_pg_array_add(&seqs, num))
            goto out;
        which[m++] = i;
    }
    if (m == 0) {
        rc = SL_OK;
        goto out;
    }
    if (sl_pg_array_close(&ids) || sl_pg_array_close(&seqs))
        goto out;
    {
        const char *p[2] = { (const char *)ids.data, (const char *)seqs.data };
        r = PQexecParams(conn,
            "SELECT q.id, ri.state, e.hash,"
            " EXISTS (SELECT 1 FROM samples s WHERE s.upload_id = q.id),"
            " ri.findings::text"
            " FROM unnest($1::text[], $2::integer[]) WITH ORDINALITY AS q(id, seq, i)"
            " LEFT JOIN review_items ri ON ri.upload_id = q.id"
            " LEFT JOIN provenance_events e ON e.owner_kind = 'review'"
            " AND e.owner_id = q.id AND e.seq = q.seq ORDER BY q.i",
            2, NULL, p, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            rc = failed(conn, r, "checking review decisions", sqlstate, err);
            r = NULL;
            goto out;
        }
    }
    if ((size_t)PQntuples(r) != m) {
        sl_err_set(err, "checking review decisions: %d rows for %zu samples",
                   PQntuples(r), m);
        rc = SL_EIO;
        goto out;
    }
    for (size_t k = 0; k < m; k++) {
        sl_commit_row *row = &rows[which[k]];
        uint64_t fp = fp_of(row->upload_id, "");
        if (unverified(row, r, (int)k, why, sizeof(why))) {
            if ((rc = sl_commit_row_reject(row, "review_unverified", why)) != SL_OK)
                goto out;
            continue;
        }
        if (PQgetvalue(r, (int)k, 3)[0] == 't' ||
            sl_pairset_has(seen, fp, row->upload_id, "")) {
            row->kind = SL_ROW_SKIP;   /* a relay sent it again */
            continue;
        }
        if (sl_pairset_add(seen, fp, row->upload_id, "") != SL_OK)
            goto out;
    }
    rc = SL_OK;
out:
    PQclear(r);
    sl_buf_free(&ids);
    sl_buf_free(&seqs);
    sl_pairset_destroy(seen);
    free(which);
    return rc;
}

/* Rows carrying a review event (samples, dead letters, commit's own
 * rejections) whose decision already ended as a rejection -- one whose
 * stored chain holds that very event, same seq and hash -- or did so
 * earlier in the batch: a relay's resend that license or commit refused
 * the first time (an opt-out since, a duplicate, a quota) is refused once,
 * not once per copy.  They become SL_ROW_SKIP. */
static int decided_before(PGconn *conn, sl_commit_row *rows, size_t n,
                          char sqlstate[6], sl_err *err)
{
    sl_buf ids, seqs, hashes;
    sl_pairset *seen = sl_pairset_new();
    size_t *which = malloc((n ? n : 1) * sizeof(*which)), m = 0;
    PGresult *r = NULL;
    char num[24];
    int rc = SL_ENOMEM;

    sl_buf_init(&ids, (size_t)1 << 30);
    sl_buf_init(&seqs, (size_t)1 << 24);
    sl_buf_init(&hashes, (size_t)1 << 26);
    if (!seen || !which)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (rows[i].kind == SL_ROW_SKIP || rows[i].kind == SL_ROW_REVIEW ||
            rows[i].review_seq <= 0 || !rows[i].upload_id)
            continue;
        snprintf(num, sizeof(num), "%" PRId64, rows[i].review_seq);
        if (sl_pg_array_add(&ids, rows[i].upload_id) || sl_pg_array_add(&seqs, num) ||
            sl_pg_array_add(&hashes, rows[i].review_hash))
            goto out;
        which[m++] = i;
    }
    if (m == 0) {
        rc = SL_OK;
        goto out;
    }
    if (sl_pg_array_close(&ids) || sl_pg_array_close(&seqs) ||
        sl_pg_array_close(&hashes))
        goto out;
    {
        const char *p[3] = { (const char *)ids.data, (const char *)seqs.data,
                             (const char *)hashes.data };
        r = PQexecParams(conn,
            "SELECT EXISTS (SELECT 1 FROM rejections j JOIN provenance_events e"
            " ON e.owner_kind = 'rejection' AND e.owner_id = j.source_topic || '/'"
            " || j.source_partition || '/' || j.source_offset"
            " WHERE j.upload_id = q.id AND e.seq = q.seq AND e.hash = q.h)"
            " FROM unnest($1::text[], $2::integer[], $3::text[])"
            " WITH ORDINALITY AS q(id, seq, h, i) ORDER BY q.i",
            3, NULL, p, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            rc = failed(conn, r, "looking up decisions already refused", sqlstate,
                        err);
            r = NULL;
            goto out;
        }
    }
    if ((size_t)PQntuples(r) != m) {
        sl_err_set(err, "looking up decisions already refused: %d rows for %zu",
                   PQntuples(r), m);
        rc = SL_EIO;
        goto out;
    }
    for (size_t k = 0; k < m; k++) {
        sl_commit_row *row = &rows[which[k]];
        uint64_t fp = fp_of(row->upload_id, row->review_hash);
        if (PQgetvalue(r, (int)k, 0)[0] == 't' ||
            sl_pairset_has(seen, fp, row->upload_id, row->review_hash)) {
            row->kind = SL_ROW_SKIP;   /* this decision has its outcome */
            continue;
        }
        if (sl_pairset_add(seen, fp, row->upload_id, row->review_hash) != SL_OK)
            goto out;
    }
    rc = SL_OK;
out:
    PQclear(r);
    sl_buf_free(&ids);
    sl_buf_free(&seqs);
    sl_buf_free(&hashes);
    sl_pairset_destroy(seen);
    free(which);
    return rc;
}

/* "upload id \n stage \n code \n sha256": what makes two dead letters of
 * one source position the same one. */
static int dead_letter_id(const sl_commit_row *row, char *buf, size_t size)
{
    return snprintf(buf, size, "%s\n%s\n%s\n%s", row->upload_id ? row->upload_id : "",
                    row->stage, row->code, row->sha256) < (int)size;
}

static int stored_dead_letters(PGconn *conn, sl_commit_row *rows, size_t n,
                               char sqlstate[6], sl_err *err)
{
    sl_buf topics, parts, offs;
    sl_pairset *seen = sl_pairset_new();
    size_t *which = malloc((n ? n : 1) * sizeof(*which)), m = 0;
    PGresult *r = NULL;
    char num[24], pos[600], id[SL_ID_MAX + 256];
    int rc = SL_ENOMEM;

    sl_buf_init(&topics, (size_t)1 << 24);
    sl_buf_init(&parts, (size_t)1 << 24);
    sl_buf_init(&offs, (size_t)1 << 24);
    if (!seen || !which)
        goto out;
    for (size_t i = 0; i < n; i++) {
        /* commit's own rejections are at positions it reads once */
        if (rows[i].kind != SL_ROW_REJECTION || !rows[i].source_topic ||
            !rows[i].stage || !rows[i].code || strcmp(rows[i].stage, "commit") == 0)
            continue;
        if (sl_pg_array_add(&topics, rows[i].source_topic))
            goto out;
        snprintf(num, sizeof(num), "%" PRId32, rows[i].source_partition);
        if (sl_pg_array_add(&parts, num))
            goto out;
        snprintf(num, sizeof(num), "%" PRId64, rows[i].source_offset);
        if (sl_pg_array_add(&offs, num))
            goto out;
        which[m++] = i;
    }
    if (m == 0) {
        rc = SL_OK;
        goto out;
    }
    if (sl_pg_array_close(&topics) || sl_pg_array_close(&parts) ||
        sl_pg_array_close(&offs))
        goto out;
    {
        const char *p[3] = { (const char *)topics.data, (const char *)parts.data,
                             (const char *)offs.data };
        r = PQexecParams(conn,
            "SELECT coalesce(j.upload_id, ''), j.stage, j.code, j.sha256"
            " FROM unnest($1::text[], $2::integer[], $3::bigint[])"
            " WITH ORDINALITY AS q(t, p, o, i)"
            " LEFT JOIN rejections j ON j.source_topic = q.t"
            " AND j.source_partition = q.p AND j.source_offset = q.o ORDER BY q.i",
            3, NULL, p, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            rc = failed(conn, r, "looking up stored dead letters", sqlstate, err);
            r = NULL;
            goto out;
        }
    }
    if ((size_t)PQntuples(r) != m) {
        sl_err_set(err, "looking up stored dead letters: %d rows for %zu",
                   PQntuples(r), m);
        rc = SL_EIO;
        goto out;
    }
    for (size_t k = 0; k < m; k++) {
        sl_commit_row *row = &rows[which[k]];
        uint64_t fp;
        snprintf(pos, sizeof(pos), "%s/%" PRId32 "/%" PRId64, row->source_topic,
                 row->source_partition, row->source_offset);
        if (!dead_letter_id(row, id, sizeof(id)))
            continue;            /* too long to be a relay's: left as it is */
        fp = fp_of(pos, id);
        if ((!PQgetisnull(r, (int)k, 1) &&
             strcmp(PQgetvalue(r, (int)k, 0), row->upload_id ? row->upload_id : "") == 0 &&
             strcmp(PQgetvalue(r, (int)k, 1), row->stage) == 0 &&
             strcmp(PQgetvalue(r, (int)k, 2), row->code) == 0 &&
             strcmp(PQgetvalue(r, (int)k, 3), row->sha256) == 0) ||
            sl_pairset_has(seen, fp, pos, id)) {
            row->kind = SL_ROW_SKIP;   /* this very dead letter, stored */
            continue;
        }
        if (sl_pairset_add(seen, fp, pos, id) != SL_OK)
            goto out;
    }
    rc = SL_OK;
out:
    PQclear(r);
    sl_buf_free(&topics);
    sl_buf_free(&parts);
    sl_buf_free(&offs);
    sl_pairset_destroy(seen);
    free(which);
    return rc;
}

int sl_commit_review_rows(PGconn *conn, sl_commit_row *rows, size_t n,
                          char sqlstate[6], sl_err *err)
{
    int rc;

    sqlstate[0] = '\0';
    if ((rc = reviewed_samples(conn, rows, n, sqlstate, err)) != SL_OK ||
        (rc = decided_before(conn, rows, n, sqlstate, err)) != SL_OK)
        return rc;
    return stored_dead_letters(conn, rows, n, sqlstate, err);
}
