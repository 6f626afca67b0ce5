/*
 * feed_load.c -- an HTTP/1.1 load tool for the feed benchmark
 * (tests/bench/feed.sh): plain sockets and epoll, keep-alive, no library,
 * so that what it measures is the server and not the client.
 *
 *   page   one reader pages through a dataset's samples with its cursor
 *          (Sluice-Next-Cursor) until an empty page: lines/s, and the
 *          time to the first byte and to the last byte of each page.
 *   get    C keep-alive connections send requests one at a time, paths
 *          taken in turn from a file, for D seconds: requests/s, bytes/s,
 *          latency percentiles, status counts.
 *   tail   one long-polling reader (wait=W) from a cursor: prints
 *          "<receive time, unix microseconds> <upload_id>" per line
 *          received, for D seconds or N lines.
 *   hold   C connections each send one long-poll request and wait; prints
 *          "held C" once all are sent, then keeps them open until SIGTERM
 *          or stdin closes; reports how many were answered meanwhile.
 *
 * Every response is parsed (status line, Content-Length or chunked body,
 * Connection: close); a response that does not parse ends the run with
 * an error rather than a wrong figure.  Figures go to stdout as
 * "key value" lines that feed.sh reads.  Input is the server's, so every
 * buffer has a cap.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HEAD_MAX (64 * 1024)     /* response header bytes */
#define LINE_MAX_B (256 * 1024)  /* one NDJSON line kept by `tail` */
#define REQ_MAX 8192             /* one request */
#define CURSOR_MAX 256

static volatile sig_atomic_t g_stop;
static void on_signal(int sig) { (void)sig; g_stop = 1; }

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("feed_load: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long long wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* ---- options ----------------------------------------------------------- */

typedef struct opts {
    const char *mode;
    char host[64];
    uint16_t port;
    const char *auth;          /* whole "Authorization" value, or NULL */
    const char *path;          /* page / tail / hold: path without query */
    const char *paths_file;    /* get: one path (with query) a line */
    const char *after;         /* cursor to start from */
    unsigned conns;
    unsigned limit;
    unsigned wait_s;
    double duration;
    long long max_n;
    int spread_src;            /* hold/get: source addresses 127.0.0.1-254 */
} opts;

static void usage(void)
{
    fputs("usage: feed_load page|get|tail|hold -u http://HOST:PORT [-a AUTH]\n"
          "  [-p PATH] [-f PATHS_FILE] [-A AFTER] [-c CONNS] [-l LIMIT]\n"
          "  [-w WAIT_S] [-d SECONDS] [-n MAX] [-S]\n", stderr);
    exit(2);
}

static void parse_url(opts *o, const char *url)
{
    const char *p = url, *colon, *slash;
    if (strncmp(p, "http://", 7) != 0) die("only http:// URLs: %s", url);
    p += 7;
    colon = strchr(p, ':');
    slash = strchr(p, '/');
    if (!colon || (slash && slash < colon)) die("URL needs a port: %s", url);
    if ((size_t)(colon - p) >= sizeof o->host) die("host too long");
    memcpy(o->host, p, (size_t)(colon - p));
    o->host[colon - p] = '\0';
    long port = strtol(colon + 1, NULL, 10);
    if (port <= 0 || port > 65535) die("bad port in %s", url);
    o->port = (uint16_t)port;
}

/* ---- connections ------------------------------------------------------- */

/* A connected socket (connect is blocking; then non-blocking if asked). */
static int connect_to(const opts *o, unsigned src_index, int nonblock)
{
    struct sockaddr_in sa = {0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket: %s", strerror(errno));
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
        die("TCP_NODELAY: %s", strerror(errno));
    if (o->spread_src) {
        /* Many clients rather than one: any 127.x.y.z is this host. */
        struct sockaddr_in src = {0};
        src.sin_family = AF_INET;
        src.sin_addr.s_addr = htonl(0x7f000001u + (src_index % 254u));
        if (bind(fd, (struct sockaddr *)&src, sizeof src) != 0)
            die("bind source: %s", strerror(errno));
    }
    sa.sin_family = AF_INET;
    sa.sin_port = htons(o->port);
    if (inet_pton(AF_INET, o->host, &sa.sin_addr) != 1) die("host must be numeric IPv4: %s", o->host);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        die("connect: %s", strerror(errno));
    if (nonblock && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0)
        die("O_NONBLOCK: %s", strerror(errno));
    return fd;
}

static size_t build_req(const opts *o, char *out, size_t cap, const char *target)
{
    int n = snprintf(out, cap, "GET %s HTTP/1.1\r\nHost: %s:%u\r\n%s%s%s"
                     "User-Agent: feed_load\r\n\r\n", target, o->host, o->port,
                     o->auth ? "Authorization: " : "", o->auth ? o->auth : "",
                     o->auth ? "\r\n" : "");
    if (n < 0 || (size_t)n >= cap) die("request too long");
    return (size_t)n;
}

static void write_all(int fd, const char *b, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EAGAIN) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            if (poll(&p, 1, 10000) <= 0) die("write timed out");
            continue;
        }
        if (w <= 0) die("write: %s", strerror(errno));
        b += w;
        n -= (size_t)w;
    }
}

