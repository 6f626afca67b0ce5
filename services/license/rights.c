/*
 * rights.c -- the rights table (schemas/license-rights.json), dataset
 * license policies, the check of an expression against a policy, and the
 * bound license record (rights.h).
 *
 * Every requirement a policy can set is a condition on each license of
 * the chosen alternative on its own: training / commercial use must be
 * allowed by all of them, attribution / share-alike must be required by
 * none, each must be in the allowed list.  So whether a tree satisfies a
 * policy is plain boolean evaluation (a leaf is good or not, AND needs all
 * operands good, OR needs one), and picking the least restricted good
 * operand at each OR independently gives the least restricted alternative
 * overall.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sl/embed.h"
#include "rights.h"

typedef struct rentry {
    char *id;
    sl_rights r;
} rentry;

/* An exception's overrides: has[i] says whether field i is set. */
enum { F_TRAINING, F_COMMERCIAL, F_ATTRIBUTION, F_SHARE_ALIKE, F_N };

static const char *const field_names[F_N] = {
    "training_allowed", "commercial_allowed", "attribution_required",
    "share_alike",
};

typedef struct xentry {
    char *id;
    int has[F_N];
    int val[F_N];
} xentry;

struct sl_rights_table {
    char *version;
    rentry *lic;
    size_t nlic;
    xentry *exc;
    size_t nexc;
};

struct sl_license_policy {
    json_t *version;
    char **allowed;
    size_t nallowed;
    int req_training, req_commercial;
    int forbid_share_alike, forbid_attribution;
};

static const sl_rights unknown_rights = { 0, 0, 0, 1, 1 };

/* ---- the rights table -------------------------------------------------- */

static int rentry_cmp(const void *a, const void *b)
{
    return strcasecmp(((const rentry *)a)->id, ((const rentry *)b)->id);
}

static int xentry_cmp(const void *a, const void *b)
{
    return strcasecmp(((const xentry *)a)->id, ((const xentry *)b)->id);
}

static int rkey_cmp(const void *key, const void *b)
{
    return strcasecmp((const char *)key, ((const rentry *)b)->id);
}

static int xkey_cmp(const void *key, const void *b)
{
    return strcasecmp((const char *)key, ((const xentry *)b)->id);
}

void sl_rights_destroy(sl_rights_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nlic; i++)
        free(t->lic[i].id);
    for (size_t i = 0; i < t->nexc; i++)
        free(t->exc[i].id);
    free(t->lic);
    free(t->exc);
    free(t->version);
    free(t);
}

/* "<prefix><idstring>" with the prefix in exactly this spelling. */
static int is_ref(const char *id, const char *prefix)
{
    size_t k = strlen(prefix);

    if (strncmp(id, prefix, k) != 0 || id[k] == '\0')
        return 0;
    for (const char *c = id + k; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '-' && *c != '.')
            return 0;
    return 1;
}

/* Reads the four fields (all required, or any subset for an exception)
 * and an optional "note". */
static int read_fields(json_t *o, const char *where, int all, int has[F_N],
                       int val[F_N], sl_err *err)
{
    const char *k;
    json_t *v;
    int n = 0;

    if (!json_is_object(o)) {
        sl_err_set(err, "rights table: %s is not an object", where);
        return SL_EINVAL;
    }
    memset(has, 0, F_N * sizeof(int));
    json_object_foreach(o, k, v) {
        int f;

        if (strcmp(k, "note") == 0) {
            if (!json_is_string(v)) {
                sl_err_set(err, "rights table: %s: note is not a string",
                           where);
                return SL_EINVAL;
            }
            continue;
        }
        for (f = 0; f < F_N && strcmp(k, field_names[f]) != 0; f++)
            ;
        if (f == F_N) {
            sl_err_set(err, "rights table: %s: unknown field \"%s\"", where, k);
            return SL_EINVAL;
        }
        if (!json_is_boolean(v)) {
            sl_err_set(err, "rights table: %s: %s is not true or false",
                       where, k);
            return SL_EINVAL;
        }
        has[f] = 1;
        val[f] = json_is_true(v);
        n++;
    }
    if (all ? n != F_N : n == 0) {
        sl_err_set(err, "rights table: %s: %s", where, all
                   ? "needs training_allowed, commercial_allowed, "
                     "attribution_required and share_alike"
                   : "overrides nothing");
        return SL_EINVAL;
    }
    return SL_OK;
}

