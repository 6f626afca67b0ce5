/*
 * test_feed_cursor.c -- unit tests for services/feed/cursor.c: feed
 * cursors are stable texts (the literals below were computed apart from
 * the code, with Python's hashlib and base64 over the documented layout),
 * bound to their stream and dataset, and every malformed, truncated,
 * altered or foreign cursor is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "feed_logic.h"

static void test_encode_literals(void **state)
{
    char c[FD_CURSOR_MAX];

    (void)state;
    assert_int_equal(fd_cursor_encode(FD_STREAM_SAMPLES, "ds-1", 0, c), SL_OK);
    assert_string_equal(c, "sAQAAAAAAAAAAYeHsiJBd");
    assert_int_equal(fd_cursor_encode(FD_STREAM_SAMPLES, "ds-1", 1, c), SL_OK);
    assert_string_equal(c, "sAQAAAAAAAAABPK014Vl5");
    assert_int_equal(fd_cursor_encode(FD_STREAM_SAMPLES, "ds-1", 42, c), SL_OK);
    assert_string_equal(c, "sAQAAAAAAAAAqyPpsrVCf");
    assert_int_equal(fd_cursor_encode(FD_STREAM_CHANGES, "ds-1", 42, c), SL_OK);
    assert_string_equal(c, "cAQAAAAAAAAAqjyLfIYIg");
    assert_int_equal(fd_cursor_encode(FD_STREAM_SAMPLES, "ds-2", 42, c), SL_OK);
    assert_string_equal(c, "sAQAAAAAAAAAqYRwoUuCX");
    assert_int_equal(fd_cursor_encode(FD_STREAM_UPLOADS, "cr-1", 7, c), SL_OK);
    assert_string_equal(c, "uAQAAAAAAAAAHb_LbLxGQ");
    assert_int_equal(fd_cursor_encode(FD_STREAM_SAMPLES, "ds-1", INT64_MAX, c), SL_OK);
    assert_string_equal(c, "sAX__________1W_pUTgl");
}

static void test_encode_refuses(void **state)
{
    char c[FD_CURSOR_MAX];

    (void)state;
    assert_int_equal(fd_cursor_encode(FD_STREAM_SAMPLES, NULL, 1, c), SL_EINVAL);
    assert_int_equal(fd_cursor_encode(FD_STREAM_SAMPLES, "", 1, c), SL_EINVAL);
    assert_int_equal(fd_cursor_encode(FD_STREAM_SAMPLES, "ds-1",
                                      (uint64_t)INT64_MAX + 1, c), SL_EINVAL);
    assert_int_equal(fd_cursor_encode((fd_stream)'x', "ds-1", 1, c), SL_EINVAL);
}

static void test_decode_round_trip(void **state)
{
    static const uint64_t seqs[] = { 0, 1, 255, 256, 65535, 1000000,
                                     4294967296ULL, INT64_MAX };
    char c[FD_CURSOR_MAX];
    uint64_t got;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof seqs / sizeof seqs[0]; i++) {
        assert_int_equal(fd_cursor_encode(FD_STREAM_SAMPLES, "dataset.a:b", seqs[i], c), SL_OK);
        assert_int_equal(strlen(c), 21);
        assert_int_equal(strspn(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 21);
        got = 99;
        assert_int_equal(fd_cursor_decode(c, FD_STREAM_SAMPLES, "dataset.a:b", &got), SL_OK);
        assert_true(got == seqs[i]);
    }
    got = 99;
    assert_int_equal(fd_cursor_decode("sAQAAAAAAAAAqyPpsrVCf", FD_STREAM_SAMPLES, "ds-1", &got), SL_OK);
    assert_int_equal(got, 42);
}

static void test_decode_start(void **state)
{
    uint64_t got = 99;

    (void)state;
    assert_int_equal(fd_cursor_decode(NULL, FD_STREAM_SAMPLES, "ds-1", &got), SL_OK);
    assert_int_equal(got, 0);
    got = 99;
    assert_int_equal(fd_cursor_decode("", FD_STREAM_CHANGES, "ds-1", &got), SL_OK);
    assert_int_equal(got, 0);
}

static void test_decode_foreign(void **state)
{
    uint64_t got = 99;

    (void)state;
    /* ds-1's cursor presented for ds-2, for the changes stream, for a
     * creator's uploads: each refused, *seq untouched */
    assert_int_equal(fd_cursor_decode("sAQAAAAAAAAAqyPpsrVCf", FD_STREAM_SAMPLES, "ds-2", &got), SL_EINVAL);
    assert_int_equal(fd_cursor_decode("sAQAAAAAAAAAqyPpsrVCf", FD_STREAM_CHANGES, "ds-1", &got), SL_EINVAL);
    assert_int_equal(fd_cursor_decode("sAQAAAAAAAAAqyPpsrVCf", FD_STREAM_UPLOADS, "ds-1", &got), SL_EINVAL);
    /* the changes cursor with its letter swapped to 's' */
    assert_int_equal(fd_cursor_decode("sAQAAAAAAAAAqjyLfIYIg", FD_STREAM_SAMPLES, "ds-1", &got), SL_EINVAL);
    assert_int_equal(fd_cursor_decode("sAQAAAAAAAAAqyPpsrVCf", FD_STREAM_SAMPLES, "", &got), SL_EINVAL);
    assert_int_equal(fd_cursor_decode("sAQAAAAAAAAAqyPpsrVCf", FD_STREAM_SAMPLES, NULL, &got), SL_EINVAL);
    assert_int_equal(got, 99);
}

static void test_decode_malformed(void **state)
{
    static const char *bad[] = {
        "42",                        /* a bare number */
        "sAQAAAAAAAAAqyPpsrVC",      /* truncated */
        "sAQAAAAAAAAAqyPpsrVCff",    /* one more character */
        "sAQAAAAAAAAAqyPpsrVCg",     /* last character typed wrong */
        "sAQAAAAAAAAAryPpsrVCf",     /* position 43 with 42's tag */
        "sAQAAAAAAAAAqyPpsrVC=",     /* padding */
        "sAQAAAAAAAAAqyPp+rVCf",     /* standard base64 alphabet */
        "sAQAAAAAAAAAqyPp rVCf",     /* a space */
        "sAgAAAAAAAAAqyPpsrVCf",     /* version 2 (tag of 42 right) */
        "sAYAAAAAAAAAAivh0y_Xf",     /* 2^63 with its right tag: > bigint */
        "s",
        "sAQAAAAAAAAAqyPpsrVCf\n",
        "SAQAAAAAAAAAqyPpsrVCf",     /* stream letter case */
    };
    uint64_t got = 99;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (fd_cursor_decode(bad[i], FD_STREAM_SAMPLES, "ds-1", &got) != SL_EINVAL)
            fail_msg("cursor %zu \"%s\" accepted", i, bad[i]);
    }
    assert_int_equal(got, 99);
}

static void test_decode_long_input(void **state)
{
    char big[4096];
    uint64_t got = 99;

    (void)state;
    memset(big, 'A', sizeof big - 1);
    big[0] = 's';
    big[sizeof big - 1] = '\0';
    assert_int_equal(fd_cursor_decode(big, FD_STREAM_SAMPLES, "ds-1", &got), SL_EINVAL);
    assert_int_equal(got, 99);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_literals),
        cmocka_unit_test(test_encode_refuses),
        cmocka_unit_test(test_decode_round_trip),
        cmocka_unit_test(test_decode_start),
        cmocka_unit_test(test_decode_foreign),
        cmocka_unit_test(test_decode_malformed),
        cmocka_unit_test(test_decode_long_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
