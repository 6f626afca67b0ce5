/*
 * extract_media.c -- the text audio and video files carry, and GPS in XMP:
 *
 *   ID3v2.2 / 2.3 / 2.4 at the start of an MP3 (text frames T***, user
 *   text TXXX, comments COMM, lyrics USLT, URL frames W***; every text
 *   encoding: Latin-1, UTF-16 with BOM, UTF-16BE, UTF-8; unsynchronised
 *   tags undone; compressed or encrypted frames skipped) and an ID3v1 tag
 *   at its end;
 *   MP4 / QuickTime metadata: moov, trak and udta boxes down to meta/ilst
 *   items (by four-character name, "----" freeform name, or index into a
 *   meta/keys box), their "data" boxes of UTF-8 / UTF-16 text, QuickTime
 *   udta text atoms ("\xa9nam" with a length and language), an XMP packet
 *   in udta "XMP_" or the XMP uuid box, and the ISO 6709 location
 *   ("\xa9xyz", or the keys item com.apple.quicktime.location.ISO6709) as
 *   the location;
 *   the GPS of XMP packets (exif:GPSLatitude / exif:GPSLongitude as
 *   attribute or element, "DDD,MM,SSk" / "DDD,MM.mmk" / decimal) as the
 *   location when EXIF gave none.
 *
 * Every length and offset is checked against the bytes given; boxes are
 * nested at most MP4_MAX_DEPTH deep; each frame and box visited is a step
 * of the work budget and the tag bytes copied are charged as bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extract_int.h"

#define MP4_MAX_DEPTH 8
#define MP4_MAX_KEYS  64

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static size_t trim(const uint8_t *p, size_t n)
{
    while (n > 0 && (p[n - 1] == 0 || p[n - 1] == ' '))
        n--;
    return n;
}

/* ---- ID3 -------------------------------------------------------------------- */

static int syncsafe(const uint8_t *p, uint32_t *v)
{
    if ((p[0] | p[1] | p[2] | p[3]) & 0x80)
        return 0;
    *v = (uint32_t)p[0] << 21 | (uint32_t)p[1] << 14 | (uint32_t)p[2] << 7 | p[3];
    return 1;
}

/* One text-bearing frame's payload d[0..dn), its encoding byte first. */
static int id3_text(sl_extract *x, const char *id, const uint8_t *d, size_t dn,
                    int skip_lang, size_t src_off, size_t src_len)
{
    int dec;

    if (id[0] == 'W' && strcmp(id, "WXXX") != 0 && strcmp(id, "WXX") != 0)
        return sl_xi_emit(x, "id3:", id, d, trim(d, dn), SL_XI_LATIN1,
                          SL_XMAP_COARSE, src_off, src_len);
    if (dn < 1 + (size_t)(skip_lang ? 3 : 0))
        return SL_OK;
    dec = d[0] == 0 ? SL_XI_LATIN1 : d[0] == 1 ? SL_XI_UTF16LE
        : d[0] == 2 ? SL_XI_UTF16BE : SL_XI_UTF8;
    d += 1 + (skip_lang ? 3 : 0);
    dn -= 1 + (size_t)(skip_lang ? 3 : 0);
    if (dec == SL_XI_UTF16LE && dn >= 2 && d[0] == 0xfe && d[1] == 0xff)
        dec = SL_XI_UTF16BE;
    if ((dec == SL_XI_UTF16LE || dec == SL_XI_UTF16BE) && dn >= 2 &&
        ((d[0] == 0xff && d[1] == 0xfe) || (d[0] == 0xfe && d[1] == 0xff))) {
        d += 2;
        dn -= 2;
    }
    if (dec != SL_XI_UTF16LE && dec != SL_XI_UTF16BE)
        dn = trim(d, dn);
    return sl_xi_emit(x, "id3:", id, d, dn, dec, SL_XMAP_COARSE, src_off, src_len);
}

