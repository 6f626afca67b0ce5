/*
 * feed_pg.c -- sluice-feed's PostgreSQL side (tables of 017_feed.sql): a
 * pool of sl_pgconn handles (each reconnects by itself and prepares the
 * statements below on every connect) lent to the HTTP workers one request
 * at a time, and the statements every route runs.
 *
 * Liveness is part of the statements that read a request's data (feed.h):
 * "live" is one expression for a consumer's token (not revoked, not
 * expired, consumer active) or, for a signed URL (no token), the consumer
 * alone; a grant is live when valid_from <= now() < valid_until and not
 * revoked; a grant's require_rights keeps the samples whose bound license
 * has every listed right true (its license record -> 'rights',
 * license_records by samples.license_sha256).
 *
 * Pages read samples in feed_seq order by samples_feed_idx (dataset_id,
 * feed_seq) with a keyset "feed_seq > after"; 017_feed.sql explains why a
 * reader that has seen position p has seen every smaller one.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sl/log.h"
#include "sl/prov_pg.h"
#include "feed.h"

#define LOG "feed"

#define TS(col) "to_char((" col ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

/* $1 token_id (NULL for a signed URL), $2 consumer_id */
#define LIVE_CONSUMER(tok, cons) \
    "(CASE WHEN " tok "::bigint IS NULL THEN EXISTS (SELECT 1 FROM consumers c" \
    " WHERE c.consumer_id = " cons " AND c.status = 'active')" \
    " ELSE EXISTS (SELECT 1 FROM feed_tokens t JOIN consumers c ON c.consumer_id = t.consumer_id" \
    " WHERE t.token_id = " tok "::bigint AND t.consumer_id = " cons " AND t.revoked_at IS NULL" \
    " AND t.expires_at > now() AND c.status = 'active') END)"

#define GRANT_LIVE(g) \
    "(" g ".revoked_at IS NULL AND " g ".valid_from <= now()" \
    " AND (" g ".valid_until IS NULL OR now() < " g ".valid_until))"

/* The grant's required rights against the sample's bound license: the one
 * test, feed_license_allows() of 017_feed.sql (an inlined SQL function). */
#define RIGHTS_OK(rights, s) \
    "feed_license_allows(" FD_SQL_LICENSE(s) ", " rights ")"

/* $cr's creator token $tok is live: not revoked or expired, the creator
 * active. */
#define LIVE_CREATOR(tok, cr) \
    "EXISTS (SELECT 1 FROM feed_tokens t JOIN creators cr ON cr.creator_id = t.creator_id" \
    "  WHERE t.token_id = " tok "::bigint AND t.creator_id = " cr " AND t.revoked_at IS NULL" \
    "  AND t.expires_at > now() AND cr.status = 'active')"

