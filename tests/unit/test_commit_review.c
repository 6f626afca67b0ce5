/*
 * test_commit_review.c -- unit tests for the review-aware part of
 * services/commit/commit.c: a flagged sample a moderator approved or
 * redacted arrives from license with the chain validate, scan,
 * commit(queued_for_review), review, license.  sl_commit_describe() makes
 * it a sample (its sluice-scan still says flagged), notes the review event
 * for the database check, starts a redacted one's chain at the flagged
 * bytes' hash (original_sha256), and checks the bytes against the review
 * event's output hash.  A flagged result without such an event stays
 * scan_invalid.
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

#include "sl/crypto.h"
#include "sl/prov.h"
#include "fixtures.h"
#include "commit.h"

/* SHA-256 of "hello", of "world" and of "other". */
static const char SHA_HELLO[] =
    "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
static const char SHA_WORLD[] =
    "486ea46224d1bb4fb680f34f7c9ad96a8f24ec88be73ea8e5a6c65260e9cb8a7";

#define T_MS INT64_C(1795840629123)

static const char META[] =
    "{\"schema_version\":1,\"upload_id\":\"up-1\",\"creator_id\":\"alice\","
    "\"dataset_id\":\"ds-1\",\"content_type\":\"text/plain\","
    "\"license\":{\"expression\":\"MIT\"},"
    "\"attestation\":{\"version\":1,\"rights_holder\":true},"
    "\"created_at\":\"2026-11-28T04:37:09.123Z\","
    "\"sha256\":\"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\"}";
static const char FLAGGED[] =
    "{\"outcome\":\"flagged\",\"detected_type\":\"text/plain\","
    "\"findings\":[{\"rule\":\"email\",\"offset\":0,\"length\":5}]}";
static const sl_commit_topics TOPICS = { "sluice.rejected", "sluice.flagged" };

/* The chain as the relay and license leave it: validate, scan (flagged),
 * commit (queued_for_review), review (outcome: shown -> sent), license
 * (license_in -> license_in).  review NULL: no review event. */
static void chain(sl_buf *out, const char *review, const char *sent,
                  const char *license_in)
{
    struct { const char *stage, *outcome, *in, *out; } ev[5] = {
        { "validate", "accepted", SHA_HELLO, SHA_HELLO },
        { "scan", "flagged", SHA_HELLO, SHA_HELLO },
        { "commit", "queued_for_review", SHA_HELLO, SHA_HELLO },
        { "review", review, SHA_HELLO, sent },
        { "license", "accepted", license_in, license_in },
    };
    sl_buf prev;
    sl_err err = { "" };

    sl_buf_init(&prev, 1 << 20);
    sl_buf_reset(out);
    for (size_t i = 0; i < 5; i++) {
        sl_prov_event e = {
            .stage = ev[i].stage, .version = "v1", .outcome = ev[i].outcome,
            .reason = i == 3 ? "false_positive" : NULL, .upload_id = "up-1",
            .input_sha256 = ev[i].in, .output_sha256 = ev[i].out, .time_ms = T_MS,
        };
        if (i == 3 && !review)
            continue;
        if (sl_prov_append((sl_slice){ prev.data, prev.len }, SHA_HELLO, &e, out,
                           NULL, &err) != SL_OK)
            fail_msg("sl_prov_append: %s", err.msg);
        sl_buf_reset(&prev);
        assert_int_equal(sl_buf_append(&prev, out->data, out->len), SL_OK);
    }
    sl_buf_free(&prev);
}

static void licensed_msg(fx_msg *m, const char *value, const char *review,
                         const char *sent, const char *license_in)
{
    sl_buf c;

    fx_msg_init(m, "up-1", value, strlen(value));
    m->msg.topic = "sluice.licensed";
    m->msg.partition = 0;
    m->msg.offset = 7;
    fx_msg_header_str(m, SL_H_META, META);
    fx_msg_header_str(m, SL_H_SIG, "ed25519=c2ln");
    fx_msg_header_str(m, SL_H_SCAN, FLAGGED);
    fx_msg_header_str(m, SL_H_LICENSE, "{\"expression\":\"MIT\"}");
    sl_buf_init(&c, 1 << 20);
    chain(&c, review, sent, license_in);
    fx_msg_header(m, SL_H_PROV, c.data, c.len);
    sl_buf_free(&c);
}

