/*
 * test_feed_token.c -- unit tests for services/feed/token.c and
 * signurl.c: feed tokens (new, well-formed, their stored hash), the
 * Authorization header parser, and signed content URLs (the MAC over the
 * documented text, expiry at the boundary, every tampered part refused)
 * and the content URL the feed's lines and manifests carry.
 * Hashes and MACs below were computed apart from the code (sha256sum,
 * Python's hmac).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "feed_logic.h"

#define HEX0 "0000000000000000000000000000000000000000000000000000000000000000"
#define HEXA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_token_new(void **state)
{
    char a[FD_TOKEN_MAX], b[FD_TOKEN_MAX];
    fd_holder k = 0;

    (void)state;
    assert_int_equal(fd_token_new(FD_HOLDER_CONSUMER, a), SL_OK);
    assert_int_equal(fd_token_new(FD_HOLDER_CONSUMER, b), SL_OK);
    assert_int_equal(strlen(a), 68);
    assert_memory_equal(a, "slc_", 4);
    assert_string_not_equal(a, b);
    assert_int_equal(fd_token_check(a, &k), SL_OK);
    assert_int_equal(k, FD_HOLDER_CONSUMER);
    assert_int_equal(fd_token_new(FD_HOLDER_CREATOR, a), SL_OK);
    assert_memory_equal(a, "slr_", 4);
    assert_int_equal(fd_token_check(a, &k), SL_OK);
    assert_int_equal(k, FD_HOLDER_CREATOR);
    assert_int_equal(fd_token_new((fd_holder)7, a), SL_EINVAL);
}

static void test_token_hash(void **state)
{
    char h[SL_SHA256_HEX];

    (void)state;
    /* printf 'slc_%064d' 0 | sha256sum */
    assert_int_equal(fd_token_hash("slc_" HEX0, h), SL_OK);
    assert_string_equal(h, "8c046d63e80eb72a46a272a79f553702871a3201c96b471c29dc77c29d4bd036");
    assert_int_equal(fd_token_hash(HEX0, h), SL_EINVAL);       /* no prefix */
    assert_int_equal(fd_token_hash("slx_" HEX0, h), SL_EINVAL);
    assert_int_equal(fd_token_hash("slc_" HEX0 "0", h), SL_EINVAL);
    assert_int_equal(fd_token_hash(NULL, h), SL_EINVAL);
}

static void test_bearer_ok(void **state)
{
    char t[FD_TOKEN_MAX];
    fd_holder k = 0;

    (void)state;
    assert_int_equal(fd_bearer_parse("Bearer slc_" HEXA, t, &k), SL_OK);
    assert_string_equal(t, "slc_" HEXA);
    assert_int_equal(k, FD_HOLDER_CONSUMER);
    assert_int_equal(fd_bearer_parse("bearer   slr_" HEX0, t, &k), SL_OK);
    assert_string_equal(t, "slr_" HEX0);
    assert_int_equal(k, FD_HOLDER_CREATOR);
    assert_int_equal(fd_bearer_parse("BEARER slc_" HEXA " ", t, &k), SL_OK);
    assert_string_equal(t, "slc_" HEXA);
}

static void test_bearer_refused(void **state)
{
    static const char *bad[] = {
        "",
        "Bearer",
        "Bearer ",
        "Basic c2x1aWNlOnNlY3JldA==",
        "Bearer\tslc_" HEXA,                    /* a tab is not SP */
        "Bearerslc_" HEXA,
        "Token slc_" HEXA,
        "Bearer slc_" HEXA "0",                 /* too long */
        "Bearer slc_" HEXA " x",                /* a second token */
        "Bearer slc_0123456789abcdef",          /* too short */
        "Bearer slc_0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
        "Bearer slx_" HEXA,                     /* unknown prefix */
        "Bearer " HEXA,                         /* bare sl_ws token */
        "Bearer slc-" HEXA,
        "Bearer slc_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg",
        "Bearer slc_0123456789abcdef0123456789abcdef0123456789abcdef'--456789abcdef",
        "Bearer slc_" HEXA ",Bearer slc_" HEXA,
    };
    char t[FD_TOKEN_MAX];
    fd_holder k = 0;
    size_t i;

    (void)state;
    assert_int_equal(fd_bearer_parse(NULL, t, &k), SL_EINVAL);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (fd_bearer_parse(bad[i], t, &k) != SL_EINVAL)
            fail_msg("header %zu \"%s\" accepted", i, bad[i]);
    }
    assert_int_equal(k, 0);
}

