/*
 * extract.c -- the text a sample carries, as UTF-8 segments for the PII
 * scanner: the text itself for text-encoded samples, the metadata of PNG,
 * JPEG (COM, EXIF, XMP, IPTC), GIF, WebP, TIFF and PDF (document info,
 * XMP) files, and EXIF GPS as a location.  extract.h states the contract.
 *
 * Every parser reads through bounds-checked helpers or checks `n - i`
 * before it reads; none trusts a length or offset it read from the input.
 * A parser that meets a broken structure sets SL_XF_MALFORMED and returns
 * with what it found so far.  Text lands in one arena (an sl_buf capped at
 * max_bytes); segments keep arena offsets while it may move and get their
 * pointers at the end of the run.
 *
 * Work.  Every parser charges the run's budget (budget.h) through charge():
 * the bytes it examines and the structures it visits.  Once it is
 * exhausted, stopped() is true and every loop ends at its next check.  No
 * parser goes back over bytes it has read for each structure it finds:
 * the PDF reader resumes its searches after the dictionary it just read,
 * never inside it.
 */
#include "extract.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "budget.h"
#include "extract_int.h"
#include "textenc.h"

#define BORROWED ((size_t)-1)   /* segment text points into the input */
#define MAX_IFDS 8
#define MAX_PDF_REFS 8
#define MAX_PDF_OBJS 16
#define MAX_XMP_PACKETS 8
#define PDF_MAX_DEPTH 32

/* How bytes are decoded into the arena. */
typedef enum dec {
    DEC_MIXED,      /* UTF-8 where valid, else Windows-1252 */
    DEC_CP1252,
    DEC_UTF16LE,
    DEC_UTF16BE,
    DEC_PDFDOC,     /* PDFDocEncoding (ISO 32000-1 annex D) */
} dec;

/* ---- decoding, shared by emission and by sl_extract_map ----------------- */

static uint32_t pdfdoc(uint8_t b)
{
    static const uint16_t low[8] = {    /* 0x18-0x1F */
        0x02D8, 0x02C7, 0x02C6, 0x02D9, 0x02DD, 0x02DB, 0x02DA, 0x02DC,
    };
    static const uint16_t high[33] = {  /* 0x80-0xA0 */
        0x2022, 0x2020, 0x2021, 0x2026, 0x2014, 0x2013, 0x0192, 0x2044,
        0x2039, 0x203A, 0x2212, 0x2030, 0x201E, 0x201C, 0x201D, 0x2018,
        0x2019, 0x201A, 0x2122, 0xFB01, 0xFB02, 0x0141, 0x0152, 0x0160,
        0x0178, 0x017D, 0x0131, 0x0142, 0x0153, 0x0161, 0x017E, 0xFFFD,
        0x20AC,
    };

    if (b >= 0x18 && b <= 0x1F)
        return low[b - 0x18];
    if (b >= 0x80 && b <= 0xA0)
        return high[b - 0x80];
    if (b == 0x7F)
        return 0xFFFD;
    return b;
}

/* One character: bytes taken (0: none left, or a lone trailing byte of
 * UTF-16), its code point, and whether it was read as UTF-8 (MIXED). */
static size_t dec_step(dec d, const uint8_t *p, size_t n, uint32_t *cp,
                       int *utf8)
{
    size_t k;

    *utf8 = 0;
    switch (d) {
    case DEC_MIXED:
        k = sl_utf8_decode(p, n, cp);
        if (k) {
            *utf8 = 1;
            return k;
        }
        if (n == 0)
            return 0;
        *cp = sl_cp1252(p[0]);
        return 1;
    case DEC_CP1252:
        if (n == 0)
            return 0;
        *cp = sl_cp1252(p[0]);
        return 1;
    case DEC_UTF16LE:
    case DEC_UTF16BE:
        return sl_utf16_decode(p, n, d == DEC_UTF16BE, cp);
    case DEC_PDFDOC:
        if (n == 0)
            return 0;
        *cp = pdfdoc(p[0]);
        return 1;
    }
    return 0;
}

/* NUL would end C strings and means nothing in text: a space instead. */
static uint32_t clean(uint32_t cp)
{
    return cp == 0 ? ' ' : cp;
}

/* ---- segments ------------------------------------------------------------ */

static int stopped(const sl_extract *x)
{
    return (x->flags & (SL_XF_TRUNCATED | SL_XF_BUDGET | SL_XF_BOMB)) != 0;
}

/* Charges `bytes` examined and `steps` structures visited to the run's
 * budget: 1 while it holds, 0 (and SL_XF_BUDGET) once it is exhausted. */
static int charge(sl_extract *x, uint64_t bytes, uint64_t steps)
{
    if (!x->budget)
        return 1;
    if (sl_budget_bytes(x->budget, x->part, bytes) &&
        sl_budget_steps(x->budget, x->part, steps))
        return 1;
    x->flags |= SL_XF_BUDGET;
    return 0;
}

static void make_source(char *dst, const char *prefix, const uint8_t *name,
                        size_t nlen)
{
    size_t o = (size_t)snprintf(dst, SL_EXTRACT_SOURCE_MAX, "%s", prefix);

    if (o >= SL_EXTRACT_SOURCE_MAX)
        o = SL_EXTRACT_SOURCE_MAX - 1;
    for (size_t i = 0; i < nlen && o + 1 < SL_EXTRACT_SOURCE_MAX; i++)
        dst[o++] = (name[i] > 0x20 && name[i] < 0x7f) ? (char)name[i] : '_';
    dst[o] = '\0';
}

/* A new segment, or NULL at the segment cap (sets TRUNCATED) or out of
 * memory.  A field cut at the byte budget still gets its segment: the
 * parsers stop after it (stopped()). */
static sl_xseg *seg_add(sl_extract *x, const char *prefix, const char *name,
                        size_t src_off, size_t src_len, sl_xmap map)
{
    sl_xseg *s;

    if (x->nseg == SL_EXTRACT_MAX_SEGS) {
        x->flags |= SL_XF_TRUNCATED;
        return NULL;
    }
    if (x->nseg == x->capseg) {
        size_t ncap = x->capseg ? x->capseg * 2 : 16;
        sl_xseg *ns;

        if (ncap > SL_EXTRACT_MAX_SEGS)
            ncap = SL_EXTRACT_MAX_SEGS;
        ns = realloc(x->seg, ncap * sizeof(*ns));
        if (!ns)
            return NULL;
        x->seg = ns;
        x->capseg = ncap;
    }
    s = &x->seg[x->nseg++];
    memset(s, 0, sizeof(*s));
    make_source(s->source, prefix, (const uint8_t *)name, name ? strlen(name) : 0);
    memcpy(s->member, x->member, sizeof(s->member));
    s->src_off = src_off;
    s->src_len = src_len;
    s->map = map;
    s->text = NULL;
    s->len = BORROWED;      /* the arena offset lives in len until fixup */
    return s;
}

/* Decodes p[0..n) into the arena within the budget.  Returns SL_OK or
 * SL_ENOMEM; *all_utf8 = every character came as valid UTF-8. */
static int put_text(sl_extract *x, dec d, const uint8_t *p, size_t n,
                    size_t *out_len, int *all_utf8)
{
    size_t room = x->max_bytes - x->arena.len, worst, want, o = 0, i = 0;
    uint8_t *w;
    int utf8 = 1, u;
    uint32_t cp;

    *out_len = 0;
    *all_utf8 = 1;
    if (n == 0 || !charge(x, n, 0))
        return SL_OK;
    worst = (d == DEC_UTF16LE || d == DEC_UTF16BE) ? n / 2 * 3 + 4
            : n > ((size_t)-1) / 3 ? (size_t)-1 : n * 3;
    want = worst < room ? worst : room;
    if (want == 0) {
        x->flags |= SL_XF_TRUNCATED;
        return SL_OK;
    }
    if (sl_buf_reserve(&x->arena, want) != SL_OK)
        return SL_ENOMEM;
    w = x->arena.data + x->arena.len;
    while (i < n) {
        size_t k, len;

        if (d == DEC_MIXED || d == DEC_CP1252) {
            /* a run of ASCII (bar NUL) is itself in both: copied as is */
            size_t run = 0;

            while (i + run < n && (uint8_t)(p[i + run] - 1) < 0x7f)
                run++;
            if (run) {
                int cut = run > want - o;

                if (cut) {
                    run = want - o;
                    x->flags |= SL_XF_TRUNCATED;
                }
                memcpy(w + o, p + i, run);
                o += run;
                i += run;
                if (cut)
                    break;
                continue;
            }
        }
        k = dec_step(d, p + i, n - i, &cp, &u);
        if (k == 0)
            break;
        cp = clean(cp);
        len = sl_utf8_len(cp);
        if (o + len > want) {
            x->flags |= SL_XF_TRUNCATED;
            break;
        }
        sl_utf8_encode(cp, w + o);
        o += len;
        utf8 &= u;
        i += k;
    }
    x->arena.len += o;
    *out_len = o;
    *all_utf8 = utf8;
    return SL_OK;
}

