/*
 * test_audit.c -- unit tests for common/src/audit.c (and the event reader
 * sl_prov_record_parse it uses): chains built with sl_prov_append and
 * turned into provenance_events rows as the commit stage stores them pass;
 * each kind of tampering is reported, with the right seq and problem, and
 * nothing else is.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "sl/audit.h"
#include "sl/crypto.h"
#include "sl/prov.h"

#define T_MS INT64_C(1795840629123)   /* 2026-11-28T04:37:09.123Z */
#define MAX_EVENTS 8
#define MAX_BREAKS 32

/* SHA-256 of "hello" (the content) and of "world" (redacted bytes). */
static const char content[] =
    "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
static const char redacted[] =
    "486ea46224d1bb4fb680f34f7c9ad96a8f24ec88be73ea8e5a6c65260e9cb8a7";

/* ---- rows as stored ----------------------------------------------------- */

/* One owner's rows, owned here so a test can tamper with them. */
typedef struct rows {
    sl_audit_event ev[MAX_EVENTS];
    char *text[MAX_EVENTS][4];   /* stage, outcome, canonical, hash */
    size_t n;
} rows;

enum { F_STAGE, F_OUTCOME, F_CANONICAL, F_HASH };

/* Points event i's fields at its strings again. */
static void rows_sync(rows *r, size_t i)
{
    r->ev[i].stage = r->text[i][F_STAGE];
    r->ev[i].outcome = r->text[i][F_OUTCOME];
    r->ev[i].canonical = r->text[i][F_CANONICAL];
    r->ev[i].hash = r->text[i][F_HASH];
}

static void rows_set(rows *r, size_t i, int field, const char *v)
{
    free(r->text[i][field]);
    r->text[i][field] = strdup(v);
    assert_non_null(r->text[i][field]);
    rows_sync(r, i);
}

static void rows_free(rows *r)
{
    for (size_t i = 0; i < MAX_EVENTS; i++)
        for (int f = 0; f < 4; f++)
            free(r->text[i][f]);
    memset(r, 0, sizeof(*r));
}

/* The rows commit_pg.c's copy_provenance writes for a chain header. */
static void rows_from_header(rows *r, const sl_buf *header)
{
    sl_err err = { "" };
    sl_prov_chain *c = sl_prov_parse((sl_slice){ header->data, header->len },
                                     &err);

    assert_non_null(c);
    memset(r, 0, sizeof(*r));
    r->n = sl_prov_count(c);
    assert_true(r->n <= MAX_EVENTS);
    for (size_t i = 0; i < r->n; i++) {
        const char *canonical, *hash, *stage, *outcome;
        sl_prov_record rec;
        int64_t seq;

        assert_int_equal(sl_prov_get(c, i, &canonical, &hash, &stage,
                                     &outcome, &seq), SL_OK);
        assert_int_equal(sl_prov_record_parse(canonical, strlen(canonical),
                                              &rec, &err), SL_OK);
        r->ev[i].seq = seq;
        rows_set(r, i, F_STAGE, stage);
        rows_set(r, i, F_OUTCOME, outcome);
        rows_set(r, i, F_CANONICAL, canonical);
        rows_set(r, i, F_HASH, hash);
        sl_prov_record_clear(&rec);
    }
    sl_prov_chain_destroy(c);
}

/* A chain of stages appended one by one with sl_prov_append, as the
 * stages do; origin is the first prev.  Each stage: stage, outcome,
 * input, output. */
typedef struct step {
    const char *stage, *outcome, *in, *out;
} step;

static void build(rows *r, const char *origin, const char *upload,
                  const step *steps, size_t n, int64_t t)
{
    sl_buf chain, next;
    sl_err err = { "" };

    sl_buf_init(&chain, 1 << 20);
    sl_buf_init(&next, 1 << 20);
    for (size_t i = 0; i < n; i++) {
        sl_prov_event ev = {
            .stage = steps[i].stage, .version = "v1",
            .outcome = steps[i].outcome, .upload_id = upload,
            .input_sha256 = steps[i].in, .output_sha256 = steps[i].out,
            .time_ms = t + (int64_t)i,
        };
        assert_int_equal(sl_prov_append((sl_slice){ chain.data, chain.len },
                                        origin, &ev, &next, NULL, &err), SL_OK);
        sl_buf_reset(&chain);
        assert_int_equal(sl_buf_append(&chain, next.data, next.len), SL_OK);
    }
    rows_from_header(r, &chain);
    sl_buf_free(&chain);
    sl_buf_free(&next);
}

static const step plain[] = {
    { "validate", "accepted", content, content },
    { "license", "accepted", content, content },
    { "commit", "committed", content, content },
};

