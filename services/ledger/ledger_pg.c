/*
 * ledger_pg.c -- sluice-ledger's poster: usage events and withdrawals into
 * transfers, one transaction per batch (ledger.h states the contract: the
 * clock lock, the order, the gaps, exactly once).
 *
 * A batch is a handful of round trips whatever its size: the clock, the
 * events, the accounts (one INSERT from arrays), the transfers (one
 * INSERT ... SELECT from unnest'ed arrays, joined to their accounts), the
 * accounts' totals (one UPDATE from the batch's transfers, by seq range,
 * so the totals are by construction the sum of what was inserted), the
 * postings, the clock again, COMMIT.  The legs themselves come from
 * sl_ledger_logic.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl/log.h"
#include "ledger.h"
#include "ledger_logic.h"

#define LOG "ledger"
/* Cap of one array parameter (a batch of 5,000 events is < 2 MiB). */
#define ARRAY_MAX ((size_t)256 << 20)
/* Skipped ranges of usage ids remembered for rescans, and ids per rescan. */
#define SKIP_MAX 1024
#define SKIP_IDS_MAX 100000

#define FETCH_COLS                                                              \
    "SELECT u.usage_id, u.consumer_id, u.creator_id, u.currency, u.price_micros," \
    " d.fee_bps, w.policy, fc.seq, pg_snapshot_xmin(s.snap)::text,"                     \
    " pg_snapshot_xmax(s.snap)::text"                                           \
    " FROM usage_events u"                                                      \
    " CROSS JOIN (SELECT pg_current_snapshot() AS snap) s"                      \
    " LEFT JOIN datasets d ON d.dataset_id = u.dataset_id"                      \
    " LEFT JOIN feed_changes fc ON fc.upload_id = u.upload_id"                  \
    " LEFT JOIN ledger_withdrawals w ON w.change_seq = fc.seq"
#define UNPOSTED \
    " AND NOT EXISTS (SELECT 1 FROM ledger_postings p WHERE p.usage_id = u.usage_id)"
/* The same, the postings' side bounded too, so a merge anti-join starts at
 * $1 instead of reading every posting so far on each batch. */
#define UNPOSTED_FROM \
    " AND NOT EXISTS (SELECT 1 FROM ledger_postings p WHERE p.usage_id = u.usage_id" \
    "                  AND p.usage_id >= $1)"

enum { F_ID, F_CONSUMER, F_CREATOR, F_CURRENCY, F_PRICE, F_FEE_BPS, F_POLICY,
       F_CHANGE, F_XMIN, F_XMAX };

