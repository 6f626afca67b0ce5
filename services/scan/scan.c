/*
 * scan.c -- the scan stage's processor (see scan.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "extract.h"
#include "rules.h"
#include "scan.h"
#include "scanlists.h"
#include "sl/crypto.h"
#include "sl/embed.h"
#include "sl/envelope.h"
#include "sl/json.h"
#include "sl/log.h"
#include "sl/prov.h"

#define SCAN_VERSION "scan/1"
#define LISTED_MAX   100          /* findings listed in the header */
#define SCAN_LISTS_CACHE 16       /* compiled dataset scan lists kept */

const sl_cfg_entry sl_scan_config[] = {
    { SL_CFG_STR,  "scan.rules.file", "",
      "PII / secret rule file (empty: the built-in schemas/scan-rules.json)" },
    { SL_CFG_STR,  "scan.magic.file", "",
      "libmagic database (empty: the system's)" },
    { SL_CFG_INT,  "scan.max.findings", "10000",
      "candidate matches per sample before it counts as unscannable (flagged)" },
    { SL_CFG_SIZE, "scan.max.text.bytes", "16m",
      "text extracted per sample, at most" },
    { SL_CFG_INT,  "scan.dataset.cache.ms", "5000",
      "how long a dataset's allowed types and scan actions are cached" },
    /* The work budget per sample (budget.h), sized so that an 8 MiB
     * sample of any kind the stage reads passes with room to spare. */
    { SL_CFG_SIZE, "scan.budget.bytes", "256m",
      "bytes examined per sample: file-type passes, parsers, decoders, "
      "inflated data, the rule prefilter" },
    { SL_CFG_INT,  "scan.budget.steps", "1000000",
      "structures visited per sample: chunks, segments, IFD entries, "
      "records, blocks, PDF tokens" },
    { SL_CFG_INT,  "scan.budget.regex", "100000000",
      "PCRE2 work per sample apart from backtracking: calls, start "
      "positions tried, candidates and the bytes their checks read" },
    { SL_CFG_INT,  "scan.budget.match.limit", "2000000",
      "PCRE2 match limit of one run, per start position (JIT and interpreter)" },
    { SL_CFG_INT,  "scan.budget.depth.limit", "2000000",
      "PCRE2 backtracking depth limit of one run (interpreter only)" },
    { SL_CFG_INT,  "scan.budget.heap.kib", "65536",
      "PCRE2 backtracking heap of one run, KiB (interpreter only)" },
    /* Archives and PDFs (extract.h: sl_xlimits); past an archive limit the
     * sample is refused with archive_bomb. */
    { SL_CFG_INT,  "scan.archive.max.members", "10000",
      "archive members read per sample, all nesting levels together" },
    { SL_CFG_INT,  "scan.archive.max.depth", "4",
      "archives inside archives (an office document counts as one)" },
    { SL_CFG_SIZE, "scan.archive.max.bytes", "64m",
      "bytes an archive's members may expand to, all together" },
    { SL_CFG_INT,  "scan.archive.max.ratio", "200",
      "expanded bytes per byte of the sample, checked past 1 MiB" },
    { SL_CFG_INT,  "scan.pdf.timeout.ms", "5000",
      "wall-clock limit on reading the page text of the sample's PDFs, all "
      "together (poppler, in a child process); 0: no page text, document "
      "info only" },
    { SL_CFG_INT,  "scan.pdf.max.pages", "1000",
      "PDF pages whose text is read" },
    { SL_CFG_STR,  "scan.budget.action", "block",
      "a sample over its budget: block (reject scan_budget_exceeded) or "
      "flag (for review); a dataset overrides it with its scan action for "
      "\"scan_budget\"" },
    SL_CFG_END
};

/* A dataset's compiled scan lists, keyed by their JSON text (NULL lists:
 * the text did not compile, already warned about). */
typedef struct lists_entry {
    char *text;
    sl_scanlists *lists;
} lists_entry;

struct sl_scan {
    sl_scan_lookup lk;
    int have_lk;
    sl_rules *rules;
    sl_scanner *scanner;
    sl_ft *ft;
    sl_extract x;
    sl_findings f;
    char version[160];
    /* per-rule actions for the last scan_actions text seen */
    char *actions_text;
    sl_action *actions;          /* sl_rules_count() + 3 (gps, budget,
                                    dataset_deny) */
    lists_entry lists[SCAN_LISTS_CACHE];
    size_t lists_next;           /* round-robin victim */
    sl_buf prov;
    sl_budget limits;            /* the budget each sample starts with */
    sl_action budget_action;
};

/* The budget limits and action from the config map. */
static int budget_config(sl_scan *s, const sl_config *cfg, sl_err *err)
{
    static const char *const keys[] = {
        "scan.budget.bytes", "scan.budget.steps", "scan.budget.regex",
        "scan.budget.match.limit", "scan.budget.depth.limit",
        "scan.budget.heap.kib",
    };
    int64_t v[6];
    const char *act = sl_config_get(cfg, "scan.budget.action");

    for (size_t i = 0; i < 6; i++) {
        v[i] = sl_config_int(cfg, keys[i]);
        if (v[i] < 1 || (i >= 3 && v[i] > UINT32_MAX)) {
            sl_err_set(err, "%s must be 1 to %s", keys[i],
                       i >= 3 ? "4294967295" : "2^63");
            return SL_ERR;
        }
    }
    sl_budget_init(&s->limits, (uint64_t)v[0], (uint64_t)v[1], (uint64_t)v[2],
                   (uint32_t)v[3], (uint32_t)v[4], (uint32_t)v[5]);
    if (!act || sl_action_parse(act, &s->budget_action) != SL_OK ||
        (s->budget_action != SL_ACTION_BLOCK && s->budget_action != SL_ACTION_FLAG)) {
        sl_err_set(err, "scan.budget.action must be block or flag, not \"%s\"",
                   act ? act : "");
        return SL_ERR;
    }
    return SL_OK;
}

