/*
 * statement_pg.c -- a creator's statement and account balances read from
 * the ledger (statement_pg.h): the SQL of each independent reading, the
 * JSON built from it, and sl_stmt_check() proving the parts agree.
 */
#include <stdlib.h>
#include <string.h>

#include "sl/pg.h"
#include "statement.h"
#include "statement_pg.h"

/* A transfer's effect on account $A's posted balance: a pending transfer
 * (a payout not yet settled) and a void move nothing; a post moves the
 * pending amount.  The same rule as ledger_accounts' *_posted totals. */
#define EFFECT(a)                                                        \
    "(CASE WHEN t.pending OR t.kind = 'payout_void' THEN 0"              \
    " WHEN t.credit_account = " a " THEN t.amount ELSE -t.amount END)"
#define IN_MONTH(col)                                                    \
    "(" col " >= $3::timestamp AT TIME ZONE 'UTC'"                       \
    " AND " col " < $4::timestamp AT TIME ZONE 'UTC')"

static PGresult *q(PGconn *pg, const char *what, const char *sql, int n,
                   const char *const *vals, int *rc, sl_err *err)
{
    PGresult *r = PQexecParams(pg, sql, n, NULL, vals, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);

    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
        return r;
    *rc = sl_pg_fail(pg, r, what, err);
    PQclear(r);
    return NULL;
}

