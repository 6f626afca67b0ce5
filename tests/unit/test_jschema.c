/*
 * test_jschema.c -- unit tests for common/src/jschema.c, mostly through the
 * real schemas/upload-meta.schema.json: a valid upload, then one mutation
 * per edge case with the exact error text expected, then small inline
 * schemas for keywords the upload schema does not use and for load errors.
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

#include "fixtures.h"
#include "sl/jschema.h"

#define SCHEMA_PATH SL_SOURCE_DIR "/schemas/upload-meta.schema.json"

static const char *valid_doc =
    "{"
    "\"schema_version\": 1,"
    "\"upload_id\": \"up-0001\","
    "\"creator_id\": \"creator:alice\","
    "\"dataset_id\": \"ds.speech_v2\","
    "\"content_type\": \"text/plain; charset=utf-8\","
    "\"license\": {\"expression\": \"CC-BY-4.0\","
    "  \"terms_url\": \"https://creativecommons.org/licenses/by/4.0/\","
    "  \"attribution\": \"Alice\"},"
    "\"attestation\": {\"version\": 1, \"rights_holder\": true,"
    "  \"statement\": \"I made this.\", \"ai_training\": \"allowed\","
    "  \"ai_generative_training\": \"notAllowed\","
    "  \"data_mining\": \"constrained\", \"tdm_reservation\": false},"
    "\"created_at\": \"2026-11-28T04:37:09Z\","
    "\"sha256\": "
    "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\","
    "\"filename\": \"a.txt\","
    "\"labels\": {\"lang\": \"en\", \"source\": \"field recording\"},"
    "\"size\": 3"
    "}";

/* ---- helpers ---------------------------------------------------------- */

static int setup(void **state)
{
    size_t len;
    char *text = fx_read_text(SCHEMA_PATH, &len);
    sl_err err = { "" };
    sl_jschema *s = sl_jschema_new(text, len, &err);

    free(text);
    if (!s) {
        fprintf(stderr, "cannot load %s: %s\n", SCHEMA_PATH, err.msg);
        return -1;
    }
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    sl_jschema_destroy(*state);
    return 0;
}

static json_t *parse(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);

    if (!j)
        fail_msg("test JSON does not parse: %s: %s", jerr.text, text);
    return j;
}

/* Validates doc; rc must be want, and on failure err must equal msg. */
static void expect(const sl_jschema *s, const json_t *doc, int want,
                   const char *msg)
{
    sl_err err = { "" };
    int rc = sl_jschema_validate(s, doc, &err);

    if (rc != want) {
        char *t = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY);
        fail_msg("validate rc %d, want %d (%s) for %s", rc, want, err.msg,
                 t ? t : "?");
    }
    if (msg && strcmp(err.msg, msg) != 0)
        fail_msg("error \"%s\", want \"%s\"", err.msg, msg);
}

/* The valid document with the member at slash-separated path (no escapes)
 * replaced by value, or removed when value is NULL.  value is stolen. */
static json_t *mutate(const char *path, json_t *value)
{
    json_t *doc = parse(valid_doc), *cur = doc;
    char buf[256], *tok, *next;

    snprintf(buf, sizeof(buf), "%s", path + 1);
    for (tok = buf; (next = strchr(tok, '/')); tok = next + 1) {
        *next = '\0';
        cur = json_object_get(cur, tok);
        assert_non_null(cur);
    }
    if (value)
        assert_int_equal(json_object_set_new(cur, tok, value), 0);
    else
        assert_int_equal(json_object_del(cur, tok), 0);
    return doc;
}

/* Mutates, validates, expects failure with msg (or success when msg is
 * NULL). */
static void check(const sl_jschema *s, const char *path, json_t *value,
                  const char *msg)
{
    json_t *doc = mutate(path, value);

    expect(s, doc, msg ? SL_EINVAL : SL_OK, msg);
    json_decref(doc);
}

static char *repeat(const char *unit, size_t n)
{
    size_t u = strlen(unit);
    char *p = malloc(u * n + 1);

    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        memcpy(p + i * u, unit, u);
    p[u * n] = '\0';
    return p;
}