/* The archive and PDF limits from the config map. */
static int extract_config(sl_scan *s, const sl_config *cfg, sl_err *err)
{
    static const char *const keys[] = {
        "scan.archive.max.members", "scan.archive.max.depth", "scan.archive.max.bytes",
        "scan.archive.max.ratio", "scan.pdf.timeout.ms", "scan.pdf.max.pages",
    };
    int64_t v[6];
    sl_xlimits l;

    for (size_t i = 0; i < 6; i++) {
        v[i] = sl_config_int(cfg, keys[i]);
        if (v[i] < (i == 4 ? 0 : 1) || (i != 2 && v[i] > UINT32_MAX)) {
            sl_err_set(err, "%s must be %s to %s", keys[i], i == 4 ? "0" : "1",
                       i == 2 ? "2^63" : "4294967295");
            return SL_ERR;
        }
    }
    l.max_members = (uint32_t)v[0];
    l.max_depth = (uint32_t)v[1];
    l.max_expanded = (uint64_t)v[2];
    l.max_ratio = (uint32_t)v[3];
    l.pdf_timeout_ms = (uint32_t)v[4];
    l.pdf_max_pages = (uint32_t)v[5];
    sl_extract_set_limits(&s->x, &l);
    return SL_OK;
}

int sl_scan_new(sl_scan **out, const sl_config *cfg, const sl_scan_lookup *lk,
                sl_err *err)
{
    sl_scan *s = calloc(1, sizeof(*s));
    const char *rules_file = sl_config_get(cfg, "scan.rules.file");
    const char *magic = sl_config_get(cfg, "scan.magic.file");
    int rc;

    if (!s) {
        sl_err_set(err, "out of memory");
        return SL_ERR;
    }
    if (lk) {
        s->lk = *lk;
        s->have_lk = 1;
    }
    rc = rules_file && *rules_file ? sl_rules_load_file(&s->rules, rules_file, err)
                                   : sl_rules_load_builtin(&s->rules, err);
    if (rc != SL_OK)
        goto fail;
    if (budget_config(s, cfg, err) != SL_OK)
        goto fail;
    if (!(s->scanner = sl_scanner_new(s->rules)) ||
        !(s->actions = calloc(sl_rules_count(s->rules) + 3, sizeof(*s->actions)))) {
        sl_err_set(err, "out of memory");
        goto fail;
    }
    if (sl_ft_new(&s->ft, magic && *magic ? magic : NULL, 0, err) != SL_OK)
        goto fail;
    sl_extract_init(&s->x, (size_t)sl_config_int(cfg, "scan.max.text.bytes"));
    if (extract_config(s, cfg, err) != SL_OK)
        goto fail;
    sl_findings_init(&s->f, (size_t)sl_config_int(cfg, "scan.max.findings"));
    snprintf(s->version, sizeof(s->version), "%s rules %s@%.12s", SCAN_VERSION,
             sl_rules_version(s->rules), sl_rules_hash(s->rules));
    sl_buf_init(&s->prov, 65536);
    *out = s;
    return SL_OK;
fail:
    s->have_lk = 0;              /* the caller keeps lk on failure */
    sl_scan_destroy(s);
    return SL_ERR;
}

void sl_scan_destroy(sl_scan *s)
{
    if (!s)
        return;
    if (s->have_lk && s->lk.destroy)
        s->lk.destroy(s->lk.u);
    sl_findings_free(&s->f);
    sl_extract_free(&s->x);
    sl_ft_destroy(s->ft);
    sl_scanner_destroy(s->scanner);
    sl_rules_destroy(s->rules);
    free(s->actions);
    free(s->actions_text);
    for (size_t i = 0; i < SCAN_LISTS_CACHE; i++) {
        free(s->lists[i].text);
        sl_scanlists_destroy(s->lists[i].lists);
    }
    sl_buf_free(&s->prov);
    free(s);
}

void sl_scan_report_init(sl_scan_report *r)
{
    memset(r, 0, sizeof(*r));
    sl_buf_init(&r->redacted, (size_t)64 << 20);
}

void sl_scan_report_free(sl_scan_report *r)
{
    json_decref(r->summary);
    free(r->summary_text);
    sl_buf_free(&r->redacted);
    memset(r, 0, sizeof(*r));
}

/* Fills s->actions for a dataset's overrides (NULL: the rules' defaults).
 * Overrides naming unknown rules or actions are ignored with a warning:
 * sluicectl refuses them, so they only come from hand-edited rows. */
static void load_actions(sl_scan *s, const char *text)
{
    size_t n = sl_rules_count(s->rules);
    json_t *doc;
    const char *k;
    json_t *v;

    if (s->actions_text && text && strcmp(s->actions_text, text) == 0)
        return;
    free(s->actions_text);
    s->actions_text = text ? strdup(text) : NULL;
    for (size_t i = 0; i < n; i++)
        s->actions[i] = sl_rules_action(s->rules, i);
    s->actions[n] = SL_ACTION_FLAG;   /* gps_location */
    s->actions[n + 1] = s->budget_action;
    s->actions[n + 2] = SL_ACTION_FLAG;   /* dataset_deny */
    if (!text || !(doc = json_loads(text, 0, NULL)))
        return;
    json_object_foreach(doc, k, v) {
        sl_action a;
        size_t idx;
        if (!json_is_string(v) || sl_action_parse(json_string_value(v), &a) != SL_OK) {
            sl_warn("scan", "ignoring scan action for %s: not an action", k);
            continue;
        }
        if (strcmp(k, SL_SCAN_GPS_RULE) == 0)
            s->actions[n] = a;
        else if (strcmp(k, SL_SCAN_BUDGET_RULE) == 0)
            s->actions[n + 1] = a;
        else if (strcmp(k, SL_SCAN_DENY_RULE) == 0)
            s->actions[n + 2] = a;
        else if (sl_rules_find(s->rules, k, &idx) == SL_OK)
            s->actions[idx] = a;
        else
            sl_warn("scan", "ignoring scan action for unknown rule %s", k);
    }
    json_decref(doc);
}

