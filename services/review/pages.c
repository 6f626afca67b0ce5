/*
 * pages.c -- the review dashboard's pages (pages.h): login, queue, item,
 * overview and error, as complete HTML documents.
 *
 * Everything here is a function of its model: no clock, no I/O.  Every
 * string of the model is written through sl/html.h's escaper, every URL
 * built from input is percent-encoded first, and the markup holds nothing
 * the CSP forbids: no inline script, no event handler, no style attribute.
 * Hooks for static/app.js are ids, classes and data-* attributes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl/timeutil.h"
#include "decide.h"
#include "ui_parts.h"

const char *const rv_reasons[RV_N_REASONS] = {
    "confirmed_pii", "confirmed_secret", "false_positive",
    "rights_problem", "harmful_content", "other",
};

static const char *const reason_text[RV_N_REASONS] = {
    "Confirmed personal data", "Confirmed secret", "False positive",
    "Rights problem", "Harmful content", "Other (say why in the note)",
};

int rv_reason_valid(const char *reason)
{
    if (!reason)
        return 0;
    for (size_t i = 0; i < RV_N_REASONS; i++)
        if (strcmp(reason, rv_reasons[i]) == 0)
            return 1;
    return 0;
}

int rv_fmt_age(sl_buf *out, int64_t s)
{
    if (!out)
        return SL_EINVAL;
    if (s < 0)
        return sl_buf_appendf(out, "-");
    if (s < 60)
        return sl_buf_appendf(out, "%llds", (long long)s);
    if (s < 3600)
        return sl_buf_appendf(out, "%lldm", (long long)(s / 60));
    if (s < 86400)
        return sl_buf_appendf(out, "%lldh %lldm", (long long)(s / 3600),
                              (long long)(s % 3600 / 60));
    return sl_buf_appendf(out, "%lldd %lldh", (long long)(s / 86400),
                          (long long)(s % 86400 / 3600));
}

int rv_content_is_text(const char *findings_json, const char *detected_type)
{
    json_t *doc = findings_json ? json_loads(findings_json, 0, NULL) : NULL;
    const char *cat = json_string_value(json_object_get(doc, "category"));
    int text;

    if (cat)
        text = strcmp(cat, "text") == 0;
    else
        text = detected_type && strncmp(detected_type, "text/", 5) == 0;
    json_decref(doc);
    return text;
}

/* ---- small pieces ------------------------------------------------------ */

static const char *nz(const char *s)
{
    return s ? s : "";
}

static int has(const char *s)
{
    return s && *s;
}

static void age(sl_html *h, int64_t s)
{
    sl_buf b;

    sl_buf_init(&b, 64);
    if (rv_fmt_age(&b, s) != SL_OK || sl_buf_cstr(&b) != SL_OK) {
        if (h->rc == SL_OK)
            h->rc = SL_ENOMEM;
    } else {
        sl_html_text(h, (const char *)b.data);
    }
    sl_buf_free(&b);
}

static void when(sl_html *h, int64_t ms)
{
    char t[SL_TIME_LEN];

    if (ms <= 0) {
        sl_html_text(h, "-");
        return;
    }
    sl_time_format(ms, t);
    sl_html_text(h, t);
}

/* url: prefix + encoded id + suffix, into *u (reset first); the builder
 * gets the error if it fails. */
static const char *item_url(sl_html *h, sl_buf *u, const char *prefix,
                            const char *id, const char *suffix)
{
    int rc;

    sl_buf_reset(u);
    rc = sl_buf_append(u, prefix, strlen(prefix));
    if (rc == SL_OK)
        rc = sl_html_url_encode(u, nz(id), strlen(nz(id)));
    if (rc == SL_OK && suffix)
        rc = sl_buf_append(u, suffix, strlen(suffix));
    if (rc == SL_OK)
        rc = sl_buf_cstr(u);
    if (rc != SL_OK) {
        if (h->rc == SL_OK)
            h->rc = rc;
        return "";
    }
    return (const char *)u->data;
}

static void head(sl_html *h, const char *title, const char *csrf, const char *page)
{
    sl_html_raw(h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                   "<meta name=\"referrer\" content=\"no-referrer\">");
    sl_html_open(h, "meta", "name", "csrf-token", "content", nz(csrf), NULL);
    sl_html_raw(h, "<title>");
    sl_html_text(h, title);
    sl_html_raw(h, " \xE2\x80\x94 sluice review</title>"
                   "<link rel=\"stylesheet\" href=\"/static/app.css\">"
                   "<script src=\"/static/app.js\" defer></script></head>\n");
    sl_html_open(h, "body", "data-page", page, NULL);
}

