/*
 * decide.c -- the pure decisions of sluice-review (decide.h): input
 * validity, the queue cursor, N-of-M rules and the rejection detail.  No
 * database, no network: the handlers and review_pg.c call these, the unit
 * tests call them with literal inputs.
 */
#include <string.h>

#include <jansson.h>

#include "decide.h"

int rv_id_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n < 1 || n > 128)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '.' && c != '_' && c != ':' && c != '-')))
            return 0;
    }
    return 1;
}

static int in_list(const char *s, const char *const *list)
{
    for (size_t i = 0; s && list[i]; i++)
        if (strcmp(s, list[i]) == 0)
            return 1;
    return 0;
}

int rv_reason_ok(const char *reason)
{
    static const char *const ok[] = {
        "confirmed_pii", "confirmed_secret", "false_positive", "rights_problem",
        "harmful_content", "other", NULL
    };
    return in_list(reason, ok);
}

int rv_action_ok(const char *action)
{
    static const char *const ok[] = { "approve", "redact", "reject", NULL };
    return in_list(action, ok);
}

int rv_cursor_parse(const char *s, char *us, size_t usz, const char **id)
{
    const char *u = s ? strchr(s, '_') : NULL;
    size_t n;

    if (!u || u == s || (size_t)(u - s) >= usz || !rv_id_ok(u + 1))
        return SL_EINVAL;
    n = (size_t)(u - s);
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return SL_EINVAL;
    memcpy(us, s, n);
    us[n] = '\0';
    *id = u + 1;
    return SL_OK;
}

/* 1 when rule is one of the comma list's entries. */
static int listed(const char *list, const char *rule)
{
    size_t n = strlen(rule);

    for (const char *p = list; p && *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && memcmp(p, rule, n) == 0)
            return 1;
        p = e ? e + 1 : NULL;
    }
    return 0;
}

int rv_needs_second(const char *rules, const char *findings_json)
{
    json_t *doc, *f;
    size_t i;
    int yes = 0;

    if (!rules || !*rules || !findings_json)
        return 0;
    if (!(doc = json_loads(findings_json, 0, NULL)))
        return 0;
    json_array_foreach(json_object_get(doc, "findings"), i, f) {
        const char *rule = json_string_value(json_object_get(f, "rule"));
        if (rule && listed(rules, rule))
            yes = 1;
    }
    json_decref(doc);
    return yes;
}


const char *rv_preview_type(const uint8_t *p, size_t n)
{
    if (!p)
        return NULL;
    if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "image/png";
    if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
        return "image/jpeg";
    if (n >= 6 && (memcmp(p, "GIF87a", 6) == 0 || memcmp(p, "GIF89a", 6) == 0))
        return "image/gif";
    if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
        return "image/webp";
    return NULL;
}

int rv_previewable(const char *t)
{
    return t && (strcmp(t, "image/png") == 0 || strcmp(t, "image/jpeg") == 0 ||
                 strcmp(t, "image/gif") == 0 || strcmp(t, "image/webp") == 0);
}