/* Adds one finding's description to the summary's list. */
/* `score` is written with two decimals; `context` is the rule's context
 * word that raised it (a rule-file constant, never matched text) or NULL,
 * written as null. */
static int list_finding(json_t **list, size_t *listed, const char *rule,
                        const char *entity, const char *kind, const char *severity,
                        const char *source, const char *member, size_t off, size_t len,
                        int validated, sl_action act, float score,
                        const char *context)
{
    json_t *o;

    if (*listed >= LISTED_MAX)
        return SL_OK;
    if (!*list && !(*list = json_array()))
        return SL_ENOMEM;
    o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:b, s:s, s:f, s:s?}",
                  "rule", rule, "entity", entity, "kind", kind,
                  "severity", severity, "source", source,
                  "offset", (json_int_t)off, "length", (json_int_t)len,
                  "validated", validated, "action", sl_action_name(act),
                  "score", (double)(long)(score * 100.0f + 0.5f) / 100.0,
                  "context", context);
    if (o && member && *member &&
        json_object_set_new(o, "member", json_string(member)) != 0) {
        json_decref(o);
        return SL_ENOMEM;
    }
    if (!o || json_array_append_new(*list, o) != 0)
        return SL_ENOMEM;
    (*listed)++;
    return SL_OK;
}

/* Why a sample's budget ran out, for the detail: the part and the limit,
 * named by its config key. */
static void budget_detail(const sl_budget *b, char *out, size_t outsz)
{
    if (strcmp(b->what, "match limit") == 0)
        snprintf(out, outsz, "scan work budget exceeded in regex: rule %s "
                 "reached the match limit of %" PRIu32 " (scan.budget.match.limit)",
                 b->rule, b->match_limit);
    else if (strcmp(b->what, "depth limit") == 0)
        snprintf(out, outsz, "scan work budget exceeded in regex: rule %s "
                 "reached the depth limit of %" PRIu32 " (scan.budget.depth.limit)",
                 b->rule, b->depth_limit);
    else if (strcmp(b->what, "heap limit") == 0)
        snprintf(out, outsz, "scan work budget exceeded in regex: rule %s "
                 "reached the heap limit of %" PRIu32 " KiB (scan.budget.heap.kib)",
                 b->rule, b->heap_limit_kib);
    else if (strcmp(b->what, "JIT stack") == 0)
        snprintf(out, outsz, "scan work budget exceeded in regex: rule %s "
                 "ran out of JIT stack", b->rule);
    else if (strcmp(b->what, "bytes") == 0)
        snprintf(out, outsz, "scan work budget exceeded in %s: more than %"
                 PRIu64 " bytes examined (scan.budget.bytes)", b->part, b->max_bytes);
    else if (strcmp(b->what, "steps") == 0)
        snprintf(out, outsz, "scan work budget exceeded in %s: more than %"
                 PRIu64 " structures visited (scan.budget.steps)", b->part,
                 b->max_steps);
    else
        snprintf(out, outsz, "scan work budget exceeded in %s: more than %"
                 PRIu64 " units of PCRE2 work (scan.budget.regex)", b->part,
                 b->max_regex);
}

/* One sample's decision on its way: extract -> findings -> policy ->
 * summary (sl_scan_decide). */
typedef struct sample {
    sl_scan *s;
    sl_slice bytes;
    sl_scan_report *rep;
    sl_budget b;                 /* this sample's: limits and use */
    json_t *list;                /* the findings listed in the summary
                                    (NULL until the first) */
    int text;                    /* write the summary as text
                                    (rep->summary_text), not a tree */
    size_t listed, total;
    sl_action strongest;
    const char *block_kind, *why_flag, *reason;
    char declared[SL_MIME_MAX];
    int content_seg, redact_elsewhere, cut_short, extracted;
    sl_scanlists *lists;         /* the dataset's, or NULL */
    const sl_xseg *seg;          /* the segment being scanned, for deny hits */
    size_t segi;
} sample;

/* The type checks: the detected type agrees with the declared one, and
 * the dataset takes it.  1 when the sample is refused (rep->code set). */
static int type_refused(sample *x, const char *declared_type,
                        const char *allowed_types)
{
    sl_scan_report *rep = x->rep;

    if (declared_type && sl_type_normalize(declared_type, x->declared,
                                           sizeof(x->declared)) != SL_OK)
        snprintf(x->declared, sizeof(x->declared), "%s", declared_type);
    if (!sl_type_compatible(declared_type ? declared_type : "", rep->ft.mime)) {
        rep->code = "type_mismatch";
        snprintf(rep->detail, sizeof(rep->detail), "declared %s, but the content "
                 "is %s", x->declared[0] ? x->declared : "(nothing)", rep->ft.mime);
        return 1;
    }
    if (!sl_type_allowed_list(rep->ft.mime, allowed_types)) {
        rep->code = "type_not_allowed";
        snprintf(rep->detail, sizeof(rep->detail), "%s (%s) is not among the "
                 "dataset's allowed types (%s)", rep->ft.mime,
                 sl_ftcat_name(rep->ft.category),
                 allowed_types ? allowed_types : "default: text, image, audio, "
                 "video, document");
        return 1;
    }
    return 0;
}

