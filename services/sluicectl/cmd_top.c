/*
 * cmd_top.c -- `sluicectl top`: throughput, dead letters, lag and
 * readiness of each process, live, from their GET /metrics and /ready
 * (docs/metrics.md), without a Prometheus server.
 *
 * The processes' addresses come from the environment stack.env exports
 * (SLUICE_METRICS_VALIDATE=127.0.0.1:PORT, ...) or from --endpoint
 * NAME=ADDR:PORT.  Every --interval seconds each is scraped over a short
 * HTTP/1.0 GET (a 2 s timeout, the answer capped at 16 MiB) and the
 * counters' increase since the last scrape is shown per second.  On a
 * terminal the table is redrawn in place; otherwise frames follow each
 * other.  --once prints one frame, after one interval (rates need two
 * scrapes), and exits: 0 when every process answered, 1 otherwise.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "top.h"

#define TOP_MAX_PROCS 32
#define TOP_BODY_MAX ((size_t)16 << 20)
/* Per request, as Prometheus's default scrape_timeout: a stage answers
 * between polls, and a busy one (a transaction committing under load)
 * may take seconds. */
#define TOP_TIMEOUT_MS 10000

static const char top_usage[] =
    "usage: sluicectl top [--interval SECONDS] [--once] [--endpoint NAME=ADDR:PORT]...\n"
    "Throughput, dead letters, lag and readiness of each process, refreshed in\n"
    "place, from their /metrics and /ready (metrics.listen).  Addresses: the\n"
    "environment's SLUICE_METRICS_<NAME> (stack.env), or --endpoint.\n"
    "  --interval S   seconds between refreshes (1..3600, default 2)\n"
    "  --once         one frame after one interval, then exit\n";

static const char *const known[] = {
    "validate", "scan", "license", "commit", "review", "feed", "ledger", NULL
};

typedef struct proc {
    char name[64];
    char addr[128];            /* host:port, [v6]:port */
    ctl_top_sample prev, cur;
    int have_prev, ok;
    char ready[80];            /* "yes", "no (reason)", "no answer" */
} proc;

static volatile sig_atomic_t top_stop;

static void on_int(int sig)
{
    (void)sig;
    top_stop = 1;
}

/* Splits "host:port" / "[v6]:port". */
static int split_addr(const char *a, char *host, size_t n, char *port, size_t pn)
{
    const char *colon;
    size_t hl;

    if (*a == '[') {
        const char *rb = strchr(a, ']');
        if (!rb || rb[1] != ':')
            return -1;
        hl = (size_t)(rb - a - 1);
        a++;
        colon = rb + 1;
    } else {
        if (!(colon = strrchr(a, ':')))
            return -1;
        hl = (size_t)(colon - a);
    }
    if (!hl || hl >= n || !colon[1] || strlen(colon + 1) >= pn)
        return -1;
    memcpy(host, a, hl);
    host[hl] = '\0';
    snprintf(port, pn, "%s", colon + 1);
    return 0;
}

/* GET path from addr: the body of a response whose status is 200 or 503
 * into out (reset; capped).  0, or -1 with nothing usable. */
static int http_get(const char *addr, const char *path, sl_buf *out, int *status)
{
    char host[100], port[16], req[256];
    struct addrinfo hints, *ai = NULL;
    int fd = -1, rc = -1;
    int64_t deadline = sl_mono_ms() + TOP_TIMEOUT_MS;
    char *p;

    sl_buf_reset(out);
    if (split_addr(addr, host, sizeof(host), port, sizeof(port)) != 0)
        return -1;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    if (getaddrinfo(host, port, &hints, &ai) != 0 || !ai)
        return -1;
    if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
        connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)
        goto out;
    snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", path, addr);
    if (write(fd, req, strlen(req)) != (ssize_t)strlen(req))
        goto out;
    for (;;) {
        struct pollfd pfd = { fd, POLLIN, 0 };
        int64_t left = deadline - sl_mono_ms();
        ssize_t n;
        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
            goto out;
        if (sl_buf_reserve(out, 65536) != SL_OK)
            goto out;
        n = read(fd, out->data + out->len, 65536);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto out;
        if (n == 0)
            break;
        out->len += (size_t)n;
    }
    if (sl_buf_cstr(out) != SL_OK || out->len < 12 ||
        strncmp((char *)out->data, "HTTP/1.", 7) != 0)
        goto out;
    *status = atoi((char *)out->data + 9);
    if (!(p = strstr((char *)out->data, "\r\n\r\n")))
        goto out;
    p += 4;
    out->len -= (size_t)(p - (char *)out->data);
    memmove(out->data, p, out->len + 1);
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    freeaddrinfo(ai);
    return rc;
}

