/*
 * http.c -- sl_http: the listener, router, request limits and responses of
 * sluice's web services on libmicrohttpd (contract in sl/http.h).
 *
 * libmicrohttpd calls the access handler several times per request: first
 * with the headers (where the URL and header limits are enforced and an
 * announced body that is too large is refused before it is read), then once
 * per body chunk (appended to a capped buffer), then once more with no data
 * (where the route runs and the response is queued).  The request context
 * lives from the first call until MHD reports the request completed.  Every
 * response goes through one function that adds the security headers.
 *
 * Long polls: a handler that asked to park its request has its connection
 * suspended (MHD_suspend_connection, from the access handler as MHD
 * requires) and linked on the server's parked list under one mutex; a wake
 * or the deadline thread unlinks it and resumes it, and MHD calls the
 * access handler again, which runs the route again.  Suspension happens
 * while the list's mutex is held, so nobody resumes a connection that is
 * not suspended yet; every parked request is resumed before the daemon
 * stops (MHD forbids stopping with suspended connections).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "sl/http.h"
#include "sl/log.h"
#include "sl/metrics.h"

#define DEFAULT_CSP "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
#define RESP_BODY_MAX ((size_t)64 << 20)
#define FORM_MAX_PAIRS 256
#define COOKIE_MAX_PAIRS 64
#define TLS_FILE_MAX ((size_t)1 << 20)

void sl_http_limits_default(sl_http_limits *l)
{
    l->max_url = 2048;
    l->max_header_bytes = 16384;
    l->max_body = (size_t)1 << 20;
    l->max_conns = 64;
    l->max_conns_per_ip = 16;
    l->timeout_s = 30;
    l->threads = 4;
    l->listen_backlog = 0;
}

int sl_http_addr_is_loopback(const char *addr)
{
    struct in_addr a4;
    struct in6_addr a6;

    if (inet_pton(AF_INET, addr, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, addr, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6) ? 1 : 0;
    return -1;
}

/* ---- parsing helpers ---------------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

char *sl_http_urldecode(const char *s, size_t len)
{
    char *out = malloc(len + 1);
    size_t i, o = 0;

    if (!out)
        return NULL;
    for (i = 0; i < len; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%') {
            int h, l;
            if (len - i < 3) {    /* fewer than two hex digits left */
                free(out);
                return NULL;
            }
            h = hexval(s[i + 1]);
            l = hexval(s[i + 2]);
            if (h < 0 || l < 0 || (h == 0 && l == 0)) {
                free(out);
                return NULL;
            }
            out[o++] = (char)(h * 16 + l);
            i += 2;
        } else if (s[i] == '\0') {
            free(out);
            return NULL;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

void sl_http_kv_free(sl_http_kv *kv)
{
    size_t i;

    if (!kv)
        return;
    for (i = 0; i < kv->n; i++) {
        free(kv->k[i]);
        free(kv->v[i]);
    }
    free(kv->k);
    free(kv->v);
    memset(kv, 0, sizeof *kv);
}

const char *sl_http_kv_get(const sl_http_kv *kv, const char *key)
{
    size_t i;

    for (i = 0; i < kv->n; i++)
        if (strcmp(kv->k[i], key) == 0)
            return kv->v[i];
    return NULL;
}

/* Takes ownership of k and v (frees them on failure). */
static int kv_push(sl_http_kv *kv, char *k, char *v, size_t max_pairs)
{
    char **nk, **nv;

    if (!k || !v) {
        free(k);
        free(v);
        return SL_ENOMEM;
    }
    if (kv->n >= max_pairs) {
        free(k);
        free(v);
        return SL_ETOOBIG;
    }
    nk = realloc(kv->k, (kv->n + 1) * sizeof *nk);
    if (!nk) {
        free(k);
        free(v);
        return SL_ENOMEM;
    }
    kv->k = nk;
    nv = realloc(kv->v, (kv->n + 1) * sizeof *nv);
    if (!nv) {
        free(k);
        free(v);
        return SL_ENOMEM;
    }
    kv->v = nv;
    kv->k[kv->n] = k;
    kv->v[kv->n] = v;
    kv->n++;
    return SL_OK;
}

int sl_http_parse_form(const char *s, size_t len, size_t max_pairs,
                       sl_http_kv *kv)
{
    size_t i = 0;

    memset(kv, 0, sizeof *kv);
    while (i < len) {
        size_t end = i, eq;
        char *k, *v;
        int rc;

        while (end < len && s[end] != '&')
            end++;
        if (end > i) {
            eq = i;
            while (eq < end && s[eq] != '=')
                eq++;
            k = sl_http_urldecode(s + i, eq - i);
            v = eq < end ? sl_http_urldecode(s + eq + 1, end - eq - 1)
                         : sl_http_urldecode("", 0);
            if ((!k || !v) && (k || v)) {
                free(k);
                free(v);
                sl_http_kv_free(kv);
                return SL_EINVAL;
            }
            if (!k && !v) {
                sl_http_kv_free(kv);
                return SL_EINVAL;
            }
            rc = kv_push(kv, k, v, max_pairs);
            if (rc != SL_OK) {
                sl_http_kv_free(kv);
                return rc;
            }
        }
        i = end + 1;
    }
    return SL_OK;
}

static char *dup_range(const char *s, size_t n)
{
    char *p = malloc(n + 1);

    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

int sl_http_parse_cookies(const char *s, size_t max_pairs, sl_http_kv *kv)
{
    const char *p = s;

    memset(kv, 0, sizeof *kv);
    while (*p) {
        const char *end = strchr(p, ';'), *eq, *ks, *ke, *vs, *ve;
        int rc;

        if (!end)
            end = p + strlen(p);
        ks = p;
        while (ks < end && (*ks == ' ' || *ks == '\t'))
            ks++;
        eq = memchr(ks, '=', (size_t)(end - ks));
        if (eq && eq > ks) {
            ke = eq;
            while (ke > ks && (ke[-1] == ' ' || ke[-1] == '\t'))
                ke--;
            vs = eq + 1;
            ve = end;
            while (vs < ve && (*vs == ' ' || *vs == '\t'))
                vs++;
            while (ve > vs && (ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            if (ve - vs >= 2 && *vs == '"' && ve[-1] == '"') {
                vs++;
                ve--;
            }
            rc = kv_push(kv, dup_range(ks, (size_t)(ke - ks)),
                         dup_range(vs, (size_t)(ve - vs)), max_pairs);
            if (rc != SL_OK) {
                sl_http_kv_free(kv);
                return rc;
            }
        }
        p = *end ? end + 1 : end;
    }
    return SL_OK;
}

int sl_http_session_cookie(sl_buf *out, const char *name, const char *value,
                           int64_t max_age_s)
{
    int rc;

    sl_buf_reset(out);
    rc = sl_buf_appendf(out, "%s=%s; Path=/; Secure; HttpOnly; SameSite=Strict",
                        name, value);
    if (rc == SL_OK && max_age_s >= 0)
        rc = sl_buf_appendf(out, "; Max-Age=%lld", (long long)max_age_s);
    if (rc == SL_OK)
        rc = sl_buf_cstr(out);
    return rc;
}

/* ---- router ------------------------------------------------------------- */

typedef struct route {
    char *method, *pattern;
    sl_http_handler h;
    void *u;
} route;

struct sl_http_router {
    route *r;
    size_t n;
};

sl_http_router *sl_http_router_new(void)
{
    return calloc(1, sizeof(sl_http_router));
}

void sl_http_router_destroy(sl_http_router *rt)
{
    size_t i;

    if (!rt)
        return;
    for (i = 0; i < rt->n; i++) {
        free(rt->r[i].method);
        free(rt->r[i].pattern);
    }
    free(rt->r);
    free(rt);
}

static int pattern_ok(const char *p)
{
    int params = 0;
    const char *seg = p + 1;

    if (p[0] != '/')
        return 0;
    if (p[1] == '\0')
        return 1;                 /* "/" */
    for (;;) {
        const char *end = strchr(seg, '/');
        size_t n = end ? (size_t)(end - seg) : strlen(seg);

        if (n == 0)
            return 0;
        if (memchr(seg, '{', n) || memchr(seg, '}', n)) {
            if (n < 3 || seg[0] != '{' || seg[n - 1] != '}' ||
                memchr(seg + 1, '{', n - 2) || memchr(seg + 1, '}', n - 2))
                return 0;
            if (++params > 1)
                return 0;
        }
        if (!end)
            return 1;
        seg = end + 1;
    }
}

int sl_http_route(sl_http_router *rt, const char *method, const char *pattern,
                  sl_http_handler h, void *u)
{
    route *nr;

    if (!pattern_ok(pattern) || !method || !*method || !h)
        return SL_EINVAL;
    nr = realloc(rt->r, (rt->n + 1) * sizeof *nr);
    if (!nr)
        return SL_ENOMEM;
    rt->r = nr;
    nr[rt->n].method = strdup(method);
    nr[rt->n].pattern = strdup(pattern);
    nr[rt->n].h = h;
    nr[rt->n].u = u;
    if (!nr[rt->n].method || !nr[rt->n].pattern) {
        free(nr[rt->n].method);
        free(nr[rt->n].pattern);
        return SL_ENOMEM;
    }
    rt->n++;
    return SL_OK;
}

/* 1 when path matches pattern; *ps / *pn: the param's span in path. */
static int path_match(const char *pattern, const char *path,
                      const char **ps, size_t *pn)
{
    const char *a = pattern, *b = path;

    *ps = NULL;
    *pn = 0;
    while (*a && *b) {
        const char *ae = strchr(a, '/'), *be = strchr(b, '/');
        size_t an, bn;

        if (*a == '/' && *b == '/') {
            a++;
            b++;
            continue;
        }
        if (*a == '/' || *b == '/')
            return 0;
        an = ae ? (size_t)(ae - a) : strlen(a);
        bn = be ? (size_t)(be - b) : strlen(b);
        if (a[0] == '{') {
            if (bn == 0)
                return 0;
            *ps = b;
            *pn = bn;
        } else if (an != bn || memcmp(a, b, an) != 0) {
            return 0;
        }
        a += an;
        b += bn;
    }
    return *a == '\0' && *b == '\0';
}

int sl_http_router_match(const sl_http_router *rt, const char *method,
                         const char *path, sl_http_match *m)
{
    size_t i;
    int path_seen = 0;

    memset(m, 0, sizeof *m);
    m->status = 404;
    if (!path || path[0] != '/')
        return SL_OK;
    for (i = 0; i < rt->n; i++) {
        const char *ps;
        size_t pn;

        if (!path_match(rt->r[i].pattern, path, &ps, &pn))
            continue;
        path_seen = 1;
        if (strcmp(rt->r[i].method, method) != 0)
            continue;
        m->status = 200;
        m->h = rt->r[i].h;
        m->u = rt->r[i].u;
        m->pattern = rt->r[i].pattern;
        if (ps) {
            m->param = dup_range(ps, pn);
            if (!m->param)
                return SL_ENOMEM;
        }
        return SL_OK;
    }
    if (path_seen)
        m->status = 405;
    return SL_OK;
}

/* ---- requests and responses -------------------------------------------- */

struct sl_http_req {
    struct sl_http_server *srv;
    struct MHD_Connection *conn;
    const char *method, *url;
    char *param;
    sl_buf body;
    int body_too_big;
    int form_done, cookies_done;
    sl_http_kv form, cookies;
    char client[INET6_ADDRSTRLEN];
    /* long polls */
    int want_park, parked;
    unsigned topic;
    uint64_t gen;
    int64_t deadline;
    sl_http_wake_reason wake;
    struct sl_http_req *pk_prev, *pk_next;
    /* request metrics: the matched route, the status sent, the start */
    const char *route;
    int status;
    int64_t start_ms;
};

struct sl_http_resp {
    int status;
    char *ctype;
    sl_buf body;
    size_t nh;
    char **hn, **hv;
    int cacheable;
    const void *sh_data;       /* shared body, when sh_set */
    size_t sh_len;
    void (*sh_release)(void *);
    void *sh_arg;
    int sh_set;
};

const char *sl_http_req_method(const sl_http_req *r) { return r->method; }
const char *sl_http_req_path(const sl_http_req *r) { return r->url; }
const char *sl_http_req_param(const sl_http_req *r) { return r->param; }
const char *sl_http_req_client(const sl_http_req *r) { return r->client; }

sl_slice sl_http_req_body(const sl_http_req *r)
{
    return (sl_slice){ r->body.data, r->body.len };
}

const char *sl_http_req_query(const sl_http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *sl_http_req_header(const sl_http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *sl_http_req_cookie(const sl_http_req *r, const char *name)
{
    sl_http_req *w = (sl_http_req *)r;   /* parsed lazily, once */

    if (!w->cookies_done) {
        const char *h = sl_http_req_header(r, MHD_HTTP_HEADER_COOKIE);
        w->cookies_done = 1;
        if (h && sl_http_parse_cookies(h, COOKIE_MAX_PAIRS, &w->cookies) != SL_OK)
            memset(&w->cookies, 0, sizeof w->cookies);
    }
    return sl_http_kv_get(&w->cookies, name);
}

const char *sl_http_req_form(const sl_http_req *r, const char *name)
{
    sl_http_req *w = (sl_http_req *)r;

    if (!w->form_done) {
        const char *ct = sl_http_req_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
        w->form_done = 1;
        if (ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0 &&
            sl_http_parse_form((const char *)w->body.data, w->body.len,
                               FORM_MAX_PAIRS, &w->form) != SL_OK)
            memset(&w->form, 0, sizeof w->form);
    }
    return sl_http_kv_get(&w->form, name);
}

sl_http_wake_reason sl_http_req_wake(const sl_http_req *r) { return r->wake; }
int64_t sl_http_req_parked_until(const sl_http_req *r) { return r->deadline; }

void sl_http_resp_status(sl_http_resp *p, int status) { p->status = status; }

static void resp_shared_drop(sl_http_resp *p)
{
    if (p->sh_set && p->sh_release)
        p->sh_release(p->sh_arg);
    p->sh_set = 0;
    p->sh_release = NULL;
}

void sl_http_resp_shared(sl_http_resp *p, const void *data, size_t len,
                         void (*release)(void *arg), void *arg)
{
    resp_shared_drop(p);
    sl_buf_reset(&p->body);
    p->sh_data = data;
    p->sh_len = len;
    p->sh_release = release;
    p->sh_arg = arg;
    p->sh_set = 1;
}
sl_buf *sl_http_resp_body(sl_http_resp *p) { return &p->body; }
void sl_http_resp_cacheable(sl_http_resp *p) { p->cacheable = 1; }

void sl_http_resp_type(sl_http_resp *p, const char *ct)
{
    char *c = strdup(ct);

    if (c) {
        free(p->ctype);
        p->ctype = c;
    }
}

int sl_http_resp_header(sl_http_resp *p, const char *name, const char *value)
{
    char **hn, **hv;
    size_t i;

    if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n"))
        return SL_EINVAL;
    for (i = 0; i < p->nh; i++) {
        /* One value for the headers whose default this replaces. */
        if (strcasecmp(p->hn[i], name) == 0 &&
            (strcasecmp(name, "Content-Security-Policy") == 0 ||
             strcasecmp(name, "Cache-Control") == 0)) {
            char *v = strdup(value);
            if (!v)
                return SL_ENOMEM;
            free(p->hv[i]);
            p->hv[i] = v;
            return SL_OK;
        }
    }
    hn = realloc(p->hn, (p->nh + 1) * sizeof *hn);
    if (!hn)
        return SL_ENOMEM;
    p->hn = hn;
    hv = realloc(p->hv, (p->nh + 1) * sizeof *hv);
    if (!hv)
        return SL_ENOMEM;
    p->hv = hv;
    hn[p->nh] = strdup(name);
    hv[p->nh] = strdup(value);
    if (!hn[p->nh] || !hv[p->nh]) {
        free(hn[p->nh]);
        free(hv[p->nh]);
        return SL_ENOMEM;
    }
    p->nh++;
    return SL_OK;
}

int sl_http_resp_json(sl_http_resp *p, int status, const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT);
    int rc;

    if (!s)
        return SL_ENOMEM;
    resp_shared_drop(p);
    sl_buf_reset(&p->body);
    rc = sl_buf_append(&p->body, s, strlen(s));
    free(s);
    p->status = status;
    sl_http_resp_type(p, "application/json");
    return rc;
}

int sl_http_resp_error(sl_http_resp *p, int status, const char *code,
                       const char *detail)
{
    json_t *o = json_pack("{s:s, s:s}", "error", code, "detail", detail ? detail : "");
    int rc;

    if (!o)
        return SL_ENOMEM;
    rc = sl_http_resp_json(p, status, o);
    json_decref(o);
    return rc;
}

int sl_http_resp_redirect(sl_http_resp *p, const char *location)
{
    p->status = 303;
    return sl_http_resp_header(p, "Location", location);
}

static void resp_init(sl_http_resp *p)
{
    memset(p, 0, sizeof *p);
    p->status = 200;
    sl_buf_init(&p->body, RESP_BODY_MAX);
}

static void resp_free(sl_http_resp *p)
{
    size_t i;

    for (i = 0; i < p->nh; i++) {
        free(p->hn[i]);
        free(p->hv[i]);
    }
    free(p->hn);
    free(p->hv);
    free(p->ctype);
    sl_buf_free(&p->body);
    resp_shared_drop(p);
}

static int has_header(const sl_http_resp *p, const char *name)
{
    size_t i;

    for (i = 0; i < p->nh; i++)
        if (strcasecmp(p->hn[i], name) == 0)
            return 1;
    return 0;
}

/* Queues p on conn with the security headers.  MHD_YES / MHD_NO. */
static enum MHD_Result send_resp(struct MHD_Connection *conn, sl_http_resp *p)
{
    struct MHD_Response *mr;
    enum MHD_Result ok;
    size_t i;

    if (p->sh_set) {
        mr = MHD_create_response_from_buffer_with_free_callback_cls(
            p->sh_len, (void *)(uintptr_t)p->sh_data, p->sh_release, p->sh_arg);
        if (mr) {
            p->sh_set = 0;        /* MHD releases it now */
            p->sh_release = NULL;
        }
    } else {
        mr = MHD_create_response_from_buffer(p->body.len, p->body.data,
                                             MHD_RESPMEM_MUST_COPY);
    }
    if (!mr)
        return MHD_NO;
    ok = MHD_YES;
    for (i = 0; i < p->nh && ok == MHD_YES; i++)
        ok = MHD_add_response_header(mr, p->hn[i], p->hv[i]);
    if (ok == MHD_YES && !has_header(p, "Content-Security-Policy"))
        ok = MHD_add_response_header(mr, "Content-Security-Policy", DEFAULT_CSP);
    if (ok == MHD_YES)
        ok = MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
    if (ok == MHD_YES)
        ok = MHD_add_response_header(mr, "Referrer-Policy", "no-referrer");
    if (ok == MHD_YES && !p->cacheable && !has_header(p, "Cache-Control"))
        ok = MHD_add_response_header(mr, "Cache-Control", "no-store");
    if (ok == MHD_YES)
        ok = MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
                                     p->ctype ? p->ctype : "text/plain; charset=utf-8");
    if (ok == MHD_YES)
        ok = MHD_queue_response(conn, (unsigned)p->status, mr);
    MHD_destroy_response(mr);
    return ok;
}

static enum MHD_Result send_error(struct MHD_Connection *conn, int status,
                                  const char *code, const char *detail)
{
    sl_http_resp p;
    enum MHD_Result ok = MHD_NO;

    resp_init(&p);
    if (sl_http_resp_error(&p, status, code, detail) == SL_OK)
        ok = send_resp(conn, &p);
    resp_free(&p);
    return ok;
}

/* ---- server --------------------------------------------------------------- */

struct sl_http_server {
    struct MHD_Daemon *d;
    sl_http_router *rt;
    sl_http_limits lim;
    char *tls_cert, *tls_key;
    /* long polls: the parked requests, the topics' generations, the
     * deadline thread */
    pthread_mutex_t pk_mu;
    pthread_cond_t pk_cv;
    sl_http_req *pk_head;
    size_t pk_n;
    uint64_t gen[SL_HTTP_TOPICS];
    int stopping, timer_started;
    pthread_t timer;
    sl_metric *m_requests, *m_latency;   /* NULL: no request metrics */
};

uint64_t sl_http_req_gen(const sl_http_req *r, unsigned topic)
{
    uint64_t g;

    if (topic >= SL_HTTP_TOPICS)
        return 0;
    pthread_mutex_lock(&r->srv->pk_mu);
    g = r->srv->gen[topic];
    pthread_mutex_unlock(&r->srv->pk_mu);
    return g;
}

int sl_http_req_park(sl_http_req *r, unsigned topic, uint64_t gen,
                     int64_t deadline_mono_ms)
{
    if (topic >= SL_HTTP_TOPICS)
        return SL_EINVAL;
    r->want_park = 1;
    r->topic = topic;
    r->gen = gen;
    r->deadline = deadline_mono_ms;
    return SL_OK;
}

/* Under pk_mu. */
static void pk_unlink(sl_http_server *s, sl_http_req *r)
{
    if (r->pk_prev)
        r->pk_prev->pk_next = r->pk_next;
    else
        s->pk_head = r->pk_next;
    if (r->pk_next)
        r->pk_next->pk_prev = r->pk_prev;
    r->pk_prev = r->pk_next = NULL;
    r->parked = 0;
    s->pk_n--;
}

/* Under pk_mu: unlinks r and resumes its connection. */
static void pk_resume(sl_http_server *s, sl_http_req *r, sl_http_wake_reason why)
{
    pk_unlink(s, r);
    r->wake = why;
    MHD_resume_connection(r->conn);
}

void sl_http_server_wake(sl_http_server *s, unsigned topic)
{
    sl_http_req *r, *next;

    if (!s || topic >= SL_HTTP_TOPICS)
        return;
    pthread_mutex_lock(&s->pk_mu);
    s->gen[topic]++;
    for (r = s->pk_head; r; r = next) {
        next = r->pk_next;
        if (r->topic == topic)
            pk_resume(s, r, SL_HTTP_WOKEN);
    }
    pthread_mutex_unlock(&s->pk_mu);
}

size_t sl_http_server_parked(sl_http_server *s)
{
    size_t n;

    pthread_mutex_lock(&s->pk_mu);
    n = s->pk_n;
    pthread_mutex_unlock(&s->pk_mu);
    return n;
}

/* The deadline thread: resumes the parked requests whose deadline passed,
 * sleeping until the earliest one (or a park signals a new one). */
static void *pk_timer(void *arg)
{
    sl_http_server *s = arg;

    pthread_mutex_lock(&s->pk_mu);
    while (!s->stopping) {
        int64_t now = sl_mono_ms(), next = now + 1000;
        sl_http_req *r, *nx;
        struct timespec ts;

        for (r = s->pk_head; r; r = nx) {
            nx = r->pk_next;
            if (r->deadline <= now)
                pk_resume(s, r, SL_HTTP_TIMEDOUT);
            else if (r->deadline < next)
                next = r->deadline;
        }
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += (time_t)((next - now) / 1000);
        ts.tv_nsec += (long)((next - now) % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->pk_cv, &s->pk_mu, &ts);
    }
    pthread_mutex_unlock(&s->pk_mu);
    return NULL;
}

typedef struct hdr_sum {
    size_t bytes;
} hdr_sum;

static enum MHD_Result sum_header(void *cls, enum MHD_ValueKind kind,
                                  const char *key, const char *value)
{
    hdr_sum *s = cls;

    (void)kind;
    s->bytes += strlen(key) + (value ? strlen(value) : 0) + 4;
    return MHD_YES;
}

static void client_text(struct MHD_Connection *conn, char *out, size_t n)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

    snprintf(out, n, "unknown");
    if (!ci || !ci->client_addr)
        return;
    if (ci->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)ci->client_addr)->sin_addr,
                  out, (socklen_t)n);
    else if (ci->client_addr->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)ci->client_addr)->sin6_addr,
                  out, (socklen_t)n);
}

