/*
 * cmd_ledger.c -- `sluicectl ledger balance|statement`: what the ledger
 * (018_ledger.sql, issue #13) says a creator, a consumer or the platform
 * holds, and a creator's monthly statement, checked (opening + lines =
 * closing) before anything is printed.
 *
 * Both read through services/ledger/statement_pg.c, the library the feed
 * serves creators' statements with, so the operator and the creator see
 * the same numbers; this file only turns its JSON into a table or CSV.
 * Amounts: integer micro-units in --json ("_micros"), decimals of the
 * currency's unit with six places in text and CSV.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "statement.h"
#include "statement_pg.h"

static const char ledger_usage[] =
    "usage: sluicectl ledger <command>\n"
    "The creators' earnings ledger (pg.dsn / SLUICE_PG_DSN): balances,\n"
    "statements and its invariants (verify).  Amounts are micro-units of the\n"
    "currency in --json, decimals with six places otherwise.\n";

static const char balance_usage[] =
    "usage: sluicectl ledger balance (--creator ID | --consumer NAME | --platform)\n"
    "                                [--currency C] [--json]\n"
    "An account's balances, one row per currency: posted (credits - debits:\n"
    "what a creator earned, what a consumer owes as a negative), pending\n"
    "debits (payouts not yet confirmed), available (posted - pending debits:\n"
    "what a payout may take).  --platform: the platform's fee account, the\n"
    "rounding account and payouts in transit.\n"
    "  --currency C  only that currency (three capital letters)\n"
    "  --json        one JSON array (amounts in micro-units)\n";

static const char statement_usage[] =
    "usage: sluicectl ledger statement --creator ID --month YYYY-MM\n"
    "                                  [--currency C] [--json | --csv]\n"
    "A creator's statement for a month (UTC, by when the ledger posted each\n"
    "transfer): the opening balance; a line per dataset used (samples,\n"
    "consumers, gross, fee, rounding, net); clawbacks per dataset; confirmed\n"
    "payouts; any other movement; the closing balance and the payouts still\n"
    "pending.  Opening + lines = closing is checked: a statement that does\n"
    "not balance is an error (exit 1), never printed.\n"
    "  --currency C  needed when the creator earns in several currencies\n"
    "  --json        one JSON object; each line lists the usage ids and link\n"
    "                ids (or transfer ids) behind it\n"
    "  --csv         the lines as CSV (opening, lines, totals, closing)\n";

/* Currency codes as the schema checks them: three capital letters. */
static int currency_ok(const char *s)
{
    return s && strlen(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' &&
           s[1] >= 'A' && s[1] <= 'Z' && s[2] >= 'A' && s[2] <= 'Z';
}

static int64_t jint(const json_t *o, const char *key)
{
    return (int64_t)json_integer_value(json_object_get(o, key));
}

static const char *jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* A library failure as sluicectl's message and exit code. */
static int lib_fail(const char *cmd, int rc, const sl_err *err)
{
    (void)rc;
    return ctl_fail("%s: %s", cmd, err->msg);
}

/* ---- balance ------------------------------------------------------------ */

static int print_balance(const json_t *arr, const char *kind, const char *holder)
{
    static const char *const headers[] = {
        "KIND", "HOLDER", "CURRENCY", ">POSTED", ">PENDING DEBITS",
        ">PENDING CREDITS", ">AVAILABLE"
    };
    ctl_table *t;
    size_t i;
    json_t *o;

    if (json_array_size(arr) == 0) {
        ctl_esc e = { 0 };
        printf("no ledger account for %s%s%s: nothing posted (balance 0)\n",
               kind, holder ? " " : "", holder ? ctl_e(&e, holder) : "");
        ctl_esc_free(&e);
        return CTL_OK;
    }
    if (!(t = ctl_table_new(7, headers)))
        return ctl_fail("out of memory");
    json_array_foreach(arr, i, o) {
        char a[4][SL_AMOUNT_MAX];
        const char *row[7] = {
            jstr(o, "kind"), jstr(o, "holder")[0] ? jstr(o, "holder") : "-",
            jstr(o, "currency"),
            sl_amount_format(jint(o, "posted_micros"), a[0]),
            sl_amount_format(jint(o, "debits_pending_micros"), a[1]),
            sl_amount_format(jint(o, "credits_pending_micros"), a[2]),
            sl_amount_format(jint(o, "available_micros"), a[3]),
        };
        if (ctl_table_add(t, row) != SL_OK) {
            ctl_table_destroy(t);
            return ctl_fail("out of memory");
        }
    }
    ctl_table_print(t, stdout, "");
    ctl_table_destroy(t);
    return CTL_OK;
}

static int ledger_balance(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG,
        { "creator", required_argument, NULL, 'C' },
        { "consumer", required_argument, NULL, 'N' },
        { "platform", no_argument, NULL, 'P' },
        { "currency", required_argument, NULL, 'u' },
        { "json", no_argument, NULL, 'j' },
        { 0 }
    };
    const char *kind = NULL, *holder = NULL, *currency = NULL;
    PGconn *pg = NULL;
    json_t *out = NULL;
    sl_err err = { "" };
    int opt, rc, json = 0, n = 0;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             "ledger balance", balance_usage)) != -1) {
        switch (opt) {
        case 'C': kind = "creator"; holder = optarg; n++; break;
        case 'N': kind = "consumer"; holder = optarg; n++; break;
        case 'P': kind = "platform"; holder = NULL; n++; break;
        case 'u': currency = optarg; break;
        case 'j': json = 1; break;
        default: return ctl_getopt_exit(opt);
        }
    }
    if (optind < argc)
        return ctl_usage_error("ledger balance", "unexpected argument \"%s\"",
                               argv[optind]);
    if (n != 1)
        return ctl_usage_error("ledger balance", "name exactly one of "
                               "--creator, --consumer, --platform");
    if (holder && ctl_check_id(holder) != SL_OK)
        return ctl_usage_error("ledger balance", "\"%s\" is not a valid %s ID",
                               holder, kind);
    if (currency && !currency_ok(currency))
        return ctl_usage_error("ledger balance", "--currency wants three "
                               "capital letters (\"USD\"), got \"%s\"", currency);
    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    if (!(pg = ctl_pg_connect(c)))
        return CTL_FAIL;
    if ((rc = sl_stmt_pg_balance(pg, kind, holder, currency, &out, &err)) != SL_OK)
        rc = lib_fail("ledger balance", rc, &err);
    else if (json) {
        rc = ctl_print_json(out);
        out = NULL;
    } else
        rc = print_balance(out, kind, holder);
    json_decref(out);
    PQfinish(pg);
    return rc;
}

