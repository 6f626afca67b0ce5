/*
 * test_ctl_top.c -- unit tests for services/sluicectl/top.c: the sums
 * `sluicectl top` reads from an exposition, label values with escapes,
 * and hostile lines skipped and counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "top.h"

static void test_sums(void **state)
{
    static const char text[] =
        "# HELP sluice_messages_in_total Messages consumed.\n"
        "# TYPE sluice_messages_in_total counter\n"
        "sluice_messages_in_total{stage=\"validate\",topic=\"sluice.uploads\"} 7\n"
        "sluice_messages_in_total{stage=\"validate\",topic=\"other\"} 3\n"
        "sluice_messages_out_total{stage=\"validate\",topic=\"sluice.validated\"} 5\n"
        "sluice_verdicts_total{stage=\"validate\",verdict=\"emit\",reason=\"none\"} 5\n"
        "sluice_verdicts_total{stage=\"validate\",verdict=\"reject\",reason=\"creator_unknown\"} 2\n"
        "sluice_verdicts_total{stage=\"validate\",verdict=\"reject\",reason=\"a\\\"b}\"} 1\n"
        "sluice_consumer_lag{stage=\"validate\",topic=\"t\",partition=\"0\"} 4\n"
        "sluice_consumer_lag{stage=\"validate\",topic=\"t\",partition=\"1\"} 6\n"
        "sluice_assigned_partitions{stage=\"validate\"} 2\n"
        "sluice_transaction_aborts_total{stage=\"validate\"} 1\n"
        "sluice_ready 1\n"
        "sluice_messages_in_totalx 100\n";
    ctl_top_sample s;

    (void)state;
    ctl_top_parse(text, strlen(text), &s);
    assert_true(s.in == 10);
    assert_true(s.out == 5);
    assert_true(s.rejects == 3);
    assert_true(s.lag == 10);
    assert_true(s.partitions == 2);
    assert_true(s.aborts == 1);
    assert_true(s.ready == 1);
    assert_int_equal(s.has_stage, 1);
    assert_int_equal(s.has_http, 0);
    assert_int_equal(s.bad_lines, 0);
}

static void test_hostile_lines(void **state)
{
    static const char text[] =
        "sluice_messages_in_total{stage=\"x 5\n"           /* unterminated */
        "sluice_messages_in_total{stage=\"x\"}\n"          /* no value */
        "sluice_messages_in_total{stage=\"x\"} abc\n"      /* not a number */
        "sluice_messages_in_total{stage=\"x\"} 2\n"
        "sluice_http_requests_total{route=\"/h\",code=\"200\"} 3 1700000000000\n"
        "\n";
    ctl_top_sample s;

    (void)state;
    ctl_top_parse(text, strlen(text), &s);
    assert_true(s.in == 2);
    assert_true(s.requests == 3);
    assert_int_equal(s.has_http, 1);
    assert_true(s.ready == -1);
    assert_int_equal(s.bad_lines, 3);
}

/* A process that has seen no message yet declares its families only. */
static void test_declared_only(void **state)
{
    static const char stage[] =
        "# HELP sluice_messages_in_total Messages consumed.\n"
        "# TYPE sluice_messages_in_total counter\n"
        "sluice_assigned_partitions{stage=\"scan\"} 3\n";
    static const char http[] =
        "# TYPE sluice_http_requests_total counter\n"
        "sluice_ready 0\n";
    static const char neither[] = "# TYPE sluice_ready gauge\nsluice_ready 1\n";
    ctl_top_sample s;

    (void)state;
    ctl_top_parse(stage, strlen(stage), &s);
    assert_int_equal(s.has_stage, 1);
    assert_int_equal(s.has_http, 0);
    assert_true(s.partitions == 3);
    ctl_top_parse(http, strlen(http), &s);
    assert_int_equal(s.has_stage, 0);
    assert_int_equal(s.has_http, 1);
    assert_true(s.ready == 0);
    ctl_top_parse(neither, strlen(neither), &s);
    assert_int_equal(s.has_stage, 0);
    assert_int_equal(s.has_http, 0);
}

static void test_label(void **state)
{
    static const char set[] = "{a=\"x\\\"y\\\\z\\n\",b=\"two\"}";
    char out[16];

    (void)state;
    assert_int_equal(ctl_top_label(set, strlen(set), "a", out, sizeof(out)), 1);
    assert_string_equal(out, "x\"y\\z\n");
    assert_int_equal(ctl_top_label(set, strlen(set), "b", out, sizeof(out)), 1);
    assert_string_equal(out, "two");
    assert_int_equal(ctl_top_label(set, strlen(set), "c", out, sizeof(out)), 0);
    assert_int_equal(ctl_top_label("{a=x}", 5, "a", out, sizeof(out)), -1);
    assert_int_equal(ctl_top_label("{a=\"x\"", 6, "a", out, sizeof(out)), -1);
    /* truncated to the buffer */
    assert_int_equal(ctl_top_label(set, strlen(set), "b", out, 3), 1);
    assert_string_equal(out, "tw");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sums),
        cmocka_unit_test(test_hostile_lines),
        cmocka_unit_test(test_declared_only),
        cmocka_unit_test(test_label),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
