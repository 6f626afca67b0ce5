/*
 * test_envelope.c -- the one reader of an upload's envelope (sl/envelope.h)
 * and the shared JSON helpers (sl/json.h).
 *
 * Covers, with literal expected values:
 *   - a complete upload: the value's hash, every field, created_at in
 *     microseconds, no scan result, the origin is the value's hash;
 *   - sluice-meta absent, null, malformed (not JSON, a duplicate key at the
 *     top or nested, not an object), a required field missing or of the
 *     wrong type, sha256 in uppercase, too short, not hex, and a created_at
 *     that is no storable date-time; two sluice-meta headers (the last
 *     one counts);
 *   - sluice-scan: a redacted result (origin is original_sha256), and
 *     results that are not (uppercase or short hashes, a duplicate key, no
 *     outcome, not an object);
 *   - the upload id an outcome is recorded under: the metadata's, else a
 *     usable key;
 *   - sl_json_str, sl_hex64_ok(n), sl_json_plain and sl_json_text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sl/envelope.h"
#include "sl/json.h"
#include "envelope_same.h"
#include "fixtures.h"

#define SHA_HELLO "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
#define SHA_SECRET "23b9329e962a84c5940cf0d64a80e549ab71512da3fb5283016f55ba67aac79e"
#define CREATED "2026-11-28T09:00:00Z"
#define CREATED_US INT64_C(1795856400000000)

#define HEAD "{\"schema_version\":1,"
#define F_ID "\"upload_id\":\"up-1\","
#define F_CR "\"creator_id\":\"alice\","
#define F_DS "\"dataset_id\":\"poems\","
#define F_CT "\"content_type\":\"text/plain\","
#define F_LIC "\"license\":{\"expression\":\"CC-BY-4.0\",\"attribution\":\"A\"},"
#define F_AT "\"created_at\":\"" CREATED "\""
#define META_OK HEAD F_ID F_CR F_DS F_CT F_LIC F_AT "}"

/* Every read of m -- e (SL_ENV_ALL) and each of with and without the
 * metadata document and the attestation, by the event parser when the
 * header allows it -- says what jansson's read (SL_ENV_JANSSON) says,
 * the document with its members in the same order. */
static void same_every_way(const sl_envelope *e, const sl_msg *m)
{
    static const unsigned wants[] = { 0, SL_ENV_ATTESTATION, SL_ENV_META_DOC,
                                      SL_ENV_ALL };
    sl_envelope ref;
    const char *diff;

    /* the reference: jansson alone */
    assert_int_equal(sl_envelope_read_with(&ref, m, SL_ENV_ALL | SL_ENV_JANSSON), SL_OK);
    assert_int_equal(ref.meta_fast, 0);
    assert_int_equal(ref.scan_fast, 0);
    if ((diff = env_differs(&ref, e, 1)) || (diff = env_doc_differs(&ref, e)))
        fail_msg("sl_envelope_read differs from jansson's in %s", diff);
    for (size_t i = 0; i < sizeof(wants) / sizeof(wants[0]); i++) {
        sl_envelope o;

        assert_int_equal(sl_envelope_read_with(&o, m, wants[i]), SL_OK);
        diff = env_differs(&ref, &o, (wants[i] & SL_ENV_ATTESTATION) != 0);
        if (!diff && (wants[i] & SL_ENV_META_DOC))
            diff = env_doc_differs(&ref, &o);
        if (diff)
            fail_msg("read with %u differs in %s", wants[i], diff);
        if (!(wants[i] & SL_ENV_ATTESTATION))
            assert_null(o.attestation);
        if (!(wants[i] & SL_ENV_META_DOC))
            assert_null(o.meta_doc);
        sl_envelope_clear(&o);
    }
    sl_envelope_clear(&ref);
}

/* Reads a message with key "up-1", value "hello" and the given headers
 * (name, value pairs; a NULL value is a header without one). */
static void read_msg(sl_envelope *e, fx_msg *m, const char *key,
                     const char *const *hdrs, size_t n)
{
    fx_msg_init(m, key, "hello", 5);
    for (size_t i = 0; i + 1 < n; i += 2) {
        if (hdrs[i + 1]) {
            fx_msg_header_str(m, hdrs[i], hdrs[i + 1]);
        } else {
            fx_msg_header(m, hdrs[i], "", 0);
            m->hdr[m->msg.n_headers - 1].value.ptr = NULL;
        }
    }
    assert_int_equal(sl_envelope_read(e, &m->msg), SL_OK);
    same_every_way(e, &m->msg);
}

