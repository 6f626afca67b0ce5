/*
 * commit.c -- the commit stage's pure part: message -> row description.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl/envelope.h"
#include "sl/json.h"
#include "sl/prov.h"
#include "sl/timeutil.h"
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

/* Header value as a decimal integer in [lo, hi], or SL_EINVAL when absent,
 * empty, not all digits (one leading '-' allowed) or out of range. */
static int header_int(const sl_msg *m, const char *name, int64_t lo,
                      int64_t hi, int64_t *out)
{
    sl_slice v;
    char buf[24];
    char *end;
    long long x;

    if (sl_msg_header(m, name, &v) != SL_OK || !v.ptr || v.len == 0 ||
        v.len >= sizeof(buf))
        return SL_EINVAL;
    memcpy(buf, v.ptr, v.len);
    buf[v.len] = '\0';
    for (size_t i = buf[0] == '-'; i < v.len; i++)
        if (buf[i] < '0' || buf[i] > '9')
            return SL_EINVAL;
    errno = 0;
    x = strtoll(buf, &end, 10);
    if (errno || end == buf || *end || x < lo || x > hi)
        return SL_EINVAL;
    *out = x;
    return SL_OK;
}

/* 1..max bytes, each in the set `ok` or an ASCII letter or digit. */
static int token_ok(const char *s, size_t max, const char *ok, int lower)
{
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              (!lower && c >= 'A' && c <= 'Z') || strchr(ok, c)))
            return 0;
    }
    return 1;
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

const char *sl_commit_row_origin(const sl_commit_row *r)
{
    return r->original_sha256[0] ? r->original_sha256 : r->sha256;
}

/* The scan stage's result, as the envelope read it: detected type, the
 * JSON kept as is for the database, whether the sample was flagged, and
 * the signed content's hash when the bytes were redacted.  Returns 1 when
 * the header is present but not a scan result (sl/envelope.h: an object
 * with an outcome, hashes as 64 lowercase hex digits). */
static int read_scan(const sl_envelope *env, sl_commit_row *r, int *flagged)
{
    *flagged = 0;
    if (env->scan_state == SL_SCANHDR_ABSENT)
        return 0;
    if (env->scan_state != SL_SCANHDR_OK)
        return 1;
    *flagged = strcmp(env->scan_outcome, "flagged") == 0;
    memcpy(r->original_sha256, env->original_sha256, SL_SHA256_HEX);
    r->detected_type = dup_str(env->detected_type);
    r->scan = dup_slice(env->scan);
    return 0;
}

int sl_commit_row_reviewed(const sl_commit_row *r)
{
    return r->review_seq > 0 && (strcmp(r->review_outcome, "approved") == 0 ||
                                 strcmp(r->review_outcome, "redacted") == 0);
}

/* Notes the chain's last review event (a moderator's decision).  When the
 * moderator redacted, the chain starts at the flagged bytes' hash, the
 * event's input, which is then the row's origin (unless the scan stage
 * named one). */
static void read_review(sl_commit_row *r)
{
    r->review_seq = 0;
    r->review_hash[0] = r->review_outcome[0] = '\0';
    for (size_t i = sl_prov_count(r->chain); i-- > 0;) {
        const char *canonical, *hash, *stage, *outcome, *in, *out;
        int64_t seq;

        if (sl_prov_get(r->chain, i, &canonical, &hash, &stage, &outcome,
                        &seq) != SL_OK || strcmp(stage, "review") != 0)
            continue;
        r->review_seq = seq > 0 ? seq : 0;
        snprintf(r->review_hash, sizeof(r->review_hash), "%s", hash);
        if (strlen(outcome) < sizeof(r->review_outcome))
            memcpy(r->review_outcome, outcome, strlen(outcome) + 1);
        if (strcmp(outcome, "redacted") == 0 && !r->original_sha256[0] &&
            sl_prov_get_hashes(r->chain, i, &in, &out) == SL_OK && in &&
            strlen(in) == SL_SHA256_HEX - 1 && strcmp(in, r->sha256) != 0)
            memcpy(r->original_sha256, in, SL_SHA256_HEX);
        return;
    }
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
    read_review(r);
    if (r->chain && sl_prov_chain_verify(r->chain, sl_commit_row_origin(r),
                                         &perr) != SL_OK) {
        sl_prov_chain_destroy(r->chain);
        r->chain = NULL;
        r->review_seq = 0;
    }
}

