/*
 * commit.c -- the commit stage's pure part: message -> row description.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl/prov.h"
#include "commit.h"

static char *dup_slice(sl_slice s)
{
    char *p = malloc(s.len + 1);

    if (!p)
        return NULL;
    if (s.len)
        memcpy(p, s.ptr, s.len);
    p[s.len] = '\0';
    return p;
}

static char *dup_str(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Header value as a NUL-terminated copy, or NULL when absent. */
static char *header_copy(const sl_msg *m, const char *name)
{
    sl_slice v;

    if (sl_msg_header(m, name, &v) != SL_OK || !v.ptr)
        return NULL;
    return dup_slice(v);
}

static int64_t header_int(const sl_msg *m, const char *name, int64_t def)
{
    char *s = header_copy(m, name), *end;
    long long v;

    if (!s)
        return def;
    v = strtoll(s, &end, 10);
    if (end == s || *end)
        v = def;
    free(s);
    return v;
}

void sl_commit_row_clear(sl_commit_row *r)
{
    free(r->upload_id);
    free(r->creator_id);
    free(r->dataset_id);
    free(r->content_type);
    free(r->license_expression);
    free(r->filename);
    free(r->created_at);
    free(r->signature);
    free(r->stage);
    free(r->code);
    free(r->detail);
    free(r->source_topic);
    free(r->detected_type);
    free(r->scan);
    free(r->license);
    sl_prov_chain_destroy(r->chain);
    memset(r, 0, sizeof(*r));
}

int sl_commit_row_reject(sl_commit_row *r, const char *code, const char *detail)
{
    free(r->stage);
    free(r->code);
    free(r->detail);
    r->kind = SL_ROW_REJECTION;
    r->stage = strdup("commit");
    r->code = strdup(code);
    r->detail = strdup(detail);
    r->rejected_ms = sl_now_ms();
    return r->stage && r->code && r->detail ? SL_OK : SL_ENOMEM;
}

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* Fills identity fields from metadata, as far as it parses. */
static json_t *read_meta(const sl_msg *m, sl_commit_row *r)
{
    json_t *doc;

    if (sl_msg_header(m, SL_H_META, &r->meta) != SL_OK || !r->meta.ptr) {
        r->meta.ptr = NULL;
        r->meta.len = 0;
        return NULL;
    }
    doc = json_loadb((const char *)r->meta.ptr, r->meta.len, 0, NULL);
    if (doc && !json_is_object(doc)) {
        json_decref(doc);
        return NULL;
    }
    if (doc) {
        r->upload_id = dup_str(jstr(doc, "upload_id"));
        r->creator_id = dup_str(jstr(doc, "creator_id"));
        r->dataset_id = dup_str(jstr(doc, "dataset_id"));
    }
    return doc;
}

const char *sl_commit_row_origin(const sl_commit_row *r)
{
    return r->original_sha256[0] ? r->original_sha256 : r->sha256;
}

/* Reads the scan stage's header, if any: detected type, the JSON kept as
 * is for the database, whether the sample was flagged, and the signed
 * content's hash when the bytes were redacted.  Returns 1 when the header
 * is present but unusable. */
static int read_scan(const sl_msg *m, sl_commit_row *r, int *flagged)
{
    json_t *doc;
    const char *outcome, *orig;
    sl_slice v;

    *flagged = 0;
    if (sl_msg_header(m, SL_H_SCAN, &v) != SL_OK || !v.ptr)
        return 0;
    doc = json_loadb((const char *)v.ptr, v.len, JSON_REJECT_DUPLICATES, NULL);
    outcome = jstr(doc, "outcome");
    orig = jstr(doc, "original_sha256");
    if (!json_is_object(doc) || !outcome ||
        (orig && strlen(orig) != SL_SHA256_HEX - 1)) {
        json_decref(doc);
        return 1;
    }
    *flagged = strcmp(outcome, "flagged") == 0;
    if (orig)
        memcpy(r->original_sha256, orig, SL_SHA256_HEX);
    r->detected_type = dup_str(jstr(doc, "detected_type"));
    r->scan = dup_slice(v);
    json_decref(doc);
    return 0;
}

/* Keeps the incoming chain if it parses and verifies from the row's origin
 * hash; copy_provenance restarts a missing or broken one. */
static void verify_chain(sl_commit_row *r)
{
    sl_err perr;

    sl_prov_chain_destroy(r->chain);
    r->chain = NULL;
    if (!r->prov.ptr)
        return;
    r->chain = sl_prov_parse(r->prov, &perr);
    if (r->chain && sl_prov_chain_verify(r->chain, sl_commit_row_origin(r),
                                         &perr) != SL_OK) {
        sl_prov_chain_destroy(r->chain);
        r->chain = NULL;
    }
}

/* A dead letter names the refused value's SHA-256 and size (the runner
 * withholds the value when it is too large or blocked); they replace the
 * hash and size of the bytes received.  1 when they did. */