/* ---- response parser (incremental) ----------------------------------------- */

enum { P_HEAD, P_BODY_LEN, P_CHUNK_SIZE, P_CHUNK_DATA, P_CHUNK_CRLF, P_TRAILER,
       P_BODY_CLOSE, P_DONE };

typedef void (*body_cb)(void *u, const char *b, size_t n);

typedef struct resp {
    int state;
    char head[HEAD_MAX];
    size_t head_len;
    int status;
    int close;                 /* Connection: close */
    unsigned long long remaining;
    unsigned long long body_bytes;
    char line[64];             /* chunk-size / trailer line */
    size_t line_len;
    char cursor[CURSOR_MAX];   /* Sluice-Next-Cursor */
    body_cb cb;
    void *cb_u;
} resp;

static void resp_reset(resp *r)
{
    body_cb cb = r->cb;
    void *u = r->cb_u;
    r->state = P_HEAD;
    r->head_len = 0;
    r->status = 0;
    r->close = 0;
    r->remaining = 0;
    r->body_bytes = 0;
    r->line_len = 0;
    r->cursor[0] = '\0';
    r->cb = cb;
    r->cb_u = u;
}

/* Parses the header block in r->head (ends with CRLFCRLF); sets the body
 * state.  -1 on a malformed response. */
static int parse_head(resp *r)
{
    char *p = r->head, *end = r->head + r->head_len;
    long long clen = -1;
    int chunked = 0;
    if (r->head_len < 12 || strncmp(p, "HTTP/1.", 7) != 0) return -1;
    r->status = atoi(p + 9);
    if (r->status < 100 || r->status > 599) return -1;
    if (strncmp(p, "HTTP/1.0", 8) == 0) r->close = 1;
    p = memchr(p, '\n', (size_t)(end - p));
    while (p && ++p < end) {
        char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) break;
        size_t len = (size_t)(eol - p);
        if (len > 0 && p[len - 1] == '\r') len--;
        if (len == 0) break;
        char *colon = memchr(p, ':', len);
        if (colon) {
            size_t nl = (size_t)(colon - p);
            char *v = colon + 1;
            size_t vl = len - nl - 1;
            while (vl && (*v == ' ' || *v == '\t')) { v++; vl--; }
            while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t')) vl--;
            if (nl == 14 && strncasecmp(p, "content-length", 14) == 0) {
                char tmp[32];
                if (vl == 0 || vl >= sizeof tmp) return -1;
                memcpy(tmp, v, vl);
                tmp[vl] = '\0';
                char *e;
                clen = strtoll(tmp, &e, 10);
                if (*e || clen < 0) return -1;
            } else if (nl == 17 && strncasecmp(p, "transfer-encoding", 17) == 0) {
                chunked = vl >= 7 && strncasecmp(v + vl - 7, "chunked", 7) == 0;
            } else if (nl == 10 && strncasecmp(p, "connection", 10) == 0) {
                if (vl == 5 && strncasecmp(v, "close", 5) == 0) r->close = 1;
            } else if (nl == 18 && strncasecmp(p, "sluice-next-cursor", 18) == 0) {
                if (vl >= sizeof r->cursor) return -1;
                memcpy(r->cursor, v, vl);
                r->cursor[vl] = '\0';
            }
        }
        p = eol;
    }
    if (r->status < 200 || r->status == 204 || r->status == 304) {
        r->state = P_DONE;
    } else if (chunked) {
        r->state = P_CHUNK_SIZE;
    } else if (clen >= 0) {
        r->remaining = (unsigned long long)clen;
        r->state = clen == 0 ? P_DONE : P_BODY_LEN;
    } else {
        r->close = 1;
        r->state = P_BODY_CLOSE;
    }
    return 0;
}