const sl_pg_stmt lg_stmts[] = {
    { "lg_clock", "SELECT next_seq FROM ledger_clock FOR UPDATE", 0 },
    { "lg_clock_set", "UPDATE ledger_clock SET next_seq = $1", 1 },
    { "lg_last", "SELECT coalesce(max(usage_id), 0) FROM ledger_postings", 0 },
    { "lg_fetch_range", FETCH_COLS " WHERE u.usage_id >= $1 AND u.usage_id < $2"
      UNPOSTED_FROM " ORDER BY u.usage_id LIMIT $3", 3 },
    { "lg_fetch_ids", FETCH_COLS " WHERE u.usage_id = ANY($1::bigint[])"
      UNPOSTED " ORDER BY u.usage_id LIMIT $2", 2 },
    { "lg_accounts",
      "INSERT INTO ledger_accounts (currency, kind, holder, allow_negative)"
      " SELECT DISTINCT a.c, a.k, a.h, a.n"
      " FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[]) AS a(c, k, h, n)"
      " WHERE NOT EXISTS (SELECT 1 FROM ledger_accounts x"
      "                    WHERE x.currency = a.c AND x.kind = a.k AND x.holder = a.h)"
      " ORDER BY 1, 2, 3 ON CONFLICT (currency, kind, holder) DO NOTHING", 4 },
    { "lg_transfers",
      "INSERT INTO ledger_transfers (seq, transfer_id, link_id, currency, debit_account,"
      " credit_account, amount, kind, reverses, usage_id)"
      " SELECT $1::bigint + t.o - 1, t.id, t.link, t.c, da.account_id, ca.account_id,"
      " t.amount, t.kind, NULLIF(t.rev, ''), t.usage_id"
      " FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],"
      "             $8::text[], $9::bigint[], $10::text[], $11::text[], $12::bigint[])"
      "      WITH ORDINALITY AS t(id, link, c, dk, dh, ck, ch, amount, kind, rev, usage_id, o)"
      " JOIN ledger_accounts da ON da.currency = t.c AND da.kind = t.dk AND da.holder = t.dh"
      " JOIN ledger_accounts ca ON ca.currency = t.c AND ca.kind = t.ck AND ca.holder = t.ch",
      12 },
    { "lg_totals",
      "UPDATE ledger_accounts a SET debits_posted = a.debits_posted + d.dr,"
      " credits_posted = a.credits_posted + d.cr"
      " FROM (SELECT x.acct, sum(x.dr) AS dr, sum(x.cr) AS cr FROM ("
      "   SELECT debit_account AS acct, amount AS dr, 0::bigint AS cr FROM ledger_transfers"
      "    WHERE seq >= $1 AND seq < $2 AND NOT pending"
      "   UNION ALL SELECT credit_account, 0::bigint, amount FROM ledger_transfers"
      "    WHERE seq >= $1 AND seq < $2 AND NOT pending) x GROUP BY x.acct) d"
      " WHERE a.account_id = d.acct", 2 },
    { "lg_postings",
      "INSERT INTO ledger_postings (usage_id, link_id)"
      " SELECT * FROM unnest($1::bigint[], $2::text[])", 2 },
    { "lg_changes",
      "SELECT fc.seq, coalesce(d.withdrawal_policy, 'kept') FROM feed_changes fc"
      " LEFT JOIN datasets d ON d.dataset_id = fc.dataset_id"
      " WHERE NOT EXISTS (SELECT 1 FROM ledger_withdrawals w WHERE w.change_seq = fc.seq)"
      " ORDER BY fc.seq LIMIT $1", 1 },
    { "lg_change_legs",
      "SELECT fc.seq, u.usage_id, u.consumer_id, u.creator_id, u.currency, t.kind, t.amount"
      " FROM feed_changes fc JOIN usage_events u ON u.upload_id = fc.upload_id"
      " JOIN ledger_transfers t ON t.usage_id = u.usage_id"
      "  AND t.kind IN ('charge', 'fee', 'rounding')"
      " WHERE fc.seq = ANY($1::bigint[]) ORDER BY fc.seq, u.usage_id, t.seq", 1 },
    { "lg_withdrawals",
      "INSERT INTO ledger_withdrawals (change_seq, policy, link_id)"
      " SELECT x.c, x.p, NULLIF(x.l, '')"
      " FROM unnest($1::bigint[], $2::text[], $3::text[]) AS x(c, p, l)", 3 },
};
const size_t lg_n_stmts = sizeof lg_stmts / sizeof lg_stmts[0];

/* JIT is off on every connection (pgconn.c's session settings: under
 * enable_seqscan = off a plan that must scan the one-row ledger_clock
 * costs 10^10, and compiling it took 50-100 ms a batch).  Custom plans: from the sixth batch
 * on, the generic plan of lg_transfers (arrays of unknown length) was
 * chosen and took 5 s instead of 0.4 s for 15,000 legs (measured); a
 * batch's planning is well under a millisecond. */
int lg_on_connect(PGconn *c, void *arg, sl_err *err)
{
    (void)arg;
    return sl_pg_exec(c, "SET plan_cache_mode = force_custom_plan;"
                      " LISTEN sluice_usage; LISTEN sluice_feed", err);
}

/* A leg to insert, with what names its accounts (borrowed from a
 * PGresult or the batch's links, alive until the batch ends). */
typedef struct lg_leg {
    sl_ledger_leg l;
    int64_t usage_id;
    const char *consumer, *creator, *currency, *link;
} lg_leg;

/* The accounts known to exist, so a batch sends only new ones to
 * lg_accounts (open addressing, keys "currency\x1fkind\x1fholder").  An
 * entry added in the open transaction is pending (state 2) until commit;
 * a rollback empties the whole cache (rare, and always safe). */
#define ACACHE_MAX ((size_t)1 << 22)
typedef struct lg_acache {
    char **keys;
    unsigned char *state;       /* 0 empty, 1 committed, 2 pending */
    size_t cap, n;
} lg_acache;

typedef struct lg_skip {
    int64_t lo, hi;         /* usage ids [lo, hi) skipped */
    int64_t at;             /* when (monotonic ms) */
} lg_skip;

/* The array parameters of one batch. */
enum { A_CUR, A_KIND, A_HOLDER, A_NEG,                        /* accounts */
       A_ID, A_LINK, A_TCUR, A_DK, A_DH, A_CK, A_CH, A_AMOUNT, A_TKIND, A_REV, A_USAGE,
       A_PUSAGE, A_PLINK,                                     /* postings */
       A_N };

