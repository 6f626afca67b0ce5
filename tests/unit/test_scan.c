/*
 * test_scan.c -- the scan processor (services/scan/scan.c) without a
 * broker: sl_scan_decide / sl_scan_decide_lists on bytes, and
 * sl_scan_process on hand-built messages with an in-memory dataset
 * registry (the sl_scan_lookup interface, both callbacks).
 *
 * Covered: every outcome (accepted, redacted, flagged, rejected with each
 * reason code the stage gives: type_mismatch, type_not_allowed,
 * pii_blocked, secret_blocked, deny_listed, scan_budget_exceeded,
 * dataset_unknown, meta_invalid), every action (block, flag, redact,
 * allow) as a rule's default and as a dataset's override, the dataset's
 * allow-list and deny-list (exact and patterns, compiled and cached by
 * their text, a changed list taking effect), the list parser's refusals,
 * and the work budget charged by the lists.  Secret-looking strings are
 * built at run time by concatenation: no file holds one.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fixtures.h"
#include "scan.h"
#include "scanlists.h"
#include "sl/crypto.h"
#include "sl/msg.h"

/* ---- helpers ------------------------------------------------------------ */

static sl_scan *stage_with(const sl_scan_lookup *lk, const char *const *opts)
{
    sl_config *cfg = fx_config(sl_scan_config);
    sl_scan *s = NULL;
    sl_err err;

    for (size_t i = 0; opts && opts[i]; i += 2)
        assert_int_equal(sl_config_set(cfg, opts[i], opts[i + 1], &err), SL_OK);
    assert_int_equal(sl_scan_new(&s, cfg, lk, &err), SL_OK);
    sl_config_destroy(cfg);
    return s;
}

/* The stage's own path, sl_scan_decide_text, decides bytes the same and
 * writes the summary byte for byte as json_dumps writes rep's tree (the
 * header's text, with or without jansson's tree behind it). */
static void same_as_text(sl_scan *s, sl_slice bytes, const char *declared,
                         const char *allowed, const char *actions,
                         const char *lists, const sl_scan_report *rep)
{
    sl_scan_report t;
    char *want;

    sl_scan_report_init(&t);
    assert_int_equal(sl_scan_decide_text(s, bytes, declared, allowed, actions,
                                         lists, &t), SL_OK);
    assert_null(t.summary);
    assert_non_null(t.summary_text);
    assert_non_null(want = json_dumps(rep->summary,
                                      JSON_COMPACT | JSON_REAL_PRECISION(4)));
    assert_string_equal(t.summary_text, want);
    assert_string_equal(t.outcome, rep->outcome);
    if (rep->code)
        assert_string_equal(t.code, rep->code);
    else
        assert_null(t.code);
    assert_string_equal(t.detail, rep->detail);
    assert_int_equal(t.redacted.len, rep->redacted.len);
    if (t.redacted.len)
        assert_memory_equal(t.redacted.data, rep->redacted.data, t.redacted.len);
    free(want);
    sl_scan_report_free(&t);
}

/* Decides text (declared text/plain) under the dataset's settings, both
 * ways (same_as_text). */
static void decide(sl_scan *s, const char *text, const char *allowed,
                   const char *actions, const char *lists, sl_scan_report *rep)
{
    sl_slice b = { (const uint8_t *)text, strlen(text) };

    assert_int_equal(sl_scan_decide_lists(s, b, "text/plain", allowed,
                                          actions, lists, rep), SL_OK);
    same_as_text(s, b, "text/plain", allowed, actions, lists, rep);
}

static const char *sum_str(const sl_scan_report *rep, const char *key)
{
    return json_string_value(json_object_get(rep->summary, key));
}

static json_int_t total(const sl_scan_report *rep)
{
    return json_integer_value(json_object_get(rep->summary, "findings_total"));
}

/* Finding i's member key as a string. */
static const char *finding(const sl_scan_report *rep, size_t i, const char *key)
{
    return json_string_value(json_object_get(json_array_get(
        json_object_get(rep->summary, "findings"), i), key));
}

static json_int_t finding_int(const sl_scan_report *rep, size_t i, const char *key)
{
    return json_integer_value(json_object_get(json_array_get(
        json_object_get(rep->summary, "findings"), i), key));
}

