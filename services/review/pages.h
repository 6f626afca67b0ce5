/*
 * pages.h -- the review dashboard's pages, rendered to HTML (and SVG) into
 * an sl_buf: the page model the HTTP handlers fill, and one renderer per
 * page.  Pure: no I/O, no clock, no database; the same model always gives
 * the same bytes, so a unit test can state them.
 *
 * Ownership: every pointer in a model is borrowed.  The renderer reads it
 * during the call and keeps nothing; the caller frees what it owns after.
 * A NULL string is rendered as empty (or, where it says so, the element is
 * left out).  Strings need not be valid UTF-8 and may hold markup: every
 * one is HTML-escaped (sl/html.h), invalid UTF-8 and control characters
 * become U+FFFD.  JSON fields (`findings_json`, `meta_json`, ...) are parsed
 * here; a field that does not parse is shown as escaped text with a note,
 * never trusted.
 *
 * Return values: SL_OK; SL_ETOOBIG when `out` reached its cap (`out` then
 * holds a truncated page: the caller discards it and answers 500);
 * SL_ENOMEM; SL_EINVAL for a NULL `out` / model.  Renderers append to
 * `out` (they do not reset it).
 *
 * Every page is a complete HTML document carrying
 *   <meta name="csrf-token" content="..."> (the session's token, empty on
 *       pages without a session) for static/app.js's fetches (header
 *       X-CSRF-Token),
 *   <link rel="stylesheet" href="/static/app.css"> and
 *   <script src="/static/app.js" defer></script>,
 * and nothing the CSP `default-src 'self'; object-src 'none'; base-uri
 * 'none'; frame-ancestors 'none'` blocks: no inline script, no event
 * handler attribute, no style attribute, no data: URL.  Every state change
 * is a POST form with a hidden `csrf` field (routes and fields as in the
 * review contract: /login, /logout, /items/{id}/decide, /items/{id}/reveal).
 * Hooks for app.js are classes, ids and data-* attributes only.
 *
 * Names: the models are rv_<page>_page (the contract sketched rv_<page>),
 * the session part rv_viewer and a history row rv_decision_row, because
 * sluice-review's own review.h already names its database calls rv_queue /
 * rv_overview and its types rv_session / rv_decision; this way a handler
 * includes both headers.
 */
#ifndef RV_PAGES_H
#define RV_PAGES_H

#include <stddef.h>
#include <stdint.h>

#include "sl/common.h"

/* The fixed list of decision reasons, in the order the forms show them.
 * rv_reason_valid() tells a handler whether a submitted reason is one. */
#define RV_N_REASONS 6
extern const char *const rv_reasons[RV_N_REASONS];
/* "confirmed_pii", "confirmed_secret", "false_positive", "rights_problem",
 * "harmful_content", "other" */
int rv_reason_valid(const char *reason);   /* 1 or 0; NULL is 0 */

/* The session part every signed-in page shows (nav bar: user, role, the
 * logout form).  `csrf` is the session's anti-CSRF token. */
typedef struct rv_viewer {
    const char *user;      /* moderator name */
    const char *role;      /* "moderator" | "lead" */
    const char *csrf;
} rv_viewer;

/* ---- GET /login ------------------------------------------------------- */
typedef struct rv_login_page {
    const char *csrf;      /* the pre-session token for the login form */
    const char *error;     /* NULL, or one line to show ("wrong name or
                              password", "too many attempts, wait ...") */
    const char *username;  /* NULL, or the name to prefill after a failure */
} rv_login_page;
int rv_page_login(sl_buf *out, const rv_login_page *m);

/* ---- GET /queue ------------------------------------------------------- */
typedef struct rv_queue_filters {
    const char *dataset, *rule, *creator, *type;   /* NULL or "": no filter */
} rv_queue_filters;

typedef struct rv_queue_row {
    const char *upload_id;
    int64_t age_s;             /* seconds since flagged_at */
    const char *dataset_id;
    const char *creator_id;
    const char *declared_type; /* review_items.content_type */
    const char *detected_type; /* NULL when the scanner did not name one */
    const char *rules;         /* rules that fired, comma-separated */
    const char *severity;      /* highest: "low" | "medium" | "high" | NULL */
    const char *claimed_by;    /* NULL, or who holds a live lease on it */
} rv_queue_row;

typedef struct rv_queue_page {
    rv_viewer s;
    rv_queue_filters filters;  /* echoed into the filter form and the
                                  next-page link */
    const rv_queue_row *rows;  /* oldest first */
    size_t n_rows;
    const char *next_cursor;   /* NULL: last page; else the `after` value */
    int64_t pending;           /* total pending (-1: unknown, not shown) */
    const char *notice;        /* NULL, or one line (e.g. "decision
                                  recorded") shown above the table */
} rv_queue_page;
int rv_page_queue(sl_buf *out, const rv_queue_page *m);

