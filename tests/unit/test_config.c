/*
 * test_config.c -- unit tests for common/src/config.c (layered options) and
 * common/src/timeutil.c (RFC 3339 <-> milliseconds).
 *
 * Config groups: defaults and typed values; unknown keys (refused except
 * the kafka.* / pg.* pass-through); each source on its own (file, env,
 * flags); the layering defaults < file < env < -X; argument errors; help.
 * Time groups: exact values, UTC offsets, fractions, calendar checks,
 * malformed input, formatting and round trips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sl/config.h"
#include "sl/timeutil.h"

/* ---- helpers ---------------------------------------------------------- */

static const sl_cfg_entry map[] = {
    { SL_CFG_STR,  "test.name", "dflt", "a string" },
    { SL_CFG_INT,  "test.count", "10", "an integer" },
    { SL_CFG_SIZE, "test.max.bytes", "16k", "a size" },
    { SL_CFG_BOOL, "test.flag", "false", "a boolean" },
    { SL_CFG_STR,  "test.nodefault", NULL, "no default" },
    { SL_CFG_STR,  "log.level", "info", "log level" },
    SL_CFG_END
};

/* Every environment variable these tests or the loader look at. */
static const char *const env_vars[] = {
    "SLUICE_TEST_NAME", "SLUICE_TEST_COUNT", "SLUICE_TEST_MAX_BYTES",
    "SLUICE_TEST_FLAG", "SLUICE_TEST_NODEFAULT", "SLUICE_LOG_LEVEL",
    "SLUICE_CONFIG", "SLUICE_KAFKA_BROKERS", "SLUICE_PG_DSN",
    "SLUICE_TEST_BOGUS", "SLUICE_EXTRA_MAP_KEY", NULL
};

static void clear_env(void)
{
    for (size_t i = 0; env_vars[i]; i++)
        unsetenv(env_vars[i]);
}

static int setup(void **state)
{
    sl_config *cfg = sl_config_new();

    clear_env();
    if (!cfg || sl_config_declare(cfg, map) != SL_OK)
        return -1;
    *state = cfg;
    return 0;
}

static int teardown(void **state)
{
    sl_config_destroy(*state);
    clear_env();
    return 0;
}

