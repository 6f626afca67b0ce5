/*
 * test_validate.c -- unit tests for services/validate/validate.c, the first
 * gate every upload passes, fed hand-built messages and the in-memory
 * creator registry of fixtures.c: no broker, no database.
 *
 * Groups, in the order validate.c runs its checks:
 *   - accepted uploads (Ed25519 and HMAC) and what an emitted message carries;
 *   - one group per rejection code: too_large, meta_missing, meta_malformed,
 *     meta_invalid, key_mismatch, creator_*, signature_*, stale,
 *     hash_mismatch, replay, duplicate;
 *   - the order of the checks (the earliest failing check names the reason,
 *     nothing in the metadata is acted on before the signature);
 *   - the transactional "seen" caches (txn_end committed / aborted);
 *   - registry outages, which retry instead of rejecting.
 * The published RFC 8032 / RFC 4231 vectors live in test_crypto.c.
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
#include "sl/timeutil.h"
#include "fixtures.h"
#include "validate.h"

/* ---- keys and creators ------------------------------------------------ */

/* alice signs with Ed25519 (the RFC 8032 test 1 key), hugo with HMAC. */
static const char ALICE_SEED_HEX[] =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const char ALICE_PUB_HEX[] =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
static uint8_t alice_seed[32], alice_pub[32];
static uint8_t mallory_seed[32], mallory_pub[32];     /* not registered */
static const uint8_t hugo_secret[] = "hugo-shared-secret-0123456789abcdef";
#define HUGO_LEN (sizeof(hugo_secret) - 1)

/* SHA-256 of "hello" and of "world". */
static const char SHA_HELLO[] =
    "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
static const char SHA_WORLD[] =
    "486ea46224d1bb4fb680f34f7c9ad96a8f24ec88be73ea8e5a6c65260e9cb8a7";

#define HOUR_MS INT64_C(3600000)
#define DAY_MS  (24 * HOUR_MS)

static int group_setup(void **state)
{
    (void)state;
    if (sl_hex_decode(ALICE_SEED_HEX, 64, alice_seed, 32) != SL_OK ||
        sl_hex_decode(ALICE_PUB_HEX, 64, alice_pub, 32) != SL_OK)
        return -1;
    memset(mallory_seed, 0x42, sizeof(mallory_seed));
    if (sl_ed25519_public_from_seed(mallory_seed, mallory_pub) != SL_OK)
        return -1;
    return 0;
}

/* ---- the validator under test ----------------------------------------- */

typedef struct ctx {
    sl_config *cfg;
    sl_validate *v;
    fx_registry *reg;   /* owned by v, kept to steer it */
    sl_out *out;
} ctx;

/* Registry with one creator per registry state. */
static fx_registry *make_registry(void)
{
    fx_registry *r = fx_registry_new();

    assert_non_null(r);
    fx_registry_add(r, "alice", SL_SIG_ED25519, alice_pub, 32, 1, 1);
    fx_registry_add(r, "hugo", SL_SIG_HMAC_SHA256, hugo_secret, HUGO_LEN, 1, 1);
    fx_registry_add(r, "dora", SL_SIG_ED25519, alice_pub, 32, 0, 1); /* disabled */
    fx_registry_add(r, "uma", SL_SIG_ED25519, alice_pub, 32, 1, 0);  /* unverified */
    fx_registry_add(r, "zed", SL_SIG_ED25519, alice_pub, 32, 0, 0);  /* both */
    return r;
}

/* (Re)creates c->v from the defaults plus key/value overrides (NULL-ended
 * list of pairs), with lookup lk or, when NULL, a fresh registry. */
static void open_with(ctx *c, const char *const *kv, const sl_validate_lookup *lk)
{
    sl_validate_lookup own = { 0 };   /* optional callbacks stay NULL */
    sl_err err = { "" };

    sl_validate_destroy(c->v);
    sl_config_destroy(c->cfg);
    c->v = NULL;
    c->cfg = fx_config(sl_validate_config);
    assert_non_null(c->cfg);
    for (size_t i = 0; kv && kv[i]; i += 2)
        assert_int_equal(sl_config_set(c->cfg, kv[i], kv[i + 1], &err), SL_OK);
    if (!lk) {
        c->reg = make_registry();
        fx_registry_lookup(c->reg, &own);
        lk = &own;
    }
    if (sl_validate_new(&c->v, c->cfg, lk, &err) != SL_OK)
        fail_msg("sl_validate_new: %s", err.msg);
}

static void reopen(ctx *c, const char *const *kv)
{
    open_with(c, kv, NULL);
}

static int setup(void **state)
{
    ctx *c = calloc(1, sizeof(*c));

    if (!c || !(c->out = sl_out_new(1 << 20)))
        return -1;
    *state = c;
    reopen(c, NULL);
    return 0;
}

static int teardown(void **state)
{
    ctx *c = *state;

    sl_validate_destroy(c->v);
    sl_config_destroy(c->cfg);
    sl_out_destroy(c->out);
    free(c);
    return 0;
}

/* ---- message helpers -------------------------------------------------- */

static void ed_upload(fx_msg *m, const char *id, const char *dataset,
                      const char *content, const char *meta)
{
    fx_upload(m, id, "alice", dataset, content, meta, SL_SIG_ED25519,
              alice_seed, 32);
}

static void hm_upload(fx_msg *m, const char *id, const char *dataset,
                      const char *content, const char *meta)
{
    fx_upload(m, id, "hugo", dataset, content, meta, SL_SIG_HMAC_SHA256,
              hugo_secret, HUGO_LEN);
}

/* RFC 3339 text of instant ms written in local time at UTC offset off_min
 * ("...Z" when 0). */
static void iso_at(int64_t ms, int off_min, char out[SL_TIME_LEN])
{
    char ts[SL_TIME_LEN];
    size_t n;
    int a = off_min < 0 ? -off_min : off_min;

    sl_time_format(ms + (int64_t)off_min * 60000, ts);
    if (!off_min) {
        memcpy(out, ts, SL_TIME_LEN);
        return;
    }
    n = strlen(ts);
    assert_true(n > 0 && ts[n - 1] == 'Z');
    ts[n - 1] = '\0';
    assert_true(a < 24 * 60);
    snprintf(out, SL_TIME_LEN, "%.23s%c%02d:%02d", ts, off_min < 0 ? '-' : '+',
             (a / 60) % 24, a % 60);
}

/* Metadata with every field under the test's control; extra is a JSON
 * fragment appended inside the object (",\"filename\":\"a\"") or NULL. */
static char *meta_at(const char *id, const char *creator, const char *dataset,
                     const char *sha, const char *created_at, const char *extra)
{
    size_t cap = 64 * 1024;
    char *out = malloc(cap), shafield[100] = "";

    assert_non_null(out);
    if (sha)
        snprintf(shafield, sizeof(shafield), ",\"sha256\":\"%s\"", sha);
    snprintf(out, cap,
             "{\"schema_version\":1,\"upload_id\":\"%s\",\"creator_id\":\"%s\","
             "\"dataset_id\":\"%s\",\"content_type\":\"text/plain\","
             "\"license\":{\"expression\":\"CC-BY-4.0\"},"
             "\"attestation\":{\"version\":1,\"rights_holder\":true},"
             "\"created_at\":\"%s\"%s%s}", id, creator, dataset, created_at,
             shafield, extra ? extra : "");
    return out;
}

/* Same, created at now + delta_ms (UTC). */
static char *meta_rel(const char *id, const char *creator, const char *dataset,
                      const char *sha, int64_t delta_ms)
{
    char ts[SL_TIME_LEN];

    iso_at(sl_now_ms() + delta_ms, 0, ts);
    return meta_at(id, creator, dataset, sha, ts, NULL);
}


/* Replaces (or adds) header name with len bytes of v. */
static void hdr_set(fx_msg *m, const char *name, const void *v, size_t len)
{
    int i = fx_msg_header_index(m, name);

    if (i < 0) {
        fx_msg_header(m, name, v, len);
        return;
    }
    free(m->vals[i]);
    m->vals[i] = malloc(len + 1);
    assert_non_null(m->vals[i]);
    memcpy(m->vals[i], v, len);
    m->hdr[i].value.ptr = m->vals[i];
    m->hdr[i].value.len = len;
}

static void hdr_set_str(fx_msg *m, const char *name, const char *v)
{
    hdr_set(m, name, v, strlen(v));
}


/* Keeps header name but with a null value (Kafka allows that). */
static void hdr_null(fx_msg *m, const char *name)
{
    int i = fx_msg_header_index(m, name);

    assert_true(i >= 0);
    m->hdr[i].value.ptr = NULL;
    m->hdr[i].value.len = 0;
}

/* The header's bytes as a NUL-terminated string inside the fixture. */
static char *hdr_text(fx_msg *m, const char *name)
{
    int i = fx_msg_header_index(m, name);

    assert_true(i >= 0);
    m->vals[i][m->hdr[i].value.len] = '\0';
    return (char *)m->vals[i];
}

static void set_key(fx_msg *m, const void *key, size_t len)
{
    free(m->key);
    m->key = NULL;
    m->msg.key.ptr = NULL;
    m->msg.key.len = 0;
    if (key) {
        m->key = malloc(len + 1);
        assert_non_null(m->key);
        memcpy(m->key, key, len);
        m->msg.key.ptr = m->key;
        m->msg.key.len = len;
    }
}

/* A message with just a key, a value and the given meta / sig headers. */
static void raw_msg(fx_msg *m, const char *key, const char *value,
                    const char *meta, const char *sig)
{
    fx_msg_init(m, key, value, strlen(value));
    if (meta)
        fx_msg_header_str(m, SL_H_META, meta);
    if (sig)
        fx_msg_header_str(m, SL_H_SIG, sig);
}

/* ---- outcome checks --------------------------------------------------- */

static sl_verdict run(ctx *c, fx_msg *m)
{
    sl_out_reset(c->out);
    return sl_validate_process(c->v, &m->msg, c->out);
}

/* The sluice-prov header holds exactly one verified validate event with
 * this outcome and reason (NULL: JSON null). Returns the parsed event. */
static json_t *check_prov(ctx *c, const fx_msg *m, const char *outcome,
                          const char *reason)
{
    static const char *const stages[] = { "validate", NULL };
    char sha[SL_SHA256_HEX];

    assert_int_equal(sl_sha256_hex(m->msg.value.ptr, m->msg.value.len, sha), SL_OK);
    return fx_check_prov(c->out, sha, stages, outcome, reason, sha);
}

/* Accepted: SL_EMIT, no reason, value untouched, sluice-sha256 = lowercase
 * hex SHA-256 of the value, provenance "accepted" for the upload id. */
static void expect_emit(ctx *c, fx_msg *m)
{
    sl_verdict got = run(c, m);
    char sha[SL_SHA256_HEX], key[256];
    sl_slice h;
    json_t *ev;

    if (got != SL_EMIT)
        fail_msg("verdict %s, want emit (%s: %s)", sl_verdict_name(got),
                 sl_out_reject_code(c->out), sl_out_reject_detail(c->out));
    assert_string_equal(sl_out_reject_code(c->out), "");
    assert_false(sl_out_has_value(c->out));
    assert_int_equal(sl_sha256_hex(m->msg.value.ptr, m->msg.value.len, sha), SL_OK);
    assert_int_equal(sl_out_header(c->out, SL_H_SHA256, &h), SL_OK);
    assert_int_equal(h.len, 64);
    assert_memory_equal(h.ptr, sha, 64);
    ev = check_prov(c, m, "accepted", NULL);
    snprintf(key, sizeof(key), "%.*s", (int)m->msg.key.len,
             (const char *)m->msg.key.ptr);
    fx_check_event_upload_id(ev, key);
    json_decref(ev);
}

/* Rejected with code; the detail contains frag (when not NULL); the
 * provenance event records the rejection and its reason. */
static void expect_reject(ctx *c, fx_msg *m, const char *code, const char *frag)
{
    sl_verdict got = run(c, m);

    if (got != SL_REJECT)
        fail_msg("verdict %s, want reject %s (%s)", sl_verdict_name(got), code,
                 sl_out_reject_detail(c->out));
    if (strcmp(sl_out_reject_code(c->out), code) != 0)
        fail_msg("rejected as %s (%s), want %s", sl_out_reject_code(c->out),
                 sl_out_reject_detail(c->out), code);
    if (frag && !strstr(sl_out_reject_detail(c->out), frag))
        fail_msg("detail \"%s\" lacks \"%s\"", sl_out_reject_detail(c->out), frag);
    json_decref(check_prov(c, m, "rejected", code));
}

