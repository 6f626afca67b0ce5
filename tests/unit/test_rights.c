/*
 * test_rights.c -- unit tests for services/license/rights.c: the embedded
 * rights table (coverage and strict loading), dataset policies (parsing
 * and refusals), the check of expressions against a policy (OR picks a
 * satisfying alternative and says which, AND combines, unknown rights fail
 * every requirement, allowed-list patterns, "+", WITH), the rejection
 * detail, and the bound license record.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "rights.h"
#include "sl/json.h"
#include "spdx.h"

static sl_spdx *S;
static sl_rights_table *T;

static int setup(void **state)
{
    sl_err err = { { 0 } };

    (void)state;
    if (sl_spdx_load(&S, &err) != SL_OK
        || sl_rights_load(S, &T, &err) != SL_OK) {
        fprintf(stderr, "load: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sl_rights_destroy(T);
    sl_spdx_destroy(S);
    return 0;
}

/* ---- helpers ---------------------------------------------------------- */

static sl_spdx_expr *parse(const char *expr)
{
    sl_spdx_expr *e = NULL;
    sl_spdx_error er;

    if (sl_spdx_parse(S, expr, &e, &er) != SL_OK)
        fail_msg("'%s' did not parse: %s: %s", expr, er.code, er.detail);
    return e;
}

static sl_license_policy *policy(const char *json)
{
    sl_license_policy *p = NULL;
    sl_err err = { { 0 } };

    if (sl_license_policy_parse(S, json, strlen(json), &p, &err) != SL_OK)
        fail_msg("policy %s: %s", json, err.msg);
    return p;
}

/* Checks expr against the policy (JSON, or NULL for none). */
static void check(const char *expr, const char *pjson, sl_license_verdict *v)
{
    sl_spdx_expr *e = parse(expr);
    sl_license_policy *p = pjson ? policy(pjson) : NULL;

    assert_int_equal(sl_license_check(T, e, p, v), SL_OK);
    assert_non_null(v->chosen);
    assert_non_null(v->branch);
    sl_license_policy_destroy(p);
    sl_spdx_expr_destroy(e);
}

static void expect_accept(const char *expr, const char *pjson,
                          const char *chosen)
{
    sl_license_verdict v;

    check(expr, pjson, &v);
    if (!v.accepted)
        fail_msg("'%s' under %s rejected: %s", expr, pjson, v.detail);
    assert_null(v.code);
    assert_string_equal(v.detail, "");
    if (strcmp(v.chosen, chosen) != 0)
        fail_msg("'%s' under %s chose '%s', want '%s'", expr, pjson, v.chosen,
                 chosen);
    sl_license_verdict_clear(&v);
}

/* Expects a rejection whose detail contains each of needles (NULL-ended). */
static void expect_reject(const char *expr, const char *pjson, ...)
{
    sl_license_verdict v;
    va_list ap;
    const char *n;

    check(expr, pjson, &v);
    if (v.accepted)
        fail_msg("'%s' under %s accepted (chose '%s')", expr, pjson, v.chosen);
    assert_non_null(v.code);
    assert_string_equal(v.code, SL_LICENSE_NOT_ALLOWED);
    va_start(ap, pjson);
    while ((n = va_arg(ap, const char *)) != NULL)
        if (!strstr(v.detail, n)) {
            va_end(ap);
            fail_msg("'%s': detail '%s' lacks '%s'", expr, v.detail, n);
        }
    va_end(ap);
    sl_license_verdict_clear(&v);
}

static void assert_rights(const sl_rights *r, int known, int training,
                          int commercial, int attribution, int share_alike)
{
    assert_int_equal(r->known, known);
    assert_int_equal(r->training_allowed, training);
    assert_int_equal(r->commercial_allowed, commercial);
    assert_int_equal(r->attribution_required, attribution);
    assert_int_equal(r->share_alike, share_alike);
}

static void lookup(const char *id, const char *exc, sl_rights *r)
{
    if (sl_rights_lookup(T, id, exc, r) != SL_OK)
        fail_msg("'%s' is not in the rights table", id);
}

/* ---- the table --------------------------------------------------------- */

