/*
 * util.c -- error codes, capped buffers, hex, UTF-8 repair and clocks shared by every
 * module (see sl/common.h for the ownership rules).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl/common.h"

const char *sl_strerror(int code)
{
    switch (code) {
    case SL_OK:         return "ok";
    case SL_ERR:        return "failed";
    case SL_ENOMEM:     return "out of memory";
    case SL_EINVAL:     return "invalid argument or input";
    case SL_ENOTFOUND:  return "not found";
    case SL_ETOOBIG:    return "size limit exceeded";
    case SL_EIO:        return "I/O or connection failure";
    default:            return "unknown error";
    }
}

void sl_err_set(sl_err *err, const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
}

void sl_err_trim(sl_err *err)
{
    size_t n;

    if (!err)
        return;
    n = strlen(err->msg);
    while (n && (err->msg[n - 1] == '\n' || err->msg[n - 1] == ' '))
        err->msg[--n] = '\0';
}

void sl_buf_init(sl_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void sl_buf_free(sl_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void sl_buf_reset(sl_buf *b)
{
    b->len = 0;
}

/* Makes room for n more bytes plus a NUL, within the cap. */
static int buf_reserve(sl_buf *b, size_t n)
{
    size_t need, ncap;
    uint8_t *p;

    if (n > b->max || b->len > b->max - n)
        return SL_ETOOBIG;
    need = b->len + n + 1;
    if (need <= b->cap)
        return SL_OK;
    ncap = b->cap ? b->cap : 256;
    while (ncap < need)
        ncap *= 2;
    p = realloc(b->data, ncap);
    if (!p)
        return SL_ENOMEM;
    b->data = p;
    b->cap = ncap;
    return SL_OK;
}

int sl_buf_reserve(sl_buf *b, size_t n)
{
    return buf_reserve(b, n);
}

int sl_buf_append(sl_buf *b, const void *p, size_t n)
{
    int rc = buf_reserve(b, n);

    if (rc != SL_OK)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return SL_OK;
}

int sl_buf_putc(sl_buf *b, char c)
{
    return sl_buf_append(b, &c, 1);
}

int sl_buf_appendf(sl_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n, rc;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return SL_EINVAL;
    rc = buf_reserve(b, (size_t)n);
    if (rc != SL_OK)
        return rc;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return SL_OK;
}

int sl_buf_cstr(sl_buf *b)
{
    int rc = buf_reserve(b, 0);

    if (rc != SL_OK)
        return rc;
    b->data[b->len] = '\0';
    return SL_OK;
}

void sl_hex_encode(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int sl_hex_decode(const char *in, size_t inlen, uint8_t *out, size_t n)
{
    if (inlen != 2 * n)
        return SL_EINVAL;
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(in[2 * i]), lo = hexval(in[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return SL_EINVAL;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return SL_OK;
}

int64_t sl_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sl_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sl_backoff_next(int64_t prev)
{
    if (prev <= 0)
        return 200;
    return prev >= 2500 ? 5000 : prev * 2;
}

int sl_utf8_sanitize(sl_buf *out, const char *s, size_t n)
{
    static const char repl[] = "\xef\xbf\xbd";
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0;
    int rc = SL_OK;

    while (i < n && rc == SL_OK) {
        uint8_t c = p[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 :
                     (c >> 3) == 30 ? 4 : 0;
        int ok = len > 0 && i + len <= n;
        uint32_t cp = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;

        for (size_t k = 1; ok && k < len; k++) {
            ok = (p[i + k] & 0xc0) == 0x80;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if (ok)   /* overlong forms, surrogates and out-of-range are invalid */
            ok = !((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
                   (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
                   (cp >= 0xd800 && cp <= 0xdfff));
        if (!ok) {
            rc = sl_buf_append(out, repl, 3);
            i++;
        } else if (c == 0) {
            i++;
        } else {
            rc = sl_buf_append(out, p + i, len);
            i += len;
        }
    }
    return rc;
}
