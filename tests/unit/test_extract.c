/*
 * test_extract.c -- unit tests for services/scan/extract.c: the exact text
 * of every metadata kind in the fixtures (PNG tEXt / zTXt / iTXt, JPEG
 * EXIF / XMP / COM in both byte orders, PDF document info, GIF comments)
 * and in hand-built files (WebP EXIF / XMP, TIFF, PNG eXIf, IPTC, PDF
 * revisions, direct Info, encryption, XMP packets), EXIF GPS as decimal
 * degrees with signs, UTF-16 and 8-bit transcoding with offsets mapped
 * back to the input, the caps (bytes, segments, deflate bombs), and
 * truncated / corrupted / hostile inputs (every prefix of every fixture,
 * random byte flips, loops and huge counts) never reading out of bounds:
 * inputs are copied into buffers of exactly their size for ASan.
 *
 * Documents, archives and media (tests/fixtures/make_doc_fixtures.py): PDF
 * page text through poppler's child process, DOCX / XLSX / PPTX / ODT text
 * with member names, nested zip / tar.gz / gzip members named by path,
 * every archive limit (ratio, depth, members, declared and actual expanded
 * size, the zip's declared entry count) refusing its bomb with the limit
 * in the detail, ID3v2 / ID3v1, MP4 items and location, XMP GPS, and every
 * prefix and random corruption of each of those files; and the scan
 * stage's decision on them (sl_scan_decide): the finding's "member",
 * archive_bomb, an encrypted member flagged, the scan.archive.* keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <zlib.h>

#include "budget.h"
#include "extract.h"
#include "filetype.h"
#include "fixtures.h"
#include "scan.h"
#include "sl/config.h"
#include "textenc.h"

static sl_ft *ft;

/* ---- helpers ---------------------------------------------------------- */

static fx_buf load(const char *name)
{
    fx_buf b;

    b.p = fx_fixture(name, &b.n);
    return b;
}

static void png_chunk(fx_buf *b, const char *type, const void *d, size_t n)
{
    fx_put_be32(b, (uint32_t)n);
    fx_put(b, type, 4);
    fx_put(b, d, n);
    fx_put_be32(b, 0);     /* CRC: not checked by the extractor */
}

static const uint8_t *find(const uint8_t *h, size_t hn, const void *needle, size_t nn)
{
    for (size_t i = 0; i + nn <= hn; i++)
        if (memcmp(h + i, needle, nn) == 0)
            return h + i;
    return NULL;
}

/* The TIFF payload of the little- or big-endian JPEG fixture's EXIF. */
static fx_buf exif_tiff(const char *jpeg)
{
    fx_buf j = load(jpeg), t = { NULL, 0 };
    const uint8_t *e = find(j.p, j.n, "Exif\0\0", 6);
    size_t seglen;

    assert_non_null(e);
    seglen = (size_t)(e[-2] << 8 | e[-1]);
    fx_put(&t, e + 6, seglen - 2 - 6);
    free(j.p);
    return t;
}

static int valid_utf8(const uint8_t *p, size_t n)
{
    uint32_t cp;

    for (size_t i = 0; i < n;) {
        size_t k = sl_utf8_decode(p + i, n - i, &cp);

        if (k == 0 || cp == 0)
            return 0;
        i += k;
    }
    return 1;
}

/* Segment invariants: valid UTF-8 text, a mapping inside the input. */
static void check_segments(const sl_extract *x, size_t in_len)
{
    size_t total = 0;

    for (size_t i = 0; i < x->nseg; i++) {
        const sl_xseg *s = &x->seg[i];
        size_t so, sl;

        assert_non_null(s->text);
        assert_true(s->len > 0);
        if (!valid_utf8(s->text, s->len))
            fail_msg("segment %s is not valid UTF-8", s->source);
        assert_true(s->src_off <= in_len && s->src_len <= in_len - s->src_off);
        if (s->map == SL_XMAP_MEMBER) {
            /* offsets within the segment's own text */
            assert_int_equal(sl_extract_map(x, i, 1 < s->len ? 1 : 0, 1 < s->len ? 1 : 0,
                                            &so, &sl), SL_OK);
            assert_int_equal(so, 1 < s->len ? 1 : 0);
            assert_int_equal(sl_extract_map(x, i, s->len, 1, &so, &sl), SL_EINVAL);
            total += s->len;
            continue;
        }
        assert_int_equal(sl_extract_map(x, i, 0, s->len, &so, &sl), SL_OK);
        assert_true(so >= s->src_off && sl <= s->src_len && so - s->src_off <= s->src_len - sl);
        assert_int_equal(sl_extract_map(x, i, s->len / 2, 1, &so, &sl), SL_OK);
        assert_true(so <= in_len && sl <= in_len - so);
        assert_int_equal(sl_extract_map(x, i, s->len, 1, &so, &sl), SL_EINVAL);
        total += s->len;
    }
    assert_true(x->nseg <= SL_EXTRACT_MAX_SEGS);
    (void)total;
}

typedef struct want {
    const char *source, *text;
    sl_xmap map;
} want;

static void expect_segments(const sl_extract *x, const want *w, size_t n)
{
    for (size_t i = 0; i < n && i < x->nseg; i++) {
        const sl_xseg *s = &x->seg[i];

        if (strcmp(s->source, w[i].source) != 0 || s->len != strlen(w[i].text) ||
            memcmp(s->text, w[i].text, s->len) != 0)
            fail_msg("segment %zu: got %s \"%.*s\", want %s \"%s\"", i, s->source,
                     (int)s->len, s->text, w[i].source, w[i].text);
        if (s->map != w[i].map)
            fail_msg("segment %zu (%s): map %d, want %d", i, s->source, s->map, w[i].map);
    }
    if (x->nseg != n)
        fail_msg("%zu segments, want %zu", x->nseg, n);
}

/* Detects and extracts p[0..n) (copied to an exact-size buffer, kept in
 * *keep so zero-copy segments stay valid; the caller frees it). */
static sl_ft_result run(sl_extract *x, const void *p, size_t n, uint8_t **keep)
{
    sl_ft_result r;
    uint8_t *c = malloc(n ? n : 1);

    assert_non_null(c);
    if (n)
        memcpy(c, p, n);
    assert_int_equal(sl_ft_detect(ft, (sl_slice){ c, n }, &r), SL_OK);
    assert_int_equal(sl_extract_run(x, (sl_slice){ c, n }, &r), SL_OK);
    check_segments(x, n);
    *keep = c;
    return r;
}

/* Document info only: poppler's child process is not started. */
static void no_page_text(sl_extract *x)
{
    sl_xlimits l = SL_XLIMITS_DEFAULT;

    l.pdf_timeout_ms = 0;
    sl_extract_set_limits(x, &l);
}