static json_t *str_rep(const char *unit, size_t n)
{
    char *p = repeat(unit, n);
    json_t *j = json_string(p);

    free(p);
    assert_non_null(j);
    return j;
}

static sl_jschema *load_inline(const char *text, sl_err *err)
{
    return sl_jschema_new(text, strlen(text), err);
}

/* Loading text must fail with an error containing every given fragment. */
static void expect_load_error(const char *text, const char *frag1,
                              const char *frag2)
{
    sl_err err = { "" };
    sl_jschema *s = load_inline(text, &err);

    if (s) {
        sl_jschema_destroy(s);
        fail_msg("schema loaded but should not: %s", text);
    }
    if ((frag1 && !strstr(err.msg, frag1)) || (frag2 && !strstr(err.msg, frag2)))
        fail_msg("load error \"%s\" lacks \"%s\" / \"%s\"", err.msg,
                 frag1 ? frag1 : "", frag2 ? frag2 : "");
}

/* ---- the upload schema ------------------------------------------------ */

static void test_valid_documents(void **state)
{
    const sl_jschema *s = *state;
    json_t *doc = parse(valid_doc);

    expect(s, doc, SL_OK, NULL);
    json_decref(doc);
    /* the minimal document: only the required fields */
    doc = parse("{\"schema_version\":1,\"upload_id\":\"u\",\"creator_id\":\"c\","
                "\"dataset_id\":\"d\",\"content_type\":\"image/png\","
                "\"license\":{\"expression\":\"MIT\"},"
                "\"attestation\":{\"version\":3,\"rights_holder\":false},"
                "\"created_at\":\"2026-01-01T00:00:00.5+01:00\"}");
    expect(s, doc, SL_OK, NULL);
    json_decref(doc);
}

static void test_required_fields(void **state)
{
    static const char *req[] = { "schema_version", "upload_id", "creator_id",
                                 "dataset_id", "content_type", "license",
                                 "created_at" };
    char path[64], msg[128];

    for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
        snprintf(path, sizeof(path), "/%s", req[i]);
        snprintf(msg, sizeof(msg), "/: missing required property \"%s\"",
                 req[i]);
        check(*state, path, NULL, msg);
    }
    check(*state, "/license/expression", NULL,
          "/license: missing required property \"expression\"");
    check(*state, "/attestation/version", NULL,
          "/attestation: missing required property \"version\"");
    check(*state, "/attestation/rights_holder", NULL,
          "/attestation: missing required property \"rights_holder\"");
    /* optional ones may go; the attestation is the license stage's to
     * require (attestation_missing), so the schema lets it go */
    check(*state, "/attestation", NULL, NULL);
    check(*state, "/sha256", NULL, NULL);
    check(*state, "/filename", NULL, NULL);
    check(*state, "/labels", NULL, NULL);
    check(*state, "/size", NULL, NULL);
    check(*state, "/license/terms_url", NULL, NULL);
    check(*state, "/attestation/ai_training", NULL, NULL);
}

static void test_wrong_types(void **state)
{
    const sl_jschema *s = *state;
    json_t *doc;

    check(s, "/schema_version", json_string("1"),
          "/schema_version: expected integer, got string");
    check(s, "/schema_version", json_integer(2),
          "/schema_version: value does not equal the schema's const");
    check(s, "/upload_id", json_integer(5),
          "/upload_id: expected string, got integer");
    check(s, "/license", json_string("MIT"),
          "/license: expected object, got string");
    check(s, "/attestation", json_null(),
          "/attestation: expected object, got null");
    check(s, "/attestation/rights_holder", json_string("yes"),
          "/attestation/rights_holder: expected boolean, got string");
    check(s, "/attestation/tdm_reservation", json_integer(0),
          "/attestation/tdm_reservation: expected boolean, got integer");
    check(s, "/labels", json_pack("[s]", "x"),
          "/labels: expected object, got array");
    check(s, "/labels/lang", json_integer(1),
          "/labels/lang: expected string, got integer");
    check(s, "/created_at", json_integer(1795840629),
          "/created_at: expected string, got integer");
    check(s, "/attestation/ai_training", json_string("maybe"),
          "/attestation/ai_training: value is not one of "
          "[\"allowed\",\"notAllowed\",\"constrained\"]");
    check(s, "/attestation/data_mining", json_true(),
          "/attestation/data_mining: expected string, got boolean");
    /* the whole document must be an object */
    doc = json_pack("[]");
    expect(s, doc, SL_EINVAL, "/: expected object, got array");
    json_decref(doc);
}