static void req_free(sl_http_req *r)
{
    if (!r)
        return;
    free(r->param);
    sl_buf_free(&r->body);
    sl_http_kv_free(&r->form);
    sl_http_kv_free(&r->cookies);
    free(r);
}

/* An error response to r, its status kept for the request metrics. */
static enum MHD_Result req_error(sl_http_req *r, int status, const char *code,
                                 const char *detail)
{
    r->status = status;
    return send_error(r->conn, status, code, detail);
}

/* The method as a bounded label: a client may send any token. */
static const char *method_label(const char *m)
{
    static const char *const known[] = { "GET", "HEAD", "POST", "PUT", "DELETE",
                                         "PATCH", "OPTIONS", NULL };

    for (size_t i = 0; known[i]; i++)
        if (strcmp(m, known[i]) == 0)
            return known[i];
    return SL_METRIC_OTHER;
}

/* Counts a completed request by route pattern (never its path: ids stay
 * out of labels), method and status, and its latency by route. */
static void req_observe(sl_http_server *s, const sl_http_req *r)
{
    char code[8];
    const char *rname = r->route ? r->route : "unmatched";

    if (!s->m_requests)
        return;
    snprintf(code, sizeof code, "%d", r->status);
    sl_metric_add(s->m_requests,
                  (const char *const[]){ rname, method_label(r->method), code }, 1);
    sl_metric_observe(s->m_latency, (const char *const[]){ rname },
                      (double)(sl_mono_ms() - r->start_ms) / 1000.0);
}

