/*
 * budget.h -- the work one message may cost the scan stage (internal to
 * services/scan, header only, so the filetype and rules libraries share it
 * without linking each other).
 *
 * One sl_budget lives for one sample's decision (sl_scan_decide) and is
 * handed to every part that reads the sample: the file-type sniffer and
 * its libmagic call (filetype.c), every extractor and text decoder
 * (extract.c), the rule engine's prefilter, PCRE2 and the validators
 * (rules.c).  Each part charges what it does, as it goes:
 *
 *   bytes   bytes examined: every pass of the sniffer over the input, every
 *           byte a parser reads, searches or decodes, inflated output, the
 *           prefilter's pass over each text segment;
 *   steps   structures visited: PNG / WebP chunks, JPEG segments, TIFF IFD
 *           entries, IPTC and Photoshop records, GIF blocks, PDF tokens and
 *           objects;
 *   regex   PCRE2 work apart from backtracking: calls, start positions
 *           tried, candidate matches and the bytes their validators and
 *           context checks read;
 *
 * and every PCRE2 run gets match_limit (per start position: the
 * interpreter and the JIT both restart the count at each position),
 * depth_limit and heap_limit (the interpreter only; the JIT's memory is
 * capped by its stack).  A run that reaches one of them exhausts the
 * budget like a counter does.
 *
 * The first part to go past a limit is recorded (`part`, `what`) and the
 * budget stays exhausted: every later charge fails, each parser stops at
 * its next check, and the caller decides (scan_budget_exceeded).  A NULL
 * budget is unlimited: tools and tests that want the old behaviour pass
 * NULL.  Counting is deterministic -- the same bytes always cost the same
 * -- so a message that is retried gets the same outcome, and tests assert
 * on the counters, never on time.
 */
#ifndef SL_SCAN_BUDGET_H
#define SL_SCAN_BUDGET_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct sl_budget {
    /* limits, from the stage's config (sl_budget_init) */
    uint64_t max_bytes, max_steps, max_regex;
    uint32_t match_limit, depth_limit, heap_limit_kib;
    /* use so far */
    uint64_t bytes, steps, regex;
    /* the first part that ran out, or NULL; what ran out there */
    const char *part;           /* "pdf", "png", "jpeg", "regex", ... */
    const char *what;           /* "bytes", "steps", "regex", "match limit",
                                   "depth limit", "heap limit", "JIT stack" */
    char rule[64];              /* for a PCRE2 limit: the rule's id */
} sl_budget;

static inline void sl_budget_init(sl_budget *b, uint64_t max_bytes,
                                  uint64_t max_steps, uint64_t max_regex,
                                  uint32_t match_limit, uint32_t depth_limit,
                                  uint32_t heap_limit_kib)
{
    memset(b, 0, sizeof(*b));
    b->max_bytes = max_bytes;
    b->max_steps = max_steps;
    b->max_regex = max_regex;
    b->match_limit = match_limit;
    b->depth_limit = depth_limit;
    b->heap_limit_kib = heap_limit_kib;
}

/* 1 once some part ran out (never for a NULL budget). */
static inline int sl_budget_out(const sl_budget *b)
{
    return b && b->part;
}

/* Records the first part to run out; 0, so callers can return it. */
static inline int sl_budget_exhaust(sl_budget *b, const char *part,
                                    const char *what)
{
    if (b && !b->part) {
        b->part = part;
        b->what = what;
    }
    return 0;
}

/* Each charge returns 1 while the budget holds, 0 once it is exhausted
 * (by this charge or an earlier one).  NULL: always 1. */
static inline int sl_budget_bytes(sl_budget *b, const char *part, uint64_t n)
{
    if (!b)
        return 1;
    if (b->part)
        return 0;
    b->bytes += n;
    return b->bytes <= b->max_bytes ? 1 : sl_budget_exhaust(b, part, "bytes");
}

static inline int sl_budget_steps(sl_budget *b, const char *part, uint64_t n)
{
    if (!b)
        return 1;
    if (b->part)
        return 0;
    b->steps += n;
    return b->steps <= b->max_steps ? 1 : sl_budget_exhaust(b, part, "steps");
}

static inline int sl_budget_regex(sl_budget *b, uint64_t n)
{
    if (!b)
        return 1;
    if (b->part)
        return 0;
    b->regex += n;
    return b->regex <= b->max_regex ? 1 : sl_budget_exhaust(b, "regex", "regex");
}

#endif