/* Writes text to a new temporary file; path receives its name. */
static void temp_file(char *path, size_t n, const char *text)
{
    const char *base = getenv("TMPDIR");
    FILE *f;
    int fd;

    snprintf(path, n, "%s/sl_config_XXXXXX", base && *base ? base : "/tmp");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void expect_err(int rc, int want, const sl_err *err, const char *frag)
{
    if (rc != want)
        fail_msg("rc %d, want %d (%s)", rc, want, err->msg);
    if (!strstr(err->msg, frag))
        fail_msg("error \"%s\" lacks \"%s\"", err->msg, frag);
}

/* Runs sl_config_from_args on a NULL-terminated argument list. */
static int from_args(sl_config *cfg, const char *const *args, sl_err *err)
{
    char *argv[32];
    int argc = 0;

    argv[argc++] = (char *)"test";
    for (size_t i = 0; args[i]; i++)
        argv[argc++] = (char *)args[i];
    argv[argc] = NULL;
    return sl_config_from_args(cfg, argc, argv, "usage: test [options]", err);
}

/* ==== defaults and typed values ========================================= */

static void test_defaults(void **state)
{
    sl_config *cfg = *state;

    assert_string_equal(sl_config_get(cfg, "test.name"), "dflt");
    assert_string_equal(sl_config_get(cfg, "test.count"), "10");
    assert_int_equal(sl_config_int(cfg, "test.count"), 10);
    assert_int_equal(sl_config_int(cfg, "test.max.bytes"), 16384);
    assert_int_equal(sl_config_bool(cfg, "test.flag"), 0);
    assert_null(sl_config_get(cfg, "test.nodefault"));
    /* a key nobody declared reads as NULL / 0 / false */
    assert_null(sl_config_get(cfg, "test.undeclared"));
    assert_int_equal(sl_config_int(cfg, "test.undeclared"), 0);
    assert_int_equal(sl_config_bool(cfg, "test.undeclared"), 0);
}

/* Values are checked against the declared type whatever the source; a
 * refused value leaves the previous one in place. */
static void test_typed_values(void **state)
{
    sl_config *cfg = *state;
    static const struct {
        const char *val;
        int64_t want;
    } sizes[] = {
        { "0", 0 }, { "512", 512 }, { "1k", 1024 }, { "2kb", 2048 },
        { "2KB", 2048 }, { "1m", 1048576 }, { "3G", INT64_C(3) << 30 },
    };
    static const char *const bad_sizes[] = { "-1", "1x", "k", "", "1kbb",
                                             "1.5m", "9999999999999g" };
    static const char *const truthy[] = { "true", "TRUE", "1", "yes", "on" };
    static const char *const falsy[] = { "false", "0", "no", "Off" };
    sl_err err = { "" };

    assert_int_equal(sl_config_set(cfg, "test.count", "-42", &err), SL_OK);
    assert_int_equal(sl_config_int(cfg, "test.count"), -42);
    expect_err(sl_config_set(cfg, "test.count", "abc", &err), SL_EINVAL, &err,
               "config key \"test.count\": \"abc\" is not an integer");
    expect_err(sl_config_set(cfg, "test.count", "10k", &err), SL_EINVAL, &err,
               "is not an integer");           /* no suffix on an int */
    expect_err(sl_config_set(cfg, "test.count", "", &err), SL_EINVAL, &err,
               "is not an integer");
    assert_int_equal(sl_config_int(cfg, "test.count"), -42);

    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        assert_int_equal(sl_config_set(cfg, "test.max.bytes", sizes[i].val,
                                       &err), SL_OK);
        assert_int_equal(sl_config_int(cfg, "test.max.bytes"), sizes[i].want);
    }
    for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++)
        expect_err(sl_config_set(cfg, "test.max.bytes", bad_sizes[i], &err),
                   SL_EINVAL, &err, "is not a size");
    assert_int_equal(sl_config_int(cfg, "test.max.bytes"), INT64_C(3) << 30);

    for (size_t i = 0; i < sizeof(truthy) / sizeof(truthy[0]); i++) {
        assert_int_equal(sl_config_set(cfg, "test.flag", truthy[i], &err), SL_OK);
        assert_int_equal(sl_config_bool(cfg, "test.flag"), 1);
    }
    for (size_t i = 0; i < sizeof(falsy) / sizeof(falsy[0]); i++) {
        assert_int_equal(sl_config_set(cfg, "test.flag", falsy[i], &err), SL_OK);
        assert_int_equal(sl_config_bool(cfg, "test.flag"), 0);
    }
    expect_err(sl_config_set(cfg, "test.flag", "maybe", &err), SL_EINVAL, &err,
               "config key \"test.flag\": \"maybe\" is not a boolean");

    /* strings take anything, including the empty string */
    assert_int_equal(sl_config_set(cfg, "test.name", "", &err), SL_OK);
    assert_string_equal(sl_config_get(cfg, "test.name"), "");
    assert_int_equal(sl_config_set(cfg, "test.nodefault", "x y", &err), SL_OK);
    assert_string_equal(sl_config_get(cfg, "test.nodefault"), "x y");
}

/* ==== unknown keys ====================================================== */

static int collect(void *u, const char *k, const char *v)
{
    char *out = u;
    size_t n = strlen(out);

    snprintf(out + n, 512 - n, "%s=%s;", k, v);
    return SL_OK;
}

/* Undeclared keys are refused, except under kafka. and pg., which are passed
 * through (and listed by sl_config_each_prefix with the prefix removed). */
static void test_unknown_keys(void **state)
{
    sl_config *cfg = *state;
    char seen[512] = "";
    sl_err err = { "" };

    expect_err(sl_config_set(cfg, "test.bogus", "1", &err), SL_EINVAL, &err,
               "unknown config key \"test.bogus\"");
    expect_err(sl_config_set(cfg, "kafka", "1", &err), SL_EINVAL, &err,
               "unknown config key");
    expect_err(sl_config_set(cfg, "pgx.dsn", "1", &err), SL_EINVAL, &err,
               "unknown config key");
    assert_null(sl_config_get(cfg, "test.bogus"));

    assert_int_equal(sl_config_set(cfg, "kafka.linger.ms", "5", &err), SL_OK);
    assert_int_equal(sl_config_set(cfg, "kafka.acks", "all", &err), SL_OK);
    assert_int_equal(sl_config_set(cfg, "pg.dsn", "host=db port=5432", &err), SL_OK);
    assert_int_equal(sl_config_set(cfg, "kafka.acks", "1", &err), SL_OK);
    assert_string_equal(sl_config_get(cfg, "pg.dsn"), "host=db port=5432");
    assert_int_equal(sl_config_int(cfg, "kafka.linger.ms"), 5);

    assert_int_equal(sl_config_each_prefix(cfg, "kafka.", collect, seen), SL_OK);
    assert_string_equal(seen, "linger.ms=5;acks=1;");
    seen[0] = '\0';
    assert_int_equal(sl_config_each_prefix(cfg, "test.", collect, seen), SL_OK);
    /* unset keys (no default) are skipped */
    assert_string_equal(seen, "name=dflt;count=10;max.bytes=16k;flag=false;");
}