/* A segment of input bytes p[0..n) (p points into x->in), decoded with d. */
static int emit_in(sl_extract *x, const char *prefix, const char *name,
                   const uint8_t *p, size_t n, dec d)
{
    sl_xmap map = d == DEC_MIXED ? SL_XMAP_MIXED
                : d == DEC_CP1252 ? SL_XMAP_CP1252
                : d == DEC_UTF16LE ? SL_XMAP_UTF16LE
                : d == DEC_UTF16BE ? SL_XMAP_UTF16BE : SL_XMAP_COARSE;
    size_t start = x->arena.len, len;
    sl_xseg *s;
    int utf8, rc;

    if (n == 0)
        return SL_OK;
    s = seg_add(x, prefix, name, (size_t)(p - x->in.ptr), n, map);
    if (!s)
        return stopped(x) ? SL_OK : SL_ENOMEM;
    rc = put_text(x, d, p, n, &len, &utf8);
    if (rc != SL_OK || len == 0) {
        x->nseg--;
        return rc;
    }
    if (d == DEC_MIXED && utf8)
        s->map = SL_XMAP_IDENTITY;
    s->len = start;     /* arena offset, see fixup() */
    s->src_len = n;
    return SL_OK;
}

/* A segment decoded from bytes that are not in the input (inflated,
 * unescaped): it maps only to the whole field src_off..+src_len. */
static int emit_coarse(sl_extract *x, const char *prefix, const char *name,
                       const uint8_t *p, size_t n, dec d, size_t src_off,
                       size_t src_len)
{
    size_t start = x->arena.len, len;
    sl_xseg *s;
    int utf8, rc;

    if (n == 0)
        return SL_OK;
    s = seg_add(x, prefix, name, src_off, src_len, SL_XMAP_COARSE);
    if (!s)
        return stopped(x) ? SL_OK : SL_ENOMEM;
    rc = put_text(x, d, p, n, &len, &utf8);
    if (rc != SL_OK || len == 0) {
        x->nseg--;
        return rc;
    }
    s->len = start;
    return SL_OK;
}

/* Segment lengths and pointers once the arena no longer moves: segments
 * are appended in arena order, so each ends where the next one starts. */
static void fixup(sl_extract *x)
{
    size_t i, end = x->arena.len;

    for (i = x->nseg; i-- > 0;) {
        sl_xseg *s = &x->seg[i];

        if (s->text)
            continue;       /* borrowed */
        s->text = x->arena.data + s->len;
        s->len = end - s->len;
        end -= s->len;
    }
}

/* Drops trailing NULs and blanks of a metadata field. */
static size_t trim8(const uint8_t *p, size_t n)
{
    while (n > 0 && (p[n - 1] == 0 || p[n - 1] == ' '))
        n--;
    return n;
}

static size_t trim16(const uint8_t *p, size_t n, int be)
{
    n &= ~(size_t)1;
    while (n >= 2 && (p[n - 1 - be] == 0 || p[n - 1 - be] == ' ') && p[n - 2 + be] == 0)
        n -= 2;
    return n;
}

/* ---- zlib ------------------------------------------------------------------ */

/* Inflates p[0..n) (zlib format) into x->scratch, up to the byte budget.
 * 1 on success (possibly cut at the budget: TRUNCATED), 0 on corrupt
 * data (MALFORMED; scratch keeps what came out), -1 out of memory. */
static int inflate_capped(sl_extract *x, const uint8_t *p, size_t n)
{
    z_stream zs;
    int rc, ret = 1;

    sl_buf_reset(&x->scratch);
    if (!charge(x, n, 1))
        return 1;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit(&zs) != Z_OK)
        return -1;
    zs.next_in = (Bytef *)(uintptr_t)p;
    zs.avail_in = n > 0x7fffffffu ? 0x7fffffffu : (uInt)n;
    for (;;) {
        size_t room = x->max_bytes - x->arena.len, want;

        if (room > x->scratch.max - x->scratch.len)
            room = x->scratch.max - x->scratch.len;
        if (room == 0) {
            x->flags |= SL_XF_TRUNCATED;
            break;
        }
        want = room < 65536 ? room : 65536;
        if (sl_buf_reserve(&x->scratch, want) != SL_OK) {
            ret = -1;
            break;
        }
        zs.next_out = x->scratch.data + x->scratch.len;
        zs.avail_out = (uInt)want;
        rc = inflate(&zs, Z_NO_FLUSH);
        x->scratch.len += want - zs.avail_out;
        if (!charge(x, want - zs.avail_out, 0))
            break;
        if (rc == Z_STREAM_END)
            break;
        if (rc != Z_OK || (zs.avail_in == 0 && zs.avail_out != 0)) {
            x->flags |= SL_XF_MALFORMED;
            ret = 0;
            break;
        }
    }
    inflateEnd(&zs);
    return ret;
}

/* ---- EXIF / TIFF ------------------------------------------------------------ */

typedef struct tiff {
    const uint8_t *p;
    size_t n;
    int be;
} tiff;

static int t16(const tiff *t, size_t off, uint32_t *v)
{
    if (off > t->n || t->n - off < 2)
        return 0;
    *v = t->be ? (uint32_t)(t->p[off] << 8 | t->p[off + 1])
               : (uint32_t)(t->p[off + 1] << 8 | t->p[off]);
    return 1;
}

static int t32(const tiff *t, size_t off, uint32_t *v)
{
    const uint8_t *q;

    if (off > t->n || t->n - off < 4)
        return 0;
    q = t->p + off;
    *v = t->be ? (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3]
               : (uint32_t)q[3] << 24 | (uint32_t)q[2] << 16 | (uint32_t)q[1] << 8 | q[0];
    return 1;
}

static size_t tiff_type_size(uint32_t type)
{
    switch (type) {
    case 1: case 2: case 6: case 7: return 1;   /* BYTE ASCII SBYTE UNDEFINED */
    case 3: case 8: return 2;                   /* SHORT SSHORT */
    case 4: case 9: case 11: case 13: return 4; /* LONG SLONG FLOAT IFD */
    case 5: case 10: case 12: return 8;         /* RATIONAL SRATIONAL DOUBLE */
    default: return 0;
    }
}

static const struct { uint16_t tag; const char *name; } exif_names[] = {
    { 0x010D, "DocumentName" }, { 0x010E, "ImageDescription" },
    { 0x010F, "Make" }, { 0x0110, "Model" }, { 0x011D, "PageName" },
    { 0x0131, "Software" }, { 0x013B, "Artist" }, { 0x013C, "HostComputer" },
    { 0x8298, "Copyright" }, { 0x9286, "UserComment" },
    { 0x9C9B, "XPTitle" }, { 0x9C9C, "XPComment" }, { 0x9C9D, "XPAuthor" },
    { 0x9C9E, "XPKeywords" }, { 0x9C9F, "XPSubject" },
    { 0xA420, "ImageUniqueID" }, { 0xA430, "CameraOwnerName" },
    { 0xA431, "BodySerialNumber" }, { 0xA433, "LensMake" },
    { 0xA434, "LensModel" }, { 0xA435, "LensSerialNumber" },
    { 0x001C, "GPSAreaInformation" },
};

static const char *exif_name(uint32_t tag, char *buf, size_t bufsz)
{
    for (size_t i = 0; i < sizeof(exif_names) / sizeof(exif_names[0]); i++)
        if (exif_names[i].tag == tag)
            return exif_names[i].name;
    snprintf(buf, bufsz, "0x%04X", (unsigned)tag);
    return buf;
}

static int exif_is_date(uint32_t tag)
{
    return tag == 0x0132 || tag == 0x9003 || tag == 0x9004 ||
           (tag >= 0x9010 && tag <= 0x9012) || (tag >= 0x9290 && tag <= 0x9292);
}

