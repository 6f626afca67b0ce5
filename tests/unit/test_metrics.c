/*
 * test_metrics.c -- unit tests for common/src/metrics.c: the registry's
 * declarations, updates, bounded label sets, histogram buckets and the
 * Prometheus text exposition (escaping, number forms), compared with
 * literal expected text.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sl/common.h"
#include "sl/metrics.h"

/* The exposition as a NUL-terminated string (static buffer). */
static const char *expose(sl_metrics *m)
{
    static char text[16384];
    sl_buf b;

    sl_buf_init(&b, sizeof(text) - 1);
    assert_int_equal(sl_metrics_expose(m, &b), SL_OK);
    memcpy(text, b.data ? (const char *)b.data : "", b.len);
    text[b.len] = '\0';
    sl_buf_free(&b);
    return text;
}

static void test_counter_and_gauge(void **state)
{
    sl_metrics *m = sl_metrics_new();
    sl_err err = { "" };
    static const char *const lbl[] = { "topic", NULL };
    sl_metric *c, *g;

    (void)state;
    assert_non_null(m);
    c = sl_metrics_counter(m, "sluice_messages_in_total", "Messages consumed.",
                           lbl, 8, &err);
    g = sl_metrics_gauge(m, "sluice_up", "1 when up.", NULL, 0, &err);
    assert_non_null(c);
    assert_non_null(g);
    sl_metric_add(c, (const char *const[]){ "a" }, 1);
    sl_metric_add(c, (const char *const[]){ "b" }, 2);
    sl_metric_add(c, (const char *const[]){ "a" }, 3);
    sl_metric_add(c, (const char *const[]){ "a" }, -5);   /* ignored */
    sl_metric_set(g, NULL, 1);
    assert_true(sl_metric_value(c, (const char *const[]){ "a" }) == 4);
    assert_true(sl_metric_value(c, (const char *const[]){ "z" }) == 0);
    assert_string_equal(expose(m),
        "# HELP sluice_messages_in_total Messages consumed.\n"
        "# TYPE sluice_messages_in_total counter\n"
        "sluice_messages_in_total{topic=\"a\"} 4\n"
        "sluice_messages_in_total{topic=\"b\"} 2\n"
        "# HELP sluice_up 1 when up.\n"
        "# TYPE sluice_up gauge\n"
        "sluice_up 1\n");
    sl_metrics_destroy(m);
}

/* Label values: backslash, quote and newline escaped; HELP: backslash and
 * newline; bytes that are not UTF-8 become U+FFFD. */
static void test_escaping(void **state)
{
    sl_metrics *m = sl_metrics_new();
    sl_err err = { "" };
    static const char *const lbl[] = { "code", "detail", NULL };
    sl_metric *c;

    (void)state;
    c = sl_metrics_counter(m, "x_total", "a \\ back\nslash \"q\"", lbl, 8, &err);
    assert_non_null(c);
    sl_metric_add(c, (const char *const[]){ "a\"b", "c\\d\ne" }, 1);
    sl_metric_add(c, (const char *const[]){ "bad\xff", "" }, 1);
    assert_string_equal(expose(m),
        "# HELP x_total a \\\\ back\\nslash \"q\"\n"
        "# TYPE x_total counter\n"
        "x_total{code=\"a\\\"b\",detail=\"c\\\\d\\ne\"} 1\n"
        "x_total{code=\"bad\xef\xbf\xbd\",detail=\"\"} 1\n");
    sl_metrics_destroy(m);
}

/* Buckets are cumulative, a value on a bound counts in that bucket, +Inf
 * holds everything, _sum and _count follow. */
static void test_histogram(void **state)
{
    sl_metrics *m = sl_metrics_new();
    sl_err err = { "" };
    static const double b[] = { 0.005, 0.125, 1 };
    static const char *const lbl[] = { "stage", NULL };
    sl_metric *h;

    (void)state;
    h = sl_metrics_histogram(m, "d_seconds", "Durations.", lbl, 4, b, 3, &err);
    assert_non_null(h);
    sl_metric_observe(h, (const char *const[]){ "scan" }, 0.00390625);
    sl_metric_observe(h, (const char *const[]){ "scan" }, 0.125);
    sl_metric_observe(h, (const char *const[]){ "scan" }, 0.5);
    sl_metric_observe(h, (const char *const[]){ "scan" }, 7);
    sl_metric_observe(h, (const char *const[]){ "scan" }, NAN);   /* ignored */
    assert_true(sl_metric_value(h, (const char *const[]){ "scan" }) == 4);
    assert_string_equal(expose(m),
        "# HELP d_seconds Durations.\n"
        "# TYPE d_seconds histogram\n"
        "d_seconds_bucket{stage=\"scan\",le=\"0.005\"} 1\n"
        "d_seconds_bucket{stage=\"scan\",le=\"0.125\"} 2\n"
        "d_seconds_bucket{stage=\"scan\",le=\"1\"} 3\n"
        "d_seconds_bucket{stage=\"scan\",le=\"+Inf\"} 4\n"
        "d_seconds_sum{stage=\"scan\"} 7.62890625\n"
        "d_seconds_count{stage=\"scan\"} 4\n");
    sl_metrics_destroy(m);
}

/* Past max_series, new label sets go to the one "other" series; clear
 * drops them all. */
