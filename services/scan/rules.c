/*
 * rules.c -- the PII / secret rule engine: loads a JSON rule file into
 * PCRE2 JIT code plus a prefilter, scans byte buffers for findings, and
 * redacts them.  See rules.h for the contract.
 *
 * Rule file (schemas/scan-rules.json):
 *
 *   { "version": "2025.1", "description": "...",
 *     "rules": [ { "id": "credit_card",            [a-z0-9_], unique
 *                  "entity": "credit_card",        [a-z0-9_]: REDACTED label
 *                  "kind": "pii",                  pii | secret
 *                  "action": "block",              block|flag|redact|allow
 *                  "severity": "high",             low | medium | high
 *                  "description": "...",          optional
 *                  "pattern": "...",               PCRE2, no (*VERB) prefix
 *                  "validator": "luhn",            optional, validators.h
 *                  "min_entropy": 3.5,             with validator "entropy"
 *                                                  or "secret_entropy"
 *                  "score": 0.3,                   optional, 0..1
 *                  "threshold": 0.5,               optional, 0..1
 *                  "context": { "words": ["card"], "window": 32,
 *                               "boost": 0.35 },
 *                  "exclude_context": { "words": ["isbn"], "window": 16 },
 *                  "prefilter": [ anchor, ... ] } ] }
 *
 * Context words are matched case-insensitively (ASCII), as whole words
 * (bytes of UTF-8 sequences count as letters), ending at most `window`
 * bytes before the finding.  Scoring, as Presidio's context
 * enhancer: a candidate scores the rule's "score"; when a "context" word
 * is near it scores score + boost (at most 1) and the finding names the
 * word; a candidate scoring under "threshold" is not a finding.  Defaults:
 * threshold 0.5, boost 0.35, score 1.0 -- or 0.3 when the rule has
 * "context", so that a context word is required (the meaning "context"
 * had before scores).  "exclude_context" words forbid the finding at any
 * score.  A named group "value" makes that group
 * the finding (and what the validator sees): the secret in "token=...".
 *
 * Prefilter anchors.  Each is a claim, checked by the unit tests, that
 * every match of the rule contains something, and where the match starts
 * relative to it:
 *   {"literals": ["AKIA", ...], "icase": false, "before": B, "after": A}
 *       one of the strings occurs at p; the match starts in [p-B, p+A];
 *   {"sequence": "[A-Z]{2}\d{2}", "before": B, "after": A}
 *       a run of byte sets ([..] with ranges, \d, \w, single bytes, each
 *       with an optional {n}) occurs at p; same window;
 *   {"class": ":-", "count": K, "span": S, "before": B}
 *       the match holds K bytes of the class within S bytes, the first at
 *       d; the match starts in [d-B, d];
 *   {"context": true}
 *       a required context word occurs at p; the match starts in
 *       [p, p + window].
 * A rule without "prefilter" runs over the whole text.
 *
 * How a scan works.  One pass looks up every byte pair (t[i], t[i+1]) in
 * a 64 KiB byte table holding, for each literal or sequence, its least common
 * adjacent pair of sets (English letter pairs ranked by their real
 * frequency), and every class byte.  A hit gets a second look -- the
 * byte triple of each literal's trigger pair and the set beside it, in
 * two hashed bitmaps -- before the slow path: the literals listed under that exact pair are verified in
 * full (a literal several rules share, once), class bytes pushed into a
 * ring per class.  The fired start ranges, merged per rule, are the only start
 * offsets PCRE2 ever tries: pcre2_jit_match runs over the whole text (so
 * look-arounds see the real neighbours) from the range's first offset with
 * the range's last as its offset limit.  The result is exactly that of
 * running each rule over the whole text, which SL_SCAN_EXHAUSTIVE does.
 *
 * Validators and context checks run from a PCRE2 callout appended to the
 * pattern, so a failing candidate makes PCRE2 backtrack to a shorter or
 * later one (an IBAN followed by a capitalised word still matches).
 *
 * The text is processed in chunks of CHUNK bytes so the windows PCRE2
 * revisits are still in cache; a rule's windows are run once no later
 * anchor can produce a window starting before them (its "margin").
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "rules.h"

#include <errno.h>
#include <jansson.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "sl/crypto.h"
#include "sl/embed.h"
#include "validators.h"

#define MAX_CLASSES    15        /* tbl bits 1..15; bit 0 = literals */
#define RING           64        /* largest class anchor count */
#define MAX_LITERAL    64
#define MAX_PATTERN    8192
#define MAX_WORDS      64
#define MAX_WINDOW     1024
#define MAX_BEFORE     4096
#define CHUNK          (64u * 1024u)
#define MATCH_LIMIT    2000000u  /* per start position, without a budget */
#define HEAP_LIMIT_KIB 65536u    /* the interpreter's backtracking frames */
#define JIT_STACK_MAX  (1024u * 1024u)
#define TRI_BITS       17        /* the triple tables: 16 KiB each */
#define TRI_MAX        4096      /* byte triples a literal may set */
#define HIT_BLOCK      4096      /* pair hits gathered, then handled */

/* Byte kinds, for choosing literal triggers and for keying literal lists
 * by the kind of the byte after the trigger: space, lower, upper, digit,
 * anything else. */
enum { K_SPACE, K_LOWER, K_UPPER, K_DIGIT, K_OTHER, NKINDS };

/* ---- names ------------------------------------------------------------ */

static const char *const kind_names[] = { "pii", "secret" };
static const char *const action_names[] = { "allow", "flag", "redact",
                                            "block" };
static const char *const severity_names[] = { "low", "medium", "high" };

const char *sl_rule_kind_name(sl_rule_kind k)
{
    return (unsigned)k < 2 ? kind_names[k] : "?";
}

const char *sl_action_name(sl_action a)
{
    return (unsigned)a < 4 ? action_names[a] : "?";
}

const char *sl_severity_name(sl_severity s)
{
    return (unsigned)s < 3 ? severity_names[s] : "?";
}

static int parse_name(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

int sl_action_parse(const char *s, sl_action *out)
{
    int v = s ? parse_name(s, action_names, 4) : -1;

    if (v < 0)
        return SL_EINVAL;
    *out = (sl_action)v;
    return SL_OK;
}

/* ---- data ------------------------------------------------------------- */

typedef struct words {
    char **w;               /* lower case */
    size_t *len;
    size_t n;
    size_t window;
    double boost;           /* "context" only: added to the score */
    uint8_t first[256];     /* 1: some word starts with this byte (any case) */
} words;

typedef struct rule {
    char *id, *entity;
    char *label;            /* "[REDACTED:ENTITY]" */
    size_t label_len;
    sl_rule_kind kind;
    sl_action action;
    sl_severity severity;
    const sl_validator *validator;
    double min_entropy;
    float score, threshold; /* base score; least score of a finding */
    int ctx_prefilter;      /* a {"context": true} anchor: needs a word */
    words ctx, excl;
    pcre2_code *code;
    int jit;
    int value_group;        /* 0: the whole match is the finding */
    int always;             /* no prefilter: runs over the whole text */
    size_t margin;          /* see run_ready() */
} rule;

typedef struct anchor {
    uint32_t rule;
    size_t before, after;
    unsigned count, span;   /* class anchors */
    int cls;                /* class index; -1: literal, sequence, context */
    int word;               /* context: a hit counts only as a whole word */
    uint32_t next;          /* the next anchor sharing its literal, or
                               NO_ANCHOR */
} anchor;

#define NO_ANCHOR UINT32_MAX

/* A literal or a sequence anchor: a run of byte sets, each an index into
 * the rule set's pool of 256-bit sets. */
typedef struct literal {
    uint16_t set[MAX_LITERAL];
    size_t len, off;        /* off: first set of the trigger pair */
    uint32_t anchor;        /* first of the anchors it serves (a->next) */
} literal;

struct sl_rules {
    char *version;
    char hash[SL_SHA256_HEX];
    rule *r;
    size_t n;
    anchor *a;
    size_t na, cap_a;
    literal *lit;
    size_t nlit, cap_lit;
    uint8_t (*sets)[32];        /* bitsets used by literals */
    size_t nsets, cap_sets;
    uint8_t *member;            /* member[256 * set + byte]: 0 or 1 */
    /* bit (a + 256 b) set: a literal may start its trigger pair at a byte
     * a followed by b, or a is a class byte (then for every b) */
    uint8_t bigram[65536];      /* a byte each: no shift in the scan loop */
    /* A second look before the slow path: a hit at i goes on when
     * `always` (keyed like bigram) holds its pair (class bytes, literals
     * of one or two sets or too many byte triples), or when next_tri
     * holds the triple (t[i], t[i+1], t[i+2]) or prev_tri (t[i-1], t[i],
     * t[i+1]) -- each literal's trigger pair with the set beside it, so
     * a common pair ("ai") goes on only where the literal's three bytes
     * ("hai" of "thai") stand -- or mid_quad the four bytes around it
     * (for a context word, the non-word byte before or after it counts:
     * "el" of "tel" goes on at "tel," but not at "tell"); hashed,
     * TRI_BITS bits each, of the bytes folded (fold_byte()) so that a
     * word in either case, or beside any non-word byte, sets few bits */
    uint8_t always[65536 / 8];
    uint8_t next_tri[(1u << TRI_BITS) / 8];
    uint8_t prev_tri[(1u << TRI_BITS) / 8];
    uint8_t mid_quad[(1u << TRI_BITS) / 8];   /* (t[i-1] .. t[i+2]) */
    uint8_t fold[256];          /* the bytes as the three tables see them */
    /* bit 0: some literal triggers on this byte; bit 1+k: class k */
    uint16_t tbl[256];
    /* literals whose trigger pair can be byte a followed by byte b:
     * lit_idx[lit_start[a + 256 b] .. lit_start[a + 256 b + 1]) (one-set
     * literals under every b): a pair hit visits only the literals it can
     * start, however many share the pair's first byte */
    uint32_t *lit_start;        /* 65536 + 1 */
    uint32_t *lit_idx;
    uint8_t cls_set[MAX_CLASSES][256];
    size_t ncls;
    uint32_t *cls_anchor;       /* anchors of class k: */
    uint32_t cls_start[MAX_CLASSES + 1];
    uint32_t max_capture;
};

/* ---- small helpers ---------------------------------------------------- */

static uint8_t lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static uint8_t upper(uint8_t c)
{
    return c >= 'a' && c <= 'z' ? (uint8_t)(c - 32) : c;
}

static int is_alnum(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z');
}

/* A byte of a word, for context-word boundaries: ASCII letters and digits,
 * and every byte of a UTF-8 sequence ("événement" holds no word "v"). */
static int is_word(uint8_t c)
{
    return is_alnum(c) || c >= 0x80;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);

    if (p)
        memcpy(p, s, n);
    return p;
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    size_t ncap;
    void *q;

    if (need <= *cap)
        return SL_OK;
    ncap = *cap ? *cap : 16;
    while (ncap < need)
        ncap *= 2;
    q = realloc(*p, ncap * size);
    if (!q)
        return SL_ENOMEM;
    *p = q;
    *cap = ncap;
    return SL_OK;
}

/* Rough frequency of a byte in English prose and source code, in units of
 * 1/10000: a literal or sequence is verified at its least common set. */
