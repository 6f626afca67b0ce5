/*
 * view_ui.c -- sluice-review's pages (review.h: rv_view_login, _queue,
 * _item, _overview, _error) on the dashboard's renderers (pages.h): the
 * JSON the database layer reads (review_pg.c: rv_queue, rv_item_json,
 * rv_overview) turned into the page models, nothing else; the renderers
 * are the pure review_ui library (services/review/ui.cmake).
 *
 * Not pure like pages.c: the overview's days are counted back from
 * today's UTC date, read from the clock here.  Every string stays
 * borrowed from the JSON for the duration of the call.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pages.h"
#include "review.h"
#include "sl/timeutil.h"

static rv_viewer viewer(const rv_session *s)
{
    return (rv_viewer){ s->user, s->role, s->csrf };
}

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static int64_t jint(const json_t *o, const char *k, int64_t dflt)
{
    const json_t *v = json_object_get(o, k);

    return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

/* Milliseconds of an RFC 3339 time (or a YYYY-MM-DD day), 0 when absent
 * or unreadable. */
static int64_t jtime(const json_t *o, const char *k)
{
    const char *s = jstr(o, k);
    char day[32];
    int64_t ms = 0;

    if (!s)
        return 0;
    if (strlen(s) == 10) {
        snprintf(day, sizeof day, "%sT00:00:00Z", s);
        s = day;
    }
    return sl_time_parse(s, strlen(s), &ms) == SL_OK ? ms : 0;
}

int rv_view_login(sl_buf *out, const char *csrf, const char *error, const char *username)
{
    rv_login_page m = { .csrf = csrf, .error = error, .username = username };

    return rv_page_login(out, &m);
}

int rv_view_queue(sl_buf *out, const rv_session *s, const rv_filter *f, const json_t *queue)
{
    const json_t *items = json_object_get(queue, "items"), *it;
    size_t n = json_array_size(items), i;
    rv_queue_row *rows = n ? calloc(n, sizeof(*rows)) : NULL;
    rv_queue_page m;
    int rc;

    if (n && !rows)
        return SL_ENOMEM;
    json_array_foreach(items, i, it) {
        rows[i] = (rv_queue_row){
            .upload_id = jstr(it, "upload_id"), .age_s = jint(it, "age_s", -1),
            .dataset_id = jstr(it, "dataset_id"), .creator_id = jstr(it, "creator_id"),
            .declared_type = jstr(it, "declared_type"),
            .detected_type = jstr(it, "detected_type"), .rules = jstr(it, "rules"),
            .severity = jstr(it, "severity"), .claimed_by = jstr(it, "claimed_by"),
        };
    }
    m = (rv_queue_page){
        .s = viewer(s),
        .filters = { f->dataset, f->rule, f->creator, f->type },
        .rows = rows, .n_rows = n, .next_cursor = jstr(queue, "next"),
        .pending = -1,
    };
    rc = rv_page_queue(out, &m);
    free(rows);
    return rc;
}

