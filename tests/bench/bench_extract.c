/*
 * bench_extract.c -- extraction throughput per document format: for each
 * file given (default: the document, archive and media fixtures of
 * tests/fixtures/make_doc_fixtures.py, plus generated larger ones: a
 * 100-page PDF, a 2 MiB DOCX, a zip of 200 text members, a 1 MiB tar.gz),
 * the file type, then sl_extract_run_budget repeated for a while with the
 * scan stage's default limits and budget, and the figures per CPU second
 * (this process's and its children's, so they hold on a loaded machine):
 * calls/s, MB/s of input and of text out, text bytes, segments, and the
 * flags.  PDF figures include the fork of poppler's child process per
 * call (extract_pdf.c) and the child's CPU.  Prints,
 * asserts nothing; not a ctest test.
 *
 * usage: bench_extract [--dump] [--seconds S] [FILE...]
 *        --dump prints every segment's source, member and text instead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <zlib.h>

#include "budget.h"
#include "extract.h"
#include "filetype.h"

#ifndef SL_SOURCE_DIR
#define SL_SOURCE_DIR "."
#endif

/* CPU seconds of this process and of its reaped children (poppler's):
 * figures per core that hold on a loaded machine. */
static double now_s(void)
{
    struct timespec ts;
    struct rusage ru;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    getrusage(RUSAGE_CHILDREN, &ru);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 +
           (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    uint8_t *p = NULL;
    long len;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (p = malloc((size_t)len + 1)) && fread(p, 1, (size_t)len, f) == (size_t)len) {
        *n = (size_t)len;
    } else {
        free(p);
        p = NULL;
    }
    fclose(f);
    return p;
}

/* ---- generated larger inputs ------------------------------------------------ */

typedef struct gbuf {
    uint8_t *p;
    size_t n, cap;
} gbuf;

