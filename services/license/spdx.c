/*
 * spdx.c -- the SPDX License List loaded from the embedded JSON, and a
 * recursive-descent parser for SPDX license expressions (spdx.h).
 *
 * Grammar (SPDX 2.3 Annex D, precedence WITH > AND > OR):
 *
 *   or     := and ( "OR" and )*
 *   and    := term ( "AND" term )*
 *   term   := "(" or ")" | simple [ "WITH" exception ]
 *   simple := license-id ["+"] | [DocumentRef-x:]LicenseRef-y
 *   exception := exception-id | [DocumentRef-x:]AdditionRef-y
 *
 * Tokens are "(", ")" and words of [A-Za-z0-9.:-] with an optional final
 * "+"; whitespace separates words and is otherwise ignored.  Syntax errors
 * stop the parse at once; unknown, misplaced and deprecated ids are noted
 * (the leftmost of each) and reported only once the syntax is known to be
 * good, so "FOO AND (" is a syntax error, not an unknown id.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "sl/embed.h"
#include "spdx.h"

struct sl_spdx {
    char *version;
    sl_spdx_entry *lic;
    size_t nlic;
    sl_spdx_entry *exc;
    size_t nexc;
};

struct sl_spdx_expr {
    sl_spdx_kind kind;
    char *id;                    /* leaves */
    char *exception;             /* leaves, may be NULL */
    int or_later;                /* leaves */
    size_t n, cap;               /* AND / OR */
    struct sl_spdx_expr **kids;
};

/* ---- the list ---------------------------------------------------------- */

static int entry_cmp(const void *a, const void *b)
{
    const sl_spdx_entry *x = a, *y = b;

    return strcasecmp(x->id, y->id);
}

static int key_cmp(const void *key, const void *b)
{
    const sl_spdx_entry *y = b;

    return strcasecmp((const char *)key, y->id);
}

static void entries_free(sl_spdx_entry *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free((char *)v[i].id);
        free((char *)v[i].name);
        free((char *)v[i].replacement);
        free((char *)v[i].replacement_note);
    }
    free(v);
}

void sl_spdx_destroy(sl_spdx *s)
{
    if (!s)
        return;
    free(s->version);
    entries_free(s->lic, s->nlic);
    entries_free(s->exc, s->nexc);
    free(s);
}

/* An id the grammar can carry: [A-Za-z0-9.-]+ with an optional final '+'
 * (the deprecated "GPL-2.0+" family). */
static int id_ok(const char *id)
{
    size_t n = strlen(id);

    if (n == 0)
        return 0;
    if (id[n - 1] == '+')
        n--;
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)id[i]) && id[i] != '-' && id[i] != '.')
            return 0;
    return 1;
}

static const char *opt_str(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Reads one generated file: {"license_list_version", key: [entries]}. */
static int load_list(const char *text, size_t len, const char *key,
                     int is_exc, char **version, sl_spdx_entry **out,
                     size_t *nout, sl_err *err)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    json_t *arr;
    sl_spdx_entry *v = NULL;
    size_t n = 0, i;
    int rc = SL_ERR;

    if (!root) {
        sl_err_set(err, "spdx %s: JSON error at line %d: %s", key, je.line,
                   je.text);
        return SL_ERR;
    }
    if (!opt_str(root, "license_list_version")) {
        sl_err_set(err, "spdx %s: no license_list_version", key);
        goto out;
    }
    arr = json_object_get(root, key);
    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        sl_err_set(err, "spdx %s: \"%s\" is not a non-empty array", key, key);
        goto out;
    }
    v = calloc(json_array_size(arr), sizeof(*v));
    if (!v) {
        rc = SL_ENOMEM;
        goto out;
    }
    for (i = 0; i < json_array_size(arr); i++) {
        json_t *o = json_array_get(arr, i);
        const char *id = opt_str(o, "id"), *name = opt_str(o, "name");
        const char *repl = opt_str(o, "replacement");
        const char *note = opt_str(o, "replacement_note");
        json_t *dep = json_object_get(o, "deprecated");

        if (!id || !name || !json_is_boolean(dep) || !id_ok(id)) {
            sl_err_set(err, "spdx %s: entry %zu lacks a valid id, name or "
                       "deprecated flag", key, i);
            goto out;
        }
        v[n].id = strdup(id);
        v[n].name = strdup(name);
        v[n].replacement = repl ? strdup(repl) : NULL;
        v[n].replacement_note = note ? strdup(note) : NULL;
        v[n].deprecated = json_is_true(dep);
        v[n].osi_approved = json_is_true(json_object_get(o, "osi_approved"));
        v[n].fsf_libre = json_is_true(json_object_get(o, "fsf_libre"));
        v[n].is_exception = is_exc;
        n++;
        if (!v[n - 1].id || !v[n - 1].name || (repl && !v[n - 1].replacement)
            || (note && !v[n - 1].replacement_note)) {
            rc = SL_ENOMEM;
            goto out;
        }
    }
    qsort(v, n, sizeof(*v), entry_cmp);
    for (i = 1; i < n; i++)
        if (strcasecmp(v[i - 1].id, v[i].id) == 0) {
            sl_err_set(err, "spdx %s: id \"%s\" listed twice", key, v[i].id);
            goto out;
        }
    *version = strdup(opt_str(root, "license_list_version"));
    if (!*version) {
        rc = SL_ENOMEM;
        goto out;
    }
    *out = v;
    *nout = n;
    v = NULL;
    rc = SL_OK;
