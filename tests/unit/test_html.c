/*
 * test_html.c -- unit tests for common/src/html.c: text and attribute
 * escaping of hostile bytes (markup, quotes, NUL and controls, every kind
 * of invalid UTF-8), URL components, the UTF-8 boundary helper and the
 * sticky-error builder.  Expected output is stated literally.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sl/common.h"
#include "sl/html.h"

#define FFFD "\xEF\xBF\xBD"

/* Escapes n bytes of in as text (attr = 0) or attribute and compares. */
static void check(const char *in, size_t n, int attr, const char *want)
{
    sl_buf b;

    sl_buf_init(&b, 4096);
    assert_int_equal(attr ? sl_html_escape_attr(&b, in, n) : sl_html_escape_text(&b, in, n),
                     SL_OK);
    assert_int_equal(sl_buf_cstr(&b), SL_OK);
    assert_string_equal((const char *)b.data, want);
    assert_int_equal(b.len, strlen(want));
    sl_buf_free(&b);
}
#define TEXT(lit, want) check(lit, sizeof(lit) - 1, 0, want)
#define ATTR(lit, want) check(lit, sizeof(lit) - 1, 1, want)

static void test_markup(void **state)
{
    (void)state;
    TEXT("", "");
    TEXT("plain text, 42.", "plain text, 42.");
    TEXT("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;");
    TEXT("<img src=x onerror=\"alert('x')\">",
         "&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;");
    TEXT("a & b &amp; c", "a &amp; b &amp;amp; c");
    TEXT("line1\nline2\ttab\r", "line1\nline2\ttab\r");
    ATTR("\" onmouseover=\"x", "&quot; onmouseover=&quot;x");
    ATTR("' autofocus x='", "&#39; autofocus x=&#39;");
    ATTR("a\tb\nc\rd", "a&#9;b&#10;c&#13;d");
}

static void test_controls(void **state)
{
    (void)state;
    TEXT("a\0b", "a" FFFD "b");
    TEXT("\x01\x08\x0b\x0c\x1b\x1f", FFFD FFFD FFFD FFFD FFFD FFFD);
    TEXT("del\x7f", "del" FFFD);
    TEXT("c1 \xC2\x80 \xC2\x9F ok \xC2\xA0", "c1 " FFFD " " FFFD " ok \xC2\xA0");
    ATTR("x\0y", "x" FFFD "y");
}

