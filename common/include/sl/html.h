/*
 * html.h -- HTML escaping and a tiny builder over sl_buf, for every page an
 * HTTP service of sluice renders (the review dashboard, the delivery
 * feed).  Pure: no I/O.
 *
 * Escaping treats every input byte as hostile.  Text and attribute values
 * are written so that the HTML parser can only read them back as the same
 * characters, never as markup:
 *   &  <  >  "  '        ->  &amp; &lt; &gt; &quot; &#39;  (in both modes)
 *   NUL, C0 controls other than TAB LF CR, DEL, C1 controls (U+0080..9F)
 *                        ->  U+FFFD
 *   invalid UTF-8 (stray continuation bytes, overlong forms, surrogates,
 *   code points above U+10FFFF, a sequence cut short)
 *                        ->  one U+FFFD per maximal invalid subpart (the
 *                            WHATWG decoder's rule), the rest kept
 * so the output is always valid UTF-8.  In attribute values TAB, LF and CR
 * become &#9; &#10; &#13; too (the value survives attribute normalisation).
 * The same escaping serves text nodes and double- or single-quoted
 * attribute values; unquoted attributes are never written.
 *
 * The builder (sl_html) writes into a caller's sl_buf and keeps the first
 * error (sticky, like stdio's ferror): a renderer calls the functions in
 * sequence and checks sl_html_end() once.  Tag and attribute names must be
 * literals of [a-z0-9-]; anything else is a programming error reported as
 * SL_EINVAL, so a name can never carry input.
 */
#ifndef SL_HTML_H
#define SL_HTML_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "sl/common.h"

/* Escaped text of p[0..n) appended to b.  SL_OK, SL_ETOOBIG, SL_ENOMEM. */
int sl_html_escape_text(sl_buf *b, const void *p, size_t n);
/* The same for an attribute value (TAB/LF/CR also as references). */
int sl_html_escape_attr(sl_buf *b, const void *p, size_t n);
/* Percent-encodes p[0..n) for a URL path segment or query value: every
 * byte outside [A-Za-z0-9-._~] becomes %XX (uppercase hex).  The result
 * is plain ASCII; it still goes through sl_html_escape_attr in an href. */
int sl_html_url_encode(sl_buf *b, const void *p, size_t n);
/* Decodes one UTF-8 sequence at p[0..n) (n >= 1): its length (1..4) and
 * *cp, or 0 when it is invalid, with *bad = the length of its maximal
 * invalid subpart (>= 1), the bytes one U+FFFD stands for. */
size_t sl_utf8_next(const void *p, size_t n, uint32_t *cp, size_t *bad);
/* The length of the longest prefix of p[0..n) that ends on a UTF-8
 * sequence boundary when cut at `at` (<= n): `at` moved back over
 * continuation bytes of a sequence that starts before it, at most 3. */
size_t sl_utf8_floor(const void *p, size_t n, size_t at);

typedef struct sl_html {
    sl_buf *out;
    int rc;             /* first error, SL_OK until then */
} sl_html;

void sl_html_begin(sl_html *h, sl_buf *out);
/* The first error since sl_html_begin, or SL_OK. */
int  sl_html_end(const sl_html *h);

/* Trusted markup, written as is: only string literals of the renderer. */
void sl_html_raw(sl_html *h, const char *markup);
/* Escaped text: NUL-terminated (NULL writes nothing), or counted. */
void sl_html_text(sl_html *h, const char *s);
void sl_html_textn(sl_html *h, const void *p, size_t n);
/* printf, then escaped as text: numbers and the like with input in them. */
void sl_html_textf(sl_html *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* <tag name="value" ...>: attributes as (name, value) string pairs ending
 * with a NULL name.  A NULL value leaves the attribute out; "" writes
 * name="".  A value is escaped.  Boolean attributes: pass the name as the
 * value ("disabled", "disabled").  Void elements (input, meta, br) use
 * this too and are not closed. */
void sl_html_open(sl_html *h, const char *tag, ...);
void sl_html_vopen(sl_html *h, const char *tag, va_list ap);
/* </tag> */
void sl_html_close(sl_html *h, const char *tag);
/* <tag attrs...>text</tag> in one call: the text after the NULL that ends
 * the attributes. */
void sl_html_elem(sl_html *h, const char *tag, ...);

#endif