static void test_table_values(void **state)
{
    sl_rights r;

    (void)state;
    assert_true(strlen(sl_rights_version(T)) > 0);
    lookup("CC-BY-4.0", NULL, &r);
    assert_rights(&r, 1, 1, 1, 1, 0);
    lookup("cc-by-sa-4.0", NULL, &r);             /* any case */
    assert_rights(&r, 1, 1, 1, 1, 1);
    lookup("CC-BY-NC-4.0", NULL, &r);
    assert_rights(&r, 1, 1, 0, 1, 0);
    lookup("CC-BY-NC-SA-3.0", NULL, &r);
    assert_rights(&r, 1, 1, 0, 1, 1);
    lookup("CC-BY-ND-4.0", NULL, &r);
    assert_rights(&r, 1, 0, 1, 1, 0);
    lookup("CC-BY-NC-ND-2.0", NULL, &r);
    assert_rights(&r, 1, 0, 0, 1, 0);
    lookup("CC0-1.0", NULL, &r);
    assert_rights(&r, 1, 1, 1, 0, 0);
    lookup("PDDL-1.0", NULL, &r);
    assert_rights(&r, 1, 1, 1, 0, 0);
    lookup("LicenseRef-PublicDomain", NULL, &r);
    assert_rights(&r, 1, 1, 1, 0, 0);
    lookup("MIT", NULL, &r);
    assert_rights(&r, 1, 1, 1, 1, 0);
    lookup("GPL-3.0-or-later", NULL, &r);
    assert_rights(&r, 1, 1, 1, 1, 1);
    lookup("ODbL-1.0", NULL, &r);
    assert_rights(&r, 1, 1, 1, 1, 1);
    lookup("CDLA-Permissive-2.0", NULL, &r);
    assert_rights(&r, 1, 1, 1, 0, 0);
    lookup("LicenseRef-CreativeML-OpenRAIL-M", NULL, &r);
    assert_rights(&r, 1, 1, 1, 1, 1);

    /* not in the table: unknown, and as restrictive as can be */
    assert_int_equal(sl_rights_lookup(T, "Beerware", NULL, &r), SL_ENOTFOUND);
    assert_rights(&r, 0, 0, 0, 1, 1);
    assert_int_equal(sl_rights_lookup(T, "LicenseRef-Mine", NULL, &r),
                     SL_ENOTFOUND);
}

static void test_table_coverage(void **state)
{
    static const char *const must[] = {
        "CC0-1.0", "CC-PDDC", "PDDL-1.0", "Unlicense", "LicenseRef-PublicDomain",
        "MIT", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "ISC", "MPL-2.0",
        "GPL-2.0-only", "GPL-2.0-or-later", "GPL-3.0-only", "GPL-3.0-or-later",
        "LGPL-2.1-only", "LGPL-2.1-or-later", "LGPL-3.0-only",
        "LGPL-3.0-or-later", "AGPL-3.0-only", "AGPL-3.0-or-later",
        "CDLA-Permissive-1.0", "CDLA-Permissive-2.0", "CDLA-Sharing-1.0",
        "ODbL-1.0", "ODC-By-1.0", "C-UDA-1.0", "O-UDA-1.0",
        "LicenseRef-OpenRAIL", "LicenseRef-OpenRAIL-M",
        "LicenseRef-BigScience-OpenRAIL-M",
        "LicenseRef-BigScience-BLOOM-RAIL-1.0",
    };
    sl_rights r;
    size_t i, ncc = 0;

    (void)state;
    for (i = 0; i < sizeof(must) / sizeof(must[0]); i++)
        lookup(must[i], NULL, &r);
    /* every current Creative Commons BY license on the SPDX list */
    for (i = 0; i < sl_spdx_license_count(S); i++) {
        const sl_spdx_entry *en = sl_spdx_license_at(S, i);

        if (strncmp(en->id, "CC-BY-", 6) == 0 && !en->deprecated) {
            lookup(en->id, NULL, &r);
            assert_true(r.attribution_required);
            assert_int_equal(r.commercial_allowed, !strstr(en->id, "-NC"));
            assert_int_equal(r.share_alike, strstr(en->id, "-SA") != NULL);
            assert_int_equal(r.training_allowed, !strstr(en->id, "-ND"));
            ncc++;
        }
    }
    assert_true(ncc >= 50);
}