/* The text to scan, within the budget.  SL_OK or the extractor's error. */
static int extract(sample *x)
{
    int rc = sl_extract_run_budget(&x->s->x, x->bytes, &x->rep->ft, &x->b);

    if (rc != SL_OK)
        return rc;
    x->extracted = 1;
    if (x->s->x.flags & (SL_XF_TRUNCATED | SL_XF_PDF_FAILED | SL_XF_UNREAD))
        x->cut_short = 1;
    return SL_OK;
}

/* Lists one finding of segment seg (index i) and weighs its action. */
static int note_finding(sample *x, const sl_xseg *seg, size_t i, int is_content,
                        const sl_finding *fd)
{
    sl_scan *s = x->s;
    sl_action act = s->actions[fd->rule];
    sl_rule_kind kind = sl_rules_kind(s->rules, fd->rule);
    size_t so = fd->offset, sl = fd->length;

    x->total++;
    (void)sl_extract_map(&s->x, i, fd->offset, fd->length, &so, &sl);
    if (list_finding(&x->list, &x->listed, sl_rules_id(s->rules, fd->rule),
                     sl_rules_entity(s->rules, fd->rule), sl_rule_kind_name(kind),
                     sl_severity_name(sl_rules_severity(s->rules, fd->rule)),
                     seg->source, seg->member, so, sl,
                     fd->validation == SL_VALIDATION_PASSED, act, fd->score,
                     sl_rules_context_word(s->rules, fd->rule,
                                           fd->context)) != SL_OK)
        return SL_ENOMEM;
    if (act == SL_ACTION_BLOCK && !x->block_kind)
        x->block_kind = sl_rule_kind_name(kind);
    if (act == SL_ACTION_BLOCK && kind == SL_RULE_SECRET)
        x->block_kind = "secret";
    if (act == SL_ACTION_REDACT && !is_content)
        x->redact_elsewhere = 1;
    if (act > x->strongest) {
        x->strongest = act;
        if (act == SL_ACTION_BLOCK)
            snprintf(x->rep->detail, sizeof(x->rep->detail), "rule %s (%s) "
                     "matched in %s%s%s at byte %zu, length %zu",
                     sl_rules_id(s->rules, fd->rule),
                     sl_rules_entity(s->rules, fd->rule), seg->source,
                     seg->member[0] ? " of member " : "", seg->member, so, sl);
    }
    return SL_OK;
}

/* Redacts the content segment seg's findings to redact, now, while the
 * findings are this segment's.  The segment is the content's text: any
 * bytes around it (a byte-order mark, what the extractor trimmed) are
 * kept.  SL_OK or a buffer error. */
static int redact_content(sample *x, const sl_xseg *seg)
{
    sl_scan *s = x->s;
    sl_buf *out = &x->rep->redacted;
    sl_findings keep = s->f;   /* shallow: filter in place */
    size_t m = 0, end = seg->src_off + seg->len;
    sl_buf mid;
    int rc;

    for (size_t k = 0; k < s->f.count; k++)
        if (s->actions[s->f.items[k].rule] == SL_ACTION_REDACT)
            keep.items[m++] = s->f.items[k];
    if (m == 0)
        return SL_OK;
    keep.count = m;
    sl_buf_init(&mid, out->max);
    rc = sl_redact(seg->text, seg->len, &keep, s->rules, &mid);
    sl_buf_reset(out);
    if (rc == SL_OK && end <= x->bytes.len)
        rc = sl_buf_append(out, x->bytes.ptr, seg->src_off);
    if (rc == SL_OK)
        rc = sl_buf_append(out, mid.data, mid.len);
    if (rc == SL_OK && end <= x->bytes.len)
        rc = sl_buf_append(out, x->bytes.ptr + end, x->bytes.len - end);
    sl_buf_free(&mid);
    return rc;
}

/* The pseudo-rule gps_location: EXIF coordinates found by the extractor.
 * Its redact action flags (nothing to cut out of an image's bytes). */
static int note_location(sample *x)
{
    sl_scan *s = x->s;
    sl_action act = s->actions[sl_rules_count(s->rules)];

    if (!s->x.loc.present)
        return SL_OK;
    x->total++;
    if (list_finding(&x->list, &x->listed, SL_SCAN_GPS_RULE, "LOCATION", "pii",
                     "medium", s->x.loc.source, NULL, s->x.loc.src_off,
                     s->x.loc.src_len, 0, act, 1.0f, NULL) != SL_OK)
        return SL_ENOMEM;
    if (act == SL_ACTION_REDACT) {
        x->redact_elsewhere = 1;
        act = SL_ACTION_FLAG;
    }
    if (act == SL_ACTION_BLOCK && !x->block_kind) {
        x->block_kind = "pii";
        snprintf(x->rep->detail, sizeof(x->rep->detail), "rule %s (LOCATION) in %s",
                 SL_SCAN_GPS_RULE, s->x.loc.source);
    }
    if (act > x->strongest)
        x->strongest = act;
    return SL_OK;
}

/* ---- the dataset's scan lists (scanlists.h) ------------------------------ */

/* Drops the segment's findings whose matched text the dataset allows. */
static void drop_allowed(sample *x, const sl_xseg *seg)
{
    sl_findings *f = &x->s->f;
    size_t m = 0;

    if (!sl_scanlists_allow_count(x->lists))
        return;
    for (size_t k = 0; k < f->count; k++)
        if (!sl_scanlists_allowed(x->lists, seg->text + f->items[k].offset,
                                  f->items[k].length, &x->b))
            f->items[m++] = f->items[k];
    f->count = m;
}