/* AWS's documented example key id, AKIA + IOSFODNN7EXAMPLE. */
static void aws_example(char out[21])
{
    snprintf(out, 21, "%s%s%s", "AK", "IA", "IOSFODNN7EXAMPLE");
}

/* ---- sl_scan_decide: outcomes and actions ------------------------------- */

static void test_outcomes(void **state)
{
    sl_scan *s = stage_with(NULL, NULL);
    sl_scan_report rep;
    char key[21], text[96];

    (void)state;
    sl_scan_report_init(&rep);
    decide(s, "nothing personal here\n", NULL, NULL, NULL, &rep);
    assert_string_equal(rep.outcome, "accepted");
    assert_null(rep.code);
    assert_int_equal(total(&rep), 0);
    assert_string_equal(sum_str(&rep, "detected_type"), "text/plain");

    /* email: redact */
    decide(s, "write to jane.doe@example.org please", NULL, NULL, NULL, &rep);
    assert_string_equal(rep.outcome, "redacted");
    assert_int_equal(rep.redacted.len, strlen("write to [REDACTED:EMAIL] please"));
    assert_memory_equal(rep.redacted.data, "write to [REDACTED:EMAIL] please",
                        rep.redacted.len);
    assert_string_equal(finding(&rep, 0, "rule"), "email");
    assert_string_equal(finding(&rep, 0, "action"), "redact");
    assert_int_equal(finding_int(&rep, 0, "offset"), 9);
    assert_int_equal(finding_int(&rep, 0, "length"), 20);

    /* ipv4: flag */
    decide(s, "the host is 203.0.113.7, see logs", NULL, NULL, NULL, &rep);
    assert_string_equal(rep.outcome, "flagged");
    assert_string_equal(sum_str(&rep, "flag_reason"), "a rule's action is flag");
    assert_string_equal(finding(&rep, 0, "rule"), "ipv4");
    assert_int_equal(rep.redacted.len, 0);

    /* SSN: block, pii */
    decide(s, "ssn 123-45-6789", NULL, NULL, NULL, &rep);
    assert_string_equal(rep.outcome, "rejected");
    assert_string_equal(rep.code, "pii_blocked");
    assert_string_equal(rep.detail, "rule us_ssn (us_ssn) matched in content at "
                        "byte 4, length 11");
    assert_string_equal(sum_str(&rep, "reason"), "pii_blocked");

    /* an AWS key id: block, secret (wins over a PII block) */
    aws_example(key);
    snprintf(text, sizeof(text), "ssn 123-45-6789 key %s", key);
    decide(s, text, NULL, NULL, NULL, &rep);
    assert_string_equal(rep.code, "secret_blocked");
    assert_int_equal(total(&rep), 2);

    /* the type checks come first */
    decide(s, "plain words", NULL, NULL, NULL, &rep);
    assert_int_equal(sl_scan_decide(s, (sl_slice){ (const uint8_t *)"plain words", 11 },
                                    "image/png", NULL, NULL, &rep), SL_OK);
    assert_string_equal(rep.code, "type_mismatch");
    assert_string_equal(rep.detail, "declared image/png, but the content is "
                        "text/plain");
    decide(s, "plain words", "image/*", NULL, NULL, &rep);
    assert_string_equal(rep.outcome, "rejected");
    assert_string_equal(rep.code, "type_not_allowed");
    assert_string_equal(rep.detail, "text/plain (text) is not among the "
                        "dataset's allowed types (image/*)");
    sl_scan_report_free(&rep);
    sl_scan_destroy(s);
}