const sl_pg_stmt fd_stmts[] = {
    /* A token by hash: what it is, and whether it is live now. */
    { "fd_auth",
      "SELECT t.token_id, coalesce(t.consumer_id, ''), coalesce(t.creator_id, ''), t.scope,"
      " coalesce(array_to_json(t.datasets)::text, ''),"
      " (extract(epoch from t.expires_at) * 1000)::bigint,"
      " (t.revoked_at IS NULL AND t.expires_at > now()"
      "  AND coalesce(c.status, 'active') = 'active' AND coalesce(cr.status, 'active') = 'active')"
      " FROM feed_tokens t LEFT JOIN consumers c ON c.consumer_id = t.consumer_id"
      " LEFT JOIN creators cr ON cr.creator_id = t.creator_id"
      " WHERE t.token_sha256 = $1", 1 },
    /* $1 token_id|NULL, $2 consumer, $3 dataset: live, dataset exists,
     * the live grant (id, price, currency, require_rights as text[]). */
    { "fd_access",
      "SELECT " LIVE_CONSUMER("$1", "$2") ","
      " EXISTS (SELECT 1 FROM datasets d WHERE d.dataset_id = $3),"
      " g.grant_id, g.price_micros, g.currency, g.require_rights::text,"
      " " TS("g.valid_until")
      " FROM (SELECT 1) o LEFT JOIN grants g ON g.consumer_id = $2 AND g.dataset_id = $3"
      " AND " GRANT_LIVE("g"), 3 },
    /* $1 dataset, $2 after, $3 limit, $4 require_rights text[]|NULL.  The
     * license record (joined by its key: 027_license_records.sql) and the
     * labels (the meta's "labels" object, {} when none; commit stores only
     * metadata validate parsed; parsed once, and only when it names labels
     * at all) come as JSON text, spliced into the lines as they are.
     * Column 8 is unused (NULL). */
    { "fd_samples",
      "SELECT s.feed_seq, s.upload_id, s.sha256, s.size, s.content_type, s.creator_id,"
      " s.dataset_id, coalesce(lr.record::text, 'null'), NULL, s.filename,"
      " " TS("s.accepted_at") ","
      " " SL_PROV_PG_LAST_HASH("sample", "s.upload_id") ","
      " CASE WHEN jsonb_typeof(m.l) = 'object' THEN m.l::text ELSE '{}' END"
      " FROM samples s LEFT JOIN license_records lr ON lr.sha256 = s.license_sha256"
      " CROSS JOIN LATERAL (SELECT CASE WHEN strpos(s.meta, '\"labels\"') > 0"
      "  THEN s.meta::jsonb -> 'labels' END AS l OFFSET 0) m"  /* OFFSET 0: evaluated once, not inlined twice */
      " WHERE s.dataset_id = $1 AND s.feed_seq > $2::bigint"
      " AND s.status = 'accepted' AND feed_license_allows(lr.record, $4::text[])"
      " ORDER BY s.feed_seq LIMIT $3::bigint", 4 },
    /* $1 dataset, $2 after, $3 limit */
    { "fd_changes",
      "SELECT seq, upload_id, sha256, kind, reason, " TS("changed_at")
      " FROM feed_changes WHERE dataset_id = $1 AND seq > $2::bigint"
      " ORDER BY seq LIMIT $3::bigint", 3 },
    /* $1 token_id, $2 consumer, $3 token's datasets text[]|NULL: live, and
     * the datasets with a live grant (their counts: fd_ds_stats). */
    { "fd_datasets",
      "SELECT " LIVE_CONSUMER("$1", "$2") ", d.dataset_id, d.name, d.description,"
      " g.price_micros, g.currency, " TS("g.valid_until")
      " FROM (SELECT 1) o LEFT JOIN (grants g JOIN datasets d ON d.dataset_id = g.dataset_id)"
      " ON g.consumer_id = $2 AND " GRANT_LIVE("g")
      " AND ($3::text[] IS NULL OR g.dataset_id = ANY ($3::text[]))"
      " ORDER BY d.dataset_id", 3 },
    /* A dataset's counts for the listing, in one pass over its samples:
     * per license expression, accepted and withdrawn. */
    { "fd_ds_stats",
      "SELECT license_expression, count(*) FILTER (WHERE status = 'accepted'),"
      " count(*) FILTER (WHERE status = 'withdrawn')"
      " FROM samples WHERE dataset_id = $1 GROUP BY 1 ORDER BY 1", 1 },
    /* $1 upload, $2 token_id|NULL, $3 consumer, $4 charge (boolean),
     * $5 route, $6 the token's datasets text[]|NULL: the sample, liveness,
     * the live grant of its dataset with the rights check -- and, when
     * $4 and every check passes, the delivery metered in the same
     * statement (one round trip for a content request whose hash the
     * service knew, so that it could tell a 304 / 416 beforehand). */
    { "fd_content",
      "WITH c AS (SELECT s.upload_id, s.dataset_id, s.sha256, s.size, s.content_type, s.status,"
      " s.creator_id, " LIVE_CONSUMER("$2", "$3") " AS live,"
      " g.grant_id, g.price_micros, g.currency, " RIGHTS_OK("g.require_rights", "s") " AS rights_ok"
      " FROM samples s LEFT JOIN grants g ON g.consumer_id = $3"
      " AND g.dataset_id = s.dataset_id AND " GRANT_LIVE("g")
      " WHERE s.upload_id = $1),"
      " m AS (INSERT INTO usage_events (consumer_id, upload_id, creator_id, dataset_id, grant_id,"
      "  price_micros, currency, token_id, route)"
      "  SELECT $3, c.upload_id, c.creator_id, c.dataset_id, c.grant_id, c.price_micros,"
      "  c.currency, $2::bigint, $5 FROM c WHERE $4::boolean AND c.live AND c.rights_ok"
      "  AND c.grant_id IS NOT NULL AND c.status = 'accepted'"
      "  AND ($6::text[] IS NULL OR c.dataset_id = ANY ($6::text[]))"
      "  ON CONFLICT (consumer_id, upload_id) DO NOTHING)"
      " SELECT dataset_id, sha256, size, content_type, status, creator_id, live,"
      " grant_id, price_micros, currency, rights_ok FROM c", 6 },
    /* Metering: one row per consumer and sample, before the bytes go. */
    { "fd_meter",
      "INSERT INTO usage_events (consumer_id, upload_id, creator_id, dataset_id, grant_id,"
      " price_micros, currency, token_id, route)"
      " SELECT $1, $2, $3, $4, $5::bigint, $6::bigint, $7, $8::bigint, $9"
      " ON CONFLICT (consumer_id, upload_id) DO NOTHING", 9 },
    { "fd_dataset",
      "SELECT name, description, " TS("created_at") ","
      " (SELECT coalesce(max(seq), 0) FROM feed_changes WHERE dataset_id = $1)"
      " FROM datasets WHERE dataset_id = $1", 1 },
    { "fd_blob", "SELECT data FROM contents WHERE sha256 = $1", 1 },
    /* $1 creator, $2 token_id: the creator's token is live. */
    { "fd_creator_live",
      "SELECT " LIVE_CREATOR("$2", "$1"), 2 },
    /* $1 creator, $2 upload, $3 token_id: live; then the outcome. */
    { "fd_upload",
      "SELECT " LIVE_CREATOR("$3", "$1") ","
      " x.dataset_id, x.outcome, x.stage, x.code, x.detail, " TS("x.at") ", x.mine, x.any"
      " FROM (SELECT 1) o LEFT JOIN LATERAL ("
      "  SELECT s.dataset_id, CASE s.status WHEN 'withdrawn' THEN 'withdrawn' ELSE 'accepted' END"
      "   AS outcome, 'commit' AS stage, NULL::text AS code, NULL::text AS detail,"
      "   coalesce(s.withdrawn_at, s.accepted_at) AS at, s.creator_id = $1 AS mine, true AS any, 1 AS k"
      "   FROM samples s WHERE s.upload_id = $2"
      "  UNION ALL"
      "  SELECT r.dataset_id, CASE r.state WHEN 'rejected' THEN 'rejected' ELSE 'pending_review' END,"
      "   'review', CASE r.state WHEN 'rejected' THEN 'moderator_rejected' END, NULL,"
      "   coalesce(r.decided_at, r.flagged_at), r.creator_id = $1, true, 2"
      "   FROM review_items r WHERE r.upload_id = $2"
      "  UNION ALL"
      "  (SELECT j.dataset_id, 'rejected', j.stage, j.code, j.detail, j.rejected_at,"
      "   coalesce(j.creator_id = $1, false), true, 3"
      "   FROM rejections j WHERE j.upload_id = $2 ORDER BY j.rejection_id DESC LIMIT 1)"
      "  ORDER BY k LIMIT 1) x ON true", 3 },
    /* $1 creator, $2 after (µs since the epoch), $3 limit, $4 token_id:
     * live, then the creator's outcome events after $2 in time order.  A
     * page never splits the events of one instant (a commit batch shares
     * its time): it ends with all of them, so "after the last one's time"
     * resumes exactly.  Events of the last 2 s wait: a transaction's rows
     * carry its start time but show at its commit. */
    { "fd_uploads",
      "WITH x AS MATERIALIZED ("
      "  SELECT upload_id, dataset_id, 'accepted' AS outcome, 'commit' AS stage,"
      "   NULL::text AS code, NULL::text AS detail, accepted_at AS at"
      "   FROM samples WHERE creator_id = $1"
      "  UNION ALL SELECT upload_id, dataset_id, 'withdrawn', 'commit', NULL, NULL, withdrawn_at"
      "   FROM samples WHERE creator_id = $1 AND withdrawn_at IS NOT NULL"
      "  UNION ALL SELECT upload_id, dataset_id, 'pending_review', 'review', NULL, NULL, flagged_at"
      "   FROM review_items WHERE creator_id = $1"
      "  UNION ALL SELECT upload_id, dataset_id, 'rejected', 'review', 'moderator_rejected', NULL,"
      "   decided_at FROM review_items WHERE creator_id = $1 AND state = 'rejected'"
      "   AND decided_at IS NOT NULL"
      "  UNION ALL SELECT upload_id, dataset_id, 'rejected', stage, code, detail, committed_at"
      "   FROM rejections WHERE creator_id = $1 AND upload_id IS NOT NULL),"
      " y AS (SELECT * FROM x WHERE at > timestamptz 'epoch' + $2::bigint * interval '1 microsecond'"
      "   AND at < now() - interval '2 seconds'),"
      " lim AS (SELECT at FROM y ORDER BY at LIMIT 1 OFFSET $3::bigint - 1)"
      " SELECT " LIVE_CREATOR("$4", "$1") ","
      " y.upload_id, y.dataset_id, y.outcome, y.stage, y.code, y.detail, " TS("y.at") ","
      " (extract(epoch from y.at) * 1000000)::bigint"
      " FROM (SELECT 1) o LEFT JOIN y ON (SELECT at FROM lim) IS NULL OR y.at <= (SELECT at FROM lim)"
      " ORDER BY y.at, y.upload_id, y.outcome", 4 },
};
const size_t fd_n_stmts = sizeof fd_stmts / sizeof fd_stmts[0];

