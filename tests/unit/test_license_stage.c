/*
 * test_license_stage.c -- unit tests for services/license/license_stage.c,
 * the stage that binds a sample to a license, fed hand-built messages (with
 * the provenance chain the validate stage leaves) and an in-memory
 * sl_license_lookup: no broker, no database.
 *
 * Groups, in the order license_stage.c runs its checks:
 *   - accepted samples: the sluice-license record (parsed as JSON) and the
 *     provenance chain (verified, also from a redacted sample's original
 *     hash, and restarted when the incoming chain is broken);
 *   - one group per reason code: meta_invalid, dataset_unknown,
 *     license_missing / _invalid / _unknown / _deprecated,
 *     attestation_missing, use_reserved, opted_out, taken_down,
 *     not_entitled, quota_exceeded, license_not_allowed;
 *   - the order of the checks where two problems coexist;
 *   - registry outages and an unusable policy, which retry;
 *   - prepare(): the bulk answers give what the one-by-one asks give.
 *
 * The in-memory registry keeps to the lookup's contract strictly: the
 * strings dataset() lends are scribbled over and freed at the next call of
 * either callback, so a stage that holds on to them fails here (and ASan
 * names the use after free).
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
#include "license_stage.h"

/* ---- in-memory registry ----------------------------------------------- */

#define MR_MAX 128

typedef struct mr_dataset {
    char id[64];
    int open;
    const char *policy;          /* static text or NULL */
    const char *version;         /* static text or NULL */
    int64_t quota_count, quota_bytes;
} mr_dataset;

typedef struct mr_usage {
    char creator[64], dataset[64];
    int64_t count, bytes;
} mr_usage;

typedef struct mem_reg {
    mr_dataset ds[MR_MAX];
    size_t n_ds;
    char optout[MR_MAX][64];
    size_t n_optout;
    char takedown[MR_MAX][SL_SHA256_HEX];
    size_t n_takedown;
    char contrib[MR_MAX][2][64];
    size_t n_contrib;
    mr_usage usage[MR_MAX];
    size_t n_usage;
    int fail_dataset, fail_ask;  /* simulate an outage (SL_EIO) */
    int calls_dataset, calls_ask;
    size_t asked;                /* asks answered over all calls */
    char last_creator[64], last_dataset[64];
    char last_sha[SL_SHA256_HEX], last_orig[SL_SHA256_HEX];
    char *lent_policy, *lent_version;   /* lent by dataset() until next call */
    int *destroyed;
} mem_reg;

static mem_reg *mr_new(void)
{
    mem_reg *r = calloc(1, sizeof(*r));

    assert_non_null(r);
    return r;
}

/* Adds or replaces a dataset. */
static void mr_dataset_set(mem_reg *r, const char *id, int open,
                           const char *policy, const char *version,
                           int64_t quota_count, int64_t quota_bytes)
{
    mr_dataset *d = NULL;

    for (size_t i = 0; i < r->n_ds; i++)
        if (strcmp(r->ds[i].id, id) == 0)
            d = &r->ds[i];
    if (!d) {
        assert_true(r->n_ds < MR_MAX);
        d = &r->ds[r->n_ds++];
    }
    snprintf(d->id, sizeof(d->id), "%s", id);
    d->open = open;
    d->policy = policy;
    d->version = version;
    d->quota_count = quota_count;
    d->quota_bytes = quota_bytes;
}

static void mr_optout(mem_reg *r, const char *creator)
{
    assert_true(r->n_optout < MR_MAX);
    snprintf(r->optout[r->n_optout++], 64, "%s", creator);
}

static void mr_takedown(mem_reg *r, const char *sha)
{
    assert_true(r->n_takedown < MR_MAX);
    snprintf(r->takedown[r->n_takedown++], SL_SHA256_HEX, "%s", sha);
}

static void mr_contributor(mem_reg *r, const char *creator, const char *dataset)
{
    assert_true(r->n_contrib < MR_MAX);
    snprintf(r->contrib[r->n_contrib][0], 64, "%s", creator);
    snprintf(r->contrib[r->n_contrib][1], 64, "%s", dataset);
    r->n_contrib++;
}

/* Sets today's accepted count and bytes of creator in dataset. */
static void mr_used(mem_reg *r, const char *creator, const char *dataset,
                    int64_t count, int64_t bytes)
{
    mr_usage *u = NULL;

    for (size_t i = 0; i < r->n_usage; i++)
        if (strcmp(r->usage[i].creator, creator) == 0 &&
            strcmp(r->usage[i].dataset, dataset) == 0)
            u = &r->usage[i];
    if (!u) {
        assert_true(r->n_usage < MR_MAX);
        u = &r->usage[r->n_usage++];
    }
    snprintf(u->creator, sizeof(u->creator), "%s", creator);
    snprintf(u->dataset, sizeof(u->dataset), "%s", dataset);
    u->count = count;
    u->bytes = bytes;
}

/* What dataset() lent is valid until the next call of the lookup: wipe
 * and free it, so a stage that keeps it reads garbage (or trips ASan). */
static void mr_reclaim(mem_reg *r)
{
    if (r->lent_policy)
        memset(r->lent_policy, 'x', strlen(r->lent_policy));
    if (r->lent_version)
        memset(r->lent_version, 'x', strlen(r->lent_version));
    free(r->lent_policy);
    free(r->lent_version);
    r->lent_policy = r->lent_version = NULL;
}

static int mr_dataset_fn(void *u, const char *id, sl_license_dataset *out)
{
    mem_reg *r = u;

    r->calls_dataset++;
    mr_reclaim(r);
    if (r->fail_dataset)
        return SL_EIO;
    assert_non_null(id);
    for (size_t i = 0; i < r->n_ds; i++) {
        const mr_dataset *d = &r->ds[i];
        if (strcmp(d->id, id) != 0)
            continue;
        if (d->policy)
            assert_non_null(r->lent_policy = strdup(d->policy));
        if (d->version)
            assert_non_null(r->lent_version = strdup(d->version));
        out->open = d->open;
        out->policy_json = r->lent_policy;
        out->policy_version = r->lent_version;
        out->quota_count = d->quota_count;
        out->quota_bytes = d->quota_bytes;
        return SL_OK;
    }
    return SL_ENOTFOUND;
}

static int mr_ask_fn(void *u, sl_license_ask *asks, size_t n)
{
    mem_reg *r = u;

    r->calls_ask++;
    mr_reclaim(r);
    if (r->fail_ask)
        return SL_EIO;
    for (size_t i = 0; i < n; i++) {
        sl_license_ask *a = &asks[i];

        assert_non_null(a->creator_id);
        assert_non_null(a->dataset_id);
        assert_non_null(a->sha256);
        assert_non_null(a->original_sha256);
        a->opted_out = a->taken_down = a->contributor = 0;
        a->used_count = a->used_bytes = 0;
        for (size_t k = 0; k < r->n_optout; k++)
            a->opted_out |= strcmp(r->optout[k], a->creator_id) == 0;
        for (size_t k = 0; k < r->n_takedown; k++)
            a->taken_down |= strcmp(r->takedown[k], a->sha256) == 0 ||
                             strcmp(r->takedown[k], a->original_sha256) == 0;
        for (size_t k = 0; k < r->n_contrib; k++)
            a->contributor |= strcmp(r->contrib[k][0], a->creator_id) == 0 &&
                              strcmp(r->contrib[k][1], a->dataset_id) == 0;
        for (size_t k = 0; k < r->n_usage; k++)
            if (strcmp(r->usage[k].creator, a->creator_id) == 0 &&
                strcmp(r->usage[k].dataset, a->dataset_id) == 0) {
                a->used_count = r->usage[k].count;
                a->used_bytes = r->usage[k].bytes;
            }
        r->asked++;
        snprintf(r->last_creator, sizeof(r->last_creator), "%s", a->creator_id);
        snprintf(r->last_dataset, sizeof(r->last_dataset), "%s", a->dataset_id);
        snprintf(r->last_sha, sizeof(r->last_sha), "%s", a->sha256);
        snprintf(r->last_orig, sizeof(r->last_orig), "%s", a->original_sha256);
    }
    return SL_OK;
}

static void mr_destroy_fn(void *u)
{
    mem_reg *r = u;

    if (r->destroyed)
        (*r->destroyed)++;
    mr_reclaim(r);
    free(r);
}

static void mr_lookup(mem_reg *r, sl_license_lookup *lk)
{
    lk->u = r;
    lk->dataset = mr_dataset_fn;
    lk->ask = mr_ask_fn;
    lk->destroy = mr_destroy_fn;
}

#define POLICY_COMMERCIAL "{\"version\":3,\"require\":[\"commercial\"]}"
#define POLICY_CC_ONLY    "{\"allowed\":[\"CC-BY-*\",\"CC0-1.0\"]}"

/* The registry every test starts with. */
static mem_reg *default_registry(void)
{
    mem_reg *r = mr_new();

    mr_dataset_set(r, "open", 1, NULL, NULL, -1, -1);
    mr_dataset_set(r, "closed", 0, NULL, NULL, -1, -1);
    mr_dataset_set(r, "closed2", 0, NULL, NULL, -1, -1);
    mr_dataset_set(r, "commercial", 1, POLICY_COMMERCIAL,
                   "2026-11-01 10:00:00+00", -1, -1);
    mr_dataset_set(r, "cc-only", 1, POLICY_CC_ONLY, "v1", -1, -1);
    mr_dataset_set(r, "quota", 1, NULL, NULL, 3, -1);
    mr_dataset_set(r, "bytes", 1, NULL, NULL, -1, 20);
    mr_dataset_set(r, "zero", 1, NULL, NULL, 0, -1);
    mr_dataset_set(r, "quota-nc", 1, POLICY_COMMERCIAL, "v1", 2, -1);
    mr_contributor(r, "carol", "closed");
    mr_contributor(r, "dave", "closed2");
    mr_optout(r, "oscar");
    return r;
}

/* ---- the stage under test ---------------------------------------------- */

typedef struct ctx {
    sl_config *cfg;
    sl_license_stage *s;
    mem_reg *reg;        /* owned by s, kept to steer it */
    sl_out *out;
    int destroyed;       /* times the lookup was destroyed */
} ctx;

static sl_license_stage *new_stage(sl_config *cfg, mem_reg *r)
{
    sl_license_lookup lk = { 0 };
    sl_license_stage *s = NULL;
    sl_err err = { "" };

    mr_lookup(r, &lk);
    if (sl_license_new(&s, cfg, &lk, &err) != SL_OK)
        fail_msg("sl_license_new: %s", err.msg);
    return s;
}

static int setup(void **state)
{
    ctx *c = calloc(1, sizeof(*c));

    if (!c || !(c->out = sl_out_new(1 << 20)))
        return -1;
    c->cfg = fx_config(sl_license_config);
    c->reg = default_registry();
    c->reg->destroyed = &c->destroyed;
    c->s = new_stage(c->cfg, c->reg);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    ctx *c = *state;

    sl_license_destroy(c->s);
    assert_int_equal(c->destroyed, 1);   /* the stage owned the lookup */
    sl_config_destroy(c->cfg);
    sl_out_destroy(c->out);
    free(c);
    return 0;
}

