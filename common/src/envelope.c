/*
 * envelope.c -- reads an upload's value hash, sluice-meta and sluice-scan
 * once, by the one set of rules sl/envelope.h states.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "sl/envelope.h"
#include "sl/json.h"
#include "sl/timeutil.h"

void sl_envelope_clear(sl_envelope *e)
{
    json_decref(e->meta_own_);
    json_decref(e->scan_own_);
    json_decref(e->att_own_);
    free(e->strs_);
    memset(e, 0, sizeof(*e));
}

/* ---- the fast path: documents that need no DOM -------------------------
 *
 * Most headers are what sluicectl and the stages write: compact, printable
 * ASCII, no escapes.  For those, yajl's event parser reads the members the
 * stages use straight into the envelope (one copy of each string) instead
 * of jansson building a tree of allocated values, about 7x cheaper.  It
 * only ever says yes to a document jansson would parse to the same object:
 * the bytes are printable ASCII or JSON whitespace and hold no backslash
 * (so strings are their bytes: no escapes, no UTF-8, no NUL, no control
 * characters), numbers are integers yajl reads without overflow, nesting
 * is at most FAST_DEPTH, no object repeats a key and no level holds more
 * than FAST_KEYS keys.  Anything else -- including every malformed
 * document -- goes to jansson, which gives the verdict and its detail.
 * When a tree is wanted (the attestation for the license stage, the whole
 * document for validate's schema check), the same events build it, in
 * document order as json_loadb does. */

#define FAST_DEPTH 32
#define FAST_KEYS  128

enum { M_NONE, M_UPLOAD_ID, M_CREATOR_ID, M_DATASET_ID, M_CONTENT_TYPE,
       M_CREATED_AT, M_SHA256, M_FILENAME, M_LICENSE, M_ATTESTATION,
       M_EXPRESSION, M_TERMS_URL, M_ATTRIBUTION,
       M_OUTCOME, M_DETECTED_TYPE, M_ORIGINAL, M_REDACTED, M_COUNT };

typedef struct fast_key { const unsigned char *p; size_t len; } fast_key;

typedef struct fast_ctx {
    sl_slice doc;                   /* the document being read */
    int scan;                       /* reading sluice-scan, not sluice-meta */
    int depth;                      /* open containers */
    size_t map_keys[FAST_DEPTH + 1];  /* where each open map's keys start */
    fast_key keys[FAST_KEYS];       /* the open maps' keys, a stack */
    size_t n_keys;
    int member;                     /* M_*: the member whose value is next
                                     * (set only by keys of the top object
                                     * and of its license object) */
    int in_license;                 /* depth 2 is the license object */
    const char *str[M_COUNT];       /* members read as strings */
    unsigned char present[M_COUNT]; /* members present, of any type */
    char *out;                      /* where the next string is copied */
    /* The attestation, built when wanted (meta only); or, with want_doc,
     * the whole document (the attestation is then its member). */
    int want_att, want_doc, building;
    json_t *tree;                   /* that tree, as built so far */
    json_t *stack[FAST_DEPTH + 1];  /* its open containers */
    int n_stack;
    const unsigned char *tree_key;  /* the key of its next member */
    size_t tree_key_len;
} fast_ctx;

typedef struct fast_name { const char *name; int m; } fast_name;

static int fast_member(const fast_ctx *x, const unsigned char *k, size_t len)
{
    static const fast_name top_meta[] = {
        { "upload_id", M_UPLOAD_ID }, { "creator_id", M_CREATOR_ID },
        { "dataset_id", M_DATASET_ID }, { "content_type", M_CONTENT_TYPE },
        { "created_at", M_CREATED_AT }, { "sha256", M_SHA256 },
        { "filename", M_FILENAME }, { "license", M_LICENSE },
        { "attestation", M_ATTESTATION }, { NULL, M_NONE },
    }, license[] = {
        { "expression", M_EXPRESSION }, { "terms_url", M_TERMS_URL },
        { "attribution", M_ATTRIBUTION }, { NULL, M_NONE },
    }, top_scan[] = {
        { "outcome", M_OUTCOME }, { "detected_type", M_DETECTED_TYPE },
        { "original_sha256", M_ORIGINAL }, { "redacted_sha256", M_REDACTED },
        { NULL, M_NONE },
    };
    const fast_name *t;

    if (x->depth == 1)
        t = x->scan ? top_scan : top_meta;
    else if (x->depth == 2 && x->in_license)
        t = license;
    else
        return M_NONE;
    for (; t->name; t++)
        if (strlen(t->name) == len && memcmp(t->name, k, len) == 0)
            return t->m;
    return M_NONE;
}