/* UserComment / GPSAreaInformation: an 8-byte character-code prefix. */
static int exif_comment(sl_extract *x, const tiff *t, const char *name,
                        const uint8_t *v, size_t n)
{
    if (n >= 8 && memcmp(v, "UNICODE\0", 8) == 0) {
        int be = t->be;

        v += 8, n -= 8;
        if (n >= 2 && ((v[0] == 0xFE && v[1] == 0xFF) || (v[0] == 0xFF && v[1] == 0xFE))) {
            be = v[0] == 0xFE;
            v += 2, n -= 2;
        }
        return emit_in(x, "exif:", name, v, trim16(v, n, be),
                       be ? DEC_UTF16BE : DEC_UTF16LE);
    }
    if (n >= 8 && (memcmp(v, "ASCII\0\0\0", 8) == 0 ||
                   memcmp(v, "\0\0\0\0\0\0\0\0", 8) == 0 ||
                   memcmp(v, "JIS\0\0\0\0\0", 8) == 0))
        v += 8, n -= 8;
    return emit_in(x, "exif:", name, v, trim8(v, n), DEC_MIXED);
}

/* A GPS coordinate: up to three RATIONALs (degrees, minutes, seconds). */
static int gps_coord(const tiff *t, uint32_t type, uint32_t count, size_t voff,
                     double *out)
{
    static const double scale[3] = { 1.0, 60.0, 3600.0 };
    double v = 0;

    if (type != 5 || count == 0)
        return 0;
    for (uint32_t k = 0; k < count && k < 3; k++) {
        uint32_t num, den;

        if (!t32(t, voff + 8 * k, &num) || !t32(t, voff + 8 * k + 4, &den) ||
            den == 0)
            return 0;
        v += (double)num / den / scale[k];
    }
    *out = v;
    return 1;
}

enum { IFD_MAIN, IFD_EXIF, IFD_GPS };

typedef struct ifd_queue {
    uint32_t off[MAX_IFDS];
    int kind[MAX_IFDS];
    size_t n;
    uint32_t seen[MAX_IFDS * 2];
    size_t nseen;
} ifd_queue;

static void ifd_push(ifd_queue *q, uint32_t off, int kind)
{
    for (size_t i = 0; i < q->nseen; i++)
        if (q->seen[i] == off)
            return;                 /* a loop, or a second pointer */
    if (q->n == MAX_IFDS || q->nseen == MAX_IFDS * 2 || off == 0)
        return;
    q->seen[q->nseen++] = off;
    q->off[q->n] = off;
    q->kind[q->n++] = kind;
}

static int exif_ifd(sl_extract *x, const tiff *t, uint32_t off, int kind,
                    ifd_queue *q)
{
    uint32_t cnt = 0, next = 0;
    int lat_ref = 0, lon_ref = 0, has_lat = 0, has_lon = 0, rc = SL_OK;
    double lat = 0, lon = 0;

    if (!t16(t, off, &cnt)) {
        x->flags |= SL_XF_MALFORMED;
        return SL_OK;
    }
    if (cnt > (t->n - off - 2) / 12) {
        x->flags |= SL_XF_MALFORMED;
        cnt = (uint32_t)((t->n - off - 2) / 12);
    }
    if (!charge(x, 2 + 12 * (uint64_t)cnt, 1 + (uint64_t)cnt))
        return SL_OK;
    for (uint32_t e = 0; e < cnt && rc == SL_OK && !stopped(x); e++) {
        size_t eo = off + 2 + 12 * (size_t)e, size, total, voff;
        uint32_t tag = 0, type = 0, count = 0, v32 = 0;
        const uint8_t *v;
        char nb[16];

        t16(t, eo, &tag);
        t16(t, eo + 2, &type);
        t32(t, eo + 4, &count);
        size = tiff_type_size(type);
        if (size == 0)
            continue;
        if (count > t->n / size) {
            x->flags |= SL_XF_MALFORMED;
            continue;
        }
        total = (size_t)count * size;
        if (total <= 4) {
            voff = eo + 8;
        } else {
            t32(t, eo + 8, &v32);
            voff = v32;
            if (voff > t->n || total > t->n - voff) {
                x->flags |= SL_XF_MALFORMED;
                continue;
            }
        }
        v = t->p + voff;
        if (kind == IFD_GPS) {
            if (tag == 1 && type == 2 && count >= 1)
                lat_ref = v[0];
            else if (tag == 3 && type == 2 && count >= 1)
                lon_ref = v[0];
            else if (tag == 2)
                has_lat = gps_coord(t, type, count, voff, &lat);
            else if (tag == 4)
                has_lon = gps_coord(t, type, count, voff, &lon);
            else if (tag == 0x001C && type == 7)
                rc = exif_comment(x, t, "GPSAreaInformation", v, total);
            continue;
        }
        if ((tag == 0x8769 || tag == 0x8825) && (type == 4 || type == 13) &&
            count == 1) {
            t32(t, eo + 8, &v32);
            ifd_push(q, v32, tag == 0x8769 ? IFD_EXIF : IFD_GPS);
        } else if (tag == 0x9286 && type == 7) {
            rc = exif_comment(x, t, "UserComment", v, total);
        } else if (tag >= 0x9C9B && tag <= 0x9C9F && type == 1) {
            rc = emit_in(x, "exif:", exif_name(tag, nb, sizeof(nb)), v,
                         trim16(v, total, 0), DEC_UTF16LE);
        } else if (type == 2 && !exif_is_date(tag)) {
            rc = emit_in(x, "exif:", exif_name(tag, nb, sizeof(nb)), v,
                         trim8(v, total), DEC_MIXED);
        }
    }
    if (kind == IFD_GPS && has_lat && has_lon && !x->loc.present) {
        if (lat_ref == 'S' || lat_ref == 's')
            lat = -lat;
        if (lon_ref == 'W' || lon_ref == 'w')
            lon = -lon;
        if (lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180) {
            x->loc.present = 1;
            x->loc.lat = lat;
            x->loc.lon = lon;
            snprintf(x->loc.source, sizeof(x->loc.source), "exif:GPS");
            x->loc.src_off = (size_t)(t->p - x->in.ptr) + off;
            x->loc.src_len = 2 + 12 * (size_t)cnt + 4;
            if (x->loc.src_len > t->n - off)
                x->loc.src_len = t->n - off;
        }
    }
    if (kind == IFD_MAIN && t32(t, off + 2 + 12 * (size_t)cnt, &next))
        ifd_push(q, next, IFD_MAIN);
    return rc;
}

/* A TIFF structure (EXIF payload, or a TIFF file). */
static int exif_extract(sl_extract *x, const uint8_t *p, size_t n)
{
    tiff t = { p, n, 0 };
    ifd_queue q;
    uint32_t magic = 0, ifd0 = 0;
    int rc = SL_OK;

    if (n < 8 || !((p[0] == 'I' && p[1] == 'I') || (p[0] == 'M' && p[1] == 'M'))) {
        x->flags |= SL_XF_MALFORMED;
        return SL_OK;
    }
    t.be = p[0] == 'M';
    t16(&t, 2, &magic);
    t32(&t, 4, &ifd0);
    if (magic != 42) {          /* BigTIFF (43) is not read */
        x->flags |= SL_XF_MALFORMED;
        return SL_OK;
    }
    memset(&q, 0, sizeof(q));
    ifd_push(&q, ifd0, IFD_MAIN);
    for (size_t i = 0; i < q.n && rc == SL_OK && !stopped(x); i++)
        rc = exif_ifd(x, &t, q.off[i], q.kind[i], &q);
    return rc;
}

/* ---- PNG -------------------------------------------------------------------- */

