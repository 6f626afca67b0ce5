/*
 * ctl.c -- sluicectl's shared plumbing (see ctl.h): global options and the
 * layered config, subcommand dispatch, getopt with the global options
 * folded in, error messages, file reading, PostgreSQL connection, JSON
 * output and aligned plain-text tables.
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl/log.h"
#include "sl/pg.h"
#include "ctl.h"

/* sluicectl's own options; kafka.* and pg.dsn pass through. */
static const sl_cfg_entry ctl_config_map[] = {
    { SL_CFG_STR, "topic.prefix", "",
      "prefix of every topic and consumer group name" },
    { SL_CFG_STR, "log.level", "error",
      "error|warn|info|debug for library and librdkafka logs (-v: debug)" },
    { SL_CFG_INT, "timeout.ms", "15000",
      "timeout of each Kafka admin, metadata and offset request" },
    { SL_CFG_INT, "topic.retention.ms", "604800000",
      "`topics create`: retention.ms of sluice.uploads and the intermediate "
      "topics (7 days; -1 keeps for ever)" },
    { SL_CFG_INT, "topic.retention.bytes", "-1",
      "`topics create`: retention.bytes per partition of those (-1: no limit)" },
    { SL_CFG_INT, "topic.rejected.retention.ms", "2592000000",
      "`topics create`: retention.ms of sluice.rejected (30 days)" },
    { SL_CFG_INT, "topic.rejected.retention.bytes", "-1",
      "`topics create`: retention.bytes per partition of sluice.rejected" },
    { SL_CFG_SIZE, "upload.max.bytes", "16m",
      "largest file `upload` sends (the topics take 16 MiB messages)" },
    { SL_CFG_STR, "secrets.key.file", "secrets.key",
      "key file sealing HMAC secrets at rest (`creator add` creates it, "
      "mode 0600); validate reads the same file" },
    { SL_CFG_STR, "audit.operator.key.file", "sluice-operator-audit.key",
      "Ed25519 key with which `takedown add` signs the chain heads it "
      "extends (created 0600 at first use; keep it with the operator)" },
    { SL_CFG_STR, "feed.base.url", "",
      "`dataset manifest`: absolute base of the feed's URLs, as sluice-feed "
      "has it (empty: http://127.0.0.1:8480)" },
    { SL_CFG_STR, "feed.url.key.file", "",
      "`dataset manifest --consumer`: sluice-feed's URL key, to sign content "
      "URLs (empty: URLs that need a token)" },
    { SL_CFG_INT, "feed.url.ttl.s", "3600",
      "`dataset manifest --consumer`: how long signed content URLs work" },
    SL_CFG_END
};

void ctl_free(ctl *c)
{
    free(c->overrides);
    c->overrides = NULL;
    sl_config_destroy(c->cfg);
    c->cfg = NULL;
}

int ctl_common_opt(ctl *c, int opt, const char *arg)
{
    switch (opt) {
    case 'c':
        c->config_file = arg;
        return 1;
    case 'v':
        c->verbose = 1;
        return 1;
    case 'X':
        if (c->n_overrides == c->cap_overrides) {
            size_t ncap = c->cap_overrides ? 2 * c->cap_overrides : 8;
            const char **p = realloc(c->overrides, ncap * sizeof(*p));
            if (!p)
                return -1;
            c->overrides = p;
            c->cap_overrides = ncap;
        }
        c->overrides[c->n_overrides++] = arg;
        return 1;
    default:
        return 0;
    }
}

