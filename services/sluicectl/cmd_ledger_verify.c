/*
 * cmd_ledger_verify.c -- `sluicectl ledger verify [--json]`: the ledger's
 * invariants (issue #13) and its hash, read in one REPEATABLE READ
 * snapshot.  ctl_cmd_ledger_verify() is the `verify` entry of the
 * `ledger` command group (cmd_ledger.c dispatches to it).
 *
 * Checks, each a named violation when broken (exit 1):
 *   currency_unbalanced   per currency, the accounts' posted debits equal
 *                         their posted credits, pending likewise;
 *   account_totals        each account's four totals equal the sums of its
 *                         transfers (posted: not pending, not a void;
 *                         pending: pending and not yet posted or voided);
 *   account_missing       a transfer names accounts that exist (there is no
 *                         foreign key: 018_ledger.sql says why);
 *   currency_mismatch     a transfer's accounts are in its currency;
 *   balance_negative      no account that may not go negative (creators,
 *                         payouts in transit) is below zero counting its
 *                         pending debits, except a creator with clawbacks;
 *   usage_unposted        every usage event has a posting ...
 *   usage_split           ... whose charge, fee and rounding legs, in the
 *                         posting's link, debit the event's consumer in
 *                         its currency and add up to its price;
 *   usage_orphan          no usage leg without a posting;
 *   reversal_mismatch     a reversing transfer has the amount and usage
 *                         event of the transfer it names.
 * The hash: SHA-256 over sl_ledger_line() of every transfer in transfer_id
 * order, bytewise (ledger_logic.h: no seq, time or account_id), so a
 * replica, or a replay of the same usage and withdrawals into an empty
 * ledger, prints the same hash however its batches interleaved.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "sl/log.h"
#include "ctl.h"
#include "ledger_logic.h"

#define VIOLATIONS_SHOWN 100

static const char verify_usage[] =
    "usage: sluicectl ledger verify [--json]\n"
    "Check the ledger's invariants in one snapshot: debits equal credits per\n"
    "currency, every account's totals equal the sum of its transfers, no\n"
    "creator below zero unless clawed back, every usage event posted exactly\n"
    "once and split to its price; print the ledger hash (SHA-256 over every\n"
    "transfer in transfer_id order).  Exit 1 when an invariant is broken.\n"
    "  --json   one JSON object: ok, counts, currencies, violations, hash\n";

typedef struct verify {
    PGconn *pg;
    json_t *violations;
    size_t nviol;
    int oom;
} verify;

static void violation(verify *v, const char *check, const char *detail)
{
    json_t *o = json_pack("{s:s, s:s}", "check", check, "detail", detail);

    v->nviol++;
    if (!o || json_array_append_new(v->violations, o) != 0)
        v->oom = 1;
}

/* Runs a check whose rows are the details of its violations. */
static int check_rows(verify *v, const char *check, const char *sql)
{
    PGresult *r = ctl_pg_query(v->pg, check, sql, 0, NULL, NULL, NULL);

    if (!r)
        return CTL_FAIL;
    for (int i = 0; i < PQntuples(r); i++)
        violation(v, check, PQgetvalue(r, i, 0));
    PQclear(r);
    return CTL_OK;
}

#define LIMIT " LIMIT 100"

