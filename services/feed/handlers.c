/*
 * handlers.c -- the routes of sluice-feed (FEED_CONTRACT.md "HTTP API"):
 * the datasets a consumer's token may read, their samples and changes as
 * resumable NDJSON pages (long-polled with `wait`), the content of a sample
 * (bearer token or signed URL; ETag, Range, conditional requests; metered
 * before the bytes go), the Croissant manifest, and a creator's outcomes.
 *
 * Every request: the bearer token (fd_bearer_parse) names a principal
 * (auth.c), its bucket must hold a request (429 + Retry-After), and the
 * statement reading the data also says whether the token is still live
 * (401 if not) and which grant applies (403 without one).  Errors are
 * JSON {"error", "detail"} with the contract's codes.
 *
 * Long polls park the request (sl_http_req_park) with the answer "empty
 * page" prepared; the listener wakes the topic when rows commit, the
 * handler runs again and reads the page again.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sl/log.h"
#include "feed.h"
#include "statement_pg.h"

#define LOG "feed"
#define NDJSON "application/x-ndjson"
/* A manifest is built in memory: past this many files, 503. */
#define CROISSANT_MAX_FILES 200000
#define SL_STR_(x) #x
#define SL_STR(x) SL_STR_(x)

void fd_routes(fd_app *a, sl_http_router *rt, int *rc);

/* ---- helpers ------------------------------------------------------------ */

/* An id as the upload metadata defines one (schemas/upload-meta.schema.json
 * $defs/id), else 0: anything else names nothing here. */
static int id_ok(const char *s)
{
    size_t n = 0;

    if (!s || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') ||
                (s[0] >= '0' && s[0] <= '9')))
        return 0;
    for (; s[n]; n++) {
        char ch = s[n];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
              (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == ':' || ch == '-'))
            return 0;
    }
    return n <= 128;
}

static int unauthorized(sl_http_resp *p, const char *detail)
{
    int rc = sl_http_resp_header(p, "WWW-Authenticate", "Bearer");

    return rc != SL_OK ? rc : sl_http_resp_error(p, 401, "unauthorized", detail);
}

static int unavailable(sl_http_resp *p)
{
    return sl_http_resp_error(p, 503, "unavailable", "the database is not reachable; try again");
}

/* A non-negative integer query argument in [lo, hi], def when absent.
 * 1 ok, 0 bad. */