/* A second map adds its keys; declaring does not reset a value already set. */
static void test_declare_twice(void **state)
{
    sl_config *cfg = *state;
    static const sl_cfg_entry extra[] = {
        { SL_CFG_INT, "extra.map.key", "7", "from a second map" },
        { SL_CFG_STR, "test.name", "other-default", "redeclared" },
        SL_CFG_END
    };
    sl_err err = { "" };

    assert_int_equal(sl_config_set(cfg, "test.name", "mine", &err), SL_OK);
    assert_int_equal(sl_config_declare(cfg, extra), SL_OK);
    assert_int_equal(sl_config_int(cfg, "extra.map.key"), 7);
    assert_string_equal(sl_config_get(cfg, "test.name"), "mine");
    expect_err(sl_config_set(cfg, "extra.map.key", "x", &err), SL_EINVAL, &err,
               "is not an integer");
    /* its environment variable is read too */
    setenv("SLUICE_EXTRA_MAP_KEY", "8", 1);
    assert_int_equal(sl_config_load_env(cfg, &err), SL_OK);
    assert_int_equal(sl_config_int(cfg, "extra.map.key"), 8);
}

/* ==== each source ======================================================= */

/* key = value lines, comments, blank lines, spaces, '=' inside a value. */
static void test_file(void **state)
{
    sl_config *cfg = *state;
    char path[256];
    sl_err err = { "" };

    temp_file(path, sizeof(path),
              "# a comment\n"
              "\n"
              "   test.name   =   spaced value   \n"
              "test.count=3\n"
              "\t# indented comment\n"
              "test.max.bytes = 4k\n"
              "pg.dsn = host=db user=sluice\n"
              "kafka.client.id = c1");          /* no final newline */
    assert_int_equal(sl_config_load_file(cfg, path, &err), SL_OK);
    assert_string_equal(sl_config_get(cfg, "test.name"), "spaced value");
    assert_int_equal(sl_config_int(cfg, "test.count"), 3);
    assert_int_equal(sl_config_int(cfg, "test.max.bytes"), 4096);
    assert_string_equal(sl_config_get(cfg, "pg.dsn"), "host=db user=sluice");
    assert_string_equal(sl_config_get(cfg, "kafka.client.id"), "c1");
    assert_string_equal(sl_config_get(cfg, "test.flag"), "false");
    unlink(path);
}

/* File errors name the file and line. */
static void test_file_errors(void **state)
{
    sl_config *cfg = *state;
    char path[256], want[300];
    sl_err err = { "" };

    temp_file(path, sizeof(path), "test.count = 1\n# ok\ntest.bogus = 2\n");
    snprintf(want, sizeof(want), "%s:3: unknown config key \"test.bogus\"", path);
    expect_err(sl_config_load_file(cfg, path, &err), SL_EINVAL, &err, want);
    unlink(path);

    temp_file(path, sizeof(path), "test.count = 1\njust words\n");
    snprintf(want, sizeof(want), "%s:2: expected key = value", path);
    expect_err(sl_config_load_file(cfg, path, &err), SL_EINVAL, &err, want);
    unlink(path);

    temp_file(path, sizeof(path), "test.flag = perhaps\n");
    snprintf(want, sizeof(want), "%s:1: config key \"test.flag\"", path);
    expect_err(sl_config_load_file(cfg, path, &err), SL_EINVAL, &err, want);
    unlink(path);

    expect_err(sl_config_load_file(cfg, "/nonexistent/sluice.conf", &err),
               SL_EIO, &err, "cannot open config file /nonexistent/sluice.conf");
}

/* SLUICE_<KEY>: dots become underscores, letters upper case; empty values
 * are ignored; the two aliases; undeclared SLUICE_* variables are not read. */
