/*
 * pg.h -- PostgreSQL helpers: connect, run, migrate.
 *
 * Errors are written to an sl_err as "primary: detail" from libpq.  Every
 * function returns SL_OK, SL_EIO when the connection is bad (reconnect and
 * retry), or SL_ERR for a statement error.
 */
#ifndef SL_PG_H
#define SL_PG_H

#include <libpq-fe.h>
#include "sl/common.h"
#include "sl/config.h"
#include "sl/dscache.h"

/* Connection defaults sl_pg_connect gives libpq unless dsn sets the
 * keyword itself: a server that does not answer a connection attempt
 * fails it after 10 s; one that stops answering on an open connection is
 * found dead after 10 s idle and three probes 5 s apart (keepalives), or
 * after 30 s with data unacknowledged (tcp_user_timeout). */
#define SL_PG_CONNECT_TIMEOUT_S     "10"
#define SL_PG_KEEPALIVES_IDLE_S     "10"
#define SL_PG_KEEPALIVES_INTERVAL_S "5"
#define SL_PG_KEEPALIVES_COUNT      "3"
#define SL_PG_TCP_USER_TIMEOUT_MS   "30000"

/* Connects (dsn: a conninfo string or URI, with the defaults above); on
 * failure returns NULL with the reason in err. */
PGconn *sl_pg_connect(const char *dsn, sl_err *err);
/* Whether ms is a statement timeout PostgreSQL takes: 0 (none) to
 * INT_MAX ms.  SL_OK, or SL_EINVAL naming pg.statement.timeout.ms (a
 * configuration error, not an outage to wait out). */
int sl_pg_statement_timeout_check(int64_t ms, sl_err *err);
/* sl_pg_connect, then SET statement_timeout to ms on the session (ms <= 0:
 * the server's own); NULL with the reason in err if either fails.  A
 * service declaring pg.statement.timeout.ms (SL_PG_STATEMENT_TIMEOUT_CFG_ENTRY,
 * sl/health.h) connects with this: sl_pgconn_open does, others call it. */
PGconn *sl_pg_connect_timed(const char *dsn, int64_t statement_timeout_ms, sl_err *err);

/* Whether dsn is a conninfo at all: SL_OK, or SL_EINVAL (empty, or one
 * libpq cannot parse: a configuration error, where a server that does not
 * answer is a failure to connect and may be waited out). */
int sl_pg_dsn_check(const char *dsn, sl_err *err);
/* Runs a statement without parameters, expecting no rows or any rows. */
int sl_pg_exec(PGconn *c, const char *sql, sl_err *err);
/* Writes the failure of r (NULL: the connection's message) to err as
 * "what: primary: detail" and classifies it: SL_EIO ("retry") when the
 * connection is gone or the SQLSTATE is one worth a retry (sl/pgerr.h),
 * SL_ERR otherwise. */
int sl_pg_fail(PGconn *c, PGresult *r, const char *what, sl_err *err);

/*
 * sl_pgconn -- a service's one connection to PostgreSQL, re-opened lazily.
 *
 * Holds the conninfo (pg.dsn), and on every (re)connect applies the
 * session settings every stage runs with (pgconn.c lists them), prepares
 * the caller's table of named statements and runs its on_connect hook.
 * sl_pgconn_get() hands out the live connection, connecting first when
 * there is none (after a drop, or a server restart): a stage never holds a
 * PGconn across calls, only the handle.
 *
 * Errors: every failure is SL_EIO ("retry") or SL_ERR, by sl_pg_fail's one
 * classification (sl/pgerr.h).  Drop on error: a failed statement outside a
 * transaction block drops the connection, whatever the class (nothing is
 * lost, and the next call starts a fresh session with its statements
 * prepared again); inside a transaction the caller rolls back and drops the
 * connection itself when it is gone (sl_pgconn_drop).
 *
 * Ownership: the handle copies dsn and borrows opts' table and hook arg,
 * which must outlive it; results handed out are the caller's to PQclear.
 */
typedef struct sl_pgconn sl_pgconn;

/* A statement prepared on every connect, run by name. */
typedef struct sl_pg_stmt {
    const char *name;
    const char *sql;
    int nparams;
} sl_pg_stmt;

typedef struct sl_pgconn_opts {
    const char *who;              /* log prefix: the stage's name */
    const sl_pg_stmt *stmts;      /* prepared on every connect; may be NULL */
    size_t n_stmts;
    /* Runs last on every new connection (commit registers its audit key);
     * not SL_OK: the connection is dropped and the connect fails. */
    int (*on_connect)(PGconn *c, void *arg, sl_err *err);
    void *arg;
} sl_pgconn_opts;

/* Reads pg.dsn from cfg and connects once, so a bad conninfo or an
 * unreachable server fails the service at start.  SL_OK, SL_EINVAL (no
 * pg.dsn), SL_ENOMEM or SL_EIO, with the reason in err.  When cfg
 * declares pg.statement.timeout.ms (the stages do) and it is positive,
 * every connection sets statement_timeout to it: a statement stalled on
 * a lock or a server that stopped working is cancelled (SQLSTATE 57014,
 * retried as an outage) instead of holding its batch past the stage's
 * Kafka transaction timeout. */