static int int_arg(sl_http_req *r, const char *name, int64_t lo, int64_t hi,
                   int64_t def, int64_t *out)
{
    const char *s = sl_http_req_query(r, name);
    char *end;
    long long v;

    *out = def;
    if (!s)
        return 1;
    if (!*s || *s == '-' || *s == '+' || *s == ' ' || strlen(s) > 18)
        return 0;
    v = strtoll(s, &end, 10);
    if (*end || v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

/* The request's principal.  1: go on (pr set); 0: p holds the answer.
 * want: the holder kind the route serves. */
static int enter(fd_app *a, sl_http_req *r, sl_http_resp *p, sl_pgconn *c,
                 fd_holder want, fd_principal *pr, int *rc)
{
    char tok[FD_TOKEN_MAX];
    fd_holder kind;
    int64_t wait;
    int st;

    *rc = SL_OK;
    if (fd_bearer_parse(sl_http_req_header(r, "Authorization"), tok, &kind) != SL_OK) {
        *rc = unauthorized(p, "give a feed token: Authorization: Bearer slc_... (or slr_...)");
        return 0;
    }
    st = fd_auth_lookup(a->auth, c, tok, pr);
    sodium_memzero(tok, sizeof tok);
    if (st == SL_ENOTFOUND) {
        *rc = unauthorized(p, "the token is unknown, revoked or expired, or its holder is disabled");
        return 0;
    }
    if (st != SL_OK) {
        *rc = unavailable(p);
        return 0;
    }
    /* A re-run after a wake is the same request: it is charged once. */
    if (sl_http_req_wake(r) == SL_HTTP_FIRST && (wait = fd_auth_rate(a->auth, pr->token_id)) > 0) {
        char ra[24];
        snprintf(ra, sizeof ra, "%" PRId64, wait);
        *rc = sl_http_resp_header(p, "Retry-After", ra);
        if (*rc == SL_OK)
            *rc = sl_http_resp_error(p, 429, "rate_limited", "too many requests for this token; retry later");
        return 0;
    }
    if (pr->kind != want) {
        *rc = sl_http_resp_error(p, 403, "forbidden", want == FD_HOLDER_CONSUMER
                                 ? "this route takes a consumer token (slc_)"
                                 : "this route takes a creator token (slr_)");
        return 0;
    }
    return 1;
}

/* What fd_access says of (principal or signed-URL consumer, dataset). */
typedef struct access {
    int live, exists;
    int has_grant;
    char grant_id[24], price[24], currency[8];
    char rights[1024];         /* text[] literal, "" when none */
    char valid_until[40];      /* "" when open-ended */
} access;

static int access_get(sl_pgconn *c, const char *token_id, const char *consumer,
                      const char *dataset, access *ac)
{
    const char *v[3] = { token_id, consumer, dataset };
    PGresult *r = NULL;

    memset(ac, 0, sizeof *ac);
    if (fd_exec(c, "fd_access", 3, v, &r) != SL_OK)
        return SL_EIO;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return SL_EIO;
    }
    ac->live = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    ac->exists = strcmp(PQgetvalue(r, 0, 1), "t") == 0;
    ac->has_grant = !PQgetisnull(r, 0, 2);
    if (ac->has_grant) {
        snprintf(ac->grant_id, sizeof ac->grant_id, "%s", PQgetvalue(r, 0, 2));
        snprintf(ac->price, sizeof ac->price, "%s", PQgetvalue(r, 0, 3));
        snprintf(ac->currency, sizeof ac->currency, "%s", PQgetvalue(r, 0, 4));
        if (!PQgetisnull(r, 0, 5) && PQgetlength(r, 0, 5) < (int)sizeof ac->rights)
            snprintf(ac->rights, sizeof ac->rights, "%s", PQgetvalue(r, 0, 5));
        if (!PQgetisnull(r, 0, 6))
            snprintf(ac->valid_until, sizeof ac->valid_until, "%s", PQgetvalue(r, 0, 6));
    }
    PQclear(r);
    return SL_OK;
}

/* The consumer's right to read dataset: 1 go on, 0 p answered. */
static int dataset_gate(sl_pgconn *c, const fd_principal *pr, const char *dataset,
                        sl_http_resp *p, access *ac, int *rc)
{
    char tid[24];

    *rc = SL_OK;
    if (!id_ok(dataset)) {
        *rc = sl_http_resp_error(p, 404, "not_found", "no such dataset");
        return 0;
    }
    snprintf(tid, sizeof tid, "%" PRId64, pr->token_id);
    if (access_get(c, tid, pr->holder, dataset, ac) != SL_OK) {
        *rc = unavailable(p);
        return 0;
    }
    if (!ac->live) {
        *rc = unauthorized(p, "the token is revoked or expired, or its consumer is disabled");
        return 0;
    }
    if (!ac->exists) {
        *rc = sl_http_resp_error(p, 404, "not_found", "no such dataset");
        return 0;
    }
    if (!ac->has_grant || !fd_principal_has_dataset(pr, dataset)) {
        *rc = sl_http_resp_error(p, 403, "forbidden", "this token may not read that dataset");
        return 0;
    }
    return 1;
}

/* ---- GET /health ---------------------------------------------------------- */

static int h_health(void *u, sl_http_req *r, sl_http_resp *p)
{
    json_t *o = json_pack("{s:s}", "status", "ok");
    int rc;

    (void)u;
    (void)r;
    if (!o)
        return SL_ENOMEM;
    rc = sl_http_resp_json(p, 200, o);
    json_decref(o);
    return rc;
}

/* ---- GET /v1/datasets ------------------------------------------------------ */

/* The token's dataset list as a text[] literal into b; v NULL for all. */
static int datasets_array(const fd_principal *pr, sl_buf *b, const char **v)
{
    size_t k = 0;
    int rc = SL_OK;

    *v = NULL;
    if (!pr || pr->all_datasets)
        return SL_OK;
    while (rc == SL_OK && k < pr->datasets_len) {
        rc = sl_pg_array_add(b, pr->datasets + k);
        k += strlen(pr->datasets + k) + 1;
    }
    if (rc == SL_OK && (rc = sl_pg_array_close(b)) == SL_OK)
        *v = (const char *)b->data;
    return rc;
}

static int datasets_json(fd_app *a, sl_pgconn *c, const fd_principal *pr,
                         sl_http_resp *p)
{
    char tid[24];
    sl_buf arr;
    const char *v[3];
    PGresult *r = NULL;
    json_t *list = NULL, *o = NULL;
    int rc = SL_ENOMEM, i;

    sl_buf_init(&arr, FD_DATASETS_MAX * 2);
    snprintf(tid, sizeof tid, "%" PRId64, pr->token_id);
    v[0] = tid;
    v[1] = pr->holder;
    if (datasets_array(pr, &arr, &v[2]) != SL_OK)
        goto out;
    if (fd_exec(c, "fd_datasets", 3, v, &r) != SL_OK) {
        rc = unavailable(p);
        goto out;
    }
    if (PQntuples(r) < 1 || strcmp(PQgetvalue(r, 0, 0), "t") != 0) {
        rc = unauthorized(p, "the token is revoked or expired, or its consumer is disabled");
        goto out;
    }
    if (!(list = json_array()))
        goto out;
    for (i = 0; i < PQntuples(r); i++) {
        json_t *d, *grant, *stats = NULL;
        if (PQgetisnull(r, i, 1))
            continue;             /* the row that says "no grant" */
        if ((rc = fd_cache_stats(a->cache, c, PQgetvalue(r, i, 1), &stats)) != SL_OK) {
            rc = rc == SL_EIO ? unavailable(p) : rc;
            goto out;
        }
        rc = SL_ENOMEM;
        grant = json_pack("{s:I, s:s, s:o}",
                          "price_micros", (json_int_t)strtoll(PQgetvalue(r, i, 4), NULL, 10),
                          "currency", PQgetvalue(r, i, 5),
                          "valid_until", PQgetisnull(r, i, 6) ? json_null()
                                                              : json_string(PQgetvalue(r, i, 6)));
        d = json_pack("{s:s, s:s, s:s, s:O, s:O, s:O, s:o}",
                      "dataset_id", PQgetvalue(r, i, 1), "name", PQgetvalue(r, i, 2),
                      "description", PQgetvalue(r, i, 3),
                      "samples", json_object_get(stats, "samples"),
                      "withdrawn", json_object_get(stats, "withdrawn"),
                      "licenses", json_object_get(stats, "licenses"),
                      "grant", grant ? grant : json_null());
        json_decref(stats);
        if (!d || json_array_append_new(list, d) != 0)
            goto out;
    }
    if (!(o = json_pack("{s:O}", "datasets", list)))
        goto out;
    rc = sl_http_resp_json(p, 200, o);
out:
    PQclear(r);
    json_decref(list);
    json_decref(o);
    sl_buf_free(&arr);
    return rc;
}

static int h_datasets(void *u, sl_http_req *r, sl_http_resp *p)
{
    fd_app *a = u;
    sl_pgconn *c = fd_pool_get(a->pool);
    fd_principal pr;
    int rc;

    if (enter(a, r, p, c, FD_HOLDER_CONSUMER, &pr, &rc))
        rc = datasets_json(a, c, &pr, p);
    fd_pool_put(a->pool, c);
    return rc;
}

/* ---- pages -------------------------------------------------------------- */

/* Appends s as a JSON string: quotes, backslashes and control bytes
 * escaped; the rest as it is (PostgreSQL text is UTF-8). */
static int json_str(sl_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const char *run = s;
    int rc = sl_buf_putc(b, '"');

    for (; rc == SL_OK && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        if ((rc = sl_buf_append(b, run, (size_t)(s - run))) != SL_OK)
            break;
        if (ch == '"' || ch == '\\') {
            char e[2] = { '\\', (char)ch };
            rc = sl_buf_append(b, e, 2);
        } else {
            char e[6] = { '\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15] };
            rc = sl_buf_append(b, e, 6);
        }
        run = s + 1;
    }
    if (rc == SL_OK)
        rc = sl_buf_append(b, run, (size_t)(s - run));
    if (rc == SL_OK)
        rc = sl_buf_putc(b, '"');
    return rc;
}

/* "name": string (or null for a NULL column), with a leading comma. */
static int json_field(sl_buf *b, const char *name, const char *s)
{
    int rc = sl_buf_appendf(b, ",\"%s\":", name);

    if (rc == SL_OK)
        rc = s ? json_str(b, s) : sl_buf_append(b, "null", 4);
    return rc;
}

/* The absolute signed content URL of upload for consumer into out: the
 * one builder, fd_content_url (signurl.c), shared with the manifest. */
static int content_url(fd_app *a, const char *upload, const char *consumer, sl_buf *out)
{
    sl_buf_reset(out);
    return fd_content_url(out, a->base_url, upload, a->url_key, consumer,
                          (int64_t)(sl_now_ms() / 1000) + a->url_ttl_s);
}

static int append_line(sl_buf *body, json_t *line)
{
    char *s = json_dumps(line, JSON_COMPACT);
    int rc;

    if (!s)
        return SL_ENOMEM;
    rc = sl_buf_append(body, s, strlen(s));
    if (rc == SL_OK)
        rc = sl_buf_putc(body, '\n');
    free(s);
    return rc;
}

/* "name": JSON text (from PostgreSQL's json output), or def when NULL. */
static int json_raw(sl_buf *b, const char *name, const char *json, const char *def)
{
    int rc = sl_buf_appendf(b, ",\"%s\":", name);

    if (rc == SL_OK)
        rc = sl_buf_append(b, json ? json : def, strlen(json ? json : def));
    return rc;
}

/* One page of sample lines being written (fd_exec_rows's row callback). */
typedef struct sample_writer {
    fd_app *a;
    const char *dataset, *consumer;
    sl_buf *body;
    sl_buf url;
    uint64_t last_seq;
} sample_writer;

/* Appends row 0 of r (a fd_samples row) as an NDJSON line.  Written by
 * hand, not through jansson: this is the path a reader pulls 50,000 lines
 * a second through; the license record and the labels are PostgreSQL's
 * JSON text, spliced as they are. */
static int sample_line(void *u, const PGresult *r)
{
    sample_writer *w = u;
    sl_buf *body = w->body;
    char cur[FD_CURSOR_MAX];
    uint64_t seq = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
    int rc;

#define COL(c) (PQgetisnull(r, 0, c) ? NULL : PQgetvalue(r, 0, c))
    if ((rc = fd_cursor_encode(FD_STREAM_SAMPLES, w->dataset, seq, cur)) != SL_OK ||
        (rc = content_url(w->a, PQgetvalue(r, 0, 1), w->consumer, &w->url)) != SL_OK ||
        (rc = sl_buf_appendf(body, "{\"cursor\":\"%s\"", cur)) != SL_OK ||
        (rc = json_field(body, "upload_id", COL(1))) != SL_OK ||
        (rc = json_field(body, "sha256", COL(2))) != SL_OK ||
        (rc = sl_buf_appendf(body, ",\"size\":%lld", strtoll(PQgetvalue(r, 0, 3), NULL, 10))) != SL_OK ||
        (rc = json_field(body, "content_type", COL(4))) != SL_OK ||
        (rc = json_field(body, "creator_id", COL(5))) != SL_OK ||
        (rc = json_field(body, "dataset_id", COL(6))) != SL_OK ||
        (rc = json_raw(body, "license", COL(7), "null")) != SL_OK ||
        (rc = json_raw(body, "labels", COL(12), "{}")) != SL_OK ||
        (rc = json_field(body, "filename", COL(9))) != SL_OK ||
        (rc = json_field(body, "committed_at", COL(10))) != SL_OK ||
        (rc = json_field(body, "prov_head", COL(11))) != SL_OK ||
        (rc = json_field(body, "content_url", (const char *)w->url.data)) != SL_OK ||
        (rc = sl_buf_append(body, "}\n", 2)) != SL_OK)
        return rc;
#undef COL
    w->last_seq = seq;
    return SL_OK;
}

static int change_lines(const char *dataset, PGresult *r, sl_buf *body, uint64_t *last_seq)
{
    int i, rc = SL_OK;

    for (i = 0; i < PQntuples(r) && rc == SL_OK; i++) {
        char cur[FD_CURSOR_MAX];
        uint64_t seq = strtoull(PQgetvalue(r, i, 0), NULL, 10);
        json_t *line;

        if ((rc = fd_cursor_encode(FD_STREAM_CHANGES, dataset, seq, cur)) != SL_OK)
            break;
        line = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "cursor", cur,
                         "upload_id", PQgetvalue(r, i, 1), "sha256", PQgetvalue(r, i, 2),
                         "kind", PQgetvalue(r, i, 3), "reason", PQgetvalue(r, i, 4),
                         "changed_at", PQgetvalue(r, i, 5));
        if (!line)
            return SL_ENOMEM;
        rc = append_line(body, line);
        json_decref(line);
        *last_seq = seq;
    }
    return rc;
}

/* GET /v1/datasets/{id}/samples and /changes. */
static int page(fd_app *a, sl_http_req *r, sl_http_resp *p, fd_stream stream)
{
    const char *dataset = sl_http_req_param(r), *after = sl_http_req_query(r, "after");
    unsigned topic = stream == FD_STREAM_SAMPLES ? FD_TOPIC_SAMPLES : FD_TOPIC_CHANGES;
    sl_pgconn *c = fd_pool_get(a->pool);
    fd_principal pr;
    access ac;
    uint64_t from, last = 0, gen;
    int64_t limit, wait;
    char sfrom[24], slimit[24], next[FD_CURSOR_MAX];
    PGresult *res = NULL;
    size_t rows = 0;
    int rc;

    if (!enter(a, r, p, c, FD_HOLDER_CONSUMER, &pr, &rc) ||
        !dataset_gate(c, &pr, dataset, p, &ac, &rc))
        goto out;
    if (fd_cursor_decode(after, stream, dataset, &from) != SL_OK) {
        rc = sl_http_resp_error(p, 400, "bad_cursor",
                                "`after` is not a cursor of this dataset's stream");
        goto out;
    }
    if (!int_arg(r, "limit", 1, a->page_max, a->page_max < 1000 ? a->page_max : 1000, &limit) ||
        !int_arg(r, "wait", 0, a->wait_max_s, 0, &wait)) {
        rc = sl_http_resp_error(p, 400, "bad_request", "limit must be 1 to feed.page.max, "
                                "wait 0 to feed.wait.max.s");
        goto out;
    }
    /* The generation first: a commit after it wakes us even if this read
     * missed its rows. */
    gen = sl_http_req_gen(r, topic);
    snprintf(sfrom, sizeof sfrom, "%" PRIu64, from);
    snprintf(slimit, sizeof slimit, "%" PRId64, limit);
    sl_http_resp_type(p, NDJSON);
    if (stream == FD_STREAM_SAMPLES) {
        const char *v[4] = { dataset, sfrom, slimit, ac.rights[0] ? ac.rights : NULL };
        sample_writer w = { .a = a, .dataset = dataset, .consumer = pr.holder,
                            .body = sl_http_resp_body(p) };
        sl_buf_init(&w.url, 4096);
        rc = fd_exec_rows(c, "fd_samples", 4, v, sample_line, &w, &rows);
        sl_buf_free(&w.url);
        last = w.last_seq;
        if (rc == SL_EIO || rc == SL_ERR) {
            rc = unavailable(p);
            goto out;
        }
    } else {
        const char *v[3] = { dataset, sfrom, slimit };
        if (fd_exec(c, "fd_changes", 3, v, &res) != SL_OK) {
            rc = unavailable(p);
            goto out;
        }
        rows = (size_t)PQntuples(res);
        rc = change_lines(dataset, res, sl_http_resp_body(p), &last);
    }
    if (rc != SL_OK)
        goto out;
    if (rows == 0) {
        /* Empty: the cursor stays where it was (the start when none). */
        if (after && *after)
            snprintf(next, sizeof next, "%s", after);
        else if ((rc = fd_cursor_encode(stream, dataset, 0, next)) != SL_OK)
            goto out;
    } else if ((rc = fd_cursor_encode(stream, dataset, last, next)) != SL_OK) {
        goto out;
    }
    if ((rc = sl_http_resp_header(p, "Sluice-Next-Cursor", next)) != SL_OK)
        goto out;
    if (rows == 0 && wait > 0 && sl_http_req_wake(r) != SL_HTTP_TIMEDOUT) {
        int64_t now = sl_mono_ms();
        int64_t until = sl_http_req_parked_until(r);
        if (!until)
            until = now + wait * 1000;
        if (now < until)
            rc = sl_http_req_park(r, topic, gen, until);
    }
out:
    PQclear(res);
    fd_pool_put(a->pool, c);
    return rc;
}

static int h_samples(void *u, sl_http_req *r, sl_http_resp *p)
{
    return page(u, r, p, FD_STREAM_SAMPLES);
}

static int h_changes(void *u, sl_http_req *r, sl_http_resp *p)
{
    return page(u, r, p, FD_STREAM_CHANGES);
}

/* ---- GET /v1/samples/{upload_id}/content ------------------------------------ */

typedef struct content_row {
    char dataset[FD_ID_MAX], sha[SL_SHA256_HEX], creator[FD_ID_MAX];
    char grant_id[24], price[24], currency[8];
    int withdrawn, live, has_grant, rights_ok;
} content_row;

/* fd_content: the checks, and the metering when charge. */
static int content_get(sl_pgconn *c, const char *upload, const char *token_id,
                       const char *consumer, int charge, const char *route,
                       const char *datasets, content_row *cr, int *found)
{
    const char *v[6] = { upload, token_id, consumer, charge ? "t" : "f", route, datasets };
    PGresult *r = NULL;

    memset(cr, 0, sizeof *cr);
    *found = 0;
    if (fd_exec(c, "fd_content", 6, v, &r) != SL_OK)
        return SL_EIO;
    if (PQntuples(r) == 1) {
        *found = 1;
        snprintf(cr->dataset, sizeof cr->dataset, "%s", PQgetvalue(r, 0, 0));
        snprintf(cr->sha, sizeof cr->sha, "%s", PQgetvalue(r, 0, 1));
        cr->withdrawn = strcmp(PQgetvalue(r, 0, 4), "accepted") != 0;
        snprintf(cr->creator, sizeof cr->creator, "%s", PQgetvalue(r, 0, 5));
        cr->live = strcmp(PQgetvalue(r, 0, 6), "t") == 0;
        cr->has_grant = !PQgetisnull(r, 0, 7);
        snprintf(cr->grant_id, sizeof cr->grant_id, "%s", PQgetvalue(r, 0, 7));
        snprintf(cr->price, sizeof cr->price, "%s", PQgetvalue(r, 0, 8));
        snprintf(cr->currency, sizeof cr->currency, "%s", PQgetvalue(r, 0, 9));
        cr->rights_ok = strcmp(PQgetvalue(r, 0, 10), "t") == 0;
    }
    PQclear(r);
    return SL_OK;
}

/* Records the delivery of upload to consumer (once per pair). */
static int meter(sl_pgconn *c, const char *consumer, const char *upload,
                 const content_row *cr, const char *token_id, const char *route)
{
    const char *v[9] = { consumer, upload, cr->creator, cr->dataset, cr->grant_id,
                         cr->price, cr->currency, token_id, route };
    PGresult *r = NULL;

    if (fd_exec(c, "fd_meter", 9, v, &r) != SL_OK)
        return SL_EIO;
    PQclear(r);
    return SL_OK;
}

/* What the request's conditional headers make of a content (etag, len):
 * 304, or the Range's kind (rg set for one range). */
static void conditional(sl_http_req *r, const char *etag, size_t len, int *not_modified,
                        fd_range_kind *rk, fd_range *rg)
{
    const char *inm = sl_http_req_header(r, "If-None-Match");
    const char *range = sl_http_req_header(r, "Range");

    *not_modified = inm && fd_etag_none_match(inm, etag);
    *rk = FD_RANGE_NONE;
    if (!*not_modified && range && fd_if_range_ok(sl_http_req_header(r, "If-Range"), etag))
        *rk = fd_range_parse(range, len, rg);
}

/* GET /v1/samples/{upload_id}/content.  Every request asks the database
 * whether the sample may be served (live token or consumer, grant, rights,
 * not withdrawn) and meters a 200/206 before the bytes are handed over;
 * a 304, a 416 and a HEAD deliver nothing and are not metered.  When the
 * sample's hash is known already (an upload's content never changes), the
 * conditional headers are decided first and the check and the metering
 * are one statement; the first request of a sample takes two. */
static int h_content(void *u, sl_http_req *r, sl_http_resp *p)
{
    fd_app *a = u;
    const char *upload = sl_http_req_param(r);
    const char *qc = sl_http_req_query(r, "c"), *qexp = sl_http_req_query(r, "exp");
    const char *qsig = sl_http_req_query(r, "sig");
    int signed_url = qc || qexp || qsig;
    int head = strcmp(sl_http_req_method(r), "HEAD") == 0;
    const char *route = signed_url ? "signed_url" : "token";
    sl_pgconn *c = fd_pool_get(a->pool);
    fd_principal pr;
    content_row cr;
    char tid[24] = "", etag[FD_ETAG_MAX] = "", crange[96], sha[SL_SHA256_HEX];
    const char *consumer, *dsv = NULL;
    fd_blob *blob = NULL;
    fd_range rg;
    fd_range_kind rk = FD_RANGE_NONE;
    sl_buf dsa;
    int rc = SL_OK, found, known, not_modified = 0;

    sl_buf_init(&dsa, FD_DATASETS_MAX * 2);
    if (!id_ok(upload)) {
        rc = sl_http_resp_error(p, 404, "not_found", "no such sample");
        goto out;
    }
    if (signed_url) {
        fd_url_check uc = fd_url_verify(a->url_key, upload, qc, qexp, qsig, sl_now_ms() / 1000);
        if (uc != FD_URL_OK) {
            rc = unauthorized(p, uc == FD_URL_EXPIRED ? "the signed URL has expired"
                                                      : "the signed URL is not valid");
            goto out;
        }
        consumer = qc;
    } else {
        if (!enter(a, r, p, c, FD_HOLDER_CONSUMER, &pr, &rc))
            goto out;
        if (pr.metadata_only) {
            rc = sl_http_resp_error(p, 403, "forbidden", "a metadata token reads no content");
            goto out;
        }
        snprintf(tid, sizeof tid, "%" PRId64, pr.token_id);
        consumer = pr.holder;
        if ((rc = datasets_array(&pr, &dsa, &dsv)) != SL_OK)
            goto out;
    }
    known = fd_cache_sha_of(a->cache, upload, sha);
    if (known) {
        if ((rc = fd_etag(sha, etag)) != SL_OK)
            goto out;
        if ((rc = fd_cache_get(a->cache, c, sha, &blob)) != SL_OK) {
            rc = rc == SL_EIO ? unavailable(p)
                              : sl_http_resp_error(p, 404, "not_found", "the sample's content is missing");
            goto out;
        }
        conditional(r, etag, blob->len, &not_modified, &rk, &rg);
    }
    if (content_get(c, upload, tid[0] ? tid : NULL, consumer,
                    known && !head && !not_modified && rk != FD_RANGE_UNSATISFIABLE,
                    route, dsv, &cr, &found) != SL_OK) {
        rc = unavailable(p);
        goto out;
    }
    if (!found) {
        rc = sl_http_resp_error(p, 404, "not_found", "no such sample");
        goto out;
    }
    if (!cr.live) {
        rc = unauthorized(p, "the token is revoked or expired, or its consumer is disabled");
        goto out;
    }
    if (!cr.has_grant || !cr.rights_ok || (!signed_url && !fd_principal_has_dataset(&pr, cr.dataset))) {
        rc = sl_http_resp_error(p, 403, "forbidden", "no live grant covers this sample");
        goto out;
    }
    if (cr.withdrawn) {
        rc = sl_http_resp_error(p, 410, "gone", "the sample was withdrawn (see the dataset's changes)");
        goto out;
    }
    if (!known) {
        fd_cache_note_sha(a->cache, upload, cr.sha);
        if ((rc = fd_etag(cr.sha, etag)) != SL_OK)
            goto out;
        if ((rc = fd_cache_get(a->cache, c, cr.sha, &blob)) != SL_OK) {
            rc = rc == SL_EIO ? unavailable(p)
                              : sl_http_resp_error(p, 404, "not_found", "the sample's content is missing");
            goto out;
        }
        conditional(r, etag, blob->len, &not_modified, &rk, &rg);
        /* Metered before a byte is handed over. */
        if (!head && !not_modified && rk != FD_RANGE_UNSATISFIABLE &&
            meter(c, consumer, upload, &cr, tid[0] ? tid : NULL, route) != SL_OK) {
            rc = unavailable(p);
            goto out;
        }
    }
    if ((rc = sl_http_resp_header(p, "ETag", etag)) != SL_OK ||
        (rc = sl_http_resp_header(p, "Accept-Ranges", "bytes")) != SL_OK ||
        /* Content is immutable under its hash: private caches may keep it. */
        (rc = sl_http_resp_header(p, "Cache-Control", "private, max-age=31536000, immutable")) != SL_OK)
        goto out;
    if (not_modified) {
        sl_http_resp_status(p, 304);
        goto out;
    }
    if (rk == FD_RANGE_UNSATISFIABLE) {
        snprintf(crange, sizeof crange, "bytes */%zu", blob->len);
        if ((rc = sl_http_resp_header(p, "Content-Range", crange)) == SL_OK)
            rc = sl_http_resp_error(p, 416, "range_not_satisfiable",
                                    "the range lies outside the content");
        goto out;
    }
    sl_http_resp_type(p, "application/octet-stream");
    if (rk == FD_RANGE_ONE) {
        snprintf(crange, sizeof crange, "bytes %" PRIu64 "-%" PRIu64 "/%zu",
                 rg.first, rg.last, blob->len);
        if ((rc = sl_http_resp_header(p, "Content-Range", crange)) != SL_OK)
            goto out;
        sl_http_resp_status(p, 206);
        sl_http_resp_shared(p, blob->data + rg.first, (size_t)(rg.last - rg.first + 1),
                            fd_cache_release, blob);
    } else {
        sl_http_resp_status(p, 200);
        sl_http_resp_shared(p, blob->data, blob->len, fd_cache_release, blob);
    }
    blob = NULL;                  /* the response holds it now */
out:
    if (blob)
        fd_cache_release(blob);
    sl_buf_free(&dsa);
    fd_pool_put(a->pool, c);
    return rc;
}

/* ---- GET /v1/datasets/{id}/croissant ----------------------------------------- */

/* The SPDX expression of a bound license record (JSON text), malloc'd
 * into *keep, or NULL. */
static const char *expr_of(const char *license_json, char **keep)
{
    json_t *lic = json_loads(license_json, JSON_DECODE_ANY, NULL);
    const char *e = json_string_value(json_object_get(lic, "expression"));

    *keep = e ? strdup(e) : NULL;
    json_decref(lic);
    return *keep;
}

static int croissant(fd_app *a, sl_pgconn *c, const fd_principal *pr,
                     const char *dataset, const access *ac, sl_http_resp *p)
{
    const char *v[4];
    PGresult *dr = NULL, **pages = NULL;
    size_t npages = 0, nfiles = 0, i, k;
    fd_cr_file *files = NULL;
    char **urls = NULL, **exprs = NULL;
    json_t *doc = NULL;
    char sfrom[24] = "0", dsurl[1024];
    int rc = SL_ENOMEM;

    v[0] = dataset;
    if (fd_exec(c, "fd_dataset", 1, v, &dr) != SL_OK || PQntuples(dr) != 1) {
        rc = unavailable(p);
        goto out;
    }
    for (;;) {                    /* every visible sample, page by page */
        PGresult *r = NULL, **np;
        v[0] = dataset;
        v[1] = sfrom;
        v[2] = "10000";
        v[3] = ac->rights[0] ? ac->rights : NULL;
        if (fd_exec(c, "fd_samples", 4, v, &r) != SL_OK) {
            rc = unavailable(p);
            goto out;
        }
        if (PQntuples(r) == 0) {
            PQclear(r);
            break;
        }
        if (nfiles + (size_t)PQntuples(r) > CROISSANT_MAX_FILES) {
            PQclear(r);
            rc = sl_http_resp_error(p, 503, "unavailable", "the dataset has more samples than "
                                    "one manifest lists (" SL_STR(CROISSANT_MAX_FILES) "); "
                                    "page its samples instead");
            goto out;
        }
        if (!(np = realloc(pages, (npages + 1) * sizeof *np))) {
            PQclear(r);
            goto out;
        }
        pages = np;
        pages[npages++] = r;
        nfiles += (size_t)PQntuples(r);
        snprintf(sfrom, sizeof sfrom, "%s", PQgetvalue(r, PQntuples(r) - 1, 0));
    }
    if (nfiles && (!(files = calloc(nfiles, sizeof *files)) || !(urls = calloc(nfiles, sizeof *urls)) ||
                   !(exprs = calloc(nfiles, sizeof *exprs))))
        goto out;
    k = 0;
    for (i = 0; i < npages; i++) {
        for (int j = 0; j < PQntuples(pages[i]); j++, k++) {
            PGresult *r = pages[i];
            sl_buf url;
            const char *expr = expr_of(PQgetvalue(r, j, 7), &exprs[k]);

            sl_buf_init(&url, 4096);
            if (content_url(a, PQgetvalue(r, j, 1), pr->holder, &url) != SL_OK ||
                !(urls[k] = strdup((const char *)url.data))) {
                sl_buf_free(&url);
                goto out;
            }
            sl_buf_free(&url);
            files[k] = (fd_cr_file){
                .license = expr,
                .creator_id = PQgetvalue(r, j, 5),
                .feed_seq = strtoull(PQgetvalue(r, j, 0), NULL, 10),
                .upload_id = PQgetvalue(r, j, 1),
                .name = PQgetisnull(r, j, 9) ? PQgetvalue(r, j, 1) : PQgetvalue(r, j, 9),
                .content_url = urls[k],
                .size = strtoull(PQgetvalue(r, j, 3), NULL, 10),
                .content_type = PQgetvalue(r, j, 4),
                .sha256_hex = PQgetvalue(r, j, 2),
            };
        }
    }
    snprintf(dsurl, sizeof dsurl, "%s/v1/datasets/%s", a->base_url, dataset);
    {
        fd_cr_dataset d = {
            .dataset_id = dataset, .name = PQgetvalue(dr, 0, 0),
            .description = PQgetvalue(dr, 0, 1), .url = dsurl,
            .date_published = PQgetvalue(dr, 0, 2),
            /* NULL: the builder takes the files' distinct licenses and
             * creators, sorted, as `sluicectl dataset manifest` does. */
            .licenses = NULL, .creators = NULL,
            .changes_seq = strtoull(PQgetvalue(dr, 0, 3), NULL, 10),
        };
        if (!(doc = fd_croissant_build(&d, files, nfiles)))
            goto out;
    }
    rc = sl_http_resp_json(p, 200, doc);
    sl_http_resp_type(p, "application/ld+json");
out:
    for (i = 0; urls && i < nfiles; i++)
        free(urls[i]);
    for (i = 0; exprs && i < nfiles; i++)
        free(exprs[i]);
    free(urls);
    free(exprs);
    free(files);
    for (i = 0; i < npages; i++)
        PQclear(pages[i]);
    free(pages);
    PQclear(dr);
    json_decref(doc);
    return rc;
}

static int h_croissant(void *u, sl_http_req *r, sl_http_resp *p)
{
    fd_app *a = u;
    const char *dataset = sl_http_req_param(r);
    sl_pgconn *c = fd_pool_get(a->pool);
    fd_principal pr;
    access ac;
    int rc;

    if (enter(a, r, p, c, FD_HOLDER_CONSUMER, &pr, &rc) &&
        dataset_gate(c, &pr, dataset, p, &ac, &rc))
        rc = croissant(a, c, &pr, dataset, &ac, p);
    fd_pool_put(a->pool, c);
    return rc;
}

/* ---- creators: GET /v1/uploads/{upload_id} ------------------------------------ */

static int h_upload(void *u, sl_http_req *r, sl_http_resp *p)
{
    fd_app *a = u;
    const char *upload = sl_http_req_param(r);
    sl_pgconn *c = fd_pool_get(a->pool);
    fd_principal pr;
    char tid[24];
    PGresult *res = NULL;
    json_t *o = NULL;
    int rc;

    if (!enter(a, r, p, c, FD_HOLDER_CREATOR, &pr, &rc))
        goto out;
    if (!id_ok(upload)) {
        rc = sl_http_resp_error(p, 404, "not_found", "no such upload of yours");
        goto out;
    }
    snprintf(tid, sizeof tid, "%" PRId64, pr.token_id);
    {
        const char *v[3] = { pr.holder, upload, tid };
        if (fd_exec(c, "fd_upload", 3, v, &res) != SL_OK || PQntuples(res) != 1) {
            rc = unavailable(p);
            goto out;
        }
    }
    if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
        rc = unauthorized(p, "the token is revoked or expired, or its creator is disabled");
        goto out;
    }
    if (!PQgetisnull(res, 0, 8) && strcmp(PQgetvalue(res, 0, 7), "t") != 0) {
        rc = sl_http_resp_error(p, 404, "not_found", "no such upload of yours");
        goto out;
    }
#define NS(col) (PQgetisnull(res, 0, col) ? json_null() : json_string(PQgetvalue(res, 0, col)))
    o = PQgetisnull(res, 0, 8)
        ? json_pack("{s:s, s:n, s:s, s:n, s:n, s:n, s:n}", "upload_id", upload, "dataset_id",
                    "outcome", "unknown", "stage", "code", "detail", "at")
        : json_pack("{s:s, s:o, s:s, s:o, s:o, s:o, s:o}", "upload_id", upload,
                    "dataset_id", NS(1), "outcome", PQgetvalue(res, 0, 2), "stage", NS(3),
                    "code", NS(4), "detail", NS(5), "at", NS(6));
#undef NS
    rc = o ? sl_http_resp_json(p, 200, o) : SL_ENOMEM;
out:
    json_decref(o);
    PQclear(res);
    fd_pool_put(a->pool, c);
    return rc;
}

