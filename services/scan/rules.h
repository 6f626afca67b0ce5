/*
 * rules.h -- PII and secret detection for the scan stage: rule sets,
 * per-thread scanners, findings and redaction.  A pure library (no Kafka,
 * no PostgreSQL); the scan processor and `sluicectl scan` drive it.
 *
 * Rules live in a JSON file (schemas/scan-rules.json, embedded in every
 * binary; the format is described at the top of rules.c).  Each
 * rule is a PCRE2 pattern, compiled and JIT-compiled once at load, plus an
 * optional validator (validators.h), context words that raise a candidate's
 * score (as Presidio's context enhancer does) and excluding context words,
 * a base score and a threshold, a default action and a severity.  PCRE2 is
 * the exact matcher; a prefilter declared per rule (literals, or a byte
 * class with a minimum count) finds, in one pass over the bytes, the few
 * positions where a rule's match could start, and PCRE2 runs only there --
 * with an offset limit, over the whole text, so lookarounds and boundaries
 * see the real neighbours and the result is exactly that of running every
 * rule over the whole text (sl_scanner_set_flags(SL_SCAN_EXHAUSTIVE) does
 * that, for tests and rule authors).
 *
 * Ownership: sl_rules is immutable once loaded and may be shared by any
 * number of threads; it must outlive every scanner made from it.  A
 * scanner holds the per-thread scratch (match data, JIT stack, candidate
 * lists) and is used by one thread at a time.  Findings hold a rule index,
 * a byte offset and a length -- never the matched bytes: nothing in this
 * library copies, logs or puts a matched value into an error message.
 * Return codes are SL_OK or a negative SL_E* (sl/common.h).
 */
#ifndef SL_SCAN_RULES_H
#define SL_SCAN_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "sl/common.h"

typedef enum sl_rule_kind { SL_RULE_PII = 0, SL_RULE_SECRET } sl_rule_kind;

/* Ordered by strength: a policy may compare them. */
typedef enum sl_action {
    SL_ACTION_ALLOW = 0,
    SL_ACTION_FLAG,
    SL_ACTION_REDACT,
    SL_ACTION_BLOCK
} sl_action;

typedef enum sl_severity {
    SL_SEV_LOW = 0,
    SL_SEV_MEDIUM,
    SL_SEV_HIGH
} sl_severity;

const char *sl_rule_kind_name(sl_rule_kind k);   /* "pii" / "secret" */
const char *sl_action_name(sl_action a);         /* "allow" ... "block" */
const char *sl_severity_name(sl_severity s);     /* "low" ... "high" */
/* Parses "allow" / "flag" / "redact" / "block" (per-dataset overrides).
 * SL_OK or SL_EINVAL. */
int sl_action_parse(const char *s, sl_action *out);

/* ---- rule sets ---------------------------------------------------------- */

typedef struct sl_rules sl_rules;

#define SL_RULES_MAX_FILE  (4u << 20)   /* bytes of JSON */
#define SL_RULES_MAX_RULES 1024
#define SL_RULES_BUILTIN   "scan-rules.json"

/* Parses, checks, compiles and JIT-compiles a rule file.  On failure
 * returns SL_EINVAL (SL_ENOMEM) with *out = NULL and err naming the rule
 * and the problem, e.g. "rule 'email': pattern error at offset 12: missing
 * closing parenthesis".  On success *out is owned by the caller. */
int  sl_rules_load(sl_rules **out, const char *json, size_t len, sl_err *err);
/* The same from a file (at most SL_RULES_MAX_FILE bytes); SL_EIO if it
 * cannot be read. */
int  sl_rules_load_file(sl_rules **out, const char *path, sl_err *err);
/* The shipped rule set, schemas/scan-rules.json as embedded at build. */
int  sl_rules_load_builtin(sl_rules **out, sl_err *err);
void sl_rules_destroy(sl_rules *r);

/* The file's "version" string, and the SHA-256 of the file bytes as 64
 * lowercase hex characters: together they name the rule set in provenance
 * events.  Both live as long as r. */
const char *sl_rules_version(const sl_rules *r);
const char *sl_rules_hash(const sl_rules *r);
size_t      sl_rules_count(const sl_rules *r);
/* Index of the rule with this id: SL_OK or SL_ENOTFOUND. */
int         sl_rules_find(const sl_rules *r, const char *id, size_t *index);

/* Per rule, by index < sl_rules_count(); strings live as long as r. */
const char  *sl_rules_id(const sl_rules *r, size_t i);
const char  *sl_rules_entity(const sl_rules *r, size_t i);
sl_rule_kind sl_rules_kind(const sl_rules *r, size_t i);
sl_action    sl_rules_action(const sl_rules *r, size_t i);
sl_severity  sl_rules_severity(const sl_rules *r, size_t i);
const char  *sl_rules_validator(const sl_rules *r, size_t i);  /* or NULL */
/* The rule's base score and threshold (0..1): a candidate is a finding
 * when its score -- the base, plus the context boost when one of the
 * rule's context words is near -- reaches the threshold. */