static void body(resp *r, const char *b, size_t n)
{
    r->body_bytes += n;
    if (r->cb) r->cb(r->cb_u, b, n);
}

/* Feeds n bytes; returns the bytes consumed (stops at the end of the
 * response: the rest belongs to the next one), or -1 on a malformed
 * response. */
static long resp_feed(resp *r, const char *b, size_t n)
{
    size_t i = 0;
    while (i < n && r->state != P_DONE) {
        switch (r->state) {
        case P_HEAD: {
            while (i < n) {
                if (r->head_len >= HEAD_MAX - 1) return -1;
                r->head[r->head_len++] = b[i++];
                if (r->head_len >= 4 && memcmp(r->head + r->head_len - 4, "\r\n\r\n", 4) == 0) {
                    r->head[r->head_len] = '\0';
                    if (parse_head(r) != 0) return -1;
                    break;
                }
            }
            break;
        }
        case P_BODY_LEN: {
            size_t take = n - i;
            if (take > r->remaining) take = (size_t)r->remaining;
            body(r, b + i, take);
            i += take;
            r->remaining -= take;
            if (r->remaining == 0) r->state = P_DONE;
            break;
        }
        case P_BODY_CLOSE:
            body(r, b + i, n - i);
            i = n;
            break;
        case P_CHUNK_SIZE:
        case P_TRAILER: {
            char c = b[i++];
            if (c == '\n') {
                if (r->line_len > 0 && r->line[r->line_len - 1] == '\r') r->line_len--;
                r->line[r->line_len] = '\0';
                if (r->state == P_TRAILER) {
                    if (r->line_len == 0) r->state = P_DONE;
                } else {
                    char *e;
                    unsigned long long sz = strtoull(r->line, &e, 16);
                    if (e == r->line || (*e && *e != ';')) return -1;
                    if (sz == 0) {
                        r->state = P_TRAILER;
                    } else {
                        r->remaining = sz;
                        r->state = P_CHUNK_DATA;
                    }
                }
                r->line_len = 0;
            } else {
                if (r->line_len >= sizeof r->line - 1) return -1;
                r->line[r->line_len++] = c;
            }
            break;
        }
        case P_CHUNK_DATA: {
            size_t take = n - i;
            if (take > r->remaining) take = (size_t)r->remaining;
            body(r, b + i, take);
            i += take;
            r->remaining -= take;
            if (r->remaining == 0) { r->state = P_CHUNK_CRLF; r->line_len = 0; }
            break;
        }
        case P_CHUNK_CRLF:
            if (b[i] == '\n') r->state = P_CHUNK_SIZE;
            else if (b[i] != '\r') return -1;
            i++;
            break;
        default:
            return -1;
        }
    }
    return (long)i;
}

/* ---- statistics -------------------------------------------------------- */

typedef struct samples {
    double *v;
    size_t n, cap;
} samples;