static void build_plain(rows *r)
{
    build(r, content, "up-1", plain, 3, T_MS);
}

static sl_audit_owner sample_owner(void)
{
    sl_audit_owner o = {
        .kind = "sample", .id = "up-1", .upload_id = "up-1",
        .origin_sha256 = content, .content_sha256 = content,
    };
    return o;
}

/* ---- breaks as reported ------------------------------------------------- */

typedef struct got {
    struct {
        int64_t seq;
        sl_audit_problem problem;
        char kind[32], owner[128], detail[1024];
    } b[MAX_BREAKS];
    size_t n;
} got;

static void collect(void *u, const sl_audit_break *b)
{
    got *g = u;

    assert_true(g->n < MAX_BREAKS);
    g->b[g->n].seq = b->seq;
    g->b[g->n].problem = b->problem;
    snprintf(g->b[g->n].kind, sizeof(g->b[g->n].kind), "%s", b->owner_kind);
    snprintf(g->b[g->n].owner, sizeof(g->b[g->n].owner), "%s", b->owner_id);
    snprintf(g->b[g->n].detail, sizeof(g->b[g->n].detail), "%s", b->detail);
    g->n++;
}

static void check(const sl_audit_owner *o, const rows *r, got *g)
{
    sl_audit_sink s = { collect, g, 0 };

    memset(g, 0, sizeof(*g));
    assert_int_equal(sl_audit_owner_check(&s, o, r->ev, r->n), SL_OK);
    assert_int_equal(s.breaks, g->n);
}

static void dump(const got *g)
{
    for (size_t i = 0; i < g->n; i++)
        print_message("  break: %s %s seq %lld %s: %s\n", g->b[i].kind,
                      g->b[i].owner, (long long)g->b[i].seq,
                      sl_audit_problem_name(g->b[i].problem), g->b[i].detail);
}

/* Exactly these (seq, problem) pairs, in any order. */
static void expect(const got *g, size_t n, ...)
{
    va_list ap;
    int used[MAX_BREAKS] = { 0 };

    if (g->n != n) {
        dump(g);
        fail_msg("%zu breaks, want %zu", g->n, n);
    }
    va_start(ap, n);
    for (size_t i = 0; i < n; i++) {
        int64_t seq = va_arg(ap, int);
        sl_audit_problem p = (sl_audit_problem)va_arg(ap, int);
        size_t j;
        for (j = 0; j < g->n; j++)
            if (!used[j] && g->b[j].seq == seq && g->b[j].problem == p)
                break;
        if (j == g->n) {
            dump(g);
            va_end(ap);
            fail_msg("no break %s at seq %lld", sl_audit_problem_name(p),
                     (long long)seq);
        }
        used[j] = 1;
    }
    va_end(ap);
}

/* Replaces event i's canonical text with t and its hash with t's SHA-256:
 * what an editor who knows the scheme would do. */
static void rewrite(rows *r, size_t i, const char *t)
{
    char hex[SL_SHA256_HEX];

    assert_int_equal(sl_sha256_hex(t, strlen(t), hex), SL_OK);
    rows_set(r, i, F_CANONICAL, t);
    rows_set(r, i, F_HASH, hex);
}

/* Event i's canonical text with the first `from` replaced by `to`, into
 * out. */
static void edit(const rows *r, size_t i, const char *from, const char *to,
                 char *out, size_t outsz)
{
    const char *text = r->ev[i].canonical, *at = strstr(text, from);

    assert_non_null(at);
    assert_true((size_t)snprintf(out, outsz, "%.*s%s%s", (int)(at - text),
                                 text, to, at + strlen(from)) < outsz);
}

/* ---- tests ------------------------------------------------------------ */

static void test_valid_chain(void **state)
{
    sl_audit_owner o = sample_owner();
    rows r;
    got g;

    (void)state;
    build_plain(&r);
    check(&o, &r, &g);
    expect(&g, 0);
    /* a rejection's chain: anchored to its sha256, no content rows */
    o.kind = "rejection";
    o.id = "sluice.uploads/0/7";
    check(&o, &r, &g);
    expect(&g, 0);
    /* unknown upload id (metadata had none): not compared */
    o.upload_id = NULL;
    check(&o, &r, &g);
    expect(&g, 0);
    rows_free(&r);
}

