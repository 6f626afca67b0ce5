/*
 * test_commit.c -- unit tests for services/commit/commit.c, the pure part
 * of the commit stage: sl_commit_describe() turns one consumed message into
 * a sample row or a rejection row, without a database.
 *
 * Groups:
 *   - samples from sluice.validated: every field, borrowed slices, a chain
 *     of several stages;
 *   - dead letters from sluice.rejected (sluice-reject-* headers): every
 *     field, the fallbacks when headers are missing or malformed;
 *   - commit-side rejections of unusable samples: meta_invalid,
 *     signature_missing, provenance_invalid, and their order;
 *   - sl_commit_row_reject() and sl_commit_row_clear().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sl/crypto.h"
#include "sl/prov.h"
#include "fixtures.h"
#include "commit.h"

/* SHA-256 of "hello" and of "world". */
static const char SHA_HELLO[] =
    "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
static const char SHA_WORLD[] =
    "486ea46224d1bb4fb680f34f7c9ad96a8f24ec88be73ea8e5a6c65260e9cb8a7";

#define CREATED "2026-11-28T04:37:09.123Z"
#define T_MS INT64_C(1795840629123)   /* the same instant */

/* A complete metadata document with every field commit reads. */
static const char META_FULL[] =
    "{\"schema_version\":1,\"upload_id\":\"up-1\",\"creator_id\":\"alice\","
    "\"dataset_id\":\"ds-1\",\"content_type\":\"text/plain; charset=utf-8\","
    "\"license\":{\"expression\":\"MIT OR Apache-2.0\"},"
    "\"attestation\":{\"version\":1,\"rights_holder\":true},"
    "\"created_at\":\"" CREATED "\",\"filename\":\"hello.txt\"}";

static const char SIG[] = "ed25519=c2lnbmF0dXJlIGJ5dGVz";   /* not verified here */

/* What commit reads its kinds from: the topics, never the headers. */
static const sl_commit_topics TOPICS = { "sluice.rejected", "sluice.flagged" };

/* ---- helpers ---------------------------------------------------------- */



static void hdr_replace(fx_msg *m, const char *name, const char *v)
{
    fx_msg_drop_header(m, name);
    fx_msg_header_str(m, name, v);
}

/* A chain of n events (validate, scan, license, ...) starting at the
 * signed content's hash; the scan event (second) turns it into out_sha
 * (a redaction when they differ). */
static void build_chain_to(sl_buf *out, const char *content_sha,
                           const char *out_sha, size_t n)
{
    static const char *stages[] = { "validate", "scan", "license" };
    sl_buf prev;
    sl_err err = { "" };

    sl_buf_init(&prev, 1 << 20);
    sl_buf_reset(out);
    for (size_t i = 0; i < n; i++) {
        sl_prov_event ev = {
            .stage = stages[i % 3], .version = "v1", .outcome = "accepted",
            .upload_id = "up-1", .input_sha256 = i < 2 ? content_sha : out_sha,
            .output_sha256 = i < 1 ? content_sha : out_sha, .time_ms = T_MS,
        };
        if (sl_prov_append((sl_slice){ prev.data, prev.len }, content_sha, &ev,
                           out, NULL, &err) != SL_OK)
            fail_msg("sl_prov_append: %s", err.msg);
        sl_buf_reset(&prev);
        assert_int_equal(sl_buf_append(&prev, out->data, out->len), SL_OK);
    }
    sl_buf_free(&prev);
}

static void build_chain(sl_buf *out, const char *content_sha, size_t n)
{
    build_chain_to(out, content_sha, content_sha, n);
}

/* A sample as it arrives from the last processor stage: key, value, meta,
 * signature and a valid provenance chain of n_events. */
static void sample_msg(fx_msg *m, const char *key, const char *content,
                       const char *meta, size_t n_events)
{
    char sha[SL_SHA256_HEX];
    sl_buf chain;

    fx_msg_init(m, key, content, strlen(content));
    m->msg.topic = "sluice.validated";
    m->msg.partition = 3;
    m->msg.offset = 1234;
    if (meta)
        fx_msg_header_str(m, SL_H_META, meta);
    fx_msg_header_str(m, SL_H_SIG, SIG);
    assert_int_equal(sl_sha256_hex(content, strlen(content), sha), SL_OK);
    sl_buf_init(&chain, 1 << 20);
    build_chain(&chain, sha, n_events);
    fx_msg_header(m, SL_H_PROV, chain.data, chain.len);
    sl_buf_free(&chain);
}

/* A dead letter: a message on sluice.rejected with the runner's headers. */
static void dead_letter(fx_msg *m, const char *key, const char *content,
                        const char *meta)
{
    fx_msg_init(m, key, content, strlen(content));
    m->msg.topic = "sluice.rejected";
    m->msg.partition = 1;
    m->msg.offset = 99;
    if (meta)
        fx_msg_header_str(m, SL_H_META, meta);
    fx_msg_header_str(m, SL_H_REJ_STAGE, "validate");
    fx_msg_header_str(m, SL_H_REJ_CODE, "signature_invalid");
    fx_msg_header_str(m, SL_H_REJ_DETAIL,
                      "the ed25519 signature does not match the content and metadata");
    fx_msg_header_str(m, SL_H_REJ_TOPIC, "sluice.uploads");
    fx_msg_header_str(m, SL_H_REJ_PART, "2");
    fx_msg_header_str(m, SL_H_REJ_OFFSET, "77");
    fx_msg_header_str(m, SL_H_REJ_TIME, "1795840629123");
}

static void slice_is(sl_slice s, const void *p, size_t n)
{
    assert_int_equal(s.len, n);
    assert_non_null(s.ptr);
    assert_memory_equal(s.ptr, p, n);
}

/* The row is a rejection by the commit stage itself, identified by the
 * message's own position, with rejected_ms taken from the clock. */
static void expect_commit_reject(const fx_msg *m, sl_commit_row *r,
                                 const char *code, const char *detail_prefix)
{
    int64_t before = sl_now_ms(), after;

    assert_int_equal(sl_commit_describe(&m->msg, &TOPICS, r), SL_OK);
    after = sl_now_ms();
    if (r->kind != SL_ROW_REJECTION)
        fail_msg("described as a sample, want commit rejection %s", code);
    assert_string_equal(r->stage, "commit");
    assert_string_equal(r->code, code);
    assert_non_null(r->detail);
    if (strncmp(r->detail, detail_prefix, strlen(detail_prefix)) != 0)
        fail_msg("detail \"%s\" does not start with \"%s\"", r->detail,
                 detail_prefix);
    assert_string_equal(r->source_topic, m->msg.topic);
    assert_int_equal(r->source_partition, m->msg.partition);
    assert_int_equal(r->source_offset, m->msg.offset);
    assert_true(r->rejected_ms >= before && r->rejected_ms <= after);
}

