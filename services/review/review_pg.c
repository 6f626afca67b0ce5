/*
 * review_pg.c -- sluice-review's PostgreSQL side (tables of 012_review.sql):
 * a small connection pool for the HTTP workers, sessions and login
 * attempts, the queue (keyset paging on (flagged_at, upload_id), served by
 * review_items_queue_idx), items, the overview, claim leases, and the
 * decision transaction of REVIEW_CONTRACT.md: lock the item, check the
 * lease and what the moderator was shown, set the state, append and seal
 * the review provenance event, insert the decision and the outbox row
 * holding the exact Kafka message -- all or nothing.
 *
 * The security decisions (session expiry, rate limits, who holds a lease)
 * are sl/websec.h's, fed with the database's clock.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl/crypto.h"
#include "sl/log.h"
#include "sl/msg.h"
#include "sl/pg.h"
#include "sl/prov.h"
#include "sl/prov_pg.h"
#include "sl/review_event.h"
#include "sl/topology.h"
#include "sl/timeutil.h"
#include "decide.h"
#include "redact_stored.h"
#include "review.h"

#define LOG "review"
#define NOW_MS "(extract(epoch from now()) * 1000)::bigint"

/* ---- pool ------------------------------------------------------------- */

struct rv_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *dsn;
    int64_t stmt_timeout_ms;   /* statement_timeout of each connection */
    PGconn **conns;
    int *busy;
    size_t n;
};

int rv_pool_new(const char *dsn, size_t n, int64_t stmt_timeout_ms, rv_pool **out,
                sl_err *err)
{
    rv_pool *p;
    int rc;

    *out = NULL;
    if ((rc = sl_pg_dsn_check(dsn, err)) != SL_OK ||
        (rc = sl_pg_statement_timeout_check(stmt_timeout_ms, err)) != SL_OK)
        return rc;
    p = calloc(1, sizeof *p);
    if (!p || !(p->dsn = strdup(dsn)) ||
        !(p->conns = calloc(n, sizeof *p->conns)) || !(p->busy = calloc(n, sizeof *p->busy))) {
        sl_err_set(err, "out of memory");
        rv_pool_destroy(p);
        return SL_ENOMEM;
    }
    p->n = n;
    p->stmt_timeout_ms = stmt_timeout_ms;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    /* One connection up front: the database answers before the first
     * request (sl_start_retry waits for it). */
    if (!(p->conns[0] = sl_pg_connect_timed(p->dsn, p->stmt_timeout_ms, err))) {
        rv_pool_destroy(p);
        return SL_EIO;
    }
    *out = p;
    return SL_OK;
}

void rv_pool_destroy(rv_pool *p)
{
    if (!p)
        return;
    for (size_t i = 0; p->conns && i < p->n; i++)
        if (p->conns[i])
            PQfinish(p->conns[i]);
    if (p->n) {
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
    }
    free(p->conns);
    free(p->busy);
    free(p->dsn);
    free(p);
}

PGconn *rv_pool_get(rv_pool *p)
{
    size_t i;
    PGconn *c;
    sl_err err = { "" };

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
    c = p->conns[i];
    if (c && PQstatus(c) != CONNECTION_OK) {
        PQfinish(c);
        c = NULL;
    }
    if (!c && !(c = sl_pg_connect_timed(p->dsn, p->stmt_timeout_ms, &err)))
        sl_error(LOG, "database connection: %s", err.msg);
    pthread_mutex_lock(&p->mu);
    p->conns[i] = c;
    if (!c) {
        p->busy[i] = 0;
        pthread_cond_signal(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return c;
}

void rv_pool_put(rv_pool *p, PGconn *c)
{
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < p->n; i++) {
        if (p->conns[i] == c && p->busy[i]) {
            /* A connection left inside a transaction is of no use. */
            if (PQtransactionStatus(c) != PQTRANS_IDLE) {
                PQfinish(c);
                p->conns[i] = NULL;
            }
            p->busy[i] = 0;
            break;
        }
    }
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* ---- statements ------------------------------------------------------- */

/* Runs sql with n text parameters (NULL = SQL NULL).  The result, or NULL
 * after logging what failed. */
static PGresult *q(PGconn *c, const char *what, const char *sql, int n,
                   const char *const *v)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, v, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);

    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return r;
    sl_error(LOG, "%s: %s", what, PQresultErrorMessage(r));
    PQclear(r);
    return NULL;
}

static int exec0(PGconn *c, const char *what, const char *sql, int n,
                 const char *const *v)
{
    PGresult *r = q(c, what, sql, n, v);

    if (!r)
        return SL_EIO;
    PQclear(r);
    return SL_OK;
}

