/*
 * review.h -- what the parts of sluice-review share: the application
 * (config, PostgreSQL connections, rules, the review audit key), the
 * database operations (review_pg.c), the relay (relay.c) and the page
 * builders (view.c, replaced by ui's services/review/pages.h at merge).
 *
 * Threads: the HTTP server's workers run the handlers (handlers.c), each
 * borrowing a connection from the pool for one request; the relay runs on
 * a thread of its own with its own connection and Kafka producer.
 */
#ifndef SL_REVIEW_H
#define SL_REVIEW_H

#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "sl/audit.h"
#include "sl/common.h"
#include "sl/config.h"
#include "sl/http.h"
#include "sl/websec.h"
#include "rules.h"

#define RV_VERSION "review-1"
#define RV_COOKIE "__Host-sluice-review"
#define RV_LOGIN_COOKIE "__Host-sluice-login"
#define RV_TOPIC_LEN 256
#define RV_NAME_MAX 64
#define RV_NOTE_MAX 2000
#define RV_PAGE_ROWS 50

typedef struct rv_pool rv_pool;

typedef struct rv_app {
    sl_config *cfg;
    rv_pool *pool;
    sl_rules *rules;
    sl_audit_signer *signer;
    int64_t lease_s, idle_s, absolute_s, reverse_window_s;
    int64_t outbox_value_max;
    const char *second_rules;          /* comma list, "" for none */
    sl_ws_rate rate_user, rate_addr;
    char topic_reviewed[RV_TOPIC_LEN], topic_rejected[RV_TOPIC_LEN];
    volatile sig_atomic_t *stop;
    /* The overview, computed at most every RV_OVERVIEW_MS (its charts
     * aggregate 30 days of items): shared by every open dashboard. */
    pthread_mutex_t ov_mu;
    json_t *ov;
    int64_t ov_at_ms;
} rv_app;

#define RV_OVERVIEW_MS 5000

/* ---- connections (review_pg.c) ---------------------------------------- */

/* n connections at most, each with statement_timeout stmt_timeout_ms (0: none). */
int      rv_pool_new(const char *dsn, size_t n, int64_t stmt_timeout_ms, rv_pool **out,
                     sl_err *err);
void     rv_pool_destroy(rv_pool *p);
/* A live connection (reconnected when broken), NULL after logging. */
PGconn  *rv_pool_get(rv_pool *p);
void     rv_pool_put(rv_pool *p, PGconn *c);

/* ---- sessions and logins ---------------------------------------------- */

typedef struct rv_session {
    char user[RV_NAME_MAX + 1];
    char role[16];
    char csrf[SL_WS_TOKEN_HEX];
} rv_session;

/* SL_OK with s filled when token names a live session (its last use is
 * recorded); SL_ENOTFOUND when not (absent, expired, revoked, disabled);
 * SL_EIO. */
int rv_session_get(rv_app *a, PGconn *c, const char *token, rv_session *s);
/* Creates a session for user; token_out gets the cookie value. */
int rv_session_new(rv_app *a, PGconn *c, const char *user, const char *client,
                   char token_out[SL_WS_TOKEN_HEX], rv_session *s);
int rv_session_end(PGconn *c, const char *token);

/* How long (ms) a login for user from client must wait (rate limit). */
int rv_login_wait(rv_app *a, PGconn *c, const char *user, const char *client,
                  int64_t *wait_ms);
/* Checks the password; records the attempt.  *ok 1 when it matched an
 * enabled account; role_out gets its role. */
int rv_login_check(PGconn *c, const char *user, const char *pw, size_t len,
                   const char *client, int *ok, char role_out[16]);

/* ---- the queue, items, overview ---------------------------------------- */

typedef struct rv_filter {
    const char *dataset, *rule, *creator, *type;
    const char *after;                 /* cursor or NULL */
} rv_filter;

/* {"items": [...], "next": cursor|null}: SL_OK, SL_EINVAL (bad cursor). */
int rv_queue(PGconn *c, const rv_filter *f, json_t **out);
/* The item as JSON (no content bytes; findings with secret spans masked
 * unless revealed by me).  SL_ENOTFOUND. */
int rv_item_json(PGconn *c, const char *upload_id, const char *me, json_t **out);
/* The stored bytes of an item (malloc'd).  SL_ENOTFOUND. */
int rv_item_bytes(PGconn *c, const char *upload_id, uint8_t **data, size_t *len,
                  char *filename, size_t fnsz);
int rv_overview(PGconn *c, json_t **out);
/* The same, from the app's cache when younger than RV_OVERVIEW_MS; *out
 * is a new reference. */
int rv_overview_cached(rv_app *a, PGconn *c, json_t **out);

/* ---- claims and decisions ---------------------------------------------- */

/* Claims upload_id for me under a lease.  SL_OK (claimed or already mine:
 * *until_ms set); SL_ENOTFOUND; SL_EINVAL when decided already
 * (why = "already_decided"); SL_ERR when another moderator holds it
 * (why = "claimed_by_other"). */
int rv_claim(rv_app *a, PGconn *c, const char *upload_id, const char *me,
             int64_t *until_ms, const char **why);

typedef struct rv_decision {
    const char *upload_id, *moderator, *role;
    const char *action;                /* approve | redact | reject */
    const char *reason, *note, *shown_sha256;
} rv_decision;

typedef struct rv_result {
    int status;                        /* HTTP status */
    const char *code;                  /* error code, NULL on success */
    char detail[256];
    char state[24];                    /* the item's state after */
    int64_t decision_id;
} rv_result;

/* The decision transaction (REVIEW_CONTRACT.md): SL_OK with res filled
 * (res->code set when refused), or SL_EIO. */
int rv_decide(rv_app *a, PGconn *c, const rv_decision *d, rv_result *res);
/* A lead's reversal of the last decision within the window. */
int rv_reverse(rv_app *a, PGconn *c, const rv_decision *d, rv_result *res);
/* Records a reveal of finding index i; SL_OK with *json the finding's
 * span text (JSON string), SL_ENOTFOUND, SL_EINVAL (no such finding). */
int rv_reveal(PGconn *c, const char *upload_id, const char *me, long finding,
              const char *client, json_t **out);

/* ---- relay (relay.c) ---------------------------------------------------- */

typedef struct rv_relay rv_relay;
int  rv_relay_start(rv_app *a, const char *dsn, rv_relay **out, sl_err *err);
void rv_relay_stop(rv_relay *r);

/* ---- pages (view.c) ----------------------------------------------------- */

int rv_view_login(sl_buf *out, const char *csrf, const char *error,
                  const char *username);
int rv_view_queue(sl_buf *out, const rv_session *s, const rv_filter *f,
                  const json_t *queue);
int rv_view_item(sl_buf *out, const rv_session *s, const json_t *item,
                 const uint8_t *content, size_t len);
int rv_view_overview(sl_buf *out, const rv_session *s, const json_t *ov);
int rv_view_error(sl_buf *out, int status, const char *code, const char *detail);

#endif
