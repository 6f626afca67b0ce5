/*
 * test_spdx.c -- unit tests for services/license/spdx.c: the embedded
 * SPDX License List (version, lookups, deprecated ids and their
 * replacements) and the expression parser (precedence, WITH, '+',
 * parentheses, LicenseRef / DocumentRef / AdditionRef, case
 * normalisation, and every error code with its offset).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "spdx.h"

static sl_spdx *S;

static int setup(void **state)
{
    sl_err err = { { 0 } };

    (void)state;
    if (sl_spdx_load(&S, &err) != SL_OK) {
        fprintf(stderr, "sl_spdx_load: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sl_spdx_destroy(S);
    return 0;
}

/* ---- helpers ---------------------------------------------------------- */

/* Parses expr, which must succeed, and returns its normalised text. */
static char *norm(const char *expr)
{
    sl_spdx_expr *e = NULL;
    sl_spdx_error er;
    char *s;

    if (sl_spdx_parse(S, expr, &e, &er) != SL_OK)
        fail_msg("'%s' did not parse: %s: %s", expr, er.code, er.detail);
    s = sl_spdx_normalise(e);
    assert_non_null(s);
    sl_spdx_expr_destroy(e);
    return s;
}

static void assert_norm(const char *expr, const char *want)
{
    char *s = norm(expr), *again;

    if (strcmp(s, want) != 0)
        fail_msg("'%s' normalised to '%s', want '%s'", expr, s, want);
    /* the canonical text parses back to itself */
    again = norm(s);
    assert_string_equal(again, s);
    free(again);
    free(s);
}

/* Parses expr, which must fail with code; returns the error. */
static sl_spdx_error parse_fails(const char *expr, const char *code)
{
    sl_spdx_expr *e = (sl_spdx_expr *)0x1;
    sl_spdx_error er;
    int rc = sl_spdx_parse(S, expr, &e, &er);

    if (rc != SL_EINVAL)
        fail_msg("'%s' parsed (rc %d), want %s", expr ? expr : "(null)", rc,
                 code);
    assert_null(e);
    assert_non_null(er.code);
    if (strcmp(er.code, code) != 0)
        fail_msg("'%s': got %s (%s), want %s", expr ? expr : "(null)",
                 er.code, er.detail, code);
    assert_true(strlen(er.detail) > 0);
    return er;
}

static void assert_fails_at(const char *expr, const char *code, long pos,
                            const char *needle)
{
    sl_spdx_error er = parse_fails(expr, code);

    if (er.pos != pos)
        fail_msg("'%s': error at %ld (%s), want %ld", expr, er.pos,
                 er.detail, pos);
    if (needle && !strstr(er.detail, needle))
        fail_msg("'%s': detail '%s' lacks '%s'", expr, er.detail, needle);
}

static sl_spdx_expr *parse_ok(const char *expr)
{
    sl_spdx_expr *e = NULL;
    sl_spdx_error er;

    if (sl_spdx_parse(S, expr, &e, &er) != SL_OK)
        fail_msg("'%s' did not parse: %s: %s", expr, er.code, er.detail);
    assert_null(er.code);
    return e;
}

/* ---- the list ---------------------------------------------------------- */

static void test_list_version_and_lookup(void **state)
{
    const sl_spdx_entry *en;

    (void)state;
    assert_string_equal(sl_spdx_list_version(S), "3.29.0");
    assert_true(sl_spdx_license_count(S) >= 700);
    assert_true(sl_spdx_exception_count(S) >= 60);

    en = sl_spdx_license(S, "mit");
    assert_non_null(en);
    assert_string_equal(en->id, "MIT");
    assert_string_equal(en->name, "MIT License");
    assert_true(en->osi_approved);
    assert_false(en->deprecated);
    assert_false(en->is_exception);

    en = sl_spdx_license(S, "APACHE-2.0");
    assert_non_null(en);
    assert_string_equal(en->id, "Apache-2.0");

    en = sl_spdx_exception(S, "llvm-EXCEPTION");
    assert_non_null(en);
    assert_string_equal(en->id, "LLVM-exception");
    assert_true(en->is_exception);

    /* licenses and exceptions are separate namespaces */
    assert_null(sl_spdx_license(S, "LLVM-exception"));
    assert_null(sl_spdx_exception(S, "MIT"));
    assert_null(sl_spdx_license(S, "No-Such-License-1.0"));
    assert_null(sl_spdx_license_at(S, sl_spdx_license_count(S)));
}

