/*
 * html.c -- HTML escaping (text, attribute values, URL components) and the
 * sticky-error builder of sl/html.h.
 *
 * The escaper decodes UTF-8 itself, with the WHATWG decoder's rule for bad
 * input (one U+FFFD per maximal invalid subpart), so what reaches a page is
 * always valid UTF-8 free of controls and markup characters, whatever the
 * bytes were.  Runs of harmless bytes are copied in one append.
 */
#include "sl/html.h"

#include <stdio.h>
#include <string.h>

static const char REPL[] = "\xEF\xBF\xBD";   /* U+FFFD */

/* Length of the valid UTF-8 sequence at p[0..n) and its code point, or 0
 * with *bad = the length of the maximal invalid subpart (>= 1). */
size_t sl_utf8_next(const void *vp, size_t n, uint32_t *cp, size_t *bad)
{
    const uint8_t *p = vp;
    uint8_t b;

    if (n == 0) {
        *bad = 0;
        return 0;
    }
    b = p[0];
    size_t need, i;
    uint8_t lo = 0x80, hi = 0xBF;
    uint32_t c;

    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    if (b >= 0xC2 && b <= 0xDF) {
        need = 1;
        c = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 2;
        c = b & 0x0F;
        if (b == 0xE0)
            lo = 0xA0;
        else if (b == 0xED)
            hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 3;
        c = b & 0x07;
        if (b == 0xF0)
            lo = 0x90;
        else if (b == 0xF4)
            hi = 0x8F;
    } else {
        *bad = 1;
        return 0;
    }
    for (i = 1; i <= need; i++) {
        if (i >= n || p[i] < lo || p[i] > hi) {
            *bad = i;
            return 0;
        }
        c = (c << 6) | (p[i] & 0x3F);
        lo = 0x80;
        hi = 0xBF;
    }
    *cp = c;
    return need + 1;
}

static int escape(sl_buf *b, const void *vp, size_t n, int attr)
{
    const uint8_t *p = vp;
    size_t i = 0, run = 0;   /* p[run..i) is pending, copied as is */
    int rc;

    if (!b || (!p && n))
        return SL_EINVAL;
    while (i < n) {
        uint32_t cp = 0;
        size_t bad = 0, len = sl_utf8_next(p + i, n - i, &cp, &bad);
        const char *rep = NULL;
        char num[8];

        if (len == 0) {
            rep = REPL;
            len = bad;
        } else if (cp == '&') {
            rep = "&amp;";
        } else if (cp == '<') {
            rep = "&lt;";
        } else if (cp == '>') {
            rep = "&gt;";
        } else if (cp == '"') {
            rep = "&quot;";
        } else if (cp == '\'') {
            rep = "&#39;";
        } else if (cp == '\t' || cp == '\n' || cp == '\r') {
            if (attr) {
                snprintf(num, sizeof(num), "&#%u;", (unsigned)cp);
                rep = num;
            }
        } else if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) {
            rep = REPL;
        }
        if (!rep) {
            i += len;
            continue;
        }
        if (i > run && (rc = sl_buf_append(b, p + run, i - run)) != SL_OK)
            return rc;
        if ((rc = sl_buf_append(b, rep, strlen(rep))) != SL_OK)
            return rc;
        i += len;
        run = i;
    }
    if (i > run)
        return sl_buf_append(b, p + run, i - run);
    return SL_OK;
}

int sl_html_escape_text(sl_buf *b, const void *p, size_t n)
{
    return escape(b, p, n, 0);
}

int sl_html_escape_attr(sl_buf *b, const void *p, size_t n)
{
    return escape(b, p, n, 1);
}

int sl_html_url_encode(sl_buf *b, const void *vp, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    const uint8_t *p = vp;
    int rc;

    if (!b || (!p && n))
        return SL_EINVAL;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~') {
            rc = sl_buf_putc(b, (char)c);
        } else {
            char e[3] = { '%', hex[c >> 4], hex[c & 15] };
            rc = sl_buf_append(b, e, 3);
        }
        if (rc != SL_OK)
            return rc;
    }
    return SL_OK;
}

size_t sl_utf8_floor(const void *vp, size_t n, size_t at)
{
    const uint8_t *p = vp;
    size_t k;

    if (at >= n)
        return n;
    /* Look back at most 3 bytes for the lead byte of a sequence that
     * covers `at`. */
    for (k = 1; k <= 3 && k <= at; k++) {
        uint8_t c = p[at - k];
        if ((c & 0xC0) == 0x80)
            continue;                 /* another continuation byte */
        if (c >= 0xC0) {
            uint32_t cp;
            size_t bad, len = sl_utf8_next(p + at - k, n - (at - k), &cp, &bad);
            if (len > k)
                return at - k;        /* `at` is inside that sequence */
        }
        break;
    }
    return at;
}

