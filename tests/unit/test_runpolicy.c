/*
 * test_runpolicy.c -- unit tests for the runner's pure policies: the
 * failed-attempt table (common/src/attempts.c) that turns a message the
 * processor keeps failing on into a quarantine, the dead-letter size plan
 * (common/src/deadletter.c), the processor's side of both in sl_out
 * (sl_out_fail, sl_out_withhold_value).  All of them live in sl_core:
 * this test links no librdkafka (where partitions resume after a
 * revocation is in test_kafka_resume.c, which does).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sl/attempts.h"
#include "sl/deadletter.h"
#include "sl/msg.h"

/* ---- attempts ---------------------------------------------------------- */

/* Counts per topic/partition/offset across calls (an abort and rewind
 * brings the same message back); the third failure exhausts the default
 * of 3 attempts. */
static void test_attempts_count_per_message(void **state)
{
    sl_attempts *a = sl_attempts_new(8);

    (void)state;
    assert_non_null(a);
    assert_int_equal(sl_attempts_fail(a, "sluice.uploads", 0, 41), 1);
    assert_int_equal(sl_attempts_exhausted(1, 3), 0);
    assert_int_equal(sl_attempts_fail(a, "sluice.uploads", 0, 41), 2);
    assert_int_equal(sl_attempts_exhausted(2, 3), 0);
    /* other partition, other offset, other topic: separate counts */
    assert_int_equal(sl_attempts_fail(a, "sluice.uploads", 1, 41), 1);
    assert_int_equal(sl_attempts_fail(a, "sluice.uploads", 0, 42), 1);
    assert_int_equal(sl_attempts_fail(a, "sluice.validated", 0, 41), 1);
    assert_int_equal(sl_attempts_fail(a, "sluice.uploads", 0, 41), 3);
    assert_int_equal(sl_attempts_exhausted(3, 3), 1);
    assert_int_equal(sl_attempts_size(a), 4);
    sl_attempts_destroy(a);
}

/* A handled or quarantined message is forgotten: a later failure at the
 * same position counts from 1 again; forgetting the unknown is a no-op. */
static void test_attempts_forget(void **state)
{
    sl_attempts *a = sl_attempts_new(4);

    (void)state;
    assert_int_equal(sl_attempts_fail(a, "t", 2, 7), 1);
    assert_int_equal(sl_attempts_fail(a, "t", 2, 7), 2);
    assert_int_equal(sl_attempts_fail(a, "t", 2, 8), 1);
    sl_attempts_forget(a, "t", 2, 7);
    assert_int_equal(sl_attempts_size(a), 1);
    sl_attempts_forget(a, "t", 2, 999);
    sl_attempts_forget(a, "u", 2, 8);
    assert_int_equal(sl_attempts_size(a), 1);
    assert_int_equal(sl_attempts_fail(a, "t", 2, 7), 1);
    assert_int_equal(sl_attempts_fail(a, "t", 2, 8), 2);
    sl_attempts_destroy(a);
}

/* Full: the least recently failed entry goes, the others keep counting. */
static void test_attempts_eviction(void **state)
{
    sl_attempts *a = sl_attempts_new(2);

    (void)state;
    assert_int_equal(sl_attempts_fail(a, "t", 0, 1), 1);
    assert_int_equal(sl_attempts_fail(a, "t", 0, 2), 1);
    assert_int_equal(sl_attempts_fail(a, "t", 0, 1), 2);   /* 2 is now oldest */
    assert_int_equal(sl_attempts_fail(a, "t", 0, 3), 1);   /* evicts 2 */
    assert_int_equal(sl_attempts_size(a), 2);
    assert_int_equal(sl_attempts_fail(a, "t", 0, 1), 3);
    assert_int_equal(sl_attempts_fail(a, "t", 0, 2), 1);   /* counted afresh */
    sl_attempts_destroy(a);
}

/* max_attempts 1 quarantines at the first failure; below 1 counts as 1. */
static void test_attempts_exhausted_bounds(void **state)
{
    (void)state;
    assert_int_equal(sl_attempts_exhausted(1, 1), 1);
    assert_int_equal(sl_attempts_exhausted(1, 0), 1);
    assert_int_equal(sl_attempts_exhausted(1, -5), 1);
    assert_int_equal(sl_attempts_exhausted(4, 5), 0);
    assert_int_equal(sl_attempts_exhausted(5, 5), 1);
    assert_int_equal(sl_attempts_exhausted(6, 5), 1);
}

/* ---- dead-letter plan --------------------------------------------------- */

static const sl_dl_limits limits = {
    .max_bytes = 15 * 1024 * 1024,          /* the default 15m */
    .headers_max_bytes = 256 * 1024,        /* the default 256k */
    .key_max_bytes = 1024,
};