static void test_action_overrides(void **state)
{
    sl_scan *s = stage_with(NULL, NULL);
    sl_scan_report rep;
    char key[21], text[64];

    (void)state;
    sl_scan_report_init(&rep);
    decide(s, "mail jane.doe@example.org", NULL, "{\"email\":\"block\"}", NULL, &rep);
    assert_string_equal(rep.code, "pii_blocked");
    decide(s, "mail jane.doe@example.org", NULL, "{\"email\":\"flag\"}", NULL, &rep);
    assert_string_equal(rep.outcome, "flagged");
    decide(s, "mail jane.doe@example.org", NULL, "{\"email\":\"allow\"}", NULL, &rep);
    assert_string_equal(rep.outcome, "accepted");
    assert_int_equal(total(&rep), 1);            /* listed, with its action */
    assert_string_equal(finding(&rep, 0, "action"), "allow");
    decide(s, "ssn 123-45-6789", NULL, "{\"us_ssn\":\"allow\"}", NULL, &rep);
    assert_string_equal(rep.outcome, "accepted");
    decide(s, "ssn 123-45-6789", NULL, "{\"us_ssn\":\"redact\"}", NULL, &rep);
    assert_string_equal(rep.outcome, "redacted");
    assert_memory_equal(rep.redacted.data, "ssn [REDACTED:US_SSN]", rep.redacted.len);
    decide(s, "host 203.0.113.7", NULL, "{\"ipv4\":\"redact\"}", NULL, &rep);
    assert_string_equal(rep.outcome, "redacted");
    assert_memory_equal(rep.redacted.data, "host [REDACTED:IP_ADDRESS]",
                        rep.redacted.len);
    aws_example(key);
    snprintf(text, sizeof(text), "id=%s", key);
    decide(s, text, NULL, "{\"aws_access_key_id\":\"flag\"}", NULL, &rep);
    assert_string_equal(rep.outcome, "flagged");
    /* unknown rules and actions are ignored: the defaults hold */
    decide(s, "ssn 123-45-6789", NULL, "{\"no_such_rule\":\"allow\","
           "\"us_ssn\":\"maybe\"}", NULL, &rep);
    assert_string_equal(rep.code, "pii_blocked");
    /* back to the defaults */
    decide(s, "mail jane.doe@example.org", NULL, NULL, NULL, &rep);
    assert_string_equal(rep.outcome, "redacted");
    sl_scan_report_free(&rep);
    sl_scan_destroy(s);
}

/* ---- the dataset's lists ----------------------------------------------- */

static void test_allow_list(void **state)
{
    static const char lists[] =
        "{\"allow\":[\"+1 800 555 0199\"],"
        "\"allow_patterns\":[\"AKIA[A-Z0-9]{9}EXAMPLE\"]}";
    sl_scan *s = stage_with(NULL, NULL);
    sl_scan_report rep;
    char key[21], text[128];

    (void)state;
    sl_scan_report_init(&rep);
    /* without the list: the support number is redacted */
    decide(s, "call us at +1 800 555 0199 today", NULL, NULL, NULL, &rep);
    assert_string_equal(rep.outcome, "redacted");
    assert_string_equal(finding(&rep, 0, "entity"), "phone");
    /* with it: not a finding */
    decide(s, "call us at +1 800 555 0199 today", NULL, NULL, lists, &rep);
    assert_string_equal(rep.outcome, "accepted");
    assert_int_equal(total(&rep), 0);
    /* another number is still one; only it is redacted */
    decide(s, "call +1 800 555 0199 or +1 415 555 0123", NULL, NULL, lists, &rep);
    assert_string_equal(rep.outcome, "redacted");
    assert_int_equal(total(&rep), 1);
    assert_memory_equal(rep.redacted.data, "call +1 800 555 0199 or [REDACTED:PHONE]",
                        rep.redacted.len);
    /* the pattern allows the documented example key, whole matches only */
    aws_example(key);
    snprintf(text, sizeof(text), "export AWS_ACCESS_KEY_ID=%s", key);
    decide(s, text, NULL, NULL, lists, &rep);
    assert_string_equal(rep.outcome, "accepted");
    snprintf(text, sizeof(text), "export AWS_ACCESS_KEY_ID=%s%s%s", "AKIA",
             "Q3T7WX2P5M8RZ4HB", "");
    decide(s, text, NULL, NULL, lists, &rep);
    assert_string_equal(rep.code, "secret_blocked");
    sl_scan_report_free(&rep);
    sl_scan_destroy(s);
}

