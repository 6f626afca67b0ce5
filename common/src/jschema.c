/*
 * jschema.c -- a JSON Schema (draft 2020-12 subset) validator on jansson.
 *
 * A schema is compiled once into a tree of nodes: keyword values are checked,
 * patterns compiled with PCRE2 and $refs resolved, so an unsupported keyword
 * or a broken pattern fails at load time, never while validating traffic.
 * Validation walks the node tree over the document and stops at the first
 * violation, naming it by JSON pointer.  The compiled schema is read-only
 * during validation, so one schema may serve many threads.
 *
 * Deliberate choices: "integer" means a JSON number written without fraction
 * or exponent (a jansson integer), so 1.0 is a "number" only and downstream
 * code can always read an integer with json_integer_value(); patterns follow
 * ECMA-262 in that "$" matches only at the very end of the string.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "sl/jschema.h"
#include "sl/timeutil.h"

#define JS_MAX_DEPTH     64        /* schema nesting and validation recursion */
#define JS_PTR_MAX       384       /* longest JSON pointer kept for messages */
#define JS_MATCH_LIMIT   1000000   /* PCRE2 backtracking budget per match */
#define JS_DEPTH_LIMIT   10000

/* Bit order is the order types are listed in messages. */
enum {
    T_STRING = 1, T_INTEGER = 2, T_NUMBER = 4, T_BOOLEAN = 8,
    T_OBJECT = 16, T_ARRAY = 32, T_NULL = 64
};

enum { FMT_NONE = 0, FMT_DATETIME, FMT_URI };

typedef struct js_node js_node;

/* A named subschema (a property or a $defs entry); the name is borrowed
 * from the schema document. */
typedef struct js_named {
    const char *name;
    size_t len;
    js_node *node;
} js_named;

struct js_node {
    int boolean;                /* -1 object schema, 0 false, 1 true */
    unsigned types;             /* T_* mask, 0 when "type" is absent */
    js_named *props;
    size_t nprops;
    const json_t *required;     /* array of strings, borrowed */
    bool addl_false;
    js_node *addl;              /* additionalProperties schema */
    js_node *items;
    json_int_t min_items, max_items, min_len, max_len;   /* -1 unset */
    pcre2_code *re;
    const char *re_src;
    const json_t *enum_vals;
    const json_t *const_val;
    const json_t *minimum, *maximum;
    int format;
    const char *ref_name;       /* NAME of "#/$defs/NAME", unescaped */
    char *ref_loc;              /* where the $ref sits, for load errors */
    js_node *ref;
    js_named *defs;
    size_t ndefs;
};

struct sl_jschema {
    json_t *doc;                /* owns every borrowed string and value */
    js_node **nodes;            /* owns every node */
    size_t nnodes, capnodes;
    js_node *root;
    pcre2_match_context *mctx;
    bool has_patterns;
};

/* ---- JSON pointers for messages --------------------------------------- */

/* A bounded JSON pointer; a token that does not fit is cut short, which
 * only shortens a message. */
typedef struct js_ptr {
    char buf[JS_PTR_MAX];
    size_t len;
} js_ptr;

/* Appends "/" + the escaped token; returns the length to pop back to.
 * Control bytes are shown as '?' so untrusted keys cannot forge lines. */
static size_t ptr_push(js_ptr *p, const char *tok, size_t n)
{
    size_t old = p->len, room = sizeof(p->buf) - 1;

    if (p->len < room)
        p->buf[p->len++] = '/';
    for (size_t i = 0; i < n && p->len < room; i++) {
        unsigned char c = (unsigned char)tok[i];
        if (c == '~' || c == '/') {
            if (p->len + 2 > room)
                break;
            p->buf[p->len++] = '~';
            p->buf[p->len++] = c == '~' ? '0' : '1';
        } else {
            p->buf[p->len++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
        }
    }
    p->buf[p->len] = '\0';
    return old;
}

static size_t ptr_push_index(js_ptr *p, size_t i)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%zu", i);

    return ptr_push(p, tmp, n > 0 ? (size_t)n : 0);
}

static void ptr_pop(js_ptr *p, size_t old)
{
    p->len = old;
    p->buf[old] = '\0';
}