static void test_env(void **state)
{
    sl_config *cfg = *state;
    sl_err err = { "" };

    setenv("SLUICE_TEST_COUNT", "42", 1);
    setenv("SLUICE_TEST_MAX_BYTES", "2m", 1);
    setenv("SLUICE_TEST_NAME", "", 1);             /* empty: ignored */
    setenv("SLUICE_KAFKA_BROKERS", "broker:9092", 1);
    setenv("SLUICE_PG_DSN", "dbname=sluice", 1);
    setenv("SLUICE_TEST_BOGUS", "1", 1);           /* not declared: ignored */
    assert_int_equal(sl_config_load_env(cfg, &err), SL_OK);
    assert_int_equal(sl_config_int(cfg, "test.count"), 42);
    assert_int_equal(sl_config_int(cfg, "test.max.bytes"), 2 * 1048576);
    assert_string_equal(sl_config_get(cfg, "test.name"), "dflt");
    assert_string_equal(sl_config_get(cfg, "kafka.bootstrap.servers"), "broker:9092");
    assert_string_equal(sl_config_get(cfg, "pg.dsn"), "dbname=sluice");
    assert_null(sl_config_get(cfg, "test.bogus"));

    setenv("SLUICE_TEST_FLAG", "sometimes", 1);
    expect_err(sl_config_load_env(cfg, &err), SL_EINVAL, &err,
               "environment SLUICE_TEST_FLAG: config key \"test.flag\"");
}

/* ==== layering ========================================================== */

/* defaults < file < environment < -X, whatever the order of the flags. */
static void test_layering(void **state)
{
    sl_config *cfg = *state;
    char path[256];
    sl_err err = { "" };

    temp_file(path, sizeof(path),
              "test.name = from-file\n"
              "test.count = 1\n"
              "test.max.bytes = 1k\n"
              "test.flag = yes\n");
    setenv("SLUICE_TEST_COUNT", "2", 1);
    setenv("SLUICE_TEST_MAX_BYTES", "2k", 1);
    {
        const char *const args[] = { "-X", "test.max.bytes=3k", "-c", path,
                                     "-X", "kafka.acks=all", NULL };
        assert_int_equal(from_args(cfg, args, &err), SL_OK);
    }
    assert_string_equal(sl_config_get(cfg, "test.name"), "from-file"); /* file */
    assert_int_equal(sl_config_int(cfg, "test.count"), 2);           /* env */
    assert_int_equal(sl_config_int(cfg, "test.max.bytes"), 3072);    /* -X */
    assert_int_equal(sl_config_bool(cfg, "test.flag"), 1);           /* file */
    assert_string_equal(sl_config_get(cfg, "log.level"), "info");    /* default */
    assert_string_equal(sl_config_get(cfg, "kafka.acks"), "all");
    unlink(path);
}

/* The file comes from -c, else $SLUICE_CONFIG; -c wins over the variable. */
static void test_config_file_choice(void **state)
{
    sl_config *cfg = *state;
    char a[256], b[256];
    sl_err err = { "" };

    temp_file(a, sizeof(a), "test.name = a\n");
    temp_file(b, sizeof(b), "test.name = b\n");
    setenv("SLUICE_CONFIG", a, 1);
    {
        const char *const none[] = { NULL };
        assert_int_equal(from_args(cfg, none, &err), SL_OK);
        assert_string_equal(sl_config_get(cfg, "test.name"), "a");
    }
    {
        const char *const args[] = { "-c", b, NULL };
        assert_int_equal(from_args(cfg, args, &err), SL_OK);
        assert_string_equal(sl_config_get(cfg, "test.name"), "b");
    }
    /* a missing $SLUICE_CONFIG file is an error, not silently skipped */
    setenv("SLUICE_CONFIG", "/nonexistent/sluice.conf", 1);
    {
        const char *const none[] = { NULL };
        expect_err(from_args(cfg, none, &err), SL_EIO, &err,
                   "cannot open config file");
    }
    unlink(a);
    unlink(b);
}

/* -v turns on debug logging; -h prints help and returns 1. */
static void test_args_flags(void **state)
{
    sl_config *cfg = *state;
    sl_err err = { "" };
    const char *const verbose[] = { "-v", NULL };
    const char *const help[] = { "-X", "test.count=5", "-h", NULL };

    assert_int_equal(from_args(cfg, verbose, &err), SL_OK);
    assert_string_equal(sl_config_get(cfg, "log.level"), "debug");
    assert_int_equal(from_args(cfg, help, &err), 1);
    /* help stops before anything is applied */
    assert_int_equal(sl_config_int(cfg, "test.count"), 10);
}