static void expect_retry(ctx *c, fx_msg *m)
{
    sl_verdict got = run(c, m);

    if (got != SL_RETRY)
        fail_msg("verdict %s, want retry (%s)", sl_verdict_name(got),
                 sl_out_reject_code(c->out));
    /* not a rejection: no reason code was set */
    assert_string_equal(sl_out_reject_code(c->out), "");
}

/* ==== accepted uploads ================================================== */

/* A well-formed Ed25519 upload is emitted with its hash and provenance. */
static void test_accept_ed25519(void **state)
{
    ctx *c = *state;
    fx_msg m;
    sl_slice h;

    ed_upload(&m, "up-ed-1", "ds-1", "hello", NULL);
    expect_emit(c, &m);
    /* the known SHA-256 of "hello", not merely self-consistent */
    assert_int_equal(sl_out_header(c->out, SL_H_SHA256, &h), SL_OK);
    assert_memory_equal(h.ptr, SHA_HELLO, 64);
    fx_msg_free(&m);
}

/* The same for an HMAC-SHA256 creator. */
static void test_accept_hmac(void **state)
{
    ctx *c = *state;
    fx_msg m;
    sl_slice h;

    hm_upload(&m, "up-hm-1", "ds-1", "world", NULL);
    assert_true(strncmp(hdr_text(&m, SL_H_SIG), "hmac-sha256=", 12) == 0);
    expect_emit(c, &m);
    assert_int_equal(sl_out_header(c->out, SL_H_SHA256, &h), SL_OK);
    assert_memory_equal(h.ptr, SHA_WORLD, 64);
    fx_msg_free(&m);
}

/* Optional fields: no declared sha256, filename / labels / license terms,
 * a created_at with a UTC offset and fractional seconds, empty content. */
static void test_accept_optional_fields(void **state)
{
    ctx *c = *state;
    char ts[SL_TIME_LEN];
    char *meta;
    fx_msg m;

    iso_at(sl_now_ms() - 60000, 5 * 60 + 30, ts);   /* +05:30, a minute ago */
    assert_non_null(strstr(ts, "+05:30"));
    meta = meta_at("up-opt-1", "alice", "ds-1", NULL, ts,
                   ",\"filename\":\"notes.txt\",\"size\":5,"
                   "\"labels\":{\"lang\":\"en\"}");
    ed_upload(&m, "up-opt-1", "ds-1", "hello", meta);
    expect_emit(c, &m);
    fx_msg_free(&m);
    free(meta);

    /* zero-length content hashes to the empty-string SHA-256 */
    ed_upload(&m, "up-empty-1", "ds-1", "", NULL);
    expect_emit(c, &m);
    fx_msg_free(&m);
}

/* Several different uploads in one transaction are all accepted. */
static void test_accept_many(void **state)
{
    ctx *c = *state;
    char id[32], content[32];
    fx_msg m;

    for (int i = 0; i < 20; i++) {
        snprintf(id, sizeof(id), "up-many-%d", i);
        snprintf(content, sizeof(content), "content number %d", i);
        if (i % 2)
            hm_upload(&m, id, "ds-1", content, NULL);
        else
            ed_upload(&m, id, "ds-1", content, NULL);
        expect_emit(c, &m);
        fx_msg_free(&m);
    }
    sl_validate_txn_end(c->v, 1);
}

/* ==== too_large ========================================================= */

/* Content above validate.content.max.bytes; exactly the limit passes.  The
 * size is checked before anything else, even before the metadata. */
static void test_too_large_content(void **state)
{
    ctx *c = *state;
    const char *const kv[] = { "validate.content.max.bytes", "5", NULL };
    fx_msg m;

    reopen(c, kv);
    ed_upload(&m, "up-big-1", "ds-1", "hello", NULL);        /* 5 bytes */
    expect_emit(c, &m);
    fx_msg_free(&m);

    ed_upload(&m, "up-big-2", "ds-1", "hello!", NULL);       /* 6 bytes */
    expect_reject(c, &m, "too_large", NULL);
    assert_string_equal(sl_out_reject_detail(c->out),
                        "content is 6 bytes, the limit is 5");
    fx_msg_free(&m);

    raw_msg(&m, "up-big-3", "hello world", NULL, NULL);       /* no meta either */
    expect_reject(c, &m, "too_large", "content is 11 bytes");
    fx_msg_free(&m);
}

/* A labels object of n entries of about 250 bytes, as a meta fragment. */
static char *big_labels(int n)
{
    char *s = malloc((size_t)n * 300 + 64);
    size_t o;

    assert_non_null(s);
    o = (size_t)sprintf(s, ",\"labels\":{");
    for (int i = 0; i < n; i++) {
        o += (size_t)sprintf(s + o, "%s\"l%d\":\"", i ? "," : "", i);
        memset(s + o, 'x', 250);
        o += 250;
        s[o++] = '"';
    }
    strcpy(s + o, "}");
    return s;
}

/* Metadata above validate.meta.max.bytes: exact boundary, a "1k" size
 * suffix, and the built-in 16k default. */
static void test_too_large_meta(void **state)
{
    ctx *c = *state;
    char ts[SL_TIME_LEN], limit[32], want[128];
    char *meta, *labels;
    size_t len;
    fx_msg m;

    iso_at(sl_now_ms(), 0, ts);
    meta = meta_at("up-mbig-1", "alice", "ds-1", SHA_HELLO, ts, NULL);
    len = strlen(meta);

    snprintf(limit, sizeof(limit), "%zu", len);     /* exactly at the limit */
    {
        const char *const kv[] = { "validate.meta.max.bytes", limit, NULL };
        reopen(c, kv);
    }
    ed_upload(&m, "up-mbig-1", "ds-1", "hello", meta);
    expect_emit(c, &m);
    fx_msg_free(&m);

    snprintf(limit, sizeof(limit), "%zu", len - 1);  /* one byte over */
    {
        const char *const kv[] = { "validate.meta.max.bytes", limit, NULL };
        reopen(c, kv);
    }
    ed_upload(&m, "up-mbig-1", "ds-1", "hello", meta);
    expect_reject(c, &m, "too_large", NULL);
    snprintf(want, sizeof(want), "sluice-meta is %zu bytes, the limit is %zu",
             len, len - 1);
    assert_string_equal(sl_out_reject_detail(c->out), want);
    fx_msg_free(&m);
    free(meta);

    /* "1k" is 1024 bytes */
    {
        const char *const kv[] = { "validate.meta.max.bytes", "1k", NULL };
        reopen(c, kv);
    }
    labels = big_labels(5);
    meta = meta_at("up-mbig-2", "alice", "ds-1", SHA_HELLO, ts, labels);
    ed_upload(&m, "up-mbig-2", "ds-1", "hello", meta);
    expect_reject(c, &m, "too_large", "the limit is 1024");
    fx_msg_free(&m);
    free(meta);
    free(labels);

    /* the default is 16k: ~18 kB of valid, signed metadata is refused */
    reopen(c, NULL);
    labels = big_labels(70);
    meta = meta_at("up-mbig-3", "alice", "ds-1", SHA_HELLO, ts, labels);
    assert_true(strlen(meta) > 16384);
    ed_upload(&m, "up-mbig-3", "ds-1", "hello", meta);
    expect_reject(c, &m, "too_large", "the limit is 16384");
    fx_msg_free(&m);
    free(meta);
    free(labels);
}

/* ==== meta_missing ====================================================== */

/* No sluice-meta header, or one with a null value. */
static void test_meta_missing(void **state)
{
    ctx *c = *state;
    fx_msg m;
    json_t *ev;

    ed_upload(&m, "up-mm-1", "ds-1", "hello", NULL);
    fx_msg_drop_header(&m, SL_H_META);
    expect_reject(c, &m, "meta_missing", NULL);
    assert_string_equal(sl_out_reject_detail(c->out), "no sluice-meta header");
    /* the upload id is not known yet: the event says so */
    ev = check_prov(c, &m, "rejected", "meta_missing");
    fx_check_event_upload_id(ev, NULL);
    json_decref(ev);
    fx_msg_free(&m);

    ed_upload(&m, "up-mm-2", "ds-1", "hello", NULL);
    hdr_null(&m, SL_H_META);
    expect_reject(c, &m, "meta_missing", "no sluice-meta header");
    fx_msg_free(&m);
}

/* ==== meta_malformed ==================================================== */

/* Not JSON, trailing bytes, a non-object, duplicate keys (top level and
 * nested: jansson would otherwise keep the last one silently). */
static void test_meta_malformed(void **state)
{
    ctx *c = *state;
    static const struct {
        const char *meta, *frag;
    } cases[] = {
        { "", "is not valid JSON" },
        { "{", "is not valid JSON" },
        { "not json", "is not valid JSON" },
        { "{\"a\":1,}", "is not valid JSON" },
        { "{\"a\":1} {}", "is not valid JSON" },
        { "{\"a\":\"\\u0000\"}", "is not valid JSON" },
        { "[1,2]", "sluice-meta must be a JSON object" },
        { "{\"upload_id\":\"up-1\",\"upload_id\":\"up-2\"}", "duplicate" },
        { "{\"license\":{\"expression\":\"MIT\",\"expression\":\"GPL-3.0\"}}",
          "duplicate" },
    };
    fx_msg m;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        raw_msg(&m, "up-1", "hello", cases[i].meta, "ed25519=AAAA");
        expect_reject(c, &m, "meta_malformed", cases[i].frag);
        fx_msg_free(&m);
    }

    /* a duplicated key in an otherwise valid, correctly signed upload */
    {
        char *meta = fx_meta("up-dup-1", "alice", "ds-1", SHA_HELLO);
        char *both = malloc(strlen(meta) + 64);
        assert_non_null(both);
        sprintf(both, "{\"dataset_id\":\"ds-evil\",%s", meta + 1);
        ed_upload(&m, "up-dup-1", "ds-1", "hello", both);
        expect_reject(c, &m, "meta_malformed", "duplicate object key");
        fx_msg_free(&m);
        free(both);
        free(meta);
    }
}

/* ==== meta_invalid ====================================================== */

/* Schema violations: missing field, wrong type, unknown field (top level and
 * nested), too long, bad date-time, bad hash pattern, wrong version. */
static void test_meta_invalid(void **state)
{
    ctx *c = *state;
#define BASE_HEAD "{\"schema_version\":1,\"upload_id\":\"up-1\",\"creator_id\":\"alice\"," \
                  "\"dataset_id\":\"ds-1\",\"content_type\":\"text/plain\","
#define LIC "\"license\":{\"expression\":\"CC-BY-4.0\"},"
#define ATT "\"attestation\":{\"version\":1,\"rights_holder\":true},"
#define AT  "\"created_at\":\"2026-01-01T00:00:00Z\""
    static const struct {
        const char *meta, *detail;
    } cases[] = {
        { BASE_HEAD LIC "\"attestation\":{\"version\":1,\"rights_holder\":true}}",
          "/: missing required property \"created_at\"" },
        { "{\"schema_version\":\"1\",\"upload_id\":\"up-1\",\"creator_id\":\"alice\","
          "\"dataset_id\":\"ds-1\",\"content_type\":\"text/plain\"," LIC ATT AT "}",
          "/schema_version: expected integer, got string" },
        { "{\"schema_version\":2,\"upload_id\":\"up-1\",\"creator_id\":\"alice\","
          "\"dataset_id\":\"ds-1\",\"content_type\":\"text/plain\"," LIC ATT AT "}",
          "/schema_version: value does not equal the schema's const" },
        { BASE_HEAD LIC ATT AT ",\"extra\":1}",
          "/extra: unknown property not allowed" },
        { BASE_HEAD "\"license\":{\"expression\":\"MIT\",\"foo\":1}," ATT AT "}",
          "/license/foo: unknown property not allowed" },
        { BASE_HEAD LIC "\"attestation\":{\"version\":1,\"rights_holder\":\"yes\"},"
          AT "}",
          "/attestation/rights_holder: expected boolean, got string" },
        { BASE_HEAD LIC ATT "\"created_at\":\"yesterday\"}",
          "/created_at: string is not an RFC 3339 date-time" },
        { BASE_HEAD LIC ATT "\"created_at\":\"2026-02-30T00:00:00Z\"}",
          "/created_at: string is not an RFC 3339 date-time" },
        { BASE_HEAD LIC ATT AT ",\"sha256\":\"2CF24DBA5FB0A30E26E83B2AC5B9E29E"
          "1B161E5C1FA7425E73043362938B9824\"}",
          "/sha256: string does not match pattern \"^[0-9a-f]{64}$\"" },
    };
    char id[200], meta[1024];
    fx_msg m;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        raw_msg(&m, "up-1", "hello", cases[i].meta, "ed25519=AAAA");
        expect_reject(c, &m, "meta_invalid", NULL);
        assert_string_equal(sl_out_reject_detail(c->out), cases[i].detail);
        fx_msg_free(&m);
    }

    /* an id of 129 characters (the limit is 128); 128 is fine */
    memset(id, 'a', 129);
    id[129] = '\0';
    snprintf(meta, sizeof(meta),
             "{\"schema_version\":1,\"upload_id\":\"%s\",\"creator_id\":\"alice\","
             "\"dataset_id\":\"ds-1\",\"content_type\":\"text/plain\"," LIC ATT AT "}",
             id);
    raw_msg(&m, id, "hello", meta, "ed25519=AAAA");
    expect_reject(c, &m, "meta_invalid", NULL);
    assert_string_equal(sl_out_reject_detail(c->out),
                        "/upload_id: string longer than maxLength 128");
    fx_msg_free(&m);

    id[128] = '\0';
    ed_upload(&m, id, "ds-1", "hello", NULL);
    expect_emit(c, &m);
    fx_msg_free(&m);