/* ---- pool ------------------------------------------------------------- */

struct fd_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    sl_pgconn **c;
    int *busy;
    size_t n;
};

/* Short statements on a latency budget: sl_pgconn's session settings
 * (pgconn.c) turn JIT off on every connection, this pool's too. */
static const sl_pgconn_opts POOL_OPTS = {
    .who = "feed", .stmts = fd_stmts, .n_stmts = sizeof fd_stmts / sizeof fd_stmts[0],
};

int fd_pool_new(const sl_config *cfg, size_t n, fd_pool **out, sl_err *err)
{
    fd_pool *p = calloc(1, sizeof *p);
    size_t i;
    int rc;

    *out = NULL;
    if (!p || !(p->c = calloc(n, sizeof *p->c)) || !(p->busy = calloc(n, sizeof *p->busy))) {
        sl_err_set(err, "out of memory");
        if (p) {
            free(p->c);
            free(p);
        }
        return SL_ENOMEM;
    }
    p->n = n;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    /* Each handle connects once now: a bad DSN fails the start. */
    for (i = 0; i < n; i++) {
        if ((rc = sl_pgconn_open(&p->c[i], cfg, &POOL_OPTS, err)) != SL_OK) {
            fd_pool_destroy(p);
            return rc;
        }
    }
    *out = p;
    return SL_OK;
}

