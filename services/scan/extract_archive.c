/*
 * extract_archive.c -- the text inside archives (zip, tar, gzip, tar.gz)
 * and office documents (OOXML: DOCX / XLSX / PPTX; ODF: ODT / ODS / ODP;
 * EPUB, whose XHTML chapters go through the same stripper),
 * read with libarchive from the sample's bytes in memory.
 *
 * Every regular member is read in chunks; what its first bytes say decides
 * whether it is kept (sl_xi_member reads it: text, an archive again, an
 * office document, a PDF, an image, audio / video) or only counted, and
 * whether it is kept whole (containers) or up to the text cap.  The
 * limits (extract.h: sl_xlimits) are checked before a member is read (its
 * declared size, the zip's entry count) and after every chunk: member
 * count, nesting depth, total bytes expanded, and the expansion ratio
 * against the sample's size once more than 1 MiB came out.  The first one
 * passed ends the run with SL_XF_BOMB; the chunk that passed it is the
 * last one inflated, so a bomb costs at most the limit in memory and work.
 * Every inflated byte is charged to the work budget too.
 *
 * Office XML members go through a small markup stripper (sl_xi_xml_text):
 * character data only, the five entities and numeric character references
 * decoded, CDATA kept, comments and processing instructions dropped, and a
 * line break where a block element (paragraph, cell, row, shared string,
 * property) closes -- never between the runs of one paragraph, which split
 * words ("078-" "05-1120") wherever the editor's formatting changed.
 */
#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extract_int.h"
#include "textenc.h"

#define CHUNK       32768
#define RATIO_FLOOR ((uint64_t)1 << 20)

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

const char *sl_xi_office_kind(const char *m)
{
    static const struct { const char *prefix, *kind; } kinds[] = {
        { "application/vnd.openxmlformats-officedocument.wordprocessingml.", "docx" },
        { "application/vnd.openxmlformats-officedocument.spreadsheetml.", "xlsx" },
        { "application/vnd.openxmlformats-officedocument.presentationml.", "pptx" },
        { "application/vnd.oasis.opendocument.text", "odt" },
        { "application/vnd.oasis.opendocument.spreadsheet", "ods" },
        { "application/vnd.oasis.opendocument.presentation", "odp" },
        { "application/vnd.oasis.opendocument.", "odf" },
        { "application/epub+zip", "epub" },
    };

    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strncmp(m, kinds[i].prefix, strlen(kinds[i].prefix)) == 0)
            return kinds[i].kind;
    return NULL;
}

/* The entry count a zip's end-of-central-directory record (or its zip64
 * record) declares, or 0 when there is none to read.  Checked before
 * libarchive reads the central directory into memory. */
static uint64_t zip_declared_entries(const uint8_t *p, size_t n)
{
    size_t lo = n > 65557 ? n - 65557 : 0;

    if (n < 22)
        return 0;
    for (size_t i = n - 22 + 1; i-- > lo;) {
        if (memcmp(p + i, "PK\x05\x06", 4) != 0)
            continue;
        uint64_t count = le16(p + i + 10);
        /* zip64: a locator just before, pointing at the zip64 record */
        if (count == 0xffff && i >= 20 && memcmp(p + i - 20, "PK\x06\x07", 4) == 0) {
            uint64_t at = le64(p + i - 20 + 8);
            if (at <= n - 56 && n >= 56 && memcmp(p + at, "PK\x06\x06", 4) == 0)
                count = le64(p + at + 32);
        }
        return count;
    }
    return 0;
}

/* Charges and counts `k` inflated bytes; 0 once a limit or the budget is
 * passed (BOMB / BUDGET set). */
static int count_expanded(sl_extract *x, const char *name, size_t k)
{
    const sl_xlimits *l = &x->lim;

    x->expanded += k;
    if (x->expanded > l->max_expanded) {
        sl_xi_bomb(x, "archive expands past %llu bytes at member %.80s "
                   "(scan.archive.max.bytes)", (unsigned long long)l->max_expanded, name);
        return 0;
    }
    if (x->expanded > RATIO_FLOOR && x->root_len > 0 &&
        x->expanded / x->root_len > l->max_ratio) {
        sl_xi_bomb(x, "archive expands more than %u times its %zu bytes at member "
                   "%.80s (scan.archive.max.ratio)", l->max_ratio, x->root_len, name);
        return 0;
    }
    return sl_xi_charge(x, k, 0);
}