/* One deny-list match in segment x->seg: a finding of dataset_deny. */
static int deny_hit(void *arg, size_t off, size_t len)
{
    sample *x = arg;
    sl_scan *s = x->s;
    sl_action act = s->actions[sl_rules_count(s->rules) + 2];
    size_t so = off, sl = len;

    x->total++;
    (void)sl_extract_map(&s->x, x->segi, off, len, &so, &sl);
    if (list_finding(&x->list, &x->listed, SL_SCAN_DENY_RULE, SL_SCAN_DENY_RULE,
                     "deny", "high", x->seg->source, x->seg->member, so, sl, 0,
                     act, 1.0f, NULL) != SL_OK)
        return SL_ENOMEM;
    if (act == SL_ACTION_REDACT)
        act = SL_ACTION_FLAG;    /* nothing to redact it to */
    if (act == SL_ACTION_BLOCK && !x->block_kind)
        x->block_kind = "deny";
    if (act > x->strongest) {
        x->strongest = act;
        if (act == SL_ACTION_BLOCK)
            snprintf(x->rep->detail, sizeof(x->rep->detail), "the dataset's "
                     "deny-list matched in %s%s%s at byte %zu, length %zu",
                     x->seg->source, x->seg->member[0] ? " of member " : "",
                     x->seg->member, so, sl);
    }
    return SL_OK;
}

/* The segment's deny-list matches.  SL_OK or the list's error. */
static int deny_matches(sample *x, const sl_xseg *seg, size_t i)
{
    int capped = 0, rc;

    if (!sl_scanlists_deny_count(x->lists))
        return SL_OK;
    x->seg = seg;
    x->segi = i;
    rc = sl_scanlists_deny(x->lists, seg->text, seg->len, x->s->f.max, &x->b,
                           deny_hit, x, &capped);
    if (capped)
        x->cut_short = 1;
    return rc;
}

/* The compiled lists for this text (cached by it), or NULL for none or a
 * list that does not compile. */
static sl_scanlists *lists_for(sl_scan *s, const char *text)
{
    lists_entry *e;
    sl_err err = { "" };
    char *copy;
    int rc;

    if (!text)
        return NULL;
    for (size_t i = 0; i < SCAN_LISTS_CACHE; i++)
        if (s->lists[i].text && strcmp(s->lists[i].text, text) == 0)
            return s->lists[i].lists;
    if (!(copy = strdup(text)))
        return NULL;
    e = &s->lists[s->lists_next++ % SCAN_LISTS_CACHE];
    free(e->text);
    sl_scanlists_destroy(e->lists);
    e->text = copy;
    e->lists = NULL;
    rc = sl_scanlists_compile(&e->lists, text, strlen(text), &err);
    if (rc != SL_OK)
        sl_warn("scan", "ignoring a dataset's scan lists: %s", err.msg);
    return e->lists;
}

/* Every segment's findings within the budget, then the location.  SL_OK,
 * or the rule engine's, the list's or the redaction's error. */
static int findings(sample *x)
{
    sl_scan *s = x->s;
    int rc;

    for (size_t i = 0; i < s->x.nseg && !sl_budget_out(&x->b); i++) {
        const sl_xseg *seg = &s->x.seg[i];
        int is_content = strcmp(seg->source, "content") == 0 &&
                         seg->map == SL_XMAP_IDENTITY;
        rc = sl_scan_text_budget(s->scanner, seg->text, seg->len, &s->f, &x->b);
        if (rc == SL_ETOOBIG) {  /* the list is left empty; the deny-list
                                    still runs */
            x->cut_short = 1;
            s->f.count = 0;
        } else if (rc != SL_OK) {
            return rc;
        }
        if (s->f.incomplete)
            x->cut_short = 1;
        drop_allowed(x, seg);
        for (size_t k = 0; k < s->f.count; k++)
            if ((rc = note_finding(x, seg, i, is_content, &s->f.items[k])) != SL_OK)
                return rc;
        if (is_content && s->f.count) {
            x->content_seg = (int)i;
            if ((rc = redact_content(x, seg)) != SL_OK)
                return rc;
        }
        if ((rc = deny_matches(x, seg, i)) != SL_OK)
            return rc;
    }
    return note_location(x);
}

/* The outcome: a finding to block, else the budget, else flag, redact or
 * accept (scan.h states the order). */
static void policy(sample *x)
{
    sl_scan_report *rep = x->rep;
    sl_action budget_act = x->s->actions[sl_rules_count(x->s->rules) + 1];

    if (x->extracted && (x->s->x.flags & SL_XF_BOMB)) {
        /* refused whatever was found before the limit: it was not read */
        rep->code = "archive_bomb";
        snprintf(rep->detail, sizeof(rep->detail), "%s", x->s->x.detail);
    } else if (x->strongest == SL_ACTION_BLOCK) {
        /* a finding to block is certain, whatever was left unread */
        rep->code = strcmp(x->block_kind, "secret") == 0 ? "secret_blocked" :
                    strcmp(x->block_kind, "deny") == 0 ? "deny_listed" :
                    "pii_blocked";
    } else if (sl_budget_out(&x->b)) {
        budget_detail(&x->b, rep->detail, sizeof(rep->detail));
        x->reason = "scan_budget_exceeded";
        if (budget_act == SL_ACTION_BLOCK) {
            rep->code = x->reason;
        } else {
            rep->outcome = "flagged";
            x->why_flag = rep->detail;
        }
    } else if (x->strongest == SL_ACTION_FLAG || x->cut_short ||
               (x->strongest == SL_ACTION_REDACT && x->redact_elsewhere)) {
        rep->outcome = "flagged";
        x->why_flag = x->strongest == SL_ACTION_FLAG ? "a rule's action is flag" :
                      (x->s->x.flags & (SL_XF_PDF_FAILED | SL_XF_UNREAD)) ?
                      x->s->x.detail :
                      x->cut_short ? "the scan was cut short by a limit" :
                      "a finding to redact is not in UTF-8 content";
        snprintf(rep->detail, sizeof(rep->detail), "%s", x->why_flag);
    } else if (x->strongest == SL_ACTION_REDACT && x->content_seg >= 0 &&
               rep->redacted.len) {
        rep->outcome = "redacted";
    } else {
        rep->outcome = "accepted";
    }
}