static void test_bounded_labels(void **state)
{
    sl_metrics *m = sl_metrics_new();
    sl_err err = { "" };
    static const char *const lbl[] = { "reason", NULL };
    char long_value[SL_METRIC_MAX_VALUE + 2];
    sl_metric *c;

    (void)state;
    c = sl_metrics_counter(m, "r_total", "R.", lbl, 2, &err);
    assert_non_null(c);
    sl_metric_add(c, (const char *const[]){ "one" }, 1);
    sl_metric_add(c, (const char *const[]){ "two" }, 1);
    sl_metric_add(c, (const char *const[]){ "three" }, 1);
    sl_metric_add(c, (const char *const[]){ "four" }, 1);
    memset(long_value, 'x', sizeof(long_value) - 1);
    long_value[sizeof(long_value) - 1] = '\0';
    sl_metric_add(c, (const char *const[]){ long_value }, 1);
    assert_string_equal(expose(m),
        "# HELP r_total R.\n"
        "# TYPE r_total counter\n"
        "r_total{reason=\"one\"} 1\n"
        "r_total{reason=\"two\"} 1\n"
        "r_total{reason=\"other\"} 3\n");
    assert_true(sl_metric_value(c, (const char *const[]){ "other" }) == 3);
    sl_metric_clear(c);
    assert_string_equal(expose(m), "# HELP r_total R.\n# TYPE r_total counter\n");
    sl_metrics_destroy(m);
}

/* set_all replaces the whole set of a gauge's series at once. */
static void test_set_all(void **state)
{
    sl_metrics *m = sl_metrics_new();
    sl_err err = { "" };
    static const char *const lbl[] = { "topic", "partition", NULL };
    static const char *const first[] = { "t", "0", "t", "1" };
    static const char *const second[] = { "t", "1", "u", "0" };
    static const double v1[] = { 5, 6 }, v2[] = { 0, 3 };
    sl_metric *g;

    (void)state;
    g = sl_metrics_gauge(m, "lag", "Lag.", lbl, 8, &err);
    assert_non_null(g);
    sl_metric_set_all(g, 2, first, v1);
    sl_metric_set_all(g, 2, second, v2);
    assert_string_equal(expose(m),
        "# HELP lag Lag.\n"
        "# TYPE lag gauge\n"
        "lag{topic=\"t\",partition=\"1\"} 0\n"
        "lag{topic=\"u\",partition=\"0\"} 3\n");
    sl_metrics_destroy(m);
}

static void test_bad_declarations(void **state)
{
    sl_metrics *m = sl_metrics_new();
    sl_err err = { "" };
    static const char *const bad_label[] = { "__x", NULL };
    static const char *const le[] = { "le", NULL };
    static const char *const five[] = { "a", "b", "c", "d", "e", NULL };
    static const double down[] = { 1, 0.5 };
    static const double one[] = { 1 };

    (void)state;
    assert_null(sl_metrics_counter(m, "9lives_total", "", NULL, 0, &err));
    assert_null(sl_metrics_counter(m, "no_suffix", "", NULL, 0, &err));
    assert_string_equal(err.msg, "counter no_suffix: its name must end in _total");
    assert_null(sl_metrics_gauge(m, "g", "", bad_label, 4, &err));
    assert_null(sl_metrics_gauge(m, "g", "", five, 4, &err));
    assert_null(sl_metrics_histogram(m, "h", "", le, 4, one, 1, &err));
    assert_null(sl_metrics_histogram(m, "h", "", NULL, 0, down, 2, &err));
    assert_non_null(sl_metrics_gauge(m, "g", "", NULL, 0, &err));
    assert_null(sl_metrics_gauge(m, "g", "", NULL, 0, &err));
    assert_string_equal(err.msg, "metric g declared twice");
    /* a NULL family is a no-op */
    sl_metric_add(NULL, NULL, 1);
    sl_metric_observe(NULL, NULL, 1);
    sl_metrics_destroy(m);
}

static void test_numbers(void **state)
{
    char s[64];

    (void)state;
    sl_metrics_format_double(0.1, s, sizeof(s));
    assert_string_equal(s, "0.1");
    sl_metrics_format_double(42, s, sizeof(s));
    assert_string_equal(s, "42");
    sl_metrics_format_double(-3, s, sizeof(s));
    assert_string_equal(s, "-3");
    sl_metrics_format_double(0.0025, s, sizeof(s));
    assert_string_equal(s, "0.0025");
    sl_metrics_format_double(1e-6, s, sizeof(s));
    assert_string_equal(s, "1e-06");
    sl_metrics_format_double(INFINITY, s, sizeof(s));
    assert_string_equal(s, "+Inf");
    sl_metrics_format_double(-INFINITY, s, sizeof(s));
    assert_string_equal(s, "-Inf");
    sl_metrics_format_double(NAN, s, sizeof(s));
    assert_string_equal(s, "NaN");
}

/* A capped output buffer reports SL_ETOOBIG. */
static void test_cap(void **state)
{
    sl_metrics *m = sl_metrics_new();
    sl_err err = { "" };
    sl_buf b;

    (void)state;
    assert_non_null(sl_metrics_gauge(m, "a_rather_long_gauge_name", "Help.", NULL, 0, &err));
    sl_buf_init(&b, 16);
    assert_int_equal(sl_metrics_expose(m, &b), SL_ETOOBIG);
    sl_buf_free(&b);
    sl_metrics_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_and_gauge),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_bounded_labels),
        cmocka_unit_test(test_set_all),
        cmocka_unit_test(test_bad_declarations),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