static void sample_add(samples *s, double v)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        double *nv = realloc(s->v, cap * sizeof *nv);
        if (!nv) die("out of memory");
        s->v = nv;
        s->cap = cap;
    }
    s->v[s->n++] = v;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Prints "<name>_p50_ms <v>" etc. (nearest-rank percentiles). */
static void sample_print(samples *s, const char *name)
{
    if (s->n == 0) { printf("%s_n 0\n", name); return; }
    qsort(s->v, s->n, sizeof *s->v, cmp_double);
    size_t i50 = (size_t)(0.50 * (double)s->n), i99 = (size_t)(0.99 * (double)s->n);
    if (i50 >= s->n) i50 = s->n - 1;
    if (i99 >= s->n) i99 = s->n - 1;
    printf("%s_n %zu\n%s_p50_ms %.2f\n%s_p99_ms %.2f\n%s_max_ms %.2f\n", name, s->n,
           name, s->v[i50] * 1e3, name, s->v[i99] * 1e3, name, s->v[s->n - 1] * 1e3);
}

/* ---- page: one reader through the whole dataset ----------------------- */

typedef struct line_count {
    unsigned long long lines;
} line_count;

static void count_lines(void *u, const char *b, size_t n)
{
    line_count *lc = u;
    const char *p = b, *end = b + n;
    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) { lc->lines++; p++; }
}

/* Reads one response on a blocking socket; *first gets the time of the
 * first byte.  Returns 0, or -1 when the server closed before a byte
 * (a keep-alive connection it had closed: reconnect and resend). */
static int read_resp(int fd, resp *r, double *first, char *buf, size_t cap)
{
    int got_any = 0;
    for (;;) {
        ssize_t n = read(fd, buf, cap);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) die("read: %s", strerror(errno));
        if (n == 0) {
            if (!got_any) return -1;
            if (r->state == P_BODY_CLOSE) { r->state = P_DONE; return 0; }
            die("connection closed mid-response");
        }
        if (!got_any) { *first = now_s(); got_any = 1; }
        long used = resp_feed(r, buf, (size_t)n);
        if (used < 0) die("malformed response");
        if (r->state == P_DONE) {
            if ((size_t)used != (size_t)n) die("bytes after the response (no pipelining asked)");
            return 0;
        }
    }
}

static int run_page(const opts *o)
{
    static char buf[1 << 20];
    static resp r;
    char target[1024], req[REQ_MAX], cursor[CURSOR_MAX] = "";
    line_count lc = {0};
    samples first = {0}, last = {0};
    unsigned long long bytes = 0, pages = 0;
    if (!o->path) usage();
    if (o->after) snprintf(cursor, sizeof cursor, "%s", o->after);
    int fd = connect_to(o, 0, 0);
    r.cb = count_lines;
    r.cb_u = &lc;
    double t0 = now_s();
    for (;;) {
        unsigned long long before = lc.lines;
        snprintf(target, sizeof target, "%s?limit=%u%s%s", o->path, o->limit,
                 cursor[0] ? "&after=" : "", cursor);
        size_t len = build_req(o, req, sizeof req, target);
        resp_reset(&r);
        double ts = now_s(), tf = 0;
        write_all(fd, req, len);
        if (read_resp(fd, &r, &tf, buf, sizeof buf) != 0) {
            close(fd);
            fd = connect_to(o, 0, 0);
            resp_reset(&r);
            ts = now_s();
            write_all(fd, req, len);
            if (read_resp(fd, &r, &tf, buf, sizeof buf) != 0) die("server closed twice");
        }
        double te = now_s();
        if (r.status != 200) die("page %llu: status %d", pages, r.status);
        if (!r.cursor[0]) die("page %llu: no Sluice-Next-Cursor", pages);
        pages++;
        bytes += r.body_bytes;
        sample_add(&first, tf - ts);
        sample_add(&last, te - ts);
        snprintf(cursor, sizeof cursor, "%s", r.cursor);
        if (r.close) { close(fd); fd = connect_to(o, 0, 0); }
        if (lc.lines == before) break;                     /* the empty page */
        if (o->max_n > 0 && lc.lines >= (unsigned long long)o->max_n) break;
    }
    double el = now_s() - t0;
    close(fd);
    printf("lines %llu\npages %llu\nbytes %llu\nseconds %.3f\nlines_per_s %.0f\nMB_per_s %.1f\n",
           lc.lines, pages, bytes, el, (double)lc.lines / el, (double)bytes / el / 1e6);
    sample_print(&first, "first_byte");
    sample_print(&last, "last_byte");
    free(first.v);
    free(last.v);
    return 0;
}