#undef BASE_HEAD
#undef LIC
#undef ATT
#undef AT
}

/* ==== key_mismatch ====================================================== */

/* The Kafka key must be exactly the upload id: another id, a prefix, a
 * longer key, a key with a trailing NUL, no key at all. */
static void test_key_mismatch(void **state)
{
    ctx *c = *state;
    static const struct {
        const char *key;
        size_t len;
    } keys[] = {
        { "up-other", 8 }, { "up-km", 5 }, { "up-km-1x", 8 }, { "up-km-1\0", 8 },
        { "UP-KM-1", 7 }, { NULL, 0 },
    };
    fx_msg m;
    json_t *ev;

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        ed_upload(&m, "up-km-1", "ds-1", "hello", NULL);
        set_key(&m, keys[i].key, keys[i].len);
        expect_reject(c, &m, "key_mismatch", NULL);
        assert_string_equal(sl_out_reject_detail(c->out),
                            "the message key must be the upload id \"up-km-1\"");
        /* from here on the upload id is known and recorded */
        ev = check_prov(c, &m, "rejected", "key_mismatch");
        fx_check_event_upload_id(ev, "up-km-1");
        json_decref(ev);
        fx_msg_free(&m);
    }
}

/* ==== creator_unknown / creator_disabled / creator_unverified =========== */

static void test_creator_states(void **state)
{
    ctx *c = *state;
    fx_msg m;

    fx_upload(&m, "up-cr-1", "nobody", "ds-1", "hello", NULL, SL_SIG_ED25519,
              alice_seed, 32);
    expect_reject(c, &m, "creator_unknown", NULL);
    assert_string_equal(sl_out_reject_detail(c->out),
                        "creator \"nobody\" is not registered");
    fx_msg_free(&m);

    /* creator ids are case-sensitive */
    fx_upload(&m, "up-cr-2", "Alice", "ds-1", "hello", NULL, SL_SIG_ED25519,
              alice_seed, 32);
    expect_reject(c, &m, "creator_unknown", "\"Alice\"");
    fx_msg_free(&m);

    fx_upload(&m, "up-cr-3", "dora", "ds-1", "hello", NULL, SL_SIG_ED25519,
              alice_seed, 32);
    expect_reject(c, &m, "creator_disabled", NULL);
    assert_string_equal(sl_out_reject_detail(c->out),
                        "creator \"dora\" is disabled");
    fx_msg_free(&m);

    fx_upload(&m, "up-cr-4", "uma", "ds-1", "hello", NULL, SL_SIG_ED25519,
              alice_seed, 32);
    expect_reject(c, &m, "creator_unverified", NULL);
    assert_string_equal(sl_out_reject_detail(c->out),
                        "creator \"uma\" is not verified");
    fx_msg_free(&m);

    /* disabled and unverified: disabled is checked first */
    fx_upload(&m, "up-cr-5", "zed", "ds-1", "hello", NULL, SL_SIG_ED25519,
              alice_seed, 32);
    expect_reject(c, &m, "creator_disabled", "\"zed\"");
    fx_msg_free(&m);
}

/* ==== signature_missing ================================================= */

static void test_signature_missing(void **state)
{
    ctx *c = *state;
    fx_msg m;

    ed_upload(&m, "up-sm-1", "ds-1", "hello", NULL);
    fx_msg_drop_header(&m, SL_H_SIG);
    expect_reject(c, &m, "signature_missing", NULL);
    assert_string_equal(sl_out_reject_detail(c->out), "no sluice-sig header");
    fx_msg_free(&m);

    hm_upload(&m, "up-sm-2", "ds-1", "hello", NULL);
    hdr_null(&m, SL_H_SIG);
    expect_reject(c, &m, "signature_missing", "no sluice-sig header");
    fx_msg_free(&m);
}

/* ==== signature_invalid ================================================= */

typedef void (*upload_fn)(fx_msg *, const char *, const char *, const char *,
                          const char *);

/* Re-encodes the sig header with byte i of the signature flipped. */
static void tamper_sig(fx_msg *m, size_t i)
{
    uint8_t sig[SL_SIG_MAX];
    char hdr[256], enc[200];
    size_t siglen = 0;
    sl_sig_alg alg = SL_SIG_NONE;
    const char *text = hdr_text(m, SL_H_SIG);

    assert_int_equal(sl_sig_parse((sl_slice){ (const uint8_t *)text, strlen(text) },
                                  &alg, sig, &siglen), SL_OK);
    assert_true(i < siglen);
    sig[i] ^= 0x01;
    if (alg == SL_SIG_ED25519) {
        assert_int_equal(sl_b64_encode(sig, siglen, enc, sizeof(enc)), SL_OK);
        snprintf(hdr, sizeof(hdr), "ed25519=%s", enc);
    } else {
        sl_hex_encode(sig, siglen, enc);
        snprintf(hdr, sizeof(hdr), "hmac-sha256=%s", enc);
    }
    hdr_set_str(m, SL_H_SIG, hdr);
}

/* One-byte tampering of the value, of the metadata and of the signature
 * (first, middle, last byte) is caught, for both schemes. */
static void test_signature_tamper(void **state)
{
    ctx *c = *state;
    static const struct {
        upload_fn fn;
        const char *name;
        size_t siglen;
    } algs[] = {
        { ed_upload, "ed25519", 64 },
        { hm_upload, "hmac-sha256", 32 },
    };
    char want[128];
    fx_msg m;

    for (size_t a = 0; a < 2; a++) {
        snprintf(want, sizeof(want), "the %s signature does not match the "
                 "content and metadata", algs[a].name);

        /* value: one bit of one byte */
        algs[a].fn(&m, "up-tv-1", "ds-1", "hello world", NULL);
        m.value[6] ^= 0x20;                                /* "hello World" */
        expect_reject(c, &m, "signature_invalid", NULL);
        assert_string_equal(sl_out_reject_detail(c->out), want);
        fx_msg_free(&m);

        /* metadata: one byte, still valid JSON and schema (ds-1 -> ds-2) */
        algs[a].fn(&m, "up-tm-1", "ds-1", "hello", NULL);
        {
            char *meta = hdr_text(&m, SL_H_META), *p = strstr(meta, "\"ds-1\"");
            assert_non_null(p);
            p[4] = '2';
        }
        expect_reject(c, &m, "signature_invalid", want);
        fx_msg_free(&m);

        /* signature: first, middle and last byte */
        for (size_t k = 0; k < 3; k++) {
            size_t at[3] = { 0, algs[a].siglen / 2, algs[a].siglen - 1 };
            algs[a].fn(&m, "up-ts-1", "ds-1", "hello", NULL);
            tamper_sig(&m, at[k]);
            expect_reject(c, &m, "signature_invalid", want);
            fx_msg_free(&m);
        }

        /* untampered, the same upload passes (the checks above are real);
         * the rejections used its id up, so they are rolled back first */
        sl_validate_txn_end(c->v, 0);
        algs[a].fn(&m, "up-ts-1", "ds-1", "hello", NULL);
        expect_emit(c, &m);
        fx_msg_free(&m);
        sl_validate_txn_end(c->v, 0);
    }
}

/* The signature covers the exact metadata bytes: the same JSON with one more
 * space, or with its keys reordered, no longer verifies. */
static void test_signature_exact_bytes(void **state)
{
    ctx *c = *state;
    char *meta, *spaced;
    fx_msg m;

    meta = fx_meta("up-eb-1", "alice", "ds-1", SHA_HELLO);
    spaced = malloc(strlen(meta) + 2);
    assert_non_null(spaced);
    sprintf(spaced, "{ %s", meta + 1);

    ed_upload(&m, "up-eb-1", "ds-1", "hello", meta);      /* signs meta */
    hdr_set_str(&m, SL_H_META, spaced);                  /* sends spaced */
    expect_reject(c, &m, "signature_invalid", "does not match");
    fx_msg_free(&m);

    hm_upload(&m, "up-eb-1", "ds-1", "hello", NULL);
    {
        char *sent = hdr_text(&m, SL_H_META);
        char *re = malloc(strlen(sent) + 2);
        assert_non_null(re);
        sprintf(re, "{ %s", sent + 1);
        hdr_set_str(&m, SL_H_META, re);
        free(re);
    }
    expect_reject(c, &m, "signature_invalid", "does not match");
    fx_msg_free(&m);
    free(spaced);
    free(meta);
}

/* A well-formed signature by a key the creator does not own. */
static void test_signature_wrong_key(void **state)
{
    ctx *c = *state;
    static const uint8_t other_secret[] = "not-hugos-secret";
    fx_msg m;

    fx_upload(&m, "up-wk-1", "alice", "ds-1", "hello", NULL, SL_SIG_ED25519,
              mallory_seed, 32);
    expect_reject(c, &m, "signature_invalid", "ed25519 signature does not match");
    fx_msg_free(&m);

    fx_upload(&m, "up-wk-2", "hugo", "ds-1", "hello", NULL, SL_SIG_HMAC_SHA256,
              other_secret, sizeof(other_secret) - 1);
    expect_reject(c, &m, "signature_invalid", "hmac-sha256 signature does not match");
    fx_msg_free(&m);
}

/* The scheme in the header must be the creator's: an HMAC signature for an
 * Ed25519 creator and the reverse are refused, even when well-formed. */
static void test_signature_scheme_mismatch(void **state)
{
    ctx *c = *state;
    fx_msg m;

    fx_upload(&m, "up-sx-1", "alice", "ds-1", "hello", NULL, SL_SIG_HMAC_SHA256,
              hugo_secret, HUGO_LEN);
    expect_reject(c, &m, "signature_invalid", NULL);
    assert_string_equal(sl_out_reject_detail(c->out),
                        "creator \"alice\" signs with ed25519, not hmac-sha256");
    fx_msg_free(&m);

    fx_upload(&m, "up-sx-2", "hugo", "ds-1", "hello", NULL, SL_SIG_ED25519,
              alice_seed, 32);
    expect_reject(c, &m, "signature_invalid", NULL);
    assert_string_equal(sl_out_reject_detail(c->out),
                        "creator \"hugo\" signs with hmac-sha256, not ed25519");
    fx_msg_free(&m);
}

/* Malformed sluice-sig values: wrong prefix, bad base64, bad hex, wrong
 * lengths.  Each is built from a real, valid signature so only the format
 * is wrong. */