float        sl_rules_score(const sl_rules *r, size_t i);
float        sl_rules_threshold(const sl_rules *r, size_t i);
/* Context word k of rule i (lower case, as written in the rule file), or
 * NULL when k is out of range (k < 0: no context word). */
const char  *sl_rules_context_word(const sl_rules *r, size_t i, int k);

/* ---- findings ----------------------------------------------------------- */

typedef enum sl_validation {
    SL_VALIDATION_NA = 0,       /* the rule has no validator */
    SL_VALIDATION_PASSED = 1    /* its validator accepted the span */
} sl_validation;

/* One detected span: where, which rule and how sure -- not what. */
typedef struct sl_finding {
    uint32_t rule;              /* index into the rule set */
    sl_validation validation;
    size_t offset;              /* bytes from the start of the text */
    size_t length;
    float score;                /* 0..1, at least the rule's threshold */
    int32_t context;            /* the rule's context word found near the
                                   span (sl_rules_context_word), or -1 */
} sl_finding;

/* A capped list of findings, owned by the caller and reused across scans.
 * `incomplete` is set when PCRE2's match limit stopped a rule on some
 * window: the list may then miss findings and a cautious policy flags. */
typedef struct sl_findings {
    sl_finding *items;
    size_t count;
    size_t cap;                 /* allocated */
    size_t max;                 /* limit, see sl_scan_text */
    int incomplete;
} sl_findings;

#define SL_FINDINGS_DEFAULT_MAX 10000

void sl_findings_init(sl_findings *f, size_t max);
void sl_findings_reset(sl_findings *f);
void sl_findings_free(sl_findings *f);

/* ---- scanners ----------------------------------------------------------- */

typedef struct sl_scanner sl_scanner;

/* NULL on allocation failure.  `rules` is borrowed and must outlive it. */
sl_scanner *sl_scanner_new(const sl_rules *rules);
void        sl_scanner_destroy(sl_scanner *s);

/* SL_SCAN_EXHAUSTIVE: no prefilter, every rule over every byte.  Same
 * findings, many times slower: for checking a rule's prefilter. */
#define SL_SCAN_EXHAUSTIVE 0x1u
void sl_scanner_set_flags(sl_scanner *s, unsigned flags);

/* Scans len bytes (UTF-8 or any ASCII-compatible bytes; no NUL needed).
 * Resets `out`, then fills it with findings sorted by offset and never
 * overlapping: where candidates of several rules overlap, the one kept has
 * the higher severity, then the higher score, then a passed validator,
 * then is longer, then earlier, then has the lower rule index; the others are dropped (a card
 * number that also reads as a phone number is a card).
 * Returns SL_OK; SL_ETOOBIG when more than out->max candidate matches were
 * found (out is then left empty: treat the text as unscannable); SL_ENOMEM;
 * SL_ERR on an unexpected PCRE2 failure. */
int sl_scan_text(sl_scanner *s, const uint8_t *text, size_t len,
                 sl_findings *out);
/* The same within a work budget (budget.h; NULL: sl_scan_text's fixed
 * match limit).  The prefilter's pass is charged as bytes; PCRE2 calls,
 * the start positions each may try and the candidates handed to
 * validators as regex work; every PCRE2 run gets the budget's match, depth
 * and heap limits, and a run that reaches one exhausts the budget (part
 * "regex", `rule` naming the rule) instead of leaving the scan incomplete.
 * Once the budget is out the scan stops and returns SL_OK with what it
 * found so far: the caller checks sl_budget_out(b). */
struct sl_budget;
int sl_scan_text_budget(sl_scanner *s, const uint8_t *text, size_t len,
                        sl_findings *out, struct sl_budget *b);

/* Counters since the scanner was made. */
typedef struct sl_scan_stats {
    uint64_t scans;
    uint64_t bytes;             /* bytes scanned */
    uint64_t matcher_calls;     /* pcre2 match calls */
    uint64_t start_positions;   /* start offsets PCRE2 was allowed to try,
                                   summed over rules (exhaustive: bytes x
                                   rules) */
    uint64_t candidates;        /* matches handed to context / validators */
    uint64_t findings;          /* after validators, before overlaps */
    uint64_t limit_hits;        /* windows cut short by the match limit */
} sl_scan_stats;

void sl_scanner_stats(const sl_scanner *s, sl_scan_stats *out);
/* The same two counters for one rule. */
void sl_scanner_rule_stats(const sl_scanner *s, size_t rule,
                           uint64_t *matcher_calls, uint64_t *start_positions);

/* ---- redaction ---------------------------------------------------------- */

/* Writes text into `out` (reset first) with each finding's span replaced by
 * "[REDACTED:ENTITY]", ENTITY being the rule's entity in upper case.
 * `f` must be sorted and non-overlapping, as sl_scan_text leaves it, and
 * come from a scan of this text with these rules: SL_EINVAL otherwise.
 * SL_ETOOBIG when out->max would be exceeded. */
int sl_redact(const uint8_t *text, size_t len, const sl_findings *f,
              const sl_rules *rules, sl_buf *out);

#endif