/* ---- statement ---------------------------------------------------------- */

/* The dataset column of a line: its dataset, "#ID" of a payout, the kind
 * of an "other" movement. */
static const char *line_what(const json_t *l, char *buf, size_t n)
{
    const char *type = jstr(l, "type");

    if (strcmp(type, "payout") == 0) {
        snprintf(buf, n, "payout #%lld", (long long)jint(l, "payout_id"));
        return buf;
    }
    if (strcmp(type, "other") == 0)
        return jstr(l, "kind");
    return jstr(l, "dataset_id");
}

static int print_statement_text(const json_t *s)
{
    static const char *const headers[] = {
        "LINE", "DATASET", ">SAMPLES", ">CONSUMERS", ">GROSS", ">FEE",
        ">ROUNDING", ">NET"
    };
    const json_t *tot = json_object_get(s, "totals");
    ctl_table *t = ctl_table_new(8, headers);
    ctl_esc e = { 0 };
    char a[6][SL_AMOUNT_MAX], cnt[2][24], what[64];
    size_t i;
    json_t *l;

    if (!t)
        return ctl_fail("out of memory");
    printf("statement of creator %s for %s (%s), %s to %s\n",
           ctl_e(&e, jstr(s, "creator_id")), jstr(s, "month"),
           jstr(s, "currency"), jstr(s, "from"), jstr(s, "to"));
    printf("  opening balance   %s\n",
           sl_amount_format(jint(s, "opening_micros"), a[0]));
    json_array_foreach(json_object_get(s, "lines"), i, l) {
        int earn = strcmp(jstr(l, "type"), "earnings") == 0;
        int claw = strcmp(jstr(l, "type"), "clawback") == 0;
        const char *row[8];

        snprintf(cnt[0], sizeof(cnt[0]), "%lld", (long long)jint(l, "samples"));
        snprintf(cnt[1], sizeof(cnt[1]), "%lld", (long long)jint(l, "consumers"));
        row[0] = jstr(l, "type");
        row[1] = line_what(l, what, sizeof(what));
        row[2] = earn || claw ? cnt[0] : "";
        row[3] = earn ? cnt[1] : "";
        row[4] = earn ? sl_amount_format(jint(l, "gross_micros"), a[1]) : "";
        row[5] = earn ? sl_amount_format(jint(l, "fee_micros"), a[2]) : "";
        row[6] = earn ? sl_amount_format(jint(l, "rounding_micros"), a[3]) : "";
        row[7] = sl_amount_format(jint(l, "net_micros"), a[4]);
        if (ctl_table_add(t, row) != SL_OK) {
            ctl_table_destroy(t);
            ctl_esc_free(&e);
            return ctl_fail("out of memory");
        }
    }
    if (ctl_table_rows(t)) {
        const char *row[8];
        snprintf(cnt[0], sizeof(cnt[0]), "%lld", (long long)jint(tot, "samples"));
        row[0] = "total"; row[1] = ""; row[2] = cnt[0]; row[3] = "";
        row[4] = sl_amount_format(jint(tot, "gross_micros"), a[1]);
        row[5] = sl_amount_format(jint(tot, "fee_micros"), a[2]);
        row[6] = sl_amount_format(jint(tot, "rounding_micros"), a[3]);
        row[7] = sl_amount_format(jint(tot, "net_micros"), a[4]);
        if (ctl_table_add(t, row) != SL_OK) {
            ctl_table_destroy(t);
            ctl_esc_free(&e);
            return ctl_fail("out of memory");
        }
        putchar('\n');
        ctl_table_print(t, stdout, "  ");
        putchar('\n');
    } else {
        printf("  no movements this month\n");
    }
    printf("  closing balance   %s\n",
           sl_amount_format(jint(s, "closing_micros"), a[0]));
    printf("  pending payouts   %s\n",
           sl_amount_format(jint(s, "pending_payouts_micros"), a[5]));
    printf("  checked: opening + lines = closing\n");
    ctl_table_destroy(t);
    ctl_esc_free(&e);
    return CTL_OK;
}