/* ---- creators: GET /v1/creators/me/statement?month=YYYY-MM[&currency=C] -------- */

/* The creator's ledger statement for a month, the same document as
 * `sluicectl ledger statement --json` (services/ledger/statement_pg.h):
 * always the token's creator, never one named by the request. */
static int h_statement(void *u, sl_http_req *r, sl_http_resp *p)
{
    fd_app *a = u;
    const char *month = sl_http_req_query(r, "month");
    const char *currency = sl_http_req_query(r, "currency");
    sl_pgconn *c = fd_pool_get(a->pool);
    fd_principal pr;
    char tid[24];
    PGresult *res = NULL;
    PGconn *conn;
    json_t *o = NULL;
    sl_err err = { "" };
    int rc;

    if (!enter(a, r, p, c, FD_HOLDER_CREATOR, &pr, &rc))
        goto out;
    if (!month || !*month) {
        rc = sl_http_resp_error(p, 400, "bad_request", "month=YYYY-MM is required");
        goto out;
    }
    snprintf(tid, sizeof tid, "%" PRId64, pr.token_id);
    {
        const char *v[2] = { pr.holder, tid };
        if (fd_exec(c, "fd_creator_live", 2, v, &res) != SL_OK || PQntuples(res) != 1) {
            rc = unavailable(p);
            goto out;
        }
    }
    if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
        rc = unauthorized(p, "the token is revoked or expired, or its creator is disabled");
        goto out;
    }
    if (fd_conn(c, &conn) != SL_OK) {
        rc = unavailable(p);
        goto out;
    }
    switch (sl_stmt_pg_statement(conn, pr.holder, month,
                                 currency && *currency ? currency : NULL, &o, &err)) {
    case SL_OK:
        rc = sl_http_resp_json(p, 200, o);
        break;
    case SL_EINVAL:
        rc = sl_http_resp_error(p, 400, "bad_request", err.msg);
        break;
    case SL_ENOTFOUND:
        rc = sl_http_resp_error(p, 404, "not_found", err.msg);
        break;
    case SL_EIO:
        rc = unavailable(p);
        break;
    default:
        sl_error(LOG, "statement of %s for %s: %s", pr.holder, month, err.msg);
        rc = sl_http_resp_error(p, 500, "internal_error",
                                "the statement could not be built; the operator's log says why");
    }