static void test_redacted_chain(void **state)
{
    static const step steps[] = {
        { "validate", "accepted", content, content },
        { "scan", "redacted", content, redacted },
        { "commit", "committed", redacted, redacted },
    };
    sl_audit_owner o = sample_owner();
    rows r;
    got g;

    (void)state;
    build(&r, content, "up-1", steps, 3, T_MS);
    /* sample: original_sha256 is the origin, sha256 the stored bytes */
    o.content_sha256 = redacted;
    check(&o, &r, &g);
    expect(&g, 0);
    /* the same chain seen as a sample that lost original_sha256 */
    o.origin_sha256 = redacted;
    check(&o, &r, &g);
    expect(&g, 1, 1, SL_AUDIT_FIRST_PREV);
    /* a review item / rejection keeps only sha256: the chain's own scan
     * event accounts for the change */
    o.kind = "review";
    o.origin_may_be_redacted = 1;
    check(&o, &r, &g);
    expect(&g, 0);
    rows_free(&r);

    /* ... but not a first prev the chain does not explain */
    build(&r, content, "up-1", plain, 3, T_MS);
    o.content_sha256 = content;
    o.origin_sha256 = redacted;
    check(&o, &r, &g);
    expect(&g, 1, 1, SL_AUDIT_FIRST_PREV);
    rows_free(&r);
}

/* A review item's chain ending in moderators' decisions: a redact decision
 * records the redacted bytes as its output, which the review item does not
 * store -- its stored content is the flagged one, the decision's input.
 * Only for review items: a sample's chain is checked to its last output. */
static void test_review_decisions(void **state)
{
    static const step steps[] = {
        { "validate", "accepted", content, content },
        { "scan", "flagged", content, content },
        { "commit", "flagged", content, content },
        { "review", "redacted", content, redacted },
    };
    static const step wrong_input[] = {
        { "validate", "accepted", content, content },
        { "scan", "flagged", content, content },
        { "commit", "flagged", content, content },
        { "review", "approved", redacted, redacted },
    };
    sl_audit_owner o = sample_owner();
    rows r;
    got g;

    (void)state;
    build(&r, content, "up-1", steps, 4, T_MS);
    o.kind = "review";
    o.content_sha256 = content;
    check(&o, &r, &g);
    expect(&g, 0);
    /* the same events as a sample's whole chain: its last output counts */
    o.kind = "sample";
    check(&o, &r, &g);
    expect(&g, 1, 4, SL_AUDIT_OUTPUT_MISMATCH);
    rows_free(&r);
    /* a decision about other bytes than the item's */
    build(&r, content, "up-1", wrong_input, 4, T_MS);
    o.kind = "review";
    check(&o, &r, &g);
    expect(&g, 1, 4, SL_AUDIT_OUTPUT_MISMATCH);
    rows_free(&r);
}

static void test_changed_byte(void **state)
{
    sl_audit_owner o = sample_owner();
    char text[2048];
    rows r;
    got g;

    (void)state;
    build_plain(&r);
    /* one digit of seq 2's time: only the hash tells */
    edit(&r, 1, "09.124Z", "09.125Z", text, sizeof(text));
    rows_set(&r, 1, F_CANONICAL, text);
    check(&o, &r, &g);
    expect(&g, 1, 2, SL_AUDIT_HASH_MISMATCH);
    assert_non_null(strstr(g.b[0].detail, r.ev[1].hash));
    rows_free(&r);

    /* a byte of the outcome: the hash and the outcome column disagree */
    build_plain(&r);
    edit(&r, 2, "\"committed\"", "\"committeD\"", text, sizeof(text));
    rows_set(&r, 2, F_CANONICAL, text);
    check(&o, &r, &g);
    expect(&g, 2, 3, SL_AUDIT_HASH_MISMATCH, 3, SL_AUDIT_OUTCOME_COLUMN);
    rows_free(&r);
}

static void test_rehashed_edit(void **state)
{
    sl_audit_owner o = sample_owner();
    char text[2048];
    rows r;
    got g;

    (void)state;
    /* seq 2 rewritten with a matching hash and columns: the next link */
    build_plain(&r);
    edit(&r, 1, "\"accepted\"", "\"rejected\"", text, sizeof(text));
    rewrite(&r, 1, text);
    rows_set(&r, 1, F_OUTCOME, "rejected");
    check(&o, &r, &g);
    expect(&g, 1, 3, SL_AUDIT_PREV_LINK);
    rows_free(&r);

    /* the stored hash alone replaced */
    build_plain(&r);
    rows_set(&r, 0, F_HASH, redacted);
    check(&o, &r, &g);
    expect(&g, 2, 1, SL_AUDIT_HASH_MISMATCH, 2, SL_AUDIT_PREV_LINK);
    rows_free(&r);
}

