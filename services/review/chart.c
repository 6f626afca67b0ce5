/*
 * chart.c -- the overview's 30-day bar charts, as inline SVG rendered on
 * the server (no script needed to see them; app.js swaps in a fresh
 * rendering while the page is open).
 *
 * One bar per day, today on the right, stacked by key (a rule or a
 * dataset); the 8 keys with the most flags over the window get a colour
 * each (CSS classes k0..k7 in static/app.css), the rest are summed as
 * "other" (k8).  Colours come from classes, never style attributes (the
 * CSP).  Keys are hostile text: they appear only escaped, in <title> and
 * the legend.  Points outside the window or with a count <= 0 are ignored;
 * sums saturate instead of overflowing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui_parts.h"

#define DAYS 30
#define TOP 8
#define MAX_KEYS 256         /* distinct keys tracked; beyond: "other" */

/* Plot geometry, in SVG user units. */
#define W 640
#define H 180
#define X0 44
#define Y0 10
#define PW (W - X0 - 6)
#define PH (H - Y0 - 24)

typedef struct key_total {
    const char *key;
    int64_t total;
} key_total;

static int64_t sat_add(int64_t a, int64_t b)
{
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

static int cmp_total(const void *a, const void *b)
{
    const key_total *x = a, *y = b;

    if (x->total != y->total)
        return x->total > y->total ? -1 : 1;
    return strcmp(x->key, y->key);
}

static int valid(const rv_day_count *p)
{
    return p->key && p->day >= 0 && p->day < DAYS && p->count > 0;
}

/* The colour slot of key: 0..TOP-1, or TOP for "other". */
static int slot_of(const key_total *keys, size_t nk, const char *key)
{
    for (size_t i = 0; i < nk && i < TOP; i++)
        if (strcmp(keys[i].key, key) == 0)
            return (int)i;
    return TOP;
}

void rv_chart_days(sl_html *h, const char *fig_id, const char *title,
                   const rv_day_count *pts, size_t n, const char *today)
{
    key_total *keys = NULL;
    size_t nk = 0, i, k;
    int64_t day[DAYS][TOP + 1], other_total = 0, max = 0;
    char tmp[256];

    if (h->rc != SL_OK)
        return;
    memset(day, 0, sizeof(day));
    if (n && !(keys = calloc(MAX_KEYS, sizeof(*keys)))) {
        h->rc = SL_ENOMEM;
        return;
    }
    for (i = 0; i < n; i++) {
        if (!valid(&pts[i]))
            continue;
        for (k = 0; k < nk && strcmp(keys[k].key, pts[i].key) != 0; k++)
            ;
        if (k == nk && nk < MAX_KEYS)
            keys[nk++].key = pts[i].key;
        if (k < nk)
            keys[k].total = sat_add(keys[k].total, pts[i].count);
    }
    if (nk)
        qsort(keys, nk, sizeof(*keys), cmp_total);
    for (i = 0; i < n; i++) {
        int s;
        if (!valid(&pts[i]))
            continue;
        s = slot_of(keys, nk, pts[i].key);
        day[pts[i].day][s] = sat_add(day[pts[i].day][s], pts[i].count);
        if (s == TOP)
            other_total = sat_add(other_total, pts[i].count);
    }
    for (int d = 0; d < DAYS; d++) {
        int64_t sum = 0;
        for (int s = 0; s <= TOP; s++)
            sum = sat_add(sum, day[d][s]);
        if (sum > max)
            max = sum;
    }

    sl_html_open(h, "figure", "id", fig_id, "class", "chart-fig", "data-live", "", NULL);
    sl_html_elem(h, "figcaption", NULL, title);
    snprintf(tmp, sizeof(tmp),
             "<svg class=\"chart\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
             "role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">", W, H, W, H);
    sl_html_raw(h, tmp);
    sl_html_elem(h, "title", NULL, title);
    snprintf(tmp, sizeof(tmp),
             "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"></line>",
             X0, Y0 + PH, X0 + PW, Y0 + PH);
    sl_html_raw(h, tmp);
    if (max == 0) {
        snprintf(tmp, sizeof(tmp), "<text class=\"empty\" x=\"%d\" y=\"%d\">",
                 X0 + PW / 2 - 80, Y0 + PH / 2);
        sl_html_raw(h, tmp);
        sl_html_text(h, "no flags in the last 30 days");
        sl_html_raw(h, "</text>");
    } else {
        snprintf(tmp, sizeof(tmp), "<text class=\"ymax\" x=\"%d\" y=\"%d\">%lld</text>",
                 2, Y0 + 10, (long long)max);
        sl_html_raw(h, tmp);
    }
    for (int d = 0; d < DAYS && max > 0; d++) {
        double slot = (double)PW / DAYS, x = X0 + (DAYS - 1 - d) * slot + 2;
        double base = Y0 + PH;
        for (int s = 0; s <= TOP; s++) {
            double bh;
            if (day[d][s] <= 0)
                continue;
            bh = (double)day[d][s] / (double)max * PH;
            base -= bh;
            snprintf(tmp, sizeof(tmp),
                     "<rect class=\"k%d\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                     "height=\"%.1f\"><title>", s, x, base, slot - 4, bh);
            sl_html_raw(h, tmp);
            sl_html_text(h, s < TOP ? keys[s].key : "other");
            sl_html_textf(h, ": %lld, %s", (long long)day[d][s],
                          d == 0 ? "today" : d == 1 ? "yesterday" : "");
            if (d > 1)
                sl_html_textf(h, "%d days ago", d);
            sl_html_raw(h, "</title></rect>");
        }
    }
    snprintf(tmp, sizeof(tmp), "<text class=\"xlabel\" x=\"%d\" y=\"%d\">29 days ago</text>",
             X0, H - 6);
    sl_html_raw(h, tmp);
    snprintf(tmp, sizeof(tmp), "<text class=\"xlabel end\" x=\"%d\" y=\"%d\">",
             X0 + PW, H - 6);
    sl_html_raw(h, tmp);
    sl_html_text(h, today ? today : "today");
    sl_html_raw(h, "</text></svg>");

    sl_html_raw(h, "<ul class=\"legend\">");
    for (k = 0; k < nk && k < TOP; k++) {
        snprintf(tmp, sizeof(tmp), "<li><span class=\"swatch k%zu\"></span>", k);
        sl_html_raw(h, tmp);
        sl_html_text(h, keys[k].key);
        sl_html_textf(h, " (%lld)", (long long)keys[k].total);
        sl_html_raw(h, "</li>");
    }
    if (other_total > 0) {
        snprintf(tmp, sizeof(tmp), "<li><span class=\"swatch k%d\"></span>", TOP);
        sl_html_raw(h, tmp);
        sl_html_textf(h, "other (%lld)", (long long)other_total);
        sl_html_raw(h, "</li>");
    }
    sl_html_raw(h, "</ul></figure>");
    free(keys);
}
