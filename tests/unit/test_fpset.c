/*
 * test_fpset.c -- unit tests for common/src/fpset.c: the capped fingerprint
 * set, its keyed fingerprints and the exact sets that compare a digest of
 * the value on a fingerprint hit (a collision must not make a value "seen").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sl/common.h"
#include "sl/fpset.h"

/* The fingerprint is a function of both parts and of where they split. */
static void test_fp_inputs(void **state)
{
    (void)state;
    assert_true(sl_fpset_fp("ab", 2, "c", 1) == sl_fpset_fp("ab", 2, "c", 1));
    assert_true(sl_fpset_fp("ab", 2, "c", 1) != sl_fpset_fp("a", 1, "bc", 2));
    assert_true(sl_fpset_fp("up-1", 4, "", 0) != sl_fpset_fp("up-2", 4, "", 0));
    assert_true(sl_fpset_fp("", 0, "", 0) != 0);
}

/* Add, has, cap, clear, merge on a plain set. */
static void test_plain(void **state)
{
    sl_fpset *s = sl_fpset_new(2), *t = sl_fpset_new(4);

    (void)state;
    assert_non_null(s);
    assert_non_null(t);
    assert_int_equal(sl_fpset_add(s, 7), SL_OK);
    assert_int_equal(sl_fpset_add(s, 7), SL_OK);     /* already there */
    assert_int_equal(sl_fpset_add(s, 9), SL_OK);
    assert_int_equal(sl_fpset_count(s), 2);
    assert_int_equal(sl_fpset_add(s, 11), SL_ETOOBIG);
    assert_int_equal(sl_fpset_has(s, 7), 1);
    assert_int_equal(sl_fpset_has(s, 11), 0);
    assert_int_equal(sl_fpset_merge(t, s), SL_OK);
    assert_int_equal(sl_fpset_has(t, 9), 1);
    sl_fpset_clear(s);
    assert_int_equal(sl_fpset_count(s), 0);
    assert_int_equal(sl_fpset_has(s, 7), 0);
    sl_fpset_destroy(s);
    sl_fpset_destroy(t);
}

/* Two different values forced onto the same fingerprint: in an exact set
 * the second is not "seen" because of the first, and both can be stored;
 * a plain set, by contrast, would call the second seen. */
static void test_forced_collision(void **state)
{
    sl_fpset *x = sl_fpset_new_exact(8), *p = sl_fpset_new(8), *y;
    const uint64_t fp = 42;

    (void)state;
    assert_non_null(x);
    assert_non_null(p);
    assert_int_equal(sl_fpset_add_val(x, fp, "upload-a", 8, "", 0), SL_OK);
    assert_int_equal(sl_fpset_has_val(x, fp, "upload-a", 8, "", 0), 1);
    assert_int_equal(sl_fpset_has_val(x, fp, "upload-b", 8, "", 0), 0);
    /* the split between the parts is part of the value */
    assert_int_equal(sl_fpset_has_val(x, fp, "upload-", 7, "a", 1), 0);
    assert_int_equal(sl_fpset_add_val(x, fp, "upload-b", 8, "", 0), SL_OK);
    assert_int_equal(sl_fpset_count(x), 2);
    assert_int_equal(sl_fpset_has_val(x, fp, "upload-a", 8, "", 0), 1);
    assert_int_equal(sl_fpset_has_val(x, fp, "upload-b", 8, "", 0), 1);
    assert_int_equal(sl_fpset_has_val(x, fp, "upload-c", 8, "", 0), 0);

    /* merging keeps the digests: still exact in the destination */
    assert_non_null(y = sl_fpset_new_exact(8));
    assert_int_equal(sl_fpset_merge(y, x), SL_OK);
    assert_int_equal(sl_fpset_count(y), 2);
    assert_int_equal(sl_fpset_has_val(y, fp, "upload-b", 8, "", 0), 1);
    assert_int_equal(sl_fpset_has_val(y, fp, "upload-c", 8, "", 0), 0);
    assert_int_equal(sl_fpset_merge(p, x), SL_EINVAL);   /* kinds differ */

    /* the plain set is what an unkeyed fingerprint alone would decide */
    assert_int_equal(sl_fpset_add_val(p, fp, "upload-a", 8, "", 0), SL_OK);
    assert_int_equal(sl_fpset_has_val(p, fp, "upload-b", 8, "", 0), 1);

    sl_fpset_clear(x);
    assert_int_equal(sl_fpset_has_val(x, fp, "upload-a", 8, "", 0), 0);
    sl_fpset_destroy(x);
    sl_fpset_destroy(y);
    sl_fpset_destroy(p);
}

/* Many real values in an exact set: all found, none of another batch. */
static void test_exact_many(void **state)
{
    sl_fpset *x = sl_fpset_new_exact(1000);
    char id[32];

    (void)state;
    assert_non_null(x);
    for (int i = 0; i < 1000; i++) {
        int n = snprintf(id, sizeof(id), "up-%d", i);
        assert_int_equal(sl_fpset_add_val(x, sl_fpset_fp(id, (size_t)n, "", 0),
                                          id, (size_t)n, "", 0), SL_OK);
    }
    assert_int_equal(sl_fpset_count(x), 1000);
    for (int i = 0; i < 2000; i++) {
        int n = snprintf(id, sizeof(id), "up-%d", i);
        assert_int_equal(sl_fpset_has_val(x, sl_fpset_fp(id, (size_t)n, "", 0),
                                          id, (size_t)n, "", 0), i < 1000);
    }
    assert_int_equal(sl_fpset_add_val(x, 5, "x", 1, "", 0), SL_ETOOBIG);
    sl_fpset_destroy(x);
}

