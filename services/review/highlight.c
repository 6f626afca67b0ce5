/*
 * highlight.c -- the findings of a flagged sample drawn over its content.
 *
 * The scanner reports each finding as a byte offset and length into the
 * content (services/scan: `findings` of the scan JSON).  Those numbers come
 * from the database and through it from a scanner that read hostile bytes,
 * so nothing about them is trusted: a span outside the content, of length
 * zero or negative, is listed but not drawn; a span that ends past the
 * content is cut at its end; a span that starts or ends inside a UTF-8
 * sequence is widened to the whole sequence (the escaper then never sees a
 * cut character); overlapping spans are split at every start and end, so
 * each piece of text is written once, under all the findings that cover
 * it.  A piece under a secret finding the moderator has not revealed is
 * replaced by a placeholder: its bytes are never written to the page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui_parts.h"

static const char *str_of(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static int64_t int_of(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);

    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return -1;
    return (int64_t)json_integer_value(v);
}

/* The length of the valid sequence starting at p[at], 1 if none. */
static size_t seq_len(const uint8_t *p, size_t n, size_t at)
{
    uint32_t cp;
    size_t bad, len = sl_utf8_next(p + at, n - at, &cp, &bad);

    return len ? len : 1;
}

static void span_of(rv_finding *f, const uint8_t *p, size_t n, size_t index)
{
    uint64_t off, len;

    f->start = f->end = 0;
    if (f->offset < 0 || f->length < 0) {
        f->note = "no offset or length";
        return;
    }
    off = (uint64_t)f->offset;
    len = (uint64_t)f->length;
    if (len == 0) {
        f->note = "empty span";
        return;
    }
    if (off >= n) {
        f->note = "outside the content";
        return;
    }
    if (index >= RV_HL_MAX) {
        f->note = "not drawn: too many findings";
        return;
    }
    if (len > n - off)
        len = n - off;
    f->start = sl_utf8_floor(p, n, (size_t)off);
    f->end = (size_t)(off + len);
    if (f->end < n) {
        size_t fl = sl_utf8_floor(p, n, f->end);
        if (fl != f->end)
            f->end = fl + seq_len(p, n, fl);
    }
    if (f->end > n)
        f->end = n;
}

int rv_findings_read(json_t *doc, const uint8_t *content, size_t n,
                     const size_t *revealed, size_t n_revealed,
                     rv_finding **out, size_t *count)
{
    json_t *arr = json_object_get(doc, "findings"), *o;
    size_t i, k, m;
    rv_finding *f;

    *out = NULL;
    *count = 0;
    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return SL_OK;
    m = json_array_size(arr);
    if (!(f = calloc(m, sizeof(*f))))
        return SL_ENOMEM;
    json_array_foreach(arr, i, o) {
        rv_finding *x = &f[i];
        x->rule = str_of(o, "rule");
        x->entity = str_of(o, "entity");
        x->kind = str_of(o, "kind");
        x->severity = str_of(o, "severity");
        x->source = str_of(o, "source");
        x->action = str_of(o, "action");
        x->offset = int_of(o, "offset");
        x->length = int_of(o, "length");
        x->validated = json_is_true(json_object_get(o, "validated"));
        x->secret = x->kind && strcmp(x->kind, "secret") == 0;
        for (k = 0; x->secret && k < n_revealed; k++)
            if (revealed && revealed[k] == i)
                x->revealed = 1;
        if (content || n == 0)
            span_of(x, content, content ? n : 0, i);
        else
            x->note = "no content";
    }
    *out = f;
    *count = m;
    return SL_OK;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;

    return x < y ? -1 : x > y;
}

static int sev_rank(const char *s)
{
    if (!s)
        return 0;
    if (strcmp(s, "high") == 0)
        return 3;
    if (strcmp(s, "medium") == 0)
        return 2;
    if (strcmp(s, "low") == 0)
        return 1;
    return 0;
}

