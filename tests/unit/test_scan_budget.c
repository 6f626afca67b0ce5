/*
 * test_scan_budget.c -- unit tests for the scan stage's work budget
 * (services/scan/budget.h) through every part that charges it, and the
 * stage's outcome when a sample exhausts it.
 *
 *   - the PDF info-dictionary bomb ("/Info<<" repeated inside strings):
 *     the work the extractor does is linear in the file, measured with the
 *     budget's own counters (the reader used to go back to the end of the
 *     file for every occurrence: k occurrences cost k times the file);
 *     with a small budget it is exhausted in "pdf";
 *   - PNG files of many chunks and JPEG files of long segment chains
 *     exhaust the steps budget in "png" / "jpeg", and pass the default;
 *   - UTF-16 text: the sniffer's passes and the transcoding are charged,
 *     and name "filetype" or "text" when they run out;
 *   - a rule that backtracks catastrophically, loaded from a rule file
 *     the way the stage loads its rules, reaches the budget's PCRE2 match
 *     limit: part "regex", the rule named (no shipped rule backtracks like
 *     that: they bound every repetition);
 *   - sl_scan_decide and sl_scan_process (with an in-memory dataset
 *     registry): rejected scan_budget_exceeded by default, flagged with
 *     the same reason when the dataset's action for "scan_budget" is flag
 *     or scan.budget.action says so, a block finding made before the
 *     budget ran out still wins, and a clean sample after an overrun is
 *     accepted by the same stage instance;
 *   - sl_scan_process before any byte is read: metadata that breaks the
 *     envelope's rules (sl/envelope.h: absent, a duplicate key, a field
 *     missing, a created_at no database stores) is meta_invalid, an
 *     unregistered dataset dataset_unknown.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "budget.h"
#include "extract.h"
#include "filetype.h"
#include "fixtures.h"
#include "rules.h"
#include "scan.h"
#include "sl/msg.h"

#define UNLIMITED ((uint64_t)1 << 62)

/* ---- inputs ------------------------------------------------------------- */

/* The bomb: a header, then `k` times an Info dictionary whose CreationDate
 * string opens and never closes, so each one's string runs to the end. */
static fx_buf pdf_bomb(size_t k)
{
    fx_buf b = { NULL, 0 };

    fx_puts(&b, "%PDF-1.4\n");
    for (size_t i = 0; i < k; i++)
        fx_puts(&b, "/Info<</CreationDate(");     /* 21 bytes */
    fx_puts(&b, "\ntrailer\n%%EOF\n");
    return b;
}

/* A PNG of `k` empty private chunks before IEND (CRCs are not checked). */
static fx_buf png_chunks(size_t k)
{
    fx_buf b = { NULL, 0 };

    fx_put(&b, "\x89PNG\r\n\x1a\n", 8);
    fx_put_be32(&b, 13);
    fx_puts(&b, "IHDR");
    fx_put(&b, "\0\0\0\1\0\0\0\1\x08\x02\0\0\0", 13);
    fx_put_be32(&b, 0);
    for (size_t i = 0; i < k; i++) {
        fx_put_be32(&b, 0);
        fx_puts(&b, "prVt");
        fx_put_be32(&b, 0);
    }
    fx_put_be32(&b, 0);
    fx_puts(&b, "IEND");
    fx_put_be32(&b, 0);
    return b;
}

/* A JPEG of `k` empty APP0 segments, then EOI. */
static fx_buf jpeg_segments(size_t k)
{
    fx_buf b = { NULL, 0 };

    fx_put(&b, "\xFF\xD8", 2);
    for (size_t i = 0; i < k; i++)
        fx_put(&b, "\xFF\xE0\x00\x02", 4);
    fx_put(&b, "\xFF\xD9", 2);
    return b;
}

/* The budget the stage starts with by default (scan.budget.* defaults). */
static void default_budget(sl_budget *b)
{
    sl_budget_init(b, (uint64_t)256 << 20, 1000000, 100000000, 2000000,
                   2000000, 65536);
}

static sl_ft *ft;

