/*
 * fixtures.c -- see fixtures.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sl/prov.h"
#include "sl/timeutil.h"
#include "fixtures.h"
#include "validate.h"

void fx_msg_init(fx_msg *m, const char *key, const void *value, size_t len)
{
    memset(m, 0, sizeof(*m));
    if (key) {
        m->key = (uint8_t *)strdup(key);
        m->msg.key.ptr = m->key;
        m->msg.key.len = strlen(key);
    }
    m->value = malloc(len + 1);
    memcpy(m->value, value, len);
    m->msg.value.ptr = m->value;
    m->msg.value.len = len;
    m->msg.headers = m->hdr;
    m->msg.topic = "sluice.uploads";
    m->msg.partition = 0;
    m->msg.offset = 42;
    m->msg.timestamp_ms = -1;
    m->msg.run_index = SL_RUN_NONE;
}

void fx_msg_header(fx_msg *m, const char *name, const void *v, size_t len)
{
    size_t i = m->msg.n_headers++;

    m->names[i] = strdup(name);
    m->vals[i] = malloc(len + 1);
    memcpy(m->vals[i], v, len);
    m->hdr[i].name = m->names[i];
    m->hdr[i].value.ptr = m->vals[i];
    m->hdr[i].value.len = len;
}

void fx_msg_header_str(fx_msg *m, const char *name, const char *v)
{
    fx_msg_header(m, name, v, strlen(v));
}

void fx_msg_free(fx_msg *m)
{
    for (size_t i = 0; i < m->msg.n_headers; i++) {
        free(m->names[i]);
        free(m->vals[i]);
    }
    free(m->key);
    free(m->value);
    memset(m, 0, sizeof(*m));
}

char *fx_meta(const char *upload_id, const char *creator, const char *dataset,
              const char *sha)
{
    char ts[SL_TIME_LEN], shafield[100] = "";
    char *out = malloc(2048);

    sl_time_format(sl_now_ms(), ts);
    if (sha)
        snprintf(shafield, sizeof(shafield), ",\"sha256\":\"%s\"", sha);
    snprintf(out, 2048,
             "{\"schema_version\":1,\"upload_id\":\"%s\",\"creator_id\":\"%s\","
             "\"dataset_id\":\"%s\",\"content_type\":\"text/plain\","
             "\"license\":{\"expression\":\"CC-BY-4.0\"},"
             "\"attestation\":{\"version\":1,\"rights_holder\":true},"
             "\"created_at\":\"%s\"%s}", upload_id, creator, dataset, ts, shafield);
    return out;
}

void fx_upload(fx_msg *m, const char *upload_id, const char *creator,
               const char *dataset, const char *content, const char *meta,
               sl_sig_alg alg, const uint8_t *priv, size_t privlen)
{
    char sha[SL_SHA256_HEX], sig[256];
    char *own = NULL;
    sl_buf msg;

    sl_sha256_hex(content, strlen(content), sha);
    if (!meta)
        meta = own = fx_meta(upload_id, creator, dataset, sha);
    fx_msg_init(m, upload_id, content, strlen(content));
    fx_msg_header_str(m, SL_H_META, meta);
    sl_buf_init(&msg, 1 << 20);
    sl_sig_message(&msg, sha, (sl_slice){ (const uint8_t *)meta, strlen(meta) });
    sl_sign_header(alg, priv, privlen, msg.data, msg.len, sig, sizeof(sig));
    fx_msg_header_str(m, SL_H_SIG, sig);
    sl_buf_free(&msg);
    free(own);
}

/* ---- in-memory registry ---- */

#define FX_MAX 64

struct fx_registry {
    struct {
        char id[64];
        sl_key *key;
        int active, verified;
    } creators[FX_MAX];
    size_t n;
    char accepted[FX_MAX][3][128];
    size_t n_acc;
    int fail;
};

fx_registry *fx_registry_new(void)
{
    return calloc(1, sizeof(fx_registry));
}

void fx_registry_add(fx_registry *r, const char *id, sl_sig_alg alg,
                     const uint8_t *raw, size_t len, int active, int verified)
{
    sl_err err;

    snprintf(r->creators[r->n].id, 64, "%s", id);
    r->creators[r->n].key = sl_key_new(alg, raw, len, &err);
    r->creators[r->n].active = active;
    r->creators[r->n].verified = verified;
    r->n++;
}

void fx_registry_accept(fx_registry *r, const char *upload_id,
                        const char *dataset, const char *sha)
{
    snprintf(r->accepted[r->n_acc][0], 128, "%s", upload_id);
    snprintf(r->accepted[r->n_acc][1], 128, "%s", dataset);
    snprintf(r->accepted[r->n_acc][2], 128, "%s", sha);
    r->n_acc++;
}

void fx_registry_fail(fx_registry *r, int fail)
{
    r->fail = fail;
}

static int reg_creator(void *u, const char *id, sl_key **key, int *active,
                       int *verified)
{
    fx_registry *r = u;

    if (r->fail)
        return SL_EIO;
    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(r->creators[i].id, id) == 0) {
            *key = r->creators[i].key;
            *active = r->creators[i].active;
            *verified = r->creators[i].verified;
            return SL_OK;
        }
    }
    return SL_ENOTFOUND;
}

