/*
 * handlers.c -- the routes of sluice-review (REVIEW_CONTRACT.md "HTTP
 * routes"): the HTML pages and the JSON API under /api/, with one set of
 * rules for both: every route but the login page needs a live session
 * (cookie __Host-sluice-review), every POST a CSRF token equal to the
 * session's (form field `csrf` or header X-CSRF-Token; the login form's
 * token is a double-submit cookie, as there is no session yet), and no
 * GET changes anything except the claim an item view takes by design (it
 * is the lease the contract asks for, not a decision).
 *
 * Each request borrows one database connection from the pool.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl/embed.h"
#include "sl/log.h"
#include "decide.h"
#include "review.h"

#define LOG "review"

void rv_routes(rv_app *a, sl_http_router *rt, int *rc);

/* ---- helpers ------------------------------------------------------------ */

static int is_api(sl_http_req *r)
{
    return strncmp(sl_http_req_path(r), "/api/", 5) == 0;
}

/* An error as JSON (API) or as a page. */
static int fail(sl_http_req *r, sl_http_resp *p, int status, const char *code,
                const char *detail)
{
    if (is_api(r) || strstr(sl_http_req_path(r), "/reveal"))
        return sl_http_resp_error(p, status, code, detail);
    sl_http_resp_status(p, status);
    sl_http_resp_type(p, "text/html; charset=utf-8");
    return rv_view_error(sl_http_resp_body(p), status, code, detail);
}

static int html(sl_http_resp *p)
{
    sl_http_resp_type(p, "text/html; charset=utf-8");
    return SL_OK;
}

static int set_cookie(sl_http_resp *p, const char *name, const char *value, int64_t max_age)
{
    sl_buf b;
    int rc;

    sl_buf_init(&b, 1024);
    rc = sl_http_session_cookie(&b, name, value, max_age);
    if (rc == SL_OK)
        rc = sl_http_resp_header(p, "Set-Cookie", (const char *)b.data);
    sl_buf_free(&b);
    return rc;
}

/* The request's session and connection.  Returns 1 when the handler may
 * go on (c and s set: put c back), 0 when p already holds the answer. */
static int enter(rv_app *a, sl_http_req *r, sl_http_resp *p, int post,
                 PGconn **c, rv_session *s, int *rc)
{
    const char *tok = sl_http_req_cookie(r, RV_COOKIE), *csrf;
    int st;

    *rc = SL_OK;
    *c = NULL;
    if (!(*c = rv_pool_get(a->pool))) {
        *rc = fail(r, p, 503, "db_unavailable", "the database is not reachable; try again");
        return 0;
    }
    st = tok && sl_ws_token_valid(tok) ? rv_session_get(a, *c, tok, s) : SL_ENOTFOUND;
    if (st == SL_ENOTFOUND) {
        rv_pool_put(a->pool, *c);
        *c = NULL;
        if (is_api(r) || post)
            *rc = fail(r, p, 401, "not_logged_in", "log in first (POST /login)");
        else
            *rc = sl_http_resp_redirect(p, "/login");
        return 0;
    }
    if (st != SL_OK) {
        rv_pool_put(a->pool, *c);
        *c = NULL;
        *rc = fail(r, p, 503, "db_unavailable", "the database is not reachable; try again");
        return 0;
    }
    if (post) {
        csrf = sl_http_req_header(r, "X-CSRF-Token");
        if (!csrf && !is_api(r))
            csrf = sl_http_req_form(r, "csrf");
        if (!sl_ws_token_equal(s->csrf, csrf)) {
            rv_pool_put(a->pool, *c);
            *c = NULL;
            *rc = fail(r, p, 403, "csrf_invalid",
                       "missing or wrong CSRF token (X-CSRF-Token, or the form's csrf)");
            return 0;
        }
    }
    return 1;
}

static void leave(rv_app *a, PGconn *c)
{
    if (c)
        rv_pool_put(a->pool, c);
}

/* A JSON body object, or NULL. */
static json_t *body_json(sl_http_req *r)
{
    sl_slice b = sl_http_req_body(r);
    json_t *v = b.len ? json_loadb((const char *)b.ptr, b.len, JSON_REJECT_DUPLICATES, NULL) : NULL;

    if (v && !json_is_object(v)) {
        json_decref(v);
        return NULL;
    }
    return v;
}