static void test_integer_vs_number(void **state)
{
    const sl_jschema *s = *state;
    json_t *doc;

    check(s, "/size", json_real(1.5), "/size: expected integer, got number");
    /* 1.0 is written as a number, not an integer (see jschema.c) */
    check(s, "/size", json_real(3.0), "/size: expected integer, got number");
    check(s, "/schema_version", json_real(1.0),
          "/schema_version: expected integer, got number");
    check(s, "/size", json_integer(0), NULL);
    check(s, "/size", json_integer(-1), "/size: number less than minimum 0");
    check(s, "/attestation/version", json_integer(0),
          "/attestation/version: number less than minimum 1");
    check(s, "/attestation/version", json_integer(INT64_MAX), NULL);
    /* exponent notation parses as a real in jansson */
    doc = parse("{\"schema_version\":1,\"upload_id\":\"u\",\"creator_id\":\"c\","
                "\"dataset_id\":\"d\",\"content_type\":\"image/png\","
                "\"license\":{\"expression\":\"MIT\"},"
                "\"attestation\":{\"version\":1,\"rights_holder\":true},"
                "\"created_at\":\"2026-01-01T00:00:00Z\",\"size\":1e3}");
    expect(s, doc, SL_EINVAL, "/size: expected integer, got number");
    json_decref(doc);
}

static void test_lengths(void **state)
{
    const sl_jschema *s = *state;

    check(s, "/license/expression", str_rep("a", 512), NULL);
    check(s, "/license/expression", str_rep("a", 513),
          "/license/expression: string longer than maxLength 512");
    /* counted in code points: 512 two-byte and 512 four-byte characters */
    check(s, "/license/expression", str_rep("\xc3\xa9", 512), NULL);
    check(s, "/license/expression", str_rep("\xf0\x9f\x98\x80", 512), NULL);
    check(s, "/license/expression", str_rep("\xc3\xa9", 513),
          "/license/expression: string longer than maxLength 512");
    check(s, "/license/expression", json_string(""),
          "/license/expression: string shorter than minLength 1");
    check(s, "/upload_id", str_rep("a", 128), NULL);
    check(s, "/upload_id", str_rep("a", 129),
          "/upload_id: string longer than maxLength 128");
    check(s, "/creator_id", json_string(""),
          "/creator_id: string shorter than minLength 1");
    check(s, "/dataset_id", str_rep("d", 129),
          "/dataset_id: string longer than maxLength 128");
    check(s, "/filename", str_rep("f", 255), NULL);
    check(s, "/filename", str_rep("f", 256),
          "/filename: string longer than maxLength 255");
    check(s, "/filename", json_string(""),
          "/filename: string shorter than minLength 1");
    check(s, "/labels/lang", str_rep("x", 256), NULL);
    check(s, "/labels/lang", str_rep("x", 257),
          "/labels/lang: string longer than maxLength 256");
    check(s, "/attestation/statement", str_rep("s", 2049),
          "/attestation/statement: string longer than maxLength 2048");
    check(s, "/license/attribution", str_rep("s", 2049),
          "/license/attribution: string longer than maxLength 2048");
    check(s, "/content_type", json_string("a/"),
          "/content_type: string shorter than minLength 3");
}

static void test_unknown_properties(void **state)
{
    const sl_jschema *s = *state;

    check(s, "/foo", json_integer(1), "/foo: unknown property not allowed");
    check(s, "/license/foo", json_string("x"),
          "/license/foo: unknown property not allowed");
    check(s, "/attestation/ai_use", json_string("allowed"),
          "/attestation/ai_use: unknown property not allowed");
    /* near misses are unknown too */
    check(s, "/Upload_id", json_string("x"),
          "/Upload_id: unknown property not allowed");
    /* labels take any name */
    check(s, "/labels/anything goes", json_string("x"), NULL);
}