/* Runs the route for r.  A handler that asks to park has its connection
 * suspended (nothing queued), unless its topic moved since it looked (it
 * runs again at once) or the server is stopping (its response is sent). */
static enum MHD_Result dispatch(sl_http_server *s, sl_http_req *r)
{
    sl_http_match m;
    sl_http_resp p;
    enum MHD_Result ok;
    const char *method = strcmp(r->method, "HEAD") == 0 ? "GET" : r->method;
    int rc;

    for (;;) {
        if (sl_http_router_match(s->rt, method, r->url, &m) != SL_OK)
            return req_error(r, 500, "internal_error", "out of memory");
        if (m.status == 404)
            return req_error(r, 404, "not_found", "no such page");
        if (m.status == 405)
            return req_error(r, 405, "method_not_allowed",
                             "this path does not take that method");
        r->route = m.pattern;
        free(r->param);
        r->param = m.param;
        r->want_park = 0;
        resp_init(&p);
        rc = m.h(m.u, r, &p);
        if (rc != SL_OK) {
            sl_error("http", "handler for %s %s failed: %s", method, m.pattern,
                     sl_strerror(rc));
            resp_free(&p);
            return req_error(r, 500, "internal_error", "the request could not be served");
        }
        if (r->want_park) {
            pthread_mutex_lock(&s->pk_mu);
            if (!s->stopping && s->gen[r->topic] == r->gen) {
                MHD_suspend_connection(r->conn);
                r->parked = 1;
                r->pk_prev = NULL;
                r->pk_next = s->pk_head;
                if (s->pk_head)
                    s->pk_head->pk_prev = r;
                s->pk_head = r;
                s->pk_n++;
                pthread_cond_signal(&s->pk_cv);
                pthread_mutex_unlock(&s->pk_mu);
                resp_free(&p);
                return MHD_YES;
            }
            if (!s->stopping) {
                pthread_mutex_unlock(&s->pk_mu);
                resp_free(&p);
                r->wake = SL_HTTP_WOKEN;
                continue;
            }
            pthread_mutex_unlock(&s->pk_mu);
        }
        r->status = p.status;
        ok = send_resp(r->conn, &p);
        resp_free(&p);
        return ok;
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    sl_http_server *s = cls;
    sl_http_req *r = *con_cls;

    (void)version;
    if (!r) {
        hdr_sum hs = { 0 };
        const char *cl;
        size_t qlen = 0;

        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        r->srv = s;
        r->conn = conn;
        r->url = url;
        r->method = method;
        sl_buf_init(&r->body, s->lim.max_body);
        client_text(conn, r->client, sizeof r->client);
        *con_cls = r;
        MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, sum_header, &hs);
        qlen = hs.bytes;          /* decoded query args count toward the URL */
        r->start_ms = sl_mono_ms();
        if (strlen(url) + qlen > s->lim.max_url)
            return req_error(r, 414, "uri_too_long", "the request target is too long");
        hs.bytes = 0;
        MHD_get_connection_values(conn, MHD_HEADER_KIND, sum_header, &hs);
        if (hs.bytes > s->lim.max_header_bytes)
            return req_error(r, 431, "headers_too_large", "the request headers are too large");
        cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                         MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
            char *end;
            unsigned long long n;
            errno = 0;
            n = strtoull(cl, &end, 10);
            if (errno || *end || n > s->lim.max_body)
                return req_error(r, 413, "body_too_large", "the request body is too large");
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!r->body_too_big &&
            sl_buf_append(&r->body, upload_data, *upload_data_size) != SL_OK)
            r->body_too_big = 1;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->body_too_big)
        return req_error(r, 413, "body_too_large", "the request body is too large");
    return dispatch(s, r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    sl_http_server *s = cls;
    sl_http_req *r = *con_cls;

    (void)conn;
    (void)toe;
    if (r && r->status)
        req_observe(s, r);
    if (r && r->parked) {         /* not expected: every park is resumed first */
        pthread_mutex_lock(&s->pk_mu);
        if (r->parked)
            pk_unlink(s, r);
        pthread_mutex_unlock(&s->pk_mu);
    }
    req_free(r);
    *con_cls = NULL;
}

