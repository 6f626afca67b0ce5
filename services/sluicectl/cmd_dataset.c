/*
 * cmd_dataset.c -- `sluicectl dataset add|list|set|show`: the datasets
 * creators contribute samples to (table datasets) and their policies: what
 * the scan stage accepts (allowed types, rule actions) and what the license
 * stage decides against (license policy, open or listed contributors,
 * daily quotas per creator).
 *
 * `manifest` writes the Croissant 1.1 manifest the feed serves at
 * /v1/datasets/{id}/croissant: the same queries (FD_CR_SQL_*) and builder
 * (fd_croissant_build, services/feed), for every accepted sample or for
 * what one consumer's live grant allows.
 *
 * `add` and `set` share one set of policy options: parsed and checked
 * before anything is read (a license policy with the same parser as the
 * license stage), then applied in one transaction -- the datasets row
 * first, which locks it, then the contributors.  Any change moves
 * policy_updated_at, which the license stage takes as the policy's version
 * (its caches are keyed on it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "sl/crypto.h"
#include "sl/embed.h"
#include "sl/pg.h"
#include "sl/quota_pg.h"
#include "ctl.h"
#include "feed_logic.h"
#include "rights.h"
#include "scan.h"
#include "scanlists.h"
#include "spdx.h"

#define DS_POLICY_MAX (64 * 1024)    /* --license-policy text or @FILE */

static const char dataset_usage[] =
    "usage: sluicectl dataset <command>\n"
    "Manage datasets (pg.dsn / SLUICE_PG_DSN).\n";

#define DS_POLICY_OPTIONS                                                       \
    "  --allowed-types LIST      comma-separated MIME patterns the scan stage\n" \
    "                            accepts (\"text/*,image/png,@document\": a type,\n" \
    "                            a major type, or a category); \"default\" resets\n" \
    "                            to text, images, audio, video and documents\n" \
    "                            (executables and archives need listing)\n"   \
    "  --scan-action RULE=ACTION override a scan rule's action for this\n"   \
    "                            dataset: block, flag, redact or allow\n"    \
    "                            (repeatable; rule ids: schemas/scan-rules.json)\n" \
    "  --clear-scan-actions      drop every override first\n"                \
    "  --scan-allow TEXT         a finding whose matched text is exactly TEXT\n" \
    "                            is not a finding (e.g. the company's own\n"  \
    "                            support number, a documented example key)\n" \
    "  --scan-allow-pattern RE   the same for a PCRE2 pattern matching the\n" \
    "                            whole matched text\n"                      \
    "  --scan-deny TEXT          TEXT anywhere in a sample is a finding of\n" \
    "                            rule dataset_deny (default action flag;\n"  \
    "                            block rejects deny_listed)\n"              \
    "  --scan-deny-pattern RE    the same for each match of a PCRE2 pattern\n" \
    "                            (all four repeatable, added to the lists;\n" \
    "                            at most 256 entries of 1024 bytes each)\n"  \
    "  --clear-scan-lists        empty the four lists first\n"              \
    "  --license-policy JSON     the license stage's policy (JSON object, or\n" \
    "                            @FILE): {\"version\", \"allowed\": [\"CC-BY-*\",\n" \
    "                            ...], \"require\": [\"training\", \"commercial\"],\n" \
    "                            \"forbid\": [\"share_alike\", \"attribution\"],\n" \
    "                            \"note\"}, checked as the stage parses it;\n"  \
    "                            \"none\": any known license\n"              \
    "  --open | --closed         any registered creator may contribute, or\n" \
    "                            only the listed contributors (not_entitled)\n" \
    "  --contributor-add CREATOR / --contributor-remove CREATOR\n"          \
    "                            list or unlist a contributor (repeatable)\n" \
    "  --quota-count N|none      accepted samples per creator per UTC day\n"  \
    "  --quota-bytes SIZE|none   bytes per creator per UTC day (k, m, g:\n"  \
    "                            KiB, MiB, GiB); beyond: quota_exceeded\n"  \
    "  --withdrawal-policy kept|refund|clawback\n"                            \
    "                            what a withdrawal after delivery does to\n" \
    "                            the money (the ledger): kept (default), the\n" \
    "                            consumer refunded by the platform, or the\n" \
    "                            sale clawed back from creator and platform\n" \
    "  --fee-bps N|default       the platform's fee in basis points (0-10000)\n" \
    "                            on this dataset's usage; default: ledger.fee.bps\n" \
    "  --by WHO                  recorded as who added contributors (default\n" \
    "                            $SUDO_USER, $USER, else \"operator\")\n"     \
    "Every change moves the policy's version (policy_updated_at).\n"

static const char add_usage[] =
    "usage: sluicectl dataset add ID [--name NAME] [--description TEXT]\n"
    "                            [policy options of `dataset set`]\n"
    "Register a dataset, with its policy if given (one transaction).  An\n"
    "existing ID is an error.\n"
    "  --name NAME, --description TEXT\n"
    DS_POLICY_OPTIONS;

static const char list_usage[] =
    "usage: sluicectl dataset list [--json]\n"
    "List datasets with their accepted sample counts.  --json: one JSON array.\n";

static const char set_usage[] =
    "usage: sluicectl dataset set ID [policy options]\n"
    "Change a dataset's policy (one transaction).\n"
    DS_POLICY_OPTIONS;

static const char show_usage[] =
    "usage: sluicectl dataset show ID [--json]\n"
    "A dataset's registration, policy (allowed types, scan actions, license\n"
    "policy, open or contributors, quotas; null: default or unlimited) and\n"
    "counts (accepted and withdrawn samples, pending review, rejections).\n"
    "--json: one JSON object.\n";

static const char manifest_usage[] =
    "usage: sluicectl dataset manifest ID [--consumer NAME] [--base-url URL]\n"
    "                                 [-o FILE]\n"
    "The dataset's Croissant 1.1 JSON-LD manifest, as the feed serves it at\n"
    "/v1/datasets/ID/croissant: every accepted (not withdrawn) sample in feed\n"
    "order, one FileObject each.\n"
    "  --consumer NAME   only the samples NAME's live grant allows (its\n"
    "                    require_rights); content URLs signed for NAME when\n"
    "                    feed.url.key.file is set (valid feed.url.ttl.s)\n"
    "  --base-url URL    absolute base of the URLs (default feed.base.url,\n"
    "                    else http://127.0.0.1:8480)\n"
    "  -o FILE           write to FILE (default: standard output)\n";

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

    /* The scan stage's pseudo-rules take actions like the file's rules. */
    if (strcmp(id, SL_SCAN_GPS_RULE) == 0 || strcmp(id, SL_SCAN_BUDGET_RULE) == 0 ||
        strcmp(id, SL_SCAN_DENY_RULE) == 0)
        return 1;
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