static void test_signature_format(void **state)
{
    ctx *c = *state;
    const char *const fmt_detail =
        "sluice-sig is not \"ed25519=<base64>\" or \"hmac-sha256=<hex>\"";
    char good_ed[256], good_hm[256], bad[300];
    fx_msg m;

    ed_upload(&m, "up-sf-1", "ds-1", "hello", NULL);
    snprintf(good_ed, sizeof(good_ed), "%s", hdr_text(&m, SL_H_SIG));
    fx_msg_free(&m);
    hm_upload(&m, "up-sf-2", "ds-1", "hello", NULL);
    snprintf(good_hm, sizeof(good_hm), "%s", hdr_text(&m, SL_H_SIG));
    fx_msg_free(&m);
    assert_int_equal(strlen(good_ed), 8 + 88);
    assert_int_equal(strlen(good_hm), 12 + 64);

    for (int k = 0; k < 13; k++) {
        const char *ed = good_ed + 8, *hm = good_hm + 12;
        int use_hm = 0;

        switch (k) {
        case 0: snprintf(bad, sizeof(bad), "ed25519:%s", ed); break;
        case 1: snprintf(bad, sizeof(bad), "Ed25519=%s", ed); break;
        case 2: snprintf(bad, sizeof(bad), "rsa=%s", ed); break;
        case 3: snprintf(bad, sizeof(bad), "%s", ed); break;            /* no scheme */
        case 4: snprintf(bad, sizeof(bad), "ed25519="); break;
        case 5: snprintf(bad, sizeof(bad), "ed25519=%.40s!%s", ed, ed + 41); break;
        case 6: snprintf(bad, sizeof(bad), "ed25519=%.84s", ed); break;  /* 63 bytes */
        case 7: snprintf(bad, sizeof(bad), "ed25519= %s", ed); break;
        case 8: snprintf(bad, sizeof(bad), "hmac-sha256=%.63s", hm); use_hm = 1; break;
        case 9: snprintf(bad, sizeof(bad), "hmac-sha256=%.62szz", hm); use_hm = 1; break;
        case 10: snprintf(bad, sizeof(bad), "hmac-sha256=%s00", hm); use_hm = 1; break;
        case 11: snprintf(bad, sizeof(bad), "hmac_sha256=%s", hm); use_hm = 1; break;
        case 12: snprintf(bad, sizeof(bad), "hmac-sha256=%s ", hm); use_hm = 1; break;
        }
        if (use_hm)
            hm_upload(&m, "up-sf-2", "ds-1", "hello", NULL);
        else
            ed_upload(&m, "up-sf-1", "ds-1", "hello", NULL);
        hdr_set_str(&m, SL_H_SIG, bad);
        if (run(c, &m) != SL_REJECT ||
            strcmp(sl_out_reject_code(c->out), "signature_invalid") != 0)
            fail_msg("case %d \"%s\": %s", k, bad, sl_out_reject_code(c->out));
        assert_string_equal(sl_out_reject_detail(c->out), fmt_detail);
        fx_msg_free(&m);
    }

    /* well-formed signatures of the same uploads are accepted (once the
     * transaction that used their ids up is rolled back) */
    sl_validate_txn_end(c->v, 0);
    ed_upload(&m, "up-sf-1", "ds-1", "hello", NULL);
    expect_emit(c, &m);
    fx_msg_free(&m);
    hm_upload(&m, "up-sf-2", "ds-1", "hello w", NULL);
    expect_emit(c, &m);
    fx_msg_free(&m);
}

/* ==== stale ============================================================= */

/* created_at outside [now - 1 day, now + 300 s] by default; the margins are
 * hours, so the clock moving during the test cannot change the outcome. */
static void test_stale_default_window(void **state)
{
    ctx *c = *state;
    char *meta;
    fx_msg m;

    meta = meta_rel("up-st-1", "alice", "ds-1", SHA_HELLO, -2 * DAY_MS);
    ed_upload(&m, "up-st-1", "ds-1", "hello", meta);
    expect_reject(c, &m, "stale", "is outside the accepted window "
                  "(86400 s before now to 300 s after)");
    fx_msg_free(&m);
    free(meta);

    meta = meta_rel("up-st-2", "hugo", "ds-1", SHA_HELLO, HOUR_MS);
    hm_upload(&m, "up-st-2", "ds-1", "hello", meta);
    expect_reject(c, &m, "stale", "created_at ");
    fx_msg_free(&m);
    free(meta);

    /* an hour ago is inside */
    meta = meta_rel("up-st-3", "alice", "ds-1", SHA_HELLO, -HOUR_MS);
    ed_upload(&m, "up-st-3", "ds-1", "hello", meta);
    expect_emit(c, &m);
    fx_msg_free(&m);
    free(meta);
}

/* Both edges of the window are configurable. */
static void test_stale_configured_window(void **state)
{
    ctx *c = *state;
    const char *const narrow[] = { "validate.window.past.s", "60",
                                   "validate.window.future.s", "0", NULL };
    const char *const wide[] = { "validate.window.past.s", "259200",
                                 "validate.window.future.s", "7200", NULL };
    char *meta;
    fx_msg m;

    reopen(c, narrow);
    meta = meta_rel("up-cw-1", "alice", "ds-1", SHA_HELLO, -10 * 60000);
    ed_upload(&m, "up-cw-1", "ds-1", "hello", meta);
    expect_reject(c, &m, "stale", "(60 s before now to 0 s after)");
    fx_msg_free(&m);
    free(meta);
    meta = meta_rel("up-cw-2", "alice", "ds-1", SHA_HELLO, 10 * 60000);
    ed_upload(&m, "up-cw-2", "ds-1", "hello", meta);
    expect_reject(c, &m, "stale", NULL);
    fx_msg_free(&m);
    free(meta);

    reopen(c, wide);
    meta = meta_rel("up-cw-3", "alice", "ds-1", SHA_HELLO, -2 * DAY_MS);
    ed_upload(&m, "up-cw-3", "ds-1", "hello", meta);
    expect_emit(c, &m);
    fx_msg_free(&m);
    free(meta);
    meta = meta_rel("up-cw-4", "alice", "ds-1", SHA_WORLD, HOUR_MS);
    ed_upload(&m, "up-cw-4", "ds-1", "world", meta);
    expect_emit(c, &m);
    fx_msg_free(&m);
    free(meta);
    meta = meta_rel("up-cw-5", "alice", "ds-1", SHA_HELLO, -4 * DAY_MS);
    ed_upload(&m, "up-cw-5", "ds-1", "hello", meta);
    expect_reject(c, &m, "stale", "(259200 s before now to 7200 s after)");
    fx_msg_free(&m);
    free(meta);
}

/* UTC offsets are honoured: "now" written as +05:00 local time is fresh;
 * the same wall-clock digits labelled -05:00 are 5 hours ahead (stale). */
static void test_stale_offsets(void **state)
{
    ctx *c = *state;
    char ts[SL_TIME_LEN], *meta;
    int64_t now = sl_now_ms();
    fx_msg m;

    iso_at(now, 5 * 60, ts);
    meta = meta_at("up-off-1", "alice", "ds-1", SHA_HELLO, ts, NULL);
    ed_upload(&m, "up-off-1", "ds-1", "hello", meta);
    expect_emit(c, &m);
    fx_msg_free(&m);
    free(meta);

    /* local digits of now in UTC, but claiming to be at -05:00 */
    iso_at(now, 0, ts);
    snprintf(ts + 23, sizeof(ts) - 23, "-05:00");
    meta = meta_at("up-off-2", "alice", "ds-1", SHA_HELLO, ts, NULL);
    ed_upload(&m, "up-off-2", "ds-1", "hello", meta);
    expect_reject(c, &m, "stale", ts);
    fx_msg_free(&m);
    free(meta);
}

/* ==== hash_mismatch ===================================================== */

/* The creator declares (and signs) one hash, the bytes have another. */
static void test_hash_mismatch(void **state)
{
    ctx *c = *state;
    char want[256], *meta;
    fx_msg m;

    meta = fx_meta("up-hm-1", "hugo", "ds-1", SHA_WORLD);
    hm_upload(&m, "up-hm-1", "ds-1", "hello", meta);
    expect_reject(c, &m, "hash_mismatch", NULL);
    snprintf(want, sizeof(want), "declared sha256 %s, content hashes to %s",
             SHA_WORLD, SHA_HELLO);
    assert_string_equal(sl_out_reject_detail(c->out), want);
    fx_msg_free(&m);
    free(meta);

    /* the same for Ed25519; then (rolled back) the matching hash is
     * accepted */
    meta = fx_meta("up-hm-2", "alice", "ds-1", SHA_HELLO);
    ed_upload(&m, "up-hm-2", "ds-1", "world", meta);
    expect_reject(c, &m, "hash_mismatch", "declared sha256 2cf24dba");
    fx_msg_free(&m);
    free(meta);
    sl_validate_txn_end(c->v, 0);
    ed_upload(&m, "up-hm-2", "ds-1", "world", NULL);
    expect_emit(c, &m);
    fx_msg_free(&m);
}

/* ==== check order ======================================================= */

/* A message failing several checks is named after the earliest one; in
 * particular nothing the metadata says (created_at, sha256) is looked at
 * before the signature has been verified. */
static void test_check_order(void **state)
{
    ctx *c = *state;
    char *meta;
    fx_msg m;

    /* unknown creator beats a bad signature */
    fx_upload(&m, "up-or-1", "nobody", "ds-1", "hello", NULL, SL_SIG_ED25519,
              alice_seed, 32);
    tamper_sig(&m, 0);
    expect_reject(c, &m, "creator_unknown", NULL);
    fx_msg_free(&m);

    /* key mismatch beats an unknown creator */
    fx_upload(&m, "up-or-2", "nobody", "ds-1", "hello", NULL, SL_SIG_ED25519,
              alice_seed, 32);
    set_key(&m, "other", 5);
    expect_reject(c, &m, "key_mismatch", NULL);
    fx_msg_free(&m);

    /* a bad signature beats a stale date and a wrong declared hash */
    meta = meta_rel("up-or-3", "alice", "ds-1", SHA_WORLD, -3 * DAY_MS);
    ed_upload(&m, "up-or-3", "ds-1", "hello", meta);
    tamper_sig(&m, 10);
    expect_reject(c, &m, "signature_invalid", NULL);
    fx_msg_free(&m);

    /* signed: stale beats the wrong hash */
    ed_upload(&m, "up-or-3", "ds-1", "hello", meta);
    expect_reject(c, &m, "stale", NULL);
    fx_msg_free(&m);
    free(meta);

    /* hash mismatch beats replay */
    fx_registry_accept(c->reg, "up-or-4", "ds-9", SHA_WORLD);
    meta = fx_meta("up-or-4", "alice", "ds-1", SHA_WORLD);
    ed_upload(&m, "up-or-4", "ds-1", "hello", meta);
    expect_reject(c, &m, "hash_mismatch", NULL);
    fx_msg_free(&m);
    free(meta);

    /* replay beats duplicate */
    fx_registry_accept(c->reg, "up-or-5", "ds-1", SHA_HELLO);
    ed_upload(&m, "up-or-5", "ds-1", "hello", NULL);
    expect_reject(c, &m, "replay", NULL);
    fx_msg_free(&m);
}

/* ==== replay ============================================================ */

/* An upload id already in the registry (committed earlier). */
static void test_replay_registry(void **state)
{
    ctx *c = *state;
    fx_msg m;

    fx_registry_accept(c->reg, "up-rp-1", "ds-other", SHA_WORLD);
    ed_upload(&m, "up-rp-1", "ds-1", "hello", NULL);
    expect_reject(c, &m, "replay", NULL);
    assert_string_equal(sl_out_reject_detail(c->out),
                        "upload id \"up-rp-1\" was already used (the registry "
                        "holds an outcome for it)");
    fx_msg_free(&m);

    /* an id that only shares a prefix is not a replay */
    ed_upload(&m, "up-rp-10", "ds-1", "hello", NULL);
    expect_emit(c, &m);
    fx_msg_free(&m);
}

/* Within one transaction, then across a committed one, then after an
 * aborted one (whose acceptances are forgotten). */
static void test_replay_txn(void **state)
{
    ctx *c = *state;
    fx_msg m;

    ed_upload(&m, "up-rt-1", "ds-1", "hello", NULL);
    expect_emit(c, &m);
    fx_msg_free(&m);

    /* same id, different content (so not a duplicate), same transaction */
    hm_upload(&m, "up-rt-1", "ds-1", "world", NULL);
    expect_reject(c, &m, "replay", NULL);
    assert_string_equal(sl_out_reject_detail(c->out),
                        "upload id \"up-rt-1\" was already used");
    fx_msg_free(&m);

    /* committed: still a replay in the next transaction, although the
     * registry itself knows nothing of it */
    sl_validate_txn_end(c->v, 1);
    hm_upload(&m, "up-rt-1", "ds-1", "world", NULL);
    expect_reject(c, &m, "replay", "was already used");
    fx_msg_free(&m);

    /* aborted: an id accepted in the aborted transaction is new again */
    ed_upload(&m, "up-rt-2", "ds-1", "abc", NULL);
    expect_emit(c, &m);
    fx_msg_free(&m);
    sl_validate_txn_end(c->v, 0);
    ed_upload(&m, "up-rt-2", "ds-1", "abc", NULL);
    expect_emit(c, &m);
    fx_msg_free(&m);
    /* ... and once committed it sticks; an abort later does not undo it */
    sl_validate_txn_end(c->v, 1);
    sl_validate_txn_end(c->v, 0);
    hm_upload(&m, "up-rt-2", "ds-1", "def", NULL);
    expect_reject(c, &m, "replay", NULL);
    fx_msg_free(&m);
}

/* A rejected upload uses its id up, whatever the reason: the same signed
 * bytes (or a corrected upload) under that id are a replay, in the same
 * transaction and once it committed; an aborted transaction forgets it. */
