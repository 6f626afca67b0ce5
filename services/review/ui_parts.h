/*
 * ui_parts.h -- the pieces the review pages are built from, shared by
 * pages.c, highlight.c and chart.c (and their unit tests): the findings'
 * spans over the content, the 30-day bar charts, and the page frame.
 * Pure, like pages.h: everything borrowed, output into an sl_html builder.
 */
#ifndef RV_UI_PARTS_H
#define RV_UI_PARTS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "pages.h"
#include "sl/html.h"

/* At most this many findings are drawn over the content (the scanner lists
 * fewer); the rest are listed only.  Bounds the O(k^2) span split. */
#define RV_HL_MAX 512

/* One finding as read from the scan JSON, hostile values made safe. */
typedef struct rv_finding {
    const char *rule, *entity, *kind, *severity, *source, *action;
    int64_t offset, length;   /* as reported; -1 when absent or not an int */
    int validated;
    int secret;               /* kind == "secret" */
    int revealed;             /* secret and in the revealed list */
    /* The span drawn over the content, after clamping to it and widening
     * to whole UTF-8 sequences; start == end: not drawn (why in `note`). */
    size_t start, end;
    const char *note;         /* NULL, or why the span is not drawn */
} rv_finding;

/* Reads `findings` of the scan JSON `doc` (an object) into *out (malloc'd,
 * the caller frees; strings borrowed from doc) and computes each span over
 * content[0..n).  SL_OK (with *out NULL and *count 0 when there are none),
 * SL_ENOMEM. */
int rv_findings_read(json_t *doc, const uint8_t *content, size_t n,
                     const size_t *revealed, size_t n_revealed,
                     rv_finding **out, size_t *count);

/* The content as text with every drawn span marked and labelled:
 *   <mark class="finding sev-high" data-findings="0 2">...</mark>
 * for text under findings, a label <span class="flabel"> before each
 * finding's first byte, and for bytes under an unrevealed secret one
 * <span class="masked" data-finding="i">[secret hidden]</span> instead of
 * the bytes (they are never written). */
void rv_highlight(sl_html *h, const uint8_t *content, size_t n,
                  const rv_finding *f, size_t nf);

/* A 30-day stacked bar chart of pts as inline SVG plus its legend, inside
 * <figure id="fig_id" data-live>.  Keys beyond the 8 largest are summed
 * as "other". */
void rv_chart_days(sl_html *h, const char *fig_id, const char *title,
                   const rv_day_count *pts, size_t n, const char *today);

#endif
