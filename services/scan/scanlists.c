/*
 * scanlists.c -- a dataset's scan allow-list and deny-list (scanlists.h):
 * parsed from the datasets.scan_lists JSON, patterns compiled with PCRE2
 * (JIT where available), matched under the sample's work budget.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "scanlists.h"

#include <jansson.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JIT_STACK_MAX (1024u * 1024u)

typedef struct lstr {
    char *p;
    size_t n;
} lstr;

typedef struct list {
    lstr *s;                 /* exact strings */
    size_t ns;
    pcre2_code **re;         /* patterns */
    size_t nre;
} list;

struct sl_scanlists {
    list allow, deny;
    pcre2_match_data *md;
    pcre2_match_context *mc;
    pcre2_jit_stack *js;
};

static void list_free(list *l)
{
    for (size_t i = 0; i < l->ns; i++)
        free(l->s[i].p);
    for (size_t i = 0; i < l->nre; i++)
        pcre2_code_free(l->re[i]);
    free(l->s);
    free(l->re);
    memset(l, 0, sizeof(*l));
}

void sl_scanlists_destroy(sl_scanlists *l)
{
    if (!l)
        return;
    list_free(&l->allow);
    list_free(&l->deny);
    pcre2_match_data_free(l->md);
    pcre2_match_context_free(l->mc);
    pcre2_jit_stack_free(l->js);
    free(l);
}

size_t sl_scanlists_allow_count(const sl_scanlists *l)
{
    return l ? l->allow.ns + l->allow.nre : 0;
}

size_t sl_scanlists_deny_count(const sl_scanlists *l)
{
    return l ? l->deny.ns + l->deny.nre : 0;
}

/* The array `key` of doc as checked strings: each 1..MAX_LEN bytes, no
 * NUL.  *arr NULL when absent.  SL_OK or SL_EINVAL. */
static int get_array(json_t *doc, const char *key, json_t **arr, sl_err *err)
{
    json_t *a = json_object_get(doc, key), *v;
    size_t i;

    *arr = NULL;
    if (!a)
        return SL_OK;
    if (!json_is_array(a)) {
        sl_err_set(err, "scan lists: \"%s\" is not an array of strings", key);
        return SL_EINVAL;
    }
    if (json_array_size(a) > SL_SCANLISTS_MAX_ENTRIES) {
        sl_err_set(err, "scan lists: \"%s\" has %zu entries, at most %d", key,
                   json_array_size(a), SL_SCANLISTS_MAX_ENTRIES);
        return SL_EINVAL;
    }
    json_array_foreach(a, i, v) {
        size_t n = json_is_string(v) ? json_string_length(v) : 0;
        if (!json_is_string(v) || n == 0 || n > SL_SCANLISTS_MAX_LEN ||
            memchr(json_string_value(v), '\0', n)) {
            sl_err_set(err, "scan lists: \"%s\" entry %zu is not a string of "
                       "1 to %d bytes without NUL", key, i, SL_SCANLISTS_MAX_LEN);
            return SL_EINVAL;
        }
    }
    *arr = a;
    return SL_OK;
}

static int add_strings(list *l, json_t *a)
{
    json_t *v;
    size_t i;

    if (!a || !json_array_size(a))
        return SL_OK;
    if (!(l->s = calloc(json_array_size(a), sizeof(*l->s))))
        return SL_ENOMEM;
    json_array_foreach(a, i, v) {
        size_t n = json_string_length(v);
        if (!(l->s[i].p = malloc(n)))
            return SL_ENOMEM;
        memcpy(l->s[i].p, json_string_value(v), n);
        l->s[i].n = n;
        l->ns++;
    }
    return SL_OK;
}