static const uint8_t key[FD_URLKEY_BYTES] = {
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
    16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
};

/* hmac.new(bytes(range(32)), b"GET\n/v1/samples/u-1/content\nacme\n1767225600",
 *          hashlib.sha256).hexdigest() */
#define SIG1 "5d763a7a61e74cf83700dd1a272c1ee86f06f6566553ee391dae98fae44fbd81"

static void test_url_sign(void **state)
{
    sl_buf b;

    (void)state;
    sl_buf_init(&b, 1024);
    assert_int_equal(fd_url_sign(key, "u-1", "acme", 1767225600, &b), SL_OK);
    assert_string_equal((const char *)b.data, "c=acme&exp=1767225600&sig=" SIG1);
    sl_buf_reset(&b);
    assert_int_equal(fd_url_sign(key, "", "acme", 1, &b), SL_EINVAL);
    assert_int_equal(fd_url_sign(key, "u-1", NULL, 1, &b), SL_EINVAL);
    assert_int_equal(fd_url_sign(key, "u-1\nx", "acme", 1, &b), SL_EINVAL);
    assert_int_equal(fd_url_sign(key, "u-1", "ac me", 1, &b), SL_EINVAL);
    assert_int_equal(fd_url_sign(key, "u-1", "acme", -1, &b), SL_EINVAL);
    sl_buf_free(&b);
}

static void test_url_verify(void **state)
{
    uint8_t other[FD_URLKEY_BYTES];

    (void)state;
    assert_int_equal(fd_url_verify(key, "u-1", "acme", "1767225600", SIG1, 1767225000), FD_URL_OK);
    /* the boundary: at exp still good, one second later expired */
    assert_int_equal(fd_url_verify(key, "u-1", "acme", "1767225600", SIG1, 1767225600), FD_URL_OK);
    assert_int_equal(fd_url_verify(key, "u-1", "acme", "1767225600", SIG1, 1767225601), FD_URL_EXPIRED);
    /* every part tampered with */
    assert_int_equal(fd_url_verify(key, "u-2", "acme", "1767225600", SIG1, 0), FD_URL_BAD);
    assert_int_equal(fd_url_verify(key, "u-1", "acmf", "1767225600", SIG1, 0), FD_URL_BAD);
    assert_int_equal(fd_url_verify(key, "u-1", "acme", "1767225601", SIG1, 0), FD_URL_BAD);
    assert_int_equal(fd_url_verify(key, "u-1", "acme", "1767225600",
        "5d763a7a61e74cf83700dd1a272c1ee86f06f6566553ee391dae98fae44fbd80", 0), FD_URL_BAD);
    /* a forged MAC past its expiry is bad, not expired */
    assert_int_equal(fd_url_verify(key, "u-1", "acme", "1",
        "5d763a7a61e74cf83700dd1a272c1ee86f06f6566553ee391dae98fae44fbd80", 99), FD_URL_BAD);
    /* one text per value: no uppercase hex, no leading zero, no sign */
    assert_int_equal(fd_url_verify(key, "u-1", "acme", "1767225600",
        "5D763A7A61E74CF83700DD1A272C1EE86F06F6566553EE391DAE98FAE44FBD81", 0), FD_URL_BAD);
    assert_int_equal(fd_url_verify(key, "u-1", "acme", "01767225600", SIG1, 0), FD_URL_BAD);
    assert_int_equal(fd_url_verify(key, "u-1", "acme", "+1767225600", SIG1, 0), FD_URL_BAD);
    assert_int_equal(fd_url_verify(key, "u-1", "acme", "1767225600 ", SIG1, 0), FD_URL_BAD);
    assert_int_equal(fd_url_verify(key, "u-1", "acme", "99999999999999999999", SIG1, 0), FD_URL_BAD);
    assert_int_equal(fd_url_verify(key, "u-1", "acme", "1767225600", SIG1 "0", 0), FD_URL_BAD);
    assert_int_equal(fd_url_verify(key, "u-1", "acme", "1767225600", "5d76", 0), FD_URL_BAD);
    /* missing parts */
    assert_int_equal(fd_url_verify(key, "u-1", NULL, "1767225600", SIG1, 0), FD_URL_BAD);
    assert_int_equal(fd_url_verify(key, "u-1", "acme", NULL, SIG1, 0), FD_URL_BAD);
    assert_int_equal(fd_url_verify(key, "u-1", "acme", "1767225600", NULL, 0), FD_URL_BAD);
    assert_int_equal(fd_url_verify(key, "u-1", "acme", "", SIG1, 0), FD_URL_BAD);
    /* another key */
    memcpy(other, key, sizeof other);
    other[31] ^= 1;
    assert_int_equal(fd_url_verify(other, "u-1", "acme", "1767225600", SIG1, 0), FD_URL_BAD);
}