static uint32_t rd_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t rd_le32(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* A NUL-terminated field at p[*i], at most max bytes: its length, with *i
 * moved past the NUL; -1 when there is no NUL in reach. */
static long field(const uint8_t *p, size_t n, size_t *i, size_t max)
{
    size_t lim = n - *i < max + 1 ? n - *i : max + 1;
    const uint8_t *z = memchr(p + *i, 0, lim);
    long len;

    if (!z)
        return -1;
    len = (long)(z - (p + *i));
    *i += (size_t)len + 1;
    return len;
}

static int png_text_chunk(sl_extract *x, const uint8_t *type,
                          const uint8_t *d, size_t len)
{
    size_t i = 0, src_off = (size_t)(d - x->in.ptr);
    long kl = field(d, len, &i, 79);
    char prefix[16], kw[80];
    int inf;

    if (kl <= 0) {
        x->flags |= SL_XF_MALFORMED;
        return SL_OK;
    }
    memcpy(kw, d, (size_t)kl);
    kw[kl] = '\0';
    snprintf(prefix, sizeof(prefix), "png:%.4s:", (const char *)type);
    if (memcmp(type, "tEXt", 4) == 0)
        return emit_in(x, prefix, kw, d + i, len - i, DEC_CP1252);
    if (memcmp(type, "zTXt", 4) == 0) {
        if (i >= len) {
            x->flags |= SL_XF_MALFORMED;
            return SL_OK;
        }
        i++;                                    /* compression method */
        if ((inf = inflate_capped(x, d + i, len - i)) < 0)
            return SL_ENOMEM;
        return emit_coarse(x, prefix, kw, x->scratch.data, x->scratch.len,
                           DEC_CP1252, src_off, len);
    }
    /* iTXt: flag, method, language\0, translated keyword\0, text */
    {
        int compressed;

        if (len - i < 2) {
            x->flags |= SL_XF_MALFORMED;
            return SL_OK;
        }
        compressed = d[i] != 0;
        i += 2;
        if (field(d, len, &i, len) < 0 || field(d, len, &i, len) < 0) {
            x->flags |= SL_XF_MALFORMED;
            return SL_OK;
        }
        if (!compressed)
            return emit_in(x, prefix, kw, d + i, len - i, DEC_MIXED);
        if ((inf = inflate_capped(x, d + i, len - i)) < 0)
            return SL_ENOMEM;
        return emit_coarse(x, prefix, kw, x->scratch.data, x->scratch.len,
                           DEC_MIXED, src_off, len);
    }
}

static int png_extract(sl_extract *x, const uint8_t *p, size_t n)
{
    size_t i = 8;
    int rc = SL_OK;

    if (n < 8 || memcmp(p, "\x89PNG\r\n\x1a\n", 8) != 0) {
        x->flags |= SL_XF_MALFORMED;
        return SL_OK;
    }
    while (rc == SL_OK && !stopped(x)) {
        uint32_t len;
        const uint8_t *type, *d;

        if (n - i < 12) {
            x->flags |= SL_XF_MALFORMED;        /* no IEND */
            break;
        }
        if (!charge(x, 12, 1))
            break;
        len = rd_be32(p + i);
        type = p + i + 4;
        d = p + i + 8;
        if (len > n - i - 12) {
            x->flags |= SL_XF_MALFORMED;
            break;
        }
        if (memcmp(type, "tEXt", 4) == 0 || memcmp(type, "zTXt", 4) == 0 ||
            memcmp(type, "iTXt", 4) == 0)
            rc = png_text_chunk(x, type, d, len);
        else if (memcmp(type, "eXIf", 4) == 0)
            rc = exif_extract(x, d, len);
        else if (memcmp(type, "IEND", 4) == 0)
            break;
        i += 12 + (size_t)len;
    }
    return rc;
}

/* ---- JPEG ------------------------------------------------------------------- */

static const struct { uint8_t ds; const char *name; } iptc_names[] = {
    { 5, "ObjectName" }, { 25, "Keywords" }, { 40, "SpecialInstructions" },
    { 80, "By-line" }, { 85, "By-lineTitle" }, { 90, "City" },
    { 92, "Sublocation" }, { 95, "Province-State" }, { 101, "Country" },
    { 105, "Headline" }, { 110, "Credit" }, { 115, "Source" },
    { 116, "CopyrightNotice" }, { 118, "Contact" }, { 120, "Caption-Abstract" },
    { 122, "Writer-Editor" },
};

/* IPTC-IIM: 0x1C, record, dataset, 16-bit length, data. */
static int iptc_extract(sl_extract *x, const uint8_t *d, size_t n)
{
    size_t k = 0;
    int rc = SL_OK;

    while (rc == SL_OK && !stopped(x) && n - k >= 5 && charge(x, 5, 1)) {
        size_t len;

        if (d[k] != 0x1C || (d[k + 3] & 0x80)) {   /* extended lengths: not read */
            x->flags |= SL_XF_MALFORMED;
            break;
        }
        len = (size_t)(d[k + 3] << 8 | d[k + 4]);
        if (len > n - k - 5) {
            x->flags |= SL_XF_MALFORMED;
            len = n - k - 5;
        }
        if (d[k + 1] == 2)
            for (size_t j = 0; j < sizeof(iptc_names) / sizeof(iptc_names[0]); j++)
                if (iptc_names[j].ds == d[k + 2]) {
                    rc = emit_in(x, "iptc:", iptc_names[j].name, d + k + 5,
                                 trim8(d + k + 5, len), DEC_MIXED);
                    break;
                }
        k += 5 + len;
    }
    return rc;
}

/* Photoshop image resources ("8BIM" blocks); 0x0404 holds IPTC-IIM. */
static int app13_extract(sl_extract *x, const uint8_t *d, size_t n)
{
    size_t j = 14;
    int rc = SL_OK;

    if (n < 14 || memcmp(d, "Photoshop 3.0\0", 14) != 0)
        return SL_OK;
    while (rc == SL_OK && !stopped(x) && j <= n && n - j >= 12 && charge(x, 12, 1)) {
        size_t namelen, size;
        uint32_t id;

        if (memcmp(d + j, "8BIM", 4) != 0) {
            x->flags |= SL_XF_MALFORMED;
            break;
        }
        id = (uint32_t)(d[j + 4] << 8 | d[j + 5]);
        j += 6;
        namelen = 1 + (size_t)d[j];
        namelen += namelen & 1;
        if (namelen > n - j || n - j - namelen < 4) {
            x->flags |= SL_XF_MALFORMED;
            break;
        }
        j += namelen;
        size = rd_be32(d + j);
        j += 4;
        if (size > n - j) {
            x->flags |= SL_XF_MALFORMED;
            size = n - j;
        }
        if (id == 0x0404)
            rc = iptc_extract(x, d + j, size);
        j += size + (size & 1);
    }
    return rc;
}

#define XMP_NS     "http://ns.adobe.com/xap/1.0/"      /* + NUL: 29 bytes */
#define XMP_EXT_NS "http://ns.adobe.com/xmp/extension/" /* + NUL: 35 bytes */

static int app1_extract(sl_extract *x, const uint8_t *d, size_t n)
{
    if (n >= 6 && memcmp(d, "Exif\0", 5) == 0)
        return exif_extract(x, d + 6, n - 6);
    if (n >= sizeof(XMP_NS) && memcmp(d, XMP_NS, sizeof(XMP_NS)) == 0)
        return emit_in(x, "xmp", NULL, d + sizeof(XMP_NS),
                       trim8(d + sizeof(XMP_NS), n - sizeof(XMP_NS)), DEC_MIXED);
    /* extended XMP: namespace, 32-byte GUID, full length, offset, data */
    if (n >= sizeof(XMP_EXT_NS) + 40 && memcmp(d, XMP_EXT_NS, sizeof(XMP_EXT_NS)) == 0)
        return emit_in(x, "xmp:extension", NULL, d + sizeof(XMP_EXT_NS) + 40,
                       n - sizeof(XMP_EXT_NS) - 40, DEC_MIXED);
    return SL_OK;
}

static int jpeg_extract(sl_extract *x, const uint8_t *p, size_t n)
{
    size_t i = 2;
    int rc = SL_OK;

    if (n < 2 || p[0] != 0xFF || p[1] != 0xD8) {
        x->flags |= SL_XF_MALFORMED;
        return SL_OK;
    }
    while (rc == SL_OK && !stopped(x) && i < n) {
        size_t seglen, plen;
        const uint8_t *d;
        uint8_t m;

        size_t at = i;

        if (p[i] != 0xFF) {                 /* junk between segments */
            const uint8_t *f = memchr(p + i, 0xFF, n - i);

            x->flags |= SL_XF_MALFORMED;
            if (!f)
                break;
            i = (size_t)(f - p);
        }
        while (i + 1 < n && p[i + 1] == 0xFF)     /* fill bytes */
            i++;
        if (!charge(x, i - at + 4, 1) || i + 1 >= n)
            break;
        m = p[i + 1];
        if (m == 0xD9)                      /* EOI */
            break;
        if (m == 0x00 || m == 0x01 || (m >= 0xD0 && m <= 0xD8)) {
            i += 2;
            continue;
        }
        if (n - i < 4) {
            x->flags |= SL_XF_MALFORMED;
            break;
        }
        seglen = (size_t)(p[i + 2] << 8 | p[i + 3]);
        if (seglen < 2) {
            x->flags |= SL_XF_MALFORMED;
            break;
        }
        plen = seglen - 2;
        if (plen > n - i - 4) {
            x->flags |= SL_XF_MALFORMED;
            plen = n - i - 4;
        }
        d = p + i + 4;
        if (m == 0xFE)
            rc = emit_in(x, "jpeg:COM", NULL, d, trim8(d, plen), DEC_MIXED);
        else if (m == 0xE1)
            rc = app1_extract(x, d, plen);
        else if (m == 0xED)
            rc = app13_extract(x, d, plen);
        i += 4 + plen;
        if (m == 0xDA) {        /* entropy-coded data runs to the next marker */
            size_t from = i;

            for (;;) {
                const uint8_t *f = i < n ? memchr(p + i, 0xFF, n - i) : NULL;

                if (!f || (size_t)(f - p) + 1 >= n) {
                    i = n;
                    break;
                }
                i = (size_t)(f - p);
                if (p[i + 1] != 0x00 && p[i + 1] != 0xFF &&
                    !(p[i + 1] >= 0xD0 && p[i + 1] <= 0xD7))
                    break;
                i++;
            }
            if (i > from && !charge(x, i - from, 0))
                break;
        }
    }
    return rc;
}

/* ---- GIF and WebP ------------------------------------------------------------ */

/* Sub-blocks at p[*i]: appended to scratch when `keep`.  0 when cut short. */
static int gif_blocks(sl_extract *x, const uint8_t *p, size_t n, size_t *i,
                      int keep)
{
    while (*i < n) {
        size_t len;

        if (!charge(x, keep ? 1 + (uint64_t)p[*i] : 1, 1))
            return 1;                   /* not malformed: stopped() says why */
        len = p[(*i)++];

        if (len == 0)
            return 1;
        if (len > n - *i)
            return 0;
        if (keep && x->scratch.len + len <= x->scratch.max)
            sl_buf_append(&x->scratch, p + *i, len);
        *i += len;
    }
    return 0;
}

static size_t gif_table(uint8_t flags)
{
    return (flags & 0x80) ? 3 * ((size_t)1 << ((flags & 7) + 1)) : 0;
}

static int gif_extract(sl_extract *x, const uint8_t *p, size_t n)
{
    size_t i;
    int rc = SL_OK;

    if (n < 13) {
        x->flags |= SL_XF_MALFORMED;
        return SL_OK;
    }
    i = 13 + gif_table(p[10]);
    while (rc == SL_OK && !stopped(x) && i < n && p[i] != 0x3B && charge(x, 2, 1)) {
        size_t start = i;

        if (p[i] == 0x21 && n - i >= 2) {
            uint8_t label = p[i + 1];

            i += 2;
            sl_buf_reset(&x->scratch);
            if (!gif_blocks(x, p, n, &i, label == 0xFE))
                x->flags |= SL_XF_MALFORMED;
            if (label == 0xFE)
                rc = emit_coarse(x, "gif:comment", NULL, x->scratch.data,
                                 trim8(x->scratch.data, x->scratch.len),
                                 DEC_MIXED, start, i - start);
        } else if (p[i] == 0x2C && n - i >= 11) {
            i += 10 + gif_table(p[i + 9]) + 1;      /* + LZW code size */
            if (!gif_blocks(x, p, n, &i, 0))
                x->flags |= SL_XF_MALFORMED;
        } else {
            x->flags |= SL_XF_MALFORMED;
            break;
        }
    }
    return rc;
}

static int webp_extract(sl_extract *x, const uint8_t *p, size_t n)
{
    size_t i = 12, end;
    int rc = SL_OK;

    if (n < 12 || memcmp(p, "RIFF", 4) != 0) {
        x->flags |= SL_XF_MALFORMED;
        return SL_OK;
    }
    end = (size_t)rd_le32(p + 4);
    end = end > n - 8 ? n : end + 8;
    while (rc == SL_OK && !stopped(x) && i <= end && end - i >= 8 && charge(x, 8, 1)) {
        size_t len = rd_le32(p + i + 4);
        const uint8_t *d = p + i + 8;

        if (len > end - i - 8) {
            x->flags |= SL_XF_MALFORMED;
            len = end - i - 8;
        }
        if (memcmp(p + i, "EXIF", 4) == 0) {
            if (len >= 6 && memcmp(d, "Exif\0\0", 6) == 0)
                rc = exif_extract(x, d + 6, len - 6);
            else
                rc = exif_extract(x, d, len);
        } else if (memcmp(p + i, "XMP ", 4) == 0) {
            rc = emit_in(x, "xmp", NULL, d, trim8(d, len), DEC_MIXED);
        }
        i += 8 + len + (len & 1);
    }
    return rc;
}

/* ---- PDF ---------------------------------------------------------------------- */

/* The first `needle` in h[0..hn), or NULL; charges the bytes it passed
 * (all of them when it finds none, or when the budget runs out). */
static const uint8_t *find(sl_extract *x, const uint8_t *h, size_t hn,
                           const char *needle)
{
    size_t nn = strlen(needle), all = hn;
    const uint8_t *h0 = h, *f = NULL;

    while (hn >= nn) {
        f = memchr(h, needle[0], hn - nn + 1);
        if (!f || memcmp(f, needle, nn) == 0)
            break;
        hn -= (size_t)(f - h) + 1;
        h = f + 1;
        f = NULL;
    }
    if (!charge(x, f ? (size_t)(f - h0) + nn : all, 0))
        return NULL;
    return f;
}

static int pdf_space(uint8_t c)
{
    return c == 0 || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' ';
}

static int pdf_delim(uint8_t c)
{
    return pdf_space(c) || c == '(' || c == ')' || c == '<' || c == '>' ||
           c == '[' || c == ']' || c == '{' || c == '}' || c == '/' || c == '%';
}

static size_t pdf_ws(const uint8_t *p, size_t n, size_t i)
{
    while (i < n) {
        if (pdf_space(p[i])) {
            i++;
        } else if (p[i] == '%') {
            while (i < n && p[i] != '\n' && p[i] != '\r')
                i++;
        } else {
            break;
        }
    }
    return i;
}

static int hexval(uint8_t c)
{
    return c >= '0' && c <= '9' ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A literal string at p[i] == '(': its bytes, escapes resolved, into out
 * (when not NULL; bytes past out's cap are dropped).  Returns the index
 * after the closing parenthesis (n when unterminated). */
static size_t pdf_literal(const uint8_t *p, size_t n, size_t i, sl_buf *out)
{
    int depth = 1;

    for (i++; i < n;) {
        uint8_t c = p[i++];

        if (c == '\\') {
            if (i >= n)
                break;
            c = p[i++];
            switch (c) {
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case '\r':
                if (i < n && p[i] == '\n')
                    i++;
                continue;                   /* line continuation */
            case '\n':
                continue;
            default:
                if (c >= '0' && c <= '7') {
                    unsigned v = c - '0';

                    for (int k = 0; k < 2 && i < n && p[i] >= '0' && p[i] <= '7'; k++)
                        v = v * 8 + (unsigned)(p[i++] - '0');
                    c = (uint8_t)v;
                }
                break;                      /* \( \) \\ and unknown: the char */
            }
        } else if (c == '(') {
            depth++;
        } else if (c == ')') {
            if (--depth == 0)
                return i;
        } else if (c == '\r') {
            c = '\n';                       /* EOL in a string reads as LF */
            if (i < n && p[i] == '\n')
                i++;
        }
        if (out && out->len < out->max)
            sl_buf_append(out, &c, 1);
    }
    return n;
}

/* A hex string at p[i] == '<'. */
static size_t pdf_hex(const uint8_t *p, size_t n, size_t i, sl_buf *out)
{
    int hi = -1;

    for (i++; i < n; i++) {
        int v;

        if (p[i] == '>') {
            i++;
            break;
        }
        if (pdf_space(p[i]))
            continue;
        if ((v = hexval(p[i])) < 0)
            return i;               /* not a hex string after all */
        if (hi < 0) {
            hi = v;
        } else {
            uint8_t b = (uint8_t)(hi << 4 | v);

            if (out && out->len < out->max)
                sl_buf_append(out, &b, 1);
            hi = -1;
        }
    }
    if (hi >= 0 && out && out->len < out->max) {    /* odd count: pad with 0 */
        uint8_t b = (uint8_t)(hi << 4);

        sl_buf_append(out, &b, 1);
    }
    return i;
}

/* A name at p[i] == '/', #xx escapes resolved into key (NUL-terminated). */
static size_t pdf_name(const uint8_t *p, size_t n, size_t i, char *key,
                       size_t keysz)
{
    size_t o = 0;

    for (i++; i < n && !pdf_delim(p[i]); i++) {
        uint8_t c = p[i];

        if (c == '#' && n - i >= 3 && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0) {
            c = (uint8_t)(hexval(p[i + 1]) << 4 | hexval(p[i + 2]));
            i += 2;
        }
        if (key && o + 1 < keysz)
            key[o++] = (char)c;
    }
    if (key)
        key[o] = '\0';
    return i;
}

/* Emits a string's bytes (in scratch): UTF-16BE with BOM, UTF-8 with BOM,
 * else PDFDocEncoding. */
static int pdf_emit_string(sl_extract *x, const char *key, size_t src_off,
                           size_t src_len)
{
    const uint8_t *s = x->scratch.data;
    size_t n = x->scratch.len;

    if (n >= 2 && s[0] == 0xFE && s[1] == 0xFF)
        return emit_coarse(x, "pdf:", key, s + 2, n - 2, DEC_UTF16BE, src_off, src_len);
    if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
        return emit_coarse(x, "pdf:", key, s + 3, n - 3, DEC_MIXED, src_off, src_len);
    return emit_coarse(x, "pdf:", key, s, n, DEC_PDFDOC, src_off, src_len);
}

static size_t pdf_skip(sl_extract *x, const uint8_t *p, size_t n, size_t i,
                       int depth);

/* A dictionary at p[i] == "<<": string values emitted when `emit` (the
 * Info dictionary's own entries, not nested ones).  Returns the index
 * after ">>", n when it never closes. */
static size_t pdf_dict(sl_extract *x, const uint8_t *p, size_t n, size_t i,
                       int emit, int depth, int *rc)
{
    if (depth > PDF_MAX_DEPTH) {
        x->flags |= SL_XF_MALFORMED;
        return n;
    }
    for (i += 2; *rc == SL_OK && !stopped(x);) {
        char key[48];
        size_t start, from = i;

        i = pdf_ws(p, n, i);
        if (i >= n) {
            x->flags |= SL_XF_MALFORMED;
            return n;
        }
        if (p[i] == '>' && i + 1 < n && p[i + 1] == '>')
            return i + 2;
        if (p[i] != '/') {
            i = pdf_skip(x, p, n, i, depth + 1);        /* stray token */
            charge(x, i - from, 1);
            continue;
        }
        i = pdf_ws(p, n, pdf_name(p, n, i, key, sizeof(key)));
        if (i >= n) {
            x->flags |= SL_XF_MALFORMED;
            return n;
        }
        start = i;
        if (emit && (p[i] == '(' || (p[i] == '<' && (i + 1 >= n || p[i + 1] != '<'))) &&
            strcmp(key, "CreationDate") != 0 && strcmp(key, "ModDate") != 0) {
            sl_buf_reset(&x->scratch);
            i = p[i] == '(' ? pdf_literal(p, n, i, &x->scratch)
                            : pdf_hex(p, n, i, &x->scratch);
            *rc = pdf_emit_string(x, key, start, i - start);
        } else {
            i = pdf_skip(x, p, n, i, depth + 1);
        }
        charge(x, i - from, 1);
    }
    return n;
}

/* Skips one object at p[i]; always advances. */
static size_t pdf_skip(sl_extract *x, const uint8_t *p, size_t n, size_t i,
                       int depth)
{
    int rc = SL_OK;

    if (i >= n)
        return n;
    if (depth > PDF_MAX_DEPTH) {
        x->flags |= SL_XF_MALFORMED;
        return n;
    }
    switch (p[i]) {
    case '(':
        return pdf_literal(p, n, i, NULL);
    case '<':
        if (i + 1 < n && p[i + 1] == '<')
            return pdf_dict(x, p, n, i, 0, depth, &rc);
        return pdf_hex(p, n, i, NULL);
    case '[':
        for (i++; i < n && !stopped(x);) {
            size_t from = i;

            i = pdf_ws(p, n, i);
            if (i >= n)
                break;
            if (p[i] == ']')
                return i + 1;
            i = pdf_skip(x, p, n, i, depth + 1);
            charge(x, i - from, 1);
        }
        return n;
    case '/':
        return pdf_name(p, n, i, NULL, 0);
    default:
        if (pdf_delim(p[i]))
            return i + 1;
        while (i < n && !pdf_delim(p[i]))
            i++;
        return i;
    }
}

static size_t pdf_uint(const uint8_t *p, size_t n, size_t i, uint32_t *v)
{
    uint64_t acc = 0;
    size_t s = i;

    while (i < n && p[i] >= '0' && p[i] <= '9' && i - s < 10)
        acc = acc * 10 + (uint64_t)(p[i++] - '0');
    if (i == s || acc > 0xffffffffu)
        return 0;
    *v = (uint32_t)acc;
    return i;
}

static int pdf_extract(sl_extract *x, const uint8_t *p, size_t n)
{
    uint32_t refs[MAX_PDF_REFS][2];
    size_t nrefs = 0, pos = 0;
    const uint8_t *h;
    int rc = SL_OK, encrypted = find(x, p, n, "/Encrypt") != NULL;

    if (encrypted)
        x->flags |= SL_XF_ENCRYPTED;
    /* /Info references, in every trailer and cross-reference stream.  The
     * search resumes after a direct dictionary it has read: an "/Info"
     * inside it (in a string, in a nested dictionary) is its content, and
     * reading the rest of the file again from there, for every such
     * occurrence, made a small crafted file cost quadratic time. */
    while (!encrypted && rc == SL_OK && !stopped(x) &&
           (h = find(x, p + pos, n - pos, "/Info")) != NULL) {
        size_t i = (size_t)(h - p) + 5;
        uint32_t num, gen;
        size_t j;

        pos = i;
        if (i < n && !pdf_delim(p[i]))
            continue;                                   /* /InfoXyz */
        i = pdf_ws(p, n, i);
        if (i + 1 < n && p[i] == '<' && p[i + 1] == '<') {
            pos = pdf_dict(x, p, n, i, 1, 0, &rc);      /* a direct dictionary */
            continue;
        }
        if (!(j = pdf_uint(p, n, i, &num)))
            continue;
        if (!(j = pdf_uint(p, n, pdf_ws(p, n, j), &gen)))
            continue;
        j = pdf_ws(p, n, j);
        if (j >= n || p[j] != 'R')
            continue;
        for (size_t k = 0; k <= nrefs; k++) {
            if (k == nrefs) {
                if (nrefs < MAX_PDF_REFS) {
                    refs[nrefs][0] = num;
                    refs[nrefs++][1] = gen;
                }
                break;
            }
            if (refs[k][0] == num && refs[k][1] == gen)
                break;
        }
    }
    /* each "N G obj" of those objects: every revision */
    for (size_t r = 0; r < nrefs && rc == SL_OK && !stopped(x); r++) {
        char needle[32];
        size_t objs = 0;

        snprintf(needle, sizeof(needle), "%u %u obj", (unsigned)refs[r][0],
                 (unsigned)refs[r][1]);
        pos = 0;
        while (rc == SL_OK && objs < MAX_PDF_OBJS && !stopped(x) &&
               (h = find(x, p + pos, n - pos, needle)) != NULL) {
            size_t i = (size_t)(h - p), e = i + strlen(needle);

            pos = i + 1;
            if ((i > 0 && p[i - 1] >= '0' && p[i - 1] <= '9') ||
                (e < n && !pdf_delim(p[e])))
                continue;                               /* 14 0 obj for 4 0 obj */
            objs++;
            e = pdf_ws(p, n, e);
            if (e + 1 < n && p[e] == '<' && p[e + 1] == '<')
                pos = pdf_dict(x, p, n, e, 1, 0, &rc);  /* resume after it */
        }
    }
    /* XMP packets left uncompressed (the spec recommends it) */
    pos = 0;
    for (int k = 0; k < MAX_XMP_PACKETS && rc == SL_OK && !stopped(x); k++) {
        const uint8_t *e;
        size_t start, end;

        if (!(h = find(x, p + pos, n - pos, "<?xpacket begin")))
            break;
        start = (size_t)(h - p);
        e = find(x, h, n - start, "<?xpacket end");
        if (e && (e = find(x, e, n - (size_t)(e - p), "?>")) != NULL) {
            end = (size_t)(e - p) + 2;
        } else {
            x->flags |= SL_XF_MALFORMED;
            end = n;
        }
        rc = emit_in(x, "xmp", NULL, p + start, end - start, DEC_MIXED);
        pos = end;
    }
    return rc;
}

/* ---- content ---------------------------------------------------------------- */

/* Length of the longest valid UTF-8 prefix of p[0..n). */
static size_t utf8_valid_prefix(const uint8_t *p, size_t n)
{
    size_t i = 0;
    uint32_t cp;

    while (i < n) {
        size_t k;

        if (p[i] < 0x80 && p[i] != 0) {
            i++;
            continue;
        }
        if (p[i] == 0 || (k = sl_utf8_decode(p + i, n - i, &cp)) == 0)
            return i;
        i += k;
    }
    return n;
}

static int content_extract(sl_extract *x, const sl_ft_result *ft)
{
    const uint8_t *p = x->in.ptr;
    size_t n = x->in.len, bom = ft->bom <= n ? ft->bom : 0;
    const char *enc = ft->encoding;

    p += bom;
    n -= bom;
    if (strcmp(enc, "utf-16le") == 0 || strcmp(enc, "utf-16be") == 0)
        return emit_in(x, "content", NULL, p, n,
                       strcmp(enc, "utf-16be") == 0 ? DEC_UTF16BE : DEC_UTF16LE);
    if (strcmp(enc, "iso-8859-1") == 0 || strcmp(enc, "unknown-8bit") == 0)
        return emit_in(x, "content", NULL, p, n, DEC_CP1252);
    if (strcmp(enc, "utf-8") == 0 || strcmp(enc, "us-ascii") == 0) {
        size_t ok;

        /* sl_ft_detect validated it (bar a sequence cut at the end);
         * anyone else's word is checked. */
        if (ft->via == SL_FT_VIA_TEXT) {
            ok = n;
            if (ok > 0 && (p[ok - 1] & 0x80)) {
                size_t s = ok - 1;
                uint32_t cp;

                while (s > 0 && (p[s] & 0xC0) == 0x80 && ok - s < 4)
                    s--;
                if (sl_utf8_decode(p + s, ok - s, &cp) != ok - s)
                    ok = s;     /* drop a sequence cut by the end */
            }
        } else {
            ok = utf8_valid_prefix(p, n);
            charge(x, n, 0);
        }
        if (ok == n || ft->via == SL_FT_VIA_TEXT) {
            sl_xseg *s;

            if (ok == 0)
                return SL_OK;
            s = seg_add(x, "content", NULL, bom, ok, SL_XMAP_IDENTITY);
            if (!s)
                return stopped(x) ? SL_OK : SL_ENOMEM;
            s->text = p;
            s->len = ok;
            return SL_OK;
        }
    }
    return emit_in(x, "content", NULL, p, n, DEC_MIXED);
}

/* ---- shared with the format readers (extract_int.h) ------------------------- */

int sl_xi_stopped(const sl_extract *x)
{
    return stopped(x);
}

int sl_xi_charge(sl_extract *x, uint64_t bytes, uint64_t steps)
{
    return charge(x, bytes, steps);
}

int sl_xi_emit(sl_extract *x, const char *prefix, const char *name,
               const uint8_t *p, size_t n, int d, sl_xmap map,
               size_t src_off, size_t src_len)
{
    static const dec decs[] = { DEC_MIXED, DEC_CP1252, DEC_UTF16LE, DEC_UTF16BE };
    size_t first = x->nseg;
    int rc = emit_coarse(x, prefix, name, p, n, decs[d & 3], src_off, src_len);

    if (rc == SL_OK && x->nseg > first)
        x->seg[first].map = map;
    return rc;
}

void sl_xi_bomb(sl_extract *x, const char *fmt, ...)
{
    va_list ap;

    if (x->flags & SL_XF_BOMB)
        return;
    x->flags |= SL_XF_BOMB;
    va_start(ap, fmt);
    vsnprintf(x->detail, sizeof(x->detail), fmt, ap);
    va_end(ap);
}

void sl_xi_location(sl_extract *x, double lat, double lon, const char *source,
                    size_t src_off, size_t src_len)
{
    if (x->loc.present || !(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180))
        return;
    x->loc.present = 1;
    x->loc.lat = lat;
    x->loc.lon = lon;
    snprintf(x->loc.source, sizeof(x->loc.source), "%s", source);
    x->loc.src_off = src_off;
    x->loc.src_len = src_len;
}

static int has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), k = strlen(suf);

    return n >= k && strcasecmp(s + n - k, suf) == 0;
}

/* Text, as far as the first KiB tells: no NUL and few control bytes. */
static int looks_text(const uint8_t *p, size_t n)
{
    size_t k = n < 1024 ? n : 1024, ctl = 0;

    for (size_t i = 0; i < k; i++) {
        if (p[i] == 0)
            return 0;
        ctl += p[i] < 0x20 && p[i] != '\n' && p[i] != '\r' && p[i] != '\t' &&
               p[i] != '\f' && p[i] != 0x1b;
    }
    return ctl * 32 <= k;
}

/* What a member is, from its first bytes (and its name, for office XML and
 * the office documents inside archives), and its reader. */
static int member_dispatch(sl_extract *x, const char *name, const uint8_t *p,
                           size_t n, const char *office)
{
    const char *part = x->part;
    int rc = SL_OK;

    if ((n >= 4 && memcmp(p, "PK\x03\x04", 4) == 0) ||
        (n >= 4 && memcmp(p, "PK\x05\x06", 4) == 0) ||
        (n >= 2 && p[0] == 0x1f && p[1] == 0x8b) ||
        (n >= 262 && memcmp(p + 257, "ustar", 5) == 0)) {
        const char *kind = NULL;
        static const char *const exts[] = { "docx", "docm", "xlsx", "xlsm", "pptx",
                                            "pptm", "odt", "ods", "odp", "epub" };
        for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]) && !kind; i++) {
            char suf[8];
            snprintf(suf, sizeof(suf), ".%s", exts[i]);
            if (has_suffix(name, suf))
                kind = exts[i];
        }
        rc = sl_xi_archive(x, p, n, kind);
    } else if (n >= 5 && memcmp(p, "%PDF-", 5) == 0) {
        x->part = "pdf";
        if (sl_xi_pdf_pages(x, p, n) < 0)
            rc = SL_ENOMEM;
        if (rc == SL_OK)
            rc = pdf_extract(x, p, n);
    } else if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0) {
        x->part = "png";
        rc = png_extract(x, p, n);
    } else if (n >= 3 && memcmp(p, "\xff\xd8\xff", 3) == 0) {
        x->part = "jpeg";
        rc = jpeg_extract(x, p, n);
    } else if (n >= 6 && (memcmp(p, "GIF87a", 6) == 0 || memcmp(p, "GIF89a", 6) == 0)) {
        x->part = "gif";
        rc = gif_extract(x, p, n);
    } else if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0) {
        x->part = "webp";
        rc = webp_extract(x, p, n);
    } else if (n >= 4 && (memcmp(p, "II*\0", 4) == 0 || memcmp(p, "MM\0*", 4) == 0)) {
        x->part = "tiff";
        rc = exif_extract(x, p, n);
    } else if (n >= 3 && memcmp(p, "ID3", 3) == 0) {
        x->part = "id3";
        rc = sl_xi_id3(x, p, n);
    } else if (n >= 12 && memcmp(p + 4, "ftyp", 4) == 0) {
        x->part = "mp4";
        rc = sl_xi_mp4(x, p, n);
    } else if (office && (has_suffix(name, ".xml") || has_suffix(name, ".xhtml") ||
                          has_suffix(name, ".html") || has_suffix(name, ".htm") ||
                          has_suffix(name, ".opf") || has_suffix(name, ".ncx"))) {
        x->part = office;
        rc = sl_xi_xml_text(x, office, p, n);
    } else if (office && (has_suffix(name, ".rels") || strcmp(name, "mimetype") == 0)) {
        /* relationships (part names and URLs) and the ODF type: no text */
    } else if (looks_text(p, n)) {
        x->part = "text";
        rc = sl_xi_emit(x, "text", NULL, p, n, SL_XI_UTF8, SL_XMAP_MEMBER, 0, n);
    }
    x->part = part;
    return rc;
}

