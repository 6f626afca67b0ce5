/*
 * test_review_event.c -- unit tests for common/src/review_event.c: a
 * decision appended to a flagged sample's stored chain (validate, scan,
 * commit queued_for_review) gives the exact event text and a sluice-prov
 * header that verifies from the signed content; every rule of the
 * decision event and every break of the stored chain is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sl/review_event.h"

#define T_MS INT64_C(1795840629123)   /* 2026-11-28T04:37:09.123Z */

/* SHA-256 of "hello" and of "world". */
static const char content[] =
    "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
static const char other[] =
    "486ea46224d1bb4fb680f34f7c9ad96a8f24ec88be73ea8e5a6c65260e9cb8a7";

/* The stored chain of owner (review, up-1) as commit leaves it. */
typedef struct stored {
    sl_buf header;
    sl_prov_chain *chain;
    sl_review_stored rows[3];
} stored;

static void stored_build(stored *s)
{
    static const char *stage[3] = { "validate", "scan", "commit" };
    static const char *outcome[3] = { "accepted", "flagged", "queued_for_review" };
    sl_buf tmp;
    sl_err err = { "" };

    sl_buf_init(&s->header, 1 << 20);
    sl_buf_init(&tmp, 1 << 20);
    for (size_t i = 0; i < 3; i++) {
        sl_prov_event ev = {
            .stage = stage[i], .version = "v1", .outcome = outcome[i],
            .upload_id = "up-1", .input_sha256 = content,
            .output_sha256 = content, .time_ms = T_MS,
        };
        assert_int_equal(sl_prov_append((sl_slice){ tmp.data, tmp.len }, content,
                                        &ev, &s->header, NULL, &err), SL_OK);
        sl_buf_reset(&tmp);
        assert_int_equal(sl_buf_append(&tmp, s->header.data, s->header.len), SL_OK);
    }
    sl_buf_free(&tmp);
    s->chain = sl_prov_parse((sl_slice){ s->header.data, s->header.len }, &err);
    assert_non_null(s->chain);
    for (size_t i = 0; i < 3; i++) {
        const char *st, *oc;
        assert_int_equal(sl_prov_get(s->chain, i, &s->rows[i].canonical,
                                     &s->rows[i].hash, &st, &oc,
                                     &s->rows[i].seq), SL_OK);
    }
}

static void stored_free(stored *s)
{
    sl_prov_chain_destroy(s->chain);
    sl_buf_free(&s->header);
}

static sl_prov_event decision(const char *outcome, const char *output)
{
    return (sl_prov_event){
        .stage = "review", .version = "review/1", .outcome = outcome,
        .reason = "false_positive", .upload_id = "up-1",
        .input_sha256 = content, .output_sha256 = output, .time_ms = T_MS,
    };
}

static int append(const sl_review_stored *rows, size_t n, sl_prov_event ev,
                  const char *frag)
{
    sl_buf prov;
    sl_review_appended app;
    sl_err err = { "" };
    int rc;

    sl_buf_init(&prov, 1 << 20);
    rc = sl_review_event_append(rows, n, &ev, &prov, NULL, &app, &err);
    if (frag && !strstr(err.msg, frag))
        fail_msg("error \"%s\" lacks \"%s\"", err.msg, frag);
    sl_buf_free(&prov);
    return rc;
}

static void test_approve(void **state)
{
    stored s;
    sl_buf prov, canon;
    sl_review_appended app;
    sl_prov_event ev = decision("approved", content);
    sl_err err = { "" };
    char want[1024];
    sl_prov_chain *c;
    const char *cn, *h, *st, *oc;
    int64_t seq;

    (void)state;
    stored_build(&s);
    sl_buf_init(&prov, 1 << 20);
    sl_buf_init(&canon, 1 << 20);
    assert_int_equal(sl_review_event_append(s.rows, 3, &ev, &prov, &canon, &app,
                                            &err), SL_OK);
    assert_int_equal(app.seq, 4);
    assert_string_equal(app.prev, s.rows[2].hash);
    snprintf(want, sizeof(want),
             "{\"input_sha256\":\"%s\",\"outcome\":\"approved\","
             "\"output_sha256\":\"%s\",\"prev\":\"%s\",\"reason\":\"false_positive\","
             "\"seq\":4,\"stage\":\"review\",\"time\":\"2026-11-28T04:37:09.123Z\","
             "\"upload_id\":\"up-1\",\"version\":\"review/1\"}",
             content, content, s.rows[2].hash);
    assert_string_equal((const char *)canon.data, want);
    /* The header is the stored chain plus the event, from the signed hash. */
    assert_int_equal(sl_prov_verify((sl_slice){ prov.data, prov.len }, content,
                                    &err), SL_OK);
    c = sl_prov_parse((sl_slice){ prov.data, prov.len }, &err);
    assert_non_null(c);
    assert_int_equal(sl_prov_count(c), 4);
    assert_int_equal(sl_prov_get(c, 2, &cn, &h, &st, &oc, &seq), SL_OK);
    assert_string_equal(h, s.rows[2].hash);
    assert_int_equal(sl_prov_get(c, 3, &cn, &h, &st, &oc, &seq), SL_OK);
    assert_string_equal(st, "review");
    assert_string_equal(oc, "approved");
    assert_string_equal(h, app.hash);
    sl_prov_chain_destroy(c);
    sl_buf_free(&prov);
    sl_buf_free(&canon);
    stored_free(&s);
}