/* ---- messages ------------------------------------------------------------ */

#define ATT_OK "{\"version\":1,\"rights_holder\":true}"

/* One incoming message and what the checks need to know about it. */
typedef struct tmsg {
    fx_msg f;
    char sha[SL_SHA256_HEX];      /* of the value */
    char origin[SL_SHA256_HEX];   /* where the provenance chain starts */
    char upload[64];
    size_t events_in;             /* events in the incoming chain (intact) */
} tmsg;

static int upload_seq;

/* Metadata text; lic and att are the JSON of the "license" and
 * "attestation" members (NULL: absent), extra a fragment appended inside
 * the object (",\"k\":1") or NULL. */
static char *meta_text(const char *upload, const char *creator,
                       const char *dataset, const char *lic, const char *att,
                       const char *extra)
{
    size_t cap = 8192;
    char *out = malloc(cap);
    int n;

    assert_non_null(out);
    n = snprintf(out, cap,
                 "{\"schema_version\":1,\"upload_id\":\"%s\",\"creator_id\":\"%s\","
                 "\"dataset_id\":\"%s\",\"content_type\":\"text/plain\","
                 "\"created_at\":\"2026-11-28T09:00:00Z\"%s%s%s%s%s}",
                 upload, creator, dataset,
                 lic ? ",\"license\":" : "", lic ? lic : "",
                 att ? ",\"attestation\":" : "", att ? att : "",
                 extra ? extra : "");
    assert_true(n > 0 && (size_t)n < cap);
    return out;
}

/* The chain the earlier stages leave: validate's event on the signed
 * content, and when the scan stage redacted the bytes, its event from the
 * original hash to the new one. */
static void add_chain(tmsg *t, int redacted)
{
    sl_prov_event ev = {
        .stage = "validate", .version = "validate/1", .outcome = "accepted",
        .reason = NULL, .upload_id = t->upload, .input_sha256 = t->origin,
        .output_sha256 = t->origin, .time_ms = sl_now_ms(),
    };
    sl_buf a, b;
    sl_err err = { "" };

    sl_buf_init(&a, 1 << 20);
    sl_buf_init(&b, 1 << 20);
    if (sl_prov_append((sl_slice){ NULL, 0 }, t->origin, &ev, &a, NULL, &err) != SL_OK)
        fail_msg("sl_prov_append: %s", err.msg);
    t->events_in = 1;
    if (redacted) {
        sl_prov_event sc = {
            .stage = "scan", .version = "scan/1", .outcome = "redacted",
            .upload_id = t->upload, .input_sha256 = t->origin,
            .output_sha256 = t->sha, .time_ms = sl_now_ms(),
        };
        if (sl_prov_append((sl_slice){ a.data, a.len }, t->origin, &sc, &b,
                           NULL, &err) != SL_OK)
            fail_msg("sl_prov_append: %s", err.msg);
        fx_msg_header(&t->f, SL_H_PROV, b.data, b.len);
        t->events_in = 2;
    } else {
        fx_msg_header(&t->f, SL_H_PROV, a.data, a.len);
    }
    sl_buf_free(&a);
    sl_buf_free(&b);
}

/* A message with value content and metadata meta (NULL: no header); the
 * scan stage's header names original (when not NULL) as the signed hash;
 * with chain, the earlier stages' provenance chain travels with it. */
static void mk_raw(tmsg *t, const char *upload, const char *content,
                   const char *meta, const char *original, int chain)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->upload, sizeof(t->upload), "%s", upload);
    fx_msg_init(&t->f, upload, content, strlen(content));
    t->f.msg.topic = "sluice.scanned";
    assert_int_equal(sl_sha256_hex(content, strlen(content), t->sha), SL_OK);
    memcpy(t->origin, original ? original : t->sha, SL_SHA256_HEX);
    if (meta)
        fx_msg_header_str(&t->f, SL_H_META, meta);
    fx_msg_header_str(&t->f, SL_H_SHA256, t->sha);
    if (original) {
        char scan[256];
        snprintf(scan, sizeof(scan), "{\"outcome\":\"redacted\",\"detected_type\":"
                 "\"text/plain\",\"original_sha256\":\"%s\"}", original);
        fx_msg_header_str(&t->f, SL_H_SCAN, scan);
    }
    if (chain)
        add_chain(t, original != NULL);
}

/* A sample by creator for dataset with license member lic and attestation
 * att (JSON texts, NULL: absent) and extra metadata. */
static void mk_full(tmsg *t, const char *content, const char *creator,
                    const char *dataset, const char *lic, const char *att,
                    const char *extra)
{
    char upload[64], *meta;

    snprintf(upload, sizeof(upload), "up-%d", ++upload_seq);
    meta = meta_text(upload, creator, dataset, lic, att, extra);
    mk_raw(t, upload, content, meta, NULL, 1);
    free(meta);
}

/* The usual: license expression expr, a valid attestation. */
static void mk(tmsg *t, const char *content, const char *creator,
               const char *dataset, const char *expr)
{
    char lic[512];

    snprintf(lic, sizeof(lic), "{\"expression\":\"%s\"}", expr);
    mk_full(t, content, creator, dataset, lic, ATT_OK, NULL);
}

/* A valid license with attestation att. */
static void mk_att(tmsg *t, const char *content, const char *creator,
                   const char *dataset, const char *att)
{
    mk_full(t, content, creator, dataset, "{\"expression\":\"CC-BY-4.0\"}",
            att, NULL);
}

static void tfree(tmsg *t)
{
    fx_msg_free(&t->f);
}

/* ---- outcome checks ------------------------------------------------------ */

static sl_verdict run_msg(ctx *c, const sl_msg *m)
{
    sl_out_reset(c->out);
    return sl_license_process(c->s, m, c->out);
}

static sl_verdict run(ctx *c, tmsg *t)
{
    return run_msg(c, &t->f.msg);
}

/* The sluice-prov header verifies from t's origin and ends with one
 * license event with this outcome and reason (NULL: JSON null); events is
 * the expected length of the whole chain (the earlier ones validate's and,
 * for a redacted sample, scan's).  Returns the parsed event. */
static json_t *check_prov(ctx *c, const tmsg *t, size_t events,
                          const char *outcome, const char *reason,
                          const char *upload_id)
{
    static const char *const chains[][4] = {
        { "license", NULL },
        { "validate", "license", NULL },
        { "validate", "scan", "license", NULL },
    };
    const char *ver;
    sl_slice chain;
    sl_err err = { "" };
    json_t *ev;

    assert_true(events >= 1 && events <= 3);
    ev = fx_check_prov(c->out, t->origin, chains[events - 1], outcome, reason,
                       t->sha);
    if (strcmp(t->origin, t->sha) != 0) {   /* it starts at the signed hash */
        assert_int_equal(sl_out_header(c->out, SL_H_PROV, &chain), SL_OK);
        assert_int_not_equal(sl_prov_verify(chain, t->sha, &err), SL_OK);
    }
    assert_string_equal(json_string_value(json_object_get(ev, "output_sha256")), t->sha);
    fx_check_event_upload_id(ev, upload_id);
    ver = json_string_value(json_object_get(ev, "version"));
    assert_non_null(ver);
    assert_true(strncmp(ver, "license/1 spdx-", 15) == 0);
    assert_non_null(strstr(ver, " rights-"));
    return ev;
}

/* Accepted: SL_EMIT, no reason, value untouched, a sluice-license record
 * (returned, parsed) and an "accepted" event appended to the chain. */
static json_t *accepted(ctx *c, sl_verdict got, const tmsg *t)
{
    sl_slice h;
    json_error_t jerr;
    json_t *rec;

    if (got != SL_EMIT)
        fail_msg("%s: verdict %s, want emit (%s: %s)", t->upload,
                 sl_verdict_name(got), sl_out_reject_code(c->out),
                 sl_out_reject_detail(c->out));
    assert_string_equal(sl_out_reject_code(c->out), "");
    assert_false(sl_out_has_value(c->out));
    assert_int_equal(sl_out_header(c->out, SL_H_LICENSE, &h), SL_OK);
    rec = json_loadb((const char *)h.ptr, h.len, JSON_REJECT_DUPLICATES, &jerr);
    if (!rec)
        fail_msg("sluice-license is not JSON: %s", jerr.text);
    assert_true(json_is_object(rec));
    assert_int_equal(json_integer_value(json_object_get(rec, "version")), 1);
    json_decref(check_prov(c, t, t->events_in + 1, "accepted", NULL, t->upload));
    return rec;
}

#define expect_accept(c, t) json_decref(accepted((c), run((c), (t)), (t)))

/* Rejected with code; the detail contains frag (when not NULL); no
 * license record; the chain records the rejection and its reason. */
static void rejected(ctx *c, sl_verdict got, const tmsg *t, const char *code,
                     const char *frag, const char *upload_id)
{
    sl_slice h;

    if (got != SL_REJECT)
        fail_msg("%s: verdict %s, want reject %s (%s)", t->upload,
                 sl_verdict_name(got), code, sl_out_reject_detail(c->out));
    if (strcmp(sl_out_reject_code(c->out), code) != 0)
        fail_msg("%s: rejected as %s (%s), want %s", t->upload,
                 sl_out_reject_code(c->out), sl_out_reject_detail(c->out), code);
    if (frag && !strstr(sl_out_reject_detail(c->out), frag))
        fail_msg("detail \"%s\" lacks \"%s\"", sl_out_reject_detail(c->out), frag);
    assert_int_equal(sl_out_header(c->out, SL_H_LICENSE, &h), SL_ENOTFOUND);
    json_decref(check_prov(c, t, t->events_in + 1, "rejected", code, upload_id));
}

static void expect_reject(ctx *c, tmsg *t, const char *code, const char *frag)
{
    rejected(c, run(c, t), t, code, frag, t->upload);
}

/* Held for a retry: no reason code, nothing added to the message. */
static void retried(ctx *c, sl_verdict got, const tmsg *t)
{
    if (got != SL_RETRY)
        fail_msg("%s: verdict %s, want retry (%s: %s)", t->upload,
                 sl_verdict_name(got), sl_out_reject_code(c->out),
                 sl_out_reject_detail(c->out));
    assert_string_equal(sl_out_reject_code(c->out), "");
    assert_int_equal(sl_out_n_headers(c->out), 0);
}

static void expect_retry(ctx *c, tmsg *t)
{
    retried(c, run(c, t), t);
}

/* Shorthands: build, run, check, free. */
static void accept_expr(ctx *c, const char *creator, const char *dataset,
                        const char *expr)
{
    tmsg t;

    mk(&t, "some text", creator, dataset, expr);
    expect_accept(c, &t);
    tfree(&t);
}