static void read_meta(sl_envelope *e, fx_msg *m, const char *meta)
{
    const char *h[] = { SL_H_META, meta };
    read_msg(e, m, "up-1", h, 2);
}

static void test_complete(void **state)
{
    const char *h[] = { SL_H_META, HEAD F_ID F_CR F_DS F_CT F_LIC
                        "\"sha256\":\"" SHA_HELLO "\",\"filename\":\"h.txt\","
                        "\"attestation\":{\"version\":1}," F_AT "}" };
    sl_envelope e;
    fx_msg m;
    size_t len;

    (void)state;
    read_msg(&e, &m, "up-1", h, 2);
    assert_string_equal(e.sha256, SHA_HELLO);
    assert_int_equal(e.meta_state, SL_META_OK);
    assert_string_equal(e.meta_detail, "");
    assert_ptr_equal(e.meta.ptr, m.hdr[0].value.ptr);
    assert_int_equal(e.meta.len, strlen(h[1]));
    assert_string_equal(e.upload_id, "up-1");
    assert_string_equal(e.creator_id, "alice");
    assert_string_equal(e.dataset_id, "poems");
    assert_string_equal(e.content_type, "text/plain");
    assert_string_equal(e.created_at, CREATED);
    assert_true(e.created_us == CREATED_US);
    assert_string_equal(e.declared_sha256, SHA_HELLO);
    assert_string_equal(e.filename, "h.txt");
    assert_string_equal(e.license_expression, "CC-BY-4.0");
    assert_string_equal(e.license_attribution, "A");
    assert_null(e.license_terms_url);
    assert_int_equal(json_integer_value(json_object_get(e.attestation, "version")), 1);
    assert_int_equal(e.scan_state, SL_SCANHDR_ABSENT);
    assert_null(e.scan.ptr);
    assert_string_equal(e.original_sha256, "");
    assert_string_equal(sl_envelope_origin(&e), SHA_HELLO);
    assert_string_equal(sl_envelope_upload_id(&e, &m.msg, &len), "up-1");
    assert_int_equal(len, 4);
    sl_envelope_clear(&e);
    assert_null(e.meta_doc);
    fx_msg_free(&m);

    /* the license and the attestation are the license stage's to judge */
    read_meta(&e, &m, HEAD F_ID F_CR F_DS F_CT "\"license\":\"MIT\"," F_AT "}");
    assert_int_equal(e.meta_state, SL_META_OK);
    assert_null(e.license_expression);
    assert_null(e.attestation);
    sl_envelope_clear(&e);
    fx_msg_free(&m);
}

static void test_meta_absent(void **state)
{
    const char *null_meta[] = { SL_H_META, NULL };
    const char *other[] = { "x-meta", META_OK };
    sl_envelope e;
    fx_msg m;
    size_t len;

    (void)state;
    read_msg(&e, &m, "k-1", other, 2);
    assert_int_equal(e.meta_state, SL_META_ABSENT);
    assert_string_equal(e.meta_detail, "no sluice-meta header");
    assert_null(e.meta.ptr);
    assert_null(e.meta_doc);
    assert_null(e.upload_id);
    assert_string_equal(e.sha256, SHA_HELLO);
    assert_memory_equal(sl_envelope_upload_id(&e, &m.msg, &len), "k-1", 3);
    assert_int_equal(len, 3);
    sl_envelope_clear(&e);
    fx_msg_free(&m);

    read_msg(&e, &m, "k-1", null_meta, 2);
    assert_int_equal(e.meta_state, SL_META_ABSENT);
    assert_string_equal(e.meta_detail, "no sluice-meta header");
    sl_envelope_clear(&e);
    fx_msg_free(&m);
}