static void test_redact_and_reject(void **state)
{
    stored s;

    (void)state;
    stored_build(&s);
    assert_int_equal(append(s.rows, 3, decision("redacted", other), NULL), SL_OK);
    assert_int_equal(append(s.rows, 3, decision("redacted", content),
                            "redaction's output"), SL_EINVAL);
    assert_int_equal(append(s.rows, 3, decision("redacted", NULL),
                            "redaction's output"), SL_EINVAL);
    assert_int_equal(append(s.rows, 3, decision("rejected", NULL), NULL), SL_OK);
    assert_int_equal(append(s.rows, 3, decision("rejected", content),
                            "output hash null"), SL_EINVAL);
    assert_int_equal(append(s.rows, 3, decision("approved", other),
                            "approval's output"), SL_EINVAL);
    stored_free(&s);
}

static void test_event_rules(void **state)
{
    stored s;
    sl_prov_event ev;

    (void)state;
    stored_build(&s);
    ev = decision("approved", content);
    ev.stage = "license";
    assert_int_equal(append(s.rows, 3, ev, "stage must be"), SL_EINVAL);
    ev = decision("accepted", content);
    assert_int_equal(append(s.rows, 3, ev, "outcome must be"), SL_EINVAL);
    ev = decision("approved", content);
    ev.upload_id = "up-2";
    assert_int_equal(append(s.rows, 3, ev, "upload id"), SL_EINVAL);
    ev = decision("approved", other);
    ev.input_sha256 = other;    /* not the bytes commit stored */
    assert_int_equal(append(s.rows, 3, ev, "input hash"), SL_EINVAL);
    stored_free(&s);
}

static void test_stored_breaks(void **state)
{
    stored s;
    sl_review_stored rows[3];
    char *bad;

    (void)state;
    stored_build(&s);
    assert_int_equal(append(s.rows, 0, decision("approved", content), NULL),
                     SL_EINVAL);
    /* a gap: validate, commit */
    rows[0] = s.rows[0];
    rows[1] = s.rows[2];
    assert_int_equal(append(rows, 2, decision("approved", content), NULL),
                     SL_EINVAL);
    /* a changed byte in the scan event's text */
    memcpy(rows, s.rows, sizeof(rows));
    bad = strdup(s.rows[1].canonical);
    assert_non_null(bad);
    bad[strlen(bad) - 3] ^= 1;
    rows[1].canonical = bad;
    assert_int_equal(append(rows, 3, decision("approved", content), "hash"),
                     SL_EINVAL);
    free(bad);
    /* the seq column disagreeing with the text */
    memcpy(rows, s.rows, sizeof(rows));
    rows[2].seq = 5;
    assert_int_equal(append(rows, 3, decision("approved", content), "seq 5"),
                     SL_EINVAL);
    stored_free(&s);
}

static void test_header(void **state)
{
    sl_buf b;
    sl_err err = { "" };

    (void)state;
    sl_buf_init(&b, 4096);
    assert_int_equal(sl_review_header(7, "approve", "false_positive", "mo", &b,
                                      &err), SL_OK);
    assert_int_equal(sl_buf_cstr(&b), SL_OK);
    assert_string_equal((const char *)b.data, "{\"action\":\"approve\","
                        "\"decision_id\":7,\"moderator\":\"mo\","
                        "\"reason\":\"false_positive\"}");
    assert_int_equal(sl_review_header(7, "delete", "x", "mo", &b, &err), SL_EINVAL);
    assert_int_equal(sl_review_header(7, "reject", "\xff", "mo", &b, &err),
                     SL_EINVAL);
    sl_buf_free(&b);
}

static const sl_review_item ITEM = {
    .upload_id = "up-1", .meta = "{\"upload_id\":\"up-1\"}",
    .signature = "ed25519=c2ln", .findings = "{\"outcome\":\"flagged\"}",
    .sha256 = content, .size = 5, .source_topic = "p-sluice.flagged",
    .source_partition = 2, .source_offset = 41,
};