static void test_approved(void **state)
{
    sl_commit_row r;
    fx_msg m;

    (void)state;
    licensed_msg(&m, "hello", "approved", SHA_HELLO, SHA_HELLO);
    assert_int_equal(sl_commit_describe(&m.msg, &TOPICS, &r), SL_OK);
    assert_int_equal(r.kind, SL_ROW_SAMPLE);
    assert_null(r.code);
    assert_non_null(r.chain);
    assert_int_equal(sl_prov_count(r.chain), 5);
    assert_int_equal(r.review_seq, 4);
    assert_string_equal(r.review_outcome, "approved");
    assert_int_equal(strlen(r.review_hash), 64);
    assert_int_equal(sl_commit_row_reviewed(&r), 1);
    assert_string_equal(r.original_sha256, "");
    assert_string_equal(r.sha256, SHA_HELLO);
    assert_string_equal(r.scan, FLAGGED);
    sl_commit_row_clear(&r);
    fx_msg_free(&m);
}

static void test_redacted(void **state)
{
    sl_commit_row r;
    fx_msg m;

    (void)state;
    licensed_msg(&m, "world", "redacted", SHA_WORLD, SHA_WORLD);
    assert_int_equal(sl_commit_describe(&m.msg, &TOPICS, &r), SL_OK);
    assert_int_equal(r.kind, SL_ROW_SAMPLE);
    assert_null(r.code);
    assert_non_null(r.chain);
    assert_string_equal(r.review_outcome, "redacted");
    assert_string_equal(r.sha256, SHA_WORLD);
    /* the signed, flagged bytes' hash: where the chain starts */
    assert_string_equal(r.original_sha256, SHA_HELLO);
    assert_string_equal(sl_commit_row_origin(&r), SHA_HELLO);
    sl_commit_row_clear(&r);
    fx_msg_free(&m);
}

/* The bytes must be what the review event says it sent on, even when the
 * events after it agree with the bytes. */
static void test_redacted_other_bytes(void **state)
{
    sl_commit_row r;
    fx_msg m;

    (void)state;
    licensed_msg(&m, "world", "redacted",
                 "0000000000000000000000000000000000000000000000000000000000000000",
                 SHA_WORLD);
    assert_int_equal(sl_commit_describe(&m.msg, &TOPICS, &r), SL_OK);
    assert_int_equal(r.kind, SL_ROW_REJECTION);
    assert_string_equal(r.code, "content_hash_mismatch");
    assert_non_null(strstr(r.detail, "the review event's output hash"));
    sl_commit_row_clear(&r);
    fx_msg_free(&m);
}

/* Only approved and redacted let a flagged result on. */
static void test_flagged_without_approval(void **state)
{
    sl_commit_row r;
    fx_msg m;

    (void)state;
    licensed_msg(&m, "hello", NULL, NULL, SHA_HELLO);
    assert_int_equal(sl_commit_describe(&m.msg, &TOPICS, &r), SL_OK);
    assert_int_equal(r.kind, SL_ROW_REJECTION);
    assert_string_equal(r.code, "scan_invalid");
    assert_int_equal(r.review_seq, 0);
    sl_commit_row_clear(&r);
    fx_msg_free(&m);

    licensed_msg(&m, "hello", "rejected", NULL, SHA_HELLO);
    assert_int_equal(sl_commit_describe(&m.msg, &TOPICS, &r), SL_OK);
    assert_int_equal(r.kind, SL_ROW_REJECTION);
    assert_string_equal(r.code, "scan_invalid");
    assert_int_equal(r.review_seq, 4);
    assert_string_equal(r.review_outcome, "rejected");
    sl_commit_row_clear(&r);
    fx_msg_free(&m);
    /* a real rejection's chain with the flagged result taken off is no
     * sample either, whatever the database says of the decision */
    licensed_msg(&m, "hello", "rejected", NULL, SHA_HELLO);
    fx_msg_drop_header(&m, SL_H_SCAN);
    assert_int_equal(sl_commit_describe(&m.msg, &TOPICS, &r), SL_OK);
    assert_int_equal(r.kind, SL_ROW_REJECTION);
    assert_string_equal(r.code, "review_unverified");
    assert_string_equal(r.detail, "the chain's review event says \"rejected\", "
                        "not approved or redacted");
    sl_commit_row_clear(&r);
    fx_msg_free(&m);
}

/* A moderator's rejection as the relay sends it: a dead letter, value
 * withheld, chain through the review event rejected.  Its identity is the
 * flagged message's position; its chain verifies from the stored bytes. */