static unsigned byte_score(uint8_t c)
{
    static const uint16_t lower_freq[26] = {
        /* a    b    c    d    e    f    g    h    i   j   k    l    m */
        650, 120, 230, 350, 1000, 180, 160, 500, 580, 10, 60, 330, 200,
        /* n    o    p   q    r    s    t    u   v    w   x    y   z */
        570, 620, 150, 10, 500, 520, 750, 230, 80, 180, 15, 160, 10
    };

    if (c >= 'a' && c <= 'z')
        return lower_freq[c - 'a'];
    if (c >= 'A' && c <= 'Z')                    /* capitals: ~3% in all */
        return 5 + lower_freq[c - 'A'] / 20;
    if (c >= '0' && c <= '9')                    /* digits: ~2% in all */
        return 20;
    switch (c) {
    case ' ': return 1700;
    case '.': case ',': case '\n': return 100;
    case '"': case '\'': case '-': case '\t': return 30;
    case '(': case ')': case ':': case '/': case '\r': return 10;
    case ';': case '!': case '?': case '[': case ']': case '*': return 5;
    case '_': case '=': case '+': case '{': case '}': case '<': case '>':
        return 2;
    default:
        return 1;
    }
}

/* ---- accessors -------------------------------------------------------- */

const char *sl_rules_version(const sl_rules *r) { return r->version; }
const char *sl_rules_hash(const sl_rules *r) { return r->hash; }
size_t sl_rules_count(const sl_rules *r) { return r->n; }
const char *sl_rules_id(const sl_rules *r, size_t i) { return r->r[i].id; }

const char *sl_rules_entity(const sl_rules *r, size_t i)
{
    return r->r[i].entity;
}

sl_rule_kind sl_rules_kind(const sl_rules *r, size_t i)
{
    return r->r[i].kind;
}

sl_action sl_rules_action(const sl_rules *r, size_t i)
{
    return r->r[i].action;
}

sl_severity sl_rules_severity(const sl_rules *r, size_t i)
{
    return r->r[i].severity;
}

const char *sl_rules_validator(const sl_rules *r, size_t i)
{
    return r->r[i].validator ? r->r[i].validator->name : NULL;
}

float sl_rules_score(const sl_rules *r, size_t i) { return r->r[i].score; }

float sl_rules_threshold(const sl_rules *r, size_t i)
{
    return r->r[i].threshold;
}

const char *sl_rules_context_word(const sl_rules *r, size_t i, int k)
{
    return k >= 0 && (size_t)k < r->r[i].ctx.n ? r->r[i].ctx.w[k] : NULL;
}

int sl_rules_find(const sl_rules *r, const char *id, size_t *index)
{
    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(r->r[i].id, id) == 0) {
            *index = i;
            return SL_OK;
        }
    }
    return SL_ENOTFOUND;
}

/* ---- destroy ---------------------------------------------------------- */

static void words_free(words *w)
{
    for (size_t i = 0; i < w->n; i++)
        free(w->w[i]);
    free(w->w);
    free(w->len);
    memset(w, 0, sizeof(*w));
}

void sl_rules_destroy(sl_rules *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->r[i].id);
        free(r->r[i].entity);
        free(r->r[i].label);
        words_free(&r->r[i].ctx);
        words_free(&r->r[i].excl);
        pcre2_code_free(r->r[i].code);
    }
    free(r->r);
    free(r->a);
    free(r->lit);
    free(r->sets);
    free(r->member);
    free(r->lit_idx);
    free(r->lit_start);
    free(r->cls_anchor);
    free(r->version);
    free(r);
}

/* ---- loading ---------------------------------------------------------- */

/* Checks that obj has only keys from `allowed` (NULL-terminated). */
static int only_keys(json_t *obj, const char *const *allowed, const char *what,
                     sl_err *err)
{
    const char *key;
    json_t *v;

    json_object_foreach(obj, key, v) {
        size_t i;

        (void)v;
        for (i = 0; allowed[i]; i++)
            if (strcmp(key, allowed[i]) == 0)
                break;
        if (!allowed[i]) {
            sl_err_set(err, "%s: unknown key \"%s\"", what, key);
            return SL_EINVAL;
        }
    }
    return SL_OK;
}

static int is_ident(const char *s)
{
    if (!*s || strlen(s) > 64)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return 0;
    return 1;
}

static int get_size(json_t *obj, const char *key, size_t lo, size_t hi,
                    size_t def, size_t *out, const char *who, sl_err *err)
{
    json_t *v = json_object_get(obj, key);

    if (!v) {
        *out = def;
        return SL_OK;
    }
    if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)lo ||
        json_integer_value(v) > (json_int_t)hi) {
        sl_err_set(err, "%s: \"%s\" must be an integer from %zu to %zu",
                   who, key, lo, hi);
        return SL_EINVAL;
    }
    *out = (size_t)json_integer_value(v);
    return SL_OK;
}

static int parse_words(json_t *obj, words *w, const char *who, const char *key,
                       sl_err *err)
{
    static const char *const keys[] = { "words", "window", "boost", NULL };
    static const char *const excl_keys[] = { "words", "window", NULL };
    char what[160];
    json_t *arr, *it, *bo;
    size_t i;

    snprintf(what, sizeof(what), "%s: %s", who, key);
    if (!json_is_object(obj)) {
        sl_err_set(err, "%s must be an object "
                   "{\"words\": [...], \"window\": N}", what);
        return SL_EINVAL;
    }
    if (only_keys(obj, strcmp(key, "context") == 0 ? keys : excl_keys, what,
                  err) != SL_OK)
        return SL_EINVAL;
    bo = json_object_get(obj, "boost");
    if (bo && (!json_is_number(bo) || json_number_value(bo) <= 0 ||
               json_number_value(bo) > 1)) {
        sl_err_set(err, "%s: \"boost\" must be a number in (0, 1]", what);
        return SL_EINVAL;
    }
    w->boost = bo ? json_number_value(bo) : 0.35;
    arr = json_object_get(obj, "words");
    if (!json_is_array(arr) || json_array_size(arr) == 0 ||
        json_array_size(arr) > MAX_WORDS) {
        sl_err_set(err, "%s: \"words\" must be an array of 1 to %d strings",
                   what, MAX_WORDS);
        return SL_EINVAL;
    }
    if (get_size(obj, "window", 1, MAX_WINDOW, 32, &w->window, what, err))
        return SL_EINVAL;
    w->w = calloc(json_array_size(arr), sizeof(char *));
    w->len = calloc(json_array_size(arr), sizeof(size_t));
    if (!w->w || !w->len)
        return SL_ENOMEM;
    json_array_foreach(arr, i, it) {
        const char *s = json_string_value(it);
        size_t n = s ? strlen(s) : 0;

        if (!s || n == 0 || n > MAX_LITERAL) {
            sl_err_set(err, "%s: word %zu must be a string of 1 to %d bytes",
                       what, i, MAX_LITERAL);
            return SL_EINVAL;
        }
        if (!(w->w[i] = xstrdup(s)))
            return SL_ENOMEM;
        for (size_t k = 0; k < n; k++)
            w->w[i][k] = (char)lower((uint8_t)w->w[i][k]);
        w->len[i] = n;
        w->first[(uint8_t)w->w[i][0]] = 1;
        w->first[upper((uint8_t)w->w[i][0])] = 1;
        w->n++;
    }
    return SL_OK;
}

/* Parses a byte class: bytes and a-b ranges; '-' first or last is literal. */
static int parse_class(const char *s, uint8_t set[256])
{
    size_t n = strlen(s);

    memset(set, 0, 256);
    if (n == 0)
        return SL_EINVAL;
    for (size_t i = 0; i < n; i++) {
        uint8_t a = (uint8_t)s[i];

        if (i + 2 < n && s[i + 1] == '-') {
            uint8_t b = (uint8_t)s[i + 2];

            if (b < a)
                return SL_EINVAL;
            for (unsigned c = a; c <= b; c++)
                set[c] = 1;
            i += 2;
        } else {
            set[a] = 1;
        }
    }
    return SL_OK;
}

static int add_anchor(sl_rules *R, const anchor *a)
{
    if (grow((void **)&R->a, &R->cap_a, R->na + 1, sizeof(anchor)))
        return SL_ENOMEM;
    R->a[R->na++] = *a;
    return SL_OK;
}

static int in_set(const uint8_t set[32], uint8_t c)
{
    return (set[c >> 3] >> (c & 7)) & 1;
}

/* The pool index of this bitset, added if new; -1 when out of memory. */
static int intern_set(sl_rules *R, const uint8_t set[32])
{
    for (size_t i = 0; i < R->nsets; i++)
        if (memcmp(R->sets[i], set, 32) == 0)
            return (int)i;
    if (R->nsets == UINT16_MAX ||
        grow((void **)&R->sets, &R->cap_sets, R->nsets + 1, 32))
        return -1;
    memcpy(R->sets[R->nsets], set, 32);
    return (int)R->nsets++;
}

static int kind_of(uint8_t c)
{
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
        return K_SPACE;
    if (c >= 'a' && c <= 'z')
        return K_LOWER;
    if (c >= 'A' && c <= 'Z')
        return K_UPPER;
    if (c >= '0' && c <= '9')
        return K_DIGIT;
    return K_OTHER;
}

/* The one letter (lower case) a set holds, in either case or both, or 0
 * when it holds anything else. */
static int one_letter(const uint8_t S[32])
{
    int letter = 0;

    for (int c = 0; c < 256; c++) {
        if (!in_set(S, (uint8_t)c))
            continue;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) ||
            (letter && letter != lower((uint8_t)c)))
            return 0;
        letter = lower((uint8_t)c);
    }
    return letter;
}

/* The commonest English letter pairs, in hundredths of a percent of letter
 * pairs (after the usual frequency tables): a context word is triggered at
 * its rarest pair, and byte frequencies alone rank "in" below "ph". */