/* ---- login and logout -------------------------------------------------- */

static int h_login_page(void *u, sl_http_req *r, sl_http_resp *p)
{
    char tok[SL_WS_TOKEN_HEX];
    int rc;

    (void)u;
    (void)r;
    if (sl_ws_token_new(tok) != SL_OK)
        return SL_ERR;
    if ((rc = set_cookie(p, RV_LOGIN_COOKIE, tok, 3600)) != SL_OK)
        return rc;
    html(p);
    return rv_view_login(sl_http_resp_body(p), tok, NULL, NULL);
}

static int login_refused(sl_http_resp *p, int status, const char *msg, const char *user)
{
    char tok[SL_WS_TOKEN_HEX];
    int rc;

    if (sl_ws_token_new(tok) != SL_OK)
        return SL_ERR;
    if ((rc = set_cookie(p, RV_LOGIN_COOKIE, tok, 3600)) != SL_OK)
        return rc;
    sl_http_resp_status(p, status);
    html(p);
    return rv_view_login(sl_http_resp_body(p), tok, msg, user);
}

static int h_login(void *u, sl_http_req *r, sl_http_resp *p)
{
    rv_app *a = u;
    const char *user = sl_http_req_form(r, "username");
    const char *pw = sl_http_req_form(r, "password");
    const char *csrf = sl_http_req_form(r, "csrf");
    const char *cookie = sl_http_req_cookie(r, RV_LOGIN_COOKIE);
    char role[16], tok[SL_WS_TOKEN_HEX], retry[32];
    rv_session s;
    int64_t wait = 0;
    PGconn *c;
    int ok = 0, rc;

    if (!sl_ws_token_equal(cookie, csrf)) {
        sl_http_resp_status(p, 403);
        return login_refused(p, 403, "The form expired; please log in again.", NULL);
    }
    if (!user || !pw || !*user || strlen(user) > RV_NAME_MAX || strlen(pw) > SL_WS_PASSWORD_MAX)
        return login_refused(p, 400, "Give a user name and a password.", NULL);
    if (!(c = rv_pool_get(a->pool)))
        return fail(r, p, 503, "db_unavailable", "the database is not reachable; try again");
    if ((rc = rv_login_wait(a, c, user, sl_http_req_client(r), &wait)) != SL_OK)
        goto out;
    if (wait > 0) {
        snprintf(retry, sizeof retry, "%lld", (long long)((wait + 999) / 1000));
        sl_warn(LOG, "login rate-limited for a user from %s", sl_http_req_client(r));
        rc = sl_http_resp_header(p, "Retry-After", retry);
        if (rc == SL_OK)
            rc = login_refused(p, 429, "Too many failed logins; wait and try again.", user);
        goto out;
    }
    if ((rc = rv_login_check(c, user, pw, strlen(pw), sl_http_req_client(r), &ok, role)) != SL_OK)
        goto out;
    if (!ok) {
        rc = login_refused(p, 401, "Wrong user name or password.", user);
        goto out;
    }
    if ((rc = rv_session_new(a, c, user, sl_http_req_client(r), tok, &s)) != SL_OK)
        goto out;
    sl_info(LOG, "moderator %s logged in from %s", s.user, sl_http_req_client(r));
    if ((rc = set_cookie(p, RV_COOKIE, tok, a->absolute_s)) == SL_OK &&
        (rc = set_cookie(p, RV_LOGIN_COOKIE, "", 0)) == SL_OK)
        rc = sl_http_resp_redirect(p, "/");
out:
    explicit_bzero(tok, sizeof tok);
    leave(a, c);
    return rc;
}

static int h_logout(void *u, sl_http_req *r, sl_http_resp *p)
{
    rv_app *a = u;
    rv_session s;
    PGconn *c;
    int rc;

    if (!enter(a, r, p, 1, &c, &s, &rc))
        return rc;
    rc = rv_session_end(c, sl_http_req_cookie(r, RV_COOKIE));
    leave(a, c);
    if (rc == SL_OK)
        rc = set_cookie(p, RV_COOKIE, "", 0);
    if (rc == SL_OK)
        rc = sl_http_resp_redirect(p, "/login");
    return rc;
}

/* ---- pages --------------------------------------------------------------- */

