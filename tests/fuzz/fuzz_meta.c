/*
 * fuzz_meta.c -- the validate stage on a fuzzed sluice-meta header.
 *
 * The input is the metadata bytes.  The harness plays an honest creator
 * for whatever it is given: the message key is the upload_id the JSON
 * names (when it parses and has one), and the header is signed with the
 * creator's HMAC key over the exact bytes, so the fuzzer gets past the
 * JSON parse, the schema check (common/src/jschema.c on the built-in
 * upload-meta.schema.json), the key and the signature to what validate
 * does with metadata it trusts: the created_at time, the declared hash,
 * the replay and duplicate caches.  Every creator id is registered with
 * that key; nothing was accepted before.
 *
 * Properties beyond "no crash": with a registry that never fails, one
 * upload is emitted or rejected, never retried or fatal; a rejection has
 * a snake_case code and a detail; an emitted upload carries sluice-sha256
 * and a sluice-prov chain that verifies against the content.
 */
#include <jansson.h>

#include "fuzz.h"
#include "sl/config.h"
#include "sl/crypto.h"
#include "sl/msg.h"
#include "sl/prov.h"
#include "validate.h"

static const uint8_t secret[] = "fuzz-creator-secret-0123456789";
static const char content[] = "hello";

static sl_validate *v;
static sl_out *out;
static sl_key *key;
static sl_buf sigmsg;
static char sha[SL_SHA256_HEX];

static int reg_creator(void *u, const char *id, sl_key **k, int *active,
                       int *verified)
{
    (void)u;
    (void)id;
    *k = key;
    *active = 1;
    *verified = 1;
    return SL_OK;
}

static int reg_upload_seen(void *u, const char *id, int *seen)
{
    (void)u;
    (void)id;
    *seen = 0;
    return SL_OK;
}

static int reg_content_seen(void *u, const char *dataset, const char *s,
                            int *seen)
{
    (void)u;
    (void)dataset;
    (void)s;
    *seen = 0;
    return SL_OK;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    sl_validate_lookup lk = { .creator = reg_creator,
                              .upload_seen = reg_upload_seen,
                              .content_seen = reg_content_seen };
    sl_config *cfg = sl_config_new();
    sl_err err = { "" };

    (void)argc;
    (void)argv;
    FUZZ_SETUP(cfg && sl_config_declare(cfg, sl_validate_config) == SL_OK,
               "config");
    key = sl_key_new(SL_SIG_HMAC_SHA256, secret, sizeof(secret) - 1, &err);
    FUZZ_SETUP(key, err.msg);
    FUZZ_SETUP(sl_validate_new(&v, cfg, &lk, &err) == SL_OK, err.msg);
    sl_config_destroy(cfg);   /* the validator copied what it needs */
    FUZZ_SETUP((out = sl_out_new(1 << 20)) != NULL, "sl_out_new");
    sl_buf_init(&sigmsg, 1 << 20);
    FUZZ_SETUP(sl_sha256_hex(content, sizeof(content) - 1, sha) == SL_OK, "sha");
    return 0;
}

static int snake_case(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sl_slice meta = { data, size };
    char sig[256], *upload_id = NULL;
    sl_header hdr[2];
    sl_msg in = { 0 };
    sl_verdict verdict;
    json_t *doc;
    json_error_t jerr;

    doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (json_is_string(json_object_get(doc, "upload_id")))
        upload_id = strdup(json_string_value(json_object_get(doc, "upload_id")));
    json_decref(doc);

    FUZZ_CHECK(sl_sig_message(&sigmsg, sha, meta) == SL_OK, "sig message");
    FUZZ_CHECK(sl_sign_header(SL_SIG_HMAC_SHA256, secret, sizeof(secret) - 1,
                              sigmsg.data, sigmsg.len, sig, sizeof(sig)) == SL_OK,
               "sign");
    hdr[0] = (sl_header){ SL_H_META, meta };
    hdr[1] = (sl_header){ SL_H_SIG, { (const uint8_t *)sig, strlen(sig) } };
    in.key = upload_id ? (sl_slice){ (const uint8_t *)upload_id, strlen(upload_id) }
                       : (sl_slice){ (const uint8_t *)"k", 1 };
    in.value = (sl_slice){ (const uint8_t *)content, sizeof(content) - 1 };
    in.headers = hdr;
    in.n_headers = 2;
    in.topic = "sluice.uploads";
    in.offset = 1;
    in.timestamp_ms = -1;

    sl_out_reset(out);
    verdict = sl_validate_process(v, &in, out);
    FUZZ_CHECK(verdict == SL_EMIT || verdict == SL_REJECT, "verdict %s",
               sl_verdict_name(verdict));
    if (verdict == SL_REJECT) {
        FUZZ_CHECK(snake_case(sl_out_reject_code(out)), "code \"%s\"",
                   sl_out_reject_code(out) ? sl_out_reject_code(out) : "(null)");
        FUZZ_CHECK(sl_out_reject_detail(out) && *sl_out_reject_detail(out),
                   "empty detail for %s", sl_out_reject_code(out));
    } else {
        sl_slice h, p;
        sl_err err = { "" };

        FUZZ_CHECK(sl_out_header(out, SL_H_SHA256, &h) == SL_OK && h.len == 64 &&
                   memcmp(h.ptr, sha, 64) == 0, "sluice-sha256");
        FUZZ_CHECK(sl_out_header(out, SL_H_PROV, &p) == SL_OK, "no sluice-prov");
        FUZZ_CHECK(sl_prov_verify(p, sha, &err) == SL_OK, "prov: %s", err.msg);
    }
    /* Forget this upload: each input is judged as the first of its id. */
    sl_validate_txn_end(v, 0);
    free(upload_id);
    return 0;
}