static void test_rejected_reserves(void **state)
{
    ctx *c = *state;
    char *meta;
    fx_msg m;

    meta = fx_meta("up-rr-1", "alice", "ds-1", SHA_WORLD);
    ed_upload(&m, "up-rr-1", "ds-1", "hello", meta);
    expect_reject(c, &m, "hash_mismatch", NULL);
    fx_msg_free(&m);
    free(meta);

    ed_upload(&m, "up-rr-1", "ds-1", "hello", NULL);
    expect_reject(c, &m, "replay", NULL);
    assert_string_equal(sl_out_reject_detail(c->out),
                        "upload id \"up-rr-1\" was already used");
    fx_msg_free(&m);
    sl_validate_txn_end(c->v, 1);
    ed_upload(&m, "up-rr-1", "ds-1", "hello", NULL);
    expect_reject(c, &m, "replay", "was already used");
    fx_msg_free(&m);

    /* refused for a reason that clears later (unknown creator, then
     * registered): the same message is a replay, not accepted */
    fx_upload(&m, "up-rr-2", "newbie", "ds-1", "hello", NULL, SL_SIG_ED25519,
              alice_seed, 32);
    expect_reject(c, &m, "creator_unknown", NULL);
    sl_validate_txn_end(c->v, 1);
    fx_registry_add(c->reg, "newbie", SL_SIG_ED25519, alice_pub, 32, 1, 1);
    expect_reject(c, &m, "replay", "\"up-rr-2\" was already used");
    fx_msg_free(&m);

    /* an id seen only with unparsable metadata is the message key's */
    raw_msg(&m, "up-rr-3", "hello", "{not json", NULL);
    expect_reject(c, &m, "meta_malformed", NULL);
    fx_msg_free(&m);
    ed_upload(&m, "up-rr-3", "ds-1", "hello", NULL);
    expect_reject(c, &m, "replay", NULL);
    fx_msg_free(&m);
    /* ... and so is one whose metadata has a duplicate key: no metadata by
     * the rules every stage reads it with (sl/envelope.h), so neither
     * upload_id in it is used up, as commit records it under the key */
    raw_msg(&m, "up-rr-5", "hello",
            "{\"upload_id\":\"up-rr-6\",\"upload_id\":\"up-rr-7\"}", NULL);
    expect_reject(c, &m, "meta_malformed", "duplicate object key");
    fx_msg_free(&m);
    ed_upload(&m, "up-rr-7", "ds-1", "rr-7", NULL);
    expect_emit(c, &m);
    fx_msg_free(&m);
    ed_upload(&m, "up-rr-5", "ds-1", "rr-5", NULL);
    expect_reject(c, &m, "replay", "\"up-rr-5\" was already used");
    fx_msg_free(&m);

    /* a retry (registry outage) does not use the id up; an abort forgets */
    ed_upload(&m, "up-rr-4", "ds-1", "hello", NULL);
    fx_registry_fail(c->reg, 1);
    expect_retry(c, &m);
    fx_registry_fail(c->reg, 0);
    sl_validate_txn_end(c->v, 0);
    expect_emit(c, &m);
    fx_msg_free(&m);

    /* other ids are unaffected */
    ed_upload(&m, "up-rr-10", "ds-1", "world", NULL);
    expect_emit(c, &m);
    fx_msg_free(&m);
}

/* ==== claims: replay protection across restarts ========================= */

/* A durable claim store shared by successive validators (a restart), in
 * front of a fixture registry: what validate_pg.c keeps in upload_claims. */
#define CLAIMS_MAX 16
typedef struct claims {
    char id[CLAIMS_MAX][130];
    int32_t part[CLAIMS_MAX];
    int64_t off[CLAIMS_MAX];
    size_t n;
    int calls, fail;
} claims;

typedef struct claim_lk {
    sl_validate_lookup inner;
    claims *store;
} claim_lk;

static int cl_creator(void *u, const char *id, sl_key **k, int *a, int *v)
{
    claim_lk *l = u;
    return l->inner.creator(l->inner.u, id, k, a, v);
}

static int cl_upload(void *u, const char *id, int *seen)
{
    claim_lk *l = u;
    return l->inner.upload_seen(l->inner.u, id, seen);
}

static int cl_content(void *u, const char *d, const char *sha, int *seen)
{
    claim_lk *l = u;
    return l->inner.content_seen(l->inner.u, d, sha, seen);
}

/* The same rule as the SQL: another partition, or an earlier offset. */
static int cl_claim(void *u, sl_validate_claim *c, size_t n)
{
    claim_lk *l = u;
    claims *s = l->store;
    size_t before = s->n;

    s->calls++;
    if (s->fail)
        return SL_EIO;
    for (size_t i = 0; i < n; i++)          /* one claim per id and call */
        for (size_t k = 0; k < i; k++)
            assert_string_not_equal(c[i].upload_id, c[k].upload_id);
    for (size_t i = 0; i < n; i++) {
        int mine = 0;
        c[i].earlier = 0;
        for (size_t k = 0; k < before; k++) {
            if (strcmp(s->id[k], c[i].upload_id) != 0)
                continue;
            if (s->part[k] == c[i].partition && s->off[k] == c[i].offset)
                mine = 1;
            if (s->part[k] != c[i].partition || s->off[k] < c[i].offset)
                c[i].earlier = 1;
        }
        if (!mine) {
            assert_true(s->n < CLAIMS_MAX);
            snprintf(s->id[s->n], sizeof(s->id[0]), "%s", c[i].upload_id);
            s->part[s->n] = c[i].partition;
            s->off[s->n++] = c[i].offset;
        }
    }
    return SL_OK;
}

static void cl_destroy(void *u)
{
    claim_lk *l = u;
    l->inner.destroy(l->inner.u);
    free(l);
}

/* (Re)opens c->v on a fresh registry with the claim store `store`. */
static void open_claims(ctx *c, claims *store)
{
    claim_lk *l = calloc(1, sizeof(*l));
    sl_validate_lookup lk = { 0 };

    assert_non_null(l);
    l->store = store;
    c->reg = make_registry();
    fx_registry_lookup(c->reg, &l->inner);
    lk.u = l;
    lk.creator = cl_creator;
    lk.upload_seen = cl_upload;
    lk.content_seen = cl_content;
    lk.claim = cl_claim;
    lk.destroy = cl_destroy;
    open_with(c, NULL, &lk);
}

/* ==== signatures verified ahead, on several threads ====================== */

/* One creator, "alice", whose key the test swaps between prepare() and
 * process(); every creator look-up counted. */
typedef struct swap_lk {
    sl_key *key[2];
    int use, calls;
} swap_lk;

static int sw_creator(void *u, const char *id, sl_key **k, int *a, int *v)
{
    swap_lk *l = u;

    l->calls++;
    if (strcmp(id, "alice") != 0)
        return SL_ENOTFOUND;
    *k = l->key[l->use];
    *a = *v = 1;
    return SL_OK;
}

static int sw_none(void *u, const char *id, int *seen)
{
    (void)u, (void)id;
    *seen = 0;
    return SL_OK;
}

static int sw_no_content(void *u, const char *d, const char *sha, int *seen)
{
    (void)u, (void)d, (void)sha;
    *seen = 0;
    return SL_OK;
}

static void sw_destroy(void *u)
{
    swap_lk *l = u;

    sl_key_destroy(l->key[0]);
    sl_key_destroy(l->key[1]);
    free(l);
}

/* c->v with validate.verify.threads `threads` over a swap_lk (returned,
 * owned by c->v): key 0 alice's, key 1 mallory's. */
static swap_lk *open_swap(ctx *c, const char *threads)
{
    const char *kv[] = { "validate.verify.threads", threads, NULL };
    swap_lk *l = calloc(1, sizeof(*l));
    sl_validate_lookup lk = { 0 };
    sl_err err = { "" };

    assert_non_null(l);
    l->key[0] = sl_key_new(SL_SIG_ED25519, alice_pub, 32, &err);
    l->key[1] = sl_key_new(SL_SIG_ED25519, mallory_pub, 32, &err);
    assert_non_null(l->key[0]);
    assert_non_null(l->key[1]);
    lk.u = l;
    lk.creator = sw_creator;
    lk.upload_seen = sw_none;
    lk.content_seen = sw_no_content;
    lk.destroy = sw_destroy;
    open_with(c, kv, &lk);
    return l;
}

#define SWAP_N 40

/* A run of SWAP_N uploads by alice, signed with `seed`; every seventh
 * signature tampered. */
static void swap_run(fx_msg *r, sl_msg *run, const char *tag, const uint8_t *seed)
{
    char id[32], content[48];

    for (int i = 0; i < SWAP_N; i++) {
        snprintf(id, sizeof(id), "up-%s-%d", tag, i);
        snprintf(content, sizeof(content), "%s content %d", tag, i);
        fx_upload(&r[i], id, "alice", "ds-1", content, NULL, SL_SIG_ED25519, seed, 32);
        if (i % 7 == 3)
            tamper_sig(&r[i], (size_t)i);
        r[i].msg.offset = 1000 + i;
        run[i] = r[i].msg;
        run[i].run_index = (size_t)i;
    }
}

/* prepare() then process() of the run; verdict i into v[i]. */
static void swap_process(ctx *c, sl_msg *run, sl_verdict *v, const char **codes)
{
    for (int i = 0; i < SWAP_N; i++) {
        sl_out_reset(c->out);
        v[i] = sl_validate_process(c->v, &run[i], c->out);
        codes[i] = v[i] == SL_REJECT ? strdup(sl_out_reject_code(c->out)) : NULL;
    }
}

/* With threads, prepare() verifies the run's signatures (it looks every
 * creator up once more), and process() gives exactly the verdicts one
 * thread gives: tampered signatures refused, the rest accepted.  A key
 * that changed between prepare() and process() is the one that counts:
 * alice's signatures fail under mallory's key, and mallory's pass, though
 * prepare() verified them the other way round. */
static void test_verify_threads(void **state)
{
    ctx *c = *state;
    static const char *const threads[] = { "4", "1", "2" };
    fx_msg r[SWAP_N];
    sl_msg run[SWAP_N];
    sl_verdict v[3][SWAP_N];
    const char *codes[3][SWAP_N];

    for (int t = 0; t < 3; t++) {
        swap_lk *l = open_swap(c, threads[t]);
        int before;

        swap_run(r, run, threads[t], alice_seed);
        before = l->calls;
        assert_int_equal(sl_validate_prepare(c->v, run, SWAP_N), SL_OK);
        /* ahead of process: one look-up per message, or none */
        assert_int_equal(l->calls - before, strcmp(threads[t], "1") ? SWAP_N : 0);
        swap_process(c, run, v[t], codes[t]);
        for (int i = 0; i < SWAP_N; i++) {
            if (i % 7 == 3) {
                assert_int_equal(v[t][i], SL_REJECT);
                assert_string_equal(codes[t][i], "signature_invalid");
            } else {
                assert_int_equal(v[t][i], SL_EMIT);
            }
            if (t) {
                assert_int_equal(v[t][i], v[0][i]);
            }
            free((char *)codes[t][i]);
            fx_msg_free(&r[i]);
        }
        sl_validate_txn_end(c->v, 1);
    }

    /* a shape process() refuses before the creator (here the message key
     * is not the upload id) costs prepare() no registry look-up */
    {
        swap_lk *l = open_swap(c, "4");
        int before;

        swap_run(r, run, "shape", alice_seed);
        for (int i = 0; i < SWAP_N; i++) {
            set_key(&r[i], "not-the-id", 10);
            run[i] = r[i].msg;
            run[i].run_index = (size_t)i;
        }
        before = l->calls;
        assert_int_equal(sl_validate_prepare(c->v, run, SWAP_N), SL_OK);
        assert_int_equal(l->calls, before);
        swap_process(c, run, v[0], codes[0]);
        for (int i = 0; i < SWAP_N; i++) {
            assert_int_equal(v[0][i], SL_REJECT);
            assert_string_equal(codes[0][i], "key_mismatch");
            free((char *)codes[0][i]);
            fx_msg_free(&r[i]);
        }
        assert_int_equal(l->calls, before);
        sl_validate_txn_end(c->v, 1);
    }

    /* the key rotates between prepare() and process() */
    for (int way = 0; way < 2; way++) {
        swap_lk *l = open_swap(c, "4");

        swap_run(r, run, way ? "rot-m" : "rot-a", way ? mallory_seed : alice_seed);
        l->use = 0;                      /* prepare() sees alice's key */
        assert_int_equal(sl_validate_prepare(c->v, run, SWAP_N), SL_OK);
        l->use = 1;                      /* process() mallory's */
        swap_process(c, run, v[0], codes[0]);
        for (int i = 0; i < SWAP_N; i++) {
            if (way == 0 || i % 7 == 3) {
                assert_int_equal(v[0][i], SL_REJECT);
                assert_string_equal(codes[0][i], "signature_invalid");
            } else {
                assert_int_equal(v[0][i], SL_EMIT);
            }
            free((char *)codes[0][i]);
            fx_msg_free(&r[i]);
        }
        sl_validate_txn_end(c->v, 1);
    }
}