/* Compiles the patterns of a (allow: anchored at both ends). */
static int add_patterns(list *l, json_t *a, const char *key, int anchored,
                        pcre2_match_data *md, sl_err *err)
{
    uint32_t opts = PCRE2_NEVER_UTF | PCRE2_NEVER_UCP | PCRE2_NEVER_BACKSLASH_C |
                    (anchored ? PCRE2_ANCHORED | PCRE2_ENDANCHORED : 0);
    json_t *v;
    size_t i;

    if (!a || !json_array_size(a))
        return SL_OK;
    if (!(l->re = calloc(json_array_size(a), sizeof(*l->re))))
        return SL_ENOMEM;
    json_array_foreach(a, i, v) {
        int ec;
        PCRE2_SIZE eo;
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)json_string_value(v),
                                       json_string_length(v), opts, &ec, &eo, NULL);
        if (!re) {
            PCRE2_UCHAR msg[160];
            if (ec == PCRE2_ERROR_NOMEMORY)
                return SL_ENOMEM;
            pcre2_get_error_message(ec, msg, sizeof(msg));
            sl_err_set(err, "scan lists: \"%s\" entry %zu: pattern error at "
                       "offset %zu: %s", key, i, (size_t)eo, (const char *)msg);
            return SL_EINVAL;
        }
        l->re[l->nre++] = re;
        (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);   /* else: interpreter */
        /* A pattern that matches nothing at all would match everywhere. */
        if (pcre2_match(re, (PCRE2_SPTR)"", 0, 0, 0, md, NULL) >= 0) {
            sl_err_set(err, "scan lists: \"%s\" entry %zu matches the empty "
                       "string", key, i);
            return SL_EINVAL;
        }
    }
    return SL_OK;
}

int sl_scanlists_compile(sl_scanlists **out, const char *json, size_t len,
                         sl_err *err)
{
    static const char *const keys[] = { "allow", "allow_patterns", "deny",
                                        "deny_patterns" };
    sl_scanlists *l = NULL;
    json_t *doc = NULL, *arr[4], *v;
    json_error_t je;
    const char *k;
    int rc = SL_EINVAL;

    *out = NULL;
    if (len > SL_SCANLISTS_MAX_TEXT) {
        sl_err_set(err, "scan lists: %zu bytes, at most %u", len,
                   SL_SCANLISTS_MAX_TEXT);
        return SL_EINVAL;
    }
    if (!(doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je)) ||
        !json_is_object(doc)) {
        /* not je.text: it may quote an entry */
        sl_err_set(err, "scan lists: not a JSON object");
        goto out;
    }
    json_object_foreach(doc, k, v) {
        size_t i;
        for (i = 0; i < 4 && strcmp(k, keys[i]) != 0; i++)
            ;
        if (i == 4) {
            sl_err_set(err, "scan lists: unknown key \"%.40s\" (allow, "
                       "allow_patterns, deny, deny_patterns)", k);
            goto out;
        }
    }
    for (size_t i = 0; i < 4; i++)
        if ((rc = get_array(doc, keys[i], &arr[i], err)) != SL_OK)
            goto out;
    rc = SL_ENOMEM;
    if (!(l = calloc(1, sizeof(*l))) ||
        !(l->md = pcre2_match_data_create(1, NULL)) ||
        !(l->mc = pcre2_match_context_create(NULL)) ||
        !(l->js = pcre2_jit_stack_create(32 * 1024, JIT_STACK_MAX, NULL)))
        goto out;
    pcre2_jit_stack_assign(l->mc, NULL, l->js);
    if ((rc = add_strings(&l->allow, arr[0])) != SL_OK ||
        (rc = add_patterns(&l->allow, arr[1], keys[1], 1, l->md, err)) != SL_OK ||
        (rc = add_strings(&l->deny, arr[2])) != SL_OK ||
        (rc = add_patterns(&l->deny, arr[3], keys[3], 0, l->md, err)) != SL_OK)
        goto out;
    *out = l;
    l = NULL;
    rc = SL_OK;
out:
    if (rc == SL_ENOMEM)
        sl_err_set(err, "out of memory");
    sl_scanlists_destroy(l);
    json_decref(doc);
    return rc;
}

/* Sets the budget's PCRE2 limits on the match context. */
static void limits(sl_scanlists *l, const sl_budget *b)
{
    pcre2_set_match_limit(l->mc, b ? b->match_limit : 2000000u);
    pcre2_set_depth_limit(l->mc, b ? b->depth_limit : 2000000u);
    pcre2_set_heap_limit(l->mc, b ? b->heap_limit_kib : 65536u);
}

