/*
 * test_review.c -- unit tests for services/review/decide.c: upload ids,
 * reasons and actions a decision accepts, the queue's keyset cursor, the
 * N-of-M rule match on a stored scan result, and the one-line detail of a
 * moderator's rejection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "decide.h"

static void test_ids_reasons_actions(void **state)
{
    (void)state;
    assert_true(rv_id_ok("u-0123abcd"));
    assert_true(rv_id_ok("qs-20261203:poem_1.2"));
    assert_false(rv_id_ok(""));
    assert_false(rv_id_ok(NULL));
    assert_false(rv_id_ok("-leading"));
    assert_false(rv_id_ok("a/b"));
    assert_false(rv_id_ok("a b"));
    assert_false(rv_id_ok("<script>"));
    {
        char long_id[130];
        memset(long_id, 'a', 129);
        long_id[129] = '\0';
        assert_false(rv_id_ok(long_id));
        long_id[128] = '\0';
        assert_true(rv_id_ok(long_id));
    }
    assert_true(rv_reason_ok("confirmed_pii"));
    assert_true(rv_reason_ok("other"));
    assert_false(rv_reason_ok("Other"));
    assert_false(rv_reason_ok(""));
    assert_false(rv_reason_ok(NULL));
    assert_true(rv_action_ok("approve"));
    assert_true(rv_action_ok("redact"));
    assert_true(rv_action_ok("reject"));
    assert_false(rv_action_ok("reverse"));
    assert_false(rv_action_ok(NULL));
}

static void test_cursor(void **state)
{
    char us[24];
    const char *id = NULL;

    (void)state;
    assert_int_equal(rv_cursor_parse("1796295777558123_u-1_x", us, sizeof us, &id), SL_OK);
    assert_string_equal(us, "1796295777558123");
    assert_string_equal(id, "u-1_x");
    assert_int_equal(rv_cursor_parse("_u-1", us, sizeof us, &id), SL_EINVAL);
    assert_int_equal(rv_cursor_parse("12_", us, sizeof us, &id), SL_EINVAL);
    assert_int_equal(rv_cursor_parse("12", us, sizeof us, &id), SL_EINVAL);
    assert_int_equal(rv_cursor_parse("1x_u-1", us, sizeof us, &id), SL_EINVAL);
    assert_int_equal(rv_cursor_parse("-1_u-1", us, sizeof us, &id), SL_EINVAL);
    assert_int_equal(rv_cursor_parse("1_u 1'--", us, sizeof us, &id), SL_EINVAL);
    assert_int_equal(rv_cursor_parse("123456789012345678901234_u", us, sizeof us, &id), SL_EINVAL);
    assert_int_equal(rv_cursor_parse(NULL, us, sizeof us, &id), SL_EINVAL);
}

static void test_preview_type(void **state)
{
    static const uint8_t png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    static const uint8_t jpg[] = "\xFF\xD8\xFF\xE0\0\x10JFIF";
    static const uint8_t webp[] = "RIFF\x10\0\0\0WEBPVP8 ";
    static const char svg[] = "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>x</script></svg>";

    (void)state;
    assert_string_equal(rv_preview_type(png, sizeof(png) - 1), "image/png");
    assert_string_equal(rv_preview_type(jpg, sizeof(jpg) - 1), "image/jpeg");
    assert_string_equal(rv_preview_type((const uint8_t *)"GIF89a\1\0", 8), "image/gif");
    assert_string_equal(rv_preview_type((const uint8_t *)"GIF87a", 6), "image/gif");
    assert_string_equal(rv_preview_type(webp, sizeof(webp) - 1), "image/webp");
    assert_null(rv_preview_type((const uint8_t *)svg, strlen(svg)));
    assert_null(rv_preview_type(png, 7));                 /* cut short */
    assert_null(rv_preview_type((const uint8_t *)"RIFF\0\0\0\0WAVE", 12));
    assert_null(rv_preview_type((const uint8_t *)"<html>", 6));
    assert_null(rv_preview_type(NULL, 0));
    assert_int_equal(rv_previewable("image/png"), 1);
    assert_int_equal(rv_previewable("image/webp"), 1);
    assert_int_equal(rv_previewable("image/svg+xml"), 0);
    assert_int_equal(rv_previewable("text/html"), 0);
    assert_int_equal(rv_previewable(NULL), 0);
}

static void test_needs_second(void **state)
{
    const char *scan = "{\"v\":1,\"findings\":[{\"rule\":\"email\"},{\"rule\":\"aws_access_key\"}]}";

    (void)state;
    assert_int_equal(rv_needs_second("aws_access_key", scan), 1);
    assert_int_equal(rv_needs_second("ipv4,email", scan), 1);
    assert_int_equal(rv_needs_second("ipv4", scan), 0);
    /* whole names only: a prefix or a longer name is another rule */
    assert_int_equal(rv_needs_second("aws", scan), 0);
    assert_int_equal(rv_needs_second("emails", scan), 0);
    assert_int_equal(rv_needs_second("", scan), 0);
    assert_int_equal(rv_needs_second(NULL, scan), 0);
    assert_int_equal(rv_needs_second("email", "not json"), 0);
    assert_int_equal(rv_needs_second("email", "{\"findings\":{}}"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids_reasons_actions),
        cmocka_unit_test(test_cursor),
        cmocka_unit_test(test_needs_second),
        cmocka_unit_test(test_preview_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
