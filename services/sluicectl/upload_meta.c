/*
 * upload_meta.c -- the pure parts of `sluicectl upload`: the sluice-meta
 * JSON (schemas/upload-meta.schema.json, fields in the schema's order),
 * content types by file extension and upload ids.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/rand.h>

#include "ctl.h"

int ctl_meta_build(const ctl_meta_in *in, sl_buf *out, sl_err *err)
{
    json_t *m = NULL, *labels = NULL;
    char *text = NULL;
    int rc = SL_ENOMEM;

    sl_buf_reset(out);
    static const char *const signals[3] = {
        "ai_training", "ai_generative_training", "data_mining"
    };
    json_t *att = NULL;

    m = json_pack("{s:i, s:s, s:s, s:s, s:s, s:{s:s}}",
                  "schema_version", 1,
                  "upload_id", in->upload_id,
                  "creator_id", in->creator_id,
                  "dataset_id", in->dataset_id,
                  "content_type", in->content_type,
                  "license", "expression", in->license);
    if (m && !in->no_attestation) {
        if (!(att = json_pack("{s:i, s:b}", "version", 1, "rights_holder", 1)))
            goto oom;
        for (size_t i = 0; i < 3; i++)
            if (in->usage[i] &&
                json_object_set_new(att, signals[i], json_string(in->usage[i])))
                goto oom;
        if (in->tdm_reservation &&
            json_object_set_new(att, "tdm_reservation", json_true()))
            goto oom;
        rc = json_object_set_new(m, "attestation", att);   /* steals att */
        att = NULL;
        if (rc)
            goto oom;
    }
    if (m && json_object_set_new(m, "created_at", json_string(in->created_at))) {
        json_decref(m);
        m = NULL;
    }
    if (!m) {
        sl_err_set(err, "metadata: a field is not valid UTF-8");
        rc = SL_EINVAL;
        goto out;
    }
    if (in->sha256 && json_object_set_new(m, "sha256", json_string(in->sha256)))
        goto oom;
    if (in->filename) {
        json_t *f = json_string(in->filename);
        if (!f) {
            sl_err_set(err, "metadata: file name is not valid UTF-8");
            rc = SL_EINVAL;
            goto out;
        }
        if (json_object_set_new(m, "filename", f))
            goto oom;
    }
    if (json_object_set_new(m, "size", json_integer((json_int_t)in->size)))
        goto oom;
    if (in->n_labels) {
        if (!(labels = json_object()))
            goto oom;
        for (size_t i = 0; i < in->n_labels; i++) {
            json_t *v = json_string(in->labels[i].value);
            if (!v) {
                sl_err_set(err, "metadata: label %s is not valid UTF-8",
                           in->labels[i].key);
                rc = SL_EINVAL;
                goto out;
            }
            if (json_object_set_new(labels, in->labels[i].key, v)) {
                sl_err_set(err, "metadata: label key \"%s\" is not valid UTF-8",
                           in->labels[i].key);
                rc = SL_EINVAL;
                goto out;
            }
        }
        rc = json_object_set(m, "labels", labels);
        if (rc)
            goto oom;
    }
    if (!(text = json_dumps(m, JSON_COMPACT | JSON_PRESERVE_ORDER)))
        goto oom;
    if ((rc = sl_buf_append(out, text, strlen(text))) == SL_ETOOBIG) {
        sl_err_set(err, "metadata is over %zu bytes", out->max);
        goto out;
    }
    if (rc != SL_OK)
        goto oom;
    rc = SL_OK;
    goto out;
oom:
    rc = SL_ENOMEM;
    sl_err_set(err, "out of memory building metadata");
out:
    free(text);
    json_decref(att);
    json_decref(labels);
    json_decref(m);
    return rc;
}

const char *ctl_content_type(const char *filename)
{
    static const struct { const char *ext, *type; } types[] = {
        { "txt", "text/plain" },
        { "md", "text/markdown" },
        { "json", "application/json" },
        { "csv", "text/csv" },
        { "html", "text/html" },
        { "png", "image/png" },
        { "jpg", "image/jpeg" },
        { "jpeg", "image/jpeg" },
        { "pdf", "application/pdf" },
        { "wav", "audio/wav" },
    };
    const char *base = strrchr(filename, '/');
    const char *dot;

    base = base ? base + 1 : filename;
    dot = strrchr(base, '.');
    if (dot && dot != base)
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
            if (strcasecmp(dot + 1, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

int ctl_random_upload_id(char out[CTL_UPLOAD_ID_LEN])
{
    uint8_t r[16];

    if (RAND_bytes(r, sizeof(r)) != 1)
        return SL_ERR;
    out[0] = 'u';
    out[1] = '-';
    sl_hex_encode(r, sizeof(r), out + 2);
    return SL_OK;
}

/* Ids in time order: every table keyed by upload id (samples,
 * upload_claims, provenance_chains, chain_heads) takes a batch's keys at
 * the right edge of its index, on a page or two, instead of one leaf page
 * each all over it: fewer pages written, split and logged whole after a
 * checkpoint (tests/bench/README.md, "Upload ids in time order").  The
 * time says no more than the metadata's created_at does. */
int ctl_new_upload_id(char out[CTL_UPLOAD_ID_LEN])
{
    uint8_t r[10];

    if (RAND_bytes(r, sizeof(r)) != 1)
        return SL_ERR;
    ctl_upload_id_make(sl_now_ms(), r, out);
    return SL_OK;
}