static int64_t i64(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0
                                     : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* Sets key to a new value; SL_ENOMEM when either is missing. */
static int set(json_t *o, const char *key, json_t *v)
{
    return v && json_object_set_new(o, key, v) == 0 ? SL_OK : SL_ENOMEM;
}

static int set_int(json_t *o, const char *key, int64_t v)
{
    return set(o, key, json_integer((json_int_t)v));
}

/* A json_agg() column as a JSON value (NULL: []). */
static int set_agg(json_t *o, const char *key, const PGresult *r, int row,
                   int col)
{
    if (PQgetisnull(r, row, col))
        return set(o, key, json_array());
    return set(o, key, json_loads(PQgetvalue(r, row, col), 0, NULL));
}

/* One statement line: its JSON object (appended to arr) and its numbers
 * (appended to lines). */
typedef struct stmt_lines {
    sl_stmt_line *v;
    size_t n, cap;
} stmt_lines;

static json_t *add_line(json_t *arr, stmt_lines *ls, const sl_stmt_line *l)
{
    json_t *o;

    if (ls->n == ls->cap) {
        size_t ncap = ls->cap ? 2 * ls->cap : 16;
        sl_stmt_line *p = realloc(ls->v, ncap * sizeof(*p));
        if (!p)
            return NULL;
        ls->v = p;
        ls->cap = ncap;
    }
    if (!(o = json_object()) || json_array_append_new(arr, o) != 0)
        return NULL;
    if (set(o, "type", json_string(sl_stmt_kind_name(l->kind))) != SL_OK)
        return NULL;
    ls->v[ls->n++] = *l;
    return o;
}

/* The creator's account in the currency: the currency chosen when none
 * was named, the account's id ("" when it has none yet) and totals. */
typedef struct stmt_account {
    char currency[4];
    char id[24];
    int64_t posted;
} stmt_account;

static int find_account(PGconn *pg, const char *creator, const char *currency,
                        stmt_account *a, sl_err *err)
{
    const char *vals[2] = { creator, currency };
    PGresult *r;
    int rc = SL_OK, row = -1;

    memset(a, 0, sizeof(*a));
    if (!(r = q(pg, "statement: creator", "SELECT 1 FROM creators WHERE creator_id = $1",
                1, vals, &rc, err)))
        return rc;
    if (PQntuples(r) == 0) {
        PQclear(r);
        sl_err_set(err, "no creator \"%s\"", creator);
        return SL_ENOTFOUND;
    }
    PQclear(r);
    if (!(r = q(pg, "statement: accounts",
                "SELECT currency, account_id, credits_posted - debits_posted"
                " FROM ledger_accounts WHERE kind = 'creator' AND holder = $1"
                " AND ($2::text IS NULL OR currency = $2) ORDER BY currency",
                2, vals, &rc, err)))
        return rc;
    if (PQntuples(r) > 1) {
        sl_err_set(err, "creator \"%s\" has accounts in %d currencies (%s, "
                   "%s%s): name one", creator, PQntuples(r), PQgetvalue(r, 0, 0),
                   PQgetvalue(r, 1, 0), PQntuples(r) > 2 ? ", ..." : "");
        PQclear(r);
        return SL_EINVAL;
    }
    if (PQntuples(r) == 1)
        row = 0;
    snprintf(a->currency, sizeof(a->currency), "%s",
             row == 0 ? PQgetvalue(r, 0, 0) : currency ? currency : "USD");
    if (row == 0) {
        snprintf(a->id, sizeof(a->id), "%s", PQgetvalue(r, 0, 1));
        a->posted = i64(r, 0, 2);
    }
    PQclear(r);
    return SL_OK;
}

/* Parameters of every reading: $1 creator, $2 currency, $3 / $4 the
 * month's bounds, $5 the account (NULL: none). */
static const char sql_balances[] =
    "SELECT coalesce(sum(" EFFECT("$5::bigint") ") FILTER"
    "   (WHERE t.posted_at < $3::timestamp AT TIME ZONE 'UTC'), 0),"
    " coalesce(sum(" EFFECT("$5::bigint") ") FILTER"
    "   (WHERE t.posted_at < $4::timestamp AT TIME ZONE 'UTC'), 0),"
    " coalesce(sum(t.amount) FILTER (WHERE t.kind = 'payout' AND t.pending"
    "   AND t.debit_account = $5::bigint"
    "   AND t.posted_at < $4::timestamp AT TIME ZONE 'UTC'"
    "   AND NOT EXISTS (SELECT 1 FROM ledger_transfers s"
    "     WHERE s.pending_id = t.transfer_id"
    "     AND s.posted_at < $4::timestamp AT TIME ZONE 'UTC')), 0),"
    " $4::timestamp AT TIME ZONE 'UTC' > now()"
    " FROM ledger_transfers t"
    " WHERE (t.debit_account = $5::bigint OR t.credit_account = $5::bigint)"
    " AND $1::text IS NOT NULL AND $2::text IS NOT NULL";

static const char sql_earnings[] =
    "SELECT u.dataset_id, count(*), count(DISTINCT u.consumer_id),"
    " sum(u.price_micros), coalesce(sum(x.fee), 0), coalesce(sum(x.rnd), 0),"
    " coalesce(sum(x.net), 0),"
    " json_agg(u.usage_id ORDER BY u.usage_id),"
    " json_agg(p.link_id ORDER BY u.usage_id)"
    " FROM ledger_postings p JOIN usage_events u ON u.usage_id = p.usage_id"
    " LEFT JOIN LATERAL (SELECT"
    "   sum(t.amount) FILTER (WHERE t.kind = 'fee') AS fee,"
    "   sum(t.amount) FILTER (WHERE t.kind = 'rounding') AS rnd,"
    "   sum(t.amount) FILTER (WHERE t.kind = 'charge'"
    "                         AND t.credit_account = $5::bigint) AS net"
    "   FROM ledger_transfers t WHERE t.usage_id = u.usage_id) x ON true"
    " WHERE u.creator_id = $1 AND u.currency = $2"
    " AND u.delivered_at < $4::timestamp AT TIME ZONE 'UTC'"
    " AND " IN_MONTH("p.posted_at")
    " GROUP BY u.dataset_id ORDER BY u.dataset_id";

static const char sql_clawbacks[] =
    "SELECT coalesce(u.dataset_id, ''), count(DISTINCT u.usage_id),"
    " sum(t.amount),"
    " json_agg(DISTINCT u.usage_id) FILTER (WHERE u.usage_id IS NOT NULL),"
    " json_agg(t.transfer_id ORDER BY t.seq)"
    " FROM ledger_transfers t"
    " LEFT JOIN ledger_transfers r ON r.transfer_id = t.reverses"
    " LEFT JOIN usage_events u ON u.usage_id = coalesce(t.usage_id, r.usage_id)"
    " WHERE t.debit_account = $5::bigint AND t.kind = 'clawback'"
    " AND NOT t.pending AND " IN_MONTH("t.posted_at")
    " AND $1::text IS NOT NULL AND $2::text IS NOT NULL"
    " GROUP BY u.dataset_id ORDER BY 1";

static const char sql_payouts[] =
    "SELECT coalesce(t.payout_id, o.payout_id),"
    " coalesce(to_char(p.month, 'YYYY-MM'), ''), p.reference, t.amount,"
    " json_build_array(t.transfer_id)"
    " FROM ledger_transfers t"
    " LEFT JOIN ledger_transfers o ON o.transfer_id = t.pending_id"
    " LEFT JOIN payouts p ON p.payout_id = coalesce(t.payout_id, o.payout_id)"
    " WHERE t.debit_account = $5::bigint AND t.kind = 'payout_post'"
    " AND " IN_MONTH("t.posted_at")
    " AND $1::text IS NOT NULL AND $2::text IS NOT NULL"
    " ORDER BY t.seq";

static const char sql_other[] =
    "SELECT t.kind, sum(" EFFECT("$5::bigint") "),"
    " json_agg(t.transfer_id ORDER BY t.seq)"
    " FROM ledger_transfers t"
    " WHERE (t.debit_account = $5::bigint OR t.credit_account = $5::bigint)"
    " AND " IN_MONTH("t.posted_at")
    " AND NOT (t.kind = 'charge' AND t.credit_account = $5::bigint)"
    " AND NOT (t.kind IN ('clawback', 'payout_post')"
    "          AND t.debit_account = $5::bigint)"
    " AND " EFFECT("$5::bigint") " <> 0"
    " AND $1::text IS NOT NULL AND $2::text IS NOT NULL"
    " GROUP BY t.kind ORDER BY t.kind";

/* The lines of every reading, in order: earnings, clawbacks, payouts,
 * other. */
static int read_lines(PGconn *pg, const char *const *vals, json_t *arr,
                      stmt_lines *ls, sl_err *err)
{
    PGresult *r = NULL;
    json_t *o;
    int rc = SL_OK;

    if (!(r = q(pg, "statement: earnings", sql_earnings, 5, vals, &rc, err)))
        return rc;
    for (int i = 0; i < PQntuples(r); i++) {
        sl_stmt_line l = { SL_STMT_EARNINGS, i64(r, i, 1), i64(r, i, 2),
                           i64(r, i, 3), i64(r, i, 4), i64(r, i, 5),
                           i64(r, i, 6) };
        if (!(o = add_line(arr, ls, &l)) ||
            set(o, "dataset_id", json_string(PQgetvalue(r, i, 0))) ||
            set_int(o, "samples", l.samples) ||
            set_int(o, "consumers", l.consumers) ||
            set_int(o, "gross_micros", l.gross) ||
            set_int(o, "fee_micros", l.fee) ||
            set_int(o, "rounding_micros", l.rounding) ||
            set_int(o, "net_micros", l.net) ||
            set_agg(o, "usage_ids", r, i, 7) || set_agg(o, "link_ids", r, i, 8))
            goto oom;
    }
    PQclear(r);
    if (!(r = q(pg, "statement: clawbacks", sql_clawbacks, 5, vals, &rc, err)))
        return rc;
    for (int i = 0; i < PQntuples(r); i++) {
        sl_stmt_line l = { SL_STMT_CLAWBACK, i64(r, i, 1), 0, 0, 0, 0,
                           -i64(r, i, 2) };
        if (!(o = add_line(arr, ls, &l)) ||
            set(o, "dataset_id", json_string(PQgetvalue(r, i, 0))) ||
            set_int(o, "samples", l.samples) || set_int(o, "net_micros", l.net) ||
            set_agg(o, "usage_ids", r, i, 3) || set_agg(o, "transfer_ids", r, i, 4))
            goto oom;
    }
    PQclear(r);
    if (!(r = q(pg, "statement: payouts", sql_payouts, 5, vals, &rc, err)))
        return rc;
    for (int i = 0; i < PQntuples(r); i++) {
        sl_stmt_line l = { SL_STMT_PAYOUT, 0, 0, 0, 0, 0, -i64(r, i, 3) };
        if (!(o = add_line(arr, ls, &l)) ||
            set_int(o, "payout_id", i64(r, i, 0)) ||
            set(o, "payout_month", json_string(PQgetvalue(r, i, 1))) ||
            set(o, "reference", PQgetisnull(r, i, 2) ? json_null()
                                : json_string(PQgetvalue(r, i, 2))) ||
            set_int(o, "net_micros", l.net) ||
            set_agg(o, "transfer_ids", r, i, 4))
            goto oom;
    }
    PQclear(r);
    if (!(r = q(pg, "statement: other transfers", sql_other, 5, vals, &rc, err)))
        return rc;
    for (int i = 0; i < PQntuples(r); i++) {
        sl_stmt_line l = { SL_STMT_OTHER, 0, 0, 0, 0, 0, i64(r, i, 1) };
        if (!(o = add_line(arr, ls, &l)) ||
            set(o, "kind", json_string(PQgetvalue(r, i, 0))) ||
            set_int(o, "net_micros", l.net) || set_agg(o, "transfer_ids", r, i, 2))
            goto oom;
    }
    PQclear(r);
    return SL_OK;
oom:
    PQclear(r);
    sl_err_set(err, "out of memory building the statement");
    return SL_ENOMEM;
}

static int build(PGconn *pg, const char *creator, const char *month,
                 const char *currency, json_t **out, sl_err *err)
{
    char start[SL_DATE_MAX], end[SL_DATE_MAX];
    stmt_account a;
    stmt_lines ls = { 0 };
    sl_stmt_totals t;
    PGresult *r = NULL;
    json_t *o = NULL, *lines, *tot;
    int64_t opening, closing, pending;
    int rc, y, m, current;

    if (sl_month_parse(month, &y, &m) != SL_OK) {
        sl_err_set(err, "month \"%s\" is not YYYY-MM (2000-01 or later)", month);
        return SL_EINVAL;
    }
    sl_month_bounds(y, m, start, end);
    if ((rc = find_account(pg, creator, currency, &a, err)) != SL_OK)
        return rc;
    {
        const char *vals[5] = { creator, a.currency, start, end,
                                a.id[0] ? a.id : NULL };
        if (!(r = q(pg, "statement: balances", sql_balances, 5, vals, &rc, err)))
            return rc;
        opening = i64(r, 0, 0);
        closing = i64(r, 0, 1);
        pending = i64(r, 0, 2);
        current = PQgetvalue(r, 0, 3)[0] == 't';
        PQclear(r);
        if (!(o = json_object()) || !(lines = json_array()) ||
            set(o, "creator_id", json_string(creator)) ||
            set(o, "currency", json_string(a.currency)) ||
            set(o, "month", json_string(month)) ||
            set(o, "from", json_sprintf("%sT00:00:00Z", start)) ||
            set(o, "to", json_sprintf("%sT00:00:00Z", end)) ||
            set_int(o, "opening_micros", opening) || set(o, "lines", lines))
            goto oom;
        if ((rc = read_lines(pg, vals, lines, &ls, err)) != SL_OK)
            goto out;
    }
    if ((rc = sl_stmt_check(opening, ls.v, ls.n, closing, &t, err)) != SL_OK) {
        char detail[SL_ERRBUF_SIZE];
        snprintf(detail, sizeof(detail), "%s", err->msg);
        sl_err_set(err, "the statement of creator %s for %s (%s) does not "
                   "balance: %s", creator, month, a.currency, detail);
        rc = SL_ERR;
        goto out;
    }
    if (current && a.id[0] && closing != a.posted) {
        sl_err_set(err, "the statement of creator %s for %s (%s) does not "
                   "balance: its transfers sum to %lld, the account's "
                   "totals to %lld", creator, month, a.currency,
                   (long long)closing, (long long)a.posted);
        rc = SL_ERR;
        goto out;
    }
    if (!(tot = json_object()) || set(o, "totals", tot) ||
        set_int(tot, "samples", t.samples) ||
        set_int(tot, "gross_micros", t.gross) ||
        set_int(tot, "fee_micros", t.fee) ||
        set_int(tot, "rounding_micros", t.rounding) ||
        set_int(tot, "earned_micros", t.earned) ||
        set_int(tot, "clawed_back_micros", t.clawed_back) ||
        set_int(tot, "paid_out_micros", t.paid_out) ||
        set_int(tot, "other_micros", t.other) ||
        set_int(tot, "net_micros", t.net) ||
        set_int(o, "closing_micros", closing) ||
        set_int(o, "pending_payouts_micros", pending) ||
        set(o, "balanced", json_true()))
        goto oom;
    *out = o;
    o = NULL;
    rc = SL_OK;
    goto out;
oom:
    sl_err_set(err, "out of memory building the statement");
    rc = SL_ENOMEM;
out:
    free(ls.v);
    json_decref(o);
    return rc;
}

int sl_stmt_pg_statement(PGconn *pg, const char *creator_id, const char *month,
                         const char *currency, json_t **out, sl_err *err)
{
    int rc;

    *out = NULL;
    if (PQtransactionStatus(pg) != PQTRANS_IDLE) {
        sl_err_set(err, "statement: the connection is inside a transaction");
        return SL_EINVAL;
    }
    if ((rc = sl_pg_exec(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                         err)) != SL_OK)
        return rc;
    rc = build(pg, creator_id, month, currency, out, err);
    if (rc == SL_OK) {
        sl_err cerr;
        if ((rc = sl_pg_exec(pg, "COMMIT", &cerr)) != SL_OK) {
            *err = cerr;
            json_decref(*out);
            *out = NULL;
        }
    } else {
        PQclear(PQexec(pg, "ROLLBACK"));   /* best effort: err says why */
    }
    return rc;
}

int sl_stmt_pg_balance(PGconn *pg, const char *kind, const char *holder,
                       const char *currency, json_t **out, sl_err *err)
{
    const char *vals[3] = { kind, holder ? holder : "", currency };
    const char *who_sql = strcmp(kind, "creator") == 0
        ? "SELECT 1 FROM creators WHERE creator_id = $1"
        : "SELECT 1 FROM consumers WHERE consumer_id = $1";
    PGresult *r;
    json_t *arr = NULL;
    int rc = SL_OK, platform = strcmp(kind, "platform") == 0;

    *out = NULL;
    if (!platform && strcmp(kind, "creator") != 0 && strcmp(kind, "consumer") != 0) {
        sl_err_set(err, "balance: unknown account kind \"%s\"", kind);
        return SL_EINVAL;
    }
    if (!platform) {
        if (!(r = q(pg, "balance: holder", who_sql, 1, vals + 1, &rc, err)))
            return rc;
        rc = PQntuples(r) ? SL_OK : SL_ENOTFOUND;
        PQclear(r);
        if (rc != SL_OK) {
            sl_err_set(err, "no %s \"%s\"", kind, holder);
            return rc;
        }
    }
    if (!(r = q(pg, "balance",
                "SELECT kind, holder, currency, account_id,"
                " credits_posted - debits_posted, debits_pending, credits_pending,"
                " credits_posted - debits_posted - debits_pending,"
                " debits_posted, credits_posted"
                " FROM ledger_accounts"
                " WHERE CASE WHEN $1 = 'platform'"
                "   THEN kind IN ('platform', 'rounding', 'payouts_in_transit')"
                "   ELSE kind = $1 AND holder = $2 END"
                " AND ($3::text IS NULL OR currency = $3)"
                " ORDER BY currency, kind", 3, vals, &rc, err)))
        return rc;
    if (!(arr = json_array()))
        goto oom;
    for (int i = 0; i < PQntuples(r); i++) {
        json_t *o = json_object();
        if (!o || json_array_append_new(arr, o) ||
            set(o, "kind", json_string(PQgetvalue(r, i, 0))) ||
            set(o, "holder", json_string(PQgetvalue(r, i, 1))) ||
            set(o, "currency", json_string(PQgetvalue(r, i, 2))) ||
            set_int(o, "account_id", i64(r, i, 3)) ||
            set_int(o, "posted_micros", i64(r, i, 4)) ||
            set_int(o, "debits_pending_micros", i64(r, i, 5)) ||
            set_int(o, "credits_pending_micros", i64(r, i, 6)) ||
            set_int(o, "available_micros", i64(r, i, 7)) ||
            set_int(o, "debits_posted_micros", i64(r, i, 8)) ||
            set_int(o, "credits_posted_micros", i64(r, i, 9)))
            goto oom;
    }
    PQclear(r);
    *out = arr;
    return SL_OK;
oom:
    PQclear(r);
    json_decref(arr);
    sl_err_set(err, "out of memory building the balance");
    return SL_ENOMEM;
}
