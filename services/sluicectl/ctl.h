/*
 * ctl.h -- what sluicectl's commands share: the invocation context (global
 * options and the layered config), option parsing helpers, PostgreSQL
 * connection, messages and exit codes, plain-text tables, and the pure
 * helpers behind `upload` (metadata JSON, content types, timestamps).
 *
 * Exit codes: 0 success, 1 a failure (message on stderr naming what
 * failed), 2 a usage error.
 */
#ifndef SL_CTL_H
#define SL_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <getopt.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "sl/audit.h"
#include "sl/common.h"
#include "sl/config.h"
#include "args.h"

#define CTL_OK    0
#define CTL_FAIL  1
#define CTL_USAGE 2

/* Global options, accepted before the command and among its options. */
#define CTL_COMMON_SHORT "c:X:vh"
#define CTL_COMMON_LONG                                  \
    { "config", required_argument, NULL, 'c' },          \
    { "help", no_argument, NULL, 'h' }
#define CTL_COMMON_HELP                                                     \
    "Global options: -c FILE (config file), -X key=value (config override,\n" \
    "kafka.* keys go to librdkafka), -v (debug log).  Environment:\n"       \
    "SLUICE_KAFKA_BROKERS, SLUICE_PG_DSN, SLUICE_TOPIC_PREFIX, SLUICE_CONFIG.\n"

typedef struct ctl {
    const char *config_file;     /* -c, else $SLUICE_CONFIG */
    const char **overrides;      /* -X key=value, borrowed from argv */
    size_t n_overrides, cap_overrides;
    int verbose;
    sl_config *cfg;              /* built by ctl_load_config() */
} ctl;

/* A command: argv[0] is the command's own name. Returns the exit code. */
typedef int (*ctl_cmd_fn)(ctl *c, int argc, char **argv);

typedef struct ctl_cmd {
    const char *name;
    ctl_cmd_fn fn;
    const char *summary;
} ctl_cmd;

/* The commands (one file each). */
int ctl_cmd_db(ctl *c, int argc, char **argv);
int ctl_cmd_top(ctl *c, int argc, char **argv);
int ctl_cmd_topics(ctl *c, int argc, char **argv);
int ctl_cmd_creator(ctl *c, int argc, char **argv);
int ctl_cmd_dataset(ctl *c, int argc, char **argv);
int ctl_cmd_upload(ctl *c, int argc, char **argv);
int ctl_cmd_status(ctl *c, int argc, char **argv);
int ctl_cmd_audit(ctl *c, int argc, char **argv);
int ctl_cmd_scan(ctl *c, int argc, char **argv);
int ctl_cmd_optout(ctl *c, int argc, char **argv);
int ctl_cmd_takedown(ctl *c, int argc, char **argv);
int ctl_cmd_license(ctl *c, int argc, char **argv);
int ctl_cmd_moderator(ctl *c, int argc, char **argv);
int ctl_cmd_consumer(ctl *c, int argc, char **argv);
int ctl_cmd_grant(ctl *c, int argc, char **argv);
int ctl_cmd_token(ctl *c, int argc, char **argv);
int ctl_cmd_usage(ctl *c, int argc, char **argv);
int ctl_cmd_ledger(ctl *c, int argc, char **argv);
int ctl_cmd_payout(ctl *c, int argc, char **argv);
int ctl_cmd_dlq(ctl *c, int argc, char **argv);
/* `ledger verify` (cmd_ledger_verify.c): a sub-command of `ledger`. */
int ctl_cmd_ledger_verify(ctl *c, int argc, char **argv);

/* ---- context and options ---------------------------------------------- */

void ctl_free(ctl *c);
/* Handles a global option seen by getopt (-c, -X, -v).  Returns 1 when it
 * was one, 0 when not, -1 on out of memory. */
int ctl_common_opt(ctl *c, int opt, const char *arg);
/* Builds c->cfg: defaults, file, environment, -X; sets the log level.
 * Returns CTL_OK or the exit code after printing the error. */
int ctl_load_config(ctl *c);
/* Dispatches argv[1] among subs, or prints `usage` (exit 0 for -h/--help,
 * 2 when missing or unknown).  `cmd` names the group ("creator"). */
int ctl_dispatch(ctl *c, const char *cmd, const ctl_cmd *subs, int argc,
                 char **argv, const char *usage);
/* Prints the config keys sluicectl understands. */
void ctl_print_config_help(FILE *out);
/* Prints the usage for a subcommand group, listing subs. */
void ctl_print_subs(FILE *out, const char *usage, const ctl_cmd *subs);
/* getopt_long over argv, with the global options (-c, -X, -v) handled
 * here.  Call ctl_getopt_start() before the first call for a new argv.
 * Returns the next option like getopt_long (-1 at the end: positional
 * arguments are argv[optind..]); -2 after printing usage for -h/--help;
 * -3 after an unknown option or missing argument (hint printed); -4 when
 * out of memory. */