static void test_args_errors(void **state)
{
    sl_config *cfg = *state;
    sl_err err = { "" };
    static const struct {
        const char *args[4];
        const char *frag;
    } cases[] = {
        { { "-c", NULL }, "-c needs a file" },
        { { "-X", NULL }, "-X needs key=value" },
        { { "-X", "test.count", NULL }, "-X test.count: expected key=value" },
        { { "-X", "test.bogus=1", NULL }, "unknown config key \"test.bogus\"" },
        { { "-X", "test.count=ten", NULL }, "is not an integer" },
        { { "--weird", NULL }, "unknown argument \"--weird\"" },
        { { "test.count=1", NULL }, "unknown argument" },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&err, 0, sizeof(err));
        expect_err(from_args(cfg, cases[i].args, &err), SL_EINVAL, &err,
                   cases[i].frag);
    }
    /* nothing was half-applied by the failed -X */
    assert_int_equal(sl_config_int(cfg, "test.count"), 10);

    /* a value may itself contain '=' */
    {
        const char *const args[] = { "-X", "pg.dsn=host=a port=1", NULL };
        assert_int_equal(from_args(cfg, args, &err), SL_OK);
        assert_string_equal(sl_config_get(cfg, "pg.dsn"), "host=a port=1");
    }
}

/* Help lists each option with type, default and environment name. */
static void test_help(void **state)
{
    sl_config *cfg = *state;
    char text[8192];
    size_t n;
    FILE *f = tmpfile();

    assert_non_null(f);
    sl_config_print_help(cfg, f);
    rewind(f);
    n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    fclose(f);
    assert_non_null(strstr(text, "test.max.bytes"));
    assert_non_null(strstr(text, "default: 16k, env: SLUICE_TEST_MAX_BYTES"));
    assert_non_null(strstr(text, "default: (none), env: SLUICE_TEST_NODEFAULT"));
    assert_non_null(strstr(text, "size"));
}

/* ==== RFC 3339 ========================================================== */

#define T_MS INT64_C(1795840629123)   /* 2026-11-28T04:37:09.123Z */

static int64_t parse_ok(const char *s)
{
    int64_t ms = -12345;

    if (sl_time_parse(s, strlen(s), &ms) != SL_OK)
        fail_msg("\"%s\" did not parse", s);
    return ms;
}

static void test_time_exact(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(parse_ok("2026-11-28T04:37:09.123Z"), T_MS);
    assert_int_equal(parse_ok("2026-11-28t04:37:09.123z"), T_MS);
    assert_int_equal(parse_ok("2000-01-01T00:00:00Z"), INT64_C(946684800000));
    assert_int_equal(parse_ok("2038-01-19T03:14:08Z"), INT64_C(2147483648000));
    assert_int_equal(parse_ok("1969-12-31T23:59:59.500Z"), -500);
    assert_int_equal(parse_ok("1900-01-01T00:00:00Z"), INT64_C(-2208988800000));
    /* a leap second is clamped to :59 */
    assert_int_equal(parse_ok("2016-12-31T23:59:60Z"), INT64_C(1483228799000));
}

/* The same instant written at several UTC offsets. */
static void test_time_offsets(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("2026-11-28T10:07:09.123+05:30"), T_MS);
    assert_int_equal(parse_ok("2026-11-27T23:37:09.123-05:00"), T_MS);
    assert_int_equal(parse_ok("2026-11-28T04:37:09.123+00:00"), T_MS);
    assert_int_equal(parse_ok("2026-11-28T04:37:09.123-00:00"), T_MS);
    assert_int_equal(parse_ok("2026-11-28T20:36:09.123+15:59"), T_MS);
    assert_int_equal(parse_ok("2026-11-27T12:38:09.123-15:59"), T_MS);
    /* across a year boundary */
    assert_int_equal(parse_ok("1970-01-01T01:00:00+01:00"), 0);
    assert_int_equal(parse_ok("1969-12-31T19:00:00-05:00"), 0);
}

