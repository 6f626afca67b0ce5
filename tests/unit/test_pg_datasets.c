/*
 * test_pg_datasets.c -- sl_pg_datasets_open (common/src/pgconn.c), the
 * connection and dataset cache that scan and license open at their start,
 * on the paths that need no server: a conninfo libpq cannot parse is a
 * configuration error (SL_EINVAL), a database that does not answer is
 * SL_EIO (the runner retries the start), and either way nothing is handed
 * out and nothing is left open (AddressSanitizer's leak check, in CI).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "sl/common.h"
#include "sl/config.h"
#include "sl/pg.h"

static sl_config *cfg_with(const char *dsn)
{
    sl_config *cfg = sl_config_new();
    sl_err err = { "" };

    assert_non_null(cfg);
    assert_int_equal(sl_config_set(cfg, "pg.dsn", dsn, &err), SL_OK);
    return cfg;
}

/* A loopback port nothing listens on: bound, read, closed. */
static int closed_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    assert_true(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static void test_bad_conninfo(void **state)
{
    const sl_pgconn_opts opts = { .who = "scan" };
    sl_config *cfg = cfg_with("this is not a conninfo");
    sl_pg_datasets sentinel, *d = &sentinel;   /* must be reset to NULL */
    sl_err err = { "" };

    (void)state;
    assert_int_equal(sl_pg_datasets_open(&d, cfg, &opts, 1000, &err), SL_EINVAL);
    assert_null(d);
    assert_non_null(strstr(err.msg, "pg.dsn"));
    sl_config_destroy(cfg);
}

static void test_no_answer(void **state)
{
    const sl_pgconn_opts opts = { .who = "license" };
    char dsn[128];
    sl_config *cfg;
    sl_pg_datasets sentinel, *d = &sentinel;
    sl_err err = { "" };

    (void)state;
    snprintf(dsn, sizeof(dsn),
             "host=127.0.0.1 port=%d dbname=none user=none connect_timeout=5",
             closed_port());
    cfg = cfg_with(dsn);
    assert_int_equal(sl_pg_datasets_open(&d, cfg, &opts, 1000, &err), SL_EIO);
    assert_null(d);
    assert_true(err.msg[0] != '\0');
    sl_config_destroy(cfg);
}

static void test_destroy_null(void **state)
{
    (void)state;
    sl_pg_datasets_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_conninfo),
        cmocka_unit_test(test_no_answer),
        cmocka_unit_test(test_destroy_null),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