static void test_table_load_errors(void **state)
{
    static const char *const bad[] = {
        "[]",
        "{\"licenses\":{}}",
        "{\"version\":\"\",\"licenses\":{}}",
        "{\"version\":\"1\"}",
        "{\"version\":\"1\",\"licenses\":{},\"extra\":1}",
        /* not on the list, deprecated, wrong case */
        "{\"version\":\"1\",\"licenses\":{\"Foo-1.0\":{\"training_allowed\":true,"
        "\"commercial_allowed\":true,\"attribution_required\":true,"
        "\"share_alike\":false}}}",
        "{\"version\":\"1\",\"licenses\":{\"GPL-2.0\":{\"training_allowed\":true,"
        "\"commercial_allowed\":true,\"attribution_required\":true,"
        "\"share_alike\":true}}}",
        "{\"version\":\"1\",\"licenses\":{\"mit\":{\"training_allowed\":true,"
        "\"commercial_allowed\":true,\"attribution_required\":true,"
        "\"share_alike\":false}}}",
        /* a field missing, unknown, not boolean */
        "{\"version\":\"1\",\"licenses\":{\"MIT\":{\"training_allowed\":true,"
        "\"commercial_allowed\":true,\"attribution_required\":true}}}",
        "{\"version\":\"1\",\"licenses\":{\"MIT\":{\"training_allowed\":true,"
        "\"commercial_allowed\":true,\"attribution_required\":true,"
        "\"share_alike\":false,\"sharealike\":false}}}",
        "{\"version\":\"1\",\"licenses\":{\"MIT\":{\"training_allowed\":1,"
        "\"commercial_allowed\":true,\"attribution_required\":true,"
        "\"share_alike\":false}}}",
        /* duplicate key */
        "{\"version\":\"1\",\"licenses\":{\"MIT\":{\"training_allowed\":true,"
        "\"commercial_allowed\":true,\"attribution_required\":true,"
        "\"share_alike\":false},\"MIT\":{\"training_allowed\":true,"
        "\"commercial_allowed\":true,\"attribution_required\":true,"
        "\"share_alike\":false}}}",
        /* a bad LicenseRef */
        "{\"version\":\"1\",\"licenses\":{\"LicenseRef-\":{\"training_allowed\":"
        "true,\"commercial_allowed\":true,\"attribution_required\":true,"
        "\"share_alike\":false}}}",
        /* exceptions: unknown id, empty override */
        "{\"version\":\"1\",\"licenses\":{},\"exceptions\":{\"MIT\":"
        "{\"share_alike\":false}}}",
        "{\"version\":\"1\",\"licenses\":{},\"exceptions\":"
        "{\"LLVM-exception\":{}}}",
    };
    sl_rights_table *t = NULL;
    sl_err err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err.msg[0] = '\0';
        if (sl_rights_load_json(S, bad[i], strlen(bad[i]), &t, &err) == SL_OK)
            fail_msg("table %zu loaded: %s", i, bad[i]);
        assert_null(t);
        assert_true(strlen(err.msg) > 0);
    }
    err.msg[0] = '\0';
    assert_int_not_equal(sl_rights_load_json(S, bad[6], strlen(bad[6]), &t,
                                             &err), SL_OK);
    assert_non_null(strstr(err.msg, "GPL-2.0-only"));   /* names the fix */
    sl_rights_destroy(NULL);
}

