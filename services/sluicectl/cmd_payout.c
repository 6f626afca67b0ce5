/*
 * cmd_payout.c -- `sluicectl payout run|confirm|fail|list`: paying
 * creators what the ledger (018_ledger.sql) says they earned.  The payment
 * processor is out of scope; this is the ledger's side and the finance
 * team's export.
 *
 * A payout is a pending transfer creator -> payouts_in_transit (TigerBeetle's
 * two-phase transfer): `run` creates one per creator and currency for a
 * month, `confirm` posts it (payout_post), `fail` voids it (payout_void,
 * the money is the creator's again).  Each is settled once only: the
 * payout row is locked (FOR UPDATE) and its state read under the lock, so
 * a second confirm or fail -- even a concurrent one -- is refused with
 * exit 1 and changes nothing; the schema backs it (ledger_transfers.
 * pending_id is unique).
 *
 * Money never goes below zero: the amount is sl_payout_amount()'s
 * (statement.h) -- what the creator earned up to the month's end minus
 * what was paid or is pending, at most the posted balance less pending
 * payouts -- computed with the creator accounts locked, and the account
 * update itself re-checks it.
 *
 * Locking order, shared with the poster (sluice-ledger): the ledger_clock
 * row first (it also orders the transfers: seq), then accounts in
 * account_id order.  confirm / fail lock their payout row before the
 * clock; nothing else locks payout rows, so no cycle.
 *
 * Transfer ids: "payout:<payout_id>" (the pending transfer, also the
 * link_id of all three), "payout:<payout_id>:post", "payout:<payout_id>:void".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "statement.h"

static const char payout_usage[] =
    "usage: sluicectl payout <command>\n"
    "Creators' payouts: pending transfers to \"payouts in transit\", confirmed\n"
    "or failed once each (pg.dsn / SLUICE_PG_DSN).\n";

static const char run_usage[] =
    "usage: sluicectl payout run --month YYYY-MM [--min AMOUNT] [--currency C]\n"
    "Create one pending payout per creator and currency for the month: what\n"
    "the creator earned by the month's end (earnings net of clawbacks) less\n"
    "every payout pending or confirmed so far, at most the posted balance\n"
    "less pending payouts (never below zero).  Creators owed less than --min,\n"
    "or who already have a payout for the month, are skipped.  Prints each\n"
    "payout created.\n"
    "  --month YYYY-MM  the month paid (UTC; not one that has not begun)\n"
    "  --min AMOUNT     smallest payout, in units of the currency (\"10\",\n"
    "                   \"2.50\"; default: any amount above zero)\n"
    "  --currency C     only that currency (default: every currency)\n";

static const char confirm_usage[] =
    "usage: sluicectl payout confirm ID --reference REF\n"
    "The payment went out: post the pending payout (the creator's balance\n"
    "is debited for good).  Once only: a payout already confirmed or failed\n"
    "is refused (exit 1) and nothing changes.\n"
    "  --reference REF  the payment processor's reference (1-200 bytes)\n";

static const char fail_usage[] =
    "usage: sluicectl payout fail ID --reason TEXT\n"
    "The payment did not go out: void the pending payout, so the money is\n"
    "the creator's again (a later run pays it).  Once only: a payout already\n"
    "confirmed or failed is refused (exit 1) and nothing changes.\n"
    "  --reason TEXT  why (1-1000 bytes)\n";

static const char list_usage[] =
    "usage: sluicectl payout list [--month YYYY-MM] [--state S] [--csv | --json]\n"
    "Payouts, newest first.  --csv is the finance export: payout_id,\n"
    "creator_id, currency, month, amount (decimal), amount_micros, state,\n"
    "reference, fail_reason, created_at, settled_at.\n"
    "  --state S  pending, confirmed or failed\n";

static int currency_ok(const char *s)
{
    return s && strlen(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' &&
           s[1] >= 'A' && s[1] <= 'Z' && s[2] >= 'A' && s[2] <= 'Z';
}

static void rollback(PGconn *pg)
{
    PQclear(PQexec(pg, "ROLLBACK"));   /* best effort: the error is out */
}

/* The ledger_clock row, locked until the transaction ends; *seq its next
 * position. */