static void test_meta_malformed(void **state)
{
    static const struct { const char *meta, *detail; } cases[] = {
        { "", "sluice-meta is not valid JSON: '[' or '{' expected near end of "
              "file at line 1 column 0" },
        { "not json", "sluice-meta is not valid JSON: '[' or '{' expected near "
                      "'not' at line 1 column 3" },
        { "[1,2]", "sluice-meta must be a JSON object" },
        { "\"up-1\"", "sluice-meta is not valid JSON: '[' or '{' expected near "
                      "'\"up-1\"' at line 1 column 6" },
        /* a second upload_id must not win over the first */
        { HEAD F_ID F_CR F_DS F_CT F_LIC F_AT ",\"upload_id\":\"up-2\"}",
          "sluice-meta is not valid JSON: duplicate object key near "
          "'\"upload_id\"' at line 1 column 211" },
        /* nor a second expression inside license */
        { HEAD F_ID F_CR F_DS F_CT
          "\"license\":{\"expression\":\"MIT\",\"expression\":\"GPL-3.0\"}," F_AT "}",
          "sluice-meta is not valid JSON: duplicate object key near "
          "'\"expression\"' at line 1 column 151" },
    };
    sl_envelope e;
    fx_msg m;
    size_t len;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        read_meta(&e, &m, cases[i].meta);
        assert_int_equal(e.meta_state, SL_META_MALFORMED);
        assert_string_equal(e.meta_detail, cases[i].detail);
        assert_null(e.meta_doc);
        assert_null(e.upload_id);
        assert_null(e.dataset_id);
        /* the key stands in for the id the outcome is recorded under */
        assert_memory_equal(sl_envelope_upload_id(&e, &m.msg, &len), "up-1", 4);
        sl_envelope_clear(&e);
        fx_msg_free(&m);
    }
}

static void test_meta_invalid(void **state)
{
    static const struct { const char *meta, *detail; } cases[] = {
        { HEAD F_CR F_DS F_CT F_LIC F_AT "}", "sluice-meta has no upload_id string" },
        { HEAD "\"upload_id\":7," F_CR F_DS F_CT F_LIC F_AT "}",
          "sluice-meta has no upload_id string" },
        { HEAD F_ID F_DS F_CT F_LIC F_AT "}", "sluice-meta has no creator_id string" },
        { HEAD F_ID F_CR "\"dataset_id\":null," F_CT F_LIC F_AT "}",
          "sluice-meta has no dataset_id string" },
        { HEAD F_ID F_CR F_DS F_LIC F_AT "}", "sluice-meta has no content_type string" },
        { HEAD F_ID F_CR F_DS F_CT F_LIC "\"created_at\":[]}",
          "sluice-meta has no created_at string" },
        { "{}", "sluice-meta has no upload_id string" },
    };
    static const char *const bad_sha[] = {
        "\"2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824\"",
        "\"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b982\"",
        "\"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b98240\"",
        "\"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b982g\"",
        "\"\"", "42", "null",
    };
    char meta[512];
    sl_envelope e;
    fx_msg m;
    size_t len;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        read_meta(&e, &m, cases[i].meta);
        assert_int_equal(e.meta_state, SL_META_INVALID);
        assert_string_equal(e.meta_detail, cases[i].detail);
        assert_non_null(e.meta_doc);
        sl_envelope_clear(&e);
        fx_msg_free(&m);
    }
    /* the metadata parsed: its upload_id is the one recorded, even so */
    read_meta(&e, &m, HEAD "\"upload_id\":\"up-9\"," F_CR F_CT F_LIC F_AT "}");
    assert_int_equal(e.meta_state, SL_META_INVALID);
    assert_string_equal(sl_envelope_upload_id(&e, &m.msg, &len), "up-9");
    sl_envelope_clear(&e);
    fx_msg_free(&m);

    for (size_t i = 0; i < sizeof(bad_sha) / sizeof(bad_sha[0]); i++) {
        snprintf(meta, sizeof(meta), HEAD F_ID F_CR F_DS F_CT F_LIC
                 "\"sha256\":%s," F_AT "}", bad_sha[i]);
        read_meta(&e, &m, meta);
        assert_int_equal(e.meta_state, SL_META_INVALID);
        assert_string_equal(e.meta_detail,
                            "sluice-meta sha256 is not 64 lowercase hex digits");
        sl_envelope_clear(&e);
        fx_msg_free(&m);
    }
}