static void test_columns(void **state)
{
    sl_audit_owner o = sample_owner();
    rows r;
    got g;

    (void)state;
    build_plain(&r);
    rows_set(&r, 1, F_OUTCOME, "rejected");
    check(&o, &r, &g);
    expect(&g, 1, 2, SL_AUDIT_OUTCOME_COLUMN);
    assert_non_null(strstr(g.b[0].detail, "\"rejected\""));
    assert_non_null(strstr(g.b[0].detail, "\"accepted\""));
    rows_free(&r);

    build_plain(&r);
    rows_set(&r, 2, F_STAGE, "license");
    check(&o, &r, &g);
    /* the commit event is still in the text */
    expect(&g, 1, 3, SL_AUDIT_STAGE_COLUMN);
    rows_free(&r);

    /* the seq column of the last event moved on: a gap there and the
     * event itself disagreeing */
    build_plain(&r);
    r.ev[2].seq = 5;
    check(&o, &r, &g);
    expect(&g, 2, 5, SL_AUDIT_SEQ_GAP, 5, SL_AUDIT_SEQ_COLUMN);
    rows_free(&r);
}

static void test_not_canonical(void **state)
{
    sl_audit_owner o = sample_owner();
    sl_prov_record rec;
    sl_err err = { "" };
    json_t *ev;
    char *pretty;
    rows r;
    got g;

    (void)state;
    build_plain(&r);
    /* the same event with whitespace, hash recomputed: seq 3 is the last,
     * so no link follows it */
    ev = json_loads(r.ev[2].canonical, 0, NULL);
    assert_non_null(ev);
    pretty = json_dumps(ev, JSON_INDENT(1) | JSON_SORT_KEYS);
    assert_non_null(pretty);
    assert_int_equal(sl_prov_record_parse(pretty, strlen(pretty), &rec, &err),
                     SL_OK);
    assert_int_equal(rec.canonical, 0);
    assert_string_equal(rec.stage, "commit");
    sl_prov_record_clear(&rec);
    rewrite(&r, 2, pretty);
    check(&o, &r, &g);
    expect(&g, 1, 3, SL_AUDIT_NOT_CANONICAL);
    free(pretty);
    json_decref(ev);
    rows_free(&r);
}

static void test_malformed(void **state)
{
    sl_audit_owner o = sample_owner();
    char text[2048];
    rows r;
    got g;

    (void)state;
    build_plain(&r);
    /* not JSON any more */
    snprintf(text, sizeof(text), "%s", r.ev[1].canonical);
    text[strlen(text) - 1] = ',';
    rows_set(&r, 1, F_CANONICAL, text);
    check(&o, &r, &g);
    /* seq 3 still links to the stored hash of seq 2 */
    expect(&g, 2, 2, SL_AUDIT_HASH_MISMATCH, 2, SL_AUDIT_EVENT_MALFORMED);
    rows_free(&r);

    /* JSON, but a field missing; the malformed commit event still counts
     * as the commit (its column says so) and hides the last output */
    build_plain(&r);
    rewrite(&r, 2, "{\"seq\":3}");
    check(&o, &r, &g);
    expect(&g, 1, 3, SL_AUDIT_EVENT_MALFORMED);
    assert_non_null(strstr(g.b[0].detail, "event fields"));
    rows_free(&r);
}

static void test_links(void **state)
{
    sl_audit_owner o = sample_owner();
    rows a, b;
    got g;

    (void)state;
    /* seq 3 of another run of the same stages: its prev names a hash
     * this chain's seq 2 does not have */
    build_plain(&a);
    build(&b, content, "up-1", plain, 3, T_MS + 1000);
    rows_set(&a, 2, F_CANONICAL, b.ev[2].canonical);
    rows_set(&a, 2, F_HASH, b.ev[2].hash);
    check(&o, &a, &g);
    expect(&g, 1, 3, SL_AUDIT_PREV_LINK);
    rows_free(&a);
    rows_free(&b);

    /* first prev: anchored to other content */
    build_plain(&a);
    o.origin_sha256 = redacted;
    check(&o, &a, &g);
    expect(&g, 1, 1, SL_AUDIT_FIRST_PREV);
    assert_non_null(strstr(g.b[0].detail, redacted));
    /* no anchor at all */
    o.origin_sha256 = NULL;
    check(&o, &a, &g);
    expect(&g, 1, 1, SL_AUDIT_ANCHOR_MISSING);
    rows_free(&a);
}

