/*
 * fuzz_scan.c -- the scan stage's whole decision for one sample
 * (services/scan/scan.c sl_scan_decide): file type with libmagic, text
 * extraction, the shipped rules, the per-rule actions, redaction mapped
 * back to the content bytes, and the summary -- what `sluicectl scan` and
 * the stage run, without Kafka.  Each input is decided twice: with the
 * rules' default actions, and with every rule (and GPS) set to "redact",
 * which drives the redaction paths (UTF-8 spans rewritten in place,
 * anything else flagged).  Any declared type is left out and every type
 * allowed, so no input stops at the type checks.
 *
 * Properties beyond "no crash": one of the four outcomes, a reject code
 * exactly when rejected, a JSON object as summary; a redacted sample comes
 * with new bytes, unlike the input; with every action "redact" nothing is
 * blocked for PII or secrets; the stage's own path (sl_scan_decide_text)
 * decides the same and writes the summary as json_dumps writes the tree.
 */
#include "fuzz.h"
#include "rules.h"
#include "scan.h"
#include "sl/config.h"

static sl_scan *scan;
static sl_scan_report rep;
static char *all_redact;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    sl_config *cfg = sl_config_new();
    sl_rules *rules = NULL;
    sl_err err = { "" };
    json_t *o = json_object();

    (void)argc;
    (void)argv;
    FUZZ_SETUP(cfg && sl_config_declare(cfg, sl_scan_config) == SL_OK, "config");
    /* no poppler child per PDF input (fuzz_extract_docs says why) */
    FUZZ_SETUP(sl_config_set(cfg, "scan.pdf.timeout.ms", "0", &err) == SL_OK, err.msg);
    FUZZ_SETUP(sl_scan_new(&scan, cfg, NULL, &err) == SL_OK, err.msg);
    sl_config_destroy(cfg);
    FUZZ_SETUP(sl_rules_load_builtin(&rules, &err) == SL_OK && o, err.msg);
    for (size_t i = 0; i < sl_rules_count(rules); i++)
        json_object_set_new(o, sl_rules_id(rules, i), json_string("redact"));
    json_object_set_new(o, SL_SCAN_GPS_RULE, json_string("redact"));
    FUZZ_SETUP((all_redact = json_dumps(o, JSON_COMPACT)) != NULL, "actions");
    json_decref(o);
    sl_rules_destroy(rules);
    sl_scan_report_init(&rep);
    return 0;
}

/* The stage's path (sl_scan_decide_text) writes the summary json_dumps
 * makes of rep's tree, byte for byte, with the same outcome. */
static void same_as_text(const uint8_t *data, size_t size, const char *actions)
{
    sl_scan_report t;
    char *want;
    int rc;

    sl_scan_report_init(&t);
    rc = sl_scan_decide_text(scan, (sl_slice){ data, size }, NULL, "*", actions,
                             NULL, &t);
    want = json_dumps(rep.summary, JSON_COMPACT | JSON_REAL_PRECISION(4));
    if (rc != SL_ENOMEM && want) {
        FUZZ_CHECK(rc == SL_OK, "decide_text rc %d", rc);
        FUZZ_CHECK(t.summary == NULL && t.summary_text, "decide_text: no text");
        FUZZ_CHECK(strcmp(t.summary_text, want) == 0, "summary text %s, want %s",
                   t.summary_text, want);
        FUZZ_CHECK(strcmp(t.outcome, rep.outcome) == 0, "outcome %s, want %s",
                   t.outcome, rep.outcome);
    }
    free(want);
    sl_scan_report_free(&t);
}

static void decide(const uint8_t *data, size_t size, const char *actions)
{
    int rc;
    const char *o;

    json_decref(rep.summary);
    rep.summary = NULL;
    rc = sl_scan_decide(scan, (sl_slice){ data, size }, NULL, "*", actions, &rep);
    if (rc == SL_ENOMEM)
        return;
    FUZZ_CHECK(rc == SL_OK, "decide rc %d", rc);
    o = rep.outcome;
    FUZZ_CHECK(o && (!strcmp(o, "accepted") || !strcmp(o, "redacted") ||
                     !strcmp(o, "flagged") || !strcmp(o, "rejected")),
               "outcome %s", o ? o : "(null)");
    FUZZ_CHECK(!strcmp(o, "rejected") == (rep.code != NULL), "%s with code %s",
               o, rep.code ? rep.code : "(null)");
    FUZZ_CHECK(json_is_object(rep.summary), "%s: no summary object", o);
    if (!strcmp(o, "redacted"))
        FUZZ_CHECK(rep.redacted.len > 0 &&
                   (rep.redacted.len != size || memcmp(rep.redacted.data, data, size)),
                   "redacted, but the bytes are unchanged");
    if (actions)
        FUZZ_CHECK(!rep.code || (strcmp(rep.code, "pii_blocked") &&
                                 strcmp(rep.code, "secret_blocked")),
                   "blocked (%s) with every action \"redact\"", rep.code);
    same_as_text(data, size, actions);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    decide(data, size, NULL);
    decide(data, size, all_redact);
    return 0;
}
