/*
 * fuzz_rules.c -- the PII / secret rule engine (services/scan/rules.c)
 * with the full shipped rule set (schemas/scan-rules.json, built in) and
 * its validators (services/scan/validators.c) over fuzzed text, then
 * redaction of what it found; and every validator on the raw input.
 *
 * Properties beyond "no crash": findings lie inside the text, sorted and
 * never overlapping, each naming a rule of the set; for inputs of up to
 * 2 KiB the prefiltered scan finds exactly what the exhaustive one does
 * (rules.h: "the result is exactly that of running every rule over the
 * whole text"); redaction of those findings succeeds; a validator answers
 * 0 or 1.
 */
#include "fuzz.h"
#include "rules.h"
#include "sl/msg.h"
#include "validators.h"

#define DIFF_MAX 2048

static sl_rules *rules;
static sl_scanner *fast, *full;
static sl_findings ff, fx;
static sl_buf red;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    sl_err err = { "" };

    (void)argc;
    (void)argv;
    FUZZ_SETUP(sl_rules_load_builtin(&rules, &err) == SL_OK, err.msg);
    FUZZ_SETUP((fast = sl_scanner_new(rules)) && (full = sl_scanner_new(rules)),
               "scanner");
    sl_scanner_set_flags(full, SL_SCAN_EXHAUSTIVE);
    sl_findings_init(&ff, SL_FINDINGS_DEFAULT_MAX);
    sl_findings_init(&fx, SL_FINDINGS_DEFAULT_MAX);
    sl_buf_init(&red, 16u << 20);
    return 0;
}

static void check_findings(const sl_findings *f, size_t size)
{
    for (size_t i = 0; i < f->count; i++) {
        const sl_finding *a = &f->items[i];

        FUZZ_CHECK(a->rule < sl_rules_count(rules), "rule %u", a->rule);
        FUZZ_CHECK(a->offset <= size && a->length <= size - a->offset,
                   "finding %zu (%s) at [%zu, +%zu) of %zu", i,
                   sl_rules_id(rules, a->rule), a->offset, a->length, size);
        if (i)
            FUZZ_CHECK(f->items[i - 1].offset + f->items[i - 1].length <= a->offset,
                       "findings %zu (%s) and %zu (%s) overlap", i - 1,
                       sl_rules_id(rules, f->items[i - 1].rule), i,
                       sl_rules_id(rules, a->rule));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t nv;
    const sl_validator *v = sl_validator_all(&nv);
    int rc;

    for (size_t i = 0; i < nv; i++) {
        int ok = v[i].fn(data, size, 3.5);
        FUZZ_CHECK(ok == 0 || ok == 1, "validator %s: %d", v[i].name, ok);
    }

    rc = sl_scan_text(fast, data, size, &ff);
    FUZZ_CHECK(rc == SL_OK || rc == SL_ETOOBIG || rc == SL_ENOMEM, "scan rc %d", rc);
    if (rc != SL_OK)
        return 0;
    check_findings(&ff, size);
    rc = sl_redact(data, size, &ff, rules, &red);
    FUZZ_CHECK(rc == SL_OK || rc == SL_ETOOBIG || rc == SL_ENOMEM, "redact rc %d", rc);

    if (size > DIFF_MAX || ff.incomplete)
        return 0;
    if (sl_scan_text(full, data, size, &fx) != SL_OK || fx.incomplete)
        return 0;
    FUZZ_CHECK(ff.count == fx.count, "prefiltered scan found %zu, exhaustive %zu",
               ff.count, fx.count);
    for (size_t i = 0; i < ff.count; i++) {
        const sl_finding *a = &ff.items[i], *b = &fx.items[i];
        FUZZ_CHECK(a->rule == b->rule && a->offset == b->offset &&
                   a->length == b->length && a->validation == b->validation,
                   "finding %zu: prefiltered %s [%zu, +%zu), exhaustive %s "
                   "[%zu, +%zu)", i, sl_rules_id(rules, a->rule), a->offset,
                   a->length, sl_rules_id(rules, b->rule), b->offset, b->length);
    }
    return 0;
}
