/*
 * test_ctl_args.c -- unit tests for services/sluicectl/args.c: the checks
 * of command-line values behind `sluicectl consumer`, `grant`, `token`
 * and `usage` (names, durations, dataset lists, required rights,
 * currencies).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "args.h"

static void test_names(void **state)
{
    char long_name[70];

    (void)state;
    assert_int_equal(ctl_check_name("acme"), SL_OK);
    assert_int_equal(ctl_check_name("a.b_c-9"), SL_OK);
    assert_int_equal(ctl_check_name("9lives"), SL_OK);
    assert_int_equal(ctl_check_name(""), SL_EINVAL);
    assert_int_equal(ctl_check_name(NULL), SL_EINVAL);
    assert_int_equal(ctl_check_name("-acme"), SL_EINVAL);
    assert_int_equal(ctl_check_name("ac me"), SL_EINVAL);
    assert_int_equal(ctl_check_name("ac:me"), SL_EINVAL);  /* ids only */
    assert_int_equal(ctl_check_name("acme\n"), SL_EINVAL);
    memset(long_name, 'a', 64);
    long_name[64] = '\0';
    assert_int_equal(ctl_check_name(long_name), SL_OK);
    long_name[64] = 'a';
    long_name[65] = '\0';
    assert_int_equal(ctl_check_name(long_name), SL_EINVAL);
    assert_int_equal(ctl_check_id("ds:2026.v1"), SL_OK);
    assert_int_equal(ctl_check_id(".ds"), SL_EINVAL);
    assert_int_equal(ctl_check_id("ds,2"), SL_EINVAL);
}

static void test_duration(void **state)
{
    int64_t s = -1;

    (void)state;
    assert_int_equal(ctl_parse_duration("30d", 3650 * 86400, &s), SL_OK);
    assert_int_equal(s, 2592000);
    assert_int_equal(ctl_parse_duration("1s", 10, &s), SL_OK);
    assert_int_equal(s, 1);
    assert_int_equal(ctl_parse_duration("90m", 86400, &s), SL_OK);
    assert_int_equal(s, 5400);
    assert_int_equal(ctl_parse_duration("12h", 86400, &s), SL_OK);
    assert_int_equal(s, 43200);
    assert_int_equal(ctl_parse_duration("2w", 3650 * 86400, &s), SL_OK);
    assert_int_equal(s, 1209600);
    s = 7;
    assert_int_equal(ctl_parse_duration("0d", 86400, &s), SL_EINVAL);
    assert_int_equal(ctl_parse_duration("3651d", 3650 * 86400, &s), SL_EINVAL);
    assert_int_equal(ctl_parse_duration("3650d", 3650 * 86400, &s), SL_OK);
    assert_int_equal(s, 315360000);
    assert_int_equal(ctl_parse_duration("30", 86400, &s), SL_EINVAL);
    assert_int_equal(ctl_parse_duration("d", 86400, &s), SL_EINVAL);
    assert_int_equal(ctl_parse_duration("5y", 1000000000, &s), SL_EINVAL);
    assert_int_equal(ctl_parse_duration("-1d", 86400, &s), SL_EINVAL);
    assert_int_equal(ctl_parse_duration("1dd", 86400, &s), SL_EINVAL);
    assert_int_equal(ctl_parse_duration(" 1d", 86400, &s), SL_EINVAL);
    assert_int_equal(ctl_parse_duration("", 86400, &s), SL_EINVAL);
    assert_int_equal(ctl_parse_duration(NULL, 86400, &s), SL_EINVAL);
    /* No overflow on absurd numbers. */
    assert_int_equal(ctl_parse_duration("99999999999999999999999d", INT64_MAX, &s),
                     SL_EINVAL);
    assert_int_equal(ctl_parse_duration("9223372036854775807w", INT64_MAX, &s),
                     SL_EINVAL);
    assert_int_equal(s, 315360000);   /* untouched by every refusal */
}