/* ---- get: C keep-alive connections, requests in turn -------------------- */

typedef struct conn {
    int fd;
    resp r;
    char req[REQ_MAX];
    double sent_at;
    size_t next_path;
} conn;

static char **read_paths(const char *file, size_t *n)
{
    FILE *f = fopen(file, "r");
    char line[4096];
    char **v = NULL;
    size_t cap = 0;
    *n = 0;
    if (!f) die("%s: %s", file, strerror(errno));
    while (fgets(line, sizeof line, f)) {
        size_t l = strcspn(line, "\r\n");
        line[l] = '\0';
        if (!l) continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 256;
            char **nv = realloc(v, cap * sizeof *nv);
            if (!nv) die("out of memory");
            v = nv;
        }
        if (!(v[(*n)++] = strdup(line))) die("out of memory");
    }
    fclose(f);
    if (*n == 0) die("%s: no paths", file);
    return v;
}

static void conn_open(const opts *o, conn *c, unsigned i, int ep)
{
    c->fd = connect_to(o, i, 1);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) die("epoll_ctl: %s", strerror(errno));
}

static void conn_send(const opts *o, conn *c, char **paths, size_t n_paths, size_t step)
{
    /* A request is a few hundred bytes: the socket buffer takes it at
     * once (write_all polls in the rare other case). */
    size_t len = build_req(o, c->req, sizeof c->req, paths[c->next_path % n_paths]);
    c->next_path += step;
    resp_reset(&c->r);
    c->sent_at = now_s();
    write_all(c->fd, c->req, len);
}

static int run_get(const opts *o)
{
    size_t n_paths;
    char **paths = read_paths(o->paths_file, &n_paths);
    static char buf[1 << 20];
    conn *cs = calloc(o->conns, sizeof *cs);
    samples lat = {0};
    unsigned long long done = 0, bytes = 0, status[6] = {0}, reconnects = 0;
    int ep = epoll_create1(0);
    if (!cs || ep < 0) die("setup: %s", strerror(errno));
    for (unsigned i = 0; i < o->conns; i++) {
        conn_open(o, &cs[i], i, ep);
        cs[i].next_path = i;
        conn_send(o, &cs[i], paths, n_paths, o->conns);
    }
    double t0 = now_s(), end = t0 + o->duration;
    struct epoll_event evs[256];
    while (!g_stop) {
        double t = now_s();
        if (t >= end || (o->max_n > 0 && done >= (unsigned long long)o->max_n)) break;
        int ne = epoll_wait(ep, evs, 256, 100);
        if (ne < 0 && errno == EINTR) continue;
        if (ne < 0) die("epoll_wait: %s", strerror(errno));
        for (int k = 0; k < ne; k++) {
            conn *c = evs[k].data.ptr;
            for (;;) {
                ssize_t n = read(c->fd, buf, sizeof buf);
                if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
                if (n <= 0) {
                    /* Closed: a finished close-delimited body, or a
                     * keep-alive connection the server ended; resend. */
                    if (n == 0 && c->r.state == P_BODY_CLOSE) c->r.state = P_DONE;
                    if (c->r.state == P_DONE) goto complete;
                    if (c->r.state != P_HEAD || c->r.head_len != 0)
                        die("connection closed mid-response (%s)", n < 0 ? strerror(errno) : "EOF");
                    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                    close(c->fd);
                    reconnects++;
                    conn_open(o, c, (unsigned)(c - cs), ep);
                    c->next_path -= o->conns;
                    conn_send(o, c, paths, n_paths, o->conns);
                    break;
                }
                long used = resp_feed(&c->r, buf, (size_t)n);
                if (used < 0) die("malformed response");
                if (c->r.state != P_DONE) continue;
                if ((size_t)used != (size_t)n) die("bytes after the response");
            complete:
                sample_add(&lat, now_s() - c->sent_at);
                done++;
                bytes += c->r.body_bytes;
                status[c->r.status / 100]++;
                if (c->r.close) {
                    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                    close(c->fd);
                    reconnects++;
                    conn_open(o, c, (unsigned)(c - cs), ep);
                }
                conn_send(o, c, paths, n_paths, o->conns);
                break;
            }
        }
    }
    double el = now_s() - t0;
    printf("requests %llu\nseconds %.3f\nrequests_per_s %.0f\nbytes %llu\nMB_per_s %.1f\n"
           "GB_per_s %.3f\nstatus_2xx %llu\nstatus_3xx %llu\nstatus_4xx %llu\nstatus_5xx %llu\n"
           "reconnects %llu\n", done, el, (double)done / el, bytes, (double)bytes / el / 1e6,
           (double)bytes / el / 1e9, status[2], status[3], status[4], status[5], reconnects);
    sample_print(&lat, "latency");
    for (unsigned i = 0; i < o->conns; i++) close(cs[i].fd);
    for (size_t i = 0; i < n_paths; i++) free(paths[i]);
    free(paths);
    free(cs);
    free(lat.v);
    close(ep);
    return 0;
}