static const char *ptr_str(const js_ptr *p)
{
    return p->len ? p->buf : "/";
}

/* ---- loading ---------------------------------------------------------- */

typedef struct js_load {
    sl_jschema *s;
    js_ptr ptr;
    sl_err *err;
} js_load;

static js_node *node_new(js_load *l)
{
    sl_jschema *s = l->s;
    js_node *n;

    if (s->nnodes == s->capnodes) {
        size_t ncap = s->capnodes ? s->capnodes * 2 : 32;
        js_node **p = realloc(s->nodes, ncap * sizeof(*p));
        if (!p)
            goto oom;
        s->nodes = p;
        s->capnodes = ncap;
    }
    n = calloc(1, sizeof(*n));
    if (!n)
        goto oom;
    n->boolean = -1;
    n->min_items = n->max_items = n->min_len = n->max_len = -1;
    s->nodes[s->nnodes++] = n;
    return n;
oom:
    sl_err_set(l->err, "out of memory loading schema");
    return NULL;
}

static void node_free(js_node *n)
{
    if (!n)
        return;
    free(n->props);
    free(n->defs);
    free(n->ref_loc);
    pcre2_code_free(n->re);
    free(n);
}

static int type_bit(const char *name)
{
    static const struct { const char *name; int bit; } tab[] = {
        { "null", T_NULL }, { "boolean", T_BOOLEAN }, { "object", T_OBJECT },
        { "array", T_ARRAY }, { "number", T_NUMBER }, { "string", T_STRING },
        { "integer", T_INTEGER },
    };

    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
        if (strcmp(tab[i].name, name) == 0)
            return tab[i].bit;
    return 0;
}