static int reg_upload_seen(void *u, const char *upload_id, int *seen)
{
    fx_registry *r = u;

    *seen = 0;
    if (r->fail)
        return SL_EIO;
    for (size_t i = 0; i < r->n_acc; i++)
        *seen |= strcmp(r->accepted[i][0], upload_id) == 0;
    return SL_OK;
}

static int reg_content_seen(void *u, const char *dataset, const char *sha, int *seen)
{
    fx_registry *r = u;

    *seen = 0;
    if (r->fail)
        return SL_EIO;
    for (size_t i = 0; i < r->n_acc; i++)
        *seen |= strcmp(r->accepted[i][1], dataset) == 0 &&
                 strcmp(r->accepted[i][2], sha) == 0;
    return SL_OK;
}

static void reg_destroy(void *u)
{
    fx_registry *r = u;

    for (size_t i = 0; i < r->n; i++)
        sl_key_destroy(r->creators[i].key);
    free(r);
}

void fx_registry_lookup(fx_registry *r, sl_validate_lookup *lk)
{
    lk->u = r;
    lk->creator = reg_creator;
    lk->upload_seen = reg_upload_seen;
    lk->content_seen = reg_content_seen;
    lk->recheck = NULL;
    lk->destroy = reg_destroy;
}

sl_config *fx_config(const sl_cfg_entry *map)
{
    sl_config *cfg = sl_config_new();

    sl_config_declare(cfg, map);
    return cfg;
}

int fx_msg_header_index(const fx_msg *m, const char *name)
{
    for (size_t i = m->msg.n_headers; i-- > 0;)
        if (strcmp(m->names[i], name) == 0)
            return (int)i;
    return -1;
}

void fx_msg_drop_header(fx_msg *m, const char *name)
{
    int i;

    while ((i = fx_msg_header_index(m, name)) >= 0) {
        size_t n = m->msg.n_headers;
        free(m->names[i]);
        free(m->vals[i]);
        for (size_t j = (size_t)i; j + 1 < n; j++) {
            m->names[j] = m->names[j + 1];
            m->vals[j] = m->vals[j + 1];
            m->hdr[j] = m->hdr[j + 1];
        }
        m->msg.n_headers--;
    }
}

void fx_put(fx_buf *b, const void *p, size_t n)
{
    b->p = realloc(b->p, b->n + n + 1);
    assert_non_null(b->p);
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

void fx_puts(fx_buf *b, const char *s)
{
    fx_put(b, s, strlen(s));
}

void fx_put_be32(fx_buf *b, uint32_t v)
{
    uint8_t q[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
                     (uint8_t)v };

    fx_put(b, q, 4);
}

void fx_put_le32(fx_buf *b, uint32_t v)
{
    uint8_t q[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
                     (uint8_t)(v >> 24) };

    fx_put(b, q, 4);
}

/* The file at path in a buffer of its size plus `extra` zero bytes. */
static uint8_t *read_whole(const char *path, size_t extra, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    uint8_t *p;
    long n;

    if (!fp)
        fail_msg("cannot open %s", path);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    n = ftell(fp);
    assert_true(n >= 0);
    rewind(fp);
    p = calloc((size_t)n + extra > 0 ? (size_t)n + extra : 1, 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    *len = (size_t)n;
    return p;
}

uint8_t *fx_read_file(const char *path, size_t *len)
{
    return read_whole(path, 0, len);
}

char *fx_read_text(const char *path, size_t *len)
{
    return (char *)read_whole(path, 1, len);
}

uint8_t *fx_fixture(const char *name, size_t *len)
{
    char path[512];

    assert_true((size_t)snprintf(path, sizeof(path), "%s/tests/fixtures/%s",
                                 SL_SOURCE_DIR, name) < sizeof(path));
    return fx_read_file(path, len);
}

json_t *fx_check_prov(const sl_out *out, const char *origin,
                      const char *const *stages, const char *outcome,
                      const char *reason, const char *input_sha)
{
    const char *canonical = NULL, *stage, *got_outcome = NULL;
    sl_slice chain;
    sl_err err = { "" };
    sl_prov_chain *pc;
    json_t *ev, *r;
    int64_t seq;
    size_t n = 0;

    while (stages[n])
        n++;
    assert_true(n > 0);
    assert_int_equal(sl_out_header(out, SL_H_PROV, &chain), SL_OK);
    if (sl_prov_verify(chain, origin, &err) != SL_OK)
        fail_msg("provenance chain does not verify: %s", err.msg);
    pc = sl_prov_parse(chain, &err);
    assert_non_null(pc);
    assert_int_equal(sl_prov_count(pc), n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(sl_prov_get(pc, i, &canonical, NULL, &stage,
                                     &got_outcome, &seq), SL_OK);
        assert_string_equal(stage, stages[i]);
        assert_int_equal(seq, (int64_t)(i + 1));
    }
    assert_string_equal(got_outcome, outcome);
    ev = json_loads(canonical, 0, NULL);
    assert_non_null(ev);
    sl_prov_chain_destroy(pc);
    r = json_object_get(ev, "reason");
    if (reason)
        assert_string_equal(json_string_value(r), reason);
    else
        assert_true(json_is_null(r));
    assert_string_equal(json_string_value(json_object_get(ev, "input_sha256")),
                        input_sha);
    return ev;
}

void fx_check_event_upload_id(const json_t *ev, const char *upload_id)
{
    const json_t *r = json_object_get(ev, "upload_id");

    if (upload_id)
        assert_string_equal(json_string_value(r), upload_id);
    else
        assert_true(json_is_null(r));
}