/* The sluice-scan header's members, in the order it lists them. */
typedef struct summary_fields {
    const char *outcome, *detected, *encoding, *category, *declared,
               *coverage, *rules_version, *rules_sha256, *reason, *flag_reason;
    size_t total;
    const sl_budget *budget;     /* NULL: the budget held */
} summary_fields;

/* Appends <sep>"key":"val" (val printable ASCII: sl_json_plain). */
static int put_member(sl_buf *b, char sep, const char *key, const char *val)
{
    char open[2] = { sep, '"' };
    int rc = sl_buf_append(b, open, 2);

    if (rc == SL_OK)
        rc = sl_buf_append(b, key, strlen(key));
    if (rc == SL_OK)
        rc = sl_buf_append(b, "\":\"", 3);
    while (rc == SL_OK && *val) {
        size_t run = strcspn(val, "\"\\");
        if (run)
            rc = sl_buf_append(b, val, run);
        val += run;
        if (rc == SL_OK && *val) {
            char esc[2] = { '\\', *val++ };
            rc = sl_buf_append(b, esc, 2);
        }
    }
    return rc == SL_OK ? sl_buf_putc(b, '"') : rc;
}

/* Appends <lit><n>: a member's key (with its separator) and an integer. */
static int put_int(sl_buf *b, const char *lit, json_int_t n)
{
    char num[32];
    int len = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, n);
    int rc = sl_buf_append(b, lit, strlen(lit));

    return rc == SL_OK ? sl_buf_append(b, num, (size_t)len) : rc;
}

/* The summary of a sample with no findings listed and only printable
 * ASCII in its strings, written directly: byte for byte what json_dumps
 * (JSON_COMPACT) makes of summary_tree()'s object, without building and
 * freeing the tree (about 3 us a sample of scan's 25: tests/bench/README.md,
 * "The scan summary written directly").  *out stays NULL (SL_OK) for any
 * other sample; SL_ENOMEM. */
static int summary_direct(const summary_fields *f, char **out)
{
    const char *strs[] = { f->outcome, f->detected, f->encoding, f->category,
                           f->declared, f->coverage, f->rules_version,
                           f->rules_sha256 };
    sl_buf b;
    int rc;

    *out = NULL;
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        if (!sl_json_plain(strs[i]))
            return SL_OK;
    if ((f->reason && !sl_json_plain(f->reason)) ||
        (f->flag_reason && !sl_json_plain(f->flag_reason)) ||
        (f->budget && (!sl_json_plain(f->budget->part) ||
                       !sl_json_plain(f->budget->what))))
        return SL_OK;
    sl_buf_init(&b, 1 << 20);
    rc = sl_buf_reserve(&b, 512);   /* one allocation for the usual ~300 bytes */
    if (rc == SL_OK)
        rc = sl_buf_append(&b, "{\"v\":1", 6);
    if (rc == SL_OK) rc = put_member(&b, ',', "outcome", f->outcome);
    if (rc == SL_OK) rc = put_member(&b, ',', "detected_type", f->detected);
    if (rc == SL_OK) rc = put_member(&b, ',', "encoding", f->encoding);
    if (rc == SL_OK) rc = put_member(&b, ',', "category", f->category);
    if (rc == SL_OK) rc = put_member(&b, ',', "declared_type", f->declared);
    if (rc == SL_OK) rc = put_member(&b, ',', "coverage", f->coverage);
    if (rc == SL_OK) rc = put_member(&b, ',', "rules_version", f->rules_version);
    if (rc == SL_OK) rc = put_member(&b, ',', "rules_sha256", f->rules_sha256);
    if (rc == SL_OK)
        rc = put_int(&b, ",\"findings\":[],\"findings_total\":", (json_int_t)f->total);
    if (rc == SL_OK && f->reason)
        rc = put_member(&b, ',', "reason", f->reason);
    if (rc == SL_OK && f->budget) {
        rc = sl_buf_append(&b, ",\"budget\":", 10);
        if (rc == SL_OK) rc = put_member(&b, '{', "part", f->budget->part);
        if (rc == SL_OK) rc = put_member(&b, ',', "exceeded", f->budget->what);
        if (rc == SL_OK) rc = put_int(&b, ",\"bytes\":", (json_int_t)f->budget->bytes);
        if (rc == SL_OK) rc = put_int(&b, ",\"steps\":", (json_int_t)f->budget->steps);
        if (rc == SL_OK) rc = put_int(&b, ",\"regex\":", (json_int_t)f->budget->regex);
        if (rc == SL_OK) rc = sl_buf_putc(&b, '}');
    }
    if (rc == SL_OK && f->flag_reason)
        rc = put_member(&b, ',', "flag_reason", f->flag_reason);
    if (rc == SL_OK)
        rc = sl_buf_putc(&b, '}');
    if (rc == SL_OK)
        rc = sl_buf_cstr(&b);
    if (rc != SL_OK) {
        sl_buf_free(&b);
        return SL_ENOMEM;
    }
    *out = (char *)b.data;
    return SL_OK;
}

