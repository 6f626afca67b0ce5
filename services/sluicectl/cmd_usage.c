/*
 * cmd_usage.c -- `sluicectl usage`: what the feed delivered, from the
 * usage events it records (table usage_events, 017_feed.sql): one per
 * consumer and sample whose content was delivered, with the price of the
 * grant it was delivered under.  The input of creators' payouts.
 *
 * One of a consumer, a creator or a dataset; optionally since a time.
 * Prints one row per dataset, consumer and currency (samples, sum of
 * prices) and the totals per currency, as a table or one JSON object.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl/timeutil.h"
#include "ctl.h"

static const char usage_usage[] =
    "usage: sluicectl usage (--consumer NAME | --creator ID | --dataset ID)\n"
    "       [--since TIME] [--json]\n"
    "What the feed delivered: samples whose content reached a consumer\n"
    "(each counted once per consumer) and the sum of their prices, per\n"
    "dataset, consumer and currency, then the totals per currency.\n"
    "  --consumer NAME  what this consumer received\n"
    "  --creator ID     what was delivered of this creator's samples\n"
    "  --dataset ID     what was delivered of this dataset\n"
    "  --since TIME     only deliveries at or after TIME (RFC 3339)\n"
    "  --json           one JSON object: {\"consumer_id\"|\"creator_id\"|\n"
    "                   \"dataset_id\", \"since\", \"rows\": [...],\n"
    "                   \"totals\": [...]}; prices in micro-units\n"
    "pg.dsn / SLUICE_PG_DSN.\n";

/* Who or what the report is about. */
typedef struct usage_of {
    const char *key;       /* consumer_id, creator_id, dataset_id */
    const char *value;
    const char *table;     /* where it must exist */
} usage_of;

/* CTL_OK when the subject exists, else CTL_FAIL after saying so. */
static int check_subject(PGconn *pg, const usage_of *u)
{
    char sql[160];
    const char *vals[1] = { u->value };
    PGresult *r;
    int rc;

    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE %s = $1",
             u->table, u->key);
    if (!(r = ctl_pg_query(pg, "usage", sql, 1, vals, NULL, NULL)))
        return CTL_FAIL;
    rc = strcmp(PQgetvalue(r, 0, 0), "0") != 0 ? CTL_OK
        : ctl_fail("usage: no %.*s \"%s\"",
                   (int)(strchr(u->key, '_') - u->key), u->key, u->value);
    PQclear(r);
    return rc;
}

/* Rows per (dataset, consumer, currency), then per currency (column 0:
 * 1 for a total). */
static PGresult *query_usage(PGconn *pg, const usage_of *u, const char *since)
{
    char sql[1024];
    const char *vals[2] = { u->value, since };

    snprintf(sql, sizeof(sql),
        "SELECT grouping(dataset_id, consumer_id), dataset_id, consumer_id,"
        " count(*), sum(price_micros), currency"
        " FROM usage_events"
        " WHERE %s = $1 AND ($2::timestamptz IS NULL OR delivered_at >= $2)"
        " GROUP BY GROUPING SETS ((dataset_id, consumer_id, currency),"
        "                         (currency))"
        " ORDER BY 1, 2, 3, 6", u->key);
    return ctl_pg_query(pg, "usage", sql, 2, vals, NULL, NULL);
}

static int print_table(const usage_of *u, const char *since, PGresult *r)
{
    static const char *const headers[] = {
        "DATASET", "CONSUMER", ">SAMPLES", ">PRICE_MICROS", "CURRENCY"
    };
    ctl_table *t = ctl_table_new(5, headers);
    int totals = 0;

    if (!t)
        return ctl_fail("out of memory");
    for (int i = 0; i < PQntuples(r); i++) {
        const char *cells[5] = {
            PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), PQgetvalue(r, i, 3),
            PQgetvalue(r, i, 4), PQgetvalue(r, i, 5)
        };
        if (strcmp(PQgetvalue(r, i, 0), "0") != 0)
            continue;
        if (ctl_table_add(t, cells) != SL_OK) {
            ctl_table_destroy(t);
            return ctl_fail("out of memory");
        }
    }
    printf("usage of %.*s %s%s%s\n", (int)(strchr(u->key, '_') - u->key),
           u->key, u->value, since ? " since " : "", since ? since : "");
    if (ctl_table_rows(t) == 0)
        printf("no deliveries\n");
    else
        ctl_table_print(t, stdout, "");
    ctl_table_destroy(t);
    for (int i = 0; i < PQntuples(r); i++) {
        if (strcmp(PQgetvalue(r, i, 0), "0") == 0)
            continue;
        printf("total: %s samples, %s micro-%s\n", PQgetvalue(r, i, 3),
               PQgetvalue(r, i, 4), PQgetvalue(r, i, 5));
        totals++;
    }
    if (!totals)
        printf("total: 0 samples\n");
    return CTL_OK;
}

