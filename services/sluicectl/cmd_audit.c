/*
 * cmd_audit.c -- `sluicectl audit verify | show`: re-verifying and reading
 * the provenance chains the commit stage stored in PostgreSQL.
 *
 * verify streams owners (samples, review items, rejections) joined with
 * their provenance_events rows through a server-side cursor, ordered by
 * owner and seq, so one owner's rows arrive together and memory stays
 * bounded by one owner's chain (capped) and one fetch, however many rows
 * the tables hold.  Each owner's chain goes to the pure checker in
 * common/src/audit.c.  The contents the checked samples and review items
 * reference are re-hashed in batches, fetched in binary and capped by
 * bytes per fetch.  Everything is read in one REPEATABLE READ, READ ONLY
 * transaction: one consistent snapshot, nothing written.
 *
 * show gathers one upload's owners, their rows and their chains into one
 * JSON document; the text output is rendered from it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl/audit.h"
#include "sl/crypto.h"
#include "sl/fpset.h"
#include "sl/json.h"
#include "sl/pg.h"
#include "sl/prov_pg.h"
#include "ctl.h"

#define AUDIT_FETCH_ROWS      1000          /* rows per FETCH */
#define AUDIT_OWNER_MAX_BYTES (64u << 20)   /* one owner's rows held at once */
#define AUDIT_CONTENT_BATCH   256           /* keys per contents lookup */
#define AUDIT_CONTENT_BYTES   (64u << 20)   /* content bytes per fetch */
#define AUDIT_SEEN_MAX        ((size_t)1 << 20)   /* contents remembered */
#define AUDIT_REF_MAX         320
#define AUDIT_SHOW_MAX_OWNERS 64            /* rejections beyond are cut */
#define AUDIT_STR_(x) #x
#define AUDIT_STR(x) AUDIT_STR_(x)

static const char audit_usage[] =
    "usage: sluicectl audit <command>\n"
    "Re-verify and read the provenance chains stored in PostgreSQL\n"
    "(pg.dsn / SLUICE_PG_DSN).  After upgrading past migration 010, run\n"
    "`sluicectl audit seal-unsealed` once: chains stored before it have no\n"
    "signed head (head_missing) until then.\n";

static const char verify_usage[] =
    "usage: sluicectl audit verify (--upload ID | --dataset ID | --all) [--json]\n"
    "                              [--trusted-key HEX]...\n"
    "Recompute every stored provenance chain of the selected samples, review\n"
    "items and rejections, and re-hash the contents the samples and review\n"
    "items reference.  Each break is one line naming the owner, the seq and\n"
    "the problem:\n"
    "  hash_mismatch      the stored hash is not the SHA-256 of the event text\n"
    "  event_malformed    the stored text is not a provenance event\n"
    "  not_canonical      an event, but not in its canonical byte form\n"
    "  seq_column, stage_column, outcome_column\n"
    "                     a stored column disagrees with the event text\n"
    "  prev_link          prev is not the previous event's hash\n"
    "  first_prev         the first prev is not the signed content's hash\n"
    "  seq_gap, seq_duplicate   events missing or repeated\n"
    "  upload_id          the event is about another upload\n"
    "  output_mismatch    the last output hash is not the stored content's\n"
    "  no_events, commit_missing   no chain, or one cut short\n"
    "  anchor_missing     a rejection without a content hash\n"
    "  content_hash, content_missing   stored bytes that do not hash to\n"
    "                     their key, or are gone\n"
    "  orphan_events      events whose owner row is gone (--all, --upload)\n"
    "  chain_too_large    over 64 MiB of events for one owner: not checked\n"
    "  head_missing       no signed head (chain_heads) for the chain\n"
    "  head_mismatch      the chain does not end at its signed head: it was\n"
    "                     rewritten (even with every hash recomputed), cut\n"
    "                     or extended after it was signed\n"
    "  head_signature     the Ed25519 seal over the head does not verify (it,\n"
    "                     or a head of the same batch, was changed)\n"
    "  head_key_untrusted sealed by a key not in audit_keys, or not one of\n"
    "                     the --trusted-key ones\n"
    "then a summary line.\n"
    "  --upload ID    the sample, review item and rejections of one upload\n"
    "  --dataset ID   everything committed for one dataset\n"
    "  --all          every chain in the database (streamed: any size)\n"
    "  --trusted-key HEX  only heads signed by this public key (hex, as in\n"
    "                 audit_keys.key_id; repeatable) are trusted: a database\n"
    "                 writer can register a key of their own\n"
    "  --json         one JSON object per line: {owner_kind, owner_id, seq,\n"
    "                 problem, detail} per break (seq null when the break is\n"
    "                 not about one event), then {\"summary\": {...}}\n"
    "Exit status: 0 clean, 1 breaks found, 2 usage, connection or query error.\n";

static const char show_usage[] =
    "usage: sluicectl audit show --upload ID [--json]\n"
    "The whole provenance history of one upload: for the sample, review item\n"
    "and rejections it ended as, the stored row and every event (seq, time,\n"
    "stage, version, outcome, reason, input -> output content hash, event\n"
    "hash), with the chain re-verified as `audit verify` does.\n"
    "  --json   one JSON document: {upload_id, owners: [{kind, owner_id, row,\n"
    "           events, verified, breaks}]}\n"
    "Exit status: 0 shown, 1 no such upload or an error, 2 usage.\n";

/* ---- shared ---------------------------------------------------------------- */

/* Whether review_items exists (it comes with migration 003). */
static int have_reviews(PGconn *pg, int *yes)
{
    PGresult *r = ctl_pg_query(pg, "audit: looking for review_items",
        "SELECT to_regclass('review_items') IS NOT NULL", 0, NULL, NULL, NULL);

    if (!r)
        return SL_ERR;
    *yes = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return SL_OK;
}

/* Opens the read-only snapshot every audit reads from. */
static int begin_snapshot(PGconn *pg)
{
    if (ctl_pg_exec(pg, "audit: SET TIME ZONE", "SET TIME ZONE 'UTC'") != CTL_OK ||
        ctl_pg_exec(pg, "audit: BEGIN", "BEGIN ISOLATION LEVEL REPEATABLE READ, "
                    "READ ONLY") != CTL_OK)
        return SL_ERR;
    return SL_OK;
}

/* ---- verify: the owners, streamed ---------------------------------------- */

/* How one kind of owner is read.  Every query yields the same columns:
 * owner id, upload id, origin (what the first prev must be), stored
 * content hash, then the event columns (NULL when the owner has none). */
typedef struct owner_kind {
    const char *kind;            /* provenance_events.owner_kind */
    const char *plural;          /* for the summary */
    const char *from;            /* SELECT ... FROM ... LEFT JOIN events */
    const char *by_upload, *by_dataset;
    const char *order;
    int redactable;              /* sl_audit_owner.origin_may_be_redacted */
    int has_content;             /* references contents */
    int is_review;               /* review_items: skipped when absent */
    const char *unsealed;        /* seal-unsealed: events, no chain_heads row */
} owner_kind;

#define AUDIT_TRUSTED_MAX 16
/* The owner queries' event and head columns (sl/prov_pg.h), columns 4..11. */
#define EVENT_COLS SL_PROV_PG_EVENT_HEAD_COLS
#define EVENTS(kind, id) SL_PROV_PG_EVENTS_JOIN(kind, id) SL_PROV_PG_HEAD_JOIN(kind, id)

static const owner_kind kinds[] = {
    { "sample", "samples",
      "SELECT s.upload_id, s.upload_id, COALESCE(s.original_sha256, s.sha256),"
      " s.sha256, " EVENT_COLS " FROM samples s"
      EVENTS("sample", "s.upload_id"),
      "s.upload_id = $1", "s.dataset_id = $1", "s.upload_id, e.seq", 0, 1, 0,
      SL_PROV_PG_UNSEALED("sample", "s.upload_id") },
    { "review", "review items",
      "SELECT r.upload_id, r.upload_id, r.sha256, r.sha256, " EVENT_COLS
      " FROM review_items r"
      EVENTS("review", "r.upload_id"),
      "r.upload_id = $1", "r.dataset_id = $1", "r.upload_id, e.seq", 1, 1, 1,
      SL_PROV_PG_UNSEALED("review", "r.upload_id") },
    { "rejection", "rejections",
      "SELECT o.id, r.upload_id, r.sha256, r.sha256, " EVENT_COLS
      " FROM rejections r CROSS JOIN LATERAL (SELECT r.source_topic || '/' ||"
      " r.source_partition || '/' || r.source_offset AS id) o"
      EVENTS("rejection", "o.id"),
      "r.upload_id = $1", "r.dataset_id = $1", "r.rejection_id, e.seq", 1, 0, 0,
      SL_PROV_PG_UNSEALED("rejection", "o.id") },
};
#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