static void test_patterns(void **state)
{
    const sl_jschema *s = *state;

    check(s, "/upload_id", json_string("a.b:c_d-e9"), NULL);
    check(s, "/upload_id", json_string("-abc"),
          "/upload_id: string does not match pattern "
          "\"^[A-Za-z0-9][A-Za-z0-9._:-]*$\"");
    check(s, "/upload_id", json_string("abc def"),
          "/upload_id: string does not match pattern "
          "\"^[A-Za-z0-9][A-Za-z0-9._:-]*$\"");
    /* "$" matches only at the very end, not before a final newline */
    check(s, "/creator_id", json_string("alice\n"),
          "/creator_id: string does not match pattern "
          "\"^[A-Za-z0-9][A-Za-z0-9._:-]*$\"");
    check(s, "/dataset_id", json_string("d\xc3\xa9"),
          "/dataset_id: string does not match pattern "
          "\"^[A-Za-z0-9][A-Za-z0-9._:-]*$\"");

    check(s, "/sha256", json_string(
          "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"),
          "/sha256: string does not match pattern \"^[0-9a-f]{64}$\"");
    check(s, "/sha256", json_string(
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a"),
          "/sha256: string does not match pattern \"^[0-9a-f]{64}$\"");
    check(s, "/sha256", json_string(
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0"),
          "/sha256: string does not match pattern \"^[0-9a-f]{64}$\"");
    check(s, "/sha256", json_string(
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n"),
          "/sha256: string does not match pattern \"^[0-9a-f]{64}$\"");
    check(s, "/sha256", json_string(
          "za7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
          "/sha256: string does not match pattern \"^[0-9a-f]{64}$\"");
}

static void test_content_type(void **state)
{
    static const char *good[] = {
        "text/plain", "image/png", "application/ld+json",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "text/plain;charset=utf-8", "text/plain; charset=utf-8; format=flowed",
        "multipart/form-data; boundary=\"a b;c\"", "audio/x-wav",
    };
    static const char *bad[] = {
        "text", "text/", "/plain", "text/plain;", "text/plain; charset",
        "text/plain\n", "text/pl ain", "text//plain", " text/plain",
        "text/plain; charset=\"utf-8", "t\xc3\xa9xt/plain",
    };

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        check(*state, "/content_type", json_string(good[i]), NULL);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *doc = mutate("/content_type", json_string(bad[i]));
        sl_err err = { "" };
        if (sl_jschema_validate(*state, doc, &err) != SL_EINVAL)
            fail_msg("content_type \"%s\" accepted", bad[i]);
        assert_true(strncmp(err.msg, "/content_type: ", 15) == 0);
        json_decref(doc);
    }
}

static void test_date_time(void **state)
{
    static const char *good[] = {
        "2026-11-28T04:37:09Z", "2026-11-28T04:37:09.123Z",
        "2026-11-28T04:37:09.123456789Z", "2026-11-28T04:37:09+05:30",
        "2026-11-28T04:37:09-08:00", "2026-11-28t04:37:09z",
        "2024-02-29T00:00:00Z", "2000-02-29T23:59:59Z",
        "2016-12-31T23:59:60Z", "2016-12-31T18:59:60-05:00",
        "0001-01-01T00:00:00Z", "2026-11-28T04:37:09+15:59",
        "2026-11-28T04:37:09-15:59", "9999-12-31T23:59:59.999999Z",
        "0001-01-01T15:59:00+15:59",
    };
    static const char *bad[] = {
        "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z", "2026-11-00T00:00:00Z",
        "2026-11-31T00:00:00Z", "2025-02-29T00:00:00Z", "1900-02-29T00:00:00Z",
        "2026-11-28T24:00:00Z", "2026-11-28T04:60:00Z", "2026-11-28T04:37:61Z",
        "2026-11-28T12:59:60Z", "2026-11-28T04:37:09",
        "2026-11-28 04:37:09Z", "2026-11-28T04:37:09.Z", "2026-11-28T04:37Z",
        "2026-11-28T04:37:09+0530", "2026-11-28T04:37:09+05",
        "2026-11-28T04:37:09+24:00", "2026-11-28T04:37:09+05:60",
        "2026-11-28", "2026-11-28T04:37:09Z ", " 2026-11-28T04:37:09Z",
        "+2026-11-28T04:37:09Z", "26-11-28T04:37:09Z", "2026-1-28T04:37:09Z",
        "2026-11-28T04:37:09ZZ", "2026-11-28T4:37:09Z", "",
        "2026-11-28T04:37:09UTC", "2026-11-28T04:37:09.123",
        "2026-11-28T04:37:09.123+05", "2026-11-28T04:37:09.1.2Z",
        /* RFC 3339 allows these; PostgreSQL's timestamptz does not */
        "2026-11-28T04:37:09+16:00", "2026-11-28T04:37:09-23:59",
        "2026-11-28T04:37:09+23:00", "0000-01-01T00:00:00Z",
        "0001-01-01T00:00:00+00:01", "9999-12-31T23:59:59-00:01",
    };

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        json_t *doc = mutate("/created_at", json_string(good[i]));
        sl_err err = { "" };
        if (sl_jschema_validate(*state, doc, &err) != SL_OK)
            fail_msg("date-time \"%s\" rejected: %s", good[i], err.msg);
        json_decref(doc);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *doc = mutate("/created_at", json_string(bad[i]));
        sl_err err = { "" };
        if (sl_jschema_validate(*state, doc, &err) != SL_EINVAL)
            fail_msg("date-time \"%s\" accepted", bad[i]);
        if (strcmp(err.msg, "/created_at: string is not an RFC 3339 "
                   "date-time") != 0)
            fail_msg("date-time \"%s\": unexpected error %s", bad[i], err.msg);
        json_decref(doc);
    }
}

static void test_uri(void **state)
{
    static const char *good[] = {
        "https://creativecommons.org/licenses/by/4.0/",
        "https://example.org/terms?lang=en&v=2#section-3",
        "urn:isbn:0451450523", "mailto:legal@example.org",
        "http://[2001:db8::1]:8080/x", "https://example.org/a%20b",
        "tag:example.org,2026:terms",
    };
    static const char *bad[] = {
        "no scheme here", "/relative/path", "example.org/terms",
        "https://exa mple.org", "1http://x", "http://x/%zz", "http://x/%2",
        "http://x/#a#b", "http://x/\xc3\xa9", "http://x/<y>", ":nothing",
        "http://x/\"q\"", "", "https://x/\t",
    };

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        check(*state, "/license/terms_url", json_string(good[i]), NULL);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *doc = mutate("/license/terms_url", json_string(bad[i]));
        sl_err err = { "" };
        if (sl_jschema_validate(*state, doc, &err) != SL_EINVAL)
            fail_msg("uri \"%s\" accepted", bad[i]);
        assert_string_equal(err.msg, "/license/terms_url: string is not a URI");
        json_decref(doc);
    }
    {
        char *u = repeat("a", 2049);
        memcpy(u, "https://", 8);
        check(*state, "/license/terms_url", json_string(u),
              "/license/terms_url: string longer than maxLength 2048");
        free(u);
    }
}

/* ---- inline schemas: other keywords ----------------------------------- */

static void test_other_keywords(void **state)
{
    sl_err err = { "" };
    sl_jschema *s;
    json_t *d;

    (void)state;
    s = load_inline("{\"type\":\"object\",\"properties\":{"
                    "\"a\":{\"type\":\"array\",\"minItems\":1,\"maxItems\":3,"
                    "      \"items\":{\"type\":[\"string\",\"null\"]}},"
                    "\"b\":false,"
                    "\"c\":{\"const\":{\"x\":[1,2],\"y\":null}},"
                    "\"d\":{\"enum\":[1,\"one\",true]},"
                    "\"e\":{\"type\":\"number\",\"minimum\":0.5,\"maximum\":10},"
                    "\"f\":{\"pattern\":\"b\"},"
                    "\"g\":{\"type\":\"string\"},"
                    "\"h\":true}}", &err);
    assert_non_null(s);

#define V(text, rc, msg) do { d = parse(text); expect(s, d, rc, msg); \
                              json_decref(d); } while (0)
    V("{}", SL_OK, NULL);
    V("{\"a\":[\"x\",null]}", SL_OK, NULL);
    V("{\"a\":[]}", SL_EINVAL, "/a: array has fewer than 1 items");
    V("{\"a\":[\"1\",\"2\",\"3\",\"4\"]}", SL_EINVAL,
      "/a: array has more than 3 items");
    V("{\"a\":[\"x\",7]}", SL_EINVAL, "/a/1: expected string or null, got integer");
    V("{\"b\":1}", SL_EINVAL, "/b: no value is allowed here");
    V("{\"c\":{\"y\":null,\"x\":[1,2]}}", SL_OK, NULL);      /* key order */
    V("{\"c\":{\"y\":null,\"x\":[1.0,2]}}", SL_OK, NULL);    /* 1 == 1.0 */
    V("{\"c\":{\"y\":null,\"x\":[2,1]}}", SL_EINVAL,
      "/c: value does not equal the schema's const");
    V("{\"c\":{\"y\":null,\"x\":[1,2],\"z\":0}}", SL_EINVAL,
      "/c: value does not equal the schema's const");
    V("{\"d\":1}", SL_OK, NULL);
    V("{\"d\":\"one\"}", SL_OK, NULL);
    V("{\"d\":false}", SL_EINVAL, "/d: value is not one of [1,\"one\",true]");
    V("{\"d\":\"One\"}", SL_EINVAL, "/d: value is not one of [1,\"one\",true]");
    V("{\"e\":0.5}", SL_OK, NULL);
    V("{\"e\":10}", SL_OK, NULL);
    V("{\"e\":0.49}", SL_EINVAL, "/e: number less than minimum 0.5");
    V("{\"e\":10.01}", SL_EINVAL, "/e: number greater than maximum 10");
    V("{\"f\":\"abc\"}", SL_OK, NULL);                       /* unanchored */
    V("{\"f\":\"xyz\"}", SL_EINVAL, "/f: string does not match pattern \"b\"");
    V("{\"f\":12}", SL_OK, NULL);              /* pattern: strings only */
    V("{\"h\":{\"any\":[1]}}", SL_OK, NULL);
    V("{\"z\":1}", SL_OK, NULL);               /* no additionalProperties */
#undef V
    sl_jschema_destroy(s);
}