static int setup(void **state)
{
    sl_err err;

    (void)state;
    return sl_ft_new(&ft, NULL, 0, &err) == SL_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    sl_ft_destroy(ft);
    return 0;
}

/* Extracts b under budget bud; returns the extractor's flags. */
static unsigned extract(const fx_buf *b, sl_budget *bud, const char *mime)
{
    sl_extract x;
    sl_ft_result r;
    unsigned flags;

    sl_extract_init(&x, 0);
    assert_int_equal(sl_ft_detect_budget(ft, (sl_slice){ b->p, b->n }, &r, bud), SL_OK);
    assert_string_equal(r.mime, mime);
    assert_int_equal(sl_extract_run_budget(&x, (sl_slice){ b->p, b->n }, &r, bud),
                     SL_OK);
    flags = x.flags;
    sl_extract_free(&x);
    return flags;
}

/* ---- the PDF bomb --------------------------------------------------------- */

/* Reproduction: 4,000 occurrences in an 84 KiB file.  Reading from each
 * occurrence to the end of the file cost about k * n / 2 = 168 million
 * bytes; the reader now examines each byte a small constant number of
 * times: /Encrypt search, /Info search and its dictionary, XMP search. */
static void test_pdf_bomb_linear(void **state)
{
    fx_buf b = pdf_bomb(4000);
    sl_budget bud;

    (void)state;
    assert_int_equal(b.n, 84024);
    sl_budget_init(&bud, UNLIMITED, UNLIMITED, UNLIMITED, 1, 1, 1);
    assert_int_equal(extract(&b, &bud, "application/pdf") & SL_XF_BUDGET, 0);
    /* the sniff (its first 64 KiB at most) + four passes over the file
     * (the bytes handed to poppler's child for the page text, then the
     * three of the info reader) */
    assert_true(bud.bytes <= 65536 + 4 * 84024);
    assert_true(bud.bytes >= 3 * 84000);
    assert_null(bud.part);

    /* twice the occurrences, about twice the work -- not four times */
    {
        fx_buf b2 = pdf_bomb(8000);
        sl_budget bud2;

        sl_budget_init(&bud2, UNLIMITED, UNLIMITED, UNLIMITED, 1, 1, 1);
        extract(&b2, &bud2, "application/pdf");
        assert_true(bud2.bytes - 65536 <= 2 * bud.bytes);
        free(b2.p);
    }
    free(b.p);
}

/* With a budget smaller than three passes, the bomb exhausts it in the
 * PDF reader and the extractor stops. */
static void test_pdf_bomb_budget(void **state)
{
    fx_buf b = pdf_bomb(4000);
    sl_budget bud;

    (void)state;
    sl_budget_init(&bud, 200000, UNLIMITED, UNLIMITED, 1, 1, 1);
    assert_int_equal(extract(&b, &bud, "application/pdf") & SL_XF_BUDGET,
                     SL_XF_BUDGET);
    assert_string_equal(bud.part, "pdf");
    assert_string_equal(bud.what, "bytes");
    assert_true(sl_budget_out(&bud));
    /* charges after that fail and do not move the counters */
    {
        uint64_t used = bud.bytes;

        assert_int_equal(sl_budget_bytes(&bud, "png", 1), 0);
        assert_int_equal(bud.bytes, used);
        assert_string_equal(bud.part, "pdf");
    }
    free(b.p);
}

/* A real document's info dictionary is still read under a budget. */
static void test_pdf_fixture_within_budget(void **state)
{
    size_t n;
    uint8_t *data = fx_fixture("doc_info.pdf", &n);
    sl_extract x;
    sl_ft_result r;
    sl_budget bud;
    int found = 0;

    (void)state;
    default_budget(&bud);
    sl_extract_init(&x, 0);
    assert_int_equal(sl_ft_detect_budget(ft, (sl_slice){ data, n }, &r, &bud), SL_OK);
    assert_int_equal(sl_extract_run_budget(&x, (sl_slice){ data, n }, &r, &bud), SL_OK);
    assert_null(bud.part);
    for (size_t i = 0; i < x.nseg; i++)
        found |= strcmp(x.seg[i].source, "pdf:Author") == 0;
    assert_int_equal(found, 1);
    sl_extract_free(&x);
    free(data);
}

