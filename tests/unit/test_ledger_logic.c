/*
 * test_ledger_logic.c -- unit tests for services/ledger/ledger_logic.c:
 * the split at hand-computed prices and fees (remainders booked to the
 * rounding account, the extremes 0 and 10000 bps, INT64_MAX without
 * overflow), the derived transfer and link ids, the posting legs (zero
 * legs left out), the reversal legs of each withdrawal policy, the policy
 * names, and the canonical line of a transfer (escaping, NULLs).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ledger_logic.h"

#define SPLIT(p, f, n, fe, r) do {                                   \
        sl_ledger_split s_;                                          \
        assert_int_equal(sl_ledger_split_price((p), (f), &s_), SL_OK); \
        assert_int_equal(s_.net, (n));                               \
        assert_int_equal(s_.fee, (fe));                              \
        assert_int_equal(s_.rounding, (r));                          \
    } while (0)

static void test_split(void **state)
{
    (void)state;
    /* 1.000000 at 10%: exact. */
    SPLIT(1000000, 1000, 900000, 100000, 0);
    /* 15 micros at 10%: net floor(13.5) = 13, fee floor(1.5) = 1, 1 left. */
    SPLIT(15, 1000, 13, 1, 1);
    /* 1 micro at 10%: net floor(0.9) = 0, fee floor(0.1) = 0, 1 left. */
    SPLIT(1, 1000, 0, 0, 1);
    /* 12345 at 2.5%: net floor(12036.375) = 12036, fee floor(308.625) = 308. */
    SPLIT(12345, 250, 12036, 308, 1);
    SPLIT(0, 1000, 0, 0, 0);
    SPLIT(999, 0, 999, 0, 0);
    SPLIT(999, 10000, 0, 999, 0);
    /* INT64_MAX = 9223372036854775807 at 1 bps: fee floor(922337203685477.5807)
     * = 922337203685477, net floor(9222449699651090329.4193). */
    SPLIT(INT64_MAX, 1, INT64_C(9222449699651090329), INT64_C(922337203685477), 1);
}

static void test_split_invalid(void **state)
{
    sl_ledger_split s;

    (void)state;
    assert_int_equal(sl_ledger_split_price(-1, 1000, &s), SL_EINVAL);
    assert_int_equal(sl_ledger_split_price(100, -1, &s), SL_EINVAL);
    assert_int_equal(sl_ledger_split_price(100, 10001, &s), SL_EINVAL);
}

static void test_ids_and_legs(void **state)
{
    sl_ledger_split s = { 13, 1, 1 };
    sl_ledger_leg l[3];
    char link[SL_LEDGER_ID_MAX];

    (void)state;
    sl_ledger_usage_link(42, link);
    assert_string_equal(link, "usage:42");
    sl_ledger_change_link(7, link);
    assert_string_equal(link, "change:7");
    assert_int_equal(sl_ledger_usage_legs(42, &s, l), 3);
    assert_string_equal(l[0].transfer_id, "usage:42:net");
    assert_string_equal(sl_ledger_kind_name(l[0].kind), "charge");
    assert_int_equal(l[0].debit, SL_ACCT_CONSUMER);
    assert_int_equal(l[0].credit, SL_ACCT_CREATOR);
    assert_int_equal(l[0].amount, 13);
    assert_string_equal(l[0].reverses, "");
    assert_string_equal(l[1].transfer_id, "usage:42:fee");
    assert_int_equal(l[1].credit, SL_ACCT_PLATFORM);
    assert_int_equal(l[1].amount, 1);
    assert_string_equal(l[2].transfer_id, "usage:42:rounding");
    assert_string_equal(sl_ledger_kind_name(l[2].kind), "rounding");
    assert_int_equal(l[2].credit, SL_ACCT_ROUNDING);

    /* A free sample posts nothing; a 0 bps fee no fee leg. */
    s = (sl_ledger_split){ 0, 0, 0 };
    assert_int_equal(sl_ledger_usage_legs(1, &s, l), 0);
    s = (sl_ledger_split){ 500, 0, 0 };
    assert_int_equal(sl_ledger_usage_legs(9223372036854775807LL, &s, l), 1);
    assert_string_equal(l[0].transfer_id, "usage:9223372036854775807:net");
}

