/*
 * test_review_pages.c -- unit tests for services/review's renderers
 * (pages.c, highlight.c, chart.c): findings drawn over the content with
 * hostile offsets, secrets masked until revealed, every page escaping
 * hostile text (markup in a file name, metadata, ids, the CSRF token), the
 * URLs built from ids and the SVG chart.  Expected
 * fragments are literal.  Every page is also read back by a small tag
 * scanner: one <script> (app.js), no event handler or style attribute,
 * valid UTF-8 throughout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pages.h"
#include "sl/common.h"
#include "sl/html.h"
#include "sl/embed.h"
#include "ui_parts.h"

#define HOSTILE "<script>alert(1)</script><img src=x onerror=alert(2)>"
#define HOSTILE_ESC "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

/* Reads every start tag of the page and fails on an attribute named on*
 * or style, or on a <script> other than /static/app.js; and on invalid
 * UTF-8 anywhere. */
static void assert_inert(const char *page, size_t len)
{
    size_t i = 0;
    int scripts = 0;

    while (i < len) {
        uint32_t cp;
        size_t bad = 0, n = sl_utf8_next(page + i, len - i, &cp, &bad);
        if (n == 0)
            fail_msg("invalid UTF-8 at byte %zu", i);
        i += n;
    }
    for (i = 0; i < len; i++) {
        char tag[16];
        size_t t = 0;
        if (page[i] != '<' || i + 1 >= len || !(page[i + 1] >= 'a' && page[i + 1] <= 'z'))
            continue;
        i++;
        while (i < len && ((page[i] >= 'a' && page[i] <= 'z') || (page[i] >= '0' && page[i] <= '9')))
            if (t < sizeof(tag) - 1)
                tag[t++] = page[i++];
            else
                i++;
        tag[t] = '\0';
        if (strcmp(tag, "script") == 0) {
            scripts++;
            assert_memory_equal(page + i, " src=\"/static/app.js\" defer>", 28);
        }
        while (i < len && page[i] != '>') {
            char name[32];
            size_t k = 0;
            while (i < len && page[i] == ' ')
                i++;
            while (i < len && page[i] != '=' && page[i] != ' ' && page[i] != '>')
                if (k < sizeof(name) - 1)
                    name[k++] = page[i++];
                else
                    i++;
            name[k] = '\0';
            if (k) {
                if ((name[0] == 'o' && name[1] == 'n') || strcmp(name, "style") == 0)
                    fail_msg("attribute %s in <%s>", name, tag);
            }
            if (i < len && page[i] == '=') {
                char q;
                i++;
                q = page[i];
                if (q != '"')
                    fail_msg("unquoted attribute %s in <%s>", name, tag);
                i++;
                while (i < len && page[i] != q)
                    i++;
                i++;
            }
        }
    }
    assert_int_equal(scripts, 1);
}

static char *take(sl_buf *b)
{
    assert_int_equal(sl_buf_cstr(b), SL_OK);
    return (char *)b->data;
}

static void test_age_and_reasons(void **state)
{
    sl_buf b;

    (void)state;
    sl_buf_init(&b, 256);
    assert_int_equal(rv_fmt_age(&b, 45), SL_OK);
    assert_int_equal(sl_buf_putc(&b, '|'), SL_OK);
    assert_int_equal(rv_fmt_age(&b, 720), SL_OK);
    assert_int_equal(sl_buf_putc(&b, '|'), SL_OK);
    assert_int_equal(rv_fmt_age(&b, 3 * 3600 + 5 * 60 + 9), SL_OK);
    assert_int_equal(sl_buf_putc(&b, '|'), SL_OK);
    assert_int_equal(rv_fmt_age(&b, 2 * 86400 + 4 * 3600 + 59), SL_OK);
    assert_int_equal(sl_buf_putc(&b, '|'), SL_OK);
    assert_int_equal(rv_fmt_age(&b, -1), SL_OK);
    assert_string_equal(take(&b), "45s|12m|3h 5m|2d 4h|-");
    sl_buf_free(&b);
    assert_int_equal(rv_reason_valid("confirmed_pii"), 1);
    assert_int_equal(rv_reason_valid("other"), 1);
    assert_int_equal(rv_reason_valid("approve"), 0);
    assert_int_equal(rv_reason_valid(""), 0);
    assert_int_equal(rv_reason_valid(NULL), 0);
    /* text or not: the scan's category first, then the detected type */
    assert_int_equal(rv_content_is_text("{\"category\":\"text\"}", "image/png"), 1);
    assert_int_equal(rv_content_is_text("{\"category\":\"image\"}", "text/plain"), 0);
    assert_int_equal(rv_content_is_text("{\"category\":\"document\"}", NULL), 0);
    assert_int_equal(rv_content_is_text("{}", "text/csv"), 1);
    assert_int_equal(rv_content_is_text("not json", "text/plain"), 1);
    assert_int_equal(rv_content_is_text(NULL, "application/pdf"), 0);
    assert_int_equal(rv_content_is_text(NULL, NULL), 0);
}

