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
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "sl/prov.h"

#define PROV_MAX_BYTES  (64 * 1024)
#define PROV_MAX_EVENTS 256
#define PROV_DUMP_FLAGS (JSON_COMPACT | JSON_SORT_KEYS)
/* 9999-12-31T23:59:59.999Z, the last instant RFC 3339 can write. */
#define PROV_MAX_TIME_MS INT64_C(253402300799999)

typedef struct prov_ev {
    const char *canonical;      /* borrowed from the chain's root */
    const char *hash;           /* borrowed from the chain's root */
    json_t *event;              /* the canonical text, parsed; owned */
    const char *stage, *outcome, *prev;   /* borrowed from event */
    int64_t seq;
} prov_ev;

struct sl_prov_chain {
    json_t *root;               /* the header's array */
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

/* True when s is exactly 64 lowercase hex digits. */
static bool is_hex64(const char *s)
{
    size_t i;

    if (!s)
        return false;
    for (i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return s[i] == '\0';
}

void sl_prov_chain_destroy(sl_prov_chain *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        json_decref(c->evs[i].event);
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
    if (!json_is_object(ev) || json_object_size(ev) != EV_NFIELDS)
        return "";
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

/* Parses a header into *out: size caps, the array of {event, hash} pairs,
 * and each event's fields.  Hashes and links are not checked here. */
static int chain_load(sl_slice chain, sl_prov_chain **out, sl_err *err)
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
        if (!is_hex64(json_string_value(hash))) {
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
        bool same;

        if ((rc = sl_sha256_hex(e->canonical, strlen(e->canonical), hex)) != SL_OK)
            return rc;
        if (strcmp(hex, e->hash) != 0) {
            sl_err_set(err, "sluice-prov: event %zu: hash does not match its "
                       "canonical bytes", i + 1);
            return SL_EINVAL;
        }
        again = canonical ? json_dumps(e->event, PROV_DUMP_FLAGS) : NULL;
        if (canonical && !again) {
            sl_err_set(err, "sluice-prov: out of memory");
            return SL_ENOMEM;
        }
        same = !canonical || strcmp(again, e->canonical) == 0;
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

    if (!is_hex64(content_sha256)) {
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
    if ((ev->input_sha256 && !is_hex64(ev->input_sha256)) ||
        (ev->output_sha256 && !is_hex64(ev->output_sha256))) {
        sl_err_set(err, "sluice-prov: input/output hash is not 64 lowercase "
                   "hex digits");
        return SL_EINVAL;
    }
    return SL_OK;
}

/* Builds the canonical text of event ev with the given seq and prev. */
static int build_event(const sl_prov_event *ev, int64_t seq, const char *prev,
                       char **canonical, sl_err *err)
{
    json_t *obj = json_object();
    char when[32];
    int rc = SL_EINVAL;

    *canonical = NULL;
    if (!obj) {
        rc = SL_ENOMEM;
        goto out;
    }
    if (format_time(ev->time_ms, when) != SL_OK) {
        sl_err_set(err, "sluice-prov: time %lld ms is out of range",
                   (long long)ev->time_ms);
        goto out;
    }
    if (json_object_set_new(obj, "seq", json_integer(seq)) != 0 ||
        set_str(obj, "stage", ev->stage) != SL_OK ||
        set_str(obj, "version", ev->version) != SL_OK ||
        set_str(obj, "time", when) != SL_OK ||
        set_str(obj, "outcome", ev->outcome) != SL_OK ||
        set_str(obj, "reason", ev->reason) != SL_OK ||
        set_str(obj, "upload_id", ev->upload_id) != SL_OK ||
        set_str(obj, "input_sha256", ev->input_sha256) != SL_OK ||
        set_str(obj, "output_sha256", ev->output_sha256) != SL_OK ||
        set_str(obj, "prev", prev) != SL_OK) {
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
    json_t *root = NULL, *entry = NULL;
    char *canonical = NULL, *header = NULL;
    char hash[SL_SHA256_HEX];
    const char *prev;
    int64_t seq;
    size_t hlen;
    int rc;

    if (!out) {
        sl_err_set(err, "sluice-prov: no output buffer");
        return SL_EINVAL;
    }
    if ((rc = check_input(ev, err)) != SL_OK)
        return rc;
    if (content_sha256 && !is_hex64(content_sha256)) {
        sl_err_set(err, "sluice-prov: content SHA-256 is not 64 lowercase "
                   "hex digits");
        return SL_EINVAL;
    }
    if (chain.len == 0) {
        if (!content_sha256) {
            sl_err_set(err, "sluice-prov: a new chain needs the content SHA-256");
            return SL_EINVAL;
        }
        root = json_array();
        if (!root) {
            rc = SL_ENOMEM;
            goto out;
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
        root = json_incref(c->root);
        prev = c->evs[c->n - 1].hash;
        seq = c->evs[c->n - 1].seq + 1;
    }
    if ((rc = build_event(ev, seq, prev, &canonical, err)) != SL_OK ||
        (rc = sl_sha256_hex(canonical, strlen(canonical), hash)) != SL_OK)
        goto out;
    entry = json_pack("{s:s, s:s}", "event", canonical, "hash", hash);
    if (!entry) {
        rc = SL_ENOMEM;
        goto out;
    }
    if (chain.len == 0) {
        if (json_array_append(root, entry) != 0 ||
            !(header = json_dumps(root, PROV_DUMP_FLAGS))) {
            rc = SL_ENOMEM;
            goto out;
        }
    } else {
        /* The incoming header (a checked array) up to its closing bracket,
         * then the new entry: the earlier entries are not re-serialised. */
        char *one = json_dumps(entry, PROV_DUMP_FLAGS);
        size_t keep = chain.len, olen;
        while (keep && (chain.ptr[keep - 1] == ' ' || chain.ptr[keep - 1] == '\n' ||
                        chain.ptr[keep - 1] == '\r' || chain.ptr[keep - 1] == '\t'))
            keep--;
        if (!one || !keep || chain.ptr[keep - 1] != ']' ||
            !(header = malloc(keep + strlen(one) + 2))) {
            free(one);
            rc = one ? SL_EINVAL : SL_ENOMEM;
            if (rc == SL_EINVAL)
                sl_err_set(err, "sluice-prov: header does not end with ']'");
            goto out;
        }
        olen = strlen(one);
        memcpy(header, chain.ptr, keep - 1);
        header[keep - 1] = ',';
        memcpy(header + keep, one, olen);
        header[keep + olen] = ']';
        header[keep + olen + 1] = '\0';
        free(one);
    }
    hlen = strlen(header);
    if (hlen > PROV_MAX_BYTES) {
        sl_err_set(err, "sluice-prov: chain would be %zu bytes, over %d",
                   hlen, PROV_MAX_BYTES);
        rc = SL_ETOOBIG;
        goto out;
    }
    sl_buf_reset(out);
    if ((rc = sl_buf_append(out, header, hlen)) != SL_OK) {
        sl_err_set(err, "sluice-prov: output buffer: %s", sl_strerror(rc));
        goto out;
    }
    if (hash_out)
        memcpy(hash_out, hash, SL_SHA256_HEX);
    rc = SL_OK;
out:
    if (rc == SL_ENOMEM)
        sl_err_set(err, "sluice-prov: out of memory");
    free(header);
    free(canonical);
    json_decref(entry);
    json_decref(root);
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

    if (!is_hex64(content_sha256)) {
        sl_err_set(err, "sluice-prov: content SHA-256 is not 64 lowercase "
                   "hex digits");
        return NULL;
    }
    if (!(c = calloc(1, sizeof(*c))) || !(c->root = json_array())) {
        free(c);
        sl_err_set(err, "sluice-prov: out of memory");
        return NULL;
    }
    memcpy(c->first_prev, content_sha256, SL_SHA256_HEX);
    return c;
}

int sl_prov_chain_verify(const sl_prov_chain *c, const char *content_sha256,
                         sl_err *err)
{
    if (!is_hex64(content_sha256)) {
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
    json_t *entry = NULL;
    json_error_t jerr;
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
    rc = SL_ENOMEM;
    entry = json_pack("{s:s, s:s}", "event", canonical, "hash", hash);
    if (!entry || json_array_append(c->root, entry) != 0)
        goto out;
    e = &c->evs[c->n];
    memset(e, 0, sizeof(*e));
    e->canonical = json_string_value(json_object_get(entry, "event"));
    e->hash = json_string_value(json_object_get(entry, "hash"));
    if (!(e->event = json_loads(e->canonical, 0, &jerr)))
        goto out;
    e->seq = seq;
    e->stage = json_string_value(json_object_get(e->event, "stage"));
    e->outcome = json_string_value(json_object_get(e->event, "outcome"));
    e->prev = json_string_value(json_object_get(e->event, "prev"));
    c->n++;
    rc = SL_OK;
out:
    if (rc == SL_ENOMEM)
        sl_err_set(err, "sluice-prov: out of memory");
    json_decref(entry);
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
