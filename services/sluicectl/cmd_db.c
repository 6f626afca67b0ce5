/*
 * cmd_db.c -- `sluicectl db migrate`: applies the migrations embedded from
 * schemas/sql/ (sl_pg_migrate), each once, under an advisory lock, then the
 * role grants of schemas/sql/grants.sql.
 */
#include <stdio.h>

#include "sl/pg.h"
#include "ctl.h"

static const char db_usage[] =
    "usage: sluicectl db <command>\n"
    "Manage the PostgreSQL schema (pg.dsn / SLUICE_PG_DSN).\n";

static const char migrate_usage[] =
    "usage: sluicectl db migrate\n"
    "Apply every migration embedded in this binary that the database has\n"
    "not recorded yet, in order, each in its own transaction, then the\n"
    "grants of every sluice role (schemas/sql/grants.sql).  Run it as the\n"
    "schema owner, sluice_owner (deploy/stack.sh exports its conninfo as\n"
    "SLUICE_PG_DSN_OWNER): the tables belong to whoever creates them.  Safe\n"
    "to run repeatedly and concurrently.  Prints \"applied N migrations\" or\n"
    "\"schema up to date\".\n";

static int db_migrate(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = { CTL_COMMON_LONG, { 0 } };
    PGconn *pg = NULL;
    sl_err err = { "" };
    int opt, applied = 0, rc;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             "db migrate", migrate_usage)) != -1)
        return ctl_getopt_exit(opt);
    if (optind < argc)
        return ctl_usage_error("db migrate", "unexpected argument \"%s\"",
                               argv[optind]);
    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    if (!(pg = ctl_pg_connect(c)))
        return CTL_FAIL;
    if (sl_pg_migrate(pg, &applied, &err) != SL_OK) {
        rc = ctl_fail("db migrate: %s (%d applied before the failure)",
                      err.msg, applied);
        goto out;
    }
    if (applied)
        printf("applied %d migrations\n", applied);
    else
        printf("schema up to date\n");
    rc = CTL_OK;
out:
    PQfinish(pg);
    return rc;
}

int ctl_cmd_db(ctl *c, int argc, char **argv)
{
    static const ctl_cmd subs[] = {
        { "migrate", db_migrate, "apply pending schema migrations" },
        { NULL, NULL, NULL }
    };

    return ctl_dispatch(c, "db", subs, argc, argv, db_usage);
}