typedef enum selection { SEL_NONE = 0, SEL_UPLOAD, SEL_DATASET, SEL_ALL,
                         SEL_UNSEALED } selection;

/* audit seal-unsealed: the verified heads waiting to be sealed, and the
 * tallies.  Sealing writes through its own connection (wpg), one
 * transaction per batch, while the owners stream from the read-only
 * snapshot. */
typedef struct unsealed {
    ctl *c;
    PGconn *wpg;                 /* NULL with --dry-run */
    sl_audit_headref *batch;     /* id and hash owned; kind static */
    size_t n, max;
    uint64_t sealed, refused, changed, already;
} unsealed;

/* The owner whose rows are arriving. */
typedef struct owner_acc {
    const owner_kind *k;
    char *id, *upload_id, *origin, *content;
    char *head_hash;             /* NULL: no signed head */
    int64_t head_seq, head_seal;
    sl_audit_event *evs;
    size_t n, cap, bytes;
    int too_large;
    int64_t dropped;             /* events not held (too large) */
} owner_acc;

/* A content key waiting to be re-hashed, and who referenced it first. */
typedef struct pending {
    char key[SL_SHA256_HEX];
    char ref[AUDIT_REF_MAX];
    int64_t size;                /* -1: not in contents */
} pending;

typedef struct verifier {
    PGconn *pg;
    int json;
    int failed;                  /* an error was printed */
    sl_audit_sink sink;
    uint64_t owners[N_KINDS], events, contents;
    owner_acc cur;
    sl_fpset *seen;              /* contents queued already */
    const char *trusted[AUDIT_TRUSTED_MAX];   /* --trusted-key */
    size_t ntrusted;
    /* the seals checked before the owners, in ascending id, with verdicts */
    struct seal_verdict { int64_t id; sl_audit_seal_status status; } *seals;
    size_t nseals, capseals;
    /* the seal whose heads are arriving */
    int64_t cur_seal;
    char *cur_key, *cur_sig;
    int cur_registered;
    sl_audit_headref *cur_heads;
    size_t ncur, capcur;
    pending pend[AUDIT_CONTENT_BATCH];
    size_t npend;
    unsealed *us;                /* seal-unsealed; NULL for verify */
} verifier;

static void print_break(void *u, const sl_audit_break *b)
{
    verifier *v = u;

    if (v->json) {
        json_t *o = json_object();
        if (!o ||
            json_object_set_new(o, "owner_kind", sl_json_text(b->owner_kind)) ||
            json_object_set_new(o, "owner_id", sl_json_text(b->owner_id)) ||
            json_object_set_new(o, "seq", b->seq ? json_integer(b->seq)
                                                 : json_null()) ||
            json_object_set_new(o, "problem",
                                json_string(sl_audit_problem_name(b->problem))) ||
            json_object_set_new(o, "detail", sl_json_text(b->detail))) {
            json_decref(o);
            v->failed = 1;
            ctl_fail("audit verify: out of memory");
            return;
        }
        if (ctl_print_json(o) != CTL_OK)
            v->failed = 1;
        return;
    }
    {
        ctl_esc e = { 0 };
        if (b->seq)
            printf("%s %s seq %" PRId64 ": %s: %s\n", b->owner_kind,
                   ctl_e(&e, b->owner_id), b->seq,
                   sl_audit_problem_name(b->problem), ctl_e(&e, b->detail));
        else
            printf("%s %s: %s: %s\n", b->owner_kind, ctl_e(&e, b->owner_id),
                   sl_audit_problem_name(b->problem), ctl_e(&e, b->detail));
        ctl_esc_free(&e);
    }
}

static void acc_reset(owner_acc *a)
{
    for (size_t i = 0; i < a->n; i++) {
        free((char *)a->evs[i].stage);
        free((char *)a->evs[i].outcome);
        free((char *)a->evs[i].canonical);
        free((char *)a->evs[i].hash);
    }
    free(a->id);
    free(a->upload_id);
    free(a->origin);
    free(a->content);
    free(a->head_hash);
    a->id = a->upload_id = a->origin = a->content = NULL;
    a->head_hash = NULL;
    a->head_seq = a->head_seal = 0;
    a->n = a->bytes = 0;
    a->too_large = 0;
    a->dropped = 0;
    a->k = NULL;
}

static void acc_free(owner_acc *a)
{
    acc_reset(a);
    free(a->evs);
    a->evs = NULL;
    a->cap = 0;
}

static char *dup_value(PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : strdup(PQgetvalue(r, row, col));
}

/* Takes one event row into the owner being assembled, unless its chain has
 * passed the cap (then the events are only counted).  SL_OK / SL_ENOMEM. */
static int acc_add_event(owner_acc *a, PGresult *r, int row)
{
    sl_audit_event *e;
    size_t bytes = sizeof(*e);

    for (int col = 5; col <= 8; col++)
        bytes += (size_t)PQgetlength(r, row, col) + 1;
    if (a->too_large || a->bytes + bytes > AUDIT_OWNER_MAX_BYTES) {
        a->too_large = 1;
        a->dropped++;
        return SL_OK;
    }
    if (a->n == a->cap) {
        size_t ncap = a->cap ? 2 * a->cap : 16;
        sl_audit_event *p = realloc(a->evs, ncap * sizeof(*p));
        if (!p)
            return SL_ENOMEM;
        a->evs = p;
        a->cap = ncap;
    }
    e = &a->evs[a->n];
    memset(e, 0, sizeof(*e));
    a->n++;   /* from here the slot's strings are freed by acc_reset */
    e->seq = strtoll(PQgetvalue(r, row, 4), NULL, 10);
    e->stage = dup_value(r, row, 5);
    e->outcome = dup_value(r, row, 6);
    e->canonical = dup_value(r, row, 7);
    e->hash = dup_value(r, row, 8);
    if (!e->stage || !e->outcome || !e->canonical || !e->hash)
        return SL_ENOMEM;   /* the columns are NOT NULL */
    a->bytes += bytes;
    return SL_OK;
}

static int flush_contents(verifier *v);
static int unsealed_take(verifier *v, const owner_acc *a, uint64_t breaks);

/* Queues a content key for re-hashing, once per run (as far as the
 * remembered set reaches). */
static int queue_content(verifier *v, const char *key, const char *kind,
                         const char *owner)
{
    uint64_t fp = sl_fpset_fp(key, strlen(key), "", 0);
    pending *p;

    if (sl_fpset_has(v->seen, fp))
        return SL_OK;
    if (sl_fpset_add(v->seen, fp) != SL_OK) {
        sl_fpset_clear(v->seen);   /* full: forget, at worst re-check */
        (void)sl_fpset_add(v->seen, fp);
    }
    p = &v->pend[v->npend++];
    snprintf(p->key, sizeof(p->key), "%s", key);
    snprintf(p->ref, sizeof(p->ref), "%s %s", kind, owner);
    p->size = -1;
    return v->npend == AUDIT_CONTENT_BATCH ? flush_contents(v) : SL_OK;
}

/* ---- verify: seals ---------------------------------------------------- */

static int stream(verifier *v, const char *what, const char *sql, int nparams,
                  const char *const *params,
                  int (*fn)(verifier *, const void *, PGresult *, int),
                  const void *arg);

/* The verdict on a seal checked before the owners; a seal never seen
 * (its row gone, or it covers no stored head) is bad. */