static void nav(sl_html *h, const rv_viewer *s, const char *current)
{
    sl_html_raw(h, "<header class=\"top\"><nav><span class=\"brand\">sluice review</span>");
    sl_html_open(h, "a", "href", "/", "aria-current",
                 strcmp(current, "overview") == 0 ? "page" : NULL, NULL);
    sl_html_raw(h, "Overview</a>");
    sl_html_open(h, "a", "href", "/queue", "aria-current",
                 strcmp(current, "queue") == 0 ? "page" : NULL, NULL);
    sl_html_raw(h, "Queue</a></nav>");
    if (has(s->user)) {
        sl_html_raw(h, "<div class=\"who\"><span class=\"user\">");
        sl_html_text(h, s->user);
        sl_html_raw(h, "</span>");
        if (has(s->role)) {
            sl_html_raw(h, " <span class=\"role\">");
            sl_html_text(h, s->role);
            sl_html_raw(h, "</span>");
        }
        sl_html_raw(h, "<form method=\"post\" action=\"/logout\" class=\"logout\">");
        sl_html_open(h, "input", "type", "hidden", "name", "csrf", "value", nz(s->csrf), NULL);
        sl_html_raw(h, "<button type=\"submit\">Log out</button></form>"
                       "<button type=\"button\" class=\"help-button\" "
                       "aria-controls=\"help\" title=\"Keyboard shortcuts (?)\">?</button></div>");
    }
    sl_html_raw(h, "</header>\n<main>");
}

static void foot(sl_html *h)
{
    sl_html_raw(h,
        "</main>\n<div id=\"help\" class=\"overlay\" hidden role=\"dialog\" "
        "aria-modal=\"true\" aria-labelledby=\"help-title\"><div class=\"panel\">"
        "<h2 id=\"help-title\">Keyboard shortcuts</h2><dl class=\"keys\">"
        "<dt><kbd>j</kbd> / <kbd>k</kbd></dt><dd>next / previous item in the queue</dd>"
        "<dt><kbd>Enter</kbd> / <kbd>o</kbd></dt><dd>open the selected item</dd>"
        "<dt><kbd>a</kbd></dt><dd>approve (asks for a reason)</dd>"
        "<dt><kbd>e</kbd></dt><dd>redact and approve (asks for a reason)</dd>"
        "<dt><kbd>r</kbd></dt><dd>reject (asks for a reason)</dd>"
        "<dt><kbd>g</kbd> <kbd>q</kbd></dt><dd>go to the queue</dd>"
        "<dt><kbd>?</kbd></dt><dd>show or hide this help</dd>"
        "<dt><kbd>Esc</kbd></dt><dd>close</dd></dl>"
        "<button type=\"button\" class=\"help-close\">Close</button></div></div>\n"
        "</body></html>\n");
}

static void notice(sl_html *h, const char *text)
{
    if (has(text))
        sl_html_elem(h, "p", "class", "notice", "role", "status", NULL, text);
}

static void csrf_field(sl_html *h, const char *csrf)
{
    sl_html_open(h, "input", "type", "hidden", "name", "csrf", "value", nz(csrf), NULL);
}

static int finish(sl_html *h)
{
    return sl_html_end(h);
}

/* ---- login ------------------------------------------------------------ */

int rv_page_login(sl_buf *out, const rv_login_page *m)
{
    sl_html h;

    if (!out || !m)
        return SL_EINVAL;
    sl_html_begin(&h, out);
    head(&h, "Log in", m->csrf, "login");
    sl_html_raw(&h, "<main class=\"login\"><h1>sluice review</h1>"
                    "<p>Moderators of the flagged queue sign in here.</p>");
    if (has(m->error))
        sl_html_elem(&h, "p", "class", "error", "role", "alert", NULL, m->error);
    sl_html_raw(&h, "<form method=\"post\" action=\"/login\" class=\"login-form\">");
    csrf_field(&h, m->csrf);
    sl_html_raw(&h, "<label for=\"username\">Name</label>");
    sl_html_open(&h, "input", "type", "text", "id", "username", "name", "username",
                 "autocomplete", "username", "required", "required",
                 "maxlength", "64", "value", has(m->username) ? m->username : NULL,
                 "autofocus", has(m->username) ? NULL : "autofocus", NULL);
    sl_html_raw(&h, "<label for=\"password\">Password</label>");
    sl_html_open(&h, "input", "type", "password", "id", "password", "name", "password",
                 "autocomplete", "current-password", "required", "required",
                 "maxlength", "1024", "autofocus", has(m->username) ? "autofocus" : NULL,
                 NULL);
    sl_html_raw(&h, "<button type=\"submit\">Log in</button></form></main>\n"
                    "</body></html>\n");
    return finish(&h);
}

/* ---- queue ------------------------------------------------------------ */