static int lock_clock(PGconn *pg, const char *what, int64_t *seq)
{
    PGresult *r = ctl_pg_query(pg, what,
        "SELECT next_seq FROM ledger_clock WHERE id FOR UPDATE", 0, NULL,
        NULL, NULL);

    if (!r)
        return CTL_FAIL;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return ctl_fail("%s: the ledger_clock row is missing", what);
    }
    *seq = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return CTL_OK;
}

static int advance_clock(PGconn *pg, const char *what, int64_t n)
{
    char nb[24];
    const char *vals[1] = { nb };
    PGresult *r;

    snprintf(nb, sizeof(nb), "%" PRId64, n);
    if (!(r = ctl_pg_query(pg, what,
            "UPDATE ledger_clock SET next_seq = next_seq + $1::bigint WHERE id",
            1, vals, NULL, NULL)))
        return CTL_FAIL;
    PQclear(r);
    return CTL_OK;
}

/* The currency's payouts-in-transit account (created when missing),
 * locked; its id into id. */
static int transit_account(PGconn *pg, const char *what, const char *cur,
                           char id[24])
{
    const char *vals[1] = { cur };
    PGresult *r;

    if (!(r = ctl_pg_query(pg, what,
            "INSERT INTO ledger_accounts (currency, kind, holder, allow_negative)"
            " VALUES ($1, 'payouts_in_transit', '', false)"
            " ON CONFLICT (currency, kind, holder) DO NOTHING", 1, vals, NULL, NULL)))
        return CTL_FAIL;
    PQclear(r);
    if (!(r = ctl_pg_query(pg, what,
            "SELECT account_id FROM ledger_accounts WHERE currency = $1"
            " AND kind = 'payouts_in_transit' AND holder = '' FOR UPDATE",
            1, vals, NULL, NULL)))
        return CTL_FAIL;
    snprintf(id, 24, "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    return id[0] ? CTL_OK : ctl_fail("%s: no payouts-in-transit account", what);
}

/* ---- run ---------------------------------------------------------------- */

typedef struct run_args {
    const char *month, *currency;
    int64_t min;
    char start[SL_DATE_MAX], end[SL_DATE_MAX];
} run_args;

/* Creates one payout (row, pending transfer at seq, account totals) inside
 * the caller's transaction.  CTL_OK, or CTL_FAIL after the message. */
static int create_payout(PGconn *pg, const run_args *a, const char *account,
                         const char *creator, const char *cur, int64_t amount,
                         int64_t seq, const char *transit)
{
    char amt[24], sq[24], pid[24];
    PGresult *r;

    snprintf(amt, sizeof(amt), "%" PRId64, amount);
    snprintf(sq, sizeof(sq), "%" PRId64, seq);
    {
        const char *vals[4] = { creator, cur, a->start, amt };
        if (!(r = ctl_pg_query(pg, "payout run: the payout",
                "INSERT INTO payouts (creator_id, currency, month, amount)"
                " VALUES ($1, $2, $3::date, $4::bigint) RETURNING payout_id",
                4, vals, NULL, NULL)))
            return CTL_FAIL;
        snprintf(pid, sizeof(pid), "%s", PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    {
        /* The account update re-checks "never below zero, pending
         * included" under the lock: no row, no payout. */
        const char *vals[6] = { account, amt, transit, sq, pid, cur };
        if (!(r = ctl_pg_query(pg, "payout run: the pending transfer",
                "WITH c AS (UPDATE ledger_accounts"
                "   SET debits_pending = debits_pending + $2::bigint"
                "   WHERE account_id = $1::bigint"
                "   AND credits_posted - debits_posted - debits_pending >= $2::bigint"
                "   RETURNING account_id),"
                " p AS (UPDATE ledger_accounts"
                "   SET credits_pending = credits_pending + $2::bigint"
                "   WHERE account_id = $3::bigint AND EXISTS (SELECT 1 FROM c)"
                "   RETURNING account_id)"
                " INSERT INTO ledger_transfers (seq, transfer_id, link_id,"
                "   currency, debit_account, credit_account, amount, kind,"
                "   pending, payout_id)"
                " SELECT $4::bigint, 'payout:' || $5, 'payout:' || $5, $6,"
                "   $1::bigint, $3::bigint, $2::bigint, 'payout', true, $5::bigint"
                " FROM c, p RETURNING transfer_id", 6, vals, NULL, NULL)))
            return CTL_FAIL;
        if (PQntuples(r) != 1) {
            PQclear(r);
            return ctl_fail("payout run: creator %s (%s): the balance changed "
                            "under the lock; nothing was created", creator, cur);
        }
        PQclear(r);
    }
    {
        ctl_esc e = { 0 };
        char b[SL_AMOUNT_MAX];
        printf("payout %s: creator %s, %s, %s %s pending\n", pid,
               ctl_e(&e, creator), a->month, cur, sl_amount_format(amount, b));
        ctl_esc_free(&e);
    }
    return CTL_OK;
}

static int run_parse(ctl *c, int argc, char **argv, run_args *a, int *done)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG,
        { "month", required_argument, NULL, 'm' },
        { "min", required_argument, NULL, 'n' },
        { "currency", required_argument, NULL, 'u' },
        { 0 }
    };
    int opt, y, m;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             "payout run", run_usage)) != -1) {
        switch (opt) {
        case 'm': a->month = optarg; break;
        case 'u': a->currency = optarg; break;
        case 'n':
            if (sl_amount_parse(optarg, &a->min) != SL_OK) {
                *done = 1;
                return ctl_usage_error("payout run", "--min wants an amount in "
                                       "units of the currency (\"10\", \"2.50\", "
                                       "up to six decimals), got \"%s\"", optarg);
            }
            break;
        default:
            *done = 1;
            return ctl_getopt_exit(opt);
        }
    }
    *done = 1;
    if (optind < argc)
        return ctl_usage_error("payout run", "unexpected argument \"%s\"",
                               argv[optind]);
    if (!a->month)
        return ctl_usage_error("payout run", "--month is required");
    if (sl_month_parse(a->month, &y, &m) != SL_OK)
        return ctl_usage_error("payout run", "--month wants YYYY-MM (2000-01 "
                               "or later), got \"%s\"", a->month);
    if (a->currency && !currency_ok(a->currency))
        return ctl_usage_error("payout run", "--currency wants three capital "
                               "letters (\"USD\"), got \"%s\"", a->currency);
    sl_month_bounds(y, m, a->start, a->end);
    *done = 0;
    return CTL_OK;
}

