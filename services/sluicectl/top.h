/*
 * top.h -- what `sluicectl top` reads from one process's GET /metrics:
 * the sums it shows, from the Prometheus text exposition (pure, in
 * sl_ctl_args so tests/unit/test_ctl_top.c links it).
 *
 * The exposition comes over the network from a process of ours, yet is
 * read as hostile: a line is parsed within its bytes, label values with
 * their escapes, an unparsable line is skipped and counted, and nothing
 * is kept beyond the sums.
 */
#ifndef SL_CTL_TOP_H
#define SL_CTL_TOP_H

#include <stddef.h>

typedef struct ctl_top_sample {
    double in, out, rejects, lag, partitions, aborts, rows, requests;
    double ready;          /* sluice_ready, -1 when absent */
    int has_stage;         /* a stage: sluice_messages_in_total declared */
    int has_http;          /* an HTTP service: sluice_http_requests_total declared */
    size_t bad_lines;
} ctl_top_sample;

/* Sums the exposition text[0..len) into *s (reset first). */
void ctl_top_parse(const char *text, size_t len, ctl_top_sample *s);

/* A label's value from a sample line's label set "{a=\"x\",b=\"y\"}"
 * (the braces included, len bytes), unescaped into out (n bytes,
 * NUL-terminated, truncated).  1 when found, 0 when not, -1 when the set
 * is malformed. */
int ctl_top_label(const char *labels, size_t len, const char *name,
                  char *out, size_t n);

#endif