out:
    json_decref(o);
    PQclear(res);
    fd_pool_put(a->pool, c);
    return rc;
}

/* ---- creators: GET /v1/uploads?after=&limit= ----------------------------------- */

static int h_uploads(void *u, sl_http_req *r, sl_http_resp *p)
{
    fd_app *a = u;
    const char *after = sl_http_req_query(r, "after");
    sl_pgconn *c = fd_pool_get(a->pool);
    fd_principal pr;
    uint64_t from;
    int64_t limit;
    char tid[24], sfrom[24], slimit[24], next[FD_CURSOR_MAX];
    PGresult *res = NULL;
    int rc, i;

    if (!enter(a, r, p, c, FD_HOLDER_CREATOR, &pr, &rc))
        goto out;
    if (fd_cursor_decode(after, FD_STREAM_UPLOADS, pr.holder, &from) != SL_OK) {
        rc = sl_http_resp_error(p, 400, "bad_cursor", "`after` is not a cursor of your uploads");
        goto out;
    }
    if (!int_arg(r, "limit", 1, a->page_max, a->page_max < 1000 ? a->page_max : 1000, &limit)) {
        rc = sl_http_resp_error(p, 400, "bad_request", "limit must be 1 to feed.page.max");
        goto out;
    }
    snprintf(tid, sizeof tid, "%" PRId64, pr.token_id);
    snprintf(sfrom, sizeof sfrom, "%" PRIu64, from);
    snprintf(slimit, sizeof slimit, "%" PRId64, limit);
    {
        const char *v[4] = { pr.holder, sfrom, slimit, tid };
        if (fd_exec(c, "fd_uploads", 4, v, &res) != SL_OK || PQntuples(res) < 1) {
            rc = unavailable(p);
            goto out;
        }
    }
    if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
        rc = unauthorized(p, "the token is revoked or expired, or its creator is disabled");
        goto out;
    }
    sl_http_resp_type(p, NDJSON);
    rc = SL_OK;
    if (after && *after)
        snprintf(next, sizeof next, "%s", after);
    else
        rc = fd_cursor_encode(FD_STREAM_UPLOADS, pr.holder, 0, next);
    for (i = 0; i < PQntuples(res) && rc == SL_OK; i++) {
        json_t *line;
        if (PQgetisnull(res, i, 1))
            continue;             /* the row that only says "live" */
        if ((rc = fd_cursor_encode(FD_STREAM_UPLOADS, pr.holder,
                                   strtoull(PQgetvalue(res, i, 8), NULL, 10), next)) != SL_OK)
            break;
#define NS(col) (PQgetisnull(res, i, col) ? json_null() : json_string(PQgetvalue(res, i, col)))
        line = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:s}",
                         "upload_id", PQgetvalue(res, i, 1), "dataset_id", NS(2),
                         "outcome", NS(3), "stage", NS(4), "code", NS(5), "detail", NS(6),
                         "at", NS(7), "cursor", next);