static int payout_run(ctl *c, int argc, char **argv)
{
    run_args a = { 0 };
    PGconn *pg = NULL;
    PGresult *r = NULL;
    int64_t seq, n = 0, total = 0;
    int rc, done, in_txn = 0, below = 0, had = 0;

    if ((rc = run_parse(c, argc, argv, &a, &done)) != CTL_OK || done)
        return rc;
    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    rc = CTL_FAIL;
    if (!(pg = ctl_pg_connect(c)) ||
        ctl_pg_exec(pg, "payout run: BEGIN", "BEGIN") != CTL_OK)
        goto out;
    in_txn = 1;
    {
        const char *vals[1] = { a.start };
        if (!(r = ctl_pg_query(pg, "payout run",
                "SELECT $1::timestamp AT TIME ZONE 'UTC' > now()", 1, vals,
                NULL, NULL)))
            goto out;
        if (PQgetvalue(r, 0, 0)[0] == 't') {
            ctl_fail("payout run: month %s has not begun", a.month);
            goto out;
        }
        PQclear(r);
        r = NULL;
    }
    if (lock_clock(pg, "payout run: ledger_clock", &seq) != CTL_OK)
        goto out;
    {
        /* Each creator account, locked, with what sl_payout_amount needs:
         * entitled = its posted movements other than payouts before the
         * month's end; paid = payouts pending or confirmed; whether it has
         * this month's payout already. */
        const char *vals[3] = { a.currency, a.end, a.start };
        if (!(r = ctl_pg_query(pg, "payout run: creator accounts",
                "SELECT a.account_id, a.holder, a.currency,"
                " a.credits_posted - a.debits_posted, a.debits_pending,"
                " coalesce((SELECT sum(CASE WHEN t.pending THEN 0"
                "     WHEN t.credit_account = a.account_id THEN t.amount"
                "     ELSE -t.amount END) FROM ledger_transfers t"
                "   WHERE (t.debit_account = a.account_id"
                "          OR t.credit_account = a.account_id)"
                "   AND t.kind NOT IN ('payout', 'payout_post', 'payout_void')"
                "   AND t.posted_at < $2::timestamp AT TIME ZONE 'UTC'), 0),"
                " coalesce((SELECT sum(p.amount) FROM payouts p"
                "   WHERE p.creator_id = a.holder AND p.currency = a.currency"
                "   AND p.state IN ('pending', 'confirmed')), 0),"
                " EXISTS (SELECT 1 FROM payouts p WHERE p.creator_id = a.holder"
                "   AND p.currency = a.currency AND p.month = $3::date)"
                " FROM ledger_accounts a WHERE a.kind = 'creator'"
                " AND ($1::text IS NULL OR a.currency = $1)"
                " ORDER BY a.account_id FOR UPDATE OF a", 3, vals, NULL, NULL)))
            goto out;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        const char *cur = PQgetvalue(r, i, 2);
        int64_t amount = sl_payout_amount(strtoll(PQgetvalue(r, i, 5), NULL, 10),
                                          strtoll(PQgetvalue(r, i, 6), NULL, 10),
                                          strtoll(PQgetvalue(r, i, 3), NULL, 10),
                                          strtoll(PQgetvalue(r, i, 4), NULL, 10),
                                          a.min);
        char transit[24];

        if (PQgetvalue(r, i, 7)[0] == 't') {
            had++;
            continue;
        }
        if (amount == 0) {
            below++;
            continue;
        }
        if (transit_account(pg, "payout run: payouts in transit", cur,
                            transit) != CTL_OK ||
            create_payout(pg, &a, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                          cur, amount, seq + n, transit) != CTL_OK)
            goto out;
        n++;
        total += amount;
    }
    if (n && advance_clock(pg, "payout run: ledger_clock", n) != CTL_OK)
        goto out;
    in_txn = 0;
    if (ctl_pg_exec(pg, "payout run: COMMIT", "COMMIT") != CTL_OK)
        goto out;
    printf("%" PRId64 " payout%s created for %s; %d creator account%s owed "
           "nothing or less than the minimum; %d already had a payout for the month\n",
           n, n == 1 ? "" : "s", a.month, below, below == 1 ? "" : "s", had);
    rc = CTL_OK;
out:
    PQclear(r);
    if (in_txn)
        rollback(pg);
    PQfinish(pg);
    return rc;
}