struct lg_poster {
    sl_pgconn *pc;
    lg_opts o;
    int64_t next;           /* every usage_id below is posted or skipped */
    int64_t catchup_hi;     /* > 1: the start-up scan of [1, catchup_hi) */
    int64_t gap_upto;       /* > 0: gaps below it were seen in a snapshot */
    int64_t gap_xmax;       /* ... whose xmax this was */
    int64_t gap_since;      /* ... at this time (monotonic ms) */
    lg_skip skip[SKIP_MAX];
    size_t n_skip, skip_head;   /* ring */
    int64_t rescan_at;
    lg_leg *legs;
    size_t cap_legs;
    char (*links)[SL_LEDGER_ID_MAX];      /* per event: its link, its change's */
    char (*clinks)[SL_LEDGER_ID_MAX];
    size_t cap_links;
    sl_buf a[A_N];
    lg_acache ac;
    sl_buf key;
};

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void acache_clear(lg_acache *c)
{
    for (size_t i = 0; i < c->cap; i++)
        free(c->keys[i]);
    free(c->keys);
    free(c->state);
    memset(c, 0, sizeof *c);
}

/* The slot of key: where it is, or the empty one where it would go. */
static size_t acache_slot(const lg_acache *c, const char *key)
{
    size_t i = (size_t)fnv1a(key) & (c->cap - 1);

    while (c->state[i] && strcmp(c->keys[i], key) != 0)
        i = (i + 1) & (c->cap - 1);
    return i;
}

/* 1 when key is known (committed or pending), else adds it as pending and
 * returns 0 (also when the cache is full or out of memory: the key is then
 * simply sent again, which is harmless). */
static int acache_check_add(lg_acache *c, const char *key)
{
    size_t i;

    if ((c->n + 1) * 2 > c->cap) {
        lg_acache g = { 0 };
        size_t ncap = c->cap ? c->cap * 2 : 1024;
        if (ncap > ACACHE_MAX ||
            !(g.keys = calloc(ncap, sizeof *g.keys)) || !(g.state = calloc(ncap, 1))) {
            free(g.keys);
            if (c->cap)
                return c->state[acache_slot(c, key)] != 0;
            return 0;
        }
        g.cap = ncap;
        for (size_t k = 0; k < c->cap; k++)
            if (c->state[k]) {
                size_t j = acache_slot(&g, c->keys[k]);
                g.keys[j] = c->keys[k];
                g.state[j] = c->state[k];
                g.n++;
            }
        free(c->keys);
        free(c->state);
        *c = g;
    }
    i = acache_slot(c, key);
    if (c->state[i])
        return 1;
    if (!(c->keys[i] = strdup(key)))
        return 0;
    c->state[i] = 2;
    c->n++;
    return 0;
}

static void acache_commit(lg_acache *c)
{
    for (size_t i = 0; i < c->cap; i++)
        if (c->state[i] == 2)
            c->state[i] = 1;
}

static int64_t to_i64(const char *s)
{
    return (int64_t)strtoll(s, NULL, 10);
}

/* Runs a prepared statement with the text parameters given. */
static int run(lg_poster *p, const char *name, int n, const char *const *v,
               PGresult **r, sl_err *err)
{
    return sl_pgconn_exec(p->pc, name, n, v, 0, r, err);
}

static int run_clear(lg_poster *p, const char *name, int n, const char *const *v,
                     sl_err *err)
{
    PGresult *r;
    int rc = run(p, name, n, v, &r, err);

    PQclear(r);
    return rc;
}

/* Ends the open transaction: COMMIT when ok, else ROLLBACK (a connection
 * the rollback cannot reach is dropped by sl_pgconn). */
static int tx_end(lg_poster *p, int ok, sl_err *err)
{
    PGresult *r = NULL;
    sl_err e2;
    int rc;

    if (ok) {
        rc = sl_pgconn_query(p->pc, "COMMIT", "COMMIT", 0, NULL, &r, err);
        PQclear(r);
        if (rc == SL_OK)
            acache_commit(&p->ac);
        else
            acache_clear(&p->ac);
        return rc;
    }
    acache_clear(&p->ac);
    if (sl_pgconn_query(p->pc, "ROLLBACK", "ROLLBACK", 0, NULL, &r, &e2) != SL_OK)
        sl_pgconn_drop(p->pc);
    PQclear(r);
    return SL_OK;
}

/* BEGIN and the clock's row lock: *seq is the next seq to use. */
static int tx_begin(lg_poster *p, int64_t *seq, sl_err *err)
{
    PGresult *r = NULL;
    int rc = sl_pgconn_query(p->pc, "BEGIN", "BEGIN", 0, NULL, &r, err);

    PQclear(r);
    if (rc != SL_OK)
        return rc;
    if ((rc = run(p, "lg_clock", 0, NULL, &r, err)) != SL_OK) {
        tx_end(p, 0, err);
        return rc;
    }
    if (PQntuples(r) != 1) {
        sl_err_set(err, "ledger_clock has no row (sluicectl db migrate?)");
        PQclear(r);
        tx_end(p, 0, err);
        return SL_ERR;
    }
    *seq = to_i64(PQgetvalue(r, 0, 0));
    PQclear(r);
    return SL_OK;
}

