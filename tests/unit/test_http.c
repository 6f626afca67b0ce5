/*
 * test_http.c -- unit tests for common/src/http/http.c: route patterns and
 * matching (404 / 405, the one {param}), urlencoded forms, Cookie headers,
 * the session cookie's attributes, the loopback-or-TLS rule, and a real
 * server on 127.0.0.1 spoken to over a socket: security headers on every
 * response, JSON errors, and each request limit answered with its status;
 * long polls parked without a thread (woken, timed out, answered at stop,
 * a wake between looking and parking not lost) and shared bodies released
 * once.  sl_start_retry (a start that waits for its environment) and the
 * shared backoff sequence.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sl/common.h"
#include "sl/health.h"
#include "sl/http.h"

static int h_dummy(void *u, sl_http_req *r, sl_http_resp *p)
{
    (void)u;
    (void)r;
    (void)p;
    return SL_OK;
}

static int h_other(void *u, sl_http_req *r, sl_http_resp *p)
{
    (void)u;
    (void)r;
    (void)p;
    return SL_OK;
}

static void test_route_patterns(void **state)
{
    sl_http_router *rt = sl_http_router_new();

    (void)state;
    assert_non_null(rt);
    assert_int_equal(sl_http_route(rt, "GET", "/", h_dummy, NULL), SL_OK);
    assert_int_equal(sl_http_route(rt, "GET", "/items/{id}", h_dummy, NULL), SL_OK);
    assert_int_equal(sl_http_route(rt, "GET", "items", h_dummy, NULL), SL_EINVAL);
    assert_int_equal(sl_http_route(rt, "GET", "/a//b", h_dummy, NULL), SL_EINVAL);
    assert_int_equal(sl_http_route(rt, "GET", "/a/", h_dummy, NULL), SL_EINVAL);
    assert_int_equal(sl_http_route(rt, "GET", "/{a}/{b}", h_dummy, NULL), SL_EINVAL);
    assert_int_equal(sl_http_route(rt, "GET", "/x{a}", h_dummy, NULL), SL_EINVAL);
    assert_int_equal(sl_http_route(rt, "GET", "/{}", h_dummy, NULL), SL_EINVAL);
    assert_int_equal(sl_http_route(rt, "GET", "/{a{b}", h_dummy, NULL), SL_EINVAL);
    sl_http_router_destroy(rt);
}

static void test_route_match(void **state)
{
    sl_http_router *rt = sl_http_router_new();
    sl_http_match m;

    (void)state;
    assert_int_equal(sl_http_route(rt, "GET", "/", h_dummy, NULL), SL_OK);
    assert_int_equal(sl_http_route(rt, "GET", "/items/{id}", h_dummy, NULL), SL_OK);
    assert_int_equal(sl_http_route(rt, "POST", "/items/{id}/decide", h_other, NULL), SL_OK);
    assert_int_equal(sl_http_route(rt, "GET", "/items/{id}/raw", h_dummy, NULL), SL_OK);

    assert_int_equal(sl_http_router_match(rt, "GET", "/", &m), SL_OK);
    assert_int_equal(m.status, 200);
    assert_null(m.param);

    assert_int_equal(sl_http_router_match(rt, "GET", "/items/up-1", &m), SL_OK);
    assert_int_equal(m.status, 200);
    assert_string_equal(m.pattern, "/items/{id}");
    assert_string_equal(m.param, "up-1");
    free(m.param);

    assert_int_equal(sl_http_router_match(rt, "POST", "/items/u%3C/decide", &m), SL_OK);
    assert_int_equal(m.status, 200);
    assert_true(m.h == h_other);
    assert_string_equal(m.param, "u%3C");
    free(m.param);

    /* The path exists, the method does not. */
    assert_int_equal(sl_http_router_match(rt, "POST", "/items/up-1", &m), SL_OK);
    assert_int_equal(m.status, 405);
    assert_null(m.param);
    assert_int_equal(sl_http_router_match(rt, "GET", "/items/up-1/decide", &m), SL_OK);
    assert_int_equal(m.status, 405);

    /* No such path. */
    assert_int_equal(sl_http_router_match(rt, "GET", "/items", &m), SL_OK);
    assert_int_equal(m.status, 404);
    assert_int_equal(sl_http_router_match(rt, "GET", "/items/", &m), SL_OK);
    assert_int_equal(m.status, 404);
    assert_int_equal(sl_http_router_match(rt, "GET", "/items//raw", &m), SL_OK);
    assert_int_equal(m.status, 404);
    assert_int_equal(sl_http_router_match(rt, "GET", "/items/a/b/raw", &m), SL_OK);
    assert_int_equal(m.status, 404);
    assert_int_equal(sl_http_router_match(rt, "GET", "/items/a/raw/x", &m), SL_OK);
    assert_int_equal(m.status, 404);
    assert_int_equal(sl_http_router_match(rt, "GET", "", &m), SL_OK);
    assert_int_equal(m.status, 404);
    assert_int_equal(sl_http_router_match(rt, "GET", "//", &m), SL_OK);
    assert_int_equal(m.status, 404);
    sl_http_router_destroy(rt);
}