static const struct {
    const char *check;
    const char *sql;
} checks[] = {
    { "currency_unbalanced",
      "SELECT format('%s: posted debits %s, credits %s; pending debits %s, credits %s',"
      " currency, sum(debits_posted), sum(credits_posted), sum(debits_pending),"
      " sum(credits_pending)) FROM ledger_accounts GROUP BY currency"
      " HAVING sum(debits_posted) <> sum(credits_posted)"
      "     OR sum(debits_pending) <> sum(credits_pending) ORDER BY currency" },
    { "account_totals",
      "WITH s AS (SELECT x.acct, sum(x.dp) AS dp, sum(x.cp) AS cp, sum(x.dq) AS dq,"
      "                  sum(x.cq) AS cq"
      "  FROM (SELECT t.*, NOT t.pending AND t.kind <> 'payout_void' AS posted,"
      "               t.pending AND NOT EXISTS (SELECT 1 FROM ledger_transfers r"
      "                                          WHERE r.pending_id = t.transfer_id) AS open"
      "          FROM ledger_transfers t) t"
      "  CROSS JOIN LATERAL (VALUES"
      "   (t.debit_account, CASE WHEN t.posted THEN t.amount ELSE 0 END, 0::bigint,"
      "    CASE WHEN t.open THEN t.amount ELSE 0 END, 0::bigint),"
      "   (t.credit_account, 0::bigint, CASE WHEN t.posted THEN t.amount ELSE 0 END,"
      "    0::bigint, CASE WHEN t.open THEN t.amount ELSE 0 END)) AS x(acct, dp, cp, dq, cq)"
      "  GROUP BY x.acct)"
      " SELECT format('account %s (%s %s:%s): totals posted %s/%s pending %s/%s,"
      " transfers give %s/%s and %s/%s', a.account_id, a.currency, a.kind, a.holder,"
      " a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending,"
      " coalesce(s.dp, 0), coalesce(s.cp, 0), coalesce(s.dq, 0), coalesce(s.cq, 0))"
      " FROM ledger_accounts a LEFT JOIN s ON s.acct = a.account_id"
      " WHERE (a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending)"
      "   IS DISTINCT FROM (coalesce(s.dp, 0), coalesce(s.cp, 0), coalesce(s.dq, 0),"
      "                     coalesce(s.cq, 0))"
      " ORDER BY a.account_id" LIMIT },
    { "balance_negative",
      "SELECT format('%s %s:%s: posted balance %s, pending debits %s', a.currency, a.kind,"
      " a.holder, a.credits_posted - a.debits_posted, a.debits_pending)"
      " FROM ledger_accounts a WHERE NOT a.allow_negative"
      "  AND a.credits_posted - a.debits_posted - a.debits_pending < 0"
      "  AND NOT (a.kind = 'creator' AND EXISTS (SELECT 1 FROM ledger_transfers t"
      "            WHERE t.debit_account = a.account_id AND t.kind = 'clawback'))"
      " ORDER BY a.account_id" LIMIT },
    { "usage_unposted",
      "SELECT format('%s usage events have no posting (the first: %s)', count(*),"
      " min(u.usage_id)) FROM usage_events u"
      " WHERE NOT EXISTS (SELECT 1 FROM ledger_postings p WHERE p.usage_id = u.usage_id)"
      " HAVING count(*) > 0" },
    { "usage_split",
      "SELECT format('usage event %s (price %s): legs add up to %s%s', u.usage_id,"
      " u.price_micros, coalesce(sum(t.amount), 0),"
      " CASE WHEN coalesce(bool_and(a.kind = 'consumer' AND a.holder = u.consumer_id"
      "   AND t.currency = u.currency AND t.link_id = p.link_id), true) THEN ''"
      "   ELSE ', not all from its consumer in its currency and link' END)"
      " FROM ledger_postings p JOIN usage_events u ON u.usage_id = p.usage_id"
      " LEFT JOIN ledger_transfers t ON t.usage_id = u.usage_id"
      "  AND t.kind IN ('charge', 'fee', 'rounding')"
      " LEFT JOIN ledger_accounts a ON a.account_id = t.debit_account"
      " GROUP BY u.usage_id, u.price_micros"
      " HAVING coalesce(sum(t.amount), 0) <> u.price_micros"
      "     OR NOT coalesce(bool_and(a.kind = 'consumer' AND a.holder = u.consumer_id"
      "        AND t.currency = u.currency AND t.link_id = p.link_id), true)"
      " ORDER BY u.usage_id" LIMIT },
    { "usage_orphan",
      "SELECT format('transfer %s: usage event %s has no posting', t.transfer_id, t.usage_id)"
      " FROM ledger_transfers t WHERE t.usage_id IS NOT NULL"
      "  AND NOT EXISTS (SELECT 1 FROM ledger_postings p WHERE p.usage_id = t.usage_id)"
      " ORDER BY t.seq" LIMIT },
    { "reversal_mismatch",
      "SELECT format('transfer %s (%s) reverses %s (%s)', r.transfer_id, r.amount,"
      " o.transfer_id, o.amount)"
      " FROM ledger_transfers r JOIN ledger_transfers o ON o.transfer_id = r.reverses"
      " WHERE r.amount <> o.amount OR r.usage_id IS DISTINCT FROM o.usage_id"
      " ORDER BY r.seq" LIMIT },
};