int sl_xi_member(sl_extract *x, const char *name, const uint8_t *p, size_t n,
                 const char *office)
{
    char saved[SL_EXTRACT_MEMBER_MAX];
    sl_slice in = x->in;
    size_t first = x->nseg, o;
    int rc;

    if (n == 0 || stopped(x))
        return SL_OK;
    memcpy(saved, x->member, sizeof(saved));
    o = strlen(x->member);
    if (o && o + 2 < sizeof(x->member)) {
        memcpy(x->member + o, "!/", 2);
        o += 2;
    }
    /* valid UTF-8 (the path goes into JSON), whole characters only */
    for (size_t i = 0, nl = strlen(name); i < nl && o + 1 < sizeof(x->member);) {
        const uint8_t *c = (const uint8_t *)name + i;
        uint32_t cp;
        size_t k = *c < 0x80 ? 1 : sl_utf8_decode(c, nl - i, &cp);

        if (k == 0 || (k == 1 && (*c < 0x20 || *c == 0x7f))) {
            x->member[o++] = '_';
            i += k ? k : 1;
            continue;
        }
        if (o + k + 1 > sizeof(x->member))
            break;
        memcpy(x->member + o, c, k);
        o += k;
        i += k;
    }
    x->member[o] = '\0';
    x->in = (sl_slice){ p, n };
    rc = member_dispatch(x, name, p, n, office);
    for (size_t i = first; i < x->nseg; i++) {
        x->seg[i].map = SL_XMAP_MEMBER;     /* from the sample as a whole */
        x->seg[i].src_off = 0;
        x->seg[i].src_len = x->root_len;
    }
    x->in = in;
    memcpy(x->member, saved, sizeof(saved));
    return rc;
}