/* The query string of the filters (and the cursor), "?..." or "". */
static const char *queue_query(sl_html *h, sl_buf *u, const rv_queue_filters *f,
                               const char *after)
{
    const char *names[5] = { "dataset", "rule", "creator", "type", "after" };
    const char *vals[5] = { f->dataset, f->rule, f->creator, f->type, after };
    int rc = SL_OK;

    sl_buf_reset(u);
    rc = sl_buf_append(u, "/queue", 6);
    for (int i = 0, first = 1; i < 5 && rc == SL_OK; i++) {
        if (!has(vals[i]))
            continue;
        rc = sl_buf_appendf(u, "%c%s=", first ? '?' : '&', names[i]);
        if (rc == SL_OK)
            rc = sl_html_url_encode(u, vals[i], strlen(vals[i]));
        first = 0;
    }
    if (rc == SL_OK)
        rc = sl_buf_cstr(u);
    if (rc != SL_OK) {
        if (h->rc == SL_OK)
            h->rc = rc;
        return "/queue";
    }
    return (const char *)u->data;
}

static void filter_input(sl_html *h, const char *name, const char *label,
                         const char *value)
{
    char id[32];

    snprintf(id, sizeof(id), "f-%s", name);
    sl_html_open(h, "label", "for", id, NULL);
    sl_html_text(h, label);
    sl_html_close(h, "label");
    sl_html_open(h, "input", "type", "text", "id", id, "name", name,
                 "value", nz(value), "maxlength", "200", NULL);
}

int rv_page_queue(sl_buf *out, const rv_queue_page *m)
{
    sl_html h;
    sl_buf u;

    if (!out || !m || (m->n_rows && !m->rows))
        return SL_EINVAL;
    sl_buf_init(&u, 16 * 1024);
    sl_html_begin(&h, out);
    head(&h, "Queue", m->s.csrf, "queue");
    nav(&h, &m->s, "queue");
    sl_html_raw(&h, "<h1>Review queue</h1>");
    if (m->pending >= 0) {
        sl_html_open(&h, "p", "class", "count", NULL);
        sl_html_textf(&h, "%lld pending", (long long)m->pending);
        sl_html_close(&h, "p");
    }
    notice(&h, m->notice);

    sl_html_raw(&h, "<form method=\"get\" action=\"/queue\" class=\"filters\">");
    filter_input(&h, "dataset", "Dataset", m->filters.dataset);
    filter_input(&h, "rule", "Rule", m->filters.rule);
    filter_input(&h, "creator", "Creator", m->filters.creator);
    filter_input(&h, "type", "Type", m->filters.type);
    sl_html_raw(&h, "<button type=\"submit\">Filter</button>"
                    "<a href=\"/queue\" class=\"clear\">Clear</a></form>");

    sl_html_raw(&h, "<table id=\"queue\" class=\"queue\"><thead><tr>"
                    "<th>Age</th><th>Upload</th><th>Dataset</th><th>Creator</th>"
                    "<th>Declared</th><th>Detected</th><th>Rules</th><th>Severity</th>"
                    "</tr></thead><tbody>");
    for (size_t i = 0; i < m->n_rows; i++) {
        const rv_queue_row *r = &m->rows[i];
        const char *href = item_url(&h, &u, "/items/", r->upload_id, NULL);
        const char *sev = r->severity;
        const char *cls = "row sev-unknown";

        if (sev && strcmp(sev, "high") == 0)
            cls = "row sev-high";
        else if (sev && strcmp(sev, "medium") == 0)
            cls = "row sev-medium";
        else if (sev && strcmp(sev, "low") == 0)
            cls = "row sev-low";
        sl_html_open(&h, "tr", "class", cls, "data-href", href, NULL);
        sl_html_raw(&h, "<td class=\"age\">");
        age(&h, r->age_s);
        sl_html_raw(&h, "</td><td class=\"id\">");
        sl_html_open(&h, "a", "class", "open", "href", href, NULL);
        sl_html_text(&h, nz(r->upload_id));
        sl_html_close(&h, "a");
        if (has(r->claimed_by)) {
            sl_html_raw(&h, " <span class=\"claimed\">claimed by ");
            sl_html_text(&h, r->claimed_by);
            sl_html_raw(&h, "</span>");
        }
        sl_html_raw(&h, "</td>");
        sl_html_elem(&h, "td", NULL, nz(r->dataset_id));
        sl_html_elem(&h, "td", NULL, nz(r->creator_id));
        sl_html_elem(&h, "td", NULL, nz(r->declared_type));
        sl_html_elem(&h, "td", NULL, r->detected_type ? r->detected_type : "-");
        sl_html_elem(&h, "td", "class", "rules", NULL, nz(r->rules));
        sl_html_elem(&h, "td", "class", "sev", NULL, sev ? sev : "-");
        sl_html_raw(&h, "</tr>\n");
    }
    if (m->n_rows == 0)
        sl_html_raw(&h, "<tr class=\"empty\"><td colspan=\"8\">Nothing pending here."
                        "</td></tr>");
    sl_html_raw(&h, "</tbody></table>");
    if (has(m->next_cursor)) {
        sl_html_open(&h, "a", "id", "next-page", "rel", "next", "class", "next",
                     "href", queue_query(&h, &u, &m->filters, m->next_cursor), NULL);
        sl_html_raw(&h, "Next page \xE2\x86\x92</a>");
    }
    foot(&h);
    sl_buf_free(&u);
    return finish(&h);
}