/* One field of a COPY text row, unescaped in place; NULL for \N. */
static char *copy_field(char **cur)
{
    char *s = *cur, *o = s, *f = s;

    if (!s)
        return NULL;
    if (s[0] == '\\' && s[1] == 'N' && (s[2] == '\t' || s[2] == '\0')) {
        *cur = s[2] == '\t' ? s + 3 : NULL;
        return NULL;
    }
    for (; *s && *s != '\t'; s++) {
        if (*s == '\\' && s[1]) {
            s++;
            switch (*s) {
            case 't': *o++ = '\t'; break;
            case 'n': *o++ = '\n'; break;
            case 'r': *o++ = '\r'; break;
            case 'b': *o++ = '\b'; break;
            case 'f': *o++ = '\f'; break;
            case 'v': *o++ = '\v'; break;
            default: *o++ = *s; break;
            }
        } else {
            *o++ = *s;
        }
    }
    *cur = *s == '\t' ? s + 1 : NULL;
    *o = '\0';
    return f;
}

enum { C_ID, C_LINK, C_CUR, C_DK, C_DH, C_CK, C_CH, C_AMOUNT, C_KIND, C_PENDING,
       C_PENDING_ID, C_REVERSES, C_USAGE, C_PAYOUT, C_CUR_OK, C_N };

/* Streams every transfer in transfer_id order into the hash; counts them and
 * reports currency mismatches on the way.  Bytewise order: in a database
 * whose collation is C (deploy/stack.sh makes them so) the transfer_id
 * index already has it and the plain ORDER BY can read it; elsewhere
 * COLLATE "C" (a sort). */
