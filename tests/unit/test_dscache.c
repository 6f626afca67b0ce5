/*
 * test_dscache.c -- unit tests for common/src/dscache.c, the dataset
 * registry cache scan and license share: TTL refresh, cached "not
 * registered", failed fetches never answered from a stale row, the slot
 * limit, and a row copied whole or not at all.  The rows come from a
 * counting fetch that plays the datasets table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sl/common.h"
#include "sl/dscache.h"

/* The "table": dataset ids starting with "ds" exist; fail_rc, when set,
 * is what the next fetches return. */
typedef struct table {
    int fetches;
    int fail_rc;
    int version;         /* bumped by a test to see a refresh */
} table;

static int fetch(void *arg, const char *id, sl_dataset_row *row, int *found)
{
    table *t = arg;
    char v[32];

    t->fetches++;
    if (t->fail_rc)
        return t->fail_rc;
    *found = strncmp(id, "ds", 2) == 0;
    if (!*found)
        return SL_OK;
    snprintf(v, sizeof(v), "v%d", t->version);
    row->open = 1;
    row->quota_count = 10;
    row->quota_bytes = -1;
    row->policy_version = strdup(v);
    row->allowed_types = strdup("text,image");
    if (!row->policy_version || !row->allowed_types)
        return SL_ENOMEM;
    return SL_OK;
}

static void test_ttl(void **state)
{
    table t = { 0 };
    sl_dscache *c;
    const sl_dataset_row *row;

    (void)state;
    assert_int_equal(sl_dscache_new(&c, 5000, fetch, &t), SL_OK);
    assert_int_equal(sl_dscache_get_at(c, "ds1", 1000, &row), SL_OK);
    assert_int_equal(t.fetches, 1);
    assert_int_equal(row->open, 1);
    assert_int_equal(row->quota_count, 10);
    assert_int_equal(row->quota_bytes, -1);
    assert_string_equal(row->policy_version, "v0");
    assert_string_equal(row->allowed_types, "text,image");
    assert_null(row->policy_json);
    assert_null(row->scan_actions);

    t.version = 1;
    /* 4999 ms later: still the cached row */
    assert_int_equal(sl_dscache_get_at(c, "ds1", 5999, &row), SL_OK);
    assert_int_equal(t.fetches, 1);
    assert_string_equal(row->policy_version, "v0");
    /* 5000 ms later: fetched again */
    assert_int_equal(sl_dscache_get_at(c, "ds1", 6000, &row), SL_OK);
    assert_int_equal(t.fetches, 2);
    assert_string_equal(row->policy_version, "v1");
    sl_dscache_destroy(c);
}

static void test_not_found_cached(void **state)
{
    table t = { 0 };
    sl_dscache *c;
    const sl_dataset_row *row;

    (void)state;
    assert_int_equal(sl_dscache_new(&c, 5000, fetch, &t), SL_OK);
    assert_int_equal(sl_dscache_get_at(c, "nope", 0, &row), SL_ENOTFOUND);
    assert_null(row);
    assert_int_equal(sl_dscache_get_at(c, "nope", 4000, &row), SL_ENOTFOUND);
    assert_int_equal(t.fetches, 1);
    assert_int_equal(sl_dscache_get_at(c, "nope", 5000, &row), SL_ENOTFOUND);
    assert_int_equal(t.fetches, 2);
    sl_dscache_destroy(c);
}

static void test_failure_not_served_stale(void **state)
{
    table t = { 0 };
    sl_dscache *c;
    const sl_dataset_row *row;

    (void)state;
    assert_int_equal(sl_dscache_new(&c, 100, fetch, &t), SL_OK);
    assert_int_equal(sl_dscache_get_at(c, "ds1", 0, &row), SL_OK);
    /* Expired and the database is gone: the error, not the old row. */
    t.fail_rc = SL_EIO;
    assert_int_equal(sl_dscache_get_at(c, "ds1", 100, &row), SL_EIO);
    assert_null(row);
    assert_int_equal(sl_dscache_get_at(c, "ds1", 101, &row), SL_EIO);
    assert_int_equal(t.fetches, 3);
    /* Back: fetched again, fresh. */
    t.fail_rc = 0;
    t.version = 7;
    assert_int_equal(sl_dscache_get_at(c, "ds1", 102, &row), SL_OK);
    assert_string_equal(row->policy_version, "v7");
    assert_int_equal(t.fetches, 4);
    /* A statement error comes back as is too. */
    t.fail_rc = SL_ERR;
    assert_int_equal(sl_dscache_get_at(c, "ds2", 102, &row), SL_ERR);
    sl_dscache_destroy(c);
}

static void test_zero_ttl_always_fetches(void **state)
{
    table t = { 0 };
    sl_dscache *c;
    const sl_dataset_row *row;

    (void)state;
    assert_int_equal(sl_dscache_new(&c, 0, fetch, &t), SL_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(sl_dscache_get_at(c, "ds1", 42, &row), SL_OK);
    assert_int_equal(t.fetches, 3);
    sl_dscache_destroy(c);
}

static void test_slots_round_robin(void **state)
{
    table t = { 0 };
    sl_dscache *c;
    const sl_dataset_row *row;
    char id[32];

    (void)state;
    assert_int_equal(sl_dscache_new(&c, 1000000, fetch, &t), SL_OK);
    for (int i = 0; i < 256; i++) {
        snprintf(id, sizeof(id), "ds%d", i);
        assert_int_equal(sl_dscache_get_at(c, id, 0, &row), SL_OK);
    }
    assert_int_equal(t.fetches, 256);
    /* All 256 are held. */
    for (int i = 0; i < 256; i++) {
        snprintf(id, sizeof(id), "ds%d", i);
        assert_int_equal(sl_dscache_get_at(c, id, 1, &row), SL_OK);
    }
    assert_int_equal(t.fetches, 256);
    /* The 257th replaces the first one stored (ds0), and only it. */
    assert_int_equal(sl_dscache_get_at(c, "ds256", 2, &row), SL_OK);
    assert_int_equal(t.fetches, 257);
    assert_int_equal(sl_dscache_get_at(c, "ds1", 3, &row), SL_OK);
    assert_int_equal(t.fetches, 257);
    assert_int_equal(sl_dscache_get_at(c, "ds0", 4, &row), SL_OK);
    assert_int_equal(t.fetches, 258);
    sl_dscache_destroy(c);
}

/* A fetch that fails half-way (out of memory after one string) leaves no
 * half row behind: the error, and nothing cached. */
static int fetch_partial(void *arg, const char *id, sl_dataset_row *row, int *found)
{
    table *t = arg;

    (void)id;
    t->fetches++;
    *found = 1;
    row->allowed_types = strdup("text");
    return SL_ENOMEM;
}

static void test_partial_row_refused(void **state)
{
    table t = { 0 };
    sl_dscache *c;
    const sl_dataset_row *row;

    (void)state;
    assert_int_equal(sl_dscache_new(&c, 5000, fetch_partial, &t), SL_OK);
    assert_int_equal(sl_dscache_get_at(c, "ds1", 0, &row), SL_ENOMEM);
    assert_null(row);
    assert_int_equal(sl_dscache_get_at(c, "ds1", 1, &row), SL_ENOMEM);
    assert_int_equal(t.fetches, 2);
    sl_dscache_destroy(c);
    sl_dscache_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ttl),
        cmocka_unit_test(test_not_found_cached),
        cmocka_unit_test(test_failure_not_served_stale),
        cmocka_unit_test(test_zero_ttl_always_fetches),
        cmocka_unit_test(test_slots_round_robin),
        cmocka_unit_test(test_partial_row_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