/* ---- item ------------------------------------------------------------- */

/* A JSON value as text: strings as they are, the rest compact JSON. */
static void json_value_text(sl_html *h, json_t *v)
{
    char *s;

    if (json_is_string(v)) {
        sl_html_textn(h, json_string_value(v), json_string_length(v));
        return;
    }
    if (!(s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY))) {
        if (h->rc == SL_OK)
            h->rc = SL_ENOMEM;
        return;
    }
    sl_html_text(h, s);
    free(s);
}

/* An object as <dl>; anything else that parsed as text; what did not
 * parse as escaped raw text with a note. */
static void json_block(sl_html *h, const char *cls, const char *text)
{
    json_t *doc, *v;
    json_error_t err;
    const char *k;

    if (!text) {
        sl_html_raw(h, "<p class=\"none\">none</p>");
        return;
    }
    doc = json_loads(text, JSON_DECODE_ANY, &err);
    if (!doc) {
        sl_html_open(h, "pre", "class", cls, NULL);
        sl_html_text(h, text);
        sl_html_raw(h, "</pre>");
        return;
    }
    if (json_is_object(doc)) {
        sl_html_open(h, "dl", "class", cls, NULL);
        json_object_foreach(doc, k, v) {
            sl_html_elem(h, "dt", NULL, k);
            sl_html_raw(h, "<dd>");
            json_value_text(h, v);
            sl_html_raw(h, "</dd>");
        }
        sl_html_raw(h, "</dl>");
    } else {
        sl_html_open(h, "p", "class", cls, NULL);
        json_value_text(h, doc);
        sl_html_raw(h, "</p>");
    }
    json_decref(doc);
}

static void field(sl_html *h, const char *label, const char *value)
{
    sl_html_elem(h, "dt", NULL, label);
    sl_html_elem(h, "dd", NULL, has(value) ? value : "-");
}

static void facts(sl_html *h, const rv_item_page *m)
{
    sl_html_raw(h, "<dl class=\"facts\">");
    field(h, "Upload", m->upload_id);
    field(h, "Dataset", m->dataset_id);
    field(h, "Creator", m->creator_id);
    field(h, "File name", m->filename);
    field(h, "Declared type", m->declared_type);
    field(h, "Detected type", m->detected_type);
    sl_html_raw(h, "<dt>Size</dt><dd>");
    sl_html_textf(h, "%lld bytes", (long long)m->size);
    sl_html_raw(h, "</dd>");
    sl_html_raw(h, "<dt>SHA-256</dt><dd class=\"hash\">");
    sl_html_text(h, has(m->sha256) ? m->sha256 : "-");
    sl_html_raw(h, "</dd><dt>Created</dt><dd>");
    when(h, m->created_at_ms);
    sl_html_raw(h, "</dd><dt>Flagged</dt><dd>");
    when(h, m->flagged_at_ms);
    sl_html_raw(h, "</dd>");
    field(h, "State", m->state);
    sl_html_raw(h, "<dt>Claim</dt><dd class=\"lease\">");
    if (m->lease_until_ms <= 0) {
        sl_html_text(h, "none");
    } else {
        char t[SL_TIME_LEN], ms[24];
        sl_time_format(m->lease_until_ms, t);
        snprintf(ms, sizeof(ms), "%lld", (long long)m->lease_until_ms);
        sl_html_open(h, "span", "id", "lease", "data-until-ms", ms, NULL);
        if (has(m->lease_holder)) {
            sl_html_text(h, "held by ");
            sl_html_text(h, m->lease_holder);
            sl_html_text(h, " until ");
        } else {
            sl_html_text(h, "yours until ");
        }
        sl_html_text(h, t);
        sl_html_close(h, "span");
    }
    sl_html_raw(h, "</dd></dl>");
}

static int decidable(const rv_item_page *m)
{
    return m->state && (strcmp(m->state, "pending") == 0 ||
                        strcmp(m->state, "awaiting_second") == 0) &&
           !has(m->lease_holder);
}