static void test_deny_list(void **state)
{
    static const char lists[] =
        "{\"deny\":[\"Project Nightingale\"],"
        "\"deny_patterns\":[\"(?i)internal[- ]only\"],"
        "\"allow\":[\"Project Nightingale\"]}";
    static const char text[] = "INTERNAL ONLY: Project Nightingale notes "
                               "(internal-only)";
    sl_scan *s = stage_with(NULL, NULL);
    sl_scan_report rep;

    (void)state;
    sl_scan_report_init(&rep);
    decide(s, text, NULL, NULL, NULL, &rep);
    assert_string_equal(rep.outcome, "accepted");
    /* default action: flag; strings first, then patterns, in order */
    decide(s, text, NULL, NULL, lists, &rep);
    assert_string_equal(rep.outcome, "flagged");
    assert_int_equal(total(&rep), 3);
    assert_string_equal(finding(&rep, 0, "rule"), "dataset_deny");
    assert_string_equal(finding(&rep, 0, "kind"), "deny");
    assert_int_equal(finding_int(&rep, 0, "offset"), 15);
    assert_int_equal(finding_int(&rep, 0, "length"), 19);
    assert_int_equal(finding_int(&rep, 1, "offset"), 0);
    assert_int_equal(finding_int(&rep, 1, "length"), 13);
    assert_int_equal(finding_int(&rep, 2, "offset"), 42);
    assert_int_equal(finding_int(&rep, 2, "length"), 13);
    /* block: its own code */
    decide(s, text, NULL, "{\"dataset_deny\":\"block\"}", lists, &rep);
    assert_string_equal(rep.code, "deny_listed");
    assert_string_equal(rep.detail, "the dataset's deny-list matched in content "
                        "at byte 15, length 19");
    /* redact: flagged (nothing to redact it to) */
    decide(s, text, NULL, "{\"dataset_deny\":\"redact\"}", lists, &rep);
    assert_string_equal(rep.outcome, "flagged");
    /* allow: listed, passed */
    decide(s, text, NULL, "{\"dataset_deny\":\"allow\"}", lists, &rep);
    assert_string_equal(rep.outcome, "accepted");
    assert_int_equal(total(&rep), 3);
    /* a PII block still wins over a deny flag */
    decide(s, "Project Nightingale ssn 123-45-6789", NULL, NULL, lists, &rep);
    assert_string_equal(rep.code, "pii_blocked");
    /* a changed list is compiled afresh (the cache is keyed by the text) */
    decide(s, text, NULL, NULL, "{\"deny\":[\"notes\"]}", &rep);
    assert_string_equal(rep.outcome, "flagged");
    assert_int_equal(total(&rep), 1);
    assert_int_equal(finding_int(&rep, 0, "offset"), 35);
    decide(s, text, NULL, NULL, "{}", &rep);
    assert_string_equal(rep.outcome, "accepted");
    /* a list that does not compile is ignored */
    decide(s, text, NULL, NULL, "{\"deny_patterns\":[\"(\"]}", &rep);
    assert_string_equal(rep.outcome, "accepted");
    sl_scan_report_free(&rep);
    sl_scan_destroy(s);
}

static void test_lists_parse(void **state)
{
    static const struct { const char *json, *msg; } bad[] = {
        { "[]", "scan lists: not a JSON object" },
        { "{\"allowed\":[]}", "scan lists: unknown key \"allowed\" (allow, "
          "allow_patterns, deny, deny_patterns)" },
        { "{\"deny\":\"x\"}", "scan lists: \"deny\" is not an array of strings" },
        { "{\"deny\":[\"a\",\"\"]}", "scan lists: \"deny\" entry 1 is not a "
          "string of 1 to 1024 bytes without NUL" },
        { "{\"allow\":[\"a\\u0000b\"]}", "scan lists: not a JSON object" },
        { "{\"allow\":[7]}", "scan lists: \"allow\" entry 0 is not a string of "
          "1 to 1024 bytes without NUL" },
        { "{\"deny_patterns\":[\"ok\",\"a(b\"]}", "scan lists: \"deny_patterns\" "
          "entry 1: pattern error at offset 3: missing closing parenthesis" },
        { "{\"deny_patterns\":[\"x*\"]}", "scan lists: \"deny_patterns\" entry 0 "
          "matches the empty string" },
        { "{\"allow_patterns\":[\"(*UTF)\\\\x{100}\"]}", NULL },
    };
    sl_scanlists *l;
    sl_err err;
    char *big;
    size_t n = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err.msg[0] = '\0';
        assert_int_equal(sl_scanlists_compile(&l, bad[i].json, strlen(bad[i].json),
                                              &err), SL_EINVAL);
        assert_null(l);
        if (bad[i].msg)
            assert_string_equal(err.msg, bad[i].msg);
        else   /* UTF mode is refused, whatever the pattern asks */
            assert_non_null(strstr(err.msg, "pattern error"));
    }
    /* 257 entries */
    big = malloc(257 * 6 + 16);
    n += (size_t)sprintf(big, "{\"deny\":[");
    for (int i = 0; i < 257; i++)
        n += (size_t)sprintf(big + n, "%s\"%03d\"", i ? "," : "", i);
    sprintf(big + n, "]}");
    assert_int_equal(sl_scanlists_compile(&l, big, strlen(big), &err), SL_EINVAL);
    assert_string_equal(err.msg, "scan lists: \"deny\" has 257 entries, at most 256");
    free(big);
    /* a good one */
    static const char good[] = "{\"allow\":[\"a\",\"b\"],"
                               "\"allow_patterns\":[\"c+\"],\"deny\":[\"d\"]}";
    assert_int_equal(sl_scanlists_compile(&l, good, strlen(good), &err), SL_OK);
    assert_int_equal(sl_scanlists_allow_count(l), 3);
    assert_int_equal(sl_scanlists_deny_count(l), 1);
    assert_int_equal(sl_scanlists_allowed(l, (const uint8_t *)"ccc", 3, NULL), 1);
    assert_int_equal(sl_scanlists_allowed(l, (const uint8_t *)"ccd", 3, NULL), 0);
    assert_int_equal(sl_scanlists_allowed(l, (const uint8_t *)"b", 1, NULL), 1);
    assert_int_equal(sl_scanlists_allowed(l, (const uint8_t *)"bb", 2, NULL), 0);
    sl_scanlists_destroy(l);
}