int  sl_pgconn_open(sl_pgconn **out, const sl_config *cfg,
                    const sl_pgconn_opts *opts, sl_err *err);
void sl_pgconn_destroy(sl_pgconn *pc);            /* NULL allowed */

/* The live connection, (re)connecting first when there is none; borrowed
 * until the next sl_pgconn_drop or failure.  SL_OK or SL_EIO. */
int  sl_pgconn_get(sl_pgconn *pc, PGconn **c, sl_err *err);
/* Closes the connection; the next sl_pgconn_get opens a new one. */
void sl_pgconn_drop(sl_pgconn *pc);

/* Writes r's failure to err (sl_pg_fail), logs it as a warning, drops the
 * connection when it is gone or no transaction is open (see above), and
 * returns SL_EIO or SL_ERR.  Does not clear r. */
int  sl_pgconn_fail(sl_pgconn *pc, PGresult *r, const char *what, sl_err *err);

/* Runs the prepared statement `name` (text parameters; results in
 * result_format, 0 text or 1 binary), or with sl_pgconn_query the
 * statement sql, connecting first if needed.  On success *res holds the
 * result (rows or a command's).  On failure *res is NULL and the result is
 * sl_pgconn_fail's (the connection failure's SL_EIO when none could be
 * opened).  `what` names the statement in errors. */
int  sl_pgconn_exec(sl_pgconn *pc, const char *name, int n,
                    const char *const *params, int result_format,
                    PGresult **res, sl_err *err);
int  sl_pgconn_query(sl_pgconn *pc, const char *what, const char *sql, int n,
                     const char *const *params, PGresult **res, sl_err *err);
/* Runs the prepared look-up `name`, whose one parameter is a text[] of
 * keys, on the n keys sent as sl_pg_keys_param writes them (keys is
 * reordered), in at most max bytes.  sl_pgconn_exec's codes, or SL_ENOMEM
 * when the keys do not fit. */
int  sl_pgconn_exec_keys(sl_pgconn *pc, const char *name, const char **keys,
                         size_t n, size_t max, PGresult **res, sl_err *err);
/* sl_pgconn_exec with each parameter's length and format (1: binary, as
 * libpq's PQexecPrepared takes them; lengths and formats NULL: all text). */
int  sl_pgconn_execb(sl_pgconn *pc, const char *name, int n,
                     const char *const *params, const int *lengths,
                     const int *formats, int result_format, PGresult **res,
                     sl_err *err);

/* A stage's dataset look-ups (scan's and license's): its own connection
 * and the dataset registry cache (sl/dscache.h) on it, filled from the
 * datasets table by one statement reading every column any stage uses.
 * The stage may use pg for its other statements. */
typedef struct sl_pg_datasets {
    sl_pgconn *pg;
    sl_dscache *datasets;
} sl_pg_datasets;

/* Opens the connection as sl_pgconn_open does (SL_EIO while the database
 * does not answer: the runner retries the start; SL_EINVAL for a bad
 * conninfo or timeout), then the cache on it, keeping a row ttl_ms.
 * SL_OK, or that error / SL_ENOMEM with err set and nothing left open. */
int  sl_pg_datasets_open(sl_pg_datasets **out, const sl_config *cfg,
                         const sl_pgconn_opts *opts, int64_t ttl_ms, sl_err *err);
void sl_pg_datasets_destroy(sl_pg_datasets *d);    /* NULL allowed */

/* The numbered migrations embedded from schemas/sql/ at build time. */
typedef struct sl_migration {
    const char *name;       /* e.g. "001_init.sql" */
    const char *sql;
} sl_migration;
/* Fills out[] in numbered order; returns the count. */
size_t sl_pg_migrations(sl_migration *out, size_t max);

/* Applies every migration not yet recorded in schema_migrations, each in its
 * own transaction, under an advisory lock, then schemas/sql/grants.sql (every
 * time: it is idempotent).  *applied counts the new migrations.  Run it as
 * the schema owner (sluice_owner): whoever runs it owns the new tables. */
int sl_pg_migrate(PGconn *c, int *applied, sl_err *err);


/*
 * COPY ... FROM STDIN writer, text or binary format.  Rows are built field
 * by field into a buffer that is flushed with PQputCopyData every 256 KiB.
 * Text fields are made valid UTF-8 (bad bytes become U+FFFD, NUL is
 * dropped) so no input can make the COPY fail.  Field errors are
 * remembered and reported by sl_pg_copy_end().
 *
 * Binary (sl_pg_copy_begin_binary, the statement saying WITH (FORMAT
 * binary)): each field goes as its length and raw bytes, which PostgreSQL
 * neither scans for escapes nor decodes (a 1 KiB bytea costs it half the
 * CPU of the text form's hex).  Binary fields carry no type, so there
 * sl_pg_copy_int is for bigint columns only, sl_pg_copy_int32 for
 * integer, text for text (and varchar), bytea for bytea, and a text[]
 * field is sl_pg_copy_text_array_begin(n), then n sl_pg_copy_array_text()
 * (one-dimensional, lower bound 1, no NULL element; a count that does
 * not match fails the COPY).
 */
