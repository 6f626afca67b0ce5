/*
 * cmd_license.c -- `sluicectl license check`: what the license stage would
 * say of an SPDX license expression, for people.  The same code decides:
 * the expression is parsed with sl_spdx_parse() against the embedded SPDX
 * License List, its rights come from the embedded rights table and the
 * verdict from sl_license_check() against the dataset's license policy
 * (datasets.license_policy, parsed with sl_license_policy_parse()).  The
 * stage checks the expression before the policy, and so does this.
 *
 * Without --dataset nothing is read from PostgreSQL: any expression of
 * known licenses is accepted, as for a dataset without a policy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl/json.h"
#include "sl/pg.h"
#include "ctl.h"
#include "rights.h"
#include "spdx.h"

static const char license_usage[] =
    "usage: sluicectl license <command>\n"
    "SPDX license expressions and datasets' license policies.\n";

static const char check_usage[] =
    "usage: sluicectl license check 'EXPRESSION' [--dataset ID] [--json]\n"
    "Parse an SPDX license expression as the license stage does and print\n"
    "its normalised form, the rights of each license in it and of the whole\n"
    "(for OR, the least restricted alternative the policy allows), and\n"
    "whether the dataset's license policy accepts it -- and if not, the\n"
    "stage's reason code and why:\n"
    "  license_missing     empty, NONE or NOASSERTION\n"
    "  license_invalid     not an SPDX expression (the offset is named)\n"
    "  license_unknown     an id not on the SPDX License List\n"
    "  license_deprecated  a deprecated id (its replacement is named)\n"
    "  license_not_allowed the dataset's policy refuses it\n"
    "  --dataset ID   check against that dataset's policy, read from\n"
    "                 PostgreSQL (pg.dsn / SLUICE_PG_DSN); without it, or\n"
    "                 when the dataset has no policy, any expression of\n"
    "                 known licenses is accepted (no database needed)\n"
    "  --json         one JSON object: {input, expression, licenses: [{\n"
    "                 expression, id, name, or_later, exception, rights}],\n"
    "                 chosen, rights, dataset, policy, policy_updated_at,\n"
    "                 accepted, code, detail}\n"
    "Exit status: 0 accepted, 1 refused (or the dataset could not be read),\n"
    "2 usage.\n";

/* What was decided, whatever the output format. */
typedef struct check_result {
    const char *input;
    const char *dataset;           /* NULL: no --dataset */
    char *policy_text;             /* the stored policy, or NULL */
    char *policy_updated_at;
    sl_spdx_expr *expr;            /* NULL when the parse failed */
    char *normalised;
    sl_license_verdict verdict;
    const char *code;              /* NULL when accepted */
    const char *detail;
} check_result;

static json_t *rights_json(const sl_rights *r)
{
    return json_pack("{s:b, s:b, s:b, s:b, s:b}",
                     "known", r->known,
                     "training_allowed", r->training_allowed,
                     "commercial_allowed", r->commercial_allowed,
                     "attribution_required", r->attribution_required,
                     "share_alike", r->share_alike);
}

/* One line of prose for a set of rights. */
static void rights_text(const sl_rights *r, char *out, size_t n)
{
    if (!r->known) {
        snprintf(out, n, "unknown (a license not in the rights table: fails "
                 "every requirement of a policy)");
        return;
    }
    snprintf(out, n, "training %s, commercial use %s, attribution %s, %s",
             r->training_allowed ? "allowed" : "not allowed",
             r->commercial_allowed ? "allowed" : "not allowed",
             r->attribution_required ? "required" : "not required",
             r->share_alike ? "share-alike" : "not share-alike");
}

/* Every leaf of e, in order, once each (by normalised text), into arr:
 * {expression, id, name, or_later, exception, rights}. */
static int add_leaves(const sl_spdx *spdx, const sl_rights_table *rt,
                      const sl_spdx_expr *e, json_t *arr)
{
    sl_spdx_kind k = sl_spdx_expr_kind(e);
    const sl_spdx_entry *en;
    sl_rights r;
    json_t *o;
    size_t i;
    char *text;
    int rc = SL_ENOMEM;

    if (k == SL_SPDX_AND || k == SL_SPDX_OR) {
        for (i = 0; i < sl_spdx_expr_count(e); i++)
            if ((rc = add_leaves(spdx, rt, sl_spdx_expr_child(e, i), arr))
                != SL_OK)
                return rc;
        return SL_OK;
    }
    if (!(text = sl_spdx_normalise(e)))
        return SL_ENOMEM;
    json_array_foreach(arr, i, o)
        if (strcmp(json_string_value(json_object_get(o, "expression")),
                   text) == 0) {
            free(text);
            return SL_OK;
        }
    en = k == SL_SPDX_LICENSE ? sl_spdx_license(spdx, sl_spdx_expr_id(e))
                              : NULL;
    sl_rights_lookup(rt, sl_spdx_expr_id(e), sl_spdx_expr_exception(e), &r);
    o = json_pack("{s:s, s:s, s:s?, s:b, s:s?, s:o}",
                  "expression", text,
                  "id", sl_spdx_expr_id(e),
                  "name", en ? en->name : NULL,
                  "or_later", sl_spdx_expr_or_later(e),
                  "exception", sl_spdx_expr_exception(e),
                  "rights", rights_json(&r));
    if (o && json_array_append_new(arr, o) == 0)
        rc = SL_OK;
    free(text);
    return rc;
}