/* Renders content with the scan JSON through the highlighter. */
static char *hl(const char *content, size_t n, const char *scan,
                const size_t *rev, size_t nrev, sl_buf *b)
{
    json_t *doc = json_loads(scan, 0, NULL);
    rv_finding *f = NULL;
    size_t nf = 0;
    sl_html h;

    assert_non_null(doc);
    assert_int_equal(rv_findings_read(doc, (const uint8_t *)content, n, rev, nrev, &f, &nf),
                     SL_OK);
    sl_buf_init(b, 1 << 16);
    sl_html_begin(&h, b);
    rv_highlight(&h, (const uint8_t *)content, n, f, nf);
    assert_int_equal(sl_html_end(&h), SL_OK);
    free(f);
    json_decref(doc);
    return take(b);
}

static void test_highlight_one(void **state)
{
    sl_buf b;

    (void)state;
    assert_string_equal(
        hl("call 555-1234 <now>", 19,
           "{\"findings\":[{\"rule\":\"phone\",\"entity\":\"PHONE\",\"kind\":\"pii\","
           "\"severity\":\"high\",\"source\":\"content\",\"offset\":5,\"length\":8}]}",
           NULL, 0, &b),
        "call <span class=\"flabel sev-high\" data-finding=\"0\">#0 phone \xC2\xB7 PHONE "
        "\xC2\xB7 high</span><mark class=\"finding sev-high\" data-findings=\"0\">555-1234"
        "</mark> &lt;now&gt;");
    sl_buf_free(&b);
}

/* Two overlapping spans: split at every start and end, each piece once. */
static void test_highlight_overlap(void **state)
{
    sl_buf b;

    (void)state;
    assert_string_equal(
        hl("abcdefgh", 8,
           "{\"findings\":[{\"rule\":\"r1\",\"entity\":\"E1\",\"severity\":\"low\",\"offset\":1,\"length\":4},"
           "{\"rule\":\"r2\",\"entity\":\"E2\",\"severity\":\"medium\",\"offset\":3,\"length\":4}]}",
           NULL, 0, &b),
        "a<span class=\"flabel sev-low\" data-finding=\"0\">#0 r1 \xC2\xB7 E1 \xC2\xB7 low</span>"
        "<mark class=\"finding sev-low\" data-findings=\"0\">bc</mark>"
        "<span class=\"flabel sev-medium\" data-finding=\"1\">#1 r2 \xC2\xB7 E2 \xC2\xB7 medium</span>"
        "<mark class=\"finding sev-medium\" data-findings=\"0 1\">de</mark>"
        "<mark class=\"finding sev-medium\" data-findings=\"1\">fg</mark>h");
    sl_buf_free(&b);
}

/* Offsets out of range, negative, huge, zero-length, not integers, and
 * inside a UTF-8 sequence: never a crash, never a cut character; only the
 * last (inside "é") is drawn, widened to the whole character. */