static void test_id_list(void **state)
{
    sl_buf b;
    long bad = 0;

    (void)state;
    sl_buf_init(&b, 4096);
    assert_int_equal(ctl_id_list_array("ds1", 10, &b, &bad), SL_OK);
    assert_string_equal((const char *)b.data, "{ds1}");
    assert_int_equal(ctl_id_list_array("ds1,ds2,ds1,ds10", 10, &b, &bad), SL_OK);
    assert_string_equal((const char *)b.data, "{ds1,ds2,ds10}");
    assert_int_equal(ctl_id_list_array("a,b,c", 3, &b, &bad), SL_OK);
    assert_string_equal((const char *)b.data, "{a,b,c}");
    assert_int_equal(ctl_id_list_array("a,b,c,d", 3, &b, &bad), SL_EINVAL);
    assert_int_equal(bad, -1);
    assert_int_equal(ctl_id_list_array("ds1,,ds2", 10, &b, &bad), SL_EINVAL);
    assert_int_equal(bad, 4);
    assert_int_equal(ctl_id_list_array("ds1,", 10, &b, &bad), SL_EINVAL);
    assert_int_equal(bad, 4);
    assert_int_equal(ctl_id_list_array("", 10, &b, &bad), SL_EINVAL);
    assert_int_equal(bad, 0);
    /* What would break out of an array literal never gets in. */
    assert_int_equal(ctl_id_list_array("ds1,x}", 10, &b, &bad), SL_EINVAL);
    assert_int_equal(bad, 4);
    assert_int_equal(ctl_id_list_array("ds1,\"x\"", 10, &b, &bad), SL_EINVAL);
    assert_int_equal(ctl_id_list_array("ds 1", 10, &b, &bad), SL_EINVAL);
    assert_int_equal(bad, 0);
    sl_buf_free(&b);
}

static void test_rights(void **state)
{
    char a[CTL_RIGHTS_ARRAY_MAX];
    unsigned m = 99;
    long bad = -1;

    (void)state;
    assert_int_equal(ctl_rights_parse("commercial", &m, &bad), SL_OK);
    assert_int_equal(m, CTL_RIGHTS_COMMERCIAL);
    ctl_rights_array(m, a);
    assert_string_equal(a, "{commercial_allowed}");
    assert_int_equal(ctl_rights_parse("commercial,training_allowed,commercial",
                                      &m, &bad), SL_OK);
    assert_int_equal(m, CTL_RIGHTS_COMMERCIAL | CTL_RIGHTS_TRAINING);
    ctl_rights_array(m, a);
    assert_string_equal(a, "{training_allowed,commercial_allowed}");
    ctl_rights_array(0, a);
    assert_string_equal(a, "{}");
    m = 99;
    assert_int_equal(ctl_rights_parse("commercial,share_alike", &m, &bad), SL_EINVAL);
    assert_int_equal(bad, 11);
    assert_int_equal(ctl_rights_parse("Commercial", &m, &bad), SL_EINVAL);
    assert_int_equal(bad, 0);
    assert_int_equal(ctl_rights_parse("commercial,", &m, &bad), SL_EINVAL);
    assert_int_equal(bad, 11);
    assert_int_equal(ctl_rights_parse("", &m, &bad), SL_EINVAL);
    assert_int_equal(ctl_rights_parse("commerc", &m, &bad), SL_EINVAL);
    assert_int_equal(m, 99);
}

static void test_currency(void **state)
{
    (void)state;
    assert_int_equal(ctl_check_currency("USD"), SL_OK);
    assert_int_equal(ctl_check_currency("EUR"), SL_OK);
    assert_int_equal(ctl_check_currency("usd"), SL_EINVAL);
    assert_int_equal(ctl_check_currency("US"), SL_EINVAL);
    assert_int_equal(ctl_check_currency("USDT"), SL_EINVAL);
    assert_int_equal(ctl_check_currency("U$D"), SL_EINVAL);
    assert_int_equal(ctl_check_currency(NULL), SL_EINVAL);
}

/* A generated upload id: the time first, in hex, then the random bytes;
 * a valid sluice identifier; later ids sort later whatever their random
 * part. */
static void test_upload_id(void **state)
{
    const uint8_t r0[10] = { 0 }, r1[10] = { 0xff, 0xff, 0xff, 0xff, 0xff,
                                             0xff, 0xff, 0xff, 0xff, 0xff };
    const uint8_t rx[10] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x0f, 0xf0 };
    char a[CTL_UPLOAD_ID_LEN], b[CTL_UPLOAD_ID_LEN];

    (void)state;
    /* 2026-12-06T00:00:00.123Z */
    ctl_upload_id_make(INT64_C(1796515200123), rx, a);
    assert_string_equal(a, "u-01a248a67c7b0123456789abcdef0ff0");
    assert_int_equal(strlen(a), CTL_UPLOAD_ID_LEN - 1);
    assert_int_equal(ctl_check_id(a), SL_OK);
    ctl_upload_id_make(0, r0, a);
    assert_string_equal(a, "u-00000000000000000000000000000000");
    /* one millisecond later, the smallest random part against the largest */
    ctl_upload_id_make(INT64_C(1796515200123), r1, a);
    ctl_upload_id_make(INT64_C(1796515200124), r0, b);
    assert_true(strcmp(a, b) < 0);
    /* the low 48 bits: good until the year 10889 */
    ctl_upload_id_make(INT64_C(0xffffffffffff), r0, a);
    assert_memory_equal(a, "u-ffffffffffff", 14);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_duration),
        cmocka_unit_test(test_id_list),
        cmocka_unit_test(test_rights),
        cmocka_unit_test(test_currency),
        cmocka_unit_test(test_upload_id),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