static void test_exception_override(void **state)
{
    static const char table[] =
        "{\"version\":\"t1\",\"licenses\":{\"GPL-2.0-only\":"
        "{\"training_allowed\":true,\"commercial_allowed\":true,"
        "\"attribution_required\":true,\"share_alike\":true}},"
        "\"exceptions\":{\"Classpath-exception-2.0\":{\"share_alike\":false,"
        "\"note\":\"for the test\"}}}";
    sl_rights_table *t = NULL;
    sl_err err;
    sl_rights r;
    sl_spdx_expr *e;
    sl_license_verdict v;
    sl_license_policy *p;

    (void)state;
    assert_int_equal(sl_rights_load_json(S, table, strlen(table), &t, &err),
                     SL_OK);
    assert_string_equal(sl_rights_version(t), "t1");
    assert_int_equal(sl_rights_lookup(t, "GPL-2.0-only", NULL, &r), SL_OK);
    assert_rights(&r, 1, 1, 1, 1, 1);
    assert_int_equal(sl_rights_lookup(t, "GPL-2.0-only",
                                      "classpath-exception-2.0", &r), SL_OK);
    assert_rights(&r, 1, 1, 1, 1, 0);
    /* an exception without an override changes nothing */
    assert_int_equal(sl_rights_lookup(t, "GPL-2.0-only", "LLVM-exception", &r),
                     SL_OK);
    assert_rights(&r, 1, 1, 1, 1, 1);

    /* and the check uses it */
    e = parse("GPL-2.0-only WITH Classpath-exception-2.0");
    p = policy("{\"forbid\":[\"share_alike\"]}");
    assert_int_equal(sl_license_check(t, e, p, &v), SL_OK);
    assert_true(v.accepted);
    sl_license_verdict_clear(&v);
    sl_spdx_expr_destroy(e);
    e = parse("GPL-2.0-only");
    assert_int_equal(sl_license_check(t, e, p, &v), SL_OK);
    assert_false(v.accepted);
    sl_license_verdict_clear(&v);
    sl_spdx_expr_destroy(e);
    sl_license_policy_destroy(p);
    sl_rights_destroy(t);
}

/* ---- policies ---------------------------------------------------------- */

static void test_policy_parse(void **state)
{
    static const char *const bad[] = {
        "[]",
        "{\"allow\":[\"MIT\"]}",
        "{\"allowed\":[]}",
        "{\"allowed\":\"MIT\"}",
        "{\"allowed\":[\"MIT\",7]}",
        "{\"allowed\":[\"MIT OR ISC\"]}",
        "{\"allowed\":[\"No-Such-1.0\"]}",
        "{\"allowed\":[\"GPL-2.0\"]}",
        "{\"require\":[\"training\",\"fun\"]}",
        "{\"require\":\"training\"}",
        "{\"forbid\":[\"commercial\"]}",
        "{\"version\":-1}",
        "{\"version\":\"\"}",
        "{\"version\":1.5}",
        "{\"note\":3}",
        "{\"require\":[\"training\"],\"require\":[\"commercial\"]}",
        "{not json",
    };
    sl_license_policy *p = NULL;
    sl_err err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err.msg[0] = '\0';
        if (sl_license_policy_parse(S, bad[i], strlen(bad[i]), &p, &err)
            == SL_OK)
            fail_msg("policy %zu accepted: %s", i, bad[i]);
        assert_null(p);
        assert_true(strlen(err.msg) > 0);
    }
    assert_int_not_equal(sl_license_policy_parse(S, bad[7], strlen(bad[7]),
                                                 &p, &err), SL_OK);
    assert_non_null(strstr(err.msg, "use GPL-2.0-only"));

    /* without the list, ids are taken as patterns unchecked */
    assert_int_equal(sl_license_policy_parse(NULL, bad[6], strlen(bad[6]), &p,
                                             &err), SL_OK);
    sl_license_policy_destroy(p);

    p = policy("{\"version\":\"2026-q4\",\"allowed\":[\"mit\",\"CC-BY-*\","
               "\"LicenseRef-Mine\"],\"require\":[\"training\",\"commercial\"],"
               "\"forbid\":[\"share_alike\",\"attribution\"],\"note\":\"x\"}");
    assert_string_equal(json_string_value(sl_license_policy_version(p)),
                        "2026-q4");
    sl_license_policy_destroy(p);
    p = policy("{}");
    assert_null(sl_license_policy_version(p));
    sl_license_policy_destroy(p);
    assert_null(sl_license_policy_version(NULL));
    sl_license_policy_destroy(NULL);
}

/* ---- evaluation -------------------------------------------------------- */

static void test_no_policy(void **state)
{
    sl_license_verdict v;

    (void)state;
    check("MIT", NULL, &v);
    assert_true(v.accepted);
    assert_string_equal(v.chosen, "MIT");
    assert_rights(&v.rights, 1, 1, 1, 1, 0);
    sl_license_verdict_clear(&v);

    /* unknown rights pass when nothing is required */
    check("LicenseRef-Mine", "{}", &v);
    assert_true(v.accepted);
    assert_rights(&v.rights, 0, 0, 0, 1, 1);
    sl_license_verdict_clear(&v);
    sl_license_verdict_clear(NULL);
}

