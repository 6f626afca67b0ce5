/*
 * cmd_dataset.c -- `sluicectl dataset add|list|set|show`: the datasets
 * creators contribute samples to (table datasets) and their policies.
 */
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "sl/embed.h"
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

static const char set_usage[] =
    "usage: sluicectl dataset set ID [--allowed-types LIST] [--scan-action RULE=ACTION]...\n"
    "                           [--clear-scan-actions]\n"
    "Change a dataset's policy.\n"
    "  --allowed-types LIST      comma-separated MIME patterns the scan stage\n"
    "                            accepts (\"text/*,image/png,@document\": a type,\n"
    "                            a major type, or a category); \"default\" resets\n"
    "                            to text, images, audio, video and documents\n"
    "                            (executables and archives need listing)\n"
    "  --scan-action RULE=ACTION override a scan rule's action for this\n"
    "                            dataset: block, flag, redact or allow\n"
    "                            (repeatable; rule ids: schemas/scan-rules.json)\n"
    "  --clear-scan-actions      drop every override first\n";

static const char show_usage[] =
    "usage: sluicectl dataset show ID [--json]\n"
    "A dataset's registration, policy and counts.\n";

/* Checks an allowed-type pattern: type/subtype, type/ *, * / *, a lone
 * *, or @category (services/scan/filetype.h). */
static int mime_pattern_ok(const char *p)
{
    static const char *const cats[] = { "@text", "@image", "@audio", "@video",
        "@document", "@archive", "@executable", "@other" };
    const char *slash = strchr(p, '/');

    for (size_t i = 0; i < sizeof(cats) / sizeof(cats[0]); i++)
        if (strcmp(p, cats[i]) == 0)
            return 1;
    if (strcmp(p, "*") == 0)
        return 1;

    if (!slash || slash == p || !slash[1] || strchr(slash + 1, '/'))
        return 0;
    for (const char *q = p; *q; q++)
        if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
              (*q >= '0' && *q <= '9') || strchr("/*.+-_", *q)))
            return 0;
    return 1;
}

/* Whether the shipped rule set has a rule called id (always true when
 * the rule file is not built in). */
static int known_rule(const char *id)
{
    const sl_embedded *e = sl_embed_get("scan-rules.json");
    json_t *doc, *rules, *rule;
    size_t i;
    int found = 0;

    if (!e)
        return 1;
    if (!(doc = json_loadb(e->data, e->len, 0, NULL)))
        return 1;
    rules = json_object_get(doc, "rules");
    json_array_foreach(rules, i, rule) {
        const char *rid = json_string_value(json_object_get(rule, "id"));
        if (rid && strcmp(rid, id) == 0)
            found = 1;
    }
    json_decref(doc);
    return found;
}

static int dataset_set(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG,
        { "allowed-types", required_argument, NULL, 't' },
        { "scan-action", required_argument, NULL, 'a' },
        { "clear-scan-actions", no_argument, NULL, 'C' },
        { 0 }
    };
    const char *types = NULL, *id;
    json_t *actions = json_object();
    sl_buf arr;
    char *actions_text = NULL;
    PGconn *pg = NULL;
    PGresult *r = NULL;
    int opt, rc, clear = 0, changes = 0;

    sl_buf_init(&arr, 1 << 16);
    if (!actions)
        return ctl_fail("out of memory");
    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             "dataset set", set_usage)) != -1) {
        switch (opt) {
        case 't': types = optarg; changes++; break;
        case 'C': clear = 1; changes++; break;
        case 'a': {
            char rule[129];
            const char *eq = strchr(optarg, '='), *act;
            if (!eq || eq == optarg || (size_t)(eq - optarg) >= sizeof(rule)) {
                rc = ctl_usage_error("dataset set", "--scan-action wants RULE=ACTION, "
                                     "got \"%s\"", optarg);
                goto out;
            }
            memcpy(rule, optarg, (size_t)(eq - optarg));
            rule[eq - optarg] = '\0';
            act = eq + 1;
            if (strcmp(act, "block") && strcmp(act, "flag") &&
                strcmp(act, "redact") && strcmp(act, "allow")) {
                rc = ctl_usage_error("dataset set", "action \"%s\" is not block, "
                                     "flag, redact or allow", act);
                goto out;
            }
            if (!known_rule(rule)) {
                rc = ctl_usage_error("dataset set", "no scan rule \"%s\" in "
                                     "schemas/scan-rules.json", rule);
                goto out;
            }
            if (json_object_set_new(actions, rule, json_string(act))) {
                rc = ctl_fail("out of memory");
                goto out;
            }
            changes++;
            break;
        }
        default:
            rc = ctl_getopt_exit(opt);
            goto out;
        }
    }
    if (argc - optind != 1) {
        rc = ctl_usage_error("dataset set", argc - optind ?
                             "expected exactly one dataset ID" : "missing dataset ID");
        goto out;
    }
    id = argv[optind];
    if (!changes) {
        rc = ctl_usage_error("dataset set", "nothing to change");
        goto out;
    }
    if (types && strcmp(types, "default") != 0) {
        char *copy = strdup(types), *save = NULL, *tok;
        int n = 0, bad = 0;
        if (!copy) {
            rc = ctl_fail("out of memory");
            goto out;
        }
        sl_buf_putc(&arr, '{');
        for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            while (*tok == ' ')
                tok++;
            if (!mime_pattern_ok(tok)) {
                rc = ctl_usage_error("dataset set", "\"%s\" is not a MIME pattern "
                                     "(type/subtype, type/*)", tok);
                bad = 1;
                break;
            }
            sl_buf_appendf(&arr, "%s\"%s\"", n++ ? "," : "", tok);
        }
        free(copy);
        if (bad)
            goto out;
        if (!n) {
            rc = ctl_usage_error("dataset set", "--allowed-types is empty");
            goto out;
        }
        if (sl_buf_putc(&arr, '}') != SL_OK) {
            rc = ctl_fail("out of memory");
            goto out;
        }
    }
    if (!(actions_text = json_dumps(actions, JSON_COMPACT | JSON_SORT_KEYS))) {
        rc = ctl_fail("out of memory");
        goto out;
    }
    if ((rc = ctl_load_config(c)) != CTL_OK)
        goto out;
    rc = CTL_FAIL;
    if (!(pg = ctl_pg_connect(c)))
        goto out;
    {
        const char *vals[5] = {
            id, types ? "1" : "0",
            types && strcmp(types, "default") != 0 ? (const char *)arr.data : NULL,
            clear ? "1" : "0", actions_text
        };
        if (!(r = ctl_pg_query(pg, "dataset set",
                "UPDATE datasets SET"
                " allowed_types = CASE WHEN $2::int = 1 THEN $3::text[]"
                "                 ELSE allowed_types END,"
                " scan_actions = CASE WHEN $4::int = 1 THEN '{}'::jsonb"
                "                ELSE scan_actions END || $5::jsonb"
                " WHERE dataset_id = $1"
                " RETURNING coalesce(array_to_string(allowed_types, ','), 'default'),"
                " scan_actions::text", 5, vals, NULL, NULL)))
            goto out;
    }
    if (PQntuples(r) == 0) {
        rc = ctl_fail("dataset set: no dataset \"%s\"", id);
        goto out;
    }
    printf("dataset %s: allowed types %s, scan actions %s\n", id,
           PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1));
    rc = CTL_OK;