static const struct { char p[3]; uint16_t f; } common_pairs[] = {
    {"th", 356}, {"he", 307}, {"in", 243}, {"er", 205}, {"an", 199},
    {"re", 185}, {"on", 176}, {"at", 149}, {"en", 145}, {"nd", 135},
    {"ti", 134}, {"es", 134}, {"or", 128}, {"te", 120}, {"of", 117},
    {"ed", 117}, {"is", 113}, {"it", 112}, {"al", 109}, {"ar", 107},
    {"st", 105}, {"to", 104}, {"nt", 104}, {"ng", 95}, {"se", 93},
    {"ha", 93}, {"as", 87}, {"ou", 87}, {"io", 83}, {"le", 83},
    {"ve", 83}, {"co", 79}, {"me", 79}, {"de", 76}, {"hi", 76},
    {"ri", 73}, {"ro", 73}, {"ic", 70}, {"ne", 69}, {"ea", 69},
    {"ra", 69}, {"ce", 65}, {"li", 62}, {"ch", 60}, {"ll", 58},
    {"be", 58}, {"ma", 57}, {"si", 55}, {"om", 55}, {"ur", 54},
    {"ca", 54}, {"el", 53}, {"ta", 53}, {"la", 53}, {"ns", 51},
    {"di", 50}, {"fo", 50}, {"ho", 49}, {"pe", 48}, {"ec", 48},
    {"pr", 47}, {"no", 47}, {"ct", 46}, {"us", 45}, {"ac", 45},
    {"ot", 44}, {"il", 43}, {"tr", 43}, {"ly", 43}, {"nc", 42},
    {"et", 42}, {"ut", 42}, {"ss", 41}, {"so", 41}, {"rs", 40},
    {"un", 39}, {"lo", 39}, {"wa", 39}, {"ge", 38}, {"ie", 38},
    {"wh", 38}, {"ee", 38}, {"wi", 37}, {"em", 37}, {"ad", 37},
    {"ol", 36}, {"rt", 36}, {"po", 36}, {"we", 36}, {"na", 35},
    {"ul", 35}, {"ni", 34}, {"ts", 34}, {"mo", 34}, {"ow", 33},
    {"pa", 32}, {"im", 32}, {"mi", 32}, {"ai", 32}, {"sh", 31},
    {"ir", 31}, {"su", 31}, {"id", 30}, {"os", 29}, {"iv", 29},
    {"ia", 29}, {"am", 28}, {"fi", 28}, {"ci", 28}, {"vi", 27},
    {"pl", 27}, {"ig", 26}, {"tu", 26}, {"ev", 26}, {"ld", 25},
    {"ry", 25}, {"mp", 25}, {"fe", 24}, {"bl", 24}, {"ab", 23},
    {"gh", 23}, {"ty", 23}, {"op", 23}, {"wo", 22}, {"sa", 22},
    {"ay", 22}, {"ex", 21}, {"ke", 21}, {"fr", 21}, {"oo", 21},
    {"av", 20}, {"ag", 20}, {"if", 20}, {"ap", 20}, {"gr", 20},
    {"od", 19}, {"bo", 19}, {"sp", 19}, {"rd", 19}, {"do", 19},
    {"ck", 18}, {"ep", 17}, {"fa", 17}, {"ey", 15}, {"rn", 15},
};

/* How likely a byte of set A is followed by a byte of set B in text:
 * for two letters, the pair's share of English letter pairs (a rare pair
 * when not among the commonest); otherwise the sum over a in A, b in B of
 * f(a) * P(kind b | kind a) * f(b) / f(kind b), with rough English
 * kind-to-kind transition rates (digits follow digits, letters letters,
 * far more often than independent bytes would). */
static double pair_score(const uint8_t A[32], const uint8_t B[32])
{
    static const double next[NKINDS][NKINDS] = {
        /*            space  lower  upper  digit  other */
        /* space */ { 0.02,  0.80,  0.10,  0.04,  0.04 },
        /* lower */ { 0.15,  0.80,  0.005, 0.002, 0.043 },
        /* upper */ { 0.07,  0.75,  0.15,  0.02,  0.01 },
        /* digit */ { 0.20,  0.01,  0.01,  0.60,  0.18 },
        /* other */ { 0.70,  0.10,  0.05,  0.05,  0.10 },
    };
    double kind_total[NKINDS] = {0}, ha[NKINDS] = {0}, gb[NKINDS] = {0};
    double score = 0;
    int la = one_letter(A), lb = one_letter(B);

    /* per 10,000 bytes, letters being about 80% of them */
    if (la && lb) {
        for (size_t i = 0; i < sizeof(common_pairs) / sizeof(common_pairs[0]);
             i++)
            if (common_pairs[i].p[0] == la && common_pairs[i].p[1] == lb)
                return common_pairs[i].f * 0.8;
        return 8.0;                             /* under 0.1% */
    }
    for (int c = 0; c < 256; c++)
        kind_total[kind_of((uint8_t)c)] += byte_score((uint8_t)c);
    for (int c = 0; c < 256; c++) {
        int k = kind_of((uint8_t)c);

        if (in_set(A, (uint8_t)c))
            ha[k] += byte_score((uint8_t)c);
        if (in_set(B, (uint8_t)c))
            gb[k] += byte_score((uint8_t)c) / kind_total[k];
    }
    for (int a = 0; a < NKINDS; a++)
        for (int b = 0; b < NKINDS; b++)
            score += ha[a] * next[a][b] * gb[b];
    return score;
}

/* Adds a literal anchor made of n byte sets.  Its trigger is the pair of
 * adjacent sets least likely to occur together in text (the first set
 * alone for a one-set literal): the scan loop looks at every byte pair.
 * A literal equal to one already there (two rules' "\d{11}", the same
 * context word) is verified once: the anchor joins that literal's list. */
static int add_seq(sl_rules *R, uint8_t (*sets)[32], size_t n,
                   uint32_t anchor_idx)
{
    literal *L;
    double best = 1e300;

    if (grow((void **)&R->lit, &R->cap_lit, R->nlit + 1, sizeof(literal)))
        return SL_ENOMEM;
    L = &R->lit[R->nlit];
    memset(L, 0, sizeof(*L));
    L->len = n;
    L->anchor = anchor_idx;
    for (size_t i = 0; i < n; i++) {
        int id = intern_set(R, sets[i]);

        if (id < 0)
            return SL_ENOMEM;
        L->set[i] = (uint16_t)id;
    }
    for (size_t j = 0; j < R->nlit; j++) {
        if (R->lit[j].len == n &&
            memcmp(R->lit[j].set, L->set, n * sizeof(L->set[0])) == 0) {
            for (uint32_t ai = R->lit[j].anchor; ai != NO_ANCHOR;
                 ai = R->a[ai].next)
                if (ai == anchor_idx)
                    return SL_OK;       /* the same anchor's twin */
            R->a[anchor_idx].next = R->lit[j].anchor;
            R->lit[j].anchor = anchor_idx;
            return SL_OK;
        }
    }
    for (size_t i = 0; i + 1 < n; i++) {
        double sc = pair_score(sets[i], sets[i + 1]);

        if (sc < best) {
            best = sc;
            L->off = i;
        }
    }
    R->nlit++;
    return SL_OK;
}

static int add_literal(sl_rules *R, const char *s, size_t len, int icase,
                       uint32_t anchor_idx)
{
    uint8_t sets[MAX_LITERAL][32];

    memset(sets, 0, sizeof(sets));
    for (size_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t)s[i];

        sets[i][c >> 3] |= (uint8_t)(1u << (c & 7));
        if (icase) {
            c = lower(c);
            sets[i][c >> 3] |= (uint8_t)(1u << (c & 7));
            c = upper(c);
            sets[i][c >> 3] |= (uint8_t)(1u << (c & 7));
        }
    }
    return add_seq(R, sets, len, anchor_idx);
}

/* Parses a sequence: "[set]" (bytes and a-b ranges, '\' escapes), "\d",
 * "\w", "\x" for any other byte x, or a byte standing for itself; each
 * optionally followed by "{n}".  Returns the number of sets, or -1. */
static int parse_sequence(const char *s, uint8_t (*sets)[32])
{
    size_t n = 0;

    memset(sets, 0, (size_t)MAX_LITERAL * 32);
    while (*s) {
        uint8_t set[32] = {0};
        unsigned long rep = 1;

        if (*s == '[') {
            int prev = -1, empty = 1;

            s++;
            if (*s == '^')
                return -1;
            while (*s && *s != ']') {
                int c = (uint8_t)*s++;

                if (c == '\\') {
                    if (!*s)
                        return -1;
                    c = (uint8_t)*s++;
                } else if (c == '-' && prev >= 0 && *s && *s != ']') {
                    int hi = (uint8_t)*s++;

                    if (hi == '\\' && *s)
                        hi = (uint8_t)*s++;
                    if (hi < prev)
                        return -1;
                    for (int k = prev; k <= hi; k++)
                        set[k >> 3] |= (uint8_t)(1u << (k & 7));
                    prev = -1;
                    continue;
                }
                set[c >> 3] |= (uint8_t)(1u << (c & 7));
                prev = c;
                empty = 0;
            }
            if (*s != ']' || empty)
                return -1;
            s++;
        } else if (*s == '\\' && s[1]) {
            char e = s[1];

            s += 2;
            for (int k = 0; k < 256; k++) {
                int in = e == 'd' ? (k >= '0' && k <= '9')
                       : e == 'w' ? (is_alnum((uint8_t)k) || k == '_')
                       : k == (uint8_t)e;
                if (in)
                    set[k >> 3] |= (uint8_t)(1u << (k & 7));
            }
        } else {
            uint8_t c = (uint8_t)*s++;

            set[c >> 3] |= (uint8_t)(1u << (c & 7));
        }
        if (*s == '{') {
            char *end;

            rep = strtoul(s + 1, &end, 10);
            if (end == s + 1 || *end != '}' || rep == 0)
                return -1;
            s = end + 1;
        }
        if (rep > MAX_LITERAL - n)
            return -1;
        for (unsigned long k = 0; k < rep; k++)
            memcpy(sets[n++], set, 32);
    }
    return n ? (int)n : -1;
}

/* Whether word `in` occurs in word `out` as a whole word (what
 * words_near() would accept there): a hit of `out` implies one of `in`. */
static int whole_word_in(const char *out, size_t lo, const char *in,
                         size_t li)
{
    for (const char *h = strstr(out, in); h; h = strstr(h + 1, in)) {
        size_t o = (size_t)(h - out);

        if ((o == 0 || !is_word((uint8_t)out[o - 1]) ||
             !is_word((uint8_t)in[0])) &&
            (o + li == lo || !is_word((uint8_t)out[o + li]) ||
             !is_word((uint8_t)in[li - 1])))
            return 1;
    }
    return 0;
}

/* Context words as literal anchors, minus any word that contains another
 * as a whole word (its hit is implied: "birth" covers "date of birth",
 * not "birthday"). */
static int add_context_literals(sl_rules *R, const words *w,
                                uint32_t anchor_idx, size_t *margin)
{
    for (size_t k = 0; k < w->n; k++) {
        int covered = 0;

        for (size_t j = 0; j < w->n && !covered; j++)
            covered = j != k && (w->len[j] < w->len[k] || j < k) &&
                      whole_word_in(w->w[k], w->len[k], w->w[j], w->len[j]);
        if (covered)
            continue;
        if (add_literal(R, w->w[k], w->len[k], 1, anchor_idx))
            return SL_ENOMEM;
        if (w->len[k] - 1 > *margin)
            *margin = w->len[k] - 1;
    }
    return SL_OK;
}

/* The prefilter anchors, one parser per kind.  Each takes the anchor
 * object `it` of rule ru (what names it in errors), fills and adds anchor
 * a, and sets *margin, how far before its hit a match may start.  SL_OK,
 * SL_EINVAL (err says why) or SL_ENOMEM. */

/* {"context": true}: the required context words themselves; a match
 * starts at most `window` bytes after one. */
static int anchor_context(sl_rules *R, const rule *ru, json_t *it, anchor *a,
                          size_t *margin, const char *what, sl_err *err)
{
    static const char *const keys[] = { "context", NULL };

    if (only_keys(it, keys, what, err))
        return SL_EINVAL;
    if (!json_is_true(json_object_get(it, "context")) || !ru->ctx.n) {
        sl_err_set(err, "%s: \"context\": true needs the rule's \"context\" "
                   "words", what);
        return SL_EINVAL;
    }
    a->after = ru->ctx.window;
    a->word = 1;
    ((rule *)ru)->ctx_prefilter = 1;
    if (add_anchor(R, a) ||
        add_context_literals(R, &ru->ctx, (uint32_t)(R->na - 1), margin))
        return SL_ENOMEM;
    return SL_OK;
}