static void test_single_license(void **state)
{
    static const char commercial[] = "{\"require\":[\"commercial\"]}";

    (void)state;
    expect_accept("CC-BY-4.0", commercial, "CC-BY-4.0");
    expect_reject("CC-BY-NC-4.0", commercial,
                  "'CC-BY-NC-4.0' is not allowed by the dataset's license "
                  "policy: CC-BY-NC-4.0: commercial use not allowed", NULL);
    expect_reject("CC-BY-ND-4.0", "{\"require\":[\"training\"]}",
                  "CC-BY-ND-4.0: training not allowed", NULL);
    expect_reject("CC-BY-NC-ND-4.0",
                  "{\"require\":[\"training\",\"commercial\"]}",
                  "CC-BY-NC-ND-4.0: training not allowed, commercial use not "
                  "allowed", NULL);
    expect_reject("GPL-3.0-only", "{\"forbid\":[\"share_alike\"]}",
                  "GPL-3.0-only: share-alike, which the policy forbids", NULL);
    expect_reject("MIT", "{\"forbid\":[\"attribution\"]}",
                  "MIT: requires attribution, which the policy forbids", NULL);
    expect_accept("CC0-1.0", "{\"require\":[\"training\",\"commercial\"],"
                  "\"forbid\":[\"share_alike\",\"attribution\"]}", "CC0-1.0");
}

static void test_or_picks_a_satisfying_branch(void **state)
{
    static const char pol[] = "{\"require\":[\"training\",\"commercial\"]}";
    sl_license_verdict v;

    (void)state;
    /* any operand may satisfy; the one that does is reported */
    expect_accept("CC-BY-NC-4.0 OR MIT", pol, "MIT");
    expect_accept("MIT OR CC-BY-NC-4.0", pol, "MIT");
    expect_accept("GPL-3.0-only OR Apache-2.0",
                  "{\"forbid\":[\"share_alike\"]}", "Apache-2.0");
    /* none does: each operand's failure is named */
    expect_reject("CC-BY-NC-4.0 OR CC-BY-ND-4.0", pol,
                  "(no alternative qualifies)",
                  "CC-BY-NC-4.0: commercial use not allowed",
                  "CC-BY-ND-4.0: training not allowed", NULL);

    /* among satisfying operands the least restricted wins, ties go to the
     * first written */
    expect_accept("MIT OR CC0-1.0", NULL, "CC0-1.0");
    expect_accept("CC-BY-SA-4.0 OR CC-BY-4.0", pol, "CC-BY-4.0");
    expect_accept("MIT OR ISC", NULL, "MIT");
    expect_accept("ISC OR MIT", NULL, "ISC");

    /* rejected: the rights shown are the expression's best alternative */
    check("CC-BY-NC-4.0 OR CC-BY-NC-SA-4.0", pol, &v);
    assert_false(v.accepted);
    assert_string_equal(v.chosen, "CC-BY-NC-4.0");
    assert_rights(&v.rights, 1, 1, 0, 1, 0);
    sl_license_verdict_clear(&v);
}

static void test_and_requires_all(void **state)
{
    sl_license_verdict v;

    (void)state;
    /* rights combine: allowed only if all allow, required if any requires */
    check("MIT AND CC-BY-SA-4.0", NULL, &v);
    assert_true(v.accepted);
    assert_string_equal(v.chosen, "MIT AND CC-BY-SA-4.0");
    assert_rights(&v.rights, 1, 1, 1, 1, 1);
    sl_license_verdict_clear(&v);

    check("CC-BY-4.0 AND CC-BY-NC-4.0", NULL, &v);
    assert_rights(&v.rights, 1, 1, 0, 1, 0);
    sl_license_verdict_clear(&v);

    check("CC0-1.0 AND PDDL-1.0", NULL, &v);
    assert_rights(&v.rights, 1, 1, 1, 0, 0);
    sl_license_verdict_clear(&v);

    check("CC-BY-ND-4.0 AND CC0-1.0", NULL, &v);
    assert_rights(&v.rights, 1, 0, 1, 1, 0);
    sl_license_verdict_clear(&v);

    /* only the failing operand is blamed */
    check("CC-BY-4.0 AND CC-BY-NC-4.0", "{\"require\":[\"commercial\"]}", &v);
    assert_false(v.accepted);
    assert_non_null(strstr(v.detail, "CC-BY-NC-4.0: commercial use not "
                           "allowed"));
    assert_null(strstr(v.detail, "CC-BY-4.0:"));
    assert_null(strstr(v.detail, "no alternative"));
    sl_license_verdict_clear(&v);
}

