/*
 * audit.c -- re-verifying stored provenance chains (see audit.h).
 *
 * sl_prov_verify stops at the first break of a header in flight; an
 * auditor wants all of them, located, and has more to compare: the columns
 * copied out of each event, the owner's row and its content.  Each event
 * is checked on its own (hash, form, columns), then against its
 * neighbours (seq, prev), then the chain against the owner (origin,
 * output, commit event).  Links are checked against the previous event's
 * *stored* hash, so one edited byte is reported once, where it is, and an
 * edit that also rewrote the hash shows as the next event's broken link.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "sl/audit.h"
#include "sl/crypto.h"
#include "sl/prov.h"

#define AUDIT_DETAIL_MAX 1024

static const char *const problem_names[] = {
    [SL_AUDIT_HASH_MISMATCH] = "hash_mismatch",
    [SL_AUDIT_EVENT_MALFORMED] = "event_malformed",
    [SL_AUDIT_NOT_CANONICAL] = "not_canonical",
    [SL_AUDIT_SEQ_COLUMN] = "seq_column",
    [SL_AUDIT_STAGE_COLUMN] = "stage_column",
    [SL_AUDIT_OUTCOME_COLUMN] = "outcome_column",
    [SL_AUDIT_PREV_LINK] = "prev_link",
    [SL_AUDIT_FIRST_PREV] = "first_prev",
    [SL_AUDIT_SEQ_GAP] = "seq_gap",
    [SL_AUDIT_SEQ_DUPLICATE] = "seq_duplicate",
    [SL_AUDIT_UPLOAD_ID] = "upload_id",
    [SL_AUDIT_OUTPUT_MISMATCH] = "output_mismatch",
    [SL_AUDIT_NO_EVENTS] = "no_events",
    [SL_AUDIT_COMMIT_MISSING] = "commit_missing",
    [SL_AUDIT_ANCHOR_MISSING] = "anchor_missing",
    [SL_AUDIT_CHAIN_TOO_LARGE] = "chain_too_large",
    [SL_AUDIT_CONTENT_HASH] = "content_hash",
    [SL_AUDIT_CONTENT_MISSING] = "content_missing",
    [SL_AUDIT_ORPHAN_EVENTS] = "orphan_events",
    [SL_AUDIT_HEAD_MISSING] = "head_missing",
    [SL_AUDIT_HEAD_MISMATCH] = "head_mismatch",
    [SL_AUDIT_HEAD_SIGNATURE] = "head_signature",
    [SL_AUDIT_HEAD_KEY] = "head_key_untrusted",
};

const char *sl_audit_problem_name(sl_audit_problem p)
{
    if ((size_t)p < sizeof(problem_names) / sizeof(problem_names[0]) &&
        problem_names[p])
        return problem_names[p];
    return "unknown";
}

void sl_audit_report(sl_audit_sink *s, const char *owner_kind,
                     const char *owner_id, int64_t seq, sl_audit_problem p,
                     const char *fmt, ...)
{
    char detail[AUDIT_DETAIL_MAX];
    sl_audit_break b = {
        .owner_kind = owner_kind, .owner_id = owner_id ? owner_id : "",
        .seq = seq, .problem = p, .detail = detail,
    };
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    s->breaks++;
    if (s->report)
        s->report(s->u, &b);
}

/* A possibly NULL string for a detail. */
static const char *q(const char *s)
{
    return s ? s : "(null)";
}

static int str_eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* One event as checked: parsed (rec valid) or not. */
typedef struct checked {
    sl_prov_record rec;
    int parsed;
} checked;

/* The per-event checks that need no neighbour: hash, form, columns, upload
 * id.  Fills c; SL_ENOMEM only. */