static void test_utf8(void **state)
{
    (void)state;
    /* valid: 2, 3 and 4 byte sequences kept */
    TEXT("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
    /* stray continuation bytes: one U+FFFD each */
    TEXT("\x80\xBF", FFFD FFFD);
    /* never-valid bytes */
    TEXT("\xC0\xC1\xF5\xFF", FFFD FFFD FFFD FFFD);
    /* overlong "/" (C0 AF) and overlong 3-byte (E0 80 AF) */
    TEXT("\xC0\xAF", FFFD FFFD);
    TEXT("\xE0\x80\xAF", FFFD FFFD FFFD);
    /* surrogate U+D800 (ED A0 80) */
    TEXT("\xED\xA0\x80", FFFD FFFD FFFD);
    /* above U+10FFFF (F4 90 80 80) */
    TEXT("\xF4\x90\x80\x80", FFFD FFFD FFFD FFFD);
    /* truncated sequences: the maximal subpart is one U+FFFD */
    TEXT("\xE2\x82", FFFD);
    TEXT("\xF0\x9F\x98", FFFD);
    TEXT("\xE2\x82<", FFFD "&lt;");
    /* a lead byte followed by markup: the markup still escaped */
    TEXT("\xC3<b>", FFFD "&lt;b&gt;");
}

static void test_url(void **state)
{
    sl_buf b;

    (void)state;
    sl_buf_init(&b, 256);
    assert_int_equal(sl_html_url_encode(&b, "up-1_a.b~", 9), SL_OK);
    assert_int_equal(sl_html_url_encode(&b, "/ ?&=#\"<\xFF", 9), SL_OK);
    assert_int_equal(sl_buf_cstr(&b), SL_OK);
    assert_string_equal((char *)b.data, "up-1_a.b~%2F%20%3F%26%3D%23%22%3C%FF");
    sl_buf_free(&b);
}

static void test_utf8_floor(void **state)
{
    const char *s = "a\xE2\x82\xAC" "b";   /* a € b: € at 1..3 */

    (void)state;
    assert_int_equal(sl_utf8_floor(s, 5, 0), 0);
    assert_int_equal(sl_utf8_floor(s, 5, 1), 1);
    assert_int_equal(sl_utf8_floor(s, 5, 2), 1);
    assert_int_equal(sl_utf8_floor(s, 5, 3), 1);
    assert_int_equal(sl_utf8_floor(s, 5, 4), 4);
    assert_int_equal(sl_utf8_floor(s, 5, 9), 5);
    /* stray continuation bytes are not a sequence: no move */
    assert_int_equal(sl_utf8_floor("\x80\x80\x80\x80", 4, 3), 3);
    /* a cut-short sequence: nothing to keep whole, no move */
    assert_int_equal(sl_utf8_floor("\xE2\x82", 2, 1), 1);
}

static void test_builder(void **state)
{
    sl_buf b;
    sl_html h;

    (void)state;
    sl_buf_init(&b, 4096);
    sl_html_begin(&h, &b);
    sl_html_open(&h, "a", "href", "/items/x?\"y\"", "class", "k", "title", NULL,
                 "data-n", "", NULL);
    sl_html_text(&h, "<b>");
    sl_html_close(&h, "a");
    sl_html_elem(&h, "td", "class", "age", NULL, "1 < 2");
    sl_html_open(&h, "input", "type", "checkbox", "checked", "checked", NULL);
    sl_html_textf(&h, "%d<%s", 3, "x");
    sl_html_raw(&h, "<br>");
    sl_html_text(&h, NULL);
    assert_int_equal(sl_html_end(&h), SL_OK);
    assert_int_equal(sl_buf_cstr(&b), SL_OK);
    assert_string_equal((char *)b.data,
        "<a href=\"/items/x?&quot;y&quot;\" class=\"k\" data-n=\"\">&lt;b&gt;</a>"
        "<td class=\"age\">1 &lt; 2</td>"
        "<input type=\"checkbox\" checked=\"checked\">3&lt;x<br>");
    sl_buf_free(&b);
}

/* A name that is not a literal of [a-z0-9-] is refused, and the error
 * sticks; a full buffer reports SL_ETOOBIG. */
static void test_builder_errors(void **state)
{
    sl_buf b;
    sl_html h;
    char big[600];

    (void)state;
    sl_buf_init(&b, 4096);
    sl_html_begin(&h, &b);
    sl_html_open(&h, "div", "onclick=x", "y", NULL);
    assert_int_equal(sl_html_end(&h), SL_EINVAL);
    sl_html_text(&h, "after");
    assert_int_equal(sl_html_end(&h), SL_EINVAL);
    sl_buf_reset(&b);
    sl_html_begin(&h, &b);
    sl_html_open(&h, "sc ript", NULL);
    assert_int_equal(sl_html_end(&h), SL_EINVAL);
    assert_int_equal(b.len, 0);
    sl_buf_free(&b);

    memset(big, '<', sizeof(big));
    sl_buf_init(&b, 1000);
    sl_html_begin(&h, &b);
    sl_html_textn(&h, big, sizeof(big));   /* 600 * 4 bytes > 1000 */
    assert_int_equal(sl_html_end(&h), SL_ETOOBIG);
    sl_buf_free(&b);

    /* a long formatted text goes through the heap path */
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    big[10] = '&';
    sl_buf_init(&b, 4096);
    sl_html_begin(&h, &b);
    sl_html_textf(&h, "%s", big);
    assert_int_equal(sl_html_end(&h), SL_OK);
    assert_int_equal(b.len, sizeof(big) - 1 + 4);
    assert_memory_equal(b.data + 10, "&amp;a", 6);
    sl_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_markup),
        cmocka_unit_test(test_controls),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_url),
        cmocka_unit_test(test_utf8_floor),
        cmocka_unit_test(test_builder),
        cmocka_unit_test(test_builder_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