typedef struct sl_pg_copy {
    PGconn *conn;
    sl_buf buf;
    int first_field;
    int failed;
    int binary;         /* the binary format */
    size_t row_at;      /* binary: where the row's field count goes */
    int16_t n_fields;   /* binary: fields of the row so far */
    size_t array_at;    /* binary: where an open array field's length goes */
    size_t array_left;  /* binary: elements the open array still expects */
    int in_array;       /* binary: an array field is open */
    char sqlstate[6];   /* the server's SQLSTATE when COPY failed, else "" */
} sl_pg_copy;

int  sl_pg_copy_begin(sl_pg_copy *cp, PGconn *c, const char *sql, sl_err *err);
int  sl_pg_copy_begin_binary(sl_pg_copy *cp, PGconn *c, const char *sql,
                             sl_err *err);
void sl_pg_copy_text(sl_pg_copy *cp, const char *s, size_t n);  /* s NULL: \N */
void sl_pg_copy_str(sl_pg_copy *cp, const char *s);             /* NULL: \N */
void sl_pg_copy_int(sl_pg_copy *cp, int64_t v);   /* binary: bigint */
void sl_pg_copy_bytea(sl_pg_copy *cp, const uint8_t *p, size_t n);
void sl_pg_copy_int32(sl_pg_copy *cp, int32_t v);     /* binary only */
void sl_pg_copy_text_array_begin(sl_pg_copy *cp, size_t n);   /* binary only */
void sl_pg_copy_array_text(sl_pg_copy *cp, const char *s, size_t n);
void sl_pg_copy_text_array_end(sl_pg_copy *cp);
void sl_pg_copy_row_end(sl_pg_copy *cp);
/* Finishes the COPY; SL_OK, SL_EIO or SL_ERR with the reason. */
int  sl_pg_copy_end(sl_pg_copy *cp, sl_err *err);

/* PostgreSQL array literals ({"a","b"}) built in an sl_buf, for
 * "= ANY($1::text[])" and unnest($1::text[]): each element quoted, quotes
 * and backslashes escaped.  sl_pg_array_close ends it ("{}" when empty);
 * the buffer then holds a NUL-terminated literal.  SL_OK or the
 * sl_buf error. */
int sl_pg_array_add(sl_buf *b, const char *s);
int sl_pg_array_close(sl_buf *b);

/* The same arrays in PostgreSQL's binary form (what array_recv reads), for
 * a parameter sent with format 1: the server takes each element as it is,
 * where a literal is parsed character by character, and nothing is
 * escaped (tests/bench/bench_pg_lookup.c measures both).  One dimension,
 * no NULLs:
 * sl_pg_barray_begin(b, oid, n) for n elements of type oid (SL_PG_TEXT,
 * SL_PG_INT4, SL_PG_INT8), then exactly n calls of the matching _text,
 * _int4 or _int8 (a count that does not match is refused by the server).
 * A text element is sent as its bytes; the server still checks them
 * against the database encoding.  SL_OK, SL_EINVAL (n or a length past
 * INT32_MAX) or the sl_buf error. */
#define SL_PG_TEXT 25u
#define SL_PG_INT4 23u
#define SL_PG_INT8 20u
int sl_pg_barray_begin(sl_buf *b, unsigned oid, size_t n);
int sl_pg_barray_text(sl_buf *b, const char *s, size_t len);
int sl_pg_barray_int4(sl_buf *b, int32_t v);
int sl_pg_barray_int8(sl_buf *b, int64_t v);
/* The n keys of an "= ANY($1::text[])" look-up as one such binary
 * parameter in b: in byte order (strcmp: a text B-tree's order in the C
 * collation), each once.  The server sorts and de-duplicates such an
 * array before it searches the index; sent so, a run's thousand copies of
 * one creator id are one element, and the server's sort finds its work
 * done.  keys is reordered.  SL_OK, or sl_pg_barray_begin's errors. */
int sl_pg_keys_param(sl_buf *b, const char **keys, size_t n);

/* Runs a parameterised statement expecting status `want`: SL_OK with *out
 * (the result, for the caller to PQclear; cleared here when out is NULL),
 * or sl_pg_fail()'s code with err and, when sqlstate is not NULL, the
 * server's SQLSTATE ("" when none), for callers that classify failures
 * (the modules writing rows: sl/quota_pg.h, sl/prov_pg.h). */
int sl_pg_run(PGconn *c, const char *what, const char *sql, int n,
              const char *const *vals, ExecStatusType want, PGresult **out,
              char sqlstate[6], sl_err *err);

#endif
