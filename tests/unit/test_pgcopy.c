/*
 * test_pgcopy.c -- unit tests for the COPY text encoding of common/src/pg.c
 * (sl_pg_copy_text and friends): what commit streams to PostgreSQL for every
 * row.  No server: the fields are encoded into the copy's buffer, which is
 * compared with literal expectations and, for random inputs, with a plain
 * byte-by-byte reference encoder kept here (validate the whole string,
 * sanitise if needed, then escape), so the one-pass encoder cannot drift
 * from the format PostgreSQL reads.  And the binary format's framing
 * (sl_pg_copy_begin_binary): field counts, lengths, NULL, bigint,
 * integer, bytea, text[] arrays (their header, elements and length, and
 * a wrong element count refused), and text fields and elements sanitised
 * as the text format's are.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sl/common.h"
#include "sl/pg.h"

static void copy_init(sl_pg_copy *cp)
{
    memset(cp, 0, sizeof(*cp));
    sl_buf_init(&cp->buf, (size_t)1 << 24);
    cp->first_field = 1;
}

static void expect_field(const char *in, size_t n, const char *want)
{
    sl_pg_copy cp;

    copy_init(&cp);
    sl_pg_copy_text(&cp, in, n);
    assert_int_equal(cp.failed, 0);
    assert_int_equal(cp.buf.len, strlen(want));
    assert_memory_equal(cp.buf.data, want, cp.buf.len);
    sl_buf_free(&cp.buf);
}

static void test_literals(void **state)
{
    (void)state;
    expect_field("", 0, "");
    expect_field("plain text", 10, "plain text");
    expect_field("a\tb\nc\rd\\e", 9, "a\\tb\\nc\\rd\\\\e");
    expect_field("\\\\", 2, "\\\\\\\\");
    expect_field("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
                 "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    /* As sl_utf8_sanitize does: NUL dropped, invalid UTF-8 -> U+FFFD. */
    expect_field("a\0b", 3, "ab");
    expect_field("x\xff", 2, "x\xef\xbf\xbd");
    expect_field("\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd");       /* overlong */
    expect_field("\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* surrogate */
    expect_field("\xe2\x82", 2, "\xef\xbf\xbd\xef\xbf\xbd");       /* cut short */
}

static void test_fields_and_null(void **state)
{
    sl_pg_copy cp;

    (void)state;
    copy_init(&cp);
    sl_pg_copy_str(&cp, "a\tb");
    sl_pg_copy_text(&cp, NULL, 0);
    sl_pg_copy_int(&cp, -42);
    sl_pg_copy_bytea(&cp, (const uint8_t *)"\x00\xff", 2);
    assert_int_equal(cp.failed, 0);
    assert_string_equal((const char *)cp.buf.data, "a\\tb\t\\N\t-42\t\\\\x00ff");
    sl_buf_free(&cp.buf);
}

/* The reference: the straightforward encoder the one-pass one replaced. */
static int ref_plain(const uint8_t *p, size_t n)
{
    sl_buf b = { 0 };
    int plain;

    sl_buf_init(&b, n * 3 + 16);
    assert_int_equal(sl_utf8_sanitize(&b, (const char *)p, n), SL_OK);
    plain = b.len == n && (n == 0 || (memcmp(b.data, p, n) == 0 && !memchr(p, 0, n)));
    sl_buf_free(&b);
    return plain;
}

static void ref_encode(sl_buf *out, const uint8_t *p, size_t n)
{
    sl_buf clean = { 0 };

    if (!ref_plain(p, n)) {
        sl_buf_init(&clean, n * 3 + 16);
        assert_int_equal(sl_utf8_sanitize(&clean, (const char *)p, n), SL_OK);
        p = clean.data;
        n = clean.len;
    }
    for (size_t i = 0; i < n; i++) {
        switch (p[i]) {
        case '\\': assert_int_equal(sl_buf_append(out, "\\\\", 2), SL_OK); break;
        case '\t': assert_int_equal(sl_buf_append(out, "\\t", 2), SL_OK); break;
        case '\n': assert_int_equal(sl_buf_append(out, "\\n", 2), SL_OK); break;
        case '\r': assert_int_equal(sl_buf_append(out, "\\r", 2), SL_OK); break;
        default:   assert_int_equal(sl_buf_putc(out, (char)p[i]), SL_OK);
        }
    }
    sl_buf_free(&clean);
}