static int check_event(sl_audit_sink *s, const sl_audit_owner *o,
                       const sl_audit_event *e, checked *c)
{
    char hex[SL_SHA256_HEX];
    size_t len = e->canonical ? strlen(e->canonical) : 0;
    sl_err err = { "" };
    int rc;

    if (sl_sha256_hex(e->canonical ? e->canonical : "", len, hex) != SL_OK)
        return SL_ENOMEM;
    if (!str_eq(hex, e->hash))
        sl_audit_report(s, o->kind, o->id, e->seq, SL_AUDIT_HASH_MISMATCH,
                        "stored hash %s is not the SHA-256 of the canonical "
                        "text (%s)", q(e->hash), hex);
    rc = sl_prov_record_parse(e->canonical, len, &c->rec, &err);
    if (rc == SL_ENOMEM)
        return rc;
    if (rc != SL_OK) {
        const char *msg = strncmp(err.msg, "sluice-prov: ", 13) == 0
                          ? err.msg + 13 : err.msg;
        sl_audit_report(s, o->kind, o->id, e->seq, SL_AUDIT_EVENT_MALFORMED,
                        "canonical text is not a provenance event: %s", msg);
        return SL_OK;
    }
    c->parsed = 1;
    if (!c->rec.canonical)
        sl_audit_report(s, o->kind, o->id, e->seq, SL_AUDIT_NOT_CANONICAL,
                        "canonical text is not in canonical form (sorted keys, "
                        "no whitespace, jansson escaping)");
    if (c->rec.seq != e->seq)
        sl_audit_report(s, o->kind, o->id, e->seq, SL_AUDIT_SEQ_COLUMN,
                        "stored seq %lld, the event says %lld",
                        (long long)e->seq, (long long)c->rec.seq);
    if (!str_eq(c->rec.stage, e->stage))
        sl_audit_report(s, o->kind, o->id, e->seq, SL_AUDIT_STAGE_COLUMN,
                        "stored stage \"%s\", the event says \"%s\"",
                        q(e->stage), q(c->rec.stage));
    if (!str_eq(c->rec.outcome, e->outcome))
        sl_audit_report(s, o->kind, o->id, e->seq, SL_AUDIT_OUTCOME_COLUMN,
                        "stored outcome \"%s\", the event says \"%s\"",
                        q(e->outcome), q(c->rec.outcome));
    if (o->upload_id && c->rec.upload_id &&
        strcmp(o->upload_id, c->rec.upload_id) != 0)
        sl_audit_report(s, o->kind, o->id, e->seq, SL_AUDIT_UPLOAD_ID,
                        "the event is about upload \"%s\", not \"%s\"",
                        c->rec.upload_id, o->upload_id);
    return SL_OK;
}

/* True when the chain records a stage turning the bytes hashed `from`
 * into other bytes (a redaction). */
static int records_change_from(const checked *cs, size_t n, const char *from)
{
    for (size_t i = 0; i < n; i++) {
        const sl_prov_record *r = &cs[i].rec;
        if (cs[i].parsed && str_eq(r->input_sha256, from) &&
            r->output_sha256 && strcmp(r->output_sha256, from) != 0)
            return 1;
    }
    return 0;
}

/* The first event's prev against the owner's origin. */
static void check_origin(sl_audit_sink *s, const sl_audit_owner *o,
                         const sl_audit_event *e, const checked *cs, size_t n)
{
    const char *prev = cs[0].rec.prev;

    if (!o->origin_sha256) {
        sl_audit_report(s, o->kind, o->id, e->seq, SL_AUDIT_ANCHOR_MISSING,
                        "the %s has no content hash to anchor the chain to "
                        "(first prev %s)", o->kind, prev);
        return;
    }
    if (strcmp(prev, o->origin_sha256) == 0)
        return;
    if (o->origin_may_be_redacted && records_change_from(cs, n, prev))
        return;
    sl_audit_report(s, o->kind, o->id, e->seq, SL_AUDIT_FIRST_PREV,
                    "first prev %s is not the content hash %s", prev,
                    o->origin_sha256);
}

/* The last output hash the chain records against the stored content.  A
 * malformed event at the end hides it: not checked then (it is reported
 * already).  A review item's chain may end in moderators' decisions
 * (stage review, sluice-review): each is about the stored, flagged content
 * (its input must be that content's hash) and its output -- the redacted
 * bytes of a redact decision -- is stored with the sample, not here; the
 * last output before them is the one that must be the stored content. */