static void put(gbuf *b, const void *d, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        if (!(b->p = realloc(b->p, b->cap))) {
            perror("realloc");
            exit(1);
        }
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void putf(gbuf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void le16(gbuf *b, unsigned v)
{
    uint8_t c[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
    put(b, c, 2);
}

static void le32(gbuf *b, uint32_t v)
{
    uint8_t c[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    put(b, c, 4);
}

/* A zip of (name, data) members, stored (method 0) or deflated. */
static void zip_add(gbuf *z, gbuf *cd, const char *name, const uint8_t *d, size_t n,
                    int deflated)
{
    uLong crc = crc32(0, d, (uInt)n);
    uLongf cn = compressBound((uLong)n);
    uint8_t *c = malloc(cn);
    uint32_t off = (uint32_t)z->n;
    z_stream zs;

    memset(&zs, 0, sizeof(zs));
    if (deflated) {
        deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
        zs.next_in = (Bytef *)(uintptr_t)d;
        zs.avail_in = (uInt)n;
        zs.next_out = c;
        zs.avail_out = (uInt)cn;
        deflate(&zs, Z_FINISH);
        cn = zs.total_out;
        deflateEnd(&zs);
    } else {
        memcpy(c, d, n);
        cn = (uLongf)n;
    }
    putf(z, "PK\x03\x04");
    le16(z, 20); le16(z, 0); le16(z, deflated ? 8 : 0); le16(z, 0); le16(z, 0x21);
    le32(z, (uint32_t)crc); le32(z, (uint32_t)cn); le32(z, (uint32_t)n);
    le16(z, (unsigned)strlen(name)); le16(z, 0);
    putf(z, name);
    put(z, c, cn);
    putf(cd, "PK\x01\x02");
    le16(cd, 20); le16(cd, 20); le16(cd, 0); le16(cd, deflated ? 8 : 0); le16(cd, 0);
    le16(cd, 0x21); le32(cd, (uint32_t)crc); le32(cd, (uint32_t)cn); le32(cd, (uint32_t)n);
    le16(cd, (unsigned)strlen(name)); le16(cd, 0); le16(cd, 0); le16(cd, 0); le16(cd, 0);
    le32(cd, 0); le32(cd, off);
    putf(cd, name);
    free(c);
}

static void zip_end(gbuf *z, gbuf *cd, unsigned count)
{
    uint32_t at = (uint32_t)z->n;

    put(z, cd->p, cd->n);
    putf(z, "PK\x05\x06");
    le16(z, 0); le16(z, 0); le16(z, count); le16(z, count);
    le32(z, (uint32_t)cd->n); le32(z, at); le16(z, 0);
    free(cd->p);
}

static const char *const words[] = {
    "the", "quarterly", "report", "shows", "revenue", "growth", "in", "all", "regions",
    "and", "a", "steady", "rise", "of", "customer", "retention", "over", "last", "year",
};

static void prose(gbuf *b, size_t bytes, unsigned *seed)
{
    size_t start = b->n;

    while (b->n - start < bytes) {
        *seed = *seed * 1103515245u + 12345u;
        putf(b, words[(*seed >> 16) % (sizeof(words) / sizeof(words[0]))]);
        putf(b, (*seed >> 8) % 13 == 0 ? ".\n" : " ");
    }
}

static gbuf gen_docx(void)
{
    gbuf z = { 0 }, cd = { 0 }, doc = { 0 };
    unsigned seed = 1;

    putf(&doc, "<?xml version=\"1.0\"?><w:document xmlns:w=\"w\"><w:body>");
    while (doc.n < (2u << 20)) {
        putf(&doc, "<w:p><w:r><w:t>");
        prose(&doc, 300, &seed);
        putf(&doc, "</w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>call 415 555 0100</w:t></w:r></w:p>");
    }
    putf(&doc, "</w:body></w:document>");
    zip_add(&z, &cd, "[Content_Types].xml", (const uint8_t *)"<Types/>", 8, 1);
    zip_add(&z, &cd, "word/document.xml", doc.p, doc.n, 1);
    zip_end(&z, &cd, 2);
    free(doc.p);
    return z;
}

static gbuf gen_zip(void)
{
    gbuf z = { 0 }, cd = { 0 };
    unsigned seed = 2;

    for (unsigned i = 0; i < 200; i++) {
        gbuf t = { 0 };
        char name[32];

        prose(&t, 8192, &seed);
        snprintf(name, sizeof(name), "notes/%03u.txt", i);
        zip_add(&z, &cd, name, t.p, t.n, 1);
        free(t.p);
    }
    zip_end(&z, &cd, 200);
    return z;
}

static gbuf gen_targz(void)
{
    gbuf tar = { 0 }, out = { 0 };
    unsigned seed = 3;
    uLongf cn;

    for (unsigned i = 0; i < 64; i++) {
        uint8_t h[512];
        gbuf t = { 0 };
        unsigned sum = 0;

        prose(&t, 16384, &seed);
        memset(h, 0, sizeof(h));
        snprintf((char *)h, 100, "logs/%02u.log", i);
        snprintf((char *)h + 100, 8, "0000644");
        {
            char num[32];
            snprintf(num, sizeof(num), "%011lo", (unsigned long)t.n & 077777777777ul);
            memcpy(h + 124, num, 11);
            memcpy(h + 136, "00000000000", 11);
        }
        memset(h + 148, ' ', 8);
        h[156] = '0';
        memcpy(h + 257, "ustar\00000", 8);
        for (size_t k = 0; k < 512; k++)
            sum += h[k];
        snprintf((char *)h + 148, 8, "%06o", sum);
        put(&tar, h, 512);
        put(&tar, t.p, t.n);
        memset(h, 0, sizeof(h));
        put(&tar, h, (512 - t.n % 512) % 512);
        free(t.p);
    }
    {
        uint8_t zero[1024] = { 0 };
        put(&tar, zero, sizeof(zero));
    }
    /* gzip: header, raw deflate, crc, size */
    {
        z_stream zs;
        uint8_t hdr[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };

        cn = compressBound((uLong)tar.n);
        out.p = malloc(cn + 18);
        out.cap = cn + 18;
        memcpy(out.p, hdr, 10);
        memset(&zs, 0, sizeof(zs));
        deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
        zs.next_in = tar.p;
        zs.avail_in = (uInt)tar.n;
        zs.next_out = out.p + 10;
        zs.avail_out = (uInt)cn;
        deflate(&zs, Z_FINISH);
        out.n = 10 + zs.total_out;
        deflateEnd(&zs);
        le32(&out, (uint32_t)crc32(0, tar.p, (uInt)tar.n));
        le32(&out, (uint32_t)tar.n);
    }
    free(tar.p);
    return out;
}

static gbuf gen_pdf(void)
{
    gbuf b = { 0 }, xref = { 0 };
    size_t offs[2 + 200 + 1];
    unsigned seed = 4, nobj = 0, pages = 100;
    char line[256];

    putf(&b, "%PDF-1.4\n");
    offs[nobj++] = b.n;
    putf(&b, "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
    offs[nobj++] = b.n;
    putf(&b, "2 0 obj\n<< /Type /Pages /Count 100 /Kids [");
    for (unsigned i = 0; i < pages; i++) {
        snprintf(line, sizeof(line), "%u 0 R ", 4 + 2 * i);
        putf(&b, line);
    }
    putf(&b, "] >>\nendobj\n");
    offs[nobj++] = b.n;
    putf(&b, "3 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>\nendobj\n");
    for (unsigned i = 0; i < pages; i++) {
        gbuf c = { 0 };

        putf(&c, "BT /F1 10 Tf 50 750 Td 12 TL\n");
        for (int l = 0; l < 50; l++) {
            putf(&c, "(");
            prose(&c, 80, &seed);
            putf(&c, ") '\n");
        }
        putf(&c, "ET");
        offs[nobj++] = b.n;
        snprintf(line, sizeof(line), "%u 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox "
                 "[0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents %u 0 R >>"
                 "\nendobj\n", 4 + 2 * i, 5 + 2 * i);
        putf(&b, line);
        offs[nobj++] = b.n;
        snprintf(line, sizeof(line), "%u 0 obj\n<< /Length %zu >>\nstream\n", 5 + 2 * i, c.n);
        putf(&b, line);
        put(&b, c.p, c.n);
        putf(&b, "\nendstream\nendobj\n");
        free(c.p);
    }
    snprintf(line, sizeof(line), "xref\n0 %u\n0000000000 65535 f \n", nobj + 1);
    put(&xref, line, strlen(line));
    for (unsigned i = 0; i < nobj; i++) {
        snprintf(line, sizeof(line), "%010zu 00000 n \n", offs[i]);
        put(&xref, line, strlen(line));
    }
    {
        size_t at = b.n;
        put(&b, xref.p, xref.n);
        snprintf(line, sizeof(line), "trailer\n<< /Size %u /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n",
                 nobj + 1, at);
        putf(&b, line);
    }
    free(xref.p);
    return b;
}

/* ---- the run ------------------------------------------------------------------ */

static void bench(sl_ft *ft, const char *name, const uint8_t *p, size_t n, double secs,
                  int dump)
{
    sl_extract x;
    sl_ft_result r;
    sl_budget b;
    size_t calls = 0, text = 0;
    double t0, t = 0;

    sl_extract_init(&x, 0);
    if (sl_ft_detect(ft, (sl_slice){ p, n }, &r) != SL_OK) {
        printf("%-22s detection failed\n", name);
        sl_extract_free(&x);
        return;
    }
    t0 = now_s();
    do {
        sl_budget_init(&b, 256u << 20, 1000000, 100000000, 2000000, 2000000, 65536);
        if (sl_extract_run_budget(&x, (sl_slice){ p, n }, &r, &b) != SL_OK) {
            printf("%-22s extraction failed\n", name);
            break;
        }
        calls++;
        t = now_s() - t0;
    } while (!dump && t < secs);
    for (size_t i = 0; i < x.nseg; i++)
        text += x.seg[i].len;
    if (dump) {
        printf("== %s: %s, %zu segments, flags 0x%x%s%s\n", name, r.mime, x.nseg, x.flags,
               x.detail[0] ? ", " : "", x.detail);
        for (size_t i = 0; i < x.nseg; i++)
            printf("  [%s] %s%s%.*s\n", x.seg[i].source, x.seg[i].member,
                   x.seg[i].member[0] ? ": " : "", (int)(x.seg[i].len > 200 ? 200 : x.seg[i].len),
                   (const char *)x.seg[i].text);
        if (x.loc.present)
            printf("  location %.5f %.5f (%s)\n", x.loc.lat, x.loc.lon, x.loc.source);
    } else {
        printf("%-20s %-14.14s %9zu B %9.1f calls/s %7.2f MB/s in %7.2f MB/s text"
               "  text %8zu B  segs %4zu  flags 0x%02x\n", name,
               strrchr(r.mime, '/') ? strrchr(r.mime, '/') + 1 : r.mime, n,
               (double)calls / t, (double)n * (double)calls / t / 1e6,
               (double)text * (double)calls / t / 1e6, text, x.nseg, x.flags);
    }
    sl_extract_free(&x);
}

int main(int argc, char **argv)
{
    static const char *const defaults[] = {
        "doc_pages.pdf", "doc.docx", "doc.xlsx", "doc.pptx", "doc.odt", "doc.epub",
        "nested.zip",
        "docs.tar.gz", "notes.txt.gz", "bomb.zip", "bomb_nested.zip", "tags.mp3",
        "meta.mp4", "xmp_gps.jpg",
    };
    double secs = 1.0;
    int dump = 0, files = 0;
    sl_ft *ft;
    sl_err err;

    if (sl_ft_new(&ft, NULL, 0, &err) != SL_OK) {
        fprintf(stderr, "bench_extract: %s\n", err.msg);
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dump") == 0) {
            dump = 1;
        } else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            secs = atof(argv[++i]);
        } else {
            size_t n;
            uint8_t *p = slurp(argv[i], &n);
            files = 1;
            if (!p) {
                fprintf(stderr, "bench_extract: cannot read %s\n", argv[i]);
                continue;
            }
            bench(ft, argv[i], p, n, secs, dump);
            free(p);
        }
    }
    if (!files) {
        gbuf g[4];
        const char *gn[4] = { "gen: 100-page pdf", "gen: 2 MiB docx", "gen: zip 200 txt",
                              "gen: 1 MiB tar.gz" };

        for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
            char path[512];
            size_t n;
            uint8_t *p;

            snprintf(path, sizeof(path), "%s/tests/fixtures/%s", SL_SOURCE_DIR, defaults[i]);
            if (!(p = slurp(path, &n))) {
                fprintf(stderr, "bench_extract: cannot read %s\n", path);
                continue;
            }
            bench(ft, defaults[i], p, n, secs, dump);
            free(p);
        }
        g[0] = gen_pdf();
        g[1] = gen_docx();
        g[2] = gen_zip();
        g[3] = gen_targz();
        for (int i = 0; i < 4; i++) {
            bench(ft, gn[i], g[i].p, g[i].n, secs, dump);
            free(g[i].p);
        }
    }
    sl_ft_destroy(ft);
    return 0;
}