/* {"literals": [...], "icase": b, "before": B, "after": A} */
static int anchor_literals(sl_rules *R, json_t *it, anchor *a, size_t *margin,
                           const char *what, sl_err *err)
{
    static const char *const keys[] = { "literals", "icase", "before", "after",
                                        NULL };
    json_t *lits = json_object_get(it, "literals"), *l;
    json_t *ic = json_object_get(it, "icase");
    size_t k;

    if (only_keys(it, keys, what, err))
        return SL_EINVAL;
    if (!json_is_array(lits) || json_array_size(lits) == 0 ||
        (ic && !json_is_boolean(ic))) {
        sl_err_set(err, "%s: \"literals\" must be a non-empty array of strings, "
                   "\"icase\" a boolean", what);
        return SL_EINVAL;
    }
    if (get_size(it, "before", 0, MAX_BEFORE, 0, &a->before, what, err) ||
        get_size(it, "after", 0, MAX_BEFORE, 0, &a->after, what, err))
        return SL_EINVAL;
    if (add_anchor(R, a))
        return SL_ENOMEM;
    json_array_foreach(lits, k, l) {
        const char *s = json_string_value(l);
        size_t n = s ? json_string_length(l) : 0;

        if (!s || n == 0 || n > MAX_LITERAL || strlen(s) != n) {
            sl_err_set(err, "%s: literal %zu must be a string of 1 to %d bytes",
                       what, k, MAX_LITERAL);
            return SL_EINVAL;
        }
        if (add_literal(R, s, n, ic && json_is_true(ic), (uint32_t)(R->na - 1)))
            return SL_ENOMEM;
        if (n - 1 + a->before > *margin)
            *margin = n - 1 + a->before;
    }
    return SL_OK;
}

/* {"sequence": "[A-Z]{2}\d{2}", "before": B, "after": A} */
static int anchor_sequence(sl_rules *R, json_t *it, anchor *a, size_t *margin,
                           const char *what, sl_err *err)
{
    static const char *const keys[] = { "sequence", "before", "after", NULL };
    const char *sq = json_string_value(json_object_get(it, "sequence"));
    uint8_t sets[MAX_LITERAL][32];
    int ns;

    if (only_keys(it, keys, what, err))
        return SL_EINVAL;
    if (!sq || (ns = parse_sequence(sq, sets)) < 0) {
        sl_err_set(err, "%s: \"sequence\" must be 1 to %d byte sets: [a-z0-9], "
                   "\\d, \\w or single bytes, each with an optional {n}", what,
                   MAX_LITERAL);
        return SL_EINVAL;
    }
    if (get_size(it, "before", 0, MAX_BEFORE, 0, &a->before, what, err) ||
        get_size(it, "after", 0, MAX_BEFORE, 0, &a->after, what, err))
        return SL_EINVAL;
    if (add_anchor(R, a) || add_seq(R, sets, (size_t)ns, (uint32_t)(R->na - 1)))
        return SL_ENOMEM;
    *margin = (size_t)ns - 1 + a->before;
    return SL_OK;
}

/* {"class": ":-", "count": K, "span": S, "before": B}; equal classes of
 * the rule file share one ring. */
static int anchor_class(sl_rules *R, json_t *it, anchor *a, size_t *margin,
                        const char *what, sl_err *err)
{
    static const char *const keys[] = { "class", "count", "span", "before", NULL };
    const char *cs = json_string_value(json_object_get(it, "class"));
    uint8_t set[256];
    size_t count, span, k;

    if (only_keys(it, keys, what, err))
        return SL_EINVAL;
    if (!cs || parse_class(cs, set) != SL_OK) {
        sl_err_set(err, "%s: \"class\" must be a string of bytes and a-b "
                   "ranges", what);
        return SL_EINVAL;
    }
    if (get_size(it, "count", 1, RING, 1, &count, what, err) ||
        get_size(it, "span", 1, MAX_BEFORE, count, &span, what, err) ||
        get_size(it, "before", 0, MAX_BEFORE, 0, &a->before, what, err))
        return SL_EINVAL;
    if (span < count) {
        sl_err_set(err, "%s: \"span\" must be at least \"count\"", what);
        return SL_EINVAL;
    }
    for (k = 0; k < R->ncls; k++)
        if (memcmp(R->cls_set[k], set, 256) == 0)
            break;
    if (k == R->ncls) {
        if (R->ncls == MAX_CLASSES) {
            sl_err_set(err, "%s: more than %d distinct prefilter classes in "
                       "the rule file", what, MAX_CLASSES);
            return SL_EINVAL;
        }
        memcpy(R->cls_set[R->ncls++], set, 256);
    }
    a->cls = (int)k;
    a->count = (unsigned)count;
    a->span = (unsigned)span;
    *margin = span - 1 + a->before;
    return add_anchor(R, a) ? SL_ENOMEM : SL_OK;
}

/* A rule's "prefilter": a non-empty array of anchors (the file comment
 * above lists them); the rule's margin is the largest of theirs. */
static int parse_prefilter(sl_rules *R, uint32_t ri, json_t *arr,
                           const char *who, sl_err *err)
{
    rule *ru = &R->r[ri];
    json_t *it;
    size_t i;
    char what[160];

    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        sl_err_set(err, "%s: \"prefilter\" must be a non-empty array of "
                   "anchors", who);
        return SL_EINVAL;
    }
    json_array_foreach(arr, i, it) {
        anchor a = { .rule = ri, .cls = -1, .next = NO_ANCHOR };
        size_t margin = 0;
        int rc;

        snprintf(what, sizeof(what), "%s: prefilter %zu", who, i);
        if (!json_is_object(it)) {
            sl_err_set(err, "%s must be an object", what);
            return SL_EINVAL;
        }
        if (json_object_get(it, "context"))
            rc = anchor_context(R, ru, it, &a, &margin, what, err);
        else if (json_object_get(it, "literals"))
            rc = anchor_literals(R, it, &a, &margin, what, err);
        else if (json_object_get(it, "sequence"))
            rc = anchor_sequence(R, it, &a, &margin, what, err);
        else if (json_object_get(it, "class"))
            rc = anchor_class(R, it, &a, &margin, what, err);
        else {
            sl_err_set(err, "%s: needs \"literals\", \"sequence\", \"class\" "
                       "or \"context\"", what);
            rc = SL_EINVAL;
        }
        if (rc != SL_OK)
            return rc;
        if (margin > ru->margin)
            ru->margin = margin;
    }
    return SL_OK;
}

static int compile_pattern(rule *ru, const char *pat, size_t patlen,
                           int callout, const char *who, sl_err *err)
{
    static const char pre[] = "(?:", post[] = ")(?C1)";
    char buf[MAX_PATTERN + sizeof(pre) + sizeof(post)];
    size_t off = 0, n = 0;
    int ec, rc;
    PCRE2_SIZE eo;
    uint32_t opts = PCRE2_USE_OFFSET_LIMIT | PCRE2_NEVER_UTF | PCRE2_NEVER_UCP |
                    PCRE2_NEVER_BACKSLASH_C;
    pcre2_match_data *md;

    if (patlen == 0 || patlen > MAX_PATTERN || strlen(pat) != patlen) {
        sl_err_set(err, "%s: \"pattern\" must be 1 to %d bytes", who,
                   MAX_PATTERN);
        return SL_EINVAL;
    }
    if (patlen >= 2 && pat[0] == '(' && pat[1] == '*') {
        sl_err_set(err, "%s: pattern error at offset 0: start-of-pattern "
                   "settings such as (*UTF) are not allowed", who);
        return SL_EINVAL;
    }
    /* Validators and context run from a callout after the whole pattern. */
    if (callout) {
        memcpy(buf, pre, sizeof(pre) - 1);
        off = sizeof(pre) - 1;
    }
    memcpy(buf + off, pat, patlen);
    n = off + patlen;
    if (callout) {
        memcpy(buf + n, post, sizeof(post) - 1);
        n += sizeof(post) - 1;
    }
    ru->code = pcre2_compile((PCRE2_SPTR)buf, n, opts, &ec, &eo, NULL);
    if (!ru->code) {
        PCRE2_UCHAR msg[256];
        size_t at = eo > off ? eo - off : 0;

        if (at > patlen)
            at = patlen;
        pcre2_get_error_message(ec, msg, sizeof(msg));
        sl_err_set(err, "%s: pattern error at offset %zu: %s", who, at,
                   (const char *)msg);
        return SL_EINVAL;
    }
    ru->jit = pcre2_jit_compile(ru->code, PCRE2_JIT_COMPLETE) == 0;
    rc = pcre2_substring_number_from_name(ru->code, (PCRE2_SPTR)"value");
    if (rc == PCRE2_ERROR_NOUNIQUESUBSTRING) {
        sl_err_set(err, "%s: pattern has more than one group named "
                   "\"value\"", who);
        return SL_EINVAL;
    }
    ru->value_group = rc > 0 ? rc : 0;
    /* A pattern that matches nothing would report empty findings. */
    md = pcre2_match_data_create_from_pattern(ru->code, NULL);
    if (!md)
        return SL_ENOMEM;
    rc = pcre2_match(ru->code, (PCRE2_SPTR)"", 0, 0, 0, md, NULL);
    pcre2_match_data_free(md);
    if (rc >= 0) {
        sl_err_set(err, "%s: pattern matches the empty string", who);
        return SL_EINVAL;
    }
    return SL_OK;
}

/* "score" and "threshold" (numbers in [0, 1]); a rule must be able to
 * reach its threshold, with its context words if need be. */
static int parse_scores(rule *ru, json_t *o, const char *who, sl_err *err)
{
    json_t *sc = json_object_get(o, "score");
    json_t *th = json_object_get(o, "threshold");
    double best;

    if ((sc && (!json_is_number(sc) || json_number_value(sc) < 0 ||
                json_number_value(sc) > 1)) ||
        (th && (!json_is_number(th) || json_number_value(th) < 0 ||
                json_number_value(th) > 1))) {
        sl_err_set(err, "%s: \"score\" and \"threshold\" must be numbers "
                   "from 0 to 1", who);
        return SL_EINVAL;
    }
    ru->score = (float)(sc ? json_number_value(sc) : ru->ctx.n ? 0.3 : 1.0);
    ru->threshold = (float)(th ? json_number_value(th) : 0.5);
    best = ru->score + (ru->ctx.n ? ru->ctx.boost : 0);
    if ((float)(best > 1 ? 1 : best) < ru->threshold) {
        sl_err_set(err, "%s: the score (with a context word's boost) never "
                   "reaches the threshold", who);
        return SL_EINVAL;
    }
    return SL_OK;
}

