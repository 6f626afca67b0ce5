/*
 * fuzz_extract_docs.c -- the document, archive and media readers of
 * services/scan/extract_archive.c and extract_media.c on fuzzed bytes: the
 * first byte picks the type the detector would have given (zip, gzip, tar,
 * DOCX, XLSX, ODT, MP3, MP4, JPEG for XMP GPS, EPUB), the rest is the file.  So
 * one harness covers libarchive's zip / tar / gzip walk with every limit,
 * nested members read as whatever they are, the office XML stripper, ID3v2 /
 * ID3v1, MP4 boxes and items, ISO 6709 and XMP GPS parsing.
 *
 * Limits are small (64 members, depth 3, 1 MiB expanded, ratio 50) so the
 * bomb paths are reached within a short run; PDF page text is off (a
 * poppler child per input: extract_check.h).
 *
 * Properties beyond "no crash": those of extract_check.h (segments inside
 * the input, UTF-8 text and member paths, offsets mapping back, a real
 * location), and: a bomb has a detail naming its config key; no run
 * expands more than the limit plus one read chunk; every segment of a
 * member carries its path and maps to its own text.
 */
#include "extract_check.h"

static sl_extract x;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    sl_xlimits l = { 64, 3, 1u << 20, 50, 0, 0 };

    (void)argc;
    (void)argv;
    sl_extract_init(&x, 1u << 20);
    sl_extract_set_limits(&x, &l);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct { const char *mime; sl_ftcat cat; } types[] = {
        { "application/zip", SL_FTCAT_ARCHIVE },
        { "application/gzip", SL_FTCAT_ARCHIVE },
        { "application/x-tar", SL_FTCAT_ARCHIVE },
        { "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
          SL_FTCAT_DOCUMENT },
        { "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
          SL_FTCAT_DOCUMENT },
        { "application/vnd.oasis.opendocument.text", SL_FTCAT_DOCUMENT },
        { "audio/mpeg", SL_FTCAT_AUDIO },
        { "video/mp4", SL_FTCAT_VIDEO },
        { "image/jpeg", SL_FTCAT_IMAGE },
        { "application/epub+zip", SL_FTCAT_DOCUMENT },
    };
    size_t t;

    if (size < 1)
        return 0;
    t = data[0] % (sizeof(types) / sizeof(types[0]));
    extract_check_as(&x, data + 1, size - 1, types[t].mime, types[t].cat);
    if (x.flags & SL_XF_BOMB)
        FUZZ_CHECK(strstr(x.detail, "(scan.archive.max.") != NULL, "bomb detail \"%s\"",
                   x.detail);
    FUZZ_CHECK(x.expanded <= (1u << 20) + 32768, "expanded %llu",
               (unsigned long long)x.expanded);
    for (size_t i = 0; i < x.nseg; i++)
        if (x.seg[i].member[0])
            FUZZ_CHECK(x.seg[i].map == SL_XMAP_MEMBER, "segment %zu (%s) of member %s: map %d",
                       i, x.seg[i].source, x.seg[i].member, x.seg[i].map);
    return 0;
}