/* ==== samples =========================================================== */

/* Every field of a complete sample, and the slices borrowed from the
 * message (meta is the exact header bytes, content the value). */
static void test_sample_full(void **state)
{
    sl_commit_row r;
    sl_slice prov;
    fx_msg m;

    (void)state;
    sample_msg(&m, "up-1", "hello", META_FULL, 1);
    assert_int_equal(sl_commit_describe(&m.msg, &TOPICS, &r), SL_OK);
    assert_int_equal(r.kind, SL_ROW_SAMPLE);
    assert_string_equal(r.upload_id, "up-1");
    assert_string_equal(r.creator_id, "alice");
    assert_string_equal(r.dataset_id, "ds-1");
    assert_string_equal(r.content_type, "text/plain; charset=utf-8");
    assert_string_equal(r.license_expression, "MIT OR Apache-2.0");
    assert_string_equal(r.filename, "hello.txt");
    assert_string_equal(r.created_at, "2026-11-28T04:37:09.123000Z");   /* UTC, ours */
    assert_string_equal(r.signature, SIG);
    assert_string_equal(r.sha256, SHA_HELLO);
    slice_is(r.meta, META_FULL, strlen(META_FULL));
    assert_ptr_equal(r.meta.ptr, m.hdr[fx_msg_header_index(&m, SL_H_META)].value.ptr);
    slice_is(r.content, "hello", 5);
    assert_ptr_equal(r.content.ptr, m.msg.value.ptr);
    assert_int_equal(sl_msg_header(&m.msg, SL_H_PROV, &prov), SL_OK);
    assert_ptr_equal(r.prov.ptr, prov.ptr);
    assert_int_equal(r.prov.len, prov.len);
    assert_string_equal(r.source_topic, "sluice.validated");
    assert_int_equal(r.source_partition, 3);
    assert_int_equal(r.source_offset, 1234);
    /* no rejection fields on a sample */
    assert_null(r.stage);
    assert_null(r.code);
    assert_null(r.detail);
    assert_int_equal(r.rejected_ms, 0);
    sl_commit_row_clear(&r);
    fx_msg_free(&m);
}

/* Optional metadata absent (no filename) and a chain of three stages; the
 * last sluice-meta header wins when there are two. */
static void test_sample_minimal_and_chain(void **state)
{
    char *meta = fx_meta("up-2", "hugo", "ds-9", SHA_WORLD);
    sl_commit_row r;
    fx_msg m;

    (void)state;
    sample_msg(&m, "up-2", "world", "{\"not\":\"this one\"}", 3);
    fx_msg_header_str(&m, SL_H_META, meta);
    assert_int_equal(sl_commit_describe(&m.msg, &TOPICS, &r), SL_OK);
    assert_int_equal(r.kind, SL_ROW_SAMPLE);
    assert_string_equal(r.upload_id, "up-2");
    assert_string_equal(r.creator_id, "hugo");
    assert_string_equal(r.dataset_id, "ds-9");
    assert_string_equal(r.content_type, "text/plain");
    assert_string_equal(r.license_expression, "CC-BY-4.0");
    assert_null(r.filename);
    assert_string_equal(r.sha256, SHA_WORLD);
    slice_is(r.meta, meta, strlen(meta));
    sl_commit_row_clear(&r);
    fx_msg_free(&m);
    free(meta);
}

/* ==== dead letters from earlier stages ================================== */

/* Every sluice-reject-* header is carried into the row; identity fields
 * come from the metadata when it parses. */
static void test_rejection_full(void **state)
{
    sl_commit_row r;
    fx_msg m;

    (void)state;
    dead_letter(&m, "up-1", "hello", META_FULL);
    fx_msg_header_str(&m, SL_H_PROV, "[]");     /* kept as-is, not judged */
    assert_int_equal(sl_commit_describe(&m.msg, &TOPICS, &r), SL_OK);
    assert_int_equal(r.kind, SL_ROW_REJECTION);
    assert_string_equal(r.stage, "validate");
    assert_string_equal(r.code, "signature_invalid");
    assert_string_equal(r.detail,
        "the ed25519 signature does not match the content and metadata");
    assert_string_equal(r.source_topic, "sluice.uploads");
    assert_int_equal(r.source_partition, 2);
    assert_int_equal(r.source_offset, 77);
    assert_int_equal(r.rejected_ms, T_MS);
    assert_string_equal(r.upload_id, "up-1");
    assert_string_equal(r.creator_id, "alice");
    assert_string_equal(r.dataset_id, "ds-1");
    assert_string_equal(r.sha256, SHA_HELLO);
    slice_is(r.meta, META_FULL, strlen(META_FULL));
    slice_is(r.content, "hello", 5);
    slice_is(r.prov, "[]", 2);
    /* sample-only fields stay empty */
    assert_null(r.content_type);
    assert_null(r.license_expression);
    assert_null(r.created_at);
    assert_null(r.signature);
    sl_commit_row_clear(&r);
    fx_msg_free(&m);
}

/* A dead letter whose value the runner withheld: the row records the
 * refused value's hash and size from the headers, not those of the empty
 * bytes received; a malformed hash header is ignored. */
static void test_rejection_withheld(void **state)
{
    static const char sha_a[] =
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    sl_commit_row r;
    fx_msg m;

    (void)state;
    dead_letter(&m, "up-1", "", META_FULL);
    fx_msg_header_str(&m, SL_H_REJ_VALUE, "withheld");
    fx_msg_header_str(&m, SL_H_REJ_VALUE_SHA256, sha_a);
    fx_msg_header_str(&m, SL_H_REJ_VALUE_SIZE, "16776800");
    assert_int_equal(sl_commit_describe(&m.msg, &TOPICS, &r), SL_OK);
    assert_int_equal(r.kind, SL_ROW_REJECTION);
    assert_string_equal(r.code, "signature_invalid");
    assert_string_equal(r.sha256, sha_a);
    assert_int_equal(r.size, 16776800);
    assert_int_equal(r.content.len, 0);
    assert_string_equal(r.upload_id, "up-1");
    sl_commit_row_clear(&r);
    fx_msg_free(&m);

    dead_letter(&m, "up-1", "hello", META_FULL);
    fx_msg_header_str(&m, SL_H_REJ_VALUE_SHA256, "9F86D081");
    fx_msg_header_str(&m, SL_H_REJ_VALUE_SIZE, "16776800");
    assert_int_equal(sl_commit_describe(&m.msg, &TOPICS, &r), SL_OK);
    assert_string_equal(r.sha256, SHA_HELLO);
    assert_int_equal(r.size, 5);
    sl_commit_row_clear(&r);
    fx_msg_free(&m);
}

/* Only the code header: the stage is "unknown", the detail empty, the
 * upload id the Kafka key, the identity the message's own position and
 * the time the clock. */
