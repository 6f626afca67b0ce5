/*
 * common.h -- the few types every part of sluice shares.
 *
 * Ownership rule, stated once for the whole library: a function that returns
 * a pointer from `*_new` or `*_dup` hands ownership to the caller, who frees
 * it with the matching `*_destroy` / `free`; every `*_destroy` accepts NULL.
 * An `sl_slice` is always borrowed: it points into memory someone else owns
 * and is valid only as long as that owner says (for processors: during one
 * `process()` call).  Functions return 0 (SL_OK) on success and a negative
 * SL_E* code on failure; sl_strerror() names the code.
 */
#ifndef SL_COMMON_H
#define SL_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define SL_OK          0
#define SL_ERR        -1   /* generic failure, detail in the error buffer */
#define SL_ENOMEM     -2
#define SL_EINVAL     -3   /* bad argument or bad input */
#define SL_ENOTFOUND  -4
#define SL_ETOOBIG    -5   /* a capped buffer would exceed its limit */
#define SL_EIO        -6   /* I/O, network or database failure, retriable */

const char *sl_strerror(int code);

/* A borrowed run of bytes. */
typedef struct sl_slice {
    const uint8_t *ptr;
    size_t len;
} sl_slice;

#define SL_SLICE_STR(s) ((sl_slice){ (const uint8_t *)(s), strlen(s) })

/* A fixed-size error text buffer filled by functions that can fail with a
 * specific reason (config parsing, schema checks, database errors). */
#define SL_ERRBUF_SIZE 512
typedef struct sl_err {
    char msg[SL_ERRBUF_SIZE];
} sl_err;

void sl_err_set(sl_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Drops trailing newlines and spaces (libpq's messages end with a newline). */
void sl_err_trim(sl_err *err);

/* Growable byte buffer with a mandatory cap (curl's dynbuf idea): every
 * buffer that input can grow refuses to pass `max` with SL_ETOOBIG. */
typedef struct sl_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t max;
} sl_buf;

void sl_buf_init(sl_buf *b, size_t max);
void sl_buf_free(sl_buf *b);
void sl_buf_reset(sl_buf *b);
int  sl_buf_append(sl_buf *b, const void *p, size_t n);
int  sl_buf_appendf(sl_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int  sl_buf_putc(sl_buf *b, char c);
/* Makes room for n more bytes (plus a NUL) so a caller may write them at
 * data + len itself and then advance len.  SL_OK, SL_ETOOBIG, SL_ENOMEM. */
int  sl_buf_reserve(sl_buf *b, size_t n);
/* NUL-terminates without counting the NUL in len. */
int  sl_buf_cstr(sl_buf *b);

/* Hex helpers. `out` must hold 2*n+1 bytes. */
void sl_hex_encode(const uint8_t *in, size_t n, char *out);
/* Decodes exactly 2*n hex chars; returns SL_EINVAL on a bad digit. */
int  sl_hex_decode(const char *in, size_t inlen, uint8_t *out, size_t n);

/* Makes s (n bytes) valid UTF-8 without NUL into out (appended): an
 * invalid byte becomes U+FFFD, a NUL is dropped. */
int  sl_utf8_sanitize(sl_buf *out, const char *s, size_t n);

/* Wall clock in milliseconds since the epoch. */
int64_t sl_now_ms(void);
/* Monotonic clock in milliseconds. */
int64_t sl_mono_ms(void);
/* The next wait of a retry after one of prev ms (0: the first): 200 ms,
 * doubling, at most 5 s. */
int64_t sl_backoff_next(int64_t prev);

#endif