/* "name=value" of every header, one per line, into out. */
static void headers_text(const sl_review_message *m, char *out, size_t size)
{
    size_t w = 0;

    for (size_t i = 0; i < m->n; i++) {
        int k = snprintf(out + w, size - w, "%s=%s\n", m->name[i], m->value[i]);
        assert_true(k > 0 && (size_t)k < size - w);
        w += (size_t)k;
    }
}

static void test_message_approve(void **state)
{
    sl_review_decision d = { 7, "redact", "confirmed_pii", NULL, "mo", T_MS };
    sl_review_message m;
    sl_err err = { "" };
    char got[4096], want[4096];

    (void)state;
    assert_int_equal(sl_review_message_build(&ITEM, &d, "[PROV]", other, &m, &err),
                     SL_OK);
    assert_string_equal(m.topic, "sluice.reviewed");
    headers_text(&m, got, sizeof(got));
    snprintf(want, sizeof(want),
             "sluice-meta={\"upload_id\":\"up-1\"}\n"
             "sluice-sig=ed25519=c2ln\n"
             "sluice-prov=[PROV]\n"
             "sluice-sha256=%s\n"
             "sluice-scan={\"outcome\":\"flagged\"}\n"
             "sluice-review={\"action\":\"redact\",\"decision_id\":7,"
             "\"moderator\":\"mo\",\"reason\":\"confirmed_pii\"}\n", other);
    assert_string_equal(got, want);
    sl_review_message_clear(&m);
    assert_int_equal(m.n, 0);
}

static void test_message_reject(void **state)
{
    sl_review_decision d = { 8, "reject", "harmful_content",
                             "line one\nline\ttwo \\ \x01 caf\xc3\xa9", "mo", T_MS };
    sl_review_message m;
    sl_err err = { "" };
    char got[4096], want[4096];

    (void)state;
    assert_int_equal(sl_review_message_build(&ITEM, &d, "[PROV]", NULL, &m, &err),
                     SL_OK);
    assert_string_equal(m.topic, "sluice.rejected");
    headers_text(&m, got, sizeof(got));
    snprintf(want, sizeof(want),
             "sluice-meta={\"upload_id\":\"up-1\"}\n"
             "sluice-sig=ed25519=c2ln\n"
             "sluice-prov=[PROV]\n"
             "sluice-reject-stage=review\n"
             "sluice-reject-code=moderator_rejected\n"
             "sluice-reject-detail=harmful_content: line one\\nline\\ttwo \\\\ \\x01 caf\xc3\xa9\n"
             "sluice-reject-source-topic=p-sluice.flagged\n"
             "sluice-reject-source-partition=2\n"
             "sluice-reject-source-offset=41\n"
             "sluice-reject-time=1795840629123\n"
             "sluice-reject-value=withheld\n"
             "sluice-reject-value-sha256=%s\n"
             "sluice-reject-value-size=5\n", content);
    assert_string_equal(got, want);
    sl_review_message_clear(&m);
}

static void test_message_refused(void **state)
{
    sl_review_decision d = { 9, "delete", "other", NULL, "mo", T_MS };
    sl_review_item item = ITEM;
    sl_review_message m;
    sl_err err = { "" };
    char note[3000];

    (void)state;
    assert_int_equal(sl_review_message_build(&ITEM, &d, "[P]", other, &m, &err),
                     SL_EINVAL);
    assert_int_equal(m.n, 0);
    d.action = "approve";
    item.meta = NULL;
    assert_int_equal(sl_review_message_build(&item, &d, "[P]", other, &m, &err),
                     SL_EINVAL);
    assert_non_null(strstr(err.msg, "sluice-meta"));
    assert_int_equal(m.n, 0);
    assert_int_equal(sl_review_message_build(&ITEM, &d, "[P]", NULL, &m, &err),
                     SL_EINVAL);
    assert_non_null(strstr(err.msg, "sluice-sha256"));
    /* a long note is cut on a character boundary, below the cap */
    memset(note, 0, sizeof(note));
    for (size_t i = 0; i + 2 < sizeof(note) - 1; i += 2)
        memcpy(note + i, "\xc3\xa9", 2);
    d.action = "reject";
    d.note = note;
    assert_int_equal(sl_review_message_build(&ITEM, &d, "[P]", NULL, &m, &err),
                     SL_OK);
    assert_string_equal(m.name[5], "sluice-reject-detail");
    assert_true(strlen(m.value[5]) < SL_REVIEW_DETAIL_MAX);
    assert_int_equal(strncmp(m.value[5], "other: \xc3\xa9", 9), 0);
    assert_int_equal((strlen(m.value[5]) - strlen("other: ")) % 2, 0);
    sl_review_message_clear(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_approve),
        cmocka_unit_test(test_redact_and_reject),
        cmocka_unit_test(test_event_rules),
        cmocka_unit_test(test_stored_breaks),
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_message_approve),
        cmocka_unit_test(test_message_reject),
        cmocka_unit_test(test_message_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