/* Random strings biased towards what is hard: escapes, multi-byte
 * sequences, their broken forms, NUL. */
static void test_random_against_reference(void **state)
{
    static const char *const pieces[] = {
        "a", "text ", "\\", "\t", "\n", "\r", "\xc3\xa9", "\xe2\x82\xac",
        "\xf0\x9f\x98\x80", "\xc3", "\x80", "\xff", "\xed\xa0\x80", "\xf4\x90\x80\x80",
        "\xe0\x80\x80", "", "{\"k\":\"v\"}",
    };
    uint32_t seed = 12345;

    (void)state;
    for (int round = 0; round < 20000; round++) {
        uint8_t in[256];
        size_t n = 0;
        sl_buf want = { 0 };
        sl_pg_copy cp;

        seed = seed * 1103515245u + 12345u;
        for (unsigned k = (seed >> 16) % 24; k > 0; k--) {
            seed = seed * 1103515245u + 12345u;
            const char *pc = pieces[(seed >> 16) % (sizeof(pieces) / sizeof(pieces[0]))];
            size_t len = strlen(pc);
            if ((seed >> 8) % 29 == 0 && n < sizeof(in))
                in[n++] = 0;                 /* a NUL byte now and then */
            if (n + len > sizeof(in))
                break;
            memcpy(in + n, pc, len);
            n += len;
        }
        sl_buf_init(&want, 4096);
        ref_encode(&want, in, n);
        copy_init(&cp);
        sl_pg_copy_text(&cp, (const char *)in, n);
        assert_int_equal(cp.failed, 0);
        assert_int_equal(cp.buf.len, want.len);
        assert_memory_equal(cp.buf.data, want.data, want.len);
        sl_buf_free(&cp.buf);
        sl_buf_free(&want);
    }
}

/* Binary format: what the bytes of one buffer must be. */
static void copy_init_binary(sl_pg_copy *cp)
{
    copy_init(cp);
    cp->binary = 1;
}

static void test_binary_rows(void **state)
{
    static const uint8_t want[] = {
        0, 6,                                   /* row 1: six fields */
        0, 0, 0, 2, 'a', '\t',                  /* text, as it is */
        0xff, 0xff, 0xff, 0xff,                 /* NULL */
        0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xd6, /* -42 */
        0, 0, 0, 2, 0x00, 0xff,                 /* bytea, raw */
        0, 0, 0, 4, 'x', 0xef, 0xbf, 0xbd,      /* "x\xff": U+FFFD */
        0, 0, 0, 2, 'a', 'b',                   /* "a\0b": NUL dropped */
        0, 0,                                   /* row 2: no fields */
        0, 1, 0, 0, 0, 0,                       /* row 3: one empty text */
    };
    sl_pg_copy cp;

    (void)state;
    copy_init_binary(&cp);
    sl_pg_copy_str(&cp, "a\t");
    sl_pg_copy_text(&cp, NULL, 0);
    sl_pg_copy_int(&cp, -42);
    sl_pg_copy_bytea(&cp, (const uint8_t *)"\x00\xff", 2);
    sl_pg_copy_text(&cp, "x\xff", 2);
    sl_pg_copy_text(&cp, "a\0b", 3);
    sl_pg_copy_row_end(&cp);
    sl_pg_copy_row_end(&cp);
    sl_pg_copy_str(&cp, "");
    sl_pg_copy_row_end(&cp);
    assert_int_equal(cp.failed, 0);
    assert_int_equal(cp.buf.len, sizeof(want));
    assert_memory_equal(cp.buf.data, want, sizeof(want));
    sl_buf_free(&cp.buf);
}

/* Binary text fields against the reference: the input as it is when
 * plain, else sl_utf8_sanitize's form, after a 4-byte big-endian length. */
