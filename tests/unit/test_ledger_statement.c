/*
 * test_ledger_statement.c -- unit tests for services/ledger/statement.c:
 * a statement that balances and ones that do not (a line whose split
 * loses a micro-unit, a closing off by one, a payout with the wrong sign),
 * sums near INT64_MAX, amounts in and out of text, months and their
 * bounds, the payout rule (owed, capped by what is left after pending
 * payouts, the minimum) and CSV fields.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "statement.h"

/* Hand-computed: opening 5.000000; dataset a: 3 samples at 1.000000
 * with a 10% fee (net 0.900000 each); dataset b: 1 sample at 0.000015
 * with 10% fee: net floor(13.5) = 13, fee floor(1.5) = 1, rounding 1;
 * a clawback of one a-sample (-0.900000); a payout of 4.000000.
 * Closing = 5000000 + 2700000 + 13 - 900000 - 4000000 = 2800013. */
static void test_balanced(void **state)
{
    const sl_stmt_line lines[] = {
        { SL_STMT_EARNINGS, 3, 2, 3000000, 300000, 0, 2700000 },
        { SL_STMT_EARNINGS, 1, 1, 15, 1, 1, 13 },
        { SL_STMT_CLAWBACK, 1, 0, 0, 0, 0, -900000 },
        { SL_STMT_PAYOUT, 0, 0, 0, 0, 0, -4000000 },
    };
    sl_stmt_totals t;
    sl_err err = { "" };

    (void)state;
    assert_int_equal(sl_stmt_check(5000000, lines, 4, 2800013, &t, &err), SL_OK);
    assert_int_equal(t.samples, 4);
    assert_int_equal(t.gross, 3000015);
    assert_int_equal(t.fee, 300001);
    assert_int_equal(t.rounding, 1);
    assert_int_equal(t.earned, 2700013);
    assert_int_equal(t.clawed_back, -900000);
    assert_int_equal(t.paid_out, -4000000);
    assert_int_equal(t.other, 0);
    assert_int_equal(t.net, -2199987);
    /* no lines: opening = closing */
    assert_int_equal(sl_stmt_check(7, NULL, 0, 7, &t, &err), SL_OK);
    assert_int_equal(t.net, 0);
}

/* The closing one micro-unit off; a split that loses a micro-unit. */
static void test_unbalanced(void **state)
{
    sl_stmt_line lines[] = {
        { SL_STMT_EARNINGS, 1, 1, 15, 1, 1, 13 },
    };
    sl_stmt_totals t;
    sl_err err = { "" };

    (void)state;
    assert_int_equal(sl_stmt_check(0, lines, 1, 14, &t, &err), SL_EINVAL);
    assert_string_equal(err.msg, "opening 0 + lines 13 = 13, but the closing "
                        "balance is 14");
    lines[0].rounding = 0;   /* 15 != 1 + 0 + 13 */
    assert_int_equal(sl_stmt_check(0, lines, 1, 13, &t, &err), SL_EINVAL);
    assert_string_equal(err.msg, "line 1 (earnings): gross 15 != fee 1 + "
                        "rounding 0 + net 13");
    assert_int_equal(t.net, 0);   /* nothing reported on failure */
}

/* Signs: a payout or clawback that credits, negative earnings, more
 * consumers than samples. */
static void test_signs(void **state)
{
    sl_stmt_line pay = { SL_STMT_PAYOUT, 0, 0, 0, 0, 0, 100 };
    sl_stmt_line claw = { SL_STMT_CLAWBACK, 1, 0, 5, 0, 0, -5 };
    sl_stmt_line earn = { SL_STMT_EARNINGS, 1, 1, -10, 0, 0, -10 };
    sl_stmt_line many = { SL_STMT_EARNINGS, 1, 2, 10, 0, 0, 10 };
    sl_stmt_line other = { SL_STMT_OTHER, 0, 0, 0, 0, 0, 42 };
    sl_stmt_totals t;
    sl_err err = { "" };

    (void)state;
    assert_int_equal(sl_stmt_check(0, &pay, 1, 100, &t, &err), SL_EINVAL);
    assert_string_equal(err.msg, "line 1 (payout): net 100 (must be <= 0, "
                        "with no gross, fee or rounding)");
    assert_int_equal(sl_stmt_check(5, &claw, 1, 0, &t, &err), SL_EINVAL);
    assert_int_equal(sl_stmt_check(0, &earn, 1, -10, &t, &err), SL_EINVAL);
    assert_string_equal(err.msg, "line 1 (earnings): a negative part");
    assert_int_equal(sl_stmt_check(0, &many, 1, 10, &t, &err), SL_EINVAL);
    assert_string_equal(err.msg, "line 1 (earnings): 1 samples from 2 consumers");
    /* other movements count, either sign */
    assert_int_equal(sl_stmt_check(0, &other, 1, 42, &t, &err), SL_OK);
    assert_int_equal(t.other, 42);
}

