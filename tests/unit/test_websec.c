/*
 * test_websec.c -- unit tests for common/src/websec.c: session tokens and
 * their stored hash, CSRF comparison, Argon2id passwords, session expiry,
 * the login rate limit and claim leases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sl/common.h"
#include "sl/websec.h"

static void test_tokens(void **state)
{
    char a[SL_WS_TOKEN_HEX], b[SL_WS_TOKEN_HEX], h[SL_SHA256_HEX];

    (void)state;
    assert_int_equal(sl_ws_token_new(a), SL_OK);
    assert_int_equal(sl_ws_token_new(b), SL_OK);
    assert_int_equal(strlen(a), 64);
    assert_true(sl_ws_token_valid(a));
    assert_string_not_equal(a, b);
    assert_false(sl_ws_token_valid(NULL));
    assert_false(sl_ws_token_valid(""));
    assert_false(sl_ws_token_valid("ABCDEF0000000000000000000000000000000000000000000000000000000000"));
    assert_false(sl_ws_token_valid("00000000000000000000000000000000000000000000000000000000000000000"));
    assert_false(sl_ws_token_valid("0000000000000000000000000000000000000000000000000000000000000'--"));
    /* SHA-256 of the 64 characters "000...0" (sha256sum of that text). */
    assert_int_equal(sl_ws_token_hash("0000000000000000000000000000000000000000000000000000000000000000", h), SL_OK);
    assert_string_equal(h, "60e05bd1b195af2f94112fa7197a5c88289058840ce7c6df9693756bc6250f55");
    assert_int_equal(sl_ws_token_hash("x", h), SL_EINVAL);
}

static void test_csrf_equal(void **state)
{
    const char *t = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const char *u = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdee";

    (void)state;
    assert_true(sl_ws_token_equal(t, t));
    assert_false(sl_ws_token_equal(t, u));
    assert_false(sl_ws_token_equal(t, NULL));
    assert_false(sl_ws_token_equal(t, ""));
    assert_false(sl_ws_token_equal(t, "0123456789abcdef"));
    assert_false(sl_ws_token_equal(NULL, NULL));
}

static void test_password(void **state)
{
    char h[SL_WS_PWHASH_MAX], h2[SL_WS_PWHASH_MAX];
    sl_err err = { { 0 } };
    const char *pw = "correct horse battery staple";

    (void)state;
    assert_int_equal(sl_ws_password_hash(pw, strlen(pw), h, &err), SL_OK);
    assert_memory_equal(h, "$argon2id$v=19$m=65536,t=2,p=1$", 31);
    assert_true(sl_ws_password_verify(h, pw, strlen(pw)));
    assert_false(sl_ws_password_verify(h, "correct horse battery stapl", 27));
    assert_false(sl_ws_password_verify(h, "", 0));
    /* Salted: the same password hashes twice to different strings. */
    assert_int_equal(sl_ws_password_hash(pw, strlen(pw), h2, &err), SL_OK);
    assert_string_not_equal(h, h2);
    assert_true(sl_ws_password_verify(h2, pw, strlen(pw)));
    /* Refused inputs. */
    assert_int_equal(sl_ws_password_hash("short", 5, h, &err), SL_EINVAL);
    assert_string_equal(err.msg, "password must be 12 to 1024 bytes long (got 5)");
    assert_int_equal(sl_ws_password_hash("twelve chars\nx", 14, h, &err), SL_EINVAL);
    assert_string_equal(err.msg, "password must not contain a NUL or a line break");
    /* Not an Argon2id string: never a match. */
    assert_false(sl_ws_password_verify("$argon2i$v=19$m=4096,t=3,p=1$c2FsdA$aGFzaA", pw, strlen(pw)));
    assert_false(sl_ws_password_verify("plain", "plain", 5));
    assert_false(sl_ws_password_verify(NULL, pw, strlen(pw)));
}