static int setup(void **state)
{
    sl_err err;

    (void)state;
    if (sl_ft_new(&ft, NULL, 0, &err) != SL_OK) {
        fprintf(stderr, "sl_ft_new: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sl_ft_destroy(ft);
    return 0;
}

/* ---- images ------------------------------------------------------------- */

static void test_png(void **state)
{
    static const want w[] = {
        { "png:tEXt:Comment", "Contact: jane.doe@example.com", SL_XMAP_CP1252 },
        { "png:tEXt:Author", "J\xc3\xbcrgen Stra\xc3\x9f" "e", SL_XMAP_CP1252 },
        { "png:zTXt:Description", "Call +1 415 555 0100 after 5pm", SL_XMAP_COARSE },
        { "png:iTXt:Title", "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln", SL_XMAP_IDENTITY },
        { "png:iTXt:Copyright", "\xc2\xa9 2024 Jane Doe", SL_XMAP_COARSE },
    };
    fx_buf b = load("image.png");
    sl_extract x;
    uint8_t *in;
    size_t so, sl;
    const uint8_t *at;

    (void)state;
    sl_extract_init(&x, 0);
    run(&x, b.p, b.n, &in);
    expect_segments(&x, w, 5);
    assert_int_equal(x.coverage, SL_XCOV_METADATA);
    assert_int_equal(x.flags, 0);
    assert_int_equal(x.loc.present, 0);
    /* the email maps to its bytes in the file */
    assert_int_equal(sl_extract_map(&x, 0, 9, 20, &so, &sl), SL_OK);
    assert_int_equal(sl, 20);
    assert_memory_equal(in + so, "jane.doe@example.com", 20);
    /* "Stra\xdf" "e": 7 bytes of UTF-8 at offset 8, 6 bytes of Latin-1 */
    assert_int_equal(sl_extract_map(&x, 1, 8, 7, &so, &sl), SL_OK);
    assert_int_equal(sl, 6);
    assert_memory_equal(in + so, "Stra\xdf" "e", 6);
    /* a deflated field maps to the whole chunk */
    assert_int_equal(sl_extract_map(&x, 2, 5, 3, &so, &sl), SL_OK);
    assert_int_equal(so, x.seg[2].src_off);
    assert_int_equal(sl, x.seg[2].src_len);
    at = find(in, b.n, "Description", 11);
    assert_int_equal(so, (size_t)(at - in));
    sl_extract_free(&x);
    free(in);
    free(b.p);
}

static const char XMP[] =
    "<?xpacket begin=\"\xef\xbb\xbf\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n"
    "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF "
    "xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">"
    "<rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
    "<dc:creator><rdf:Seq><rdf:li>Jane Doe &lt;jane.doe@example.com&gt;</rdf:li>"
    "</rdf:Seq></dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>\n"
    "<?xpacket end=\"w\"?>";

static const want jpeg_want[] = {
    { "exif:ImageDescription", "Team offsite, ask bob@example.net", SL_XMAP_IDENTITY },
    { "exif:Make", "Sluice", SL_XMAP_IDENTITY },
    { "exif:Artist", "Jane Doe", SL_XMAP_IDENTITY },
    { "exif:Copyright", "(c) 2024 Jane Doe", SL_XMAP_IDENTITY },
    { "exif:XPAuthor", "Jane Doe", SL_XMAP_UTF16LE },
    { "exif:UserComment", "Phone 555-0100", SL_XMAP_IDENTITY },
    { "xmp", XMP, SL_XMAP_IDENTITY },
    { "jpeg:COM", "Shot by jane@example.org", SL_XMAP_IDENTITY },
};

/* 52 deg 31' 1.2" N, 13 deg 24' 36" E */
#define LAT (52.0 + 31.0 / 60 + 1.2 / 3600)
#define LON (13.0 + 24.0 / 60 + 36.0 / 3600)

static void check_jpeg(const char *name)
{
    fx_buf b = load(name);
    sl_extract x;
    uint8_t *in;
    size_t so, sl;

    sl_extract_init(&x, 0);
    run(&x, b.p, b.n, &in);
    expect_segments(&x, jpeg_want, 8);
    assert_int_equal(x.flags, 0);
    assert_int_equal(x.coverage, SL_XCOV_METADATA);
    assert_true(x.loc.present);
    assert_true(x.loc.lat > LAT - 1e-9 && x.loc.lat < LAT + 1e-9);
    assert_true(x.loc.lon > LON - 1e-9 && x.loc.lon < LON + 1e-9);
    assert_string_equal(x.loc.source, "exif:GPS");
    assert_true(x.loc.src_off < b.n && x.loc.src_len <= b.n - x.loc.src_off);
    /* "Doe" in the UTF-16LE XPAuthor: 6 bytes */
    assert_int_equal(sl_extract_map(&x, 4, 5, 3, &so, &sl), SL_OK);
    assert_int_equal(sl, 6);
    assert_memory_equal(in + so, "D\0o\0e\0", 6);
    /* the artist, byte for byte */
    assert_int_equal(sl_extract_map(&x, 2, 0, 8, &so, &sl), SL_OK);
    assert_memory_equal(in + so, "Jane Doe", 8);
    sl_extract_free(&x);
    free(in);
    free(b.p);
}

static void test_jpeg_le(void **state)
{
    (void)state;
    check_jpeg("photo_exif.jpg");
}

static void test_jpeg_be(void **state)
{
    (void)state;
    check_jpeg("photo_exif_be.jpg");
}

/* GPS references S and W give negative degrees; a zero denominator or a
 * missing longitude gives no location. */
static void test_gps_signs_and_invalid(void **state)
{
    fx_buf b = load("photo_exif.jpg");
    sl_extract x;
    uint8_t *in, *at;
    static const uint8_t lat_ref[] = { 1, 0, 2, 0, 2, 0, 0, 0, 'N' };
    static const uint8_t lon_ref[] = { 3, 0, 2, 0, 2, 0, 0, 0, 'E' };
    static const uint8_t lat_tag[] = { 2, 0, 5, 0, 3, 0, 0, 0 };

    (void)state;
    sl_extract_init(&x, 0);
    at = (uint8_t *)find(b.p, b.n, lat_ref, sizeof(lat_ref));
    assert_non_null(at);
    at[8] = 'S';
    at = (uint8_t *)find(b.p, b.n, lon_ref, sizeof(lon_ref));
    assert_non_null(at);
    at[8] = 'W';
    run(&x, b.p, b.n, &in);
    assert_true(x.loc.present);
    assert_true(x.loc.lat < -LAT + 1e-9 && x.loc.lat > -LAT - 1e-9);
    assert_true(x.loc.lon < -LON + 1e-9 && x.loc.lon > -LON - 1e-9);
    free(in);

    /* degrees' denominator set to 0 */
    at = (uint8_t *)find(b.p, b.n, lat_tag, sizeof(lat_tag));
    assert_non_null(at);
    {
        uint32_t off = (uint32_t)(at[8] | at[9] << 8 | at[10] << 16 | at[11] << 24);
        const uint8_t *tiff = find(b.p, b.n, "Exif\0\0", 6) + 6;
        uint8_t *den = (uint8_t *)tiff + off + 4;

        memset(den, 0, 4);
    }
    run(&x, b.p, b.n, &in);
    assert_false(x.loc.present);
    assert_int_equal(x.nseg, 8);
    free(in);
    sl_extract_free(&x);
    free(b.p);
}

static void test_gif(void **state)
{
    static const want w[] = {
        { "gif:comment", "by jane.doe@example.com", SL_XMAP_COARSE },
    };
    fx_buf b = load("pixel.gif");
    sl_extract x;
    uint8_t *in;

    (void)state;
    sl_extract_init(&x, 0);
    run(&x, b.p, b.n, &in);
    expect_segments(&x, w, 1);
    assert_int_equal(x.flags, 0);
    sl_extract_free(&x);
    free(in);
    free(b.p);
}

/* Built here from the JPEG's TIFF: WebP with EXIF and XMP chunks, a TIFF
 * file, a PNG eXIf chunk. */
static void test_webp_tiff_png_exif(void **state)
{
    fx_buf t = exif_tiff("photo_exif.jpg"), w = { NULL, 0 }, body = { NULL, 0 };
    fx_buf png = { NULL, 0 };
    sl_extract x;
    uint8_t *in;
    sl_ft_result r;
    static const uint8_t vp8l[] = { 0x2f, 0, 0, 0, 0x10, 0x07, 0x10, 0x11, 0x11,
                                    0x88, 0x88, 0xfe, 0x07, 0x00 };
    static const uint8_t ihdr[13] = { 0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0 };

    (void)state;
    sl_extract_init(&x, 0);
    fx_puts(&body, "WEBPVP8L");
    fx_put_le32(&body, sizeof(vp8l));
    fx_put(&body, vp8l, sizeof(vp8l));
    fx_puts(&body, "EXIF");
    fx_put_le32(&body, (uint32_t)t.n + 6);
    fx_put(&body, "Exif\0\0", 6);
    fx_put(&body, t.p, t.n);
    if (t.n & 1)
        fx_put(&body, "", 1);
    fx_puts(&body, "XMP ");
    fx_put_le32(&body, 21);
    fx_put(&body, "<x:xmpmeta>Jane</x:xmpmeta>", 21);
    fx_put(&body, "", 1);
    fx_puts(&w, "RIFF");
    fx_put_le32(&w, (uint32_t)body.n);
    fx_put(&w, body.p, body.n);
    r = run(&x, w.p, w.n, &in);
    assert_string_equal(r.mime, "image/webp");
    assert_int_equal(x.nseg, 7);
    assert_string_equal(x.seg[2].source, "exif:Artist");
    assert_string_equal(x.seg[6].source, "xmp");
    assert_memory_equal(x.seg[6].text, "<x:xmpmeta>Jane</x:x", 20);
    assert_true(x.loc.present);
    free(in);

    r = run(&x, t.p, t.n, &in);
    assert_string_equal(r.mime, "image/tiff");
    assert_int_equal(x.nseg, 6);
    assert_string_equal(x.seg[2].source, "exif:Artist");
    assert_true(x.loc.present);
    free(in);

    fx_put(&png, "\x89PNG\r\n\x1a\n", 8);
    png_chunk(&png, "IHDR", ihdr, sizeof(ihdr));
    png_chunk(&png, "eXIf", t.p, t.n);
    png_chunk(&png, "IEND", "", 0);
    r = run(&x, png.p, png.n, &in);
    assert_string_equal(r.mime, "image/png");
    assert_int_equal(x.nseg, 6);
    assert_string_equal(x.seg[0].source, "exif:ImageDescription");
    assert_true(x.loc.present);
    assert_int_equal(x.flags, 0);
    free(in);

    sl_extract_free(&x);
    free(t.p);
    free(w.p);
    free(body.p);
    free(png.p);
}

static void test_iptc(void **state)
{
    fx_buf j = { NULL, 0 }, irb = { NULL, 0 };
    sl_extract x;
    uint8_t *in;
    static const want w[] = {
        { "iptc:By-line", "Jane Doe", SL_XMAP_IDENTITY },
        { "iptc:Caption-Abstract", "Call 555-0100", SL_XMAP_IDENTITY },
    };
    uint8_t hdr[5];

    (void)state;
    fx_put(&irb, "Photoshop 3.0\0", 14);
    fx_put(&irb, "8BIM\x04\x04\0\0", 8);      /* id 0x0404, empty name + pad */
    fx_put_be32(&irb, 5 + 8 + 5 + 13 + 5 + 3);
    memcpy(hdr, "\x1c\x02\x50\x00\x08", 5);    /* 2:80 By-line */
    fx_put(&irb, hdr, 5);
    fx_puts(&irb, "Jane Doe");
    memcpy(hdr, "\x1c\x02\x78\x00\x0d", 5);    /* 2:120 Caption */
    fx_put(&irb, hdr, 5);
    fx_puts(&irb, "Call 555-0100");
    memcpy(hdr, "\x1c\x02\x37\x00\x03", 5);    /* 2:55 date: skipped */
    fx_put(&irb, hdr, 5);
    fx_puts(&irb, "x y");
    fx_put(&irb, "", 1);                          /* pad to even */
    fx_put(&j, "\xff\xd8\xff\xed", 4);
    fx_put(&j, (uint8_t[]){ (uint8_t)((irb.n + 2) >> 8), (uint8_t)(irb.n + 2) }, 2);
    fx_put(&j, irb.p, irb.n);
    fx_put(&j, "\xff\xd9", 2);
    sl_extract_init(&x, 0);
    run(&x, j.p, j.n, &in);
    expect_segments(&x, w, 2);
    sl_extract_free(&x);
    free(in);
    free(j.p);
    free(irb.p);
}

/* ---- PDF ------------------------------------------------------------------ */

static void test_pdf(void **state)
{
    static const want w[] = {
        { "pdf:Title", "Payroll (Q3) for Alice Smith", SL_XMAP_COARSE },
        { "pdf:Author", "J\xc3\xb6rg M\xc3\xbcller", SL_XMAP_COARSE },
        { "pdf:Subject", "Contact: jane.doe@example.com", SL_XMAP_COARSE },
        { "pdf:Keywords", "hire, payroll", SL_XMAP_COARSE },
        { "pdf:Creator", "make_fixtures.py", SL_XMAP_COARSE },
        { "pdf:Producer", "by hand", SL_XMAP_COARSE },
        { "pdf:Company", "Acme", SL_XMAP_COARSE },
    };
    fx_buf b = load("doc_info.pdf");
    sl_extract x;
    uint8_t *in;
    size_t so, sl;

    (void)state;
    sl_extract_init(&x, 0);
    run(&x, b.p, b.n, &in);
    expect_segments(&x, w, 7);
    assert_int_equal(x.flags, 0);
    /* poppler read its one page (no text on it) */
    assert_int_equal(x.coverage, SL_XCOV_FULL);
    /* a string maps to its whole token */
    assert_int_equal(sl_extract_map(&x, 2, 9, 20, &so, &sl), SL_OK);
    assert_int_equal(in[so], '(');
    assert_int_equal(in[so + sl - 1], ')');
    assert_int_equal(sl_extract_map(&x, 1, 0, 1, &so, &sl), SL_OK);
    assert_int_equal(in[so], '<');
    sl_extract_free(&x);
    free(in);
    free(b.p);
}

static void pdf_text(sl_extract *x, const char *body, uint8_t **in)
{
    fx_buf b = { NULL, 0 };

    fx_puts(&b, "%PDF-1.7\n");
    fx_puts(&b, body);
    run(x, b.p, b.n, in);
    free(b.p);
}

static void test_pdf_variants(void **state)
{
    sl_extract x;
    uint8_t *in;
    char deep[20000];
    size_t o = 0;

    (void)state;
    sl_extract_init(&x, 0);

    /* two revisions of the Info object: both read; 14 0 obj is not 4 0 obj */
    pdf_text(&x, "4 0 obj << /Author (Old Name) >> endobj\n"
                 "14 0 obj << /Author (Wrong) >> endobj\n"
                 "trailer << /Info 4 0 R >>\n"
                 "4 0 obj\n<</Author(New Name)/Title<4a 6f 62 7>>>\nendobj\n"
                 "trailer << /Prev 9 /Info 4 0 R >>\n", &in);
    {
        static const want w[] = {
            { "pdf:Author", "Old Name", SL_XMAP_COARSE },
            { "pdf:Author", "New Name", SL_XMAP_COARSE },
            { "pdf:Title", "Jobp", SL_XMAP_COARSE },
        };

        expect_segments(&x, w, 3);
    }
    free(in);

    /* a direct Info dictionary; nested objects skipped; PDFDocEncoding;
     * octal escapes, escaped CR LF continuation, names with #xx */
    pdf_text(&x, "trailer << /Info << /A#75thor (\\200 dot\\\r\n s) "
                 "/Meta << /Author (nested: skipped) >> /K [1 (x) <41>] "
                 "/Subject (\\0101\\7) >> >>\n", &in);
    {
        static const want w[] = {
            { "pdf:Author", "\xe2\x80\xa2 dot s", SL_XMAP_COARSE },
            { "pdf:Subject", "\x08" "1\x07", SL_XMAP_COARSE },
        };

        expect_segments(&x, w, 2);
    }
    free(in);

    /* encrypted: strings are ciphertext, not read */
    pdf_text(&x, "1 0 obj << /Author (\x8f\x22\x13) >> endobj\n"
                 "trailer << /Info 1 0 R /Encrypt 2 0 R >>\n", &in);
    assert_int_equal(x.nseg, 0);
    assert_true(x.flags & SL_XF_ENCRYPTED);
    free(in);

    /* an uncompressed XMP packet */
    pdf_text(&x, "5 0 obj << /Type /Metadata /Subtype /XML >> stream\n"
                 "<?xpacket begin=\"\" id=\"x\"?><dc:creator>Ann</dc:creator>"
                 "<?xpacket end=\"r\"?>\nendstream endobj\n", &in);
    assert_int_equal(x.nseg, 1);
    assert_string_equal(x.seg[0].source, "xmp");
    assert_int_equal(x.seg[0].map, SL_XMAP_IDENTITY);
    assert_non_null(find(x.seg[0].text, x.seg[0].len, "Ann", 3));
    free(in);

    /* hostile: nesting far past the depth cap, an unterminated string */
    o += (size_t)snprintf(deep, sizeof(deep), "4 0 obj << /Junk ");
    while (o < sizeof(deep) - 64)
        deep[o++] = '<', deep[o++] = '<', deep[o++] = '[';
    snprintf(deep + o, sizeof(deep) - o, "\ntrailer << /Info 4 0 R >>\n");
    pdf_text(&x, deep, &in);
    assert_int_equal(x.nseg, 0);
    assert_true(x.flags & SL_XF_MALFORMED);
    free(in);
    pdf_text(&x, "trailer << /Info 4 0 R >>\n4 0 obj << /Title (never closed", &in);
    assert_true(x.flags & SL_XF_MALFORMED);
    free(in);
    sl_extract_free(&x);
}

/* ---- text content ---------------------------------------------------------- */

static void test_text_content(void **state)
{
    fx_buf u8 = load("text_utf8.txt"), le = load("text_utf16le_bom.txt"),
        be = load("text_utf16be.txt");
    sl_extract x;
    uint8_t *in;
    size_t so, sl;
    const uint8_t *at;

    (void)state;
    sl_extract_init(&x, 0);
    run(&x, u8.p, u8.n, &in);
    assert_int_equal(x.nseg, 1);
    assert_string_equal(x.seg[0].source, "content");
    assert_ptr_equal(x.seg[0].text, in);         /* not copied */
    assert_int_equal(x.seg[0].len, u8.n);
    assert_int_equal(x.seg[0].map, SL_XMAP_IDENTITY);
    assert_int_equal(x.coverage, SL_XCOV_FULL);
    free(in);

    run(&x, le.p, le.n, &in);
    assert_int_equal(x.nseg, 1);
    assert_int_equal(x.seg[0].len, u8.n);
    assert_memory_equal(x.seg[0].text, u8.p, u8.n);
    assert_int_equal(x.seg[0].map, SL_XMAP_UTF16LE);
    assert_int_equal(x.seg[0].src_off, 2);
    at = find(x.seg[0].text, x.seg[0].len, "jane.doe@example.com", 20);
    assert_non_null(at);
    assert_int_equal(sl_extract_map(&x, 0, (size_t)(at - x.seg[0].text), 20, &so, &sl),
                     SL_OK);
    assert_int_equal(sl, 40);
    assert_memory_equal(in + so, "j\0a\0n\0e\0.\0", 10);
    /* the emoji: 4 bytes of UTF-8 from a surrogate pair, 4 bytes */
    at = find(x.seg[0].text, x.seg[0].len, "\xf0\x9f\x98\x80", 4);
    assert_int_equal(sl_extract_map(&x, 0, (size_t)(at - x.seg[0].text) + 1, 1, &so, &sl),
                     SL_OK);
    assert_int_equal(sl, 4);
    assert_memory_equal(in + so, "\x3d\xd8\x00\xde", 4);
    free(in);

    run(&x, be.p, be.n, &in);
    assert_int_equal(x.nseg, 1);
    assert_memory_equal(x.seg[0].text, u8.p, u8.n);
    assert_int_equal(x.seg[0].map, SL_XMAP_UTF16BE);
    free(in);

    /* a UTF-8 BOM is skipped; 8-bit text is read as Windows-1252 */
    run(&x, "\xef\xbb\xbfhi there", 11, &in);
    assert_int_equal(x.seg[0].src_off, 3);
    assert_ptr_equal(x.seg[0].text, in + 3);
    free(in);
    run(&x, "caf\xe9 \x80 5", 8, &in);
    assert_int_equal(x.seg[0].len, 11);
    assert_memory_equal(x.seg[0].text, "caf\xc3\xa9 \xe2\x82\xac 5", 11);
    assert_int_equal(x.seg[0].map, SL_XMAP_CP1252);
    assert_int_equal(sl_extract_map(&x, 0, 6, 3, &so, &sl), SL_OK);
    assert_int_equal(so, 5);
    assert_int_equal(sl, 1);
    free(in);
    /* a UTF-8 sequence cut by the end is left out of the text */
    run(&x, "ok \xe2\x82", 5, &in);
    assert_int_equal(x.seg[0].len, 3);
    free(in);
    /* anyone else's "utf-8" is checked: bad bytes become Windows-1252 */
    {
        sl_ft_result r;
        static const uint8_t bad[] = { 'a', 0xff, 0, 'b' };

        memset(&r, 0, sizeof(r));
        strcpy(r.mime, "text/plain");
        strcpy(r.encoding, "utf-8");
        r.via = SL_FT_VIA_SNIFF;
        assert_int_equal(sl_extract_run(&x, (sl_slice){ bad, 4 }, &r), SL_OK);
        assert_int_equal(x.nseg, 1);
        assert_int_equal(x.seg[0].map, SL_XMAP_MIXED);
        assert_memory_equal(x.seg[0].text, "a\xc3\xbf b", 5);
        check_segments(&x, 4);
    }
    /* binary without a parser: nothing, coverage none */
    {
        fx_buf z = load("tone.wav");

        run(&x, z.p, z.n, &in);
        assert_int_equal(x.nseg, 0);
        assert_int_equal(x.coverage, SL_XCOV_NONE);
        free(in);
        free(z.p);
    }
    sl_extract_free(&x);
    free(u8.p);
    free(le.p);
    free(be.p);
}

/* ---- caps ------------------------------------------------------------------- */

static void test_caps(void **state)
{
    fx_buf png = { NULL, 0 }, b = load("image.png");
    sl_extract x;
    uint8_t *in, *big, *z;
    uLongf zn;
    size_t total = 0;
    static const uint8_t ihdr[13] = { 0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0 };

    (void)state;
    /* a byte cap of 16 */
    sl_extract_init(&x, 16);
    run(&x, b.p, b.n, &in);
    assert_true(x.flags & SL_XF_TRUNCATED);
    for (size_t i = 0; i < x.nseg; i++)
        total += x.seg[i].len;
    assert_true(total <= 16);
    free(in);
    sl_extract_free(&x);

    /* a deflate bomb: 8 MiB of 'A' in a zTXt chunk, cap 64 KiB */
    big = malloc(8u << 20);
    memset(big, 'A', 8u << 20);
    zn = compressBound(8u << 20);
    z = malloc(zn);
    assert_int_equal(compress2(z, &zn, big, 8u << 20, 9), Z_OK);
    fx_put(&png, "\x89PNG\r\n\x1a\n", 8);
    png_chunk(&png, "IHDR", ihdr, sizeof(ihdr));
    {
        fx_buf c = { NULL, 0 };

        fx_put(&c, "Comment\0\0", 9);
        fx_put(&c, z, zn);
        png_chunk(&png, "zTXt", c.p, c.n);
        free(c.p);
    }
    png_chunk(&png, "IEND", "", 0);
    sl_extract_init(&x, 64u << 10);
    run(&x, png.p, png.n, &in);
    assert_int_equal(x.nseg, 1);
    assert_true(x.seg[0].len <= 64u << 10);
    assert_true(x.flags & SL_XF_TRUNCATED);
    free(in);
    sl_extract_free(&x);
    free(big);
    free(z);
    free(png.p);

    /* the segment cap */
    png.p = NULL;
    png.n = 0;
    fx_put(&png, "\x89PNG\r\n\x1a\n", 8);
    png_chunk(&png, "IHDR", ihdr, sizeof(ihdr));
    for (int i = 0; i < SL_EXTRACT_MAX_SEGS + 100; i++)
        png_chunk(&png, "tEXt", "k\0v", 3);
    png_chunk(&png, "IEND", "", 0);
    sl_extract_init(&x, 0);
    run(&x, png.p, png.n, &in);
    assert_int_equal(x.nseg, SL_EXTRACT_MAX_SEGS);
    assert_true(x.flags & SL_XF_TRUNCATED);
    free(in);
    sl_extract_free(&x);
    free(png.p);
    free(b.p);
}

/* ---- hostile input ------------------------------------------------------------ */

static void test_hostile_structures(void **state)
{
    sl_extract x;
    uint8_t *in;
    static const uint8_t ihdr[13] = { 0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0 };

    (void)state;
    sl_extract_init(&x, 0);
    {   /* PNG: a chunk length past the end, a keyword without NUL */
        fx_buf p = { NULL, 0 };

        fx_put(&p, "\x89PNG\r\n\x1a\n", 8);
        png_chunk(&p, "IHDR", ihdr, sizeof(ihdr));
        png_chunk(&p, "tEXt", "no-nul-keyword", 14);
        fx_put_be32(&p, 0xfffffff0u);
        fx_put(&p, "tEXtabc", 7);
        run(&x, p.p, p.n, &in);
        assert_int_equal(x.nseg, 0);
        assert_true(x.flags & SL_XF_MALFORMED);
        free(in);
        free(p.p);
    }
    {   /* TIFF: IFD0's next IFD is itself; a huge entry count; offsets out */
        static const uint8_t loop[] = {
            'I', 'I', 42, 0, 8, 0, 0, 0,
            2, 0,
            0x3B, 0x01, 2, 0, 4, 0, 0, 0, 'B', 'o', 'b', 0,       /* Artist */
            0x0E, 0x01, 2, 0, 64, 0, 0, 0, 0xF0, 0xFF, 0, 0,      /* offset out */
            8, 0, 0, 0,                                           /* next: IFD0 */
        };
        static const uint8_t huge[] = {
            'M', 'M', 0, 42, 0, 0, 0, 8, 0xFF, 0xFF, 0, 0x3B, 0, 2, 0xFF, 0xFF,
            0xFF, 0xFF, 0, 0, 0, 0,
        };

        run(&x, loop, sizeof(loop), &in);
        assert_int_equal(x.nseg, 1);
        assert_memory_equal(x.seg[0].text, "Bob", 3);
        assert_true(x.flags & SL_XF_MALFORMED);
        free(in);
        run(&x, huge, sizeof(huge), &in);
        assert_int_equal(x.nseg, 0);
        assert_true(x.flags & SL_XF_MALFORMED);
        free(in);
    }
    {   /* JPEG: segment length 1; junk between segments */
        static const uint8_t j1[] = { 0xFF, 0xD8, 0xFF, 0xFE, 0x00, 0x01, 'x' };
        static const uint8_t j2[] = { 0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x02, 'j', 'u',
                                      'n', 'k', 0xFF, 0xFE, 0x00, 0x05, 'h', 'i', '!',
                                      0xFF, 0xD9 };

        run(&x, j1, sizeof(j1), &in);
        assert_int_equal(x.nseg, 0);
        assert_true(x.flags & SL_XF_MALFORMED);
        free(in);
        run(&x, j2, sizeof(j2), &in);
        assert_int_equal(x.nseg, 1);
        assert_memory_equal(x.seg[0].text, "hi!", 3);
        free(in);
    }
    {   /* GIF: a global colour table larger than the file */
        static const uint8_t g[] = { 'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0x87, 0, 0,
                                     0x21, 0xFE, 3, 'a', 'b', 'c', 0 };

        run(&x, g, sizeof(g), &in);
        assert_int_equal(x.nseg, 0);
        free(in);
    }
    sl_extract_free(&x);
}

static const char *const all_fixtures[] = {
    "image.png", "photo_exif.jpg", "photo_exif_be.jpg", "pixel.gif", "pixel.webp",
    "doc_info.pdf", "archive.zip", "archive.tar", "text.gz", "tone.wav", "tone.mp3",
    "movie.mp4", "exit0.elf", "console.exe", "macho64.bin", "text_utf8.txt",
    "text_utf16le_bom.txt", "text_utf16be.txt", "data.json", "data.csv",
    "readme.md", "page.html", "doc.xml", "script.py",
};

/* Every prefix of every fixture: detected afresh, and read as the whole
 * file's type (so each parser meets its own format cut at every byte). */
static void test_truncated(void **state)
{
    sl_extract x;

    (void)state;
    sl_extract_init(&x, 0);
    no_page_text(&x);     /* a fork per input: page text has its own tests */
    for (size_t f = 0; f < sizeof(all_fixtures) / sizeof(all_fixtures[0]); f++) {
        fx_buf b = load(all_fixtures[f]);
        sl_ft_result full;

        assert_int_equal(sl_ft_detect(ft, (sl_slice){ b.p, b.n }, &full), SL_OK);
        for (size_t k = 0; k <= b.n; k++) {
            uint8_t *c = malloc(k ? k : 1), *in;

            memcpy(c, b.p, k);
            assert_int_equal(sl_extract_run(&x, (sl_slice){ c, k }, &full), SL_OK);
            check_segments(&x, k);
            run(&x, c, k, &in);
            free(in);
            free(c);
        }
        free(b.p);
    }
    sl_extract_free(&x);
}

/* Random bytes overwritten in the metadata fixtures, deterministic seed. */
static void test_corrupted(void **state)
{
    static const char *const meta[] = {
        "image.png", "photo_exif.jpg", "photo_exif_be.jpg", "pixel.gif",
        "doc_info.pdf", "text_utf16le_bom.txt",
    };
    uint32_t seed = 0xc0ffee;
    sl_extract x;

    (void)state;
    sl_extract_init(&x, 0);
    no_page_text(&x);     /* a fork per input: page text has its own tests */
    for (size_t f = 0; f < sizeof(meta) / sizeof(meta[0]); f++) {
        fx_buf b = load(meta[f]);
        sl_ft_result full;

        assert_int_equal(sl_ft_detect(ft, (sl_slice){ b.p, b.n }, &full), SL_OK);
        for (int round = 0; round < 400; round++) {
            uint8_t *c = malloc(b.n);

            memcpy(c, b.p, b.n);
            for (int k = 0; k < 1 + round % 6; k++) {
                seed = seed * 1664525u + 1013904223u;
                c[(seed >> 8) % b.n] = (uint8_t)(seed >> 24);
            }
            assert_int_equal(sl_extract_run(&x, (sl_slice){ c, b.n }, &full), SL_OK);
            check_segments(&x, b.n);
            free(c);
        }
        free(b.p);
    }
    sl_extract_free(&x);
}

/* ---- documents, archives, media (make_doc_fixtures.py) ------------------------ */

/* Segment i: source, member and exact text. */
static void expect_seg(const sl_extract *x, size_t i, const char *source,
                       const char *member, const char *text)
{
    const sl_xseg *s;

    if (i >= x->nseg)
        fail_msg("segment %zu missing (%zu segments)", i, x->nseg);
    s = &x->seg[i];
    if (strcmp(s->source, source) != 0 || strcmp(s->member, member) != 0 ||
        s->len != strlen(text) || memcmp(s->text, text, s->len) != 0)
        fail_msg("segment %zu: got %s [%s] \"%.*s\", want %s [%s] \"%s\"", i, s->source,
                 s->member, (int)s->len, s->text, source, member, text);
}

static void test_pdf_pages(void **state)
{
    fx_buf b = load("doc_pages.pdf");
    sl_extract x;
    sl_xlimits l = SL_XLIMITS_DEFAULT;
    uint8_t *in;
    size_t so, sl;

    (void)state;
    sl_extract_init(&x, 0);
    run(&x, b.p, b.n, &in);
    assert_int_equal(x.nseg, 4);
    expect_seg(&x, 0, "pdf:page:1", "", "Quarterly payroll summary\nContact: jane.doe@example.com");
    expect_seg(&x, 1, "pdf:page:2", "", "Employee Jane Doe, SSN 123-45-6789");
    expect_seg(&x, 2, "pdf:Title", "", "Payroll");
    expect_seg(&x, 3, "pdf:Author", "", "make_doc_fixtures.py");
    assert_int_equal(x.seg[1].map, SL_XMAP_MEMBER);
    assert_int_equal(sl_extract_map(&x, 1, 23, 11, &so, &sl), SL_OK);
    assert_int_equal(so, 23);
    assert_int_equal(sl, 11);
    assert_int_equal(x.coverage, SL_XCOV_FULL);
    assert_int_equal(x.flags, 0);
    free(in);

    /* page text off: the info dictionary only */
    l.pdf_timeout_ms = 0;
    sl_extract_set_limits(&x, &l);
    run(&x, b.p, b.n, &in);
    assert_int_equal(x.nseg, 2);
    expect_seg(&x, 0, "pdf:Title", "", "Payroll");
    assert_int_equal(x.coverage, SL_XCOV_METADATA);
    free(in);

    /* one page at most */
    l = (sl_xlimits)SL_XLIMITS_DEFAULT;
    l.pdf_max_pages = 1;
    sl_extract_set_limits(&x, &l);
    run(&x, b.p, b.n, &in);
    assert_int_equal(x.nseg, 3);
    expect_seg(&x, 1, "pdf:Title", "", "Payroll");
    free(in);

    /* not a PDF poppler can read: flagged with the reason, info kept */
    {
        static const char junk[] = "%PDF-1.4\n1 0 obj (no xref, no trailer) endobj\n";
        sl_ft_result r;

        sl_extract_set_limits(&x, &(sl_xlimits)SL_XLIMITS_DEFAULT);
        memset(&r, 0, sizeof(r));
        strcpy(r.mime, "application/pdf");
        strcpy(r.encoding, "binary");
        assert_int_equal(sl_extract_run(&x, (sl_slice){ (const uint8_t *)junk, sizeof(junk) - 1 }, &r), SL_OK);
        assert_true(x.flags & SL_XF_PDF_FAILED);
        assert_string_equal(x.detail, "page text: poppler could not read the PDF (exit 2)");
        assert_int_equal(x.coverage, SL_XCOV_METADATA);
    }
    /* a few corrupted copies: never more than the caps, always a result */
    {
        uint32_t seed = 7;

        for (int round = 0; round < 12; round++) {
            uint8_t *c = malloc(b.n);
            sl_ft_result r;

            memcpy(c, b.p, b.n);
            for (int k = 0; k < 1 + round % 4; k++) {
                seed = seed * 1664525u + 1013904223u;
                c[(seed >> 8) % b.n] = (uint8_t)(seed >> 24);
            }
            assert_int_equal(sl_ft_detect(ft, (sl_slice){ b.p, b.n }, &r), SL_OK);
            assert_int_equal(sl_extract_run(&x, (sl_slice){ c, b.n }, &r), SL_OK);
            check_segments(&x, b.n);
            free(c);
        }
    }
    sl_extract_free(&x);
    free(b.p);
}

static void test_office(void **state)
{
    sl_extract x;
    uint8_t *in;
    fx_buf b;
    sl_ft_result r;

    (void)state;
    sl_extract_init(&x, 0);

    b = load("doc.docx");
    r = run(&x, b.p, b.n, &in);
    assert_string_equal(r.mime,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
    assert_int_equal(x.nseg, 2);
    /* the SSN split over two runs comes out whole; entities decoded, tab a space */
    expect_seg(&x, 0, "docx:text", "word/document.xml",
               "Employee SSN 123-45-6789\nMail <jane.doe@example.com> & call later\n");
    expect_seg(&x, 1, "docx:text", "docProps/core.xml", "Payroll\nJane Doe\n");
    assert_int_equal(x.coverage, SL_XCOV_FULL);
    assert_int_equal(x.flags, 0);
    free(in);
    free(b.p);

    b = load("doc.xlsx");
    run(&x, b.p, b.n, &in);
    assert_int_equal(x.nseg, 2);
    expect_seg(&x, 0, "xlsx:text", "xl/sharedStrings.xml", "name\njohn.smith@example.org\n");
    expect_seg(&x, 1, "xlsx:text", "xl/worksheets/sheet1.xml", "0\nSSN 123-45-6789\n");
    free(in);
    free(b.p);

    b = load("doc.pptx");
    run(&x, b.p, b.n, &in);
    assert_int_equal(x.nseg, 1);
    expect_seg(&x, 0, "pptx:text", "ppt/slides/slide1.xml", "Questions? Call +1 415 555 0100\n");
    free(in);
    free(b.p);

    b = load("doc.odt");
    r = run(&x, b.p, b.n, &in);
    assert_string_equal(r.mime, "application/vnd.oasis.opendocument.text");
    assert_int_equal(x.nseg, 2);
    expect_seg(&x, 0, "odt:text", "content.xml", "Minutes\nWrite to jane.doe@example.com\n");
    expect_seg(&x, 1, "odt:text", "meta.xml", "Jane Doe\n");
    free(in);
    free(b.p);

    b = load("doc.epub");
    r = run(&x, b.p, b.n, &in);
    assert_string_equal(r.mime, "application/epub+zip");
    assert_int_equal(x.nseg, 2);
    expect_seg(&x, 0, "epub:text", "OEBPS/content.opf", "Field notes\nJane Doe\n");
    expect_seg(&x, 1, "epub:text", "OEBPS/ch1.xhtml", "Day one\nCall me on +1 415 555 0100.\n");
    free(in);
    free(b.p);
    sl_extract_free(&x);
}

static void test_archives(void **state)
{
    sl_extract x;
    uint8_t *in;
    fx_buf b;

    (void)state;
    sl_extract_init(&x, 0);

    b = load("nested.zip");
    run(&x, b.p, b.n, &in);
    assert_int_equal(x.nseg, 4);
    expect_seg(&x, 0, "text", "notes.txt", "meeting notes: mail jane.doe@example.com\n");
    expect_seg(&x, 1, "text", "inner.zip!/deep/ssn.txt", "record: SSN 123-45-6789\n");
    expect_seg(&x, 2, "docx:text", "inner.zip!/report.docx!/word/document.xml",
               "Employee SSN 123-45-6789\nMail <jane.doe@example.com> & call later\n");
    expect_seg(&x, 3, "docx:text", "inner.zip!/report.docx!/docProps/core.xml",
               "Payroll\nJane Doe\n");
    assert_int_equal(x.coverage, SL_XCOV_FULL);
    assert_int_equal(x.flags, 0);
    free(in);
    free(b.p);

    b = load("docs.tar.gz");
    run(&x, b.p, b.n, &in);
    assert_int_equal(x.nseg, 2);
    expect_seg(&x, 0, "text", "docs/a.txt", "nothing to see here\n");
    expect_seg(&x, 1, "text", "docs/b.txt", "write to jane.doe@example.com\n");
    free(in);
    free(b.p);

    b = load("notes.txt.gz");
    run(&x, b.p, b.n, &in);
    assert_int_equal(x.nseg, 1);
    expect_seg(&x, 0, "text", "data", "gzip'd notes: jane.doe@example.com\n");
    free(in);
    free(b.p);

    /* an encrypted member: skipped, said so, the rest read */
    {
        const uint8_t *cd;

        b = load("nested.zip");
        cd = find(b.p, b.n, "PK\x01\x02", 4);
        assert_non_null(cd);
        b.p[6] |= 1;                            /* local header: encrypted */
        b.p[(size_t)(cd - b.p) + 8] |= 1;       /* central directory too */
        run(&x, b.p, b.n, &in);
        assert_true(x.flags & SL_XF_UNREAD);
        assert_true(x.flags & SL_XF_ENCRYPTED);
        assert_string_equal(x.detail, "member notes.txt is encrypted: not read");
        assert_int_equal(x.nseg, 3);
        expect_seg(&x, 0, "text", "inner.zip!/deep/ssn.txt", "record: SSN 123-45-6789\n");
        free(in);
        free(b.p);
    }

    /* the text cap holds for members too */
    {
        sl_extract y;

        sl_extract_init(&y, 16);
        b = load("notes.txt.gz");
        run(&y, b.p, b.n, &in);
        assert_true(y.flags & SL_XF_TRUNCATED);
        assert_int_equal(y.nseg, 1);
        expect_seg(&y, 0, "text", "data", "gzip'd notes: ja");
        free(in);
        free(b.p);
        sl_extract_free(&y);
    }

    /* the old fixtures: a zip and a tar of one text each */
    b = load("archive.tar");
    run(&x, b.p, b.n, &in);
    assert_int_equal(x.nseg, 1);
    expect_seg(&x, 0, "text", "hello.txt", "hello from a tar member\n");
    free(in);
    free(b.p);
    sl_extract_free(&x);
}

/* Runs `name` with limits l; the run stops with BOMB and detail `want`. */
static void expect_bomb(const char *name, const sl_xlimits *l, const char *detail)
{
    fx_buf b = load(name);
    sl_extract x;
    uint8_t *in;

    sl_extract_init(&x, 0);
    sl_extract_set_limits(&x, l);
    run(&x, b.p, b.n, &in);
    if (!(x.flags & SL_XF_BOMB) || strcmp(x.detail, detail) != 0)
        fail_msg("%s: flags 0x%x, detail \"%s\", want \"%s\"", name, x.flags, x.detail, detail);
    free(in);
    free(b.p);
    sl_extract_free(&x);
}

static void test_bombs(void **state)
{
    sl_xlimits l = SL_XLIMITS_DEFAULT;

    (void)state;
    /* 32 MiB of zeros in 32 KiB: the ratio trips just past 1 MiB */
    expect_bomb("bomb.zip", &l, "archive expands more than 200 times its 32733 bytes "
                "at member zeros.bin (scan.archive.max.ratio)");
    /* the same member declares more than the total allowed: refused unread */
    l.max_ratio = 100000;
    l.max_expanded = 1u << 20;
    expect_bomb("bomb.zip", &l, "member zeros.bin declares 33554432 bytes; with 0 "
                "expanded before, past the 1048576 allowed (scan.archive.max.bytes)");
    /* eight zips deep */
    l = (sl_xlimits)SL_XLIMITS_DEFAULT;
    expect_bomb("bomb_nested.zip", &l, "archives nested deeper than 4 levels "
                "(scan.archive.max.depth)");
    /* member count, over all levels */
    l.max_members = 3;
    expect_bomb("nested.zip", &l, "archive holds more than 3 members "
                "(scan.archive.max.members)");
    /* bytes actually inflated, over all levels */
    l = (sl_xlimits)SL_XLIMITS_DEFAULT;
    l.max_expanded = 1500;
    expect_bomb("nested.zip", &l, "member report.docx declares 1156 bytes; with 1242 "
                "expanded before, past the 1500 allowed (scan.archive.max.bytes)");
    /* a gzip declares no size: counted as it inflates */
    l.max_expanded = 10;
    expect_bomb("notes.txt.gz", &l, "archive expands past 10 bytes at member data "
                "(scan.archive.max.bytes)");
    /* a zip whose directory declares more entries than allowed: refused
     * before libarchive reads that directory */
    {
        fx_buf b = load("nested.zip");
        sl_extract x;
        uint8_t *in;
        size_t e = b.n - 22;

        assert_memory_equal(b.p + e, "PK\x05\x06", 4);
        b.p[e + 10] = 0xfe;
        b.p[e + 11] = 0xff;
        sl_extract_init(&x, 0);
        run(&x, b.p, b.n, &in);
        assert_true(x.flags & SL_XF_BOMB);
        assert_string_equal(x.detail, "zip declares 65534 entries, over the 10000 allowed "
                            "(scan.archive.max.members)");
        free(in);
        free(b.p);
        sl_extract_free(&x);
    }
    /* the work budget counts inflated bytes too */
    {
        fx_buf b = load("bomb.zip");
        sl_extract x;
        sl_ft_result r;
        sl_budget bu;

        l = (sl_xlimits)SL_XLIMITS_DEFAULT;
        l.max_ratio = 100000;
        sl_extract_init(&x, 0);
        sl_extract_set_limits(&x, &l);
        sl_budget_init(&bu, 4u << 20, 1000000, 1000000, 1000, 1000, 1000);
        assert_int_equal(sl_ft_detect(ft, (sl_slice){ b.p, b.n }, &r), SL_OK);
        assert_int_equal(sl_extract_run_budget(&x, (sl_slice){ b.p, b.n }, &r, &bu), SL_OK);
        assert_int_equal(x.flags & (SL_XF_BUDGET | SL_XF_BOMB), SL_XF_BUDGET);
        assert_string_equal(bu.part, "archive");
        assert_string_equal(bu.what, "bytes");
        assert_true(bu.bytes <= (4u << 20) + 32768);
        free(b.p);
        sl_extract_free(&x);
    }
}

static void test_media(void **state)
{
    sl_extract x;
    uint8_t *in;
    fx_buf b;

    (void)state;
    sl_extract_init(&x, 0);

    b = load("tags.mp3");
    run(&x, b.p, b.n, &in);
    assert_int_equal(x.nseg, 7);
    expect_seg(&x, 0, "id3:TIT2", "", "Voice memo");
    expect_seg(&x, 1, "id3:TPE1", "", "Jane Doe");                    /* UTF-16, BOM */
    expect_seg(&x, 2, "id3:COMM", "", " reach me at jane.doe@example.com");
    expect_seg(&x, 3, "id3:TXXX", "", "phone +1 415 555 0100");
    expect_seg(&x, 4, "id3v1:title", "", "Memo");
    expect_seg(&x, 5, "id3v1:artist", "", "Jane Doe");
    expect_seg(&x, 6, "id3v1:comment", "", "call 555-0100");
    assert_int_equal(x.coverage, SL_XCOV_METADATA);
    free(in);
    free(b.p);

    b = load("meta.mp4");
    run(&x, b.p, b.n, &in);
    assert_int_equal(x.nseg, 3);
    expect_seg(&x, 0, "mp4:ART", "", "Jane Doe");
    expect_seg(&x, 1, "mp4:cmt", "", "call +1 415 555 0100 or jane.doe@example.com");
    expect_seg(&x, 2, "mp4:xyz", "", "+52.5163+013.3777/");
    assert_true(x.loc.present);
    assert_string_equal(x.loc.source, "mp4:location");
    assert_true(x.loc.lat > 52.51629 && x.loc.lat < 52.51631);
    assert_true(x.loc.lon > 13.37769 && x.loc.lon < 13.37771);
    free(in);
    free(b.p);

    b = load("xmp_gps.jpg");
    run(&x, b.p, b.n, &in);
    assert_int_equal(x.nseg, 1);
    assert_string_equal(x.seg[0].source, "xmp");
    assert_true(x.loc.present);
    assert_string_equal(x.loc.source, "xmp:GPS");
    /* 52,30.978N 13,22.662E */
    assert_true(x.loc.lat > 52.51629 && x.loc.lat < 52.51631);
    assert_true(x.loc.lon > 13.37769 && x.loc.lon < 13.37771);
    free(in);
    free(b.p);
    sl_extract_free(&x);
}

static const char *const doc_fixtures[] = {
    "doc.docx", "doc.xlsx", "doc.pptx", "doc.odt", "doc.epub", "nested.zip", "docs.tar.gz",
    "notes.txt.gz", "bomb_nested.zip", "tags.mp3", "meta.mp4", "xmp_gps.jpg",
};

/* Every prefix and 200 random corruptions of each document / archive /
 * media fixture, read as the whole file's type, within a budget. */
static void test_docs_hostile(void **state)
{
    uint32_t seed = 0x5eed;
    sl_extract x;

    (void)state;
    sl_extract_init(&x, 0);
    no_page_text(&x);
    for (size_t f = 0; f < sizeof(doc_fixtures) / sizeof(doc_fixtures[0]); f++) {
        fx_buf b = load(doc_fixtures[f]);
        sl_ft_result full;

        assert_int_equal(sl_ft_detect(ft, (sl_slice){ b.p, b.n }, &full), SL_OK);
        for (size_t k = 0; k <= b.n; k++) {
            uint8_t *c = malloc(k ? k : 1);

            memcpy(c, b.p, k);
            assert_int_equal(sl_extract_run(&x, (sl_slice){ c, k }, &full), SL_OK);
            check_segments(&x, k);
            free(c);
        }
        for (int round = 0; round < 200; round++) {
            uint8_t *c = malloc(b.n);
            sl_budget bu;

            memcpy(c, b.p, b.n);
            for (int k = 0; k < 1 + round % 6; k++) {
                seed = seed * 1664525u + 1013904223u;
                c[(seed >> 8) % b.n] = (uint8_t)(seed >> 24);
            }
            sl_budget_init(&bu, 64u << 20, 100000, 1000000, 1000, 1000, 1000);
            assert_int_equal(sl_extract_run_budget(&x, (sl_slice){ c, b.n }, &full, &bu),
                             SL_OK);
            check_segments(&x, b.n);
            free(c);
        }
        free(b.p);
    }
    sl_extract_free(&x);
}

/* The scan stage's decision on documents (sl_scan_decide with no dataset
 * registry): the member in the finding object and the detail, archive_bomb
 * from the archive limits, flagged for an unread encrypted member, and
 * the limits' config keys checked. */
static const char *finding_str(const sl_scan_report *rep, size_t i, const char *key)
{
    return json_string_value(json_object_get(
        json_array_get(json_object_get(rep->summary, "findings"), i), key));
}

static void test_decide_documents(void **state)
{
    static const char docx[] =
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    sl_config *cfg = fx_config(sl_scan_config);
    sl_scan_report rep;
    sl_scan *s;
    sl_err err;
    fx_buf b;

    (void)state;
    assert_int_equal(sl_scan_new(&s, cfg, NULL, &err), SL_OK);
    sl_scan_report_init(&rep);

    b = load("doc.docx");
    assert_int_equal(sl_scan_decide(s, (sl_slice){ b.p, b.n }, docx, "@document", NULL,
                                    &rep), SL_OK);
    assert_string_equal(rep.outcome, "rejected");
    assert_string_equal(rep.code, "pii_blocked");
    assert_string_equal(rep.detail, "rule us_ssn (us_ssn) matched in docx:text of member "
                        "word/document.xml at byte 13, length 11");
    assert_string_equal(finding_str(&rep, 0, "rule"), "us_ssn");
    assert_string_equal(finding_str(&rep, 0, "member"), "word/document.xml");
    assert_string_equal(json_string_value(json_object_get(rep.summary, "coverage")), "full");
    free(b.p);

    b = load("docs.tar.gz");
    assert_int_equal(sl_scan_decide(s, (sl_slice){ b.p, b.n }, "application/gzip",
                                    "@archive", NULL, &rep), SL_OK);
    assert_string_equal(rep.outcome, "flagged");
    assert_string_equal(finding_str(&rep, 0, "rule"), "email");
    assert_string_equal(finding_str(&rep, 0, "source"), "text");
    assert_string_equal(finding_str(&rep, 0, "member"), "docs/b.txt");
    free(b.p);

    /* an image's finding has no member key */
    b = load("image.png");
    assert_int_equal(sl_scan_decide(s, (sl_slice){ b.p, b.n }, "image/png", NULL, NULL,
                                    &rep), SL_OK);
    assert_string_equal(finding_str(&rep, 0, "rule"), "email");
    assert_null(finding_str(&rep, 0, "member"));
    free(b.p);

    b = load("bomb.zip");
    assert_int_equal(sl_scan_decide(s, (sl_slice){ b.p, b.n }, "application/zip",
                                    "@archive", NULL, &rep), SL_OK);
    assert_string_equal(rep.outcome, "rejected");
    assert_string_equal(rep.code, "archive_bomb");
    assert_string_equal(rep.detail, "archive expands more than 200 times its 32733 bytes "
                        "at member zeros.bin (scan.archive.max.ratio)");
    assert_string_equal(json_string_value(json_object_get(rep.summary, "reason")),
                        "archive_bomb");
    /* a bomb is refused even where archives are otherwise not read further */
    assert_true(rep.budget.bytes < (16u << 20));
    free(b.p);

    /* the dataset must take archives: refused before any is expanded */
    b = load("bomb_nested.zip");
    assert_int_equal(sl_scan_decide(s, (sl_slice){ b.p, b.n }, "application/zip", NULL,
                                    NULL, &rep), SL_OK);
    assert_string_equal(rep.code, "type_not_allowed");
    assert_int_equal(sl_scan_decide(s, (sl_slice){ b.p, b.n }, "application/zip",
                                    "@archive", NULL, &rep), SL_OK);
    assert_string_equal(rep.code, "archive_bomb");
    assert_string_equal(rep.detail, "archives nested deeper than 4 levels "
                        "(scan.archive.max.depth)");
    free(b.p);

    /* an encrypted member: flagged, the member named */
    {
        const uint8_t *cd;

        b = load("nested.zip");
        cd = find(b.p, b.n, "PK\x01\x02", 4);
        b.p[6] |= 1;
        b.p[(size_t)(cd - b.p) + 8] |= 1;
        /* what was read is allowed: the flag is for what was not */
        assert_int_equal(sl_scan_decide(s, (sl_slice){ b.p, b.n }, "application/zip",
                                        "@archive", "{\"us_ssn\": \"allow\", \"email\": "
                                        "\"allow\"}", &rep), SL_OK);
        assert_string_equal(rep.outcome, "flagged");
        assert_string_equal(json_string_value(json_object_get(rep.summary, "flag_reason")),
                            "member notes.txt is encrypted: not read");
        free(b.p);
    }
    sl_scan_report_free(&rep);
    sl_scan_destroy(s);

    /* the limits' keys are checked */
    assert_int_equal(sl_config_set(cfg, "scan.archive.max.depth", "0", &err), SL_OK);
    assert_int_equal(sl_scan_new(&s, cfg, NULL, &err), SL_ERR);
    assert_string_equal(err.msg, "scan.archive.max.depth must be 1 to 4294967295");
    assert_int_equal(sl_config_set(cfg, "scan.archive.max.depth", "2", &err), SL_OK);
    assert_int_equal(sl_config_set(cfg, "scan.pdf.timeout.ms", "0", &err), SL_OK);
    assert_int_equal(sl_scan_new(&s, cfg, NULL, &err), SL_OK);
    sl_scan_destroy(s);
    sl_config_destroy(cfg);
}

static void test_args(void **state)
{
    sl_extract x;
    sl_ft_result r;
    size_t a, b;

    (void)state;
    memset(&r, 0, sizeof(r));
    strcpy(r.encoding, "binary");
    sl_extract_init(&x, 0);
    assert_int_equal(sl_extract_run(&x, (sl_slice){ NULL, 4 }, &r), SL_EINVAL);
    assert_int_equal(sl_extract_run(&x, (sl_slice){ NULL, 0 }, NULL), SL_EINVAL);
    assert_int_equal(sl_extract_run(&x, (sl_slice){ NULL, 0 }, &r), SL_OK);
    assert_int_equal(x.nseg, 0);
    assert_int_equal(sl_extract_map(&x, 0, 0, 0, &a, &b), SL_EINVAL);
    sl_extract_free(&x);
    sl_extract_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_png),
        cmocka_unit_test(test_jpeg_le),
        cmocka_unit_test(test_jpeg_be),
        cmocka_unit_test(test_gps_signs_and_invalid),
        cmocka_unit_test(test_gif),
        cmocka_unit_test(test_webp_tiff_png_exif),
        cmocka_unit_test(test_iptc),
        cmocka_unit_test(test_pdf),
        cmocka_unit_test(test_pdf_variants),
        cmocka_unit_test(test_text_content),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_hostile_structures),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_corrupted),
        cmocka_unit_test(test_pdf_pages),
        cmocka_unit_test(test_office),
        cmocka_unit_test(test_archives),
        cmocka_unit_test(test_bombs),
        cmocka_unit_test(test_media),
        cmocka_unit_test(test_docs_hostile),
        cmocka_unit_test(test_decide_documents),
        cmocka_unit_test(test_args),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