/* ---- policy changes, shared by add and set ------------------------------ */

/* Long options of the policy changes; their codes are below 32 so they
 * never collide with a short option letter. */
enum {
    OPT_TYPES = 1, OPT_ACTION, OPT_CLEAR_ACTIONS, OPT_POLICY, OPT_OPEN,
    OPT_CLOSED, OPT_CONTRIB_ADD, OPT_CONTRIB_RM, OPT_QUOTA_COUNT,
    OPT_QUOTA_BYTES, OPT_BY, OPT_WITHDRAWAL, OPT_FEE_BPS, OPT_SCAN_ALLOW,
    OPT_SCAN_ALLOW_PAT, OPT_SCAN_DENY, OPT_SCAN_DENY_PAT, OPT_CLEAR_LISTS
};

#define DS_CHANGE_LONGOPTS                                              \
    { "allowed-types", required_argument, NULL, OPT_TYPES },            \
    { "scan-action", required_argument, NULL, OPT_ACTION },             \
    { "clear-scan-actions", no_argument, NULL, OPT_CLEAR_ACTIONS },     \
    { "license-policy", required_argument, NULL, OPT_POLICY },          \
    { "open", no_argument, NULL, OPT_OPEN },                            \
    { "closed", no_argument, NULL, OPT_CLOSED },                        \
    { "contributor-add", required_argument, NULL, OPT_CONTRIB_ADD },    \
    { "contributor-remove", required_argument, NULL, OPT_CONTRIB_RM },  \
    { "quota-count", required_argument, NULL, OPT_QUOTA_COUNT },        \
    { "quota-bytes", required_argument, NULL, OPT_QUOTA_BYTES },        \
    { "by", required_argument, NULL, OPT_BY },                          \
    { "withdrawal-policy", required_argument, NULL, OPT_WITHDRAWAL },   \
    { "fee-bps", required_argument, NULL, OPT_FEE_BPS },                \
    { "scan-allow", required_argument, NULL, OPT_SCAN_ALLOW },          \
    { "scan-allow-pattern", required_argument, NULL, OPT_SCAN_ALLOW_PAT }, \
    { "scan-deny", required_argument, NULL, OPT_SCAN_DENY },            \
    { "scan-deny-pattern", required_argument, NULL, OPT_SCAN_DENY_PAT }, \
    { "clear-scan-lists", no_argument, NULL, OPT_CLEAR_LISTS }

typedef struct ds_change {
    const char *cmd;              /* "dataset set" / "dataset add" */
    const char *types;            /* --allowed-types, borrowed */
    json_t *actions;              /* --scan-action RULE -> ACTION */
    int clear_actions;
    const char *policy_arg;       /* --license-policy as given */
    char *policy;                 /* its JSON text (owned), NULL: "none" */
    int set_policy;
    int open;                     /* -1 unchanged, 0 closed, 1 open */
    const char **add, **rm;       /* creator IDs, borrowed from argv */
    size_t n_add, n_rm;
    int set_count, set_bytes;
    int64_t quota_count, quota_bytes;   /* -1: none (unlimited) */
    const char *by;
    const char *withdrawal;       /* --withdrawal-policy, NULL: unchanged */
    int set_fee;
    char fee_bps[8];              /* --fee-bps as text, "": default (NULL) */
    json_t *lists;                /* --scan-allow ... : list name -> [text] */
    int clear_lists, set_lists;
    int changes;
    /* built by ds_change_check() */
    sl_buf types_arr;             /* PostgreSQL text[] literal */
    char *actions_text;
    char *lists_text;             /* the entries to add, as JSON */
    sl_buf add_arr, rm_arr;
} ds_change;

static int ds_change_init(ds_change *ch, const char *cmd)
{
    memset(ch, 0, sizeof(*ch));
    ch->cmd = cmd;
    ch->open = -1;
    sl_buf_init(&ch->types_arr, 1 << 16);
    sl_buf_init(&ch->add_arr, 1 << 20);
    sl_buf_init(&ch->rm_arr, 1 << 20);
    return (ch->actions = json_object()) && (ch->lists = json_object())
           ? CTL_OK : ctl_fail("out of memory");
}

static void ds_change_free(ds_change *ch)
{
    json_decref(ch->actions);
    json_decref(ch->lists);
    free(ch->lists_text);
    free(ch->policy);
    free(ch->add);
    free(ch->rm);
    free(ch->actions_text);
    sl_buf_free(&ch->types_arr);
    sl_buf_free(&ch->add_arr);
    sl_buf_free(&ch->rm_arr);
}

static int push_id(const char ***list, size_t *n, const char *id)
{
    const char **p;

    for (size_t i = 0; i < *n; i++)
        if (strcmp((*list)[i], id) == 0)
            return SL_OK;           /* named twice: once is enough */
    if (!(p = realloc(*list, (*n + 1) * sizeof(*p))))
        return SL_ENOMEM;
    p[(*n)++] = id;
    *list = p;
    return SL_OK;
}

/* Takes one option of a policy change.  CTL_OK, or the exit code after
 * printing the problem; *taken 0 when opt is not a policy option. */
