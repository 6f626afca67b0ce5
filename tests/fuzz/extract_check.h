/*
 * extract_check.h -- what the extractor harnesses (fuzz_extract*.c) check
 * after every sl_extract_run, from the contract in extract.h:
 *   - the run succeeds (malformed input is a flag, not an error);
 *   - at most SL_EXTRACT_MAX_SEGS segments, each with a named source, its
 *     text valid UTF-8, and its input bytes [src_off, src_off + src_len)
 *     inside the input;
 *   - sl_extract_map of the whole text and of a slice of it lands inside
 *     the segment's input bytes;
 *   - a location, when present, is a real latitude / longitude.
 */
#ifndef SL_FUZZ_EXTRACT_CHECK_H
#define SL_FUZZ_EXTRACT_CHECK_H

#include <math.h>

#include "extract.h"
#include "fuzz.h"

static inline void extract_check_map(const sl_extract *x, size_t i, size_t off, size_t len)
{
    const sl_xseg *s = &x->seg[i];
    size_t so = 0, sn = 0;

    FUZZ_CHECK(sl_extract_map(x, i, off, len, &so, &sn) == SL_OK,
               "segment %zu (%s): map [%zu, +%zu) of %zu", i, s->source, off,
               len, s->len);
    if (s->map == SL_XMAP_MEMBER) {         /* offsets in its own text */
        FUZZ_CHECK(so == off && sn == len, "segment %zu (%s): member map", i, s->source);
        return;
    }
    FUZZ_CHECK(so >= s->src_off && sn <= s->src_len &&
               so - s->src_off <= s->src_len - sn,
               "segment %zu (%s): [%zu, +%zu) maps to [%zu, +%zu), outside "
               "[%zu, +%zu)", i, s->source, off, len, so, sn, s->src_off, s->src_len);
}

static inline void extract_check(sl_extract *x, const uint8_t *data, size_t size,
                          const sl_ft_result *ft)
{
    int rc = sl_extract_run(x, (sl_slice){ data, size }, ft);

    if (rc == SL_ENOMEM)
        return;
    FUZZ_CHECK(rc == SL_OK, "sl_extract_run rc %d", rc);
    FUZZ_CHECK(x->nseg <= SL_EXTRACT_MAX_SEGS, "%zu segments", x->nseg);
    for (size_t i = 0; i < x->nseg; i++) {
        const sl_xseg *s = &x->seg[i];

        FUZZ_CHECK(memchr(s->source, '\0', sizeof(s->source)) && s->source[0],
                   "segment %zu has no source", i);
        FUZZ_CHECK(s->src_off <= size && s->src_len <= size - s->src_off,
                   "segment %zu (%s): input bytes [%zu, +%zu) outside %zu", i,
                   s->source, s->src_off, s->src_len, size);
        FUZZ_CHECK(s->len == 0 || s->text, "segment %zu without text", i);
        FUZZ_CHECK(fuzz_utf8_valid(s->text, s->len),
                   "segment %zu (%s): %zu bytes of text are not UTF-8", i,
                   s->source, s->len);
        FUZZ_CHECK(memchr(s->member, '\0', sizeof(s->member)) &&
                   fuzz_utf8_valid((const uint8_t *)s->member, strlen(s->member)),
                   "segment %zu (%s): member path not UTF-8", i, s->source);
        extract_check_map(x, i, 0, s->len);
        if (s->len >= 3)
            extract_check_map(x, i, s->len / 3, s->len / 3);
    }
    if (x->loc.present)
        FUZZ_CHECK(isfinite(x->loc.lat) && isfinite(x->loc.lon) &&
                   fabs(x->loc.lat) <= 90.0 && fabs(x->loc.lon) <= 180.0,
                   "location %f, %f", x->loc.lat, x->loc.lon);
}

/* No PDF page text: poppler runs in a child process per PDF (extract_pdf.c),
 * a fork per input that libFuzzer cannot see into; poppler is fuzzed
 * upstream (OSS-Fuzz).  The harnesses fuzz sluice's own readers. */
static inline void extract_check_no_pages(sl_extract *x)
{
    sl_xlimits l = SL_XLIMITS_DEFAULT;

    l.pdf_timeout_ms = 0;
    sl_extract_set_limits(x, &l);
}

/* The run of a harness that names the type itself (PNG, JPEG, PDF): what
 * sl_ft_detect says of such a file. */
static inline void extract_check_as(sl_extract *x, const uint8_t *data, size_t size,
                             const char *mime, sl_ftcat cat)
{
    sl_ft_result ft;

    memset(&ft, 0, sizeof(ft));
    snprintf(ft.mime, sizeof(ft.mime), "%s", mime);
    snprintf(ft.encoding, sizeof(ft.encoding), "binary");
    ft.category = cat;
    ft.via = SL_FT_VIA_SNIFF;
    extract_check(x, data, size, &ft);
}

/* The whole of a harness for one named type: one extractor reused across
 * inputs, as the scan stage reuses its own, with a small cap on copied
 * text so the truncation paths are reached. */
#define EXTRACT_HARNESS_AS(mime, cat)                                       \
    static sl_extract harness_x;                                            \
    int LLVMFuzzerInitialize(int *argc, char ***argv)                       \
    {                                                                       \
        (void)argc;                                                         \
        (void)argv;                                                         \
        sl_extract_init(&harness_x, 1u << 20);                              \
        extract_check_no_pages(&harness_x);                                 \
        return 0;                                                           \
    }                                                                       \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)            \
    {                                                                       \
        extract_check_as(&harness_x, data, size, (mime), (cat));            \
        return 0;                                                           \
    }

#endif
