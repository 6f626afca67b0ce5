/*
 * prov.c -- provenance events and the hash chain carried in sluice-prov.
 *
 * Each stage appends one event; the event's canonical text (jansson compact,
 * sorted keys) is hashed with SHA-256 and the next event names that hash as
 * its prev, the first one naming the content's SHA-256.  The header is a
 * JSON array of {"event": "<canonical text>", "hash": "<hex>"} and is
 * capped (64 KiB, 256 events) because it arrives from the network.
 * Parsing is strict: an event must carry exactly the documented fields with
 * the documented types, so two readers can never disagree on its meaning.
 *
 * Every stage reads and extends the chain of every message, so the common
 * case has a fast path: a header and events written in canonical form with
 * printable ASCII only are read and written by hand (text in that grammar
 * is canonical by construction); anything else goes through jansson, which
 * defines the form and names what is wrong.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "sl/json.h"
#include "sl/prov.h"

#define PROV_MAX_BYTES  (64 * 1024)
#define PROV_MAX_EVENTS 256
#define PROV_DUMP_FLAGS (JSON_COMPACT | JSON_SORT_KEYS)
/* 9999-12-31T23:59:59.999Z, the last instant RFC 3339 can write. */
#define PROV_MAX_TIME_MS INT64_C(253402300799999)

typedef struct prov_ev {
    const char *canonical;      /* borrowed from the chain's root, or mem */
    const char *hash;           /* borrowed from the chain's root, or mem */
    json_t *event;              /* jansson path: the text, parsed; owned */
    char *mem;                  /* fast path: the strings above; owned */
    const char *stage, *outcome, *prev;   /* borrowed from event or mem */
    const char *input, *output;           /* the same; NULL when null */
    int64_t seq;
    bool canonical_known;       /* the text is known to be canonical */
} prov_ev;

struct sl_prov_chain {
    json_t *root;               /* jansson path: the header's array */
    prov_ev *evs;
    size_t n, cap;
    char first_prev[SL_SHA256_HEX];   /* for a chain built here: content hash */
};

/* The event fields and whether each may be null. */
static const struct {
    const char *name;
    bool nullable;
} ev_fields[] = {
    { "input_sha256", true }, { "outcome", false }, { "output_sha256", true },
    { "prev", false }, { "reason", true }, { "seq", false }, { "stage", false },
    { "time", false }, { "upload_id", true }, { "version", false },
};
#define EV_NFIELDS (sizeof(ev_fields) / sizeof(ev_fields[0]))

void sl_prov_chain_destroy(sl_prov_chain *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        json_decref(c->evs[i].event);
        free(c->evs[i].mem);
    }
    free(c->evs);
    json_decref(c->root);
    free(c);
}

/* Which part of a parsed event breaks the documented shape: NULL when
 * none, "" when it is not an object with exactly the event fields, else
 * the name of the first field missing or of the wrong type (seq an
 * integer, nullable fields string or null, the rest strings). */
static const char *event_shape_problem(const json_t *ev)
{
    const json_t *actor = json_object_get(ev, "actor");

    if (!json_is_object(ev) ||
        json_object_size(ev) != EV_NFIELDS + (actor ? 1 : 0))
        return "";
    /* The optional actor (who decided: review events only) is a non-empty
     * string when present. */
    if (actor && (!json_is_string(actor) || !*json_string_value(actor) ||
                  !json_is_string(json_object_get(ev, "stage")) ||
                  strcmp(json_string_value(json_object_get(ev, "stage")), "review") != 0))
        return "actor";
    for (size_t f = 0; f < EV_NFIELDS; f++) {
        const json_t *v = json_object_get(ev, ev_fields[f].name);
        bool ok;

        if (strcmp(ev_fields[f].name, "seq") == 0)
            ok = json_is_integer(v);
        else
            ok = json_is_string(v) || (ev_fields[f].nullable && json_is_null(v));
        if (!ok)
            return ev_fields[f].name;
    }
    return NULL;
}

/* Checks one parsed event has exactly the documented fields. */
static int check_event_fields(const json_t *ev, size_t pos, sl_err *err)
{
    const char *bad = event_shape_problem(ev);

    if (!bad)
        return SL_OK;
    if (!*bad)
        sl_err_set(err, "sluice-prov: event %zu: not an object with the %zu "
                   "event fields", pos, EV_NFIELDS);
    else
        sl_err_set(err, "sluice-prov: event %zu: field \"%s\" missing or "
                   "of the wrong type", pos, bad);
    return SL_EINVAL;
}

/* ---- the fast path: canonical text in printable ASCII ------------------ */

/* A run of bytes inside the text being read. */
typedef struct span {
    const char *p;
    size_t n;
} span;

/* Fills e->mem with canonical, hash, stage, outcome and prev, each
 * NUL-terminated, and points e's fields at them. */