/* Fails a load with "schema <pointer>: <problem>"; returns SL_EINVAL. */
static int load_fail(js_load *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int load_fail(js_load *l, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sl_err_set(l->err, "schema %s: %s", ptr_str(&l->ptr), msg);
    return SL_EINVAL;
}

static js_node *compile(js_load *l, const json_t *j, int depth);

/* Compiles every member of an object of schemas ("properties", "$defs"). */
static int compile_named(js_load *l, const char *kw, const json_t *v, int depth,
                         js_named **out, size_t *nout)
{
    size_t n = json_object_size(v), i = 0;
    void *it;

    if (!json_is_object(v))
        return load_fail(l, "\"%s\" must be an object of schemas", kw);
    if (n == 0)
        return SL_OK;
    *out = calloc(n, sizeof(**out));
    if (!*out) {
        sl_err_set(l->err, "out of memory loading schema");
        return SL_ENOMEM;
    }
    for (it = json_object_iter((json_t *)v); it && i < n;
         it = json_object_iter_next((json_t *)v, it), i++) {
        const char *key = json_object_iter_key(it);
        size_t klen = json_object_iter_key_len(it), old;

        old = ptr_push(&l->ptr, key, klen);
        (*out)[i].name = key;
        (*out)[i].len = klen;
        (*out)[i].node = compile(l, json_object_iter_value(it), depth + 1);
        ptr_pop(&l->ptr, old);
        if (!(*out)[i].node)
            return SL_EINVAL;
    }
    *nout = i;
    return SL_OK;
}

/* Reads a non-negative integer keyword value. */
static int nonneg(js_load *l, const char *kw, const json_t *v, json_int_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return load_fail(l, "\"%s\" must be a non-negative integer", kw);
    *out = json_integer_value(v);
    return SL_OK;
}

static int compile_pattern(js_load *l, js_node *n, const json_t *v)
{
    int code;
    PCRE2_SIZE off;
    PCRE2_UCHAR msg[128];
    char buf[200];

    if (!json_is_string(v))
        return load_fail(l, "\"%s\" must be a string", "pattern");
    n->re_src = json_string_value(v);
    n->re = pcre2_compile((PCRE2_SPTR)n->re_src, json_string_length(v),
                          PCRE2_UTF | PCRE2_DOLLAR_ENDONLY, &code, &off, NULL);
    if (!n->re) {
        if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
            snprintf((char *)msg, sizeof(msg), "error %d", code);
        snprintf(buf, sizeof(buf), "at offset %zu: %s", (size_t)off,
                 (const char *)msg);
        return load_fail(l, "invalid \"pattern\" %s", buf);
    }
    /* JIT is an optimisation only; the interpreter is the fallback. */
    (void)pcre2_jit_compile(n->re, PCRE2_JIT_COMPLETE);
    l->s->has_patterns = true;
    return SL_OK;
}

/* Accepts "#/$defs/NAME" (NAME with ~0 / ~1 escapes, no further '/'),
 * keeping the unescaped NAME for resolution after the whole schema is
 * compiled. */
static int compile_ref(js_load *l, js_node *n, const json_t *v)
{
    static const char pre[] = "#/$defs/";
    const char *r;
    char *name;
    size_t i, o = 0, len;

    if (!json_is_string(v))
        return load_fail(l, "\"%s\" must be a string", "$ref");
    r = json_string_value(v);
    len = json_string_length(v);
    if (len <= sizeof(pre) - 1 || strncmp(r, pre, sizeof(pre) - 1) != 0 ||
        strlen(r) != len)
        return load_fail(l, "unsupported \"$ref\" \"%s\" (only #/$defs/NAME)",
                         r);
    n->ref_loc = malloc(l->ptr.len + 1 + len + 1);
    if (!n->ref_loc) {
        sl_err_set(l->err, "out of memory loading schema");
        return SL_ENOMEM;
    }
    /* ref_loc holds "<pointer>\0<name>" so one allocation serves both. */
    memcpy(n->ref_loc, ptr_str(&l->ptr), strlen(ptr_str(&l->ptr)) + 1);
    name = n->ref_loc + strlen(n->ref_loc) + 1;
    for (i = sizeof(pre) - 1; i < len; i++) {
        if (r[i] == '/')
            return load_fail(l, "unsupported \"$ref\" \"%s\" (only #/$defs/NAME)",
                             r);
        if (r[i] == '~') {
            if (i + 1 < len && (r[i + 1] == '0' || r[i + 1] == '1')) {
                name[o++] = r[i + 1] == '0' ? '~' : '/';
                i++;
                continue;
            }
            return load_fail(l, "bad escape in \"$ref\" \"%s\"", r);
        }
        name[o++] = r[i];
    }
    name[o] = '\0';
    n->ref_name = name;
    return SL_OK;
}

/* Compiles one keyword of an object schema. */
static int compile_keyword(js_load *l, js_node *n, const char *kw,
                           const json_t *v, int depth)
{
    if (strcmp(kw, "type") == 0) {
        if (json_is_string(v)) {
            n->types = (unsigned)type_bit(json_string_value(v));
            if (!n->types)
                return load_fail(l, "unknown type \"%s\"", json_string_value(v));
        } else if (json_is_array(v) && json_array_size(v) > 0) {
            size_t i;
            json_t *t;
            json_array_foreach(v, i, t) {
                int bit = json_is_string(t) ? type_bit(json_string_value(t)) : 0;
                if (!bit || (n->types & (unsigned)bit))
                    return load_fail(l, "%s", "\"type\" array must hold distinct "
                                     "known type names");
                n->types |= (unsigned)bit;
            }
        } else {
            return load_fail(l, "%s", "\"type\" must be a type name or an array");
        }
    } else if (strcmp(kw, "properties") == 0) {
        return compile_named(l, kw, v, depth, &n->props, &n->nprops);
    } else if (strcmp(kw, "$defs") == 0) {
        return compile_named(l, kw, v, depth, &n->defs, &n->ndefs);
    } else if (strcmp(kw, "required") == 0) {
        size_t i, k;
        json_t *t;
        if (!json_is_array(v))
            return load_fail(l, "%s", "\"required\" must be an array of strings");
        json_array_foreach(v, i, t) {
            if (!json_is_string(t))
                return load_fail(l, "%s", "\"required\" must be an array of strings");
            for (k = 0; k < i; k++)
                if (json_equal(t, json_array_get(v, k)))
                    return load_fail(l, "duplicate \"required\" entry \"%s\"",
                                     json_string_value(t));
        }
        n->required = v;
    } else if (strcmp(kw, "additionalProperties") == 0) {
        if (json_is_false(v))
            n->addl_false = true;
        else if (!(n->addl = compile(l, v, depth + 1)))
            return SL_EINVAL;
    } else if (strcmp(kw, "items") == 0) {
        if (!json_is_object(v) && !json_is_boolean(v))
            return load_fail(l, "%s", "\"items\" must be a schema (tuple form "
                             "is not supported)");
        if (!(n->items = compile(l, v, depth + 1)))
            return SL_EINVAL;
    } else if (strcmp(kw, "minItems") == 0) {
        return nonneg(l, kw, v, &n->min_items);
    } else if (strcmp(kw, "maxItems") == 0) {
        return nonneg(l, kw, v, &n->max_items);
    } else if (strcmp(kw, "minLength") == 0) {
        return nonneg(l, kw, v, &n->min_len);
    } else if (strcmp(kw, "maxLength") == 0) {
        return nonneg(l, kw, v, &n->max_len);
    } else if (strcmp(kw, "pattern") == 0) {
        return compile_pattern(l, n, v);
    } else if (strcmp(kw, "enum") == 0) {
        if (!json_is_array(v) || json_array_size(v) == 0)
            return load_fail(l, "%s", "\"enum\" must be a non-empty array");
        n->enum_vals = v;
    } else if (strcmp(kw, "const") == 0) {
        n->const_val = v;
    } else if (strcmp(kw, "minimum") == 0 || strcmp(kw, "maximum") == 0) {
        if (!json_is_number(v))
            return load_fail(l, "\"%s\" must be a number", kw);
        if (kw[1] == 'i')
            n->minimum = v;
        else
            n->maximum = v;
    } else if (strcmp(kw, "format") == 0) {
        const char *f = json_string_value(v);
        if (!f)
            return load_fail(l, "\"%s\" must be a string", kw);
        if (strcmp(f, "date-time") == 0)
            n->format = FMT_DATETIME;
        else if (strcmp(f, "uri") == 0)
            n->format = FMT_URI;
        else
            return load_fail(l, "unsupported format \"%s\"", f);
    } else if (strcmp(kw, "$ref") == 0) {
        return compile_ref(l, n, v);
    } else if (strcmp(kw, "$schema") == 0 || strcmp(kw, "$id") == 0 ||
               strcmp(kw, "title") == 0 || strcmp(kw, "description") == 0 ||
               strcmp(kw, "$comment") == 0) {
        if (!json_is_string(v))
            return load_fail(l, "\"%s\" must be a string", kw);
    } else if (strcmp(kw, "examples") == 0) {
        if (!json_is_array(v))
            return load_fail(l, "\"%s\" must be an array", kw);
    } else if (strcmp(kw, "default") == 0) {
        /* any value */
    } else {
        return load_fail(l, "unknown keyword \"%s\"", kw);
    }
    return SL_OK;
}

/* Compiles the schema j (an object or a boolean) into a node. */
static js_node *compile(js_load *l, const json_t *j, int depth)
{
    js_node *n;
    void *it;

    if (depth > JS_MAX_DEPTH) {
        load_fail(l, "nested deeper than %d levels", JS_MAX_DEPTH);
        return NULL;
    }
    if (!json_is_object(j) && !json_is_boolean(j)) {
        load_fail(l, "%s", "a schema must be an object or a boolean");
        return NULL;
    }
    if (!(n = node_new(l)))
        return NULL;
    if (json_is_boolean(j)) {
        n->boolean = json_is_true(j);
        return n;
    }
    for (it = json_object_iter((json_t *)j); it;
         it = json_object_iter_next((json_t *)j, it)) {
        const char *kw = json_object_iter_key(it);
        size_t old;
        int rc;

        if (strlen(kw) != json_object_iter_key_len(it)) {
            load_fail(l, "%s", "keyword with an embedded NUL");
            return NULL;
        }
        /* Subschemas are located below their keyword; other keyword errors
         * name the keyword at the schema's own location. */
        old = l->ptr.len;
        if (strcmp(kw, "properties") == 0 || strcmp(kw, "$defs") == 0 ||
            strcmp(kw, "additionalProperties") == 0 || strcmp(kw, "items") == 0)
            ptr_push(&l->ptr, kw, strlen(kw));
        rc = compile_keyword(l, n, kw, json_object_iter_value(it), depth);
        ptr_pop(&l->ptr, old);
        if (rc != SL_OK)
            return NULL;
    }
    return n;
}

/* Resolves every $ref against the root's $defs and refuses cycles made of
 * $refs alone (they would recurse without consuming the document). */
static int resolve_refs(sl_jschema *s, sl_err *err)
{
    js_node *root = s->root;

    for (size_t i = 0; i < s->nnodes; i++) {
        js_node *n = s->nodes[i];
        if (!n->ref_name)
            continue;
        for (size_t d = 0; d < root->ndefs; d++) {
            if (root->defs[d].len == strlen(n->ref_name) &&
                memcmp(root->defs[d].name, n->ref_name, root->defs[d].len) == 0) {
                n->ref = root->defs[d].node;
                break;
            }
        }
        if (!n->ref) {
            sl_err_set(err, "schema %s: unresolved \"$ref\" to $defs entry \"%s\"",
                       n->ref_loc, n->ref_name);
            return SL_EINVAL;
        }
    }
    for (size_t i = 0; i < s->nnodes; i++) {
        const js_node *p = s->nodes[i];
        for (size_t hops = 0; p && p->ref; hops++, p = p->ref) {
            if (hops > s->nnodes || p->ref == s->nodes[i]) {
                sl_err_set(err, "schema %s: \"$ref\" cycle through \"%s\"",
                           s->nodes[i]->ref_loc, s->nodes[i]->ref_name);
                return SL_EINVAL;
            }
        }
    }
    return SL_OK;
}

/* Parses and compiles a schema.  NULL with the reason in err on any error:
 * bad JSON (duplicate keys included), an unknown keyword, a keyword with a
 * value of the wrong kind, a pattern PCRE2 rejects, an unresolved $ref. */
sl_jschema *sl_jschema_new(const char *text, size_t len, sl_err *err)
{
    sl_jschema *s = NULL;
    json_error_t jerr;
    js_load l;

    if (!text) {
        sl_err_set(err, "no schema text");
        return NULL;
    }
    s = calloc(1, sizeof(*s));
    if (!s) {
        sl_err_set(err, "out of memory loading schema");
        return NULL;
    }
    s->doc = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
                        &jerr);
    if (!s->doc) {
        sl_err_set(err, "schema is not valid JSON: line %d column %d: %s",
                   jerr.line, jerr.column, jerr.text);
        goto fail;
    }
    memset(&l, 0, sizeof(l));
    l.s = s;
    l.err = err;
    s->root = compile(&l, s->doc, 0);
    if (!s->root || resolve_refs(s, err) != SL_OK)
        goto fail;
    if (s->has_patterns) {
        s->mctx = pcre2_match_context_create(NULL);
        if (!s->mctx ||
            pcre2_set_match_limit(s->mctx, JS_MATCH_LIMIT) != 0 ||
            pcre2_set_depth_limit(s->mctx, JS_DEPTH_LIMIT) != 0) {
            sl_err_set(err, "out of memory loading schema");
            goto fail;
        }
    }
    return s;
fail:
    sl_jschema_destroy(s);
    return NULL;
}