/* ---- builder -------------------------------------------------------- */

static int name_ok(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
            return 0;
    return 1;
}

static void put(sl_html *h, int rc)
{
    if (h->rc == SL_OK && rc != SL_OK)
        h->rc = rc;
}

void sl_html_begin(sl_html *h, sl_buf *out)
{
    h->out = out;
    h->rc = out ? SL_OK : SL_EINVAL;
}

int sl_html_end(const sl_html *h)
{
    return h ? h->rc : SL_EINVAL;
}

void sl_html_raw(sl_html *h, const char *markup)
{
    if (h->rc == SL_OK && markup)
        put(h, sl_buf_append(h->out, markup, strlen(markup)));
}

void sl_html_text(sl_html *h, const char *s)
{
    if (h->rc == SL_OK && s)
        put(h, escape(h->out, s, strlen(s), 0));
}

void sl_html_textn(sl_html *h, const void *p, size_t n)
{
    if (h->rc == SL_OK)
        put(h, escape(h->out, p, n, 0));
}

void sl_html_textf(sl_html *h, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    int n;

    if (h->rc != SL_OK)
        return;
    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        put(h, SL_EINVAL);
        return;
    }
    if ((size_t)n < sizeof(small)) {
        put(h, escape(h->out, small, (size_t)n, 0));
        return;
    }
    {
        sl_buf tmp;
        sl_buf_init(&tmp, (size_t)n + 1);
        va_start(ap, fmt);
        put(h, sl_buf_reserve(&tmp, (size_t)n));
        if (h->rc == SL_OK) {
            vsnprintf((char *)tmp.data, (size_t)n + 1, fmt, ap);
            put(h, escape(h->out, tmp.data, (size_t)n, 0));
        }
        va_end(ap);
        sl_buf_free(&tmp);
    }
}

/* Writes the attributes of ap up to a NULL name. */
static void attrs(sl_html *h, va_list *ap)
{
    const char *name, *val;

    while ((name = va_arg(*ap, const char *)) != NULL) {
        val = va_arg(*ap, const char *);
        if (h->rc != SL_OK)
            continue;                 /* still consume the list */
        if (!name_ok(name)) {
            put(h, SL_EINVAL);
            continue;
        }
        if (!val)
            continue;
        put(h, sl_buf_putc(h->out, ' '));
        put(h, sl_buf_append(h->out, name, strlen(name)));
        put(h, sl_buf_append(h->out, "=\"", 2));
        if (h->rc == SL_OK)
            put(h, escape(h->out, val, strlen(val), 1));
        put(h, sl_buf_putc(h->out, '"'));
    }
}

/* Through a pointer, so a caller may go on reading its list after. */
static void open_p(sl_html *h, const char *tag, va_list *ap)
{
    if (h->rc == SL_OK && !name_ok(tag))
        put(h, SL_EINVAL);
    if (h->rc == SL_OK) {
        put(h, sl_buf_putc(h->out, '<'));
        put(h, sl_buf_append(h->out, tag, strlen(tag)));
    }
    attrs(h, ap);
    if (h->rc == SL_OK)
        put(h, sl_buf_putc(h->out, '>'));
}

void sl_html_vopen(sl_html *h, const char *tag, va_list ap)
{
    va_list cp;

    va_copy(cp, ap);
    open_p(h, tag, &cp);
    va_end(cp);
}

void sl_html_open(sl_html *h, const char *tag, ...)
{
    va_list ap;

    va_start(ap, tag);
    open_p(h, tag, &ap);
    va_end(ap);
}

void sl_html_close(sl_html *h, const char *tag)
{
    if (h->rc == SL_OK && !name_ok(tag))
        put(h, SL_EINVAL);
    if (h->rc != SL_OK)
        return;
    put(h, sl_buf_append(h->out, "</", 2));
    put(h, sl_buf_append(h->out, tag, strlen(tag)));
    put(h, sl_buf_putc(h->out, '>'));
}

void sl_html_elem(sl_html *h, const char *tag, ...)
{
    va_list ap;
    const char *text;

    va_start(ap, tag);
    open_p(h, tag, &ap);   /* consumes the pairs and the NULL */
    text = va_arg(ap, const char *);
    va_end(ap);
    sl_html_text(h, text);
    sl_html_close(h, tag);
}