static void test_reversals(void **state)
{
    sl_ledger_split s = { 900, 100, 0 };
    sl_ledger_leg l[3];

    (void)state;
    assert_int_equal(sl_ledger_reversal_legs(5, &s, SL_POLICY_KEPT, l), 0);

    assert_int_equal(sl_ledger_reversal_legs(5, &s, SL_POLICY_REFUND, l), 2);
    assert_string_equal(l[0].transfer_id, "usage:5:net:refund");
    assert_string_equal(l[0].reverses, "usage:5:net");
    assert_string_equal(sl_ledger_kind_name(l[0].kind), "refund");
    assert_int_equal(l[0].debit, SL_ACCT_PLATFORM);
    assert_int_equal(l[0].credit, SL_ACCT_CONSUMER);
    assert_int_equal(l[0].amount, 900);
    assert_string_equal(l[1].transfer_id, "usage:5:fee:refund");
    assert_int_equal(l[1].debit, SL_ACCT_PLATFORM);
    assert_int_equal(l[1].amount, 100);

    s = (sl_ledger_split){ 13, 1, 1 };
    assert_int_equal(sl_ledger_reversal_legs(6, &s, SL_POLICY_CLAWBACK, l), 3);
    assert_string_equal(l[0].transfer_id, "usage:6:net:clawback");
    assert_string_equal(sl_ledger_kind_name(l[0].kind), "clawback");
    assert_int_equal(l[0].debit, SL_ACCT_CREATOR);
    assert_int_equal(l[0].credit, SL_ACCT_CONSUMER);
    assert_int_equal(l[0].amount, 13);
    assert_int_equal(l[1].debit, SL_ACCT_PLATFORM);
    assert_int_equal(l[2].debit, SL_ACCT_ROUNDING);
    assert_string_equal(l[2].reverses, "usage:6:rounding");
    assert_int_equal(l[2].amount, 1);
}

static void test_names(void **state)
{
    sl_ledger_policy p;

    (void)state;
    assert_int_equal(sl_ledger_policy_parse("clawback", &p), SL_OK);
    assert_int_equal(p, SL_POLICY_CLAWBACK);
    assert_int_equal(sl_ledger_policy_parse("kept", &p), SL_OK);
    assert_int_equal(p, SL_POLICY_KEPT);
    assert_int_equal(sl_ledger_policy_parse("Kept", &p), SL_EINVAL);
    assert_int_equal(sl_ledger_policy_parse(NULL, &p), SL_EINVAL);
    assert_string_equal(sl_ledger_acct_name(SL_ACCT_PAYOUTS), "payouts_in_transit");
    assert_string_equal(sl_ledger_kind_name(SL_XFER_PAYOUT_VOID), "payout_void");
    assert_int_equal(sl_ledger_acct_allow_negative(SL_ACCT_CREATOR), 0);
    assert_int_equal(sl_ledger_acct_allow_negative(SL_ACCT_PAYOUTS), 0);
    assert_int_equal(sl_ledger_acct_allow_negative(SL_ACCT_PLATFORM), 1);
}

static void test_line(void **state)
{
    sl_ledger_xfer t = {
        .transfer_id = "usage:42:net", .link_id = "usage:42", .currency = "USD",
        .debit_kind = "consumer", .debit_holder = "acme",
        .credit_kind = "creator", .credit_holder = "c-1",
        .amount = 13, .kind = "charge", .pending = 0,
        .pending_id = NULL, .reverses = NULL, .usage_id = 42, .payout_id = -1,
    };
    sl_buf b;

    (void)state;
    sl_buf_init(&b, 4096);
    assert_int_equal(sl_ledger_line(&t, &b), SL_OK);
    assert_int_equal(sl_buf_cstr(&b), SL_OK);
    assert_string_equal((char *)b.data,
        "v1 usage:42:net usage:42 USD consumer:acme creator:c-1 13 charge 0 ~ ~ 42 ~\n");

    /* Spaces, '~', '%' and non-ASCII never blur a field boundary. */
    sl_buf_reset(&b);
    t.transfer_id = "payout:7";
    t.link_id = "a b~c%d\xc3\xa9";
    t.debit_kind = "creator";
    t.debit_holder = "c 1";
    t.credit_kind = "payouts_in_transit";
    t.credit_holder = "";
    t.kind = "payout";
    t.pending = 1;
    t.usage_id = -1;
    t.payout_id = 7;
    assert_int_equal(sl_ledger_line(&t, &b), SL_OK);
    assert_int_equal(sl_buf_cstr(&b), SL_OK);
    assert_string_equal((char *)b.data,
        "v1 payout:7 a%20b%7Ec%25d%C3%A9 USD creator:c%201 payouts_in_transit: 13 "
        "payout 1 ~ ~ ~ 7\n");
    sl_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_split_invalid),
        cmocka_unit_test(test_ids_and_legs),
        cmocka_unit_test(test_reversals),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