/* The table grows with the entries, not the cap: a set capped at a
 * million holds little after a few hundred entries, keeps every entry and
 * digest (colliding fingerprints too) through each doubling, stays exact,
 * and still refuses the entry past its cap. */
static void test_grows_with_entries(void **state)
{
    sl_fpset *big = sl_fpset_new_exact(1000000), *x = sl_fpset_new_exact(5000);
    size_t empty, after;
    char id[32];

    (void)state;
    assert_non_null(big);
    assert_non_null(x);
    empty = sl_fpset_bytes(big);
    assert_true(empty <= 256 * 24);                   /* not 2^21 slots */
    for (int i = 0; i < 300; i++) {
        int n = snprintf(id, sizeof(id), "up-%d", i);
        uint64_t fp = sl_fpset_fp(id, (size_t)n, "", 0);
        assert_int_equal(sl_fpset_add_val(big, fp, id, (size_t)n, "", 0),
                         SL_OK);
    }
    after = sl_fpset_bytes(big);
    assert_true(after > empty);
    assert_true(after <= 1024 * 24);                  /* at most half full */

    /* 5,000 values, every tenth pair forced onto one fingerprint */
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(id, sizeof(id), "v-%d", i);
        uint64_t fp = i % 10 == 9 ? 77 : sl_fpset_fp(id, (size_t)n, "", 0);
        assert_int_equal(sl_fpset_add_val(x, fp, id, (size_t)n, "", 0), SL_OK);
    }
    assert_int_equal(sl_fpset_count(x), 5000);
    /* now at its largest: twice the cap, rounded up to a power of two */
    assert_int_equal(sl_fpset_bytes(x), 16384 * 24);
    for (int i = 0; i < 10000; i++) {
        int n = snprintf(id, sizeof(id), "v-%d", i);
        uint64_t fp = i % 10 == 9 ? 77 : sl_fpset_fp(id, (size_t)n, "", 0);
        assert_int_equal(sl_fpset_has_val(x, fp, id, (size_t)n, "", 0),
                         i < 5000);
    }
    assert_int_equal(sl_fpset_add_val(x, 5, "x", 1, "", 0), SL_ETOOBIG);

    /* merged into the big set: it grows again and finds them all */
    assert_int_equal(sl_fpset_merge(big, x), SL_OK);
    assert_int_equal(sl_fpset_count(big), 5300);
    assert_int_equal(sl_fpset_has_val(big, 77, "v-19", 4, "", 0), 1);
    assert_int_equal(sl_fpset_has_val(big, 77, "v-18", 4, "", 0), 0);
    /* cleared, it keeps its size and forgets everything */
    sl_fpset_clear(big);
    assert_int_equal(sl_fpset_count(big), 0);
    assert_int_equal(sl_fpset_has_val(big, 77, "v-19", 4, "", 0), 0);
    sl_fpset_destroy(big);
    sl_fpset_destroy(x);
}

/* sl_fpset_key hashes once what _val hashes each time: same fingerprint,
 * same membership; inputs longer than the SipHash buffer (512 bytes) take
 * the BLAKE2b path and are just as exact. */
static void test_keys_and_long_values(void **state)
{
    sl_fpset *x = sl_fpset_new_exact(8);
    static char big[2000], big2[2000];
    sl_fpkey k, k2;

    (void)state;
    assert_non_null(x);
    sl_fpset_key(&k, "up-1", 4, "", 0);
    assert_true(k.fp == sl_fpset_fp("up-1", 4, "", 0));
    assert_int_equal(sl_fpset_add_key(x, &k), SL_OK);
    assert_int_equal(sl_fpset_has_val(x, k.fp, "up-1", 4, "", 0), 1);
    sl_fpset_key(&k2, "up-2", 4, "", 0);
    assert_int_equal(sl_fpset_has_key(x, &k2), 0);
    k2.fp = k.fp;                          /* forced collision, other value */
    assert_int_equal(sl_fpset_has_key(x, &k2), 0);

    memset(big, 'a', sizeof(big));
    memcpy(big2, big, sizeof(big2));
    big2[1999] = 'b';
    assert_true(sl_fpset_fp(big, 1000, big + 1000, 1000) ==
                sl_fpset_fp(big, 1000, big + 1000, 1000));
    assert_true(sl_fpset_fp(big, 1000, big + 1000, 1000) !=
                sl_fpset_fp(big, 999, big + 999, 1001));
    assert_int_equal(sl_fpset_add_val(x, 7, big, 2000, "", 0), SL_OK);
    assert_int_equal(sl_fpset_has_val(x, 7, big, 2000, "", 0), 1);
    assert_int_equal(sl_fpset_has_val(x, 7, big2, 2000, "", 0), 0);
    /* 512 bytes in all is the last SipHash input, 513 the first BLAKE2b */
    assert_true(sl_fpset_fp(big, 256, big, 256) != sl_fpset_fp(big, 256, big, 257));
    sl_fpset_destroy(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fp_inputs),
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_forced_collision),
        cmocka_unit_test(test_exact_many),
        cmocka_unit_test(test_grows_with_entries),
        cmocka_unit_test(test_keys_and_long_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
