/*
 * textenc.h -- character decoding shared by filetype.c and extract.c
 * (internal to services/scan, not installed).
 *
 * One character at a time, never reading past the `n` bytes it is given:
 * strict UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF),
 * UTF-16 of either byte order (an unpaired surrogate becomes U+FFFD), and
 * 8-bit text read as Windows-1252, whose printable range is a superset of
 * ISO-8859-1.  The filetype detector uses them to decide what is text, the
 * extractor to transcode to UTF-8 and to map offsets in the UTF-8 back to
 * the original bytes: both sides step through the bytes with the same
 * functions, so the lengths they count agree.
 */
#ifndef SL_SCAN_TEXTENC_H
#define SL_SCAN_TEXTENC_H

#include <stddef.h>
#include <stdint.h>

#define SL_REPLACEMENT_CHAR 0xFFFDu

/* Length (1-4) of the valid UTF-8 sequence at p, its code point in *cp;
 * 0 when the bytes at p are not a complete, valid sequence. */
static inline size_t sl_utf8_decode(const uint8_t *p, size_t n, uint32_t *cp)
{
    uint32_t c;

    if (n == 0)
        return 0;
    c = p[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c < 0xC2 || c > 0xF4)
        return 0;
    if (c < 0xE0) {
        if (n < 2 || (p[1] & 0xC0) != 0x80)
            return 0;
        *cp = ((c & 0x1F) << 6) | (p[1] & 0x3Fu);
        return 2;
    }
    if (c < 0xF0) {
        if (n < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
            return 0;
        if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F))
            return 0;   /* overlong, or a UTF-16 surrogate */
        *cp = ((c & 0x0F) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
        return 3;
    }
    if (n < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 ||
        (p[3] & 0xC0) != 0x80)
        return 0;
    if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] > 0x8F))
        return 0;       /* overlong, or above U+10FFFF */
    *cp = ((c & 0x07) << 18) | ((p[1] & 0x3Fu) << 12) | ((p[2] & 0x3Fu) << 6) |
          (p[3] & 0x3Fu);
    return 4;
}

/* Bytes the UTF-8 form of cp takes (cp <= U+10FFFF). */
static inline size_t sl_utf8_len(uint32_t cp)
{
    return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/* Writes cp as UTF-8 to out (room for 4) and returns the length. */
static inline size_t sl_utf8_encode(uint32_t cp, uint8_t *out)
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | (cp >> 18));
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* One UTF-16 character at p: returns the bytes it takes (2 or 4; 0 when
 * fewer than 2 bytes are left) and the code point.  An unpaired surrogate
 * takes 2 bytes and reads as U+FFFD. */
static inline size_t sl_utf16_decode(const uint8_t *p, size_t n, int be,
                                     uint32_t *cp)
{
    uint32_t u, v;

    if (n < 2)
        return 0;
    u = be ? (uint32_t)(p[0] << 8 | p[1]) : (uint32_t)(p[1] << 8 | p[0]);
    if (u < 0xD800 || u > 0xDFFF) {
        *cp = u;
        return 2;
    }
    if (u <= 0xDBFF && n >= 4) {
        v = be ? (uint32_t)(p[2] << 8 | p[3]) : (uint32_t)(p[3] << 8 | p[2]);
        if (v >= 0xDC00 && v <= 0xDFFF) {
            *cp = 0x10000 + ((u - 0xD800) << 10) + (v - 0xDC00);
            return 4;
        }
    }
    *cp = SL_REPLACEMENT_CHAR;
    return 2;
}

/* A byte of 8-bit text as Windows-1252 (its five unassigned bytes read as
 * U+FFFD; the rest of 0x80-0x9F are the typographic characters Windows
 * puts there, 0xA0-0xFF are ISO-8859-1). */
static inline uint32_t sl_cp1252(uint8_t b)
{
    static const uint16_t hi[32] = {
        0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
        0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
        0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
        0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178,
    };

    return (b >= 0x80 && b < 0xA0) ? hi[b - 0x80] : b;
}

/* "Mixed" text, what metadata fields hold in practice: valid UTF-8
 * sequences as they are, any other byte as Windows-1252.  Returns the
 * bytes taken (>= 1 when n >= 1) and the code point. */
static inline size_t sl_mixed_decode(const uint8_t *p, size_t n, uint32_t *cp)
{
    size_t k = sl_utf8_decode(p, n, cp);

    if (k)
        return k;
    if (n == 0)
        return 0;
    *cp = sl_cp1252(p[0]);
    return 1;
}

#endif