static const char *val(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

static json_t *jstr_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* ---- sessions and logins ---------------------------------------------- */

int rv_session_get(rv_app *a, PGconn *c, const char *token, rv_session *s)
{
    char h[SL_SHA256_HEX];
    const char *v[1] = { h };
    PGresult *r;
    sl_ws_session_state st;
    int rc = SL_ENOTFOUND;

    if (sl_ws_token_hash(token, h) != SL_OK)
        return SL_ENOTFOUND;
    r = q(c, "reading the session",
          "SELECT s.moderator, m.role, s.csrf,"
          " (extract(epoch from s.created_at) * 1000)::bigint,"
          " (extract(epoch from s.last_seen_at) * 1000)::bigint,"
          " (s.revoked_at IS NOT NULL OR m.disabled), " NOW_MS
          " FROM review_sessions s JOIN moderators m ON m.name = s.moderator"
          " WHERE s.id_sha256 = $1", 1, v);
    if (!r)
        return SL_EIO;
    if (PQntuples(r) == 1) {
        st = sl_ws_session_check(strtoll(PQgetvalue(r, 0, 3), NULL, 10),
                                 strtoll(PQgetvalue(r, 0, 4), NULL, 10),
                                 strcmp(PQgetvalue(r, 0, 5), "t") == 0,
                                 strtoll(PQgetvalue(r, 0, 6), NULL, 10),
                                 a->idle_s * 1000, a->absolute_s * 1000);
        if (st == SL_WS_SESSION_LIVE) {
            snprintf(s->user, sizeof s->user, "%s", PQgetvalue(r, 0, 0));
            snprintf(s->role, sizeof s->role, "%s", PQgetvalue(r, 0, 1));
            snprintf(s->csrf, sizeof s->csrf, "%s", PQgetvalue(r, 0, 2));
            /* At most once a minute (or a quarter of the idle limit, if
             * shorter): most read-only requests then write nothing. */
            char every[24];
            const char *uv[2] = { h, every };
            int64_t e = a->idle_s / 4 < 60 ? a->idle_s / 4 : 60;
            snprintf(every, sizeof every, "%lld", (long long)e);
            rc = exec0(c, "recording the session's use",
                       "UPDATE review_sessions SET last_seen_at = now()"
                       " WHERE id_sha256 = $1"
                       " AND last_seen_at < now() - make_interval(secs => $2::int)", 2, uv);
        }
    }
    PQclear(r);
    return rc;
}

int rv_session_new(rv_app *a, PGconn *c, const char *user, const char *client,
                   char token_out[SL_WS_TOKEN_HEX], rv_session *s)
{
    char h[SL_SHA256_HEX];
    const char *v[4];
    PGresult *r;

    if (sl_ws_token_new(token_out) != SL_OK || sl_ws_token_new(s->csrf) != SL_OK ||
        sl_ws_token_hash(token_out, h) != SL_OK)
        return SL_ERR;
    v[0] = h;
    v[1] = user;
    v[2] = s->csrf;
    v[3] = client;
    if (exec0(c, "creating the session",
              "INSERT INTO review_sessions (id_sha256, moderator, csrf, client_addr)"
              " VALUES ($1, $2, $3, $4)", 4, v) != SL_OK)
        return SL_EIO;
    snprintf(s->user, sizeof s->user, "%s", user);
    /* Sessions past their absolute expiry are dead: pruned now and then. */
    if ((sl_now_ms() % 50) == 0) {
        char secs[24];
        const char *pv[1] = { secs };
        snprintf(secs, sizeof secs, "%lld", (long long)a->absolute_s);
        if (exec0(c, "pruning sessions", "DELETE FROM review_sessions WHERE created_at <"
                  " now() - make_interval(secs => $1::int)", 1, pv) != SL_OK)
            return SL_EIO;
    }
    r = q(c, "reading the role", "SELECT role FROM moderators WHERE name = $1", 1, &v[1]);
    if (!r)
        return SL_EIO;
    snprintf(s->role, sizeof s->role, "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    return SL_OK;
}

int rv_session_end(PGconn *c, const char *token)
{
    char h[SL_SHA256_HEX];
    const char *v[1] = { h };

    if (sl_ws_token_hash(token, h) != SL_OK)
        return SL_OK;
    return exec0(c, "ending the session",
                 "UPDATE review_sessions SET revoked_at = now()"
                 " WHERE id_sha256 = $1 AND revoked_at IS NULL", 1, v);
}

/* Recent failure times (ms) of one column = value, and the clock. */
static int failures(PGconn *c, const char *col_sql, const char *value,
                    int64_t window_s, const sl_ws_rate *rate, int64_t *wait)
{
    char win[24];
    const char *v[2] = { value, win };
    PGresult *r;
    int64_t *t, now;
    int n;

    snprintf(win, sizeof win, "%lld", (long long)window_s);
    r = q(c, "reading login attempts", col_sql, 2, v);
    if (!r)
        return SL_EIO;
    n = PQntuples(r);
    t = malloc(((size_t)n + 1) * sizeof *t);
    if (!t) {
        PQclear(r);
        return SL_ENOMEM;
    }
    now = 0;
    for (int i = 0; i < n; i++) {
        t[i] = strtoll(PQgetvalue(r, i, 0), NULL, 10);
        now = strtoll(PQgetvalue(r, i, 1), NULL, 10);
    }
    *wait = n ? sl_ws_rate_wait_ms(rate, t, (size_t)n, now) : 0;
    free(t);
    PQclear(r);
    return SL_OK;
}

int rv_login_wait(rv_app *a, PGconn *c, const char *user, const char *client,
                  int64_t *wait_ms)
{
    int64_t wu = 0, wa = 0;
    int rc;

    rc = failures(c, "SELECT (extract(epoch from at) * 1000)::bigint, " NOW_MS
                  " FROM review_login_attempts WHERE username = $1 AND NOT ok"
                  " AND at > now() - make_interval(secs => $2::int)"
                  " ORDER BY at DESC LIMIT 1000", user,
                  a->rate_user.window_ms / 1000, &a->rate_user, &wu);
    if (rc == SL_OK)
        rc = failures(c, "SELECT (extract(epoch from at) * 1000)::bigint, " NOW_MS
                      " FROM review_login_attempts WHERE client_addr = $1 AND NOT ok"
                      " AND at > now() - make_interval(secs => $2::int)"
                      " ORDER BY at DESC LIMIT 1000", client,
                      a->rate_addr.window_ms / 1000, &a->rate_addr, &wa);
    *wait_ms = wu > wa ? wu : wa;
    return rc;
}

int rv_login_check(PGconn *c, const char *user, const char *pw, size_t len,
                   const char *client, int *ok, char role_out[16])
{
    const char *v[3] = { user, client, NULL };
    PGresult *r;
    int rc;

    *ok = 0;
    r = q(c, "reading the account",
          "SELECT pw_hash, role, disabled FROM moderators WHERE name = $1", 1, v);
    if (!r)
        return SL_EIO;
    if (PQntuples(r) == 1) {
        *ok = sl_ws_password_verify(PQgetvalue(r, 0, 0), pw, len) &&
              strcmp(PQgetvalue(r, 0, 2), "f") == 0;
        snprintf(role_out, 16, "%s", PQgetvalue(r, 0, 1));
    } else {
        /* No such account: spend the time a verification takes, so the
         * answer's timing does not tell which names exist. */
        char h[SL_WS_PWHASH_MAX];
        sl_err err;
        (void)sl_ws_password_hash("sluice-review-no-such-user", 26, h, &err);
    }
    PQclear(r);
    v[2] = *ok ? "true" : "false";
    rc = exec0(c, "recording the login attempt",
               "INSERT INTO review_login_attempts (username, client_addr, ok)"
               " VALUES (left($1, 200), $2, $3::boolean)", 3, v);
    /* Attempts older than a day count for nothing: pruned now and then. */
    if (rc == SL_OK && (sl_now_ms() % 100) == 0)
        rc = exec0(c, "pruning login attempts", "DELETE FROM review_login_attempts"
                   " WHERE at < now() - interval '1 day'", 0, NULL);
    return rc;
}

/* ---- the queue ---------------------------------------------------------- */

#define QUEUE_COLS \
    "upload_id, GREATEST(0, extract(epoch from now() - flagged_at))::bigint," \
    " dataset_id, creator_id, content_type, detected_type," \
    " NULLIF(array_to_string(review_rules(findings), ','), '')," \
    " (SELECT CASE max(CASE f->>'severity' WHEN 'high' THEN 3 WHEN 'medium' THEN 2" \
    "  ELSE 1 END) WHEN 3 THEN 'high' WHEN 2 THEN 'medium' ELSE 'low' END FROM" \
    "  jsonb_array_elements(CASE jsonb_typeof(findings->'findings') WHEN 'array'" \
    "  THEN findings->'findings' ELSE '[]'::jsonb END) f)," \
    " (extract(epoch from flagged_at) * 1000000)::bigint, state, filename," \
    " CASE WHEN claim_until > now() THEN claimed_by END"

int rv_queue(PGconn *c, const rv_filter *f, json_t **out)
{
    char us[24] = "";
    const char *after_id = NULL;
    const char *v[6];
    json_t *items, *o, *root;
    PGresult *r;
    int n;

    *out = NULL;
    if (f->after && *f->after && rv_cursor_parse(f->after, us, sizeof us, &after_id) != SL_OK)
        return SL_EINVAL;
    v[0] = f->dataset && *f->dataset ? f->dataset : NULL;
    v[1] = f->creator && *f->creator ? f->creator : NULL;
    v[2] = f->type && *f->type ? f->type : NULL;
    v[3] = f->rule && *f->rule ? f->rule : NULL;
    v[4] = after_id ? us : NULL;
    v[5] = after_id;
    r = q(c, "reading the queue",
          "SELECT " QUEUE_COLS " FROM review_items"
          " WHERE state IN ('pending', 'awaiting_second')"
          " AND ($1::text IS NULL OR dataset_id = $1)"
          " AND ($2::text IS NULL OR creator_id = $2)"
          " AND ($3::text IS NULL OR content_type = $3 OR detected_type = $3)"
          " AND ($4::text IS NULL OR review_rules(findings) @> ARRAY[$4::text])"
          " AND ($5::bigint IS NULL OR (flagged_at, upload_id) >"
          "      ('epoch'::timestamptz + $5::bigint * interval '1 microsecond', $6::text))"
          " ORDER BY flagged_at, upload_id LIMIT " "51", 6, v);
    if (!r)
        return SL_EIO;
    n = PQntuples(r);
    items = json_array();
    for (int i = 0; i < n && i < RV_PAGE_ROWS; i++) {
        o = json_pack("{s:s, s:I, s:s, s:s, s:s, s:o, s:o, s:o, s:s, s:o, s:o}",
                      "upload_id", PQgetvalue(r, i, 0),
                      "age_s", (json_int_t)strtoll(PQgetvalue(r, i, 1), NULL, 10),
                      "dataset_id", PQgetvalue(r, i, 2),
                      "creator_id", PQgetvalue(r, i, 3),
                      "declared_type", PQgetvalue(r, i, 4),
                      "detected_type", jstr_or_null(val(r, i, 5)),
                      "rules", jstr_or_null(val(r, i, 6)),
                      "severity", jstr_or_null(val(r, i, 7)),
                      "state", PQgetvalue(r, i, 9),
                      "filename", jstr_or_null(val(r, i, 10)),
                      "claimed_by", jstr_or_null(val(r, i, 11)));
        if (!o || json_array_append_new(items, o) != 0) {
            json_decref(items);
            PQclear(r);
            return SL_ENOMEM;
        }
    }
    root = json_pack("{s:o, s:o}", "items", items, "next", json_null());
    if (root && n > RV_PAGE_ROWS) {
        char cur[512];
        snprintf(cur, sizeof cur, "%s_%s", PQgetvalue(r, RV_PAGE_ROWS - 1, 8),
                 PQgetvalue(r, RV_PAGE_ROWS - 1, 0));
        json_object_set_new(root, "next", json_string(cur));
    }
    PQclear(r);
    if (!root)
        return SL_ENOMEM;
    *out = root;
    return SL_OK;
}

/* ---- items ------------------------------------------------------------ */

int rv_item_json(PGconn *c, const char *upload_id, const char *me, json_t **out)
{
    const char *v[2] = { upload_id, me };
    PGresult *r, *e = NULL, *d = NULL, *rv = NULL;
    json_t *o = NULL, *findings, *prov, *decs, *rev;
    json_error_t jerr;
    int rc = SL_EIO;

    *out = NULL;
    r = q(c, "reading the item",
          "SELECT upload_id, creator_id, dataset_id, content_type, detected_type,"
          " sha256, size, license_expression, filename, meta, findings::text, state,"
          " to_char(flagged_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
          " decided_by, CASE WHEN claim_until > now() THEN claimed_by END,"
          " (extract(epoch from claim_until) * 1000)::bigint"
          " FROM review_items WHERE upload_id = $1", 1, v);
    if (!r)
        return SL_EIO;
    if (PQntuples(r) != 1) {
        rc = SL_ENOTFOUND;
        goto out;
    }
    if (!(e = q(c, "reading the chain", "SELECT canonical FROM provenance_events"
                " WHERE owner_kind = 'review' AND owner_id = $1 ORDER BY seq", 1, v)) ||
        !(d = q(c, "reading the decisions",
                "SELECT decision_id, moderator, action, reason, note, state_after,"
                " to_char(decided_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
                " FROM review_decisions WHERE upload_id = $1 ORDER BY decision_id", 1, v)) ||
        !(rv = q(c, "reading the reveals", "SELECT DISTINCT finding FROM review_reveals"
                 " WHERE upload_id = $1 AND moderator = $2 ORDER BY finding", 2, v)))
        goto out;
    findings = json_loads(PQgetvalue(r, 0, 10), 0, &jerr);
    prov = json_array();
    for (int i = 0; i < PQntuples(e); i++)
        json_array_append_new(prov, json_string(PQgetvalue(e, i, 0)));
    decs = json_array();
    for (int i = 0; i < PQntuples(d); i++)
        json_array_append_new(decs, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s}",
            "decision_id", (json_int_t)strtoll(PQgetvalue(d, i, 0), NULL, 10),
            "moderator", PQgetvalue(d, i, 1), "action", PQgetvalue(d, i, 2),
            "reason", PQgetvalue(d, i, 3), "note", PQgetvalue(d, i, 4),
            "state_after", PQgetvalue(d, i, 5), "decided_at", PQgetvalue(d, i, 6)));
    rev = json_array();
    for (int i = 0; i < PQntuples(rv); i++)
        json_array_append_new(rev, json_integer(strtoll(PQgetvalue(rv, i, 0), NULL, 10)));
    o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:I, s:s, s:o, s:s, s:o, s:s, s:s,"
                  " s:o, s:o, s:o, s:o, s:o, s:o}",
        "upload_id", PQgetvalue(r, 0, 0), "creator_id", PQgetvalue(r, 0, 1),
        "dataset_id", PQgetvalue(r, 0, 2), "declared_type", PQgetvalue(r, 0, 3),
        "detected_type", jstr_or_null(val(r, 0, 4)), "sha256", PQgetvalue(r, 0, 5),
        "size", (json_int_t)strtoll(PQgetvalue(r, 0, 6), NULL, 10),
        "license", PQgetvalue(r, 0, 7), "filename", jstr_or_null(val(r, 0, 8)),
        "meta", PQgetvalue(r, 0, 9), "scan", findings ? findings : json_null(),
        "state", PQgetvalue(r, 0, 11), "flagged_at", PQgetvalue(r, 0, 12),
        "decided_by", jstr_or_null(val(r, 0, 13)),
        "claimed_by", jstr_or_null(val(r, 0, 14)),
        "claim_until_ms", val(r, 0, 14) ? json_integer(strtoll(PQgetvalue(r, 0, 15), NULL, 10))
                                        : json_null(),
        "prov", prov, "decisions", decs, "revealed", rev);
    rc = o ? SL_OK : SL_ENOMEM;
    *out = o;