/* validate.verify.threads: 0 (one per CPU) to 8. */
static void test_verify_threads_config(void **state)
{
    ctx *c = *state;
    sl_config *cfg = fx_config(sl_validate_config);
    sl_validate *v = NULL;
    sl_validate_lookup lk = { 0 };
    sl_err err = { "" };

    (void)c;
    assert_non_null(cfg);
    fx_registry_lookup(make_registry(), &lk);
    assert_int_equal(sl_config_set(cfg, "validate.verify.threads", "9", &err), SL_OK);
    assert_int_equal(sl_validate_new(&v, cfg, &lk, &err), SL_ERR);
    assert_non_null(strstr(err.msg, "validate.verify.threads"));
    assert_int_equal(sl_config_set(cfg, "validate.verify.threads", "-1", &err), SL_OK);
    assert_int_equal(sl_validate_new(&v, cfg, &lk, &err), SL_ERR);
    assert_int_equal(sl_config_set(cfg, "validate.verify.threads", "0", &err), SL_OK);
    assert_int_equal(sl_validate_new(&v, cfg, &lk, &err), SL_OK);
    sl_validate_destroy(v);
    sl_config_destroy(cfg);
}

/* Refused (unknown creator), validate restarts before any outcome is
 * stored, the creator registers, the same bytes come again at a later
 * offset: the claim makes it a replay.  The first message, retried at its
 * own offset (an aborted run), is not a replay of itself, nor of a claim
 * at a later offset; a claim from another partition counts. */
static void test_claims_across_restart(void **state)
{
    ctx *c = *state;
    claims store = { .n = 0 };
    fx_msg m;

    open_claims(c, &store);
    fx_upload(&m, "up-cl-1", "newbie", "ds-1", "hello", NULL, SL_SIG_ED25519,
              alice_seed, 32);
    m.msg.offset = 5;
    expect_reject(c, &m, "creator_unknown", NULL);
    assert_int_equal(store.n, 1);
    assert_string_equal(store.id[0], "up-cl-1");
    assert_int_equal(store.off[0], 5);

    /* restart (memory gone, the registry knows no outcome), registered */
    open_claims(c, &store);
    fx_registry_add(c->reg, "newbie", SL_SIG_ED25519, alice_pub, 32, 1, 1);
    m.msg.offset = 9;
    expect_reject(c, &m, "replay", NULL);
    assert_string_equal(sl_out_reject_detail(c->out), "upload id \"up-cl-1\" "
                        "was already used (claimed by an earlier message)");
    assert_int_equal(store.n, 2);

    /* the first message itself, re-read after an abort: its own claim and
     * one at a later offset do not count */
    open_claims(c, &store);
    fx_registry_add(c->reg, "newbie", SL_SIG_ED25519, alice_pub, 32, 1, 1);
    m.msg.offset = 5;
    expect_emit(c, &m);
    assert_int_equal(store.n, 2);
    fx_msg_free(&m);

    /* another partition's claim counts (the same key moved partitions) */
    ed_upload(&m, "up-cl-2", "ds-1", "world", NULL);
    m.msg.partition = 1;
    m.msg.offset = 100;
    expect_emit(c, &m);
    open_claims(c, &store);
    m.msg.partition = 2;
    m.msg.offset = 1;
    expect_reject(c, &m, "replay", "claimed by an earlier message");
    fx_msg_free(&m);

    /* prepare() claims the run in one call; process() uses its answers */
    {
        fx_msg r[2];
        sl_msg run[2];
        int calls;
        ed_upload(&r[0], "up-cl-3", "ds-1", "abc", NULL);
        ed_upload(&r[1], "up-cl-1", "ds-1", "def", NULL);
        r[0].msg.offset = 200;
        r[1].msg.offset = 201;
        run[0] = r[0].msg;
        run[1] = r[1].msg;
        run[0].run_index = 0;
        run[1].run_index = 1;
        calls = store.calls;
        assert_int_equal(sl_validate_prepare(c->v, run, 2), SL_OK);
        assert_int_equal(store.calls, calls + 1);
        sl_out_reset(c->out);
        assert_int_equal(sl_validate_process(c->v, &run[0], c->out), SL_EMIT);
        sl_out_reset(c->out);
        assert_int_equal(sl_validate_process(c->v, &run[1], c->out), SL_REJECT);
        assert_string_equal(sl_out_reject_code(c->out), "replay");
        assert_int_equal(store.calls, calls + 1);   /* no claim per message */
        /* another record claiming slot 0 of the run: claimed on its own */
        {
            fx_msg o;
            ed_upload(&o, "up-cl-5", "ds-1", "jkl", NULL);
            o.msg.run_index = 0;
            sl_out_reset(c->out);
            assert_int_equal(sl_validate_process(c->v, &o.msg, c->out), SL_EMIT);
            assert_int_equal(store.calls, calls + 2);
            fx_msg_free(&o);
        }
        fx_msg_free(&r[0]);
        fx_msg_free(&r[1]);
    }

    /* one id twice in a run: claimed once, by the first; the second is a
     * replay without asking, also when the run is retried */
    for (int pass = 0; pass < 2; pass++) {
        fx_msg r[2];
        sl_msg run[2];
        size_t n0 = store.n;
        int calls = store.calls;
        ed_upload(&r[0], "up-cl-6", "ds-1", "mno", NULL);
        ed_upload(&r[1], "up-cl-6", "ds-1", "pqr", NULL);
        r[0].msg.offset = 300;
        r[1].msg.offset = 301;
        run[0] = r[0].msg;
        run[1] = r[1].msg;
        run[0].run_index = 0;
        run[1].run_index = 1;
        assert_int_equal(sl_validate_prepare(c->v, run, 2), SL_OK);
        assert_int_equal(store.calls, calls + 1);
        assert_int_equal(store.n, pass == 0 ? n0 + 1 : n0);
        assert_int_equal(store.off[store.n - 1], 300);
        if (pass == 0) {            /* in order: the first is accepted */
            sl_out_reset(c->out);
            assert_int_equal(sl_validate_process(c->v, &run[0], c->out), SL_EMIT);
        }
        /* after the restart, memory is empty: the claim alone decides */
        sl_out_reset(c->out);
        assert_int_equal(sl_validate_process(c->v, &run[1], c->out), SL_REJECT);
        assert_string_equal(sl_out_reject_code(c->out), "replay");
        if (pass == 1)
            assert_string_equal(sl_out_reject_detail(c->out), "upload id \"up-cl-6\" "
                                "was already used (claimed by an earlier message)");
        fx_msg_free(&r[0]);
        fx_msg_free(&r[1]);
        open_claims(c, &store);   /* the run is retried after a restart */
        fx_registry_add(c->reg, "newbie", SL_SIG_ED25519, alice_pub, 32, 1, 1);
    }

    /* a claim that cannot be written: retried, never decided without it */
    ed_upload(&m, "up-cl-4", "ds-1", "ghi", NULL);
    store.fail = 1;
    expect_retry(c, &m);
    {
        sl_msg one = m.msg;
        assert_int_equal(sl_validate_prepare(c->v, &one, 1), SL_EIO);
    }
    store.fail = 0;
    expect_emit(c, &m);
    fx_msg_free(&m);
}

/* ==== header_reserved, headers_too_large ============================== */

/* ==== dead-letter replay (sluicectl dlq replay) ========================= */

/* What dlq_replay_items holds: one (request, upload id, hash) authorised,
 * and whether the upload is stored already. */
typedef struct replay_lk {
    claim_lk base;
    const char *request, *upload_id, *sha;
    int accepted, calls;
} replay_lk;

static int rl_replay(void *u, const char *req, const char *id, const char *sha,
                     int *requested, int *accepted)
{
    replay_lk *l = u;

    l->calls++;
    *requested = l->request && strcmp(req, l->request) == 0 &&
                 strcmp(id, l->upload_id) == 0 && strcmp(sha, l->sha) == 0;
    *accepted = l->accepted;
    return SL_OK;
}

/* Rejected with code (detail containing frag) after the replay request
 * was found: the chain is the dlq event, then validate's rejection. */
static void expect_reject_replayed(ctx *c, fx_msg *m, const char *code,
                                   const char *frag)
{
    static const char *const stages[] = { "dlq", "validate", NULL };
    char sha[SL_SHA256_HEX];
    sl_verdict got = run(c, m);

    if (got != SL_REJECT || strcmp(sl_out_reject_code(c->out), code) != 0)
        fail_msg("verdict %s %s (%s), want reject %s", sl_verdict_name(got),
                 sl_out_reject_code(c->out), sl_out_reject_detail(c->out), code);
    if (!strstr(sl_out_reject_detail(c->out), frag))
        fail_msg("detail \"%s\" lacks \"%s\"", sl_out_reject_detail(c->out), frag);
    assert_int_equal(sl_sha256_hex(m->msg.value.ptr, m->msg.value.len, sha), SL_OK);
    json_decref(fx_check_prov(c->out, sha, stages, "rejected", code, sha));
}

static void rl_destroy(void *u)
{
    replay_lk *l = u;
    l->base.inner.destroy(l->base.inner.u);
}

/* Opens c->v with claims in store and the replay lookup l (owned by the
 * test: the validator only releases the registry). */
static void open_replay(ctx *c, claims *store, replay_lk *l)
{
    sl_validate_lookup lk = { 0 };

    l->base.store = store;
    c->reg = make_registry();
    fx_registry_lookup(c->reg, &l->base.inner);
    lk.u = l;
    lk.creator = cl_creator;
    lk.upload_seen = cl_upload;
    lk.content_seen = cl_content;
    lk.claim = cl_claim;
    lk.replay = rl_replay;
    lk.destroy = rl_destroy;
    open_with(c, NULL, &lk);
}

/* An upload refused as creator_unknown; the creator registers; sent again
 * on sluice.uploads it is a replay.  On sluice.replay it passes only with a
 * sluice-replay header naming a request that holds it (same id, same
 * bytes), once per request; its chain starts with the "dlq" event.  The
 * header means nothing on sluice.uploads but header_reserved; a stored
 * upload stays a replay; the created_at window does not apply. */
