/*
 * pg.c -- PostgreSQL helpers: connecting, running statements with errors
 * turned into sl_err text, and applying the embedded migrations and the
 * grants that go with them (schemas/sql/grants.sql).
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl/embed.h"
#include "sl/log.h"
#include "sl/pg.h"
#include "sl/pgerr.h"

#define SL_MIGRATIONS_MAX 256
#define SL_MIGRATE_LOCK   7301945021LL   /* advisory lock id for migrations */
#define SL_GRANTS_FILE    "grants.sql"

PGconn *sl_pg_connect(const char *dsn, sl_err *err)
{
    PGconn *c;

    if (!dsn || !*dsn) {
        sl_err_set(err, "no PostgreSQL conninfo: set pg.dsn or SLUICE_PG_DSN");
        return NULL;
    }
    {
        /* Defaults for a database that stops answering without closing the
         * connection (a host gone, a partition): libpq would wait for the
         * kernel, two minutes to connect and up to hours for an answer,
         * with the stage's Kafka transaction timing out meanwhile.  They
         * come first, so the same keywords in dsn override them. */
        static const char *const kw[] = {
            "connect_timeout", "keepalives", "keepalives_idle",
            "keepalives_interval", "keepalives_count", "tcp_user_timeout",
            "dbname", NULL
        };
        const char *const val[] = {
            SL_PG_CONNECT_TIMEOUT_S, "1", SL_PG_KEEPALIVES_IDLE_S,
            SL_PG_KEEPALIVES_INTERVAL_S, SL_PG_KEEPALIVES_COUNT,
            SL_PG_TCP_USER_TIMEOUT_MS, dsn, NULL
        };

        c = PQconnectdbParams(kw, val, 1);
    }
    if (!c) {
        sl_err_set(err, "PostgreSQL: out of memory");
        return NULL;
    }
    if (PQstatus(c) != CONNECTION_OK) {
        sl_err_set(err, "PostgreSQL connection failed: %s", PQerrorMessage(c));
        sl_err_trim(err);
        PQfinish(c);
        return NULL;
    }
    return c;
}

int sl_pg_statement_timeout_check(int64_t ms, sl_err *err)
{
    if (ms < 0 || ms > INT_MAX) {
        sl_err_set(err, "pg.statement.timeout.ms must be 0 (none) to %d ms, not %" PRId64,
                   INT_MAX, ms);
        return SL_EINVAL;
    }
    return SL_OK;
}

PGconn *sl_pg_connect_timed(const char *dsn, int64_t statement_timeout_ms, sl_err *err)
{
    PGconn *c = sl_pg_connect(dsn, err);
    char sql[64];

    if (!c || statement_timeout_ms <= 0)
        return c;
    snprintf(sql, sizeof(sql), "SET statement_timeout = %" PRId64, statement_timeout_ms);
    if (sl_pg_exec(c, sql, err) != SL_OK) {
        PQfinish(c);
        return NULL;
    }
    return c;
}

int sl_pg_dsn_check(const char *dsn, sl_err *err)
{
    char *perr = NULL;
    PQconninfoOption *o;

    if (!dsn || !*dsn) {
        sl_err_set(err, "no PostgreSQL conninfo: set pg.dsn or SLUICE_PG_DSN");
        return SL_EINVAL;
    }
    if (!(o = PQconninfoParse(dsn, &perr))) {
        sl_err_set(err, "pg.dsn is not a valid PostgreSQL conninfo: %s",
                   perr ? perr : "out of memory");
        sl_err_trim(err);
        PQfreemem(perr);
        return SL_EINVAL;
    }
    PQconninfoFree(o);
    return SL_OK;
}

int sl_pg_fail(PGconn *c, PGresult *r, const char *what, sl_err *err)
{
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *det = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL) : NULL;

    if (!msg)
        msg = PQerrorMessage(c);
    sl_err_set(err, "%s: %s%s%s", what, msg, det ? ": " : "", det ? det : "");
    sl_err_trim(err);
    if (PQstatus(c) != CONNECTION_OK)
        return SL_EIO;
    return sl_pgerr_rc(r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL);
}

int sl_pg_exec(PGconn *c, const char *sql, sl_err *err)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    int rc = SL_OK;

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        rc = sl_pg_fail(c, r, "statement failed", err);
    PQclear(r);
    return rc;
}