out:
    PQclear(r);
    PQclear(e);
    PQclear(d);
    PQclear(rv);
    return rc;
}

/* Reads a bytea column given as hex text ("\x..."). */
static int unhex_bytea(const char *s, uint8_t **data, size_t *len)
{
    size_t n;

    if (strncmp(s, "\\x", 2) != 0)
        return SL_EINVAL;
    s += 2;
    n = strlen(s) / 2;
    if (!(*data = malloc(n ? n : 1)))
        return SL_ENOMEM;
    if (sl_hex_decode(s, 2 * n, *data, n) != SL_OK) {
        free(*data);
        *data = NULL;
        return SL_EINVAL;
    }
    *len = n;
    return SL_OK;
}

int rv_item_bytes(PGconn *c, const char *upload_id, uint8_t **data, size_t *len,
                  char *filename, size_t fnsz)
{
    const char *v[1] = { upload_id };
    PGresult *r = q(c, "reading the content",
                    "SELECT c.data, ri.filename FROM review_items ri"
                    " JOIN contents c ON c.sha256 = ri.sha256 WHERE ri.upload_id = $1", 1, v);
    int rc;

    if (!r)
        return SL_EIO;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return SL_ENOTFOUND;
    }
    rc = unhex_bytea(PQgetvalue(r, 0, 0), data, len);
    if (filename)
        snprintf(filename, fnsz, "%s", PQgetisnull(r, 0, 1) ? "" : PQgetvalue(r, 0, 1));
    PQclear(r);
    return rc;
}