static int ds_change_opt(ds_change *ch, int opt, const char *arg, int *taken)
{
    int64_t n;

    *taken = 1;
    switch (opt) {
    case OPT_TYPES: ch->types = arg; break;
    case OPT_CLEAR_ACTIONS: ch->clear_actions = 1; break;
    case OPT_ACTION: {
        char rule[129];
        const char *eq = strchr(arg, '='), *act;
        if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(rule))
            return ctl_usage_error(ch->cmd, "--scan-action wants RULE=ACTION, "
                                   "got \"%s\"", arg);
        memcpy(rule, arg, (size_t)(eq - arg));
        rule[eq - arg] = '\0';
        act = eq + 1;
        if (strcmp(act, "block") && strcmp(act, "flag") &&
            strcmp(act, "redact") && strcmp(act, "allow"))
            return ctl_usage_error(ch->cmd, "action \"%s\" is not block, "
                                   "flag, redact or allow", act);
        if (!known_rule(rule))
            return ctl_usage_error(ch->cmd, "no scan rule \"%s\" in "
                                   "schemas/scan-rules.json", rule);
        if (json_object_set_new(ch->actions, rule, json_string(act)))
            return ctl_fail("out of memory");
        break;
    }
    case OPT_POLICY:
        if (ch->set_policy)
            return ctl_usage_error(ch->cmd, "--license-policy given twice");
        ch->policy_arg = arg;
        ch->set_policy = 1;
        break;
    case OPT_OPEN:
    case OPT_CLOSED:
        if (ch->open >= 0 && ch->open != (opt == OPT_OPEN))
            return ctl_usage_error(ch->cmd, "--open and --closed together");
        ch->open = opt == OPT_OPEN;
        break;
    case OPT_CONTRIB_ADD:
    case OPT_CONTRIB_RM:
        if (ctl_check_id(arg) != SL_OK)
            return ctl_usage_error(ch->cmd, "\"%s\" is not a valid creator ID",
                                   arg);
        if (opt == OPT_CONTRIB_ADD ? push_id(&ch->add, &ch->n_add, arg)
                                   : push_id(&ch->rm, &ch->n_rm, arg))
            return ctl_fail("out of memory");
        break;
    case OPT_QUOTA_COUNT:
        if (sl_quota_limit_parse(arg, false, &n) != 0)
            return ctl_usage_error(ch->cmd, "--quota-count wants a count "
                                   "(0 to %d) or \"none\", got \"%s\"",
                                   INT32_MAX, arg);
        ch->set_count = 1;
        ch->quota_count = n;
        break;
    case OPT_QUOTA_BYTES:
        if (sl_quota_limit_parse(arg, true, &n) != 0)
            return ctl_usage_error(ch->cmd, "--quota-bytes wants a size "
                                   "(\"500m\", \"2g\", bytes) or \"none\", "
                                   "got \"%s\"", arg);
        ch->set_bytes = 1;
        ch->quota_bytes = n;
        break;
    case OPT_WITHDRAWAL:
        if (strcmp(arg, "kept") && strcmp(arg, "refund") && strcmp(arg, "clawback"))
            return ctl_usage_error(ch->cmd, "--withdrawal-policy is kept, refund "
                                   "or clawback, not \"%s\"", arg);
        ch->withdrawal = arg;
        break;
    case OPT_FEE_BPS:
        if (strcmp(arg, "default") == 0) {
            ch->fee_bps[0] = '\0';
        } else if (ctl_parse_int(arg, 0, 10000, &n) != SL_OK) {
            return ctl_usage_error(ch->cmd, "--fee-bps wants basis points "
                                   "(0 to 10000) or \"default\", got \"%s\"", arg);
        } else {
            snprintf(ch->fee_bps, sizeof(ch->fee_bps), "%d", (int)n);
        }
        ch->set_fee = 1;
        break;
    case OPT_SCAN_ALLOW:
    case OPT_SCAN_ALLOW_PAT:
    case OPT_SCAN_DENY:
    case OPT_SCAN_DENY_PAT: {
        const char *key = opt == OPT_SCAN_ALLOW ? "allow" :
                          opt == OPT_SCAN_ALLOW_PAT ? "allow_patterns" :
                          opt == OPT_SCAN_DENY ? "deny" : "deny_patterns";
        json_t *a = json_object_get(ch->lists, key), *v;
        if (!a && (!(a = json_array()) || json_object_set_new(ch->lists, key, a)))
            return ctl_fail("out of memory");
        if (!(v = json_string(arg)))
            return ctl_usage_error(ch->cmd, "--scan-%s wants UTF-8 text",
                                   opt == OPT_SCAN_ALLOW ? "allow" :
                                   opt == OPT_SCAN_ALLOW_PAT ? "allow-pattern" :
                                   opt == OPT_SCAN_DENY ? "deny" : "deny-pattern");
        if (json_array_append_new(a, v))
            return ctl_fail("out of memory");
        ch->set_lists = 1;
        break;
    }
    case OPT_CLEAR_LISTS:
        ch->clear_lists = ch->set_lists = 1;
        break;
    case OPT_BY:
        ch->by = arg;
        return CTL_OK;              /* not a change by itself */
    default:
        *taken = 0;
        return CTL_OK;
    }
    ch->changes++;
    return CTL_OK;
}

/* The --license-policy text: inline JSON or @FILE. */
static int read_policy(ds_change *ch)
{
    sl_err err = { "" };
    uint8_t *data;
    size_t len;

    if (ch->policy_arg[0] != '@')
        return (ch->policy = strdup(ch->policy_arg)) ? CTL_OK
                                                     : ctl_fail("out of memory");
    if (ctl_read_file(ch->policy_arg + 1, DS_POLICY_MAX, &data, &len, &err)
        != SL_OK)
        return ctl_fail("%s: --license-policy: %s", ch->cmd, err.msg);
    if (memchr(data, '\0', len)) {
        free(data);
        return ctl_usage_error(ch->cmd, "--license-policy file %s holds a NUL "
                               "byte", ch->policy_arg + 1);
    }
    ch->policy = malloc(len + 1);
    if (ch->policy) {
        memcpy(ch->policy, data, len);
        ch->policy[len] = '\0';
    }
    free(data);
    return ch->policy ? CTL_OK : ctl_fail("out of memory");
}

/* Checks what needs more than one option or the embedded data, and
 * builds the statement parameters. */
