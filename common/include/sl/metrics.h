/*
 * metrics.h -- a small metrics registry and its Prometheus text exposition
 * (sl_metrics, in sl_core: no I/O).
 *
 * A registry holds metric families: counters, gauges and histograms with
 * fixed bucket bounds.  A family has at most SL_METRIC_MAX_LABELS label
 * names, fixed when it is declared, and at most `max_series` label sets:
 * labels come from a bounded set by construction (a stage, a topic, a
 * reason code, a route pattern), never from a message (no upload or
 * creator ids).  An update whose label set cannot get a series of its own
 * (the cap is reached, a value is longer than SL_METRIC_MAX_VALUE bytes,
 * memory is short) lands in the family's overflow series, whose label
 * values are all "other": totals stay right and the cardinality stays
 * bounded, so updates never fail and return nothing.
 *
 * Thread safety: one mutex per registry; any thread may update while
 * another exposes (the runner updates on its loop, an HTTP worker renders
 * /metrics).
 *
 * Exposition (sl_metrics_expose): the text format 0.0.4 - "# HELP" with
 * backslash and newline escaped, "# TYPE", one line per series with label
 * values escaped (backslash, double quote, newline) and valid UTF-8;
 * histograms as cumulative _bucket{le="..."} lines ending with le="+Inf",
 * then _sum and _count.  Families in declaration order, series in the
 * order they first appeared.  Numbers in their shortest round-trip form
 * ("0.005", "42", "+Inf", "NaN").
 *
 * Names follow Prometheus: [a-zA-Z_:][a-zA-Z0-9_:]* for a metric,
 * [a-zA-Z_][a-zA-Z0-9_]* (not starting "__", not "le" for a histogram)
 * for a label; a counter's name ends in "_total".
 */
#ifndef SL_METRICS_H
#define SL_METRICS_H

#include <stddef.h>

#include "sl/common.h"

#define SL_METRIC_MAX_LABELS  4
#define SL_METRIC_MAX_BUCKETS 32
#define SL_METRIC_MAX_VALUE   128   /* bytes of one label value */
#define SL_METRIC_OTHER       "other"

typedef struct sl_metrics sl_metrics;
typedef struct sl_metric sl_metric;   /* a family, owned by its registry */

sl_metrics *sl_metrics_new(void);
void sl_metrics_destroy(sl_metrics *m);

/* Declares a family.  labels: NULL-terminated label names (NULL: none);
 * max_series >= 1 bounds its label sets (ignored without labels).  The
 * family belongs to the registry.  NULL on a bad name, a name declared
 * twice, too many labels, or no memory: err says which. */
sl_metric *sl_metrics_counter(sl_metrics *m, const char *name, const char *help,
                              const char *const *labels, size_t max_series,
                              sl_err *err);
sl_metric *sl_metrics_gauge(sl_metrics *m, const char *name, const char *help,
                            const char *const *labels, size_t max_series,
                            sl_err *err);
/* bounds: the buckets' upper bounds, finite and strictly increasing, 1 to
 * SL_METRIC_MAX_BUCKETS of them (+Inf is implicit). */
sl_metric *sl_metrics_histogram(sl_metrics *m, const char *name, const char *help,
                                const char *const *labels, size_t max_series,
                                const double *bounds, size_t n_bounds,
                                sl_err *err);

/* values: one per label name, in declaration order (NULL for a family
 * without labels).  A NULL family is ignored, so optional metrics need no
 * test at the call site. */

/* A counter (by >= 0; a negative or NaN by is ignored) or a gauge. */
void sl_metric_add(sl_metric *f, const char *const *values, double by);
/* A gauge only. */
void sl_metric_set(sl_metric *f, const char *const *values, double v);
/* A histogram only: counts v in the first bucket whose bound is >= v. */
void sl_metric_observe(sl_metric *f, const char *const *values, double v);
/* Drops every series of the family (a gauge whose label sets come and go:
 * the partitions an instance owns). */
void sl_metric_clear(sl_metric *f);

/* A gauge only: replaces every series of the family by n series, in one
 * step (a scrape sees the old set or the new one, never none):
 * values[i * labels .. + labels) are series i's label values, v[i] its
 * value. */
void sl_metric_set_all(sl_metric *f, size_t n, const char *const *values,
                       const double *v);

/* The current value of a counter or gauge series, or a histogram's count;
 * 0 when the series does not exist. */
double sl_metric_value(sl_metric *f, const char *const *values);

/* Appends the exposition of every family to out.  SL_OK, SL_ETOOBIG,
 * SL_ENOMEM. */
int sl_metrics_expose(sl_metrics *m, sl_buf *out);

/* The content type of the exposition. */
#define SL_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Writes v in its shortest form that reads back exactly ("0.1", "1e-06",
 * "+Inf", "-Inf", "NaN") into out (at least 32 bytes).  Exported for the
 * tests. */
void sl_metrics_format_double(double v, char *out, size_t n);

#endif