/* A deny pattern that backtracks without end runs out of the sample's
 * budget, named by its list, as a rule's would. */
static void test_lists_budget(void **state)
{
    static const char *const limit[] = { "scan.budget.match.limit", "10000", NULL };
    static const char lists[] = "{\"deny_patterns\":[\"(a+)+b\"]}";
    sl_scan *s = stage_with(NULL, limit);
    sl_scan_report rep;
    char text[64];

    (void)state;
    memset(text, 'a', sizeof(text) - 3);      /* a...acb */
    memcpy(text + sizeof(text) - 3, "cb", 3);
    sl_scan_report_init(&rep);
    decide(s, text, NULL, NULL, lists, &rep);
    assert_string_equal(rep.code, "scan_budget_exceeded");
    assert_string_equal(rep.detail, "scan work budget exceeded in regex: rule "
                        "deny_patterns reached the match limit of 10000 "
                        "(scan.budget.match.limit)");
    decide(s, text, NULL, "{\"scan_budget\":\"flag\"}", lists, &rep);
    assert_string_equal(rep.outcome, "flagged");
    assert_string_equal(sum_str(&rep, "reason"), "scan_budget_exceeded");
    /* the same text without the list is clean */
    decide(s, text, NULL, NULL, NULL, &rep);
    assert_string_equal(rep.outcome, "accepted");
    sl_scan_report_free(&rep);
    sl_scan_destroy(s);
}

/* ---- sl_scan_process with an in-memory registry ------------------------- */

typedef struct mem_ds {
    const char *allowed, *actions, *lists;
    int fail;                    /* the registry is down */
    int calls;
} mem_ds;

static int mem_dataset_lists(void *u, const char *id, const char **allowed,
                             const char **actions, const char **lists)
{
    mem_ds *d = u;

    d->calls++;
    if (d->fail)
        return SL_EIO;
    if (strcmp(id, "ds") != 0)
        return SL_ENOTFOUND;
    *allowed = d->allowed;
    *actions = d->actions;
    *lists = d->lists;
    return SL_OK;
}

static int mem_dataset(void *u, const char *id, const char **allowed,
                       const char **actions)
{
    const char *lists;

    return mem_dataset_lists(u, id, allowed, actions, &lists);
}

static json_t *scan_header(const sl_out *o)
{
    sl_slice v;

    assert_int_equal(sl_out_header(o, SL_H_SCAN, &v), SL_OK);
    return json_loadb((const char *)v.ptr, v.len, 0, NULL);
}

/* Processes text as an upload to dataset; returns the verdict. */
static sl_verdict process(sl_scan *s, const char *dataset, const char *text,
                          sl_out *out)
{
    char *meta = fx_meta("u-1", "c-1", dataset, NULL);
    fx_msg m;
    sl_verdict v;

    fx_msg_init(&m, "u-1", text, strlen(text));
    fx_msg_header_str(&m, SL_H_META, meta);
    sl_out_reset(out);
    v = sl_scan_process(s, &m.msg, out);
    fx_msg_free(&m);
    free(meta);
    return v;
}

