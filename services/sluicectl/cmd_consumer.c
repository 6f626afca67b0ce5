/*
 * cmd_consumer.c -- `sluicectl consumer add|list|disable`: the buyers whose
 * model updaters read the feed (table consumers, 017_feed.sql).
 *
 * A consumer reads what its grants allow (cmd_grant.c) with its tokens
 * (cmd_token.c).  Disabling one stops every token of it on its next
 * request: the change and pg_notify('sluice_feed_auth', '') are one
 * statement, so every feed instance drops what it cached at the commit.
 * A consumer is never deleted: its usage events name it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static const char consumer_usage[] =
    "usage: sluicectl consumer <command>\n"
    "Consumers: the buyers whose model updaters read the feed\n"
    "(sluice-feed).  pg.dsn / SLUICE_PG_DSN.\n";

static const char add_usage[] =
    "usage: sluicectl consumer add NAME [--name DISPLAY]\n"
    "Register a consumer.  NAME: 1-64 of A-Z a-z 0-9 . _ -, starting with a\n"
    "letter or digit.  It reads nothing until granted a dataset\n"
    "(`sluicectl grant add`) and issued a token (`sluicectl token issue`).\n"
    "  --name DISPLAY  a display name (up to 200 bytes, no control\n"
    "                  characters)\n";

static const char list_usage[] =
    "usage: sluicectl consumer list [--json]\n"
    "List consumers: name, display name, status, live grants, live tokens.\n"
    "--json: one JSON array.\n";

static const char disable_usage[] =
    "usage: sluicectl consumer disable NAME\n"
    "Disable a consumer: its tokens stop working on their next request, on\n"
    "every feed instance.  Its grants, tokens and usage are kept.\n";

static int consumer_add(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG, { "name", required_argument, NULL, 'n' }, { 0 }
    };
    const char *display = "", *name;
    PGconn *pg = NULL;
    PGresult *r = NULL;
    int opt, rc;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             "consumer add", add_usage)) != -1) {
        if (opt == 'n')
            display = optarg;
        else
            return ctl_getopt_exit(opt);
    }
    if (argc - optind != 1)
        return ctl_usage_error("consumer add", argc - optind ?
                               "expected exactly one consumer NAME" :
                               "missing consumer NAME");
    name = argv[optind];
    if (ctl_check_name(name) != SL_OK)
        return ctl_usage_error("consumer add", "\"%s\" is not a valid name "
                               "(1-64 of A-Z a-z 0-9 . _ -, starting with a "
                               "letter or digit)", name);
    if (display[0] && ctl_check_note(display, 200) != SL_OK)
        return ctl_usage_error("consumer add", "--name must be up to 200 "
                               "bytes without control characters");
    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    rc = CTL_FAIL;
    if (!(pg = ctl_pg_connect(c)))
        goto out;
    {
        const char *vals[2] = { name, display };
        if (!(r = ctl_pg_query(pg, "consumer add",
                "INSERT INTO consumers (consumer_id, display_name)"
                " VALUES ($1, $2) ON CONFLICT (consumer_id) DO NOTHING"
                " RETURNING consumer_id", 2, vals, NULL, NULL)))
            goto out;
    }
    if (PQntuples(r) == 0) {
        rc = ctl_fail("consumer add: consumer \"%s\" exists already", name);
        goto out;
    }
    printf("consumer %s added\n", name);
    rc = CTL_OK;
out:
    PQclear(r);
    PQfinish(pg);
    return rc;
}

static int consumer_list(ctl *c, int argc, char **argv)
{
    static const char *const headers[] = {
        "CONSUMER", "NAME", "STATUS", "CREATED", ">GRANTS", ">TOKENS"
    };
    static const int cols[] = { 0, 1, 2, 3, 5, 6 };
    static const ctl_list_field fields[] = {
        { "consumer_id", 0, 0, 0 }, { "display_name", 1, 0, 0 },
        { "status", 2, 0, 0 }, { "created_at", 3, 0, 0 },
        { "disabled_at", 4, 0, 1 }, { "live_grants", 5, 1, 0 },
        { "live_tokens", 6, 1, 0 },
    };
    static const ctl_list_spec list = {
        "consumer list", list_usage,
        "SELECT k.consumer_id, k.display_name, k.status,"
        " to_char(k.created_at AT TIME ZONE 'UTC',"
        "         'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
        " to_char(k.disabled_at AT TIME ZONE 'UTC',"
        "         'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
        " (SELECT count(*) FROM grants g WHERE g.consumer_id = k.consumer_id"
        "   AND g.revoked_at IS NULL AND g.valid_from <= now()"
        "   AND (g.valid_until IS NULL OR g.valid_until > now())),"
        " (SELECT count(*) FROM feed_tokens t WHERE t.consumer_id = k.consumer_id"
        "   AND t.revoked_at IS NULL AND t.expires_at > now())"
        " FROM consumers k ORDER BY k.consumer_id",
        6, headers, cols, "no consumers registered", 7, fields,
    };

    return ctl_run_list(c, argc, argv, &list);
}

static int consumer_disable(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = { CTL_COMMON_LONG, { 0 } };
    PGconn *pg = NULL;
    PGresult *r = NULL;
    const char *name;
    int opt, rc;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             "consumer disable", disable_usage)) != -1)
        return ctl_getopt_exit(opt);
    if (argc - optind != 1)
        return ctl_usage_error("consumer disable", argc - optind ?
                               "expected exactly one consumer NAME" :
                               "missing consumer NAME");
    name = argv[optind];
    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    rc = CTL_FAIL;
    if (!(pg = ctl_pg_connect(c)))
        goto out;
    {
        /* One statement, one transaction: the change and the feed's
         * notification commit together. */
        const char *vals[1] = { name };
        if (!(r = ctl_pg_query(pg, "consumer disable",
                "WITH u AS (UPDATE consumers SET status = 'disabled',"
                "           disabled_at = now()"
                "           WHERE consumer_id = $1 AND status = 'active'"
                "           RETURNING consumer_id)"
                " SELECT (SELECT count(*) FROM u),"
                "  (SELECT count(*) FROM consumers WHERE consumer_id = $1),"
                "  pg_notify('sluice_feed_auth', '')", 1, vals, NULL, NULL)))
            goto out;
    }
    if (strcmp(PQgetvalue(r, 0, 0), "0") != 0)
        printf("consumer %s disabled\n", name);
    else if (strcmp(PQgetvalue(r, 0, 1), "0") == 0) {
        ctl_esc e = { 0 };
        rc = ctl_fail("consumer disable: no consumer \"%s\"", ctl_e(&e, name));
        ctl_esc_free(&e);
        goto out;
    } else
        printf("consumer %s was disabled already; nothing changed\n", name);
    rc = CTL_OK;
out:
    PQclear(r);
    PQfinish(pg);
    return rc;
}

int ctl_cmd_consumer(ctl *c, int argc, char **argv)
{
    static const ctl_cmd subs[] = {
        { "add", consumer_add, "register a consumer" },
        { "list", consumer_list, "list consumers" },
        { "disable", consumer_disable, "disable a consumer and its tokens" },
        { NULL, NULL, NULL }
    };

    return ctl_dispatch(c, "consumer", subs, argc, argv, consumer_usage);
}