static void test_rejection_minimal(void **state)
{
    sl_commit_row r;
    int64_t before, after;
    fx_msg m;

    (void)state;
    fx_msg_init(&m, "up-key", "x", 1);
    m.msg.topic = "sluice.rejected";
    m.msg.partition = 4;
    m.msg.offset = 5;
    fx_msg_header_str(&m, SL_H_REJ_CODE, "too_large");
    before = sl_now_ms();
    assert_int_equal(sl_commit_describe(&m.msg, &TOPICS, &r), SL_OK);
    after = sl_now_ms();
    assert_int_equal(r.kind, SL_ROW_REJECTION);
    assert_string_equal(r.code, "too_large");
    assert_string_equal(r.stage, "unknown");
    assert_string_equal(r.detail, "");
    assert_string_equal(r.upload_id, "up-key");
    assert_null(r.creator_id);
    assert_null(r.dataset_id);
    assert_null(r.meta.ptr);
    assert_int_equal(r.meta.len, 0);
    assert_null(r.prov.ptr);
    assert_string_equal(r.source_topic, "sluice.rejected");
    assert_int_equal(r.source_partition, 4);
    assert_int_equal(r.source_offset, 5);
    assert_true(r.rejected_ms >= before && r.rejected_ms <= after);
    sl_commit_row_clear(&r);
    fx_msg_free(&m);
}

/* Any unusable part of the source (topic, partition or offset) makes the
 * whole identity the message's own position, which is unique; an unusable
 * time falls back to the clock. */
static void test_rejection_fallbacks(void **state)
{
    sl_commit_row r;
    int64_t before, after;
    fx_msg m;

    (void)state;
    dead_letter(&m, "up-1", "hello", NULL);
    hdr_replace(&m, SL_H_REJ_PART, "two");
    hdr_replace(&m, SL_H_REJ_OFFSET, "77x");
    hdr_replace(&m, SL_H_REJ_TIME, "");
    before = sl_now_ms();
    assert_int_equal(sl_commit_describe(&m.msg, &TOPICS, &r), SL_OK);
    after = sl_now_ms();
    assert_int_equal(r.kind, SL_ROW_REJECTION);
    assert_string_equal(r.source_topic, "sluice.rejected");   /* the message's */
    assert_int_equal(r.source_partition, 1);
    assert_int_equal(r.source_offset, 99);
    assert_true(r.rejected_ms >= before && r.rejected_ms <= after);
    sl_commit_row_clear(&r);
    fx_msg_free(&m);

    dead_letter(&m, "up-1", "hello", NULL);
    fx_msg_drop_header(&m, SL_H_REJ_TOPIC);
    assert_int_equal(sl_commit_describe(&m.msg, &TOPICS, &r), SL_OK);
    assert_string_equal(r.source_topic, "sluice.rejected");
    assert_int_equal(r.source_partition, 1);
    assert_int_equal(r.source_offset, 99);
    assert_int_equal(r.rejected_ms, T_MS);
    sl_commit_row_clear(&r);
    fx_msg_free(&m);
}

/* A dead letter stays a dead letter whatever its metadata: malformed meta
 * leaves identity to the key; a key of SL_ID_MAX bytes or more is not
 * used. */
static void test_rejection_bad_meta(void **state)
{
    char longkey[SL_ID_MAX + 1];
    sl_commit_row r;
    fx_msg m;

    (void)state;
    dead_letter(&m, "up-k", "hello", "{\"upload_id\":");
    assert_int_equal(sl_commit_describe(&m.msg, &TOPICS, &r), SL_OK);
    assert_int_equal(r.kind, SL_ROW_REJECTION);
    assert_string_equal(r.code, "signature_invalid");
    assert_string_equal(r.upload_id, "up-k");
    assert_null(r.creator_id);
    slice_is(r.meta, "{\"upload_id\":", 13);
    sl_commit_row_clear(&r);
    fx_msg_free(&m);

    /* meta wins over the key when it names the upload */
    dead_letter(&m, "up-k", "hello", "{\"upload_id\":\"up-meta\"}");
    assert_int_equal(sl_commit_describe(&m.msg, &TOPICS, &r), SL_OK);
    assert_string_equal(r.upload_id, "up-meta");
    sl_commit_row_clear(&r);
    fx_msg_free(&m);

    memset(longkey, 'k', SL_ID_MAX);
    longkey[SL_ID_MAX] = '\0';
    dead_letter(&m, longkey, "hello", NULL);
    assert_int_equal(sl_commit_describe(&m.msg, &TOPICS, &r), SL_OK);
    assert_null(r.upload_id);
    sl_commit_row_clear(&r);
    fx_msg_free(&m);

    longkey[SL_ID_MAX - 1] = '\0';
    dead_letter(&m, longkey, "hello", NULL);
    assert_int_equal(sl_commit_describe(&m.msg, &TOPICS, &r), SL_OK);
    assert_string_equal(r.upload_id, longkey);
    sl_commit_row_clear(&r);
    fx_msg_free(&m);
}

/* ==== commit-side rejections: meta_invalid ============================== */

/* A sample without usable metadata: absent, not JSON, not an object, or a
 * field commit needs missing or of the wrong type.  The upload id must
 * come from the metadata: the Kafka key does not stand in for it. */