static void test_list_deprecated_replacements(void **state)
{
    static const struct { const char *id, *repl; } want[] = {
        { "GPL-2.0", "GPL-2.0-only" },
        { "GPL-2.0+", "GPL-2.0-or-later" },
        { "GPL-3.0", "GPL-3.0-only" },
        { "LGPL-2.1", "LGPL-2.1-only" },
        { "LGPL-2.1+", "LGPL-2.1-or-later" },
        { "AGPL-3.0", "AGPL-3.0-only" },
        { "eCos-2.0", "GPL-2.0-or-later WITH eCos-exception-2.0" },
        { "wxWindows", "LGPL-2.0-or-later WITH WxWindows-exception-3.1" },
        { "StandardML-NJ", "SMLNJ" },
    };
    const sl_spdx_entry *en;
    size_t i, ndep = 0;

    (void)state;
    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        en = sl_spdx_license(S, want[i].id);
        assert_non_null(en);
        assert_true(en->deprecated);
        assert_non_null(en->replacement);
        assert_string_equal(en->replacement, want[i].repl);
    }
    en = sl_spdx_exception(S, "Nokia-Qt-exception-1.1");
    assert_non_null(en);
    assert_true(en->deprecated);
    assert_string_equal(en->replacement, "Qt-LGPL-exception-1.1");

    /* every deprecated id says what to do instead, and every replacement
     * is a valid expression of current ids */
    for (i = 0; i < sl_spdx_license_count(S) + sl_spdx_exception_count(S);
         i++) {
        size_t nl = sl_spdx_license_count(S);

        en = i < nl ? sl_spdx_license_at(S, i) : sl_spdx_exception_at(S, i - nl);
        assert_non_null(en);
        if (i && i != nl) {
            const sl_spdx_entry *prev = i < nl ? sl_spdx_license_at(S, i - 1)
                                               : sl_spdx_exception_at(S, i - nl - 1);
            assert_true(strcasecmp(prev->id, en->id) < 0);
        }
        if (!en->deprecated) {
            assert_null(en->replacement);
            continue;
        }
        ndep++;
        assert_true(en->replacement || en->replacement_note);
        if (en->replacement && !en->is_exception) {
            sl_spdx_expr *e = parse_ok(en->replacement);

            sl_spdx_expr_destroy(e);
        } else if (en->replacement) {
            assert_non_null(sl_spdx_exception(S, en->replacement));
            assert_false(sl_spdx_exception(S, en->replacement)->deprecated);
        }
    }
    assert_true(ndep >= 30);
}