static void test_highlight_hostile_offsets(void **state)
{
    sl_buf b;
    const char *c = "x\xC3\xA9y<";   /* x é y < */
    json_t *doc;
    rv_finding *f;
    size_t nf;

    (void)state;
    assert_string_equal(
        hl(c, 5,
           "{\"findings\":[{\"rule\":\"a\",\"offset\":99,\"length\":1},"
           "{\"rule\":\"b\",\"offset\":-1,\"length\":3},"
           "{\"rule\":\"c\",\"offset\":0,\"length\":0},"
           "{\"rule\":\"d\",\"offset\":\"0\",\"length\":1},"
           "{\"rule\":\"e\",\"offset\":2,\"length\":1}, 7, null]}",
           NULL, 0, &b),
        "x<span class=\"flabel sev-unknown\" data-finding=\"4\">#4 e \xC2\xB7 ? \xC2\xB7 ?"
        "</span><mark class=\"finding sev-unknown\" data-findings=\"4\">\xC3\xA9</mark>y&lt;");
    sl_buf_free(&b);

    /* a length running past the end is cut at the end, not wrapped */
    assert_string_equal(
        hl("ab", 2, "{\"findings\":[{\"rule\":\"z\",\"offset\":1,"
                    "\"length\":9223372036854775807}]}", NULL, 0, &b),
        "a<span class=\"flabel sev-unknown\" data-finding=\"0\">#0 z \xC2\xB7 ? \xC2\xB7 ?"
        "</span><mark class=\"finding sev-unknown\" data-findings=\"0\">b</mark>");
    sl_buf_free(&b);

    doc = json_loads("{\"findings\":[{\"offset\":99,\"length\":1},{\"offset\":0,\"length\":0}]}",
                     0, NULL);
    assert_int_equal(rv_findings_read(doc, (const uint8_t *)c, 5, NULL, 0, &f, &nf), SL_OK);
    assert_int_equal(nf, 2);
    assert_string_equal(f[0].note, "outside the content");
    assert_string_equal(f[1].note, "empty span");
    free(f);
    json_decref(doc);
    /* no findings array at all: nothing, SL_OK */
    doc = json_loads("{\"outcome\":\"flagged\"}", 0, NULL);
    assert_int_equal(rv_findings_read(doc, (const uint8_t *)c, 5, NULL, 0, &f, &nf), SL_OK);
    assert_int_equal(nf, 0);
    assert_null(f);
    json_decref(doc);
}

#define SECRET_SCAN "{\"findings\":[{\"rule\":\"aws_key\",\"entity\":\"AWS_KEY\"," \
    "\"kind\":\"secret\",\"severity\":\"high\",\"offset\":4,\"length\":8}]}"

static void test_highlight_secret(void **state)
{
    sl_buf b;
    size_t rev = 0;

    (void)state;
    assert_string_equal(
        hl("key=AKIA1234 end", 16, SECRET_SCAN, NULL, 0, &b),
        "key=<span class=\"flabel sev-high\" data-finding=\"0\">#0 aws_key \xC2\xB7 AWS_KEY "
        "\xC2\xB7 high \xC2\xB7 secret</span><span class=\"masked\" data-finding=\"0\">"
        "[secret hidden]</span> end");
    sl_buf_free(&b);
    assert_string_equal(
        hl("key=AKIA1234 end", 16, SECRET_SCAN, &rev, 1, &b),
        "key=<span class=\"flabel sev-high\" data-finding=\"0\">#0 aws_key \xC2\xB7 AWS_KEY "
        "\xC2\xB7 high \xC2\xB7 secret, revealed</span><mark class=\"finding sev-high\" "
        "data-findings=\"0\">AKIA1234</mark> end");
    sl_buf_free(&b);
}

static const rv_decision_row DECISIONS[] = {
    { 7, "approve", "false_positive", HOSTILE, "mod<b>", 1764732000000 },
};

static rv_item_page hostile_item(void)
{
    static const char content[] = "hello " HOSTILE " key=AKIASECRET99 bye";
    static char scan[512];
    rv_item_page m;

    snprintf(scan, sizeof(scan),
             "{\"outcome\":\"flagged\",\"findings_total\":3,\"findings\":["
             "{\"rule\":\"<b>r</b>\",\"entity\":\"E\\\"\",\"kind\":\"pii\",\"severity\":\"low\","
             "\"source\":\"content\",\"offset\":6,\"length\":8,\"validated\":true,\"action\":\"flag\"},"
             "{\"rule\":\"aws_key\",\"entity\":\"AWS\",\"kind\":\"secret\",\"severity\":\"high\","
             "\"source\":\"content\",\"offset\":%zu,\"length\":12,\"validated\":false,"
             "\"action\":\"flag\"}]}",
             strlen("hello " HOSTILE " key="));
    memset(&m, 0, sizeof(m));
    m.s = (rv_viewer){ "ann<i>", "lead", "tok\"en<" };
    m.upload_id = "up/1?\"<x>";
    m.dataset_id = HOSTILE;
    m.creator_id = "c1";
    m.declared_type = "text/plain";
    m.detected_type = "text/plain";
    m.filename = HOSTILE ".txt";
    m.sha256 = "ab12";
    m.size = (int64_t)strlen(content);
    m.created_at_ms = 1764730000000;
    m.flagged_at_ms = 1764731000000;
    m.content = (const uint8_t *)content;
    m.content_len = strlen(content);
    m.text = 1;
    m.findings_json = scan;
    m.meta_json = "{\"title\":\"" "<img src=x onerror=alert(3)>" "\",\"tags\":[\"<a>\"]}";
    m.license_json = "CC-BY-4.0 <b>";
    m.prov_json = "[{\"event\":\"{\\\"outcome\\\":\\\"flagged\\\",\\\"seq\\\":2,"
                  "\\\"stage\\\":\\\"scan\\\",\\\"reason\\\":\\\"<script>\\\"}\","
                  "\"hash\":\"ffee\"},{\"event\":\"not json <b>\",\"hash\":\"00\"}]";
    m.state = "pending";
    m.lease_until_ms = 1764732600000;
    m.shown_sha256 = "ab12";
    m.decisions = DECISIONS;
    m.n_decisions = 1;
    return m;
}