/* yes / no / ? for one right of a leaf. */
static const char *yes_no(const json_t *rights, const char *key,
                          const char *yes)
{
    if (!json_is_true(json_object_get(rights, "known")))
        return "?";
    return json_is_true(json_object_get(rights, key)) ? yes : "no";
}

static int print_json(const check_result *cr, const sl_spdx *spdx,
                      const sl_rights_table *rt)
{
    json_t *o = json_object(), *leaves = json_array(), *policy = NULL;
    int ok = o && leaves;

    if (ok && cr->expr)
        ok = add_leaves(spdx, rt, cr->expr, leaves) == SL_OK;
    if (ok && cr->policy_text && !(policy = json_loads(cr->policy_text, 0, NULL)))
        ok = 0;
    ok = ok &&
        json_object_set_new(o, "input", sl_json_text(cr->input)) == 0 &&
        json_object_set_new(o, "expression", cr->normalised ?
                            json_string(cr->normalised) : json_null()) == 0 &&
        json_object_set(o, "licenses", leaves) == 0 &&
        json_object_set_new(o, "chosen", cr->expr && cr->verdict.chosen ?
                            json_string(cr->verdict.chosen) : json_null()) == 0 &&
        json_object_set_new(o, "rights", cr->expr ?
                            rights_json(&cr->verdict.rights) : json_null()) == 0 &&
        json_object_set_new(o, "dataset", cr->dataset ?
                            json_string(cr->dataset) : json_null()) == 0 &&
        json_object_set_new(o, "policy", policy ? json_incref(policy)
                                                : json_null()) == 0 &&
        json_object_set_new(o, "policy_updated_at", cr->policy_updated_at ?
                            json_string(cr->policy_updated_at) : json_null()) == 0 &&
        json_object_set_new(o, "accepted", json_boolean(!cr->code)) == 0 &&
        json_object_set_new(o, "code", cr->code ? json_string(cr->code)
                                                : json_null()) == 0 &&
        json_object_set_new(o, "detail", cr->code ? sl_json_text(cr->detail)
                                                  : json_null()) == 0;
    json_decref(leaves);
    json_decref(policy);
    if (!ok) {
        json_decref(o);
        return ctl_fail("out of memory building JSON output");
    }
    return ctl_print_json(o);
}

static int print_text(const check_result *cr, const sl_spdx *spdx,
                      const sl_rights_table *rt)
{
    static const char *const headers[] = {
        "LICENSE", "TRAINING", "COMMERCIAL", "ATTRIBUTION", "SHARE-ALIKE", "NAME"
    };
    char line[256];
    ctl_esc e = { 0 };

    if (cr->expr) {
        ctl_table *t = ctl_table_new(6, headers);
        json_t *leaves = json_array(), *o;
        size_t i;
        int ok = t && leaves &&
                 add_leaves(spdx, rt, cr->expr, leaves) == SL_OK;

        json_array_foreach(leaves, i, o) {
            const json_t *rg = json_object_get(o, "rights");
            const char *name = json_string_value(json_object_get(o, "name"));
            const char *row[6] = {
                json_string_value(json_object_get(o, "expression")),
                yes_no(rg, "training_allowed", "yes"),
                yes_no(rg, "commercial_allowed", "yes"),
                yes_no(rg, "attribution_required", "required"),
                yes_no(rg, "share_alike", "yes"),
                name ? name : "(not on the SPDX License List)"
            };
            if (!ok || ctl_table_add(t, row) != SL_OK)
                ok = 0;
        }
        json_decref(leaves);
        if (!ok) {
            ctl_table_destroy(t);
            return ctl_fail("out of memory");
        }
        printf("expression  %s\n", cr->normalised);
        printf("licenses\n");
        ctl_table_print(t, stdout, "  ");
        ctl_table_destroy(t);
        if (sl_spdx_expr_kind(cr->expr) == SL_SPDX_OR ||
            strcmp(cr->verdict.chosen, cr->normalised) != 0)
            printf("chosen      %s\n", cr->verdict.chosen);
        rights_text(&cr->verdict.rights, line, sizeof(line));
        printf("rights      %s\n", line);
    } else {
        printf("input       '%s'\n", ctl_e(&e, cr->input));
    }
    if (!cr->dataset)
        printf("policy      none given (any known license)\n");
    else if (!cr->policy_text)
        printf("policy      dataset %s has none (any known license)\n",
               ctl_e(&e, cr->dataset));
    else
        printf("policy      dataset %s: %s (updated %s)\n", ctl_e(&e, cr->dataset),
               ctl_e(&e, cr->policy_text), cr->policy_updated_at);
    if (cr->code)
        printf("verdict     refused: %s: %s\n", cr->code, ctl_e(&e, cr->detail));
    else
        printf("verdict     accepted\n");
    ctl_esc_free(&e);
    return CTL_OK;
}