static void test_nested(void **state)
{
    static const char e[] =
        "(CC-BY-NC-4.0 OR MIT) AND (GPL-3.0-only OR Apache-2.0)";
    sl_license_verdict v;

    (void)state;
    expect_accept(e, "{\"require\":[\"commercial\"],"
                  "\"forbid\":[\"share_alike\"]}", "MIT AND Apache-2.0");
    /* with no policy each OR still picks its least restricted operand */
    expect_accept(e, NULL, "MIT AND Apache-2.0");
    expect_accept(e, "{\"allowed\":[\"CC-BY-*\",\"GPL-*\"]}",
                  "CC-BY-NC-4.0 AND GPL-3.0-only");
    expect_reject(e, "{\"require\":[\"commercial\"],"
                  "\"forbid\":[\"attribution\"]}",
                  "no alternative of (CC-BY-NC-4.0 OR MIT) qualifies: "
                  "CC-BY-NC-4.0: commercial use not allowed, requires "
                  "attribution, which the policy forbids; MIT: requires "
                  "attribution",
                  "no alternative of (GPL-3.0-only OR Apache-2.0) qualifies",
                  NULL);
    /* the branch tree is the expression with each OR resolved */
    check("MIT OR (ISC AND (CC-BY-NC-4.0 OR CC0-1.0))",
          "{\"forbid\":[\"attribution\"]}", &v);
    assert_false(v.accepted);       /* ISC requires attribution */
    sl_license_verdict_clear(&v);
    check("CC-BY-NC-4.0 OR (CC0-1.0 AND (CC-BY-NC-4.0 OR PDDL-1.0))",
          "{\"require\":[\"commercial\"]}", &v);
    assert_true(v.accepted);
    assert_string_equal(v.chosen, "CC0-1.0 AND PDDL-1.0");
    assert_int_equal(sl_spdx_expr_kind(v.branch), SL_SPDX_AND);
    assert_int_equal(sl_spdx_expr_count(v.branch), 2);
    sl_license_verdict_clear(&v);
}

static void test_unknown_rights(void **state)
{
    sl_license_verdict v;

    (void)state;
    expect_reject("LicenseRef-Mine", "{\"require\":[\"training\"]}",
                  "LicenseRef-Mine: rights unknown (not in rights table", NULL);
    expect_reject("Beerware", "{\"forbid\":[\"attribution\"]}",
                  "Beerware: rights unknown", NULL);
    expect_accept("LicenseRef-Mine OR CC-BY-4.0",
                  "{\"require\":[\"training\"]}", "CC-BY-4.0");
    /* known rights are preferred even without a policy */
    expect_accept("LicenseRef-Mine OR CC-BY-NC-ND-4.0", NULL,
                  "CC-BY-NC-ND-4.0");
    /* an AND with an unknown license has unknown rights */
    check("LicenseRef-Mine AND MIT", NULL, &v);
    assert_true(v.accepted);
    assert_rights(&v.rights, 0, 0, 0, 1, 1);
    sl_license_verdict_clear(&v);
    /* an allowed list alone can admit it */
    expect_accept("LicenseRef-Mine", "{\"allowed\":[\"LicenseRef-Mine\"]}",
                  "LicenseRef-Mine");
}

