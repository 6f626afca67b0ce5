/*
 * extract.h -- which bytes of a sample the PII scanner reads, as UTF-8.
 *
 * Given the bytes and their detected type (filetype.h), the extractor
 * returns a list of text segments, each with where it came from:
 *
 *   content            text-encoded samples (every encoding other than
 *                      "binary", whatever the category: text, JSON, XML,
 *                      HTML, SVG, RTF, PostScript, ...): the text itself.
 *                      UTF-8 and ASCII are not copied (the segment points
 *                      into the input, BOM skipped); UTF-16 LE / BE and
 *                      8-bit text (read as Windows-1252) are transcoded.
 *   png:tEXt:KEY       PNG text chunks: tEXt (Latin-1), zTXt (deflated
 *   png:zTXt:KEY       Latin-1), iTXt (UTF-8, deflated or not), and an
 *   png:iTXt:KEY       eXIf chunk (as EXIF below).
 *   jpeg:COM           JPEG comment segments.
 *   exif:TAG           EXIF (JPEG APP1 "Exif\0\0", PNG eXIf, WebP EXIF,
 *                      or a TIFF file itself): every ASCII tag of IFD0,
 *                      IFD1 and the Exif IFD by name (ImageDescription,
 *                      Make, Model, Software, Artist, Copyright,
 *                      CameraOwnerName, BodySerialNumber, ...; date-time
 *                      tags are skipped), UserComment (ASCII / Unicode /
 *                      undefined), the Windows XP tags (XPTitle,
 *                      XPComment, XPAuthor, XPKeywords, XPSubject; UTF-16LE)
 *                      and GPSAreaInformation.  Unknown ASCII tags are
 *                      named exif:0xNNNN.
 *   xmp                an XMP packet: JPEG APP1 "http://ns.adobe.com/xap/
 *   xmp:extension      1.0/\0", extended XMP, WebP "XMP ", PNG iTXt
 *                      "XML:com.adobe.xmp" (as png:iTXt), and in PDFs
 *                      every uncompressed <?xpacket ... ?> packet.
 *   iptc:NAME          IPTC-IIM records in JPEG APP13 (Photoshop 3.0):
 *                      ObjectName, Keywords, By-line, City, Caption, ...
 *   gif:comment        GIF comment extensions.
 *   pdf:KEY            the PDF document information dictionary: every
 *                      string entry (/Title /Author /Subject /Keywords
 *                      /Creator /Producer and custom keys; not the dates),
 *                      literal strings with all escapes, hex strings,
 *                      UTF-16BE with BOM, UTF-8 with BOM, PDFDocEncoding.
 *                      Info dictionaries of every revision are read (an
 *                      incremental update leaves the old one in the file).
 *
 * EXIF GPS latitude / longitude are decoded to signed decimal degrees and
 * reported as the location (a finding in itself).
 *
 * Not extracted (the `coverage` field tells the policy): text inside
 * archives, office documents (OOXML / ODF / OLE2), PDF page text or Info
 * dictionaries inside compressed object streams, audio / video tags (ID3,
 * MP4 metadata), and anything in encrypted PDFs (flagged).
 *
 * Offsets.  A finding at [off, off+len) of segment i maps back to input
 * bytes with sl_extract_map(): exactly for UTF-8 as is (identity), for
 * UTF-16 and 8-bit text and for metadata fields (the same decoder walks
 * the original bytes again, so a character maps to the 1-4 bytes it came
 * from), and coarsely -- the whole field -- for deflated chunks and PDF
 * strings (escapes and hex digits have no byte-for-byte mapping).
 *
 * Work.  sl_extract_run_budget charges a per-message budget (budget.h);
 * exhausting it sets SL_XF_BUDGET and stops extraction.
 *
 * Limits.  Copied text is capped at `max_bytes` (the sl_buf rule: every
 * buffer that input can grow has a cap), segments at SL_EXTRACT_MAX_SEGS;
 * reaching either sets SL_XF_TRUNCATED and extraction stops.  Deflated
 * data is inflated only up to the remaining budget (no zip bombs).
 * Hostile and truncated input is read with every offset and length
 * checked against the bytes given; a broken structure ends that parser
 * with SL_XF_MALFORMED and keeps what it found before.
 *
 * Ownership: segment text points either into the input (`content` of
 * UTF-8 samples) or into the extractor's arena; both stay valid until the
 * next sl_extract_run / sl_extract_free on it, and the former only while
 * the input does.  Not thread-safe per sl_extract; use one per thread and
 * reuse it across samples (the arena is kept).
 */