static void reject_expr(ctx *c, const char *creator, const char *dataset,
                        const char *expr, const char *code, const char *frag)
{
    tmsg t;

    mk(&t, "some text", creator, dataset, expr);
    expect_reject(c, &t, code, frag);
    tfree(&t);
}

static void reject_att(ctx *c, const char *att, const char *code, const char *frag)
{
    tmsg t;

    mk_att(&t, "some text", "alice", "open", att);
    expect_reject(c, &t, code, frag);
    tfree(&t);
}

static void accept_att(ctx *c, const char *att)
{
    tmsg t;

    mk_att(&t, "some text", "alice", "open", att);
    expect_accept(c, &t);
    tfree(&t);
}

/* The text of string member k of o, or fails. */
static const char *str_of(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));

    if (!v)
        fail_msg("no string \"%s\"", k);
    return v;
}

static int bool_of(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);

    if (!json_is_boolean(v))
        fail_msg("no boolean \"%s\"", k);
    return json_is_true(v);
}

/* ==== accepted samples =================================================== */

/* A plain sample: the record names the license, its rights and where the
 * data came from; the chain grows by one verified license event. */
static void test_accept_record(void **state)
{
    ctx *c = *state;
    json_t *rec, *rights, *lics, *l0;
    tmsg t;

    mk(&t, "hello", "alice", "open", "CC-BY-4.0");
    rec = accepted(c, run(c, &t), &t);
    assert_string_equal(str_of(rec, "expression"), "CC-BY-4.0");
    assert_string_equal(str_of(rec, "chosen"), "CC-BY-4.0");
    rights = json_object_get(rec, "rights");
    assert_true(bool_of(rights, "known"));
    assert_true(bool_of(rights, "training_allowed"));
    assert_true(bool_of(rights, "commercial_allowed"));
    assert_true(bool_of(rights, "attribution_required"));
    assert_false(bool_of(rights, "share_alike"));
    lics = json_object_get(rec, "licenses");
    assert_int_equal(json_array_size(lics), 1);
    l0 = json_array_get(lics, 0);
    assert_string_equal(str_of(l0, "id"), "CC-BY-4.0");
    assert_string_equal(str_of(rec, "terms_url"),
                        "https://spdx.org/licenses/CC-BY-4.0.html");
    assert_null(json_object_get(rec, "attribution"));
    assert_true(json_is_null(json_object_get(rec, "policy_version")));
    assert_string_equal(str_of(rec, "spdx_list_version"), "3.29.0");
    assert_string_equal(str_of(rec, "rights_table_version"), "2026-11-28");
    json_decref(rec);
    /* the stage asked the registry about this very sample */
    assert_string_equal(c->reg->last_creator, "alice");
    assert_string_equal(c->reg->last_dataset, "open");
    assert_string_equal(c->reg->last_sha, t.sha);
    assert_string_equal(c->reg->last_orig, t.sha);
    tfree(&t);
}

/* The expression is normalised (case, spacing), rights follow the license
 * (NC: no commercial use; SA: share-alike; ND: no training), terms URL and
 * attribution come from the metadata. */
static void test_accept_normalised_rights(void **state)
{
    ctx *c = *state;
    json_t *rec, *rights;
    tmsg t;

    mk_full(&t, "hi", "alice", "open",
            "{\"expression\":\"cc-by-nc-4.0   or  mit\","
            "\"terms_url\":\"https://example.org/terms\","
            "\"attribution\":\"Alice Example\"}", ATT_OK, NULL);
    rec = accepted(c, run(c, &t), &t);
    assert_string_equal(str_of(rec, "expression"), "CC-BY-NC-4.0 OR MIT");
    assert_string_equal(str_of(rec, "chosen"), "MIT");   /* fewest restrictions */
    assert_string_equal(str_of(rec, "terms_url"), "https://example.org/terms");
    assert_string_equal(str_of(rec, "attribution"), "Alice Example");
    rights = json_object_get(rec, "rights");
    assert_true(bool_of(rights, "commercial_allowed"));
    json_decref(rec);
    tfree(&t);

    mk(&t, "hi", "alice", "open", "CC-BY-NC-4.0");
    rec = accepted(c, run(c, &t), &t);
    rights = json_object_get(rec, "rights");
    assert_true(bool_of(rights, "training_allowed"));
    assert_false(bool_of(rights, "commercial_allowed"));
    json_decref(rec);
    tfree(&t);

    mk(&t, "hi", "alice", "open", "CC-BY-SA-4.0 AND CC0-1.0");
    rec = accepted(c, run(c, &t), &t);
    assert_string_equal(str_of(rec, "expression"), "CC-BY-SA-4.0 AND CC0-1.0");
    assert_int_equal(json_array_size(json_object_get(rec, "licenses")), 2);
    rights = json_object_get(rec, "rights");
    assert_true(bool_of(rights, "share_alike"));
    assert_true(bool_of(rights, "attribution_required"));
    assert_null(json_object_get(rec, "terms_url"));   /* no single license */
    json_decref(rec);
    tfree(&t);

    /* with no policy, even a no-training license is bound and recorded */
    mk(&t, "hi", "alice", "open", "CC-BY-ND-4.0");
    rec = accepted(c, run(c, &t), &t);
    assert_false(bool_of(json_object_get(rec, "rights"), "training_allowed"));
    json_decref(rec);
    tfree(&t);

    /* a LicenseRef: accepted without a policy, its rights unknown */
    mk(&t, "hi", "alice", "open", "LicenseRef-Mine");
    rec = accepted(c, run(c, &t), &t);
    assert_string_equal(str_of(rec, "expression"), "LicenseRef-Mine");
    assert_false(bool_of(json_object_get(rec, "rights"), "known"));
    json_decref(rec);
    tfree(&t);
}

/* A policy's own version is recorded with the binding. */
static void test_accept_policy_version(void **state)
{
    ctx *c = *state;
    json_t *rec;
    tmsg t;

    mk(&t, "hi", "alice", "commercial", "CC-BY-4.0");
    rec = accepted(c, run(c, &t), &t);
    assert_int_equal(json_integer_value(json_object_get(rec, "policy_version")), 3);
    json_decref(rec);
    tfree(&t);
}

/* Records are reused for the same license under the same policy: each
 * one still says what its own policy and terms say -- after a policy
 * change, with other terms, and after many datasets pushed the first
 * one's policy out of the stage's cache. */
static char *record_of(ctx *c, const char *dataset, const char *license_json)
{
    json_t *rec;
    char *text;
    tmsg t;

    mk_full(&t, "some text", "alice", dataset, license_json, ATT_OK, NULL);
    rec = accepted(c, run(c, &t), &t);
    text = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(rec);
    tfree(&t);
    assert_non_null(text);
    return text;
}

static void test_record_memo(void **state)
{
    ctx *c = *state;
    const char *plain = "{\"expression\":\"MIT\"}";
    const char *terms = "{\"expression\":\"MIT\",\"terms_url\":\"https://e.org/t\"}";
    char *a, *b, name[32];

    mr_dataset_set(c->reg, "memo", 1, "{\"version\":7,\"require\":[\"commercial\"]}",
                   "v7", -1, -1);
    a = record_of(c, "memo", plain);
    b = record_of(c, "memo", plain);
    assert_string_equal(a, b);
    assert_non_null(strstr(a, "\"policy_version\":7"));
    free(b);
    b = record_of(c, "memo", terms);
    assert_non_null(strstr(b, "https://e.org/t"));
    assert_null(strstr(a, "https://e.org/t"));
    free(a);
    free(b);
    /* a new policy version is recorded at once */
    mr_dataset_set(c->reg, "memo", 1, "{\"version\":8,\"require\":[\"commercial\"]}",
                   "v8", -1, -1);
    a = record_of(c, "memo", plain);
    assert_non_null(strstr(a, "\"policy_version\":8"));
    free(a);
    /* no policy at all */
    mr_dataset_set(c->reg, "memo", 1, NULL, NULL, -1, -1);
    a = record_of(c, "memo", plain);
    assert_non_null(strstr(a, "\"policy_version\":null"));
    free(a);
    /* more datasets with policies than the stage keeps parsed */
    mr_dataset_set(c->reg, "memo", 1, "{\"version\":9,\"require\":[\"commercial\"]}",
                   "v9", -1, -1);
    a = record_of(c, "memo", plain);
    for (int i = 0; i < 70; i++) {
        snprintf(name, sizeof(name), "many-%d", i);
        mr_dataset_set(c->reg, name, 1, "{\"version\":100,\"require\":[\"commercial\"]}",
                       "v100", -1, -1);
        free(record_of(c, name, plain));
    }
    b = record_of(c, "memo", plain);
    assert_string_equal(a, b);
    assert_non_null(strstr(b, "\"policy_version\":9"));
    free(a);
    free(b);
}

/* A redacted sample: the chain starts at the hash the creator signed
 * (sluice-scan original_sha256), and the registry is asked about both. */
static void test_accept_redacted_origin(void **state)
{
    ctx *c = *state;
    char orig[SL_SHA256_HEX], upload[] = "up-redacted";
    char *meta = meta_text(upload, "alice", "open",
                           "{\"expression\":\"MIT\"}", ATT_OK, NULL);
    tmsg t;

    assert_int_equal(sl_sha256_hex("my card is 4111 1111 1111 1111", 30, orig), SL_OK);
    mk_raw(&t, upload, "my card is [REDACTED]", meta, orig, 1);
    assert_int_equal(t.events_in, 2);
    expect_accept(c, &t);   /* check_prov verifies from orig, not from sha */
    assert_string_equal(c->reg->last_sha, t.sha);
    assert_string_equal(c->reg->last_orig, orig);
    tfree(&t);

    /* a sluice-scan header without original_sha256 changes nothing */
    mk_raw(&t, upload, "plain", meta, NULL, 1);
    fx_msg_header_str(&t.f, SL_H_SCAN, "{\"outcome\":\"clean\"}");
    expect_accept(c, &t);
    assert_string_equal(c->reg->last_orig, t.sha);
    tfree(&t);
    free(meta);
}

/* An original_sha256 that is not 64 lowercase hex digits is not a hash
 * the chain can start at: the stage goes on from the content hash (it
 * must not stop the process over one message). */
static void test_bad_original_hash(void **state)
{
    ctx *c = *state;
    static const char *const bad[] = {
        "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
        "2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824",
        "2cf24dba",
    };
    char *meta = meta_text("up-badorig", "alice", "open",
                           "{\"expression\":\"MIT\"}", ATT_OK, NULL);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char scan[256];
        tmsg t;

        mk_raw(&t, "up-badorig", "hello", meta, NULL, 1);
        snprintf(scan, sizeof(scan), "{\"outcome\":\"redacted\","
                 "\"original_sha256\":\"%s\"}", bad[i]);
        fx_msg_header_str(&t.f, SL_H_SCAN, scan);
        expect_accept(c, &t);
        assert_string_equal(c->reg->last_orig, t.sha);
        tfree(&t);
    }
    free(meta);
}