out:
    entries_free(v, n);
    json_decref(root);
    return rc;
}

int sl_spdx_load_json(sl_spdx **out, const char *licenses, size_t llen,
                      const char *exceptions, size_t elen, sl_err *err)
{
    sl_spdx *s = calloc(1, sizeof(*s));
    char *ev = NULL;
    int rc;

    *out = NULL;
    if (!s)
        return SL_ENOMEM;
    rc = load_list(licenses, llen, "licenses", 0, &s->version, &s->lic,
                   &s->nlic, err);
    if (rc == SL_OK)
        rc = load_list(exceptions, elen, "exceptions", 1, &ev, &s->exc,
                       &s->nexc, err);
    if (rc == SL_OK && strcmp(ev, s->version) != 0) {
        sl_err_set(err, "spdx: license list %s but exception list %s",
                   s->version, ev);
        rc = SL_ERR;
    }
    free(ev);
    if (rc != SL_OK) {
        sl_spdx_destroy(s);
        return rc;
    }
    *out = s;
    return SL_OK;
}

int sl_spdx_load(sl_spdx **out, sl_err *err)
{
    const sl_embedded *l = sl_embed_get("spdx-licenses.json");
    const sl_embedded *x = sl_embed_get("spdx-exceptions.json");

    *out = NULL;
    if (!l || !x) {
        sl_err_set(err, "spdx: spdx-licenses.json / spdx-exceptions.json "
                   "not compiled in");
        return SL_ERR;
    }
    return sl_spdx_load_json(out, l->data, l->len, x->data, x->len, err);
}

const char *sl_spdx_list_version(const sl_spdx *s)
{
    return s->version;
}

const sl_spdx_entry *sl_spdx_license(const sl_spdx *s, const char *id)
{
    return bsearch(id, s->lic, s->nlic, sizeof(*s->lic), key_cmp);
}

const sl_spdx_entry *sl_spdx_exception(const sl_spdx *s, const char *id)
{
    return bsearch(id, s->exc, s->nexc, sizeof(*s->exc), key_cmp);
}

size_t sl_spdx_license_count(const sl_spdx *s) { return s->nlic; }
size_t sl_spdx_exception_count(const sl_spdx *s) { return s->nexc; }

const sl_spdx_entry *sl_spdx_license_at(const sl_spdx *s, size_t i)
{
    return i < s->nlic ? &s->lic[i] : NULL;
}

const sl_spdx_entry *sl_spdx_exception_at(const sl_spdx *s, size_t i)
{
    return i < s->nexc ? &s->exc[i] : NULL;
}

/* ---- trees --------------------------------------------------------------- */

void sl_spdx_expr_destroy(sl_spdx_expr *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n; i++)
        sl_spdx_expr_destroy(e->kids[i]);
    free(e->kids);
    free(e->id);
    free(e->exception);
    free(e);
}

