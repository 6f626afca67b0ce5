/*
 * test_feed_range.c -- unit tests for services/feed/range.c: Range
 * (RFC 9110 14.1.1, 14.2) against a representation's size -- int ranges,
 * open ranges, suffix ranges, past the end, numbers beyond 64 bits,
 * whitespace, several ranges, malformed headers -- and entity tags:
 * the ETag text, If-None-Match (weak comparison, "*", lists, malformed)
 * and If-Range (strong comparison only).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "feed_logic.h"

/* Expects one range first..last of a size-byte representation. */
#define ONE(h, size, f, l)                                                   \
    do {                                                                     \
        fd_range r_ = { 777, 777 };                                          \
        if (fd_range_parse((h), (size), &r_) != FD_RANGE_ONE)                \
            fail_msg("\"%s\" of %llu: not one range", (h),                   \
                     (unsigned long long)(size));                            \
        if (r_.first != (uint64_t)(f) || r_.last != (uint64_t)(l))           \
            fail_msg("\"%s\" of %llu: %llu-%llu, want %llu-%llu", (h),       \
                     (unsigned long long)(size),                             \
                     (unsigned long long)r_.first, (unsigned long long)r_.last, \
                     (unsigned long long)(f), (unsigned long long)(l));      \
    } while (0)

#define KIND(h, size, k)                                                     \
    do {                                                                     \
        fd_range r_ = { 777, 777 };                                          \
        if (fd_range_parse((h), (size), &r_) != (k))                         \
            fail_msg("\"%s\" of %llu: want kind %d", (h) ? (h) : "(null)",   \
                     (unsigned long long)(size), (int)(k));                  \
    } while (0)

static void test_int_ranges(void **state)
{
    (void)state;
    ONE("bytes=0-0", 100, 0, 0);
    ONE("bytes=0-99", 100, 0, 99);
    ONE("bytes=10-19", 100, 10, 19);
    ONE("bytes=99-99", 100, 99, 99);
    ONE("bytes=90-1000", 100, 90, 99);               /* last clipped */
    ONE("bytes=0-18446744073709551615", 100, 0, 99);
    ONE("bytes=0-99999999999999999999999999", 100, 0, 99);   /* > 2^64 */
    ONE("Bytes=5-9", 100, 5, 9);                     /* unit case-insensitive */
    ONE("BYTES=5-9", 100, 5, 9);
}

static void test_open_and_suffix(void **state)
{
    (void)state;
    ONE("bytes=0-", 100, 0, 99);
    ONE("bytes=42-", 100, 42, 99);
    ONE("bytes=99-", 100, 99, 99);
    ONE("bytes=-1", 100, 99, 99);
    ONE("bytes=-10", 100, 90, 99);
    ONE("bytes=-100", 100, 0, 99);
    ONE("bytes=-500", 100, 0, 99);                   /* longer than it: all */
    ONE("bytes=-99999999999999999999999999", 100, 0, 99);
    ONE("bytes=-1", 1, 0, 0);
}

static void test_unsatisfiable(void **state)
{
    (void)state;
    KIND("bytes=100-", 100, FD_RANGE_UNSATISFIABLE);
    KIND("bytes=100-200", 100, FD_RANGE_UNSATISFIABLE);
    KIND("bytes=18446744073709551615-", 100, FD_RANGE_UNSATISFIABLE);
    KIND("bytes=99999999999999999999999999-", 100, FD_RANGE_UNSATISFIABLE);
    KIND("bytes=-0", 100, FD_RANGE_UNSATISFIABLE);
    KIND("bytes=0-", 0, FD_RANGE_UNSATISFIABLE);     /* empty content */
    KIND("bytes=-5", 0, FD_RANGE_UNSATISFIABLE);
}

static void test_whitespace_and_lists(void **state)
{
    (void)state;
    ONE("  bytes=1-2  ", 100, 1, 2);                 /* OWS around the value */
    ONE("bytes= 1-2", 100, 1, 2);
    ONE("bytes=1-2 ,", 100, 1, 2);                   /* empty list elements */
    ONE("bytes=, ,1-2", 100, 1, 2);
    ONE("bytes=1-2\t", 100, 1, 2);
    /* several ranges: not served, the whole content instead */
    KIND("bytes=0-0,-1", 100, FD_RANGE_NONE);
    KIND("bytes=0-10, 20-30", 100, FD_RANGE_NONE);
    KIND("bytes=0-10,0-10", 100, FD_RANGE_NONE);
    KIND("bytes=200-300,400-500", 100, FD_RANGE_NONE);
}