static void test_list_load_json_errors(void **state)
{
    static const char exc[] =
        "{\"license_list_version\":\"1.0\",\"exceptions\":["
        "{\"id\":\"X-exception\",\"name\":\"X\",\"deprecated\":false}]}";
    static const char *const bad[] = {
        "not json",
        "{\"licenses\":[{\"id\":\"A\",\"name\":\"A\",\"deprecated\":false}]}",
        "{\"license_list_version\":\"1.0\",\"licenses\":[]}",
        "{\"license_list_version\":\"1.0\",\"licenses\":["
        "{\"id\":\"A\",\"name\":\"A\"}]}",
        "{\"license_list_version\":\"1.0\",\"licenses\":["
        "{\"id\":\"A B\",\"name\":\"A\",\"deprecated\":false}]}",
        "{\"license_list_version\":\"1.0\",\"licenses\":["
        "{\"id\":\"Abc\",\"name\":\"A\",\"deprecated\":false},"
        "{\"id\":\"ABC\",\"name\":\"A\",\"deprecated\":false}]}",
        "{\"license_list_version\":\"2.0\",\"licenses\":["
        "{\"id\":\"A\",\"name\":\"A\",\"deprecated\":false}]}",
    };
    static const char good[] =
        "{\"license_list_version\":\"1.0\",\"licenses\":["
        "{\"id\":\"Zed-1.0\",\"name\":\"Z\",\"deprecated\":false},"
        "{\"id\":\"A-1.0\",\"name\":\"A\",\"deprecated\":true,"
        "\"replacement\":\"Zed-1.0\"}]}";
    sl_spdx *s = NULL;
    sl_err err;
    sl_spdx_expr *e = NULL;
    sl_spdx_error er;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err.msg[0] = '\0';
        assert_int_not_equal(sl_spdx_load_json(&s, bad[i], strlen(bad[i]),
                                                exc, strlen(exc), &err), SL_OK);
        assert_null(s);
        assert_true(strlen(err.msg) > 0);
    }
    assert_int_equal(sl_spdx_load_json(&s, good, strlen(good), exc,
                                       strlen(exc), &err), SL_OK);
    assert_string_equal(sl_spdx_list_version(s), "1.0");
    assert_int_equal(sl_spdx_license_count(s), 2);
    assert_string_equal(sl_spdx_license_at(s, 0)->id, "A-1.0");
    /* a list of one's own drives the parser */
    assert_int_equal(sl_spdx_parse(s, "zed-1.0 with x-exception", &e, &er),
                     SL_OK);
    sl_spdx_expr_destroy(e);
    assert_int_equal(sl_spdx_parse(s, "MIT", &e, &er), SL_EINVAL);
    assert_string_equal(er.code, SL_LICENSE_UNKNOWN);
    assert_int_equal(sl_spdx_parse(s, "A-1.0", &e, &er), SL_EINVAL);
    assert_string_equal(er.code, SL_LICENSE_DEPRECATED);
    assert_non_null(strstr(er.detail, "use 'Zed-1.0'"));
    sl_spdx_destroy(s);
    sl_spdx_destroy(NULL);
}

/* ---- valid expressions ------------------------------------------------- */

static void test_parse_single(void **state)
{
    sl_spdx_expr *e;

    (void)state;
    e = parse_ok("MIT");
    assert_int_equal(sl_spdx_expr_kind(e), SL_SPDX_LICENSE);
    assert_string_equal(sl_spdx_expr_id(e), "MIT");
    assert_int_equal(sl_spdx_expr_count(e), 0);
    assert_null(sl_spdx_expr_child(e, 0));
    assert_null(sl_spdx_expr_exception(e));
    assert_false(sl_spdx_expr_or_later(e));
    sl_spdx_expr_destroy(e);
    sl_spdx_expr_destroy(NULL);
}

static void test_case_normalisation(void **state)
{
    (void)state;
    assert_norm("mit or apache-2.0", "MIT OR Apache-2.0");
    assert_norm("MIT Or Apache-2.0 aNd isc", "MIT OR Apache-2.0 AND ISC");
    assert_norm("gpl-2.0-ONLY with CLASSPATH-exception-2.0",
                "GPL-2.0-only WITH Classpath-exception-2.0");
    assert_norm("cc-by-sa-4.0", "CC-BY-SA-4.0");
    assert_norm("cc0-1.0", "CC0-1.0");
    assert_norm("  MIT\tAND\r\n  BSD-3-Clause  ", "MIT AND BSD-3-Clause");
    assert_norm("(MIT)AND(ISC)", "MIT AND ISC");
}