int ctl_load_config(ctl *c)
{
    const char *file = c->config_file ? c->config_file : getenv("SLUICE_CONFIG");
    sl_err err = { "" };
    int lvl;

    if (c->cfg)
        return CTL_OK;
    if (!(c->cfg = sl_config_new()) ||
        sl_config_declare(c->cfg, ctl_config_map) != SL_OK)
        return ctl_fail("out of memory");
    if (file && *file && sl_config_load_file(c->cfg, file, &err) != SL_OK)
        return ctl_fail("config: %s", err.msg);
    if (sl_config_load_env(c->cfg, &err) != SL_OK)
        return ctl_fail("config: %s", err.msg);
    for (size_t i = 0; i < c->n_overrides; i++) {
        char kv[4096], *eq;
        snprintf(kv, sizeof(kv), "%s", c->overrides[i]);
        if (!(eq = strchr(kv, '=')))
            return ctl_usage_error("-X", "\"%s\": expected key=value", kv);
        *eq = '\0';
        if (sl_config_set(c->cfg, kv, eq + 1, &err) != SL_OK)
            return ctl_usage_error("-X", "%s", err.msg);
    }
    if (c->verbose && sl_config_set(c->cfg, "log.level", "debug", &err) != SL_OK)
        return ctl_fail("config: %s", err.msg);
    if ((lvl = sl_log_parse_level(sl_config_get(c->cfg, "log.level"))) < 0)
        return ctl_fail("config key \"log.level\": \"%s\" is not one of "
                        "error, warn, info, debug",
                        sl_config_get(c->cfg, "log.level"));
    sl_log_set_level((sl_log_level)lvl);
    return CTL_OK;
}

void ctl_print_config_help(FILE *out)
{
    sl_config *cfg = sl_config_new();

    if (cfg && sl_config_declare(cfg, ctl_config_map) == SL_OK)
        sl_config_print_help(cfg, out);
    sl_config_destroy(cfg);
}

void ctl_print_subs(FILE *out, const char *usage, const ctl_cmd *subs)
{
    size_t w = 10;   /* the summaries line up past the longest name */

    for (const ctl_cmd *s = subs; s->name; s++)
        if (strlen(s->name) > w)
            w = strlen(s->name);
    fputs(usage, out);
    fputs("\nCommands:\n", out);
    for (const ctl_cmd *s = subs; s->name; s++)
        fprintf(out, "  %-*s %s\n", (int)w, s->name, s->summary);
    fputs("\nEach command takes --help.\n" CTL_COMMON_HELP, out);
}

int ctl_dispatch(ctl *c, const char *cmd, const ctl_cmd *subs, int argc,
                 char **argv, const char *usage)
{
    if (argc < 2) {
        ctl_print_subs(stderr, usage, subs);
        return CTL_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        ctl_print_subs(stdout, usage, subs);
        return CTL_OK;
    }
    for (const ctl_cmd *s = subs; s->name; s++)
        if (strcmp(argv[1], s->name) == 0)
            return s->fn(c, argc - 1, argv + 1);
    return ctl_usage_error(cmd, "unknown command \"%s\"", argv[1]);
}

void ctl_getopt_start(void)
{
    optind = 0;   /* GNU getopt: full re-initialisation for a new argv */
    opterr = 0;   /* ctl_getopt words the error itself */
}

int ctl_getopt(ctl *c, int argc, char **argv, const char *shortopts,
               const struct option *longopts, const char *cmd,
               const char *usage)
{
    for (;;) {
        int opt = getopt_long(argc, argv, shortopts, longopts, NULL);
        int handled;

        if (opt == 'h') {
            fputs(usage, stdout);
            fputs("\n" CTL_COMMON_HELP, stdout);
            return -2;
        }
        if (opt == '?' || opt == ':') {
            fprintf(stderr, "sluicectl %s: unknown option, or one missing "
                    "its value: \"%s\"\nTry 'sluicectl %s --help'.\n", cmd,
                    optind > 0 && optind <= argc ? argv[optind - 1] : "?", cmd);
            return -3;
        }
        if (opt == -1)
            return -1;
        handled = ctl_common_opt(c, opt, optarg);
        if (handled < 0) {
            fprintf(stderr, "sluicectl: out of memory\n");
            return -4;
        }
        if (!handled)
            return opt;
    }
}

