/*
 * view.c -- the pages of sluice-review, one function per page, each
 * writing a whole HTML document into an sl_buf from the data the handlers
 * read.  A minimal rendering: every string from outside is HTML-escaped,
 * masked secret spans stay masked, no inline script or style (the CSP
 * forbids them).  At merge these functions become thin adapters onto ui's
 * renderer (services/review/pages.h: rv_page_login, rv_page_queue,
 * rv_page_item, rv_page_overview, rv_page_error), which owns the real
 * layout, highlighting and charts.
 */
#include <stdio.h>
#include <string.h>

#include "review.h"

/* Appends s (n bytes) HTML-escaped; bytes < 0x20 other than newline and
 * tab become U+FFFD so the page stays text. */
static int esc_n(sl_buf *b, const char *s, size_t n)
{
    int rc = SL_OK;

    for (size_t i = 0; i < n && rc == SL_OK; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '&': rc = sl_buf_append(b, "&amp;", 5); break;
        case '<': rc = sl_buf_append(b, "&lt;", 4); break;
        case '>': rc = sl_buf_append(b, "&gt;", 4); break;
        case '"': rc = sl_buf_append(b, "&quot;", 6); break;
        case '\'': rc = sl_buf_append(b, "&#39;", 5); break;
        default:
            if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
                rc = sl_buf_append(b, "\xef\xbf\xbd", 3);
            else
                rc = sl_buf_putc(b, (char)c);
        }
    }
    return rc;
}

static int esc(sl_buf *b, const char *s)
{
    return s ? esc_n(b, s, strlen(s)) : SL_OK;
}

static int head(sl_buf *b, const char *title, const char *csrf)
{
    int rc = sl_buf_appendf(b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                            "<title>");
    if (rc == SL_OK) rc = esc(b, title);
    if (rc == SL_OK) rc = sl_buf_appendf(b, " - sluice review</title><meta name=\"csrf-token\" content=\"");
    if (rc == SL_OK) rc = esc(b, csrf ? csrf : "");
    if (rc == SL_OK) rc = sl_buf_appendf(b, "\"><link rel=\"stylesheet\" href=\"/static/app.css\">"
                                         "<script src=\"/static/app.js\" defer></script></head><body>");
    return rc;
}

static int nav(sl_buf *b, const rv_session *s)
{
    int rc = sl_buf_appendf(b, "<nav><a href=\"/\">Overview</a> <a href=\"/queue\">Queue</a> "
                            "<span class=\"user\">");
    if (rc == SL_OK) rc = esc(b, s->user);
    if (rc == SL_OK) rc = sl_buf_appendf(b, " (");
    if (rc == SL_OK) rc = esc(b, s->role);
    if (rc == SL_OK) rc = sl_buf_appendf(b, ")</span><form method=\"post\" action=\"/logout\">"
                                         "<input type=\"hidden\" name=\"csrf\" value=\"");
    if (rc == SL_OK) rc = esc(b, s->csrf);
    if (rc == SL_OK) rc = sl_buf_appendf(b, "\"><button>Log out</button></form></nav>");
    return rc;
}

static int tail(sl_buf *b)
{
    return sl_buf_appendf(b, "</body></html>\n");
}

int rv_view_login(sl_buf *out, const char *csrf, const char *error, const char *username)
{
    int rc = head(out, "Log in", csrf);

    if (rc == SL_OK) rc = sl_buf_appendf(out, "<main><h1>sluice review</h1>");
    if (rc == SL_OK && error) {
        rc = sl_buf_appendf(out, "<p class=\"error\" role=\"alert\">");
        if (rc == SL_OK) rc = esc(out, error);
        if (rc == SL_OK) rc = sl_buf_appendf(out, "</p>");
    }
    if (rc == SL_OK) rc = sl_buf_appendf(out, "<form method=\"post\" action=\"/login\">"
        "<input type=\"hidden\" name=\"csrf\" value=\"");
    if (rc == SL_OK) rc = esc(out, csrf);
    if (rc == SL_OK) rc = sl_buf_appendf(out, "\"><label>User <input name=\"username\" "
        "autocomplete=\"username\" value=\"");
    if (rc == SL_OK) rc = esc(out, username ? username : "");
    if (rc == SL_OK) rc = sl_buf_appendf(out, "\"></label><label>Password <input name=\"password\" "
        "type=\"password\" autocomplete=\"current-password\"></label>"
        "<button>Log in</button></form></main>");
    if (rc == SL_OK) rc = tail(out);
    return rc;
}