static void test_binary_random_text(void **state)
{
    uint32_t seed = 777;

    (void)state;
    for (int round = 0; round < 20000; round++) {
        uint8_t in[64];
        size_t n = (seed >> 16) % sizeof(in);
        sl_buf clean = { 0 };
        sl_pg_copy cp;
        const uint8_t *body = in;
        size_t blen;

        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            /* mostly ASCII, some high bytes, now and then a NUL */
            uint32_t r = (seed >> 16) % 100;
            in[i] = (uint8_t)(r < 70 ? 'a' + r % 26 : r < 97 ? 0x80 + (seed >> 8) % 128 : 0);
        }
        seed = seed * 1103515245u + 12345u;
        blen = n;
        if (!ref_plain(in, n)) {
            sl_buf_init(&clean, n * 3 + 16);
            assert_int_equal(sl_utf8_sanitize(&clean, (const char *)in, n), SL_OK);
            body = clean.data;
            blen = clean.len;
        }
        copy_init_binary(&cp);
        sl_pg_copy_text(&cp, (const char *)in, n);
        assert_int_equal(cp.failed, 0);
        assert_int_equal(cp.buf.len, 2 + 4 + blen);
        assert_int_equal(cp.buf.data[2], (blen >> 24) & 0xff);
        assert_int_equal(cp.buf.data[3], (blen >> 16) & 0xff);
        assert_int_equal(cp.buf.data[4], (blen >> 8) & 0xff);
        assert_int_equal(cp.buf.data[5], blen & 0xff);
        if (blen)
            assert_memory_equal(cp.buf.data + 6, body, blen);
        sl_buf_free(&cp.buf);
        sl_buf_free(&clean);
    }
}

/* A row of an integer and a text[] of three elements (one of them not
 * UTF-8, one empty), then an empty array: what array_recv reads. */
static void test_binary_arrays(void **state)
{
    static const uint8_t want[] = {
        0, 3,                                   /* three fields */
        0, 0, 0, 4, 0, 0, 0, 7,                 /* integer 7 */
        0, 0, 0, 38,                            /* the array's length */
        0, 0, 0, 1,  0, 0, 0, 0,  0, 0, 0, 25,  /* 1 dim, no NULL, text */
        0, 0, 0, 3,  0, 0, 0, 1,                /* 3 elements from 1 */
        0, 0, 0, 2, 'a', 'b',
        0, 0, 0, 4, 'x', 0xef, 0xbf, 0xbd,      /* "x\xff": U+FFFD */
        0, 0, 0, 0,                             /* "" */
        0, 0, 0, 20,
        0, 0, 0, 1,  0, 0, 0, 0,  0, 0, 0, 25,
        0, 0, 0, 0,  0, 0, 0, 1,                /* no elements */
    };
    sl_pg_copy cp;

    (void)state;
    copy_init_binary(&cp);
    sl_pg_copy_int32(&cp, 7);
    sl_pg_copy_text_array_begin(&cp, 3);
    sl_pg_copy_array_text(&cp, "ab", 2);
    sl_pg_copy_array_text(&cp, "x\xff", 2);
    sl_pg_copy_array_text(&cp, "", 0);
    sl_pg_copy_text_array_end(&cp);
    sl_pg_copy_text_array_begin(&cp, 0);
    sl_pg_copy_text_array_end(&cp);
    sl_pg_copy_row_end(&cp);
    assert_int_equal(cp.failed, 0);
    assert_int_equal(cp.buf.len, sizeof(want));
    assert_memory_equal(cp.buf.data, want, sizeof(want));
    sl_buf_free(&cp.buf);
}

/* b holds exactly the n bytes of want. */
static void expect_buf(const sl_buf *b, const uint8_t *want, size_t n)
{
    assert_int_equal(b->len, n);
    assert_memory_equal(b->data, want, n);
}

/* Array parameters in binary form (sl_pg_barray_*), byte for byte as
 * array_recv reads them: text with its bytes as given, int4 and int8
 * big-endian (negative ones too), and an empty array with no dimension. */