void ctl_getopt_start(void);
int ctl_getopt(ctl *c, int argc, char **argv, const char *shortopts,
               const struct option *longopts, const char *cmd,
               const char *usage);
/* Maps ctl_getopt's negative results to an exit code. */
int ctl_getopt_exit(int opt);

/* ---- messages ---------------------------------------------------------- */

/* "sluicectl: <msg>" on stderr; returns CTL_FAIL. */
int ctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "sluicectl <cmd>: <msg>" + a --help hint on stderr; returns CTL_USAGE. */
int ctl_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- parsing and I/O --------------------------------------------------- */

/* HMAC secrets are 1..256 bytes (sl_key_new). */
#define CTL_HMAC_SECRET_MAX 256

/* Decimal integer within [min, max]; SL_EINVAL otherwise. */
int ctl_parse_int(const char *s, int64_t min, int64_t max, int64_t *out);
/* Reads a whole regular file of at most max bytes into a malloc'd buffer
 * (never NULL on success, even for an empty file).  SL_ETOOBIG over max. */
int ctl_read_file(const char *path, size_t max, uint8_t **out, size_t *len,
                  sl_err *err);
/* Connects with pg.dsn; NULL after printing the error. */
PGconn *ctl_pg_connect(ctl *c);
/* PQexecParams with text results; params are text unless fmts[i] == 1
 * (binary, length lens[i]).  On a result other than PGRES_COMMAND_OK /
 * PGRES_TUPLES_OK prints "<what>: <PostgreSQL message>" and returns NULL. */
PGresult *ctl_pg_query(PGconn *pg, const char *what, const char *sql,
                       int n, const char *const *vals, const int *lens,
                       const int *fmts);
/* Runs a parameterless statement (BEGIN, COMMIT...); CTL_OK or CTL_FAIL
 * after printing the error. */
int ctl_pg_exec(PGconn *pg, const char *what, const char *sql);
/* Seals n chain heads (any kind) with the operator's key
 * (audit.operator.key.file, created when missing) inside the caller's open
 * transaction: registers the key in audit_keys, stores one head_seals row
 * and a chain_heads row per head (seal.c).  what prefixes errors.  CTL_OK,
 * or CTL_FAIL after printing the error (the caller rolls back). */
int ctl_seal_heads(ctl *c, PGconn *pg, const char *what,
                   const sl_audit_headref *refs, size_t n);
/* ctl_check_id, ctl_check_name and the other pure checks: args.h. */
/* Prints a compact JSON value and a newline to stdout; steals the ref. */
int ctl_print_json(json_t *v);
/* Who a registry change is recorded as (opt-outs, takedowns,
 * contributors): `by` when given, else $SUDO_USER, $USER, "operator". */
const char *ctl_operator(const char *by);
/* Operator-supplied text stored with a registry entry (a reason, a --by
 * name): SL_OK when 1..max bytes with no control characters. */
#define CTL_NOTE_MAX 1000
int ctl_check_note(const char *s, size_t max);

/* ---- withdrawals (withdraw.c) ----------------------------------------- */

/* How a command withdraws accepted samples. */
typedef struct ctl_withdrawal {
    const char *what;      /* prefixes errors: "takedown add" */
    const char *stage;     /* the provenance event's stage: "takedown" */
    const char *version;   /* its version: "sluicectl/takedown-1" */
    const char *reason;    /* its reason and the tombstone's: "taken_down" */
    const char *kind;      /* the tombstone's kind (feed_changes.kind) */
} ctl_withdrawal;

/* Withdraws every sample of rows -- columns upload_id, stored sha256, the
 * signed content's sha256, locked by the caller (FOR UPDATE, upload_id
 * order) -- inside the caller's open transaction: a provenance event per
 * sample, feed_withdraw() (status, tombstone, feed notification), its
 * quota released, the new chain heads sealed with the operator's key.
 * seqs[i]: sample i's new event.  CTL_OK, or CTL_FAIL after printing the
 * error (the caller rolls back). */
int ctl_withdraw_all(ctl *c, PGconn *pg, const ctl_withdrawal *w,
                     PGresult *rows, int64_t *seqs);

/* ---- terminal text ----------------------------------------------------- */

/* Stored strings (file names, details, creator and dataset names, labels,
 * codes) come from outside and must not drive the terminal: ctl_escape()
 * returns a malloc'd copy of s (NULL: "-") with '\\' as "\\\\", newline,
 * tab and CR as "\\n", "\\t", "\\r", other C0 controls, DEL and bytes
 * that are not UTF-8 as "\\xNN", and the C1 controls, bidirectional
 * overrides and line/paragraph separators as "\\uNNNN"; other UTF-8 is
 * kept.  NULL when out of memory.  JSON output is JSON-escaped instead. */
char *ctl_escape(const char *s);

/* Escaped copies that live until ctl_esc_free(): for printf arguments,
 * `printf("%s\n", ctl_e(&e, name))`.  On out of memory "(out of memory)". */