static int ev_store(prov_ev *e, span canonical, span hash, span stage,
                    span outcome, span prev, span input, span output)
{
    const span parts[] = { canonical, hash, stage, outcome, prev, input, output };
    const char **dst[] = { &e->canonical, &e->hash, &e->stage, &e->outcome,
                           &e->prev, &e->input, &e->output };
    size_t total = 0;
    char *w;

    for (size_t i = 0; i < 7; i++)
        total += parts[i].n + 1;
    if (!(e->mem = malloc(total)))
        return SL_ENOMEM;
    w = e->mem;
    for (size_t i = 0; i < 7; i++) {
        if (!parts[i].p) {   /* input / output null */
            *dst[i] = NULL;
            continue;
        }
        memcpy(w, parts[i].p, parts[i].n);
        w[parts[i].n] = '\0';
        *dst[i] = w;
        w += parts[i].n + 1;
    }
    e->canonical_known = true;
    return SL_OK;
}

/* Reader over [p, end): each step consumes what it expects or fails. */
typedef struct rd {
    const char *p, *end;
} rd;

static bool rd_lit(rd *r, const char *lit)
{
    size_t n = strlen(lit);

    if ((size_t)(r->end - r->p) < n || memcmp(r->p, lit, n) != 0)
        return false;
    r->p += n;
    return true;
}

/* "..." holding printable ASCII without quote or backslash (what jansson
 * writes unescaped); the span excludes the quotes. */
static bool rd_str(rd *r, span *out)
{
    const char *q;

    if (r->p >= r->end || *r->p != '"')
        return false;
    for (q = r->p + 1; q < r->end && *q != '"'; q++)
        if ((unsigned char)*q < 0x20 || (unsigned char)*q > 0x7e || *q == '\\')
            return false;
    if (q >= r->end)
        return false;
    out->p = r->p + 1;
    out->n = (size_t)(q - out->p);
    r->p = q + 1;
    return true;
}

static bool rd_str_or_null(rd *r)
{
    span ignored;

    return rd_lit(r, "null") || rd_str(r, &ignored);
}

/* The same, keeping the string (p NULL for null). */
static bool rd_str_or_null_span(rd *r, span *out)
{
    out->p = NULL;
    out->n = 0;
    return rd_lit(r, "null") || rd_str(r, out);
}

/* A positive integer as jansson writes it: no sign, no leading zero. */
static bool rd_seq(rd *r, int64_t *out)
{
    int64_t v = 0;
    size_t n = 0;

    if (r->p >= r->end || *r->p < '1' || *r->p > '9')
        return false;
    while (r->p < r->end && *r->p >= '0' && *r->p <= '9' && n < 18) {
        v = v * 10 + (*r->p - '0');
        r->p++;
        n++;
    }
    *out = v;
    return true;
}

/* Reads one event's text in exactly the canonical grammar (the fields in
 * sorted order, compact, strings without escapes) into e.  False when the
 * text is anything else; the jansson path then decides. */
static bool event_fast(span text, span hash, prov_ev *e, int *rc)
{
    rd r = { text.p, text.p + text.n };
    span stage, outcome, prev, ignored, input, output;

    *rc = SL_OK;
    /* An actor (review events) sorts first; the shape check of the jansson
     * path then decides whether it may be there. */
    if (rd_lit(&r, "{\"actor\":"))
        return false;
    if (!(rd_lit(&r, "{\"input_sha256\":") && rd_str_or_null_span(&r, &input) &&
          rd_lit(&r, ",\"outcome\":") && rd_str(&r, &outcome) &&
          rd_lit(&r, ",\"output_sha256\":") && rd_str_or_null_span(&r, &output) &&
          rd_lit(&r, ",\"prev\":") && rd_str(&r, &prev) &&
          rd_lit(&r, ",\"reason\":") && rd_str_or_null(&r) &&
          rd_lit(&r, ",\"seq\":") && rd_seq(&r, &e->seq) &&
          rd_lit(&r, ",\"stage\":") && rd_str(&r, &stage) &&
          rd_lit(&r, ",\"time\":") && rd_str(&r, &ignored) &&
          rd_lit(&r, ",\"upload_id\":") && rd_str_or_null(&r) &&
          rd_lit(&r, ",\"version\":") && rd_str(&r, &ignored) &&
          rd_lit(&r, "}") && r.p == r.end))
        return false;
    *rc = ev_store(e, text, hash, stage, outcome, prev, input, output);
    return true;
}

/* Reads a whole header in the canonical grammar:
 *   [{"event":"<text>","hash":"<64 hex>"},...]
 * where <text> escapes only its quotes.  SL_OK with *out set, SL_ENOMEM,
 * or SL_EINVAL meaning "not in this grammar" (no message: the jansson path
 * reads it again and names the problem, if any). */
