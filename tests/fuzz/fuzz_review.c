/*
 * fuzz_review.c -- the review dashboard's escaping (common/src/html.c) and
 * its item page (services/review/pages.c, highlight.c): hostile content
 * with hostile finding offsets, as a flagged sample and a scan result
 * stored by a scanner that read hostile bytes can bring.
 *
 * Input: byte 0 gives the number of findings (0..8); each then takes 5
 * bytes: flags (bit 0 secret, bit 1 revealed, bit 2 negative offset, bit 3
 * huge length), offset (2 bytes), length (2 bytes); the rest is the
 * content, also used as the file name.  Properties beyond "no crash":
 * escaped text holds no < > " ' and every & starts an entity the escaper
 * writes, and it is valid UTF-8; the page renders (SL_OK), is valid UTF-8,
 * has exactly one <script (app.js) and no <img, whatever the content.
 */
#include <jansson.h>

#include "fuzz.h"
#include "pages.h"
#include "sl/html.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static void check_utf8(const uint8_t *p, size_t n, const char *what)
{
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t bad = 0, len = sl_utf8_next(p + i, n - i, &cp, &bad);
        FUZZ_CHECK(len > 0, "%s: invalid UTF-8 at byte %zu", what, i);
        i += len;
    }
}

static size_t count(const uint8_t *p, size_t n, const char *needle)
{
    size_t k = strlen(needle), c = 0;

    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(p + i, needle, k) == 0)
            c++;
    return c;
}

static void check_escape(const uint8_t *data, size_t size)
{
    static const char *const ents[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&#39;",
                                        "&#9;", "&#10;", "&#13;" };
    sl_buf b;

    sl_buf_init(&b, 16 * size + 16);
    FUZZ_CHECK(sl_html_escape_attr(&b, data, size) == SL_OK, "escape failed");
    for (size_t i = 0; i < b.len; i++) {
        uint8_t c = b.data[i];
        FUZZ_CHECK(c != '<' && c != '>' && c != '"' && c != '\'', "raw %c at %zu", c, i);
        if (c == '&') {
            int known = 0;
            for (size_t e = 0; e < sizeof(ents) / sizeof(ents[0]); e++)
                known |= b.len - i >= strlen(ents[e]) &&
                         memcmp(b.data + i, ents[e], strlen(ents[e])) == 0;
            FUZZ_CHECK(known, "bare & at %zu", i);
        }
    }
    check_utf8(b.data, b.len, "escaped");
    sl_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *scan, *arr;
    size_t nf, pos = 1, revealed[8], nrev = 0;
    char *scan_text = NULL, *name = NULL;
    sl_buf b;
    rv_item_page m;
    int rc;

    check_escape(data, size);
    if (size < 1)
        return 0;
    nf = data[0] % 9;
    if (size < 1 + 5 * nf)
        return 0;
    scan = json_object();
    arr = json_array();
    if (!scan || !arr || json_object_set_new(scan, "findings", arr) != 0) {
        json_decref(scan);
        return 0;
    }
    for (size_t i = 0; i < nf; i++, pos += 5) {
        uint8_t fl = data[pos];
        json_int_t off = data[pos + 1] | data[pos + 2] << 8;
        json_int_t len = data[pos + 3] | data[pos + 4] << 8;
        if (fl & 4)
            off = -off - 1;
        if (fl & 8)
            len = INT64_MAX - len;
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}",
            "rule", "r<x>", "entity", "E\"", "kind", (fl & 1) ? "secret" : "pii",
            "severity", (fl & 16) ? "high" : "low", "source", "content",
            "offset", off, "length", len));
        if ((fl & 2) && nrev < 8)
            revealed[nrev++] = i;
    }
    scan_text = json_dumps(scan, JSON_COMPACT);
    json_decref(scan);
    name = fuzz_cstr(data + pos, size - pos);
    if (!scan_text || !name)
        goto out;
    memset(&m, 0, sizeof(m));
    m.s = (rv_viewer){ "mod", "moderator", "tok" };
    m.upload_id = name;
    m.filename = name;
    m.content = data + pos;
    m.content_len = size - pos;
    m.text = 1;
    m.findings_json = scan_text;
    m.revealed = revealed;
    m.n_revealed = nrev;
    m.meta_json = name;
    m.license_json = name;
    m.prov_json = name;
    m.state = "pending";
    sl_buf_init(&b, 64u << 20);
    rc = rv_page_item(&b, &m);
    FUZZ_CHECK(rc == SL_OK || rc == SL_ENOMEM, "rv_page_item: %d", rc);
    if (rc == SL_OK) {
        check_utf8(b.data, b.len, "page");
        FUZZ_CHECK(count(b.data, b.len, "<script") == 1, "<script count");
        FUZZ_CHECK(count(b.data, b.len, "<img") == 0, "an <img");
    }
    sl_buf_free(&b);
out:
    free(scan_text);
    free(name);
    return 0;
}
