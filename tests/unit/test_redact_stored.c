/*
 * test_redact_stored.c -- unit tests for services/scan/redact_stored.c: a
 * moderator's redaction of a stored flagged sample with its stored
 * findings (the built-in rules), and every stored list it must refuse
 * rather than guess at.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "redact_stored.h"

static const char IP_TEXT[] = "The server at 192.168.10.20 answered.\n";

static int redact(const char *text, const char *json, char *got, size_t size,
                  const char *frag)
{
    sl_rules *rules = NULL;
    sl_buf out;
    sl_err err = { "" };
    int rc;

    assert_int_equal(sl_rules_load_builtin(&rules, &err), SL_OK);
    sl_buf_init(&out, 1 << 20);
    rc = sl_redact_stored((const uint8_t *)text, strlen(text), json, rules, &out,
                          &err);
    if (rc == SL_OK) {
        assert_true(out.len < size);
        memcpy(got, out.data, out.len);
        got[out.len] = '\0';
    } else if (frag && !strstr(err.msg, frag)) {
        fail_msg("error \"%s\" lacks \"%s\"", err.msg, frag);
    }
    sl_buf_free(&out);
    sl_rules_destroy(rules);
    return rc;
}

static void test_one_finding(void **state)
{
    char got[256];

    (void)state;
    /* as test_scan.sh finds it: ipv4@14+13 */
    assert_int_equal(redact(IP_TEXT, "{\"outcome\":\"flagged\",\"findings\":"
                            "[{\"rule\":\"ipv4\",\"source\":\"content\","
                            "\"offset\":14,\"length\":13}]}", got, sizeof(got),
                            NULL), SL_OK);
    assert_string_equal(got, "The server at [REDACTED:IP_ADDRESS] answered.\n");
}

static void test_two_findings_any_order(void **state)
{
    static const char text[] = "mail jane.doe@example.com at 10.1.2.3 now";
    char got[256];

    (void)state;
    assert_int_equal(redact(text, "[{\"rule\":\"ipv4\",\"offset\":29,\"length\":8},"
                            "{\"rule\":\"email\",\"offset\":5,\"length\":20},"
                            "{\"rule\":\"email\",\"offset\":5,\"length\":20}]",
                            got, sizeof(got), NULL), SL_OK);
    assert_string_equal(got, "mail [REDACTED:EMAIL] at [REDACTED:IP_ADDRESS] now");
    /* only the named ones: the e-mail address stays when only the IP is named */
    assert_int_equal(redact(text, "[{\"rule\":\"ipv4\",\"offset\":29,\"length\":8}]",
                            got, sizeof(got), NULL), SL_OK);
    assert_string_equal(got, "mail jane.doe@example.com at [REDACTED:IP_ADDRESS] now");
}

static void test_refused(void **state)
{
    char got[256];

    (void)state;
    assert_int_equal(redact(IP_TEXT, "{\"findings\":[{\"rule\":\"ipv4\","
                            "\"offset\":15,\"length\":13}]}", got, sizeof(got),
                            "not found in these bytes again"), SL_EINVAL);
    assert_int_equal(redact(IP_TEXT, "{\"findings\":[{\"rule\":\"email\","
                            "\"offset\":14,\"length\":13}]}", got, sizeof(got),
                            "not found in these bytes again"), SL_EINVAL);
    assert_int_equal(redact(IP_TEXT, "{\"findings\":[{\"rule\":\"ipv4\","
                            "\"source\":\"png:tEXt:Comment\",\"offset\":14,"
                            "\"length\":13}]}", got, sizeof(got),
                            "png:tEXt:Comment"), SL_EINVAL);
    assert_int_equal(redact(IP_TEXT, "{\"findings\":[{\"rule\":\"no_such\","
                            "\"offset\":14,\"length\":13}]}", got, sizeof(got),
                            "no_such"), SL_EINVAL);
    assert_int_equal(redact(IP_TEXT, "{\"findings\":[]}", got, sizeof(got),
                            "no list"), SL_EINVAL);
    assert_int_equal(redact(IP_TEXT, "not json", got, sizeof(got), "no list"),
                     SL_EINVAL);
    assert_int_equal(redact(IP_TEXT, "{\"findings\":[{\"rule\":\"ipv4\"}]}", got,
                            sizeof(got), "lacks"), SL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_finding),
        cmocka_unit_test(test_two_findings_any_order),
        cmocka_unit_test(test_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