static void test_form(void **state)
{
    sl_http_kv kv;
    const char *body = "username=ann&password=a+b%26c%3D&csrf=&flag&note=%3Cscript%3E";
    char *d;

    (void)state;
    assert_int_equal(sl_http_parse_form(body, strlen(body), 16, &kv), SL_OK);
    assert_int_equal(kv.n, 5);
    assert_string_equal(sl_http_kv_get(&kv, "username"), "ann");
    assert_string_equal(sl_http_kv_get(&kv, "password"), "a b&c=");
    assert_string_equal(sl_http_kv_get(&kv, "csrf"), "");
    assert_string_equal(sl_http_kv_get(&kv, "flag"), "");
    assert_string_equal(sl_http_kv_get(&kv, "note"), "<script>");
    assert_null(sl_http_kv_get(&kv, "missing"));
    sl_http_kv_free(&kv);

    /* Duplicates: the first wins. */
    assert_int_equal(sl_http_parse_form("a=1&a=2", 7, 16, &kv), SL_OK);
    assert_string_equal(sl_http_kv_get(&kv, "a"), "1");
    sl_http_kv_free(&kv);

    assert_int_equal(sl_http_parse_form("a=%zz", 5, 16, &kv), SL_EINVAL);
    assert_int_equal(kv.n, 0);
    assert_int_equal(sl_http_parse_form("a=%4", 4, 16, &kv), SL_EINVAL);
    assert_int_equal(sl_http_parse_form("a=%00", 5, 16, &kv), SL_EINVAL);
    assert_int_equal(sl_http_parse_form("a=1&b=2&c=3", 11, 2, &kv), SL_ETOOBIG);
    assert_int_equal(kv.n, 0);
    assert_int_equal(sl_http_parse_form("", 0, 2, &kv), SL_OK);
    assert_int_equal(kv.n, 0);

    d = sl_http_urldecode("%41%62+c", 8);
    assert_string_equal(d, "Ab c");
    free(d);
    assert_null(sl_http_urldecode("%", 1));
}

static void test_cookies(void **state)
{
    sl_http_kv kv;
    sl_buf b;

    (void)state;
    assert_int_equal(sl_http_parse_cookies(
        "theme=dark; __Host-sluice-review=abc123 ;bare; q=\"quoted\"; empty=", 8, &kv), SL_OK);
    assert_int_equal(kv.n, 4);
    assert_string_equal(sl_http_kv_get(&kv, "theme"), "dark");
    assert_string_equal(sl_http_kv_get(&kv, "__Host-sluice-review"), "abc123");
    assert_string_equal(sl_http_kv_get(&kv, "q"), "quoted");
    assert_string_equal(sl_http_kv_get(&kv, "empty"), "");
    assert_null(sl_http_kv_get(&kv, "bare"));
    sl_http_kv_free(&kv);

    assert_int_equal(sl_http_parse_cookies("a=1; b=2; c=3", 2, &kv), SL_ETOOBIG);
    assert_int_equal(kv.n, 0);

    sl_buf_init(&b, 1024);
    assert_int_equal(sl_http_session_cookie(&b, "__Host-sluice-review", "t0k", 43200), SL_OK);
    assert_string_equal((char *)b.data,
        "__Host-sluice-review=t0k; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=43200");
    assert_int_equal(sl_http_session_cookie(&b, "__Host-sluice-review", "", 0), SL_OK);
    assert_string_equal((char *)b.data,
        "__Host-sluice-review=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0");
    sl_buf_free(&b);
}