static int ds_change_check(ds_change *ch)
{
    int rc;

    for (size_t i = 0; i < ch->n_add; i++)
        for (size_t j = 0; j < ch->n_rm; j++)
            if (strcmp(ch->add[i], ch->rm[j]) == 0)
                return ctl_usage_error(ch->cmd, "creator \"%s\" is both added "
                                       "and removed", ch->add[i]);
    if (ch->by && ctl_check_note(ch->by, 128) != SL_OK)
        return ctl_usage_error(ch->cmd, "--by must be 1 to 128 bytes without "
                               "control characters");
    ch->by = ctl_operator(ch->by);
    if (ch->types && strcmp(ch->types, "default") != 0) {
        char *copy = strdup(ch->types), *save = NULL, *tok;
        int n = 0;
        if (!copy)
            return ctl_fail("out of memory");
        for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            while (*tok == ' ')
                tok++;
            if (!mime_pattern_ok(tok)) {
                rc = ctl_usage_error(ch->cmd, "\"%s\" is not a MIME pattern "
                                     "(type/subtype, type/*)", tok);
                free(copy);
                return rc;
            }
            if (sl_pg_array_add(&ch->types_arr, tok) != SL_OK) {
                free(copy);
                return ctl_fail("out of memory");
            }
            n++;
        }
        free(copy);
        if (!n)
            return ctl_usage_error(ch->cmd, "--allowed-types is empty");
        if (sl_pg_array_close(&ch->types_arr) != SL_OK)
            return ctl_fail("out of memory");
    }
    if (!(ch->actions_text = json_dumps(ch->actions, JSON_COMPACT | JSON_SORT_KEYS)))
        return ctl_fail("out of memory");
    if (ch->set_lists) {
        sl_scanlists *l = NULL;
        sl_err err = { "" };
        if (!(ch->lists_text = json_dumps(ch->lists, JSON_COMPACT | JSON_SORT_KEYS)))
            return ctl_fail("out of memory");
        rc = sl_scanlists_compile(&l, ch->lists_text, strlen(ch->lists_text), &err);
        sl_scanlists_destroy(l);
        if (rc != SL_OK)
            return rc == SL_ENOMEM ? ctl_fail("out of memory")
                                   : ctl_usage_error(ch->cmd, "%s", err.msg);
    }
    if (ch->set_policy && strcmp(ch->policy_arg, "none") != 0) {
        sl_spdx *spdx = NULL;
        sl_license_policy *p = NULL;
        sl_err err = { "" };

        if ((rc = read_policy(ch)) != CTL_OK)
            return rc;
        if (sl_spdx_load(&spdx, &err) != SL_OK) {
            rc = ctl_fail("%s: SPDX license list: %s", ch->cmd, err.msg);
        } else if ((rc = sl_license_policy_parse(spdx, ch->policy,
                                                 strlen(ch->policy), &p, &err))
                   != SL_OK) {
            rc = rc == SL_ENOMEM ? ctl_fail("out of memory")
                                 : ctl_usage_error(ch->cmd, "%s", err.msg);
        } else {
            rc = CTL_OK;
        }
        sl_license_policy_destroy(p);
        sl_spdx_destroy(spdx);
        if (rc != CTL_OK)
            return rc;
    }
    for (size_t i = 0; i < ch->n_add; i++)
        if (sl_pg_array_add(&ch->add_arr, ch->add[i]) != SL_OK)
            return ctl_fail("out of memory");
    for (size_t i = 0; i < ch->n_rm; i++)
        if (sl_pg_array_add(&ch->rm_arr, ch->rm[i]) != SL_OK)
            return ctl_fail("out of memory");
    if (sl_pg_array_close(&ch->add_arr) != SL_OK || sl_pg_array_close(&ch->rm_arr) != SL_OK)
        return ctl_fail("out of memory");
    return CTL_OK;
}

/* Prints what happened to the requested contributors: "  <label> ids"
 * for those in column 0 of r, then the others as `others`. */
static void print_contrib(const char *label, PGresult *r, const char **ids,
                          size_t n, const char *others)
{
    int first = 1;
    ctl_esc e = { 0 };

    if (!r)
        return;
    printf("  %-21s", label);
    for (int i = 0; i < PQntuples(r); i++)
        printf("%s%s", i ? ", " : "", ctl_e(&e, PQgetvalue(r, i, 0)));
    if (PQntuples(r) == 0)
        printf("none");
    for (size_t j = 0; j < n; j++) {
        int done = 0;
        for (int i = 0; i < PQntuples(r) && !done; i++)
            done = strcmp(PQgetvalue(r, i, 0), ids[j]) == 0;
        if (done)
            continue;
        printf("%s%s", first ? "; " : ", ", first ? others : "");
        printf("%s", ctl_e(&e, ids[j]));
        first = 0;
    }
    putchar('\n');
    ctl_esc_free(&e);
}

/* What applying a change returned, printed once committed. */
typedef struct ds_result {
    PGresult *row, *added, *removed, *lists;
} ds_result;

static void ds_result_clear(ds_result *res)
{
    PQclear(res->lists);
    PQclear(res->row);
    PQclear(res->added);
    PQclear(res->removed);
    memset(res, 0, sizeof(*res));
}

/* Adds ch's scan list entries to the dataset's (emptied first with
 * --clear-scan-lists), each list without duplicates, and checks that the
 * result still compiles within the limits (scanlists.h).  CTL_OK with
 * res->lists holding the new text, or CTL_FAIL after printing why. */
static int ds_lists_apply(PGconn *pg, const char *id, ds_change *ch,
                          ds_result *res)
{
    const char *vals[3] = { id, ch->clear_lists ? "1" : "0", ch->lists_text };
    sl_scanlists *l = NULL;
    sl_err err = { "" };
    const char *text;
    int rc;

    if (!(res->lists = ctl_pg_query(pg, ch->cmd,
            "UPDATE datasets d SET scan_lists = (SELECT"
            "  coalesce(jsonb_object_agg(k, v), '{}'::jsonb) FROM ("
            "   SELECT k, jsonb_agg(DISTINCT e) v FROM ("
            "     SELECT key k, value a FROM jsonb_each(CASE WHEN $2::int = 1"
            "       THEN '{}'::jsonb ELSE d.scan_lists END)"
            "     UNION ALL SELECT key, value FROM jsonb_each($3::jsonb)) s,"
            "    jsonb_array_elements(s.a) e GROUP BY k) t)"
            " WHERE dataset_id = $1 RETURNING scan_lists::text", 3, vals, NULL,
            NULL)))
        return CTL_FAIL;
    if (PQntuples(res->lists) != 1)
        return ctl_fail("%s: no dataset \"%s\"", ch->cmd, id);
    text = PQgetvalue(res->lists, 0, 0);
    rc = sl_scanlists_compile(&l, text, strlen(text), &err);
    sl_scanlists_destroy(l);
    if (rc != SL_OK)
        return rc == SL_ENOMEM ? ctl_fail("out of memory")
                               : ctl_fail("%s: %s; nothing was changed", ch->cmd,
                                          err.msg);
    return CTL_OK;
}