/* A lead may reverse a decided item (POST /api/items/{id}/reverse). */
static int reversible(const rv_item_page *m)
{
    return !decidable(m) && m->s.role && strcmp(m->s.role, "lead") == 0 &&
           !has(m->lease_holder) && has(m->state) && strcmp(m->state, "pending") != 0;
}

static void decide_form(sl_html *h, sl_buf *u, const rv_item_page *m)
{
    sl_html_raw(h, "<section class=\"decide\"><h2>Decision</h2>");
    if (!decidable(m)) {
        sl_html_open(h, "p", "class", "decided", NULL);
        if (has(m->lease_holder)) {
            sl_html_text(h, "Claimed by ");
            sl_html_text(h, m->lease_holder);
            sl_html_text(h, ": you cannot decide it now.");
        } else {
            sl_html_text(h, "This item is ");
            sl_html_text(h, has(m->state) ? m->state : "not pending");
            sl_html_text(h, ".");
        }
        sl_html_close(h, "p");
        if (reversible(m)) {
            sl_html_open(h, "button", "type", "button", "class", "reverse",
                         "data-url", item_url(h, u, "/api/items/", m->upload_id, "/reverse"),
                         NULL);
            sl_html_raw(h, "Reverse this decision (lead)</button>");
        }
        sl_html_raw(h, "</section>");
        return;
    }
    sl_html_open(h, "form", "id", "decide-form", "method", "post",
                 "action", item_url(h, u, "/items/", m->upload_id, "/decide"), NULL);
    csrf_field(h, m->s.csrf);
    sl_html_open(h, "input", "type", "hidden", "name", "shown_sha256",
                 "value", nz(m->shown_sha256), NULL);
    sl_html_raw(h, "<label for=\"reason\">Reason</label>"
                   "<select id=\"reason\" name=\"reason\" required>"
                   "<option value=\"\">choose a reason</option>");
    for (size_t i = 0; i < RV_N_REASONS; i++)
        sl_html_elem(h, "option", "value", rv_reasons[i], NULL, reason_text[i]);
    sl_html_raw(h, "</select><label for=\"note\">Note</label>"
                   "<textarea id=\"note\" name=\"note\" maxlength=\"2000\" rows=\"2\">"
                   "</textarea><div class=\"actions\">"
                   "<button type=\"submit\" name=\"action\" value=\"approve\" "
                   "class=\"approve\" data-key=\"a\">Approve <kbd>a</kbd></button>"
                   "<button type=\"submit\" name=\"action\" value=\"redact\" "
                   "class=\"redact\" data-key=\"e\">Redact and approve <kbd>e</kbd></button>"
                   "<button type=\"submit\" name=\"action\" value=\"reject\" "
                   "class=\"reject\" data-key=\"r\">Reject <kbd>r</kbd></button>"
                   "</div></form></section>");
}

static void reason_dialog(sl_html *h)
{
    sl_html_raw(h, "<dialog id=\"reason-dialog\" aria-labelledby=\"reason-dialog-title\">"
                   "<form method=\"dialog\" id=\"reason-dialog-form\">"
                   "<h2 id=\"reason-dialog-title\">Reason</h2><fieldset>"
                   "<legend>Why?</legend>");
    for (size_t i = 0; i < RV_N_REASONS; i++) {
        char id[32];
        snprintf(id, sizeof(id), "dlg-r-%zu", i);
        sl_html_raw(h, "<div class=\"choice\">");
        sl_html_open(h, "input", "type", "radio", "name", "dlg-reason", "id", id,
                     "value", rv_reasons[i], NULL);
        sl_html_open(h, "label", "for", id, NULL);
        sl_html_textf(h, "%zu. ", i + 1);
        sl_html_text(h, reason_text[i]);
        sl_html_raw(h, "</label></div>");
    }
    sl_html_raw(h, "</fieldset><label for=\"dlg-note\">Note</label>"
                   "<textarea id=\"dlg-note\" maxlength=\"2000\" rows=\"2\"></textarea>"
                   "<p class=\"dlg-error\" hidden>Choose a reason.</p>"
                   "<div class=\"actions\"><button type=\"submit\" value=\"ok\" "
                   "id=\"dlg-ok\">Confirm</button><button type=\"submit\" value=\"cancel\" "
                   "id=\"dlg-cancel\" formnovalidate>Cancel</button></div></form></dialog>");
}

