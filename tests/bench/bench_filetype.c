/*
 * bench_filetype.c -- figures for services/scan/filetype.c and extract.c:
 * microseconds per sl_ft_detect call for generated 1 KiB samples (English
 * UTF-8 text, JSON, CSV, Python with a shebang, UTF-16LE, random bytes)
 * and for every fixture in tests/fixtures/, next to libmagic alone with
 * its default checks (MAGIC_MIME_TYPE | MAGIC_MIME_ENCODING, what a naive
 * caller would do), and per sl_extract_run call.  Prints, asserts nothing;
 * not a ctest test.
 *
 * usage: bench_filetype [FIXTURE_DIR] [SECONDS_PER_FIGURE]
 *        (defaults: the source tree's tests/fixtures, 0.2)
 */
#include <dirent.h>
#include <magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "extract.h"
#include "filetype.h"

#ifndef SL_SOURCE_DIR
#define SL_SOURCE_DIR "."
#endif

static double now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

typedef struct sample {
    char name[260];
    uint8_t *p;
    size_t n;
} sample;

static double budget_us = 200000;
static volatile size_t sink;

/* Median-free but steady: repeats for the time budget, reports the mean. */
#define TIME_LOOP(result, body)                                        \
    do {                                                               \
        double t0 = now_us(), t;                                       \
        long iters = 0;                                                \
        do {                                                           \
            for (int k_ = 0; k_ < 16; k_++) {                          \
                body;                                                  \
            }                                                          \
            iters += 16;                                               \
            t = now_us() - t0;                                         \
        } while (t < budget_us);                                       \
        (result) = t / (double)iters;                                  \
    } while (0)

static void gen_text(sample *s)
{
    static const char *words[] = {
        "the", "data", "marketplace", "pipeline", "creator", "sample",
        "training", "model", "review", "Grüße", "naïve", "café", "quality",
        "license", "budget", "of", "and", "for", "with", "scan",
    };
    size_t o = 0;
    unsigned seed = 12345;

    s->p = malloc(1024);
    while (o < 1000) {
        const char *w;
        size_t k;

        seed = seed * 1103515245u + 12345u;
        w = words[(seed >> 16) % (sizeof(words) / sizeof(words[0]))];
        k = strlen(w);
        if (o + k + 2 > 1024)
            break;
        memcpy(s->p + o, w, k);
        o += k;
        s->p[o++] = ((seed >> 8) % 11 == 0) ? '\n' : ' ';
    }
    while (o < 1024)
        s->p[o++] = '.';
    s->n = 1024;
    snprintf(s->name, sizeof(s->name), "gen: 1 KiB UTF-8 prose");
}

static void gen_repeat(sample *s, const char *name, const char *head,
                       const char *unit, const char *tail)
{
    size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail), o = 0;

    s->p = malloc(1024 + ul + tl);
    memcpy(s->p, head, hl);
    o = hl;
    while (o + ul + tl <= 1024) {
        memcpy(s->p + o, unit, ul);
        o += ul;
    }
    memcpy(s->p + o, tail, tl);
    s->n = o + tl;
    snprintf(s->name, sizeof(s->name), "gen: %s", name);
}

static void gen_utf16(sample *s, const sample *text)
{
    s->p = malloc(2 + 2 * text->n);
    s->p[0] = 0xFF;
    s->p[1] = 0xFE;
    s->n = 2;
    /* ASCII only: a UTF-16LE copy of the prose's ASCII bytes */
    for (size_t i = 0; i < text->n && s->n < 1024; i++)
        if (text->p[i] < 0x80) {
            s->p[s->n++] = text->p[i];
            s->p[s->n++] = 0;
        }
    snprintf(s->name, sizeof(s->name), "gen: 1 KiB UTF-16LE text");
}

static void gen_random(sample *s)
{
    unsigned seed = 99;

    s->p = malloc(1024);
    for (size_t i = 0; i < 1024; i++) {
        seed = seed * 1103515245u + 12345u;
        s->p[i] = (uint8_t)(seed >> 16);
    }
    s->n = 1024;
    snprintf(s->name, sizeof(s->name), "gen: 1 KiB random bytes");
}