static void test_pointer_escaping(void **state)
{
    sl_err err = { "" };
    sl_jschema *s;
    json_t *d;

    (void)state;
    s = load_inline("{\"additionalProperties\":{\"type\":\"integer\"}}", &err);
    assert_non_null(s);
    d = parse("{\"a/b~c\":\"x\"}");
    expect(s, d, SL_EINVAL, "/a~1b~0c: expected integer, got string");
    json_decref(d);
    /* control characters in untrusted keys never reach the message */
    d = parse("{\"evil\\nline\\u001b\":\"x\"}");
    expect(s, d, SL_EINVAL, "/evil?line?: expected integer, got string");
    json_decref(d);
    sl_jschema_destroy(s);

    /* a key with an embedded NUL (jansson's parser refuses them, but code
     * can build them) is not the declared property */
    s = load_inline("{\"properties\":{\"id\":{\"type\":\"string\"}},"
                    "\"required\":[\"id\"],\"additionalProperties\":false}",
                    &err);
    assert_non_null(s);
    d = json_object();
    assert_int_equal(json_object_setn_new(d, "id\0x", 4, json_string("a")), 0);
    assert_int_equal(json_object_set_new(d, "id", json_string("b")), 0);
    expect(s, d, SL_EINVAL, "/id?x: unknown property not allowed");
    json_decref(d);
    d = json_object();
    assert_int_equal(json_object_setn_new(d, "id\0", 3, json_string("a")), 0);
    expect(s, d, SL_EINVAL, "/: missing required property \"id\"");
    json_decref(d);
    sl_jschema_destroy(s);
}