static void test_replay_request(void **state)
{
    ctx *c = *state;
    claims store = { .n = 0 };
    replay_lk l = { .request = NULL };
    static const char *const stages[] = { "dlq", "validate", NULL };
    sl_prov_chain *pc;
    sl_slice chain;
    const char *canon, *stage;
    sl_err err;
    json_t *ev;
    fx_msg m;

    /* a validate without the replay lookup (or claims) takes none */
    ed_upload(&m, "up-rp-0", "ds-1", "hello", NULL);
    m.msg.topic = "sluice.replay";
    fx_msg_header_str(&m, SL_H_REPLAY, "r0");
    expect_reject(c, &m, "replay_unauthorized", "this validate takes no replays");
    fx_msg_free(&m);

    open_replay(c, &store, &l);
    fx_upload(&m, "up-rp-1", "late", "ds-1", "hello", NULL, SL_SIG_ED25519,
              alice_seed, 32);
    m.msg.offset = 5;
    expect_reject(c, &m, "creator_unknown", NULL);
    fx_registry_add(c->reg, "late", SL_SIG_ED25519, alice_pub, 32, 1, 1);
    m.msg.offset = 9;
    expect_reject(c, &m, "replay", "was already used");
    assert_int_equal(l.calls, 0);

    /* the replay topic: no header, then a request that does not hold it */
    m.msg.topic = "sluice.replay";
    m.msg.offset = 0;
    expect_reject(c, &m, "replay_unauthorized", "needs one sluice-replay header");
    fx_msg_header_str(&m, SL_H_REPLAY, "Bad/Id");
    m.msg.offset = 1;
    expect_reject(c, &m, "replay_unauthorized", "needs one sluice-replay header");
    /* (each refused message uses up its request's claim on the upload:
     * these name request r0, which never holds it with these bytes) */
    hdr_set_str(&m, SL_H_REPLAY, "r0");
    m.msg.offset = 2;
    expect_reject(c, &m, "replay_unauthorized", "replay request \"r0\" does not "
                  "send upload \"up-rp-1\" with content " );
    l.request = "r0";
    l.upload_id = "up-rp-1";
    l.sha = SHA_WORLD;                      /* other bytes: still refused */
    m.msg.offset = 3;
    expect_reject(c, &m, "replay_unauthorized", NULL);

    /* authorised: accepted, the chain is dlq (replayed, r1) -> validate */
    hdr_set_str(&m, SL_H_REPLAY, "r1");
    l.request = "r1";
    l.sha = SHA_HELLO;
    m.msg.offset = 4;
    assert_int_equal(run(c, &m), SL_EMIT);
    ev = fx_check_prov(c->out, SHA_HELLO, stages, "accepted", NULL, SHA_HELLO);
    json_decref(ev);
    assert_int_equal(sl_out_header(c->out, SL_H_PROV, &chain), SL_OK);
    assert_non_null(pc = sl_prov_parse(chain, &err));
    assert_int_equal(sl_prov_get(pc, 0, &canon, NULL, &stage, NULL, NULL), SL_OK);
    ev = json_loads(canon, 0, NULL);
    assert_non_null(ev);
    assert_string_equal(json_string_value(json_object_get(ev, "outcome")), "replayed");
    assert_string_equal(json_string_value(json_object_get(ev, "reason")), "r1");
    assert_string_equal(json_string_value(json_object_get(ev, "version")), "dlq/1");
    assert_string_equal(json_string_value(json_object_get(ev, "upload_id")), "up-rp-1");
    json_decref(ev);
    sl_prov_chain_destroy(pc);
    sl_validate_txn_end(c->v, 1);

    /* the same request again (another copy): used up */
    m.msg.offset = 6;
    expect_reject_replayed(c, &m, "replay", "was already replayed by request \"r1\"");

    /* a later request, once the upload is stored: a replay all the same */
    l.request = "r2";
    l.accepted = 1;
    hdr_set_str(&m, SL_H_REPLAY, "r2");
    m.msg.offset = 7;
    expect_reject_replayed(c, &m, "replay", "holds it as a sample or review item");

    /* a creator's sluice-replay header on sluice.uploads */
    m.msg.topic = "sluice.uploads";
    m.msg.offset = 10;
    expect_reject(c, &m, "header_reserved", "sluice-replay");
    fx_msg_free(&m);

    /* out of the created_at window: a replay is not stale */
    {
        /* (ds-2: "hello" in ds-1 is now a duplicate) */
        char *meta = meta_rel("up-rp-2", "alice", "ds-2", NULL, -3 * DAY_MS);
        ed_upload(&m, "up-rp-2", "ds-2", "hello", meta);
        expect_reject(c, &m, "stale", NULL);
        m.msg.topic = "sluice.replay";
        m.msg.offset = 20;
        fx_msg_header_str(&m, SL_H_REPLAY, "r3");
        l.request = "r3";
        l.upload_id = "up-rp-2";
        l.accepted = 0;
        assert_int_equal(run(c, &m), SL_EMIT);
        json_decref(fx_check_prov(c->out, SHA_HELLO, stages, "accepted", NULL,
                                  SHA_HELLO));
        free(meta);
        fx_msg_free(&m);
    }

    /* accepted by validate, refused by a later stage (not stored): its
     * replay is not a duplicate of its own first pass */
    ed_upload(&m, "up-rp-3", "ds-3", "world", NULL);
    expect_emit(c, &m);
    sl_validate_txn_end(c->v, 1);
    m.msg.topic = "sluice.replay";
    m.msg.offset = 30;
    fx_msg_header_str(&m, SL_H_REPLAY, "r4");
    l.request = "r4";
    l.upload_id = "up-rp-3";
    l.sha = SHA_WORLD;
    assert_int_equal(run(c, &m), SL_EMIT);
    fx_msg_free(&m);
}

/* An upload carries sluice-meta and sluice-sig once each and no other
 * sluice-* header, in any case: a forged reject code, scan result or
 * provenance chain is refused before anything else is looked at. */
static void test_header_reserved(void **state)
{
    ctx *c = *state;
    static const char *const forged[] = {
        "sluice-reject-code", "sluice-reject-time", "sluice-scan",
        "sluice-prov", "sluice-sha256", "sluice-license", "Sluice-Reject-Code",
        "SLUICE-META", "sluice-", NULL
    };
    char want[256];
    fx_msg m;

    for (size_t k = 0; forged[k]; k++) {
        ed_upload(&m, "up-hr-1", "ds-1", "hello", NULL);
        fx_msg_header_str(&m, forged[k], "99999999999999999999");
        expect_reject(c, &m, "header_reserved", NULL);
        snprintf(want, sizeof(want), "header \"%s\" is reserved for the stages; "
                 "an upload carries only sluice-meta and sluice-sig", forged[k]);
        assert_string_equal(sl_out_reject_detail(c->out), want);
        fx_msg_free(&m);
    }

    /* duplicates of the two an upload carries */
    ed_upload(&m, "up-hr-1", "ds-1", "hello", NULL);
    fx_msg_header_str(&m, SL_H_META, "{}");
    expect_reject(c, &m, "header_reserved", NULL);
    assert_string_equal(sl_out_reject_detail(c->out),
                        "header \"sluice-meta\" appears more than once");
    fx_msg_free(&m);
    ed_upload(&m, "up-hr-1", "ds-1", "hello", NULL);
    fx_msg_header_str(&m, SL_H_SIG, "ed25519=AAAA");
    expect_reject(c, &m, "header_reserved", NULL);
    assert_string_equal(sl_out_reject_detail(c->out),
                        "header \"sluice-sig\" appears more than once");
    fx_msg_free(&m);

    /* the name is escaped in the detail */
    ed_upload(&m, "up-hr-1", "ds-1", "hello", NULL);
    fx_msg_header_str(&m, "sluice-\x1b]0;x\x07\n\"\\", "v");
    expect_reject(c, &m, "header_reserved", NULL);
    assert_string_equal(sl_out_reject_detail(c->out),
                        "header \"sluice-\\x1b]0;x\\x07\\x0a\\x22\\x5c\" is "
                        "reserved for the stages; an upload carries only "
                        "sluice-meta and sluice-sig");
    fx_msg_free(&m);

    /* checked first: before the content size and the metadata */
    raw_msg(&m, "up-hr-2", "hello", NULL, NULL);
    fx_msg_header_str(&m, "sluice-reject-code", "pii_blocked");
    expect_reject(c, &m, "header_reserved", NULL);
    fx_msg_free(&m);

    /* other names pass, and so does the upload without the forged header
     * (in a new transaction: the refusals above used its id up) */
    sl_validate_txn_end(c->v, 0);
    ed_upload(&m, "up-hr-1", "ds-1", "hello", NULL);
    fx_msg_header_str(&m, "x-trace-id", "abc");
    fx_msg_header_str(&m, "sluicex-meta", "abc");
    expect_emit(c, &m);
    fx_msg_free(&m);
}

/* At most validate.headers.max.count headers and validate.headers.max.bytes
 * of names and values (defaults 64 and 64 KiB). */
static void test_headers_too_large(void **state)
{
    ctx *c = *state;
    static const char *const kv[] = { "validate.headers.max.count", "3", NULL };
    char *big;
    size_t meta_len, sig_len;
    fx_msg m;

    /* 64 KiB of names and values in all is fine, one byte more is not */
    ed_upload(&m, "up-hl-1", "ds-1", "hello", NULL);
    meta_len = m.hdr[fx_msg_header_index(&m, SL_H_META)].value.len;
    sig_len = m.hdr[fx_msg_header_index(&m, SL_H_SIG)].value.len;
    big = malloc(65536);
    assert_non_null(big);
    memset(big, 'a', 65536);
    fx_msg_header(&m, "x-pad", big, 65536 - strlen(SL_H_META) - meta_len -
                  strlen(SL_H_SIG) - sig_len - strlen("x-pad") + 1);
    expect_reject(c, &m, "headers_too_large", NULL);
    assert_string_equal(sl_out_reject_detail(c->out),
                        "headers total 65537 bytes, the limit is 65536");
    fx_msg_free(&m);
    sl_validate_txn_end(c->v, 0);
    ed_upload(&m, "up-hl-1", "ds-1", "hello", NULL);
    fx_msg_header(&m, "x-pad", big, 65536 - strlen(SL_H_META) - meta_len -
                  strlen(SL_H_SIG) - sig_len - strlen("x-pad"));
    expect_emit(c, &m);
    fx_msg_free(&m);
    free(big);

    /* the count, configured down to 3 */
    reopen(c, kv);
    ed_upload(&m, "up-hl-2", "ds-1", "hello", NULL);
    fx_msg_header_str(&m, "x-a", "1");
    fx_msg_header_str(&m, "x-b", "2");
    expect_reject(c, &m, "headers_too_large", NULL);
    assert_string_equal(sl_out_reject_detail(c->out), "4 headers, the limit is 3");
    fx_msg_free(&m);
    sl_validate_txn_end(c->v, 0);
    ed_upload(&m, "up-hl-2", "ds-1", "hello", NULL);
    fx_msg_header_str(&m, "x-a", "1");
    expect_emit(c, &m);
    fx_msg_free(&m);
}

/* ==== duplicate ========================================================= */

/* The same content already accepted into the same dataset, under another
 * upload id; another dataset is fine. */
static void test_duplicate_registry(void **state)
{
    ctx *c = *state;
    char want[256];
    fx_msg m;

    fx_registry_accept(c->reg, "up-earlier", "ds-1", SHA_HELLO);
    ed_upload(&m, "up-du-1", "ds-1", "hello", NULL);
    expect_reject(c, &m, "duplicate", NULL);
    snprintf(want, sizeof(want), "content %s is already in dataset \"ds-1\"",
             SHA_HELLO);
    assert_string_equal(sl_out_reject_detail(c->out), want);
    fx_msg_free(&m);

    ed_upload(&m, "up-du-2", "ds-2", "hello", NULL);
    expect_emit(c, &m);
    fx_msg_free(&m);
}

/* Duplicates within a transaction, across a committed one, and after an
 * aborted one. */
static void test_duplicate_txn(void **state)
{
    ctx *c = *state;
    fx_msg m;

    ed_upload(&m, "up-dt-1", "ds-1", "hello", NULL);
    expect_emit(c, &m);
    fx_msg_free(&m);
    hm_upload(&m, "up-dt-2", "ds-1", "hello", NULL);
    expect_reject(c, &m, "duplicate", "is already in dataset \"ds-1\"");
    fx_msg_free(&m);
    hm_upload(&m, "up-dt-3", "ds-2", "hello", NULL);       /* other dataset */
    expect_emit(c, &m);
    fx_msg_free(&m);

    sl_validate_txn_end(c->v, 1);
    ed_upload(&m, "up-dt-4", "ds-2", "hello", NULL);
    expect_reject(c, &m, "duplicate", "\"ds-2\"");
    fx_msg_free(&m);

    ed_upload(&m, "up-dt-5", "ds-3", "world", NULL);
    expect_emit(c, &m);
    fx_msg_free(&m);
    sl_validate_txn_end(c->v, 0);
    ed_upload(&m, "up-dt-6", "ds-3", "world", NULL);      /* forgotten: ok */
    expect_emit(c, &m);
    fx_msg_free(&m);
}

/* ==== registry outages ================================================== */

/* An unreachable registry is SL_RETRY, not a rejection, and leaves no trace:
 * once it is back the same message is accepted. */
static void test_outage_retry(void **state)
{
    ctx *c = *state;
    fx_msg m;

    ed_upload(&m, "up-out-1", "ds-1", "hello", NULL);
    fx_registry_fail(c->reg, 1);
    expect_retry(c, &m);
    expect_retry(c, &m);
    fx_registry_fail(c->reg, 0);
    expect_emit(c, &m);
    fx_msg_free(&m);

    /* a message that fails its checks before the lookup is still rejected */
    fx_registry_fail(c->reg, 1);
    ed_upload(&m, "up-out-2", "ds-1", "hello", NULL);
    fx_msg_drop_header(&m, SL_H_META);
    expect_reject(c, &m, "meta_missing", NULL);
    fx_msg_free(&m);
    fx_registry_fail(c->reg, 0);
}

/* A lookup wrapped around the fixture registry that can fail at one step
 * (creator, upload, content), counts calls, and implements the optional
 * recheck callback: a re-check may register a creator or switch an alias
 * to its new record (a rotated key, a re-enabled creator). */
typedef struct flaky {
    sl_validate_lookup inner;
    fx_registry *reg;
    int fail_creator, fail_upload, fail_content;
    int calls_upload, calls_content, calls_recheck;
    int recheck_ret;              /* what recheck returns */
    const char *register_id;      /* recheck registers this creator */
    const char *alias, *alias_old, *alias_new;
    int switched;                 /* recheck switched alias to alias_new */
} flaky;

static int flaky_creator(void *u, const char *id, sl_key **key, int *active,
                         int *verified)
{
    flaky *f = u;

    if (f->fail_creator)
        return SL_EIO;
    if (f->alias && strcmp(id, f->alias) == 0)
        id = f->switched ? f->alias_new : f->alias_old;
    return f->inner.creator(f->inner.u, id, key, active, verified);
}