static void test_commit_meta_invalid(void **state)
{
#define M_HEAD "{\"schema_version\":1,"
#define M_ID   "\"upload_id\":\"up-1\","
#define M_CR   "\"creator_id\":\"alice\","
#define M_DS   "\"dataset_id\":\"ds-1\","
#define M_CT   "\"content_type\":\"text/plain\","
#define M_LIC  "\"license\":{\"expression\":\"MIT\"},"
#define M_AT   "\"created_at\":\"" CREATED "\""
    static const char *const metas[] = {
        NULL,                                   /* no header at all */
        "",
        "not json",
        "[1,2,3]",
        M_HEAD M_CR M_DS M_CT M_LIC M_AT "}",          /* no upload_id */
        M_HEAD "\"upload_id\":7," M_CR M_DS M_CT M_LIC M_AT "}",
        M_HEAD M_ID M_DS M_CT M_LIC M_AT "}",          /* no creator_id */
        M_HEAD M_ID M_CR M_CT M_LIC M_AT "}",          /* no dataset_id */
        M_HEAD M_ID M_CR "\"dataset_id\":null," M_CT M_LIC M_AT "}",
        M_HEAD M_ID M_CR M_DS M_LIC M_AT "}",          /* no content_type */
        M_HEAD M_ID M_CR M_DS M_CT M_LIC "\"x\":1}",    /* no created_at */
        M_HEAD M_ID M_CR M_DS M_CT M_AT "}",           /* no license */
        M_HEAD M_ID M_CR M_DS M_CT "\"license\":\"MIT\"," M_AT "}",
        M_HEAD M_ID M_CR M_DS M_CT "\"license\":{}," M_AT "}",
        M_HEAD M_ID M_CR M_DS M_CT "\"license\":{\"expression\":1}," M_AT "}",
        /* the envelope's rules (sl/envelope.h), as validate's: a duplicate
         * key, a declared sha256 that is not 64 lowercase hex digits */
        M_HEAD M_ID M_CR M_DS M_CT M_LIC M_AT ",\"upload_id\":\"up-1\"}",
        M_HEAD M_ID M_CR M_DS M_CT M_LIC "\"sha256\":\"2CF24DBA5FB0A30E26E83B2A"
        "C5B9E29E1B161E5C1FA7425E73043362938B9824\"," M_AT "}",
    };
    static const char good[] = M_HEAD M_ID M_CR M_DS M_CT M_LIC M_AT "}";
    sl_commit_row r;
    fx_msg m;

    (void)state;
    for (size_t i = 0; i < sizeof(metas) / sizeof(metas[0]); i++) {
        sample_msg(&m, "up-1", "hello", metas[i], 1);
        expect_commit_reject(&m, &r, "meta_invalid",
                             "sample reached commit without usable metadata");
        assert_string_equal(r.detail,
                            "sample reached commit without usable metadata");
        if (metas[i])
            slice_is(r.meta, metas[i], strlen(metas[i]));
        sl_commit_row_clear(&r);
        fx_msg_free(&m);
    }

    /* the same message with the complete metadata is a sample */
    sample_msg(&m, "up-1", "hello", good, 1);
    assert_int_equal(sl_commit_describe(&m.msg, &TOPICS, &r), SL_OK);
    assert_int_equal(r.kind, SL_ROW_SAMPLE);
    sl_commit_row_clear(&r);
    fx_msg_free(&m);
#undef M_HEAD
#undef M_ID
#undef M_CR
#undef M_DS
#undef M_CT
#undef M_LIC
#undef M_AT
}

/* ==== commit-side rejections: signature_missing ========================= */

static void test_commit_signature_missing(void **state)
{
    sl_commit_row r;
    fx_msg m;

    (void)state;
    sample_msg(&m, "up-1", "hello", META_FULL, 1);
    fx_msg_drop_header(&m, SL_H_SIG);
    expect_commit_reject(&m, &r, "signature_missing", "");
    assert_string_equal(r.detail, "sample reached commit without its signature");
    /* identity from the metadata is kept for the rejection row */
    assert_string_equal(r.upload_id, "up-1");
    assert_string_equal(r.creator_id, "alice");
    assert_string_equal(r.dataset_id, "ds-1");
    assert_null(r.signature);
    sl_commit_row_clear(&r);
    fx_msg_free(&m);
}

/* ==== commit-side rejections: provenance_invalid ======================== */

/* No chain, a chain of another content, a chain with a changed byte, a
 * chain that is not JSON, an empty chain. */
static void test_commit_provenance_invalid(void **state)
{
    char sha[SL_SHA256_HEX];
    sl_buf chain;
    sl_commit_row r;
    fx_msg m;

    (void)state;
    sample_msg(&m, "up-1", "hello", META_FULL, 1);
    fx_msg_drop_header(&m, SL_H_PROV);
    expect_commit_reject(&m, &r, "provenance_invalid", "");
    assert_string_equal(r.detail,
                        "sample reached commit without a provenance chain");
    assert_string_equal(r.upload_id, "up-1");
    sl_commit_row_clear(&r);
    fx_msg_free(&m);

    /* a valid chain, but started from the hash of other content */
    sl_buf_init(&chain, 1 << 20);
    assert_int_equal(sl_sha256_hex("world", 5, sha), SL_OK);
    build_chain(&chain, sha, 2);
    sample_msg(&m, "up-1", "hello", META_FULL, 1);
    fx_msg_drop_header(&m, SL_H_PROV);
    fx_msg_header(&m, SL_H_PROV, chain.data, chain.len);
    expect_commit_reject(&m, &r, "provenance_invalid", "provenance chain broken: ");
    assert_non_null(strstr(r.detail, "prev does not match the content SHA-256"));
    sl_commit_row_clear(&r);
    fx_msg_free(&m);

    /* one changed byte inside an event (the outcome) */
    build_chain(&chain, SHA_HELLO, 2);
    {
        char *text = malloc(chain.len + 1), *p;
        assert_non_null(text);
        memcpy(text, chain.data, chain.len);
        text[chain.len] = '\0';
        p = strstr(text, "accepted");
        assert_non_null(p);
        p[0] = 'A';
        sample_msg(&m, "up-1", "hello", META_FULL, 1);
        hdr_replace(&m, SL_H_PROV, text);
        free(text);
    }
    expect_commit_reject(&m, &r, "provenance_invalid", "provenance chain broken: ");
    assert_non_null(strstr(r.detail, "hash does not match"));
    sl_commit_row_clear(&r);
    fx_msg_free(&m);
    sl_buf_free(&chain);

    sample_msg(&m, "up-1", "hello", META_FULL, 1);
    hdr_replace(&m, SL_H_PROV, "not json");
    expect_commit_reject(&m, &r, "provenance_invalid", "provenance chain broken: ");
    sl_commit_row_clear(&r);
    fx_msg_free(&m);

    sample_msg(&m, "up-1", "hello", META_FULL, 1);
    hdr_replace(&m, SL_H_PROV, "[]");
    expect_commit_reject(&m, &r, "provenance_invalid", "provenance chain broken: ");
    assert_non_null(strstr(r.detail, "no events"));
    sl_commit_row_clear(&r);
    fx_msg_free(&m);

    /* the value changed after the chain was built */
    sample_msg(&m, "up-1", "hello", META_FULL, 1);
    m.value[0] = 'j';
    expect_commit_reject(&m, &r, "provenance_invalid", "provenance chain broken: ");
    sl_commit_row_clear(&r);
    fx_msg_free(&m);
}

/* The commit checks run in a fixed order: metadata, then signature, then
 * provenance. */
static void test_commit_check_order(void **state)
{
    sl_commit_row r;
    fx_msg m;

    (void)state;
    sample_msg(&m, "up-1", "hello", NULL, 1);
    fx_msg_drop_header(&m, SL_H_SIG);
    fx_msg_drop_header(&m, SL_H_PROV);
    expect_commit_reject(&m, &r, "meta_invalid", "");
    sl_commit_row_clear(&r);
    fx_msg_free(&m);

    sample_msg(&m, "up-1", "hello", META_FULL, 1);
    fx_msg_drop_header(&m, SL_H_SIG);
    fx_msg_drop_header(&m, SL_H_PROV);
    expect_commit_reject(&m, &r, "signature_missing", "");
    sl_commit_row_clear(&r);
    fx_msg_free(&m);

    /* the rejected topic makes a dead letter whatever else is missing */
    sample_msg(&m, "up-1", "hello", NULL, 1);
    m.msg.topic = "sluice.rejected";
    fx_msg_drop_header(&m, SL_H_SIG);
    fx_msg_drop_header(&m, SL_H_PROV);
    fx_msg_header_str(&m, SL_H_REJ_CODE, "pii_blocked");
    fx_msg_header_str(&m, SL_H_REJ_STAGE, "scan");
    assert_int_equal(sl_commit_describe(&m.msg, &TOPICS, &r), SL_OK);
    assert_int_equal(r.kind, SL_ROW_REJECTION);
    assert_string_equal(r.stage, "scan");
    assert_string_equal(r.code, "pii_blocked");
    sl_commit_row_clear(&r);
    fx_msg_free(&m);
}