static void test_depth_limit(void **state)
{
    sl_err err = { "" };
    sl_jschema *s;
    char *text;
    json_t *d;

    (void)state;
    s = load_inline("{\"$defs\":{\"node\":{\"type\":\"object\","
                    "\"properties\":{\"c\":{\"$ref\":\"#/$defs/node\"}},"
                    "\"additionalProperties\":false}},"
                    "\"$ref\":\"#/$defs/node\"}", &err);
    assert_non_null(s);
    /* 10 levels: fine */
    {
        char *open = repeat("{\"c\":", 10), *close = repeat("}", 10);
        size_t n = strlen(open) + 2 + strlen(close) + 1;
        text = malloc(n);
        snprintf(text, n, "%s{}%s", open, close);
        d = parse(text);
        expect(s, d, SL_OK, NULL);
        json_decref(d);
        free(text);
        free(open);
        free(close);
    }
    /* 1000 levels: refused, not a stack overflow */
    {
        char *open = repeat("{\"c\":", 1000), *close = repeat("}", 1000);
        size_t n = strlen(open) + 2 + strlen(close) + 1;
        text = malloc(n);
        snprintf(text, n, "%s{}%s", open, close);
        d = parse(text);
        assert_int_equal(sl_jschema_validate(s, d, &err), SL_EINVAL);
        assert_non_null(strstr(err.msg, "nested deeper than 64 levels"));
        assert_true(strncmp(err.msg, "/c/c/c/", 7) == 0);
        json_decref(d);
        free(text);
        free(open);
        free(close);
    }
    sl_jschema_destroy(s);

    /* schemas nested too deeply fail at load */
    {
        char *open = repeat("{\"items\":", 100), *close = repeat("}", 100);
        size_t n = strlen(open) + 2 + strlen(close) + 1;
        text = malloc(n);
        snprintf(text, n, "%s{}%s", open, close);
        expect_load_error(text, "nested deeper than 64 levels", "/items/items");
        free(text);
        free(open);
        free(close);
    }
}