static void on_log(void *cls, const char *fm, va_list ap)
{
    char line[512];

    (void)cls;
    vsnprintf(line, sizeof line, fm, ap);
    line[strcspn(line, "\n")] = '\0';
    sl_warn("http", "libmicrohttpd: %s", line);
}

static int read_small_file(const char *path, char **out, sl_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    char *buf;
    size_t got = 0;

    if (fd < 0) {
        sl_err_set(err, "cannot open %s: %s", path, strerror(errno));
        return SL_EIO;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > TLS_FILE_MAX) {
        sl_err_set(err, "%s is not a regular file under 1 MiB", path);
        close(fd);
        return SL_EIO;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        close(fd);
        return SL_ENOMEM;
    }
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n <= 0) {
            sl_err_set(err, "cannot read %s", path);
            free(buf);
            close(fd);
            return SL_EIO;
        }
        got += (size_t)n;
    }
    buf[got] = '\0';
    close(fd);
    *out = buf;
    return SL_OK;
}

int sl_http_server_start(const sl_http_listen *ls, const sl_http_limits *lim,
                         sl_http_router *rt, sl_http_server **out, sl_err *err)
{
    const char *addr = ls->addr && *ls->addr ? ls->addr : "127.0.0.1";
    int loop = sl_http_addr_is_loopback(addr);
    int tls = ls->tls_cert_file && *ls->tls_cert_file;
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    struct sockaddr *sa;
    /* epoll where there is one (no FD_SETSIZE cap on connections), and
     * suspend/resume for the long polls. */
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG |
                     MHD_ALLOW_SUSPEND_RESUME;
    pthread_condattr_t ca;
    struct MHD_OptionItem opt[16];
    size_t no = 0, mem;
    sl_http_server *s;
    int rc;

    *out = NULL;
    if (loop < 0) {
        sl_err_set(err, "listen address '%s' is not a numeric IPv4 or IPv6 address", addr);
        return SL_EINVAL;
    }
    if (tls != (ls->tls_key_file && *ls->tls_key_file)) {
        sl_err_set(err, "TLS needs both a certificate and a key file");
        return SL_EINVAL;
    }
    if (!loop && !tls) {
        sl_err_set(err, "refusing to listen on non-loopback address %s without TLS: "
                   "configure a TLS certificate and key (or listen on 127.0.0.1)", addr);
        return SL_EINVAL;
    }
    if (tls && !MHD_is_feature_supported(MHD_FEATURE_TLS)) {
        sl_err_set(err, "this libmicrohttpd was built without TLS");
        return SL_EINVAL;
    }
    s = calloc(1, sizeof *s);
    if (!s)
        return SL_ENOMEM;
    s->rt = rt;
    s->lim = *lim;
    if (ls->metrics) {
        static const char *const rl[] = { "route", "method", "code", NULL };
        static const char *const ll[] = { "route", NULL };
        static const double b[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                    0.25, 0.5, 1, 2.5, 5, 10, 30, 60 };
        /* Routes x methods x statuses, bounded by the router; the cap
         * guards the product. */
        if (!(s->m_requests = sl_metrics_counter(ls->metrics,
                  "sluice_http_requests_total",
                  "HTTP requests served, by route pattern, method and status.",
                  rl, 512, err)) ||
            !(s->m_latency = sl_metrics_histogram(ls->metrics,
                  "sluice_http_request_duration_seconds",
                  "Time from a request's headers to its completion, by route "
                  "pattern (long polls include their wait).",
                  ll, 128, b, sizeof b / sizeof b[0], err))) {
            free(s);
            return SL_EINVAL;
        }
    }
    pthread_mutex_init(&s->pk_mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->pk_cv, &ca);
    pthread_condattr_destroy(&ca);
    if (tls) {
        rc = read_small_file(ls->tls_cert_file, &s->tls_cert, err);
        if (rc == SL_OK)
            rc = read_small_file(ls->tls_key_file, &s->tls_key, err);
        if (rc != SL_OK) {
            sl_http_server_stop(s);
            return rc;
        }
        flags |= MHD_USE_TLS;
    }
    if (strchr(addr, ':')) {
        memset(&a6, 0, sizeof a6);
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons(ls->port);
        inet_pton(AF_INET6, addr, &a6.sin6_addr);
        sa = (struct sockaddr *)&a6;
        flags |= MHD_USE_IPv6;
    } else {
        memset(&a4, 0, sizeof a4);
        a4.sin_family = AF_INET;
        a4.sin_port = htons(ls->port);
        inet_pton(AF_INET, addr, &a4.sin_addr);
        sa = (struct sockaddr *)&a4;
    }
    /* MHD's per-connection pool holds the request line and headers: it must
     * admit the configured limits so ours are the ones that answer. */
    mem = lim->max_url * 2 + lim->max_header_bytes + 16384;
    if (mem < 32768)
        mem = 32768;
    opt[no++] = (struct MHD_OptionItem){ MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)(void *)on_log, NULL };
    opt[no++] = (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0, sa };
    opt[no++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)mem, NULL };
    opt[no++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT, (intptr_t)lim->max_conns, NULL };
    opt[no++] = (struct MHD_OptionItem){ MHD_OPTION_PER_IP_CONNECTION_LIMIT, (intptr_t)lim->max_conns_per_ip, NULL };
    opt[no++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)lim->timeout_s, NULL };
    if (lim->threads > 1)   /* one: MHD's internal thread alone, no pool */
        opt[no++] = (struct MHD_OptionItem){ MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)lim->threads, NULL };
    opt[no++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)(void *)on_completed, s };
    if (lim->listen_backlog)
        opt[no++] = (struct MHD_OptionItem){ MHD_OPTION_LISTEN_BACKLOG_SIZE, (intptr_t)lim->listen_backlog, NULL };
    opt[no++] = (struct MHD_OptionItem){ MHD_OPTION_STRICT_FOR_CLIENT, 1, NULL };
    if (tls) {
        opt[no++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert };
        opt[no++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key };
    }
    opt[no++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
    s->d = MHD_start_daemon(flags, ls->port, NULL, NULL, on_request, s,
                            MHD_OPTION_ARRAY, opt, MHD_OPTION_END);
    if (!s->d) {
        sl_err_set(err, "cannot listen on %s port %u (in use, not permitted, "
                   "or bad TLS files)", addr, (unsigned)ls->port);
        sl_http_server_stop(s);
        return SL_EIO;
    }
    if (pthread_create(&s->timer, NULL, pk_timer, s) != 0) {
        sl_err_set(err, "cannot start the long-poll deadline thread");
        sl_http_server_stop(s);
        return SL_ERR;
    }
    s->timer_started = 1;
    *out = s;
    return SL_OK;
}