/* ---- GET /items/{upload_id} ------------------------------------------ */
typedef struct rv_decision_row {
    int64_t id;                /* review_decisions id */
    const char *action;        /* approve | redact | reject | reverse | ... */
    const char *reason;
    const char *note;          /* NULL or the moderator's note */
    const char *moderator;
    int64_t at_ms;             /* ms since the epoch */
} rv_decision_row;

typedef struct rv_item_page {
    rv_viewer s;
    const char *upload_id;
    const char *dataset_id;
    const char *creator_id;
    const char *declared_type;   /* review_items.content_type */
    const char *detected_type;   /* NULL: not named */
    const char *filename;        /* NULL: none; shown as text, never a link */
    const char *sha256;          /* review_items.sha256 (the stored bytes) */
    int64_t size;                /* bytes */
    int64_t created_at_ms, flagged_at_ms;
    /* The stored content.  `text` = 1: show it as text (declared or
     * detected text/..., valid enough to read), with the findings'
     * spans highlighted; 0: not shown inline at all -- type, size and a
     * download link to /items/{id}/raw (an attachment) instead. */
    const uint8_t *content;
    size_t content_len;
    int text;
    /* review_items.findings: the scan result JSON; its `findings` array
     * (rule, entity, kind, severity, source, offset, length, validated,
     * action) gives the spans, byte offsets into `content` for source
     * "content".  Any offset is accepted: out of range, overlapping,
     * inside a UTF-8 sequence or zero-length spans are clamped, merged
     * or listed only, never trusted. */
    const char *findings_json;
    /* Indexes into `findings` whose secret the moderator revealed (POST
     * /items/{id}/reveal, recorded by the handler).  A finding of kind
     * "secret" not listed here is masked: its bytes never reach the page. */
    const size_t *revealed;
    size_t n_revealed;
    const char *meta_json;       /* review_items.meta (the signed metadata) */
    const char *license_json;    /* NULL, or the license record / the
                                    expression (review_items.license_expression) */
    const char *prov_json;       /* the chain so far: a JSON array of
                                    {"event": "<canonical>", "hash"} (the
                                    sluice-prov shape) or of the canonical
                                    event texts themselves */
    const char *state;           /* pending | approved | redacted | rejected |
                                    awaiting_second | ... */
    int64_t lease_until_ms;      /* this moderator's claim; 0: none */
    const char *lease_holder;    /* NULL: this moderator; else someone
                                    else holds it (buttons are disabled) */
    const char *shown_sha256;    /* SHA-256 of the bytes shown, posted back
                                    with the decision (`shown_sha256`) */
    const rv_decision_row *decisions;   /* oldest first */
    size_t n_decisions;
    const char *notice;          /* NULL or one line */
} rv_item_page;
int rv_page_item(sl_buf *out, const rv_item_page *m);

/* ---- GET / (overview) ------------------------------------------------- */
/* One bar segment: `count` flags of `key` (a rule id or a dataset id) on
 * the day `day` days before today (0 = today .. 29). */
typedef struct rv_day_count {
    const char *key;
    int day;
    int64_t count;
} rv_day_count;

typedef struct rv_count {
    const char *key;           /* a reason code */
    int64_t count;
} rv_count;

typedef struct rv_overview_page {
    rv_viewer s;
    int64_t pending;
    int64_t oldest_age_s;      /* -1: nothing pending */
    const char *today;         /* "YYYY-MM-DD" (UTC) for the axis; NULL ok */
    const rv_day_count *flags_per_rule_day;
    size_t n_flags_per_rule_day;
    const rv_day_count *flags_per_dataset_day;
    size_t n_flags_per_dataset_day;
    const rv_count *decisions_per_reason;
    size_t n_decisions_per_reason;
    int64_t median_decision_s; /* flagged -> decided; -1: no decisions yet */
} rv_overview_page;
int rv_page_overview(sl_buf *out, const rv_overview_page *m);

/* ---- any error -------------------------------------------------------- */
typedef struct rv_error_page {
    rv_viewer s;              /* fields NULL when there is no session */
    int status;                /* the HTTP status, shown */
    const char *code;          /* machine code, e.g. "not_found" */
    const char *detail;        /* one human line */
} rv_error_page;
int rv_page_error(sl_buf *out, const rv_error_page *m);

/* ---- pieces, exposed for the handlers and the tests -------------------- */
/* Whether an item's content is shown as text (rv_item_page.text): the
 * scanner's own verdict, the `category` of the stored scan result being
 * "text"; without one (not JSON, no category), a detected type under
 * text/.  Anything else -- images, documents, archives, unknown -- is
 * only offered as a download.  1 or 0. */
int rv_content_is_text(const char *findings_json, const char *detected_type);
/* Appends a duration as the pages show it: "45s", "12m", "3h 5m",
 * "2d 4h"; negative as "-". */
int rv_fmt_age(sl_buf *out, int64_t seconds);

#endif