#ifndef SL_SCAN_EXTRACT_H
#define SL_SCAN_EXTRACT_H

#include <stddef.h>
#include <stdint.h>

#include "filetype.h"
#include "sl/common.h"

#define SL_EXTRACT_MAX_SEGS     1024
#define SL_EXTRACT_SOURCE_MAX   64
#define SL_EXTRACT_DEFAULT_MAX  (16u << 20)

/* How a segment's text maps back to the input (sl_extract_map). */
typedef enum sl_xmap {
    SL_XMAP_IDENTITY = 0,   /* byte i of the text is input byte src_off+i */
    SL_XMAP_MIXED,          /* UTF-8 where valid, other bytes Windows-1252 */
    SL_XMAP_CP1252,         /* 8-bit text, every byte Windows-1252 */
    SL_XMAP_UTF16LE,
    SL_XMAP_UTF16BE,
    SL_XMAP_COARSE,         /* only the whole field: src_off, src_len */
} sl_xmap;

typedef struct sl_xseg {
    char source[SL_EXTRACT_SOURCE_MAX];   /* "content", "exif:Artist", ... */
    const uint8_t *text;                  /* UTF-8, not NUL-terminated */
    size_t len;
    size_t src_off, src_len;              /* the input bytes it came from */
    sl_xmap map;
} sl_xseg;

typedef struct sl_xloc {
    int present;
    double lat, lon;                      /* decimal degrees, S and W < 0 */
    char source[SL_EXTRACT_SOURCE_MAX];   /* "exif:GPS" */
    size_t src_off, src_len;              /* the GPS IFD's bytes */
} sl_xloc;

/* What part of the sample the segments cover. */
typedef enum sl_xcoverage {
    SL_XCOV_NONE = 0,       /* nothing readable: archives, audio, ... */
    SL_XCOV_METADATA,       /* an image's / document's metadata only */
    SL_XCOV_FULL,           /* the text itself */
} sl_xcoverage;

#define SL_XF_TRUNCATED  0x1u   /* the byte or segment cap was reached */
#define SL_XF_MALFORMED  0x2u   /* a structure ended early or lied */
#define SL_XF_ENCRYPTED  0x4u   /* an encrypted PDF: strings unreadable */
#define SL_XF_BUDGET     0x8u   /* the work budget ran out (budget.h) */

typedef struct sl_extract {
    /* results of the last run */
    sl_xseg *seg;
    size_t nseg;
    sl_xloc loc;
    sl_xcoverage coverage;
    unsigned flags;             /* SL_XF_* */
    /* private */
    size_t capseg;
    size_t max_bytes;
    sl_buf arena;               /* copied text */
    sl_buf scratch;             /* inflated / unescaped bytes */
    sl_slice in;
    struct sl_budget *budget;   /* this run's, or NULL */
    const char *part;           /* the parser charging it: "pdf", ... */
} sl_extract;

/* max_bytes: cap on copied text per run (0: SL_EXTRACT_DEFAULT_MAX). */
void sl_extract_init(sl_extract *x, size_t max_bytes);
void sl_extract_free(sl_extract *x);

/* Extracts from `in`, whose type `ft` says (sl_ft_detect's result).
 * Replaces the previous run's results.  SL_OK (also for malformed input:
 * see flags), SL_ENOMEM, SL_EINVAL for NULL arguments. */
int sl_extract_run(sl_extract *x, sl_slice in, const sl_ft_result *ft);
/* The same within a work budget (budget.h; NULL: unlimited).  Every parser
 * and decoder charges the bytes it examines and the structures it visits;
 * when the budget runs out the run stops where it is, sets SL_XF_BUDGET
 * and keeps what it found.  Work is linear in the input for every format:
 * no parser reads the same bytes again for each structure it finds. */
int sl_extract_run_budget(sl_extract *x, sl_slice in, const sl_ft_result *ft,
                          struct sl_budget *budget);

/* Maps [off, off+len) of segment `i`'s text to the input bytes it came
 * from, *src_off / *src_len.  SL_OK, or SL_EINVAL for a bad segment index
 * or a range outside the text. */
int sl_extract_map(const sl_extract *x, size_t i, size_t off, size_t len,
                   size_t *src_off, size_t *src_len);

#endif
