/*
 * fuzz_extract_png.c -- the png metadata extractor of
 * services/scan/extract.c on fuzzed bytes taken as image/png (the type the
 * scan stage's detector gives such a file, so this harness spends no time
 * on detection): PNG text chunks (tEXt, zTXt, iTXt: deflated or not) and
 * the eXIf chunk read as EXIF.
 *
 * Properties beyond "no crash": those of extract_check.h (every segment
 * inside the input, its text UTF-8, its offsets mapping back inside its
 * bytes, a real GPS location).  One extractor is reused across inputs, as
 * the scan stage reuses its own.
 */
#include "extract_check.h"

EXTRACT_HARNESS_AS("image/png", SL_FTCAT_IMAGE)
