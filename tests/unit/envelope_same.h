/*
 * envelope_same.h -- compares two reads of one message by
 * sl_envelope_read_with(): the event-parser path and jansson's must agree
 * on every state, detail and member (test_envelope, fuzz_envelope).
 */
#ifndef SL_TEST_ENVELOPE_SAME_H
#define SL_TEST_ENVELOPE_SAME_H

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sl/envelope.h"

static inline int env_same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* NULL when a and b say the same; else the first member that differs.
 * with_att: compare the attestations too (both read with
 * SL_ENV_ATTESTATION). */
static inline const char *env_differs(const sl_envelope *a, const sl_envelope *b,
                                      int with_att)
{
#define ENV_STR(f) if (!env_same_str(a->f, b->f)) return #f
    if (strcmp(a->sha256, b->sha256) != 0)
        return "sha256";
    if (a->meta_state != b->meta_state)
        return "meta_state";
    if (strcmp(a->meta_detail, b->meta_detail) != 0)
        return "meta_detail";
    if (a->meta.ptr != b->meta.ptr || a->meta.len != b->meta.len)
        return "meta";
    ENV_STR(upload_id);
    ENV_STR(creator_id);
    ENV_STR(dataset_id);
    ENV_STR(content_type);
    ENV_STR(created_at);
    ENV_STR(declared_sha256);
    ENV_STR(filename);
    ENV_STR(license_expression);
    ENV_STR(license_terms_url);
    ENV_STR(license_attribution);
    if (a->meta_state == SL_META_OK && a->created_us != b->created_us)
        return "created_us";
    if (with_att && !((!a->attestation && !b->attestation) ||
                      json_equal((json_t *)a->attestation,
                                 (json_t *)b->attestation)))
        return "attestation";
    if (a->scan_state != b->scan_state)
        return "scan_state";
    if (a->scan.ptr != b->scan.ptr || a->scan.len != b->scan.len)
        return "scan";
    ENV_STR(scan_outcome);
    ENV_STR(detected_type);
    if (strcmp(a->original_sha256, b->original_sha256) != 0)
        return "original_sha256";
    if (strcmp(a->redacted_sha256, b->redacted_sha256) != 0)
        return "redacted_sha256";
    return NULL;
#undef ENV_STR
}

/* NULL when a and b hold the same metadata document, members in the same
 * order (what a schema check iterates); else "meta_doc". */
static inline const char *env_doc_differs(const sl_envelope *a, const sl_envelope *b)
{
    char *ta, *tb;
    int same;

    if (!a->meta_doc || !b->meta_doc)
        return a->meta_doc == b->meta_doc ? NULL : "meta_doc";
    ta = json_dumps(a->meta_doc, JSON_COMPACT | JSON_ENCODE_ANY);
    tb = json_dumps(b->meta_doc, JSON_COMPACT | JSON_ENCODE_ANY);
    same = ta && tb && strcmp(ta, tb) == 0;
    free(ta);
    free(tb);
    return same ? NULL : "meta_doc";
}

#endif