static int grow_legs(lg_poster *p, size_t need)
{
    lg_leg *n;

    if (need <= p->cap_legs)
        return SL_OK;
    if (!(n = realloc(p->legs, need * sizeof *n)))
        return SL_ENOMEM;
    p->legs = n;
    p->cap_legs = need;
    return SL_OK;
}

static int grow_links(lg_poster *p, size_t need)
{
    char (*n)[SL_LEDGER_ID_MAX];

    if (need <= p->cap_links)
        return SL_OK;
    if (!(n = realloc(p->links, need * sizeof *n)))
        return SL_ENOMEM;
    p->links = n;
    if (!(n = realloc(p->clinks, need * sizeof *n)))
        return SL_ENOMEM;
    p->clinks = n;
    p->cap_links = need;
    return SL_OK;
}

static const char *holder(const lg_leg *g, sl_ledger_acct a)
{
    return a == SL_ACCT_CONSUMER ? g->consumer : a == SL_ACCT_CREATOR ? g->creator : "";
}

static int add_int(sl_buf *b, int64_t v)
{
    return sl_buf_appendf(b, "%c%" PRId64, b->len ? ',' : '{', v);
}

/* Adds the account to the batch's lg_accounts arrays unless known. */
static int add_account(lg_poster *p, const char *cur, sl_ledger_acct a, const char *h)
{
    int rc;

    sl_buf_reset(&p->key);
    if (sl_buf_appendf(&p->key, "%s\x1f%s\x1f%s", cur, sl_ledger_acct_name(a), h) == SL_OK &&
        sl_buf_cstr(&p->key) == SL_OK && acache_check_add(&p->ac, (char *)p->key.data))
        return SL_OK;
    rc = sl_pg_array_add(&p->a[A_CUR], cur);

    if (rc == SL_OK) rc = sl_pg_array_add(&p->a[A_KIND], sl_ledger_acct_name(a));
    if (rc == SL_OK) rc = sl_pg_array_add(&p->a[A_HOLDER], h);
    if (rc == SL_OK)
        rc = sl_buf_appendf(&p->a[A_NEG], "%c%c", p->a[A_NEG].len ? ',' : '{',
                            sl_ledger_acct_allow_negative(a) ? 't' : 'f');
    return rc;
}

/* Inserts legs[0..n) with seqs seq0.. (their accounts ensured first) and
 * adds them to the accounts' totals, in the open transaction. */
static int insert_legs(lg_poster *p, const lg_leg *legs, size_t n, int64_t seq0,
                       sl_err *err)
{
    char s0[24], s1[24];
    const char *v[12];
    PGresult *r = NULL;
    int rc = SL_OK;
    size_t i;

    for (i = A_CUR; i <= A_USAGE; i++)
        sl_buf_reset(&p->a[i]);
    for (i = 0; i < n && rc == SL_OK; i++) {
        const lg_leg *g = &legs[i];
        rc = add_account(p, g->currency, g->l.debit, holder(g, g->l.debit));
        if (rc == SL_OK) rc = add_account(p, g->currency, g->l.credit, holder(g, g->l.credit));
        if (rc == SL_OK) rc = sl_pg_array_add(&p->a[A_ID], g->l.transfer_id);
        if (rc == SL_OK) rc = sl_pg_array_add(&p->a[A_LINK], g->link);
        if (rc == SL_OK) rc = sl_pg_array_add(&p->a[A_TCUR], g->currency);
        if (rc == SL_OK) rc = sl_pg_array_add(&p->a[A_DK], sl_ledger_acct_name(g->l.debit));
        if (rc == SL_OK) rc = sl_pg_array_add(&p->a[A_DH], holder(g, g->l.debit));
        if (rc == SL_OK) rc = sl_pg_array_add(&p->a[A_CK], sl_ledger_acct_name(g->l.credit));
        if (rc == SL_OK) rc = sl_pg_array_add(&p->a[A_CH], holder(g, g->l.credit));
        if (rc == SL_OK) rc = add_int(&p->a[A_AMOUNT], g->l.amount);
        if (rc == SL_OK) rc = sl_pg_array_add(&p->a[A_TKIND], sl_ledger_kind_name(g->l.kind));
        if (rc == SL_OK) rc = sl_pg_array_add(&p->a[A_REV], g->l.reverses);
        if (rc == SL_OK) rc = add_int(&p->a[A_USAGE], g->usage_id);
    }
    for (i = A_CUR; i <= A_USAGE && rc == SL_OK; i++)
        rc = sl_pg_array_close(&p->a[i]);
    if (rc != SL_OK) {
        sl_err_set(err, "building the batch: %s", sl_strerror(rc));
        return SL_ERR;
    }
    for (i = 0; i < 4; i++)
        v[i] = (const char *)p->a[A_CUR + i].data;
    if (strcmp(v[0], "{}") != 0 && (rc = run_clear(p, "lg_accounts", 4, v, err)) != SL_OK)
        return rc;
    snprintf(s0, sizeof s0, "%" PRId64, seq0);
    v[0] = s0;
    for (i = 0; i < 11; i++)
        v[1 + i] = (const char *)p->a[A_ID + i].data;
    if ((rc = run(p, "lg_transfers", 12, v, &r, err)) != SL_OK)
        return rc;
    if ((size_t)to_i64(PQcmdTuples(r)) != n) {
        sl_err_set(err, "inserted %s transfers of %zu: an account is missing",
                   PQcmdTuples(r), n);
        PQclear(r);
        return SL_ERR;
    }
    PQclear(r);
    snprintf(s1, sizeof s1, "%" PRId64, seq0 + (int64_t)n);
    v[0] = s0;
    v[1] = s1;
    return run_clear(p, "lg_totals", 2, v, err);
}