/* Applies ch to dataset id inside the caller's transaction.  CTL_OK with
 * *res filled, or CTL_FAIL after printing the problem (the caller rolls
 * back). */
static int ds_change_apply(PGconn *pg, const char *id, ds_change *ch,
                           ds_result *res)
{
    char cnt[24], bytes[24];
    PGresult *missing = NULL;
    int rc = CTL_FAIL;

    memset(res, 0, sizeof(*res));
    {
        const char *vals[15] = {
            id,
            ch->types ? "1" : "0",
            ch->types && strcmp(ch->types, "default") != 0 ?
                (const char *)ch->types_arr.data : NULL,
            ch->clear_actions ? "1" : "0", ch->actions_text,
            ch->set_policy ? "1" : "0", ch->policy,
            ch->open < 0 ? NULL : ch->open ? "true" : "false",
            ch->set_count ? "1" : "0", sl_quota_pg_param(ch->quota_count, cnt),
            ch->set_bytes ? "1" : "0", sl_quota_pg_param(ch->quota_bytes, bytes),
            ch->withdrawal, ch->set_fee ? "1" : "0",
            ch->fee_bps[0] ? ch->fee_bps : NULL,
        };
        if (!(res->row = ctl_pg_query(pg, ch->cmd,
                "UPDATE datasets SET"
                " allowed_types = CASE WHEN $2::int = 1 THEN $3::text[]"
                "                 ELSE allowed_types END,"
                " scan_actions = CASE WHEN $4::int = 1 THEN '{}'::jsonb"
                "                ELSE scan_actions END || $5::jsonb,"
                " license_policy = CASE WHEN $6::int = 1 THEN $7::jsonb"
                "                  ELSE license_policy END,"
                " open = coalesce($8::boolean, open),"
                " quota_daily_count = CASE WHEN $9::int = 1 THEN $10::integer"
                "                     ELSE quota_daily_count END,"
                " quota_daily_bytes = CASE WHEN $11::int = 1 THEN $12::bigint"
                "                     ELSE quota_daily_bytes END,"
                " withdrawal_policy = coalesce($13, withdrawal_policy),"
                " fee_bps = CASE WHEN $14::int = 1 THEN $15::integer"
                "           ELSE fee_bps END,"
                " policy_updated_at = now()"
                " WHERE dataset_id = $1"
                " RETURNING coalesce(array_to_string(allowed_types, ','), 'default'),"
                " scan_actions::text, coalesce(license_policy::text, 'none'),"
                " open, coalesce(quota_daily_count::text, 'unlimited'),"
                " coalesce(quota_daily_bytes::text, 'unlimited'),"
                " to_char(policy_updated_at AT TIME ZONE 'UTC',"
                "         'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
                " withdrawal_policy, coalesce(fee_bps::text, 'default')",
                15, vals, NULL, NULL)))
            goto out;
    }
    if (PQntuples(res->row) == 0) {
        ctl_fail("%s: no dataset \"%s\"", ch->cmd, id);
        goto out;
    }
    if (ch->set_lists && ds_lists_apply(pg, id, ch, res) != CTL_OK)
        goto out;
    if (ch->n_add) {
        const char *vals[3] = { id, (const char *)ch->add_arr.data, ch->by };
        if (!(missing = ctl_pg_query(pg, ch->cmd,
                "SELECT c FROM unnest($1::text[]) c WHERE NOT EXISTS"
                " (SELECT 1 FROM creators WHERE creator_id = c)",
                1, vals + 1, NULL, NULL)))
            goto out;
        if (PQntuples(missing) > 0) {
            ctl_fail("%s: no creator \"%s\"; nothing was changed", ch->cmd,
                     PQgetvalue(missing, 0, 0));
            goto out;
        }
        if (!(res->added = ctl_pg_query(pg, ch->cmd,
                "INSERT INTO dataset_contributors (dataset_id, creator_id, added_by)"
                " SELECT $1, c, $3 FROM unnest($2::text[]) c"
                " ON CONFLICT (dataset_id, creator_id) DO NOTHING"
                " RETURNING creator_id", 3, vals, NULL, NULL)))
            goto out;
    }
    if (ch->n_rm) {
        const char *vals[2] = { id, (const char *)ch->rm_arr.data };
        if (!(res->removed = ctl_pg_query(pg, ch->cmd,
                "DELETE FROM dataset_contributors"
                " WHERE dataset_id = $1 AND creator_id = ANY($2::text[])"
                " RETURNING creator_id", 2, vals, NULL, NULL)))
            goto out;
    }
    rc = CTL_OK;
out:
    PQclear(missing);
    if (rc != CTL_OK)
        ds_result_clear(res);
    return rc;
}

/* The policy as it now stands, and what happened to the contributors. */
static void ds_result_print(const char *id, const ds_change *ch,
                            const ds_result *res)
{
    PGresult *r = res->row;
    ctl_esc e = { 0 };

    printf("dataset %s: allowed types %s, scan actions %s\n", ctl_e(&e, id),
           ctl_e(&e, PQgetvalue(r, 0, 0)), ctl_e(&e, PQgetvalue(r, 0, 1)));
    printf("  %-21s%s\n", "license policy", ctl_e(&e, PQgetvalue(r, 0, 2)));
    printf("  %-21s%s\n", "contributors", PQgetvalue(r, 0, 3)[0] == 't' ?
           "open: any registered creator" : "closed: listed creators only");
    printf("  %-21s%s samples, %s bytes\n", "daily quota",
           PQgetvalue(r, 0, 4), PQgetvalue(r, 0, 5));
    print_contrib("contributors added", res->added, ch->add, ch->n_add,
                  "already listed: ");
    print_contrib("contributors removed", res->removed, ch->rm, ch->n_rm,
                  "not listed: ");
    if (ch->n_add && PQgetvalue(r, 0, 3)[0] == 't')
        printf("  note: the dataset is open, so its contributor list has no "
               "effect until --closed\n");
    printf("  %-21s%s, fee %s bps\n", "withdrawal policy", PQgetvalue(r, 0, 7),
           PQgetvalue(r, 0, 8));
    if (res->lists) {
        json_t *o = json_loads(PQgetvalue(res->lists, 0, 0), 0, NULL);
        printf("  %-21sallow %zu, allow patterns %zu, deny %zu, deny patterns "
               "%zu\n", "scan lists",
               json_array_size(json_object_get(o, "allow")),
               json_array_size(json_object_get(o, "allow_patterns")),
               json_array_size(json_object_get(o, "deny")),
               json_array_size(json_object_get(o, "deny_patterns")));
        json_decref(o);
    }
    printf("  %-21s%s\n", "policy updated", PQgetvalue(r, 0, 6));
    ctl_esc_free(&e);
}