/* ---- overview ----------------------------------------------------------- */

static json_t *rows_json(const PGresult *r, const char *const *keys, int ncols,
                         int last_int)
{
    json_t *arr = json_array();

    for (int i = 0; arr && i < PQntuples(r); i++) {
        json_t *o = json_object();
        for (int k = 0; o && k < ncols; k++)
            json_object_set_new(o, keys[k], k == ncols - 1 && last_int
                ? json_integer(strtoll(PQgetvalue(r, i, k), NULL, 10))
                : jstr_or_null(val(r, i, k)));
        json_array_append_new(arr, o);
    }
    return arr;
}

int rv_overview(PGconn *c, json_t **out)
{
    static const char *const rk[] = { "day", "rule", "count" };
    static const char *const dk[] = { "day", "dataset", "count" };
    static const char *const ek[] = { "reason", "count" };
    PGresult *p = NULL, *pr = NULL, *pd = NULL, *dr = NULL, *md = NULL;
    int rc = SL_EIO;

    *out = NULL;
    if (!(p = q(c, "overview: pending",
                "SELECT count(*), COALESCE(GREATEST(0, extract(epoch from now() - min(flagged_at)))"
                "::bigint, 0) FROM review_items WHERE state IN ('pending', 'awaiting_second')", 0, NULL)) ||
        !(pr = q(c, "overview: flags per rule",
                 "SELECT to_char(date_trunc('day', flagged_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD'),"
                 " f->>'rule', count(DISTINCT upload_id) FROM review_items,"
                 " jsonb_array_elements(CASE jsonb_typeof(findings->'findings') WHEN 'array'"
                 " THEN findings->'findings' ELSE '[]'::jsonb END) f"
                 " WHERE flagged_at > now() - interval '30 days' AND f ? 'rule'"
                 " GROUP BY 1, 2 ORDER BY 1, 2", 0, NULL)) ||
        !(pd = q(c, "overview: flags per dataset",
                 "SELECT to_char(date_trunc('day', flagged_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD'),"
                 " dataset_id, count(*) FROM review_items"
                 " WHERE flagged_at > now() - interval '30 days' GROUP BY 1, 2 ORDER BY 1, 2",
                 0, NULL)) ||
        !(dr = q(c, "overview: decisions per reason",
                 "SELECT reason, count(*) FROM review_decisions"
                 " WHERE action IN ('approve', 'redact', 'reject')"
                 " AND decided_at > now() - interval '30 days' GROUP BY 1 ORDER BY 1", 0, NULL)) ||
        !(md = q(c, "overview: median time to decision",
                 "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY"
                 " extract(epoch from decided_at - flagged_at))::bigint FROM review_items"
                 " WHERE decided_at > now() - interval '30 days'", 0, NULL)))
        goto out;
    *out = json_pack("{s:I, s:I, s:o, s:o, s:o, s:o}",
        "pending", (json_int_t)strtoll(PQgetvalue(p, 0, 0), NULL, 10),
        "oldest_age_s", (json_int_t)strtoll(PQgetvalue(p, 0, 1), NULL, 10),
        "flags_per_rule_day", rows_json(pr, rk, 3, 1),
        "flags_per_dataset_day", rows_json(pd, dk, 3, 1),
        "decisions_per_reason", rows_json(dr, ek, 2, 1),
        "median_decision_s", PQgetisnull(md, 0, 0) ? json_null()
            : json_integer(strtoll(PQgetvalue(md, 0, 0), NULL, 10)));
    rc = *out ? SL_OK : SL_ENOMEM;
out:
    PQclear(p);
    PQclear(pr);
    PQclear(pd);
    PQclear(dr);
    PQclear(md);
    return rc;
}