/* Whether a member's first bytes (or name) make it worth keeping. */
static int worth_keeping(const uint8_t *p, size_t n, const char *name, const char *office)
{
    static const char *const magic[] = {
        "PK\x03\x04", "PK\x05\x06", "\x1f\x8b", "%PDF-", "\x89PNG", "\xff\xd8\xff",
        "GIF8", "RIFF", "II*", "MM\0*", "ID3",
    };
    size_t k = n < 1024 ? n : 1024, ctl = 0, nl = strlen(name);

    for (size_t i = 0; i < sizeof(magic) / sizeof(magic[0]); i++) {
        size_t m = strlen(magic[i]) ? strlen(magic[i]) : 1;
        if (i == 9)
            m = 4;          /* "MM\0*" holds a NUL */
        if (n >= m && memcmp(p, magic[i], m) == 0)
            return 1;
    }
    if ((n >= 12 && memcmp(p + 4, "ftyp", 4) == 0) ||
        (n >= 262 && memcmp(p + 257, "ustar", 5) == 0))
        return 1;
    if (office && nl >= 4 && (strcmp(name + nl - 4, ".xml") == 0 ||
                              strcmp(name + nl - 4, "html") == 0 ||
                              strcmp(name + nl - 4, ".opf") == 0 ||
                              strcmp(name + nl - 4, ".ncx") == 0))
        return 1;
    for (size_t i = 0; i < k; i++) {
        if (p[i] == 0)
            return 0;
        ctl += p[i] < 0x20 && p[i] != '\n' && p[i] != '\r' && p[i] != '\t' &&
               p[i] != '\f' && p[i] != 0x1b;
    }
    return ctl * 32 <= k;
}

/* Reads one entry's data: counted, and kept in *keep (malloc'd) when its
 * first chunk says it is worth it.  SL_OK (also when a limit stopped it),
 * SL_ENOMEM. */
static int read_member(sl_extract *x, struct archive *a, const char *name,
                       const char *office, uint8_t **keep, size_t *klen)
{
    uint8_t chunk[CHUNK];
    size_t cap = 0, len = 0;
    uint8_t *buf = NULL;
    int first = 1, kept = 0, whole = 0;

    *keep = NULL;
    *klen = 0;
    for (;;) {
        la_ssize_t k = archive_read_data(a, chunk, sizeof(chunk));

        if (k == 0)
            break;
        if (k < 0) {
            x->flags |= SL_XF_MALFORMED;
            break;
        }
        if (!count_expanded(x, name, (size_t)k))
            break;
        if (first) {
            kept = worth_keeping(chunk, (size_t)k, name, office);
            /* containers are read whole; text only up to the text cap */
            whole = (k >= 4 && (memcmp(chunk, "PK\x03\x04", 4) == 0 ||
                                memcmp(chunk, "%PDF", 4) == 0)) ||
                    (k >= 2 && chunk[0] == 0x1f && chunk[1] == 0x8b) ||
                    (k >= 262 && memcmp(chunk + 257, "ustar", 5) == 0) ||
                    (k >= 12 && memcmp(chunk + 4, "ftyp", 4) == 0);
            first = 0;
        }
        if (!kept)
            continue;
        if (!whole && len >= x->max_bytes) {
            x->flags |= SL_XF_TRUNCATED;        /* counted on, not kept */
            continue;
        }
        if (len + (size_t)k > cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            uint8_t *nb;

            while (ncap < len + (size_t)k)
                ncap *= 2;
            if (!(nb = realloc(buf, ncap))) {
                free(buf);
                return SL_ENOMEM;
            }
            buf = nb;
            cap = ncap;
        }
        memcpy(buf + len, chunk, (size_t)k);
        len += (size_t)k;
    }
    if (sl_xi_stopped(x) || !kept) {
        free(buf);
        return SL_OK;
    }
    *keep = buf;
    *klen = len;
    return SL_OK;
}