static int parse_rule(sl_rules *R, uint32_t ri, json_t *o, sl_err *err)
{
    static const char *const keys[] = {
        "id", "entity", "kind", "description", "pattern", "validator",
        "min_entropy", "context", "exclude_context", "action", "severity",
        "prefilter", "score", "threshold", NULL
    };
    rule *ru = &R->r[ri];
    char who[128];
    const char *id, *s;
    json_t *v;
    int k, rc;

    if (!json_is_object(o)) {
        sl_err_set(err, "rule #%u: must be an object", ri + 1);
        return SL_EINVAL;
    }
    id = json_string_value(json_object_get(o, "id"));
    if (!id || !is_ident(id)) {
        sl_err_set(err, "rule #%u: \"id\" must be 1 to 64 of [a-z0-9_]",
                   ri + 1);
        return SL_EINVAL;
    }
    snprintf(who, sizeof(who), "rule '%s'", id);
    if (only_keys(o, keys, who, err))
        return SL_EINVAL;
    for (uint32_t j = 0; j < ri; j++) {
        if (strcmp(R->r[j].id, id) == 0) {
            sl_err_set(err, "%s: duplicate id", who);
            return SL_EINVAL;
        }
    }
    if (!(ru->id = xstrdup(id)))
        return SL_ENOMEM;

    s = json_string_value(json_object_get(o, "entity"));
    if (!s || !is_ident(s)) {
        sl_err_set(err, "%s: \"entity\" must be 1 to 64 of [a-z0-9_]", who);
        return SL_EINVAL;
    }
    if (!(ru->entity = xstrdup(s)))
        return SL_ENOMEM;
    ru->label_len = strlen("[REDACTED:]") + strlen(s);
    if (!(ru->label = malloc(ru->label_len + 1)))
        return SL_ENOMEM;
    snprintf(ru->label, ru->label_len + 1, "[REDACTED:%s]", s);
    for (char *c = ru->label; *c; c++)
        *c = (char)upper((uint8_t)*c);

    s = json_string_value(json_object_get(o, "kind"));
    if (!s || (k = parse_name(s, kind_names, 2)) < 0) {
        sl_err_set(err, "%s: \"kind\" must be \"pii\" or \"secret\"", who);
        return SL_EINVAL;
    }
    ru->kind = (sl_rule_kind)k;
    s = json_string_value(json_object_get(o, "action"));
    if (!s || (k = parse_name(s, action_names, 4)) < 0) {
        sl_err_set(err, "%s: \"action\" must be block, flag, redact or "
                   "allow", who);
        return SL_EINVAL;
    }
    ru->action = (sl_action)k;
    s = json_string_value(json_object_get(o, "severity"));
    if (!s || (k = parse_name(s, severity_names, 3)) < 0) {
        sl_err_set(err, "%s: \"severity\" must be low, medium or high", who);
        return SL_EINVAL;
    }
    ru->severity = (sl_severity)k;
    v = json_object_get(o, "description");
    if (v && !json_is_string(v)) {
        sl_err_set(err, "%s: \"description\" must be a string", who);
        return SL_EINVAL;
    }

    if ((v = json_object_get(o, "validator"))) {
        s = json_string_value(v);
        if (!s || !(ru->validator = sl_validator_find(s))) {
            char names[256] = "";
            size_t nv, used = 0;
            const sl_validator *all = sl_validator_all(&nv);

            for (size_t i = 0; i < nv && used < sizeof(names); i++)
                used += (size_t)snprintf(names + used, sizeof(names) - used,
                                         "%s%s", i ? ", " : "", all[i].name);
            sl_err_set(err, "%s: unknown validator '%s' (known: %s)", who,
                       s ? s : "?", names);
            return SL_EINVAL;
        }
    }
    v = json_object_get(o, "min_entropy");
    if (v && (!json_is_number(v) || json_number_value(v) <= 0 ||
              json_number_value(v) > 8)) {
        sl_err_set(err, "%s: \"min_entropy\" must be a number in (0, 8]", who);
        return SL_EINVAL;
    }
    if ((v != NULL) != (ru->validator && ru->validator->needs_param)) {
        sl_err_set(err, "%s: \"min_entropy\" goes with validator \"entropy\", "
                   "and only with it", who);
        return SL_EINVAL;
    }
    ru->min_entropy = v ? json_number_value(v) : 0;
    if ((v = json_object_get(o, "context")) &&
        (rc = parse_words(v, &ru->ctx, who, "context", err)))
        return rc;
    if ((v = json_object_get(o, "exclude_context")) &&
        (rc = parse_words(v, &ru->excl, who, "exclude_context", err)))
        return rc;
    if ((rc = parse_scores(ru, o, who, err)))
        return rc;

    v = json_object_get(o, "pattern");
    if (!json_is_string(v)) {
        sl_err_set(err, "%s: \"pattern\" must be a string", who);
        return SL_EINVAL;
    }
    rc = compile_pattern(ru, json_string_value(v), json_string_length(v),
                         ru->validator || ru->ctx.n || ru->excl.n, who, err);
    if (rc)
        return rc;
    {
        uint32_t cc = 0;

        pcre2_pattern_info(ru->code, PCRE2_INFO_CAPTURECOUNT, &cc);
        if (cc > R->max_capture)
            R->max_capture = cc;
    }
    if ((v = json_object_get(o, "prefilter"))) {
        if ((rc = parse_prefilter(R, ri, v, who, err)))
            return rc;
        /* the context anchor claims every finding follows a word */
        if (ru->ctx_prefilter && ru->score >= ru->threshold) {
            sl_err_set(err, "%s: a {\"context\": true} prefilter needs a "
                       "\"score\" under the \"threshold\" (a context word "
                       "required)", who);
            return SL_EINVAL;
        }
        return SL_OK;
    }
    ru->always = 1;
    return SL_OK;
}

/* The bit of bytes (a, b, c, d) in next_tri / prev_tri (d = 0) or
 * mid_quad. */
static unsigned quad_hash(unsigned a, unsigned b, unsigned c, unsigned d)
{
    uint64_t x = a | b << 8 | c << 16 | (uint64_t)d << 24;

    return (unsigned)((x * 0x9e3779b97f4a7c15ull) >> (64 - TRI_BITS));
}

static unsigned tri_hash(unsigned a, unsigned b, unsigned c)
{
    return quad_hash(a, b, c, 0);
}

static unsigned set_size(const uint8_t S[32])
{
    unsigned n = 0;

    for (int c = 0; c < 256; c++)
        n += (unsigned)in_set(S, (uint8_t)c);
    return n;
}

/* Sets bm's bit of every byte tuple of sets S[0..n) (n = 3 or 4). */
static void mark_tuples(uint8_t *bm, const uint8_t *const *S, size_t n)
{
    for (unsigned a = 0; a < 256; a++) {
        if (!in_set(S[0], (uint8_t)a))
            continue;
        for (unsigned b = 0; b < 256; b++) {
            if (!in_set(S[1], (uint8_t)b))
                continue;
            for (unsigned c = 0; c < 256; c++) {
                if (!in_set(S[2], (uint8_t)c))
                    continue;
                for (unsigned d = 0; d < (n == 4 ? 256u : 1u); d++) {
                    unsigned h = quad_hash(a, b, c, d);

                    if (n == 4 && !in_set(S[3], (uint8_t)d))
                        continue;
                    bm[h >> 3] |= (uint8_t)(1u << (h & 7));
                }
            }
        }
    }
}

/* A byte for the second look: letters in lower case, every non-word
 * byte as 0, the rest as themselves. */
static uint8_t fold_byte(uint8_t c)
{
    return !is_word(c) ? 0 : lower(c);
}

/* The set of the folded bytes of S. */
static void fold_set(const uint8_t S[32], uint8_t out[32])
{
    memset(out, 0, 32);
    for (int c = 0; c < 256; c++) {
        uint8_t f = fold_byte((uint8_t)c);

        if (in_set(S, (uint8_t)c))
            out[f >> 3] |= (uint8_t)(1u << (f & 7));
    }
}

static int all_word(const uint8_t S[32])
{
    for (int c = 0; c < 256; c++)
        if (in_set(S, (uint8_t)c) && !is_word((uint8_t)c))
            return 0;
    return 1;
}

/* Marks literal L's second look: the sets around its trigger pair --
 * one each side (mid_quad), else the one after (next_tri), else the one
 * before (prev_tri), whichever first has at most TRI_MAX byte tuples.
 * When every anchor of L is a context word, the non-word byte (set nw)
 * that must stand before a word starting with a word byte, or after one
 * ending with it, counts as a set of L (prefilter_at() checks the same).
 * 0, or 1 when none fits (the pair goes in `always` instead). */
static int second_look(sl_rules *R, const literal *L, const uint8_t nw[32])
{
    const uint8_t *E[MAX_LITERAL + 2];
    uint8_t F[4][32];
    const uint8_t *FP[4];
    size_t n = 0, t;
    int word = 1;

    for (uint32_t ai = L->anchor; ai != NO_ANCHOR; ai = R->a[ai].next)
        word &= R->a[ai].word;
    if (L->len < 2)
        return 1;
    if (word && all_word(R->sets[L->set[0]]))
        E[n++] = nw;
    t = n + L->off;
    for (size_t k = 0; k < L->len; k++)
        E[n++] = R->sets[L->set[k]];
    if (word && all_word(R->sets[L->set[L->len - 1]]))
        E[n++] = nw;
    for (int v = 0; v < 3; v++) {
        /* v 0: mid_quad, 1: next_tri, 2: prev_tri */
        size_t f = v == 1 ? t : t - 1, m = v == 0 ? 4 : 3;
        uint64_t tuples = 1;        /* up to 165^4: no overflow either way */

        if ((v != 1 && t < 1) || f + m > n)
            continue;
        for (size_t k = 0; k < m; k++) {
            fold_set(E[f + k], F[k]);
            FP[k] = F[k];
            tuples *= set_size(F[k]);
        }
        if (tuples > TRI_MAX)
            continue;
        mark_tuples(v == 0 ? R->mid_quad : v == 1 ? R->next_tri : R->prev_tri,
                    FP, m);
        return 0;
    }
    return 1;
}