static sl_audit_seal_status seal_status(const verifier *v, int64_t id)
{
    size_t lo = 0, hi = v->nseals;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v->seals[mid].id == id)
            return v->seals[mid].status;
        if (v->seals[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return SL_AUDIT_SEAL_BAD;
}

static void seal_reset(verifier *v)
{
    for (size_t i = 0; i < v->ncur; i++) {
        free((char *)v->cur_heads[i].kind);
        free((char *)v->cur_heads[i].id);
        free((char *)v->cur_heads[i].hash);
    }
    free(v->cur_key);
    free(v->cur_sig);
    v->cur_key = v->cur_sig = NULL;
    v->ncur = 0;
    v->cur_seal = 0;
}

/* Verifies the seal whose heads have arrived and records the verdict. */
static int finish_seal(verifier *v)
{
    sl_audit_seal_status st = SL_AUDIT_SEAL_OK;
    int trusted = !v->ntrusted, rc;

    if (!v->ncur)
        return SL_OK;
    rc = sl_audit_seal_verify(v->cur_key, v->cur_sig, v->cur_seal, v->cur_heads,
                              v->ncur);
    if (rc == SL_ENOMEM || rc == SL_ERR)
        return SL_ENOMEM;
    for (size_t i = 0; i < v->ntrusted; i++)
        trusted |= strcmp(v->trusted[i], v->cur_key) == 0;
    if (rc != SL_OK)
        st = SL_AUDIT_SEAL_BAD;
    else if (!v->cur_registered || !trusted)
        st = SL_AUDIT_SEAL_UNTRUSTED;
    if (v->nseals == v->capseals) {
        size_t ncap = v->capseals ? 2 * v->capseals : 64;
        struct seal_verdict *p = realloc(v->seals, ncap * sizeof(*p));
        if (!p)
            return SL_ENOMEM;
        v->seals = p;
        v->capseals = ncap;
    }
    v->seals[v->nseals++] = (struct seal_verdict){ v->cur_seal, st };
    seal_reset(v);
    return SL_OK;
}

/* One head of the seal stream: seal_id, owner_kind, owner_id, seq,
 * head_hash, key_id, signature, key registered. */
static int seal_row(verifier *v, const void *arg, PGresult *r, int row)
{
    int64_t id = strtoll(PQgetvalue(r, row, 0), NULL, 10);
    sl_audit_headref *h;
    int rc;

    (void)arg;
    if (v->ncur && id != v->cur_seal && (rc = finish_seal(v)) != SL_OK)
        return rc;
    if (!v->ncur) {
        v->cur_seal = id;
        v->cur_registered = strcmp(PQgetvalue(r, row, 7), "t") == 0;
        if (!(v->cur_key = strdup(PQgetvalue(r, row, 5))) ||
            !(v->cur_sig = strdup(PQgetvalue(r, row, 6))))
            return SL_ENOMEM;
    }
    if (v->ncur == v->capcur) {
        size_t ncap = v->capcur ? 2 * v->capcur : 64;
        sl_audit_headref *p = realloc(v->cur_heads, ncap * sizeof(*p));
        if (!p)
            return SL_ENOMEM;
        v->cur_heads = p;
        v->capcur = ncap;
    }
    h = &v->cur_heads[v->ncur];
    memset(h, 0, sizeof(*h));
    v->ncur++;
    h->seq = strtoll(PQgetvalue(r, row, 3), NULL, 10);
    if (!(h->kind = strdup(PQgetvalue(r, row, 1))) ||
        !(h->id = strdup(PQgetvalue(r, row, 2))) ||
        !(h->hash = strdup(PQgetvalue(r, row, 4))))
        return SL_ENOMEM;
    return SL_OK;
}

/* Checks every seal over the heads of the selected owners (all of them
 * with --all), each once, before the owners are streamed. */
static int verify_seals(verifier *v, selection sel, const char *id)
{
    char sql[2048];
    const char *params[1] = { id };
    const char *col = sel == SEL_UPLOAD ? "upload_id" : "dataset_id";
    int rc;

    if (sel == SEL_ALL)
        snprintf(sql, sizeof(sql), "%s ORDER BY h.seal_id", SL_PROV_PG_SEAL_SELECT);
    else
        snprintf(sql, sizeof(sql), "%s WHERE h.seal_id IN (SELECT h2.seal_id"
                 " FROM chain_heads h2 JOIN (SELECT 'sample' AS kind, upload_id AS id"
                 " FROM samples WHERE %s = $1 UNION ALL SELECT 'review', upload_id"
                 " FROM review_items WHERE %s = $1 UNION ALL SELECT 'rejection',"
                 " source_topic || '/' || source_partition || '/' || source_offset"
                 " FROM rejections WHERE %s = $1) o ON h2.owner_kind = o.kind"
                 " AND h2.owner_id = o.id) ORDER BY h.seal_id", SL_PROV_PG_SEAL_SELECT,
                 col, col, col);
    rc = stream(v, "audit verify: reading the seals", sql, sel == SEL_ALL ? 0 : 1,
                sel == SEL_ALL ? NULL : params, seal_row, NULL);
    if (rc == SL_OK && (rc = finish_seal(v)) == SL_ENOMEM)
        ctl_fail("audit verify: out of memory");
    seal_reset(v);
    if (rc != SL_OK)
        v->failed = 1;
    return rc;
}

/* Checks the owner assembled so far and clears it. */
static int finish_owner(verifier *v)
{
    owner_acc *a = &v->cur;
    sl_audit_owner o;
    uint64_t before = v->sink.breaks;
    int rc = SL_OK;

    if (!a->k)
        return SL_OK;
    v->owners[a->k - kinds]++;
    o = (sl_audit_owner){
        .kind = a->k->kind, .id = a->id, .upload_id = a->upload_id,
        .origin_sha256 = a->origin, .content_sha256 = a->content,
        .origin_may_be_redacted = a->k->redactable,
    };
    if (a->too_large)
        sl_audit_report(&v->sink, o.kind, o.id, 0, SL_AUDIT_CHAIN_TOO_LARGE,
                        "over %u MiB of provenance events (%zu held, %" PRId64
                        " more): not checked", AUDIT_OWNER_MAX_BYTES >> 20,
                        a->n, a->dropped);
    else if ((rc = sl_audit_owner_check(&v->sink, &o, a->evs, a->n)) == SL_OK &&
             v->us) {
        v->events += a->n;
    } else if (rc == SL_OK) {
        sl_audit_head h = {
            .seq = a->head_seq, .hash = a->head_hash, .seal_id = a->head_seal,
            .seal = seal_status(v, a->head_seal),
        };
        v->events += a->n;
        rc = sl_audit_head_check(&v->sink, &o, a->evs, a->n,
                                 a->head_hash ? &h : NULL);
    }
    if (rc == SL_OK && v->us)
        rc = unsealed_take(v, a, v->sink.breaks - before);
    else if (rc == SL_OK && a->k->has_content && a->content)
        rc = queue_content(v, a->content, a->k->kind, a->id);
    acc_reset(a);
    return rc;
}

/* Takes one row of the owner stream. */
static int take_row(verifier *v, const owner_kind *k, PGresult *r, int row)
{
    owner_acc *a = &v->cur;
    const char *id = PQgetvalue(r, row, 0);
    int rc;

    if (!a->k || strcmp(a->id, id) != 0) {
        if ((rc = finish_owner(v)) != SL_OK)
            return rc;
        a->k = k;
        a->id = strdup(id);
        a->upload_id = dup_value(r, row, 1);
        a->origin = dup_value(r, row, 2);
        a->content = dup_value(r, row, 3);
        if (!a->id || (!PQgetisnull(r, row, 1) && !a->upload_id) ||
            (!PQgetisnull(r, row, 2) && !a->origin) ||
            (!PQgetisnull(r, row, 3) && !a->content))
            return SL_ENOMEM;
        if (!PQgetisnull(r, row, 10)) {
            a->head_seq = strtoll(PQgetvalue(r, row, 9), NULL, 10);
            a->head_seal = strtoll(PQgetvalue(r, row, 11), NULL, 10);
            if (!(a->head_hash = dup_value(r, row, 10)))
                return SL_ENOMEM;
        }
    }
    if (PQgetisnull(r, row, 4))
        return SL_OK;   /* an owner without events (LEFT JOIN) */
    return acc_add_event(a, r, row);
}

/* Runs sql through a cursor, handing each row to fn.  SL_ERR after the
 * error is printed. */
static int stream(verifier *v, const char *what, const char *sql, int nparams,
                  const char *const *params,
                  int (*fn)(verifier *, const void *, PGresult *, int),
                  const void *arg)
{
    sl_buf decl;
    PGresult *r = NULL;
    int rc = SL_ERR;

    sl_buf_init(&decl, 1 << 20);
    if (sl_buf_appendf(&decl, "DECLARE audit_cur NO SCROLL CURSOR FOR %s", sql)
        != SL_OK || sl_buf_cstr(&decl) != SL_OK) {
        ctl_fail("audit verify: out of memory");
        goto out;
    }
    if (!(r = ctl_pg_query(v->pg, what, (const char *)decl.data, nparams,
                           params, NULL, NULL)))
        goto out;
    for (;;) {
        int n;
        PQclear(r);
        if (!(r = ctl_pg_query(v->pg, what, "FETCH FORWARD "
                               AUDIT_STR(AUDIT_FETCH_ROWS) " FROM audit_cur",
                               0, NULL, NULL, NULL)))
            goto out;
        if ((n = PQntuples(r)) == 0)
            break;
        for (int i = 0; i < n; i++) {
            int frc = fn(v, arg, r, i);
            if (frc == SL_ENOMEM) {
                ctl_fail("audit verify: out of memory");
                goto out;
            }
            if (frc != SL_OK || v->failed)
                goto out;
        }
    }
    PQclear(r);
    r = NULL;
    if (ctl_pg_exec(v->pg, what, "CLOSE audit_cur") != CTL_OK)
        goto out;
    rc = SL_OK;
out:
    PQclear(r);
    sl_buf_free(&decl);
    if (rc != SL_OK)
        v->failed = 1;
    return rc;
}

static int owner_row(verifier *v, const void *arg, PGresult *r, int row)
{
    return take_row(v, arg, r, row);
}

/* Streams one kind of owner. */
static int verify_kind(verifier *v, const owner_kind *k, selection sel,
                       const char *id)
{
    char sql[2048], what[128];
    const char *params[1] = { id };
    const char *where = sel == SEL_UPLOAD ? k->by_upload :
                        sel == SEL_DATASET ? k->by_dataset :
                        sel == SEL_UNSEALED ? k->unsealed : NULL;
    int rc;

    snprintf(sql, sizeof(sql), "%s%s%s ORDER BY %s", k->from,
             where ? " WHERE " : "", where ? where : "", k->order);
    snprintf(what, sizeof(what), "audit %s: reading %s",
             v->us ? "seal-unsealed" : "verify", k->plural);
    rc = stream(v, what, sql, sel == SEL_UPLOAD || sel == SEL_DATASET,
                sel == SEL_UPLOAD || sel == SEL_DATASET ? params : NULL,
                owner_row, k);
    if (rc == SL_OK && (rc = finish_owner(v)) == SL_ENOMEM)
        ctl_fail("audit verify: out of memory");
    if (rc == SL_OK && (rc = flush_contents(v)) != SL_OK)
        v->failed = 1;
    return rc;
}

/* ---- verify: contents --------------------------------------------------- */

/* Looks up the sizes of the pending keys (so the data can be fetched in
 * bounded batches) and reports those not stored at all. */
static int content_sizes(verifier *v)
{
    sl_buf arr;
    PGresult *r = NULL;
    int rc = SL_ERR;

    sl_buf_init(&arr, 1 << 20);
    for (size_t i = 0; i < v->npend; i++)
        if (sl_pg_array_add(&arr, v->pend[i].key) != SL_OK)
            goto oom;
    if (sl_pg_array_close(&arr) != SL_OK)
        goto oom;
    {
        const char *params[1] = { (const char *)arr.data };
        if (!(r = ctl_pg_query(v->pg, "audit verify: reading content sizes",
                "SELECT sha256, octet_length(data) FROM contents"
                " WHERE sha256 = ANY($1::text[])", 1, params, NULL, NULL)))
            goto out;
    }
    for (int i = 0; i < PQntuples(r); i++)
        for (size_t j = 0; j < v->npend; j++)
            if (strcmp(v->pend[j].key, PQgetvalue(r, i, 0)) == 0)
                v->pend[j].size = strtoll(PQgetvalue(r, i, 1), NULL, 10);
    for (size_t j = 0; j < v->npend; j++)
        if (v->pend[j].size < 0)
            sl_audit_report(&v->sink, "content", v->pend[j].key, 0,
                            SL_AUDIT_CONTENT_MISSING, "referenced by %s, but "
                            "contents holds no such row", v->pend[j].ref);
    rc = SL_OK;
    goto out;
oom:
    ctl_fail("audit verify: out of memory");
out:
    PQclear(r);
    sl_buf_free(&arr);
    return rc;
}

/* Fetches pend[from, to) in binary and re-hashes each. */
static int content_fetch(verifier *v, size_t from, size_t to)
{
    sl_buf arr;
    PGresult *r = NULL;
    int rc = SL_ERR, any = 0;

    sl_buf_init(&arr, 1 << 20);
    for (size_t i = from; i < to; i++) {
        if (v->pend[i].size < 0)
            continue;
        any = 1;
        if (sl_pg_array_add(&arr, v->pend[i].key) != SL_OK)
            goto oom;
    }
    if (!any) {
        rc = SL_OK;
        goto out;
    }
    if (sl_pg_array_close(&arr) != SL_OK)
        goto oom;
    {
        const char *params[1] = { (const char *)arr.data };
        sl_err err;
        /* Binary results: the bytes as stored, no hex to decode. */
        r = PQexecParams(v->pg, "SELECT sha256, data FROM contents"
                         " WHERE sha256 = ANY($1::text[])",
                         1, NULL, params, NULL, NULL, 1);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            sl_pg_fail(v->pg, r, "audit verify: reading contents", &err);
            ctl_fail("%s", err.msg);
            goto out;
        }
    }
    for (int i = 0; i < PQntuples(r); i++) {
        /* A text column in binary is its bytes; libpq NUL-ends every value. */
        const char *key = PQgetvalue(r, i, 0);
        if (sl_audit_content_check(&v->sink, key, PQgetvalue(r, i, 1),
                                   (size_t)PQgetlength(r, i, 1)) != SL_OK)
            goto oom;
        v->contents++;
    }
    rc = SL_OK;
    goto out;
oom:
    ctl_fail("audit verify: out of memory");
out:
    PQclear(r);
    sl_buf_free(&arr);
    return rc;
}