/* created_at is stored as the UTC instant, formatted by commit; a time
 * PostgreSQL would refuse (offset beyond 15:59, year 0) never reaches it. */
static void test_created_at_utc(void **state)
{
    static const char *const bad[] = {
        "2026-11-29T03:37:09+23:00", "0000-06-01T00:00:00Z",
    };
    char meta[1024];
    sl_commit_row r;
    fx_msg m;

    (void)state;
    snprintf(meta, sizeof(meta), "{\"upload_id\":\"up-1\",\"creator_id\":\"alice\","
             "\"dataset_id\":\"ds-1\",\"content_type\":\"text/plain\","
             "\"license\":{\"expression\":\"MIT\"},"
             "\"created_at\":\"2026-11-28T19:37:09.1234567+15:00\"}");
    sample_msg(&m, "up-1", "hello", meta, 1);
    assert_int_equal(sl_commit_describe(&m.msg, &TOPICS, &r), SL_OK);
    assert_int_equal(r.kind, SL_ROW_SAMPLE);
    assert_string_equal(r.created_at, "2026-11-28T04:37:09.123456Z");
    sl_commit_row_clear(&r);
    fx_msg_free(&m);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(meta, sizeof(meta), "{\"upload_id\":\"up-1\",\"creator_id\":"
                 "\"alice\",\"dataset_id\":\"ds-1\",\"content_type\":\"text/plain\","
                 "\"license\":{\"expression\":\"MIT\"},\"created_at\":\"%s\"}", bad[i]);
        sample_msg(&m, "up-1", "hello", meta, 1);
        expect_commit_reject(&m, &r, "meta_invalid", "created_at is not a storable");
        sl_commit_row_clear(&r);
        fx_msg_free(&m);
    }
}

/* ==== forged internal headers ============================================ */

/* A creator's sluice-reject-* headers on a sample mean nothing: it stays a
 * sample, its identity the message's position. */
static void test_forged_reject_headers(void **state)
{
    sl_commit_row r;
    fx_msg m;

    (void)state;
    sample_msg(&m, "up-1", "hello", META_FULL, 1);
    fx_msg_header_str(&m, SL_H_REJ_CODE, "forged_code");
    fx_msg_header_str(&m, SL_H_REJ_STAGE, "forger");
    fx_msg_header_str(&m, SL_H_REJ_TOPIC, "sluice.uploads");
    fx_msg_header_str(&m, SL_H_REJ_PART, "0");
    fx_msg_header_str(&m, SL_H_REJ_OFFSET, "0");
    fx_msg_header_str(&m, SL_H_REJ_TIME, "99999999999999999999");
    assert_int_equal(sl_commit_describe(&m.msg, &TOPICS, &r), SL_OK);
    assert_int_equal(r.kind, SL_ROW_SAMPLE);
    assert_null(r.code);
    assert_null(r.stage);
    assert_string_equal(r.source_topic, "sluice.validated");
    assert_int_equal(r.source_partition, 3);
    assert_int_equal(r.source_offset, 1234);
    sl_commit_row_clear(&r);
    fx_msg_free(&m);

    /* the same without a chain: commit's own rejection, not the forged one */
    sample_msg(&m, "up-1", "hello", META_FULL, 1);
    fx_msg_drop_header(&m, SL_H_PROV);
    fx_msg_header_str(&m, SL_H_REJ_CODE, "forged_code");
    expect_commit_reject(&m, &r, "provenance_invalid", "");
    sl_commit_row_clear(&r);
    fx_msg_free(&m);
}

/* Dead-letter headers out of every range: a time beyond year 9999 or
 * negative, partitions beyond int32 or negative, offsets negative or with
 * junk, a topic with characters Kafka does not allow, a code that is not a
 * reason code.  Nothing fails; the fallbacks are the record's own. */
static void test_rejection_hostile_headers(void **state)
{
    static const char *const times[] = {
        "253402300800000", "-1", "99999999999999999999", "1e3", " 5", "+5",
        "0x10", "--1",
    };
    static const char *const parts[] = { "2147483648", "-1", "2 ", "" };
    static const char *const offs[] = { "-7", "9223372036854775808", "1.5" };
    static const char *const topics[] = { "no/such topic", "", "t\xc3\xa9" };
    sl_commit_row r;
    fx_msg m;

    (void)state;
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        dead_letter(&m, "up-1", "hello", NULL);
        m.msg.timestamp_ms = T_MS - 5;
        hdr_replace(&m, SL_H_REJ_TIME, times[i]);
        assert_int_equal(sl_commit_describe(&m.msg, &TOPICS, &r), SL_OK);
        if (r.rejected_ms != T_MS - 5)
            fail_msg("time \"%s\": %lld", times[i], (long long)r.rejected_ms);
        assert_string_equal(r.source_topic, "sluice.uploads");   /* kept */
        sl_commit_row_clear(&r);
        fx_msg_free(&m);
    }
    /* the last valid millisecond of 9999 is kept */
    dead_letter(&m, "up-1", "hello", NULL);
    hdr_replace(&m, SL_H_REJ_TIME, "253402300799999");
    assert_int_equal(sl_commit_describe(&m.msg, &TOPICS, &r), SL_OK);
    assert_int_equal(r.rejected_ms, INT64_C(253402300799999));
    sl_commit_row_clear(&r);
    fx_msg_free(&m);
    for (size_t i = 0; i < 10; i++) {
        const char *name = i < 4 ? SL_H_REJ_PART : i < 7 ? SL_H_REJ_OFFSET
                                                          : SL_H_REJ_TOPIC;
        const char *v = i < 4 ? parts[i] : i < 7 ? offs[i - 4] : topics[i - 7];
        dead_letter(&m, "up-1", "hello", NULL);
        hdr_replace(&m, name, v);
        assert_int_equal(sl_commit_describe(&m.msg, &TOPICS, &r), SL_OK);
        if (strcmp(r.source_topic, "sluice.rejected") || r.source_partition != 1 ||
            r.source_offset != 99)
            fail_msg("%s \"%s\": identity %s/%d/%lld", name, v, r.source_topic,
                     (int)r.source_partition, (long long)r.source_offset);
        assert_string_equal(r.code, "signature_invalid");
        sl_commit_row_clear(&r);
        fx_msg_free(&m);
    }
    /* a detail is one line, not a payload */
    {
        char *big = malloc(100000);
        assert_non_null(big);
        memset(big, 'd', 99999);
        big[99999] = '\0';
        dead_letter(&m, "up-1", "hello", NULL);
        hdr_replace(&m, SL_H_REJ_DETAIL, big);
        assert_int_equal(sl_commit_describe(&m.msg, &TOPICS, &r), SL_OK);
        assert_int_equal(strlen(r.detail), SL_COMMIT_DETAIL_MAX);
        sl_commit_row_clear(&r);
        fx_msg_free(&m);
        free(big);
    }
    /* a code that is not a reason code, and none at all */
    dead_letter(&m, "up-1", "hello", NULL);
    hdr_replace(&m, SL_H_REJ_CODE, "Bad Code!");
    hdr_replace(&m, SL_H_REJ_STAGE, "val idate");
    assert_int_equal(sl_commit_describe(&m.msg, &TOPICS, &r), SL_OK);
    assert_string_equal(r.code, "reject_header_invalid");
    assert_string_equal(r.stage, "unknown");
    assert_string_equal(r.detail, "dead letter without a usable "
                        "sluice-reject-code header (not a reason code)");
    sl_commit_row_clear(&r);
    fx_msg_drop_header(&m, SL_H_REJ_CODE);
    assert_int_equal(sl_commit_describe(&m.msg, &TOPICS, &r), SL_OK);
    assert_string_equal(r.code, "reject_header_invalid");
    assert_string_equal(r.detail, "dead letter without a usable "
                        "sluice-reject-code header (absent)");
    sl_commit_row_clear(&r);
    fx_msg_free(&m);
}