/* Builds the byte table and the per-byte literal / per-class anchor lists. */
static int build_tables(sl_rules *R)
{
    uint32_t *fill;
    uint8_t nw[32] = {0};          /* the bytes that are no word byte */

    memset(R->tbl, 0, sizeof(R->tbl));
    memset(R->bigram, 0, sizeof(R->bigram));
    memset(R->always, 0, sizeof(R->always));
    memset(R->next_tri, 0, sizeof(R->next_tri));
    memset(R->prev_tri, 0, sizeof(R->prev_tri));
    memset(R->mid_quad, 0, sizeof(R->mid_quad));
    for (int c = 0; c < 256; c++) {
        if (!is_word((uint8_t)c))
            nw[c >> 3] |= (uint8_t)(1u << (c & 7));
        R->fold[c] = fold_byte((uint8_t)c);
    }
    R->lit_start = calloc(65536 + 1, sizeof(uint32_t));
    fill = malloc((65536 + 1) * sizeof(uint32_t));
    if (!R->lit_start || !fill) {
        free(fill);
        return SL_ENOMEM;
    }
    for (size_t k = 0; k < R->ncls; k++) {
        for (int c = 0; c < 256; c++) {
            if (!R->cls_set[k][c])
                continue;
            R->tbl[c] |= (uint16_t)(1u << (k + 1));
            for (int b = 0; b < 256; b++) {
                R->bigram[c + 256 * b] = 1;
                R->always[(c + 256 * b) >> 3] |= (uint8_t)(1u << (c & 7));
            }
        }
    }
    /* Literals, counted then placed under each byte pair their trigger
     * pair allows; one-set literals under every pair starting with their
     * byte. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < R->nlit; i++) {
            const literal *L = &R->lit[i];
            const uint8_t *next =
                L->len > 1 ? R->sets[L->set[L->off + 1]] : NULL;
            int always = pass == 1 && second_look(R, L, nw);

            for (int c = 0; c < 256; c++) {
                if (!in_set(R->sets[L->set[L->off]], (uint8_t)c))
                    continue;
                for (int b = 0; b < 256; b++) {
                    unsigned key = (unsigned)c + 256u * (unsigned)b;

                    if (next && !in_set(next, (uint8_t)b))
                        continue;
                    if (pass == 0) {
                        R->lit_start[key + 1]++;
                        continue;
                    }
                    R->lit_idx[fill[key]++] = (uint32_t)i;
                    R->bigram[key] = 1;
                    if (always)
                        R->always[key >> 3] |= (uint8_t)(1u << (c & 7));
                }
                if (pass == 1)
                    R->tbl[c] |= 1;
            }
        }
        if (pass == 0) {
            for (unsigned k = 0; k < 65536; k++)
                R->lit_start[k + 1] += R->lit_start[k];
            memcpy(fill, R->lit_start, (65536 + 1) * sizeof(uint32_t));
            R->lit_idx = malloc((R->lit_start[65536] + 1) * sizeof(uint32_t));
            if (!R->lit_idx) {
                free(fill);
                return SL_ENOMEM;
            }
        }
    }
    free(fill);
    /* The sets again, as byte-indexed tables for the scan loop. */
    R->member = malloc(R->nsets * 256 + 1);
    if (!R->member)
        return SL_ENOMEM;
    for (size_t k = 0; k < R->nsets; k++)
        for (int c = 0; c < 256; c++)
            R->member[k * 256 + (size_t)c] =
                (uint8_t)in_set(R->sets[k], (uint8_t)c);
    /* Class anchors grouped by class. */
    R->cls_anchor = malloc((R->na + 1) * sizeof(uint32_t));
    if (!R->cls_anchor)
        return SL_ENOMEM;
    {
        uint32_t pos = 0;

        for (size_t k = 0; k < R->ncls; k++) {
            R->cls_start[k] = pos;
            for (size_t i = 0; i < R->na; i++)
                if (R->a[i].cls == (int)k)
                    R->cls_anchor[pos++] = (uint32_t)i;
        }
        R->cls_start[R->ncls] = pos;
    }
    return SL_OK;
}

int sl_rules_load(sl_rules **out, const char *json, size_t len, sl_err *err)
{
    static const char *const top_keys[] = { "version", "description", "rules",
                                            NULL };
    json_error_t je;
    json_t *root = NULL, *rules, *it;
    sl_rules *R = NULL;
    const char *ver;
    size_t i;
    int rc = SL_EINVAL;

    *out = NULL;
    if (len > SL_RULES_MAX_FILE) {
        sl_err_set(err, "scan rules: file is %zu bytes, more than %u", len,
                   SL_RULES_MAX_FILE);
        return SL_EINVAL;
    }
    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        sl_err_set(err, "scan rules: invalid JSON at line %d, column %d: %s",
                   je.line, je.column, je.text);
        return SL_EINVAL;
    }
    if (!json_is_object(root)) {
        sl_err_set(err, "scan rules: the top level must be an object");
        goto done;
    }
    if (only_keys(root, top_keys, "scan rules", err))
        goto done;
    ver = json_string_value(json_object_get(root, "version"));
    rules = json_object_get(root, "rules");
    if (!ver || !*ver || strlen(ver) > 64) {
        sl_err_set(err, "scan rules: \"version\" must be a string of 1 to "
                   "64 bytes");
        goto done;
    }
    if (!json_is_array(rules) || json_array_size(rules) == 0 ||
        json_array_size(rules) > SL_RULES_MAX_RULES) {
        sl_err_set(err, "scan rules: \"rules\" must be an array of 1 to %d "
                   "rules", SL_RULES_MAX_RULES);
        goto done;
    }
    rc = SL_ENOMEM;
    if (!(R = calloc(1, sizeof(*R))) || !(R->version = xstrdup(ver)) ||
        !(R->r = calloc(json_array_size(rules), sizeof(rule))))
        goto nomem;
    json_array_foreach(rules, i, it) {
        R->n = i + 1;
        if ((rc = parse_rule(R, (uint32_t)i, it, err)) != SL_OK) {
            if (rc == SL_ENOMEM)
                goto nomem;
            goto done;
        }
    }
    if ((rc = build_tables(R)) != SL_OK)
        goto nomem;
    if (sl_sha256_hex(json, len, R->hash) != SL_OK) {
        rc = SL_ERR;
        sl_err_set(err, "scan rules: SHA-256 failed");
        goto done;
    }
    *out = R;
    R = NULL;
    rc = SL_OK;
    goto done;
nomem:
    rc = SL_ENOMEM;
    sl_err_set(err, "scan rules: out of memory");
done:
    sl_rules_destroy(R);
    json_decref(root);
    return rc;
}

int sl_rules_load_file(sl_rules **out, const char *path, sl_err *err)
{
    FILE *fp = fopen(path, "rb");
    char *buf;
    size_t n;
    int rc;

    *out = NULL;
    if (!fp) {
        sl_err_set(err, "scan rules: cannot open %s: %s", path,
                   strerror(errno));
        return SL_EIO;
    }
    buf = malloc(SL_RULES_MAX_FILE + 1);
    if (!buf) {
        fclose(fp);
        sl_err_set(err, "scan rules: out of memory");
        return SL_ENOMEM;
    }
    n = fread(buf, 1, SL_RULES_MAX_FILE + 1, fp);
    if (ferror(fp)) {
        sl_err_set(err, "scan rules: cannot read %s", path);
        rc = SL_EIO;
    } else if (n > SL_RULES_MAX_FILE) {
        sl_err_set(err, "scan rules: %s is larger than %u bytes", path,
                   SL_RULES_MAX_FILE);
        rc = SL_EINVAL;
    } else {
        rc = sl_rules_load(out, buf, n, err);
    }
    fclose(fp);
    free(buf);
    return rc;
}

int sl_rules_load_builtin(sl_rules **out, sl_err *err)
{
    const sl_embedded *e = sl_embed_get(SL_RULES_BUILTIN);

    *out = NULL;
    if (!e) {
        sl_err_set(err, "scan rules: %s is not embedded in this binary",
                   SL_RULES_BUILTIN);
        return SL_ENOTFOUND;
    }
    return sl_rules_load(out, e->data, e->len, err);
}

/* ---- findings --------------------------------------------------------- */

void sl_findings_init(sl_findings *f, size_t max)
{
    memset(f, 0, sizeof(*f));
    f->max = max;
}

void sl_findings_reset(sl_findings *f)
{
    f->count = 0;
    f->incomplete = 0;
}

void sl_findings_free(sl_findings *f)
{
    free(f->items);
    f->items = NULL;
    f->count = f->cap = 0;
}

/* ---- scanner ---------------------------------------------------------- */

typedef struct ivl { size_t lo, hi; } ivl;   /* candidate start offsets */

typedef struct rstate {
    ivl *v;
    size_t n, cap;
    int sorted;
    size_t resume;          /* no match of this rule may start before it */
    uint64_t calls, positions;
} rstate;

typedef struct cand {
    uint32_t rule;
    uint32_t validated;
    size_t off, len;
    float score;
    int32_t ctx;            /* context word index, or -1 */
    uint32_t gap;           /* bytes from the context word's end, or
                               UINT32_MAX */
} cand;

struct sl_scanner {
    const sl_rules *R;
    unsigned flags;
    pcre2_match_data *md;
    pcre2_match_context *mc;
    pcre2_jit_stack *js;
    rstate *rs;
    size_t ring[MAX_CLASSES][RING];
    size_t ring_n[MAX_CLASSES];
    cand *c, *tmp;
    size_t nc, cap_c, cap_tmp, max_c;
    int oom, too_many;
    sl_budget *b;               /* this scan's budget, or NULL */
    int out_of_budget;          /* it ran out: the scan stops */
    /* the current match, for the callout */
    const uint8_t *text;
    size_t len;
    const rule *cur;
    size_t ctx_at;
    const rule *ctx_rule;
    int ctx_ok;
    int ctx_word;               /* for ctx_at: the word found, or -1 */
    uint32_t ctx_gap;           /* and the bytes from its end to ctx_at */
    float m_score;              /* the accepted candidate's score */
    int32_t m_ctx;              /* and its context word, or -1 */
    uint32_t m_gap;             /* and the bytes between them */
    sl_scan_stats st;
};

/* The index of the word of w that ends nearest before `at`, within its
 * window (the first listed on a tie), or -1, and in *end where it ends;
 * *tried grows by the start offsets it tried (the work, for the budget). */
static int words_near(const words *w, const uint8_t *t, size_t at,
                      size_t *end, uint64_t *tried)
{
    size_t from = at > w->window ? at - w->window : 0, best_end = 0;
    int best = -1;

    *tried += (at - from) * w->n;
    for (size_t p = from; p < at; p++) {
        if (!w->first[t[p]])
            continue;
        for (size_t i = 0; i < w->n; i++) {
            size_t L = w->len[i], k = 0;

            if (p + L > at || lower(t[p]) != (uint8_t)w->w[i][0])
                continue;
            if (p > 0 && is_word(t[p - 1]) && is_word((uint8_t)w->w[i][0]))
                continue;
            while (k < L && lower(t[p + k]) == (uint8_t)w->w[i][k])
                k++;
            if (k < L)
                continue;
            if (is_word((uint8_t)w->w[i][L - 1]) && is_word(t[p + L]))
                continue;
            if (best < 0 || p + L > best_end) {
                best = (int)i;
                best_end = p + L;
            }
        }
    }
    *end = best_end;
    return best;
}

/* Whether [from, to) holds the end of a sentence or clause: an excluding
 * word before it belongs to another statement than the value after it. */
static int clause_break(const uint8_t *t, size_t from, size_t to)
{
    for (size_t p = from; p < to; p++)
        switch (t[p]) {
        case '.': case ';': case '!': case '?': case ',': case '\n':
            return 1;
        default:
            break;
        }
    return 0;
}

/* Runs at the end of every candidate match: 0 accepts it, 1 makes PCRE2
 * backtrack.  Never copies the candidate. */
