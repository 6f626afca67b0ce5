/*
 * redact_stored.c -- sl_redact of a stored flagged sample with its stored
 * findings (see redact_stored.h).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "redact_stored.h"

int sl_redact_stored(const uint8_t *bytes, size_t len, const char *findings_json,
                     const sl_rules *rules, sl_buf *out, sl_err *err)
{
    json_t *doc = NULL, *list, *f;
    sl_scanner *sc = NULL;
    sl_findings all, keep;
    size_t i;
    int rc = SL_EINVAL;

    sl_findings_init(&all, SL_FINDINGS_DEFAULT_MAX);
    sl_findings_init(&keep, SL_FINDINGS_DEFAULT_MAX);
    doc = findings_json ? json_loads(findings_json, JSON_REJECT_DUPLICATES, NULL) : NULL;
    list = json_is_array(doc) ? doc : json_object_get(doc, "findings");
    if (!json_is_array(list) || json_array_size(list) == 0) {
        sl_err_set(err, "redaction: no list of findings to redact");
        goto out;
    }
    if (!(sc = sl_scanner_new(rules))) {
        rc = SL_ENOMEM;
        goto out;
    }
    if ((rc = sl_scan_text(sc, bytes, len, &all)) != SL_OK) {
        sl_err_set(err, "redaction: the bytes cannot be scanned again (%s)",
                   sl_strerror(rc));
        rc = rc == SL_ENOMEM ? rc : SL_EINVAL;
        goto out;
    }
    keep.items = calloc(all.count ? all.count : 1, sizeof(*keep.items));
    if (!keep.items) {
        rc = SL_ENOMEM;
        goto out;
    }
    keep.cap = all.count ? all.count : 1;
    json_array_foreach(list, i, f) {
        const char *rule = json_string_value(json_object_get(f, "rule"));
        const char *source = json_string_value(json_object_get(f, "source"));
        json_int_t off = json_integer_value(json_object_get(f, "offset"));
        json_int_t flen = json_integer_value(json_object_get(f, "length"));
        size_t idx, k;

        rc = SL_EINVAL;
        if (!rule || !json_is_integer(json_object_get(f, "offset")) ||
            !json_is_integer(json_object_get(f, "length")) || off < 0 || flen <= 0) {
            sl_err_set(err, "redaction: finding %zu lacks its rule, offset or "
                       "length", i);
            goto out;
        }
        if (source && strcmp(source, "content") != 0) {
            sl_err_set(err, "redaction: finding %zu (%s) is in %s, not in the "
                       "text", i, rule, source);
            goto out;
        }
        if (sl_rules_find(rules, rule, &idx) != SL_OK) {
            sl_err_set(err, "redaction: finding %zu names rule %s, which these "
                       "rules do not have", i, rule);
            goto out;
        }
        for (k = 0; k < all.count; k++)
            if (all.items[k].rule == idx && all.items[k].offset == (size_t)off &&
                all.items[k].length == (size_t)flen)
                break;
        if (k == all.count) {
            sl_err_set(err, "redaction: finding %zu (%s at byte %" PRId64 ", length "
                       "%" PRId64 ") is not found in these bytes again", i, rule,
                       (int64_t)off, (int64_t)flen);
            goto out;
        }
        /* kept in the scan's order (sorted, never overlapping), once each */
        if (keep.count == 0 || keep.items[keep.count - 1].offset < all.items[k].offset)
            keep.items[keep.count++] = all.items[k];
        else {
            size_t j = keep.count;
            while (j > 0 && keep.items[j - 1].offset > all.items[k].offset)
                j--;
            if (j > 0 && keep.items[j - 1].offset == all.items[k].offset)
                continue;   /* named twice */
            memmove(&keep.items[j + 1], &keep.items[j],
                    (keep.count - j) * sizeof(*keep.items));
            keep.items[j] = all.items[k];
            keep.count++;
        }
    }
    rc = sl_redact(bytes, len, &keep, rules, out);
    if (rc != SL_OK)
        sl_err_set(err, "redaction: %s", sl_strerror(rc));
out:
    sl_findings_free(&all);
    sl_findings_free(&keep);
    sl_scanner_destroy(sc);
    json_decref(doc);
    return rc;
}