/* Fractions of any length; milliseconds beyond the third digit are cut. */
static void test_time_fractions(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("1970-01-01T00:00:00.1Z"), 100);
    assert_int_equal(parse_ok("1970-01-01T00:00:00.12Z"), 120);
    assert_int_equal(parse_ok("1970-01-01T00:00:00.123Z"), 123);
    assert_int_equal(parse_ok("1970-01-01T00:00:00.1239Z"), 123);
    assert_int_equal(parse_ok("1970-01-01T00:00:00.999999999Z"), 999);
    assert_int_equal(parse_ok("1970-01-01T00:00:00.000000000001Z"), 0);
    assert_int_equal(parse_ok("1970-01-01T00:00:00.5+01:00"), -3600000 + 500);
}

/* Calendar: leap years (including the century rules), month lengths. */
static void test_time_calendar(void **state)
{
    int64_t ms;

    (void)state;
    assert_int_equal(parse_ok("2024-02-29T00:00:00Z") -
                     parse_ok("2024-02-28T00:00:00Z"), 86400000);
    assert_int_equal(parse_ok("2024-03-01T00:00:00Z") -
                     parse_ok("2024-02-29T00:00:00Z"), 86400000);
    parse_ok("2000-02-29T00:00:00Z");
    parse_ok("2026-01-31T00:00:00Z");
    parse_ok("2026-04-30T23:59:59Z");
    assert_int_equal(sl_time_parse("2023-02-29T00:00:00Z", 20, &ms), SL_EINVAL);
    assert_int_equal(sl_time_parse("1900-02-29T00:00:00Z", 20, &ms), SL_EINVAL);
    assert_int_equal(sl_time_parse("2026-04-31T00:00:00Z", 20, &ms), SL_EINVAL);
    assert_int_equal(sl_time_parse("2026-06-31T00:00:00Z", 20, &ms), SL_EINVAL);
}

static void test_time_invalid(void **state)
{
    static const char *const bad[] = {
        "",
        "2026",
        "2026-11-28",
        "2026-11-28T04:37:09",             /* no zone */
        "2026-11-28T04:37Z",               /* no seconds */
        "2026-11-28 04:37:09Z",            /* space instead of T */
        "2026/11/28T04:37:09Z",
        "2026-1-28T04:37:09Z",
        "26-11-28T04:37:09Z",
        " 2026-11-28T04:37:09Z",
        "2026-11-28T04:37:09Z ",
        "2026-11-28T04:37:09ZZ",
        "2026-11-28T04:37:09.Z",           /* empty fraction */
        "2026-11-28T04:37:09,5Z",
        "2026-13-01T00:00:00Z",
        "2026-00-10T00:00:00Z",
        "2026-11-00T00:00:00Z",
        "2026-11-32T00:00:00Z",
        "2026-11-28T24:00:00Z",
        "2026-11-28T23:60:00Z",
        "2026-11-28T23:59:61Z",
        "2026-11-28T04:37:09+05",
        "2026-11-28T04:37:09+05:3",
        "2026-11-28T04:37:09+0530",
        "2026-11-28T04:37:09+05:30Z",
        "2026-11-28T04:37:09+24:00",
        "2026-11-28T04:37:09+23:59",       /* RFC 3339, not PostgreSQL */
        "2026-11-28T04:37:09-16:00",
        "0000-01-01T00:00:00Z",            /* no year 0 in PostgreSQL */
        "0001-01-01T00:00:00+00:01",       /* UTC instant in year 0 */
        "9999-12-31T23:59:59-00:01",       /* UTC instant in year 10000 */
        "2026-11-28T04:37:09+05:60",
        "2026-11-28T04:37:09+5:30",
        "2026-11-28T04:37:09 +05:30",
        "2026-11-28T04:37:09UTC",
        "2026-11-28T04:37:09-",
        "+2026-11-28T04:37:09Z",
        "2026-11-28T04:3a:09Z",
        "2026-11-28T-4:37:09Z",
    };
    int64_t ms = 777;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (sl_time_parse(bad[i], strlen(bad[i]), &ms) != SL_EINVAL)
            fail_msg("\"%s\" parsed as %lld", bad[i], (long long)ms);
    }
    assert_int_equal(ms, 777);   /* untouched on failure */
}