static int on_callout(pcre2_callout_block *cb, void *data)
{
    sl_scanner *s = data;
    const rule *ru = s->cur;
    size_t vs = cb->start_match, ve = cb->current_position;
    int g = ru->value_group;

    if (g) {
        if ((uint32_t)g >= cb->capture_top ||
            cb->offset_vector[2 * g] == PCRE2_UNSET)
            return 1;
        vs = cb->offset_vector[2 * g];
        ve = cb->offset_vector[2 * g + 1];
    }
    if (ve <= vs)
        return 1;
    /* the candidate, and the bytes its validator reads */
    if (!sl_budget_regex(s->b, 1 + (ve - vs)))
        return PCRE2_ERROR_CALLOUT;     /* abandons the match: see run_window */
    s->st.candidates++;
    s->m_score = ru->score;
    s->m_ctx = -1;
    s->m_gap = UINT32_MAX;
    /* the validator first when a candidate may pass without context (it
     * rejects most, and costs less than the look for context words) */
    if (ru->validator && ru->score >= ru->threshold &&
        !ru->validator->fn(s->text + vs, ve - vs, ru->min_entropy))
        return 1;
    if (ru->ctx.n || ru->excl.n) {
        if (s->ctx_rule != ru || s->ctx_at != vs) {
            uint64_t tried = 0;
            size_t ce = 0, xe = 0;

            s->ctx_rule = ru;
            s->ctx_at = vs;
            s->ctx_word = ru->ctx.n ? words_near(&ru->ctx, s->text, vs, &ce,
                                                 &tried)
                                    : -1;
            s->ctx_gap = s->ctx_word >= 0 ? (uint32_t)(vs - ce) : UINT32_MAX;
            /* an excluding word forbids the finding, unless a context
             * word comes after it, in a new sentence or clause ("model.
             * SSN 385 59 7514"; but "test badge C11111" stays excluded) */
            s->ctx_ok = !ru->excl.n ||
                        words_near(&ru->excl, s->text, vs, &xe, &tried) < 0 ||
                        (s->ctx_word >= 0 &&
                         ce - ru->ctx.len[s->ctx_word] >= xe &&
                         clause_break(s->text, xe,
                                      ce - ru->ctx.len[s->ctx_word]));
            if (!sl_budget_regex(s->b, tried))
                return PCRE2_ERROR_CALLOUT;
        }
        if (!s->ctx_ok)
            return 1;
        if (s->ctx_word >= 0) {
            double sc = ru->score + ru->ctx.boost;

            s->m_score = (float)(sc > 1 ? 1 : sc);
            s->m_ctx = s->ctx_word;
            s->m_gap = s->ctx_gap;
        }
        if (s->m_score < ru->threshold)
            return 1;
    }
    if (ru->validator && ru->score < ru->threshold &&
        !ru->validator->fn(s->text + vs, ve - vs, ru->min_entropy))
        return 1;
    return 0;
}

sl_scanner *sl_scanner_new(const sl_rules *R)
{
    sl_scanner *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    s->R = R;
    s->md = pcre2_match_data_create(R->max_capture + 1, NULL);
    s->mc = pcre2_match_context_create(NULL);
    s->js = pcre2_jit_stack_create(32 * 1024, JIT_STACK_MAX, NULL);
    s->rs = calloc(R->n, sizeof(rstate));
    if (!s->md || !s->mc || !s->js || !s->rs) {
        sl_scanner_destroy(s);
        return NULL;
    }
    pcre2_jit_stack_assign(s->mc, NULL, s->js);
    pcre2_set_callout(s->mc, on_callout, s);
    pcre2_set_match_limit(s->mc, MATCH_LIMIT);
    pcre2_set_depth_limit(s->mc, MATCH_LIMIT);
    pcre2_set_heap_limit(s->mc, HEAP_LIMIT_KIB);
    return s;
}

void sl_scanner_destroy(sl_scanner *s)
{
    if (!s)
        return;
    if (s->rs)
        for (size_t i = 0; i < s->R->n; i++)
            free(s->rs[i].v);
    free(s->rs);
    free(s->c);
    free(s->tmp);
    pcre2_match_data_free(s->md);
    pcre2_match_context_free(s->mc);
    pcre2_jit_stack_free(s->js);
    free(s);
}

void sl_scanner_set_flags(sl_scanner *s, unsigned flags)
{
    s->flags = flags;
}

void sl_scanner_stats(const sl_scanner *s, sl_scan_stats *out)
{
    *out = s->st;
}

void sl_scanner_rule_stats(const sl_scanner *s, size_t ri,
                           uint64_t *matcher_calls, uint64_t *start_positions)
{
    *matcher_calls = s->rs[ri].calls;
    *start_positions = s->rs[ri].positions;
}

/* Adds start offsets [lo, hi] to rule r's pending windows. */
static void push_window(sl_scanner *s, uint32_t r, size_t lo, size_t hi)
{
    rstate *st = &s->rs[r];

    if (hi >= s->len)
        hi = s->len - 1;
    if (st->n) {
        ivl *last = &st->v[st->n - 1];

        if (lo >= last->lo && lo <= last->hi + 1) {
            if (hi > last->hi)
                last->hi = hi;
            return;
        }
        if (lo < last->lo)
            st->sorted = 0;
    }
    if (grow((void **)&st->v, &st->cap, st->n + 1, sizeof(ivl))) {
        s->oom = 1;
        return;
    }
    st->v[st->n++] = (ivl){ lo, hi };
}

/* Handles a byte whose pair with the next one is in the bigram table. */
static void prefilter_at(sl_scanner *s, size_t i)
{
    const sl_rules *R = s->R;
    const uint8_t *t = s->text;
    const size_t n = s->len;

    {
        unsigned m = R->tbl[t[i]];

        if (m & 1) {
            unsigned key = t[i] + 256u * (i + 1 < n ? t[i + 1] : 0u);

            for (uint32_t j = R->lit_start[key]; j < R->lit_start[key + 1];
                 j++) {
                const literal *L = &R->lit[R->lit_idx[j]];
                size_t p, k;

                if (i < L->off || i - L->off + L->len > n)
                    continue;
                p = i - L->off;
                /* the byte after the trigger first: it is what the pair
                 * was chosen for */
                if (L->len > 1 &&
                    !R->member[256u * L->set[L->off + 1] + t[i + 1]])
                    continue;
                for (k = 0; k < L->len &&
                            R->member[256u * L->set[k] + t[p + k]]; k++)
                    ;
                if (k < L->len)
                    continue;
                for (uint32_t ai = L->anchor; ai != NO_ANCHOR;
                     ai = R->a[ai].next) {
                    const anchor *a = &R->a[ai];

                    /* a context word inside a longer word ("tin" in
                     * "getting") is no context: words_near() agrees */
                    if (a->word &&
                        ((p > 0 && is_word(t[p - 1]) && is_word(t[p])) ||
                         (p + L->len < n && is_word(t[p + L->len - 1]) &&
                          is_word(t[p + L->len]))))
                        continue;
                    push_window(s, a->rule, p > a->before ? p - a->before : 0,
                                p + a->after);
                }
            }
        }
        m >>= 1;
        for (unsigned k = 0; m; k++, m >>= 1) {
            size_t cnt;

            if (!(m & 1))
                continue;
            cnt = ++s->ring_n[k];
            s->ring[k][(cnt - 1) % RING] = i;
            for (uint32_t j = R->cls_start[k]; j < R->cls_start[k + 1]; j++) {
                const anchor *a = &R->a[R->cls_anchor[j]];
                size_t first;

                if (cnt < a->count)
                    continue;
                first = s->ring[k][(cnt - a->count) % RING];
                if (i - first < a->span)
                    push_window(s, a->rule,
                                first > a->before ? first - a->before : 0,
                                first);
            }
        }
    }
}

/* The scan loop: one lookup of each byte pair in a 64 KiB byte table. */
static int bit(const uint8_t *bm, unsigned x)
{
    return (bm[x >> 3] >> (x & 7)) & 1;
}

static void prefilter(sl_scanner *s, size_t c0, size_t c1)
{
    const sl_rules *R = s->R;
    const uint8_t *bm = R->bigram;
    const uint8_t *t = s->text;
    size_t i = c0, end = c1 < s->len ? c1 : s->len - 1;
    uint16_t hit[HIT_BLOCK];

    while (i < end) {
        size_t b0 = i, b1 = end - i > HIT_BLOCK ? i + HIT_BLOCK : end, nh = 0;

        /* the pairs first, without a branch: a hit on some 8% of bytes
         * of prose would be a mispredicted jump each */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        /* eight pairs from one load (t[i + 8] is in the text: b1 < len) */
        for (; i + 8 <= b1; i += 8) {
            uint64_t w;

            memcpy(&w, t + i, 8);
            for (unsigned j = 0; j < 8; j++) {
                unsigned x = j < 7 ? (unsigned)(w >> 8 * j) & 0xffff
                                   : (unsigned)(w >> 56) | (unsigned)t[i + 8] << 8;

                hit[nh] = (uint16_t)(i + j - b0);
                nh += bm[x];
            }
        }
#endif
        for (; i < b1; i++) {
            unsigned x = t[i] | (unsigned)t[i + 1] << 8;

            hit[nh] = (uint16_t)(i - b0);
            nh += bm[x];
        }
        for (size_t h = 0; h < nh; h++) {
            size_t k = b0 + hit[h];
            unsigned x = t[k] | (unsigned)t[k + 1] << 8;

            /* the second look: most hits of a word's common pair end here */
            unsigned f0, f1, f2, f3;

            if (bit(R->always, x) || k + 2 >= s->len || k == 0) {
                prefilter_at(s, k);
                continue;
            }
            f0 = R->fold[t[k - 1]];
            f1 = R->fold[t[k]];
            f2 = R->fold[t[k + 1]];
            f3 = R->fold[t[k + 2]];
            if (bit(R->next_tri, tri_hash(f1, f2, f3)) ||
                bit(R->prev_tri, tri_hash(f0, f1, f2)) ||
                bit(R->mid_quad, quad_hash(f0, f1, f2, f3)))
                prefilter_at(s, k);
        }
    }
    if (i < c1 && bm[t[i]])
        prefilter_at(s, i);              /* the last byte, paired with 0 */
}

static int ivl_cmp(const void *a, const void *b)
{
    const ivl *x = a, *y = b;

    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static void add_cand(sl_scanner *s, uint32_t r, size_t off, size_t len)
{
    if (s->nc == s->max_c) {
        s->too_many = 1;
        return;
    }
    if (grow((void **)&s->c, &s->cap_c, s->nc + 1, sizeof(cand))) {
        s->oom = 1;
        return;
    }
    s->c[s->nc++] = (cand){ r, s->R->r[r].validator != NULL, off, len,
                            s->m_score, s->m_ctx, s->m_gap };
    s->st.findings++;
}

/* Runs rule r over start offsets [lo, hi]: 0, 1 when a PCRE2 limit cut
 * it short (no budget: the scan is incomplete), -1 on a PCRE2 failure, -2
 * when the budget ran out (the scan stops). */
static int run_window(sl_scanner *s, uint32_t r, size_t lo, size_t hi)
{
    const rule *ru = &s->R->r[r];
    rstate *st = &s->rs[r];
    size_t start = lo > st->resume ? lo : st->resume;

    s->cur = ru;
    s->m_score = ru->score;         /* rules without a callout */
    s->m_ctx = -1;
    s->m_gap = UINT32_MAX;
    while (start <= hi && start < s->len && !s->too_many) {
        PCRE2_SIZE *ov;
        int rc;

        /* the call now; the start positions it tried and the bytes it
         * matched once it returns (a window's range is tried again after
         * each match, from the match's end on: charging the range up
         * front would count it again for every match) */
        if (!sl_budget_regex(s->b, 1))
            return -2;
        pcre2_set_offset_limit(s->mc, hi);
        st->calls++;
        st->positions += hi - start + 1;
        s->st.matcher_calls++;
        s->st.start_positions += hi - start + 1;
        if (ru->jit)
            rc = pcre2_jit_match(ru->code, s->text, s->len, start, 0, s->md,
                                 s->mc);
        else
            rc = pcre2_match(ru->code, s->text, s->len, start, 0, s->md, s->mc);
        if (rc == PCRE2_ERROR_NOMATCH) {
            if (hi + 1 > st->resume)
                st->resume = hi + 1;
            return sl_budget_regex(s->b, hi - start + 1) ? 0 : -2;
        }
        if (rc < 0) {
            if (rc == PCRE2_ERROR_CALLOUT && sl_budget_out(s->b))
                return -2;
            if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
                rc == PCRE2_ERROR_HEAPLIMIT ||
                rc == PCRE2_ERROR_JIT_STACKLIMIT) {
                s->st.limit_hits++;
                if (s->b) {         /* a run's limit is part of the budget */
                    sl_budget_exhaust(s->b, "regex",
                        rc == PCRE2_ERROR_MATCHLIMIT ? "match limit" :
                        rc == PCRE2_ERROR_DEPTHLIMIT ? "depth limit" :
                        rc == PCRE2_ERROR_HEAPLIMIT ? "heap limit" : "JIT stack");
                    if (strcmp(s->b->part, "regex") == 0)
                        snprintf(s->b->rule, sizeof(s->b->rule), "%s", ru->id);
                    return -2;
                }
                if (hi + 1 > st->resume)
                    st->resume = hi + 1;
                return 1;       /* incomplete */
            }
            return -1;
        }
        ov = pcre2_get_ovector_pointer(s->md);
        if (ov[1] <= ov[0]) {               /* empty: move on one byte */
            st->resume = ov[0] + 1;
        } else {
            size_t vs = ov[0], ve = ov[1];

            if (ru->value_group && ov[2 * ru->value_group] != PCRE2_UNSET) {
                vs = ov[2 * ru->value_group];
                ve = ov[2 * ru->value_group + 1];
            }
            if (ve > vs)
                add_cand(s, r, vs, ve - vs);
            st->resume = ov[1];
        }
        if (!sl_budget_regex(s->b, (ov[0] - start + 1) + (ov[1] - ov[0])))
            return -2;
        start = st->resume;
    }
    return 0;
}

