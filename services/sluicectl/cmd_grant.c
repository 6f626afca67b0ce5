/*
 * cmd_grant.c -- `sluicectl grant add|list|revoke`: which consumer may read
 * which dataset, at what price per sample delivered, until when, and
 * narrowed to which licenses (table grants, 017_feed.sql).
 *
 * A grant's --require-rights names rights of a sample's bound license
 * (args.h: training, commercial); the grant keeps the keys the license
 * stage writes in the sample's license record -> 'rights' (training_allowed,
 * commercial_allowed) and the feed shows only samples for which each is
 * true (feed_license_allows()).  A consumer has at most one live grant per
 * dataset; to change one, revoke it and add another (usage events keep the
 * grant, and so the price, they were charged under).  Every change sends
 * pg_notify('sluice_feed_auth', '') in its own statement's transaction, so
 * feed instances drop what they cached at the commit.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl/timeutil.h"
#include "ctl.h"

/* Prices are integer micro-units; 10^12 micros (a million per sample) is
 * more than any price, and far from overflowing a sum. */
#define GRANT_PRICE_MAX INT64_C(1000000000000)

static const char grant_usage[] =
    "usage: sluicectl grant <command>\n"
    "Grants: a consumer may read a dataset through the feed, at a price per\n"
    "sample delivered.  pg.dsn / SLUICE_PG_DSN.\n";

static const char add_usage[] =
    "usage: sluicectl grant add --consumer NAME --dataset ID\n"
    "       [--price MICROS_PER_SAMPLE] [--currency USD] [--until TIME]\n"
    "       [--require-rights training,commercial]\n"
    "Let a consumer read a dataset from now on.  Prints the grant's ID.  A\n"
    "consumer has at most one live grant per dataset (revoke it to change\n"
    "it).\n"
    "  --price N         integer micro-units of the currency charged per\n"
    "                    sample delivered (default 0)\n"
    "  --currency C      three capital letters, ISO 4217 (default USD)\n"
    "  --until TIME      end of the grant, RFC 3339 (2027-01-31T00:00:00Z),\n"
    "                    in the future; default: open-ended\n"
    "  --require-rights  only samples whose bound license allows each of\n"
    "                    these uses: " CTL_RIGHTS_NAMES " (comma-separated;\n"
    "                    the license stage's rights table decides)\n";

static const char list_usage[] =
    "usage: sluicectl grant list [--consumer NAME] [--dataset ID] [--json]\n"
    "List grants (all, or a consumer's or a dataset's): ID, consumer,\n"
    "dataset, price, currency, required rights, validity and state (live,\n"
    "pending, expired, revoked).  --json: one JSON array.\n";

static const char revoke_usage[] =
    "usage: sluicectl grant revoke GRANT_ID\n"
    "Revoke a grant: the consumer's tokens stop reading the dataset on their\n"
    "next request, on every feed instance.  Usage recorded under it is kept.\n";

/* What `grant add` was asked. */
typedef struct add_args {
    const char *consumer, *dataset, *currency, *until, *rights;
    int64_t price;
    char rights_array[CTL_RIGHTS_ARRAY_MAX];
} add_args;

static int add_check(add_args *a)
{
    unsigned mask;
    int64_t ms;
    long bad;

    if (!a->consumer || !a->dataset)
        return ctl_usage_error("grant add", "--consumer and --dataset are "
                               "required");
    if (ctl_check_name(a->consumer) != SL_OK)
        return ctl_usage_error("grant add", "--consumer: \"%s\" is not a "
                               "consumer name", a->consumer);
    if (ctl_check_id(a->dataset) != SL_OK)
        return ctl_usage_error("grant add", "--dataset: \"%s\" is not a "
                               "dataset ID", a->dataset);
    if (ctl_check_currency(a->currency) != SL_OK)
        return ctl_usage_error("grant add", "--currency: \"%s\" is not a "
                               "currency code (three capital letters, e.g. "
                               "USD)", a->currency);
    if (a->until && (sl_time_parse(a->until, strlen(a->until), &ms) != SL_OK))
        return ctl_usage_error("grant add", "--until: \"%s\" is not an RFC "
                               "3339 time (e.g. 2027-01-31T00:00:00Z)",
                               a->until);
    if (a->until && ms <= sl_now_ms())
        return ctl_usage_error("grant add", "--until: %s is not in the "
                               "future", a->until);
    if (a->rights) {
        if (ctl_rights_parse(a->rights, &mask, &bad) != SL_OK)
            return ctl_usage_error("grant add", "--require-rights: \"%s\": "
                                   "unknown right at \"%s\" (known: %s)",
                                   a->rights, a->rights + bad,
                                   CTL_RIGHTS_NAMES);
        ctl_rights_array(mask, a->rights_array);
    }
    return CTL_OK;
}

