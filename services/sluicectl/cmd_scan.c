/*
 * cmd_scan.c -- `sluicectl scan`: the scan stage's processor run locally,
 * without Kafka, on files.  Rule authors test rules with it; moderators use
 * it to explain a flag.  The decision is the stage's own (sl_scan_decide),
 * so what it prints is what the pipeline would do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "scan.h"

static const char scan_usage[] =
    "usage: sluicectl scan [--dataset ID] [--type TYPE] [--rules FILE] [--redact] FILE...\n"
    "Run the scan stage's checks on local files and print, per file, one JSON\n"
    "line: detected type, findings (rule, entity, source, offset, length --\n"
    "never the matched text) and the outcome (accepted, redacted, flagged or\n"
    "rejected with its reason code).\n"
    "  --dataset ID   decide with that dataset's allowed types, scan actions\n"
    "                 and scan lists (read from PostgreSQL, pg.dsn); default:\n"
    "                 the rules' own\n"
    "  --type TYPE    the declared content type (default: by file extension)\n"
    "  --rules FILE   a rule file instead of the built-in schemas/scan-rules.json\n"
    "  --redact       write the redacted bytes of the (single) file to stdout\n"
    "                 instead; the JSON line goes to stderr\n"
    "Exit status: 0 when every file would be accepted or redacted, 1 when any\n"
    "would be flagged or rejected, 2 on usage errors.\n";

static int one_file(sl_scan *s, const char *path, const char *type,
                    const char *allowed, const char *actions, const char *lists,
                    int redact, int *worst)
{
    uint8_t *data = NULL;
    size_t len = 0;
    sl_scan_report rep;
    sl_err err = { "" };
    json_t *line;
    char *text;
    int rc;

    if (ctl_read_file(path, (size_t)64 << 20, &data, &len, &err) != SL_OK) {
        line = json_pack("{s:s, s:s}", "file", path, "error", err.msg);
        text = line ? json_dumps(line, JSON_COMPACT) : NULL;
        fprintf(stderr, "%s\n", text ? text : "{\"error\": \"out of memory\"}");
        free(text);
        json_decref(line);
        *worst = 1;
        return CTL_FAIL;
    }
    sl_scan_report_init(&rep);
    rc = sl_scan_decide_lists(s, (sl_slice){ data, len },
                              type ? type : ctl_content_type(path), allowed,
                              actions, lists, &rep);
    if (rc != SL_OK) {
        fprintf(stderr, "sluicectl scan: %s: scan failed (%s)\n", path, sl_strerror(rc));
        *worst = 1;
        goto out;
    }
    if (strcmp(rep.outcome, "flagged") == 0 || strcmp(rep.outcome, "rejected") == 0)
        *worst = 1;
    if (json_object_set_new(rep.summary, "file", json_string(path)) ||
        (rep.detail[0] &&
         json_object_set_new(rep.summary, "detail", json_string(rep.detail)))) {
        rc = SL_ENOMEM;
        goto out;
    }
    if (!(text = json_dumps(rep.summary, JSON_COMPACT | JSON_SORT_KEYS))) {
        rc = SL_ENOMEM;
        goto out;
    }
    fprintf(redact ? stderr : stdout, "%s\n", text);
    free(text);
    if (redact) {
        const uint8_t *p = strcmp(rep.outcome, "redacted") == 0 ? rep.redacted.data : data;
        size_t n = strcmp(rep.outcome, "redacted") == 0 ? rep.redacted.len : len;
        if (fwrite(p, 1, n, stdout) != n || fflush(stdout) != 0) {
            fprintf(stderr, "sluicectl scan: writing the redacted bytes failed\n");
            rc = SL_EIO;
        }
    }
out:
    sl_scan_report_free(&rep);
    free(data);
    return rc == SL_OK ? CTL_OK : CTL_FAIL;
}

int ctl_cmd_scan(ctl *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG,
        { "dataset", required_argument, NULL, 'D' },
        { "type", required_argument, NULL, 'T' },
        { "rules", required_argument, NULL, 'R' },
        { "redact", no_argument, NULL, 'x' },
        { 0 }
    };
    const char *dataset = NULL, *type = NULL, *rules = NULL;
    const char *allowed = NULL, *actions = NULL, *lists = NULL;
    sl_scan_lookup lk;
    sl_scan *s = NULL;
    sl_config *cfg = NULL;
    sl_err err = { "" };
    int opt, rc, redact = 0, worst = 0, have_lk = 0;

    ctl_getopt_start();
    while ((opt = ctl_getopt(c, argc, argv, CTL_COMMON_SHORT, longopts, "scan",
                             scan_usage)) != -1) {
        switch (opt) {
        case 'D': dataset = optarg; break;
        case 'T': type = optarg; break;
        case 'R': rules = optarg; break;
        case 'x': redact = 1; break;
        default: return ctl_getopt_exit(opt);
        }
    }
    if (optind >= argc)
        return ctl_usage_error("scan", "no files given");
    if (redact && argc - optind != 1)
        return ctl_usage_error("scan", "--redact takes exactly one file");
    if (redact && isatty(STDOUT_FILENO))
        return ctl_usage_error("scan", "--redact writes bytes: redirect stdout");
    if ((rc = ctl_load_config(c)) != CTL_OK)
        return rc;
    /* The stage's own options, with its defaults, plus --rules. */
    if (!(cfg = sl_config_new()) ||
        sl_config_declare(cfg, sl_scan_config) != SL_OK ||
        (rules && sl_config_set(cfg, "scan.rules.file", rules, &err) != SL_OK) ||
        (sl_config_get(c->cfg, "pg.dsn") &&
         sl_config_set(cfg, "pg.dsn", sl_config_get(c->cfg, "pg.dsn"), &err) != SL_OK)) {
        rc = ctl_fail("scan: %s", err.msg[0] ? err.msg : "out of memory");
        goto out;
    }
    if (dataset) {
        if (sl_scan_pg_lookup(&lk, cfg, &err) != SL_OK) {
            rc = ctl_fail("scan: %s", err.msg);
            goto out;
        }
        have_lk = 1;
    }
    if (sl_scan_new(&s, cfg, have_lk ? &lk : NULL, &err) != SL_OK) {
        if (have_lk && lk.destroy)
            lk.destroy(lk.u);
        rc = ctl_fail("scan: %s", err.msg);
        goto out;
    }
    if (dataset) {
        rc = lk.dataset_lists(lk.u, dataset, &allowed, &actions, &lists);
        if (rc == SL_ENOTFOUND) {
            rc = ctl_fail("scan: no dataset \"%s\"", dataset);
            goto out;
        }
        if (rc != SL_OK) {
            rc = ctl_fail("scan: cannot read dataset \"%s\"", dataset);
            goto out;
        }
    }
    rc = CTL_OK;
    for (int i = optind; i < argc; i++)
        if (one_file(s, argv[i], type, allowed, actions, lists, redact, &worst) != CTL_OK)
            rc = CTL_FAIL;
    if (rc == CTL_OK && worst)
        rc = CTL_FAIL;
out:
    sl_scan_destroy(s);
    sl_config_destroy(cfg);
    return rc;
}