void sl_jschema_destroy(sl_jschema *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nnodes; i++)
        node_free(s->nodes[i]);
    free(s->nodes);
    pcre2_match_context_free(s->mctx);
    json_decref(s->doc);
    free(s);
}

/* ---- formats ---------------------------------------------------------- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Reads exactly n decimal digits at s. */
static bool num_at(const char *s, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static int days_in_month(int y, int m)
{
    static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : days[m - 1];
}

/* RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm), 'T' and
 * 'Z' in either case, calendar-checked; a leap second only where it lands
 * on 23:59:60 UTC.  Narrower than RFC 3339 where PostgreSQL is: offsets up
 * to +-15:59 and UTC instants in years 0001..9999 (sl_time_parse_us), so a
 * valid document's time can always be stored. */
static bool valid_datetime(const char *s, size_t len)
{
    int y, mo, d, h, mi, se, oh = 0, om = 0, off = 0;
    int64_t us;
    size_t p = 19;

    if (len < 20 || strlen(s) != len)
        return false;
    if (!num_at(s, 4, &y) || s[4] != '-' || !num_at(s + 5, 2, &mo) ||
        s[7] != '-' || !num_at(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
        !num_at(s + 11, 2, &h) || s[13] != ':' || !num_at(s + 14, 2, &mi) ||
        s[16] != ':' || !num_at(s + 17, 2, &se))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
        mi > 59 || se > 60)
        return false;
    if (s[p] == '.') {
        size_t start = ++p;
        while (p < len && is_digit(s[p]))
            p++;
        if (p == start)
            return false;
    }
    if (p < len && (s[p] == 'Z' || s[p] == 'z')) {
        p++;
    } else if (p + 6 == len && (s[p] == '+' || s[p] == '-')) {
        if (!num_at(s + p + 1, 2, &oh) || s[p + 3] != ':' ||
            !num_at(s + p + 4, 2, &om) || oh > SL_TIME_MAX_OFFSET_H || om > 59)
            return false;
        off = (s[p] == '+' ? 1 : -1) * (oh * 60 + om);
        p += 6;
    } else {
        return false;
    }
    if (p != len)
        return false;
    if (se == 60 && ((h * 60 + mi - off) % 1440 + 1440) % 1440 != 23 * 60 + 59)
        return false;
    return sl_time_parse_us(s, len, &us) == SL_OK;
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* RFC 3986 URI (absolute, so a scheme is required): scheme ":" then only
 * unreserved, reserved or %XX characters, at most one '#'. */
static bool valid_uri(const char *s, size_t len)
{
    size_t i = 0;
    int hashes = 0;

    if (len == 0 || !is_alpha(s[0]))
        return false;
    while (i < len && (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '+' ||
                       s[i] == '-' || s[i] == '.'))
        i++;
    if (i == len || s[i] != ':')
        return false;
    for (i++; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= len || !is_hex(s[i + 1]) || !is_hex(s[i + 2]))
                return false;
            i += 2;
        } else if (c == '#') {
            if (++hashes > 1)
                return false;
        } else if (!(is_alpha(c) || is_digit(c) || (c && strchr("-._~:/?[]@!$&'()*+,;=", c)))) {
            return false;
        }
    }
    return true;
}