static void filter_of(sl_http_req *r, rv_filter *f)
{
    f->dataset = sl_http_req_query(r, "dataset");
    f->rule = sl_http_req_query(r, "rule");
    f->creator = sl_http_req_query(r, "creator");
    f->type = sl_http_req_query(r, "type");
    f->after = sl_http_req_query(r, "after");
}

static int h_overview(void *u, sl_http_req *r, sl_http_resp *p)
{
    rv_app *a = u;
    rv_session s;
    PGconn *c;
    json_t *ov = NULL;
    int rc;

    if (!enter(a, r, p, 0, &c, &s, &rc))
        return rc;
    rc = rv_overview_cached(a, c, &ov);
    leave(a, c);
    if (rc != SL_OK)
        return fail(r, p, 503, "db_unavailable", "the overview could not be read");
    if (is_api(r))
        rc = sl_http_resp_json(p, 200, ov);
    else if ((rc = html(p)) == SL_OK)
        rc = rv_view_overview(sl_http_resp_body(p), &s, ov);
    json_decref(ov);
    return rc;
}

static int h_queue(void *u, sl_http_req *r, sl_http_resp *p)
{
    rv_app *a = u;
    rv_session s;
    rv_filter f;
    PGconn *c;
    json_t *qj = NULL;
    int rc;

    if (!enter(a, r, p, 0, &c, &s, &rc))
        return rc;
    filter_of(r, &f);
    rc = rv_queue(c, &f, &qj);
    leave(a, c);
    if (rc == SL_EINVAL)
        return fail(r, p, 400, "invalid_cursor", "after= is not a cursor this service gave");
    if (rc != SL_OK)
        return fail(r, p, 503, "db_unavailable", "the queue could not be read");
    if (is_api(r))
        rc = sl_http_resp_json(p, 200, qj);
    else if ((rc = html(p)) == SL_OK)
        rc = rv_view_queue(sl_http_resp_body(p), &s, &f, qj);
    json_decref(qj);
    return rc;
}

/* GET /items/{id}: claims the item under a lease and shows it. */
static int h_item_page(void *u, sl_http_req *r, sl_http_resp *p)
{
    rv_app *a = u;
    const char *id = sl_http_req_param(r), *why = NULL;
    rv_session s;
    PGconn *c;
    json_t *item = NULL;
    uint8_t *data = NULL;
    size_t len = 0;
    int64_t until = 0;
    int rc, crc;

    if (!rv_id_ok(id))
        return fail(r, p, 404, "not_found", "no such review item");
    if (!enter(a, r, p, 0, &c, &s, &rc))
        return rc;
    crc = rv_claim(a, c, id, s.user, &until, &why);
    if (crc == SL_ENOTFOUND) {
        leave(a, c);
        return fail(r, p, 404, "not_found", "no such review item");
    }
    if (crc == SL_ERR) {
        leave(a, c);
        return fail(r, p, 409, "claimed_by_other",
                    "another moderator is reviewing this item; pick another");
    }
    if (crc != SL_OK && crc != SL_EINVAL) {
        leave(a, c);
        return fail(r, p, 503, "db_unavailable", "the item could not be claimed");
    }
    rc = rv_item_json(c, id, s.user, &item);
    if (rc == SL_OK)
        rc = rv_item_bytes(c, id, &data, &len, NULL, 0);
    leave(a, c);
    if (rc != SL_OK) {
        json_decref(item);
        free(data);
        return fail(r, p, rc == SL_ENOTFOUND ? 404 : 503, rc == SL_ENOTFOUND ? "not_found"
                    : "db_unavailable", "the item could not be read");
    }
    html(p);
    rc = rv_view_item(sl_http_resp_body(p), &s, item, data, len);
    json_decref(item);
    free(data);
    return rc;
}

/* The stored bytes of the item the route names, for a signed-in
 * moderator: 1 with *data (the caller frees it) and *len, or 0 with the
 * error answered and *rc the handler's return code. */