/* One statement: the checks, the insert and the notification. */
static PGresult *insert_grant(PGconn *pg, const add_args *a)
{
    char price[32];
    const char *vals[7] = {
        a->consumer, a->dataset, price, a->currency,
        a->rights ? a->rights_array : NULL, a->until, ctl_operator(NULL)
    };

    snprintf(price, sizeof(price), "%" PRId64, a->price);
    return ctl_pg_query(pg, "grant add",
        "WITH k AS (SELECT status FROM consumers WHERE consumer_id = $1),"
        " d AS (SELECT 1 FROM datasets WHERE dataset_id = $2),"
        " live AS (SELECT grant_id FROM grants WHERE consumer_id = $1"
        "          AND dataset_id = $2 AND revoked_at IS NULL),"
        " ins AS (INSERT INTO grants (consumer_id, dataset_id, price_micros,"
        "          currency, require_rights, valid_until, created_by)"
        "         SELECT $1, $2, $3::bigint, $4, $5::text[], $6::timestamptz, $7"
        "          WHERE EXISTS (SELECT 1 FROM k WHERE status = 'active')"
        "          AND EXISTS (SELECT 1 FROM d)"
        "          AND NOT EXISTS (SELECT 1 FROM live)"
        "         RETURNING grant_id)"
        " SELECT (SELECT status FROM k), (SELECT count(*) FROM d),"
        "  (SELECT grant_id FROM live), (SELECT grant_id FROM ins),"
        "  pg_notify('sluice_feed_auth', '')", 7, vals, NULL, NULL);
}