static int id3v2(sl_extract *x, const uint8_t *p, size_t n)
{
    unsigned ver = p[3], flags = p[5];
    uint32_t size;
    uint8_t *body;
    size_t blen = 0, i = 0, hdr = ver == 2 ? 6 : 10;
    int rc = SL_OK;

    if (ver < 2 || ver > 4 || !syncsafe(p + 6, &size)) {
        x->flags |= SL_XF_MALFORMED;
        return SL_OK;
    }
    if (size > n - 10) {
        x->flags |= SL_XF_MALFORMED;
        size = (uint32_t)(n - 10);
    }
    if (!sl_xi_charge(x, size, 1))
        return SL_OK;
    if (!(body = malloc(size ? size : 1)))
        return SL_ENOMEM;
    for (size_t k = 0; k < size; k++) {         /* undo unsynchronisation */
        body[blen++] = p[10 + k];
        if ((flags & 0x80) && p[10 + k] == 0xff && k + 1 < size && p[11 + k] == 0)
            k++;
    }
    if ((flags & 0x40) && ver >= 3 && blen >= 4) {  /* extended header */
        uint32_t e = be32(body);
        if (ver == 4 && !syncsafe(body, &e))
            e = (uint32_t)blen;
        i = ver == 3 ? (size_t)e + 4 : e;
    }
    while (rc == SL_OK && !sl_xi_stopped(x) && i < blen && blen - i >= hdr) {
        const uint8_t *f = body + i;
        char id[5] = { 0 };
        uint32_t fsize = 0;
        int skip = 0;

        if (f[0] == 0)
            break;                              /* padding */
        memcpy(id, f, ver == 2 ? 3 : 4);
        for (int k = 0; k < (ver == 2 ? 3 : 4); k++)
            if (!((id[k] >= 'A' && id[k] <= 'Z') || (id[k] >= '0' && id[k] <= '9'))) {
                x->flags |= SL_XF_MALFORMED;
                goto out;
            }
        if (ver == 2)
            fsize = (uint32_t)f[3] << 16 | (uint32_t)f[4] << 8 | f[5];
        else if (ver == 4 && !syncsafe(f + 4, &fsize))
            fsize = be32(f + 4);                /* iTunes wrote plain sizes */
        else if (ver == 3)
            fsize = be32(f + 4);
        if (fsize > blen - i - hdr) {
            x->flags |= SL_XF_MALFORMED;
            break;
        }
        if (!sl_xi_charge(x, 0, 1))
            break;
        if (ver == 3)
            skip = (f[9] & 0xc0) != 0;          /* compressed, encrypted */
        else if (ver == 4)
            skip = (f[9] & 0x0d) != 0;          /* compressed, encrypted, unsync'd length */
        if (!skip && (id[0] == 'T' || id[0] == 'W'))
            rc = id3_text(x, id, f + hdr, fsize, 0, 10 + i, hdr + fsize);
        else if (!skip && (strcmp(id, "COMM") == 0 || strcmp(id, "USLT") == 0 ||
                           strcmp(id, "COM") == 0 || strcmp(id, "ULT") == 0))
            rc = id3_text(x, id, f + hdr, fsize, 1, 10 + i, hdr + fsize);
        i += hdr + fsize;
    }
out:
    free(body);
    return rc;
}

int sl_xi_id3(sl_extract *x, const uint8_t *p, size_t n)
{
    static const struct { const char *name; size_t off, len; } v1[] = {
        { "title", 3, 30 }, { "artist", 33, 30 }, { "album", 63, 30 },
        { "comment", 97, 30 },
    };
    int rc = SL_OK;

    if (n >= 10 && memcmp(p, "ID3", 3) == 0)
        rc = id3v2(x, p, n);
    if (rc == SL_OK && n >= 128 && memcmp(p + n - 128, "TAG", 3) == 0 &&
        sl_xi_charge(x, 128, 1)) {
        const uint8_t *t = p + n - 128;

        for (size_t k = 0; k < 4 && rc == SL_OK; k++) {
            size_t len = v1[k].len;
            if (k == 3 && t[125] == 0 && t[126] != 0)
                len = 28;                       /* ID3v1.1: a track number */
            for (size_t j = 0; j < len; j++)    /* the field ends at a NUL */
                if (t[v1[k].off + j] == 0) {
                    len = j;
                    break;
                }
            rc = sl_xi_emit(x, "id3v1:", v1[k].name, t + v1[k].off, trim(t + v1[k].off, len),
                            SL_XI_LATIN1, SL_XMAP_COARSE, n - 128 + v1[k].off, v1[k].len);
        }
    }
    return rc;
}