static void test_item_hostile(void **state)
{
    rv_item_page m = hostile_item();
    sl_buf b;
    char *p;

    (void)state;
    sl_buf_init(&b, 1 << 20);
    assert_int_equal(rv_page_item(&b, &m), SL_OK);
    p = take(&b);
    assert_inert(p, b.len);
    /* the CSRF token, escaped, in the meta tag and the form */
    assert_non_null(strstr(p, "<meta name=\"csrf-token\" content=\"tok&quot;en&lt;\">"));
    assert_non_null(strstr(p, "<input type=\"hidden\" name=\"csrf\" value=\"tok&quot;en&lt;\">"));
    /* URLs from the id: percent-encoded */
    assert_non_null(strstr(p, "action=\"/items/up%2F1%3F%22%3Cx%3E/decide\""));
    assert_non_null(strstr(p, "href=\"/items/up%2F1%3F%22%3Cx%3E/raw\" download=\"\""));
    assert_non_null(strstr(p, "action=\"/items/up%2F1%3F%22%3Cx%3E/reveal\""));
    /* the file name and the content's markup render as text */
    assert_non_null(strstr(p, "<dt>File name</dt><dd>" HOSTILE_ESC ".txt</dd>"));
    assert_non_null(strstr(p, "</mark>alert(1)&lt;/script&gt;&lt;img src=x "
                              "onerror=alert(2)&gt; key=<span class=\"flabel sev-high\""));
    assert_int_equal(count(p, "<img"), 0);
    /* the secret is masked: its bytes are nowhere on the page */
    assert_null(strstr(p, "AKIASECRET99"));
    assert_non_null(strstr(p, "<span class=\"masked\" data-finding=\"1\">[secret hidden]</span> bye"));
    /* the first finding's label and span (rule name with markup escaped) */
    assert_non_null(strstr(p, "#0 &lt;b&gt;r&lt;/b&gt; \xC2\xB7 E&quot; \xC2\xB7 low</span>"
                              "<mark class=\"finding sev-low\" data-findings=\"0\">&lt;script&gt;</mark>"));
    /* metadata, license and provenance as text */
    assert_non_null(strstr(p, "<dt>title</dt><dd>&lt;img src=x onerror=alert(3)&gt;</dd>"));
    assert_non_null(strstr(p, "<dt>tags</dt><dd>[&quot;&lt;a&gt;&quot;]</dd>"));
    assert_non_null(strstr(p, "<pre class=\"kv license\">CC-BY-4.0 &lt;b&gt;</pre>"));
    assert_non_null(strstr(p, "<td>2</td><td>scan</td><td>flagged</td><td>&lt;script&gt;</td>"));
    assert_non_null(strstr(p, "<td colspan=\"6\" class=\"raw-json\">not json &lt;b&gt;</td>"));
    assert_non_null(strstr(p, "3 findings in all; the scanner listed the first 2."));
    /* the fixed reasons, the decision buttons, the dialog */
    assert_non_null(strstr(p, "<option value=\"confirmed_secret\">Confirmed secret</option>"));
    assert_non_null(strstr(p, "<button type=\"submit\" name=\"action\" value=\"redact\""));
    assert_non_null(strstr(p, "<input type=\"hidden\" name=\"shown_sha256\" value=\"ab12\">"));
    assert_non_null(strstr(p, "<dialog id=\"reason-dialog\""));
    assert_non_null(strstr(p, "<td>mod&lt;b&gt;</td><td>approve</td><td>false_positive</td>"));
    assert_non_null(strstr(p, "<span class=\"user\">ann&lt;i&gt;</span>"));
    sl_buf_free(&b);
}

