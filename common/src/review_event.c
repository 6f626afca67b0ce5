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

#include "sl/msg.h"
#include "sl/review_event.h"
#include "sl/topology.h"

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
    if (!str_eq(o, "approved") && !str_eq(o, "redacted") && !str_eq(o, "rejected") &&
        !str_eq(o, "reversed")) {
        sl_err_set(err, "review event: outcome must be approved, redacted, "
                   "rejected or reversed");
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
    if ((str_eq(o, "rejected") || str_eq(o, "reversed")) && ev->output_sha256) {
        sl_err_set(err, "review event: a rejection or reversal sends no bytes "
                   "on (output hash null)");
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
    /* The bytes commit stored: the last output before any decision (a
     * lead's reversal follows an approval whose output may be redacted). */
    for (size_t i = n; i-- > 0 && !shown;) {
        const char *st = NULL;
        if (sl_prov_get(c, i, NULL, NULL, &st, NULL, NULL) == SL_OK &&
            str_eq(st, "review"))
            continue;
        (void)sl_prov_get_hashes(c, i, &ignore, &shown);
    }
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

/* ---- the relay's message ------------------------------------------------ */

void sl_review_message_clear(sl_review_message *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->value[i]);
    memset(m, 0, sizeof(*m));
}

static int add(sl_review_message *m, const char *name, const char *value,
               sl_err *err)
{
    if (!value) {
        sl_err_set(err, "relay message: no value for %s", name);
        return SL_EINVAL;
    }
    if (m->n == SL_REVIEW_MAX_HEADERS || !(m->value[m->n] = strdup(value))) {
        sl_err_set(err, "relay message: out of memory");
        return SL_ENOMEM;
    }
    m->name[m->n++] = name;
    return SL_OK;
}

static int add_int(sl_review_message *m, const char *name, int64_t v, sl_err *err)
{
    char num[24];

    snprintf(num, sizeof(num), "%lld", (long long)v);
    return add(m, name, num, err);
}

/* "reason: note" on one line: control characters escaped, cut at max
 * bytes without splitting a UTF-8 sequence. */
static void detail_line(const char *reason, const char *note, char *out,
                        size_t max)
{
    size_t w = 0;
    const char *parts[3] = { reason, note && *note ? ": " : NULL, note };

    for (int p = 0; p < 3; p++) {
        for (const unsigned char *c = (const unsigned char *)parts[p]; c && *c; c++) {
            char esc[8];
            size_t k;
            if (*c == '\n')
                snprintf(esc, sizeof(esc), "\\n");
            else if (*c == '\t')
                snprintf(esc, sizeof(esc), "\\t");
            else if (*c == '\\')
                snprintf(esc, sizeof(esc), "\\\\");
            else if (*c < 0x20 || *c == 0x7f)
                snprintf(esc, sizeof(esc), "\\x%02x", *c);
            else {
                esc[0] = (char)*c;
                esc[1] = '\0';
            }
            k = strlen(esc);
            if (w + k >= max)
                goto cut;
            memcpy(out + w, esc, k);
            w += k;
        }
    }
cut:
    /* no half of a multi-byte character at the end */
    if (w) {
        size_t start = w;
        while (start > 0 && ((unsigned char)out[start - 1] & 0xc0) == 0x80)
            start--;
        if (start > 0 && ((unsigned char)out[start - 1] & 0x80)) {
            unsigned char lead = (unsigned char)out[start - 1];
            size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
            if (w - (start - 1) < need)
                w = start - 1;
        }
    }
    out[w] = '\0';
}

int sl_review_message_build(const sl_review_item *item,
                            const sl_review_decision *d, const char *prov,
                            const char *value_sha256, sl_review_message *out,
                            sl_err *err)
{
    int reject, rc;

    memset(out, 0, sizeof(*out));
    if (!item || !d || !d->action || !d->reason || !prov || !item->upload_id) {
        sl_err_set(err, "relay message: decision, reason, chain or upload id missing");
        return SL_EINVAL;
    }
    reject = str_eq(d->action, "reject");
    if (!reject && !str_eq(d->action, "approve") && !str_eq(d->action, "redact")) {
        sl_err_set(err, "relay message: action must be approve, redact or reject");
        return SL_EINVAL;
    }
    if ((rc = add(out, SL_H_META, item->meta, err)) != SL_OK ||
        (rc = add(out, SL_H_SIG, item->signature, err)) != SL_OK ||
        (rc = add(out, SL_H_PROV, prov, err)) != SL_OK)
        goto fail;
    if (!reject) {
        sl_buf h;
        out->topic = SL_TOPIC_REVIEWED;
        if ((rc = add(out, SL_H_SHA256, value_sha256, err)) != SL_OK ||
            (rc = add(out, SL_H_SCAN, item->findings, err)) != SL_OK)
            goto fail;
        sl_buf_init(&h, 1 << 16);
        rc = sl_review_header(d->decision_id, d->action, d->reason, d->moderator,
                              &h, err);
        if (rc == SL_OK && (rc = sl_buf_cstr(&h)) == SL_OK)
            rc = add(out, SL_H_REVIEW, (const char *)h.data, err);
        sl_buf_free(&h);
        if (rc != SL_OK)
            goto fail;
        return SL_OK;
    }
    out->topic = SL_TOPIC_REJECTED;
    {
        char detail[SL_REVIEW_DETAIL_MAX];
        detail_line(d->reason, d->note, detail, sizeof(detail));
        if ((rc = add(out, SL_H_REJ_STAGE, "review", err)) != SL_OK ||
            (rc = add(out, SL_H_REJ_CODE, "moderator_rejected", err)) != SL_OK ||
            (rc = add(out, SL_H_REJ_DETAIL, detail, err)) != SL_OK ||
            (rc = add(out, SL_H_REJ_TOPIC, item->source_topic, err)) != SL_OK ||
            (rc = add_int(out, SL_H_REJ_PART,
                          item->source_partition, err)) != SL_OK ||
            (rc = add_int(out, SL_H_REJ_OFFSET, item->source_offset,
                          err)) != SL_OK ||
            (rc = add_int(out, SL_H_REJ_TIME, d->time_ms, err)) != SL_OK ||
            (rc = add(out, SL_H_REJ_VALUE, "withheld", err)) != SL_OK ||
            (rc = add(out, SL_H_REJ_VALUE_SHA256, item->sha256, err)) != SL_OK ||
            (rc = add_int(out, SL_H_REJ_VALUE_SIZE, item->size, err)) != SL_OK)
            goto fail;
    }
    return SL_OK;
fail:
    sl_review_message_clear(out);
    return rc;
}