static void test_listen_rules(void **state)
{
    sl_http_router *rt = sl_http_router_new();
    sl_http_limits lim;
    sl_http_server *s = NULL;
    sl_err err = { { 0 } };

    (void)state;
    sl_http_limits_default(&lim);
    assert_int_equal(sl_http_addr_is_loopback("127.0.0.1"), 1);
    assert_int_equal(sl_http_addr_is_loopback("127.8.9.10"), 1);
    assert_int_equal(sl_http_addr_is_loopback("::1"), 1);
    assert_int_equal(sl_http_addr_is_loopback("0.0.0.0"), 0);
    assert_int_equal(sl_http_addr_is_loopback("10.1.2.3"), 0);
    assert_int_equal(sl_http_addr_is_loopback("::"), 0);
    assert_int_equal(sl_http_addr_is_loopback("localhost"), -1);

    assert_int_equal(sl_http_server_start(&(sl_http_listen){ .addr = "0.0.0.0" },
                                          &lim, rt, &s, &err), SL_EINVAL);
    assert_null(s);
    assert_string_equal(err.msg, "refusing to listen on non-loopback address 0.0.0.0 "
                        "without TLS: configure a TLS certificate and key (or listen on 127.0.0.1)");
    assert_int_equal(sl_http_server_start(&(sl_http_listen){ .addr = "127.0.0.1",
                                              .tls_cert_file = "/x.pem" },
                                          &lim, rt, &s, &err), SL_EINVAL);
    assert_string_equal(err.msg, "TLS needs both a certificate and a key file");
    assert_int_equal(sl_http_server_start(&(sl_http_listen){ .addr = "0.0.0.0",
                                              .tls_cert_file = "/nonexistent/c.pem",
                                              .tls_key_file = "/nonexistent/k.pem" },
                                          &lim, rt, &s, &err), SL_EIO);
    assert_string_equal(err.msg, "cannot open /nonexistent/c.pem: No such file or directory");
    assert_int_equal(sl_http_server_start(&(sl_http_listen){ .addr = "localhost" },
                                          &lim, rt, &s, &err), SL_EINVAL);
    sl_http_router_destroy(rt);
}

/* ---- a live server ------------------------------------------------------ */

static int h_echo(void *u, sl_http_req *r, sl_http_resp *p)
{
    const char *f = sl_http_req_form(r, "name");
    const char *c = sl_http_req_cookie(r, "sid");
    const char *q = sl_http_req_query(r, "q");

    (void)u;
    sl_http_resp_type(p, "text/plain");
    return sl_buf_appendf(sl_http_resp_body(p), "param=%s form=%s cookie=%s q=%s client=%s",
                          sl_http_req_param(r) ? sl_http_req_param(r) : "-",
                          f ? f : "-", c ? c : "-", q ? q : "-", sl_http_req_client(r));
}

static int h_raw(void *u, sl_http_req *r, sl_http_resp *p)
{
    (void)u;
    (void)r;
    sl_http_resp_type(p, "application/octet-stream");
    if (sl_http_resp_header(p, "Content-Security-Policy", "sandbox") != SL_OK)
        return SL_ERR;
    if (sl_http_resp_header(p, "X-Bad", "a\r\nSet-Cookie: x=1") != SL_EINVAL)
        return SL_ERR;
    return sl_buf_append(sl_http_resp_body(p), "<b>", 3);
}

static int h_static(void *u, sl_http_req *r, sl_http_resp *p)
{
    (void)u;
    (void)r;
    sl_http_resp_cacheable(p);
    return sl_buf_append(sl_http_resp_body(p), "x", 1);
}

static int h_fail(void *u, sl_http_req *r, sl_http_resp *p)
{
    (void)u;
    (void)r;
    (void)p;
    return SL_EIO;
}

/* Sends req whole to 127.0.0.1:port and reads the answer until the server
 * closes (requests say Connection: close).  Returns a malloc'd string. */