static const char *const sev_class[] = {
    "finding sev-unknown", "finding sev-low", "finding sev-medium", "finding sev-high"
};
static const char *const label_class[] = {
    "flabel sev-unknown", "flabel sev-low", "flabel sev-medium", "flabel sev-high"
};

static void label(sl_html *h, const rv_finding *f, size_t i)
{
    char idx[24];

    snprintf(idx, sizeof(idx), "%zu", i);
    sl_html_open(h, "span", "class", label_class[sev_rank(f->severity)],
                 "data-finding", idx, NULL);
    sl_html_textf(h, "#%zu ", i);
    sl_html_text(h, f->rule ? f->rule : "?");
    sl_html_raw(h, " \xC2\xB7 ");
    sl_html_text(h, f->entity ? f->entity : "?");
    sl_html_raw(h, " \xC2\xB7 ");
    sl_html_text(h, f->severity ? f->severity : "?");
    if (f->secret)
        sl_html_raw(h, f->revealed ? " \xC2\xB7 secret, revealed" : " \xC2\xB7 secret");
    sl_html_close(h, "span");
}

void rv_highlight(sl_html *h, const uint8_t *p, size_t n,
                  const rv_finding *f, size_t nf)
{
    size_t *cut, nc = 0, i, j;
    sl_buf ids;
    int prev_masked = 0;

    if (h->rc != SL_OK)
        return;
    if (!p || n == 0)
        return;
    if (!(cut = malloc((2 * nf + 2) * sizeof(*cut)))) {
        h->rc = SL_ENOMEM;
        return;
    }
    cut[nc++] = 0;
    cut[nc++] = n;
    for (i = 0; i < nf; i++)
        if (f[i].end > f[i].start) {
            cut[nc++] = f[i].start;
            cut[nc++] = f[i].end;
        }
    qsort(cut, nc, sizeof(*cut), cmp_size);
    for (i = 1, j = 1; i < nc; i++)
        if (cut[i] != cut[j - 1])
            cut[j++] = cut[i];
    nc = j;
    sl_buf_init(&ids, 64 * 1024);
    for (size_t c = 0; c + 1 < nc && h->rc == SL_OK; c++) {
        size_t a = cut[c], b = cut[c + 1];
        int cover = 0, rank = 0;
        long masked_by = -1;

        sl_buf_reset(&ids);
        for (i = 0; i < nf; i++) {
            if (f[i].end <= f[i].start)
                continue;
            if (f[i].start == a) {
                label(h, &f[i], i);
                prev_masked = 0;
            }
            if (f[i].start <= a && f[i].end >= b) {
                cover++;
                if (sev_rank(f[i].severity) > rank)
                    rank = sev_rank(f[i].severity);
                if (f[i].secret && !f[i].revealed && masked_by < 0)
                    masked_by = (long)i;
                if (sl_buf_appendf(&ids, ids.len ? " %zu" : "%zu", i) != SL_OK)
                    h->rc = SL_ETOOBIG;
            }
        }
        if (!cover) {
            sl_html_textn(h, p + a, b - a);
            prev_masked = 0;
        } else if (masked_by >= 0) {
            if (!prev_masked) {
                char idx[24];
                snprintf(idx, sizeof(idx), "%ld", masked_by);
                sl_html_elem(h, "span", "class", "masked", "data-finding", idx, NULL,
                             "[secret hidden]");
            }
            prev_masked = 1;
        } else {
            if (sl_buf_cstr(&ids) != SL_OK)
                h->rc = SL_ETOOBIG;
            sl_html_open(h, "mark", "class", sev_class[rank],
                         "data-findings", ids.data ? (const char *)ids.data : "", NULL);
            sl_html_textn(h, p + a, b - a);
            sl_html_close(h, "mark");
            prev_masked = 0;
        }
    }
    sl_buf_free(&ids);
    free(cut);
}