static int load_licenses(const sl_spdx *spdx, json_t *obj, sl_rights_table *t,
                         sl_err *err)
{
    const char *k;
    json_t *v;
    int rc, has[F_N], val[F_N];

    if (!json_is_object(obj)) {
        sl_err_set(err, "rights table: \"licenses\" is not an object");
        return SL_EINVAL;
    }
    t->lic = calloc(json_object_size(obj) + 1, sizeof(*t->lic));
    if (!t->lic)
        return SL_ENOMEM;
    json_object_foreach(obj, k, v) {
        if (!is_ref(k, "LicenseRef-")) {
            const sl_spdx_entry *en = sl_spdx_license(spdx, k);

            if (!en || strcmp(en->id, k) != 0 || en->deprecated) {
                sl_err_set(err, "rights table: \"%s\" is not a current SPDX "
                           "license id in canonical spelling%s%s", k,
                           en ? ", e.g. " : "",
                           en ? (en->replacement ? en->replacement : en->id)
                              : "");
                return SL_EINVAL;
            }
        }
        rc = read_fields(v, k, 1, has, val, err);
        if (rc != SL_OK)
            return rc;
        t->lic[t->nlic].id = strdup(k);
        if (!t->lic[t->nlic].id)
            return SL_ENOMEM;
        t->lic[t->nlic].r = (sl_rights){ 1, val[F_TRAINING],
                                         val[F_COMMERCIAL],
                                         val[F_ATTRIBUTION],
                                         val[F_SHARE_ALIKE] };
        t->nlic++;
    }
    qsort(t->lic, t->nlic, sizeof(*t->lic), rentry_cmp);
    for (size_t i = 1; i < t->nlic; i++)
        if (strcasecmp(t->lic[i - 1].id, t->lic[i].id) == 0) {
            sl_err_set(err, "rights table: \"%s\" listed twice",
                       t->lic[i].id);
            return SL_EINVAL;
        }
    return SL_OK;
}

static int load_exceptions(const sl_spdx *spdx, json_t *obj,
                           sl_rights_table *t, sl_err *err)
{
    const char *k;
    json_t *v;
    int rc;

    if (!obj)
        return SL_OK;
    if (!json_is_object(obj)) {
        sl_err_set(err, "rights table: \"exceptions\" is not an object");
        return SL_EINVAL;
    }
    t->exc = calloc(json_object_size(obj) + 1, sizeof(*t->exc));
    if (!t->exc)
        return SL_ENOMEM;
    json_object_foreach(obj, k, v) {
        xentry *x = &t->exc[t->nexc];

        if (!is_ref(k, "AdditionRef-")) {
            const sl_spdx_entry *en = sl_spdx_exception(spdx, k);

            if (!en || strcmp(en->id, k) != 0 || en->deprecated) {
                sl_err_set(err, "rights table: \"%s\" is not a current SPDX "
                           "license exception id in canonical spelling", k);
                return SL_EINVAL;
            }
        }
        rc = read_fields(v, k, 0, x->has, x->val, err);
        if (rc != SL_OK)
            return rc;
        x->id = strdup(k);
        if (!x->id)
            return SL_ENOMEM;
        t->nexc++;
    }
    qsort(t->exc, t->nexc, sizeof(*t->exc), xentry_cmp);
    for (size_t i = 1; i < t->nexc; i++)
        if (strcasecmp(t->exc[i - 1].id, t->exc[i].id) == 0) {
            sl_err_set(err, "rights table: \"%s\" listed twice",
                       t->exc[i].id);
            return SL_EINVAL;
        }
    return SL_OK;
}