static void test_seq(void **state)
{
    sl_audit_owner o = sample_owner();
    rows r;
    got g;

    (void)state;
    /* seq 2 deleted: a gap at 3, whose link is not reported again */
    build_plain(&r);
    for (int f = 0; f < 4; f++)
        free(r.text[1][f]);
    memmove(&r.ev[1], &r.ev[2], sizeof(r.ev[0]));
    memmove(&r.text[1], &r.text[2], sizeof(r.text[0]));
    memset(&r.text[2], 0, sizeof(r.text[0]));
    r.n = 2;
    check(&o, &r, &g);
    expect(&g, 1, 3, SL_AUDIT_SEQ_GAP);
    rows_free(&r);

    /* seq 1 deleted: the chain starts late */
    build_plain(&r);
    for (int f = 0; f < 4; f++)
        free(r.text[0][f]);
    memmove(&r.ev[0], &r.ev[1], 2 * sizeof(r.ev[0]));
    memmove(&r.text[0], &r.text[1], 2 * sizeof(r.text[0]));
    memset(&r.text[2], 0, sizeof(r.text[0]));
    r.n = 2;
    check(&o, &r, &g);
    expect(&g, 1, 2, SL_AUDIT_SEQ_GAP);
    rows_free(&r);

    /* seq 2 twice (in memory; the primary key forbids it in the table):
     * reported once, and seq 3 still links */
    build_plain(&r);
    r.ev[3] = r.ev[2];
    memcpy(&r.text[3], &r.text[2], sizeof(r.text[0]));
    for (int f = 0; f < 4; f++) {
        r.text[2][f] = strdup(r.text[1][f]);
        assert_non_null(r.text[2][f]);
    }
    r.ev[2].seq = r.ev[1].seq;
    rows_sync(&r, 2);
    r.n = 4;
    check(&o, &r, &g);
    expect(&g, 1, 2, SL_AUDIT_SEQ_DUPLICATE);
    rows_free(&r);
}

static void test_owner_facts(void **state)
{
    sl_audit_owner o = sample_owner();
    rows r;
    got g;

    (void)state;
    build_plain(&r);
    /* the stored content is not what the chain produced */
    o.content_sha256 = redacted;
    check(&o, &r, &g);
    expect(&g, 1, 3, SL_AUDIT_OUTPUT_MISMATCH);
    o.content_sha256 = content;
    /* events of another upload */
    o.upload_id = "up-2";
    o.id = "up-2";
    check(&o, &r, &g);
    expect(&g, 3, 1, SL_AUDIT_UPLOAD_ID, 2, SL_AUDIT_UPLOAD_ID,
           3, SL_AUDIT_UPLOAD_ID);
    assert_string_equal(g.b[0].owner, "up-2");
    assert_string_equal(g.b[0].kind, "sample");
    o = sample_owner();
    /* cut short before commit; validate's output still matches */
    r.n = 2;
    check(&o, &r, &g);
    expect(&g, 1, 0, SL_AUDIT_COMMIT_MISSING);
    /* nothing at all */
    r.n = 0;
    check(&o, &r, &g);
    expect(&g, 1, 0, SL_AUDIT_NO_EVENTS);
    r.n = 3;
    rows_free(&r);

    /* no event records an output */
    {
        static const step none[] = {
            { "validate", "accepted", content, NULL },
            { "commit", "committed", NULL, NULL },
        };
        build(&r, content, "up-1", none, 2, T_MS);
        check(&o, &r, &g);
        expect(&g, 1, 0, SL_AUDIT_OUTPUT_MISMATCH);
        rows_free(&r);
    }
}

static void test_every_break_at_once(void **state)
{
    sl_audit_owner o = sample_owner();
    char text[2048];
    rows r;
    got g;

    (void)state;
    /* the checker does not stop at the first break */
    build_plain(&r);
    rows_set(&r, 0, F_OUTCOME, "rejected");
    edit(&r, 1, "09.124Z", "09.199Z", text, sizeof(text));
    rows_set(&r, 1, F_CANONICAL, text);
    rows_set(&r, 2, F_STAGE, "scan");
    check(&o, &r, &g);
    expect(&g, 3, 1, SL_AUDIT_OUTCOME_COLUMN, 2, SL_AUDIT_HASH_MISMATCH,
           3, SL_AUDIT_STAGE_COLUMN);
    rows_free(&r);
}