int rv_overview_cached(rv_app *a, PGconn *c, json_t **out)
{
    int64_t now = sl_mono_ms();
    int rc = SL_OK;

    pthread_mutex_lock(&a->ov_mu);
    if (!a->ov || now - a->ov_at_ms >= RV_OVERVIEW_MS) {
        json_t *fresh = NULL;
        rc = rv_overview(c, &fresh);
        if (rc == SL_OK) {
            json_decref(a->ov);
            a->ov = fresh;
            a->ov_at_ms = now;
        }
    }
    *out = rc == SL_OK ? json_incref(a->ov) : NULL;
    pthread_mutex_unlock(&a->ov_mu);
    return rc;
}

/* ---- claims ------------------------------------------------------------- */

int rv_claim(rv_app *a, PGconn *c, const char *upload_id, const char *me,
             int64_t *until_ms, const char **why)
{
    char secs[24];
    const char *v[3] = { upload_id, me, secs };
    PGresult *r;

    *why = NULL;
    snprintf(secs, sizeof secs, "%lld", (long long)a->lease_s);
    /* One statement: concurrent claims serialise on the row and re-check
     * the condition, so exactly one of two racing moderators gets it. */
    r = q(c, "claiming the item",
          "UPDATE review_items SET claimed_by = $2,"
          " claim_until = now() + make_interval(secs => $3::int)"
          " WHERE upload_id = $1 AND state IN ('pending', 'awaiting_second')"
          " AND (claimed_by IS NULL OR claim_until <= now() OR claimed_by = $2)"
          " RETURNING (extract(epoch from claim_until) * 1000)::bigint", 3, v);
    if (!r)
        return SL_EIO;
    if (PQntuples(r) == 1) {
        *until_ms = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
        return SL_OK;
    }
    PQclear(r);
    r = q(c, "reading the item's state",
          "SELECT state FROM review_items WHERE upload_id = $1", 1, v);
    if (!r)
        return SL_EIO;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return SL_ENOTFOUND;
    }
    if (strcmp(PQgetvalue(r, 0, 0), "pending") != 0 &&
        strcmp(PQgetvalue(r, 0, 0), "awaiting_second") != 0) {
        *why = "already_decided";
        PQclear(r);
        return SL_EINVAL;
    }
    PQclear(r);
    *why = "claimed_by_other";
    return SL_ERR;
}

/* ---- decisions ------------------------------------------------------------ */

static void refuse(rv_result *res, int status, const char *code, const char *detail)
{
    res->status = status;
    res->code = code;
    snprintf(res->detail, sizeof res->detail, "%s", detail);
}

/* The item row locked for the decision. */
typedef struct locked_item {
    PGresult *r;
    const char *sha256, *state, *meta, *sig, *findings, *claimed_by;
    const char *src_topic, *src_part, *src_off;
    int64_t claim_until_ms, now_ms;
} locked_item;

static int lock_item(PGconn *c, const char *upload_id, locked_item *it)
{
    const char *v[1] = { upload_id };

    memset(it, 0, sizeof *it);
    it->r = q(c, "locking the item",
              "SELECT sha256, state, meta, signature, findings::text, claimed_by,"
              " COALESCE((extract(epoch from claim_until) * 1000)::bigint, 0), " NOW_MS ","
              " source_topic, source_partition, source_offset"
              " FROM review_items WHERE upload_id = $1 FOR UPDATE", 1, v);
    if (!it->r)
        return SL_EIO;
    if (PQntuples(it->r) != 1)
        return SL_ENOTFOUND;
    it->sha256 = PQgetvalue(it->r, 0, 0);
    it->state = PQgetvalue(it->r, 0, 1);
    it->meta = PQgetvalue(it->r, 0, 2);
    it->sig = PQgetvalue(it->r, 0, 3);
    it->findings = PQgetvalue(it->r, 0, 4);
    it->claimed_by = val(it->r, 0, 5);
    it->claim_until_ms = strtoll(PQgetvalue(it->r, 0, 6), NULL, 10);
    it->now_ms = strtoll(PQgetvalue(it->r, 0, 7), NULL, 10);
    it->src_topic = PQgetvalue(it->r, 0, 8);
    it->src_part = PQgetvalue(it->r, 0, 9);
    it->src_off = PQgetvalue(it->r, 0, 10);
    return SL_OK;
}

/* Appends the review event ev (outcome, reason, hashes, actor) to the item's
 * stored chain (sl_review_event_append checks the chain and the decision
 * rules), stores it (sl_prov_pg_append) and seals the new head with the
 * review key (sl_prov_pg_seal).  chain_out gets the whole new sluice-prov
 * header.  SL_EINVAL (err says why) when the stored chain or the event is
 * unusable; SL_EIO for the database. */
