/*
 * render_fixtures.c -- renders every review page with hostile fixtures to
 * HTML files, for the browser test (tests/browser/pages.test.js) to load
 * in a real chromium behind the dashboard's CSP.
 *
 * The fixtures carry what a flagged sample can: text and a file name with
 * <script> and <img src=x onerror=...> (each payload would set
 * window.__xss and call alert() if it ran), metadata with markup, findings
 * whose offsets are out of range, zero-length, overlapping and inside a
 * UTF-8 character, and a secret that must stay masked.  The page markup
 * is the renderers' (services/review/pages.c), byte for byte.
 *
 * usage: render_fixtures OUTDIR
 * writes login.html queue.html item.html item_decided.html item_binary.html
 * overview.html error.html
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pages.h"
#include "sl/common.h"

#define XSS_SCRIPT "<script>window.__xss=1;alert(1)</script>"
#define XSS_IMG "<img src=x onerror=\"window.__xss=2;alert(2)\">"
#define CSRF "csrf-fixture-token"

static const char CONTENT[] =
    "Dear team,\n"
    "my card is 4111 1111 1111 1111 and " XSS_SCRIPT "\n"
    XSS_IMG "\n"
    "caf\xC3\xA9 key=AKIAIOSFODNN7EXAMPLE end\n";

static int write_file(const char *dir, const char *name, const sl_buf *b)
{
    char path[4096];
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (!(f = fopen(path, "wb"))) {
        perror(path);
        return -1;
    }
    n = fwrite(b->data, 1, b->len, f);
    if (fclose(f) != 0 || n != b->len) {
        perror(path);
        return -1;
    }
    return 0;
}

typedef int (*render_fn)(sl_buf *, const void *);

static int emit(const char *dir, const char *name, int rc, sl_buf *b)
{
    if (rc != SL_OK) {
        fprintf(stderr, "render_fixtures: %s: %s\n", name, sl_strerror(rc));
        return -1;
    }
    rc = write_file(dir, name, b);
    sl_buf_reset(b);
    return rc;
}

static size_t off_of(const char *needle)
{
    const char *p = strstr(CONTENT, needle);

    if (!p) {
        fprintf(stderr, "render_fixtures: %s not in the content\n", needle);
        exit(1);
    }
    return (size_t)(p - CONTENT);
}

int main(int argc, char **argv)
{
    static char scan[2048];
    sl_buf b;
    int fail = 0;
    const rv_viewer s = { "ann<b>lead</b>", "lead", CSRF };

    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
        return 2;
    }
    sl_buf_init(&b, 8u << 20);

    {
        rv_login_page m = { .csrf = CSRF, .error = "wrong name or password " XSS_IMG,
                       .username = XSS_SCRIPT };
        fail |= emit(argv[1], "login.html", rv_page_login(&b, &m), &b);
    }
    {
        const rv_queue_row rows[] = {
            { "up-0001", 4000, "ds-photos", "creator-1", "text/plain", "text/plain",
              "credit_card,aws_access_key", "high", NULL },
            { "up-<0002>", 90000, XSS_SCRIPT, XSS_IMG, "image/png", "text/html",
              "email", "medium", "bob" },
            { "up-0003", 30, "ds-text", "creator-3", "text/plain", NULL, "phone", "low", NULL },
        };
        rv_queue_page m = { .s = s, .filters = { .dataset = XSS_IMG }, .rows = rows, .n_rows = 3,
                       .next_cursor = "cursor-2", .pending = 3 };
        fail |= emit(argv[1], "queue.html", rv_page_queue(&b, &m), &b);
    }
    {
        size_t card = off_of("4111"), key = off_of("AKIA"), e = off_of("\xC3\xA9");
        const size_t revealed[] = { 99 };
        rv_item_page m;

        snprintf(scan, sizeof(scan),
                 "{\"outcome\":\"flagged\",\"findings_total\":6,\"findings\":["
                 "{\"rule\":\"credit_card\",\"entity\":\"CREDIT_CARD\",\"kind\":\"pii\","
                 "\"severity\":\"high\",\"source\":\"content\",\"offset\":%zu,\"length\":19,"
                 "\"validated\":true,\"action\":\"flag\"},"
                 "{\"rule\":\"digits<script>\",\"entity\":\"X\",\"kind\":\"pii\",\"severity\":\"low\","
                 "\"source\":\"content\",\"offset\":%zu,\"length\":9,\"validated\":false,"
                 "\"action\":\"flag\"},"
                 "{\"rule\":\"aws_access_key\",\"entity\":\"AWS_KEY\",\"kind\":\"secret\","
                 "\"severity\":\"high\",\"source\":\"content\",\"offset\":%zu,\"length\":20,"
                 "\"validated\":false,\"action\":\"flag\"},"
                 "{\"rule\":\"split_utf8\",\"entity\":\"E\",\"kind\":\"pii\",\"severity\":\"medium\","
                 "\"source\":\"content\",\"offset\":%zu,\"length\":1},"
                 "{\"rule\":\"out_of_range\",\"entity\":\"E\",\"kind\":\"pii\",\"severity\":\"low\","
                 "\"source\":\"content\",\"offset\":1000000,\"length\":5},"
                 "{\"rule\":\"empty\",\"entity\":\"E\",\"kind\":\"pii\",\"severity\":\"low\","
                 "\"source\":\"content\",\"offset\":3,\"length\":0}]}",
                 card, card + 15, key, e + 1);
        memset(&m, 0, sizeof(m));
        m.s = s;
        m.s.role = "moderator";
        m.upload_id = "up-0001";
        m.dataset_id = "ds-photos";
        m.creator_id = "creator-1";
        m.declared_type = "text/plain";
        m.detected_type = "text/plain";
        m.filename = XSS_SCRIPT XSS_IMG ".txt";
        m.sha256 = "5e1b6d1c0e6f4b0a9f1d2c3b4a5968778695a4b3c2d1e0f1a2b3c4d5e6f70819";
        m.size = (int64_t)strlen(CONTENT);
        m.created_at_ms = 1764750000000;
        m.flagged_at_ms = 1764750600000;
        m.content = (const uint8_t *)CONTENT;
        m.content_len = strlen(CONTENT);
        m.text = 1;
        m.findings_json = scan;
        m.revealed = revealed;       /* an index past the list: ignored */
        m.n_revealed = 1;
        m.meta_json = "{\"title\":\"" "<img src=x onerror=\\\"window.__xss=3\\\">" "\","
                      "\"description\":\"<script>window.__xss=4</script>\","
                      "\"license\":\"CC-BY-4.0\",\"tags\":[\"<b>bold</b>\"]}";
        m.license_json = "{\"expression\":\"CC-BY-4.0\",\"terms_url\":"
                         "\"javascript:window.__xss=5\"}";
        m.prov_json = "[{\"event\":\"{\\\"outcome\\\":\\\"accepted\\\",\\\"seq\\\":1,"
                      "\\\"stage\\\":\\\"validate\\\",\\\"time\\\":\\\"2026-12-03T10:00:00.000Z\\\"}\","
                      "\"hash\":\"aa11\"},{\"event\":\"{\\\"outcome\\\":\\\"flagged\\\",\\\"seq\\\":2,"
                      "\\\"stage\\\":\\\"scan\\\",\\\"reason\\\":\\\"<img src=x onerror=alert(6)>\\\"}\","
                      "\"hash\":\"bb22\"}]";
        m.state = "pending";
        m.lease_until_ms = 1764751200000;
        m.shown_sha256 = m.sha256;
        fail |= emit(argv[1], "item.html", rv_page_item(&b, &m), &b);

        /* decided, seen by a lead: the reverse button and its dialog */
        m.s.role = "lead";
        m.state = "approved";
        m.lease_until_ms = 0;
        fail |= emit(argv[1], "item_decided.html", rv_page_item(&b, &m), &b);

        m.s.role = "moderator";
        m.state = "pending";
        m.text = 0;
        m.upload_id = "up-<0002>";
        m.declared_type = "image/png";
        m.detected_type = "text/html";
        fail |= emit(argv[1], "item_binary.html", rv_page_item(&b, &m), &b);
    }
    {
        const rv_day_count rules[] = {
            { "credit_card", 0, 4 }, { "email", 0, 2 }, { "credit_card", 1, 3 },
            { XSS_SCRIPT, 5, 2 }, { "phone", 12, 7 },
        };
        const rv_day_count datasets[] = { { "ds-photos", 0, 6 }, { XSS_IMG, 3, 1 } };
        const rv_count reasons[] = { { "false_positive", 3 }, { "confirmed_pii", 1 } };
        rv_overview_page m = {
            .s = s, .pending = 3, .oldest_age_s = 90000, .today = "2026-12-03",
            .flags_per_rule_day = rules, .n_flags_per_rule_day = 5,
            .flags_per_dataset_day = datasets, .n_flags_per_dataset_day = 2,
            .decisions_per_reason = reasons, .n_decisions_per_reason = 2,
            .median_decision_s = 420,
        };
        fail |= emit(argv[1], "overview.html", rv_page_overview(&b, &m), &b);
    }
    {
        rv_error_page m = { .s = s, .status = 404, .code = "not_found",
                       .detail = "no review item " XSS_SCRIPT XSS_IMG };
        fail |= emit(argv[1], "error.html", rv_page_error(&b, &m), &b);
    }
    sl_buf_free(&b);
    return fail ? 1 : 0;
}