void fd_pool_destroy(fd_pool *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        sl_pgconn_destroy(p->c[i]);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->c);
    free(p->busy);
    free(p);
}

sl_pgconn *fd_pool_get(fd_pool *p)
{
    size_t i;

    pthread_mutex_lock(&p->mu);
    for (;;) {
        for (i = 0; i < p->n && p->busy[i]; i++)
            ;
        if (i < p->n)
            break;
        pthread_cond_wait(&p->cv, &p->mu);
    }
    p->busy[i] = 1;
    pthread_mutex_unlock(&p->mu);
    return p->c[i];
}

void fd_pool_put(fd_pool *p, sl_pgconn *c)
{
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < p->n; i++) {
        if (p->c[i] == c) {
            p->busy[i] = 0;
            break;
        }
    }
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static int run(sl_pgconn *c, const char *name, int n, const char *const *v,
               int fmt, PGresult **res)
{
    sl_err err = { "" };
    int rc = sl_pgconn_exec(c, name, n, v, fmt, res, &err);

    if (rc != SL_OK)
        sl_error(LOG, "%s: %s", name, err.msg);
    return rc;
}

int fd_exec(sl_pgconn *c, const char *name, int n, const char *const *v,
            PGresult **res)
{
    return run(c, name, n, v, 0, res);
}

int fd_exec_bin(sl_pgconn *c, const char *name, int n, const char *const *v,
                PGresult **res)
{
    return run(c, name, n, v, 1, res);
}

int fd_conn(sl_pgconn *pc, PGconn **c)
{
    sl_err err = { "" };

    if (sl_pgconn_get(pc, c, &err) != SL_OK) {
        sl_error(LOG, "connection: %s", err.msg);
        return SL_EIO;
    }
    return SL_OK;
}

int fd_exec_rows(sl_pgconn *pc, const char *name, int n, const char *const *v,
                 int (*row)(void *u, const PGresult *r), void *u, size_t *rows)
{
    sl_err err = { "" };
    PGconn *c;
    PGresult *r, *bad = NULL;
    int rc = SL_OK;

    *rows = 0;
    if (sl_pgconn_get(pc, &c, &err) != SL_OK) {
        sl_error(LOG, "%s: %s", name, err.msg);
        return SL_EIO;
    }
    if (!PQsendQueryPrepared(c, name, n, v, NULL, NULL, 0) || !PQsetSingleRowMode(c)) {
        rc = sl_pgconn_fail(pc, NULL, name, &err);
        sl_error(LOG, "%s: %s", name, err.msg);
        return rc;
    }
    /* Every result is read, whatever happens, so the connection is idle
     * again; the first failure is reported after (it may drop c). */
    while ((r = PQgetResult(c))) {
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_SINGLE_TUPLE) {
            if (rc == SL_OK && !bad) {
                rc = row(u, r);
                (*rows)++;
            }
        } else if (st != PGRES_TUPLES_OK && !bad) {
            bad = r;
            continue;
        }
        PQclear(r);
    }
    if (bad) {
        rc = sl_pgconn_fail(pc, bad, name, &err);
        sl_error(LOG, "%s: %s", name, err.msg);
        PQclear(bad);
    }
    return rc;
}