int ctl_getopt_exit(int opt)
{
    return opt == -2 ? CTL_OK : opt == -3 ? CTL_USAGE : CTL_FAIL;
}

int ctl_fail(const char *fmt, ...)
{
    va_list ap;

    fputs("sluicectl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CTL_FAIL;
}

int ctl_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "sluicectl %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'sluicectl %s --help'.\n", cmd);
    return CTL_USAGE;
}

int ctl_parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
    char *end;
    long long v;

    if (!s || !*s)
        return SL_EINVAL;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return SL_EINVAL;
    *out = v;
    return SL_OK;
}

int ctl_read_file(const char *path, size_t max, uint8_t **out, size_t *len,
                  sl_err *err)
{
    struct stat st;
    uint8_t *data = NULL;
    size_t got = 0, size;
    int fd, rc = SL_EIO;

    *out = NULL;
    *len = 0;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        sl_err_set(err, "cannot open %s: %s", path, strerror(errno));
        return SL_EIO;
    }
    if (fstat(fd, &st) != 0) {
        sl_err_set(err, "cannot stat %s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        sl_err_set(err, "%s is not a regular file", path);
        rc = SL_EINVAL;
        goto out;
    }
    if ((uint64_t)st.st_size > max) {
        sl_err_set(err, "%s is %lld bytes, over the limit of %zu bytes",
                   path, (long long)st.st_size, max);
        rc = SL_ETOOBIG;
        goto out;
    }
    size = (size_t)st.st_size;
    if (!(data = malloc(size ? size : 1))) {
        sl_err_set(err, "out of memory reading %s", path);
        rc = SL_ENOMEM;
        goto out;
    }
    while (got < size) {
        ssize_t n = read(fd, data + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            sl_err_set(err, "cannot read %s: %s", path, strerror(errno));
            goto out;
        }
        if (n == 0) {
            sl_err_set(err, "%s shrank while being read", path);
            goto out;
        }
        got += (size_t)n;
    }
    *out = data;
    *len = got;
    data = NULL;
    rc = SL_OK;
out:
    free(data);
    close(fd);
    return rc;
}

/* Server NOTICEs ("relation ... already exists, skipping") are not for
 * the operator's terminal: debug log only. */
static void notice_to_log(void *u, const char *msg)
{
    (void)u;
    sl_debug("pg", "%.*s", (int)strcspn(msg, "\n"), msg);
}

PGconn *ctl_pg_connect(ctl *c)
{
    sl_err err = { "" };
    PGconn *pg = sl_pg_connect(sl_config_get(c->cfg, "pg.dsn"), &err);

    if (pg)
        PQsetNoticeProcessor(pg, notice_to_log, NULL);
    if (!pg)
        ctl_fail("%s", err.msg);   /* sl_pg_connect trimmed libpq's newline */
    return pg;
}

PGresult *ctl_pg_query(PGconn *pg, const char *what, const char *sql,
                       int n, const char *const *vals, const int *lens,
                       const int *fmts)
{
    PGresult *r = PQexecParams(pg, sql, n, NULL, vals, lens, fmts, 0);
    ExecStatusType st = PQresultStatus(r);
    sl_err err;

    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return r;
    sl_pg_fail(pg, r, what, &err);
    PQclear(r);
    ctl_fail("%s", err.msg);
    return NULL;
}

int ctl_pg_exec(PGconn *pg, const char *what, const char *sql)
{
    PGresult *r = ctl_pg_query(pg, what, sql, 0, NULL, NULL, NULL);

    if (!r)
        return CTL_FAIL;
    PQclear(r);
    return CTL_OK;
}

int ctl_print_json(json_t *v)
{
    char *s;

    if (!v)
        return ctl_fail("out of memory building JSON output");
    /* Ten significant digits: a finding's score (two decimals) prints as
     * 0.65, not as the nearest double's 17 digits. */
    s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(v);
    if (!s)
        return ctl_fail("cannot encode JSON output");
    puts(s);
    free(s);
    return CTL_OK;
}