static int stored_bytes(rv_app *a, sl_http_req *r, sl_http_resp *p,
                        uint8_t **data, size_t *len, int *rc)
{
    const char *id = sl_http_req_param(r);
    rv_session s;
    PGconn *c;

    *data = NULL;
    *len = 0;
    if (!rv_id_ok(id)) {
        *rc = fail(r, p, 404, "not_found", "no such review item");
        return 0;
    }
    if (!enter(a, r, p, 0, &c, &s, rc))
        return 0;
    *rc = rv_item_bytes(c, id, data, len, NULL, 0);
    leave(a, c);
    if (*rc == SL_ENOTFOUND)
        *rc = fail(r, p, 404, "not_found", "no such review item");
    else if (*rc != SL_OK)
        *rc = fail(r, p, 503, "db_unavailable", "the content could not be read");
    else
        return 1;
    return 0;
}

static int h_raw(void *u, sl_http_req *r, sl_http_resp *p)
{
    const char *id = sl_http_req_param(r);
    uint8_t *data;
    size_t len;
    int rc;

    if (!stored_bytes(u, r, p, &data, &len, &rc))
        return rc;
    /* Never rendered: a download, in a sandbox, whatever the bytes say.
     * The file name is the upload id (the creator's file name is input). */
    sl_http_resp_type(p, "application/octet-stream");
    {
        char disp[256];
        snprintf(disp, sizeof disp, "attachment; filename=\"%s.bin\"", id);
        rc = sl_http_resp_header(p, "Content-Disposition", disp);
    }
    if (rc == SL_OK)
        rc = sl_http_resp_header(p, "Content-Security-Policy", "sandbox");
    if (rc == SL_OK)
        rc = sl_buf_append(sl_http_resp_body(p), data, len);
    free(data);
    return rc;
}

/* GET /items/{id}/preview: the bytes as an image, only when their own
 * signature is PNG, JPEG, GIF or WebP (rv_preview_type; never SVG), for the
 * item page's <img>; in a sandbox with nothing else allowed, nosniff. */
static int h_preview(void *u, sl_http_req *r, sl_http_resp *p)
{
    const char *type;
    uint8_t *data;
    size_t len;
    int rc;

    if (!stored_bytes(u, r, p, &data, &len, &rc))
        return rc;
    if (!(type = rv_preview_type(data, len))) {
        free(data);
        return fail(r, p, 404, "no_preview",
                    "only PNG, JPEG, GIF and WebP content has a preview");
    }
    sl_http_resp_type(p, type);
    rc = sl_http_resp_header(p, "Content-Security-Policy", "default-src 'none'; sandbox");
    if (rc == SL_OK)
        rc = sl_buf_append(sl_http_resp_body(p), data, len);
    free(data);
    return rc;
}

static int h_static(void *u, sl_http_req *r, sl_http_resp *p)
{
    const char *path = sl_http_req_path(r);
    const char *name = strrchr(path, '/') + 1;
    const sl_embedded *e = sl_embed_get(name);

    (void)u;
    if (!e)
        return sl_http_resp_error(p, 404, "not_found", "no such file");
    sl_http_resp_type(p, strstr(name, ".js") ? "text/javascript; charset=utf-8"
                                             : "text/css; charset=utf-8");
    sl_http_resp_cacheable(p);
    return sl_buf_append(sl_http_resp_body(p), e->data, e->len);
}

/* ---- decisions --------------------------------------------------------- */

static int hex64(const char *s)
{
    return sl_ws_token_valid(s);      /* same shape: 64 lowercase hex */
}

