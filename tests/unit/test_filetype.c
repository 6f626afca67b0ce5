/*
 * test_filetype.c -- unit tests for services/scan/filetype.c: detection of
 * every fixture in tests/fixtures/ (made by make_fixtures.py) and of
 * synthetic headers of the other formats the magic table knows, checked
 * against libmagic's own answer; the text checks and classifier; the
 * normalisation / alias table, compatibility decisions, categories and
 * allowed-type patterns; and truncated or corrupted fixtures (every prefix
 * length, random byte flips) never crashing or reading out of bounds (the
 * bytes are copied into buffers of their exact size for ASan).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>
#include <string.h>

#include <cmocka.h>
#include <magic.h>

#include "filetype.h"
#include "fixtures.h"

static sl_ft *ft;           /* default flags */
static sl_ft *ft_always;    /* SL_FT_LIBMAGIC_ALWAYS */

/* ---- helpers ---------------------------------------------------------- */

static sl_ft_result detect(sl_ft *h, const void *p, size_t n)
{
    sl_ft_result r;

    assert_int_equal(sl_ft_detect(h, (sl_slice){ p, n }, &r), SL_OK);
    return r;
}

/* Detects a copy of p[0..n) in an exact-size buffer. */
static sl_ft_result detect_copy(sl_ft *h, const void *p, size_t n)
{
    uint8_t *c = malloc(n ? n : 1);
    sl_ft_result r;

    assert_non_null(c);
    if (n)
        memcpy(c, p, n);
    r = detect(h, c, n);
    free(c);
    return r;
}