static sl_spdx_expr *leaf_new(sl_spdx_kind kind, const char *id, size_t idlen)
{
    sl_spdx_expr *e = calloc(1, sizeof(*e));

    if (!e)
        return NULL;
    e->kind = kind;
    e->id = strndup(id, idlen);
    if (!e->id) {
        free(e);
        return NULL;
    }
    return e;
}

static int push_kid(sl_spdx_expr *op, sl_spdx_expr *kid)
{
    if (op->n == op->cap) {
        size_t cap = op->cap ? 2 * op->cap : 4;
        sl_spdx_expr **k = realloc(op->kids, cap * sizeof(*k));

        if (!k)
            return SL_ENOMEM;
        op->kids = k;
        op->cap = cap;
    }
    op->kids[op->n++] = kid;
    return SL_OK;
}

sl_spdx_expr *sl_spdx_expr_join(sl_spdx_kind op, sl_spdx_expr **kids,
                                size_t n)
{
    sl_spdx_expr *e = NULL;
    size_t i, total = 0;

    if (n == 0)
        return NULL;
    if (n == 1)
        return kids[0];
    if (op != SL_SPDX_AND && op != SL_SPDX_OR)
        goto fail;
    for (i = 0; i < n; i++)
        total += kids[i]->kind == op ? kids[i]->n : 1;
    e = calloc(1, sizeof(*e));
    if (!e || !(e->kids = malloc(total * sizeof(*e->kids))))
        goto fail;
    e->kind = op;
    e->cap = total;
    for (i = 0; i < n; i++) {
        sl_spdx_expr *k = kids[i];

        if (k->kind == op) {           /* flatten: (A AND B) AND C */
            memcpy(e->kids + e->n, k->kids, k->n * sizeof(*k->kids));
            e->n += k->n;
            k->n = 0;
            sl_spdx_expr_destroy(k);
        } else {
            e->kids[e->n++] = k;
        }
    }
    return e;
fail:
    for (i = 0; i < n; i++)
        sl_spdx_expr_destroy(kids[i]);
    free(e);
    return NULL;
}

sl_spdx_expr *sl_spdx_expr_dup(const sl_spdx_expr *e)
{
    sl_spdx_expr *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->kind = e->kind;
    c->or_later = e->or_later;
    if ((e->id && !(c->id = strdup(e->id)))
        || (e->exception && !(c->exception = strdup(e->exception))))
        goto fail;
    for (size_t i = 0; i < e->n; i++) {
        sl_spdx_expr *k = sl_spdx_expr_dup(e->kids[i]);

        if (!k || push_kid(c, k) != SL_OK) {
            sl_spdx_expr_destroy(k);
            goto fail;
        }
    }
    return c;
fail:
    sl_spdx_expr_destroy(c);
    return NULL;
}

sl_spdx_kind sl_spdx_expr_kind(const sl_spdx_expr *e) { return e->kind; }
size_t sl_spdx_expr_count(const sl_spdx_expr *e) { return e->n; }

const sl_spdx_expr *sl_spdx_expr_child(const sl_spdx_expr *e, size_t i)
{
    return i < e->n ? e->kids[i] : NULL;
}

const char *sl_spdx_expr_id(const sl_spdx_expr *e) { return e->id; }
int sl_spdx_expr_or_later(const sl_spdx_expr *e) { return e->or_later; }

const char *sl_spdx_expr_exception(const sl_spdx_expr *e)
{
    return e->exception;
}

/* Writes the canonical text into buf (when not NULL) and returns its
 * length; called once to measure and once to write. */
static size_t put(char *buf, size_t at, const char *s)
{
    size_t n = strlen(s);

    if (buf)
        memcpy(buf + at, s, n);
    return n;
}