/* ---- PNG and JPEG ------------------------------------------------------- */

static void test_png_many_chunks(void **state)
{
    fx_buf b = png_chunks(20000);
    sl_budget bud;

    (void)state;
    default_budget(&bud);
    assert_int_equal(extract(&b, &bud, "image/png") & SL_XF_BUDGET, 0);
    assert_null(bud.part);
    /* IHDR, 20,000 chunks, IEND: one step each */
    assert_int_equal(bud.steps, 20002);

    sl_budget_init(&bud, UNLIMITED, 10000, UNLIMITED, 1, 1, 1);
    assert_int_equal(extract(&b, &bud, "image/png") & SL_XF_BUDGET, SL_XF_BUDGET);
    assert_string_equal(bud.part, "png");
    assert_string_equal(bud.what, "steps");
    assert_int_equal(bud.steps, 10001);
    free(b.p);
}

static void test_jpeg_segment_chain(void **state)
{
    fx_buf b = jpeg_segments(50000);
    sl_budget bud;

    (void)state;
    default_budget(&bud);
    assert_int_equal(extract(&b, &bud, "image/jpeg") & SL_XF_BUDGET, 0);
    assert_int_equal(bud.steps, 50001);         /* the segments and EOI */

    sl_budget_init(&bud, UNLIMITED, 20000, UNLIMITED, 1, 1, 1);
    assert_int_equal(extract(&b, &bud, "image/jpeg") & SL_XF_BUDGET, SL_XF_BUDGET);
    assert_string_equal(bud.part, "jpeg");
    assert_string_equal(bud.what, "steps");
    assert_int_equal(bud.steps, 20001);

    /* the bytes budget names the same part */
    sl_budget_init(&bud, 100000, UNLIMITED, UNLIMITED, 1, 1, 1);
    extract(&b, &bud, "image/jpeg");
    assert_string_equal(bud.part, "jpeg");
    assert_string_equal(bud.what, "bytes");
    free(b.p);
}

/* ---- text decoders -------------------------------------------------------- */

/* UTF-16LE with a BOM: the sniffer's passes, then the transcoding, each
 * charged in turn; a budget that holds the passes but not the decoding
 * runs out in "text". */
static void test_text_decoder(void **state)
{
    fx_buf b = { NULL, 0 };
    sl_budget bud;

    (void)state;
    fx_put(&b, "\xff\xfe", 2);
    for (size_t i = 0; i < 10000; i++)
        fx_put(&b, "h\0e\0l\0l\0o\0 \0", 12);
    assert_int_equal(b.n, 120002);
    sl_budget_init(&bud, UNLIMITED, UNLIMITED, UNLIMITED, 1, 1, 1);
    assert_int_equal(extract(&b, &bud, "text/plain") & SL_XF_BUDGET, 0);
    /* sniff (64 KiB), the UTF-16 check (the whole input), the transcoding
     * (the input after the BOM) */
    assert_int_equal(bud.bytes, 65536 + 120002 + 120000);

    sl_budget_init(&bud, 65536 + 120002 + 119999, UNLIMITED, UNLIMITED, 1, 1, 1);
    assert_int_equal(extract(&b, &bud, "text/plain") & SL_XF_BUDGET, SL_XF_BUDGET);
    assert_string_equal(bud.part, "text");
    assert_string_equal(bud.what, "bytes");

    /* one byte less and the sniffer's own pass is what runs out */
    sl_budget_init(&bud, 65536 + 120001, UNLIMITED, UNLIMITED, 1, 1, 1);
    extract(&b, &bud, "application/octet-stream");
    assert_string_equal(bud.part, "filetype");
    free(b.p);
}

/* ---- regex ------------------------------------------------------------------ */