static void test_moderator_rejected(void **state)
{
    sl_commit_row r;
    sl_buf c;
    fx_msg m;

    (void)state;
    fx_msg_init(&m, "up-1", "", 0);
    m.msg.topic = "sluice.rejected";
    m.msg.partition = 2;
    m.msg.offset = 40;
    fx_msg_header_str(&m, SL_H_META, META);
    fx_msg_header_str(&m, SL_H_SIG, "ed25519=c2ln");
    sl_buf_init(&c, 1 << 20);
    chain(&c, "rejected", NULL, NULL);
    /* chain() always ends with license: keep the first four events only */
    {
        sl_err err = { "" };
        sl_prov_chain *pc = sl_prov_parse((sl_slice){ c.data, c.len }, &err);
        const char *cn, *h, *st, *oc;
        int64_t seq;
        sl_buf four;
        assert_non_null(pc);
        sl_buf_init(&four, 1 << 20);
        assert_int_equal(sl_buf_append(&four, "[", 1), SL_OK);
        for (size_t i = 0; i < 4; i++) {
            json_t *e;
            char *t;
            assert_int_equal(sl_prov_get(pc, i, &cn, &h, &st, &oc, &seq), SL_OK);
            e = json_pack("{s:s, s:s}", "event", cn, "hash", h);
            t = json_dumps(e, JSON_COMPACT);
            assert_int_equal(sl_buf_appendf(&four, "%s%s", i ? "," : "", t), SL_OK);
            free(t);
            json_decref(e);
        }
        assert_int_equal(sl_buf_append(&four, "]", 1), SL_OK);
        fx_msg_header(&m, SL_H_PROV, four.data, four.len);
        sl_buf_free(&four);
        sl_prov_chain_destroy(pc);
    }
    sl_buf_free(&c);
    fx_msg_header_str(&m, SL_H_REJ_STAGE, "review");
    fx_msg_header_str(&m, SL_H_REJ_CODE, "moderator_rejected");
    fx_msg_header_str(&m, SL_H_REJ_DETAIL, "confirmed_pii: a real address");
    fx_msg_header_str(&m, SL_H_REJ_TOPIC, "sluice.flagged");
    fx_msg_header_str(&m, SL_H_REJ_PART, "1");
    fx_msg_header_str(&m, SL_H_REJ_OFFSET, "17");
    fx_msg_header_str(&m, SL_H_REJ_TIME, "1795840629123");
    fx_msg_header_str(&m, SL_H_REJ_VALUE, "withheld");
    fx_msg_header_str(&m, SL_H_REJ_VALUE_SHA256, SHA_HELLO);
    fx_msg_header_str(&m, SL_H_REJ_VALUE_SIZE, "5");
    assert_int_equal(sl_commit_describe(&m.msg, &TOPICS, &r), SL_OK);
    assert_int_equal(r.kind, SL_ROW_REJECTION);
    assert_string_equal(r.stage, "review");
    assert_string_equal(r.code, "moderator_rejected");
    assert_string_equal(r.detail, "confirmed_pii: a real address");
    assert_string_equal(r.source_topic, "sluice.flagged");
    assert_int_equal(r.source_partition, 1);
    assert_int_equal(r.source_offset, 17);
    assert_string_equal(r.sha256, SHA_HELLO);
    assert_int_equal(r.size, 5);
    assert_non_null(r.chain);            /* continued, not restarted */
    assert_int_equal(sl_prov_count(r.chain), 4);
    assert_string_equal(r.review_outcome, "rejected");
    sl_commit_row_clear(&r);
    fx_msg_free(&m);
}

/* license refusing a redacted one (an opt-out since): the dead letter's
 * value is the redaction, its chain still starts at the flagged bytes. */
static void test_redacted_license_rejection(void **state)
{
    sl_commit_row r;
    fx_msg m;

    (void)state;
    licensed_msg(&m, "world", "redacted", SHA_WORLD, SHA_WORLD);
    m.msg.topic = "sluice.rejected";
    fx_msg_header_str(&m, SL_H_REJ_STAGE, "license");
    fx_msg_header_str(&m, SL_H_REJ_CODE, "opted_out");
    fx_msg_header_str(&m, SL_H_REJ_TOPIC, "sluice.reviewed");
    fx_msg_header_str(&m, SL_H_REJ_PART, "0");
    fx_msg_header_str(&m, SL_H_REJ_OFFSET, "3");
    assert_int_equal(sl_commit_describe(&m.msg, &TOPICS, &r), SL_OK);
    assert_int_equal(r.kind, SL_ROW_REJECTION);
    assert_string_equal(r.code, "opted_out");
    assert_string_equal(r.sha256, SHA_WORLD);
    assert_string_equal(sl_commit_row_origin(&r), SHA_HELLO);
    assert_non_null(r.chain);
    assert_int_equal(sl_prov_count(r.chain), 5);
    sl_commit_row_clear(&r);
    fx_msg_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_approved),
        cmocka_unit_test(test_redacted),
        cmocka_unit_test(test_redacted_other_bytes),
        cmocka_unit_test(test_flagged_without_approval),
        cmocka_unit_test(test_moderator_rejected),
        cmocka_unit_test(test_redacted_license_rejection),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