static void test_precedence(void **state)
{
    sl_spdx_expr *e;
    const sl_spdx_expr *k;

    (void)state;
    /* A OR B AND C is A OR (B AND C) */
    e = parse_ok("MIT OR Apache-2.0 AND ISC");
    assert_int_equal(sl_spdx_expr_kind(e), SL_SPDX_OR);
    assert_int_equal(sl_spdx_expr_count(e), 2);
    assert_string_equal(sl_spdx_expr_id(sl_spdx_expr_child(e, 0)), "MIT");
    k = sl_spdx_expr_child(e, 1);
    assert_int_equal(sl_spdx_expr_kind(k), SL_SPDX_AND);
    assert_int_equal(sl_spdx_expr_count(k), 2);
    assert_string_equal(sl_spdx_expr_id(sl_spdx_expr_child(k, 0)),
                        "Apache-2.0");
    assert_string_equal(sl_spdx_expr_id(sl_spdx_expr_child(k, 1)), "ISC");
    assert_null(sl_spdx_expr_id(k));
    sl_spdx_expr_destroy(e);

    /* A AND B OR C is (A AND B) OR C */
    e = parse_ok("MIT AND Apache-2.0 OR ISC");
    assert_int_equal(sl_spdx_expr_kind(e), SL_SPDX_OR);
    assert_int_equal(sl_spdx_expr_kind(sl_spdx_expr_child(e, 0)), SL_SPDX_AND);
    assert_int_equal(sl_spdx_expr_kind(sl_spdx_expr_child(e, 1)),
                     SL_SPDX_LICENSE);
    sl_spdx_expr_destroy(e);

    /* parentheses override */
    e = parse_ok("(MIT OR Apache-2.0) AND ISC");
    assert_int_equal(sl_spdx_expr_kind(e), SL_SPDX_AND);
    assert_int_equal(sl_spdx_expr_kind(sl_spdx_expr_child(e, 0)), SL_SPDX_OR);
    sl_spdx_expr_destroy(e);

    /* same operators flatten */
    e = parse_ok("MIT AND (ISC AND (Zlib AND 0BSD))");
    assert_int_equal(sl_spdx_expr_kind(e), SL_SPDX_AND);
    assert_int_equal(sl_spdx_expr_count(e), 4);
    sl_spdx_expr_destroy(e);
    e = parse_ok("MIT OR ISC OR Zlib");
    assert_int_equal(sl_spdx_expr_count(e), 3);
    sl_spdx_expr_destroy(e);

    assert_norm("MIT OR Apache-2.0 AND ISC", "MIT OR Apache-2.0 AND ISC");
    assert_norm("(MIT OR Apache-2.0) AND ISC", "(MIT OR Apache-2.0) AND ISC");
    assert_norm("(MIT AND Apache-2.0) OR ISC", "MIT AND Apache-2.0 OR ISC");
    assert_norm("((MIT))", "MIT");
    assert_norm("ISC AND (MIT OR (Zlib OR 0BSD))",
                "ISC AND (MIT OR Zlib OR 0BSD)");
    assert_norm("(MIT OR ISC) AND (Zlib OR 0BSD AND BSD-2-Clause)",
                "(MIT OR ISC) AND (Zlib OR 0BSD AND BSD-2-Clause)");
}

static void test_with(void **state)
{
    sl_spdx_expr *e;
    const sl_spdx_expr *k;

    (void)state;
    e = parse_ok("GPL-2.0-or-later WITH Classpath-exception-2.0");
    assert_int_equal(sl_spdx_expr_kind(e), SL_SPDX_LICENSE);
    assert_string_equal(sl_spdx_expr_id(e), "GPL-2.0-or-later");
    assert_string_equal(sl_spdx_expr_exception(e), "Classpath-exception-2.0");
    sl_spdx_expr_destroy(e);

    /* WITH binds tighter than AND and OR */
    e = parse_ok("Apache-2.0 WITH LLVM-exception OR MIT");
    assert_int_equal(sl_spdx_expr_kind(e), SL_SPDX_OR);
    k = sl_spdx_expr_child(e, 0);
    assert_string_equal(sl_spdx_expr_id(k), "Apache-2.0");
    assert_string_equal(sl_spdx_expr_exception(k), "LLVM-exception");
    assert_null(sl_spdx_expr_exception(sl_spdx_expr_child(e, 1)));
    sl_spdx_expr_destroy(e);

    assert_norm("mit and gpl-3.0-or-later with gcc-exception-3.1",
                "MIT AND GPL-3.0-or-later WITH GCC-exception-3.1");
    assert_norm("GPL-3.0-only with additionref-My-Exception.2",
                "GPL-3.0-only WITH AdditionRef-My-Exception.2");
    assert_norm("GPL-3.0-only WITH documentref-d1:additionref-x",
                "GPL-3.0-only WITH DocumentRef-d1:AdditionRef-x");
    assert_norm("LicenseRef-mine WITH GCC-exception-3.1",
                "LicenseRef-mine WITH GCC-exception-3.1");
}