/* ---- validation ------------------------------------------------------- */

typedef struct js_val {
    const sl_jschema *s;
    pcre2_match_data *md;
    js_ptr ptr;
    int depth;
    sl_err *err;
} js_val;

/* Records the first violation at the current pointer; returns SL_EINVAL. */
static int vfail(js_val *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int vfail(js_val *c, const char *fmt, ...)
{
    char msg[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sl_err_set(c->err, "%s: %s", ptr_str(&c->ptr), msg);
    return SL_EINVAL;
}

/* Three-way numeric comparison across jansson integers and reals. */
static int num_cmp(const json_t *a, const json_t *b)
{
    long double x, y;

    if (json_is_integer(a) && json_is_integer(b)) {
        json_int_t i = json_integer_value(a), k = json_integer_value(b);
        return (i > k) - (i < k);
    }
    x = json_is_integer(a) ? (long double)json_integer_value(a)
                           : (long double)json_real_value(a);
    y = json_is_integer(b) ? (long double)json_integer_value(b)
                           : (long double)json_real_value(b);
    return (x > y) - (x < y);
}

/* JSON Schema equality: numbers by value, objects regardless of key
 * order.  Recursion is bounded by the schema's own (trusted) value. */
static bool js_equal(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b))
        return num_cmp(a, b) == 0;
    if (json_typeof(a) != json_typeof(b))
        return false;
    switch (json_typeof(a)) {
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b),
                      json_string_length(a)) == 0;
    case JSON_ARRAY:
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!js_equal(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    case JSON_OBJECT: {
        void *it;
        if (json_object_size(a) != json_object_size(b))
            return false;
        for (it = json_object_iter((json_t *)a); it;
             it = json_object_iter_next((json_t *)a, it)) {
            const json_t *o = json_object_getn(b, json_object_iter_key(it),
                                               json_object_iter_key_len(it));
            if (!o || !js_equal(json_object_iter_value(it), o))
                return false;
        }
        return true;
    }
    default:
        return true;   /* true, false, null: same type is equal */
    }
}