/* ---- tail: one long-polling reader ----------------------------------------- */

typedef struct tail_state {
    char line[LINE_MAX_B];
    size_t len;
    int overflow;
    unsigned long long lines;
} tail_state;

/* Prints the receive time and upload_id of each complete line. */
static void tail_lines(void *u, const char *b, size_t n)
{
    tail_state *t = u;
    long long at = wall_us();
    for (size_t i = 0; i < n; i++) {
        if (b[i] != '\n') {
            if (t->len < sizeof t->line - 1) t->line[t->len++] = b[i];
            else t->overflow = 1;
            continue;
        }
        t->line[t->len] = '\0';
        if (t->overflow) die("a line longer than %d bytes", LINE_MAX_B);
        const char *k = strstr(t->line, "\"upload_id\":");
        if (!k) die("a line without upload_id: %.200s", t->line);
        k += 12;
        while (*k == ' ') k++;
        if (*k != '"') die("upload_id is not a string");
        const char *e = strchr(k + 1, '"');
        if (!e) die("unterminated upload_id");
        printf("%lld %.*s\n", at, (int)(e - k - 1), k + 1);
        t->lines++;
        t->len = 0;
    }
    fflush(stdout);
}

static int run_tail(const opts *o)
{
    static char buf[1 << 16];
    static resp r;
    static tail_state ts;
    char target[1024], req[REQ_MAX], cursor[CURSOR_MAX] = "";
    if (!o->path) usage();
    if (o->after) snprintf(cursor, sizeof cursor, "%s", o->after);
    int fd = connect_to(o, 0, 0);
    r.cb = tail_lines;
    r.cb_u = &ts;
    double end = now_s() + o->duration;
    while (!g_stop && now_s() < end &&
           !(o->max_n > 0 && ts.lines >= (unsigned long long)o->max_n)) {
        snprintf(target, sizeof target, "%s?limit=%u&wait=%u%s%s", o->path, o->limit,
                 o->wait_s, cursor[0] ? "&after=" : "", cursor);
        size_t len = build_req(o, req, sizeof req, target);
        double tf;
        resp_reset(&r);
        write_all(fd, req, len);
        if (read_resp(fd, &r, &tf, buf, sizeof buf) != 0) {
            close(fd);
            fd = connect_to(o, 0, 0);
            continue;
        }
        if (r.status != 200) die("tail: status %d", r.status);
        if (!r.cursor[0]) die("tail: no Sluice-Next-Cursor");
        snprintf(cursor, sizeof cursor, "%s", r.cursor);
        if (r.close) { close(fd); fd = connect_to(o, 0, 0); }
    }
    close(fd);
    fprintf(stderr, "feed_load tail: %llu lines, last cursor %s\n", ts.lines, cursor);
    return 0;
}