/* One CSV row: creator_id,currency,month,line,dataset_id,payout_id,
 * samples,consumers,gross,fee,rounding,net (empty where not applicable). */
static int csv_row(sl_buf *b, const json_t *s, const char *line,
                   const char *dataset, int64_t payout, const int64_t *samples,
                   const int64_t *consumers, const json_t *split, int64_t net)
{
    char a[SL_AMOUNT_MAX];
    int rc = SL_OK;

    rc |= sl_csv_field(b, jstr(s, "creator_id"));
    rc |= sl_buf_appendf(b, ",%s,%s,", jstr(s, "currency"), jstr(s, "month"));
    rc |= sl_csv_field(b, line);
    rc |= sl_buf_putc(b, ',');
    rc |= sl_csv_field(b, dataset ? dataset : "");
    rc |= payout ? sl_buf_appendf(b, ",%lld,", (long long)payout)
                 : sl_buf_appendf(b, ",,");
    if (samples)
        rc |= sl_buf_appendf(b, "%lld", (long long)*samples);
    rc |= sl_buf_putc(b, ',');
    if (consumers)
        rc |= sl_buf_appendf(b, "%lld", (long long)*consumers);
    rc |= sl_buf_putc(b, ',');
    if (split) {
        rc |= sl_buf_appendf(b, "%s,", sl_amount_format(jint(split, "gross_micros"), a));
        rc |= sl_buf_appendf(b, "%s,", sl_amount_format(jint(split, "fee_micros"), a));
        rc |= sl_buf_appendf(b, "%s,", sl_amount_format(jint(split, "rounding_micros"), a));
    } else {
        rc |= sl_buf_appendf(b, ",,,");
    }
    rc |= sl_buf_appendf(b, "%s\r\n", sl_amount_format(net, a));
    return rc ? SL_ENOMEM : SL_OK;
}