static int chain_load_fast(sl_slice chain, sl_prov_chain **out)
{
    rd r = { (const char *)chain.ptr, (const char *)chain.ptr + chain.len };
    sl_prov_chain *c;
    char *text = NULL;
    int rc = SL_EINVAL;

    *out = NULL;
    if (!(c = calloc(1, sizeof(*c))))
        return SL_ENOMEM;
    /* Unescaped event texts are never longer than the header. */
    if (!(text = malloc(chain.len + 1))) {
        rc = SL_ENOMEM;
        goto out;
    }
    if (!rd_lit(&r, "["))
        goto out;
    do {
        span t, h;
        char *w = text;
        prov_ev *e;

        if (!rd_lit(&r, "{\"event\":\""))
            goto out;
        while (r.p < r.end && *r.p != '"') {
            unsigned char ch = (unsigned char)*r.p;

            if (ch < 0x20 || ch > 0x7e)
                goto out;
            if (ch == '\\') {
                /* Only \" (a quote of the event's own JSON). */
                if (r.end - r.p < 2 || r.p[1] != '"')
                    goto out;
                r.p++;
            }
            *w++ = *r.p++;
        }
        t = (span){ text, (size_t)(w - text) };
        if (!rd_lit(&r, "\",\"hash\":\"") || r.end - r.p < 64)
            goto out;
        h = (span){ r.p, 64 };
        r.p += 64;
        if (!rd_lit(&r, "\"}"))
            goto out;
        {
            char hex[SL_SHA256_HEX];
            memcpy(hex, h.p, 64);
            hex[64] = '\0';
            if (!sl_hex64_ok(hex))
                goto out;
        }
        if (c->n == PROV_MAX_EVENTS)
            goto out;
        if (c->n == c->cap) {
            size_t ncap = c->cap ? 2 * c->cap : 8;
            prov_ev *nv = realloc(c->evs, ncap * sizeof(*nv));

            if (!nv) {
                rc = SL_ENOMEM;
                goto out;
            }
            c->evs = nv;
            c->cap = ncap;
        }
        e = &c->evs[c->n];
        memset(e, 0, sizeof(*e));
        if (!event_fast(t, h, e, &rc)) {
            rc = SL_EINVAL;
            goto out;
        }
        if (rc != SL_OK)
            goto out;
        rc = SL_EINVAL;   /* what follows must still be in the grammar */
        c->n++;
    } while (rd_lit(&r, ","));
    if (!rd_lit(&r, "]") || r.p != r.end)
        goto out;
    *out = c;
    c = NULL;
    rc = SL_OK;
out:
    free(text);
    sl_prov_chain_destroy(c);
    return rc;
}

/* Appends s to w as the body of a JSON string the way jansson writes it,
 * for printable ASCII (the caller checked): only quote and backslash are
 * escaped.  Returns the new end. */
static char *put_escaped(char *w, const char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            *w++ = '\\';
        *w++ = *s;
    }
    return w;
}

/* Appends "s" (escaped) or null. */
static char *put_str_or_null(char *w, const char *s)
{
    if (!s) {
        memcpy(w, "null", 4);
        return w + 4;
    }
    *w++ = '"';
    w = put_escaped(w, s);
    *w++ = '"';
    return w;
}

static char *put_lit(char *w, const char *lit)
{
    size_t n = strlen(lit);

    memcpy(w, lit, n);
    return w + n;
}

/* The canonical text of an event whose strings are all printable ASCII,
 * written directly; NULL with *rc SL_OK when some string is not (the
 * caller then uses jansson), or with *rc SL_ENOMEM. */
static char *event_text_fast(const sl_prov_event *ev, int64_t seq,
                             const char *prev, const char *when, int *rc)
{
    /* The fields in sorted order; seq (index SEQ_AT) is the one number. */
    enum { NFIELDS = 10, SEQ_AT = 5 };
    static const char *const names[NFIELDS] = {
        "input_sha256", "outcome", "output_sha256", "prev", "reason", "seq",
        "stage", "time", "upload_id", "version",
    };
    const char *vals[NFIELDS] = {
        ev->input_sha256, ev->outcome, ev->output_sha256, prev, ev->reason,
        NULL, ev->stage, when, ev->upload_id, ev->version,
    };
    size_t need = 256;
    char *text, *w;

    *rc = SL_OK;
    if (ev->actor)                /* rare (review events): jansson writes it */
        return NULL;
    for (size_t i = 0; i < NFIELDS; i++) {
        if (vals[i] && !sl_json_plain(vals[i]))
            return NULL;
        need += vals[i] ? 2 * strlen(vals[i]) : 0;
    }
    if (!(text = malloc(need))) {
        *rc = SL_ENOMEM;
        return NULL;
    }
    w = text;
    for (size_t i = 0; i < NFIELDS; i++) {
        *w++ = i ? ',' : '{';
        *w++ = '"';
        w = put_lit(w, names[i]);
        w = put_lit(w, "\":");
        if (i == SEQ_AT)
            w += sprintf(w, "%lld", (long long)seq);
        else
            w = put_str_or_null(w, vals[i]);
    }
    *w++ = '}';
    *w = '\0';
    return text;
}