static void test_meta_bad_time(void **state)
{
    static const char *const times[] = {
        "yesterday", "2026-11-28", "2026-11-28T09:00:00", "2026-02-30T09:00:00Z",
        "2026-11-28T09:00:00+16:00", "0000-12-31T23:59:59Z",
    };
    char meta[512];
    sl_envelope e;
    fx_msg m;

    (void)state;
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        snprintf(meta, sizeof(meta), HEAD F_ID F_CR F_DS F_CT F_LIC
                 "\"created_at\":\"%s\"}", times[i]);
        read_meta(&e, &m, meta);
        assert_int_equal(e.meta_state, SL_META_BAD_TIME);
        assert_string_equal(e.meta_detail, "sluice-meta created_at is not a "
                            "storable RFC 3339 date-time");
        assert_string_equal(e.created_at, times[i]);
        sl_envelope_clear(&e);
        fx_msg_free(&m);
    }
    /* an offset is fine: the instant is what counts */
    read_meta(&e, &m, HEAD F_ID F_CR F_DS F_CT F_LIC
              "\"created_at\":\"2026-11-28T10:00:00.5+01:00\"}");
    assert_int_equal(e.meta_state, SL_META_OK);
    assert_true(e.created_us == CREATED_US + 500000);
    sl_envelope_clear(&e);
    fx_msg_free(&m);
}

/* Two sluice-meta headers: the last one is read (validate refuses the
 * message as header_reserved before it looks at either). */
static void test_meta_twice(void **state)
{
    const char *last_bad[] = { SL_H_META, META_OK, SL_H_META, "[]" };
    const char *last_good[] = { SL_H_META, "[]", SL_H_META, META_OK };
    sl_envelope e;
    fx_msg m;

    (void)state;
    read_msg(&e, &m, "up-1", last_bad, 4);
    assert_int_equal(e.meta_state, SL_META_MALFORMED);
    assert_ptr_equal(e.meta.ptr, m.hdr[1].value.ptr);
    sl_envelope_clear(&e);
    fx_msg_free(&m);
    read_msg(&e, &m, "up-1", last_good, 4);
    assert_int_equal(e.meta_state, SL_META_OK);
    assert_ptr_equal(e.meta.ptr, m.hdr[1].value.ptr);
    sl_envelope_clear(&e);
    fx_msg_free(&m);
}

/* Which headers the event parser reads (meta_fast, scan_fast) and which
 * it leaves to jansson; read_msg() checks that both ways agree on each. */