/* Binary content is never inline; a decided item has no decision form
 * (a lead gets the reverse button); someone else's lease disables it. */
static void test_item_binary_and_states(void **state)
{
    rv_item_page m = hostile_item();
    sl_buf b;
    char *p;

    (void)state;
    m.text = 0;
    m.detected_type = "image/png";
    m.state = "approved";
    sl_buf_init(&b, 1 << 20);
    assert_int_equal(rv_page_item(&b, &m), SL_OK);
    p = take(&b);
    assert_inert(p, b.len);
    assert_null(strstr(p, "<pre id=\"content\""));
    assert_null(strstr(p, "hello"));
    assert_non_null(strstr(p, "<p class=\"binary\">Not shown inline: image/png, "));
    /* a raster image: previewed from its own route, the download kept */
    assert_non_null(strstr(p, "<img class=\"preview\" alt=\"image preview\" "
                              "src=\"/items/up%2F1%3F%22%3Cx%3E/preview\">"));
    assert_non_null(strstr(p, "href=\"/items/up%2F1%3F%22%3Cx%3E/raw\""));
    assert_null(strstr(p, "id=\"decide-form\""));
    assert_non_null(strstr(p, "<p class=\"decided\">This item is approved.</p>"));
    assert_non_null(strstr(p, "data-url=\"/api/items/up%2F1%3F%22%3Cx%3E/reverse\""));
    /* not shown inline: no reveal forms either */
    assert_null(strstr(p, "class=\"reveal-form\""));
    sl_buf_free(&b);

    /* SVG (script-capable) is never previewed */
    m.detected_type = "image/svg+xml";
    sl_buf_init(&b, 1 << 20);
    assert_int_equal(rv_page_item(&b, &m), SL_OK);
    p = take(&b);
    assert_null(strstr(p, "/preview"));
    sl_buf_free(&b);

    m = hostile_item();
    m.s.role = "moderator";
    m.lease_holder = "bob<";
    sl_buf_init(&b, 1 << 20);
    assert_int_equal(rv_page_item(&b, &m), SL_OK);
    p = take(&b);
    assert_null(strstr(p, "id=\"decide-form\""));
    assert_null(strstr(p, "class=\"reverse\""));
    assert_non_null(strstr(p, "<p class=\"decided\">Claimed by bob&lt;: you cannot decide it now.</p>"));
    sl_buf_free(&b);

    /* a scan result that is not JSON: said so, no spans, still a page */
    m = hostile_item();
    m.findings_json = "{not json";
    sl_buf_init(&b, 1 << 20);
    assert_int_equal(rv_page_item(&b, &m), SL_OK);
    p = take(&b);
    assert_inert(p, b.len);
    assert_non_null(strstr(p, "The stored scan result is not a JSON object"));
    assert_null(strstr(p, "<mark"));
    sl_buf_free(&b);

    /* a chain given as canonical texts (the stored events) */
    m = hostile_item();
    m.prov_json = "[\"{\\\"outcome\\\":\\\"approved\\\",\\\"seq\\\":4,"
                  "\\\"stage\\\":\\\"review\\\",\\\"actor\\\":\\\"ann<i>\\\"}\"]";
    sl_buf_init(&b, 1 << 20);
    assert_int_equal(rv_page_item(&b, &m), SL_OK);
    p = take(&b);
    assert_non_null(strstr(p, "<tr><td>4</td><td>review</td><td>approved</td><td></td><td></td>"
                              "<td>ann&lt;i&gt;</td><td class=\"hash\"></td></tr>"));
    sl_buf_free(&b);

    /* a page over the cap: SL_ETOOBIG */
    m = hostile_item();
    sl_buf_init(&b, 512);
    assert_int_equal(rv_page_item(&b, &m), SL_ETOOBIG);
    sl_buf_free(&b);
    assert_int_equal(rv_page_item(NULL, &m), SL_EINVAL);
}