/* One header entry, {"event":"<canonical escaped>","hash":"<hash>"}, as
 * jansson's compact sorted dump writes it; malloc'd, NULL when out of
 * memory. */
static char *entry_text(const char *canonical, const char *hash)
{
    json_t *entry;
    char *one, *w;

    if (sl_json_plain(canonical)) {
        if (!(one = malloc(2 * strlen(canonical) + SL_SHA256_HEX + 32)))
            return NULL;
        w = put_lit(one, "{\"event\":\"");
        w = put_escaped(w, canonical);
        w = put_lit(w, "\",\"hash\":\"");
        w = put_lit(w, hash);
        w = put_lit(w, "\"}");
        *w = '\0';
        return one;
    }
    if (!(entry = json_pack("{s:s, s:s}", "event", canonical, "hash", hash)))
        return NULL;
    one = json_dumps(entry, PROV_DUMP_FLAGS);
    json_decref(entry);
    return one;
}

/* Parses a header into *out: size caps, the array of {event, hash} pairs,
 * and each event's fields.  Hashes and links are not checked here. */
static int chain_load_json(sl_slice chain, sl_prov_chain **out, sl_err *err)
{
    sl_prov_chain *c = NULL;
    json_error_t jerr;
    size_t i;
    json_t *item;
    int rc = SL_EINVAL;

    *out = NULL;
    if (!chain.ptr || chain.len == 0) {
        sl_err_set(err, "sluice-prov: empty chain");
        return SL_EINVAL;
    }
    if (chain.len > PROV_MAX_BYTES) {
        sl_err_set(err, "sluice-prov: chain of %zu bytes exceeds %d",
                   chain.len, PROV_MAX_BYTES);
        return SL_ETOOBIG;
    }
    c = calloc(1, sizeof(*c));
    if (!c) {
        rc = SL_ENOMEM;
        goto out;
    }
    c->root = json_loadb((const char *)chain.ptr, chain.len,
                         JSON_REJECT_DUPLICATES, &jerr);
    if (!c->root || !json_is_array(c->root)) {
        sl_err_set(err, "sluice-prov: not a JSON array: %s",
                   c->root ? "other JSON value" : jerr.text);
        goto out;
    }
    if (json_array_size(c->root) == 0) {
        sl_err_set(err, "sluice-prov: chain has no events");
        goto out;
    }
    if (json_array_size(c->root) > PROV_MAX_EVENTS) {
        sl_err_set(err, "sluice-prov: more than %d events", PROV_MAX_EVENTS);
        rc = SL_ETOOBIG;
        goto out;
    }
    c->cap = json_array_size(c->root);
    c->evs = calloc(c->cap, sizeof(*c->evs));
    if (!c->evs) {
        rc = SL_ENOMEM;
        goto out;
    }
    json_array_foreach(c->root, i, item) {
        prov_ev *e = &c->evs[i];
        const json_t *text = json_object_get(item, "event");
        const json_t *hash = json_object_get(item, "hash");

        if (!json_is_object(item) || json_object_size(item) != 2 ||
            !json_is_string(text) || !json_is_string(hash) ||
            strlen(json_string_value(text)) != json_string_length(text)) {
            sl_err_set(err, "sluice-prov: entry %zu is not "
                       "{\"event\": string, \"hash\": string}", i + 1);
            goto out;
        }
        if (!sl_hex64_ok(json_string_value(hash))) {
            sl_err_set(err, "sluice-prov: event %zu: hash is not 64 lowercase "
                       "hex digits", i + 1);
            goto out;
        }
        e->canonical = json_string_value(text);
        e->hash = json_string_value(hash);
        e->event = json_loadb(e->canonical, json_string_length(text),
                              JSON_REJECT_DUPLICATES, &jerr);
        c->n = i + 1;   /* from here the slot is owned by c */
        if (!e->event) {
            sl_err_set(err, "sluice-prov: event %zu: not valid JSON: %s",
                       i + 1, jerr.text);
            goto out;
        }
        if ((rc = check_event_fields(e->event, i + 1, err)) != SL_OK)
            goto out;
        rc = SL_EINVAL;
        e->seq = json_integer_value(json_object_get(e->event, "seq"));
        e->stage = json_string_value(json_object_get(e->event, "stage"));
        e->outcome = json_string_value(json_object_get(e->event, "outcome"));
        e->prev = json_string_value(json_object_get(e->event, "prev"));
        e->input = json_string_value(json_object_get(e->event, "input_sha256"));
        e->output = json_string_value(json_object_get(e->event, "output_sha256"));
    }
    *out = c;
    c = NULL;
    rc = SL_OK;
out:
    if (rc == SL_ENOMEM)
        sl_err_set(err, "sluice-prov: out of memory");
    sl_prov_chain_destroy(c);
    return rc;
}