static size_t render(const sl_spdx_expr *e, char *buf, size_t at)
{
    size_t start = at;

    if (e->kind == SL_SPDX_LICENSE || e->kind == SL_SPDX_REF) {
        at += put(buf, at, e->id);
        if (e->or_later)
            at += put(buf, at, "+");
        if (e->exception) {
            at += put(buf, at, " WITH ");
            at += put(buf, at, e->exception);
        }
        return at - start;
    }
    for (size_t i = 0; i < e->n; i++) {
        int paren = e->kind == SL_SPDX_AND && e->kids[i]->kind == SL_SPDX_OR;

        if (i)
            at += put(buf, at, e->kind == SL_SPDX_AND ? " AND " : " OR ");
        if (paren)
            at += put(buf, at, "(");
        at += render(e->kids[i], buf, at);
        if (paren)
            at += put(buf, at, ")");
    }
    return at - start;
}

char *sl_spdx_normalise(const sl_spdx_expr *e)
{
    size_t n = render(e, NULL, 0);
    char *s = malloc(n + 1);

    if (!s)
        return NULL;
    render(e, s, 0);
    s[n] = '\0';
    return s;
}

/* ---- the parser ---------------------------------------------------------- */

enum tok_type { T_END, T_LP, T_RP, T_WORD, T_AND, T_OR, T_WITH };

typedef struct tok {
    enum tok_type type;
    size_t off, len;
} tok;

/* A problem noticed during the parse but reported only if the syntax is
 * good (leftmost of its class wins). */
typedef struct note {
    int set;
    long pos;
    char detail[SL_SPDX_DETAIL_MAX];
} note;

typedef struct parser {
    const sl_spdx *s;
    const char *src;
    size_t len, at;
    tok cur;
    int depth;
    int failed;         /* a syntax error or ENOMEM stopped the parse */
    int nomem;
    sl_spdx_error *e;
    note misplaced, unknown, deprecated;
} parser;

static void fail_at(parser *p, const char *code, size_t pos,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void fail_at(parser *p, const char *code, size_t pos,
                    const char *fmt, ...)
{
    va_list ap;

    if (p->failed)
        return;
    p->failed = 1;
    p->e->code = code;
    p->e->pos = (long)pos;
    va_start(ap, fmt);
    vsnprintf(p->e->detail, sizeof(p->e->detail), fmt, ap);
    va_end(ap);
}

static void nomem(parser *p)
{
    if (!p->failed) {
        p->failed = 1;
        p->nomem = 1;
    }
}

static void note_at(note *n, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void note_at(note *n, size_t pos, const char *fmt, ...)
{
    va_list ap;

    if (n->set)
        return;
    n->set = 1;
    n->pos = (long)pos;
    va_start(ap, fmt);
    vsnprintf(n->detail, sizeof(n->detail), fmt, ap);
    va_end(ap);
}

static int word_char(int c)
{
    return isalnum(c) || c == '.' || c == '-' || c == ':';
}

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Quoted token text for details: words are safe characters only, and long
 * ones are cut. */
#define TOKFMT "%s%.*s%s"
#define TOKARG(p, t) \
    (t).type == T_END ? "" : "'", \
    (t).type == T_END ? 17 : (int)((t).len > 48 ? 48 : (t).len), \
    (t).type == T_END ? "end of expression" : (p)->src + (t).off, \
    (t).type == T_END ? "" : ((t).len > 48 ? "...'" : "'")

static void next(parser *p)
{
    const char *s = p->src;
    size_t i = p->at, start;

    if (p->failed)
        return;
    while (i < p->len && is_space((unsigned char)s[i]))
        i++;
    p->cur.off = i;
    p->cur.len = 0;
    if (i == p->len) {
        p->cur.type = T_END;
        p->at = i;
        return;
    }
    if (s[i] == '(' || s[i] == ')') {
        p->cur.type = s[i] == '(' ? T_LP : T_RP;
        p->cur.len = 1;
        p->at = i + 1;
        return;
    }
    start = i;
    while (i < p->len && word_char((unsigned char)s[i]))
        i++;
    if (i < p->len && s[i] == '+') {
        if (i == start) {
            fail_at(p, SL_LICENSE_INVALID, i, "'+' at offset %zu must follow "
                    "a license id directly, with no space", i);
            return;
        }
        i++;
        if (i < p->len && (word_char((unsigned char)s[i]) || s[i] == '+')) {
            fail_at(p, SL_LICENSE_INVALID, i - 1, "'+' at offset %zu must "
                    "end a license id", i - 1);
            return;
        }
    }
    if (i == start) {
        unsigned char c = (unsigned char)s[i];

        if (c >= 0x20 && c < 0x7f)
            fail_at(p, SL_LICENSE_INVALID, i, "unexpected character '%c' at "
                    "offset %zu", c, i);
        else
            fail_at(p, SL_LICENSE_INVALID, i, "unexpected byte 0x%02x at "
                    "offset %zu", c, i);
        return;
    }
    p->cur.type = T_WORD;
    p->cur.len = i - start;
    p->at = i;
    if (p->cur.len == 3 && strncasecmp(s + start, "AND", 3) == 0)
        p->cur.type = T_AND;
    else if (p->cur.len == 2 && strncasecmp(s + start, "OR", 2) == 0)
        p->cur.type = T_OR;
    else if (p->cur.len == 4 && strncasecmp(s + start, "WITH", 4) == 0)
        p->cur.type = T_WITH;
}

static int has_prefix(const char *w, size_t n, const char *pfx)
{
    size_t k = strlen(pfx);

    return n >= k && strncasecmp(w, pfx, k) == 0;
}

/* [A-Za-z0-9.-]+ */
static int idstring_ok(const char *w, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)w[i]) && w[i] != '-' && w[i] != '.')
            return 0;
    return 1;
}