/* ==== row helpers ======================================================= */

/* sl_commit_row_reject turns a sample into a commit rejection (replay,
 * duplicate) keeping its identity; sl_commit_row_clear empties a row and
 * may be called again. */
static void test_row_reject_and_clear(void **state)
{
    int64_t before, after;
    sl_commit_row r;
    fx_msg m;

    (void)state;
    sample_msg(&m, "up-1", "hello", META_FULL, 1);
    assert_int_equal(sl_commit_describe(&m.msg, &TOPICS, &r), SL_OK);
    assert_int_equal(r.kind, SL_ROW_SAMPLE);
    before = sl_now_ms();
    assert_int_equal(sl_commit_row_reject(&r, "replay",
                     "upload id \"up-1\" was already accepted"), SL_OK);
    after = sl_now_ms();
    assert_int_equal(r.kind, SL_ROW_REJECTION);
    assert_string_equal(r.stage, "commit");
    assert_string_equal(r.code, "replay");
    assert_string_equal(r.detail, "upload id \"up-1\" was already accepted");
    assert_true(r.rejected_ms >= before && r.rejected_ms <= after);
    assert_string_equal(r.upload_id, "up-1");
    assert_string_equal(r.dataset_id, "ds-1");
    assert_string_equal(r.source_topic, "sluice.validated");
    assert_int_equal(r.source_offset, 1234);

    /* rejecting twice replaces the reason (no leak: ASan checks) */
    assert_int_equal(sl_commit_row_reject(&r, "duplicate", "again"), SL_OK);
    assert_string_equal(r.code, "duplicate");
    assert_string_equal(r.detail, "again");

    sl_commit_row_clear(&r);
    assert_null(r.upload_id);
    assert_null(r.code);
    assert_null(r.source_topic);
    assert_null(r.meta.ptr);
    assert_int_equal(r.kind, SL_ROW_SAMPLE);
    sl_commit_row_clear(&r);
    fx_msg_free(&m);
}

/* ==== the scan stage's header ============================================ */

/* A flagged sample becomes a review item carrying the scan JSON; an
 * accepted one a sample with its detected type. */
static void test_scan_flagged_and_accepted(void **state)
{
    static const char flagged[] =
        "{\"outcome\":\"flagged\",\"detected_type\":\"text/plain\","
        "\"findings\":[{\"rule\":\"email\",\"offset\":0,\"length\":5}]}";
    static const char accepted[] =
        "{\"outcome\":\"accepted\",\"detected_type\":\"text/plain\",\"findings\":[]}";
    sl_commit_row r;
    fx_msg m;

    (void)state;
    sample_msg(&m, "up-1", "hello", META_FULL, 2);
    m.msg.topic = "sluice.flagged";
    fx_msg_header_str(&m, SL_H_SCAN, flagged);
    assert_int_equal(sl_commit_describe(&m.msg, &TOPICS, &r), SL_OK);
    assert_int_equal(r.kind, SL_ROW_REVIEW);
    assert_string_equal(r.upload_id, "up-1");
    assert_string_equal(r.detected_type, "text/plain");
    assert_string_equal(r.scan, flagged);
    assert_string_equal(r.original_sha256, "");
    assert_string_equal(sl_commit_row_origin(&r), SHA_HELLO);
    assert_non_null(r.chain);
    sl_commit_row_clear(&r);
    fx_msg_free(&m);

    sample_msg(&m, "up-2", "hello", META_FULL, 2);
    fx_msg_header_str(&m, SL_H_SCAN, accepted);
    assert_int_equal(sl_commit_describe(&m.msg, &TOPICS, &r), SL_OK);
    assert_int_equal(r.kind, SL_ROW_SAMPLE);
    assert_string_equal(r.detected_type, "text/plain");
    sl_commit_row_clear(&r);
    fx_msg_free(&m);

    /* the topic decides: flagged elsewhere, or not flagged on sluice.flagged,
     * is not a scan result commit believes */
    sample_msg(&m, "up-1", "hello", META_FULL, 2);
    fx_msg_header_str(&m, SL_H_SCAN, flagged);
    expect_commit_reject(&m, &r, "scan_invalid", "sluice-scan header");
    sl_commit_row_clear(&r);
    fx_msg_free(&m);
    sample_msg(&m, "up-2", "hello", META_FULL, 2);
    m.msg.topic = "sluice.flagged";
    fx_msg_header_str(&m, SL_H_SCAN, accepted);
    expect_commit_reject(&m, &r, "scan_invalid", "sluice-scan header");
    sl_commit_row_clear(&r);
    fx_msg_free(&m);
}

/* Redacted bytes: the chain starts at the hash of what the creator signed
 * (original_sha256), not at the bytes that arrive. */
