/*
 * http.h -- the HTTP layer of sluice's web services (library sl_http).
 *
 * A listener on libmicrohttpd, a router, request limits and responses that
 * carry the security headers, written once for the review dashboard and
 * the delivery feed after it.
 *
 *   listener   loopback (127.0.0.1 / ::1) by default; any other address is
 *              refused unless a TLS certificate and key are configured,
 *              and then served over TLS only.
 *   router     method + path pattern, segments separated by '/', at most
 *              one `{name}` segment matching one non-empty segment:
 *              "/items/{id}/decide".  No match: 404 not_found; the path
 *              matches under another method: 405 method_not_allowed.
 *   limits     URL length (414), header bytes (431), body size (413),
 *              connections in all and per client address, an idle timeout.
 *   responses  every response, errors included, carries
 *                Content-Security-Policy: default-src 'self';
 *                  object-src 'none'; base-uri 'none'; frame-ancestors 'none'
 *                X-Content-Type-Options: nosniff
 *                Referrer-Policy: no-referrer
 *              and Cache-Control: no-store unless the handler marks the
 *              response cacheable (static files).  A handler may replace
 *              the CSP (the raw-bytes route sends `sandbox`).
 *   errors     JSON {"error": "<code>", "detail": "..."} (jansson).
 *   long polls a handler with nothing to answer yet parks its request
 *              (sl_http_req_park): the connection is suspended (no thread
 *              is held, libmicrohttpd's suspend/resume) until the service
 *              wakes the request's topic (sl_http_server_wake) or its
 *              deadline passes; then the handler runs again.
 *   bodies     copied into the response (sl_http_resp_body), or shared:
 *              bytes the service keeps (a cache entry) handed to the
 *              socket as they are, released when sent (sl_http_resp_shared).
 *
 * Handlers run on the server's worker threads (several at once): anything
 * they share must be locked by the service.  A request and everything it
 * hands out (path, parameters, body, form and cookie values) is borrowed
 * for the duration of the handler call.
 *
 * The parsing helpers (urlencoded forms, Cookie headers, route patterns)
 * are pure and exported for the unit tests.
 */
#ifndef SL_HTTP_H
#define SL_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "sl/common.h"
#include "sl/metrics.h"

/* ---- limits and listener ---------------------------------------------- */

typedef struct sl_http_limits {
    size_t max_url;            /* request target bytes (path + query) */
    size_t max_header_bytes;   /* sum of header names and values */
    size_t max_body;           /* request body bytes */
    unsigned max_conns;        /* open connections in all */
    unsigned max_conns_per_ip; /* open connections per client address */
    unsigned timeout_s;        /* idle connection timeout */
    unsigned threads;          /* worker threads */
    unsigned listen_backlog;   /* listen(2) backlog; 0: libmicrohttpd's */
} sl_http_limits;

/* 2048, 16384, 1 MiB, 64, 16, 30 s, 4 threads. */
void sl_http_limits_default(sl_http_limits *l);

typedef struct sl_http_listen {
    const char *addr;          /* numeric IPv4 / IPv6 address; NULL: 127.0.0.1 */
    uint16_t port;             /* 0: any free port (sl_http_server_port) */
    const char *tls_cert_file; /* PEM; both or neither */
    const char *tls_key_file;
    /* NULL, or a registry (sl/metrics.h) the server declares its request
     * metrics in at start and updates as requests complete:
     * sluice_http_requests_total{route,method,code} and
     * sluice_http_request_duration_seconds{route}.  The route is the
     * matched pattern ("/items/{id}"), "unmatched" otherwise: never a
     * path.  Borrowed; must outlive the server. */
    sl_metrics *metrics;
} sl_http_listen;

/* 1 when addr (numeric) is a loopback address (127.0.0.0/8, ::1), 0 when
 * another address, -1 when not a numeric address. */
int sl_http_addr_is_loopback(const char *addr);

/* ---- requests and responses ------------------------------------------- */

typedef struct sl_http_req sl_http_req;