/* Parses "[DocumentRef-x:]<kind>-y" (kind "LicenseRef" or "AdditionRef")
 * into its canonical spelling.  Returns a malloc'd string, or NULL after
 * failing the parse. */
static char *parse_ref(parser *p, const char *w, size_t n, size_t off,
                       const char *kind)
{
    const char *doc = NULL, *ref;
    size_t docn = 0, refn, kl = strlen(kind);
    const char *colon = memchr(w, ':', n);
    char *out;

    if (colon) {
        if (!has_prefix(w, n, "DocumentRef-")) {
            fail_at(p, SL_LICENSE_INVALID, off, "':' is allowed only in "
                    "DocumentRef-x:%s-y, found " TOKFMT " at offset %zu",
                    kind, TOKARG(p, p->cur), off);
            return NULL;
        }
        doc = w + 12;
        docn = (size_t)(colon - doc);
        if (!idstring_ok(doc, docn)) {
            fail_at(p, SL_LICENSE_INVALID, off, "bad DocumentRef id in "
                    TOKFMT " at offset %zu", TOKARG(p, p->cur), off);
            return NULL;
        }
        ref = colon + 1;
        refn = n - (size_t)(ref - w);
    } else {
        ref = w;
        refn = n;
    }
    if (refn < kl + 1 || strncasecmp(ref, kind, kl) != 0 || ref[kl] != '-'
        || !idstring_ok(ref + kl + 1, refn - kl - 1)) {
        fail_at(p, SL_LICENSE_INVALID, off, "expected %s-<id> (letters, "
                "digits, '.', '-'), found " TOKFMT " at offset %zu", kind,
                TOKARG(p, p->cur), off);
        return NULL;
    }
    out = malloc(n + 1);
    if (!out) {
        nomem(p);
        return NULL;
    }
    if (doc)
        snprintf(out, n + 1, "DocumentRef-%.*s:%s-%.*s", (int)docn, doc, kind,
                 (int)(refn - kl - 1), ref + kl + 1);
    else
        snprintf(out, n + 1, "%s-%.*s", kind, (int)(refn - kl - 1),
                 ref + kl + 1);
    return out;
}

static void note_deprecated(parser *p, const sl_spdx_entry *en, size_t off)
{
    const char *what = en->is_exception ? "license exception" : "license";

    if (en->replacement)
        note_at(&p->deprecated, off, "%s id '%s' at offset %zu is deprecated "
                "(SPDX License List %s); use '%s' instead", what, en->id, off,
                p->s->version, en->replacement);
    else
        note_at(&p->deprecated, off, "%s id '%s' at offset %zu is deprecated "
                "(SPDX License List %s) and has no single replacement: %s",
                what, en->id, off, p->s->version,
                en->replacement_note ? en->replacement_note
                                     : "name the license that applies");
}