/* Rule 0 blocks a number; rule 1 backtracks catastrophically on a run of
 * "a" with no "b" or "c" after it.  Without prefilters both run over the
 * whole text, rule 0 first. */
#define BACKTRACKING_RULES \
    "{\"version\":\"t1\",\"rules\":[" \
    "{\"id\":\"number\",\"entity\":\"n\",\"kind\":\"pii\",\"action\":\"block\"," \
    "\"severity\":\"high\",\"pattern\":\"\\\\d{3}-\\\\d{2}-\\\\d{4}\"}," \
    "{\"id\":\"nested_plus\",\"entity\":\"x\",\"kind\":\"pii\",\"action\":\"flag\"," \
    "\"severity\":\"low\",\"pattern\":\"(a+)+[bc]\"}]}"

static void test_regex_match_limit(void **state)
{
    sl_rules *r;
    sl_scanner *s;
    sl_findings f;
    sl_budget bud;
    sl_err err;
    char text[64];

    (void)state;
    assert_int_equal(sl_rules_load(&r, BACKTRACKING_RULES,
                                   strlen(BACKTRACKING_RULES), &err), SL_OK);
    s = sl_scanner_new(r);
    assert_non_null(s);
    sl_findings_init(&f, 10);
    memset(text, 'a', sizeof(text));
    default_budget(&bud);
    assert_int_equal(sl_scan_text_budget(s, (const uint8_t *)text, sizeof(text),
                                         &f, &bud), SL_OK);
    assert_int_equal(f.count, 0);
    assert_string_equal(bud.part, "regex");
    assert_string_equal(bud.what, "match limit");
    assert_string_equal(bud.rule, "nested_plus");
    /* the same scanner, a new budget: a match within the limit */
    default_budget(&bud);
    assert_int_equal(sl_scan_text_budget(s, (const uint8_t *)"aab", 3, &f, &bud),
                     SL_OK);
    assert_int_equal(f.count, 1);
    assert_null(bud.part);
    /* number: a call and 3 start positions without a match; nested_plus:
     * a call, 1 start position and the 3 bytes it matched (no validator
     * or context: no candidate checks) */
    assert_int_equal(bud.regex, 9);
    assert_int_equal(bud.bytes, 3);

    /* the regex counter itself: a call and 3 start positions do not fit
     * in 3 */
    sl_budget_init(&bud, UNLIMITED, UNLIMITED, 3, 2000000, 2000000, 65536);
    assert_int_equal(sl_scan_text_budget(s, (const uint8_t *)"aab", 3, &f, &bud),
                     SL_OK);
    assert_string_equal(bud.part, "regex");
    assert_string_equal(bud.what, "regex");
    assert_int_equal(f.count, 0);
    sl_findings_free(&f);
    sl_scanner_destroy(s);
    sl_rules_destroy(r);
}

/* ---- the stage ------------------------------------------------------------ */

typedef struct mem_ds {
    const char *actions;         /* the dataset's scan actions, or NULL */
} mem_ds;

static int mem_dataset(void *u, const char *dataset_id, const char **allowed,
                       const char **actions)
{
    mem_ds *d = u;

    if (strcmp(dataset_id, "ds") != 0)
        return SL_ENOTFOUND;
    *allowed = NULL;
    *actions = d->actions;
    return SL_OK;
}

/* A stage with the backtracking rule file and `opts` (key=value pairs). */
static sl_scan *stage(const char *rules_path, mem_ds *d, const char *const *opts)
{
    sl_config *cfg = fx_config(sl_scan_config);
    sl_scan_lookup lk = { d, mem_dataset, NULL };
    sl_scan *s;
    sl_err err;

    if (rules_path)
        assert_int_equal(sl_config_set(cfg, "scan.rules.file", rules_path, &err), SL_OK);
    for (size_t i = 0; opts && opts[i]; i += 2)
        assert_int_equal(sl_config_set(cfg, opts[i], opts[i + 1], &err), SL_OK);
    assert_int_equal(sl_scan_new(&s, cfg, d ? &lk : NULL, &err), SL_OK);
    sl_config_destroy(cfg);
    return s;
}