static int setup(void **state)
{
    sl_err err;

    (void)state;
    if (sl_ft_new(&ft, NULL, 0, &err) != SL_OK ||
        sl_ft_new(&ft_always, NULL, SL_FT_LIBMAGIC_ALWAYS, &err) != SL_OK) {
        fprintf(stderr, "sl_ft_new: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sl_ft_destroy(ft);
    sl_ft_destroy(ft_always);
    return 0;
}

/* ---- fixtures ----------------------------------------------------------- */

static const struct {
    const char *file, *mime, *enc;
    sl_ftcat cat;
    int script;
} fixtures[] = {
    { "image.png", "image/png", "binary", SL_FTCAT_IMAGE, 0 },
    { "photo_exif.jpg", "image/jpeg", "binary", SL_FTCAT_IMAGE, 0 },
    { "photo_exif_be.jpg", "image/jpeg", "binary", SL_FTCAT_IMAGE, 0 },
    { "pixel.gif", "image/gif", "binary", SL_FTCAT_IMAGE, 0 },
    { "pixel.webp", "image/webp", "binary", SL_FTCAT_IMAGE, 0 },
    { "doc_info.pdf", "application/pdf", "binary", SL_FTCAT_DOCUMENT, 0 },
    { "archive.zip", "application/zip", "binary", SL_FTCAT_ARCHIVE, 0 },
    { "archive.tar", "application/x-tar", "binary", SL_FTCAT_ARCHIVE, 0 },
    { "text.gz", "application/gzip", "binary", SL_FTCAT_ARCHIVE, 0 },
    { "tone.wav", "audio/wav", "binary", SL_FTCAT_AUDIO, 0 },
    { "tone.mp3", "audio/mpeg", "binary", SL_FTCAT_AUDIO, 0 },
    { "movie.mp4", "video/mp4", "binary", SL_FTCAT_VIDEO, 0 },
    { "exit0.elf", "application/x-executable", "binary", SL_FTCAT_EXECUTABLE, 0 },
    { "console.exe", "application/vnd.microsoft.portable-executable", "binary",
      SL_FTCAT_EXECUTABLE, 0 },
    { "macho64.bin", "application/x-mach-binary", "binary", SL_FTCAT_EXECUTABLE, 0 },
    { "text_utf8.txt", "text/plain", "utf-8", SL_FTCAT_TEXT, 0 },
    { "text_utf16le_bom.txt", "text/plain", "utf-16le", SL_FTCAT_TEXT, 0 },
    { "text_utf16be.txt", "text/plain", "utf-16be", SL_FTCAT_TEXT, 0 },
    { "data.json", "application/json", "us-ascii", SL_FTCAT_TEXT, 0 },
    { "data.csv", "text/csv", "us-ascii", SL_FTCAT_TEXT, 0 },
    { "readme.md", "text/markdown", "us-ascii", SL_FTCAT_TEXT, 0 },
    { "page.html", "text/html", "us-ascii", SL_FTCAT_TEXT, 0 },
    { "doc.xml", "application/xml", "us-ascii", SL_FTCAT_TEXT, 0 },
    { "script.py", "text/x-python", "us-ascii", SL_FTCAT_TEXT, 1 },
};

#define NFIX (sizeof(fixtures) / sizeof(fixtures[0]))

static void test_detect_fixtures(void **state)
{
    (void)state;
    for (size_t i = 0; i < NFIX; i++) {
        size_t n;
        uint8_t *p = fx_fixture(fixtures[i].file, &n);
        sl_ft_result r = detect(ft, p, n);

        if (strcmp(r.mime, fixtures[i].mime) != 0 ||
            strcmp(r.encoding, fixtures[i].enc) != 0)
            fail_msg("%s: got %s / %s, want %s / %s", fixtures[i].file, r.mime,
                     r.encoding, fixtures[i].mime, fixtures[i].enc);
        assert_int_equal(r.category, fixtures[i].cat);
        assert_int_equal(r.script, fixtures[i].script);
        /* text never reaches libmagic; the table answers the rest alone
         * except containers (ZIP, MP4) */
        if (fixtures[i].cat == SL_FTCAT_TEXT)
            assert_int_equal(r.via, SL_FT_VIA_TEXT);
        free(p);
    }
}

/* Our answer against libmagic's own, with its default checks (all of them)
 * and with ours forced through libmagic: the same type or one
 * sl_type_compatible accepts (markdown vs text/plain).  libmagic does not
 * know UTF-16 without a BOM; that fixture is ours alone. */
static void test_detect_agrees_with_libmagic(void **state)
{
    (void)state;
    for (size_t i = 0; i < NFIX; i++) {
        size_t n;
        uint8_t *p = fx_fixture(fixtures[i].file, &n);
        sl_ft_result r = detect(ft, p, n), ra = detect(ft_always, p, n);
        char raw[256], norm[SL_MIME_MAX];

        assert_string_equal(ra.mime, r.mime);
        assert_int_equal(sl_ft_libmagic(ft, (sl_slice){ p, n },
                                        MAGIC_MIME_TYPE, raw, sizeof(raw)), SL_OK);
        assert_int_equal(sl_type_normalize(raw, norm, sizeof(norm)), SL_OK);
        if (strcmp(fixtures[i].file, "text_utf16be.txt") != 0 &&
            !sl_type_compatible(norm, r.mime))
            fail_msg("%s: libmagic says %s, we say %s", fixtures[i].file, raw, r.mime);
        if (fixtures[i].cat != SL_FTCAT_TEXT && strcmp(norm, r.mime) != 0)
            fail_msg("%s: libmagic says %s, we say %s", fixtures[i].file, raw, r.mime);
        free(p);
    }
}

/* Headers of the other formats in the magic table, and what libmagic
 * refines (synthetic bytes: the first bytes are what both look at). */
static void test_detect_headers(void **state)
{
    static const struct {
        const char *name;
        const char *bytes;
        size_t n;
        const char *mime;
        sl_ftcat cat;
    } h[] = {
#define B(s) s, sizeof(s) - 1
        { "7z", B("7z\xbc\xaf\x27\x1c\x00\x04\0\0\0\0\0\0\0\0"),
          "application/x-7z-compressed", SL_FTCAT_ARCHIVE },
        { "rar5", B("Rar!\x1a\x07\x01\x00\0\0\0\0\0\0\0\0"), "application/vnd.rar",
          SL_FTCAT_ARCHIVE },
        { "xz", B("\xfd" "7zXZ\x00\x00\x04\xe6\xd6\xb4\x46\0\0\0\0"), "application/x-xz",
          SL_FTCAT_ARCHIVE },
        { "zstd", B("\x28\xb5\x2f\xfd\x24\x00\0\0\0\0"), "application/zstd",
          SL_FTCAT_ARCHIVE },
        { "bzip2", B("BZh91AY&SY\0\0\0\0\0\0"), "application/x-bzip2", SL_FTCAT_ARCHIVE },
        { "flac", B("fLaC\x00\x00\x00\x22\0\0\0\0\0\0\0\0"), "audio/flac", SL_FTCAT_AUDIO },
        { "avi", B("RIFF\x24\x00\x00\x00" "AVI LIST\0\0\0\0"), "video/x-msvideo",
          SL_FTCAT_VIDEO },
        { "tiff", B("II*\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00"), "image/tiff",
          SL_FTCAT_IMAGE },
        { "bmp", B("BM\x46\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0\x01\0\0\0\x01\0\0\0\x01\0\x18\0"),
          "image/bmp", SL_FTCAT_IMAGE },
        { "sqlite", B("SQLite format 3\x00\x10\x00\x01\x01\x00\x40\x20\x20"),
          "application/vnd.sqlite3", SL_FTCAT_OTHER },
        { "wasm", B("\x00" "asm\x01\x00\x00\x00"), "application/wasm", SL_FTCAT_EXECUTABLE },
        { "elf core", B("\x7f" "ELF\x02\x01\x01\x00\0\0\0\0\0\0\0\0\x04\x00\x3e\x00\x01\0\0\0"),
          "application/x-coredump", SL_FTCAT_EXECUTABLE },
        { "elf .o", B("\x7f" "ELF\x02\x01\x01\x00\0\0\0\0\0\0\0\0\x01\x00\x3e\x00\x01\0\0\0"),
          "application/x-object", SL_FTCAT_EXECUTABLE },
        { "elf .so", B("\x7f" "ELF\x02\x01\x01\x00\0\0\0\0\0\0\0\0\x03\x00\x3e\x00\x01\0\0\0"
                       "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"),
          "application/x-sharedlib", SL_FTCAT_EXECUTABLE },
        { "mach-o 32", B("\xce\xfa\xed\xfe\x07\0\0\0\x03\0\0\0\x02\0\0\0"),
          "application/x-mach-binary", SL_FTCAT_EXECUTABLE },
        { "java class", B("\xca\xfe\xba\xbe\x00\x00\x00\x34\x00\x0a\0\0\0\0\0\0\0\0"),
          "application/java-vm", SL_FTCAT_EXECUTABLE },
        { "m4a", B("\0\0\0\x18" "ftypM4A \0\0\0\0M4A isom"), "audio/mp4", SL_FTCAT_AUDIO },
        { "quicktime", B("\0\0\0\x14" "ftypqt  \0\0\0\0qt  "), "video/quicktime",
          SL_FTCAT_VIDEO },
        { "heic", B("\0\0\0\x18" "ftypheic\0\0\0\0mif1heic"), "image/heic", SL_FTCAT_IMAGE },
        { "webm", B("\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04"
                    "\x42\xf3\x81\x08\x42\x82\x84webm\x42\x87\x81\x02\x42\x85\x81\x02"),
          "video/webm", SL_FTCAT_VIDEO },
        { "aiff", B("FORM\x00\x00\x00\x2e" "AIFFCOMM\0\0\0\x12"), "audio/aiff", SL_FTCAT_AUDIO },
        { "jpeg2000", B("\x00\x00\x00\x0cjP  \r\n\x87\n\0\0\0\x14" "ftypjp2 "), "image/jp2",
          SL_FTCAT_IMAGE },
        { "woff2", B("wOF2\x00\x01\x00\x00\0\0\0\0"), "font/woff2", SL_FTCAT_OTHER },
        { "deb", B("!<arch>\ndebian-binary   1342177280  0     0     100644  4         `\n2.0\n"),
          "application/vnd.debian.binary-package", SL_FTCAT_ARCHIVE },
        { "empty zip", B("PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"), "application/zip",
          SL_FTCAT_ARCHIVE },
#undef B
    };

    (void)state;
    for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
        sl_ft_result r = detect_copy(ft, h[i].bytes, h[i].n);

        if (strcmp(r.mime, h[i].mime) != 0)
            fail_msg("%s: got %s, want %s", h[i].name, r.mime, h[i].mime);
        assert_int_equal(r.category, h[i].cat);
        assert_string_equal(r.encoding, "binary");
    }
}

/* ZIP local file headers (stored, no data descriptor): name and content. */
static size_t zip_entry(uint8_t *out, const char *name, const char *data)
{
    size_t nl = strlen(name), dl = strlen(data);

    memset(out, 0, 30);
    memcpy(out, "PK\x03\x04\x14\x00", 6);
    out[18] = out[22] = (uint8_t)dl;            /* sizes < 256 */
    out[26] = (uint8_t)nl;
    memcpy(out + 30, name, nl);
    memcpy(out + 30 + nl, data, dl);
    return 30 + nl + dl;
}

/* Containers the table names itself, as libmagic does (checked against
 * it), without calling it. */
static void test_detect_containers(void **state)
{
    static const struct {
        const char *e1, *d1, *e2, *mime;
        sl_ft_via via;
    } z[] = {
        { "[Content_Types].xml", "<Types/>", "word/document.xml",
          "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
          SL_FT_VIA_SNIFF },
        { "_rels/.rels", "<R/>", "xl/workbook.xml",
          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
          SL_FT_VIA_SNIFF },
        { "[Content_Types].xml", "<Types/>", "ppt/presentation.xml",
          "application/vnd.openxmlformats-officedocument.presentationml.presentation",
          SL_FT_VIA_SNIFF },
        { "mimetype", "application/epub+zip", "META-INF/container.xml",
          "application/epub+zip", SL_FT_VIA_SNIFF },
        { "mimetype", "application/vnd.oasis.opendocument.text", "content.xml",
          "application/vnd.oasis.opendocument.text", SL_FT_VIA_SNIFF },
        { "notes.txt", "hello", "more.txt", "application/zip", SL_FT_VIA_SNIFF },
        { "[Content_Types].xml", "<Types/>", "other.xml", "application/zip",
          SL_FT_VIA_LIBMAGIC },
    };
    static const struct { const char brand[5], *mime; } bmff[] = {
        { "isom", "video/mp4" }, { "mp42", "video/mp4" }, { "M4A ", "audio/mp4" },
        { "M4V ", "video/mp4" }, { "qt  ", "video/quicktime" }, { "3gp5", "video/3gpp" },
        { "3g2a", "video/3gpp2" }, { "heic", "image/heic" }, { "mif1", "image/heif" },
        { "avif", "image/avif" },
    };
    uint8_t buf[512];
    char raw[256], norm[SL_MIME_MAX];

    (void)state;
    for (size_t i = 0; i < sizeof(z) / sizeof(z[0]); i++) {
        size_t n = zip_entry(buf, z[i].e1, z[i].d1);
        sl_ft_result r;

        n += zip_entry(buf + n, z[i].e2, "<x/>");
        r = detect_copy(ft, buf, n);
        if (strcmp(r.mime, z[i].mime) != 0 || r.via != z[i].via)
            fail_msg("zip %s + %s: got %s via %d", z[i].e1, z[i].e2, r.mime, r.via);
        assert_int_equal(sl_ft_libmagic(ft, (sl_slice){ buf, n }, MAGIC_MIME_TYPE, raw,
                                        sizeof(raw)), SL_OK);
        assert_int_equal(sl_type_normalize(raw, norm, sizeof(norm)), SL_OK);
        /* libmagic's OOXML test wants more of a real file than these
         * headers: its answer is at least the container */
        if (!sl_type_compatible(norm, r.mime))
            fail_msg("zip %s + %s: libmagic says %s, we say %s", z[i].e1, z[i].e2, raw,
                     r.mime);
    }
    for (size_t i = 0; i < sizeof(bmff) / sizeof(bmff[0]); i++) {
        sl_ft_result r;

        memcpy(buf, "\0\0\0\x18" "ftyp", 8);
        memcpy(buf + 8, bmff[i].brand, 4);
        memcpy(buf + 12, "\0\0\0\0isom\0\0\0\x08" "free", 16);
        r = detect_copy(ft, buf, 28);
        assert_string_equal(r.mime, bmff[i].mime);
        assert_int_equal(r.via, SL_FT_VIA_SNIFF);
        assert_int_equal(sl_ft_libmagic(ft, (sl_slice){ buf, 28 }, MAGIC_MIME_TYPE, raw,
                                        sizeof(raw)), SL_OK);
        assert_int_equal(sl_type_normalize(raw, norm, sizeof(norm)), SL_OK);
        assert_string_equal(norm, r.mime);
    }
}

/* ---- text ----------------------------------------------------------------- */

static void expect_text(const char *s, size_t n, const char *mime,
                        const char *enc, int script)
{
    sl_ft_result r = detect_copy(ft, s, n);

    if (strcmp(r.mime, mime) != 0 || strcmp(r.encoding, enc) != 0)
        fail_msg("\"%.40s\": got %s / %s, want %s / %s", s, r.mime, r.encoding,
                 mime, enc);
    assert_int_equal(r.script, script);
}

#define TXT(s, mime) expect_text(s, sizeof(s) - 1, mime, "us-ascii", 0)

static void test_text_classes(void **state)
{
    (void)state;
    TXT("{\"a\": [1, 2.5e-3, -0, true, false, null, \"x\\u00e9\\n\"]}", "application/json");
    TXT("  [ ]\n", "application/json");
    TXT("{\"a\":1}\n{\"a\":2}\n\n{\"b\":[3]}\n", "application/x-ndjson");
    TXT("{\"a\":1} {\"a\":2}\n", "text/plain");            /* two on a line */
    TXT("{\"a\": 01}", "text/plain");                      /* leading zero */
    TXT("{\"a\": 1,}", "text/plain");                      /* trailing comma */
    TXT("{\"a\": 1", "text/plain");                        /* unterminated */
    TXT("[section]\nkey = value\n", "text/plain");         /* INI, not JSON */
    TXT("<?xml version=\"1.0\"?>\n<!-- c --><svg xmlns=\"http://www.w3.org/2000/svg\"/>",
        "image/svg+xml");
    TXT("<svg width=\"1\" height=\"1\"></svg>\n", "image/svg+xml");
    TXT("<?xml version=\"1.0\"?><html xmlns=\"http://www.w3.org/1999/xhtml\"></html>",
        "application/xhtml+xml");
    TXT("<!doctype html><title>x</title>", "text/html");
    TXT("\n  <HTML><BODY>hi</BODY></HTML>", "text/html");
    TXT("<div class=\"x\">hello</div>", "text/html");
    TXT("<note><to>Jane</to></note>\n", "application/xml");
    TXT("<?xml version=\"1.0\"?><rss version=\"2.0\"></rss>", "application/xml");
    TXT("<not closed", "text/plain");
    TXT("a,b,c\n1,2,3\n", "text/csv");
    TXT("a;b\n1;2\n3;4\n", "text/csv");
    TXT("a\tb\tc\n1\t2\t3\n4\t5\t6", "text/tab-separated-values");
    TXT("name,quote\nx,\"a, b\nc\"\ny,z\n", "text/csv");   /* quoted newline */
    TXT("Hello, world.\nNice day.\n", "text/plain");       /* prose, not CSV */
    TXT("# Title\n\nSome text with a [link](http://x.y).\n", "text/markdown");
    TXT("Intro\n=====\n\n- item\n- item\n", "text/markdown");
    TXT("# just a comment\nx = 1\n", "text/plain");
    TXT("%!PS-Adobe-3.0\n%%EOF\n", "application/postscript");
    TXT("{\\rtf1\\ansi hello}", "text/rtf");
    TXT("BEGIN:VCARD\nVERSION:3.0\nEND:VCARD\n", "text/vcard");
    TXT("BEGIN:VCALENDAR\nEND:VCALENDAR\n", "text/calendar");
    TXT("P1\n2 2\n0 1\n1 0\n", "image/x-portable-bitmap");
    TXT("The quick brown fox.\n", "text/plain");
    TXT("\x1b[1mbold\x1b[0m and a bell\a\n", "text/plain");

    expect_text("#!/bin/sh\necho hi\n", 18, "text/x-shellscript", "us-ascii", 1);
    expect_text("#! /usr/bin/env -S python3.11 -u\n", 33, "text/x-python", "us-ascii", 1);
    expect_text("#!/usr/bin/env LANG=C perl -w\n", 30, "text/x-perl", "us-ascii", 1);
    expect_text("#!/usr/bin/node\n", 16, "text/javascript", "us-ascii", 1);
    expect_text("#!/opt/tools/frobnicate\n", 24, "text/plain", "us-ascii", 1);

    /* JSON in UTF-16 is still JSON */
    expect_text("\xff\xfe{\0\"\0a\0\"\0:\0" "1\0}\0", 16, "application/json", "utf-16le", 0);
}

static void test_text_encodings(void **state)
{
    sl_ft_result r;

    (void)state;
    expect_text("plain", 5, "text/plain", "us-ascii", 0);
    expect_text("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 13, "text/plain", "utf-8", 0);
    /* a sequence cut by the end of the sample is still UTF-8 text */
    expect_text("caf\xc3\xa9 \xe2\x82", 8, "text/plain", "utf-8", 0);
    r = detect_copy(ft, "\xef\xbb\xbfhello", 8);
    assert_string_equal(r.encoding, "utf-8");
    assert_int_equal(r.bom, 3);
    expect_text("caf\xe9 cr\xe8me", 10, "text/plain", "iso-8859-1", 0);
    expect_text("\x93quoted\x94", 8, "text/plain", "unknown-8bit", 0);
    expect_text("\xc0\xaf overlong", 11, "text/plain", "iso-8859-1", 0);
    r = detect_copy(ft, "\xff\xfeh\0i\0", 6);
    assert_string_equal(r.encoding, "utf-16le");
    assert_int_equal(r.bom, 2);
    r = detect_copy(ft, "\xfe\xff\0h\0i", 6);
    assert_string_equal(r.encoding, "utf-16be");
    r = detect_copy(ft, "h\0e\0l\0l\0o\0 \0w\0o\0r\0l\0d\0\n\0", 24);
    assert_string_equal(r.encoding, "utf-16le");
    assert_int_equal(r.bom, 0);
    /* an unpaired surrogate: not UTF-16 text */
    r = detect_copy(ft, "h\0e\0\x00\xd8l\0l\0o\0", 12);
    assert_string_equal(r.encoding, "binary");
    /* a NUL or another C0 control makes it binary */
    r = detect_copy(ft, "hello\0world", 11);
    assert_string_equal(r.encoding, "binary");
    assert_int_equal(r.via, SL_FT_VIA_LIBMAGIC);
    r = detect_copy(ft, "hello\x01world", 11);
    assert_string_equal(r.encoding, "binary");
    /* "MZ" without a PE header is text, not a DOS program */
    expect_text("MZ is a state code\n", 19, "text/plain", "us-ascii", 0);
    /* empty */
    r = detect_copy(ft, "", 0);
    assert_string_equal(r.mime, "application/x-empty");
    assert_int_equal(r.via, SL_FT_VIA_EMPTY);
    assert_int_equal(r.category, SL_FTCAT_TEXT);
}

static void test_detect_args(void **state)
{
    sl_ft_result r;
    sl_ft *bad = NULL;
    sl_err err;

    (void)state;
    assert_int_equal(sl_ft_detect(NULL, (sl_slice){ (const uint8_t *)"x", 1 }, &r), SL_EINVAL);
    assert_int_equal(sl_ft_detect(ft, (sl_slice){ NULL, 3 }, &r), SL_EINVAL);
    assert_int_equal(sl_ft_detect(ft, (sl_slice){ NULL, 0 }, &r), SL_OK);
    /* SL_FT_NO_FALLBACK: unknown bytes without libmagic; the rest as ever */
    assert_int_equal(sl_ft_new(&bad, NULL, SL_FT_NO_FALLBACK, &err), SL_OK);
    r = detect_copy(bad, "\x01\x02\x03\x04\x05", 5);
    assert_string_equal(r.mime, "application/octet-stream");
    assert_int_equal(r.via, SL_FT_VIA_SNIFF);
    r = detect_copy(bad, "\x89PNG\r\n\x1a\n", 8);
    assert_string_equal(r.mime, "image/png");
    sl_ft_destroy(bad);
    bad = NULL;
    assert_int_equal(sl_ft_new(&bad, "/nonexistent/magic.mgc", 0, &err), SL_ERR);
    assert_null(bad);
    assert_non_null(strstr(err.msg, "/nonexistent/magic.mgc"));
    sl_ft_destroy(NULL);
}

/* ---- declared types ---------------------------------------------------------- */

/* Every alias of the table maps to its canonical name (the first entry's
 * when an alias is listed twice), in any case, and a name one character
 * past an alias is no alias: the sorted look-up finds what a scan of the
 * table would. */
static void test_normalize_every_alias(void **state)
{
    size_t n = sl_type_alias_count();
    const char *a, *c, *a2, *c2, *want;
    char out[SL_MIME_MAX], in[SL_MIME_MAX];

    (void)state;
    assert_true(n > 50);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(sl_type_alias(i, &a, &c), SL_OK);
        want = c;
        for (size_t j = 0; j < i; j++) {
            assert_int_equal(sl_type_alias(j, &a2, &c2), SL_OK);
            if (strcmp(a, a2) == 0) {
                want = c2;
                break;
            }
        }
        assert_int_equal(sl_type_normalize(a, out, sizeof(out)), SL_OK);
        if (strcmp(out, want) != 0)
            fail_msg("normalize(%s) = %s, want %s", a, out, want);
        assert_true(strlen(a) + 2 <= sizeof(in));
        for (size_t k = 0; a[k]; k++)
            in[k] = (char)toupper((unsigned char)a[k]);
        in[strlen(a)] = '\0';
        assert_int_equal(sl_type_normalize(in, out, sizeof(out)), SL_OK);
        if (strcmp(out, want) != 0)
            fail_msg("normalize(%s) = %s, want %s", in, out, want);
        snprintf(in, sizeof(in), "%sz", a);
        assert_int_equal(sl_type_normalize(in, out, sizeof(out)), SL_OK);
        for (size_t j = 0; j < n; j++) {
            assert_int_equal(sl_type_alias(j, &a2, &c2), SL_OK);
            if (strcmp(in, a2) == 0)
                in[0] = '\0';      /* itself an alias: not checked */
        }
        if (in[0] && strcmp(out, in) != 0 && strncmp(in, "text/x-script.", 14) != 0)
            fail_msg("normalize(%s) = %s: not an alias, but mapped", in, out);
    }
    assert_int_equal(sl_type_alias(n, &a, &c), SL_EINVAL);
}

static void test_normalize(void **state)
{
    static const struct { const char *in, *out; } ok[] = {
        { "text/plain", "text/plain" },
        { " Text/HTML ; charset=UTF-8 ", "text/html" },
        { "image/jpg", "image/jpeg" },
        { "IMAGE/PJPEG", "image/jpeg" },
        { "image/x-png", "image/png" },
        { "text/xml; charset=utf-8", "application/xml" },
        { "application/xml", "application/xml" },
        { "application/x-sh", "text/x-shellscript" },
        { "text/x-sh", "text/x-shellscript" },
        { "text/x-script.python", "text/x-python" },
        { "text/x-script.sh", "text/x-shellscript" },
        { "application/x-python", "text/x-python" },
        { "text/x-python", "text/x-python" },
        { "text/x-csrc", "text/x-c" },
        { "text/x-c", "text/x-c" },
        { "text/x-markdown", "text/markdown" },
        { "text/markdown; variant=GFM", "text/markdown" },
        { "application/csv", "text/csv" },
        { "text/csv", "text/csv" },
        { "text/json", "application/json" },
        { "application/json", "application/json" },
        { "application/jsonl", "application/x-ndjson" },
        { "application/javascript", "text/javascript" },
        { "audio/x-wav", "audio/wav" },
        { "audio/mp3", "audio/mpeg" },
        { "application/x-zip-compressed", "application/zip" },
        { "application/x-gzip", "application/gzip" },
        { "application/x-rar-compressed", "application/vnd.rar" },
        { "application/x-msdownload", "application/vnd.microsoft.portable-executable" },
        { "application/x-java-applet", "application/java-vm" },
        { "binary/octet-stream", "application/octet-stream" },
        { "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
          "application/vnd.openxmlformats-officedocument.wordprocessingml.document" },
        { "image/svg+xml", "image/svg+xml" },
        { "text/x-script.unknownlang", "text/x-script.unknownlang" },
    };
    static const char *const bad[] = {
        "", "   ", "text", "/plain", "text/", "te xt/plain", "text/plain/x",
        "text/pla\"in", "text/*", "*/*", ";charset=utf-8",
    };
    char out[SL_MIME_MAX], tiny[8], long_in[300];

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (sl_type_normalize(ok[i].in, out, sizeof(out)) != SL_OK)
            fail_msg("normalize(%s) failed", ok[i].in);
        if (strcmp(out, ok[i].out) != 0)
            fail_msg("normalize(%s) = %s, want %s", ok[i].in, out, ok[i].out);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (sl_type_normalize(bad[i], out, sizeof(out)) != SL_EINVAL)
            fail_msg("normalize(\"%s\") accepted", bad[i]);
    assert_int_equal(sl_type_normalize("image/jpeg", tiny, sizeof(tiny)), SL_ETOOBIG);
    memset(long_in, 'a', sizeof(long_in) - 1);
    long_in[4] = '/';
    long_in[sizeof(long_in) - 1] = '\0';
    assert_int_equal(sl_type_normalize(long_in, out, sizeof(out)), SL_ETOOBIG);
    assert_int_equal(sl_type_normalize(NULL, out, sizeof(out)), SL_EINVAL);
    /* in place */
    strcpy(out, "IMAGE/JPG");
    assert_int_equal(sl_type_normalize(out, out, sizeof(out)), SL_OK);
    assert_string_equal(out, "image/jpeg");
}

static void test_category(void **state)
{
    static const struct { const char *mime; sl_ftcat cat; } t[] = {
        { "text/plain", SL_FTCAT_TEXT },
        { "text/x-shellscript", SL_FTCAT_TEXT },
        { "application/x-sh", SL_FTCAT_TEXT },
        { "application/json", SL_FTCAT_TEXT },
        { "application/ld+json", SL_FTCAT_TEXT },
        { "application/xml", SL_FTCAT_TEXT },
        { "application/atom+xml", SL_FTCAT_TEXT },
        { "application/x-ndjson", SL_FTCAT_TEXT },
        { "application/yaml", SL_FTCAT_TEXT },
        { "message/rfc822", SL_FTCAT_TEXT },
        { "image/png", SL_FTCAT_IMAGE },
        { "image/svg+xml", SL_FTCAT_IMAGE },
        { "image/jpg", SL_FTCAT_IMAGE },
        { "audio/x-wav", SL_FTCAT_AUDIO },
        { "video/mp4", SL_FTCAT_VIDEO },
        { "application/pdf", SL_FTCAT_DOCUMENT },
        { "application/msword", SL_FTCAT_DOCUMENT },
        { "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
          SL_FTCAT_DOCUMENT },
        { "application/vnd.oasis.opendocument.text", SL_FTCAT_DOCUMENT },
        { "application/zip", SL_FTCAT_ARCHIVE },
        { "application/x-tar", SL_FTCAT_ARCHIVE },
        { "application/gzip", SL_FTCAT_ARCHIVE },
        { "application/x-7z-compressed", SL_FTCAT_ARCHIVE },
        { "application/x-rar", SL_FTCAT_ARCHIVE },
        { "application/x-executable", SL_FTCAT_EXECUTABLE },
        { "application/x-pie-executable", SL_FTCAT_EXECUTABLE },
        { "application/x-sharedlib", SL_FTCAT_EXECUTABLE },
        { "application/x-dosexec", SL_FTCAT_EXECUTABLE },
        { "application/x-msdownload", SL_FTCAT_EXECUTABLE },
        { "application/x-mach-binary", SL_FTCAT_EXECUTABLE },
        { "application/java-archive", SL_FTCAT_EXECUTABLE },
        { "application/wasm", SL_FTCAT_EXECUTABLE },
        { "application/octet-stream", SL_FTCAT_OTHER },
        { "application/vnd.sqlite3", SL_FTCAT_OTHER },
        { "font/woff2", SL_FTCAT_OTHER },
        { "not a type", SL_FTCAT_OTHER },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (sl_type_category(t[i].mime) != t[i].cat)
            fail_msg("category(%s) = %s, want %s", t[i].mime,
                     sl_ftcat_name(sl_type_category(t[i].mime)), sl_ftcat_name(t[i].cat));
    assert_string_equal(sl_ftcat_name(SL_FTCAT_EXECUTABLE), "executable");
    assert_string_equal(sl_ftcat_name((sl_ftcat)99), "other");
    assert_int_equal(sl_type_category(NULL), SL_FTCAT_OTHER);
}

static void test_compatible(void **state)
{
    static const struct {
        const char *declared, *detected;
        int ok;
    } t[] = {
        /* the examples */
        { "image/png", "application/x-executable", 0 },
        { "image/png", "application/zip", 0 },
        { "image/png", "image/jpeg", 0 },
        { "text/plain", "application/x-executable", 0 },
        { "text/plain", "application/zip", 0 },
        { "text/x-python", "text/plain", 1 },
        { "application/json", "text/plain", 1 },
        { "application/json", "application/json", 1 },
        /* normalisation */
        { "image/jpg", "image/jpeg", 1 },
        { "IMAGE/JPEG; q=1", "image/jpeg", 1 },
        { "text/xml", "application/xml", 1 },
        { "audio/x-wav", "audio/wav", 1 },
        { "application/x-sh", "text/x-shellscript", 1 },
        /* text-like both ways */
        { "text/plain", "application/json", 1 },
        { "text/csv", "text/markdown", 1 },
        { "text/plain", "image/svg+xml", 1 },
        { "image/svg+xml", "application/xml", 1 },
        { "application/xml", "image/svg+xml", 1 },
        { "image/svg+xml", "image/png", 0 },
        { "text/plain", "image/png", 0 },
        { "image/png", "text/plain", 0 },
        /* nothing or octet-stream declared; empty content */
        { NULL, "application/x-executable", 1 },
        { "", "image/png", 1 },
        { "  ", "image/png", 1 },
        { "application/octet-stream", "image/png", 1 },
        { "image/png", "application/x-empty", 1 },
        /* containers and families */
        { "application/zip", "application/epub+zip", 1 },
        { "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
          "application/zip", 1 },
        { "application/epub+zip", "application/java-archive", 0 },
        { "application/msword", "application/x-ole-storage", 1 },
        { "application/x-executable", "application/x-sharedlib", 1 },
        { "application/x-pie-executable", "application/x-sharedlib", 1 },
        { "application/x-msdownload", "application/x-dosexec", 1 },
        { "video/mp4", "video/quicktime", 1 },
        { "audio/mp4", "video/mp4", 1 },
        { "image/heic", "video/mp4", 0 },
        { "audio/ogg", "video/ogg", 1 },
        { "video/x-matroska", "video/webm", 1 },
        { "image/apng", "image/png", 1 },
        { "image/tiff", "image/x-canon-cr2", 1 },
        /* unknown types */
        { "application/x-parquet", "application/octet-stream", 1 },
        { "application/x-parquet", "image/png", 0 },
        { "image/png", "application/octet-stream", 0 },
        { "text/plain", "application/octet-stream", 0 },
        /* an unparsable declaration */
        { "png", "image/png", 0 },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (sl_type_compatible(t[i].declared, t[i].detected) != t[i].ok)
            fail_msg("compatible(%s, %s) != %d", t[i].declared ? t[i].declared : "NULL",
                     t[i].detected, t[i].ok);
    assert_int_equal(sl_type_compatible("image/png", NULL), 0);
}

static void test_allowed(void **state)
{
    const char *text_png[] = { "text/*", "image/png" };
    const char *cats[] = { "@text", "@Archive" };
    const char *any[] = { "*/*" };
    const char *jpg[] = { " image/jpg " };
    const char *junk[] = { "", "nonsense", "@nope", NULL };

    (void)state;
    assert_int_equal(sl_type_allowed("text/plain", text_png, 2), 1);
    assert_int_equal(sl_type_allowed("text/x-python", text_png, 2), 1);
    assert_int_equal(sl_type_allowed("image/png", text_png, 2), 1);
    assert_int_equal(sl_type_allowed("image/jpeg", text_png, 2), 0);
    assert_int_equal(sl_type_allowed("application/json", text_png, 2), 0);
    assert_int_equal(sl_type_allowed("application/json", cats, 2), 1);
    assert_int_equal(sl_type_allowed("application/zip", cats, 2), 1);
    assert_int_equal(sl_type_allowed("image/png", cats, 2), 0);
    assert_int_equal(sl_type_allowed("application/x-executable", any, 1), 1);
    assert_int_equal(sl_type_allowed("image/jpeg", jpg, 1), 1);
    assert_int_equal(sl_type_allowed("image/jpeg", junk, 4), 0);
    assert_int_equal(sl_type_allowed("text", text_png, 2), 0);
    /* default policy: executables, archives and unknown bytes refused */
    assert_int_equal(sl_type_allowed("text/plain", NULL, 0), 1);
    assert_int_equal(sl_type_allowed("image/webp", NULL, 0), 1);
    assert_int_equal(sl_type_allowed("audio/wav", NULL, 0), 1);
    assert_int_equal(sl_type_allowed("video/mp4", NULL, 0), 1);
    assert_int_equal(sl_type_allowed("application/pdf", NULL, 0), 1);
    assert_int_equal(sl_type_allowed("application/x-executable", NULL, 0), 0);
    assert_int_equal(sl_type_allowed("application/zip", NULL, 0), 0);
    assert_int_equal(sl_type_allowed("application/octet-stream", NULL, 0), 0);
    /* the registry's string form */
    assert_int_equal(sl_type_allowed_list("image/png", "text/*, image/png"), 1);
    assert_int_equal(sl_type_allowed_list("image/png", "text/*,image/jpeg"), 0);
    assert_int_equal(sl_type_allowed_list("text/csv", "  text/*  "), 1);
    assert_int_equal(sl_type_allowed_list("application/zip", "@archive @text"), 1);
    assert_int_equal(sl_type_allowed_list("application/zip", NULL), 0);
    assert_int_equal(sl_type_allowed_list("application/zip", " , "), 0);
    assert_int_equal(sl_type_allowed_list("text/plain", ""), 1);
    assert_int_equal(sl_type_allowed_list("application/x-sharedlib", "*"), 1);
    assert_int_equal(sl_ftcat_default_allowed(SL_FTCAT_DOCUMENT), 1);
    assert_int_equal(sl_ftcat_default_allowed(SL_FTCAT_OTHER), 0);
}

/* ---- hostile input ------------------------------------------------------------ */

static void check_result(const sl_ft_result *r)
{
    char norm[SL_MIME_MAX];

    assert_true(r->mime[0] != '\0');
    assert_int_equal(sl_type_normalize(r->mime, norm, sizeof(norm)), SL_OK);
    assert_string_equal(norm, r->mime);
    assert_true(r->encoding[0] != '\0');
    assert_true((unsigned)r->category <= SL_FTCAT_EXECUTABLE);
}

/* Every prefix of every fixture, each in a buffer of exactly its size. */
static void test_truncated(void **state)
{
    (void)state;
    for (size_t i = 0; i < NFIX; i++) {
        size_t n;
        uint8_t *p = fx_fixture(fixtures[i].file, &n);

        for (size_t k = 0; k <= n; k++) {
            sl_ft_result r = detect_copy(ft, p, k);

            check_result(&r);
        }
        free(p);
    }
}

/* Random bytes overwritten, deterministic seed. */
static void test_corrupted(void **state)
{
    uint32_t seed = 0x5eed;

    (void)state;
    for (size_t i = 0; i < NFIX; i++) {
        size_t n;
        uint8_t *p = fx_fixture(fixtures[i].file, &n);

        for (int round = 0; round < 150; round++) {
            uint8_t *c = malloc(n);

            memcpy(c, p, n);
            for (int f = 0; f < 1 + round % 8; f++) {
                seed = seed * 1664525u + 1013904223u;
                c[(seed >> 8) % n] = (uint8_t)(seed >> 24);
            }
            {
                sl_ft_result r = detect(ft, c, n);

                check_result(&r);
            }
            free(c);
        }
        free(p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_detect_fixtures),
        cmocka_unit_test(test_detect_agrees_with_libmagic),
        cmocka_unit_test(test_detect_headers),
        cmocka_unit_test(test_detect_containers),
        cmocka_unit_test(test_text_classes),
        cmocka_unit_test(test_text_encodings),
        cmocka_unit_test(test_detect_args),
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_normalize_every_alias),
        cmocka_unit_test(test_category),
        cmocka_unit_test(test_compatible),
        cmocka_unit_test(test_allowed),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_corrupted),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