/* Parses a header: the fast path when it is in canonical printable-ASCII
 * form, otherwise jansson, which also reports what is wrong. */
static int chain_load(sl_slice chain, sl_prov_chain **out, sl_err *err)
{
    int rc;

    if (chain.ptr && chain.len && chain.len <= PROV_MAX_BYTES) {
        rc = chain_load_fast(chain, out);
        if (rc != SL_EINVAL) {
            if (rc == SL_ENOMEM)
                sl_err_set(err, "sluice-prov: out of memory");
            return rc;
        }
    }
    return chain_load_json(chain, out, err);
}

/* Checks every event of a parsed chain: hash of the canonical bytes, the
 * text really canonical, seq 1, 2, 3..., and prev linking to the previous
 * hash; the first prev must equal first_prev unless that is NULL. */
static int chain_check_mode(const sl_prov_chain *c, const char *first_prev,
                            int canonical, sl_err *err);

static int chain_check(const sl_prov_chain *c, const char *first_prev,
                       sl_err *err)
{
    return chain_check_mode(c, first_prev, 1, err);
}

/* canonical = 0 leaves out re-serialising each event to compare it with its
 * text (the costly part); hashes, seq and links are still checked. */
static int chain_check_mode(const sl_prov_chain *c, const char *first_prev,
                            int canonical, sl_err *err)
{
    char hex[SL_SHA256_HEX];
    int rc = SL_EINVAL;

    for (size_t i = 0; i < c->n; i++) {
        const prov_ev *e = &c->evs[i];
        char *again;
        bool same, canonical_check;

        if ((rc = sl_sha256_hex(e->canonical, strlen(e->canonical), hex)) != SL_OK)
            return rc;
        if (strcmp(hex, e->hash) != 0) {
            sl_err_set(err, "sluice-prov: event %zu: hash does not match its "
                       "canonical bytes", i + 1);
            return SL_EINVAL;
        }
        canonical_check = canonical && !e->canonical_known;
        again = canonical_check ? json_dumps(e->event, PROV_DUMP_FLAGS) : NULL;
        if (canonical_check && !again) {
            sl_err_set(err, "sluice-prov: out of memory");
            return SL_ENOMEM;
        }
        same = !canonical_check || strcmp(again, e->canonical) == 0;
        free(again);
        if (!same) {
            sl_err_set(err, "sluice-prov: event %zu: text is not in canonical "
                       "form", i + 1);
            return SL_EINVAL;
        }
        if (e->seq < 0 || (uint64_t)e->seq != (uint64_t)i + 1) {
            sl_err_set(err, "sluice-prov: event %zu: seq %lld, expected %zu",
                       i + 1, (long long)e->seq, i + 1);
            return SL_EINVAL;
        }
        if (i == 0 && first_prev && strcmp(e->prev, first_prev) != 0) {
            sl_err_set(err, "sluice-prov: event 1: prev does not match the "
                       "content SHA-256");
            return SL_EINVAL;
        }
        if (i > 0 && strcmp(e->prev, c->evs[i - 1].hash) != 0) {
            sl_err_set(err, "sluice-prov: event %zu: prev does not link to "
                       "event %zu", i + 1, i);
            return SL_EINVAL;
        }
    }
    return SL_OK;
}

/* Verifies a header: parses it, then checks every hash and link, the first
 * prev against content_sha256. */
int sl_prov_verify(sl_slice chain, const char *content_sha256, sl_err *err)
{
    sl_prov_chain *c = NULL;
    int rc;

    if (!sl_hex64_ok(content_sha256)) {
        sl_err_set(err, "sluice-prov: content SHA-256 is not 64 lowercase hex "
                   "digits");
        return SL_EINVAL;
    }
    rc = chain_load(chain, &c, err);
    if (rc == SL_OK)
        rc = chain_check(c, content_sha256, err);
    sl_prov_chain_destroy(c);
    return rc;
}

/* Formats ms since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ". */
static int format_time(int64_t ms, char out[32])
{
    time_t secs;
    struct tm tm;

    if (ms < 0 || ms > PROV_MAX_TIME_MS)
        return SL_EINVAL;
    secs = (time_t)(ms / 1000);
    if (!gmtime_r(&secs, &tm))
        return SL_EINVAL;
    /* ms >= 0 keeps the year in 1970..9999, so the date is 19 chars. */
    if (strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm) != 19)
        return SL_EINVAL;
    snprintf(out + 19, 32 - 19, ".%03dZ", (int)(ms % 1000));
    return SL_OK;
}

/* Sets a string member, or null when s is NULL; SL_EINVAL when s is not
 * valid UTF-8. */
static int set_str(json_t *obj, const char *key, const char *s)
{
    json_t *v = s ? json_string(s) : json_null();

    if (!v || json_object_set_new(obj, key, v) != 0)
        return SL_EINVAL;
    return SL_OK;
}