/* A dead letter names the refused value's SHA-256 and size (the runner
 * withholds the value when it is too large or blocked); they replace the
 * hash and size of the bytes received.  1 when they did. */
static int reject_value(const sl_msg *m, sl_commit_row *r)
{
    int64_t size;
    sl_slice h;

    if (header_int(m, SL_H_REJ_VALUE_SIZE, 0, INT64_MAX, &size) != SL_OK ||
        sl_msg_header(m, SL_H_REJ_VALUE_SHA256, &h) != SL_OK ||
        !sl_hex64_okn(h.ptr, h.len))
        return 0;
    memcpy(r->sha256, h.ptr, h.len);
    r->sha256[h.len] = '\0';
    r->size = size;
    return 1;
}

/* A dead letter: a message read from the rejected topic.  Only the runner
 * writes there, but its headers are parsed as hostile anyway: a detail is
 * cut at SL_COMMIT_DETAIL_MAX bytes, a code that is not a reason code
 * becomes reject_header_invalid, an unusable source
 * (topic, partition or offset) makes the whole identity the record's own,
 * an unusable time the record's timestamp (or now).  Nothing here fails. */
static int describe_rejection(const sl_msg *m, sl_commit_row *r)
{
    char *topic = header_copy(m, SL_H_REJ_TOPIC);
    int64_t part, off, ms;
    const int64_t max_ms = SL_TIME_MAX_US / 1000;

    r->kind = SL_ROW_REJECTION;
    if (reject_value(m, r))
        verify_chain(r);   /* it starts at the refused value's hash */
    r->code = header_copy(m, SL_H_REJ_CODE);
    r->stage = header_copy(m, SL_H_REJ_STAGE);
    r->detail = header_copy(m, SL_H_REJ_DETAIL);
    if (!token_ok(r->stage, 64, "_-", 1)) {
        free(r->stage);
        r->stage = strdup("unknown");
    }
    if (!token_ok(r->code, 64, "_", 1)) {
        char d[160];
        snprintf(d, sizeof(d), "dead letter without a usable %s header (%s)",
                 SL_H_REJ_CODE, r->code ? "not a reason code" : "absent");
        free(r->code);
        free(r->detail);
        r->code = strdup("reject_header_invalid");
        r->detail = strdup(d);
    }
    if (!r->detail)
        r->detail = strdup("");
    else if (strlen(r->detail) > SL_COMMIT_DETAIL_MAX)   /* one line, not a payload */
        r->detail[SL_COMMIT_DETAIL_MAX] = '\0';
    if (token_ok(topic, 249, "._-", 0) &&
        header_int(m, SL_H_REJ_PART, 0, INT32_MAX, &part) == SL_OK &&
        header_int(m, SL_H_REJ_OFFSET, 0, INT64_MAX, &off) == SL_OK) {
        r->source_topic = topic;
        r->source_partition = (int32_t)part;
        r->source_offset = off;
    } else {
        free(topic);
        r->source_topic = strdup(m->topic);
        r->source_partition = m->partition;
        r->source_offset = m->offset;
    }
    if (header_int(m, SL_H_REJ_TIME, 0, max_ms, &ms) != SL_OK)
        ms = m->timestamp_ms > 0 && m->timestamp_ms <= max_ms ? m->timestamp_ms
                                                              : sl_now_ms();
    r->rejected_ms = ms;
    return r->code && r->stage && r->detail && r->source_topic ? SL_OK : SL_ENOMEM;
}

/* Whether the review event's output hash is sha (the bytes the moderator
 * let on, redacted or not). */
static int review_output_is(const sl_commit_row *r, const char *sha)
{
    for (size_t i = sl_prov_count(r->chain); i-- > 0;) {
        const char *canonical, *hash, *stage, *outcome, *in, *out;
        int64_t seq;

        if (sl_prov_get(r->chain, i, &canonical, &hash, &stage, &outcome,
                        &seq) == SL_OK && seq == r->review_seq)
            return sl_prov_get_hashes(r->chain, i, &in, &out) == SL_OK &&
                   out && strcmp(out, sha) == 0;
    }
    return 0;
}