int sl_rights_load_json(const sl_spdx *spdx, const char *json, size_t len,
                        sl_rights_table **out, sl_err *err)
{
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    sl_rights_table *t = NULL;
    const char *k;
    json_t *v;
    int rc = SL_EINVAL;

    *out = NULL;
    if (!root) {
        sl_err_set(err, "rights table: JSON error at line %d: %s", je.line,
                   je.text);
        return SL_EINVAL;
    }
    if (!json_is_object(root)) {
        sl_err_set(err, "rights table: not a JSON object");
        goto out;
    }
    json_object_foreach(root, k, v) {
        if (strcmp(k, "version") && strcmp(k, "notes") && strcmp(k, "licenses")
            && strcmp(k, "exceptions")) {
            sl_err_set(err, "rights table: unknown key \"%s\"", k);
            goto out;
        }
    }
    if (!json_is_string(json_object_get(root, "version"))
        || json_string_length(json_object_get(root, "version")) == 0) {
        sl_err_set(err, "rights table: \"version\" must be a non-empty "
                   "string");
        goto out;
    }
    t = calloc(1, sizeof(*t));
    if (!t || !(t->version = strdup(json_string_value(
                    json_object_get(root, "version"))))) {
        rc = SL_ENOMEM;
        goto out;
    }
    rc = load_licenses(spdx, json_object_get(root, "licenses"), t, err);
    if (rc == SL_OK)
        rc = load_exceptions(spdx, json_object_get(root, "exceptions"), t,
                             err);
    if (rc == SL_OK) {
        *out = t;
        t = NULL;
    }
out:
    sl_rights_destroy(t);
    json_decref(root);
    return rc;
}

int sl_rights_load(const sl_spdx *spdx, sl_rights_table **out, sl_err *err)
{
    const sl_embedded *e = sl_embed_get("license-rights.json");

    *out = NULL;
    if (!e) {
        sl_err_set(err, "rights table: license-rights.json not compiled in");
        return SL_ERR;
    }
    return sl_rights_load_json(spdx, e->data, e->len, out, err);
}

const char *sl_rights_version(const sl_rights_table *t)
{
    return t->version;
}

int sl_rights_lookup(const sl_rights_table *t, const char *id,
                     const char *exception, sl_rights *out)
{
    const rentry *r = bsearch(id, t->lic, t->nlic, sizeof(*t->lic), rkey_cmp);
    const xentry *x;

    if (!r) {
        *out = unknown_rights;
        return SL_ENOTFOUND;
    }
    *out = r->r;
    if (exception && t->nexc
        && (x = bsearch(exception, t->exc, t->nexc, sizeof(*t->exc),
                        xkey_cmp))) {
        int *f[F_N] = { &out->training_allowed, &out->commercial_allowed,
                        &out->attribution_required, &out->share_alike };

        for (int i = 0; i < F_N; i++)
            if (x->has[i])
                *f[i] = x->val[i];
    }
    return SL_OK;
}

/* ---- dataset policies -------------------------------------------------- */

void sl_license_policy_destroy(sl_license_policy *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nallowed; i++)
        free(p->allowed[i]);
    free(p->allowed);
    json_decref(p->version);
    free(p);
}

const json_t *sl_license_policy_version(const sl_license_policy *p)
{
    return p ? p->version : NULL;
}

static int pattern_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 128)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr(".-+:*?", *s))
            return 0;
    return 1;
}

/* Reads an array of words, each of which must be one of names[]; sets
 * flags[i] for each present. */