static int dataset_set(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG, DS_CHANGE_LONGOPTS, { 0 }
    };
    ds_change ch;
    ds_result res = { 0 };
    PGconn *pg = NULL;
    int opt, rc, taken, in_txn = 0;
    const char *id;

    if ((rc = ds_change_init(&ch, "dataset set")) != CTL_OK)
        goto out;
    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             "dataset set", set_usage)) != -1) {
        if ((rc = ds_change_opt(&ch, opt, optarg, &taken)) != CTL_OK)
            goto out;
        if (!taken) {
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
    if (!ch.changes) {
        rc = ctl_usage_error("dataset set", "nothing to change");
        goto out;
    }
    if ((rc = ds_change_check(&ch)) != CTL_OK)
        goto out;
    if ((rc = ctl_load_config(c)) != CTL_OK)
        goto out;
    rc = CTL_FAIL;
    if (!(pg = ctl_pg_connect(c)))
        goto out;
    if (ctl_pg_exec(pg, "dataset set: BEGIN", "BEGIN") != CTL_OK)
        goto out;
    in_txn = 1;
    if (ds_change_apply(pg, id, &ch, &res) != CTL_OK)
        goto out;
    in_txn = 0;
    if (ctl_pg_exec(pg, "dataset set: COMMIT", "COMMIT") != CTL_OK)
        goto out;
    ds_result_print(id, &ch, &res);
    rc = CTL_OK;
out:
    ds_result_clear(&res);
    if (in_txn)
        PQclear(PQexec(pg, "ROLLBACK"));   /* best effort: the error is out */
    PQfinish(pg);
    ds_change_free(&ch);
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
                " 'scan_lists', d.scan_lists,"
                " 'license_policy', d.license_policy, 'open', d.open,"
                " 'contributors', coalesce((SELECT json_agg(json_build_object("
                "     'creator_id', k.creator_id, 'added_by', k.added_by,"
                "     'added_at', k.added_at) ORDER BY k.creator_id)"
                "   FROM dataset_contributors k WHERE k.dataset_id = d.dataset_id),"
                "   '[]'::json),"
                " 'quota_daily_count', d.quota_daily_count,"
                " 'quota_daily_bytes', d.quota_daily_bytes,"
                " 'withdrawal_policy', d.withdrawal_policy, 'fee_bps', d.fee_bps,"
                " 'policy_updated_at', d.policy_updated_at,"
                " 'samples', (SELECT count(*) FROM samples s"
                "   WHERE s.dataset_id = d.dataset_id AND s.status = 'accepted'),"
                " 'withdrawn', (SELECT count(*) FROM samples s"
                "   WHERE s.dataset_id = d.dataset_id AND s.status = 'withdrawn'),"
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
        ctl_esc esc = { 0 };
        json_object_foreach(o, k, v) {
            char *t;
            if (strcmp(k, "contributors") == 0) {
                size_t i;
                json_t *e;
                printf("%-18s ", k);
                if (json_array_size(v) == 0)
                    printf("none");
                json_array_foreach(v, i, e)
                    printf("%s%s (added by %s)", i ? ", " : "",
                           ctl_e(&esc, json_string_value(json_object_get(e, "creator_id"))),
                           ctl_e(&esc, json_string_value(json_object_get(e, "added_by"))));
                putchar('\n');
                continue;
            }
            t = json_is_string(v) ? NULL : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            printf("%-18s %s\n", k, t ? t : ctl_e(&esc, json_string_value(v)));
            free(t);
        }
        ctl_esc_free(&esc);
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
        DS_CHANGE_LONGOPTS,
        { 0 }
    };
    const char *name = "", *desc = "", *id;
    ds_change ch;
    ds_result res = { 0 };
    PGconn *pg = NULL;
    PGresult *r = NULL;
    int opt, rc, taken, in_txn = 0;

    if ((rc = ds_change_init(&ch, "dataset add")) != CTL_OK)
        goto out;
    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts,
                             "dataset add", add_usage)) != -1) {
        switch (opt) {
        case 'n': name = optarg; break;
        case 'd': desc = optarg; break;
        default:
            if ((rc = ds_change_opt(&ch, opt, optarg, &taken)) != CTL_OK)
                goto out;
            if (!taken) {
                rc = ctl_getopt_exit(opt);
                goto out;
            }
        }
    }
    if (argc - optind != 1) {
        rc = ctl_usage_error("dataset add", argc - optind ?
                             "expected exactly one dataset ID" :
                             "missing dataset ID");
        goto out;
    }
    id = argv[optind];
    if (ctl_check_id(id) != SL_OK) {
        rc = ctl_usage_error("dataset add", "\"%s\" is not a valid ID "
                             "(1-128 of A-Z a-z 0-9 . _ : -, starting with "
                             "a letter or digit)", id);
        goto out;
    }
    if (ch.changes && (rc = ds_change_check(&ch)) != CTL_OK)
        goto out;
    if ((rc = ctl_load_config(c)) != CTL_OK)
        goto out;
    rc = CTL_FAIL;
    if (!(pg = ctl_pg_connect(c)))
        goto out;
    if (ctl_pg_exec(pg, "dataset add: BEGIN", "BEGIN") != CTL_OK)
        goto out;
    in_txn = 1;
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
    if (ch.changes && ds_change_apply(pg, id, &ch, &res) != CTL_OK)
        goto out;
    in_txn = 0;
    if (ctl_pg_exec(pg, "dataset add: COMMIT", "COMMIT") != CTL_OK)
        goto out;
    printf("dataset %s added\n", id);
    if (ch.changes)
        ds_result_print(id, &ch, &res);
    rc = CTL_OK;