size_t sl_pg_migrations(sl_migration *out, size_t max)
{
    size_t total, count = 0;
    const sl_embedded *all = sl_embed_all(&total);

    /* embed.cmake writes the files sorted by path: numbered order. */
    for (size_t i = 0; i < total && count < max; i++) {
        size_t l = strlen(all[i].name);
        /* Numbered files only: grants.sql is applied on every run. */
        if (l > 4 && strcmp(all[i].name + l - 4, ".sql") == 0 &&
            all[i].name[0] >= '0' && all[i].name[0] <= '9') {
            out[count].name = all[i].name;
            out[count].sql = all[i].data;
            count++;
        }
    }
    return count;
}

/* Runs schemas/sql/grants.sql in one transaction: it revokes and grants
 * again, so it is applied after every migrate, whether or not a migration
 * was new, and a table a migration adds gets its grants in the same run. */
static int apply_grants(PGconn *c, sl_err *err)
{
    const sl_embedded *g = sl_embed_get(SL_GRANTS_FILE);
    PGresult *r;
    sl_err e2;
    int rc;

    if (!g) {
        sl_err_set(err, "%s is not embedded in this binary", SL_GRANTS_FILE);
        return SL_ERR;
    }
    if ((rc = sl_pg_exec(c, "BEGIN", err)) != SL_OK)
        return rc;
    r = PQexec(c, g->data);
    if (PQresultStatus(r) != PGRES_COMMAND_OK &&
        PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = sl_pg_fail(c, r, SL_GRANTS_FILE, err);
        PQclear(r);
        sl_pg_exec(c, "ROLLBACK", &e2);
        return rc;
    }
    PQclear(r);
    if ((rc = sl_pg_exec(c, "COMMIT", err)) != SL_OK)
        return rc;
    sl_info("pg", "applied %s", SL_GRANTS_FILE);
    return SL_OK;
}

int sl_pg_migrate(PGconn *c, int *applied, sl_err *err)
{
    sl_migration m[SL_MIGRATIONS_MAX];
    size_t n = sl_pg_migrations(m, SL_MIGRATIONS_MAX);
    char lock[128];
    int rc;

    *applied = 0;
    rc = sl_pg_exec(c,
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " name text PRIMARY KEY,"
        " applied_at timestamptz NOT NULL DEFAULT now())", err);
    if (rc != SL_OK)
        return rc;
    snprintf(lock, sizeof(lock), "SELECT pg_advisory_lock(%lld)", SL_MIGRATE_LOCK);
    if ((rc = sl_pg_exec(c, lock, err)) != SL_OK)
        return rc;

    for (size_t i = 0; i < n; i++) {
        const char *params[1] = { m[i].name };
        PGresult *r = PQexecParams(c,
            "SELECT 1 FROM schema_migrations WHERE name = $1",
            1, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            rc = sl_pg_fail(c, r, "reading schema_migrations", err);
            PQclear(r);
            break;
        }
        int done = PQntuples(r) > 0;
        PQclear(r);
        if (done)
            continue;

        if ((rc = sl_pg_exec(c, "BEGIN", err)) != SL_OK)
            break;
        r = PQexec(c, m[i].sql);
        if (PQresultStatus(r) != PGRES_COMMAND_OK &&
            PQresultStatus(r) != PGRES_TUPLES_OK) {
            sl_err e2;
            rc = sl_pg_fail(c, r, m[i].name, &e2);
            sl_err_set(err, "migration %s", e2.msg);
            PQclear(r);
            sl_pg_exec(c, "ROLLBACK", &e2);
            break;
        }
        PQclear(r);
        r = PQexecParams(c, "INSERT INTO schema_migrations (name) VALUES ($1)",
                         1, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            rc = sl_pg_fail(c, r, "recording migration", err);
            PQclear(r);
            break;
        }
        PQclear(r);
        if ((rc = sl_pg_exec(c, "COMMIT", err)) != SL_OK)
            break;
        (*applied)++;
        sl_info("pg", "applied migration %s", m[i].name);
    }
    if (rc == SL_OK)
        rc = apply_grants(c, err);
    snprintf(lock, sizeof(lock), "SELECT pg_advisory_unlock(%lld)", SL_MIGRATE_LOCK);
    sl_err ignore;
    sl_pg_exec(c, lock, &ignore);
    return rc;
}

/* ---- COPY FROM STDIN writer ---- */

#define COPY_FLUSH (256 * 1024)