#undef NS
        if (!line) {
            rc = SL_ENOMEM;
            break;
        }
        rc = append_line(sl_http_resp_body(p), line);
        json_decref(line);
    }
    if (rc == SL_OK)
        rc = sl_http_resp_header(p, "Sluice-Next-Cursor", next);
out:
    PQclear(res);
    fd_pool_put(a->pool, c);
    return rc;
}

void fd_routes(fd_app *a, sl_http_router *rt, int *rc)
{
    *rc = SL_OK;
    if (*rc == SL_OK) *rc = sl_http_route(rt, "GET", "/health", h_health, a);
    if (*rc == SL_OK) *rc = sl_http_route(rt, "GET", "/v1/datasets", h_datasets, a);
    if (*rc == SL_OK) *rc = sl_http_route(rt, "GET", "/v1/datasets/{id}/samples", h_samples, a);
    if (*rc == SL_OK) *rc = sl_http_route(rt, "GET", "/v1/datasets/{id}/changes", h_changes, a);
    if (*rc == SL_OK) *rc = sl_http_route(rt, "GET", "/v1/datasets/{id}/croissant", h_croissant, a);
    if (*rc == SL_OK) *rc = sl_http_route(rt, "GET", "/v1/samples/{id}/content", h_content, a);
    if (*rc == SL_OK) *rc = sl_http_route(rt, "GET", "/v1/uploads/{id}", h_upload, a);
    if (*rc == SL_OK) *rc = sl_http_route(rt, "GET", "/v1/uploads", h_uploads, a);
    if (*rc == SL_OK) *rc = sl_http_route(rt, "GET", "/v1/creators/me/statement", h_statement, a);
}
