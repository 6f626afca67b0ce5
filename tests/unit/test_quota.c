/*
 * test_quota.c -- unit tests for common/src/quota.c: daily quota
 * arithmetic.  Limits reached exactly and passed by one, unlimited limits,
 * sums near INT64_MAX, the UTC day a time falls in around midnight, the
 * early check's tally, operators' limit text and a batch taking samples
 * one by one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sl/quota.h"

#define UNL SL_QUOTA_UNLIMITED

/* A count limit of 3: 2 used takes one more, 3 used takes none. */
static void test_count_boundary(void **state)
{
    sl_quota q = { 3, UNL };
    sl_quota_usage u = { 2, 0 };

    (void)state;
    assert_true(sl_quota_limited(&q));
    assert_int_equal(sl_quota_check(&q, &u, 100), SL_QUOTA_FITS);
    u.count = 3;
    assert_int_equal(sl_quota_check(&q, &u, 100), SL_QUOTA_OVER_COUNT);
    u.count = 4;   /* past it (a lowered limit) */
    assert_int_equal(sl_quota_check(&q, &u, 0), SL_QUOTA_OVER_COUNT);
    /* a limit of zero takes nothing */
    q.count = 0;
    u.count = 0;
    assert_int_equal(sl_quota_check(&q, &u, 0), SL_QUOTA_OVER_COUNT);
}

/* A bytes limit of 1000: 600 used + 400 reaches it exactly and fits,
 * + 401 is one over; past the limit even an empty sample does not fit. */
static void test_bytes_boundary(void **state)
{
    sl_quota q = { UNL, 1000 };
    sl_quota_usage u = { 7, 600 };

    (void)state;
    assert_int_equal(sl_quota_check(&q, &u, 400), SL_QUOTA_FITS);
    assert_int_equal(sl_quota_check(&q, &u, 401), SL_QUOTA_OVER_BYTES);
    u.bytes = 1000;
    assert_int_equal(sl_quota_check(&q, &u, 0), SL_QUOTA_FITS);
    assert_int_equal(sl_quota_check(&q, &u, 1), SL_QUOTA_OVER_BYTES);
    u.bytes = 1001;
    assert_int_equal(sl_quota_check(&q, &u, 0), SL_QUOTA_OVER_BYTES);
    /* the count is checked first */
    q.count = 7;
    assert_int_equal(sl_quota_check(&q, &u, 0), SL_QUOTA_OVER_COUNT);
}

/* Unlimited: nothing is ever over, remaining is INT64_MAX. */
static void test_unlimited(void **state)
{
    sl_quota q = { UNL, UNL };
    sl_quota_usage u = { INT64_MAX, INT64_MAX };

    (void)state;
    assert_false(sl_quota_limited(&q));
    assert_int_equal(sl_quota_check(&q, &u, INT64_MAX), SL_QUOTA_FITS);
    assert_true(sl_quota_remaining(UNL, 5) == INT64_MAX);
    assert_true(sl_quota_remaining(10, 4) == 6);
    assert_true(sl_quota_remaining(10, 10) == 0);
    assert_true(sl_quota_remaining(10, 11) == 0);
    assert_true(sl_quota_remaining(10, -3) == 10);   /* negative usage is none */
}

/* Sums near INT64_MAX neither wrap nor fit where they should not. */
static void test_overflow(void **state)
{
    sl_quota q = { INT64_MAX, INT64_MAX };
    sl_quota_usage u = { INT64_MAX - 1, INT64_MAX - 10 };

    (void)state;
    /* 10 more bytes reach INT64_MAX exactly; 11 would wrap a plain sum */
    assert_int_equal(sl_quota_check(&q, &u, 10), SL_QUOTA_FITS);
    assert_int_equal(sl_quota_check(&q, &u, 11), SL_QUOTA_OVER_BYTES);
    assert_int_equal(sl_quota_take(&q, &u, 10), SL_QUOTA_FITS);
    assert_true(u.count == INT64_MAX);
    assert_true(u.bytes == INT64_MAX);
    assert_int_equal(sl_quota_check(&q, &u, 0), SL_QUOTA_OVER_COUNT);
    /* a huge sample against a small limit */
    q.count = UNL;
    q.bytes = 5;
    u.bytes = 1;
    assert_int_equal(sl_quota_check(&q, &u, INT64_MAX), SL_QUOTA_OVER_BYTES);
    assert_true(sl_quota_add(INT64_MAX, 1) == INT64_MAX);
    assert_true(sl_quota_add(INT64_MAX - 1, 1) == INT64_MAX);
    assert_true(sl_quota_add(3, 4) == 7);
    assert_true(sl_quota_add(-3, 4) == 4);
    /* the tally's registry + recent saturates too */
    assert_true(sl_quota_tally(INT64_MAX - 1, INT64_MAX, INT64_MAX) == INT64_MAX);
}

/* A batch takes samples one by one: what fits is counted, what does not
 * leaves the usage as it was. */