/* The sluice-scan header's object, as jansson's tree. */
static json_t *summary_tree(const summary_fields *f, json_t *list)
{
    json_t *o, *empty = NULL;

    if (!list && !(list = empty = json_array()))
        return NULL;
    o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:O, s:I}",
        "v", 1, "outcome", f->outcome, "detected_type", f->detected,
        "encoding", f->encoding, "category", f->category,
        "declared_type", f->declared, "coverage", f->coverage,
        "rules_version", f->rules_version, "rules_sha256", f->rules_sha256,
        "findings", list, "findings_total", (json_int_t)f->total);
    json_decref(empty);
    if (!o)
        return NULL;
    if ((f->reason && json_object_set_new(o, "reason", json_string(f->reason))) ||
        (f->budget && json_object_set_new(o, "budget", json_pack(
            "{s:s, s:s, s:I, s:I, s:I}", "part", f->budget->part,
            "exceeded", f->budget->what, "bytes", (json_int_t)f->budget->bytes,
            "steps", (json_int_t)f->budget->steps,
            "regex", (json_int_t)f->budget->regex))) ||
        (f->flag_reason &&
         json_object_set_new(o, "flag_reason", json_string(f->flag_reason)))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The sluice-scan header's object: rep->summary, or with x->text its JSON
 * text in rep->summary_text (written directly when summary_direct can).
 * SL_OK or SL_ENOMEM. */
static int summary(sample *x)
{
    sl_scan *s = x->s;
    sl_scan_report *rep = x->rep;
    summary_fields f;

    if (rep->code)
        rep->outcome = "rejected";
    if (strcmp(rep->outcome, "redacted") != 0)
        sl_buf_reset(&rep->redacted);
    f = (summary_fields){
        .outcome = rep->outcome, .detected = rep->ft.mime,
        .encoding = rep->ft.encoding, .category = sl_ftcat_name(rep->ft.category),
        .declared = x->declared,
        .coverage = !x->extracted ? "none" :
                    s->x.coverage == SL_XCOV_FULL ? "full" :
                    s->x.coverage == SL_XCOV_METADATA ? "metadata" : "none",
        .rules_version = sl_rules_version(s->rules),
        .rules_sha256 = sl_rules_hash(s->rules),
        .reason = rep->code ? rep->code : x->reason,
        .flag_reason = x->why_flag, .total = x->total,
        .budget = sl_budget_out(&x->b) ? &x->b : NULL,
    };
    json_decref(rep->summary);
    rep->summary = NULL;
    free(rep->summary_text);
    rep->summary_text = NULL;
    if (x->text && !x->list && summary_direct(&f, &rep->summary_text) != SL_OK)
        return SL_ENOMEM;
    if (rep->summary_text)
        return SL_OK;
    if (!(rep->summary = summary_tree(&f, x->list)))
        return SL_ENOMEM;
    if (x->text) {
        rep->summary_text = json_dumps(rep->summary,
                                       JSON_COMPACT | JSON_REAL_PRECISION(4));
        json_decref(rep->summary);
        rep->summary = NULL;
        if (!rep->summary_text)
            return SL_ENOMEM;
    }
    return SL_OK;
}

int sl_scan_decide(sl_scan *s, sl_slice bytes, const char *declared_type,
                   const char *allowed_types, const char *scan_actions,
                   sl_scan_report *rep)
{
    return sl_scan_decide_lists(s, bytes, declared_type, allowed_types,
                                scan_actions, NULL, rep);
}

static int decide(sl_scan *s, sl_slice bytes, const char *declared_type,
                  const char *allowed_types, const char *scan_actions,
                  const char *scan_lists, sl_scan_report *rep, int text)
{
    sample x = { .s = s, .bytes = bytes, .rep = rep, .b = s->limits,
                 .strongest = SL_ACTION_ALLOW, .content_seg = -1,
                 .lists = lists_for(s, scan_lists), .text = text };
    int rc = SL_OK;

    sl_buf_reset(&rep->redacted);
    rep->code = NULL;
    rep->detail[0] = '\0';
    load_actions(s, scan_actions);
    sl_ft_detect_budget(s->ft, bytes, &rep->ft, &x.b);
    if (sl_budget_out(&x.b)) {
        policy(&x);
    } else if (!type_refused(&x, declared_type, allowed_types)) {
        if ((rc = extract(&x)) != SL_OK || (rc = findings(&x)) != SL_OK)
            goto out;
        policy(&x);
    }
    rc = summary(&x);
out:
    rep->budget = x.b;
    json_decref(x.list);
    return rc;
}

int sl_scan_decide_lists(sl_scan *s, sl_slice bytes, const char *declared_type,
                         const char *allowed_types, const char *scan_actions,
                         const char *scan_lists, sl_scan_report *rep)
{
    return decide(s, bytes, declared_type, allowed_types, scan_actions,
                  scan_lists, rep, 0);
}

int sl_scan_decide_text(sl_scan *s, sl_slice bytes, const char *declared_type,
                        const char *allowed_types, const char *scan_actions,
                        const char *scan_lists, sl_scan_report *rep)
{
    return decide(s, bytes, declared_type, allowed_types, scan_actions,
                  scan_lists, rep, 1);
}

/* ---- the processor ---------------------------------------------------------- */

/* Appends the scan event to the incoming chain (restarted from the signed
 * content's hash if it does not verify). */
static int add_prov(sl_scan *s, const sl_msg *in, sl_out *out, const char *upload_id,
                    const char *sha_in, const char *sha_out, const char *outcome,
                    const char *reason)
{
    sl_prov_event ev = {
        .stage = "scan", .version = s->version, .outcome = outcome,
        .reason = reason, .upload_id = upload_id, .input_sha256 = sha_in,
        .output_sha256 = sha_out, .time_ms = sl_now_ms(),
    };
    sl_slice chain = { NULL, 0 };
    sl_err err;

    (void)sl_msg_header(in, SL_H_PROV, &chain);   /* absent: stays empty */
    if (sl_prov_extend(chain, sha_in, &ev, &s->prov, &err) != SL_OK) {
        sl_error("scan", "provenance: %s", err.msg);
        return SL_ERR;
    }
    return sl_out_add_header(out, SL_H_PROV, s->prov.data, s->prov.len, 1);
}

/* Refuses the message before its bytes are read (meta_invalid,
 * dataset_unknown), with the provenance event. */
static sl_verdict refuse_early(sl_scan *s, const sl_msg *in, sl_out *out,
                               const sl_envelope *env, const char *code)
{
    return add_prov(s, in, out, env->upload_id, env->sha256, env->sha256,
                    "rejected", code) == SL_OK ? SL_REJECT : SL_FATAL;
}

/* Turns the report into the message's outcome: the sluice-scan header,
 * the redacted bytes and their hash, the provenance event, and the
 * verdict (reject, route to the flagged topic, emit). */
static sl_verdict report_out(sl_scan *s, const sl_msg *in, sl_out *out,
                             const sl_envelope *env, sl_scan_report *rep)
{
    const char *sha = env->sha256;
    char new_sha[SL_SHA256_HEX];
    sl_verdict verdict = SL_FATAL;

    if (rep->code) {
        sl_out_reject(out, rep->code, "%s", rep->detail);
        /* Blocked bytes stay out of sluice.rejected: hash and findings only. */
        if (strcmp(rep->code, "pii_blocked") == 0 ||
            strcmp(rep->code, "secret_blocked") == 0 ||
            strcmp(rep->code, "deny_listed") == 0)
            sl_out_withhold_value(out);
        if (sl_out_add_header_str(out, SL_H_SCAN, rep->summary_text, 1) == SL_OK &&
            add_prov(s, in, out, env->upload_id, sha, sha, "rejected",
                     rep->code) == SL_OK)
            verdict = SL_REJECT;
        return verdict;
    }
    memcpy(new_sha, sha, SL_SHA256_HEX);
    if (strcmp(rep->outcome, "redacted") == 0) {
        /* The two hashes close the object, as json_object_set_new would
         * have added them: the text ends in its closing brace. */
        sl_buf t;
        size_t len = strlen(rep->summary_text);
        int rc;

        if (sl_sha256_hex(rep->redacted.data, rep->redacted.len, new_sha) != SL_OK ||
            sl_out_set_value(out, rep->redacted.data, rep->redacted.len) != SL_OK ||
            sl_out_add_header_str(out, SL_H_SHA256, new_sha, 1) != SL_OK ||
            len < 2 || rep->summary_text[len - 1] != '}')
            return SL_FATAL;
        sl_buf_init(&t, 1 << 20);
        rc = sl_buf_append(&t, rep->summary_text, len - 1);
        if (rc == SL_OK)
            rc = sl_buf_appendf(&t, ",\"original_sha256\":\"%s\",\"redacted_sha256\":\"%s\"}",
                                sha, new_sha);
        if (rc == SL_OK)
            rc = sl_buf_cstr(&t);
        if (rc != SL_OK) {
            sl_buf_free(&t);
            return SL_FATAL;
        }
        free(rep->summary_text);
        rep->summary_text = (char *)t.data;
    }
    if (sl_out_add_header_str(out, SL_H_SCAN, rep->summary_text, 1) == SL_OK &&
        add_prov(s, in, out, env->upload_id, sha, new_sha, rep->outcome, NULL) == SL_OK)
        verdict = strcmp(rep->outcome, "flagged") == 0
                  ? sl_out_route(out, SL_TOPIC_FLAGGED) : SL_EMIT;
    return verdict;
}

sl_verdict sl_scan_process(sl_scan *s, const sl_msg *in, sl_out *out)
{
    const char *allowed = NULL, *actions = NULL, *lists = NULL;
    sl_scan_report rep;
    sl_verdict verdict = SL_FATAL;
    sl_envelope env;
    int rc;

    sl_scan_report_init(&rep);
    if (sl_envelope_read_with(&env, in, 0) != SL_OK)
        goto done;
    if (env.meta_state != SL_META_OK) {
        sl_out_reject(out, "meta_invalid", "%s", env.meta_detail);
        verdict = refuse_early(s, in, out, &env, "meta_invalid");
        goto done;
    }
    if (s->have_lk) {
        rc = s->lk.dataset_lists
             ? s->lk.dataset_lists(s->lk.u, env.dataset_id, &allowed, &actions,
                                   &lists)
             : s->lk.dataset(s->lk.u, env.dataset_id, &allowed, &actions);
        if (rc == SL_ENOTFOUND) {
            sl_out_reject(out, "dataset_unknown", "dataset \"%s\" is not registered",
                          env.dataset_id);
            verdict = refuse_early(s, in, out, &env, "dataset_unknown");
            goto done;
        }
        if (rc != SL_OK) {
            verdict = SL_RETRY;
            goto done;
        }
    }
    if (sl_scan_decide_text(s, in->value, env.content_type, allowed, actions,
                            lists, &rep) == SL_OK)
        verdict = report_out(s, in, out, &env, &rep);
done:
    sl_envelope_clear(&env);
    sl_scan_report_free(&rep);
    return verdict;
}