static int read_words(json_t *arr, const char *key, const char *const *names,
                      int **flags, size_t n, sl_err *err)
{
    size_t i, j;
    json_t *v;

    if (!json_is_array(arr)) {
        sl_err_set(err, "license policy: \"%s\" must be an array", key);
        return SL_EINVAL;
    }
    json_array_foreach(arr, i, v) {
        for (j = 0; j < n; j++)
            if (json_is_string(v) && strcmp(json_string_value(v), names[j]) == 0)
                break;
        if (j == n) {
            sl_err_set(err, "license policy: \"%s\"[%zu] must be one of "
                       "\"%s\", \"%s\"", key, i, names[0], names[1]);
            return SL_EINVAL;
        }
        *flags[j] = 1;
    }
    return SL_OK;
}

static int read_allowed(const sl_spdx *spdx, json_t *arr,
                        sl_license_policy *p, sl_err *err)
{
    size_t i;
    json_t *v;

    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        sl_err_set(err, "license policy: \"allowed\" must be a non-empty "
                   "array (omit it to allow any license)");
        return SL_EINVAL;
    }
    p->allowed = calloc(json_array_size(arr), sizeof(*p->allowed));
    if (!p->allowed)
        return SL_ENOMEM;
    json_array_foreach(arr, i, v) {
        const char *s = json_is_string(v) ? json_string_value(v) : NULL;

        if (!s || !pattern_ok(s)) {
            sl_err_set(err, "license policy: \"allowed\"[%zu] must be a "
                       "license id or pattern (letters, digits, . - + : * ?)",
                       i);
            return SL_EINVAL;
        }
        if (spdx && !strpbrk(s, "*?") && strncasecmp(s, "LicenseRef-", 11)
            && strncasecmp(s, "DocumentRef-", 12)) {
            const sl_spdx_entry *en = sl_spdx_license(spdx, s);

            if (!en) {
                sl_err_set(err, "license policy: \"allowed\"[%zu]: unknown "
                           "license id '%s'", i, s);
                return SL_EINVAL;
            }
            if (en->deprecated) {
                sl_err_set(err, "license policy: \"allowed\"[%zu]: license "
                           "id '%s' is deprecated%s%s", i, en->id,
                           en->replacement ? "; use " : "",
                           en->replacement ? en->replacement : "");
                return SL_EINVAL;
            }
            s = en->id;
        }
        p->allowed[p->nallowed] = strdup(s);
        if (!p->allowed[p->nallowed])
            return SL_ENOMEM;
        p->nallowed++;
    }
    return SL_OK;
}

int sl_license_policy_from_json(const sl_spdx *spdx, const json_t *obj,
                                sl_license_policy **out, sl_err *err)
{
    static const char *const req_names[] = { "training", "commercial" };
    static const char *const forbid_names[] = { "share_alike", "attribution" };
    sl_license_policy *p;
    const char *k;
    json_t *v;
    int rc = SL_OK;

    *out = NULL;
    if (!json_is_object(obj)) {
        sl_err_set(err, "license policy: not a JSON object");
        return SL_EINVAL;
    }
    p = calloc(1, sizeof(*p));
    if (!p)
        return SL_ENOMEM;
    json_object_foreach((json_t *)obj, k, v) {
        if (strcmp(k, "version") == 0) {
            if (!(json_is_integer(v) && json_integer_value(v) >= 0)
                && !(json_is_string(v) && json_string_length(v) > 0
                     && json_string_length(v) <= 64)) {
                sl_err_set(err, "license policy: \"version\" must be a "
                           "non-negative integer or a short string");
                rc = SL_EINVAL;
            } else {
                p->version = json_deep_copy(v);
                if (!p->version)
                    rc = SL_ENOMEM;
            }
        } else if (strcmp(k, "allowed") == 0) {
            rc = read_allowed(spdx, v, p, err);
        } else if (strcmp(k, "require") == 0) {
            int *f[] = { &p->req_training, &p->req_commercial };

            rc = read_words(v, k, req_names, f, 2, err);
        } else if (strcmp(k, "forbid") == 0) {
            int *f[] = { &p->forbid_share_alike, &p->forbid_attribution };

            rc = read_words(v, k, forbid_names, f, 2, err);
        } else if (strcmp(k, "note") == 0) {
            if (!json_is_string(v)) {
                sl_err_set(err, "license policy: \"note\" must be a string");
                rc = SL_EINVAL;
            }
        } else {
            sl_err_set(err, "license policy: unknown key \"%s\" (expected "
                       "version, allowed, require, forbid, note)", k);
            rc = SL_EINVAL;
        }
        if (rc != SL_OK) {
            sl_license_policy_destroy(p);
            return rc;
        }
    }
    *out = p;
    return SL_OK;
}