out:
    ds_result_clear(&res);
    PQclear(r);
    if (in_txn)
        PQclear(PQexec(pg, "ROLLBACK"));   /* best effort: the error is out */
    PQfinish(pg);
    ds_change_free(&ch);
    return rc;
}

static int dataset_list(ctl *c, int argc, char **argv)
{
    static const char *const headers[] = {
        "ID", "NAME", ">SAMPLES", "CREATED", "DESCRIPTION"
    };
    static const int cols[] = { 0, 1, 4, 3, 2 };
    static const ctl_list_field fields[] = {
        { "dataset_id", 0, 0 }, { "name", 1, 0 }, { "description", 2, 0 },
        { "created_at", 3, 0 }, { "samples", 4, 1 },
    };
    static const ctl_list_spec list = {
        "dataset list", list_usage,
        "SELECT d.dataset_id, d.name, d.description,"
        " to_char(d.created_at AT TIME ZONE 'UTC',"
        "         'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
        " (SELECT count(*) FROM samples s WHERE s.dataset_id = d.dataset_id"
        "  AND s.status = 'accepted')"
        " FROM datasets d ORDER BY d.dataset_id",
        5, headers, cols, "no datasets registered", 5, fields,
    };

    return ctl_run_list(c, argc, argv, &list);
}

/* ---- manifest ----------------------------------------------------------- */

#define MANIFEST_URL_MAX (64 * 1024)

/* The consumer's state for a manifest: CTL_OK when it exists, is active
 * and holds a live grant on the dataset; otherwise the error is printed. */
static int manifest_check_consumer(PGconn *pg, const char *consumer,
                                   const char *dataset)
{
    const char *vals[2] = { consumer, dataset };
    PGresult *r;
    int rc = CTL_FAIL;

    if (!(r = ctl_pg_query(pg, "dataset manifest",
            "SELECT c.status, EXISTS (SELECT 1 FROM grants g"
            "  WHERE g.consumer_id = c.consumer_id AND g.dataset_id = $2"
            "    AND g.revoked_at IS NULL AND g.valid_from <= now()"
            "    AND (g.valid_until IS NULL OR now() < g.valid_until))"
            " FROM consumers c WHERE c.consumer_id = $1", 2, vals, NULL, NULL)))
        return CTL_FAIL;
    if (PQntuples(r) == 0) {
        ctl_esc e = { 0 };
        ctl_fail("dataset manifest: no consumer \"%s\"", ctl_e(&e, consumer));
        ctl_esc_free(&e);
    } else if (strcmp(PQgetvalue(r, 0, 0), "active") != 0) {
        ctl_esc e = { 0 };
        ctl_fail("dataset manifest: consumer \"%s\" is disabled", ctl_e(&e, consumer));
        ctl_esc_free(&e);
    } else if (strcmp(PQgetvalue(r, 0, 1), "t") != 0) {
        ctl_esc e = { 0 };
        ctl_fail("dataset manifest: consumer \"%s\" holds no live grant on \"%s\"",
                 ctl_e(&e, consumer), ctl_e(&e, dataset));
        ctl_esc_free(&e);
    } else {
        rc = CTL_OK;
    }
    PQclear(r);
    return rc;
}

/* Builds the manifest from the two FD_CR_SQL_* results.  NULL after
 * printing the error. */
static json_t *manifest_build(const PGresult *ds, const PGresult *fr,
                              const char *base, const uint8_t *key,
                              const char *consumer, int64_t exp)
{
    size_t n = (size_t)PQntuples(fr), i;
    fd_cr_file *files = n ? calloc(n, sizeof *files) : NULL;
    sl_buf *urls = n ? calloc(n, sizeof *urls) : NULL;
    sl_buf durl;
    fd_cr_dataset d;
    json_t *doc = NULL;
    int rc = SL_OK;

    sl_buf_init(&durl, MANIFEST_URL_MAX);
    if (n && (!files || !urls)) {
        ctl_fail("dataset manifest: out of memory");
        goto out;
    }
    for (i = 0; i < n && rc == SL_OK; i++) {
        fd_cr_file *f = &files[i];
        int64_t v;
        sl_buf_init(&urls[i], MANIFEST_URL_MAX);
        f->upload_id = PQgetvalue(fr, (int)i, 0);
        f->name = PQgetvalue(fr, (int)i, 1);
        f->content_type = PQgetvalue(fr, (int)i, 3);
        f->sha256_hex = PQgetvalue(fr, (int)i, 4);
        f->license = PQgetvalue(fr, (int)i, 5);
        f->creator_id = PQgetvalue(fr, (int)i, 6);
        if (ctl_parse_int(PQgetvalue(fr, (int)i, 2), 0, INT64_MAX, &v) != SL_OK)
            rc = SL_EINVAL;
        f->size = (uint64_t)v;
        if (rc == SL_OK && ctl_parse_int(PQgetvalue(fr, (int)i, 7), 0, INT64_MAX, &v) != SL_OK)
            rc = SL_EINVAL;
        f->feed_seq = (uint64_t)v;
        if (rc == SL_OK)
            rc = fd_content_url(&urls[i], base, f->upload_id, key, consumer, exp);
        f->content_url = (const char *)urls[i].data;
    }
    if (rc != SL_OK) {
        ctl_esc e = { 0 };
        ctl_fail("dataset manifest: sample \"%s\": %s", ctl_e(&e, files[i - 1].upload_id),
                 rc == SL_EINVAL ? "unusable row" : sl_strerror(rc));
        ctl_esc_free(&e);
        goto out;
    }
    memset(&d, 0, sizeof d);
    d.dataset_id = PQgetvalue(ds, 0, 0);
    d.name = PQgetvalue(ds, 0, 1);
    d.description = PQgetvalue(ds, 0, 2);
    d.date_published = PQgetvalue(ds, 0, 3);
    {
        int64_t v = 0;
        (void)ctl_parse_int(PQgetvalue(ds, 0, 4), 0, INT64_MAX, &v);
        d.changes_seq = (uint64_t)v;
    }
    {
        /* the dataset's URL: base + /v1/datasets/<id>, as the feed names it */
        size_t bl = strlen(base);
        while (bl > 0 && base[bl - 1] == '/')
            bl--;
        if (sl_buf_append(&durl, base, bl) != SL_OK ||
            sl_buf_appendf(&durl, "/v1/datasets/%s", d.dataset_id) != SL_OK ||
            sl_buf_cstr(&durl) != SL_OK) {
            ctl_fail("dataset manifest: out of memory");
            goto out;
        }
        d.url = (const char *)durl.data;
    }
    if (!(doc = fd_croissant_build(&d, files, n)))
        ctl_fail("dataset manifest: out of memory");
out:
    for (i = 0; urls && i < n; i++)
        sl_buf_free(&urls[i]);
    free(urls);
    free(files);
    sl_buf_free(&durl);
    return doc;
}