static char *write_rules(void)
{
    static char path[] = "/tmp/sl_budget_rulesXXXXXX";
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, BACKTRACKING_RULES, strlen(BACKTRACKING_RULES)),
                     (ssize_t)strlen(BACKTRACKING_RULES));
    close(fd);
    return path;
}

static json_t *header_json(const sl_out *o, const char *name)
{
    sl_slice v;

    assert_int_equal(sl_out_header(o, name, &v), SL_OK);
    return json_loadb((const char *)v.ptr, v.len, 0, NULL);
}

static void test_decide_pdf_bomb(void **state)
{
    static const char *const small[] = { "scan.budget.bytes", "200000", NULL };
    static const char *const flag[] = { "scan.budget.bytes", "200000",
                                        "scan.budget.action", "flag", NULL };
    fx_buf b = pdf_bomb(4000);
    sl_scan *s = stage(NULL, NULL, small);
    sl_scan_report rep;

    (void)state;
    sl_scan_report_init(&rep);
    assert_int_equal(sl_scan_decide(s, (sl_slice){ b.p, b.n }, "application/pdf",
                                    NULL, NULL, &rep), SL_OK);
    assert_string_equal(rep.outcome, "rejected");
    assert_string_equal(rep.code, "scan_budget_exceeded");
    assert_string_equal(rep.detail, "scan work budget exceeded in pdf: more than "
                        "200000 bytes examined (scan.budget.bytes)");
    assert_string_equal(json_string_value(json_object_get(rep.summary, "reason")),
                        "scan_budget_exceeded");
    assert_string_equal(json_string_value(json_object_get(
        json_object_get(rep.summary, "budget"), "part")), "pdf");
    /* the dataset's override of the pseudo-rule */
    assert_int_equal(sl_scan_decide(s, (sl_slice){ b.p, b.n }, "application/pdf",
                                    NULL, "{\"scan_budget\":\"flag\"}", &rep), SL_OK);
    assert_string_equal(rep.outcome, "flagged");
    assert_null(rep.code);
    assert_string_equal(json_string_value(json_object_get(rep.summary, "reason")),
                        "scan_budget_exceeded");
    /* "allow" does not pass a sample read in part: it is flagged too */
    assert_int_equal(sl_scan_decide(s, (sl_slice){ b.p, b.n }, "application/pdf",
                                    NULL, "{\"scan_budget\":\"allow\"}", &rep), SL_OK);
    assert_string_equal(rep.outcome, "flagged");
    /* with the default budget the linear reader gets through it; poppler
     * cannot read its pages, so it is flagged, not accepted unread */
    sl_scan_destroy(s);
    s = stage(NULL, NULL, NULL);
    assert_int_equal(sl_scan_decide(s, (sl_slice){ b.p, b.n }, "application/pdf",
                                    NULL, NULL, &rep), SL_OK);
    assert_string_equal(rep.outcome, "flagged");
    assert_string_equal(json_string_value(json_object_get(rep.summary, "flag_reason")),
                        "page text: poppler could not read the PDF (exit 2)");
    assert_null(json_object_get(rep.summary, "budget"));
    sl_scan_destroy(s);
    /* scan.budget.action = flag */
    s = stage(NULL, NULL, flag);
    assert_int_equal(sl_scan_decide(s, (sl_slice){ b.p, b.n }, "application/pdf",
                                    NULL, NULL, &rep), SL_OK);
    assert_string_equal(rep.outcome, "flagged");
    assert_string_equal(json_string_value(json_object_get(rep.summary, "flag_reason")),
                        "scan work budget exceeded in pdf: more than 200000 bytes "
                        "examined (scan.budget.bytes)");
    sl_scan_report_free(&rep);
    sl_scan_destroy(s);
    free(b.p);
}