static char *roundtrip(uint16_t port, const char *req, size_t len)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    size_t cap = 65536, got = 0, sent = 0;
    char *out = calloc(1, cap + 1);

    assert_true(fd >= 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    while (sent < len) {
        ssize_t n = send(fd, req + sent, len - sent, MSG_NOSIGNAL);
        if (n <= 0)
            break;               /* the server may answer and close early */
        sent += (size_t)n;
    }
    for (;;) {
        ssize_t n = recv(fd, out + got, cap - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
        if (got == cap)
            break;
    }
    close(fd);
    return out;
}

static char *get(uint16_t port, const char *fmt, ...)
{
    char req[70000];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(req, sizeof req, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof req);
    return roundtrip(port, req, (size_t)n);
}

static void assert_security_headers(const char *resp)
{
    assert_non_null(strstr(resp, "X-Content-Type-Options: nosniff\r\n"));
    assert_non_null(strstr(resp, "Referrer-Policy: no-referrer\r\n"));
}

static void test_server(void **state)
{
    sl_http_router *rt = sl_http_router_new();
    sl_http_limits lim;
    sl_http_server *s = NULL;
    sl_err err = { { 0 } };
    uint16_t port;
    char *r, big[20000];
    const char *csp = "Content-Security-Policy: default-src 'self'; object-src 'none'; "
                      "base-uri 'none'; frame-ancestors 'none'\r\n";

    (void)state;
    sl_http_limits_default(&lim);
    lim.max_url = 200;
    lim.max_header_bytes = 1000;
    lim.max_body = 100;
    lim.threads = 2;
    assert_int_equal(sl_http_route(rt, "GET", "/echo/{id}", h_echo, NULL), SL_OK);
    assert_int_equal(sl_http_route(rt, "POST", "/echo/{id}", h_echo, NULL), SL_OK);
    assert_int_equal(sl_http_route(rt, "GET", "/raw", h_raw, NULL), SL_OK);
    assert_int_equal(sl_http_route(rt, "GET", "/static/app.js", h_static, NULL), SL_OK);
    assert_int_equal(sl_http_route(rt, "GET", "/fail", h_fail, NULL), SL_OK);
    assert_int_equal(sl_http_server_start(&(sl_http_listen){ .addr = "127.0.0.1", .port = 0 },
                                          &lim, rt, &s, &err), SL_OK);
    port = sl_http_server_port(s);
    assert_true(port > 0);

    /* A routed GET: param, query, cookie, client; the security headers. */
    r = get(port, "GET /echo/it-7?q=a%%20b HTTP/1.1\r\nHost: x\r\nCookie: a=1; sid=s3\r\n"
                  "Connection: close\r\n\r\n");
    assert_memory_equal(r, "HTTP/1.1 200", 12);
    assert_non_null(strstr(r, csp));
    assert_security_headers(r);
    assert_non_null(strstr(r, "Cache-Control: no-store\r\n"));
    assert_non_null(strstr(r, "param=it-7 form=- cookie=s3 q=a b client=127.0.0.1"));
    free(r);

    /* A form POST. */
    r = get(port, "POST /echo/z HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                  "Content-Length: 13\r\nConnection: close\r\n\r\nname=a%%3Cb%%3E");
    assert_memory_equal(r, "HTTP/1.1 200", 12);
    assert_non_null(strstr(r, "param=z form=a<b> cookie=- q=- client=127.0.0.1"));
    free(r);

    /* 404 and 405 as JSON errors, with the headers. */
    r = get(port, "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_memory_equal(r, "HTTP/1.1 404", 12);
    assert_non_null(strstr(r, csp));
    assert_security_headers(r);
    assert_non_null(strstr(r, "{\"error\":\"not_found\",\"detail\":\"no such page\"}"));
    free(r);
    r = get(port, "DELETE /echo/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_memory_equal(r, "HTTP/1.1 405", 12);
    assert_non_null(strstr(r, "\"error\":\"method_not_allowed\""));
    free(r);

    /* A handler's own CSP replaces the default; CR/LF never reaches a header. */
    r = get(port, "GET /raw HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_memory_equal(r, "HTTP/1.1 200", 12);
    assert_non_null(strstr(r, "Content-Security-Policy: sandbox\r\n"));
    assert_null(strstr(r, "default-src"));
    assert_null(strstr(r, "X-Bad"));
    assert_security_headers(r);
    free(r);

    /* Cacheable: no no-store. */
    r = get(port, "GET /static/app.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_memory_equal(r, "HTTP/1.1 200", 12);
    assert_null(strstr(r, "no-store"));
    assert_non_null(strstr(r, csp));
    free(r);

    /* A failing handler: 500 internal_error. */
    r = get(port, "GET /fail HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_memory_equal(r, "HTTP/1.1 500", 12);
    assert_non_null(strstr(r, "\"error\":\"internal_error\""));
    free(r);

    /* Limits: URL, headers, body (announced, and chunked). */
    memset(big, 'a', 300);
    big[300] = '\0';
    r = get(port, "GET /echo/%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", big);
    assert_memory_equal(r, "HTTP/1.1 414", 12);
    assert_non_null(strstr(r, "\"error\":\"uri_too_long\""));
    assert_security_headers(r);
    free(r);
    memset(big, 'h', 1500);
    big[1500] = '\0';
    r = get(port, "GET /echo/1 HTTP/1.1\r\nHost: x\r\nX-Pad: %s\r\nConnection: close\r\n\r\n", big);
    assert_memory_equal(r, "HTTP/1.1 431", 12);
    assert_non_null(strstr(r, "\"error\":\"headers_too_large\""));
    free(r);
    r = get(port, "POST /echo/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\nConnection: close\r\n\r\n");
    assert_memory_equal(r, "HTTP/1.1 413", 12);
    assert_non_null(strstr(r, "\"error\":\"body_too_large\""));
    free(r);
    memset(big, 'b', 150);
    big[150] = '\0';
    r = get(port, "POST /echo/1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                  "96\r\n%s\r\n0\r\n\r\n", big);
    assert_memory_equal(r, "HTTP/1.1 413", 12);
    free(r);
    /* Exactly at the limit is fine. */
    memset(big, 'b', 100);
    memcpy(big, "name=", 5);
    big[100] = '\0';
    r = get(port, "POST /echo/1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                  "Content-Length: 100\r\nConnection: close\r\n\r\n%s", big);
    assert_memory_equal(r, "HTTP/1.1 200", 12);
    free(r);

    sl_http_server_stop(s);
    sl_http_router_destroy(rt);
}

/* A connected socket to 127.0.0.1:port, receive timeout secs. */
static int dial(uint16_t port, int secs)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    struct timeval tv = { .tv_sec = secs };
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
    return fd;
}

/* Connections per client address beyond the limit are closed at once; an
 * idle connection is closed after the timeout; a slot freed is usable. */
static void test_connection_limits(void **state)
{
    sl_http_router *rt = sl_http_router_new();
    sl_http_limits lim;
    sl_http_server *s = NULL;
    sl_err err = { { 0 } };
    int a, b, c;
    char byte;
    char *r;

    (void)state;
    sl_http_limits_default(&lim);
    lim.max_conns_per_ip = 2;
    lim.timeout_s = 1;
    lim.threads = 1;
    assert_int_equal(sl_http_route(rt, "GET", "/echo/{id}", h_echo, NULL), SL_OK);
    assert_int_equal(sl_http_server_start(&(sl_http_listen){ .port = 0 }, &lim, rt, &s, &err),
                     SL_OK);
    a = dial(sl_http_server_port(s), 5);
    b = dial(sl_http_server_port(s), 5);
    usleep(200000);
    /* The third, from the same address: closed without an answer, well
     * before the idle timeout. */
    c = dial(sl_http_server_port(s), 5);
    {
        int64_t t0 = sl_mono_ms();
        assert_true(recv(c, &byte, 1, 0) <= 0);
        assert_true(sl_mono_ms() - t0 < 900);
    }
    close(c);
    /* The two idle ones: closed by the server after about a second. */
    {
        int64_t t0 = sl_mono_ms();
        assert_int_equal(recv(a, &byte, 1, 0), 0);
        assert_true(sl_mono_ms() - t0 < 4000);
    }
    assert_int_equal(recv(b, &byte, 1, 0), 0);
    close(a);
    close(b);
    usleep(200000);
    r = get(sl_http_server_port(s), "GET /echo/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_memory_equal(r, "HTTP/1.1 200", 12);
    free(r);
    sl_http_server_stop(s);
    sl_http_router_destroy(rt);
}

/* ---- long polls and shared bodies ----------------------------------------- */

typedef struct poll_state {
    atomic_int data;           /* > 0: the handler answers it */
    atomic_int runs;           /* handler runs */
    atomic_int released;       /* shared-body releases */
    atomic_int wake_between;   /* wake the topic between gen and park, once */
    sl_http_server *srv;
} poll_state;

static int h_poll(void *u, sl_http_req *r, sl_http_resp *p)
{
    poll_state *ps = u;
    const char *w = sl_http_req_query(r, "wait");
    uint64_t g = sl_http_req_gen(r, 0);
    int64_t until = sl_http_req_parked_until(r);

    atomic_fetch_add(&ps->runs, 1);
    if (atomic_load(&ps->data) > 0)
        return sl_buf_appendf(sl_http_resp_body(p), "data %d wake %d",
                              atomic_load(&ps->data), (int)sl_http_req_wake(r));
    if (atomic_exchange(&ps->wake_between, 0)) {
        atomic_store(&ps->data, 7);
        sl_http_server_wake(ps->srv, 0);        /* after gen, before the park */
    }
    if (sl_buf_appendf(sl_http_resp_body(p), "empty wake %d", (int)sl_http_req_wake(r)) != SL_OK)
        return SL_ENOMEM;
    if (sl_http_req_wake(r) == SL_HTTP_TIMEDOUT)
        return SL_OK;
    return sl_http_req_park(r, 0, g, until ? until : sl_mono_ms() + atoi(w ? w : "0"));
}

static void release_count(void *arg)
{
    atomic_fetch_add(&((poll_state *)arg)->released, 1);
}

static int h_shared(void *u, sl_http_req *r, sl_http_resp *p)
{
    static const char bytes[] = "bytes the service keeps";

    (void)r;
    sl_http_resp_shared(p, bytes + 6, 8, release_count, u);
    return SL_OK;
}

typedef struct bg_get {
    pthread_t th;
    uint16_t port;
    const char *req;
    char *resp;
    int64_t ms;
} bg_get;

static void *bg_main(void *arg)
{
    bg_get *b = arg;
    int64_t t0 = sl_mono_ms();

    b->resp = roundtrip(b->port, b->req, strlen(b->req));
    b->ms = sl_mono_ms() - t0;
    return NULL;
}

static void bg_start(bg_get *b, uint16_t port, const char *req)
{
    b->port = port;
    b->req = req;
    assert_int_equal(pthread_create(&b->th, NULL, bg_main, b), 0);
}

static void wait_parked(sl_http_server *s, size_t n)
{
    for (int i = 0; i < 200 && sl_http_server_parked(s) != n; i++)
        usleep(10000);
    assert_int_equal(sl_http_server_parked(s), n);
}

static void test_long_poll(void **state)
{
    sl_http_router *rt = sl_http_router_new();
    sl_http_limits lim;
    sl_err err = { { 0 } };
    poll_state ps = { 0 };
    bg_get b[3];
    uint16_t port;
    int64_t t0;
    char *r;
    const char *poll5 = "GET /poll?wait=5000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

    (void)state;
    memset(b, 0, sizeof b);
    sl_http_limits_default(&lim);
    lim.threads = 1;              /* parked polls must not hold the one worker */
    assert_int_equal(sl_http_route(rt, "GET", "/poll", h_poll, &ps), SL_OK);
    assert_int_equal(sl_http_route(rt, "GET", "/shared", h_shared, &ps), SL_OK);
    assert_int_equal(sl_http_server_start(&(sl_http_listen){ .port = 0 }, &lim, rt, &ps.srv, &err),
                     SL_OK);
    port = sl_http_server_port(ps.srv);

    /* A shared body: sent as it is, released once. */
    r = get(port, "GET /shared HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_non_null(strstr(r, "\r\n\r\nthe serv"));
    assert_non_null(strstr(r, "Content-Length: 8\r\n"));
    free(r);
    for (int i = 0; i < 100 && atomic_load(&ps.released) == 0; i++)
        usleep(10000);
    assert_int_equal(atomic_load(&ps.released), 1);

    /* Nothing comes: answered after the deadline, timed out. */
    t0 = sl_mono_ms();
    r = get(port, "GET /poll?wait=300 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_true(sl_mono_ms() - t0 >= 280);
    assert_true(sl_mono_ms() - t0 < 3000);
    assert_non_null(strstr(r, "\r\n\r\nempty wake 2"));
    free(r);

    /* Two parked polls hold no worker: a third request is served at once;
     * a wake of another topic leaves them parked; a wake of theirs answers
     * both with the data. */
    bg_start(&b[0], port, poll5);
    bg_start(&b[1], port, poll5);
    wait_parked(ps.srv, 2);
    r = get(port, "GET /shared HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_memory_equal(r, "HTTP/1.1 200", 12);
    free(r);
    sl_http_server_wake(ps.srv, 3);
    usleep(100000);
    assert_int_equal(sl_http_server_parked(ps.srv), 2);
    atomic_store(&ps.data, 1);
    sl_http_server_wake(ps.srv, 0);
    for (int i = 0; i < 2; i++) {
        pthread_join(b[i].th, NULL);
        assert_non_null(strstr(b[i].resp, "\r\n\r\ndata 1 wake 1"));
        assert_true(b[i].ms < 3000);
        free(b[i].resp);
    }
    wait_parked(ps.srv, 0);

    /* A wake between the handler's look and its park is not lost: it runs
     * again at once. */
    atomic_store(&ps.data, 0);
    atomic_store(&ps.wake_between, 1);
    t0 = sl_mono_ms();
    r = get(port, "GET /poll?wait=5000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_true(sl_mono_ms() - t0 < 3000);
    assert_non_null(strstr(r, "\r\n\r\ndata 7 wake 1"));
    free(r);

    /* Stopping with a parked poll: it is answered (its prepared response),
     * and the stop does not wait for its deadline. */
    atomic_store(&ps.data, 0);
    bg_start(&b[2], port, poll5);
    wait_parked(ps.srv, 1);
    t0 = sl_mono_ms();
    sl_http_server_stop(ps.srv);
    assert_true(sl_mono_ms() - t0 < 3000);
    pthread_join(b[2].th, NULL);
    assert_non_null(strstr(b[2].resp, "\r\n\r\nempty wake 2"));
    free(b[2].resp);
    sl_http_router_destroy(rt);
}

/* ---- the operator's endpoint (sl/health.h) -------------------------- */

static void test_health_listen_parse(void **state)
{
    char addr[64];
    uint16_t port = 0;

    (void)state;
    assert_int_equal(sl_health_parse_listen("127.0.0.1:9464", addr, sizeof addr, &port), SL_OK);
    assert_string_equal(addr, "127.0.0.1");
    assert_int_equal(port, 9464);
    assert_int_equal(sl_health_parse_listen("[::1]:0", addr, sizeof addr, &port), SL_OK);
    assert_string_equal(addr, "::1");
    assert_int_equal(port, 0);
    assert_int_equal(sl_health_parse_listen("127.0.0.1", addr, sizeof addr, &port), SL_EINVAL);
    assert_int_equal(sl_health_parse_listen("::1:80", addr, sizeof addr, &port), SL_EINVAL);
    assert_int_equal(sl_health_parse_listen("127.0.0.1:65536", addr, sizeof addr, &port), SL_EINVAL);
    assert_int_equal(sl_health_parse_listen("127.0.0.1:-1", addr, sizeof addr, &port), SL_EINVAL);
    assert_int_equal(sl_health_parse_listen(":80", addr, sizeof addr, &port), SL_EINVAL);
}

/* GET path: the answer holds status (a status line; NULL: any) and body. */
static void assert_answer(uint16_t port, const char *path, const char *status,
                          const char *body)
{
    char *r = get(port, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);

    if (status)
        assert_non_null(strstr(r, status));
    assert_non_null(strstr(r, body));
    free(r);
}

/* /ready follows what the process reports, /metrics serves the registry,
 * a non-loopback address is refused, an empty one starts nothing. */
static void test_health_endpoint(void **state)
{
    sl_metrics *m = sl_metrics_new();
    sl_health *h = NULL;
    sl_err err = { { 0 } };
    sl_metric *c;
    uint16_t port;
    char *r;

    (void)state;
    assert_int_equal(sl_health_start("0.0.0.0:0", m, 60000, &h, &err), SL_EINVAL);
    assert_string_equal(err.msg, "metrics.listen \"0.0.0.0:0\": a loopback address is required");
    assert_int_equal(sl_health_start("", m, 60000, &h, &err), SL_OK);
    assert_null(h);
    assert_int_equal(sl_health_start("127.0.0.1:0", m, 60000, &h, &err), SL_OK);
    assert_non_null(h);
    port = sl_health_port(h);
    assert_true(port > 0);
    c = sl_metrics_counter(m, "x_total", "X.", NULL, 0, &err);
    sl_metric_add(c, NULL, 3);

    assert_answer(port, "/ready", "HTTP/1.1 503", "{\"ready\":false,\"reason\":\"starting\"}");
    sl_health_ready(h, 0, "broker_down");
    assert_answer(port, "/ready", NULL, "{\"ready\":false,\"reason\":\"broker_down\"}");
    sl_health_ready(h, 1, NULL);
    assert_answer(port, "/ready", "HTTP/1.1 200", "{\"ready\":true}");
    assert_answer(port, "/health", NULL, "{\"status\":\"ok\"}");
    r = get(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_non_null(strstr(r, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
    assert_non_null(strstr(r, "\r\n\r\n# HELP sluice_ready "));
    assert_non_null(strstr(r, "\nsluice_ready 1\n"));
    assert_non_null(strstr(r, "\n# TYPE x_total counter\nx_total 3\n"));
    free(r);
    sl_health_stop(h);
    sl_metrics_destroy(m);
}

/* A main loop that stops beating: /health and /ready say "stalled" once
 * stall_ms has passed since the last beat, and "ok" again at the next. */
static void test_health_stalled(void **state)
{
    sl_metrics *m = sl_metrics_new();
    sl_health *h = NULL;
    sl_err err = { { 0 } };
    uint16_t port;

    (void)state;
    assert_int_equal(sl_health_start("127.0.0.1:0", m, 1500, &h, &err), SL_OK);
    port = sl_health_port(h);
    sl_health_ready(h, 1, NULL);
    sl_health_beat(h);
    assert_answer(port, "/health", "HTTP/1.1 200", "{\"status\":\"ok\"}");
    usleep(2500000);
    assert_answer(port, "/health", "HTTP/1.1 503", "{\"status\":\"stalled\"}");
    assert_answer(port, "/ready", "HTTP/1.1 503", "{\"ready\":false,\"reason\":\"stalled\"}");
    sl_health_beat(h);
    assert_answer(port, "/health", NULL, "{\"status\":\"ok\"}");
    assert_answer(port, "/ready", NULL, "{\"ready\":true}");
    sl_health_stop(h);
    sl_metrics_destroy(m);
}

/* metrics.stall.ms: its default, its bounds (a second to a day), and a
 * value outside them refused by sl_health_open with nothing to free. */
static void test_health_stall_cfg(void **state)
{
    static const sl_cfg_entry map[] = { SL_HEALTH_CFG_ENTRY, SL_CFG_END };
    static const struct { const char *v; int rc; int64_t ms; } cases[] = {
        { "1000", SL_OK, 1000 }, { "86400000", SL_OK, 86400000 },
        { "999", SL_EINVAL, 0 }, { "86400001", SL_EINVAL, 0 },
        { "0", SL_EINVAL, 0 }, { "-5", SL_EINVAL, 0 },
    };
    sl_config *cfg = sl_config_new();
    sl_metrics *reg = NULL;
    sl_health *h = NULL;
    sl_err err = { { 0 } };
    int64_t ms = 0;

    (void)state;
    assert_int_equal(sl_config_declare(cfg, map), SL_OK);
    assert_int_equal(sl_health_stall_cfg(cfg, &ms, &err), SL_OK);
    assert_int_equal(ms, 60000);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(sl_config_set(cfg, "metrics.stall.ms", cases[i].v, &err), SL_OK);
        assert_int_equal(sl_health_stall_cfg(cfg, &ms, &err), cases[i].rc);
        if (cases[i].rc == SL_OK)
            assert_int_equal(ms, cases[i].ms);
        else
            assert_non_null(strstr(err.msg, "metrics.stall.ms"));
    }
    assert_int_equal(sl_config_set(cfg, "metrics.listen", "127.0.0.1:0", &err), SL_OK);
    assert_int_equal(sl_health_open(cfg, &reg, &h, &err), SL_EINVAL);
    assert_null(reg);
    assert_null(h);
    assert_int_equal(sl_config_set(cfg, "metrics.stall.ms", "2000", &err), SL_OK);
    assert_int_equal(sl_health_open(cfg, &reg, &h, &err), SL_OK);
    assert_non_null(h);
    sl_health_close(reg, h);
    sl_config_destroy(cfg);
}

/* sl_backoff_next: 200 ms, doubling, at most 5 s. */
static void test_backoff_next(void **state)
{
    const int64_t want[] = { 200, 400, 800, 1600, 3200, 5000, 5000 };
    int64_t b = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        b = sl_backoff_next(b);
        assert_int_equal(b, want[i]);
    }
    assert_int_equal(sl_backoff_next(-5), 200);
}

typedef struct start_fake {
    int fail_eio;        /* calls failing with SL_EIO before the outcome */
    int outcome;         /* then this */
    int calls;
    volatile sig_atomic_t *stop_at_call;   /* set *stop on this call */
    int stop_call;
} start_fake;

static int fake_open(void *u, sl_err *err)
{
    start_fake *f = u;

    f->calls++;
    if (f->stop_at_call && f->calls == f->stop_call)
        *f->stop_at_call = 1;
    if (f->calls <= f->fail_eio) {
        sl_err_set(err, "not answering (%d)", f->calls);
        return SL_EIO;
    }
    if (f->outcome != SL_OK)
        sl_err_set(err, "bad conninfo");
    return f->outcome;
}

/* Waits out SL_EIO (200 + 400 ms), stops at once on anything else, gives
 * up when the budget is spent, stops when *stop is set; the exit status
 * of each. */
static void test_start_retry(void **state)
{
    volatile sig_atomic_t stop = 0;
    sl_start_opts o = { "test", "database", 10000, NULL, &stop };
    sl_err err = { "" };
    start_fake f = { 2, SL_OK, 0, NULL, 0 };
    int64_t t0 = sl_mono_ms();

    (void)state;
    assert_int_equal(sl_start_retry(&o, fake_open, &f, &err), SL_OK);
    assert_int_equal(f.calls, 3);
    assert_true(sl_mono_ms() - t0 >= 600);

    f = (start_fake){ 1, SL_EINVAL, 0, NULL, 0 };
    assert_int_equal(sl_start_retry(&o, fake_open, &f, &err), SL_EINVAL);
    assert_int_equal(f.calls, 2);
    assert_string_equal(err.msg, "bad conninfo");
    assert_int_equal(sl_start_exit_status(&o, SL_EINVAL), 2);

    o.budget_ms = 300;   /* 200 ms, then the 100 ms left */
    f = (start_fake){ 1000, SL_OK, 0, NULL, 0 };
    assert_int_equal(sl_start_retry(&o, fake_open, &f, &err), SL_EIO);
    assert_int_equal(f.calls, 3);
    assert_string_equal(err.msg, "not answering (3)");
    assert_int_equal(sl_start_exit_status(&o, SL_EIO), 1);

    o.budget_ms = -1;    /* one try */
    f = (start_fake){ 1000, SL_OK, 0, NULL, 0 };
    assert_int_equal(sl_start_retry(&o, fake_open, &f, &err), SL_EIO);
    assert_int_equal(f.calls, 1);

    o.budget_ms = 600000;
    f = (start_fake){ 1000, SL_OK, 0, &stop, 2 };
    assert_int_equal(sl_start_retry(&o, fake_open, &f, &err), SL_ERR);
    assert_int_equal(f.calls, 2);
    assert_int_equal(sl_start_exit_status(&o, SL_ERR), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route_patterns),
        cmocka_unit_test(test_route_match),
        cmocka_unit_test(test_form),
        cmocka_unit_test(test_cookies),
        cmocka_unit_test(test_listen_rules),
        cmocka_unit_test(test_server),
        cmocka_unit_test(test_connection_limits),
        cmocka_unit_test(test_long_poll),
        cmocka_unit_test(test_health_listen_parse),
        cmocka_unit_test(test_health_endpoint),
        cmocka_unit_test(test_health_stalled),
        cmocka_unit_test(test_health_stall_cfg),
        cmocka_unit_test(test_backoff_next),
        cmocka_unit_test(test_start_retry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