/* Adds a value to the tree being built (the whole of it when
 * nothing is open yet); containers are pushed. */
static int tree_add(fast_ctx *x, json_t *v, int container)
{
    json_t *top;

    if (!v)
        return 0;
    if (x->n_stack == 0) {
        x->tree = v;
    } else {
        top = x->stack[x->n_stack - 1];
        /* The _new calls take v, on failure too. */
        if ((json_is_object(top)
             ? json_object_setn_new(top, (const char *)x->tree_key,
                                    x->tree_key_len, v)
             : json_array_append_new(top, v)) != 0)
            return 0;
    }
    if (container) {
        x->stack[x->n_stack++] = v;
        x->building = 1;
    }
    return 1;
}

/* Whether the next value is (or is inside) a wanted attestation, or the
 * whole document is wanted. */
static int tree_wanted(const fast_ctx *x)
{
    return x->building || x->want_doc ||
           (x->want_att && x->depth == 1 && x->member == M_ATTESTATION);
}

/* A value at the current depth: what member it is, then it is done. */
static int fast_value(fast_ctx *x, json_t *(*make)(const void *), const void *arg)
{
    if (x->depth == 0)
        return 0;                 /* only an object is read here */
    if (tree_wanted(x) && !tree_add(x, make(arg), 0))
        return 0;
    if (x->member)
        x->present[x->member] = 1;
    x->member = M_NONE;
    return 1;
}

static json_t *mk_null(const void *a) { (void)a; return json_null(); }
static json_t *mk_bool(const void *a) { return json_boolean(*(const int *)a); }
static json_t *mk_int(const void *a) { return json_integer(*(const long long *)a); }

static int f_null(void *c) { return fast_value(c, mk_null, NULL); }
static int f_bool(void *c, int b) { return fast_value(c, mk_bool, &b); }
static int f_int(void *c, long long v) { return fast_value(c, mk_int, &v); }
static int f_double(void *c, double d) { (void)c; (void)d; return 0; }

static int f_string(void *c, const unsigned char *s, size_t len)
{
    fast_ctx *x = c;
    int m = x->member;

    if (x->depth == 0)
        return 0;                 /* only an object is read here */
    if (tree_wanted(x) && !tree_add(x, json_stringn((const char *)s, len), 0))
        return 0;
    if (m) {
        x->present[m] = 1;
        memcpy(x->out, s, len);
        x->out[len] = '\0';
        x->str[m] = x->out;
        x->out += len + 1;
    }
    x->member = M_NONE;
    return 1;
}

static int f_open(fast_ctx *x, int map)
{
    if (x->depth == FAST_DEPTH)
        return 0;
    if (x->depth == 0 && !map)
        return 0;                 /* only an object is read here */
    if (tree_wanted(x) && !tree_add(x, map ? json_object() : json_array(), 1))
        return 0;
    if (x->member)
        x->present[x->member] = 1;
    x->in_license = x->in_license ||
                    (x->depth == 1 && x->member == M_LICENSE && map && !x->scan);
    x->member = M_NONE;
    x->depth++;
    x->map_keys[x->depth] = x->n_keys;
    return 1;
}

static int f_close(fast_ctx *x)
{
    x->n_keys = x->map_keys[x->depth];   /* its keys leave with it */
    x->depth--;
    if (x->depth <= 1)
        x->in_license = 0;
    if (x->building && --x->n_stack == 0)
        x->building = 0;
    x->member = M_NONE;
    return 1;
}

static int f_start_map(void *c) { return f_open(c, 1); }
static int f_start_array(void *c) { return f_open(c, 0); }
static int f_end(void *c) { return f_close(c); }

static int f_key(void *c, const unsigned char *k, size_t len)
{
    fast_ctx *x = c;

    /* Keys are compared later by pointer into the document: one that is
     * not there (yajl copied it) is left to jansson. */
    if (k < x->doc.ptr || k + len > x->doc.ptr + x->doc.len)
        return 0;
    for (size_t i = x->map_keys[x->depth]; i < x->n_keys; i++)
        if (x->keys[i].len == len && memcmp(x->keys[i].p, k, len) == 0)
            return 0;             /* a duplicate: jansson says so */
    if (x->n_keys == FAST_KEYS)
        return 0;
    x->keys[x->n_keys++] = (fast_key){ k, len };
    x->member = fast_member(x, k, len);
    x->tree_key = k;
    x->tree_key_len = len;
    return 1;
}