/* ---- the API ------------------------------------------------------------------ */

void sl_extract_init(sl_extract *x, size_t max_bytes)
{
    memset(x, 0, sizeof(*x));
    x->max_bytes = max_bytes ? max_bytes : SL_EXTRACT_DEFAULT_MAX;
    x->lim = (sl_xlimits)SL_XLIMITS_DEFAULT;
    sl_buf_init(&x->arena, x->max_bytes);
    sl_buf_init(&x->scratch, x->max_bytes);
}

void sl_extract_free(sl_extract *x)
{
    if (!x)
        return;
    free(x->seg);
    sl_buf_free(&x->arena);
    sl_buf_free(&x->scratch);
    memset(x, 0, sizeof(*x));
}

void sl_extract_set_limits(sl_extract *x, const sl_xlimits *lim)
{
    x->lim = *lim;
    if (x->lim.max_depth == 0)
        x->lim.max_depth = 1;
}

int sl_extract_run(sl_extract *x, sl_slice in, const sl_ft_result *ft)
{
    return sl_extract_run_budget(x, in, ft, NULL);
}

int sl_extract_run_budget(sl_extract *x, sl_slice in, const sl_ft_result *ft,
                          sl_budget *budget)
{
    const char *m;
    int rc = SL_OK;

    if (!x || !ft || (!in.ptr && in.len))
        return SL_EINVAL;
    x->budget = NULL;
    x->part = "text";
    x->nseg = 0;
    x->flags = 0;
    x->coverage = SL_XCOV_NONE;
    x->detail[0] = '\0';
    x->member[0] = '\0';
    x->expanded = 0;
    x->members = 0;
    x->depth = 0;
    x->pdf_deadline_ms = 0;
    x->root_len = in.len;
    memset(&x->loc, 0, sizeof(x->loc));
    sl_buf_reset(&x->arena);
    sl_buf_reset(&x->scratch);
    x->in = in;
    if (in.len == 0)
        return SL_OK;
    x->budget = budget;

    m = ft->mime;
    if (strcmp(ft->encoding, "binary") != 0) {
        x->coverage = SL_XCOV_FULL;
        rc = content_extract(x, ft);
    } else if (strcmp(m, "image/png") == 0 || strcmp(m, "image/apng") == 0) {
        x->coverage = SL_XCOV_METADATA;
        x->part = "png";
        rc = png_extract(x, in.ptr, in.len);
    } else if (strcmp(m, "image/jpeg") == 0) {
        x->coverage = SL_XCOV_METADATA;
        x->part = "jpeg";
        rc = jpeg_extract(x, in.ptr, in.len);
    } else if (strcmp(m, "image/gif") == 0) {
        x->coverage = SL_XCOV_METADATA;
        x->part = "gif";
        rc = gif_extract(x, in.ptr, in.len);
    } else if (strcmp(m, "image/webp") == 0) {
        x->coverage = SL_XCOV_METADATA;
        x->part = "webp";
        rc = webp_extract(x, in.ptr, in.len);
    } else if (strcmp(m, "image/tiff") == 0) {
        x->coverage = SL_XCOV_METADATA;
        x->part = "tiff";
        rc = exif_extract(x, in.ptr, in.len);
    } else if (strcmp(m, "application/pdf") == 0) {
        int pages;

        x->part = "pdf";
        pages = sl_xi_pdf_pages(x, in.ptr, in.len);
        x->coverage = pages > 0 ? SL_XCOV_FULL : SL_XCOV_METADATA;
        rc = pages < 0 ? SL_ENOMEM : pdf_extract(x, in.ptr, in.len);
    } else if (strcmp(m, "application/zip") == 0 || strcmp(m, "application/gzip") == 0 ||
               strcmp(m, "application/x-tar") == 0 || sl_xi_office_kind(m)) {
        x->coverage = SL_XCOV_FULL;
        x->part = "archive";
        rc = sl_xi_archive(x, in.ptr, in.len, sl_xi_office_kind(m));
    } else if (strcmp(m, "audio/mpeg") == 0) {
        x->coverage = SL_XCOV_METADATA;
        x->part = "id3";
        rc = sl_xi_id3(x, in.ptr, in.len);
    } else if (strcmp(m, "video/mp4") == 0 || strcmp(m, "audio/mp4") == 0 ||
               strcmp(m, "video/quicktime") == 0) {
        x->coverage = SL_XCOV_METADATA;
        x->part = "mp4";
        rc = sl_xi_mp4(x, in.ptr, in.len);
    }
    fixup(x);
    if (rc == SL_OK)
        sl_xi_xmp_gps(x, 0);
    x->budget = NULL;
    return rc;
}

