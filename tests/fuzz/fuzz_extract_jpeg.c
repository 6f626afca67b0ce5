/*
 * fuzz_extract_jpeg.c -- the jpeg metadata extractor of
 * services/scan/extract.c on fuzzed bytes taken as image/jpeg (the type the
 * scan stage's detector gives such a file, so this harness spends no time
 * on detection): JPEG segments: COM comments, APP1 EXIF (IFD0, IFD1, the
 * Exif and GPS IFDs, UserComment, the XP tags) and XMP (standard and
 * extended), APP13 Photoshop IPTC records.
 *
 * Properties beyond "no crash": those of extract_check.h (every segment
 * inside the input, its text UTF-8, its offsets mapping back inside its
 * bytes, a real GPS location).  One extractor is reused across inputs, as
 * the scan stage reuses its own.
 */
#include "extract_check.h"

EXTRACT_HARNESS_AS("image/jpeg", SL_FTCAT_IMAGE)