static int print_json(const usage_of *u, const char *since, PGresult *r)
{
    json_t *o = json_object(), *rows = json_array(), *totals = json_array();
    int rc = 0;

    if (!o || !rows || !totals)
        goto oom;
    rc |= json_object_set_new(o, u->key, json_string(u->value));
    rc |= json_object_set_new(o, "since", since ? json_string(since) : json_null());
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        int total = strcmp(PQgetvalue(r, i, 0), "0") != 0;
        json_t *e = json_object();

        if (!e || json_array_append_new(total ? totals : rows, e) != 0)
            goto oom;
        if (!total) {
            rc |= json_object_set_new(e, "dataset_id", json_string(PQgetvalue(r, i, 1)));
            rc |= json_object_set_new(e, "consumer_id", json_string(PQgetvalue(r, i, 2)));
        }
        rc |= json_object_set_new(e, "samples",
            json_integer((json_int_t)strtoll(PQgetvalue(r, i, 3), NULL, 10)));
        rc |= json_object_set_new(e, "price_micros",
            json_integer((json_int_t)strtoll(PQgetvalue(r, i, 4), NULL, 10)));
        rc |= json_object_set_new(e, "currency", json_string(PQgetvalue(r, i, 5)));
    }
    rc |= json_object_set_new(o, "rows", rows);
    rows = NULL;
    rc |= json_object_set_new(o, "totals", totals);
    totals = NULL;
    if (rc != 0)
        goto oom;
    return ctl_print_json(o);
oom:
    json_decref(o);
    json_decref(rows);
    json_decref(totals);
    return ctl_fail("out of memory");
}

int ctl_cmd_usage(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG,
        { "consumer", required_argument, NULL, 'C' },
        { "creator", required_argument, NULL, 'r' },
        { "dataset", required_argument, NULL, 'd' },
        { "since", required_argument, NULL, 's' },
        { "json", no_argument, NULL, 'j' },
        { 0 }
    };
    usage_of u = { 0 };
    const char *since = NULL;
    PGconn *pg = NULL;
    PGresult *r = NULL;
    int json = 0, n = 0, opt, rc;
    int64_t ms;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             "usage", usage_usage)) != -1) {
        switch (opt) {
        case 'C': u = (usage_of){ "consumer_id", optarg, "consumers" }; n++; break;
        case 'r': u = (usage_of){ "creator_id", optarg, "creators" }; n++; break;
        case 'd': u = (usage_of){ "dataset_id", optarg, "datasets" }; n++; break;
        case 's': since = optarg; break;
        case 'j': json = 1; break;
        default: return ctl_getopt_exit(opt);
        }
    }
    if (optind < argc)
        return ctl_usage_error("usage", "unexpected argument \"%s\"",
                               argv[optind]);
    if (n != 1)
        return ctl_usage_error("usage", "give one of --consumer, --creator "
                               "and --dataset");
    if (ctl_check_id(u.value) != SL_OK)
        return ctl_usage_error("usage", "\"%s\" is not a valid ID", u.value);
    if (since && sl_time_parse(since, strlen(since), &ms) != SL_OK)
        return ctl_usage_error("usage", "--since: \"%s\" is not an RFC 3339 "
                               "time (e.g. 2026-12-01T00:00:00Z)", since);
    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    rc = CTL_FAIL;
    if (!(pg = ctl_pg_connect(c)) || check_subject(pg, &u) != CTL_OK ||
        !(r = query_usage(pg, &u, since)))
        goto out;
    rc = json ? print_json(&u, since, r) : print_table(&u, since, r);
out:
    PQclear(r);
    PQfinish(pg);
    return rc;
}