/* The "reason" of a /ready body, reduced to [a-z_]. */
static void ready_text(const char *body, int status, char *out, size_t n)
{
    const char *r = strstr(body, "\"reason\":\"");
    char reason[48];
    size_t k = 0;

    if (status == 200) {
        snprintf(out, n, "yes");
        return;
    }
    if (r)
        for (r += 10; *r && *r != '"' && k + 1 < sizeof(reason); r++)
            if ((*r >= 'a' && *r <= 'z') || *r == '_')
                reason[k++] = *r;
    reason[k] = '\0';
    snprintf(out, n, "no (%s)", k ? reason : "?");
}

static void scrape(proc *p, sl_buf *b)
{
    int status = 0;

    p->prev = p->cur;
    p->have_prev = p->ok;
    p->ok = 0;
    if (http_get(p->addr, "/metrics", b, &status) == 0 && status == 200) {
        ctl_top_parse((const char *)b->data, b->len, &p->cur);
        p->ok = 1;
    }
    if (http_get(p->addr, "/ready", b, &status) == 0)
        ready_text((const char *)b->data, status, p->ready, sizeof(p->ready));
    else
        snprintf(p->ready, sizeof(p->ready), "no answer");
}

/* "%9.1f" of the increase per second, or "-". */
static void rate(char *out, size_t n, int ok, double now, double before, double secs)
{
    if (!ok || secs <= 0)
        snprintf(out, n, "%9s", "-");
    else
        snprintf(out, n, "%9.1f", (now >= before ? now - before : 0) / secs);
}

static void frame(proc *ps, size_t n, double secs, int interval, int tty)
{
    char ts[32], in[16], out[16], rej[16], req[16];
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (tty)
        fputs("\033[H\033[J", stdout);
    printf("sluicectl top  %s  every %d s%s\n", ts, interval, tty ? "  (ctrl-c quits)" : "");
    printf("%-10s %-30s %9s %9s %9s %9s %5s %7s %9s\n", "PROCESS", "READY", "IN/s",
           "OUT/s", "REJECT/s", "LAG", "PARTS", "ABORTS", "REQ/s");
    for (size_t i = 0; i < n; i++) {
        proc *p = &ps[i];
        int both = p->ok && p->have_prev;
        /* commit's output is rows in PostgreSQL */
        double o = p->cur.rows > 0 || strcmp(p->name, "commit") == 0 ? p->cur.rows : p->cur.out;
        double ob = p->cur.rows > 0 || strcmp(p->name, "commit") == 0 ? p->prev.rows : p->prev.out;
        int stage = p->ok && p->cur.has_stage;

        rate(in, sizeof(in), both && stage, p->cur.in, p->prev.in, secs);
        rate(out, sizeof(out), both && stage, o, ob, secs);
        rate(rej, sizeof(rej), both && stage, p->cur.rejects, p->prev.rejects, secs);
        rate(req, sizeof(req), both && p->cur.has_http, p->cur.requests, p->prev.requests, secs);
        if (stage)
            printf("%-10s %-30s %s %s %s %9.0f %5.0f %7.0f %s\n", p->name, p->ready, in,
                   out, rej, p->cur.lag, p->cur.partitions, p->cur.aborts, req);
        else
            printf("%-10s %-30s %s %s %s %9s %5s %7s %s\n", p->name, p->ready, in, out,
                   rej, "-", "-", "-", req);
    }
    fflush(stdout);
}

