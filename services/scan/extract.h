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
 *   pdf:page:N         the text of page N (1-based) of a PDF, read by
 *                      poppler (extract_pdf.c) in a child process with a
 *                      wall-clock and CPU limit (limits.pdf_timeout_ms)
 *                      and at most limits.pdf_max_pages pages.
 *   docx:text ...      office documents (DOCX, XLSX, PPTX: OOXML; ODT,
 *   odt:text           ODS, ODP: ODF; EPUB, its XHTML chapters and OPF
 *   epub:text          metadata): the character data of every XML
 *                      member (document, headers, footers, comments,
 *                      shared strings, sheets, slides, notes, docProps,
 *                      meta.xml), markup stripped, entities decoded, a
 *                      line break at each paragraph, cell and row end.
 *   text               a text member of an archive (zip, tar, gzip,
 *                      tar.gz; extract_archive.c, libarchive).  Members
 *                      that are themselves archives, office documents,
 *                      PDFs, images or audio / video are read as such
 *                      (nesting up to limits.max_depth).
 *   id3:FRAME          ID3v2.2 / 2.3 / 2.4 text, comment, lyrics, user
 *   id3v1:FIELD        text and URL frames of MP3s; ID3v1 fields.
 *   mp4:ITEM           MP4 / QuickTime metadata (moov/udta/meta/ilst items,
 *                      named or by keys, and the QuickTime udta text atoms),
 *                      an XMP packet in udta "XMP_" (as xmp).
 *
 * Every segment of an archive member carries the member's path (`member`,
 * nested paths joined by "!/": "inner.zip!/notes.txt"); an empty member
 * is the sample itself.
 *
 * Locations.  EXIF GPS latitude / longitude are decoded to signed decimal
 * degrees and reported as the location (a finding in itself); so are the
 * GPS of an XMP packet (exif:GPSLatitude / exif:GPSLongitude, "52,30.98N"
 * form) and an MP4's ISO 6709 location (udta "\xa9xyz", or the keys item
 * com.apple.quicktime.location.ISO6709), when EXIF gave none.
 *
 * Archive limits (limits: member count, nesting depth, total expanded
 * bytes, expansion ratio against the sample's size).  Members are read in
 * chunks and counted as they inflate; going past a limit stops the run
 * with SL_XF_BOMB and `detail` saying which limit (the caller refuses the
 * sample: archive_bomb), so a bomb never expands past the limit.
 *
 * Not extracted (the `coverage` field tells the policy): OLE2 office
 * documents, Info dictionaries inside compressed object streams (the page
 * text is read), the strings of encrypted PDFs (SL_XF_ENCRYPTED; poppler
 * reads the pages of those with an empty user password, the others set
 * SL_XF_PDF_FAILED), encrypted archive members (SL_XF_UNREAD), archive
 * formats other than zip, tar and gzip.  More than SL_EXTRACT_MAX_SEGS
 * segments (an archive of over a thousand text members) truncate.
 *
 * Offsets.  A finding at [off, off+len) of segment i maps back to input
 * bytes with sl_extract_map(): exactly for UTF-8 as is (identity), for
 * UTF-16 and 8-bit text and for metadata fields (the same decoder walks
 * the original bytes again, so a character maps to the 1-4 bytes it came
 * from), and coarsely -- the whole field -- for deflated chunks and PDF
 * strings (escapes and hex digits have no byte-for-byte mapping).  Text
 * from an archive member, PDF page or office XML maps to itself
 * (SL_XMAP_MEMBER): offsets within that member's / page's text.
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
#define SL_EXTRACT_MEMBER_MAX   256

/* How a segment's text maps back to the input (sl_extract_map). */
typedef enum sl_xmap {
    SL_XMAP_IDENTITY = 0,   /* byte i of the text is input byte src_off+i */
    SL_XMAP_MIXED,          /* UTF-8 where valid, other bytes Windows-1252 */
    SL_XMAP_CP1252,         /* 8-bit text, every byte Windows-1252 */
    SL_XMAP_UTF16LE,
    SL_XMAP_UTF16BE,
    SL_XMAP_COARSE,         /* only the whole field: src_off, src_len */
    SL_XMAP_MEMBER,         /* offsets within the segment's own text: an
                               archive member, a PDF page, office XML */
} sl_xmap;

typedef struct sl_xseg {
    char source[SL_EXTRACT_SOURCE_MAX];   /* "content", "exif:Artist", ... */
    const uint8_t *text;                  /* UTF-8, not NUL-terminated */
    size_t len;
    size_t src_off, src_len;              /* the input bytes it came from */
    sl_xmap map;
    char member[SL_EXTRACT_MEMBER_MAX];   /* archive member path, or "" */
} sl_xseg;

/* Limits on reading archives and PDFs (sl_extract_set_limits). */
typedef struct sl_xlimits {
    uint32_t max_members;       /* entries read, all levels together */
    uint32_t max_depth;         /* archives inside archives: 1 = no nesting */
    uint64_t max_expanded;      /* bytes inflated, all members together */
    uint32_t max_ratio;         /* inflated / sample bytes, checked past 1 MiB */
    uint32_t pdf_timeout_ms;    /* page text: wall-clock limit for all the
                                   sample's PDFs together; 0: no page text */
    uint32_t pdf_max_pages;
} sl_xlimits;

#define SL_XLIMITS_DEFAULT { 10000, 4, (uint64_t)64 << 20, 200, 5000, 1000 }

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
#define SL_XF_BOMB       0x10u  /* an archive limit was passed: see `bomb` */
#define SL_XF_PDF_FAILED 0x20u  /* poppler could not read the page text
                                   (broken file, timeout, crash): see detail */
#define SL_XF_UNREAD     0x40u  /* an encrypted archive member was skipped:
                                   see detail */

typedef struct sl_extract {
    /* results of the last run */
    sl_xseg *seg;
    size_t nseg;
    sl_xloc loc;
    sl_xcoverage coverage;
    unsigned flags;             /* SL_XF_* */
    char detail[200];           /* BOMB / PDF_FAILED: which limit, what failed */
    /* private */
    sl_xlimits lim;
    uint64_t expanded;          /* archive bytes inflated in this run */
    uint32_t members;           /* archive entries seen in this run */
    uint32_t depth;             /* archives being read, nested */
    int64_t pdf_deadline_ms;    /* this run's PDF time ends (0: no PDF yet) */
    size_t root_len;            /* the sample's size, for the ratio */
    char member[SL_EXTRACT_MEMBER_MAX];   /* the member being read */
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
/* Replaces the archive / PDF limits (init sets SL_XLIMITS_DEFAULT). */
void sl_extract_set_limits(sl_extract *x, const sl_xlimits *lim);

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