/* The dataset's stored policy (NULL when it has none) into cr and *pol. */
static int load_policy(ctl *c, const sl_spdx *spdx, check_result *cr,
                       sl_license_policy **pol)
{
    const char *vals[1] = { cr->dataset };
    PGconn *pg;
    PGresult *r = NULL;
    sl_err err = { "" };
    int rc;

    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    if (!(pg = ctl_pg_connect(c)))
        return CTL_FAIL;
    rc = CTL_FAIL;
    if (!(r = ctl_pg_query(pg, "license check: reading the dataset",
            "SELECT license_policy::text,"
            " to_char(policy_updated_at AT TIME ZONE 'UTC',"
            "         'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
            " FROM datasets WHERE dataset_id = $1", 1, vals, NULL, NULL)))
        goto out;
    if (PQntuples(r) == 0) {
        rc = ctl_fail("license check: no dataset \"%s\" (the stage would "
                      "reject the upload as dataset_unknown)", cr->dataset);
        goto out;
    }
    if (!(cr->policy_updated_at = strdup(PQgetvalue(r, 0, 1))))
        goto oom;
    if (!PQgetisnull(r, 0, 0)) {
        if (!(cr->policy_text = strdup(PQgetvalue(r, 0, 0))))
            goto oom;
        if (sl_license_policy_parse(spdx, cr->policy_text,
                                    strlen(cr->policy_text), pol, &err)
            != SL_OK) {
            rc = ctl_fail("license check: dataset \"%s\" has an unusable "
                          "license_policy (the stage holds its uploads): %s",
                          cr->dataset, err.msg);
            goto out;
        }
    }
    rc = CTL_OK;
    goto out;
oom:
    rc = ctl_fail("out of memory");
out:
    PQclear(r);
    PQfinish(pg);
    return rc;
}

static int license_check(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG,
        { "dataset", required_argument, NULL, 'd' },
        { "json", no_argument, NULL, 'j' },
        { 0 }
    };
    check_result cr = { 0 };
    sl_spdx *spdx = NULL;
    sl_rights_table *rt = NULL;
    sl_license_policy *policy = NULL;
    sl_spdx_error perr = { 0 };
    sl_err err = { "" };
    int json = 0, opt, rc;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             "license check", check_usage)) != -1) {
        switch (opt) {
        case 'd': cr.dataset = optarg; break;
        case 'j': json = 1; break;
        default: return ctl_getopt_exit(opt);
        }
    }
    if (argc - optind != 1)
        return ctl_usage_error("license check", argc - optind ?
                               "expected exactly one expression (quote it)" :
                               "missing the license expression");
    cr.input = argv[optind];
    if (cr.dataset && ctl_check_id(cr.dataset) != SL_OK)
        return ctl_usage_error("license check", "\"%s\" is not a valid "
                               "dataset ID", cr.dataset);
    if (sl_spdx_load(&spdx, &err) != SL_OK ||
        sl_rights_load(spdx, &rt, &err) != SL_OK) {
        rc = ctl_fail("license check: %s", err.msg[0] ? err.msg : "out of memory");
        goto out;
    }
    if (cr.dataset && (rc = load_policy(c, spdx, &cr, &policy)) != CTL_OK)
        goto out;

    rc = sl_spdx_parse(spdx, cr.input, &cr.expr, &perr);
    if (rc == SL_ENOMEM) {
        rc = ctl_fail("out of memory");
        goto out;
    }
    if (rc != SL_OK) {
        cr.code = perr.code ? perr.code : SL_LICENSE_INVALID;
        cr.detail = perr.detail;
    } else {
        if (!(cr.normalised = sl_spdx_normalise(cr.expr)) ||
            sl_license_check(rt, cr.expr, policy, &cr.verdict) != SL_OK) {
            rc = ctl_fail("out of memory");
            goto out;
        }
        if (!cr.verdict.accepted) {
            cr.code = cr.verdict.code ? cr.verdict.code : SL_LICENSE_NOT_ALLOWED;
            cr.detail = cr.verdict.detail;
        }
    }
    rc = json ? print_json(&cr, spdx, rt) : print_text(&cr, spdx, rt);
    if (rc == CTL_OK && cr.code)
        rc = CTL_FAIL;
out:
    sl_license_verdict_clear(&cr.verdict);
    free(cr.normalised);
    sl_spdx_expr_destroy(cr.expr);
    free(cr.policy_text);
    free(cr.policy_updated_at);
    sl_license_policy_destroy(policy);
    sl_rights_destroy(rt);
    sl_spdx_destroy(spdx);
    return rc;
}

int ctl_cmd_license(ctl *c, int argc, char **argv)
{
    static const ctl_cmd subs[] = {
        { "check", license_check, "what the license stage says of an expression" },
        { NULL, NULL, NULL }
    };

    return ctl_dispatch(c, "license", subs, argc, argv, license_usage);
}