static int grant_add(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG,
        { "consumer", required_argument, NULL, 'C' },
        { "dataset", required_argument, NULL, 'd' },
        { "price", required_argument, NULL, 'p' },
        { "currency", required_argument, NULL, 'y' },
        { "until", required_argument, NULL, 'u' },
        { "require-rights", required_argument, NULL, 'R' },
        { 0 }
    };
    add_args a = { .currency = "USD" };
    PGconn *pg = NULL;
    PGresult *r = NULL;
    int opt, rc;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             "grant add", add_usage)) != -1) {
        switch (opt) {
        case 'C': a.consumer = optarg; break;
        case 'd': a.dataset = optarg; break;
        case 'y': a.currency = optarg; break;
        case 'u': a.until = optarg; break;
        case 'R': a.rights = optarg; break;
        case 'p':
            if (ctl_parse_int(optarg, 0, GRANT_PRICE_MAX, &a.price) != SL_OK)
                return ctl_usage_error("grant add", "--price: \"%s\" is not "
                                       "an integer 0..%" PRId64 " (micro-units "
                                       "per sample)", optarg, GRANT_PRICE_MAX);
            break;
        default: return ctl_getopt_exit(opt);
        }
    }
    if (optind < argc)
        return ctl_usage_error("grant add", "unexpected argument \"%s\"",
                               argv[optind]);
    if ((rc = add_check(&a)) != CTL_OK || (rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    rc = CTL_FAIL;
    if (!(pg = ctl_pg_connect(c)) || !(r = insert_grant(pg, &a)))
        goto out;
    if (PQgetisnull(r, 0, 0))
        rc = ctl_fail("grant add: no consumer \"%s\"", a.consumer);
    else if (strcmp(PQgetvalue(r, 0, 0), "active") != 0)
        rc = ctl_fail("grant add: consumer \"%s\" is disabled", a.consumer);
    else if (strcmp(PQgetvalue(r, 0, 1), "0") == 0)
        rc = ctl_fail("grant add: no dataset \"%s\"", a.dataset);
    else if (!PQgetisnull(r, 0, 2))
        rc = ctl_fail("grant add: consumer \"%s\" already has grant %s on "
                      "dataset \"%s\"\nHint: revoke it first (sluicectl "
                      "grant revoke %s).", a.consumer, PQgetvalue(r, 0, 2),
                      a.dataset, PQgetvalue(r, 0, 2));
    else {
        printf("grant %s: consumer %s may read dataset %s at %" PRId64
               " micro-%s per sample%s%s%s%s\n", PQgetvalue(r, 0, 3),
               a.consumer, a.dataset, a.price, a.currency,
               a.until ? " until " : "", a.until ? a.until : "",
               a.rights ? ", requiring " : "",
               a.rights ? a.rights_array : "");
        rc = CTL_OK;
    }
out:
    PQclear(r);
    PQfinish(pg);
    return rc;
}

#define GRANT_TIME(col) \
    " to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static int grant_list(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG,
        { "consumer", required_argument, NULL, 'C' },
        { "dataset", required_argument, NULL, 'd' },
        { "json", no_argument, NULL, 'j' },
        { 0 }
    };
    static const char *const headers[] = {
        ">ID", "CONSUMER", "DATASET", ">PRICE", "CUR", "RIGHTS", "FROM",
        "UNTIL", "STATE"
    };
    static const int cols[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8 };
    static const ctl_list_field fields[] = {
        { "grant_id", 0, 1, 0 }, { "consumer_id", 1, 0, 0 },
        { "dataset_id", 2, 0, 0 }, { "price_micros", 3, 1, 0 },
        { "currency", 4, 0, 0 }, { "require_rights", 5, 0, 1 },
        { "valid_from", 6, 0, 0 }, { "valid_until", 7, 0, 1 },
        { "state", 8, 0, 0 }, { "created_by", 9, 0, 0 },
        { "revoked_at", 10, 0, 1 },
    };
    static const ctl_list_spec list = {
        "grant list", list_usage, NULL,
        9, headers, cols, "no grants", 11, fields,
    };
    const char *consumer = NULL, *dataset = NULL;
    PGconn *pg = NULL;
    PGresult *r = NULL;
    int json = 0, opt, rc;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             "grant list", list_usage)) != -1) {
        switch (opt) {
        case 'C': consumer = optarg; break;
        case 'd': dataset = optarg; break;
        case 'j': json = 1; break;
        default: return ctl_getopt_exit(opt);
        }
    }
    if (optind < argc)
        return ctl_usage_error("grant list", "unexpected argument \"%s\"",
                               argv[optind]);
    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    rc = CTL_FAIL;
    if (!(pg = ctl_pg_connect(c)))
        goto out;
    {
        const char *vals[2] = { consumer, dataset };
        if (!(r = ctl_pg_query(pg, "grant list",
                "SELECT grant_id, consumer_id, dataset_id, price_micros,"
                " currency, array_to_string(require_rights, ','),"
                GRANT_TIME("valid_from") "," GRANT_TIME("valid_until") ","
                " CASE WHEN revoked_at IS NOT NULL THEN 'revoked'"
                "  WHEN valid_until IS NOT NULL AND valid_until <= now()"
                "   THEN 'expired'"
                "  WHEN valid_from > now() THEN 'pending'"
                "  ELSE 'live' END,"
                " created_by," GRANT_TIME("revoked_at")
                " FROM grants"
                " WHERE ($1::text IS NULL OR consumer_id = $1)"
                " AND ($2::text IS NULL OR dataset_id = $2)"
                " ORDER BY grant_id", 2, vals, NULL, NULL)))
            goto out;
    }
    rc = ctl_list_output(&list, r, json);
out:
    PQclear(r);
    PQfinish(pg);
    return rc;
}

static int grant_revoke(ctl *c, int argc, char **argv)
{
    static const ctl_revoke_spec spec = {
        .what = "grant", .usage = revoke_usage, .table = "grants", .id_col = "grant_id",
        .id_name = "GRANT_ID"
    };
    return ctl_revoke_by_id(c, argc, argv, &spec);
}

int ctl_cmd_grant(ctl *c, int argc, char **argv)
{
    static const ctl_cmd subs[] = {
        { "add", grant_add, "let a consumer read a dataset" },
        { "list", grant_list, "list grants" },
        { "revoke", grant_revoke, "revoke a grant" },
        { NULL, NULL, NULL }
    };

    return ctl_dispatch(c, "grant", subs, argc, argv, grant_usage);
}