static int flaky_upload(void *u, const char *id, int *seen)
{
    flaky *f = u;

    f->calls_upload++;
    if (f->fail_upload)
        return SL_EIO;
    return f->inner.upload_seen(f->inner.u, id, seen);
}

static int flaky_content(void *u, const char *ds, const char *sha, int *seen)
{
    flaky *f = u;

    f->calls_content++;
    if (f->fail_content)
        return SL_EIO;
    return f->inner.content_seen(f->inner.u, ds, sha, seen);
}

static int flaky_recheck(void *u, const char *id)
{
    flaky *f = u;

    f->calls_recheck++;
    if (f->register_id && strcmp(id, f->register_id) == 0)
        fx_registry_add(f->reg, id, SL_SIG_ED25519, alice_pub, 32, 1, 1);
    if (f->alias && strcmp(id, f->alias) == 0)
        f->switched = 1;
    return f->recheck_ret;
}

static void flaky_destroy(void *u)
{
    flaky *f = u;

    f->inner.destroy(f->inner.u);
    free(f);
}

/* Reopens c->v on a flaky lookup (with recheck when want_recheck). */
static flaky *open_flaky(ctx *c, int want_recheck)
{
    flaky *f = calloc(1, sizeof(*f));
    sl_validate_lookup lk = { 0 };

    assert_non_null(f);
    f->reg = c->reg = make_registry();
    fx_registry_lookup(c->reg, &f->inner);
    lk.u = f;
    lk.creator = flaky_creator;
    lk.upload_seen = flaky_upload;
    lk.content_seen = flaky_content;
    lk.recheck = want_recheck ? flaky_recheck : NULL;
    lk.destroy = flaky_destroy;
    open_with(c, NULL, &lk);
    return f;
}

static void test_outage_each_lookup(void **state)
{
    ctx *c = *state;
    flaky *f = open_flaky(c, 0);
    fx_msg m;

    ed_upload(&m, "up-fl-1", "ds-1", "hello", NULL);
    f->fail_creator = 1;
    expect_retry(c, &m);
    assert_int_equal(f->calls_upload, 0);
    f->fail_creator = 0;

    f->fail_upload = 1;
    expect_retry(c, &m);
    assert_int_equal(f->calls_upload, 1);
    assert_int_equal(f->calls_content, 0);
    f->fail_upload = 0;

    f->fail_content = 1;
    expect_retry(c, &m);
    assert_int_equal(f->calls_content, 1);
    f->fail_content = 0;

    /* none of the retries recorded the upload as seen */
    expect_emit(c, &m);
    fx_msg_free(&m);
}

/* ==== creator re-check ================================================== */

/* A failure a stale cached creator record could explain (unknown, disabled,
 * wrong scheme, bad signature) asks the lookup to re-check once; success
 * and failures unrelated to the creator never do. */
static void test_recheck(void **state)
{
    ctx *c = *state;
    flaky *f = open_flaky(c, 1);
    char *meta;
    fx_msg m;

    /* accepted uploads do not re-check */
    ed_upload(&m, "up-rc-1", "ds-1", "hello", NULL);
    expect_emit(c, &m);
    fx_msg_free(&m);
    assert_int_equal(f->calls_recheck, 0);

    /* a creator registered moments ago is found on the re-check */
    f->recheck_ret = 1;
    f->register_id = "newbie";
    fx_upload(&m, "up-rc-2", "newbie", "ds-1", "rc two", NULL, SL_SIG_ED25519,
              alice_seed, 32);
    expect_emit(c, &m);
    fx_msg_free(&m);
    assert_int_equal(f->calls_recheck, 1);

    /* a re-check that changes nothing is done once, not in a loop */
    f->calls_recheck = 0;
    fx_upload(&m, "up-rc-3", "ghost", "ds-1", "rc three", NULL, SL_SIG_ED25519,
              alice_seed, 32);
    expect_reject(c, &m, "creator_unknown", "\"ghost\"");
    fx_msg_free(&m);
    assert_int_equal(f->calls_recheck, 1);

    f->calls_recheck = 0;
    fx_upload(&m, "up-rc-4", "alice", "ds-1", "rc four", NULL, SL_SIG_ED25519,
              mallory_seed, 32);
    expect_reject(c, &m, "signature_invalid", "does not match");
    fx_msg_free(&m);
    assert_int_equal(f->calls_recheck, 1);

    /* a rotated key: the cached record holds mallory's key, the fresh one
     * alice's, with which the upload is signed */
    fx_registry_add(c->reg, "rot-old", SL_SIG_ED25519, mallory_pub, 32, 1, 1);
    f->alias = "rot";
    f->alias_old = "rot-old";
    f->alias_new = "alice";
    f->switched = 0;
    f->calls_recheck = 0;
    fx_upload(&m, "up-rc-5", "rot", "ds-1", "rc five", NULL, SL_SIG_ED25519,
              alice_seed, 32);
    expect_emit(c, &m);
    fx_msg_free(&m);
    assert_int_equal(f->calls_recheck, 1);

    /* a creator re-enabled (dora -> alice's record) */
    f->alias = "flip";
    f->alias_old = "dora";
    f->switched = 0;
    f->calls_recheck = 0;
    fx_upload(&m, "up-rc-6", "flip", "ds-1", "rc six", NULL, SL_SIG_ED25519,
              alice_seed, 32);
    expect_emit(c, &m);
    fx_msg_free(&m);
    assert_int_equal(f->calls_recheck, 1);

    /* a scheme change (cached HMAC record, fresh Ed25519 one) */
    f->alias = "swap";
    f->alias_old = "hugo";
    f->switched = 0;
    f->calls_recheck = 0;
    fx_upload(&m, "up-rc-7", "swap", "ds-1", "rc seven", NULL, SL_SIG_ED25519,
              alice_seed, 32);
    expect_emit(c, &m);
    fx_msg_free(&m);
    assert_int_equal(f->calls_recheck, 1);

    /* the re-check returning 0 (nothing dropped): rejected, asked once */
    f->recheck_ret = 0;
    f->alias = NULL;
    f->calls_recheck = 0;
    fx_upload(&m, "up-rc-8", "uma", "ds-1", "rc eight", NULL, SL_SIG_ED25519,
              alice_seed, 32);
    expect_reject(c, &m, "creator_unverified", NULL);
    fx_msg_free(&m);
    assert_int_equal(f->calls_recheck, 1);

    /* stale, hash_mismatch, replay, duplicate: not the creator's record */
    f->recheck_ret = 1;
    f->calls_recheck = 0;
    meta = meta_rel("up-rc-9", "alice", "ds-1", SHA_HELLO, -3 * DAY_MS);
    ed_upload(&m, "up-rc-9", "ds-1", "hello", meta);
    expect_reject(c, &m, "stale", NULL);
    fx_msg_free(&m);
    free(meta);
    meta = fx_meta("up-rc-9", "alice", "ds-1", SHA_WORLD);
    ed_upload(&m, "up-rc-9", "ds-1", "hello", meta);
    expect_reject(c, &m, "hash_mismatch", NULL);
    fx_msg_free(&m);
    free(meta);
    ed_upload(&m, "up-rc-1", "ds-1", "other", NULL);
    expect_reject(c, &m, "replay", NULL);
    fx_msg_free(&m);
    ed_upload(&m, "up-rc-10", "ds-1", "hello", NULL);
    expect_reject(c, &m, "duplicate", NULL);
    fx_msg_free(&m);
    assert_int_equal(f->calls_recheck, 0);
}

/* ==== construction ====================================================== */

/* Bad options fail sl_validate_new with a message; the lookup stays the
 * caller's (destroyed here, once: ASan would catch a double free). */
static void test_new_errors(void **state)
{
    static const char *const bad[][2] = {
        { "validate.content.max.bytes", "0" },
        { "validate.meta.max.bytes", "0" },
        { "validate.window.past.s", "-1" },
        { "validate.seen.cache.entries", "0" },
        { "validate.schema.file", "/nonexistent/schema.json" },
    };
    sl_validate_lookup lk = { 0 };
    sl_validate *v = NULL;
    sl_err err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sl_config *cfg = fx_config(sl_validate_config);
        fx_registry *r = make_registry();

        memset(&err, 0, sizeof(err));
        assert_int_equal(sl_config_set(cfg, bad[i][0], bad[i][1], &err), SL_OK);
        fx_registry_lookup(r, &lk);
        assert_int_equal(sl_validate_new(&v, cfg, &lk, &err), SL_ERR);
        assert_true(err.msg[0] != '\0');
        if (i == 4)
            assert_non_null(strstr(err.msg, "cannot open schema file"));
        lk.destroy(lk.u);
        sl_config_destroy(cfg);
    }
    sl_validate_destroy(NULL);
}

/* The schema can come from a file: the repository's copy behaves as the
 * built-in one. */
static void test_schema_file(void **state)
{
    ctx *c = *state;
    const char *const kv[] = { "validate.schema.file",
                               SL_SOURCE_DIR "/schemas/upload-meta.schema.json",
                               NULL };
    fx_msg m;

    reopen(c, kv);
    ed_upload(&m, "up-sc-1", "ds-1", "hello", NULL);
    expect_emit(c, &m);
    fx_msg_free(&m);
    raw_msg(&m, "up-1", "hello", "{\"schema_version\":1}", "ed25519=AAAA");
    expect_reject(c, &m, "meta_invalid", "missing required property");
    fx_msg_free(&m);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/* The worked example of schemas/README.md: the signing string and the
 * HMAC-SHA256 header it documents, byte for byte. */
static void test_readme_worked_example(void **state)
{
    static const char value[] = "Hello, sluice!\n";
    static const char meta[] =
        "{\"schema_version\":1,\"upload_id\":\"u-0f3c9a\",\"creator_id\":\"alice\","
        "\"dataset_id\":\"poems\",\"content_type\":\"text/plain; charset=utf-8\","
        "\"license\":{\"expression\":\"CC-BY-4.0\",\"attribution\":\"Alice Example\"},"
        "\"attestation\":{\"version\":1,\"rights_holder\":true},"
        "\"created_at\":\"2026-11-28T09:00:00Z\","
        "\"sha256\":\"f92d4c702f0468329b3387d540bb96bbdecbf45b0cce369b6c381d925636164d\","
        "\"filename\":\"hello.txt\"}";
    static const char secret[] = "secret-of-alice";
    char sha[SL_SHA256_HEX], hdr[160];
    sl_buf tbs;

    (void)state;
    assert_int_equal(sl_sha256_hex(value, strlen(value), sha), SL_OK);
    assert_string_equal(sha, "f92d4c702f0468329b3387d540bb96bbdecbf45b0cce369b6c381d925636164d");
    sl_buf_init(&tbs, 4096);
    assert_int_equal(sl_sig_message(&tbs, sha, (sl_slice){ (const uint8_t *)meta, strlen(meta) }), SL_OK);
    assert_int_equal(tbs.len, strlen("sluice-upload-v1\n") + 64 + 1 + strlen(meta));
    assert_memory_equal(tbs.data, "sluice-upload-v1\nf92d4c70", 25);
    assert_int_equal(sl_sign_header(SL_SIG_HMAC_SHA256, (const uint8_t *)secret,
                                    strlen(secret), tbs.data, tbs.len, hdr,
                                    sizeof(hdr)), SL_OK);
    assert_string_equal(hdr, "hmac-sha256=f32bd80c16b1ac9dad9aad2e65e63b5793d817791c7557fc96f6247c30f46bf4");
    sl_buf_free(&tbs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_readme_worked_example),
        T(test_accept_ed25519),
        T(test_accept_hmac),
        T(test_accept_optional_fields),
        T(test_accept_many),
        T(test_too_large_content),
        T(test_too_large_meta),
        T(test_meta_missing),
        T(test_meta_malformed),
        T(test_meta_invalid),
        T(test_key_mismatch),
        T(test_creator_states),
        T(test_signature_missing),
        T(test_signature_tamper),
        T(test_signature_exact_bytes),
        T(test_signature_wrong_key),
        T(test_signature_scheme_mismatch),
        T(test_signature_format),
        T(test_stale_default_window),
        T(test_stale_configured_window),
        T(test_stale_offsets),
        T(test_hash_mismatch),
        T(test_check_order),
        T(test_replay_registry),
        T(test_replay_txn),
        T(test_rejected_reserves),
        T(test_verify_threads),
        T(test_verify_threads_config),
        T(test_claims_across_restart),
        T(test_replay_request),
        T(test_header_reserved),
        T(test_headers_too_large),
        T(test_duplicate_registry),
        T(test_duplicate_txn),
        T(test_outage_retry),
        T(test_outage_each_lookup),
        T(test_recheck),
        T(test_new_errors),
        T(test_schema_file),
    };

    return cmocka_run_group_tests(tests, group_setup, NULL);
}
