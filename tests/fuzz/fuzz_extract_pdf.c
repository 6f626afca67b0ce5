/*
 * fuzz_extract_pdf.c -- the pdf metadata extractor of
 * services/scan/extract.c on fuzzed bytes taken as application/pdf (the
 * type the scan stage's detector gives such a file, so this harness spends
 * no time on detection): PDF document information dictionaries of every
 * revision: literal strings with escapes, hex strings, UTF-16BE / UTF-8 /
 * PDFDocEncoding, encryption detection, and uncompressed XMP packets.
 *
 * Properties beyond "no crash": those of extract_check.h (every segment
 * inside the input, its text UTF-8, its offsets mapping back inside its
 * bytes, a real GPS location).  One extractor is reused across inputs, as
 * the scan stage reuses its own.
 */
#include "extract_check.h"

EXTRACT_HARNESS_AS("application/pdf", SL_FTCAT_DOCUMENT)