static void check_output(sl_audit_sink *s, const sl_audit_owner *o,
                         const sl_audit_event *evs, const checked *cs, size_t n)
{
    int review_owner = strcmp(o->kind, "review") == 0;

    for (size_t i = n; i-- > 0;) {
        if (!cs[i].parsed)
            return;
        if (review_owner && strcmp(cs[i].rec.stage, "review") == 0) {
            if (!cs[i].rec.input_sha256 ||
                strcmp(cs[i].rec.input_sha256, o->content_sha256) != 0)
                sl_audit_report(s, o->kind, o->id, evs[i].seq,
                                SL_AUDIT_OUTPUT_MISMATCH,
                                "the review decision's input hash %s is not "
                                "the stored content's %s",
                                cs[i].rec.input_sha256 ? cs[i].rec.input_sha256
                                                       : "(null)",
                                o->content_sha256);
            else
                continue;
            return;
        }
        if (!cs[i].rec.output_sha256)
            continue;
        if (strcmp(cs[i].rec.output_sha256, o->content_sha256) != 0)
            sl_audit_report(s, o->kind, o->id, evs[i].seq,
                            SL_AUDIT_OUTPUT_MISMATCH,
                            "last output hash %s is not the stored content's "
                            "%s", cs[i].rec.output_sha256, o->content_sha256);
        return;
    }
    sl_audit_report(s, o->kind, o->id, 0, SL_AUDIT_OUTPUT_MISMATCH,
                    "no event records an output hash; the stored content is "
                    "%s", o->content_sha256);
}

int sl_audit_owner_check(sl_audit_sink *s, const sl_audit_owner *o,
                         const sl_audit_event *evs, size_t n)
{
    checked *cs;
    /* Events carrying the previous seq: [grp, grp_end). */
    size_t grp = 0, grp_end = 0;
    int64_t last_seq = 0;
    int commit_seen = 0, origin_due = 0, rc = SL_OK;

    if (n == 0) {
        sl_audit_report(s, o->kind, o->id, 0, SL_AUDIT_NO_EVENTS,
                        "the %s has no provenance events", o->kind);
        return SL_OK;
    }
    if (!(cs = calloc(n, sizeof(*cs))))
        return SL_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const sl_audit_event *e = &evs[i];
        int linkable = 1;

        if (i == 0 && e->seq != 1) {
            sl_audit_report(s, o->kind, o->id, e->seq, SL_AUDIT_SEQ_GAP,
                            e->seq > 1 ? "the chain starts at seq %lld: "
                            "events before it are missing" :
                            "the chain starts at seq %lld, not 1",
                            (long long)e->seq);
            linkable = 0;
        } else if (i > 0 && e->seq <= last_seq) {
            sl_audit_report(s, o->kind, o->id, e->seq, SL_AUDIT_SEQ_DUPLICATE,
                            e->seq == last_seq ? "seq %lld appears more than "
                            "once" : "seq %lld comes after seq %lld",
                            (long long)e->seq, (long long)last_seq);
            linkable = 0;
        } else if (i > 0 && e->seq > last_seq + 1) {
            sl_audit_report(s, o->kind, o->id, e->seq, SL_AUDIT_SEQ_GAP,
                            "seq %lld follows seq %lld: %s missing",
                            (long long)e->seq, (long long)last_seq,
                            e->seq == last_seq + 2 ? "one event" : "events");
            linkable = 0;
        }
        if ((rc = check_event(s, o, e, &cs[i])) != SL_OK)
            goto out;
        if (cs[i].parsed ? str_eq(cs[i].rec.stage, "commit")
                         : str_eq(e->stage, "commit"))
            commit_seen = 1;
        if (linkable && cs[i].parsed) {
            if (i == 0) {
                origin_due = 1;   /* once the whole chain is parsed */
            } else {
                int linked = 0;
                for (size_t j = grp; j < grp_end && !linked; j++)
                    linked = str_eq(cs[i].rec.prev, evs[j].hash);
                if (!linked)
                    sl_audit_report(s, o->kind, o->id, e->seq,
                                    SL_AUDIT_PREV_LINK,
                                    "prev %s is not the hash of seq %lld (%s)",
                                    cs[i].rec.prev, (long long)last_seq,
                                    q(evs[grp_end - 1].hash));
            }
        }
        if (i == 0 || e->seq > last_seq) {
            grp = i;
            grp_end = i + 1;
            last_seq = e->seq;
        } else if (e->seq == last_seq) {
            grp_end = i + 1;
        }
    }
    if (origin_due)
        check_origin(s, o, &evs[0], cs, n);
    if (!commit_seen)
        sl_audit_report(s, o->kind, o->id, 0, SL_AUDIT_COMMIT_MISSING,
                        "no commit-stage event among the %zu events: the "
                        "chain was cut short, or not recorded by the commit "
                        "stage", n);
    if (o->content_sha256)
        check_output(s, o, evs, cs, n);
