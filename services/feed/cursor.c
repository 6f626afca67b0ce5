/*
 * cursor.c -- feed cursors (feed_logic.h): an opaque, URL-safe text naming
 * a position in one stream of one dataset (or creator).
 *
 * Layout: the stream letter ('s', 'c', 'u'), then base64url without
 * padding (libsodium) of 15 bytes: a version byte (1), the position as a
 * 64-bit big-endian number, and a 6-byte tag, the first bytes of
 * SHA-256("sluice-feed-cursor-v1\n" stream "\n" scope "\n" position).  21
 * characters in all.  The tag is no secret and no signature: it binds the
 * cursor to its stream and scope, so a cursor of another dataset is
 * refused instead of being misread as a position there, and it makes a
 * typo or a truncated copy a bad_cursor rather than a silent jump.  A
 * forged cursor can only name a position the forger could have read
 * anyway: what a token may see is decided by its grant, not its cursor.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "feed_logic.h"

#define CUR_VERSION  1
#define CUR_TAG      6
#define CUR_RAW      (1 + 8 + CUR_TAG)                /* 15 bytes */
#define CUR_B64      20                               /* 15 * 4 / 3 */
#define CUR_TEXT     (1 + CUR_B64)                    /* 21 chars */
#define CUR_DOMAIN   "sluice-feed-cursor-v1\n"

static int valid_stream(fd_stream s)
{
    return s == FD_STREAM_SAMPLES || s == FD_STREAM_CHANGES ||
           s == FD_STREAM_UPLOADS;
}

/* The tag of (stream, scope, seq) into tag[CUR_TAG]: libsodium's
 * incremental SHA-256, no allocation whatever the scope's length. */
static void cursor_tag(fd_stream stream, const char *scope, uint64_t seq,
                       uint8_t tag[CUR_TAG])
{
    crypto_hash_sha256_state st;
    uint8_t md[crypto_hash_sha256_BYTES];
    char head[3] = { (char)stream, '\n', 0 }, num[32];
    int len = snprintf(num, sizeof num, "\n%llu", (unsigned long long)seq);

    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)CUR_DOMAIN,
                              sizeof CUR_DOMAIN - 1);
    crypto_hash_sha256_update(&st, (const uint8_t *)head, 2);
    crypto_hash_sha256_update(&st, (const uint8_t *)scope, strlen(scope));
    crypto_hash_sha256_update(&st, (const uint8_t *)num, (size_t)len);
    crypto_hash_sha256_final(&st, md);
    memcpy(tag, md, CUR_TAG);
}

int fd_cursor_encode(fd_stream stream, const char *scope, uint64_t seq,
                     char out[FD_CURSOR_MAX])
{
    uint8_t raw[CUR_RAW];
    int i;

    if (!scope || !*scope || !valid_stream(stream) || seq > INT64_MAX)
        return SL_EINVAL;
    if (sodium_init() < 0)
        return SL_ERR;
    raw[0] = CUR_VERSION;
    for (i = 0; i < 8; i++)
        raw[1 + i] = (uint8_t)(seq >> (56 - 8 * i));
    cursor_tag(stream, scope, seq, raw + 9);
    out[0] = (char)stream;
    sodium_bin2base64(out + 1, FD_CURSOR_MAX - 1, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return SL_OK;
}

int fd_cursor_decode(const char *text, fd_stream stream, const char *scope,
                     uint64_t *seq)
{
    uint8_t raw[CUR_RAW], tag[CUR_TAG];
    const char *end = NULL;
    size_t n = 0;
    uint64_t v = 0;
    int i;

    if (!scope || !*scope || !valid_stream(stream))
        return SL_EINVAL;
    if (!text || !*text) {
        *seq = 0;
        return SL_OK;
    }
    /* strnlen: never read past a cursor's length in a longer hostile text */
    if (strnlen(text, CUR_TEXT + 1) != CUR_TEXT || text[0] != (char)stream)
        return SL_EINVAL;
    if (sodium_init() < 0)
        return SL_ERR;
    if (sodium_base642bin(raw, sizeof raw, text + 1, CUR_B64, NULL, &n, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        n != CUR_RAW || end != text + CUR_TEXT)
        return SL_EINVAL;
    if (raw[0] != CUR_VERSION)
        return SL_EINVAL;
    for (i = 0; i < 8; i++)
        v = (v << 8) | raw[1 + i];
    if (v > INT64_MAX)
        return SL_EINVAL;
    cursor_tag(stream, scope, v, tag);
    if (memcmp(tag, raw + 9, CUR_TAG) != 0)
        return SL_EINVAL;
    *seq = v;
    return SL_OK;
}