/* Without an incoming chain the stage starts one; a broken one (edited
 * event, or a chain of another content) is not continued but restarted
 * from the signed hash. */
static void test_prov_restart(void **state)
{
    ctx *c = *state;
    char *meta = meta_text("up-prov", "alice", "open",
                           "{\"expression\":\"MIT\"}", ATT_OK, NULL);
    int i;
    tmsg t, other;

    mk_raw(&t, "up-prov", "hello", meta, NULL, 0);
    t.events_in = 0;
    expect_accept(c, &t);
    tfree(&t);

    /* one byte of the validate event changed */
    mk_raw(&t, "up-prov", "hello", meta, NULL, 1);
    i = fx_msg_header_index(&t.f, SL_H_PROV);
    assert_true(i >= 0);
    {
        char *p = strstr((char *)t.f.vals[i], "validate/1");
        assert_non_null(p);
        p[9] = '2';
    }
    t.events_in = 0;
    expect_accept(c, &t);
    tfree(&t);

    /* a valid chain, but of other bytes */
    mk_raw(&other, "up-prov", "other bytes", meta, NULL, 1);
    mk_raw(&t, "up-prov", "hello", meta, NULL, 0);
    i = fx_msg_header_index(&other.f, SL_H_PROV);
    fx_msg_header(&t.f, SL_H_PROV, other.f.vals[i], other.f.hdr[i].value.len);
    t.events_in = 0;
    expect_accept(c, &t);
    tfree(&t);
    tfree(&other);
    free(meta);
}

/* Many samples in a row: each bound, none leaking into the next. */
static void test_accept_many(void **state)
{
    ctx *c = *state;
    static const char *const exprs[] = {
        "MIT", "Apache-2.0", "CC0-1.0", "CC-BY-SA-4.0", "ODbL-1.0",
        "CDLA-Permissive-2.0", "GPL-3.0-or-later", "LicenseRef-OpenRAIL-M",
        "Apache-2.0 WITH LLVM-exception", "GPL-2.0-or-later", "CC-BY-4.0+",
        "(MIT OR Apache-2.0) AND CC-BY-4.0",
    };

    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
            char content[64];
            json_t *rec;
            tmsg t;

            snprintf(content, sizeof(content), "sample %d/%zu", round, i);
            mk(&t, content, "alice", "open", exprs[i]);
            rec = accepted(c, run(c, &t), &t);
            assert_non_null(json_object_get(rec, "expression"));
            json_decref(rec);
            tfree(&t);
        }
}

/* ==== meta_invalid ======================================================== */

static void test_meta_invalid(void **state)
{
    ctx *c = *state;
    /* the metadata, and the upload id its provenance event records: the
     * metadata's own when it is an object that names one (sl/envelope.h) */
    static const char *const metas[][2] = {
        { "", NULL },                            /* empty */
        { "not json", NULL },
        { "[1,2,3]", NULL },                     /* not an object */
        { "{\"creator_id\":\"alice\",\"dataset_id\":\"open\"}", NULL },  /* no upload id */
        { "{\"upload_id\":\"u\",\"dataset_id\":\"open\"}", "u" },        /* no creator */
        { "{\"upload_id\":\"u\",\"creator_id\":\"alice\"}", "u" },       /* no dataset */
        { "{\"upload_id\":\"u\",\"creator_id\":7,\"dataset_id\":\"open\"}", "u" },
        /* a second dataset_id must not slip through */
        { "{\"upload_id\":\"u\",\"creator_id\":\"alice\",\"dataset_id\":\"open\","
          "\"dataset_id\":\"closed\",\"license\":{\"expression\":\"MIT\"},"
          "\"attestation\":{\"version\":1,\"rights_holder\":true}}", NULL },
        /* the fields every stage reads: content_type, created_at as a
         * date-time a database stores */
        { "{\"upload_id\":\"u\",\"creator_id\":\"alice\",\"dataset_id\":\"open\","
          "\"created_at\":\"2026-11-28T09:00:00Z\"}", "u" },
        { "{\"upload_id\":\"u\",\"creator_id\":\"alice\",\"dataset_id\":\"open\","
          "\"content_type\":\"text/plain\",\"created_at\":\"today\"}", "u" },
    };
    tmsg t;

    for (size_t i = 0; i < sizeof(metas) / sizeof(metas[0]); i++) {
        mk_raw(&t, "up-mi", "hello", metas[i][0], NULL, 1);
        rejected(c, run(c, &t), &t, "meta_invalid", SL_H_META, metas[i][1]);
        tfree(&t);
    }
    /* no header at all, and a null header */
    mk_raw(&t, "up-mi", "hello", NULL, NULL, 1);
    rejected(c, run(c, &t), &t, "meta_invalid", NULL, NULL);
    tfree(&t);
    mk_raw(&t, "up-mi", "hello", "{}", NULL, 1);
    t.f.hdr[fx_msg_header_index(&t.f, SL_H_META)].value.ptr = NULL;
    t.f.hdr[fx_msg_header_index(&t.f, SL_H_META)].value.len = 0;
    rejected(c, run(c, &t), &t, "meta_invalid", NULL, NULL);
    tfree(&t);
    /* nothing was asked about unreadable samples */
    assert_int_equal(c->reg->calls_dataset, 0);
    assert_int_equal(c->reg->calls_ask, 0);
}

/* ==== dataset_unknown ===================================================== */

static void test_dataset_unknown(void **state)
{
    ctx *c = *state;

    reject_expr(c, "alice", "nope", "MIT", "dataset_unknown", "\"nope\"");
    reject_expr(c, "alice", "OPEN", "MIT", "dataset_unknown", NULL); /* exact id */
    accept_expr(c, "alice", "open", "MIT");
}

/* ==== the license expression ============================================== */

static void test_license_missing(void **state)
{
    ctx *c = *state;
    static const char *const lics[] = {
        "{\"expression\":\"\"}", "{\"expression\":\"   \"}",
        "{\"expression\":\"NONE\"}", "{\"expression\":\"NOASSERTION\"}",
        "{\"expression\":\"noassertion\"}", "{}", "{\"expression\":null}",
        "{\"expression\":42}", NULL,
    };
    tmsg t;

    for (size_t i = 0; i < sizeof(lics) / sizeof(lics[0]); i++) {
        mk_full(&t, "hello", "alice", "open", lics[i], ATT_OK, NULL);
        expect_reject(c, &t, "license_missing", NULL);
        tfree(&t);
    }
}

static void test_license_invalid(void **state)
{
    ctx *c = *state;
    static const char *const exprs[] = {
        "MIT AND", "MIT OR OR Apache-2.0", "(MIT", "MIT)", "AND MIT",
        "MIT Apache-2.0", "MIT WITH", "MIT++",
    };

    for (size_t i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++)
        reject_expr(c, "alice", "open", exprs[i], "license_invalid", NULL);
}

static void test_license_unknown(void **state)
{
    ctx *c = *state;

    reject_expr(c, "alice", "open", "Foo-License-9", "license_unknown",
                "'Foo-License-9'");
    reject_expr(c, "alice", "open", "MIT OR Bar-1.0", "license_unknown", "'Bar-1.0'");
    reject_expr(c, "alice", "open", "GPL-2.0-only WITH Bogus-exception",
                "license_unknown", "'Bogus-exception'");
}

static void test_license_deprecated(void **state)
{
    ctx *c = *state;

    reject_expr(c, "alice", "open", "GPL-2.0", "license_deprecated",
                "use 'GPL-2.0-only' instead");
    reject_expr(c, "alice", "open", "gpl-2.0+", "license_deprecated",
                "'GPL-2.0-or-later'");
    reject_expr(c, "alice", "open", "MIT OR LGPL-2.1", "license_deprecated",
                "'LGPL-2.1-only'");
}

/* ==== attestation_missing ================================================ */

static void test_attestation_missing(void **state)
{
    ctx *c = *state;
    tmsg t;

    mk_full(&t, "hello", "alice", "open", "{\"expression\":\"MIT\"}", NULL, NULL);
    expect_reject(c, &t, "attestation_missing", "no rights attestation");
    tfree(&t);
    reject_att(c, "{\"version\":1,\"rights_holder\":false}",
               "attestation_missing", "holds the rights");
    reject_att(c, "{\"version\":1}", "attestation_missing", NULL);
    reject_att(c, "{\"version\":1,\"rights_holder\":\"true\"}",
               "attestation_missing", NULL);
    reject_att(c, "{\"version\":0,\"rights_holder\":true}",
               "attestation_missing", NULL);
    reject_att(c, "{\"rights_holder\":true}", "attestation_missing", NULL);
    reject_att(c, "true", "attestation_missing", NULL);
    accept_att(c, "{\"version\":2,\"rights_holder\":true,\"statement\":\"mine\"}");
}

/* ==== use_reserved ======================================================== */

static void test_use_reserved(void **state)
{
    ctx *c = *state;
    static const char *const sig[] = {
        "ai_training", "ai_generative_training", "data_mining",
    };
    char att[256];

    for (size_t i = 0; i < 3; i++) {
        snprintf(att, sizeof(att), "{\"version\":1,\"rights_holder\":true,"
                 "\"%s\":\"notAllowed\"}", sig[i]);
        reject_att(c, att, "use_reserved", sig[i]);
        snprintf(att, sizeof(att), "{\"version\":1,\"rights_holder\":true,"
                 "\"%s\":\"constrained\"}", sig[i]);
        accept_att(c, att);
        snprintf(att, sizeof(att), "{\"version\":1,\"rights_holder\":true,"
                 "\"%s\":\"allowed\"}", sig[i]);
        accept_att(c, att);
    }
    reject_att(c, "{\"version\":1,\"rights_holder\":true,\"tdm_reservation\":true}",
               "use_reserved", "tdm_reservation");
    accept_att(c, "{\"version\":1,\"rights_holder\":true,\"tdm_reservation\":false}");
    accept_att(c, "{\"version\":1,\"rights_holder\":true,\"ai_training\":\"allowed\","
               "\"ai_generative_training\":\"constrained\",\"data_mining\":\"allowed\","
               "\"tdm_reservation\":false}");
    /* one reservation among permissions is enough */
    reject_att(c, "{\"version\":1,\"rights_holder\":true,\"ai_training\":\"allowed\","
               "\"ai_generative_training\":\"allowed\",\"data_mining\":\"notAllowed\"}",
               "use_reserved", "data_mining");
}

/* ==== opted_out / taken_down ============================================= */

static void test_opted_out(void **state)
{
    ctx *c = *state;

    reject_expr(c, "oscar", "open", "MIT", "opted_out", "\"oscar\"");
    accept_expr(c, "alice", "open", "MIT");
    mr_optout(c->reg, "alice");
    reject_expr(c, "alice", "open", "MIT", "opted_out", "\"alice\"");
}

