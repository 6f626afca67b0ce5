/*
 * scanlists.h -- a dataset's scan allow-list and deny-list (datasets.
 * scan_lists, migration 022): exact strings and PCRE2 patterns, compiled
 * once per distinct list text and applied by the scan processor after the
 * rule engine, before the policy (scan.c).
 *
 * The list text is a JSON object with up to four arrays of strings:
 *
 *   { "allow":          ["+1 800 555 0199"],    exact matched text
 *     "allow_patterns": ["AKIA[A-Z0-9]{12}EXAMPLE"],  PCRE2, the whole
 *                                                    matched text
 *     "deny":           ["Project Nightingale"],  exact, anywhere
 *     "deny_patterns":  ["(?i)internal[- ]only"] }  PCRE2, anywhere
 *
 * Allow: a rule's finding whose matched text equals an allow string, or
 * that an allow pattern matches whole (anchored at both ends), is not a
 * finding.  Deny: every occurrence of a deny string (byte for byte) or a
 * deny pattern's match in the scanned text is a finding of the
 * pseudo-rule "dataset_deny".  Allow never cancels a deny.
 *
 * Limits: SL_SCANLISTS_MAX_ENTRIES per array, SL_SCANLISTS_MAX_LEN bytes
 * per entry, no empty entry, no NUL byte, no pattern that matches the
 * empty string; patterns are compiled for bytes (never UTF mode, whatever
 * the pattern says) and JIT-compiled.  Every match runs under the
 * sample's work budget (budget.h): exact searches are charged as bytes,
 * PCRE2 runs as regex work with the budget's match, depth and heap
 * limits; part "deny" / "allow" names the list that ran it out.
 *
 * Ownership: a sl_scanlists holds its match scratch, so it is used by one
 * thread at a time (one scan processor).  Nothing here copies or logs the
 * scanned text.
 */
#ifndef SL_SCAN_SCANLISTS_H
#define SL_SCAN_SCANLISTS_H

#include <stddef.h>
#include <stdint.h>

#include "budget.h"
#include "sl/common.h"

#define SL_SCANLISTS_MAX_ENTRIES 256
#define SL_SCANLISTS_MAX_LEN     1024
#define SL_SCANLISTS_MAX_TEXT    (1u << 20)   /* bytes of JSON */

typedef struct sl_scanlists sl_scanlists;

/* Parses and compiles list text (len bytes of JSON).  SL_OK with *out
 * owned by the caller; SL_EINVAL with err naming the array, the entry's
 * index and the problem (never the entry's text: it may be a secret);
 * SL_ENOMEM. */
int  sl_scanlists_compile(sl_scanlists **out, const char *json, size_t len,
                          sl_err *err);
void sl_scanlists_destroy(sl_scanlists *l);            /* NULL allowed */

/* Entries per array, for tools. */
size_t sl_scanlists_allow_count(const sl_scanlists *l);
size_t sl_scanlists_deny_count(const sl_scanlists *l);

/* 1 when [p, p + n) is allowed (equals an allow string, or an allow
 * pattern matches it whole); 0 otherwise, or when the budget runs out. */
int sl_scanlists_allowed(sl_scanlists *l, const uint8_t *p, size_t n,
                         sl_budget *b);

/* Calls hit(arg, offset, length) for each deny match in text, strings
 * first then patterns, each list's matches in order and not overlapping
 * one another.  Stops when hit returns non-zero (that value is returned),
 * after max_hits matches (*capped set to 1), or when the budget runs out
 * (SL_OK: the caller checks sl_budget_out).  SL_OK, hit's value, or
 * SL_ERR on an unexpected PCRE2 failure. */
typedef int (*sl_scanlists_hit)(void *arg, size_t offset, size_t length);
int sl_scanlists_deny(sl_scanlists *l, const uint8_t *text, size_t len,
                      size_t max_hits, sl_budget *b, sl_scanlists_hit hit,
                      void *arg, int *capped);

#endif