static void test_plus(void **state)
{
    sl_spdx_expr *e;

    (void)state;
    e = parse_ok("cc-by-3.0+");
    assert_string_equal(sl_spdx_expr_id(e), "CC-BY-3.0");
    assert_true(sl_spdx_expr_or_later(e));
    sl_spdx_expr_destroy(e);
    assert_norm("cc-by-3.0+", "CC-BY-3.0+");
    assert_norm("Apache-1.0+ WITH LLVM-exception OR MPL-1.1+",
                "Apache-1.0+ WITH LLVM-exception OR MPL-1.1+");
}

static void test_license_refs(void **state)
{
    sl_spdx_expr *e;

    (void)state;
    e = parse_ok("licenseref-My.Own-1");
    assert_int_equal(sl_spdx_expr_kind(e), SL_SPDX_REF);
    assert_string_equal(sl_spdx_expr_id(e), "LicenseRef-My.Own-1");
    sl_spdx_expr_destroy(e);

    e = parse_ok("DOCUMENTREF-spdx-tool-1.2:LICENSEREF-MIT-Style-2");
    assert_int_equal(sl_spdx_expr_kind(e), SL_SPDX_REF);
    assert_string_equal(sl_spdx_expr_id(e),
                        "DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2");
    sl_spdx_expr_destroy(e);

    assert_norm("MIT OR LicenseRef-OpenRAIL-M",
                "MIT OR LicenseRef-OpenRAIL-M");
}

static void test_accessors_walk(void **state)
{
    sl_spdx_expr *e;
    const sl_spdx_expr *and_, *ref;

    (void)state;
    e = parse_ok("MIT OR (Apache-2.0 AND LicenseRef-x WITH AdditionRef-y)");
    assert_int_equal(sl_spdx_expr_kind(e), SL_SPDX_OR);
    assert_int_equal(sl_spdx_expr_count(e), 2);
    assert_null(sl_spdx_expr_child(e, 2));
    and_ = sl_spdx_expr_child(e, 1);
    assert_int_equal(sl_spdx_expr_kind(and_), SL_SPDX_AND);
    ref = sl_spdx_expr_child(and_, 1);
    assert_int_equal(sl_spdx_expr_kind(ref), SL_SPDX_REF);
    assert_string_equal(sl_spdx_expr_id(ref), "LicenseRef-x");
    assert_string_equal(sl_spdx_expr_exception(ref), "AdditionRef-y");
    sl_spdx_expr_destroy(e);
}

static void test_dup_and_join(void **state)
{
    sl_spdx_expr *kids[3], *j, *d, *single;
    char *s;

    (void)state;
    kids[0] = parse_ok("MIT");
    kids[1] = parse_ok("ISC OR Zlib");
    kids[2] = parse_ok("0BSD AND BSD-2-Clause");
    j = sl_spdx_expr_join(SL_SPDX_OR, kids, 3);
    assert_non_null(j);
    assert_int_equal(sl_spdx_expr_count(j), 4);   /* ISC OR Zlib flattened */
    d = sl_spdx_expr_dup(j);
    sl_spdx_expr_destroy(j);
    s = sl_spdx_normalise(d);
    assert_string_equal(s, "MIT OR ISC OR Zlib OR 0BSD AND BSD-2-Clause");
    free(s);
    sl_spdx_expr_destroy(d);

    single = parse_ok("MIT");
    kids[0] = single;
    assert_ptr_equal(sl_spdx_expr_join(SL_SPDX_AND, kids, 1), single);
    sl_spdx_expr_destroy(single);
    assert_null(sl_spdx_expr_join(SL_SPDX_AND, kids, 0));
}

/* ---- errors ------------------------------------------------------------ */

static void test_missing(void **state)
{
    sl_spdx_error er;

    (void)state;
    parse_fails(NULL, SL_LICENSE_MISSING);
    parse_fails("", SL_LICENSE_MISSING);
    parse_fails(" \t\n ", SL_LICENSE_MISSING);
    parse_fails("NONE", SL_LICENSE_MISSING);
    parse_fails("noassertion", SL_LICENSE_MISSING);
    er = parse_fails("  NOASSERTION ", SL_LICENSE_MISSING);
    assert_non_null(strstr(er.detail, "NOASSERTION"));
    assert_fails_at("MIT OR NONE", SL_LICENSE_MISSING, 7, "'NONE'");
    assert_fails_at("(NOASSERTION)", SL_LICENSE_MISSING, 1, NULL);
}