static void test_content(void **state)
{
    got g;
    sl_audit_sink s = { collect, &g, 0 };

    (void)state;
    memset(&g, 0, sizeof(g));
    assert_int_equal(sl_audit_content_check(&s, content, "hello", 5), SL_OK);
    assert_int_equal(s.breaks, 0);
    assert_int_equal(sl_audit_content_check(&s, content, "hellO", 5), SL_OK);
    assert_int_equal(s.breaks, 1);
    assert_int_equal(g.b[0].problem, SL_AUDIT_CONTENT_HASH);
    assert_int_equal(g.b[0].seq, 0);
    assert_string_equal(g.b[0].kind, "content");
    assert_string_equal(g.b[0].owner, content);
    /* an empty content hashes too */
    assert_int_equal(sl_audit_content_check(&s, content, NULL, 0), SL_OK);
    assert_int_equal(s.breaks, 2);
    /* a sink without a callback only counts */
    s.report = NULL;
    sl_audit_report(&s, "sample", "x", 1, SL_AUDIT_PREV_LINK, "%s", "d");
    assert_int_equal(s.breaks, 3);
}

static void test_problem_names(void **state)
{
    (void)state;
    for (int p = SL_AUDIT_HASH_MISMATCH; p <= SL_AUDIT_HEAD_KEY; p++) {
        const char *name = sl_audit_problem_name((sl_audit_problem)p);
        assert_string_not_equal(name, "unknown");
        for (int q = SL_AUDIT_HASH_MISMATCH; q < p; q++)
            assert_string_not_equal(name,
                                    sl_audit_problem_name((sl_audit_problem)q));
    }
    assert_string_equal(sl_audit_problem_name(SL_AUDIT_PREV_LINK), "prev_link");
    assert_string_equal(sl_audit_problem_name(SL_AUDIT_HEAD_MISMATCH), "head_mismatch");
    assert_string_equal(sl_audit_problem_name((sl_audit_problem)0), "unknown");
    assert_string_equal(sl_audit_problem_name((sl_audit_problem)999), "unknown");
}

/* ---- signed chain heads -------------------------------------------------- */

/* The key file: created 0600 at first open, the same key when opened
 * again; refused when it is a symlink, readable by others, or not a key. */
static void test_signer_key_file(void **state)
{
    char dir[] = "/tmp/sl-audit-key.XXXXXX", path[256], link_path[256], id[SL_AUDIT_KEY_HEX];
    sl_audit_signer *a = NULL, *b = NULL;
    sl_err err = { "" };
    struct stat st;
    FILE *f;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/commit.key", dir);
    snprintf(link_path, sizeof(link_path), "%s/link.key", dir);
    assert_int_equal(sl_audit_signer_open(path, 0, &a, &err), SL_EIO);   /* no create */
    assert_null(a);
    assert_int_equal(sl_audit_signer_open(path, 1, &a, &err), SL_OK);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, 65);
    assert_int_equal(strlen(sl_audit_signer_key_id(a)), 64);
    snprintf(id, sizeof(id), "%s", sl_audit_signer_key_id(a));
    assert_int_equal(sl_audit_signer_open(path, 1, &b, &err), SL_OK);
    assert_string_equal(sl_audit_signer_key_id(b), id);
    sl_audit_signer_destroy(b);
    b = NULL;
    /* a symlink to it is not followed, even with create */
    assert_int_equal(symlink(path, link_path), 0);
    assert_int_not_equal(sl_audit_signer_open(link_path, 1, &b, &err), SL_OK);
    assert_null(b);
    /* readable by the group */
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(sl_audit_signer_open(path, 0, &b, &err), SL_EINVAL);
    assert_non_null(strstr(err.msg, "group or others"));
    assert_int_equal(chmod(path, 0600), 0);
    /* not a key */
    assert_non_null(f = fopen(path, "w"));
    fputs("not a key\n", f);
    fclose(f);
    assert_int_equal(sl_audit_signer_open(path, 0, &b, &err), SL_EINVAL);
    sl_audit_signer_destroy(a);
    sl_audit_signer_destroy(NULL);
    unlink(link_path);
    unlink(path);
    rmdir(dir);
}

static void head_check(const sl_audit_owner *o, const rows *r,
                       const sl_audit_head *h, got *g)
{
    sl_audit_sink s = { collect, g, 0 };

    memset(g, 0, sizeof(*g));
    assert_int_equal(sl_audit_head_check(&s, o, r->ev, r->n, h), SL_OK);
    assert_int_equal(s.breaks, g->n);
}

/* A seal verifies over exactly the heads it signed, in any order, under
 * its key only: a changed, added or removed head, another seal id or key,
 * a malformed signature all fail. */