/* Checks the caller's event before anything is built. */
static int check_input(const sl_prov_event *ev, sl_err *err)
{
    if (!ev || !ev->stage || !*ev->stage || !ev->outcome || !*ev->outcome ||
        !ev->version) {
        sl_err_set(err, "sluice-prov: event needs stage, version and outcome");
        return SL_EINVAL;
    }
    if ((ev->input_sha256 && !sl_hex64_ok(ev->input_sha256)) ||
        (ev->output_sha256 && !sl_hex64_ok(ev->output_sha256))) {
        sl_err_set(err, "sluice-prov: input/output hash is not 64 lowercase "
                   "hex digits");
        return SL_EINVAL;
    }
    if (ev->actor && (!*ev->actor || strcmp(ev->stage, "review") != 0)) {
        sl_err_set(err, "sluice-prov: an actor is a non-empty name, on review "
                   "events only");
        return SL_EINVAL;
    }
    return SL_OK;
}

/* Builds the canonical text of event ev with the given seq and prev:
 * directly when every string is printable ASCII, else through jansson. */
static int build_event(const sl_prov_event *ev, int64_t seq, const char *prev,
                       char **canonical, sl_err *err)
{
    json_t *obj = NULL;
    char when[32];
    int rc = SL_EINVAL;

    *canonical = NULL;
    if (format_time(ev->time_ms, when) != SL_OK) {
        sl_err_set(err, "sluice-prov: time %lld ms is out of range",
                   (long long)ev->time_ms);
        goto out;
    }
    if ((*canonical = event_text_fast(ev, seq, prev, when, &rc)) || rc != SL_OK)
        goto out;
    if (!(obj = json_object())) {
        rc = SL_ENOMEM;
        goto out;
    }
    rc = SL_EINVAL;
    if (json_object_set_new(obj, "seq", json_integer(seq)) != 0 ||
        set_str(obj, "stage", ev->stage) != SL_OK ||
        set_str(obj, "version", ev->version) != SL_OK ||
        set_str(obj, "time", when) != SL_OK ||
        set_str(obj, "outcome", ev->outcome) != SL_OK ||
        set_str(obj, "reason", ev->reason) != SL_OK ||
        set_str(obj, "upload_id", ev->upload_id) != SL_OK ||
        set_str(obj, "input_sha256", ev->input_sha256) != SL_OK ||
        set_str(obj, "output_sha256", ev->output_sha256) != SL_OK ||
        set_str(obj, "prev", prev) != SL_OK ||
        (ev->actor && set_str(obj, "actor", ev->actor) != SL_OK)) {
        sl_err_set(err, "sluice-prov: event field is not valid UTF-8");
        goto out;
    }
    *canonical = json_dumps(obj, PROV_DUMP_FLAGS);
    rc = *canonical ? SL_OK : SL_ENOMEM;
out:
    if (rc == SL_ENOMEM)
        sl_err_set(err, "sluice-prov: out of memory");
    json_decref(obj);
    return rc;
}

/* Appends ev after checking the existing chain (hashes and links; the first
 * prev against content_sha256 when that is given).  An empty slice starts a
 * chain and then content_sha256 is required.  SL_ETOOBIG when the result
 * would pass 256 events or 64 KiB. */