out:
    json_decref(actions);
    free(actions_text);
    sl_buf_free(&arr);
    PQclear(r);
    PQfinish(pg);
    return rc;
}

static int dataset_show(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG, { "json", no_argument, NULL, 'j' }, { 0 }
    };
    PGconn *pg = NULL;
    PGresult *r = NULL;
    int json = 0, opt, rc;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             "dataset show", show_usage)) != -1) {
        if (opt == 'j')
            json = 1;
        else
            return ctl_getopt_exit(opt);
    }
    if (argc - optind != 1)
        return ctl_usage_error("dataset show", argc - optind ?
                               "expected exactly one dataset ID" : "missing dataset ID");
    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    rc = CTL_FAIL;
    if (!(pg = ctl_pg_connect(c)))
        goto out;
    {
        const char *vals[1] = { argv[optind] };
        /* One JSON document, built by the database; text output from it. */
        if (!(r = ctl_pg_query(pg, "dataset show",
                "SELECT json_build_object("
                " 'dataset_id', d.dataset_id, 'name', d.name,"
                " 'description', d.description, 'created_at', d.created_at,"
                " 'allowed_types', d.allowed_types, 'scan_actions', d.scan_actions,"
                " 'samples', (SELECT count(*) FROM samples s WHERE s.dataset_id = d.dataset_id),"
                " 'pending_review', (SELECT count(*) FROM review_items v"
                "   WHERE v.dataset_id = d.dataset_id AND v.state = 'pending'),"
                " 'rejections', (SELECT count(*) FROM rejections j WHERE j.dataset_id = d.dataset_id)"
                ")::text FROM datasets d WHERE d.dataset_id = $1", 1, vals, NULL, NULL)))
            goto out;
    }
    if (PQntuples(r) == 0) {
        rc = ctl_fail("dataset show: no dataset \"%s\"", argv[optind]);
        goto out;
    }
    if (json) {
        printf("%s\n", PQgetvalue(r, 0, 0));
    } else {
        json_t *o = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
        const char *k;
        json_t *v;
        if (!o) {
            rc = ctl_fail("dataset show: unreadable answer");
            goto out;
        }
        json_object_foreach(o, k, v) {
            char *t = json_is_string(v) ? NULL : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            printf("%-16s %s\n", k, t ? t : json_string_value(v));
            free(t);
        }
        json_decref(o);
    }
    rc = CTL_OK;
out:
    PQclear(r);
    PQfinish(pg);
    return rc;
}

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
        { "set", dataset_set, "change a dataset's policy" },
        { "show", dataset_show, "show a dataset's policy and counts" },
        { NULL, NULL, NULL }
    };

    return ctl_dispatch(c, "dataset", subs, argc, argv, dataset_usage);
}