static void findings_table(sl_html *h, sl_buf *u, const rv_item_page *m,
                           const rv_finding *f, size_t nf, json_t *scan)
{
    json_t *total = json_object_get(scan, "findings_total");

    sl_html_raw(h, "<section class=\"findings\"><h2>Findings</h2>");
    if (json_is_integer(total) && json_integer_value(total) > (json_int_t)nf) {
        sl_html_open(h, "p", "class", "note", NULL);
        sl_html_textf(h, "%lld findings in all; the scanner listed the first %zu.",
                      (long long)json_integer_value(total), nf);
        sl_html_close(h, "p");
    }
    if (nf == 0) {
        sl_html_raw(h, "<p class=\"none\">No findings listed.</p></section>");
        return;
    }
    sl_html_raw(h, "<table class=\"findings\"><thead><tr><th>#</th><th>Rule</th>"
                   "<th>Entity</th><th>Kind</th><th>Severity</th><th>Source</th>"
                   "<th>Offset</th><th>Length</th><th>Validated</th><th>Action</th>"
                   "<th></th></tr></thead><tbody>");
    for (size_t i = 0; i < nf; i++) {
        char idx[24];
        snprintf(idx, sizeof(idx), "%zu", i);
        sl_html_open(h, "tr", "id", NULL, "data-finding", idx, NULL);
        sl_html_elem(h, "td", NULL, idx);
        sl_html_elem(h, "td", NULL, f[i].rule ? f[i].rule : "?");
        sl_html_elem(h, "td", NULL, f[i].entity ? f[i].entity : "?");
        sl_html_elem(h, "td", NULL, f[i].kind ? f[i].kind : "?");
        sl_html_elem(h, "td", NULL, f[i].severity ? f[i].severity : "?");
        sl_html_elem(h, "td", NULL, f[i].source ? f[i].source : "?");
        sl_html_raw(h, "<td>");
        if (f[i].offset >= 0)
            sl_html_textf(h, "%lld", (long long)f[i].offset);
        else
            sl_html_text(h, "?");
        sl_html_raw(h, "</td><td>");
        if (f[i].length >= 0)
            sl_html_textf(h, "%lld", (long long)f[i].length);
        else
            sl_html_text(h, "?");
        sl_html_raw(h, "</td>");
        sl_html_elem(h, "td", NULL, f[i].validated ? "yes" : "no");
        sl_html_elem(h, "td", NULL, f[i].action ? f[i].action : "?");
        sl_html_raw(h, "<td>");
        if (m->text && f[i].note)
            sl_html_elem(h, "span", "class", "note", NULL, f[i].note);
        if (f[i].secret && !f[i].revealed && f[i].end > f[i].start && m->text) {
            sl_html_open(h, "form", "method", "post", "class", "reveal-form",
                         "action", item_url(h, u, "/items/", m->upload_id, "/reveal"), NULL);
            csrf_field(h, m->s.csrf);
            sl_html_open(h, "input", "type", "hidden", "name", "finding", "value", idx, NULL);
            sl_html_raw(h, "<button type=\"submit\" class=\"reveal\">Reveal</button></form>");
        } else if (f[i].secret && f[i].revealed) {
            sl_html_raw(h, "<span class=\"revealed\">revealed</span>");
        }
        sl_html_raw(h, "</td></tr>");
    }
    sl_html_raw(h, "</tbody></table></section>");
}

static void content_section(sl_html *h, sl_buf *u, const rv_item_page *m,
                            const rv_finding *f, size_t nf)
{
    const char *raw;

    sl_html_raw(h, "<section class=\"content\"><h2>Content</h2>");
    if (m->text && m->content) {
        sl_html_raw(h, "<pre id=\"content\" class=\"content\">");
        rv_highlight(h, m->content, m->content_len, f, nf);
        sl_html_raw(h, "</pre>");
    } else {
        sl_html_open(h, "p", "class", "binary", NULL);
        sl_html_text(h, "Not shown inline: ");
        sl_html_text(h, has(m->detected_type) ? m->detected_type : nz(m->declared_type));
        sl_html_textf(h, ", %lld bytes. Download it to look at it with a tool you trust.",
                      (long long)m->size);
        sl_html_close(h, "p");
        /* A raster image is previewed from its own route, which serves
         * only what the bytes' signature says is PNG, JPEG, GIF or WebP. */
        if (rv_previewable(m->detected_type))
            sl_html_open(h, "img", "class", "preview", "alt", "image preview",
                         "src", item_url(h, u, "/items/", m->upload_id, "/preview"), NULL);
    }
    sl_html_open(h, "p", "class", "raw", NULL);
    raw = item_url(h, u, "/items/", m->upload_id, "/raw");
    sl_html_open(h, "a", "class", "download", "href", raw, "download", "", "rel", "noopener",
                 NULL);
    sl_html_text(h, "Download the raw bytes");
    sl_html_close(h, "a");
    sl_html_text(h, " (served as an attachment, never rendered)");
    sl_html_close(h, "p");
    sl_html_raw(h, "</section>");
}