static int is_missing_word(const char *w, size_t n)
{
    return (n == 4 && strncasecmp(w, "NONE", 4) == 0)
        || (n == 11 && strncasecmp(w, "NOASSERTION", 11) == 0);
}

/* The license part of a term: the current token is a word. */
static sl_spdx_expr *parse_simple(parser *p)
{
    const char *w = p->src + p->cur.off;
    size_t n = p->cur.len, off = p->cur.off;
    const sl_spdx_entry *en;
    sl_spdx_expr *e;
    char key[SL_SPDX_EXPR_MAX + 1];

    if (is_missing_word(w, n)) {
        fail_at(p, SL_LICENSE_MISSING, off, "'%.*s' at offset %zu says no "
                "license is asserted; it cannot be part of an expression",
                (int)n, w, off);
        return NULL;
    }
    if (memchr(w, ':', n) || has_prefix(w, n, "LicenseRef-")) {
        char *ref;

        if (w[n - 1] == '+') {
            fail_at(p, SL_LICENSE_INVALID, off + n - 1, "'+' at offset %zu "
                    "applies only to listed license ids, not LicenseRef",
                    off + n - 1);
            return NULL;
        }
        ref = parse_ref(p, w, n, off, "LicenseRef");
        if (!ref)
            return NULL;
        e = calloc(1, sizeof(*e));
        if (!e) {
            free(ref);
            nomem(p);
            return NULL;
        }
        e->kind = SL_SPDX_REF;
        e->id = ref;
        return e;
    }
    if (has_prefix(w, n, "AdditionRef-")) {
        fail_at(p, SL_LICENSE_INVALID, off, "'%.*s' at offset %zu is an "
                "addition; it can only follow WITH", (int)n, w, off);
        return NULL;
    }

    memcpy(key, w, n);
    key[n] = '\0';
    /* "GPL-2.0+" is itself a (deprecated) listed id; otherwise '+' is the
     * or-later operator on the id before it. */
    en = sl_spdx_license(p->s, key);
    if (!en && key[n - 1] == '+') {
        key[n - 1] = '\0';
        en = sl_spdx_license(p->s, key);
        e = leaf_new(SL_SPDX_LICENSE, en ? en->id : key, strlen(en ? en->id
                                                                   : key));
        if (e)
            e->or_later = 1;
    } else {
        e = leaf_new(SL_SPDX_LICENSE, en ? en->id : key,
                     strlen(en ? en->id : key));
    }
    if (!e) {
        nomem(p);
        return NULL;
    }
    if (!en) {
        const sl_spdx_entry *x = sl_spdx_exception(p->s, key);

        if (x)
            note_at(&p->misplaced, off, "'%s' at offset %zu is a license "
                    "exception; it can only follow WITH", x->id, off);
        else
            note_at(&p->unknown, off, "unknown license id '%s' at offset "
                    "%zu (not on SPDX License List %s; use LicenseRef-<id> "
                    "for other licenses)", key, off, p->s->version);
    } else if (en->deprecated) {
        note_deprecated(p, en, off);
    }
    return e;
}

/* The word after WITH. */
static int parse_exception(parser *p, sl_spdx_expr *leaf)
{
    const char *w = p->src + p->cur.off;
    size_t n = p->cur.len, off = p->cur.off;
    const sl_spdx_entry *en;
    char key[SL_SPDX_EXPR_MAX + 1];

    if (p->cur.type != T_WORD) {
        fail_at(p, SL_LICENSE_INVALID, off, "WITH must be followed by a "
                "license exception id, found " TOKFMT " at offset %zu",
                TOKARG(p, p->cur), off);
        return -1;
    }
    if (w[n - 1] == '+') {
        fail_at(p, SL_LICENSE_INVALID, off + n - 1, "'+' at offset %zu "
                "cannot follow a license exception", off + n - 1);
        return -1;
    }
    if (memchr(w, ':', n) || has_prefix(w, n, "AdditionRef-")) {
        leaf->exception = parse_ref(p, w, n, off, "AdditionRef");
        return leaf->exception ? 0 : -1;
    }
    if (is_missing_word(w, n) || has_prefix(w, n, "LicenseRef-")) {
        fail_at(p, SL_LICENSE_INVALID, off, "WITH must be followed by a "
                "license exception id, found '%.*s' at offset %zu", (int)n,
                w, off);
        return -1;
    }
    memcpy(key, w, n);
    key[n] = '\0';
    en = sl_spdx_exception(p->s, key);
    leaf->exception = strdup(en ? en->id : key);
    if (!leaf->exception) {
        nomem(p);
        return -1;
    }
    if (!en) {
        const sl_spdx_entry *l = sl_spdx_license(p->s, key);

        if (l)
            note_at(&p->misplaced, off, "'%s' at offset %zu is a license, "
                    "not a license exception; combine licenses with AND or "
                    "OR", l->id, off);
        else
            note_at(&p->unknown, off, "unknown license exception id '%s' at "
                    "offset %zu (not on SPDX License List %s)", key, off,
                    p->s->version);
    } else if (en->deprecated) {
        note_deprecated(p, en, off);
    }
    return 0;
}