/* Sums that pass INT64_MAX are refused, not wrapped. */
static void test_overflow(void **state)
{
    const sl_stmt_line lines[] = {
        { SL_STMT_EARNINGS, 1, 1, INT64_MAX, 0, 0, INT64_MAX },
        { SL_STMT_EARNINGS, 1, 1, 1, 0, 0, 1 },
    };
    const sl_stmt_line big = { SL_STMT_EARNINGS, 1, 1, INT64_MAX, INT64_MAX, 1, 0 };
    sl_stmt_totals t;
    sl_err err = { "" };

    (void)state;
    assert_int_equal(sl_stmt_check(0, lines, 1, INT64_MAX, &t, &err), SL_OK);
    assert_int_equal(sl_stmt_check(0, lines, 2, 0, &t, &err), SL_ETOOBIG);
    assert_string_equal(err.msg, "line 2 (earnings): the sums overflow");
    assert_int_equal(sl_stmt_check(1, lines, 1, 0, &t, &err), SL_ETOOBIG);
    /* fee + rounding overflowing is a bad split, never a wrapped equality */
    assert_int_equal(sl_stmt_check(0, &big, 1, 0, &t, &err), SL_EINVAL);
}

static void test_amount_format(void **state)
{
    char b[SL_AMOUNT_MAX];

    (void)state;
    assert_string_equal(sl_amount_format(0, b), "0.000000");
    assert_string_equal(sl_amount_format(1, b), "0.000001");
    assert_string_equal(sl_amount_format(-12000500, b), "-12.000500");
    assert_string_equal(sl_amount_format(1000000, b), "1.000000");
    assert_string_equal(sl_amount_format(INT64_MAX, b), "9223372036854.775807");
    assert_string_equal(sl_amount_format(INT64_MIN, b), "-9223372036854.775808");
}

static void test_amount_parse(void **state)
{
    int64_t v = -1;

    (void)state;
    assert_int_equal(sl_amount_parse("10", &v), SL_OK);
    assert_int_equal(v, 10000000);
    assert_int_equal(sl_amount_parse("10.5", &v), SL_OK);
    assert_int_equal(v, 10500000);
    assert_int_equal(sl_amount_parse("0.000001", &v), SL_OK);
    assert_int_equal(v, 1);
    assert_int_equal(sl_amount_parse("0", &v), SL_OK);
    assert_int_equal(v, 0);
    assert_int_equal(sl_amount_parse("1000000000000", &v), SL_OK);
    assert_int_equal(v, 1000000000000000000LL);
    v = 7;
    assert_int_equal(sl_amount_parse("1000000000001", &v), SL_EINVAL);
    assert_int_equal(sl_amount_parse("0.0000001", &v), SL_EINVAL);
    assert_int_equal(sl_amount_parse("-1", &v), SL_EINVAL);
    assert_int_equal(sl_amount_parse("+1", &v), SL_EINVAL);
    assert_int_equal(sl_amount_parse("1.", &v), SL_EINVAL);
    assert_int_equal(sl_amount_parse(".5", &v), SL_EINVAL);
    assert_int_equal(sl_amount_parse("1e3", &v), SL_EINVAL);
    assert_int_equal(sl_amount_parse("1 ", &v), SL_EINVAL);
    assert_int_equal(sl_amount_parse("", &v), SL_EINVAL);
    assert_int_equal(sl_amount_parse(NULL, &v), SL_EINVAL);
    assert_int_equal(v, 7);   /* untouched on error */
}