int rv_view_item(sl_buf *out, const rv_session *s, const json_t *item,
                 const uint8_t *content, size_t len)
{
    const json_t *rev = json_object_get(item, "revealed"), *decs = json_object_get(item, "decisions");
    const json_t *v;
    size_t nrev = json_array_size(rev), ndec = json_array_size(decs), i;
    size_t *revealed = nrev ? calloc(nrev, sizeof(*revealed)) : NULL;
    rv_decision_row *rows = ndec ? calloc(ndec, sizeof(*rows)) : NULL;
    char *scan = NULL, *prov = NULL;
    const char *holder = jstr(item, "claimed_by");
    rv_item_page m;
    int rc = SL_ENOMEM;

    if ((nrev && !revealed) || (ndec && !rows))
        goto out;
    json_array_foreach(rev, i, v)
        revealed[i] = json_is_integer(v) && json_integer_value(v) >= 0
                    ? (size_t)json_integer_value(v) : SIZE_MAX;
    json_array_foreach(decs, i, v) {
        rows[i] = (rv_decision_row){
            .id = jint(v, "decision_id", 0), .action = jstr(v, "action"),
            .reason = jstr(v, "reason"), .note = jstr(v, "note"),
            .moderator = jstr(v, "moderator"), .at_ms = jtime(v, "decided_at"),
        };
    }
    if (json_object_get(item, "scan") && !json_is_null(json_object_get(item, "scan")) &&
        !(scan = json_dumps(json_object_get(item, "scan"), JSON_COMPACT)))
        goto out;
    if (json_object_get(item, "prov") &&
        !(prov = json_dumps(json_object_get(item, "prov"), JSON_COMPACT)))
        goto out;
    m = (rv_item_page){
        .s = viewer(s),
        .upload_id = jstr(item, "upload_id"), .dataset_id = jstr(item, "dataset_id"),
        .creator_id = jstr(item, "creator_id"), .declared_type = jstr(item, "declared_type"),
        .detected_type = jstr(item, "detected_type"), .filename = jstr(item, "filename"),
        .sha256 = jstr(item, "sha256"), .size = jint(item, "size", (int64_t)len),
        .flagged_at_ms = jtime(item, "flagged_at"),
        .content = content, .content_len = len,
        .text = rv_content_is_text(scan, jstr(item, "detected_type")),
        .findings_json = scan, .revealed = revealed, .n_revealed = nrev,
        .meta_json = jstr(item, "meta"), .license_json = jstr(item, "license"),
        .prov_json = prov, .state = jstr(item, "state"),
        .lease_until_ms = jint(item, "claim_until_ms", 0),
        .lease_holder = holder && strcmp(holder, s->user) != 0 ? holder : NULL,
        .shown_sha256 = jstr(item, "sha256"),
        .decisions = rows, .n_decisions = ndec,
    };
    rc = rv_page_item(out, &m);
out:
    free(revealed);
    free(rows);
    free(scan);
    free(prov);
    return rc;
}

/* [{"day": "YYYY-MM-DD", keyname: "...", "count": N}] as day counts back
 * from today (days before today_ms's date). */
static rv_day_count *days_of(const json_t *arr, const char *keyname, int64_t today_days,
                             size_t *n)
{
    const json_t *v;
    size_t i;
    rv_day_count *d;

    *n = json_array_size(arr);
    if (!*n || !(d = calloc(*n, sizeof(*d)))) {
        *n = 0;
        return NULL;
    }
    json_array_foreach(arr, i, v) {
        int64_t ms = jtime(v, "day");
        int64_t back = ms > 0 ? today_days - ms / 86400000 : -1;
        d[i] = (rv_day_count){ jstr(v, keyname), back >= 0 && back < 1000 ? (int)back : -1,
                               jint(v, "count", 0) };
    }
    return d;
}

int rv_view_overview(sl_buf *out, const rv_session *s, const json_t *ov)
{
    int64_t now = sl_now_ms(), today_days = now / 86400000;
    char today[SL_TIME_LEN];
    const json_t *reasons = json_object_get(ov, "decisions_per_reason"), *v;
    size_t nr = json_array_size(reasons), nd = 0, nds = 0, i;
    rv_day_count *rules = days_of(json_object_get(ov, "flags_per_rule_day"), "rule",
                                  today_days, &nd);
    rv_day_count *sets = days_of(json_object_get(ov, "flags_per_dataset_day"), "dataset",
                                 today_days, &nds);
    rv_count *rc_rows = nr ? calloc(nr, sizeof(*rc_rows)) : NULL;
    rv_overview_page m;
    int rc = SL_ENOMEM;

    if (nr && !rc_rows)
        goto out;
    json_array_foreach(reasons, i, v)
        rc_rows[i] = (rv_count){ jstr(v, "reason"), jint(v, "count", 0) };
    sl_time_format(now, today);
    today[10] = '\0';
    m = (rv_overview_page){
        .s = viewer(s), .pending = jint(ov, "pending", 0),
        .oldest_age_s = jint(ov, "pending", 0) > 0 ? jint(ov, "oldest_age_s", -1) : -1,
        .today = today,
        .flags_per_rule_day = rules, .n_flags_per_rule_day = nd,
        .flags_per_dataset_day = sets, .n_flags_per_dataset_day = nds,
        .decisions_per_reason = rc_rows, .n_decisions_per_reason = nr,
        .median_decision_s = jint(ov, "median_decision_s", -1),
    };
    rc = rv_page_overview(out, &m);
out:
    free(rules);
    free(sets);
    free(rc_rows);
    return rc;
}

int rv_view_error(sl_buf *out, int status, const char *code, const char *detail)
{
    rv_error_page m = { .status = status, .code = code, .detail = detail };

    return rv_page_error(out, &m);
}