static int append_event(rv_app *a, PGconn *c, const char *upload_id,
                        const sl_prov_event *ev, sl_buf *chain_out, sl_err *err)
{
    PGresult *r = NULL;
    sl_review_stored *evs = NULL;
    sl_review_appended app;
    sl_prov_chain *pc = NULL;
    sl_prov_head head;
    char state[6] = "";
    int n, rc;

    if ((rc = sl_prov_pg_events(c, "review", upload_id, &r, state, err)) != SL_OK) {
        sl_error(LOG, "%s", err->msg);
        return rc == SL_ENOMEM ? rc : SL_EIO;
    }
    n = PQntuples(r);
    if (!(evs = calloc(n ? (size_t)n : 1, sizeof(*evs)))) {
        rc = SL_ENOMEM;
        goto out;
    }
    for (int i = 0; i < n; i++)
        evs[i] = (sl_review_stored){
            strtoll(PQgetvalue(r, i, SL_PROV_PG_SEQ), NULL, 10),
            PQgetvalue(r, i, SL_PROV_PG_CANONICAL), PQgetvalue(r, i, SL_PROV_PG_HASH) };
    if ((rc = sl_review_event_append(evs, (size_t)n, ev, chain_out, NULL, &app,
                                     err)) != SL_OK)
        goto out;
    if (!(pc = sl_prov_parse((sl_slice){ chain_out->data, chain_out->len }, err))) {
        rc = SL_ERR;
        goto out;
    }
    if (sl_prov_pg_append(c, "review", upload_id, pc, (size_t)n, &head,
                          state, err) != SL_OK) {
        sl_error(LOG, "storing the review event: %s", err->msg);
        rc = SL_EIO;
        goto out;
    }
    {
        sl_audit_headref ref = { "review", upload_id, head.seq, head.hash };
        if (sl_prov_pg_seal(c, a->signer, &ref, 1, NULL, state, err) != SL_OK) {
            sl_error(LOG, "sealing the review head: %s", err->msg);
            rc = SL_EIO;
            goto out;
        }
    }
    rc = SL_OK;
out:
    sl_prov_chain_destroy(pc);
    free(evs);
    PQclear(r);
    return rc;
}

/* Adds [name, value] to the outbox's header list. */
static void hdr(json_t *h, const char *name, const char *value)
{
    json_array_append_new(h, json_pack("[s, s]", name, value));
}

static int insert_outbox(rv_app *a, PGconn *c, int64_t decision_id, const char *topic,
                         const char *key, const uint8_t *value, size_t vlen, json_t *headers)
{
    char did[24], *hs = json_dumps(headers, JSON_COMPACT);
    const char *v[5];
    int lens[5] = { 0 }, fmts[5] = { 0 };
    PGresult *r;
    int rc = SL_OK;

    (void)a;
    if (!hs)
        return SL_ENOMEM;
    snprintf(did, sizeof did, "%lld", (long long)decision_id);
    v[0] = did;
    v[1] = topic;
    v[2] = key;
    v[3] = (const char *)(value ? value : (const uint8_t *)"");
    lens[3] = (int)vlen;
    fmts[3] = 1;
    v[4] = hs;
    r = PQexecParams(c, "INSERT INTO review_outbox (decision_id, topic, msg_key, msg_value,"
                     " headers) VALUES ($1, $2, $3, $4, $5::jsonb)", 5, NULL, v, lens, fmts, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        sl_error(LOG, "storing the outbox row: %s", PQresultErrorMessage(r));
        rc = SL_EIO;
    }
    PQclear(r);
    free(hs);
    return rc;
}

static int64_t insert_decision(PGconn *c, const rv_decision *d, const char *action,
                               const char *out_sha, const char *state_after,
                               const char *reverses)
{
    const char *v[9] = { d->upload_id, d->moderator, action, d->reason,
                         d->note ? d->note : "", d->shown_sha256, out_sha, state_after,
                         reverses };
    PGresult *r = q(c, "storing the decision",
                    "INSERT INTO review_decisions (upload_id, moderator, action, reason, note,"
                    " shown_sha256, output_sha256, state_after, reverses)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::bigint) RETURNING decision_id",
                    9, v);
    int64_t id;

    if (!r)
        return -1;
    id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return id;
}

static int set_state(PGconn *c, const char *upload_id, const char *state, const char *by)
{
    const char *v[3] = { upload_id, state, by };

    return exec0(c, "updating the item",
                 "UPDATE review_items SET state = $2,"
                 " decided_at = CASE WHEN $2 = 'pending' THEN NULL ELSE now() END,"
                 " decided_by = CASE WHEN $2 = 'pending' THEN NULL ELSE $3 END,"
                 " claimed_by = NULL, claim_until = NULL WHERE upload_id = $1", 3, v);
}

/* The final decision on a locked item: bytes, event, state, decision row
 * and the outbox message. */
