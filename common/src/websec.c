/*
 * websec.c -- tokens, CSRF comparison, Argon2id passwords, session expiry,
 * login rate limits and claim leases for the web services (sl/websec.h).
 *
 * libsodium does the cryptography (randombytes_buf, sodium_memcmp,
 * crypto_pwhash_str); SHA-256 comes from sl/crypto.h.  Everything else is
 * arithmetic on times the caller read from its store.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sl/websec.h"

static int sodium_ready(void)
{
    return sodium_init() >= 0;   /* 0 first time, 1 after: both fine */
}

int sl_ws_token_new(char out[SL_WS_TOKEN_HEX])
{
    uint8_t raw[SL_WS_TOKEN_BYTES];

    if (!sodium_ready())
        return SL_ERR;
    randombytes_buf(raw, sizeof raw);
    sl_hex_encode(raw, sizeof raw, out);
    sodium_memzero(raw, sizeof raw);
    return SL_OK;
}

int sl_ws_token_valid(const char *s)
{
    size_t i;

    if (!s)
        return 0;
    for (i = 0; i < SL_WS_TOKEN_HEX - 1; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
    }
    return s[i] == '\0';
}

int sl_ws_token_hash(const char *token, char out[SL_SHA256_HEX])
{
    if (!sl_ws_token_valid(token))
        return SL_EINVAL;
    return sl_sha256_hex(token, SL_WS_TOKEN_HEX - 1, out);
}

int sl_ws_token_equal(const char *expected, const char *given)
{
    if (!sl_ws_token_valid(expected) || !sl_ws_token_valid(given))
        return 0;
    if (!sodium_ready())
        return 0;
    return sodium_memcmp(expected, given, SL_WS_TOKEN_HEX - 1) == 0;
}

int sl_ws_password_hash(const char *pw, size_t len,
                        char out[SL_WS_PWHASH_MAX], sl_err *err)
{
    char h[crypto_pwhash_STRBYTES];

    if (len < SL_WS_PASSWORD_MIN || len > SL_WS_PASSWORD_MAX) {
        sl_err_set(err, "password must be %d to %d bytes long (got %zu)",
                   SL_WS_PASSWORD_MIN, SL_WS_PASSWORD_MAX, len);
        return SL_EINVAL;
    }
    if (memchr(pw, '\0', len) || memchr(pw, '\n', len) || memchr(pw, '\r', len)) {
        sl_err_set(err, "password must not contain a NUL or a line break");
        return SL_EINVAL;
    }
    if (!sodium_ready()) {
        sl_err_set(err, "libsodium could not start");
        return SL_ERR;
    }
    if (crypto_pwhash_str_alg(h, pw, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE,
                              crypto_pwhash_ALG_ARGON2ID13) != 0) {
        sl_err_set(err, "out of memory hashing the password");
        return SL_ENOMEM;
    }
    if (strlen(h) >= SL_WS_PWHASH_MAX) {
        sl_err_set(err, "password hash longer than expected");
        return SL_ERR;
    }
    memcpy(out, h, strlen(h) + 1);
    return SL_OK;
}

int sl_ws_password_verify(const char *hash, const char *pw, size_t len)
{
    if (!hash || !pw || len > SL_WS_PASSWORD_MAX || !sodium_ready())
        return 0;
    if (strncmp(hash, crypto_pwhash_argon2id_STRPREFIX,
                strlen(crypto_pwhash_argon2id_STRPREFIX)) != 0)
        return 0;
    if (strlen(hash) >= crypto_pwhash_STRBYTES)
        return 0;
    return crypto_pwhash_str_verify(hash, pw, len) == 0;
}

sl_ws_session_state sl_ws_session_check(int64_t created_ms, int64_t last_seen_ms,
                                        int revoked, int64_t now_ms,
                                        int64_t idle_ms, int64_t absolute_ms)
{
    if (revoked)
        return SL_WS_SESSION_REVOKED;
    if (now_ms - created_ms >= absolute_ms)
        return SL_WS_SESSION_EXPIRED;
    if (now_ms - last_seen_ms >= idle_ms)
        return SL_WS_SESSION_IDLE;
    return SL_WS_SESSION_LIVE;
}

const char *sl_ws_session_state_name(sl_ws_session_state s)
{
    switch (s) {
    case SL_WS_SESSION_LIVE:    return "live";
    case SL_WS_SESSION_IDLE:    return "session_idle";
    case SL_WS_SESSION_EXPIRED: return "session_expired";
    case SL_WS_SESSION_REVOKED: return "session_revoked";
    }
    return "session_unknown";
}

static int cmp_desc(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x < y) - (x > y);
}

int64_t sl_ws_rate_wait_ms(const sl_ws_rate *r, const int64_t *fail_ms,
                           size_t n, int64_t now_ms)
{
    int64_t *t, wait = 0;
    size_t i, in = 0;

    if (r->max_failures == 0)
        return 0;
    if (n < r->max_failures)
        return 0;
    t = malloc(n * sizeof *t);
    if (!t)
        return r->window_ms;      /* cannot count: refuse, safely */
    memcpy(t, fail_ms, n * sizeof *t);
    qsort(t, n, sizeof *t, cmp_desc);
    for (i = 0; i < n; i++)
        if (t[i] > now_ms - r->window_ms && t[i] <= now_ms)
            in++;
    if (in >= r->max_failures) {
        /* The max_failures-th most recent failure inside the window: once
         * it leaves, fewer than max_failures remain. */
        size_t k = 0;
        for (i = 0; i < n; i++) {
            if (t[i] > now_ms - r->window_ms && t[i] <= now_ms && ++k == r->max_failures) {
                wait = t[i] + r->window_ms - now_ms;
                break;
            }
        }
    }
    free(t);
    return wait;
}

sl_ws_lease sl_ws_lease_check(const char *holder, int64_t until_ms,
                              const char *me, int64_t now_ms)
{
    if (!holder || !*holder || now_ms >= until_ms)
        return SL_WS_LEASE_FREE;
    if (me && strcmp(holder, me) == 0)
        return SL_WS_LEASE_MINE;
    return SL_WS_LEASE_TAKEN;
}