static int hash_transfers(verify *v, char hex[2 * 32 + 1], int64_t *count)
{
    static const char sql_c[] =
        "COPY (SELECT t.transfer_id, t.link_id, t.currency, da.kind, da.holder, ca.kind,"
        " ca.holder, t.amount, t.kind, t.pending, t.pending_id, t.reverses, t.usage_id,"
        " t.payout_id, da.currency = t.currency AND ca.currency = t.currency"
        " FROM ledger_transfers t"
        " LEFT JOIN ledger_accounts da ON da.account_id = t.debit_account"
        " LEFT JOIN ledger_accounts ca ON ca.account_id = t.credit_account"
        " ORDER BY t.transfer_id) TO STDOUT";
    static const char sql[] =
        "COPY (SELECT t.transfer_id, t.link_id, t.currency, da.kind, da.holder, ca.kind,"
        " ca.holder, t.amount, t.kind, t.pending, t.pending_id, t.reverses, t.usage_id,"
        " t.payout_id, da.currency = t.currency AND ca.currency = t.currency"
        " FROM ledger_transfers t"
        " LEFT JOIN ledger_accounts da ON da.account_id = t.debit_account"
        " LEFT JOIN ledger_accounts ca ON ca.account_id = t.credit_account"
        " ORDER BY t.transfer_id COLLATE \"C\") TO STDOUT";
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char dig[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    PGresult *r = ctl_pg_query(v->pg, "ledger verify: collation",
        "SELECT datcollate IN ('C', 'POSIX') FROM pg_database"
        " WHERE datname = current_database()", 0, NULL, NULL, NULL);
    int bytewise = r && PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
    sl_buf line;
    char *row = NULL;
    int n, rc = CTL_FAIL, failed = 0;

    *count = 0;
    sl_buf_init(&line, 1 << 20);
    PQclear(r);
    r = PQexec(v->pg, bytewise ? sql_c : sql);
    if (PQresultStatus(r) != PGRES_COPY_OUT) {
        ctl_fail("ledger verify: reading transfers: %s", PQerrorMessage(v->pg));
        PQclear(r);
        goto out;
    }
    PQclear(r);
    if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
        failed = 1;
    while ((n = PQgetCopyData(v->pg, &row, 0)) > 0) {
        char *cur = row, *f[C_N];
        sl_ledger_xfer t;
        int i;

        if (row[n - 1] == '\n')
            row[n - 1] = '\0';
        for (i = 0; i < C_N; i++)
            f[i] = copy_field(&cur);
        if (!f[C_ID] || !f[C_LINK] || !f[C_CUR] || !f[C_AMOUNT] || !f[C_KIND] || !f[C_PENDING]) {
            failed = 1;
        } else if (!failed) {
            t = (sl_ledger_xfer){
                .transfer_id = f[C_ID], .link_id = f[C_LINK], .currency = f[C_CUR],
                .debit_kind = f[C_DK], .debit_holder = f[C_DH],
                .credit_kind = f[C_CK], .credit_holder = f[C_CH],
                .amount = strtoll(f[C_AMOUNT], NULL, 10), .kind = f[C_KIND],
                .pending = f[C_PENDING][0] == 't',
                .pending_id = f[C_PENDING_ID], .reverses = f[C_REVERSES],
                .usage_id = f[C_USAGE] ? strtoll(f[C_USAGE], NULL, 10) : -1,
                .payout_id = f[C_PAYOUT] ? strtoll(f[C_PAYOUT], NULL, 10) : -1,
            };
            sl_buf_reset(&line);
            if (sl_ledger_line(&t, &line) != SL_OK ||
                EVP_DigestUpdate(md, line.data, line.len) != 1)
                failed = 1;
            if (!f[C_DK] || !f[C_CK]) {
                char d[256];
                snprintf(d, sizeof d, "transfer %.100s: its %s account does not exist",
                         f[C_ID], !f[C_DK] ? "debit" : "credit");
                violation(v, "account_missing", d);
            } else if (f[C_CUR_OK] && f[C_CUR_OK][0] != 't') {
                char d[256];
                snprintf(d, sizeof d, "transfer %.100s in %.8s between accounts of"
                         " another currency", f[C_ID], f[C_CUR]);
                violation(v, "currency_mismatch", d);
            }
        }
        (*count)++;
        PQfreemem(row);
        row = NULL;
    }
    r = PQgetResult(v->pg);
    if (n == -2 || PQresultStatus(r) != PGRES_COMMAND_OK) {
        ctl_fail("ledger verify: reading transfers: %s", PQerrorMessage(v->pg));
        PQclear(r);
        goto out;
    }
    PQclear(r);
    while ((r = PQgetResult(v->pg)))
        PQclear(r);
    if (failed || EVP_DigestFinal_ex(md, dig, &dlen) != 1 || dlen != 32) {
        ctl_fail("ledger verify: hashing the transfers failed");
        goto out;
    }
    sl_hex_encode(dig, 32, hex);
    rc = CTL_OK;
out:
    EVP_MD_CTX_free(md);
    sl_buf_free(&line);
    return rc;
}

static int64_t count_of(PGconn *pg, const char *sql)
{
    PGresult *r = ctl_pg_query(pg, "ledger verify: counting", sql, 0, NULL, NULL, NULL);
    int64_t n = -1;

    if (r && PQntuples(r) == 1)
        n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return n;
}

int ctl_cmd_ledger_verify(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG,
        { "json", no_argument, NULL, 'j' },
        { NULL, 0, NULL, 0 }
    };
    verify v = { 0 };
    json_t *doc = NULL, *cur = NULL;
    PGresult *r = NULL;
    char hash[2 * 32 + 1] = "";
    int64_t ntransfers = 0, naccounts, nusage, npostings;
    int opt, json = 0, rc = CTL_FAIL;
    size_t i;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             "ledger verify", verify_usage)) != -1) {
        switch (opt) {
        case 'j': json = 1; break;
        default:
            return opt == -2 ? CTL_OK : CTL_USAGE;
        }
    }
    if (optind < argc)
        return ctl_usage_error("ledger verify", "unexpected argument \"%s\"", argv[optind]);
    if (ctl_load_config(c) != CTL_OK)
        return CTL_USAGE;
    if (!(v.violations = json_array()) || !(cur = json_array()))
        goto out;
    if (!(v.pg = ctl_pg_connect(c)))
        goto out;
    if (ctl_pg_exec(v.pg, "ledger verify", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        != CTL_OK)
        goto out;
    for (i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        int64_t t0 = sl_mono_ms();
        if (check_rows(&v, checks[i].check, checks[i].sql) != CTL_OK)
            goto out;
        sl_debug("ledger", "verify: %s in %lld ms", checks[i].check,
                 (long long)(sl_mono_ms() - t0));
    }
    {
        int64_t t0 = sl_mono_ms();
        if (hash_transfers(&v, hash, &ntransfers) != CTL_OK)
            goto out;
        sl_debug("ledger", "verify: hash in %lld ms", (long long)(sl_mono_ms() - t0));
    }
    naccounts = count_of(v.pg, "SELECT count(*) FROM ledger_accounts");
    nusage = count_of(v.pg, "SELECT count(*) FROM usage_events");
    npostings = count_of(v.pg, "SELECT count(*) FROM ledger_postings");
    if (naccounts < 0 || nusage < 0 || npostings < 0)
        goto out;
    if (!(r = ctl_pg_query(v.pg, "ledger verify: currencies",
            "SELECT currency, sum(debits_posted), sum(credits_posted), sum(debits_pending),"
            " sum(credits_pending) FROM ledger_accounts GROUP BY currency ORDER BY currency",
            0, NULL, NULL, NULL)))
        goto out;
    for (int k = 0; k < PQntuples(r); k++)
        if (json_array_append_new(cur, json_pack("{s:s, s:I, s:I, s:I, s:I}",
                "currency", PQgetvalue(r, k, 0),
                "debits_posted", (json_int_t)strtoll(PQgetvalue(r, k, 1), NULL, 10),
                "credits_posted", (json_int_t)strtoll(PQgetvalue(r, k, 2), NULL, 10),
                "debits_pending", (json_int_t)strtoll(PQgetvalue(r, k, 3), NULL, 10),
                "credits_pending", (json_int_t)strtoll(PQgetvalue(r, k, 4), NULL, 10))) != 0)
            v.oom = 1;
    PQclear(r);
    r = NULL;
    ctl_pg_exec(v.pg, "ledger verify", "COMMIT");
    if (v.oom) {
        ctl_fail("out of memory");
        goto out;
    }
    if (json) {
        doc = json_pack("{s:b, s:I, s:I, s:I, s:I, s:O, s:O, s:s}",
                        "ok", v.nviol == 0, "transfers", (json_int_t)ntransfers,
                        "accounts", (json_int_t)naccounts, "usage_events", (json_int_t)nusage,
                        "postings", (json_int_t)npostings, "currencies", cur,
                        "violations", v.violations, "hash", hash);
        if (ctl_print_json(doc) != CTL_OK)
            goto out;
    } else {
        ctl_esc e = { 0 };
        size_t k;
        json_t *o;

        printf("ledger verify: %s\n", v.nviol ? "VIOLATIONS" : "ok");
        json_array_foreach(cur, k, o) {
            json_int_t dp = json_integer_value(json_object_get(o, "debits_posted"));
            json_int_t cp = json_integer_value(json_object_get(o, "credits_posted"));
            json_int_t dq = json_integer_value(json_object_get(o, "debits_pending"));
            json_int_t cq = json_integer_value(json_object_get(o, "credits_pending"));
            printf("  %s: posted debits %" JSON_INTEGER_FORMAT " %s credits %"
                   JSON_INTEGER_FORMAT ", pending %" JSON_INTEGER_FORMAT " %s %"
                   JSON_INTEGER_FORMAT "\n",
                   ctl_e(&e, json_string_value(json_object_get(o, "currency"))),
                   dp, dp == cp ? "=" : "!=", cp, dq, dq == cq ? "=" : "!=", cq);
        }
        printf("  transfers %" PRId64 ", accounts %" PRId64 ", usage events %" PRId64
               ", postings %" PRId64 "\n", ntransfers, naccounts, nusage, npostings);
        json_array_foreach(v.violations, k, o)
            printf("  violation %s: %s\n",
                   json_string_value(json_object_get(o, "check")),
                   ctl_e(&e, json_string_value(json_object_get(o, "detail"))));
        printf("  hash sha256:%s\n", hash);
        ctl_esc_free(&e);
    }
    rc = v.nviol ? CTL_FAIL : CTL_OK;
out:
    PQclear(r);
    if (v.pg)
        PQfinish(v.pg);
    json_decref(cur);
    json_decref(v.violations);
    return rc;
}