static int add_proc(proc *ps, size_t *n, const char *name, const char *addr)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(ps[i].name, name) == 0) {
            snprintf(ps[i].addr, sizeof(ps[i].addr), "%s", addr);
            return 0;
        }
    if (*n == TOP_MAX_PROCS || strlen(name) >= sizeof(ps[0].name) ||
        strlen(addr) >= sizeof(ps[0].addr))
        return -1;
    memset(&ps[*n], 0, sizeof(ps[*n]));
    snprintf(ps[*n].name, sizeof(ps[*n].name), "%s", name);
    snprintf(ps[*n].addr, sizeof(ps[*n].addr), "%s", addr);
    (*n)++;
    return 0;
}

int ctl_cmd_top(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG,
        { "interval", required_argument, NULL, 'i' },
        { "once", no_argument, NULL, '1' },
        { "endpoint", required_argument, NULL, 'e' },
        { 0 }
    };
    proc *ps = calloc(TOP_MAX_PROCS, sizeof(*ps));
    size_t n = 0;
    int once = 0, interval = 2, opt, tty, rc = CTL_OK;
    int64_t last = 0;
    sl_buf b;
    struct sigaction sa;

    if (!ps)
        return ctl_fail("out of memory");
    for (size_t i = 0; known[i]; i++) {
        char var[64];
        const char *v;
        snprintf(var, sizeof(var), "SLUICE_METRICS_%s", known[i]);
        for (char *q = var; *q; q++)
            *q = (char)(*q >= 'a' && *q <= 'z' ? *q - 32 : *q);
        if ((v = getenv(var)) && *v && add_proc(ps, &n, known[i], v) != 0) {
            free(ps);
            return ctl_fail("%s: address too long", var);
        }
    }
    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts, "top",
                             top_usage)) != -1) {
        if (opt == 'i') {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 3600) {
                free(ps);
                return ctl_usage_error("top", "--interval wants 1 to 3600 seconds");
            }
            interval = (int)v;
        } else if (opt == '1') {
            once = 1;
        } else if (opt == 'e') {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg) {
                free(ps);
                return ctl_usage_error("top", "--endpoint wants NAME=ADDR:PORT");
            }
            *eq = '\0';
            if (add_proc(ps, &n, optarg, eq + 1) != 0) {
                free(ps);
                return ctl_usage_error("top", "too many endpoints, or too long");
            }
        } else {
            free(ps);
            return ctl_getopt_exit(opt);
        }
    }
    if (optind < argc) {
        free(ps);
        return ctl_usage_error("top", "unexpected argument \"%s\"", argv[optind]);
    }
    if (!n) {
        free(ps);
        return ctl_usage_error("top", "no process to watch: source stack.env "
                               "(SLUICE_METRICS_*) or pass --endpoint NAME=ADDR:PORT");
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_int;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    tty = !once && isatty(STDOUT_FILENO);
    sl_buf_init(&b, TOP_BODY_MAX);
    for (int round = 0; !top_stop; round++) {
        int64_t now = sl_mono_ms();
        for (size_t i = 0; i < n; i++)
            scrape(&ps[i], &b);
        if (!once || round == 1)
            frame(ps, n, last ? (double)(now - last) / 1000.0 : 0, interval, tty);
        last = now;
        if (once && round == 1) {
            for (size_t i = 0; i < n; i++)
                if (!ps[i].ok)
                    rc = ctl_fail("top: %s (%s): /metrics did not answer",
                                  ps[i].name, ps[i].addr);
            break;
        }
        for (int s = 0; s < interval * 10 && !top_stop; s++)
            usleep(100000);
        if (!tty && !once)
            putchar('\n');
    }
    sl_buf_free(&b);
    free(ps);
    return rc;
}