static void test_fast_path(void **state)
{
    static const struct { const char *meta; int fast; sl_meta_state st; } cases[] = {
        { META_OK, 1, SL_META_OK },
        /* whitespace between tokens */
        { "{ \"schema_version\" : 1 ,\n\t" F_ID F_CR F_DS F_CT F_LIC F_AT " }\r\n",
          1, SL_META_OK },
        /* an escape, UTF-8, a control character: jansson */
        { HEAD F_ID F_CR F_DS F_CT F_LIC "\"filename\":\"a\\\"b\"," F_AT "}", 0, SL_META_OK },
        { HEAD F_ID F_CR F_DS F_CT F_LIC "\"filename\":\"caf\xc3\xa9\"," F_AT "}", 0, SL_META_OK },
        { HEAD F_ID F_CR F_DS F_CT F_LIC "\"filename\":\"a\x01\"," F_AT "}", 0, SL_META_MALFORMED },
        /* a fraction, an integer past 64 bits: jansson */
        { HEAD F_ID F_CR F_DS F_CT F_LIC "\"x\":1.5," F_AT "}", 0, SL_META_OK },
        { HEAD F_ID F_CR F_DS F_CT F_LIC "\"x\":99999999999999999999," F_AT "}", 0, SL_META_MALFORMED },
        /* a duplicate key deep inside the attestation */
        { HEAD F_ID F_CR F_DS F_CT F_LIC
          "\"attestation\":{\"a\":{\"b\":[{\"c\":1,\"c\":2}]}}," F_AT "}", 0, SL_META_MALFORMED },
        /* the same key in sibling objects is no duplicate */
        { HEAD F_ID F_CR F_DS F_CT F_LIC
          "\"attestation\":{\"a\":{\"c\":1},\"b\":{\"c\":1},\"c\":[true,false,null,\"s\",-3,{}]}," F_AT "}",
          1, SL_META_OK },
        { HEAD F_ID F_CR F_DS F_CT F_LIC "\"attestation\":\"yes\"," F_AT "}", 1, SL_META_OK },
        { HEAD F_ID F_CR F_DS F_CT F_LIC "\"attestation\":[]," F_AT "}", 1, SL_META_OK },
        /* license not an object; members of the wrong type */
        { HEAD F_ID F_CR F_DS F_CT "\"license\":\"MIT\"," F_AT "}", 1, SL_META_OK },
        { HEAD F_ID F_CR F_DS F_CT "\"license\":{\"expression\":[\"MIT\"]}," F_AT "}", 1, SL_META_OK },
        { HEAD F_ID F_CR F_DS "\"content_type\":7," F_LIC F_AT "}", 1, SL_META_INVALID },
        { HEAD F_ID F_CR F_DS F_CT "\"sha256\":null," F_AT "}", 1, SL_META_INVALID },
        { HEAD F_ID F_CR F_DS F_CT "\"created_at\":\"yesterday\"}", 1, SL_META_BAD_TIME },
        /* not an object, trailing bytes, a comment, an unclosed object */
        { "[1,2]", 0, SL_META_MALFORMED },
        { "7", 0, SL_META_MALFORMED },
        { META_OK " x", 0, SL_META_MALFORMED },
        /* an unclosed string after the object (yajl waits for more) */
        { META_OK "\"", 0, SL_META_MALFORMED },
        { META_OK "\"x}", 0, SL_META_MALFORMED },
        { META_OK "/* c */", 0, SL_META_MALFORMED },
        { HEAD F_ID, 0, SL_META_MALFORMED },
        { "{}{}", 0, SL_META_MALFORMED },
    };
    sl_envelope e, o;
    fx_msg m;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        read_meta(&e, &m, cases[i].meta);
        assert_int_equal(e.meta_state, cases[i].st);
        assert_int_equal(sl_envelope_read_with(&o, &m.msg, SL_ENV_ATTESTATION), SL_OK);
        if (o.meta_fast != cases[i].fast)
            fail_msg("case %zu: meta_fast %d", i, o.meta_fast);
        sl_envelope_clear(&o);
        /* the document too, the same way (validate's read) */
        if (e.meta_fast != cases[i].fast)
            fail_msg("case %zu: meta_fast %d with the document", i, e.meta_fast);
        sl_envelope_clear(&e);
        fx_msg_free(&m);
    }

    /* 40 levels of nesting: past the event parser's 32, jansson's to read */
    {
        char deep[512];
        size_t n = 0;

        n += (size_t)snprintf(deep + n, sizeof(deep) - n, "%s", HEAD F_ID F_CR F_DS F_CT F_AT ",\"attestation\":");
        for (int d = 0; d < 40; d++)
            deep[n++] = '[';
        for (int d = 0; d < 40; d++)
            deep[n++] = ']';
        deep[n++] = '}';
        deep[n] = '\0';
        read_meta(&e, &m, deep);
        assert_int_equal(e.meta_state, SL_META_OK);
        assert_true(json_is_array(e.attestation));
        assert_int_equal(sl_envelope_read_with(&o, &m.msg, SL_ENV_ATTESTATION), SL_OK);
        assert_int_equal(o.meta_fast, 0);
        assert_true(json_equal((json_t *)o.attestation, (json_t *)e.attestation));
        sl_envelope_clear(&o);
        sl_envelope_clear(&e);
        fx_msg_free(&m);
    }

    /* Sizes: more open keys than the event parser tracks (jansson's to
     * read), and a 1 MiB filename (the event parser's) */
    {
        size_t cap = (1u << 20) + 4096, n = 0;
        char *big = malloc(cap);

        assert_non_null(big);
        n += (size_t)snprintf(big + n, cap - n, "%s", HEAD F_ID F_CR F_DS F_CT F_AT);
        for (int k = 0; k < 200; k++)
            n += (size_t)snprintf(big + n, cap - n, ",\"k%d\":%d", k, k);
        big[n++] = '}';
        big[n] = '\0';
        read_meta(&e, &m, big);
        assert_int_equal(e.meta_state, SL_META_OK);
        assert_int_equal(sl_envelope_read_with(&o, &m.msg, 0), SL_OK);
        assert_int_equal(o.meta_fast, 0);
        sl_envelope_clear(&o);
        sl_envelope_clear(&e);
        fx_msg_free(&m);

        n = (size_t)snprintf(big, cap, "%s", HEAD F_ID F_CR F_DS F_CT F_AT ",\"filename\":\"");
        memset(big + n, 'f', 1u << 20);
        n += 1u << 20;
        n += (size_t)snprintf(big + n, cap - n, "\"}");
        read_meta(&e, &m, big);
        assert_int_equal(e.meta_state, SL_META_OK);
        assert_int_equal(sl_envelope_read_with(&o, &m.msg, 0), SL_OK);
        assert_int_equal(o.meta_fast, 1);
        assert_int_equal(strlen(o.filename), 1u << 20);
        sl_envelope_clear(&o);
        sl_envelope_clear(&e);
        fx_msg_free(&m);
        free(big);
    }

    /* a scan result with findings, as the scan stage writes it */
    {
        const char *h[] = { SL_H_META, META_OK, SL_H_SCAN,
            "{\"v\":1,\"outcome\":\"flagged\",\"detected_type\":\"text/plain\","
            "\"findings\":[{\"rule\":\"email\",\"offset\":3,\"validated\":true,"
            "\"context\":null},{\"rule\":\"email\",\"offset\":9}],"
            "\"findings_total\":2}" };

        read_msg(&e, &m, "up-1", h, 4);
        assert_int_equal(e.scan_state, SL_SCANHDR_OK);
        assert_int_equal(e.scan_fast, 1);
        assert_string_equal(e.scan_outcome, "flagged");
        assert_int_equal(e.meta_fast, 1);          /* SL_ENV_ALL too */
        assert_int_equal(sl_envelope_read_with(&o, &m.msg, 0), SL_OK);
        assert_int_equal(o.meta_fast, 1);
        assert_int_equal(o.scan_fast, 1);
        sl_envelope_clear(&o);
        sl_envelope_clear(&e);
        fx_msg_free(&m);
    }
}