static void test_binary_params(void **state)
{
    static const uint8_t want_text[] = {
        0, 0, 0, 1,  0, 0, 0, 0,  0, 0, 0, 25,  /* 1 dim, no NULL, text */
        0, 0, 0, 3,  0, 0, 0, 1,                /* 3 elements from 1 */
        0, 0, 0, 2, 'a', 'b',
        0, 0, 0, 3, 'q', '"', '\\',            /* no escaping */
        0, 0, 0, 0,                             /* "" */
    };
    static const uint8_t want_ints[] = {
        0, 0, 0, 1,  0, 0, 0, 0,  0, 0, 0, 23,  /* int4 */
        0, 0, 0, 2,  0, 0, 0, 1,
        0, 0, 0, 4,  0, 0, 0x01, 0x02,
        0, 0, 0, 4,  0xff, 0xff, 0xff, 0xfe,    /* -2 */
        0, 0, 0, 1,  0, 0, 0, 0,  0, 0, 0, 20,  /* int8 */
        0, 0, 0, 1,  0, 0, 0, 1,
        0, 0, 0, 8,  0x80, 0, 0, 0, 0, 0, 0, 0, /* INT64_MIN */
    };
    static const uint8_t want_empty[] = {
        0, 0, 0, 0,  0, 0, 0, 0,  0, 0, 0, 25,
    };
    sl_buf b;

    (void)state;
    sl_buf_init(&b, 1024);
    assert_int_equal(sl_pg_barray_begin(&b, SL_PG_TEXT, 3), SL_OK);
    assert_int_equal(sl_pg_barray_text(&b, "ab", 2), SL_OK);
    assert_int_equal(sl_pg_barray_text(&b, "q\"\\", 3), SL_OK);
    assert_int_equal(sl_pg_barray_text(&b, "", 0), SL_OK);
    expect_buf(&b, want_text, sizeof(want_text));

    sl_buf_reset(&b);
    assert_int_equal(sl_pg_barray_begin(&b, SL_PG_INT4, 2), SL_OK);
    assert_int_equal(sl_pg_barray_int4(&b, 258), SL_OK);
    assert_int_equal(sl_pg_barray_int4(&b, -2), SL_OK);
    assert_int_equal(sl_pg_barray_begin(&b, SL_PG_INT8, 1), SL_OK);
    assert_int_equal(sl_pg_barray_int8(&b, INT64_MIN), SL_OK);
    expect_buf(&b, want_ints, sizeof(want_ints));

    sl_buf_reset(&b);
    assert_int_equal(sl_pg_barray_begin(&b, SL_PG_TEXT, 0), SL_OK);
    expect_buf(&b, want_empty, sizeof(want_empty));

    /* More elements than an int32 counts, and a buffer at its limit. */
    assert_int_equal(sl_pg_barray_begin(&b, SL_PG_TEXT, (size_t)INT32_MAX + 1), SL_EINVAL);
    sl_buf_free(&b);
    sl_buf_init(&b, 20);
    assert_int_equal(sl_pg_barray_begin(&b, SL_PG_TEXT, 1), SL_OK);
    assert_int_not_equal(sl_pg_barray_text(&b, "too long for it", 15), SL_OK);
    sl_buf_free(&b);
}

/* A look-up's keys: sorted in byte order, as a C-collation B-tree holds
 * them (upper case before lower, a prefix before its extensions, bytes
 * >= 0x80 last), each once, in one binary text[]. */