/* ---- load errors ------------------------------------------------------ */

static void test_load_errors(void **state)
{
    (void)state;
    expect_load_error("{\"type\":\"object\",\"minimun\":1}",
                      "schema /: unknown keyword \"minimun\"", NULL);
    expect_load_error("{\"properties\":{\"a\":{\"type\":\"string\","
                      "\"maxlength\":3}}}",
                      "schema /properties/a: unknown keyword \"maxlength\"", NULL);
    expect_load_error("{\"properties\":{\"a\":{\"items\":{\"exclusiveMinimum\":0}}}}",
                      "/properties/a/items", "\"exclusiveMinimum\"");
    expect_load_error("{\"$defs\":{\"x\":{\"oneOf\":[]}}}",
                      "/$defs/x", "unknown keyword \"oneOf\"");
    expect_load_error("{\"properties\":{\"a\":{\"pattern\":\"([a-z\"}}}",
                      "schema /properties/a: invalid \"pattern\"", "offset");
    expect_load_error("{\"pattern\":\"\\\\\"}", "invalid \"pattern\"", NULL);
    expect_load_error("{\"properties\":{\"a\":{\"$ref\":\"#/$defs/missing\"}},"
                      "\"$defs\":{\"b\":{}}}",
                      "schema /properties/a: unresolved \"$ref\"", "\"missing\"");
    expect_load_error("{\"$ref\":\"other.json#/x\"}", "unsupported \"$ref\"",
                      NULL);
    expect_load_error("{\"$ref\":\"#/definitions/x\"}", "unsupported \"$ref\"",
                      NULL);
    expect_load_error("{\"$ref\":\"#/$defs/a/b\",\"$defs\":{\"a\":{}}}",
                      "unsupported \"$ref\"", NULL);
    expect_load_error("{\"$ref\":\"#/$defs/a\",\"$defs\":{"
                      "\"a\":{\"$ref\":\"#/$defs/b\"},\"b\":{\"$ref\":\"#/$defs/a\"}}}",
                      "\"$ref\" cycle", NULL);
    expect_load_error("{\"type\":\"float\"}", "unknown type \"float\"", NULL);
    expect_load_error("{\"type\":[\"string\",\"string\"]}", "\"type\"", NULL);
    expect_load_error("{\"type\":[]}", "\"type\"", NULL);
    expect_load_error("{\"minLength\":-1}", "\"minLength\" must be a "
                      "non-negative integer", NULL);
    expect_load_error("{\"maxItems\":1.5}", "\"maxItems\"", NULL);
    expect_load_error("{\"minimum\":\"0\"}", "\"minimum\" must be a number", NULL);
    expect_load_error("{\"format\":\"email\"}", "unsupported format \"email\"",
                      NULL);
    expect_load_error("{\"required\":[\"a\",\"a\"]}", "duplicate \"required\"",
                      NULL);
    expect_load_error("{\"required\":\"a\"}", "\"required\"", NULL);
    expect_load_error("{\"enum\":[]}", "\"enum\" must be a non-empty array", NULL);
    expect_load_error("{\"items\":[{}]}", "tuple form", NULL);
    expect_load_error("{\"properties\":{\"a\":3}}",
                      "schema /properties/a: a schema must be an object", NULL);
    expect_load_error("{\"title\":3}", "\"title\" must be a string", NULL);
    expect_load_error("{\"examples\":{}}", "\"examples\" must be an array", NULL);
    expect_load_error("42", "a schema must be an object or a boolean", NULL);
    expect_load_error("{\"type\":\"string\",", "not valid JSON", NULL);
    expect_load_error("{\"type\":\"string\",\"type\":\"integer\"}",
                      "not valid JSON", "duplicate");
}

