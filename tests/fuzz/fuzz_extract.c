/*
 * fuzz_extract.c -- detection then extraction, as the scan stage chains
 * them (services/scan/filetype.c then extract.c), on any bytes: the text
 * decoders (UTF-8 as is, UTF-16 LE / BE with and without BOM, 8-bit text
 * read as Windows-1252, mixed metadata text) and every extractor the
 * detected type picks, GIF comments, WebP EXIF / XMP chunks and TIFF files
 * read as EXIF among them (PNG, JPEG and PDF also have a harness of their
 * own).  libmagic's last-resort walk is off (SL_FT_NO_FALLBACK): nothing
 * it alone names has an extractor.
 *
 * Properties beyond "no crash": those of extract_check.h (every segment
 * inside the input, its text UTF-8, its offsets mapping back inside its
 * bytes, a real GPS location); text is read in full (coverage "full").
 */
#include "extract_check.h"

static sl_ft *ft;
static sl_extract x;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    sl_err err = { "" };

    (void)argc;
    (void)argv;
    FUZZ_SETUP(sl_ft_new(&ft, NULL, SL_FT_NO_FALLBACK, &err) == SL_OK, err.msg);
    sl_extract_init(&x, 1u << 20);
    extract_check_no_pages(&x);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sl_ft_result r;

    memset(&r, 0, sizeof(r));
    FUZZ_CHECK(sl_ft_detect(ft, (sl_slice){ data, size }, &r) == SL_OK, "detect");
    extract_check(&x, data, size, &r);
    if (size && strcmp(r.encoding, "binary") != 0)
        FUZZ_CHECK(x.coverage == SL_XCOV_FULL, "%s text (%s) not read in full",
                   r.mime, r.encoding);
    return 0;
}
