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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_approve),
        cmocka_unit_test(test_redact_and_reject),
        cmocka_unit_test(test_event_rules),
        cmocka_unit_test(test_stored_breaks),
        cmocka_unit_test(test_header),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