static const yajl_callbacks fast_cb = {
    f_null, f_bool, f_int, f_double, NULL, f_string,
    f_start_map, f_key, f_end, f_start_array, f_end,
};

static int json_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Printable ASCII or JSON whitespace, no backslash, and one object with
 * nothing but whitespace after it.  Without escapes every '"' opens or
 * closes a string, so the object's end is found by counting brackets
 * outside strings; this does not rest on the parser's own end-of-input
 * handling (yajl takes an unclosed string after the value as input to
 * come, and accepts `{}"x`). */
static int fast_bytes(sl_slice s)
{
    size_t i = 0, depth = 0;
    int in_str = 0;

    while (i < s.len && json_ws(s.ptr[i]))
        i++;
    if (i == s.len || s.ptr[i] != '{')
        return 0;
    for (; i < s.len; i++) {
        unsigned char c = s.ptr[i];
        if ((c < 0x20 && !json_ws(c)) || c > 0x7e || c == '\\')
            return 0;
        if (c == '"')
            in_str = !in_str;
        else if (in_str)
            continue;
        else if (c == '{' || c == '[')
            depth++;
        else if ((c == '}' || c == ']') && depth && --depth == 0)
            break;
    }
    if (i == s.len)
        return 0;                 /* the object never closes */
    for (i++; i < s.len; i++)
        if (!json_ws(s.ptr[i]))
            return 0;
    return 1;
}

/* Reads doc the fast way into x; 1 when it did, 0 to leave it to jansson
 * (x's attestation is then released).  out has room for doc.len bytes
 * of strings plus their terminators. */
static int fast_read(fast_ctx *x, sl_slice doc)
{
    yajl_handle h;
    int ok = 0;

    x->doc = doc;
    if (!fast_bytes(doc) || !(h = yajl_alloc(&fast_cb, NULL, x)))
        return 0;
    ok = yajl_parse(h, doc.ptr, doc.len) == yajl_status_ok &&
         yajl_complete_parse(h) == yajl_status_ok;
    yajl_free(h);
    if (!ok || x->building || x->depth != 0) {
        json_decref(x->tree);
        x->tree = NULL;
        return 0;
    }
    return 1;
}

/* ---- the rules, on the members however they were read ------------------ */

/* The members every stage reads, and the rules they must meet. */
static void meta_check(sl_envelope *e)
{
    const char *required[] = {
        e->upload_id, e->creator_id, e->dataset_id, e->content_type,
        e->created_at,
    };
    static const char *const names[] = {
        "upload_id", "creator_id", "dataset_id", "content_type", "created_at",
    };

    e->meta_state = SL_META_INVALID;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!required[i]) {
            snprintf(e->meta_detail, sizeof(e->meta_detail),
                     "%s has no %s string", SL_H_META, names[i]);
            return;
        }
    if (e->meta_sha256_present && !sl_hex64_ok(e->declared_sha256)) {
        snprintf(e->meta_detail, sizeof(e->meta_detail), "%s sha256 is not "
                 "64 lowercase hex digits", SL_H_META);
        return;
    }
    if (sl_time_parse_us(e->created_at, strlen(e->created_at),
                         &e->created_us) != SL_OK) {
        e->meta_state = SL_META_BAD_TIME;
        snprintf(e->meta_detail, sizeof(e->meta_detail), "%s created_at is "
                 "not a storable RFC 3339 date-time", SL_H_META);
        return;
    }
    e->meta_state = SL_META_OK;
}

static void meta_from_doc(sl_envelope *e, const json_t *doc, unsigned want)
{
    const json_t *lic = json_object_get(doc, "license");

    e->upload_id = sl_json_str(doc, "upload_id");
    e->creator_id = sl_json_str(doc, "creator_id");
    e->dataset_id = sl_json_str(doc, "dataset_id");
    e->content_type = sl_json_str(doc, "content_type");
    e->created_at = sl_json_str(doc, "created_at");
    e->declared_sha256 = sl_json_str(doc, "sha256");
    e->meta_sha256_present = json_object_get(doc, "sha256") != NULL;
    e->filename = sl_json_str(doc, "filename");
    e->license_expression = sl_json_str(lic, "expression");
    e->license_terms_url = sl_json_str(lic, "terms_url");
    e->license_attribution = sl_json_str(lic, "attribution");
    if (want & SL_ENV_ATTESTATION)
        e->attestation = json_object_get(doc, "attestation");
}