/* The summary written without jansson's tree (a sample with no findings,
 * printable ASCII) and with it (anything else) against json_dumps of the
 * tree: declared types that need escaping or are not ASCII, bytes that are
 * not what they claim, and a sample whose work budget ran out. */
static void test_summary_text(void **state)
{
    static const char *const declared[] = {
        "text/plain", "text/plain; charset=utf-8", "text/\"quoted\"",
        "text/back\\slash", "text/tab\there", "text/caf\xc3\xa9",
        "text/\x7f", "", "image/png",
    };
    static const char *const tight[] = { "scan.budget.bytes", "64",
                                         "scan.budget.action", "flag", NULL };
    static const uint8_t png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
                                   0, 0, 0, 13, 'I', 'H', 'D', 'R' };
    sl_scan *s = stage_with(NULL, NULL);
    sl_scan_report rep;
    char big[4096];
    sl_slice text = { (const uint8_t *)"plain words, nothing more\n", 26 };

    (void)state;
    sl_scan_report_init(&rep);
    for (size_t i = 0; i < sizeof(declared) / sizeof(declared[0]); i++) {
        assert_int_equal(sl_scan_decide_lists(s, text, declared[i], NULL, NULL,
                                              NULL, &rep), SL_OK);
        same_as_text(s, text, declared[i], NULL, NULL, NULL, &rep);
        assert_int_equal(sl_scan_decide_lists(s, (sl_slice){ png, sizeof(png) },
                                              declared[i], NULL, NULL, NULL, &rep),
                         SL_OK);
        same_as_text(s, (sl_slice){ png, sizeof(png) }, declared[i], NULL, NULL,
                     NULL, &rep);
    }
    /* the dataset's allowed types refuse it, with a reason */
    assert_int_equal(sl_scan_decide_lists(s, text, "text/plain", "image/*", NULL,
                                          NULL, &rep), SL_OK);
    assert_string_equal(rep.code, "type_not_allowed");
    same_as_text(s, text, "text/plain", "image/*", NULL, NULL, &rep);
    sl_scan_destroy(s);

    /* the budget runs out: the "budget" member, flagged with a reason */
    s = stage_with(NULL, tight);
    memset(big, 'a', sizeof(big));
    for (size_t i = 0; i < sizeof(big); i += 8)
        big[i] = ' ';
    assert_int_equal(sl_scan_decide_lists(s, (sl_slice){ (const uint8_t *)big,
                                          sizeof(big) }, "text/plain", NULL, NULL,
                                          NULL, &rep), SL_OK);
    assert_non_null(json_object_get(rep.summary, "budget"));
    same_as_text(s, (sl_slice){ (const uint8_t *)big, sizeof(big) }, "text/plain",
                 NULL, NULL, NULL, &rep);
    sl_scan_report_free(&rep);
    sl_scan_destroy(s);
}