/* ---- locations ---------------------------------------------------------------- */

/* One ISO 6709 coordinate at s: sign, then D, DDMM or DDDMM, DDMMSS or
 * DDDMMSS, with an optional fraction.  deg_digits: 2 (lat) or 3 (lon).
 * The characters read, 0 if none. */
static size_t iso6709_coord(const char *s, int deg_digits, double *out)
{
    size_t i = 1, intd = 0;
    double v = 0, frac = 0, scale = 1;
    int sign;

    if (s[0] != '+' && s[0] != '-')
        return 0;
    sign = s[0] == '-' ? -1 : 1;
    for (; s[i] >= '0' && s[i] <= '9' && intd < 8; i++, intd++)
        v = v * 10 + (s[i] - '0');
    if (s[i] == '.')
        for (i++; s[i] >= '0' && s[i] <= '9'; i++) {
            scale /= 10;
            frac += (s[i] - '0') * scale;
        }
    if (intd == 0)
        return 0;
    if (intd == (size_t)deg_digits + 2) {           /* DDMM.mm */
        double d = (double)((long)v / 100), m = (double)((long)v % 100) + frac;
        v = d + m / 60;
    } else if (intd == (size_t)deg_digits + 4) {    /* DDMMSS.ss */
        long w = (long)v;
        v = (double)(w / 10000) + (double)(w / 100 % 100) / 60 +
            ((double)(w % 100) + frac) / 3600;
    } else {
        v += frac;
    }
    *out = sign * v;
    return i;
}

static void iso6709(sl_extract *x, const uint8_t *p, size_t n, size_t src_off,
                    size_t src_len)
{
    char s[64];
    double lat, lon;
    size_t k;

    if (n >= sizeof(s))
        n = sizeof(s) - 1;
    memcpy(s, p, n);
    s[n] = '\0';
    if ((k = iso6709_coord(s, 2, &lat)) && iso6709_coord(s + k, 3, &lon))
        sl_xi_location(x, lat, lon, "mp4:location", src_off, src_len);
}

/* An XMP GPS value: "DDD,MM,SSk", "DDD,MM.mmk" or decimal degrees. */
static int xmp_coord(const uint8_t *p, size_t n, double *out)
{
    double part[3] = { 0, 0, 0 }, scale;
    size_t i = 0;
    int k = 0, any = 0, sign = 1;

    while (i < n && k < 3) {
        double v = 0;
        int digits = 0;

        if (p[i] == '-' && k == 0 && !any) {
            sign = -1;
            i++;
        }
        for (; i < n && p[i] >= '0' && p[i] <= '9'; i++, digits++)
            v = v * 10 + (p[i] - '0');
        if (i < n && p[i] == '.')
            for (i++, scale = 0.1; i < n && p[i] >= '0' && p[i] <= '9'; i++, scale /= 10)
                v += (p[i] - '0') * scale;
        if (!digits)
            return 0;
        any = 1;
        part[k++] = v;
        if (i < n && p[i] == ',')
            i++;
        else
            break;
    }
    if (!any)
        return 0;
    if (i < n && (p[i] == 'S' || p[i] == 'W'))
        sign = -sign;
    *out = sign * (part[0] + part[1] / 60 + part[2] / 3600);
    return 1;
}

/* The value of XMP property `name` in text t[0..n): attribute (name="v")
 * or element (<ns:name>v<).  1 and *v / *vn when found. */
static int xmp_value(const uint8_t *t, size_t n, const char *name,
                     const uint8_t **v, size_t *vn)
{
    size_t nl = strlen(name), i = 0;

    while (i + nl < n) {
        const uint8_t *f = memchr(t + i, name[0], n - i - nl);
        size_t j, s;

        if (!f)
            return 0;
        i = (size_t)(f - t) + 1;
        if (memcmp(f, name, nl) != 0)
            continue;
        j = (size_t)(f - t) + nl;
        while (j < n && (t[j] == ' ' || t[j] == '\n' || t[j] == '\r' || t[j] == '\t'))
            j++;
        if (j < n && t[j] == '=') {
            for (j++; j < n && t[j] != '"' && t[j] != '\''; j++)
                ;
            if (j >= n)
                return 0;
            s = ++j;
            while (j < n && t[j] != t[s - 1])
                j++;
        } else if (j < n && t[j] == '>') {
            s = ++j;
            while (j < n && t[j] != '<')
                j++;
        } else {
            continue;
        }
        *v = t + s;
        *vn = j - s;
        return 1;
    }
    return 0;
}