/* The hashes around the bytes, re-checked (SHA-256 is cheap): the chain's
 * first input is the signed content's hash (what the creator's signature
 * and the optional signed meta "sha256" cover), its last output is the
 * hash of the bytes being stored, and so is any sluice-sha256 header.  A
 * redacted sample's last output is the redaction's. */
static int check_hashes(const sl_msg *m, sl_commit_row *r, const char *declared)
{
    const char *origin = sl_commit_row_origin(r), *first_in = NULL,
               *last_out = NULL, *problem = NULL, *ignore;
    char detail[256];
    size_t n = sl_prov_count(r->chain);
    sl_slice h;

    if (n)
        (void)sl_prov_get_hashes(r->chain, 0, &first_in, &ignore);
    for (size_t i = n; i-- > 0 && !last_out;)   /* the last one recorded */
        (void)sl_prov_get_hashes(r->chain, i, &ignore, &last_out);
    if (declared && strcmp(declared, origin) != 0)
        problem = "the signed metadata's sha256";
    else if (first_in && strcmp(first_in, origin) != 0)
        problem = "the provenance chain's first input hash";
    else if (last_out && strcmp(last_out, r->sha256) != 0)
        problem = "the provenance chain's last output hash";
    else if (sl_commit_row_reviewed(r) && !review_output_is(r, r->sha256))
        problem = "the review event's output hash";
    else if (sl_msg_header(m, SL_H_SHA256, &h) == SL_OK && h.ptr &&
             (h.len != SL_SHA256_HEX - 1 || memcmp(h.ptr, r->sha256, h.len) != 0))
        problem = "the sluice-sha256 header";
    if (problem)
        snprintf(detail, sizeof(detail), "the bytes hash to %s, which is not "
                 "what %s says", r->sha256, problem);
    if (!problem)
        return SL_OK;
    return sl_commit_row_reject(r, "content_hash_mismatch", detail);
}

/* The metadata's identity fields, as far as it parses (dead letters keep
 * them too), and the upload id the outcome is recorded under. */
static int copy_identity(const sl_envelope *env, const sl_msg *m,
                         sl_commit_row *r)
{
    size_t len;
    const char *id = sl_envelope_upload_id(env, m, &len);

    r->meta = env->meta;
    r->upload_id = id ? dup_slice((sl_slice){ (const uint8_t *)id, len }) : NULL;
    r->creator_id = dup_str(env->creator_id);
    r->dataset_id = dup_str(env->dataset_id);
    if ((id && !r->upload_id) || (env->creator_id && !r->creator_id) ||
        (env->dataset_id && !r->dataset_id))
        return SL_ENOMEM;
    return SL_OK;
}

/* What the topic says a non-rejection is: a review item on the flagged
 * topic (its scan result must say so), a sample anywhere else (where a
 * flagged result is not believed).  Sets r->kind; 1 when the scan result
 * is unusable. */
static int sample_or_review(const sl_msg *m, const sl_commit_topics *t,
                            sl_commit_row *r, int flagged, int scan_bad)
{
    if (t && t->flagged && strcmp(m->topic, t->flagged) == 0) {
        if (!scan_bad && !flagged)
            scan_bad = 1;   /* on the flagged topic without a flagged result */
        flagged = 1;
    } else if (flagged) {
        /* A flagged result anywhere else: only a moderator's decision lets
         * it on (and the database must confirm it: commit_review_pg.c). */
        scan_bad = !sl_commit_row_reviewed(r);
        flagged = 0;
    }
    r->kind = flagged ? SL_ROW_REVIEW : SL_ROW_SAMPLE;
    return scan_bad;
}

/* The metadata a sample is stored with (sl/envelope.h's rules, and a
 * license expression for its NOT NULL column): SL_OK, a commit rejection
 * (meta_invalid), or SL_ENOMEM. */