/* Runs every window of every rule that no later anchor can precede: those
 * starting below pos - margin (all of them when final). */
static int run_ready(sl_scanner *s, size_t pos, int final, int *incomplete)
{
    for (uint32_t r = 0; r < s->R->n; r++) {
        rstate *st = &s->rs[r];
        size_t horizon, margin, k, w;

        if (!st->n)
            continue;
        if (!st->sorted) {
            qsort(st->v, st->n, sizeof(ivl), ivl_cmp);
            for (k = 1, w = 0; k < st->n; k++) {
                if (st->v[k].lo <= st->v[w].hi + 1) {
                    if (st->v[k].hi > st->v[w].hi)
                        st->v[w].hi = st->v[k].hi;
                } else {
                    st->v[++w] = st->v[k];
                }
            }
            st->n = w + 1;
            st->sorted = 1;
        }
        margin = s->R->r[r].margin;
        horizon = final ? SIZE_MAX : (pos > margin ? pos - margin : 0);
        for (k = 0; k < st->n && st->v[k].lo < horizon; k++) {
            int rc = run_window(s, r, st->v[k].lo, st->v[k].hi);

            if (rc == -2) {
                s->out_of_budget = 1;
                return SL_OK;
            }
            if (rc < 0)
                return SL_ERR;
            if (rc > 0)
                *incomplete = 1;
        }
        if (k) {
            memmove(st->v, st->v + k, (st->n - k) * sizeof(ivl));
            st->n -= k;
        }
    }
    return SL_OK;
}

/* Priority among overlapping candidates: severity, score, validated,
 * length, offset, rule index.  Severity first, so a specific secret rule (an AWS key
 * id, high) beats the generic entropy rule (medium) on the same bytes. */
static int prio_cmp(const cand *x, const cand *y, const sl_rules *R)
{
    sl_severity sx = R->r[x->rule].severity, sy = R->r[y->rule].severity;

    if (sx != sy)
        return sx > sy ? -1 : 1;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    if (x->validated != y->validated)
        return x->validated ? -1 : 1;
    if (x->len != y->len)
        return x->len > y->len ? -1 : 1;
    if (x->off != y->off)
        return x->off < y->off ? -1 : 1;
    return x->rule < y->rule ? -1 : x->rule > y->rule;
}

static int off_cmp(const void *a, const void *b)
{
    const cand *x = a, *y = b;

    if (x->off != y->off)
        return x->off < y->off ? -1 : 1;
    if (x->len != y->len)
        return x->len > y->len ? -1 : 1;
    return x->rule < y->rule ? -1 : x->rule > y->rule;
}

static int emit(sl_findings *out, const cand *c)
{
    if (grow((void **)&out->items, &out->cap, out->count + 1,
             sizeof(sl_finding)))
        return SL_ENOMEM;
    out->items[out->count++] = (sl_finding){
        c->rule, c->validated ? SL_VALIDATION_PASSED : SL_VALIDATION_NA,
        c->off, c->len, c->score, c->ctx
    };
    return SL_OK;
}

/* Among candidates of rules that read the same bytes as different things
 * because of a context word ("SSN: 364775495 Acct. no. 796284572": an SSN
 * for its context rule, a bank account for another), the nearest word
 * says what the value is: the others are dropped.  Candidates found
 * without a context word stay.  s->c is sorted by off_cmp, so equal spans
 * are neighbours. */
static void nearest_context(sl_scanner *s)
{
    size_t i = 0, n = 0;

    while (i < s->nc) {
        size_t j = i + 1;
        uint32_t best = UINT32_MAX;

        while (j < s->nc && s->c[j].off == s->c[i].off &&
               s->c[j].len == s->c[i].len)
            j++;
        for (size_t k = i; k < j; k++)
            if (s->c[k].gap < best)
                best = s->c[k].gap;
        for (size_t k = i; k < j; k++)
            if (s->c[k].gap == UINT32_MAX || s->c[k].gap == best)
                s->c[n++] = s->c[k];
        i = j;
    }
    s->nc = n;
}

/* Keeps, within each cluster of overlapping candidates, the best by
 * prio_cmp, then the best of those not overlapping it, and so on. */
static int resolve(sl_scanner *s, sl_findings *out)
{
    size_t i = 0;

    if (s->nc > 1) {
        qsort(s->c, s->nc, sizeof(cand), off_cmp);
        nearest_context(s);
    }
    while (i < s->nc) {
        size_t j = i + 1, end = s->c[i].off + s->c[i].len;

        while (j < s->nc && s->c[j].off < end) {
            if (s->c[j].off + s->c[j].len > end)
                end = s->c[j].off + s->c[j].len;
            j++;
        }
        if (j == i + 1) {
            if (emit(out, &s->c[i]))
                return SL_ENOMEM;
        } else {
            size_t k = j - i, nacc = 0;

            if (grow((void **)&s->tmp, &s->cap_tmp, k, sizeof(cand)))
                return SL_ENOMEM;
            memcpy(s->tmp, s->c + i, k * sizeof(cand));
            /* insertion sort by priority: clusters are small */
            for (size_t a = 1; a < k; a++) {
                cand x = s->tmp[a];
                size_t b = a;

                while (b > 0 && prio_cmp(&x, &s->tmp[b - 1], s->R) < 0) {
                    s->tmp[b] = s->tmp[b - 1];
                    b--;
                }
                s->tmp[b] = x;
            }
            for (size_t a = 0; a < k; a++) {
                const cand *x = &s->tmp[a];
                int clash = 0;

                for (size_t b = 0; b < nacc && !clash; b++)
                    clash = x->off < s->tmp[b].off + s->tmp[b].len &&
                            s->tmp[b].off < x->off + x->len;
                if (!clash)
                    s->tmp[nacc++] = *x;
            }
            qsort(s->tmp, nacc, sizeof(cand), off_cmp);
            for (size_t a = 0; a < nacc; a++)
                if (emit(out, &s->tmp[a]))
                    return SL_ENOMEM;
        }
        i = j;
    }
    return SL_OK;
}

int sl_scan_text(sl_scanner *s, const uint8_t *text, size_t len,
                 sl_findings *out)
{
    return sl_scan_text_budget(s, text, len, out, NULL);
}

int sl_scan_text_budget(sl_scanner *s, const uint8_t *text, size_t len,
                        sl_findings *out, sl_budget *b)
{
    const sl_rules *R = s->R;
    int incomplete = 0, rc = SL_OK;

    sl_findings_reset(out);
    s->st.scans++;
    s->st.bytes += len;
    if (len == 0)
        return SL_OK;
    if (!sl_budget_bytes(b, "rules", len))      /* the prefilter's pass */
        return SL_OK;
    s->b = b;
    s->out_of_budget = 0;
    pcre2_set_match_limit(s->mc, b ? b->match_limit : MATCH_LIMIT);
    pcre2_set_depth_limit(s->mc, b ? b->depth_limit : MATCH_LIMIT);
    pcre2_set_heap_limit(s->mc, b ? b->heap_limit_kib : HEAP_LIMIT_KIB);
    s->text = text;
    s->len = len;
    s->nc = 0;
    s->max_c = out->max;
    s->oom = s->too_many = 0;
    s->ctx_rule = NULL;
    memset(s->ring_n, 0, sizeof(s->ring_n));
    for (size_t r = 0; r < R->n; r++) {
        s->rs[r].n = 0;
        s->rs[r].sorted = 1;
        s->rs[r].resume = 0;
        if (R->r[r].always || (s->flags & SL_SCAN_EXHAUSTIVE))
            push_window(s, (uint32_t)r, 0, len - 1);
    }
    for (size_t c0 = 0; c0 < len && !s->oom && !s->too_many && !s->out_of_budget;
         c0 += CHUNK) {
        size_t c1 = len - c0 > CHUNK ? c0 + CHUNK : len;

        if (!(s->flags & SL_SCAN_EXHAUSTIVE))
            prefilter(s, c0, c1);
        if ((rc = run_ready(s, c1, c1 == len, &incomplete)) != SL_OK)
            break;
    }
    s->text = NULL;
    s->b = NULL;
    if (rc == SL_OK && s->oom)
        rc = SL_ENOMEM;
    if (rc == SL_OK && s->too_many)
        rc = SL_ETOOBIG;
    if (rc == SL_OK)
        rc = resolve(s, out);
    if (rc != SL_OK) {
        out->count = 0;
        return rc;
    }
    if (incomplete) {
        out->incomplete = 1;
    }
    return SL_OK;
}

/* ---- redaction -------------------------------------------------------- */

int sl_redact(const uint8_t *text, size_t len, const sl_findings *f,
              const sl_rules *R, sl_buf *out)
{
    size_t pos = 0;
    int rc;

    sl_buf_reset(out);
    for (size_t i = 0; i < f->count; i++) {
        const sl_finding *x = &f->items[i];

        if (x->rule >= R->n || x->offset < pos || x->length == 0 ||
            x->offset > len || x->length > len - x->offset)
            return SL_EINVAL;
        if ((rc = sl_buf_append(out, text + pos, x->offset - pos)) != SL_OK ||
            (rc = sl_buf_append(out, R->r[x->rule].label,
                                R->r[x->rule].label_len)) != SL_OK)
            return rc;
        pos = x->offset + x->length;
    }
    return sl_buf_append(out, text + pos, len - pos);
}