int sl_xi_archive(sl_extract *x, const uint8_t *p, size_t n, const char *office)
{
    const sl_xlimits *l = &x->lim;
    struct archive *a;
    struct archive_entry *e;
    uint64_t declared;
    int rc = SL_OK, r;

    if (sl_xi_stopped(x))
        return SL_OK;
    if (x->depth >= l->max_depth) {
        sl_xi_bomb(x, "archives nested deeper than %u levels (scan.archive.max.depth)",
                   l->max_depth);
        return SL_OK;
    }
    declared = zip_declared_entries(p, n);
    if (declared > l->max_members) {
        sl_xi_bomb(x, "zip declares %llu entries, over the %u allowed "
                   "(scan.archive.max.members)", (unsigned long long)declared,
                   l->max_members);
        return SL_OK;
    }
    if (!sl_xi_charge(x, n, 1))
        return SL_OK;
    if (!(a = archive_read_new()))
        return SL_ENOMEM;
    if (archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
        archive_read_support_format_zip(a) != ARCHIVE_OK ||
        archive_read_support_format_tar(a) != ARCHIVE_OK ||
        /* a bare .gz: one member; only then, or anything would do */
        (n >= 2 && p[0] == 0x1f && p[1] == 0x8b &&
         archive_read_support_format_raw(a) != ARCHIVE_OK) ||
        archive_read_open_memory(a, p, n) != ARCHIVE_OK) {
        x->flags |= SL_XF_MALFORMED;
        archive_read_free(a);
        return SL_OK;
    }
    x->depth++;
    while (rc == SL_OK && !sl_xi_stopped(x)) {
        const char *name;
        uint8_t *buf;
        size_t len;

        r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
            x->flags |= SL_XF_MALFORMED;
            break;
        }
        if (++x->members > l->max_members) {
            sl_xi_bomb(x, "archive holds more than %u members "
                       "(scan.archive.max.members)", l->max_members);
            break;
        }
        if (!sl_xi_charge(x, 0, 1))
            break;
        if (archive_entry_filetype(e) != AE_IFREG)
            continue;
        name = archive_entry_pathname(e);
        if (!name || !*name)
            name = "data";
        if (archive_entry_is_encrypted(e)) {
            x->flags |= SL_XF_ENCRYPTED | SL_XF_UNREAD;
            if (!x->detail[0])
                snprintf(x->detail, sizeof(x->detail), "member %.120s is encrypted: "
                         "not read", name);
            continue;
        }
        if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0 &&
            (uint64_t)archive_entry_size(e) > l->max_expanded - x->expanded) {
            sl_xi_bomb(x, "member %.80s declares %lld bytes; with %llu expanded "
                       "before, past the %llu allowed (scan.archive.max.bytes)", name,
                       (long long)archive_entry_size(e), (unsigned long long)x->expanded,
                       (unsigned long long)l->max_expanded);
            break;
        }
        rc = read_member(x, a, name, office, &buf, &len);
        if (rc == SL_OK && buf)
            rc = sl_xi_member(x, name, buf, len, office);
        free(buf);
    }
    x->depth--;
    archive_read_free(a);
    return rc;
}

/* ---- office XML ------------------------------------------------------------- */

/* Elements that close inside a paragraph: no break after them. */
static int inline_element(const char *local, size_t n)
{
    static const char *const names[] = {
        "t", "r", "rPr", "span", "a", "hyperlink", "ins", "del", "delText",
        "smartTag", "sdt", "sdtContent", "fldSimple", "instrText", "proofErr",
        "bookmarkStart", "bookmarkEnd", "fld", "s", "tab", "v", "is", "AlternateContent",
        "Choice", "Fallback", "bookmark", "soft-page-break", "note-citation",
        /* XHTML (EPUB chapters) */
        "em", "strong", "b", "i", "u", "sup", "sub", "small", "code", "abbr", "cite",
        "q", "mark", "font", "big", "tt", "kbd", "var", "dfn", "time", "bdi", "bdo",
    };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i]) == n && memcmp(names[i], local, n) == 0)
            return 1;
    return 0;
}

/* What an empty element stands for: ' ' for a tab or space, '\n' for a
 * line break, 0 for nothing. */
static char empty_element(const char *local, size_t n)
{
    if ((n == 3 && memcmp(local, "tab", 3) == 0) || (n == 1 && local[0] == 's'))
        return ' ';
    if ((n == 2 && (memcmp(local, "br", 2) == 0 || memcmp(local, "cr", 2) == 0)) ||
        (n == 10 && memcmp(local, "line-break", 10) == 0))
        return '\n';
    return 0;
}

/* Decodes the entity at p[0..n) (p[0] == '&'); the bytes consumed, 0 if it
 * is not one (the '&' is then kept as is). */