const char *ctl_operator(const char *by)
{
    const char *env;

    if (by && *by)
        return by;
    if ((env = getenv("SUDO_USER")) && *env)
        return env;
    if ((env = getenv("USER")) && *env)
        return env;
    return "operator";
}

int ctl_check_note(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;

    if (n < 1 || n > max)
        return SL_EINVAL;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return SL_EINVAL;
    return SL_OK;
}

/* ---- terminal text ----------------------------------------------------- */

/* Length of the UTF-8 sequence at p and its code point, or 0 when p does
 * not start a valid, shortest-form sequence of a scalar value. */
static size_t utf8_seq(const unsigned char *p, uint32_t *cp)
{
    size_t n;
    uint32_t c;

    if (p[0] >= 0xc2 && p[0] <= 0xdf) { n = 2; c = p[0] & 0x1f; }
    else if (p[0] >= 0xe0 && p[0] <= 0xef) { n = 3; c = p[0] & 0x0f; }
    else if (p[0] >= 0xf0 && p[0] <= 0xf4) { n = 4; c = p[0] & 0x07; }
    else return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;   /* also stops at the terminating NUL */
        c = (c << 6) | (p[i] & 0x3f);
    }
    if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
        (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return n;
}

/* Code points a terminal acts on or that reorder what is shown. */
static int unsafe_cp(uint32_t c)
{
    return (c >= 0x80 && c <= 0x9f) || c == 0x2028 || c == 0x2029 ||
           (c >= 0x200e && c <= 0x200f) || (c >= 0x202a && c <= 0x202e) ||
           (c >= 0x2066 && c <= 0x2069) || c == 0x061c;
}

char *ctl_escape(const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "-");
    size_t cap = strlen((const char *)p) * 6 + 1, o = 0;   /* "\u2028" per 3 bytes at most */
    char *out = malloc(cap);
    uint32_t cp;
    size_t n;

    if (!out)
        return NULL;
    while (*p) {
        if (*p == '\\') {
            memcpy(out + o, "\\\\", 2); o += 2; p++;
        } else if (*p == '\n') {
            memcpy(out + o, "\\n", 2); o += 2; p++;
        } else if (*p == '\t') {
            memcpy(out + o, "\\t", 2); o += 2; p++;
        } else if (*p == '\r') {
            memcpy(out + o, "\\r", 2); o += 2; p++;
        } else if (*p < 0x20 || *p == 0x7f) {
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", *p); p++;
        } else if (*p < 0x80) {
            out[o++] = (char)*p++;
        } else if (!(n = utf8_seq(p, &cp))) {
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", *p); p++;
        } else if (unsafe_cp(cp)) {
            o += (size_t)snprintf(out + o, cap - o, "\\u%04x", (unsigned)cp);
            p += n;
        } else {
            memcpy(out + o, p, n); o += n; p += n;
        }
    }
    out[o] = '\0';
    return out;
}

const char *ctl_e(ctl_esc *e, const char *s)
{
    char *x;

    if (e->n == e->cap) {
        size_t ncap = e->cap ? 2 * e->cap : 8;
        char **np = realloc(e->p, ncap * sizeof(*np));
        if (!np)
            return "(out of memory)";
        e->p = np;
        e->cap = ncap;
    }
    if (!(x = ctl_escape(s)))
        return "(out of memory)";
    e->p[e->n++] = x;
    return x;
}

void ctl_esc_free(ctl_esc *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->p[i]);
    free(e->p);
    e->p = NULL;
    e->n = e->cap = 0;
}

/* ---- tables ------------------------------------------------------------ */

struct ctl_table {
    size_t ncols, nrows, cap;
    const char *const *headers;
    char **cells;              /* nrows * ncols */
};

#define CTL_TABLE_MAXCOLS 16

ctl_table *ctl_table_new(size_t ncols, const char *const *headers)
{
    ctl_table *t;

    if (ncols == 0 || ncols > CTL_TABLE_MAXCOLS)
        return NULL;
    t = calloc(1, sizeof(*t));

    if (t) {
        t->ncols = ncols;
        t->headers = headers;
    }
    return t;
}

