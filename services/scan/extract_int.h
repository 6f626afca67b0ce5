/*
 * extract_int.h -- what extract.c shares with the format readers in
 * extract_archive.c (zip / tar / gzip via libarchive, office XML),
 * extract_pdf.c (PDF page text via poppler, in a child process) and
 * extract_media.c (ID3, MP4 metadata, XMP GPS).  Internal to the scan
 * library; extract.h is the contract.
 *
 * The readers emit text through sl_xi_emit() (bytes not in the input,
 * decoded into the run's arena) and charge their work with sl_xi_charge();
 * sl_xi_member() reads one archive member's bytes as whatever they are
 * (an archive again, an office document, a PDF, an image, audio / video,
 * text) with the member's path recorded on every segment it yields.
 */
#ifndef SL_SCAN_EXTRACT_INT_H
#define SL_SCAN_EXTRACT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "extract.h"

/* Decoders for sl_xi_emit (the subset the readers need). */
#define SL_XI_UTF8     0    /* UTF-8 where valid, else Windows-1252 */
#define SL_XI_LATIN1   1    /* Windows-1252 (a superset of Latin-1) */
#define SL_XI_UTF16LE  2
#define SL_XI_UTF16BE  3

/* 1 once the run must stop: a cap, the budget, an archive limit. */
int sl_xi_stopped(const sl_extract *x);
/* Charges bytes examined and structures visited; 0 once exhausted. */
int sl_xi_charge(sl_extract *x, uint64_t bytes, uint64_t steps);
/* A segment "prefix" + "name" of p[0..n) decoded with `dec`, mapped with
 * `map` (SL_XMAP_COARSE: to the input's src_off..+src_len; SL_XMAP_MEMBER:
 * to its own text).  SL_OK or SL_ENOMEM. */
int sl_xi_emit(sl_extract *x, const char *prefix, const char *name,
               const uint8_t *p, size_t n, int dec, sl_xmap map,
               size_t src_off, size_t src_len);
/* Records an archive limit passed: SL_XF_BOMB and the detail. */
void sl_xi_bomb(sl_extract *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Sets the location (if none yet) from a reader. */
void sl_xi_location(sl_extract *x, double lat, double lon, const char *source,
                    size_t src_off, size_t src_len);
/* Reads member `name` of the archive being read, bytes p[0..n); office is
 * the container's kind ("docx", ...) or NULL.  SL_OK or SL_ENOMEM. */
int sl_xi_member(sl_extract *x, const char *name, const uint8_t *p, size_t n,
                 const char *office);

/* extract_archive.c: an archive or office document (kind "docx", "odt",
 * ... or NULL for zip / tar / gzip) at p[0..n). */
int sl_xi_archive(sl_extract *x, const uint8_t *p, size_t n, const char *office);
/* The office kind of a MIME type ("docx", "xlsx", ...), or NULL. */
const char *sl_xi_office_kind(const char *mime);
/* The character data of an XML document as a segment "<kind>:text". */
int sl_xi_xml_text(sl_extract *x, const char *kind, const uint8_t *p, size_t n);

/* extract_pdf.c: the page text of the PDF at p[0..n) (segments
 * "pdf:page:N").  1 when poppler read it, 0 when it did not (PDF_FAILED
 * set) or page text is off, -1 out of memory. */
int sl_xi_pdf_pages(sl_extract *x, const uint8_t *p, size_t n);

/* extract_media.c */
int sl_xi_id3(sl_extract *x, const uint8_t *p, size_t n);
int sl_xi_mp4(sl_extract *x, const uint8_t *p, size_t n);
/* The GPS of every XMP segment from index `from` on (after fixup). */
void sl_xi_xmp_gps(sl_extract *x, size_t from);

#endif