out:
    for (size_t i = 0; i < n; i++)
        sl_prov_record_clear(&cs[i].rec);
    free(cs);
    return rc;
}

int sl_audit_content_check(sl_audit_sink *s, const char *key,
                           const void *data, size_t len)
{
    char hex[SL_SHA256_HEX];

    if (sl_sha256_hex(data ? data : "", len, hex) != SL_OK)
        return SL_ENOMEM;
    if (!str_eq(hex, key))
        sl_audit_report(s, "content", key, 0, SL_AUDIT_CONTENT_HASH,
                        "the %zu stored bytes hash to %s, not to their key",
                        len, hex);
    return SL_OK;
}

/* ---- signed chain heads -------------------------------------------------- */

#define SEAL_DOMAIN "sluice-head-seal-v1\n"

struct sl_audit_signer {
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    char key_id[SL_AUDIT_KEY_HEX];
};

static int headref_cmp(const void *a, const void *b)
{
    const sl_audit_headref *x = a, *y = b;
    int c = strcmp(x->kind, y->kind);

    return c ? c : strcmp(x->id, y->id);
}

/* The signed bytes of a seal (see audit.h).  SL_OK or SL_ENOMEM. */
static int seal_message(sl_buf *b, int64_t seal_id, const sl_audit_headref *heads,
                        size_t n)
{
    sl_audit_headref *sorted = malloc((n ? n : 1) * sizeof(*sorted));
    int rc;

    if (!sorted)
        return SL_ENOMEM;
    if (n)
        memcpy(sorted, heads, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), headref_cmp);
    rc = sl_buf_appendf(b, SEAL_DOMAIN "%" PRId64 "\n%zu\n", seal_id, n);
    for (size_t i = 0; i < n && rc == SL_OK; i++)
        rc = sl_buf_appendf(b, "%zu:%s\n%zu:%s\n%" PRId64 "\n%s\n",
                            strlen(sorted[i].kind), sorted[i].kind,
                            strlen(sorted[i].id), sorted[i].id, sorted[i].seq,
                            sorted[i].hash);
    free(sorted);
    return rc;
}

int sl_audit_signer_open(const char *path, int create, sl_audit_signer **out,
                         sl_err *err)
{
    unsigned char seed[32], pk[crypto_sign_PUBLICKEYBYTES];
    sl_audit_signer *s;
    int rc, created;

    *out = NULL;
    if (!path || !*path) {
        sl_err_set(err, "no audit key file given");
        return SL_EINVAL;
    }
    if (sodium_init() < 0) {
        sl_err_set(err, "libsodium failed to initialise");
        return SL_ERR;
    }
    /* The seed: a key file of its own, owner-only, made at first use. */
    if (create)
        rc = sl_keyfile_hex32_load_or_create(path, "audit key", 0, seed,
                                             &created, err);
    else
        rc = sl_keyfile_hex32_load(path, "audit key", 0, seed, err);
    if (rc == SL_ENOTFOUND)
        rc = SL_EIO;
    if (rc != SL_OK) {
        sodium_memzero(seed, sizeof(seed));
        return rc;
    }
    if (!(s = sodium_malloc(sizeof(*s)))) {
        sodium_memzero(seed, sizeof(seed));
        return SL_ENOMEM;
    }
    crypto_sign_seed_keypair(pk, s->sk, seed);
    sodium_memzero(seed, sizeof(seed));
    sodium_bin2hex(s->key_id, sizeof(s->key_id), pk, sizeof(pk));
    *out = s;
    return SL_OK;
}