int rv_view_queue(sl_buf *out, const rv_session *s, const rv_filter *f, const json_t *queue)
{
    const json_t *items = json_object_get(queue, "items"), *it;
    const char *next = json_string_value(json_object_get(queue, "next"));
    size_t i;
    int rc = head(out, "Queue", s->csrf);

    (void)f;
    if (rc == SL_OK) rc = nav(out, s);
    if (rc == SL_OK) rc = sl_buf_appendf(out, "<main><h1>Queue</h1><table class=\"queue\"><thead><tr>"
        "<th>Upload</th><th>Age (s)</th><th>Dataset</th><th>Creator</th><th>Declared</th>"
        "<th>Detected</th><th>Rules</th><th>Severity</th><th>State</th></tr></thead><tbody>");
    json_array_foreach(items, i, it) {
        const char *cols[] = { "dataset_id", "creator_id", "declared_type", "detected_type",
                               "rules", "severity", "state" };
        const char *id = json_string_value(json_object_get(it, "upload_id"));
        if (rc == SL_OK) rc = sl_buf_appendf(out, "<tr><td><a href=\"/items/");
        if (rc == SL_OK) rc = esc(out, id);
        if (rc == SL_OK) rc = sl_buf_appendf(out, "\">");
        if (rc == SL_OK) rc = esc(out, id);
        if (rc == SL_OK) rc = sl_buf_appendf(out, "</a></td><td>%lld</td>",
            (long long)json_integer_value(json_object_get(it, "age_s")));
        for (size_t c = 0; c < sizeof cols / sizeof cols[0] && rc == SL_OK; c++) {
            rc = sl_buf_appendf(out, "<td>");
            if (rc == SL_OK) rc = esc(out, json_string_value(json_object_get(it, cols[c])));
            if (rc == SL_OK) rc = sl_buf_appendf(out, "</td>");
        }
        if (rc == SL_OK) rc = sl_buf_appendf(out, "</tr>");
    }
    if (rc == SL_OK) rc = sl_buf_appendf(out, "</tbody></table>");
    if (rc == SL_OK && next) {
        rc = sl_buf_appendf(out, "<a rel=\"next\" href=\"/queue?after=");
        if (rc == SL_OK) rc = esc(out, next);
        if (rc == SL_OK) rc = sl_buf_appendf(out, "\">Next page</a>");
    }
    if (rc == SL_OK) rc = sl_buf_appendf(out, "</main>");
    if (rc == SL_OK) rc = tail(out);
    return rc;
}

/* Whether finding i is in the revealed list. */
static int revealed(const json_t *list, size_t i)
{
    size_t k;
    const json_t *v;

    json_array_foreach(list, k, v)
        if (json_integer_value(v) == (json_int_t)i)
            return 1;
    return 0;
}

/* The content as text, each finding's span marked; a secret's span shows
 * as a mask unless this moderator revealed it. */
static int content_text(sl_buf *out, const json_t *item, const uint8_t *content, size_t len)
{
    const json_t *fs = json_object_get(json_object_get(item, "scan"), "findings");
    const json_t *rev = json_object_get(item, "revealed"), *f;
    size_t pos = 0, i;
    int rc = sl_buf_appendf(out, "<pre class=\"content\">");

    json_array_foreach(fs, i, f) {
        json_int_t off = json_integer_value(json_object_get(f, "offset"));
        json_int_t n = json_integer_value(json_object_get(f, "length"));
        const char *src = json_string_value(json_object_get(f, "source"));
        const char *kind = json_string_value(json_object_get(f, "kind"));
        if (rc != SL_OK)
            break;
        if ((src && strcmp(src, "content") != 0) || off < (json_int_t)pos || n <= 0 ||
            (size_t)off > len || (size_t)n > len - (size_t)off)
            continue;
        rc = esc_n(out, (const char *)content + pos, (size_t)off - pos);
        if (rc == SL_OK) rc = sl_buf_appendf(out, "<mark data-finding=\"%zu\" title=\"", i);
        if (rc == SL_OK) rc = esc(out, json_string_value(json_object_get(f, "rule")));
        if (rc == SL_OK) rc = sl_buf_appendf(out, "\">");
        if (rc == SL_OK) {
            if (kind && strcmp(kind, "secret") == 0 && !revealed(rev, i))
                rc = sl_buf_appendf(out, "[secret: masked]");
            else
                rc = esc_n(out, (const char *)content + off, (size_t)n);
        }
        if (rc == SL_OK) rc = sl_buf_appendf(out, "</mark>");
        pos = (size_t)(off + n);
    }
    if (rc == SL_OK) rc = esc_n(out, (const char *)content + pos, len - pos);
    if (rc == SL_OK) rc = sl_buf_appendf(out, "</pre>");
    return rc;
}