static void test_seals(void **state)
{
    char dir[] = "/tmp/sl-audit-seal.XXXXXX", path[256], path2[256];
    char sig[SL_AUDIT_SIG_HEX], sig2[SL_AUDIT_SIG_HEX];
    sl_audit_signer *k = NULL, *k2 = NULL;
    sl_err err = { "" };
    sl_audit_headref h[3] = {
        { "sample", "up-1", 3, content },
        { "rejection", "sluice.uploads/0/7", 2, redacted },
        { "sample", "up-0", 4, redacted },
    }, swapped[3] = { h[2], h[0], h[1] }, changed[3];

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/a.key", dir);
    snprintf(path2, sizeof(path2), "%s/b.key", dir);
    assert_int_equal(sl_audit_signer_open(path, 1, &k, &err), SL_OK);
    assert_int_equal(sl_audit_signer_open(path2, 1, &k2, &err), SL_OK);
    const char *key = sl_audit_signer_key_id(k);
    assert_int_equal(sl_audit_seal_sign(k, 17, h, 3, sig), SL_OK);
    assert_int_equal(strlen(sig), 128);
    assert_int_equal(sl_audit_seal_verify(key, sig, 17, h, 3), SL_OK);
    assert_int_equal(sl_audit_seal_verify(key, sig, 17, swapped, 3), SL_OK);
    assert_int_equal(sl_audit_seal_verify(key, sig, 18, h, 3), SL_EINVAL);
    assert_int_equal(sl_audit_seal_verify(key, sig, 17, h, 2), SL_EINVAL);
    memcpy(changed, h, sizeof(h));
    changed[1].hash = content;
    assert_int_equal(sl_audit_seal_verify(key, sig, 17, changed, 3), SL_EINVAL);
    memcpy(changed, h, sizeof(h));
    changed[2].seq = 5;
    assert_int_equal(sl_audit_seal_verify(key, sig, 17, changed, 3), SL_EINVAL);
    memcpy(changed, h, sizeof(h));
    changed[0].kind = "review";
    assert_int_equal(sl_audit_seal_verify(key, sig, 17, changed, 3), SL_EINVAL);
    assert_int_equal(sl_audit_seal_verify(sl_audit_signer_key_id(k2), sig, 17, h, 3),
                     SL_EINVAL);
    assert_int_equal(sl_audit_seal_sign(k2, 17, h, 3, sig2), SL_OK);
    assert_int_equal(sl_audit_seal_verify(sl_audit_signer_key_id(k2), sig2, 17, h, 3),
                     SL_OK);
    assert_int_equal(sl_audit_seal_verify("zz", sig, 17, h, 3), SL_EINVAL);
    assert_int_equal(sl_audit_seal_verify(key, "00", 17, h, 3), SL_EINVAL);
    sig[5] = sig[5] == '0' ? '1' : '0';
    assert_int_equal(sl_audit_seal_verify(key, sig, 17, h, 3), SL_EINVAL);
    /* an empty seal is a seal too */
    assert_int_equal(sl_audit_seal_sign(k, 1, NULL, 0, sig), SL_OK);
    assert_int_equal(sl_audit_seal_verify(key, sig, 1, NULL, 0), SL_OK);
    sl_audit_signer_destroy(k);
    sl_audit_signer_destroy(k2);
    unlink(path);
    unlink(path2);
    rmdir(dir);
}

/* The head must be the chain's last event; a bad or untrusted seal is its
 * own break; no head is head_missing. */
static void test_head_check(void **state)
{
    rows r;
    got g;
    char last[SL_SHA256_HEX];

    (void)state;
    build_plain(&r);
    sl_audit_owner o = sample_owner();
    snprintf(last, sizeof(last), "%s", r.ev[2].hash);
    sl_audit_head h = { 3, last, 9, SL_AUDIT_SEAL_OK };

    head_check(&o, &r, &h, &g);
    expect(&g, 0);
    /* the chain rewritten and rehashed: it ends elsewhere */
    rows_set(&r, 2, F_HASH, redacted);
    head_check(&o, &r, &h, &g);
    expect(&g, 1, 3, SL_AUDIT_HEAD_MISMATCH);
    rows_set(&r, 2, F_HASH, last);
    /* cut short, or the head row moved along (its seal then fails) */
    r.n = 2;
    head_check(&o, &r, &h, &g);
    expect(&g, 1, 2, SL_AUDIT_HEAD_MISMATCH);
    r.n = 3;
    h.seal = SL_AUDIT_SEAL_BAD;
    head_check(&o, &r, &h, &g);
    expect(&g, 1, 3, SL_AUDIT_HEAD_SIGNATURE);
    h.seal = SL_AUDIT_SEAL_UNTRUSTED;
    head_check(&o, &r, &h, &g);
    expect(&g, 1, 3, SL_AUDIT_HEAD_KEY);
    head_check(&o, &r, NULL, &g);
    expect(&g, 1, 0, SL_AUDIT_HEAD_MISSING);
    rows_free(&r);
}