static int decide_final(rv_app *a, PGconn *c, const rv_decision *d, locked_item *it,
                        rv_result *res)
{
    uint8_t *data = NULL;
    size_t len = 0;
    sl_buf red, chain;
    const uint8_t *out_val;
    size_t out_len;
    char out_sha[SL_SHA256_HEX];
    const char *outcome, *state;
    int is_reject = strcmp(d->action, "reject") == 0;
    int is_redact = strcmp(d->action, "redact") == 0;
    json_t *h = NULL;
    sl_err err = { "" };
    int64_t id;
    int rc;

    sl_buf_init(&red, (size_t)a->outbox_value_max);
    sl_buf_init(&chain, 1 << 20);
    if ((rc = rv_item_bytes(c, d->upload_id, &data, &len, NULL, 0)) != SL_OK)
        goto out;
    out_val = data;
    out_len = len;
    if (is_redact) {
        /* The scanner's own redaction of exactly the stored findings. */
        rc = sl_redact_stored(data, len, it->findings, a->rules, &red, &err);
        if (rc == SL_EINVAL) {
            refuse(res, 409, "redact_not_possible", err.msg);
            rc = SL_OK;
            goto out;
        }
        if (rc != SL_OK)
            goto out;
        out_val = red.data;
        out_len = red.len;
    }
    sl_sha256_hex(out_val, out_len, out_sha);
    outcome = is_reject ? "rejected" : is_redact ? "redacted" : "approved";
    state = outcome;
    {
        sl_prov_event ev = {
            .stage = "review", .version = RV_VERSION, .outcome = outcome,
            .reason = d->reason, .upload_id = d->upload_id,
            .input_sha256 = it->sha256, .output_sha256 = is_reject ? NULL : out_sha,
            .time_ms = sl_now_ms(), .actor = d->moderator,
        };
        rc = append_event(a, c, d->upload_id, &ev, &chain, &err);
        if (rc == SL_EINVAL) {
            refuse(res, 409, "chain_unusable", err.msg);
            rc = SL_OK;
            goto out;
        }
        if (rc != SL_OK)
            goto out;
    }
    if ((rc = set_state(c, d->upload_id, state, d->moderator)) != SL_OK)
        goto out;
    if ((id = insert_decision(c, d, d->action, is_reject ? NULL : out_sha, state, NULL)) < 0) {
        rc = SL_EIO;
        goto out;
    }
    if (sl_buf_cstr(&chain) != SL_OK) {
        rc = SL_ENOMEM;
        goto out;
    }
    {
        /* The relay's message, in the one form commit and license check
         * (sl/review_event.h). */
        sl_review_item item = {
            .upload_id = d->upload_id, .meta = it->meta, .signature = it->sig,
            .findings = it->findings, .sha256 = it->sha256, .size = (int64_t)len,
            .source_topic = it->src_topic,
            .source_partition = (int32_t)strtol(it->src_part, NULL, 10),
            .source_offset = strtoll(it->src_off, NULL, 10) };
        sl_review_decision dec = {
            .decision_id = id, .action = d->action, .reason = d->reason,
            .note = d->note, .moderator = d->moderator, .time_ms = sl_now_ms() };
        sl_review_message msg;
        if ((rc = sl_review_message_build(&item, &dec, (const char *)chain.data,
                                          is_reject ? NULL : out_sha, &msg,
                                          &err)) != SL_OK) {
            sl_error(LOG, "building the relay message: %s", err.msg);
            goto out;
        }
        h = json_array();
        for (size_t k = 0; h && k < msg.n; k++)
            hdr(h, msg.name[k], msg.value[k]);
        rc = !h ? SL_ENOMEM :
             strcmp(msg.topic, SL_TOPIC_REVIEWED) == 0 ?
                 insert_outbox(a, c, id, a->topic_reviewed, d->upload_id, out_val,
                               out_len, h) :
                 insert_outbox(a, c, id, a->topic_rejected, d->upload_id, NULL, 0, h);
        sl_review_message_clear(&msg);
    }
    if (rc != SL_OK)
        goto out;
    res->status = 200;
    res->decision_id = id;
    snprintf(res->state, sizeof res->state, "%s", state);
out:
    json_decref(h);
    free(data);
    sl_buf_free(&red);
    sl_buf_free(&chain);
    return rc;
}

int rv_decide(rv_app *a, PGconn *c, const rv_decision *d, rv_result *res)
{
    locked_item it;
    int rc, final = 1;
    int is_reject = strcmp(d->action, "reject") == 0;

    memset(res, 0, sizeof *res);
    if (exec0(c, "BEGIN", "BEGIN", 0, NULL) != SL_OK)
        return SL_EIO;
    rc = lock_item(c, d->upload_id, &it);
    if (rc == SL_ENOTFOUND) {
        refuse(res, 404, "not_found", "no such review item");
        goto rollback;
    }
    if (rc != SL_OK)
        goto fail;
    if (strcmp(it.state, "pending") != 0 && strcmp(it.state, "awaiting_second") != 0) {
        refuse(res, 409, "already_decided", "the item was decided already");
        goto rollback;
    }
    if (sl_ws_lease_check(it.claimed_by, it.claim_until_ms, d->moderator, it.now_ms)
        != SL_WS_LEASE_MINE) {
        refuse(res, 409, "lease_not_held",
               "claim the item first (open it); a lease runs out after review.lease.s");
        goto rollback;
    }
    if (strcmp(d->shown_sha256, it.sha256) != 0) {
        refuse(res, 409, "shown_mismatch",
               "shown_sha256 is not the SHA-256 of the item's stored content");
        goto rollback;
    }
    if (!is_reject && rv_needs_second(a->second_rules, it.findings)) {
        const char *v[3] = { d->upload_id, d->moderator, d->action };
        PGresult *r = q(c, "reading approvals", "SELECT moderator FROM review_approvals"
                        " WHERE upload_id = $1", 1, v);
        int mine = 0, others = 0;
        if (!r)
            goto fail;
        for (int i = 0; i < PQntuples(r); i++)
            strcmp(PQgetvalue(r, i, 0), d->moderator) == 0 ? mine++ : others++;
        PQclear(r);
        if (mine) {
            refuse(res, 409, "second_needs_other",
                   "a high-severity rule fired: another moderator must agree");
            goto rollback;
        }
        if (exec0(c, "storing the approval", "INSERT INTO review_approvals"
                  " (upload_id, moderator, action) VALUES ($1, $2, $3)", 3, v) != SL_OK)
            goto fail;
        if (others == 0) {
            final = 0;
            if (set_state(c, d->upload_id, "awaiting_second", d->moderator) != SL_OK ||
                (res->decision_id = insert_decision(c, d, d->action, NULL,
                                                    "awaiting_second", NULL)) < 0)
                goto fail;
            res->status = 202;
            snprintf(res->state, sizeof res->state, "awaiting_second");
        }
    }
    if (final) {
        if ((rc = decide_final(a, c, d, &it, res)) != SL_OK)
            goto fail;
        if (res->code)
            goto rollback;
    }
    PQclear(it.r);
    return exec0(c, "COMMIT", "COMMIT", 0, NULL);
rollback:
    PQclear(it.r);
    return exec0(c, "ROLLBACK", "ROLLBACK", 0, NULL);
fail:
    PQclear(it.r);
    (void)exec0(c, "ROLLBACK", "ROLLBACK", 0, NULL);
    return SL_EIO;
}