static void test_syntax_errors(void **state)
{
    static const struct {
        const char *expr;
        long pos;
        const char *needle;
    } cases[] = {
        { "MIT AND", 7, "found end of expression" },
        { "MIT OR OR ISC", 7, "expected a license id or '(', found 'OR'" },
        { "AND MIT", 0, "found 'AND'" },
        { "()", 1, "found ')'" },
        { "(MIT", 0, "'(' at offset 0 is never closed" },
        { "((MIT OR ISC)", 0, "never closed" },
        { "MIT)", 3, "no matching '('" },
        { "MIT ISC", 4, "expected AND, OR or WITH before 'ISC'" },
        { "MIT (ISC)", 4, "expected AND, OR or WITH" },
        { "MIT WITH", 8, "WITH must be followed by a license exception id" },
        { "MIT WITH OR ISC", 9, "found 'OR'" },
        { "(MIT OR ISC) WITH LLVM-exception", 13, "parenthesised" },
        { "Apache-2.0 WITH LLVM-exception WITH LLVM-exception", 31,
          "one exception each" },
        { "GPL-2.0-only +", 13, "must follow a license id directly" },
        { "MIT++", 3, "must end a license id" },
        { "MIT+x", 3, "must end a license id" },
        { "MIT & ISC", 4, "unexpected character '&'" },
        { "MIT/ISC", 3, "unexpected character '/'" },
        { "MIT\x01", 3, "unexpected byte 0x01" },
        { "MIT \xc3\xa9", 4, "unexpected byte 0xc3" },
        { "LicenseRef-", 0, "expected LicenseRef-<id>" },
        { "LicenseRef-a_b", 12, "unexpected character '_'" },
        { "LicenseRef-foo+", 14, "not LicenseRef" },
        { "foo:LicenseRef-x", 0, "':' is allowed only in DocumentRef" },
        { "DocumentRef-:LicenseRef-x", 0, "bad DocumentRef id" },
        { "DocumentRef-d:MIT", 0, "expected LicenseRef-<id>" },
        { "AdditionRef-x", 0, "can only follow WITH" },
        { "MIT WITH LicenseRef-x", 9, "found 'LicenseRef-x'" },
        { "MIT WITH LLVM-exception+", 23, "cannot follow a license exception" },
        { "MIT WITH DocumentRef-d:LicenseRef-x", 9, "expected AdditionRef-<id>" },
        /* syntax is judged before ids */
        { "FOO AND (", 9, "found end of expression" },
        { "Apache 2.0", 7, "expected AND, OR or WITH before '2.0'" },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_fails_at(cases[i].expr, SL_LICENSE_INVALID, cases[i].pos,
                        cases[i].needle);
}

static void test_misplaced_ids(void **state)
{
    (void)state;
    /* an exception where a license belongs, and the reverse */
    assert_fails_at("Classpath-exception-2.0", SL_LICENSE_INVALID, 0,
                    "is a license exception; it can only follow WITH");
    assert_fails_at("GPL-2.0-only WITH mit", SL_LICENSE_INVALID, 18,
                    "'MIT' at offset 18 is a license, not a license exception");
    /* misplaced outranks unknown */
    assert_fails_at("FOO OR LLVM-exception", SL_LICENSE_INVALID, 7, NULL);
}

static void test_limits(void **state)
{
    char buf[SL_SPDX_EXPR_MAX + 2];
    sl_spdx_expr *e;
    size_t i, n = 0;

    (void)state;
    /* SL_SPDX_DEPTH_MAX levels are fine, one more is not */
    for (i = 0; i < SL_SPDX_DEPTH_MAX; i++)
        buf[n++] = '(';
    memcpy(buf + n, "MIT", 3);
    n += 3;
    for (i = 0; i < SL_SPDX_DEPTH_MAX; i++)
        buf[n++] = ')';
    buf[n] = '\0';
    e = parse_ok(buf);
    sl_spdx_expr_destroy(e);

    n = 0;
    for (i = 0; i <= SL_SPDX_DEPTH_MAX; i++)
        buf[n++] = '(';
    memcpy(buf + n, "MIT", 3);
    n += 3;
    for (i = 0; i <= SL_SPDX_DEPTH_MAX; i++)
        buf[n++] = ')';
    buf[n] = '\0';
    assert_fails_at(buf, SL_LICENSE_INVALID, SL_SPDX_DEPTH_MAX,
                    "nested deeper than 32");

    /* the longest accepted expression, then one byte more */
    memset(buf, ' ', SL_SPDX_EXPR_MAX);
    memcpy(buf, "MIT", 3);
    buf[SL_SPDX_EXPR_MAX] = '\0';
    e = parse_ok(buf);
    sl_spdx_expr_destroy(e);
    buf[SL_SPDX_EXPR_MAX] = ' ';
    buf[SL_SPDX_EXPR_MAX + 1] = '\0';
    assert_fails_at(buf, SL_LICENSE_INVALID, -1, "more than the 4096");

    /* a long flat list is no problem */
    n = 0;
    n += (size_t)snprintf(buf + n, sizeof(buf) - n, "MIT");
    while (n + 8 < SL_SPDX_EXPR_MAX)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, " OR ISC");
    e = parse_ok(buf);
    assert_true(sl_spdx_expr_count(e) > 500);
    sl_spdx_expr_destroy(e);
}