static void test_taken_down(void **state)
{
    ctx *c = *state;
    char orig[SL_SHA256_HEX], *meta;
    tmsg t;

    /* by the content's hash */
    mk(&t, "taken down bytes", "alice", "open", "MIT");
    mr_takedown(c->reg, t.sha);
    expect_reject(c, &t, "taken_down", t.sha);
    tfree(&t);
    mk(&t, "other bytes", "alice", "open", "MIT");   /* others pass */
    expect_accept(c, &t);
    tfree(&t);

    /* by the hash the creator signed, the bytes since redacted */
    assert_int_equal(sl_sha256_hex("original with secret", 20, orig), SL_OK);
    meta = meta_text("up-td", "alice", "open", "{\"expression\":\"MIT\"}",
                     ATT_OK, NULL);
    mk_raw(&t, "up-td", "original with [REDACTED]", meta, orig, 1);
    expect_accept(c, &t);
    mr_takedown(c->reg, orig);
    expect_reject(c, &t, "taken_down", orig);
    tfree(&t);
    free(meta);
}

/* ==== not_entitled ======================================================== */

static void test_not_entitled(void **state)
{
    ctx *c = *state;

    reject_expr(c, "alice", "closed", "MIT", "not_entitled",
                "\"alice\" is not a contributor of dataset \"closed\"");
    accept_expr(c, "carol", "closed", "MIT");
    /* contributors are per dataset */
    reject_expr(c, "carol", "closed2", "MIT", "not_entitled", NULL);
    accept_expr(c, "dave", "closed2", "MIT");
    reject_expr(c, "dave", "closed", "MIT", "not_entitled", NULL);
    /* an open dataset takes anyone */
    accept_expr(c, "alice", "open", "MIT");
    accept_expr(c, "dave", "open", "MIT");
    /* a contributor added later is entitled from then on */
    mr_contributor(c->reg, "alice", "closed");
    accept_expr(c, "alice", "closed", "MIT");
}

/* ==== quota_exceeded ====================================================== */

/* Count quota: the registry's usage plus what this transaction accepted. */
static void test_quota_count(void **state)
{
    ctx *c = *state;

    mr_used(c->reg, "alice", "quota", 1, 100);
    accept_expr(c, "alice", "quota", "MIT");       /* 1 + 0 + 1 = 2 */
    accept_expr(c, "alice", "quota", "MIT");       /* 1 + 1 + 1 = 3 */
    reject_expr(c, "alice", "quota", "MIT", "quota_exceeded",
                "has 3 samples in \"quota\" today, the daily quota is 3");
    reject_expr(c, "alice", "quota", "MIT", "quota_exceeded", NULL);
    /* per creator, per dataset */
    accept_expr(c, "bob", "quota", "MIT");
    accept_expr(c, "alice", "open", "MIT");
    /* a quota of zero takes nothing */
    reject_expr(c, "bob", "zero", "MIT", "quota_exceeded", "the daily quota is 0");
}

/* The registry alone can exhaust a quota. */
static void test_quota_registry(void **state)
{
    ctx *c = *state;

    mr_used(c->reg, "alice", "quota", 3, 0);
    reject_expr(c, "alice", "quota", "MIT", "quota_exceeded", "has 3 samples");
    mr_used(c->reg, "alice", "quota", 2, 0);
    accept_expr(c, "alice", "quota", "MIT");
    reject_expr(c, "alice", "quota", "MIT", "quota_exceeded", NULL);
}

/* Byte quota: the registry's bytes, this transaction's, and this sample's
 * size; a sample that fits exactly passes. */
static void test_quota_bytes(void **state)
{
    ctx *c = *state;
    tmsg t;

    mr_used(c->reg, "alice", "bytes", 1, 5);
    mk(&t, "0123456789", "alice", "bytes", "MIT");      /* 5 + 10 = 15 */
    expect_accept(c, &t);
    tfree(&t);
    mk(&t, "abcdef", "alice", "bytes", "MIT");          /* 15 + 6 = 21 */
    expect_reject(c, &t, "quota_exceeded", "has 15 bytes in \"bytes\" today; 6 more");
    tfree(&t);
    mk(&t, "abcde", "alice", "bytes", "MIT");           /* 15 + 5 = 20 */
    expect_accept(c, &t);
    tfree(&t);
    mk(&t, "x", "alice", "bytes", "MIT");
    expect_reject(c, &t, "quota_exceeded", "daily quota of 20");
    tfree(&t);
    /* no count quota there: many small ones from another creator pass */
    for (int i = 0; i < 5; i++) {
        mk(&t, "abcd", "bob", "bytes", "MIT");
        expect_accept(c, &t);
        tfree(&t);
    }
}

/* After a commit the stage remembers what it accepted, and combines that
 * with the registry's count by max(): the registry catching up with the
 * same samples does not count them twice. */
static void test_quota_commit(void **state)
{
    ctx *c = *state;

    accept_expr(c, "alice", "quota", "MIT");
    accept_expr(c, "alice", "quota", "MIT");
    sl_license_txn_end(c->s, 1);
    /* the registry lags (still 0): the 2 committed count */
    accept_expr(c, "alice", "quota", "MIT");
    reject_expr(c, "alice", "quota", "MIT", "quota_exceeded", "has 3 samples");
    sl_license_txn_end(c->s, 1);
    /* the registry caught up: 3, not 3 + 3 */
    mr_used(c->reg, "alice", "quota", 3, 0);
    mr_dataset_set(c->reg, "quota", 1, NULL, NULL, 5, -1);
    accept_expr(c, "alice", "quota", "MIT");          /* max(3,3) + 1 = 4 */
    accept_expr(c, "alice", "quota", "MIT");          /* 5 */
    reject_expr(c, "alice", "quota", "MIT", "quota_exceeded", "has 5 samples");
    sl_license_txn_end(c->s, 1);
    /* the registry ahead of the stage (another instance): its count rules */
    mr_used(c->reg, "alice", "quota", 9, 0);
    mr_dataset_set(c->reg, "quota", 1, NULL, NULL, 10, -1);
    accept_expr(c, "alice", "quota", "MIT");
    reject_expr(c, "alice", "quota", "MIT", "quota_exceeded", "has 10 samples");
}

/* A test clock for the quota window: noon UTC, moved by the tests. */
static int64_t test_now = INT64_C(1795867200000);   /* 2026-11-28T12:00:00Z */
static int64_t test_clock(void)
{
    return test_now;
}

/* A takedown lowers the registry's count below what this stage counted.
 * While the stage's own samples may still be on their way to the
 * database it cannot tell the two apart and keeps counting its own; once
 * they are older than the window, the registry's count rules and the
 * withdrawn sample's slot is free again. */
static void test_quota_takedown(void **state)
{
    ctx *c = *state;

    sl_license_set_clock(c->s, test_clock);
    accept_expr(c, "alice", "quota", "MIT");
    accept_expr(c, "alice", "quota", "MIT");
    accept_expr(c, "alice", "quota", "MIT");
    sl_license_txn_end(c->s, 1);
    mr_used(c->reg, "alice", "quota", 3, 0);      /* commit caught up */
    reject_expr(c, "alice", "quota", "MIT", "quota_exceeded", "has 3 samples");
    mr_used(c->reg, "alice", "quota", 2, 0);      /* one taken down */
    test_now += 10 * 1000;
    reject_expr(c, "alice", "quota", "MIT", "quota_exceeded", "has 3 samples");
    test_now += 120 * 1000;                       /* past the window */
    accept_expr(c, "alice", "quota", "MIT");
    sl_license_txn_end(c->s, 1);
    /* that one is recent again: 2 in the registry + 1 on its way */
    reject_expr(c, "alice", "quota", "MIT", "quota_exceeded", "has 3 samples");
    sl_license_set_clock(c->s, NULL);
}

/* What the registry held before this instance counted anything (a
 * restart during the day, another instance) is not hidden by max(): the
 * stage's own committed count comes on top of it while the registry lags,
 * and still is not counted twice once the registry has caught up. */
static void test_quota_registry_before_us(void **state)
{
    ctx *c = *state;
    tmsg t;

    mr_used(c->reg, "alice", "quota", 1, 0);
    accept_expr(c, "alice", "quota", "MIT");
    accept_expr(c, "alice", "quota", "MIT");
    sl_license_txn_end(c->s, 1);
    /* registry still says 1; the truth is 3 */
    reject_expr(c, "alice", "quota", "MIT", "quota_exceeded", "has 3 samples");
    /* caught up: 3, not 3 + 2 */
    mr_used(c->reg, "alice", "quota", 3, 0);
    mr_dataset_set(c->reg, "quota", 1, NULL, NULL, 4, -1);
    accept_expr(c, "alice", "quota", "MIT");
    reject_expr(c, "alice", "quota", "MIT", "quota_exceeded", "has 4 samples");

    /* the same for bytes */
    mr_used(c->reg, "bob", "bytes", 1, 8);
    mk(&t, "0123456789", "bob", "bytes", "MIT");     /* 8 + 10 = 18 */
    expect_accept(c, &t);
    tfree(&t);
    sl_license_txn_end(c->s, 1);
    mk(&t, "abc", "bob", "bytes", "MIT");            /* 18 + 3 = 21 */
    expect_reject(c, &t, "quota_exceeded", "has 18 bytes");
    tfree(&t);
    mr_used(c->reg, "bob", "bytes", 2, 18);          /* caught up */
    mk(&t, "ab", "bob", "bytes", "MIT");             /* 18 + 2 = 20 */
    expect_accept(c, &t);
    tfree(&t);
}

/* An aborted transaction forgets what it accepted. */
static void test_quota_abort(void **state)
{
    ctx *c = *state;

    mr_dataset_set(c->reg, "quota", 1, NULL, NULL, 2, -1);
    accept_expr(c, "alice", "quota", "MIT");
    accept_expr(c, "alice", "quota", "MIT");
    reject_expr(c, "alice", "quota", "MIT", "quota_exceeded", "has 2 samples");
    sl_license_txn_end(c->s, 0);
    accept_expr(c, "alice", "quota", "MIT");
    accept_expr(c, "alice", "quota", "MIT");
    reject_expr(c, "alice", "quota", "MIT", "quota_exceeded", "has 2 samples");
    sl_license_txn_end(c->s, 0);
    sl_license_txn_end(c->s, 1);     /* nothing pending: nothing to commit */
    accept_expr(c, "alice", "quota", "MIT");
    accept_expr(c, "alice", "quota", "MIT");
    reject_expr(c, "alice", "quota", "MIT", "quota_exceeded", NULL);
}

/* Only what is accepted counts: rejections after the quota check (the
 * dataset's policy) and retries do not use it up. */
