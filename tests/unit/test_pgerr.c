/*
 * test_pgerr.c -- unit tests for common/src/pgerr.c, the one classification
 * of PostgreSQL errors (retry / data / other) every PostgreSQL caller uses.
 * No server: a SQLSTATE is five characters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sl/common.h"
#include "sl/pgerr.h"

static void test_retry(void **state)
{
    static const char *const retry[] = {
        "08000", "08003", "08006", "08001", "08004", "08P01",   /* class 08 */
        "40001", "40P01", "40003",
        "53000", "53100", "53200", "53300", "53400",            /* class 53 */
        "57P01", "57P02", "57P03", "57P05", "57014", "55P03", "25P03",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(retry) / sizeof(retry[0]); i++) {
        assert_int_equal(sl_pgerr_classify(retry[i]), SL_PGERR_RETRY);
        assert_int_equal(sl_pgerr_rc(retry[i]), SL_EIO);
    }
}

static void test_data(void **state)
{
    static const char *const data[] = {
        "22000", "22001", "22021", "22P02", "22003",   /* data exception */
        "23505", "23503", "23502", "23514",            /* integrity */
        "54000", "54001",                              /* program limit */
    };

    (void)state;
    for (size_t i = 0; i < sizeof(data) / sizeof(data[0]); i++) {
        assert_int_equal(sl_pgerr_classify(data[i]), SL_PGERR_DATA);
        assert_int_equal(sl_pgerr_rc(data[i]), SL_ERR);
    }
}

static void test_other(void **state)
{
    /* Deployment and program faults, neighbours of the retried states
     * (40002, 57P04, 57000, 55000, 25P02) and malformed input. */
    static const char *const other[] = {
        "42501", "42P01", "42601", "26000", "XX000", "0A000",
        "40002", "40000", "57P04", "57000", "55000", "55006", "25P02",
        "", "0800", "080000", "08 00", "5300x", "23505 ",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
        assert_int_equal(sl_pgerr_classify(other[i]), SL_PGERR_OTHER);
        assert_int_equal(sl_pgerr_rc(other[i]), SL_ERR);
    }
    assert_int_equal(sl_pgerr_classify(NULL), SL_PGERR_OTHER);
    assert_int_equal(sl_pgerr_rc(NULL), SL_ERR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retry),
        cmocka_unit_test(test_data),
        cmocka_unit_test(test_other),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