const char *sl_http_req_method(const sl_http_req *r);
const char *sl_http_req_path(const sl_http_req *r);
/* The value of the route's {param}, or NULL when the route has none. */
const char *sl_http_req_param(const sl_http_req *r);
/* A query-string argument (decoded) or NULL. */
const char *sl_http_req_query(const sl_http_req *r, const char *name);
/* A request header (case-insensitive name) or NULL. */
const char *sl_http_req_header(const sl_http_req *r, const char *name);
/* A cookie from the Cookie header or NULL (the first of that name). */
const char *sl_http_req_cookie(const sl_http_req *r, const char *name);
/* A field of an application/x-www-form-urlencoded body or NULL (the body
 * of another type has no fields). */
const char *sl_http_req_form(const sl_http_req *r, const char *name);
/* The body as received. */
sl_slice sl_http_req_body(const sl_http_req *r);
/* The client's address as text ("127.0.0.1", "::1"). */
const char *sl_http_req_client(const sl_http_req *r);

typedef struct sl_http_resp sl_http_resp;

void sl_http_resp_status(sl_http_resp *p, int status);
/* Adds a header (copied).  Setting Content-Security-Policy or
 * Cache-Control replaces the default.  SL_OK, SL_EINVAL on a name or value
 * holding CR/LF, SL_ENOMEM. */
int  sl_http_resp_header(sl_http_resp *p, const char *name, const char *value);
/* The body buffer (capped at 64 MiB), and its type. */
sl_buf *sl_http_resp_body(sl_http_resp *p);
void sl_http_resp_type(sl_http_resp *p, const char *content_type);
/* Marks the response cacheable: no Cache-Control: no-store. */
void sl_http_resp_cacheable(sl_http_resp *p);
/* status + JSON body (compact) of v, which it does not steal. */
int  sl_http_resp_json(sl_http_resp *p, int status, const json_t *v);
/* status + {"error": code, "detail": detail}. */
int  sl_http_resp_error(sl_http_resp *p, int status, const char *code,
                        const char *detail);
/* 303 See Other to location. */
int  sl_http_resp_redirect(sl_http_resp *p, const char *location);

/* The body is len bytes at data, sent without a copy; replaces whatever
 * sl_http_resp_body holds.  release(arg) (may be NULL) is called exactly
 * once, from any thread, when the server no longer needs the bytes: after
 * the response was sent or dropped, or when the handler fails. */
void sl_http_resp_shared(sl_http_resp *p, const void *data, size_t len,
                         void (*release)(void *arg), void *arg);

/* ---- long polls ----------------------------------------------------------
 *
 * A handler that would answer "nothing yet" may instead park its request
 * on a topic (0 .. SL_HTTP_TOPICS-1) until a deadline:
 *
 *     uint64_t g = sl_http_req_gen(r, topic);    read BEFORE looking
 *     ... look for data; none ...
 *     fill p with the answer to give if the request cannot wait;
 *     sl_http_req_park(r, topic, g, deadline);
 *     return SL_OK;
 *
 * The server then suspends the connection instead of answering.  When the
 * service calls sl_http_server_wake(server, topic), every request parked on
 * the topic is resumed and its handler runs again with sl_http_req_wake()
 * = SL_HTTP_WOKEN; when the deadline passes, with SL_HTTP_TIMEDOUT.  A wake
 * between sl_http_req_gen and the park is not lost: the handler runs again
 * at once (WOKEN).  While the server stops, the response the handler
 * filled is sent instead of parking.  A parked request costs its
 * connection and this context, no thread. */
#define SL_HTTP_TOPICS 8

typedef enum sl_http_wake_reason {
    SL_HTTP_FIRST = 0,          /* the request's first run */
    SL_HTTP_WOKEN = 1,          /* its topic was woken */
    SL_HTTP_TIMEDOUT = 2        /* its deadline passed */
} sl_http_wake_reason;

sl_http_wake_reason sl_http_req_wake(const sl_http_req *r);
/* The deadline (sl_mono_ms clock) the request was last parked with, 0 if
 * never parked. */