int rv_reverse(rv_app *a, PGconn *c, const rv_decision *d, rv_result *res)
{
    char win[24], did[24];
    const char *v[2] = { d->upload_id, win };
    locked_item it;
    PGresult *r = NULL;
    sl_buf chain;
    sl_err err = { "" };
    int rc;

    memset(res, 0, sizeof *res);
    sl_buf_init(&chain, 1 << 20);
    snprintf(win, sizeof win, "%lld", (long long)a->reverse_window_s);
    if (strcmp(d->role, "lead") != 0) {
        refuse(res, 403, "lead_only", "only a lead may reverse a decision");
        return SL_OK;
    }
    if (exec0(c, "BEGIN", "BEGIN", 0, NULL) != SL_OK)
        return SL_EIO;
    rc = lock_item(c, d->upload_id, &it);
    if (rc == SL_ENOTFOUND) {
        refuse(res, 404, "not_found", "no such review item");
        goto rollback;
    }
    if (rc != SL_OK)
        goto fail;
    /* The last final decision, inside the window, whose message is still
     * held back (the relay sends outbox rows only once the window has
     * passed, so a reversal never races a message already sent). */
    r = q(c, "finding the decision",
          "SELECT d.decision_id, o.outbox_id, o.sent_at IS NOT NULL"
          " FROM review_decisions d JOIN review_outbox o ON o.decision_id = d.decision_id"
          " WHERE d.upload_id = $1 AND d.action IN ('approve', 'redact', 'reject')"
          " AND o.cancelled_at IS NULL AND d.decided_at > now() - make_interval(secs => $2::int)"
          " ORDER BY d.decision_id DESC LIMIT 1 FOR UPDATE OF o", 2, v);
    if (!r)
        goto fail;
    if (PQntuples(r) == 0) {
        refuse(res, 409, "nothing_to_reverse",
               "no decision on this item within review.reverse.window.s");
        goto rollback;
    }
    if (strcmp(PQgetvalue(r, 0, 2), "t") == 0) {
        refuse(res, 409, "already_relayed",
               "the decision already went on; withdraw the sample with sluicectl takedown");
        goto rollback;
    }
    snprintf(did, sizeof did, "%s", PQgetvalue(r, 0, 0));
    {
        const char *ov[1] = { PQgetvalue(r, 0, 1) };
        if (exec0(c, "cancelling the message", "UPDATE review_outbox SET cancelled_at = now()"
                  " WHERE outbox_id = $1", 1, ov) != SL_OK)
            goto fail;
    }
    {
        sl_prov_event ev = {
            .stage = "review", .version = RV_VERSION, .outcome = "reversed",
            .reason = d->reason, .upload_id = d->upload_id,
            .input_sha256 = it.sha256, .output_sha256 = NULL,
            .time_ms = sl_now_ms(), .actor = d->moderator,
        };
        if ((rc = append_event(a, c, d->upload_id, &ev, &chain, &err)) != SL_OK) {
            sl_error(LOG, "reversal of %s: %s", d->upload_id, err.msg);
            goto fail;
        }
    }
    {
        rv_decision rd = *d;
        rd.shown_sha256 = it.sha256;
        if (set_state(c, d->upload_id, "pending", d->moderator) != SL_OK ||
            (res->decision_id = insert_decision(c, &rd, "reverse", NULL, "pending", did)) < 0 ||
            exec0(c, "clearing approvals", "DELETE FROM review_approvals WHERE upload_id = $1",
                  1, v) != SL_OK)
            goto fail;
    }
    res->status = 200;
    snprintf(res->state, sizeof res->state, "pending");
    PQclear(r);
    PQclear(it.r);
    sl_buf_free(&chain);
    return exec0(c, "COMMIT", "COMMIT", 0, NULL);
rollback:
    PQclear(r);
    PQclear(it.r);
    sl_buf_free(&chain);
    return exec0(c, "ROLLBACK", "ROLLBACK", 0, NULL);
fail:
    PQclear(r);
    PQclear(it.r);
    sl_buf_free(&chain);
    (void)exec0(c, "ROLLBACK", "ROLLBACK", 0, NULL);
    return SL_EIO;
}

int rv_reveal(PGconn *c, const char *upload_id, const char *me, long finding,
              const char *client, json_t **out)
{
    char idx[24];
    const char *v[4] = { upload_id, me, idx, client };
    PGresult *r;
    json_t *doc, *f;
    uint8_t *data = NULL;
    size_t len = 0;
    int64_t off, n;
    int rc;

    *out = NULL;
    snprintf(idx, sizeof idx, "%ld", finding);
    r = q(c, "reading the findings", "SELECT findings::text FROM review_items"
          " WHERE upload_id = $1", 1, v);
    if (!r)
        return SL_EIO;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return SL_ENOTFOUND;
    }
    doc = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
    PQclear(r);
    f = json_array_get(json_object_get(doc, "findings"), (size_t)finding);
    if (finding < 0 || !f) {
        json_decref(doc);
        return SL_EINVAL;
    }
    if ((rc = exec0(c, "recording the reveal",
                    "INSERT INTO review_reveals (upload_id, moderator, finding, client_addr)"
                    " VALUES ($1, $2, $3, $4)", 4, v)) != SL_OK) {
        json_decref(doc);
        return rc;
    }
    off = json_integer_value(json_object_get(f, "offset"));
    n = json_integer_value(json_object_get(f, "length"));
    *out = json_pack("{s:i, s:o}", "finding", (int)finding, "text", json_null());
    /* Offsets are the scanner's: into the content itself when the finding's
     * source is the content of a text sample; else there is no span to show. */
    if (*out && rv_item_bytes(c, upload_id, &data, &len, NULL, 0) == SL_OK &&
        off >= 0 && n > 0 && (size_t)off <= len && (size_t)n <= len - (size_t)off) {
        json_t *t = json_stringn((const char *)data + off, (size_t)n);
        if (t)
            json_object_set_new(*out, "text", t);
    }
    free(data);
    json_decref(doc);
    return *out ? SL_OK : SL_ENOMEM;
}