/* One PCRE2 run: > 0 matched (ovector in l->md), 0 no match, -1 a limit
 * was reached (the budget exhausted), -2 another failure. */
static int run(sl_scanlists *l, pcre2_code *re, const uint8_t *text, size_t len,
               size_t start, sl_budget *b, const char *part)
{
    int rc;

    if (!sl_budget_regex(b, 1))
        return -1;
    rc = pcre2_match(re, (PCRE2_SPTR)text, len, start, 0, l->md, l->mc);
    if (rc >= 0)     /* the start positions tried: up to the match's end */
        return sl_budget_regex(b, pcre2_get_ovector_pointer(l->md)[1] - start)
               ? 1 : -1;
    if (rc == PCRE2_ERROR_NOMATCH)
        return sl_budget_regex(b, len - start) ? 0 : -1;
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
        rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT) {
        if (b && !b->part)
            snprintf(b->rule, sizeof(b->rule), "%s", part);
        sl_budget_exhaust(b, "regex",
                          rc == PCRE2_ERROR_MATCHLIMIT ? "match limit" :
                          rc == PCRE2_ERROR_DEPTHLIMIT ? "depth limit" :
                          rc == PCRE2_ERROR_HEAPLIMIT ? "heap limit" : "JIT stack");
        return -1;
    }
    return -2;
}

int sl_scanlists_allowed(sl_scanlists *l, const uint8_t *p, size_t n,
                         sl_budget *b)
{
    if (!l)
        return 0;
    for (size_t i = 0; i < l->allow.ns; i++)
        if (l->allow.s[i].n == n && memcmp(l->allow.s[i].p, p, n) == 0)
            return 1;
    if (!sl_budget_bytes(b, "allow", (uint64_t)n * l->allow.ns))
        return 0;
    limits(l, b);
    for (size_t i = 0; i < l->allow.nre; i++) {
        int rc = run(l, l->allow.re[i], p, n, 0, b, "allow_patterns");
        if (rc > 0)
            return 1;
        if (rc < 0)
            return 0;
    }
    return 0;
}

/* The first occurrence of s in text[from..len), or len. */
static size_t find(const uint8_t *text, size_t len, size_t from, const lstr *s)
{
    while (from + s->n <= len) {
        const uint8_t *hit = memchr(text + from, (unsigned char)s->p[0],
                                    len - from - s->n + 1);
        if (!hit)
            return len;
        if (memcmp(hit, s->p, s->n) == 0)
            return (size_t)(hit - text);
        from = (size_t)(hit - text) + 1;
    }
    return len;
}

int sl_scanlists_deny(sl_scanlists *l, const uint8_t *text, size_t len,
                      size_t max_hits, sl_budget *b, sl_scanlists_hit hit,
                      void *arg, int *capped)
{
    size_t hits = 0;
    int rc;

    *capped = 0;
    if (!l)
        return SL_OK;
    for (size_t i = 0; i < l->deny.ns; i++) {
        const lstr *s = &l->deny.s[i];
        if (!sl_budget_bytes(b, "deny", len))
            return SL_OK;
        for (size_t at = find(text, len, 0, s); at < len;
             at = find(text, len, at + s->n, s)) {
            if (hits++ >= max_hits) {
                *capped = 1;
                return SL_OK;
            }
            if ((rc = hit(arg, at, s->n)) != 0)
                return rc;
        }
    }
    limits(l, b);
    for (size_t i = 0; i < l->deny.nre; i++) {
        size_t at = 0;
        while (at < len) {
            PCRE2_SIZE *ov;
            int r = run(l, l->deny.re[i], text, len, at, b, "deny_patterns");
            if (r < 0)
                return r == -1 ? SL_OK : SL_ERR;
            if (r == 0)
                break;
            ov = pcre2_get_ovector_pointer(l->md);
            if (ov[1] <= ov[0]) {          /* empty here (a lookaround) */
                at = ov[0] + 1;
                continue;
            }
            if (hits++ >= max_hits) {
                *capped = 1;
                return SL_OK;
            }
            if ((rc = hit(arg, ov[0], ov[1] - ov[0])) != 0)
                return rc;
            at = ov[1];
        }
    }
    return SL_OK;
}