int64_t  sl_http_req_parked_until(const sl_http_req *r);
/* The topic's wake generation (0 for a bad topic). */
uint64_t sl_http_req_gen(const sl_http_req *r, unsigned topic);
/* Asks to park the request (see above).  SL_OK, SL_EINVAL on a bad topic. */
int      sl_http_req_park(sl_http_req *r, unsigned topic, uint64_t gen,
                          int64_t deadline_mono_ms);

/* A handler fills p.  Returning non-SL_OK turns the response into
 * 500 internal_error whatever it held. */
typedef int (*sl_http_handler)(void *u, sl_http_req *r, sl_http_resp *p);

/* ---- router ------------------------------------------------------------- */

typedef struct sl_http_router sl_http_router;
sl_http_router *sl_http_router_new(void);
void sl_http_router_destroy(sl_http_router *rt);
/* Adds a route.  SL_OK; SL_EINVAL when the pattern does not start with
 * '/', has an empty segment, more than one {param}, or a malformed one. */
int  sl_http_route(sl_http_router *rt, const char *method, const char *pattern,
                   sl_http_handler h, void *u);

/* What a path resolves to (for the server and the tests). */
typedef struct sl_http_match {
    int status;                /* 200: found, 404, 405 */
    sl_http_handler h;
    void *u;
    const char *pattern;       /* the matched route's pattern */
    char *param;               /* the {param} value, malloc'd, or NULL */
} sl_http_match;
/* Resolves method + path.  SL_OK (m->status says which) or SL_ENOMEM.
 * m->param is the caller's to free. */
int  sl_http_router_match(const sl_http_router *rt, const char *method,
                          const char *path, sl_http_match *m);

/* ---- server ------------------------------------------------------------- */

typedef struct sl_http_server sl_http_server;
/* Starts listening and serving on worker threads.  rt is borrowed and
 * must outlive the server.  SL_OK; SL_EINVAL (a non-loopback address
 * without TLS, half a TLS configuration, a bad address: err says so);
 * SL_EIO (cannot bind, cannot read the TLS files). */
int  sl_http_server_start(const sl_http_listen *ls, const sl_http_limits *lim,
                          sl_http_router *rt, sl_http_server **out, sl_err *err);
uint16_t sl_http_server_port(const sl_http_server *s);
/* Resumes every request parked on topic (any thread).  Bad topic: nothing. */
void sl_http_server_wake(sl_http_server *s, unsigned topic);
/* How many requests are parked now. */
size_t sl_http_server_parked(sl_http_server *s);
/* Stops accepting, waits for running handlers, frees.  NULL is fine. */
void sl_http_server_stop(sl_http_server *s);

/* ---- parsing helpers (pure) ------------------------------------------- */

/* Decodes a urlencoded component ('+' is a space, %XX a byte) into a new
 * NUL-terminated string; NULL on a bad escape, an encoded NUL, or no
 * memory. */
char *sl_http_urldecode(const char *s, size_t len);

/* Key/value pairs parsed from a form body or a Cookie header.  Strings
 * are owned by the set. */
typedef struct sl_http_kv {
    size_t n;
    char **k, **v;
} sl_http_kv;
void sl_http_kv_free(sl_http_kv *kv);
/* First value of key or NULL. */
const char *sl_http_kv_get(const sl_http_kv *kv, const char *key);
/* Parses "a=1&b=x+y" (max_pairs caps it).  SL_OK, SL_EINVAL on a bad
 * escape, SL_ETOOBIG past max_pairs, SL_ENOMEM.  kv is empty on error. */
int  sl_http_parse_form(const char *s, size_t len, size_t max_pairs,
                        sl_http_kv *kv);
/* Parses a Cookie header "a=1; b=2" (values as they are, quotes around a
 * value removed; a pair without '=' skipped).  Same returns. */
int  sl_http_parse_cookies(const char *s, size_t max_pairs, sl_http_kv *kv);

/* The Set-Cookie value of a session cookie: name=value; Path=/; Secure;
 * HttpOnly; SameSite=Strict, and Max-Age=max_age_s (0: expire now, -1: a
 * browser-session cookie without Max-Age).  Into out (reset first). */
int  sl_http_session_cookie(sl_buf *out, const char *name, const char *value,
                            int64_t max_age_s);

#endif