/* Re-hashes the queued contents, at most AUDIT_CONTENT_BYTES per fetch
 * (one larger content alone). */
static int flush_contents(verifier *v)
{
    size_t from = 0;
    int rc;

    if (v->npend == 0)
        return SL_OK;
    if ((rc = content_sizes(v)) != SL_OK)
        return rc;
    while (from < v->npend) {
        size_t to = from;
        uint64_t bytes = 0;
        while (to < v->npend &&
               (to == from || bytes + (uint64_t)(v->pend[to].size > 0 ?
                                     v->pend[to].size : 0)
                              <= AUDIT_CONTENT_BYTES)) {
            bytes += v->pend[to].size > 0 ? (uint64_t)v->pend[to].size : 0;
            to++;
        }
        if ((rc = content_fetch(v, from, to)) != SL_OK)
            return rc;
        from = to;
    }
    v->npend = 0;
    return SL_OK;
}

/* ---- verify: events without an owner ----------------------------------- */

static int orphan_row(verifier *v, const void *arg, PGresult *r, int row)
{
    (void)arg;
    sl_audit_report(&v->sink, PQgetvalue(r, row, 0), PQgetvalue(r, row, 1), 0,
                    SL_AUDIT_ORPHAN_EVENTS, "%s provenance events belong to "
                    "a %s that does not exist", PQgetvalue(r, row, 2),
                    PQgetvalue(r, row, 0));
    return SL_OK;
}

/* Events whose owner row is gone: every owner with --all, the upload's
 * sample and review item with --upload (a rejection's owner id is its
 * source position, which the upload id does not give). */
static int verify_orphans(verifier *v, selection sel, const char *id,
                          int reviews)
{
    char sql[2048];
    const char *params[1] = { id };
    const char *review_part = reviews ?
        " UNION ALL SELECT 'review', e.owner_id, count(*)"
        " FROM provenance_events e WHERE e.owner_kind = 'review'%s"
        " AND NOT EXISTS (SELECT 1 FROM review_items r"
        " WHERE r.upload_id = e.owner_id) GROUP BY e.owner_id" :
        " UNION ALL SELECT 'review', e.owner_id, count(*)"
        " FROM provenance_events e WHERE e.owner_kind = 'review'%s"
        " GROUP BY e.owner_id";
    char rev[512];

    if (sel == SEL_DATASET)
        return SL_OK;
    snprintf(rev, sizeof(rev), review_part,
             sel == SEL_UPLOAD ? " AND e.owner_id = $1" : "");
    snprintf(sql, sizeof(sql),
        "SELECT 'sample', e.owner_id, count(*) FROM provenance_events e"
        " WHERE e.owner_kind = 'sample'%s AND NOT EXISTS (SELECT 1 FROM samples s"
        " WHERE s.upload_id = e.owner_id) GROUP BY e.owner_id%s%s"
        " ORDER BY 1, 2",
        sel == SEL_UPLOAD ? " AND e.owner_id = $1" : "", rev,
        sel == SEL_UPLOAD ? "" :
        " UNION ALL SELECT 'rejection', e.owner_id, count(*)"
        " FROM provenance_events e WHERE e.owner_kind = 'rejection'"
        " AND NOT EXISTS (SELECT 1 FROM rejections r WHERE r.source_topic"
        " || '/' || r.source_partition || '/' || r.source_offset = e.owner_id)"
        " GROUP BY e.owner_id");
    return stream(v, "audit verify: looking for orphan events", sql,
                  sel == SEL_UPLOAD ? 1 : 0, sel == SEL_UPLOAD ? params : NULL,
                  orphan_row, NULL);
}