typedef struct ctl_esc {
    char **p;
    size_t n, cap;
} ctl_esc;
const char *ctl_e(ctl_esc *e, const char *s);
void ctl_esc_free(ctl_esc *e);

/* ---- tables ------------------------------------------------------------ */

typedef struct ctl_table ctl_table;
/* ncols headers; a header starting with '>' is right-aligned (the '>' is
 * not printed). */
ctl_table *ctl_table_new(size_t ncols, const char *const *headers);
void ctl_table_destroy(ctl_table *t);
/* Adds a row of ncols cells (copied through ctl_escape(); NULL prints as
 * "-"): every table printer shows stored strings escaped. */
int  ctl_table_add(ctl_table *t, const char *const *cells);
void ctl_table_print(const ctl_table *t, FILE *out, const char *indent);
size_t ctl_table_rows(const ctl_table *t);
/* Prints a query result as a table: column cols[i] of r under headers[i],
 * ncols of them, or `empty` on its own line when there are no rows.
 * CTL_OK, or CTL_FAIL after printing "out of memory". */
int  ctl_print_result(const PGresult *r, size_t ncols,
                      const char *const *headers, const int *cols,
                      const char *empty);

/* A list command with only --json: one query, printed as a table or as a
 * JSON array of objects (fields[i].key from column fields[i].col, a
 * number when .integer, else a string). */
typedef struct ctl_list_field {
    const char *key;
    int col;
    int integer;
    int nullable;      /* SQL NULL as JSON null (else "" or 0) */
} ctl_list_field;

typedef struct ctl_list_spec {
    const char *name;                   /* "dataset list" */
    const char *usage;
    const char *sql;
    size_t ncols;                       /* the table: see ctl_print_result */
    const char *const *headers;
    const int *cols;
    const char *empty;
    size_t nfields;                     /* --json */
    const ctl_list_field *fields;
} ctl_list_spec;

int  ctl_run_list(ctl *c, int argc, char **argv, const ctl_list_spec *l);
/* Prints r, a result of l->sql or of a query with the same columns, as
 * ctl_run_list does (a table, or with json a JSON array).  CTL_OK or
 * CTL_FAIL after printing the error.  l->sql is not used. */
int  ctl_list_output(const ctl_list_spec *l, const PGresult *r, int json);

/* `sluicectl <what> revoke ID`: sets revoked_at on the row of `table`
 * whose `id_col` is ID (a positive integer) if it is not revoked yet, and
 * wakes every feed instance (NOTIFY sluice_feed_auth) so the revocation
 * holds from their next request.  `what` is "grant" or "token", used in
 * usage errors and messages.  A repeat changes nothing and says so; an
 * unknown ID fails.  CTL_OK, CTL_FAIL or CTL_USAGE. */
typedef struct ctl_revoke_spec {
    const char *what;                   /* "grant" */
    const char *usage;
    const char *table;                  /* "grants" */
    const char *id_col;                 /* "grant_id" */
    const char *id_name;                /* "GRANT_ID", in usage errors */
} ctl_revoke_spec;

int ctl_revoke_by_id(ctl *c, int argc, char **argv, const ctl_revoke_spec *s);

/* ---- upload helpers (upload_meta.c) ------------------------------------ */

typedef struct ctl_label {
    const char *key;
    const char *value;
} ctl_label;

typedef struct ctl_meta_in {
    const char *upload_id;
    const char *creator_id;
    const char *dataset_id;
    const char *content_type;
    const char *license;
    const char *created_at;
    const char *sha256;        /* NULL: omitted */
    const char *filename;      /* NULL: omitted */
    int64_t size;
    const ctl_label *labels;
    size_t n_labels;
    int no_attestation;        /* leave the attestation out */
    /* attestation usage signals (ai_training, ai_generative_training,
     * data_mining): NULL or "allowed" / "notAllowed" / "constrained" */
    const char *usage[3];
    int tdm_reservation;
} ctl_meta_in;

/* The validate stage accepts 16 KiB by default (validate.meta.max.bytes). */
#define CTL_META_MAX (16 * 1024)

/* Writes the compact sluice-meta JSON (field order as in the schema) into
 * out (reset first). */
int ctl_meta_build(const ctl_meta_in *in, sl_buf *out, sl_err *err);
/* The content type for a file name's extension (case-insensitive). */
const char *ctl_content_type(const char *filename);
/* "u-" + 32 lowercase hex from the CSPRNG (CTL_UPLOAD_ID_LEN: args.h). */
int ctl_random_upload_id(char out[CTL_UPLOAD_ID_LEN]);
/* A new upload's id: ctl_upload_id_make (args.h) with the clock's
 * milliseconds and 80 bits from the CSPRNG.  SL_OK or SL_ERR. */
int ctl_new_upload_id(char out[CTL_UPLOAD_ID_LEN]);

#endif