static void test_keys_param(void **state)
{
    const char *k[] = { "b", "a\xc3\xa9", "ab", "B", "b", "a", "", "\xff", "ab" };
    static const uint8_t want[] = {
        0, 0, 0, 1,  0, 0, 0, 0,  0, 0, 0, 25,
        0, 0, 0, 7,  0, 0, 0, 1,                /* 7 distinct of 9 */
        0, 0, 0, 0,
        0, 0, 0, 1, 'B',
        0, 0, 0, 1, 'a',
        0, 0, 0, 2, 'a', 'b',
        0, 0, 0, 3, 'a', 0xc3, 0xa9,
        0, 0, 0, 1, 'b',
        0, 0, 0, 1, 0xff,
    };
    static const uint8_t want_one[] = {
        0, 0, 0, 1,  0, 0, 0, 0,  0, 0, 0, 25,
        0, 0, 0, 1,  0, 0, 0, 1,
        0, 0, 0, 2, 'i', 'd',
    };
    const char *same[] = { "id", "id", "id" };
    sl_buf b;

    (void)state;
    sl_buf_init(&b, 1024);
    assert_int_equal(sl_pg_keys_param(&b, k, 9), SL_OK);
    expect_buf(&b, want, sizeof(want));
    sl_buf_reset(&b);
    assert_int_equal(sl_pg_keys_param(&b, same, 3), SL_OK);
    expect_buf(&b, want_one, sizeof(want_one));
    sl_buf_reset(&b);
    assert_int_equal(sl_pg_keys_param(&b, k, 0), SL_OK);
    assert_int_equal(b.len, 12);                /* empty: no dimension */
    sl_buf_free(&b);
}

/* Misuse fails the COPY instead of sending a malformed array: fewer or
 * more elements than announced, a NULL element, a field (text, bigint,
 * bytea, integer, another array) or a row's end inside an open array, an
 * element outside one, an array or an integer in the text format. */
static void test_binary_array_misuse(void **state)
{
    sl_pg_copy cp;

    (void)state;
    for (int k = 0; k < 13; k++) {
        if (k != 7 && k != 12)
            copy_init_binary(&cp);
        else
            copy_init(&cp);
        switch (k) {
        case 0:
            sl_pg_copy_text_array_begin(&cp, 2);
            sl_pg_copy_array_text(&cp, "a", 1);
            sl_pg_copy_text_array_end(&cp);
            break;
        case 1:
            sl_pg_copy_text_array_begin(&cp, 1);
            sl_pg_copy_array_text(&cp, "a", 1);
            sl_pg_copy_array_text(&cp, "b", 1);
            sl_pg_copy_text_array_end(&cp);
            break;
        case 2:
            sl_pg_copy_text_array_begin(&cp, 1);
            sl_pg_copy_array_text(&cp, NULL, 0);
            sl_pg_copy_text_array_end(&cp);
            break;
        case 3:
            sl_pg_copy_text_array_begin(&cp, 1);
            sl_pg_copy_str(&cp, "a");
            break;
        case 4:
            sl_pg_copy_text_array_begin(&cp, 1);
            sl_pg_copy_row_end(&cp);
            break;
        case 5:
            sl_pg_copy_array_text(&cp, "a", 1);
            break;
        case 6:
            sl_pg_copy_text_array_end(&cp);
            break;
        case 7:     /* text format: the array alone fails it */
            sl_pg_copy_text_array_begin(&cp, 1);
            break;
        case 8:
            sl_pg_copy_text_array_begin(&cp, 1);
            sl_pg_copy_int(&cp, 1);
            break;
        case 9:
            sl_pg_copy_text_array_begin(&cp, 1);
            sl_pg_copy_bytea(&cp, (const uint8_t *)"x", 1);
            break;
        case 10:
            sl_pg_copy_text_array_begin(&cp, 1);
            sl_pg_copy_int32(&cp, 1);
            break;
        case 11:
            sl_pg_copy_text_array_begin(&cp, 1);
            sl_pg_copy_text_array_begin(&cp, 1);
            break;
        case 12:    /* text format: an integer alone fails it */
            sl_pg_copy_int32(&cp, 1);
            break;
        }
        assert_int_equal(cp.failed, 1);
        sl_buf_free(&cp.buf);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_fields_and_null),
        cmocka_unit_test(test_random_against_reference),
        cmocka_unit_test(test_binary_rows),
        cmocka_unit_test(test_binary_random_text),
        cmocka_unit_test(test_binary_arrays),
        cmocka_unit_test(test_binary_array_misuse),
        cmocka_unit_test(test_binary_params),
        cmocka_unit_test(test_keys_param),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