/* Writes doc to path ("-" or NULL: stdout), through a temporary file
 * renamed into place so a reader never sees half a manifest. */
static int manifest_write(json_t *doc, const char *path)
{
    char *tmp = NULL;
    FILE *f;
    int ok;

    if (!path || strcmp(path, "-") == 0) {
        ok = json_dumpf(doc, stdout, JSON_INDENT(2)) == 0 && putchar('\n') != EOF &&
             fflush(stdout) == 0;
        return ok ? CTL_OK : ctl_fail("dataset manifest: cannot write standard output");
    }
    if (!(tmp = malloc(strlen(path) + 16)))
        return ctl_fail("dataset manifest: out of memory");
    sprintf(tmp, "%s.tmp.%ld", path, (long)getpid());
    if (!(f = fopen(tmp, "wx"))) {
        ctl_fail("dataset manifest: cannot create %s: %s", tmp, strerror(errno));
        free(tmp);
        return CTL_FAIL;
    }
    ok = json_dumpf(doc, f, JSON_INDENT(2)) == 0 && fputc('\n', f) != EOF;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        ctl_fail("dataset manifest: cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return CTL_FAIL;
    }
    free(tmp);
    return CTL_OK;
}

static int dataset_manifest(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG,
        { "consumer", required_argument, NULL, 'C' },
        { "base-url", required_argument, NULL, 'b' },
        { "output", required_argument, NULL, 'o' },
        { 0 }
    };
    const char *consumer = NULL, *base = NULL, *out_path = NULL, *keyfile;
    uint8_t key[FD_URLKEY_BYTES];
    int have_key = 0, opt, rc;
    int64_t exp = 0;
    PGconn *pg = NULL;
    PGresult *ds = NULL, *fr = NULL;
    json_t *doc = NULL;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT "o:", longopts,
                             "dataset manifest", manifest_usage)) != -1) {
        if (opt == 'C')
            consumer = optarg;
        else if (opt == 'b')
            base = optarg;
        else if (opt == 'o')
            out_path = optarg;
        else
            return ctl_getopt_exit(opt);
    }
    if (argc - optind != 1)
        return ctl_usage_error("dataset manifest", argc - optind ?
                               "expected exactly one dataset ID" : "missing dataset ID");
    if (ctl_check_id(argv[optind]) != SL_OK)
        return ctl_usage_error("dataset manifest", "not a dataset ID");
    if (consumer && ctl_check_id(consumer) != SL_OK)
        return ctl_usage_error("dataset manifest", "--consumer: not a consumer ID");
    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    if (!base || !*base)
        base = sl_config_get(c->cfg, "feed.base.url");
    if (!base || !*base)
        base = "http://127.0.0.1:8480";
    if (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0)
        return ctl_usage_error("dataset manifest", "--base-url must start with http:// or https://");
    keyfile = sl_config_get(c->cfg, "feed.url.key.file");
    if (consumer && keyfile && *keyfile) {
        sl_err err = { "" };
        if (sl_keyfile_hex32_load(keyfile, "feed URL key file", 1, key, &err) != SL_OK)
            return ctl_fail("dataset manifest: %s", err.msg);
        have_key = 1;
        exp = sl_now_ms() / 1000 + sl_config_int(c->cfg, "feed.url.ttl.s");
    }
    rc = CTL_FAIL;
    if (!(pg = ctl_pg_connect(c)))
        goto out;
    /* one snapshot for both queries: the files and the changes position
     * agree */
    if (ctl_pg_exec(pg, "dataset manifest",
                    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") != CTL_OK)
        goto out;
    {
        const char *vals[2] = { argv[optind], consumer };
        if (!(ds = ctl_pg_query(pg, "dataset manifest", FD_CR_SQL_DATASET, 1, vals,
                                NULL, NULL)))
            goto out;
        if (PQntuples(ds) != 1) {
            ctl_esc e = { 0 };
            rc = ctl_fail("dataset manifest: no dataset \"%s\"", ctl_e(&e, argv[optind]));
            ctl_esc_free(&e);
            goto out;
        }
        if (consumer && manifest_check_consumer(pg, consumer, argv[optind]) != CTL_OK)
            goto out;
        if (!(fr = ctl_pg_query(pg, "dataset manifest", FD_CR_SQL_FILES, 2, vals,
                                NULL, NULL)))
            goto out;
    }
    (void)ctl_pg_exec(pg, "dataset manifest", "COMMIT");
    if (!(doc = manifest_build(ds, fr, base, have_key ? key : NULL, consumer, exp)))
        goto out;
    rc = manifest_write(doc, out_path);
out:
    sodium_memzero(key, sizeof key);
    json_decref(doc);
    PQclear(fr);
    PQclear(ds);
    PQfinish(pg);
    return rc;
}

int ctl_cmd_dataset(ctl *c, int argc, char **argv)
{
    static const ctl_cmd subs[] = {
        { "add", dataset_add, "register a dataset" },
        { "list", dataset_list, "list datasets" },
        { "manifest", dataset_manifest, "write a dataset's Croissant manifest" },
        { "set", dataset_set, "change a dataset's policy" },
        { "show", dataset_show, "show a dataset's policy and counts" },
        { NULL, NULL, NULL }
    };

    return ctl_dispatch(c, "dataset", subs, argc, argv, dataset_usage);
}