static void test_bad_budget_config(void **state)
{
    sl_config *cfg = fx_config(sl_scan_config);
    sl_scan *s = NULL;
    sl_err err;

    (void)state;
    assert_int_equal(sl_config_set(cfg, "scan.budget.action", "redact", &err), SL_OK);
    assert_int_equal(sl_scan_new(&s, cfg, NULL, &err), SL_ERR);
    assert_string_equal(err.msg, "scan.budget.action must be block or flag, not "
                        "\"redact\"");
    assert_int_equal(sl_config_set(cfg, "scan.budget.action", "block", &err), SL_OK);
    assert_int_equal(sl_config_set(cfg, "scan.budget.steps", "0", &err), SL_OK);
    assert_int_equal(sl_scan_new(&s, cfg, NULL, &err), SL_ERR);
    assert_string_equal(err.msg, "scan.budget.steps must be 1 to 2^63");
    sl_config_destroy(cfg);
}

/* The processor: the regex overrun is a rejection with its code and
 * detail, a block finding still wins, the dataset may flag it instead,
 * and the next clean sample is accepted. */
static void test_process_budget(void **state)
{
    static const char *const limit[] = { "scan.budget.match.limit", "100000", NULL };
    char *rules = write_rules();
    mem_ds d = { NULL };
    sl_scan *s = stage(rules, &d, limit);
    sl_out *out = sl_out_new(1 << 20);
    char text[80], *meta = fx_meta("u-1", "c", "ds", NULL);
    fx_msg m;
    json_t *j;

    (void)state;
    memset(text, 'a', sizeof(text));
    text[sizeof(text) - 1] = '\0';
    fx_msg_init(&m, "u-1", text, strlen(text));
    fx_msg_header_str(&m, SL_H_META, meta);
    assert_int_equal(sl_scan_process(s, &m.msg, out), SL_REJECT);
    assert_string_equal(sl_out_reject_code(out), "scan_budget_exceeded");
    assert_string_equal(sl_out_reject_detail(out), "scan work budget exceeded in "
                        "regex: rule nested_plus reached the match limit of 100000 "
                        "(scan.budget.match.limit)");
    j = header_json(out, SL_H_SCAN);
    assert_string_equal(json_string_value(json_object_get(
        json_object_get(j, "budget"), "exceeded")), "match limit");
    json_decref(j);

    /* the dataset flags budget overruns */
    d.actions = "{\"scan_budget\":\"flag\"}";
    sl_out_reset(out);
    assert_int_equal(sl_scan_process(s, &m.msg, out), SL_ROUTE);
    assert_string_equal(sl_out_route_topic(out), "sluice.flagged");
    j = header_json(out, SL_H_SCAN);
    assert_string_equal(json_string_value(json_object_get(j, "outcome")), "flagged");
    assert_string_equal(json_string_value(json_object_get(j, "reason")),
                        "scan_budget_exceeded");
    json_decref(j);
    fx_msg_free(&m);

    /* a clean sample right after, on the same instance */
    d.actions = NULL;
    fx_msg_init(&m, "u-1", "aab and more", 12);
    fx_msg_header_str(&m, SL_H_META, meta);
    sl_out_reset(out);
    assert_int_equal(sl_scan_process(s, &m.msg, out), SL_ROUTE);   /* rule: flag */
    j = header_json(out, SL_H_SCAN);
    assert_null(json_object_get(j, "budget"));
    assert_string_equal(json_string_value(json_object_get(j, "flag_reason")),
                        "a rule's action is flag");
    json_decref(j);
    fx_msg_free(&m);
    fx_msg_init(&m, "u-1", "nothing here", 12);
    fx_msg_header_str(&m, SL_H_META, meta);
    sl_out_reset(out);
    assert_int_equal(sl_scan_process(s, &m.msg, out), SL_EMIT);
    fx_msg_free(&m);

    /* a block finding made before the budget ran out wins */
    memcpy(text, "no. 123-45-6789 ", 16);
    fx_msg_init(&m, "u-1", text, strlen(text));
    fx_msg_header_str(&m, SL_H_META, meta);
    sl_out_reset(out);
    assert_int_equal(sl_scan_process(s, &m.msg, out), SL_REJECT);
    assert_string_equal(sl_out_reject_code(out), "pii_blocked");
    j = header_json(out, SL_H_SCAN);
    assert_string_equal(json_string_value(json_object_get(
        json_object_get(j, "budget"), "part")), "regex");
    json_decref(j);
    fx_msg_free(&m);
    sl_scan_destroy(s);
    sl_out_destroy(out);
    free(meta);
    unlink(rules);
}