static void test_take_batch(void **state)
{
    sl_quota q = { 3, 250 };
    sl_quota_usage u = { 1, 100 };

    (void)state;
    assert_int_equal(sl_quota_take(&q, &u, 100), SL_QUOTA_FITS);   /* 2, 200 */
    assert_int_equal(sl_quota_take(&q, &u, 51), SL_QUOTA_OVER_BYTES);
    assert_true(u.count == 2);
    assert_true(u.bytes == 200);
    assert_int_equal(sl_quota_take(&q, &u, 50), SL_QUOTA_FITS);    /* 3, 250 */
    assert_int_equal(sl_quota_take(&q, &u, 0), SL_QUOTA_OVER_COUNT);
    assert_true(u.count == 3);
    assert_true(u.bytes == 250);
}

/* The UTC day: 2026-12-03 is day 20790; its last millisecond is still in
 * it, the next one is the next day.  Before the epoch, days are floored. */
static void test_day_rollover(void **state)
{
    const int64_t day = 20790, start = day * SL_QUOTA_DAY_MS;

    (void)state;
    assert_true(sl_quota_day(start) == 20790);
    assert_true(sl_quota_day(start + 23 * 3600000 + 59 * 60000 + 59999) == 20790);
    assert_true(sl_quota_day(start + SL_QUOTA_DAY_MS - 1) == 20790);
    assert_true(sl_quota_day(start + SL_QUOTA_DAY_MS) == 20791);
    assert_true(sl_quota_day(start - 1) == 20789);
    assert_true(sl_quota_day(0) == 0);
    assert_true(sl_quota_day(-1) == -1);
    assert_true(sl_quota_day(-SL_QUOTA_DAY_MS) == -1);
    assert_true(sl_quota_day(-SL_QUOTA_DAY_MS - 1) == -2);
}

/* The early check's tally: the registry's, or ours where larger, capped
 * at the registry's plus what is on its way. */
static void test_tally(void **state)
{
    (void)state;
    assert_true(sl_quota_tally(5, 3, 0) == 5);     /* registry ahead */
    assert_true(sl_quota_tally(5, 7, 10) == 7);    /* ours ahead, in flight */
    assert_true(sl_quota_tally(5, 9, 2) == 7);     /* withdrawn since: capped */
    assert_true(sl_quota_tally(0, 0, 0) == 0);
}

/* Limits as operators write them. */
static void test_limit_parse(void **state)
{
    int64_t v = 0;

    (void)state;
    assert_int_equal(sl_quota_limit_parse("none", false, &v), 0);
    assert_true(v == UNL);
    assert_int_equal(sl_quota_limit_parse("none", true, &v), 0);
    assert_true(v == UNL);
    assert_int_equal(sl_quota_limit_parse("0", false, &v), 0);
    assert_true(v == 0);
    assert_int_equal(sl_quota_limit_parse("2147483647", false, &v), 0);
    assert_true(v == 2147483647);
    assert_int_equal(sl_quota_limit_parse("2147483648", false, &v), -1);
    assert_int_equal(sl_quota_limit_parse("-1", false, &v), -1);
    assert_int_equal(sl_quota_limit_parse("5k", false, &v), -1);
    assert_int_equal(sl_quota_limit_parse("", false, &v), -1);
    assert_int_equal(sl_quota_limit_parse("500m", true, &v), 0);
    assert_true(v == INT64_C(524288000));
    assert_int_equal(sl_quota_limit_parse("2G", true, &v), 0);
    assert_true(v == INT64_C(2147483648));
    assert_int_equal(sl_quota_limit_parse("1kb", true, &v), 0);
    assert_true(v == 1024);
    assert_int_equal(sl_quota_limit_parse("9223372036854775807", true, &v), 0);
    assert_true(v == INT64_MAX);
    assert_int_equal(sl_quota_limit_parse("9223372036854775808", true, &v), -1);
    assert_int_equal(sl_quota_limit_parse("8589934592g", true, &v), -1);
    assert_int_equal(sl_quota_limit_parse("8589934591g", true, &v), 0);
    assert_true(v == INT64_C(8589934591) * 1024 * 1024 * 1024);
    assert_int_equal(sl_quota_limit_parse("-5", true, &v), -1);
    assert_int_equal(sl_quota_limit_parse("+5", true, &v), -1);
    assert_int_equal(sl_quota_limit_parse("5t", true, &v), -1);
    assert_int_equal(sl_quota_limit_parse("5kx", true, &v), -1);
}

/* Pairs of a batch: found by both names. */
static void test_pair_find(void **state)
{
    sl_quota_pair p[2] = {
        { "alice", "ds1", { 0, 0 } }, { "alice", "ds2", { 0, 0 } },
    };

    (void)state;
    assert_int_equal(sl_quota_pair_find(p, 2, "alice", "ds2"), 1);
    assert_int_equal(sl_quota_pair_find(p, 2, "alice", "ds1"), 0);
    assert_int_equal(sl_quota_pair_find(p, 2, "bob", "ds1"), 2);
    assert_int_equal(sl_quota_pair_find(p, 0, "alice", "ds1"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count_boundary),
        cmocka_unit_test(test_bytes_boundary),
        cmocka_unit_test(test_unlimited),
        cmocka_unit_test(test_overflow),
        cmocka_unit_test(test_take_batch),
        cmocka_unit_test(test_day_rollover),
        cmocka_unit_test(test_tally),
        cmocka_unit_test(test_limit_parse),
        cmocka_unit_test(test_pair_find),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