static int print_summary(const verifier *v)
{
    uint64_t owners = 0;

    for (size_t k = 0; k < N_KINDS; k++)
        owners += v->owners[k];
    if (v->json) {
        json_t *s = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
            "owners", (json_int_t)owners,
            "samples", (json_int_t)v->owners[0],
            "reviews", (json_int_t)v->owners[1],
            "rejections", (json_int_t)v->owners[2],
            "events", (json_int_t)v->events,
            "contents", (json_int_t)v->contents,
            "breaks", (json_int_t)v->sink.breaks);
        return ctl_print_json(json_pack("{s:o}", "summary", s));
    }
    printf("audit verify: %" PRIu64 " owners (%" PRIu64 " samples, %" PRIu64
           " review items, %" PRIu64 " rejections), %" PRIu64 " events, %"
           PRIu64 " contents checked: ", owners, v->owners[0], v->owners[1],
           v->owners[2], v->events, v->contents);
    if (v->sink.breaks)
        printf("%" PRIu64 " break%s\n", v->sink.breaks,
               v->sink.breaks == 1 ? "" : "s");
    else
        printf("clean\n");
    return CTL_OK;
}

static int audit_verify(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG,
        { "upload", required_argument, NULL, 'U' },
        { "dataset", required_argument, NULL, 'D' },
        { "all", no_argument, NULL, 'A' },
        { "json", no_argument, NULL, 'j' },
        { "trusted-key", required_argument, NULL, 'T' },
        { 0 }
    };
    verifier v = { 0 };
    selection sel = SEL_NONE;
    const char *id = NULL;
    int opt, nsel = 0, reviews = 0, rc = CTL_USAGE;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             "audit verify", verify_usage)) != -1) {
        switch (opt) {
        case 'U': sel = SEL_UPLOAD; id = optarg; nsel++; break;
        case 'D': sel = SEL_DATASET; id = optarg; nsel++; break;
        case 'A': sel = SEL_ALL; nsel++; break;
        case 'j': v.json = 1; break;
        case 'T':
            if (v.ntrusted == AUDIT_TRUSTED_MAX || strlen(optarg) != 64 ||
                strspn(optarg, "0123456789abcdef") != 64)
                return ctl_usage_error("audit verify", "--trusted-key wants a "
                                       "public key as 64 lowercase hex digits "
                                       "(at most %d)", AUDIT_TRUSTED_MAX);
            v.trusted[v.ntrusted++] = optarg;
            break;
        default:
            /* -h is 0; anything else is a usage error (never "breaks"). */
            return opt == -2 ? CTL_OK : CTL_USAGE;
        }
    }
    if (optind < argc)
        return ctl_usage_error("audit verify", "unexpected argument \"%s\"",
                               argv[optind]);
    if (nsel != 1)
        return ctl_usage_error("audit verify", "give exactly one of --upload "
                               "ID, --dataset ID, --all");
    if (id && !*id)
        return ctl_usage_error("audit verify", "empty ID");
    if (ctl_load_config(c) != CTL_OK)
        return CTL_USAGE;   /* 1 would read as "breaks found" */
    v.sink.report = print_break;
    v.sink.u = &v;
    if (!(v.seen = sl_fpset_new(AUDIT_SEEN_MAX))) {
        ctl_fail("out of memory");
        goto out;
    }
    if (!(v.pg = ctl_pg_connect(c)))
        goto out;
    if (begin_snapshot(v.pg) != SL_OK || have_reviews(v.pg, &reviews) != SL_OK ||
        verify_seals(&v, sel, id) != SL_OK)
        goto out;
    for (size_t k = 0; k < N_KINDS; k++) {
        if (kinds[k].is_review && !reviews)
            continue;
        if (verify_kind(&v, &kinds[k], sel, id) != SL_OK)
            goto out;
    }
    if (verify_orphans(&v, sel, id, reviews) != SL_OK || v.failed)
        goto out;
    if (ctl_pg_exec(v.pg, "audit verify: COMMIT", "COMMIT") != CTL_OK)
        goto out;
    if (sel == SEL_UPLOAD && v.owners[0] + v.owners[1] + v.owners[2] == 0)
        fprintf(stderr, "sluicectl: audit verify: no sample, review item or "
                "rejection has upload id \"%s\"\n", id);
    if (print_summary(&v) != CTL_OK || fflush(stdout) != 0)
        goto out;
    rc = v.sink.breaks ? CTL_FAIL : CTL_OK;
out:
    acc_free(&v.cur);
    seal_reset(&v);
    free(v.cur_heads);
    free(v.seals);
    sl_fpset_destroy(v.seen);
    PQfinish(v.pg);
    return rc;
}

/* ---- seal-unsealed ------------------------------------------------------ */

#define AUDIT_SEAL_BATCH     10000      /* heads per seal and transaction */
#define AUDIT_SEAL_BATCH_MAX 100000

static const char seal_unsealed_usage[] =
    "usage: sluicectl audit seal-unsealed [--dry-run] [--json] [--batch N]\n"
    "Seal the heads of chains stored before migration 010: every sample,\n"
    "review item and rejection with provenance events but no chain_heads row\n"
    "(which `audit verify` reports as head_missing).  Each such chain is first\n"
    "verified as `audit verify` does (recomputed hashes, links, columns,\n"
    "anchor); a chain that verifies gets its last event recorded as its head,\n"
    "and the heads are sealed with the operator's key\n"
    "(audit.operator.key.file, as `takedown add` does), one seal and one\n"
    "transaction per batch.  A chain that does not verify is refused: not\n"
    "sealed, its breaks printed as by `audit verify`, then one line naming it.\n"
    "Chains already sealed are left alone: running it again seals nothing new.\n"
    "Run it once after upgrading past migration 010.\n"
    "  --dry-run   verify and count, write nothing\n"
    "  --batch N   heads per seal (default " AUDIT_STR(AUDIT_SEAL_BATCH) ")\n"
    "  --json      one JSON object per line: each break as in `audit verify\n"
    "              --json`, {\"refused\": {owner_kind, owner_id, breaks}} per\n"
    "              refused chain, then {\"summary\": {sealed, refused,\n"
    "              already_sealed, changed, dry_run}}\n"
    "Exit status: 0 every unsealed chain sealed, 1 some refused, 2 usage,\n"
    "connection or query error.\n";

static void unsealed_clear(unsealed *us)
{
    for (size_t i = 0; i < us->n; i++) {
        free((char *)us->batch[i].id);
        free((char *)us->batch[i].hash);
    }
    us->n = 0;
}

/* Seals the batch in one transaction.  Under a lock that keeps other
 * writers of heads (commit, takedown) out, only the chains that still have
 * no head and still end at the verified event are sealed; the others
 * changed since the snapshot and are counted, not sealed. */
static int unsealed_flush(verifier *v)
{
    unsealed *us = v->us;
    sl_audit_headref *kept = NULL;
    PGresult *r = NULL;
    sl_err err = { "" };
    size_t nkept = 0;
    int rc = SL_ERR, in_txn = 0;

    if (us->n == 0)
        return SL_OK;
    if (!us->wpg) {                        /* --dry-run */
        us->sealed += us->n;
        unsealed_clear(us);
        return SL_OK;
    }
    if (!(kept = calloc(us->n, sizeof(*kept)))) {
        ctl_fail("audit seal-unsealed: out of memory");
        goto out;
    }
    if (ctl_pg_exec(us->wpg, "audit seal-unsealed: BEGIN", "BEGIN") != CTL_OK)
        goto out;
    in_txn = 1;
    if (sl_prov_pg_lock_heads(us->wpg, NULL, &err) != SL_OK ||
        sl_prov_pg_still_unsealed(us->wpg, us->batch, us->n, &r, NULL,
                                  &err) != SL_OK) {
        ctl_fail("audit seal-unsealed: %s", err.msg);
        goto out;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        long long at = strtoll(PQgetvalue(r, i, 0), NULL, 10);
        if (at >= 0 && (size_t)at < us->n)
            kept[nkept++] = us->batch[at];
    }
    if (nkept && ctl_seal_heads(us->c, us->wpg, "audit seal-unsealed", kept,
                                nkept) != CTL_OK)
        goto out;
    in_txn = 0;
    if (ctl_pg_exec(us->wpg, "audit seal-unsealed: COMMIT", "COMMIT") != CTL_OK)
        goto out;
    us->sealed += nkept;
    us->changed += us->n - nkept;
    unsealed_clear(us);
    rc = SL_OK;
out:
    if (in_txn)
        PQclear(PQexec(us->wpg, "ROLLBACK"));   /* best effort: the error is out */
    if (rc != SL_OK)
        v->failed = 1;
    PQclear(r);
    free(kept);
    return rc;
}

/* Takes a checked unsealed chain: refused (reported) when its check found
 * breaks, else its last event queued as its head. */