/* sluice-meta's members the fast way into e: 1 read, 0 left to jansson.
 * Its strings go to the start of e->strs_.  With SL_ENV_META_DOC the
 * document is built from the parser's events too: the same tree, in the
 * same order, as json_loadb gives for text in this form (strings without
 * escapes, integers, no duplicate key); the whole read takes about half
 * the time it takes with json_loadb. */
static int meta_fast(sl_envelope *e, unsigned want)
{
    fast_ctx ctx = { .out = e->strs_,
                     .want_att = (want & SL_ENV_ATTESTATION) != 0,
                     .want_doc = (want & SL_ENV_META_DOC) != 0 };
    fast_ctx *x = &ctx;
    int done = fast_read(x, e->meta);

    if (done) {
        e->upload_id = x->str[M_UPLOAD_ID];
        e->creator_id = x->str[M_CREATOR_ID];
        e->dataset_id = x->str[M_DATASET_ID];
        e->content_type = x->str[M_CONTENT_TYPE];
        e->created_at = x->str[M_CREATED_AT];
        e->declared_sha256 = x->str[M_SHA256];
        e->meta_sha256_present = x->present[M_SHA256];
        e->filename = x->str[M_FILENAME];
        e->license_expression = x->str[M_EXPRESSION];
        e->license_terms_url = x->str[M_TERMS_URL];
        e->license_attribution = x->str[M_ATTRIBUTION];
        if (x->want_doc) {
            e->meta_own_ = e->meta_doc = x->tree;
            if (want & SL_ENV_ATTESTATION)
                e->attestation = json_object_get(x->tree, "attestation");
        } else {
            e->att_own_ = x->tree;
            e->attestation = x->tree;
        }
        e->meta_fast = 1;
    }
    return done;
}

static int read_meta(sl_envelope *e, unsigned want)
{
    json_error_t jerr;

    if (!e->meta.ptr) {
        e->meta_state = SL_META_ABSENT;
        snprintf(e->meta_detail, sizeof(e->meta_detail), "no %s header", SL_H_META);
        return SL_OK;
    }
    if (e->strs_ && meta_fast(e, want)) {
        meta_check(e);
        return SL_OK;
    }
    e->meta_own_ = json_loadb((const char *)e->meta.ptr, e->meta.len,
                              JSON_REJECT_DUPLICATES, &jerr);
    if (!e->meta_own_) {
        if (json_error_code(&jerr) == json_error_out_of_memory)
            return SL_ENOMEM;
        e->meta_state = SL_META_MALFORMED;
        snprintf(e->meta_detail, sizeof(e->meta_detail), "%s is not valid "
                 "JSON: %s at line %d column %d", SL_H_META, jerr.text,
                 jerr.line, jerr.column);
        return SL_OK;
    }
    if (!json_is_object(e->meta_own_)) {
        json_decref(e->meta_own_);
        e->meta_own_ = NULL;
        e->meta_state = SL_META_MALFORMED;
        snprintf(e->meta_detail, sizeof(e->meta_detail), "%s must be a JSON "
                 "object", SL_H_META);
        return SL_OK;
    }
    if (want & SL_ENV_META_DOC)
        e->meta_doc = e->meta_own_;
    meta_from_doc(e, e->meta_own_, want);
    meta_check(e);
    return SL_OK;
}

/* A hash member of the scan result: absent, or 64 lowercase hex digits
 * copied into out.  0 when present and anything else. */
static int scan_hash(int present, const char *v, char out[SL_SHA256_HEX])
{
    out[0] = '\0';
    if (!present)
        return 1;
    if (!sl_hex64_ok(v))
        return 0;
    memcpy(out, v, SL_SHA256_HEX);
    return 1;
}

/* The scan result's members the fast way: 1 read, 0 left to jansson.
 * Its strings go after room for sluice-meta's (at most meta.len bytes:
 * a string of n bytes takes n + 2 there, quotes included, and n + 1
 * here). */