static void test_allowed_patterns(void **state)
{
    static const char cc[] = "{\"allowed\":[\"CC-BY-*\",\"CC0-1.0\"]}";

    (void)state;
    expect_accept("CC-BY-SA-4.0", cc, "CC-BY-SA-4.0");
    expect_accept("cc0-1.0", cc, "CC0-1.0");
    expect_reject("MIT", cc,
                  "MIT: not among the dataset's allowed licenses", NULL);
    expect_accept("MIT OR CC-BY-4.0", cc, "CC-BY-4.0");
    expect_reject("MIT AND CC-BY-4.0", cc, "MIT: not among", NULL);
    /* '?' is one character; matching ignores case */
    expect_accept("CC-BY-4.0", "{\"allowed\":[\"cc-by-?.0\"]}", "CC-BY-4.0");
    expect_reject("CC-BY-SA-4.0", "{\"allowed\":[\"cc-by-?.0\"]}",
                  "not among", NULL);
    /* the id is matched without '+' and without the exception */
    expect_accept("CC-BY-3.0+", "{\"allowed\":[\"CC-BY-3.0\"]}", "CC-BY-3.0+");
    expect_accept("GPL-2.0-or-later WITH Classpath-exception-2.0",
                  "{\"allowed\":[\"GPL-*\"]}",
                  "GPL-2.0-or-later WITH Classpath-exception-2.0");
    /* an allowed list and rights requirements both apply */
    expect_reject("CC-BY-NC-4.0", "{\"allowed\":[\"CC-BY-*\"],"
                  "\"require\":[\"commercial\"]}",
                  "CC-BY-NC-4.0: commercial use not allowed", NULL);
    expect_reject("Apache-2.0", "{\"allowed\":[\"CC-*\"],"
                  "\"require\":[\"commercial\"]}",
                  "Apache-2.0: not among the dataset's allowed licenses", NULL);
}

static void test_plus_and_with_rights(void **state)
{
    sl_license_verdict v;

    (void)state;
    /* '+' is evaluated as the named version */
    check("CC-BY-NC-3.0+", NULL, &v);
    assert_rights(&v.rights, 1, 1, 0, 1, 0);
    sl_license_verdict_clear(&v);
    /* a WITH exception leaves the rights alone unless the table says */
    check("GPL-2.0-only WITH Classpath-exception-2.0", NULL, &v);
    assert_rights(&v.rights, 1, 1, 1, 1, 1);
    sl_license_verdict_clear(&v);
    check("Apache-2.0 WITH LLVM-exception", NULL, &v);
    assert_rights(&v.rights, 1, 1, 1, 1, 0);
    sl_license_verdict_clear(&v);
}

static void test_detail_is_capped(void **state)
{
    char expr[4096];
    size_t n = 0;
    sl_license_verdict v;

    (void)state;
    n += (size_t)snprintf(expr + n, sizeof(expr) - n, "CC-BY-NC-4.0");
    for (int i = 0; i < 60; i++)
        n += (size_t)snprintf(expr + n, sizeof(expr) - n,
                              " OR CC-BY-NC-SA-4.0");
    check(expr, "{\"require\":[\"commercial\"]}", &v);
    assert_false(v.accepted);
    assert_int_equal(strlen(v.detail), SL_LICENSE_DETAIL_MAX - 1);
    assert_string_equal(v.detail + SL_LICENSE_DETAIL_MAX - 4, "...");
    sl_license_verdict_clear(&v);
}

/* ---- the bound record -------------------------------------------------- */

static json_t *record(const char *expr, const char *pjson,
                      const char *terms_url, const char *attribution)
{
    sl_spdx_expr *e = parse(expr);
    sl_license_policy *p = pjson ? policy(pjson) : NULL;
    sl_license_verdict v;
    json_error_t je;
    json_t *j;
    char *s;

    assert_int_equal(sl_license_check(T, e, p, &v), SL_OK);
    assert_true(v.accepted);
    s = sl_license_record(S, T, e, &v, p, terms_url, attribution);
    assert_non_null(s);
    /* compact, keys sorted: the same record always has the same bytes */
    assert_null(strchr(s, '\n'));
    assert_null(strstr(s, ", "));
    j = json_loads(s, 0, &je);
    assert_non_null(j);
    if (attribution)
        assert_true(strncmp(s, "{\"attribution\":", 15) == 0);
    free(s);
    sl_license_verdict_clear(&v);
    sl_license_policy_destroy(p);
    sl_spdx_expr_destroy(e);
    return j;
}

