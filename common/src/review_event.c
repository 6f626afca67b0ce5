/*
 * review_event.c -- a moderator's decision as a provenance event (see
 * review_event.h): the stored chain checked, the event appended with
 * sl_prov_append, the relay's sluice-prov header and the informative
 * sluice-review header built.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sl/review_event.h"

static int str_eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* The stored rows as a sluice-prov array, into out. */
static int stored_array(const sl_review_stored *evs, size_t n, sl_buf *out,
                        sl_err *err)
{
    json_t *arr = json_array();
    char *text = NULL;
    int rc = SL_ENOMEM;

    if (!arr)
        goto out;
    for (size_t i = 0; i < n; i++) {
        json_t *one;
        if (!evs[i].canonical || !evs[i].hash) {
            sl_err_set(err, "review event: stored event %zu lacks its text or "
                       "hash", i + 1);
            rc = SL_EINVAL;
            goto out;
        }
        one = json_pack("{s:s, s:s}", "event", evs[i].canonical, "hash",
                        evs[i].hash);
        if (!one) {
            sl_err_set(err, "review event: stored event %zu is not UTF-8 text",
                       i + 1);
            rc = SL_EINVAL;
            goto out;
        }
        if (json_array_append_new(arr, one) != 0)
            goto out;
    }
    if (!(text = json_dumps(arr, JSON_COMPACT)))
        goto out;
    sl_buf_reset(out);
    rc = sl_buf_append(out, text, strlen(text));
out:
    if (rc == SL_ENOMEM)
        sl_err_set(err, "review event: out of memory");
    free(text);
    json_decref(arr);
    return rc;
}

/* The decision event's own fields (review_event.h lists the rules);
 * shown is the last output hash of the stored chain. */
static int check_decision(const sl_prov_event *ev, const char *shown,
                          const char *upload_id, sl_err *err)
{
    const char *o = ev->outcome;

    if (!str_eq(ev->stage, "review")) {
        sl_err_set(err, "review event: stage must be \"review\"");
        return SL_EINVAL;
    }
    if (!str_eq(o, "approved") && !str_eq(o, "redacted") && !str_eq(o, "rejected")) {
        sl_err_set(err, "review event: outcome must be approved, redacted or "
                   "rejected");
        return SL_EINVAL;
    }
    if (!str_eq(ev->upload_id, upload_id)) {
        sl_err_set(err, "review event: upload id is not the stored chain's (%s)",
                   upload_id ? upload_id : "none");
        return SL_EINVAL;
    }
    if (!shown || !str_eq(ev->input_sha256, shown)) {
        sl_err_set(err, "review event: input hash is not the stored content's "
                   "(%s)", shown ? shown : "none recorded");
        return SL_EINVAL;
    }
    if (str_eq(o, "approved") && !str_eq(ev->output_sha256, shown)) {
        sl_err_set(err, "review event: an approval's output hash is its input's");
        return SL_EINVAL;
    }
    if (str_eq(o, "redacted") && (!ev->output_sha256 ||
                                  str_eq(ev->output_sha256, shown))) {
        sl_err_set(err, "review event: a redaction's output hash is that of "
                   "other bytes");
        return SL_EINVAL;
    }
    if (str_eq(o, "rejected") && ev->output_sha256) {
        sl_err_set(err, "review event: a rejection sends no bytes on (output "
                   "hash null)");
        return SL_EINVAL;
    }
    return SL_OK;
}