static void test_month(void **state)
{
    char s[SL_DATE_MAX], e[SL_DATE_MAX];
    int y = 0, m = 0;

    (void)state;
    assert_int_equal(sl_month_parse("2026-12", &y, &m), SL_OK);
    assert_int_equal(y, 2026);
    assert_int_equal(m, 12);
    sl_month_bounds(y, m, s, e);
    assert_string_equal(s, "2026-12-01");
    assert_string_equal(e, "2027-01-01");
    sl_month_bounds(2027, 2, s, e);
    assert_string_equal(s, "2027-02-01");
    assert_string_equal(e, "2027-03-01");
    sl_month_bounds(9999, 12, s, e);
    assert_string_equal(e, "10000-01-01");
    assert_int_equal(sl_month_parse("2026-13", &y, &m), SL_EINVAL);
    assert_int_equal(sl_month_parse("2026-00", &y, &m), SL_EINVAL);
    assert_int_equal(sl_month_parse("2026-1", &y, &m), SL_EINVAL);
    assert_int_equal(sl_month_parse("2026-12-01", &y, &m), SL_EINVAL);
    assert_int_equal(sl_month_parse("1999-12", &y, &m), SL_EINVAL);
    assert_int_equal(sl_month_parse("2026/12", &y, &m), SL_EINVAL);
    assert_int_equal(sl_month_parse("２０26-12", &y, &m), SL_EINVAL);
}

/* Hand-computed payouts. */
static void test_payout_amount(void **state)
{
    (void)state;
    /* earned 100 by the month's end, nothing paid, 120 posted now: 100 */
    assert_int_equal(sl_payout_amount(100, 0, 120, 0, 0), 100);
    /* 100 already paid out of 150 earned: 50 */
    assert_int_equal(sl_payout_amount(150, 100, 50, 0, 0), 50);
    /* a clawback since: posted 30 now, so only 30 */
    assert_int_equal(sl_payout_amount(150, 100, 30, 0, 0), 30);
    /* a payout of 25 still pending leaves 5 */
    assert_int_equal(sl_payout_amount(150, 100, 30, 25, 0), 5);
    /* never below zero: pending covers everything, or a negative balance */
    assert_int_equal(sl_payout_amount(150, 100, 30, 30, 0), 0);
    assert_int_equal(sl_payout_amount(150, 0, -10, 0, 0), 0);
    /* the minimum: 50 owed pays at min 50, not at min 51 */
    assert_int_equal(sl_payout_amount(50, 0, 50, 0, 50), 50);
    assert_int_equal(sl_payout_amount(50, 0, 50, 0, 51), 0);
    /* overpaid already (a clawback after a payout): nothing */
    assert_int_equal(sl_payout_amount(10, 20, 100, 0, 0), 0);
    /* subtractions that would overflow pay nothing */
    assert_int_equal(sl_payout_amount(INT64_MAX, -1, 10, 0, 0), 0);
    assert_int_equal(sl_payout_amount(10, 0, INT64_MIN, 1, 0), 0);
}

static void test_csv_field(void **state)
{
    sl_buf b;

    (void)state;
    sl_buf_init(&b, 1024);
#define CSV(in, want)                                   \
    do {                                                \
        sl_buf_reset(&b);                               \
        assert_int_equal(sl_csv_field(&b, in), SL_OK);  \
        assert_int_equal(sl_buf_cstr(&b), SL_OK);       \
        assert_string_equal((const char *)b.data, want); \
    } while (0)
    CSV("plain", "plain");
    CSV("", "");
    CSV("a,b", "\"a,b\"");
    CSV("say \"hi\"", "\"say \"\"hi\"\"\"");
    CSV("line\nbreak", "\"line\nbreak\"");
    CSV("=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\"");
    CSV("+1", "'+1");
    CSV("-2", "'-2");
    CSV("@SUM(A1)", "'@SUM(A1)");
    CSV("a=b", "a=b");
#undef CSV
    sl_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_balanced),
        cmocka_unit_test(test_unbalanced),
        cmocka_unit_test(test_signs),
        cmocka_unit_test(test_overflow),
        cmocka_unit_test(test_amount_format),
        cmocka_unit_test(test_amount_parse),
        cmocka_unit_test(test_month),
        cmocka_unit_test(test_payout_amount),
        cmocka_unit_test(test_csv_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