void sl_xi_xmp_gps(sl_extract *x, size_t from)
{
    for (size_t i = from; i < x->nseg && !x->loc.present; i++) {
        const sl_xseg *s = &x->seg[i];
        const uint8_t *v;
        size_t vn;
        double lat, lon;

        if (strncmp(s->source, "xmp", 3) != 0)
            continue;
        if (xmp_value(s->text, s->len, "GPSLatitude", &v, &vn) && xmp_coord(v, vn, &lat) &&
            xmp_value(s->text, s->len, "GPSLongitude", &v, &vn) && xmp_coord(v, vn, &lon))
            sl_xi_location(x, lat, lon, "xmp:GPS", s->src_off, s->src_len);
    }
}

/* ---- MP4 ---------------------------------------------------------------------- */

typedef struct mp4 {
    char keys[MP4_MAX_KEYS][64];
    uint32_t nkeys;
} mp4;

static const uint8_t XMP_UUID[16] = {
    0xbe, 0x7a, 0xcf, 0xcb, 0x97, 0xa9, 0x42, 0xe8,
    0x9c, 0x71, 0x99, 0x94, 0x91, 0xe3, 0xaf, 0xac,
};

/* The printable name of an item: four characters, \xa9 dropped. */
static void item_name(const uint8_t *t, char *out)
{
    size_t o = 0;

    for (int k = 0; k < 4; k++)
        if (t[k] != 0xa9)
            out[o++] = t[k] > 0x20 && t[k] < 0x7f ? (char)t[k] : '_';
    out[o] = '\0';
}

/* The data boxes of one ilst item p[0..n) named `name`. */
static int mp4_item(sl_extract *x, const char *name, const uint8_t *p, size_t n,
                    size_t base)
{
    size_t i = 0;
    int rc = SL_OK;
    int loc = strstr(name, "location.ISO6709") != NULL || strcmp(name, "xyz") == 0;
    char fname[64];

    snprintf(fname, sizeof(fname), "%s", name);
    while (rc == SL_OK && n - i >= 8 && !sl_xi_stopped(x)) {
        uint32_t size = be32(p + i);

        if (size < 8 || size > n - i) {
            x->flags |= SL_XF_MALFORMED;
            break;
        }
        if (!sl_xi_charge(x, 0, 1))
            break;
        if (memcmp(p + i + 4, "name", 4) == 0 && size > 12) {   /* "----" items */
            size_t l = size - 12 < sizeof(fname) - 1 ? size - 12 : sizeof(fname) - 1;
            memcpy(fname, p + i + 12, l);
            fname[l] = '\0';
        } else if (memcmp(p + i + 4, "data", 4) == 0 && size >= 16) {
            uint32_t type = be32(p + i + 8) & 0xffffff;
            const uint8_t *d = p + i + 16;
            size_t dn = size - 16;

            if (loc)
                iso6709(x, d, dn, base + i, size);
            if (type == 1)
                rc = sl_xi_emit(x, "mp4:", fname, d, trim(d, dn), SL_XI_UTF8,
                                SL_XMAP_COARSE, base + i, size);
            else if (type == 2)
                rc = sl_xi_emit(x, "mp4:", fname, d, dn, SL_XI_UTF16BE,
                                SL_XMAP_COARSE, base + i, size);
        }
        i += size;
    }
    return rc;
}