static void test_session_expiry(void **state)
{
    const int64_t idle = 30 * 60000, abs = 12 * 3600000;

    (void)state;
    assert_int_equal(sl_ws_session_check(1000, 1000, 0, 1000, idle, abs), SL_WS_SESSION_LIVE);
    assert_int_equal(sl_ws_session_check(1000, 1000, 0, 1000 + idle - 1, idle, abs), SL_WS_SESSION_LIVE);
    assert_int_equal(sl_ws_session_check(1000, 1000, 0, 1000 + idle, idle, abs), SL_WS_SESSION_IDLE);
    /* Active all along, but past the absolute limit. */
    assert_int_equal(sl_ws_session_check(1000, 1000 + abs - 5, 0, 1000 + abs, idle, abs), SL_WS_SESSION_EXPIRED);
    assert_int_equal(sl_ws_session_check(1000, 1000 + abs - 5, 0, 1000 + abs - 1, idle, abs), SL_WS_SESSION_LIVE);
    /* Logged out: revoked, whatever the times. */
    assert_int_equal(sl_ws_session_check(1000, 1000, 1, 1001, idle, abs), SL_WS_SESSION_REVOKED);
    assert_string_equal(sl_ws_session_state_name(SL_WS_SESSION_IDLE), "session_idle");
    assert_string_equal(sl_ws_session_state_name(SL_WS_SESSION_EXPIRED), "session_expired");
}

static void test_rate_limit(void **state)
{
    const sl_ws_rate r = { .window_ms = 60000, .max_failures = 3 };
    const int64_t two[] = { 10000, 20000 };
    const int64_t three[] = { 30000, 10000, 20000 };         /* any order */
    const int64_t old[] = { 1000, 2000, 50000, 70000 };

    (void)state;
    assert_int_equal(sl_ws_rate_wait_ms(&r, NULL, 0, 30000), 0);
    assert_int_equal(sl_ws_rate_wait_ms(&r, two, 2, 30000), 0);
    /* Three inside the window: wait until the oldest of them (10 s) leaves
     * it, at 70 s. */
    assert_int_equal(sl_ws_rate_wait_ms(&r, three, 3, 30000), 40000);
    assert_int_equal(sl_ws_rate_wait_ms(&r, three, 3, 69999), 1);
    assert_int_equal(sl_ws_rate_wait_ms(&r, three, 3, 70000), 0);
    /* Two of four lie outside the window at 75 s: not limited. */
    assert_int_equal(sl_ws_rate_wait_ms(&r, old, 4, 75000), 0);
    /* At 60.5 s, 1, 2 and 50 s are inside (70 s is in the future and does
     * not count): wait until 1 s leaves, at 61 s. */
    assert_int_equal(sl_ws_rate_wait_ms(&r, old, 4, 60500), 500);
    /* ... at 55 s three (1, 2, 50 s) are inside: wait for 1 s to leave. */
    assert_int_equal(sl_ws_rate_wait_ms(&r, old, 3, 55000), 6000);
}

static void test_lease(void **state)
{
    (void)state;
    assert_int_equal(sl_ws_lease_check(NULL, 0, "ann", 100), SL_WS_LEASE_FREE);
    assert_int_equal(sl_ws_lease_check("", 500, "ann", 100), SL_WS_LEASE_FREE);
    assert_int_equal(sl_ws_lease_check("ann", 500, "ann", 100), SL_WS_LEASE_MINE);
    assert_int_equal(sl_ws_lease_check("bob", 500, "ann", 100), SL_WS_LEASE_TAKEN);
    assert_int_equal(sl_ws_lease_check("bob", 500, "ann", 499), SL_WS_LEASE_TAKEN);
    /* The lease ran out: free for anyone, its holder included. */
    assert_int_equal(sl_ws_lease_check("bob", 500, "ann", 500), SL_WS_LEASE_FREE);
    assert_int_equal(sl_ws_lease_check("ann", 500, "ann", 501), SL_WS_LEASE_FREE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_csrf_equal),
        cmocka_unit_test(test_password),
        cmocka_unit_test(test_session_expiry),
        cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_lease),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