/* Runs a decision from its fields; answers JSON (API) or a redirect. */
static int decide(rv_app *a, sl_http_req *r, sl_http_resp *p, const char *action,
                  const char *reason, const char *note, const char *shown, int reverse)
{
    const char *id = sl_http_req_param(r);
    rv_session s;
    rv_result res;
    PGconn *c;
    int rc;

    if (!rv_id_ok(id))
        return fail(r, p, 404, "not_found", "no such review item");
    if (!enter(a, r, p, 1, &c, &s, &rc))
        return rc;
    if (!reverse && !rv_action_ok(action)) {
        leave(a, c);
        return fail(r, p, 400, "bad_request", "action must be approve, redact or reject");
    }
    if (!rv_reason_ok(reason)) {
        leave(a, c);
        return fail(r, p, 400, "bad_request", "reason must be one of confirmed_pii, "
                    "confirmed_secret, false_positive, rights_problem, harmful_content, other");
    }
    if (note) {
        json_t *t = json_string(note);      /* NULL unless valid UTF-8 */
        int bad = !t || strlen(note) > RV_NOTE_MAX;
        json_decref(t);
        if (bad) {
            leave(a, c);
            return fail(r, p, 400, "bad_request", "note must be UTF-8, at most 2000 bytes");
        }
    }
    if (!reverse && !hex64(shown)) {
        leave(a, c);
        return fail(r, p, 400, "bad_request", "shown_sha256 must be 64 lowercase hex digits");
    }
    {
        rv_decision d = { id, s.user, s.role, action, reason, note ? note : "",
                          shown ? shown : "" };
        rc = reverse ? rv_reverse(a, c, &d, &res) : rv_decide(a, c, &d, &res);
    }
    leave(a, c);
    if (rc != SL_OK)
        return fail(r, p, 503, "db_unavailable", "the decision was not recorded; try again");
    if (res.code)
        return fail(r, p, res.status, res.code, res.detail);
    sl_info(LOG, "moderator %s: %s %s (%s) -> %s", s.user, reverse ? "reverse" : action,
            id, reason, res.state);
    if (is_api(r)) {
        json_t *o = json_pack("{s:I, s:s}", "decision_id", (json_int_t)res.decision_id,
                              "state", res.state);
        rc = o ? sl_http_resp_json(p, res.status, o) : SL_ENOMEM;
        json_decref(o);
        return rc;
    }
    return sl_http_resp_redirect(p, "/queue");
}

static int h_decide_form(void *u, sl_http_req *r, sl_http_resp *p)
{
    return decide(u, r, p, sl_http_req_form(r, "action"), sl_http_req_form(r, "reason"),
                  sl_http_req_form(r, "note"), sl_http_req_form(r, "shown_sha256"), 0);
}

static int h_decide_api(void *u, sl_http_req *r, sl_http_resp *p, int reverse)
{
    json_t *b = body_json(r);
    int rc;

    if (!b)
        return sl_http_resp_error(p, 400, "bad_request", "the body must be a JSON object");
    rc = decide(u, r, p, json_string_value(json_object_get(b, "action")),
                json_string_value(json_object_get(b, "reason")),
                json_string_value(json_object_get(b, "note")),
                json_string_value(json_object_get(b, "shown_sha256")), reverse);
    json_decref(b);
    return rc;
}

static int h_api_decide(void *u, sl_http_req *r, sl_http_resp *p)
{
    return h_decide_api(u, r, p, 0);
}

static int h_api_reverse(void *u, sl_http_req *r, sl_http_resp *p)
{
    return h_decide_api(u, r, p, 1);
}

static int h_reveal(void *u, sl_http_req *r, sl_http_resp *p)
{
    rv_app *a = u;
    const char *id = sl_http_req_param(r), *fs;
    rv_session s;
    PGconn *c;
    json_t *out = NULL, *b = NULL;
    long idx = -1;
    char *end = NULL;
    int rc;

    if (!rv_id_ok(id))
        return sl_http_resp_error(p, 404, "not_found", "no such review item");
    if (!enter(a, r, p, 1, &c, &s, &rc))
        return rc;
    if (is_api(r)) {
        b = body_json(r);
        if (b && json_is_integer(json_object_get(b, "finding")))
            idx = (long)json_integer_value(json_object_get(b, "finding"));
        json_decref(b);
    } else if ((fs = sl_http_req_form(r, "finding")) && *fs) {
        idx = strtol(fs, &end, 10);
        if (*end)
            idx = -1;
    }
    if (idx < 0 || idx > 100000) {
        leave(a, c);
        return sl_http_resp_error(p, 400, "bad_request", "finding must be a finding's index");
    }
    rc = rv_reveal(c, id, s.user, idx, sl_http_req_client(r), &out);
    leave(a, c);
    if (rc == SL_ENOTFOUND)
        return sl_http_resp_error(p, 404, "not_found", "no such review item");
    if (rc == SL_EINVAL)
        return sl_http_resp_error(p, 400, "bad_request", "no such finding");
    if (rc != SL_OK)
        return sl_http_resp_error(p, 503, "db_unavailable", "the reveal was not recorded");
    sl_info(LOG, "moderator %s revealed finding %ld of %s", s.user, idx, id);
    rc = sl_http_resp_json(p, 200, out);
    json_decref(out);
    return rc;
}

/* ---- the rest of the API ------------------------------------------------ */