static void test_scan_redacted_chain(void **state)
{
    char orig[SL_SHA256_HEX], red[SL_SHA256_HEX], scan[256];
    sl_commit_row r;
    sl_buf chain;
    fx_msg m;

    (void)state;
    assert_int_equal(sl_sha256_hex("secret hello", 12, orig), SL_OK);
    assert_int_equal(sl_sha256_hex("[REDACTED] hello", 16, red), SL_OK);
    fx_msg_init(&m, "up-3", "[REDACTED] hello", 16);
    m.msg.topic = "sluice.scanned";
    fx_msg_header_str(&m, SL_H_META, META_FULL);
    fx_msg_header_str(&m, SL_H_SIG, SIG);
    sl_buf_init(&chain, 1 << 20);
    build_chain_to(&chain, orig, red, 2);
    fx_msg_header(&m, SL_H_PROV, chain.data, chain.len);
    snprintf(scan, sizeof(scan), "{\"outcome\":\"redacted\",\"original_sha256\":\"%s\"}", orig);
    fx_msg_header_str(&m, SL_H_SCAN, scan);
    assert_int_equal(sl_commit_describe(&m.msg, &TOPICS, &r), SL_OK);
    assert_int_equal(r.kind, SL_ROW_SAMPLE);
    assert_string_equal(r.original_sha256, orig);
    assert_string_equal(sl_commit_row_origin(&r), orig);
    assert_non_null(r.chain);
    sl_commit_row_clear(&r);

    /* the same chain without the scan header does not verify */
    fx_msg_drop_header(&m, SL_H_SCAN);
    expect_commit_reject(&m, &r, "provenance_invalid", "provenance chain broken");
    sl_commit_row_clear(&r);
    sl_buf_free(&chain);
    fx_msg_free(&m);
}

/* The bytes commit stores must hash to what the chain's last output says,
 * the chain must start where the signed metadata's sha256 does, and a
 * sluice-sha256 header must agree: else content_hash_mismatch. */
static void test_content_hash_mismatch(void **state)
{
    char orig[SL_SHA256_HEX], scan[256], meta[1024];
    sl_commit_row r;
    sl_buf chain;
    fx_msg m;

    (void)state;
    /* bytes swapped after a (fake) redaction: the chain says SHA_WORLD */
    assert_int_equal(sl_sha256_hex("secret hello", 12, orig), SL_OK);
    fx_msg_init(&m, "up-3", "hello", 5);
    m.msg.topic = "sluice.licensed";
    fx_msg_header_str(&m, SL_H_META, META_FULL);
    fx_msg_header_str(&m, SL_H_SIG, SIG);
    sl_buf_init(&chain, 1 << 20);
    build_chain_to(&chain, orig, SHA_WORLD, 3);
    fx_msg_header(&m, SL_H_PROV, chain.data, chain.len);
    snprintf(scan, sizeof(scan), "{\"outcome\":\"redacted\",\"original_sha256\":\"%s\"}", orig);
    fx_msg_header_str(&m, SL_H_SCAN, scan);
    expect_commit_reject(&m, &r, "content_hash_mismatch",
                         "the bytes hash to " "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
                         ", which is not what the provenance chain's last output hash says");
    sl_commit_row_clear(&r);
    fx_msg_free(&m);
    sl_buf_free(&chain);

    /* the signed metadata declares other bytes than the chain starts at */
    snprintf(meta, sizeof(meta), "{\"upload_id\":\"up-1\",\"creator_id\":\"alice\","
             "\"dataset_id\":\"ds-1\",\"content_type\":\"text/plain\","
             "\"license\":{\"expression\":\"MIT\"},\"sha256\":\"%s\","
             "\"created_at\":\"" CREATED "\"}", SHA_WORLD);
    sample_msg(&m, "up-1", "hello", meta, 2);
    expect_commit_reject(&m, &r, "content_hash_mismatch",
                         "the bytes hash to 2cf24dba");
    assert_non_null(strstr(r.detail, "the signed metadata's sha256"));
    sl_commit_row_clear(&r);
    fx_msg_free(&m);
    /* ... and the same declaring the right bytes is a sample */
    snprintf(meta, sizeof(meta), "{\"upload_id\":\"up-1\",\"creator_id\":\"alice\","
             "\"dataset_id\":\"ds-1\",\"content_type\":\"text/plain\","
             "\"license\":{\"expression\":\"MIT\"},\"sha256\":\"%s\","
             "\"created_at\":\"" CREATED "\"}", SHA_HELLO);
    sample_msg(&m, "up-1", "hello", meta, 2);
    fx_msg_header_str(&m, SL_H_SHA256, SHA_HELLO);
    assert_int_equal(sl_commit_describe(&m.msg, &TOPICS, &r), SL_OK);
    assert_int_equal(r.kind, SL_ROW_SAMPLE);
    sl_commit_row_clear(&r);
    /* a sluice-sha256 header naming other bytes */
    hdr_replace(&m, SL_H_SHA256, SHA_WORLD);
    expect_commit_reject(&m, &r, "content_hash_mismatch", "the bytes hash to 2cf24dba");
    assert_non_null(strstr(r.detail, "the sluice-sha256 header"));
    sl_commit_row_clear(&r);
    fx_msg_free(&m);
}

/* A scan header that is not a scan result is refused, not guessed at. */
static void test_scan_invalid(void **state)
{
    static const char *const bad[] = {
        "not json", "[]", "{}", "{\"outcome\":1}",
        "{\"outcome\":\"redacted\",\"original_sha256\":\"abc\"}",
        /* 64 characters are not enough: lowercase hex digits, as license
         * reads them (sl/envelope.h) */
        "{\"outcome\":\"redacted\",\"original_sha256\":\"23B9329E962A84C5940CF0D64"
        "A80E549AB71512DA3FB5283016F55BA67AAC79E\"}",
        "{\"outcome\":\"redacted\",\"original_sha256\":\"zzzzzzzzzzzzzzzzzzzzzzzzz"
        "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\"}",
        "{\"outcome\":\"accepted\",\"outcome\":\"flagged\"}",
    };
    sl_commit_row r;
    fx_msg m;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sample_msg(&m, "up-4", "hello", META_FULL, 2);
        fx_msg_header_str(&m, SL_H_SCAN, bad[i]);
        expect_commit_reject(&m, &r, "scan_invalid", "sluice-scan header");
        sl_commit_row_clear(&r);
        fx_msg_free(&m);
    }
}

/* ==== splitting a batch the database refuses ============================= */

/* A model database: a set fails when it holds a poison row, or both rows
 * of a clashing pair; "down" makes every try fail as a lost connection. */
typedef struct model {
    unsigned char poison[64];
    int clash_a, clash_b;        /* -1: none */
    int down;
    int tries;
} model;

static int model_try(void *ctx, const size_t *idx, size_t k)
{
    model *m = ctx;
    int a = 0, b = 0;

    m->tries++;
    if (m->down)
        return SL_EIO;
    for (size_t i = 0; i < k; i++) {
        if (m->poison[idx[i]])
            return 1;
        a |= (int)idx[i] == m->clash_a;
        b |= (int)idx[i] == m->clash_b;
    }
    return a && b;
}

