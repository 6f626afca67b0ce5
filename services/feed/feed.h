/*
 * feed.h -- what the parts of sluice-feed share (services/feed, issue #12;
 * the routes are FEED_CONTRACT.md's "HTTP API"): the application, the
 * PostgreSQL side (feed_pg.c: a pool of sl_pgconn handles and the
 * statements), the holders of bearer tokens and the per-token rate limit
 * (auth.c), the content cache (cache.c) and the LISTEN thread (listen.c).
 *
 * Threads: the HTTP server's workers run the handlers (handlers.c), each
 * borrowing one database connection for the span of one request; long
 * polls park their request (sl_http_req_park) and hold no thread and no
 * connection while they wait.  The listener runs on a thread of its own
 * with its own connection and wakes them.
 *
 * Authorisation, and why a revoked token fails on its next request: what a
 * token IS (its id, holder, scope, datasets) never changes, so auth.c
 * caches it by token hash (flushed on NOTIFY sluice_feed_auth and when the
 * listener reconnects, bounded in age); whether it is still LIVE (not
 * revoked, not expired, holder active, grant live) is checked by the same
 * statement that reads the request's data, every request.
 */
#ifndef SL_FEED_H
#define SL_FEED_H

#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "sl/common.h"
#include "sl/config.h"
#include "sl/http.h"
#include "sl/pg.h"
#include "feed_logic.h"

#define FD_TOPIC_SAMPLES 0     /* sl_http long-poll topics */
#define FD_TOPIC_CHANGES 1
#define FD_ID_MAX 256          /* longest dataset / upload / holder id taken */
#define FD_DATASETS_MAX 4096   /* a token's dataset list, NUL-separated */

typedef struct fd_pool fd_pool;
typedef struct fd_auth fd_auth;
typedef struct fd_cache fd_cache;
typedef struct fd_listener fd_listener;

typedef struct fd_app {
    sl_config *cfg;
    fd_pool *pool;
    fd_auth *auth;
    fd_cache *cache;
    sl_http_server *srv;       /* set once listening (the listener wakes it) */
    uint8_t url_key[FD_URLKEY_BYTES];
    char base_url[512];        /* no trailing '/' */
    int64_t url_ttl_s, page_max, wait_max_s;
} fd_app;

/* ---- connections (feed_pg.c) ------------------------------------------ */

int         fd_pool_new(const sl_config *cfg, size_t n, fd_pool **out, sl_err *err);
void        fd_pool_destroy(fd_pool *p);
/* A connection handle for one request (waits for a free one). */
sl_pgconn  *fd_pool_get(fd_pool *p);
void        fd_pool_put(fd_pool *p, sl_pgconn *c);

/* ---- who is asking (auth.c) -------------------------------------------- */

typedef struct fd_principal {
    int64_t token_id;
    fd_holder kind;
    char holder[FD_ID_MAX];    /* consumer_id or creator_id */
    int metadata_only;         /* scope 'metadata' */
    int all_datasets;          /* datasets IS NULL */
    size_t datasets_len;       /* NUL-separated names in datasets */
    char datasets[FD_DATASETS_MAX];
    int64_t expires_ms;
} fd_principal;

fd_auth *fd_auth_new(double rate_per_s, double burst, int64_t max_age_ms);
void     fd_auth_destroy(fd_auth *a);
/* Drops every cached token (NOTIFY sluice_feed_auth, listener reconnect). */
void     fd_auth_flush(fd_auth *a);
/* The token's principal from the cache or the database: SL_OK;
 * SL_ENOTFOUND (no such token, revoked, expired, holder disabled);
 * SL_EIO. */
int      fd_auth_lookup(fd_auth *a, sl_pgconn *c, const char *token,
                        fd_principal *out);
/* Takes one request from the token's bucket: 0 when allowed, else the
 * seconds to wait (Retry-After). */
int64_t  fd_auth_rate(fd_auth *a, int64_t token_id);
/* 1 when the principal's token may name dataset (its list, if any). */
int      fd_principal_has_dataset(const fd_principal *p, const char *dataset);

/* ---- content cache (cache.c) -------------------------------------------- */

/* A content's bytes, shared by the responses sending them: hold one
 * reference per response (fd_cache_release is the sl_http release). */
typedef struct fd_blob {
    const uint8_t *data;
    size_t len;
} fd_blob;

fd_cache *fd_cache_new(size_t max_bytes);
void      fd_cache_destroy(fd_cache *c);
/* The content by sha256 (a new reference), reading contents.data through
 * pc on a miss.  SL_OK, SL_ENOTFOUND, SL_EIO. */
int       fd_cache_get(fd_cache *c, sl_pgconn *pc, const char *sha256,
                       fd_blob **out);
void      fd_cache_release(void *blob);
/* The sha256 of an upload's content, remembered from an earlier request
 * (an upload's content never changes; whether it may still be served is
 * the database's to say).  1 and out set when known, else 0. */
int       fd_cache_sha_of(fd_cache *c, const char *upload_id, char out[SL_SHA256_HEX]);
void      fd_cache_note_sha(fd_cache *c, const char *upload_id, const char *sha256);

/* A dataset's counts for GET /v1/datasets: {"samples", "withdrawn",
 * "licenses": [{"expression", "samples"}]} (a new object), from one pass
 * over its samples, kept FD_STATS_MS (a million samples take a while to
 * count; the figures are informational).  SL_OK, SL_EIO, SL_ENOMEM. */
#define FD_STATS_MS 5000
int       fd_cache_stats(fd_cache *c, sl_pgconn *pc, const char *dataset, json_t **out);

/* ---- LISTEN (listen.c) --------------------------------------------------- */

int  fd_listener_start(fd_app *a, fd_listener **out, sl_err *err);
void fd_listener_stop(fd_listener *l);

/* ---- statements (feed_pg.c) ---------------------------------------------- */

/* The prepared statements of every connection (sl_pgconn table). */
extern const sl_pg_stmt fd_stmts[];
extern const size_t fd_n_stmts;

/* Runs prepared statement name; logs and returns SL_EIO / SL_ERR on
 * failure with *res NULL. */
int fd_exec(sl_pgconn *c, const char *name, int n, const char *const *v,
            PGresult **res);
int fd_exec_bin(sl_pgconn *c, const char *name, int n, const char *const *v,
                PGresult **res);
/* Runs prepared statement name in single-row mode, calling row(u, r) for
 * each row as it arrives (r holds that one row), so that a page is
 * written while PostgreSQL still reads the next rows.  SL_OK; row's first
 * failure; SL_EIO / SL_ERR when the statement failed (logged).  *rows
 * counts the rows handed to row. */
/* The pool handle's live connection (connecting first), for a library that
 * runs its own statements on it (the ledger statement).  SL_OK or SL_EIO. */
int fd_conn(sl_pgconn *c, PGconn **conn);
int fd_exec_rows(sl_pgconn *c, const char *name, int n, const char *const *v,
                 int (*row)(void *u, const PGresult *r), void *u, size_t *rows);

#endif