int sl_prov_append(sl_slice chain, const char *content_sha256,
                   const sl_prov_event *ev, sl_buf *out,
                   char hash_out[SL_SHA256_HEX], sl_err *err)
{
    sl_prov_chain *c = NULL;
    char *canonical = NULL, *one = NULL;
    char hash[SL_SHA256_HEX];
    const char *prev;
    int64_t seq;
    size_t keep = 0, olen, hlen;
    int rc;

    if (!out) {
        sl_err_set(err, "sluice-prov: no output buffer");
        return SL_EINVAL;
    }
    if ((rc = check_input(ev, err)) != SL_OK)
        return rc;
    if (content_sha256 && !sl_hex64_ok(content_sha256)) {
        sl_err_set(err, "sluice-prov: content SHA-256 is not 64 lowercase "
                   "hex digits");
        return SL_EINVAL;
    }
    if (chain.len == 0) {
        if (!content_sha256) {
            sl_err_set(err, "sluice-prov: a new chain needs the content SHA-256");
            return SL_EINVAL;
        }
        prev = content_sha256;
        seq = 1;
    } else {
        /* A stage continuing a chain checks hashes and links; the commit
         * stage and `sluicectl audit verify` also check canonical form. */
        if ((rc = chain_load(chain, &c, err)) != SL_OK ||
            (rc = chain_check_mode(c, content_sha256, 0, err)) != SL_OK)
            goto out;
        if (c->n >= PROV_MAX_EVENTS) {
            sl_err_set(err, "sluice-prov: chain already holds %d events",
                       PROV_MAX_EVENTS);
            rc = SL_ETOOBIG;
            goto out;
        }
        prev = c->evs[c->n - 1].hash;
        seq = c->evs[c->n - 1].seq + 1;
        /* The incoming header (a checked array) is kept up to its closing
         * bracket: the earlier entries are not re-serialised. */
        keep = chain.len;
        while (keep && (chain.ptr[keep - 1] == ' ' || chain.ptr[keep - 1] == '\n' ||
                        chain.ptr[keep - 1] == '\r' || chain.ptr[keep - 1] == '\t'))
            keep--;
        if (!keep || chain.ptr[keep - 1] != ']') {
            sl_err_set(err, "sluice-prov: header does not end with ']'");
            rc = SL_EINVAL;
            goto out;
        }
    }
    if ((rc = build_event(ev, seq, prev, &canonical, err)) != SL_OK ||
        (rc = sl_sha256_hex(canonical, strlen(canonical), hash)) != SL_OK)
        goto out;
    if (!(one = entry_text(canonical, hash))) {
        rc = SL_ENOMEM;
        goto out;
    }
    olen = strlen(one);
    /* [entry] for a new chain; <kept header minus ']'>,entry] otherwise. */
    hlen = (keep ? keep : 1) + olen + 1;
    if (hlen > PROV_MAX_BYTES) {
        sl_err_set(err, "sluice-prov: chain would be %zu bytes, over %d",
                   hlen, PROV_MAX_BYTES);
        rc = SL_ETOOBIG;
        goto out;
    }
    sl_buf_reset(out);
    if ((rc = keep ? sl_buf_append(out, chain.ptr, keep - 1) : SL_OK) != SL_OK ||
        (rc = sl_buf_putc(out, keep ? ',' : '[')) != SL_OK ||
        (rc = sl_buf_append(out, one, olen)) != SL_OK ||
        (rc = sl_buf_putc(out, ']')) != SL_OK) {
        sl_err_set(err, "sluice-prov: output buffer: %s", sl_strerror(rc));
        goto out;
    }
    if (hash_out)
        memcpy(hash_out, hash, SL_SHA256_HEX);
    rc = SL_OK;
out:
    if (rc == SL_ENOMEM)
        sl_err_set(err, "sluice-prov: out of memory");
    free(one);
    free(canonical);
    sl_prov_chain_destroy(c);
    return rc;
}

/* Parses a header for reading (structure and field types only; use
 * sl_prov_verify to check hashes and links).  NULL with err on failure. */
sl_prov_chain *sl_prov_parse(sl_slice chain, sl_err *err)
{
    sl_prov_chain *c = NULL;

    (void)chain_load(chain, &c, err);
    return c;
}

size_t sl_prov_count(const sl_prov_chain *c)
{
    return c ? c->n : 0;
}

/* Event i's canonical text, hash, stage, outcome and seq, borrowed from c;
 * any output pointer may be NULL.  SL_EINVAL when i is out of range. */
int sl_prov_get_hashes(const sl_prov_chain *c, size_t i, const char **input,
                       const char **output)
{
    if (!c || i >= c->n)
        return SL_EINVAL;
    *input = c->evs[i].input;
    *output = c->evs[i].output;
    return SL_OK;
}

int sl_prov_get(const sl_prov_chain *c, size_t i, const char **canonical,
                const char **hash, const char **stage, const char **outcome,
                int64_t *seq)
{
    const prov_ev *e;

    if (!c || i >= c->n)
        return SL_EINVAL;
    e = &c->evs[i];
    if (canonical)
        *canonical = e->canonical;
    if (hash)
        *hash = e->hash;
    if (stage)
        *stage = e->stage;
    if (outcome)
        *outcome = e->outcome;
    if (seq)
        *seq = e->seq;
    return SL_OK;
}

sl_prov_chain *sl_prov_chain_new(const char *content_sha256, sl_err *err)
{
    sl_prov_chain *c;

    if (!sl_hex64_ok(content_sha256)) {
        sl_err_set(err, "sluice-prov: content SHA-256 is not 64 lowercase "
                   "hex digits");
        return NULL;
    }
    if (!(c = calloc(1, sizeof(*c)))) {
        sl_err_set(err, "sluice-prov: out of memory");
        return NULL;
    }
    memcpy(c->first_prev, content_sha256, SL_SHA256_HEX);
    return c;
}

int sl_prov_chain_verify(const sl_prov_chain *c, const char *content_sha256,
                         sl_err *err)
{
    if (!sl_hex64_ok(content_sha256)) {
        sl_err_set(err, "sluice-prov: content SHA-256 is not 64 lowercase "
                   "hex digits");
        return SL_EINVAL;
    }
    return chain_check(c, content_sha256, err);
}