static sl_spdx_expr *parse_or(parser *p);

/* Explains a token that cannot follow a complete term. */
static void fail_after_term(parser *p, size_t open_off, int in_paren)
{
    tok t = p->cur;

    if (t.type == T_WORD || t.type == T_LP)
        fail_at(p, SL_LICENSE_INVALID, t.off, "expected AND, OR or WITH "
                "before " TOKFMT " at offset %zu", TOKARG(p, t), t.off);
    else if (t.type == T_WITH)
        fail_at(p, SL_LICENSE_INVALID, t.off, "WITH at offset %zu must "
                "follow a single license id (one exception each)", t.off);
    else if (t.type == T_END && in_paren)
        fail_at(p, SL_LICENSE_INVALID, open_off, "'(' at offset %zu is "
                "never closed", open_off);
    else if (t.type == T_RP && !in_paren)
        fail_at(p, SL_LICENSE_INVALID, t.off, "')' at offset %zu has no "
                "matching '('", t.off);
    else
        fail_at(p, SL_LICENSE_INVALID, t.off, "unexpected " TOKFMT
                " at offset %zu", TOKARG(p, t), t.off);
}

static sl_spdx_expr *parse_term(parser *p)
{
    sl_spdx_expr *e;

    if (p->failed)
        return NULL;
    if (p->cur.type == T_LP) {
        size_t open = p->cur.off;

        if (++p->depth > SL_SPDX_DEPTH_MAX) {
            fail_at(p, SL_LICENSE_INVALID, open, "parentheses nested deeper "
                    "than %d levels at offset %zu", SL_SPDX_DEPTH_MAX, open);
            return NULL;
        }
        next(p);
        e = parse_or(p);
        if (!e)
            return NULL;
        if (p->cur.type != T_RP) {
            fail_after_term(p, open, 1);
            sl_spdx_expr_destroy(e);
            return NULL;
        }
        p->depth--;
        next(p);
        if (p->cur.type == T_WITH) {
            fail_at(p, SL_LICENSE_INVALID, p->cur.off, "WITH at offset %zu "
                    "must follow a single license id, not a parenthesised "
                    "expression", p->cur.off);
            sl_spdx_expr_destroy(e);
            return NULL;
        }
        return e;
    }
    if (p->cur.type != T_WORD) {
        if (p->cur.type == T_END && p->cur.off == 0)
            fail_at(p, SL_LICENSE_MISSING, 0, "no license expression given");
        else
            fail_at(p, SL_LICENSE_INVALID, p->cur.off, "expected a license "
                    "id or '(', found " TOKFMT " at offset %zu",
                    TOKARG(p, p->cur), p->cur.off);
        return NULL;
    }
    e = parse_simple(p);
    if (!e)
        return NULL;
    next(p);
    if (p->cur.type == T_WITH) {
        next(p);
        if (p->failed || parse_exception(p, e) != 0) {
            sl_spdx_expr_destroy(e);
            return NULL;
        }
        next(p);
    }
    if (p->failed) {
        sl_spdx_expr_destroy(e);
        return NULL;
    }
    return e;
}