/* The legs of row i of a fetch, appended at p->legs + *n: the posting's in
 * link, and when the sample's withdrawal was applied before, the reversal
 * in that withdrawal's link clink (the same transfers a replay that
 * applies the withdrawal after the posting makes). */
static int row_legs(lg_poster *p, const PGresult *r, int i, const char *link,
                    char *clink, size_t *n, sl_err *err)
{
    int64_t id = to_i64(PQgetvalue(r, i, F_ID));
    int64_t price = to_i64(PQgetvalue(r, i, F_PRICE));
    int bps = PQgetisnull(r, i, F_FEE_BPS) ? p->o.fee_bps
                                           : (int)to_i64(PQgetvalue(r, i, F_FEE_BPS));
    sl_ledger_leg l[6];
    sl_ledger_split s;
    sl_ledger_policy pol = SL_POLICY_KEPT;
    size_t k, m, mp;

    if (sl_ledger_split_price(price, bps, &s) != SL_OK) {
        sl_err_set(err, "usage event %" PRId64 ": price %" PRId64 " at %d bps cannot be split",
                   id, price, bps);
        return SL_ERR;
    }
    if (!PQgetisnull(r, i, F_POLICY) &&
        sl_ledger_policy_parse(PQgetvalue(r, i, F_POLICY), &pol) != SL_OK) {
        sl_err_set(err, "usage event %" PRId64 ": unknown policy", id);
        return SL_ERR;
    }
    mp = sl_ledger_usage_legs(id, &s, l);
    m = mp + sl_ledger_reversal_legs(id, &s, pol, l + mp);
    if (pol != SL_POLICY_KEPT)
        sl_ledger_change_link(to_i64(PQgetvalue(r, i, F_CHANGE)), clink);
    if (pol != SL_POLICY_KEPT)
        sl_warn(LOG, "usage event %" PRId64 " posted after its sample's withdrawal: %s",
                id, sl_ledger_policy_name(pol));
    if (grow_legs(p, *n + m) != SL_OK) {
        sl_err_set(err, "out of memory");
        return SL_ENOMEM;
    }
    for (k = 0; k < m; k++) {
        lg_leg *g = &p->legs[(*n)++];
        g->l = l[k];
        g->usage_id = id;
        g->consumer = PQgetvalue(r, i, F_CONSUMER);
        g->creator = PQgetvalue(r, i, F_CREATOR);
        g->currency = PQgetvalue(r, i, F_CURRENCY);
        g->link = k < mp ? link : clink;
    }
    return SL_OK;
}

static void skip_add(lg_poster *p, int64_t lo, int64_t hi, int64_t now)
{
    size_t at = (p->skip_head + p->n_skip) % SKIP_MAX;

    if (p->n_skip == SKIP_MAX) {
        sl_warn(LOG, "more than %d skipped ranges: usage ids %" PRId64 "..%" PRId64
                " no longer rescanned", SKIP_MAX, p->skip[p->skip_head].lo,
                p->skip[p->skip_head].hi - 1);
        p->skip_head = (p->skip_head + 1) % SKIP_MAX;
        p->n_skip--;
        at = (p->skip_head + p->n_skip) % SKIP_MAX;
    }
    p->skip[at] = (lg_skip){ lo, hi, now };
    p->n_skip++;
    sl_debug(LOG, "skipped usage ids %" PRId64 "..%" PRId64, lo, hi - 1);
}