static const char *doc_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:  return "object";
    case JSON_ARRAY:   return "array";
    case JSON_STRING:  return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL:    return "number";
    case JSON_TRUE:
    case JSON_FALSE:   return "boolean";
    default:           return "null";
    }
}

static bool type_ok(unsigned types, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:  return types & T_OBJECT;
    case JSON_ARRAY:   return types & T_ARRAY;
    case JSON_STRING:  return types & T_STRING;
    case JSON_INTEGER: return types & (T_INTEGER | T_NUMBER);
    case JSON_REAL:    return types & T_NUMBER;
    case JSON_TRUE:
    case JSON_FALSE:   return types & T_BOOLEAN;
    default:           return types & T_NULL;
    }
}

static int type_fail(js_val *c, unsigned types, const json_t *v)
{
    static const char *names[] = { "string", "integer", "number", "boolean",
                                   "object", "array", "null" };
    char want[96] = "";
    size_t w = 0;

    for (int i = 0; i < 7; i++) {
        if (!(types & (1u << i)))
            continue;
        int n = snprintf(want + w, sizeof(want) - w, "%s%s", w ? " or " : "",
                         names[i]);
        if (n > 0 && (size_t)n < sizeof(want) - w)
            w += (size_t)n;
    }
    return vfail(c, "expected %s, got %s", want, doc_type_name(v));
}