/* Metadata the stage cannot read by the envelope's rules is refused
 * before the bytes are looked at, each with a provenance event. */
static void test_process_meta(void **state)
{
    static const char *const metas[][2] = {
        { NULL, "no sluice-meta header" },
        { "{\"upload_id\":\"u-1\",\"dataset_id\":\"ds\",\"dataset_id\":\"other\"}",
          "sluice-meta is not valid JSON: duplicate object key near "
          "'\"dataset_id\"' at line 1 column 49" },
        { "{\"upload_id\":\"u-1\",\"creator_id\":\"c\",\"dataset_id\":\"ds\","
          "\"created_at\":\"2026-11-28T09:00:00Z\"}",
          "sluice-meta has no content_type string" },
        { "{\"upload_id\":\"u-1\",\"creator_id\":\"c\",\"dataset_id\":\"ds\","
          "\"content_type\":\"text/plain\",\"created_at\":\"2026-11-28\"}",
          "sluice-meta created_at is not a storable RFC 3339 date-time" },
    };
    mem_ds d = { NULL };
    sl_scan *s = stage(NULL, &d, NULL);
    sl_out *out = sl_out_new(1 << 20);
    char *meta = fx_meta("u-1", "c", "nope", NULL);
    sl_slice prov;
    fx_msg m;

    (void)state;
    for (size_t i = 0; i < sizeof(metas) / sizeof(metas[0]); i++) {
        fx_msg_init(&m, "u-1", "hello", 5);
        if (metas[i][0])
            fx_msg_header_str(&m, SL_H_META, metas[i][0]);
        sl_out_reset(out);
        assert_int_equal(sl_scan_process(s, &m.msg, out), SL_REJECT);
        assert_string_equal(sl_out_reject_code(out), "meta_invalid");
        assert_string_equal(sl_out_reject_detail(out), metas[i][1]);
        assert_int_equal(sl_out_header(out, SL_H_PROV, &prov), SL_OK);
        fx_msg_free(&m);
    }
    fx_msg_init(&m, "u-1", "hello", 5);
    fx_msg_header_str(&m, SL_H_META, meta);
    sl_out_reset(out);
    assert_int_equal(sl_scan_process(s, &m.msg, out), SL_REJECT);
    assert_string_equal(sl_out_reject_code(out), "dataset_unknown");
    assert_string_equal(sl_out_reject_detail(out), "dataset \"nope\" is not registered");
    fx_msg_free(&m);
    free(meta);
    sl_scan_destroy(s);
    sl_out_destroy(out);
}

/* Scan's topology row (its descriptor, built into the binary, points at
 * it): its one route is the flagged topic scan sends unscannable samples
 * to. */
static void test_descriptor_row(void **state)
{
    const sl_topo_stage *row = sl_topology_stage("scan");

    (void)state;
    assert_ptr_equal(row, &sl_topology_stages[SL_STAGE_SCAN]);
    assert_string_equal(row->name, "scan");
    assert_string_equal(row->routes[0], SL_TOPIC_FLAGGED);
    assert_null(row->routes[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pdf_bomb_linear),
        cmocka_unit_test(test_process_meta),
        cmocka_unit_test(test_pdf_bomb_budget),
        cmocka_unit_test(test_pdf_fixture_within_budget),
        cmocka_unit_test(test_png_many_chunks),
        cmocka_unit_test(test_jpeg_segment_chain),
        cmocka_unit_test(test_text_decoder),
        cmocka_unit_test(test_regex_match_limit),
        cmocka_unit_test(test_decide_pdf_bomb),
        cmocka_unit_test(test_bad_budget_config),
        cmocka_unit_test(test_descriptor_row),
        cmocka_unit_test(test_process_budget),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
