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

/* Connects; on failure returns NULL with the reason in err. */
PGconn *sl_pg_connect(const char *dsn, sl_err *err);
/* Runs a statement without parameters, expecting no rows or any rows. */
int sl_pg_exec(PGconn *c, const char *sql, sl_err *err);
/* Classifies a failed result: SL_EIO if the connection is gone. */
int sl_pg_fail(PGconn *c, PGresult *r, const char *what, sl_err *err);

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
 * COPY ... FROM STDIN (text format) writer.  Rows are built field by field
 * into a buffer that is flushed with PQputCopyData every 256 KiB.  Text
 * fields are made valid UTF-8 (bad bytes become U+FFFD, NUL is dropped) so
 * no input can make the COPY fail.  Field errors are remembered and
 * reported by sl_pg_copy_end().
 */
typedef struct sl_pg_copy {
    PGconn *conn;
    sl_buf buf;
    int first_field;
    int failed;
    char sqlstate[6];   /* the server's SQLSTATE when COPY failed, else "" */
} sl_pg_copy;

int  sl_pg_copy_begin(sl_pg_copy *cp, PGconn *c, const char *sql, sl_err *err);
void sl_pg_copy_text(sl_pg_copy *cp, const char *s, size_t n);  /* s NULL: \N */
void sl_pg_copy_str(sl_pg_copy *cp, const char *s);             /* NULL: \N */
void sl_pg_copy_int(sl_pg_copy *cp, int64_t v);
void sl_pg_copy_bytea(sl_pg_copy *cp, const uint8_t *p, size_t n);
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

#endif