static int sample_meta(const sl_envelope *env, const sl_msg *m,
                       sl_commit_row *r)
{
    char ts[SL_TIME_LEN];

    if (env->meta_state == SL_META_ABSENT || env->meta_state == SL_META_MALFORMED ||
        env->meta_state == SL_META_INVALID || !env->license_expression)
        return sl_commit_row_reject(r, "meta_invalid",
                                    "sample reached commit without usable metadata");
    /* Stored as the UTC instant we format, never the creator's text:
     * what parses here always fits timestamptz. */
    if (env->meta_state == SL_META_BAD_TIME ||
        sl_time_format_us(env->created_us, ts) != SL_OK)
        return sl_commit_row_reject(r, "meta_invalid",
                                    "created_at is not a storable RFC 3339 "
                                    "date-time");
    r->created_at = strdup(ts);
    r->content_type = dup_str(env->content_type);
    r->license_expression = dup_str(env->license_expression);
    r->filename = dup_str(env->filename);
    r->signature = header_copy(m, SL_H_SIG);
    r->license = header_copy(m, SL_H_LICENSE);
    if (!r->content_type || !r->created_at || !r->license_expression ||
        (env->filename && !r->filename))
        return SL_ENOMEM;
    return SL_OK;
}

/* A sample or review item, its metadata usable: signature, scan result,
 * provenance, then the hashes around the bytes, in that order. */
static int check_sample(const sl_envelope *env, const sl_msg *m,
                        sl_commit_row *r, int scan_bad)
{
    char detail[SL_ERRBUF_SIZE + 64];
    sl_err err;

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
        snprintf(detail, sizeof(detail), "provenance chain broken: %s", err.msg);
        return sl_commit_row_reject(r, "provenance_invalid", detail);
    }
    if (r->kind == SL_ROW_SAMPLE && r->review_seq > 0 &&
        !sl_commit_row_reviewed(r)) {
        /* Only an approval or a redaction lets a reviewed upload on, even
         * when the decision it carries is the real one. */
        snprintf(detail, sizeof(detail), "the chain's review event says \"%s\", "
                 "not approved or redacted", r->review_outcome);
        return sl_commit_row_reject(r, "review_unverified", detail);
    }
    return check_hashes(m, r, env->declared_sha256);
}

static int describe(const sl_envelope *env, const sl_msg *m,
                    const sl_commit_topics *t, sl_commit_row *r)
{
    int flagged = 0, scan_bad, rc;

    r->content = m->value;
    r->size = (int64_t)m->value.len;
    memcpy(r->sha256, env->sha256, SL_SHA256_HEX);
    if (sl_msg_header(m, SL_H_PROV, &r->prov) != SL_OK) {
        r->prov.ptr = NULL;
        r->prov.len = 0;
    }
    scan_bad = read_scan(env, r, &flagged);
    /* Parsed and verified once; copy_provenance continues a valid chain
     * and restarts a broken one (a sample with one is refused below). */
    verify_chain(r);
    if ((rc = copy_identity(env, m, r)) != SL_OK)
        return rc;

    if (t && t->rejected && strcmp(m->topic, t->rejected) == 0)
        return describe_rejection(m, r);
    /* Not from the dead-letter topic: whatever sluice-reject-* headers it
     * carries are the creator's, and mean nothing here. */
    scan_bad = sample_or_review(m, t, r, flagged, scan_bad);
    r->source_topic = strdup(m->topic);
    r->source_partition = m->partition;
    r->source_offset = m->offset;
    if (!r->source_topic)
        return SL_ENOMEM;
    /* The upload id must be the metadata's own: the key fallback above is
     * for dead letters only (sample_meta refuses metadata without one). */
    if ((rc = sample_meta(env, m, r)) != SL_OK || r->kind == SL_ROW_REJECTION)
        return rc;
    return check_sample(env, m, r, scan_bad);
}

int sl_commit_describe(const sl_msg *m, const sl_commit_topics *t,
                       sl_commit_row *r)
{
    sl_envelope env;
    int rc;

    memset(r, 0, sizeof(*r));
    rc = sl_envelope_read_with(&env, m, 0);
    if (rc == SL_OK)
        rc = describe(&env, m, t, r);
    sl_envelope_clear(&env);
    return rc;
}

/* Interaction fallback: L and R write on their own but not together.
 * Grows L one row of R at a time; a row that breaks it is an offender.
 * If none does alone, the last row of R is marked so a round always
 * makes progress. */