uint16_t sl_http_server_port(const sl_http_server *s)
{
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);

    return di ? di->port : 0;
}

void sl_http_server_stop(sl_http_server *s)
{
    if (!s)
        return;
    /* Every parked request is resumed (its handler answers: the server is
     * stopping) before the daemon stops. */
    pthread_mutex_lock(&s->pk_mu);
    s->stopping = 1;
    while (s->pk_head)
        pk_resume(s, s->pk_head, SL_HTTP_TIMEDOUT);
    pthread_cond_broadcast(&s->pk_cv);
    pthread_mutex_unlock(&s->pk_mu);
    if (s->timer_started)
        pthread_join(s->timer, NULL);
    if (s->d) {
        MHD_socket ls = MHD_quiesce_daemon(s->d);   /* ours to close now */
        if (ls != MHD_INVALID_SOCKET)
            close(ls);
        for (int i = 0; i < 20; i++) {       /* let resumed polls answer */
            const union MHD_DaemonInfo *di =
                MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
            if (!di || di->num_connections == 0)
                break;
            usleep(10000);
        }
        MHD_stop_daemon(s->d);
    }
    pthread_mutex_destroy(&s->pk_mu);
    pthread_cond_destroy(&s->pk_cv);
    free(s->tls_cert);
    if (s->tls_key) {
        explicit_bzero(s->tls_key, strlen(s->tls_key));
        free(s->tls_key);
    }
    free(s);
}