void ctl_table_destroy(ctl_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}

int ctl_table_add(ctl_table *t, const char *const *cells)
{
    if (t->nrows == t->cap) {
        size_t ncap = t->cap ? 2 * t->cap : 16;
        char **p = realloc(t->cells, ncap * t->ncols * sizeof(*p));
        if (!p)
            return SL_ENOMEM;
        t->cells = p;
        t->cap = ncap;
    }
    for (size_t j = 0; j < t->ncols; j++) {
        char *s = ctl_escape(cells[j]);
        if (!s) {
            for (size_t k = 0; k < j; k++)
                free(t->cells[t->nrows * t->ncols + k]);
            return SL_ENOMEM;
        }
        t->cells[t->nrows * t->ncols + j] = s;
    }
    t->nrows++;
    return SL_OK;
}

size_t ctl_table_rows(const ctl_table *t)
{
    return t->nrows;
}

static const char *header_text(const char *h)
{
    return h[0] == '>' ? h + 1 : h;
}

/* One line, without trailing blanks when the last cells are empty. */
static void print_row(const ctl_table *t, FILE *out, const char *indent,
                      const char *const *row, const size_t *w)
{
    size_t last = t->ncols;

    while (last > 1 && !row[last - 1][0])
        last--;
    fputs(indent, out);
    for (size_t j = 0; j < last; j++) {
        int right = t->headers[j][0] == '>';
        if (right)
            fprintf(out, "%*s", (int)w[j], row[j]);
        else if (j + 1 == last)
            fputs(row[j], out);
        else
            fprintf(out, "%-*s", (int)w[j], row[j]);
        if (j + 1 < last)
            fputs("  ", out);
    }
    fputc('\n', out);
}

void ctl_table_print(const ctl_table *t, FILE *out, const char *indent)
{
    size_t w[CTL_TABLE_MAXCOLS] = { 0 };
    const char *hdr[CTL_TABLE_MAXCOLS];
    size_t nc = t->ncols;

    for (size_t j = 0; j < nc; j++) {
        hdr[j] = header_text(t->headers[j]);
        w[j] = strlen(hdr[j]);
    }
    for (size_t i = 0; i < t->nrows; i++)
        for (size_t j = 0; j < nc; j++) {
            size_t l = strlen(t->cells[i * t->ncols + j]);
            if (l > w[j])
                w[j] = l;
        }
    print_row(t, out, indent, hdr, w);
    for (size_t i = 0; i < t->nrows; i++)
        print_row(t, out, indent, (const char *const *)&t->cells[i * t->ncols], w);
}

int ctl_print_result(const PGresult *r, size_t ncols, const char *const *headers,
                     const int *cols, const char *empty)
{
    ctl_table *t = ctl_table_new(ncols, headers);
    const char *row[16];
    int rc = CTL_OK;

    if (!t || ncols > sizeof(row) / sizeof(row[0])) {
        ctl_table_destroy(t);
        return ctl_fail("out of memory");
    }
    for (int i = 0; i < PQntuples(r) && rc == CTL_OK; i++) {
        for (size_t k = 0; k < ncols; k++)
            row[k] = PQgetvalue(r, i, cols[k]);
        if (ctl_table_add(t, row) != SL_OK)
            rc = ctl_fail("out of memory");
    }
    if (rc == CTL_OK) {
        if (ctl_table_rows(t) == 0)
            printf("%s\n", empty);
        else
            ctl_table_print(t, stdout, "");
    }
    ctl_table_destroy(t);
    return rc;
}