/* The ids of the skipped ranges still kept, as an array literal in
 * p->a[A_PUSAGE] (expired ranges dropped).  Returns how many. */
static size_t skip_ids(lg_poster *p, int64_t now)
{
    size_t i, count = 0;

    while (p->n_skip && now - p->skip[p->skip_head].at > p->o.gap_keep_ms) {
        p->skip_head = (p->skip_head + 1) % SKIP_MAX;
        p->n_skip--;
    }
    sl_buf_reset(&p->a[A_PUSAGE]);
    for (i = 0; i < p->n_skip && count < SKIP_IDS_MAX; i++) {
        const lg_skip *s = &p->skip[(p->skip_head + i) % SKIP_MAX];
        for (int64_t id = s->lo; id < s->hi && count < SKIP_IDS_MAX; id++, count++)
            if (add_int(&p->a[A_PUSAGE], id) != SL_OK)
                return 0;
    }
    return sl_pg_array_close(&p->a[A_PUSAGE]) == SL_OK ? count : 0;
}

typedef enum { M_NEXT, M_CATCHUP, M_RESCAN } lg_mode;

int lg_post_usage(lg_poster *p, int *posted, int *waiting, sl_err *err)
{
    int64_t now = sl_mono_ms(), seq0, expect, xmin, xmax, resolved_below = 0;
    int64_t new_next = 0, skips[256][2];
    size_t n_skips = 0, nlegs = 0, k;
    char sa[24], sb[24], sc[24];
    const char *v[3];
    PGresult *r = NULL;
    lg_mode mode = M_NEXT;
    int rc, i, nrows, take;

    *posted = 0;
    *waiting = 0;
    if (p->catchup_hi > 1)
        mode = M_CATCHUP;
    else if (p->n_skip && now >= p->rescan_at)
        mode = M_RESCAN;
    if ((rc = tx_begin(p, &seq0, err)) != SL_OK)
        return rc;
    snprintf(sc, sizeof sc, "%d", p->o.batch);
    if (mode == M_RESCAN) {
        if (skip_ids(p, now) == 0) {
            p->rescan_at = now + p->o.rescan_ms;
            return tx_end(p, 0, err);
        }
        v[0] = (const char *)p->a[A_PUSAGE].data;
        v[1] = sc;
        rc = run(p, "lg_fetch_ids", 2, v, &r, err);
    } else {
        snprintf(sa, sizeof sa, "%" PRId64, mode == M_CATCHUP ? 1 : p->next);
        snprintf(sb, sizeof sb, "%" PRId64, mode == M_CATCHUP ? p->catchup_hi : INT64_MAX);
        v[0] = sa;
        v[1] = sb;
        v[2] = sc;
        rc = run(p, "lg_fetch_range", 3, v, &r, err);
    }
    if (rc != SL_OK) {
        tx_end(p, 0, err);
        return rc;
    }
    nrows = PQntuples(r);
    take = nrows;
    if (mode == M_NEXT && nrows > 0) {
        /* Stop at a gap unless every transaction that could hold its ids
         * has ended since a snapshot showed it, or it is old enough. */
        xmin = to_i64(PQgetvalue(r, 0, F_XMIN));
        xmax = to_i64(PQgetvalue(r, 0, F_XMAX));
        if (p->gap_upto && (xmin >= p->gap_xmax || now - p->gap_since >= p->o.gap_wait_ms))
            resolved_below = p->gap_upto;
        expect = p->next;
        for (i = 0; i < nrows; i++) {
            int64_t id = to_i64(PQgetvalue(r, i, F_ID));
            if (id != expect) {
                if (id > resolved_below || n_skips == 256) {
                    take = i;
                    *waiting = 1;
                    if (id > p->gap_upto) {
                        p->gap_upto = to_i64(PQgetvalue(r, nrows - 1, F_ID));
                        p->gap_xmax = xmax;
                        p->gap_since = now;
                    }
                    break;
                }
                skips[n_skips][0] = expect;
                skips[n_skips][1] = id;
                n_skips++;
            }
            expect = id + 1;
        }
        if (take > 0)
            new_next = to_i64(PQgetvalue(r, take - 1, F_ID)) + 1;
    }
    if (take > 0 && grow_links(p, (size_t)take) != SL_OK) {
        sl_err_set(err, "out of memory");
        rc = SL_ENOMEM;
    }
    for (i = 0; i < take && rc == SL_OK; i++) {
        sl_ledger_usage_link(to_i64(PQgetvalue(r, i, F_ID)), p->links[i]);
        rc = row_legs(p, r, i, p->links[i], p->clinks[i], &nlegs, err);
    }
    if (rc == SL_OK && nlegs > 0)
        rc = insert_legs(p, p->legs, nlegs, seq0, err);
    if (rc == SL_OK && take > 0) {
        sl_buf_reset(&p->a[A_PUSAGE]);
        sl_buf_reset(&p->a[A_PLINK]);
        for (i = 0; i < take && rc == SL_OK; i++) {
            rc = add_int(&p->a[A_PUSAGE], to_i64(PQgetvalue(r, i, F_ID)));
            if (rc == SL_OK)
                rc = sl_pg_array_add(&p->a[A_PLINK], p->links[i]);
        }
        if (rc == SL_OK) rc = sl_pg_array_close(&p->a[A_PUSAGE]);
        if (rc == SL_OK) rc = sl_pg_array_close(&p->a[A_PLINK]);
        if (rc == SL_OK) {
            v[0] = (const char *)p->a[A_PUSAGE].data;
            v[1] = (const char *)p->a[A_PLINK].data;
            rc = run_clear(p, "lg_postings", 2, v, err);
        } else {
            sl_err_set(err, "building the postings: %s", sl_strerror(rc));
        }
    }
    if (rc == SL_OK && nlegs > 0) {
        snprintf(sa, sizeof sa, "%" PRId64, seq0 + (int64_t)nlegs);
        v[0] = sa;
        rc = run_clear(p, "lg_clock_set", 1, v, err);
    }
    if (rc == SL_OK && mode == M_RESCAN && take > 0)
        sl_warn(LOG, "posted %d usage events late, out of usage_id order (first %s)",
                take, PQgetvalue(r, 0, F_ID));
    PQclear(r);
    if (rc != SL_OK) {
        tx_end(p, 0, err);
        return rc;
    }
    if ((rc = tx_end(p, take > 0, err)) != SL_OK)
        return rc;
    /* Committed: only now does the position move. */
    *posted = take;
    if (mode == M_CATCHUP && nrows < p->o.batch)
        p->catchup_hi = 0;
    if (mode == M_RESCAN && nrows < p->o.batch)
        p->rescan_at = now + p->o.rescan_ms;
    if (mode == M_NEXT) {
        for (k = 0; k < n_skips; k++)
            skip_add(p, skips[k][0], skips[k][1], now);
        if (n_skips && !p->rescan_at)
            p->rescan_at = now + p->o.rescan_ms;
        if (new_next)
            p->next = new_next;
        if (p->gap_upto && p->next > p->gap_upto)
            p->gap_upto = 0;
    }
    return SL_OK;
}