int sl_prov_chain_add(sl_prov_chain *c, const sl_prov_event *ev, sl_err *err)
{
    char *canonical = NULL;
    char hash[SL_SHA256_HEX];
    const char *prev;
    prov_ev *e;
    int64_t seq;
    int rc;

    if ((rc = check_input(ev, err)) != SL_OK)
        return rc;
    if (c->n >= PROV_MAX_EVENTS) {
        sl_err_set(err, "sluice-prov: chain already holds %d events",
                   PROV_MAX_EVENTS);
        return SL_ETOOBIG;
    }
    if (c->n == c->cap) {
        size_t ncap = c->cap ? 2 * c->cap : 4;
        prov_ev *nv = realloc(c->evs, ncap * sizeof(*nv));
        if (!nv) {
            sl_err_set(err, "sluice-prov: out of memory");
            return SL_ENOMEM;
        }
        c->evs = nv;
        c->cap = ncap;
    }
    prev = c->n ? c->evs[c->n - 1].hash : c->first_prev;
    seq = c->n ? c->evs[c->n - 1].seq + 1 : 1;
    if ((rc = build_event(ev, seq, prev, &canonical, err)) != SL_OK ||
        (rc = sl_sha256_hex(canonical, strlen(canonical), hash)) != SL_OK)
        goto out;
    e = &c->evs[c->n];
    memset(e, 0, sizeof(*e));
    rc = ev_store(e, (span){ canonical, strlen(canonical) },
                  (span){ hash, SL_SHA256_HEX - 1 },
                  (span){ ev->stage, strlen(ev->stage) },
                  (span){ ev->outcome, strlen(ev->outcome) },
                  (span){ prev, strlen(prev) },
                  (span){ ev->input_sha256, ev->input_sha256 ? strlen(ev->input_sha256) : 0 },
                  (span){ ev->output_sha256, ev->output_sha256 ? strlen(ev->output_sha256) : 0 });
    if (rc != SL_OK)
        goto out;
    e->seq = seq;
    c->n++;
out:
    if (rc == SL_ENOMEM)
        sl_err_set(err, "sluice-prov: out of memory");
    free(canonical);
    return rc;
}

/* ---- one event read back from its canonical text --------------------- */

void sl_prov_record_clear(sl_prov_record *rec)
{
    if (!rec)
        return;
    json_decref(rec->doc);
    memset(rec, 0, sizeof(*rec));
}

/* Parses text (len bytes) as one event, as strictly as a chain's events:
 * JSON without duplicate keys or NUL, exactly the documented fields and
 * types.  Whether the text is byte for byte its canonical form goes into
 * rec->canonical rather than failing, so a caller can still compare the
 * fields of a non-canonical event. */
int sl_prov_record_parse(const char *text, size_t len, sl_prov_record *rec,
                         sl_err *err)
{
    json_error_t jerr;
    json_t *doc;
    const char *bad;
    char *again;

    memset(rec, 0, sizeof(*rec));
    if (!text || memchr(text, '\0', len)) {
        sl_err_set(err, "sluice-prov: event text contains a NUL byte");
        return SL_EINVAL;
    }
    if (!(doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr))) {
        sl_err_set(err, "sluice-prov: event is not valid JSON: %s", jerr.text);
        return SL_EINVAL;
    }
    if ((bad = event_shape_problem(doc))) {
        if (!*bad)
            sl_err_set(err, "sluice-prov: event is not an object with the %zu "
                       "event fields", EV_NFIELDS);
        else
            sl_err_set(err, "sluice-prov: event field \"%s\" missing or of "
                       "the wrong type", bad);
        json_decref(doc);
        return SL_EINVAL;
    }
    if (!(again = json_dumps(doc, PROV_DUMP_FLAGS))) {
        sl_err_set(err, "sluice-prov: out of memory");
        json_decref(doc);
        return SL_ENOMEM;
    }
    rec->canonical = strlen(again) == len && memcmp(again, text, len) == 0;
    free(again);
    rec->doc = doc;
    rec->seq = json_integer_value(json_object_get(doc, "seq"));
    rec->stage = json_string_value(json_object_get(doc, "stage"));
    rec->version = json_string_value(json_object_get(doc, "version"));
    rec->time = json_string_value(json_object_get(doc, "time"));
    rec->outcome = json_string_value(json_object_get(doc, "outcome"));
    rec->reason = json_string_value(json_object_get(doc, "reason"));
    rec->upload_id = json_string_value(json_object_get(doc, "upload_id"));
    rec->input_sha256 = json_string_value(json_object_get(doc, "input_sha256"));
    rec->output_sha256 = json_string_value(json_object_get(doc, "output_sha256"));
    rec->prev = json_string_value(json_object_get(doc, "prev"));
    rec->actor = json_string_value(json_object_get(doc, "actor"));
    return SL_OK;
}

int sl_prov_extend(sl_slice chain, const char *content_sha256,
                   const sl_prov_event *ev, sl_buf *out, sl_err *err)
{
    static const sl_slice none = { NULL, 0 };

    if (chain.ptr && chain.len &&
        sl_prov_append(chain, content_sha256, ev, out, NULL, err) == SL_OK)
        return SL_OK;
    return sl_prov_append(none, content_sha256, ev, out, NULL, err);
}