static int unsealed_take(verifier *v, const owner_acc *a, uint64_t breaks)
{
    unsealed *us = v->us;
    sl_audit_headref *h;

    if (a->n == 0)
        return SL_OK;
    if (breaks || a->too_large) {
        us->refused++;
        if (v->json) {
            json_t *o = json_pack("{s:{s:s, s:o, s:I}}", "refused",
                                  "owner_kind", a->k->kind,
                                  "owner_id", sl_json_text(a->id),
                                  "breaks", (json_int_t)breaks);
            if (!o)
                return SL_ENOMEM;
            return ctl_print_json(o) == CTL_OK ? SL_OK : SL_ERR;
        }
        {
            ctl_esc e = { 0 };
            printf("refused: %s %s: the chain does not verify (%" PRIu64
                   " break%s); not sealed\n", a->k->kind, ctl_e(&e, a->id),
                   breaks, breaks == 1 ? "" : "s");
            ctl_esc_free(&e);
        }
        return SL_OK;
    }
    h = &us->batch[us->n];
    *h = (sl_audit_headref){ a->k->kind, strdup(a->id), a->evs[a->n - 1].seq,
                             strdup(a->evs[a->n - 1].hash) };
    us->n++;   /* from here the strings are freed by unsealed_clear */
    if (!h->id || !h->hash)
        return SL_ENOMEM;
    return us->n == us->max ? unsealed_flush(v) : SL_OK;
}

static int audit_seal_unsealed(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG,
        { "dry-run", no_argument, NULL, 'n' },
        { "json", no_argument, NULL, 'j' },
        { "batch", required_argument, NULL, 'B' },
        { 0 }
    };
    verifier v = { 0 };
    unsealed us = { .c = c, .max = AUDIT_SEAL_BATCH };
    int64_t batch;
    int opt, dry = 0, reviews = 0, rc = CTL_USAGE;
    PGresult *r = NULL;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             "audit seal-unsealed", seal_unsealed_usage)) != -1) {
        switch (opt) {
        case 'n': dry = 1; break;
        case 'j': v.json = 1; break;
        case 'B':
            if (ctl_parse_int(optarg, 1, AUDIT_SEAL_BATCH_MAX, &batch) != SL_OK)
                return ctl_usage_error("audit seal-unsealed", "--batch wants "
                                       "1 to %d", AUDIT_SEAL_BATCH_MAX);
            us.max = (size_t)batch;
            break;
        default:
            return opt == -2 ? CTL_OK : CTL_USAGE;
        }
    }
    if (optind < argc)
        return ctl_usage_error("audit seal-unsealed", "unexpected argument "
                               "\"%s\"", argv[optind]);
    if (ctl_load_config(c) != CTL_OK)
        return CTL_USAGE;   /* 1 would read as "refused" */
    v.sink.report = print_break;
    v.sink.u = &v;
    v.us = &us;
    if (!(us.batch = calloc(us.max, sizeof(*us.batch)))) {
        ctl_fail("out of memory");
        goto out;
    }
    if (!(v.pg = ctl_pg_connect(c)) || (!dry && !(us.wpg = ctl_pg_connect(c))))
        goto out;
    if (begin_snapshot(v.pg) != SL_OK || have_reviews(v.pg, &reviews) != SL_OK)
        goto out;
    if (!(r = ctl_pg_query(v.pg, "audit seal-unsealed: counting sealed chains",
            "SELECT count(*) FROM (SELECT DISTINCT owner_kind, owner_id"
            " FROM chain_heads) x", 0, NULL, NULL, NULL)))
        goto out;
    us.already = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
    for (size_t k = 0; k < N_KINDS; k++) {
        if (kinds[k].is_review && !reviews)
            continue;
        if (verify_kind(&v, &kinds[k], SEL_UNSEALED, NULL) != SL_OK)
            goto out;
    }
    if (unsealed_flush(&v) != SL_OK || v.failed)
        goto out;
    if (ctl_pg_exec(v.pg, "audit seal-unsealed: COMMIT", "COMMIT") != CTL_OK)
        goto out;
    if (v.json) {
        if (ctl_print_json(json_pack("{s:{s:I, s:I, s:I, s:I, s:b}}", "summary",
                "sealed", (json_int_t)us.sealed, "refused", (json_int_t)us.refused,
                "already_sealed", (json_int_t)us.already,
                "changed", (json_int_t)us.changed, "dry_run", dry)) != CTL_OK)
            goto out;
    } else {
        printf("audit seal-unsealed: %" PRIu64 " chain%s %s, %" PRIu64
               " refused, %" PRIu64 " already sealed", us.sealed,
               us.sealed == 1 ? "" : "s", dry ? "would be sealed" : "sealed",
               us.refused, us.already);
        if (us.changed)
            printf(", %" PRIu64 " changed meanwhile (not sealed; run again)",
                   us.changed);
        printf("\n");
    }
    if (fflush(stdout) != 0)
        goto out;
    rc = us.refused ? CTL_FAIL : CTL_OK;
out:
    PQclear(r);
    unsealed_clear(&us);
    free(us.batch);
    acc_free(&v.cur);
    PQfinish(v.pg);
    PQfinish(us.wpg);
    return rc;
}

/* ---- show ------------------------------------------------------------------ */

/* A bytea value (text format, "\x..."): its bytes as a string when they
 * are UTF-8 text (rejections.meta, the metadata as received), else as
 * PostgreSQL printed it. */
static json_t *bytea_json(const char *s)
{
    size_t n = 0;
    unsigned char *raw = PQunescapeBytea((const unsigned char *)s, &n);
    json_t *v = NULL;

    if (raw && !memchr(raw, '\0', n))
        v = json_stringn((const char *)raw, n);   /* NULL unless UTF-8 */
    PQfreemem(raw);
    return v ? v : sl_json_text(s);
}

/* A database value as JSON, by its type: booleans, integers and JSON as
 * such, bytea as text when it is, everything else (timestamps, numerics)
 * as text. */
static json_t *pg_value_json(PGresult *r, int row, int col)
{
    const char *s = PQgetvalue(r, row, col);

    if (PQgetisnull(r, row, col))
        return json_null();
    switch (PQftype(r, col)) {
    case 16:                               /* bool */
        return json_boolean(strcmp(s, "t") == 0);
    case 20: case 21: case 23:             /* int8, int2, int4 */
        return json_integer(strtoll(s, NULL, 10));
    case 17:                               /* bytea */
        return bytea_json(s);
    case 114: case 3802: {                 /* json, jsonb */
        json_t *v = json_loads(s, JSON_DECODE_ANY, NULL);
        return v ? v : sl_json_text(s);
    }
    default:
        return sl_json_text(s);
    }
}

/* Row `row` of r as an object of its columns from `first` on. */
static json_t *pg_row_json(PGresult *r, int row, int first)
{
    json_t *o = json_object();

    for (int col = first; o && col < PQnfields(r); col++)
        if (json_object_set_new(o, PQfname(r, col),
                                pg_value_json(r, row, col)) != 0) {
            json_decref(o);
            return NULL;
        }
    return o;
}

/* Collects breaks into a JSON array. */
static void collect_break(void *u, const sl_audit_break *b)
{
    json_t *arr = u;
    json_t *o = json_object();

    if (!o ||
        json_object_set_new(o, "seq", b->seq ? json_integer(b->seq)
                                             : json_null()) ||
        json_object_set_new(o, "problem",
                            json_string(sl_audit_problem_name(b->problem))) ||
        json_object_set_new(o, "detail", sl_json_text(b->detail)) ||
        json_array_append_new(arr, o)) {
        json_decref(o);
    }
}

/* One event as shown: its fields read from the canonical text (or, when
 * that is not an event, the stored columns), hash and canonical text. */
static json_t *event_json(const sl_audit_event *e, const char *recorded_at)
{
    sl_prov_record rec;
    sl_err err;
    json_t *o;

    if (sl_prov_record_parse(e->canonical, strlen(e->canonical), &rec, &err)
        != SL_OK) {
        o = json_pack("{s:I, s:o, s:o, s:o, s:b, s:o}", "seq", (json_int_t)e->seq,
                      "stage", sl_json_text(e->stage), "outcome", sl_json_text(e->outcome),
                      "hash", sl_json_text(e->hash), "malformed", 1,
                      "canonical", sl_json_text(e->canonical));
    } else {
        o = json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
                      "s:o, s:o}",
                      "seq", (json_int_t)rec.seq,
                      "time", sl_json_text(rec.time),
                      "stage", sl_json_text(rec.stage),
                      "version", sl_json_text(rec.version),
                      "outcome", sl_json_text(rec.outcome),
                      "reason", sl_json_text(rec.reason),
                      "upload_id", sl_json_text(rec.upload_id),
                      "input_sha256", sl_json_text(rec.input_sha256),
                      "output_sha256", sl_json_text(rec.output_sha256),
                      "prev", sl_json_text(rec.prev),
                      "hash", sl_json_text(e->hash),
                      "canonical", sl_json_text(e->canonical));
        sl_prov_record_clear(&rec);
    }
    if (o && recorded_at &&
        json_object_set_new(o, "recorded_at", sl_json_text(recorded_at)) != 0) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