/* The binary format's header: signature, flags, no header extension. */
static const uint8_t copy_bin_header[19] = {
    'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n', 0,
    0, 0, 0, 0,  0, 0, 0, 0,
};

static int copy_start(sl_pg_copy *cp, PGconn *c, const char *sql, int binary,
                      sl_err *err)
{
    PGresult *r = PQexec(c, sql);
    int rc = SL_OK;

    cp->conn = c;
    sl_buf_init(&cp->buf, (size_t)1 << 31);
    cp->first_field = 1;
    cp->failed = 0;
    cp->binary = binary;
    cp->row_at = 0;
    cp->n_fields = 0;
    cp->array_at = 0;
    cp->array_left = 0;
    cp->in_array = 0;
    cp->sqlstate[0] = '\0';
    if (PQresultStatus(r) != PGRES_COPY_IN)
        rc = sl_pg_fail(c, r, "COPY", err);
    PQclear(r);
    if (rc == SL_OK && binary &&
        sl_buf_append(&cp->buf, copy_bin_header, sizeof(copy_bin_header)) != SL_OK)
        cp->failed = 1;
    return rc;
}

int sl_pg_copy_begin(sl_pg_copy *cp, PGconn *c, const char *sql, sl_err *err)
{
    return copy_start(cp, c, sql, 0, err);
}

int sl_pg_copy_begin_binary(sl_pg_copy *cp, PGconn *c, const char *sql,
                            sl_err *err)
{
    return copy_start(cp, c, sql, 1, err);
}

