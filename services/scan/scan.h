/*
 * scan.h -- the scan stage: what the bytes really are, and whether they
 * carry personal data or secrets.
 *
 * Pure processor: file type (filetype.h), the text to scan (extract.h) and
 * PII / secret rules (rules.h), decided against the dataset's policy,
 * which sits behind sl_scan_lookup (PostgreSQL in the service, scan_pg.c;
 * nothing in `sluicectl scan` without --dataset).
 *
 * Per sample, in order: dataset registered (dataset_unknown); the detected
 * type agrees with the declared one (type_mismatch); the dataset takes the
 * type (type_not_allowed); an archive or office document within the
 * archive limits (scan.archive.*: members, depth, expanded bytes, ratio;
 * archive_bomb, whatever was found before the limit); then every
 * finding's action -- the rule's
 * default or the dataset's override -- and the strongest wins:
 *   block   reject pii_blocked / secret_blocked;
 *   flag    route to sluice.flagged for a moderator, with the findings;
 *   redact  replace each span with [REDACTED:ENTITY], new SHA-256, a
 *           provenance event with both hashes (only where the span maps to
 *           UTF-8 content bytes; otherwise the sample is flagged);
 *   allow   pass.
 * EXIF GPS coordinates are a finding of the pseudo-rule "gps_location"
 * (default flag).  The dataset's scan lists (scanlists.h) apply to each
 * text segment's findings before they are weighed: a finding on the
 * allow-list is dropped (neither listed nor counted), and each deny-list
 * match is a finding of the pseudo-rule "dataset_deny" (default flag;
 * block rejects deny_listed; redact flags, as a list entry has no entity
 * to redact to).  A scan cut short by a size limit flags the sample, as
 * does a PDF whose page text poppler could not read (flag_reason says
 * why).  Findings name rule, entity, source, offset and length -- and the
 * archive member, when inside one -- never the matched text.
 *
 * Work budget.  Each sample's decision runs within one budget (budget.h,
 * the scan.budget.* keys): the sniffer, every extractor and decoder, the
 * rule engine and each PCRE2 run charge it.  A sample that exhausts it is
 * refused with scan_budget_exceeded, the detail naming the part that ran
 * out ("pdf", "jpeg", "regex", ...) and the limit's key -- or flagged for
 * review when the action of the pseudo-rule "scan_budget" is anything but
 * block (a sample read only in part is never passed as clean) --
 * unless a finding to block was already made (that code wins).  The
 * outcome is final: the same bytes always cost the same, so nothing is
 * retried.
 */
#ifndef SL_SCAN_H
#define SL_SCAN_H

#include <jansson.h>

#include "budget.h"
#include "filetype.h"
#include "sl/processor.h"

#define SL_SCAN_GPS_RULE "gps_location"
/* The pseudo-rule whose action (block, the default, or flag; from
 * scan.budget.action or the dataset's scan actions) says what becomes of
 * a sample over its work budget. */
#define SL_SCAN_BUDGET_RULE "scan_budget"
/* The pseudo-rule of a dataset's deny-list matches (scanlists.h). */
#define SL_SCAN_DENY_RULE "dataset_deny"

typedef struct sl_scan_lookup {
    void *u;
    /* SL_OK with *allowed_types (patterns separated by commas, NULL: the
     * default policy) and *scan_actions (a JSON object {"rule": "action"},
     * NULL: none), borrowed until the next call; SL_ENOTFOUND; SL_EIO. */
    int (*dataset)(void *u, const char *dataset_id, const char **allowed_types,
                   const char **scan_actions);
    void (*destroy)(void *u);    /* optional */
    /* Optional; when set, used instead of dataset: the same, plus
     * *scan_lists (the JSON text of scanlists.h, NULL: none), all three
     * from one look-up (borrowed until the next call). */
    int (*dataset_lists)(void *u, const char *dataset_id,
                         const char **allowed_types, const char **scan_actions,
                         const char **scan_lists);
} sl_scan_lookup;

typedef struct sl_scan sl_scan;

extern const sl_cfg_entry sl_scan_config[];

/* lk is copied and its u owned from then on; lk may be NULL (no registry:
 * every dataset gets the default policy, for `sluicectl scan`). */
int  sl_scan_new(sl_scan **out, const sl_config *cfg, const sl_scan_lookup *lk,
                 sl_err *err);
void sl_scan_destroy(sl_scan *s);
sl_verdict sl_scan_process(sl_scan *s, const sl_msg *in, sl_out *out);

/* The decision for one sample, without Kafka. */
typedef struct sl_scan_report {
    sl_ft_result ft;
    const char *outcome;         /* "accepted", "redacted", "flagged", "rejected" */
    const char *code;            /* reject reason, or NULL */
    char detail[512];            /* for code, or why flagged */
    json_t *summary;             /* the sluice-scan header's object; owned
                                    (NULL after sl_scan_decide_text) */
    char *summary_text;          /* that object as JSON text, after
                                    sl_scan_decide_text only; owned */
    sl_buf redacted;             /* the redacted bytes when outcome "redacted" */
    sl_budget budget;            /* the sample's budget: limits, use, and
                                    which part ran out (part NULL: none) */
} sl_scan_report;

void sl_scan_report_init(sl_scan_report *r);
void sl_scan_report_free(sl_scan_report *r);
/* Decides for `bytes` declared as `declared_type` under a dataset's
 * allowed types and per-rule actions (either NULL for the defaults).
 * SL_OK (the report says what), SL_ENOMEM or SL_ERR. */
int sl_scan_decide(sl_scan *s, sl_slice bytes, const char *declared_type,
                   const char *allowed_types, const char *scan_actions,
                   sl_scan_report *rep);
/* The same under the dataset's scan lists too (scan_lists: the JSON text
 * of scanlists.h, NULL: none).  Compiled lists are cached by their text
 * (SCAN_LISTS_CACHE of them), so a changed list is compiled afresh; a
 * list that does not compile (only a hand-edited row: sluicectl checks
 * them) is ignored with a warning, once. */
int sl_scan_decide_lists(sl_scan *s, sl_slice bytes, const char *declared_type,
                         const char *allowed_types, const char *scan_actions,
                         const char *scan_lists, sl_scan_report *rep);
/* The same decision with the summary as text: rep->summary_text is what
 * json_dumps(JSON_COMPACT | JSON_REAL_PRECISION(4)) writes of the object
 * sl_scan_decide_lists leaves in rep->summary, and rep->summary stays
 * NULL.  The stage's own path: a sample without findings is written
 * without building jansson's tree. */
int sl_scan_decide_text(sl_scan *s, sl_slice bytes, const char *declared_type,
                        const char *allowed_types, const char *scan_actions,
                        const char *scan_lists, sl_scan_report *rep);

/* The PostgreSQL-backed lookup and the stage descriptor handed to the
 * runner (scan_pg.c): both exist in the sluice-scan binary only, not in
 * the processor library. */
int sl_scan_pg_lookup(sl_scan_lookup *lk, const sl_config *cfg, sl_err *err);

extern const sl_processor sl_scan_stage;

#endif
