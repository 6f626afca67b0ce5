/*
 * cmd_dataset.c -- `sluicectl dataset add|list`: the datasets creators
 * contribute samples to (table datasets).
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

static const char dataset_usage[] =
    "usage: sluicectl dataset <command>\n"
    "Manage datasets (pg.dsn / SLUICE_PG_DSN).\n";

static const char add_usage[] =
    "usage: sluicectl dataset add ID [--name NAME] [--description TEXT]\n"
    "Register a dataset.  An existing ID is an error.\n";

static const char list_usage[] =
    "usage: sluicectl dataset list [--json]\n"
    "List datasets with their accepted sample counts.  --json: one JSON array.\n";

static int dataset_add(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG,
        { "name", required_argument, NULL, 'n' },
        { "description", required_argument, NULL, 'd' },
        { 0 }
    };
    const char *name = "", *desc = "", *id;
    PGconn *pg = NULL;
    PGresult *r = NULL;
    int opt, rc;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             "dataset add", add_usage)) != -1) {
        switch (opt) {
        case 'n': name = optarg; break;
        case 'd': desc = optarg; break;
        default: return ctl_getopt_exit(opt);
        }
    }
    if (argc - optind != 1)
        return ctl_usage_error("dataset add", argc - optind ?
                               "expected exactly one dataset ID" :
                               "missing dataset ID");
    id = argv[optind];
    if (ctl_check_id(id) != SL_OK)
        return ctl_usage_error("dataset add", "\"%s\" is not a valid ID "
                               "(1-128 of A-Z a-z 0-9 . _ : -, starting with "
                               "a letter or digit)", id);
    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    rc = CTL_FAIL;
    if (!(pg = ctl_pg_connect(c)))
        goto out;
    {
        const char *vals[3] = { id, name, desc };
        if (!(r = ctl_pg_query(pg, "dataset add",
                "INSERT INTO datasets (dataset_id, name, description)"
                " VALUES ($1, $2, $3)"
                " ON CONFLICT (dataset_id) DO NOTHING RETURNING dataset_id",
                3, vals, NULL, NULL)))
            goto out;
    }
    if (PQntuples(r) == 0) {
        rc = ctl_fail("dataset add: dataset \"%s\" already exists", id);
        goto out;
    }
    printf("dataset %s added\n", id);
    rc = CTL_OK;
out:
    PQclear(r);
    PQfinish(pg);
    return rc;
}

static int dataset_list(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG, { "json", no_argument, NULL, 'j' }, { 0 }
    };
    static const char *const headers[] = {
        "ID", "NAME", ">SAMPLES", "CREATED", "DESCRIPTION"
    };
    PGconn *pg = NULL;
    PGresult *r = NULL;
    ctl_table *t = NULL;
    json_t *arr = NULL;
    int json = 0, opt, rc;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             "dataset list", list_usage)) != -1) {
        if (opt == 'j')
            json = 1;
        else
            return ctl_getopt_exit(opt);
    }
    if (optind < argc)
        return ctl_usage_error("dataset list", "unexpected argument \"%s\"",
                               argv[optind]);
    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    rc = CTL_FAIL;
    if (!(pg = ctl_pg_connect(c)))
        goto out;
    if (!(r = ctl_pg_query(pg, "dataset list",
            "SELECT d.dataset_id, d.name, d.description,"
            " to_char(d.created_at AT TIME ZONE 'UTC',"
            "         'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
            " (SELECT count(*) FROM samples s WHERE s.dataset_id = d.dataset_id)"
            " FROM datasets d ORDER BY d.dataset_id", 0, NULL, NULL, NULL)))
        goto out;
    if (json) {
        if (!(arr = json_array()))
            goto oom;
        for (int i = 0; i < PQntuples(r); i++) {
            json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I}",
                "dataset_id", PQgetvalue(r, i, 0),
                "name", PQgetvalue(r, i, 1),
                "description", PQgetvalue(r, i, 2),
                "created_at", PQgetvalue(r, i, 3),
                "samples", (json_int_t)strtoll(PQgetvalue(r, i, 4), NULL, 10));
            if (!o || json_array_append_new(arr, o) != 0)
                goto oom;
        }
        rc = ctl_print_json(arr);
        arr = NULL;
        goto out;
    }
    if (!(t = ctl_table_new(5, headers)))
        goto oom;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *row[5] = {
            PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 4),
            PQgetvalue(r, i, 3), PQgetvalue(r, i, 2)
        };
        if (ctl_table_add(t, row) != SL_OK)
            goto oom;
    }
    if (ctl_table_rows(t) == 0)
        printf("no datasets registered\n");
    else
        ctl_table_print(t, stdout, "");
    rc = CTL_OK;
    goto out;
oom:
    rc = ctl_fail("out of memory");
out:
    json_decref(arr);
    ctl_table_destroy(t);
    PQclear(r);
    PQfinish(pg);
    return rc;
}

int ctl_cmd_dataset(ctl *c, int argc, char **argv)
{
    static const ctl_cmd subs[] = {
        { "add", dataset_add, "register a dataset" },
        { "list", dataset_list, "list datasets" },
        { NULL, NULL, NULL }
    };

    return ctl_dispatch(c, "dataset", subs, argc, argv, dataset_usage);
}