static int bisect_grow(const size_t *l, size_t nl, const size_t *r, size_t nr,
                       sl_commit_try_fn try_, void *ctx, unsigned char *bad)
{
    size_t *acc = malloc((nl + nr) * sizeof(*acc)), na = nl;
    int rc = SL_OK, any = 0;

    if (!acc)
        return SL_ENOMEM;
    memcpy(acc, l, nl * sizeof(*acc));
    for (size_t i = 0; i < nr && rc == SL_OK; i++) {
        acc[na] = r[i];
        int t = try_(ctx, acc, na + 1);
        if (t < 0)
            rc = t;
        else if (t == 0)
            na++;
        else
            bad[r[i]] = any = 1;
    }
    if (rc == SL_OK && !any)
        bad[r[nr - 1]] = 1;
    free(acc);
    return rc;
}

int sl_commit_bisect(const size_t *idx, size_t k, sl_commit_try_fn try_,
                     void *ctx, unsigned char *bad)
{
    size_t h = k / 2;
    int tl, tr, rc;

    if (k == 0)
        return SL_OK;
    if (k == 1) {
        bad[idx[0]] = 1;
        return SL_OK;
    }
    if ((tl = try_(ctx, idx, h)) < 0)
        return tl;
    if (tl && (rc = sl_commit_bisect(idx, h, try_, ctx, bad)) != SL_OK)
        return rc;
    if ((tr = try_(ctx, idx + h, k - h)) < 0)
        return tr;
    if (tr && (rc = sl_commit_bisect(idx + h, k - h, try_, ctx, bad)) != SL_OK)
        return rc;
    if (!tl && !tr)
        return bisect_grow(idx, h, idx + h, k - h, try_, ctx, bad);
    return SL_OK;
}

/* ---- exact set of string pairs --------------------------------------- */

struct sl_pairset {
    struct pair_ent { uint64_t fp; char *ab; size_t la; } *tab;
    size_t cap, n;   /* cap: a power of two, at most half full */
};

sl_pairset *sl_pairset_new(void)
{
    sl_pairset *s = calloc(1, sizeof(*s));

    if (s && !(s->tab = calloc(s->cap = 64, sizeof(*s->tab)))) {
        free(s);
        s = NULL;
    }
    return s;
}

void sl_pairset_destroy(sl_pairset *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->cap; i++)
        free(s->tab[i].ab);
    free(s->tab);
    free(s);
}

static int pair_eq(const struct pair_ent *e, uint64_t fp, const char *a,
                   size_t la, const char *b)
{
    return e->fp == fp && e->la == la && memcmp(e->ab, a, la) == 0 &&
           strcmp(e->ab + la + 1, b) == 0;
}

/* The slot holding (a, b), or the empty slot where it would go. */
static struct pair_ent *pair_slot(struct pair_ent *tab, size_t cap, uint64_t fp,
                                  const char *a, size_t la, const char *b)
{
    size_t i = (size_t)fp & (cap - 1);

    while (tab[i].ab && !pair_eq(&tab[i], fp, a, la, b))
        i = (i + 1) & (cap - 1);
    return &tab[i];
}

int sl_pairset_has(const sl_pairset *s, uint64_t fp, const char *a, const char *b)
{
    return pair_slot(s->tab, s->cap, fp, a, strlen(a), b)->ab != NULL;
}

int sl_pairset_add(sl_pairset *s, uint64_t fp, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    struct pair_ent *e;

    if (2 * (s->n + 1) > s->cap) {
        size_t cap = s->cap * 2;
        struct pair_ent *tab = calloc(cap, sizeof(*tab));
        if (!tab)
            return SL_ENOMEM;
        for (size_t i = 0; i < s->cap; i++)
            if (s->tab[i].ab)
                *pair_slot(tab, cap, s->tab[i].fp, s->tab[i].ab, s->tab[i].la,
                           s->tab[i].ab + s->tab[i].la + 1) = s->tab[i];
        free(s->tab);
        s->tab = tab;
        s->cap = cap;
    }
    e = pair_slot(s->tab, s->cap, fp, a, la, b);
    if (e->ab)
        return SL_OK;
    if (!(e->ab = malloc(la + lb + 2)))
        return SL_ENOMEM;
    memcpy(e->ab, a, la + 1);
    memcpy(e->ab + la + 1, b, lb + 1);
    e->la = la;
    e->fp = fp;
    s->n++;
    return SL_OK;
}