static void prov_section(sl_html *h, const char *prov)
{
    json_t *arr, *e;
    size_t i;

    sl_html_raw(h, "<section class=\"prov\"><h2>Provenance</h2>");
    arr = prov ? json_loads(prov, 0, NULL) : NULL;
    if (!json_is_array(arr)) {
        if (prov) {
            sl_html_raw(h, "<p class=\"note\">Not a provenance chain:</p><pre class=\"raw-json\">");
            sl_html_text(h, prov);
            sl_html_raw(h, "</pre>");
        } else {
            sl_html_raw(h, "<p class=\"none\">none</p>");
        }
        json_decref(arr);
        sl_html_raw(h, "</section>");
        return;
    }
    sl_html_raw(h, "<table class=\"prov\"><thead><tr><th>#</th><th>Stage</th>"
                   "<th>Outcome</th><th>Reason</th><th>Time</th><th>By</th>"
                   "<th>Hash</th></tr></thead><tbody>");
    json_array_foreach(arr, i, e) {
        /* {"event": canonical, "hash"} (sluice-prov) or the canonical text */
        const char *text = json_is_string(e) ? json_string_value(e)
                                             : json_string_value(json_object_get(e, "event"));
        const char *hash = json_string_value(json_object_get(e, "hash"));
        json_t *ev = text ? json_loads(text, 0, NULL) : NULL;

        sl_html_raw(h, "<tr>");
        if (json_is_object(ev)) {
            json_t *seq = json_object_get(ev, "seq");
            sl_html_raw(h, "<td>");
            if (json_is_integer(seq))
                sl_html_textf(h, "%lld", (long long)json_integer_value(seq));
            sl_html_raw(h, "</td>");
            sl_html_elem(h, "td", NULL, nz(json_string_value(json_object_get(ev, "stage"))));
            sl_html_elem(h, "td", NULL, nz(json_string_value(json_object_get(ev, "outcome"))));
            sl_html_elem(h, "td", NULL, nz(json_string_value(json_object_get(ev, "reason"))));
            sl_html_elem(h, "td", NULL, nz(json_string_value(json_object_get(ev, "time"))));
            sl_html_elem(h, "td", NULL, nz(json_string_value(json_object_get(ev, "actor"))));
        } else {
            sl_html_raw(h, "<td colspan=\"6\" class=\"raw-json\">");
            sl_html_text(h, text ? text : "(not an event)");
            sl_html_raw(h, "</td>");
        }
        sl_html_elem(h, "td", "class", "hash", "title", hash, NULL, nz(hash));
        sl_html_raw(h, "</tr>");
        json_decref(ev);
    }
    sl_html_raw(h, "</tbody></table></section>");
    json_decref(arr);
}

static void decisions_section(sl_html *h, const rv_item_page *m)
{
    if (m->n_decisions == 0 || !m->decisions)
        return;
    sl_html_raw(h, "<section class=\"history\"><h2>Decisions</h2><table><thead><tr>"
                   "<th>When</th><th>Moderator</th><th>Action</th><th>Reason</th>"
                   "<th>Note</th></tr></thead><tbody>");
    for (size_t i = 0; i < m->n_decisions; i++) {
        const rv_decision_row *d = &m->decisions[i];
        sl_html_raw(h, "<tr><td>");
        when(h, d->at_ms);
        sl_html_raw(h, "</td>");
        sl_html_elem(h, "td", NULL, nz(d->moderator));
        sl_html_elem(h, "td", NULL, nz(d->action));
        sl_html_elem(h, "td", NULL, nz(d->reason));
        sl_html_elem(h, "td", NULL, nz(d->note));
        sl_html_raw(h, "</tr>");
    }
    sl_html_raw(h, "</tbody></table></section>");
}

int rv_page_item(sl_buf *out, const rv_item_page *m)
{
    sl_html h;
    sl_buf u;
    json_t *scan = NULL;
    rv_finding *f = NULL;
    size_t nf = 0;
    int rc;

    if (!out || !m || (m->n_revealed && !m->revealed) ||
        (m->n_decisions && !m->decisions))
        return SL_EINVAL;
    if (m->findings_json)
        scan = json_loads(m->findings_json, 0, NULL);
    rc = rv_findings_read(scan, m->content, m->content ? m->content_len : 0,
                          m->revealed, m->n_revealed, &f, &nf);
    if (rc != SL_OK) {
        json_decref(scan);
        return rc;
    }
    sl_buf_init(&u, 16 * 1024);
    sl_html_begin(&h, out);
    head(&h, "Item", m->s.csrf, "item");
    nav(&h, &m->s, "item");
    sl_html_open(&h, "h1", "id", "item-title", "data-item", nz(m->upload_id), NULL);
    sl_html_text(&h, "Flagged upload ");
    sl_html_text(&h, nz(m->upload_id));
    sl_html_close(&h, "h1");
    notice(&h, m->notice);
    if (m->findings_json && !json_is_object(scan))
        sl_html_raw(&h, "<p class=\"error\">The stored scan result is not a JSON "
                        "object: no spans can be drawn.</p>");
    /* What the moderator reads first, then the decision, then the rest. */
    content_section(&h, &u, m, f, nf);
    decide_form(&h, &u, m);
    findings_table(&h, &u, m, f, nf, scan);
    sl_html_raw(&h, "<section class=\"upload\"><h2>Upload</h2>");
    facts(&h, m);
    sl_html_raw(&h, "</section><section class=\"meta\"><h2>Metadata</h2>");
    json_block(&h, "kv meta", m->meta_json);
    sl_html_raw(&h, "</section><section class=\"license\"><h2>License</h2>");
    json_block(&h, "kv license", m->license_json);
    sl_html_raw(&h, "</section>");
    prov_section(&h, m->prov_json);
    decisions_section(&h, m);
    if (decidable(m) || reversible(m))
        reason_dialog(&h);
    foot(&h);
    sl_buf_free(&u);
    free(f);
    json_decref(scan);
    return finish(&h);
}