static int print_statement_csv(const json_t *s)
{
    const json_t *tot = json_object_get(s, "totals");
    sl_buf b;
    size_t i;
    json_t *l;
    int rc = SL_OK;

    sl_buf_init(&b, (size_t)1 << 30);
    rc |= sl_buf_appendf(&b, "creator_id,currency,month,line,dataset_id,"
                         "payout_id,samples,consumers,gross,fee,rounding,net\r\n");
    rc |= csv_row(&b, s, "opening", NULL, 0, NULL, NULL, NULL,
                  jint(s, "opening_micros"));
    json_array_foreach(json_object_get(s, "lines"), i, l) {
        const char *type = jstr(l, "type");
        int earn = strcmp(type, "earnings") == 0;
        int64_t smp = jint(l, "samples"), con = jint(l, "consumers");
        const char *ds = strcmp(type, "other") == 0 ? jstr(l, "kind")
                       : strcmp(type, "payout") == 0 ? NULL : jstr(l, "dataset_id");

        rc |= csv_row(&b, s, type, ds, jint(l, "payout_id"),
                      earn || strcmp(type, "clawback") == 0 ? &smp : NULL,
                      earn ? &con : NULL, earn ? l : NULL, jint(l, "net_micros"));
    }
    {
        int64_t smp = jint(tot, "samples");
        rc |= csv_row(&b, s, "total", NULL, 0, &smp, NULL, tot,
                      jint(tot, "net_micros"));
    }
    rc |= csv_row(&b, s, "closing", NULL, 0, NULL, NULL, NULL,
                  jint(s, "closing_micros"));
    if (rc == SL_OK)
        fwrite(b.data, 1, b.len, stdout);
    sl_buf_free(&b);
    return rc == SL_OK ? CTL_OK : ctl_fail("out of memory");
}

static int ledger_statement(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG,
        { "creator", required_argument, NULL, 'C' },
        { "month", required_argument, NULL, 'm' },
        { "currency", required_argument, NULL, 'u' },
        { "json", no_argument, NULL, 'j' },
        { "csv", no_argument, NULL, 'x' },
        { 0 }
    };
    const char *creator = NULL, *month = NULL, *currency = NULL;
    PGconn *pg = NULL;
    json_t *s = NULL;
    sl_err err = { "" };
    int opt, rc, json = 0, csv = 0, y, m;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             "ledger statement", statement_usage)) != -1) {
        switch (opt) {
        case 'C': creator = optarg; break;
        case 'm': month = optarg; break;
        case 'u': currency = optarg; break;
        case 'j': json = 1; break;
        case 'x': csv = 1; break;
        default: return ctl_getopt_exit(opt);
        }
    }
    if (optind < argc)
        return ctl_usage_error("ledger statement", "unexpected argument \"%s\"",
                               argv[optind]);
    if (!creator || !month)
        return ctl_usage_error("ledger statement", "--creator and --month "
                               "are required");
    if (json && csv)
        return ctl_usage_error("ledger statement", "--json and --csv together");
    if (ctl_check_id(creator) != SL_OK)
        return ctl_usage_error("ledger statement", "\"%s\" is not a valid "
                               "creator ID", creator);
    if (sl_month_parse(month, &y, &m) != SL_OK)
        return ctl_usage_error("ledger statement", "--month wants YYYY-MM "
                               "(2000-01 or later), got \"%s\"", month);
    if (currency && !currency_ok(currency))
        return ctl_usage_error("ledger statement", "--currency wants three "
                               "capital letters (\"USD\"), got \"%s\"", currency);
    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    if (!(pg = ctl_pg_connect(c)))
        return CTL_FAIL;
    if ((rc = sl_stmt_pg_statement(pg, creator, month, currency, &s, &err)) != SL_OK)
        rc = lib_fail("ledger statement", rc, &err);
    else if (json) {
        rc = ctl_print_json(s);
        s = NULL;
    } else if (csv)
        rc = print_statement_csv(s);
    else
        rc = print_statement_text(s);
    json_decref(s);
    PQfinish(pg);
    return rc;
}

int ctl_cmd_ledger(ctl *c, int argc, char **argv)
{
    static const ctl_cmd subs[] = {
        { "balance", ledger_balance, "an account's balances per currency" },
        { "statement", ledger_statement, "a creator's monthly statement, checked" },
        { "verify", ctl_cmd_ledger_verify, "the invariants and the ledger hash (cmd_ledger_verify.c)" },
        { NULL, NULL, NULL }
    };

    return ctl_dispatch(c, "ledger", subs, argc, argv, ledger_usage);
}