static int h_api_session(void *u, sl_http_req *r, sl_http_resp *p)
{
    rv_app *a = u;
    rv_session s;
    PGconn *c;
    json_t *o;
    int rc;

    if (!enter(a, r, p, 0, &c, &s, &rc))
        return rc;
    leave(a, c);
    o = json_pack("{s:s, s:s, s:s}", "user", s.user, "role", s.role, "csrf", s.csrf);
    rc = o ? sl_http_resp_json(p, 200, o) : SL_ENOMEM;
    json_decref(o);
    return rc;
}

static int h_api_item(void *u, sl_http_req *r, sl_http_resp *p)
{
    rv_app *a = u;
    const char *id = sl_http_req_param(r);
    rv_session s;
    PGconn *c;
    json_t *item = NULL;
    int rc;

    if (!rv_id_ok(id))
        return sl_http_resp_error(p, 404, "not_found", "no such review item");
    if (!enter(a, r, p, 0, &c, &s, &rc))
        return rc;
    rc = rv_item_json(c, id, s.user, &item);
    leave(a, c);
    if (rc == SL_ENOTFOUND)
        return sl_http_resp_error(p, 404, "not_found", "no such review item");
    if (rc != SL_OK)
        return sl_http_resp_error(p, 503, "db_unavailable", "the item could not be read");
    rc = sl_http_resp_json(p, 200, item);
    json_decref(item);
    return rc;
}

static int h_api_claim(void *u, sl_http_req *r, sl_http_resp *p)
{
    rv_app *a = u;
    const char *id = sl_http_req_param(r), *why = NULL;
    rv_session s;
    PGconn *c;
    int64_t until = 0;
    json_t *o;
    int rc, crc;

    if (!rv_id_ok(id))
        return sl_http_resp_error(p, 404, "not_found", "no such review item");
    if (!enter(a, r, p, 1, &c, &s, &rc))
        return rc;
    crc = rv_claim(a, c, id, s.user, &until, &why);
    leave(a, c);
    if (crc == SL_ENOTFOUND)
        return sl_http_resp_error(p, 404, "not_found", "no such review item");
    if (crc == SL_EINVAL)
        return sl_http_resp_error(p, 409, "already_decided", "the item was decided already");
    if (crc == SL_ERR)
        return sl_http_resp_error(p, 409, "claimed_by_other",
                                  "another moderator holds this item's lease");
    if (crc != SL_OK)
        return sl_http_resp_error(p, 503, "db_unavailable", "the item could not be claimed");
    o = json_pack("{s:s, s:s, s:I}", "upload_id", id, "claimed_by", s.user,
                  "until_ms", (json_int_t)until);
    rc = o ? sl_http_resp_json(p, 200, o) : SL_ENOMEM;
    json_decref(o);
    return rc;
}

/* Registers every route; *rc gets the first failure. */
void rv_routes(rv_app *a, sl_http_router *rt, int *rc)
{
    static const struct {
        const char *m, *path;
        sl_http_handler h;
    } routes[] = {
        { "GET", "/login", h_login_page },
        { "POST", "/login", h_login },
        { "POST", "/logout", h_logout },
        { "GET", "/", h_overview },
        { "GET", "/queue", h_queue },
        { "GET", "/items/{id}", h_item_page },
        { "POST", "/items/{id}/decide", h_decide_form },
        { "POST", "/items/{id}/reveal", h_reveal },
        { "GET", "/items/{id}/raw", h_raw },
        { "GET", "/items/{id}/preview", h_preview },
        { "GET", "/static/app.js", h_static },
        { "GET", "/static/app.css", h_static },
        { "GET", "/api/session", h_api_session },
        { "GET", "/api/queue", h_queue },
        { "GET", "/api/overview", h_overview },
        { "GET", "/api/items/{id}", h_api_item },
        { "POST", "/api/items/{id}/claim", h_api_claim },
        { "POST", "/api/items/{id}/decide", h_api_decide },
        { "POST", "/api/items/{id}/reverse", h_api_reverse },
        { "POST", "/api/items/{id}/reveal", h_reveal },
    };

    *rc = SL_OK;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0] && *rc == SL_OK; i++)
        *rc = sl_http_route(rt, routes[i].m, routes[i].path, routes[i].h, a);
}
