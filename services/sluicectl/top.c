/*
 * top.c -- the exposition reader of `sluicectl top` (contract in top.h).
 *
 * Each line: "# ..." or blank (skipped), else NAME[{LABELS}] VALUE
 * [TIMESTAMP].  Only the families top shows are summed; the others are
 * skipped after their name.
 */
#include <stdlib.h>
#include <string.h>

#include "top.h"

int ctl_top_label(const char *p, size_t len, const char *name, char *out, size_t n)
{
    size_t i = 1, nl = strlen(name);
    int found = 0;

    if (len < 2 || p[0] != '{' || p[len - 1] != '}')
        return -1;
    while (i < len - 1) {
        size_t k = i, o = 0;
        int match;
        while (i < len - 1 && p[i] != '=')
            i++;
        if (i >= len - 2 || p[i + 1] != '"')
            return -1;
        match = i - k == nl && memcmp(p + k, name, nl) == 0;
        i += 2;
        while (i < len - 1 && p[i] != '"') {
            char c = p[i++];
            if (c == '\\') {
                if (i >= len - 1)
                    return -1;
                c = p[i++];
                c = c == 'n' ? '\n' : c;
            }
            if (match && o + 1 < n)
                out[o++] = c;
        }
        if (i >= len - 1)
            return -1;
        i++;                   /* closing quote */
        if (match && n) {
            out[o] = '\0';
            found = 1;
        }
        if (p[i] == ',')
            i++;
        else if (i != len - 1)
            return -1;
    }
    return found;
}

/* The end of a label set starting at p[0] == '{' within end, quotes and
 * escapes respected; NULL when unterminated. */
static const char *labels_end(const char *p, const char *end)
{
    int quoted = 0;

    for (p++; p < end; p++) {
        if (quoted && *p == '\\')
            p++;
        else if (*p == '"')
            quoted = !quoted;
        else if (!quoted && *p == '}')
            return p + 1;
    }
    return NULL;
}

static void one_line(const char *p, const char *end, ctl_top_sample *s)
{
    const char *name = p, *labels = NULL, *le = NULL;
    size_t nlen;
    char num[64], verdict[32];
    double v;
    char *stop;

    while (p < end && *p != '{' && *p != ' ')
        p++;
    nlen = (size_t)(p - name);
    if (p < end && *p == '{') {
        labels = p;
        if (!(le = labels_end(p, end))) {
            s->bad_lines++;
            return;
        }
        p = le;
    }
    if (p >= end || *p != ' ' || (size_t)(end - p) >= sizeof(num)) {
        s->bad_lines++;
        return;
    }
    memcpy(num, p + 1, (size_t)(end - p - 1));
    num[end - p - 1] = '\0';
    v = strtod(num, &stop);
    if (stop == num || (*stop && *stop != ' ')) {
        s->bad_lines++;
        return;
    }
#define IS(lit) (nlen == sizeof(lit) - 1 && memcmp(name, lit, nlen) == 0)
    if (IS("sluice_messages_in_total")) {
        s->in += v;
        s->has_stage = 1;
    } else if (IS("sluice_messages_out_total")) {
        s->out += v;
    } else if (IS("sluice_verdicts_total")) {
        if (labels && ctl_top_label(labels, (size_t)(le - labels), "verdict",
                                    verdict, sizeof(verdict)) == 1 &&
            strcmp(verdict, "reject") == 0)
            s->rejects += v;
    } else if (IS("sluice_consumer_lag")) {
        s->lag += v;
    } else if (IS("sluice_assigned_partitions")) {
        s->partitions += v;
    } else if (IS("sluice_transaction_aborts_total")) {
        s->aborts += v;
    } else if (IS("sluice_commit_rows_total")) {
        s->rows += v;
    } else if (IS("sluice_http_requests_total")) {
        s->requests += v;
        s->has_http = 1;
    } else if (IS("sluice_ready")) {
        s->ready = v;
    }
#undef IS
}

void ctl_top_parse(const char *text, size_t len, ctl_top_sample *s)
{
    const char *p = text, *end = text + len;

    memset(s, 0, sizeof(*s));
    s->ready = -1;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        static const char in_type[] = "# TYPE sluice_messages_in_total ";
        static const char http_type[] = "# TYPE sluice_http_requests_total ";
        /* the family's declaration says what the process is, before any
         * message or request made a series */
        if ((size_t)(le - p) >= sizeof(in_type) - 1 &&
            memcmp(p, in_type, sizeof(in_type) - 1) == 0)
            s->has_stage = 1;
        else if ((size_t)(le - p) >= sizeof(http_type) - 1 &&
                 memcmp(p, http_type, sizeof(http_type) - 1) == 0)
            s->has_http = 1;
        else if (le > p && *p != '#')
            one_line(p, le, s);
        p = nl ? nl + 1 : end;
    }
}