int rv_view_item(sl_buf *out, const rv_session *s, const json_t *item,
                 const uint8_t *content, size_t len)
{
    static const char *const reasons[] = { "confirmed_pii", "confirmed_secret", "false_positive",
                                           "rights_problem", "harmful_content", "other" };
    const char *id = json_string_value(json_object_get(item, "upload_id"));
    const char *type = json_string_value(json_object_get(item, "detected_type"));
    int is_text = type && strncmp(type, "text/", 5) == 0;
    int rc = head(out, "Item", s->csrf);

    if (rc == SL_OK) rc = nav(out, s);
    if (rc == SL_OK) rc = sl_buf_appendf(out, "<main><h1>");
    if (rc == SL_OK) rc = esc(out, id);
    if (rc == SL_OK) rc = sl_buf_appendf(out, "</h1><dl><dt>File</dt><dd>");
    if (rc == SL_OK) rc = esc(out, json_string_value(json_object_get(item, "filename")));
    if (rc == SL_OK) rc = sl_buf_appendf(out, "</dd><dt>State</dt><dd>");
    if (rc == SL_OK) rc = esc(out, json_string_value(json_object_get(item, "state")));
    if (rc == SL_OK) rc = sl_buf_appendf(out, "</dd><dt>License</dt><dd>");
    if (rc == SL_OK) rc = esc(out, json_string_value(json_object_get(item, "license")));
    if (rc == SL_OK) rc = sl_buf_appendf(out, "</dd><dt>Metadata</dt><dd><code>");
    if (rc == SL_OK) rc = esc(out, json_string_value(json_object_get(item, "meta")));
    if (rc == SL_OK) rc = sl_buf_appendf(out, "</code></dd></dl>");
    if (rc == SL_OK)
        rc = is_text ? content_text(out, item, content, len)
                     : sl_buf_appendf(out, "<p>Not text: download the raw bytes.</p>");
    if (rc == SL_OK) rc = sl_buf_appendf(out, "<p><a href=\"/items/");
    if (rc == SL_OK) rc = esc(out, id);
    if (rc == SL_OK) rc = sl_buf_appendf(out, "/raw\" download>Raw bytes</a></p>"
                                         "<form method=\"post\" class=\"decide\" action=\"/items/");
    if (rc == SL_OK) rc = esc(out, id);
    if (rc == SL_OK) rc = sl_buf_appendf(out, "/decide\"><input type=\"hidden\" name=\"csrf\" value=\"");
    if (rc == SL_OK) rc = esc(out, s->csrf);
    if (rc == SL_OK) rc = sl_buf_appendf(out, "\"><input type=\"hidden\" name=\"shown_sha256\" value=\"");
    if (rc == SL_OK) rc = esc(out, json_string_value(json_object_get(item, "sha256")));
    if (rc == SL_OK) rc = sl_buf_appendf(out, "\"><select name=\"reason\">");
    for (size_t i = 0; i < 6 && rc == SL_OK; i++)
        rc = sl_buf_appendf(out, "<option>%s</option>", reasons[i]);
    if (rc == SL_OK) rc = sl_buf_appendf(out, "</select><input name=\"note\" maxlength=\"2000\">"
        "<button name=\"action\" value=\"approve\">Approve (a)</button>"
        "<button name=\"action\" value=\"redact\">Redact and approve (e)</button>"
        "<button name=\"action\" value=\"reject\">Reject (r)</button></form></main>");
    if (rc == SL_OK) rc = tail(out);
    return rc;
}

int rv_view_overview(sl_buf *out, const rv_session *s, const json_t *ov)
{
    const json_t *med = json_object_get(ov, "median_decision_s");
    int rc = head(out, "Overview", s->csrf);

    if (rc == SL_OK) rc = nav(out, s);
    if (rc == SL_OK)
        rc = sl_buf_appendf(out, "<main><h1>The flagged topic at a glance</h1><dl>"
            "<dt>Pending</dt><dd id=\"pending\">%lld</dd><dt>Oldest (s)</dt><dd id=\"oldest\">%lld</dd>"
            "<dt>Median time to decision (s)</dt><dd id=\"median\">",
            (long long)json_integer_value(json_object_get(ov, "pending")),
            (long long)json_integer_value(json_object_get(ov, "oldest_age_s")));
    if (rc == SL_OK)
        rc = json_is_integer(med) ? sl_buf_appendf(out, "%lld", (long long)json_integer_value(med))
                                  : sl_buf_appendf(out, "-");
    if (rc == SL_OK) rc = sl_buf_appendf(out, "</dd></dl></main>");
    if (rc == SL_OK) rc = tail(out);
    return rc;
}

int rv_view_error(sl_buf *out, int status, const char *code, const char *detail)
{
    int rc = head(out, "Error", "");

    if (rc == SL_OK) rc = sl_buf_appendf(out, "<main><h1>%d</h1><p><code>", status);
    if (rc == SL_OK) rc = esc(out, code);
    if (rc == SL_OK) rc = sl_buf_appendf(out, "</code> ");
    if (rc == SL_OK) rc = esc(out, detail);
    if (rc == SL_OK) rc = sl_buf_appendf(out, "</p></main>");
    if (rc == SL_OK) rc = tail(out);
    return rc;
}