static void test_queue(void **state)
{
    const rv_queue_row rows[] = {
        { "u-1", 90, "ds1", "cr1", "text/plain", NULL, "email,phone", "high", NULL },
        { "a/b?\"<x>", 200000, HOSTILE, "cr<2>", "image/png", "image/png", "aws_key", "low", "bob" },
    };
    rv_queue_page m = {
        .s = { "ann", "moderator", "t0k" },
        .filters = { .dataset = "ds 1&x", .rule = NULL, .creator = "", .type = "text/plain" },
        .rows = rows, .n_rows = 2, .next_cursor = "2026-12-03T10:00:00Z|u-9", .pending = 1234,
    };
    sl_buf b;
    char *p;

    (void)state;
    sl_buf_init(&b, 1 << 20);
    assert_int_equal(rv_page_queue(&b, &m), SL_OK);
    p = take(&b);
    assert_inert(p, b.len);
    assert_non_null(strstr(p, "<body data-page=\"queue\">"));
    assert_non_null(strstr(p, "<p class=\"count\">1234 pending</p>"));
    assert_non_null(strstr(p,
        "<tr class=\"row sev-high\" data-href=\"/items/u-1\"><td class=\"age\">1m</td>"
        "<td class=\"id\"><a class=\"open\" href=\"/items/u-1\">u-1</a></td><td>ds1</td>"
        "<td>cr1</td><td>text/plain</td><td>-</td><td class=\"rules\">email,phone</td>"
        "<td class=\"sev\">high</td></tr>"));
    assert_non_null(strstr(p,
        "<tr class=\"row sev-low\" data-href=\"/items/a%2Fb%3F%22%3Cx%3E\"><td class=\"age\">"
        "2d 7h</td><td class=\"id\"><a class=\"open\" href=\"/items/a%2Fb%3F%22%3Cx%3E\">"
        "a/b?&quot;&lt;x&gt;</a> <span class=\"claimed\">claimed by bob</span></td><td>"
        HOSTILE_ESC "</td><td>cr&lt;2&gt;</td>"));
    assert_non_null(strstr(p, "<input type=\"text\" id=\"f-dataset\" name=\"dataset\" "
                              "value=\"ds 1&amp;x\" maxlength=\"200\">"));
    assert_non_null(strstr(p, "<a id=\"next-page\" rel=\"next\" class=\"next\" href=\""
                              "/queue?dataset=ds%201%26x&amp;type=text%2Fplain&amp;after="
                              "2026-12-03T10%3A00%3A00Z%7Cu-9\">"));
    assert_non_null(strstr(p, "<div id=\"help\" class=\"overlay\" hidden"));
    sl_buf_free(&b);

    /* empty, last page */
    m.n_rows = 0;
    m.next_cursor = NULL;
    sl_buf_init(&b, 1 << 20);
    assert_int_equal(rv_page_queue(&b, &m), SL_OK);
    p = take(&b);
    assert_non_null(strstr(p, "Nothing pending here."));
    assert_null(strstr(p, "next-page"));
    sl_buf_free(&b);
}