static void test_ignored(void **state)
{
    static const char *bad[] = {
        "", "bytes", "bytes=", "bytes= ", "bytes=,", "bytes=-", "bytes=--1",
        "bytes=1", "bytes=a-b", "bytes=5-4", "bytes=1-2-3", "bytes=1 -2",
        "bytes=1- 2", "bytes =1-2", "bytes=+1-2", "bytes=0x10-20",
        "bytes=1-2;q=1", "items=0-1", "bytes:0-1", "bytesx=0-1",
        "bytes=1-2 3", "bytes=-1-2", "bytes=\xff-1", "0-1",
    };
    size_t i;

    (void)state;
    KIND(NULL, 100, FD_RANGE_NONE);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        KIND(bad[i], 100, FD_RANGE_NONE);
}

#define SHA "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define TAG "\"sha256:" SHA "\""

static void test_etag(void **state)
{
    char e[FD_ETAG_MAX];

    (void)state;
    assert_int_equal(fd_etag(SHA, e), SL_OK);
    assert_string_equal(e, "\"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"");
    assert_int_equal(fd_etag("9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08", e), SL_EINVAL);
    assert_int_equal(fd_etag(SHA "0", e), SL_EINVAL);
    assert_int_equal(fd_etag("abc", e), SL_EINVAL);
    assert_int_equal(fd_etag("\"" SHA, e), SL_EINVAL);
    assert_int_equal(fd_etag(NULL, e), SL_EINVAL);
}

static void test_if_none_match(void **state)
{
    (void)state;
    assert_int_equal(fd_etag_none_match(TAG, TAG), 1);
    assert_int_equal(fd_etag_none_match("W/" TAG, TAG), 1);     /* weak comparison */
    assert_int_equal(fd_etag_none_match("*", TAG), 1);
    assert_int_equal(fd_etag_none_match(" * ", TAG), 1);
    assert_int_equal(fd_etag_none_match("\"x\", " TAG, TAG), 1);
    assert_int_equal(fd_etag_none_match("\"x\",W/" TAG " ,\"y\"", TAG), 1);
    assert_int_equal(fd_etag_none_match(",," TAG ",", TAG), 1);
    assert_int_equal(fd_etag_none_match(NULL, TAG), 0);
    assert_int_equal(fd_etag_none_match("", TAG), 0);
    assert_int_equal(fd_etag_none_match("\"x\"", TAG), 0);
    assert_int_equal(fd_etag_none_match("sha256:" SHA, TAG), 0);   /* unquoted */
    assert_int_equal(fd_etag_none_match("\"sha256:" SHA, TAG), 0); /* unterminated */
    assert_int_equal(fd_etag_none_match("w/" TAG, TAG), 0);       /* W is case-sensitive */
    assert_int_equal(fd_etag_none_match("*, " TAG, TAG), 0);      /* "*" alone only */
    assert_int_equal(fd_etag_none_match(TAG " garbage", TAG), 0);
    assert_int_equal(fd_etag_none_match("\"a\"b\", " TAG, TAG), 0);
    assert_int_equal(fd_etag_none_match(TAG, NULL), 0);
}

static void test_if_range(void **state)
{
    (void)state;
    assert_int_equal(fd_if_range_ok(NULL, TAG), 1);
    assert_int_equal(fd_if_range_ok("", TAG), 1);
    assert_int_equal(fd_if_range_ok(TAG, TAG), 1);
    assert_int_equal(fd_if_range_ok(" " TAG " ", TAG), 1);
    assert_int_equal(fd_if_range_ok("W/" TAG, TAG), 0);          /* weak: never */
    assert_int_equal(fd_if_range_ok("\"sha256:00\"", TAG), 0);
    assert_int_equal(fd_if_range_ok("Thu, 03 Dec 2026 13:00:00 GMT", TAG), 0);
    assert_int_equal(fd_if_range_ok(TAG ", " TAG, TAG), 0);
    assert_int_equal(fd_if_range_ok("*", TAG), 0);
    assert_int_equal(fd_if_range_ok(TAG, "W/" TAG), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_int_ranges),
        cmocka_unit_test(test_open_and_suffix),
        cmocka_unit_test(test_unsatisfiable),
        cmocka_unit_test(test_whitespace_and_lists),
        cmocka_unit_test(test_ignored),
        cmocka_unit_test(test_etag),
        cmocka_unit_test(test_if_none_match),
        cmocka_unit_test(test_if_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