int sl_review_event_append(const sl_review_stored *evs, size_t n,
                           const sl_prov_event *ev, sl_buf *prov_out,
                           sl_buf *canonical_out, sl_review_appended *app,
                           sl_err *err)
{
    sl_prov_record first = { 0 }, last = { 0 };
    sl_prov_chain *c = NULL;
    const char *shown = NULL, *ignore, *canonical, *hash, *stage, *outcome;
    char origin[SL_SHA256_HEX], newhash[SL_SHA256_HEX];
    sl_buf stored;
    int64_t seq;
    int rc;

    sl_buf_init(&stored, prov_out ? prov_out->max : 0);
    if (!evs || n == 0 || !ev || !prov_out || !app) {
        sl_err_set(err, "review event: no stored chain to append to");
        rc = SL_EINVAL;
        goto out;
    }
    if ((rc = stored_array(evs, n, &stored, err)) != SL_OK)
        goto out;
    /* The first prev is the chain's origin: checked against what the
     * creator signed when the chain was stored, and again by the auditor. */
    if (sl_prov_record_parse(evs[0].canonical, strlen(evs[0].canonical), &first,
                             err) != SL_OK) {
        rc = SL_EINVAL;
        goto out;
    }
    snprintf(origin, sizeof(origin), "%s", first.prev);
    if (!(c = sl_prov_parse((sl_slice){ stored.data, stored.len }, err)) ||
        (rc = sl_prov_chain_verify(c, origin, err)) != SL_OK) {
        rc = c ? rc : SL_EINVAL;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (evs[i].seq != (int64_t)i + 1) {
            sl_err_set(err, "review event: stored seq %lld where %zu was due",
                       (long long)evs[i].seq, i + 1);
            rc = SL_EINVAL;
            goto out;
        }
    }
    for (size_t i = n; i-- > 0 && !shown;)
        (void)sl_prov_get_hashes(c, i, &ignore, &shown);
    if (sl_prov_record_parse(evs[n - 1].canonical, strlen(evs[n - 1].canonical),
                             &last, err) != SL_OK) {
        rc = SL_EINVAL;
        goto out;
    }
    if ((rc = check_decision(ev, shown, last.upload_id, err)) != SL_OK)
        goto out;
    if ((rc = sl_prov_append((sl_slice){ stored.data, stored.len }, origin, ev,
                             prov_out, newhash, err)) != SL_OK)
        goto out;
    sl_prov_chain_destroy(c);
    if (!(c = sl_prov_parse((sl_slice){ prov_out->data, prov_out->len }, err)) ||
        sl_prov_count(c) != n + 1 ||
        sl_prov_get(c, n, &canonical, &hash, &stage, &outcome, &seq) != SL_OK ||
        strcmp(hash, newhash) != 0) {
        sl_err_set(err, "review event: the appended chain does not read back");
        rc = SL_ERR;
        goto out;
    }
    if (canonical_out) {
        sl_buf_reset(canonical_out);
        if ((rc = sl_buf_append(canonical_out, canonical, strlen(canonical))) != SL_OK ||
            (rc = sl_buf_cstr(canonical_out)) != SL_OK) {
            sl_err_set(err, "review event: event text does not fit");
            goto out;
        }
    }
    app->seq = seq;
    memcpy(app->hash, newhash, SL_SHA256_HEX);
    snprintf(app->prev, sizeof(app->prev), "%s", evs[n - 1].hash);
    rc = SL_OK;
out:
    sl_prov_record_clear(&first);
    sl_prov_record_clear(&last);
    sl_prov_chain_destroy(c);
    sl_buf_free(&stored);
    return rc;
}

int sl_review_header(int64_t decision_id, const char *action,
                     const char *reason, const char *moderator, sl_buf *out,
                     sl_err *err)
{
    json_t *o;
    char *text;
    int rc;

    if (!str_eq(action, "approve") && !str_eq(action, "redact") &&
        !str_eq(action, "reject")) {
        sl_err_set(err, "sluice-review: action must be approve, redact or reject");
        return SL_EINVAL;
    }
    o = json_pack("{s:I, s:s, s:s?, s:s?}", "decision_id", (json_int_t)decision_id,
                  "action", action, "reason", reason, "moderator", moderator);
    if (!o) {
        sl_err_set(err, "sluice-review: reason or moderator is not UTF-8 text");
        return SL_EINVAL;
    }
    text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    if (!text) {
        sl_err_set(err, "sluice-review: out of memory");
        return SL_ENOMEM;
    }
    sl_buf_reset(out);
    rc = sl_buf_append(out, text, strlen(text));
    free(text);
    if (rc != SL_OK)
        sl_err_set(err, "sluice-review: header does not fit");
    return rc;
}