static int load_file(sample *s, const char *dir, const char *name)
{
    char path[1024];
    FILE *fp;
    long len;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fp = fopen(path, "rb");
    if (!fp)
        return -1;
    fseek(fp, 0, SEEK_END);
    len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    s->p = malloc(len > 0 ? (size_t)len : 1);
    s->n = fread(s->p, 1, (size_t)(len > 0 ? len : 0), fp);
    fclose(fp);
    snprintf(s->name, sizeof(s->name), "%s", name);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const sample *)a)->name, ((const sample *)b)->name);
}

static const char *via_name(sl_ft_via v)
{
    switch (v) {
    case SL_FT_VIA_EMPTY: return "empty";
    case SL_FT_VIA_SNIFF: return "table";
    case SL_FT_VIA_TEXT: return "text";
    default: return "libmagic";
    }
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : SL_SOURCE_DIR "/tests/fixtures";
    sample s[96];
    size_t ns = 0, nfix;
    sl_ft *ft;
    sl_err err;
    sl_extract x;
    DIR *d;
    struct dirent *de;

    if (argc > 2)
        budget_us = atof(argv[2]) * 1e6;
    if (sl_ft_new(&ft, NULL, 0, &err) != SL_OK) {
        fprintf(stderr, "bench_filetype: %s\n", err.msg);
        return 1;
    }
    sl_extract_init(&x, 0);

    gen_text(&s[ns++]);
    gen_repeat(&s[ns++], "1 KiB JSON", "[", "{\"id\": 12, \"name\": \"Jane\", \"ok\": true},\n",
               "{\"id\": 0}]\n");
    gen_repeat(&s[ns++], "1 KiB CSV", "id,name,email\n", "12,Jane Doe,jane@example.com\n", "");
    gen_repeat(&s[ns++], "1 KiB Python", "#!/usr/bin/env python3\n",
               "def f(x):\n    return x * 2  # double\n", "");
    gen_utf16(&s[ns], &s[0]);
    ns++;
    gen_random(&s[ns++]);
    nfix = ns;
    if ((d = opendir(dir)) != NULL) {
        while ((de = readdir(d)) != NULL && ns < sizeof(s) / sizeof(s[0])) {
            if (de->d_name[0] == '.' || strcmp(de->d_name, "make_fixtures.py") == 0)
                continue;
            if (load_file(&s[ns], dir, de->d_name) == 0)
                ns++;
        }
        closedir(d);
    } else {
        fprintf(stderr, "bench_filetype: no fixtures in %s\n", dir);
    }
    qsort(s + nfix, ns - nfix, sizeof(s[0]), by_name);

    printf("libmagic %d; %.2f s per figure; microseconds per call\n",
           magic_version(), budget_us / 1e6);
    printf("%-26s %6s  %-32s %-8s %9s %13s %9s\n", "sample", "bytes",
           "detected", "via", "detect", "libmagic-dflt", "extract");
    for (size_t i = 0; i < ns; i++) {
        sl_ft_result r;
        char raw[256];
        sl_slice in = { s[i].p, s[i].n };
        double t_det, t_magic, t_ext;

        sl_ft_detect(ft, in, &r);
        TIME_LOOP(t_det, { sl_ft_detect(ft, in, &r); sink += r.mime[0]; });
        TIME_LOOP(t_magic, {
            sl_ft_libmagic(ft, in, MAGIC_MIME_TYPE | MAGIC_MIME_ENCODING, raw,
                           sizeof(raw));
            sink += (size_t)raw[0];
        });
        TIME_LOOP(t_ext, { sl_extract_run(&x, in, &r); sink += x.nseg; });
        printf("%-26s %6zu  %-32.32s %-8s %9.2f %13.2f %9.2f\n", s[i].name,
               s[i].n, r.mime, via_name(r.via), t_det, t_magic, t_ext);
    }
    for (size_t i = 0; i < ns; i++)
        free(s[i].p);
    sl_extract_free(&x);
    sl_ft_destroy(ft);
    return 0;
}