/* v big-endian in `bytes` bytes (2, 4 or 8) at dst. */
static void put_be(uint8_t *dst, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        dst[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
}

/* Appends v big-endian in `bytes` bytes to b: SL_OK or the sl_buf error. */
static int buf_be(sl_buf *b, uint64_t v, int bytes)
{
    uint8_t x[8];

    put_be(x, v, bytes);
    return sl_buf_append(b, x, (size_t)bytes);
}

/* The same to the COPY's buffer; a failure fails the COPY. */
static void copy_be(sl_pg_copy *cp, uint64_t v, int bytes)
{
    if (buf_be(&cp->buf, v, bytes) != SL_OK)
        cp->failed = 1;
}

/* Binary: a row's field count goes first; it is filled in at its end. */
static void bin_row_start(sl_pg_copy *cp)
{
    cp->row_at = cp->buf.len;
    cp->n_fields = 0;
    cp->first_field = 0;
    copy_be(cp, 0, 2);
}

/* Binary: counts a new field of the row (starting the row if need be);
 * 0, the COPY failed, when there is no room for one or an array field is
 * open (only its elements may follow). */
static int bin_field_open(sl_pg_copy *cp)
{
    if (cp->first_field)
        bin_row_start(cp);
    if (cp->in_array || cp->n_fields == INT16_MAX) {
        cp->failed = 1;
        return 0;
    }
    cp->n_fields++;
    return 1;
}

/* Binary: one field, its length and n bytes of p (p NULL: SQL NULL). */
static void bin_field(sl_pg_copy *cp, const void *p, size_t n)
{
    if (p && n > INT32_MAX) {
        cp->failed = 1;
        return;
    }
    if (!bin_field_open(cp))
        return;
    copy_be(cp, p ? (uint32_t)n : UINT32_MAX, 4);   /* -1: NULL */
    if (p && n && sl_buf_append(&cp->buf, p, n) != SL_OK)
        cp->failed = 1;
}

static void copy_sep(sl_pg_copy *cp)
{
    if (!cp->first_field && sl_buf_putc(&cp->buf, '\t') != SL_OK)
        cp->failed = 1;
    cp->first_field = 0;
}

/* The length of the valid UTF-8 sequence (2-4 bytes, no overlong form, no
 * surrogate, at most U+10FFFF) at p[0..n), p[0] >= 0x80; 0 if invalid. */
static size_t utf8_seq(const uint8_t *p, size_t n)
{
    uint8_t c = p[0];
    size_t len = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    uint32_t cp = len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;

    if (len == 0 || len > n)
        return 0;
    for (size_t k = 1; k < len; k++) {
        if ((p[k] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[k] & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* COPY text format: the escape letter of each ASCII byte that needs one;
 * NUL is marked too (PostgreSQL text cannot hold it: sanitised first). */
static const char copy_escape[128] = {
    [0] = '0', ['\\'] = '\\', ['\t'] = 't', ['\n'] = 'n', ['\r'] = 'r',
};

/* Appends s[0..n) escaped for COPY text at dst (room for 2n bytes): one
 * pass, runs of plain bytes copied whole.  Returns the end, or NULL when
 * s is not valid UTF-8 or holds a NUL (the caller sanitises and retries). */
static uint8_t *copy_escaped(uint8_t *dst, const uint8_t *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        size_t j = i;
        while (j < n && s[j] < 0x80 && !copy_escape[s[j]])
            j++;
        memcpy(dst, s + i, j - i);
        dst += j - i;
        i = j;
        if (i == n)
            break;
        if (s[i] >= 0x80) {
            size_t len = utf8_seq(s + i, n - i);
            if (len == 0)
                return NULL;
            memcpy(dst, s + i, len);
            dst += len;
            i += len;
        } else if (s[i] == 0) {
            return NULL;
        } else {
            *dst++ = '\\';
            *dst++ = (uint8_t)copy_escape[s[i]];
            i++;
        }
    }
    return dst;
}

/* Whether s[0..n) is valid UTF-8 without NUL: what a text field may hold. */
static int utf8_plain(const uint8_t *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        if (s[i] >= 0x80) {
            size_t len = utf8_seq(s + i, n - i);
            if (len == 0)
                return 0;
            i += len;
        } else if (s[i] == 0) {
            return 0;
        } else {
            i++;
        }
    }
    return 1;
}

/* s[0..n) made valid UTF-8 without NUL (sl_utf8_sanitize) into clean,
 * *s and *n then naming the clean copy: what a text field may hold. */
static int sanitise_into(sl_buf *clean, const char **s, size_t *n)
{
    sl_buf_init(clean, *n * 3 + 16);
    if (sl_utf8_sanitize(clean, *s, *n) != SL_OK)
        return SL_ENOMEM;
    *s = (const char *)clean->data;
    *n = clean->len;
    return SL_OK;
}

/* Binary: text s[0..n) (s NULL: SQL NULL) as a field, or, from
 * sl_pg_copy_array_text (elem), as an element of the open array: its
 * length and bytes either way. */
static void bin_text(sl_pg_copy *cp, const char *s, size_t n, int elem)
{
    sl_buf clean = { 0 };
    int null = s == NULL;

    if (!null && !utf8_plain((const uint8_t *)s, n) &&
        sanitise_into(&clean, &s, &n) != SL_OK) {
        cp->failed = 1;
    } else if (!elem) {
        bin_field(cp, null ? NULL : n ? s : "", n);  /* an empty copy has no data */
    } else if (!cp->in_array || null || n > INT32_MAX || cp->array_left == 0) {
        cp->failed = 1;
    } else {
        cp->array_left--;
        copy_be(cp, (uint32_t)n, 4);
        if (n && sl_buf_append(&cp->buf, s, n) != SL_OK)
            cp->failed = 1;
    }
    sl_buf_free(&clean);
}

void sl_pg_copy_text(sl_pg_copy *cp, const char *s, size_t n)
{
    uint8_t *end;

    if (cp->binary) {
        bin_text(cp, s, n, 0);    /* inside an open array: fails the COPY */
        return;
    }
    copy_sep(cp);
    if (!s) {
        if (sl_buf_append(&cp->buf, "\\N", 2) != SL_OK)
            cp->failed = 1;
        return;
    }
    /* COPY text escapes: at most two output bytes per input byte. */
    if (n > SIZE_MAX / 2 || sl_buf_reserve(&cp->buf, 2 * n) != SL_OK) {
        cp->failed = 1;
        return;
    }
    end = copy_escaped(cp->buf.data + cp->buf.len, (const uint8_t *)s, n);
    if (!end) {
        /* Not plain UTF-8 (rare): sanitise, then escape the clean copy. */
        sl_buf clean = { 0 };

        if (sanitise_into(&clean, &s, &n) != SL_OK ||
            sl_buf_reserve(&cp->buf, 2 * n) != SL_OK ||
            !(end = copy_escaped(cp->buf.data + cp->buf.len, (const uint8_t *)s, n))) {
            cp->failed = 1;
            sl_buf_free(&clean);
            return;
        }
        sl_buf_free(&clean);
    }
    cp->buf.len = (size_t)(end - cp->buf.data);
    cp->buf.data[cp->buf.len] = '\0';
}

void sl_pg_copy_str(sl_pg_copy *cp, const char *s)
{
    sl_pg_copy_text(cp, s, s ? strlen(s) : 0);
}

void sl_pg_copy_int(sl_pg_copy *cp, int64_t v)
{
    if (cp->binary) {
        uint8_t b[8];

        put_be(b, (uint64_t)v, 8);
        bin_field(cp, b, sizeof(b));
        return;
    }
    copy_sep(cp);
    if (sl_buf_appendf(&cp->buf, "%lld", (long long)v) != SL_OK)
        cp->failed = 1;
}

void sl_pg_copy_bytea(sl_pg_copy *cp, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    uint8_t *dst;

    if (cp->binary) {
        bin_field(cp, p ? p : (const uint8_t *)"", n);
        return;
    }
    copy_sep(cp);
    /* "\x" escaped for COPY text as "\\x", then two hex digits a byte */
    if (n > SIZE_MAX / 2 - 3 || sl_buf_reserve(&cp->buf, 3 + 2 * n) != SL_OK) {
        cp->failed = 1;
        return;
    }
    dst = cp->buf.data + cp->buf.len;
    *dst++ = '\\';
    *dst++ = '\\';
    *dst++ = 'x';
    for (size_t i = 0; i < n; i++) {
        *dst++ = (uint8_t)digits[p[i] >> 4];
        *dst++ = (uint8_t)digits[p[i] & 15];
    }
    cp->buf.len = (size_t)(dst - cp->buf.data);
    cp->buf.data[cp->buf.len] = '\0';
}

void sl_pg_copy_int32(sl_pg_copy *cp, int32_t v)
{
    uint8_t b[4];

    if (!cp->binary) {
        cp->failed = 1;
        return;
    }
    put_be(b, (uint32_t)v, 4);
    bin_field(cp, b, sizeof(b));
}

/* The array_recv header of a one-dimensional text[] of n elements: ndim,
 * has-nulls, the element type (text, OID 25), then the dimension's length
 * and lower bound. */
void sl_pg_copy_text_array_begin(sl_pg_copy *cp, size_t n)
{
    if (!cp->binary || n > INT32_MAX) {
        cp->failed = 1;
        return;
    }
    if (!bin_field_open(cp))
        return;
    cp->array_at = cp->buf.len;
    copy_be(cp, 0, 4);                  /* the field's length, at its end */
    copy_be(cp, 1, 4);
    copy_be(cp, 0, 4);
    copy_be(cp, 25, 4);
    copy_be(cp, (uint32_t)n, 4);
    copy_be(cp, 1, 4);
    cp->in_array = 1;
    cp->array_left = n;
}

void sl_pg_copy_array_text(sl_pg_copy *cp, const char *s, size_t n)
{
    bin_text(cp, s, n, 1);    /* no open array: fails the COPY */
}

void sl_pg_copy_text_array_end(sl_pg_copy *cp)
{
    size_t len;

    if (!cp->in_array || cp->array_left != 0) {
        cp->failed = 1;
        cp->in_array = 0;
        return;
    }
    cp->in_array = 0;
    len = cp->buf.len - cp->array_at - 4;
    if (cp->failed || len > INT32_MAX)
        cp->failed = 1;
    else
        put_be(cp->buf.data + cp->array_at, (uint32_t)len, 4);
}

void sl_pg_copy_row_end(sl_pg_copy *cp)
{
    if (cp->in_array)
        cp->failed = 1;
    if (cp->binary) {
        if (cp->first_field)          /* a row of no fields */
            bin_row_start(cp);
        if (!cp->failed)
            put_be(cp->buf.data + cp->row_at, (uint16_t)cp->n_fields, 2);
    } else if (sl_buf_putc(&cp->buf, '\n') != SL_OK) {
        cp->failed = 1;
    }
    cp->first_field = 1;
    if (cp->buf.len >= COPY_FLUSH && !cp->failed) {
        if (PQputCopyData(cp->conn, (const char *)cp->buf.data, (int)cp->buf.len) != 1)
            cp->failed = 1;
        sl_buf_reset(&cp->buf);
    }
}

int sl_pg_copy_end(sl_pg_copy *cp, sl_err *err)
{
    PGresult *r;
    int rc = SL_OK;

    if (cp->binary && !cp->failed)
        copy_be(cp, 0xffff, 2);       /* the trailer: a field count of -1 */
    if (!cp->failed && cp->buf.len &&
        PQputCopyData(cp->conn, (const char *)cp->buf.data, (int)cp->buf.len) != 1)
        cp->failed = 1;
    sl_buf_free(&cp->buf);
    if (PQputCopyEnd(cp->conn, cp->failed ? "sluice: building COPY data failed" : NULL) != 1) {
        sl_err_set(err, "COPY: %s", PQerrorMessage(cp->conn));
        return SL_EIO;
    }
    while ((r = PQgetResult(cp->conn))) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK && rc == SL_OK) {
            const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            if (st)
                snprintf(cp->sqlstate, sizeof(cp->sqlstate), "%s", st);
            rc = sl_pg_fail(cp->conn, r, "COPY", err);
        }
        PQclear(r);
    }
    return rc;
}

/* ---- binary array parameters ------------------------------------------ */

int sl_pg_barray_begin(sl_buf *b, unsigned oid, size_t n)
{
    int rc;

    if (n > INT32_MAX)
        return SL_EINVAL;
    /* dimensions (none for an empty array), has-nulls, element type, then
     * the dimension's length and lower bound */
    if ((rc = buf_be(b, n ? 1 : 0, 4)) != SL_OK ||
        (rc = buf_be(b, 0, 4)) != SL_OK ||
        (rc = buf_be(b, oid, 4)) != SL_OK || n == 0)
        return rc;
    if ((rc = buf_be(b, (uint32_t)n, 4)) != SL_OK)
        return rc;
    return buf_be(b, 1, 4);
}

int sl_pg_barray_text(sl_buf *b, const char *s, size_t len)
{
    int rc;

    if (len > INT32_MAX)
        return SL_EINVAL;
    if ((rc = buf_be(b, (uint32_t)len, 4)) != SL_OK)
        return rc;
    return sl_buf_append(b, s, len);
}

int sl_pg_barray_int4(sl_buf *b, int32_t v)
{
    int rc = buf_be(b, 4, 4);

    return rc == SL_OK ? buf_be(b, (uint32_t)v, 4) : rc;
}

int sl_pg_barray_int8(sl_buf *b, int64_t v)
{
    int rc = buf_be(b, 8, 4);

    return rc == SL_OK ? buf_be(b, (uint64_t)v, 8) : rc;
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int sl_pg_keys_param(sl_buf *b, const char **keys, size_t n)
{
    size_t distinct = 0;
    int rc;

    if (n > 1)
        qsort(keys, n, sizeof(*keys), key_cmp);
    for (size_t i = 0; i < n; i++)
        distinct += i == 0 || strcmp(keys[i - 1], keys[i]) != 0;
    rc = sl_pg_barray_begin(b, SL_PG_TEXT, distinct);
    for (size_t i = 0; i < n && rc == SL_OK; i++)
        if (i == 0 || strcmp(keys[i - 1], keys[i]) != 0)
            rc = sl_pg_barray_text(b, keys[i], strlen(keys[i]));
    return rc;
}

int sl_pg_array_add(sl_buf *b, const char *s)
{
    int rc = sl_buf_putc(b, b->len ? ',' : '{');

    if (rc == SL_OK)
        rc = sl_buf_putc(b, '"');
    for (const char *p = s; *p && rc == SL_OK; p++) {
        if (*p == '"' || *p == '\\')
            rc = sl_buf_putc(b, '\\');
        if (rc == SL_OK)
            rc = sl_buf_putc(b, *p);
    }
    return rc == SL_OK ? sl_buf_putc(b, '"') : rc;
}

int sl_pg_array_close(sl_buf *b)
{
    return b->len ? sl_buf_putc(b, '}') : sl_buf_append(b, "{}", 2);
}

int sl_pg_run(PGconn *c, const char *what, const char *sql, int n,
              const char *const *vals, ExecStatusType want, PGresult **out,
              char sqlstate[6], sl_err *err)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, vals, NULL, NULL, 0);
    const char *st;
    int rc;

    if (PQresultStatus(r) == want) {
        if (out)
            *out = r;
        else
            PQclear(r);
        return SL_OK;
    }
    st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (sqlstate)
        snprintf(sqlstate, 6, "%s", st ? st : "");
    rc = sl_pg_fail(c, r, what, err);
    PQclear(r);
    return rc;
}