/* A schema number for messages. */
static void num_text(const json_t *v, char *buf, size_t n)
{
    if (json_is_integer(v))
        snprintf(buf, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else
        snprintf(buf, n, "%.17g", json_real_value(v));
}

static int validate(js_val *c, const js_node *n, const json_t *v);

static int check_string(js_val *c, const js_node *n, const json_t *v)
{
    const char *s = json_string_value(v);
    size_t len = json_string_length(v), cps = 0;
    int r;

    if (n->min_len >= 0 || n->max_len >= 0) {
        for (size_t i = 0; i < len; i++)
            cps += ((unsigned char)s[i] & 0xc0) != 0x80;
        if (n->min_len >= 0 && cps < (size_t)n->min_len)
            return vfail(c, "string shorter than minLength %" JSON_INTEGER_FORMAT,
                         n->min_len);
        if (n->max_len >= 0 && cps > (size_t)n->max_len)
            return vfail(c, "string longer than maxLength %" JSON_INTEGER_FORMAT,
                         n->max_len);
    }
    if (n->re) {
        r = pcre2_match(n->re, (PCRE2_SPTR)s, len, 0, 0, c->md, c->s->mctx);
        if (r == PCRE2_ERROR_NOMATCH)
            return vfail(c, "string does not match pattern \"%s\"", n->re_src);
        if (r < 0)
            return vfail(c, "string cannot be matched against pattern \"%s\" "
                         "(PCRE2 error %d)", n->re_src, r);
    }
    if (n->format == FMT_DATETIME && !valid_datetime(s, len))
        return vfail(c, "string is not an RFC 3339 date-time");
    if (n->format == FMT_URI && !valid_uri(s, len))
        return vfail(c, "string is not a URI");
    return SL_OK;
}

static int check_number(js_val *c, const js_node *n, const json_t *v)
{
    char buf[40];

    if (n->minimum && num_cmp(v, n->minimum) < 0) {
        num_text(n->minimum, buf, sizeof(buf));
        return vfail(c, "number less than minimum %s", buf);
    }
    if (n->maximum && num_cmp(v, n->maximum) > 0) {
        num_text(n->maximum, buf, sizeof(buf));
        return vfail(c, "number greater than maximum %s", buf);
    }
    return SL_OK;
}

static int check_array(js_val *c, const js_node *n, const json_t *v)
{
    size_t len = json_array_size(v);

    if (n->min_items >= 0 && len < (size_t)n->min_items)
        return vfail(c, "array has fewer than %" JSON_INTEGER_FORMAT " items",
                     n->min_items);
    if (n->max_items >= 0 && len > (size_t)n->max_items)
        return vfail(c, "array has more than %" JSON_INTEGER_FORMAT " items",
                     n->max_items);
    if (n->items) {
        for (size_t i = 0; i < len; i++) {
            size_t old = ptr_push_index(&c->ptr, i);
            int rc = validate(c, n->items, json_array_get(v, i));
            if (rc != SL_OK)
                return rc;
            ptr_pop(&c->ptr, old);
        }
    }
    return SL_OK;
}

static const js_node *find_prop(const js_node *n, const char *key, size_t len)
{
    for (size_t i = 0; i < n->nprops; i++)
        if (n->props[i].len == len && memcmp(n->props[i].name, key, len) == 0)
            return n->props[i].node;
    return NULL;
}

/* Required members first (in schema order), then every member in document
 * order against its property schema or additionalProperties. */
static int check_object(js_val *c, const js_node *n, const json_t *v)
{
    size_t i;
    json_t *r;
    void *it;

    json_array_foreach(n->required, i, r) {
        if (!json_object_getn(v, json_string_value(r), json_string_length(r)))
            return vfail(c, "missing required property \"%s\"",
                         json_string_value(r));
    }
    if (!n->nprops && !n->addl && !n->addl_false)
        return SL_OK;
    for (it = json_object_iter((json_t *)v); it;
         it = json_object_iter_next((json_t *)v, it)) {
        const char *key = json_object_iter_key(it);
        size_t klen = json_object_iter_key_len(it);
        const js_node *sub = find_prop(n, key, klen);
        size_t old = ptr_push(&c->ptr, key, klen);
        int rc = SL_OK;

        if (!sub && n->addl_false)
            return vfail(c, "unknown property not allowed");
        if (!sub)
            sub = n->addl;
        if (sub)
            rc = validate(c, sub, json_object_iter_value(it));
        if (rc != SL_OK)
            return rc;
        ptr_pop(&c->ptr, old);
    }
    return SL_OK;
}

/* Applies node n to value v.  On failure the pointer is left at the
 * failing location (it only feeds the message). */
static int validate(js_val *c, const js_node *n, const json_t *v)
{
    int rc = SL_OK;

    if (++c->depth > JS_MAX_DEPTH) {
        rc = vfail(c, "nested deeper than %d levels", JS_MAX_DEPTH);
        goto out;
    }
    if (n->boolean >= 0) {
        if (!n->boolean)
            rc = vfail(c, "no value is allowed here");
        goto out;
    }
    if (n->ref && (rc = validate(c, n->ref, v)) != SL_OK)
        goto out;
    if (n->types && !type_ok(n->types, v)) {
        rc = type_fail(c, n->types, v);
        goto out;
    }
    if (n->const_val && !js_equal(n->const_val, v)) {
        rc = vfail(c, "value does not equal the schema's const");
        goto out;
    }
    if (n->enum_vals) {
        size_t i;
        json_t *e;
        bool found = false;
        json_array_foreach(n->enum_vals, i, e) {
            if (js_equal(e, v)) {
                found = true;
                break;
            }
        }
        if (!found) {
            char *list = json_dumps(n->enum_vals, JSON_COMPACT | JSON_ENCODE_ANY);
            rc = vfail(c, "value is not one of %s", list ? list : "the enum");
            free(list);
            goto out;
        }
    }
    switch (json_typeof(v)) {
    case JSON_STRING:
        rc = check_string(c, n, v);
        break;
    case JSON_INTEGER:
    case JSON_REAL:
        rc = check_number(c, n, v);
        break;
    case JSON_ARRAY:
        rc = check_array(c, n, v);
        break;
    case JSON_OBJECT:
        rc = check_object(c, n, v);
        break;
    default:
        break;
    }
out:
    c->depth--;
    return rc;
}

/* SL_OK when doc satisfies the schema; otherwise SL_EINVAL (SL_ENOMEM when
 * memory ran out) with "<json pointer>: <problem>" for the first violation.
 * Safe to call from several threads on one schema. */
int sl_jschema_validate(const sl_jschema *s, const json_t *doc, sl_err *err)
{
    js_val c;
    int rc;

    if (!s || !doc) {
        sl_err_set(err, "no schema or document");
        return SL_EINVAL;
    }
    memset(&c, 0, sizeof(c));
    c.s = s;
    c.err = err;
    if (s->has_patterns) {
        c.md = pcre2_match_data_create(1, NULL);
        if (!c.md) {
            sl_err_set(err, "out of memory validating");
            return SL_ENOMEM;
        }
    }
    rc = validate(&c, s->root, doc);
    pcre2_match_data_free(c.md);
    return rc;
}