static void test_process(void **state)
{
    mem_ds d = { 0 };
    sl_scan_lookup lk = { &d, mem_dataset, NULL, mem_dataset_lists };
    sl_scan *s = stage_with(&lk, NULL);
    sl_out *out = sl_out_new(1 << 20);
    sl_slice v;
    json_t *j;
    fx_msg m;

    (void)state;
    assert_int_equal(process(s, "ds", "nothing here", out), SL_EMIT);
    j = scan_header(out);
    assert_string_equal(json_string_value(json_object_get(j, "outcome")), "accepted");
    json_decref(j);

    assert_int_equal(process(s, "ds", "mail jane.doe@example.org", out), SL_EMIT);
    v = sl_out_value(out);
    assert_int_equal(v.len, strlen("mail [REDACTED:EMAIL]"));
    assert_memory_equal(v.ptr, "mail [REDACTED:EMAIL]", v.len);
    assert_int_equal(sl_out_header(out, SL_H_SHA256, &v), SL_OK);
    assert_int_equal(v.len, 64);
    j = scan_header(out);
    assert_string_equal(json_string_value(json_object_get(j, "outcome")), "redacted");
    json_decref(j);
    {
        /* the header: the decision's object with the two hashes after
         * its last member, as jansson writes it */
        static const char text[] = "mail jane.doe@example.org";
        char orig[SL_SHA256_HEX], red[SL_SHA256_HEX], *want;
        sl_scan_report rep;
        sl_slice h;

        sl_scan_report_init(&rep);
        assert_int_equal(sl_scan_decide_lists(s, (sl_slice){ (const uint8_t *)text,
                                              strlen(text) }, "text/plain", NULL,
                                              NULL, NULL, &rep), SL_OK);
        assert_int_equal(sl_sha256_hex((const uint8_t *)text, strlen(text), orig),
                         SL_OK);
        assert_int_equal(sl_out_header(out, SL_H_SHA256, &v), SL_OK);
        memcpy(red, v.ptr, 64);
        red[64] = '\0';
        assert_int_equal(json_object_set_new(rep.summary, "original_sha256",
                                             json_string(orig)), 0);
        assert_int_equal(json_object_set_new(rep.summary, "redacted_sha256",
                                             json_string(red)), 0);
        assert_non_null(want = json_dumps(rep.summary,
                                          JSON_COMPACT | JSON_REAL_PRECISION(4)));
        assert_int_equal(sl_out_header(out, SL_H_SCAN, &h), SL_OK);
        assert_int_equal(h.len, strlen(want));
        assert_memory_equal(h.ptr, want, h.len);
        free(want);
        sl_scan_report_free(&rep);
    }

    assert_int_equal(process(s, "ds", "host 203.0.113.7", out), SL_ROUTE);
    assert_string_equal(sl_out_route_topic(out), "sluice.flagged");

    assert_int_equal(process(s, "ds", "ssn 123-45-6789", out), SL_REJECT);
    assert_string_equal(sl_out_reject_code(out), "pii_blocked");
    assert_true(sl_out_withholds_value(out));

    /* the dataset's overrides and lists reach the decision */
    d.actions = "{\"dataset_deny\":\"block\",\"ipv4\":\"allow\"}";
    d.lists = "{\"deny\":[\"Nightingale\"],\"allow\":[\"+1 800 555 0199\"]}";
    assert_int_equal(process(s, "ds", "about Nightingale", out), SL_REJECT);
    assert_string_equal(sl_out_reject_code(out), "deny_listed");
    assert_string_equal(sl_out_reject_detail(out), "the dataset's deny-list "
                        "matched in content at byte 6, length 11");
    assert_true(sl_out_withholds_value(out));
    assert_int_equal(process(s, "ds", "call +1 800 555 0199, host 203.0.113.7",
                             out), SL_EMIT);
    j = scan_header(out);
    assert_string_equal(json_string_value(json_object_get(j, "outcome")), "accepted");
    assert_int_equal(json_integer_value(json_object_get(j, "findings_total")), 1);
    json_decref(j);
    d.allowed = "image/*";
    assert_int_equal(process(s, "ds", "words", out), SL_REJECT);
    assert_string_equal(sl_out_reject_code(out), "type_not_allowed");
    d.allowed = NULL;

    /* unknown dataset, registry down, unreadable metadata */
    assert_int_equal(process(s, "other", "words", out), SL_REJECT);
    assert_string_equal(sl_out_reject_code(out), "dataset_unknown");
    assert_string_equal(sl_out_reject_detail(out), "dataset \"other\" is not "
                        "registered");
    d.fail = 1;
    assert_int_equal(process(s, "ds", "words", out), SL_RETRY);
    d.fail = 0;
    fx_msg_init(&m, "u-2", "words", 5);
    fx_msg_header_str(&m, SL_H_META, "{\"schema_version\":1}");
    sl_out_reset(out);
    assert_int_equal(sl_scan_process(s, &m.msg, out), SL_REJECT);
    assert_string_equal(sl_out_reject_code(out), "meta_invalid");
    fx_msg_free(&m);
    assert_int_equal(d.calls, 9);   /* not for meta_invalid */
    sl_scan_destroy(s);

    /* a lookup with the dataset callback only: no lists */
    lk.dataset_lists = NULL;
    d.calls = 0;
    s = stage_with(&lk, NULL);
    assert_int_equal(process(s, "ds", "about Nightingale", out), SL_EMIT);
    assert_int_equal(d.calls, 1);
    sl_scan_destroy(s);
    sl_out_destroy(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outcomes),
        cmocka_unit_test(test_action_overrides),
        cmocka_unit_test(test_allow_list),
        cmocka_unit_test(test_deny_list),
        cmocka_unit_test(test_lists_parse),
        cmocka_unit_test(test_lists_budget),
        cmocka_unit_test(test_summary_text),
        cmocka_unit_test(test_process),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