int sl_extract_map(const sl_extract *x, size_t idx, size_t off, size_t len,
                   size_t *src_off, size_t *src_len)
{
    const sl_xseg *s;
    const uint8_t *p;
    size_t n, i = 0, o = 0, start, end;
    dec d;

    if (!x || idx >= x->nseg || !src_off || !src_len)
        return SL_EINVAL;
    s = &x->seg[idx];
    if (off > s->len || len > s->len - off)
        return SL_EINVAL;
    switch (s->map) {
    case SL_XMAP_IDENTITY:
        *src_off = s->src_off + off;
        *src_len = len;
        return SL_OK;
    case SL_XMAP_COARSE:
        *src_off = s->src_off;
        *src_len = s->src_len;
        return SL_OK;
    case SL_XMAP_MEMBER:
        *src_off = off;
        *src_len = len;
        return SL_OK;
    case SL_XMAP_MIXED: d = DEC_MIXED; break;
    case SL_XMAP_CP1252: d = DEC_CP1252; break;
    case SL_XMAP_UTF16LE: d = DEC_UTF16LE; break;
    default: d = DEC_UTF16BE; break;
    }
    /* walk the original bytes with the decoder that produced the text */
    p = x->in.ptr + s->src_off;
    n = s->src_len;
    start = end = n;
    while (i < n) {
        uint32_t cp;
        int u;
        size_t k = dec_step(d, p + i, n - i, &cp, &u), l;

        if (k == 0)
            break;
        l = sl_utf8_len(clean(cp));
        if (start == n && o + l > off)
            start = i;
        if (o + l >= off + len && o + l > off) {
            end = i + k;
            break;
        }
        o += l;
        i += k;
    }
    if (len == 0)
        end = start;
    *src_off = s->src_off + start;
    *src_len = end - start;
    return SL_OK;
}