/* ---- confirm / fail ----------------------------------------------------- */

/* Settles payout `id`: post (confirm) or void (fail), with `note` the
 * reference or the reason. */
static int settle(ctl *c, const char *cmd, int post, const char *id,
                  const char *note)
{
    PGconn *pg = NULL;
    PGresult *r = NULL;
    char creator_acct[24] = "", transit[24], amt[24], cur[4], sq[24];
    int64_t seq;
    int rc = CTL_FAIL, in_txn = 0;

    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    rc = CTL_FAIL;
    if (!(pg = ctl_pg_connect(c)) || ctl_pg_exec(pg, cmd, "BEGIN") != CTL_OK)
        goto out;
    in_txn = 1;
    {
        const char *vals[1] = { id };
        if (!(r = ctl_pg_query(pg, cmd,
                "SELECT p.state, p.creator_id, p.currency, p.amount,"
                " coalesce(p.reference, ''), coalesce(p.fail_reason, ''),"
                " coalesce(to_char(p.settled_at AT TIME ZONE 'UTC',"
                "   'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''),"
                " (SELECT a.account_id FROM ledger_accounts a"
                "   WHERE a.kind = 'creator' AND a.holder = p.creator_id"
                "   AND a.currency = p.currency)"
                " FROM payouts p WHERE p.payout_id = $1::bigint FOR UPDATE OF p",
                1, vals, NULL, NULL)))
            goto out;
    }
    if (PQntuples(r) == 0) {
        ctl_fail("%s: no payout %s", cmd, id);
        goto out;
    }
    if (strcmp(PQgetvalue(r, 0, 0), "pending") != 0) {
        ctl_esc e = { 0 };
        int was_post = strcmp(PQgetvalue(r, 0, 0), "confirmed") == 0;
        ctl_fail("%s: payout %s was already %s at %s (%s %s); a payout is "
                 "confirmed or failed once only: nothing was changed", cmd, id,
                 PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 6),
                 was_post ? "reference" : "reason",
                 ctl_e(&e, PQgetvalue(r, 0, was_post ? 4 : 5)));
        ctl_esc_free(&e);
        goto out;
    }
    snprintf(cur, sizeof(cur), "%s", PQgetvalue(r, 0, 2));
    snprintf(amt, sizeof(amt), "%s", PQgetvalue(r, 0, 3));
    snprintf(creator_acct, sizeof(creator_acct), "%s", PQgetvalue(r, 0, 7));
    PQclear(r);
    r = NULL;
    if (!creator_acct[0]) {
        ctl_fail("%s: payout %s has no creator account", cmd, id);
        goto out;
    }
    if (lock_clock(pg, cmd, &seq) != CTL_OK ||
        transit_account(pg, cmd, cur, transit) != CTL_OK)
        goto out;
    snprintf(sq, sizeof(sq), "%" PRId64, seq);
    {
        const char *vals[6] = { id, creator_acct, transit, amt, sq, cur };
        /* The post moves the pending amounts to posted; the void releases
         * them.  Both name the pending transfer (pending_id, unique). */
        const char *sql = post
            ? "WITH c AS (UPDATE ledger_accounts SET"
              "   debits_pending = debits_pending - $4::bigint,"
              "   debits_posted = debits_posted + $4::bigint"
              "   WHERE account_id = $2::bigint RETURNING 1),"
              " p AS (UPDATE ledger_accounts SET"
              "   credits_pending = credits_pending - $4::bigint,"
              "   credits_posted = credits_posted + $4::bigint"
              "   WHERE account_id = $3::bigint RETURNING 1)"
              " INSERT INTO ledger_transfers (seq, transfer_id, link_id, currency,"
              "   debit_account, credit_account, amount, kind, pending,"
              "   pending_id, payout_id)"
              " SELECT $5::bigint, 'payout:' || $1 || ':post', 'payout:' || $1, $6,"
              "   $2::bigint, $3::bigint, $4::bigint, 'payout_post', false,"
              "   'payout:' || $1, $1::bigint FROM c, p RETURNING 1"
            : "WITH c AS (UPDATE ledger_accounts SET"
              "   debits_pending = debits_pending - $4::bigint"
              "   WHERE account_id = $2::bigint RETURNING 1),"
              " p AS (UPDATE ledger_accounts SET"
              "   credits_pending = credits_pending - $4::bigint"
              "   WHERE account_id = $3::bigint RETURNING 1)"
              " INSERT INTO ledger_transfers (seq, transfer_id, link_id, currency,"
              "   debit_account, credit_account, amount, kind, pending,"
              "   pending_id, payout_id)"
              " SELECT $5::bigint, 'payout:' || $1 || ':void', 'payout:' || $1, $6,"
              "   $2::bigint, $3::bigint, $4::bigint, 'payout_void', false,"
              "   'payout:' || $1, $1::bigint FROM c, p RETURNING 1";
        if (!(r = ctl_pg_query(pg, cmd, sql, 6, vals, NULL, NULL)))
            goto out;
        if (PQntuples(r) != 1) {
            ctl_fail("%s: payout %s: its accounts are missing", cmd, id);
            goto out;
        }
        PQclear(r);
        r = NULL;
    }
    {
        const char *vals[3] = { id, post ? "confirmed" : "failed", note };
        if (!(r = ctl_pg_query(pg, cmd,
                "UPDATE payouts SET state = $2, settled_at = now(),"
                " reference = CASE WHEN $2 = 'confirmed' THEN $3 END,"
                " fail_reason = CASE WHEN $2 = 'failed' THEN $3 END"
                " WHERE payout_id = $1::bigint AND state = 'pending'",
                3, vals, NULL, NULL)))
            goto out;
    }
    if (advance_clock(pg, cmd, 1) != CTL_OK)
        goto out;
    in_txn = 0;
    if (ctl_pg_exec(pg, cmd, "COMMIT") != CTL_OK)
        goto out;
    {
        char b[SL_AMOUNT_MAX];
        printf("payout %s %s: %s %s %s\n", id, post ? "confirmed" : "failed",
               cur, sl_amount_format(strtoll(amt, NULL, 10), b),
               post ? "paid out" : "returned to the creator's balance");
    }
    rc = CTL_OK;
