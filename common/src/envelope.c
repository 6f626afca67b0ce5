/*
 * envelope.c -- reads an upload's value hash, sluice-meta and sluice-scan
 * once, by the one set of rules sl/envelope.h states.
 */
#include <stdio.h>
#include <string.h>

#include "sl/envelope.h"
#include "sl/json.h"
#include "sl/timeutil.h"

void sl_envelope_clear(sl_envelope *e)
{
    json_decref(e->meta_doc);
    json_decref(e->scan_doc);
    memset(e, 0, sizeof(*e));
}

/* The members every stage reads, and the rules they must meet. */
static void meta_fields(sl_envelope *e)
{
    static const char *const required[] = {
        "upload_id", "creator_id", "dataset_id", "content_type", "created_at",
    };
    const json_t *doc = e->meta_doc, *lic = json_object_get(doc, "license");
    const json_t *declared = json_object_get(doc, "sha256");

    e->upload_id = sl_json_str(doc, "upload_id");
    e->creator_id = sl_json_str(doc, "creator_id");
    e->dataset_id = sl_json_str(doc, "dataset_id");
    e->content_type = sl_json_str(doc, "content_type");
    e->created_at = sl_json_str(doc, "created_at");
    e->declared_sha256 = sl_json_str(doc, "sha256");
    e->filename = sl_json_str(doc, "filename");
    e->license_expression = sl_json_str(lic, "expression");
    e->license_terms_url = sl_json_str(lic, "terms_url");
    e->license_attribution = sl_json_str(lic, "attribution");
    e->attestation = json_object_get(doc, "attestation");

    e->meta_state = SL_META_INVALID;
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
        if (!sl_json_str(doc, required[i])) {
            snprintf(e->meta_detail, sizeof(e->meta_detail),
                     "%s has no %s string", SL_H_META, required[i]);
            return;
        }
    if (declared && !sl_hex64_ok(e->declared_sha256)) {
        snprintf(e->meta_detail, sizeof(e->meta_detail), "%s sha256 is not "
                 "64 lowercase hex digits", SL_H_META);
        return;
    }
    if (sl_time_parse_us(e->created_at, strlen(e->created_at),
                         &e->created_us) != SL_OK) {
        e->meta_state = SL_META_BAD_TIME;
        snprintf(e->meta_detail, sizeof(e->meta_detail), "%s created_at is "
                 "not a storable RFC 3339 date-time", SL_H_META);
        return;
    }
    e->meta_state = SL_META_OK;
}

static int read_meta(sl_envelope *e, const sl_msg *m)
{
    json_error_t jerr;

    if (sl_msg_header(m, SL_H_META, &e->meta) != SL_OK || !e->meta.ptr) {
        e->meta = (sl_slice){ NULL, 0 };
        e->meta_state = SL_META_ABSENT;
        snprintf(e->meta_detail, sizeof(e->meta_detail), "no %s header", SL_H_META);
        return SL_OK;
    }
    e->meta_doc = json_loadb((const char *)e->meta.ptr, e->meta.len,
                             JSON_REJECT_DUPLICATES, &jerr);
    if (!e->meta_doc) {
        if (json_error_code(&jerr) == json_error_out_of_memory)
            return SL_ENOMEM;
        e->meta_state = SL_META_MALFORMED;
        snprintf(e->meta_detail, sizeof(e->meta_detail), "%s is not valid "
                 "JSON: %s at line %d column %d", SL_H_META, jerr.text,
                 jerr.line, jerr.column);
        return SL_OK;
    }
    if (!json_is_object(e->meta_doc)) {
        json_decref(e->meta_doc);
        e->meta_doc = NULL;
        e->meta_state = SL_META_MALFORMED;
        snprintf(e->meta_detail, sizeof(e->meta_detail), "%s must be a JSON "
                 "object", SL_H_META);
        return SL_OK;
    }
    meta_fields(e);
    return SL_OK;
}

/* A hash member of the scan result: absent, or 64 lowercase hex digits
 * copied into out.  0 when present and anything else. */
static int scan_hash(const json_t *doc, const char *key, char out[SL_SHA256_HEX])
{
    const json_t *v = json_object_get(doc, key);

    out[0] = '\0';
    if (!v)
        return 1;
    if (!sl_hex64_ok(json_string_value(v)))
        return 0;
    memcpy(out, json_string_value(v), SL_SHA256_HEX);
    return 1;
}

static void read_scan(sl_envelope *e, const sl_msg *m)
{
    json_t *doc;

    if (sl_msg_header(m, SL_H_SCAN, &e->scan) != SL_OK || !e->scan.ptr) {
        e->scan = (sl_slice){ NULL, 0 };
        e->scan_state = SL_SCANHDR_ABSENT;
        return;
    }
    e->scan_state = SL_SCANHDR_INVALID;
    doc = json_loadb((const char *)e->scan.ptr, e->scan.len,
                     JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(doc) || !sl_json_str(doc, "outcome") ||
        !scan_hash(doc, "original_sha256", e->original_sha256) ||
        !scan_hash(doc, "redacted_sha256", e->redacted_sha256)) {
        e->original_sha256[0] = e->redacted_sha256[0] = '\0';
        json_decref(doc);
        return;
    }
    e->scan_doc = doc;
    e->scan_outcome = sl_json_str(doc, "outcome");
    e->detected_type = sl_json_str(doc, "detected_type");
    e->scan_state = SL_SCANHDR_OK;
}

int sl_envelope_read(sl_envelope *e, const sl_msg *m)
{
    int rc;

    memset(e, 0, sizeof(*e));
    /* The value is bounded by the broker's message.max.bytes. */
    if (sl_sha256_hex(m->value.ptr, m->value.len, e->sha256) != SL_OK)
        return SL_ENOMEM;
    if ((rc = read_meta(e, m)) != SL_OK)
        return rc;
    read_scan(e, m);
    return SL_OK;
}

const char *sl_envelope_origin(const sl_envelope *e)
{
    return e->original_sha256[0] ? e->original_sha256 : e->sha256;
}

/* The key as an id: 1..255 bytes of UTF-8 without NUL (it goes into
 * provenance events and text columns). */
static int key_usable(sl_slice k)
{
    json_t *s;

    if (!k.len || k.len > 255 || memchr(k.ptr, '\0', k.len))
        return 0;
    if (!(s = json_stringn((const char *)k.ptr, k.len)))
        return 0;
    json_decref(s);
    return 1;
}

const char *sl_envelope_upload_id(const sl_envelope *e, const sl_msg *m,
                                  size_t *len)
{
    if (e->upload_id) {
        *len = strlen(e->upload_id);
        return e->upload_id;
    }
    if (key_usable(m->key)) {
        *len = m->key.len;
        return (const char *)m->key.ptr;
    }
    *len = 0;
    return NULL;
}