static void test_scan_result(void **state)
{
    const char *redacted[] = { SL_H_META, META_OK, SL_H_SCAN,
        "{\"outcome\":\"redacted\",\"detected_type\":\"text/plain\","
        "\"original_sha256\":\"" SHA_SECRET "\",\"redacted_sha256\":\"" SHA_HELLO "\"}" };
    const char *flagged[] = { SL_H_SCAN, "{\"outcome\":\"flagged\",\"detected_type\":7}" };
    sl_envelope e;
    fx_msg m;

    (void)state;
    read_msg(&e, &m, "up-1", redacted, 4);
    assert_int_equal(e.scan_state, SL_SCANHDR_OK);
    assert_string_equal(e.scan_outcome, "redacted");
    assert_string_equal(e.detected_type, "text/plain");
    assert_string_equal(e.original_sha256, SHA_SECRET);
    assert_string_equal(e.redacted_sha256, SHA_HELLO);
    assert_string_equal(sl_envelope_origin(&e), SHA_SECRET);
    assert_ptr_equal(e.scan.ptr, m.hdr[1].value.ptr);
    sl_envelope_clear(&e);
    fx_msg_free(&m);

    read_msg(&e, &m, "up-1", flagged, 2);
    assert_int_equal(e.meta_state, SL_META_ABSENT);
    assert_int_equal(e.scan_state, SL_SCANHDR_OK);
    assert_string_equal(e.scan_outcome, "flagged");
    assert_null(e.detected_type);
    assert_string_equal(e.original_sha256, "");
    assert_string_equal(sl_envelope_origin(&e), SHA_HELLO);
    sl_envelope_clear(&e);
    fx_msg_free(&m);
}

static void test_scan_invalid(void **state)
{
    static const char *const bad[] = {
        "", "not json", "[]", "\"redacted\"", "{}", "{\"outcome\":1}",
        "{\"outcome\":\"redacted\",\"outcome\":\"accepted\"}",
        "{\"outcome\":\"redacted\",\"original_sha256\":\"abc\"}",
        "{\"outcome\":\"redacted\",\"original_sha256\":"
        "\"23B9329E962A84C5940CF0D64A80E549AB71512DA3FB5283016F55BA67AAC79E\"}",
        "{\"outcome\":\"redacted\",\"original_sha256\":"
        "\"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\"}",
        "{\"outcome\":\"redacted\",\"original_sha256\":1}",
        "{\"outcome\":\"redacted\",\"original_sha256\":\"" SHA_SECRET "\","
        "\"redacted_sha256\":\"2cf24dba\"}",
    };
    sl_envelope e;
    fx_msg m;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *h[] = { SL_H_META, META_OK, SL_H_SCAN, bad[i] };
        read_msg(&e, &m, "up-1", h, 4);
        assert_int_equal(e.meta_state, SL_META_OK);
        assert_int_equal(e.scan_state, SL_SCANHDR_INVALID);
        assert_null(e.scan_outcome);
        assert_string_equal(e.original_sha256, "");
        assert_string_equal(e.redacted_sha256, "");
        /* no hash of a result that is not one is believed */
        assert_string_equal(sl_envelope_origin(&e), SHA_HELLO);
        sl_envelope_clear(&e);
        fx_msg_free(&m);
    }
}