int lg_apply_withdrawals(lg_poster *p, int *applied, sl_err *err)
{
    PGresult *ch = NULL, *r = NULL;
    char (*links)[SL_LEDGER_ID_MAX] = NULL;
    sl_buf seqs, pols, lks;
    char sa[24];
    const char *v[3];
    int64_t seq0;
    size_t nlegs = 0;
    int rc, i, j, n, nr;

    *applied = 0;
    sl_buf_init(&seqs, ARRAY_MAX);
    sl_buf_init(&pols, ARRAY_MAX);
    sl_buf_init(&lks, ARRAY_MAX);
    if ((rc = tx_begin(p, &seq0, err)) != SL_OK)
        goto out;
    snprintf(sa, sizeof sa, "%d", p->o.changes_batch);
    v[0] = sa;
    if ((rc = run(p, "lg_changes", 1, v, &ch, err)) != SL_OK)
        goto rollback;
    if ((n = PQntuples(ch)) == 0)
        goto rollback;
    if (!(links = calloc((size_t)n, sizeof *links))) {
        rc = SL_ENOMEM;
        sl_err_set(err, "out of memory");
        goto rollback;
    }
    /* The legs of every posted usage event of the samples whose policy
     * moves money. */
    for (i = 0; i < n && rc == SL_OK; i++)
        if (strcmp(PQgetvalue(ch, i, 1), "kept") != 0)
            rc = add_int(&seqs, to_i64(PQgetvalue(ch, i, 0)));
    if (rc == SL_OK)
        rc = sl_pg_array_close(&seqs);
    if (rc != SL_OK)
        goto rollback;
    v[0] = (const char *)seqs.data;
    if ((rc = run(p, "lg_change_legs", 1, v, &r, err)) != SL_OK)
        goto rollback;
    nr = PQntuples(r);
    for (i = 0, j = 0; i < nr && rc == SL_OK;) {
        int64_t seq = to_i64(PQgetvalue(r, i, 0)), uid = to_i64(PQgetvalue(r, i, 1));
        sl_ledger_split s = { 0, 0, 0 };
        sl_ledger_policy pol;
        sl_ledger_leg l[3];
        size_t m, k;
        int first = i;

        for (; i < nr && to_i64(PQgetvalue(r, i, 0)) == seq &&
               to_i64(PQgetvalue(r, i, 1)) == uid; i++) {
            const char *kind = PQgetvalue(r, i, 5);
            int64_t amount = to_i64(PQgetvalue(r, i, 6));
            if (strcmp(kind, "charge") == 0) s.net = amount;
            else if (strcmp(kind, "fee") == 0) s.fee = amount;
            else s.rounding = amount;
        }
        while (j < n && to_i64(PQgetvalue(ch, j, 0)) != seq)
            j++;
        if (j == n || sl_ledger_policy_parse(PQgetvalue(ch, j, 1), &pol) != SL_OK) {
            sl_err_set(err, "change %" PRId64 ": no policy", seq);
            rc = SL_ERR;
            break;
        }
        sl_ledger_change_link(seq, links[j]);
        m = sl_ledger_reversal_legs(uid, &s, pol, l);
        if (grow_legs(p, nlegs + m) != SL_OK) {
            sl_err_set(err, "out of memory");
            rc = SL_ENOMEM;
            break;
        }
        for (k = 0; k < m; k++) {
            lg_leg *g = &p->legs[nlegs++];
            g->l = l[k];
            g->usage_id = uid;
            g->consumer = PQgetvalue(r, first, 2);
            g->creator = PQgetvalue(r, first, 3);
            g->currency = PQgetvalue(r, first, 4);
            g->link = links[j];
        }
    }
    if (rc == SL_OK && nlegs > 0)
        rc = insert_legs(p, p->legs, nlegs, seq0, err);
    sl_buf_reset(&seqs);
    for (i = 0; i < n && rc == SL_OK; i++) {
        rc = add_int(&seqs, to_i64(PQgetvalue(ch, i, 0)));
        if (rc == SL_OK) rc = sl_pg_array_add(&pols, PQgetvalue(ch, i, 1));
        if (rc == SL_OK) rc = sl_pg_array_add(&lks, links[i]);
    }
    if (rc == SL_OK) rc = sl_pg_array_close(&seqs);
    if (rc == SL_OK) rc = sl_pg_array_close(&pols);
    if (rc == SL_OK) rc = sl_pg_array_close(&lks);
    if (rc == SL_OK) {
        v[0] = (const char *)seqs.data;
        v[1] = (const char *)pols.data;
        v[2] = (const char *)lks.data;
        rc = run_clear(p, "lg_withdrawals", 3, v, err);
    }
    if (rc == SL_OK && nlegs > 0) {
        snprintf(sa, sizeof sa, "%" PRId64, seq0 + (int64_t)nlegs);
        v[0] = sa;
        rc = run_clear(p, "lg_clock_set", 1, v, err);
    }
    if (rc != SL_OK)
        goto rollback;
    if ((rc = tx_end(p, 1, err)) == SL_OK) {
        *applied = n;
        sl_info(LOG, "applied %d withdrawals (%zu reversing transfers)", n, nlegs);
    }
    goto out;
rollback:
    tx_end(p, 0, err);
out:
    PQclear(ch);
    PQclear(r);
    free(links);
    sl_buf_free(&seqs);
    sl_buf_free(&pols);
    sl_buf_free(&lks);
    return rc;
}