static void test_quota_rejected_do_not_count(void **state)
{
    ctx *c = *state;
    tmsg t;

    for (int i = 0; i < 3; i++)
        reject_expr(c, "alice", "quota-nc", "CC-BY-NC-4.0", "license_not_allowed",
                    NULL);
    /* a retry (the policy unusable for a moment) counts nothing either */
    mr_dataset_set(c->reg, "quota-nc", 1, "{\"require\":[\"teleport\"]}", "bad", 2, -1);
    mk(&t, "text", "alice", "quota-nc", "MIT");
    expect_retry(c, &t);
    expect_retry(c, &t);
    tfree(&t);
    mr_dataset_set(c->reg, "quota-nc", 1, POLICY_COMMERCIAL, "v2", 2, -1);
    accept_expr(c, "alice", "quota-nc", "CC-BY-4.0");
    accept_expr(c, "alice", "quota-nc", "MIT");
    reject_expr(c, "alice", "quota-nc", "MIT", "quota_exceeded", "has 2 samples");
    /* the earlier rejections were not counted after a commit either */
    sl_license_txn_end(c->s, 1);
    reject_expr(c, "alice", "quota-nc", "MIT", "quota_exceeded", "has 2 samples");
}

/* No quota set: no limit. */
static void test_quota_none(void **state)
{
    ctx *c = *state;

    mr_used(c->reg, "alice", "open", 1000000, INT64_C(1) << 40);
    for (int i = 0; i < 20; i++)
        accept_expr(c, "alice", "open", "MIT");
}

/* ==== license_not_allowed ================================================= */

static void test_license_not_allowed(void **state)
{
    ctx *c = *state;
    json_t *rec;
    tmsg t;

    reject_expr(c, "alice", "commercial", "CC-BY-NC-4.0", "license_not_allowed",
                "CC-BY-NC-4.0: commercial use not");
    reject_expr(c, "alice", "commercial", "CC-BY-NC-SA-4.0 OR CC-BY-NC-ND-4.0",
                "license_not_allowed", NULL);
    /* AND: every part must allow it */
    reject_expr(c, "alice", "commercial", "CC-BY-4.0 AND CC-BY-NC-4.0",
                "license_not_allowed", NULL);
    /* unknown rights fail every requirement */
    reject_expr(c, "alice", "commercial", "LicenseRef-Mine", "license_not_allowed",
                NULL);
    accept_expr(c, "alice", "commercial", "CC-BY-4.0");
    accept_expr(c, "alice", "commercial", "CC-BY-ND-4.0");  /* commercial, no training asked */

    /* OR: one branch that satisfies is enough, and is the one chosen */
    mk(&t, "hi", "alice", "commercial", "CC-BY-NC-4.0 OR CC-BY-SA-4.0");
    rec = accepted(c, run(c, &t), &t);
    assert_string_equal(str_of(rec, "expression"), "CC-BY-NC-4.0 OR CC-BY-SA-4.0");
    assert_string_equal(str_of(rec, "chosen"), "CC-BY-SA-4.0");
    assert_true(bool_of(json_object_get(rec, "rights"), "commercial_allowed"));
    json_decref(rec);
    tfree(&t);

    /* an allow-list policy */
    accept_expr(c, "alice", "cc-only", "CC-BY-4.0");
    accept_expr(c, "alice", "cc-only", "cc0-1.0");
    reject_expr(c, "alice", "cc-only", "MIT", "license_not_allowed", "MIT");
    accept_expr(c, "alice", "cc-only", "MIT OR CC-BY-SA-3.0");
}

/* A policy is re-read when its version changes; an unusable one holds the
 * messages (an operator's mistake, not the creator's) until it is fixed. */
static void test_policy_change_and_unusable(void **state)
{
    ctx *c = *state;
    tmsg t;

    mr_dataset_set(c->reg, "mut", 1, POLICY_COMMERCIAL, "v1", -1, -1);
    reject_expr(c, "alice", "mut", "CC-BY-NC-4.0", "license_not_allowed", NULL);
    mr_dataset_set(c->reg, "mut", 1, "{\"allowed\":[\"CC-BY-NC-*\"]}", "v2", -1, -1);
    accept_expr(c, "alice", "mut", "CC-BY-NC-4.0");
    reject_expr(c, "alice", "mut", "CC-BY-4.0", "license_not_allowed", NULL);
    /* the policy removed */
    mr_dataset_set(c->reg, "mut", 1, NULL, NULL, -1, -1);
    accept_expr(c, "alice", "mut", "CC-BY-4.0");
    /* a policy without a version string */
    mr_dataset_set(c->reg, "mut", 1, POLICY_COMMERCIAL, NULL, -1, -1);
    reject_expr(c, "alice", "mut", "CC-BY-NC-4.0", "license_not_allowed", NULL);
    accept_expr(c, "alice", "mut", "MIT");

    static const char *const bad[] = {
        "{\"require\":[\"teleport\"]}", "{\"allowed\":[\"Not-A-License\"]}",
        "{\"requires\":[\"commercial\"]}", "not json", "[]",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        mr_dataset_set(c->reg, "mut", 1, bad[i], "bad", -1, -1);
        mk(&t, "text", "alice", "mut", "MIT");
        expect_retry(c, &t);
        tfree(&t);
    }
    mr_dataset_set(c->reg, "mut", 1, POLICY_COMMERCIAL, "v3", -1, -1);
    accept_expr(c, "alice", "mut", "MIT");
}

/* ==== the order of the checks =========================================== */

/* Where two problems coexist, the earlier check names the reason. */
static void test_check_order(void **state)
{
    ctx *c = *state;
    tmsg t;

    /* dataset_unknown before every license problem */
    mk_full(&t, "x", "oscar", "nope", "{\"expression\":\"NOASSERTION\"}", NULL, NULL);
    expect_reject(c, &t, "dataset_unknown", NULL);
    tfree(&t);
    /* license before attestation */
    mk_full(&t, "x", "alice", "open", "{\"expression\":\"Foo-1\"}",
            "{\"version\":1,\"rights_holder\":false}", NULL);
    expect_reject(c, &t, "license_unknown", NULL);
    tfree(&t);
    /* license_missing before attestation_missing */
    mk_full(&t, "x", "alice", "open", NULL, NULL, NULL);
    expect_reject(c, &t, "license_missing", NULL);
    tfree(&t);
    /* invalid syntax before unknown before deprecated */
    reject_expr(c, "alice", "open", "GPL-2.0 AND Foo-1", "license_unknown", "'Foo-1'");
    reject_expr(c, "alice", "open", "GPL-2.0 AND Foo-1 AND", "license_invalid", NULL);
    /* attestation before reservations */
    reject_att(c, "{\"version\":1,\"rights_holder\":false,\"ai_training\":\"notAllowed\"}",
               "attestation_missing", NULL);
    /* reservations before the registry's opt-out */
    mk_att(&t, "x", "oscar", "open",
           "{\"version\":1,\"rights_holder\":true,\"tdm_reservation\":true}");
    expect_reject(c, &t, "use_reserved", NULL);
    tfree(&t);
    /* the signals in their order */
    reject_att(c, "{\"version\":1,\"rights_holder\":true,\"data_mining\":\"notAllowed\","
               "\"ai_training\":\"notAllowed\"}", "use_reserved", "ai_training");
    /* opted_out before taken_down before not_entitled before quota */
    mk(&t, "both", "oscar", "closed", "MIT");
    mr_takedown(c->reg, t.sha);
    expect_reject(c, &t, "opted_out", NULL);
    tfree(&t);
    mk(&t, "both", "alice", "zero", "MIT");
    mr_dataset_set(c->reg, "zero", 0, NULL, NULL, 0, -1);   /* closed too */
    expect_reject(c, &t, "taken_down", NULL);
    tfree(&t);
    reject_expr(c, "alice", "zero", "MIT", "not_entitled", NULL);
    /* quota before the dataset's policy */
    mr_used(c->reg, "alice", "quota-nc", 2, 0);
    reject_expr(c, "alice", "quota-nc", "CC-BY-NC-4.0", "quota_exceeded", NULL);
    /* an unusable policy holds only what reaches the policy step: what
     * an earlier check refuses is still rejected */
    mr_dataset_set(c->reg, "open", 1, "{\"require\":[\"teleport\"]}", "bad", -1, -1);
    reject_expr(c, "oscar", "open", "MIT", "opted_out", NULL);
    reject_expr(c, "alice", "open", "NONE", "license_missing", NULL);
    mk(&t, "x", "alice", "open", "MIT");
    expect_retry(c, &t);
    tfree(&t);
}

/* ==== registry outages ==================================================== */

static void test_outage_dataset(void **state)
{
    ctx *c = *state;
    tmsg t;

    c->reg->fail_dataset = 1;
    mk(&t, "x", "alice", "open", "MIT");
    expect_retry(c, &t);
    tfree(&t);
    /* even a sample that would be rejected for its license: the dataset is
     * checked first */
    mk(&t, "x", "alice", "open", "NONE");
    expect_retry(c, &t);
    tfree(&t);
    /* unreadable metadata needs no registry */
    mk_raw(&t, "up-x", "x", "{}", NULL, 1);
    rejected(c, run(c, &t), &t, "meta_invalid", NULL, NULL);
    tfree(&t);
    c->reg->fail_dataset = 0;
    mk(&t, "x", "alice", "open", "MIT");
    expect_accept(c, &t);
    tfree(&t);
}

static void test_outage_ask(void **state)
{
    ctx *c = *state;
    tmsg t;

    c->reg->fail_ask = 1;
    mk(&t, "x", "alice", "open", "MIT");
    expect_retry(c, &t);
    /* what the metadata alone settles is still rejected */
    reject_expr(c, "alice", "open", "Foo-1", "license_unknown", NULL);
    reject_att(c, "{\"version\":1,\"rights_holder\":true,\"tdm_reservation\":true}",
               "use_reserved", NULL);
    reject_expr(c, "alice", "nope", "MIT", "dataset_unknown", NULL);
    c->reg->fail_ask = 0;
    expect_accept(c, &t);
    tfree(&t);
}

/* A retried sample uses no quota. */
static void test_outage_quota(void **state)
{
    ctx *c = *state;
    tmsg t;

    mr_dataset_set(c->reg, "quota", 1, NULL, NULL, 1, -1);
    mk(&t, "x", "alice", "quota", "MIT");
    c->reg->fail_ask = 1;
    expect_retry(c, &t);
    expect_retry(c, &t);
    c->reg->fail_ask = 0;
    expect_accept(c, &t);
    tfree(&t);
    reject_expr(c, "alice", "quota", "MIT", "quota_exceeded", NULL);
}

/* ==== prepare() ============================================================ */

#define RUN_N 20

/* The run used by the prepare tests: one of each outcome, in an order
 * that puts unreadable ones between readable ones. */