static void test_url_round_trip(void **state)
{
    sl_buf b;
    char exp[32], sig[65];
    const char *p;

    (void)state;
    sl_buf_init(&b, 1024);
    assert_int_equal(fd_url_sign(key, "u-9:x.y", "buyer_1", 0, &b), SL_OK);
    p = strstr((const char *)b.data, "&exp=");
    assert_non_null(p);
    assert_int_equal(sscanf(p, "&exp=%31[0-9]&sig=%64[0-9a-f]", exp, sig), 2);
    assert_string_equal(exp, "0");
    assert_int_equal(fd_url_verify(key, "u-9:x.y", "buyer_1", exp, sig, 0), FD_URL_OK);
    assert_int_equal(fd_url_verify(key, "u-9:x.y", "buyer_1", exp, sig, 1), FD_URL_EXPIRED);
    sl_buf_free(&b);
}

static void test_content_url(void **state)
{
    sl_buf b;

    (void)state;
    sl_buf_init(&b, 1024);
    assert_int_equal(fd_content_url(&b, "https://feed.example/", "u-1", key, "acme",
                                     1767225600), SL_OK);
    assert_string_equal((const char *)b.data,
        "https://feed.example/v1/samples/u-1/content?c=acme&exp=1767225600&sig=" SIG1);
    sl_buf_reset(&b);
    assert_int_equal(fd_content_url(&b, "http://127.0.0.1:8480", "u-2:x", NULL, NULL, 0), SL_OK);
    assert_string_equal((const char *)b.data, "http://127.0.0.1:8480/v1/samples/u-2:x/content");
    sl_buf_reset(&b);
    assert_int_equal(fd_content_url(&b, "http://h", "u/..", NULL, NULL, 0), SL_OK);
    assert_string_equal((const char *)b.data, "http://h/v1/samples/u%2F../content");
    sl_buf_reset(&b);
    assert_int_equal(fd_content_url(&b, "", "u-1", NULL, NULL, 0), SL_EINVAL);
    assert_int_equal(fd_content_url(&b, "http://h", "u 1", NULL, NULL, 0), SL_EINVAL);
    assert_int_equal(fd_content_url(&b, "http://h", "u-1", key, NULL, 0), SL_EINVAL);
    sl_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_new),
        cmocka_unit_test(test_token_hash),
        cmocka_unit_test(test_bearer_ok),
        cmocka_unit_test(test_bearer_refused),
        cmocka_unit_test(test_url_sign),
        cmocka_unit_test(test_url_verify),
        cmocka_unit_test(test_url_round_trip),
        cmocka_unit_test(test_content_url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