/* A candidate owner of the upload: its kind, id and row (NULL when the
 * events outlived it). */
typedef struct show_owner {
    const char *kind;
    const char *id;
    PGresult *res;              /* the row's result, borrowed */
    int row, first_col;         /* columns of the row from first_col on */
} show_owner;

/* A column's value in an owner's row, or NULL. */
static const char *row_value(const show_owner *so, const char *name)
{
    int col;

    if (!so->res || (col = PQfnumber(so->res, name)) < 0 ||
        PQgetisnull(so->res, so->row, col))
        return NULL;
    return PQgetvalue(so->res, so->row, col);
}

/* Builds {kind, owner_id, row, events, verified, breaks} for one owner. */
/* The owner's head and the verdict on its seal, for show (no keys pinned:
 * a registered key is believed).  *head is NULL-hashed when none is
 * stored; head_out gets the JSON (null when none).  SL_OK, or SL_ERR after
 * the error is printed. */
static int show_head(PGconn *pg, const char *kind, const char *id,
                     sl_audit_head *h, PGresult **keep, json_t **head_out)
{
    PGresult *r, *heads = NULL;
    sl_audit_headref *refs = NULL;
    sl_err err = { "" };
    int rc = SL_ERR;

    *head_out = json_null();
    memset(h, 0, sizeof(*h));
    if (sl_prov_pg_head(pg, kind, id, &r, NULL, &err) != SL_OK) {
        ctl_fail("audit show: %s", err.msg);
        return SL_ERR;
    }
    *keep = r;
    if (PQntuples(r) == 0)
        return SL_OK;
    h->seq = strtoll(PQgetvalue(r, 0, SL_PROV_PG_HEAD_SEQ), NULL, 10);
    h->hash = PQgetvalue(r, 0, SL_PROV_PG_HEAD_HASH);
    h->seal_id = strtoll(PQgetvalue(r, 0, SL_PROV_PG_HEAD_SEAL), NULL, 10);
    h->seal = SL_AUDIT_SEAL_BAD;
    if (!PQgetisnull(r, 0, SL_PROV_PG_HEAD_KEY)) {
        size_t n;
        if (sl_prov_pg_seal_heads(pg, PQgetvalue(r, 0, SL_PROV_PG_HEAD_SEAL),
                                  &refs, &n, &heads, NULL, &err) != SL_OK) {
            ctl_fail("audit show: %s", err.msg);
            goto out;
        }
        if (sl_audit_seal_verify(PQgetvalue(r, 0, SL_PROV_PG_HEAD_KEY),
                                 PQgetvalue(r, 0, SL_PROV_PG_HEAD_SIG),
                                 h->seal_id, refs, n) == SL_OK)
            h->seal = PQgetisnull(r, 0, SL_PROV_PG_HEAD_PURPOSE) ?
                      SL_AUDIT_SEAL_UNTRUSTED : SL_AUDIT_SEAL_OK;
    }
    json_decref(*head_out);
    *head_out = json_pack("{s:I, s:s, s:I, s:o, s:o, s:b}", "seq", (json_int_t)h->seq,
                          "hash", h->hash, "seal_id", (json_int_t)h->seal_id,
                          "key_id", PQgetisnull(r, 0, SL_PROV_PG_HEAD_KEY) ? json_null() :
                              sl_json_text(PQgetvalue(r, 0, SL_PROV_PG_HEAD_KEY)),
                          "key_purpose", PQgetisnull(r, 0, SL_PROV_PG_HEAD_PURPOSE) ?
                              json_null() :
                              sl_json_text(PQgetvalue(r, 0, SL_PROV_PG_HEAD_PURPOSE)),
                          "seal_verified", h->seal == SL_AUDIT_SEAL_OK);
    if (!*head_out) {
        ctl_fail("audit show: out of memory");
        goto out;
    }
    rc = SL_OK;
out:
    free(refs);
    PQclear(heads);
    return rc;
}

static json_t *owner_json(PGconn *pg, const show_owner *so, const char *upload)
{
    sl_err err = { "" };
    PGresult *r;
    sl_audit_event *evs = NULL;
    json_t *o = NULL, *events = json_array(), *breaks = json_array();
    sl_audit_sink sink = { collect_break, breaks, 0 };
    const char *sha = row_value(so, "sha256");
    const char *orig = row_value(so, "original_sha256");
    sl_audit_head head;
    PGresult *head_res = NULL;
    json_t *head_json = NULL;
    sl_audit_owner ow = {
        .kind = so->kind, .id = so->id,
        .upload_id = strcmp(so->kind, "rejection") == 0 ?
                     row_value(so, "upload_id") : upload,
        .origin_sha256 = orig ? orig : sha,
        .content_sha256 = sha,
        .origin_may_be_redacted = strcmp(so->kind, "sample") != 0,
    };
    int n;

    if (sl_prov_pg_events(pg, so->kind, so->id, &r, NULL, &err) != SL_OK) {
        ctl_fail("audit show: %s", err.msg);
        json_decref(events);
        json_decref(breaks);
        return NULL;
    }
    n = PQntuples(r);
    if (!events || !breaks || (n && !(evs = calloc((size_t)n, sizeof(*evs)))))
        goto out;
    for (int i = 0; i < n; i++) {
        evs[i] = sl_prov_pg_event_at(r, i);
        if (json_array_append_new(events, event_json(&evs[i],
                PQgetvalue(r, i, SL_PROV_PG_RECORDED))))
            goto out;
    }
    if (show_head(pg, so->kind, so->id, &head, &head_res, &head_json) != SL_OK) {
        json_decref(events);
        json_decref(breaks);
        events = breaks = NULL;
        goto fail;
    }
    if (so->res) {
        if (sl_audit_owner_check(&sink, &ow, evs, (size_t)n) != SL_OK ||
            sl_audit_head_check(&sink, &ow, evs, (size_t)n,
                                head.hash ? &head : NULL) != SL_OK)
            goto out;
    } else {
        sl_audit_report(&sink, so->kind, so->id, 0, SL_AUDIT_ORPHAN_EVENTS,
                        "%d provenance events belong to a %s that does not "
                        "exist", n, so->kind);
    }
    o = json_pack("{s:s, s:o, s:o, s:O, s:O, s:b, s:O}", "kind", so->kind,
                  "owner_id", sl_json_text(so->id),
                  "row", so->res ? pg_row_json(so->res, so->row, so->first_col)
                                 : json_null(),
                  "events", events, "head", head_json, "verified", sink.breaks == 0,
                  "breaks", breaks);
out:
    if (!o)
        ctl_fail("audit show: out of memory");
fail:
    free(evs);
    PQclear(r);
    PQclear(head_res);
    json_decref(head_json);
    json_decref(events);
    json_decref(breaks);
    return o;
}

/* Gathers the upload's owners: sample, review item, rejections, and any
 * sample / review events left without their row.  NULL after printing the
 * error. */