static void make_run(tmsg t[RUN_N], char orig[SL_SHA256_HEX])
{
    char *meta;
    int i = 0;

    mk_raw(&t[i++], "up-bad", "bad meta", "nonsense", NULL, 1);          /* 0 */
    mk(&t[i++], "r1", "oscar", "open", "MIT");                           /* 1 */
    mk(&t[i++], "r2", "alice", "open", "MIT");                           /* 2 */
    mk(&t[i++], "r3", "alice", "nope", "MIT");                           /* 3 */
    mk(&t[i++], "r4", "alice", "open", "GPL-2.0");                       /* 4 */
    mk(&t[i++], "r5 taken", "alice", "open", "MIT");                     /* 5 */
    mk(&t[i++], "r6", "alice", "closed", "MIT");                         /* 6 */
    mk(&t[i++], "r7", "carol", "closed", "MIT");                         /* 7 */
    mk(&t[i++], "r8", "alice", "quota", "MIT");                          /* 8 */
    mk(&t[i++], "r9", "alice", "quota", "MIT");                          /* 9 */
    mk(&t[i++], "r10", "alice", "quota", "MIT");                         /* 10 */
    mk(&t[i++], "r11", "alice", "commercial", "CC-BY-NC-4.0");           /* 11 */
    mk(&t[i++], "r12", "alice", "commercial", "CC-BY-NC-4.0 OR MIT");    /* 12 */
    mk_att(&t[i++], "r13", "alice", "open",
           "{\"version\":1,\"rights_holder\":true,\"ai_training\":\"notAllowed\"}");
    mk_raw(&t[i++], "up-nom", "no meta", NULL, NULL, 1);                 /* 14 */
    meta = meta_text("up-red", "alice", "open", "{\"expression\":\"MIT\"}",
                     ATT_OK, NULL);
    mk_raw(&t[i++], "up-red", "r15 [REDACTED]", meta, orig, 1);          /* 15 */
    free(meta);
    mk(&t[i++], "r16", "bob", "quota", "CC0-1.0");                       /* 16 */
    mk(&t[i++], "r17", "alice", "quota-nc", "CC-BY-NC-4.0");             /* 17 */
    mk(&t[i++], "r18", "alice", "quota-nc", "MIT");                      /* 18 */
    mk(&t[i++], "r19", "alice", "open", "");                             /* 19 */
    assert_int_equal(i, RUN_N);
}

static const char *const run_codes[RUN_N] = {
    "meta_invalid", "opted_out", NULL, "dataset_unknown", "license_deprecated",
    "taken_down", "not_entitled", NULL, NULL, NULL, "quota_exceeded",
    "license_not_allowed", NULL, "use_reserved", "meta_invalid", "taken_down",
    NULL, "license_not_allowed", NULL, "license_missing",
};

static void setup_run_registry(mem_reg *r, const tmsg t[RUN_N],
                               const char *orig)
{
    mr_takedown(r, t[5].sha);
    mr_takedown(r, orig);
    mr_used(r, "alice", "quota", 1, 0);
    mr_used(r, "alice", "quota-nc", 1, 0);
}

typedef struct seen {
    sl_verdict v;
    char code[64], detail[512];
    char *license;            /* the sluice-license header, or NULL */
} seen;

static void record(ctx *c, sl_verdict v, seen *s)
{
    sl_slice h;

    s->v = v;
    snprintf(s->code, sizeof(s->code), "%s", sl_out_reject_code(c->out));
    snprintf(s->detail, sizeof(s->detail), "%s", sl_out_reject_detail(c->out));
    s->license = NULL;
    if (sl_out_header(c->out, SL_H_LICENSE, &h) == SL_OK) {
        s->license = calloc(1, h.len + 1);
        assert_non_null(s->license);
        memcpy(s->license, h.ptr, h.len);
    }
}

static void check_run_outcome(ctx *c, sl_verdict v, const tmsg *t, size_t i)
{
    const char *up = i == 0 || i == 14 ? NULL : t->upload;

    if (run_codes[i])
        rejected(c, v, t, run_codes[i], NULL, up);
    else
        json_decref(accepted(c, v, t));
}

/* prepare() with the run, then process() of each element of that same
 * array: the same verdicts, reasons, details and records as one by one,
 * with a single bulk ask for the readable messages and none after. */
static void test_prepare_same_results(void **state)
{
    ctx *c = *state;
    char orig[SL_SHA256_HEX];
    seen one[RUN_N], bulk[RUN_N];
    sl_msg arr[RUN_N];
    sl_license_stage *s2;
    mem_reg *r2;
    tmsg t[RUN_N];

    assert_int_equal(sl_sha256_hex("r15 secret", 10, orig), SL_OK);
    make_run(t, orig);

    /* one by one */
    setup_run_registry(c->reg, t, orig);
    for (size_t i = 0; i < RUN_N; i++) {
        sl_verdict v = run(c, &t[i]);
        check_run_outcome(c, v, &t[i], i);
        record(c, v, &one[i]);
    }
    assert_int_equal(c->reg->calls_ask, 14);   /* each that got that far */

    /* prepared, on a second stage with the same registry */
    r2 = default_registry();
    setup_run_registry(r2, t, orig);
    s2 = new_stage(c->cfg, r2);
    for (size_t i = 0; i < RUN_N; i++) {
        arr[i] = t[i].f.msg;
        arr[i].run_index = i;            /* as the runner numbers a run */
    }
    assert_int_equal(sl_license_prepare(s2, arr, RUN_N), SL_OK);
    assert_int_equal(r2->calls_ask, 1);
    assert_int_equal(r2->asked, RUN_N - 2);    /* not the unreadable ones */
    {
        sl_license_stage *keep = c->s;
        c->s = s2;
        for (size_t i = 0; i < RUN_N; i++) {
            sl_verdict v = run_msg(c, &arr[i]);
            check_run_outcome(c, v, &t[i], i);
            record(c, v, &bulk[i]);
        }
        c->s = keep;
    }
    assert_int_equal(r2->calls_ask, 1);        /* nothing asked one by one */

    for (size_t i = 0; i < RUN_N; i++) {
        if (one[i].v != bulk[i].v || strcmp(one[i].code, bulk[i].code) != 0 ||
            strcmp(one[i].detail, bulk[i].detail) != 0)
            fail_msg("message %zu: %s %s (%s) one by one, %s %s (%s) prepared",
                     i, sl_verdict_name(one[i].v), one[i].code, one[i].detail,
                     sl_verdict_name(bulk[i].v), bulk[i].code, bulk[i].detail);
        assert_true((one[i].license == NULL) == (bulk[i].license == NULL));
        if (one[i].license)
            assert_string_equal(one[i].license, bulk[i].license);
        free(one[i].license);
        free(bulk[i].license);
    }
    /* the quota counted in both the same way: a commit, then one more */
    sl_license_txn_end(s2, 1);
    sl_license_txn_end(c->s, 1);
    reject_expr(c, "alice", "quota", "MIT", "quota_exceeded", "has 3 samples");
    {
        sl_license_stage *keep = c->s;
        c->s = s2;
        reject_expr(c, "alice", "quota", "MIT", "quota_exceeded", "has 3 samples");
        c->s = keep;
    }
    sl_license_destroy(s2);
    for (size_t i = 0; i < RUN_N; i++)
        tfree(&t[i]);
}

/* The prepared answers belong to that run only: a message elsewhere is
 * asked about on its own, and after txn_end the run is forgotten (the
 * registry may have changed). */
static void test_prepare_scope(void **state)
{
    ctx *c = *state;
    sl_msg arr[2];
    tmsg a, b, other;

    mk(&a, "a", "oscar", "open", "MIT");
    mk(&b, "b", "alice", "open", "MIT");
    c->reg->n_optout = 0;               /* oscar not opted out (yet) */
    arr[0] = a.f.msg;
    arr[1] = b.f.msg;
    arr[0].run_index = 0;
    arr[1].run_index = 1;
    assert_int_equal(sl_license_prepare(c->s, arr, 2), SL_OK);
    assert_int_equal(c->reg->calls_ask, 1);
    /* a message outside the run: its own ask, also when it claims a
     * slot of the run that holds another record */
    mk(&other, "c", "alice", "closed", "MIT");
    assert_int_equal(other.f.msg.run_index, SL_RUN_NONE);
    rejected(c, run_msg(c, &other.f.msg), &other, "not_entitled", NULL, other.upload);
    assert_int_equal(c->reg->calls_ask, 2);
    other.f.msg.run_index = 0;
    rejected(c, run_msg(c, &other.f.msg), &other, "not_entitled", NULL, other.upload);
    assert_int_equal(c->reg->calls_ask, 3);
    other.f.msg.run_index = SL_RUN_NONE;
    /* a copy of a run's element, at its slot: the prepared answer */
    {
        sl_msg copy = arr[1];
        json_decref(accepted(c, run_msg(c, &copy), &b));
        assert_int_equal(c->reg->calls_ask, 3);
    }
    mr_optout(c->reg, "oscar");
    /* in the run: the answer given at prepare() */
    json_decref(accepted(c, run_msg(c, &arr[0]), &a));
    assert_int_equal(c->reg->calls_ask, 3);
    /* after txn_end the run is forgotten: asked afresh */
    sl_license_txn_end(c->s, 0);
    rejected(c, run_msg(c, &arr[0]), &a, "opted_out", NULL, a.upload);
    assert_int_equal(c->reg->calls_ask, 4);
    json_decref(accepted(c, run_msg(c, &arr[1]), &b));
    assert_int_equal(c->reg->calls_ask, 5);
    /* an element whose metadata changed since prepare() is asked again */
    assert_int_equal(sl_license_prepare(c->s, arr, 2), SL_OK);
    assert_int_equal(c->reg->calls_ask, 6);
    arr[1] = other.f.msg;
    arr[1].run_index = 1;
    rejected(c, run_msg(c, &arr[1]), &other, "not_entitled", NULL, other.upload);
    assert_int_equal(c->reg->calls_ask, 7);
    /* an empty run asks nothing */
    assert_int_equal(sl_license_prepare(c->s, arr, 0), SL_OK);
    assert_int_equal(c->reg->calls_ask, 7);
    tfree(&a);
    tfree(&b);
    tfree(&other);
}

/* A run of only unreadable messages asks nothing. */
static void test_prepare_unreadable(void **state)
{
    ctx *c = *state;
    sl_msg arr[2];
    tmsg a, b;

    mk_raw(&a, "u1", "a", "nope", NULL, 1);
    mk_raw(&b, "u2", "b", NULL, NULL, 1);
    arr[0] = a.f.msg;
    arr[1] = b.f.msg;
    arr[0].run_index = 0;
    arr[1].run_index = 1;
    assert_int_equal(sl_license_prepare(c->s, arr, 2), SL_OK);
    assert_int_equal(c->reg->calls_ask, 0);
    rejected(c, run_msg(c, &arr[0]), &a, "meta_invalid", NULL, NULL);
    rejected(c, run_msg(c, &arr[1]), &b, "meta_invalid", NULL, NULL);
    tfree(&a);
    tfree(&b);
}

/* A registry outage during prepare() fails the run (the runner retries
 * it); the messages then retry one by one too, and a later prepare()
 * works again. */