static int reject_value(const sl_msg *m, sl_commit_row *r)
{
    int64_t size = header_int(m, SL_H_REJ_VALUE_SIZE, -1);
    sl_slice h;

    if (sl_msg_header(m, SL_H_REJ_VALUE_SHA256, &h) != SL_OK || !h.ptr ||
        h.len != SL_SHA256_HEX - 1 || size < 0)
        return 0;
    for (size_t i = 0; i < h.len; i++)
        if (!((h.ptr[i] >= '0' && h.ptr[i] <= '9') ||
              (h.ptr[i] >= 'a' && h.ptr[i] <= 'f')))
            return 0;
    memcpy(r->sha256, h.ptr, h.len);
    r->sha256[h.len] = '\0';
    r->size = size;
    return 1;
}

int sl_commit_describe(const sl_msg *m, sl_commit_row *r)
{
    json_t *doc, *lic;
    char *code;
    sl_err err;
    int flagged = 0, scan_bad;

    memset(r, 0, sizeof(*r));
    r->content = m->value;
    r->size = (int64_t)m->value.len;
    if (sl_sha256_hex(m->value.ptr, m->value.len, r->sha256) != SL_OK)
        return SL_ENOMEM;
    if (sl_msg_header(m, SL_H_PROV, &r->prov) != SL_OK) {
        r->prov.ptr = NULL;
        r->prov.len = 0;
    }
    scan_bad = read_scan(m, r, &flagged);
    /* Parsed and verified once; copy_provenance continues a valid chain
     * and restarts a broken one (a sample with one is refused below). */
    verify_chain(r);
    doc = read_meta(m, r);
    if (!r->upload_id && m->key.len && m->key.len < SL_ID_MAX)
        r->upload_id = dup_slice(m->key);

    code = header_copy(m, SL_H_REJ_CODE);
    if (code) {
        /* A dead letter from an earlier stage. */
        r->kind = SL_ROW_REJECTION;
        r->code = code;
        if (reject_value(m, r))
            verify_chain(r);   /* it starts at the refused value's hash */
        r->stage = header_copy(m, SL_H_REJ_STAGE);
        r->detail = header_copy(m, SL_H_REJ_DETAIL);
        r->source_topic = header_copy(m, SL_H_REJ_TOPIC);
        r->source_partition = (int32_t)header_int(m, SL_H_REJ_PART, m->partition);
        r->source_offset = header_int(m, SL_H_REJ_OFFSET, m->offset);
        r->rejected_ms = header_int(m, SL_H_REJ_TIME, sl_now_ms());
        if (!r->stage)
            r->stage = strdup("unknown");
        if (!r->detail)
            r->detail = strdup("");
        if (!r->source_topic) {   /* keep the identity unique regardless */
            r->source_topic = strdup(m->topic);
            r->source_partition = m->partition;
            r->source_offset = m->offset;
        }
        json_decref(doc);
        return r->stage && r->detail && r->source_topic ? SL_OK : SL_ENOMEM;
    }

    r->kind = flagged ? SL_ROW_REVIEW : SL_ROW_SAMPLE;
    r->source_topic = strdup(m->topic);
    r->source_partition = m->partition;
    r->source_offset = m->offset;
    if (!r->source_topic)
        goto nomem;
    /* The upload id must be the metadata's own: the key fallback above is
     * for dead letters only. */
    if (!doc || !jstr(doc, "upload_id") || !r->upload_id || !r->creator_id ||
        !r->dataset_id ||
        !jstr(doc, "content_type") || !jstr(doc, "created_at") ||
        !(lic = json_object_get(doc, "license")) || !jstr(lic, "expression")) {
        json_decref(doc);
        return sl_commit_row_reject(r, "meta_invalid",
                                    "sample reached commit without usable metadata");
    }
    r->content_type = dup_str(jstr(doc, "content_type"));
    r->created_at = dup_str(jstr(doc, "created_at"));
    r->license_expression = dup_str(jstr(lic, "expression"));
    r->filename = dup_str(jstr(doc, "filename"));
    r->signature = header_copy(m, SL_H_SIG);
    r->license = header_copy(m, SL_H_LICENSE);
    json_decref(doc);
    if (!r->content_type || !r->created_at || !r->license_expression)
        goto nomem;
    if (!r->signature)
        return sl_commit_row_reject(r, "signature_missing",
                                    "sample reached commit without its signature");
    if (scan_bad)
        return sl_commit_row_reject(r, "scan_invalid",
                                    "sluice-scan header is not a scan result");
    if (!r->prov.ptr)
        return sl_commit_row_reject(r, "provenance_invalid",
                                    "sample reached commit without a provenance chain");
    if (!r->chain) {
        (void)sl_prov_verify(r->prov, r->sha256, &err);   /* for the detail */
        char detail[SL_ERRBUF_SIZE + 64];
        snprintf(detail, sizeof(detail), "provenance chain broken: %s", err.msg);
        return sl_commit_row_reject(r, "provenance_invalid", detail);
    }
    return SL_OK;
nomem:
    return SL_ENOMEM;
}
