/*
 * sluice_corpus_scan.c -- the sluice side of the side-by-side benchmark
 * against Microsoft Presidio (tests/bench/presidio/run.sh): scans each
 * document of a generated corpus with the shipped rule set
 * (sl_scan_text, the scanner the scan stage runs) and prints every finding,
 * then how long the scans took.  Prints figures, asserts nothing.
 *
 * Input: one file of documents separated by NUL bytes (gen_corpus.py
 * writes it; a document never holds a NUL).  Each document is scanned on
 * its own, as the scan stage scans one sample.  The whole corpus is
 * scanned REPEAT times (default 5) and the fastest pass is reported, by
 * the wall clock and by the thread's CPU clock; the findings printed are
 * those of the first pass (every pass finds the same).
 *
 * Output on stdout, one line per finding, tab-separated:
 *   DOC  BYTE_OFFSET  BYTE_LENGTH  ENTITY  RULE_ID
 * and one last line
 *   #stats  BYTES  DOCS  WALL_SECONDS  CPU_SECONDS  PASSES
 * Offsets count bytes from the start of the document; matched text is
 * never printed (the corpus is at hand to look it up).
 *
 * usage: sluice_corpus_scan CORPUS [REPEAT]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rules.h"

#define CORPUS_MAX ((size_t)1 << 30)

static double now(clockid_t clk)
{
    struct timespec ts;

    clock_gettime(clk, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads the whole file into a malloc'd buffer: 0 or -1 with a message. */
static int read_corpus(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0, got;

    if (!f) {
        fprintf(stderr, "sluice_corpus_scan: %s: %s\n", path, strerror(errno));
        return -1;
    }
    for (;;) {
        if (n == cap) {
            uint8_t *nb;

            cap = cap ? cap * 2 : (size_t)1 << 20;
            if (cap > CORPUS_MAX || !(nb = realloc(buf, cap))) {
                fprintf(stderr, "sluice_corpus_scan: %s: too large\n", path);
                goto fail;
            }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        fprintf(stderr, "sluice_corpus_scan: %s: read error\n", path);
        goto fail;
    }
    fclose(f);
    *out = buf;
    *len = n;
    return 0;
fail:
    free(buf);
    fclose(f);
    return -1;
}

/* One pass over every document; prints findings when `print` is set.
 * Returns 0, or -1 after a message when a scan fails. */
static int pass(sl_scanner *sc, const sl_rules *rules, const uint8_t *corpus,
                size_t len, sl_findings *f, int print, size_t *docs)
{
    size_t start = 0, doc = 0;

    while (start < len) {
        const uint8_t *end = memchr(corpus + start, 0, len - start);
        size_t dlen = end ? (size_t)(end - (corpus + start)) : len - start;
        int rc = sl_scan_text(sc, corpus + start, dlen, f);

        if (rc != SL_OK) {
            fprintf(stderr, "sluice_corpus_scan: document %zu: %s\n", doc,
                    sl_strerror(rc));
            return -1;
        }
        if (print)
            for (size_t i = 0; i < f->count; i++)
                printf("%zu\t%zu\t%zu\t%s\t%s\n", doc, f->items[i].offset,
                       f->items[i].length, sl_rules_entity(rules, f->items[i].rule),
                       sl_rules_id(rules, f->items[i].rule));
        doc++;
        start += dlen + 1;
    }
    *docs = doc;
    return 0;
}

int main(int argc, char **argv)
{
    sl_rules *rules = NULL;
    sl_scanner *sc = NULL;
    sl_findings f;
    sl_err err = { "" };
    uint8_t *corpus = NULL;
    size_t len = 0, docs = 0;
    double best_wall = -1, best_cpu = -1;
    long repeat = 5;
    int rc = 1;

    if (argc < 2 || argc > 3 ||
        (argc == 3 && ((repeat = strtol(argv[2], NULL, 10)) < 1 || repeat > 1000))) {
        fprintf(stderr, "usage: sluice_corpus_scan CORPUS [REPEAT 1..1000]\n");
        return 2;
    }
    sl_findings_init(&f, SL_FINDINGS_DEFAULT_MAX);
    if (read_corpus(argv[1], &corpus, &len) != 0)
        goto out;
    if (sl_rules_load_builtin(&rules, &err) != SL_OK) {
        fprintf(stderr, "sluice_corpus_scan: rules: %s\n", err.msg);
        goto out;
    }
    if (!(sc = sl_scanner_new(rules))) {
        fprintf(stderr, "sluice_corpus_scan: out of memory\n");
        goto out;
    }
    for (long r = 0; r < repeat; r++) {
        double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_THREAD_CPUTIME_ID), w, c;

        if (pass(sc, rules, corpus, len, &f, r == 0, &docs) != 0)
            goto out;
        w = now(CLOCK_MONOTONIC) - w0;
        c = now(CLOCK_THREAD_CPUTIME_ID) - c0;
        /* The first pass also formats its findings: time the others when
         * there are others. */
        if (r == 0 && repeat > 1)
            continue;
        if (best_wall < 0 || w < best_wall)
            best_wall = w;
        if (best_cpu < 0 || c < best_cpu)
            best_cpu = c;
    }
    printf("#stats\t%zu\t%zu\t%.6f\t%.6f\t%ld\n", len - (docs ? docs - 1 : 0), docs,
           best_wall, best_cpu, repeat);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "sluice_corpus_scan: writing stdout failed\n");
        goto out;
    }
    rc = 0;
out:
    sl_findings_free(&f);
    sl_scanner_destroy(sc);
    sl_rules_destroy(rules);
    free(corpus);
    return rc;
}