static void test_record(void **state)
{
    json_t *j, *r, *l;

    (void)state;
    j = record("mit OR CC-BY-NC-4.0", "{\"version\":7,"
               "\"require\":[\"commercial\"]}", NULL, "Alice Example");
    assert_int_equal(json_integer_value(json_object_get(j, "version")), 1);
    assert_string_equal(sl_json_str(j, "expression"), "MIT OR CC-BY-NC-4.0");
    assert_string_equal(sl_json_str(j, "chosen"), "MIT");
    assert_int_equal(json_integer_value(json_object_get(j, "policy_version")),
                     7);
    assert_string_equal(sl_json_str(j, "spdx_list_version"), "3.29.0");
    assert_string_equal(sl_json_str(j, "rights_table_version"), sl_rights_version(T));
    assert_string_equal(sl_json_str(j, "attribution"), "Alice Example");
    assert_string_equal(sl_json_str(j, "terms_url"),
                        "https://spdx.org/licenses/MIT.html");
    r = json_object_get(j, "rights");
    assert_true(json_is_true(json_object_get(r, "known")));
    assert_true(json_is_true(json_object_get(r, "training_allowed")));
    assert_true(json_is_true(json_object_get(r, "commercial_allowed")));
    assert_true(json_is_true(json_object_get(r, "attribution_required")));
    assert_true(json_is_false(json_object_get(r, "share_alike")));
    l = json_object_get(j, "licenses");
    assert_int_equal(json_array_size(l), 1);
    assert_string_equal(sl_json_str(json_array_get(l, 0), "id"), "MIT");
    assert_string_equal(sl_json_str(json_array_get(l, 0), "name"), "MIT License");
    json_decref(j);

    /* the creator's terms URL wins; a compound branch lists each license;
     * no policy gives a null policy version */
    j = record("GPL-2.0-or-later WITH Classpath-exception-2.0 AND "
               "LicenseRef-Mine", NULL, "https://example.org/terms", NULL);
    assert_string_equal(sl_json_str(j, "terms_url"), "https://example.org/terms");
    assert_true(json_is_null(json_object_get(j, "policy_version")));
    assert_null(json_object_get(j, "attribution"));
    l = json_object_get(j, "licenses");
    assert_int_equal(json_array_size(l), 2);
    assert_string_equal(sl_json_str(json_array_get(l, 0), "exception"),
                        "Classpath-exception-2.0");
    assert_string_equal(sl_json_str(json_array_get(l, 0), "terms_url"),
                        "https://spdx.org/licenses/GPL-2.0-or-later.html");
    assert_string_equal(sl_json_str(json_array_get(l, 1), "id"), "LicenseRef-Mine");
    assert_null(json_object_get(json_array_get(l, 1), "name"));
    assert_true(json_is_false(json_object_get(json_object_get(j, "rights"),
                                              "known")));
    json_decref(j);

    /* a compound choice has no single terms URL */
    j = record("MIT AND ISC", "{\"version\":\"v2\"}", NULL, NULL);
    assert_null(json_object_get(j, "terms_url"));
    assert_string_equal(sl_json_str(j, "policy_version"), "v2");
    json_decref(j);

    j = record("CC-BY-3.0+", NULL, NULL, NULL);
    l = json_object_get(j, "licenses");
    assert_true(json_is_true(json_object_get(json_array_get(l, 0),
                                             "or_later")));
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_values),
        cmocka_unit_test(test_table_coverage),
        cmocka_unit_test(test_table_load_errors),
        cmocka_unit_test(test_exception_override),
        cmocka_unit_test(test_policy_parse),
        cmocka_unit_test(test_no_policy),
        cmocka_unit_test(test_single_license),
        cmocka_unit_test(test_or_picks_a_satisfying_branch),
        cmocka_unit_test(test_and_requires_all),
        cmocka_unit_test(test_nested),
        cmocka_unit_test(test_unknown_rights),
        cmocka_unit_test(test_allowed_patterns),
        cmocka_unit_test(test_plus_and_with_rights),
        cmocka_unit_test(test_detail_is_capped),
        cmocka_unit_test(test_record),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