static int mp4_boxes(sl_extract *x, mp4 *m, const uint8_t *p, size_t n, size_t base,
                     int depth, const char *parent)
{
    size_t i = 0;
    int rc = SL_OK;

    if (depth > MP4_MAX_DEPTH)
        return SL_OK;
    while (rc == SL_OK && n - i >= 8 && !sl_xi_stopped(x)) {
        uint64_t size = be32(p + i);
        size_t hdr = 8;
        const uint8_t *t = p + i + 4, *d;
        size_t dn;

        if (size == 1) {
            if (n - i < 16) {
                x->flags |= SL_XF_MALFORMED;
                break;
            }
            size = (uint64_t)be32(p + i + 8) << 32 | be32(p + i + 12);
            hdr = 16;
        } else if (size == 0) {
            size = n - i;
        }
        if (size < hdr || size > n - i) {
            x->flags |= SL_XF_MALFORMED;
            break;
        }
        if (!sl_xi_charge(x, 0, 1))
            break;
        d = p + i + hdr;
        dn = (size_t)size - hdr;
        if (memcmp(t, "moov", 4) == 0 || memcmp(t, "trak", 4) == 0 ||
            memcmp(t, "udta", 4) == 0) {
            rc = mp4_boxes(x, m, d, dn, base + i + hdr, depth + 1, "moov");
        } else if (memcmp(t, "meta", 4) == 0) {
            size_t skip = dn >= 12 && memcmp(d + 8, "hdlr", 4) == 0 ? 4 : 0;
            rc = mp4_boxes(x, m, d + skip, dn - skip, base + i + hdr + skip, depth + 1, "meta");
        } else if (memcmp(t, "keys", 4) == 0 && strcmp(parent, "meta") == 0 && dn >= 8) {
            size_t k = 8;
            m->nkeys = 0;
            while (dn - k >= 8 && m->nkeys < MP4_MAX_KEYS) {
                uint32_t ks = be32(d + k);
                size_t l;
                if (ks < 8 || ks > dn - k)
                    break;
                l = ks - 8 < 63 ? ks - 8 : 63;
                memcpy(m->keys[m->nkeys], d + k + 8, l);
                m->keys[m->nkeys++][l] = '\0';
                k += ks;
            }
        } else if (memcmp(t, "ilst", 4) == 0) {
            rc = mp4_boxes(x, m, d, dn, base + i + hdr, depth + 1, "ilst");
        } else if (strcmp(parent, "ilst") == 0) {
            char name[64];
            uint32_t idx = be32(t);
            if (idx >= 1 && idx <= m->nkeys) {
                const char *k = m->keys[idx - 1];
                snprintf(name, sizeof(name), "%s",
                         strncmp(k, "com.apple.quicktime.", 20) == 0 ? k + 20 : k);
                if (strstr(k, "location.ISO6709"))
                    snprintf(name, sizeof(name), "location.ISO6709");
            } else {
                item_name(t, name);
            }
            rc = mp4_item(x, name, d, dn, base + i + hdr);
        } else if (memcmp(t, "XMP_", 4) == 0 ||
                   (memcmp(t, "uuid", 4) == 0 && dn >= 16 && memcmp(d, XMP_UUID, 16) == 0)) {
            size_t skip = memcmp(t, "uuid", 4) == 0 ? 16 : 0;
            rc = sl_xi_emit(x, "xmp", NULL, d + skip, dn - skip, SL_XI_UTF8,
                            SL_XMAP_COARSE, base + i, (size_t)size);
        } else if (t[0] == 0xa9 && strcmp(parent, "moov") == 0 && dn >= 4) {
            /* QuickTime udta text: 16-bit length, 16-bit language, text */
            size_t l = (size_t)d[0] << 8 | d[1];
            char name[8];
            item_name(t, name);
            if (l <= dn - 4) {
                if (strcmp(name, "xyz") == 0)
                    iso6709(x, d + 4, l, base + i, (size_t)size);
                rc = sl_xi_emit(x, "mp4:", name, d + 4, trim(d + 4, l), SL_XI_UTF8,
                                SL_XMAP_COARSE, base + i, (size_t)size);
            }
        }
        i += (size_t)size;
    }
    return rc;
}

int sl_xi_mp4(sl_extract *x, const uint8_t *p, size_t n)
{
    mp4 *m = calloc(1, sizeof(*m));
    int rc;

    if (!m)
        return SL_ENOMEM;
    rc = mp4_boxes(x, m, p, n, 0, 0, "");
    free(m);
    return rc;
}