void sl_audit_signer_destroy(sl_audit_signer *s)
{
    if (s)
        sodium_free(s);   /* zeroes it */
}

const char *sl_audit_signer_key_id(const sl_audit_signer *s)
{
    return s->key_id;
}

int sl_audit_seal_sign(const sl_audit_signer *s, int64_t seal_id,
                       const sl_audit_headref *heads, size_t n,
                       char out[SL_AUDIT_SIG_HEX])
{
    unsigned char sig[crypto_sign_BYTES];
    sl_buf m;
    int rc;

    sl_buf_init(&m, (size_t)1 << 30);
    if ((rc = seal_message(&m, seal_id, heads, n)) == SL_OK) {
        crypto_sign_detached(sig, NULL, m.data, m.len, s->sk);
        sodium_bin2hex(out, SL_AUDIT_SIG_HEX, sig, sizeof(sig));
    }
    sl_buf_free(&m);
    return rc;
}

static int hex_exact(const char *hex, unsigned char *bin, size_t n)
{
    size_t got = 0;

    return hex && strlen(hex) == 2 * n &&
           sodium_hex2bin(bin, n, hex, 2 * n, NULL, &got, NULL) == 0 && got == n;
}

int sl_audit_seal_verify(const char *key_id, const char *signature,
                         int64_t seal_id, const sl_audit_headref *heads,
                         size_t n)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sig[crypto_sign_BYTES];
    sl_buf m;
    int rc;

    if (sodium_init() < 0)
        return SL_ERR;
    if (!hex_exact(key_id, pk, sizeof(pk)) || !hex_exact(signature, sig, sizeof(sig)))
        return SL_EINVAL;
    sl_buf_init(&m, (size_t)1 << 30);
    if ((rc = seal_message(&m, seal_id, heads, n)) == SL_OK &&
        crypto_sign_verify_detached(sig, m.data, m.len, pk) != 0)
        rc = SL_EINVAL;
    sl_buf_free(&m);
    return rc;
}

int sl_audit_head_check(sl_audit_sink *s, const sl_audit_owner *o,
                        const sl_audit_event *evs, size_t n,
                        const sl_audit_head *h)
{
    const sl_audit_event *last = n ? &evs[n - 1] : NULL;

    if (!h) {
        sl_audit_report(s, o->kind, o->id, 0, SL_AUDIT_HEAD_MISSING,
                        "no signed head: the chain cannot be told from a "
                        "rewritten one");
        return SL_OK;
    }
    if (!last || last->seq != h->seq || strcmp(last->hash, h->hash) != 0)
        sl_audit_report(s, o->kind, o->id, last ? last->seq : 0,
                        SL_AUDIT_HEAD_MISMATCH, "the chain ends at seq %" PRId64
                        " hash %.16s..., the signed head is seq %" PRId64
                        " hash %.16s...: the chain was rewritten, cut or "
                        "extended after it was signed", last ? last->seq : 0,
                        last ? last->hash : "(none)", h->seq, h->hash);
    if (h->seal == SL_AUDIT_SEAL_BAD)
        sl_audit_report(s, o->kind, o->id, h->seq, SL_AUDIT_HEAD_SIGNATURE,
                        "the seal %" PRId64 " over this head does not verify: "
                        "it, or a head it covers, was changed", h->seal_id);
    else if (h->seal == SL_AUDIT_SEAL_UNTRUSTED)
        sl_audit_report(s, o->kind, o->id, h->seq, SL_AUDIT_HEAD_KEY,
                        "the seal %" PRId64 " over this head is signed by a "
                        "key not registered in audit_keys or not trusted",
                        h->seal_id);
    return SL_OK;
}