static size_t entity(const uint8_t *p, size_t n, sl_buf *out, int *rc)
{
    static const struct { const char *name; char c; } named[] = {
        { "lt;", '<' }, { "gt;", '>' }, { "amp;", '&' }, { "quot;", '"' }, { "apos;", '\'' },
    };
    uint8_t u[4];

    for (size_t i = 0; i < 5; i++) {
        size_t k = strlen(named[i].name);
        if (n > k && memcmp(p + 1, named[i].name, k) == 0) {
            *rc = sl_buf_putc(out, named[i].c);
            return k + 1;
        }
    }
    if (n > 3 && p[1] == '#') {
        size_t i = 2;
        uint32_t cp = 0;
        int hex = p[2] == 'x' || p[2] == 'X', digits = 0;

        i += (size_t)hex;
        for (; i < n && i < 12 && p[i] != ';'; i++, digits++) {
            int d = p[i] >= '0' && p[i] <= '9' ? p[i] - '0'
                  : hex && p[i] >= 'a' && p[i] <= 'f' ? p[i] - 'a' + 10
                  : hex && p[i] >= 'A' && p[i] <= 'F' ? p[i] - 'A' + 10 : -1;
            if (d < 0)
                return 0;
            cp = cp * (hex ? 16u : 10u) + (uint32_t)d;
        }
        if (i >= n || p[i] != ';' || !digits)
            return 0;
        if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            cp = 0xfffd;
        *rc = sl_buf_append(out, u, sl_utf8_encode(cp, u));
        return i + 1;
    }
    return 0;
}

/* The end of the markup starting at p[i] == '<' ("-->", "]]>", "?>" or
 * '>'), and what it is; n when it does not end. */
static size_t markup_end(const uint8_t *p, size_t n, size_t i, const char *close)
{
    size_t k = strlen(close);
    const uint8_t *f = p + i;

    while ((size_t)(f - p) + k <= n) {
        f = memchr(f, close[0], n - (size_t)(f - p) - k + 1);
        if (!f)
            return n;
        if (memcmp(f, close, k) == 0)
            return (size_t)(f - p) + k;
        f++;
    }
    return n;
}

int sl_xi_xml_text(sl_extract *x, const char *kind, const uint8_t *p, size_t n)
{
    sl_buf out;
    size_t i = 0, blank;
    int rc = SL_OK;

    if (!sl_xi_charge(x, n, 1))
        return SL_OK;
    sl_buf_init(&out, x->max_bytes);
    while (i < n && rc == SL_OK) {
        const uint8_t *lt = memchr(p + i, '<', n - i);
        size_t end = lt ? (size_t)(lt - p) : n;

        /* character data up to the next markup */
        while (i < end && rc == SL_OK) {
            const uint8_t *amp = memchr(p + i, '&', end - i);
            size_t stop = amp ? (size_t)(amp - p) : end, k;

            rc = sl_buf_append(&out, p + i, stop - i);
            i = stop;
            if (rc == SL_OK && i < end) {
                k = entity(p + i, end - i, &out, &rc);
                if (k == 0) {
                    rc = sl_buf_putc(&out, '&');
                    k = 1;
                }
                i += k;
            }
        }
        if (i >= n || rc != SL_OK)
            break;
        if (n - i >= 4 && memcmp(p + i, "<!--", 4) == 0) {
            i = markup_end(p, n, i + 4, "-->");
        } else if (n - i >= 9 && memcmp(p + i, "<![CDATA[", 9) == 0) {
            size_t e = markup_end(p, n, i + 9, "]]>");
            rc = sl_buf_append(&out, p + i + 9, (e < n ? e - 3 : n) - (i + 9));
            i = e;
        } else if (n - i >= 2 && (p[i + 1] == '?' || p[i + 1] == '!')) {
            i = markup_end(p, n, i + 2, ">");
        } else {
            size_t e = markup_end(p, n, i + 1, ">"), s = i + 1, ne, local;
            int closing = s < n && p[s] == '/', empty = e <= n && e >= 2 && p[e - 2] == '/';
            char c;

            s += (size_t)closing;
            for (ne = s; ne < e && p[ne] != ' ' && p[ne] != '/' && p[ne] != '>' &&
                 p[ne] != '\t' && p[ne] != '\n' && p[ne] != '\r'; ne++)
                ;
            for (local = ne; local > s && p[local - 1] != ':'; local--)
                ;
            if (empty && (c = empty_element((const char *)p + local, ne - local)))
                rc = sl_buf_putc(&out, c);
            else if (closing && !inline_element((const char *)p + local, ne - local) &&
                     out.len && out.data[out.len - 1] != '\n')
                rc = sl_buf_putc(&out, '\n');
            i = e;
        }
    }
    if (rc == SL_ETOOBIG) {
        x->flags |= SL_XF_TRUNCATED;
        rc = SL_OK;
    }
    for (blank = 0; blank < out.len; blank++)
        if (out.data[blank] != ' ' && out.data[blank] != '\n' &&
            out.data[blank] != '\r' && out.data[blank] != '\t')
            break;
    if (rc == SL_OK && blank < out.len)
        rc = sl_xi_emit(x, kind, ":text", out.data + blank, out.len - blank, SL_XI_UTF8,
                        SL_XMAP_MEMBER, 0, n);
    sl_buf_free(&out);
    return rc;
}