static void plan_is(sl_dl_plan p, int value, int key, int in_h, int out_h)
{
    assert_int_equal(p.value, value);
    assert_int_equal(p.key, key);
    assert_int_equal(p.in_headers, in_h);
    assert_int_equal(p.out_headers, out_h);
}

/* A small refused upload keeps everything. */
static void test_plan_whole(void **state)
{
    sl_dl_sizes s = { 20, 5000, 800, 600, 700 };

    (void)state;
    plan_is(sl_deadletter_plan(&s, &limits, 0), 1, 1, 1, 1);
    assert_int_equal(sl_deadletter_size(&s, &(sl_dl_plan){ 1, 1, 1, 1 }),
                     128 + 20 + 5000 + 800 + 600 + 700);
}

/* An upload of 16 MiB less 400 bytes: its value goes, everything else
 * stays; the result is far below the bound. */
static void test_plan_near_limit(void **state)
{
    sl_dl_sizes s = { 36, 16777216 - 400, 900, 0, 700 };
    sl_dl_plan p;

    (void)state;
    p = sl_deadletter_plan(&s, &limits, 0);
    plan_is(p, 0, 1, 1, 1);
    assert_int_equal(sl_deadletter_size(&s, &p), 128 + 700 + 36 + 900);
    /* exactly at the bound still fits whole, one byte more does not */
    s.value = limits.max_bytes - (128 + 36 + 900 + 700);
    plan_is(sl_deadletter_plan(&s, &limits, 0), 1, 1, 1, 1);
    s.value++;
    plan_is(sl_deadletter_plan(&s, &limits, 0), 0, 1, 1, 1);
}

/* The processor asked to withhold (blocked content): the value goes even
 * when small; the findings (its headers) and the input headers stay. */
static void test_plan_withhold(void **state)
{
    sl_dl_sizes s = { 20, 11, 800, 600, 700 };

    (void)state;
    plan_is(sl_deadletter_plan(&s, &limits, 1), 0, 1, 1, 1);
}

/* Huge input headers are dropped, the processor's stay; huge headers of
 * the processor are dropped too; a huge key is dropped once the value is
 * withheld. */
static void test_plan_huge_headers_and_key(void **state)
{
    sl_dl_sizes s = { 20, 100, 10 * 1024 * 1024, 600, 700 };

    (void)state;
    plan_is(sl_deadletter_plan(&s, &limits, 0), 1, 1, 1, 1);   /* fits whole */
    s.in_headers = 15 * 1024 * 1024;
    plan_is(sl_deadletter_plan(&s, &limits, 0), 0, 1, 0, 1);
    s.out_headers = 300 * 1024;
    plan_is(sl_deadletter_plan(&s, &limits, 0), 0, 1, 0, 0);
    s.key = 15 * 1024 * 1024 + 1;
    s.in_headers = 10;
    s.out_headers = 10;
    plan_is(sl_deadletter_plan(&s, &limits, 0), 0, 0, 1, 1);
    plan_is(sl_deadletter_minimal(&s, &limits), 0, 0, 0, 0);
    s.key = 1024;
    plan_is(sl_deadletter_minimal(&s, &limits), 0, 1, 0, 0);
}

/* Headers within the header cap but together past the bound: the input
 * headers go first. */
static void test_plan_headers_past_bound(void **state)
{
    sl_dl_limits small = { 4096, 4096, 1024 };
    sl_dl_sizes s = { 10, 100, 3000, 3000, 500 };

    (void)state;
    plan_is(sl_deadletter_plan(&s, &small, 0), 0, 1, 0, 1);
}

/* ---- the processor's side --------------------------------------------- */

static void test_out_fail_and_withhold(void **state)
{
    sl_out *o = sl_out_new(1024);

    (void)state;
    assert_non_null(o);
    assert_int_equal(sl_out_withholds_value(o), 0);
    sl_out_withhold_value(o);
    assert_int_equal(sl_out_withholds_value(o), 1);
    assert_int_equal(sl_out_fail(o, "extractor ran out of %s", "budget"), SL_FATAL);
    assert_string_equal(sl_out_reject_detail(o), "extractor ran out of budget");
    assert_string_equal(sl_verdict_name(SL_ENV_FATAL), "env_fatal");
    sl_out_reset(o);
    assert_int_equal(sl_out_withholds_value(o), 0);
    assert_string_equal(sl_out_reject_detail(o), "");
    sl_out_destroy(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attempts_count_per_message),
        cmocka_unit_test(test_attempts_forget),
        cmocka_unit_test(test_attempts_eviction),
        cmocka_unit_test(test_attempts_exhausted_bounds),
        cmocka_unit_test(test_plan_whole),
        cmocka_unit_test(test_plan_near_limit),
        cmocka_unit_test(test_plan_withhold),
        cmocka_unit_test(test_plan_huge_headers_and_key),
        cmocka_unit_test(test_plan_headers_past_bound),
        cmocka_unit_test(test_out_fail_and_withhold),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