/* op_parse(p) (AND: parse_term, OR: parse_and) separated by op tokens. */
static sl_spdx_expr *parse_list(parser *p, enum tok_type op,
                                sl_spdx_kind kind,
                                sl_spdx_expr *(*sub)(parser *))
{
    sl_spdx_expr *first = sub(p), **kids = NULL, *e;
    size_t n = 0, cap = 0;

    if (!first || p->cur.type != op)
        return first;
    while (1) {
        if (n == cap) {
            size_t nc = cap ? 2 * cap : 4;
            sl_spdx_expr **k = realloc(kids, nc * sizeof(*k));

            if (!k) {
                nomem(p);
                goto fail;
            }
            kids = k;
            cap = nc;
        }
        kids[n++] = first;
        first = NULL;
        if (p->cur.type != op)
            break;
        next(p);
        first = sub(p);
        if (!first)
            goto fail;
    }
    e = sl_spdx_expr_join(kind, kids, n);
    free(kids);
    if (!e)
        nomem(p);
    return e;
fail:
    for (size_t i = 0; i < n; i++)
        sl_spdx_expr_destroy(kids[i]);
    free(kids);
    return NULL;
}

static sl_spdx_expr *parse_and(parser *p)
{
    return parse_list(p, T_AND, SL_SPDX_AND, parse_term);
}

static sl_spdx_expr *parse_or(parser *p)
{
    return parse_list(p, T_OR, SL_SPDX_OR, parse_and);
}

static void set_error(sl_spdx_error *e, const char *code, long pos,
                      const char *detail)
{
    e->code = code;
    e->pos = pos;
    snprintf(e->detail, sizeof(e->detail), "%s", detail);
}

int sl_spdx_parse(const sl_spdx *s, const char *expr, sl_spdx_expr **out,
                  sl_spdx_error *err)
{
    parser p;
    sl_spdx_expr *e;
    size_t len, a, b;

    *out = NULL;
    err->code = NULL;
    err->detail[0] = '\0';
    err->pos = -1;
    if (!expr) {
        set_error(err, SL_LICENSE_MISSING, -1, "no license expression given");
        return SL_EINVAL;
    }
    len = strlen(expr);
    if (len > SL_SPDX_EXPR_MAX) {
        err->code = SL_LICENSE_INVALID;
        snprintf(err->detail, sizeof(err->detail), "license expression is "
                 "%zu bytes long, more than the %d accepted", len,
                 SL_SPDX_EXPR_MAX);
        return SL_EINVAL;
    }
    for (a = 0; a < len && is_space((unsigned char)expr[a]); a++)
        ;
    for (b = len; b > a && is_space((unsigned char)expr[b - 1]); b--)
        ;
    if (a == b) {
        set_error(err, SL_LICENSE_MISSING, -1, "no license expression given");
        return SL_EINVAL;
    }
    if (is_missing_word(expr + a, b - a)) {
        err->code = SL_LICENSE_MISSING;
        snprintf(err->detail, sizeof(err->detail), "license is %.*s: no "
                 "license is asserted for the sample", (int)(b - a), expr + a);
        return SL_EINVAL;
    }

    memset(&p, 0, sizeof(p));
    p.s = s;
    p.src = expr;
    p.len = len;
    p.e = err;
    next(&p);
    e = parse_or(&p);
    if (e && !p.failed && p.cur.type != T_END)
        fail_after_term(&p, 0, 0);
    if (p.failed) {
        sl_spdx_expr_destroy(e);
        if (p.nomem) {
            err->code = NULL;
            return SL_ENOMEM;
        }
        return SL_EINVAL;
    }
    if (p.misplaced.set || p.unknown.set || p.deprecated.set) {
        note *n = p.misplaced.set ? &p.misplaced
                : p.unknown.set   ? &p.unknown : &p.deprecated;

        set_error(err, p.misplaced.set ? SL_LICENSE_INVALID
                     : p.unknown.set   ? SL_LICENSE_UNKNOWN
                                       : SL_LICENSE_DEPRECATED,
                  n->pos, n->detail);
        sl_spdx_expr_destroy(e);
        return SL_EINVAL;
    }
    *out = e;
    return SL_OK;
}