int sl_license_policy_parse(const sl_spdx *spdx, const char *json,
                            size_t len, sl_license_policy **out, sl_err *err)
{
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    int rc;

    *out = NULL;
    if (!root) {
        sl_err_set(err, "license policy: JSON error at line %d: %s", je.line,
                   je.text);
        return SL_EINVAL;
    }
    rc = sl_license_policy_from_json(spdx, root, out, err);
    json_decref(root);
    return rc;
}

/* Case-insensitive glob: '*' any run, '?' one character. */
static int glob_match(const char *pat, const char *s)
{
    const char *star = NULL, *resume = NULL;

    while (*s) {
        if (*pat == '*') {
            star = pat++;
            resume = s;
        } else if (*pat == '?' || (*pat && tolower((unsigned char)*pat)
                                   == tolower((unsigned char)*s))) {
            pat++;
            s++;
        } else if (star) {
            pat = star + 1;
            s = ++resume;
        } else {
            return 0;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

static int policy_has_rights_terms(const sl_license_policy *p)
{
    return p->req_training || p->req_commercial || p->forbid_share_alike
        || p->forbid_attribution;
}

static int allowed_by_list(const sl_license_policy *p, const char *id)
{
    if (!p->allowed)
        return 1;
    for (size_t i = 0; i < p->nallowed; i++)
        if (glob_match(p->allowed[i], id))
            return 1;
    return 0;
}

/* ---- checking ---------------------------------------------------------- */

static int is_leaf(const sl_spdx_expr *e)
{
    sl_spdx_kind k = sl_spdx_expr_kind(e);

    return k == SL_SPDX_LICENSE || k == SL_SPDX_REF;
}

static void leaf_rights(const sl_rights_table *t, const sl_spdx_expr *e,
                        sl_rights *r)
{
    sl_rights_lookup(t, sl_spdx_expr_id(e), sl_spdx_expr_exception(e), r);
}

static int leaf_ok(const sl_license_policy *p, const sl_spdx_expr *e,
                   const sl_rights *r)
{
    if (!p)
        return 1;
    if (!allowed_by_list(p, sl_spdx_expr_id(e)))
        return 0;
    if (policy_has_rights_terms(p) && !r->known)
        return 0;
    return !(p->req_training && !r->training_allowed)
        && !(p->req_commercial && !r->commercial_allowed)
        && !(p->forbid_share_alike && r->share_alike)
        && !(p->forbid_attribution && r->attribution_required);
}

static void rights_and(sl_rights *acc, const sl_rights *r)
{
    acc->known = acc->known && r->known;
    acc->training_allowed = acc->training_allowed && r->training_allowed;
    acc->commercial_allowed = acc->commercial_allowed && r->commercial_allowed;
    acc->attribution_required = acc->attribution_required
                                || r->attribution_required;
    acc->share_alike = acc->share_alike || r->share_alike;
}

/* Higher is less restricted: known rights first, then training,
 * commercial, no share-alike, no attribution. */
static int score(const sl_rights *r)
{
    return (r->known ? 16 : 0) + (r->training_allowed ? 8 : 0)
         + (r->commercial_allowed ? 4 : 0) + (r->share_alike ? 0 : 2)
         + (r->attribution_required ? 0 : 1);
}

typedef struct ev {
    int ok;
    sl_rights r;
    sl_spdx_expr *sel;      /* the alternative picked (owned) */
} ev;

/* Evaluates e, picking at each OR the least restricted operand that
 * satisfies p (or, if none does, the least restricted one).  SL_OK or
 * SL_ENOMEM. */
static int eval(const sl_rights_table *t, const sl_license_policy *p,
                const sl_spdx_expr *e, ev *out)
{
    size_t n = sl_spdx_expr_count(e), i, best = 0;
    sl_spdx_expr **sels = NULL;
    ev *kids = NULL;
    int rc = SL_ENOMEM;

    memset(out, 0, sizeof(*out));
    if (is_leaf(e)) {
        leaf_rights(t, e, &out->r);
        out->ok = leaf_ok(p, e, &out->r);
        out->sel = sl_spdx_expr_dup(e);
        return out->sel ? SL_OK : SL_ENOMEM;
    }
    kids = calloc(n, sizeof(*kids));
    if (!kids)
        return SL_ENOMEM;
    for (i = 0; i < n; i++)
        if (eval(t, p, sl_spdx_expr_child(e, i), &kids[i]) != SL_OK)
            goto out;
    if (sl_spdx_expr_kind(e) == SL_SPDX_AND) {
        sels = malloc(n * sizeof(*sels));
        if (!sels)
            goto out;
        out->ok = 1;
        out->r = (sl_rights){ 1, 1, 1, 0, 0 };
        for (i = 0; i < n; i++) {
            out->ok = out->ok && kids[i].ok;
            rights_and(&out->r, &kids[i].r);
            sels[i] = kids[i].sel;
            kids[i].sel = NULL;
        }
        out->sel = sl_spdx_expr_join(SL_SPDX_AND, sels, n);
        if (!out->sel)
            goto out;
    } else {
        for (i = 1; i < n; i++)
            if (kids[i].ok > kids[best].ok
                || (kids[i].ok == kids[best].ok
                    && score(&kids[i].r) > score(&kids[best].r)))
                best = i;
        *out = kids[best];
        kids[best].sel = NULL;
    }
    rc = SL_OK;
out:
    for (i = 0; kids && i < n; i++)
        sl_spdx_expr_destroy(kids[i].sel);
    free(kids);
    free(sels);
    return rc;
}

/* Whether e satisfies p, without building anything. */
static int satisfies(const sl_rights_table *t, const sl_license_policy *p,
                     const sl_spdx_expr *e)
{
    size_t n = sl_spdx_expr_count(e);

    if (is_leaf(e)) {
        sl_rights r;

        leaf_rights(t, e, &r);
        return leaf_ok(p, e, &r);
    }
    for (size_t i = 0; i < n; i++) {
        int ok = satisfies(t, p, sl_spdx_expr_child(e, i));

        if (sl_spdx_expr_kind(e) == SL_SPDX_AND && !ok)
            return 0;
        if (sl_spdx_expr_kind(e) == SL_SPDX_OR && ok)
            return 1;
    }
    return sl_spdx_expr_kind(e) == SL_SPDX_AND;
}

/* Appends to b, ignoring a full buffer (the detail is then cut). */
static void bprintf(sl_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void bprintf(sl_buf *b, const char *fmt, ...)
{
    char tmp[SL_LICENSE_DETAIL_MAX];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n > 0)
        sl_buf_append(b, tmp, strlen(tmp));
}

static void bputs_expr(sl_buf *b, const sl_spdx_expr *e)
{
    char *s = sl_spdx_normalise(e);

    if (s)
        sl_buf_append(b, s, strlen(s));
    free(s);
}

/* Says why each failing leaf under e fails.  top: e is the whole
 * expression (its OR needs no repeating). */
static void explain(const sl_rights_table *t, const sl_license_policy *p,
                    const sl_spdx_expr *e, int top, sl_buf *b)
{
    size_t n = sl_spdx_expr_count(e), done = 0;

    if (is_leaf(e)) {
        sl_rights r;
        const char *sep = "";

        leaf_rights(t, e, &r);
        bputs_expr(b, e);
        sl_buf_append(b, ": ", 2);
        if (!allowed_by_list(p, sl_spdx_expr_id(e))) {
            bprintf(b, "not among the dataset's allowed licenses");
            sep = ", ";
        }
        if (policy_has_rights_terms(p) && !r.known) {
            bprintf(b, "%srights unknown (not in rights table %s)", sep,
                    sl_rights_version(t));
            return;
        }
#define REASON(cond, text) \
        if (cond) { bprintf(b, "%s" text, sep); sep = ", "; }
        REASON(p->req_training && !r.training_allowed,
               "training not allowed")
        REASON(p->req_commercial && !r.commercial_allowed,
               "commercial use not allowed")
        REASON(p->forbid_share_alike && r.share_alike,
               "share-alike, which the policy forbids")
        REASON(p->forbid_attribution && r.attribution_required,
               "requires attribution, which the policy forbids")
#undef REASON
        return;
    }
    if (sl_spdx_expr_kind(e) == SL_SPDX_OR && !top) {
        sl_buf_append(b, "no alternative of (", 19);
        bputs_expr(b, e);
        sl_buf_append(b, ") qualifies: ", 13);
    }
    for (size_t i = 0; i < n; i++) {
        const sl_spdx_expr *k = sl_spdx_expr_child(e, i);

        if (satisfies(t, p, k))
            continue;
        if (done++)
            sl_buf_append(b, "; ", 2);
        explain(t, p, k, 0, b);
    }
}

void sl_license_verdict_clear(sl_license_verdict *v)
{
    if (!v)
        return;
    free(v->chosen);
    sl_spdx_expr_destroy(v->branch);
    memset(v, 0, sizeof(*v));
}

int sl_license_check(const sl_rights_table *t, const sl_spdx_expr *expr,
                     const sl_license_policy *policy, sl_license_verdict *out)
{
    ev r;
    sl_buf b;
    char *whole;
    size_t n;

    memset(out, 0, sizeof(*out));
    if (eval(t, policy, expr, &r) != SL_OK)
        return SL_ENOMEM;
    if (!r.ok) {
        /* show the expression's own best alternative, not a half-pick */
        sl_spdx_expr_destroy(r.sel);
        if (eval(t, NULL, expr, &r) != SL_OK)
            return SL_ENOMEM;
        r.ok = 0;
    }
    out->chosen = sl_spdx_normalise(r.sel);
    if (!out->chosen) {
        sl_spdx_expr_destroy(r.sel);
        return SL_ENOMEM;
    }
    out->branch = r.sel;
    out->rights = r.r;
    out->accepted = r.ok;
    if (r.ok)
        return SL_OK;

    out->code = SL_LICENSE_NOT_ALLOWED;
    sl_buf_init(&b, 4 * SL_LICENSE_DETAIL_MAX);
    whole = sl_spdx_normalise(expr);
    bprintf(&b, "'%s' is not allowed by the dataset's license policy",
            whole ? whole : "?");
    free(whole);
    if (sl_spdx_expr_kind(expr) == SL_SPDX_OR)
        bprintf(&b, " (no alternative qualifies)");
    sl_buf_append(&b, ": ", 2);
    explain(t, policy, expr, 1, &b);
    n = b.len < sizeof(out->detail) ? b.len : sizeof(out->detail) - 1;
    if (b.data)
        memcpy(out->detail, b.data, n);
    out->detail[n] = '\0';
    if (n < b.len && n >= 3)
        memcpy(out->detail + n - 3, "...", 3);
    sl_buf_free(&b);
    return SL_OK;
}

/* ---- the bound license record ------------------------------------------ */

static int set_new(json_t *o, const char *k, json_t *v)
{
    return v ? json_object_set_new(o, k, v) : -1;
}

static char *spdx_url(const char *id)
{
    size_t n = strlen(SL_SPDX_URL_PREFIX) + strlen(id)
             + strlen(SL_SPDX_URL_SUFFIX) + 1;
    char *s = malloc(n);

    if (s)
        snprintf(s, n, "%s%s%s", SL_SPDX_URL_PREFIX, id, SL_SPDX_URL_SUFFIX);
    return s;
}

/* One {"id", "name"?, "terms_url"?, "or_later"?, "exception"?} per leaf of
 * the chosen alternative, in order. */
static int add_leaves(const sl_spdx *spdx, const sl_spdx_expr *e, json_t *arr)
{
    const sl_spdx_entry *en;
    json_t *o;
    int rc;

    if (!is_leaf(e)) {
        for (size_t i = 0; i < sl_spdx_expr_count(e); i++)
            if (add_leaves(spdx, sl_spdx_expr_child(e, i), arr) != 0)
                return -1;
        return 0;
    }
    en = sl_spdx_expr_kind(e) == SL_SPDX_LICENSE
         ? sl_spdx_license(spdx, sl_spdx_expr_id(e)) : NULL;
    o = json_object();
    if (!o)
        return -1;
    rc = 0;

    rc |= set_new(o, "id", json_string(sl_spdx_expr_id(e)));
    if (sl_spdx_expr_or_later(e))
        rc |= set_new(o, "or_later", json_true());
    if (sl_spdx_expr_exception(e))
        rc |= set_new(o, "exception", json_string(sl_spdx_expr_exception(e)));
    if (en) {
        char *url = spdx_url(en->id);

        rc |= set_new(o, "name", json_string(en->name));
        rc |= set_new(o, "terms_url", url ? json_string(url) : NULL);
        free(url);
    }
    if (rc == 0 && json_array_append_new(arr, o) == 0)
        return 0;
    json_decref(o);
    return -1;
}

char *sl_license_record(const sl_spdx *spdx, const sl_rights_table *t,
                        const sl_spdx_expr *expr,
                        const sl_license_verdict *v,
                        const sl_license_policy *policy,
                        const char *terms_url, const char *attribution)
{
    json_t *o = json_object(), *rights = json_object(), *lic = json_array();
    const json_t *pv = sl_license_policy_version(policy);
    char *whole = sl_spdx_normalise(expr), *url = NULL, *out = NULL;
    int rc = 0;

    if (!o || !rights || !lic || !whole || !v->branch || !v->chosen)
        goto out;
    rc |= set_new(rights, "known", json_boolean(v->rights.known));
    rc |= set_new(rights, "training_allowed",
                  json_boolean(v->rights.training_allowed));
    rc |= set_new(rights, "commercial_allowed",
                  json_boolean(v->rights.commercial_allowed));
    rc |= set_new(rights, "attribution_required",
                  json_boolean(v->rights.attribution_required));
    rc |= set_new(rights, "share_alike", json_boolean(v->rights.share_alike));
    rc |= add_leaves(spdx, v->branch, lic);
    rc |= set_new(o, "version", json_integer(1));
    rc |= set_new(o, "expression", json_string(whole));
    rc |= set_new(o, "chosen", json_string(v->chosen));
    rc |= json_object_set(o, "rights", rights);
    rc |= json_object_set(o, "licenses", lic);
    rc |= set_new(o, "policy_version",
                  pv ? json_deep_copy(pv) : json_null());
    rc |= set_new(o, "rights_table_version",
                  json_string(sl_rights_version(t)));
    rc |= set_new(o, "spdx_list_version",
                  json_string(sl_spdx_list_version(spdx)));
    if (!terms_url && sl_spdx_expr_kind(v->branch) == SL_SPDX_LICENSE)
        terms_url = url = spdx_url(sl_spdx_expr_id(v->branch));
    if (terms_url)
        rc |= set_new(o, "terms_url", json_string(terms_url));
    if (attribution)
        rc |= set_new(o, "attribution", json_string(attribution));
    if (rc == 0)
        out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
out:
    free(url);
    free(whole);
    json_decref(lic);
    json_decref(rights);
    json_decref(o);
    return out;
}