static void test_record_parse(void **state)
{
    sl_prov_record rec;
    sl_err err = { "" };
    rows r;

    (void)state;
    build_plain(&r);
    assert_int_equal(sl_prov_record_parse(r.ev[0].canonical,
                                          strlen(r.ev[0].canonical), &rec,
                                          &err), SL_OK);
    assert_int_equal(rec.canonical, 1);
    assert_int_equal(rec.seq, 1);
    assert_string_equal(rec.stage, "validate");
    assert_string_equal(rec.version, "v1");
    assert_string_equal(rec.time, "2026-11-28T04:37:09.123Z");
    assert_string_equal(rec.outcome, "accepted");
    assert_null(rec.reason);
    assert_string_equal(rec.upload_id, "up-1");
    assert_string_equal(rec.input_sha256, content);
    assert_string_equal(rec.output_sha256, content);
    assert_string_equal(rec.prev, content);
    sl_prov_record_clear(&rec);
    sl_prov_record_clear(NULL);

    assert_int_equal(sl_prov_record_parse("[1]", 3, &rec, &err), SL_EINVAL);
    assert_non_null(strstr(err.msg, "event fields"));
    assert_null(rec.doc);
    assert_int_equal(sl_prov_record_parse("{\"a\":1,\"a\":2}", 13, &rec, &err),
                     SL_EINVAL);
    assert_int_equal(sl_prov_record_parse("{}\0x", 4, &rec, &err), SL_EINVAL);
    assert_non_null(strstr(err.msg, "NUL"));
    assert_int_equal(sl_prov_record_parse("", 0, &rec, &err), SL_EINVAL);
    /* seq as a string: the wrong type */
    {
        char text[2048];
        edit(&r, 0, "\"seq\":1", "\"seq\":\"1\"", text, sizeof(text));
        assert_int_equal(sl_prov_record_parse(text, strlen(text), &rec, &err),
                         SL_EINVAL);
        assert_non_null(strstr(err.msg, "\"seq\""));
        edit(&r, 0, "\"seq\":1", "\"seq\":1.0", text, sizeof(text));
        assert_int_equal(sl_prov_record_parse(text, strlen(text), &rec, &err),
                         SL_EINVAL);
    }
    rows_free(&r);
}

/* A review item's chain once a moderator decided (review_event.h): the
 * stored flagged bytes are the review event's input; a redaction sends
 * other bytes on, which the review item does not store.  The sample it
 * becomes keeps the whole chain and the redacted bytes. */
static void test_review_decision(void **state)
{
    static const step reviewed[] = {
        { "validate", "accepted", content, content },
        { "scan", "flagged", content, content },
        { "commit", "queued_for_review", content, content },
        { "review", "redacted", content, redacted },
        { "license", "accepted", redacted, redacted },
        { "commit", "committed", redacted, redacted },
    };
    sl_audit_owner review = {
        .kind = "review", .id = "up-1", .upload_id = "up-1",
        .origin_sha256 = content, .content_sha256 = content,
        .origin_may_be_redacted = 1,
    };
    sl_audit_owner sample = sample_owner();
    rows r;
    got g;

    (void)state;
    build(&r, content, "up-1", reviewed, 4, T_MS);
    check(&review, &r, &g);
    expect(&g, 0);
    /* a review event on other bytes than those stored is a break */
    review.content_sha256 =
        "0000000000000000000000000000000000000000000000000000000000000000";
    check(&review, &r, &g);
    expect(&g, 1, 4, SL_AUDIT_OUTPUT_MISMATCH);
    rows_free(&r);

    build(&r, content, "up-1", reviewed, 6, T_MS);
    sample.content_sha256 = redacted;   /* original_sha256 = the flagged bytes' */
    check(&sample, &r, &g);
    expect(&g, 0);
    rows_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_chain),
        cmocka_unit_test(test_signer_key_file),
        cmocka_unit_test(test_seals),
        cmocka_unit_test(test_head_check),
        cmocka_unit_test(test_redacted_chain),
        cmocka_unit_test(test_review_decisions),
        cmocka_unit_test(test_changed_byte),
        cmocka_unit_test(test_rehashed_edit),
        cmocka_unit_test(test_columns),
        cmocka_unit_test(test_not_canonical),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_links),
        cmocka_unit_test(test_seq),
        cmocka_unit_test(test_owner_facts),
        cmocka_unit_test(test_every_break_at_once),
        cmocka_unit_test(test_content),
        cmocka_unit_test(test_problem_names),
        cmocka_unit_test(test_record_parse),
        cmocka_unit_test(test_review_decision),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