int lg_poster_new(sl_pgconn *pc, const lg_opts *o, lg_poster **out, sl_err *err)
{
    lg_poster *p = calloc(1, sizeof *p);
    PGresult *r = NULL;
    int rc, i;

    *out = NULL;
    if (!p) {
        sl_err_set(err, "out of memory");
        return SL_ENOMEM;
    }
    p->pc = pc;
    p->o = *o;
    for (i = 0; i < A_N; i++)
        sl_buf_init(&p->a[i], ARRAY_MAX);
    sl_buf_init(&p->key, 4096);
    if ((rc = run(p, "lg_last", 0, NULL, &r, err)) != SL_OK) {
        lg_poster_destroy(p);
        return rc;
    }
    p->next = to_i64(PQgetvalue(r, 0, 0)) + 1;
    p->catchup_hi = p->next;
    PQclear(r);
    sl_info(LOG, "posting from usage event %" PRId64 " (a scan below it first)", p->next);
    *out = p;
    return SL_OK;
}

void lg_poster_destroy(lg_poster *p)
{
    int i;

    if (!p)
        return;
    for (i = 0; i < A_N; i++)
        sl_buf_free(&p->a[i]);
    free(p->legs);
    free(p->links);
    free(p->clinks);
    acache_clear(&p->ac);
    sl_buf_free(&p->key);
    free(p);
}