out:
    PQclear(r);
    if (in_txn)
        rollback(pg);
    PQfinish(pg);
    return rc;
}

static int settle_cmd(ctl *c, int argc, char **argv, int post)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG,
        { "reference", required_argument, NULL, 'r' },
        { "reason", required_argument, NULL, 'R' },
        { 0 }
    };
    const char *cmd = post ? "payout confirm" : "payout fail";
    const char *note = NULL;
    int64_t id;
    int opt;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts, cmd,
                             post ? confirm_usage : fail_usage)) != -1) {
        if ((post && opt == 'r') || (!post && opt == 'R'))
            note = optarg;
        else if (opt == 'r' || opt == 'R')
            return ctl_usage_error(cmd, "%s takes %s", cmd,
                                   post ? "--reference" : "--reason");
        else
            return ctl_getopt_exit(opt);
    }
    if (argc - optind != 1)
        return ctl_usage_error(cmd, argc - optind ? "expected one payout ID"
                                                  : "missing payout ID");
    if (ctl_parse_int(argv[optind], 1, INT64_MAX, &id) != SL_OK)
        return ctl_usage_error(cmd, "\"%s\" is not a payout ID", argv[optind]);
    if (!note)
        return ctl_usage_error(cmd, post ? "--reference is required"
                                         : "--reason is required");
    if (ctl_check_note(note, post ? 200 : CTL_NOTE_MAX) != SL_OK)
        return ctl_usage_error(cmd, "%s must be 1 to %d bytes without control "
                               "characters", post ? "--reference" : "--reason",
                               post ? 200 : CTL_NOTE_MAX);
    return settle(c, cmd, post, argv[optind], note);
}