/* ---- overview --------------------------------------------------------- */

static void reasons_table(sl_html *h, const rv_overview_page *m)
{
    sl_html_raw(h, "<table id=\"ov-reasons\" class=\"reasons\" data-live><thead><tr>"
                   "<th>Reason</th><th>Decisions</th></tr></thead><tbody>");
    for (size_t i = 0; i < m->n_decisions_per_reason; i++) {
        const rv_count *c = &m->decisions_per_reason[i];
        sl_html_raw(h, "<tr>");
        sl_html_elem(h, "td", NULL, nz(c->key));
        sl_html_raw(h, "<td class=\"num\">");
        sl_html_textf(h, "%lld", (long long)c->count);
        sl_html_raw(h, "</td></tr>");
    }
    if (m->n_decisions_per_reason == 0)
        sl_html_raw(h, "<tr class=\"empty\"><td colspan=\"2\">No decisions yet.</td></tr>");
    sl_html_raw(h, "</tbody></table>");
}

int rv_page_overview(sl_buf *out, const rv_overview_page *m)
{
    sl_html h;

    if (!out || !m || (m->n_flags_per_rule_day && !m->flags_per_rule_day) ||
        (m->n_flags_per_dataset_day && !m->flags_per_dataset_day) ||
        (m->n_decisions_per_reason && !m->decisions_per_reason))
        return SL_EINVAL;
    sl_html_begin(&h, out);
    head(&h, "Overview", m->s.csrf, "overview");
    nav(&h, &m->s, "overview");
    sl_html_raw(&h, "<h1>The flagged topic at a glance</h1>"
                    "<dl class=\"stats\" id=\"ov-stats\" data-poll=\"/api/overview\">"
                    "<div><dt>Pending</dt><dd id=\"ov-pending\">");
    sl_html_textf(&h, "%lld", (long long)m->pending);
    sl_html_raw(&h, "</dd></div><div><dt>Oldest</dt><dd id=\"ov-oldest\">");
    age(&h, m->oldest_age_s);
    sl_html_raw(&h, "</dd></div><div><dt>Median time to decision</dt><dd id=\"ov-median\">");
    age(&h, m->median_decision_s);
    sl_html_raw(&h, "</dd></div></dl>");
    sl_html_raw(&h, "<p><a href=\"/queue\" class=\"start\">Open the queue</a></p>");
    rv_chart_days(&h, "chart-rule", "Flags per rule, last 30 days",
                  m->flags_per_rule_day, m->n_flags_per_rule_day, m->today);
    rv_chart_days(&h, "chart-dataset", "Flags per dataset, last 30 days",
                  m->flags_per_dataset_day, m->n_flags_per_dataset_day, m->today);
    sl_html_raw(&h, "<section class=\"reasons\"><h2>Decisions per reason</h2>");
    reasons_table(&h, m);
    sl_html_raw(&h, "</section>");
    foot(&h);
    return finish(&h);
}

/* ---- error ------------------------------------------------------------ */

int rv_page_error(sl_buf *out, const rv_error_page *m)
{
    sl_html h;

    if (!out || !m)
        return SL_EINVAL;
    sl_html_begin(&h, out);
    head(&h, "Error", m->s.csrf, "error");
    nav(&h, &m->s, "error");
    sl_html_open(&h, "h1", "class", "error", NULL);
    sl_html_textf(&h, "%d", m->status);
    sl_html_raw(&h, " ");
    sl_html_text(&h, has(m->code) ? m->code : "error");
    sl_html_close(&h, "h1");
    if (has(m->detail))
        sl_html_elem(&h, "p", "class", "detail", NULL, m->detail);
    sl_html_raw(&h, "<p><a href=\"/queue\">Back to the queue</a></p>");
    foot(&h);
    return finish(&h);
}
