/*
 * cmd_optout.c -- `sluicectl optout add|list|remove`: creators who opted
 * out of training (table creator_optouts).  The license stage rejects an
 * opted-out creator's uploads as opted_out; samples already accepted stay
 * (a takedown withdraws content).  Every entry says who asked, when and
 * why.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static const char optout_usage[] =
    "usage: sluicectl optout <command>\n"
    "Creators who opted out of training: the license stage rejects their\n"
    "uploads (opted_out).  pg.dsn / SLUICE_PG_DSN.\n";

static const char add_usage[] =
    "usage: sluicectl optout add CREATOR --reason TEXT [--by WHO]\n"
    "Record that a registered creator opted out of training.  Their new\n"
    "uploads are rejected as opted_out; accepted samples are kept (use\n"
    "`sluicectl takedown add` to withdraw content).  Adding an existing\n"
    "opt-out changes nothing.\n"
    "  --reason TEXT   why (stored with the entry; up to 1000 bytes)\n"
    "  --by WHO        who asked or recorded it (default $SUDO_USER, $USER,\n"
    "                  else \"operator\")\n";

static const char list_usage[] =
    "usage: sluicectl optout list [--json]\n"
    "List opt-outs: creator, who, when, why.  --json: one JSON array.\n";

static const char remove_usage[] =
    "usage: sluicectl optout remove CREATOR\n"
    "Withdraw a creator's opt-out: their uploads are accepted again.\n";

static int optout_add(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG,
        { "reason", required_argument, NULL, 'r' },
        { "by", required_argument, NULL, 'b' },
        { 0 }
    };
    const char *reason = NULL, *by = NULL, *id;
    PGconn *pg = NULL;
    PGresult *r = NULL;
    int opt, rc;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             "optout add", add_usage)) != -1) {
        switch (opt) {
        case 'r': reason = optarg; break;
        case 'b': by = optarg; break;
        default: return ctl_getopt_exit(opt);
        }
    }
    if (argc - optind != 1)
        return ctl_usage_error("optout add", argc - optind ?
                               "expected exactly one creator ID" :
                               "missing creator ID");
    id = argv[optind];
    if (!reason)
        return ctl_usage_error("optout add", "--reason is required");
    if (ctl_check_note(reason, CTL_NOTE_MAX) != SL_OK)
        return ctl_usage_error("optout add", "--reason must be 1 to %d bytes "
                               "without control characters", CTL_NOTE_MAX);
    by = ctl_operator(by);
    if (ctl_check_note(by, 128) != SL_OK)
        return ctl_usage_error("optout add", "--by must be 1 to 128 bytes "
                               "without control characters");
    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    rc = CTL_FAIL;
    if (!(pg = ctl_pg_connect(c)))
        goto out;
    {
        /* One statement: the creator must exist; an existing opt-out is
         * kept as it was and reported. */
        const char *vals[3] = { id, by, reason };
        if (!(r = ctl_pg_query(pg, "optout add",
                "WITH cr AS (SELECT creator_id FROM creators WHERE creator_id = $1),"
                " ins AS (INSERT INTO creator_optouts (creator_id, requested_by, reason)"
                "         SELECT creator_id, $2, $3 FROM cr"
                "         ON CONFLICT (creator_id) DO NOTHING RETURNING creator_id)"
                " SELECT (SELECT count(*) FROM cr), (SELECT count(*) FROM ins),"
                "  o.requested_by, to_char(o.created_at AT TIME ZONE 'UTC',"
                "                          'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), o.reason"
                " FROM (SELECT 1) one"
                " LEFT JOIN creator_optouts o ON o.creator_id = $1",
                3, vals, NULL, NULL)))
            goto out;
    }
    if (strcmp(PQgetvalue(r, 0, 0), "0") == 0) {
        rc = ctl_fail("optout add: no creator \"%s\"", id);
        goto out;
    }
    if (strcmp(PQgetvalue(r, 0, 1), "0") == 0) {
        ctl_esc e = { 0 };
        printf("creator %s already opted out (by %s at %s: %s); nothing "
               "changed\n", id, ctl_e(&e, PQgetvalue(r, 0, 2)),
               PQgetvalue(r, 0, 3), ctl_e(&e, PQgetvalue(r, 0, 4)));
        ctl_esc_free(&e);
    } else
        printf("creator %s opted out (by %s)\n", id, by);
    rc = CTL_OK;
out:
    PQclear(r);
    PQfinish(pg);
    return rc;
}

static int optout_list(ctl *c, int argc, char **argv)
{
    static const char *const headers[] = {
        "CREATOR", "BY", "CREATED", "REASON"
    };
    static const int cols[] = { 0, 1, 2, 3 };
    static const ctl_list_field fields[] = {
        { "creator_id", 0, 0 }, { "requested_by", 1, 0 },
        { "created_at", 2, 0 }, { "reason", 3, 0 },
    };
    static const ctl_list_spec list = {
        "optout list", list_usage,
        "SELECT creator_id, requested_by,"
        " to_char(created_at AT TIME ZONE 'UTC',"
        "         'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), reason"
        " FROM creator_optouts ORDER BY created_at, creator_id",
        4, headers, cols, "no opt-outs recorded", 4, fields,
    };

    return ctl_run_list(c, argc, argv, &list);
}

static int optout_remove(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = { CTL_COMMON_LONG, { 0 } };
    PGconn *pg = NULL;
    PGresult *r = NULL;
    const char *id;
    int opt, rc;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             "optout remove", remove_usage)) != -1)
        return ctl_getopt_exit(opt);
    if (argc - optind != 1)
        return ctl_usage_error("optout remove", argc - optind ?
                               "expected exactly one creator ID" :
                               "missing creator ID");
    id = argv[optind];
    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    rc = CTL_FAIL;
    if (!(pg = ctl_pg_connect(c)))
        goto out;
    {
        const char *vals[1] = { id };
        if (!(r = ctl_pg_query(pg, "optout remove",
                "WITH del AS (DELETE FROM creator_optouts WHERE creator_id = $1"
                "             RETURNING creator_id)"
                " SELECT (SELECT count(*) FROM del),"
                "  (SELECT count(*) FROM creators WHERE creator_id = $1)",
                1, vals, NULL, NULL)))
            goto out;
    }
    if (strcmp(PQgetvalue(r, 0, 0), "0") != 0)
        printf("creator %s: opt-out removed\n", id);
    else if (strcmp(PQgetvalue(r, 0, 1), "0") == 0) {
        rc = ctl_fail("optout remove: no creator \"%s\"", id);
        goto out;
    } else
        printf("creator %s had not opted out; nothing changed\n", id);
    rc = CTL_OK;
out:
    PQclear(r);
    PQfinish(pg);
    return rc;
}

int ctl_cmd_optout(ctl *c, int argc, char **argv)
{
    static const ctl_cmd subs[] = {
        { "add", optout_add, "record a creator's opt-out of training" },
        { "list", optout_list, "list opt-outs" },
        { "remove", optout_remove, "withdraw a creator's opt-out" },
        { NULL, NULL, NULL }
    };

    return ctl_dispatch(c, "optout", subs, argc, argv, optout_usage);
}