static void test_overview_and_chart(void **state)
{
    const rv_day_count rules[] = {
        { "email", 0, 4 }, { "email", 1, 2 }, { "<script>", 0, 2 },
        { "late", 30, 5 }, { "neg", 3, -1 }, { NULL, 2, 1 },
    };
    const rv_count reasons[] = { { "false_positive", 3 }, { "<b>x", 1 } };
    rv_overview_page m = {
        .s = { "ann", "lead", "t" }, .pending = 12, .oldest_age_s = 7200,
        .today = "2026-12-03",
        .flags_per_rule_day = rules, .n_flags_per_rule_day = 6,
        .decisions_per_reason = reasons, .n_decisions_per_reason = 2,
        .median_decision_s = 95,
    };
    sl_buf b;
    char *p;

    (void)state;
    sl_buf_init(&b, 1 << 20);
    assert_int_equal(rv_page_overview(&b, &m), SL_OK);
    p = take(&b);
    assert_inert(p, b.len);
    assert_non_null(strstr(p, "<dd id=\"ov-pending\">12</dd>"));
    assert_non_null(strstr(p, "<dd id=\"ov-oldest\">2h 0m</dd>"));
    assert_non_null(strstr(p, "<dd id=\"ov-median\">1m</dd>"));
    assert_non_null(strstr(p, "data-poll=\"/api/overview\""));
    /* today: 6 flags, the tallest bar (full height); email (4) below
     * <script> (2); the bar's x is 44 + 29 * 590/30 + 2 */
    assert_non_null(strstr(p, "<rect class=\"k0\" x=\"616.3\" y=\"58.7\" width=\"15.7\" "
                              "height=\"97.3\"><title>email: 4, today</title></rect>"));
    assert_non_null(strstr(p, "<rect class=\"k1\" x=\"616.3\" y=\"10.0\" width=\"15.7\" "
                              "height=\"48.7\"><title>&lt;script&gt;: 2, today</title></rect>"));
    assert_non_null(strstr(p, "<title>email: 2, yesterday</title>"));
    assert_non_null(strstr(p, "<li><span class=\"swatch k0\"></span>email (6)</li>"
                              "<li><span class=\"swatch k1\"></span>&lt;script&gt; (2)</li></ul>"));
    assert_null(strstr(p, "late"));
    assert_null(strstr(p, "neg"));
    assert_non_null(strstr(p, "<figure id=\"chart-dataset\" class=\"chart-fig\" data-live=\"\">"));
    assert_non_null(strstr(p, "no flags in the last 30 days"));
    assert_non_null(strstr(p, "<tr><td>&lt;b&gt;x</td><td class=\"num\">1</td></tr>"));
    sl_buf_free(&b);
}

static void test_login_and_error(void **state)
{
    rv_login_page l = { .csrf = "c<", .error = "wrong name or password <b>", .username = "x\"y" };
    rv_error_page e = { .status = 404, .code = "not_found", .detail = "no item " HOSTILE };
    sl_buf b;
    char *p;

    (void)state;
    sl_buf_init(&b, 1 << 16);
    assert_int_equal(rv_page_login(&b, &l), SL_OK);
    p = take(&b);
    assert_inert(p, b.len);
    assert_non_null(strstr(p, "<meta name=\"csrf-token\" content=\"c&lt;\">"));
    assert_non_null(strstr(p, "<form method=\"post\" action=\"/login\" class=\"login-form\">"
                              "<input type=\"hidden\" name=\"csrf\" value=\"c&lt;\">"));
    assert_non_null(strstr(p, "<p class=\"error\" role=\"alert\">wrong name or password &lt;b&gt;</p>"));
    assert_non_null(strstr(p, "name=\"username\" autocomplete=\"username\" required=\"required\" "
                              "maxlength=\"64\" value=\"x&quot;y\">"));
    assert_non_null(strstr(p, "name=\"password\" autocomplete=\"current-password\""));
    sl_buf_free(&b);

    sl_buf_init(&b, 1 << 16);
    assert_int_equal(rv_page_error(&b, &e), SL_OK);
    p = take(&b);
    assert_inert(p, b.len);
    assert_non_null(strstr(p, "<h1 class=\"error\">404 not_found</h1>"
                              "<p class=\"detail\">no item " HOSTILE_ESC "</p>"));
    assert_non_null(strstr(p, "<meta name=\"csrf-token\" content=\"\">"));
    assert_null(strstr(p, "action=\"/logout\""));   /* no session, no logout */
    sl_buf_free(&b);
}

/* app.js and app.css are compiled into sl_core, found by base name. */
static void test_static_files(void **state)
{
    const sl_embedded *js = sl_embed_get("app.js"), *css = sl_embed_get("app.css");

    (void)state;
    assert_non_null(js);
    assert_non_null(css);
    assert_memory_equal(js->data, "/*\n * app.js -- ", 16);
    assert_memory_equal(css->data, "/* app.css -- ", 14);
    assert_int_equal(js->data[js->len], '\0');
    assert_null(sl_embed_get("../app.js"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_age_and_reasons),
        cmocka_unit_test(test_highlight_one),
        cmocka_unit_test(test_highlight_overlap),
        cmocka_unit_test(test_highlight_hostile_offsets),
        cmocka_unit_test(test_highlight_secret),
        cmocka_unit_test(test_item_hostile),
        cmocka_unit_test(test_item_binary_and_states),
        cmocka_unit_test(test_queue),
        cmocka_unit_test(test_overview_and_chart),
        cmocka_unit_test(test_login_and_error),
        cmocka_unit_test(test_static_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
