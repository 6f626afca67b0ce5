/*
 * websec.h -- the security decisions of a web service, kept pure.
 *
 * What every HTTP service of sluice (the review dashboard, the delivery
 * feed) decides about its callers, without I/O: random session tokens and
 * the hash under which a server stores them, CSRF tokens compared in
 * constant time, Argon2id password hashes (libsodium crypto_pwhash_str),
 * when a session has expired (idle and absolute), when a login must wait
 * (failures per account and per client address in a sliding window), and
 * who holds a claim lease.  The service keeps the state (PostgreSQL) and
 * asks these functions; the unit tests ask them the same questions.
 *
 * Part of sl_core (libsodium only): no database, no network.
 */
#ifndef SL_WEBSEC_H
#define SL_WEBSEC_H

#include <stddef.h>
#include <stdint.h>

#include "sl/common.h"
#include "sl/crypto.h"

/* ---- tokens ------------------------------------------------------------ */

/* A token: 32 random bytes (256 bits, libsodium randombytes_buf) as 64
 * lowercase hex digits + NUL.  Session ids and CSRF tokens are tokens. */
#define SL_WS_TOKEN_BYTES 32
#define SL_WS_TOKEN_HEX   65

/* Fills out with a new token.  SL_OK, or SL_ERR when libsodium cannot
 * start (sodium_init failed). */
int sl_ws_token_new(char out[SL_WS_TOKEN_HEX]);

/* 1 when s is exactly 64 lowercase hex digits, else 0 (NULL: 0).  A cookie
 * or form value is checked with this before it reaches a query. */
int sl_ws_token_valid(const char *s);

/* What the server stores for a session token: the lowercase hex SHA-256
 * of its 64 characters, so a read of the sessions table yields no usable
 * cookie.  SL_OK, or SL_EINVAL when token is not a valid token. */
int sl_ws_token_hash(const char *token, char out[SL_SHA256_HEX]);

/* 1 when given equals expected, compared in constant time over the token
 * length (sodium_memcmp); 0 when either is NULL, not a valid token, or
 * they differ.  For CSRF tokens. */
int sl_ws_token_equal(const char *expected, const char *given);

/* ---- passwords --------------------------------------------------------- */

/* Hash strings of crypto_pwhash_str: "$argon2id$v=19$m=...,t=...,p=1$..." */
#define SL_WS_PWHASH_MAX 128
/* Accepted password lengths in bytes: long enough to mean something, short
 * enough that hashing an attacker's input stays bounded. */
#define SL_WS_PASSWORD_MIN 12
#define SL_WS_PASSWORD_MAX 1024

/* Argon2id with libsodium's interactive limits (64 MiB, 2 passes).
 * SL_OK; SL_EINVAL when len is outside [MIN, MAX] (err says which) or the
 * password holds a NUL or a line break; SL_ENOMEM when the memory for the
 * hash is not available. */
int sl_ws_password_hash(const char *pw, size_t len,
                        char out[SL_WS_PWHASH_MAX], sl_err *err);

/* 1 when pw matches the stored hash, 0 when not (also when the hash is not
 * an Argon2id string, or len exceeds SL_WS_PASSWORD_MAX). */
int sl_ws_password_verify(const char *hash, const char *pw, size_t len);

/* ---- sessions ---------------------------------------------------------- */

typedef enum sl_ws_session_state {
    SL_WS_SESSION_LIVE = 0,
    SL_WS_SESSION_IDLE,         /* no request for longer than idle_ms */
    SL_WS_SESSION_EXPIRED,      /* older than absolute_ms */
    SL_WS_SESSION_REVOKED       /* logged out (or the account disabled) */
} sl_ws_session_state;

/* State of a session created at created_ms, last used at last_seen_ms,
 * revoked (nonzero) or not, at now_ms.  Revoked wins, then absolute, then
 * idle; a boundary is already expired (age == limit). */
sl_ws_session_state sl_ws_session_check(int64_t created_ms, int64_t last_seen_ms,
                                        int revoked, int64_t now_ms,
                                        int64_t idle_ms, int64_t absolute_ms);
const char *sl_ws_session_state_name(sl_ws_session_state s);

/* ---- login rate limit -------------------------------------------------- */

/* At most max_failures failed logins within window_ms, counted separately
 * per account and per client address. */
typedef struct sl_ws_rate {
    int64_t window_ms;
    unsigned max_failures;
} sl_ws_rate;

/* How long (ms) a login must wait given the times of the recent failures
 * (any order, n of them, for one account or one address): 0 when fewer
 * than max_failures lie within the window before now_ms, otherwise until
 * the max_failures-th most recent one leaves the window. */
int64_t sl_ws_rate_wait_ms(const sl_ws_rate *r, const int64_t *fail_ms,
                           size_t n, int64_t now_ms);

/* ---- claim leases ------------------------------------------------------ */

typedef enum sl_ws_lease {
    SL_WS_LEASE_FREE = 0,       /* nobody holds it, or the lease ran out */
    SL_WS_LEASE_MINE,           /* held by me, still running */
    SL_WS_LEASE_TAKEN           /* held by someone else, still running */
} sl_ws_lease;

/* Who holds a lease held by holder (NULL or "": nobody) until until_ms, as
 * seen by me at now_ms.  A lease whose end has come (now >= until) is free. */
sl_ws_lease sl_ws_lease_check(const char *holder, int64_t until_ms,
                              const char *me, int64_t now_ms);

#endif