int ctl_list_output(const ctl_list_spec *l, const PGresult *r, int json)
{
    json_t *arr;

    if (!json)
        return ctl_print_result(r, l->ncols, l->headers, l->cols, l->empty);
    if (!(arr = json_array()))
        goto oom;
    for (int i = 0; i < PQntuples(r); i++) {
        json_t *o = json_object();

        if (!o || json_array_append_new(arr, o) != 0)
            goto oom;
        for (size_t f = 0; f < l->nfields; f++) {
            const ctl_list_field *fd = &l->fields[f];
            const char *v = PQgetvalue(r, i, fd->col);
            json_t *jv = fd->nullable && PQgetisnull(r, i, fd->col)
                ? json_null()
                : fd->integer ? json_integer((json_int_t)strtoll(v, NULL, 10))
                              : json_string(v);

            if (!jv || json_object_set_new(o, fd->key, jv) != 0)
                goto oom;
        }
    }
    return ctl_print_json(arr);
oom:
    json_decref(arr);
    return ctl_fail("out of memory");
}

int ctl_run_list(ctl *c, int argc, char **argv, const ctl_list_spec *l)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG, { "json", no_argument, NULL, 'j' }, { 0 }
    };
    PGconn *pg = NULL;
    PGresult *r = NULL;
    int json = 0, opt, rc;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             l->name, l->usage)) != -1) {
        if (opt == 'j')
            json = 1;
        else
            return ctl_getopt_exit(opt);
    }
    if (optind < argc)
        return ctl_usage_error(l->name, "unexpected argument \"%s\"",
                               argv[optind]);
    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    rc = CTL_FAIL;
    if ((pg = ctl_pg_connect(c)) &&
        (r = ctl_pg_query(pg, l->name, l->sql, 0, NULL, NULL, NULL)))
        rc = ctl_list_output(l, r, json);
    PQclear(r);
    PQfinish(pg);
    return rc;
}

int ctl_revoke_by_id(ctl *c, int argc, char **argv, const ctl_revoke_spec *s)
{
    static const struct option longopts[] = { CTL_COMMON_LONG, { 0 } };
    char name[64], sql[512];
    PGconn *pg = NULL;
    PGresult *r = NULL;
    int64_t id;
    int opt, rc;

    snprintf(name, sizeof(name), "%s revoke", s->what);
    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             name, s->usage)) != -1)
        return ctl_getopt_exit(opt);
    if (argc - optind != 1)
        return ctl_usage_error(name, argc - optind ?
                               "expected exactly one %s" : "missing %s",
                               s->id_name);
    if (ctl_parse_int(argv[optind], 1, INT64_MAX, &id) != SL_OK)
        return ctl_usage_error(name, "\"%s\" is not a %s ID (a positive "
                               "integer; see `sluicectl %s list`)",
                               argv[optind], s->what, s->what);
    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    /* table and id_col are constants of the caller, never input. */
    snprintf(sql, sizeof(sql),
             "WITH u AS (UPDATE %s SET revoked_at = now()"
             "           WHERE %s = $1::bigint AND revoked_at IS NULL"
             "           RETURNING 1)"
             " SELECT (SELECT count(*) FROM u),"
             "  (SELECT count(*) FROM %s WHERE %s = $1::bigint),"
             "  pg_notify('sluice_feed_auth', '')",
             s->table, s->id_col, s->table, s->id_col);
    rc = CTL_FAIL;
    if (!(pg = ctl_pg_connect(c)))
        goto out;
    {
        const char *vals[1] = { argv[optind] };
        if (!(r = ctl_pg_query(pg, name, sql, 1, vals, NULL, NULL)))
            goto out;
    }
    if (strcmp(PQgetvalue(r, 0, 0), "0") != 0)
        printf("%s %" PRId64 " revoked\n", s->what, id);
    else if (strcmp(PQgetvalue(r, 0, 1), "0") == 0) {
        rc = ctl_fail("%s: no %s %" PRId64, name, s->what, id);
        goto out;
    } else
        printf("%s %" PRId64 " was revoked already; nothing changed\n",
               s->what, id);
    rc = CTL_OK;
out:
    PQclear(r);
    PQfinish(pg);
    return rc;
}