/* Only len bytes are read: a valid prefix parses, a cut-off zone does not. */
static void test_time_length(void **state)
{
    const char *s = "2026-11-28T04:37:09.123Zjunk";
    int64_t ms = 0;

    (void)state;
    assert_int_equal(sl_time_parse(s, 24, &ms), SL_OK);
    assert_int_equal(ms, T_MS);
    assert_int_equal(sl_time_parse(s, 23, &ms), SL_EINVAL);
    assert_int_equal(sl_time_parse(s, 25, &ms), SL_EINVAL);
    assert_int_equal(sl_time_parse(s, 19, &ms), SL_EINVAL);
}

/* Microseconds: parsed exactly at the bounds PostgreSQL keeps, formatted
 * in UTC with six digits; out of range is refused both ways. */
static void test_time_us(void **state)
{
    char out[SL_TIME_LEN];
    int64_t us = 0;

    (void)state;
    assert_int_equal(sl_time_parse_us("2026-11-28T04:37:09.123456789Z", 30, &us), SL_OK);
    assert_int_equal(us, T_MS * 1000 + 456);
    assert_int_equal(sl_time_format_us(us, out), SL_OK);
    assert_string_equal(out, "2026-11-28T04:37:09.123456Z");
    assert_int_equal(sl_time_parse_us("2026-11-29T03:37:09.5+23:00", 27, &us), SL_EINVAL);
    assert_int_equal(sl_time_parse_us("2026-11-28T19:37:09.5+15:00", 27, &us), SL_OK);
    assert_int_equal(sl_time_format_us(us, out), SL_OK);
    assert_string_equal(out, "2026-11-28T04:37:09.500000Z");
    assert_int_equal(sl_time_parse_us("0001-01-01T00:00:00Z", 20, &us), SL_OK);
    assert_int_equal(us, SL_TIME_MIN_US);
    assert_int_equal(sl_time_format_us(us, out), SL_OK);
    assert_string_equal(out, "0001-01-01T00:00:00.000000Z");
    assert_int_equal(sl_time_parse_us("9999-12-31T23:59:59.9999999Z", 28, &us), SL_OK);
    assert_int_equal(us, SL_TIME_MAX_US);
    assert_int_equal(sl_time_format_us(us, out), SL_OK);
    assert_string_equal(out, "9999-12-31T23:59:59.999999Z");
    assert_int_equal(sl_time_format_us(-1, out), SL_OK);
    assert_string_equal(out, "1969-12-31T23:59:59.999999Z");
    assert_int_equal(sl_time_format_us(SL_TIME_MAX_US + 1, out), SL_EINVAL);
    assert_string_equal(out, "1970-01-01T00:00:00.000000Z");
    assert_int_equal(sl_time_format_us(SL_TIME_MIN_US - 1, out), SL_EINVAL);
    assert_int_equal(sl_time_format_us(INT64_MIN, out), SL_EINVAL);
}

/* Formatting is UTC with milliseconds, and round-trips through parsing. */
static void test_time_format(void **state)
{
    static const int64_t vals[] = {
        0, 1, 999, 1000, -1, -500, -1000, T_MS, INT64_C(951782400000),
        INT64_C(4102444799999), INT64_C(-2208988800000),
    };
    char out[SL_TIME_LEN];

    (void)state;
    sl_time_format(0, out);
    assert_string_equal(out, "1970-01-01T00:00:00.000Z");
    sl_time_format(T_MS, out);
    assert_string_equal(out, "2026-11-28T04:37:09.123Z");
    sl_time_format(-500, out);
    assert_string_equal(out, "1969-12-31T23:59:59.500Z");
    sl_time_format(-1, out);
    assert_string_equal(out, "1969-12-31T23:59:59.999Z");
    sl_time_format(INT64_C(951782400000), out);
    assert_string_equal(out, "2000-02-29T00:00:00.000Z");
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        sl_time_format(vals[i], out);
        assert_int_equal(parse_ok(out), vals[i]);
    }
}

#define C(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        C(test_defaults),
        C(test_typed_values),
        C(test_unknown_keys),
        C(test_declare_twice),
        C(test_file),
        C(test_file_errors),
        C(test_env),
        C(test_layering),
        C(test_config_file_choice),
        C(test_args_flags),
        C(test_args_errors),
        C(test_help),
        cmocka_unit_test(test_time_exact),
        cmocka_unit_test(test_time_offsets),
        cmocka_unit_test(test_time_fractions),
        cmocka_unit_test(test_time_calendar),
        cmocka_unit_test(test_time_invalid),
        cmocka_unit_test(test_time_length),
        cmocka_unit_test(test_time_format),
        cmocka_unit_test(test_time_us),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