static int payout_confirm(ctl *c, int argc, char **argv)
{
    return settle_cmd(c, argc, argv, 1);
}

static int payout_fail(ctl *c, int argc, char **argv)
{
    return settle_cmd(c, argc, argv, 0);
}

/* ---- list --------------------------------------------------------------- */

static int print_csv(const PGresult *r)
{
    sl_buf b;
    int rc = SL_OK;

    sl_buf_init(&b, (size_t)1 << 30);
    rc |= sl_buf_appendf(&b, "payout_id,creator_id,currency,month,amount,"
                         "amount_micros,state,reference,fail_reason,"
                         "created_at,settled_at\r\n");
    for (int i = 0; i < PQntuples(r) && rc == SL_OK; i++) {
        char a[SL_AMOUNT_MAX];
        rc |= sl_buf_appendf(&b, "%s,", PQgetvalue(r, i, 0));
        rc |= sl_csv_field(&b, PQgetvalue(r, i, 1));
        rc |= sl_buf_appendf(&b, ",%s,%s,%s,%s,%s,", PQgetvalue(r, i, 2),
                             PQgetvalue(r, i, 3),
                             sl_amount_format(strtoll(PQgetvalue(r, i, 4), NULL, 10), a),
                             PQgetvalue(r, i, 4), PQgetvalue(r, i, 5));
        rc |= sl_csv_field(&b, PQgetvalue(r, i, 6));
        rc |= sl_buf_putc(&b, ',');
        rc |= sl_csv_field(&b, PQgetvalue(r, i, 7));
        rc |= sl_buf_appendf(&b, ",%s,%s\r\n", PQgetvalue(r, i, 8),
                             PQgetvalue(r, i, 9));
    }
    if (rc == SL_OK)
        fwrite(b.data, 1, b.len, stdout);
    sl_buf_free(&b);
    return rc == SL_OK ? CTL_OK : ctl_fail("out of memory");
}