static int scan_fast(sl_envelope *e, const char **outcome, const char **type,
                     const char **orig, int *orig_present, const char **red,
                     int *red_present)
{
    fast_ctx ctx = { .scan = 1, .out = e->strs_ + e->meta.len };
    fast_ctx *x = &ctx;
    int done = fast_read(x, e->scan);

    if (done) {
        *outcome = x->str[M_OUTCOME];
        *type = x->str[M_DETECTED_TYPE];
        *orig = x->str[M_ORIGINAL];
        *orig_present = x->present[M_ORIGINAL];
        *red = x->str[M_REDACTED];
        *red_present = x->present[M_REDACTED];
        e->scan_fast = 1;
    }
    return done;
}

static void read_scan(sl_envelope *e)
{
    const char *outcome, *type, *orig, *red;
    int orig_present, red_present;
    json_t *doc = NULL;

    if (!e->scan.ptr) {
        e->scan_state = SL_SCANHDR_ABSENT;
        return;
    }
    e->scan_state = SL_SCANHDR_INVALID;
    if (!(e->strs_ && scan_fast(e, &outcome, &type, &orig, &orig_present,
                                &red, &red_present))) {
        doc = json_loadb((const char *)e->scan.ptr, e->scan.len,
                         JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(doc)) {
            json_decref(doc);
            return;
        }
        outcome = sl_json_str(doc, "outcome");
        type = sl_json_str(doc, "detected_type");
        orig = sl_json_str(doc, "original_sha256");
        orig_present = json_object_get(doc, "original_sha256") != NULL;
        red = sl_json_str(doc, "redacted_sha256");
        red_present = json_object_get(doc, "redacted_sha256") != NULL;
    }
    if (!outcome ||
        !scan_hash(orig_present, orig, e->original_sha256) ||
        !scan_hash(red_present, red, e->redacted_sha256)) {
        e->original_sha256[0] = e->redacted_sha256[0] = '\0';
        json_decref(doc);
        return;
    }
    e->scan_own_ = doc;
    e->scan_outcome = outcome;
    e->detected_type = type;
    e->scan_state = SL_SCANHDR_OK;
}

int sl_envelope_read_with(sl_envelope *e, const sl_msg *m, unsigned want)
{
    int rc;

    memset(e, 0, sizeof(*e));
    /* The value is bounded by the broker's message.max.bytes. */
    if (sl_sha256_hex(m->value.ptr, m->value.len, e->sha256) != SL_OK)
        return SL_ENOMEM;
    if (sl_msg_header(m, SL_H_META, &e->meta) != SL_OK || !e->meta.ptr)
        e->meta = (sl_slice){ NULL, 0 };
    if (sl_msg_header(m, SL_H_SCAN, &e->scan) != SL_OK || !e->scan.ptr)
        e->scan = (sl_slice){ NULL, 0 };
    /* One buffer for the fast path's strings of both headers, when it may
     * run: each header's strings fit in its bytes. */
    if ((e->meta.ptr || e->scan.ptr) && !(want & SL_ENV_JANSSON) &&
        !(e->strs_ = malloc(e->meta.len + e->scan.len + 1)))
        return SL_ENOMEM;
    if ((rc = read_meta(e, want)) != SL_OK)
        return rc;
    read_scan(e);
    return SL_OK;
}

int sl_envelope_read(sl_envelope *e, const sl_msg *m)
{
    return sl_envelope_read_with(e, m, SL_ENV_ALL);
}

const char *sl_envelope_origin(const sl_envelope *e)
{
    return e->original_sha256[0] ? e->original_sha256 : e->sha256;
}

/* The key as an id: 1..255 bytes of UTF-8 without NUL (it goes into
 * provenance events and text columns). */
static int key_usable(sl_slice k)
{
    json_t *s;

    if (!k.len || k.len > 255 || memchr(k.ptr, '\0', k.len))
        return 0;
    if (!(s = json_stringn((const char *)k.ptr, k.len)))
        return 0;
    json_decref(s);
    return 1;
}

const char *sl_envelope_upload_id(const sl_envelope *e, const sl_msg *m,
                                  size_t *len)
{
    if (e->upload_id) {
        *len = strlen(e->upload_id);
        return e->upload_id;
    }
    if (key_usable(m->key)) {
        *len = m->key.len;
        return (const char *)m->key.ptr;
    }
    *len = 0;
    return NULL;
}