static json_t *show_doc(PGconn *pg, const char *upload, int reviews)
{
    const char *params[1] = { upload };
    PGresult *rs = NULL, *rv = NULL, *rj = NULL, *ro = NULL;
    json_t *doc = NULL, *owners = json_array();
    show_owner list[AUDIT_SHOW_MAX_OWNERS];
    size_t n = 0;

    if (!owners)
        goto oom;
    if (!(rs = ctl_pg_query(pg, "audit show: reading samples",
            "SELECT * FROM samples WHERE upload_id = $1", 1, params, NULL, NULL)))
        goto out;
    if (reviews && !(rv = ctl_pg_query(pg, "audit show: reading review_items",
            "SELECT * FROM review_items WHERE upload_id = $1", 1, params,
            NULL, NULL)))
        goto out;
    if (!(rj = ctl_pg_query(pg, "audit show: reading rejections",
            "SELECT r.source_topic || '/' || r.source_partition || '/' ||"
            " r.source_offset AS audit_owner_id, r.* FROM rejections r"
            " WHERE r.upload_id = $1 ORDER BY r.rejection_id", 1, params,
            NULL, NULL)))
        goto out;
    if (!(ro = ctl_pg_query(pg, "audit show: reading provenance events",
            "SELECT DISTINCT owner_kind FROM provenance_events"
            " WHERE owner_kind IN ('sample', 'review') AND owner_id = $1"
            " ORDER BY owner_kind", 1, params, NULL, NULL)))
        goto out;
    if (PQntuples(rs))
        list[n++] = (show_owner){ "sample", upload, rs, 0, 0 };
    if (rv && PQntuples(rv))
        list[n++] = (show_owner){ "review", upload, rv, 0, 0 };
    for (int i = 0; i < PQntuples(ro); i++) {
        const char *k = PQgetvalue(ro, i, 0);
        if (strcmp(k, "sample") == 0 && !PQntuples(rs))
            list[n++] = (show_owner){ "sample", upload, NULL, 0, 0 };
        else if (strcmp(k, "review") == 0 && !(rv && PQntuples(rv)))
            list[n++] = (show_owner){ "review", upload, NULL, 0, 0 };
    }
    for (int i = 0; i < PQntuples(rj); i++) {
        if (n == AUDIT_SHOW_MAX_OWNERS) {
            fprintf(stderr, "sluicectl: audit show: upload \"%s\" has %d "
                    "rejections; showing the first %d\n", upload,
                    PQntuples(rj), i);
            break;
        }
        list[n++] = (show_owner){ "rejection", PQgetvalue(rj, i, 0), rj, i, 1 };
    }
    for (size_t i = 0; i < n; i++) {
        json_t *o = owner_json(pg, &list[i], upload);
        if (!o)
            goto out;
        if (json_array_append_new(owners, o))
            goto oom;
    }
    if (!(doc = json_pack("{s:o, s:O}", "upload_id", sl_json_text(upload),
                          "owners", owners)))
        goto oom;
    goto out;
oom:
    ctl_fail("audit show: out of memory");
out:
    json_decref(owners);
    PQclear(rs);
    PQclear(rv);
    PQclear(rj);
    PQclear(ro);
    return doc;
}

/* "2cf24dba5fb0" from a 64-digit hash; "-" for none. */
static const char *abbrev(const json_t *v, char out[16])
{
    const char *s = json_string_value(v);

    if (!s)
        return "-";
    snprintf(out, 16, "%.12s", s);
    return out;
}

/* The row's columns, one per line; long values cut. */
static void print_row(const json_t *row)
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)row, key, v) {
        char *text = json_is_string(v) ? NULL :
                     json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        const char *s = json_is_string(v) ? json_string_value(v) :
                        json_is_null(v) ? "-" : text ? text : "?";
        size_t len = strlen(s);
        ctl_esc e = { 0 };
        const char *x = ctl_e(&e, s);
        /* escaped text is printable ASCII and UTF-8: cutting it is safe */
        if (strlen(x) > 100) {
            printf("  %-20s %.72s... (%zu bytes)\n", ctl_e(&e, key), x, len);
        } else {
            printf("  %-20s %s\n", ctl_e(&e, key), x);
        }
        ctl_esc_free(&e);
        free(text);
    }
}

static int print_show(const json_t *doc)
{
    static const char *const headers[] = {
        ">SEQ", "TIME", "STAGE", "VERSION", "OUTCOME", "REASON",
        "INPUT -> OUTPUT", "HASH"
    };
    const json_t *owner;
    size_t i;
    ctl_esc e = { 0 };

    printf("upload %s\n", ctl_e(&e, json_string_value(json_object_get(doc, "upload_id"))));
    json_array_foreach(json_object_get(doc, "owners"), i, owner) {
        const json_t *row = json_object_get(owner, "row");
        const json_t *events = json_object_get(owner, "events");
        const json_t *breaks = json_object_get(owner, "breaks");
        const json_t *ev, *b;
        ctl_table *t = ctl_table_new(8, headers);
        size_t j;

        if (!t) {
            ctl_esc_free(&e);
            return ctl_fail("out of memory");
        }
        printf("\n%s %s%s\n", ctl_e(&e, json_string_value(json_object_get(owner, "kind"))),
               ctl_e(&e, json_string_value(json_object_get(owner, "owner_id"))),
               json_is_null(row) ? " (row missing)" : "");
        if (!json_is_null(row))
            print_row(row);
        json_array_foreach(events, j, ev) {
            char seq[32], in[16], outh[16], io[40];
            int bad = json_is_true(json_object_get(ev, "malformed"));
            snprintf(seq, sizeof(seq), "%" JSON_INTEGER_FORMAT,
                     json_integer_value(json_object_get(ev, "seq")));
            snprintf(io, sizeof(io), "%s -> %s",
                     abbrev(json_object_get(ev, "input_sha256"), in),
                     abbrev(json_object_get(ev, "output_sha256"), outh));
            const char *cells[8] = {
                seq, bad ? "(malformed)" :
                     json_string_value(json_object_get(ev, "time")),
                json_string_value(json_object_get(ev, "stage")),
                json_string_value(json_object_get(ev, "version")),
                json_string_value(json_object_get(ev, "outcome")),
                json_string_value(json_object_get(ev, "reason")),
                bad ? "-" : io,
                json_string_value(json_object_get(ev, "hash")),
            };
            if (ctl_table_add(t, cells) != SL_OK) {
                ctl_table_destroy(t);
                ctl_esc_free(&e);
                return ctl_fail("out of memory");
            }
        }
        if (ctl_table_rows(t)) {
            printf("  events\n");
            ctl_table_print(t, stdout, "    ");
        } else {
            printf("  no provenance events\n");
        }
        ctl_table_destroy(t);
        {
            const json_t *h = json_object_get(owner, "head");
            const char *purpose = json_string_value(json_object_get(h, "key_purpose"));
            if (json_is_object(h))
                printf("  head: seq %" JSON_INTEGER_FORMAT ", seal %" JSON_INTEGER_FORMAT
                       " by the %s key: %s\n",
                       json_integer_value(json_object_get(h, "seq")),
                       json_integer_value(json_object_get(h, "seal_id")),
                       purpose ? purpose : "unregistered",
                       json_is_true(json_object_get(h, "seal_verified"))
                           ? "signature verified" : "signature NOT verified");
            else
                printf("  head: none signed\n");
        }
        if (json_array_size(breaks) == 0) {
            printf("  chain verified: %zu events\n", json_array_size(events));
            continue;
        }
        printf("  chain BROKEN: %zu break%s\n", json_array_size(breaks),
               json_array_size(breaks) == 1 ? "" : "s");
        json_array_foreach(breaks, j, b) {
            const json_t *seq = json_object_get(b, "seq");
            if (json_is_integer(seq))
                printf("    seq %" JSON_INTEGER_FORMAT ": ", json_integer_value(seq));
            else
                printf("    ");
            printf("%s: %s\n", ctl_e(&e, json_string_value(json_object_get(b, "problem"))),
                   ctl_e(&e, json_string_value(json_object_get(b, "detail"))));
        }
    }
    ctl_esc_free(&e);
    return CTL_OK;
}

static int audit_show(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG,
        { "upload", required_argument, NULL, 'U' },
        { "json", no_argument, NULL, 'j' },
        { 0 }
    };
    const char *upload = NULL;
    PGconn *pg = NULL;
    json_t *doc = NULL;
    int opt, json = 0, reviews = 0, rc;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             "audit show", show_usage)) != -1) {
        switch (opt) {
        case 'U': upload = optarg; break;
        case 'j': json = 1; break;
        default: return ctl_getopt_exit(opt);
        }
    }
    if (optind < argc)
        return ctl_usage_error("audit show", "unexpected argument \"%s\"",
                               argv[optind]);
    if (!upload || !*upload)
        return ctl_usage_error("audit show", "missing --upload ID");
    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    rc = CTL_FAIL;
    if (!(pg = ctl_pg_connect(c)))
        goto out;
    if (begin_snapshot(pg) != SL_OK || have_reviews(pg, &reviews) != SL_OK)
        goto out;
    if (!(doc = show_doc(pg, upload, reviews)))
        goto out;
    if (json_array_size(json_object_get(doc, "owners")) == 0) {
        rc = ctl_fail("audit show: no sample, review item, rejection or "
                      "provenance event has upload id \"%s\"", upload);
        goto out;
    }
    if (json) {
        rc = ctl_print_json(doc);
        doc = NULL;
    } else {
        rc = print_show(doc);
    }
out:
    json_decref(doc);
    if (pg)
        PQclear(PQexec(pg, "ROLLBACK"));   /* read only: nothing to keep */
    PQfinish(pg);
    return rc;
}

int ctl_cmd_audit(ctl *c, int argc, char **argv)
{
    static const ctl_cmd subs[] = {
        { "verify", audit_verify, "recompute stored provenance chains, report breaks" },
        { "show", audit_show, "one upload's whole history" },
        { "seal-unsealed", audit_seal_unsealed,
          "verify and seal chains stored before migration 010" },
        { NULL, NULL, NULL }
    };

    return ctl_dispatch(c, "audit", subs, argc, argv, audit_usage);
}