/* The key stands in only when it is 1..255 bytes of UTF-8 without NUL. */
static void test_upload_id_key(void **state)
{
    const char *none[] = { "x", "y" };
    char key[300];
    sl_envelope e;
    fx_msg m;
    size_t len = 99;

    (void)state;
    memset(key, 'k', sizeof(key));
    key[255] = '\0';
    read_msg(&e, &m, key, none, 2);
    assert_non_null(sl_envelope_upload_id(&e, &m.msg, &len));
    assert_int_equal(len, 255);
    sl_envelope_clear(&e);
    fx_msg_free(&m);

    key[255] = 'k';
    key[256] = '\0';
    read_msg(&e, &m, key, none, 2);
    assert_null(sl_envelope_upload_id(&e, &m.msg, &len));
    assert_int_equal(len, 0);
    sl_envelope_clear(&e);
    fx_msg_free(&m);

    read_msg(&e, &m, "bad\xff" "utf8", none, 2);
    assert_null(sl_envelope_upload_id(&e, &m.msg, &len));
    sl_envelope_clear(&e);
    fx_msg_free(&m);

    read_msg(&e, &m, "nul", none, 2);
    m.key[1] = '\0';
    assert_null(sl_envelope_upload_id(&e, &m.msg, &len));
    sl_envelope_clear(&e);
    fx_msg_free(&m);

    read_msg(&e, &m, NULL, none, 2);
    assert_null(sl_envelope_upload_id(&e, &m.msg, &len));
    sl_envelope_clear(&e);
    fx_msg_free(&m);
}

static void test_json_helpers(void **state)
{
    json_t *o = json_pack("{s:s, s:i, s:n}", "a", "x", "b", 1, "c");
    json_t *t;

    (void)state;
    assert_string_equal(sl_json_str(o, "a"), "x");
    assert_null(sl_json_str(o, "b"));
    assert_null(sl_json_str(o, "c"));
    assert_null(sl_json_str(o, "d"));
    assert_null(sl_json_str(NULL, "a"));
    assert_null(sl_json_str(json_object_get(o, "a"), "a"));   /* not an object */
    json_decref(o);

    assert_true(sl_json_plain(""));
    assert_true(sl_json_plain("text/plain; q=\"a\\b\" ~"));
    assert_false(sl_json_plain(NULL));
    assert_false(sl_json_plain("tab\there"));
    assert_false(sl_json_plain("del\x7f"));
    assert_false(sl_json_plain("caf\xc3\xa9"));
    assert_true(sl_hex64_ok(SHA_HELLO));
    assert_false(sl_hex64_ok(NULL));
    assert_false(sl_hex64_ok(""));
    assert_false(sl_hex64_ok("2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824"));
    assert_false(sl_hex64_ok(SHA_HELLO "0"));
    assert_false(sl_hex64_ok("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b982"));
    assert_true(sl_hex64_okn(SHA_HELLO "trailing", 64));
    assert_false(sl_hex64_okn(SHA_HELLO, 63));
    assert_false(sl_hex64_okn(NULL, 64));
    /* every byte at every position: only 0-9 and a-f pass */
    for (size_t pos = 0; pos < 64; pos++)
        for (int c = 0; c < 256; c++) {
            char h[65];

            memcpy(h, SHA_HELLO, sizeof(h));
            h[pos] = (char)c;
            assert_int_equal(sl_hex64_okn(h, 64),
                             (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
        }

    assert_true(json_is_null(t = sl_json_text(NULL)));
    json_decref(t);
    t = sl_json_text("plain");
    assert_string_equal(json_string_value(t), "plain");
    json_decref(t);
    t = sl_json_text("a\xff" "b\xc3");
    assert_string_equal(json_string_value(t), "a\xef\xbf\xbd" "b\xef\xbf\xbd");
    json_decref(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_complete),
        cmocka_unit_test(test_meta_absent),
        cmocka_unit_test(test_meta_malformed),
        cmocka_unit_test(test_meta_invalid),
        cmocka_unit_test(test_meta_bad_time),
        cmocka_unit_test(test_meta_twice),
        cmocka_unit_test(test_fast_path),
        cmocka_unit_test(test_scan_result),
        cmocka_unit_test(test_scan_invalid),
        cmocka_unit_test(test_upload_id_key),
        cmocka_unit_test(test_json_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