static void bisect_all(model *m, size_t n, unsigned char *bad)
{
    size_t idx[64];

    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    memset(bad, 0, 64);
    assert_int_equal(sl_commit_bisect(idx, n, model_try, m, bad), SL_OK);
}

static void test_bisect(void **state)
{
    unsigned char bad[64];
    model m;

    (void)state;
    /* one poison row among 64: found in 2 log2(64) = 12 tries */
    memset(&m, 0, sizeof(m));
    m.clash_a = m.clash_b = -1;
    m.poison[37] = 1;
    bisect_all(&m, 64, bad);
    for (int i = 0; i < 64; i++)
        if (bad[i] != (i == 37))
            fail_msg("row %d marked %d", i, bad[i]);
    assert_int_equal(m.tries, 12);

    /* several, adjacent and at both ends */
    memset(&m, 0, sizeof(m));
    m.clash_a = m.clash_b = -1;
    m.poison[0] = m.poison[1] = m.poison[2] = m.poison[63] = 1;
    bisect_all(&m, 64, bad);
    assert_memory_equal(bad, m.poison, 64);

    /* every row */
    memset(&m, 0, sizeof(m));
    m.clash_a = m.clash_b = -1;
    memset(m.poison, 1, 5);
    bisect_all(&m, 5, bad);
    assert_memory_equal(bad, m.poison, 5);

    /* a single failing row needs no try */
    memset(&m, 0, sizeof(m));
    m.clash_a = m.clash_b = -1;
    m.poison[0] = 1;
    bisect_all(&m, 1, bad);
    assert_int_equal(bad[0], 1);
    assert_int_equal(m.tries, 0);

    /* two rows that fail only together, in different halves: only the
     * later one is the offender, the other is stored */
    memset(&m, 0, sizeof(m));
    m.clash_a = 3;
    m.clash_b = 12;
    bisect_all(&m, 16, bad);
    for (int i = 0; i < 16; i++)
        if (bad[i] != (i == 12))
            fail_msg("clash: row %d marked %d", i, bad[i]);
    /* in the same half: found there */
    memset(&m, 0, sizeof(m));
    m.clash_a = 1;
    m.clash_b = 2;
    bisect_all(&m, 16, bad);
    for (int i = 0; i < 16; i++)
        if (bad[i] != (i == 2))
            fail_msg("clash in a half: row %d marked %d", i, bad[i]);

    /* a set that fails although no subset does (the database changed under
     * us): still progress, the last row */
    memset(&m, 0, sizeof(m));
    m.clash_a = m.clash_b = -1;
    {
        size_t idx[4] = { 0, 1, 2, 3 };
        memset(bad, 0, sizeof(bad));
        assert_int_equal(sl_commit_bisect(idx, 4, model_try, &m, bad), SL_OK);
        assert_int_equal(bad[0] + bad[1] + bad[2] + bad[3], 1);
        assert_int_equal(bad[3], 1);
    }

    /* a lost connection stops the search with its code */
    memset(&m, 0, sizeof(m));
    m.clash_a = m.clash_b = -1;
    m.down = 1;
    {
        size_t idx[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
        memset(bad, 0, sizeof(bad));
        assert_int_equal(sl_commit_bisect(idx, 8, model_try, &m, bad), SL_EIO);
        assert_int_equal(m.tries, 1);
    }
}

/* ==== exact pair set ====================================================== */

/* Pairs with the same fingerprint (a collision, forced here) stay
 * distinct: membership is decided on the full strings.  The set grows
 * past its first table. */
static void test_pairset_collisions(void **state)
{
    sl_pairset *s = sl_pairset_new();
    char a[32];

    (void)state;
    assert_non_null(s);
    assert_int_equal(sl_pairset_add(s, 42, "ds-1", SHA_HELLO), SL_OK);
    assert_true(sl_pairset_has(s, 42, "ds-1", SHA_HELLO));
    /* same fingerprint, other content or dataset: not a member */
    assert_false(sl_pairset_has(s, 42, "ds-1", SHA_WORLD));
    assert_false(sl_pairset_has(s, 42, "ds-2", SHA_HELLO));
    assert_false(sl_pairset_has(s, 42, "ds-1h", ""));   /* no confusion at the seam */
    assert_false(sl_pairset_has(s, 43, "ds-1", SHA_HELLO));
    assert_int_equal(sl_pairset_add(s, 42, "ds-1", SHA_WORLD), SL_OK);
    assert_true(sl_pairset_has(s, 42, "ds-1", SHA_WORLD));
    assert_true(sl_pairset_has(s, 42, "ds-1", SHA_HELLO));
    /* 1000 upload ids all on one fingerprint, then on their own */
    for (int i = 0; i < 1000; i++) {
        snprintf(a, sizeof(a), "up-%d", i);
        assert_int_equal(sl_pairset_add(s, 7, a, ""), SL_OK);
        assert_int_equal(sl_pairset_add(s, (uint64_t)i * 2654435761u, a, "x"), SL_OK);
    }
    assert_int_equal(sl_pairset_add(s, 7, "up-5", ""), SL_OK);   /* again: no-op */
    for (int i = 0; i < 1000; i++) {
        snprintf(a, sizeof(a), "up-%d", i);
        assert_true(sl_pairset_has(s, 7, a, ""));
        assert_true(sl_pairset_has(s, (uint64_t)i * 2654435761u, a, "x"));
        assert_false(sl_pairset_has(s, 7, a, "x"));
    }
    assert_false(sl_pairset_has(s, 7, "up-1000", ""));
    sl_pairset_destroy(s);
    sl_pairset_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_full),
        cmocka_unit_test(test_sample_minimal_and_chain),
        cmocka_unit_test(test_rejection_full),
        cmocka_unit_test(test_rejection_minimal),
        cmocka_unit_test(test_rejection_withheld),
        cmocka_unit_test(test_rejection_fallbacks),
        cmocka_unit_test(test_rejection_bad_meta),
        cmocka_unit_test(test_commit_meta_invalid),
        cmocka_unit_test(test_commit_signature_missing),
        cmocka_unit_test(test_commit_provenance_invalid),
        cmocka_unit_test(test_commit_check_order),
        cmocka_unit_test(test_created_at_utc),
        cmocka_unit_test(test_forged_reject_headers),
        cmocka_unit_test(test_rejection_hostile_headers),
        cmocka_unit_test(test_row_reject_and_clear),
        cmocka_unit_test(test_scan_flagged_and_accepted),
        cmocka_unit_test(test_scan_redacted_chain),
        cmocka_unit_test(test_scan_invalid),
        cmocka_unit_test(test_content_hash_mismatch),
        cmocka_unit_test(test_bisect),
        cmocka_unit_test(test_pairset_collisions),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
