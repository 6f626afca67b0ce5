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

static sl_extract x;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* A small cap on copied text, so the truncation paths are reached. */
    sl_extract_init(&x, 1u << 20);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    extract_check_as(&x, data, size, "image/jpeg", SL_FTCAT_IMAGE);
    return 0;
}