/* ---- hold: C idle long-pollers -------------------------------------------- */

static int run_hold(const opts *o)
{
    char target[1024], req[REQ_MAX], buf[4096];
    if (!o->path) usage();
    snprintf(target, sizeof target, "%s?limit=%u&wait=%u%s%s", o->path, o->limit ? o->limit : 1,
             o->wait_s, o->after ? "&after=" : "", o->after ? o->after : "");
    size_t len = build_req(o, req, sizeof req, target);
    int *fds = calloc(o->conns, sizeof *fds);
    if (!fds) die("out of memory");
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < o->conns + 64) {
        rl.rlim_cur = rl.rlim_max < o->conns + 64 ? rl.rlim_max : o->conns + 64;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) die("RLIMIT_NOFILE: %s", strerror(errno));
    }
    for (unsigned i = 0; i < o->conns; i++) {
        fds[i] = connect_to(o, i, 0);
        write_all(fds[i], req, len);
    }
    printf("held %u\n", o->conns);
    fflush(stdout);
    /* Until SIGTERM or stdin closes; a pollfd per connection so an answer
     * (a wait that ended, an error) is counted. */
    struct pollfd *p = calloc(o->conns + 1, sizeof *p);
    unsigned long long answered = 0, closed = 0;
    if (!p) die("out of memory");
    for (unsigned i = 0; i < o->conns; i++) p[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
    p[o->conns] = (struct pollfd){.fd = 0, .events = POLLIN};
    while (!g_stop) {
        int n = poll(p, o->conns + 1, 1000);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) die("poll: %s", strerror(errno));
        if (p[o->conns].revents) {
            ssize_t r = read(0, buf, sizeof buf);
            if (r <= 0) break;
        }
        for (unsigned i = 0; i < o->conns; i++) {
            if (!p[i].revents) continue;
            ssize_t r = read(fds[i], buf, sizeof buf);
            if (r > 0) {
                if (strncmp(buf, "HTTP/1.", 7) == 0) answered++;
            } else {
                closed++;
                p[i].fd = -1;
            }
        }
    }
    printf("answered_early %llu\nclosed_early %llu\n", answered, closed);
    for (unsigned i = 0; i < o->conns; i++) close(fds[i]);
    free(fds);
    free(p);
    return 0;
}

int main(int argc, char **argv)
{
    opts o = {.conns = 1, .limit = 1000, .wait_s = 30, .duration = 10};
    int c;
    const char *url = NULL;
    if (argc < 2) usage();
    o.mode = argv[1];
    optind = 2;
    while ((c = getopt(argc, argv, "u:a:p:f:A:c:l:w:d:n:S")) != -1) {
        switch (c) {
        case 'u': url = optarg; break;
        case 'a': o.auth = *optarg ? optarg : NULL; break;
        case 'p': o.path = optarg; break;
        case 'f': o.paths_file = optarg; break;
        case 'A': o.after = optarg; break;
        case 'c': o.conns = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'l': o.limit = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'w': o.wait_s = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'd': o.duration = strtod(optarg, NULL); break;
        case 'n': o.max_n = strtoll(optarg, NULL, 10); break;
        case 'S': o.spread_src = 1; break;
        default: usage();
        }
    }
    if (!url || o.conns == 0) usage();
    parse_url(&o, url);
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (strcmp(o.mode, "page") == 0) return run_page(&o);
    if (strcmp(o.mode, "get") == 0) {
        if (!o.paths_file) usage();
        return run_get(&o);
    }
    if (strcmp(o.mode, "tail") == 0) return run_tail(&o);
    if (strcmp(o.mode, "hold") == 0) return run_hold(&o);
    usage();
    return 2;
}