static int payout_list(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG,
        { "month", required_argument, NULL, 'm' },
        { "state", required_argument, NULL, 's' },
        { "csv", no_argument, NULL, 'x' },
        { "json", no_argument, NULL, 'j' },
        { 0 }
    };
    const char *month = NULL, *state = NULL;
    char start[SL_DATE_MAX], end[SL_DATE_MAX];
    PGconn *pg = NULL;
    PGresult *r = NULL;
    int opt, rc, csv = 0, json = 0, y, m;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             "payout list", list_usage)) != -1) {
        switch (opt) {
        case 'm': month = optarg; break;
        case 's': state = optarg; break;
        case 'x': csv = 1; break;
        case 'j': json = 1; break;
        default: return ctl_getopt_exit(opt);
        }
    }
    if (optind < argc)
        return ctl_usage_error("payout list", "unexpected argument \"%s\"",
                               argv[optind]);
    if (csv && json)
        return ctl_usage_error("payout list", "--csv and --json together");
    if (month && sl_month_parse(month, &y, &m) != SL_OK)
        return ctl_usage_error("payout list", "--month wants YYYY-MM, got "
                               "\"%s\"", month);
    if (month)
        sl_month_bounds(y, m, start, end);
    if (state && strcmp(state, "pending") && strcmp(state, "confirmed") &&
        strcmp(state, "failed"))
        return ctl_usage_error("payout list", "--state is pending, confirmed "
                               "or failed, not \"%s\"", state);
    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    rc = CTL_FAIL;
    if (!(pg = ctl_pg_connect(c)))
        goto out;
    {
        const char *vals[2] = { month ? start : NULL, state };
        if (!(r = ctl_pg_query(pg, "payout list",
                "SELECT payout_id, creator_id, currency, to_char(month, 'YYYY-MM'),"
                " amount, state, coalesce(reference, ''), coalesce(fail_reason, ''),"
                " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
                " coalesce(to_char(settled_at AT TIME ZONE 'UTC',"
                "   'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '')"
                " FROM payouts WHERE ($1::date IS NULL OR month = $1::date)"
                " AND ($2::text IS NULL OR state = $2)"
                " ORDER BY payout_id DESC", 2, vals, NULL, NULL)))
            goto out;
    }
    if (csv) {
        rc = print_csv(r);
    } else if (json) {
        json_t *arr = json_array();
        for (int i = 0; arr && i < PQntuples(r); i++) {
            json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:I,s:s,s:s?,s:s?,s:s,s:s?}",
                "payout_id", (json_int_t)strtoll(PQgetvalue(r, i, 0), NULL, 10),
                "creator_id", PQgetvalue(r, i, 1), "currency", PQgetvalue(r, i, 2),
                "month", PQgetvalue(r, i, 3),
                "amount_micros", (json_int_t)strtoll(PQgetvalue(r, i, 4), NULL, 10),
                "state", PQgetvalue(r, i, 5),
                "reference", *PQgetvalue(r, i, 6) ? PQgetvalue(r, i, 6) : NULL,
                "fail_reason", *PQgetvalue(r, i, 7) ? PQgetvalue(r, i, 7) : NULL,
                "created_at", PQgetvalue(r, i, 8),
                "settled_at", *PQgetvalue(r, i, 9) ? PQgetvalue(r, i, 9) : NULL);
            if (!o || json_array_append_new(arr, o)) {
                json_decref(arr);
                arr = NULL;
            }
        }
        rc = ctl_print_json(arr);
    } else {
        static const char *const headers[] = {
            ">ID", "CREATOR", "CURRENCY", "MONTH", ">AMOUNT", "STATE",
            "REFERENCE / REASON", "CREATED", "SETTLED"
        };
        ctl_table *t = ctl_table_new(9, headers);
        rc = t ? CTL_OK : ctl_fail("out of memory");
        for (int i = 0; rc == CTL_OK && i < PQntuples(r); i++) {
            char a[SL_AMOUNT_MAX];
            const char *row[9] = {
                PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
                PQgetvalue(r, i, 3),
                sl_amount_format(strtoll(PQgetvalue(r, i, 4), NULL, 10), a),
                PQgetvalue(r, i, 5),
                *PQgetvalue(r, i, 6) ? PQgetvalue(r, i, 6) : PQgetvalue(r, i, 7),
                PQgetvalue(r, i, 8), PQgetvalue(r, i, 9),
            };
            if (ctl_table_add(t, row) != SL_OK)
                rc = ctl_fail("out of memory");
        }
        if (rc == CTL_OK) {
            if (ctl_table_rows(t))
                ctl_table_print(t, stdout, "");
            else
                printf("no payouts\n");
        }
        ctl_table_destroy(t);
    }
out:
    PQclear(r);
    PQfinish(pg);
    return rc;
}

int ctl_cmd_payout(ctl *c, int argc, char **argv)
{
    static const ctl_cmd subs[] = {
        { "run", payout_run, "create the month's pending payouts" },
        { "confirm", payout_confirm, "post a payout that went out (once)" },
        { "fail", payout_fail, "void a payout that failed: money back (once)" },
        { "list", payout_list, "list payouts; --csv: the finance export" },
        { NULL, NULL, NULL }
    };

    return ctl_dispatch(c, "payout", subs, argc, argv, payout_usage);
}