static void test_unknown(void **state)
{
    (void)state;
    assert_fails_at("FOO", SL_LICENSE_UNKNOWN, 0, "unknown license id 'FOO'");
    assert_fails_at("MIT OR Foo-1.0", SL_LICENSE_UNKNOWN, 7, "'Foo-1.0'");
    assert_fails_at("Foo-1.0+", SL_LICENSE_UNKNOWN, 0, "'Foo-1.0'");
    assert_fails_at("GPL-2.0-only WITH Bogus-exception", SL_LICENSE_UNKNOWN,
                    18, "unknown license exception id 'Bogus-exception'");
    /* the leftmost unknown is named; unknown outranks deprecated */
    assert_fails_at("GPL-2.0 AND Bar AND Baz", SL_LICENSE_UNKNOWN, 12,
                    "'Bar'");
    /* operator words are not ids */
    assert_fails_at("ANDY", SL_LICENSE_UNKNOWN, 0, "'ANDY'");
}

static void test_deprecated(void **state)
{
    (void)state;
    assert_fails_at("GPL-2.0", SL_LICENSE_DEPRECATED, 0,
                    "use 'GPL-2.0-only' instead");
    assert_fails_at("GPL-2.0+", SL_LICENSE_DEPRECATED, 0,
                    "use 'GPL-2.0-or-later' instead");
    assert_fails_at("gpl-2.0+", SL_LICENSE_DEPRECATED, 0,
                    "'GPL-2.0+' at offset 0 is deprecated");
    assert_fails_at("LGPL-2.1", SL_LICENSE_DEPRECATED, 0, "'LGPL-2.1-only'");
    assert_fails_at("MIT OR GPL-3.0", SL_LICENSE_DEPRECATED, 7,
                    "'GPL-3.0-only'");
    assert_fails_at("ecos-2.0", SL_LICENSE_DEPRECATED, 0,
                    "use 'GPL-2.0-or-later WITH eCos-exception-2.0'");
    assert_fails_at("Net-SNMP", SL_LICENSE_DEPRECATED, 0,
                    "no single replacement");
    assert_fails_at("LGPL-2.1-only WITH Nokia-Qt-exception-1.1",
                    SL_LICENSE_DEPRECATED, 19, "'Qt-LGPL-exception-1.1'");
    /* the detail names the list version */
    assert_fails_at("AGPL-3.0", SL_LICENSE_DEPRECATED, 0, "3.29.0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_version_and_lookup),
        cmocka_unit_test(test_list_deprecated_replacements),
        cmocka_unit_test(test_list_load_json_errors),
        cmocka_unit_test(test_parse_single),
        cmocka_unit_test(test_case_normalisation),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_with),
        cmocka_unit_test(test_plus),
        cmocka_unit_test(test_license_refs),
        cmocka_unit_test(test_accessors_walk),
        cmocka_unit_test(test_dup_and_join),
        cmocka_unit_test(test_missing),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_misplaced_ids),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_unknown),
        cmocka_unit_test(test_deprecated),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