static void test_prepare_outage(void **state)
{
    ctx *c = *state;
    sl_msg arr[2];
    tmsg a, b;

    mk(&a, "a", "oscar", "open", "MIT");
    mk(&b, "b", "alice", "open", "MIT");
    arr[0] = a.f.msg;
    arr[1] = b.f.msg;
    arr[0].run_index = 0;
    arr[1].run_index = 1;
    c->reg->fail_ask = 1;
    assert_int_equal(sl_license_prepare(c->s, arr, 2), SL_EIO);
    retried(c, run_msg(c, &arr[0]), &a);
    retried(c, run_msg(c, &arr[1]), &b);
    c->reg->fail_ask = 0;
    sl_license_txn_end(c->s, 0);
    assert_int_equal(sl_license_prepare(c->s, arr, 2), SL_OK);
    rejected(c, run_msg(c, &arr[0]), &a, "opted_out", NULL, a.upload);
    json_decref(accepted(c, run_msg(c, &arr[1]), &b));
    tfree(&a);
    tfree(&b);
}

/* ==== construction and glue ============================================= */

/* The stage descriptor (name, topics, init) is the binary's glue
 * (license_pg.c, linked with libpq): not here.  What the library gives
 * it: the config map, and prepare / process / txn_end over one processor. */
static void test_processor_glue(void **state)
{
    ctx *c = *state;
    sl_msg arr[1];
    tmsg t;

    assert_string_equal(sl_license_config[0].key, "license.dataset.cache.ms");

    mr_dataset_set(c->reg, "quota", 1, NULL, NULL, 1, -1);
    mk(&t, "x", "alice", "quota", "MIT");
    arr[0] = t.f.msg;
    arr[0].run_index = 0;
    assert_int_equal(sl_license_prepare(c->s, arr, 1), SL_OK);
    sl_out_reset(c->out);
    json_decref(accepted(c, sl_license_process(c->s, &arr[0], c->out), &t));
    sl_license_txn_end(c->s, 1);
    sl_out_reset(c->out);
    rejected(c, sl_license_process(c->s, &t.f.msg, c->out), &t, "quota_exceeded", NULL,
             t.upload);
    tfree(&t);
    sl_license_destroy(NULL);
}

/* ==== from sluice.reviewed: what a moderator let on ======================= */

/* A flagged sample as the review service's relay sends it: value sent
 * (the shown bytes, or their redaction), the flagged scan result, and the
 * chain validate, scan (flagged), commit (queued_for_review), review
 * (outcome, shown -> sent; NULL: no review event).  On topic. */
static void mk_reviewed(tmsg *t, const char *topic, const char *shown,
                        const char *sent, const char *creator,
                        const char *outcome, const char *review_out)
{
    char upload[64], *meta, sha_shown[SL_SHA256_HEX];
    sl_buf a, b;
    sl_err err = { "" };

    snprintf(upload, sizeof(upload), "up-%d", ++upload_seq);
    meta = meta_text(upload, creator, "open", "{\"expression\":\"MIT\"}", ATT_OK,
                     NULL);
    assert_int_equal(sl_sha256_hex(shown, strlen(shown), sha_shown), SL_OK);
    mk_raw(t, upload, sent, meta, NULL, 0);
    free(meta);
    t->f.msg.topic = topic;
    memcpy(t->origin, sha_shown, SL_SHA256_HEX);
    fx_msg_header_str(&t->f, SL_H_SCAN, "{\"outcome\":\"flagged\","
                      "\"detected_type\":\"text/plain\",\"findings\":[]}");
    sl_buf_init(&a, 1 << 20);
    sl_buf_init(&b, 1 << 20);
    {
        struct { const char *stage, *outcome, *in, *out; } ev[4] = {
            { "validate", "accepted", sha_shown, sha_shown },
            { "scan", "flagged", sha_shown, sha_shown },
            { "commit", "queued_for_review", sha_shown, sha_shown },
            { "review", outcome, sha_shown, review_out },
        };
        size_t n = outcome ? 4 : 3;
        for (size_t i = 0; i < n; i++) {
            sl_prov_event e = {
                .stage = ev[i].stage, .version = "v1", .outcome = ev[i].outcome,
                .upload_id = t->upload, .input_sha256 = ev[i].in,
                .output_sha256 = ev[i].out, .time_ms = sl_now_ms(),
            };
            if (sl_prov_append((sl_slice){ a.data, a.len }, sha_shown, &e, &b,
                               NULL, &err) != SL_OK)
                fail_msg("sl_prov_append: %s", err.msg);
            sl_buf_reset(&a);
            assert_int_equal(sl_buf_append(&a, b.data, b.len), SL_OK);
        }
        t->events_in = n;
    }
    fx_msg_header(&t->f, SL_H_PROV, a.data, a.len);
    sl_buf_free(&a);
    sl_buf_free(&b);
}

/* The outgoing chain: verifies from the flagged bytes' hash, holds the
 * incoming events and license's, which has this outcome. */
static void reviewed_prov(ctx *c, const tmsg *t, const char *outcome)
{
    const char *canonical, *hash, *stage, *oc;
    sl_prov_chain *pc;
    sl_slice chain;
    sl_err err = { "" };
    int64_t seq;

    assert_int_equal(sl_out_header(c->out, SL_H_PROV, &chain), SL_OK);
    if (sl_prov_verify(chain, t->origin, &err) != SL_OK)
        fail_msg("chain does not verify from the flagged hash: %s", err.msg);
    pc = sl_prov_parse(chain, &err);
    assert_non_null(pc);
    assert_int_equal(sl_prov_count(pc), t->events_in + 1);
    assert_int_equal(sl_prov_get(pc, t->events_in, &canonical, &hash, &stage,
                                 &oc, &seq), SL_OK);
    assert_string_equal(stage, "license");
    assert_string_equal(oc, outcome);
    sl_prov_chain_destroy(pc);
}

static void expect_reviewed(ctx *c, tmsg *t, const char *code, const char *frag)
{
    sl_verdict v = run(c, t);

    if (!code) {
        if (v != SL_EMIT)
            fail_msg("%s: verdict %s, want emit (%s: %s)", t->upload,
                     sl_verdict_name(v), sl_out_reject_code(c->out),
                     sl_out_reject_detail(c->out));
        reviewed_prov(c, t, "accepted");
    } else {
        if (v != SL_REJECT || strcmp(sl_out_reject_code(c->out), code) != 0)
            fail_msg("%s: verdict %s (%s: %s), want reject %s", t->upload,
                     sl_verdict_name(v), sl_out_reject_code(c->out),
                     sl_out_reject_detail(c->out), code);
        if (frag && !strstr(sl_out_reject_detail(c->out), frag))
            fail_msg("detail \"%s\" lacks \"%s\"", sl_out_reject_detail(c->out), frag);
        reviewed_prov(c, t, "rejected");
    }
}

static void test_reviewed(void **state)
{
    static const char shown[] = "Mail jane@example.com today.";
    static const char red[] = "Mail [REDACTED:EMAIL] today.";
    char sha_shown[SL_SHA256_HEX], sha_red[SL_SHA256_HEX];
    ctx *c = *state;
    tmsg t;

    assert_int_equal(sl_sha256_hex(shown, strlen(shown), sha_shown), SL_OK);
    assert_int_equal(sl_sha256_hex(red, strlen(red), sha_red), SL_OK);
    /* approved: the flagged result passes, same checks as any sample */
    mk_reviewed(&t, "sluice.reviewed", shown, shown, "alice", "approved", sha_shown);
    expect_reviewed(c, &t, NULL, NULL);
    tfree(&t);
    /* redacted: other bytes, the chain still from the flagged ones */
    mk_reviewed(&t, "sluice.reviewed", shown, red, "alice", "redacted", sha_red);
    expect_reviewed(c, &t, NULL, NULL);
    tfree(&t);
    /* the creator opted out since: a license rejection like any other */
    mk_reviewed(&t, "sluice.reviewed", shown, shown, "oscar", "approved", sha_shown);
    expect_reviewed(c, &t, "opted_out", "\"oscar\"");
    tfree(&t);
    /* taken down since: by the signed (flagged) bytes' hash */
    mr_takedown(c->reg, sha_shown);
    mk_reviewed(&t, "sluice.reviewed", shown, red, "alice", "redacted", sha_red);
    expect_reviewed(c, &t, "taken_down", sha_shown);
    tfree(&t);
}

static void test_reviewed_unverified(void **state)
{
    static const char shown[] = "Ping 10.1.2.3 then stop.";
    static const char other[] = "Ping [REDACTED:IPV4] then stop.";
    char sha_shown[SL_SHA256_HEX], sha_other[SL_SHA256_HEX];
    ctx *c = *state;
    tmsg t;

    assert_int_equal(sl_sha256_hex(shown, strlen(shown), sha_shown), SL_OK);
    assert_int_equal(sl_sha256_hex(other, strlen(other), sha_other), SL_OK);
    mk_reviewed(&t, "sluice.reviewed", shown, shown, "alice", NULL, NULL);
    expect_reviewed(c, &t, "review_unverified", "does not end with a review event");
    tfree(&t);
    mk_reviewed(&t, "sluice.reviewed", shown, shown, "alice", "rejected", NULL);
    expect_reviewed(c, &t, "review_unverified", "neither approved nor redacted");
    tfree(&t);
    /* bytes other than those the review event sent on */
    mk_reviewed(&t, "sluice.reviewed", shown, other, "alice", "approved", sha_shown);
    expect_reviewed(c, &t, "review_unverified", "output hash is not that of the bytes");
    tfree(&t);
    mk_reviewed(&t, "sluice.reviewed", shown, other, "alice", "redacted", sha_shown);
    expect_reviewed(c, &t, "review_unverified", "output hash is not that of the bytes");
    tfree(&t);
    /* the same headers on sluice.scanned are not a review: the topic
     * decides (commit refuses the flagged result there) */
    mk_reviewed(&t, "sluice.scanned", shown, shown, "alice", NULL, NULL);
    memcpy(t.origin, sha_shown, SL_SHA256_HEX);
    expect_reviewed(c, &t, NULL, NULL);
    tfree(&t);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_accept_record),
        T(test_accept_normalised_rights),
        T(test_accept_policy_version),
        T(test_record_memo),
        T(test_accept_redacted_origin),
        T(test_bad_original_hash),
        T(test_prov_restart),
        T(test_accept_many),
        T(test_meta_invalid),
        T(test_dataset_unknown),
        T(test_license_missing),
        T(test_license_invalid),
        T(test_license_unknown),
        T(test_license_deprecated),
        T(test_attestation_missing),
        T(test_use_reserved),
        T(test_opted_out),
        T(test_taken_down),
        T(test_not_entitled),
        T(test_quota_count),
        T(test_quota_registry),
        T(test_quota_bytes),
        T(test_quota_commit),
        T(test_quota_takedown),
        T(test_quota_registry_before_us),
        T(test_quota_abort),
        T(test_quota_rejected_do_not_count),
        T(test_quota_none),
        T(test_license_not_allowed),
        T(test_policy_change_and_unusable),
        T(test_check_order),
        T(test_outage_dataset),
        T(test_outage_ask),
        T(test_outage_quota),
        T(test_prepare_same_results),
        T(test_prepare_scope),
        T(test_prepare_unreadable),
        T(test_prepare_outage),
        T(test_processor_glue),
        T(test_reviewed),
        T(test_reviewed_unverified),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