static void test_annotations_and_booleans(void **state)
{
    sl_err err = { "" };
    sl_jschema *s;
    json_t *d;

    (void)state;
    s = load_inline("{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
                    "\"$id\":\"urn:x\",\"title\":\"t\",\"description\":\"d\","
                    "\"$comment\":\"c\",\"examples\":[1],\"default\":{},"
                    "\"$defs\":{\"u\":{\"type\":\"integer\"}},"
                    "\"items\":{\"$ref\":\"#/$defs/u\"}}", &err);
    if (!s)
        fail_msg("annotations refused: %s", err.msg);
    d = parse("[1,2]");
    expect(s, d, SL_OK, NULL);
    json_decref(d);
    d = parse("[1,\"2\"]");
    expect(s, d, SL_EINVAL, "/1: expected integer, got string");
    json_decref(d);
    sl_jschema_destroy(s);

    s = load_inline("false", &err);
    assert_non_null(s);
    d = parse("{}");
    expect(s, d, SL_EINVAL, "/: no value is allowed here");
    json_decref(d);
    sl_jschema_destroy(s);
    s = load_inline("true", &err);
    assert_non_null(s);
    d = parse("{\"a\":[1]}");
    expect(s, d, SL_OK, NULL);
    json_decref(d);
    sl_jschema_destroy(s);
    sl_jschema_destroy(NULL);
}

static void test_catastrophic_pattern(void **state)
{
    sl_err err = { "" };
    sl_jschema *s;
    json_t *d;
    char *t;

    (void)state;
    /* a backtracking bomb ends with an error, not a hang */
    s = load_inline("{\"pattern\":\"^(a|a)*$\"}", &err);
    assert_non_null(s);
    t = repeat("a", 5000);
    t[4999] = 'b';
    d = json_string(t);
    assert_int_equal(sl_jschema_validate(s, d, &err), SL_EINVAL);
    assert_true(strncmp(err.msg, "/: string cannot be matched against "
                        "pattern", 39) == 0);
    json_decref(d);
    free(t);
    sl_jschema_destroy(s);
}

int main(void)
{
    const struct CMUnitTest upload[] = {
        cmocka_unit_test(test_valid_documents),
        cmocka_unit_test(test_required_fields),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_integer_vs_number),
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_unknown_properties),
        cmocka_unit_test(test_patterns),
        cmocka_unit_test(test_content_type),
        cmocka_unit_test(test_date_time),
        cmocka_unit_test(test_uri),
    };
    const struct CMUnitTest inline_schemas[] = {
        cmocka_unit_test(test_other_keywords),
        cmocka_unit_test(test_pointer_escaping),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_annotations_and_booleans),
        cmocka_unit_test(test_catastrophic_pattern),
    };
    int failed = cmocka_run_group_tests_name("upload-meta schema", upload,
                                             setup, teardown);

    return failed + cmocka_run_group_tests_name("inline schemas",
                                                inline_schemas, NULL, NULL);
}
